"""综合评价: indicator arithmetic on constructed months whose totals are known, the real loop
read back from its audit trail, scoping, 每月一题, campaigns (专项) and exports that parse back.

The definitions asserted here are those of docs/indicators.md.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from cases_helpers import act, evidence, submit

from conftest import auth
from followup import drain

CST = timezone(timedelta(hours=8))
PASSWORD = "stats-pass-123"


def cst(month, day, hour=0, minute=0, year=2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CST)


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture()
def sc(app, tokens):
    """A test client (the evaluation's endpoints are part of the app)."""
    return app.test_client()


@pytest.fixture()
def worker2_token(sc, demo_users) -> str:
    """A fresh login of the second worker (another test revokes their session tokens)."""
    from conftest import PERSONAS

    name = PERSONAS["worker2"]
    r = sc.post("/api/v1/auth/token",
                json={"username": name, "password": demo_users[name]["password"]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


@pytest.fixture()
def cells(engine, demo_cell) -> dict:
    """cell: the demo worker's cell (street 110101001); other: a cell of the second worker's
    community (street 110101006); near: another cell of the worker's community."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT DISTINCT ON (left(code, 12)) code, ST_X(ST_PointOnSurface(boundary)) AS lon,
                   ST_Y(ST_PointOnSurface(boundary)) AS lat
              FROM areas WHERE level = 'cell' AND (code LIKE '110101006002%'
                   OR (code LIKE '110101001001%' AND code <> :c))
             ORDER BY left(code, 12), code
        """), {"c": demo_cell["code"]}).mappings().all()
    by = {r["code"][:12]: dict(r) for r in rows}
    return {"cell": demo_cell, "other": by["110101006002"], "near": by["110101001001"]}


@pytest.fixture(autouse=True)
def _no_campaigns(request):
    uses_db = bool({"engine", "sc", "client"} & set(request.fixturenames))
    eng = request.getfixturevalue("engine") if uses_db else None
    yield
    if eng is not None:
        with eng.begin() as conn:
            conn.execute(text("TRUNCATE campaigns, campaign_cases RESTART IDENTITY"))


def add_user(runtime, client, username, role, scopes, department=None) -> str:
    from gridsnap.users.service import add_user as add

    with runtime.sessions() as s:
        add(s, username=username, display_name=username, role=role, password=PASSWORD,
            scopes=scopes, department_code=department)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


def user_id(engine, username: str) -> int:
    from conftest import PERSONAS

    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM users WHERE username = :u"),
                            {"u": PERSONAS.get(username, username)}).scalar_one()


# --- cases written straight into the tables, trail and all ------------------------------------

def put_case(engine, cell: dict, *, received: datetime, status: str, reporter: int,
             accepted: datetime | None = None, category: str = "E0102",
             department: str | None = None, events: tuple = (), duplicate_of=None,
             closed: datetime | None = None) -> uuid.UUID:
    """A report in `cell` with its columns as the loop leaves them and its trail: events are
    (action, at, data, department) appended in the order given (ids are causal order)."""
    rid = uuid.uuid4()
    code = cell["code"]
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO reports (id, reporter_id, category_code, location, captured_at,
                received_at, area_code, cell_code, community_code, street_code, district_code,
                outside_grid, status, stage, department_code, accepted_at, closed_at,
                duplicate_of, fingerprint)
            VALUES (:id, :reporter, :cat, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :rec,
                :rec, :code, :code, :community, :street, :district, false,
                :status, NULL, :dept, :acc, :closed, :dup, :fp)
        """), {"id": rid, "reporter": reporter, "cat": category, "lon": cell["lon"],
               "lat": cell["lat"], "rec": received, "code": code, "community": code[:12], "street": code[:9],
               "district": code[:6], "status": status,
               "dept": department, "acc": accepted, "closed": closed, "dup": duplicate_of,
               "fp": os.urandom(32)})
        trail = [("report.submitted", received, {}, None)]
        if accepted is not None:
            trail.append(("case.accepted", accepted, {}, None))
        for action, when, data, dept in [*trail, *events]:
            conn.execute(text("""
                INSERT INTO case_events (report_id, at, action, department_code, data)
                VALUES (:r, :at, :a, :d, CAST(:data AS jsonb))
            """), {"r": rid, "at": when, "a": action, "d": dept,
                   "data": json.dumps(data, default=str)})
    return rid


def dispatched(when, due, dept="sanitation"):
    return ("case.dispatched", when, {"stage": "handle", "due_at": due.isoformat()}, dept)


def resolved(when, dept="sanitation"):
    return ("case.resolved", when, {"stage": "verify"}, dept)


def verified(when, dept="sanitation"):
    return ("case.verified", when, {}, dept)


def overdue(when, stage="handle", dept="sanitation"):
    return ("case.overdue", when, {"stage": stage}, dept)


@pytest.fixture()
def november(engine, cells) -> dict:
    """A month whose figures are worked out by hand (docs/indicators.md). All in the demo
    worker's cell, street 110101001, category E0102 unless said; times in Beijing time.

    立案 (accepted in November) A B C D E F G L M R = 10; reported in November: those but L
    (reported 31 Oct), plus H (merged), I (rejected), J (accepted, then merged) = 12.
    """
    w = user_id(engine, "worker")
    c = cells["cell"]
    ids = {}
    # A: closed in time — accepted after 10 min, handled in 2 h
    ids["A"] = put_case(engine, c, received=cst(11, 2, 9), accepted=cst(11, 2, 9, 10),
                        status="closed", reporter=w, department="sanitation", events=(
        dispatched(cst(11, 2, 9, 20), cst(11, 3, 9, 20)), resolved(cst(11, 2, 11, 20)),
        verified(cst(11, 2, 13))))
    # B: closed in time — 20 min to accept, 4 h to handle
    ids["B"] = put_case(engine, c, received=cst(11, 5, 9), accepted=cst(11, 5, 9, 20),
                        status="closed", reporter=w, department="sanitation", events=(
        dispatched(cst(11, 5, 9, 30), cst(11, 6, 9, 30)), resolved(cst(11, 5, 13, 30)),
        ("case.closed", cst(11, 5, 15), {}, "sanitation")))
    # C: closed, but late in handling — 30 min, 30 h
    ids["C"] = put_case(engine, c, received=cst(11, 6, 9), accepted=cst(11, 6, 9, 30),
                        status="closed", reporter=w, department="sanitation", events=(
        dispatched(cst(11, 6, 10), cst(11, 7, 10)), overdue(cst(11, 7, 10)),
        ("case.escalated", cst(11, 7, 10), {"stage": "handle"}, None),
        resolved(cst(11, 7, 16)), verified(cst(11, 7, 18))))
    # D: reworked once, then closed in time — 40 min; 24 h from dispatch to the last resolve
    ids["D"] = put_case(engine, c, received=cst(11, 10, 9), accepted=cst(11, 10, 9, 40),
                        status="closed", reporter=w, department="sanitation", events=(
        dispatched(cst(11, 10, 10), cst(11, 11, 10)), resolved(cst(11, 10, 12)),
        ("case.rework_ordered", cst(11, 10, 14),
         {"stage": "handle", "due_at": cst(11, 11, 14).isoformat()}, "sanitation"),
        resolved(cst(11, 11, 10)), verified(cst(11, 11, 12))))
    # E: late and still open at the month's end — 50 min
    ids["E"] = put_case(engine, c, received=cst(11, 20, 9), accepted=cst(11, 20, 9, 50),
                        status="dispatched", reporter=w, department="sanitation", events=(
        dispatched(cst(11, 20, 10), cst(11, 21, 10)), overdue(cst(11, 21, 10))))
    # F: dispatched on the last day, due after the month — not due; 60 min
    ids["F"] = put_case(engine, c, received=cst(11, 30, 9), accepted=cst(11, 30, 10),
                        status="dispatched", reporter=w, department="water", category="C0101",
                        events=(dispatched(cst(11, 30, 10), cst(12, 1, 10), "water"),))
    # G: extension approved before the deadline, moved past the month — not due; 70 min
    ids["G"] = put_case(engine, c, received=cst(11, 25, 9), accepted=cst(11, 25, 10, 10),
                        status="dispatched", reporter=w, department="water", category="C0101",
                        events=(
        dispatched(cst(11, 25, 10, 20), cst(11, 26, 10, 20), "water"),
        ("case.extension_approved", cst(11, 25, 20),
         {"new_due_at": cst(12, 3, 10, 20).isoformat()}, "water")))
    # H: merged into A before acceptance — reported only
    ids["H"] = put_case(engine, c, received=cst(11, 2, 9, 5), status="duplicate", reporter=w,
                        duplicate_of=ids["A"], events=(
        ("case.merged", cst(11, 2, 9, 15), {"target_case_id": str(ids["A"])}, None),))
    # I: rejected (不予立案)
    ids["I"] = put_case(engine, c, received=cst(11, 13, 9), status="rejected", reporter=w,
                        closed=cst(11, 13, 10), events=(
        ("case.rejected", cst(11, 13, 10), {}, None),))
    # J: accepted, then merged into A — no longer a case of its own
    ids["J"] = put_case(engine, c, received=cst(11, 14, 9), accepted=cst(11, 14, 9, 5),
                        status="duplicate", reporter=w, duplicate_of=ids["A"], events=(
        ("case.merged", cst(11, 15, 9), {"target_case_id": str(ids["A"])}, None),))
    # L: reported on 31 Oct, late to be accepted (that night), accepted 1 Nov: a November
    # case, overdue in the accept stage; 600 min to accept, 3 h to handle, closed in time
    ids["L"] = put_case(engine, c, received=cst(10, 31, 23), accepted=cst(11, 1, 9),
                        status="closed", reporter=w, department="sanitation", events=(
        overdue(cst(10, 31, 23, 50), stage="accept", dept=None),
        dispatched(cst(11, 1, 9, 10), cst(11, 2, 9, 10)), resolved(cst(11, 1, 12, 10)),
        verified(cst(11, 1, 13))))
    # M: handled in time, verified only on 2 Dec: due (deadline came), not closed in
    # November; 80 min to accept, 6 h to handle
    ids["M"] = put_case(engine, c, received=cst(11, 28, 9), accepted=cst(11, 28, 10, 20),
                        status="closed", reporter=w, department="sanitation", events=(
        dispatched(cst(11, 28, 10, 30), cst(11, 29, 10, 30)), resolved(cst(11, 28, 16, 30)),
        verified(cst(12, 2, 9))))
    # R: dispatched, returned by the department (退单), not yet dispatched again: its
    # deadline came in November; no department; 90 min to accept
    ids["R"] = put_case(engine, c, received=cst(11, 16, 9), accepted=cst(11, 16, 10, 30),
                        status="returned", reporter=w, events=(
        dispatched(cst(11, 16, 10, 40), cst(11, 17, 10, 40), "municipal"),
        ("case.returned", cst(11, 16, 11), {"stage": "accept",
                                            "due_at": cst(11, 16, 12).isoformat()},
         "municipal")))
    # K: an October case closed in November: not November's
    ids["K"] = put_case(engine, c, received=cst(10, 30, 9), accepted=cst(10, 30, 9, 30),
                        status="closed", reporter=w, department="sanitation", events=(
        dispatched(cst(10, 30, 10), cst(10, 31, 10)), resolved(cst(11, 3, 10)),
        verified(cst(11, 3, 12))))
    return ids


# hand-worked figures of November for the street 110101001 (docs/indicators.md)
NOVEMBER = {
    "reported": 12, "rejected": 1, "accepted": 10,
    "due": 8,  # A B C D E L M R (F not yet due, G extended past the month)
    "closed": 5,  # A B C D L
    "closed_on_time": 4,  # not C
    "due_handling": 8, "handled": 6,  # A B C D L M
    "handled_on_time": 5,  # not C
    "reworked": 1, "first_time": 4,  # D; A B C L
    "extended": 1, "overdue": 3, "overdue_handling": 2,  # G; C E L; C E
    "closure_rate": 62.5, "on_time_closure_rate": 50.0, "on_time_handling_rate": 62.5,
    "rework_rate": 16.67, "first_time_rate": 80.0, "extension_rate": 12.5,
    # 10 20 30 40 50 | 60 70 80 90 600 min → 55 min; handled 2 3 4 | 6 24 30 h → 5 h
    "median_accept_hours": 0.92, "median_handle_hours": 5.0,
}


def indicators(client, token, expect=200, **params):
    r = client.get("/api/v1/stats/indicators", query_string=params, headers=auth(token))
    assert r.status_code == expect, r.get_json()
    return r.get_json()


# --- indicator arithmetic ---------------------------------------------------------------------

def test_constructed_month_gives_the_hand_worked_figures(sc, tokens, november, at):
    at(cst(12, 5, 9))
    t = indicators(sc, tokens["supervisor"], period="2026-11", group="street", area="110101001")
    assert [r["key"] for r in t["rows"]] == ["110101001"]
    row = t["rows"][0]
    assert row["name"] == "东华门街道"
    assert row["areas"]["district"] == {"code": "110101", "name": "东城区"}
    for key, value in NOVEMBER.items():
        assert row[key] == value, key
        assert t["total"][key] == value, key
    assert t["total"]["name"] == "合计"
    assert t["period"]["from"] == "2026-11-01" and t["period"]["to"] == "2026-11-30"
    assert datetime.fromisoformat(t["period"]["cutoff"]) == cst(12, 1)


def test_rates_round_half_up_and_an_empty_denominator_is_null():
    from decimal import Decimal

    from gridsnap.stats.rules import percent, show_percent

    assert percent(4, 5) == Decimal("80.00")
    assert percent(1, 6) == Decimal("16.67")
    assert percent(2, 3) == Decimal("66.67")
    assert percent(1, 8) == Decimal("12.50")
    assert percent(9637, 10000) == Decimal("96.37")
    assert percent(1, 800) == Decimal("0.13")  # 0.125 rounds up, not to even
    assert percent(0, 0) is None and show_percent(None) == "—"
    assert show_percent(percent(911, 972)) == "93.72%"  # a published bulletin's figures
    assert show_percent(percent(737, 972)) == "75.82%"


def test_grouping_by_department_follows_the_last_dispatch(sc, tokens, november, at):
    at(cst(12, 5, 9))
    t = indicators(sc, tokens["admin"], period="2026-11", group="department", area="110101001")
    rows = {r["key"]: r for r in t["rows"]}
    assert set(rows) == {"sanitation", "water", None}
    san = rows["sanitation"]  # A B C D E L M
    assert (san["accepted"], san["due"], san["closed"]) == (7, 7, 5)
    assert san["closure_rate"] == 71.43 and san["on_time_closure_rate"] == 57.14
    assert san["name"].startswith("东城区城市管理委员会环境卫生")
    water = rows["water"]  # F and G: nothing due yet
    assert (water["accepted"], water["due"], water["closure_rate"]) == (2, 0, None)
    assert water["extended"] == 1 and water["extension_rate"] is None
    none = rows[None]  # R (returned), and the reports never dispatched: H I J
    assert none["name"] == "（未派遣）"
    assert (none["accepted"], none["due"], none["reported"], none["rejected"]) == (1, 1, 4, 1)
    assert t["total"]["accepted"] == 10 and t["total"]["due"] == 8


def test_a_month_is_taken_at_its_end_and_the_current_month_at_now(sc, tokens, november, at):
    at(cst(12, 5, 9))
    october = indicators(sc, tokens["supervisor"], period="2026-10", group="district")["total"]
    # K is October's case (closed in November: not by October's end); L was reported in October
    assert (october["reported"], october["accepted"], october["due"], october["closed"]) == (
        2, 1, 1, 0)
    assert october["closure_rate"] == 0.0
    # in the middle of November only what happened so far counts
    at(cst(11, 10, 12))
    so_far = indicators(sc, tokens["supervisor"], period="2026-11", area="110101001")
    assert datetime.fromisoformat(so_far["period"]["cutoff"]) == cst(11, 10, 12)
    # accepted by now: A B C L, D (09:40); due: A B C L (D's deadline is tomorrow)
    assert (so_far["total"]["accepted"], so_far["total"]["due"]) == (5, 4)
    assert so_far["total"]["reworked"] == 0  # D's rework at 14:00 has not happened yet
    # a custom period of days
    at(cst(12, 5, 9))
    first_week = indicators(sc, tokens["supervisor"], **{"from": "2026-11-01", "to": "2026-11-07"},
                            area="110101001")
    assert first_week["period"]["label"] == "2026-11-01/2026-11-07"
    # L A B C accepted in the week; all four closed by its end, C late
    assert (first_week["total"]["accepted"], first_week["total"]["closed"],
            first_week["total"]["closed_on_time"]) == (4, 4, 3)


def test_a_bad_period_is_a_clear_error(sc, tokens):
    for params, field in (({"period": "2026-13"}, "period"), ({"from": "2026-11-01"}, "to"),
                          ({"from": "2026-11-09", "to": "2026-11-01"}, "to"),
                          ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
                          ({"period": "2026-11", "from": "2026-11-01", "to": "2026-11-02"},
                           "period"),
                          ({"group": "planet"}, "group")):
        body = indicators(sc, tokens["supervisor"], expect=422, **params)
        assert body["code"] == "request.invalid" and field in body["fields"], params


# --- scope ------------------------------------------------------------------------------------

def test_stats_are_scoped_like_the_cases(sc, tokens, november, cells, engine, runtime, at,
                                        worker2_token):
    at(cst(12, 5, 9))
    w2 = user_id(engine, "worker2")
    z = put_case(engine, cells["other"], received=cst(11, 3, 9), accepted=cst(11, 3, 9, 10),
                 status="closed", reporter=w2, department="sanitation", events=(
                     dispatched(cst(11, 3, 9, 20), cst(11, 4, 9, 20)),
                     resolved(cst(11, 3, 12)), verified(cst(11, 3, 14))))
    assert z
    city = indicators(sc, tokens["admin"], period="2026-11", group="street")
    assert {r["key"] for r in city["rows"]} == {"110101001", "110101006"}
    assert city["total"]["accepted"] == 11 and city["total"]["closed"] == 6
    # a supervisor of another district sees nothing of these
    other = add_user(runtime, sc, "xicheng_sup", "supervisor", ["110102"])
    t = indicators(sc, other, period="2026-11", group="street")
    assert t["rows"] == []
    assert all(v in (0, None) for k, v in t["total"].items() if k not in ("key", "name", "areas"))
    # a supervisor of street 110101006 sees only Z
    street = add_user(runtime, sc, "chaoyangmen_sup", "supervisor", ["110101006"])
    t = indicators(sc, street, period="2026-11", group="community")
    assert [r["key"] for r in t["rows"]] == ["110101006002"]
    assert (t["total"]["accepted"], t["total"]["closed"], t["total"]["closure_rate"]) == (
        1, 1, 100.0)
    # the first worker: their own cells (and own reports), not Z
    t = indicators(sc, tokens["worker"], period="2026-11", group="street")
    assert t["total"]["accepted"] == 10
    # the second worker: only Z
    assert indicators(sc, worker2_token, period="2026-11")["total"]["accepted"] == 1
    # the sanitation handler: the cases dispatched to (or signed for by) sanitation now
    t = indicators(sc, tokens["handler"], period="2026-11", group="department")
    assert [r["key"] for r in t["rows"]] == ["sanitation"]
    assert (t["total"]["accepted"], t["total"]["due"], t["total"]["closed"]) == (8, 8, 6)


# --- the real loop, read back from its trail --------------------------------------------------

def _received(engine, cid, when):
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET received_at = :t WHERE id = :id"),
                     {"t": when, "id": cid})


def _sweep(runtime, when) -> int:
    from gridsnap.cases.jobs import escalate_overdue

    with runtime.sessions() as s:
        n = escalate_overdue(s, now=when)
        s.commit()
    return n


def test_the_real_loop_is_counted_from_its_audit_trail(
        sc, client, tokens, demo_cell, runtime, engine, at):
    near = {"lon": demo_cell["lon"] + 0.0001, "lat": demo_cell["lat"], "accuracy_m": 5}

    def new_case(when):
        at(when)
        cid = submit(client, tokens, demo_cell, category="E0102")
        _received(engine, cid, when)
        drain(runtime)
        return cid

    def resolve(cid, when):
        at(when)
        act(client, tokens, "handler", cid, "resolve",
            photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])

    def verify(cid, when, ok=True):
        at(when)
        photo = evidence(client, tokens, "worker", cid, "verification", seed=5)
        if ok:
            act(client, tokens, "worker", cid, "verify_pass", photo_ids=[photo], location=near)
        else:
            act(client, tokens, "worker", cid, "verify_fail", photo_ids=[photo], location=near,
                note="垃圾未清运干净")

    # P: accepted after 20 min, reworked once, closed in time
    p = new_case(cst(11, 2, 9))
    at(cst(11, 2, 9, 20))
    act(client, tokens, "supervisor", p, "accept")
    at(cst(11, 2, 9, 30))
    act(client, tokens, "supervisor", p, "dispatch")
    at(cst(11, 2, 10))
    act(client, tokens, "handler", p, "sign")
    resolve(p, cst(11, 2, 11))
    verify(p, cst(11, 2, 14), ok=False)
    resolve(p, cst(11, 3, 10))
    verify(p, cst(11, 3, 11))
    # S: the same heap reported again, merged into P
    s = new_case(cst(11, 2, 9, 5))
    at(cst(11, 2, 9, 25))
    act(client, tokens, "supervisor", s, "merge", target_case_id=p)
    # Q: accepted after 10 min, late in handling, then closed
    q = new_case(cst(11, 4, 9))
    at(cst(11, 4, 9, 10))
    act(client, tokens, "supervisor", q, "accept")
    at(cst(11, 4, 9, 20))
    due = datetime.fromisoformat(act(client, tokens, "supervisor", q, "dispatch")["due_at"])
    assert _sweep(runtime, due + timedelta(minutes=1)) == 1
    at(due + timedelta(minutes=30))
    act(client, tokens, "handler", q, "sign")
    resolve(q, due + timedelta(hours=1, minutes=40))
    verify(q, due + timedelta(hours=3))
    # T: rejected
    t = new_case(cst(11, 6, 9))
    at(cst(11, 6, 9, 30))
    act(client, tokens, "supervisor", t, "reject", note="不属于城市管理范围")
    # U: accepted after 15 min, an extension approved past the month's end
    u = new_case(cst(11, 27, 9))
    at(cst(11, 27, 9, 15))
    act(client, tokens, "supervisor", u, "accept")
    at(cst(11, 27, 9, 30))
    act(client, tokens, "supervisor", u, "dispatch")
    act(client, tokens, "handler", u, "sign")
    act(client, tokens, "handler", u, "request_extension", note="需协调物业",
        extension={"amount": 2, "unit": "working_days"})
    at(cst(11, 27, 16))
    c = act(client, tokens, "supervisor", u, "approve_extension")
    assert datetime.fromisoformat(c["due_at"]) > cst(12, 1)

    # the trail carries the deadlines it starts and moves
    with engine.connect() as conn:
        trail = conn.execute(text("""
            SELECT action, data FROM case_events WHERE report_id = :id ORDER BY id
        """), {"id": p}).all()
        accepted_at = conn.execute(text("""
            SELECT r.accepted_at = e.at FROM reports r JOIN case_events e
                ON e.report_id = r.id AND e.action = 'case.accepted' WHERE r.id = :id
        """), {"id": q}).scalar()
    datas = {a: d for a, d in trail}
    assert datas["case.dispatched"]["stage"] == "handle" and datas["case.dispatched"]["due_at"]
    assert datas["case.rework_ordered"]["due_at"] and datas["case.verified"]["due_at"] is None
    assert accepted_at is True  # the 立案 time is written once, with its event

    at(cst(12, 5, 9))
    row = indicators(sc, tokens["supervisor"], period="2026-11", group="category",
                     area="110101001")["rows"]
    assert [r["key"] for r in row] == ["E0102"]
    got = row[0]
    assert got["name"] == "积存垃圾渣土"
    expected = {
        "reported": 5, "rejected": 1, "accepted": 3, "due": 2, "closed": 2,
        "closed_on_time": 1, "due_handling": 2, "handled": 2, "handled_on_time": 1,
        "reworked": 1, "first_time": 1, "extended": 1, "overdue": 1, "overdue_handling": 1,
        "closure_rate": 100.0, "on_time_closure_rate": 50.0, "on_time_handling_rate": 50.0,
        "rework_rate": 50.0, "first_time_rate": 50.0, "extension_rate": 50.0,
        "median_accept_hours": 0.25,  # 10, 15, 20 min
    }
    for key, value in expected.items():
        assert got[key] == value, key
    # P: 24.5 h from dispatch to its last resolution; Q: dispatch to resolution
    q_hours = (due + timedelta(hours=1, minutes=40) - cst(11, 4, 9, 20)).total_seconds() / 3600
    assert got["median_handle_hours"] == round((24.5 + q_hours) / 2, 2)


# --- 每月一题 ----------------------------------------------------------------------------------

def test_top_problems_rank_classes_with_their_trend_and_cells(sc, tokens, cells, engine, at,
                                                            worker2_token):
    at(cst(12, 5, 9))
    w = user_id(engine, "worker")

    def cases(cell, category, month, n, day=10):
        for i in range(n):
            when = cst(month, day, 9, i)
            put_case(engine, cell, received=when, accepted=when + timedelta(minutes=5),
                     status="accepted", reporter=w, category=category)

    # E0101 in community 110101001001: 3 in the worker's cell, 2 in the near cell in November
    cases(cells["cell"], "E0101", 11, 3)
    cases(cells["near"], "E0101", 11, 2, day=11)
    cases(cells["cell"], "E0101", 10, 2)
    cases(cells["cell"], "E0101", 8, 1)
    # C0101 in community 110101006002: 2 in November, 4 in September
    cases(cells["other"], "C0101", 11, 2)
    cases(cells["other"], "C0101", 9, 4)
    # E0201 once in November
    cases(cells["cell"], "E0201", 11, 1)
    # a merged duplicate (accepted, then merged) and a report not accepted do not count
    primary = put_case(engine, cells["cell"], received=cst(11, 1, 8), status="reported",
                       reporter=w, category="E0201")
    put_case(engine, cells["cell"], received=cst(11, 12, 9), accepted=cst(11, 12, 9, 5),
             status="duplicate", reporter=w, category="E0201", duplicate_of=primary)
    r = sc.get("/api/v1/stats/top-problems", query_string={"period": "2026-11", "limit": 2},
               headers=auth(tokens["supervisor"]))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["months"] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    first, second = body["items"]
    assert (first["category"]["code"], first["area"]["code"], first["count"]) == (
        "E0101", "110101001001", 5)
    assert first["category"]["name"] == "暴露垃圾" and first["area"]["level"] == "community"
    assert [m["count"] for m in first["trend"]] == [1, 0, 2, 5]
    assert first["previous_average"] == 1.0
    assert [(c["code"], c["count"]) for c in first["cells"]] == [
        (cells["cell"]["code"], 3), (cells["near"]["code"], 2)]
    assert abs(first["cells"][0]["lon"] - cells["cell"]["lon"]) < 0.01
    assert first["cells"][0]["lat"] and first["cells"][0]["name"]
    assert (second["category"]["code"], second["count"]) == ("C0101", 2)
    assert [m["count"] for m in second["trend"]] == [0, 4, 0, 2]
    # by cell, under the worker's community only, and as the second worker (scope)
    r = sc.get("/api/v1/stats/top-problems", query_string={
        "period": "2026-11", "level": "cell", "area": "110101001001"},
        headers=auth(tokens["supervisor"]))
    items = r.get_json()["items"]
    assert [(i["area"]["code"], i["category"]["code"], i["count"]) for i in items] == [
        (cells["cell"]["code"], "E0101", 3), (cells["near"]["code"], "E0101", 2),
        (cells["cell"]["code"], "E0201", 1)]
    r = sc.get("/api/v1/stats/top-problems", query_string={"period": "2026-11"},
               headers=auth(worker2_token))
    assert [i["category"]["code"] for i in r.get_json()["items"]] == ["C0101"]


# --- campaigns (专项) --------------------------------------------------------------------------

def test_a_campaign_links_its_class_and_shows_whether_it_recurs(
        sc, tokens, cells, engine, runtime, at, worker2_token):
    w = user_id(engine, "worker")
    c = cells["cell"]

    def case(when, status="accepted", category="E0101", cell=c):
        return put_case(engine, cell, received=when, accepted=when + timedelta(minutes=5),
                        status=status, reporter=w, category=category)

    # 8 weeks before 1 Nov (6 Sep – 31 Oct): 8 cases, one a week
    before = [case(cst(9, 7) + timedelta(weeks=k, hours=9), status="closed" if k < 7 else
                   "accepted") for k in range(8)]
    open_old = before[-1]  # still open: taken on
    closed_old = case(cst(10, 20, 9), status="closed")  # done before: not taken on

    at(cst(11, 1, 8))
    body = {"name": "东华门暴露垃圾专项整治", "category": "E0101", "area_prefix": "110101001",
            "starts_on": "2026-11-01", "ends_on": "2026-11-15", "note": "每月一题"}
    r = sc.post("/api/v1/campaigns", json=body, headers=auth(tokens["worker"]))
    assert r.status_code == 403 and r.get_json()["code"] == "auth.forbidden"
    outsider = add_user(runtime, sc, "xicheng_sup2", "supervisor", ["110102"])
    r = sc.post("/api/v1/campaigns", json=body, headers=auth(outsider))
    assert r.status_code == 403 and r.get_json()["code"] == "campaign.outside_scope"
    r = sc.post("/api/v1/campaigns", json={**body, "ends_on": "2026-10-01"},
                headers=auth(tokens["supervisor"]))
    assert r.status_code == 422 and "ends_on" in r.get_json()["fields"]

    r = sc.post("/api/v1/campaigns", json=body, headers=auth(tokens["supervisor"]))
    assert r.status_code == 201, r.get_json()
    camp = r.get_json()
    # before it starts, the open backlog of the class is taken on
    assert camp["linked"] == 1 and camp["by_status"] == {"accepted": 1}
    with engine.connect() as conn:
        linked = set(conn.execute(text("SELECT report_id FROM campaign_cases")).scalars())
    assert linked == {open_old}
    assert camp["recurrence"]["verdict"] == "not_yet"

    # the cases received in its days are linked later (idempotent)
    during = case(cst(11, 5, 9), status="dispatched")
    other_class = case(cst(11, 6, 9), category="E0201")
    elsewhere = case(cst(11, 6, 10), cell=cells["other"])  # another street
    rejected = put_case(engine, c, received=cst(11, 7, 9), status="rejected", reporter=w)
    after = case(cst(11, 20, 9))  # one new case in the 2 weeks after
    at(cst(12, 1, 9))
    r = sc.post(f"/api/v1/campaigns/{camp['id']}/links", headers=auth(tokens["supervisor"]))
    assert r.status_code == 200
    with engine.connect() as conn:
        linked = set(conn.execute(text("SELECT report_id FROM campaign_cases")).scalars())
    assert linked == {open_old, during}
    assert not {closed_old, other_class, elsewhere, rejected, after} & linked
    camp = r.get_json()
    assert camp["by_status"] == {"accepted": 1, "dispatched": 1}
    rec = camp["recurrence"]
    assert rec["before"]["from"] == "2026-09-06" and rec["before"]["days"] == 56
    # 8 cases of the class before (the one closed in October too): 9 in 8 weeks
    assert rec["before"]["cases"] == 9 and rec["before"]["per_week"] == 1.13
    assert rec["before"]["weekly"] == [1, 1, 1, 1, 1, 1, 2, 1]
    # 16 Nov – 30 Nov: 15 complete days, one case
    assert rec["after"]["from"] == "2026-11-16" and rec["after"]["days"] == 15
    assert rec["after"]["cases"] == 1 and rec["after"]["per_week"] == 0.47
    assert rec["verdict"] == "reduced"

    listed = sc.get("/api/v1/campaigns", headers=auth(tokens["supervisor"])).get_json()
    assert [x["id"] for x in listed] == [camp["id"]] and listed[0]["linked"] == 2
    assert sc.get("/api/v1/campaigns", headers=auth(outsider)).get_json() == []
    r = sc.get(f"/api/v1/campaigns/{camp['id']}", headers=auth(outsider))
    assert r.status_code == 404 and r.get_json()["code"] == "campaign.not_found"
    # the second worker's scope overlaps the district but none of its cases are theirs
    assert sc.get(f"/api/v1/campaigns/{camp['id']}",
                  headers=auth(worker2_token)).status_code == 404


def test_recurrence_verdicts():
    from gridsnap.campaigns.rules import verdict

    assert verdict(8, 56, 0, 0) == "not_yet"
    assert verdict(8, 56, 0, 14) == "gone"
    assert verdict(8, 56, 1, 14) == "reduced"  # 0.5 a week against 1
    assert verdict(8, 56, 2, 14) == "recurs"


# --- exports ----------------------------------------------------------------------------------

def _export(client, token, path, expect=200, **params):
    r = client.get(f"/api/v1/exports/{path}", query_string=params, headers=auth(token))
    # read it all: a streamed body holds its database session until it is consumed or closed
    body = r.get_data()
    assert r.status_code == expect, body[:300]
    return r


def test_case_exports_parse_back_with_chinese_headers_and_grid_codes(
        sc, tokens, november, cells, engine, at):
    from openpyxl import load_workbook

    at(cst(12, 5, 9))
    w2 = user_id(engine, "worker2")
    put_case(engine, cells["other"], received=cst(11, 3, 9), status="reported", reporter=w2,
             category="E0101")

    # CSV: UTF-8 with a BOM, Chinese headers, streamed
    r = _export(sc, tokens["supervisor"], "cases.csv", area="110101001", status=["closed"])
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    raw = r.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {"案件编号", "类别", "状态", "上报时间", "网格编码", "社区", "街道", "区县"} <= set(rows[0])
    assert len(rows) == 7  # A B C D L M K
    a = next(x for x in rows if x["案件ID"] == str(november["A"]))
    assert (a["状态"], a["类别编码"], a["类别"]) == ("已结案", "E0102", "积存垃圾渣土")
    assert a["上报时间"] == "2026-11-02 09:00:00"  # Beijing time
    assert a["网格编码"] == cells["cell"]["code"] and a["社区编码"] == cells["cell"]["code"][:12]
    assert (a["街道编码"], a["街道"], a["区县编码"], a["区县"]) == (
        "110101001", "东华门街道", "110101", "东城区")
    assert a["网格"] and a["社区"] and a["处置部门"].startswith("东城区")

    # from/to are days of receipt; the worker's export leaves out the other community
    r = _export(sc, tokens["worker"], "cases.csv", **{"from": "2026-11-01", "to": "2026-11-30"})
    got = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert len(got) == 12 and all(x["街道编码"] == "110101001" for x in got)
    r = _export(sc, tokens["supervisor"], "cases.csv", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert len(list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))) == 13

    # XLSX: Chinese header row, times as dates in Beijing time, a notes sheet
    r = _export(sc, tokens["supervisor"], "cases.xlsx", area="110101001001",
                category="E0102", overdue="false")
    book = load_workbook(io.BytesIO(r.get_data()), read_only=True)
    assert book.sheetnames == ["案件", "说明"]
    sheet = list(book["案件"].iter_rows(values_only=True))
    head, body = sheet[0], sheet[1:]
    assert head[:5] == ("案件编号", "类别编码", "类别", "状态", "上报时间")
    assert len(body) == 12  # the E0102 cases of the community: all but F and G (C0101)
    byid = {row[head.index("案件ID")]: dict(zip(head, row, strict=True)) for row in body}
    a = byid[str(november["A"])]
    assert a["上报时间"] == datetime(2026, 11, 2, 9, 0) and a["状态"] == "已结案"
    assert a["网格编码"] == cells["cell"]["code"] and a["区县"] == "东城区"
    assert isinstance(a["经度"], float) and a["返工次数"] == 0

    # GeoJSON: points with the grid codes
    r = _export(sc, tokens["supervisor"], "cases.geojson", status=["rejected", "duplicate"])
    assert r.mimetype == "application/geo+json"
    fc = json.loads(r.get_data())
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3  # H I J
    f = fc["features"][0]
    assert f["geometry"]["type"] == "Point"
    assert f["geometry"]["coordinates"] == pytest.approx([cells["cell"]["lon"],
                                                          cells["cell"]["lat"]])
    props = f["properties"]
    assert props["cell_code"] == cells["cell"]["code"] and props["district_name"] == "东城区"
    assert props["received_at"].endswith("+08:00")


def test_csv_cells_that_look_like_formulas_are_defused(sc, tokens, client, demo_cell):
    submit(client, tokens, demo_cell, description="=HYPERLINK(\"http://x\",\"点我\")")
    r = _export(sc, tokens["supervisor"], "cases.csv")
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert rows[0]["问题描述"].startswith("'=")


def test_xlsx_beyond_the_cap_is_a_clear_422(sc, tokens, november, monkeypatch):
    from gridsnap.exports import rules

    monkeypatch.setattr(rules, "XLSX_MAX_ROWS", 5)
    r = _export(sc, tokens["supervisor"], "cases.xlsx", expect=422)
    body = r.get_json()
    assert body["code"] == "export.too_many_rows" and "CSV" in body["message"]
    _export(sc, tokens["supervisor"], "cases.xlsx", status=["rejected"])  # 1 row: fine
    _export(sc, tokens["supervisor"], "cases.csv")  # CSV has no cap


def test_indicator_exports_parse_back(sc, tokens, november, at):
    from openpyxl import load_workbook

    at(cst(12, 5, 9))
    r = _export(sc, tokens["supervisor"], "indicators.csv", period="2026-11", group="community",
                area="110101001")
    assert "indicators-2026-11-community.csv" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert [x["社区编码"] for x in rows] == ["110101001001", ""]
    row, total = rows
    assert row["社区"] and row["社区"] != "合计"  # the community's name
    assert (row["街道编码"], row["街道"], row["区县编码"], row["区县"]) == (
        "110101001", "东华门街道", "110101", "东城区")
    assert total["社区"] == "合计"
    assert (total["立案数"], total["应结案数"], total["结案数"]) == ("10", "8", "5")
    assert (total["结案率"], total["按期结案率"], total["返工率"]) == ("62.50%", "50.00%", "16.67%")
    r = _export(sc, tokens["supervisor"], "indicators.csv", period="2026-11", group="department",
                area="110101001")
    water = next(x for x in csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig")))
                 if x["处置部门编码"] == "water")
    assert water["结案率"] == "—" and water["应结案数"] == "0"

    r = _export(sc, tokens["supervisor"], "indicators.xlsx", period="2026-11", group="street",
                area="110101001")
    book = load_workbook(io.BytesIO(r.get_data()), read_only=True)
    sheet = list(book["综合评价"].iter_rows(values_only=True))
    head = sheet[0]
    assert head[:4] == ("区县编码", "区县", "街道编码", "街道")
    assert "结案率" in head and "一次完成率" in head and "处置用时中位数（小时）" in head
    row = dict(zip(head, sheet[1], strict=True))
    assert row["街道编码"] == "110101001" and row["立案数"] == 10
    assert row["结案率"] == pytest.approx(0.625) and row["处置用时中位数（小时）"] == 5.0
    notes = dict(book["说明"].iter_rows(values_only=True))
    assert notes["统计周期"] == "2026-11-01 至 2026-11-30"


def test_the_openapi_document_describes_the_evaluation(sc):
    spec = sc.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for p in ("/api/v1/stats/indicators", "/api/v1/stats/top-problems", "/api/v1/campaigns",
              "/api/v1/campaigns/{campaign_id}", "/api/v1/exports/cases.{fmt}",
              "/api/v1/exports/indicators.{fmt}"):
        assert p in paths, p
    params = {p["name"] for p in paths["/api/v1/stats/indicators"]["get"]["parameters"]}
    assert {"period", "from", "to", "group", "area"} <= params
    row = spec["components"]["schemas"]["IndicatorRow"]["properties"]
    assert "应结案数" in row["due"]["description"]
    assert "null when the denominator is 0" in row["closure_rate"]["description"]
