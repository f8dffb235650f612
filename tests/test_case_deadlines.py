"""限时办理: stage deadlines on the Chinese working calendar, overdue detection with a
controlled clock, escalation (街乡吹哨), and the scheduled checks being harmless."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from cases_helpers import act, case, submit
from gridsnap.cases.sweeps import escalate_overdue

from conftest import auth
from followup import drain

CST = timezone(timedelta(hours=8))


def _received(engine, cid, when: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET received_at = :t WHERE id = :id"),
                      {"t": when, "id": cid})


def _sweep(runtime, when):
    with runtime.sessions() as s:
        n = escalate_overdue(s, now=when)
        s.commit()
    return n


def _dispatched_case(client, tokens, cell, runtime, at, when, category):
    at(when)
    cid = submit(client, tokens, cell, runtime, category=category)
    act(client, tokens, "supervisor", cid, "accept")
    return cid, act(client, tokens, "supervisor", cid, "dispatch")


def test_accept_deadline_in_working_hours_skips_the_national_day_holiday(
        client, tokens, demo_cell, runtime, engine, at):
    # E0101 暴露垃圾: accept within 1 working hour; received 17:30 on the eve of National Day
    at(datetime(2026, 9, 30, 17, 30, tzinfo=CST))
    cid = submit(client, tokens, demo_cell)
    _received(engine, cid, datetime(2026, 9, 30, 17, 30, tzinfo=CST))
    drain(runtime)
    due = datetime.fromisoformat(case(client, tokens, "supervisor", cid)["due_at"])
    assert due == datetime(2026, 10, 8, 9, 30, tzinfo=CST)


def test_handle_deadline_over_the_holiday_and_overdue_detection(
        client, tokens, demo_cell, runtime, engine, at):
    # E0102: handle within 1 working day; dispatched Wed 30 Sep 10:00 → due Thu 8 Oct 10:00
    cid, c = _dispatched_case(client, tokens, demo_cell, runtime, at,
                              datetime(2026, 9, 30, 10, 0, tzinfo=CST), "E0102")
    assert datetime.fromisoformat(c["due_at"]) == datetime(2026, 10, 8, 10, 0, tzinfo=CST)
    assert _sweep(runtime, datetime(2026, 10, 7, 23, 59, tzinfo=CST)) == 0
    assert _sweep(runtime, datetime(2026, 10, 8, 10, 1, tzinfo=CST)) == 1
    c = case(client, tokens, "supervisor", cid)
    assert c["overdue"] is True and c["escalation_level"] == 1
    trail = client.get(f"/api/v1/cases/{cid}/events", headers=auth(tokens["supervisor"])).get_json()
    assert [e["action"] for e in trail][-2:] == ["case.overdue", "case.escalated"]
    assert trail[-1]["data"]["notified"]
    # escalation reaches the supervisors above and the department's handlers
    for persona in ("supervisor", "handler", "admin"):
        kinds = [n["kind"] for n in client.get(
            "/api/v1/me/notifications", headers=auth(tokens[persona])).get_json()]
        assert "case.overdue" in kinds, persona
    # idempotent: sweeping again changes nothing
    assert _sweep(runtime, datetime(2026, 10, 9, 10, 0, tzinfo=CST)) == 0
    assert case(client, tokens, "supervisor", cid)["escalation_level"] == 1


def test_a_deadline_can_land_on_a_make_up_working_saturday(
        client, tokens, demo_cell, runtime, at):
    # Sat 10 Oct 2026 is a working day (调休): Fri 10:00 + 1 working day → Sat 10:00
    cid, c = _dispatched_case(client, tokens, demo_cell, runtime, at,
                              datetime(2026, 10, 9, 10, 0, tzinfo=CST), "E0102")
    assert datetime.fromisoformat(c["due_at"]) == datetime(2026, 10, 10, 10, 0, tzinfo=CST)
    assert _sweep(runtime, datetime(2026, 10, 10, 9, 59, tzinfo=CST)) == 0
    assert _sweep(runtime, datetime(2026, 10, 10, 10, 0, tzinfo=CST)) == 1


def test_emergencies_count_natural_hours(client, tokens, demo_cell, runtime, at):
    from gridsnap.deadlines.rules import TimeLimit

    cats = client.get("/api/v1/categories", headers=auth(tokens["worker"])).get_json()
    urgent = next(c for c in cats if c["time_limits"]["handle"]["unit"] == "hours")
    hours = TimeLimit.from_dict(urgent["time_limits"]["handle"]).amount
    start = datetime(2026, 10, 3, 22, 0, tzinfo=CST)  # a holiday night
    cid, c = _dispatched_case(client, tokens, demo_cell, runtime, at, start, urgent["code"])
    assert datetime.fromisoformat(c["due_at"]) == start + timedelta(hours=hours)


def test_a_case_that_moved_on_is_not_marked_overdue_by_its_old_check(
        client, tokens, demo_cell, runtime, engine, at):
    cid, c = _dispatched_case(client, tokens, demo_cell, runtime, at,
                              datetime(2026, 9, 30, 10, 0, tzinfo=CST), "E0102")
    act(client, tokens, "supervisor", cid, "reject", expect=409, note="x")  # not from dispatched
    act(client, tokens, "handler", cid, "sign")
    from cases_helpers import evidence

    at(datetime(2026, 10, 8, 9, 30, tzinfo=CST))  # resolved half an hour before the due time
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    # the handling deadline (10:00) has passed, but the case is in the verify stage now
    at(datetime(2026, 10, 8, 11, 0, tzinfo=CST))
    drain(runtime)  # the scheduled checks run: harmless
    c = case(client, tokens, "supervisor", cid)
    assert c["stage"] == "verify" and c["overdue"] is False


def test_overdue_filter_lists_only_overdue_cases(client, tokens, demo_cell, runtime, at):
    late, _ = _dispatched_case(client, tokens, demo_cell, runtime, at,
                               datetime(2026, 9, 30, 10, 0, tzinfo=CST), "E0102")
    at(datetime(2026, 10, 8, 9, 0, tzinfo=CST))
    fine = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", fine, "accept")
    act(client, tokens, "supervisor", fine, "dispatch")
    _sweep(runtime, datetime(2026, 10, 8, 10, 30, tzinfo=CST))
    r = client.get("/api/v1/cases?overdue=true", headers=auth(tokens["supervisor"]))
    assert [c["id"] for c in r.get_json()] == [late]
