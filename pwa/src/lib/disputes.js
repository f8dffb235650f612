// The disputes (矛盾纠纷) on this phone: those I reported, and for a mediator every dispute of
// the area they mediate, as the server last answered (pull.js) — the one writer of the
// "disputes" store — and the mediation's steps as this phone knows them, with the steps still
// in the outbox counted as taken (the desk works offline). Also the one writer of the
// "disputePhotos" store: the photos of signed agreements (人民调解协议书) kept for offline viewing.
import { ApiError, request } from './api.js';
import { db } from './db.js';
import { emit } from './events.js';

/** The roles that report or work disputes in the field app. */
export const DISPUTE_ROLES = new Set(['worker', 'mediator']);

// the server's steps (disputes/rules.py STEPS): from which statuses, to which
export const STEPS = {
  accept: { from: ['reported'], to: 'accepted' },
  hold_session: { from: ['accepted', 'mediating'], to: 'mediating' },
  agree: { from: ['accepted', 'mediating'], to: 'agreed' },
  transfer: { from: ['accepted', 'mediating'], to: 'transferred', needsNote: true },
  follow_up: { from: ['agreed'], to: 'closed' },
};
export const TRANSFER_BODIES = ['police', 'court', 'petition', 'other'];
// the desk's groups, in the order of the work
export const GROUPS = [
  ['to_accept', ['reported']],
  ['mediating', ['accepted', 'mediating']],
  ['to_follow_up', ['agreed']],
  ['done', ['transferred', 'closed']],
];

/** Replaces the store with what the server listed. */
export async function storeDisputes(rows) {
  const tx = (await db()).transaction('disputes', 'readwrite');
  await tx.store.clear();
  for (const r of rows) tx.store.put(r);
  await tx.done;
  emit('disputes');
}

/** A step from this phone reached the server: its answer (the dispute, with its trail). */
export async function disputeStepped(data) {
  if (!data?.id) return;
  await (await db()).put('disputes', data);
  emit('disputes');
}

export async function listDisputes() {
  return (await db()).getAll('disputes');
}

/** The steps of this dispute waiting in the outbox (not yet accepted, not refused). */
export function queuedSteps(dispute, items) {
  return items.filter((i) => i.kind === 'dispute_step' && i.body.dispute_id === dispute.id &&
    (i.state === 'saved' || i.state === 'sending'));
}

/**
 * The dispute as this phone knows it: its status after the queued steps, the steps it allows
 * now (none when the server gave the caller none: not theirs to work).
 */
export function localDispute(dispute, items) {
  const queued = queuedSteps(dispute, items);
  let status = dispute.status;
  for (const i of queued) status = STEPS[i.body.step]?.to || status;
  const works = (dispute.allowed_steps || []).length > 0 || queued.length > 0;
  const allowed = works ? Object.keys(STEPS).filter((n) => STEPS[n].from.includes(status)) : [];
  return { ...dispute, status, allowed_steps: allowed, queued };
}

/** The deadline the dispute waits on now: to accept, to settle, to visit after the agreement. */
export function nextDue(d) {
  if (d.status === 'reported') return d.accept_due_at;
  if (d.status === 'accepted' || d.status === 'mediating') return d.resolve_due_at;
  if (d.status === 'agreed') return d.follow_up_due_at;
  return null;
}

/** The desk's groups: [[name, disputes by their next deadline]], empty groups left out. */
export function groupDisputes(disputes) {
  const by = (a, b) => String(nextDue(a) || '9').localeCompare(String(nextDue(b) || '9'));
  return GROUPS.map(([name, statuses]) => [name,
    disputes.filter((d) => statuses.includes(d.status)).sort(
      name === 'done' ? (a, b) => String(b.received_at).localeCompare(String(a.received_at)) : by)])
    .filter(([, list]) => list.length);
}

export function isOverdue(d, nowMs = Date.now()) {
  const due = nextDue(d);
  return !!due && Date.parse(due) < nowMs;
}

/** The agreement photos (人民调解协议书) an agree step waiting in the outbox carries. */
export function queuedAgreementPhotos(dispute, items) {
  return queuedSteps(dispute, items).filter((i) => i.body.step === 'agree')
    .flatMap((i) => i.photos.map((p) => ({ ...p, itemId: i.id })));
}

/** An agreement photo reached the server: its bytes stay on the phone, to be shown offline. */
export async function keepAgreementPhoto(photoId, blob) {
  if (!blob) return;
  await (await db()).put('disputePhotos', blob, photoId);
  emit('disputes');
}

export async function agreementPhotoBlob(photoId) {
  return (await db()).get('disputePhotos', photoId);
}

/**
 * The agreement photos of the disputes on the phone, kept as blobs (their thumb size, fetched
 * with the token) for offline viewing; those of disputes no longer here are dropped.
 */
export async function cacheAgreementPhotos(session) {
  const d = await db();
  const wanted = new Set();
  for (const dispute of await d.getAll('disputes')) {
    for (const p of dispute.agreement_photos || []) {
      wanted.add(p.id);
      if (await d.getKey('disputePhotos', p.id)) continue;
      try {
        const { data } = await request(p.urls.thumb, { token: session.token, as: 'blob',
          timeoutMs: 60000 });
        await d.put('disputePhotos', data, p.id);
        emit('disputes');
      } catch (err) {
        if (err instanceof ApiError && !err.retryable && !err.authExpired) continue;
        throw err;
      }
    }
  }
  const queued = new Set((await d.getAll('outbox')).filter((i) => i.kind === 'dispute_step')
    .flatMap((i) => i.photos.map((p) => p.id)));
  for (const key of await d.getAllKeys('disputePhotos')) {
    if (!wanted.has(key) && !queued.has(key)) await d.delete('disputePhotos', key);
  }
}
