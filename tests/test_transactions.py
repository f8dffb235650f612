"""One transaction per request or job, owned by one layer (gridsnap.transaction): the API's edge
commits a successful request once, a service that commits is refused, and no backend module
but the owners ends a transaction."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text

from gridsnap import transaction

from conftest import auth

BACKEND = Path(__file__).resolve().parents[1] / "backend" / "gridsnap"

# who ends a transaction: the owners, and the use cases whose protocol declares a step
OWNERS = {"transaction.py", "edge.py", "cli.py", "outbox/jobs.py"}
STEPS = {"uploads/service.py", "outbox/service.py"}


@contextmanager
def _commits(engine):
    seen: list[int] = []

    def count(conn):
        seen.append(1)

    event.listen(engine, "commit", count)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", count)


def _a_user(client, tokens, name: str) -> None:
    r = client.post("/api/v1/admin/users", headers=auth(tokens["admin"]), json={
        "username": name, "display_name": name, "role": "worker", "password": "pass-word-123",
        "scopes": ["110101001"]})
    assert r.status_code == 201, r.get_json()


def test_a_user_patch_that_changes_scopes_and_disables_commits_once(client, tokens, runtime):
    _a_user(client, tokens, "tx_once")
    with _commits(runtime.engine) as seen:
        r = client.patch("/api/v1/admin/users/tx_once", headers=auth(tokens["admin"]),
                         json={"scopes": ["110101"], "disabled": True})
    assert r.status_code == 200 and r.get_json()["scopes"] == ["110101"]
    assert len(seen) == 1


def test_a_refused_request_commits_nothing(client, tokens, runtime):
    with _commits(runtime.engine) as seen:
        bad = client.post("/api/v1/admin/users", headers=auth(tokens["admin"]), json={
            "username": "tx_refused", "display_name": "x", "role": "handler",  # no department
            "password": "pass-word-123", "scopes": ["110101001"]})
        missing = client.patch("/api/v1/admin/users/tx_nobody", headers=auth(tokens["admin"]),
                               json={"disabled": True})
    assert bad.status_code == 422 and bad.get_json()["code"] == "user.invalid", bad.get_json()
    assert missing.status_code == 404 and missing.get_json()["code"] == "user.not_found"
    assert seen == []
    with runtime.engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM users WHERE username = 'tx_refused'")).scalar() == 0


def test_a_service_that_commits_inside_an_owned_transaction_is_refused(runtime, engine):
    def a_service_that_commits(session):
        session.execute(text("UPDATE users SET display_name = 'changed' WHERE username = :u"),
                        {"u": "tx_nested"})
        session.commit()

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = 'tx_nested'"))
        conn.execute(text("INSERT INTO users (username, display_name, role, password_hash, "
                          "scopes) VALUES ('tx_nested', 'as it was', 'worker', 'x', '{}')"))
    with pytest.raises(transaction.NestedCommit), runtime.sessions() as s, \
            transaction.unit(s, "test"):
        a_service_that_commits(s)
    with engine.connect() as conn:
        name = conn.execute(text("SELECT display_name FROM users WHERE username = 'tx_nested'"))
        assert name.scalar() == "as it was"


def test_on_commit_waits_for_the_commit_and_a_rollback_drops_it(runtime):
    ran: list[str] = []
    with runtime.sessions() as s:
        transaction.own(s, "test")
        transaction.on_commit(s, lambda: ran.append("rolled back"))
        transaction.rollback(s)
        transaction.on_commit(s, lambda: ran.append("committed"))
        assert ran == []
        transaction.commit(s)
    assert ran == ["committed"]


def test_only_the_owners_end_a_transaction():
    """`.commit()` nowhere in the backend but gridsnap.transaction; transaction.commit only by
    the owners; transaction.step only where a protocol needs it (listed above)."""
    found: dict[str, set[str]] = {"raw": set(), "commit": set(), "step": set()}
    for path in BACKEND.rglob("*.py"):
        rel = path.relative_to(BACKEND).as_posix()
        if rel.startswith("migrations/"):
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(r"\bsession\.commit\(|\bconn\.commit\(", source):
            found["raw"].add(rel)
        if re.search(r"transaction\.(commit|unit)\b", source):
            found["commit"].add(rel)
        if "transaction.step(" in source:
            found["step"].add(rel)
    assert found["raw"] <= {"transaction.py"}, found["raw"]
    assert found["commit"] <= OWNERS | {"worker.py", "outbox/jobs.py"}, found["commit"]
    assert found["step"] <= STEPS, found["step"]
