"""Every SQL statement about callers (the one writer of `callers`) and the callback list."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..users.queries import scope_predicate
from ..users.rules import Principal


def insert_caller(session: Session, report_id: uuid.UUID, caller: dict) -> None:
    """The caller of a new case (name, phone, email, anonymous), stamped by the application's
    clock."""
    session.execute(text("""
        INSERT INTO callers (report_id, name, phone, email, anonymous, created_at)
        VALUES (:report_id, :name, :phone, :email, coalesce(CAST(:anonymous AS boolean), false),
                :now)
    """), {"name": None, "phone": None, "email": None, "anonymous": None, **caller,
           "report_id": report_id, "now": clock.now()})


def caller_join(alias: str, report: str) -> tuple[str, str]:
    """For a statement over reports that must show their callers (an admin's export):
    (the LEFT JOIN on `callers` as `alias` for the report alias `report`, the select list
    caller_name, caller_phone, caller_email, caller_anonymous)."""
    return (f"LEFT JOIN callers {alias} ON {alias}.report_id = {report}.id",
            f"{alias}.name AS caller_name, {alias}.phone AS caller_phone, "
            f"{alias}.email AS caller_email, {alias}.anonymous AS caller_anonymous, "
            f"({alias}.report_id IS NOT NULL) AS has_caller")


def find_caller(session: Session, report_id: uuid.UUID):
    return session.execute(text(
        "SELECT report_id, name, phone, email, anonymous FROM callers WHERE report_id = :id"),
        {"id": report_id}).mappings().first()


def callers_of(session: Session, report_ids: list[uuid.UUID]) -> dict:
    """{report_id: caller row} for a page of cases, in one statement."""
    if not report_ids:
        return {}
    rows = session.execute(text(
        "SELECT report_id, name, phone, email, anonymous FROM callers "
        "WHERE report_id = ANY(:ids)"), {"ids": list(report_ids)}).mappings().all()
    return {r["report_id"]: r for r in rows}


def pending_callback_ids(session: Session, principal: Principal, *, limit: int):
    """The hotline cases waiting for their callback (回访) that the principal may see, the
    longest closed first."""
    params: dict = {"limit": limit}
    scope = scope_predicate(principal, params)
    return list(session.execute(text(f"""
        SELECT r.id FROM reports r
         WHERE r.callback_status = 'pending' AND {scope}
         ORDER BY r.closed_at, r.number LIMIT :limit
    """), params).scalars())
