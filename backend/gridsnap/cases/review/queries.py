"""Every SQL statement about the requests a supervisor decides (case_requests: 退单审核, 挂账):
their one writer, and the 挂账 cases whose review date has come."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from ... import clock
from ..queries import CASE_COLUMNS, CATEGORY_COLUMNS, EXTENSION_JOIN


def insert_request(session: Session, report_id, requested_by_id, reason, columns: dict) -> None:
    """A new pending request (columns: kind, reason_kind, department_code, review_on,
    held_due_at); the note is its reason."""
    session.execute(text("""
        INSERT INTO case_requests (report_id, kind, reason_kind, department_code, review_on,
                                   held_due_at, requested_by_id, reason, created_at)
        VALUES (:r, :kind, :reason_kind, :department_code, :review_on, :held_due_at, :u,
                :reason, :now)
    """), {"kind": None, "reason_kind": None, "department_code": None, "review_on": None,
           "held_due_at": None, **columns, "r": report_id, "u": requested_by_id,
           "reason": reason, "now": clock.now()})


def decide_request(session: Session, request_id: int, status: str, decided_by_id: int | None,
                   note: str | None) -> None:
    session.execute(text("""
        UPDATE case_requests SET status = :s, decided_by_id = :u, decided_at = :now,
               decision_note = :n WHERE id = :id AND status = 'pending'
    """), {"s": status, "u": decided_by_id, "n": note, "id": request_id, "now": clock.now()})


def end_request(session: Session, request_id: int, ended_by_id: int | None) -> None:
    """An approved suspension ends: the case resumed (by a supervisor, or None: the system)."""
    session.execute(text("""
        UPDATE case_requests SET status = 'ended', ended_by_id = :u, ended_at = :now
         WHERE id = :id AND status = 'approved'
    """), {"u": ended_by_id, "id": request_id, "now": clock.now()})


def withdraw_request(session: Session, request_id: int) -> None:
    """A live request another change of the case overtook (rules.request_alive)."""
    session.execute(text("""
        UPDATE case_requests SET status = 'withdrawn', decided_at = :now
         WHERE id = :id AND status IN ('pending', 'approved')
    """), {"id": request_id, "now": clock.now()})


_LOCK_DUE_SUSPENSIONS = text(f"""
    SELECT {CASE_COLUMNS}, {CATEGORY_COLUMNS}
      FROM reports r {EXTENSION_JOIN} JOIN categories c ON c.code = r.category_code
     WHERE r.status = 'suspended' AND rq.kind = 'suspension' AND rq.status = 'approved'
       AND rq.review_on <= :today
     ORDER BY rq.review_on, r.number
     LIMIT :limit
       FOR UPDATE OF r SKIP LOCKED
""")


def lock_due_suspensions(session: Session, today, *, limit: int):
    """The suspended cases (挂账) whose review date is `today` or past, locked (cases an action
    holds are skipped: the next run takes them), earliest review date first."""
    return session.execute(_LOCK_DUE_SUSPENSIONS, {"today": today, "limit": limit}
                           ).mappings().all()
