import { describe, expect, it } from 'vitest';
import { BACKOFF_S, afterRound, delayMs, mayRun } from '../../src/lib/backoff.js';

const mid = () => 0.5; // no jitter

describe('back-off', () => {
  it('waits longer after each failed round, up to five minutes', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => delayMs(n, mid) / 1000);
    expect(waits).toEqual([2, 5, 15, 30, 60, 120, 300, 300]);
    expect(BACKOFF_S.at(-1)).toBe(300);
  });

  it('jitters by at most a fifth either way', () => {
    expect(delayMs(1, () => 0)).toBe(1600);
    expect(delayMs(1, () => 0.9999)).toBeLessThanOrEqual(2400);
  });

  it('forgets every failure after a round that went through', () => {
    expect(afterRound({ failures: 5, nextAt: 99 }, { outcome: 'ok' })).toEqual({ failures: 0, nextAt: 0 });
    expect(afterRound({ failures: 5, nextAt: 99 }, { outcome: 'auth' }).failures).toBe(0);
  });

  it('counts a round that reached no one as one more failure', () => {
    const s = afterRound({ failures: 3, nextAt: 0 }, { outcome: 'offline', now: 1000, rand: mid });
    expect(s).toEqual({ failures: 4, nextAt: 1000 + 30000 });
  });

  it('starts from the shortest wait when the round reached the server (a reply lost)', () => {
    const s = afterRound({ failures: 6, nextAt: 0 }, { outcome: 'offline', reached: true, now: 0, rand: mid });
    expect(s).toEqual({ failures: 1, nextAt: 2000 });
  });

  it('lets a forced round through the back-off, and others only once it is over', () => {
    const st = { failures: 2, nextAt: 5000 };
    expect(mayRun(st, { now: 4999 })).toBe(false);
    expect(mayRun(st, { now: 5000 })).toBe(true);
    expect(mayRun(st, { now: 0, force: true })).toBe(true);
    expect(mayRun(undefined, { now: 0 })).toBe(true);
  });
});
