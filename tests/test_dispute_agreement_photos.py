"""矛盾纠纷: a photo of the signed agreement (人民调解协议书) on a dispute — sent under the
phone's id once it is agreed, checked like a case photo, its EXIF-free sizes made, listed on the
dispute and on its trail, served only to those who see the dispute; a resend stores nothing
twice, a refusal leaves nothing. Runs with both photo stores (S3_TESTS)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import text

from gridsnap.events import rules as ev
from test_disputes import _put, _user, dispute_body

from conftest import auth, new_id
from photo_samples import TIANANMEN, make_bomb_png, make_jpeg, make_png

OTHER_STREET = "110101006"


def put_photo(client, token, did, pid, data, content_type="image/jpeg", **kw):
    return client.put(f"/api/v1/disputes/{did}/agreement-photos/{pid}", data=data,
                      content_type=content_type, headers=auth(token), **kw)


@pytest.fixture()
def agreed(client, tokens, demo_cell) -> str:
    """A dispute the worker reported, accepted and agreed by the community's mediator."""
    did = _put(client, tokens["worker"], dispute_body(demo_cell)).get_json()["id"]
    h = auth(tokens["mediator"])
    assert client.post(f"/api/v1/disputes/{did}/steps", json={"step": "accept"},
                       headers=h).status_code == 200
    r = client.post(f"/api/v1/disputes/{did}/steps",
                    json={"step": "agree", "agreement": "楼上修好水管，赔偿三百元"}, headers=h)
    assert r.status_code == 200, r.get_json()
    return did


def _counts(engine, did) -> tuple[int, int]:
    with engine.connect() as conn:
        photos = conn.execute(text("SELECT count(*) FROM dispute_photos")).scalar()
        lines = conn.execute(text("SELECT count(*) FROM dispute_steps WHERE dispute_id = :d "
                                  "AND action = :a"),
                             {"d": did, "a": ev.DISPUTE_AGREEMENT_PHOTO_ADDED}).scalar()
    return photos, lines


def _stored_keys(runtime) -> set[str]:
    return set(runtime.storage.iter_keys())


def test_the_agreement_photo_is_stored_listed_on_the_dispute_and_on_its_trail(
        client, tokens, agreed, engine):
    pid, data = new_id(), make_jpeg(2400, 1800, gps=TIANANMEN)
    r = put_photo(client, tokens["mediator"], agreed, pid, data)
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()
    assert photo["id"] == pid and (photo["width"], photo["height"]) == (2400, 1800)
    assert photo["size_bytes"] == len(data) and photo["content_type"] == "image/jpeg"
    assert set(photo["urls"]) == {"thumb", "display", "original"}  # the uploader's own

    d = client.get(f"/api/v1/disputes/{agreed}", headers=auth(tokens["mediator"])).get_json()
    assert [p["id"] for p in d["agreement_photos"]] == [pid]
    [line] = [s for s in d["steps"] if s["action"] == ev.DISPUTE_AGREEMENT_PHOTO_ADDED]
    assert line["data"]["photo_id"] == pid and line["to_status"] == "agreed"
    listed = client.get("/api/v1/disputes?steps=true", headers=auth(tokens["mediator"]))
    assert [p["id"] for p in listed.get_json()[0]["agreement_photos"]] == [pid]

    # the display size: a JPEG with no metadata at all, bounded; private, with its ETag
    shown = client.get(photo["urls"]["display"], headers=auth(tokens["mediator"]))
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.headers["Cache-Control"].startswith("private")
    im = Image.open(io.BytesIO(shown.data))
    assert max(im.size) == 1600 and not im.info.get("exif") and not im.getexif()
    again = client.get(photo["urls"]["display"], headers={
        **auth(tokens["mediator"]), "If-None-Match": shown.headers["ETag"]})
    assert again.status_code == 304
    thumb = client.get(photo["urls"]["thumb"], headers=auth(tokens["mediator"]))
    assert max(Image.open(io.BytesIO(thumb.data)).size) == 320
    original = client.get(photo["urls"]["original"], headers=auth(tokens["mediator"]))
    assert original.status_code == 200 and original.data == data
    assert original.headers["Content-Disposition"].startswith("attachment")


def test_a_resend_stores_nothing_twice_and_other_bytes_under_its_id_are_409(
        client, tokens, agreed, engine, runtime):
    pid, data = new_id(), make_jpeg(800, 600)
    first = put_photo(client, tokens["mediator"], agreed, pid, data)
    keys = _stored_keys(runtime)
    again = put_photo(client, tokens["mediator"], agreed, pid, data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["sha256"] == first.get_json()["sha256"]
    assert _counts(engine, agreed) == (1, 1) and _stored_keys(runtime) == keys
    other = put_photo(client, tokens["mediator"], agreed, pid, make_jpeg(800, 600, seed=3))
    assert other.status_code == 409 and other.get_json()["code"] == "photo.id_conflict"
    assert _counts(engine, agreed) == (1, 1) and _stored_keys(runtime) == keys


@pytest.mark.parametrize("case", ["gif_type", "png_as_jpeg", "truncated", "pixels", "too_large"])
def test_a_refused_photo_names_its_code_and_leaves_nothing(client, tokens, agreed, engine,
                                                          runtime, case):
    whole = make_jpeg(1200, 900)
    data, ctype, status, code = {
        "gif_type": (b"GIF89a" + b"\0" * 64, "image/gif", 415, "photo.unsupported_type"),
        "png_as_jpeg": (make_png(), "image/jpeg", 422, "photo.not_an_image"),
        "truncated": (whole[: len(whole) * 2 // 3], "image/jpeg", 422, "photo.not_an_image"),
        "pixels": (make_bomb_png(20_000, 20_000), "image/png", 422, "photo.too_many_pixels"),
        "too_large": (b"\xff\xd8" + b"\0" * (runtime.settings.photo_max_bytes + 10),
                      "image/jpeg", 413, "photo.too_large"),
    }[case]
    keys = _stored_keys(runtime)
    r = put_photo(client, tokens["mediator"], agreed, new_id(), data, ctype)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["code"] == code and r.get_json()["message"]
    assert _counts(engine, agreed) == (0, 0)
    assert _stored_keys(runtime) == keys


def test_before_the_agreement_a_photo_is_409_not_agreed(client, tokens, demo_cell, engine):
    did = _put(client, tokens["worker"], dispute_body(demo_cell)).get_json()["id"]
    r = put_photo(client, tokens["mediator"], did, new_id(), make_jpeg())
    assert r.status_code == 409 and r.get_json()["code"] == "dispute.not_agreed"
    assert _counts(engine, did) == (0, 0)


def test_who_may_add_and_see_an_agreement_photo(client, tokens, agreed, engine):
    stranger = _user(client, engine, "med_elsewhere", "mediator", [OTHER_STREET])
    pid = new_id()
    # the reporter sees the dispute but does not work it; a stranger does not know it exists
    r = put_photo(client, tokens["worker"], agreed, pid, make_jpeg())
    assert r.status_code == 403 and r.get_json()["code"] == "auth.forbidden"
    r = put_photo(client, stranger, agreed, pid, make_jpeg())
    assert r.status_code == 404 and r.get_json()["code"] == "dispute.not_found"
    assert _counts(engine, agreed) == (0, 0)
    assert put_photo(client, tokens["mediator"], agreed, pid, make_jpeg()).status_code == 201
    url = f"/api/v1/disputes/{agreed}/agreement-photos/{pid}"
    # the reporter sees the parties masked, so not the signed paper that names them in full
    mine = client.get(f"/api/v1/disputes/{agreed}", headers=auth(tokens["worker"])).get_json()
    assert mine["agreement_photos"] == []
    for size in ("thumb", "display", "original"):
        r = client.get(f"{url}?size={size}", headers=auth(tokens["worker"]))
        assert r.status_code == 404 and r.get_json()["code"] == "photo.not_found"
    # the mediator who took it sees every size
    theirs = client.get(f"/api/v1/disputes/{agreed}",
                        headers=auth(tokens["mediator"])).get_json()
    assert set(theirs["agreement_photos"][0]["urls"]) >= {"thumb", "display"}
    assert client.get(url, headers=auth(tokens["mediator"])).status_code == 200
    # the 综治 office of the street gets the original too
    assert client.get(f"{url}?size=original",
                      headers=auth(tokens["supervisor"])).status_code == 200
    for who in (stranger, tokens["worker2"], tokens["handler"]):
        r = client.get(url, headers=auth(who))
        assert r.status_code == 404 and r.get_json()["code"] == "dispute.not_found"
    # a photo id of another dispute is not this dispute's
    other = _put(client, tokens["worker"], dispute_body(
        {"lon": mine["location"]["lon"], "lat": mine["location"]["lat"]})).get_json()["id"]
    r = client.get(f"/api/v1/disputes/{other}/agreement-photos/{pid}",
                   headers=auth(tokens["mediator"]))
    assert r.status_code == 404 and r.get_json()["code"] == "photo.not_found"
