// The base map on a Leaflet map (the worker's map, pick-on-map, the case mini-maps): the base
// tiles and the label layer in the UI's language, as CORS requests so the service worker can keep
// them. onReach(false) when tiles fail and none has come (no base map reachable), true once one
// has: the screens say so and work on the grid alone.
export function addBasemap(L, map, bm, onReach = () => {}) {
  if (!bm) return;
  let loaded = 0;
  let failed = 0;
  const opts = { maxZoom: bm.maxZoom, maxNativeZoom: bm.maxZoom, subdomains: bm.subdomains,
    crossOrigin: 'anonymous' };
  const base = L.tileLayer(bm.url, { ...opts, attribution: bm.attribution || '' });
  base.on('tileload', () => {
    loaded += 1;
    if (loaded === 1) onReach(true);
  });
  base.on('tileerror', () => {
    failed += 1;
    if (!loaded && failed === 2) onReach(false);
  });
  base.addTo(map);
  if (bm.labels) L.tileLayer(bm.labels, opts).addTo(map);
}
