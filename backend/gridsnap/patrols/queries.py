"""Every SQL statement about patrols: the one writer of patrols, track_points, patrol_cells and
patrol_plans; the coverage computed in PostGIS (a track's segments and buffer against the
cells), the figures, the retention purge."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from . import rules

_COLUMNS = """
    p.id, p.worker_id, u.display_name AS worker_name, p.worker_scopes, p.started_at,
    p.ended_at, p.received_at, p.points, p.distance_m, p.seconds, p.max_speed_mps, p.flags,
    p.track_purged_at
"""


def insert_patrol(session: Session, *, patrol_id: uuid.UUID, worker_id: int, worker_scopes,
                  started_at: datetime) -> bool:
    """Start a patrol; False when the id is taken (a replay, or another's)."""
    return session.execute(text("""
        INSERT INTO patrols (id, worker_id, worker_scopes, started_at, received_at)
        VALUES (:id, :w, :scopes, :started, :now)
        ON CONFLICT (id) DO NOTHING RETURNING id
    """), {"id": patrol_id, "w": worker_id, "scopes": list(worker_scopes),
           "started": started_at, "now": clock.now()}).first() is not None


def find_patrol(session: Session, patrol_id: uuid.UUID, *, lock: bool = False):
    return session.execute(text(f"""
        SELECT {_COLUMNS} FROM patrols p JOIN users u ON u.id = p.worker_id
         WHERE p.id = :id {"FOR UPDATE OF p" if lock else ""}
    """), {"id": patrol_id}).mappings().first()


def visible_predicate(principal_id: int, supervised: tuple[str, ...], params: dict) -> str:
    params["vis_uid"] = principal_id
    params["vis_patterns"] = [s + "%" for s in supervised]
    return ("(p.worker_id = :vis_uid OR EXISTS (SELECT 1 FROM unnest(p.worker_scopes) w "
            "WHERE w LIKE ANY(CAST(:vis_patterns AS text[]))))")


def list_patrols(session: Session, principal_id: int, supervised: tuple[str, ...], *,
                 worker_id: int | None, start: datetime | None, end: datetime | None,
                 limit: int = 200):
    params: dict = {"worker": worker_id, "start": start, "end": end, "limit": limit}
    vis = visible_predicate(principal_id, supervised, params)
    return session.execute(text(f"""
        SELECT {_COLUMNS} FROM patrols p JOIN users u ON u.id = p.worker_id
         WHERE {vis}
           AND (CAST(:worker AS bigint) IS NULL OR p.worker_id = :worker)
           AND (CAST(:start AS timestamptz) IS NULL OR p.started_at >= :start)
           AND (CAST(:end AS timestamptz) IS NULL OR p.started_at < :end)
         ORDER BY p.started_at DESC LIMIT :limit
    """), params).mappings().all()


def set_ended(session: Session, patrol_id: uuid.UUID, ended_at: datetime) -> None:
    session.execute(text("UPDATE patrols SET ended_at = :e WHERE id = :id"),
                    {"e": ended_at, "id": patrol_id})


_ADD_POINTS = text("""
    INSERT INTO track_points (id, patrol_id, recorded_at, location, accuracy_m)
    SELECT x.id, :pid, x.at, ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326), x.acc
      FROM jsonb_to_recordset(CAST(:pts AS jsonb))
           AS x(id uuid, at timestamptz, lon float8, lat float8, acc float8)
    ON CONFLICT (id) DO NOTHING
""")


def add_points(session: Session, patrol_id: uuid.UUID, points: list[dict]) -> int:
    """Insert a batch in one statement; a point whose id is known already is skipped.
    Returns how many were new."""
    rows = [{"id": str(p["id"]), "at": p["recorded_at"].isoformat(), "lon": p["lon"],
             "lat": p["lat"], "acc": p.get("accuracy_m")} for p in points]
    return session.execute(_ADD_POINTS, {"pid": patrol_id, "pts": json.dumps(rows)}).rowcount


# The coverage of one patrol, in PostGIS (invariant 3's spirit: no geometry in Python). The
# track's segments are consecutive points no more than MAX_GAP_S apart. A cell is walked when the
# track passes within BUFFER_M of it (the buffer in degrees at the track's latitude, so the
# cells' GiST index finds them); each segment's time and length go to the cell its midpoint lies
# in (the indexed ST_Covers of intake, lowest code on a shared edge) — at a point every few
# seconds a segment is a few metres, and sharing it out by exact intersections cost ~10× more
# (bench.patrols). Replaces the patrol's rows of patrol_cells; returns the track's summary.
_COVERAGE = text("""
    WITH pts AS (
        SELECT location AS g, recorded_at AS at, accuracy_m AS acc,
               lead(location) OVER w AS ng, lead(recorded_at) OVER w AS nat,
               lead(accuracy_m) OVER w AS nacc
          FROM track_points WHERE patrol_id = :id
        WINDOW w AS (ORDER BY recorded_at, id)
    ),
    segs AS (
        SELECT ST_MakeLine(g, ng) AS seg,
               ST_SetSRID(ST_MakePoint((ST_X(g) + ST_X(ng)) / 2, (ST_Y(g) + ST_Y(ng)) / 2),
                          4326) AS mid,
               extract(epoch FROM nat - at) AS secs,
               ST_Distance(g::geography, ng::geography) AS len_m,
               coalesce(acc, 0) <= :acc AND coalesce(nacc, 0) <= :acc AS trusted
          FROM pts
         WHERE ng IS NOT NULL AND nat > at AND extract(epoch FROM nat - at) <= :gap
    ),
    track AS (
        SELECT ST_Collect(seg) AS line,
               :buffer / (111320 * cos(radians(ST_Y(ST_Centroid(ST_Collect(seg)))))) AS buf
          FROM segs
    ),
    walked AS (
        SELECT a.code FROM areas a, track
         WHERE a.level = 'cell' AND track.line IS NOT NULL
           AND ST_DWithin(a.boundary, track.line, track.buf)
    ),
    inside AS (
        SELECT hit.code, sum(s.secs) AS seconds, sum(s.len_m) AS length_m
          FROM segs s
          CROSS JOIN LATERAL (
              SELECT a.code FROM areas a
               WHERE a.level = 'cell' AND ST_Covers(a.boundary, s.mid)
               ORDER BY a.code LIMIT 1) hit
         GROUP BY hit.code
    ),
    written AS (
        INSERT INTO patrol_cells (patrol_id, cell_code, seconds, length_m)
        SELECT :id, w.code, coalesce(i.seconds, 0), coalesce(i.length_m, 0)
          FROM walked w LEFT JOIN inside i ON i.code = w.code
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM track_points WHERE patrol_id = :id) AS points,
           coalesce((SELECT sum(len_m) FROM segs), 0) AS distance_m,
           coalesce((SELECT sum(secs) FROM segs), 0) AS seconds,
           (SELECT max(len_m / secs) FROM segs WHERE trusted) AS max_speed_mps,
           (SELECT count(*) FROM written) AS cells
""")

_FAR_POINTS = text("""
    SELECT count(*) FROM track_points t
     WHERE t.patrol_id = :id
       AND NOT EXISTS (SELECT 1 FROM areas a
                        WHERE a.code = ANY(:scopes)
                          AND ST_DWithin(a.boundary::geography, t.location::geography, :far))
""")


def compute_coverage(session: Session, patrol_id: uuid.UUID):
    """The patrol's cells written again from its track; returns the summary row (points,
    distance_m, seconds, max_speed_mps, cells)."""
    # cleared first, in a statement of its own: the sub-statements of one WITH run in no order
    session.execute(text("DELETE FROM patrol_cells WHERE patrol_id = :id"), {"id": patrol_id})
    return session.execute(_COVERAGE, {
        "id": patrol_id, "gap": rules.MAX_GAP_S, "buffer": rules.BUFFER_M,
        "acc": rules.SPEED_ACCURACY_M}).mappings().one()


def far_points(session: Session, patrol_id: uuid.UUID, worker_scopes) -> int:
    """Points farther than rules.FAR_M from every area of the worker's scopes (0 for a worker
    of the whole city)."""
    if "" in worker_scopes:
        return 0
    return session.execute(_FAR_POINTS, {"id": patrol_id, "scopes": list(worker_scopes),
                                         "far": rules.FAR_M}).scalar_one()


def set_summary(session: Session, patrol_id: uuid.UUID, summary, flags: list[str]) -> None:
    session.execute(text("""
        UPDATE patrols SET points = :points, distance_m = :distance, seconds = :seconds,
                           max_speed_mps = :speed, flags = :flags
         WHERE id = :id
    """), {"id": patrol_id, "points": summary["points"], "distance": summary["distance_m"],
           "seconds": summary["seconds"], "speed": summary["max_speed_mps"], "flags": flags})


def cells_of(session: Session, patrol_id: uuid.UUID):
    return session.execute(text("""
        SELECT pc.cell_code AS code, a.name, pc.seconds, pc.length_m
          FROM patrol_cells pc JOIN areas a ON a.code = pc.cell_code
         WHERE pc.patrol_id = :id ORDER BY pc.cell_code
    """), {"id": patrol_id}).mappings().all()


def track_geojson(session: Session, patrol_id: uuid.UUID):
    """The track as a GeoJSON LineString (None with fewer than two points) and its points."""
    return session.execute(text("""
        SELECT ST_AsGeoJSON(ST_MakeLine(location ORDER BY recorded_at, id), 7)::json AS line,
               json_agg(json_build_object('at', recorded_at, 'lon', ST_X(location),
                                          'lat', ST_Y(location), 'accuracy_m', accuracy_m)
                        ORDER BY recorded_at, id) AS points
          FROM track_points WHERE patrol_id = :id
    """), {"id": patrol_id}).mappings().one()


def reports_during(session: Session, worker_id: int, start: datetime, end: datetime):
    """The worker's reports captured during the patrol: linked to it."""
    return session.execute(text("""
        SELECT r.id, r.number, r.category_code, r.status, r.captured_at, r.cell_code
          FROM reports r
         WHERE r.reporter_id = :w AND r.captured_at >= :start AND r.captured_at <= :end
         ORDER BY r.captured_at
    """), {"w": worker_id, "start": start, "end": end}).mappings().all()


def upsert_plan(session: Session, *, area_prefix: str, visits_per_week: int, window_start,
                window_end, created_by_id: int) -> int:
    return session.execute(text("""
        INSERT INTO patrol_plans (area_prefix, visits_per_week, window_start, window_end,
                                  created_by_id, created_at)
        VALUES (:prefix, :visits, :ws, :we, :by, :now)
        ON CONFLICT (area_prefix) DO UPDATE
           SET visits_per_week = EXCLUDED.visits_per_week,
               window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
               created_by_id = EXCLUDED.created_by_id, created_at = EXCLUDED.created_at
        RETURNING id
    """), {"prefix": area_prefix, "visits": visits_per_week, "ws": window_start,
           "we": window_end, "by": created_by_id, "now": clock.now()}).scalar_one()


def list_plans(session: Session, patterns: list[str]):
    """The plans whose area lies under one of the patterns (scope prefixes + '%')."""
    return session.execute(text("""
        SELECT id, area_prefix, visits_per_week, window_start, window_end, created_by_id,
               created_at
          FROM patrol_plans WHERE area_prefix LIKE ANY(CAST(:patterns AS text[]))
         ORDER BY area_prefix
    """), {"patterns": patterns}).mappings().all()


def find_plan(session: Session, plan_id: int):
    return session.execute(text("SELECT * FROM patrol_plans WHERE id = :id"),
                           {"id": plan_id}).mappings().first()


def delete_plan(session: Session, plan_id: int) -> None:
    session.execute(text("DELETE FROM patrol_plans WHERE id = :id"), {"id": plan_id})


# a week's coverage of the cells under an area: per cell the visits (patrols not flagged that
# walked it), the time inside, the plan that applies (the longest prefix) and the visits inside
# its window of the day (local time; a window may run over midnight)
_CELL_FIGURES = text("""
    WITH cells AS (
        SELECT a.code, a.name FROM areas a
         WHERE a.level = 'cell' AND a.code LIKE :pattern
    ),
    plan AS (
        SELECT DISTINCT ON (c.code) c.code, pl.visits_per_week, pl.window_start, pl.window_end
          FROM cells c JOIN patrol_plans pl ON c.code LIKE pl.area_prefix || '%'
         ORDER BY c.code, length(pl.area_prefix) DESC
    ),
    walks AS (
        SELECT pc.cell_code, pc.seconds, p.id AS patrol_id,
               (p.started_at AT TIME ZONE :tz)::time AS local_start
          FROM patrol_cells pc JOIN patrols p ON p.id = pc.patrol_id
         WHERE p.started_at >= :start AND p.started_at < :end
           AND pc.cell_code LIKE :pattern AND cardinality(p.flags) = 0
    )
    SELECT c.code, c.name,
           count(w.patrol_id) AS visits, coalesce(sum(w.seconds), 0) AS seconds,
           pl.visits_per_week AS planned, pl.window_start, pl.window_end,
           count(w.patrol_id) FILTER (WHERE pl.window_start IS NULL
               OR (pl.window_start <= pl.window_end
                   AND w.local_start >= pl.window_start AND w.local_start < pl.window_end)
               OR (pl.window_start > pl.window_end
                   AND (w.local_start >= pl.window_start OR w.local_start < pl.window_end))
           ) AS planned_visits
      FROM cells c
      LEFT JOIN walks w ON w.cell_code = c.code
      LEFT JOIN plan pl ON pl.code = c.code
     GROUP BY c.code, c.name, pl.visits_per_week, pl.window_start, pl.window_end
     ORDER BY c.code
""")

_WORKER_FIGURES = text("""
    SELECT p.worker_id, u.display_name AS worker_name, count(*) AS patrols,
           coalesce(sum(p.distance_m), 0) AS distance_m, coalesce(sum(p.seconds), 0) AS seconds,
           count(*) FILTER (WHERE cardinality(p.flags) > 0) AS flagged
      FROM patrols p JOIN users u ON u.id = p.worker_id
     WHERE p.started_at >= :start AND p.started_at < :end
       AND (EXISTS (SELECT 1 FROM unnest(p.worker_scopes) s WHERE s LIKE :pattern)
            OR EXISTS (SELECT 1 FROM patrol_cells pc
                        WHERE pc.patrol_id = p.id AND pc.cell_code LIKE :pattern))
     GROUP BY p.worker_id, u.display_name ORDER BY u.display_name
""")


def cell_figures(session: Session, *, area_prefix: str, start: datetime, end: datetime,
                 tz: str):
    return session.execute(_CELL_FIGURES, {"pattern": area_prefix + "%", "start": start,
                                           "end": end, "tz": tz}).mappings().all()


def worker_figures(session: Session, *, area_prefix: str, start: datetime, end: datetime):
    return session.execute(_WORKER_FIGURES, {"pattern": area_prefix + "%", "start": start,
                                             "end": end}).mappings().all()


def purge_tracks(session: Session, cutoff: datetime) -> int:
    """Delete the track points of patrols that ended (or, never ended, started) before the
    cutoff; the patrols and their cells stay. Returns how many patrols were purged."""
    return session.execute(text("""
        WITH old AS (
            UPDATE patrols SET track_purged_at = :now
             WHERE coalesce(ended_at, started_at) < :cutoff AND track_purged_at IS NULL
            RETURNING id
        ),
        gone AS (DELETE FROM track_points t USING old WHERE t.patrol_id = old.id)
        SELECT count(*) FROM old
    """), {"cutoff": cutoff, "now": clock.now()}).scalar_one()


# The patrol table of a period, grouped by an area level (the key a prefix of the cell's code):
# per group its cells, those walked in [start, cutoff) by a patrol not flagged, the visits, the
# time and length inside them, and the cells not walked in [stale_from, cutoff) (未巡查); a
# patrol's time and distance are those inside the group's cells. GROUPING SETS adds the total.
_AREA_TABLE = """
    WITH cells AS (
        SELECT a.code, {key} AS key FROM areas a
         WHERE a.level = 'cell' AND a.code LIKE ANY(CAST(:patterns AS text[]))
    ),
    walks AS (
        SELECT pc.cell_code, pc.seconds, pc.length_m, p.id, p.worker_id, p.started_at
          FROM patrol_cells pc JOIN patrols p ON p.id = pc.patrol_id
         WHERE cardinality(p.flags) = 0
           AND p.started_at >= least(:start, :stale_from) AND p.started_at < :cutoff
           AND pc.cell_code LIKE ANY(CAST(:patterns AS text[]))
    ),
    per_cell AS (
        SELECT c.key, c.code,
               count(w.id) FILTER (WHERE w.started_at >= :start) AS visits,
               coalesce(sum(w.seconds) FILTER (WHERE w.started_at >= :start), 0) AS seconds,
               coalesce(sum(w.length_m) FILTER (WHERE w.started_at >= :start), 0) AS length_m,
               coalesce(bool_or(w.started_at >= :stale_from), false) AS recent
          FROM cells c LEFT JOIN walks w ON w.cell_code = c.code
         GROUP BY c.key, c.code
    ),
    by_cells AS (
        SELECT pc.key, GROUPING(pc.key) = 1 AS is_total,
               count(*) AS cells, count(*) FILTER (WHERE pc.visits > 0) AS cells_walked,
               count(*) FILTER (WHERE NOT pc.recent) AS cells_stale,
               coalesce(sum(pc.visits), 0) AS visits, coalesce(sum(pc.seconds), 0) AS seconds,
               coalesce(sum(pc.length_m), 0) AS distance_m
          FROM per_cell pc
         GROUP BY GROUPING SETS ((pc.key), ())
    ),
    by_walks AS (
        SELECT c.key, GROUPING(c.key) = 1 AS is_total, count(DISTINCT w.id) AS patrols,
               count(DISTINCT w.worker_id) AS workers
          FROM cells c JOIN walks w ON w.cell_code = c.code
         WHERE w.started_at >= :start
         GROUP BY GROUPING SETS ((c.key), ())
    )
    SELECT bc.*, coalesce(bw.patrols, 0) AS patrols, coalesce(bw.workers, 0) AS workers
      FROM by_cells bc
      LEFT JOIN by_walks bw ON bw.is_total = bc.is_total AND bw.key IS NOT DISTINCT FROM bc.key
     ORDER BY bc.is_total, bc.key
"""


def area_table(session: Session, *, patterns: list[str], key_length: int | None,
               start: datetime, cutoff: datetime, stale_from: datetime):
    """Rows {key, is_total, cells, cells_walked, cells_stale, visits, seconds, distance_m,
    patrols, workers} per area (key: the first `key_length` characters of the cell's code,
    the cell itself when None) under the patterns, and the total."""
    key = "a.code" if key_length is None else f"left(a.code, {int(key_length)})"
    return session.execute(text(_AREA_TABLE.format(key=key)), {
        "patterns": patterns, "start": start, "cutoff": cutoff,
        "stale_from": stale_from}).mappings().all()


_WORKER_TABLE = text("""
    SELECT CAST(p.worker_id AS text) AS key, u.display_name AS name,
           GROUPING(p.worker_id, u.display_name) = 3 AS is_total,
           count(*) FILTER (WHERE cardinality(p.flags) = 0) AS patrols,
           count(*) FILTER (WHERE cardinality(p.flags) > 0) AS flagged,
           count(DISTINCT p.worker_id) AS workers,
           coalesce(sum(p.distance_m) FILTER (WHERE cardinality(p.flags) = 0), 0) AS distance_m,
           coalesce(sum(p.seconds) FILTER (WHERE cardinality(p.flags) = 0), 0) AS seconds,
           (SELECT count(*) FROM patrol_cells pc
             WHERE pc.patrol_id = ANY(array_agg(p.id) FILTER (WHERE cardinality(p.flags) = 0))
               AND pc.cell_code LIKE ANY(CAST(:patterns AS text[]))) AS visits,
           (SELECT count(DISTINCT pc.cell_code) FROM patrol_cells pc
             WHERE pc.patrol_id = ANY(array_agg(p.id) FILTER (WHERE cardinality(p.flags) = 0))
               AND pc.cell_code LIKE ANY(CAST(:patterns AS text[]))) AS cells_walked
      FROM patrols p JOIN users u ON u.id = p.worker_id
     WHERE p.started_at >= :start AND p.started_at < :cutoff
       AND (EXISTS (SELECT 1 FROM unnest(p.worker_scopes) s
                     WHERE s LIKE ANY(CAST(:patterns AS text[])))
            OR EXISTS (SELECT 1 FROM patrol_cells pc WHERE pc.patrol_id = p.id
                         AND pc.cell_code LIKE ANY(CAST(:patterns AS text[]))))
     GROUP BY GROUPING SETS ((p.worker_id, u.display_name), ())
     ORDER BY is_total, u.display_name, p.worker_id
""")


def worker_table(session: Session, *, patterns: list[str], start: datetime, cutoff: datetime):
    """Rows {key (the worker's id), name, is_total, patrols, flagged, workers, distance_m,
    seconds, visits, cells_walked} per worker whose patrols in [start, cutoff) belong to the
    patterns (their scopes or the cells they walked), and the total. A patrol's whole distance
    and time count; flagged patrols are counted apart (flagged), in nothing else."""
    return session.execute(_WORKER_TABLE, {"patterns": patterns, "start": start,
                                           "cutoff": cutoff}).mappings().all()


def area_names(session: Session, codes: list[str]) -> dict:
    rows = session.execute(text("SELECT code, name, name_en FROM areas WHERE code = ANY(:c)"),
                           {"c": codes}).mappings().all()
    return {r["code"]: {"name": r["name"], "name_en": r["name_en"]} for r in rows}


# The map's coverage layer: the cells under the patterns as GeoJSON, each with its visits by
# patrols not flagged in [start, cutoff) and the last of them — built in PostGIS, one statement.
_COVERAGE_MAP = text("""
    WITH cells AS (
        SELECT a.code, a.name, a.name_en, a.boundary FROM areas a
         WHERE a.level = 'cell' AND a.code LIKE ANY(CAST(:patterns AS text[]))
    ),
    walks AS (
        SELECT pc.cell_code, count(*) AS visits, max(p.started_at) AS last_at
          FROM patrol_cells pc JOIN patrols p ON p.id = pc.patrol_id
         WHERE cardinality(p.flags) = 0 AND p.started_at >= :start AND p.started_at < :cutoff
           AND pc.cell_code LIKE ANY(CAST(:patterns AS text[]))
         GROUP BY pc.cell_code
    )
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
        json_build_object('type', 'Feature', 'id', c.code,
                          'geometry', ST_AsGeoJSON(c.boundary, 6)::json,
                          'properties', json_build_object(
                              'code', c.code, 'name', c.name, 'name_en', c.name_en,
                              'visits', coalesce(w.visits, 0), 'walked', w.visits IS NOT NULL,
                              'last_walked_at', w.last_at))
        ORDER BY c.code), '[]'::json))
      FROM cells c LEFT JOIN walks w ON w.cell_code = c.code
""")


def coverage_map(session: Session, *, patterns: list[str], start: datetime, cutoff: datetime):
    return session.execute(_COVERAGE_MAP, {"patterns": patterns, "start": start,
                                           "cutoff": cutoff}).scalar_one()


def tracks_map(session: Session, principal_id: int, supervised: tuple[str, ...], *,
               start: datetime, end: datetime):
    """The tracks of the patrols started in [start, end) that the principal sees, as GeoJSON
    LineStrings (a purged track, or one of fewer than two points, is left out)."""
    params: dict = {"start": start, "end": end}
    vis = visible_predicate(principal_id, supervised, params)
    return session.execute(text(f"""
        SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
            json_build_object('type', 'Feature', 'id', p.id,
                              'geometry', ST_AsGeoJSON(tl.line, 6)::json,
                              'properties', json_build_object(
                                  'id', p.id, 'worker_id', p.worker_id,
                                  'worker_name', u.display_name, 'started_at', p.started_at,
                                  'ended_at', p.ended_at, 'recording', p.ended_at IS NULL,
                                  'distance_m', p.distance_m, 'seconds', p.seconds,
                                  'flags', p.flags))
            ORDER BY p.worker_id, p.started_at), '[]'::json))
          FROM patrols p JOIN users u ON u.id = p.worker_id
          CROSS JOIN LATERAL (
              SELECT ST_MakeLine(t.location ORDER BY t.recorded_at, t.id) AS line
                FROM track_points t WHERE t.patrol_id = p.id) tl
         WHERE {vis} AND p.started_at >= :start AND p.started_at < :end
           AND tl.line IS NOT NULL AND ST_NPoints(tl.line) >= 2
    """), params).scalar_one()
