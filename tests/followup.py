"""Running the follow-up for real in tests: the outbox relay, then an RQ worker in burst mode."""

from __future__ import annotations

from gridsnap.worker import build_followup, run_relay, run_worker


def drain(runtime, rounds: int = 5) -> int:
    """Relay every pending message to RQ and run the jobs until none is left; returns sent."""
    sent = 0
    followup = build_followup(runtime)
    for _ in range(rounds):
        n = run_relay(runtime, once=True)
        sent += n
        run_worker(followup, burst=True)
        if n == 0:
            break
    return sent
