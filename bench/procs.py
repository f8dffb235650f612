"""Child processes of the benchmark: each in its own process group, always stopped on exit;
the API servers among them started, waited for and logged in to."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from gridsnap.supervise import FrontServer

from .env import REPO_ROOT


class ProcessFailed(RuntimeError):
    """A child died or did not become ready; the message carries the tail of its log."""


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


class Procs:
    """Starts long-running children (servers, relay, workers) and stops them all on exit.

    Each child gets a new session, so a Ctrl-C in the terminal reaches only us, and stopping
    a child signals its whole group (gunicorn's workers, an RQ worker's children).
    """

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen, Path]] = []

    def __enter__(self) -> Procs:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], *, env: dict, cwd: Path) -> subprocess.Popen:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.children.append((name, proc, log))
        return proc

    def log_of(self, proc: subprocess.Popen) -> Path:
        return next(log for _, p, log in self.children if p is proc)

    def check_alive(self, proc: subprocess.Popen) -> None:
        if proc.poll() is not None:
            name = next(n for n, p, _ in self.children if p is proc)
            raise ProcessFailed(f"{name} exited with {proc.returncode}:\n"
                                f"{_tail(self.log_of(proc))}")

    def stop(self, proc: subprocess.Popen, timeout: float = 15.0) -> None:
        """SIGTERM to the child's group, SIGKILL after `timeout` seconds."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        # the group leader is gone; make sure no member outlived it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self.children = [c for c in self.children if c[1] is not proc]

    def stop_all(self) -> None:
        for _, proc, _ in reversed(list(self.children)):
            with contextlib.suppress(Exception):
                self.stop(proc)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_http(procs: Procs, proc: subprocess.Popen, port: int, path: str,
              timeout: float = 60.0) -> None:
    """Wait until GET path answers 2xx or raise ProcessFailed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive(proc)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status < 300:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise ProcessFailed(f"nothing answered on port {port} within {timeout:.0f} s:\n"
                        f"{_tail(procs.log_of(proc))}")


def free_ports(n: int, ports: range) -> list[int]:
    """The first n ports of `ports` nothing listens on; raises ProcessFailed if fewer."""
    found = [p for p in ports if port_free(p)][:n]
    if len(found) < n:
        raise ProcessFailed(f"need {n} free ports in {ports.start}–{ports.stop - 1}")
    return found


def gunicorn(procs: Procs, name: str, app: str, port: int, workers: int, env: dict,
             ready_path: str, *, extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    """gunicorn -w workers serving `app` on 127.0.0.1:port, once GET ready_path answers 2xx;
    raises ProcessFailed if it does not."""
    # as `gridsnap serve` runs it; no control socket: two gunicorns would share its one path
    argv = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--no-control-socket", "--worker-class", "gridsnap.serving.JsonErrorsWorker",
            *extra_args, app]
    proc = procs.start(name, argv, env=env, cwd=REPO_ROOT)
    wait_http(procs, proc, port, ready_path)
    return proc


def nginx(procs: Procs, name: str, root: Path, port: int, upstream_port: int,
          max_body_bytes: int) -> subprocess.Popen:
    """nginx on 127.0.0.1:port in front of 127.0.0.1:upstream_port, configured from the
    deploy/nginx template exactly as `make run` renders it (supervise.FrontServer: access log
    off, one worker process), once GET /api/v1/health answers 2xx through it; raises
    ProcessFailed if it does not."""
    front = FrontServer(root, f"127.0.0.1:{port}", f"127.0.0.1:{upstream_port}", max_body_bytes)
    front.write()
    front.check()
    proc = procs.start(name, front.argv(), env=dict(os.environ), cwd=REPO_ROOT)
    wait_http(procs, proc, port, "/api/v1/health")
    return proc


def login(port: int, persona: tuple[str, str], label: str = "bench") -> str:
    """A bearer token for persona (username, password) from the API on `port`; raises
    ProcessFailed if the login is refused."""
    username, password = persona
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": username, "password": password, "label": label})
    conn.request("POST", "/api/v1/auth/token", body=body,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status != 201:
        raise ProcessFailed(f"login as {username} answered {resp.status}: {data[:300]!r}")
    return json.loads(data)["token"]
