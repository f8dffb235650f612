"""Who may see and touch a case: every case endpoint × every role × inside and outside scope.

Invariant 4: outside their scope a caller gets exactly what a case that does not exist gets
(same status, same code, same message but for the id), and a list never contains it. Inside
scope, a caller who may look but not act gets 403 case.action_forbidden.

The scopes of the story (demo city, 东城区 110101):
- worker 王建国: the community that holds demo_cell; worker2 李秀英: another community.
- supervisor 张敏: the district 110101; supervisor_other: a made-up district 110102.
- handler 刘强 (环卫 sanitation): the cases dispatched to sanitation; not those dispatched to
  another department, nor those not dispatched yet.
- responsible units (责任单位: department × area): handler2 孙华 the street office of 东华门
  (which holds demo_cell), handler3 周杰 the street office of 东四, handler4 吴芳 sanitation in
  东四; handler_no_area: sanitation with no scope (sees nothing), handler_city: sanitation with
  the city scope "" (given explicitly: today's reach).
- admin: everything; city_supervisor (scope ""): everything, like the admin.
The cases are reported by a separate worker (scoped elsewhere), so nobody above sees them only
because they reported them.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from cases_helpers import evidence
from gridsnap.users import queries as user_queries
from gridsnap.users.models import User
from gridsnap.users.service import hash_token
from hotline_helpers import call_body, take_call

from conftest import PERSONAS, auth, new_id, report_body
from followup import drain
from photo_samples import make_jpeg

OTHER_DISTRICT = "110102"
NOWHERE = {"lon": 121.47, "lat": 31.23}  # Shanghai: outside every area of the demo city
PASSWORD = "matrix-password-1"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD)


# --- the world of one test ------------------------------------------------------------------

@dataclass
class World:
    """Cases of each kind and the people who ask about them, made on first use."""

    client: object
    tokens: dict
    cell: dict
    engine: object
    runtime: object
    cases: dict = field(default_factory=dict)  # kind -> case id
    photos: dict = field(default_factory=dict)  # case id -> photo id

    def token(self, persona: str) -> str:
        if persona not in self.tokens:
            self.tokens[persona] = self._make_persona(persona)
        return self.tokens[persona]

    def headers(self, persona: str) -> dict:
        return auth(self.token(persona))

    def _make_persona(self, persona: str) -> str:
        if persona == "reporter":
            # a worker of another street: sees the cases below only as their reporter
            return self._seat_user("matrix_reporter", "worker", ["110101009"])
        if persona == "supervisor_other":
            return self._seat_user("matrix_sup_110102", "supervisor", [OTHER_DISTRICT])
        if persona == "city_supervisor":
            return self._seat_user("matrix_sup_city", "supervisor", [""])
        if persona == "handler_no_area":
            return self._seat_user("matrix_hdl_none", "handler", [], "sanitation")
        if persona == "handler_city":
            return self._seat_user("matrix_hdl_city", "handler", [""], "sanitation")
        raise KeyError(persona)

    def _seat_user(self, username: str, role: str, scopes: list[str],
                   department: str | None = None) -> str:
        """A user and a token straight in the database: the matrix makes one or two per test,
        and hashing a password each time (scrypt) would double its run time. The admin API
        that makes users for real is tested below."""
        raw = secrets.token_urlsafe(16)
        with self.runtime.sessions() as session:
            user = User(username=username, display_name=username, role=role,
                        password_hash=_password_hash(), scopes=scopes,
                        department_code=department)
            session.add(user)
            session.flush()
            user_queries.insert_token(session, user_id=user.id, token_hash=hash_token(raw),
                                      expires_at=datetime.now(UTC) + timedelta(days=1),
                                      label="matrix")
            session.commit()
        return raw

    def act(self, persona: str, case_id: str, action: str, **body) -> dict:
        r = self.client.post(f"/api/v1/cases/{case_id}/actions",
                             json={"action": action, **body}, headers=self.headers(persona))
        assert r.status_code == 200, (persona, action, r.get_json())
        return r.get_json()

    def case(self, kind: str) -> str:
        """reported | dispatched (to sanitation) | dispatched_other (to water) | resolved
        (by sanitation, waiting for the demo worker's 核查) | returned (by sanitation, awaiting
        review) | suspension_asked (挂账 asked by sanitation) | nowhere (outside every area,
        reported by the demo worker) | joint_co (a joint case led by water, sanitation summoned
        as a co-department: 吹哨报到) | joint_other (led by water with municipal)."""
        if kind in self.cases:
            return self.cases[kind]
        if kind == "nowhere":
            cid = self._submit("worker", NOWHERE)
        else:
            cid = self._submit("reporter", self.cell)
        if kind in ("dispatched", "dispatched_other", "dispatched_street", "resolved"):
            self.act("supervisor", cid, "accept")
            department = {"dispatched_other": "water",
                          "dispatched_street": "street_office"}.get(kind, "sanitation")
            self.act("supervisor", cid, "dispatch", department=department)
        if kind == "returned":  # 退单, awaiting the supervisor's review
            self.act("supervisor", cid, "accept")
            self.act("supervisor", cid, "dispatch", department="sanitation")
            self.act("handler", cid, "return", reason="wrong_department", note="不归环卫")
        if kind == "suspension_asked":  # 挂账 asked for by sanitation, awaiting a decision
            self.act("supervisor", cid, "accept")
            self.act("supervisor", cid, "dispatch", department="sanitation")
            self.act("handler", cid, "sign")
            self.act("handler", cid, "request_suspension", reason_kind="funding",
                     review_on=str(datetime.now(UTC).date() + timedelta(days=30)), note="需资金")
        if kind in ("joint_co", "joint_other"):
            self.act("supervisor", cid, "accept")
            co = "sanitation" if kind == "joint_co" else "municipal"
            self.act("supervisor", cid, "whistle", lead_department="water",
                     co_departments=[co], note="吹哨")
        if kind == "resolved":
            self.act("handler", cid, "sign")
            photo = evidence(self.client, self.tokens, "handler", cid, "resolution")
            done = self.act("handler", cid, "resolve", photo_ids=[photo])
            assert done["verifier_id"] == self.user_id(PERSONAS["worker"])
        self.cases[kind] = cid
        return cid

    def _submit(self, persona: str, where: dict) -> str:
        cid = new_id()
        r = self.client.put(f"/api/v1/reports/{cid}", json=report_body(where),
                            headers=self.headers(persona))
        assert r.status_code == 201, r.get_json()
        pid = new_id()
        r = self.client.put(f"/api/v1/reports/{cid}/photos/{pid}", data=make_jpeg(seed=11),
                            content_type="image/jpeg", headers=self.headers(persona))
        assert r.status_code == 201, r.get_json()
        self.photos[cid] = pid
        return cid

    def user_id(self, username: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT id FROM users WHERE username = :u"),
                                {"u": username}).scalar_one()

    def trail(self, case_id: str) -> tuple[int, int, str]:
        """(version, events, status) straight from the database."""
        with self.engine.connect() as conn:
            return tuple(conn.execute(text(
                "SELECT version, (SELECT count(*) FROM case_events e WHERE e.report_id = r.id),"
                " status FROM reports r WHERE id = :id"), {"id": case_id}).one())


def add_user(world: World, username: str, role: str, scopes: list[str],
             department: str | None = None) -> str:
    """Add a user through the admin API and log them in; returns their token."""
    r = world.client.post("/api/v1/admin/users", headers=world.headers("admin"), json={
        "username": username, "role": role, "password": PASSWORD, "scopes": scopes,
        "department": department})
    assert r.status_code == 201, r.get_json()
    return login(world.client, username)


def login(client, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


@pytest.fixture()
def world(client, tokens, demo_cell, engine, runtime) -> World:
    return World(client=client, tokens=dict(tokens), cell=demo_cell, engine=engine,
                 runtime=runtime)


# --- who asks about which case ----------------------------------------------------------------

@dataclass(frozen=True)
class Seat:
    persona: str
    kind: str  # the case they ask about
    inside: bool
    action: str  # a harmless action to try
    action_status: int | None = None  # the answer to it inside scope


SEATS = {
    "worker-own-community": Seat("worker", "reported", True, "accept", 403),
    "worker-other-community": Seat("worker2", "reported", False, "accept"),
    "supervisor-own-district": Seat("supervisor", "reported", True, "accept", 200),
    "supervisor-other-district": Seat("supervisor_other", "reported", False, "accept"),
    "handler-own-department": Seat("handler", "dispatched", True, "sign", 200),
    "handler-other-department": Seat("handler", "dispatched_other", False, "sign"),
    "handler-not-yet-dispatched": Seat("handler", "reported", False, "sign"),
    # 吹哨报到: a co-department sees the joint case and reports in; a joint case of others no
    "handler-co-department": Seat("handler", "joint_co", True, "report_in", 200),
    "handler-joint-elsewhere": Seat("handler", "joint_other", False, "report_in"),
    "admin": Seat("admin", "reported", True, "accept", 200),
    "city-supervisor": Seat("city_supervisor", "reported", True, "accept", 200),
    # responsible units: department × area (the case lies in 东华门)
    "handler-own-street-office": Seat("handler2", "dispatched_street", True, "sign", 200),
    "handler-street-office-of-another-street": Seat("handler3", "dispatched_street", False,
                                                    "sign"),
    "handler-own-department-other-street": Seat("handler4", "dispatched", False, "sign"),
    "handler-district-department-in-a-street": Seat("handler", "dispatched_street", False,
                                                    "sign"),
    "handler-with-no-area": Seat("handler_no_area", "dispatched", False, "sign"),
    "handler-given-the-city": Seat("handler_city", "dispatched", True, "sign", 200),
}


# --- the case endpoints -------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One request about one case; `case_id=None` asks about one that does not exist."""

    method: str
    template: str

    def send(self, world: World, seat: Seat, case_id: str | None):
        photo_id = world.photos[case_id] if case_id else str(uuid.uuid4())
        report_id = case_id or str(uuid.uuid4())
        path = self.template.format(id=report_id, pid=photo_id, new_pid=new_id())
        h = world.headers(seat.persona)
        if self.method == "POST":
            return world.client.post(path, json={"action": seat.action}, headers=h)
        if self.method == "PUT":
            return world.client.put(path, data=make_jpeg(seed=12), content_type="image/jpeg",
                                    headers=h)
        return world.client.get(path, headers=h)


PROBES = {
    "GET /cases/{id}": Probe("GET", "/api/v1/cases/{id}"),
    "GET /cases/{id}/events": Probe("GET", "/api/v1/cases/{id}/events"),
    "POST /cases/{id}/actions": Probe("POST", "/api/v1/cases/{id}/actions"),
    "GET /reports/{id}": Probe("GET", "/api/v1/reports/{id}"),
    "GET /photos/{pid}": Probe("GET", "/api/v1/photos/{pid}?size=original"),
    "PUT /reports/{id}/photos/{pid}": Probe("PUT", "/api/v1/reports/{id}/photos/{new_pid}"),
}


def _normalised(resp, ids: list[str]) -> tuple:
    body = resp.get_json()
    message = body.get("message", "")
    for i in ids:
        message = message.replace(i, "<id>")
    return resp.status_code, body.get("code"), _UUID.sub("<id>", message), body.get("fields")


def assert_same_as_missing(world: World, probe: Probe, seat: Seat, resp, case_id: str) -> None:
    missing = probe.send(world, seat, None)
    assert missing.status_code == 404, missing.get_json()
    assert _normalised(resp, [case_id, world.photos[case_id]]) == _normalised(missing, []), (
        resp.get_json(), missing.get_json())
    assert resp.headers.get("ETag") is None


def assert_inside(world: World, name: str, seat: Seat, resp, case_id: str) -> None:
    body = resp.get_json(silent=True)
    if name == "GET /cases/{id}":
        assert resp.status_code == 200, body
        assert body["id"] == case_id and resp.headers["ETag"] == f'"{body["version"]}"'
    elif name == "GET /cases/{id}/events":
        assert resp.status_code == 200, body
        assert body[0]["action"] == "report.submitted"
    elif name == "POST /cases/{id}/actions":
        assert resp.status_code == seat.action_status, body
        if seat.action_status == 403:
            assert body["code"] == "case.action_forbidden"
        elif seat.action == "accept":
            assert body["id"] == case_id and body["status"] == "accepted"
        elif seat.action == "report_in":
            assert body["id"] == case_id and body["joint"]["not_reported_in"] == ["water"]
        else:
            department = "street_office" if seat.kind == "dispatched_street" else "sanitation"
            assert body["id"] == case_id and body["responsible_department"] == department
    elif name == "GET /reports/{id}":
        assert resp.status_code == 200, body
        assert body["id"] == case_id and [p["id"] for p in body["photos"]][0] == \
            world.photos[case_id]
    elif name == "GET /photos/{pid}" and ("supervisor" in seat.persona or "admin" in seat.persona):
        assert resp.status_code == 200
        assert resp.mimetype == "image/jpeg" and resp.data == make_jpeg(seed=11)
    elif name == "GET /photos/{pid}":
        # the original (EXIF and all) is the uploader's, admins' and area supervisors'; others
        # in scope get the EXIF-free sizes (still being made here: 409, not 404)
        assert resp.status_code == 404 and body["code"] == "photo.not_found"
        shown = world.client.get(f"/api/v1/photos/{world.photos[case_id]}?size=display",
                                 headers=world.headers(seat.persona))
        assert shown.status_code == 409 and shown.get_json()["code"] == "photo.not_ready"
    elif name == "PUT /reports/{id}/photos/{pid}":
        assert resp.status_code == 201, body
    else:  # pragma: no cover
        raise AssertionError(name)


@pytest.mark.parametrize("seat", SEATS.values(), ids=SEATS.keys())
@pytest.mark.parametrize("name", PROBES.keys())
def test_case_endpoint_answers_inside_scope_and_404_as_if_missing_outside(world, name, seat):
    case_id = world.case(seat.kind)
    before = world.trail(case_id)
    resp = PROBES[name].send(world, seat, case_id)
    if seat.inside:
        assert_inside(world, name, seat, resp, case_id)
        if resp.status_code == 403:
            assert world.trail(case_id) == before
        return
    assert_same_as_missing(world, PROBES[name], seat, resp, case_id)
    # and nothing happened to the case
    assert world.trail(case_id) == before
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photos WHERE report_id = :id"),
                            {"id": case_id}).scalar() == 1


LISTS = ("/api/v1/cases", "/api/v1/reports")


@pytest.mark.parametrize("seat", SEATS.values(), ids=SEATS.keys())
@pytest.mark.parametrize("path", LISTS)
def test_a_list_holds_the_case_inside_scope_and_never_outside(world, path, seat):
    case_id = world.case(seat.kind)
    for query in ("", "?updated_since=2000-01-01T00:00:00Z"):
        r = world.client.get(path + query, headers=world.headers(seat.persona))
        assert r.status_code == 200, r.get_json()
        ids = [c["id"] for c in r.get_json()]
        assert (case_id in ids) is seat.inside, (query, ids)
        # the count is of what the caller may see, too
        assert json.loads(r.headers["X-Pagination"])["total"] == len(ids)


# 我的待办: what waits for each role, and never a case outside scope
TASKS = {
    "worker-verification-waiting": ("worker", "resolved", True),
    "worker-other-community": ("worker2", "resolved", False),
    "supervisor-own-district": ("supervisor", "reported", True),
    "supervisor-other-district": ("supervisor_other", "reported", False),
    "handler-own-department": ("handler", "dispatched", True),
    "handler-other-department": ("handler", "dispatched_other", False),
    "handler-not-yet-dispatched": ("handler", "reported", False),
    "handler-co-department": ("handler", "joint_co", True),
    "handler-joint-elsewhere": ("handler", "joint_other", False),
    "admin": ("admin", "reported", True),
    "handler-own-street-office": ("handler2", "dispatched_street", True),
    "handler-street-office-of-another-street": ("handler3", "dispatched_street", False),
    "handler-own-department-other-street": ("handler4", "dispatched", False),
}


@pytest.mark.parametrize(("persona", "kind", "listed"), TASKS.values(), ids=TASKS.keys())
def test_my_tasks_hold_what_waits_for_me_and_nothing_outside_scope(world, persona, kind,
                                                                    listed):
    case_id = world.case(kind)
    for query in ("", "?updated_since=2000-01-01T00:00:00Z"):
        r = world.client.get("/api/v1/me/tasks" + query, headers=world.headers(persona))
        assert r.status_code == 200, r.get_json()
        assert (case_id in [t["id"] for t in r.get_json()]) is listed, query


def test_missing_case_answers_are_the_reference(world):
    """The answers every outside-scope request is compared with."""
    seat = SEATS["admin"]
    codes = {name: (p.send(world, seat, None).status_code,
                    p.send(world, seat, None).get_json()["code"]) for name, p in PROBES.items()}
    assert codes == {
        "GET /cases/{id}": (404, "case.not_found"),
        "GET /cases/{id}/events": (404, "case.not_found"),
        "POST /cases/{id}/actions": (404, "case.not_found"),
        "GET /reports/{id}": (404, "report.not_found"),
        "GET /photos/{pid}": (404, "photo.not_found"),
        "PUT /reports/{id}/photos/{pid}": (404, "report.not_found"),
    }


def test_inside_scope_a_worker_may_look_but_not_act(world):
    cid = world.case("reported")
    for action, body in (("accept", {}), ("reject", {"note": "不予立案"}),
                         ("dispatch", {"department": "sanitation"})):
        r = world.client.post(f"/api/v1/cases/{cid}/actions", json={"action": action, **body},
                              headers=world.headers("worker"))
        if action == "dispatch":  # not from reported: the state answers first
            assert (r.status_code, r.get_json()["code"]) == (409, "case.invalid_transition")
        else:
            assert (r.status_code, r.get_json()["code"]) == (403, "case.action_forbidden")
    got = world.client.get(f"/api/v1/cases/{cid}", headers=world.headers("worker")).get_json()
    assert got["allowed_actions"] == [] and got["status"] == "reported"


def test_a_handler_loses_sight_of_a_case_returned_before_signing(world):
    cid = world.case("dispatched")
    world.act("handler", cid, "return", reason="wrong_department", note="不归环卫")
    seat = Seat("handler", "dispatched", False, "sign")
    for probe in PROBES.values():
        assert_same_as_missing(world, probe, seat, probe.send(world, seat, cid), cid)
    listed = world.client.get("/api/v1/cases", headers=world.headers("handler")).get_json()
    assert cid not in [c["id"] for c in listed]


# --- who decides a department's request: 退单审核 and 挂账 ----------------------------------------

# persona -> the answer to a decision: supervisors of the case's area decide, the department
# that asked may not (or no longer sees the case), the rest are outside scope or may only look
DECIDERS = {
    "supervisor-own-district": ("supervisor", 200, 200),
    "supervisor-other-district": ("supervisor_other", 404, 404),
    "city-supervisor": ("city_supervisor", 200, 200),
    "admin": ("admin", 200, 200),
    "handler-who-asked": ("handler", 404, 403),  # a returned case left the department's sight
    "worker-own-community": ("worker", 403, 403),
    "worker-other-community": ("worker2", 404, 404),
}
DECISIONS = {"refuse_return": ("returned", 1), "approve_return": ("returned", 1),
             "refuse_suspension": ("suspension_asked", 2),
             "approve_suspension": ("suspension_asked", 2)}


@pytest.mark.parametrize("decision", DECISIONS.keys())
@pytest.mark.parametrize(("persona", "on_return", "on_suspension"), DECIDERS.values(),
                         ids=DECIDERS.keys())
def test_only_supervisors_of_the_area_decide_a_return_or_a_suspension(
        world, persona, on_return, on_suspension, decision):
    kind, which = DECISIONS[decision]
    expected = on_return if which == 1 else on_suspension
    case_id = world.case(kind)
    before = world.trail(case_id)
    r = world.client.post(f"/api/v1/cases/{case_id}/actions",
                          json={"action": decision, "note": "审核意见"},
                          headers=world.headers(persona))
    assert r.status_code == expected, r.get_json()
    if expected != 200:
        assert world.trail(case_id) == before
        assert r.get_json()["code"] == {403: "case.action_forbidden",
                                         404: "case.not_found"}[expected]


# --- a case outside every area (no area_code) -----------------------------------------------

NOWHERE_SEES = {
    "admin": True, "city_supervisor": True, "worker": True,  # the demo worker reported it
    "worker2": False, "supervisor": False, "supervisor_other": False, "handler": False,
}


@pytest.mark.parametrize(("persona", "sees"), NOWHERE_SEES.items(), ids=NOWHERE_SEES.keys())
def test_a_case_outside_every_area_belongs_to_the_city_and_its_reporter(world, persona, sees):
    cid = world.case("nowhere")
    got = world.client.get(f"/api/v1/cases/{cid}", headers=world.headers("admin")).get_json()
    assert got["area_code"] is None and got["district"] is None and got["outside_grid"]
    seat = Seat(persona, "nowhere", sees, "accept")
    for name in ("GET /cases/{id}", "GET /cases/{id}/events", "GET /reports/{id}",
                 "GET /photos/{pid}"):
        resp = PROBES[name].send(world, seat, cid)
        if sees:
            assert resp.status_code == 200, (name, resp.get_json(silent=True))
        else:
            assert_same_as_missing(world, PROBES[name], seat, resp, cid)
    for path in LISTS:
        ids = [c["id"] for c in world.client.get(
            path, headers=world.headers(persona)).get_json()]
        assert (cid in ids) is sees, path


@pytest.mark.parametrize(("persona", "status"), [
    ("admin", 200), ("city_supervisor", 200), ("worker", 403), ("supervisor", 404),
])
def test_only_the_city_scope_may_accept_a_case_outside_every_area(world, persona, status):
    cid = world.case("nowhere")
    r = world.client.post(f"/api/v1/cases/{cid}/actions", json={"action": "accept"},
                          headers=world.headers(persona))
    assert r.status_code == status, r.get_json()


# --- known holes, kept as specs until fixed -----------------------------------------------------

def test_replaying_someone_elses_client_action_id_reveals_nothing(world):
    cid = world.case("reported")
    action_id = new_id()
    world.act("supervisor", cid, "accept", client_action_id=action_id)
    seat = SEATS["worker-other-community"]
    r = world.client.post(f"/api/v1/cases/{cid}/actions",
                          json={"action": "accept", "client_action_id": action_id},
                          headers=world.headers(seat.persona))
    missing = world.client.post(f"/api/v1/cases/{uuid.uuid4()}/actions",
                                json={"action": "accept"}, headers=world.headers(seat.persona))
    assert _normalised(r, [cid]) == _normalised(missing, [])


def test_replaying_my_own_client_action_id_after_losing_sight_reveals_nothing(world):
    """The handler returned (退单) a case before signing: it left their sight. Replaying that
    return, with its old client_action_id, is answered as a case that does not exist."""
    cid = world.case("dispatched")
    action_id = new_id()
    world.act("handler", cid, "return", reason="wrong_department", note="不归环卫",
              client_action_id=action_id)
    assert world.client.get(f"/api/v1/cases/{cid}",
                            headers=world.headers("handler")).status_code == 404
    r = world.client.post(f"/api/v1/cases/{cid}/actions",
                          json={"action": "return", "reason": "wrong_department",
                                "note": "不归环卫", "client_action_id": action_id},
                          headers=world.headers("handler"))
    missing = world.client.post(f"/api/v1/cases/{uuid.uuid4()}/actions",
                                json={"action": "return"}, headers=world.headers("handler"))
    assert _normalised(r, [cid]) == _normalised(missing, [])


def test_put_of_someone_elses_report_id_is_404_like_get(world):
    """Another worker's report id: PUT answers as GET does (as if it did not exist), whatever
    the body; the reporter's own replay and conflict are answered as before (invariant 2)."""
    cid = world.case("reported")  # reported by the matrix reporter
    body = report_body(world.cell)
    for persona in ("worker2", "handler3"):
        put = world.client.put(f"/api/v1/reports/{cid}", json=body,
                               headers=world.headers(persona))
        get = world.client.get(f"/api/v1/reports/{cid}", headers=world.headers(persona))
        assert put.status_code == get.status_code == 404, put.get_json()
        assert put.get_json() == get.get_json()
    # the reporter: a different body under their id is still the conflict
    r = world.client.put(f"/api/v1/reports/{cid}", json={**body, "description": "另一件事"},
                         headers=world.headers("reporter"))
    assert r.status_code == 409 and r.get_json()["code"] == "report.id_conflict"


def test_possible_duplicates_never_name_a_case_outside_scope(world):
    # worker2 reports in the demo worker's community (they see it as its reporter); the
    # supervisor's report of the same thing 10 m away is outside worker2's scope
    mine = new_id()
    r = world.client.put(f"/api/v1/reports/{mine}", json=report_body(world.cell),
                         headers=world.headers("worker2"))
    assert r.status_code == 201
    near = {"lon": world.cell["lon"] + 10 / 85_000, "lat": world.cell["lat"]}
    other = new_id()
    r = world.client.put(f"/api/v1/reports/{other}", json=report_body(near),
                         headers=world.headers("supervisor"))
    assert r.status_code == 201
    drain(world.runtime)
    assert world.client.get(f"/api/v1/cases/{other}",
                            headers=world.headers("worker2")).status_code == 404
    got = world.client.get(f"/api/v1/cases/{mine}", headers=world.headers("worker2")).get_json()
    assert other not in [d["id"] for d in got["possible_duplicates"]]


# --- admin: users and their scopes -------------------------------------------------------------

NOT_ADMINS = ("worker", "supervisor", "handler")


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_only_admins_list_add_or_change_users(world, persona):
    h = world.headers(persona)
    r = world.client.get("/api/v1/admin/users", headers=h)
    assert (r.status_code, r.get_json()["code"]) == (403, "auth.forbidden")
    r = world.client.post("/api/v1/admin/users", headers=h, json={
        "username": "matrix_intruder", "role": "admin", "password": PASSWORD, "scopes": [""]})
    assert (r.status_code, r.get_json()["code"]) == (403, "auth.forbidden")
    r = world.client.patch(f"/api/v1/admin/users/{PERSONAS[persona]}", headers=h,
                           json={"scopes": [""]})
    assert (r.status_code, r.get_json()["code"]) == (403, "auth.forbidden")
    r = world.client.patch(f"/api/v1/admin/users/{PERSONAS['worker2']}", headers=h,
                           json={"disabled": True})
    assert (r.status_code, r.get_json()["code"]) == (403, "auth.forbidden")
    users = {u["username"]: u for u in world.client.get(
        "/api/v1/admin/users", headers=world.headers("admin")).get_json()}
    assert "matrix_intruder" not in users
    assert users[PERSONAS[persona]]["scopes"] != [""]
    assert users[PERSONAS["worker2"]]["disabled_at"] is None


def test_admin_endpoints_need_a_login(client):
    assert client.get("/api/v1/admin/users").status_code == 401
    assert client.post("/api/v1/admin/users", json={}).status_code == 401
    assert client.patch("/api/v1/admin/users/admin", json={}).status_code == 401


def test_admin_lists_every_user_with_role_and_scopes(world):
    r = world.client.get("/api/v1/admin/users", headers=world.headers("admin"))
    assert r.status_code == 200
    users = {u["username"]: u for u in r.get_json()}
    assert set(PERSONAS.values()) <= set(users)
    assert users[PERSONAS["handler"]]["department"] == "sanitation"
    assert users[PERSONAS["supervisor"]]["scopes"] == ["110101"]
    assert all("password" not in u and "password_hash" not in u for u in users.values())


BAD_USERS = {
    "unknown-role": ({"role": "mayor"}, "role"),
    "scope-not-digits": ({"scopes": ["11010A"]}, "scopes.0"),
    "scope-longer-than-a-cell": ({"scopes": ["1" * 16]}, "scopes.0"),
    "short-password": ({"password": "short"}, "password"),
    "bad-username": ({"username": "王 建国"}, "username"),
    "handler-without-department": ({"role": "handler"}, None),
    "existing-username": ({"username": PERSONAS["worker"]}, None),
}


@pytest.mark.parametrize(("change", "field_name"), BAD_USERS.values(), ids=BAD_USERS.keys())
def test_adding_a_user_with_bad_input_is_422_and_adds_nobody(world, change, field_name):
    body = {"username": "matrix_new", "role": "worker", "password": PASSWORD,
            "scopes": ["110101001001"], **change}
    before = len(world.client.get("/api/v1/admin/users",
                                  headers=world.headers("admin")).get_json())
    r = world.client.post("/api/v1/admin/users", json=body, headers=world.headers("admin"))
    assert r.status_code == 422, r.get_json()
    if field_name is not None:
        assert r.get_json()["code"] == "request.invalid"
        assert any(k.endswith(field_name) for k in r.get_json()["fields"]), r.get_json()
    else:
        assert r.get_json()["code"] == "user.invalid"
    after = len(world.client.get("/api/v1/admin/users",
                                 headers=world.headers("admin")).get_json())
    assert after == before


def test_adding_a_handler_of_an_unknown_department_is_422(world):
    r = world.client.post("/api/v1/admin/users", headers=world.headers("admin"), json={
        "username": "matrix_handler", "role": "handler", "password": PASSWORD,
        "scopes": [], "department": "no_such_department"})
    assert (r.status_code, r.get_json()["code"]) == (422, "user.invalid")


def test_changing_scopes_takes_effect_on_the_next_request(world):
    cid = world.case("reported")
    token = add_user(world, "matrix_worker3", "worker", ["110101006002"])
    assert world.client.get(f"/api/v1/cases/{cid}", headers=auth(token)).status_code == 404
    community = world.cell["code"][:12]
    r = world.client.patch("/api/v1/admin/users/matrix_worker3", headers=world.headers("admin"),
                           json={"scopes": [community]})
    assert r.status_code == 200 and r.get_json()["scopes"] == [community]
    assert world.client.get(f"/api/v1/cases/{cid}", headers=auth(token)).status_code == 200
    r = world.client.patch("/api/v1/admin/users/matrix_worker3", headers=world.headers("admin"),
                           json={"scopes": ["11010x"]})
    assert r.status_code == 422
    r = world.client.patch("/api/v1/admin/users/nobody_here", headers=world.headers("admin"),
                           json={"scopes": []})
    assert (r.status_code, r.get_json()["code"]) == (404, "user.not_found")


def test_disabling_a_user_revokes_their_tokens_and_their_login(world):
    token = add_user(world, "matrix_leaver", "supervisor", ["110101"])
    second = login(world.client, "matrix_leaver")  # another device
    for t in (token, second):
        assert world.client.get("/api/v1/auth/me", headers=auth(t)).status_code == 200
    r = world.client.patch("/api/v1/admin/users/matrix_leaver", headers=world.headers("admin"),
                           json={"disabled": True})
    assert r.status_code == 200 and r.get_json()["disabled_at"] is not None
    for t in (token, second):
        r = world.client.get("/api/v1/cases", headers=auth(t))
        assert (r.status_code, r.get_json()["code"]) == (401, "auth.invalid_token")
    r = world.client.post("/api/v1/auth/token",
                          json={"username": "matrix_leaver", "password": PASSWORD})
    assert (r.status_code, r.get_json()["code"]) == (401, "auth.bad_credentials")
    with world.engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id "
            "WHERE u.username = 'matrix_leaver' AND t.revoked_at IS NULL")).scalar() == 0


# --- responsible units hear only of their area's cases ----------------------------------------

def test_only_the_unit_covering_the_case_hears_of_its_dispatch(world):
    """A case of 东华门 dispatched to the street offices (街道办事处): the office of 东华门 is
    told, the office of 东四 is not; sanitation of 东四 hears nothing of a 东华门 sanitation case,
    the district's sanitation centre does."""
    def told(persona: str, cid: str) -> bool:
        r = world.client.get("/api/v1/me/notifications", headers=world.headers(persona))
        assert r.status_code == 200, r.get_json()
        return any(n.get("case_id") == cid for n in r.get_json())

    street = world.case("dispatched_street")
    sanitation = world.case("dispatched")
    assert told("handler2", street) and not told("handler3", street)
    assert told("handler", sanitation) and not told("handler4", sanitation)
    for persona in ("handler3", "handler4"):
        for path in ("/api/v1/notices", "/api/v1/exports/cases.geojson"):
            r = world.client.get(path, headers=world.headers(persona))
            assert r.status_code == 200, (path, r.status_code)
            assert street not in r.get_data(as_text=True)
            assert sanitation not in r.get_data(as_text=True)


# --- scoped admins are scoped --------------------------------------------------------------------

DONGHUAMEN, DONGSI = "110101001", "110101006"


def _point_in(world: World, prefix: str) -> dict:
    with world.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ST_X(ST_PointOnSurface(boundary)) AS lon, "
            "ST_Y(ST_PointOnSurface(boundary)) AS lat FROM areas "
            "WHERE code LIKE :p AND level = 'cell' ORDER BY code LIMIT 1"),
            {"p": prefix + "%"}).mappings().one()
    return dict(row)


@pytest.fixture()
def street_admin(world) -> str:
    """An admin of 东华门 only; returns its token."""
    return world._seat_user("matrix_admin_dhm", "admin", [DONGHUAMEN])


def test_a_street_admin_sees_and_exports_its_street_only(world, street_admin):
    h = auth(street_admin)
    here = world.case("reported")  # demo_cell lies in 东华门
    there = world._submit("worker2", _point_in(world, DONGSI))
    assert world.client.get(f"/api/v1/cases/{here}", headers=h).status_code == 200
    r = world.client.get(f"/api/v1/cases/{there}", headers=h)
    assert r.status_code == 404 and r.get_json()["code"] == "case.not_found"
    ids = [c["id"] for c in world.client.get("/api/v1/cases", headers=h).get_json()]
    assert here in ids and there not in ids
    r = world.client.get("/api/v1/exports/cases.geojson?with_callers=true", headers=h)
    assert r.status_code == 200, r.get_json()
    assert here in r.get_data(as_text=True) and there not in r.get_data(as_text=True)
    # 12345 callers: a 东华门 caller unmasked, a 东四 caller neither unmasked nor exported
    calls = {}
    for street in (DONGHUAMEN, DONGSI):
        calls[street] = take_call(world.client, world.tokens, call_body(
            _point_in(world, street), address="", caller={
                "name": "张三", "phone": f"138123{street[-5:]}", "anonymous": False}))["id"]
    r = world.client.get(f"/api/v1/hotline/cases/{calls[DONGHUAMEN]}/caller?unmasked=true",
                         headers=h)
    assert r.status_code == 200 and r.get_json()["phone"] == "13812301001"
    r = world.client.get(f"/api/v1/hotline/cases/{calls[DONGSI]}/caller?unmasked=true",
                         headers=h)
    assert r.status_code == 404
    r = world.client.get("/api/v1/exports/cases.csv?with_callers=true", headers=h)
    assert r.status_code == 200 and "13812301001" in r.get_data(as_text=True)
    assert "13812301006" not in r.get_data(as_text=True)


def test_a_street_admin_manages_users_and_keys_within_its_street_only(world, street_admin):
    h = auth(street_admin)
    listed = {u["username"] for u in world.client.get("/api/v1/admin/users",
                                                       headers=h).get_json()}
    assert PERSONAS["handler2"] in listed  # 东华门's street office
    assert not listed & {PERSONAS["admin"], PERSONAS["supervisor"], PERSONAS["handler3"]}
    new = {"username": "matrix_dhm_worker", "role": "worker", "password": PASSWORD}
    r = world.client.post("/api/v1/admin/users", headers=h, json={**new, "scopes": [DONGSI]})
    assert r.status_code == 403 and "scopes" in r.get_json()["fields"]
    r = world.client.post("/api/v1/admin/users", headers=h, json={**new, "scopes": [""]})
    assert r.status_code == 403
    r = world.client.post("/api/v1/admin/users", headers=h,
                          json={**new, "scopes": [DONGHUAMEN + "001"]})
    assert r.status_code == 201, r.get_json()
    # a broader user, or one of another street, is as if there were none
    for username in (PERSONAS["admin"], PERSONAS["supervisor"], PERSONAS["handler3"]):
        r = world.client.patch(f"/api/v1/admin/users/{username}", headers=h,
                               json={"scopes": [DONGHUAMEN]})
        assert r.status_code == 404, (username, r.get_json())
    # no widening of a user it manages, nor of itself
    r = world.client.patch(f"/api/v1/admin/users/{PERSONAS['handler2']}", headers=h,
                           json={"scopes": ["110101"]})
    assert r.status_code == 403
    r = world.client.patch("/api/v1/admin/users/matrix_admin_dhm", headers=h,
                           json={"scopes": [""]})
    assert r.status_code == 403
    r = world.client.patch("/api/v1/admin/users/matrix_admin_dhm", headers=h,
                           json={"disabled": True})
    assert r.status_code == 422 and "disabled" in r.get_json()["fields"]
    with world.engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT username, scopes FROM users WHERE username = ANY(:u)"),
            {"u": [PERSONAS["admin"], PERSONAS["handler2"], "matrix_admin_dhm"]}).all())
    assert rows == {PERSONAS["admin"]: [""], PERSONAS["handler2"]: [DONGHUAMEN],
                    "matrix_admin_dhm": [DONGHUAMEN]}
    # Open311 keys likewise
    r = world.client.post("/api/v1/admin/open311-clients", headers=h,
                          json={"name": "wide-app", "scopes": ["110101"]})
    assert r.status_code == 403
    r = world.client.post("/api/v1/admin/open311-clients", headers=world.headers("admin"),
                          json={"name": "district-app", "scopes": ["110101"]})
    assert r.status_code == 201
    assert world.client.get("/api/v1/admin/open311-clients", headers=h).get_json() == []
    r = world.client.delete("/api/v1/admin/open311-clients/district-app", headers=h)
    assert r.status_code == 404
    r = world.client.post("/api/v1/admin/open311-clients", headers=h,
                          json={"name": "dhm-app", "scopes": [DONGHUAMEN]})
    assert r.status_code == 201


def test_nobody_disables_themselves(world):
    r = world.client.patch(f"/api/v1/admin/users/{PERSONAS['admin']}",
                           headers=world.headers("admin"), json={"disabled": True})
    assert r.status_code == 422
    assert world.client.get("/api/v1/auth/me", headers=world.headers("admin")).status_code == 200
