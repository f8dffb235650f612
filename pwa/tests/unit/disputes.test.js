// The mediator's desk as the phone knows it: the steps still in the outbox count as taken, the
// desk's groups follow the work, each dispute waits on one deadline; the disputes store is
// replaced whole by a pull and updated by a step's answer.
import { describe, expect, it } from 'vitest';
import { disputeStepped, groupDisputes, isOverdue, listDisputes, localDispute, nextDue,
  queuedAgreementPhotos, storeDisputes } from '../../src/lib/disputes.js';

const d = (id, status, extra = {}) => ({ id, number: id.length, status, allowed_steps: ['x'],
  received_at: '2026-03-01T00:00:00Z', accept_due_at: '2026-03-02T00:00:00Z',
  resolve_due_at: '2026-04-01T00:00:00Z', follow_up_due_at: '2026-04-15T00:00:00Z', ...extra });
const step = (disputeId, name, state = 'saved') => ({ id: `${disputeId}-${name}`,
  kind: 'dispute_step', state, body: { dispute_id: disputeId, step: name } });

describe('the mediator desk', () => {
  it('counts the queued steps as taken, in order', () => {
    const x = localDispute(d('a', 'reported'), [step('a', 'accept'), step('a', 'hold_session'),
      step('b', 'accept'), step('a', 'agree', 'accepted'), step('a', 'transfer', 'rejected')]);
    expect(x.status).toBe('mediating');
    expect(x.allowed_steps).toEqual(['hold_session', 'agree', 'transfer']);
    expect(x.queued.map((i) => i.body.step)).toEqual(['accept', 'hold_session']);
  });

  it('shows the agreement photos still waiting with their step, not those of other steps', () => {
    const agree = { ...step('a', 'agree'), photos: [{ id: 'p1' }, { id: 'p2' }] };
    const sent = { ...step('a', 'agree', 'accepted'), id: 'old', photos: [{ id: 'p0' }] };
    const other = { ...step('b', 'agree'), photos: [{ id: 'q1' }] };
    expect(queuedAgreementPhotos(d('a', 'mediating'), [sent, agree, other])
      .map((p) => [p.id, p.itemId])).toEqual([['p1', 'a-agree'], ['p2', 'a-agree']]);
  });

  it('offers no step on a dispute the server gives the caller none of (the reporter)', () => {
    expect(localDispute(d('a', 'reported', { allowed_steps: [] }), []).allowed_steps).toEqual([]);
  });

  it('groups by the step each waits on, soonest deadline first, the done ones newest first', () => {
    const rows = [d('a', 'mediating', { resolve_due_at: '2026-04-03T00:00:00Z' }),
      d('bb', 'reported'), d('ccc', 'accepted'), d('dddd', 'agreed'),
      d('eeeee', 'closed', { received_at: '2026-01-01T00:00:00Z' }),
      d('ffffff', 'transferred', { received_at: '2026-02-01T00:00:00Z' })];
    expect(groupDisputes(rows).map(([g, list]) => [g, list.map((x) => x.id)])).toEqual([
      ['to_accept', ['bb']], ['mediating', ['ccc', 'a']], ['to_follow_up', ['dddd']],
      ['done', ['ffffff', 'eeeee']]]);
  });

  it('waits on the deadline of its step; overdue once it passed', () => {
    expect(['reported', 'accepted', 'agreed', 'closed'].map((s) => nextDue(d('a', s)))).toEqual([
      '2026-03-02T00:00:00Z', '2026-04-01T00:00:00Z', '2026-04-15T00:00:00Z', null]);
    expect(isOverdue(d('a', 'reported'), Date.parse('2026-03-02T00:00:01Z'))).toBe(true);
    expect(isOverdue(d('a', 'reported'), Date.parse('2026-03-01T23:59:59Z'))).toBe(false);
    expect(isOverdue(d('a', 'closed'), Date.parse('2027-01-01T00:00:00Z'))).toBe(false);
  });

  it('keeps what a pull listed, and a step answer replaces its dispute', async () => {
    await storeDisputes([d('a', 'reported'), d('bb', 'agreed')]);
    await storeDisputes([d('a', 'reported')]); // bb left the mediator's sight
    await disputeStepped(d('a', 'accepted'));
    expect((await listDisputes()).map((x) => [x.id, x.status])).toEqual([['a', 'accepted']]);
  });
});
