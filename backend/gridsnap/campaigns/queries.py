"""SQL for campaigns: insert, link the matching cases, read with counts, new cases per week."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..cases.rules import OPEN_STATUSES
from ..users.queries import scope_predicate
from ..users.rules import Principal
from .rules import NOT_LINKED

_COLUMNS = """
    c.id, c.name, c.category_code, k.name AS category_name, k.name_en AS category_name_en,
    c.area_prefix, a.name AS area_name, a.name_en AS area_name_en, c.starts_on, c.ends_on,
    c.note, c.created_by_id, c.created_at, c.kind, c.lead_department_code,
    d.name AS lead_department_name, d.name_en AS lead_department_name_en, c.measures
"""
_JOINS = """
    JOIN categories k ON k.code = c.category_code
    LEFT JOIN areas a ON a.code = c.area_prefix
    LEFT JOIN departments d ON d.code = c.lead_department_code
"""


def insert_campaign(session: Session, *, name, category_code, area_prefix, starts_on, ends_on,
                    note, created_by_id, kind="campaign", lead_department_code=None,
                    measures=()) -> int:
    return session.execute(text("""
        INSERT INTO campaigns (name, category_code, area_prefix, starts_on, ends_on, note,
                               created_by_id, created_at, kind, lead_department_code, measures)
        VALUES (:name, :category, :prefix, :starts_on, :ends_on, :note, :by, :now, :kind,
                :lead, CAST(:measures AS jsonb))
        RETURNING id
    """), {"name": name, "category": category_code, "prefix": area_prefix,
           "starts_on": starts_on, "ends_on": ends_on, "note": note,
           "by": created_by_id, "now": clock.now(), "kind": kind,
           "lead": lead_department_code, "measures": json.dumps(list(measures),
                                                                 ensure_ascii=False)}).scalar_one()


def set_programme(session: Session, campaign_id: int, *, lead_department_code,
                  measures: list[dict]) -> None:
    """A 每月一题 programme's lead department and measures, replaced."""
    session.execute(text("""
        UPDATE campaigns SET lead_department_code = :lead, measures = CAST(:measures AS jsonb)
         WHERE id = :id
    """), {"id": campaign_id, "lead": lead_department_code,
           "measures": json.dumps(measures, ensure_ascii=False)})


def category_exists(session: Session, code: str) -> bool:
    return bool(session.execute(text("SELECT 1 FROM categories WHERE code = :c"),
                                {"c": code}).scalar())


def link_cases(session: Session, principal: Principal, campaign_id: int, *, start: datetime,
               end: datetime) -> int:
    """Link the cases of the campaign's class the principal may see: received in [start, end),
    or earlier and still open. Idempotent; returns how many were newly linked."""
    params: dict = {"cid": campaign_id, "start": start, "end": end,
                    "open": list(OPEN_STATUSES), "not_linked": list(NOT_LINKED),
                    "now": clock.now()}
    scope = scope_predicate(principal, params)
    return session.execute(text(f"""
        INSERT INTO campaign_cases (campaign_id, report_id, linked_at)
        SELECT c.id, r.id, :now
          FROM campaigns c
          JOIN reports r ON r.category_code = c.category_code
                        AND r.area_code LIKE c.area_prefix || '%'
         WHERE c.id = :cid AND NOT (r.status = ANY(:not_linked))
           AND ((r.received_at >= :start AND r.received_at < :end)
                OR (r.received_at < :start AND r.status = ANY(:open)))
           AND {scope}
        ON CONFLICT DO NOTHING
    """), params).rowcount


def set_ends_on(session: Session, campaign_id: int, ends_on) -> None:
    session.execute(text("UPDATE campaigns SET ends_on = :e WHERE id = :id"),
                    {"e": ends_on, "id": campaign_id})


def delete_campaign(session: Session, campaign_id: int) -> None:
    """The campaign and its links (the cases stay)."""
    session.execute(text("DELETE FROM campaigns WHERE id = :id"), {"id": campaign_id})


def find_campaign(session: Session, campaign_id: int):
    return session.execute(text(f"SELECT {_COLUMNS} FROM campaigns c {_JOINS} WHERE c.id = :id"),
                           {"id": campaign_id}).mappings().first()


def list_campaign_rows(session: Session):
    return session.execute(text(
        f"SELECT {_COLUMNS} FROM campaigns c {_JOINS} ORDER BY c.starts_on DESC, c.id DESC"
    )).mappings().all()


def linked_counts(session: Session, principal: Principal, campaign_ids: list[int]) -> dict:
    """{campaign_id: {status: count}} over the linked cases the principal may see."""
    if not campaign_ids:
        return {}
    params: dict = {"ids": campaign_ids}
    scope = scope_predicate(principal, params)
    out: dict = {cid: {} for cid in campaign_ids}
    for cid, status, n in session.execute(text(f"""
        SELECT l.campaign_id, r.status, count(*)
          FROM campaign_cases l JOIN reports r ON r.id = l.report_id
         WHERE l.campaign_id = ANY(:ids) AND {scope}
         GROUP BY l.campaign_id, r.status
    """), params).all():
        out[cid][status] = n
    return out


def new_cases_per_day(session: Session, principal: Principal, *, category_code: str,
                      area_prefix: str, start: datetime, end: datetime, tz: str) -> dict:
    """{local date: count} of the class's new cases received in [start, end): neither rejected
    nor merged as duplicates, visible to the principal."""
    params: dict = {"cat": category_code, "pattern": area_prefix + "%", "start": start,
                    "end": end, "tz": tz, "not_linked": list(NOT_LINKED)}
    scope = scope_predicate(principal, params)
    rows = session.execute(text(f"""
        SELECT (r.received_at AT TIME ZONE :tz)::date AS day, count(*) AS n
          FROM reports r
         WHERE r.category_code = :cat AND r.area_code LIKE :pattern
           AND r.received_at >= :start AND r.received_at < :end
           AND NOT (r.status = ANY(:not_linked)) AND {scope}
         GROUP BY 1
    """), params).all()
    return {day: n for day, n in rows}


def record_proposals(session: Session, month: str, spots: list[dict]) -> list[tuple[str, str]]:
    """Record the month's hot spots (category, area_code, count) as proposed; returns the
    (category, area_code) of those not proposed before (each is proposed once a month, however
    often the job runs, and by one of two jobs running at once)."""
    if not spots:
        return []
    rows = session.execute(text("""
        INSERT INTO hot_spot_proposals (month, category_code, area_code, count, proposed_at)
        SELECT :month, s.category, s.area, s.count, :now
          FROM jsonb_to_recordset(CAST(:spots AS jsonb)) AS s(category text, area text,
                                                             count bigint)
         ORDER BY s.category, s.area
        ON CONFLICT DO NOTHING
        RETURNING category_code, area_code
    """), {"month": month, "now": clock.now(), "spots": json.dumps(spots)}).all()
    return [(r.category_code, r.area_code) for r in rows]
