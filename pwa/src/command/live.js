// Shared state of the command centre: filters, the selected case, and a "something changed"
// counter the map and list follow (the 5 s poll of /cases?updated_since bumps it).
import { createStore } from '../lib/store.js';
import { call } from './api.js';

const store = createStore({
  filters: { status: [], category: '', department: '', overdue: false, area: '', source: '', from: '',
    to: '' },
  changed: 0, // bumped when any case in scope changed
  focus: null, // {id, lon, lat}: the case opened, the map moves to it
  lastChangeAt: null,
});

export const live = store.get;
export const setLive = store.set;
export const useLive = store.use;

export function bump() {
  setLive({ changed: live().changed + 1, lastChangeAt: Date.now() });
}

const POLL_MS = 5000;

/** Polls for changed cases every 5 s while the page is visible; stops with the returned fn. */
export function startPolling() {
  // (id, updated_at) pairs seen: a case counts as changed only once per update
  const seen = new Set();
  let since = new Date(Date.now() - 60 * 1000).toISOString();
  let stopped = false;
  let anchored = false;
  let timer = null;
  async function tickOnce() {
    if (stopped) return;
    if (document.visibilityState === 'visible') {
      try {
        const q = new URLSearchParams({ updated_since: since, page_size: '200' });
        const { data, headers } = await call(`cases?${q}`, { timeoutMs: 10000 });
        // a device clock ahead of the server's would skip changes: anchor on the server's Date
        const serverNow = Date.parse(headers.get('Date') || '');
        if (!anchored && serverNow) {
          anchored = true;
          if (serverNow - 60 * 1000 < Date.parse(since)) since = new Date(serverNow - 60 * 1000).toISOString();
        }
        let fresh = false;
        for (const c of data || []) {
          const key = `${c.id}@${c.updated_at}`;
          if (!seen.has(key)) { seen.add(key); fresh = true; }
          if (Date.parse(c.updated_at) > Date.parse(since)) since = c.updated_at;
        }
        if (fresh) bump();
      } catch {
        /* offline or a passing error: next tick */
      }
    }
    timer = setTimeout(tickOnce, POLL_MS);
  }
  tickOnce();
  return () => { stopped = true; clearTimeout(timer); };
}
