// Where a case is, on a small map (Leaflet, a lazy chunk that is precached: works offline) — the
// one position map of the app (the handler's desk, the command centre's case panel): the point and
// its accuracy circle over the base map when one is set, and the grid's cells around it from the
// device's cells (the case's own cell drawn stronger), so the map reads without a base map too.
// A picture, not a control: no keyboard focus, no dragging; the text beside it (address,
// coordinates, the area chain) is what a screen reader reads.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import { getLang } from '../i18n/index.js';
import { basemapOf } from '../lib/basemap.js';
import { useStore } from '../store.js';
import { addBasemap } from './leafletBase.js';

const NEAR_DEG = 0.01; // cells within about 1 km of the point are drawn

function cellsNear(cells, lon, lat) {
  return (cells || []).filter((c) => c.bbox && c.bbox[0] - NEAR_DEG <= lon && lon <= c.bbox[2] + NEAR_DEG
    && c.bbox[1] - NEAR_DEG <= lat && lat <= c.bbox[3] + NEAR_DEG);
}

export default function CaseSpot({ location, cell = null }) {
  const s = useStore();
  const el = useRef(null);
  useEffect(() => {
    if (!location) return undefined;
    const node = el.current;
    const ll = [location.lat, location.lon];
    const m = L.map(node, { zoomControl: false, attributionControl: false, preferCanvas: true,
      dragging: false, scrollWheelZoom: false, keyboard: false, boxZoom: false,
      doubleClickZoom: false, touchZoom: false, tap: false });
    addBasemap(L, m, basemapOf(s.server, s.settings, getLang()));
    const radius = location.accuracy_m || 5;
    // the circle's own bounds need a view first: take them from the point
    const bounds = L.latLng(ll).toBounds(Math.max(radius, 30) * 4);
    const fit = () => {
      m.invalidateSize(false);
      m.fitBounds(bounds, { maxZoom: 18, animate: false });
      node.dataset.fittedWidth = String(node.clientWidth); // for the browser tests: settled
    };
    fit(); // a view first: vector layers on a canvas need one
    const near = cellsNear(s.cells, location.lon, location.lat);
    if (near.length) {
      L.geoJSON({ type: 'FeatureCollection', features: near.map((c) => ({ type: 'Feature',
        geometry: c.geometry, properties: { own: c.code === cell } })) },
      { interactive: false, style: (f) => (f.properties.own
        ? { color: '#0b5cad', weight: 2, fillOpacity: 0.06 }
        : { color: '#7a8a9c', weight: 1, fillOpacity: 0 }) }).addTo(m);
      node.dataset.cells = String(near.length);
    }
    L.circle(ll, { radius, color: '#0b5cad', weight: 1, fillOpacity: 0.15 }).addTo(m);
    L.circleMarker(ll, { radius: 6, color: '#fff', weight: 2, fillColor: '#d32f2f', fillOpacity: 1 }).addTo(m);
    // a panel's width settles after the first paint: fit again whenever the map's size changes
    const resized = new ResizeObserver(fit);
    resized.observe(node);
    node.dataset.ready = '1';
    return () => { resized.disconnect(); m.remove(); };
  }, [location?.lat, location?.lon, location?.accuracy_m, cell, s.cells, s.settings.tileUrl, s.server?.basemap]);
  return <div ref={el} class="mini-map" aria-hidden="true" data-testid="case-spot" />;
}
