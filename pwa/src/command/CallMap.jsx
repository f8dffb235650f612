// Where the caller means, picked on a small map in the call form (Leaflet, as the worker's
// pick-on-map: no WebGL needed on a call-taker's desk): a click sets the point; from the keyboard
// the map pans with the arrow keys and Enter sets the point at its centre (the cross-hair). The
// grid's cells are drawn over the base map, so the map is readable without one. The typed
// address stays the other way in; the server resolves the point to the grid's names.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import { getLang, t } from '../i18n/index.js';
import { basemapOf } from '../lib/basemap.js';
import { cellsBounds } from '../lib/grid.js';
import { useStore } from '../store.js';
import { addBasemap } from '../components/leafletBase.js';
import { leafletZoom } from '../lib/maplocale.js';

const CENTRE = [39.9280, 116.4105]; // 东城区, when no cells are on the device

const round6 = (x) => Math.round(x * 1e6) / 1e6;

export default function CallMap({ point, onPick }) {
  const s = useStore();
  const el = useRef(null);
  const map = useRef(null);
  const marker = useRef(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    const m = L.map(el.current, { zoomControl: false, attributionControl: false, keyboard: true,
      preferCanvas: true });
    leafletZoom(L).addTo(m);
    map.current = m;
    window.__gridsnapCallMap = m; // for the browser tests
    addBasemap(L, m, basemapOf(s.server, s.settings, getLang()));
    if (s.cells?.length) {
      L.geoJSON({ type: 'FeatureCollection', features: s.cells.map((c) => ({ type: 'Feature',
        geometry: c.geometry, properties: {} })) },
      { interactive: false, style: { color: '#0b5cad', weight: 1, fillOpacity: 0.04 } }).addTo(m);
    }
    const b = cellsBounds(s.cells);
    if (b) m.fitBounds(b, { animate: false });
    else m.setView(CENTRE, 14, { animate: false });
    const set = (ll) => pick.current({ lon: round6(ll.lng), lat: round6(ll.lat), source: 'manual' });
    m.on('click', (e) => set(e.latlng));
    const onKey = (e) => {
      if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        e.stopPropagation(); // not the form's submit
        set(m.getCenter());
      }
    };
    el.current.addEventListener('keydown', onKey);
    el.current.dataset.ready = '1';
    const node = el.current;
    return () => { node.removeEventListener('keydown', onKey); m.remove(); map.current = null; };
  }, []);

  useEffect(() => {
    const m = map.current;
    if (!m) return;
    if (marker.current) { marker.current.remove(); marker.current = null; }
    if (point) {
      marker.current = L.circleMarker([point.lat, point.lon], { radius: 7, color: '#fff', weight: 2,
        fillColor: '#d32f2f', fillOpacity: 1, interactive: false }).addTo(m);
    }
  }, [point?.lon, point?.lat]);

  return (
    <div class="call-map-wrap">
      <div ref={el} class="call-map" data-testid="call-map" role="application"
        aria-label={t('hot.map_label')} />
      <span class="call-map-cross" aria-hidden="true" />
    </div>
  );
}
