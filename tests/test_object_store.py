"""Photos in an S3-compatible object store, against a real one (SeaweedFS, devservices): the
store's contract, private originals and presigned reads, the API serving without the bytes in
Python, an outage (503 for uploads, intake goes on, the follow-up waits and carries on), the
migration of a local store, and a resumable upload continued on another API node."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from gridsnap.app import create_app
from gridsnap.devservices import LocalSeaweed
from gridsnap.extensions import Runtime
from gridsnap.outbox.rules import EXHAUSTED
from gridsnap.storage import (
    FallbackStorage,
    LocalPhotoStorage,
    S3PhotoStorage,
    StoreUnavailable,
    migrate,
    open_store,
    original_key,
    parse_store,
)

from conftest import auth, new_id, report_body
from followup import drain
from object_store import FrontClient, ensure_server, fetch, new_bucket
from photo_samples import make_jpeg

DIGEST = hashlib.sha256(b"x").hexdigest()


@pytest.fixture(scope="module")
def s3_server():
    server, started = ensure_server()
    yield server
    if started:
        server.stop()


@pytest.fixture()
def bucket(s3_server):
    """(spec, options, store) of a fresh bucket."""
    spec, options = new_bucket()
    return spec, options, open_store(spec, options)


@pytest.fixture()
def s3_app(settings, runtime, bucket):
    """An API node whose photos live in the bucket (same database and Redis as the others)."""
    spec, options, _ = bucket
    rt = Runtime(replace(settings, photo_store=spec, photo_store_options=tuple(options.items())))
    application = create_app(runtime=rt)
    application.config["TESTING"] = True
    application.test_client_class = FrontClient
    yield application
    rt.dispose()


def _report(client, token, cell) -> str:
    rid = new_id()
    r = client.put(f"/api/v1/reports/{rid}", json=report_body(cell), headers=auth(token))
    assert r.status_code == 201, r.get_json()
    return rid


def test_the_store_is_chosen_by_its_name():
    assert parse_store("s3://city-photos/gridsnap/2026") == ("s3", "city-photos", "gridsnap/2026")
    assert parse_store("s3://city-photos") == ("s3", "city-photos", "")
    assert parse_store("file:/srv/photos") == ("file", "/srv/photos", "")
    assert parse_store("/srv/photos") == ("file", "/srv/photos", "")
    for bad in ("s3://", "s3://A_B/x", "http://x/y", "s3://bucket/../x", "file:"):
        with pytest.raises(ValueError):
            parse_store(bad)
    assert isinstance(open_store("file:/srv/photos"), LocalPhotoStorage)


def test_s3_store_keeps_what_is_put_and_answers_like_the_local_one(bucket):
    _, _, store = bucket
    key = original_key(DIGEST, "jpg")
    assert not store.exists(key)
    with pytest.raises(KeyError):
        store.get(key)
    store.put(key, b"x", "image/jpeg")
    store.put(key, b"x", "image/jpeg")  # idempotent
    assert store.exists(key) and store.get(key) == b"x"
    assert store.head(key) == {"size": 1, "etag": hashlib.md5(b"x").hexdigest(),
                               "sha256": DIGEST}
    assert store.path_for(key) is None and store.free_bytes() is None
    assert list(store.iter_keys()) == [key]
    with pytest.raises(ValueError):
        store.put("../escape.jpg", b"x", "image/jpeg")
    store.delete(key)
    store.delete(key)  # deleting what is gone is fine
    assert not store.exists(key)


def test_originals_are_private_and_a_presigned_url_reads_one_briefly(bucket):
    spec, options, store = bucket
    key = original_key(DIGEST, "jpg")
    store.put(key, b"x", "image/jpeg")
    _, bucket_name, prefix = parse_store(spec)
    status, _, _ = fetch(f"{options['endpoint_url']}/{bucket_name}/{prefix}/{key}")
    assert status == 403  # no anonymous reading
    url = store.url_for(key, expires_s=60, content_type="image/jpeg",
                        disposition='attachment; filename="a"')
    status, headers, body = fetch(url)
    assert (status, body, headers["Content-Type"]) == (200, b"x", "image/jpeg")
    assert headers["Content-Disposition"] == 'attachment; filename="a"'
    tampered = url.replace(f"/{key}", f"/{original_key(hashlib.sha256(b'y').hexdigest(), 'jpg')}")
    assert fetch(tampered)[0] == 403  # the signature covers the key


def test_wrong_keys_are_an_unavailable_store_not_a_crash(bucket):
    spec, options, _ = bucket
    _, name, prefix = parse_store(spec)
    wrong = S3PhotoStorage(name, prefix, {**options, "secret_access_key": "not-the-secret"})
    with pytest.raises(StoreUnavailable):
        wrong.put(original_key(DIGEST, "jpg"), b"x", "image/jpeg")


def test_photos_go_to_the_bucket_and_are_served_from_it(s3_app, bucket, tokens, demo_cell):
    _, _, store = bucket
    client = s3_app.test_client()
    rt = s3_app.extensions["gridsnap"]
    rid = _report(client, tokens["worker"], demo_cell)
    data, pid = make_jpeg(1200, 900), new_id()
    r = client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=data, content_type="image/jpeg",
                   headers=auth(tokens["worker"]))
    assert r.status_code == 201
    digest = hashlib.sha256(data).hexdigest()
    assert store.get(original_key(digest, "jpg")) == data
    drain(rt)
    # the API answers with where the front server fetches the bytes; nothing of them in Python
    raw = FlaskClient(s3_app, s3_app.response_class)  # no front server
    plain = raw.get(f"/api/v1/photos/{pid}?size=display", headers=auth(tokens["worker"]))
    assert plain.status_code == 200 and plain.get_data() == b""
    assert plain.headers["X-Accel-Redirect"].startswith("/_photo_store/")
    assert "X-Amz-Signature=" in plain.headers["X-Accel-Redirect"]
    display = client.get(f"/api/v1/photos/{pid}?size=display", headers=auth(tokens["worker"]))
    assert display.status_code == 200 and display.data[:2] == b"\xff\xd8"
    assert display.headers["Content-Type"] == "image/jpeg"
    original = client.get(f"/api/v1/photos/{pid}?size=original", headers=auth(tokens["worker"]))
    assert original.status_code == 200 and original.data == data
    assert original.headers["Content-Disposition"].startswith("attachment")
    # scope stays in the API: out of scope, no URL is made at all
    other = raw.get(f"/api/v1/photos/{pid}?size=display", headers=auth(tokens["worker2"]))
    assert other.status_code == 404 and "X-Accel-Redirect" not in other.headers


def test_redirect_delivery_sends_the_client_to_a_presigned_url(s3_app, tokens, demo_cell,
                                                               monkeypatch):
    rt = s3_app.extensions["gridsnap"]
    client = s3_app.test_client()
    rid = _report(client, tokens["worker"], demo_cell)
    data, pid = make_jpeg(640, 480), new_id()
    assert client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=data,
                      content_type="image/jpeg", headers=auth(tokens["worker"])).status_code == 201
    monkeypatch.setattr(rt, "settings", replace(rt.settings, photo_delivery="redirect"))
    r = client.get(f"/api/v1/photos/{pid}?size=original", headers=auth(tokens["worker"]))
    assert r.status_code == 302
    assert fetch(r.headers["Location"])[2] == data


@pytest.fixture()
def own_server(tmp_path):
    """An S3 server of this test's own, to stop and start."""
    from gridsnap.supervise import free_port

    server = LocalSeaweed(port=free_port(), root=tmp_path / "s3")
    server.start()
    yield server
    server.stop()


def test_a_store_outage_answers_uploads_503_intake_goes_on_and_followup_waits(
        settings, own_server, tokens, demo_cell, engine):
    options = {"endpoint_url": own_server.endpoint,
               "access_key_id": "gridsnap-local", "secret_access_key": "gridsnap-local-secret"}
    spec = f"s3://outage-{uuid.uuid4().hex[:8]}/p"
    open_store(spec, options).create_bucket()
    rt = Runtime(replace(settings, photo_store=spec, photo_store_options=tuple(options.items())))
    node = create_app(runtime=rt)
    client = node.test_client()
    try:
        rid = _report(client, tokens["worker"], demo_cell)
        before, pid = make_jpeg(640, 480, seed=1), new_id()
        assert client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=before,
                          content_type="image/jpeg",
                          headers=auth(tokens["worker"])).status_code == 201
        own_server.stop()
        # an upload: 503 with Retry-After, and no photo acknowledged or recorded
        late = new_id()
        r = client.put(f"/api/v1/reports/{rid}/photos/{late}", data=make_jpeg(640, 480, seed=2),
                       content_type="image/jpeg", headers=auth(tokens["worker"]))
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert r.get_json()["code"] == "photo.storage_failed"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM photos WHERE id = :id"),
                                {"id": late}).scalar() == 0
        # reports are still taken
        _report(client, tokens["worker"], demo_cell)
        # the follow-up of the first photo waits (postponed, not failed)
        drain(rt)
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT done_at, failed_at, attempts, last_error FROM outbox "
                "WHERE topic = 'photo.uploaded'")).mappings().one()
        assert row["done_at"] is None and row["failed_at"] is None and row["attempts"] == 0
        assert row["last_error"].startswith(EXHAUSTED)
        # the store is back: the same upload goes through, and the waiting job is done
        own_server.start()
        r = client.put(f"/api/v1/reports/{rid}/photos/{late}", data=make_jpeg(640, 480, seed=2),
                       content_type="image/jpeg", headers=auth(tokens["worker"]))
        assert r.status_code == 201
        with engine.begin() as conn:
            conn.execute(text("UPDATE outbox SET available_at = NULL"))  # its back-off over
        drain(rt)
        with engine.connect() as conn:
            processed = conn.execute(text("SELECT count(*) FROM photos WHERE processed_at "
                                          "IS NOT NULL")).scalar()
        assert processed == 2
    finally:
        rt.dispose()


def test_migrate_copies_a_local_store_verified_and_resumes(bucket, tmp_path):
    _, _, target = bucket
    local = LocalPhotoStorage(tmp_path / "media")
    blobs = {original_key(hashlib.sha256(b).hexdigest(), "jpg"): b for b in (b"a", b"b", b"c")}
    for key, data in blobs.items():
        local.put(key, data, "image/jpeg")
    local.put("derived/thumb/aa/bb/" + DIGEST + ".jpg", b"t", "image/jpeg")
    (tmp_path / "media" / "uploads").mkdir()
    (tmp_path / "media" / "uploads" / "x.part").write_bytes(b"partial")  # not an object
    first = list(blobs)[0]
    target.put(first, blobs[first], "image/jpeg")  # a run cut short copied one already
    assert migrate(local, target) == {"copied": 3, "present": 1, "failed": 0}
    assert sorted(target.iter_keys()) == sorted(local.iter_keys())
    assert all(target.get(k) == local.get(k) for k in local.iter_keys())
    assert migrate(local, target) == {"copied": 0, "present": 4, "failed": 0}
    # a damaged original in the source is not copied over a good object
    Path(local.path_for(first)).write_bytes(b"rot")
    assert migrate(local, target)["failed"] == 1
    assert target.get(first) == blobs[first]


def test_a_store_moving_into_a_bucket_serves_both_meanwhile(bucket, tmp_path):
    _, _, target = bucket
    local = LocalPhotoStorage(tmp_path / "media")
    old = original_key(hashlib.sha256(b"old").hexdigest(), "jpg")
    local.put(old, b"old", "image/jpeg")
    store = FallbackStorage(target, local)
    new = original_key(DIGEST, "jpg")
    store.put(new, b"x", "image/jpeg")
    assert target.exists(new) and not local.exists(new)  # new photos go to the bucket
    assert store.get(old) == b"old" and store.path_for(old) == local.path_for(old)
    assert store.path_for(new) is None and store.url_for(
        new, expires_s=60, content_type="image/jpeg").startswith("http")
    migrate(local, target)
    assert store.path_for(old) is None  # copied: read from the bucket now


def test_a_resumable_upload_continues_on_another_api_node(settings, runtime, tokens, demo_cell,
                                                         tmp_path, bucket, engine):
    """Two API nodes with state folders of their own share the uploads folder (and the
    database and the bucket): each PATCH may land on either."""
    spec, options, store = bucket
    shared = tmp_path / "shared-uploads"
    nodes = []
    for name in ("a", "b"):
        rt = Runtime(replace(settings, media_dir=tmp_path / name, upload_dir=shared,
                             photo_store=spec, photo_store_options=tuple(options.items())))
        nodes.append((rt, create_app(runtime=rt).test_client()))
    try:
        token = tokens["worker"]
        rid = _report(nodes[0][1], token, demo_cell)
        data, pid = make_jpeg(1200, 900, seed=5), new_id()
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in {
            "report_id": rid, "photo_id": pid, "purpose": "report",
            "content_type": "image/jpeg"}.items())
        tus = {"Tus-Resumable": "1.0.0"}
        r = nodes[0][1].post("/api/v1/uploads/", headers={
            **auth(token), **tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
        assert r.status_code == 201
        url, half = r.headers["Location"], len(data) // 2
        for i, (start, end) in enumerate(((0, half), (half, len(data)))):
            client = nodes[(i + 1) % 2][1]  # b, then a
            assert int(client.head(url, headers={**auth(token), **tus}).headers[
                "Upload-Offset"]) == start
            p = client.patch(url, data=data[start:end], headers={
                **auth(token), **tus, "Upload-Offset": str(start),
                "Content-Type": "application/offset+octet-stream"})
            assert p.status_code == 204 and p.headers["Upload-Offset"] == str(end)
        assert store.get(original_key(hashlib.sha256(data).hexdigest(), "jpg")) == data
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM photos WHERE id = :id"),
                                {"id": pid}).scalar() == 1
        assert not any(shared.iterdir())  # the partial file is gone once handed over
    finally:
        for rt, _ in nodes:
            rt.dispose()


def test_behind_nginx_photos_come_from_the_store_through_the_front_server(
        settings, bucket, tokens, demo_cell, tmp_path):
    """gunicorn configured by the environment (GRIDSNAP_PHOTO_STORE, AWS_*) and nginx from
    deploy/: the original arrives whole through nginx's internal location, with the API's
    headers; a presigned path asked for directly is not served."""
    from live_stack import gunicorn, nginx_in_front, request

    spec, options, store = bucket
    env = {"GRIDSNAP_PHOTO_STORE": spec, "AWS_ENDPOINT_URL": options["endpoint_url"],
           "AWS_ACCESS_KEY_ID": options["access_key_id"],
           "AWS_SECRET_ACCESS_KEY": options["secret_access_key"], "AWS_REGION": "us-east-1"}
    with gunicorn(settings, tmp_path / "api.log", workers=1, env=env) as api, \
            nginx_in_front(tmp_path / "nginx", api, settings.max_body_bytes,
                           photo_store_origin=store.origin()) as port:
        token = auth(tokens["worker"])
        rid = new_id()
        status, _, _ = request(port, "PUT", f"/api/v1/reports/{rid}", report_body(demo_cell),
                               {**token, "Content-Type": "application/json"})
        assert status == 201
        data, pid = make_jpeg(800, 600, seed=3), new_id()
        status, _, _ = request(port, "PUT", f"/api/v1/reports/{rid}/photos/{pid}", data,
                               {**token, "Content-Type": "image/jpeg"})
        assert status == 201
        status, headers, body = request(port, "GET", f"/api/v1/photos/{pid}?size=original",
                                        headers=token)
        assert status == 200 and body == data
        assert headers["content-disposition"].startswith("attachment")
        assert headers["cache-control"].startswith("private")
        assert "x-accel-redirect" not in headers and "x-amz-request-id" not in headers
        status, _, _ = request(port, "GET", "/_photo_store/" + spec[5:] + "/x")
        assert status == 404  # internal: only the API's answer reaches it


def test_health_reports_an_object_store_that_does_not_answer(settings, own_server):
    options = {"endpoint_url": own_server.endpoint,
               "access_key_id": "gridsnap-local", "secret_access_key": "gridsnap-local-secret"}
    spec = f"s3://health-{uuid.uuid4().hex[:8]}/p"
    open_store(spec, options).create_bucket()
    rt = Runtime(replace(settings, photo_store=spec, photo_store_options=tuple(options.items())))
    client = create_app(runtime=rt).test_client()  # from this machine: the details
    try:
        body = client.get("/api/v1/health").get_json()
        assert body["checks"]["storage"]["ok"] is True and body["checks"]["storage"][
            "free_bytes"] is None
        own_server.stop()
        r = client.get("/api/v1/health")
        assert r.status_code == 200 and r.get_json()["status"] == "degraded"
        assert "storage.unavailable" in r.get_json()["reasons"]
    finally:
        rt.dispose()


def test_photos_migrate_command_copies_and_says_what_it_did(s3_server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gridsnap.cli import main

    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "GRIDSNAP_PHOTO_STORE"):
        monkeypatch.delenv(name, raising=False)  # the local S3 server, as in development
    local = LocalPhotoStorage(tmp_path / "media")
    key = original_key(DIGEST, "jpg")
    local.put(key, b"x", "image/jpeg")
    spec, options = new_bucket()
    args = ["photos", "migrate", "--from", f"file:{tmp_path / 'media'}", "--to", spec]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "1 copied, 0 already there, 0 failed" in first.output
    assert open_store(spec, options).get(key) == b"x"
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and "0 copied, 1 already there, 0 failed" in again.output
    refused = CliRunner().invoke(main, ["photos", "migrate", "--to", "file:/elsewhere"])
    assert refused.exit_code == 1  # a bucket is named, or nothing happens
