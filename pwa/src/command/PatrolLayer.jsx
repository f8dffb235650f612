// 按时巡 on the command-centre map: a layer the supervisor switches on — the cells of their scope
// walked or not in the period (the filters' days, else the last 7 days), and one day's tracks,
// a colour per worker. Tracks are personal data: the server sends only the workers this
// supervisor covers (GET /patrols/tracks), never on a public surface.
import { useEffect, useState } from 'preact/hooks';
import { formatTime, getLang, t } from '../i18n/index.js';
import { addDays, dayOf } from '../lib/zone.js';
import { call } from './api.js';

const WALKED = '#2e7d32';
const NOT_WALKED = '#ef6c00';
const WORKER_COLOURS = ['#1565c0', '#6a1b9a', '#ad1457', '#00838f', '#5d4037', '#283593', '#c62828'];
const EMPTY = { type: 'FeatureCollection', features: [] };
const LAYERS = ['patrol-cells-fill', 'patrol-cells-line', 'patrol-tracks', 'patrol-tracks-flagged'];

export function workerColour(workerId) {
  return WORKER_COLOURS[Math.abs(Number(workerId) || 0) % WORKER_COLOURS.length];
}

/** The coverage's days: the filters' from/to, else the last 7 days up to today. */
export function coverageDays(filters, nowMs = Date.now()) {
  const today = dayOf(nowMs);
  const to = filters.to || today;
  return { from: filters.from || addDays(to, -6), to };
}

function ensureLayers(m) {
  if (m.getSource('patrol-cells')) return;
  m.addSource('patrol-cells', { type: 'geojson', data: EMPTY });
  m.addSource('patrol-tracks', { type: 'geojson', data: EMPTY });
  const before = m.getLayer('cases-ring') ? 'cases-ring' : undefined;
  m.addLayer({ id: 'patrol-cells-fill', type: 'fill', source: 'patrol-cells',
    paint: { 'fill-color': ['case', ['get', 'walked'], WALKED, NOT_WALKED], 'fill-opacity': 0.35 } }, before);
  m.addLayer({ id: 'patrol-cells-line', type: 'line', source: 'patrol-cells',
    paint: { 'line-color': ['case', ['get', 'walked'], WALKED, NOT_WALKED], 'line-width': 1.2 } }, before);
  m.addLayer({ id: 'patrol-tracks', type: 'line', source: 'patrol-tracks',
    filter: ['!', ['get', 'flagged']], layout: { 'line-join': 'round', 'line-cap': 'round' },
    paint: { 'line-color': ['get', 'colour'], 'line-width': 3.5 } }, before);
  // a doubtful track (too fast, far from the worker's cells): dashed
  m.addLayer({ id: 'patrol-tracks-flagged', type: 'line', source: 'patrol-tracks',
    filter: ['get', 'flagged'], paint: { 'line-color': ['get', 'colour'], 'line-width': 3,
      'line-dasharray': [2, 2] } }, before);
}

/** The switch, the day of the tracks, the figures and the legend; draws on `map` when on. */
export function PatrolLayer({ map, filters }) {
  const [on, setOn] = useState(false);
  const [day, setDay] = useState(() => dayOf(Date.now()));
  const [state, setState] = useState(null); // {cells, walked, workers: [{id, name, colour, n}]} | {error}
  const days = coverageDays(filters);

  useEffect(() => {
    const m = map;
    if (!m) return undefined;
    let live = true;
    const show = (visible) => {
      for (const id of LAYERS) if (m.getLayer(id)) m.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
    };
    if (!on) {
      show(false);
      return undefined;
    }
    const load = async () => {
      try {
        const cov = new URLSearchParams({ from: days.from, to: days.to });
        if (filters.area) cov.set('area', filters.area);
        const [cells, tracks] = await Promise.all([
          call(`patrols/coverage?${cov}`, { timeoutMs: 30000 }),
          call(`patrols/tracks?day=${day}`, { timeoutMs: 30000 })]);
        if (!live) return;
        const workers = new Map();
        for (const f of tracks.data.features) {
          const p = f.properties;
          p.colour = workerColour(p.worker_id);
          p.flagged = (p.flags || []).length > 0;
          const w = workers.get(p.worker_id) || { id: p.worker_id, name: p.worker_name, colour: p.colour, n: 0, km: 0 };
          w.n += 1;
          w.km += (p.distance_m || 0) / 1000;
          workers.set(p.worker_id, w);
        }
        const apply = () => {
          ensureLayers(m);
          m.getSource('patrol-cells').setData(cells.data);
          m.getSource('patrol-tracks').setData(tracks.data);
          show(true);
          const c = m.getContainer();
          c.dataset.patrolCells = String(cells.data.features.length);
          c.dataset.patrolTracks = String(tracks.data.features.length);
        };
        if (m.isStyleLoaded()) apply();
        else m.once('load', apply);
        const feats = cells.data.features;
        setState({ cells: feats.length, walked: feats.filter((f) => f.properties.walked).length,
          workers: [...workers.values()] });
      } catch (err) {
        if (live) setState({ error: err.message });
      }
    };
    load();
    return () => { live = false; };
  }, [map, on, day, days.from, days.to, filters.area]);

  return (
    <div class="patrol-layer small" data-testid="patrol-layer">
      <label class="row">
        <input type="checkbox" checked={on} data-testid="patrol-layer-toggle"
          onChange={(e) => setOn(e.currentTarget.checked)} /> {t('patrolmap.toggle')}
      </label>
      {on && (
        <>
          <label>{t('patrolmap.day')}{' '}
            <input type="date" value={day} max={dayOf(Date.now())} data-testid="patrol-layer-day"
              onChange={(e) => e.currentTarget.value && setDay(e.currentTarget.value)} />
          </label>
          <p class="muted">{t('patrolmap.period', { from: days.from, to: days.to })}</p>
          {state?.error && <p class="error" role="alert">{state.error}</p>}
          {state && !state.error && (
            <>
              <p data-testid="patrol-layer-coverage">{t('patrolmap.coverage', { walked: state.walked,
                cells: state.cells, pct: state.cells ? Math.round((100 * state.walked) / state.cells) : 0 })}</p>
              <span class="legend-item"><span class="swatch" style={{ background: WALKED }} />{t('patrolmap.walked')}</span>{' '}
              <span class="legend-item"><span class="swatch" style={{ background: NOT_WALKED }} />{t('patrolmap.not_walked')}</span>
              {state.workers.length === 0 && <p class="muted" data-testid="patrol-layer-no-tracks">{t('patrolmap.no_tracks')}</p>}
              <ul class="patrol-workers" data-testid="patrol-layer-workers">
                {state.workers.map((w) => (
                  <li data-worker={w.id}><span class="dot" style={{ background: w.colour }} />{' '}
                    {t('patrolmap.worker', { name: w.name, n: w.n,
                      km: w.km.toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN', { maximumFractionDigits: 1 }) })}</li>
                ))}
              </ul>
              <p class="muted">{t('patrolmap.flagged_dashed')} · {t('patrolmap.as_of', { time: formatTime(Date.now()) })}</p>
            </>
          )}
        </>
      )}
    </div>
  );
}
