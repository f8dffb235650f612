"""`python -m bench.run`: intake through the real API next to its floors, and the sync storm.

    python -m bench.run            # full run (~10 min): table on stdout, the run appended to
                                   # docs/benchmarks-history.md, its targets' figures put in
                                   # the current-figures table of docs/benchmarks.md
    python -m bench.run --quick    # smoke run (~1 min): checks the harness, writes no doc
    python -m bench.run --only intake|front|pgbench|storm|cases|hotspot|stats|bulk-stats|import-grid|pwa|lighthouse|slow-uploads|patrols

Needs the project-local PostgreSQL+PostGIS and Redis running (`make bench` runs it under
`gridsnap services run`), `wrk` and PostgreSQL's `pgbench`. It (re)creates its own database
`gridsnap_bench`, uses Redis db 5 and ports 18000–18010, and stops everything it started.
A benchmark reports: targets missed are printed as MISS, the exit code stays 0; it is non-zero
only when the harness itself could not run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import database, loadgen, report
from . import grid as gridmod
from .cpu import Background, group_cpu_s
from .env import BENCH_DB, DEMO_WORKER, REPO_ROOT, BenchEnv
from .procs import ProcessFailed, Procs, free_ports, gunicorn, login, nginx

PARTS = ("intake", "front", "pgbench", "storm", "cases", "hotspot", "stats", "bulk-stats",
         "import-grid", "pwa", "lighthouse", "slow-uploads", "patrols", "photo-cpu", "city-year")
# parts measured by their own modules, each with run(quick) -> rows (name, value, unit, note)
MODULE_PARTS = {
    "cases": ("Cases: the due-time sweep over 100,000 open cases, a case action at 16 clients",
              "bench.cases"),
    "hotspot": ("A hot spot against a quiet area: server CPU per report with the follow-up, "
                "and the size of the answers", "bench.hotspot"),
    "stats": ("The evaluation and the live map on 1,000,000 cases", "bench.stats"),
    "bulk-stats": ("The indicators right after a bulk load (COPY) of 1,000,000 cases, before "
                   "any ANALYZE", "bench.bulk_stats"),
    "import-grid": ("The grid import's checks on 10,000 and 100,000 cells", "bench.import_grid"),
    "pwa": ("The field worker's PWA in Chromium", "bench.pwa"),
    "lighthouse": ("The command centre's first load: Lighthouse (desktop, performance) in "
                   "Chromium", "bench.lighthouse"),
    "slow-uploads": ("Slow phones: photos by tus at 10 KB/s each while wrk sends reports",
                     "bench.slow_uploads"),
    "patrols": ("Patrols: a day of workers' tracks ingested, each patrol's coverage, a "
                "district's week", "bench.patrols"),
    "photo-cpu": ("CPU per phone photo: the derivatives job against Pillow's own decode",
                  "bench.photo_cpu"),
    "city-year": ("A city-year at growing sizes: the hot queries on 100k, 300k and 1M cases",
                  "bench.city_year"),
}


def run_module_parts(parts, quick: bool, options: dict | None = None,
                     ) -> tuple[str, int, list[tuple[str, str, str]]]:
    """Markdown tables of the module parts asked for, an exit code, and (target, measured,
    verdict) of each of their rows that has a target ("target" and "ok" in the row)."""
    import importlib

    out, code, targets = [], 0, []
    for part in parts:
        if part not in MODULE_PARTS:
            continue
        title, module = MODULE_PARTS[part]
        say(f"{part}: {title} …")
        try:
            rows = importlib.import_module(module).run(quick, **(options or {}).get(part, {}))
        except Exception:
            import traceback

            say(f"bench: {part} could not finish:\n" + traceback.format_exc())
            code = 1
            continue
        out.append(f"### {title}\n\n| measurement | value | note |\n|---|---:|---|")
        for r in rows:
            value = r["value"]
            shown = (f"{value:,}" if isinstance(value, int)
                     else f"{value:,.2f}" if r["unit"] == "×" else f"{value:,.1f}")
            out.append(f"| {r['name']} | {shown} {r['unit']} | {r.get('note', '')} |")
            if "target" in r:
                targets.append((f"{r['name']} {r['target']}", f"{shown} {r['unit']}",
                                report.verdict(r["ok"])))
            say(f"  {r['name']}: {shown} {r['unit']}  ({r.get('note', '')})")
        out.append("")
    return "\n".join(out), code, targets
PORTS = range(18000, 18011)
# the front part alone measures on this grid (a city's worth of cells); the intake part
# measures the front server on both grids as it measures the rest
FRONT_GRID = gridmod.GRID_100K
# After a wrk run the server still answers the requests that were in flight (up to one per
# connection, queued in the listen backlog): wait for them before counting rows or going on.
SETTLE_S = 0.5


@dataclass(frozen=True)
class Plan:
    runs: int
    wrk_s: float
    warmup_s: float
    pgbench_s: float
    storm_reports: int
    storm_photos: int
    photo_bases: int
    storm_deadline_s: float
    quiet_wait_s: float  # before each measurement, wait this long at most for other load to end
    retries: int  # a measurement disturbed by other load is taken again this many times at most


FULL = Plan(runs=3, wrk_s=10, warmup_s=3, pgbench_s=10, storm_reports=10_000,
            storm_photos=1_000, photo_bases=4, storm_deadline_s=1200, quiet_wait_s=30,
            retries=2)
QUICK = Plan(runs=1, wrk_s=3, warmup_s=1, pgbench_s=3, storm_reports=500, storm_photos=20,
             photo_bases=2, storm_deadline_s=180, quiet_wait_s=5, retries=0)
# Other processes keeping more than this many cores busy during a measurement disturb it.
DISTURBED_CORES = 0.3


def measured(bg: Background, plan: Plan, label: str, take):
    """take() under watch: wait for quiet, measure, and take it again (up to plan.retries
    times) while other processes used more than DISTURBED_CORES; keeps the least disturbed."""
    best = None
    for attempt in range(1 + plan.retries):
        bg.wait_quiet(below=DISTURBED_CORES, max_wait_s=plan.quiet_wait_s, say=say)
        started = bg.start()
        run = take()
        run.background_cores = bg.cores(started)
        if best is None or run.background_cores < best.background_cores:
            best = run
        if run.background_cores <= DISTURBED_CORES:
            break
        if attempt < plan.retries:
            say(f"    {label}: other processes kept {run.background_cores:.2f} cores busy "
                "meanwhile; measuring again")
    return best


def say(msg: str = "") -> None:
    print(msg, flush=True)


def check_one_put(port: int, token: str | None, grid: gridmod.Grid) -> None:
    """One request by hand before any load: the script's body must be accepted (201)."""
    import random
    import uuid

    lon, lat = grid.point(random.Random(1))
    body = json.dumps({"category": "E0101", "description": "bench check",
                       "location": {"lon": lon, "lat": lat, "accuracy_m": 8.5, "source": "gps"},
                       "captured_at": datetime.now(UTC).isoformat()})
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("PUT", f"/api/v1/reports/{uuid.uuid4()}", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status != 201:
        raise ProcessFailed(f"a report PUT on port {port} answered {resp.status}: {data[:500]!r}")
    if token:
        cell = json.loads(data).get("cell") or {}
        if not str(cell.get("code", "")).startswith(grid.district):
            raise ProcessFailed(f"the check report landed in {cell!r}, not in the {grid.name} grid")


def measure_intake(res: report.Results, plan: Plan, bg: Background, conn, grid: gridmod.Grid,
                   servers: dict[str, tuple[int, str | None]], log_dir: Path,
                   server_groups: dict[str, int] | None = None) -> None:
    """wrk against each server, alternating their order run by run; with server_groups
    ({name: process group}) the CPU seconds each group used during each run are kept too."""
    groups = server_groups or {}
    for port, token in servers.values():
        check_one_put(port, token, grid)
        loadgen.run_wrk(port, grid, token=token, seconds=plan.warmup_s,
                        log=log_dir / "wrk-warmup.log")
        time.sleep(SETTLE_S)
    for r in range(plan.runs):
        order = list(servers) if r % 2 == 0 else list(reversed(servers))
        for name in order:
            port, token = servers[name]

            def take(port=port, token=token):
                before = database.count_reports(conn)
                cpu0 = group_cpu_s(set(groups.values()))
                run = loadgen.run_wrk(port, grid, token=token, seconds=plan.wrk_s,
                                      log=log_dir / "wrk.log")
                time.sleep(SETTLE_S)
                cpu1 = group_cpu_s(set(groups.values()))
                run.rows_written = database.count_reports(conn) - before
                run.server_cpu_s = {k: cpu1[g] - cpu0[g] for k, g in groups.items()}
                return run

            run = measured(bg, plan, f"{grid.name} {name}", take)
            res.wrk.setdefault((name, grid.name), []).append(run)
            flag = "" if run.ok else "   <-- FAILED RUN"
            say(f"  {grid.name:>4} grid  run {r + 1}  {name:<8} {run.rps:8.0f} reports/s  "
                f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  non-2xx {run.non_2xx}  "
                f"socket errors {run.socket_errors}  rows +{run.rows_written}  "
                f"others {run.background_cores:.2f} cores{flag}")


def say_front(res: report.Results, grid: str) -> None:
    ratio, direct, proxied = res.front_ratio(grid), res.rps("real", grid), res.rps("nginx", grid)
    if ratio is None:
        return
    added = res.front_added_p50_ms(grid)
    cpu = res.front_cpu_us(grid)
    say(f"  {grid:>4} grid  through nginx {proxied:,.0f} reports/s, straight to gunicorn "
        f"{direct:,.0f} reports/s: ratio {ratio:.2f} (the front server costs "
        f"{(1 - ratio) * 100:.0f}% of the rate, {added:+.1f} ms at p50)")
    if cpu:
        say(f"  {grid:>4} grid  CPU per report: nginx {cpu['nginx']:.0f} µs, gunicorn "
            f"{cpu['api']:.0f} µs → the front server adds {cpu['share'] * 100:.1f}%")


def measure_pgbench(res: report.Results, plan: Plan, bg: Background, env: BenchEnv,
                    grid: gridmod.Grid, scripts: dict[str, Path], reporter_id: int,
                    log_dir: Path) -> None:
    variables = {"reporter_id": str(reporter_id)}
    for script, clients in (("minimal", 2), ("minimal", 8), ("full", 2)):
        for r in range(plan.runs):
            def take(script=script, clients=clients):
                return loadgen.run_pgbench(env, scripts[script], grid, variables,
                                           clients=clients, seconds=plan.pgbench_s,
                                           log=log_dir / "pgbench.log")

            run = measured(bg, plan, f"{grid.name} pgbench {script} {clients}", take)
            res.pgbench.setdefault((script, clients, grid.name), []).append(run)
            say(f"  {grid.name:>4} grid  run {r + 1}  pgbench {script:<8} {clients} clients "
                f"{run.tps:8.0f} TPS  failed {run.failed}  "
                f"others {run.background_cores:.2f} cores")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 run of 3 s each, a storm of 500 reports + 20 photos")
    ap.add_argument("--only", choices=PARTS, action="append",
                    help="run only this part (repeatable): intake (real API, through nginx, "
                         "and floor A on both grids), front (the real API through nginx "
                         "versus straight to gunicorn, 100k grid), pgbench (floor B), storm, cases, stats (and map "
                         "tiles), import-grid (validate_areas by grid size), pwa, lighthouse (the command centre in Lighthouse)")
    ap.add_argument("--workers", type=int, default=2,
                    help="gunicorn sync workers for both servers (default 2, for 2 cores)")
    ap.add_argument("--runs", type=int, help="runs per measurement (default 3; 1 with --quick)")
    ap.add_argument("--city-cases", metavar="N,N,…",
                    help="the city-year part's sizes (default 100000,300000,1000000; the "
                         "issue's scale is 10000000)")
    ap.add_argument("--city-reuse", action="store_true",
                    help="city-year: measure a size its database already holds (built whole "
                         "by an earlier run) without building it again; the months it kept "
                         "stay kept")
    ap.add_argument("--hotspot-reports", type=int, metavar="N",
                    help="reports in each phase of the hotspot part (default 2,000; the "
                         "issue's scale is 20,000)")
    ap.add_argument("--no-doc", action="store_true",
                    help="do not record the run in docs/benchmarks.md and its history")
    ap.add_argument("--doc", action="store_true", help="record the run in the docs even with --quick")
    args = ap.parse_args(argv)

    plan = QUICK if args.quick else FULL
    if args.runs:
        plan = Plan(**{**plan.__dict__, "runs": args.runs})
    parts = tuple(args.only) if args.only else PARTS
    # only the parts that load the API need wrk (the module parts measure on their own)
    for tool in ("wrk",) if set(parts) - set(MODULE_PARTS) else ():
        if shutil.which(tool) is None:
            say(f"bench: `{tool}` is not installed (apt-get install {tool}; `make bench` does)")
            return 2

    started = datetime.now(UTC)
    log_dir = REPO_ROOT / "bench" / "out" / started.strftime("%Y%m%dT%H%M%SZ")
    log_dir.mkdir(parents=True, exist_ok=True)
    media = Path(tempfile.mkdtemp(prefix="gridsnap-bench-media-"))
    env = BenchEnv.make(media)
    grids = [gridmod.GRID_1K, gridmod.GRID_100K]
    res = report.Results(quick=args.quick, runs=plan.runs, seconds=plan.wrk_s,
                         pg_seconds=plan.pgbench_s, workers=args.workers, grids=grids)

    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    say(f"gridsnap bench ({'quick' if args.quick else 'full'}: {', '.join(parts)}); "
        f"logs in {log_dir.relative_to(REPO_ROOT)}")
    code = 0
    try:
        with Procs(log_dir) as procs:
            t = time.monotonic()
            database.recreate(env)
            import redis

            rds = redis.Redis.from_url(env.redis_url, socket_timeout=5)
            rds.flushdb()
            conn = database.connect(env)
            reporter_id = database.user_id(conn, DEMO_WORKER[0])
            res.info = report.machine_info(
                {**database.versions(conn),
                 "redis": rds.info("server").get("redis_version", "?")})
            say(f"database {env.database_url} made, migrated, demo city loaded "
                f"({time.monotonic() - t:.1f} s); Redis {env.redis_url}; media {media}")

            bg = Background(BENCH_DB)
            api_port, min_port, front_port = free_ports(3, PORTS)
            # as `make run` has it: nginx is the one proxy in front (deploy/supervisord)
            child = env.child_env(GRIDSNAP_TRUSTED_PROXIES="1")
            servers: dict[str, tuple[int, str | None]] = {}
            groups: dict[str, int] = {}
            api = None
            front = "intake" in parts or "front" in parts
            if front or "storm" in parts:
                api = gunicorn(procs, "api", "gridsnap.wsgi:app", api_port, args.workers,
                               child, "/api/v1/health")
                bg.add(api.pid)
                groups["api"] = api.pid
                servers["real"] = (api_port, login(api_port, DEMO_WORKER))
            if front:
                proxy = nginx(procs, "nginx", log_dir / "nginx", front_port, api_port,
                              env.settings().max_body_bytes)
                bg.add(proxy.pid)
                groups["nginx"] = proxy.pid
                servers["nginx"] = (front_port, servers["real"][1])
            if "intake" in parts:
                minimal = gunicorn(procs, "minimal", "bench.minimal_app:app", min_port,
                                   args.workers,
                                   env.child_env(BENCH_REPORTER_ID=str(reporter_id)), "/ping")
                bg.add(minimal.pid)
                servers["minimal"] = (min_port, None)
            say(f"servers: {', '.join(f'{k} on :{p}' for k, (p, _) in servers.items())} "
                f"(gunicorn -w {args.workers}, sync workers)")
            # (only the pgbench part reads them)
            scripts = loadgen.write_pgbench_scripts(log_dir) if "pgbench" in parts else {}

            for grid in grids:
                if "intake" not in parts and "pgbench" not in parts and (
                        "front" not in parts or grid is not FRONT_GRID):
                    continue
                t = time.monotonic()
                database.reset_intake(conn)
                n = gridmod.install(conn, grid, others=[g for g in grids if g is not grid])
                say(f"{grid.name} grid: {n:,} cells under {grid.district} installed "
                    f"({time.monotonic() - t:.1f} s)")
                if "intake" in parts or "front" in parts:
                    measure_intake(res, plan, bg, conn, grid, servers, log_dir, groups)
                    say_front(res, grid.name)
                if "pgbench" in parts:
                    measure_pgbench(res, plan, bg, env, grid, scripts, reporter_id, log_dir)

            if "storm" in parts:
                from .photos import PhotoSet
                from .storm import run_storm

                grid = gridmod.GRID_100K
                database.reset_intake(conn)
                n = gridmod.install(conn, grid, others=[g for g in grids if g is not grid])
                t = time.monotonic()
                cx, cy = grid.x0 + grid.nx * grid.dx / 2, grid.y0 + grid.ny * grid.dy / 2
                photos = PhotoSet(plan.photo_bases, lat=cy, lon=cx)
                say(f"storm on the {grid.name} grid: {plan.photo_bases} base photos made "
                    f"({photos.mean_size / 1e6:.2f} MB mean, {time.monotonic() - t:.1f} s); "
                    f"sending {plan.storm_reports:,} reports + {plan.storm_photos:,} photos")
                for attempt in range(1 + min(plan.retries, 1)):
                    if attempt:
                        database.reset_intake(conn)
                        say("  storm spoilt by another process; running it again")
                    bg.wait_quiet(below=DISTURBED_CORES, max_wait_s=plan.quiet_wait_s, say=say)
                    res.storm = run_storm(
                        env, procs, bg=bg, api_pgid=api.pid, port=api_port,
                        token=servers["real"][1], grid=grid, n_reports=plan.storm_reports,
                        n_photos=plan.storm_photos, photos=photos,
                        deadline_s=plan.storm_deadline_s, progress=say)
                    if not res.storm.redis_flushed:
                        break
                s = res.storm
                say(f"  storm: intake {s.intake_s:.1f} s, follow-up done after "
                    f"{s.drain_s if s.drain_s is None else round(s.drain_s, 1)} s, "
                    f"{'ok' if s.ok else 'FAILED: ' + '; '.join(s.failures)}")
            conn.close()
    except KeyboardInterrupt:
        say("\nbench: interrupted; everything it started is stopped")
        return 130
    except (ProcessFailed, RuntimeError) as exc:
        say(f"\nbench: could not finish: {exc}")
        code = 1
    except Exception:
        import traceback

        say("\nbench: could not finish:\n" + traceback.format_exc())
        code = 1
    finally:
        shutil.rmtree(media, ignore_errors=True)

    if args.workers != 2:
        res.notes.append(f"gunicorn ran {args.workers} workers (not the default 2).")
    res.notes.append(f"Logs and raw figures: bench/out/{log_dir.name}/ (not committed).")
    text = res.markdown()
    (log_dir / "results.json").write_text(json.dumps({
        "info": res.info, "plan": plan.__dict__,
        "wrk": {f"{k[0]}/{k[1]}": [r.as_dict() for r in v] for k, v in res.wrk.items()},
        "pgbench": {f"{k[0]}/{k[1]}/{k[2]}": [r.as_dict() for r in v]
                    for k, v in res.pgbench.items()},
        "storm": res.storm.as_dict() if res.storm else None}, indent=2, default=str))
    options: dict = {"hotspot": {"reports": args.hotspot_reports}} if args.hotspot_reports else {}
    if args.city_cases or args.city_reuse:
        options["city-year"] = {
            "sizes": tuple(int(x) for x in args.city_cases.split(",")) if args.city_cases
            else None, "reuse": args.city_reuse}
    extra, extra_code, extra_targets = run_module_parts(parts, args.quick, options)
    code = code or extra_code
    if extra:
        text = text.rstrip() + "\n\n" + extra
    say("")
    say(text)
    if code == 0 and not args.no_doc and (not args.quick or args.doc):
        doc, history = report.record(text, res.target_rows() + extra_targets, res.info,
                                     when=started)
        say(f"appended to {history.relative_to(REPO_ROOT)}; current figures in "
            f"{doc.relative_to(REPO_ROOT)}")
    elif code == 0:
        say("(not recorded in docs/benchmarks.md and docs/benchmarks-history.md: quick run "
            "or --no-doc)")
    return code


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
