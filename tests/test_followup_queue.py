"""The follow-up queue: outbox rows written with the data, relayed to RQ after commit, survive
Redis being down, re-sent when Redis lost them, idempotent jobs, visible failures."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from rq import Queue
from rq.intermediate_queue import IntermediateQueue
from sqlalchemy import text

from gridsnap import clock
from gridsnap.deadlines.rules import TimeLimit, WorkCalendar, due_at
from gridsnap.devservices import LocalRedis
from gridsnap.extensions import Runtime
from gridsnap.outbox.jobs import BatchIncomplete
from gridsnap.outbox.rules import MAX_ATTEMPTS, retry_delay_s
from gridsnap.outbox.service import sweep_lost
from gridsnap.worker import STRANDED_S, build_followup, make_job_states, run_relay, run_worker

from conftest import auth, new_id, report_body
from followup import drain
from photo_samples import make_jpeg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _outbox(engine, *, scheduled: bool = False):
    """Outbox rows; the scheduled deadline checks (due hours from now) only if asked."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT id, topic, enqueued_at IS NOT NULL AS enqueued, done_at IS NOT NULL AS done,"
            " failed_at IS NOT NULL AS failed, attempts, last_error, available_at FROM outbox "
            "WHERE :scheduled OR available_at IS NULL ORDER BY id"), {"scheduled": scheduled}
        ).mappings().all()


def test_report_is_routed_with_department_and_accept_deadline(client, tokens, demo_cell,
                                                              runtime, engine):
    rid = new_id()
    client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
               headers=auth(tokens["worker"]))
    assert drain(runtime) == 1
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT r.suggested_department_code, r.routing_source, r.status, r.due_at,
                   r.received_at, c.department_code AS dept,
                   c.time_limits->'accept' AS accept
              FROM reports r JOIN categories c ON c.code = r.category_code""")).mappings().one()
    assert row["suggested_department_code"] == row["dept"] is not None
    assert row["routing_source"] == "category" and row["status"] == "reported"
    cal = WorkCalendar("Asia/Shanghai", time(9), time(18))
    assert row["due_at"] == due_at(row["received_at"], TimeLimit.from_dict(row["accept"]), cal)
    assert all(m["done"] for m in _outbox(engine) if m["topic"] == "report.submitted")
    # the accept deadline's check waits in the outbox until the due time
    scheduled = [m for m in _outbox(engine, scheduled=True) if m["topic"] == "case.deadline"]
    assert len(scheduled) == 1 and not scheduled[0]["enqueued"]
    detail = client.get(f"/api/v1/reports/{rid}", headers=auth(tokens["worker"])).get_json()
    assert detail["suggested_department"] == row["dept"] and detail["due_at"] is not None
    assert detail["department"] is None  # not dispatched yet


def test_running_a_batch_twice_changes_nothing_more(client, tokens, demo_cell, runtime, engine,
                                                    followup):
    client.put(f"/api/v1/reports/{new_id()}", json=report_body(demo_cell),
               headers=auth(tokens["worker"]))
    drain(runtime)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT routed_at, due_at FROM reports")).one()
        events = conn.execute(text("SELECT count(*) FROM case_events")).scalar()
    # a duplicate delivery (a re-send, a retry) of the same message
    ids = [m["id"] for m in _outbox(engine) if m["topic"] == "report.submitted"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET done_at = NULL WHERE id = ANY(:ids)"), {"ids": ids})
    assert followup.run("report.submitted", ids)["done"] == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT routed_at, due_at FROM reports")).one() == before
        assert conn.execute(text("SELECT count(*) FROM case_events")).scalar() == events


@pytest.fixture()
def own_redis(tmp_path, settings, runtime):
    """A Redis of this test's own, which the test may stop and start."""
    redis = LocalRedis(port=_free_port(), root=tmp_path / "redis")
    redis.start()
    rt = Runtime(replace(settings, redis_url=f"redis://127.0.0.1:{redis.port}/0"))
    yield redis, rt
    redis.stop()
    rt.dispose()


def test_intake_answers_while_redis_is_down_and_jobs_run_when_it_is_back(
        app, tokens, demo_cell, own_redis, engine, monkeypatch):
    redis, rt = own_redis
    redis.stop()
    monkeypatch.setitem(app.extensions, "gridsnap", rt)
    client = app.test_client()
    ids = [new_id() for _ in range(3)]
    for rid in ids:
        r = client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                       headers=auth(tokens["worker"]))
        assert r.status_code == 201
    health = client.get("/api/v1/health").get_json()
    assert health["status"] == "degraded" and health["checks"]["outbox"]["pending"] == 3
    # the relay cannot reach Redis: it gives up this round and keeps every message pending
    assert run_relay(rt, once=True) == 0
    assert [m["enqueued"] for m in _outbox(engine)] == [False] * 3
    redis.start()
    assert run_relay(rt, once=True) == 3
    run_worker(build_followup(rt), burst=True)
    assert all(m["done"] for m in _outbox(engine))
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM reports WHERE routed_at IS NOT NULL")).scalar() == 3


def test_sweep_resends_jobs_that_redis_lost(client, tokens, demo_cell, own_redis, engine):
    redis, rt = own_redis
    client.put(f"/api/v1/reports/{new_id()}", json=report_body(demo_cell),
               headers=auth(tokens["worker"]))
    assert run_relay(rt, once=True) == 1
    rt.redis.flushdb()  # e.g. Redis restarted from an old snapshot: the job is gone
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET enqueued_at = :t"),
                     {"t": clock.now() - timedelta(minutes=10)})
    with rt.sessions.begin() as s:
        assert sweep_lost(s, make_job_states(rt)) == 1
    assert run_relay(rt, once=True) == 1
    run_worker(build_followup(rt), burst=True)
    assert [m["done"] for m in _outbox(engine)] == [True]


def test_sweep_resends_a_job_stranded_between_queue_and_worker(client, tokens, demo_cell,
                                                               own_redis, engine):
    """A worker took the job off the queue (into RQ's intermediate queue) and lost Redis before
    starting it: the job stays "queued" where no worker looks. The sweep sends it again once it
    has stayed there STRANDED_S after the sweep first saw it."""
    redis, rt = own_redis
    client.put(f"/api/v1/reports/{new_id()}", json=report_body(demo_cell),
               headers=auth(tokens["worker"]))
    assert run_relay(rt, once=True) == 1
    queue = Queue(rt.settings.queue_name, connection=rt.redis)
    intermediate = IntermediateQueue(queue.key, rt.redis)
    job_id = rt.redis.lmove(queue.key, intermediate.key).decode()  # what RQ's dequeue does
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET enqueued_at = :t"),
                     {"t": clock.now() - timedelta(minutes=10)})
    with rt.sessions.begin() as s:
        assert sweep_lost(s, make_job_states(rt)) == 0  # first seen now: it may be starting
        seen = datetime.now(UTC) - timedelta(seconds=STRANDED_S + 1)  # as if seen there then
        rt.redis.set(intermediate.get_first_seen_key(job_id), seen.timestamp())
        assert sweep_lost(s, make_job_states(rt)) == 1
    assert job_id not in intermediate.get_job_ids()
    assert run_relay(rt, once=True) == 1
    run_worker(build_followup(rt), burst=True)
    assert [m["done"] for m in _outbox(engine)] == [True]


def test_a_failing_message_does_not_hold_back_its_batch_and_fails_visibly(
        client, tokens, demo_cell, runtime, engine, followup, at):
    now = datetime(2030, 1, 7, 9, tzinfo=UTC)
    at(now)
    rid = new_id()
    client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
               headers=auth(tokens["worker"]))
    good, bad = new_id(), new_id()
    for pid, seed in ((good, 1), (bad, 2)):
        r = client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=make_jpeg(seed=seed),
                       content_type="image/jpeg", headers=auth(tokens["worker"]))
        assert r.status_code == 201
    with engine.connect() as conn:
        key = conn.execute(text("SELECT original_key FROM photos WHERE id = :id"),
                           {"id": bad}).scalar()
    runtime.storage.delete(key)  # the original vanished from storage
    photo_msgs = [m["id"] for m in _outbox(engine) if m["topic"] == "photo.uploaded"]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with pytest.raises(BatchIncomplete):
            followup.run("photo.uploaded", photo_msgs)
        failed = [m for m in _outbox(engine, scheduled=True) if m["topic"] == "photo.uploaded"
                  and not m["done"]][0]
        assert failed["attempts"] == attempt
        if attempt < MAX_ATTEMPTS:
            # the outbox's one retry policy: pending again, not before the pause for this try
            assert failed["enqueued"] is False and failed["failed"] is False
            delay = timedelta(seconds=retry_delay_s(attempt, runtime.settings.job_retry_intervals))
            assert failed["available_at"] == now + delay
    assert failed["failed"] is True and "KeyError" in failed["last_error"]
    with engine.connect() as conn:
        processed = dict(conn.execute(text(
            "SELECT id::text, processed_at IS NOT NULL FROM photos")).all())
    assert processed == {good: True, bad: False}
    health = client.get("/api/v1/health").get_json()
    assert health["checks"]["outbox"]["failed"] == 1
