"""SQL for exports: the cases a caller may see under the case list's filters, streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..cases.queries import case_filter_sql
from ..events import rules as ev
from ..events.queries import insert_cte
from ..hotline.queries import caller_join
from ..users.rules import Principal

_COLUMNS = """
    r.id, r.number, r.category_code, k.name AS category_name, r.status, r.source,
    r.nature, r.received_at,
    r.accepted_at, r.dispatched_at, r.due_at, r.resolved_at,
    CASE WHEN r.status = 'closed' THEN r.closed_at END AS closed_at, r.overdue,
    r.rework_count, r.department_code, d.name AS department_name,
    r.district_code, dis.name AS district_name, r.street_code, st.name AS street_name,
    r.community_code, com.name AS community_name, r.cell_code, cell.name AS cell_name,
    ST_X(r.location) AS lon, ST_Y(r.location) AS lat, r.address, r.description,
    r.request_class_code, rc.name AS request_class_name, r.address_point_id,
    ap.address AS address_point
"""

_JOINS = """
    JOIN categories k ON k.code = r.category_code
    LEFT JOIN departments d ON d.code = r.department_code
    LEFT JOIN request_classes rc ON rc.code = r.request_class_code
    LEFT JOIN address_points ap ON ap.id = r.address_point_id
    LEFT JOIN areas cell ON cell.code = r.cell_code
    LEFT JOIN areas com ON com.code = r.community_code
    LEFT JOIN areas st ON st.code = r.street_code
    LEFT JOIN areas dis ON dis.code = r.district_code
"""


def _where(principal: Principal, params: dict, *, area=None, **filters) -> str:
    """The case list's filters and a receipt time range, within the caller's scope."""
    return case_filter_sql(principal, params, area_prefix=area, **filters)


def count_cases(session: Session, principal: Principal, **filters) -> int:
    params: dict = {}
    cond = _where(principal, params, **filters)
    return session.execute(text(f"SELECT count(*) FROM reports r WHERE {cond}"),
                           params).scalar_one()


def stream_cases(session: Session, principal: Principal, *, batch: int = 2000,
                 with_callers: bool = False, **filters) -> Iterator:
    """The matching cases in order of receipt, fetched `batch` rows at a time from a
    server-side cursor (the whole result never sits in memory); with their callers' rows
    (caller_name, caller_phone, caller_email, caller_anonymous, has_caller) when asked."""
    params: dict = {}
    cond = _where(principal, params, **filters)
    columns, joins = _COLUMNS, _JOINS
    if with_callers:
        join, caller_columns = caller_join("clr", "r")
        columns, joins = f"{_COLUMNS}, {caller_columns}", f"{_JOINS} {join}"
    result = session.execute(
        text(f"SELECT {columns} FROM reports r {joins} WHERE {cond} "
             f"ORDER BY r.received_at, r.number"),
        params, execution_options={"stream_results": True, "yield_per": batch})
    yield from result.mappings()


# the CSV of a case export written by PostgreSQL (COPY ... TO STDOUT WITH CSV): each value
# already as the Python writer (exports.rules.text_value, service._csv_text) would write it,
# an empty text as NULL (COPY quotes an empty string; csv.writer does not)
_DEFUSE = ("CASE WHEN left({v}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
           "THEN '''' || {v} ELSE {v} END")
_CSV_KINDS = {
    "text": "NULLIF(" + _DEFUSE + ", '')",
    "int": "CAST({v} AS text)",
    # the deployment's wall clock, seconds cut (as strftime)
    "time": "to_char({v} AT TIME ZONE %(csv_tz)s, 'YYYY-MM-DD HH24:MI:SS')",
    "bool": "CASE WHEN {v} THEN '是' WHEN NOT {v} THEN '否' END",
    # Python's str(float): the shortest round trip, as PostgreSQL's, but "116.0" for 116
    "float": "CASE WHEN {v} = trunc({v}) THEN CAST({v} AS text) || '.0' "
             "ELSE CAST({v} AS text) END",
}
_CSV_VALUES = {
    "status_name": "coalesce(CAST(%(csv_status)s AS jsonb) ->> x.status, x.status)",
    "source_name": "coalesce(CAST(%(csv_source)s AS jsonb) ->> x.source, x.source)",
    "nature_name": "CAST(%(csv_nature)s AS jsonb) ->> x.nature",
    "id": "CAST(x.id AS text)",
}


def copy_cases_csv(session: Session, principal: Principal, columns, *, tz: str,
                   names: dict, **filters) -> Iterator[bytes]:
    """The matching cases in order of receipt as CSV rows written by PostgreSQL (COPY TO
    STDOUT), one `bytes` a row as the server sends it, each ending in CRLF as csv.writer's:
    `columns` the export's (key, kind) pairs (no callers), `names` the words of status,
    source and nature ({"status": {...}, "source": {...}, "nature": {...}}). No header."""
    params: dict = {}
    cond = _where(principal, params, **filters)
    outer = [_CSV_KINDS[kind].format(v=f"({_CSV_VALUES.get(key, f'x.{key}')})")
             for key, kind in columns]
    inner = text(f"SELECT {_COLUMNS} FROM reports r {_JOINS} WHERE {cond}")
    # COPY takes no bound parameters: psycopg binds them client-side, in its own style
    sql = inner.compile(dialect=session.get_bind().dialect).string
    params.update(csv_tz=tz, **{f"csv_{k}": json.dumps(v, ensure_ascii=False)
                                for k, v in names.items()})
    copy_sql = (f"COPY (SELECT {', '.join(outer)} FROM ({sql}) x "
                f"ORDER BY x.received_at, x.number) TO STDOUT WITH (FORMAT csv)")
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(copy_sql, params) as copy:
        # the protocol sends one CopyData message a row, its LF last (a value's own line
        # breaks are inside its quotes)
        for row in copy:
            yield bytes(row[:-1]) + b"\r\n"


def audit_caller_export(session: Session, principal: Principal, *, data: dict,
                        **filters) -> set:
    """Writes `caller.viewed` (by the principal, with `data`) on the trail of every matching
    case that has a caller, in one statement; returns those cases' ids."""
    params: dict = {"actor": principal.id, "data": json.dumps(data, ensure_ascii=False),
                    "now": clock.now()}
    cond = _where(principal, params, **filters)
    join, _ = caller_join("clr", "r")
    event = insert_cte("viewed", source="picked", report_id="picked.id",
                       action=ev.CALLER_VIEWED, actor_id="CAST(:actor AS bigint)",
                       data="CAST(:data AS jsonb)")
    return set(session.execute(text(f"""
        WITH picked AS (SELECT r.id FROM reports r {join}
                         WHERE clr.report_id IS NOT NULL AND {cond}),
             {event}
        SELECT id FROM picked
    """), params).scalars())
