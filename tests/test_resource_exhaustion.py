"""Resource exhaustion is a passing fault (invariant 9): a full disk postpones the photo
follow-up with back-off — never "failed for good" — until space returns, /health says degraded
and why meanwhile, low space is degraded (not down) below a threshold relative to the photo
limit, and a tus chunk that cannot be written is a 503 the client retries. The fault is
injected at the storage boundary only (OSError ENOSPC from the photo store); PostgreSQL and
Redis are real."""

from __future__ import annotations

import base64
import errno
from dataclasses import replace

import pytest
from sqlalchemy import text

from gridsnap import clock
from gridsnap.app import create_app
from gridsnap.extensions import Runtime
from gridsnap.outbox.jobs import MAX_ATTEMPTS, BatchIncomplete
from gridsnap.outbox.rules import EXHAUSTED, POSTPONE_MIN_S
from gridsnap.storage import PartialFile
from gridsnap.worker import run_relay

from conftest import auth, new_id, report_body
from photo_samples import make_jpeg

TUS = {"Tus-Resumable": "1.0.0"}


def _tus(client, method: str, url: str, token: str, body: bytes = b"", **headers):
    return client.open(url, method=method, data=body,
                       headers={**auth(token), **TUS, **headers})


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _message(engine, photo_id: str):
    with engine.connect() as conn:
        return conn.execute(text("""
            SELECT id, done_at IS NOT NULL AS done, failed_at IS NOT NULL AS failed, attempts,
                   last_error, enqueued_at, available_at > :now AS later,
                   available_at >= CAST(:now AS timestamptz)
                                   + make_interval(secs => :min_s - 1) AS backed_off
              FROM outbox WHERE topic = 'photo.uploaded' AND payload->>'photo_id' = :pid
        """), {"pid": photo_id, "min_s": POSTPONE_MIN_S, "now": clock.now()}).mappings().one()


def test_a_full_disk_postpones_the_photo_followup_until_space_returns(
        client, tokens, demo_cell, runtime, engine, followup, monkeypatch):
    rid, pid = new_id(), new_id()
    assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                      headers=auth(tokens["worker"])).status_code == 201
    assert client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=make_jpeg(seed=41),
                      content_type="image/jpeg",
                      headers=auth(tokens["worker"])).status_code == 201
    msg = _message(engine, pid)
    # the disk fills: the thumbnails cannot be written, again and again
    monkeypatch.setattr(runtime.storage, "put", _no_space)
    for _ in range(MAX_ATTEMPTS + 2):
        outcome = followup.run("photo.uploaded", [msg["id"]])
        assert outcome["postponed"] == 1 and outcome["done"] == 0
    msg = _message(engine, pid)
    assert not msg["failed"] and not msg["done"] and msg["attempts"] == 0
    assert msg["last_error"].startswith(EXHAUSTED) and "No space left" in msg["last_error"]
    assert msg["enqueued_at"] is None and msg["later"] and msg["backed_off"]
    # meanwhile /health alerts, and still answers 200: intake works
    r = client.get("/api/v1/health")
    health = r.get_json()
    assert r.status_code == 200 and health["status"] == "degraded"
    assert "outbox.resource_exhausted" in health["reasons"]
    assert health["checks"]["outbox"]["postponed"] >= 1
    # space returns; once its back-off is over the relay sends it again and it is done
    monkeypatch.undo()
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET available_at = :now WHERE id = :id"),
                     {"id": msg["id"], "now": clock.now()})
    claimed = run_relay(runtime, once=True)
    assert claimed >= 1
    assert followup.run("photo.uploaded", [msg["id"]])["done"] == 1
    assert _message(engine, pid)["done"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT thumb_key IS NOT NULL FROM photos WHERE id = :id"),
                            {"id": pid}).scalar()
    assert "outbox.resource_exhausted" not in client.get("/api/v1/health").get_json()["reasons"]


def test_in_a_batch_a_broken_photo_fails_while_the_one_out_of_space_waits(
        client, tokens, demo_cell, runtime, engine, followup, monkeypatch):
    rid = new_id()
    assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                      headers=auth(tokens["worker"])).status_code == 201
    broken, waiting = new_id(), new_id()
    for seed, pid in ((50, broken), (51, waiting)):
        assert client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=make_jpeg(seed=seed),
                          content_type="image/jpeg",
                          headers=auth(tokens["worker"])).status_code == 201
    with engine.connect() as conn:
        key = conn.execute(text("SELECT original_key FROM photos WHERE id = :id"),
                           {"id": broken}).scalar()
    runtime.storage.delete(key)  # a bug's kind of failure: counted, failed in the end
    monkeypatch.setattr(runtime.storage, "put", _no_space)  # the other meets a full disk
    ids = [_message(engine, pid)["id"] for pid in (broken, waiting)]
    with pytest.raises(BatchIncomplete):
        followup.run("photo.uploaded", ids)
    first, second = (_message(engine, pid) for pid in (broken, waiting))
    assert first["attempts"] == 1 and "KeyError" in first["last_error"]
    assert not second["failed"] and second["attempts"] == 0 and second["later"]
    assert second["last_error"].startswith(EXHAUSTED)


@pytest.mark.parametrize(("free_photos", "reason"), [(99, True), (101, False)])
def test_low_space_is_degraded_not_down_below_a_threshold_relative_to_the_photo_limit(
        settings, database, monkeypatch, free_photos, reason):
    mine = replace(settings, photo_max_bytes=2 * 1024 * 1024, storage_low_photos=100)
    rt = Runtime(mine)
    try:
        app = create_app(runtime=rt)
        monkeypatch.setattr(rt.storage, "free_bytes",
                            lambda: free_photos * mine.photo_max_bytes)
        r = app.test_client().get("/api/v1/health")
        body = r.get_json()
        assert r.status_code == 200 and body["status"] != "down"
        assert body["checks"]["storage"]["low_below_bytes"] == 100 * 2 * 1024 * 1024
        assert ("storage.low_space" in body["reasons"]) is reason
        assert body["checks"]["storage"]["ok"] is not reason
        if reason:
            assert body["status"] == "degraded"
    finally:
        rt.dispose()


def test_a_chunk_that_cannot_be_written_is_a_503_and_is_sent_again(
        client, tokens, demo_cell, monkeypatch):
    token = tokens["worker"]
    rid = new_id()
    assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                      headers=auth(token)).status_code == 201
    data = make_jpeg(seed=60)
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in {
        "report_id": rid, "photo_id": new_id(), "content_type": "image/jpeg"}.items())
    url = _tus(client, "POST", "/api/v1/uploads/", token, **{
        "Upload-Length": str(len(data)), "Upload-Metadata": meta}).headers["Location"]
    half = len(data) // 2
    octets = {"Content-Type": "application/offset+octet-stream"}
    assert _tus(client, "PATCH", url, token, data[:half], **octets,
                **{"Upload-Offset": "0"}).status_code == 204
    with monkeypatch.context() as m:
        m.setattr(PartialFile, "write_at", _no_space)
        r = _tus(client, "PATCH", url, token, data[half:], **octets,
                 **{"Upload-Offset": str(half)})
    assert r.status_code == 503 and r.headers["Retry-After"] == "30"
    assert r.get_json()["code"] == "photo.storage_failed"
    # nothing counted
    assert _tus(client, "HEAD", url, token).headers["Upload-Offset"] == str(half)
    r = _tus(client, "PATCH", url, token, data[half:], **octets, **{"Upload-Offset": str(half)})
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))
