// A phone updating from the app that kept one draft (kv 'draft', database version 2) keeps it:
// it becomes the first saved draft and stays open on the capture screen.
import { openDB } from 'idb';
import { expect, it } from 'vitest';
import { DB_NAME } from '../../src/lib/db.js';
import { listDrafts, loadDraft } from '../../src/lib/draft.js';

it('moves the single draft of version 2 into the drafts store', async () => {
  const v2 = await openDB(DB_NAME, 2, {
    upgrade(d) {
      d.createObjectStore('kv');
      d.createObjectStore('outbox', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
      for (const s of ['blobs', 'taskPhotos']) d.createObjectStore(s);
      for (const s of ['cells', 'reports', 'tasks']) d.createObjectStore(s, { keyPath: s === 'cells' ? 'code' : 'id' });
    },
  });
  await v2.put('kv', { photos: [{ id: 'p1', blob: new Blob(['x']), width: 1, height: 1 }],
    category: 'E0101', description: '旧草稿', capturedAt: null, location: null, editOf: null }, 'draft');
  v2.close();

  const drafts = await listDrafts();
  expect(drafts).toHaveLength(1);
  expect(drafts[0].description).toBe('旧草稿');
  expect(drafts[0].photos[0].id).toBe('p1');
  expect((await loadDraft()).id).toBe(drafts[0].id);
});
