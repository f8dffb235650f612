// The gridsnap API (same origin). Tells apart the three outcomes the outbox must treat apart:
// a network failure or 5xx (try again later), a 4xx (stop and show why), and success.

export const API = '/api/v1';

// when a request last got an answer from the app (not a 5xx: that may be a proxy with the app
// down): the network works. The sync coordinator resumes at once when it hears of one.
let answeredAt = 0;
const answerListeners = new Set();

/** ms since epoch of the last answer (0: none in this context). */
export function lastAnswerAt() {
  return answeredAt;
}

/** An answer came (status): the network works, unless it is a 5xx (a proxy, the app down). */
export function heard(status) {
  if (status < 500) {
    answeredAt = Date.now();
    answerListeners.forEach((fn) => fn(status));
  }
}

/** fn() after every answer; returns the unsubscribe. */
export function onAnswer(fn) {
  answerListeners.add(fn);
  return () => answerListeners.delete(fn);
}

/** The server answered with an error body {code, message, fields?}. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || `http.${status}`;
    this.fields = body?.fields || null;
  }

  /** 5xx, 408 and 429 are the server's passing trouble: worth a retry. */
  get retryable() {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }

  /** The token expired or was revoked: log in again (the outbox waits). */
  get authExpired() {
    return this.status === 401 && this.code !== 'auth.bad_credentials';
  }
}

/** No answer: offline, connection dropped, or timed out. Always worth a retry. */
export class NetworkError extends Error {
  constructor(message) {
    super(message || 'network');
    this.retryable = true;
  }
}

/**
 * Calls the API; returns {status, data, headers} or throws ApiError / NetworkError.
 * `json` is sent as JSON, `body` as is (a Blob with its contentType); `as` is 'json' or 'blob'.
 */
export async function request(path, { method = 'GET', token, json, body, contentType, as = 'json',
  timeoutMs = 30000, headers: extra = {} } = {}) {
  const headers = { ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (contentType) {
    headers['Content-Type'] = contentType;
  }
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let resp;
  try {
    resp = await fetch(path.startsWith('/') ? path : `${API}/${path}`, {
      method, headers, body, signal: ctrl.signal, cache: 'no-store', credentials: 'omit',
    });
  } catch (err) {
    throw new NetworkError(err?.name === 'AbortError' ? 'timeout' : String(err?.message || err));
  } finally {
    clearTimeout(timer);
  }
  heard(resp.status);
  if (!resp.ok) {
    let data = null;
    try {
      data = await resp.json();
    } catch {
      data = null; // a proxy's HTML error page, or nothing
    }
    throw new ApiError(resp.status, data);
  }
  let data = null;
  try {
    if (resp.status !== 204) data = as === 'blob' ? await resp.blob() : await resp.json();
  } catch (err) {
    throw new NetworkError(`body: ${err?.message || err}`); // the connection broke mid-body
  }
  return { status: resp.status, data, headers: resp.headers };
}
