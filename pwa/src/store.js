// The page's state, read from IndexedDB and refreshed on change notices (from this page's sync,
// another tab, or the service worker's Background Sync).
import { db, kvGet } from './lib/db.js';
import { subscribe } from './lib/events.js';
import { createStore } from './lib/store.js';
import { listDrafts } from './lib/draft.js';
import { loadCells } from './lib/grid.js';
import { listDisputes } from './lib/disputes.js';
import { listItems } from './lib/outbox.js';
import { getSettings } from './lib/settings.js';
import { DEFAULT_ZONE, setTimeZone } from './lib/zone.js';

const store = createStore({
  ready: false,
  session: null,
  items: [],
  drafts: [], // saved drafts: unfinished reports on this phone
  reports: [],
  tasks: [],
  disputes: [], // the disputes I reported or mediate (lib/disputes.js)
  categories: [],
  cells: [],
  cellsNote: null,
  settings: {},
  server: null, // the deployment: {name, version, timezone}, once a sync asked it
  lastSync: null,
  syncing: false,
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  toast: null,
});

export const getState = store.get;
export const setState = store.set;
/** Re-renders the calling component whenever the state changes. */
export const useStore = store.use;

const loaders = {
  async session() { return { session: await kvGet('session', null) }; },
  async items() { return { items: await listItems() }; },
  async drafts() { return { drafts: await listDrafts() }; },
  async reports() {
    const rows = await (await db()).getAll('reports');
    rows.sort((a, b) => (a.received_at < b.received_at ? 1 : -1));
    return { reports: rows };
  },
  async tasks() {
    const rows = await (await db()).getAll('tasks');
    rows.sort((a, b) => (b.overdue - a.overdue) || String(a.due_at).localeCompare(String(b.due_at)));
    return { tasks: rows };
  },
  async disputes() { return { disputes: await listDisputes() }; },
  async categories() { return { categories: await kvGet('categories', []) }; },
  async cells() { return { cells: await loadCells(true), cellsNote: await kvGet('cellsNote', null) }; },
  async settings() { return { settings: await getSettings() }; },
  async server() {
    // the deployment's zone for every time shown and every day sent (offline: the last one told)
    const server = await kvGet('server', null);
    if (!setTimeZone(server?.timezone)) setTimeZone(DEFAULT_ZONE);
    return { server };
  },
  async lastSync() { return { lastSync: await kvGet('lastSync', null) }; },
};

export async function reload(...names) {
  const parts = await Promise.all((names.length ? names : Object.keys(loaders))
    .map((n) => loaders[n]()));
  setState(Object.assign({}, ...parts));
}

let toastTimer = null;
/** A short message; with `item` (an outbox item's id) it goes as soon as that item was sent — a
 * "will be sent" must not outlive the sending. */
export function toast(text, kind = 'info', { item = null } = {}) {
  clearTimeout(toastTimer);
  setState({ toast: { text, kind, item } });
  toastTimer = setTimeout(() => setState({ toast: null }), 4000);
}

const ON = {
  outbox: ['items'], session: ['session'], reports: ['reports'], tasks: ['tasks', 'items'],
  categories: ['categories'], cells: ['cells'], settings: ['settings'], 'auth-expired': ['session'],
  server: ['server'], drafts: ['drafts'], disputes: ['disputes', 'items'],
  'task-photo': ['tasks'], // a photo arrived in the cache: the list shows it
};

/** Loads everything once and follows change notices. */
export async function startStore() {
  await reload();
  setState({ ready: true });
  subscribe((msg) => {
    if (msg.type === 'sync') {
      setState({ syncing: !!msg.running });
      if (!msg.running) reload('lastSync', 'items');
      return;
    }
    const names = ON[msg.type];
    if (names) reload(...names);
  });
  window.addEventListener('online', () => setState({ online: true }));
  window.addEventListener('offline', () => setState({ online: false }));
}
