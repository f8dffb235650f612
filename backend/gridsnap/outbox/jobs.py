"""The RQ jobs of the follow-up: a batch of outbox messages run through the handler its topic
registered, and the periodic tasks (the overdue sweep).

A handler takes (session, runtime, payloads) and must be idempotent: a message may be delivered
twice (a relay re-send, a retry), and running it again must change nothing more. The message is
marked done in the same transaction as the handler's changes; that transaction is the runner's
(gridsnap.transaction): handlers and tasks never commit.

Nothing here knows the features: the composition root (worker.build_followup) puts the
runtime and every feature's handlers into a Followup, and the worker binds it while it runs a
job, so a job reaches what it runs with through `current()`, never through a global it made.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .. import transaction
from ..db import is_unavailable
from . import queries
from .rules import (
    EXHAUSTED,
    MAX_ATTEMPTS,
    POSTPONE_MAX_S,
    POSTPONE_MIN_S,
    exhaustion,
    retry_delay_s,
)

if TYPE_CHECKING:
    from ..extensions import Runtime

log = logging.getLogger(__name__)

Handler = Callable[[Session, "Runtime", list[dict]], Any]
Task = Callable[[Session, "Runtime"], int]


class BatchIncomplete(Exception):
    """Some messages failed: each is pending again after its delay (outbox.rules.retry_delay_s)
    or, after MAX_ATTEMPTS, failed for good. The job ends failed, so RQ shows it too."""


@dataclass
class Followup:
    """What the follow-up runs with: the process's runtime, each topic's handler and the
    periodic tasks by name."""

    runtime: Runtime
    handlers: Mapping[str, Handler]
    tasks: Mapping[str, Task] = field(default_factory=dict)

    def run(self, topic: str, message_ids: list[int]) -> dict:
        """Handle the undone messages among `message_ids`; returns counts. Raises
        BatchIncomplete when some failed (each is pending again after its delay; after
        MAX_ATTEMPTS, marked failed)."""
        try:
            return self._run(topic, message_ids)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            # The database is away: no message is to blame and none is counted as failed. The
            # job ends as "finished" with its messages undone, which the relay's sweep sends
            # again once PostgreSQL answers (not RQ's retry: it needs its scheduler alive).
            log.warning("%s ×%d: database unavailable (%s); left for the sweep", topic,
                        len(message_ids), type(exc).__name__)
            return {"done": 0, "postponed": len(message_ids)}

    def _run(self, topic: str, message_ids: list[int]) -> dict:
        rt = self.runtime
        handler = self.handlers[topic]
        with self._session() as session:
            rows = queries.load_undone(session, message_ids, topic)
            if not rows:
                transaction.rollback(session)
                return {"done": 0, "skipped": len(message_ids)}
            try:
                handler(session, rt, [r["payload"] for r in rows])
                queries.mark_done(session, [r["id"] for r in rows])
                transaction.commit(session)
                return {"done": len(rows), "skipped": len(message_ids) - len(rows)}
            except Exception as exc:
                transaction.rollback(session)
                if is_unavailable(exc):
                    raise  # the database is away (run() answers it): no message is to blame
                if exhaustion(exc) is not None:
                    # a full disk, say: no message is to blame either; all wait and come again
                    self._postpone(session, topic, [r["id"] for r in rows], exc)
                    return {"done": 0, "postponed": len(rows),
                            "skipped": len(message_ids) - len(rows)}
                log.warning("batch of %d %s failed; retrying one by one", len(rows), topic)
        # One bad message must not hold back the others: retry each alone.
        done = failed = postponed = 0
        for row in rows:
            with self._session() as session:
                try:
                    if not queries.load_undone(session, [row["id"]], topic):
                        continue
                    handler(session, rt, [row["payload"]])
                    queries.mark_done(session, [row["id"]])
                    transaction.commit(session)
                    done += 1
                except Exception as exc:
                    transaction.rollback(session)
                    if is_unavailable(exc):
                        raise
                    if exhaustion(exc) is not None:
                        self._postpone(session, topic, [row["id"]], exc)
                        postponed += 1
                        continue
                    attempts = row["attempts"] + 1
                    final = attempts >= MAX_ATTEMPTS
                    error = "".join(traceback.format_exception_only(exc)).strip()
                    queries.record_failure(
                        session, row["id"], error, final=final,
                        retry_after_s=retry_delay_s(attempts, rt.settings.job_retry_intervals))
                    transaction.commit(session)
                    failed += 1
                    log.error("outbox message %s (%s) failed%s: %s", row["id"], topic,
                              " for good" if final else "", error)
        if failed:
            raise BatchIncomplete(f"{failed} of {len(rows)} {topic} messages failed")
        return {"done": done, "postponed": postponed, "skipped": len(message_ids) - len(rows)}

    @staticmethod
    def _postpone(session: Session, topic: str, ids: list[int], exc: BaseException) -> None:
        """Resource exhaustion: the messages wait with back-off (not failed, whatever their
        attempts); /health says degraded meanwhile (outbox.rules.EXHAUSTED)."""
        cause = exhaustion(exc)
        error = EXHAUSTED + "".join(traceback.format_exception_only(cause)).strip()
        queries.postpone(session, ids, error, POSTPONE_MIN_S, POSTPONE_MAX_S)
        transaction.commit(session)
        log.error("%d %s message(s) postponed: %s", len(ids), topic, error)

    def _session(self) -> Session:
        """A session whose transactions are the runner's: a handler that commits raises."""
        return transaction.own(self.runtime.sessions(), "job runner (outbox.jobs.Followup)")

    def run_task(self, name: str) -> int:
        """Run one periodic task in its own transaction; returns what it counted."""
        with self._session() as session, transaction.unit(session, "job runner"):
            n = self.tasks[name](session, self.runtime)
        if n:
            log.info("%s: %d", name, n)
        return n


_current: ContextVar[Followup | None] = ContextVar("gridsnap_followup", default=None)


@contextmanager
def bound(followup: Followup) -> Iterator[Followup]:
    """Make `followup` the one jobs run with, for the duration of the block."""
    token = _current.set(followup)
    try:
        yield followup
    finally:
        _current.reset(token)


def current() -> Followup:
    """The Followup the running job was given; RuntimeError outside a worker that bound one."""
    followup = _current.get()
    if followup is None:
        raise RuntimeError("no Followup bound: run jobs in a gridsnap worker (worker.run_worker)")
    return followup


def run_messages(topic: str, message_ids: list[int]) -> dict:
    """RQ entry point: a batch of one topic's outbox messages."""
    return current().run(topic, message_ids)


def run_task(name: str) -> int:
    """RQ entry point: one periodic task by name."""
    return current().run_task(name)
