"""A revocation takes effect on every API process at once, although each keeps a token cache
(GRIDSNAP_TOKEN_CACHE_SECONDS): two real gunicorn servers on loopback, the cache on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import PERSONAS

BOUND_SECONDS = 30  # how long a server may take to come up (a bound, not a measurement)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(port: int, method: str, path: str, token: str | None = None, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"}
                                             if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture()
def two_servers(settings, database):
    """Two API processes (one sync worker each, token cache 10 s) on the test database."""
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "GRIDSNAP_TOKEN_CACHE_SECONDS": "10", "GRIDSNAP_MEDIA_DIR": str(settings.media_dir)}
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen([sys.executable, "-m", "gridsnap.cli", "serve", "--port", str(p),
                               "--workers", "1"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for p in ports]
    try:
        deadline = time.monotonic() + BOUND_SECONDS
        for port, proc in zip(ports, procs, strict=True):
            while True:
                assert proc.poll() is None, "the server exited"
                try:
                    if _call(port, "GET", "/categories")[0] in (200, 401):
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)  # polling for a condition, not waiting a fixed time
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


def _login(port, demo_users, persona) -> str:
    name = PERSONAS[persona]
    status, body = _call(port, "POST", "/auth/token",
                         body={"username": name, "password": demo_users[name]["password"]})
    assert status == 201, body
    return json.loads(body)["token"]


def test_logout_on_one_process_ends_the_token_on_the_other_at_once(two_servers, demo_users):
    a, b = two_servers
    token = _login(a, demo_users, "worker")
    # both processes have checked the token and cached it
    assert _call(a, "GET", "/auth/me", token)[0] == 200
    assert _call(b, "GET", "/auth/me", token)[0] == 200
    assert _call(b, "GET", "/auth/me", token)[0] == 200
    assert _call(a, "DELETE", "/auth/token", token)[0] == 204
    # the very next request to the other process is refused (no wait for its cache to expire)
    assert _call(b, "GET", "/auth/me", token)[0] == 401
    assert _call(a, "GET", "/auth/me", token)[0] == 401


def test_disabling_a_user_or_narrowing_a_scope_reaches_every_process_at_once(
        two_servers, demo_users):
    a, b = two_servers
    admin = _login(a, demo_users, "admin")
    token = _login(a, demo_users, "worker2")
    status, me = _call(b, "GET", "/auth/me", token)
    assert status == 200
    scopes = json.loads(me)["scopes"]
    try:
        assert _call(a, "PATCH", f"/admin/users/{PERSONAS['worker2']}", admin,
                     {"scopes": ["110102"]})[0] == 200
        status, me = _call(b, "GET", "/auth/me", token)
        assert status == 200 and json.loads(me)["scopes"] == ["110102"]
    finally:
        assert _call(a, "PATCH", f"/admin/users/{PERSONAS['worker2']}", admin,
                     {"scopes": scopes})[0] == 200
