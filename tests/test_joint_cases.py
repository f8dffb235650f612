"""吹哨报到 and 督办 over the API against the real database: a joint case with a lead
department (主办) and co-departments (协办) that report in (报到) within the limit — one late —
feed back, and only then let the lead resolve; who sees a joint case (invariant 4); supervision
notices (督办) issued and replied on time and late; the overdue escalation proposing a whistle.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from cases_helpers import act, case, events, evidence, submit
from gridsnap.cases.sweeps import escalate_overdue

from conftest import auth, lasting_token

CST = timezone(timedelta(hours=8))
PASSWORD = "joint-password-1"
# Monday 23 Nov 2026, a working day: the report-in limit (2 working hours) ends at 12:00
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=CST)


@pytest.fixture()
def people(client, tokens) -> dict:
    """The demo personas and a handler each of water, municipal and traffic."""
    out = dict(tokens)
    for dept in ("water", "municipal", "traffic"):
        r = client.post("/api/v1/admin/users", headers=auth(tokens["admin"]), json={
            "username": f"joint_{dept}", "role": "handler", "password": PASSWORD,
            "scopes": ["110101"], "department": dept})
        assert r.status_code == 201, r.get_json()
        r = client.post("/api/v1/auth/token",
                        json={"username": f"joint_{dept}", "password": PASSWORD})
        assert r.status_code == 201, r.get_json()
        out[dept] = lasting_token(client.application.extensions["gridsnap"].engine,
                                  r.get_json()["token"])
    return out


def _sweep(runtime, when) -> int:
    with runtime.sessions() as s:
        n = escalate_overdue(s, now=when)
        s.commit()
    return n


def _accepted(client, tokens, cell, runtime, at, when=MONDAY_10, **kw) -> str:
    at(when)
    cid = submit(client, tokens, cell, runtime, **kw)
    act(client, tokens, "supervisor", cid, "accept")
    return cid


def _whistle(client, tokens, cid, lead="water", co=("municipal", "sanitation"), expect=200,
             **kw):
    return act(client, tokens, "supervisor", cid, "whistle", expect=expect,
               lead_department=lead, co_departments=list(co),
               note=kw.pop("note", "三个部门的事：积水、路面塌陷、垃圾"), **kw)


def _ids(client, token, **params) -> set[str]:
    r = client.get("/api/v1/cases", headers=auth(token), query_string=params)
    assert r.status_code == 200, r.get_json()
    return {c["id"] for c in r.get_json()}


def _participants(c) -> dict:
    return {p["department"]: p for p in c["joint"]["participants"]}


def _trail(client, tokens, cid) -> list[dict]:
    r = client.get(f"/api/v1/cases/{cid}/events", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200
    return r.get_json()


def test_joint_case_with_one_co_department_late_resolves_only_after_every_feedback(
        client, people, demo_cell, runtime, at):
    t = people
    cid = _accepted(client, t, demo_cell, runtime, at)
    c = _whistle(client, t, cid)
    assert c["status"] == "dispatched" and c["department"] == "water"
    assert c["joint"]["lead"] == "water" and c["joint"]["co"] == ["municipal", "sanitation"]
    due = datetime(2026, 11, 23, 12, 0, tzinfo=CST)
    assert {datetime.fromisoformat(p["report_due_at"]) for p in c["joint"]["participants"]} \
        == {due}
    whistled = [e for e in _trail(client, t, cid) if e["action"] == "case.whistled"][0]
    assert whistled["department"] == "water"
    assert whistled["data"]["lead"] == "water"
    assert whistled["data"]["co"] == ["municipal", "sanitation"]
    assert datetime.fromisoformat(whistled["data"]["report_due_at"]) == due
    assert whistled["data"]["stage"] == "handle" and whistled["data"]["due_at"]

    # every summoned department's handlers hear of it and may report in; nothing else yet
    for dept in ("water", "municipal", "handler"):
        kinds = [n["kind"] for n in client.get(
            "/api/v1/me/notifications", headers=auth(t[dept])).get_json()]
        assert "case.whistled" in kinds, dept
    assert case(client, t, "handler", cid)["allowed_actions"] == ["report_in"]
    assert case(client, t, "water", cid)["allowed_actions"] == ["report_in"]
    act(client, t, "water", cid, "sign", expect=403)  # the lead reports in before signing

    at(datetime(2026, 11, 23, 11, 0, tzinfo=CST))
    act(client, t, "water", cid, "report_in")
    act(client, t, "handler", cid, "report_in")
    act(client, t, "handler", cid, "report_in", expect=403)  # once
    c = case(client, t, "supervisor", cid)
    assert c["joint"]["not_reported_in"] == ["municipal"]
    at(datetime(2026, 11, 23, 13, 30, tzinfo=CST))
    c = case(client, t, "supervisor", cid)
    assert _participants(c)["municipal"]["report_in_overdue"] is True
    act(client, t, "municipal", cid, "report_in")

    parts = _participants(case(client, t, "supervisor", cid))
    assert {d: p["late"] for d, p in parts.items()} == {
        "water": False, "sanitation": False, "municipal": True}
    assert parts["municipal"]["reported_in_by"] == "joint_municipal"
    reported = {e["data"]["department_code"]: e["data"] for e in _trail(client, t, cid)
                if e["action"] == "case.reported_in"}
    assert {d: r["late"] for d, r in reported.items()} == {
        "water": False, "sanitation": False, "municipal": True}
    assert all(datetime.fromisoformat(r["report_due_at"]) == due for r in reported.values())

    # the lead signs and acts; resolving waits for every co-department's feedback
    act(client, t, "water", cid, "sign")
    photo = evidence(client, t, "water", cid, "resolution")
    c = case(client, t, "water", cid)
    assert "resolve" not in c["allowed_actions"]
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t["water"]),
                    json={"action": "resolve", "photo_ids": [photo]})
    assert r.status_code == 409 and r.get_json()["code"] == "case.joint_feedback_missing"
    act(client, t, "handler", cid, "joint_feedback", expect=422)  # the feedback is the note
    act(client, t, "handler", cid, "joint_feedback", note="垃圾已清运")
    act(client, t, "water", cid, "joint_feedback", expect=403, note="the lead does not")
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t["water"]),
                    json={"action": "resolve", "photo_ids": [photo]})
    assert r.status_code == 409 and r.get_json()["code"] == "case.joint_feedback_missing"
    assert case(client, t, "supervisor", cid)["joint"]["feedback_missing"] == ["municipal"]
    act(client, t, "municipal", cid, "joint_feedback", note="路面已修复")
    c = act(client, t, "water", cid, "resolve", photo_ids=[photo])
    assert c["status"] == "resolved" and c["joint"]["feedback_missing"] == []
    assert _participants(c)["sanitation"]["feedback"] == "垃圾已清运"
    assert act(client, t, "supervisor", cid, "close")["status"] == "closed"
    assert [e for e in events(client, t, "supervisor", cid)
            if e.startswith("case.")][-8:] == [
        "case.reported_in", "case.reported_in", "case.reported_in", "case.signed",
        "case.joint_feedback", "case.joint_feedback", "case.resolved", "case.closed"]
    feedback = [e for e in _trail(client, t, cid) if e["action"] == "case.joint_feedback"]
    assert [(e["department"], e["data"]) for e in feedback] == [
        ("sanitation", {"department_code": "sanitation"}),
        ("municipal", {"department_code": "municipal"})]


def test_co_department_handlers_see_a_joint_case_and_others_do_not(
        client, people, demo_cell, runtime, at):
    t = people
    cid = _accepted(client, t, demo_cell, runtime, at)
    other = _accepted(client, t, demo_cell, runtime, at)
    act(client, t, "supervisor", other, "dispatch", department="water")
    assert cid not in _ids(client, t["municipal"])
    photo = evidence(client, t, "worker", cid, "report")
    r = client.get(f"/api/v1/photos/{photo}?size=thumb", headers=auth(t["municipal"]))
    assert r.status_code == 404
    _whistle(client, t, cid, lead="water", co=["municipal"])
    # a co-department: in its list, its tasks, the case itself and the case's photos (not
    # processed yet here: 409 photo.not_ready to those who may see it, 404 to the others)
    assert cid in _ids(client, t["municipal"])
    r = client.get(f"/api/v1/photos/{photo}?size=thumb", headers=auth(t["municipal"]))
    assert r.status_code == 409 and r.get_json()["code"] == "photo.not_ready"
    tasks = client.get("/api/v1/me/tasks", headers=auth(t["municipal"])).get_json()
    assert cid in {c["id"] for c in tasks}
    assert case(client, t, "municipal", cid)["joint"]["lead"] == "water"
    # an unrelated department: neither in lists nor by id (as if it did not exist), and the
    # co-department does not see the lead's other cases
    for dept in ("traffic", "handler"):
        assert cid not in _ids(client, t[dept]), dept
        r = client.get(f"/api/v1/cases/{cid}", headers=auth(t[dept]))
        assert r.status_code == 404 and r.get_json()["code"] == "case.not_found"
        r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t[dept]),
                        json={"action": "report_in"})
        assert r.status_code == 404
        tasks = client.get("/api/v1/me/tasks", headers=auth(t[dept])).get_json()
        assert cid not in {c["id"] for c in tasks}
        r = client.get(f"/api/v1/photos/{photo}?size=thumb", headers=auth(t[dept]))
        assert r.status_code == 404, dept
        r = client.get(f"/api/v1/cases/{cid}/events", headers=auth(t[dept]))
        assert r.status_code == 404, dept
    assert other not in _ids(client, t["municipal"])
    r = client.get(f"/api/v1/cases/{other}", headers=auth(t["municipal"]))
    assert r.status_code == 404


@pytest.mark.parametrize(("lead", "co", "field_name"), [
    ("water", ["water"], "co_departments"),  # the lead is no co-department
    ("water", ["municipal", "municipal"], "co_departments"),  # duplicates
    ("water", [], "co_departments"),  # at least one
    ("water", [f"d{i}" for i in range(9)], "co_departments"),  # at most 8
    ("nowhere", ["municipal"], "lead_department"),  # unknown lead
    ("water", ["municipal", "nowhere"], "co_departments"),  # unknown co-department
    (None, ["municipal"], "lead_department"),  # no lead
])
def test_a_whistle_with_bad_departments_is_422_and_changes_nothing(
        client, people, demo_cell, runtime, engine, at, lead, co, field_name):
    cid = _accepted(client, people, demo_cell, runtime, at)
    before = case(client, people, "supervisor", cid)
    body = {"action": "whistle", "co_departments": co, "note": "why"}
    if lead is not None:
        body["lead_department"] = lead
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(people["supervisor"]),
                    json=body)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["code"] == "case.bad_departments"
    assert field_name in r.get_json()["fields"]
    after = case(client, people, "supervisor", cid)
    assert (after["version"], after["status"], after["joint"]) == (
        before["version"], "accepted", None)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM joint_participants")).scalar() == 0


def test_whistle_needs_a_supervisor_a_note_and_happens_once(
        client, people, demo_cell, runtime, at):
    t = people
    cid = _accepted(client, t, demo_cell, runtime, at)
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t["supervisor"]), json={
        "action": "whistle", "lead_department": "water", "co_departments": ["municipal"]})
    assert r.status_code == 422 and r.get_json()["code"] == "case.note_required"
    act(client, t, "supervisor", cid, "dispatch", department="water")
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t["water"]), json={
        "action": "whistle", "lead_department": "water", "co_departments": ["municipal"],
        "note": "x"})
    assert r.status_code == 403 and r.get_json()["code"] == "case.action_forbidden"
    # from a dispatched case: to the lead under a new handling deadline
    c = _whistle(client, t, cid, lead="municipal", co=["water"])
    assert c["department"] == "municipal" and c["signed_at"] is None
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t["supervisor"]), json={
        "action": "whistle", "lead_department": "water", "co_departments": ["traffic"],
        "note": "again"})
    assert r.status_code == 409 and r.get_json()["code"] == "case.already_joint"
    assert "return" not in case(client, t, "municipal", cid)["allowed_actions"]


def _overdue_case(client, t, cell, runtime, at) -> str:
    """Dispatched to sanitation Monday 10:00 (E0102: 1 working day), overdue on Tuesday."""
    cid = _accepted(client, t, cell, runtime, at, category="E0102")
    act(client, t, "supervisor", cid, "dispatch", department="sanitation")
    assert _sweep(runtime, datetime(2026, 11, 24, 10, 30, tzinfo=CST)) == 1
    return cid


def test_notice_is_issued_on_an_overdue_case_and_replied_on_time_and_late(
        client, people, demo_cell, runtime, at):
    t = people
    cid = _accepted(client, t, demo_cell, runtime, at, category="E0102")
    act(client, t, "supervisor", cid, "dispatch", department="sanitation")
    # neither overdue nor handed back twice: a notice names its ground
    assert "issue_notice" in case(client, t, "supervisor", cid)["allowed_actions"]
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t["supervisor"]),
                    json={"action": "issue_notice", "note": "请尽快处理"})
    assert r.status_code == 422 and r.get_json()["code"] == "case.notice_ground_required"
    assert "ground" in r.get_json()["fields"]
    assert case(client, t, "supervisor", cid)["notices"] == []

    assert _sweep(runtime, datetime(2026, 11, 24, 10, 30, tzinfo=CST)) == 1
    at(datetime(2026, 11, 24, 11, 0, tzinfo=CST))  # Tuesday: replies due Thursday 11:00
    c = act(client, t, "supervisor", cid, "issue_notice", note="超期未处置，请说明原因")
    [notice] = c["notices"]
    assert notice["department_code"] == "sanitation" and notice["state"] == "open"
    assert notice["ground"] == "overdue"  # the case's own ground, kept with the notice
    assert datetime.fromisoformat(notice["reply_due_at"]) == datetime(
        2026, 11, 26, 11, 0, tzinfo=CST)
    issued = [e for e in _trail(client, t, cid) if e["action"] == "case.notice_issued"][0]
    assert issued["data"] == {"notice_id": notice["id"], "department_code": "sanitation",
                              "reply_due_at": issued["data"]["reply_due_at"],
                              "ground": "overdue"}
    assert datetime.fromisoformat(issued["data"]["reply_due_at"]) == datetime(
        2026, 11, 26, 11, 0, tzinfo=CST)
    assert "case.notice_issued" in [n["kind"] for n in client.get(
        "/api/v1/me/notifications", headers=auth(t["handler"])).get_json()]
    # a notice only to a department of the case
    r = client.post(f"/api/v1/cases/{cid}/actions", headers=auth(t["supervisor"]),
                    json={"action": "issue_notice", "note": "x", "department": "traffic"})
    assert r.status_code == 422 and r.get_json()["code"] == "case.bad_departments"
    assert r.get_json()["fields"] == {"department": ["Not a department of this case."]}

    # only the notice's department replies, with a note; on time
    act(client, t, "water", cid, "reply_notice", expect=404, note="not ours")
    act(client, t, "handler", cid, "reply_notice", expect=422)
    at(datetime(2026, 11, 25, 9, 0, tzinfo=CST))
    c = act(client, t, "handler", cid, "reply_notice", notice_id=notice["id"],
            note="设备故障，已调配车辆")
    assert c["notices"][0]["state"] == "replied" and c["notices"][0]["late"] is False
    act(client, t, "handler", cid, "reply_notice", expect=403, note="twice")

    # a second notice, replied after its deadline: late
    at(datetime(2026, 11, 25, 10, 0, tzinfo=CST))
    c = act(client, t, "supervisor", cid, "issue_notice", note="仍未处置")
    second = c["notices"][1]
    at(datetime(2026, 11, 27, 16, 0, tzinfo=CST))  # due Fri 27 Nov 10:00
    notices = client.get("/api/v1/notices?state=overdue", headers=auth(t["handler"])).get_json()
    assert [n["id"] for n in notices] == [second["id"]]
    act(client, t, "handler", cid, "reply_notice", note="已处理")
    replied = [e["data"] for e in _trail(client, t, cid) if e["action"] == "case.notice_replied"]
    assert replied == [
        {"notice_id": notice["id"], "department_code": "sanitation", "late": False},
        {"notice_id": second["id"], "department_code": "sanitation", "late": True}]
    assert "case.notice_replied" in [n["kind"] for n in client.get(
        "/api/v1/me/notifications", headers=auth(t["supervisor"])).get_json()]

    # the lists: the department's handlers and the area's supervisors, nobody else
    for persona, state, expected in (
            ("handler", None, [second["id"], notice["id"]]), ("handler", "open", []),
            ("handler", "replied", [second["id"], notice["id"]]),
            ("supervisor", None, [second["id"], notice["id"]]), ("traffic", None, []),
            ("water", None, [])):
        r = client.get("/api/v1/notices", headers=auth(t[persona]),
                       query_string={"state": state} if state else {})
        assert r.status_code == 200, r.get_json()
        assert [n["id"] for n in r.get_json()] == expected, (persona, state)
    listed = client.get("/api/v1/notices", headers=auth(t["supervisor"])).get_json()
    assert [(n["late"], n["number"]) for n in listed] == [(True, c["number"]),
                                                           (False, c["number"])]
    r = client.get("/api/v1/notices?state=late", headers=auth(t["supervisor"]))
    assert r.status_code == 422 and r.get_json()["code"] == "request.invalid"


def test_notice_may_be_issued_on_a_case_handed_back_twice(
        client, people, demo_cell, runtime, at):
    t = people
    cid = _accepted(client, t, demo_cell, runtime, at)
    act(client, t, "supervisor", cid, "dispatch", department="water")
    for dept, then in (("water", "municipal"), ("municipal", "sanitation")):
        assert case(client, t, "supervisor", cid)["notice_due"] is False
        act(client, t, dept, cid, "return", note="不属于本部门", reason="wrong_department")
        # 退单审核: the supervisor approves the return and re-dispatches in one change
        act(client, t, "supervisor", cid, "approve_return", department=then)
    c = case(client, t, "supervisor", cid)
    assert c["overdue"] is False and c["return_count"] == 2 and c["notice_due"] is True
    c = act(client, t, "supervisor", cid, "issue_notice", note="反复退单，请主动认领")
    assert c["notices"][0]["department_code"] == "sanitation"


def test_notice_on_any_case_for_a_leaders_instruction_or_media_exposure(
        client, people, demo_cell, runtime, at):
    """督办 on any case, not only overdue or handed-back ones: a leader's instruction (领导批示),
    media exposure (媒体曝光), repeated complaints; the ground is on the trail."""
    t = people
    cid = _accepted(client, t, demo_cell, runtime, at)
    act(client, t, "supervisor", cid, "dispatch", department="sanitation")
    assert case(client, t, "supervisor", cid)["notice_due"] is False
    act(client, t, "supervisor", cid, "issue_notice", expect=422, note="x", ground="rumour")
    c = act(client, t, "supervisor", cid, "issue_notice", ground="media_exposure",
            note="电视台曝光：垃圾堆放三日未清")
    [notice] = c["notices"]
    assert notice["department_code"] == "sanitation" and notice["state"] == "open"
    c = act(client, t, "supervisor", cid, "issue_notice", ground="leader_instruction",
            note="区领导批示：限期办结")
    grounds = [e["data"]["ground"] for e in _trail(client, t, cid)
               if e["action"] == "case.notice_issued"]
    assert grounds == ["media_exposure", "leader_instruction"]
    # the ground is kept with the notice itself: on the case and in the list of notices
    # (both issued at the same instant: their order is not the point)
    assert sorted(n["ground"] for n in c["notices"]) == ["leader_instruction", "media_exposure"]
    listed = client.get("/api/v1/notices", headers=auth(t["supervisor"])).get_json()
    assert sorted(n["ground"] for n in listed if n["report_id"] == cid) == [
        "leader_instruction", "media_exposure"]
    # the department is told and replies as to any notice
    act(client, t, "handler", cid, "reply_notice", notice_id=notice["id"], note="已清运")
    # not a supervisor's peer: a handler issues no notice
    act(client, t, "handler", cid, "issue_notice", expect=403, ground="media_exposure",
        note="x")


def test_overdue_escalation_proposes_a_whistle_at_level_two(
        client, people, demo_cell, runtime, at):
    t = people
    cid = _overdue_case(client, t, demo_cell, runtime, at)

    def overdue_notices():
        return [n for n in client.get("/api/v1/me/notifications",
                                      headers=auth(t["supervisor"])).get_json()
                if n["kind"] == "case.overdue" and n["case_id"] == cid]

    [first] = overdue_notices()
    assert first["data"]["escalation_level"] == 1 and "proposal" not in first["data"]
    at(datetime(2026, 11, 24, 11, 0, tzinfo=CST))
    act(client, t, "handler", cid, "return", note="需多部门", reason="outside_duties")
    # handed back: the accept stage runs again (1 working hour), then overdue again: level 2
    assert _sweep(runtime, datetime(2026, 11, 24, 14, 0, tzinfo=CST)) == 1
    second = [n for n in overdue_notices() if n["data"]["escalation_level"] == 2]
    assert [n["data"]["proposal"] for n in second] == ["whistle"]
    # a whistle taken on the proposal: a joint case is not proposed again
    _whistle(client, t, cid, lead="water", co=["sanitation"])
    assert _sweep(runtime, datetime(2026, 11, 30, 14, 0, tzinfo=CST)) == 1
    third = [n for n in overdue_notices() if n["data"]["escalation_level"] == 3]
    assert third and "proposal" not in third[0]["data"]
