"""不合理诉求 and 申诉 (docs/indicators.md): a unit asks for a 12345 request to be excluded
from the three rates, or appeals its rated result; the centre approves (剔除 / 核减) or
refuses; approved ones leave the rates, the request and its trail stay. A request the centre
rejected is called back and rated like any other (before, its callback was a 409 and it
silently left the rates)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from cases_helpers import act, evidence
from hotline_helpers import REACHED_DISSATISFIED, REACHED_SATISFIED, call_body, callback, take_call

from conftest import auth
from followup import drain


def _closed(client, tokens, cid):
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    act(client, tokens, "handler", cid, "record_contact", contact={"outcome": "reached"})
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")


def _month(case) -> str:
    return datetime.fromisoformat(case["received_at"]).astimezone(
        ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def _total(client, tokens, month):
    return client.get("/api/v1/stats/indicators", query_string={"period": month},
                      headers=auth(tokens["supervisor"])).get_json()["total"]


def test_an_approved_exclusion_leaves_the_rates_and_keeps_the_trail(client, tokens, demo_cell,
                                                                    runtime, engine):
    a, b, c = (take_call(client, tokens, call_body(demo_cell)) for _ in range(3))
    drain(runtime)
    for x in (a, b, c):
        _closed(client, tokens, x["id"])
    callback(client, tokens, a["id"], callback=REACHED_SATISFIED)
    callback(client, tokens, b["id"], callback=REACHED_DISSATISFIED)
    callback(client, tokens, c["id"], callback=REACHED_DISSATISFIED)
    month = _month(a)
    before = _total(client, tokens, month)
    assert (before["dispatched_requests"], before["rated"], before["satisfied"],
            before["satisfaction_rate"]) == (3, 3, 1, 33.33)

    # B: the caller asks for what no rule grants — the unit asks, with reasons
    r = act(client, tokens, "handler", b["id"], "request_exclusion",
            exclusion={"reason_kind": "unreasonable"}, note="诉求人要求拆除合法建筑，无政策依据")
    assert r["exclusion"]["kind"] == "exclusion"
    assert r["exclusion"]["reason_kind"] == "unreasonable"
    assert "approve_exclusion" not in r["allowed_actions"]  # not the unit's to decide
    # one at a time, a reason from the list, reasons written
    act(client, tokens, "handler", b["id"], "request_exclusion", expect=403,
        exclusion={"reason_kind": "duplicate"}, note="again")
    act(client, tokens, "handler", c["id"], "request_exclusion", expect=422,
        exclusion={"reason_kind": "annoying"}, note="x")
    act(client, tokens, "handler", c["id"], "request_exclusion", expect=422,
        exclusion={"reason_kind": "duplicate"})
    # the figures do not move on a request alone
    assert _total(client, tokens, month)["rated"] == 3
    sup = act(client, tokens, "supervisor", b["id"], "approve_exclusion")
    assert sup["exclusion"] is None

    # C: the centre refuses, with its reasons; C stays rated
    act(client, tokens, "handler", c["id"], "request_exclusion",
        exclusion={"reason_kind": "outside_duty"}, note="属民事纠纷")
    act(client, tokens, "supervisor", c["id"], "refuse_exclusion", expect=422)  # no reasons
    act(client, tokens, "supervisor", c["id"], "refuse_exclusion", note="属物业服务监管职责")

    after = _total(client, tokens, month)
    assert (after["requests"], after["dispatched_requests"], after["excluded_requests"],
            after["rated"], after["satisfied"], after["satisfaction_rate"]) == (
        3, 2, 1, 2, 1, 50.0)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT kind, reason_kind, status, reason, decision_note FROM case_exclusions "
            "ORDER BY id")).all()
    assert [tuple(x) for x in rows] == [
        ("exclusion", "unreasonable", "approved", "诉求人要求拆除合法建筑，无政策依据", None),
        ("exclusion", "outside_duty", "refused", "属民事纠纷", "属物业服务监管职责")]
    trail = [e["action"] for e in client.get(
        f"/api/v1/cases/{b['id']}/events", headers=auth(tokens["supervisor"])).get_json()]
    assert "case.exclusion_requested" in trail and "case.excluded" in trail


def test_an_appeal_of_a_rated_result_reduced_by_the_centre(client, tokens, demo_cell, runtime):
    a = take_call(client, tokens, call_body(demo_cell))
    drain(runtime)
    _closed(client, tokens, a["id"])
    # nothing rated yet: nothing to appeal
    act(client, tokens, "handler", a["id"], "appeal", expect=403,
        appeal={"reason_kind": "caller_misjudged"}, note="x")
    callback(client, tokens, a["id"], callback=REACHED_DISSATISFIED)
    month = _month(a)
    assert _total(client, tokens, month)["resolution_rate"] == 0.0
    act(client, tokens, "handler", a["id"], "appeal", appeal={"reason_kind": "beyond_unit"},
        note="需市级部门审批，已按程序上报")
    act(client, tokens, "supervisor", a["id"], "approve_appeal")
    t = _total(client, tokens, month)
    # 核减: still a dispatched request, no longer rated
    assert (t["dispatched_requests"], t["reduced_requests"], t["rated"], t["callbacks"],
            t["resolution_rate"]) == (1, 1, 0, 0, None)


def test_a_rejected_hotline_request_is_called_back_and_rated(client, tokens, demo_cell,
                                                             runtime):
    a = take_call(client, tokens, call_body(demo_cell))
    drain(runtime)
    act(client, tokens, "supervisor", a["id"], "reject", note="非本市管辖")
    waiting = client.get("/api/v1/hotline/callbacks",
                         headers=auth(tokens["call_taker"])).get_json()
    assert a["id"] in {w["id"] for w in waiting}
    callback(client, tokens, a["id"], callback={"reached": True, "responded": True,
                                                "solved": False,
                                                "satisfaction": "dissatisfied"})
    t = _total(client, tokens, _month(a))
    # the centre's answer is rated: it no longer drops out silently
    assert (t["requests"], t["rejected_requests"], t["dispatched_requests"], t["rated"],
            t["responded"], t["solved"], t["satisfied"]) == (1, 1, 0, 1, 1, 0, 0)
    assert t["response_rate"] == 100.0 and t["satisfaction_rate"] == 0.0
