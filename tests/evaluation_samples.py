"""综合评价 test set-up shared by the stats, campaign (专项) and export tests: a few cells, cases
written straight into the tables with their audit trail, and a constructed November whose
figures are worked out by hand (docs/indicators.md).

Its fixtures are registered for every test by `pytest_plugins` in conftest.py.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

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
def worker2_token(sc, demo_users, engine) -> str:
    """A fresh login of the second worker (another test revokes their session tokens), lasting."""
    from conftest import PERSONAS, lasting_token

    name = PERSONAS["worker2"]
    r = sc.post("/api/v1/auth/token",
                json={"username": name, "password": demo_users[name]["password"]})
    assert r.status_code == 201, r.get_json()
    return lasting_token(engine, r.get_json()["token"])


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


def add_user(runtime, client, username, role, scopes, department=None) -> str:
    from gridsnap.users.service import add_user as add

    from conftest import lasting_token

    with runtime.sessions.begin() as s:
        add(s, username=username, display_name=username, role=role, password=PASSWORD,
            scopes=scopes, department_code=department)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.get_json()
    return lasting_token(runtime.engine, r.get_json()["token"])


def user_id(engine, username: str) -> int:
    from conftest import PERSONAS

    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM users WHERE username = :u"),
                            {"u": PERSONAS.get(username, username)}).scalar_one()


# --- cases written straight into the tables, trail and all ------------------------------------

def put_case(engine, cell: dict, *, received: datetime, status: str, reporter: int,
             accepted: datetime | None = None, category: str = "E0102",
             department: str | None = None, events: tuple = (), duplicate_of=None,
             closed: datetime | None = None, source: str = "worker",
             nature: str | None = None) -> uuid.UUID:
    """A report in `cell` with its columns as the loop leaves them and its trail: events are
    (action, at, data, department[, actor id]) appended in the order given (ids are causal
    order)."""
    rid = uuid.uuid4()
    code = cell["code"]
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO reports (id, reporter_id, category_code, location, captured_at,
                received_at, area_code, cell_code, community_code, street_code, district_code,
                outside_grid, status, stage, department_code, accepted_at, closed_at,
                duplicate_of, fingerprint, source, nature)
            VALUES (:id, :reporter, :cat, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :rec,
                :rec, :code, :code, :community, :street, :district, false,
                :status, NULL, :dept, :acc, :closed, :dup, :fp, :source, :nature)
        """), {"id": rid, "reporter": reporter, "cat": category, "lon": cell["lon"],
               "lat": cell["lat"], "rec": received, "code": code, "community": code[:12], "street": code[:9],
               "district": code[:6], "status": status,
               "dept": department, "acc": accepted, "closed": closed, "dup": duplicate_of,
               "fp": os.urandom(32), "source": source, "nature": nature})
        trail = [("report.submitted", received, {}, None)]
        if accepted is not None:
            trail.append(("case.accepted", accepted, {}, None))
        for action, when, data, dept, *actor in [*trail, *events]:
            conn.execute(text("""
                INSERT INTO case_events (report_id, at, action, department_code, data, actor_id)
                VALUES (:r, :at, :a, :d, CAST(:data AS jsonb), :actor)
            """), {"r": rid, "at": when, "a": action, "d": dept,
                   "data": json.dumps(data, default=str), "actor": actor[0] if actor else None})
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
    "accepted_of_reported": 9,  # received in November and 立案: A B C D E F G M R (not H I J)
    "due": 8,  # A B C D E L M R (F not yet due, G extended past the month)
    "closed": 5,  # A B C D L
    "closed_on_time": 3,  # A B D: C was late in handling, L in the accept stage
    "suspended": 0,
    "dispatches": 10, "wrong_dispatches": 1, "right_dispatches": 9,  # R's return (退单)
    "due_handling": 8, "handled": 6,  # A B C D L M
    "handled_on_time": 5,  # not C
    "resolutions": 7,  # D twice
    "due_verification": 5, "verified": 5, "verified_on_time": 5,  # A B C D L (M on 2 Dec)
    "reworked": 1, "rework_times": 1, "first_time": 4,  # D; A B C L
    # G's extension counts in 延期数, not in 延期率: G is not due (12.50 % before, a case
    # outside the denominator in the numerator). Then:
    # G; none; C E L R (R's accept-stage deadline after its return passed: the trail says so);
    # C E
    "extended": 1, "extended_due": 0, "overdue": 4, "overdue_handling": 2,
    "summoned": 0, "reported_in": 0, "notices": 0,
    "acceptance_rate": 75.0, "dispatch_accuracy_rate": 90.0,
    "closure_rate": 62.5, "on_time_closure_rate": 37.5, "handling_rate": 75.0,
    "on_time_handling_rate": 62.5, "verification_rate": 100.0,
    "on_time_verification_rate": 100.0, "overdue_rate": 50.0,
    "rework_rate": 16.67, "rework_times_rate": 14.29,
    "first_time_rate": 80.0, "extension_rate": 0.0, "report_in_rate": None,
    "notice_reply_rate": None,
    # default weights over the rates with a value: (0.3 × 37.5 + 0.2 × 62.5 + 0.15 × 62.5
    # + 0.1 × 100 + 0.1 × 90 + 0.05 × (100 − 16.67)) ÷ 0.9 = 56.2915 ÷ 0.9 = 62.5461…
    "composite_score": 62.55,
    # 10 20 30 40 50 | 60 70 80 90 600 min → 55 min; handled 2 3 4 | 6 24 30 h → 5 h
    "median_accept_hours": 0.92, "median_handle_hours": 5.0,
}


# --- the two published bulletins, rebuilt as audit trails ------------------------------------

def bulletin_month(engine, cell: dict, *, year: int, month: int, reporter: int, accepted: int,
                   due: int, closed: int, on_time: int) -> None:
    """`accepted` cases of a month written straight into reports and case_events with the trail
    the loop writes (every stage's deadline in its event), so that exactly `due` are 应结案,
    `closed` 结案 and `on_time` 按期结案 (every stage met its limit). Of the closed cases not on
    time, half were late in handling and half verified after their verification deadline
    (never marked by the sweep); of the due cases not closed, half were accepted and never
    dispatched past their accept-stage deadline, half dispatched and past their handling
    deadline; the cases not due were dispatched on the month's last day with a deadline after
    it. Cases are spread over days 1–25 of the month, 09:00 onwards (Beijing time)."""
    late = closed - on_time
    open_due = due - closed
    plan = [("on_time", on_time), ("late_handle", late // 2), ("late_verify", late - late // 2),
            ("undispatched", open_due // 2), ("open_late", open_due - open_due // 2),
            ("not_due", accepted - due)]
    code = cell["code"]
    first = datetime(year, month, 1, tzinfo=CST)
    with engine.begin() as conn:
        offset = 0
        for kind, n in plan:
            if n <= 0:
                continue
            conn.execute(text("""
                CREATE TEMP TABLE IF NOT EXISTS bulletin (id uuid, kind text, t0 timestamptz)
                    ON COMMIT DROP
            """))
            conn.execute(text("TRUNCATE bulletin"))
            conn.execute(text("""
                INSERT INTO bulletin
                SELECT gen_random_uuid(), :kind,
                       CASE WHEN :kind = 'not_due'
                            THEN :last_day + make_interval(mins => (g % 480))
                            ELSE :first + make_interval(days => g % 25, mins => (g / 25) % 480)
                                 + interval '9 hours' END
                  FROM generate_series(:o, :o + :n - 1) g
            """), {"kind": kind, "first": first, "o": offset, "n": n,
                   "last_day": datetime(year, month, 1, tzinfo=CST)
                   + _month_days(year, month) - timedelta(hours=15)})
            offset += n
            conn.execute(text("""
                INSERT INTO reports (id, reporter_id, category_code, location, captured_at,
                    received_at, area_code, cell_code, community_code, street_code,
                    district_code, outside_grid, status, department_code, accepted_at,
                    closed_at, fingerprint)
                SELECT b.id, :reporter, 'E0102', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
                       b.t0, b.t0, CAST(:code AS text), CAST(:code AS text),
                       left(CAST(:code AS text), 12), left(CAST(:code AS text), 9),
                       left(CAST(:code AS text), 6), false,
                       CASE b.kind WHEN 'undispatched' THEN 'accepted'
                                   WHEN 'open_late' THEN 'dispatched'
                                   WHEN 'not_due' THEN 'dispatched' ELSE 'closed' END,
                       CASE WHEN b.kind <> 'undispatched' THEN 'sanitation' END,
                       b.t0 + interval '10 minutes', NULL,
                       decode(md5(b.id::text) || md5(b.id::text || 'x'), 'hex')
                  FROM bulletin b
            """), {"reporter": reporter, "lon": cell["lon"], "lat": cell["lat"], "code": code})
            # (offset from t0, action, stage, deadline offset from t0, department); the
            # deadline's offset NULL: the stage ends, no deadline runs
            conn.execute(text("""
                INSERT INTO case_events (report_id, at, action, department_code, data)
                SELECT b.id, b.t0 + s.at_off, s.action, s.dept,
                       CASE WHEN s.stage IS NULL AND s.due_off IS NULL AND s.ends
                            THEN jsonb_build_object('stage', NULL, 'due_at', NULL)
                            WHEN s.stage IS NULL THEN '{}'::jsonb
                            ELSE jsonb_build_object('stage', s.stage,
                                                    'due_at', b.t0 + s.due_off) END
                  FROM bulletin b
                  JOIN (VALUES
                    ('report.routed', interval '0', 'accept', interval '1 hour', NULL, false,
                     '{on_time,late_handle,late_verify,undispatched,open_late,not_due}'),
                    ('case.accepted', interval '10 minutes', NULL, NULL, NULL, false,
                     '{on_time,late_handle,late_verify,undispatched,open_late,not_due}'),
                    ('case.dispatched', interval '20 minutes', 'handle', interval '1 day',
                     'sanitation', false, '{on_time,late_verify,open_late,not_due}'),
                    ('case.dispatched', interval '20 minutes', 'handle', interval '4 hours',
                     'sanitation', false, '{late_handle}'),
                    ('case.resolved', interval '6 hours', 'verify', interval '1 day',
                     'sanitation', false, '{on_time,late_handle,late_verify}'),
                    ('case.verified', interval '9 hours', NULL, NULL, 'sanitation', true,
                     '{on_time,late_handle}'),
                    ('case.verified', interval '3 days', NULL, NULL, 'sanitation', true,
                     '{late_verify}')
                  ) AS s(action, at_off, stage, due_off, dept, ends, kinds)
                    ON b.kind = ANY(CAST(s.kinds AS text[]))
                 ORDER BY b.t0, s.at_off
            """))


def _month_days(year: int, month: int) -> timedelta:
    nxt = datetime(year + (month == 12), month % 12 + 1, 1)
    return nxt - datetime(year, month, 1)
