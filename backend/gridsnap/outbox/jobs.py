"""The RQ job that runs a batch of outbox messages through their topic's handler.

A handler takes (session, runtime, payloads) and must be idempotent: a message may be delivered
twice (a relay re-send, a retry), and running it again must change nothing more. The message is
marked done in the same transaction as the handler's changes.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from . import queries

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class BatchIncomplete(Exception):
    """Some messages failed and will be retried (RQ retries the job with backoff)."""


def _report_submitted(session, rt, payloads) -> None:
    from ..reports.jobs import find_duplicates, route_reports

    ids = [p["report_id"] for p in payloads]
    route_reports(session, rt, ids)
    find_duplicates(session, rt, ids)


def handlers() -> dict[str, Callable]:
    from ..cases.jobs import check_deadlines
    from ..photos.jobs import process_photos

    return {
        "report.submitted": _report_submitted,
        "photo.uploaded": lambda s, rt, payloads: process_photos(
            s, rt, [p["photo_id"] for p in payloads]),
        "case.deadline": check_deadlines,
    }


def run_messages(topic: str, message_ids: list[int]) -> dict:
    """RQ entry point: handle the undone messages among `message_ids`; returns counts."""
    from ..worker import worker_runtime

    rt = worker_runtime()
    handler = handlers()[topic]
    with rt.sessions() as session:
        rows = queries.load_undone(session, message_ids, topic)
        if not rows:
            session.rollback()
            return {"done": 0, "skipped": len(message_ids)}
        try:
            handler(session, rt, [r["payload"] for r in rows])
            queries.mark_done(session, [r["id"] for r in rows])
            session.commit()
            return {"done": len(rows), "skipped": len(message_ids) - len(rows)}
        except Exception:
            session.rollback()
            log.warning("batch of %d %s failed; retrying one by one", len(rows), topic)
    # One bad message must not hold back the others: retry each alone.
    done = failed = 0
    for row in rows:
        with rt.sessions() as session:
            try:
                if not queries.load_undone(session, [row["id"]], topic):
                    continue
                handler(session, rt, [row["payload"]])
                queries.mark_done(session, [row["id"]])
                session.commit()
                done += 1
            except Exception as exc:
                session.rollback()
                final = row["attempts"] + 1 >= MAX_ATTEMPTS
                error = "".join(traceback.format_exception_only(exc)).strip()
                queries.record_failure(session, row["id"], error, final)
                session.commit()
                failed += 1
                log.error("outbox message %s (%s) failed%s: %s", row["id"], topic,
                          " for good" if final else "", error)
    if failed:
        raise BatchIncomplete(f"{failed} of {len(rows)} {topic} messages failed")
    return {"done": done, "skipped": len(message_ids) - len(rows)}
