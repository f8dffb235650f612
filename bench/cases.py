"""Case benchmarks: the due-time sweep over 100,000 open cases, due times computed on the
Chinese working calendar, and a case action under 16 concurrent clients.

    python -m bench.cases [--quick]   # prints the rows; bench.run calls run(quick)

Uses its own database `gridsnap_bench_cases` on the same server as DATABASE_URL (or the
project-local PostgreSQL), Redis db index 7, a temporary media directory and a free port in
18020–18039; it stops what it started and drops its database when done.

(a) `escalate_overdue` (the minute sweep of 限时办理) over N open cases bulk-inserted with
    SQL, statuses spread over reported/accepted/dispatched/resolved, due times spread evenly
    over ±30 days around now: (i) a typical minute, when every past-due case is already
    overdue and nothing is newly due; (ii) 1% of the cases newly due; (iii) the worst case,
    all past-due cases (half of them) becoming overdue at once. Each sweep that marks cases is
    rolled back, then the table vacuumed, so every run starts from the same data.
    Also the time to compute `due_at` for N cases with mixed units (natural hours, working
    hours, working days) over 2025–2026, holidays and 调休 included.
(b) POST /api/v1/cases/{id}/actions {"action": "accept"} by the demo supervisor, 16 client
    threads (http.client, each on its own distinct cases) against gunicorn -w 2, next to
    GET /api/v1/health as a load balancer probes it, relayed by the node's nginx (the
    anonymous up or down: one statement, PostGIS and the outbox's backlog) the same way. The target: accept's p99 < 50 ms at 16
    clients, shown with its ratio to health's p99 in the same run (the machine's share of the
    latency: both wait for the same 2 cores). And /health's own rate, target ≥ 1,000 req/s (a
    load balancer probes it every second on every node), beside floor H in the same run:
    bench/minimal_app.py's GET /health, one trivial statement and a Redis ping through Flask on
    the same gunicorn settings.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from . import database
from .cpu import backends_cpu_s, group_cpu_s
from .env import DEMO_SUPERVISOR, DEMO_WORKER, REPO_ROOT, BenchEnv
from .procs import ProcessFailed, Procs, free_ports, gunicorn, login

DB_NAME = "gridsnap_bench_cases"
REDIS_DB = 7
PORTS = range(18020, 18040)
CLIENTS = 16
WORKERS = 2
OPEN = (("reported", "accept"), ("accepted", "accept"), ("dispatched", "handle"),
        ("resolved", "verify"))


@dataclass(frozen=True)
class Plan:
    cases: int  # open cases for the sweep
    due_at_cases: int
    idle_runs: int  # (i): cheap, several runs
    marking_runs: int  # (ii) and (iii): each rolled back and vacuumed
    load_s: float
    warmup_s: float
    action_cases: int  # prepared reported cases, more than the run can accept


FULL = Plan(cases=100_000, due_at_cases=100_000, idle_runs=5, marking_runs=3, load_s=10,
            warmup_s=2, action_cases=40_000)
QUICK = Plan(cases=10_000, due_at_cases=10_000, idle_runs=3, marking_runs=1, load_s=3,
             warmup_s=1, action_cases=12_000)


def say(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


def row(name: str, value: float, unit: str, note: str = "", **target) -> dict:
    return {"name": name, "value": value, "unit": unit, "note": note, **target}


# --- (a) the sweep ------------------------------------------------------------------------------

# N cases over the demo cells (a point inside each) and the categories; status cycles over
# the four open statuses with the stage whose deadline runs in it; due_at is spread evenly
# (golden-ratio steps) over [now - 30 d, now + 30 d), independently of the status.
_INSERT_OPEN = """
WITH cells AS (
    SELECT code, ST_PointOnSurface(boundary) AS pt,
           row_number() OVER (ORDER BY code) - 1 AS i
      FROM areas WHERE level = 'cell'),
cats AS (SELECT code, row_number() OVER (ORDER BY code) - 1 AS i FROM categories),
g AS (
    SELECT s, s %% 4 AS k,
           s %% (SELECT count(*) FROM cells) AS ci,
           (s / 4) %% (SELECT count(*) FROM cats) AS ki,
           CAST(%(now)s AS timestamptz) - interval '40 days' + (s %% 1440) * interval '1 minute'
               AS received,
           CAST(%(now)s AS timestamptz)
               + ((s * 0.6180339887498949) %% 1 - 0.5) * interval '60 days' AS due
      FROM generate_series(0, %(n)s - 1) AS s)
INSERT INTO reports (id, reporter_id, category_code, description, location, accuracy_m,
                     captured_at, received_at, updated_at, area_code, cell_code,
                     community_code, street_code, district_code, outside_grid, status, stage,
                     stage_started_at, due_at, routed_at, fingerprint, department_code,
                     accepted_at, dispatched_at, resolved_at)
SELECT gen_random_uuid(), %(reporter)s, cats.code, %(description)s, c.pt, 10,
       g.received, g.received, g.received, c.code, c.code, left(c.code, 12), left(c.code, 9),
       left(c.code, 6), false, (ARRAY['reported', 'accepted', 'dispatched', 'resolved'])[k + 1],
       (ARRAY['accept', 'accept', 'handle', 'verify'])[k + 1], g.received, g.due, g.received,
       sha256(uuid_send(gen_random_uuid())),
       CASE WHEN k >= 2 THEN 'sanitation' END,
       CASE WHEN k >= 1 THEN g.received + interval '1 hour' END,
       CASE WHEN k >= 2 THEN g.received + interval '2 hours' END,
       CASE WHEN k >= 3 THEN g.received + interval '3 hours' END
  FROM g JOIN cells c ON c.i = g.ci JOIN cats ON cats.i = g.ki
"""

# A prepared reported case for the action benchmark (a status the supervisor can accept).
_INSERT_REPORTED = """
WITH cells AS (
    SELECT code, ST_PointOnSurface(boundary) AS pt,
           row_number() OVER (ORDER BY code) - 1 AS i
      FROM areas WHERE level = 'cell')
INSERT INTO reports (id, reporter_id, category_code, description, location, accuracy_m,
                     captured_at, received_at, updated_at, area_code, cell_code,
                     community_code, street_code, district_code, outside_grid, status, stage,
                     stage_started_at, due_at, routed_at, fingerprint, suggested_department_code,
                     routing_source)
SELECT gen_random_uuid(), %(reporter)s, 'E0101', %(description)s, c.pt, 10,
       now(), now(), now(), c.code, c.code, left(c.code, 12), left(c.code, 9), left(c.code, 6),
       false, 'reported', 'accept', now(), now() + interval '1 day', now(),
       sha256(uuid_send(gen_random_uuid())), 'sanitation', 'category'
  FROM generate_series(0, %(n)s - 1) AS s
  JOIN cells c ON c.i = s %% (SELECT count(*) FROM cells)
RETURNING id
"""


def _vacuum(conn: psycopg.Connection) -> None:
    conn.execute("VACUUM ANALYZE reports")
    conn.execute("VACUUM ANALYZE case_events")
    conn.execute("VACUUM ANALYZE notifications")


def _timed_sweep(sessions, now: datetime, *, commit: bool = False) -> tuple[float, int, int]:
    """(seconds, cases marked, notifications written) of one escalate_overdue; rolled back
    unless `commit`."""
    from sqlalchemy import text

    from gridsnap.cases.sweeps import escalate_overdue

    with sessions() as session:
        t = time.perf_counter()
        marked = escalate_overdue(session, now=now)
        seconds = time.perf_counter() - t
        notes = session.execute(text(
            "SELECT count(*) FROM notifications WHERE kind = 'case.overdue'")).scalar()
        if commit:
            session.commit()
        else:
            session.rollback()
    return seconds, marked, notes


def _sweep_plan_note(conn: psycopg.Connection, now: datetime) -> str:
    plan = conn.execute(
        "EXPLAIN (FORMAT JSON) SELECT id FROM reports WHERE stage IS NOT NULL AND NOT overdue "
        "AND due_at <= %s ORDER BY due_at LIMIT 200000", (now,)).fetchone()[0]
    text = json.dumps(plan)
    if "ix_reports_running_due" in text:
        return "index scan on ix_reports_running_due"
    return "NO index on the running deadlines used (seq scan)"


def bench_sweep(env: BenchEnv, plan: Plan) -> list[dict]:
    import gridsnap.models  # noqa: F401 (every table known to the sessions)
    from gridsnap.db import make_engine, make_session_factory

    n = plan.cases
    rows: list[dict] = []
    now = datetime.now(UTC).replace(microsecond=0)
    with database.connect(env) as conn:
        reporter = database.user_id(conn, DEMO_WORKER[0])
        t = time.perf_counter()
        conn.execute(_INSERT_OPEN, {"now": now, "n": n, "reporter": reporter,
                                    "description": "bench: open case"})
        _vacuum(conn)
        past_due = conn.execute("SELECT count(*) FROM reports WHERE due_at <= %s",
                                (now,)).fetchone()[0]
        say(f"  {n:,} open cases inserted and analysed in {time.perf_counter() - t:.1f} s "
            f"({past_due:,} past due)")

        engine = make_engine(env.settings().database_url, pool_size=1, max_overflow=0)
        sessions = make_session_factory(engine)
        try:
            # (iii) worst case: every past-due case becomes overdue in one sweep
            runs = []
            for _ in range(plan.marking_runs):
                seconds, marked, notes = _timed_sweep(sessions, now)
                runs.append(seconds)
                _vacuum(conn)
                say(f"  worst case: {marked:,} marked, {notes:,} notifications, "
                    f"{seconds * 1000:,.0f} ms")
            worst = statistics.median(runs)
            rows += [
                row("cases.sweep.worst_case", worst * 1000, "ms",
                    f"{marked:,} of {n:,} open cases become overdue at once "
                    f"({notes:,} escalation notifications); median of {len(runs)}"),
                row("cases.sweep.worst_case.rate", marked / worst, "cases/s",
                    "cases marked overdue, with audit event and escalation, per second"),
            ]

            # the steady state: everything past due was marked by earlier sweeps
            conn.execute("UPDATE reports SET overdue = true, overdue_at = due_at, "
                         "escalation_level = 1 WHERE due_at <= %s", (now,))
            _vacuum(conn)

            # (i) a typical minute: nothing newly due
            runs = []
            for _ in range(plan.idle_runs):
                seconds, marked, _ = _timed_sweep(sessions, now)
                assert marked == 0, marked
                runs.append(seconds)
            idle = statistics.median(runs)
            rows += [
                row("cases.sweep.idle", idle * 1000, "ms",
                    f"{n:,} open cases ({past_due:,} overdue already), none newly due: "
                    f"{_sweep_plan_note(conn, now)}, so the cost follows the cases due, not "
                    f"the open ones; median of {len(runs)}"),
            ]

            # (ii) 1% newly due: the next 0.6 days of the 60-day spread
            later = now + timedelta(days=60 * 0.01)
            runs = []
            for _ in range(plan.marking_runs):
                seconds, marked, notes = _timed_sweep(sessions, later)
                runs.append(seconds)
                _vacuum(conn)
            some = statistics.median(runs)
            rows += [
                row("cases.sweep.one_percent", some * 1000, "ms",
                    f"{marked:,} of {n:,} open cases newly due ({notes:,} notifications); "
                    f"median of {len(runs)}"),
                row("cases.sweep.one_percent.rate", marked / some, "cases/s",
                    "cases marked overdue per second"),
            ]
        finally:
            engine.dispose()
        # leave the table as the action benchmark finds it: open cases, past-due ones overdue
    return rows


def bench_due_at(plan: Plan) -> list[dict]:
    from gridsnap.deadlines.rules import TimeLimit, WorkCalendar, calendar_coverage, due_at

    cal = WorkCalendar()
    limits = [TimeLimit(2, "hours"), TimeLimit(24, "hours"), TimeLimit(1, "working_hours"),
              TimeLimit(4, "working_hours"), TimeLimit(16, "working_hours"),
              TimeLimit(1, "working_days"), TimeLimit(3, "working_days"),
              TimeLimit(10, "working_days")]
    rnd = random.Random(7)
    first = datetime(2025, 1, 1, tzinfo=UTC)
    span_s = int((datetime(2027, 1, 1, tzinfo=UTC) - first).total_seconds())
    work = [(first + timedelta(seconds=rnd.randrange(span_s)), limits[i % len(limits)])
            for i in range(plan.due_at_cases)]
    t = time.perf_counter()
    # builds the year tables (a due time may fall in the next year)
    guessed = [y for y in (2025, 2026, 2027) if not calendar_coverage(y)]
    cold = time.perf_counter() - t
    t = time.perf_counter()
    for start, limit in work:
        due_at(start, limit, cal)
    seconds = time.perf_counter() - t
    n = len(work)
    note = (f"{n:,} stage starts over 2025–2026, 8 limits from 2 h to 10 working days; "
            f"year tables built first ({cold * 1000:.0f} ms)")
    if guessed:
        note += (f"; no State Council notice in the holidays library for "
                 f"{', '.join(map(str, guessed))} (statutory holidays only)")
    return [row("cases.due_at", seconds * 1000, "ms", note),
            row("cases.due_at.per_case", seconds / n * 1e6, "µs", "one due_at, warm")]


# --- (b) a case action at 16 concurrent clients --------------------------------------------------

@dataclass
class Load:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0  # a status other than 200, or no answer
    error_samples: list[str] = field(default_factory=list)
    ran_out: int = 0  # threads that used up their cases before the end
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_s)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct_ms(self, q: float) -> float:
        xs = sorted(self.latencies_s)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q / 100 * len(xs)))] * 1000


def run_load(port: int, seconds: float, requests_for: list) -> Load:
    """One thread per item of `requests_for` (an iterator of (method, path, body, headers)),
    each on its own keep-alive connection, until `seconds` have passed or its iterator ends."""
    result = Load()
    lock = threading.Lock()
    start = threading.Barrier(len(requests_for) + 1)
    box: dict = {}

    def client(requests) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lat, errors, samples = [], 0, []
        start.wait()
        deadline = box["deadline"]
        ran_out = False
        while time.monotonic() < deadline:
            try:
                method, path, body, headers = next(requests)
            except StopIteration:
                ran_out = True
                break
            t = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, data = None, repr(exc).encode()
            lat.append(time.perf_counter() - t)
            if status != 200:
                errors += 1
                if len(samples) < 3:
                    samples.append(f"{status}: {data[:200]!r}")
        conn.close()
        with lock:
            result.latencies_s += lat
            result.errors += errors
            result.error_samples += samples
            result.ran_out += ran_out

    threads = [threading.Thread(target=client, args=(iter(r),), daemon=True)
               for r in requests_for]
    for th in threads:
        th.start()
    box["deadline"] = time.monotonic() + seconds
    t0 = time.monotonic()
    start.wait()
    for th in threads:
        th.join()
    result.seconds = time.monotonic() - t0
    return result


def measured_load(port: int, seconds: float, requests_for: list, server_pgid: int,
                  dbname: str) -> tuple[Load, float, float]:
    """run_load, with the CPU the server's processes (its gunicorn workers: their process
    group) and the database's backends spent per request meanwhile: (load, server ms, PostgreSQL
    ms). CPU time is what a shared machine disturbs least (the rates and latencies move with
    the neighbours' load); the backends of other processes on this database count too (none
    during the run)."""
    server0, pg0 = group_cpu_s({server_pgid})[server_pgid], backends_cpu_s(dbname)
    load = run_load(port, seconds, requests_for)
    server1, pg1 = group_cpu_s({server_pgid})[server_pgid], backends_cpu_s(dbname)
    n = max(1, load.requests)
    return load, (server1 - server0) * 1000 / n, (pg1 - pg0) * 1000 / n


def _cpu_rows(name: str, server_ms: float, pg_ms: float, what: str) -> list[dict]:
    return [row(f"{name}.cpu.server", server_ms, "ms", f"CPU of the {what} workers per request"),
            row(f"{name}.cpu.postgres", pg_ms, "ms",
                "CPU of the database's PostgreSQL backends per request")]


# a load balancer's probe reaches a node through its nginx (relayed: the anonymous up or down)
LB_PROBE = {"X-Forwarded-For": "10.0.0.2", "X-Real-IP": "10.0.0.2"}


def _health_requests(path: str = "/api/v1/health", headers: dict | None = None):
    headers = LB_PROBE if headers is None else headers
    while True:
        yield "GET", path, None, headers


def _accept_requests(ids: list[str], token: str):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"action": "accept"})
    for cid in ids:
        yield "POST", f"/api/v1/cases/{cid}/actions", body, headers


def _summary(name: str, load: Load, what: str) -> list[dict]:
    note = f"{CLIENTS} clients, {load.seconds:.1f} s, {load.requests:,} requests"
    if load.ran_out:
        note += f"; {load.ran_out} client(s) ran out of prepared cases"
    if load.error_samples:
        note += f"; e.g. {load.error_samples[0]}"
    return [
        row(f"{name}.rps", load.rps, "req/s", f"{what}; {note}"),
        row(f"{name}.p50", load.pct_ms(50), "ms", ""),
        row(f"{name}.p95", load.pct_ms(95), "ms", ""),
        row(f"{name}.p99", load.pct_ms(99), "ms", ""),
        row(f"{name}.errors", load.errors, "requests", "status other than 200, or no answer"),
    ]


def bench_action(env: BenchEnv, plan: Plan, log_dir: Path) -> list[dict]:
    port, floor_port = free_ports(2, PORTS)
    with database.connect(env) as conn:
        reporter = database.user_id(conn, DEMO_WORKER[0])
        ids = [str(r[0]) for r in conn.execute(_INSERT_REPORTED, {
            "n": plan.action_cases, "reporter": reporter,
            "description": "bench: to accept"}).fetchall()]
        _vacuum(conn)
        open_cases = conn.execute("SELECT count(*) FROM reports WHERE stage IS NOT NULL"
                                  ).fetchone()[0]
    say(f"  {len(ids):,} reported cases prepared ({open_cases:,} open cases in the table)")
    load_before = os.getloadavg()[0]
    rows: list[dict] = []
    with Procs(log_dir) as procs:
        proc = gunicorn(procs, "cases-api", "gridsnap.wsgi:app", port, WORKERS,
                        env.child_env(), "/api/v1/health")
        floor_proc = gunicorn(procs, "cases-floor-h", "bench.minimal_app:app", floor_port,
                              WORKERS, env.child_env(), "/health")
        token = login(port, DEMO_SUPERVISOR, label="bench cases")

        # one by hand: the request must work before any load
        check = run_load(port, 5, [_accept_requests(ids[:1], token)])
        if check.errors or check.requests != 1:
            raise ProcessFailed(f"the first accept failed: {check.error_samples}")
        warm, ids = ids[1:1 + 400], ids[1 + 400:]
        run_load(floor_port, plan.warmup_s,
                 [_health_requests("/health") for _ in range(CLIENTS)])
        run_load(port, plan.warmup_s, [_health_requests() for _ in range(CLIENTS)])
        run_load(port, plan.warmup_s,
                 [_accept_requests(warm[i::CLIENTS], token) for i in range(CLIENTS)])

        floor, floor_cpu, floor_pg = measured_load(
            floor_port, plan.load_s, [_health_requests("/health") for _ in range(CLIENTS)],
            floor_proc.pid, env.db_name)
        say(f"  floor H: {floor.rps:,.0f} req/s, p50 {floor.pct_ms(50):.1f} ms, "
            f"p99 {floor.pct_ms(99):.1f} ms, errors {floor.errors}")
        procs.stop(floor_proc)  # its workers wait idle from here: nothing of the machine
        health, health_cpu, health_pg = measured_load(
            port, plan.load_s, [_health_requests() for _ in range(CLIENTS)], proc.pid,
            env.db_name)
        say(f"  health: {health.rps:,.0f} req/s, p50 {health.pct_ms(50):.1f} ms, "
            f"p99 {health.pct_ms(99):.1f} ms, errors {health.errors}")
        action, action_cpu, action_pg = measured_load(
            port, plan.load_s,
            [_accept_requests(ids[i::CLIENTS], token) for i in range(CLIENTS)], proc.pid,
            env.db_name)
        say(f"  accept: {action.rps:,.0f} req/s, p50 {action.pct_ms(50):.1f} ms, "
            f"p99 {action.pct_ms(99):.1f} ms, errors {action.errors}")
        procs.check_alive(proc)
    load_after = os.getloadavg()[0]

    with database.connect(env) as conn:
        accepted = conn.execute(
            "SELECT count(*) FROM case_events e JOIN reports r ON r.id = e.report_id "
            "WHERE e.action = 'case.accepted' AND r.id = ANY(%s::uuid[])", (ids,)).fetchone()[0]
    agree = accepted == action.requests - action.errors
    rows += _summary("cases.health_floor", floor, "floor H: GET /health of "
                     "bench/minimal_app.py (one trivial statement and a Redis ping through "
                     f"Flask, gunicorn -w {WORKERS} sync)")
    rows += _summary("cases.health", health, "GET /api/v1/health as a load balancer probes "
                     "it through the node's nginx (baseline of accept: the anonymous up or "
                     "down, one statement for PostGIS and the outbox's backlog)")
    rows += _cpu_rows("cases.health_floor", floor_cpu, floor_pg, "floor's gunicorn")
    rows += _cpu_rows("cases.health", health_cpu, health_pg, "API's gunicorn")
    rows.append(row(f"GET /health at {CLIENTS} clients", health.rps, "req/s",
                    f"floor H in the same run {floor.rps:,.0f} req/s, /health "
                    f"{health.rps / floor.rps:.2f}× it; 1-min load average {load_before:.1f} "
                    f"before, {load_after:.1f} after, on {os.cpu_count()} CPUs",
                    target="≥ 1,000 req/s", ok=health.rps >= 1000))
    rows.append(row("cases.health.rps_vs_floor", health.rps / floor.rps, "×",
                    "throughput of GET /health over floor H's, same clients, same run"))
    rows += _summary("cases.action.accept", action,
                     f"POST /cases/{{id}}/actions accept, distinct cases, gunicorn -w {WORKERS} "
                     f"sync; {open_cases:,} open cases in the table; "
                     + ("every 200 is one case.accepted event"
                        if agree else f"MISMATCH: {accepted:,} accepted events in the database"))
    rows += _cpu_rows("cases.action.accept", action_cpu, action_pg, "API's gunicorn")
    rows.append(row("cases.action.accept.cpu_vs_health",
                    (action_cpu + action_pg) / (health_cpu + health_pg), "×",
                    "server and PostgreSQL CPU per accept over per GET /health, same run"))
    p99, base99 = action.pct_ms(99), health.pct_ms(99)
    rows.append(row(f"case action (accept) at {CLIENTS} clients, p99", p99, "ms",
                    f"{action.rps:,.0f} req/s; GET /health in the same run (the baseline: the "
                    f"same clients and server, no case work) p99 {base99:.1f} ms, "
                    f"{p99 / base99:.2f}× it; 1-min load average {load_before:.1f} before, "
                    f"{load_after:.1f} after, on {os.cpu_count()} CPUs",
                    target="< 50 ms", ok=p99 < 50))
    rows.append(row("cases.action.accept.p99_vs_health", p99 / base99, "×",
                    "p99 latency of accept over health's, same clients, same run"))
    rows.append(row("cases.action.accept.p50_vs_health", action.pct_ms(50) / health.pct_ms(50),
                    "×", "p50 latency of accept over health's, same clients"))
    rows.append(row("cases.action.accept.rps_vs_health", action.rps / health.rps, "×",
                    "throughput of accept over health's"))
    rows.append(row("cases.action.loadavg", load_before, "",
                    f"1-min load average before the HTTP runs, {os.cpu_count()} CPUs; the "
                    "clients run on the same machine"))
    return rows


# --- the whole ----------------------------------------------------------------------------------

def run(quick: bool) -> list[dict]:
    """Run every case benchmark; rows of {name, value, unit, note}. Raises ProcessFailed or
    RuntimeError when the harness cannot run (services down, a server that does not start)."""
    plan = QUICK if quick else FULL
    media = Path(tempfile.mkdtemp(prefix="gridsnap-bench-cases-"))
    log_dir = REPO_ROOT / "bench" / "out" / (
        "cases-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env = BenchEnv.make(media, db=DB_NAME, redis_db=REDIS_DB)
    rows: list[dict] = []
    rds = None
    try:
        import redis

        rds = redis.Redis.from_url(env.redis_url, socket_timeout=5)
        rds.flushdb()
        t = time.perf_counter()
        database.recreate(env)
        say(f"cases bench ({'quick' if quick else 'full'}): database {DB_NAME} made, demo city "
            f"loaded ({time.perf_counter() - t:.1f} s); Redis {env.redis_url}; logs in "
            f"{log_dir.relative_to(REPO_ROOT)}")
        say("(a) the due-time sweep")
        rows += bench_sweep(env, plan)
        rows += bench_due_at(plan)
        say("(b) a case action at 16 concurrent clients")
        rows += bench_action(env, plan, log_dir)
    finally:
        with contextlib.suppress(Exception):
            database.drop(env)
        if rds is not None:
            with contextlib.suppress(Exception):
                rds.flushdb()
        shutil.rmtree(media, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.cases", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 cases, 3 s of load")
    args = ap.parse_args(argv)
    rows = run(args.quick)
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        value = r["value"]
        shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
        print(f"{r['name']:<{width}}  {shown:>12} {r['unit']:<8} {r['note']}")
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
