// Pull: what the phone needs offline, fetched from the server after the outbox went out: the
// deployment's name and time zone, the categories, the scope's cells, my reports (changes since
// the last pull), my tasks and their photos, the disputes I reported or mediate. Each part keeps a mark in kv ("pullMarks") so a round fetches only what is stale.
import { ApiError, request } from './api.js';
import { db, kvGet, kvSet } from './db.js';
import { emit } from './events.js';
import { DISPUTE_ROLES, cacheAgreementPhotos, storeDisputes } from './disputes.js';
import { storeTasks } from './tasks.js';

const SERVER_MAX_AGE_MS = 6 * 3600 * 1000;
// bumped when more of GET /api/v1 is kept: a phone that kept less asks again at once
const SERVER_SHAPE = 2;
const CATEGORIES_MAX_AGE_MS = 6 * 3600 * 1000;
const CELLS_MAX_AGE_MS = 24 * 3600 * 1000;
const TASKS_FULL_EVERY_MS = 15 * 60 * 1000;

/**
 * One pull. Returns true when something was not ready on the server yet (a task photo's sizes
 * still being made): worth another round soon. Throws ApiError / NetworkError like request().
 */
export async function pull(session) {
  const now = Date.now();
  const marks = await kvGet('pullMarks', {});
  if (!marks.serverAt || now - marks.serverAt > SERVER_MAX_AGE_MS || marks.serverShape !== SERVER_SHAPE) {
    await pullServer();
    marks.serverShape = SERVER_SHAPE;
    marks.serverAt = now;
    await kvSet('pullMarks', marks);
  }
  if (!marks.categoriesAt || now - marks.categoriesAt > CATEGORIES_MAX_AGE_MS) {
    const { data } = await request('categories', { token: session.token });
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
  if (DISPUTE_ROLES.has(session.user.role)) await pullDisputes(session);
  // a mediator's work is the disputes: no cases, no tasks
  if (session.user.role === 'mediator') return false;
  await pullReports(session, marks);
  return pullTasks(session, marks);
}

const DISPUTE_PAGES = 5; // 1,000 disputes: a community's years

/**
 * The disputes the server shows me (a worker: those I reported; a mediator: also every one of
 * the area I mediate, each with its trail), the store replaced: a dispute that left my sight
 * leaves the phone. Small enough to fetch whole each round.
 */
async function pullDisputes(session) {
  const steps = session.user.role === 'mediator';
  const all = [];
  for (let page = 1; page <= DISPUTE_PAGES; page += 1) {
    const q = new URLSearchParams({ page_size: '200', page: String(page) });
    if (steps) q.set('steps', 'true');
    const { data, headers } = await request(`disputes?${q}`, { token: session.token });
    all.push(...data);
    const pg = parsePagination(headers);
    if (!pg || !pg.next_page || data.length === 0) break;
  }
  await storeDisputes(all);
  await cacheAgreementPhotos(session);
}

/**
 * The deployment as GET /api/v1 (no token) tells it (kv "server", so it holds offline): its name
 * and time zone, the evidence flags' limits, the limits the server enforces (limits), how it runs
 * cases and their vocabulary (cases: actions needing a note or a photo, the open statuses), the
 * hotline's (sources, who may unmask a caller), the base map.
 */
export async function pullServer() {
  const { data } = await request('/api/v1');
  const before = await kvGet('server', null);
  const server = { name: data?.name || null, version: data?.version || null,
    timezone: data?.timezone || null, evidence: data?.evidence || null,
    limits: data?.limits || null, basemap: data?.basemap || null, cases: data?.cases || null,
    hotline: data?.hotline || null };
  await kvSet('server', server);
  if (JSON.stringify(before) !== JSON.stringify(server)) emit('server');
}

/** The worker's scope cells, to find the cell offline (the server's answer stays the authority). */
async function pullCells(session) {
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
  const full = marks.tasksUser !== session.user.username || !marks.tasksSince ||
    !marks.tasksFullAt || Date.now() - marks.tasksFullAt > TASKS_FULL_EVERY_MS;
  // /me/tasks answers every waiting case (up to 500, by due time) in one page
  const q = new URLSearchParams();
  if (!full) q.set('updated_since', marks.tasksSince);
  const resp = await request(`me/tasks${full ? '' : `?${q}`}`, { token: session.token });
  const tasks = Array.isArray(resp.data) ? resp.data : [];
  const newest = await storeTasks(tasks, { full, role: session.user.role,
    since: full ? null : marks.tasksSince });
  marks.tasksSince = newest || marks.tasksSince || null;
  marks.tasksUser = session.user.username;
  if (full) marks.tasksFullAt = Date.now();
  await kvSet('pullMarks', marks);
  return cacheTaskPhotos(session);
}

/**
 * The photos a task needs, kept as blobs for offline viewing (fetched with the token).
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
