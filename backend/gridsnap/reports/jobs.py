"""Follow-up jobs for reports: first routing (department and due time from the category)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..deadlines.rules import TimeLimit, WorkCalendar, due_at

log = logging.getLogger(__name__)

_UNROUTED = text("""
    SELECT r.id, r.status, r.received_at, c.department_code, c.time_limits
      FROM reports r JOIN categories c ON c.code = r.category_code
     WHERE r.id = ANY(CAST(:ids AS uuid[])) AND r.routed_at IS NULL
     FOR UPDATE OF r
""")

_ROUTE = text("""
WITH upd AS (
    UPDATE reports SET department_code = :department, due_at = :due_at, routed_at = now(),
                       updated_at = now()
     WHERE id = :id AND routed_at IS NULL
    RETURNING id, status
)
INSERT INTO case_events (report_id, action, from_status, to_status, data)
SELECT id, 'report.routed', status, status,
       jsonb_build_object('department', CAST(:department AS text),
                          'due_at', CAST(:due_at AS timestamptz), 'stage', 'accept')
  FROM upd
""")


def work_calendar(settings) -> WorkCalendar:
    start, end = settings.business_hours
    return WorkCalendar(tz=settings.timezone, day_start=time.fromisoformat(start),
                        day_end=time.fromisoformat(end))


def route_reports(session: Session, rt, report_ids: list[str]) -> int:
    """First routing: each unrouted report gets its category's department and accept deadline.

    Idempotent: a routed report is left alone. Returns how many were routed.
    """
    cal = work_calendar(rt.settings)
    rows = session.execute(_UNROUTED, {"ids": list(report_ids)}).mappings().all()
    params = []
    for r in rows:
        limit = TimeLimit.from_dict(r["time_limits"]["accept"])
        received = r["received_at"]
        if received.tzinfo is None:
            received = received.replace(tzinfo=UTC)
        params.append({"id": r["id"], "department": r["department_code"],
                       "due_at": due_at(received, limit, cal)})
    if params:
        session.execute(_ROUTE, params)
    return len(params)


def now_utc() -> datetime:
    return datetime.now(UTC)
