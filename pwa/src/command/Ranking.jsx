// 考评排名: the month's ranking of streets (or units) by the weighted three rates (三率, after
// 剔除 and 核减), with requests per 10,000 residents and the places gained since last month, as a
// city centre publishes it (docs/indicators.md); CSV and XLSX exports of the same table.
import { useState } from 'preact/hooks';
import { nameOf, t } from '../i18n/index.js';
import { useTable } from './useTable.js';

const GROUPS = ['street', 'community', 'department'];
const RATES = ['response_rate', 'resolution_rate', 'satisfaction_rate'];

function pct(v) {
  return v == null ? '—' : `${Number(v).toFixed(2)}%`;
}

function num(v) {
  return v == null ? '—' : Number(v).toFixed(2);
}

/** ↑2 / ↓1 / 0, or — when not ranked in both months; with words for screen readers. */
function Movement({ value }) {
  if (value == null) return <span class="muted" title={t('rank.not_ranked_both')}>—</span>;
  if (value > 0) return <span class="rank-up" aria-label={t('rank.up', { n: value })}>↑{value}</span>;
  if (value < 0) return <span class="rank-down" aria-label={t('rank.down', { n: -value })}>↓{-value}</span>;
  return <span aria-label={t('rank.same')}>0</span>;
}

export function Ranking({ period, onExport, busy }) {
  const [group, setGroup] = useState('street');
  const { table, error } = useTable(`stats/ranking?${new URLSearchParams({ period, group })}`, t('rank.not_available'));

  const q = new URLSearchParams({ period, group }).toString();
  const weights = (table?.weights || []).map((w) => `${t(`ind.${w.rate}`)} × ${w.weight}`).join(' + ');
  return (
    <section class="card" data-testid="ranking">
      <h2>{t('rank.title')} <small>{table?.period?.label || period}
        {table && ` · ${t('rank.compared', { month: table.previous_period })}`}</small></h2>
      <div class="row wrap">
        <label><span>{t('rank.group')}</span>
          <select value={group} data-testid="rank-group" onChange={(e) => setGroup(e.currentTarget.value)}>
            {GROUPS.map((g) => <option value={g}>{t(`num.group_${g}`)}</option>)}
          </select></label>
        {['csv', 'xlsx'].map((fmt) => (
          <button type="button" class="secondary" disabled={!!busy} data-testid={`export-ranking-${fmt}`}
            onClick={() => onExport(`/api/v1/exports/ranking.${fmt}?${q}`, `ranking-${period}-${group}.${fmt}`)}>
            {t('rank.export', { fmt: fmt.toUpperCase() })}</button>
        ))}
      </div>
      {error && <p class="error" data-testid="ranking-error">{error}</p>}
      <div class="table-wrap" tabIndex={0} role="region" aria-label={t('rank.title')}>
        <table class="num-table" data-testid="ranking-table">
          <thead>
            <tr>
              <th>{t('rank.rank')}</th><th>{t('rank.movement')}</th>
              <th>{t(`num.group_${group}`)}</th><th>{t('rank.score')}</th>
              {RATES.map((k) => <th>{t(`ind.${k}`)}</th>)}
              <th>{t('ind.requests')}</th>
              {group !== 'department' && <th>{t('rank.population')}</th>}
              {group !== 'department' && <th>{t('rank.per_10k')}</th>}
              <th>{t('ind.excluded_requests')}</th><th>{t('ind.reduced_requests')}</th>
              <th>{t('rank.previous')}</th>
            </tr>
          </thead>
          <tbody>
            {(table?.rows || []).map((r) => (
              <tr data-testid="ranking-row">
                <td class="num">{r.rank ?? '—'}</td>
                <td class="num"><Movement value={r.movement} /></td>
                <td>{nameOf(r) || r.key}</td>
                <td class="num"><strong>{num(r.score)}</strong></td>
                {RATES.map((k) => <td class="num">{pct(r[k])}</td>)}
                <td class="num">{r.requests}</td>
                {group !== 'department' && <td class="num">{r.population ?? '—'}</td>}
                {group !== 'department' && <td class="num">{num(r.requests_per_10k)}</td>}
                <td class="num">{r.excluded_requests}</td><td class="num">{r.reduced_requests}</td>
                <td class="num">{r.previous_rank ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {table && table.rows.length === 0 && <p class="muted">{t('num.no_rows')}</p>}
      {weights && <p class="small muted" data-testid="ranking-formula">{t('rank.formula', { weights })}</p>}
    </section>
  );
}
