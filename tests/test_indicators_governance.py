"""综合评价, complete and honest: the two holes (an undispatched case overdue in the
accept stage is 应结案; a late verification is not 按期), and a hand-built month with 挂账,
joint cases (吹哨报到: 报到率), 督办 notices and returns (派遣准确率), every figure worked out
below and in docs/indicators.md.

The events of 挂账, 退单审核, 吹哨报到 and 督办 are written by the actions of other parts of the
code; here they are put into the trail with exactly the data the shared contract gives them
(as the trail-based tests do), so the evaluation is checked against the trail alone.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import text

from conftest import auth
from evaluation_samples import cst, dispatched, put_case, user_id


def indicators(client, token, expect=200, **params):
    r = client.get("/api/v1/stats/indicators", query_string=params, headers=auth(token))
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def iso(when) -> str:
    return when.isoformat()


def routed(when, due):
    return ("report.routed", when, {"stage": "accept", "due_at": iso(due)}, None)


def resolved(when, verify_due, dept="sanitation"):
    return ("case.resolved", when, {"stage": "verify", "due_at": iso(verify_due)}, dept)


def verified(when, dept="sanitation"):
    return ("case.verified", when, {"stage": None, "due_at": None}, dept)


# --- the two holes ----------------------------------------------------------------------------

def test_an_undispatched_overdue_case_is_due_and_a_late_verification_is_not_on_time(
        sc, tokens, cells, engine, at):
    """September: X accepted, never dispatched, late in the accept stage; Y handled in time
    and verified five days after its verification deadline, never marked by the sweep. The
    old reading gave 应结案 1 (Y), 结案 1, 按期 1: 100 % / 100 %."""
    w = user_id(engine, "worker")
    c = cells["cell"]
    put_case(engine, c, received=cst(9, 7, 9), accepted=cst(9, 7, 9, 30), status="accepted",
             reporter=w, events=(
                 routed(cst(9, 7, 9), cst(9, 7, 10)),
                 ("case.overdue", cst(9, 7, 10), {"stage": "accept",
                                                  "due_at": iso(cst(9, 7, 10))}, None)))
    put_case(engine, c, received=cst(9, 8, 9), accepted=cst(9, 8, 9, 10), status="closed",
             reporter=w, department="sanitation", events=(
                 routed(cst(9, 8, 9), cst(9, 8, 10)),
                 dispatched(cst(9, 8, 9, 20), cst(9, 9, 9, 20)),
                 resolved(cst(9, 8, 15), cst(9, 9, 15)),
                 verified(cst(9, 14, 15))))
    at(cst(10, 5, 9))
    t = indicators(sc, tokens["supervisor"], period="2026-09", area="110101001")["total"]
    # 应结案 X Y; 结案 Y; 按期 none: Y's verification was late
    assert (t["accepted"], t["due"], t["closed"], t["closed_on_time"]) == (2, 2, 1, 0)
    assert (t["closure_rate"], t["on_time_closure_rate"]) == (50.0, 0.0)
    assert (t["overdue"], t["overdue_handling"]) == (2, 0)  # X (accept), Y (verify)
    # handled in time; verified, but not in time
    assert (t["handled"], t["handled_on_time"], t["on_time_handling_rate"]) == (1, 1, 100.0)
    assert (t["due_verification"], t["verified"], t["verified_on_time"]) == (1, 1, 0)
    assert (t["verification_rate"], t["on_time_verification_rate"]) == (100.0, 0.0)

    # the trail alone tells it when the sweep never ran: a third case accepted, never
    # dispatched, its accept-stage deadline (routed) long past, no case.overdue
    put_case(engine, c, received=cst(9, 9, 9), accepted=cst(9, 9, 9, 30), status="accepted",
             reporter=w, events=(routed(cst(9, 9, 9), cst(9, 9, 10)),))
    t = indicators(sc, tokens["supervisor"], period="2026-09", area="110101001")["total"]
    assert (t["accepted"], t["due"], t["closed"], t["closed_on_time"]) == (3, 3, 1, 0)
    assert t["closure_rate"] == 33.33
    # …and a case whose accept-stage deadline has not come by the cutoff is not due yet
    at(cst(9, 9, 9, 45))
    t = indicators(sc, tokens["supervisor"], period="2026-09", area="110101001")["total"]
    assert (t["accepted"], t["due"]) == (3, 2)


def test_on_time_stages_are_a_setting(runtime, cells, engine, at):
    """GRIDSNAP_ON_TIME_STAGES=handle: a city that judges 按期 by the handling deadline only."""
    from gridsnap.stats import service
    from gridsnap.users.rules import Principal

    w = user_id(engine, "worker")
    put_case(engine, cells["cell"], received=cst(9, 8, 9), accepted=cst(9, 8, 9, 10),
             status="closed", reporter=w, department="sanitation", events=(
                 dispatched(cst(9, 8, 9, 20), cst(9, 9, 9, 20)),
                 resolved(cst(9, 8, 15), cst(9, 9, 15)), verified(cst(9, 14, 15))))
    at(cst(10, 5, 9))
    admin = Principal(id=0, username="t", display_name="t", role="admin", scopes=("",))
    handle_only = dataclasses.replace(runtime.settings, on_time_stages=("handle",))
    with runtime.sessions() as s:
        every = service.indicator_table(s, admin, runtime.settings, period="2026-09")["total"]
        handling = service.indicator_table(s, admin, handle_only, period="2026-09")["total"]
    assert (every["closed"], every["closed_on_time"]) == (1, 0)
    assert (handling["closed"], handling["closed_on_time"]) == (1, 1)


# --- a hand-built month: 挂账, joint cases, 督办, returns ---------------------------------------

def august(engine, cells) -> dict:
    """August 2026, street 110101001, category E0102 (an 事件 of the major class E01 市容环境);
    the resolutions by the sanitation handler. Times in Beijing time.

    P1 dispatched, late in handling (8-4), 督办 n3 (replied late), suspended (挂账) 8-6: on
       the 挂账 list at the cutoff
    P2 dispatched, suspended 8-5 before its deadline, resumed 8-10 (review date), resolved and
       verified in time
    J1 joint case: whistle 8-12 09:30, lead sanitation, co water + municipal, report in by
       11:30: sanitation 10:00, water 11:00, municipal 15:00 (late); resolved, verified in time
    J2 dispatched, whistle 8-20 14:00 (lead sanitation, co water, report in by 16:00):
       sanitation 15:00, water never; handling deadline 8-24 14:00 passed, still open;
       督办 n1 to sanitation (replied in time), n2 to water (never replied, due 8-27)
    W1 dispatched to municipal, returned (review), return approved (wrong dispatch),
       dispatched to sanitation, resolved, verified in time
    W2 returned (review), return refused (back to sanitation, deadline kept), resolved,
       verified in time
    W3 dispatched to water, returned without review (wrong dispatch), dispatched to
       sanitation, resolved, closed by a supervisor in time
    """
    w = user_id(engine, "worker")
    h = user_id(engine, "handler")
    c = cells["cell"]
    ids = {}

    def case(name, day, *events, status="closed"):
        ids[name] = put_case(engine, c, received=cst(8, day, 9), accepted=cst(8, day, 9, 10),
                             status=status, reporter=w, department="sanitation",
                             events=events)

    case("P1", 3, dispatched(cst(8, 3, 9, 20), cst(8, 4, 9, 20)),
         ("case.overdue", cst(8, 4, 9, 20), {"stage": "handle",
                                             "due_at": iso(cst(8, 4, 9, 20))}, "sanitation"),
         ("case.notice_issued", cst(8, 5, 9), {"notice_id": "n3", "department_code":
                                               "sanitation",
                                               "reply_due_at": iso(cst(8, 7, 9))}, None),
         ("case.notice_replied", cst(8, 7, 15), {"notice_id": "n3",
                                                 "department_code": "sanitation",
                                                 "late": True}, "sanitation"),
         ("case.suspension_requested", cst(8, 5, 10), {"reason_kind": "funding",
                                                       "review_on": "2026-10-01"},
          "sanitation"),
         ("case.suspended", cst(8, 6, 10), {"reason_kind": "funding", "review_on": "2026-10-01",
                                            "department_code": "sanitation",
                                            "stage": None, "due_at": None}, "sanitation"),
         status="dispatched")  # "suspended" once 挂账 is merged: the trail is what counts
    case("P2", 5, dispatched(cst(8, 5, 9, 20), cst(8, 6, 9, 20)),
         ("case.suspended", cst(8, 5, 16), {"reason_kind": "planning",
                                            "review_on": "2026-08-10",
                                            "department_code": "sanitation",
                                            "stage": None, "due_at": None}, "sanitation"),
         ("case.resumed", cst(8, 10, 9), {"department_code": "sanitation",
                                          "due_at": iso(cst(8, 11, 9)), "stage": "handle",
                                          "by": "review_date"}, "sanitation"),
         resolved(cst(8, 10, 15), cst(8, 11, 15)), verified(cst(8, 11, 9)))
    case("J1", 12,
         ("case.whistled", cst(8, 12, 9, 30), {
             "lead": "sanitation", "co": ["water", "municipal"],
             "report_due_at": iso(cst(8, 12, 11, 30)), "due_at": iso(cst(8, 14, 9, 30)),
             "stage": "handle"}, "sanitation"),
         *[("case.reported_in", when, {"department_code": d,
                                       "report_due_at": iso(cst(8, 12, 11, 30)),
                                       "late": late}, d)
           for d, when, late in (("sanitation", cst(8, 12, 10), False),
                                 ("water", cst(8, 12, 11), False),
                                 ("municipal", cst(8, 12, 15), True))],
         ("case.joint_feedback", cst(8, 13, 9), {"department_code": "water"}, "water"),
         ("case.joint_feedback", cst(8, 13, 9, 30), {"department_code": "municipal"},
          "municipal"),
         resolved(cst(8, 13, 10), cst(8, 14, 10)), verified(cst(8, 13, 14)))
    case("J2", 20, dispatched(cst(8, 20, 9, 20), cst(8, 21, 9, 20)),
         ("case.whistled", cst(8, 20, 14), {
             "lead": "sanitation", "co": ["water"], "report_due_at": iso(cst(8, 20, 16)),
             "due_at": iso(cst(8, 24, 14)), "stage": "handle"}, "sanitation"),
         ("case.reported_in", cst(8, 20, 15), {"department_code": "sanitation",
                                               "report_due_at": iso(cst(8, 20, 16)),
                                               "late": False}, "sanitation"),
         ("case.notice_issued", cst(8, 25, 9), {"notice_id": "n1",
                                                "department_code": "sanitation",
                                                "reply_due_at": iso(cst(8, 27, 9))}, None),
         ("case.notice_issued", cst(8, 25, 9, 5), {"notice_id": "n2",
                                                   "department_code": "water",
                                                   "reply_due_at": iso(cst(8, 27, 9, 5))},
          None),
         ("case.notice_replied", cst(8, 26, 10), {"notice_id": "n1",
                                                  "department_code": "sanitation",
                                                  "late": False}, "sanitation"),
         status="dispatched")
    case("W1", 18, dispatched(cst(8, 18, 9, 20), cst(8, 19, 9, 20), "municipal"),
         ("case.returned", cst(8, 18, 10), {"reason": "不属本部门", "department_code": "municipal",
                                            "review": True}, "municipal"),
         ("case.return_approved", cst(8, 18, 11), {"department_code": "municipal",
                                                   "reason": "不属本部门"}, "municipal"),
         dispatched(cst(8, 18, 11, 10), cst(8, 19, 11, 10)),
         resolved(cst(8, 18, 16), cst(8, 19, 16)), verified(cst(8, 19, 9)))
    case("W2", 19, dispatched(cst(8, 19, 9, 20), cst(8, 20, 9, 20)),
         ("case.returned", cst(8, 19, 9, 40), {"reason": "不属本部门",
                                               "department_code": "sanitation",
                                               "review": True}, "sanitation"),
         ("case.return_refused", cst(8, 19, 10), {"department_code": "sanitation",
                                                  "due_at": iso(cst(8, 20, 9, 20)),
                                                  "stage": "handle"}, "sanitation"),
         resolved(cst(8, 19, 16), cst(8, 20, 16)), verified(cst(8, 20, 10)))
    case("W3", 21, dispatched(cst(8, 21, 9, 20), cst(8, 22, 9, 20), "water"),
         ("case.returned", cst(8, 21, 9, 40), {"reason": "不属本部门", "department_code": "water",
                                               "review": False, "stage": "accept",
                                               "due_at": iso(cst(8, 21, 10, 40))}, "water"),
         dispatched(cst(8, 21, 10), cst(8, 22, 10)),
         resolved(cst(8, 21, 14), cst(8, 22, 14)),
         ("case.closed", cst(8, 21, 17), {"stage": None, "due_at": None}, "sanitation"))
    with engine.begin() as conn:  # the sanitation handler resolved them (处置人员)
        conn.execute(text("UPDATE case_events SET actor_id = :h WHERE action = 'case.resolved' "
                          "AND report_id = ANY(:ids)"), {"h": h, "ids": list(ids.values())})
    return ids


# hand-worked figures of August (GRIDSNAP_SUSPENDED_LEAVE_DUE on, the default weights)
AUGUST = {
    "reported": 7, "accepted_of_reported": 7, "accepted": 7, "acceptance_rate": 100.0,
    "suspended": 1,  # P1, on the 挂账 list at the cutoff: it leaves 应结案 and every rate
    "due": 6,  # P2 J1 W1 W2 W3 closed, J2 late in handling
    "closed": 5, "closed_on_time": 5, "closure_rate": 83.33, "on_time_closure_rate": 83.33,
    "overdue": 1, "overdue_handling": 1, "overdue_rate": 16.67,  # J2 (P1 left)
    # case.dispatched: P1 P2 J2 W2 once, W1 W3 twice (a whistle is not counted as one);
    # wrong: W1's approved return, W3's return without review (W2's was refused)
    "dispatches": 8, "wrong_dispatches": 2, "right_dispatches": 6,
    "dispatch_accuracy_rate": 75.0,
    "due_handling": 6, "handled": 5, "handled_on_time": 5, "handling_rate": 83.33,
    "on_time_handling_rate": 83.33,
    "due_verification": 5, "verified": 5, "verified_on_time": 5, "verification_rate": 100.0,
    "on_time_verification_rate": 100.0,
    "resolutions": 5, "reworked": 0, "rework_times": 0, "rework_rate": 0.0,
    "rework_times_rate": 0.0,
    # J1: sanitation, water on time, municipal late; J2: sanitation on time, water's time
    # came without it
    "summoned": 5, "reported_in": 4, "reported_in_on_time": 3, "report_in_rate": 60.0,
    # n1 replied in time, n2 unanswered past 8-27, n3 replied late
    "notices": 3, "notices_due": 3, "notices_replied": 2, "notices_replied_on_time": 1,
    "notices_unanswered_overdue": 1, "notice_reply_rate": 33.33,
    # 0.3 × 83.33 + 0.2 × 83.33 + 0.15 × 83.33 + 0.1 × 100 + 0.1 × 75 + 0.05 × (100 − 0)
    # + 0.05 × 60 + 0.05 × 33.33 = 81.331 (the weights add up to 1)
    "composite_score": 81.33,
}


def test_a_month_with_suspension_joint_cases_notices_and_returns(sc, tokens, cells, engine,
                                                                 at):
    august(engine, cells)
    at(cst(9, 5, 9))
    t = indicators(sc, tokens["supervisor"], period="2026-08", group="street",
                   area="110101001")
    assert [r["key"] for r in t["rows"]] == ["110101001"]
    for key, value in AUGUST.items():
        assert t["rows"][0][key] == value, key
        assert t["total"][key] == value, key


def test_by_department_report_in_and_notices_count_for_the_summoned_department(
        sc, tokens, cells, engine, at):
    august(engine, cells)
    at(cst(9, 5, 9))
    rows = {r["key"]: r for r in indicators(sc, tokens["admin"], period="2026-08",
                                            group="department", area="110101001")["rows"]}
    assert set(rows) == {"sanitation", "water", "municipal"}
    san, water, muni = rows["sanitation"], rows["water"], rows["municipal"]
    assert (san["accepted"], san["due"], san["suspended"]) == (7, 6, 1)  # every case ends there
    # 报到: sanitation J1 J2 in time; water J1 in time, J2 not; municipal J1 late
    assert (san["summoned"], san["reported_in_on_time"], san["report_in_rate"]) == (2, 2, 100.0)
    assert (water["summoned"], water["reported_in_on_time"], water["report_in_rate"]) == (
        2, 1, 50.0)
    assert (muni["summoned"], muni["reported_in"], muni["report_in_rate"]) == (1, 1, 0.0)
    # 督办: sanitation n1 (in time) and n3 (late); water n2 unanswered
    assert (san["notices"], san["notices_replied"], san["notices_replied_on_time"]) == (2, 2, 1)
    assert (water["notices"], water["notices_unanswered_overdue"]) == (1, 1)
    # water and municipal have no case of their own this month
    assert (water["accepted"], water["closure_rate"], muni["accepted"]) == (0, None, 0)
    assert water["name"] and muni["name_en"]


def test_kind_major_class_and_posts_group_the_month(sc, tokens, cells, engine, at):
    august(engine, cells)
    at(cst(9, 5, 9))
    kind = indicators(sc, tokens["admin"], period="2026-08", group="kind", area="110101001")
    assert [(r["key"], r["name"], r["name_en"]) for r in kind["rows"]] == [
        ("event", "事件", "Events")]
    major = indicators(sc, tokens["admin"], period="2026-08", group="major_class",
                       area="110101001")["rows"]
    assert [(r["key"], r["name"], r["accepted"]) for r in major] == [("E01", "市容环境", 7)]
    reporter = indicators(sc, tokens["admin"], period="2026-08", group="reporter",
                          area="110101001")["rows"]
    assert [(r["key"], r["reported"], r["verified_on_time"]) for r in reporter] == [
        (str(user_id(engine, "worker")), 7, 5)]
    handler = {r["key"]: r for r in indicators(sc, tokens["admin"], period="2026-08",
                                               group="handler", area="110101001")["rows"]}
    # P1 and J2 were never resolved: the row without a handler
    assert set(handler) == {str(user_id(engine, "handler")), None}
    h = handler[str(user_id(engine, "handler"))]
    assert (h["handled"], h["handled_on_time"], h["reworked"]) == (5, 5, 0)
    assert handler[None]["name"] == "（未处置）" and handler[None]["accepted"] == 2


def test_suspended_cases_stay_due_where_the_city_says_so(runtime, cells, engine, at):
    """GRIDSNAP_SUSPENDED_LEAVE_DUE=off: P1, late before it was suspended, stays 应结案."""
    from gridsnap.stats import service
    from gridsnap.users.rules import Principal

    august(engine, cells)
    at(cst(9, 5, 9))
    admin = Principal(id=0, username="t", display_name="t", role="admin", scopes=("",))
    stay = dataclasses.replace(runtime.settings, suspended_leave_due=False)
    with runtime.sessions() as s:
        t = service.indicator_table(s, admin, stay, period="2026-08", area="110101001")["total"]
    assert (t["suspended"], t["due"], t["closed"], t["overdue"]) == (1, 7, 5, 2)
    assert (str(t["closure_rate"]), str(t["overdue_rate"])) == ("71.43", "28.57")


def test_weights_of_the_composite_score_are_a_setting(runtime, cells, engine, at):
    from gridsnap.stats import service
    from gridsnap.stats.rules import weights_of
    from gridsnap.users.rules import Principal

    august(engine, cells)
    at(cst(9, 5, 9))
    admin = Principal(id=0, username="t", display_name="t", role="admin", scopes=("",))
    # report_in_rate 60 and notice_reply_rate 33.33 only: (3 × 60 + 33.33) ÷ 4 = 53.33
    two = dataclasses.replace(runtime.settings, indicator_weights=(
        ("report_in_rate", 3.0), ("notice_reply_rate", 1.0)))
    with runtime.sessions() as s:
        t = service.indicator_table(s, admin, two, period="2026-08", area="110101001")["total"]
    assert str(t["composite_score"]) == "53.33"
    try:
        weights_of((("closure_rate", 1.0), ("happiness", 1.0)))
    except ValueError as exc:
        assert "happiness" in str(exc)
    else:
        raise AssertionError("an unknown rate in the weights was accepted")


# --- the two published bulletins --------------------------------------------------------------

def test_the_two_published_bulletins_come_out_exactly(sc, tokens, cells, engine, at):
    """Tianmen 2016-12 (立案 996, 应结案 972, 结案 911 = 93.72 %, 按期结案 737 = 75.82 %) and
    Lianyungang 2017-04 (应结案 24,932, 结案 23,974 = 96.16 %, 按期结案 22,345 = 89.62 %),
    rebuilt as audit trails with every stage's deadline (evaluation_samples.bulletin_month:
    the cases not on time late in handling or in verification, the due cases not closed
    undispatched or late in handling), in JSON, CSV and XLSX."""
    import csv
    import io

    from openpyxl import load_workbook

    from evaluation_samples import bulletin_month

    w = user_id(engine, "worker")
    bulletin_month(engine, cells["cell"], year=2016, month=12, reporter=w, accepted=996,
                   due=972, closed=911, on_time=737)
    bulletin_month(engine, cells["cell"], year=2017, month=4, reporter=w, accepted=25_000,
                   due=24_932, closed=23_974, on_time=22_345)
    at(cst(6, 1, 9, year=2017))
    for period, figures in (("2016-12", (996, 972, 911, 737, 93.72, 75.82)),
                            ("2017-04", (25_000, 24_932, 23_974, 22_345, 96.16, 89.62))):
        t = indicators(sc, tokens["supervisor"], period=period, group="street")["total"]
        assert (t["accepted"], t["due"], t["closed"], t["closed_on_time"], t["closure_rate"],
                t["on_time_closure_rate"]) == figures, period
        r = sc.get("/api/v1/exports/indicators.csv", headers=auth(tokens["supervisor"]),
                   query_string={"period": period, "group": "street"})
        total = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))[-1]
        assert (total["应结案数"], total["结案数"], total["按期结案数"], total["结案率"],
                total["按期结案率"]) == (f"{figures[1]}", f"{figures[2]}", f"{figures[3]}",
                                        f"{figures[4]:.2f}%", f"{figures[5]:.2f}%")
        r = sc.get("/api/v1/exports/indicators.xlsx", headers=auth(tokens["supervisor"]),
                   query_string={"period": period, "group": "street"})
        sheet = list(load_workbook(io.BytesIO(r.get_data()), read_only=True)["综合评价"]
                     .iter_rows(values_only=True))
        row = dict(zip(sheet[0], sheet[-1], strict=True))
        assert (row["应结案数"], row["结案数"], row["按期结案数"]) == figures[1:4]
        assert round(row["结案率"] * 100, 2) == figures[4]
        assert round(row["按期结案率"] * 100, 2) == figures[5]


# --- right after a bulk load ------------------------------------------------------------------

def _bulk_loaded_case(engine, cells) -> None:
    """One case of September with 12,000 events INSERTed at once (no ANALYZE, autovacuum not
    yet there): case_events is left stale, as a bulk load leaves it."""
    w = user_id(engine, "worker")
    rid = put_case(engine, cells["cell"], received=cst(9, 7, 9), accepted=cst(9, 7, 9, 30),
                   status="accepted", reporter=w)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO case_events (report_id, at, action, data)
            SELECT :r, timestamptz '2026-09-07 10:00+08' + make_interval(secs => g),
                   'case.signed', '{}'::jsonb
              FROM generate_series(1, 12000) g
        """), {"r": rid})
        # the row counts reach pg_stat_user_tables when this transaction ends (not up to 10 s
        # later, as PostgreSQL may batch them)
        conn.execute(text("SELECT pg_stat_force_next_flush()"))


def test_tables_left_stale_by_a_bulk_load_are_analyzed_before_the_indicators(
        sc, tokens, cells, engine, runtime, at):
    """12,000 events INSERTed at once (no ANALYZE, autovacuum not yet there): the indicator
    table analyzes case_events first, and only while it is stale."""
    from gridsnap.stats import queries
    from gridsnap.stats import service as stats_service

    _bulk_loaded_case(engine, cells)
    with runtime.sessions() as s:
        assert "case_events" in queries.stale_tables(s)
    at(cst(10, 5, 9))
    t = indicators(sc, tokens["supervisor"], period="2026-09", area="110101001")["total"]
    assert (t["accepted"], t["due"]) == (1, 0)
    with runtime.sessions() as s:
        assert "case_events" not in queries.stale_tables(s)
        analyzed = s.execute(text("""
            SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
             WHERE relname = 'case_events' AND schemaname = current_schema()
        """)).scalar()
        assert analyzed is True
        assert stats_service.refresh_statistics(s) == []  # nothing stale any more: nothing done


def test_the_whole_city_does_not_wait_for_the_analyze_its_plan_does_not_need(
        sc, tokens, cells, engine, runtime, at):
    """The whole city's table folds the period's trail in one pass whatever the statistics
    say: its ANALYZE of stale tables runs in the background (for every later query), and the
    table is answered without waiting for it. A narrower scope waits (the test above)."""
    import time

    from gridsnap.stats import queries
    from gridsnap.stats import service as stats_service
    from gridsnap.users.rules import Principal

    admin = Principal(id=0, username="t", display_name="t", role="admin", scopes=("",))
    supervisor = Principal(id=0, username="t", display_name="t", role="supervisor",
                           scopes=("110101",))
    assert queries.needs_statistics(admin, None, None) is False
    assert queries.needs_statistics(admin, "110101001", None) is True
    assert queries.needs_statistics(admin, None, "hotline") is True
    assert queries.needs_statistics(supervisor, None, None) is True

    _bulk_loaded_case(engine, cells)
    at(cst(10, 5, 9))
    with runtime.sessions() as s:
        assert "case_events" in queries.stale_tables(s)
        # a table whose statistics another request is refreshing is not analyzed twice
        with stats_service._ANALYZING_LOCK:
            stats_service._ANALYZING.add("case_events")
        try:
            assert stats_service.refresh_statistics(s, wait=False) == []
        finally:
            with stats_service._ANALYZING_LOCK:
                stats_service._ANALYZING.discard("case_events")
    t = indicators(sc, tokens["admin"], period="2026-09")["total"]
    assert (t["accepted"], t["due"]) == (1, 0)

    # the background ANALYZE finishes: wait for that condition (bounded), not a fixed time
    deadline = time.monotonic() + 60
    while True:
        with runtime.sessions() as s:
            if "case_events" not in queries.stale_tables(s):
                break
        assert time.monotonic() < deadline, "the background ANALYZE did not finish"
        time.sleep(0.05)
    with runtime.sessions() as s:
        analyzed = s.execute(text("""
            SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
             WHERE relname = 'case_events' AND schemaname = current_schema()
        """)).scalar()
    assert analyzed is True
