// 综合评价: the month's 考评 ranking (Ranking.jsx), the call-takers' figures (CallTakers.jsx), 主动治理 hot spots (HotSpots.jsx), the indicator table by area, department, category, 部件/事件, 大类, source or
// post (监督员, 处置人员), in views of related indicators; 每月一题;
// and the exports (fetched with the bearer header, saved as files). The source filter is the
// map's and the list's (live filters): the numbers, 每月一题 and both exports follow it.
import { useEffect, useState } from 'preact/hooks';
import { nameOf, t, tn } from '../i18n/index.js';
import { ApiError } from '../lib/api.js';
import { monthOf } from '../lib/zone.js';
import { call, download, filterQuery } from './api.js';
import { SourceSelect } from './Filters.jsx';
import { live, setLive, useLive } from './live.js';
import { HotSpots } from './HotSpots.jsx';
import { Ranking } from './Ranking.jsx';
import { CallTakers } from './CallTakers.jsx';

const GROUPS = ['street', 'community', 'department', 'category', 'kind', 'major_class', 'source',
  'reporter', 'handler', 'dispatcher'];
// the indicators come in views (docs/indicators.md defines every one): a table of them all
// would not fit a screen
const VIEWS = {
  main: ['accepted', 'due', 'closed', 'suspended', 'closure_rate', 'on_time_closure_rate',
    'on_time_handling_rate', 'overdue_rate', 'rework_rate', 'first_time_rate', 'composite_score',
    'composite_rates', 'median_accept_hours', 'median_handle_hours'],
  process: ['reported', 'reported_worker', 'reported_hotline', 'reported_open311', 'reported_other',
    'reported_to_accept', 'acceptance_rate', 'dispatches', 'wrong_dispatches', 'dispatch_accuracy_rate',
    'due_handling', 'handled', 'handling_rate', 'on_time_handling_rate', 'due_verification',
    'verified', 'verification_rate', 'on_time_verification_rate', 'reworked', 'rework_times',
    'rework_rate', 'rework_times_rate', 'overdue', 'overdue_handling', 'extended', 'extended_due',
    'extension_rate'],
  joint: ['summoned', 'reported_in', 'reported_in_on_time', 'report_in_rate', 'notices',
    'notices_replied', 'notices_replied_on_time', 'notices_unanswered_overdue', 'notice_reply_rate'],
  hotline: ['requests', 'answered_on_call', 'direct_answer_rate', 'dispatched_requests', 'rejected_requests',
    'excluded_requests', 'reduced_requests', 'contacted_in_time',
    'contact_rate', 'callbacks',
    'response_rate', 'resolution_rate', 'satisfaction_rate'],
  // the hotline's own figures: calls taken, 直派 / 转派, 一次办结, 重复诉求, time to dispatch
  hotline_own: ['reported_hotline', 'requests', 'answered_on_call', 'direct_answer_rate', 'dispatched_requests',
    'direct_dispatched', 'transferred', 'direct_dispatch_rate', 'transfer_rate', 'settled_requests',
    'first_call_resolved', 'first_call_resolution_rate', 'repeat_requests', 'repeat_request_rate',
    'median_dispatch_hours', 'callbacks', 'callback_unreachable'],
};

/** The current month in the deployment's zone ("2026-11"). */
function thisMonth() {
  return monthOf(Date.now());
}

function cell(key, v) {
  if (v == null) return '—';
  if (key.endsWith('_rate')) return `${Number(v).toFixed(2)}%`;
  if (key === 'composite_score') return Number(v).toFixed(2);
  if (key.startsWith('median_')) return Number(v).toFixed(1);
  return String(v);
}

export function Numbers() {
  const [period, setPeriod] = useState(thisMonth());
  // the indicator table of the month, or of its year (its months added up: period=YYYY)
  const [span, setSpan] = useState('month');
  const tablePeriod = span === 'year' ? period.slice(0, 4) : period;
  const [group, setGroup] = useState('street');
  const [view, setView] = useState('main');
  const [table, setTable] = useState(null);
  const [top, setTop] = useState(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const lv = useLive();
  const source = lv.filters.source;
  const q = (extra) => {
    const out = new URLSearchParams(extra);
    if (source) out.set('source', source);
    return out.toString();
  };

  useEffect(() => {
    let on = true;
    setError(null);
    call(`stats/indicators?${q({ period: tablePeriod, group })}`)
      .then(({ data }) => on && setTable(data))
      .catch((err) => {
        if (!on) return;
        // a server without the evaluation yet
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setError(err.message);
      });
    call(`stats/top-problems?${q({ period })}`)
      .then(({ data }) => on && setTop(data)).catch(() => on && setTop(null));
    return () => { on = false; };
  }, [period, span, group, source]);

  async function save(path, name) {
    setBusy(name);
    try {
      await download(path, name);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(null);
    }
  }
  const caseQuery = filterQuery(live().filters, { exports: true }).toString();
  const ind = q({ period: tablePeriod, group });

  if (missing) return <p class="notice" data-testid="numbers-missing">{t('num.not_available')}</p>;
  const columns = VIEWS[view];
  const rows = table ? [...table.rows, { ...table.total, key: null, name: t('num.total'), total: true }] : [];
  return (
    <div class="cmd-numbers" data-testid="numbers">
      <form class="cmd-filters" onSubmit={(e) => e.preventDefault()}>
        <label><span>{t('num.period')}</span>
          <input type="month" value={period} data-testid="num-period"
            onChange={(e) => e.currentTarget.value && setPeriod(e.currentTarget.value)} /></label>
        <label><span>{t('num.span')}</span>
          <select value={span} data-testid="num-span" onChange={(e) => setSpan(e.currentTarget.value)}>
            {['month', 'year'].map((v) => <option value={v}>{t(`num.span_${v}`)}</option>)}
          </select></label>
        <label><span>{t('num.group')}</span>
          <select value={group} data-testid="num-group" onChange={(e) => setGroup(e.currentTarget.value)}>
            {GROUPS.map((g) => <option value={g}>{t(`num.group_${g}`)}</option>)}
          </select></label>
        <label><span>{t('num.view')}</span>
          <select value={view} data-testid="num-view" onChange={(e) => setView(e.currentTarget.value)}>
            {Object.keys(VIEWS).map((v) => <option value={v}>{t(`num.view_${v}`)}</option>)}
          </select></label>
        <SourceSelect value={source} onChange={(v) => setLive({ filters: { ...live().filters, source: v } })} />
        <div class="row wrap exports">
          {['csv', 'xlsx'].map((fmt) => (
            <button type="button" class="secondary" disabled={!!busy} data-testid={`export-indicators-${fmt}`}
              onClick={() => save(`/api/v1/exports/indicators.${fmt}?${ind}`, `indicators-${tablePeriod}-${group}.${fmt}`)}>
              {t('num.export_indicators', { fmt: fmt.toUpperCase() })}</button>
          ))}
          {['csv', 'xlsx', 'geojson'].map((fmt) => (
            <button type="button" class="secondary" disabled={!!busy} data-testid={`export-cases-${fmt}`}
              onClick={() => save(`/api/v1/exports/cases.${fmt}?${caseQuery}`, `cases.${fmt}`)}>
              {t('num.export_cases', { fmt: fmt.toUpperCase() })}</button>
          ))}
        </div>
      </form>
      {error && <p class="error">{error}</p>}
      <section class="card">
        <h2>{t('num.indicators')} <small>{table?.period?.label || tablePeriod}</small></h2>
        {/* a region keyboard users can scroll sideways when the columns do not fit */}
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t('num.indicators')}>
          <table class="num-table" data-testid="indicator-table">
            <thead>
              <tr><th>{t(`num.group_${group}`)}</th>{columns.map((k) => <th>{t(`ind.${k}`)}</th>)}</tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr class={r.total ? 'total' : ''} data-testid="indicator-row">
                  <td>{nameOf(r) || r.key || t('num.none')}</td>
                  {columns.map((k) => <td class="num">{cell(k, r[k])}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {table && table.rows.length === 0 && <p class="muted">{t('num.no_rows')}</p>}
        <p class="small muted">{t('num.definitions')}</p>
        {span === 'year' && <p class="small muted" data-testid="num-year-note">{t('num.year_note')}</p>}
        {view === 'joint' && group === 'department' && <p class="small muted">{t('num.joint_by_department')}</p>}
      </section>
      <Ranking period={period} busy={busy} onExport={save} />
      <CallTakers period={period} busy={busy} onExport={save} />
      <HotSpots period={period} />
      <section class="card" data-testid="top-problems">
        <h2>{t('num.top_problems')}</h2>
        {top && top.items.length === 0 && <p class="muted">{t('num.no_rows')}</p>}
        <ol class="top-list">
          {(top?.items || []).map((it) => (
            <li>
              <strong>{nameOf(it.category) || it.category?.code}</strong> · {nameOf(it.area) || it.area?.code}
              {' — '}{tn('num.cases_n', it.count)}
              <span class="small muted"> {(it.trend || []).map((m) => `${m.month}: ${m.count}`).join(' · ')}</span>
              {(it.cells || []).length > 0 && (
                <div class="small muted">{t('num.cells')}: {it.cells.map((c) => `${nameOf(c) || c.code} (${c.count})`).join(t('common.list_sep'))}</div>
              )}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
