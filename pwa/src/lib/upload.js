// A photo's bytes, resumably: tus 1.0.0 (tus-js-client) to the server's /api/v1/uploads/, so an
// upload cut at 90 % on a weak link resumes from the last byte the server holds, also after a
// reload (the upload's URL is kept with its outbox item). Small photos keep the plain PUT.
//
// tus-js-client's browser entry uses XMLHttpRequest and touches `window`, neither of which a
// service worker has (Background Sync runs this code too): we take its core (BaseUpload) and
// its Blob reader, with a fetch-based HTTP stack of our own and no URL storage of its own.
import BaseUpload from 'tus-js-client/lib.esm/upload.js';
import FileReader from 'tus-js-client/lib.esm/browser/fileReader.js';
import NoopUrlStorage from 'tus-js-client/lib.esm/noopUrlStorage.js';
import { API, ApiError, NetworkError, heard } from './api.js';

/** Photos at least this large go by tus; smaller ones by one PUT (a round trip fewer). */
export const TUS_MIN_BYTES = 256 * 1024;
export const UPLOADS = `${API}/uploads/`;

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
  constructor(method, url, timeoutMs) {
    this.method = method;
    this.url = url;
    this.headers = {};
    this.timeoutMs = timeoutMs;
    this.ctrl = new AbortController();
  }

  getMethod() { return this.method; }

  getURL() { return this.url; }

  setHeader(name, value) { this.headers[name] = value; }

  getHeader(name) { return this.headers[name]; }

  setProgressHandler() {} // fetch tells no upload progress; the outbox shows photo n of m

  async send(body = null) {
    // a stalled link must end the request: 30 s plus 4 ms per KB of body (~250 KB/s at worst)
    const timer = setTimeout(() => this.ctrl.abort(), this.timeoutMs + (body?.size || 0) / 4);
    try {
      const resp = await fetch(this.url, { method: this.method, headers: this.headers, body,
        signal: this.ctrl.signal, cache: 'no-store', credentials: 'omit' });
      const text = await resp.text();
      heard(resp.status);
      return new FetchResponse(resp, text);
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
  constructor(timeoutMs) { this.timeoutMs = timeoutMs; }

  createRequest(method, url) { return new FetchRequest(method, url, this.timeoutMs); }

  getName() { return 'gridsnap-fetch'; }
}

/** The error tus-js-client gave, as the outbox tells errors apart (api.js). */
export function asApiError(err) {
  const res = err?.originalResponse;
  if (!res) {
    const cause = err?.causingError;
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
 * server made a new upload, to keep its URL. Resolves when the server has the photo; rejects with
 * ApiError / NetworkError as api.request does.
 */
export function uploadResumable({ blob, token, metadata, url = null, onUrl, timeoutMs = 30000 }) {
  return new Promise((resolve, reject) => {
    let saving = Promise.resolve();
    const upload = new BaseUpload(blob, {
      ...BaseUpload.defaultOptions,
      endpoint: typeof location === 'undefined' ? UPLOADS : new URL(UPLOADS, location.origin).href,
      uploadUrl: url,
      metadata,
      headers: { Authorization: `Bearer ${token}` },
      httpStack: new FetchHttpStack(timeoutMs),
      fileReader: new FileReader(),
      urlStorage: new NoopUrlStorage(),
      fingerprint: () => Promise.resolve(null),
      storeFingerprintForResuming: false,
      // a network error ends the sync round (the outbox backs off and resumes from the server's
      // offset); only a stale offset or a lock right after a cut is retried here at once
      retryDelays: [0, 1000, 3000],
      onShouldRetry: (err) => [409, 423].includes(err?.originalResponse?.getStatus()),
      onUploadUrlAvailable: () => {
        if (upload.url !== url) saving = Promise.resolve(onUrl?.(upload.url));
      },
      onSuccess: () => saving.then(() => resolve()),
      onError: (err) => saving.then(() => reject(asApiError(err)), () => reject(asApiError(err))),
    });
    upload.start();
  });
}
