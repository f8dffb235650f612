"""Photo evidence kept: a gallery photo's EXIF time and position are read on the phone before
it is made smaller (which drops EXIF), sent with it, stored, and flagged — old or far — to the
worker while capturing and to the supervisor in the case panel."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from .a11y import assert_accessible
from .command import DESKTOP
from .pwa import login, wait_for_offline_data, wait_outbox
from conftest import PERSONAS
from followup import drain
from photo_samples import make_jpeg


def test_gallery_photo_exif_time_and_distance_reach_the_worker_and_the_supervisor(
        phone, browser, live_server, worker_login, demo_users, demo_cell, engine, tmp_path,
        runtime):
    zone = ZoneInfo("Asia/Shanghai")  # the phone's (the browser context's) and the deployment's
    taken = (datetime.now(zone) - timedelta(days=90)).replace(microsecond=0, tzinfo=None)
    far = (demo_cell["lat"] + 0.0045, demo_cell["lon"])  # about 500 m north
    photo = tmp_path / "old.jpg"
    photo.write_bytes(make_jpeg(4000, 3000, gps=far, taken_at=taken, seed=3))  # downscaled: EXIF lost
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)

    page.click("[data-testid=tab-capture]")
    page.set_input_files("[data-testid=gallery-input]", str(photo))
    flag = page.wait_for_selector("[data-testid=photo-evidence] li")
    assert flag.get_attribute("data-old") == "true" and flag.get_attribute("data-far") == "true"
    # the capture time as the app writes it (zh-CN, the deployment's zone), by this browser's own
    # formatter; it names the photo's month and day
    shown = page.evaluate(
        "(iso) => new Date(iso).toLocaleString('zh-CN', {timeZone: 'Asia/Shanghai',"
        " month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'})",
        taken.replace(tzinfo=zone).isoformat())
    assert taken.strftime("%m") in shown and taken.strftime("%d") in shown
    assert shown in flag.inner_text()
    page.click("[data-testid=category-button]")
    page.fill("#cat-search", "E0101")
    page.click("button.choice[data-code=E0101]")
    page.click("[data-testid=save-report]")
    item = wait_outbox(page, lambda xs: xs and xs[0]["state"] == "accepted", what="accepted")[0]
    assert max(item["photos"][0]["width"], item["photos"][0]["height"]) == 2048

    drain(runtime)  # the photo job: sizes, and the distance from the report
    with engine.connect() as conn:
        row = conn.execute(text("SELECT exif_taken_at, exif_distance_m, report_id::text AS rid "
                                "FROM photos")).mappings().one()
    assert abs(row["exif_taken_at"].timestamp() - taken.replace(tzinfo=zone).timestamp()) < 1
    assert 450 < row["exif_distance_m"] < 550

    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                              base_url=live_server.url)
    try:
        sup = ctx.new_page()
        sup.goto("/")
        name = PERSONAS["supervisor"]
        sup.fill("#username", name)
        sup.fill("#password", demo_users[name]["password"])
        sup.click("button[type=submit]")
        sup.wait_for_selector("[data-testid=command]")
        sup.goto(f"/#/list?case={row['rid']}")
        ev = sup.wait_for_selector("[data-testid=case-panel] [data-testid=photo-evidence]")
        assert ev.get_attribute("data-old") == "true" and ev.get_attribute("data-far") == "true"
        assert "旧照片" in ev.inner_text() and "米" in ev.inner_text()
        assert_accessible(sup, "command case with evidence flags", taps=False)
    finally:
        ctx.close()
