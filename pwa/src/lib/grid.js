// The worker's cells on the device: which cell a point is in, offline, by the server's rule
// (a point on an edge shared by two cells goes to the lower code). The server still decides.
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { db } from './db.js';

let cache = null; // [{code, name, name_en, geometry, bbox}] sorted by code

function bboxOf(geometry) {
  let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  for (const poly of polys) {
    for (const [x, y] of poly[0]) {
      if (x < minX) minX = x;
      if (y < minY) minY = y;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
    }
  }
  return [minX, minY, maxX, maxY];
}

/** The cached cells, loaded once per page (reload() after a pull). */
export async function loadCells(reload = false) {
  if (cache && !reload) return cache;
  const rows = await (await db()).getAll('cells');
  rows.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  cache = rows.map((r) => ({ ...r, bbox: bboxOf(r.geometry) }));
  return cache;
}

/** The cell containing (lon, lat), boundary included, lowest code first; or null. */
export function locateCell(cells, lon, lat) {
  if (!cells || lon == null || lat == null) return null;
  const pt = [lon, lat];
  for (const c of cells) {
    const [a, b, x, y] = c.bbox;
    if (lon < a || lon > x || lat < b || lat > y) continue;
    if (booleanPointInPolygon(pt, c.geometry)) return { code: c.code, name: c.name, name_en: c.name_en };
  }
  return null;
}

/** [[south, west], [north, east]] around every cell, or null. */
export function cellsBounds(cells) {
  if (!cells?.length) return null;
  let a = Infinity; let b = Infinity; let x = -Infinity; let y = -Infinity;
  for (const c of cells) {
    a = Math.min(a, c.bbox[0]); b = Math.min(b, c.bbox[1]);
    x = Math.max(x, c.bbox[2]); y = Math.max(y, c.bbox[3]);
  }
  return [[b, a], [y, x]];
}
