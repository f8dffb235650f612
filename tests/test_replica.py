"""A real streaming replica (pg_basebackup from the test primary) taking the heavy reads:
indicators, 每月一题, tiles and exports go to it while it is caught up; case pages and lists stay
on the primary, so a user reads their own writes; a replica too far behind, or away, sends the
heavy reads to the primary, and every such answer says where it came from and how stale it may
be."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from gridsnap.app import create_app
from gridsnap.devservices import LocalPostgres, start_replica
from gridsnap.extensions import Runtime
from gridsnap.settings import local_pg_port
from gridsnap.supervise import free_port

from conftest import auth, new_id, report_body
from live_stack import wait_until


@pytest.fixture(scope="module")
def replica_url(settings, database):
    url = make_url(settings.database_url)
    if os.environ.get("GRIDSNAP_TEST_DATABASE_URL") or url.port != local_pg_port():
        pytest.skip("the replica is made from the project-local cluster (GRIDSNAP_TEST_DATABASE_"
                    "URL names another server)")
    # the postgres user (we may be root) must reach the replica: not pytest's 0700 folders
    root = Path(tempfile.mkdtemp(prefix="gridsnap-replica-"))
    root.chmod(0o711)
    replica = start_replica(LocalPostgres(), root / "pg", free_port())
    try:
        yield url.set(port=replica.port).render_as_string(hide_password=False)
    finally:
        replica.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def node(settings, runtime, replica_url):
    """An API node with the replica, lag allowed: 1 s."""
    rt = Runtime(replace(settings, replica_url=replica_url, replica_max_lag_seconds=1.0))
    app = create_app(runtime=rt)
    app.config["TESTING"] = True
    yield app
    rt.dispose()


def _indicators(client, token):
    return client.get("/api/v1/stats/indicators", query_string={"group": "street"},
                      headers=auth(token))


def _replay(replica_url: str, paused: bool) -> None:
    engine = create_engine(replica_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()" if paused
                          else "SELECT pg_wal_replay_resume()"))
    engine.dispose()


def test_the_replica_is_a_real_standby_of_the_primary(replica_url, engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS replica_probe (v text)"))
        conn.execute(text("INSERT INTO replica_probe VALUES ('x')"))
    standby = create_engine(replica_url)
    try:
        with standby.connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
        wait_until(lambda: _has_probe(standby), 30, "the replica to replay the insert")
    finally:
        standby.dispose()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE replica_probe"))


def _has_probe(standby) -> bool:
    with standby.connect() as conn:
        if conn.execute(text("SELECT to_regclass('replica_probe')")).scalar() is None:
            return False
        return conn.execute(text("SELECT EXISTS (SELECT 1 FROM replica_probe)")).scalar()


def test_heavy_reads_go_to_a_caught_up_replica_and_say_so(node, tokens, demo_cell, at):
    at(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))
    client = node.test_client()
    plain = create_app(runtime=Runtime(replace(node.extensions["gridsnap"].settings,
                                               replica_url=""))).test_client()
    rid = new_id()
    assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                      headers=auth(tokens["worker"])).status_code == 201
    # a case page never asks the replica: the writer reads the report at once
    page = client.get(f"/api/v1/reports/{rid}", headers=auth(tokens["worker"]))
    assert page.status_code == 200 and "X-Gridsnap-Read-From" not in page.headers

    def exported_from_replica():
        r = client.get("/api/v1/exports/cases.csv", headers=auth(tokens["supervisor"]))
        return r if (r.headers["X-Gridsnap-Read-From"] == "replica"
                     and rid in r.get_data(as_text=True)) else None

    export = wait_until(exported_from_replica, 30, "the case export from the replica")
    assert export.status_code == 200 and float(export.headers["X-Gridsnap-Read-Lag"]) <= 1.0
    r = _indicators(client, tokens["supervisor"])
    primary = _indicators(plain, tokens["supervisor"])
    assert primary.headers["X-Gridsnap-Read-From"] == "primary"
    assert r.status_code == 200 and r.get_json() == primary.get_json()
    tile = client.get("/api/v1/tiles/cases/12/3372/1552.mvt", headers=auth(tokens["supervisor"]))
    assert tile.status_code == 200 and tile.headers["X-Gridsnap-Read-From"]


def test_a_replica_behind_sends_heavy_reads_to_the_primary_and_case_pages_read_their_writes(
        node, replica_url, tokens, demo_cell):
    client = node.test_client()
    wait_until(lambda: _indicators(client, tokens["supervisor"]).headers.get(
        "X-Gridsnap-Read-From") == "replica", 30, "the replica to be caught up")
    _replay(replica_url, paused=True)
    try:
        rid = new_id()
        assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                          headers=auth(tokens["worker"])).status_code == 201
        # the writer sees the report at once: case pages and lists are read on the primary
        assert client.get(f"/api/v1/reports/{rid}",
                          headers=auth(tokens["worker"])).status_code == 200
        # the replica does not replay: past the allowed lag, the heavy reads go to the primary
        r = wait_until(lambda: (lambda r: r if r.headers["X-Gridsnap-Read-From"] == "primary"
                                else None)(_indicators(client, tokens["supervisor"])),
                       30, "indicators answered from the primary")
        assert r.status_code == 200 and r.headers["X-Gridsnap-Read-Lag"] == "0.000"
    finally:
        _replay(replica_url, paused=False)
    wait_until(lambda: _indicators(client, tokens["supervisor"]).headers.get(
        "X-Gridsnap-Read-From") == "replica", 30, "the replica to catch up again")


def test_a_replica_that_is_away_sends_heavy_reads_to_the_primary(settings, runtime, tokens):
    gone = make_url(settings.database_url).set(port=free_port()).render_as_string(
        hide_password=False)
    rt = Runtime(replace(settings, replica_url=gone))
    try:
        client = create_app(runtime=rt).test_client()
        r = _indicators(client, tokens["supervisor"])
        assert r.status_code == 200 and r.headers["X-Gridsnap-Read-From"] == "primary"
        assert rt.read_route().why == "replica unavailable"
    finally:
        rt.dispose()
