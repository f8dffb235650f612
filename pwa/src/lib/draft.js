// Saved drafts, like ODK's saved forms: unfinished reports (photos, category, note, place) kept on
// the phone in IndexedDB at every change, listed, reopened, finished or deleted. One of them is
// open on the capture screen (kv 'draftId'); the others wait. A phone that kills the page while
// the camera app is open (low memory) gives the worker their photos back.
// The one writer of the "drafts" store; every change is announced ('drafts').
//
// draft = { id, photos: [{id, blob, width, height, exif}], category, description, capturedAt,
//           location, editOf (the rejected outbox item it corrects), createdAt, updatedAt }
import { db, kvDel, kvGet, kvSet } from './db.js';
import { emit } from './events.js';
import { uuid } from './ids.js';

export function emptyDraft(id = uuid()) {
  return { id, photos: [], category: null, description: '', capturedAt: null, location: null,
    editOf: null, createdAt: null, updatedAt: null };
}

/** Worth keeping: a photo, a category, a note, a point set by hand, or a correction begun. */
export function hasContent(d) {
  return !!(d && (d.photos?.length || d.category || d.description?.trim() || d.editOf
    || d.location?.source === 'manual'));
}

function changed(id) {
  emit('drafts', { id });
}

/** Every saved draft, the last changed first. */
export async function listDrafts() {
  const rows = await (await db()).getAll('drafts');
  return rows.sort((a, b) => (b.updatedAt || 0) - (a.updatedAt || 0));
}

export async function getDraft(id) {
  return (await db()).get('drafts', id);
}

/** The open draft: the one the capture screen shows (an empty one, not yet stored, if none). */
export async function loadDraft() {
  const id = await kvGet('draftId', null);
  const stored = id ? await getDraft(id) : null;
  if (stored) return { ...emptyDraft(id), ...stored };
  const fresh = emptyDraft(id || uuid());
  if (!id) await kvSet('draftId', fresh.id);
  return fresh;
}

/** Keeps the draft as it now is; a draft with nothing in it is not listed. Which one is open
 * changes only by openDraft and startNewDraft, so a late save never reopens an old draft. */
export async function saveDraft(draft) {
  const d = await db();
  if (hasContent(draft)) {
    const now = Date.now();
    await d.put('drafts', { ...draft, createdAt: draft.createdAt || now, updatedAt: now });
  } else {
    await d.delete('drafts', draft.id);
  }
  changed(draft.id);
}

/** Opens a saved draft on the capture screen; the one open before stays in the list. */
export async function openDraft(id) {
  await kvSet('draftId', id);
  changed(id);
}

/** Leaves the open draft saved and starts an empty one; returns it. */
export async function startNewDraft() {
  const fresh = emptyDraft();
  await kvSet('draftId', fresh.id);
  changed(fresh.id);
  return fresh;
}

/** Deletes a draft and its photos (finished into the outbox, or given up). */
export async function deleteDraft(id) {
  await (await db()).delete('drafts', id);
  if ((await kvGet('draftId', null)) === id) await kvDel('draftId');
  changed(id);
}

/** The saved draft correcting that rejected outbox item, if one was begun. */
export async function draftEditing(itemId) {
  return (await listDrafts()).find((d) => d.editOf === itemId) || null;
}
