"""The hotline's own figures in the indicator table (docs/indicators.md): calls taken (热线受理数),
直派 and 转派, 一次办结率 and the median time from the call to the dispatch — one month worked out
by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cases_helpers import act, evidence
from hotline_helpers import REACHED_DISSATISFIED, REACHED_SATISFIED, call_body, callback, take_call

from conftest import auth
from followup import drain

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 9, 9, 0, tzinfo=CST)  # a Monday


def _close(client, tokens, cid, first=True):
    if first:
        act(client, tokens, "handler", cid, "sign")
        act(client, tokens, "handler", cid, "record_contact", contact={"outcome": "reached"})
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")


def test_the_hotlines_own_figures_of_a_hand_worked_month(client, tokens, demo_cell, runtime,
                                                         at):
    at(T0)
    called = (T0 - timedelta(minutes=2)).isoformat()
    # a consultation answered on the call: resolved at the first call
    take_call(client, tokens, call_body(demo_cell, nature="consultation", called_at=called,
                                        answer="可在工作日到街道办事处办理。"))
    a, b, c = (take_call(client, tokens, call_body(demo_cell, called_at=called))["id"]
               for _ in range(3))
    drain(runtime)
    for cid in (a, b, c):
        act(client, tokens, "supervisor", cid, "accept")
    # dispatched one, three and five hours after the call came in: median 3 h
    for hours, cid in ((1, a), (3, b), (5, c)):
        at(T0 + timedelta(hours=hours))
        act(client, tokens, "supervisor", cid, "dispatch")
    # C is handed back (退单) and sent to another unit: 转派
    at(T0 + timedelta(hours=6))
    act(client, tokens, "handler", c, "return", reason="wrong_department", note="不归环卫")
    act(client, tokens, "supervisor", c, "approve_return", department="landscaping")
    # A: solved and satisfied at the first callback (一次办结); B: not solved, reopened, solved
    # the second time (办结, but not the first time)
    at(T0 + timedelta(hours=8))
    _close(client, tokens, a)
    _close(client, tokens, b)
    callback(client, tokens, a, callback=REACHED_SATISFIED)
    callback(client, tokens, b, callback=REACHED_DISSATISFIED, reopen=True, note="仍未清运")
    at(T0 + timedelta(hours=9))
    _close(client, tokens, b, first=False)
    callback(client, tokens, b, callback=REACHED_SATISFIED)

    at(T0 + timedelta(days=1))
    t = client.get("/api/v1/stats/indicators", query_string={"period": "2026-11",
                                                             "group": "source"},
                   headers=auth(tokens["supervisor"])).get_json()["total"]
    # calls taken 4; requests dispatched 3: A and B kept by the first unit, C transferred
    assert (t["reported_hotline"], t["requests"], t["dispatched_requests"],
            t["direct_dispatched"], t["transferred"]) == (4, 4, 3, 2, 1)
    assert (t["direct_dispatch_rate"], t["transfer_rate"]) == (66.67, 33.33)
    # 一次办结: the consultation and A, of the consultation, A and B (C is not called back)
    assert (t["settled_requests"], t["first_call_resolved"],
            t["first_call_resolution_rate"]) == (3, 2, 66.67)
    # from the request's receipt (受理, when the call-taker recorded it) to its first dispatch:
    # 1, 3 and 5 hours
    assert t["median_dispatch_hours"] == 3.0
