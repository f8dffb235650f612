// Where a case is, on a small map (Leaflet, a lazy chunk that is precached: works offline): the
// point and its accuracy circle over the base map when one is set. A picture, not a control: no
// keyboard focus, no dragging; the text beside it (address, coordinates) is what a screen reader
// reads.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import { getLang } from '../i18n/index.js';
import { basemapOf } from '../lib/basemap.js';
import { useStore } from '../store.js';
import { addBasemap } from './leafletBase.js';

export default function CaseSpot({ location }) {
  const s = useStore();
  const el = useRef(null);
  useEffect(() => {
    if (!location) return undefined;
    const ll = [location.lat, location.lon];
    const m = L.map(el.current, { zoomControl: false, attributionControl: false, preferCanvas: true,
      dragging: false, scrollWheelZoom: false, keyboard: false, boxZoom: false,
      doubleClickZoom: false, touchZoom: false, tap: false });
    addBasemap(L, m, basemapOf(s.server, s.settings, getLang()));
    const radius = location.accuracy_m || 5;
    m.fitBounds(L.latLng(ll).toBounds(Math.max(radius, 30) * 4), { maxZoom: 18, animate: false });
    L.circle(ll, { radius, color: '#0b5cad', weight: 1, fillOpacity: 0.15 }).addTo(m);
    L.circleMarker(ll, { radius: 6, color: '#fff', weight: 2, fillColor: '#d32f2f', fillOpacity: 1 }).addTo(m);
    el.current.dataset.ready = '1';
    return () => m.remove();
  }, [location?.lat, location?.lon, location?.accuracy_m, s.settings.tileUrl, s.server?.basemap]);
  return <div ref={el} class="mini-map" aria-hidden="true" data-testid="case-spot" />;
}
