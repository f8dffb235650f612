"""按时巡 on the command-centre map: the supervisor switches on the patrol layer and sees the
cells of their scope walked or not in the period and a day's tracks, a colour per worker, with
the figures beside them (zh-CN and English)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from gridsnap import clock
from test_patrols import walk

from .command import DESKTOP
from conftest import PERSONAS, auth, new_id


@pytest.fixture()
def walked_today(client, tokens, engine, database):
    """The demo worker walked from one cell of their community to the next, a few minutes ago
    (the real clock: the browser's day is today). Returns (patrol id, its local day)."""
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT ST_X(ST_PointOnSurface(a.boundary)) AS a_lon,
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
    start = clock.now().replace(microsecond=0) - timedelta(minutes=20)
    points = walk((row["a_lon"], row["a_lat"]), (row["b_lon"], row["b_lat"]), start)
    pid, h = new_id(), auth(tokens["worker"])
    assert client.put(f"/api/v1/patrols/{pid}", json={"started_at": start.isoformat()},
                      headers=h).status_code == 201
    assert client.post(f"/api/v1/patrols/{pid}/points", json={"points": points},
                       headers=h).status_code == 200
    r = client.post(f"/api/v1/patrols/{pid}/end", json={"ended_at": points[-1]["recorded_at"]},
                    headers=h)
    assert r.status_code == 200 and len(r.get_json()["cells"]) >= 2
    return pid, start.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_supervisor_switches_on_coverage_and_a_days_tracks(browser, live_server, demo_users,
                                                               walked_today, engine, locale):
    pid, day = walked_today
    ctx = browser.new_context(viewport=DESKTOP, locale=locale, timezone_id="Asia/Shanghai",
                              base_url=live_server.url)
    ctx.set_default_timeout(15000)
    try:
        page = ctx.new_page()
        page.goto("/")
        page.evaluate("(l) => localStorage.setItem('gridsnap.lang', l)", locale)
        page.reload()  # the language is read when the app starts
        name = PERSONAS["supervisor"]
        page.fill("#username", name)
        page.fill("#password", demo_users[name]["password"])
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=cmd-map] canvas")
        page.check("[data-testid=patrol-layer-toggle]")
        page.fill("[data-testid=patrol-layer-day]", day)
        page.wait_for_selector("[data-testid=patrol-layer-workers] li")
        page.wait_for_function("""() => { const m = window.__gridsnapMap;
            return m && m.getContainer().dataset.patrolTracks === '1'; }""")
        with engine.connect() as conn:
            cells = conn.execute(text(
                "SELECT count(*) FROM areas WHERE level = 'cell' AND code LIKE '110101%'"
            )).scalar_one()
            walked = conn.execute(text("SELECT count(*) FROM patrol_cells WHERE patrol_id = :p"),
                                  {"p": pid}).scalar_one()
            worker = conn.execute(text("SELECT display_name FROM users WHERE username = :u"),
                                  {"u": PERSONAS["worker"]}).scalar_one()
        assert page.evaluate("() => window.__gridsnapMap.getContainer().dataset.patrolCells") \
            == str(cells)
        coverage = page.inner_text("[data-testid=patrol-layer-coverage]")
        expected = (f"已巡查 {walked}/{cells} 个网格" if locale == "zh-CN"
                    else f"{walked} of {cells} cells walked")
        assert expected in coverage
        line = page.inner_text("[data-testid=patrol-layer-workers] li")
        assert worker in line and ("1 趟" if locale == "zh-CN" else "1 patrol") in line
        # the track is drawn: MapLibre holds it in its source
        page.wait_for_function("""() => window.__gridsnapMap.querySourceFeatures('patrol-tracks')
            .some((f) => f.properties.worker_name)""")
        # switched off, the layers are hidden again
        page.uncheck("[data-testid=patrol-layer-toggle]")
        page.wait_for_function("""() => window.__gridsnapMap.getLayoutProperty('patrol-tracks',
            'visibility') === 'none'""")
    finally:
        ctx.close()
