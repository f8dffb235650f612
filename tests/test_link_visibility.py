"""Links between cases name a case only to those who may see it (invariant 4): possible
duplicates on the trail, a merged case's primary (id, number, live status), unmerge, and the
inbox after a scope is narrowed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cases_helpers import act, case
from gridsnap.cases import rules

from conftest import auth, new_id, report_body
from evaluation_samples import add_user
from followup import drain


@pytest.fixture()
def neighbours(engine) -> dict:
    """Two neighbouring cells of the demo city and a point in each, 10 m from their shared
    edge (close enough to be possible duplicates)."""
    with engine.connect() as conn:
        row = conn.execute(text("""
            WITH pair AS (
                SELECT a.code AS code_a, b.code AS code_b, a.boundary AS ba, b.boundary AS bb,
                       ST_PointOnSurface(ST_Intersection(a.boundary, b.boundary)) AS p
                  FROM areas a JOIN areas b
                    ON a.level = 'cell' AND b.level = 'cell' AND a.code < b.code
                   AND a.code LIKE '110101%' AND b.code LIKE '110101%'
                   AND ST_Intersects(a.boundary, b.boundary)
                   AND ST_Length(ST_Intersection(a.boundary, b.boundary)::geography) > 50
                 ORDER BY a.code, b.code LIMIT 1
            ), pts AS (
                SELECT code_a, code_b,
                       ST_PointOnSurface(ST_Intersection(ba, ST_Buffer(p::geography, 10)::geometry)) AS pa,
                       ST_PointOnSurface(ST_Intersection(bb, ST_Buffer(p::geography, 10)::geometry)) AS pb
                  FROM pair)
            SELECT code_a, code_b, ST_X(pa) AS lon_a, ST_Y(pa) AS lat_a, ST_X(pb) AS lon_b,
                   ST_Y(pb) AS lat_b FROM pts
        """)).mappings().one()
    return {"a": {"code": row["code_a"], "lon": row["lon_a"], "lat": row["lat_a"]},
            "b": {"code": row["code_b"], "lon": row["lon_b"], "lat": row["lat_b"]}}


def _report(client, token, cell, runtime) -> str:
    rid = new_id()
    r = client.put(f"/api/v1/reports/{rid}", json=report_body(cell), headers=auth(token))
    assert r.status_code == 201, r.get_json()
    drain(runtime)
    return rid


def test_links_name_only_the_cases_the_caller_may_see(client, tokens, runtime, neighbours):
    sup_b = add_user(runtime, client, "sup_cell_b", "supervisor", [neighbours["b"]["code"]])
    first = _report(client, tokens["worker"], neighbours["a"], runtime)
    second = _report(client, tokens["worker"], neighbours["b"], runtime)

    # the trail of the second case: the district supervisor sees the link, sup_b does not
    trail = client.get(f"/api/v1/cases/{second}/events",
                       headers=auth(tokens["supervisor"])).get_json()
    (dup,) = [e for e in trail if e["action"] == "case.possible_duplicate"]
    (link,) = dup["data"]["links"]
    assert link["other_id"] == first and "distance_m" in link
    trail = client.get(f"/api/v1/cases/{second}/events", headers=auth(sup_b)).get_json()
    (dup,) = [e for e in trail if e["action"] == "case.possible_duplicate"]
    assert dup["data"] == {"links": [{}]}
    assert case(client, {"s": sup_b}, "s", second)["possible_duplicates"] == []
    assert first not in client.get(f"/api/v1/cases/{second}/events",
                                   headers=auth(sup_b)).get_data(as_text=True)

    # merged into a case sup_b cannot see: no id, number or live status of it, and no unmerge
    act(client, tokens, "supervisor", first, "accept")
    act(client, tokens, "supervisor", second, "merge", target_case_id=first)
    seen = case(client, tokens, "supervisor", second)
    assert (seen["duplicate_of"], seen["outcome"]) == (first, "accepted")
    assert "unmerge" in seen["allowed_actions"]
    hidden = case(client, {"s": sup_b}, "s", second)
    assert hidden["duplicate_of"] is None and hidden["outcome"] == "duplicate"
    assert "unmerge" not in hidden["allowed_actions"]
    r = client.get(f"/api/v1/cases/{second}/events", headers=auth(sup_b))
    assert first not in r.get_data(as_text=True)
    act(client, {"s": sup_b}, "s", second, "unmerge", expect=403)
    act(client, tokens, "supervisor", second, "unmerge")


def test_one_trail_event_names_a_cases_links_each_masked_for_the_reader(client, tokens, runtime,
                                                                        neighbours):
    sup_b = add_user(runtime, client, "sup_cell_b2", "supervisor", [neighbours["b"]["code"]])
    first = _report(client, tokens["worker"], neighbours["a"], runtime)
    second = _report(client, tokens["worker"], neighbours["b"], runtime)
    third = _report(client, tokens["worker"], neighbours["b"], runtime)

    # one event for the third case's two links (its primary, the first; the second, nearest)
    trail = client.get(f"/api/v1/cases/{third}/events",
                       headers=auth(tokens["supervisor"])).get_json()
    (dup,) = [e for e in trail if e["action"] == "case.possible_duplicate"]
    links = dup["data"]["links"]
    assert [x["other_id"] for x in links] == [second, first]  # nearest first
    assert links[0]["distance_m"] < links[1]["distance_m"]

    # sup_b sees the second case, not the first: the first's entry is there, empty
    r = client.get(f"/api/v1/cases/{third}/events", headers=auth(sup_b))
    (dup,) = [e for e in r.get_json() if e["action"] == "case.possible_duplicate"]
    assert dup["data"]["links"] == [{"other_id": second, "distance_m": links[0]["distance_m"]},
                                    {}]
    assert first not in r.get_data(as_text=True)
    # and the possible duplicates of the case say the same
    assert [d["id"] for d in case(client, {"s": sup_b}, "s", third)["possible_duplicates"]] \
        == [second]
    assert [d["id"] for d in case(client, tokens, "supervisor", third)["possible_duplicates"]] \
        == [second, first]


def test_the_inbox_hides_cases_once_a_scope_no_longer_covers_them(client, tokens, runtime,
                                                                   neighbours):
    sup = add_user(runtime, client, "sup_narrowed", "supervisor", ["110101"])
    rid = _report(client, tokens["worker"], neighbours["a"], runtime)
    act(client, tokens, "handler", rid, "sign", expect=404)  # unrelated: handlers see nothing
    inbox = client.get("/api/v1/me/notifications", headers=auth(sup)).get_json()
    mine = [n for n in inbox if n["case_id"] == rid]
    assert mine, inbox
    r = client.patch("/api/v1/admin/users/sup_narrowed", json={"scopes": ["110102"]},
                     headers=auth(tokens["admin"]))
    assert r.status_code == 200
    inbox = client.get("/api/v1/me/notifications", headers=auth(sup)).get_json()
    assert len(inbox) >= len(mine)
    assert all(n["case_id"] is None and n["case_number"] is None for n in inbox)
    assert rid not in client.get("/api/v1/me/notifications",
                                 headers=auth(sup)).get_data(as_text=True)


def test_masking_keeps_what_the_reader_may_see_in_both_shapes_of_link_event():
    seen, hidden = str(new_id()), str(new_id())
    # one event per link (older trails)
    assert rules.without_hidden_links({"other_id": hidden, "distance_m": 3.0}, {seen}) == {}
    assert rules.without_hidden_links({"other_id": seen, "distance_m": 3.0}, {seen}) == \
        {"other_id": seen, "distance_m": 3.0}
    # one event naming the links
    data = {"links": [{"other_id": hidden, "distance_m": 1.0},
                      {"other_id": seen, "distance_m": 2.0}]}
    assert rules.linked_ids(data) == {seen, hidden}
    assert rules.without_hidden_links(data, {seen}) == \
        {"links": [{}, {"other_id": seen, "distance_m": 2.0}]}
    assert rules.without_hidden_links(data, set()) == {"links": [{}, {}]}
    assert data["links"][0]["other_id"] == hidden  # the stored data is not changed
