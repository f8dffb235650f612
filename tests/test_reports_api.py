"""Report intake over HTTP: idempotent PUT, the cell it lands in, bad input, scope."""

from __future__ import annotations

import math
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text

from conftest import auth, new_id, report_body


def put(client, token, rid, body):
    return client.put(f"/api/v1/reports/{rid}", json=body, headers=auth(token))


def test_new_report_is_201_with_its_cell_and_area_chain(client, tokens, demo_cell, at):
    rid = new_id()
    sent = report_body(demo_cell, captured_at="2026-11-23T17:30:00+08:00")
    at(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    r = put(client, tokens["worker"], rid, sent)
    assert r.status_code == 201
    body = r.get_json()
    assert body["id"] == rid
    assert body["status"] == "reported"
    assert body["outside_grid"] is False
    assert body["cell"]["code"] == demo_cell["code"]
    assert body["community"]["code"] == demo_cell["code"][:12]
    assert body["street"]["code"] == demo_cell["code"][:9]
    assert body["district"] == {"code": "110101", "name": "东城区",
                                "name_en": body["district"]["name_en"]}
    assert body["captured_at"] == "2026-11-23T09:30:00+00:00"
    assert body["received_at"] is not None and body["number"] >= 1


def test_resubmit_returns_same_case_when_body_is_identical(client, tokens, demo_cell, engine):
    rid = new_id()
    first = put(client, tokens["worker"], rid, report_body(demo_cell))
    again = put(client, tokens["worker"], rid, report_body(demo_cell))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM case_events")).scalar() == 1


def test_same_instant_in_another_offset_is_an_identical_replay(client, tokens, demo_cell):
    rid = new_id()
    body = report_body(demo_cell)
    assert put(client, tokens["worker"], rid, body).status_code == 201
    in_utc = datetime.fromisoformat(body["captured_at"])
    shifted = report_body(demo_cell, captured_at=in_utc.astimezone(
        timezone(timedelta(hours=8))).isoformat())
    assert shifted["captured_at"] != body["captured_at"]
    assert put(client, tokens["worker"], rid, shifted).status_code == 200


def test_same_id_with_different_content_is_409_id_conflict(client, tokens, demo_cell, engine):
    rid = new_id()
    assert put(client, tokens["worker"], rid, report_body(demo_cell)).status_code == 201
    r = put(client, tokens["worker"], rid, report_body(demo_cell, description="另一件事"))
    assert r.status_code == 409
    assert r.get_json()["code"] == "report.id_conflict"
    with engine.connect() as conn:
        desc = conn.execute(text("SELECT description FROM reports")).scalar()
    assert desc == "垃圾堆放在路边"


def test_same_id_from_another_user_is_a_conflict(client, tokens, demo_cell):
    rid = new_id()
    assert put(client, tokens["worker"], rid, report_body(demo_cell)).status_code == 201
    r = put(client, tokens["supervisor"], rid, report_body(demo_cell))
    assert r.status_code == 409


def test_twenty_concurrent_identical_puts_make_one_case(app, tokens, demo_cell, engine):
    rid = new_id()
    body = report_body(demo_cell)
    statuses: list[int] = []
    numbers: set[int] = set()
    barrier = threading.Barrier(20)

    def send():
        c = app.test_client()
        barrier.wait()
        r = put(c, tokens["worker"], rid, body)
        statuses.append(r.status_code)
        numbers.add(r.get_json()["number"])

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 19 + [201]
    assert len(numbers) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1


def test_latitude_91_is_rejected_naming_the_field(client, tokens, demo_cell, engine):
    body = report_body(demo_cell)
    body["location"]["lat"] = 91
    r = put(client, tokens["worker"], new_id(), body)
    assert r.status_code == 422
    j = r.get_json()
    assert j["code"] == "request.invalid"
    assert list(j["fields"]) == ["location.lat"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 0


def test_nan_coordinates_are_rejected(client, tokens, demo_cell):
    raw = ('{"category": "E0101", "location": {"lon": NaN, "lat": 39.9}, '
           '"captured_at": "2026-11-23T10:00:00+08:00"}')
    r = client.put(f"/api/v1/reports/{new_id()}", data=raw, content_type="application/json",
                   headers=auth(tokens["worker"]))
    assert r.status_code == 422
    assert "location.lon" in r.get_json()["fields"]


def test_missing_fields_are_each_named(client, tokens):
    r = put(client, tokens["worker"], new_id(), {"description": "no location"})
    assert r.status_code == 422
    assert set(r.get_json()["fields"]) == {"category", "location", "captured_at"}


def test_captured_at_without_offset_is_rejected(client, tokens, demo_cell):
    r = put(client, tokens["worker"], new_id(),
            report_body(demo_cell, captured_at="2026-11-23T10:00:00"))
    assert r.status_code == 422
    assert "captured_at" in r.get_json()["fields"]


def test_unknown_category_is_422_and_saves_nothing(client, tokens, demo_cell, engine):
    r = put(client, tokens["worker"], new_id(), report_body(demo_cell, category="E9999"))
    assert r.status_code == 422
    assert r.get_json()["code"] == "report.unknown_category"
    assert "category" in r.get_json()["fields"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0


def test_a_description_over_2000_characters_is_422_naming_it(client, tokens, demo_cell):
    r = put(client, tokens["worker"], new_id(), report_body(demo_cell, description="垃" * 2001))
    assert r.status_code == 422
    assert "description" in r.get_json()["fields"]


def test_a_one_megabyte_description_is_refused_unread(client, tokens, demo_cell):
    r = put(client, tokens["worker"], new_id(), report_body(demo_cell, description="垃" * 1_000_000))
    assert r.status_code == 413 and r.get_json()["code"] == "request.too_large"


def test_malformed_json_is_a_json_error(client, tokens):
    r = client.put(f"/api/v1/reports/{new_id()}", data="{not json",
                   content_type="application/json", headers=auth(tokens["worker"]))
    assert r.status_code == 400 and r.get_json()["code"] == "request.malformed_json"


def test_not_a_uuid_in_the_path_is_404_json(client, tokens, demo_cell):
    r = put(client, tokens["worker"], "not-a-uuid", report_body(demo_cell))
    assert r.status_code == 404 and r.get_json()["code"] == "request.not_found"


def test_report_outside_every_cell_is_accepted_with_no_cell(client, tokens):
    body = report_body({"lon": 121.47, "lat": 31.23})  # Shanghai: no area of ours
    r = put(client, tokens["worker"], new_id(), body)
    assert r.status_code == 201
    j = r.get_json()
    assert j["outside_grid"] is True
    assert j["cell"] is None and j["district"] is None and j["area_code"] is None


def test_get_report_shows_it_to_reporter_and_supervisor_but_not_other_worker(
        client, tokens, demo_cell):
    rid = new_id()
    put(client, tokens["worker"], rid, report_body(demo_cell))
    for persona in ("worker", "supervisor", "admin"):
        r = client.get(f"/api/v1/reports/{rid}", headers=auth(tokens[persona]))
        assert r.status_code == 200, persona
        assert r.get_json()["photos"] == []
    # another community's worker: answered exactly as a report that does not exist
    r = client.get(f"/api/v1/reports/{rid}", headers=auth(tokens["worker2"]))
    missing = client.get(f"/api/v1/reports/{uuid.uuid4()}", headers=auth(tokens["worker2"]))
    assert r.status_code == missing.status_code == 404
    assert r.get_json()["code"] == missing.get_json()["code"] == "report.not_found"


def test_list_filters_and_scope(client, tokens, demo_cell):
    ids = [new_id() for _ in range(3)]
    for i, rid in enumerate(ids):
        put(client, tokens["worker"], rid,
            report_body(demo_cell, category="E0101" if i < 2 else "C0101"))
    r = client.get("/api/v1/reports", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200 and len(r.get_json()) == 3
    assert '"total": 3' in r.headers["X-Pagination"]
    r = client.get("/api/v1/reports?category=C0101", headers=auth(tokens["supervisor"]))
    assert [x["id"] for x in r.get_json()] == [ids[2]]
    lon, lat = demo_cell["lon"], demo_cell["lat"]
    r = client.get(f"/api/v1/reports?bbox={lon - .001},{lat - .001},{lon + .001},{lat + .001}",
                   headers=auth(tokens["supervisor"]))
    assert len(r.get_json()) == 3
    r = client.get(f"/api/v1/reports?bbox={lon + .01},{lat},{lon + .02},{lat + .01}",
                   headers=auth(tokens["supervisor"]))
    assert r.get_json() == []
    r = client.get(f"/api/v1/reports?cell={demo_cell['code']}", headers=auth(tokens["admin"]))
    assert len(r.get_json()) == 3
    assert client.get("/api/v1/reports", headers=auth(tokens["worker2"])).get_json() == []
    r = client.get("/api/v1/reports?bbox=1,2,3", headers=auth(tokens["supervisor"]))
    assert r.status_code == 422 and "bbox" in r.get_json()["fields"]


def test_updated_since_returns_only_later_changes(client, tokens, demo_cell):
    first = new_id()
    put(client, tokens["worker"], first, report_body(demo_cell))
    since = client.get(f"/api/v1/reports/{first}",
                       headers=auth(tokens["worker"])).get_json()["updated_at"]
    second = new_id()
    put(client, tokens["worker"], second, report_body(demo_cell))
    r = client.get("/api/v1/reports", query_string={"updated_since": since},
                   headers=auth(tokens["worker"]))
    assert [x["id"] for x in r.get_json()] == [second]


def test_location_is_stored_as_sent(client, tokens, demo_cell, engine):
    rid = new_id()
    put(client, tokens["worker"], rid, report_body(demo_cell))
    with engine.connect() as conn:
        lon, lat = conn.execute(text("SELECT ST_X(location), ST_Y(location) FROM reports")).one()
    assert math.isclose(lon, demo_cell["lon"], abs_tol=1e-9)
    assert math.isclose(lat, demo_cell["lat"], abs_tol=1e-9)
