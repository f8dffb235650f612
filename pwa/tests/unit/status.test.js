import { describe, expect, it } from 'vitest';
import { syncStatus } from '../../src/lib/status.js';

describe('one sync status', () => {
  it('says offline with the waiting count when the browser has no network', () => {
    const st = syncStatus({ online: false, waiting: 3, lastSync: { outcome: 'offline', at: 1, nextAt: 9 } });
    expect(st).toMatchObject({ kind: 'offline', waiting: 3, nextAt: 9 });
  });

  it('says when the next try is once a round failed while online', () => {
    const st = syncStatus({ online: true, waiting: 3, lastSync: { outcome: 'offline', at: 1, nextAt: 9 } });
    expect(st).toMatchObject({ kind: 'retry', cause: 'network', nextAt: 9 });
    expect(syncStatus({ lastSync: { outcome: 'error', at: 1, nextAt: 9 } }).cause).toBe('error');
  });

  it('puts a running round and an expired login before the rest', () => {
    expect(syncStatus({ syncing: true, lastSync: { outcome: 'offline' } }).kind).toBe('syncing');
    expect(syncStatus({ syncing: true, expired: true }).kind).toBe('auth');
  });

  it('says offline, not syncing, when a round runs with no network (it sends nothing)', () => {
    const st = syncStatus({ online: false, syncing: true, waiting: 5 });
    expect(st).toMatchObject({ kind: 'offline', waiting: 5 });
  });

  it('is ok after a round that went through, and never before the first', () => {
    expect(syncStatus({ lastSync: { outcome: 'ok', at: 5, okAt: 5 } })).toMatchObject({ kind: 'ok', okAt: 5 });
    expect(syncStatus({}).kind).toBe('never');
  });
});
