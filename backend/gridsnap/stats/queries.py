"""The evaluation's SQL: the indicator table in one pass over a period's trail, 每月一题.

The indicator table reads each case's audit trail up to the cutoff (the period's end, or now)
and folds it into the facts the definitions in docs/indicators.md need, then counts them per
group with FILTER aggregates; GROUPING SETS add the total row in the same pass.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..cases.queries import scope_predicate
from ..users.rules import Principal
from .rules import SOURCE_NAMES, SOURCE_NAMES_EN

# the events the indicators read
_TRAIL_ACTIONS = ("case.rejected", "case.merged", "case.unmerged", "case.dispatched",
                  "case.returned", "case.resolved", "case.rework_ordered",
                  "case.extension_approved", "case.overdue", "case.verified", "case.closed",
                  "case.answered", "case.callback_recorded", "case.reopened")

# the group key of each grouping, as an expression over `f` (the facts of one case)
GROUP_KEYS = {
    "district": "f.district_code",
    "street": "f.street_code",
    "community": "f.community_code",
    "cell": "f.cell_code",
    "category": "f.category_code",
    "department": "f.department_code",
    "source": "f.source",
}

# The reports of the period: received in it (上报数) or accepted in it (立案), in scope. Written
# out twice below rather than shared as a CTE, so the planner estimates it: a hash join over
# the period's trail for the city, index probes per case for a community.
_IN_PERIOD = """
    ((r.received_at >= :start AND r.received_at < :cutoff)
     OR (r.accepted_at >= :start AND r.accepted_at < :cutoff))
    AND {scope}{area}
"""

_INDICATORS_SQL = """
WITH trail AS (
    -- each case's trail from the period's start to the cutoff, folded into the facts the
    -- definitions need. Nothing they read can happen before a case is reported or accepted
    -- in the period, except an accept-stage overdue of a report received earlier (see f).
    SELECT e.report_id,
           -- closed, unless reopened (重新办理) after its latest close
           CASE WHEN max(e.id) FILTER (WHERE e.action IN ('case.verified', 'case.closed'))
                     > coalesce(max(e.id) FILTER (WHERE e.action = 'case.reopened'), 0)
                THEN min(e.at) FILTER (WHERE e.action IN ('case.verified', 'case.closed'))
           END AS closed_at,
           min(e.at) FILTER (WHERE e.action = 'case.dispatched') AS dispatched_at,
           max(e.at) FILTER (WHERE e.action = 'case.resolved') AS resolved_at,
           bool_or(e.action = 'case.rejected') AS rejected,
           bool_or(e.action IN ('case.rework_ordered', 'case.reopened')) AS reworked,
           bool_or(e.action = 'case.reopened') AS reopened,
           bool_or(e.action = 'case.answered') AS answered,
           -- the latest callback try (回访): reached with its answers, or not
           (array_agg(e.data ORDER BY e.id DESC)
               FILTER (WHERE e.action = 'case.callback_recorded'))[1] AS last_callback,
           bool_or(e.action = 'case.extension_approved') AS extended,
           bool_or(e.action = 'case.overdue') AS overdue,
           bool_or(e.action = 'case.overdue' AND e.data->>'stage' = 'handle')
               AS overdue_handling,
           max(e.id) FILTER (WHERE e.action = 'case.merged') AS merged_id,
           max(e.id) FILTER (WHERE e.action = 'case.unmerged') AS unmerged_id,
           max(e.id) FILTER (WHERE e.action = 'case.returned') AS returned_id,
           -- the latest dispatch (event ids follow insertion, which is causal order) with its
           -- department, as one sortable string
           max(lpad(e.id::text, 19, '0') || coalesce(e.department_code, ''))
               FILTER (WHERE e.action = 'case.dispatched') AS dispatch_key,
           -- the handling deadline in force: the due_at set by the latest dispatch, rework or
           -- approved extension ([event id, due epoch] pairs compare by id first)
           (max(ARRAY[e.id::float8, date_part('epoch',
                   coalesce(e.data->>'due_at', e.data->>'new_due_at')::timestamptz)])
               FILTER (WHERE e.action IN ('case.dispatched', 'case.rework_ordered',
                                          'case.extension_approved', 'case.reopened')))[2]
               AS handling_due_epoch
      FROM case_events e
     WHERE e.at >= :start AND e.at < :cutoff
       AND e.action IN ({actions}){trail_cases}
     GROUP BY e.report_id
),
f AS (
    SELECT r.received_at, r.accepted_at, r.category_code, r.cell_code, r.community_code,
           r.street_code, r.district_code, r.source, t.closed_at, t.dispatched_at, t.resolved_at,
           coalesce(t.answered, false) AS answered,
           coalesce(t.reopened, false) AS reopened,
           coalesce((t.last_callback->>'reached')::boolean, false) AS cb_reached,
           coalesce((t.last_callback->>'unreachable')::boolean, false) AS cb_unreachable,
           coalesce((t.last_callback->>'responded')::boolean, false) AS cb_responded,
           coalesce((t.last_callback->>'solved')::boolean, false) AS cb_solved,
           t.last_callback->>'satisfaction' AS cb_satisfaction,
           NOT coalesce(t.merged_id > coalesce(t.unmerged_id, 0), false) AS not_merged,
           coalesce(t.rejected, false) AS rejected,
           coalesce(t.reworked, false) AS reworked,
           coalesce(t.extended, false) AS extended,
           coalesce(t.overdue_handling, false) AS overdue_handling,
           coalesce(t.overdue, false)
               OR (r.received_at < :start AND EXISTS (
                   SELECT 1 FROM case_events x
                    WHERE x.report_id = r.id AND x.action = 'case.overdue'
                      AND x.at >= r.received_at AND x.at < :start)) AS overdue,
           r.received_at >= :start AND r.received_at < :cutoff AS in_reported,
           -- 立案 in the period and not merged into another case at the cutoff
           r.accepted_at >= :start AND r.accepted_at < :cutoff
               AND NOT coalesce(t.merged_id > coalesce(t.unmerged_id, 0), false) AS is_case,
           coalesce(t.overdue_handling, false)
               OR coalesce(t.handling_due_epoch < :cutoff_epoch, false) AS deadline_come,
           CASE WHEN t.dispatch_key IS NOT NULL
                 AND coalesce(t.returned_id, 0) < left(t.dispatch_key, 19)::bigint
                THEN nullif(substr(t.dispatch_key, 20), '') END AS department_code
      FROM reports r LEFT JOIN trail t ON t.report_id = r.id
     WHERE {in_period}
)
SELECT {key} AS key, GROUPING({key}) = 1 AS is_total,
       count(*) FILTER (WHERE in_reported) AS reported,
       count(*) FILTER (WHERE in_reported AND rejected) AS rejected,
       count(*) FILTER (WHERE is_case) AS accepted,
       count(*) FILTER (WHERE is_case AND (closed_at IS NOT NULL OR deadline_come)) AS due,
       count(*) FILTER (WHERE is_case AND closed_at IS NOT NULL) AS closed,
       count(*) FILTER (WHERE is_case AND closed_at IS NOT NULL AND NOT overdue_handling)
           AS closed_on_time,
       count(*) FILTER (WHERE is_case AND dispatched_at IS NOT NULL
                          AND (resolved_at IS NOT NULL OR deadline_come)) AS due_handling,
       count(*) FILTER (WHERE is_case AND resolved_at IS NOT NULL) AS handled,
       count(*) FILTER (WHERE is_case AND resolved_at IS NOT NULL AND NOT overdue_handling)
           AS handled_on_time,
       count(*) FILTER (WHERE is_case AND reworked) AS reworked,
       count(*) FILTER (WHERE is_case AND closed_at IS NOT NULL AND NOT reworked) AS first_time,
       count(*) FILTER (WHERE is_case AND extended) AS extended,
       count(*) FILTER (WHERE is_case AND overdue) AS overdue,
       count(*) FILTER (WHERE is_case AND overdue_handling) AS overdue_handling,
       -- 接诉即办: 诉求 of the period by their receipt (受理), rated by the callback (回访)
       count(*) FILTER (WHERE in_reported AND not_merged) AS requests,
       count(*) FILTER (WHERE in_reported AND answered) AS answered_on_call,
       count(*) FILTER (WHERE in_reported AND cb_reached) AS callbacks,
       count(*) FILTER (WHERE in_reported AND cb_unreachable) AS callback_unreachable,
       count(*) FILTER (WHERE in_reported AND (answered OR cb_reached)) AS rated,
       count(*) FILTER (WHERE in_reported AND (answered OR (cb_reached AND cb_responded)))
           AS responded,
       count(*) FILTER (WHERE in_reported AND (answered OR (cb_reached AND cb_solved)))
           AS solved,
       count(*) FILTER (WHERE in_reported AND cb_reached
                          AND cb_satisfaction IN ('satisfied', 'basically_satisfied'))
           AS satisfied,
       count(*) FILTER (WHERE in_reported AND reopened) AS reopened,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', accepted_at - received_at))
           FILTER (WHERE is_case) AS median_accept_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', resolved_at - dispatched_at))
           FILTER (WHERE is_case AND resolved_at IS NOT NULL) AS median_handle_s
  FROM f
 GROUP BY GROUPING SETS (({key}), ())
"""


def _narrowing(params: dict, area_prefix: str | None, source: str | None) -> str:
    """` AND …` for an area code prefix and a source (worker, hotline, open311, other)."""
    out = ""
    if area_prefix:
        params["area_pattern"] = area_prefix + "%"
        out += " AND r.area_code LIKE :area_pattern"
    if source:
        params["source"] = source
        out += " AND r.source = :source"
    return out


def indicator_counts(session: Session, principal: Principal, *, group: str, start: datetime,
                     cutoff: datetime, area_prefix: str | None = None,
                     source: str | None = None) -> list[dict]:
    """Per group key (and one total row, is_total), the counts and median seconds over the
    cases and reports the principal may see; docs/indicators.md defines each one."""
    params: dict = {"start": start, "cutoff": cutoff, "cutoff_epoch": cutoff.timestamp()}
    scope = scope_predicate(principal, params)
    area = _narrowing(params, area_prefix, source)
    in_period = _IN_PERIOD.format(scope=scope, area=area)
    # Folding the whole period's trail costs less than first finding whose it is, when the
    # caller sees the whole city; a narrower scope reads only its own cases' trails.
    whole_city = scope == "TRUE" and not area
    trail_cases = "" if whole_city else (
        f"\n       AND e.report_id IN (SELECT r.id FROM reports r WHERE {in_period})")
    sql = _INDICATORS_SQL.format(
        in_period=in_period, trail_cases=trail_cases,
        actions=", ".join(f"'{a}'" for a in _TRAIL_ACTIONS), key=GROUP_KEYS[group])
    _tune(session)
    return [dict(r) for r in session.execute(text(sql), params).mappings()]


def _tune(session: Session) -> None:
    """For this transaction: no JIT (compiling costs more than it saves on these queries) and
    room to aggregate a city's month in memory."""
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '64MB'"))


def names_of(session: Session, group: str, keys: list[str]) -> dict[str, dict]:
    """The names of group keys (areas, departments or categories): {code: {name, name_en}}."""
    if not keys:
        return {}
    if group == "source":
        return {k: {"name": SOURCE_NAMES.get(k, k), "name_en": SOURCE_NAMES_EN.get(k, k)}
                for k in keys}
    table = {"department": "departments", "category": "categories"}.get(group, "areas")
    rows = session.execute(text(f"SELECT code, name, name_en FROM {table} WHERE code = ANY(:k)"),
                           {"k": keys}).mappings()
    return {r["code"]: {"name": r["name"], "name_en": r["name_en"]} for r in rows}


def area_names(session: Session, codes: list[str]) -> dict[str, dict]:
    """{code: {name, name_en}} of areas."""
    return names_of(session, "area", codes)


_TOP_SQL = """
WITH m AS MATERIALIZED (
    -- the month's 立案 cases, not merged into another case
    SELECT r.category_code AS category, {area_key} AS area, r.cell_code AS cell
      FROM reports r
     WHERE r.accepted_at >= :start AND r.accepted_at < :cutoff
       AND r.status <> 'duplicate' AND {area_key} IS NOT NULL
       AND {scope}{area}
),
top AS (
    SELECT category, area, count(*) AS n
      FROM m
     GROUP BY category, area
     ORDER BY n DESC, category, area
     LIMIT :limit
),
earlier AS (
    -- the same classes in the months before: only their categories are read
    SELECT r.category_code AS category, {area_key} AS area,
           to_char(r.accepted_at AT TIME ZONE :tz, 'YYYY-MM') AS month, count(*) AS n
      FROM reports r
     WHERE r.accepted_at >= :trend_start AND r.accepted_at < :start
       AND r.category_code = ANY(ARRAY(SELECT DISTINCT category FROM top))
       AND (r.category_code, {area_key}) IN (SELECT category, area FROM top)
       AND r.status <> 'duplicate'
       AND {scope}{area}
     GROUP BY 1, 2, 3
),
trend AS (
    SELECT category, area, jsonb_object_agg(month, n) AS months
      FROM earlier GROUP BY category, area
),
cells AS (
    SELECT c.category, c.area,
           jsonb_agg(jsonb_build_object('code', c.cell, 'count', c.n) ORDER BY c.n DESC, c.cell)
               AS cells
      FROM (SELECT category, area, cell, count(*) AS n,
                   row_number() OVER (PARTITION BY category, area
                                      ORDER BY count(*) DESC, cell) AS rank
              FROM m
             WHERE cell IS NOT NULL AND (category, area) IN (SELECT category, area FROM top)
             GROUP BY category, area, cell) c
     WHERE c.rank <= :cells
     GROUP BY c.category, c.area
)
SELECT top.category, k.name AS category_name, k.name_en AS category_name_en, top.area,
       a.name AS area_name, a.name_en AS area_name_en, top.n AS count,
       coalesce(trend.months, '{{}}'::jsonb) AS months, coalesce(cells.cells, '[]'::jsonb) AS cells
  FROM top
  JOIN categories k ON k.code = top.category
  LEFT JOIN areas a ON a.code = top.area
  LEFT JOIN trend USING (category, area)
  LEFT JOIN cells USING (category, area)
 ORDER BY top.n DESC, top.category, top.area
"""

_AREA_KEY = {"district": "r.district_code", "street": "r.street_code",
             "community": "r.community_code", "cell": "r.cell_code"}


def top_problem_rows(session: Session, principal: Principal, *, level: str, start: datetime,
                     trend_start: datetime, cutoff: datetime, tz: str, limit: int,
                     cells: int, area_prefix: str | None = None,
                     source: str | None = None) -> list[dict]:
    """The most frequent category × area classes of the month, with counts per month since
    trend_start and their top cells."""
    params: dict = {"start": start, "trend_start": trend_start, "cutoff": cutoff, "tz": tz,
                    "limit": limit, "cells": cells}
    scope = scope_predicate(principal, params)
    area = _narrowing(params, area_prefix, source)
    sql = _TOP_SQL.format(area_key=_AREA_KEY[level], scope=scope, area=area)
    _tune(session)
    return [dict(r) for r in session.execute(text(sql), params).mappings()]


def cell_points(session: Session, codes: list[str]) -> dict[str, dict]:
    """Each cell's name and a point inside it (ST_PointOnSurface: an L-shaped cell's centroid
    can fall outside it)."""
    if not codes:
        return {}
    rows = session.execute(text("""
        SELECT code, name, name_en, ST_X(p) AS lon, ST_Y(p) AS lat
          FROM (SELECT code, name, name_en, ST_PointOnSurface(boundary) AS p FROM areas
                 WHERE code = ANY(:k)) a
    """), {"k": codes}).mappings().all()
    return {r["code"]: dict(r) for r in rows}
