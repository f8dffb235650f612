"""Every SQL statement of intake (信息采集): the report, its cell, its audit event and its
outbox message in one statement."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import clock
from ..cases.queries import AREA_JOINS, AREA_NAME_COLUMNS
from ..db import RawStatement
from ..events import rules as ev
from ..events.queries import insert_cte as event_cte
from ..grid.queries import LOCATE_CTE, chain_sql
from ..outbox import rules as topics
from ..outbox.queries import insert_cte as outbox_cte

_CHAIN = chain_sql("h.code", "h.level")

# what the answer to an intake needs, and no more (the hot path)
_INTAKE_COLUMNS = f"""
    r.id, r.number, r.reporter_id, r.category_code, r.description, r.address,
    ST_X(r.location) AS lon, ST_Y(r.location) AS lat, r.accuracy_m, r.location_source,
    r.captured_at, r.received_at, r.updated_at, r.area_code, r.outside_grid, r.status,
    r.department_code, r.suggested_department_code, r.due_at, r.source, r.nature, r.urgency,
    r.cell_code, r.community_code, r.street_code, r.district_code, {AREA_NAME_COLUMNS}
"""

_SUBMIT_SQL = f"""
WITH {LOCATE_CTE},
ins AS (
    INSERT INTO reports AS r (id, reporter_id, category_code, description, address, location,
        accuracy_m, location_source, captured_at, received_at, updated_at, stage_started_at,
        area_code, cell_code, community_code, street_code, district_code, outside_grid,
        fingerprint, source, nature, urgency, request_class_code, address_point_id)
    SELECT :id, :reporter_id, :category, :description, :address, pt.g, :accuracy_m, :source,
           :captured_at, :now, :now, :now, h.code, {_CHAIN["cell"]}, {_CHAIN["community"]},
           {_CHAIN["street"]}, {_CHAIN["district"]}, h.level IS DISTINCT FROM 'cell',
           :fingerprint, :origin, :nature, :urgency, :request_class, :address_point
      FROM pt LEFT JOIN hit h ON true
    ON CONFLICT (id) DO NOTHING
    RETURNING r.*
),
{event_cte("ev", source="ins", report_id="id", actor_id="reporter_id",
           action=ev.REPORT_SUBMITTED, to_status="status",
           data="jsonb_build_object('area_code', area_code, 'outside_grid', outside_grid)")},
{outbox_cte("ob", source="ins", topic=topics.REPORT_SUBMITTED,
            payload="jsonb_build_object('report_id', id)")}
SELECT {_INTAKE_COLUMNS} FROM ins r {AREA_JOINS}
"""

_SUBMIT = RawStatement(_SUBMIT_SQL)

_ORIGIN = {"origin": "worker", "nature": None, "urgency": None, "request_class": None,
           "address_point": None}


def insert_report(session: Session, params: dict):
    """Insert the report with its cell, audit event and outbox message in one statement.
    `params` may name the report's origin (source), nature and urgency (接诉即办); a report
    from the field by default (a caller's personal data is the hotline's to store).

    Returns the new row, or None if a report with this id exists already (straight to psycopg:
    the hot path).
    """
    params = {**_ORIGIN, **params, "now": clock.now()}
    return _SUBMIT.one(session, params)
