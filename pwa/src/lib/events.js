// Change notices between the page and the service worker (both may sync the outbox).
const listeners = new Set();
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('gridsnap') : null;

// remote: the notice came from another context (a tab, the service worker)
if (channel) channel.onmessage = (e) => listeners.forEach((fn) => fn({ ...e.data, remote: true }));

/** Tell this context's listeners and every other open context (tabs, service worker). */
export function emit(type, detail = {}) {
  const msg = { type, ...detail };
  listeners.forEach((fn) => fn(msg));
  try {
    channel?.postMessage(msg);
  } catch {
    /* a closed channel while the worker stops: nothing to tell */
  }
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
