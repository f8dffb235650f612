"""The seven-step closed loop through the API and a real worker (数字城管 闭环)."""

from __future__ import annotations

import dataclasses
import threading

from sqlalchemy import text

from cases_helpers import act, case, events, evidence, resolve_case, submit
from gridsnap.app import create_app
from gridsnap.extensions import Runtime

from conftest import auth
from followup import drain


def _inbox(client, tokens, persona) -> list[str]:
    r = client.get("/api/v1/me/notifications", headers=auth(tokens[persona]))
    assert r.status_code == 200
    return [n["kind"] for n in r.get_json()]


def test_full_loop_report_accept_dispatch_sign_resolve_verify_close(
        client, tokens, demo_cell, runtime, engine):
    cid = submit(client, tokens, demo_cell, runtime)
    c = case(client, tokens, "supervisor", cid)
    assert c["status"] == "reported" and c["stage"] == "accept"
    assert c["suggested_department"] == "sanitation"
    assert set(c["allowed_actions"]) == {"accept", "reject", "merge"}
    assert "case.reported" in _inbox(client, tokens, "supervisor")
    # the worker who reported it may look, not act
    assert case(client, tokens, "worker", cid)["allowed_actions"] == []

    c = act(client, tokens, "supervisor", cid, "accept")
    assert c["status"] == "accepted" and "dispatch" in c["allowed_actions"]
    c = act(client, tokens, "supervisor", cid, "dispatch")  # the suggested department
    assert c["status"] == "dispatched" and c["department"] == "sanitation"
    assert c["stage"] == "handle" and c["due_at"] is not None
    assert "case.dispatched" in _inbox(client, tokens, "handler")

    h = case(client, tokens, "handler", cid)
    assert set(h["allowed_actions"]) == {"sign", "return"}
    h = act(client, tokens, "handler", cid, "sign")
    assert h["responsible_department"] == "sanitation"
    assert set(h["allowed_actions"]) == {"resolve", "request_extension", "request_suspension"}
    act(client, tokens, "handler", cid, "resolve", expect=422)  # no after-photo
    photo = evidence(client, tokens, "handler", cid, "resolution")
    h = act(client, tokens, "handler", cid, "resolve", photo_ids=[photo], note="已清运")
    assert h["status"] == "resolved" and h["stage"] == "verify"

    w = case(client, tokens, "worker", cid)
    assert w["verifier_id"] is not None
    assert "verify_pass" in w["allowed_actions"]
    assert "case.verification_requested" in _inbox(client, tokens, "worker")
    tasks = client.get("/api/v1/me/tasks", headers=auth(tokens["worker"])).get_json()
    assert [t["id"] for t in tasks] == [cid]

    onsite = evidence(client, tokens, "worker", cid, "verification", seed=4)
    far = {"lon": demo_cell["lon"] + 0.002, "lat": demo_cell["lat"]}  # ~170 m east
    r = act(client, tokens, "worker", cid, "verify_pass", expect=422, photo_ids=[onsite],
            location=far)
    assert r["code"] == "case.too_far"
    near = {"lon": demo_cell["lon"] + 0.0002, "lat": demo_cell["lat"], "accuracy_m": 6}
    w = act(client, tokens, "worker", cid, "verify_pass", photo_ids=[onsite], location=near)
    assert w["status"] == "closed" and w["stage"] is None and w["allowed_actions"] == []

    trail = events(client, tokens, "supervisor", cid)
    assert trail == ["report.submitted", "report.routed", "case.accepted", "case.dispatched",
                     "case.signed", "photo.added", "case.resolved", "photo.added",
                     "case.verified"]
    with engine.connect() as conn:
        dist = conn.execute(text(
            "SELECT (data->>'distance_m')::float FROM case_events "
            "WHERE action = 'case.verified'")).scalar()
    assert 10 < dist < 25


def test_reject_needs_a_reason_and_ends_the_case(client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    r = act(client, tokens, "supervisor", cid, "reject", expect=422)
    assert r["code"] == "case.note_required" and "note" in r["fields"]
    c = act(client, tokens, "supervisor", cid, "reject", note="不属于城市管理范围")
    assert c["status"] == "rejected" and c["stage"] is None
    r = act(client, tokens, "supervisor", cid, "accept", expect=409)
    assert r["code"] == "case.invalid_transition" and "rejected" in r["message"]
    assert "case.rejected" in _inbox(client, tokens, "worker")


def test_return_before_signing_then_redispatch_to_another_department(
        client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    r = act(client, tokens, "handler", cid, "return", expect=422)  # a reason is required
    c = act(client, tokens, "handler", cid, "return", reason="wrong_department",
            note="此处为园林绿地，应由园林部门处理")
    assert c["status"] == "returned" and c["return_count"] == 1
    assert "case.return_review" in _inbox(client, tokens, "supervisor")
    # the handler no longer sees it once it left the department
    r = client.get(f"/api/v1/cases/{cid}", headers=auth(tokens["handler"]))
    assert r.status_code == 404
    # 退单审核: the return waits for the supervisor, who approves it and re-dispatches
    act(client, tokens, "supervisor", cid, "dispatch", department="landscaping", expect=409)
    c = act(client, tokens, "supervisor", cid, "approve_return", department="landscaping")
    assert c["status"] == "dispatched" and c["department"] == "landscaping"
    assert events(client, tokens, "supervisor", cid)[-3:] == ["case.returned",
                                                              "case.return_approved",
                                                              "case.dispatched"]


def test_after_signing_the_department_cannot_return_it(client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    r = act(client, tokens, "handler", cid, "return", expect=403, reason="other", note="x")
    assert r["code"] == "case.action_forbidden"


def test_extension_approved_moves_the_due_time(client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    before = act(client, tokens, "supervisor", cid, "dispatch")["due_at"]
    act(client, tokens, "handler", cid, "sign")
    c = act(client, tokens, "handler", cid, "request_extension", note="需要协调物业",
            extension={"amount": 2, "unit": "working_days"})
    assert c["pending_extension"]["amount"] == 2
    act(client, tokens, "handler", cid, "request_extension", expect=403, note="again",
        extension={"amount": 1, "unit": "working_days"})
    s = case(client, tokens, "supervisor", cid)
    assert {"approve_extension", "refuse_extension"} <= set(s["allowed_actions"])
    c = act(client, tokens, "supervisor", cid, "approve_extension", note="同意")
    assert c["due_at"] > before and c["pending_extension"] is None
    assert "case.extension_approved" in _inbox(client, tokens, "handler")


def test_extension_refused_keeps_the_due_time(client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    due = act(client, tokens, "supervisor", cid, "dispatch")["due_at"]
    act(client, tokens, "handler", cid, "sign")
    act(client, tokens, "handler", cid, "request_extension", note="x",
        extension={"amount": 1, "unit": "hours"})
    act(client, tokens, "supervisor", cid, "refuse_extension", expect=422)  # say why
    c = act(client, tokens, "supervisor", cid, "refuse_extension", note="时限内可完成")
    assert c["due_at"] == due and c["pending_extension"] is None


def test_failed_verification_is_rework_back_to_the_department(client, tokens, demo_cell,
                                                              runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    resolve_case(client, tokens, cid)
    photo = evidence(client, tokens, "worker", cid, "verification", seed=5)
    c = act(client, tokens, "worker", cid, "verify_fail", photo_ids=[photo],
            note="垃圾仍未清理干净")
    assert c["status"] == "dispatched" and c["rework_count"] == 1 and c["stage"] == "handle"
    assert "case.rework" in _inbox(client, tokens, "handler")
    # the department signed before: it stays responsible and goes straight to work
    allowed = case(client, tokens, "handler", cid)["allowed_actions"]
    assert "resolve" in allowed and "sign" not in allowed


def test_supervisor_can_close_or_order_rework_from_the_desk(client, tokens, demo_cell,
                                                            runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    resolve_case(client, tokens, cid)
    act(client, tokens, "supervisor", cid, "rework", expect=422)
    c = act(client, tokens, "supervisor", cid, "rework", note="照片看不清")
    assert c["status"] == "dispatched" and c["rework_count"] == 1
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution", seed=8)])
    c = act(client, tokens, "supervisor", cid, "close")
    assert c["status"] == "closed"


def test_the_handler_cannot_verify_their_own_work(client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    resolve_case(client, tokens, cid)
    assert "verify_pass" not in case(client, tokens, "handler", cid)["allowed_actions"]
    r = act(client, tokens, "handler", cid, "verify_pass", expect=403,
            location={"lon": demo_cell["lon"], "lat": demo_cell["lat"]})
    assert r["code"] == "case.action_forbidden"


def test_replayed_action_with_the_same_client_id_is_applied_once(client, tokens, demo_cell,
                                                                 runtime, engine):
    from conftest import new_id

    cid = submit(client, tokens, demo_cell, runtime)
    action_id = new_id()
    first = act(client, tokens, "supervisor", cid, "accept", client_action_id=action_id)
    again = act(client, tokens, "supervisor", cid, "accept", client_action_id=action_id)
    assert first["version"] == again["version"] and again["status"] == "accepted"
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM case_events WHERE action = 'case.accepted'")).scalar() == 1
    r = act(client, tokens, "supervisor", cid, "reject", expect=409, note="x",
            client_action_id=action_id)
    assert r["code"] == "case.action_id_conflict"


def test_stale_if_match_is_412_and_a_fresh_one_works(client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    r = client.get(f"/api/v1/cases/{cid}", headers=auth(tokens["supervisor"]))
    etag = r.headers["ETag"]
    act(client, tokens, "supervisor", cid, "accept", headers={"If-Match": etag})
    r = act(client, tokens, "supervisor", cid, "dispatch", expect=412,
            headers={"If-Match": etag})
    assert r["code"] == "case.precondition_failed"
    fresh = client.get(f"/api/v1/cases/{cid}", headers=auth(tokens["supervisor"])).headers["ETag"]
    act(client, tokens, "supervisor", cid, "dispatch", headers={"If-Match": fresh})


def test_if_match_is_read_as_entity_tags(client, tokens, demo_cell, runtime):
    """RFC 9110: weak tags compare weakly, a list matches any of its tags, `*` any case; a
    header that holds no version is 412, never ignored."""
    cid = submit(client, tokens, demo_cell, runtime)
    version = client.get(f"/api/v1/cases/{cid}",
                         headers=auth(tokens["supervisor"])).get_json()["version"]
    for bad in ('"x"', '""', '"3" junk', "W/"):
        r = act(client, tokens, "supervisor", cid, "accept", expect=412, headers={"If-Match": bad})
        assert r["code"] == "case.precondition_failed", bad
    act(client, tokens, "supervisor", cid, "accept",
        headers={"If-Match": f'"{version + 7}", W/"{version}"'})
    r = act(client, tokens, "supervisor", cid, "dispatch", expect=412,
            headers={"If-Match": f'"{version}"'})
    assert r["code"] == "case.precondition_failed"
    act(client, tokens, "supervisor", cid, "dispatch", headers={"If-Match": "*"})


def test_two_concurrent_conflicting_actions_one_wins(app, tokens, demo_cell, runtime, engine):
    client = app.test_client()
    cid = submit(client, tokens, demo_cell, runtime)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def send(action, extra):
        c = app.test_client()
        barrier.wait()
        r = c.post(f"/api/v1/cases/{cid}/actions", json={"action": action, **extra},
                   headers=auth(tokens["supervisor"]))
        results.append(r.status_code)

    threads = [threading.Thread(target=send, args=("accept", {})),
               threading.Thread(target=send, args=("reject", {"note": "重复"}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM case_events WHERE action IN "
                              "('case.accepted', 'case.rejected')")).scalar()
        status = conn.execute(text("SELECT status FROM reports")).scalar()
    assert n == 1 and status in ("accepted", "rejected")


def test_notifications_can_be_marked_read(client, tokens, demo_cell, runtime):
    submit(client, tokens, demo_cell, runtime)
    inbox = client.get("/api/v1/me/notifications?unread=true",
                       headers=auth(tokens["supervisor"])).get_json()
    assert inbox and inbox[0]["case_number"] is not None
    nid = inbox[0]["id"]
    r = client.post(f"/api/v1/me/notifications/{nid}/read", headers=auth(tokens["supervisor"]))
    assert r.status_code == 204
    after = client.get("/api/v1/me/notifications?unread=true",
                       headers=auth(tokens["supervisor"])).get_json()
    assert nid not in [n["id"] for n in after]
    r = client.post(f"/api/v1/me/notifications/{nid}/read", headers=auth(tokens["worker"]))
    assert r.status_code == 404


def test_handler_sees_only_cases_of_their_department(client, tokens, demo_cell, runtime):
    mine = submit(client, tokens, demo_cell, runtime)
    other = submit(client, tokens, demo_cell, runtime, category="C0101")
    for cid in (mine, other):
        act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", mine, "dispatch", department="sanitation")
    act(client, tokens, "supervisor", other, "dispatch", department="water")
    listed = client.get("/api/v1/cases", headers=auth(tokens["handler"])).get_json()
    assert [c["id"] for c in listed] == [mine]
    assert client.get(f"/api/v1/cases/{other}",
                      headers=auth(tokens["handler"])).status_code == 404
    tasks = client.get("/api/v1/me/tasks", headers=auth(tokens["handler"])).get_json()
    assert [t["id"] for t in tasks] == [mine]
    drain(runtime)


def test_the_api_index_publishes_the_limits_the_server_enforces(app, settings):
    """The phone warns before it sends with the limits of GET /api/v1 (cached for offline), so
    they are the settings the server checks, whatever the deployment set."""
    limits = app.test_client().get("/api/v1").get_json()["limits"]
    assert limits == {"verify_distance_m": settings.verify_distance_m,
                      "photo_max_bytes": settings.photo_max_bytes}
    other = dataclasses.replace(settings, verify_distance_m=120, photo_max_bytes=5_000_000)
    runtime = Runtime(other)
    try:
        limits = create_app(runtime=runtime).test_client().get("/api/v1").get_json()["limits"]
    finally:
        runtime.dispose()
    assert limits == {"verify_distance_m": 120, "photo_max_bytes": 5_000_000}


def test_the_api_index_publishes_the_case_vocabulary(client):
    """The apps read which actions need a note or a photo, the open statuses and the sources
    from the server's rules, not from a copy of them."""
    root = client.get("/api/v1").get_json()
    actions = root["cases"]["actions"]
    assert actions["reject"] == {"note": True, "photo": False}
    assert actions["resolve"] == {"note": False, "photo": True}
    assert "mark_overdue" not in actions and "route" not in actions  # the system's own
    assert root["cases"]["open_statuses"][0] == "reported" and "closed" not in root["cases"]["open_statuses"]
    assert root["hotline"] == {"sources": ["worker", "hotline", "open311", "other"],
                               "unmasked_roles": ["admin", "call_taker"]}
