// The calendar's coverage (GET /calendar): a banner when a year that deadlines in use need has
// no official holiday data (those deadlines are estimates), or when estimated deadlines wait to
// be recomputed on data added since. Asked again when cases change, at most every 5 minutes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { call } from './api.js';
import { useLive } from './live.js';

const EVERY_MS = 5 * 60 * 1000;

/** The mark of a case whose deadline is an estimate (due_at_estimated), with why. */
export function EstimatedMark({ c }) {
  if (!c.due_at_estimated) return null;
  return (
    <span class="tag warn-tag" data-testid="due-estimated"
      title={t('cmd.due_estimated_title', { years: c.due_at_guessed_years.join(t('common.list_sep')) })}>
      {t('cmd.due_estimated')}</span>
  );
}

export function CalendarBanner() {
  const lv = useLive();
  const [cov, setCov] = useState(null);
  const last = useRef(0);
  useEffect(() => {
    if (Date.now() - last.current < EVERY_MS && cov) return undefined;
    let live = true;
    last.current = Date.now();
    call('calendar').then(({ data }) => live && setCov(data)).catch(() => {});
    return () => { live = false; };
  }, [lv.changed]);
  if (!cov || cov.ok) return null;
  const years = (list) => list.join(t('common.list_sep'));
  return (
    <div class="banner calendar-banner" role="alert" data-testid="calendar-banner">
      {cov.uncovered_in_use.length > 0 && (
        <p>{t('cmd.calendar_uncovered', { years: years(cov.uncovered_in_use), n: cov.estimated_cases })}</p>
      )}
      {cov.recompute_needed && <p>{t('cmd.calendar_recompute')}</p>}
    </div>
  );
}
