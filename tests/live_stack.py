"""Real servers for the tests that need them: gunicorn as `gridsnap serve` runs it, nginx in front
as `make run` has it (deploy/nginx), and waiting on conditions with a deadline (never a fixed
sleep)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path

from gridsnap.settings import Settings
from gridsnap.supervise import FrontServer, free_port


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               every: float = 0.05):
    """Poll `predicate` until it returns something true; AssertionError naming `what` when
    `timeout` seconds pass first. Returns the predicate's value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def request(port: int, method: str, path: str, body: bytes | dict | None = None,
            headers: dict | None = None, timeout: float = 30.0):
    """(status, headers, body bytes) of one HTTP request to 127.0.0.1:port."""
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def answers(port: int, path: str = "/api/v1") -> bool:
    try:
        return request(port, "GET", path, timeout=2)[0] == 200
    except OSError:
        return False


def server_env(settings: Settings) -> dict:
    """The environment that makes gridsnap processes use `settings`' database, Redis, photos."""
    env = dict(os.environ)
    env.update(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
               GRIDSNAP_MEDIA_DIR=str(settings.media_dir),
               GRIDSNAP_TOKEN_CACHE_SECONDS=str(settings.token_cache_seconds),
               PYTHONUNBUFFERED="1")
    return env


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def gunicorn(settings: Settings, log: Path, workers: int = 2, env: dict | None = None,
             app: str = "gridsnap.wsgi:app", timeout: int = 60, access_log: bool = False):
    """gunicorn with sync workers (as `gridsnap serve`) on a free port; yields the port.
    `env` adds to (or overrides) the environment made from `settings`; `app` is the WSGI app."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--timeout", str(timeout), "--no-control-socket",
             "--worker-class", "gridsnap.serving.JsonErrorsWorker",
             "--logger-class", "gridsnap.serving.RedactingLogger",
             *(["--access-logfile", "-"] if access_log else []), app],
            env={**server_env(settings), **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: proc.poll() is not None or _listening(port), 60,
                   "gunicorn to answer")
        assert proc.poll() is None, log.read_text()[-3000:]
        yield port
    finally:
        _stop(proc)


@contextmanager
def nginx_in_front(root: Path, upstream_port: int, max_body_bytes: int,
                   tile_origins: tuple[str, ...] = (), access_log: bool = False,
                   photo_store_origin: str = "", more_upstreams: tuple[int, ...] = ()):
    """nginx configured from deploy/ (as make run has it) in front of 127.0.0.1:upstream_port
    (and of more_upstreams: round-robin), its CSP allowing the base map's tile_origins, serving
    photos from the object store at photo_store_origin; yields its port."""
    port = free_port()
    upstream = ",".join(f"127.0.0.1:{p}" for p in (upstream_port, *more_upstreams))
    front = FrontServer(root, f"127.0.0.1:{port}", upstream, max_body_bytes,
                        access_log=access_log, tile_origins=tile_origins,
                        photo_store_origin=photo_store_origin)
    front.write()
    front.check()
    proc = subprocess.Popen(front.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: proc.poll() is not None or answers(port, "/api/v1/health")
                   or _listening(port), 30, "nginx to listen")
        assert proc.poll() is None, (root / "log" / "nginx-error.log").read_text()[-3000:]
        yield port
    finally:
        _stop(proc)


def _listening(port: int) -> bool:
    with suppress(OSError):
        request(port, "GET", "/api/v1", timeout=2)
        return True
    return False
