"""The live map's vector tiles: points up close, counts per cell and area further out, scoped."""

from __future__ import annotations

import math

import mapbox_vector_tile

from cases_helpers import act, submit

from conftest import auth


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def get_tile(client, token, cell, z, **query):
    x, y = tile_of(cell["lon"], cell["lat"], z)
    r = client.get(f"/api/v1/tiles/cases/{z}/{x}/{y}.mvt", query_string=query,
                   headers=auth(token))
    assert r.status_code == 200 and r.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(r.data) if r.data else {}


def test_close_up_tiles_carry_each_case_and_the_grid(client, tokens, demo_cell, runtime):
    ids = {submit(client, tokens, demo_cell, runtime) for _ in range(3)}
    layers = get_tile(client, tokens["supervisor"], demo_cell, 16)
    assert {f["properties"]["id"] for f in layers["cases"]["features"]} == ids
    assert all(f["properties"]["status"] == "reported" for f in layers["cases"]["features"])
    assert any(f["properties"]["code"] == demo_cell["code"] for f in layers["grid"]["features"])


def test_street_zoom_counts_cases_per_cell_with_overdue(client, tokens, demo_cell, runtime,
                                                        engine):
    from sqlalchemy import text

    ids = [submit(client, tokens, demo_cell, runtime) for _ in range(3)]
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET overdue = true WHERE id = :id"), {"id": ids[0]})
    layers = get_tile(client, tokens["supervisor"], demo_cell, 13)
    assert "cases" not in layers  # no raw points at this zoom
    cell = next(f for f in layers["cells"]["features"]
                if f["properties"]["code"] == demo_cell["code"])
    assert (cell["properties"]["cases"], cell["properties"]["overdue"]) == (3, 1)
    only_overdue = get_tile(client, tokens["supervisor"], demo_cell, 13, overdue="true")
    assert [f["properties"]["cases"] for f in only_overdue["cells"]["features"]] == [1]


def test_city_zoom_counts_per_area(client, tokens, demo_cell, runtime):
    for _ in range(2):
        submit(client, tokens, demo_cell, runtime)
    layers = get_tile(client, tokens["supervisor"], demo_cell, 11)
    (area,) = [f for f in layers["areas"]["features"]
               if f["properties"]["code"] == demo_cell["code"][:12]]
    assert area["properties"]["cases"] == 2 and area["properties"]["level"] == "community"
    street = get_tile(client, tokens["supervisor"], demo_cell, 9)["areas"]["features"]
    assert [f["properties"]["code"] for f in street] == [demo_cell["code"][:9]]


def test_tiles_are_scoped_and_filtered(client, tokens, demo_cell, runtime):
    cid = submit(client, tokens, demo_cell, runtime)
    assert get_tile(client, tokens["worker2"], demo_cell, 16).get("cases") is None
    assert get_tile(client, tokens["handler"], demo_cell, 16).get("cases") is None
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    seen = get_tile(client, tokens["handler"], demo_cell, 16)["cases"]["features"]
    assert [f["properties"]["id"] for f in seen] == [cid]
    none = get_tile(client, tokens["supervisor"], demo_cell, 16, status="closed")
    assert none.get("cases") is None


def test_bad_tile_coordinates_are_404(client, tokens):
    r = client.get("/api/v1/tiles/cases/3/9/1.mvt", headers=auth(tokens["supervisor"]))
    assert r.status_code == 404 and r.get_json()["code"] == "request.not_found"
