// The last sync in words, and a button to sync now (on the outbox, the tasks and the desk).
import { formatTime, t } from '../i18n/index.js';
import { syncSoon } from '../nav.js';
import { useStore } from '../store.js';

export function SyncBar() {
  const s = useStore();
  const last = s.lastSync;
  let line;
  if (s.syncing) line = t('sync.running');
  else if (!last) line = t('sync.never');
  else if (last.outcome === 'ok') line = t('sync.ok_at', { time: formatTime(last.at) });
  else if (last.outcome === 'offline') line = t('sync.offline_at', { time: formatTime(last.at) });
  else line = t('sync.failed_at', { time: formatTime(last.at) });
  return (
    <div class="syncbar card">
      <p aria-live="polite" data-testid="sync-line">{line}</p>
      <button type="button" class="primary" disabled={s.syncing} data-testid="sync-now"
        onClick={() => syncSoon({ force: true, reason: 'manual' })}>{t('sync.now')}</button>
    </div>
  );
}
