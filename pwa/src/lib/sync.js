// Sync: push the outbox one item at a time (a report, then its photos), then pull what the
// worker needs offline (categories, the scope's cells, my reports, my verification tasks).
//
// Runs in the page (start, online, visible, timer, manual tap) and in the service worker
// (Background Sync); a Web Lock keeps the two from running at once. Every request is idempotent
// by the ids the phone made, so a retry after any failure can never duplicate anything.
// A network error or 5xx stops the round and backs off; a 4xx stops only that item and keeps the
// server's reason; a 401 (token expired or revoked) stops everything and asks for a login,
// leaving the outbox as it is.
import { ApiError, NetworkError, request } from './api.js';
import { db, kvGet, kvSet } from './db.js';
import { emit } from './events.js';
import { getBlob, listItems, putItem } from './outbox.js';

const BACKOFF_S = [5, 15, 30, 60, 120, 300];
const CATEGORIES_MAX_AGE_MS = 6 * 3600 * 1000;
const CELLS_MAX_AGE_MS = 24 * 3600 * 1000;
const TASKS_FULL_EVERY_MS = 15 * 60 * 1000;
const KEEP_ACCEPTED_MS = 3 * 24 * 3600 * 1000;
const VERIFY_ACTIONS = ['verify_pass', 'verify_fail'];
// a department handler's desk (处置部门): what they may do with a case dispatched to them
export const HANDLER_ACTIONS = ['sign', 'resolve', 'return', 'request_extension'];

let running = null;

/**
 * One sync round. force: ignore the back-off (a manual tap, the network came back).
 * Returns {outcome: 'ok'|'offline'|'auth'|'no-session'|'backoff', ...}.
 */
export function runSync({ force = false, pull = true, reason = '' } = {}) {
  if (globalThis.navigator?.locks?.request) {
    return navigator.locks.request('gridsnap-sync', () => syncRound({ force, pull, reason }));
  }
  if (!running) running = syncRound({ force, pull, reason }).finally(() => { running = null; });
  return running;
}

async function syncRound({ force, pull, reason }) {
  const session = await kvGet('session');
  if (!session?.token) return { outcome: 'no-session' };
  if (session.expired) return { outcome: 'auth' };
  const state = await kvGet('syncState', { failures: 0, nextAt: 0 });
  if (!force && state.nextAt > Date.now()) return { outcome: 'backoff', nextAt: state.nextAt };
  emit('sync', { running: true, reason });
  let outcome = 'ok';
  let message = null;
  let again = false; // something was not ready on the server (a photo's sizes): look again soon
  try {
    outcome = await push(session);
    if (outcome === 'ok' && pull) again = await pullAll(session);
  } catch (err) {
    if (err instanceof ApiError && err.authExpired) outcome = 'auth';
    else if (err instanceof NetworkError || err?.retryable) outcome = 'offline';
    else outcome = 'error';
    message = err?.message || String(err);
    if (outcome === 'error') console.error('gridsnap sync', err);
  }
  if (outcome === 'auth') {
    await kvSet('session', { ...session, expired: true });
    emit('auth-expired');
  }
  const failures = outcome === 'offline' || outcome === 'error' ? state.failures + 1 : 0;
  const delay = failures ? BACKOFF_S[Math.min(failures, BACKOFF_S.length) - 1] * 1000 : 0;
  const next = { failures, nextAt: failures ? Date.now() + delay * (0.8 + Math.random() * 0.4) : 0 };
  await kvSet('syncState', next);
  const last = { at: Date.now(), outcome, message, nextAt: next.nextAt };
  if (outcome === 'ok') last.okAt = last.at;
  else last.okAt = (await kvGet('lastSync', {}))?.okAt || null;
  await kvSet('lastSync', last);
  emit('sync', { running: false, outcome });
  return { outcome, nextAt: next.nextAt, again };
}

// ---- push -------------------------------------------------------------------------------------

async function push(session) {
  const items = await listItems();
  const username = session.user.username;
  for (const item of items) {
    if (item.state === 'accepted' && Date.now() - (item.acceptedAt || 0) > KEEP_ACCEPTED_MS) {
      await (await db()).delete('outbox', item.id); // its photos went with it when accepted
      continue;
    }
    if ((item.state !== 'saved' && item.state !== 'sending') || item.user !== username) continue;
    const result = await sendItem(item, session.token);
    if (result === 'offline' || result === 'auth') return result;
  }
  return 'ok';
}

async function sendItem(item, token) {
  try {
    if (item.kind === 'verification') await sendVerification(item, token);
    else await sendReport(item, token);
    return 'ok';
  } catch (err) {
    item.progress = null;
    if (err instanceof ApiError && err.authExpired) {
      item.state = 'saved';
      await save(item);
      return 'auth';
    }
    if (err instanceof NetworkError || err.retryable || err.later) {
      item.state = 'saved';
      item.retry = { at: Date.now(), code: err.code || 'network', message: err.message,
        count: (item.retry?.count || 0) + 1 };
      await save(item);
      return 'offline';
    }
    if (err instanceof ApiError) {
      item.state = 'rejected';
      item.retry = null;
      item.error = { status: err.status, code: err.code, message: err.message,
        fields: err.fields, photo: err.photo || null };
      await save(item);
      return 'next';
    }
    throw err;
  }
}

async function save(item) {
  await putItem(item);
  emit('outbox', { id: item.id });
}

async function sendReport(item, token) {
  const total = item.photos.length;
  if (!item.server) {
    item.state = 'sending';
    item.progress = { photo: 0, of: total };
    await save(item);
    const { data } = await request(`reports/${item.id}`, { method: 'PUT', token, json: item.body });
    item.server = { number: data.number, status: data.status, cell: data.cell,
      outside_grid: data.outside_grid, community: data.community };
    await save(item);
  }
  await sendPhotos(item, token, `reports/${item.id}/photos`, '', true);
  item.state = 'accepted';
  item.progress = null;
  item.retry = null;
  item.acceptedAt = Date.now();
  await finish(item);
}

async function sendPhotos(item, token, base, query, reportKind) {
  const total = item.photos.length;
  for (let i = 0; i < total; i += 1) {
    const p = item.photos[i];
    if (p.sent) continue;
    item.state = 'sending';
    item.progress = { photo: i + 1, of: total };
    await save(item);
    const blob = await getBlob(p.id);
    if (!blob) {
      const err = new ApiError(0, { code: 'photo.missing_on_device',
        message: 'The photo is no longer on this phone.' });
      err.photo = i + 1;
      throw err;
    }
    try {
      await request(`${base}/${p.id}${query}`, { method: 'PUT', token, body: blob,
        contentType: p.type || blob.type || 'image/jpeg', timeoutMs: 30000 + blob.size / 4 });
    } catch (err) {
      if (err instanceof ApiError) {
        err.photo = i + 1;
        // a photo before its report (should not happen: the report went first): try later
        if (reportKind && err.code === 'report.not_found') err.later = true;
      }
      throw err;
    }
    p.sent = true;
    await save(item);
  }
}

async function sendVerification(item, token) {
  // a case action queued on the phone: the worker's verification, or a handler's sign, resolve,
  // return or extension request (photos first, then the action, idempotent by the item's id)
  const b = item.body;
  await sendPhotos(item, token, `reports/${b.case_id}/photos`,
    `?purpose=${b.purpose || 'verification'}`, false);
  item.state = 'sending';
  item.progress = { photo: item.photos.length, of: item.photos.length, action: true };
  await save(item);
  const json = { action: b.action, client_action_id: item.id, note: b.note || '' };
  if (item.photos.length) json.photo_ids = item.photos.map((p) => p.id);
  if (b.location) json.location = b.location;
  if (b.reason) json.reason = b.reason;
  if (b.extension) json.extension = b.extension;
  const { data } = await request(`cases/${b.case_id}/actions`, { method: 'POST', token, json });
  item.server = { number: data?.number, status: data?.status };
  item.state = 'accepted';
  item.progress = null;
  item.retry = null;
  item.acceptedAt = Date.now();
  // the case as the server now has it: still on my desk (signed) or gone from it
  if (data && (data.allowed_actions || []).some((a) => HANDLER_ACTIONS.includes(a)) &&
      data.status === 'dispatched') await (await db()).put('tasks', data);
  else await (await db()).delete('tasks', b.case_id);
  await finish(item);
  emit('tasks');
}

/** The server has the item and every photo: only now its bytes leave the phone. */
async function finish(item) {
  const tx = (await db()).transaction(['outbox', 'blobs'], 'readwrite');
  for (const p of item.photos) tx.objectStore('blobs').delete(p.id);
  item.updatedAt = Date.now();
  tx.objectStore('outbox').put(item);
  await tx.done;
  emit('outbox', { id: item.id });
}

// ---- pull -------------------------------------------------------------------------------------

async function pullAll(session) {
  const token = session.token;
  const now = Date.now();
  const marks = await kvGet('pullMarks', {});
  if (!marks.categoriesAt || now - marks.categoriesAt > CATEGORIES_MAX_AGE_MS) {
    const { data } = await request('categories', { token });
    await kvSet('categories', data);
    marks.categoriesAt = now;
    await kvSet('pullMarks', marks);
    emit('categories');
  }
  if (!marks.cellsAt || now - marks.cellsAt > CELLS_MAX_AGE_MS ||
      marks.cellsUser !== session.user.username) {
    await pullCells(session);
    marks.cellsAt = now;
    marks.cellsUser = session.user.username;
    await kvSet('pullMarks', marks);
    emit('cells');
  }
  await pullReports(session, marks);
  return pullTasks(session, marks);
}

/** The worker's scope cells, to find the cell offline (the server's answer stays the authority). */
export async function pullCells(session) {
  const features = [];
  let tooMany = false;
  for (const prefix of session.user.scopes || []) {
    if (!prefix) { tooMany = true; continue; } // the whole city: too many to carry
    try {
      const { data } = await request(`cells?prefix=${encodeURIComponent(prefix)}`,
        { token: session.token, timeoutMs: 60000 });
      features.push(...data.features);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'grid.bbox_too_large') tooMany = true;
      else throw err;
    }
  }
  const tx = (await db()).transaction('cells', 'readwrite');
  await tx.store.clear();
  for (const f of features) {
    tx.store.put({ code: f.properties.code, name: f.properties.name,
      name_en: f.properties.name_en, parent_code: f.properties.parent_code,
      geometry: f.geometry });
  }
  await tx.done;
  await kvSet('cellsNote', tooMany ? 'too_many' : null);
}

async function pullReports(session, marks) {
  const since = marks.reportsUser === session.user.username ? marks.reportsSince : null;
  let maxUpdated = since;
  const d = await db();
  if (!since) await d.clear('reports');
  for (let page = 1; page <= 50; page += 1) {
    const q = new URLSearchParams({ page_size: '100', page: String(page) });
    if (since) q.set('updated_since', since);
    const { data, headers } = await request(`reports?${q}`, { token: session.token });
    const tx = d.transaction('reports', 'readwrite');
    for (const r of data) {
      tx.store.put(r);
      if (!maxUpdated || Date.parse(r.updated_at) > Date.parse(maxUpdated)) maxUpdated = r.updated_at;
    }
    await tx.done;
    const pg = parsePagination(headers);
    // without updated_since the list is newest first: the first pages are what the phone needs
    if (!since && page >= 2) break;
    if (!pg || !pg.next_page || data.length === 0) break;
  }
  marks.reportsSince = maxUpdated;
  marks.reportsUser = session.user.username;
  await kvSet('pullMarks', marks);
  emit('reports');
}

function parsePagination(headers) {
  try {
    return JSON.parse(headers.get('X-Pagination') || 'null');
  } catch {
    return null;
  }
}

async function pullTasks(session, marks) {
  const d = await db();
  const full = marks.tasksUser !== session.user.username || !marks.tasksSince ||
    !marks.tasksFullAt || Date.now() - marks.tasksFullAt > TASKS_FULL_EVERY_MS;
  const q = new URLSearchParams({ page_size: '100' });
  if (!full) q.set('updated_since', marks.tasksSince);
  let tasks = [];
  let maxUpdated = full ? null : marks.tasksSince;
  for (let page = 1; page <= 20; page += 1) {
    q.set('page', String(page));
    let resp;
    try {
      resp = await request(`me/tasks?${q}`, { token: session.token });
    } catch (err) {
      // a server without the case workflow yet: no tasks, nothing wrong
      if (err instanceof ApiError && err.status === 404 && err.code === 'request.not_found') return false;
      throw err;
    }
    const list = Array.isArray(resp.data) ? resp.data : resp.data?.items || [];
    tasks = tasks.concat(list);
    const pg = parsePagination(resp.headers);
    if (!pg || !pg.next_page || list.length === 0) break;
  }
  const tx = d.transaction('tasks', 'readwrite');
  if (full) await tx.store.clear();
  for (const t of tasks) {
    const stamp = t.updated_at || t.received_at;
    if (stamp && (!maxUpdated || Date.parse(stamp) > Date.parse(maxUpdated))) maxUpdated = stamp;
    const wanted = session.user.role === 'handler' ? HANDLER_ACTIONS : VERIFY_ACTIONS;
    const waiting = !t.allowed_actions || t.allowed_actions.some((a) => wanted.includes(a));
    if (waiting) tx.store.put(t);
    else tx.store.delete(t.id);
  }
  await tx.done;
  marks.tasksSince = maxUpdated || marks.tasksSince || null;
  marks.tasksUser = session.user.username;
  if (full) marks.tasksFullAt = Date.now();
  await kvSet('pullMarks', marks);
  emit('tasks');
  return cacheTaskPhotos(session);
}

/**
 * The photos a verification needs, kept as blobs for offline viewing (fetched with the token).
 * Returns true when some were not ready yet (409 photo.not_ready while the sizes are made).
 */
async function cacheTaskPhotos(session) {
  const d = await db();
  let notReady = false;
  const tasks = await d.getAll('tasks');
  const wanted = new Set();
  for (const t of tasks) {
    for (const p of t.photos || []) {
      for (const size of ['thumb', 'display']) {
        const key = `${p.id}:${size}`;
        wanted.add(key);
        if (await d.getKey('taskPhotos', key)) continue;
        const url = p.urls?.[size] || `/api/v1/photos/${p.id}?size=${size}`;
        try {
          const { data } = await request(url, { token: session.token, as: 'blob', timeoutMs: 60000 });
          await d.put('taskPhotos', data, key);
          emit('task-photo', { key });
        } catch (err) {
          if (err instanceof ApiError && !err.retryable && !err.authExpired) {
            notReady = notReady || err.code === 'photo.not_ready';
            continue;
          }
          throw err;
        }
      }
    }
  }
  for (const key of await d.getAllKeys('taskPhotos')) {
    if (!wanted.has(key)) await d.delete('taskPhotos', key);
  }
  return notReady;
}
