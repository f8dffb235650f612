// The base map on a Leaflet map (the worker's map, pick-on-map, the case mini-maps): the base
// tiles and the label layer in the UI's language, as CORS requests so the service worker can keep
// them. onReach(false, why) when tiles fail and none has come (no base map reachable), true once
// one has: the screens say why (basemapTrouble) and work on the grid alone.

import { OFFLINE_TOP_ZOOM, offlineBasemap } from '../lib/basemap.js';

/** Why no tile came, said truly: {key, origin} of the message — offline (only saved tiles show),
 * blocked (an origin the server's security policy does not allow: GET /api/v1 → tile_origins),
 * or unreachable (the tile server did not answer). */
export function basemapTrouble(bm, server) {
  let origin = '';
  try { origin = new URL(bm.url.replace('{s}', (bm.subdomains || 'a')[0])).origin; } catch { /* a bad template */ }
  if (typeof navigator !== 'undefined' && navigator.onLine === false) return { key: 'map.basemap_offline', origin };
  const allowed = server?.tile_origins;
  if (allowed && origin && !allowed.includes(origin)) {
    return { key: 'map.basemap_blocked', origin };
  }
  return { key: 'map.basemap_unreachable', origin };
}

/**
 * Offline, or when tiles beyond the saved levels fail, the map stretches the last saved level
 * (Leaflet's maxNativeZoom) instead of showing nothing: at z18 the z17 tiles, scaled. Back
 * online, the deeper levels are asked for again.
 */
export function addBasemap(L, map, bm, onReach = () => {}) {
  if (!bm) return;
  let loaded = 0;
  let failed = 0;
  let savedTop = Math.min(OFFLINE_TOP_ZOOM, bm.maxZoom);
  const offline = () => typeof navigator !== 'undefined' && navigator.onLine === false;
  const opts = { maxZoom: bm.maxZoom, maxNativeZoom: offline() ? savedTop : bm.maxZoom,
    subdomains: bm.subdomains, crossOrigin: 'anonymous' };
  const base = L.tileLayer(bm.url, { ...opts, attribution: bm.attribution || '' });
  const layers = [base];
  const native = (z) => {
    if (layers[0].options.maxNativeZoom === z) return;
    for (const l of layers) {
      l.options.maxNativeZoom = z;
      l.redraw();
    }
    map.getContainer().dataset.nativeZoom = String(z);
  };
  offlineBasemap().then((rec) => {
    if (rec?.topZoom) savedTop = Math.min(rec.topZoom, bm.maxZoom);
    if (offline()) native(savedTop);
  }).catch(() => {});
  base.on('tileload', () => {
    loaded += 1;
    if (loaded === 1) onReach(true);
  });
  base.on('tileerror', () => {
    failed += 1;
    // deeper than what is saved and not coming: stretch the saved level
    if (map.getZoom() > savedTop) native(savedTop);
    else if (!loaded && failed === 2) onReach(false);
  });
  base.addTo(map);
  if (bm.labels) layers.push(L.tileLayer(bm.labels, opts).addTo(map));
  if (opts.maxNativeZoom !== bm.maxZoom) map.getContainer().dataset.nativeZoom = String(savedTop);
  const onOffline = () => native(savedTop);
  const onOnline = () => native(bm.maxZoom);
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);
  map.on('unload', () => {
    window.removeEventListener('offline', onOffline);
    window.removeEventListener('online', onOnline);
  });
}
