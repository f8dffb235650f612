"""The load generators: wrk over HTTP (with bench/intake.lua) and pgbench straight to PostgreSQL."""

from __future__ import annotations

import json
import random
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from .env import BenchEnv, pgbench_path
from .grid import Grid

HERE = Path(__file__).resolve().parent
LUA = HERE / "intake.lua"


@dataclass
class WrkRun:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int  # wrk's "Non-2xx or 3xx responses"
    socket_errors: int  # connect + read + write + timeout
    rows_written: int | None = None  # reports the database gained during the run
    background_cores: float | None = None  # CPU other processes used meanwhile
    # CPU seconds the servers' process groups used during the run, by name ("api", "nginx")
    server_cpu_s: dict[str, float] | None = None

    @property
    def ok(self) -> bool:
        # wrk stops at -d with up to one request per connection in flight, which the server
        # may still commit: allow that many extra rows, never fewer.
        rows_ok = self.rows_written is None or 0 <= self.rows_written - self.requests <= 16
        return self.non_2xx == 0 and self.socket_errors == 0 and rows_ok

    def as_dict(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def run_wrk(port: int, grid: Grid, *, token: str | None, seconds: float, threads: int = 2,
            connections: int = 16, log: Path | None = None) -> WrkRun:
    """wrk -t2 -c16 against PUT /api/v1/reports/{uuid}; raises RuntimeError if wrk fails."""
    seed = random.SystemRandom().randrange(1, 2**31)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
            "--timeout", "5s", "-s", str(LUA), f"http://127.0.0.1:{port}",
            "--", token or "-", *grid.lua_args(), str(seed)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if log is not None:
        with log.open("a") as f:
            f.write(" ".join(argv[:-9]) + " …\n" + proc.stdout + proc.stderr + "\n")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    r = json.loads(line.removeprefix("BENCH_RESULT "))
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", proc.stdout)
    non_2xx = int(m.group(1)) if m else 0
    if non_2xx != r["status_errors"]:
        non_2xx = max(non_2xx, r["status_errors"])
    secs = r["duration_us"] / 1e6
    return WrkRun(
        requests=r["requests"], seconds=secs, rps=r["requests"] / secs,
        p50_ms=r["p50_us"] / 1000, p90_ms=r["p90_us"] / 1000, p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000, non_2xx=non_2xx,
        socket_errors=r["connect_errors"] + r["read_errors"] + r["write_errors"]
        + r["timeout_errors"])


@dataclass
class PgbenchRun:
    clients: int
    tps: float
    transactions: int
    failed: int
    p_latency_ms: float | None
    background_cores: float | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.transactions > 0

    def as_dict(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def run_pgbench(env: BenchEnv, script: Path, grid: Grid, variables: dict[str, str], *,
                clients: int, seconds: float, log: Path | None = None) -> PgbenchRun:
    """pgbench -n -f script -c N -j 2 -T seconds; raises RuntimeError if pgbench fails."""
    host, port, user, dbname = env.pg
    defines = [f"-D{k}={v}" for k, v in {**grid.pgbench_vars(), **variables}.items()]
    # -M prepared: both apps run their statement through psycopg, which prepares it
    # server-side from its 5th execution on a connection.
    argv = [pgbench_path(), "-n", "-M", "prepared", "-f", str(script), "-c", str(clients),
            "-j", str(min(2, clients)), "-T", f"{seconds:g}", *defines,
            "-h", host, "-p", str(port), "-U", user, dbname]
    env_vars = {"PATH": "/usr/bin:/bin", "PGOPTIONS": "-c timezone=UTC"}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                          env=env_vars)
    if log is not None:
        with log.open("a") as f:
            f.write(" ".join(argv) + "\n" + proc.stdout + proc.stderr + "\n")
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", proc.stdout)
    if proc.returncode != 0 or m is None:
        raise RuntimeError(f"pgbench failed ({proc.returncode}): {proc.stderr[-2000:]}")
    done = re.search(r"number of transactions actually processed: (\d+)", proc.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", proc.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", proc.stdout)
    return PgbenchRun(clients=clients, tps=float(m.group(1)),
                      transactions=int(done.group(1)) if done else 0,
                      failed=int(failed.group(1)) if failed else 0,
                      p_latency_ms=float(lat.group(1)) if lat else None)


def write_pgbench_scripts(out_dir: Path) -> dict[str, Path]:
    """Floor B (the minimal endpoint's statement) and, for context, the real intake statement
    (with its audit event and outbox message), both with a random point in a random cell."""
    from gridsnap.reports.queries import _SUBMIT_SQL

    from .minimal_app import MINIMAL_SQL, pgbench_sql

    header = "\n".join([
        r"\set i random(0, :nx - 1)",
        r"\set j random(0, :ny - 1)",
        r"\set lon :x0 + (:i + 0.05 + 0.9 * random(0, 1000000) / 1000000.0) * :dx",
        r"\set lat :y0 + (:j + 0.05 + 0.9 * random(0, 1000000) / 1000000.0) * :dy",
    ])
    values = {
        "id": "gen_random_uuid()", "reporter_id": ":reporter_id", "category": "'E0101'",
        "description": "'pgbench report'", "address": "NULL", "accuracy_m": "8.5",
        "source": "'gps'", "captured_at": "now()", "lon": ":lon", "lat": ":lat",
        "fingerprint": "sha256(convert_to(random()::text, 'UTF8'))",
        # a report from the field, as reports.queries.insert_report fills them in by default
        "origin": "'worker'", "nature": "NULL", "urgency": "NULL", "request_class": "NULL",
        "address_point": "NULL",
        # the application passes its clock's time; pgbench has the database's
        "now": "now()",
    }
    scripts = {}
    # the statement without the hotline's caller CTE, as insert_report sends it for a worker
    full = _SUBMIT_SQL.replace("{caller}", "")
    for name, statement in (("minimal", MINIMAL_SQL), ("full", full)):
        path = out_dir / f"intake_{name}.pgbench.sql"
        path.write_text(header + "\n" + pgbench_sql(statement, values) + ";\n")
        scripts[name] = path
    return scripts
