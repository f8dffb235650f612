"""重复诉求 (repeat requests): a new 12345 request of the same class at the same place as an
open or recently closed request is linked to it by the case links (marked repeat), shown on the
case, and counted in the indicator table (docs/indicators.md) — worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cases_helpers import act, evidence
from gridsnap.cases import service as case_service
from hotline_helpers import call_body, take_call

from conftest import auth
from followup import drain

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 9, 9, 0, tzinfo=CST)  # a Monday


def _at_place(cell, dlat=0.0):
    return {"lon": cell["lon"], "lat": cell["lat"] + dlat, "source": "manual"}


def _call(client, tokens, runtime, cell, when, dlat=0.0, **over):
    body = call_body(cell, called_at=(when - timedelta(minutes=2)).isoformat(), **over)
    body["location"] = _at_place(cell, dlat)
    cid = take_call(client, tokens, body)["id"]
    drain(runtime)
    return cid


def _close(client, tokens, cid):
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    act(client, tokens, "handler", cid, "record_contact", contact={"outcome": "reached"})
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")


def _case(client, tokens, cid):
    r = client.get(f"/api/v1/cases/{cid}", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_repeat_requests_linked_shown_and_counted(client, tokens, demo_cell, runtime, engine,
                                                  at):
    at(T0)
    a = _call(client, tokens, runtime, demo_cell, T0)
    # B: the same class 30 m away while A is open: a repeat of A
    b = _call(client, tokens, runtime, demo_cell, T0, dlat=0.00027)
    # C: another class at the same place; D: the same class 220 m away; E: a consultation
    c = _call(client, tokens, runtime, demo_cell, T0, category="E0103")
    d = _call(client, tokens, runtime, demo_cell, T0, dlat=0.002)
    e = _call(client, tokens, runtime, demo_cell, T0, nature="consultation",
              answer="可在工作日到街道办事处办理。")

    case_b = _case(client, tokens, b)
    assert case_b["repeat_request"] is True
    # (the consultation E, closed on the call, is a possible duplicate of B, not a repeat)
    repeats = [x for x in case_b["possible_duplicates"] if x["repeat"]]
    assert [x["id"] for x in repeats] == [a]
    assert 25 < repeats[0]["distance_m"] < 35
    for other in (a, c, d, e):
        assert _case(client, tokens, other)["repeat_request"] is False

    # A and B closed the next day; F, ten days later at A's place: a repeat of both (closed
    # within the 30 days), nearest first
    at(T0 + timedelta(days=1))
    _close(client, tokens, a)
    _close(client, tokens, b)
    at(T0 + timedelta(days=10))
    f = _call(client, tokens, runtime, demo_cell, T0 + timedelta(days=10))
    case_f = _case(client, tokens, f)
    assert case_f["repeat_request"] is True
    assert [x["id"] for x in case_f["possible_duplicates"] if x["repeat"]] == [a, b]
    # A's links: B (a possible duplicate too: one link, counted once), E (a possible duplicate
    # only) and F
    case_a = _case(client, tokens, a)
    assert case_a["possible_duplicates_total"] == 3
    assert {x["id"]: x["repeat"] for x in case_a["possible_duplicates"]} == \
        {b: True, e: False, f: True}

    # linking again changes nothing (the job is idempotent)
    with Session(engine) as s:
        assert case_service.link_repeats(s, runtime.settings, [b, f]) == 0
        s.commit()

    # F closed; H, 40 days after F closed: no longer a repeat
    _close(client, tokens, f)
    at(T0 + timedelta(days=50))
    h = _call(client, tokens, runtime, demo_cell, T0 + timedelta(days=50))
    assert _case(client, tokens, h)["repeat_request"] is False

    at(T0 + timedelta(days=60))
    t = client.get("/api/v1/stats/indicators", query_string={"period": "2026-11",
                                                             "group": "source"},
                   headers=auth(tokens["supervisor"])).get_json()["total"]
    # November: requests A, B, C, D, E (the consultation), F; repeats B and F
    assert (t["requests"], t["repeat_requests"], t["repeat_request_rate"]) == (6, 2, 33.33)


def test_the_call_taker_sees_the_requests_a_call_would_repeat(client, tokens, demo_cell,
                                                              runtime, at):
    at(T0)
    a = _call(client, tokens, runtime, demo_cell, T0)
    _call(client, tokens, runtime, demo_cell, T0, category="E0103")

    def ask(**body):
        return client.post("/api/v1/hotline/place-history", json=body,
                           headers=auth(tokens["call_taker"]))

    r = ask(category="E0101", location=_at_place(demo_cell, 0.0003))
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert (got["requests"], got["radius_m"], got["window_days"]) == (1, 100, 30)
    assert [c["id"] for c in got["cases"]] == [a]
    # 220 m away: none
    assert ask(category="E0101",
               location=_at_place(demo_cell, 0.002)).get_json()["requests"] == 0
    r = ask(category="E0101")
    assert r.status_code == 422 and "location" in r.get_json()["fields"]
    assert ask(category="E0101", location=_at_place(demo_cell)).status_code == 200
    r = client.post("/api/v1/hotline/place-history", json={"category": "E0101",
                                                           "location": _at_place(demo_cell)},
                    headers=auth(tokens["handler"]))
    assert r.status_code == 403
