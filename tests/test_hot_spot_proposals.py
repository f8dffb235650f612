"""主动治理 proposed to supervisors: the periodic job tells the supervisors closest to a hot
spot's area of each of the month's hot spots not yet taken on — once per hot spot and month."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridsnap.campaigns import jobs as campaign_jobs
from gridsnap.notifications.rules import HOT_SPOT_PROPOSED
from gridsnap.worker import PERIODIC, build_followup

from conftest import auth
from evaluation_samples import cst, put_case, user_id


@pytest.fixture(autouse=True)
def _clean(engine):
    yield
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE campaigns, campaign_cases, hot_spot_proposals "
                          "RESTART IDENTITY"))


@pytest.fixture()
def hot(engine, cells):
    """多福巷社区: E0101 one case in each of August, September and October, four in November
    (4 ≥ 3 and 4 ≥ 2 × 1.00: a hot spot); E0102 three in each month (3 < 2 × 3.00: steady,
    not one)."""
    w = user_id(engine, "worker")
    c = cells["cell"]

    def case(when, category):
        put_case(engine, c, received=when, accepted=when + timedelta(minutes=5),
                 status="accepted", reporter=w, category=category)

    for m in (8, 9, 10):
        case(cst(m, 10, 9), "E0101")
    for d in (3, 5, 9, 12):
        case(cst(11, d, 10), "E0101")
    for m in (8, 9, 10, 11):
        for d in (4, 5, 6):
            case(cst(m, d, 9), "E0102")
    return c


def _propose(engine, runtime) -> int:
    with Session(engine) as s:
        n = campaign_jobs.propose_hot_spots(s, runtime)
        s.commit()
    return n


def _proposals(client, token):
    got = client.get("/api/v1/me/notifications", headers=auth(token)).get_json()
    return [n for n in got if n["kind"] == HOT_SPOT_PROPOSED]


def test_a_hot_spot_is_proposed_once_to_the_supervisors_of_its_area(
        sc, tokens, engine, runtime, hot, at):
    at(cst(11, 20, 9))
    # the job is one of the worker's periodic tasks
    assert campaign_jobs.PROPOSE_HOT_SPOTS in build_followup(runtime).tasks
    assert campaign_jobs.PROPOSE_HOT_SPOTS in [p[0] for p in PERIODIC]
    before = len(_proposals(sc, tokens["supervisor"]))

    # taken on already by a campaign of its class and area: not proposed
    r = sc.post("/api/v1/campaigns", headers=auth(tokens["supervisor"]), json={
        "name": "暴露垃圾专项", "category": "E0101", "area_prefix": "110101001",
        "starts_on": "2026-11-15", "ends_on": "2026-11-30"})
    assert r.status_code == 201, r.get_json()
    assert _propose(engine, runtime) == 0
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE campaigns, campaign_cases RESTART IDENTITY"))

    # proposed once, however often the job runs this month
    assert _propose(engine, runtime) == 1
    assert _propose(engine, runtime) == 0
    got = _proposals(sc, tokens["supervisor"])
    assert len(got) == before + 1
    data = got[0]["data"]
    assert (data["month"], data["category"], data["area_code"], data["count"],
            data["previous_average"]) == ("2026-11", "E0101", "110101001001", 4, "1.00")
    assert data["area_name_en"] == "Duofuxiang Community" and got[0]["case_id"] is None
    # not a supervisor: nothing
    assert _proposals(sc, tokens["handler"]) == []

    # next month, the same class still hot (five in December against 1, 1, 4): proposed again
    for d in (1, 2, 3, 4, 7):
        put_case(engine, hot, received=cst(12, d, 9), accepted=cst(12, d, 10),
                 status="accepted", reporter=user_id(engine, "worker"), category="E0101")
    at(cst(12, 8, 9))
    assert _propose(engine, runtime) == 1
    assert len(_proposals(sc, tokens["supervisor"])) == before + 2
