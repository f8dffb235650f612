"""按时巡: a patrol's track taken in batches (offline-safe), its coverage per cell computed in
PostGIS, reports made during it linked, doubtful tracks flagged and kept out of the coverage,
the plans and the week's figures, who sees a track, and the retention purge."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridsnap.users.service import add_user

from conftest import auth, lasting_token, new_id, report_body

PASSWORD = "patrol-pass-1"
MONDAY = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing, that Monday


@pytest.fixture()
def two_cells(engine, database):
    """Two cells of the demo worker's community sharing an edge, each with a point inside."""
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT a.code AS a_code, b.code AS b_code,
                   ST_X(ST_PointOnSurface(a.boundary)) AS a_lon,
                   ST_Y(ST_PointOnSurface(a.boundary)) AS a_lat,
                   ST_X(ST_PointOnSurface(b.boundary)) AS b_lon,
                   ST_Y(ST_PointOnSurface(b.boundary)) AS b_lat
              FROM areas a JOIN areas b
                ON b.level = 'cell' AND b.code > a.code
               AND ST_Length(ST_Intersection(a.boundary, b.boundary)::geography) > 50
             WHERE a.level = 'cell' AND a.code LIKE '110101001001%'
               AND b.code LIKE '110101001001%'
             ORDER BY a.code, b.code LIMIT 1
        """)).mappings().one()
    return dict(row)


def _metres(lon1, lat1, lon2, lat2) -> float:
    k = 111_320.0
    return math.hypot((lon2 - lon1) * k * math.cos(math.radians(lat1)), (lat2 - lat1) * 110_574)


def walk(a: tuple[float, float], b: tuple[float, float], start: datetime, *,
         speed_mps: float = 1.4, every_s: int = 10, accuracy_m: float = 5.0) -> list[dict]:
    """Points every `every_s` seconds on the straight line from a to b at `speed_mps`."""
    seconds = _metres(*a, *b) / speed_mps
    steps = max(1, round(seconds / every_s))
    return [{"id": str(uuid.uuid4()),
             "recorded_at": (start + timedelta(seconds=round(i * seconds / steps, 3))
                             ).isoformat(),
             "lon": a[0] + (b[0] - a[0]) * i / steps, "lat": a[1] + (b[1] - a[1]) * i / steps,
             "accuracy_m": accuracy_m} for i in range(steps + 1)]


def _user(client, engine, username, role, scopes, department=None) -> str:
    with Session(engine) as s, s.begin():
        add_user(s, username=username, display_name=username, role=role, password=PASSWORD,
                 scopes=scopes, department_code=department)
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return lasting_token(engine, r.get_json()["token"])


def patrol(client, token: str, points: list[dict], *, batch: int = 50,
           start: datetime | None = None) -> dict:
    """Start, send the points in batches, end; returns the ended patrol."""
    pid = new_id()
    h = auth(token)
    started = start or datetime.fromisoformat(points[0]["recorded_at"])
    r = client.put(f"/api/v1/patrols/{pid}", json={"started_at": started.isoformat()}, headers=h)
    assert r.status_code == 201, r.get_json()
    for i in range(0, len(points), batch):
        r = client.post(f"/api/v1/patrols/{pid}/points", json={"points": points[i:i + batch]},
                        headers=h)
        assert r.status_code == 200, r.get_json()
    r = client.post(f"/api/v1/patrols/{pid}/end",
                    json={"ended_at": points[-1]["recorded_at"]}, headers=h)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_track_in_batches_is_idempotent_and_its_coverage_computed_per_cell(
        client, tokens, two_cells, demo_cell, at):
    at(T0 + timedelta(hours=2))
    a = (two_cells["a_lon"], two_cells["a_lat"])
    b = (two_cells["b_lon"], two_cells["b_lat"])
    points = walk(a, b, T0) + walk(b, a, T0 + timedelta(minutes=30))
    pid, h = new_id(), auth(tokens["worker"])
    start = {"started_at": T0.isoformat()}
    assert client.put(f"/api/v1/patrols/{pid}", json=start, headers=h).status_code == 201
    assert client.put(f"/api/v1/patrols/{pid}", json=start, headers=h).status_code == 200
    r = client.put(f"/api/v1/patrols/{pid}",
                   json={"started_at": (T0 + timedelta(minutes=1)).isoformat()}, headers=h)
    assert r.status_code == 409 and r.get_json()["code"] == "patrol.id_conflict"
    half = len(points) // 2
    r = client.post(f"/api/v1/patrols/{pid}/points", json={"points": points[:half]}, headers=h)
    assert r.get_json()["accepted"] == half and r.get_json()["patrol"]["recording"] is True
    # the outbox sent the batch again after a lost answer: nothing is added
    r = client.post(f"/api/v1/patrols/{pid}/points", json={"points": points[:half]}, headers=h)
    assert (r.get_json()["accepted"], r.get_json()["duplicates"]) == (0, half)
    client.post(f"/api/v1/patrols/{pid}/points", json={"points": points[half:]}, headers=h)
    # a report made during the patrol is linked to it
    captured = (T0 + timedelta(minutes=10)).isoformat()
    assert client.put(f"/api/v1/reports/{new_id()}", headers=h,
                      json=report_body(demo_cell, captured_at=captured)).status_code == 201
    end = points[-1]["recorded_at"]
    r = client.post(f"/api/v1/patrols/{pid}/end", json={"ended_at": end}, headers=h)
    assert r.status_code == 200
    done = r.get_json()
    assert done["recording"] is False and done["points"] == len(points) and done["flags"] == []
    walked = _metres(*a, *b) * 2
    assert abs(done["distance_m"] - walked) < 0.02 * walked
    cells = {c["code"]: c for c in done["cells"]}
    assert {two_cells["a_code"], two_cells["b_code"]} <= set(cells)
    # the time inside the cells adds up to the time between points no more than 5 min apart
    moving = done["seconds"]
    assert abs(sum(c["seconds"] for c in cells.values()) - moving) < 1
    assert cells[two_cells["a_code"]]["seconds"] > 0 and cells[two_cells["b_code"]]["seconds"] > 0
    assert [datetime.fromisoformat(r["captured_at"]) for r in done["reports"]] == [
        datetime.fromisoformat(captured)]
    again = client.post(f"/api/v1/patrols/{pid}/end", json={"ended_at": end}, headers=h)
    assert again.status_code == 200 and again.get_json()["distance_m"] == done["distance_m"]
    track = client.get(f"/api/v1/patrols/{pid}?track=true", headers=h).get_json()["track"]
    assert track["geometry"]["type"] == "LineString"
    assert len(track["geometry"]["coordinates"]) == len(points)
    assert track["properties"]["points"][0]["accuracy_m"] == 5.0


def test_a_point_outside_the_patrols_time_is_refused_by_its_index(client, tokens, two_cells,
                                                                   engine):
    pid, h = new_id(), auth(tokens["worker"])
    client.put(f"/api/v1/patrols/{pid}", json={"started_at": T0.isoformat()}, headers=h)
    points = walk((two_cells["a_lon"], two_cells["a_lat"]),
                  (two_cells["b_lon"], two_cells["b_lat"]), T0 - timedelta(hours=1))
    r = client.post(f"/api/v1/patrols/{pid}/points", json={"points": points[:3]}, headers=h)
    assert r.status_code == 422 and "points.0.recorded_at" in r.get_json()["fields"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM track_points")).scalar() == 0


def test_impossible_speed_and_a_track_far_from_the_cells_are_flagged_not_counted(
        client, tokens, two_cells, at):
    at(T0 + timedelta(hours=3))
    a = (two_cells["a_lon"], two_cells["a_lat"])
    b = (two_cells["b_lon"], two_cells["b_lat"])
    fast = patrol(client, tokens["worker"], walk(a, b, T0, speed_mps=40))
    assert fast["flags"] == ["impossible_speed"] and fast["max_speed_mps"] > 30
    far = (a[0] + 0.1, a[1])  # ~8.5 km east: no cell of the worker's community near
    away = patrol(client, tokens["worker"], walk(far, (far[0] + 0.003, far[1]),
                                                 T0 + timedelta(hours=1)))
    assert away["flags"] == ["far_from_cells"]
    figures = client.get(f"/api/v1/patrols/figures?area=110101001001&week={MONDAY}",
                         headers=auth(tokens["supervisor"])).get_json()
    assert figures["cells_walked"] == 0 and figures["flagged_patrols"] == 2
    worker = figures["per_worker"][0]
    assert (worker["patrols"], worker["flagged"]) == (2, 2)


def test_week_figures_give_coverage_visits_time_and_plans_met(client, tokens, two_cells, at):
    at(T0 + timedelta(days=6))
    sup = auth(tokens["supervisor"])
    r = client.put("/api/v1/patrols/plans", headers=sup, json={
        "area": "110101001001", "visits_per_week": 2})
    assert r.status_code == 200
    a_code = two_cells["a_code"]
    r = client.put("/api/v1/patrols/plans", headers=sup, json={
        "area": a_code, "visits_per_week": 2, "window_start": "20:00:00",
        "window_end": "02:00:00"})  # this cell at night (over midnight)
    assert r.status_code == 200
    a = (two_cells["a_lon"], two_cells["a_lat"])
    b = (two_cells["b_lon"], two_cells["b_lat"])
    patrol(client, tokens["worker"], walk(a, b, T0))  # 09:00 local
    patrol(client, tokens["worker"], walk(a, b, T0 + timedelta(days=1)))
    patrol(client, tokens["worker"], walk(b, a, T0 + timedelta(days=2, hours=13)))  # 22:00
    patrol(client, tokens["worker"], walk(a, b, T0 + timedelta(days=7)))  # the next week
    r = client.get(f"/api/v1/patrols/figures?area=110101001001&week={MONDAY}", headers=sup)
    assert r.status_code == 200
    f = r.get_json()
    cells = {c["code"]: c for c in f["per_cell"]}
    b_cell = cells[two_cells["b_code"]]
    assert (b_cell["visits"], b_cell["planned"], b_cell["met"]) == (3, 2, True)
    a_cell = cells[a_code]
    assert (a_cell["visits"], a_cell["planned_visits"], a_cell["met"]) == (3, 1, False)
    assert f["cells"] == len(cells) and f["cells_walked"] == sum(
        1 for c in cells.values() if c["visits"])
    assert f["coverage_rate"] == round(f["cells_walked"] / f["cells"], 4)
    assert f["cells_planned"] == f["cells"] and f["cells_met"] >= 1
    assert f["per_worker"][0]["patrols"] == 3 and f["per_worker"][0]["distance_m"] > 0
    r = client.get("/api/v1/patrols/figures?area=110101001001&week=2026-03-03", headers=sup)
    assert r.status_code == 422 and "week" in r.get_json()["fields"]
    r = client.get(f"/api/v1/patrols/figures?area=110101001001&week={MONDAY}",
                   headers=auth(tokens["worker"]))
    assert r.status_code == 403


def test_a_track_is_seen_by_its_worker_and_the_supervisors_covering_them_only(
        client, tokens, two_cells, engine, at):
    at(T0 + timedelta(hours=1))
    done = patrol(client, tokens["worker"], walk((two_cells["a_lon"], two_cells["a_lat"]),
                                                 (two_cells["b_lon"], two_cells["b_lat"]), T0))
    pid = done["id"]
    seen = {"worker": True, "supervisor": True, "admin": True, "worker2": False,
            "handler": False, "handler2": False, "call_taker": False, "mediator": False}
    for persona, sees in seen.items():
        h = auth(tokens[persona])
        r = client.get(f"/api/v1/patrols/{pid}?track=true", headers=h)
        assert r.status_code == (200 if sees else 404), persona
        listed = [p["id"] for p in client.get("/api/v1/patrols", headers=h).get_json()]
        assert (pid in listed) is sees, persona
        # the command centre's tracks of the day: the same people only
        day = client.get("/api/v1/patrols/tracks", query_string={"day": "2026-03-02"},
                         headers=h)
        assert day.status_code == 200, persona
        assert [f["id"] for f in day.get_json()["features"]] == ([pid] if sees else []), persona
    for username, scopes, sees in (("p_street", ["110101001"], True),
                                   ("p_other", ["110101006"], False)):
        h = auth(_user(client, engine, username, "supervisor", scopes))
        assert client.get(f"/api/v1/patrols/{pid}", headers=h).status_code == (
            200 if sees else 404), username
    # the covering supervisor reads it but never records into it
    r = client.post(f"/api/v1/patrols/{pid}/points", headers=auth(tokens["supervisor"]),
                    json={"points": walk((two_cells["a_lon"], two_cells["a_lat"]),
                                         (two_cells["a_lon"], two_cells["a_lat"]), T0)})
    assert r.status_code == 403


def test_the_retention_purge_drops_the_points_and_keeps_the_figures(
        client, tokens, two_cells, followup, engine, at):
    at(T0 + timedelta(hours=1))
    done = patrol(client, tokens["worker"], walk((two_cells["a_lon"], two_cells["a_lat"]),
                                                 (two_cells["b_lon"], two_cells["b_lat"]), T0))
    at(T0 + timedelta(days=89))
    assert followup.run_task("patrols.purge_tracks") == 0
    at(T0 + timedelta(days=91))
    assert followup.run_task("patrols.purge_tracks") == 1
    h = auth(tokens["worker"])
    after = client.get(f"/api/v1/patrols/{done['id']}?track=true", headers=h).get_json()
    assert after["track_purged_at"] is not None and after["track"]["geometry"] is None
    assert after["cells"] == done["cells"] and after["distance_m"] == done["distance_m"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM track_points")).scalar() == 0
    f = client.get(f"/api/v1/patrols/figures?area=110101001001&week={MONDAY}",
                   headers=auth(tokens["supervisor"])).get_json()
    assert f["visits"] == len(done["cells"])
