"""延期 of a hotline case: the hotline centre decides it, not the supervisor of the unit's area;
an extension is asked for in calendar days (7d, 日) or working days (7wd), like the time limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cases_helpers import act, case, submit
from hotline_helpers import call_body, take_call

from conftest import auth
from followup import drain

CST = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=CST)


def _signed_hotline_case(client, tokens, runtime, cell) -> tuple[str, datetime]:
    cid = take_call(client, tokens, call_body(
        cell, called_at=(MONDAY - timedelta(minutes=5)).isoformat()))["id"]
    drain(runtime)
    act(client, tokens, "supervisor", cid, "accept")
    due = act(client, tokens, "supervisor", cid, "dispatch")["due_at"]
    act(client, tokens, "handler", cid, "sign")
    return cid, datetime.fromisoformat(due)


def _inbox(client, tokens, persona) -> list[str]:
    return [n["kind"] for n in client.get("/api/v1/me/notifications",
                                          headers=auth(tokens[persona])).get_json()]


def test_the_hotline_centre_approves_a_hotline_cases_extension_in_calendar_days(
        client, tokens, demo_cell, runtime, at):
    at(MONDAY)
    cid, due = _signed_hotline_case(client, tokens, runtime, demo_cell)
    c = act(client, tokens, "handler", cid, "request_extension", note="需协调产权单位",
            extension={"limit": "7d"})
    assert (c["pending_extension"]["amount"], c["pending_extension"]["unit"]) == (7, "days")
    # the hotline centre is told, and decides; the supervisor of the area does not
    assert "case.extension_requested" in _inbox(client, tokens, "call_taker")
    assert "approve_extension" not in case(client, tokens, "supervisor", cid)["allowed_actions"]
    act(client, tokens, "supervisor", cid, "approve_extension", expect=403, note="同意")
    assert {"approve_extension", "refuse_extension"} <= set(
        case(client, tokens, "call_taker", cid)["allowed_actions"])
    c = act(client, tokens, "call_taker", cid, "approve_extension", note="同意延期七日")
    # 7 calendar days (日) from the deadline in force: weekends count
    assert datetime.fromisoformat(c["due_at"]) == due + timedelta(days=7)
    assert c["pending_extension"] is None
    trail = client.get(f"/api/v1/cases/{cid}/events", headers=auth(tokens["supervisor"]))
    approved = [e for e in trail.get_json() if e["action"] == "case.extension_approved"][0]
    assert approved["data"]["extension"] == {"amount": 7, "unit": "days"}


def test_working_days_and_a_grid_case_stays_the_supervisors(client, tokens, demo_cell,
                                                            runtime, at):
    at(MONDAY)
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    c = act(client, tokens, "handler", cid, "request_extension", note="x",
            extension={"limit": "2wd"})
    assert (c["pending_extension"]["amount"], c["pending_extension"]["unit"]) == (
        2, "working_days")
    # not a hotline case: the call-takers neither see it nor decide it
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(tokens["call_taker"]),
                    json={"action": "approve_extension", "note": "x"})
    assert r.status_code in (403, 404)
    act(client, tokens, "supervisor", cid, "refuse_extension", note="时限内可完成")


def test_an_extension_that_cannot_be_read_is_422_and_nothing_is_saved(client, tokens,
                                                                      demo_cell, runtime, at):
    at(MONDAY)
    cid, _ = _signed_hotline_case(client, tokens, runtime, demo_cell)
    for bad in ({"limit": "7 days"}, {"limit": "7d", "amount": 7}, {"amount": 7},
                {"amount": 7, "unit": "weeks"}, {"limit": "0d"}):
        r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(tokens["handler"]),
                        json={"action": "request_extension", "note": "x", "extension": bad})
        assert r.status_code == 422, (bad, r.get_json())
        assert any(k.startswith("extension") for k in r.get_json()["fields"]), r.get_json()
    assert case(client, tokens, "handler", cid)["pending_extension"] is None
