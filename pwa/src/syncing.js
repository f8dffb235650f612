// The page's sync coordinator: every trigger starts a round here,
// and the next try is scheduled here (at the back-off's time, not at the next 60 s tick).
import { onAnswer } from './lib/api.js';
import { subscribe } from './lib/events.js';
import { backoffState, runSync } from './lib/sync.js';
import { requestBackgroundSync } from './lib/swclient.js';
import { getState } from './store.js';

const AGAIN_MS = 10 * 1000;

let timer = null;
let timerAt = 0;

/** Runs a round at `at` (ms since epoch), unless one is already planned sooner. */
function planAt(at) {
  const now = Date.now();
  if (timer && timerAt > now && timerAt <= at) return;
  clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(() => {
    timer = null;
    syncSoon({ reason: 'retry' });
  }, Math.max(0, at - now));
}

function plan(r) {
  if (r?.nextAt) planAt(r.nextAt);
  if (r?.again) planAt(Date.now() + AGAIN_MS);
}

/** A sync round; its result shows in the state (sync status, the outbox items). */
export function syncSoon(opts = {}) {
  const session = getState().session;
  if (!session || session.expired) return Promise.resolve();
  return runSync(opts).then((r) => {
    plan(r);
    return r;
  }).catch((err) => console.error('gridsnap: sync failed', err));
}

/** After a save: sync now, and let the browser finish it later if the page closes. */
export function syncAfterSave() {
  requestBackgroundSync();
  return syncSoon({ force: true, reason: 'saved' });
}

/** The network is back (online event, an answer from the server): forget the back-off, go. */
export function connectivityBack(reason) {
  return syncSoon({ reset: true, reason });
}

/**
 * Starts following the signals that connectivity returned; returns the stop function.
 * An answer to any request of the page while the last round failed for the network resumes at
 * once; a round of the service worker (Background Sync) re-plans the page's next try.
 */
export function followConnectivity() {
  const onOnline = () => connectivityBack('online');
  window.addEventListener('online', onOnline);
  const offAnswer = onAnswer(() => {
    if (getState().syncing) return; // the round's own requests
    backoffState().then((st) => {
      if (st.failures && st.outcome === 'offline' && !getState().syncing) connectivityBack('answer');
    });
  });
  const offSync = subscribe((msg) => {
    if (msg.type !== 'sync' || msg.running || !msg.remote) return;
    // the service worker finished a round: its back-off is ours (one store), plan from it
    backoffState().then((st) => { if (st.nextAt) planAt(st.nextAt); });
  });
  return () => {
    window.removeEventListener('online', onOnline);
    offAnswer();
    offSync();
  };
}
