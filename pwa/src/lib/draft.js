// The report being captured, kept in IndexedDB at every change: a phone that kills the page
// while the camera app is open (low memory) gives the worker their photos back.
import { kvDel, kvGet, kvSet } from './db.js';

export function emptyDraft() {
  return { photos: [], category: null, description: '', capturedAt: null, location: null,
    editOf: null };
}

export async function loadDraft() {
  return { ...emptyDraft(), ...(await kvGet('draft', {})) };
}

export async function saveDraft(draft) {
  await kvSet('draft', draft);
}

export async function clearDraft() {
  await kvDel('draft');
}
