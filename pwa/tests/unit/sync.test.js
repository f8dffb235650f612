// The outbox and a sync round against a fake server: what is sent, in which order, what the
// outbox holds afterwards, and how the back-off moves.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { db, kvGet, kvSet } from '../../src/lib/db.js';
import { addItem, listItems, pending } from '../../src/lib/outbox.js';
import { runSync } from '../../src/lib/sync.js';

const USER = { username: 'wang', role: 'worker' };

/** A server that keeps reports and photos by id, like the real one (idempotent PUTs). */
function fakeServer() {
  const srv = { reports: new Map(), photos: new Set(), calls: [], plan: [] };
  srv.fetch = vi.fn(async (url, init) => {
    const call = { url, method: init.method };
    srv.calls.push(call);
    const step = srv.plan.shift();
    if (step === 'down') throw new TypeError('Failed to fetch');
    const m = url.match(/\/reports\/([^/]+)(?:\/photos\/([^/?]+))?/);
    let answer;
    if (step?.status) answer = new Response(JSON.stringify(step.body || {}), { status: step.status });
    else if (m && m[2]) {
      srv.photos.add(m[2]);
      answer = new Response(JSON.stringify({ id: m[2] }), { status: 201 });
    } else if (m) {
      if (!srv.reports.has(m[1])) srv.reports.set(m[1], srv.reports.size + 1);
      answer = new Response(JSON.stringify({ number: srv.reports.get(m[1]), status: 'reported' }),
        { status: 201 });
    } else answer = new Response('{}', { status: 404 });
    if (step === 'lose-reply') throw new TypeError('connection reset'); // stored, answer lost
    return answer;
  });
  return srv;
}

async function save(n, photos = 1) {
  const out = [];
  for (let i = 0; i < n; i += 1) {
    out.push(await addItem({ kind: 'report', user: USER.username,
      body: { category: 'E0101', description: `r${i}` },
      photos: Array.from({ length: photos }, () => ({ blob: new Blob(['jpeg']), width: 1, height: 1 })) }));
  }
  return out;
}

let srv;
beforeEach(async () => {
  const d = await db();
  for (const store of ['kv', 'outbox', 'blobs']) await d.clear(store);
  await kvSet('session', { token: 't', user: USER });
  srv = fakeServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(() => vi.unstubAllGlobals());

describe('a sync round', () => {
  it('sends every report, then its photos, and lets the bytes go only then', async () => {
    await save(2, 2);
    const r = await runSync({ pull: false });
    expect(r.outcome).toBe('ok');
    const items = await listItems();
    expect(items.map((i) => [i.state, i.server.number])).toEqual([['accepted', 1], ['accepted', 2]]);
    expect(srv.calls.map((c) => c.url.includes('/photos/') ? 'photo' : 'report'))
      .toEqual(['report', 'photo', 'photo', 'report', 'photo', 'photo']);
    expect(await (await db()).count('blobs')).toBe(0);
    expect(await kvGet('syncState')).toMatchObject({ failures: 0, nextAt: 0 });
  });

  it('keeps everything offline and backs off longer each time', async () => {
    await save(3);
    srv.plan = ['down', 'down'];
    expect((await runSync({ force: true, pull: false })).outcome).toBe('offline');
    const first = await kvGet('syncState');
    expect((await runSync({ force: true, pull: false })).outcome).toBe('offline');
    const second = await kvGet('syncState');
    expect([first.failures, second.failures]).toEqual([1, 2]);
    expect(second.nextAt - Date.now()).toBeGreaterThan(3000);
    expect(pending(await listItems())).toHaveLength(3);
    expect((await listItems())[0].retry.count).toBe(2);
    expect(await (await db()).count('blobs')).toBe(3);
    // not forced: the back-off holds the round back
    expect((await runSync({ pull: false })).outcome).toBe('backoff');
  });

  it('forgets the back-off when connectivity returns, and sends at once', async () => {
    await save(3);
    await kvSet('syncState', { failures: 6, nextAt: Date.now() + 300000, outcome: 'offline' });
    expect((await runSync({ pull: false })).outcome).toBe('backoff');
    const r = await runSync({ reset: true, pull: false });
    expect(r.outcome).toBe('ok');
    expect((await listItems()).every((i) => i.state === 'accepted')).toBe(true);
  });

  it('tries again after the shortest wait when the first reply is lost, without a duplicate', async () => {
    await save(3);
    await kvSet('syncState', { failures: 6, nextAt: 0, outcome: 'offline' });
    srv.plan = ['lose-reply'];
    const r = await runSync({ reset: true, pull: false });
    expect(r.outcome).toBe('offline');
    expect(r.nextAt - Date.now()).toBeLessThanOrEqual(2400); // 2 s ± 20 %, not 5 min
    expect(srv.reports.size).toBe(1); // the server has it; the phone does not know
    expect((await runSync({ force: true, pull: false })).outcome).toBe('ok');
    expect(srv.reports.size).toBe(3);
    expect((await listItems()).map((i) => i.server.number)).toEqual([1, 2, 3]);
  });

  it('starts from the shortest wait when a round reached the server before the network dropped', async () => {
    await save(2);
    await kvSet('syncState', { failures: 4, nextAt: 0, outcome: 'offline' });
    srv.plan = [null, null, 'down'];
    expect((await runSync({ force: true, pull: false })).outcome).toBe('offline');
    expect((await kvGet('syncState')).failures).toBe(1);
    expect((await listItems()).map((i) => i.state)).toEqual(['accepted', 'saved']);
  });

  it('stops only the item the server refuses, with its reason', async () => {
    await save(2);
    srv.plan = [{ status: 422, body: { code: 'report.unknown_category', message: 'no such class',
      fields: { category: ['unknown'] } } }];
    expect((await runSync({ pull: false })).outcome).toBe('ok');
    const [a, b] = await listItems();
    expect(a.state).toBe('rejected');
    expect(a.error).toMatchObject({ status: 422, code: 'report.unknown_category' });
    expect(b.state).toBe('accepted');
    expect(await (await db()).count('blobs')).toBe(1); // the refused one keeps its photo
  });

  it('asks for a login on a 401 and leaves the outbox as it is', async () => {
    await save(2);
    srv.plan = [{ status: 401, body: { code: 'auth.token_invalid' } }];
    expect((await runSync({ pull: false })).outcome).toBe('auth');
    expect((await kvGet('session')).expired).toBe(true);
    expect((await listItems()).map((i) => i.state)).toEqual(['saved', 'saved']);
    expect((await runSync({ force: true, pull: false })).outcome).toBe('auth');
    expect(srv.calls).toHaveLength(1);
  });

  it('sends only the items of the user logged in', async () => {
    await save(1);
    await addItem({ kind: 'report', user: 'li', body: {}, photos: [] });
    await runSync({ pull: false });
    const items = await listItems();
    expect(items.map((i) => [i.user, i.state]).sort()).toEqual([['li', 'saved'], ['wang', 'accepted']]);
  });
});
