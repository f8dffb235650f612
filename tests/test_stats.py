"""综合评价: indicator arithmetic on constructed months whose totals are known, the real loop
read back from its audit trail, scoping and 每月一题.

The definitions asserted here are those of docs/indicators.md. Campaigns (专项) are in
test_campaigns.py, exports in test_exports.py; the constructed month in evaluation_samples.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from cases_helpers import act, evidence, submit

from conftest import auth
from evaluation_samples import (
    NOVEMBER,
    add_user,
    cst,
    dispatched,
    put_case,
    resolved,
    user_id,
    verified,
)
from followup import drain


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
    assert row["areas"]["district"] == {"code": "110101", "name": "东城区",
                                         "name_en": "Dongcheng District"}
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
    # on time: A B D (C late in handling, L in the accept stage)
    assert san["closure_rate"] == 71.43 and san["on_time_closure_rate"] == 42.86
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
    # L A B C accepted in the week; all four closed by its end, C late in handling, L in
    # the accept stage
    assert (first_week["total"]["accepted"], first_week["total"]["closed"],
            first_week["total"]["closed_on_time"]) == (4, 4, 2)


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
    assert all(v in (0, None) for k, v in t["total"].items() if k not in ("key", "name", "name_en", "areas"))
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
    from gridsnap.cases.sweeps import escalate_overdue

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
        "rework_rate": 50.0, "first_time_rate": 50.0,
        # the extended case is not due: in 延期数, not in 延期率 (its numerator is part of 应结案)
        "extended_due": 0, "extension_rate": 0.0,
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
