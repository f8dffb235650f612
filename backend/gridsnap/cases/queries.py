"""Every SQL statement about cases: the read model (one row per case with its area names, its
pending extension and its primary's status), the scope and filters every list shares, the
lock and the one UPDATE of a case, extensions, duplicate links and the overdue marks."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..db import AtLeast, RawStatement
from ..events import queries as event_queries
from ..events import rules as ev
from ..notifications import queries as notice_queries
from ..outbox import queries as outbox_queries
from ..users.queries import scope_predicate
from ..users.rules import Principal

# the names of the areas a case lies in, in one index scan of `areas` (four plain joins
# would make a read-model statement join nine tables: planning it cost ten times its running)
AREA_JOINS = """
    LEFT JOIN LATERAL (
        SELECT max(a.name) FILTER (WHERE a.code = r.cell_code) AS cell_name,
               max(a.name_en) FILTER (WHERE a.code = r.cell_code) AS cell_name_en,
               max(a.name) FILTER (WHERE a.code = r.community_code) AS community_name,
               max(a.name_en) FILTER (WHERE a.code = r.community_code) AS community_name_en,
               max(a.name) FILTER (WHERE a.code = r.street_code) AS street_name,
               max(a.name_en) FILTER (WHERE a.code = r.street_code) AS street_name_en,
               max(a.name) FILTER (WHERE a.code = r.district_code) AS district_name,
               max(a.name_en) FILTER (WHERE a.code = r.district_code) AS district_name_en
          FROM areas a
         WHERE a.code IN (r.cell_code, r.community_code, r.street_code, r.district_code)
    ) names ON true
"""
AREA_NAME_COLUMNS = """
    names.cell_name, names.cell_name_en, names.community_name, names.community_name_en,
    names.street_name, names.street_name_en, names.district_name, names.district_name_en
"""

# 吹哨报到: the departments of a joint case (the lead first) with their report-in and feedback;
# read only for a joint case
JOINT_COLUMN = """CASE WHEN r.joint_departments IS NOT NULL THEN (
    SELECT json_agg(json_build_object(
               'department_code', jp.department_code, 'name', d.name, 'name_en', d.name_en,
               'role', jp.role, 'summoned_at', jp.summoned_at,
               'report_due_at', jp.report_due_at, 'reported_in_at', jp.reported_in_at,
               'reported_in_by', ru.display_name, 'feedback', jp.feedback,
               'fed_back_at', jp.fed_back_at, 'fed_back_by', fu.display_name)
               ORDER BY jp.role DESC, jp.department_code)
      FROM joint_participants jp JOIN departments d ON d.code = jp.department_code
      LEFT JOIN users ru ON ru.id = jp.reported_in_by_id
      LEFT JOIN users fu ON fu.id = jp.fed_back_by_id
     WHERE jp.report_id = r.id) END AS joint_json"""
# 督办: the case's notices, oldest first (an index probe per case; most cases have none)
NOTICES_COLUMN = """(
    SELECT json_agg(json_build_object(
               'id', n.id, 'department_code', n.department_code, 'name', d.name,
               'name_en', d.name_en, 'issued_at', n.issued_at, 'issued_by', iu.display_name,
               'issued_by_id', n.issued_by_id, 'note', n.note, 'ground', n.ground,
               'reply_due_at', n.reply_due_at,
               'replied_at', n.replied_at, 'replied_by', pu.display_name, 'reply', n.reply)
               ORDER BY n.issued_at, n.id)
      FROM case_notices n JOIN departments d ON d.code = n.department_code
      JOIN users iu ON iu.id = n.issued_by_id
      LEFT JOIN users pu ON pu.id = n.replied_by_id
     WHERE n.report_id = r.id) AS notices_json"""

# the pending exclusion (不合理诉求) or appeal (申诉) of the case, at most one (a partial unique
# index), as JSON
EXCLUSION_COLUMN = """(SELECT json_build_object(
               'id', x.id, 'kind', x.kind, 'reason_kind', x.reason_kind, 'reason', x.reason,
               'department_code', x.department_code, 'requested_by_id', x.requested_by_id,
               'requested_at', x.created_at)
      FROM case_exclusions x WHERE x.report_id = r.id AND x.status = 'pending')
    AS exclusion_json"""

# What the rules and the actions read of a case (over `reports r` and EXTENSION_JOIN).
CASE_COLUMNS = f"""
    r.id, r.number, r.reporter_id, r.category_code, r.description, r.address,
    ST_X(r.location) AS lon, ST_Y(r.location) AS lat, r.accuracy_m, r.location_source,
    r.captured_at, r.received_at, r.updated_at, r.area_code, r.outside_grid, r.status,
    r.department_code, r.due_at, r.due_at_guessed_years, r.routed_at, r.fingerprint,
    r.stage, r.stage_started_at, r.overdue, r.overdue_at, r.escalation_level, r.version,
    r.suggested_department_code, r.routing_rule_id, r.routing_source, r.accepted_at,
    r.dispatched_at, r.signed_at, r.signed_by_id, r.responsible_department_code,
    r.resolved_at, r.resolved_by_id, r.closed_at, r.verifier_id, r.rework_count,
    r.return_count, r.duplicate_of, r.cell_code, r.community_code, r.street_code,
    r.district_code, r.source, r.nature, r.urgency, r.callback_status, r.callback_attempts,
    r.request_class_code, r.joint_departments, {JOINT_COLUMN}, {NOTICES_COLUMN}, {EXCLUSION_COLUMN},
    pe.id AS pending_extension_id, pe.requested_by_id AS pending_extension_by,
    pe.amount AS pending_extension_amount, pe.unit AS pending_extension_unit,
    pe.reason AS pending_extension_reason, pe.created_at AS pending_extension_at,
    rq.id AS request_id, rq.kind AS request_kind, rq.status AS request_status,
    rq.department_code AS request_department, rq.requested_by_id AS request_by,
    rq.reason_kind AS request_reason_kind, rq.reason AS request_reason,
    rq.review_on AS request_review_on, rq.held_due_at AS request_held_due_at,
    rq.created_at AS request_at, rq.decided_at AS request_decided_at
"""
# at most one pending extension per case (a partial unique index), and at most one live
# request (a return awaiting review, a 挂账 asked for or in force: another partial unique index)
LIVE_REQUEST = "(rq.status = 'pending' OR (rq.kind = 'suspension' AND rq.status = 'approved'))"
EXTENSION_JOIN = f"""
    LEFT JOIN extension_requests pe ON pe.report_id = r.id AND pe.status = 'pending'
    LEFT JOIN case_requests rq ON rq.report_id = r.id AND {LIVE_REQUEST}
"""

# The case read model: the case, the names of its areas, its primary's status (a duplicate
# follows its primary), over `reports r` joined by AREA_JOINS and CASE_JOINS.
VIEW_COLUMNS = f"""{CASE_COLUMNS}, {AREA_NAME_COLUMNS}, prim.status AS primary_status,
    (SELECT u.display_name FROM users u WHERE u.id = r.reporter_id) AS reporter_name,
    prim.reporter_id AS primary_reporter_id, prim.area_code AS primary_area_code,
    prim.department_code AS primary_department_code,
    prim.responsible_department_code AS primary_responsible_department_code,
    prim.joint_departments AS primary_joint_departments,
    coalesce(ph.list, '[]') AS photos_json,
    (SELECT json_build_object('code', k.code, 'name', k.name, 'name_en', k.name_en)
       FROM request_classes k WHERE k.code = r.request_class_code) AS request_class_json,
    (SELECT json_build_object('id', a.id, 'address', a.address, 'address_en', a.address_en)
       FROM address_points a WHERE a.id = r.address_point_id) AS address_point_json,
    -- 重复诉求: linked to an earlier request of its class at the same place
    EXISTS (SELECT 1 FROM case_links l WHERE l.report_id = r.id AND l.repeat)
        AS repeat_request,
    (EXISTS (SELECT 1 FROM case_links l WHERE l.report_id = r.id)
     OR EXISTS (SELECT 1 FROM case_links l WHERE l.other_id = r.id)
     OR EXISTS (SELECT 1 FROM reports d WHERE d.duplicate_of = r.id)) AS has_links"""
# its photos, oldest first, as JSON (photos.rules.photo_view reads them), so that a page of
# cases needs no statement per case nor a second one for the photos
CASE_JOINS = f"""{EXTENSION_JOIN}
    LEFT JOIN reports prim ON prim.id = r.duplicate_of
    LEFT JOIN LATERAL (
        SELECT json_agg(json_build_object(
                   'id', p.id, 'uploader_id', p.uploader_id, 'sha256', p.sha256,
                   'content_type', p.content_type,
                   'size_bytes', p.size_bytes, 'width', p.width, 'height', p.height,
                   'uploaded_at', p.uploaded_at, 'purpose', p.purpose,
                   'processed_at', p.processed_at, 'public_at', p.public_at,
                   'exif_taken_at', p.exif_taken_at,
                   'exif_lon', ST_X(p.exif_location), 'exif_lat', ST_Y(p.exif_location),
                   'exif_distance_m', p.exif_distance_m, 'exif_source', p.exif_source)
                   ORDER BY p.uploaded_at, p.id) AS list
          FROM photos p WHERE p.report_id = r.id
    ) ph ON true
"""

_FROM = f"reports r {AREA_JOINS} {CASE_JOINS}"

# what the system's steps need beside the case: its category's limits and automation
CATEGORY_COLUMNS = """
    c.time_limits, c.department_code AS category_department, c.auto_accept, c.auto_dispatch
"""


def case_filter_sql(principal: Principal, params: dict, *, statuses=None, category=None,
                    area_prefix: str | None = None, department: str | None = None,
                    overdue: bool | None = None, stage: str | None = None,
                    source: str | None = None, ids: list | None = None,
                    verifier_id: int | None = None, bbox=None,
                    department_or_joint: str | None = None,
                    updated_since: datetime | None = None,
                    received_from: datetime | None = None,
                    received_to: datetime | None = None) -> str:
    """The WHERE clause shared by the case list, the exports and the map tiles: the caller's
    scope (invariant 4) and every filter given; fills `params`."""
    where = [scope_predicate(principal, params)]
    if overdue is not None:  # said as ix_reports_overdue's predicate is, so it is used
        where.append("r.overdue" if overdue else "NOT r.overdue")
    simple = (("department", department, "r.department_code = :department"),
              ("stage", stage, "r.stage = :stage"),
              ("verifier_id", verifier_id, "r.verifier_id = :verifier_id"),
              ("category", category, "r.category_code = :category"),
              ("source", source, "r.source = :source"),
              ("ids", ids, "r.id = ANY(:ids)"),
              ("updated_since", updated_since, "r.updated_at > :updated_since"),
              ("received_from", received_from, "r.received_at >= :received_from"),
              ("received_to", received_to, "r.received_at < :received_to"))
    for name, value, clause in simple:
        if value is not None and value != "":
            params[name] = value
            where.append(clause)
    if department_or_joint:  # a handler's tasks: dispatched to it, or summoned (吹哨报到)
        params["department_or_joint"] = department_or_joint
        where.append("(r.department_code = :department_or_joint OR r.joint_departments "
                     "@> ARRAY[CAST(:department_or_joint AS text)])")
    if bbox is not None:
        params.update(minlon=bbox[0], minlat=bbox[1], maxlon=bbox[2], maxlat=bbox[3])
        where.append("r.location && ST_MakeEnvelope(:minlon, :minlat, :maxlon, :maxlat, 4326)")
    if statuses:
        params["statuses"] = list(statuses)
        where.append("r.status = ANY(:statuses)")
    if area_prefix:
        params["area_pattern"] = area_prefix + "%"
        where.append("r.area_code LIKE :area_pattern")
    return " AND ".join(where)


_ORDERS = {"due": "r.due_at NULLS LAST, r.id", "updated": "r.updated_at, r.id",
           "received": "r.received_at DESC, r.id DESC"}


# a list's total is counted exactly this far past its page, no further: a whole city's 10
# million cases are not counted for a page of 50 ("at least 10,050", and the count moves on
# with the pages)
COUNT_AHEAD = 10_000


def _count_upto(session: Session, cond: str, params: dict, cap: int) -> int:
    """How many cases match `cond`, counted exactly up to `cap`; past it an AtLeast (cap + 1):
    the count walks at most cap + 1 rows however many match."""
    n = session.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM reports r WHERE {cond} LIMIT :_cap) x"),
        {**params, "_cap": cap + 1}).scalar()
    return n if n <= cap else AtLeast(n)


def list_case_rows(session: Session, principal: Principal, *, offset: int = 0, limit: int = 50,
                   order: str | None = None, count: bool = True, **filters):
    """A page of the cases the principal may see and the total matching the filters (None
    without `count`). Order: received (newest first), due, or updated (for delta sync)."""
    params: dict = {}
    cond = case_filter_sql(principal, params, **filters)
    if order != "due":  # a delta sync (updated_since) reads in the order of change
        order = "updated" if filters.get("updated_since") is not None else "received"
    total = _count_upto(session, cond, params, offset + limit + COUNT_AHEAD) if count else None
    params.update(offset=offset, limit=limit)
    # the page's ids first, from reports alone (an index in the order walks past the offset
    # without joining a row it skips), then the read model of those 50 rows only
    rows = session.execute(text(
        f"SELECT {VIEW_COLUMNS} FROM {_FROM} WHERE r.id IN ("
        f"SELECT r.id FROM reports r WHERE {cond} "
        f"ORDER BY {_ORDERS[order]} OFFSET :offset LIMIT :limit) "
        f"ORDER BY {_ORDERS[order]}"), params).mappings().all()
    return rows, total


_BY_ID = text(f"SELECT {VIEW_COLUMNS} FROM {_FROM} WHERE r.id = :id")


def find_case_row(session: Session, report_id: uuid.UUID):
    return session.execute(_BY_ID, {"id": report_id}).mappings().first()


_LOCK = RawStatement(f"""
    SELECT {CASE_COLUMNS}, {CATEGORY_COLUMNS}
      FROM reports r {EXTENSION_JOIN} JOIN categories c ON c.code = r.category_code
     WHERE r.id = :id
       FOR UPDATE OF r
""")


def lock_case(session: Session, report_id: uuid.UUID):
    """The case's CASE_COLUMNS and its category's, locked until commit: concurrent actions on
    one case run one after another."""
    return _LOCK.one(session, {"id": report_id})


_LOCK_UNROUTED = text(f"""
    SELECT {CASE_COLUMNS}, {CATEGORY_COLUMNS}
      FROM reports r {EXTENSION_JOIN} JOIN categories c ON c.code = r.category_code
     WHERE r.id = ANY(CAST(:ids AS uuid[])) AND r.routed_at IS NULL
     ORDER BY r.number
       -- not FOR UPDATE: the other worker's duplicate links to these cases (their foreign
       -- keys' KEY SHARE) must not wait for this routing, nor this for theirs (a deadlock)
       FOR NO KEY UPDATE OF r
""")


def lock_unrouted(session: Session, report_ids: list[str]):
    """The new cases among `report_ids` that were never routed, locked, oldest first."""
    return session.execute(_LOCK_UNROUTED, {"ids": list(report_ids)}).mappings().all()


@functools.lru_cache(maxsize=64)
def _change_statement(columns: tuple[str, ...], view: bool) -> RawStatement:
    sets = "".join(f"{k} = :{k}, " for k in columns)
    answer = f"{VIEW_COLUMNS} FROM r {AREA_JOINS} {CASE_JOINS}" if view else "r.id FROM r"
    return RawStatement(f"""
        WITH r AS (
            UPDATE reports SET {sets}version = version + 1, updated_at = :_now
             WHERE id = :_id RETURNING *
        ),
        {event_queries.insert_json_cte("ev", "_events")},
        {notice_queries.insert_json_cte("nt", "_notices")},
        {outbox_queries.insert_json_cte("ob", "_messages")}
        SELECT {answer}
    """)


def apply_change(session: Session, report_id: uuid.UUID, changes: dict, *, events: str,
                 notices: str, messages: str, view: bool = True) -> dict:
    """The one write of a change of a case, in one statement: its columns (the version — the
    ETag — bumps), its audit events, notifications and outbox messages (JSON parameters made
    by the owners' rows_json). Returns the case's new read-model row (view), or only its id
    (not view: the system's routing of a batch, which answers nobody)."""
    return _change_statement(tuple(sorted(changes)), view).one(session, {
        **changes, "_id": report_id, "_events": events, "_notices": notices,
        "_messages": messages, "_now": clock.now()})


_TOUCH = text("UPDATE reports SET updated_at = :now WHERE id = :id")


def touch(session: Session, report_id: uuid.UUID) -> None:
    """The case changed without a new version (a photo arrived): its updated_at moves to now
    (the application's clock), so delta syncs pick it up."""
    session.execute(_TOUCH, {"id": report_id, "now": clock.now()})


# --- links: possible duplicates and merged duplicates -------------------------------------------

# how many of the nearest earlier open cases a new case is linked to, beside its cluster's
# primary; and how many possible duplicates a case answer names (the nearest)
NEAREST_LINKS = 5
LINKS_SHOWN = 5
_OPEN_SQL = "status NOT IN ('closed', 'rejected', 'duplicate')"  # ix_reports_open_location's

# on the trail: one event a case naming its new links, nearest first
_LINKS_LOGGED = event_queries.insert_cte(
    "logged", action=ev.CASE_POSSIBLE_DUPLICATE, report_id="e.report_id",
    data="jsonb_build_object('links', e.links)",
    source="""(SELECT report_id, jsonb_agg(jsonb_build_object('other_id', other_id,
                                                             'distance_m', distance_m)
                                        ORDER BY distance_m, other_id) AS links
                 FROM ins GROUP BY report_id ORDER BY report_id) e""")

_LINK_DUPLICATES = text(f"""
    WITH RECURSIVE n AS (
        SELECT r.id, r.number, r.received_at, r.location, r.category_code,
               c.duplicate_radius_m AS radius
          FROM reports r JOIN categories c ON c.code = r.category_code
         WHERE r.id = ANY(CAST(:ids AS uuid[])) AND c.duplicate_radius_m > 0
    ), near AS (
        -- the few nearest earlier open cases of its class within its radius and the window:
        -- the partial index walks the open cases in the radius nearest first, and stops
        SELECT n.id AS report_id, o.id AS other_id, o.received_at, o.number, o.location
          FROM n CROSS JOIN LATERAL (
              SELECT o.id, o.received_at, o.number, o.location FROM reports o
               WHERE o.{_OPEN_SQL}
                 AND o.category_code = n.category_code AND o.id <> n.id
                 AND (o.received_at, o.number) < (n.received_at, n.number)
                 AND o.received_at >= n.received_at - make_interval(days => :window_days)
                 -- the index finds candidates in a box a little larger than the radius,
                 -- the geography distance then decides in metres
                 AND ST_DWithin(o.location, n.location, n.radius / 80000.0)
                 AND ST_DWithin(o.location::geography, n.location::geography, n.radius)
               ORDER BY o.location <-> n.location
               LIMIT :nearest) o
    ), linked AS (
        -- the primaries those nearest were linked to that are still candidates (each a lookup
        -- by key: LIMIT keeps the planner from scanning whole tables as they grow)
        SELECT near.report_id, o.id AS other_id, o.received_at, o.number, o.location
          FROM near
          JOIN n ON n.id = near.report_id
         CROSS JOIN LATERAL (SELECT l.other_id FROM case_links l
                              WHERE l.report_id = near.other_id AND l.is_primary LIMIT 1) l
         CROSS JOIN LATERAL (SELECT o.* FROM reports o WHERE o.id = l.other_id LIMIT 1) o
         WHERE o.{_OPEN_SQL} AND o.category_code = n.category_code
           AND (o.received_at, o.number) < (n.received_at, n.number)
           AND o.received_at >= n.received_at - make_interval(days => :window_days)
           AND ST_DWithin(o.location::geography, n.location::geography, n.radius)
    ), chosen AS (
        -- the cluster's primary: the earliest of those nearest and of their primaries
        SELECT DISTINCT ON (report_id) report_id, other_id, location, received_at
          FROM (SELECT * FROM near UNION ALL SELECT * FROM linked) cand
         ORDER BY report_id, received_at, number
    ), walk AS (
        -- a case of this same batch chosen as primary has its primary chosen here too (its
        -- links are not in the table yet): follow the chain to the earliest
        SELECT report_id, other_id, location, received_at, 0 AS depth FROM chosen
        UNION ALL
        SELECT w.report_id, c.other_id, c.location, c.received_at, w.depth + 1
          FROM walk w JOIN chosen c ON c.report_id = w.other_id
    ), primaries AS (
        -- the earliest on the chain still within the new case's radius and window
        SELECT DISTINCT ON (w.report_id) w.report_id, w.other_id
          FROM walk w JOIN n ON n.id = w.report_id
         WHERE w.depth = 0
            OR (w.received_at >= n.received_at - make_interval(days => :window_days)
                AND ST_DWithin(w.location::geography, n.location::geography, n.radius))
         ORDER BY w.report_id, w.depth DESC
    ), ins AS (
        INSERT INTO case_links (report_id, other_id, distance_m, is_primary, created_at)
        SELECT n.id, l.other_id, ST_Distance(n.location::geography, l.location::geography),
               bool_or(l.is_primary), :now
          FROM (SELECT report_id, other_id, location, false AS is_primary FROM near
                UNION ALL
                SELECT p.report_id, p.other_id, c.location, true
                  FROM primaries p
                  JOIN walk c ON c.report_id = p.report_id AND c.other_id = p.other_id) l
          JOIN n ON n.id = l.report_id
         GROUP BY n.id, l.other_id, n.location, l.location
         ORDER BY n.id, l.other_id
        ON CONFLICT DO NOTHING
        RETURNING report_id, other_id, distance_m, is_primary
    ), counted AS (
        -- the primaries' clusters counted (the other links are counted when read); rows
        -- taken in one order (no deadlock between two workers counting the same primary)
        INSERT INTO case_link_counts (report_id, primary_of)
        SELECT other_id, count(*) FROM ins WHERE is_primary
         GROUP BY other_id ORDER BY other_id
        ON CONFLICT (report_id)
        DO UPDATE SET primary_of = case_link_counts.primary_of + EXCLUDED.primary_of
    ),
    {_LINKS_LOGGED}
    SELECT report_id, other_id, distance_m, is_primary FROM ins
""")


# for the link statement only (one round trip each way): index walks, whatever the statistics
_INDEX_WALKS = text("SELECT set_config('enable_bitmapscan', 'off', true), "
                    "set_config('enable_seqscan', 'off', true)")
_ANY_SCAN = text("SELECT set_config('enable_bitmapscan', 'on', true), "
                 "set_config('enable_seqscan', 'on', true)")


def link_duplicates(session: Session, report_ids: list[str], *, window_days: int) -> list:
    """Link each new case to its cluster's primary (the earliest open case of its category
    nearby within the window) and to the NEAREST_LINKS nearest such cases, count the
    primaries' clusters and put on each case's trail one event naming its new links: the cost
    per case is the same in a hot spot as in a quiet street. Returns the new links
    (report_id, other_id, distance_m, is_primary)."""
    # the nearest are found by walking the partial index nearest first (an index scan ordered
    # by distance, stopping at the few wanted); PostgreSQL cannot tell how many open cases lie
    # in a case's radius, and guesses a few: it would rather fetch them all by a bitmap scan
    # and sort them, which in a hot spot is every case of the cluster for every new case
    # (1,330 rows and ~1,000 buffers a case at 2,000 reports in one place, against ~20).
    # And the primary of each of the nearest is looked up by the links' key: a plan made while
    # case_links looked small (a new database, or statistics older than a hot spot) would scan
    # the whole table for each of them instead, a cached plan until the next ANALYZE (in the
    # hotspot bench, whose phases start with no links: ~47 scans of all the links a batch of
    # 10 hot reports, ~13,000 rows read a report by the end of 2,000)
    session.execute(_INDEX_WALKS)
    links = session.execute(_LINK_DUPLICATES, {
        "ids": list(report_ids), "window_days": window_days, "nearest": NEAREST_LINKS,
        "now": clock.now()}).all()
    session.execute(_ANY_SCAN)
    return links


# 重复诉求: a new 12345 request (not a consultation) is linked to the few nearest earlier
# requests of its class (its request class when both have one, else its category) within the
# radius — a request placed at the same address point lies at its point, distance 0 — that
# are open, or were closed within the window before it came in. The same links as a possible
# duplicate (an existing link is marked a repeat), as bounded.
_REQUEST_SQL = "source = 'hotline' AND nature IS DISTINCT FROM 'consultation'"
_LINK_REPEATS = text(f"""
    WITH n AS (
        SELECT r.id, r.number, r.received_at, r.location, r.category_code,
               r.request_class_code
          FROM reports r
         WHERE r.id = ANY(CAST(:ids AS uuid[])) AND r.{_REQUEST_SQL}
           AND r.status <> 'duplicate'
    ), near AS (
        SELECT n.id AS report_id, o.id AS other_id,
               ST_Distance(n.location::geography, o.location::geography) AS distance_m
          FROM n CROSS JOIN LATERAL (
              SELECT o.id, o.location FROM reports o
               WHERE o.{_REQUEST_SQL} AND o.id <> n.id
                 AND o.status NOT IN ('rejected', 'duplicate')
                 AND (o.received_at, o.number) < (n.received_at, n.number)
                 AND (o.closed_at IS NULL
                      OR o.closed_at >= n.received_at - make_interval(days => :window_days))
                 AND CASE WHEN n.request_class_code IS NOT NULL
                               AND o.request_class_code IS NOT NULL
                          THEN o.request_class_code = n.request_class_code
                          ELSE o.category_code = n.category_code END
                 AND ST_DWithin(o.location, n.location, (:radius + 1) / 80000.0)
                 AND ST_DWithin(o.location::geography, n.location::geography, :radius)
               ORDER BY o.location <-> n.location, o.received_at DESC
               LIMIT :nearest) o
    ), ins AS (
        INSERT INTO case_links AS l (report_id, other_id, distance_m, is_primary, repeat,
                                     created_at)
        SELECT report_id, other_id, distance_m, false, true, :now FROM near
         ORDER BY report_id, other_id
        ON CONFLICT (report_id, other_id) DO UPDATE SET repeat = true WHERE NOT l.repeat
        RETURNING report_id, other_id, distance_m
    )
    SELECT report_id, other_id, distance_m FROM ins
""")


def link_repeats(session: Session, report_ids: list[str], *, radius_m: int,
                 window_days: int) -> list:
    """重复诉求: link each new 12345 request to the NEAREST_LINKS nearest earlier requests of
    its class within radius_m that are open or closed within window_days before it (a link
    made already as a possible duplicate is marked a repeat; none is a primary's, so none is
    kept counted). Idempotent. Returns the links marked (report_id, other_id, distance_m)."""
    return session.execute(_LINK_REPEATS, {
        "ids": list(report_ids), "radius": radius_m, "window_days": window_days,
        "nearest": NEAREST_LINKS, "now": clock.now()}).all()


def requests_at_place(session: Session, principal: Principal, *, request_class: str | None,
                      category: str, lon: float, lat: float, radius_m: int, window_days: int,
                      now, limit: int):
    """The requests a call about to be taken would repeat (the conditions of link_repeats, for
    a call not yet recorded at `now`), that the principal may see, nearest first, then newest:
    (how many, the first `limit` ids)."""
    params: dict = {"cls": request_class, "category": category, "lon": lon, "lat": lat,
                    "radius": radius_m, "window_days": window_days, "now": now, "limit": limit}
    scope = scope_predicate(principal, params, alias="o")
    rows = session.execute(text(f"""
        WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
        SELECT o.id, count(*) OVER () AS total FROM p, reports o
         WHERE o.{_REQUEST_SQL} AND o.status NOT IN ('rejected', 'duplicate')
           AND o.received_at <= :now
           AND (o.closed_at IS NULL
                OR o.closed_at >= CAST(:now AS timestamptz) - make_interval(days => :window_days))
           AND CASE WHEN CAST(:cls AS text) IS NOT NULL AND o.request_class_code IS NOT NULL
                    THEN o.request_class_code = :cls
                    ELSE o.category_code = :category END
           AND ST_DWithin(o.location, p.g, (:radius + 1) / 80000.0)
           AND ST_DWithin(o.location::geography, p.g::geography, :radius)
           AND {scope}
         ORDER BY o.location <-> p.g, o.received_at DESC LIMIT :limit
    """), params).all()
    return (rows[0].total if rows else 0), [r.id for r in rows]


def _possible_sql(scope: str, case_ref: str, limit: str) -> str:
    """The possible duplicates of the case `case_ref` the principal may see, nearest first
    (distance, then the other case's id), at most `limit`: its own links, and those of the
    later cases that chose it as their primary and that have it among their nearest, each
    walking its index in distance order, so the cost is the page's, not the number of links."""
    cols = "o.id, o.number, o.status, o.category_code, o.received_at, l.distance_m, " \
           "o.description, o.reporter_id, l.repeat"
    later = [f"""
            (SELECT {cols} FROM case_links l JOIN reports o ON o.id = l.report_id
              WHERE l.other_id = {case_ref} AND l.is_primary = {primary} AND {scope}
              ORDER BY l.distance_m, l.report_id LIMIT {limit})""" for primary in ("true", "false")]
    return f"""
        SELECT * FROM (
            (SELECT {cols} FROM case_links l JOIN reports o ON o.id = l.other_id
              WHERE l.report_id = {case_ref} AND {scope}
              ORDER BY l.distance_m, l.other_id LIMIT {limit})
            UNION ALL{later[0]}
            UNION ALL{later[1]}
        ) all_ways ORDER BY distance_m, id LIMIT {limit}"""


def links_of(session: Session, report_ids: list[uuid.UUID], principal: Principal):
    """The cases linked to these cases that the principal may see (invariant 4), in one
    statement: kind "possible" (a possible duplicate either way, the LINKS_SHOWN nearest) or
    "merged" (merged into it, by number), with case_id the case it belongs to."""
    params: dict = {"ids": list(report_ids), "shown": LINKS_SHOWN}
    scope = scope_predicate(principal, params, alias="o")
    return session.execute(text(f"""
        SELECT 'possible' AS kind, c.id AS case_id, p.*
          FROM unnest(CAST(:ids AS uuid[])) AS c(id)
         CROSS JOIN LATERAL ({_possible_sql(scope, "c.id", ":shown")}) p
        UNION ALL
        SELECT 'merged', o.duplicate_of, o.id, o.number, o.status, o.category_code,
               NULL, NULL, NULL, o.reporter_id, false
          FROM reports o
         WHERE o.duplicate_of = ANY(:ids) AND {scope}
         ORDER BY kind DESC, distance_m, id, number
    """), params).mappings().all()


def possible_duplicates_page(session: Session, report_id: uuid.UUID, principal: Principal, *,
                             offset: int, limit: int):
    """A page of the case's possible duplicates the principal may see, nearest first."""
    params: dict = {"id": report_id, "upto": offset + limit, "offset": offset, "limit": limit}
    scope = scope_predicate(principal, params, alias="o")
    return session.execute(text(
        f"SELECT * FROM ({_possible_sql(scope, ':id', ':upto')}) p "
        "ORDER BY distance_m, id OFFSET :offset LIMIT :limit"), params).mappings().all()


def possible_duplicate_counts(session: Session, report_ids: list, principal: Principal) -> dict:
    """How many possible duplicates of each case the principal may see: for one who sees every
    case, the kept count of its cluster (a read of one row) and its other links counted in the
    index (its own, at most NEAREST_LINKS + 1, and those of the later cases that have it among
    their nearest: a few); counted through the scope otherwise."""
    params: dict = {"ids": list(report_ids)}
    scope = scope_predicate(principal, params, alias="o")
    if scope == "TRUE":
        sql = """
            SELECT c.id, coalesce((SELECT k.primary_of FROM case_link_counts k
                                    WHERE k.report_id = c.id), 0)
                       + (SELECT count(*) FROM case_links l WHERE l.report_id = c.id)
                       + (SELECT count(*) FROM case_links l
                           WHERE l.other_id = c.id AND NOT l.is_primary) AS n
              FROM unnest(CAST(:ids AS uuid[])) AS c(id)"""
    else:
        sql = f"""
            SELECT c.id, (SELECT count(*) FROM case_links l JOIN reports o ON o.id = l.other_id
                           WHERE l.report_id = c.id AND {scope})
                       + (SELECT count(*) FROM case_links l JOIN reports o ON o.id = l.report_id
                           WHERE l.other_id = c.id AND {scope}) AS n
              FROM unnest(CAST(:ids AS uuid[])) AS c(id)"""
    return {row.id: row.n for row in session.execute(text(sql), params)}


def visible_ids(session: Session, principal: Principal, report_ids) -> set:
    """Which of these cases the principal may see (invariant 4), in one statement."""
    if not report_ids:
        return set()
    params: dict = {"ids": [str(i) for i in report_ids]}
    scope = scope_predicate(principal, params)
    return {str(i) for i in session.execute(text(
        f"SELECT r.id FROM reports r WHERE r.id = ANY(CAST(:ids AS uuid[])) AND {scope}"),
        params).scalars()}


# --- deadlines (限时办理) ------------------------------------------------------------------------

_LOCK_OVERDUE = text("""
    SELECT id, number, status, stage, due_at, area_code, department_code, escalation_level,
           return_count, joint_departments
      FROM reports
     WHERE stage IS NOT NULL AND NOT overdue AND due_at <= :now AND status = ANY(:statuses)
       AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))
     ORDER BY due_at
     LIMIT :limit
       FOR UPDATE SKIP LOCKED
""")


def lock_overdue(session: Session, *, now: datetime, statuses, ids: list | None, limit: int):
    """The running stages past their due time not yet marked overdue, locked (cases an action
    holds are skipped: the next run takes them), earliest due first."""
    return session.execute(_LOCK_OVERDUE, {
        "now": now, "statuses": list(statuses), "limit": limit,
        "ids": None if ids is None else [str(i) for i in ids]}).mappings().all()


@functools.lru_cache(maxsize=16)
def _changes_statement(columns: tuple[str, ...]):
    sets = "".join(f"{k} = x.{k}, " for k in columns)
    return text(f"""
        WITH x AS (
            SELECT * FROM jsonb_populate_recordset(NULL::reports, CAST(:_rows AS jsonb))
        ),
        r AS (
            UPDATE reports SET {sets}version = reports.version + 1, updated_at = :_now
              FROM x WHERE reports.id = x.id RETURNING reports.id
        ),
        {event_queries.insert_json_cte("ev", "_events")},
        {notice_queries.insert_json_cte("nt", "_notices")},
        {outbox_queries.insert_json_cte("ob", "_messages")}
        SELECT count(*) FROM r
    """)


def apply_changes(session: Session, rows: str, columns: tuple[str, ...], *, events: str,
                  notices: str, messages: str, now: datetime) -> int:
    """The one write of a change of many cases (a sweep), in one statement: each case's
    `columns` from its row of the JSON array `rows` (with its id; the version bumps), the
    audit events, notifications and outbox messages (JSON parameters made by the owners'
    rows_json); `now` is their updated_at. Returns the count of cases changed."""
    return session.execute(_changes_statement(tuple(sorted(columns))), {
        "_rows": rows, "_events": events, "_notices": notices, "_messages": messages,
        "_now": now}).scalar()


def running_case_ids(session: Session, *, statuses, only_guessed: bool) -> list[uuid.UUID]:
    """The open cases whose stage's deadline runs (only those counted over a year without a
    holiday notice, with `only_guessed`), by case number."""
    return list(session.execute(text("""
        SELECT id FROM reports
         WHERE stage IS NOT NULL AND due_at IS NOT NULL AND status = ANY(:statuses)
           {}
         ORDER BY number
    """.format("AND due_at_guessed_years IS NOT NULL" if only_guessed else "")),
        {"statuses": list(statuses)}).scalars())


# The running deadlines of open cases that are estimates (due_at_guessed_years; a partial
# index keeps these cheap whatever the number of cases), as one JSON value each, for a statement
# that gathers more (health.queries: GET /health, GET /calendar, `gridsnap deadlines`): how many fall due in each local year, and every year they
# were guessed over. They bind :tz and :statuses.
ESTIMATED_PER_YEAR_JSON = """(
    SELECT coalesce(json_agg(json_build_object('year', year, 'cases', cases) ORDER BY year), '[]')
      FROM (SELECT extract(year FROM due_at AT TIME ZONE :tz)::int AS year, count(*) AS cases
              FROM reports
             WHERE due_at_guessed_years IS NOT NULL AND stage IS NOT NULL
               AND status = ANY(:statuses)
             GROUP BY 1) per_year)"""
ESTIMATED_YEARS_JSON = """(
    SELECT coalesce(json_agg(DISTINCT g ORDER BY g), '[]')
      FROM reports, unnest(due_at_guessed_years) g
     WHERE due_at_guessed_years IS NOT NULL AND stage IS NOT NULL
       AND status = ANY(:statuses))"""
