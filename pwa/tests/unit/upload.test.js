// Large photos go by tus: a cut upload resumes at the server's offset in the next round, with
// the upload's URL kept in the outbox item (IndexedDB), and no byte is sent twice.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { db, kvSet } from '../../src/lib/db.js';
import { addItem, listItems } from '../../src/lib/outbox.js';
import { runSync } from '../../src/lib/sync.js';
import { TUS_MIN_BYTES } from '../../src/lib/upload.js';

const USER = { username: 'wang', role: 'worker' };
const TUS = { 'Tus-Resumable': '1.0.0' };

/** A tus server (and the report PUT) that can drop a PATCH after n bytes, keeping them. */
function tusServer() {
  const srv = { uploads: new Map(), photos: new Map(), calls: [], patchBytes: 0, cutAfter: [],
    creations: [] };
  srv.fetch = vi.fn(async (url, init) => {
    const path = String(url).replace(/^https?:\/\/[^/]+/, '');
    srv.calls.push(`${init.method} ${path}`);
    if (path.match(/\/reports\/[^/]+$/)) {
      return new Response(JSON.stringify({ number: 1, status: 'reported' }), { status: 201 });
    }
    if (init.method === 'POST' && path === '/api/v1/uploads/') {
      const id = `u${srv.uploads.size + 1}`;
      const meta = Object.fromEntries(init.headers['Upload-Metadata'].split(',')
        .map((p) => p.split(' ')).map(([k, v]) => [k, atob(v)]));
      srv.creations.push(meta);
      srv.uploads.set(id, { length: Number(init.headers['Upload-Length']), bytes: new Uint8Array(0),
        meta });
      return new Response(null, { status: 201, headers: { ...TUS, Location: `/api/v1/uploads/${id}` } });
    }
    const up = srv.uploads.get(path.split('/').pop());
    if (!up) return new Response('{"code":"upload.not_found"}', { status: 404, headers: TUS });
    if (init.method === 'HEAD') {
      return new Response(null, { status: 200, headers: { ...TUS,
        'Upload-Offset': String(up.bytes.length), 'Upload-Length': String(up.length) } });
    }
    if (init.method === 'PATCH') {
      if (Number(init.headers['Upload-Offset']) !== up.bytes.length) {
        return new Response('{"code":"upload.offset_mismatch"}', { status: 409, headers: TUS });
      }
      let body = new Uint8Array(await init.body.arrayBuffer());
      const cut = srv.cutAfter.shift();
      if (cut != null) body = body.slice(0, cut);
      srv.patchBytes += body.length;
      const joined = new Uint8Array(up.bytes.length + body.length);
      joined.set(up.bytes);
      joined.set(body, up.bytes.length);
      up.bytes = joined;
      if (cut != null) throw new TypeError('network connection was lost');
      if (up.bytes.length === up.length) srv.photos.set(up.meta.photo_id, up.bytes);
      return new Response(null, { status: 204, headers: { ...TUS,
        'Upload-Offset': String(up.bytes.length) } });
    }
    return new Response('{}', { status: 405 });
  });
  return srv;
}

function bytes(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) out[i] = (i * 7919) % 251;
  return out;
}

let srv;
beforeEach(async () => {
  const d = await db();
  for (const store of ['kv', 'outbox', 'blobs']) await d.clear(store);
  await kvSet('session', { token: 't', user: USER });
  srv = tusServer();
  vi.stubGlobal('fetch', srv.fetch);
});
afterEach(() => vi.unstubAllGlobals());

// megabytes through a fake tus server byte by byte: seconds on a loaded 2-core machine, not 5
describe('a large photo', { timeout: 30000 }, () => {
  it('goes by tus, bound to its report and photo, and resumes where the server stopped', async () => {
    const data = bytes(TUS_MIN_BYTES * 3);
    const item = await addItem({ kind: 'report', user: USER.username, body: { category: 'E0101' },
      photos: [{ blob: new Blob([data], { type: 'image/jpeg' }), width: 1, height: 1,
        exif: { taken_at: '2026-11-23T09:00:00Z', lon: 116.39, lat: 39.91 } }] });
    srv.cutAfter = [200000];
    expect((await runSync({ pull: false })).outcome).toBe('offline');
    const [waiting] = await listItems();
    expect(waiting.state).toBe('saved');
    expect(waiting.photos[0].upload).toMatch(/\/api\/v1\/uploads\/u1$/); // kept in IndexedDB
    expect(srv.creations[0]).toMatchObject({ report_id: item.id, photo_id: item.photos[0].id,
      purpose: 'report', content_type: 'image/jpeg', exif_lon: '116.39',
      exif_taken_at: '2026-11-23T09:00:00Z' });

    expect((await runSync({ force: true, pull: false })).outcome).toBe('ok');
    const [done] = await listItems();
    expect(done.state).toBe('accepted');
    expect(srv.uploads.size).toBe(1); // resumed, not started again
    expect(srv.calls.filter((c) => c.startsWith('HEAD'))).toHaveLength(1);
    expect(srv.patchBytes).toBe(data.length); // no byte twice
    expect(srv.photos.get(item.photos[0].id)).toEqual(data);
  });

  it('starts a new upload when the server forgot the old one', async () => {
    await addItem({ kind: 'report', user: USER.username, body: {},
      photos: [{ blob: new Blob([bytes(TUS_MIN_BYTES + 10)]), width: 1, height: 1 }] });
    srv.cutAfter = [100];
    await runSync({ pull: false });
    srv.uploads.clear(); // expired and swept
    expect((await runSync({ force: true, pull: false })).outcome).toBe('ok');
    expect(srv.creations).toHaveLength(2);
    expect((await listItems())[0].state).toBe('accepted');
  });

  it('a small photo keeps the plain PUT', async () => {
    await addItem({ kind: 'report', user: USER.username, body: {},
      photos: [{ blob: new Blob([bytes(1000)]), width: 1, height: 1 }] });
    srv.fetch.mockImplementation(async (url, init) => {
      srv.calls.push(`${init.method} ${url}`);
      return new Response(JSON.stringify({ number: 1 }), { status: 201 });
    });
    await runSync({ pull: false });
    expect(srv.calls.map((c) => c.split(' ')[0])).toEqual(['PUT', 'PUT']);
  });
});
