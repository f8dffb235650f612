// "My reports" on the map: the server's record wins over the outbox item, the outbox's waiting and
// refused reports are marks of their own, others' items and actions are not mine.
import { describe, expect, it } from 'vitest';
import { countByGroup, groupOfStatus, myReportMarks } from '../../src/lib/mine.js';

const at = { lon: 116.4, lat: 39.9 };
const report = (id, status, number) => ({ id, status, number, category: 'E0101', location: at });
const item = (id, state, extra = {}) => ({ id, kind: 'report', user: 'wang', state,
  body: { category: 'E0101', location: at }, ...extra });

describe('my reports on the map', () => {
  it('groups the case statuses as the legend does', () => {
    expect(['reported', 'accepted', 'dispatched', 'returned', 'resolved', 'closed', 'rejected',
      'duplicate', 'unknown'].map(groupOfStatus)).toEqual(['reported', 'accepted', 'handling',
      'handling', 'resolved', 'closed', 'void', 'void', 'reported']);
  });

  it('shows each report once: the server record, else the outbox item', () => {
    const marks = myReportMarks(
      [report('a', 'dispatched', 1), report('b', 'closed', 2)],
      [item('a', 'accepted', { server: { number: 1, status: 'reported' } }),
        item('c', 'saved'), item('d', 'sending'), item('e', 'rejected'),
        item('f', 'accepted', { server: { number: 3, status: 'reported' } }),
        item('g', 'saved', { user: 'li' }),
        { id: 'h', kind: 'action', user: 'wang', state: 'saved', body: { location: at } },
        item('i', 'saved', { body: { category: 'E0101', location: null } })],
      'wang');
    expect(marks.map((m) => [m.id, m.group])).toEqual([['a', 'handling'], ['b', 'closed'],
      ['c', 'waiting'], ['d', 'waiting'], ['e', 'refused'], ['f', 'reported']]);
    expect(marks.find((m) => m.id === 'f').number).toBe(3);
    expect(countByGroup(marks)).toEqual({ waiting: 2, refused: 1, reported: 1, handling: 1, closed: 1 });
    expect(Object.keys(countByGroup(marks))).toEqual(['waiting', 'refused', 'reported', 'handling', 'closed']);
  });
});
