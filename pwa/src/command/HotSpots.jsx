// 主动治理: the month's hot spots (a class of problem concentrating in one area against the
// months before, hotline requests and grid reports together) and whether a campaign or 每月一题
// takes each on; a supervisor makes one the month's 每月一题 from here (POST /campaigns, kind
// monthly_topic), its lead department and measures set afterwards (docs/indicators.md).
import { useEffect, useState } from 'preact/hooks';
import { nameOf, t, tn } from '../i18n/index.js';
import { call } from './api.js';

/** The first and last day of a month "2026-11". */
function monthDays(month) {
  const [y, m] = month.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return [`${month}-01`, `${month}-${String(last).padStart(2, '0')}`];
}

export function HotSpots({ period }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const [round, setRound] = useState(0);

  useEffect(() => {
    let on = true;
    call(`campaigns/hot-spots?${new URLSearchParams({ period })}`)
      .then(({ data: d }) => on && setData(d)).catch(() => on && setData(null));
    return () => { on = false; };
  }, [period, round]);

  async function takeOn(it) {
    const key = `${it.category.code}-${it.area.code}`;
    setBusy(key);
    setError(null);
    const [starts, ends] = monthDays(period);
    try {
      await call('campaigns', { method: 'POST', json: {
        name: t('spot.topic_name', { month: period, category: nameOf(it.category) || it.category.code,
          area: nameOf(it.area) || it.area.code }),
        kind: 'monthly_topic', category: it.category.code, area_prefix: it.area.code,
        starts_on: starts, ends_on: ends } });
      setRound(round + 1);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(null);
    }
  }

  if (!data) return null;
  return (
    <section class="card" data-testid="hot-spots">
      <h2>{t('spot.title')} <small>{t('spot.rule', { n: data.min_count, factor: data.factor })}</small></h2>
      {error && <p class="error">{error}</p>}
      {data.items.length === 0 && <p class="muted">{t('num.no_rows')}</p>}
      <ol class="top-list">
        {data.items.map((it) => {
          const key = `${it.category.code}-${it.area.code}`;
          return (
            <li data-testid="hot-spot">
              <strong>{nameOf(it.category) || it.category.code}</strong> · {nameOf(it.area) || it.area.code}
              {' — '}{tn('num.cases_n', it.count)}
              <span class="small muted"> {t('spot.before_average', { avg: Number(it.previous_average ?? 0).toFixed(2) })}</span>
              <div class="small">
                {it.taken_on_by.length
                  ? <span data-testid="hot-spot-taken">{t('spot.taken_on_by', { names: it.taken_on_by.map((c) => c.name).join(t('common.list_sep')) })}</span>
                  : <button type="button" class="secondary" disabled={busy === key} data-testid="hot-spot-take-on"
                    onClick={() => takeOn(it)}>{t('spot.make_topic')}</button>}
              </div>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
