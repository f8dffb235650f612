"""Every SQL statement about reports: intake with the PostGIS cell lookup, reads, lists."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..users.rules import Principal

# The cell lookup (invariant 3): indexed ST_Covers, cells first; a point on an edge shared by
# two cells (or a vertex shared by four) goes to the lowest code. A point in no cell falls back
# to the smallest area covering it (community, then street, then district).
LOCATE_CTE = """
    pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    hit AS (
        (SELECT a.code, a.level FROM areas a, pt
          WHERE a.level = 'cell' AND ST_Covers(a.boundary, pt.g)
          ORDER BY a.code LIMIT 1)
        UNION ALL
        (SELECT a.code, a.level FROM areas a, pt
          WHERE a.level <> 'cell' AND ST_Covers(a.boundary, pt.g)
          ORDER BY length(a.code) DESC, a.code LIMIT 1)
        LIMIT 1
    )
"""

_VIEW_COLUMNS = """
    r.id, r.number, r.reporter_id, r.category_code, r.description, r.address,
    ST_X(r.location) AS lon, ST_Y(r.location) AS lat, r.accuracy_m, r.location_source,
    r.captured_at, r.received_at, r.updated_at, r.area_code, r.outside_grid, r.status,
    r.department_code, r.due_at, r.routed_at, r.fingerprint,
    r.stage, r.stage_started_at, r.overdue, r.overdue_at, r.escalation_level, r.version,
    r.suggested_department_code, r.routing_rule_id, r.routing_source, r.accepted_at,
    r.dispatched_at, r.signed_at, r.signed_by_id, r.responsible_department_code,
    r.resolved_at, r.resolved_by_id, r.closed_at, r.verifier_id, r.rework_count,
    r.return_count, r.duplicate_of,
    r.cell_code, cell.name AS cell_name, cell.name_en AS cell_name_en,
    r.community_code, com.name AS community_name, com.name_en AS community_name_en,
    r.street_code, st.name AS street_name, st.name_en AS street_name_en,
    r.district_code, dis.name AS district_name, dis.name_en AS district_name_en
"""

_VIEW_JOINS = """
    LEFT JOIN areas cell ON cell.code = r.cell_code
    LEFT JOIN areas com ON com.code = r.community_code
    LEFT JOIN areas st ON st.code = r.street_code
    LEFT JOIN areas dis ON dis.code = r.district_code
"""

# what the answer to an intake needs, and no more (the hot path)
_INTAKE_COLUMNS = """
    r.id, r.number, r.reporter_id, r.category_code, r.description, r.address,
    ST_X(r.location) AS lon, ST_Y(r.location) AS lat, r.accuracy_m, r.location_source,
    r.captured_at, r.received_at, r.updated_at, r.area_code, r.outside_grid, r.status,
    r.department_code, r.suggested_department_code, r.due_at,
    r.cell_code, cell.name AS cell_name, cell.name_en AS cell_name_en,
    r.community_code, com.name AS community_name, com.name_en AS community_name_en,
    r.street_code, st.name AS street_name, st.name_en AS street_name_en,
    r.district_code, dis.name AS district_name, dis.name_en AS district_name_en
"""

_SUBMIT_SQL = f"""
WITH {LOCATE_CTE},
ins AS (
    INSERT INTO reports AS r (id, reporter_id, category_code, description, address, location,
        accuracy_m, location_source, captured_at, stage_started_at, area_code, cell_code,
        community_code, street_code, district_code, outside_grid, fingerprint)
    SELECT :id, :reporter_id, :category, :description, :address, pt.g, :accuracy_m, :source,
           :captured_at, now(), h.code,
           CASE WHEN h.level = 'cell' THEN h.code END,
           CASE WHEN length(h.code) >= 12 THEN left(h.code, 12) END,
           CASE WHEN length(h.code) >= 9 THEN left(h.code, 9) END,
           left(h.code, 6),
           h.level IS DISTINCT FROM 'cell',
           :fingerprint
      FROM pt LEFT JOIN hit h ON true
    ON CONFLICT (id) DO NOTHING
    RETURNING r.*
),
ev AS (
    INSERT INTO case_events (report_id, actor_id, action, to_status, data)
    SELECT id, reporter_id, 'report.submitted', status,
           jsonb_build_object('area_code', area_code, 'outside_grid', outside_grid)
      FROM ins
),
ob AS (
    INSERT INTO outbox (topic, payload)
    SELECT 'report.submitted', jsonb_build_object('report_id', id) FROM ins
)
SELECT {_INTAKE_COLUMNS} FROM ins r {_VIEW_JOINS}
"""

_BY_ID = text(f"SELECT {_VIEW_COLUMNS} FROM reports r {_VIEW_JOINS} WHERE r.id = :id")


def _psycopg_style(sql: str) -> str:
    """:name → %(name)s, leaving ::casts alone (for statements sent straight to psycopg)."""
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql.replace("%", "%%"))


_SUBMIT_PSYCOPG = _psycopg_style(_SUBMIT_SQL)


def insert_report(session: Session, params: dict):
    """Insert the report with its cell, audit event and outbox message in one statement.

    Returns the new row, or None if a report with this id exists already. The statement goes
    straight to psycopg on the session's connection and transaction: on the hot path,
    SQLAlchemy's execution layer costs as much as PostgreSQL's work (see docs/benchmarks.md).
    """
    from psycopg.rows import dict_row

    raw = session.connection().connection.driver_connection
    with raw.cursor(row_factory=dict_row) as cur:
        cur.execute(_SUBMIT_PSYCOPG, params)
        return cur.fetchone()


def find_report_row(session: Session, report_id: uuid.UUID):
    return session.execute(_BY_ID, {"id": report_id}).mappings().first()


def scope_predicate(principal: Principal, params: dict, alias: str = "r") -> str:
    """SQL that keeps only the reports the principal may see (invariant 4)."""
    params["scope_uid"] = principal.id
    clauses = [f"{alias}.reporter_id = :scope_uid"]
    if principal.role == "handler":
        # the same rule as Principal.may_see_report
        if principal.department_code:
            params["scope_dept"] = principal.department_code
            clauses.append(f"{alias}.department_code = :scope_dept")
            clauses.append(f"{alias}.responsible_department_code = :scope_dept")
        return "(" + " OR ".join(clauses) + ")"
    if principal.sees_everything:
        return "TRUE"
    prefixes = [p for p in principal.scopes if p]
    if prefixes:
        params["scope_patterns"] = [p + "%" for p in prefixes]
        clauses.append(f"{alias}.area_code LIKE ANY(:scope_patterns)")
    return "(" + " OR ".join(clauses) + ")"


def case_filter_sql(principal: Principal, params: dict, *, statuses=None, category=None,
                    area_prefix: str | None = None, department: str | None = None,
                    overdue: bool | None = None, stage: str | None = None,
                    verifier_id: int | None = None, bbox=None,
                    updated_since: datetime | None = None,
                    received_from: datetime | None = None,
                    received_to: datetime | None = None) -> str:
    """The WHERE clause shared by the case list, the exports and the map tiles: the caller's
    scope (invariant 4) and every filter given; fills `params`."""
    where = [scope_predicate(principal, params)]
    if overdue is not None:
        params["overdue"] = overdue
        where.append("r.overdue = :overdue")
    if department:
        params["department"] = department
        where.append("r.department_code = :department")
    if stage:
        params["stage"] = stage
        where.append("r.stage = :stage")
    if verifier_id is not None:
        params["verifier_id"] = verifier_id
        where.append("r.verifier_id = :verifier_id")
    if bbox is not None:
        params.update(minlon=bbox[0], minlat=bbox[1], maxlon=bbox[2], maxlat=bbox[3])
        where.append("r.location && ST_MakeEnvelope(:minlon, :minlat, :maxlon, :maxlat, 4326)")
    if statuses:
        params["statuses"] = list(statuses)
        where.append("r.status = ANY(:statuses)")
    if category:
        params["category"] = category
        where.append("r.category_code = :category")
    if area_prefix:
        params["area_pattern"] = area_prefix + "%"
        where.append("r.area_code LIKE :area_pattern")
    if updated_since is not None:
        params["updated_since"] = updated_since
        where.append("r.updated_at > :updated_since")
    if received_from is not None:
        params["received_from"] = received_from
        where.append("r.received_at >= :received_from")
    if received_to is not None:
        params["received_to"] = received_to
        where.append("r.received_at < :received_to")
    return " AND ".join(where)


def list_report_rows(session: Session, principal: Principal, *, bbox=None, statuses=None,
                     category=None, cell_prefix=None, updated_since: datetime | None = None,
                     offset: int = 0, limit: int = 50, overdue: bool | None = None,
                     department: str | None = None, stage: str | None = None,
                     verifier_id: int | None = None, order: str | None = None):
    """A page of visible reports and the total count matching the filters."""
    params: dict = {}
    cond = case_filter_sql(principal, params, bbox=bbox, statuses=statuses, category=category,
                           area_prefix=cell_prefix, updated_since=updated_since,
                           overdue=overdue, department=department, stage=stage,
                           verifier_id=verifier_id)
    if order == "due":
        order = "r.due_at NULLS LAST, r.id"
    elif updated_since is not None:
        order = "r.updated_at, r.id"
    else:
        order = "r.received_at DESC, r.id"
    total = session.execute(text(f"SELECT count(*) FROM reports r WHERE {cond}"), params).scalar()
    params.update(offset=offset, limit=limit)
    rows = session.execute(text(
        f"SELECT {_VIEW_COLUMNS} FROM reports r {_VIEW_JOINS} WHERE {cond} "
        f"ORDER BY {order} OFFSET :offset LIMIT :limit"), params).mappings().all()
    return rows, total


def photo_rows_for(session: Session, report_ids: list[uuid.UUID]):
    return session.execute(text("""
        SELECT id, report_id, sha256, content_type, size_bytes, width, height, uploaded_at,
               purpose, processed_at, exif_taken_at, ST_X(exif_location) AS exif_lon,
               ST_Y(exif_location) AS exif_lat, exif_distance_m
          FROM photos WHERE report_id = ANY(:ids) ORDER BY uploaded_at, id
    """), {"ids": report_ids}).mappings().all()


def locate(session: Session, lon: float, lat: float):
    """The smallest area covering the point: (code, level) or None."""
    return session.execute(text(f"WITH {LOCATE_CTE} SELECT code, level FROM hit"),
                           {"lon": lon, "lat": lat}).first()
