// The base map under the grid: the deployment's (GET /api/v1 → basemap: an XYZ raster template or
// Tianditu's WMTS, with a label layer per language where the source has one), else the tile URL
// the worker set. A worker can save the tiles of their scope for offline use: they go to the
// Cache Storage "gridsnap-basemap", which the service worker answers tile requests from first.
import { cellsBounds } from './grid.js';
import { kvGet, kvSet } from './db.js';

export const BASEMAP_CACHE = 'gridsnap-basemap';
export const MAX_OFFLINE_TILES = 1500;
const TOP_ZOOM = 17;

/** {url, labels, subdomains, attribution, maxZoom} to draw, or null (the grid alone). */
export function basemapOf(server, settings, lang) {
  const b = server?.basemap;
  if (b?.url) {
    return { url: b.url, labels: b.labels?.[lang] || b.labels?.['zh-CN'] || null,
      subdomains: b.subdomains || 'abc', attribution: b.attribution || '',
      maxZoom: b.max_zoom || 18 };
  }
  if (settings?.tileUrl) {
    return { url: settings.tileUrl, labels: null, subdomains: 'abc',
      attribution: settings.tileAttribution || '', maxZoom: 19 };
  }
  return null;
}

/** The URL of tile z/x/y of a template, with Leaflet's choice of subdomain (so cache keys match). */
export function tileUrl(template, subdomains, z, x, y) {
  const s = subdomains ? subdomains[Math.abs(x + y) % subdomains.length] : '';
  return template.replace('{s}', s).replace('{z}', z).replace('{x}', x).replace('{y}', y)
    .replace('{r}', '');
}

function tileXY(lon, lat, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const rad = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return [Math.max(0, Math.min(n - 1, x)), Math.max(0, Math.min(n - 1, y))];
}

/** The last zoom saved for offline use: beyond it the map stretches the saved tiles. */
export const OFFLINE_TOP_ZOOM = TOP_ZOOM;
const SPOT_FROM_ZOOM = 15; // around the places the worker works: 3 × 3 tiles from here to the top
const MAX_SPOTS = 12;

/**
 * Every tile URL (base and labels) to save: first around the spots where the worker works (their
 * reports, their tasks, where they stand: 3 × 3 tiles from z15 to 17), then over the cells' bounds
 * with a tile of margin on each side (the view that shows the cells whole is wider than they
 * are), zoom by zoom from the one that shows them whole to 17, while the total stays under
 * MAX_OFFLINE_TILES. Returns {urls, topZoom}.
 */
export function scopeTiles(bm, cells, spots = []) {
  const b = cellsBounds(cells);
  if (!bm || (!b && !spots.length)) return { urls: [], topZoom: null };
  const top = Math.min(TOP_ZOOM, bm.maxZoom);
  const layers = bm.labels ? [bm.url, bm.labels] : [bm.url];
  const seen = new Set();
  const out = [];
  let topZoom = null;
  const add = (z, x0, y0, x1, y1) => {
    const n = 2 ** z;
    const fresh = [];
    for (let x = Math.max(0, x0); x <= Math.min(n - 1, x1); x += 1) {
      for (let y = Math.max(0, y0); y <= Math.min(n - 1, y1); y += 1) {
        for (const l of layers) {
          const url = tileUrl(l, bm.subdomains, z, x, y);
          if (!seen.has(url)) fresh.push(url);
        }
      }
    }
    if (out.length + fresh.length > MAX_OFFLINE_TILES) return false;
    fresh.forEach((u) => { seen.add(u); out.push(u); });
    return true;
  };
  for (const p of spots.slice(0, MAX_SPOTS)) {
    for (let z = SPOT_FROM_ZOOM; z <= top; z += 1) {
      const [x, y] = tileXY(p.lon, p.lat, z);
      if (add(z, x - 1, y - 1, x + 1, y + 1)) topZoom = Math.max(topZoom ?? 0, z);
    }
  }
  if (b) {
    const [[south, west], [north, east]] = b;
    for (let z = 10; z <= top; z += 1) {
      const [x0, y0] = tileXY(west, north, z);
      const [x1, y1] = tileXY(east, south, z);
      if ((x1 - x0 + 1) * (y1 - y0 + 1) > 4 * 4 && z < 13) continue; // too far out to be of use
      if (!add(z, x0 - 1, y0 - 1, x1 + 1, y1 + 1)) break;
      topZoom = Math.max(topZoom ?? 0, z);
    }
  }
  return { urls: out, topZoom };
}

/** What is saved: {tiles, bytes, savedAt} or null. */
export async function offlineBasemap() {
  return kvGet('basemapOffline', null);
}

/**
 * Fetches the scope's tiles (and those around the spots) into the cache, 6 at a time;
 * onProgress(done, total). Returns {tiles, bytes, failed, savedAt, topZoom}; a tile that fails is
 * skipped (counted in failed).
 */
export async function saveOfflineBasemap(bm, cells, onProgress = () => {}, spots = []) {
  const { urls, topZoom } = scopeTiles(bm, cells, spots);
  const cache = await caches.open(BASEMAP_CACHE);
  let done = 0;
  let bytes = 0;
  let failed = 0;
  let next = 0;
  async function worker() {
    while (next < urls.length) {
      const url = urls[next];
      next += 1;
      try {
        const resp = await fetch(url, { mode: 'cors', credentials: 'omit' });
        if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
        const blob = await resp.clone().blob();
        await cache.put(url, resp);
        bytes += blob.size;
      } catch {
        failed += 1;
      }
      done += 1;
      onProgress(done, urls.length);
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker));
  const saved = { tiles: done - failed, bytes, failed, savedAt: Date.now(), topZoom };
  if (saved.tiles) await kvSet('basemapOffline', saved);
  return saved;
}

export async function deleteOfflineBasemap() {
  await caches.delete(BASEMAP_CACHE);
  await kvSet('basemapOffline', null);
}
