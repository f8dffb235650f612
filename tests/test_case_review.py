"""退单审核 and 挂账/缓办 through the API, the real database and the periodic job, with a
controlled clock: a return waits for a supervisor who refuses it (back to the same department
under the deadline that was running) or approves it (and re-dispatches); with the review off a
return takes effect at once; a 挂账 is asked for, refused or approved, the overdue sweep passes a
suspended case by, and it comes back on its review date under a new deadline."""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from cases_helpers import act, case, submit
from gridsnap.cases.jobs import RESUME_SUSPENDED
from gridsnap.cases.sweeps import escalate_overdue
from gridsnap.worker import PERIODIC, enqueue_periodic, run_worker

from conftest import REPO, auth

CST = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=CST)


def _inbox(client, tokens, persona) -> list[str]:
    r = client.get("/api/v1/me/notifications", headers=auth(tokens[persona]))
    assert r.status_code == 200
    return [n["kind"] for n in r.get_json()]


def _trail(client, tokens, cid) -> list[dict]:
    r = client.get(f"/api/v1/cases/{cid}/events", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200
    return r.get_json()


def _dispatched(client, tokens, cell, runtime, at, when=MONDAY, category="E0102") -> tuple:
    """A case dispatched to sanitation at `when`; returns (id, the case)."""
    at(when)
    cid = submit(client, tokens, cell, runtime, category=category)
    act(client, tokens, "supervisor", cid, "accept")
    return cid, act(client, tokens, "supervisor", cid, "dispatch", department="sanitation")


def _state(engine, cid) -> tuple:
    """(version, events, requests) straight from the database."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT version, (SELECT count(*) FROM case_events e WHERE e.report_id = r.id),"
            " (SELECT count(*) FROM case_requests q WHERE q.report_id = r.id)"
            " FROM reports r WHERE id = :id"), {"id": cid}).one())


# --- 退单审核 -----------------------------------------------------------------------------------

def test_a_return_refused_by_a_supervisor_goes_back_to_the_same_department_with_its_deadline(
        client, tokens, demo_cell, runtime, at):
    cid, c = _dispatched(client, tokens, demo_cell, runtime, at)
    due = c["due_at"]
    at(MONDAY + timedelta(hours=2))
    r = act(client, tokens, "handler", cid, "return", reason="wrong_department",
            note="此处为园林绿地")
    assert r["status"] == "returned" and r["department"] is None
    s = case(client, tokens, "supervisor", cid)
    assert s["pending_return"]["reason"] == "wrong_department"
    assert s["pending_return"]["department"] == "sanitation"
    assert s["pending_return"]["note"] == "此处为园林绿地"
    assert {"approve_return", "refuse_return"} <= set(s["allowed_actions"])
    assert "dispatch" not in s["allowed_actions"]
    # the supervisor's inbox says a return awaits review; the case waits in their tasks
    assert "case.return_review" in _inbox(client, tokens, "supervisor")
    tasks = client.get("/api/v1/me/tasks", headers=auth(tokens["supervisor"])).get_json()
    assert cid in [t["id"] for t in tasks]
    # no dispatch before the review
    r = act(client, tokens, "supervisor", cid, "dispatch", expect=409, department="water")
    assert r["code"] == "case.invalid_transition"
    # a refusal says why
    r = act(client, tokens, "supervisor", cid, "refuse_return", expect=422)
    assert r["code"] == "case.note_required" and "note" in r["fields"]

    at(MONDAY + timedelta(hours=3))
    c = act(client, tokens, "supervisor", cid, "refuse_return", note="垃圾堆放在人行道上，属环卫")
    assert c["status"] == "dispatched" and c["department"] == "sanitation"
    assert c["stage"] == "handle" and c["due_at"] == due  # the clock did not stop
    assert c["pending_return"] is None and c["signed_at"] is None
    h = case(client, tokens, "handler", cid)
    assert set(h["allowed_actions"]) == {"sign", "return"}
    assert "case.return_refused" in _inbox(client, tokens, "handler")

    trail = _trail(client, tokens, cid)
    returned, refused = trail[-2], trail[-1]
    assert returned["action"] == "case.returned" and refused["action"] == "case.return_refused"
    assert {k: returned["data"][k] for k in ("reason", "department_code", "review")} == {
        "reason": "wrong_department", "department_code": "sanitation", "review": True}
    assert returned["note"] == "此处为园林绿地"
    assert refused["data"] == {"department_code": "sanitation", "due_at": refused["data"]["due_at"],
                               "stage": "handle"}
    assert datetime.fromisoformat(refused["data"]["due_at"]) == datetime.fromisoformat(due)
    assert refused["note"] == "垃圾堆放在人行道上，属环卫"
    assert (refused["from_status"], refused["to_status"]) == ("returned", "dispatched")


def test_a_return_approved_and_redispatched_to_another_department_in_one_change(
        client, tokens, demo_cell, runtime, at):
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "return", reason="outside_duties", note="不归环卫")
    # approving it and sending it back where it came from is a refusal: say so
    r = act(client, tokens, "supervisor", cid, "approve_return", expect=422,
            department="sanitation")
    assert r["code"] == "request.invalid" and "department" in r["fields"]
    c = act(client, tokens, "supervisor", cid, "approve_return", department="landscaping",
            note="同意，改派园林")
    assert c["status"] == "dispatched" and c["department"] == "landscaping"
    assert c["pending_return"] is None and c["stage"] == "handle"
    trail = _trail(client, tokens, cid)
    assert [e["action"] for e in trail[-3:]] == ["case.returned", "case.return_approved",
                                                 "case.dispatched"]
    approved = trail[-2]
    assert approved["data"] == {"department_code": "sanitation", "reason": "outside_duties"}
    assert approved["department"] == "sanitation" and approved["to_status"] == "accepted"
    assert trail[-1]["department"] == "landscaping"


def test_a_return_approved_alone_waits_in_the_dispatch_queue(
        client, tokens, demo_cell, runtime, at):
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "return", reason="wrong_department", note="x")
    c = act(client, tokens, "supervisor", cid, "approve_return")
    assert c["status"] == "accepted" and c["stage"] == "accept"
    assert "dispatch" in c["allowed_actions"] and "refuse_return" not in c["allowed_actions"]
    r = act(client, tokens, "supervisor", cid, "refuse_return", expect=409, note="too late")
    assert r["code"] == "case.invalid_transition"
    c = act(client, tokens, "supervisor", cid, "dispatch", department="water")
    assert c["department"] == "water"


def test_with_the_review_off_a_return_takes_effect_at_once(
        client, tokens, demo_cell, runtime, at, monkeypatch):
    monkeypatch.setattr(runtime, "settings",
                        dataclasses.replace(runtime.settings, return_review=False))
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at)
    c = act(client, tokens, "handler", cid, "return", reason="wrong_department", note="不归环卫")
    assert c["status"] == "accepted" and c["department"] is None and c["return_count"] == 1
    s = case(client, tokens, "supervisor", cid)
    assert s["pending_return"] is None and "dispatch" in s["allowed_actions"]
    assert "approve_return" not in s["allowed_actions"]
    assert "case.returned" in _inbox(client, tokens, "supervisor")
    returned = _trail(client, tokens, cid)[-1]
    assert returned["action"] == "case.returned" and returned["to_status"] == "accepted"
    assert returned["data"]["review"] is False
    assert returned["data"]["department_code"] == "sanitation"
    act(client, tokens, "supervisor", cid, "dispatch", department="landscaping")


# --- 挂账/缓办 ----------------------------------------------------------------------------------

def _signed(client, tokens, cell, runtime, at, when=MONDAY):
    cid, c = _dispatched(client, tokens, cell, runtime, at, when)
    act(client, tokens, "handler", cid, "sign")
    return cid, c


def test_a_suspension_asked_for_and_refused_leaves_the_case_with_the_department(
        client, tokens, demo_cell, runtime, at):
    cid, c = _signed(client, tokens, demo_cell, runtime, at)
    h = act(client, tokens, "handler", cid, "request_suspension", reason_kind="funding",
            review_on="2026-12-15", note="需财政立项资金")
    assert h["status"] == "dispatched" and h["suspension"]["status"] == "pending"
    assert h["suspension"]["reason_kind"] == "funding"
    assert h["suspension"]["review_on"] == "2026-12-15"
    # while the supervisor decides, the department neither resolves nor asks again
    assert h["allowed_actions"] == []
    assert "case.suspension_requested" in _inbox(client, tokens, "supervisor")
    s = case(client, tokens, "supervisor", cid)
    assert {"approve_suspension", "refuse_suspension"} <= set(s["allowed_actions"])
    r = act(client, tokens, "supervisor", cid, "refuse_suspension", expect=422)
    assert r["code"] == "case.note_required"
    c2 = act(client, tokens, "supervisor", cid, "refuse_suspension", note="可先行临时处置")
    assert c2["status"] == "dispatched" and c2["suspension"] is None
    assert c2["due_at"] == c["due_at"]
    assert "case.suspension_refused" in _inbox(client, tokens, "handler")
    assert {"resolve", "request_extension", "request_suspension"} <= set(
        case(client, tokens, "handler", cid)["allowed_actions"])
    trail = _trail(client, tokens, cid)
    assert [e["action"] for e in trail[-2:]] == ["case.suspension_requested",
                                                 "case.suspension_refused"]
    assert trail[-2]["data"] == {"reason_kind": "funding", "review_on": "2026-12-15"}
    assert trail[-1]["note"] == "可先行临时处置"


def test_a_suspended_case_is_not_marked_overdue_and_comes_back_on_its_review_date(
        client, tokens, demo_cell, runtime, engine, at, followup):
    cid, c = _signed(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "request_suspension", reason_kind="court",
        review_on="2026-11-20", note="等待法院判决")
    at(MONDAY + timedelta(hours=1))
    s = act(client, tokens, "supervisor", cid, "approve_suspension", note="同意挂账")
    assert s["status"] == "suspended" and s["stage"] is None and s["due_at"] is None
    assert s["suspension"]["status"] == "approved" and s["allowed_actions"] == ["resume", "issue_notice"]
    assert "case.suspension_approved" in _inbox(client, tokens, "handler")
    suspended = _trail(client, tokens, cid)[-1]
    assert suspended["action"] == "case.suspended"
    assert {k: suspended["data"][k] for k in ("reason_kind", "review_on", "department_code")} == {
        "reason_kind": "court", "review_on": "2026-11-20", "department_code": "sanitation"}
    # its own list: GET /cases?status=suspended, with reason, review date and department
    listed = client.get("/api/v1/cases?status=suspended",
                        headers=auth(tokens["supervisor"])).get_json()
    assert [(x["id"], x["suspension"]["review_on"], x["suspension"]["reason_kind"],
             x["department"]) for x in listed] == [(cid, "2026-11-20", "court", "sanitation")]
    # the old handling deadline passes: no overdue mark
    with runtime.sessions() as session:
        assert escalate_overdue(session, now=datetime(2026, 11, 10, 12, 0, tzinfo=CST)) == 0
        session.commit()
    assert case(client, tokens, "supervisor", cid)["overdue"] is False

    at(datetime(2026, 11, 19, 23, 59, tzinfo=CST))  # the eve of its review date
    assert followup.run_task(RESUME_SUSPENDED) == 0
    at(datetime(2026, 11, 20, 8, 0, tzinfo=CST))  # its review date, in Beijing time
    assert followup.run_task(RESUME_SUSPENDED) == 1
    assert followup.run_task(RESUME_SUSPENDED) == 0  # idempotent
    back = case(client, tokens, "supervisor", cid)
    assert back["status"] == "dispatched" and back["department"] == "sanitation"
    assert back["stage"] == "handle" and back["suspension"] is None
    # a new handling deadline from now: E0102 is 1 working day → Mon 23 Nov 09:00... from
    # Fri 20 Nov 08:00 (before business hours) it is the end of Friday's working day
    due = datetime.fromisoformat(back["due_at"])
    assert due > datetime(2026, 11, 20, 8, 0, tzinfo=CST)
    assert due != datetime.fromisoformat(c["due_at"])
    resumed = _trail(client, tokens, cid)[-1]
    assert resumed["action"] == "case.resumed" and resumed["actor_id"] is None
    assert resumed["data"] == {"department_code": "sanitation", "by": "review_date",
                               "stage": "handle", "due_at": resumed["data"]["due_at"]}
    assert datetime.fromisoformat(resumed["data"]["due_at"]) == due
    assert "case.resumed" in _inbox(client, tokens, "handler")
    # the department signed before: it resolves straight away
    assert "resolve" in case(client, tokens, "handler", cid)["allowed_actions"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM case_requests WHERE report_id = :id"),
                            {"id": cid}).scalar() == "ended"


def test_a_supervisor_may_resume_a_suspended_case_before_its_review_date(
        client, tokens, demo_cell, runtime, at):
    cid, _ = _signed(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "request_suspension", reason_kind="planning",
        review_on="2027-03-01", note="等待规划调整")
    act(client, tokens, "supervisor", cid, "approve_suspension")
    at(MONDAY + timedelta(days=3))
    act(client, tokens, "handler", cid, "resume", expect=403)
    c = act(client, tokens, "supervisor", cid, "resume", note="资金已落实")
    assert c["status"] == "dispatched" and c["stage"] == "handle" and c["due_at"] is not None
    resumed = _trail(client, tokens, cid)[-1]
    assert resumed["data"]["by"] == "supervisor"


TODAY = date(2026, 11, 2)
BAD_SUSPENSIONS = {
    "review-date-today": ("handler", {"reason_kind": "funding", "review_on": str(TODAY)},
                          422, "case.bad_review_date", "review_on"),
    "review-date-past": ("handler", {"reason_kind": "funding", "review_on": "2026-10-30"},
                         422, "case.bad_review_date", "review_on"),
    "review-date-too-far": ("handler", {"reason_kind": "funding",
                                        "review_on": str(TODAY + timedelta(days=366))},
                            422, "case.bad_review_date", "review_on"),
    "no-review-date": ("handler", {"reason_kind": "funding"}, 422, "case.bad_review_date",
                       "review_on"),
    "not-a-date": ("handler", {"reason_kind": "funding", "review_on": "next spring"},
                   422, "request.invalid", "review_on"),
    "unknown-reason-kind": ("handler", {"reason_kind": "weather", "review_on": "2026-12-01"},
                            422, "request.invalid", "reason_kind"),
    "no-reason-kind": ("handler", {"review_on": "2026-12-01"}, 422, "request.invalid",
                       "reason_kind"),
    "supervisor-may-not-ask": ("supervisor", {"reason_kind": "funding",
                                              "review_on": "2026-12-01"},
                               403, "case.action_forbidden", None),
    "worker-may-not-ask": ("worker", {"reason_kind": "funding", "review_on": "2026-12-01"},
                           403, "case.action_forbidden", None),
}


@pytest.mark.parametrize(("persona", "body", "status", "code", "field"),
                         BAD_SUSPENSIONS.values(), ids=BAD_SUSPENSIONS.keys())
def test_a_bad_suspension_request_is_refused_with_a_stable_code_and_changes_nothing(
        client, tokens, demo_cell, runtime, engine, at, persona, body, status, code, field):
    cid, _ = _signed(client, tokens, demo_cell, runtime, at)
    before = _state(engine, cid)
    r = act(client, tokens, persona, cid, "request_suspension", expect=status, note="x", **body)
    assert r["code"] == code, r
    if field is not None:
        assert field in r["fields"], r
    assert _state(engine, cid) == before


def test_the_longest_review_date_allowed_is_suspension_max_days_ahead(
        client, tokens, demo_cell, runtime, at):
    cid, _ = _signed(client, tokens, demo_cell, runtime, at)
    c = act(client, tokens, "handler", cid, "request_suspension", reason_kind="other",
            review_on=str(TODAY + timedelta(days=365)), note="x")
    assert c["suspension"]["review_on"] == str(TODAY + timedelta(days=365))


WRONG_DECIDERS = {
    # (persona, action, what they get): the department may not decide its own requests
    "handler-approves-own-suspension": ("handler", "approve_suspension", 403,
                                        "case.action_forbidden"),
    "worker-refuses-suspension": ("worker", "refuse_suspension", 403, "case.action_forbidden"),
    "handler-resumes": ("handler", "resume", 409, "case.invalid_transition"),
}


@pytest.mark.parametrize(("persona", "action", "status", "code"), WRONG_DECIDERS.values(),
                         ids=WRONG_DECIDERS.keys())
def test_only_a_supervisor_decides_a_suspension(client, tokens, demo_cell, runtime, engine, at,
                                                persona, action, status, code):
    cid, _ = _signed(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "request_suspension", reason_kind="funding",
        review_on="2026-12-01", note="x")
    before = _state(engine, cid)
    r = act(client, tokens, persona, cid, action, expect=status, note="y")
    assert r["code"] == code
    assert _state(engine, cid) == before


def test_only_a_supervisor_reviews_a_return(client, tokens, demo_cell, runtime, engine, at):
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "return", reason="other", note="x")
    before = _state(engine, cid)
    # the department no longer sees it; the worker who reported it may look, not decide
    assert act(client, tokens, "handler", cid, "refuse_return", expect=404,
               note="y")["code"] == "case.not_found"
    assert act(client, tokens, "worker", cid, "approve_return",
               expect=403)["code"] == "case.action_forbidden"
    assert _state(engine, cid) == before


def test_a_decision_without_a_request_is_a_conflict(client, tokens, demo_cell, runtime, at):
    cid, _ = _signed(client, tokens, demo_cell, runtime, at)
    r = act(client, tokens, "supervisor", cid, "approve_suspension", expect=409)
    assert r["code"] == "case.invalid_transition" and "挂账" in r["message"]


def _migration_0007():
    path = next((REPO / "backend" / "gridsnap" / "migrations" / "versions").glob("*_0007_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_case_returned_before_the_review_existed_awaits_review_after_the_migration(
        client, tokens, demo_cell, runtime, engine, at):
    cid, c = _dispatched(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "return", reason="duplicate", note="与另一案件重复")
    with engine.begin() as conn:  # as it was before migration 0007: no request row
        conn.execute(text("DELETE FROM case_requests WHERE report_id = :id"), {"id": cid})
    s = case(client, tokens, "supervisor", cid)
    assert s["pending_return"] is None and "refuse_return" not in s["allowed_actions"]
    with engine.begin() as conn:
        conn.execute(text(_migration_0007().BACKFILL_RETURNS))
        conn.execute(text(_migration_0007().BACKFILL_RETURNS))  # once per case
        assert conn.execute(text("SELECT count(*) FROM case_requests")).scalar() == 1
    s = case(client, tokens, "supervisor", cid)
    assert s["pending_return"]["reason"] == "duplicate"
    assert s["pending_return"]["department"] == "sanitation"
    assert s["pending_return"]["note"] == "与另一案件重复"
    assert "dispatch" not in s["allowed_actions"]
    back = act(client, tokens, "supervisor", cid, "refuse_return", note="并不重复")
    assert back["department"] == "sanitation" and back["due_at"] == c["due_at"]


def _row(**kw) -> dict:
    base = {"request_id": 7, "request_kind": "suspension", "request_status": "pending",
            "request_department": "sanitation", "status": "dispatched",
            "department_code": "sanitation"}
    return {**base, **kw}


OVERTAKEN = {
    "no-request": (_row(request_id=None, status="closed"), True),
    "return-awaiting-review": (_row(request_kind="return", status="returned",
                                    department_code=None), True),
    "return-but-dispatched-elsewhere": (_row(request_kind="return", department_code="water"),
                                        False),
    "suspension-asked-by-the-holder": (_row(), True),
    "suspension-asked-but-sent-to-another-department": (_row(department_code="water"), False),
    "suspension-asked-but-resolved": (_row(status="resolved"), False),
    "suspension-in-force": (_row(request_status="approved", status="suspended"), True),
    "suspension-in-force-but-dispatched": (_row(request_status="approved"), False),
}


@pytest.mark.parametrize(("row", "alive"), OVERTAKEN.values(), ids=OVERTAKEN.keys())
def test_a_request_another_change_overtook_is_withdrawn(row, alive):
    from gridsnap.cases.rules import request_alive

    assert request_alive(row) is alive


def test_the_next_change_of_a_case_withdraws_a_request_it_overtook(
        client, tokens, demo_cell, runtime, engine, at):
    # a state no action of this branch leaves (another feature re-dispatched a returned case,
    # say): a dispatched case still holding a return "awaiting review"
    cid, _ = _dispatched(client, tokens, demo_cell, runtime, at)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO case_requests (report_id, kind, reason_kind, "
                          "department_code) VALUES (:id, 'return', 'other', 'water')"),
                     {"id": cid})
    act(client, tokens, "handler", cid, "sign")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM case_requests WHERE report_id = :id"),
                            {"id": cid}).scalar() == "withdrawn"
    c = act(client, tokens, "handler", cid, "request_suspension", reason_kind="other",
            review_on="2026-12-01", note="x")
    assert c["suspension"]["status"] == "pending"


def test_the_relay_puts_the_return_of_suspended_cases_on_the_queue_and_a_worker_runs_it(
        client, tokens, demo_cell, runtime, at, followup):
    cid, _ = _signed(client, tokens, demo_cell, runtime, at)
    act(client, tokens, "handler", cid, "request_suspension", reason_kind="funding",
        review_on="2026-11-05", note="x")
    act(client, tokens, "supervisor", cid, "approve_suspension")
    at(datetime(2026, 11, 5, 0, 30, tzinfo=CST))
    assert RESUME_SUSPENDED in {task for task, _, _ in PERIODIC}
    enqueue_periodic(runtime)
    run_worker(followup, burst=True)
    assert case(client, tokens, "supervisor", cid)["status"] == "dispatched"
