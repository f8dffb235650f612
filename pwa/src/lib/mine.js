// "My reports" on the worker's map: the reports in the outbox not yet on the server (waiting to
// send, or refused) and the records the server returned (lib/pull.js), one mark each, grouped by
// where the case stands. Pure: unit-tested, drawn by screens/MapView.jsx.

/** The legend's groups, in the order of the loop: the outbox first, then the case's life. */
export const GROUPS = ['waiting', 'refused', 'reported', 'accepted', 'handling', 'resolved', 'closed',
  'void'];

// a case status → its group (处置中: dispatched to a department, or handed back by it)
const OF_STATUS = { reported: 'reported', accepted: 'accepted', dispatched: 'handling',
  returned: 'handling', suspended: 'handling', resolved: 'resolved', closed: 'closed', rejected: 'void', duplicate: 'void' };

/** Fill and ring of each group: outbox items hollow with a dashed ring, cases filled. */
export const STYLE = {
  waiting: { fill: '#ffffff', ring: '#b35c00', dashed: true },
  refused: { fill: '#ffffff', ring: '#c62828', dashed: true },
  reported: { fill: '#0b5cad', ring: '#ffffff' },
  accepted: { fill: '#6a1b9a', ring: '#ffffff' },
  handling: { fill: '#ef6c00', ring: '#ffffff' },
  resolved: { fill: '#2e7d32', ring: '#ffffff' },
  closed: { fill: '#37474f', ring: '#ffffff' },
  void: { fill: '#9e9e9e', ring: '#ffffff' },
};

export function groupOfStatus(status) {
  return OF_STATUS[status] || 'reported';
}

/**
 * The marks of my reports: [{id, lat, lon, group, status, number, category}], the server's record
 * where it has one (its status is newer than the outbox's answer), else the outbox item (only
 * reports captured by `user`). Items and reports without a position are left out.
 */
export function myReportMarks(reports, items, user) {
  const out = [];
  const known = new Set();
  for (const r of reports) {
    known.add(r.id);
    if (!r.location) continue;
    out.push({ id: r.id, lat: r.location.lat, lon: r.location.lon, group: groupOfStatus(r.status),
      status: r.status, number: r.number, category: r.category });
  }
  for (const i of items) {
    if (i.kind !== 'report' || i.user !== user || known.has(i.id) || !i.body?.location) continue;
    let group = 'waiting';
    let status = null;
    if (i.state === 'rejected') group = 'refused';
    else if (i.state === 'accepted') {
      status = i.server?.status || 'reported';
      group = groupOfStatus(status);
    }
    out.push({ id: i.id, lat: i.body.location.lat, lon: i.body.location.lon, group, status,
      number: i.server?.number ?? null, category: i.body.category });
  }
  return out;
}

/** How many marks in each group: {group: n}, only the groups that have any, in GROUPS order. */
export function countByGroup(marks) {
  const n = {};
  for (const g of GROUPS) {
    const k = marks.filter((m) => m.group === g).length;
    if (k) n[g] = k;
  }
  return n;
}
