// One sync status for the whole app: the network pill and the sync line read the same facts, so
// they never disagree ("online · 3 waiting" above "no network" below). Pure; texts in the caller.

/**
 * kind: 'syncing' | 'offline' (the browser says no network) | 'retry' (the last round failed;
 * the next one runs at nextAt) | 'auth' | 'ok' | 'never'. waiting: items not yet sent.
 */
export function syncStatus({ online = true, syncing = false, lastSync = null, waiting = 0,
  expired = false }) {
  const base = { waiting, at: lastSync?.at || null, okAt: lastSync?.okAt || null, nextAt: null };
  if (expired || lastSync?.outcome === 'auth') return { ...base, kind: 'auth' };
  const failedLast = lastSync && (lastSync.outcome === 'offline' || lastSync.outcome === 'error');
  // with no network nothing is being sent, whatever a round started meanwhile tries
  if (!online) return { ...base, kind: 'offline', nextAt: failedLast ? lastSync.nextAt || null : null };
  if (syncing) return { ...base, kind: 'syncing' };
  if (failedLast) {
    return { ...base, kind: 'retry', nextAt: lastSync.nextAt || null,
      cause: lastSync.outcome === 'error' ? 'error' : 'network' };
  }
  if (!lastSync) return { ...base, kind: 'never' };
  return { ...base, kind: 'ok' };
}
