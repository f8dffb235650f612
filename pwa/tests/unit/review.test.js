// 退单审核 and 挂账 on the phone: a case whose 挂账 request waits for the command centre stays on
// the handler's desk; a suspended case leaves it; review dates are days of the deployment's zone.
import { describe, expect, it } from 'vitest';
import { groupOfStatus } from '../../src/lib/mine.js';
import { waitsFor } from '../../src/lib/tasks.js';
import { addDays, dayOf } from '../../src/lib/zone.js';

describe('the handler desk and 挂账', () => {
  it('keeps a dispatched case whose 挂账 request is pending, drops a suspended one', () => {
    const asked = { status: 'dispatched', allowed_actions: [], suspension: { status: 'pending' } };
    const suspended = { status: 'suspended', allowed_actions: [],
      suspension: { status: 'approved' } };
    expect(waitsFor(asked, 'handler')).toBe(true);
    expect(waitsFor(suspended, 'handler')).toBe(false);
    expect(waitsFor({ status: 'dispatched', allowed_actions: ['request_suspension'] }, 'handler'))
      .toBe(true);
  });

  it('shows a suspended report of mine as still being handled', () => {
    expect(groupOfStatus('suspended')).toBe('handling');
  });
});

describe('review dates', () => {
  it('are the day in the deployment zone, not the device', () => {
    // 2026-11-19 16:30 UTC is already the 20th in Beijing
    expect(dayOf(Date.UTC(2026, 10, 19, 16, 30), 'Asia/Shanghai')).toBe('2026-11-20');
    expect(dayOf(Date.UTC(2026, 10, 19, 16, 30), 'UTC')).toBe('2026-11-19');
  });

  it('add days across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-11-02', 365)).toBe('2027-11-02');
  });
});
