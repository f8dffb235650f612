// The position with its accuracy (a warning above the threshold) and the cell found on the phone.
import { nameOf, t } from '../i18n/index.js';
import { locateCell } from '../lib/grid.js';

export function LocationCard({ location, fixError, cells, cellsNote, warnM, onPickOnMap }) {
  const cell = location ? locateCell(cells, location.lon, location.lat) : null;
  let status;
  if (!location) {
    status = <p class="muted">{fixError ? t(`location.error_${fixError}`) : t('location.waiting')}</p>;
  } else if (location.source === 'manual') {
    status = <p data-testid="location-accuracy">{t('location.manual')}</p>;
  } else {
    const poor = location.accuracy_m > warnM;
    status = (
      <p class={poor ? 'warn' : ''} data-testid="location-accuracy" role={poor ? 'alert' : undefined}>
        {t('location.accuracy', { m: Math.round(location.accuracy_m) })}
        {poor && ` — ${t('location.poor', { m: warnM })}`}
      </p>
    );
  }
  let cellLine = null;
  if (location) {
    if (cell) cellLine = <p class="cell" data-testid="cell-name"><strong>{nameOf(cell)}</strong> <small>{cell.code}</small></p>;
    else if (!cells.length) cellLine = <p class="muted" data-testid="cell-name">{cellsNote === 'too_many' ? t('location.cells_too_many') : t('location.cells_missing')}</p>;
    else cellLine = <p class="warn" data-testid="cell-name">{t('location.outside_cells')}</p>;
  }
  return (
    <section class="card" aria-labelledby="loc-title">
      <h2 id="loc-title">{t('location.title')}</h2>
      {status}
      {cellLine}
      {location && <p class="muted small">{location.lat.toFixed(6)}, {location.lon.toFixed(6)}</p>}
      <button type="button" class="secondary" onClick={onPickOnMap} data-testid="pick-on-map">
        {t('location.pick_on_map')}
      </button>
    </section>
  );
}
