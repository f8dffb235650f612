// The cases waiting for me, kept on the phone for offline days: the worker's verifications (核查)
// or the handler's desk (处置部门). The one writer of the "tasks" store.
import { db } from './db.js';
import { emit } from './events.js';

const VERIFY_ACTIONS = ['verify_pass', 'verify_fail'];
/** What a department handler may do with a case dispatched to them. */
export const HANDLER_ACTIONS = ['sign', 'resolve', 'return', 'request_extension',
  'request_suspension',
  // 吹哨报到: a summoned department reports in, a co-department feeds back; 督办: a reply
  'report_in', 'joint_feedback', 'reply_notice'];

/** A dispatched case whose 挂账 request waits for the command centre: it stays on the desk. */
function awaitsSuspension(task) {
  return task.status === 'dispatched' && task.suspension?.status === 'pending';
}

/** True when the case still waits for this role (a server without allowed_actions: keep it). */
export function waitsFor(task, role) {
  const wanted = role === 'handler' ? HANDLER_ACTIONS : VERIFY_ACTIONS;
  return !task.allowed_actions || task.allowed_actions.some((a) => wanted.includes(a)) ||
    (role === 'handler' && awaitsSuspension(task));
}

/**
 * Stores what the server listed: all of my tasks (full: the store is replaced) or those changed
 * since the last pull (the ones no longer waiting for me leave). Returns the newest change stamp.
 */
export async function storeTasks(tasks, { full, role, since = null }) {
  let newest = since;
  const tx = (await db()).transaction('tasks', 'readwrite');
  if (full) await tx.store.clear();
  for (const t of tasks) {
    const stamp = t.updated_at || t.received_at;
    if (stamp && (!newest || Date.parse(stamp) > Date.parse(newest))) newest = stamp;
    if (waitsFor(t, role)) tx.store.put(t);
    else tx.store.delete(t.id);
  }
  await tx.done;
  emit('tasks');
  return newest;
}

/**
 * A case action from this phone reached the server (data: the case as it now is): the case stays
 * on the desk while the handler still has something to do (signed, not yet resolved), else leaves.
 */
export async function caseActed(caseId, data) {
  const d = await db();
  if (data && data.status === 'dispatched' &&
      ((data.allowed_actions || []).some((a) => HANDLER_ACTIONS.includes(a)) ||
       awaitsSuspension(data))) await d.put('tasks', data);
  else await d.delete('tasks', caseId);
  emit('tasks');
}
