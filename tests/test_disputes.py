"""矛盾纠纷: a dispute reported offline-safe, its parties masked (unmasked views on its trail),
可能激化 told to the street's 综治 office at once and escalated when nobody acts, mediation as
steps with deadlines, the figures — and who sees a dispute: every role × scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridsnap import clock
from gridsnap.notifications import rules as nk
from gridsnap.users.service import add_user

from conftest import PERSONAS, auth, lasting_token, new_id

PASSWORD = "dispute-pass-1"
COMMUNITY = "110101001001"  # the demo worker's and mediator's community (多福巷)
STREET = COMMUNITY[:9]  # 东华门
OTHER_STREET = "110101006"  # 东四


def dispute_body(cell: dict, **overrides) -> dict:
    captured = (clock.now() - timedelta(minutes=5)).astimezone(UTC).replace(microsecond=0)
    body = {
        "kind": "neighbours", "risk": "normal",
        "parties": [{"name": "王小明", "phone": "13812345678"},
                    {"name": "欧阳春", "phone": "13987654321"}],
        "description": "楼上漏水，两户争执",
        "location": {"lon": cell["lon"], "lat": cell["lat"], "accuracy_m": 6.0},
        "captured_at": captured.isoformat(),
    }
    body.update(overrides)
    return body


def _user(client, engine, username: str, role: str, scopes: list[str],
          department: str | None = None) -> str:
    with Session(engine) as s, s.begin():
        add_user(s, username=username, display_name=username, role=role, password=PASSWORD,
                 scopes=scopes, department_code=department)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.get_json()
    return lasting_token(engine, r.get_json()["token"])


def _put(client, token: str, body: dict, dispute_id: str | None = None):
    return client.put(f"/api/v1/disputes/{dispute_id or new_id()}", json=body,
                      headers=auth(token))


def _notices(engine, kind: str) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT u.username, n.data FROM notifications n JOIN users u ON u.id = n.user_id
             WHERE n.kind = :k
        """), {"k": kind}).all()
    out: dict[str, list[dict]] = {}
    for username, data in rows:
        out.setdefault(username, []).append(data)
    return out


def test_a_dispute_is_placed_in_its_cell_and_a_replay_is_the_same_dispute(client, tokens,
                                                                          demo_cell, engine):
    did = new_id()
    body = dispute_body(demo_cell)
    r = _put(client, tokens["worker"], body, did)
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert first["area_code"] == demo_cell["code"] and first["status"] == "reported"
    assert first["parties"][0] == {"name": "王**", "phone": "138****5678", "masked": True}
    assert first["parties"][1]["name"] == "欧**"
    again = _put(client, tokens["worker"], body, did)
    assert again.status_code == 200 and again.get_json()["number"] == first["number"]
    other = _put(client, tokens["worker"], {**body, "description": "另一件事"}, did)
    assert other.status_code == 409 and other.get_json()["code"] == "dispute.id_conflict"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM disputes")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM dispute_parties")).scalar() == 2


@pytest.mark.parametrize("field,value", [
    ("kind", "murder"), ("risk", "extreme"), ("parties", []),
    ("parties", [{"name": "张三", "phone": "call me"}]), ("location", {"lon": 500, "lat": 39}),
])
def test_bad_input_names_the_field_and_saves_nothing(client, tokens, demo_cell, engine,
                                                      field, value):
    r = _put(client, tokens["worker"], dispute_body(demo_cell, **{field: value}))
    assert r.status_code == 422
    assert r.get_json()["code"] == "request.invalid"
    assert any(k.startswith(field) for k in r.get_json()["fields"]), r.get_json()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM disputes")).scalar() == 0


def test_volatile_dispute_tells_the_streets_zongzhi_office_at_once_without_details(
        client, tokens, demo_cell, engine):
    _user(client, engine, "zz_street", "supervisor", [STREET])
    _user(client, engine, "zz_community_sup", "supervisor", [COMMUNITY])
    _user(client, engine, "zz_other_street", "supervisor", [OTHER_STREET])
    r = _put(client, tokens["worker"], dispute_body(demo_cell, risk="may_escalate"))
    assert r.status_code == 201
    volatile = _notices(engine, nk.DISPUTE_VOLATILE)
    assert {"zz_street", PERSONAS["supervisor"], PERSONAS["admin"]} <= set(volatile)
    # a community's supervisor is not the street's 综治 office; another street hears nothing
    assert not {"zz_community_sup", "zz_other_street", PERSONAS["mediator"]} & set(volatile)
    data = volatile["zz_street"][0]
    assert data["risk"] == "may_escalate" and data["dispute_id"] == r.get_json()["id"]
    assert "王" not in str(data) and "138" not in str(data) and "漏水" not in str(data)
    assert set(_notices(engine, nk.DISPUTE_REPORTED)) == {PERSONAS["mediator"]}
    inbox = client.get("/api/v1/me/notifications", headers=auth(tokens["mediator"]))
    assert inbox.status_code == 200, inbox.get_json()
    [notice] = [n for n in inbox.get_json() if n["kind"] == nk.DISPUTE_REPORTED]
    assert notice["data"]["dispute_id"] == r.get_json()["id"] and notice["case_id"] is None


def test_an_ordinary_dispute_tells_only_the_mediators(client, tokens, demo_cell, engine):
    assert _put(client, tokens["worker"], dispute_body(demo_cell)).status_code == 201
    assert _notices(engine, nk.DISPUTE_VOLATILE) == {}
    assert set(_notices(engine, nk.DISPUTE_REPORTED)) == {PERSONAS["mediator"]}


def test_the_parties_unmasked_only_for_the_mediator_and_each_view_is_on_the_trail(
        client, tokens, demo_cell):
    did = _put(client, tokens["worker"], dispute_body(demo_cell)).get_json()["id"]
    r = client.get(f"/api/v1/disputes/{did}?unmasked=true", headers=auth(tokens["worker"]))
    assert r.status_code == 403  # the reporter sees the dispute, the parties masked only
    r = client.get(f"/api/v1/disputes/{did}?unmasked=true", headers=auth(tokens["mediator"]))
    assert r.status_code == 200
    body = r.get_json()
    assert body["parties"][0] == {"name": "王小明", "phone": "13812345678", "masked": False}
    viewed = [s for s in body["steps"] if s["action"] == "dispute.parties_viewed"]
    assert len(viewed) == 1 and viewed[0]["actor_name"] == "何平"


def test_mediation_runs_accept_session_agreement_follow_up(client, tokens, demo_cell, at):
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    at(t0)
    did = _put(client, tokens["worker"], dispute_body(demo_cell)).get_json()["id"]
    h = auth(tokens["mediator"])

    def step(body, when):
        at(when)
        return client.post(f"/api/v1/disputes/{did}/steps", json=body, headers=h)

    r = step({"step": "agree", "agreement": "赔偿"}, t0 + timedelta(hours=1))
    assert r.status_code == 409 and r.get_json()["code"] == "dispute.invalid_step"
    r = step({"step": "accept"}, t0 + timedelta(hours=2))
    assert r.status_code == 200 and r.get_json()["status"] == "accepted"
    assert r.get_json()["resolve_due_at"].startswith("2026-04-01")
    r = step({"step": "hold_session"}, t0 + timedelta(days=1))
    assert r.status_code == 422 and "session" in r.get_json()["fields"]
    r = step({"step": "hold_session", "session": {
        "held_on": "2026-03-03", "participants": ["王小明", "欧阳春", "何平"],
        "notes": "双方同意修缮"}}, t0 + timedelta(days=1))
    assert r.status_code == 200 and r.get_json()["status"] == "mediating"
    assert r.get_json()["allowed_steps"] == ["hold_session", "agree", "transfer"]
    r = step({"step": "agree", "agreement": "楼上负责维修并赔偿500元"}, t0 + timedelta(days=3))
    assert r.status_code == 200 and r.get_json()["status"] == "agreed"
    assert r.get_json()["follow_up_due_at"].startswith("2026-03-20")
    r = step({"step": "follow_up", "follow_up": {"visited_on": "2026-03-15", "holds": True}},
             t0 + timedelta(days=13))
    assert r.status_code == 200
    done = r.get_json()
    assert done["status"] == "closed" and done["allowed_steps"] == []
    assert [s["action"] for s in done["steps"]] == [
        "dispute.reported", "dispute.accepted", "dispute.session_held", "dispute.agreed",
        "dispute.followed_up"]
    assert done["steps"][3]["data"]["on_time"] is True


def test_failed_mediation_is_transferred_with_its_receiving_body_and_a_reason(
        client, tokens, demo_cell):
    did = _put(client, tokens["worker"], dispute_body(demo_cell, kind="labour")).get_json()["id"]
    h = auth(tokens["supervisor"])  # the 综治 office works it too
    assert client.post(f"/api/v1/disputes/{did}/steps", json={"step": "accept"},
                       headers=h).status_code == 200
    transfer = {"step": "transfer", "transfer": {"to": "court", "body": "东城区人民法院"}}
    r = client.post(f"/api/v1/disputes/{did}/steps", json=transfer, headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "dispute.note_required"
    r = client.post(f"/api/v1/disputes/{did}/steps", json={**transfer, "note": "调解不成"},
                    headers=h)
    assert r.status_code == 200
    out = r.get_json()
    assert (out["status"], out["transferred_to"], out["transferred_body"]) == (
        "transferred", "court", "东城区人民法院")


def test_an_unattended_volatile_dispute_is_escalated_once(client, tokens, demo_cell, engine,
                                                          followup, at):
    t0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    at(t0)
    quiet = _put(client, tokens["worker"], dispute_body(demo_cell, risk="may_escalate"))
    taken = _put(client, tokens["worker"], dispute_body(demo_cell, risk="may_escalate"))
    ordinary = _put(client, tokens["worker"], dispute_body(demo_cell))
    assert {quiet.status_code, taken.status_code, ordinary.status_code} == {201}
    at(t0 + timedelta(hours=1))
    assert client.post(f"/api/v1/disputes/{taken.get_json()['id']}/steps",
                       json={"step": "accept"}, headers=auth(tokens["mediator"])).status_code == 200
    at(t0 + timedelta(hours=1, minutes=59))
    assert followup.run_task("disputes.escalate_unattended") == 0
    at(t0 + timedelta(hours=2, minutes=1))
    assert followup.run_task("disputes.escalate_unattended") == 1
    assert followup.run_task("disputes.escalate_unattended") == 0
    r = client.get(f"/api/v1/disputes/{quiet.get_json()['id']}", headers=auth(tokens["mediator"]))
    assert r.get_json()["escalated_at"] is not None
    assert "dispute.escalated" in [s["action"] for s in r.get_json()["steps"]]
    assert PERSONAS["supervisor"] in _notices(engine, nk.DISPUTE_ESCALATED)


def test_figures_count_found_resolved_on_time_and_transferred_by_kind_and_area(
        client, tokens, demo_cell, at):
    t0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    at(t0)
    h = auth(tokens["mediator"])
    ids = [_put(client, tokens["worker"], dispute_body(demo_cell, kind=k)).get_json()["id"]
           for k in ("neighbours", "neighbours", "neighbours", "family")]

    def step(did, body):
        assert client.post(f"/api/v1/disputes/{did}/steps", json=body,
                           headers=h).status_code == 200

    for did in ids[:3]:
        step(did, {"step": "accept"})
    step(ids[0], {"step": "agree", "agreement": "和解"})
    at(t0 + timedelta(days=40))  # past the 30 days of mediation
    step(ids[1], {"step": "agree", "agreement": "和解"})
    step(ids[2], {"step": "transfer", "note": "调解不成",
                  "transfer": {"to": "police", "body": "东华门派出所"}})
    q = "from=2026-06-01T00:00:00Z&to=2026-06-02T00:00:00Z"
    rows = client.get(f"/api/v1/disputes/figures?{q}&by=kind", headers=h).get_json()
    by_kind = {r["key"]: r for r in rows}
    assert by_kind["neighbours"] == {
        "key": "neighbours", "found": 3, "resolved": 2, "resolution_rate": 0.6667,
        "resolved_on_time": 1, "on_time_rate": 0.5, "transferred": 1, "open": 0}
    assert by_kind["family"]["found"] == 1 and by_kind["family"]["resolution_rate"] == 0.0
    rows = client.get(f"/api/v1/disputes/figures?{q}&by=community",
                      headers=auth(tokens["supervisor"])).get_json()
    assert rows == [{"key": COMMUNITY, "found": 4, "resolved": 2, "resolution_rate": 0.5,
                     "resolved_on_time": 1, "on_time_rate": 0.5, "transferred": 1, "open": 1}]
    r = client.get(f"/api/v1/disputes/figures?{q}", headers=auth(tokens["worker"]))
    assert r.status_code == 403
    r = client.get(f"/api/v1/disputes/figures?{q}", headers=auth(tokens["worker2"]))
    assert r.status_code == 403


# --- who sees a dispute: every role × scope -----------------------------------------------

# persona or (username, role, scopes, department) -> (sees it, works it, unmasks it)
MATRIX = {
    "worker": (True, False, False),  # the reporter
    "worker2": (False, False, False),  # a worker of another community
    "mediator": (True, True, True),  # the community's mediator
    ("m_other", "mediator", (OTHER_STREET + "001",), None): (False, False, False),
    ("m_street", "mediator", (STREET,), None): (True, True, True),
    "supervisor": (True, True, True),  # the district: above the street's 综治 office
    ("s_street", "supervisor", (STREET,), None): (True, True, True),  # the street's 综治 office
    ("s_community", "supervisor", (COMMUNITY,), None): (False, False, False),
    ("s_other", "supervisor", (OTHER_STREET,), None): (False, False, False),
    "admin": (True, True, True),
    ("a_other", "admin", (OTHER_STREET,), None): (False, False, False),
    "handler": (False, False, False),  # departments never see disputes
    "handler2": (False, False, False),  # the street office of 东华门: a department too
    "call_taker": (False, False, False),
}


def test_access_matrix_every_role_and_scope(client, tokens, demo_cell, engine):
    did = _put(client, tokens["worker"], dispute_body(demo_cell)).get_json()["id"]
    client_key = _user(client, engine, "d_client", "client", [""])
    for who, (sees, works, unmasks) in MATRIX.items():
        if isinstance(who, str):
            token, name = tokens[who], who
        else:
            username, role, scopes, department = who
            token = _user(client, engine, username, role, list(scopes), department)
            name = username
        h = auth(token)
        r = client.get(f"/api/v1/disputes/{did}", headers=h)
        assert r.status_code == (200 if sees else 404), name
        if not sees:
            assert r.get_json()["code"] == "dispute.not_found", name
        listed = client.get("/api/v1/disputes", headers=h).get_json()
        assert ([d["id"] for d in listed] == [did]) is sees, name
        r = client.get(f"/api/v1/disputes/{did}?unmasked=true", headers=h)
        assert r.status_code == (200 if unmasks else 403 if sees else 404), name
        if unmasks:
            assert r.get_json()["parties"][0]["masked"] is False, name
        if sees:
            plain = client.get(f"/api/v1/disputes/{did}", headers=h).get_json()
            assert plain["parties"][0]["masked"] is True, name
            assert bool(plain["allowed_steps"]) is works, name
            assert plain["may_unmask"] is unmasks, name
    # a client system's key works on Open311 only; a dispute is nowhere on the case surfaces
    r = client.get(f"/api/v1/disputes/{did}", headers=auth(client_key))
    assert r.status_code == 401
    sup = auth(tokens["supervisor"])
    assert client.get("/api/v1/reports", headers=sup).get_json() == []
    # the step is refused to those who see but may not work it, 404 to the others
    r = client.post(f"/api/v1/disputes/{did}/steps", json={"step": "accept"},
                    headers=auth(tokens["worker"]))
    assert r.status_code == 403
    r = client.post(f"/api/v1/disputes/{did}/steps", json={"step": "accept"},
                    headers=auth(tokens["handler"]))
    assert r.status_code == 404



def test_a_step_sent_again_under_its_client_id_is_taken_once(client, tokens, demo_cell):
    did = _put(client, tokens["worker"], dispute_body(demo_cell)).get_json()["id"]
    h = auth(tokens["mediator"])
    accept = {"step": "accept", "client_step_id": new_id()}
    first = client.post(f"/api/v1/disputes/{did}/steps", json=accept, headers=h)
    again = client.post(f"/api/v1/disputes/{did}/steps", json=accept, headers=h)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["status"] == "accepted"
    held = {"step": "hold_session", "client_step_id": new_id(), "session": {
        "held_on": "2026-03-03", "participants": ["王小明", "欧阳春"], "notes": ""}}
    for _ in range(2):
        r = client.post(f"/api/v1/disputes/{did}/steps", json=held, headers=h)
        assert r.status_code == 200
    trail = [s["action"] for s in r.get_json()["steps"]]
    assert trail == ["dispute.reported", "dispute.accepted", "dispute.session_held"]
    # another id is another session
    r = client.post(f"/api/v1/disputes/{did}/steps", json={**held, "client_step_id": new_id()},
                    headers=h)
    assert [s["action"] for s in r.get_json()["steps"]].count("dispute.session_held") == 2


def test_the_list_with_steps_carries_each_trail_and_a_worker_sees_only_their_own(
        client, tokens, demo_cell, engine):
    mine = _put(client, tokens["worker"], dispute_body(demo_cell)).get_json()["id"]
    other = _put(client, tokens["mediator"], dispute_body(demo_cell, kind="labour")).get_json()["id"]
    h = auth(tokens["mediator"])
    client.post(f"/api/v1/disputes/{mine}/steps", json={"step": "accept"}, headers=h)
    r = client.get("/api/v1/disputes?steps=true", headers=h)
    assert r.status_code == 200
    trails = {d["id"]: [s["action"] for s in d["steps"]] for d in r.get_json()}
    assert trails == {mine: ["dispute.reported", "dispute.accepted"],
                      other: ["dispute.reported"]}
    assert all(p["masked"] for d in r.get_json() for p in d["parties"])
    # the grid worker's own list: only what they reported, its state as the mediator left it
    r = client.get("/api/v1/disputes", headers=auth(tokens["worker"]))
    assert [(d["id"], d["status"], d["allowed_steps"]) for d in r.get_json()] == [
        (mine, "accepted", [])]
    assert "steps" not in r.get_json()[0]
