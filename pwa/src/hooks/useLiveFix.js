// The device's live position while the app is open: one watch shared by every screen that shows
// it (capture, the worker's map, the verification of a task).
import { useEffect, useState } from 'preact/hooks';
import { watchPosition } from '../lib/geo.js';

const live = { fix: null, error: null, listeners: new Set() };
let stopWatch = null;

function ensureWatching() {
  if (stopWatch) return;
  stopWatch = watchPosition((fix) => {
    live.fix = fix;
    live.error = null;
    live.listeners.forEach((fn) => fn());
  }, (code) => {
    live.error = code;
    live.listeners.forEach((fn) => fn());
  });
}

/** Returns {fix, error}: the latest fix (or the geolocation error code); re-renders on change. */
export function useLiveFix() {
  const [, setTick] = useState(0);
  useEffect(() => {
    ensureWatching();
    const fn = () => setTick((n) => n + 1);
    live.listeners.add(fn);
    return () => live.listeners.delete(fn);
  }, []);
  return live;
}
