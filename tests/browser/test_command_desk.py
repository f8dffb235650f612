"""The command centre (指挥中心) in a real browser: a supervisor filters the live map to overdue
cases, opens one, dispatches it with the suggested department, and the map and list follow;
a new report appears on the map within seconds without a reload; day ranges are days of the
deployment's time zone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from cases_helpers import act, submit
from hotline_helpers import call_body, take_call

from .a11y import assert_accessible
from .command import (
    DESKTOP,
    case_state,
    make_overdue_case,
    map_features,
    wait_map_feature,
    wait_map_idle,
    zoom_map_to,
)
from .pwa import wait_for_idb
from conftest import PERSONAS, auth
from followup import drain


@pytest.fixture()
def desktop(browser, live_server):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                              base_url=live_server.url)
    ctx.set_default_timeout(15000)
    yield ctx
    ctx.close()


def login_supervisor(page, demo_users, persona="supervisor"):
    name = PERSONAS[persona]
    page.goto("/")
    page.fill("#username", name)
    page.fill("#password", demo_users[name]["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=command]")


def tile_versions(requests) -> list[tuple[int, dict]]:
    out = []
    for url in requests:
        q = parse_qs(urlparse(url).query)
        out.append((int(q.get("v", ["0"])[0]), q))
    return out


def test_supervisor_filters_overdue_opens_dispatches_and_the_map_follows(
        desktop, demo_users, client, tokens, demo_cell, runtime, engine):
    overdue = make_overdue_case(client, tokens, demo_cell, runtime, engine)
    calm = submit(client, tokens, demo_cell, runtime, description="另一件，未超期")
    page = desktop.new_page()
    tiles: list[str] = []
    page.on("response", lambda r: tiles.append(r.url)
            if "/api/v1/tiles/cases/" in r.url and r.status == 200 else None)
    login_supervisor(page, demo_users)

    # the map: vector tiles with the bearer token, case points up close
    page.wait_for_selector("[data-testid=cmd-map] canvas")
    wait_map_idle(page)
    zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 16)
    ids = {f["id"] for f in map_features(page)}
    assert {overdue, calm} <= ids

    # overdue only: the tiles are asked again with overdue=true and hold just that case
    page.check("[data-testid=filter-overdue]")
    page.wait_for_function("() => window.__gridsnapMap.getSource('cases').tiles[0]"
                           ".includes('overdue=true')")
    wait_map_idle(page)
    feats = map_features(page)
    assert {f["id"] for f in feats} == {overdue}
    assert all(f["overdue"] for f in feats)
    assert any(parse_qs(urlparse(u).query).get("overdue") == ["true"] for u in tiles)

    # open it by clicking its point on the map
    xy = page.evaluate("([lon, lat]) => { const p = window.__gridsnapMap.project([lon, lat]);"
                       " return [p.x, p.y]; }", [demo_cell["lon"], demo_cell["lat"]])
    box = page.locator("[data-testid=cmd-map]").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    panel = page.locator("[data-testid=case-panel]")
    panel.wait_for()
    assert panel.get_attribute("data-status") == "accepted"
    assert page.locator("[data-testid=case-overdue]").is_visible()
    page.wait_for_selector("[data-testid=timeline] li")
    page.wait_for_selector("[data-testid=photos-report] img")  # the before-photo, via the token

    # dispatch: the suggested department is preselected
    page.click("[data-testid=action-dispatch]")
    select = page.locator("[data-testid=dispatch-department]")
    assert select.input_value() == "sanitation"
    version_before = max(v for v, _ in tile_versions(tiles))
    page.click("[data-testid=action-confirm]")
    page.wait_for_selector("[data-testid=case-panel][data-status=dispatched]")
    page.wait_for_function("document.querySelector('[data-testid=timeline]').innerText.includes('派遣')")
    assert case_state(engine, overdue) == {"status": "dispatched", "department_code": "sanitation"}

    # the map follows: the tile source is asked again, and the case shows as dispatched
    page.uncheck("[data-testid=filter-overdue]")
    wait_map_feature(page, overdue, "dispatched")
    assert max(v for v, _ in tile_versions(tiles)) > version_before

    # the list says the same
    page.click("[data-testid=tab-list]")
    page.wait_for_selector(f"[data-testid=case-row][data-id='{overdue}'][data-status=dispatched]")

    # live: a new report appears on the map within seconds, no reload
    page.click("[data-testid=tab-map]")
    page.wait_for_selector("[data-testid=cmd-map] canvas")
    wait_map_idle(page)
    zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 16)
    fresh = submit(client, tokens, demo_cell, runtime, description="新上报")
    wait_map_feature(page, fresh)


def test_stale_case_is_reloaded_and_says_why(desktop, demo_users, client, tokens, demo_cell,
                                             runtime, engine):
    cid = make_overdue_case(client, tokens, demo_cell, runtime, engine)
    page = desktop.new_page()
    # the live poll would show the change before the click: hold it back, as a slow poll would
    page.route("**/api/v1/cases?updated_since=*", lambda route: route.fulfill(
        status=200, content_type="application/json", body="[]"))
    login_supervisor(page, demo_users)
    page.goto(f"/#/list?case={cid}")
    page.wait_for_selector("[data-testid=case-panel][data-status=accepted]")
    act(client, tokens, "supervisor", cid, "dispatch", department="water")  # meanwhile, elsewhere
    page.click("[data-testid=action-dispatch]")
    page.click("[data-testid=action-confirm]")
    page.wait_for_selector("[data-testid=panel-notice]")
    page.wait_for_selector("[data-testid=case-panel][data-status=dispatched]")
    assert case_state(engine, cid) == {"status": "dispatched", "department_code": "water"}


def test_notifications_badge_list_and_mark_read(desktop, demo_users, client, tokens, demo_cell,
                                                runtime):
    submit(client, tokens, demo_cell, runtime)  # the supervisors hear of a new report
    page = desktop.new_page()
    login_supervisor(page, demo_users)
    badge = page.locator("[data-testid=unread-badge]")
    badge.wait_for()
    before = int(badge.inner_text())
    assert before >= 1
    page.click("[data-testid=tab-inbox]")
    page.wait_for_selector("[data-testid=notification]")
    assert "案件" in page.inner_text("[data-testid=inbox]")
    page.locator("[data-testid=mark-read]").first.click()
    if before == 1:
        badge.wait_for(state="detached")
    else:
        page.wait_for_function(
            f"document.querySelector('[data-testid=unread-badge]').innerText === '{before - 1}'")


def test_day_range_goes_to_the_map_in_the_servers_time_zone(desktop, demo_users):
    # the deployment says New York (GRIDSNAP_TIMEZONE): 8 March 2026 is the day its clocks go
    # forward, so the day starts at -05:00 and ends at -04:00; nothing in the app may say +08:00
    def new_york(route):
        resp = route.fetch()
        route.fulfill(response=resp, json={**resp.json(), "timezone": "America/New_York"})

    page = desktop.new_page()
    page.route("**/api/v1", new_york)
    login_supervisor(page, demo_users)
    wait_for_idb(page, """async () => {
        const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
            r.onsuccess = () => ok(r.result); r.onerror = no; });
        const server = await new Promise((ok) => { const q = db.transaction('kv').objectStore('kv')
            .get('server'); q.onsuccess = () => ok(q.result); });
        db.close();
        return server;
    }""", lambda server: server and server["timezone"] == "America/New_York",
        what="the deployment's time zone kept on the device")
    page.reload()  # the zone now comes from the device, before any sync
    page.wait_for_selector("[data-testid=cmd-map] canvas")
    dates = page.locator("[data-testid=filters] input[type=date]")
    dates.nth(0).fill("2026-03-08")
    dates.nth(1).fill("2026-03-08")
    page.wait_for_function("""() => {
        const url = decodeURIComponent(window.__gridsnapMap.getSource('cases').tiles[0]);
        return url.includes('from=2026-03-08T00:00:00-05:00')
            && url.includes('to=2026-03-08T23:59:59-04:00');
    }""")


def test_open_cases_list_leaves_out_closed_ones_and_opening_a_case_moves_the_map(
        desktop, demo_users, client, tokens, demo_cell, runtime):
    """未结案件 sends the open statuses; a case opened from the list is centred on the map."""
    kept = submit(client, tokens, demo_cell, runtime, description="仍未结")
    gone = submit(client, tokens, demo_cell, runtime, description="不予立案")
    act(client, tokens, "supervisor", gone, "reject", note="不属实")
    page = desktop.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/cases?" in r.url
            and "updated_since" not in r.url else None)
    login_supervisor(page, demo_users)
    page.click("[data-testid=tab-list]")
    page.wait_for_selector(f"[data-testid=case-row][data-id='{kept}']")
    assert page.locator(f"[data-testid=case-row][data-id='{gone}']").count() == 0
    statuses = parse_qs(urlparse(asked[-1]).query)["status"]
    assert "reported" in statuses and "rejected" not in statuses and "closed" not in statuses

    # far from the case first, then open it from the list and go to the map
    page.click("[data-testid=tab-map]")
    page.wait_for_selector("[data-testid=cmd-map] canvas")
    wait_map_idle(page)
    page.evaluate("window.__gridsnapMap.jumpTo({center: [116.30, 39.99], zoom: 12})")
    page.goto(f"/#/map?case={kept}")
    page.wait_for_selector(f"[data-testid=cmd-map][data-focused='{kept}']")
    centre = page.evaluate("(() => { const c = window.__gridsnapMap.getCenter();"
                           " return [c.lng, c.lat, window.__gridsnapMap.getZoom()]; })()")
    assert abs(centre[0] - demo_cell["lon"]) < 0.001 and abs(centre[1] - demo_cell["lat"]) < 0.001
    assert centre[2] >= 16


def test_source_filter_narrows_the_map_the_list_and_the_numbers(
        desktop, demo_users, client, tokens, demo_cell, runtime):
    """来源: a worker's report and a 12345 call in the same cell; choosing 12345热线 leaves the
    call alone on the map and in the list, and the numbers are asked for that source."""
    worker = submit(client, tokens, demo_cell, runtime, description="网格员上报的")
    hot = take_call(client, tokens, call_body(demo_cell))["id"]
    drain(runtime)
    page = desktop.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/stats/" in r.url else None)
    login_supervisor(page, demo_users)
    page.wait_for_selector("[data-testid=cmd-map] canvas")
    wait_map_idle(page)
    zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 16)
    wait_map_feature(page, hot)
    assert {worker, hot} <= {f["id"] for f in map_features(page)}

    labels = page.locator("[data-testid=filter-source] option").all_inner_texts()
    assert labels == ["全部", "网格员上报", "12345热线", "Open311", "其他渠道"]
    page.select_option("[data-testid=filter-source]", "hotline")
    page.wait_for_function("() => window.__gridsnapMap.getSource('cases').tiles[0]"
                           ".includes('source=hotline')")
    wait_map_idle(page)
    assert {f["id"] for f in map_features(page)} == {hot}

    page.click("[data-testid=tab-list]")
    page.wait_for_selector(f"[data-testid=case-row][data-id='{hot}']")
    assert page.locator(f"[data-testid=case-row][data-id='{worker}']").count() == 0
    assert page.input_value("[data-testid=filter-source]") == "hotline"  # the filter stays

    page.click("[data-testid=tab-numbers]")
    page.wait_for_selector("[data-testid=indicator-row]")
    assert page.input_value("[data-testid=filter-source]") == "hotline"
    assert any("/stats/indicators?" in u and "source=hotline" in u for u in asked)
    assert any("/stats/top-problems?" in u and "source=hotline" in u for u in asked)
    # back to every source: the numbers are asked again without one
    with page.expect_request(lambda r: "/stats/indicators?" in r.url
                             and "source=" not in r.url):
        page.select_option("[data-testid=filter-source]", "")


def test_the_caller_in_the_case_panel_is_masked_and_only_an_admin_may_reveal_it(
        browser, live_server, demo_users, client, tokens, demo_cell, runtime):
    hot = take_call(client, tokens, call_body(demo_cell))["id"]
    drain(runtime)
    for persona in ("supervisor", "admin"):
        ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
        page = ctx.new_page()
        try:
            login_supervisor(page, demo_users, persona)
            page.goto(f"/#/list?case={hot}")
            page.wait_for_selector("[data-testid=case-caller-text]")
            assert page.inner_text("[data-testid=case-caller-text]") == "张* · 138****1234"
            assert "13812341234" not in page.content()
            reveal = page.locator("[data-testid=case-caller-reveal]")
            if persona == "supervisor":
                assert reveal.count() == 0
                continue
            assert_accessible(page, "case panel with caller", taps=False)
            reveal.click()
            page.wait_for_function("document.querySelector('[data-testid=case-caller-text]')"
                                   ".textContent === '张三 · 13812341234'")
            assert page.locator("[data-testid=case-caller-reveal]").count() == 0
        finally:
            ctx.close()
    trail = client.get(f"/api/v1/cases/{hot}/events", headers=auth(tokens["admin"])).get_json()
    assert [e["actor_role"] for e in trail if e["action"] == "caller.viewed"] == ["admin"]


def test_a_hot_spot_of_80_possible_duplicates_shows_the_nearest_few_and_a_count(
        desktop, demo_users, client, tokens, demo_cell, runtime):
    """80 reports of one overflowing bin: the case panel lists a few nearest possible duplicates
    and says how many there are (not 80 cards, 10,000 px), and shows them all on request (the
    API names the nearest few and the count; the rest come a page at a time)."""
    ids = [submit(client, tokens, demo_cell, description=f"垃圾满溢 {i}") for i in range(80)]
    drain(runtime)
    r = client.get(f"/api/v1/cases/{ids[0]}", headers=auth(tokens["supervisor"]))
    total = r.get_json()["possible_duplicates_total"]
    assert total > 10  # a hot spot indeed
    assert len(r.get_json()["possible_duplicates"]) < total
    page = desktop.new_page()
    login_supervisor(page, demo_users)
    page.goto(f"/#/list?case={ids[0]}")
    panel = page.wait_for_selector("[data-testid=case-panel]")
    page.wait_for_selector("[data-testid=duplicates]")
    assert page.locator("[data-testid=duplicates] .dupe:not(.this)").count() == 4
    count = page.wait_for_selector("[data-testid=duplicates-count]").inner_text()
    assert f"共 {total} 个" in count
    assert panel.evaluate("(el) => el.querySelector('[data-testid=duplicates]').offsetHeight") < 1500
    page.click("[data-testid=duplicates-toggle]")
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=duplicates] .dupe:not(.this)').length === {total}")
