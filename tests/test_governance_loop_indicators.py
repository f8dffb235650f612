"""The governance loop and its indicators together, through the API only: 挂账, 退单审核 (twice),
督办 and a joint case (吹哨报到) driven by the real actions on one working day, then the
indicator table read over the API. Where tests/test_indicators_governance.py checks the
definitions against trails written by hand, this checks that the trail the actions really write
is the trail the indicators read (the event names and data of each flow).

Monday 23 Nov 2026, a working day; category E0101 (accept 1 working hour, handle 2 working
hours); the report-in limit 2 working hours; the table read at 15:00 the same day.

- S: dispatched to sanitation 10:00, signed, 挂账 asked and approved (review date 2027-01-15):
  挂账数 1, and not 应结案 (GRIDSNAP_SUSPENDED_LEAVE_DUE on).
- J: accepted 10:00 and whistled: lead water, co municipal and sanitation, report in by 12:00.
  Water reports in 11:00 (on time), municipal 13:30 (late), sanitation never. Its handling
  deadline (12:00) has come unhandled: 应结案, late.
- R: dispatched to water 10:00, returned 10:20, the return approved and re-dispatched to
  municipal 10:30; returned 10:40, approved and re-dispatched to sanitation 10:50 (handling
  deadline 12:50). Handed back twice, it gets a notice (督办) to sanitation at 11:00, replied at
  11:30 (on time). 应结案, late.

Worked by hand: 立案 3; 应结案 2 (J, R); 结案 0; 超期 2; 挂账 1; 派遣 4 (S once, R three times; a
whistle is no dispatch), 错派 2 (R's approved returns): 派遣准确率 2 ÷ 4 = 50.00 %; 应报到 3, 报到 2,
按时报到 1: 报到率 1 ÷ 3 = 33.33 %; 督办 1, replied 1 on time: 督办按时回复率 100.00 %.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cases_helpers import act, submit

from conftest import auth, lasting_token

CST = timezone(timedelta(hours=8))
PASSWORD = "loop-password-1"


def monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=CST)


@pytest.fixture()
def people(client, tokens) -> dict:
    """The demo personas (handler: sanitation) and a handler each of water and municipal."""
    out = dict(tokens)
    for dept in ("water", "municipal"):
        r = client.post("/api/v1/admin/users", headers=auth(tokens["admin"]), json={
            "username": f"loop_{dept}", "role": "handler", "password": PASSWORD,
            "scopes": ["110101"], "department": dept})
        assert r.status_code == 201, r.get_json()
        r = client.post("/api/v1/auth/token",
                        json={"username": f"loop_{dept}", "password": PASSWORD})
        assert r.status_code == 201, r.get_json()
        out[dept] = lasting_token(client.application.extensions["gridsnap"].engine,
                                  r.get_json()["token"])
    out["sanitation"] = tokens["handler"]
    return out


def _table(client, token, **params) -> dict:
    r = client.get("/api/v1/stats/indicators", headers=auth(token),
                   query_string={"period": "2026-11", **params})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_actions_of_the_governance_loop_give_the_indicators_worked_by_hand(
        client, people, demo_cell, runtime, at):
    t = people
    at(monday(10))
    s = submit(client, t, demo_cell, runtime)
    j = submit(client, t, demo_cell, runtime)
    r = submit(client, t, demo_cell, runtime)
    for cid in (s, j, r):
        act(client, t, "supervisor", cid, "accept")

    # S: 挂账
    act(client, t, "supervisor", s, "dispatch", department="sanitation")
    at(monday(10, 5))
    act(client, t, "sanitation", s, "sign")
    at(monday(10, 10))
    act(client, t, "sanitation", s, "request_suspension", reason_kind="funding",
        review_on="2027-01-15", note="需列入明年预算")
    at(monday(10, 15))
    assert act(client, t, "supervisor", s, "approve_suspension")["status"] == "suspended"

    # J: 吹哨报到
    at(monday(10))
    act(client, t, "supervisor", j, "whistle", lead_department="water",
        co_departments=["municipal", "sanitation"], note="积水、路面、垃圾：三个部门的事")
    at(monday(11))
    act(client, t, "water", j, "report_in")
    at(monday(13, 30))
    act(client, t, "municipal", j, "report_in")

    # R: handed back twice, each return approved and re-dispatched; then 督办
    at(monday(10))
    act(client, t, "supervisor", r, "dispatch", department="water")
    for (h, m), dept, then in (((10, 20), "water", "municipal"),
                               ((10, 40), "municipal", "sanitation")):
        at(monday(h, m))
        assert act(client, t, dept, r, "return", reason="wrong_department",
                   note="不属于本部门")["status"] == "returned"
        at(monday(h, m + 10))
        c = act(client, t, "supervisor", r, "approve_return", department=then)
        assert (c["status"], c["department"]) == ("dispatched", then)
    at(monday(11))
    c = act(client, t, "supervisor", r, "issue_notice", note="反复退单，请主动认领")
    notice = c["notices"][0]
    assert notice["department_code"] == "sanitation"
    at(monday(11, 30))
    act(client, t, "sanitation", r, "reply_notice", notice_id=notice["id"],
        note="已认领，今日处置")

    at(monday(15))
    total = _table(client, t["supervisor"], area=demo_cell["code"])["total"]
    got = {k: total[k] for k in (
        "accepted", "due", "closed", "overdue", "suspended", "dispatches", "wrong_dispatches",
        "right_dispatches", "summoned", "reported_in", "reported_in_on_time", "notices",
        "notices_replied", "notices_replied_on_time", "notices_unanswered_overdue")}
    assert got == {"accepted": 3, "due": 2, "closed": 0, "overdue": 2, "suspended": 1,
                   "dispatches": 4, "wrong_dispatches": 2, "right_dispatches": 2,
                   "summoned": 3, "reported_in": 2, "reported_in_on_time": 1, "notices": 1,
                   "notices_replied": 1, "notices_replied_on_time": 1,
                   "notices_unanswered_overdue": 0}
    rates = {k: None if total[k] is None else f"{float(total[k]):.2f}"
             for k in ("dispatch_accuracy_rate", "report_in_rate", "notice_reply_rate",
                       "closure_rate")}
    assert rates == {"dispatch_accuracy_rate": "50.00", "report_in_rate": "33.33",
                     "notice_reply_rate": "100.00", "closure_rate": "0.00"}

    # by department, 报到 counts for the summoned department, not the case's
    rows = {row["key"]: row for row in
            _table(client, t["supervisor"], area=demo_cell["code"], group="department")["rows"]}
    assert {d: (rows[d]["summoned"], rows[d]["reported_in_on_time"])
            for d in ("water", "municipal", "sanitation")} == {
        "water": (1, 1), "municipal": (1, 0), "sanitation": (1, 0)}
