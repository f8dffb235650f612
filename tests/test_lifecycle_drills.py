"""Lifecycle drills (invariant 9): `gridsnap run` itself — what `make run` starts — with a state
folder, a PostgreSQL and a Redis of its own (GRIDSNAP_VAR_DIR, free ports), killed and stopped
the ways a machine and its operator do it:

- kill -9 of supervisord under clients: its programs end with it (parent-death signal), what is
  left of its session is cleared, `gridsnap run` starts it again, service comes back;
- a second signal during shutdown (Ctrl-C twice): everything `gridsnap run` started stops,
  PostgreSQL and Redis included;
- TERM then KILL (a service manager whose stop timed out): the stack ends with its supervisor,
  and the next `gridsnap run` starts clean and stops what the killed one left running.

Figures go to docs/reliability.md like the fault drills' (tests/drills.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from drills import RECOVERY_S, Figures, finish, n_scaled, record, start_clients
from gridsnap.procs import alive, session_members
from gridsnap.settings import REPO_ROOT
from gridsnap.supervise import Stack, free_port
from test_fault_drills import DrillStack

from live_stack import wait_until

START_S = 240  # the first start makes a cluster, migrates and loads the demo city


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RunDrill:
    """One `gridsnap run` at a time on a state folder of its own; the methods a drill's clients
    and checks need are DrillStack's."""

    healthy = DrillStack.healthy
    token = DrillStack.token
    scalar = DrillStack.scalar
    followup_done = DrillStack.followup_done
    diagnosis = DrillStack.diagnosis

    def __init__(self, root: Path):
        self.root = root
        self.port, self.pg_port, self.redis_port = free_port(), free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "REDIS_URL", "GRIDSNAP_MEDIA_DIR")
                    and not k.startswith("SUPERVISOR_")}
        self.env.update(GRIDSNAP_VAR_DIR=str(root / "var"), PORT=str(self.port),
                        GRIDSNAP_PG_PORT=str(self.pg_port),
                        GRIDSNAP_REDIS_PORT=str(self.redis_port), WEB_CONCURRENCY="2",
                        PYTHONUNBUFFERED="1")
        self.stack = Stack(root=root / "var" / "run", listen="", api_port=0, web_workers=0,
                           rq_workers=0, max_body_bytes=0)
        users = json.loads((REPO_ROOT / "fixtures" / "users.json").read_text(encoding="utf-8"))
        self.users = {u["username"]: u for u in users}
        self.engine = create_engine(
            f"postgresql+psycopg://gridsnap@127.0.0.1:{self.pg_port}/gridsnap",
            pool_pre_ping=True)
        self.proc: subprocess.Popen | None = None
        self.log = root / "run.log"

    def gridsnap(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "gridsnap.cli", *args]

    def start(self) -> float:
        """Start `gridsnap run`; returns the seconds until it served (healthy)."""
        began = time.monotonic()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.gridsnap("run", "--rq-workers", "2"), env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        wait_until(lambda: self.proc.poll() is not None or self.healthy(), START_S,
                   "gridsnap run to serve")
        assert self.proc.poll() is None, self.output()[-3000:]
        return time.monotonic() - began

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def supervisord(self) -> int:
        return int(self.stack.pidfile.read_text().strip())

    def stack_left(self, sid: int) -> list[int]:
        """The processes of the stack whose supervisord had pid `sid` that have not ended."""
        return [p for p in [sid, *session_members(sid)] if alive(p)]

    def everything_stopped(self, sid: int) -> bool:
        return not self.stack_left(sid) and not any(
            _port_open(p) for p in (self.port, self.pg_port, self.redis_port))

    def assert_services_stopped(self) -> None:
        pg = list((self.root / "var").rglob("postmaster.pid"))
        assert not pg, f"PostgreSQL left running: {pg}"
        assert not (self.root / "var" / "redis" / "redis.pid").exists(), "Redis left running"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def run_drill():
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx is missing (make test installs it)")
    # the postgres user (we may be root) must reach the cluster: not pytest's 0700 tmp folders
    root = Path(tempfile.mkdtemp(prefix="gridsnap-lifecycle-"))
    root.chmod(0o711)
    drill = RunDrill(root)
    try:
        yield drill
    finally:
        drill.stop()
        drill.engine.dispose()
        subprocess.run(drill.gridsnap("services", "down"), env=drill.env, cwd=REPO_ROOT,
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_drill_kill_9_supervisord(run_drill, demo_cell):
    drill, fig = run_drill, Figures("kill -9 supervisord (gridsnap run)")
    drill.start()
    clients = start_clients(drill, demo_cell, fig, 4, n_scaled(10), photos=True)
    wait_until(lambda: drill.scalar("SELECT count(*) FROM reports") >= 4, 60, "intake to start")
    supervisord = drill.supervisord()
    old = drill.stack_left(supervisord)
    assert len(old) >= 7, old  # supervisord, nginx (+worker), gunicorn (+workers), 2 workers, relay
    killed = time.monotonic()
    os.kill(supervisord, signal.SIGKILL)
    wait_until(lambda: not drill.stack_left(supervisord), RECOVERY_S,
               "every process of the killed supervisord's stack to end")
    wait_until(lambda: drill.stack.pidfile.exists() and drill.supervisord() != supervisord
               and drill.healthy(), RECOVERY_S, "a new supervisord to serve")
    fig.service_back_s = time.monotonic() - killed
    assert drill.proc.poll() is None
    assert "supervisord died (killed by signal 9)" in drill.output()
    finish(drill, fig, clients, time.monotonic())
    sid = drill.supervisord()
    drill.stop()
    assert drill.proc.returncode == 0, drill.output()[-2000:]
    wait_until(lambda: drill.everything_stopped(sid), RECOVERY_S, "everything to stop")
    drill.assert_services_stopped()


def test_drill_a_second_ctrl_c_during_shutdown_still_stops_everything(run_drill):
    drill, fig = run_drill, Figures("Ctrl-C twice: everything stops")
    drill.start()
    sid, mark = drill.supervisord(), len(drill.output())
    stopping = time.monotonic()
    drill.proc.send_signal(signal.SIGINT)
    wait_until(lambda: "stopping" in drill.output()[mark:], 30, "gridsnap run to start stopping")
    drill.proc.send_signal(signal.SIGINT)
    drill.proc.wait(RECOVERY_S)
    wait_until(lambda: drill.everything_stopped(sid), RECOVERY_S, "everything to stop")
    fig.stopped_s = time.monotonic() - stopping
    assert "stopping already" in drill.output()[mark:]
    assert "Aborted" not in drill.output()[mark:] and "Traceback" not in drill.output()[mark:]
    drill.assert_services_stopped()
    record(fig)


def test_drill_term_then_kill_and_the_next_run_starts_clean(run_drill):
    """A service manager's stop that timed out: TERM, then KILL of `gridsnap run` while it
    stops. Its stack ends with it (nothing outlives its supervisor); PostgreSQL and Redis,
    which it never got to stop, are stopped by the next `gridsnap run` when that one stops."""
    drill, fig = run_drill, Figures("TERM then KILL gridsnap run; next run")
    drill.start()
    sid, mark = drill.supervisord(), len(drill.output())
    drill.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: "stopping" in drill.output()[mark:], 30, "gridsnap run to start stopping")
    killed = time.monotonic()
    drill.proc.kill()
    drill.proc.wait()
    wait_until(lambda: not drill.stack_left(sid), RECOVERY_S,
               "the killed run's stack to end by itself")
    fig.stopped_s = time.monotonic() - killed
    assert _port_open(drill.pg_port) and _port_open(drill.redis_port)  # left running: no owner
    fig.service_back_s = drill.start()
    sid = drill.supervisord()
    drill.stop()
    assert drill.proc.returncode == 0, drill.output()[-2000:]
    wait_until(lambda: drill.everything_stopped(sid), RECOVERY_S, "everything to stop")
    drill.assert_services_stopped()
    record(fig)
