// Large photos go by tus in bounded chunks: a cut upload resumes at the server's offset in the
// next round, with the upload's URL kept in the outbox item (IndexedDB), and no byte is sent
// twice; a stalled request (no answer) is aborted and resumed at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { db, kvSet } from '../../src/lib/db.js';
import { addItem, listItems } from '../../src/lib/outbox.js';
import { runSync } from '../../src/lib/sync.js';
import { CHUNK, TUS_MIN_BYTES, nextChunkSize, putTimeoutMs, uploadResumable }
  from '../../src/lib/upload.js';

const USER = { username: 'wang', role: 'worker' };
const TUS = { 'Tus-Resumable': '1.0.0' };

/** A tus server (and the report PUT) that can drop a PATCH after n bytes, keeping them. */
function tusServer() {
  const srv = { uploads: new Map(), photos: new Map(), calls: [], patchBytes: 0, cutAfter: [],
    creations: [], patchSizes: [], stallNext: 0 };
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
      srv.patchSizes.push(init.body.size);
      if (srv.stallNext > 0) {
        srv.stallNext -= 1;
        // a silent link: no answer ever, until the client gives up on it
        return new Promise((_, reject) => {
          init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
      }
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
    srv.cutAfter = [20000]; // mid-way through the first chunk
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

describe('chunks and stalls', { timeout: 30000 }, () => {
  it('sends bounded chunks, sized to the link as measured', async () => {
    const data = bytes(CHUNK.first * 6);
    await addItem({ kind: 'report', user: USER.username, body: {},
      photos: [{ blob: new Blob([data]), width: 1, height: 1 }] });
    expect((await runSync({ pull: false })).outcome).toBe('ok');
    expect(srv.patchSizes[0]).toBe(CHUNK.first);
    expect(srv.patchSizes.length).toBeGreaterThan(1);
    expect(Math.max(...srv.patchSizes)).toBeLessThanOrEqual(CHUNK.max);
    expect(srv.patchBytes).toBe(data.length);
  });

  it('aborts a request no answer comes to and resumes from the server\'s offset', async () => {
    const data = bytes(CHUNK.first * 12);
    const blob = new Blob([data], { type: 'image/jpeg' });
    srv.cutAfter = [];
    srv.stallNext = 0;
    const seen = [];
    // the first chunk arrives; the second stalls, is aborted, and the upload goes on at once
    let patches = 0;
    const inner = srv.fetch.getMockImplementation();
    srv.fetch.mockImplementation((url, init) => {
      if (init.method === 'PATCH' && (patches += 1) === 2) srv.stallNext = 1;
      return inner(url, init);
    });
    await uploadResumable({ blob, token: 't', stallMs: 200,
      metadata: { report_id: 'r', photo_id: 'p1', purpose: 'report', content_type: 'image/jpeg' },
      onProgress: (p) => seen.push(p) });
    expect(seen.some((p) => p.stalled && p.acked === CHUNK.first)).toBe(true);
    expect(srv.calls.filter((c) => c.startsWith('HEAD'))).toHaveLength(1);
    expect(srv.photos.get('p1')).toEqual(data);
    // the chunk after the stall is smaller than the one that stalled
    const stalledSize = srv.patchSizes[1];
    expect(srv.patchSizes[2]).toBeLessThan(stalledSize);
  });

  it('a stall that lasts ends the round as a network failure the outbox retries', async () => {
    srv.stallNext = 99;
    const blob = new Blob([bytes(TUS_MIN_BYTES * 2)]);
    await expect(uploadResumable({ blob, token: 't', stallMs: 50,
      metadata: { report_id: 'r', photo_id: 'p2', purpose: 'report', content_type: 'image/jpeg' } }))
      .rejects.toMatchObject({ code: 'network.stalled', retryable: true });
  });

  it('chunk sizes and PUT timeouts stay within bounds', () => {
    expect(nextChunkSize(CHUNK.first, 64 * 1024, 1000)).toBe(4 * CHUNK.first); // at most 4×
    expect(nextChunkSize(CHUNK.max, 1e9, 1)).toBe(CHUNK.max);
    expect(nextChunkSize(CHUNK.first, 10 * 1024, 1000)).toBe(60 * 1024); // 6 s of 10 KB/s
    expect(nextChunkSize(CHUNK.min, 1, 60000)).toBe(CHUNK.min);
    expect(nextChunkSize(CHUNK.first, 0, null)).toBe(CHUNK.first / 2); // after a stall
    // a photo under the tus threshold: its body at 2 KB/s, and no 14-minute wait
    expect(putTimeoutMs(TUS_MIN_BYTES)).toBe(20000 + 32 * 1024);
    expect(putTimeoutMs(TUS_MIN_BYTES)).toBeLessThan(60 * 1000);
  });
});
