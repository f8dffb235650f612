// The deployment's time zone (the server's GRIDSNAP_TIMEZONE, told by GET /api/v1): times are shown
// and day boundaries computed in it, whatever zone the device is set to. Asia/Shanghai until the
// server said otherwise; the store keeps the server's answer on the device for offline days.

export const DEFAULT_ZONE = 'Asia/Shanghai';

let zone = DEFAULT_ZONE;
const formatters = new Map();

function partsOf(instantMs, z) {
  let f = formatters.get(z);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: z, hourCycle: 'h23', year: 'numeric',
      month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(z, f);
  }
  const p = {};
  for (const { type, value } of f.formatToParts(new Date(instantMs))) p[type] = value;
  return p;
}

/** The zone in use (an IANA name). */
export function timeZone() {
  return zone;
}

/** Uses `name` from now on; returns false (and keeps the zone) when the browser does not know it. */
export function setTimeZone(name) {
  if (!name || name === zone) return !!name;
  try {
    partsOf(0, name);
  } catch {
    return false; // RangeError: an unknown zone
  }
  zone = name;
  return true;
}

/** The zone's offset from UTC at an instant, in minutes (480 for Asia/Shanghai). */
export function offsetMinutes(instantMs, z = zone) {
  const p = partsOf(instantMs, z);
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour) % 24,
    Number(p.minute), Number(p.second));
  return Math.round((wall - Math.floor(instantMs / 1000) * 1000) / 60000);
}

/** An offset in minutes as ISO 8601 writes it: 480 → "+08:00", -210 → "-03:30". */
export function formatOffset(minutes) {
  const a = Math.abs(minutes);
  const pad = (n) => String(n).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${pad(Math.trunc(a / 60))}:${pad(a % 60)}`;
}

/**
 * A wall-clock time in the zone as ISO 8601 with the offset the zone has at that moment:
 * ("2026-11-01", "00:00:00") → "2026-11-01T00:00:00+08:00".
 */
export function zonedIso(day, time, z = zone) {
  const [y, m, d] = day.split('-').map(Number);
  const [hh, mm, ss = 0] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm, ss);
  // the offset at the wall time read as UTC is a guess; the offset at the instant it gives is the
  // answer (they differ only within hours of a daylight-saving change)
  const guess = offsetMinutes(wall, z);
  const off = offsetMinutes(wall - guess * 60000, z);
  return `${day}T${time}${formatOffset(off)}`;
}

/** The month ("2026-11") an instant falls in, in the zone. */
export function monthOf(instantMs, z = zone) {
  const p = partsOf(instantMs, z);
  return `${p.year}-${p.month}`;
}

/** The day ("2026-11-20") an instant falls on, in the zone. */
export function dayOf(instantMs, z = zone) {
  const p = partsOf(instantMs, z);
  return `${p.year}-${p.month}-${p.day}`;
}

/** The day `n` days after `day` ("2026-11-20", 3 → "2026-11-23"). */
export function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}
