"""The indicators right after a bulk load: 1,000,000 cases and their audit trail COPYed into
a fresh database, then a month's indicator table before any manual ANALYZE.

Before the indicators analyzed stale tables themselves, the first indicator query after such a
load took 709 s (0.4 s after an ANALYZE): the planner took the freshly loaded tables for
empty. `run(quick)` (re)creates its own database `gridsnap_bench_bulk` (migrated, the demo
city), turns autovacuum off for the two tables (so it cannot run before the query, as after a
real import), generates the cases with the trail the closed loop writes (the generator of
bench.stats: a city's year, Dec 2025 – Nov 2026; BENCH_BULK_ONE_MONTH=1 puts them all in
November 2026) and COPYs them in (COPY … TO STDOUT from the generator, COPY … FROM STDIN into
reports and case_events), then times, for November 2026:

0. for comparison, the table as it was before: the step that analyzes stale tables left out
   (cut off after UNANALYZED_CAP_S);
1. the first indicator table of the month, through the service as the API calls it (it
   analyzes the stale tables first: the time includes that ANALYZE);
2. the baseline in the same run: the same table again, statistics now fresh (median of 3).

Rows: {name, value, unit, note}. quick=True: 100,000 cases.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime

import psycopg

from . import database
from . import stats as city
from .env import BenchEnv

DB = "gridsnap_bench_bulk"
MONTH = "2026-11"
TARGET_S = 2.0
UNANALYZED_CAP_S = 60
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _say(msg: str) -> None:
    print(f"[bench.bulk] {msg}", flush=True)


def _inline(sql: str, **values) -> str:
    """The generator's SQL with its parameters written in (COPY takes no bound parameters)."""
    for key, value in values.items():
        sql = sql.replace(f"%({key})s", value)
    return sql.replace("%%", "%")


def _split_insert(sql: str) -> tuple[str, str]:
    """"INSERT INTO t (cols) SELECT …" → ("t (cols)", "SELECT …")."""
    head, _, select = sql.partition("\nSELECT ")
    target = head.strip().removeprefix("INSERT INTO ").strip()
    return " ".join(target.split()), "SELECT " + select


def _copy(src: psycopg.Connection, dst: psycopg.Connection, select: str, target: str) -> int:
    """COPY the rows of `select` (on src) into `target` (on dst), streamed; bytes moved."""
    moved = 0
    with src.cursor().copy(f"COPY ({select}) TO STDOUT") as out, \
            dst.cursor().copy(f"COPY {target} FROM STDIN") as into:
        for chunk in out:
            into.write(chunk)
            moved += len(chunk)
    return moved


def build(env: BenchEnv, n_cases: int, one_month: bool) -> dict:
    """A fresh database with n_cases cases of MONTH and their trail COPYed in; autovacuum off
    for reports and case_events. Returns what was loaded."""
    database.recreate(env)
    now = f"timestamptz '{NOW.isoformat()}'"
    with database.connect(env) as src, database.connect(env) as dst:
        for table in ("reports", "case_events"):
            dst.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
        src.execute("SET work_mem = '512MB'")
        src.execute("SET max_parallel_workers_per_gather = 0")
        src.execute("SELECT setseed(0.42)")
        t = time.perf_counter()
        # the same generator as bench.stats: a city's year (Dec 2025 – Nov 2026, the measured
        # month the last), or with one_month every case received in the measured month
        plan = city._PLAN
        if one_month:
            plan = plan.replace("timestamptz '2025-12-01 00:00+08'",
                                "timestamptz '2026-11-01 00:00+08'").replace(
                "interval '365 days'", "interval '29 days 20 hours'")
        src.execute(_inline(plan, n=str(n_cases)))
        reporter = database.user_id(src, "wangjianguo")
        target, select = _split_insert(_inline(city._REPORTS, now=now, reporter=str(reporter)))
        size = _copy(src, dst, select, target)
        _say(f"{n_cases:,} reports COPYed ({size / 1e6:.0f} MB): {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        target, select = _split_insert(_inline(city._EVENTS, now=now))
        size = _copy(src, dst, select, target)
        n_events = dst.execute("SELECT count(*) FROM case_events").fetchone()[0]
        _say(f"{n_events:,} events COPYed ({size / 1e6:.0f} MB): {time.perf_counter() - t:.0f} s")
        src.execute("DROP TABLE bench_plan")
    # the loaders' sessions have ended: their row counts are in pg_stat_user_tables now
    with database.connect(env) as conn:
        stale = conn.execute("""
            SELECT relname, n_mod_since_analyze, last_analyze, last_autoanalyze
              FROM pg_stat_user_tables WHERE relname IN ('reports', 'case_events')
             ORDER BY relname""").fetchall()
    return {"events": n_events, "stale": stale}


def measure(env: BenchEnv, loaded: dict, n_cases: int) -> list[dict]:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from gridsnap import clock
    from gridsnap.db import make_engine
    from gridsnap.settings import Settings
    from gridsnap.stats import queries, service
    from gridsnap.users.rules import Principal

    url = env.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    settings = Settings.from_env(database_url=url)
    eng = make_engine(url)
    admin = Principal(id=0, username="bench", display_name="bench", role="admin", scopes=("",))
    real_now = clock.now
    clock.now = lambda: NOW  # noqa: E731
    rows: list[dict] = []
    try:
        with Session(eng) as session:
            stale = queries.stale_tables(session)
            session.rollback()

            def table():
                out = service.indicator_table(session, admin, settings, period=MONTH,
                                              group="street")
                session.rollback()
                return out

            # what it was before the indicators analyzed stale tables themselves: the same
            # table with that step left out, cut off after UNANALYZED_CAP_S
            skip = service.refresh_statistics
            service.refresh_statistics = lambda _session, **_: []
            session.execute(text(f"SET statement_timeout = '{UNANALYZED_CAP_S}s'"))
            t = time.perf_counter()
            try:
                table()
                unanalyzed = f"{(time.perf_counter() - t) * 1000:,.0f} ms"
            except DBAPIError:
                session.rollback()
                unanalyzed = f"> {UNANALYZED_CAP_S} s (cancelled)"
            finally:
                service.refresh_statistics = skip
                session.execute(text("SET statement_timeout = 0"))
                session.rollback()
            t = time.perf_counter()
            out = table()
            first = time.perf_counter() - t
            analyzed = session.execute(text("""
                SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_stat_user_tables
                 WHERE relname IN ('reports', 'case_events') AND last_analyze IS NOT NULL
            """)).scalar()
            session.rollback()
            times = []
            for _ in range(3):
                t = time.perf_counter()
                table()
                times.append(time.perf_counter() - t)
            base = statistics.median(times)
        total = out["total"]
        mods = ", ".join(f"{r[0]} {r[1]:,} rows changed, never analyzed" if r[2] is None
                         and r[3] is None else f"{r[0]} {r[1]:,} rows changed"
                         for r in loaded["stale"])
        rows.append({"name": "bulk load: cases COPYed with their trail",
                     "value": n_cases, "unit": "cases",
                     "note": f"{loaded['spread']}; {loaded['events']:,} events; before the "
                             f"query: {mods}; autovacuum off for both tables"})
        rows.append({
            "name": f"first indicator table {MONTH} after the bulk load (no manual ANALYZE)",
            "value": round(first * 1000, 1), "unit": "ms",
            "target": f"< {TARGET_S:.0f} s", "ok": first < TARGET_S,
            "note": f"by street, whole city; stale tables found: {', '.join(stale) or 'none'}; "
                    f"analyzed by the indicators: {analyzed or 'none'}; without that "
                    f"step: {unanalyzed}; 立案 "
                    f"{total['accepted']:,}, 应结案 {total['due']:,}, 结案率 "
                    f"{total['closure_rate']}%; target < {TARGET_S:.0f} s: "
                    f"{'ok' if first < TARGET_S else 'MISS'}"})
        rows.append({
            "name": "baseline: the same table, statistics fresh (same run)",
            "value": round(base * 1000, 1), "unit": "ms",
            "note": f"median of 3; first ÷ baseline = {first / base:.2f}"})
    finally:
        clock.now = real_now
        eng.dispose()
    return rows


def run(quick: bool) -> list[dict]:
    import tempfile
    from pathlib import Path

    env = BenchEnv.make(Path(tempfile.gettempdir()) / "gridsnap-bench-bulk-media", db=DB)
    n = 100_000 if quick else 1_000_000
    one_month = bool(os.environ.get("BENCH_BULK_ONE_MONTH"))
    t = time.perf_counter()
    loaded = build(env, n, one_month)
    loaded["spread"] = ("all in the measured month" if one_month
                        else "over 12 months, Dec 2025 – Nov 2026")
    _say(f"built in {time.perf_counter() - t:.0f} s")
    try:
        return measure(env, loaded, n)
    finally:
        if not os.environ.get("BENCH_KEEP_DB"):
            database.drop(env)


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    for r in run(args.quick):
        print(json.dumps(r, ensure_ascii=False))
