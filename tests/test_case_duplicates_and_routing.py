"""Possible duplicates found by the job, merge and unmerge; routing rules (精准派单)."""

from __future__ import annotations

from cases_helpers import act, case, resolve_case, submit

from conftest import auth
from evaluation_samples import add_user
from followup import drain


def _near(cell, dx_m=0.0):
    return {"lon": cell["lon"] + dx_m / 85_000, "lat": cell["lat"]}


def test_a_nearby_report_of_the_same_category_is_linked_as_possible_duplicate(
        client, tokens, demo_cell, runtime):
    first = submit(client, tokens, demo_cell, runtime)
    second = submit(client, tokens, _near(demo_cell, 20), runtime, persona="supervisor")
    far = submit(client, tokens, _near(demo_cell, 400), runtime)
    other_kind = submit(client, tokens, _near(demo_cell, 5), runtime, category="C0101")
    c = case(client, tokens, "supervisor", second)
    links = c["possible_duplicates"]
    assert [link["id"] for link in links] == [first]
    assert 15 < links[0]["distance_m"] < 25
    assert [link["id"] for link in case(client, tokens, "supervisor", first)[
        "possible_duplicates"]] == [second]
    assert case(client, tokens, "supervisor", far)["possible_duplicates"] == []
    assert case(client, tokens, "supervisor", other_kind)["possible_duplicates"] == []


def test_merge_keeps_the_reporter_and_follows_the_primary_then_unmerge(
        client, tokens, demo_cell, runtime):
    primary = submit(client, tokens, demo_cell, runtime)
    dup = submit(client, tokens, _near(demo_cell, 10), runtime, persona="supervisor")
    act(client, tokens, "supervisor", dup, "merge", expect=422)  # no target
    act(client, tokens, "supervisor", dup, "merge", expect=422, target_case_id=dup)
    d = act(client, tokens, "supervisor", dup, "merge", target_case_id=primary)
    assert d["status"] == "duplicate" and d["duplicate_of"] == primary
    assert d["outcome"] == "reported" and d["reporter_id"] is not None
    p = case(client, tokens, "supervisor", primary)
    assert [x["id"] for x in p["duplicates"]] == [dup]
    # the primary is handled; the duplicate follows its outcome
    resolve_case(client, tokens, primary)
    act(client, tokens, "supervisor", primary, "close")
    assert case(client, tokens, "supervisor", dup)["outcome"] == "closed"
    # a duplicate cannot be merged into
    third = submit(client, tokens, _near(demo_cell, 12), runtime)
    act(client, tokens, "supervisor", third, "merge", expect=422, target_case_id=dup)
    u = act(client, tokens, "supervisor", dup, "unmerge")
    assert u["status"] == "reported" and u["duplicate_of"] is None
    trail = client.get(f"/api/v1/cases/{dup}/events",
                       headers=auth(tokens["supervisor"])).get_json()
    assert [e["action"] for e in trail][-2:] == ["case.merged", "case.unmerged"]


def _rule(client, tokens, persona="admin", expect=201, **body):
    r = client.post("/api/v1/routing-rules", json=body, headers=auth(tokens[persona]))
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def test_routing_rule_precedence_category_first_then_longest_area(
        client, tokens, demo_cell, runtime):
    cell = demo_cell["code"]
    _rule(client, tokens, area_prefix="110101", department="street_office")
    _rule(client, tokens, category="E0101", area_prefix="110101", department="sanitation")
    specific = _rule(client, tokens, category="E0101", area_prefix=cell[:9],
                     department="enforcement")
    local = _rule(client, tokens, area_prefix=cell[:12], department="housing")
    # E0101: the category's rules beat the any-category ones; the street beats the district
    c = case(client, tokens, "supervisor", submit(client, tokens, demo_cell, runtime))
    assert (c["suggested_department"], c["routing_source"], c["routing_rule_id"]) == \
        ("enforcement", "rule", specific["id"])
    # C0101 has no rule of its own: the community's any-category rule beats the district's
    c = case(client, tokens, "supervisor",
             submit(client, tokens, demo_cell, runtime, category="C0101"))
    assert (c["suggested_department"], c["routing_rule_id"]) == ("housing", local["id"])
    # dispatch records the rule that chose the department
    act(client, tokens, "supervisor", c["id"], "accept")
    d = act(client, tokens, "supervisor", c["id"], "dispatch")
    assert d["department"] == "housing"
    trail = client.get(f"/api/v1/cases/{c['id']}/events",
                       headers=auth(tokens["supervisor"])).get_json()
    assert trail[-1]["data"]["routing_rule_id"] == local["id"]


def test_without_rules_the_category_default_routes(client, tokens, demo_cell, runtime):
    c = case(client, tokens, "supervisor", submit(client, tokens, demo_cell, runtime))
    assert (c["suggested_department"], c["routing_source"]) == ("sanitation", "category")


def test_routing_rules_are_edited_by_supervisors_within_scope(client, tokens):
    _rule(client, tokens, "supervisor", area_prefix="110101001", department="water",
          category="C0101")
    _rule(client, tokens, "supervisor", expect=409, area_prefix="110101001",
          department="municipal", category="C0101")
    _rule(client, tokens, "supervisor", expect=403, area_prefix="110102",
          department="water")
    _rule(client, tokens, "worker", expect=403, area_prefix="110101", department="water")
    _rule(client, tokens, "admin", expect=422, area_prefix="1101x", department="water")
    rule = _rule(client, tokens, "admin", area_prefix="", department="street_office")
    listed = client.get("/api/v1/routing-rules", headers=auth(tokens["admin"])).get_json()
    assert {r["id"] for r in listed} >= {rule["id"]}
    r = client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=auth(tokens["admin"]))
    assert r.status_code == 204
    r = client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=auth(tokens["admin"]))
    assert r.status_code == 404


def test_auto_accept_and_auto_dispatch_per_category(client, tokens, demo_cell, runtime,
                                                    engine):
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("UPDATE categories SET auto_accept = true, auto_dispatch = true "
                          "WHERE code = 'E0103'"))
    try:
        c = case(client, tokens, "supervisor",
                 submit(client, tokens, demo_cell, runtime, category="E0103"))
        assert c["status"] == "dispatched" and c["department"] == "sanitation"
        assert c["stage"] == "handle"
        kinds = [n["kind"] for n in client.get("/api/v1/me/notifications",
                                               headers=auth(tokens["handler"])).get_json()]
        assert "case.dispatched" in kinds
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE categories SET auto_accept = false, auto_dispatch = false "
                              "WHERE code = 'E0103'"))
    drain(runtime)


def test_routing_rules_are_listed_and_retired_only_within_scope(client, tokens, runtime):
    mine = _rule(client, tokens, "supervisor", area_prefix="110101001", department="water")
    city = _rule(client, tokens, "admin", area_prefix="", department="street_office",
                 note="全市兜底")
    other = _rule(client, tokens, "admin", area_prefix="110102", department="water",
                  note="西城 only")
    for persona in ("worker", "handler"):
        r = client.get("/api/v1/routing-rules", headers=auth(tokens[persona]))
        assert r.status_code == 403
        r = client.delete(f"/api/v1/routing-rules/{mine['id']}", headers=auth(tokens[persona]))
        assert r.status_code == 403
    listed = {r["id"]: r for r in client.get(
        "/api/v1/routing-rules", headers=auth(tokens["supervisor"])).get_json()}
    # its own area's rules, and the city-wide one that routes its area; not another district's
    assert set(listed) == {mine["id"], city["id"]}
    assert (listed[mine["id"]]["editable"], listed[city["id"]]["editable"]) == (True, False)
    r = client.delete(f"/api/v1/routing-rules/{other['id']}", headers=auth(tokens["supervisor"]))
    assert r.status_code == 404
    r = client.delete(f"/api/v1/routing-rules/{city['id']}", headers=auth(tokens["supervisor"]))
    assert r.status_code == 403
    street_sup = add_user(runtime, client, "street_sup", "supervisor", ["110101002"])
    r = client.delete(f"/api/v1/routing-rules/{mine['id']}", headers=auth(street_sup))
    assert r.status_code == 404
    r = client.delete(f"/api/v1/routing-rules/{mine['id']}", headers=auth(tokens["supervisor"]))
    assert r.status_code == 204
    listed = client.get("/api/v1/routing-rules", headers=auth(tokens["admin"])).get_json()
    assert {r["id"] for r in listed} == {city["id"], other["id"]}
