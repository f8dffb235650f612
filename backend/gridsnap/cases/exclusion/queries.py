"""Every SQL statement that writes exclusions and appeals (case_exclusions): their one writer
(the read model reads the pending one with the case)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from ... import clock


def insert_exclusion(session: Session, report_id, kind: str, reason_kind: str, reason: str,
                     requested_by_id: int, department_code: str | None) -> int:
    return session.execute(text("""
        INSERT INTO case_exclusions (report_id, kind, reason_kind, reason, requested_by_id,
                                     department_code, created_at)
        VALUES (:r, :k, :rk, :reason, :u, :d, :now) RETURNING id
    """), {"r": report_id, "k": kind, "rk": reason_kind, "reason": reason,
          "u": requested_by_id, "d": department_code, "now": clock.now()}).scalar_one()


def decide_exclusion(session: Session, exclusion_id: int, status: str, decided_by_id: int,
                     note: str | None) -> None:
    session.execute(text("""
        UPDATE case_exclusions SET status = :s, decided_by_id = :u, decided_at = :now,
               decision_note = :n WHERE id = :id AND status = 'pending'
    """), {"s": status, "u": decided_by_id, "n": note, "id": exclusion_id, "now": clock.now()})
