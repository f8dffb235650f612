// 话务员: the hotline's own figures per call-taker for the month — calls taken, the average
// handling time from a call's start to its request recorded, callbacks (回访) made and reached
// (docs/indicators.md) — with its CSV and XLSX exports, beside the indicator table.
import { t } from '../i18n/index.js';
import { useTable } from './useTable.js';

const COLUMNS = ['calls', 'consultations', 'average_handling_seconds', 'callbacks',
  'callbacks_reached', 'callback_reach_rate'];

function cell(key, v) {
  if (v == null) return '—';
  if (key === 'callback_reach_rate') return `${Number(v).toFixed(2)}%`;
  if (key === 'average_handling_seconds') return Number(v).toFixed(1);
  return String(v);
}

export function CallTakers({ period, onExport, busy }) {
  const { table, error } = useTable(`stats/call-takers?${new URLSearchParams({ period })}`, t('ct.not_available'));

  const rows = table ? [...table.rows, { ...table.total, total: true }] : [];
  return (
    <section class="card" data-testid="call-takers">
      <h2>{t('ct.title')} <small>{table?.period?.label || period}</small></h2>
      <div class="row wrap">
        {['csv', 'xlsx'].map((fmt) => (
          <button type="button" class="secondary" disabled={!!busy} data-testid={`export-call-takers-${fmt}`}
            onClick={() => onExport(`/api/v1/exports/call-takers.${fmt}?${new URLSearchParams({ period })}`,
              `call-takers-${period}.${fmt}`)}>
            {t('ct.export', { fmt: fmt.toUpperCase() })}</button>
        ))}
      </div>
      {error && <p class="error">{error}</p>}
      <div class="table-wrap" tabIndex={0} role="region" aria-label={t('ct.title')}>
        <table class="num-table" data-testid="call-taker-table">
          <thead>
            <tr><th>{t('ct.call_taker')}</th>{COLUMNS.map((k) => <th>{t(`ct.${k}`)}</th>)}</tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr class={r.total ? 'total' : ''} data-testid="call-taker-row">
                <td>{r.total ? t('num.total') : (r.user.display_name || r.user.username)}</td>
                {COLUMNS.map((k) => <td class="num">{cell(k, r[k])}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {table && table.rows.length === 0 && <p class="muted">{t('num.no_rows')}</p>}
      <p class="small muted">{t('ct.definition', { hours: table ? table.handling_max_seconds / 3600 : 4 })}</p>
    </section>
  );
}
