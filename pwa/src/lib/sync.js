// Sync: one round pushes the outbox (lib/push.js), then pulls what the worker needs offline
// (lib/pull.js), and backs off after a failure (lib/backoff.js).
//
// Runs in the page (syncing.js: start, online, visible, timer, the retry at the back-off's time, a
// manual tap, after a save) and in the service worker (Background Sync); a Web Lock keeps the two
// from running at once. Every request is idempotent by the ids the phone made, so a retry after
// any failure can never duplicate anything. A network error or 5xx ends the round and backs off;
// a 401 (token expired or revoked) marks the session expired and asks for a login, leaving the
// outbox as it is.
import { ApiError, NetworkError, lastAnswerAt } from './api.js';
import { IDLE, afterRound, mayRun } from './backoff.js';
import { kvGet, kvSet } from './db.js';
import { emit } from './events.js';
import { pull as pullAll } from './pull.js';
import { push } from './push.js';

let running = null;

/**
 * One sync round. force: ignore the back-off (a manual tap, a save); reset: connectivity came
 * back, forget the back-off built up while offline (implies force).
 * Returns {outcome: 'ok'|'offline'|'auth'|'error'|'no-session'|'backoff', nextAt, again}.
 */
export function runSync({ force = false, reset = false, pull = true, reason = '' } = {}) {
  const opts = { force: force || reset, reset, pull, reason };
  if (globalThis.navigator?.locks?.request) {
    return navigator.locks.request('gridsnap-sync', () => syncRound(opts));
  }
  if (!running) running = syncRound(opts).finally(() => { running = null; });
  return running;
}

/** The back-off as stored: {failures, nextAt, outcome} (shared by the page and the worker). */
export function backoffState() {
  return kvGet('syncState', { ...IDLE });
}

/** Classifies what ended a round. */
export function outcomeOf(err) {
  if (err instanceof ApiError && err.authExpired) return 'auth';
  if (err instanceof NetworkError || err?.retryable) return 'offline';
  return 'error';
}

async function syncRound({ force, reset, pull, reason }) {
  const session = await kvGet('session');
  if (!session?.token) return { outcome: 'no-session' };
  if (session.expired) return { outcome: 'auth' };
  let state = await backoffState();
  if (reset && state.failures) {
    state = { ...IDLE };
    await kvSet('syncState', state);
  }
  if (!mayRun(state, { force })) return { outcome: 'backoff', nextAt: state.nextAt };
  const startedAt = Date.now();
  emit('sync', { running: true, reason });
  let outcome = 'ok';
  let message = null;
  let again = false; // something was not ready on the server (a photo's sizes): look again soon
  try {
    outcome = await push(session);
    if (outcome === 'ok' && pull) again = await pullAll(session);
  } catch (err) {
    outcome = outcomeOf(err);
    message = err?.message || String(err);
    if (outcome === 'error') console.error('gridsnap sync', err);
  }
  if (outcome === 'auth') {
    await kvSet('session', { ...session, expired: true });
    emit('auth-expired');
  }
  const next = { ...afterRound(state, { outcome, reached: lastAnswerAt() >= startedAt }), outcome };
  await kvSet('syncState', next);
  const last = { at: Date.now(), outcome, message, nextAt: next.nextAt };
  if (outcome === 'ok') last.okAt = last.at;
  else last.okAt = (await kvGet('lastSync', {}))?.okAt || null;
  await kvSet('lastSync', last);
  emit('sync', { running: false, outcome, nextAt: next.nextAt });
  return { outcome, nextAt: next.nextAt, again };
}
