// The sync status in words — the network pill and the sync line say the same thing, from one
// status (lib/status.js) — and a button to sync now (on the outbox, the tasks and the desk).
import { formatClock, formatTime, t, tn } from '../i18n/index.js';
import { pending } from '../lib/outbox.js';
import { syncStatus } from '../lib/status.js';
import { syncSoon } from '../syncing.js';
import { useStore } from '../store.js';

/** The app's one sync status from the page state. */
export function statusOf(s) {
  return syncStatus({ online: s.online, syncing: s.syncing, lastSync: s.lastSync,
    waiting: pending(s.items, s.session?.user?.username).length, expired: !!s.session?.expired });
}

/** The pill: network · waiting · what happens next. */
export function pillText(st, online) {
  const parts = [online ? t('net.online') : t('net.offline')];
  if (st.waiting) parts.push(tn('sync.waiting_n', st.waiting));
  if (st.kind === 'syncing') parts.push(t('sync.running'));
  else if (st.waiting && st.nextAt && (st.kind === 'retry' || st.kind === 'offline')) {
    parts.push(t('sync.retry_at', { time: formatClock(st.nextAt) }));
  }
  return parts.join(' · ');
}

/** The sync line: what happened last and when the next try is. */
export function lineText(st) {
  switch (st.kind) {
    case 'syncing': return t('sync.running');
    case 'never': return t('sync.never');
    case 'auth': return t('sync.auth');
    case 'offline':
      return st.waiting ? tn('sync.offline_waiting', st.waiting) : t('sync.offline_idle');
    case 'retry': return t(st.cause === 'error' ? 'sync.failed_next' : 'sync.network_next', {
      time: formatClock(st.at), next: formatClock(st.nextAt) });
    default: return t('sync.ok_at', { time: formatTime(st.okAt || st.at) });
  }
}

export function SyncBar() {
  const s = useStore();
  const st = statusOf(s);
  return (
    <div class="syncbar card">
      <p aria-live="polite" data-testid="sync-line" data-kind={st.kind}>{lineText(st)}</p>
      <button type="button" class="primary" disabled={s.syncing} data-testid="sync-now"
        onClick={() => syncSoon({ force: true, reason: 'manual' })}>{t('sync.now')}</button>
    </div>
  );
}
