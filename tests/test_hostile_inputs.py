"""Hostile inputs get a clear 4xx with a stable code naming the field, never a 500, and leave
nothing saved (invariant 5). The inputs an outside test found, and more of the same kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from gridsnap.edge import MAX_JSON_BYTES, load_json_body
from gridsnap.errors import AppError

from conftest import PERSONAS, auth, new_id, report_body

NUL = "\u0000"
SURROGATE = "\ud800"


def _raw_json(client, method, url, token, raw: str):
    return client.open(url, method=method, data=raw.encode("utf-8", "surrogatepass"),
                       content_type="application/json", headers=auth(token))


def _dumps(body) -> str:
    # json.dumps writes a lone surrogate as the escape \ud800, as a client would send it
    return json.dumps(body)


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


@pytest.mark.parametrize("bad", [NUL, SURROGATE, "\u0007", "\u001b[31m", "\u0085", "\u202e",
                                 "\u2067"])
@pytest.mark.parametrize("field", ["description", "address", "category"])
def test_report_text_with_a_forbidden_character_is_422_naming_the_field(
        client, tokens, demo_cell, engine, field, bad):
    body = report_body(demo_cell, **{field: f"垃圾{bad}堆放"[:8 if field == "category" else 99]})
    r = _raw_json(client, "PUT", f"/api/v1/reports/{new_id()}", tokens["worker"], _dumps(body))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.get_json()["code"] == "request.invalid_text"
    assert list(r.get_json()["fields"]) == [field]
    assert _count(engine, "reports") == 0


def test_tab_and_newlines_are_fine_in_text(client, tokens, demo_cell):
    body = report_body(demo_cell, description="第一行\n第二行\r\n\t缩进")
    r = client.put(f"/api/v1/reports/{new_id()}", json=body, headers=auth(tokens["worker"]))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["description"] == "第一行\n第二行\r\n\t缩进"


def test_a_nested_field_is_named_by_its_path(client, tokens, demo_cell):
    body = report_body(demo_cell)
    body["location"]["source"] = "gps" + NUL
    r = _raw_json(client, "PUT", f"/api/v1/reports/{new_id()}", tokens["worker"], _dumps(body))
    assert r.status_code == 422
    assert list(r.get_json()["fields"]) == ["location.source"]


def test_a_bad_key_is_refused_and_named_escaped(client, tokens, demo_cell):
    body = report_body(demo_cell)
    body["x" + SURROGATE] = 1
    r = _raw_json(client, "PUT", f"/api/v1/reports/{new_id()}", tokens["worker"], _dumps(body))
    assert r.status_code == 422
    assert list(r.get_json()["fields"]) == ["x\\ud800"]


@pytest.mark.parametrize("username", ["wang" + NUL, "wang" + SURROGATE, NUL])
def test_login_with_a_bad_username_is_422(client, username):
    r = _raw_json(client, "POST", "/api/v1/auth/token", "none",
                  _dumps({"username": username, "password": "whatever1"}))
    assert r.status_code == 422
    assert r.get_json()["fields"] == {"username": [r.get_json()["fields"]["username"][0]]}


@pytest.mark.parametrize("path", ["/api/v1/admin/users/%00", "/api/v1/admin/users/a%00b",
                                  "/api/v1/admin/users/%C2%85"])
def test_a_path_parameter_with_a_bad_character_is_422(client, tokens, path):
    r = client.patch(path, json={"disabled": True}, headers=auth(tokens["admin"]))
    assert r.status_code == 422
    assert r.get_json()["code"] == "request.invalid_text"
    assert list(r.get_json()["fields"]) == ["username"]


def test_a_query_parameter_with_a_nul_is_422(client, tokens):
    r = client.get("/api/v1/cases?category=E01%00", headers=auth(tokens["supervisor"]))
    assert r.status_code == 422
    assert list(r.get_json()["fields"]) == ["category"]


def test_an_action_note_with_a_nul_is_422(client, tokens, demo_cell):
    r = client.put(f"/api/v1/reports/{(rid := new_id())}", json=report_body(demo_cell),
                   headers=auth(tokens["worker"]))
    assert r.status_code == 201
    r = _raw_json(client, "POST", f"/api/v1/cases/{rid}/actions", tokens["supervisor"],
                  _dumps({"action": "reject", "note": "no" + NUL}))
    assert r.status_code == 422
    assert list(r.get_json()["fields"]) == ["note"]


@pytest.mark.parametrize("url,body,field", [
    ("/api/v1/routing-rules", {"area_prefix": "110101", "department": "HW", "note": "x" + NUL},
     "note"),
    ("/api/v1/routing-rules", {"area_prefix": "110101", "department": "HW",
                               "note": "x" + SURROGATE}, "note"),
    ("/api/v1/campaigns", {"name": "整治" + NUL, "category": "E0101", "area_prefix": "110101",
                           "starts_on": "2026-11-01", "ends_on": "2026-11-30"}, "name"),
    ("/api/v1/admin/users", {"username": "zhao", "display_name": "赵" + NUL, "role": "worker",
                             "password": "longenough1"}, "display_name"),
])
def test_stored_text_with_a_nul_or_a_surrogate_is_422(client, tokens, url, body, field):
    r = _raw_json(client, "POST", url, tokens["admin"], _dumps(body))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert list(r.get_json()["fields"]) == [field]


@pytest.mark.parametrize("captured_at", [
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "1899-12-31T23:00:00+00:00",
    "2200-01-01T00:00:00+00:00"])
def test_a_capture_time_out_of_range_is_422(client, tokens, demo_cell, engine, captured_at):
    body = report_body(demo_cell, captured_at=captured_at)
    r = client.put(f"/api/v1/reports/{new_id()}", json=body, headers=auth(tokens["worker"]))
    assert r.status_code == 422, r.get_json()
    assert list(r.get_json()["fields"]) == ["captured_at"]
    assert _count(engine, "reports") == 0


@pytest.mark.parametrize("captured_at", [
    datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
    datetime.now(UTC) - timedelta(days=61), datetime.now(UTC) + timedelta(hours=1)])
def test_an_implausible_capture_time_is_422(client, tokens, demo_cell, engine, captured_at):
    body = report_body(demo_cell, captured_at=captured_at.isoformat())
    r = client.put(f"/api/v1/reports/{new_id()}", json=body, headers=auth(tokens["worker"]))
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["code"] == "report.implausible_time"
    assert list(r.get_json()["fields"]) == ["captured_at"]
    assert _count(engine, "reports") == 0


@pytest.mark.parametrize("captured_at", [
    datetime.now(UTC) - timedelta(days=59), datetime.now(UTC) + timedelta(minutes=4)])
def test_a_capture_time_weeks_old_or_a_little_ahead_is_accepted(client, tokens, demo_cell,
                                                                  captured_at):
    body = report_body(demo_cell, captured_at=captured_at.isoformat())
    r = client.put(f"/api/v1/reports/{new_id()}", json=body, headers=auth(tokens["worker"]))
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("url", [
    "/api/v1/stats/indicators?period=0000-01", "/api/v1/stats/indicators?period=9999-12",
    "/api/v1/stats/top-problems?period=0000-01", "/api/v1/stats/top-problems?period=9999-12",
    "/api/v1/exports/indicators.csv?period=9999-12",
    "/api/v1/exports/indicators.csv?period=0000-01",
    "/api/v1/stats/indicators?from=2026-01-01&to=9999-12-31",
    "/api/v1/exports/cases.csv?to=9999-12-31", "/api/v1/exports/cases.csv?from=0001-01-01",
    "/api/v1/cases?updated_since=9999-12-31T23:59:59-01:00",
    "/api/v1/reports?updated_since=0001-01-01T00:00:00%2B01:00",
    "/api/v1/tiles/cases/3/6/3.mvt?to=9999-12-31T23:59:59-01:00",
])
def test_dates_that_overflow_are_422(client, tokens, url):
    r = client.get(url, headers=auth(tokens["supervisor"]))
    assert r.status_code == 422, (url, r.status_code, r.get_data(as_text=True)[:300])
    assert r.get_json()["code"] == "request.invalid"


@pytest.mark.parametrize("url", ["/api/v1/cases?page=100000000000000000000",
                                 "/api/v1/reports?page=100000000000000000000",
                                 "/api/v1/cases?page=1000001", "/api/v1/cases?page_size=0"])
def test_a_page_out_of_range_is_422(client, tokens, url):
    r = client.get(url, headers=auth(tokens["supervisor"]))
    assert r.status_code == 422
    assert set(r.get_json()["fields"]) <= {"page", "page_size"}


def test_json_nested_50000_levels_is_400(client, tokens, demo_cell):
    raw = "[" * 50_000 + "]" * 50_000
    r = _raw_json(client, "PUT", f"/api/v1/reports/{new_id()}", tokens["worker"], raw)
    assert r.status_code == 400
    assert r.get_json()["code"] == "request.too_deep"


def test_json_nested_past_the_limit_inside_an_object_is_400(client, tokens, demo_cell):
    body = report_body(demo_cell)
    deep: list = []
    for _ in range(40):
        deep = [deep]
    body["description"] = deep
    r = client.put(f"/api/v1/reports/{new_id()}", json=body, headers=auth(tokens["worker"]))
    assert r.status_code == 400
    assert r.get_json()["code"] == "request.too_deep"


def test_a_json_body_over_a_mebibyte_is_413_and_saves_nothing(client, tokens, demo_cell,
                                                              engine):
    body = report_body(demo_cell, description="长" * 10)
    body["padding"] = " " * (1024 * 1024)
    r = client.put(f"/api/v1/reports/{new_id()}", json=body, headers=auth(tokens["worker"]))
    assert r.status_code == 413 and r.get_json()["code"] == "request.too_large"
    assert _count(engine, "reports") == 0


def test_a_json_body_read_without_an_announced_length_is_bounded_too():
    # a chunked body has no Content-Length to refuse it by: the parser counts what it read
    with pytest.raises(AppError) as refused:
        load_json_body(b"[" + b" " * MAX_JSON_BYTES + b"]")
    assert refused.value.code == "request.too_large"
    assert load_json_body(b"[" + b" " * (MAX_JSON_BYTES - 2) + b"]") == []


@pytest.mark.parametrize("raw", ['{"category": ', "{'a': 1}", "\xff\xfe", "[1,]"])
def test_malformed_json_is_400_request_malformed_json(client, tokens, raw):
    r = client.put(f"/api/v1/reports/{new_id()}", data=raw.encode("latin-1"),
                   content_type="application/json", headers=auth(tokens["worker"]))
    assert r.status_code == 400
    assert r.get_json()["code"] == "request.malformed_json"


def test_a_campaign_starting_in_year_one_is_422_and_saves_nothing(client, tokens, engine):
    r = client.post("/api/v1/campaigns", json={
        "name": "整治", "category": "E0101", "area_prefix": "110101",
        "starts_on": "0001-01-01", "ends_on": "2026-11-30"}, headers=auth(tokens["supervisor"]))
    assert r.status_code == 422
    assert list(r.get_json()["fields"]) == ["starts_on"]
    assert _count(engine, "campaigns") == 0
    assert client.get("/api/v1/campaigns",
                      headers=auth(tokens["supervisor"])).status_code == 200


def test_an_old_datetime_is_written_rfc3339(client, tokens):
    r = client.get("/api/v1/stats/indicators?from=1900-01-01&to=1900-01-31",
                   headers=auth(tokens["supervisor"]))
    assert r.status_code == 200
    start = r.get_json()["period"]["start"]
    # midnight of 1 Jan 1900 in Shanghai was local mean time (+08:05:43): written in UTC, whole
    # seconds, an offset RFC 3339 allows
    assert start == "1899-12-31T15:54:17+00:00"


def test_csv_content_type_names_its_charset_once(client, tokens):
    r = client.get("/api/v1/exports/cases.csv", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200
    assert r.headers["Content-Type"].count("charset") == 1


def test_unknown_persona_keys_do_not_matter():
    assert {"worker", "supervisor", "admin"} <= set(PERSONAS)


# --- the seven inputs that gave 500 (each a 4xx now, nothing half-saved) ----------------------

EXTREME_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("taken_at", EXTREME_TIMES)
def test_a_photo_exif_time_at_the_ends_of_the_calendar_is_422(client, tokens, demo_cell,
                                                             engine, taken_at):
    rid = new_id()
    assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                      headers=auth(tokens["worker"])).status_code == 201
    r = client.put(f"/api/v1/reports/{rid}/photos/{new_id()}",
                   query_string={"exif_taken_at": taken_at}, data=b"\xff\xd8\xff\xd9",
                   content_type="image/jpeg", headers=auth(tokens["worker"]))
    assert r.status_code == 422, r.get_json()
    assert "exif_taken_at" in r.get_json()["fields"]
    assert _count(engine, "photos") == 0


def _b64(s: str) -> str:
    import base64
    return base64.b64encode(s.encode()).decode()


@pytest.mark.parametrize("taken_at", EXTREME_TIMES)
def test_a_tus_exif_time_at_the_ends_of_the_calendar_is_422(client, tokens, demo_cell, engine,
                                                           taken_at):
    rid = new_id()
    assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                      headers=auth(tokens["worker"])).status_code == 201
    meta = ",".join(f"{k} {_b64(v)}" for k, v in {
        "report_id": rid, "photo_id": new_id(), "purpose": "report",
        "content_type": "image/jpeg", "exif_taken_at": taken_at}.items())
    r = client.post("/api/v1/uploads/", headers={
        **auth(tokens["worker"]), "Tus-Resumable": "1.0.0", "Upload-Length": "100",
        "Upload-Metadata": meta})
    assert r.status_code == 422, r.get_json()
    assert "Upload-Metadata.exif_taken_at" in r.get_json()["fields"]
    assert _count(engine, "photo_uploads") == 0


@pytest.mark.parametrize("header", ["Upload-Length", "Upload-Offset"])
def test_a_tus_number_header_of_a_superscript_digit_is_400(client, tokens, demo_cell, header):
    rid = new_id()
    assert client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                      headers=auth(tokens["worker"])).status_code == 201
    base = {**auth(tokens["worker"]), "Tus-Resumable": "1.0.0"}
    if header == "Upload-Length":
        r = client.post("/api/v1/uploads/", headers={**base, "Upload-Length": "\u00b2"})
    else:
        meta = ",".join(f"{k} {_b64(v)}" for k, v in {
            "report_id": rid, "photo_id": new_id(), "purpose": "report",
            "content_type": "image/jpeg"}.items())
        r = client.post("/api/v1/uploads/", headers={**base, "Upload-Length": "10",
                                                      "Upload-Metadata": meta})
        assert r.status_code == 201, r.get_json()
        r = client.patch(r.headers["Location"], data=b"x", headers={
            **base, "Upload-Offset": "\u00b2",
            "Content-Type": "application/offset+octet-stream"})
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["code"] == "upload.bad_header" and header in r.get_json()["fields"]


def test_a_hotline_call_at_the_end_of_the_calendar_is_422(client, tokens, demo_cell, engine):
    from hotline_helpers import call_body

    r = client.put(f"/api/v1/hotline/calls/{new_id()}",
                   json=call_body(demo_cell, called_at="9999-12-31T23:59:59-01:00"),
                   headers=auth(tokens["call_taker"]))
    assert r.status_code == 422, r.get_json()
    assert "called_at" in r.get_json()["fields"]
    assert _count(engine, "reports") == 0


@pytest.mark.parametrize("query", [{"start_date": "9999-12-31T00:00:00Z"},
                                   {"end_date": "0001-01-02T00:00:00Z"}])
def test_open311_dates_at_the_ends_of_the_calendar_are_400(client, query):
    r = client.get("/open311/v2/requests.json", query_string=query)
    assert r.status_code == 400, r.data
    assert r.get_json()[0]["code"] == 400


def test_open311_request_id_of_a_superscript_digit_is_404(client):
    r = client.get("/open311/v2/requests/%C2%B2.json")
    assert r.status_code == 404, r.data
    assert r.get_json()[0]["code"] == 404


def test_open311_post_with_a_101_character_first_name_is_400(client, tokens, demo_cell, engine):
    r = client.post("/api/v1/admin/open311-clients", headers=auth(tokens["admin"]),
                    json={"name": "hostile-app", "scopes": ["110101"]})
    key = r.get_json()["api_key"]
    r = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "E0101", "lat": str(demo_cell["lat"]),
        "long": str(demo_cell["lon"]), "first_name": "x" * 101})
    assert r.status_code == 400, r.data
    assert "first_name" in r.get_json()[0]["description"]
    assert _count(engine, "reports") == 0
