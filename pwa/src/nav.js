// Moving between screens, and starting a sync round from anywhere.
import { runSync } from './lib/sync.js';
import { requestBackgroundSync } from './lib/swclient.js';
import { getState } from './store.js';

const AGAIN_MS = 10 * 1000;

export function go(path) {
  window.location.hash = `#/${path}`;
}

/** A sync round; its result shows in the state (sync status, the outbox items). */
export function syncSoon(opts = {}) {
  const session = getState().session;
  if (!session || session.expired) return Promise.resolve();
  return runSync(opts).then((r) => {
    if (r?.again) setTimeout(() => syncSoon({ reason: 'again' }), AGAIN_MS);
    return r;
  }).catch((err) => console.error('gridsnap: sync failed', err));
}

/** After a save: sync now, and let the browser finish it later if the page closes. */
export function syncAfterSave() {
  requestBackgroundSync();
  return syncSoon({ force: true, reason: 'saved' });
}
