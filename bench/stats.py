"""The evaluation at a city's size: 1,000,000 generated cases with their audit trail.

`run(quick)` (re)creates its own database `gridsnap_bench_stats` (migrated, the demo city, and a
city grid of a real city's size: 16 districts, 320 streets, 6,400 communities, 57,600 cells —
bench.grid.CITY), generates cases over the twelve months
Dec 2025 – Nov 2026 with the events the closed loop writes (submitted, routed, accepted,
dispatched, signed, resolved, verified, and for realistic fractions overdue + escalated,
rework, extensions, rejections and merges), in time order as a live system appends them, and
times the monthly indicator table for the whole city (by street, by department, by
community) and 每月一题, as an admin (the whole city) and as a district supervisor. Rows:
{name, value, unit, note}. quick=True: 100,000 cases and fewer repetitions.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg

from . import database
from . import grid as gridmod
from .env import BenchEnv

DB = "gridsnap_bench_stats"
MONTH = "2026-11"
# the month's bounds as the deployment's zone (Asia/Shanghai, UTC+8) has them, as instants
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=8)
MONTH_END = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(hours=8)
TARGET_TABLE_S = 1.0
TARGET_YEAR_S = 3.0
# the clock of the generated city: the day after the last month
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# the current month mid-month, and how long after the worker kept it its table is read
RUNNING_AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
RUNNING_READ_AFTER = timedelta(minutes=10)

# One row per case: every time the loop would have written, from deterministic randomness.
# Fractions: 3% rejected, 2% merged into the case before, 95% accepted (10% of them auto);
# 8% late in handling (overdue at the due time), 4% reworked once, 2% extended; verification
# 2 h after resolution. Anything that would happen after NOW has not happened yet.
_PLAN = """
CREATE UNLOGGED TABLE bench_plan AS
WITH cells AS (
    SELECT row_number() OVER (ORDER BY code) AS n, code, ST_X(p) AS lon, ST_Y(p) AS lat
      FROM (SELECT code, ST_PointOnSurface(boundary) AS p FROM areas WHERE level = 'cell') c
),
cats AS (
    SELECT row_number() OVER (ORDER BY code) AS n, code, department_code FROM categories
),
g AS (
    SELECT g, gen_random_uuid() AS id,
           timestamptz '2025-12-01 00:00+08' + (g - 1) * (interval '365 days' / %(n)s)
               AS received_at,
           random() AS u_status, random() AS u_cat, random() AS u_cell, random() AS u_late,
           random() AS u_rework, random() AS u_ext, random() AS u_t1, random() AS u_t2,
           random() AS u_t3
      FROM generate_series(1, %(n)s) g
),
t AS (
    SELECT g.*, c.code AS cell_code, c.lon, c.lat, k.code AS category_code,
           k.department_code,
           CASE WHEN u_status < 0.03 THEN 'rejected' WHEN u_status < 0.05 THEN 'duplicate'
                ELSE 'case' END AS kind,
           received_at + make_interval(mins => (5 + 90 * u_t1 * u_t1)::int) AS accepted_at,
           u_status < 0.145 AND u_status >= 0.05 AS auto
      FROM g
      JOIN cells c ON c.n = 1 + floor(power(u_cell, 1.3) * (SELECT count(*) FROM cells))
      JOIN cats k ON k.n = 1 + floor(power(u_cat, 2.0) * (SELECT count(*) FROM cats))
),
d AS (
    SELECT t.*,
           CASE WHEN auto THEN accepted_at ELSE accepted_at + interval '12 minutes' END
               AS dispatched_at
      FROM t
),
h AS (
    SELECT d.*, dispatched_at + interval '3 days' AS handle_due,
           u_ext < 0.02 AS extended,
           u_rework < 0.04 AS reworked,
           -- the first resolution: before the due time, or (8%%) up to 2 days after it
           CASE WHEN u_late < 0.08
                THEN dispatched_at + interval '3 days' + make_interval(mins => (60 + 2800 * u_t2)::int)
                ELSE dispatched_at + make_interval(mins => (20 + 4200 * u_t2)::int) END
               AS resolved1_at,
           u_late < 0.08 AS late
      FROM d
)
SELECT h.*,
       dispatched_at + interval '1 hour' AS signed_at,
       CASE WHEN extended THEN dispatched_at + interval '2 days' END AS extension_at,
       CASE WHEN extended THEN handle_due + interval '2 days' END AS extended_due,
       CASE WHEN reworked THEN resolved1_at + interval '2 hours' END AS rework_at,
       CASE WHEN reworked THEN resolved1_at + interval '2 hours' + make_interval(mins => (60 + 1400 * u_t3)::int) END
           AS resolved2_at,
       CASE WHEN reworked
            THEN resolved1_at + interval '4 hours' + make_interval(mins => (60 + 1400 * u_t3)::int)
            ELSE resolved1_at + interval '2 hours' END AS closed_at
  FROM h
"""

# Reports as the closed loop leaves them at NOW.
_REPORTS = """
INSERT INTO reports (id, reporter_id, category_code, description, location, accuracy_m,
    location_source, captured_at, received_at, updated_at, area_code, cell_code,
    community_code, street_code, district_code, outside_grid, status, department_code,
    due_at, routed_at, stage, stage_started_at, overdue, overdue_at, escalation_level,
    suggested_department_code, routing_source, accepted_at, dispatched_at, signed_at,
    responsible_department_code, resolved_at, closed_at, rework_count, fingerprint)
SELECT p.id, %(reporter)s, category_code, '', ST_SetSRID(ST_MakePoint(lon, lat), 4326), 10,
       'gps', received_at - interval '1 minute', received_at, received_at, cell_code,
       cell_code, left(cell_code, 12), left(cell_code, 9), left(cell_code, 6), false,
       s.status,
       CASE WHEN s.status IN ('dispatched', 'resolved', 'closed') THEN department_code END,
       CASE s.status WHEN 'dispatched' THEN coalesce(extended_due, handle_due)
                     WHEN 'resolved' THEN coalesce(resolved2_at, resolved1_at) + interval '1 day'
                     WHEN 'reported' THEN received_at + interval '1 hour'
                     WHEN 'accepted' THEN received_at + interval '1 hour' END,
       received_at,
       CASE s.status WHEN 'dispatched' THEN 'handle' WHEN 'resolved' THEN 'verify'
                     WHEN 'reported' THEN 'accept' WHEN 'accepted' THEN 'accept' END,
       received_at,
       s.status = 'dispatched' AND late AND NOT extended AND handle_due <= %(now)s,
       CASE WHEN s.status = 'dispatched' AND late AND NOT extended AND handle_due <= %(now)s
            THEN handle_due END,
       CASE WHEN late AND NOT extended AND handle_due <= %(now)s THEN 1 ELSE 0 END,
       department_code, 'category',
       CASE WHEN kind = 'case' AND accepted_at <= %(now)s THEN accepted_at END,
       CASE WHEN s.status IN ('dispatched', 'resolved', 'closed') THEN dispatched_at END,
       CASE WHEN s.status IN ('dispatched', 'resolved', 'closed') AND signed_at <= %(now)s
            THEN signed_at END,
       CASE WHEN s.status IN ('dispatched', 'resolved', 'closed') AND signed_at <= %(now)s
            THEN department_code END,
       CASE WHEN s.status IN ('resolved', 'closed') THEN coalesce(resolved2_at, resolved1_at) END,
       CASE WHEN s.status IN ('closed', 'rejected') THEN
            CASE WHEN s.status = 'closed' THEN closed_at ELSE accepted_at END END,
       CASE WHEN reworked AND rework_at <= %(now)s THEN 1 ELSE 0 END,
       decode(md5(p.g::text) || md5((p.g + 1)::text), 'hex')
  FROM bench_plan p,
       LATERAL (SELECT CASE
           WHEN kind = 'rejected' THEN CASE WHEN accepted_at <= %(now)s THEN 'rejected' ELSE 'reported' END
           WHEN kind = 'duplicate' THEN 'reported'
           WHEN accepted_at > %(now)s THEN 'reported'
           WHEN dispatched_at > %(now)s THEN 'accepted'
           WHEN closed_at <= %(now)s THEN 'closed'
           WHEN resolved2_at <= %(now)s THEN 'resolved'
           WHEN rework_at <= %(now)s THEN 'dispatched'
           WHEN resolved1_at <= %(now)s THEN 'resolved'
           ELSE 'dispatched' END AS status) s
 ORDER BY p.g
"""

# The trail, appended in time order as a live system writes it.
_EVENTS = """
INSERT INTO case_events (report_id, at, action, from_status, to_status, department_code, data)
SELECT id, at, action, frm, too, dept, data
  FROM (
    SELECT r.id, e.*
      FROM reports r
      JOIN bench_plan p ON p.id = r.id
      CROSS JOIN LATERAL (VALUES
        (p.received_at, 'report.submitted', NULL, 'reported', NULL::text, '{}'::jsonb, true),
        (p.received_at, 'report.routed', 'reported', 'reported', NULL,
         jsonb_build_object('stage', 'accept', 'due_at', p.received_at + interval '1 hour'), true),
        (p.accepted_at, 'case.rejected', 'reported', 'rejected', NULL, '{}', p.kind = 'rejected'),
        (p.accepted_at, 'case.merged', 'reported', 'duplicate', NULL, '{}', p.kind = 'duplicate'),
        (p.accepted_at, 'case.accepted', 'reported', 'accepted', NULL,
         CASE WHEN p.auto THEN '{"auto": true}'::jsonb ELSE '{}' END, p.kind = 'case'),
        (p.dispatched_at, 'case.dispatched', 'accepted', 'dispatched', p.department_code,
         jsonb_build_object('stage', 'handle', 'due_at', p.handle_due), p.kind = 'case'),
        (p.signed_at, 'case.signed', 'dispatched', 'dispatched', p.department_code, '{}',
         p.kind = 'case'),
        (p.extension_at, 'case.extension_approved', 'dispatched', 'dispatched',
         p.department_code,
         jsonb_build_object('stage', 'handle', 'due_at', p.extended_due, 'new_due_at', p.extended_due),
         p.kind = 'case' AND p.extended),
        (p.handle_due, 'case.overdue', 'dispatched', 'dispatched', p.department_code,
         jsonb_build_object('stage', 'handle', 'due_at', p.handle_due),
         p.kind = 'case' AND p.late AND NOT p.extended),
        (p.handle_due, 'case.escalated', NULL, NULL, NULL,
         jsonb_build_object('stage', 'handle', 'escalation_level', 1),
         p.kind = 'case' AND p.late AND NOT p.extended),
        (p.resolved1_at, 'case.resolved', 'dispatched', 'resolved', p.department_code,
         jsonb_build_object('stage', 'verify', 'due_at', p.resolved1_at + interval '1 day'),
         p.kind = 'case'),
        (p.rework_at, 'case.rework_ordered', 'resolved', 'dispatched', p.department_code,
         jsonb_build_object('stage', 'handle', 'due_at', p.rework_at + interval '3 days'),
         p.kind = 'case' AND p.reworked),
        (p.resolved2_at, 'case.resolved', 'dispatched', 'resolved', p.department_code,
         jsonb_build_object('stage', 'verify', 'due_at', p.resolved2_at + interval '1 day'),
         p.kind = 'case' AND p.reworked),
        (p.closed_at, 'case.verified', 'resolved', 'closed', p.department_code,
         jsonb_build_object('stage', NULL, 'due_at', NULL), p.kind = 'case')
      ) AS e(at, action, frm, too, dept, data, happens)
     WHERE e.happens AND e.at <= %(now)s
  ) x
 ORDER BY at
"""


def _say(msg: str) -> None:
    print(f"[bench.stats] {msg}", flush=True)


def built(env: BenchEnv) -> int | None:
    """The number of cases the env's database was built with by `build`, if it was."""
    try:
        with psycopg.connect(env.database_url, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute("SELECT n_cases FROM bench_built").fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def forget_month(env: BenchEnv) -> None:
    """Forget the measured month's kept facts (its table is folded from the trail again, and
    kept again as the worker does)."""
    with psycopg.connect(env.database_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("DELETE FROM indicator_periods WHERE period_start = %s",
                     (MONTH_START,))


def disk(env: BenchEnv) -> str:
    """The database's size on disk, and its two largest tables' with their indexes."""
    with psycopg.connect(env.database_url, autocommit=True, connect_timeout=10) as conn:
        db = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        parts = conn.execute("""
            SELECT relname, pg_total_relation_size(oid) FROM pg_class
             WHERE relname IN ('reports', 'case_events') ORDER BY 1""").fetchall()
    return f"{db / 2**30:.1f} GiB on disk (" + ", ".join(
        f"{name} {size / 2**30:.1f}" for name, size in parts) + " with their indexes)"


def build(env: BenchEnv, n_cases: int) -> None:
    """(Re)create the database with the city grid and n_cases generated cases with their
    trail; records n_cases in the table bench_built (when the build is complete)."""
    database.recreate(env)
    with psycopg.connect(env.database_url, autocommit=True, options="-c timezone=UTC") as conn:
        t = time.perf_counter()
        levels = gridmod.install_city(conn)
        _say(f"grid: {time.perf_counter() - t:.0f} s, " + ", ".join(
            f"{n:,} {level}s" for level, n in levels.items()))
        conn.execute("SET work_mem = '512MB'")
        conn.execute("SET max_parallel_workers_per_gather = 0")
        conn.execute("SELECT setseed(0.42)")
        t = time.perf_counter()
        conn.execute(_PLAN, {"n": n_cases})
        reporter = conn.execute(
            "SELECT id FROM users WHERE username = 'wangjianguo'").fetchone()[0]
        # a bulk load: the secondary indexes of the two big tables are built once at the end
        # (sorted), not entry by entry
        indexes = conn.execute("""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
             WHERE t.relname IN ('reports', 'case_events')
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        conn.execute(_REPORTS, {"now": NOW, "reporter": reporter})
        # 2% were merged into the case just before them (never accepted)
        conn.execute("""
            UPDATE reports r SET status = 'duplicate', duplicate_of = p.id, stage = NULL,
                   due_at = NULL
              FROM bench_plan b, reports p
             WHERE b.id = r.id AND b.kind = 'duplicate' AND b.accepted_at <= %(now)s
               AND p.number = r.number - 1
        """, {"now": NOW})
        _say(f"{n_cases:,} reports: {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        conn.execute(_EVENTS, {"now": NOW})
        n_events = conn.execute("SELECT count(*) FROM case_events").fetchone()[0]
        _say(f"{n_events:,} events: {time.perf_counter() - t:.0f} s")
        conn.execute("DROP TABLE bench_plan")
        t = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            conn.execute(definition)
        _say(f"{len(indexes)} indexes built: {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE reports")
        conn.execute("VACUUM ANALYZE case_events")
        conn.execute("VACUUM ANALYZE areas")
        _say(f"vacuum analyze: {time.perf_counter() - t:.0f} s")
        conn.execute("CREATE TABLE bench_built AS SELECT %s::bigint AS n_cases", (n_cases,))


def _running_month(session, settings, admin, repeat: int, folds: bool = True) -> list[dict]:
    """The current month's table mid-month: folded from the trail, against kept to a watermark
    (stats.keep_months every ten minutes) with the trail since folded for the reports it
    touched. The kept row is forgotten afterwards (the closed month is measured after)."""
    from gridsnap import clock
    from gridsnap.stats import queries, service
    from gridsnap.stats.rules import KEEP_LAG

    rows: list[dict] = []
    mid = RUNNING_AT
    clock.now = lambda: mid  # noqa: E731

    def table(group: str):
        def run():
            out = service.indicator_table(session, admin, settings, group=group)
            session.rollback()
            return out
        return run

    for group in ("street", "department") if folds else ():
        med, _ = _timed(table(group), repeat)
        rows.append({"name": f"indicator table of the current month ({MONTH}, on "
                             f"{mid:%d %b %H:%M} UTC), by {group}, folded from the trail",
                     "value": round(med * 1000, 1), "unit": "ms",
                     "note": f"median of {repeat}; not kept: its trail folded"})
    t = time.perf_counter()
    done = service.keep_current_month(session, settings)
    session.commit()
    rows.append({"name": "keeping the current month to a watermark (the first time, by the "
                         "worker)", "value": round((time.perf_counter() - t) * 1000, 1),
                 "unit": "ms", "note": f"{done['cases']:,} reports' facts written"})
    later = mid + RUNNING_READ_AFTER
    clock.now = lambda: later  # noqa: E731
    p = service.period_of(settings)
    touched = session.execute(__import__("sqlalchemy").text(
        "SELECT count(DISTINCT report_id) FROM case_events WHERE at >= :a AND at < :b"),
        {"a": mid - KEEP_LAG, "b": later}).scalar()
    session.rollback()
    for group in ("street", "department"):
        med, out = _timed(table(group), repeat)
        rows.append({"name": f"indicator table of the current month, kept to a watermark "
                             f"{RUNNING_READ_AFTER.seconds // 60 + KEEP_LAG.seconds // 60} "
                             f"minutes back, by {group}",
                     "value": round(med * 1000, 1), "unit": "ms",
                     "target": f"< {TARGET_TABLE_S * 1000:.0f} ms", "ok": med < TARGET_TABLE_S,
                     "note": f"median of {repeat}; {touched:,} reports touched since, folded; "
                             f"立案 {out['total']['accepted']:,}"})
    t = time.perf_counter()
    moved = service.keep_current_month(session, settings)
    session.commit()
    rows.append({"name": "moving the current month's watermark on (every ten minutes, by the "
                         "worker)", "value": round((time.perf_counter() - t) * 1000, 1),
                 "unit": "ms", "note": f"{moved['cases']:,} reports folded again"})
    queries.forget_period(session, p.start, p.end)
    session.commit()
    return rows


def _timed(fn, repeat: int) -> tuple[float, object]:
    fn()  # warm the cache: the figure is for a running system, not a cold start
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def measure(env: BenchEnv, *, repeat: int, folds: bool = True) -> list[dict]:
    """The figures of the built city; without `folds`, not the months' tables folded from the
    trail (the reference the kept tables are measured against: tens of seconds each at 10
    million cases, and linear in the month)."""
    from sqlalchemy.orm import Session

    from gridsnap import clock
    from gridsnap.db import make_engine
    from gridsnap.settings import Settings
    from gridsnap.stats import service
    from gridsnap.users.rules import Principal

    url = env.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    settings = Settings.from_env(database_url=url)
    eng = make_engine(url)
    admin = Principal(id=0, username="bench", display_name="bench", role="admin", scopes=("",))
    supervisor = Principal(id=0, username="bench-sup", display_name="bench", role="supervisor",
                           scopes=(gridmod.CITY.district_code(0),))
    real_now = clock.now
    clock.now = lambda: NOW  # the generated city's clock  # noqa: E731
    rows: list[dict] = []
    try:
        with Session(eng) as session:
            n_cases = session.execute(__import__("sqlalchemy").text(
                "SELECT count(*) FROM reports")).scalar()

            def table(group: str, who: Principal = admin):
                def run():
                    out = service.indicator_table(session, who, settings, period=MONTH,
                                                  group=group)
                    session.rollback()
                    return out
                return run

            # the month while it runs: on 20 November, folded from its trail, then kept by the
            # worker to a watermark and read ten minutes later (the reports touched since folded)
            rows += _running_month(session, settings, admin, repeat, folds)
            clock.now = lambda: NOW  # noqa: E731

            # the month folded from its trail (before the worker keeps it, or if it never did)
            for group in ("street", "department") if folds else ():
                med, out = _timed(table(group), repeat)
                rows.append({
                    "name": f"indicator table {MONTH}, whole city, by {group}, folded from the "
                            "trail",
                    "value": round(med * 1000, 1), "unit": "ms",
                    "note": f"median of {repeat}; the month not kept yet: its trail folded"})
            # the worker keeps a closed month's facts once (stats.keep_months)
            t = time.perf_counter()
            kept = service.keep_closed_months(session, settings, months=[MONTH], limit=None)
            session.commit()
            took = time.perf_counter() - t
            rows.append({"name": f"keeping the facts of {MONTH} (once, by the worker)",
                         "value": round(took * 1000, 1), "unit": "ms",
                         "note": f"{kept[0]['cases'] if kept else 0:,} reports' facts written "
                                 "and analyzed"})
            for group in ("street", "department", "community"):
                med, out = _timed(table(group), repeat)
                total = out["total"]
                rows.append({
                    "name": f"indicator table {MONTH}, whole city, by {group}",
                    "value": round(med * 1000, 1), "unit": "ms",
                    "target": f"< {TARGET_TABLE_S * 1000:.0f} ms", "ok": med < TARGET_TABLE_S,
                    "note": (f"median of {repeat}; {len(out['rows'])} rows; 立案 "
                             f"{total['accepted']:,}, 结案率 {total['closure_rate']}%; "
                             f"{n_cases:,} cases in the database; target < "
                             f"{TARGET_TABLE_S * 1000:.0f} ms: "
                             f"{'ok' if med < TARGET_TABLE_S else 'MISS'}")})
            med, out = _timed(table("street", supervisor), repeat)
            rows.append({"name": f"indicator table {MONTH}, district supervisor "
                                 f"({gridmod.CITY.district_code(0)}), by street",
                         "value": round(med * 1000, 1), "unit": "ms",
                         "note": f"median of {repeat}; scoped by area prefix"})

            # a year's 三率 (响应率, 解决率, 满意率) by department: its twelve months added up,
            # each as kept by the worker (its facts and their sums per area, category and
            # department: stats.keep_months keeps the months closed for good, the last 13)
            t = time.perf_counter()
            kept = service.keep_closed_months(session, settings, limit=None)
            session.commit()
            took = time.perf_counter() - t
            rows.append({"name": "keeping the other months of the year (once each, by the "
                                 "worker)",
                         "value": round(took * 1000, 1), "unit": "ms",
                         "note": f"{len(kept)} months, {sum(k['cases'] or 0 for k in kept):,} "
                                 "reports' facts written, added up and analyzed"})
            year = "2025-12..2026-11"

            def year_table():
                out = service.indicator_table(session, admin, settings, period=year,
                                              group="department")
                session.rollback()
                return out

            med, out = _timed(year_table, repeat)
            tot = out["total"]
            rows.append({"name": f"a year's 三率 by department ({year}, its months added up)",
                         "value": round(med * 1000, 1), "unit": "ms",
                         "target": f"< {TARGET_YEAR_S * 1000:.0f} ms", "ok": med < TARGET_YEAR_S,
                         "note": f"median of {repeat}; {len(out['rows'])} rows; 立案 "
                                 f"{tot['accepted']:,}; 响应率 {tot['response_rate']}%, 解决率 "
                                 f"{tot['resolution_rate']}%, 满意率 {tot['satisfaction_rate']}%"})
            med, out = _timed(lambda: (service.indicator_table(
                session, admin, settings, period=year, group="street"), session.rollback())[0],
                repeat)
            rows.append({"name": f"a year's table by street ({year}, its months added up)",
                         "value": round(med * 1000, 1), "unit": "ms",
                         "note": f"median of {repeat}; {len(out['rows'])} rows"})

            def top():
                out = service.top_problems(session, admin, settings, period=MONTH,
                                           level="community", limit=10)
                session.rollback()
                return out

            med, out = _timed(top, repeat)
            rows.append({"name": f"每月一题 (top problems) {MONTH}, whole city, by community",
                         "value": round(med * 1000, 1), "unit": "ms",
                         "note": f"median of {repeat}; top class {out['items'][0]['count']} "
                                 f"cases" if out["items"] else f"median of {repeat}"})
            rows += _tiles(session, admin, repeat)
        rows += _through_the_api(settings, repeat)
    finally:
        clock.now = real_now
        eng.dispose()
    return rows


TARGET_TILE_S = 0.150


def _tiles(session, who, repeat: int) -> list[dict]:
    """The live map's vector tiles at city, district, street, community and block zoom, at the
    city's centre: the open cases (the map's default), and the month's cases, every status (the
    supervisor's filter by month)."""
    import math

    from gridsnap.cases.rules import STATUSES
    from gridsnap.maps import queries as tiles
    from gridsnap.maps import rules as zooms

    lon, lat = gridmod.CITY.centre()
    month = {"received_from": MONTH_START, "received_to": MONTH_END,
             "statuses": list(STATUSES)}
    rows = []
    for filters, what in (({}, "open cases"), (month, f"the cases of {MONTH}, any status")):
        for z, label in ((10, "city"), (12, "district"), (13, "street"), (14, "streets"),
                         (15, "community"), (16, "a few blocks")):
            n = 2 ** z
            x = int((lon + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

            def one(z=z, x=x, y=y, filters=filters):
                data = tiles.tile(session, who, z, x, y, zooms.layers_for(z),
                                  zooms.area_level_for(z), filters)
                session.rollback()
                return data

            med, data = _timed(one, repeat)
            ok = med < TARGET_TILE_S
            rows.append({
                "name": f"map tile z{z} ({label} zoom), {what}: {'+'.join(zooms.layers_for(z))}",
                "value": round(med * 1000, 1), "unit": "ms",
                "target": f"< {TARGET_TILE_S * 1000:.0f} ms", "ok": ok,
                "note": f"median of {repeat}; {len(data) / 1024:.0f} KiB; target < "
                        f"{TARGET_TILE_S * 1000:.0f} ms: {'ok' if ok else 'MISS'}"})
    return rows


def _through_the_api(settings, repeat: int) -> list[dict]:
    """The same table as JSON through the real app (auth, schema, serialisation), and a
    month's CSV export of the whole city streamed out."""
    from gridsnap.app import create_app

    app = create_app(settings)
    client = app.test_client()
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "demo-admin"})
    headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    rows = []

    def get_table():
        r = client.get(f"/api/v1/stats/indicators?period={MONTH}&group=street", headers=headers)
        assert r.status_code == 200, r.get_data()[:200]
        return r

    med, _ = _timed(get_table, repeat)
    rows.append({"name": f"GET /api/v1/stats/indicators?period={MONTH}&group=street (whole city)",
                 "value": round(med * 1000, 1), "unit": "ms",
                 "target": f"< {TARGET_TABLE_S * 1000:.0f} ms", "ok": med < TARGET_TABLE_S,
                 "note": f"median of {repeat}, through the app (test client, no network); "
                         f"target < {TARGET_TABLE_S * 1000:.0f} ms: "
                         f"{'ok' if med < TARGET_TABLE_S else 'MISS'}"})
    n, size, took, grew = _export_month(client, headers)
    rows.append({"name": "GET /api/v1/exports/cases.csv, a month of the whole city",
                 "value": round(n / took), "unit": "rows/s", "target": "> 50,000 rows/s",
                 "ok": n / took > 50_000,
                 "note": f"{n:,} rows, {size / 1e6:.1f} MB in {took:.1f} s, streamed and "
                         f"dropped chunk by chunk; the process grew {grew:.1f} MB meanwhile "
                         f"(PostgreSQL's COPY)"})
    # the same rows through Python's csv writer (the export with callers; every case CSV
    # before COPY), in the same run: the ratio is what the machine's load does not change
    from gridsnap.exports import service

    copied = service._csv_copied
    service._csv_copied = lambda columns, sessions, principal, filters, tz: service._csv_chunks(
        columns, service._streamed(sessions, principal, filters, None), tz)
    try:
        m, _, slow, slow_grew = _export_month(client, headers)
    finally:
        service._csv_copied = copied
    rows.append({"name": "the same through Python's csv writer", "value": round(m / slow),
                 "unit": "rows/s", "note": f"{m:,} rows in {slow:.1f} s, the process grew "
                 f"{slow_grew:.1f} MB; COPY {slow / took:.1f}× as fast"})
    app.extensions["gridsnap"].dispose()
    return rows


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _export_month(client, headers) -> tuple[int, int, float, float]:
    """The month's CSV read chunk by chunk as a client would, nothing kept: (rows, bytes,
    seconds, how much the process's resident memory grew at most meanwhile, MB)."""
    start = _rss_mb()
    most = start
    t = time.perf_counter()
    r = client.get("/api/v1/exports/cases.csv?from=2026-11-01&to=2026-11-30", headers=headers,
                   buffered=False)
    size = lines = 0
    for i, chunk in enumerate(r.response):
        size += len(chunk)
        lines += chunk.count(b"\r\n")
        if i % 64 == 0:
            most = max(most, _rss_mb())
    r.close()
    took = time.perf_counter() - t
    return lines - 1, size, took, max(most, _rss_mb()) - start


def run(quick: bool) -> list[dict]:
    """Build the generated city (100k cases if quick, else 1M) and time the evaluation."""
    import tempfile
    from pathlib import Path

    env = BenchEnv.make(Path(tempfile.gettempdir()) / "gridsnap-bench-stats-media", db=DB)
    n = 100_000 if quick else 1_000_000
    t = time.perf_counter()
    build(env, n)
    build_s = time.perf_counter() - t
    rows = [{"name": "generated cases (with audit trail)", "value": n, "unit": "cases",
             "note": f"built in {build_s:.0f} s over 12 months and the city grid "
                     "(16 districts, 320 streets, 6,400 communities, 57,600 cells)"}]
    rows += measure(env, repeat=3 if quick else 5)
    return rows


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--measure-only", action="store_true")
    args = ap.parse_args()
    if args.measure_only:
        import tempfile
        from pathlib import Path

        result = measure(BenchEnv.make(Path(tempfile.gettempdir()), db=DB), repeat=5)
    else:
        result = run(args.quick)
    for r in result:
        print(json.dumps(r, ensure_ascii=False))
