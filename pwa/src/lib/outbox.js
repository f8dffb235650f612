// The outbox: what the worker captured, keyed by the ids the phone made, with its true state.
// The one writer of the "outbox" and "blobs" stores; every change is announced ('outbox'), so the
// page, other tabs and the service worker follow.
//
// item = {
//   id,                      the report's UUID (kind "report") or the case action's (kind "action")
//   kind: 'report' | 'action' | 'dispute' | 'dispute_step' | 'patrol',
//   user,                    the username it was captured under; only that user's token sends it
//   createdAt, updatedAt,    ms since epoch (device clock)
//   body,                    report: {category, description, location, captured_at}
//                            action: {case_id, case_number, action, note, purpose, ...} where
//                              action is the worker's verify_pass / verify_fail (purpose
//                              'verification', with location) or the handler's sign, resolve,
//                              return (reason), request_extension (extension),
//                              record_contact (contact), request_exclusion (exclusion) or
//                              appeal (appeal) (purpose 'resolution'); purpose is what the
//                              photos are evidence of
//                            dispute: the body of PUT /disputes/{id} (no photos)
//                            dispute_step: {dispute_id, number, step, note, session, agreement,
//                              transfer, follow_up}: POST /disputes/{id}/steps with the item's
//                              id as client_step_id (lib/disputes.js); an agree step's photos
//                              (the signed agreement) follow it, PUT under their ids
//                            patrol: {started_at, points: [{id, recorded_at, lon, lat,
//                              accuracy_m}], ended_at} with started and sentPoints (how far the
//                              track was sent); recorded by lib/patrol.js, sent by push.js
//   photos: [{id, size, width, height, exif, sent, upload}],   bytes in the "blobs" store under the photo
//                            id; exif: {taken_at, lon, lat} read on the phone before downscaling;
//                            upload: the tus upload's URL while a large photo is on its way
//                            (a cut upload resumes there, also after a reload: upload.js)
//   state: 'saved' | 'sending' | 'accepted' | 'rejected',
//   progress: {photo, of, acked, size, stalled}   while sending photos; a large one tells the
//                            bytes the server acknowledged, and stalled while it resumes
//                            after a stall (upload.js)
//   server,                  the server's answer once the report was accepted (number, cell…)
//   retry: {at, code, message, count}   the last passing failure (network, 5xx), tried again
//   error: {status, code, message, fields, photo}   why the server refused it (state rejected)
// }
import { db } from './db.js';
import { emit } from './events.js';
import { uuid } from './ids.js';

export const STATES = ['saved', 'sending', 'accepted', 'rejected'];

function changed(id) {
  emit('outbox', { id });
}

/** Every item, oldest first. */
export async function listItems() {
  return (await db()).getAllFromIndex('outbox', 'createdAt');
}

export async function getItem(id) {
  return (await db()).get('outbox', id);
}

/**
 * Changes an item in one IndexedDB transaction: fn(item) edits the item as stored now (a patrol's
 * recorder appends points while a sync round marks others sent: neither overwrites the other).
 * Returns the item written, or null when there is none.
 */
export async function updateItem(id, fn) {
  const tx = (await db()).transaction('outbox', 'readwrite');
  const item = await tx.store.get(id);
  if (item) {
    fn(item);
    item.updatedAt = Date.now();
    await tx.store.put(item);
  }
  await tx.done;
  if (item) changed(id);
  return item || null;
}

/** Writes the item as it now is (its state, progress, retry or error changed). */
export async function putItem(item) {
  item.updatedAt = Date.now();
  await (await db()).put('outbox', item);
  changed(item.id);
  return item;
}

/**
 * The server has the item and every photo (server: what it answered): only now do the photos'
 * bytes leave the phone, in the same transaction that marks the item accepted.
 */
export async function markAccepted(item, server) {
  item.server = server;
  item.state = 'accepted';
  item.progress = null;
  item.retry = null;
  item.acceptedAt = Date.now();
  item.updatedAt = item.acceptedAt;
  const tx = (await db()).transaction(['outbox', 'blobs'], 'readwrite');
  for (const p of item.photos) tx.objectStore('blobs').delete(p.id);
  tx.objectStore('outbox').put(item);
  await tx.done;
  changed(item.id);
  return item;
}

/** Forgets accepted items older than keepMs (shown as "sent recently" until then). */
export async function pruneAccepted(keepMs) {
  const now = Date.now();
  for (const item of await listItems()) {
    if (item.state === 'accepted' && now - (item.acceptedAt || 0) > keepMs) await deleteItem(item.id);
  }
}

/**
 * Writes a new item and its photo blobs in one transaction: once this resolves, the capture
 * survives closing the app, restarting the browser and the phone.
 * photos: [{blob, width, height}] → stored as [{id, size, width, height, sent: false}].
 */
export async function addItem({ id = uuid(), kind, user, body, photos }) {
  const now = Date.now();
  const item = {
    id, kind, user, body, createdAt: now, updatedAt: now, state: 'saved',
    photos: photos.map((p) => ({ id: p.id || uuid(), size: p.blob.size, width: p.width,
      height: p.height, type: p.blob.type || 'image/jpeg', exif: p.exif || null, sent: false })),
  };
  const tx = (await db()).transaction(['outbox', 'blobs'], 'readwrite');
  photos.forEach((p, i) => tx.objectStore('blobs').put(p.blob, item.photos[i].id));
  tx.objectStore('outbox').put(item);
  await tx.done;
  changed(item.id);
  return item;
}

/**
 * Replaces a rejected report that the server never accepted with the edited content. It gets a
 * new id (a 409 said the old one is taken; after a 422 a new one is harmless), and photos that
 * were dropped lose their bytes. Returns the new item.
 */
export async function replaceRejected(old, { body, photos }) {
  const d = await db();
  const fresh = [];
  for (const p of photos) {
    if (p.id && !p.blob) fresh.push({ ...p, blob: await d.get('blobs', p.id) });
    else fresh.push(p);
  }
  const item = await addItem({ kind: old.kind, user: old.user, body,
    photos: fresh.map((p) => ({ ...p, id: undefined })) });
  const tx = d.transaction(['outbox', 'blobs'], 'readwrite');
  for (const p of old.photos) tx.objectStore('blobs').delete(p.id);
  tx.objectStore('outbox').delete(old.id);
  await tx.done;
  changed(old.id);
  return item;
}

/** Deletes an item and its photo bytes (the worker's decision, or after the server has all). */
export async function deleteItem(id) {
  const d = await db();
  const item = await d.get('outbox', id);
  if (!item) return;
  const tx = d.transaction(['outbox', 'blobs'], 'readwrite');
  for (const p of item.photos) tx.objectStore('blobs').delete(p.id);
  tx.objectStore('outbox').delete(id);
  await tx.done;
  changed(id);
}

/** Send a rejected item again as it is (e.g. the category was fixed on the server). */
export async function resend(id) {
  const item = await getItem(id);
  if (!item || item.state !== 'rejected') return;
  item.state = 'saved';
  item.error = null;
  item.retry = null;
  await putItem(item);
}

/** Drop the photo the server refused (too large, not an image) and send the rest. */
export async function dropRejectedPhoto(id) {
  const item = await getItem(id);
  if (!item || item.state !== 'rejected' || !item.error?.photo) return;
  const photo = item.photos[item.error.photo - 1];
  const tx = (await db()).transaction(['outbox', 'blobs'], 'readwrite');
  tx.objectStore('blobs').delete(photo.id);
  item.photos = item.photos.filter((p) => p.id !== photo.id);
  item.state = 'saved';
  item.error = null;
  item.updatedAt = Date.now();
  tx.objectStore('outbox').put(item);
  await tx.done;
  changed(id);
}

export async function getBlob(photoId) {
  return (await db()).get('blobs', photoId);
}

/** Items that wait to be sent (not accepted, not rejected) for this user. */
export function pending(items, username) {
  return items.filter((i) => (i.state === 'saved' || i.state === 'sending') &&
    (!username || i.user === username));
}
