"""A hot spot costs what a quiet street costs: 200 reports of one class at one place link each
new case to its cluster's primary and the few nearest only, the count of a case's possible
duplicates is kept right, and a case's answer names as many as a quiet street's does."""

from __future__ import annotations

import json
import random

from sqlalchemy import text

from cases_helpers import act, case
from gridsnap.cases import queries, rules

from conftest import auth, new_id, report_body
from followup import drain

HOT = 200


def _spot(cell, dx_m, dy_m):
    return {"lon": cell["lon"] + dx_m / 85_000, "lat": cell["lat"] + dy_m / 111_000}


def _reports(client, tokens, runtime, points, batch=10) -> list[str]:
    """Report every point in turn; the follow-up runs every `batch` reports (several new cases
    of one place in one job, as under load)."""
    ids = []
    for i, p in enumerate(points):
        rid = new_id()
        r = client.put(f"/api/v1/reports/{rid}", json=report_body(p, description="垃圾满溢"),
                       headers=auth(tokens["worker"]))
        assert r.status_code == 201, r.get_json()
        ids.append(rid)
        if (i + 1) % batch == 0:
            drain(runtime)
    drain(runtime)
    return ids


def test_the_open_index_keeps_the_open_statuses():
    ended = set(rules.STATUSES) - set(rules.OPEN_STATUSES)
    listed = queries._OPEN_SQL.removeprefix("status NOT IN (").removesuffix(")")
    assert {s.strip(" '") for s in listed.split(",")} == ended


def test_a_hot_spot_links_each_case_a_bounded_number_of_times(client, tokens, demo_cell,
                                                               runtime, engine):
    rnd = random.Random(23)
    # within 20 m of one point: every two are within the class's 50 m of each other
    hot = _reports(client, tokens, runtime,
                   [_spot(demo_cell, rnd.uniform(-14, 14), rnd.uniform(-14, 14))
                    for _ in range(HOT)])
    # a quiet street 400 m away: seven reports
    quiet = _reports(client, tokens, runtime,
                     [_spot(demo_cell, 400 + rnd.uniform(-14, 14), rnd.uniform(-14, 14))
                      for _ in range(7)])
    with engine.connect() as conn:
        per_case = dict(conn.execute(text(
            "SELECT r.id::text, count(l.other_id) FROM reports r "
            "LEFT JOIN case_links l ON l.report_id = r.id GROUP BY r.id")).all())
        primaries = conn.execute(text(
            "SELECT report_id::text, other_id::text FROM case_links WHERE is_primary")).all()
        kept = dict(conn.execute(text(
            "SELECT report_id::text, primary_of FROM case_link_counts")).all())
        actual = dict(conn.execute(text(
            "SELECT id::text, count(*) FROM (SELECT report_id AS id FROM case_links "
            "UNION ALL SELECT other_id FROM case_links) e GROUP BY id")).all())
    with runtime.sessions() as s:
        # for one who sees every case: the kept cluster size and the other links counted
        counted = queries.possible_duplicate_counts(s, hot + quiet, rules.SYSTEM)
    # each new case: its primary and at most NEAREST_LINKS nearest
    assert max(per_case.values()) <= queries.NEAREST_LINKS + 1
    assert per_case[hot[0]] == 0 and all(per_case[i] >= 1 for i in hot[1:])
    # one cluster: every later case of the hot spot names the first as its primary
    prim = dict(primaries)
    assert {prim[i] for i in hot[1:]} == {hot[0]}
    assert {prim[i] for i in quiet[1:]} == {quiet[0]}
    # a count is kept for the primaries only: the later cases of their cluster
    assert kept == {hot[0]: HOT - 1, quiet[0]: 6}
    # and the count a case shows is its links' count, for every case
    assert {str(i): n for i, n in counted.items()} == {i: actual.get(i, 0) for i in hot + quiet}

    hot_case = case(client, tokens, "supervisor", hot[0])
    quiet_case = case(client, tokens, "supervisor", quiet[0])
    assert hot_case["possible_duplicates_total"] == HOT - 1
    assert quiet_case["possible_duplicates_total"] == 6
    assert len(hot_case["possible_duplicates"]) == len(quiet_case["possible_duplicates"]) \
        == queries.LINKS_SHOWN
    # nearest first
    dists = [d["distance_m"] for d in hot_case["possible_duplicates"]]
    assert dists == sorted(dists)
    # the answer's size: the same but for the digits of numbers and distances
    assert abs(len(json.dumps(hot_case)) - len(json.dumps(quiet_case))) < 100
    # a later case of the hot spot: its few links and those that chose it among their nearest
    later = case(client, tokens, "supervisor", hot[-1])
    assert later["possible_duplicates_total"] <= queries.NEAREST_LINKS + 1
    assert len(later["possible_duplicates"]) <= queries.LINKS_SHOWN


def test_all_possible_duplicates_a_page_at_a_time_nearest_first(client, tokens, demo_cell,
                                                                runtime):
    rnd = random.Random(7)
    ids = _reports(client, tokens, runtime,
                   [_spot(demo_cell, rnd.uniform(-14, 14), rnd.uniform(-14, 14))
                    for _ in range(60)], batch=20)
    seen, dists = [], []
    for page in (1, 2, 3):
        r = client.get(f"/api/v1/cases/{ids[0]}/possible-duplicates?page={page}&page_size=25",
                       headers=auth(tokens["supervisor"]))
        assert r.status_code == 200, r.get_json()
        assert json.loads(r.headers["X-Pagination"])["total"] == 59
        seen += [d["id"] for d in r.get_json()]
        dists += [d["distance_m"] for d in r.get_json()]
    assert sorted(seen) == sorted(ids[1:])
    assert dists == sorted(dists)
    # the case names the nearest of them
    shown = case(client, tokens, "supervisor", ids[0])["possible_duplicates"]
    assert [d["id"] for d in shown] == seen[:queries.LINKS_SHOWN]
    r = client.get(f"/api/v1/cases/{new_id()}/possible-duplicates",
                   headers=auth(tokens["supervisor"]))
    assert r.status_code == 404 and r.get_json()["code"] == "case.not_found"


def test_a_closed_primary_hands_the_cluster_to_the_next_open_case(client, tokens, demo_cell,
                                                                  runtime, engine):
    first, second = _reports(client, tokens, runtime,
                             [_spot(demo_cell, 0, 0), _spot(demo_cell, 5, 0)], batch=1)
    act(client, tokens, "supervisor", first, "reject", note="不属于城管")
    (third,) = _reports(client, tokens, runtime, [_spot(demo_cell, 0, 5)])
    with engine.connect() as conn:
        prim = conn.execute(text("SELECT other_id::text FROM case_links "
                                 "WHERE report_id = :id AND is_primary"), {"id": third}).scalar()
    assert prim == second
