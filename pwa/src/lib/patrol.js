// 按时巡: the patrol being recorded. Nothing is recorded outside a patrol. While one runs, the
// phone's position is watched and a point kept whenever it moved MOVE_M or STILL_MS passed (a
// point every few metres when walking, few when still), appended to the patrol's outbox item
// (kind 'patrol'), which the sync rounds send in batches (push.js) — offline like everything
// else. The running patrol's id is kept in IndexedDB, so recording resumes after a reload or a
// restart of the app.
import { kvDel, kvGet, kvSet } from './db.js';
import { emit } from './events.js';
import { distanceM, watchPosition } from './geo.js';
import { isoWithOffset, uuid } from './ids.js';
import { addItem, getItem, updateItem } from './outbox.js';

export const MOVE_M = 10;
export const STILL_MS = 30 * 1000;
// a fix worse than this is no track point (a network position in a lift)
export const MAX_ACCURACY_M = 100;

let stopWatch = null;
let last = null; // the last point kept: {lon, lat, t}

function keep(patrolId, fix) {
  const t = fix.at || Date.now();
  if (fix.accuracy_m > MAX_ACCURACY_M) return;
  if (last && distanceM(last, fix) < MOVE_M && t - last.t < STILL_MS) return;
  last = { lon: fix.lon, lat: fix.lat, t };
  const point = { id: uuid(), recorded_at: isoWithOffset(new Date(t)), lon: fix.lon, lat: fix.lat,
    accuracy_m: fix.accuracy_m };
  updateItem(patrolId, (item) => {
    if (!item.body.ended_at) item.body.points.push(point);
  }).then(() => emit('patrol', { id: patrolId }));
}

function watch(patrolId) {
  if (stopWatch) stopWatch();
  last = null;
  stopWatch = watchPosition((fix) => keep(patrolId, fix), () => {});
}

/** The running patrol's outbox item for this user, or null. */
export async function runningPatrol(username) {
  const id = await kvGet('patrol');
  const item = id ? await getItem(id) : null;
  return item && item.user === username && !item.body.ended_at ? item : null;
}

/** Starts a patrol: its item in the outbox, its id kept, the position watched. */
export async function startPatrol(username) {
  const item = await addItem({ id: uuid(), kind: 'patrol', user: username, photos: [],
    body: { started_at: isoWithOffset(new Date()), points: [], ended_at: null } });
  await kvSet('patrol', item.id);
  watch(item.id);
  emit('patrol', { id: item.id });
  return item;
}

/** Ends the running patrol: no more points; the next sync round sends its end. */
export async function stopPatrol(username) {
  const item = await runningPatrol(username);
  if (stopWatch) stopWatch();
  stopWatch = null;
  await kvDel('patrol');
  if (item) {
    await updateItem(item.id, (i) => { i.body.ended_at = isoWithOffset(new Date()); });
    emit('patrol', { id: item.id });
  }
}

/** After a reload: the patrol that was running records again. */
export async function resumePatrol(username) {
  const item = await runningPatrol(username);
  if (item && !stopWatch) watch(item.id);
  return item;
}
