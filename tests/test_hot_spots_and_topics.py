"""主动治理: the month's hot spots (a class of problem concentrating in one community against
the months before, hotline requests and grid reports together) and 每月一题 run as a programme
(its lead department, its measures, the before/after figures), built on campaigns (专项)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from conftest import auth
from evaluation_samples import cst, put_case, user_id


@pytest.fixture(autouse=True)
def _no_campaigns(request):
    yield
    if "engine" in request.fixturenames:
        with request.getfixturevalue("engine").begin() as conn:
            conn.execute(text("TRUNCATE campaigns, campaign_cases RESTART IDENTITY"))


@pytest.fixture()
def month(engine, cells):
    """多福巷社区 (the demo worker's community): E0101 (暴露垃圾) one case in each of August,
    September and October (average 1.00), four in November — two grid reports, two hotline
    requests: a hot spot (4 ≥ 3 and 4 ≥ 2 × 1.00). E0102 three in each month: steady, not one
    (3 < 2 × 3.00). C0101 two in November: under min_count (3)."""
    w = user_id(engine, "worker")
    c = cells["cell"]

    def case(when, category, source="worker"):
        return put_case(engine, c, received=when, accepted=when + timedelta(minutes=5),
                        status="accepted", reporter=w, category=category, source=source)

    for m in (8, 9, 10):
        case(cst(m, 10, 9), "E0101")
    for d, source in ((3, "worker"), (5, "hotline"), (9, "worker"), (12, "hotline")):
        case(cst(11, d, 10), "E0101", source)
    # E0102: as many in each of the three months before as in November: steady, not hot
    for m in (8, 9, 10):
        for d in (4, 5, 6):
            case(cst(m, d, 9), "E0102")
    for d in (4, 5, 6):
        case(cst(11, d, 9), "E0102")
    for d in (7, 8):
        case(cst(11, d, 9), "C0101")
    return c


def test_hot_spots_and_a_monthly_topic_that_takes_one_on(sc, tokens, engine, month, at):
    at(cst(11, 20, 9))
    h = auth(tokens["supervisor"])
    r = sc.get("/api/v1/campaigns/hot-spots", query_string={"period": "2026-11"}, headers=h)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["months"] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    assert (body["min_count"], body["factor"]) == (3, 2.0)
    [hot] = body["items"]  # E0102 is steady (3 against 3.00), C0101 under 3
    assert (hot["category"]["code"], hot["area"]["code"], hot["count"],
            hot["previous_average"], hot["rise"]) == ("E0101", "110101001001", 4, 1.0, 3.0)
    assert hot["area"]["name_en"] == "Duofuxiang Community"
    assert hot["taken_on_by"] == []
    # a lower bar finds the steady class too: 3 ≥ 1 × 3.00
    loose = sc.get("/api/v1/campaigns/hot-spots",
                   query_string={"period": "2026-11", "factor": "1"}, headers=h).get_json()
    assert {i["category"]["code"] for i in loose["items"]} == {"E0101", "E0102"}

    # 每月一题: the street takes E0101 on for November, led by sanitation, with its measures
    r = sc.post("/api/v1/campaigns", headers=h, json={
        "name": "十一月每月一题：暴露垃圾", "category": "E0101", "area_prefix": "110101001",
        "starts_on": "2026-11-01", "ends_on": "2026-11-30", "kind": "monthly_topic",
        "lead_department": "sanitation",
        "measures": [{"text": "增加清运频次至每日两次"}, {"text": "设置分类投放点"}]})
    assert r.status_code == 201, r.get_json()
    topic = r.get_json()
    # linked: November's four, and the three earlier ones still open
    assert topic["kind"] == "monthly_topic" and topic["linked"] == 7
    assert topic["lead_department"]["code"] == "sanitation"
    assert [m["done_on"] for m in topic["measures"]] == [None, None]
    # before: the 8 weeks before 1 Nov hold the September and October cases (6 Sep – 31 Oct)
    assert topic["recurrence"]["before"]["cases"] == 2
    assert topic["recurrence"]["verdict"] == "not_yet"

    hot = sc.get("/api/v1/campaigns/hot-spots", query_string={"period": "2026-11"},
                 headers=h).get_json()["items"][0]
    assert hot["taken_on_by"] == [{"id": topic["id"], "name": "十一月每月一题：暴露垃圾",
                                   "kind": "monthly_topic"}]

    # progress: one measure done; the lead department changes
    r = sc.put(f"/api/v1/campaigns/{topic['id']}/programme", headers=h, json={
        "lead_department": "street_office",
        "measures": [{"text": "增加清运频次至每日两次", "done_on": "2026-11-15"},
                     {"text": "设置分类投放点"}]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["lead_department"]["code"] == "street_office"
    assert [m["done_on"] for m in r.get_json()["measures"]] == ["2026-11-15", None]
    bad = sc.put(f"/api/v1/campaigns/{topic['id']}/programme", headers=h,
                 json={"lead_department": "nobody"})
    assert bad.status_code == 422 and "lead_department" in bad.get_json()["fields"]
    # a handler runs no programme
    r = sc.put(f"/api/v1/campaigns/{topic['id']}/programme",
               headers=auth(tokens["handler"]), json={"measures": []})
    assert r.status_code in (403, 404)

    # the programmes apart from the campaigns
    assert [c["id"] for c in sc.get("/api/v1/campaigns", query_string={
        "kind": "monthly_topic"}, headers=h).get_json()] == [topic["id"]]
    assert sc.get("/api/v1/campaigns", query_string={"kind": "campaign"},
                  headers=h).get_json() == []

    # the before/after figures: 2 cases in the 56 days before (0.25 a week); two weeks after
    # the month, one new case (0.50 a week): more than half the rate before, it recurs
    put_case(engine, month, received=cst(12, 5, 9), accepted=cst(12, 5, 10),
             status="accepted", reporter=user_id(engine, "worker"), category="E0101")
    at(cst(12, 15, 9))
    after = sc.get(f"/api/v1/campaigns/{topic['id']}", headers=h).get_json()["recurrence"]
    assert (after["before"]["per_week"], after["after"]["days"], after["after"]["cases"],
            after["after"]["per_week"], after["verdict"]) == (0.25, 14, 1, 0.5, "recurs")
