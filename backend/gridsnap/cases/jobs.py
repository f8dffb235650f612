"""Deadline jobs (限时办理): mark cases overdue at their due time and escalate (街乡吹哨)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from . import queries
from .service import pick_level

log = logging.getLogger(__name__)

_MARK_OVERDUE = text("""
WITH due AS (
    SELECT id FROM reports
     WHERE stage IS NOT NULL AND NOT overdue AND due_at <= :now
       AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))
     ORDER BY due_at
     LIMIT :limit
     FOR UPDATE SKIP LOCKED
),
upd AS (
    UPDATE reports r
       SET overdue = true, overdue_at = :now, escalation_level = r.escalation_level + 1,
           version = r.version + 1, updated_at = now()
      FROM due WHERE r.id = due.id
    RETURNING r.id, r.number, r.status, r.stage, r.due_at, r.area_code, r.department_code,
              r.escalation_level
),
ev AS (
    INSERT INTO case_events (report_id, at, action, from_status, to_status, department_code,
                             data)
    SELECT id, :now, 'case.overdue', status, status, department_code,
           jsonb_build_object('stage', stage, 'due_at', due_at)
      FROM upd
)
SELECT * FROM upd
""")


def escalate_overdue(session: Session, *, now: datetime | None = None, ids: list | None = None,
                     limit: int = 200_000) -> int:
    """Mark every case past its stage's due time overdue, record it, and escalate: the
    supervisors one area level above those who own the case are notified (街乡吹哨), and in the
    handling stage the department's handlers too. Idempotent: an overdue case is not marked
    again until a new stage starts; a case that moved on is not touched. Returns the count.
    Does not commit.
    """
    now = now or clock.now()
    rows = session.execute(_MARK_OVERDUE, {
        "now": now, "ids": None if ids is None else [str(i) for i in ids], "limit": limit,
    }).mappings().all()
    if not rows:
        return 0
    by_area: dict = defaultdict(list)
    for r in rows:
        by_area[r["area_code"]].append(r)
    handlers_cache: dict = {}
    escalations = []
    # every area's supervisors in one statement, the admins once: a sweep may touch
    # thousands of areas
    sup_rows: dict = defaultdict(list)
    for r in queries.supervisors_by_depth_for_areas(session, list(by_area)):
        sup_rows[r["area_code"]].append(r)
    admin_ids: list[int] | None = None

    def admins() -> list[int]:
        nonlocal admin_ids
        if admin_ids is None:
            admin_ids = queries.admins(session)
        return admin_ids

    for area, cases in by_area.items():
        targets = pick_level(sup_rows.get(area, []), "next_up", admins)
        for c in cases:
            users = list(targets)
            if c["stage"] == "handle" and c["department_code"]:
                if c["department_code"] not in handlers_cache:
                    handlers_cache[c["department_code"]] = queries.handlers_of(
                        session, c["department_code"])
                users += handlers_cache[c["department_code"]]
            escalations.append({"id": str(c["id"]), "users": sorted(set(users)),
                                "level": c["escalation_level"], "number": c["number"],
                                "stage": c["stage"]})
    import json

    session.execute(text("""
        WITH x AS (SELECT * FROM jsonb_to_recordset(CAST(:esc AS jsonb))
                   AS t(id uuid, users bigint[], level int, number bigint, stage text)),
        ev AS (
            INSERT INTO case_events (report_id, at, action, data)
            SELECT id, :now, 'case.escalated',
                   jsonb_build_object('escalation_level', level, 'notified', users,
                                      'stage', stage)
              FROM x
        )
        INSERT INTO notifications (user_id, report_id, kind, data)
        SELECT u, x.id, 'case.overdue',
               jsonb_build_object('number', x.number, 'stage', x.stage,
                                  'escalation_level', x.level)
          FROM x, unnest(x.users) AS u
    """), {"esc": json.dumps(escalations), "now": now})
    return len(rows)


def check_deadlines(session: Session, rt, payloads: list[dict]) -> int:
    """The scheduled check at a due time: only the cases named, and only if still due."""
    return escalate_overdue(session, ids=[p["report_id"] for p in payloads])


def sweep_overdue() -> int:
    """RQ entry point run every minute by the relay: the safety net behind the scheduled
    checks (a lost message, a clock change)."""
    from ..worker import worker_runtime

    rt = worker_runtime()
    with rt.sessions() as session:
        n = escalate_overdue(session)
        session.commit()
    if n:
        log.info("sweep: %d case(s) became overdue", n)
    return n
