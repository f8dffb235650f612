// Saved drafts: several unfinished reports on the phone, one open on the capture screen; an
// empty form is never listed; finishing or deleting one leaves the others alone.
import { beforeEach, describe, expect, it } from 'vitest';
import { db, kvGet } from '../../src/lib/db.js';
import {
  deleteDraft, draftEditing, hasContent, listDrafts, loadDraft, openDraft, saveDraft, startNewDraft,
} from '../../src/lib/draft.js';

const photo = () => ({ id: crypto.randomUUID(), blob: new Blob(['jpeg']), width: 1, height: 1, exif: null });

beforeEach(async () => {
  const d = await db();
  for (const store of ['kv', 'drafts']) await d.clear(store);
});

describe('saved drafts', () => {
  it('keeps an empty form out of the list until something is put in it', async () => {
    const d = await loadDraft();
    expect(hasContent(d)).toBe(false);
    await saveDraft(d);
    expect(await listDrafts()).toEqual([]);
    await saveDraft({ ...d, description: '井盖' });
    expect((await listDrafts()).map((x) => x.id)).toEqual([d.id]);
    expect((await loadDraft()).description).toBe('井盖');
  });

  it('keeps two drafts, each with its photos, and reopens either', async () => {
    const a = await loadDraft();
    await saveDraft({ ...a, photos: [photo()], category: 'E0101' });
    const b = await startNewDraft();
    expect((await loadDraft()).id).toBe(b.id);
    expect((await loadDraft()).photos).toEqual([]);
    await saveDraft({ ...b, photos: [photo(), photo()], description: '二' });
    const listed = await listDrafts();
    expect(listed.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
    expect(listed[0].photos[0].blob).toBeInstanceOf(Blob);
    await openDraft(a.id);
    const open = await loadDraft();
    expect(open.id).toBe(a.id);
    expect(open.category).toBe('E0101');
    expect(open.photos).toHaveLength(1);
  });

  it('deletes one draft and leaves the other; the deleted open one is no longer open', async () => {
    const a = await loadDraft();
    await saveDraft({ ...a, category: 'E0101' });
    const b = await startNewDraft();
    await saveDraft({ ...b, category: 'C0101' });
    await deleteDraft(b.id);
    expect((await listDrafts()).map((x) => x.id)).toEqual([a.id]);
    expect(await kvGet('draftId', null)).toBe(null);
    const next = await loadDraft();
    expect(next.id).not.toBe(b.id);
    expect(next.category).toBe(null);
  });

  it('finds the correction of a refused outbox item begun earlier', async () => {
    const a = await loadDraft();
    await saveDraft({ ...a, editOf: 'item-1', category: 'E0101' });
    await startNewDraft();
    expect((await draftEditing('item-1')).id).toBe(a.id);
    expect(await draftEditing('item-2')).toBe(null);
  });

  it('a late save of the draft left for later does not reopen it', async () => {
    const a = await loadDraft();
    const b = await startNewDraft();
    await saveDraft({ ...a, description: 'late' });
    expect((await loadDraft()).id).toBe(b.id);
  });
});
