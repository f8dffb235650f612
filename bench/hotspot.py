"""A hot spot against a quiet area: N reports of one class (E0101) within 100 m, then the same
N reports each in a place of its own, through the whole stack; server CPU per report with the
follow-up drained, and the size of the case panel's and the case list's answers.

    python -m bench.hotspot [--quick] [--reports N]   # bench.run calls run(quick, reports)

The stack is the production shape: nginx in front of gunicorn -w 2 (sync), `gridsnap relay` and
two `gridsnap worker`, on its own database `gridsnap_bench_hotspot` (PostgreSQL of the
checkout) and Redis db index 9. A synthetic grid of 100 m cells (at least N of them, district
110106) is installed next to the demo city. Each phase starts from empty case tables: 16
client threads PUT the N reports through nginx as fast as it takes them, then the phase waits
until the outbox has nothing left to do (routing, duplicates). The CPU of every process of the
stack is read from /proc four times a second (nginx, gunicorn, relay and workers by their
process groups; PostgreSQL: the postmaster's children serving this database and its shared
helpers; the Redis server): CPU per report is their total over the phase divided by N.
Quiet: one report per cell, ≥ 80 m from any other (no possible duplicate). Hot: every report
within 50 m of one point (all of them candidates of each other: the window is a week, the
phase a few minutes). The ratio hot/quiet is the target (≤ 1.2).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from . import database
from . import grid as gridmod
from .cpu import _TICK
from .env import DEMO_SUPERVISOR, DEMO_WORKER, REPO_ROOT, VENV_BIN, BenchEnv
from .procs import ProcessFailed, Procs, free_ports, gunicorn, login, nginx

DB_NAME = "gridsnap_bench_hotspot"
REDIS_DB = 9
PORTS = range(18040, 18060)
CLIENTS = 16
WORKERS = 2
DEFAULT_REPORTS = 2_000
QUICK_REPORTS = 300
DRAIN_DEADLINE_S = 900
# the city's earlier cases under each phase (outside the bench district, older than the
# duplicate window), with their done outbox messages, analyzed: a phase measures a database in
# use, with the plans it has then, not one emptied for the run (a table that PostgreSQL's
# statistics call empty gets its cached generic plans by sequential scan until autovacuum's
# ANALYZE comes, at a moment that differs from phase to phase). Their stages fall due after
# the run: past due, all 20,000 were marked overdue by the minute's sweep (an event and a
# notice each) in whichever phases a sweep fell, ~2 of 5
BACKGROUND = 20_000
_PG_SHARED = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical "
              "replication launcher", "logger", "stats collector", "archiver", "io worker")


def say(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


def row(name: str, value: float, unit: str, note: str = "", **target) -> dict:
    return {"name": name, "value": value, "unit": unit, "note": note, **target}


def _grid(n: int) -> gridmod.Grid:
    side = max(30, math.ceil(math.sqrt(n)))
    return gridmod.Grid("hotspot", "110106", "丰台区 (bench)", "Fengtai District (bench)",
                        x0=116.20, y0=39.80, nx=side, ny=side,
                        block=min(31, side))


# --- CPU of the stack, from /proc -------------------------------------------------------------

def _stat(pid: str) -> tuple[int, int, float] | None:
    """(ppid, pgrp, CPU seconds) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = raw[raw.rindex(")") + 2:].split()
    return int(f[1]), int(f[2]), (int(f[11]) + int(f[12])) / _TICK


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


class StackCpu:
    """Samples the CPU of the stack's processes four times a second: by role, the CPU each
    process used since start() (a process that ends between two samples loses at most its
    last quarter second)."""

    def __init__(self, groups: dict[int, str], postmaster: int, db: str, redis_pid: int | None,
                 harness: set[int]):
        self.groups = groups  # process group id -> role
        self.postmaster, self.db, self.redis_pid = postmaster, db, redis_pid
        self.harness = harness  # the bench's own connections (its polling is not the stack's)
        self.base: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.stop = threading.Event()

    def _role(self, pid: str, ppid: int, pgrp: int) -> str | None:
        if pgrp in self.groups:
            return self.groups[pgrp]
        if int(pid) == self.redis_pid:
            return "redis"
        if ppid == self.postmaster and int(pid) not in self.harness:
            cmd = _cmdline(pid)
            if f" {self.db} " in f"{cmd} " or any(x in cmd for x in _PG_SHARED):
                return "postgresql"
        if int(pid) == self.postmaster:
            return "postgresql"
        return None

    def sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            st = _stat(entry.name)
            if st is None:
                continue
            pid = int(entry.name)
            known = self.last.get(pid)
            role = known[0] if known else self._role(entry.name, st[0], st[1])
            if role is None:
                continue
            if pid not in self.base:
                # a process born during the phase counts from zero, one alive at start() from
                # its reading then
                self.base[pid] = st[2] if self.started is None else 0.0
            self.last[pid] = (role, st[2])

    def start(self) -> None:
        self.started = None
        self.base, self.last = {}, {}
        self.sample()
        self.started = time.monotonic()
        self.stop.clear()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            self.sample()

    def end(self) -> dict[str, float]:
        self.stop.set()
        self.thread.join()
        self.sample()
        out: dict[str, float] = {}
        for pid, (role, cpu) in self.last.items():
            out[role] = out.get(role, 0.0) + max(0.0, cpu - self.base[pid])
        return out


# --- the load -----------------------------------------------------------------------------------

def _send(port: int, token: str, bodies: list[bytes]) -> tuple[float, int, list[str]]:
    """PUT every report through `port` from CLIENTS threads; (seconds, errors, samples)."""
    ids = [str(uuid.uuid4()) for _ in bodies]
    nxt = iter(range(len(bodies)))
    lock = threading.Lock()
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while True:
            with lock:
                k = next(nxt, None)
            if k is None:
                break
            try:
                conn.request("PUT", f"/api/v1/reports/{ids[k]}", body=bodies[k], headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, data = None, repr(exc).encode()
            if status != 201:
                with lock:
                    errors.append(f"{status}: {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.monotonic() - t0, len(errors), errors[:3]


def _bodies(points: list[tuple[float, float]]) -> list[bytes]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return [json.dumps({"category": "E0101", "description": "垃圾满溢 bench",
                        "location": {"lon": round(lon, 7), "lat": round(lat, 7),
                                     "accuracy_m": 8.5, "source": "gps"},
                        "captured_at": now}).encode() for lon, lat in points]


def quiet_points(grid: gridmod.Grid, n: int, rnd: random.Random) -> list[tuple[float, float]]:
    """One point near the centre (±10 m) of each of n - 7 distinct cells, ≥ 80 m apart, and one
    quiet street's place of 7 reports (the case panel compared is its first case's, with as
    many possible duplicates named as a hot spot's)."""
    cells = rnd.sample(range(grid.nx * grid.ny), n - 6)
    place = cells.pop()
    cells += [place] * 7
    return [(grid.x0 + (c % grid.nx + 0.5 + rnd.uniform(-0.1, 0.1)) * grid.dx,
             grid.y0 + (c // grid.nx + 0.5 + rnd.uniform(-0.1, 0.1)) * grid.dy) for c in cells]


def hot_points(grid: gridmod.Grid, n: int, rnd: random.Random) -> list[tuple[float, float]]:
    """n points uniformly in a disc of 50 m radius (100 m across) around a cell's corner
    (four cells meet there, as at a metro exit): every two within 100 m, most within 50 m."""
    cx, cy = grid.x0 + (grid.nx // 2) * grid.dx, grid.y0 + (grid.ny // 2) * grid.dy
    out = []
    for _ in range(n):
        r, a = 50 * math.sqrt(rnd.random()), rnd.uniform(0, 2 * math.pi)
        # never on a shared edge: a point on one would sit in two cells
        x, y = r * math.cos(a) or 0.3, r * math.sin(a) or 0.3
        out.append((cx + x / 85_300 + (1e-7 if abs(x) < 0.01 else 0),
                    cy + y / 111_000 + (1e-7 if abs(y) < 0.01 else 0)))
    return out


def _outbox_left(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL "
        "AND (available_at IS NULL OR available_at <= now())").fetchone()[0]


def _get_size(port: int, token: str, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}",
                                           "Accept-Encoding": "identity"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise ProcessFailed(f"GET {path}: {resp.status} {data[:200]!r}")
        return len(data)
    finally:
        conn.close()


_BACKGROUND = """
WITH cells AS (
    SELECT code, ST_PointOnSurface(boundary) AS pt, row_number() OVER (ORDER BY code) - 1 AS i
      FROM areas WHERE level = 'cell' AND NOT starts_with(code, %(district)s)),
cats AS (SELECT code, row_number() OVER (ORDER BY code) - 1 AS i FROM categories),
g AS (
    SELECT s, s %% 4 AS k, s %% (SELECT count(*) FROM cells) AS ci,
           (s / 4) %% (SELECT count(*) FROM cats) AS ki,
           now() - interval '40 days' + (s %% 1440) * interval '1 minute' AS received
      FROM generate_series(0, %(n)s - 1) AS s),
ins AS (
INSERT INTO reports (id, reporter_id, category_code, description, location, accuracy_m,
                     captured_at, received_at, updated_at, area_code, cell_code,
                     community_code, street_code, district_code, outside_grid, status, stage,
                     stage_started_at, due_at, routed_at, fingerprint, department_code,
                     accepted_at, dispatched_at, resolved_at)
SELECT gen_random_uuid(), %(reporter)s, cats.code, 'bench: an earlier case', c.pt, 10,
       g.received, g.received, g.received, c.code, c.code, left(c.code, 12), left(c.code, 9),
       left(c.code, 6), false, (ARRAY['reported', 'accepted', 'dispatched', 'resolved'])[k + 1],
       (ARRAY['accept', 'accept', 'handle', 'verify'])[k + 1], g.received,
       g.received + interval '60 days', g.received, sha256(uuid_send(gen_random_uuid())),
       CASE WHEN k >= 2 THEN 'sanitation' END,
       CASE WHEN k >= 1 THEN g.received + interval '1 hour' END,
       CASE WHEN k >= 2 THEN g.received + interval '2 hours' END,
       CASE WHEN k >= 3 THEN g.received + interval '3 hours' END
  FROM g JOIN cells c ON c.i = g.ci JOIN cats ON cats.i = g.ki
RETURNING id, received_at)
INSERT INTO outbox (topic, payload, created_at, enqueued_at, done_at)
SELECT 'report.submitted', jsonb_build_object('report_id', id), received_at, received_at,
       received_at FROM ins
"""


def _fill_background(conn: psycopg.Connection, district: str) -> None:
    """Empty the case tables, then the city's earlier cases (BACKGROUND), analyzed."""
    database.reset_intake(conn)
    conn.execute("TRUNCATE case_events, case_links, case_link_counts")
    reporter = database.user_id(conn, DEMO_WORKER[0])
    conn.execute(_BACKGROUND, {"district": district, "n": BACKGROUND, "reporter": reporter})
    conn.execute("VACUUM ANALYZE reports")
    conn.execute("VACUUM ANALYZE outbox")
    conn.execute("ANALYZE case_events, case_links, case_link_counts")
    # and a checkpoint: the fill's WAL would otherwise bring one (full-page images of every
    # page touched next) into whichever phase it happened to fall in
    conn.execute("CHECKPOINT")


def phase(name: str, points, *, conn, port: int, token: str, sup_token: str,
          procs: Procs, followup: list, cpu: StackCpu, bbox: str, district: str) -> dict:
    """The case tables as a city's (_fill_background), send the reports, wait for the
    follow-up; CPU by role, sizes."""
    _fill_background(conn, district)
    bodies = _bodies(points)
    load_before = os.getloadavg()[0]
    cpu.start()
    t0 = time.monotonic()
    secs, errors, samples = _send(port, token, bodies)
    while _outbox_left(conn):
        for p in followup:
            procs.check_alive(p)
        if time.monotonic() - t0 > DRAIN_DEADLINE_S:
            raise ProcessFailed(f"{name}: the follow-up did not drain in {DRAIN_DEADLINE_S} s")
        time.sleep(0.05)
    drained = time.monotonic() - t0
    by_role = cpu.end()
    n = len(points)
    stored, links, most = conn.execute(
        "SELECT (SELECT count(*) FROM reports WHERE district_code = %s), "
        "(SELECT count(*) FROM case_links), "
        "(SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c FROM case_links "
        " GROUP BY report_id) x)", (district,)).fetchone()
    # the case with the most possible duplicates: the hot spot's primary, the quiet place's
    first, total = conn.execute(
        "SELECT id, count(*) FROM (SELECT report_id AS id FROM case_links "
        "UNION ALL SELECT other_id FROM case_links) e "
        "GROUP BY id ORDER BY count(*) DESC, id LIMIT 1").fetchone()
    if stored != n or errors:
        raise ProcessFailed(f"{name}: {stored} of {n} reports stored, {errors} errors {samples}")
    panel = _get_size(port, sup_token, f"/api/v1/cases/{first}")
    listing = _get_size(port, sup_token, f"/api/v1/cases?bbox={bbox}&page_size=50")
    all_s = sum(by_role.values())
    say(f"  {name}: {n:,} reports in {secs:.1f} s, drained after {drained:.1f} s; "
        f"CPU {all_s:.1f} s = {all_s / n * 1000:.2f} ms/report "
        f"({', '.join(f'{k} {v / n * 1000:.2f}' for k, v in sorted(by_role.items()))}); "
        f"{links:,} links (≤ {most} a case, a case with {total:,}); panel {panel:,} B, "
        f"list {listing:,} B")
    return {"n": n, "intake_s": secs, "drain_s": drained, "cpu": by_role,
            "ms_per_report": all_s / n * 1000, "links": links, "most_links": most,
            "largest_count": total, "panel_bytes": panel, "list_bytes": listing,
            "load": (load_before, os.getloadavg()[0])}


def _start_followup(env: BenchEnv, procs: Procs) -> list:
    import redis
    from rq import Worker

    r = redis.Redis.from_url(env.redis_url)
    r.flushdb()
    child = env.child_env()
    gs = str(VENV_BIN / "gridsnap")
    out = [procs.start("hotspot-relay", [gs, "relay"], env=child, cwd=REPO_ROOT)]
    out += [procs.start(f"hotspot-worker-{i}", [gs, "worker"], env=child, cwd=REPO_ROOT)
            for i in (1, 2)]
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=r)) < 2:
        for p in out:
            procs.check_alive(p)
        if time.monotonic() > deadline:
            raise ProcessFailed("the RQ workers did not register within 60 s")
        time.sleep(0.2)
    return out


def _redis_pid(env: BenchEnv) -> int | None:
    import redis

    return redis.Redis.from_url(env.redis_url).info("server").get("process_id")


def bench(env: BenchEnv, n: int, log_dir: Path, rounds: int) -> list[dict]:
    grid = _grid(n)
    rnd = random.Random(20261208)
    with database.connect(env) as conn:
        cells = gridmod.install(conn, grid, others=[])
        # the demo supervisor reads the cases of the bench district too
        conn.execute("UPDATE users SET scopes = array_append(scopes, %s) WHERE username = %s",
                     (grid.district, DEMO_SUPERVISOR[0]))
        postmaster = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'").fetchone()
        ppid = _stat(str(postmaster[0]))[0] if postmaster else -1
        say(f"  grid: {cells:,} cells of 100 m under {grid.district}; PostgreSQL postmaster "
            f"{ppid}")
        api_port, front_port = free_ports(2, PORTS)
        with Procs(log_dir) as procs:
            api = gunicorn(procs, "hotspot-api", "gridsnap.wsgi:app", api_port, WORKERS,
                           env.child_env(GRIDSNAP_TRUSTED_PROXIES="1"), "/api/v1/health")
            front = nginx(procs, "hotspot-nginx", log_dir / "nginx", front_port, api_port,
                          env.settings().max_body_bytes)
            followup = _start_followup(env, procs)
            groups = {front.pid: "nginx", api.pid: "api", followup[0].pid: "relay",
                      followup[1].pid: "workers", followup[2].pid: "workers"}
            cpu = StackCpu(groups, ppid, DB_NAME, _redis_pid(env), {conn.info.backend_pid})
            token = login(front_port, DEMO_WORKER, label="bench hotspot")
            sup = login(front_port, DEMO_SUPERVISOR, label="bench hotspot")
            x1, y1 = grid.x0 + grid.nx * grid.dx, grid.y0 + grid.ny * grid.dy
            bbox = f"{grid.x0},{grid.y0},{x1},{y1}"
            kw = dict(conn=conn, port=front_port, token=token, sup_token=sup, procs=procs,
                      followup=followup, cpu=cpu, bbox=bbox, district=grid.district)
            # a warm-up, not counted: imports, pools, plans
            phase("warm-up", quiet_points(grid, min(n, 200), rnd), **kw)
            results: dict[str, list[dict]] = {"quiet": [], "hot": []}
            order = [("quiet", quiet_points), ("hot", hot_points)]
            for _ in range(rounds):
                for name, make in order:
                    results[name].append(phase(name, make(grid, n, rnd), **kw))
                order.reverse()  # quiet, hot, hot, quiet: neither always goes second
        database.reset_intake(conn)
        gridmod.remove(conn, grid)

    def best(name):  # the least disturbed run of each: the smallest CPU per report
        return min(results[name], key=lambda r: r["ms_per_report"])

    q, h = best("quiet"), best("hot")
    ratio = h["ms_per_report"] / q["ms_per_report"]
    roles = sorted(set(q["cpu"]) | set(h["cpu"]))
    note = (f"{n:,} reports of E0101, 16 clients through nginx, gunicorn -w 2, relay + 2 "
            f"workers; best of {rounds}")
    rows = [
        row("hotspot.quiet.cpu_per_report", q["ms_per_report"], "ms",
            f"{note}; one report per 100 m cell (and one place of 7); by process: "
            + ", ".join(f"{k} {q['cpu'].get(k, 0) / n * 1000:.2f}" for k in roles)),
        row("hotspot.hot.cpu_per_report", h["ms_per_report"], "ms",
            "all within 50 m of one point; by process: "
            + ", ".join(f"{k} {h['cpu'].get(k, 0) / n * 1000:.2f}" for k in roles)
            + f"; {h['links']:,} links, ≤ {h['most_links']} a case, the primary's count "
            f"{h['largest_count']:,}"),
        row("intake all-in, server CPU per report with its follow-up (quiet area)",
            q["ms_per_report"], "ms", "every process of the stack (nginx, API, workers, relay, "
            "PostgreSQL, Redis), follow-up drained; " + _turns(results),
            target="≤ 4 ms", ok=q["ms_per_report"] <= 4.0),
        row("hot spot / quiet area, server CPU per report", ratio, "×",
            "all processes of the stack, follow-up drained; " + _turns(results),
            target="≤ 1.2", ok=ratio <= 1.2),
        row("hot spot / quiet area, case panel answer bytes",
            h["panel_bytes"] / q["panel_bytes"], "×",
            f"GET /cases/{{id}} of the case with the most possible duplicates ({h['largest_count']:,} "
            f"and {q['largest_count']}): {h['panel_bytes']:,} B against {q['panel_bytes']:,} B",
            target="≤ 1.05", ok=h["panel_bytes"] / q["panel_bytes"] <= 1.05),
        row("hot spot / quiet area, case list answer bytes",
            h["list_bytes"] / q["list_bytes"], "×",
            f"GET /cases?bbox=…&page_size=50: {h['list_bytes']:,} B against "
            f"{q['list_bytes']:,} B", target="≤ 1.05",
            ok=h["list_bytes"] / q["list_bytes"] <= 1.05),
        row("hotspot.intake.reports_per_s", n / q["intake_s"], "reports/s",
            f"quiet; hot {n / h['intake_s']:.0f}; drained after {q['drain_s']:.1f} s "
            f"(quiet) and {h['drain_s']:.1f} s (hot)"),
    ]
    return rows


def _turns(results: dict[str, list[dict]]) -> str:
    """The ratio of each hot phase to the quiet phase next to it in time (the machine's load
    changes less between neighbours than across the run), the API's own ratio beside it (the
    same work in both phases: what the load alone moved), and the load average around each."""
    pairs = list(zip(results["hot"], results["quiet"], strict=False))
    if not pairs:
        return ""
    def api(r):
        return r["cpu"].get("api", 0.0)
    turns = ", ".join(f"{h['ms_per_report'] / q['ms_per_report']:.2f}" for h, q in pairs)
    apis = ", ".join(f"{api(h) / api(q):.2f}" if api(q) else "?" for h, q in pairs)
    loads = [x for r in results["quiet"] + results["hot"] for x in r["load"]]
    return (f"hot/quiet of the phases side by side {turns} (the API's own, the same work in "
            f"both: {apis}); load average {min(loads):.1f}–{max(loads):.1f}")


def run(quick: bool, reports: int | None = None) -> list[dict]:
    n = reports or (QUICK_REPORTS if quick else DEFAULT_REPORTS)
    media = Path(tempfile.mkdtemp(prefix="gridsnap-bench-hotspot-"))
    log_dir = REPO_ROOT / "bench" / "out" / (
        "hotspot-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env = BenchEnv.make(media, db=DB_NAME, redis_db=REDIS_DB)
    try:
        t = time.perf_counter()
        database.recreate(env)
        say(f"hotspot bench: {n:,} reports a phase; database {DB_NAME} made "
            f"({time.perf_counter() - t:.1f} s); logs in {log_dir.relative_to(REPO_ROOT)}")
        return bench(env, n, log_dir, rounds=1 if quick else 2)
    finally:
        with contextlib.suppress(Exception):
            database.drop(env)
        with contextlib.suppress(Exception):
            import redis

            redis.Redis.from_url(env.redis_url).flushdb()
        shutil.rmtree(media, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hotspot", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_REPORTS} reports, one round")
    ap.add_argument("--reports", type=int, help=f"reports a phase (default {DEFAULT_REPORTS:,})")
    args = ap.parse_args(argv)
    for r in run(args.quick, args.reports):
        print(f"{r['name']:<55} {r['value']:>10,.2f} {r['unit']:<9} {r['note']}")
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
