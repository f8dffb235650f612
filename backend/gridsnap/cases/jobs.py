"""The case loop's follow-up jobs: route and link new cases, check deadlines when they fall
due, and the minute's sweep behind those checks; bring 挂账 cases back on their review date. Registered with the worker by
worker.build_followup; each takes (session, runtime, ...) and is idempotent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..outbox import rules as topics
from . import service, sweeps

SWEEP_OVERDUE = "cases.sweep_overdue"
RESUME_SUSPENDED = "cases.resume_suspended"


def route_and_link(session: Session, rt, payloads: list[dict]) -> None:
    """New reports: first routing (and auto-accept/dispatch), then possible duplicates and
    repeat requests (重复诉求)."""
    ids = [p["report_id"] for p in payloads]
    service.route_new_cases(session, rt.settings, ids)
    service.link_duplicates(session, rt.settings, ids)
    service.link_repeats(session, rt.settings, ids)


def check_deadlines(session: Session, rt, payloads: list[dict]) -> int:
    """The scheduled check at a due time: only the cases named, and only if still due."""
    return sweeps.escalate_overdue(session, ids=[p["report_id"] for p in payloads])


def sweep_overdue(session: Session, rt) -> int:
    """Every minute: the safety net behind the scheduled checks (a lost message, a clock
    change)."""
    return sweeps.escalate_overdue(session)


def resume_suspended(session: Session, rt) -> int:
    """Every few minutes: the 挂账 cases whose review date has come are dispatched again."""
    return sweeps.resume_suspended(session, rt.settings)


OUTBOX_HANDLERS = {topics.REPORT_SUBMITTED: route_and_link,
                   topics.CASE_DEADLINE: check_deadlines}
TASKS = {SWEEP_OVERDUE: sweep_overdue, RESUME_SUSPENDED: resume_suspended}
