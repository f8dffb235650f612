// The one store of the app: a plain object, changed by set(), read by any component through
// use() (which re-renders it on every change). The worker's app state (src/store.js) and the
// command centre's filters and live counter (command/live.js) are two instances.
import { useEffect, useState } from 'preact/hooks';

/** {get, set(changes), use(), subscribe(fn) → stop}: `initial` is the state object itself. */
export function createStore(initial) {
  const state = initial;
  const listeners = new Set();
  const subscribe = (fn) => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  };
  return {
    get: () => state,
    set(changes) {
      Object.assign(state, changes);
      listeners.forEach((fn) => fn());
    },
    subscribe,
    /** Re-renders the calling component whenever the state changes. */
    use() {
      const [, setTick] = useState(0);
      useEffect(() => subscribe(() => setTick((n) => n + 1)), []);
      return state;
    },
  };
}
