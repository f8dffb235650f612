"""巡查指标: the patrol table of a period per area level and per worker, counted by hand from a
few patrols written with known cells, seconds and metres — coverage, visits, hours, km, cells
not walked in N days, flagged patrols kept out — its scope, and its CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from conftest import PERSONAS, auth

COMMUNITY = "110101001001"  # the demo worker's (多福巷)
NOW = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 in Beijing; March's table taken now


@pytest.fixture()
def walked(engine, database):
    """Two cells A and B of the community; the demo worker's patrols:
    P1 on 2 March: A 600 s 400 m, B 300 s 200 m (patrol: 1,000 s, 700 m);
    P2 on 18 March: A 1,200 s 800 m (patrol: 1,300 s, 900 m);
    P3 on 19 March, flagged (impossible speed): B 60 s 1,000 m (patrol: 100 s, 5,000 m);
    P4 on 27 February: B 100 s 50 m — before the period."""
    with engine.begin() as conn:
        a, b = conn.execute(text("""
            SELECT code FROM areas WHERE level = 'cell' AND code LIKE :c ORDER BY code LIMIT 2
        """), {"c": COMMUNITY + "%"}).scalars().all()
        cells = conn.execute(text(
            "SELECT count(*) FROM areas WHERE level = 'cell' AND code LIKE :c"),
            {"c": COMMUNITY + "%"}).scalar_one()
        worker = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                              {"u": PERSONAS["worker"]}).scalar_one()
        for started, seconds, metres, flags, walks in (
                ("2026-03-02T01:00:00Z", 1000, 700, [], [(a, 600, 400), (b, 300, 200)]),
                ("2026-03-18T01:00:00Z", 1300, 900, [], [(a, 1200, 800)]),
                ("2026-03-19T01:00:00Z", 100, 5000, ["impossible_speed"], [(b, 60, 1000)]),
                ("2026-02-27T01:00:00Z", 100, 50, [], [(b, 100, 50)])):
            pid = uuid.uuid4()
            conn.execute(text("""
                INSERT INTO patrols (id, worker_id, worker_scopes, started_at, ended_at,
                                     received_at, points, distance_m, seconds, flags)
                VALUES (:id, :w, :scopes, CAST(:s AS timestamptz),
                        CAST(:s AS timestamptz) + make_interval(secs => :secs),
                        CAST(:s AS timestamptz), 10, :m, :secs, :flags)
            """), {"id": pid, "w": worker, "scopes": [COMMUNITY], "s": started, "secs": seconds,
                   "m": metres, "flags": flags})
            for code, secs, length in walks:
                conn.execute(text("""
                    INSERT INTO patrol_cells (patrol_id, cell_code, seconds, length_m)
                    VALUES (:p, :c, :s, :l)
                """), {"p": pid, "c": code, "s": secs, "l": length})
    return {"a": a, "b": b, "cells": cells, "worker": worker}


def _table(client, token, **query):
    r = client.get("/api/v1/patrols/table", query_string=query, headers=auth(token))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_communitys_table_counts_coverage_visits_hours_km_and_cells_not_walked(
        client, tokens, walked, at):
    at(NOW)
    t = _table(client, tokens["supervisor"], period="2026-03", group="community",
               area=COMMUNITY, stale_days=7)
    assert [r["key"] for r in t["rows"]] == [COMMUNITY]
    row = t["rows"][0]
    n = walked["cells"]
    assert row["cells"] == n and row["cells_walked"] == 2
    assert row["coverage_rate"] == round(2 / n, 4)
    assert row["visits"] == 3  # P1 in A and B, P2 in A; the flagged P3 and February's P4 not
    assert row["seconds"] == 2100 and row["hours"] == 0.58
    assert row["distance_m"] == 1400 and row["km"] == 1.4
    assert (row["patrols"], row["workers"]) == (2, 1)
    # walked since 13 March 12:00: only A (P2); B's last walk that counts was on 2 March
    assert row["cells_stale"] == n - 1
    assert t["total"]["visits"] == 3 and t["total"]["name"] == "合计"
    assert datetime.fromisoformat(t["period"]["cutoff"]) == NOW
    # a longer window: B walked on 2 March counts as walked
    assert _table(client, tokens["supervisor"], period="2026-03", group="community",
                  area=COMMUNITY, stale_days=30)["rows"][0]["cells_stale"] == n - 2


def test_per_cell_and_per_worker(client, tokens, walked, at):
    at(NOW)
    t = _table(client, tokens["supervisor"], period="2026-03", group="cell", area=COMMUNITY)
    by = {r["key"]: r for r in t["rows"]}
    assert len(by) == walked["cells"]
    a, b = by[walked["a"]], by[walked["b"]]
    assert (a["visits"], a["seconds"], a["km"], a["patrols"], a["cells_stale"]) == (
        2, 1800, 1.2, 2, 0)
    assert (b["visits"], b["seconds"], b["km"], b["patrols"], b["cells_stale"]) == (
        1, 300, 0.2, 1, 1)
    assert a["coverage_rate"] == 1.0
    assert sum(r["visits"] for r in t["rows"]) == t["total"]["visits"] == 3
    w = _table(client, tokens["supervisor"], period="2026-03", group="worker", area=COMMUNITY)
    assert [(r["key"], r["name"] is not None) for r in w["rows"]] == [
        (str(walked["worker"]), True)]
    row = w["rows"][0]
    # the flagged P3 counted apart: not in the patrols, km or hours
    assert (row["patrols"], row["flagged"], row["cells_walked"], row["visits"]) == (2, 1, 2, 3)
    assert (row["distance_m"], row["km"], row["seconds"], row["hours"]) == (1600, 1.6, 2300, 0.64)
    # a custom period: 1–17 March holds P1 only
    p1 = _table(client, tokens["supervisor"], **{"from": "2026-03-01", "to": "2026-03-17"},
                group="worker", area=COMMUNITY)["rows"][0]
    assert (p1["patrols"], p1["km"], p1["visits"]) == (1, 0.7, 2)


def test_the_table_is_the_supervisors_within_their_scope(client, tokens, walked, at):
    at(NOW)
    r = client.get("/api/v1/patrols/table", query_string={"area": COMMUNITY},
                   headers=auth(tokens["worker"]))
    assert r.status_code == 403 and r.get_json()["code"] == "auth.forbidden"
    r = client.get("/api/v1/patrols/table", query_string={"area": "110102"},
                   headers=auth(tokens["supervisor"]))
    assert r.status_code == 403 and r.get_json()["code"] == "patrol.outside_scope"
    assert "area" in r.get_json()["fields"]
    r = client.get("/api/v1/patrols/table", query_string={"group": "nation"},
                   headers=auth(tokens["supervisor"]))
    assert r.status_code == 422 and "group" in r.get_json()["fields"]
    # without an area: the supervisor's whole scope (the district), the community within it
    t = _table(client, tokens["supervisor"], period="2026-03", group="community")
    assert {r["key"]: r["visits"] for r in t["rows"]}[COMMUNITY] == 3


def test_the_export_holds_the_table_and_its_total(client, tokens, walked, at):
    at(NOW)
    r = client.get("/api/v1/exports/patrols.csv", query_string={
        "period": "2026-03", "group": "community", "area": COMMUNITY},
        headers=auth(tokens["supervisor"]))
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].endswith('patrols-2026-03-community.csv"')
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert [x["社区编码"] for x in rows] == [COMMUNITY, ""]
    n = walked["cells"]
    assert rows[0]["巡查覆盖率"] == f"{round(2 / n * 100, 2):.2f}%"
    assert (rows[0]["巡查次数"], rows[0]["巡查时长（小时）"], rows[0]["巡查里程（公里）"],
            rows[0]["未巡查网格数"]) == ("3", "0.58", "1.4", str(n - 1))
    assert rows[1]["社区"] == "合计"
    x = client.get("/api/v1/exports/patrols.xlsx", query_string={"group": "worker",
                                                                 "period": "2026-03"},
                   headers=auth(tokens["supervisor"]))
    assert x.status_code == 200 and x.get_data()[:2] == b"PK"


def test_the_coverage_layer_marks_the_cells_walked_in_the_period(client, tokens, walked, at):
    at(NOW)
    r = client.get("/api/v1/patrols/coverage", query_string={
        "from": "2026-03-10", "to": "2026-03-20", "area": COMMUNITY},
        headers=auth(tokens["supervisor"]))
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == walked["cells"]
    props = {f["properties"]["code"]: f["properties"] for f in fc["features"]}
    # P2 walked A on 18 March; B only by P1 (2 March, before) and the flagged P3
    assert [c for c, p in props.items() if p["walked"]] == [walked["a"]]
    assert props[walked["a"]]["visits"] == 1 and props[walked["b"]]["visits"] == 0
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    r = client.get("/api/v1/patrols/coverage", headers=auth(tokens["worker"]))
    assert r.status_code == 403
