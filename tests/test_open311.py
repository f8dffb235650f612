"""Open311 GeoReport v2 under /open311/v2/: every endpoint in JSON and XML, the spec's errors
and HTTP codes, API keys issued and revoked by an admin, and a full round trip — a request
posted through Open311, handled in the loop, seen closed through Open311."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cases_helpers import act, evidence, submit
from gridsnap.cli import main as cli
from gridsnap.users.service import revocation_epoch

from conftest import auth, new_id, report_body
from followup import drain

V2 = "/open311/v2"


@pytest.fixture()
def api_key(client, tokens) -> str:
    r = client.post("/api/v1/admin/open311-clients", headers=auth(tokens["admin"]),
                    json={"name": "citizen-app", "scopes": ["110101"]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["api_key"]


def _xml(r) -> ET.Element:
    assert r.content_type == "text/xml; charset=utf-8"
    assert r.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(r.data)


def _post(client, key, fmt="json", **form):
    data = {"api_key": key, "service_code": "E0101", "lat": "39.9163", "long": "116.3972",
            "description": "路边垃圾堆放", **form}
    return client.post(f"{V2}/requests.{fmt}", data=data)


def test_discovery_in_both_formats(client):
    r = client.get(f"{V2}/discovery.json")
    assert r.content_type == "application/json; charset=utf-8"
    j = r.get_json()
    ep = j["endpoints"][0]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"].endswith("/open311/v2") and "text/xml" in ep["formats"]
    x = _xml(client.get(f"{V2}/discovery.xml"))
    assert x.tag == "discovery"
    assert [f.text for f in x.find("endpoints/endpoint").findall("formats/format")] == [
        "text/xml", "application/json"]


def test_discovery_lists_a_production_and_a_test_endpoint_as_validators_read_it(client):
    """The SeeClickFix validator parses the XML into hashes: a lone <endpoint> becomes a hash,
    not a list ("xml endpoint should be an array" fails), and it tries only the endpoints
    whose type is not production. Two entries, each with both formats, as the spec's example
    publishes them; every format is one the spec names (text/xml, application/json)."""
    j = client.get(f"{V2}/discovery.json").get_json()
    assert [(e["type"], e["url"]) for e in j["endpoints"]] == [
        ("production", "/open311/v2"), ("test", "/open311/v2/test")]
    for e in j["endpoints"]:
        assert e["formats"] == ["text/xml", "application/json"]
        assert datetime.fromisoformat(e["changeset"]).tzinfo is not None
    assert j["contact"] and j["key_service"]
    x = _xml(client.get(f"{V2}/discovery.xml"))
    eps = x.findall("endpoints/endpoint")
    assert [(e.find("type").text, e.find("url").text) for e in eps] == [
        ("production", "/open311/v2"), ("test", "/open311/v2/test")]
    assert all([f.text for f in e.findall("formats/format")] == ["text/xml", "application/json"]
               for e in eps)
    # the test endpoint answers as discovery says, in both formats
    t = client.get(f"{V2}/test/services.json")
    assert t.status_code == 200 and t.content_type == "application/json; charset=utf-8"
    assert _xml(client.get(f"{V2}/test/services.xml")).tag == "services"
    assert _xml(client.get(f"{V2}/test/discovery.xml")).tag == "discovery"


def test_a_post_to_the_test_endpoint_is_checked_and_files_nothing(client, api_key, engine):
    def stored() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM reports")).scalar()

    r = client.post(f"{V2}/test/requests.json", data={
        "api_key": api_key, "service_code": "E0101", "lat": "39.9163", "long": "116.3972"})
    assert r.status_code == 200, r.get_json()
    answer = r.get_json()[0]
    assert answer["token"].startswith("test-") and "service_request_id" not in answer
    assert stored() == 0
    assert client.get(f"{V2}/tokens/{answer['token']}.json").status_code == 404
    # refused exactly as production refuses
    r = client.post(f"{V2}/test/requests.xml", data={"service_code": "E0101"})
    assert r.status_code == 403 and _xml(r).find("error/code").text == "403"
    r = client.post(f"{V2}/test/requests.json", data={"api_key": api_key, "service_code": ""})
    assert r.status_code == 400
    assert stored() == 0


def test_service_request_id_is_a_string_in_json_everywhere(client, api_key, tokens):
    """The spec's schemas (request.json, the Swagger document) type service_request_id as a
    string: a client validating against them refuses a number."""
    posted = _post(client, api_key).get_json()[0]
    rid = posted["service_request_id"]
    assert isinstance(rid, str) and rid.isdigit()
    assert [g["service_request_id"] for g in client.get(f"{V2}/requests.json").get_json()] == [
        rid]
    assert client.get(f"{V2}/requests/{rid}.json").get_json()[0]["service_request_id"] == rid
    case = client.get("/api/v1/cases", query_string={"source": "open311"},
                      headers=auth(tokens["supervisor"])).get_json()[0]
    t = client.get(f"{V2}/tokens/{case['id']}.json").get_json()[0]
    assert t["service_request_id"] == rid


def test_a_posted_media_url_is_stored_and_returned(client, api_key, engine):
    url = "https://img.example.org/p/垃圾.jpg?size=large"
    rid = _post(client, api_key, media_url=url).get_json()[0]["service_request_id"]
    assert client.get(f"{V2}/requests/{rid}.json").get_json()[0]["media_url"] == url
    x = _xml(client.get(f"{V2}/requests/{rid}.xml"))
    assert x.find("request/media_url").text == url
    with engine.connect() as conn:
        assert conn.execute(text("SELECT media_url FROM open311_media")).scalar() == url
    # not a URL a client could fetch: 400 naming the field, nothing saved
    for bad in ("javascript:alert(1)", "/relative.jpg", "https://", "x" * 3000,
                "https://a.example/" + "x" * 2100):
        r = _post(client, api_key, media_url=bad)
        assert r.status_code == 400, bad
        assert "media_url" in r.get_json()[0]["description"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 1


def test_services_and_a_definition_in_both_formats(client):
    j = client.get(f"{V2}/services.json")
    assert j.content_type == "application/json; charset=utf-8"
    services = j.get_json()
    e0101 = next(s for s in services if s["service_code"] == "E0101")
    assert e0101["metadata"] is False and e0101["type"] == "realtime" and e0101["group"]
    x = _xml(client.get(f"{V2}/services.xml"))
    assert x.tag == "services" and {c.tag for c in x} == {"service"}
    first = x.find("service")
    assert [c.tag for c in first] == ["service_code", "service_name", "description",
                                      "metadata", "type", "keywords", "group"]
    assert first.find("metadata").text == "false"
    d = client.get(f"{V2}/services/E0101.json").get_json()
    assert d == {"service_code": "E0101", "attributes": []}
    x = _xml(client.get(f"{V2}/services/E0101.xml"))
    assert x.tag == "service_definition" and x.find("service_code").text == "E0101"


def test_errors_follow_the_spec_in_both_formats(client, api_key):
    r = client.get(f"{V2}/services/X9999.json")
    assert r.status_code == 404 and r.get_json()[0]["code"] == 404
    r = client.get(f"{V2}/services/X9999.xml")
    x = _xml(r)
    assert r.status_code == 404 and x.tag == "errors"
    assert x.find("error/code").text == "404" and x.find("error/description").text
    r = client.get(f"{V2}/services.json", query_string={"jurisdiction_id": "other.city"})
    assert r.status_code == 404 and "jurisdiction_id" in r.get_json()[0]["description"]
    assert client.get(f"{V2}/services.json",
                      query_string={"jurisdiction_id": "gridsnap.local"}).status_code == 200
    # a missing or wrong key is 403; a missing service_code or location is 400
    r = _post(client, None)
    assert r.status_code == 403 and r.get_json()[0]["code"] == 403
    r = _post(client, "not-a-key", fmt="xml")
    assert r.status_code == 403 and _xml(r).find("error/code").text == "403"
    r = _post(client, api_key, service_code="")
    assert r.status_code == 400 and "service_code" in r.get_json()[0]["description"]
    r = _post(client, api_key, service_code="X9999")
    assert r.status_code == 404
    r = _post(client, api_key, lat="", long="")
    assert r.status_code == 400 and "location" in r.get_json()[0]["description"]
    r = _post(client, api_key, lat="abc")
    assert r.status_code == 400
    r = client.get(f"{V2}/requests.json", query_string={
        "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"})
    assert r.status_code == 400 and "90 days" in r.get_json()[0]["description"]
    r = client.get(f"{V2}/requests.json", query_string={"status": "pending"})
    assert r.status_code == 400
    r = client.get(f"{V2}/requests/999999.xml")
    assert r.status_code == 404 and _xml(r).tag == "errors"
    r = client.get(f"{V2}/tokens/not-a-token.json")
    assert r.status_code == 404
    r = client.get(f"{V2}/services.yaml")
    assert r.status_code == 400 and _xml(r).tag == "errors"


def test_post_a_request_is_a_case_with_source_open311_and_the_contact_as_personal_data(
        client, tokens, api_key, engine):
    r = _post(client, api_key, fmt="xml", first_name="小明", last_name="王",
              phone="13912345678", email="wang@example.com", address_string="景山街道吉祥社区")
    assert r.status_code == 200
    x = _xml(r)
    assert x.tag == "service_requests"
    number = x.find("request/service_request_id").text
    assert x.find("request/token") is None  # realtime: the id, no token
    cases = client.get("/api/v1/cases", query_string={"source": "open311"},
                       headers=auth(tokens["supervisor"])).get_json()
    assert [str(c["number"]) for c in cases] == [number]
    case = cases[0]
    assert case["source"] == "open311"
    caller = client.get(f"/api/v1/hotline/cases/{case['id']}/caller",
                        headers=auth(tokens["supervisor"])).get_json()
    assert caller["phone"] == "139****5678" and caller["name"] == "王**"
    assert caller["email"] == "w***@example.com"
    with engine.connect() as conn:
        reporter = conn.execute(text(
            "SELECT u.username, u.role FROM reports r JOIN users u ON u.id = r.reporter_id "
            "WHERE r.number = :n"), {"n": int(number)}).one()
    assert tuple(reporter) == ("open311-citizen-app", "client")  # the client system
    # the citizen's contact never leaves through Open311
    assert b"13912345678" not in client.get(f"{V2}/requests/{number}.xml").data
    # the token (the case's id) leads to the request id
    t = client.get(f"{V2}/tokens/{case['id']}.json").get_json()
    assert t == [{"service_request_id": number, "token": case["id"]}]
    tx = _xml(client.get(f"{V2}/tokens/{case['id']}.xml"))
    assert tx.find("request/service_request_id").text == number


def test_get_requests_with_the_standard_filters_in_both_formats(
        client, tokens, api_key, demo_cell, runtime):
    n1 = _post(client, api_key).get_json()[0]["service_request_id"]
    n2 = _post(client, api_key, service_code="E0102").get_json()[0]["service_request_id"]
    submit(client, tokens, demo_cell)  # a worker's report: not public
    got = client.get(f"{V2}/requests.json").get_json()
    assert sorted(g["service_request_id"] for g in got) == sorted([n1, n2])
    r = got[0]
    assert set(r) == {"service_request_id", "status", "status_notes", "service_name",
                      "service_code", "description", "agency_responsible", "service_notice",
                      "requested_datetime", "updated_datetime", "expected_datetime", "address",
                      "address_id", "zipcode", "lat", "long", "media_url"}
    assert r["requested_datetime"].endswith("+08:00")
    assert datetime.fromisoformat(r["requested_datetime"]).tzinfo is not None
    assert r["status"] == "open"
    codes = client.get(f"{V2}/requests.json", query_string={"service_code": "E0102"}).get_json()
    assert [g["service_request_id"] for g in codes] == [n2]
    both = client.get(f"{V2}/requests.json",
                      query_string={"service_request_id": f"{n1},{n2}",
                                    "service_code": "C0101"}).get_json()  # id overrides
    assert len(both) == 2
    assert client.get(f"{V2}/requests.json", query_string={"status": "closed"}).get_json() == []
    assert len(client.get(f"{V2}/requests.json", query_string={"status": "open,closed"})
               .get_json()) == 2
    future = client.get(f"{V2}/requests.json", query_string={
        "start_date": "2030-01-01T00:00:00Z"}).get_json()
    assert future == []
    x = _xml(client.get(f"{V2}/requests.xml"))
    assert x.tag == "service_requests" and len(x.findall("request")) == 2
    assert x.find("request/long") is not None and x.find("request/status").text == "open"
    # a client's key reads its whole scope, the worker's report too
    scoped = client.get(f"{V2}/requests.json", query_string={"api_key": api_key}).get_json()
    assert len(scoped) == 3


def test_a_request_posted_through_open311_is_seen_closed_through_open311(
        client, tokens, api_key, demo_cell, runtime):
    number = _post(client, api_key, lat=str(demo_cell["lat"]),
                   long=str(demo_cell["lon"])).get_json()[0]["service_request_id"]
    drain(runtime)
    cid = client.get("/api/v1/cases", query_string={"source": "open311"},
                     headers=auth(tokens["supervisor"])).get_json()[0]["id"]
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    after = evidence(client, tokens, "handler", cid, "resolution")
    act(client, tokens, "handler", cid, "resolve", note="已清运完毕，联系人13912345678",
        public_note="已清运完毕", photo_ids=[after])
    drain(runtime)  # the after-photo's EXIF-free sizes
    # internal notes never leave; a photo is private until a supervisor marks it public
    j = client.get(f"{V2}/requests/{number}.json").get_json()
    assert j[0]["status_notes"] == "已清运完毕" and j[0]["media_url"] is None
    assert client.get(f"{V2}/media/{after}.jpg").status_code == 404
    act(client, tokens, "supervisor", cid, "close", note="电话回访13912345678，核实已办结",
        public_note="核实已办结")
    r = client.put(f"/api/v1/photos/{after}/public", headers=auth(tokens["handler"]))
    assert r.status_code == 403  # the department does not decide what the public sees
    r = client.put(f"/api/v1/photos/{after}/public", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200 and r.get_json()["public"] is True
    j = client.get(f"{V2}/requests/{number}.json").get_json()
    assert len(j) == 1 and j[0]["status"] == "closed"
    assert j[0]["status_notes"] == "核实已办结"
    assert "13912345678" not in str(j)
    assert j[0]["agency_responsible"] and j[0]["updated_datetime"]
    media = j[0]["media_url"]
    assert media and media.endswith(".jpg")
    img = client.get(urlparse(media).path)
    assert img.status_code == 200 and img.content_type == "image/jpeg"
    assert b"Exif" not in img.data[:200]
    trail = client.get(f"/api/v1/cases/{cid}/events", headers=auth(tokens["supervisor"]))
    closed = [e for e in trail.get_json() if e["action"] == "case.closed"][0]
    assert closed["public_note"] == "核实已办结" and "13912345678" in closed["note"]
    x = _xml(client.get(f"{V2}/requests/{number}.xml"))
    assert x.find("request/status").text == "closed"
    assert x.find("request/status_notes").text == "核实已办结"
    r = client.delete(f"/api/v1/photos/{after}/public", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200 and r.get_json()["public"] is False
    assert client.get(urlparse(media).path).status_code == 404


def test_a_revoked_key_is_refused_and_keys_are_stored_hashed(client, tokens, api_key, engine,
                                                            runtime):
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert all(api_key.encode() not in bytes(h) for h in stored)
    listed = client.get("/api/v1/admin/open311-clients",
                        headers=auth(tokens["admin"])).get_json()
    assert [c["name"] for c in listed] == ["citizen-app"] and not listed[0]["revoked"]
    assert client.post("/api/v1/admin/open311-clients", headers=auth(tokens["supervisor"]),
                       json={"name": "x-app", "scopes": [""]}).status_code == 403
    before = revocation_epoch(runtime.redis)
    assert client.delete("/api/v1/admin/open311-clients/citizen-app",
                         headers=auth(tokens["admin"])).status_code == 204
    assert _post(client, api_key).status_code == 403
    # announced: every API process drops the key from its token cache at once
    assert revocation_epoch(runtime.redis) != before


def test_the_cli_issues_and_revokes_keys(client, runtime, settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    out = CliRunner().invoke(cli, ["open311", "add", "hotline-bridge", "--scope", "110101"])
    assert out.exit_code == 0, out.output
    key = out.output.split("api_key=")[1].split()[0]
    assert _post(client, key).status_code == 200
    assert "hotline-bridge\tactive" in CliRunner().invoke(cli, ["open311", "list"]).output
    before = revocation_epoch(runtime.redis)
    assert CliRunner().invoke(cli, ["open311", "revoke", "hotline-bridge"]).exit_code == 0
    assert _post(client, key).status_code == 403
    assert revocation_epoch(runtime.redis) != before  # announced to every API process


# --- a client key is no staff login, and files requests only inside its area ----------------

DONGHUAMEN, DONGSI = "110101001", "110101006"


def _inside(engine, prefix: str) -> tuple[str, str]:
    """(lat, long) of a point inside a cell of the area `prefix`."""
    with engine.connect() as conn:
        lat, lon = conn.execute(text(
            "SELECT ST_Y(ST_PointOnSurface(boundary)), ST_X(ST_PointOnSurface(boundary)) "
            "FROM areas WHERE code LIKE :p AND level = 'cell' ORDER BY code LIMIT 1"),
            {"p": prefix + "%"}).one()
    return str(lat), str(lon)


@pytest.fixture()
def street_key(client, tokens) -> str:
    r = client.post("/api/v1/admin/open311-clients", headers=auth(tokens["admin"]),
                    json={"name": "donghuamen-app", "scopes": [DONGHUAMEN]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["api_key"]


def test_a_client_key_is_refused_everywhere_but_open311(client, tokens, demo_cell, street_key):
    worker_case = submit(client, tokens, demo_cell)
    key = auth(street_key)
    refused = [
        client.get("/api/v1/cases", headers=key),
        client.get(f"/api/v1/cases/{worker_case}", headers=key),
        client.get("/api/v1/reports", headers=key),
        client.get("/api/v1/auth/me", headers=key),
        client.get("/api/v1/me/notifications", headers=key),
        client.get("/api/v1/exports/cases.csv", headers=key),
        client.get("/api/v1/stats/indicators", headers=key),
        client.put(f"/api/v1/reports/{new_id()}", json=report_body(demo_cell), headers=key),
        client.put(f"/api/v1/reports/{worker_case}/photos/{new_id()}?purpose=report",
                   data=b"\xff\xd8\xff", content_type="image/jpeg", headers=key),
        client.post("/api/v1/uploads/", headers={**key, "Tus-Resumable": "1.0.0",
                                                   "Upload-Length": "10"}),
    ]
    for r in refused:
        assert r.status_code == 401, (r.request.path, r.status_code, r.get_json())
        assert r.get_json()["code"] == "auth.open311_key"
    # and on Open311 the same key works
    r = _post(client, street_key, lat=str(demo_cell["lat"]), long=str(demo_cell["lon"]))
    assert r.status_code == 200, r.get_json()


def test_a_client_files_requests_only_inside_its_area(client, engine, street_key):
    def stored() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM reports")).scalar()

    lat, lon = _inside(engine, DONGHUAMEN)
    assert _post(client, street_key, lat=lat, long=lon).status_code == 200
    assert stored() == 1
    lat, lon = _inside(engine, DONGSI)
    r = _post(client, street_key, lat=lat, long=lon)
    assert r.status_code == 403 and r.get_json()[0]["code"] == 403
    r = _post(client, street_key, fmt="xml", lat=lat, long=lon)
    assert r.status_code == 403 and _xml(r).find("error/code").text == "403"
    for lat, lon in (("0", "0"), ("31.2304", "121.4737")):  # nowhere; Shanghai
        r = _post(client, street_key, lat=lat, long=lon)
        assert r.status_code == 400, (lat, lon, r.get_json())
        assert "grid" in r.get_json()[0]["description"]
    # an address naming a street of another street office is outside the area too
    with engine.connect() as conn:
        dongsi = conn.execute(text("SELECT name FROM areas WHERE code = :c"),
                              {"c": DONGSI}).scalar()
    r = _post(client, street_key, lat="", long="", address_string=dongsi)
    assert r.status_code == 403, r.get_json()
    assert stored() == 1


def test_the_host_header_is_never_echoed_into_discovery_or_media_url(client, runtime,
                                                                      monkeypatch):
    forged = {"Host": "evil.example"}
    url = client.get(f"{V2}/discovery.json", headers=forged).get_json()["endpoints"][0]["url"]
    assert "evil.example" not in url and url == "/open311/v2"
    monkeypatch.setattr(runtime, "settings", dataclasses.replace(
        runtime.settings, public_url="https://grid.example.gov.cn"))
    url = client.get(f"{V2}/discovery.json", headers=forged).get_json()["endpoints"][0]["url"]
    assert url == "https://grid.example.gov.cn/open311/v2"
    x = _xml(client.get(f"{V2}/discovery.xml", headers=forged))
    assert x.find("endpoints/endpoint/url").text == "https://grid.example.gov.cn/open311/v2"
