// The command centre's calls: the same API client, with the session's token; files as blobs.
import { request } from '../lib/api.js';
import { zonedIso } from '../lib/zone.js';
import { getState } from '../store.js';

/**
 * The server's vocabulary as GET /api/v1 publishes it (cases/rules.py, hotline/rules.py): the open
 * statuses (what 未结案件 shows), the actions and whether they need a note or a photo, the sources
 * of cases, who may unmask a caller. The command centre waits for it (Command.jsx).
 */
export function vocabulary() {
  const server = getState().server;
  return { openStatuses: server?.cases?.open_statuses || [], actions: server?.cases?.actions || {},
    sources: server?.hotline?.sources || [], unmaskedRoles: server?.hotline?.unmasked_roles || [] };
}

/** Whether the server's rules want a note with this action. */
export function needsNote(action) {
  return !!vocabulary().actions[action]?.note;
}

export function token() {
  return getState().session?.token;
}

/** GET/POST with the bearer token; returns {status, data, headers}. */
export function call(path, opts = {}) {
  return request(path, { token: token(), ...opts });
}

export function pagination(headers) {
  try {
    return JSON.parse(headers.get('X-Pagination') || 'null');
  } catch {
    return null;
  }
}

/**
 * The filters as query parameters. The time range goes to the map's tiles (instants) and to the
 * case exports (days); the case list has no received-time filter.
 */
export function filterQuery(f, { tiles = false, exports = false } = {}) {
  const q = new URLSearchParams();
  // 未结案件 (no status chosen) are the open ones: said explicitly, as /cases lists all by default
  for (const st of (f.status?.length ? f.status : vocabulary().openStatuses)) q.append('status', st);
  if (f.category) q.set('category', f.category);
  if (f.department) q.set('department', f.department);
  if (f.overdue) q.set('overdue', 'true');
  if (f.area) q.set('area', f.area);
  if (f.source) q.set('source', f.source);
  if (tiles) {
    // days in the deployment's zone, with its offset on that day; both days included
    if (f.from) q.set('from', zonedIso(f.from, '00:00:00'));
    if (f.to) q.set('to', zonedIso(f.to, '23:59:59'));
  } else if (exports) {
    if (f.from) q.set('from', f.from);
    if (f.to) q.set('to', f.to);
  }
  return q;
}

/** Downloads an export (bearer header, so not a plain link) and saves it under its name. */
export async function download(path, filename) {
  const { data } = await call(path, { as: 'blob', timeoutMs: 120000 });
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Distinct departments of the categories: [{code, name, name_en}]. */
export function departmentsOf(categories) {
  const seen = new Map();
  for (const c of categories || []) {
    const d = c.department;
    if (d?.code && !seen.has(d.code)) seen.set(d.code, d);
  }
  return [...seen.values()];
}
