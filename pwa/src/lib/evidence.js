// Is a photo good evidence of a report? Its EXIF time (read on the phone) should be close to the
// capture and its EXIF position close to the report's. Pure: the capture screen warns the worker,
// the command centre's case panel flags the same for the supervisor. The limits are the
// deployment's (GET /api/v1 → evidence), these defaults until a sync told them.

export const DEFAULT_LIMITS = { max_age_hours: 24, max_distance_m: 100 };

/** Metres between two points (haversine; the grid's scale needs nothing finer). */
export function distanceM(a, b) {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(h));
}

/**
 * {takenAt, ageHours, distanceM, old, far} of a photo's EXIF against the report (at: the capture
 * time, location: {lon, lat}); null fields when the photo or the report lacks them.
 */
export function photoFlags(exif, { at, location } = {}, limits = DEFAULT_LIMITS) {
  const out = { takenAt: exif?.taken_at || null, ageHours: null, distanceM: null, old: false, far: false };
  if (!exif) return out;
  if (exif.taken_at && at) {
    out.ageHours = (Date.parse(at) - Date.parse(exif.taken_at)) / 3600000;
    out.old = out.ageHours > (limits?.max_age_hours ?? DEFAULT_LIMITS.max_age_hours);
  }
  if (exif.lat != null && exif.lon != null && location) {
    out.distanceM = exif.distance_m ?? distanceM(location, exif);
    out.far = out.distanceM > (limits?.max_distance_m ?? DEFAULT_LIMITS.max_distance_m);
  }
  return out;
}
