"""先行联系: the unit a hotline case is dispatched to reveals the caller's number for that case
with a stated reason (audited), records each contact (time, outcome), and 响应率 is computed
from those records and the callback (docs/indicators.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cases_helpers import act, events, evidence, submit
from hotline_helpers import REACHED_SATISFIED, call_body, callback, take_call

from conftest import auth
from followup import drain


def _dispatch(client, tokens, cid):
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")


def _finish(client, tokens, cid):
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")


def _number(client, tokens, cid, persona="handler", **q):
    return client.get(f"/api/v1/hotline/cases/{cid}/caller",
                      query_string={"unmasked": "true", **q}, headers=auth(tokens[persona]))


def test_the_dispatched_unit_reveals_the_number_with_a_reason_on_the_trail(
        client, tokens, demo_cell, runtime, engine):
    cid = take_call(client, tokens, call_body(demo_cell))["id"]
    hidden = take_call(client, tokens, call_body(
        demo_cell, caller={"name": "李四", "phone": "13900001111", "anonymous": True}))["id"]
    drain(runtime)
    for c in (cid, hidden):
        _dispatch(client, tokens, c)
    r = _number(client, tokens, cid)
    assert r.status_code == 422 and r.get_json()["code"] == "caller.reason_required"
    assert "reason" in r.get_json()["fields"]
    r = _number(client, tokens, cid, reason="先行联系，核实垃圾位置")
    assert r.status_code == 200, r.get_json()
    shown = r.get_json()
    assert shown["phone"] == "13812341234" and shown["name"] == "张*"
    assert events(client, tokens, "admin", cid).count("caller.viewed") == 1
    from sqlalchemy import text
    with engine.connect() as conn:
        data = conn.execute(text("SELECT data FROM case_events WHERE report_id = :id "
                                 "AND action = 'caller.viewed'"), {"id": cid}).scalar_one()
    assert data == {"fields": ["phone"], "reason": "先行联系，核实垃圾位置"}
    # an anonymous caller's number stays hidden from the departments
    r = _number(client, tokens, hidden, reason="先行联系，核实垃圾位置")
    assert r.status_code == 403
    # a grid worker never sees it unmasked
    assert _number(client, tokens, cid, persona="worker", reason="看看号码").status_code in (
        403, 404)


def test_response_rate_needs_a_contact_in_time_and_the_callers_word(
        client, tokens, demo_cell, runtime, at):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    at(start)
    body = call_body(demo_cell, called_at=start.isoformat())
    # A: contacted within the limit; B: not contacted; C: contacted two days later (late)
    a, b, c = (take_call(client, tokens, body)["id"] for _ in range(3))
    drain(runtime)
    for cid in (a, b, c):
        _dispatch(client, tokens, cid)
        act(client, tokens, "handler", cid, "sign")
    at(start + timedelta(hours=1))
    act(client, tokens, "handler", a, "record_contact", contact={"outcome": "no_answer"})
    act(client, tokens, "handler", a, "record_contact", contact={"outcome": "reached"})
    bad = client.post(f"/api/v1/cases/{a}/actions", headers=auth(tokens["handler"]), json={
        "action": "record_contact", "contact": {"outcome": "shouted"}})
    assert bad.status_code == 422 and "contact.outcome" in bad.get_json()["fields"]
    at(start + timedelta(days=2))
    act(client, tokens, "handler", c, "record_contact", contact={"outcome": "reached"})
    for cid in (a, b, c):
        _finish(client, tokens, cid)
        callback(client, tokens, cid, callback=REACHED_SATISFIED)
    at(start + timedelta(days=3))
    t = client.get("/api/v1/stats/indicators", query_string={"period": "2026-11"},
                   headers=auth(tokens["supervisor"])).get_json()["total"]
    # all three callers said they got an answer; only A's unit reached them in time
    assert (t["rated"], t["contacted_in_time"], t["responded"]) == (3, 1, 1)
    assert (t["response_rate"], t["contact_rate"]) == (33.33, 33.33)
    # a worker's report has no caller to contact
    w = submit(client, tokens, demo_cell, runtime)
    _dispatch(client, tokens, w)
    assert "record_contact" not in client.get(
        f"/api/v1/cases/{w}", headers=auth(tokens["handler"])).get_json()["allowed_actions"]
    act(client, tokens, "handler", w, "record_contact", expect=403,
        contact={"outcome": "reached"})
