"""Capture without a position fix: the worker sets the point on the map, and the report says so."""

from __future__ import annotations

from .pwa import db_reports, login, wait_for_offline_data, wait_outbox
from photo_samples import make_jpeg


def test_point_set_on_the_map_when_no_fix_comes_is_sent_as_manual(
        browser, live_server, worker_login, engine, tmp_path, runtime):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(make_jpeg(800, 600, seed=3))
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True,
                              has_touch=True, locale="zh-CN", base_url=live_server.url)
    try:  # no geolocation permission: the browser refuses every fix
        page = ctx.new_page()
        login(page, *worker_login)
        wait_for_offline_data(page)
        page.set_input_files("[data-testid=camera-input]", str(photo))
        page.wait_for_selector("[data-testid=draft-photos] li")
        page.wait_for_selector("text=未允许定位")
        assert page.locator("[data-testid=save-report][disabled]").count() == 1
        page.click("[data-testid=pick-on-map]")
        page.wait_for_selector(".leaflet-container")
        box = page.locator("[data-testid=map]").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.click("[data-testid=use-point]")
        page.wait_for_selector("[data-testid=location-accuracy]:has-text('手动选点')")
        page.click("[data-testid=category-button]")
        page.fill("#cat-search", "E0101")
        page.click("button.choice[data-code=E0101]")
        page.click("[data-testid=save-report]")
        item = wait_outbox(page, lambda xs: xs and xs[0]["state"] == "accepted", what="accepted")[0]
        assert item["body"]["location"]["source"] == "manual"
        assert item["body"]["location"]["accuracy_m"] is None
        rows = db_reports(engine)
        assert len(rows) == 1 and rows[0]["location_source"] == "manual"
    finally:
        ctx.close()
