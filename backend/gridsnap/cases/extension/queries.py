"""Every SQL statement that writes extension requests (延期): their one writer (the read model
reads the pending one with the case)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from ... import clock


def insert_extension(session: Session, report_id, requested_by_id, amount, unit, reason) -> None:
    session.execute(text("""
        INSERT INTO extension_requests (report_id, requested_by_id, amount, unit, reason,
                                        created_at)
        VALUES (:r, :u, :a, :unit, :reason, :now)
    """), {"r": report_id, "u": requested_by_id, "a": amount, "unit": unit, "reason": reason,
          "now": clock.now()})


def decide_extension(session: Session, ext_id: int, status: str, decided_by_id: int,
                     note: str | None) -> None:
    session.execute(text("""
        UPDATE extension_requests SET status = :s, decided_by_id = :u, decided_at = :now,
               decision_note = :n WHERE id = :id
    """), {"s": status, "u": decided_by_id, "n": note, "id": ext_id, "now": clock.now()})
