"""The relay that moves outbox messages to RQ in batches, and the sweep that re-sends lost ones.

Intake never talks to Redis: one RQ enqueue inside each request roughly halves intake. Measured
on a 2-core machine with a minimal intake endpoint (Flask + a psycopg pool + the one INSERT with
its cell lookup, as bench/minimal_app.py), gunicorn with 2 sync workers and wrk -t2 -c16 on
loopback, medians of 3 runs: adding one RQ enqueue to each request left 0.52-0.61 of the
endpoint's reports/s (~1,450/s without it). Instead a request writes its follow-up as outbox
rows in its own transaction; this relay puts them on RQ after commit, many messages per job
(an enqueue of 100 jobs at once with `enqueue_many` is ~7x one at a time), with a job id
derived from the messages so a re-send replaces, not doubles.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from .. import transaction
from . import queries
from .rules import DEFAULT_BATCH, LOST_JOB_STATES, plan_jobs

log = logging.getLogger(__name__)

# the most messages one claim of the relay takes: a claim that took fewer took all there was
CLAIM_LIMIT = 2000


def relay_pending(session: Session, enqueue, *, limit: int = CLAIM_LIMIT,
                  default_batch: int = DEFAULT_BATCH) -> int:
    """Send pending messages to the queue; returns how many were sent.

    The messages are marked enqueued and that is committed *before* the jobs reach Redis (a
    declared step of the caller's transaction: transaction.step), so a worker never finds its
    messages still locked by the relay. `enqueue(specs)` puts the jobs
    on RQ; if it raises (Redis down) the messages are made pending again and the error
    propagates so the caller backs off. Should even that fail, the sweep re-sends them.
    """
    rows = queries.claim_pending(session, limit)
    if not rows:
        return 0
    specs = plan_jobs(rows, default_batch)
    queries.mark_enqueued(session, {s.job_id: s.message_ids for s in specs})
    transaction.step(session)
    try:
        enqueue(specs)
    except Exception:
        queries.reset_enqueued(session, [r.id for r in rows])
        transaction.step(session)  # pending again, though the relay fails
        raise
    return len(rows)


def sweep_lost(session: Session, job_states, *, older_than_s: int = 20) -> int:
    """Make messages pending again whose job Redis no longer has, gave up on, or whose worker
    died while running it.

    `job_states(job_ids)` returns {job_id: status or None}, "abandoned" for a job started by a
    worker that is gone. `older_than_s` leaves alone the messages the relay has just marked and
    is putting on the queue. Returns how many were reset. Does not commit.
    """
    rows = queries.in_flight_older_than(session, older_than_s)
    if not rows:
        return 0
    states = job_states(sorted({r.job_id for r in rows if r.job_id}))
    # a finished job whose messages are not done skipped them (it cannot have done them):
    # send those again too
    lost = [r.id for r in rows if r.job_id is None or states.get(r.job_id) in LOST_JOB_STATES]
    n = queries.reset_enqueued(session, lost) if lost else 0
    if n:
        log.warning("outbox sweep: %d messages had lost their job; sent again", n)
    return n


def status(session: Session, *, failures: int = 10) -> tuple[list, list]:
    """The follow-up queue as the database sees it (`gridsnap outbox status`): per topic the
    pending, scheduled, in-flight, failed and done messages, and the latest `failures`."""
    return list(queries.backlog(session)), list(queries.failed_messages(session, failures))


def retry_failed(session: Session) -> int:
    """Send the messages that failed for good once more (`gridsnap outbox retry-failed`, after
    fixing the cause); returns how many. Does not commit."""
    return queries.retry_failed(session)
