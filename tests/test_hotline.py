"""接诉即办 end to end through the API: calls taken, 即时答复, the loop with the hotline's time
limits, callbacks (回访) with rework (重新办理), callers' personal data masked and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from cases_helpers import act, events, evidence, submit
from hotline_helpers import (
    REACHED_DISSATISFIED,
    REACHED_SATISFIED,
    call_body,
    callback,
    take_call,
)

from conftest import auth, new_id
from followup import drain


def _inbox(client, tokens, persona) -> list[str]:
    return [n["kind"] for n in client.get("/api/v1/me/notifications",
                                          headers=auth(tokens[persona])).get_json()]


def _handle_and_close(client, tokens, cid, *, dispatch=True):
    if dispatch:
        act(client, tokens, "supervisor", cid, "accept")
        act(client, tokens, "supervisor", cid, "dispatch")
        act(client, tokens, "handler", cid, "sign")
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    return act(client, tokens, "supervisor", cid, "close")


def test_consultation_answered_on_the_call_is_closed_at_once(client, tokens, runtime):
    c = take_call(client, tokens, call_body(
        nature="consultation", description="垃圾分类的投放时间？",
        answer="厨余垃圾每天 7:00-9:00、18:00-20:00 投放。"))
    assert c["status"] == "closed" and c["source"] == "hotline"
    assert c["nature"] == "consultation" and c["stage"] is None
    assert c["callback_status"] is None  # the caller heard the answer: no callback
    assert c["caller"]["phone"] == "138****1234" and c["caller"]["masked"] is True
    drain(runtime)  # the routing job leaves an answered call alone
    assert events(client, tokens, "supervisor", c["id"]) == ["report.submitted",
                                                            "case.answered"]
    trail = client.get(f"/api/v1/cases/{c['id']}/events",
                       headers=auth(tokens["supervisor"])).get_json()
    assert trail[-1]["note"].startswith("厨余垃圾")


def test_an_answer_is_only_for_a_consultation(client, tokens):
    r = take_call(client, tokens, call_body(answer="好的"), expect=422)
    assert r["code"] == "request.invalid" and "answer" in r["fields"]


def test_only_call_takers_take_calls(client, tokens):
    r = client.put(f"/api/v1/hotline/calls/{new_id()}", json=call_body(),
                   headers=auth(tokens["supervisor"]))
    assert r.status_code == 403 and r.get_json()["code"] == "auth.forbidden"


def test_a_typed_address_is_placed_by_the_grids_names(client, tokens):
    c = take_call(client, tokens, call_body(address="东华门街道多福巷社区 甲 5 号"))
    assert c["community"]["code"] == "110101001001"
    assert c["location"]["source"] == "manual"
    r = take_call(client, tokens, call_body(address="火星某处"), expect=422)
    assert r["code"] == "hotline.location_required" and "address" in r["fields"]
    found = client.get("/api/v1/hotline/address", query_string={"q": "景山街道吉祥社区"},
                       headers=auth(tokens["call_taker"])).get_json()
    assert found["code"] == "110101002002" and found["level"] == "community"


def test_a_replayed_call_makes_no_second_case(client, tokens, demo_cell):
    cid = new_id()
    first = take_call(client, tokens, call_body(demo_cell), call_id=cid)
    again = take_call(client, tokens, call_body(demo_cell), expect=200, call_id=cid)
    assert again["id"] == first["id"] and again["number"] == first["number"]
    r = take_call(client, tokens, call_body(demo_cell, description="另一件事"), expect=409,
                  call_id=cid)
    assert r["code"] == "report.id_conflict"


def test_complaint_through_dispatch_close_callback_dissatisfied_reopened_and_satisfied(
        client, tokens, demo_cell, runtime, engine, at):
    t0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Beijing
    at(t0)
    c = take_call(client, tokens, call_body(demo_cell, urgency="urgent"))
    cid = c["id"]
    assert c["status"] == "reported" and c["urgency"] == "urgent"
    drain(runtime)
    assert "case.reported" in _inbox(client, tokens, "supervisor")
    act(client, tokens, "supervisor", cid, "accept")
    d = act(client, tokens, "supervisor", cid, "dispatch")
    # the hotline's limit for an urgent call: 24 hours, not the category's
    assert datetime.fromisoformat(d["due_at"]) == t0 + timedelta(hours=24)
    act(client, tokens, "handler", cid, "sign")
    closed = _handle_and_close(client, tokens, cid, dispatch=False)
    assert closed["status"] == "closed" and closed["callback_status"] == "pending"
    assert "case.callback_due" in _inbox(client, tokens, "call_taker")

    waiting = client.get("/api/v1/hotline/callbacks",
                         headers=auth(tokens["call_taker"])).get_json()
    assert [w["id"] for w in waiting] == [cid]
    assert waiting[0]["caller"] == {"name": "张*", "phone": "138****1234", "email": None,
                                    "anonymous": False, "masked": True}

    # 不满意: reopened as rework (重新办理), back to the department
    r = callback(client, tokens, cid, expect=422, callback=REACHED_DISSATISFIED, reopen=True)
    assert r["code"] == "case.note_required"
    re = callback(client, tokens, cid, callback=REACHED_DISSATISFIED, reopen=True,
                  note="市民反映垃圾仍未清运")
    assert re["status"] == "dispatched" and re["rework_count"] == 1
    assert re["callback_status"] is None and re["department"] == "sanitation"
    assert "case.rework" in _inbox(client, tokens, "handler")
    assert client.get("/api/v1/hotline/callbacks",
                      headers=auth(tokens["call_taker"])).get_json() == []

    closed = _handle_and_close(client, tokens, cid, dispatch=False)
    assert closed["callback_status"] == "pending"
    done = callback(client, tokens, cid, callback=REACHED_SATISFIED)
    assert done["status"] == "closed" and done["callback_status"] == "done"
    # no callback is due any more, and a satisfied caller's case is not reopened
    r = callback(client, tokens, cid, expect=403, callback=REACHED_SATISFIED, reopen=True,
                 note="x")
    assert r["code"] == "case.action_forbidden"
    trail = events(client, tokens, "supervisor", cid)
    assert trail.count("case.callback_recorded") == 2 and trail.count("case.reopened") == 1


def test_three_unanswered_tries_make_the_caller_unreachable(client, tokens, demo_cell, runtime):
    cid = take_call(client, tokens, call_body(demo_cell))["id"]
    drain(runtime)
    _handle_and_close(client, tokens, cid)
    for attempt in (1, 2):
        c = callback(client, tokens, cid, callback={"reached": False})
        assert c["callback_status"] == "pending" and c["callback_attempts"] == attempt
    c = callback(client, tokens, cid, callback={"reached": False})
    assert c["callback_status"] == "unreachable" and c["callback_attempts"] == 3
    r = callback(client, tokens, cid, expect=403, callback={"reached": False})
    assert r["code"] == "case.action_forbidden"


def test_a_reached_callback_records_every_answer(client, tokens, demo_cell, runtime):
    cid = take_call(client, tokens, call_body(demo_cell))["id"]
    drain(runtime)
    _handle_and_close(client, tokens, cid)
    r = callback(client, tokens, cid, expect=422, callback={"reached": True, "solved": True})
    assert r["code"] == "request.invalid"


def test_callers_are_masked_except_to_call_takers_and_admins_and_every_view_is_audited(
        client, tokens, demo_cell, runtime):
    cid = take_call(client, tokens, call_body(demo_cell))["id"]
    url = f"/api/v1/hotline/cases/{cid}/caller"
    masked = client.get(url, headers=auth(tokens["supervisor"])).get_json()
    assert masked["phone"] == "138****1234" and masked["name"] == "张*"
    r = client.get(url, query_string={"unmasked": "true"}, headers=auth(tokens["supervisor"]))
    assert r.status_code == 403
    assert "caller.viewed" not in events(client, tokens, "supervisor", cid)
    plain = client.get(url, query_string={"unmasked": "true"},
                       headers=auth(tokens["call_taker"])).get_json()
    assert plain == {"name": "张三", "phone": "13812341234", "email": None, "anonymous": False,
                     "masked": False}
    trail = client.get(f"/api/v1/cases/{cid}/events",
                       headers=auth(tokens["admin"])).get_json()
    viewed = [e for e in trail if e["action"] == "caller.viewed"]
    assert len(viewed) == 1 and viewed[0]["actor_role"] == "call_taker"
    # the case itself never carries the caller's number
    assert "13812341234" not in client.get(f"/api/v1/cases/{cid}",
                                            headers=auth(tokens["admin"])).get_data(True)


def test_an_anonymous_callers_name_is_hidden_even_masked(client, tokens, demo_cell):
    c = take_call(client, tokens, call_body(demo_cell, caller={
        "name": "李四", "phone": "13900001111", "anonymous": True}))
    masked = client.get(f"/api/v1/hotline/cases/{c['id']}/caller",
                        headers=auth(tokens["handler"]))
    # the department does not see the case before it is dispatched to it
    assert masked.status_code == 404
    shown = client.get(f"/api/v1/hotline/cases/{c['id']}/caller",
                       headers=auth(tokens["supervisor"])).get_json()
    assert shown["name"] is None and shown["anonymous"] is True


def test_the_case_list_filters_by_source(client, tokens, demo_cell, runtime, engine):
    submit(client, tokens, demo_cell)
    hid = take_call(client, tokens, call_body(demo_cell))["id"]
    r = client.get("/api/v1/cases", query_string={"source": "hotline"},
                   headers=auth(tokens["supervisor"])).get_json()
    assert [c["id"] for c in r] == [hid]
    r = client.get("/api/v1/cases", query_string={"source": "worker"},
                   headers=auth(tokens["supervisor"])).get_json()
    assert len(r) == 1 and r[0]["source"] == "worker"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM callers")).scalar() == 1
