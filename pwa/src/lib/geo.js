// The phone's position, with its accuracy. Browsers do not say whether a fix came from GPS or
// the network: a fix of 50 m or better is reported as "gps", a coarser one as "network".

export const GPS_ACCURACY_M = 50;

/** Watches the position; calls onFix({lon, lat, accuracy_m, source, at}) or onError(code). */
export function watchPosition(onFix, onError) {
  if (!globalThis.navigator?.geolocation) {
    onError('unsupported');
    return () => {};
  }
  const id = navigator.geolocation.watchPosition(
    (p) => onFix({
      lon: p.coords.longitude, lat: p.coords.latitude,
      accuracy_m: Math.round(p.coords.accuracy * 10) / 10,
      source: p.coords.accuracy <= GPS_ACCURACY_M ? 'gps' : 'network', at: p.timestamp,
    }),
    (e) => onError(e.code === 1 ? 'denied' : e.code === 3 ? 'timeout' : 'unavailable'),
    { enableHighAccuracy: true, maximumAge: 15000, timeout: 30000 },
  );
  return () => navigator.geolocation.clearWatch(id);
}

/** Metres between two points (haversine; fine at city scale). */
export function distanceM(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(s));
}
