"""Patrol benchmarks (按时巡): a day of workers' tracks ingested in batches, each patrol's
coverage computed at its end, and a week's coverage figures for the demo district.

    python -m bench.patrols [--quick] [--workers N]   # prints the rows; bench.run calls run()

Uses its own database `gridsnap_bench_patrols` on the same server as DATABASE_URL (or the
project-local PostgreSQL) and drops it when done. The issue's scale is 1,000 workers walking
6 hours with a point every 10 s (2,160,000 points a day); on a shared 2-core machine the run
takes WORKERS workers (200; --quick 20 for one hour) and states the rate, from which the time
of the whole day follows. The work runs in-process through the service layer (one transaction
per batch of 60 points, as the API's edge commits one per request), without HTTP: what is
measured is the statement that stores a batch and the PostGIS coverage, not Flask.

(a) ingest: each worker's patrol started, its points sent in batches of 60 (10 minutes), in
    worker order, one transaction each; points/s.
(b) coverage: each patrol ended — distance, time, the cells its buffered track reached, the
    time inside each cell, flags — ms per patrol (mean and p95).
(c) the week: the day's patrols copied to the six other days (SQL), then the week's figures
    for the whole district (every cell, every worker): ms.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from . import database
from .env import BenchEnv

DB_NAME = "gridsnap_bench_patrols"
REDIS_DB = 8
EVERY_S = 10
BATCH = 60
SPEED_MPS = 1.2
DAY_WORKERS = 1000
DAY_POINTS = DAY_WORKERS * 6 * 3600 // EVERY_S
# targets: a day of 1,000 workers ingested within 20 minutes of this machine's time (1,800
# points/s); a patrol's coverage within 250 ms; a district's week within 3 s
INGEST_TARGET_PPS = DAY_POINTS / (20 * 60)
COVERAGE_TARGET_MS = 250
WEEK_TARGET_MS = 3000
MONDAY = date(2026, 3, 2)


def say(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


def _communities(conn) -> list[tuple[str, tuple[float, float, float, float]]]:
    return [(code, (x0, y0, x1, y1)) for code, x0, y0, x1, y1 in conn.execute("""
        SELECT code, ST_XMin(boundary), ST_YMin(boundary), ST_XMax(boundary), ST_YMax(boundary)
          FROM areas WHERE level = 'community' AND code LIKE '110101%' ORDER BY code
    """).fetchall()]


def _workers(conn, n: int, communities) -> list[tuple[int, str]]:
    """n workers spread over the communities (inserted directly: nobody logs in)."""
    out = []
    for i in range(n):
        community = communities[i % len(communities)][0]
        uid = conn.execute("""
            INSERT INTO users (username, display_name, role, password_hash, scopes)
            VALUES (%s, %s, 'worker', 'x', ARRAY[%s]) RETURNING id
        """, (f"bench_w{i}", f"巡查员{i}", community)).fetchone()[0]
        out.append((uid, community))
    return out


def _track(rng: random.Random, box, start: datetime, points: int) -> list[dict]:
    """A walk inside the box: 1.2 m/s, the heading drifting, turned back at the edges."""
    x0, y0, x1, y1 = box
    lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
    heading = rng.uniform(0, 2 * math.pi)
    step = SPEED_MPS * EVERY_S
    out = []
    for i in range(points):
        out.append({"id": uuid.uuid4(), "recorded_at": start + timedelta(seconds=i * EVERY_S),
                    "lon": lon, "lat": lat, "accuracy_m": rng.choice((4.0, 6.0, 10.0))})
        heading += rng.gauss(0, 0.3)
        lon += step * math.cos(heading) / (111_320 * math.cos(math.radians(lat)))
        lat += step * math.sin(heading) / 110_574
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            heading += math.pi
            lon, lat = min(max(lon, x0), x1), min(max(lat, y0), y1)
    return out


def run(quick: bool, workers: int | None = None) -> list[dict]:
    from sqlalchemy.orm import Session

    from gridsnap.db import make_engine
    from gridsnap.patrols import service
    from gridsnap.users.rules import Principal

    n = workers or (20 if quick else 200)
    hours = 1 if quick else 6
    per_worker = hours * 3600 // EVERY_S
    media = Path(tempfile.mkdtemp(prefix="gridsnap-bench-patrols-"))
    env = BenchEnv.make(media, db=DB_NAME, redis_db=REDIS_DB)
    rows: list[dict] = []
    engine = None
    try:
        database.recreate(env)
        settings = env.settings()
        engine = make_engine(settings.database_url.replace("postgresql://",
                                                           "postgresql+psycopg://", 1))
        with database.connect(env) as conn:
            communities = _communities(conn)
            staff = _workers(conn, n, communities)
        boxes = dict(communities)
        rng = random.Random(21)
        day_start = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Beijing
        patrols = []
        say(f"patrols bench: {n} workers × {hours} h, a point every {EVERY_S} s "
            f"({n * per_worker:,} points)")
        ingest_s = 0.0
        for uid, community in staff:
            principal = Principal(id=uid, username=f"w{uid}", display_name="", role="worker",
                                  scopes=(community,))
            pid = uuid.uuid4()
            track = _track(rng, boxes[community], day_start, per_worker)
            t = time.perf_counter()
            with Session(engine) as s, s.begin():
                service.start_patrol(s, principal, pid, day_start, settings)
            for i in range(0, len(track), BATCH):
                with Session(engine) as s, s.begin():
                    service.add_points(s, principal, pid, track[i:i + BATCH])
            ingest_s += time.perf_counter() - t
            patrols.append((principal, pid, track[-1]["recorded_at"]))
        pps = n * per_worker / ingest_s
        rows.append({"name": "track points ingested (batches of 60, one transaction each)",
                     "value": round(pps), "unit": "points/s",
                     "target": f"≥ {INGEST_TARGET_PPS:,.0f} points/s",
                     "ok": pps >= INGEST_TARGET_PPS,
                     "note": f"{n} workers, {n * per_worker:,} points in {ingest_s:.1f} s; "
                             f"a day of {DAY_WORKERS:,} workers ({DAY_POINTS:,} points) "
                             f"≈ {DAY_POINTS / pps / 60:.1f} min"})
        say(f"  ingest {pps:,.0f} points/s")
        timings = []
        for principal, pid, ended in patrols:
            t = time.perf_counter()
            with Session(engine) as s, s.begin():
                service.end_patrol(s, principal, pid, ended)
            timings.append((time.perf_counter() - t) * 1000)
        mean = statistics.fmean(timings)
        p95 = sorted(timings)[max(0, math.ceil(len(timings) * 0.95) - 1)]
        rows.append({"name": "a patrol's coverage at its end (PostGIS)", "value": round(mean, 1),
                     "unit": "ms", "target": f"< {COVERAGE_TARGET_MS} ms",
                     "ok": mean < COVERAGE_TARGET_MS,
                     "note": f"mean over {n} patrols of {per_worker:,} points; p95 "
                             f"{p95:.1f} ms"})
        say(f"  coverage {mean:.1f} ms per patrol (p95 {p95:.1f})")
        with database.connect(env) as conn:
            for d in range(1, 7):
                conn.execute("""
                    WITH src AS (SELECT * FROM patrols WHERE started_at < %(day)s),
                    copied AS (
                        INSERT INTO patrols (id, worker_id, worker_scopes, started_at, ended_at,
                                             received_at, points, distance_m, seconds,
                                             max_speed_mps, flags)
                        SELECT gen_random_uuid(), worker_id, worker_scopes,
                               started_at + %(shift)s, ended_at + %(shift)s, received_at,
                               points, distance_m, seconds, max_speed_mps, flags
                          FROM src RETURNING id, worker_id
                    )
                    INSERT INTO patrol_cells (patrol_id, cell_code, seconds, length_m)
                    SELECT c.id, pc.cell_code, pc.seconds, pc.length_m
                      FROM copied c JOIN src s ON s.worker_id = c.worker_id
                      JOIN patrol_cells pc ON pc.patrol_id = s.id
                """, {"day": day_start + timedelta(days=1), "shift": timedelta(days=d)})
            conn.execute("ANALYZE patrols; ANALYZE patrol_cells")
        admin = Principal(id=0, username="bench", display_name="", role="supervisor",
                          scopes=("110101",))
        week_ms = []
        for _ in range(3):
            t = time.perf_counter()
            with Session(engine) as s, s.begin():
                figures = service.week_figures(s, admin, settings, area_prefix="110101",
                                               week=MONDAY)
            week_ms.append((time.perf_counter() - t) * 1000)
        best = min(week_ms)
        rows.append({"name": "a week's coverage figures for the district", "value": round(best, 1),
                     "unit": "ms", "target": f"< {WEEK_TARGET_MS} ms", "ok": best < WEEK_TARGET_MS,
                     "note": f"{figures['cells']} cells, {7 * n} patrols, coverage "
                             f"{figures['coverage_rate']}; best of 3"})
        say(f"  week {best:.1f} ms")
        # the patrol table (巡查指标) of the same week, per community and per worker
        for group in ("community", "worker"):
            table_ms = []
            for _ in range(3):
                t = time.perf_counter()
                with Session(engine) as s, s.begin():
                    table = service.patrol_table(s, admin, settings, group=group,
                                                 first=MONDAY, last=MONDAY + timedelta(days=6))
                table_ms.append((time.perf_counter() - t) * 1000)
            best = min(table_ms)
            rows.append({"name": f"the week's patrol table of the district by {group}",
                         "value": round(best, 1), "unit": "ms",
                         "target": f"< {WEEK_TARGET_MS} ms", "ok": best < WEEK_TARGET_MS,
                         "note": f"{len(table['rows'])} rows, {table['total']['visits']} visits, "
                                 f"{7 * n} patrols; best of 3"})
            say(f"  table by {group} {best:.1f} ms")
    finally:
        if engine is not None:
            engine.dispose()
        with contextlib.suppress(Exception):
            database.drop(env)
        shutil.rmtree(media, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.patrols",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 workers for one hour")
    ap.add_argument("--workers", type=int, help="how many workers (default 200, quick 20)")
    args = ap.parse_args(argv)
    for r in run(args.quick, args.workers):
        print(f"{r['name']}: {r['value']} {r['unit']}  ({r.get('note', '')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
