// The hash router: `#/name/arg?query` — the worker's tabs, a task or a case, the command centre's
// views. Nothing else: the sync coordinator is in syncing.js.
import { useEffect, useState } from 'preact/hooks';

export function go(path) {
  window.location.hash = `#/${path}`;
}

/** {name, arg, query} of the current hash; `capture` when there is none. */
export function parseRoute() {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return { name: parts[0] || 'capture', arg: parts[1] || null, query: new URLSearchParams(query) };
}

/** The current route, re-rendering the component when the hash changes. */
export function useRoute() {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const onHash = () => setRoute(parseRoute());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}
