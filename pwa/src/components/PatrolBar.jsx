// 按时巡 in the shell: start and end a patrol; while one runs the bar says so, with the points
// kept, on every screen (nothing is recorded outside a patrol).
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { subscribe } from '../lib/events.js';
import { resumePatrol, runningPatrol, startPatrol, stopPatrol } from '../lib/patrol.js';
import { syncAfterSave } from '../syncing.js';
import { reload } from '../store.js';

export function PatrolBar({ username }) {
  const [patrol, setPatrol] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    const look = () => runningPatrol(username).then((p) => { if (live) setPatrol(p); });
    resumePatrol(username).then(look);
    // a point kept, a patrol started or ended (here, in another tab), an item sent
    const off = subscribe((msg) => { if (msg.type === 'patrol' || msg.type === 'outbox') look(); });
    return () => { live = false; off(); };
  }, [username]);

  async function toggle() {
    setBusy(true);
    try {
      if (patrol) await stopPatrol(username);
      else await startPatrol(username);
      await reload('items');
      setPatrol(await runningPatrol(username));
      syncAfterSave();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class={`patrolbar ${patrol ? 'recording' : ''}`} data-testid="patrolbar"
      data-recording={patrol ? 'yes' : 'no'} role="status">
      {patrol
        ? <span>● {t('patrol.recording', { n: patrol.body.points.length })}</span>
        : <span>{t('patrol.idle')}</span>}
      <button type="button" class={patrol ? 'danger' : 'primary'} disabled={busy}
        onClick={toggle} data-testid="patrol-toggle">
        {t(patrol ? 'patrol.stop' : 'patrol.start')}
      </button>
    </div>
  );
}
