"""Photos: upload by the client's photo id, validation at the door, processing, serving."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import text

from conftest import auth, new_id, report_body
from evaluation_samples import add_user
from followup import drain
from photo_samples import TIANANMEN, make_bomb_png, make_gif, make_jpeg, make_png

CST = timezone(timedelta(hours=8))


def put_photo(client, token, rid, pid, data, content_type="image/jpeg"):
    return client.put(f"/api/v1/reports/{rid}/photos/{pid}", data=data,
                      content_type=content_type, headers=auth(token))


@pytest.fixture()
def report(client, tokens, demo_cell):
    rid = new_id()
    r = client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                   headers=auth(tokens["worker"]))
    assert r.status_code == 201
    return r.get_json()


def test_photo_upload_is_201_and_a_replay_is_200(client, tokens, report, engine):
    pid, data = new_id(), make_jpeg(800, 600)
    first = put_photo(client, tokens["worker"], report["id"], pid, data)
    again = put_photo(client, tokens["worker"], report["id"], pid, data)
    assert (first.status_code, again.status_code) == (201, 200)
    j = first.get_json()
    assert j["id"] == pid and (j["width"], j["height"]) == (800, 600)
    assert j["size_bytes"] == len(data) and j["processed"] is False
    assert again.get_json()["sha256"] == j["sha256"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photos")).scalar() == 1
        topics = conn.execute(text("SELECT topic FROM outbox ORDER BY id")).scalars().all()
    assert topics == ["report.submitted", "photo.uploaded"]


def test_a_photo_arriving_brings_its_case_into_the_delta_sync_without_a_new_version(
        client, tokens, report):
    token = tokens["worker"]
    before = client.get(f"/api/v1/cases/{report['id']}", headers=auth(token))
    since = before.get_json()["updated_at"]
    delta = {"updated_since": since}
    assert client.get("/api/v1/cases", query_string=delta, headers=auth(token)).get_json() == []
    pid, data = new_id(), make_jpeg(640, 480)
    assert put_photo(client, token, report["id"], pid, data).status_code == 201
    seen = client.get("/api/v1/cases", query_string=delta, headers=auth(token)).get_json()
    assert [c["id"] for c in seen] == [report["id"]]
    assert datetime.fromisoformat(seen[0]["updated_at"]) > datetime.fromisoformat(since)
    assert [p["id"] for p in seen[0]["photos"]] == [pid]
    after = client.get(f"/api/v1/cases/{report['id']}", headers=auth(token))
    assert after.headers["ETag"] == before.headers["ETag"]  # a photo is not a new version
    # a replay changes nothing: the case stays where the first arrival put it
    delta = {"updated_since": seen[0]["updated_at"]}
    assert put_photo(client, token, report["id"], pid, data).status_code == 200
    assert client.get("/api/v1/cases", query_string=delta, headers=auth(token)).get_json() == []


def test_same_photo_id_with_other_bytes_is_409(client, tokens, report):
    pid = new_id()
    assert put_photo(client, tokens["worker"], report["id"], pid, make_jpeg(640, 480)).status_code == 201
    r = put_photo(client, tokens["worker"], report["id"], pid, make_jpeg(640, 480, seed=7))
    assert r.status_code == 409 and r.get_json()["code"] == "photo.id_conflict"


def test_photo_before_its_report_is_404_report_not_found(client, tokens):
    r = put_photo(client, tokens["worker"], new_id(), new_id(), make_jpeg())
    assert r.status_code == 404 and r.get_json()["code"] == "report.not_found"


def test_photo_too_large_is_413(app, client, tokens, report, monkeypatch):
    from dataclasses import replace

    rt = app.extensions["gridsnap"]
    monkeypatch.setattr(rt, "settings", replace(rt.settings, photo_max_bytes=10_000))
    r = put_photo(client, tokens["worker"], report["id"], new_id(), make_jpeg(640, 480))
    assert r.status_code == 413 and r.get_json()["code"] == "photo.too_large"


def test_body_over_the_request_limit_is_413_json(client, tokens, report):
    big = b"\xff\xd8" + b"\0" * (16 * 1024 * 1024)
    r = put_photo(client, tokens["worker"], report["id"], new_id(), big)
    assert r.status_code == 413 and r.is_json


@pytest.mark.parametrize(("data", "ctype", "status", "code"), [
    (b"hello, not an image", "image/jpeg", 422, "photo.not_an_image"),
    (make_jpeg(640, 480)[: len(make_jpeg(640, 480)) // 2], "image/jpeg", 422,
     "photo.not_an_image"),
    (make_png(64, 48), "image/jpeg", 422, "photo.not_an_image"),
    (make_gif(), "image/gif", 415, "photo.unsupported_type"),
    (make_jpeg(64, 48), "text/plain", 415, "photo.unsupported_type"),
    (make_bomb_png(20000, 20000), "image/png", 422, "photo.too_many_pixels"),
], ids=["text", "truncated-jpeg", "png-declared-jpeg", "gif", "wrong-content-type",
        "20000x20000-png"])
def test_bad_photos_are_refused_and_nothing_is_saved(client, tokens, report, engine, data,
                                                     ctype, status, code):
    r = put_photo(client, tokens["worker"], report["id"], new_id(), data, ctype)
    assert r.status_code == status
    assert r.get_json()["code"] == code
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photos")).scalar() == 0


def test_photo_pipeline_reads_exif_and_makes_sizes_without_metadata(
        client, tokens, runtime, engine):
    lat, lon = TIANANMEN
    rid = new_id()
    body = report_body({"lon": lon + 0.0005, "lat": lat})  # ~43 m east of the EXIF position
    assert client.put(f"/api/v1/reports/{rid}", json=body,
                      headers=auth(tokens["worker"])).status_code == 201
    taken = datetime(2026, 11, 23, 9, 15, tzinfo=CST)
    data = make_jpeg(4000, 3000, gps=TIANANMEN, taken_at=taken, orientation=6)
    pid = new_id()
    assert put_photo(client, tokens["worker"], rid, pid, data).status_code == 201
    not_yet = client.get(f"/api/v1/photos/{pid}?size=thumb", headers=auth(tokens["worker"]))
    assert not_yet.status_code == 409 and not_yet.get_json()["code"] == "photo.not_ready"

    assert drain(runtime) == 2  # report.submitted and photo.uploaded

    detail = client.get(f"/api/v1/reports/{rid}", headers=auth(tokens["worker"])).get_json()
    photo = detail["photos"][0]
    assert photo["processed"] is True
    assert datetime.fromisoformat(photo["exif_taken_at"]) == taken
    assert photo["exif_location"]["lat"] == pytest.approx(lat, abs=1e-5)
    assert 38 < photo["exif_distance_m"] < 48
    assert photo["exif_source"] == "file"  # read from the bytes
    thumb = client.get(photo["urls"]["thumb"], headers=auth(tokens["worker"]))
    display = client.get(photo["urls"]["display"], headers=auth(tokens["worker"]))
    original = client.get(photo["urls"]["original"], headers=auth(tokens["worker"]))
    assert thumb.status_code == display.status_code == original.status_code == 200
    assert original.data == data
    for resp, long_side in ((thumb, 320), (display, 1600)):
        im = Image.open(io.BytesIO(resp.data))
        assert im.format == "JPEG" and max(im.size) == long_side
        assert im.size[1] > im.size[0]  # orientation 6 applied: portrait
        assert not im.getexif()  # no EXIF, so no GPS leaves with a derivative
        assert resp.headers["Cache-Control"].startswith("private")
    again = client.get(photo["urls"]["thumb"], headers={
        **auth(tokens["worker"]), "If-None-Match": thumb.headers["ETag"]})
    assert again.status_code == 304
    with engine.connect() as conn:
        actions = conn.execute(text(
            "SELECT action FROM case_events WHERE report_id = :r ORDER BY id"), {"r": rid}
        ).scalars().all()
    assert actions == ["report.submitted", "photo.added", "report.routed", "photo.processed"]


def test_exif_source_says_whether_the_bytes_or_the_phone_gave_the_evidence(
        client, tokens, runtime, report):
    """A photo without EXIF of its own: 'device' when the phone sent its values, None when no
    one had any; the bytes' own EXIF wins over the phone's (the 'file' case above)."""
    sent, bare, both = new_id(), new_id(), new_id()
    lat, lon = TIANANMEN
    taken = datetime(2026, 11, 23, 9, 15, tzinfo=CST)
    q = f"?exif_taken_at={taken.isoformat().replace('+', '%2B')}&exif_lon={lon}&exif_lat={lat}"
    for pid, data, query in ((sent, make_jpeg(seed=1), q), (bare, make_jpeg(seed=2), ""),
                             (both, make_jpeg(seed=3, taken_at=taken + timedelta(hours=1)), q)):
        r = client.put(f"/api/v1/reports/{report['id']}/photos/{pid}{query}", data=data,
                       content_type="image/jpeg", headers=auth(tokens["worker"]))
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["exif_source"] is None  # not read yet
    drain(runtime)
    detail = client.get(f"/api/v1/reports/{report['id']}", headers=auth(tokens["worker"]))
    photos = {p["id"]: p for p in detail.get_json()["photos"]}
    assert photos[sent]["exif_source"] == "device"
    assert datetime.fromisoformat(photos[sent]["exif_taken_at"]) == taken
    assert photos[bare]["exif_source"] is None and photos[bare]["exif_taken_at"] is None
    assert photos[both]["exif_source"] == "file"
    assert datetime.fromisoformat(photos[both]["exif_taken_at"]) == taken + timedelta(hours=1)


def test_photos_are_served_only_to_those_who_may_see_the_report(client, tokens, report):
    pid = new_id()
    put_photo(client, tokens["worker"], report["id"], pid, make_jpeg())
    url = f"/api/v1/photos/{pid}?size=original"
    assert client.get(url, headers=auth(tokens["supervisor"])).status_code == 200
    other = client.get(url, headers=auth(tokens["worker2"]))
    missing = client.get(f"/api/v1/photos/{uuid.uuid4()}?size=original",
                         headers=auth(tokens["worker2"]))
    assert other.status_code == missing.status_code == 404
    assert other.get_json() == {"code": "photo.not_found",
                                "message": other.get_json()["message"]}
    assert client.get(url).status_code == 401
    # a worker elsewhere cannot attach photos to this report either
    r = put_photo(client, tokens["worker2"], report["id"], new_id(), make_jpeg())
    assert r.status_code == 404 and r.get_json()["code"] == "report.not_found"


def test_png_and_webp_are_accepted(client, tokens, report):
    from photo_samples import make_webp

    assert put_photo(client, tokens["worker"], report["id"], new_id(), make_png(), "image/png"
                     ).status_code == 201
    assert put_photo(client, tokens["worker"], report["id"], new_id(), make_webp(),
                     "image/webp").status_code == 201


def test_originals_go_only_to_the_uploader_admins_and_the_area_supervisors(
        client, tokens, report, runtime, runtime_users):
    rid, pid = report["id"], new_id()
    assert put_photo(client, tokens["worker"], rid, pid, make_jpeg()).status_code == 201
    drain(runtime)
    act = client.post(f"/api/v1/cases/{rid}/actions", json={"action": "accept"},
                      headers=auth(tokens["supervisor"]))
    assert act.status_code == 200
    act = client.post(f"/api/v1/cases/{rid}/actions",
                      json={"action": "dispatch", "department": "sanitation"},
                      headers=auth(tokens["supervisor"]))
    assert act.status_code == 200, act.get_json()
    original, display = f"/api/v1/photos/{pid}?size=original", f"/api/v1/photos/{pid}"
    for token in (tokens["worker"], tokens["supervisor"], tokens["admin"]):
        assert _listed_urls(client, token, rid, pid) == {"thumb", "display", "original"}
        r = client.get(original, headers=auth(token))
        assert r.status_code == 200
        assert r.headers["Content-Disposition"].startswith("attachment")
    # the department's handler and another worker of the community see the case, not the EXIF:
    # the original is neither listed for them nor served
    for token in (tokens["handler"], runtime_users):
        assert _listed_urls(client, token, rid, pid) == {"thumb", "display"}
        assert client.get(display, headers=auth(token)).status_code == 200
        r = client.get(original, headers=auth(token))
        assert r.status_code == 404 and r.get_json()["code"] == "photo.not_found"


def _listed_urls(client, token, rid, pid) -> set[str]:
    """The sizes of photo `pid` that the case (and the list of cases) offers to `token`."""
    case = client.get(f"/api/v1/cases/{rid}", headers=auth(token))
    assert case.status_code == 200, case.get_json()
    photos = {p["id"]: p for p in case.get_json()["photos"]}
    listed = client.get("/api/v1/cases", headers=auth(token)).get_json()
    in_list = next(c for c in listed if c["id"] == rid)
    assert {p["id"]: p["urls"] for p in in_list["photos"]}[pid] == photos[pid]["urls"]
    return set(photos[pid]["urls"])


def test_the_uploader_is_offered_the_original_on_upload_and_replay(client, tokens, report):
    pid, data = new_id(), make_jpeg()
    first = put_photo(client, tokens["worker"], report["id"], pid, data)
    again = put_photo(client, tokens["worker"], report["id"], pid, data)
    assert set(first.get_json()["urls"]) == set(again.get_json()["urls"]) == {
        "thumb", "display", "original"}


@pytest.fixture()
def runtime_users(runtime, client, demo_cell) -> str:
    """A token of a second worker of the demo worker's community."""
    return add_user(runtime, client, "neighbour_worker", "worker", [demo_cell["code"][:12]])
