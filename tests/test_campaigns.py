"""专项 (campaigns): a class of problem taken on in an area for some days, the cases it links,
and whether the problem recurs after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from conftest import auth
from evaluation_samples import add_user, cst, put_case, user_id


@pytest.fixture(autouse=True)
def _no_campaigns(request):
    uses_db = bool({"engine", "sc", "client"} & set(request.fixturenames))
    eng = request.getfixturevalue("engine") if uses_db else None
    yield
    if eng is not None:
        with eng.begin() as conn:
            conn.execute(text("TRUNCATE campaigns, campaign_cases RESTART IDENTITY"))


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


def _campaign_body(**overrides) -> dict:
    body = {"name": "垃圾整治", "category": "E0101", "area_prefix": "110101",
            "starts_on": "2026-11-01", "ends_on": "2026-11-30"}
    body.update(overrides)
    return body


def _campaign_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM campaigns")).scalar()


@pytest.mark.parametrize("overrides,field", [
    ({"starts_on": "0001-01-01"}, "starts_on"),
    ({"ends_on": "9999-12-31"}, "ends_on"),
    ({"starts_on": "2020-01-01", "ends_on": "2026-11-30"}, "ends_on"),
    ({"ends_on": "2026-10-01"}, "ends_on"),
])
def test_a_campaign_that_cannot_be_one_is_422_and_nothing_is_saved(sc, tokens, engine,
                                                                   overrides, field):
    r = sc.post("/api/v1/campaigns", json=_campaign_body(**overrides),
                headers=auth(tokens["supervisor"]))
    assert r.status_code == 422, r.get_json()
    assert list(r.get_json()["fields"]) == [field]
    assert _campaign_count(engine) == 0
    assert sc.get("/api/v1/campaigns", headers=auth(tokens["supervisor"])).get_json() == []


def test_a_campaign_is_ended_early_and_deleted_by_its_area_supervisor(sc, tokens, engine,
                                                                      runtime, at):
    at(cst(11, 10, 12))
    camp = sc.post("/api/v1/campaigns", json=_campaign_body(),
                   headers=auth(tokens["supervisor"])).get_json()
    url = f"/api/v1/campaigns/{camp['id']}"
    outsider = add_user(runtime, sc, "xicheng_sup3", "supervisor", ["110102"])
    assert sc.patch(url, json={}, headers=auth(outsider)).status_code == 404
    assert sc.patch(url, json={}, headers=auth(tokens["worker"])).status_code == 403
    assert sc.delete(url, headers=auth(outsider)).status_code == 404
    assert sc.delete(url, headers=auth(tokens["worker"])).status_code == 403

    r = sc.patch(url, json={}, headers=auth(tokens["supervisor"]))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["ends_on"] == "2026-11-10"
    r = sc.patch(url, json={"ends_on": "2026-10-31"}, headers=auth(tokens["supervisor"]))
    assert r.status_code == 422
    assert list(r.get_json()["fields"]) == ["ends_on"]

    assert sc.delete(url, headers=auth(tokens["supervisor"])).status_code == 204
    assert sc.get(url, headers=auth(tokens["supervisor"])).status_code == 404
    assert _campaign_count(engine) == 0
