// The map of my cells, my position, my reports and tasks (Leaflet, on the deployment's base map or
// the worker's tile URL, if any: the grid alone is readable). My reports are marked by where they
// stand — waiting in the outbox, refused, or the case's status as last pulled — with a legend that
// counts them. In pick mode a tap sets the report's point by hand.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { addBasemap, basemapTrouble } from '../components/leafletBase.js';
import { getLang, nameOf, statusText, t } from '../i18n/index.js';
import { basemapOf } from '../lib/basemap.js';
import { loadDraft, saveDraft } from '../lib/draft.js';
import { cellsBounds, locateCell } from '../lib/grid.js';
import { countByGroup, myReportMarks, STYLE } from '../lib/mine.js';
import { go } from '../router.js';
import { useStore } from '../store.js';
import { useLiveFix } from '../hooks/useLiveFix.js';
import { leafletZoom, localizeAttribution } from '../lib/maplocale.js';

const BEIJING = [39.9163, 116.3972];

/** A mark's tooltip as text (category names are data: never HTML). */
function markLabel(m, categories) {
  const cat = categories.find((c) => c.code === m.category);
  const head = m.number != null ? t('records.case_n', { n: m.number }) : t(`map.g_${m.group}`);
  const what = m.status ? statusText(m.status) : '';
  const text = [head, what, cat ? nameOf(cat) : m.category].filter(Boolean).join(' · ');
  return Object.assign(document.createElement('span'), { textContent: text });
}

export default function MapView({ pick }) {
  const s = useStore();
  const fix = useLiveFix();
  const el = useRef(null);
  const map = useRef(null);
  const layers = useRef({});
  const [point, setPoint] = useState(null);
  const [trouble, setTrouble] = useState(null); // why the base map shows nothing
  const user = s.session?.user?.username;
  const marks = useMemo(() => myReportMarks(s.reports, s.items, user), [s.reports, s.items, user]);

  useEffect(() => {
    const bm = basemapOf(s.server, s.settings, getLang());
    const m = L.map(el.current, { zoomControl: false, attributionControl: !!bm,
      preferCanvas: true, tap: true });
    leafletZoom(L).addTo(m);
    localizeAttribution(m);
    map.current = m;
    window.__gridsnapWorkerMap = m; // for the browser tests
    addBasemap(L, m, bm, (ok) => setTrouble(ok ? null : basemapTrouble(bm, s.server)));
    layers.current.cells = L.geoJSON(null, {
      style: { color: '#0b5cad', weight: 1.5, fillColor: '#0b5cad', fillOpacity: 0.04 },
      // a cell's name is data: as a text node, never HTML (a string tooltip is innerHTML)
      onEachFeature: (f, layer) => layer.bindTooltip(
        Object.assign(document.createElement('span'), { textContent: `${nameOf(f.properties)}` }),
        { sticky: true }),
    }).addTo(m);
    layers.current.marks = L.layerGroup().addTo(m);
    layers.current.me = L.layerGroup().addTo(m);
    layers.current.pick = L.layerGroup().addTo(m);
    const b = cellsBounds(s.cells);
    if (b) m.fitBounds(b, { padding: [8, 8] });
    else m.setView(BEIJING, 15);
    if (pick) {
      m.on('click', (e) => setPoint({ lat: e.latlng.lat, lon: e.latlng.lng }));
      loadDraft().then((d) => {
        if (d.location) setPoint({ lat: d.location.lat, lon: d.location.lon });
      });
    }
    return () => m.remove();
  }, []);

  // cells, with the one I stand in (or picked) highlighted
  useEffect(() => {
    const g = layers.current.cells;
    g.clearLayers();
    for (const c of s.cells) {
      g.addData({ type: 'Feature', geometry: c.geometry,
        properties: { code: c.code, name: c.name, name_en: c.name_en } });
    }
  }, [s.cells]);

  useEffect(() => {
    const here = point || fix.fix;
    const hit = here ? locateCell(s.cells, here.lon, here.lat) : null;
    layers.current.cells.setStyle((f) => (hit && f.properties.code === hit.code
      ? { color: '#f58220', weight: 3, fillOpacity: 0.12, fillColor: '#f58220' }
      : { color: '#0b5cad', weight: 1.5, fillOpacity: 0.04, fillColor: '#0b5cad' }));
  }, [point, fix.fix, s.cells]);

  useEffect(() => {
    const g = layers.current.me;
    g.clearLayers();
    if (!fix.fix) return;
    const ll = [fix.fix.lat, fix.fix.lon];
    L.circle(ll, { radius: fix.fix.accuracy_m, color: '#1976d2', weight: 1, fillOpacity: 0.1 }).addTo(g);
    L.circleMarker(ll, { radius: 7, color: '#fff', weight: 2, fillColor: '#1976d2', fillOpacity: 1 })
      .bindTooltip(t('map.you')).addTo(g);
  }, [fix.fix]);

  useEffect(() => {
    const g = layers.current.marks;
    g.clearLayers();
    for (const m of marks) {
      const st = STYLE[m.group];
      L.circleMarker([m.lat, m.lon], { radius: 7, weight: st.dashed ? 3 : 2, color: st.ring,
        dashArray: st.dashed ? '3 2' : null, opacity: 1, fillColor: st.fill, fillOpacity: 1 })
        .bindTooltip(markLabel(m, s.categories)).addTo(g);
    }
    for (const task of s.tasks) {
      if (!task.location) continue;
      L.marker([task.location.lat, task.location.lon], { icon: L.divIcon({ className: 'task-pin',
        html: '<span>✓</span>', iconSize: [44, 44] }), title: t('records.case_n', { n: task.number }) })
        .on('click', () => !pick && go(`tasks/${task.id}`)).addTo(g);
    }
  }, [marks, s.tasks, s.categories]);

  useEffect(() => {
    const g = layers.current.pick;
    g.clearLayers();
    if (point) {
      L.circleMarker([point.lat, point.lon], { radius: 10, color: '#f58220', weight: 3,
        fillColor: '#f58220', fillOpacity: 0.5 }).addTo(g);
    }
  }, [point]);

  async function usePoint() {
    const d = await loadDraft();
    await saveDraft({ ...d, location: { lon: point.lon, lat: point.lat, accuracy_m: null, source: 'manual' },
      capturedAt: d.capturedAt });
    go(d.editOf ? `capture?edit=${d.editOf}` : 'capture');
  }

  const pickedCell = point ? locateCell(s.cells, point.lon, point.lat) : null;
  return (
    <div class="mapview">
      <div ref={el} class="map" data-testid="map" role="application" aria-label={t('map.label')} />
      {pick ? (
        <div class="map-panel">
          <p>{point ? (pickedCell ? nameOf(pickedCell) : t('location.outside_cells')) : t('map.tap_to_pick')}</p>
          <div class="row">
            <button type="button" class="secondary" onClick={() => window.history.back()}>{t('common.cancel')}</button>
            <button type="button" class="primary" disabled={!point} onClick={usePoint} data-testid="use-point">
              {t('map.use_point')}</button>
          </div>
        </div>
      ) : (
        <ul class="map-legend small" data-testid="map-legend" aria-label={t('map.legend')}>
          <li><span class="dot me" aria-hidden="true" /> {t('map.you')}</li>
          {s.tasks.length > 0 && <li><span class="dot task" aria-hidden="true" /> {t('map.tasks')}</li>}
          {Object.entries(countByGroup(marks)).map(([g, n]) => (
            <li key={g} data-group={g}>
              <span class={`swatch ${STYLE[g].dashed ? 'dashed' : ''}`} aria-hidden="true"
                style={{ background: STYLE[g].fill, borderColor: STYLE[g].dashed ? STYLE[g].ring : STYLE[g].fill }} />
              {' '}{t(`map.g_${g}`)} <strong data-testid={`legend-${g}`}>{n}</strong>
            </li>
          ))}
        </ul>
      )}
      {!s.cells.length && <p class="notice map-note">{t('location.cells_missing')}</p>}
      {trouble && <p class="notice map-note" role="status" data-testid="basemap-unreachable"
        data-why={trouble.key}>{t(trouble.key, { origin: trouble.origin })}</p>}
    </div>
  );
}
