// The back-off of the sync rounds: pure, so the unit tests (vitest) hold it to its rules.
//
// A round that fails for the network or the server's passing trouble waits 5 s, 15 s, 30 s … 5 min
// (jittered ±20 %) before the next; a round that reached the server at all (a request answered,
// then the connection dropped) starts again from the shortest wait, since the network is back.
// Connectivity returning (the online event, a request answered elsewhere in the app, the service
// worker's Background Sync) resets it: the next round runs at once.

export const BACKOFF_S = [2, 5, 15, 30, 60, 120, 300];
export const IDLE = Object.freeze({ failures: 0, nextAt: 0 });

/** The wait after `failures` failed rounds in a row, in ms (0 for none); rand() in [0, 1). */
export function delayMs(failures, rand = Math.random) {
  if (!failures) return 0;
  const base = BACKOFF_S[Math.min(failures, BACKOFF_S.length) - 1] * 1000;
  return Math.round(base * (0.8 + rand() * 0.4));
}

/** A round is failed when it ended for the network, the server's trouble or a bug. */
export function failed(outcome) {
  return outcome === 'offline' || outcome === 'error';
}

/**
 * The back-off state after a round: {failures, nextAt}. reached: some request of the round got an
 * answer (the network works; the failure was a dropped reply or the server's moment).
 */
export function afterRound(state, { outcome, reached = false, now = Date.now(), rand = Math.random }) {
  if (!failed(outcome)) return { ...IDLE };
  const failures = reached ? 1 : (state?.failures || 0) + 1;
  return { failures, nextAt: now + delayMs(failures, rand) };
}

/** May a round run now? force (a tap, a save, connectivity back) always may. */
export function mayRun(state, { force = false, now = Date.now() } = {}) {
  return force || !state?.nextAt || state.nextAt <= now;
}
