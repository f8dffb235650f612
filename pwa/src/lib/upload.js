// A photo's bytes, resumably: tus 1.0.0 (tus-js-client) to the server's /api/v1/uploads/, so an
// upload cut at 90 % on a weak link resumes from the last byte the server holds, also after a
// reload (the upload's URL is kept with its outbox item). Small photos keep the plain PUT.
//
// The photo goes in bounded chunks, one PATCH each, sized to a few seconds of the link as last
// measured: the front server buffers each request before the API sees it (so a slow phone costs
// the API nothing), and a cut loses at most the chunk in flight. A stall is told by progress: no
// request answered (no bytes acknowledged) for STALL_MS, whatever the photo's size; the request
// is aborted and the upload resumes at once from the server's offset (HEAD).
//
// tus-js-client's browser entry uses XMLHttpRequest and touches `window`, neither of which a
// service worker has (Background Sync runs this code too): we take its core (BaseUpload) and
// its Blob reader, with a fetch-based HTTP stack of our own and no URL storage of its own. They
// load with the first photo sent by tus (lib/tus.js, a chunk the service worker precaches).
import { API, ApiError, NetworkError, heard } from './api.js';

/** Photos at least this large go by tus; smaller ones by one PUT (a round trip fewer). */
export const TUS_MIN_BYTES = 64 * 1024;
export const UPLOADS = `${API}/uploads/`;
/** No answer for this long: the link stalled. */
export const STALL_MS = 20000;
/** Chunks: the first, the bounds, and how long one should take on the link as measured. */
export const CHUNK = { first: 64 * 1024, min: 16 * 1024, max: 1024 * 1024, targetMs: 6000 };
/** Stalls in a row resumed here before the outbox takes over (and backs off). */
const STALL_RESUMES = [0, 1000, 3000];

/**
 * The timeout of a PUT of `size` bytes (under TUS_MIN_BYTES: fetch tells no progress to watch):
 * a stall, plus the body at 2 KB/s — 52 s at most.
 */
export function putTimeoutMs(size) {
  return STALL_MS + size / 2;
}

/** The next chunk's size after one of `bytes` took `ms` (halved after a stall: ms = null). */
export function nextChunkSize(current, bytes, ms) {
  const next = ms == null ? current / 2 : (bytes / Math.max(ms, 1)) * CHUNK.targetMs;
  // grow at most fourfold at a time: one fast answer is not yet a fast link
  const bounded = Math.min(next, current * 4, CHUNK.max);
  return Math.max(CHUNK.min, Math.floor(bounded / 1024) * 1024);
}

/** A request aborted because no answer came for STALL_MS. */
export class StallError extends Error {
  constructor() {
    super('stalled');
    this.name = 'StallError';
  }
}

class FetchResponse {
  constructor(resp, body) {
    this.resp = resp;
    this.body = body;
  }

  getStatus() { return this.resp.status; }

  getHeader(name) { return this.resp.headers.get(name); }

  getBody() { return this.body; }

  getUnderlyingObject() { return this.resp; }
}

class FetchRequest {
  constructor(method, url, stallMs) {
    this.method = method;
    this.url = url;
    this.headers = {};
    this.stallMs = stallMs;
    this.ctrl = new AbortController();
  }

  getMethod() { return this.method; }

  getURL() { return this.url; }

  setHeader(name, value) { this.headers[name] = value; }

  getHeader(name) { return this.headers[name]; }

  setProgressHandler() {} // fetch tells no upload progress: tus tells each acknowledged offset

  async send(body = null) {
    // a body is a bounded chunk (a few seconds of the link): no answer within stallMs, whatever
    // its size, means the link stalled
    let stalled = false;
    const timer = setTimeout(() => {
      stalled = true;
      this.ctrl.abort();
    }, this.stallMs);
    try {
      const resp = await fetch(this.url, { method: this.method, headers: this.headers, body,
        signal: this.ctrl.signal, cache: 'no-store', credentials: 'omit' });
      const text = await resp.text();
      heard(resp.status);
      return new FetchResponse(resp, text);
    } catch (err) {
      throw stalled ? new StallError() : err;
    } finally {
      clearTimeout(timer);
    }
  }

  abort() {
    this.ctrl.abort();
    return Promise.resolve();
  }

  getUnderlyingObject() { return this.ctrl; }
}

class FetchHttpStack {
  constructor(stallMs) { this.stallMs = stallMs; }

  createRequest(method, url) { return new FetchRequest(method, url, this.stallMs); }

  getName() { return 'gridsnap-fetch'; }
}

/** The error tus-js-client gave, as the outbox tells errors apart (api.js). */
export function asApiError(err) {
  const res = err?.originalResponse;
  if (!res) {
    const cause = err?.causingError;
    if (cause instanceof StallError) {
      const stalled = new NetworkError('stalled');
      stalled.code = 'network.stalled';
      return stalled;
    }
    return new NetworkError(cause?.name === 'AbortError' ? 'timeout' : String(cause?.message || err?.message || err));
  }
  let body = null;
  try {
    body = JSON.parse(res.getBody() || 'null');
  } catch {
    body = null;
  }
  const out = new ApiError(res.getStatus(), body);
  // locked by a request the server has not yet seen end, or a stale offset: try again later
  if (out.status === 409 || out.status === 423) out.later = true;
  return out;
}

/**
 * Sends `blob` by tus, resuming at `url` when given (null: a new upload). `metadata` binds the
 * upload (report_id, photo_id, purpose, content_type, exif_*). `onUrl(url)` is called when the
 * server made a new upload, to keep its URL. `onProgress({acked, size, stalled})` tells the bytes
 * the server acknowledged, and `stalled: true` while resuming after a stall. Resolves when the
 * server has the photo; rejects with ApiError / NetworkError as api.request does (a stall that
 * lasts: NetworkError 'stalled').
 */
export async function uploadResumable({ blob, token, metadata, url = null, onUrl, onProgress,
  stallMs = STALL_MS }) {
  let tus;
  try {
    tus = await import('./tus.js');
  } catch (err) {
    // not fetched yet and no network to fetch it: the outbox tries again later, as offline
    throw new NetworkError(String(err?.message || err));
  }
  const { BaseUpload, FileReader, NoopUrlStorage } = tus;
  return new Promise((resolve, reject) => {
    let saving = Promise.resolve();
    let chunkSize = CHUNK.first;
    let sentAt = Date.now();
    let acked = 0;
    const tell = (stalled) => {
      try {
        onProgress?.({ acked, size: blob.size, stalled });
      } catch {
        // the screen's business: never the upload's
      }
    };
    const upload = new BaseUpload(blob, {
      ...BaseUpload.defaultOptions,
      endpoint: typeof location === 'undefined' ? UPLOADS : new URL(UPLOADS, location.origin).href,
      uploadUrl: url,
      metadata,
      headers: { Authorization: `Bearer ${token}` },
      httpStack: new FetchHttpStack(stallMs),
      fileReader: new FileReader(),
      urlStorage: new NoopUrlStorage(),
      fingerprint: () => Promise.resolve(null),
      storeFingerprintForResuming: false,
      chunkSize,
      // a stall is retried here at once (HEAD, then on from the server's offset; the count
      // starts again after any progress); a stale offset or a lock right after a cut too. Any
      // other network error ends the sync round: the outbox backs off and resumes later.
      retryDelays: STALL_RESUMES,
      onShouldRetry: (err) => {
        if (err?.causingError instanceof StallError) {
          chunkSize = nextChunkSize(chunkSize, 0, null);
          upload.options.chunkSize = chunkSize;
          tell(true);
          return true;
        }
        return [409, 423].includes(err?.originalResponse?.getStatus());
      },
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH') sentAt = Date.now();
      },
      // no upload progress from fetch: tus tells the offsets the server acknowledged (also the
      // one a HEAD gave after a resume)
      onProgress: (offset) => {
        acked = offset;
      },
      onChunkComplete: (bytes) => {
        chunkSize = nextChunkSize(chunkSize, bytes, Date.now() - sentAt);
        upload.options.chunkSize = chunkSize;
        tell(false);
      },
      onUploadUrlAvailable: () => {
        if (upload.url !== url) saving = Promise.resolve(onUrl?.(upload.url));
      },
      onSuccess: () => saving.then(() => resolve()),
      onError: (err) => saving.then(() => reject(asApiError(err)), () => reject(asApiError(err))),
    });
    upload.start();
  });
}
