"""Logging in, bearer tokens, revocation and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from gridsnap.errors import AppError
from gridsnap.users.rules import LOGIN_LOCK_MAX_SECONDS
from gridsnap.users.service import (
    add_user,
    authenticate,
    hash_token,
    revocation_epoch,
    revoke_all_tokens,
)

from conftest import PERSONAS, auth


def login(client, username, password):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_login_returns_a_token_valid_for_thirty_days(client, demo_users, at):
    issued = datetime(2027, 2, 10, 8, 15, tzinfo=UTC)
    at(issued)
    name = PERSONAS["worker"]
    r = login(client, name, demo_users[name]["password"])
    assert r.status_code == 201
    j = r.get_json()
    assert j["token_type"] == "Bearer" and len(j["token"]) >= 40
    assert j["user"]["role"] == "worker" and j["user"]["scopes"]
    assert datetime.fromisoformat(j["expires_at"]) == issued + timedelta(days=30)


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    a = login(client, PERSONAS["worker"], "wrong-password")
    b = login(client, "nobody-here", "wrong-password")
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()
    assert a.get_json()["code"] == "auth.bad_credentials"


def test_endpoints_require_a_token(client):
    for path in ("/api/v1/reports", "/api/v1/categories", "/api/v1/cells/locate?lon=1&lat=1",
                 "/api/v1/auth/me"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.get_json()["code"] == "auth.required"
    assert client.get("/api/v1/reports", headers=auth("forged")).get_json()["code"] == \
        "auth.invalid_token"


def test_health_and_docs_need_no_token(client):
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_logout_revokes_the_token(client, demo_users):
    name = PERSONAS["supervisor"]
    token = login(client, name, demo_users[name]["password"]).get_json()["token"]
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=auth(token)).status_code == 204
    r = client.get("/api/v1/auth/me", headers=auth(token))
    assert r.status_code == 401 and r.get_json()["code"] == "auth.invalid_token"


def test_a_token_expires_after_its_days_on_the_applications_clock(client, demo_users, at,
                                                                  settings):
    # years away from the real date: neither the machine's nor the database's clock may count
    issued = datetime(2031, 3, 1, 9, tzinfo=UTC)
    at(issued)
    name = PERSONAS["admin"]
    token = login(client, name, demo_users[name]["password"]).get_json()["token"]
    life = timedelta(days=settings.token_ttl_days)
    at(issued + life - timedelta(seconds=1))
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    at(issued + life)
    r = client.get("/api/v1/auth/me", headers=auth(token))
    assert r.status_code == 401 and r.get_json()["code"] == "auth.invalid_token"


def test_disabled_user_cannot_use_tokens_or_log_in(client, engine, runtime):
    from gridsnap.users.service import add_user, disable_user

    with runtime.sessions.begin() as s:
        add_user(s, username="temp_worker", display_name="临时", role="worker",
                 password="temp-pass-123", scopes=["110101001"])
    token = login(client, "temp_worker", "temp-pass-123").get_json()["token"]
    with runtime.sessions.begin() as s:
        disable_user(s, "temp_worker")
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401
    assert login(client, "temp_worker", "temp-pass-123").status_code == 401


def test_token_cache_serves_repeat_requests_and_ends_with_a_new_revocation_epoch(
        client, demo_users, runtime, engine):
    name, password = "cache_probe", "cache-pass-123"  # not a persona: its tokens get revoked
    with runtime.sessions.begin() as s:
        add_user(s, username=name, display_name="缓存", role="worker", password=password,
                 scopes=["110101001"])
    token = login(client, name, password).get_json()["token"]
    epoch = revocation_epoch(runtime.redis)
    with runtime.sessions() as s:
        assert authenticate(s, token, cache_seconds=60, epoch=epoch).username == name
    # revoked behind the process's back without an announcement: served from the cache
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE token_hash = :h"),
                     {"h": hash_token(token)})
    with runtime.sessions() as s:
        assert authenticate(s, token, cache_seconds=60, epoch=epoch).username == name
        # another process announced a revocation: the cached answer no longer holds
        other_process = revocation_epoch(runtime.redis) + "-changed"
        with pytest.raises(AppError):
            authenticate(s, token, cache_seconds=60, epoch=other_process)
        # no epoch (Redis unreachable): no cache
        with pytest.raises(AppError):
            authenticate(s, token, cache_seconds=60, epoch=None)
    # revoked through the service: a new epoch for every process
    token = login(client, name, password).get_json()["token"]
    with runtime.sessions() as s:
        authenticate(s, token, cache_seconds=60, epoch=revocation_epoch(runtime.redis))
        before = revocation_epoch(runtime.redis)
        revoke_all_tokens(s, name, runtime.redis)
        assert revocation_epoch(runtime.redis) == before  # announced once it is durable
        s.commit()
        assert revocation_epoch(runtime.redis) != before
        with pytest.raises(AppError):
            authenticate(s, token, cache_seconds=60, epoch=revocation_epoch(runtime.redis))


def _login(client, username, password, address="127.0.0.11"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_throttled_per_account_and_address_with_retry_after(
        client, demo_users):
    name = PERSONAS["worker"]
    for _ in range(5):
        assert _login(client, name, "wrong-password").status_code == 401
    r = _login(client, name, demo_users[name]["password"])  # even the right one must wait
    assert r.status_code == 429 and r.get_json()["code"] == "auth.too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= 60
    # the same account from another address, and another account from this one, go on
    assert _login(client, name, demo_users[name]["password"], "127.0.0.12").status_code == 201
    other = PERSONAS["worker2"]
    assert _login(client, other, demo_users[other]["password"]).status_code == 201


def test_a_guesser_spread_over_addresses_locks_the_account_for_minutes_not_longer(
        client, demo_users):
    name = PERSONAS["supervisor"]
    for i in range(20):
        assert _login(client, name, "wrong-password", f"127.1.0.{i}").status_code == 401
    r = _login(client, name, demo_users[name]["password"], "127.2.0.1")
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= LOGIN_LOCK_MAX_SECONDS <= 300


def test_one_address_guessing_many_accounts_is_throttled(client):
    for i in range(50):
        assert _login(client, f"nobody{i}", "wrong-password", "127.3.0.1").status_code == 401
    assert _login(client, "nobody-else", "wrong-password", "127.3.0.1").status_code == 429
    assert _login(client, "nobody-else", "wrong-password", "127.3.0.2").status_code == 401


def test_a_success_clears_the_failures_of_that_account_and_address(client, demo_users):
    name = PERSONAS["handler"]
    for _ in range(4):
        assert _login(client, name, "wrong-password").status_code == 401
    assert _login(client, name, demo_users[name]["password"]).status_code == 201
    for _ in range(4):
        assert _login(client, name, "wrong-password").status_code == 401
    assert _login(client, name, demo_users[name]["password"]).status_code == 201


def test_health_tells_outsiders_up_or_down_only(client, tokens):
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    r = client.get("/api/v1/health", environ_base=outside)
    assert r.status_code == 200 and r.get_json() == {"status": "up"}
    # relayed by the proxy from outside: the same, though the proxy is on loopback
    r = client.get("/api/v1/health", headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.get_json() == {"status": "up"}
    r = client.get("/api/v1/health", environ_base=outside, headers=auth(tokens["worker"]))
    assert r.get_json() == {"status": "up"}
    # an admin, or an operator on this machine, sees the checks
    r = client.get("/api/v1/health", environ_base=outside, headers=auth(tokens["admin"]))
    assert r.get_json()["checks"]["postgres"]["postgis"]
    assert "checks" in client.get("/api/v1/health").get_json()


def test_a_load_balancers_probe_asks_postgresql_only(client, tokens, monkeypatch):
    """Probed every second on every node, the anonymous up-or-down reads PostgreSQL alone: no
    Redis round trip, no call to the photo store."""
    from gridsnap.health import api as health_api

    asked: list[str] = []
    real_count = health_api.Worker.count

    def counting(*a, **kw):
        asked.append("redis")
        return real_count(*a, **kw)

    monkeypatch.setattr(health_api.Worker, "count", staticmethod(counting))
    r = client.get("/api/v1/health", headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status_code == 200 and r.get_json() == {"status": "up"}
    assert asked == []
    # the operator's view still checks Redis
    assert client.get("/api/v1/health").get_json()["checks"]["redis"]["ok"]
    assert asked == ["redis"]
