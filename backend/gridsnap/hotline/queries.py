"""Every SQL statement about callers (the one writer of `callers`) and the callback list."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..users.queries import scope_predicate
from ..users.rules import Principal


def insert_caller(session: Session, report_id: uuid.UUID, caller: dict,
                  phone_hash: tuple[str, bytes] | None) -> None:
    """The caller of a new case (name, phone, email, anonymous) and the keyed hash of the
    number ((key id, hash)), stamped by the application's clock."""
    kid, digest = phone_hash or (None, None)
    session.execute(text("""
        INSERT INTO callers (report_id, name, phone, email, anonymous, phone_hash, phone_key,
                             created_at)
        VALUES (:report_id, :name, :phone, :email, coalesce(CAST(:anonymous AS boolean), false),
                :phone_hash, :phone_key, :now)
    """), {"name": None, "phone": None, "email": None, "anonymous": None, **caller,
           "phone_hash": digest, "phone_key": kid, "report_id": report_id, "now": clock.now()})


def caller_hash_of(session: Session, report_id: uuid.UUID):
    """(phone_key, phone_hash) of a case's caller, or None."""
    row = session.execute(text(
        "SELECT phone_key, phone_hash FROM callers WHERE report_id = :id "
        "AND phone_hash IS NOT NULL"), {"id": report_id}).first()
    return None if row is None else (row[0], bytes(row[1]))


def calls_by_hash(session: Session, principal: Principal, hashes: list[tuple[str, bytes]], *,
                  since, exclude: uuid.UUID | None, limit: int):
    """The hotline cases whose caller's number has one of these keyed hashes, received since
    `since`, that the principal may see, newest first: (how many, the first `limit` ids)."""
    if not hashes:
        return 0, []
    params: dict = {"keys": [k for k, _ in hashes], "hashes": [h for _, h in hashes],
                    "since": since, "exclude": exclude, "limit": limit}
    scope = scope_predicate(principal, params)
    rows = session.execute(text(f"""
        SELECT r.id, count(*) OVER () AS total FROM callers c JOIN reports r ON r.id = c.report_id
         WHERE (c.phone_key, c.phone_hash) IN (
                   SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:hashes AS bytea[])))
           AND r.received_at >= :since
           AND (CAST(:exclude AS uuid) IS NULL OR r.id <> CAST(:exclude AS uuid))
           AND {scope}
         ORDER BY r.received_at DESC, r.number DESC LIMIT :limit
    """), params).all()
    return (rows[0].total if rows else 0), [r.id for r in rows]


def phones_to_rehash(session: Session, current_key: str, *, after, limit: int):
    """Callers with a number kept in clear whose hash is not under the current key (or
    missing), in report-id order from `after`."""
    return session.execute(text("""
        SELECT report_id, phone FROM callers
         WHERE phone IS NOT NULL AND phone_key IS DISTINCT FROM :key
           AND (CAST(:after AS uuid) IS NULL OR report_id > CAST(:after AS uuid))
         ORDER BY report_id LIMIT :limit
    """), {"key": current_key, "after": after, "limit": limit}).all()


def set_phone_hashes(session: Session, rows: list[dict]) -> None:
    """[{report_id, phone_key, phone_hash}]: the keyed hash of each caller's number."""
    if rows:
        session.execute(text(
            "UPDATE callers SET phone_key = :phone_key, phone_hash = :phone_hash "
            "WHERE report_id = :report_id"), rows)


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
