"""Steps of the command centre and the handler's desk, shared by the browser tests."""

from __future__ import annotations

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


def photo_ready(client, tokens, runtime, photo_id, rounds: int = 5) -> str:
    """Runs the follow-up (the relay, then the RQ jobs, here in this process) until the photo's
    thumbnail and display sizes exist. drain() does the work itself, so no waiting: each round
    either made them or there is a next job to run."""
    for _ in range(rounds):
        drain(runtime)
        r = client.get(f"/api/v1/photos/{photo_id}?size=display", headers=auth(tokens["supervisor"]))
        if r.status_code == 200:
            return photo_id
        assert r.status_code == 409, r.get_json()
    raise AssertionError(f"photo {photo_id}: no sizes after {rounds} rounds of the follow-up")


def make_dispatched_case(client, tokens, demo_cell, runtime) -> str:
    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    return cid


def case_state(engine, case_id) -> dict:
    """The case's status and department in the database. Read once: the tests ask after the page
    showed the server's answer, which the server sends only after its transaction committed."""
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT status, department_code FROM reports WHERE id = :id"),
                                 {"id": case_id}).mappings().one())


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


def wait_map_feature(page, case_id, status=None, timeout_s=15) -> None:
    """Until the map's loaded tiles hold the case (with that status, if given)."""
    page.wait_for_function("""([id, status]) => { const m = window.__gridsnapMap;
        if (!m || !m.getSource('cases') || !m.areTilesLoaded()) return false;
        return m.querySourceFeatures('cases', { sourceLayer: 'cases' })
            .some((f) => f.properties.id === id && (!status || f.properties.status === status)); }""",
        arg=[case_id, status], timeout=timeout_s * 1000)


def zoom_map_to(page, lon, lat, zoom=16, timeout_s=20) -> None:
    """Moves the map there and returns when it is idle: no transition left, every tile loaded."""
    page.evaluate("""([lon, lat, z, timeoutMs]) => new Promise((done, fail) => {
        const m = window.__gridsnapMap;
        const late = setTimeout(() => fail(new Error('the map did not settle')), timeoutMs);
        m.once('idle', () => { clearTimeout(late); done(); });
        m.jumpTo({ center: [lon, lat], zoom: z });
        m.triggerRepaint(); // idle follows a rendered frame, even when nothing moved
    })""", [lon, lat, zoom, timeout_s * 1000])
