// A dispute in a list (the mediator's desk, the worker's own disputes under the dispute form):
// number, kind, risk, where, its state and the deadline it waits on.
import { formatTime, t } from '../i18n/index.js';
import { isOverdue, nextDue } from '../lib/disputes.js';
import { useStore } from '../store.js';

/** A dispute's state in words. */
export function disputeStatus(status) {
  return t(`dispute.status_${status}`);
}

export function dueLine(d) {
  const due = nextDue(d);
  if (!due) return null;
  const late = isOverdue(d);
  return (
    <span class={late ? 'warn-text' : 'muted'} data-testid="dispute-due" data-overdue={late ? '1' : '0'}>
      {t(late ? `dispute.due_late_${d.status}` : `dispute.due_${d.status}`, { time: formatTime(due) })}
    </span>
  );
}

/** One dispute in a list: number, kind, risk, where, state and what it waits on. */
export function DisputeRow({ d, base }) {
  return (
    <li class="item" data-testid="dispute-row" data-id={d.id} data-status={d.status}>
      <a href={`#/${base}/${d.id}`} class="task-link" data-testid="dispute-link">
        <div class="item-head">
          <strong>{t('dispute.number', { n: d.number })} · {t(`dispute.kind_${d.kind}`)}</strong>
          <small>{formatTime(d.received_at)}</small>
        </div>
        <p class="small">
          {d.risk !== 'normal' && (
            <span class={`tag ${d.risk === 'may_escalate' ? 'danger' : ''}`}>{t(`dispute.risk_${d.risk}`)}</span>)}
          {' '}<span data-testid="dispute-status">{disputeStatus(d.status)}</span>
          {d.area_name ? ` · ${d.area_name}` : ''}
          {d.queued?.length > 0 && <> · <span class="muted">{t('dispute.steps_waiting', { n: d.queued.length })}</span></>}
        </p>
        <p class="small">{dueLine(d)}</p>
      </a>
    </li>
  );
}

/** The grid worker's disputes as the server knows them (the Dispute tab, under the form). */
export function MyDisputes() {
  const s = useStore();
  const me = s.session.user.id;
  const mine = s.disputes.filter((d) => me == null || d.reporter_id === me)
    .sort((a, b) => String(b.received_at).localeCompare(String(a.received_at)));
  return (
    <section aria-labelledby="my-disputes" data-testid="my-disputes">
      <h2 id="my-disputes">{t('dispute.mine')} <small>({mine.length})</small></h2>
      {mine.length === 0 && <p class="muted">{t('dispute.mine_empty')}</p>}
      <ul class="items">{mine.map((d) => <DisputeRow d={d} base="dispute" />)}</ul>
    </section>
  );
}

