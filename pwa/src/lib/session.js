// The login: a bearer token kept on the device for offline days (30 by default on the server).
import { request } from './api.js';
import { kvGet, kvSet, kvDel } from './db.js';
import { emit } from './events.js';

export async function getSession() {
  return kvGet('session', null);
}

/**
 * Logs in; returns the session. Throws ApiError (401 auth.bad_credentials) or NetworkError.
 * The outbox is never touched: what another login captured stays and waits for its user.
 */
export async function login(username, password) {
  const { data } = await request('auth/token', { method: 'POST',
    json: { username, password, label: 'gridsnap PWA' } });
  const session = { token: data.token, expires_at: data.expires_at, user: data.user,
    expired: false, at: Date.now() };
  await kvSet('session', session);
  await kvSet('syncState', { failures: 0, nextAt: 0 });
  emit('session');
  return session;
}

/** Forgets the token on this device (and revokes it when online). The outbox stays. */
export async function logout() {
  const session = await getSession();
  if (session?.token && !session.expired) {
    try {
      await request('auth/token', { method: 'DELETE', token: session.token, timeoutMs: 5000 });
    } catch {
      /* offline: the token lapses on its own */
    }
  }
  await kvDel('session');
  emit('session');
}
