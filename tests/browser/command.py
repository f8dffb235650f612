"""Steps of the command centre and the handler's desk, shared by the browser tests."""

from __future__ import annotations

import time

from sqlalchemy import text

from cases_helpers import act, evidence, submit

from conftest import auth
from followup import drain

DESKTOP = {"width": 1366, "height": 860}


def make_overdue_case(client, tokens, demo_cell, runtime, engine, description="井盖破损") -> str:
    """A report accepted by the supervisor whose accept stage ran out: overdue, waiting for
    dispatch. Returns the case id."""
    cid = submit(client, tokens, demo_cell, runtime, description=description)
    photo_ready(client, tokens, runtime, evidence(client, tokens, "worker", cid, "report"))
    act(client, tokens, "supervisor", cid, "accept")
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET overdue = true, updated_at = now() WHERE id = :id"),
                     {"id": cid})
    return cid


def photo_ready(client, tokens, runtime, photo_id, timeout_s=20) -> str:
    """Runs the follow-up until the photo's thumbnail and display sizes exist."""
    deadline = time.monotonic() + timeout_s
    while True:
        drain(runtime)
        r = client.get(f"/api/v1/photos/{photo_id}?size=display", headers=auth(tokens["supervisor"]))
        if r.status_code == 200:
            return photo_id
        assert r.status_code == 409 and time.monotonic() < deadline, r.get_json()
        time.sleep(0.2)


def make_dispatched_case(client, tokens, demo_cell, runtime) -> str:
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    return cid


def wait_case_state(engine, case_id, status, timeout_s=15) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT status, department_code FROM reports WHERE id = :id"),
                               {"id": case_id}).mappings().one()
        if row["status"] == status or time.monotonic() > deadline:
            return dict(row)
        time.sleep(0.2)


def map_features(page) -> list[dict]:
    """The case points the map has loaded (MapLibre's source features)."""
    return page.evaluate("""() => {
        const m = window.__gridsnapMap;
        if (!m || !m.getSource('cases')) return [];
        return m.querySourceFeatures('cases', { sourceLayer: 'cases' }).map((f) => f.properties);
    }""")


def wait_map_idle(page, timeout_s=20) -> None:
    page.wait_for_function("""() => { const m = window.__gridsnapMap;
        return !!m && m.isStyleLoaded() && m.areTilesLoaded(); }""", timeout=timeout_s * 1000)


def zoom_map_to(page, lon, lat, zoom=16) -> None:
    page.evaluate("([lon, lat, z]) => window.__gridsnapMap.jumpTo({ center: [lon, lat], zoom: z })",
                  [lon, lat, zoom])
    page.wait_for_timeout(300)
    wait_map_idle(page)
