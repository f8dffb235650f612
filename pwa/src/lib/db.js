// The device's database (IndexedDB through idb). Everything the worker captured is written here
// before anything is sent; the service worker opens the same database for Background Sync.
import { openDB } from 'idb';

export const DB_NAME = 'gridsnap';
// 1: the stores; 2: case actions stored as kind 'action' (they were 'verification');
// 3: saved drafts in their own store (there was one, in kv 'draft');
// 4: the disputes I reported or mediate, as the server knows them (lib/disputes.js);
// 5: their agreement photos (人民调解协议书) as blobs for offline viewing (lib/disputes.js)
const VERSION = 5;

let dbPromise = null;

/** The opened database (one connection per page or worker). */
export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, VERSION, {
      async upgrade(d, oldVersion, newVersion, tx) {
        if (oldVersion < 1) {
          d.createObjectStore('kv'); // session, settings, categories, sync marks
          d.createObjectStore('cells', { keyPath: 'code' }); // the worker's scope cells
          const outbox = d.createObjectStore('outbox', { keyPath: 'id' }); // by the phone's id
          outbox.createIndex('createdAt', 'createdAt');
          d.createObjectStore('blobs'); // photo bytes by photo id, until the server has them
          d.createObjectStore('reports', { keyPath: 'id' }); // my reports as the server knows them
          d.createObjectStore('tasks', { keyPath: 'id' }); // cases waiting for me (verify, handle)
          d.createObjectStore('taskPhotos'); // task photo blobs by "<photo id>:<size>"
        }
        if (oldVersion < 2) await renameVerificationKind(tx.objectStore('outbox'));
        if (oldVersion < 3) {
          d.createObjectStore('drafts', { keyPath: 'id' }); // unfinished reports, photos inline
          await moveSingleDraft(tx);
        }
        if (oldVersion < 4) d.createObjectStore('disputes', { keyPath: 'id' });
        if (oldVersion < 5) d.createObjectStore('disputePhotos'); // blobs by photo id
      },
      blocking() {
        // a newer version of the app wants to upgrade: let it
        dbPromise?.then((x) => x.close());
        dbPromise = null;
      },
    });
  }
  return dbPromise;
}

/**
 * Version 2: every case action (a worker's verification and a handler's sign, resolve, return and
 * extension request) was queued as kind 'verification'; it is kind 'action' now. Runs inside the
 * upgrade transaction, so a phone that updates with actions still waiting keeps every one of them,
 * and nothing can read the outbox half-converted.
 */
async function renameVerificationKind(store) {
  let cursor = await store.openCursor();
  while (cursor) {
    if (cursor.value.kind === 'verification') cursor.update({ ...cursor.value, kind: 'action' });
    cursor = await cursor.continue();
  }
}

/**
 * Version 3: the one draft the capture screen kept in kv 'draft' becomes the first saved draft
 * (and stays the open one), so an update never loses the photos of a report being captured.
 */
async function moveSingleDraft(tx) {
  const kv = tx.objectStore('kv');
  const old = await kv.get('draft');
  if (old && (old.photos?.length || old.category || old.description || old.editOf
      || old.location?.source === 'manual')) {
    const id = old.id || `draft-${Date.now()}`;
    await tx.objectStore('drafts').put({ ...old, id, createdAt: Date.now(), updatedAt: Date.now() });
    await kv.put(id, 'draftId');
  }
  await kv.delete('draft');
}

export async function kvGet(key, fallback = undefined) {
  const v = await (await db()).get('kv', key);
  return v === undefined ? fallback : v;
}

export async function kvSet(key, value) {
  return (await db()).put('kv', value, key);
}

export async function kvDel(key) {
  return (await db()).delete('kv', key);
}
