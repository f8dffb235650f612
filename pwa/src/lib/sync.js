// Sync: one round pushes the outbox (lib/push.js), then pulls what the worker needs offline
// (lib/pull.js), and backs off after a failure.
//
// Runs in the page (start, online, visible, timer, manual tap) and in the service worker
// (Background Sync); a Web Lock keeps the two from running at once. Every request is idempotent
// by the ids the phone made, so a retry after any failure can never duplicate anything.
// A network error or 5xx ends the round and backs off; a 401 (token expired or revoked) marks
// the session expired and asks for a login, leaving the outbox as it is.
import { ApiError, NetworkError } from './api.js';
import { kvGet, kvSet } from './db.js';
import { emit } from './events.js';
import { pull as pullAll } from './pull.js';
import { push } from './push.js';

const BACKOFF_S = [5, 15, 30, 60, 120, 300];

let running = null;

/**
 * One sync round. force: ignore the back-off (a manual tap, the network came back).
 * Returns {outcome: 'ok'|'offline'|'auth'|'error'|'no-session'|'backoff', nextAt, again}.
 */
export function runSync({ force = false, pull = true, reason = '' } = {}) {
  if (globalThis.navigator?.locks?.request) {
    return navigator.locks.request('gridsnap-sync', () => syncRound({ force, pull, reason }));
  }
  if (!running) running = syncRound({ force, pull, reason }).finally(() => { running = null; });
  return running;
}

async function syncRound({ force, pull, reason }) {
  const session = await kvGet('session');
  if (!session?.token) return { outcome: 'no-session' };
  if (session.expired) return { outcome: 'auth' };
  const state = await kvGet('syncState', { failures: 0, nextAt: 0 });
  if (!force && state.nextAt > Date.now()) return { outcome: 'backoff', nextAt: state.nextAt };
  emit('sync', { running: true, reason });
  let outcome = 'ok';
  let message = null;
  let again = false; // something was not ready on the server (a photo's sizes): look again soon
  try {
    outcome = await push(session);
    if (outcome === 'ok' && pull) again = await pullAll(session);
  } catch (err) {
    if (err instanceof ApiError && err.authExpired) outcome = 'auth';
    else if (err instanceof NetworkError || err?.retryable) outcome = 'offline';
    else outcome = 'error';
    message = err?.message || String(err);
    if (outcome === 'error') console.error('gridsnap sync', err);
  }
  if (outcome === 'auth') {
    await kvSet('session', { ...session, expired: true });
    emit('auth-expired');
  }
  const failures = outcome === 'offline' || outcome === 'error' ? state.failures + 1 : 0;
  const delay = failures ? BACKOFF_S[Math.min(failures, BACKOFF_S.length) - 1] * 1000 : 0;
  const next = { failures, nextAt: failures ? Date.now() + delay * (0.8 + Math.random() * 0.4) : 0 };
  await kvSet('syncState', next);
  const last = { at: Date.now(), outcome, message, nextAt: next.nextAt };
  if (outcome === 'ok') last.okAt = last.at;
  else last.okAt = (await kvGet('lastSync', {}))?.okAt || null;
  await kvSet('lastSync', last);
  emit('sync', { running: false, outcome });
  return { outcome, nextAt: next.nextAt, again };
}
