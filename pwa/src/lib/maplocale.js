// The map libraries' own control texts in the UI's language: MapLibre takes them as its `locale`
// option, Leaflet as the zoom control's titles and the attribution prefix. Without these the
// Chinese UI showed "Zoom in", "Toggle attribution" and "A JavaScript library for interactive maps".
import { t } from '../i18n/index.js';

/** MapLibre GL's `locale` map (its keys are MapLibre's; missing ones stay English). */
export function maplibreLocale() {
  return {
    'AttributionControl.ToggleAttribution': t('map.attribution_toggle'),
    'AttributionControl.MapFeedback': t('map.feedback'),
    'FullscreenControl.Enter': t('map.fullscreen_enter'),
    'FullscreenControl.Exit': t('map.fullscreen_exit'),
    'GeolocateControl.FindMyLocation': t('map.find_me'),
    'GeolocateControl.LocationNotAvailable': t('map.location_unavailable'),
    'LogoControl.Title': t('map.logo'),
    'Map.Title': t('map.label'),
    'Marker.Title': t('map.marker'),
    'NavigationControl.ResetBearing': t('map.reset_bearing'),
    'NavigationControl.ZoomIn': t('map.zoom_in'),
    'NavigationControl.ZoomOut': t('map.zoom_out'),
    'Popup.Close': t('common.close'),
    'ScaleControl.Meters': t('map.unit_m'),
    'ScaleControl.Kilometers': t('map.unit_km'),
  };
}

/** Leaflet's zoom control with titles in the UI's language. */
export function leafletZoom(L) {
  return L.control.zoom({ zoomInTitle: t('map.zoom_in'), zoomOutTitle: t('map.zoom_out') });
}

/** Leaflet's attribution prefix (a link to Leaflet) with its title in the UI's language. */
export function localizeAttribution(map) {
  const title = t('map.leaflet_title').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  map.attributionControl?.setPrefix(`<a href="https://leafletjs.com" title="${title}">Leaflet</a>`);
}
