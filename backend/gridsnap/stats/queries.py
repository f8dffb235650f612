"""The evaluation's SQL: the indicator table in one pass over a period's trail, 每月一题.

The indicator table reads each case's audit trail up to the cutoff (the period's end, or now)
and folds it into the facts the definitions in docs/indicators.md need, then counts them per
group with FILTER aggregates; GROUPING SETS add the total row in the same pass.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import text as _sql
from sqlalchemy.orm import Session

from ..events import rules as ev
from ..users.queries import scope_predicate
from ..users.rules import Principal
from .rules import KEPT_FACTS, KIND_NAMES, SOURCE_NAMES, SOURCE_NAMES_EN, SUM_KEYS

# Event names are their owner's (events.rules): the statements here name them as `ev.CASE_…`,
# and text() writes each one in as its quoted value, never typed again in SQL.
_EVENT_NAME = re.compile(r"\bev\.([A-Z][A-Z_]*)\b")


def text(sql: str):
    """An SQL statement with its `ev.NAME`s written in as events.rules spells them."""
    return _sql(_EVENT_NAME.sub(lambda m: "'" + getattr(ev, m.group(1)) + "'", sql))


# the events the indicators read
_TRAIL_ACTIONS = (ev.REPORT_ROUTED, ev.CASE_ACCEPTED, ev.CASE_REJECTED, ev.CASE_MERGED,
                  ev.CASE_UNMERGED, ev.CASE_DISPATCHED, ev.CASE_RETURNED, ev.CASE_RETURN_APPROVED,
                  ev.CASE_RETURN_REFUSED, ev.CASE_RESOLVED, ev.CASE_REWORK_ORDERED,
                  ev.CASE_EXTENSION_APPROVED, ev.CASE_OVERDUE, ev.CASE_VERIFIED, ev.CASE_CLOSED,
                  ev.CASE_ANSWERED, ev.CASE_CALLBACK_RECORDED, ev.CASE_REOPENED, ev.CASE_WHISTLED,
                  ev.CASE_SUSPENDED, ev.CASE_RESUMED, ev.CASE_DEADLINE_RECOMPUTED,
                  ev.CASE_CONTACTED, ev.CASE_EXCLUDED, ev.CASE_RATING_REDUCED)
# events that give the case a department (the latest one, unless a return came after it)
_ASSIGNING = (ev.CASE_DISPATCHED, ev.CASE_WHISTLED, ev.CASE_RETURN_REFUSED, ev.CASE_RESUMED)
# events that set or move the handling deadline (处置时限); a suspension stops it
_HANDLING_DUE = (ev.CASE_DISPATCHED, ev.CASE_REWORK_ORDERED, ev.CASE_EXTENSION_APPROVED,
                 ev.CASE_REOPENED, ev.CASE_WHISTLED, ev.CASE_RETURN_REFUSED, ev.CASE_RESUMED,
                 ev.CASE_SUSPENDED, ev.CASE_DEADLINE_RECOMPUTED)

# whether an event starts a stage, ends one or moves its deadline (the trail records the stage
# and its due_at; an old extension only its new_due_at; a suspension stops every deadline).
# A case.overdue or case.escalated repeats the stage in force and starts nothing.
_SETS_STAGE = """(e.action NOT IN (ev.CASE_OVERDUE, ev.CASE_ESCALATED)
                  AND (e.data ? 'stage' OR e.data ? 'new_due_at'
                       OR e.action = ev.CASE_SUSPENDED))"""
_STAGE_DUE = "coalesce(e.data->>'due_at', e.data->>'new_due_at')::timestamptz"
_STAGE = ("coalesce(e.data->>'stage', CASE WHEN e.action = ev.CASE_EXTENSION_APPROVED "
          "THEN 'handle' END)")

# the group key of each grouping, as an expression over `f` (the facts of one case)
GROUP_KEYS = {
    "district": "f.district_code",
    "street": "f.street_code",
    "community": "f.community_code",
    "cell": "f.cell_code",
    "category": "f.category_code",
    "kind": ("CASE left(f.category_code, 1) WHEN 'C' THEN 'component' "
             "WHEN 'E' THEN 'event' END"),
    "major_class": "left(f.category_code, 3)",
    "department": "f.department_code",
    "source": "f.source",
    "reporter": "f.reporter_id::text",
    "handler": "f.handler_id::text",
    "dispatcher": "f.dispatcher_id::text",
}

# The reports of the period: received in it (上报数) or accepted in it (立案), in scope. Written
# out twice below rather than shared as a CTE, so the planner estimates it: a hash join over
# the period's trail for the city, index probes per case for a community.
_IN_PERIOD = """
    ((r.received_at >= :start AND r.received_at < :cutoff)
     OR (r.accepted_at >= :start AND r.accepted_at < :cutoff))
    AND {scope}{area}
"""

# The trail of the period folded per case (w, then trail): what the facts below are read from.
_TRAIL_CTES = """
w AS (
    -- the period's trail, one scan: each event, and for an event that starts a stage, ends
    -- one or moves its deadline (is_stage) the stage, its deadline and when the case's next
    -- such event ended it (none: in force at the cutoff). One sort serves the window and the
    -- fold per case below.
    SELECT e.report_id, e.id, e.at, e.action, e.data, e.department_code, e.actor_id,
           s.is_stage,
           CASE WHEN s.is_stage THEN {stage} END AS stage,
           CASE WHEN s.is_stage THEN {stage_due} END AS due,
           lead(e.at) OVER (PARTITION BY e.report_id, s.is_stage ORDER BY e.id) AS ended_at
      FROM case_events e
     CROSS JOIN LATERAL (SELECT {sets_stage} AS is_stage) s
     WHERE e.at >= :start AND e.at < :cutoff
       AND e.action IN ({actions}){trail_cases}
),
trail AS (
    -- each case's trail from the period's start to the cutoff, folded into the facts the
    -- definitions need. Nothing they read can happen before a case is reported or accepted
    -- in the period, except a stage deadline of a report received earlier (see f).
    SELECT e.report_id,
           -- closed, unless reopened (重新办理) after its latest close
           CASE WHEN max(e.id) FILTER (WHERE e.action IN (ev.CASE_VERIFIED, ev.CASE_CLOSED))
                     > coalesce(max(e.id) FILTER (WHERE e.action = ev.CASE_REOPENED), 0)
                THEN min(e.at) FILTER (WHERE e.action IN (ev.CASE_VERIFIED, ev.CASE_CLOSED))
           END AS closed_at,
           min(e.at) FILTER (WHERE e.action IN (ev.CASE_DISPATCHED, ev.CASE_WHISTLED))
               AS dispatched_at,
           max(e.at) FILTER (WHERE e.action = ev.CASE_RESOLVED) AS resolved_at,
           max(e.id) FILTER (WHERE e.action = ev.CASE_RESOLVED) AS resolved_id,
           -- a check (核查) of the latest resolution: passed, closed or sent back
           max(e.id) FILTER (WHERE e.action IN (ev.CASE_VERIFIED, ev.CASE_CLOSED,
                                                ev.CASE_REWORK_ORDERED)) AS checked_id,
           -- who resolved (处置人员): the actor of the latest resolution
           (max(ARRAY[e.id, e.actor_id::bigint])
               FILTER (WHERE e.action = ev.CASE_RESOLVED AND e.actor_id IS NOT NULL))[2]
               AS handler_id,
           -- who dispatched (派遣人员): the actor of the latest dispatch (none: the system)
           (max(ARRAY[e.id, e.actor_id::bigint])
               FILTER (WHERE e.action = ev.CASE_DISPATCHED))[2] AS dispatcher_id,
           bool_or(e.action = ev.CASE_REJECTED) AS rejected,
           bool_or(e.action IN (ev.CASE_REWORK_ORDERED, ev.CASE_REOPENED)) AS reworked,
           count(*) FILTER (WHERE e.action IN (ev.CASE_REWORK_ORDERED, ev.CASE_REOPENED))
               AS rework_times,
           count(*) FILTER (WHERE e.action = ev.CASE_RESOLVED) AS resolutions,
           bool_or(e.action = ev.CASE_REOPENED) AS reopened,
           bool_or(e.action = ev.CASE_ANSWERED) AS answered,
           -- the units it was dispatched to (a whistle's: the lead): more than one is 转派
           count(DISTINCT coalesce(e.data->>'lead', e.department_code))
               FILTER (WHERE e.action IN (ev.CASE_DISPATCHED, ev.CASE_WHISTLED))
               AS dispatch_units,
           -- 不合理诉求 approved (剔除), 申诉 approved (核减)
           bool_or(e.action = ev.CASE_EXCLUDED) AS excluded,
           bool_or(e.action = ev.CASE_RATING_REDUCED) AS reduced,
           -- 先行联系: the unit reached the caller within its contact limit
           bool_or(e.action = ev.CASE_CONTACTED AND e.data->>'outcome' = 'reached'
                   AND coalesce((e.data->>'in_time')::boolean, false)) AS contacted_in_time,
           -- the latest callback try (回访): reached with its answers, or not (an [id, data]
           -- string, so no aggregate needs its input sorted)
           max(lpad(e.id::text, 19, '0') || e.data::text)
               FILTER (WHERE e.action = ev.CASE_CALLBACK_RECORDED) AS last_callback_key,
           bool_or(e.action = ev.CASE_EXTENSION_APPROVED) AS extended,
           -- late in a stage by the sweep (case.overdue)
           bool_or(e.action = ev.CASE_OVERDUE) AS overdue_any,
           bool_or(e.action = ev.CASE_OVERDUE AND e.data->>'stage' = 'accept')
               AS overdue_accept,
           bool_or(e.action = ev.CASE_OVERDUE AND e.data->>'stage' = 'handle')
               AS overdue_handle,
           bool_or(e.action = ev.CASE_OVERDUE AND e.data->>'stage' = 'verify')
               AS overdue_verify,
           max(e.id) FILTER (WHERE e.action = ev.CASE_MERGED) AS merged_id,
           max(e.id) FILTER (WHERE e.action = ev.CASE_UNMERGED) AS unmerged_id,
           max(e.id) FILTER (WHERE e.action = ev.CASE_SUSPENDED) AS suspended_id,
           max(e.id) FILTER (WHERE e.action = ev.CASE_RESUMED) AS resumed_id,
           max(e.id) FILTER (WHERE e.action IN (ev.CASE_RETURNED, ev.CASE_RETURN_APPROVED))
               AS returned_id,
           -- the latest assignment (event ids follow insertion, which is causal order) with
           -- its department (a whistle's: the lead), as one sortable string
           max(lpad(e.id::text, 19, '0') || coalesce(e.data->>'lead', e.department_code, ''))
               FILTER (WHERE e.action IN ({assigning})) AS dispatch_key,
           -- late in a stage: a deadline of that stage passed before the next stage event
           -- ended it (or before the cutoff), whether or not the sweep marked it
           coalesce(bool_or(e.due < coalesce(e.ended_at, :cutoff)) FILTER (WHERE e.is_stage),
                    false) AS late_any,
           coalesce(bool_or(e.due < coalesce(e.ended_at, :cutoff))
               FILTER (WHERE e.is_stage AND e.stage = 'accept'), false) AS late_accept,
           coalesce(bool_or(e.due < coalesce(e.ended_at, :cutoff))
               FILTER (WHERE e.is_stage AND e.stage = 'handle'), false) AS late_handle,
           coalesce(bool_or(e.due < coalesce(e.ended_at, :cutoff))
               FILTER (WHERE e.is_stage AND e.stage = 'verify'), false) AS late_verify,
           min(e.at) FILTER (WHERE e.is_stage) AS first_stage_at,
           -- the stage deadline in force at the cutoff: that of the case's last stage event
           -- (the only one no later stage event ended)
           max(e.stage) FILTER (WHERE e.is_stage AND e.ended_at IS NULL) AS open_stage,
           max(e.due) FILTER (WHERE e.is_stage AND e.ended_at IS NULL) AS open_due,
           -- the handling deadline in force: the due_at set by the latest event that sets or
           -- moves it ([event id, due epoch] pairs compare by id first; a suspension: none)
           (max(ARRAY[e.id::float8, date_part('epoch', e.due)])
               FILTER (WHERE e.is_stage AND e.action IN ({handling_due})
                         AND (e.action <> ev.CASE_DEADLINE_RECOMPUTED
                              OR e.stage = 'handle')))[2] AS handling_due_epoch
      FROM w e
     GROUP BY e.report_id
)
"""

# The facts of one case of the period that its trail decides, as of the cutoff: by name, each
# with its SQL over `t` (the case's fold), `pre` (the deadline a report received before the
# period brought into it) and `r` (the report; only its id and receipt). The report's own
# attributes (area, category, source…) are not among them: they are read from the report at
# every table, so a case moved to another category counts under its new one for every period.
# For a month closed for good they are kept once (indicator_facts, keep_period_sql): the trail
# before a closed cutoff no longer changes, the application stamping every event with its clock.
_FACT_SQL = {
    "handler_id": "t.handler_id",
    "dispatcher_id": "t.dispatcher_id",
    "closed_at": "t.closed_at",
    "dispatched_at": "t.dispatched_at",
    "resolved_at": "t.resolved_at",
    "answered": "coalesce(t.answered, false)",
    "excluded": "coalesce(t.excluded, false)",
    "reduced": "coalesce(t.reduced, false)",
    "contacted_in_time": "coalesce(t.contacted_in_time, false)",
    "reopened": "coalesce(t.reopened, false)",
    "dispatch_units": "coalesce(t.dispatch_units, 0)",
    # 重复诉求: linked to an earlier request of its class at its place before the cutoff
    "repeat_request": """EXISTS (SELECT 1 FROM case_links l
                    WHERE l.report_id = r.id AND l.repeat AND l.created_at < :cutoff)""",
    "cb_reached": "coalesce((substr(t.last_callback_key, 20)::jsonb->>'reached')::boolean, false)",
    "cb_unreachable": "coalesce((substr(t.last_callback_key, 20)::jsonb->>'unreachable')::boolean, false)",
    "cb_responded": "coalesce((substr(t.last_callback_key, 20)::jsonb->>'responded')::boolean, false)",
    "cb_solved": "coalesce((substr(t.last_callback_key, 20)::jsonb->>'solved')::boolean, false)",
    "cb_satisfaction": "substr(t.last_callback_key, 20)::jsonb->>'satisfaction'",
    # not merged into another case at the cutoff
    "not_merged": "NOT coalesce(t.merged_id > coalesce(t.unmerged_id, 0), false)",
    "rejected": "coalesce(t.rejected, false)",
    "reworked": "coalesce(t.reworked, false)",
    "rework_times": "coalesce(t.rework_times, 0)",
    "resolutions": "coalesce(t.resolutions, 0)",
    "extended": "coalesce(t.extended, false)",
    "late_accept": """coalesce(t.overdue_accept, false) OR coalesce(t.late_accept, false)
               OR coalesce(pre.late_stage = 'accept', false)""",
    "late_handle": """coalesce(t.overdue_handle, false) OR coalesce(t.late_handle, false)
               OR coalesce(pre.late_stage = 'handle', false)""",
    "late_verify": """coalesce(t.overdue_verify, false) OR coalesce(t.late_verify, false)
               OR coalesce(pre.late_stage = 'verify', false)""",
    "late_any": """coalesce(t.overdue_any, false) OR coalesce(t.late_any, false)
               OR pre.late_stage IS NOT NULL""",
    "checked": "t.resolved_at IS NOT NULL AND coalesce(t.checked_id > t.resolved_id, false)",
    "suspended": "coalesce(t.suspended_id > coalesce(t.resumed_id, 0), false)",
    "handling_due_come": "coalesce(t.handling_due_epoch < :cutoff_epoch, false)",
    # the stage deadline in force at the cutoff: the trail's, or the one a report received
    # before the period brought into it if no stage event of the period ended it
    "open_stage": "CASE WHEN t.first_stage_at IS NOT NULL THEN t.open_stage ELSE pre.open_stage END",
    "open_due": "CASE WHEN t.first_stage_at IS NOT NULL THEN t.open_due ELSE pre.open_due END",
    "handling_due_epoch": "t.handling_due_epoch",
    "department_code": """CASE WHEN t.dispatch_key IS NOT NULL
                 AND coalesce(t.returned_id, 0) < left(t.dispatch_key, 19)::bigint
                THEN nullif(substr(t.dispatch_key, 20), '') END""",
}
# (name, SQL, column type) of the fold's facts; the kept table adds each case's dispatches
FACTS = tuple((name, _FACT_SQL[name], kind) for name, kind in KEPT_FACTS
              if name in _FACT_SQL)
assert {name for name, _ in KEPT_FACTS} == set(_FACT_SQL) | {"dispatches", "wrong_dispatches"}

# each report of the period with its trail's fold and the deadline it brought into the period
_LIVE_FROM = """reports r
      LEFT JOIN trail t ON t.report_id = r.id
      -- a report received before the period: the stage deadline it brought into the period
      -- (open_stage, open_due), late if it passed before the next stage event (or the
      -- cutoff), or a case.overdue before the period: the stage it was late in (late_stage);
      -- the one-time filter keeps the look-ups to them
      LEFT JOIN LATERAL (
          SELECT CASE WHEN p.due < least(coalesce(t.first_stage_at, :cutoff), :cutoff)
                        OR EXISTS (SELECT 1 FROM case_events x
                                    WHERE x.report_id = r.id AND x.action = ev.CASE_OVERDUE
                                      AND x.at >= r.received_at AND x.at < :start)
                      THEN coalesce(p.stage, 'accept') END AS late_stage,
                 coalesce(p.stage, 'accept') AS open_stage, p.due AS open_due
            FROM (SELECT 1) one
            LEFT JOIN LATERAL (
                SELECT {stage} AS stage, {stage_due} AS due
                  FROM case_events e
                 WHERE e.report_id = r.id AND e.at >= r.received_at AND e.at < :start
                   AND {sets_stage}
                 ORDER BY e.id DESC LIMIT 1) p ON true
           WHERE r.received_at < :start) pre ON true"""

# the facts kept for a period (its row's key: the period's start and end)
_KEPT_FROM = """reports r
      JOIN indicator_facts k
        ON k.report_id = r.id AND k.period_start = :start AND k.cutoff = :kept_end"""
# a kept fact as of the table's cutoff: as kept, but a stage deadline or the handling deadline
# in force when the facts were taken that has passed since (a month kept to a watermark; for a
# month kept at its end, nothing passed since)
_KEPT_AT_CUTOFF = {
    **{f"late_{stage}": (f"(k.late_{stage} OR coalesce(k.open_stage = '{stage}' "
                         "AND k.open_due < :cutoff, false))")
       for stage in ("accept", "handle", "verify")},
    "late_any": "(k.late_any OR coalesce(k.open_due < :cutoff, false))",
    "handling_due_come": ("(k.handling_due_come "
                          "OR coalesce(k.handling_due_epoch < :cutoff_epoch, false))"),
}
_KEPT_FACTS_SQL = ",\n           ".join(f"{_KEPT_AT_CUTOFF.get(name, 'k.' + name)} AS {name}"
                                      for name, _ in KEPT_FACTS)
# the reports a period kept to a watermark (kept_to) has to fold again at a later cutoff:
# those with a trail event, received or accepted since
_TOUCHED = """touched AS MATERIALIZED (
    SELECT e.report_id FROM case_events e WHERE e.at >= :kept_to AND e.at < :cutoff
    UNION
    -- written since, whatever its time (history imported into the month, a late commit)
    SELECT e.report_id FROM case_events e WHERE e.id > :kept_event_id
    UNION
    SELECT r.id FROM reports r WHERE r.number > :kept_report_number
    UNION
    SELECT r.id FROM reports r
     WHERE (r.received_at >= :kept_to AND r.received_at < :cutoff)
        OR (r.accepted_at >= :kept_to AND r.accepted_at < :cutoff)
),"""
_ONLY_TOUCHED = "\n       AND e.report_id IN (SELECT report_id FROM touched)"
# each case's dispatches and wrong dispatches (错派), from _DISPATCH_CTES
_DX = """dx AS (
    SELECT x.report_id, count(*) AS dispatches,
           count(*) FILTER (WHERE x.id IN (SELECT id FROM wrong)) AS wrong_dispatches
      FROM x WHERE x.action = ev.CASE_DISPATCHED
     GROUP BY x.report_id
),"""

# each report of the period with its facts: its attributes, and what its trail decides
_F0 = """    SELECT r.received_at, r.accepted_at, r.category_code, r.cell_code, r.community_code,
           r.street_code, r.district_code, r.source, r.nature, r.reporter_id,
           left(r.area_code, 9) AS area9,
           {facts}
      FROM {facts_from}
     WHERE {in_period}{only}"""

_INDICATORS_SQL = """
WITH {trail_ctes}
f0 AS (
{f0}
),
f AS (
    SELECT f0.*, received_at >= :start AND received_at < :cutoff AS in_reported,
           -- 立案 in the period and not merged into another case at the cutoff
           accepted_at >= :start AND accepted_at < :cutoff AND not_merged AS is_case
      FROM f0
),
g AS (
    -- the cases that count towards the rates: a case suspended (挂账) at the cutoff leaves
    -- 应结案 and the rates built on it when the city says so (GRIDSNAP_SUSPENDED_LEAVE_DUE)
    SELECT f.*, is_case AND NOT (suspended AND :suspended_leave_due) AS counted,
           -- a 12345 request (诉求) of the period: received by the hotline, not merged
           in_reported AND not_merged AND source = 'hotline' AS request,
           -- a consultation (咨询) is never meant for 立案: it leaves 立案率
           nature IS DISTINCT FROM 'consultation' AS to_accept,
           (late_accept AND 'accept' = ANY(:on_time_stages))
               OR (late_handle AND 'handle' = ANY(:on_time_stages))
               OR (late_verify AND 'verify' = ANY(:on_time_stages)) AS late_for_on_time
      FROM f
),
h AS (
    -- the denominators each numerator is taken from (docs/indicators.md: a numerator is
    -- always part of its denominator)
    SELECT g.*,
           counted AND (closed_at IS NOT NULL OR late_any OR handling_due_come) AS is_due,
           counted AND dispatched_at IS NOT NULL
               AND (resolved_at IS NOT NULL OR late_handle OR handling_due_come)
               AS is_due_handling,
           request AND dispatched_at IS NOT NULL AND NOT excluded AS dispatched_request,
           -- a request the centre rejected (不予立案) is its answer, rated by the callback
           request AND rejected AND dispatched_at IS NULL AND NOT excluded AS rejected_request
      FROM g
),
i AS (
    -- the requests the three rates are over, and the callbacks that rate them (a rated
    -- result reduced on appeal, 核减, leaves them)
    SELECT h.*, dispatched_request OR rejected_request AS rated_request,
           (dispatched_request OR rejected_request) AND cb_reached AND NOT reduced AS rated_cb
      FROM h
)
SELECT {select_keys},
       count(*) FILTER (WHERE in_reported) AS reported,
       count(*) FILTER (WHERE in_reported AND source = 'worker') AS reported_worker,
       count(*) FILTER (WHERE in_reported AND source = 'hotline') AS reported_hotline,
       count(*) FILTER (WHERE in_reported AND source = 'open311') AS reported_open311,
       count(*) FILTER (WHERE in_reported AND source = 'other') AS reported_other,
       count(*) FILTER (WHERE in_reported AND to_accept) AS reported_to_accept,
       count(*) FILTER (WHERE in_reported AND rejected) AS rejected,
       count(*) FILTER (WHERE in_reported AND to_accept AND not_merged
                          AND accepted_at < :cutoff) AS accepted_of_reported,
       count(*) FILTER (WHERE is_case) AS accepted,
       -- 应结案: closed, or a deadline of any stage had come (late), or the handling deadline
       -- in force had come
       count(*) FILTER (WHERE is_due) AS due,
       count(*) FILTER (WHERE is_due AND closed_at IS NOT NULL) AS closed,
       count(*) FILTER (WHERE is_due AND closed_at IS NOT NULL AND NOT late_for_on_time)
           AS closed_on_time,
       count(*) FILTER (WHERE is_case AND suspended) AS suspended,
       count(*) FILTER (WHERE is_due_handling) AS due_handling,
       count(*) FILTER (WHERE is_due_handling AND resolved_at IS NOT NULL) AS handled,
       count(*) FILTER (WHERE is_due_handling AND resolved_at IS NOT NULL AND NOT late_handle)
           AS handled_on_time,
       -- each rework follows a resolution: at most as many reworks as resolutions per case
       sum(resolutions) FILTER (WHERE counted) AS resolutions,
       count(*) FILTER (WHERE counted AND resolved_at IS NOT NULL AND (checked OR late_verify))
           AS due_verification,
       count(*) FILTER (WHERE counted AND checked) AS verified,
       count(*) FILTER (WHERE counted AND checked AND NOT late_verify) AS verified_on_time,
       count(*) FILTER (WHERE is_due_handling AND resolved_at IS NOT NULL AND reworked)
           AS reworked,
       sum(least(rework_times, resolutions)) FILTER (WHERE counted) AS rework_times,
       count(*) FILTER (WHERE is_due AND closed_at IS NOT NULL AND NOT reworked) AS first_time,
       count(*) FILTER (WHERE counted AND extended) AS extended,
       count(*) FILTER (WHERE is_due AND extended) AS extended_due,
       count(*) FILTER (WHERE is_due AND late_any) AS overdue,
       count(*) FILTER (WHERE is_due AND late_handle) AS overdue_handling,
       -- 接诉即办: 12345 requests (诉求) of the period by their receipt (受理); 即时答复 is the
       -- hotline's own figure, the three rates are over the dispatched requests, rated by the
       -- callback (回访)
       count(*) FILTER (WHERE request) AS requests,
       count(*) FILTER (WHERE request AND answered) AS answered_on_call,
       count(*) FILTER (WHERE dispatched_request) AS dispatched_requests,
       count(*) FILTER (WHERE rejected_request) AS rejected_requests,
       count(*) FILTER (WHERE request AND excluded) AS excluded_requests,
       count(*) FILTER (WHERE rated_request AND cb_reached AND reduced) AS reduced_requests,
       count(*) FILTER (WHERE rated_cb) AS callbacks,
       count(*) FILTER (WHERE rated_request AND cb_unreachable) AS callback_unreachable,
       count(*) FILTER (WHERE rated_cb) AS rated,
       count(*) FILTER (WHERE dispatched_request AND contacted_in_time) AS contacted_in_time,
       -- 响应: the unit's record shows it reached the caller in time, and the caller, called
       -- back, confirms they got an answer (a rejected request: the centre answered it, the
       -- callback alone says)
       count(*) FILTER (WHERE rated_cb AND cb_responded
                          AND (contacted_in_time OR rejected_request)) AS responded,
       count(*) FILTER (WHERE rated_cb AND cb_solved) AS solved,
       count(*) FILTER (WHERE rated_cb
                          AND cb_satisfaction IN ('satisfied', 'basically_satisfied'))
           AS satisfied,
       count(*) FILTER (WHERE request AND reopened) AS reopened,
       count(*) FILTER (WHERE request AND repeat_request) AS repeat_requests,
       -- the hotline's own figures: 直派 (the first unit kept it) and 转派 (dispatched to
       -- another unit after it), 一次办结 (answered on the call, or solved at the callback
       -- without 重新办理) of the requests answered on the call or rated
       count(*) FILTER (WHERE dispatched_request AND dispatch_units <= 1) AS direct_dispatched,
       count(*) FILTER (WHERE dispatched_request AND dispatch_units > 1) AS transferred,
       count(*) FILTER (WHERE (request AND answered) OR rated_cb) AS settled_requests,
       count(*) FILTER (WHERE (request AND answered)
                          OR (rated_cb AND cb_solved AND NOT reopened)) AS first_call_resolved{medians}{kept_counts}
  FROM i f
 GROUP BY {group_by}
"""

# the medians of a table's group (a median does not add up: a sum of months has none)
_MEDIANS = """,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', dispatched_at - received_at))
           FILTER (WHERE dispatched_request) AS median_dispatch_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', accepted_at - received_at))
           FILTER (WHERE is_case) AS median_accept_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', resolved_at - dispatched_at))
           FILTER (WHERE is_case AND resolved_at IS NOT NULL) AS median_handle_s"""

# 派遣准确率 is the dispatcher's indicator: one row per dispatch (case.dispatched) of a case of
# the period, charged to who dispatched it (the command centre's post, or the system); a wrong
# dispatch (错派) undoes that dispatch: a return the supervisor approved, or one that took
# effect at once (no review: data.review false, or a return written before the review), after
# it and before the next dispatch or whistle. Grouped by department, a dispatch counts for no
# department (the receiving department did not make it): only in the total.
_DISPATCH_CTES = """
x AS (
    -- the period's dispatches, whistles, returns, merges and unmerges, one scan, each with the
    -- case's latest dispatch or whistle (assigned) and latest dispatch before it, in event
    -- order. A case accepted in the period is dispatched, returned and merged after its
    -- acceptance: nothing it needs here comes before the period's start.
    SELECT e.report_id, e.id, e.action, e.actor_id,
           e.action = ev.CASE_RETURN_APPROVED
               OR (e.action = ev.CASE_RETURNED
                   AND coalesce(e.data->>'review', 'false') = 'false') AS undoes,
           max(e.id) FILTER (WHERE e.action IN (ev.CASE_DISPATCHED, ev.CASE_WHISTLED))
               OVER w AS assigned_id,
           max(e.id) FILTER (WHERE e.action = ev.CASE_DISPATCHED) OVER w AS dispatch_id
      FROM case_events e
     WHERE e.at >= :start AND e.at < :cutoff
       AND e.action IN (ev.CASE_DISPATCHED, ev.CASE_WHISTLED, ev.CASE_RETURNED,
                        ev.CASE_RETURN_APPROVED, ev.CASE_MERGED, ev.CASE_UNMERGED){trail_cases}
    WINDOW w AS (PARTITION BY e.report_id ORDER BY e.id)
),
wrong AS (
    -- a dispatch undone by a return before the next dispatch or whistle
    SELECT DISTINCT x.dispatch_id AS id FROM x
     WHERE x.undoes AND x.assigned_id = x.dispatch_id
)
"""

_DISPATCH_SQL = """
WITH {dispatch_ctes},
merged AS (
    -- merged into another case at the cutoff: its latest merge or unmerge is a merge
    SELECT x.report_id FROM x
     WHERE x.action IN (ev.CASE_MERGED, ev.CASE_UNMERGED)
     GROUP BY x.report_id
    HAVING (max(ARRAY[x.id, (x.action = ev.CASE_MERGED)::int]))[2] = 1
),
f AS (
    SELECT r.id, r.category_code, r.cell_code, r.community_code, r.street_code,
           r.district_code, r.source, r.reporter_id, r.resolved_by_id AS handler_id,
           NULL::text AS department_code, d.actor_id AS dispatcher_id,
           d.id IN (SELECT id FROM wrong) AS wrong
      FROM x d JOIN reports r ON r.id = d.report_id
     WHERE d.action = ev.CASE_DISPATCHED
       AND r.accepted_at >= :start AND r.accepted_at < :cutoff AND {scope}{area}
       AND r.id NOT IN (SELECT report_id FROM merged)
)
SELECT {key} AS key, GROUPING({key}) = 1 AS is_total,
       count(*) AS dispatches, count(*) FILTER (WHERE wrong) AS wrong_dispatches
  FROM f
 GROUP BY GROUPING SETS (({key}), ())
"""
DISPATCH_KEYS = ("dispatches", "wrong_dispatches")

# 报到率 and 督办: one row per department summoned by a whistle of the period (街乡吹哨、部门
# 报到) and per notice issued in the period. Grouped by department, a row counts for the
# summoned / noticed department, not the case's; grouped otherwise, by the case's key.
_PARTICIPATION_SQL = """
WITH summons AS (
    -- every department a whistle of the period summoned (lead and co), the latest whistle
    -- of a case per department
    SELECT DISTINCT ON (e.report_id, d.code)
           e.report_id, e.id AS whistle_id, d.code AS department_code,
           (e.data->>'report_due_at')::timestamptz AS report_due_at
      FROM case_events e
     CROSS JOIN LATERAL (
           SELECT e.data->>'lead' AS code
           UNION ALL
           SELECT jsonb_array_elements_text(coalesce(e.data->'co', '[]'::jsonb))) d
     WHERE e.action = ev.CASE_WHISTLED AND e.at >= :start AND e.at < :cutoff
       AND d.code IS NOT NULL
     ORDER BY e.report_id, d.code, e.id DESC
),
reports_in AS (
    SELECT s.*, (SELECT min(x.at) FROM case_events x
                  WHERE x.report_id = s.report_id AND x.action = ev.CASE_REPORTED_IN
                    AND x.id > s.whistle_id AND x.at < :cutoff
                    AND x.data->>'department_code' = s.department_code) AS reported_in_at
      FROM summons s
),
notices AS (
    SELECT e.report_id, e.data->>'department_code' AS department_code,
           (e.data->>'reply_due_at')::timestamptz AS reply_due_at,
           (SELECT min(x.at) FROM case_events x
             WHERE x.report_id = e.report_id AND x.action = ev.CASE_NOTICE_REPLIED
               AND x.at < :cutoff AND x.data->>'notice_id' = e.data->>'notice_id')
               AS replied_at
      FROM case_events e
     WHERE e.action = ev.CASE_NOTICE_ISSUED AND e.at >= :start AND e.at < :cutoff
),
p AS (
    SELECT i.report_id, i.department_code AS own_department,
           i.report_due_at < :cutoff OR i.reported_in_at IS NOT NULL AS summoned,
           i.reported_in_at IS NOT NULL AS reported_in,
           i.reported_in_at <= i.report_due_at AS reported_in_on_time,
           false AS notice, false AS notice_due, false AS replied, false AS replied_on_time,
           false AS unanswered_overdue
      FROM reports_in i
    UNION ALL
    SELECT n.report_id, n.department_code, false, false, false, true,
           n.replied_at IS NOT NULL OR n.reply_due_at < :cutoff,
           n.replied_at IS NOT NULL, n.replied_at <= n.reply_due_at,
           n.replied_at IS NULL AND n.reply_due_at < :cutoff
      FROM notices n
),
f AS (
    SELECT p.*, r.category_code, r.cell_code, r.community_code, r.street_code,
           r.district_code, r.source, r.reporter_id, r.resolved_by_id AS handler_id,
           p.own_department AS department_code,
           (SELECT x.actor_id FROM case_events x
             WHERE x.report_id = r.id AND x.action = ev.CASE_DISPATCHED AND x.at < :cutoff
             ORDER BY x.id DESC LIMIT 1) AS dispatcher_id
      FROM p JOIN reports r ON r.id = p.report_id
     WHERE {scope}{area}
)
SELECT {key} AS key, GROUPING({key}) = 1 AS is_total,
       count(*) FILTER (WHERE summoned) AS summoned,
       count(*) FILTER (WHERE reported_in) AS reported_in,
       count(*) FILTER (WHERE summoned AND coalesce(reported_in_on_time, false))
           AS reported_in_on_time,
       count(*) FILTER (WHERE notice) AS notices,
       count(*) FILTER (WHERE notice_due) AS notices_due,
       count(*) FILTER (WHERE replied) AS notices_replied,
       count(*) FILTER (WHERE coalesce(replied_on_time, false)) AS notices_replied_on_time,
       count(*) FILTER (WHERE unanswered_overdue) AS notices_unanswered_overdue
  FROM f
 GROUP BY GROUPING SETS (({key}), ())
"""
PARTICIPATION_KEYS = ("summoned", "reported_in", "reported_in_on_time", "notices",
                      "notices_due", "notices_replied", "notices_replied_on_time",
                      "notices_unanswered_overdue")


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


def _fold_bits(trail_cases: str) -> dict:
    return {"trail_cases": trail_cases, "sets_stage": _SETS_STAGE, "stage_due": _STAGE_DUE,
            "stage": _STAGE, "actions": _quoted(_TRAIL_ACTIONS),
            "assigning": _quoted(_ASSIGNING), "handling_due": _quoted(_HANDLING_DUE)}


_LIVE_FACTS_SQL = ",\n           ".join(f"{sql} AS {name}" for name, sql, _ in FACTS)
# a kept row's columns are the fold's facts then each case's dispatches: one order for both
assert [n for n, _ in KEPT_FACTS] == [n for n, _, _ in FACTS] + ["dispatches",
                                                                  "wrong_dispatches"]
# 派遣次数 and 错派次数 of the cases of the period (as dispatch_counts), kept per case: summed
# for every grouping but the dispatcher's
_KEPT_COUNTS = """,
       sum(dispatches) FILTER (WHERE is_case) AS dispatches,
       sum(wrong_dispatches) FILTER (WHERE is_case) AS wrong_dispatches"""


def _fold_parts(in_period: str, trail_cases: str) -> dict:
    """The live fold: the period's trail folded per case (only the cases of trail_cases)."""
    bits = _fold_bits(trail_cases)
    return {"trail_ctes": _TRAIL_CTES.format(**bits).strip() + ",",
            "f0": _F0.format(facts=_LIVE_FACTS_SQL, facts_from=_LIVE_FROM.format(**bits),
                             in_period=in_period, only=""),
            "kept_counts": ""}


def _kept_parts(in_period: str) -> dict:
    """The facts kept at the cutoff (a month kept at its end)."""
    return {"trail_ctes": "",
            "f0": _F0.format(facts=_KEPT_FACTS_SQL, facts_from=_KEPT_FROM,
                             in_period=in_period, only=""),
            "kept_counts": _KEPT_COUNTS}


def _kept_columns_fold(touched: bool) -> dict:
    """The live fold giving a kept row's columns (KEPT_FACTS: the facts, then each case's
    dispatches and wrong dispatches), for every report of the period or only those touched
    since the watermark (:kept_to …): its CTEs (ending in a comma), the columns, the FROM
    clause and the condition added to the period's (`only`)."""
    trail_cases = _ONLY_TOUCHED if touched else ""
    bits = _fold_bits(trail_cases)
    return {
        "ctes": "\n".join([_TOUCHED if touched else "", _TRAIL_CTES.format(**bits).strip() + ",",
                           _DISPATCH_CTES.format(trail_cases=trail_cases).strip() + ",", _DX]),
        "facts": _LIVE_FACTS_SQL + ",\n           coalesce(dx.dispatches, 0) AS dispatches,"
                 "\n           coalesce(dx.wrong_dispatches, 0) AS wrong_dispatches",
        "facts_from": _LIVE_FROM.format(**bits) + "\n      LEFT JOIN dx ON dx.report_id = r.id",
        "only": "\n       AND r.id IN (SELECT report_id FROM touched)" if touched else ""}


def _running_parts(in_period: str) -> dict:
    """The facts kept to a watermark (:kept_to) for the reports not touched since, and the
    trail of those touched folded to the cutoff, with their dispatches."""
    kept = _F0.format(facts=_KEPT_FACTS_SQL, facts_from=_KEPT_FROM, in_period=in_period,
                      only="\n       AND NOT EXISTS (SELECT 1 FROM touched x "
                           "WHERE x.report_id = r.id)")
    fold = _kept_columns_fold(touched=True)
    live = _F0.format(facts=fold["facts"], facts_from=fold["facts_from"], in_period=in_period,
                      only=fold["only"])
    return {"trail_ctes": fold["ctes"], "f0": kept + "\n    UNION ALL\n" + live,
            "kept_counts": _KEPT_COUNTS}


def indicator_counts(session: Session, principal: Principal, *, group: str, start: datetime,
                     cutoff: datetime, area_prefix: str | None = None,
                     source: str | None = None, suspended_leave_due: bool = True,
                     on_time_stages: tuple[str, ...] = ("accept", "handle", "verify"),
                     kept: dict | None = None) -> list[dict]:
    """Per group key (and one total row, is_total), the counts and median seconds over the
    cases and reports the principal may see; docs/indicators.md defines each one. The counts
    of 报到 and 督办 come from their own pass (participation_counts) and are merged by the
    service. kept: the period's kept row (kept_row): its facts are read instead of folding
    the trail — all of them if kept to the cutoff, else those of the reports not touched since
    its watermark, the others folded."""
    params: dict = {"start": start, "cutoff": cutoff, "cutoff_epoch": cutoff.timestamp(),
                    "suspended_leave_due": suspended_leave_due,
                    "on_time_stages": list(on_time_stages)}
    scope = scope_predicate(principal, params)
    area = _narrowing(params, area_prefix, source)
    in_period = _IN_PERIOD.format(scope=scope, area=area)
    if kept is not None:
        params.update(kept_end=kept["end"], kept_to=kept["kept_to"],
                      kept_event_id=kept["event_id"], kept_report_number=kept["report_number"])
        parts = (_kept_parts(in_period) if kept["kept_to"] >= cutoff
                 else _running_parts(in_period))
    else:
        # Folding the whole period's trail costs less than first finding whose it is, when
        # the caller sees the whole city; a narrower scope reads only its own cases' trails.
        whole_city = scope == "TRUE" and not area
        parts = _fold_parts(in_period, "" if whole_city else (
            f"\n       AND e.report_id IN (SELECT r.id FROM reports r WHERE {in_period})"))
    key = GROUP_KEYS[group]
    sql = _INDICATORS_SQL.format(in_period=in_period, medians=_MEDIANS,
                                 select_keys=f"{key} AS key, GROUPING({key}) = 1 AS is_total",
                                 group_by=f"GROUPING SETS (({key}), ())", **parts)
    _tune(session)
    return [dict(r) for r in session.execute(text(sql), params).mappings()]


def kept_row(session: Session, start: datetime, end: datetime) -> dict | None:
    """The period [start, end)'s kept row: {end, kept_to (its end once closed, a watermark
    while it runs), event_id, report_number (the last trail event and report written when it
    was kept)}, or None if its facts are not kept."""
    row = session.execute(text(
        "SELECT cutoff AS end, coalesce(kept_to, cutoff) AS kept_to, "
        "coalesce(kept_event_id, 0) AS event_id, "
        "coalesce(kept_report_number, 0) AS report_number FROM indicator_periods "
        "WHERE period_start = :start AND cutoff = :end"), {"start": start, "end": end}
    ).mappings().first()
    return dict(row) if row else None


def kept_to(session: Session, start: datetime, end: datetime) -> datetime | None:
    """The instant the facts of the period [start, end) were kept to (its end once closed, a
    watermark while it runs), or None if they are not kept."""
    row = kept_row(session, start, end)
    return row["kept_to"] if row else None


def kept_period(session: Session, start: datetime, end: datetime) -> bool:
    """Whether the facts of the period [start, end) are kept to its end (keep_period)."""
    return kept_to(session, start, end) == end


def _lock_period(session: Session, label: str) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('indicator_facts'), "
                         "hashtext(:label))"), {"label": label})


def _fold_into_kept(session: Session, *, start: datetime, end: datetime, cutoff: datetime,
                    touched_since: dict | None) -> int:
    """Fold the trail of the period [start, cutoff) for the whole city (only the reports
    touched since `touched_since`, if given: {kept_to, kept_event_id, kept_report_number}) and
    write each report's facts as the kept row of the period [start, end), replacing the row it
    had; the number of rows written."""
    in_period = _IN_PERIOD.format(scope="TRUE", area="")
    fold = _kept_columns_fold(touched=touched_since is not None)
    names = ", ".join(name for name, _ in KEPT_FACTS)
    _tune(session)
    return session.execute(text(f"""
        INSERT INTO indicator_facts (period_start, cutoff, report_id, {names})
        WITH {fold["ctes"].rstrip(",")}
        SELECT :start, :kept_end, r.id, {fold["facts"]}
          FROM {fold["facts_from"]}
         WHERE {in_period}{fold["only"]}
        ON CONFLICT (period_start, cutoff, report_id) DO UPDATE
           SET ({names}) = ROW({", ".join("EXCLUDED." + n for n, _ in KEPT_FACTS)})
    """), {"start": start, "kept_end": end, "cutoff": cutoff,
           "cutoff_epoch": cutoff.timestamp(), **(touched_since or {})}).rowcount


def _written_so_far(session: Session) -> dict:
    """The last trail event and report written (read before a fold: what is written after is
    folded when read, or at the next keep)."""
    return dict(session.execute(text(
        "SELECT (SELECT coalesce(max(id), 0) FROM case_events) AS event_id, "
        "(SELECT coalesce(max(number), 0) FROM reports) AS report_number")).mappings().one())


def _count_kept(session: Session, start: datetime, end: datetime, kept_to_: datetime,
                written: dict) -> None:
    session.execute(text(f"""
        UPDATE indicator_periods p
           SET cases = (SELECT count(*) FROM indicator_facts k
                         WHERE k.period_start = p.period_start AND k.cutoff = p.cutoff),
               kept_event_id = :event_id, kept_report_number = :report_number,
               events = ({_PERIOD_EVENTS.replace(":cutoff", ":kept_to")}),
               kept_to = CASE WHEN CAST(:kept_to AS timestamptz) < p.cutoff
                              THEN CAST(:kept_to AS timestamptz) END
         WHERE period_start = :start AND cutoff = :end
    """), {"start": start, "end": end, "kept_to": kept_to_, **written})


def keep_period(session: Session, *, label: str, start: datetime, cutoff: datetime,
                now: datetime, to: datetime | None = None) -> int | None:
    """Fold the trail of the period [start, cutoff) once for the whole city and keep each
    report's facts (indicator_facts) with the period's row (indicator_periods), in the
    caller's transaction; the table then reads them. to: keep them as of this instant before
    the period's end (the current month, to a watermark: advance_period moves it on). None if
    another transaction keeps or kept it; else the number of reports kept."""
    to = cutoff if to is None else min(to, cutoff)
    _lock_period(session, label)
    if kept_to(session, start, cutoff) is not None:
        return None
    session.execute(text("""
        INSERT INTO indicator_periods (period_start, cutoff, label, cases, kept_at)
        VALUES (:start, :cutoff, :label, 0, :now)
    """), {"start": start, "cutoff": cutoff, "label": label, "now": now})
    written = _written_so_far(session)
    n = _fold_into_kept(session, start=start, end=cutoff, cutoff=to, touched_since=None)
    _count_kept(session, start, cutoff, to, written)
    # a month's rows at once: the planner is to know them before the first table joins them
    # to the period's reports (a nested loop of look-ups instead of one hash join, 1.7× slower
    # at a million cases a year)
    session.execute(text("ANALYZE indicator_facts"))
    return n


# the reports touched since a watermark: a trail event, a receipt or an acceptance at or after
# it (a few minutes before it when it is moved on), or a trail event or report written after
# the last one seen when it was set, whatever its time (history imported into the month)
ADVANCE_OVERLAP_S = 300


def advance_period(session: Session, *, label: str, start: datetime, end: datetime,
                   to: datetime, now: datetime) -> int | None:
    """Move a period kept to a watermark on to `to` (at most its end): the reports touched
    since the watermark (less ADVANCE_OVERLAP_S) folded again to `to`, their rows replaced. In
    the caller's transaction; None if it is not kept to an earlier instant; else the number of
    reports folded again."""
    to = min(to, end)
    _lock_period(session, label)
    row = kept_row(session, start, end)
    if row is None or row["kept_to"] >= to:
        return None
    written = _written_so_far(session)
    n = _fold_into_kept(session, start=start, end=end, cutoff=to, touched_since={
        "kept_to": row["kept_to"] - timedelta(seconds=ADVANCE_OVERLAP_S),
        "kept_event_id": row["event_id"], "kept_report_number": row["report_number"]})
    _count_kept(session, start, end, to, written)
    session.execute(text("UPDATE indicator_periods SET kept_at = :now "
                         "WHERE period_start = :start AND cutoff = :end"),
                    {"start": start, "end": end, "now": now})
    return n


# A kept month's counts added up (indicator_sums), one grouping set per shape: per cell (the
# area levels and the source read it), per category (kind, major class) and per department,
# each with the source, district, street and first nine digits of the area (a narrowing to a
# street or wider reads them).
_SUM_SETS = """GROUPING SETS (
    (community_code, street_code, district_code, area9, source),
    (cell_code, community_code, street_code, district_code, area9, source),
    (category_code, street_code, district_code, area9, source),
    (department_code, street_code, district_code, area9, source))"""
_SUM_KEYS_SQL = """CASE WHEN GROUPING(cell_code) = 0 THEN 'cell'
            WHEN GROUPING(category_code) = 0 THEN 'category'
            WHEN GROUPING(department_code) = 0 THEN 'department' ELSE 'area' END AS shape,
       CASE WHEN GROUPING(cell_code) = 0 THEN cell_code
            WHEN GROUPING(category_code) = 0 THEN category_code
            WHEN GROUPING(department_code) = 0 THEN department_code
            ELSE community_code END AS key,
       source, district_code, street_code, community_code, area9"""
# grouping → (the shape of sums it reads, its key over them): per community (a few thousand
# a city) for the area levels above the cell and the source, per cell only for the cells
SUM_GROUPS = {"district": ("area", "s.district_code"), "street": ("area", "s.street_code"),
              "community": ("area", "s.community_code"), "cell": ("cell", "s.key"),
              "source": ("area", "s.source"), "category": ("category", "s.key"),
              "kind": ("category", "CASE left(s.key, 1) WHEN 'C' THEN 'component' "
                                   "WHEN 'E' THEN 'event' END"),
              "major_class": ("category", "left(s.key, 3)"),
              "department": ("department", "s.key")}
SUM_AREA_DIGITS = 9
MEDIAN_KEYS = ("median_accept_s", "median_dispatch_s", "median_handle_s")


def keep_sums(session: Session, *, start: datetime, cutoff: datetime, rule: str,
              suspended_leave_due: bool, on_time_stages: tuple[str, ...]) -> int:
    """Add up the kept facts of the period [start, cutoff) (keep_period first) per community,
    cell, category and department (indicator_sums) under the settings `rule` names, replacing any
    kept under it before; the number of rows. In the caller's transaction."""
    key = {"start": start, "cutoff": cutoff, "rule": rule}
    # the period's sums under one rule at a time: the one in force
    session.execute(text("DELETE FROM indicator_sums WHERE period_start = :start "
                         "AND cutoff = :cutoff"), key)
    session.execute(text("UPDATE indicator_periods SET sums_rule = :rule "
                         "WHERE period_start = :start AND cutoff = :cutoff"), key)
    in_period = _IN_PERIOD.format(scope="TRUE", area="")
    counts = ", ".join(f"coalesce(q.{k}, 0)" for k in SUM_KEYS)
    sql = _INDICATORS_SQL.format(in_period=in_period, medians="", select_keys=_SUM_KEYS_SQL,
                                 group_by=_SUM_SETS, **_kept_parts(in_period))
    _tune(session)
    n = session.execute(text(f"""
        INSERT INTO indicator_sums (period_start, cutoff, rule, shape, key, source,
                                    district_code, street_code, community_code, area9,
                                    {", ".join(SUM_KEYS)})
        SELECT :start, :cutoff, :rule, q.shape, q.key, q.source, q.district_code,
               q.street_code, q.community_code, q.area9, {counts}
          FROM ({sql}) q
    """), {**key, "kept_end": cutoff, "cutoff_epoch": cutoff.timestamp(),
           "suspended_leave_due": suspended_leave_due,
           "on_time_stages": list(on_time_stages)}).rowcount
    # each grouping's medians for the whole city (a month's own table reads them with the sums)
    medians = _INDICATORS_SQL.format(
        in_period=in_period, medians=_MEDIANS, select_keys=_median_keys_sql(),
        group_by="GROUPING SETS (" + ", ".join(
            f"({GROUP_KEYS[g]})" for g in SUM_GROUPS) + ", ())", **_kept_parts(in_period))
    session.execute(text("DELETE FROM indicator_medians WHERE period_start = :start "
                         "AND cutoff = :cutoff"), key)
    session.execute(text(f"""
        INSERT INTO indicator_medians (period_start, cutoff, grouping, key, median_accept_s,
                                       median_dispatch_s, median_handle_s)
        SELECT :start, :cutoff, q.grouping, q.key, q.median_accept_s, q.median_dispatch_s,
               q.median_handle_s
          FROM ({medians}) q
    """), {**key, "kept_end": cutoff, "cutoff_epoch": cutoff.timestamp(),
           "suspended_leave_due": suspended_leave_due,
           "on_time_stages": list(on_time_stages)})
    session.execute(text("ANALYZE indicator_sums"))
    return n


def _median_keys_sql() -> str:
    """The grouping and key of each grouping set of the medians' statement ('' and NULL: the
    whole city)."""
    names = list(SUM_GROUPS)
    which = "\n            ".join(f"WHEN GROUPING({GROUP_KEYS[g]}) = 0 THEN '{g}'"
                                 for g in names)
    keys = "\n            ".join(f"WHEN GROUPING({GROUP_KEYS[g]}) = 0 THEN "
                                f"({GROUP_KEYS[g]})::text" for g in names)
    return (f"CASE {which}\n            ELSE '' END AS grouping,\n"
            f"       CASE {keys} END AS key")


def kept_medians(session: Session, *, group: str, start: datetime,
                 cutoff: datetime) -> list[dict]:
    """The medians of a kept month's table for the whole city, per key of `group` and in total
    (is_total), as indicator_counts gives them."""
    return [dict(r) for r in session.execute(text("""
        SELECT key, grouping = '' AS is_total, median_accept_s, median_dispatch_s,
               median_handle_s
          FROM indicator_medians
         WHERE period_start = :start AND cutoff = :cutoff AND grouping IN (:group, '')
    """), {"start": start, "cutoff": cutoff, "group": group}).mappings()]


def kept_sums(session: Session, start: datetime, cutoff: datetime, rule: str) -> bool:
    """Whether the sums of the kept period [start, cutoff) under `rule` are kept."""
    return session.execute(text(
        "SELECT 1 FROM indicator_periods WHERE period_start = :start AND cutoff = :cutoff "
        "AND sums_rule = :rule"), {"start": start, "cutoff": cutoff, "rule": rule}
    ).first() is not None


def sums_serve(principal: Principal, group: str, area_prefix: str | None) -> bool:
    """Whether kept sums can give this table: a grouping they are added up by, a reader who
    sees the whole city (a narrower scope also sees its own reports and, a handler, its
    department's), narrowed to a street or wider."""
    return (group in SUM_GROUPS and scope_predicate(principal, {}) == "TRUE"
            and (not area_prefix or len(area_prefix) <= SUM_AREA_DIGITS))


def summed_counts(session: Session, *, group: str, periods: list[tuple[datetime, datetime]],
                  rule: str, area_prefix: str | None = None,
                  source: str | None = None) -> list[dict]:
    """The counts of the kept periods' sums added up per group key and in total, as
    indicator_counts gives them (no medians: a median does not add up)."""
    shape, key = SUM_GROUPS[group]
    params: dict = {"starts": [a for a, _ in periods], "cutoffs": [b for _, b in periods],
                    "rule": rule, "shape": shape}
    where = ""
    if area_prefix:
        params["area_pattern"] = area_prefix + "%"
        where += " AND s.area9 LIKE :area_pattern"
    if source:
        params["source"] = source
        where += " AND s.source = :source"
    sums = ", ".join(f"sum(s.{k}) AS {k}" for k in SUM_KEYS)
    return [dict(r) for r in session.execute(text(f"""
        SELECT {key} AS key, GROUPING({key}) = 1 AS is_total, {sums}
          FROM indicator_sums s
          JOIN unnest(CAST(:starts AS timestamptz[]), CAST(:cutoffs AS timestamptz[]))
               AS p(period_start, cutoff)
            ON s.period_start = p.period_start AND s.cutoff = p.cutoff
         WHERE s.rule = :rule AND s.shape = :shape{where}
         GROUP BY GROUPING SETS (({key}), ())
    """), params).mappings()]


# what a kept period was kept from: its reports and its trail's events (counted again to see
# whether history was written into it since)
_PERIOD_EVENTS = "SELECT count(*) FROM case_events WHERE at >= :start AND at < :cutoff"
_PERIOD_REPORTS = """SELECT count(*) FROM reports r WHERE """ + _IN_PERIOD.format(scope="TRUE",
                                                                                   area="")


def kept_periods_changed(session: Session, since: datetime) -> list[dict]:
    """The kept periods whose cutoff is after `since` whose reports or trail events are no
    longer those they were kept from (history written into them afterwards: an import by
    hand): [{period_start, cutoff, label}]."""
    return [dict(r) for r in session.execute(text(f"""
        SELECT p.period_start, p.cutoff, p.label
          FROM indicator_periods p
         CROSS JOIN LATERAL (SELECT p.period_start AS start, coalesce(p.kept_to, p.cutoff))
               AS k(start, cutoff)
         WHERE p.cutoff > :since
           AND (p.events IS DISTINCT FROM ({_PERIOD_EVENTS.replace(":start", "k.start")
                                             .replace(":cutoff", "k.cutoff")})
                OR p.cases <> ({_PERIOD_REPORTS.replace(":start", "k.start")
                                .replace(":cutoff", "k.cutoff")}))
         ORDER BY p.cutoff DESC
    """), {"since": since}).mappings()]


def forget_period(session: Session, start: datetime, cutoff: datetime) -> bool:
    """Drop a period's kept facts (its table is folded from the trail again); whether any were
    kept."""
    return session.execute(text(
        "DELETE FROM indicator_periods WHERE period_start = :start AND cutoff = :cutoff"),
        {"start": start, "cutoff": cutoff}).rowcount > 0


def participation_counts(session: Session, principal: Principal, *, group: str,
                         start: datetime, cutoff: datetime, area_prefix: str | None = None,
                         source: str | None = None) -> list[dict]:
    """报到 (per department summoned by a whistle of the period) and 督办 (per notice issued in
    the period) counts per group key and in total; grouped by department, the summoned or
    noticed department's."""
    params: dict = {"start": start, "cutoff": cutoff}
    scope = scope_predicate(principal, params)
    area = _narrowing(params, area_prefix, source)
    sql = _PARTICIPATION_SQL.format(scope=scope, area=area, key=GROUP_KEYS[group])
    return [dict(r) for r in session.execute(text(sql), params).mappings()]


def dispatch_counts(session: Session, principal: Principal, *, group: str, start: datetime,
                    cutoff: datetime, area_prefix: str | None = None,
                    source: str | None = None) -> list[dict]:
    """派遣次数 and 错派次数 of the cases of the period per group key and in total, each
    dispatch charged to its dispatcher (grouped by department: the total only)."""
    params: dict = {"start": start, "cutoff": cutoff}
    scope = scope_predicate(principal, params)
    area = _narrowing(params, area_prefix, source)
    whole_city = scope == "TRUE" and not area
    trail_cases = "" if whole_city else (
        "\n       AND e.report_id IN (SELECT r.id FROM reports r WHERE r.accepted_at >= :start"
        f" AND r.accepted_at < :cutoff AND {scope}{area})")
    sql = _DISPATCH_SQL.format(scope=scope, area=area, key=GROUP_KEYS[group],
                               dispatch_ctes=_DISPATCH_CTES.format(trail_cases=trail_cases))
    _tune(session)
    rows = [dict(r) for r in session.execute(text(sql), params).mappings()]
    if group == "department":
        rows = [r for r in rows if r["is_total"]]
    return rows


def _quoted(names) -> str:
    return ", ".join(f"'{a}'" for a in names)


# the tables the indicators read; one is "stale" when more rows changed since its last
# ANALYZE than autovacuum's own threshold (50 + 10 % of the table) and at least this many
STATS_TABLES = ("reports", "case_events")
STALE_MIN_ROWS = 10_000

_STALE_SQL = text("""
    SELECT s.relname
      FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
     WHERE s.schemaname = current_schema() AND s.relname = ANY(:tables)
       AND s.n_mod_since_analyze >= greatest(:min_rows, 50 + 0.1 * greatest(c.reltuples, 0))
""")


def stale_tables(session: Session) -> list[str]:
    """The tables the indicators read that changed a lot since their last ANALYZE (a bulk
    load that autovacuum has not caught up with yet)."""
    return list(session.execute(_STALE_SQL, {"tables": list(STATS_TABLES),
                                             "min_rows": STALE_MIN_ROWS}).scalars())


def needs_statistics(principal: Principal, area_prefix: str | None,
                     source: str | None) -> bool:
    """Whether the indicator table's plan depends on fresh statistics: a narrower scope than
    the whole city (an area, a source, a supervisor's areas, a department) reads its own
    cases' trails through index probes the planner sizes from them; the whole city folds the
    period's trail in one pass whatever the statistics say."""
    params: dict = {}
    return not (scope_predicate(principal, params) == "TRUE"
                and not _narrowing(params, area_prefix, source))


def analyze_table(engine, table: str) -> None:
    """ANALYZE one of STATS_TABLES on a connection of its own in autocommit (so the statistics
    stay whatever a caller's transaction does), waiting at most 5 s for its lock. Raises
    DBAPIError when the role may not (not the table's owner) or the lock was not got."""
    if table not in STATS_TABLES:
        raise ValueError(f"not a table the indicators read: {table!r}")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("SET lock_timeout = '5s'"))
        conn.execute(text(f"ANALYZE {table}"))


def _tune(session: Session) -> None:
    """For this transaction: no JIT (compiling costs more than it saves on these queries) and
    room to aggregate a city's month in memory."""
    session.execute(text("SET LOCAL jit = off"))
    session.execute(text("SET LOCAL work_mem = '256MB'"))


def names_of(session: Session, group: str, keys: list[str]) -> dict[str, dict]:
    """The names of group keys (areas, departments or categories): {code: {name, name_en}}."""
    if not keys:
        return {}
    if group == "source":
        return {k: {"name": SOURCE_NAMES.get(k, k), "name_en": SOURCE_NAMES_EN.get(k, k)}
                for k in keys}
    if group == "kind":
        return {k: {"name": KIND_NAMES.get(k, (k, k))[0], "name_en": KIND_NAMES.get(k, (k, k))[1]}
                for k in keys}
    if group == "major_class":
        rows = session.execute(text("""
            SELECT DISTINCT ON (left(code, 3)) left(code, 3) AS code, major_name AS name,
                   major_name_en AS name_en
              FROM categories WHERE left(code, 3) = ANY(:k) ORDER BY left(code, 3), code
        """), {"k": keys}).mappings()
        return {r["code"]: {"name": r["name"], "name_en": r["name_en"]} for r in rows}
    if group in ("reporter", "handler", "dispatcher"):
        rows = session.execute(text(
            "SELECT id::text AS code, display_name AS name, username FROM users "
            "WHERE id::text = ANY(:k)"), {"k": keys}).mappings()
        return {r["code"]: {"name": r["name"], "name_en": f"{r['name']} ({r['username']})"}
                for r in rows}
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


# --- the residents of each area (考评: requests per 10,000 residents) ----------------------------

def populations(session: Session, codes: list[str]) -> dict[str, int]:
    """{area code: residents} for the codes that have a figure."""
    if not codes:
        return {}
    rows = session.execute(text(
        "SELECT area_code, population FROM area_populations WHERE area_code = ANY(:codes)"),
        {"codes": list(codes)})
    return {code: int(n) for code, n in rows}


def known_areas(session: Session, codes: list[str]) -> set[str]:
    """The codes among `codes` that are areas of the grid."""
    if not codes:
        return set()
    return set(session.execute(text("SELECT code FROM areas WHERE code = ANY(:codes)"),
                               {"codes": list(codes)}).scalars())


def upsert_populations(session: Session, rows: list[dict], now: datetime) -> None:
    """Rows of {area_code, population, source}: set (or replace) each area's figure."""
    if not rows:
        return
    session.execute(text("""
        INSERT INTO area_populations (area_code, population, source, updated_at)
        VALUES (:area_code, :population, :source, :now)
        ON CONFLICT (area_code) DO UPDATE
           SET population = EXCLUDED.population, source = EXCLUDED.source,
               updated_at = EXCLUDED.updated_at
    """), [{**r, "now": now} for r in rows])


def population_rows(session: Session, area_prefix: str | None = None) -> list[dict]:
    """Every area's figure (under a prefix), with the area's names and level, by code."""
    return [dict(r) for r in session.execute(text("""
        SELECT p.area_code AS code, a.level, a.name, a.name_en, p.population, p.source,
               p.updated_at
          FROM area_populations p JOIN areas a ON a.code = p.area_code
         WHERE starts_with(p.area_code, :prefix)
         ORDER BY p.area_code
    """), {"prefix": area_prefix or ""}).mappings()]


# The hotline's figures per call-taker (docs/indicators.md): the calls each one recorded in the
# period (hotline reports by their receipt) with the time from the call's start (called_at,
# kept as captured_at) to the request recorded (received_at; an answer on the call is recorded
# with it), counted only when 0 ≤ that ≤ :max_s (a call keyed in later from paper is not
# timed); and the callbacks (回访) each one recorded in the period, every try, and those that
# reached the caller. Over the cases the principal may see.
_CALL_TAKER_SQL = """
WITH calls AS (
    SELECT r.reporter_id AS user_id, count(*) AS calls,
           count(*) FILTER (WHERE r.nature = 'consultation') AS consultations,
           count(*) FILTER (WHERE r.received_at - r.captured_at
                                  BETWEEN interval '0' AND make_interval(secs => :max_s))
               AS timed_calls,
           coalesce(sum(date_part('epoch', r.received_at - r.captured_at))
                    FILTER (WHERE r.received_at - r.captured_at
                                  BETWEEN interval '0' AND make_interval(secs => :max_s)), 0)
               AS handling_s
      FROM reports r
     WHERE r.source = 'hotline' AND r.received_at >= :start AND r.received_at < :cutoff
       AND {scope}{area}
     GROUP BY r.reporter_id
), callbacks AS (
    SELECT e.actor_id AS user_id, count(*) AS callbacks,
           count(*) FILTER (WHERE coalesce((e.data->>'reached')::boolean, false))
               AS callbacks_reached
      FROM case_events e JOIN reports r ON r.id = e.report_id
     WHERE e.action = ev.CASE_CALLBACK_RECORDED AND e.at >= :start AND e.at < :cutoff
       AND e.actor_id IS NOT NULL AND {scope}{area}
     GROUP BY e.actor_id
)
SELECT u.id AS user_id, u.username, u.display_name, u.role,
       coalesce(c.calls, 0) AS calls, coalesce(c.consultations, 0) AS consultations,
       coalesce(c.timed_calls, 0) AS timed_calls, coalesce(c.handling_s, 0) AS handling_s,
       coalesce(b.callbacks, 0) AS callbacks,
       coalesce(b.callbacks_reached, 0) AS callbacks_reached
  FROM calls c FULL JOIN callbacks b ON b.user_id = c.user_id
  JOIN users u ON u.id = coalesce(c.user_id, b.user_id)
 ORDER BY u.username
"""


def call_taker_counts(session: Session, principal: Principal, *, start: datetime,
                      cutoff: datetime, area_prefix: str | None = None,
                      max_handling_s: int) -> list[dict]:
    """Per person who took calls or called back in the period: calls, consultations, timed
    calls and their seconds, callbacks made and reached (see _CALL_TAKER_SQL)."""
    params: dict = {"start": start, "cutoff": cutoff, "max_s": max_handling_s}
    scope = scope_predicate(principal, params)
    area = _narrowing(params, area_prefix, None)
    sql = _CALL_TAKER_SQL.format(scope=scope, area=area)
    return [dict(r) for r in session.execute(text(sql), params).mappings()]
