"""Resumable photo uploads (tus 1.0.0 at /api/v1/uploads/): the protocol to the letter, every
error path, and a real server with a client whose connection is cut five times mid-body."""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from gridsnap import clock
from gridsnap.app import create_app
from gridsnap.photos.jobs import SWEEP_UPLOADS

from conftest import auth, new_id, report_body
from photo_samples import TIANANMEN, make_jpeg

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def metadata(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" if v != "" else k
                    for k, v in values.items())


@pytest.fixture()
def report(client, tokens, demo_cell):
    rid = new_id()
    r = client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                   headers=auth(tokens["worker"]))
    assert r.status_code == 201
    return r.get_json()


def create(client, token, report_id, length, photo_id=None, **extra):
    meta = {"report_id": report_id, "photo_id": photo_id or new_id(),
            "content_type": "image/jpeg", **extra}
    return client.post("/api/v1/uploads/", headers={
        **auth(token), **TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(**meta)})


def patch(client, token, url, offset, body, **headers):
    return client.patch(url, data=body, headers={
        **auth(token), **TUS, "Upload-Offset": str(offset), "Content-Type": OCTETS, **headers})


def head(client, token, url):
    return client.head(url, headers={**auth(token), **TUS})


def test_options_tells_version_extensions_and_the_photo_limit(client, settings):
    r = client.options("/api/v1/uploads/")
    assert r.status_code == 204
    assert r.headers["Tus-Resumable"] == "1.0.0" and r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) >= {"creation", "termination"}
    assert r.headers["Tus-Max-Size"] == str(settings.photo_max_bytes)


def test_upload_in_three_patches_adds_the_photo_as_the_put_does(client, tokens, report, engine):
    data = make_jpeg(1200, 900, gps=TIANANMEN)
    pid, token = new_id(), tokens["worker"]
    taken = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).isoformat()
    r = create(client, token, report["id"], len(data), photo_id=pid, purpose="report",
               exif_taken_at=taken, exif_lon=116.39, exif_lat=39.91, filename="a.jpg")
    assert r.status_code == 201 and r.headers["Tus-Resumable"] == "1.0.0"
    url = r.headers["Location"]
    assert url.startswith("/api/v1/uploads/") and r.headers["Upload-Expires"].endswith("GMT")
    h = head(client, token, url)
    assert (h.status_code, h.headers["Upload-Offset"], h.headers["Upload-Length"]) == (
        200, "0", str(len(data)))
    assert h.headers["Cache-Control"] == "no-store"
    third = len(data) // 3
    for start, end in ((0, third), (third, 2 * third), (2 * third, len(data))):
        p = patch(client, token, url, start, data[start:end])
        assert p.status_code == 204, p.get_data(as_text=True)
        assert p.headers["Upload-Offset"] == str(end) and p.headers["Tus-Resumable"] == "1.0.0"
    assert head(client, token, url).headers["Upload-Offset"] == str(len(data))
    with engine.connect() as conn:
        photo = conn.execute(text("""
            SELECT sha256, size_bytes, purpose, exif_taken_at, ST_X(exif_location) AS lon
              FROM photos WHERE id = :id"""), {"id": pid}).mappings().one()
        topics = conn.execute(text("SELECT topic FROM outbox ORDER BY id")).scalars().all()
        events = conn.execute(text("SELECT action FROM case_events ORDER BY id")).scalars().all()
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert photo["size_bytes"] == len(data) and photo["purpose"] == "report"
    assert photo["exif_taken_at"].isoformat() == taken and photo["lon"] == 116.39
    assert topics == ["report.submitted", "photo.uploaded"]
    assert events.count("photo.added") == 1
    # the same photo by the plain PUT is a replay
    again = client.put(f"/api/v1/reports/{report['id']}/photos/{pid}", data=data,
                       content_type="image/jpeg", headers=auth(token))
    assert again.status_code == 200


def test_an_uploaded_photo_brings_its_case_into_the_delta_sync(client, tokens, report):
    data, token = make_jpeg(), tokens["worker"]
    since = client.get(f"/api/v1/cases/{report['id']}", headers=auth(token)).get_json()[
        "updated_at"]
    url = create(client, token, report["id"], len(data)).headers["Location"]
    assert patch(client, token, url, 0, data[:100]).status_code == 204
    delta = {"updated_since": since}
    assert client.get("/api/v1/cases", query_string=delta, headers=auth(token)).get_json() == []
    assert patch(client, token, url, 100, data[100:]).status_code == 204
    seen = client.get("/api/v1/cases", query_string=delta, headers=auth(token)).get_json()
    assert [c["id"] for c in seen] == [report["id"]] and len(seen[0]["photos"]) == 1


def test_a_second_upload_of_the_same_photo_is_a_replay(client, tokens, report, engine):
    data, pid, token = make_jpeg(), new_id(), tokens["worker"]
    for _ in range(2):
        url = create(client, token, report["id"], len(data), photo_id=pid).headers["Location"]
        assert patch(client, token, url, 0, data).status_code == 204
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photos")).scalar() == 1


def test_every_request_but_options_without_tus_resumable_is_412(client, tokens, report):
    token = tokens["worker"]
    url = create(client, token, report["id"], 10).headers["Location"]
    for method in ("post", "head", "patch", "delete"):
        target = "/api/v1/uploads/" if method == "post" else url
        r = getattr(client, method)(target, headers={**auth(token), "Tus-Resumable": "0.2.2",
                                                     "Upload-Length": "10", "Upload-Offset": "0",
                                                     "Content-Type": OCTETS})
        assert r.status_code == 412, method
        assert r.headers["Tus-Version"] == "1.0.0" and r.headers["Tus-Resumable"] == "1.0.0"
    r = client.head(url, headers=auth(token))
    assert r.status_code == 412
    assert head(client, token, url).headers["Upload-Offset"] == "0"  # nothing was processed


def test_creation_refuses_what_the_put_would(client, tokens, report, settings):
    token = tokens["worker"]
    too_big = create(client, token, report["id"], settings.photo_max_bytes + 1)
    assert (too_big.status_code, too_big.get_json()["code"]) == (413, "photo.too_large")
    gif = create(client, token, report["id"], 100, content_type="image/gif")
    assert (gif.status_code, gif.get_json()["code"]) == (415, "photo.unsupported_type")
    nowhere = create(client, token, new_id(), 100)
    assert (nowhere.status_code, nowhere.get_json()["code"]) == (404, "report.not_found")
    bad_purpose = create(client, token, report["id"], 100, purpose="selfie")
    assert bad_purpose.status_code == 422
    assert "Upload-Metadata.purpose" in bad_purpose.get_json()["fields"]
    half_place = create(client, token, report["id"], 100, exif_lon=116.0)
    assert half_place.status_code == 422


@pytest.mark.parametrize("headers, status, code", [
    ({}, 400, "upload.bad_header"),                                  # no Upload-Length
    ({"Upload-Length": "-5"}, 400, "upload.bad_header"),
    ({"Upload-Length": "0"}, 422, "request.invalid"),
    ({"Upload-Defer-Length": "1"}, 400, "upload.bad_header"),       # not supported
    ({"Upload-Length": "9", "Upload-Metadata": "report_id !!!"}, 400, "upload.bad_header"),
    ({"Upload-Length": "9", "Upload-Metadata": "a b c"}, 400, "upload.bad_header"),
    ({"Upload-Length": "9", "Upload-Metadata": ""}, 422, "request.invalid"),  # no binding
])
def test_creation_with_bad_headers_is_refused(client, tokens, headers, status, code):
    r = client.post("/api/v1/uploads/", headers={**auth(tokens["worker"]), **TUS, **headers})
    assert (r.status_code, r.get_json()["code"]) == (status, code)


def test_requests_without_a_token_are_401(client, tokens, report):
    url = create(client, tokens["worker"], report["id"], 10).headers["Location"]
    assert client.post("/api/v1/uploads/", headers={**TUS, "Upload-Length": "5"}).status_code == 401
    for method in ("head", "patch", "delete"):
        assert getattr(client, method)(url, headers=TUS).status_code == 401


def test_someone_elses_upload_does_not_exist_for_them(client, tokens, report):
    data = make_jpeg()
    url = create(client, tokens["worker"], report["id"], len(data)).headers["Location"]
    for who in ("supervisor", "handler"):
        assert head(client, tokens[who], url).status_code == 404
        r = patch(client, tokens[who], url, 0, data)
        assert (r.status_code, r.get_json()["code"]) == (404, "upload.not_found")
        assert client.delete(url, headers={**auth(tokens[who]), **TUS}).status_code == 404
    assert head(client, tokens["worker"], url).headers["Upload-Offset"] == "0"
    assert head(client, tokens["worker"], f"/api/v1/uploads/{uuid.uuid4()}").status_code == 404


def test_patch_errors(client, tokens, report):
    token, data = tokens["worker"], make_jpeg()
    url = create(client, token, report["id"], len(data)).headers["Location"]
    assert patch(client, token, url, 0, data[:100]).status_code == 204
    wrong = patch(client, token, url, 0, data[:100])
    assert (wrong.status_code, wrong.get_json()["code"]) == (409, "upload.offset_mismatch")
    ahead = patch(client, token, url, 500, data[500:600])
    assert ahead.status_code == 409
    ctype = client.patch(url, data=data[100:200], headers={
        **auth(token), **TUS, "Upload-Offset": "100", "Content-Type": "image/jpeg"})
    assert ctype.status_code == 415
    no_offset = client.patch(url, data=data[100:200],
                             headers={**auth(token), **TUS, "Content-Type": OCTETS})
    assert (no_offset.status_code, no_offset.get_json()["code"]) == (400, "upload.bad_header")
    past_end = patch(client, token, url, 100, data[100:] + b"extra")
    assert (past_end.status_code, past_end.get_json()["code"]) == (413, "upload.too_long")
    assert head(client, token, url).headers["Upload-Offset"] == "100"
    assert client.get(url, headers={**auth(token), **TUS}).status_code == 405


def test_a_finished_upload_that_is_not_an_image_is_refused_and_dropped(client, tokens, report,
                                                                     engine):
    token, junk = tokens["worker"], b"not a jpeg at all" * 10
    url = create(client, token, report["id"], len(junk)).headers["Location"]
    r = patch(client, token, url, 0, junk)
    assert (r.status_code, r.get_json()["code"]) == (422, "photo.not_an_image")
    assert head(client, token, url).status_code == 404
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photos")).scalar() == 0


def test_termination_drops_the_bytes_and_later_requests_are_404(client, tokens, report,
                                                                 runtime):
    token, data = tokens["worker"], make_jpeg()
    url = create(client, token, report["id"], len(data)).headers["Location"]
    assert patch(client, token, url, 0, data[:1000]).status_code == 204
    upload_id = url.rsplit("/", 1)[1]
    part = runtime.partials.root / f"{upload_id}.part"
    assert part.stat().st_size == 1000
    d = client.delete(url, headers={**auth(token), **TUS})
    assert d.status_code == 204 and d.headers["Tus-Resumable"] == "1.0.0"
    assert not part.exists()
    assert head(client, token, url).status_code == 404
    assert patch(client, token, url, 1000, data[1000:]).status_code == 404


def test_method_override_is_the_request_method(client, tokens, report):
    token, data = tokens["worker"], make_jpeg()
    url = create(client, token, report["id"], len(data)).headers["Location"]
    r = client.post(url, data=data, headers={**auth(token), **TUS, "Upload-Offset": "0",
                                             "Content-Type": OCTETS,
                                             "X-HTTP-Method-Override": "PATCH"})
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))
    assert client.post(url, headers={**auth(token), **TUS}).status_code == 405


def test_an_expired_upload_is_410_then_swept_with_its_bytes(client, tokens, report, at,
                                                           followup, runtime, engine):
    token, data = tokens["worker"], make_jpeg()
    url = create(client, token, report["id"], len(data)).headers["Location"]
    assert patch(client, token, url, 0, data[:1000]).status_code == 204
    part = runtime.partials.root / f"{url.rsplit('/', 1)[1]}.part"
    at(clock.now() + timedelta(hours=25))
    gone = patch(client, token, url, 1000, data[1000:])
    assert (gone.status_code, gone.get_json()["code"]) == (410, "upload.gone")
    assert followup.run_task(SWEEP_UPLOADS) == 1
    assert not part.exists() and head(client, token, url).status_code == 404
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photo_uploads")).scalar() == 0


def test_creation_sweeps_expired_uploads(client, tokens, report, at, engine):
    token = tokens["worker"]
    create(client, token, report["id"], 100)
    at(clock.now() + timedelta(hours=25))
    create(client, token, report["id"], 100)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photo_uploads")).scalar() == 1


def test_a_busy_upload_is_423(client, tokens, report, runtime):
    token = tokens["worker"]
    url = create(client, token, report["id"], 100).headers["Location"]
    with runtime.partials.locked(uuid.UUID(url.rsplit("/", 1)[1])):
        r = patch(client, token, url, 0, b"x" * 10)
    assert (r.status_code, r.get_json()["code"]) == (423, "upload.locked")
    assert r.headers["Retry-After"] == "1"


# --- a real server, a real socket cut mid-body ------------------------------------------------

@pytest.fixture()
def server(settings, runtime):
    app = create_app(settings)
    app.extensions["gridsnap"] = runtime
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_port
    srv.shutdown()
    thread.join(5)


class CuttingClient:
    """A tus client on raw sockets that can drop its connection after n bytes of a body."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.body_bytes_sent = 0

    def request(self, method, url, headers=None, body=b""):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, url, body=body, headers={
            "Authorization": f"Bearer {self.token}", **TUS, **(headers or {})})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.body_bytes_sent += len(body)
        return resp

    def patch_cut(self, url, offset, data, cut_after):
        """PATCH the rest of the photo from `offset`, but hang up after `cut_after` bytes."""
        body = data[offset:]
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.sendall((f"PATCH {url} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {self.token}\r\nTus-Resumable: 1.0.0\r\n"
                      f"Content-Type: {OCTETS}\r\nUpload-Offset: {offset}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode())
        sock.sendall(body[:cut_after])
        sock.close()  # the line drops: no response is read
        self.body_bytes_sent += cut_after

    def offset(self, url) -> int:
        return int(self.request("HEAD", url).getheader("Upload-Offset"))


def test_a_photo_cut_five_times_mid_body_arrives_whole_with_little_sent_twice(
        server, tokens, report, engine):
    data = make_jpeg(4000, 3000, quality=92)
    assert len(data) > 2_500_000
    client = CuttingClient(server, tokens["worker"])
    pid = new_id()
    created = client.request("POST", "/api/v1/uploads/", {
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(report_id=report["id"], photo_id=pid,
                                    content_type="image/jpeg")})
    assert created.status == 201
    url = created.getheader("Location")
    offset, cuts = 0, 0
    deadline = time.monotonic() + 60
    while cuts < 5:
        client.patch_cut(url, offset, data, cut_after=len(data) // 6)
        cuts += 1
        # the server keeps what arrived before the cut; ask where to resume (HEAD) once it has
        # written the cut request down (a client that asks earlier gets 423, then 409, then
        # the new offset: tus-js-client's retries)
        previous = offset
        while offset == previous:
            assert time.monotonic() < deadline
            offset = client.offset(url)
    final = client.request("PATCH", url, {"Upload-Offset": str(offset), "Content-Type": OCTETS},
                           data[offset:])
    assert final.status == 204 and final.getheader("Upload-Offset") == str(len(data))
    with engine.connect() as conn:
        sha = conn.execute(text("SELECT sha256 FROM photos WHERE id = :id"), {"id": pid}).scalar()
    assert sha == hashlib.sha256(data).hexdigest()
    sent_twice = client.body_bytes_sent - len(data)
    assert offset == 5 * (len(data) // 6)  # every byte that reached the server was kept
    assert 0 <= sent_twice < 0.10 * len(data), (client.body_bytes_sent, len(data))


# --- what one user may hold open, and how long ----------------------------------------------

def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_open_uploads_and_reserved_bytes_per_user_are_capped(client, tokens, report, settings,
                                                            engine, demo_cell):
    token = tokens["worker"]
    for _ in range(settings.upload_max_open):
        other = new_id()  # a report each, so the report's own cap is not what stops them
        assert client.put(f"/api/v1/reports/{other}", json=report_body(demo_cell),
                          headers=auth(token)).status_code == 201
        assert create(client, token, other, 10).status_code == 201
    r = create(client, token, report["id"], 10)
    assert (r.status_code, r.get_json()["code"]) == (429, "upload.quota_exceeded")
    assert _count(engine, "photo_uploads") == settings.upload_max_open
    # another user is not held up by them
    r = client.put(f"/api/v1/reports/{new_id()}", json=report_body(demo_cell),
                   headers=auth(tokens["supervisor"]))
    assert create(client, tokens["supervisor"], r.get_json()["id"], 10).status_code == 201
    # bytes: a few large reservations reach the byte cap before the count
    token = tokens["worker2"]
    rid = new_id()
    cell2 = {"lon": demo_cell["lon"], "lat": demo_cell["lat"]}
    r = client.put(f"/api/v1/reports/{rid}", json=report_body(cell2), headers=auth(token))
    assert r.status_code == 201
    big = settings.photo_max_bytes
    made = 0
    while (made + 1) * big <= settings.upload_max_reserved_bytes:
        assert create(client, token, rid, big).status_code == 201
        made += 1
    r = create(client, token, rid, big)
    assert (r.status_code, r.get_json()["code"]) == (429, "upload.quota_exceeded")


def test_a_report_takes_a_limited_number_of_photos(client, tokens, report, runtime,
                                                   monkeypatch):
    import dataclasses

    monkeypatch.setattr(runtime, "settings",
                        dataclasses.replace(runtime.settings, photo_max_per_report=2))
    token = tokens["worker"]
    r = client.put(f"/api/v1/reports/{report['id']}/photos/{new_id()}", data=make_jpeg(seed=1),
                   content_type="image/jpeg", headers=auth(token))
    assert r.status_code == 201
    assert create(client, token, report["id"], 100).status_code == 201  # the second, open
    r = client.put(f"/api/v1/reports/{report['id']}/photos/{new_id()}", data=make_jpeg(seed=2),
                   content_type="image/jpeg", headers=auth(token))
    assert (r.status_code, r.get_json()["code"]) == (409, "photo.too_many")
    r = create(client, token, report["id"], 100)
    assert (r.status_code, r.get_json()["code"]) == (409, "photo.too_many")


def test_an_upload_expires_by_its_creation_time_however_often_it_is_advanced(
        client, tokens, report, at, settings):
    token, data = tokens["worker"], make_jpeg()
    url = create(client, token, report["id"], len(data)).headers["Location"]
    start = clock.now()
    offset = 0
    # a byte every 20 hours renews the idle expiry each time, but not past the maximum age
    while clock.now() + timedelta(hours=20) < start + timedelta(hours=settings.upload_max_age_hours):
        at(clock.now() + timedelta(hours=20))
        assert patch(client, token, url, offset, data[offset:offset + 1]).status_code == 204
        offset += 1
    at(start + timedelta(hours=settings.upload_max_age_hours, seconds=1))
    gone = patch(client, token, url, offset, data[offset:offset + 1])
    assert (gone.status_code, gone.get_json()["code"]) == (410, "upload.gone")
