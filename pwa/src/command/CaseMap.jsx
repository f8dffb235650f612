// The live city map (MapLibre GL, vector tiles from the server): areas and cells shaded by open
// and overdue cases further out, case points coloured by status up close (z ≥ 14), overdue ringed
// red. The clustering is the server's (per-cell and per-area counts), never raw points far out.
import maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getLang, t } from '../i18n/index.js';
import { basemapTrouble } from '../components/leafletBase.js';
import { basemapOf } from '../lib/basemap.js';
import { cellsBounds } from '../lib/grid.js';
import { useStore } from '../store.js';
import { filterQuery, token } from './api.js';
import { useLive } from './live.js';
import { PatrolLayer } from './PatrolLayer.jsx';
import { maplibreLocale } from '../lib/maplocale.js';

export const STATUS_COLOURS = { reported: '#1565c0', accepted: '#6a1b9a', dispatched: '#ef6c00',
  returned: '#ad1457', suspended: '#5d4037', resolved: '#2e7d32', closed: '#607d8b',
  rejected: '#9e9e9e', duplicate: '#9e9e9e' };
const CENTRE = [116.4105, 39.9280]; // 东城区
// open cases per cell/area → fill; overdue → red
const COUNT_RAMP = ['interpolate', ['linear'], ['coalesce', ['get', 'cases'], 0],
  0, 'rgba(11,92,173,0.02)', 1, '#c6dbef', 5, '#6baed6', 20, '#2171b5', 100, '#08306b'];
const FILL = ['case', ['>', ['coalesce', ['get', 'overdue'], 0], 0], '#d32f2f', COUNT_RAMP];

function tileUrl(filters, version) {
  const q = filterQuery(filters, { tiles: true });
  q.set('v', String(version)); // a new URL: the live refresh skips every cache
  return `${window.location.origin}/api/v1/tiles/cases/{z}/{x}/{y}.mvt?${q}`;
}

/** MapLibre has no {s}: the template once per subdomain. */
function rasterTiles(template, subdomains) {
  if (!template.includes('{s}')) return [template];
  return [...(subdomains || 'abc')].map((d) => template.replace('{s}', d));
}

function style(bm, filters, version) {
  const sources = {
    cases: { type: 'vector', tiles: [tileUrl(filters, version)], minzoom: 0, maxzoom: 16 },
  };
  const layers = [{ id: 'bg', type: 'background', paint: { 'background-color': '#eef2f5' } }];
  if (bm) {
    sources.base = { type: 'raster', tiles: rasterTiles(bm.url, bm.subdomains), tileSize: 256,
      maxzoom: bm.maxZoom, attribution: bm.attribution || '' };
    layers.push({ id: 'base', type: 'raster', source: 'base' });
    if (bm.labels) {
      sources.labels = { type: 'raster', tiles: rasterTiles(bm.labels, bm.subdomains),
        tileSize: 256, maxzoom: bm.maxZoom };
    }
  }
  layers.push(
    { id: 'areas-fill', type: 'fill', source: 'cases', 'source-layer': 'areas',
      paint: { 'fill-color': FILL, 'fill-opacity': 0.55 } },
    { id: 'areas-line', type: 'line', source: 'cases', 'source-layer': 'areas',
      paint: { 'line-color': '#0b5cad', 'line-width': 1.2 } },
    { id: 'cells-fill', type: 'fill', source: 'cases', 'source-layer': 'cells',
      paint: { 'fill-color': FILL, 'fill-opacity': 0.6 } },
    { id: 'grid-line', type: 'line', source: 'cases', 'source-layer': 'grid',
      paint: { 'line-color': '#7a8a9c', 'line-width': 0.6 } },
    { id: 'cells-line', type: 'line', source: 'cases', 'source-layer': 'cells',
      paint: { 'line-color': '#0b5cad', 'line-width': 0.8 } },
    ...(bm?.labels ? [{ id: 'labels', type: 'raster', source: 'labels' }] : []),
    { id: 'cases-ring', type: 'circle', source: 'cases', 'source-layer': 'cases',
      filter: ['==', ['get', 'overdue'], true],
      paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#d32f2f',
        'circle-stroke-width': 3 } },
    { id: 'cases-dot', type: 'circle', source: 'cases', 'source-layer': 'cases',
      paint: {
        'circle-radius': 7,
        'circle-color': ['match', ['get', 'status'], ...Object.entries(STATUS_COLOURS).flat(), '#1565c0'],
        'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } },
  );
  return { version: 8, sources, layers };
}

export default function CaseMap({ onOpen }) {
  const s = useStore();
  const lv = useLive();
  const el = useRef(null);
  const map = useRef(null);
  const [zoom, setZoom] = useState(null);
  const [noGl, setNoGl] = useState(false); // no WebGL here: the map cannot be drawn
  const [trouble, setTrouble] = useState(null); // why the base map shows nothing
  const [ready, setReady] = useState(null); // the map, once made: the patrol layer draws on it

  useEffect(() => {
    const b = cellsBounds(s.cells);
    const bm = basemapOf(s.server, s.settings, getLang());
    let m;
    try {
      m = new maplibregl.Map({
        container: el.current,
        style: style(bm, lv.filters, lv.changed),
        // made over the scope's cells: no first frame (and tiles) elsewhere
        ...(b ? { bounds: [[b[0][1], b[0][0]], [b[1][1], b[1][0]]], fitBoundsOptions: { padding: 20 } }
          : { center: CENTRE, zoom: 13 }),
        attributionControl: false, maxZoom: 19,
        locale: maplibreLocale(), // the controls' titles in the UI's language
        // the tiles want the bearer token: added to every request to our own API
        transformRequest: (url) => (url.startsWith(`${window.location.origin}/api/`)
          ? { url, headers: { Authorization: `Bearer ${token()}` } } : { url }),
      });
    } catch {
      setNoGl(true); // MapLibre could not get a WebGL context
      return undefined;
    }
    map.current = m;
    setReady(m);
    window.__gridsnapMap = m; // for the browser tests and the curious
    m.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    m.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
    if (bm) m.addControl(new maplibregl.AttributionControl({ compact: true }));
    // no base map reachable: say so, the shading and the points work without it
    let baseLoaded = 0;
    let baseFailed = 0;
    m.on('error', (e) => {
      if (e.sourceId !== 'base') return;
      baseFailed += 1;
      if (!baseLoaded && baseFailed === 2) setTrouble(basemapTrouble(bm, s.server));
    });
    m.on('data', (e) => {
      if (e.sourceId === 'base' && e.tile) {
        baseLoaded += 1;
        setTrouble(null);
        m.getContainer().dataset.baseTiles = String(baseLoaded);
      }
    });
    m.on('zoomend', () => setZoom(m.getZoom()));
    setZoom(m.getZoom());
    m.on('click', 'cases-dot', (e) => {
      const f = e.features?.[0];
      if (f) onOpen(f.properties.id);
    });
    m.on('click', 'cells-fill', (e) => {
      if (m.getZoom() < 14) m.easeTo({ center: e.lngLat, zoom: 14.5 });
    });
    m.on('click', 'areas-fill', (e) => m.easeTo({ center: e.lngLat, zoom: m.getZoom() + 2 }));
    for (const layer of ['cases-dot', 'cells-fill', 'areas-fill']) {
      m.on('mouseenter', layer, () => { m.getCanvas().style.cursor = 'pointer'; });
      m.on('mouseleave', layer, () => { m.getCanvas().style.cursor = ''; });
    }
    const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
    for (const layer of ['cells-fill', 'areas-fill']) {
      m.on('mousemove', layer, (e) => {
        const p = e.features?.[0]?.properties;
        if (!p) return;
        popup.setLngLat(e.lngLat).setText(t('cmd.map_tip', { name: p.name || p.code,
          cases: p.cases ?? 0, overdue: p.overdue ?? 0 })).addTo(m);
      });
      m.on('mouseleave', layer, () => popup.remove());
    }
    return () => { m.remove(); map.current = null; setReady(null); };
  }, []);

  // filters or a change somewhere in scope: new tile URLs, the source reloads in place (not when
  // the URL is the one the map has: on the first render it is the style's, and reloading would
  // fetch and draw every tile twice)
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    const apply = () => {
      const src = m.getSource('cases');
      const url = tileUrl(lv.filters, lv.changed);
      if (src && src.tiles?.[0] !== url) src.setTiles([url]);
      if (src) m.getContainer().dataset.tilesVersion = String(lv.changed);
    };
    // not isStyleLoaded(): it is false while tiles load, and 'load' fires only once, so a second
    // change soon after a first was lost
    if (m.getSource('cases')) apply();
    else m.once('load', apply);
  }, [lv.filters, lv.changed]);

  // a case opened (here, in the list or the inbox): the map moves to it
  useEffect(() => {
    const m = map.current;
    const f = lv.focus;
    if (!m || !f) return;
    m.easeTo({ center: [f.lon, f.lat], zoom: Math.max(m.getZoom(), 16), duration: 400 });
    m.once('moveend', () => { m.getContainer().dataset.focused = f.id; });
  }, [lv.focus]);

  if (noGl) return <p class="notice warn" data-testid="map-no-webgl">{t('cmd.no_webgl')}</p>;
  return (
    <div class="cmd-map-wrap">
      <div ref={el} class="cmd-map" data-testid="cmd-map" role="application" aria-label={t('map.label')} />
      <PatrolLayer map={ready} filters={lv.filters} />
      {trouble && <p class="notice map-note" role="status" data-testid="basemap-unreachable"
        data-why={trouble.key}>{t(trouble.key, { origin: trouble.origin })}</p>}
      <div class="map-legend small cmd-legend" data-testid="map-legend">
        <div><strong>{zoom != null && zoom >= 14 ? t('cmd.legend_points') : t('cmd.legend_shaded')}</strong></div>
        {zoom != null && zoom >= 14 ? (
          Object.entries(STATUS_COLOURS).slice(0, 6).map(([st, col]) => (
            <span class="legend-item"><span class="dot" style={{ background: col }} />{t(`status.${st}`)}</span>
          ))
        ) : (
          <>
            <span class="legend-item"><span class="swatch" style={{ background: '#c6dbef' }} />1</span>
            <span class="legend-item"><span class="swatch" style={{ background: '#6baed6' }} />5</span>
            <span class="legend-item"><span class="swatch" style={{ background: '#2171b5' }} />20+</span>
          </>
        )}
        <span class="legend-item"><span class="dot ring" />{t('tasks.overdue')}</span>
      </div>
    </div>
  );
}
