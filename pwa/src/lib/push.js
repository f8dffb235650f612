// Push: upload the outbox one item at a time, oldest first. A report goes first, then its photos;
// a case action (a worker's verification, a handler's sign, resolve, return, extension request,
// contact record, exclusion request or appeal)
// sends its photos first, then the action. Every request is idempotent by the ids the phone made.
// A network error or 5xx stops the round (tried again later); a 4xx stops only that item and keeps
// the server's reason; a 401 stops everything (log in again), leaving the outbox as it is.
// Every outbox write goes through outbox.js.
import { ApiError, NetworkError, request } from './api.js';
import { getBlob, listItems, markAccepted, pruneAccepted, putItem, updateItem } from './outbox.js';
import { disputeStepped, keepAgreementPhoto } from './disputes.js';
import { caseActed } from './tasks.js';
import { TUS_MIN_BYTES, putTimeoutMs, uploadResumable } from './upload.js';

const KEEP_ACCEPTED_MS = 3 * 24 * 3600 * 1000;

/** Sends what waits for this user. Returns 'ok', 'offline' (try again later) or 'auth'. */
export async function push(session) {
  await pruneAccepted(KEEP_ACCEPTED_MS);
  const username = session.user.username;
  for (const item of await listItems()) {
    if ((item.state !== 'saved' && item.state !== 'sending') || item.user !== username) continue;
    const result = await sendItem(item, session.token);
    if (result === 'offline' || result === 'auth') return result;
  }
  return 'ok';
}

async function sendItem(item, token) {
  try {
    if (item.kind === 'action') await sendAction(item, token);
    else if (item.kind === 'dispute') await sendDispute(item, token);
    else if (item.kind === 'dispute_step') await sendDisputeStep(item, token);
    else if (item.kind === 'patrol') await sendPatrol(item, token);
    else await sendReport(item, token);
    return 'ok';
  } catch (err) {
    // written onto the item as stored now: a patrol's recorder may have added points meanwhile
    const record = (changes) => updateItem(item.id, (i) => Object.assign(i, { progress: null },
      changes));
    if (err instanceof ApiError && err.authExpired) {
      await record({ state: 'saved' });
      return 'auth';
    }
    if (err instanceof NetworkError || err.retryable || err.later) {
      await record({ state: 'saved', retry: { at: Date.now(), code: err.code || 'network',
        message: err.message, count: (item.retry?.count || 0) + 1 } });
      return 'offline';
    }
    if (err instanceof ApiError) {
      await record({ state: 'rejected', retry: null, error: { status: err.status, code: err.code,
        message: err.message, fields: err.fields, photo: err.photo || null } });
      return 'next';
    }
    throw err;
  }
}

async function sendReport(item, token) {
  const total = item.photos.length;
  if (!item.server) {
    item.state = 'sending';
    item.progress = { photo: 0, of: total };
    await putItem(item);
    const { data } = await request(`reports/${item.id}`, { method: 'PUT', token, json: item.body });
    item.server = { number: data.number, status: data.status, cell: data.cell,
      outside_grid: data.outside_grid, community: data.community };
    await putItem(item);
  }
  await sendPhotos(item, token, `reports/${item.id}/photos`, '', true);
  await markAccepted(item, item.server);
}

/** A dispute (矛盾纠纷): one PUT under the phone's id, no photos. */
async function sendDispute(item, token) {
  item.state = 'sending';
  await putItem(item);
  const { data } = await request(`disputes/${item.id}`, { method: 'PUT', token, json: item.body });
  await markAccepted(item, { number: data.number, status: data.status });
}

/**
 * A step of mediation (受理, 调解, 达成协议, 转交, 回访) taken on the mediator's desk: one POST,
 * idempotent by the item's id (client_step_id); then, for an agreement, the photos of the signed
 * paper (人民调解协议书), each one PUT under its photo id (a resend stores nothing twice), their
 * bytes kept on the phone for viewing offline. The dispute as the server answers replaces the
 * phone's copy.
 */
async function sendDisputeStep(item, token) {
  item.state = 'sending';
  await putItem(item);
  const { dispute_id: id, number, ...step } = item.body;
  const { data } = await request(`disputes/${id}/steps`, { method: 'POST', token,
    json: { ...step, client_step_id: item.id } });
  const total = item.photos.length;
  for (let i = 0; i < total; i += 1) {
    const p = item.photos[i];
    if (p.sent) continue;
    item.progress = { photo: i + 1, of: total };
    await putItem(item);
    const blob = await getBlob(p.id);
    if (!blob) {
      const err = new ApiError(0, { code: 'photo.missing_on_device',
        message: 'The photo is no longer on this phone.' });
      err.photo = i + 1;
      throw err;
    }
    let photo;
    try {
      ({ data: photo } = await request(`disputes/${id}/agreement-photos/${p.id}`, {
        method: 'PUT', token, body: blob, contentType: p.type || blob.type || 'image/jpeg',
        timeoutMs: putTimeoutMs(blob.size) }));
    } catch (err) {
      if (err instanceof ApiError) err.photo = i + 1;
      throw err;
    }
    await keepAgreementPhoto(p.id, blob);
    data.agreement_photos = [...(data.agreement_photos || []).filter((x) => x.id !== photo.id),
      photo];
    p.sent = true;
    await putItem(item);
  }
  await markAccepted(item, { number: data.number ?? number, status: data.status });
  await disputeStepped(data);
}

const TRACK_BATCH = 200;

/**
 * A patrol (按时巡): its start, the points not yet sent in batches (each point under its own id:
 * a batch sent again adds nothing), then its end once it has one. A patrol still recording stays
 * in the outbox ('saved'); the recorder appends to it meanwhile (updateItem: no lost points).
 */
async function sendPatrol(item, token) {
  if (!item.started) {
    await request(`patrols/${item.id}`, { method: 'PUT', token,
      json: { started_at: item.body.started_at } });
    item = await updateItem(item.id, (i) => { i.started = true; });
  }
  for (;;) {
    const sent = item.sentPoints || 0;
    const batch = item.body.points.slice(sent, sent + TRACK_BATCH);
    if (!batch.length) break;
    await request(`patrols/${item.id}/points`, { method: 'POST', token, json: { points: batch } });
    item = await updateItem(item.id, (i) => { i.sentPoints = sent + batch.length; });
  }
  if (!item.body.ended_at) return;
  const { data } = await request(`patrols/${item.id}/end`, { method: 'POST', token,
    json: { ended_at: item.body.ended_at } });
  const done = await updateItem(item.id, () => {});
  await markAccepted(done, { points: data.points, distance_m: data.distance_m,
    cells: data.cells.length });
}

async function sendPhotos(item, token, base, query, reportKind) {
  const total = item.photos.length;
  for (let i = 0; i < total; i += 1) {
    const p = item.photos[i];
    if (p.sent) continue;
    item.state = 'sending';
    item.progress = { photo: i + 1, of: total };
    await putItem(item);
    const blob = await getBlob(p.id);
    if (!blob) {
      const err = new ApiError(0, { code: 'photo.missing_on_device',
        message: 'The photo is no longer on this phone.' });
      err.photo = i + 1;
      throw err;
    }
    try {
      if (blob.size >= TUS_MIN_BYTES) await sendResumable(item, p, blob, token, base, query);
      else {
        await request(`${base}/${p.id}${withExif(query, p.exif)}`, { method: 'PUT', token,
          body: blob, contentType: p.type || blob.type || 'image/jpeg',
          timeoutMs: putTimeoutMs(blob.size) });
      }
    } catch (err) {
      if (err instanceof ApiError) {
        err.photo = i + 1;
        // a photo before its report (should not happen: the report went first): try later
        if (reportKind && err.code === 'report.not_found') err.later = true;
      }
      throw err;
    }
    p.sent = true;
    await putItem(item);
  }
}

/**
 * A large photo by tus: resumed at the upload URL kept with the photo in the outbox item (so a
 * cut upload goes on from the server's offset, also after a reload), or a new upload bound to the
 * report (base: reports/{id}/photos), the photo id, its purpose and EXIF.
 */
async function sendResumable(item, p, blob, token, base, query) {
  const purpose = new URLSearchParams(query.replace(/^\?/, '')).get('purpose') || 'report';
  const metadata = { report_id: base.split('/')[1], photo_id: p.id, purpose,
    content_type: p.type || blob.type || 'image/jpeg' };
  if (p.exif?.taken_at) metadata.exif_taken_at = p.exif.taken_at;
  if (p.exif?.lon != null && p.exif?.lat != null) {
    metadata.exif_lon = String(p.exif.lon);
    metadata.exif_lat = String(p.exif.lat);
  }
  const progress = item.progress;
  await uploadResumable({ blob, token, metadata, url: p.upload || null,
    onUrl: (url) => {
      p.upload = url;
      return putItem(item);
    },
    // the screen shows the bytes the server holds, and says so when a stall is being resumed
    onProgress: ({ acked, size, stalled }) => {
      item.progress = { ...progress, acked, size, stalled };
      putItem(item).catch(() => {});
    } });
  p.upload = null;
}

/** The query with the photo's EXIF as read on the phone (the server keeps it as evidence). */
export function withExif(query, exif) {
  if (!exif) return query;
  const q = new URLSearchParams(query.replace(/^\?/, ''));
  if (exif.taken_at) q.set('exif_taken_at', exif.taken_at);
  if (exif.lon != null && exif.lat != null) {
    q.set('exif_lon', String(exif.lon));
    q.set('exif_lat', String(exif.lat));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function sendAction(item, token) {
  // photos first (evidence of the case, with their purpose), then the action, idempotent by the
  // item's id (client_action_id)
  const b = item.body;
  await sendPhotos(item, token, `reports/${b.case_id}/photos`,
    `?purpose=${b.purpose || 'verification'}`, false);
  item.state = 'sending';
  item.progress = { photo: item.photos.length, of: item.photos.length, action: true };
  await putItem(item);
  const json = { action: b.action, client_action_id: item.id, note: b.note || '' };
  if (item.photos.length) json.photo_ids = item.photos.map((p) => p.id);
  if (b.location) json.location = b.location;
  if (b.reason) json.reason = b.reason;
  if (b.extension) json.extension = b.extension;
  if (b.reason_kind) json.reason_kind = b.reason_kind;
  if (b.review_on) json.review_on = b.review_on;
  if (b.notice_id) json.notice_id = b.notice_id;
  // 先行联系, 不合理诉求 and 申诉: their records
  if (b.contact) json.contact = b.contact;
  if (b.exclusion) json.exclusion = b.exclusion;
  if (b.appeal) json.appeal = b.appeal;
  const { data } = await request(`cases/${b.case_id}/actions`, { method: 'POST', token, json });
  await markAccepted(item, { number: data?.number, status: data?.status });
  await caseActed(b.case_id, data);
}
