"""Screenshots of the main screens in Chinese and English (into docs/screenshots/ under `make
screenshots`), and the checks a person would make on them: every text translated, nothing wider
than a 360 px phone."""

from __future__ import annotations

import json
import re

import pytest

from .a11y import assert_accessible
from .pwa import (
    capture,
    login,
    make_resolved_case,
    wait_for_offline_data,
    wait_for_service_worker,
    wait_outbox,
)
from photo_samples import make_jpeg

LANGS = {"zh-CN": "zh", "en": "en"}
# the screens each test draws into docs/screenshots/ as {zh,en}-{screen}.png (see `shots`)
SCREENS_DRAWN = {
    "test_main_screens_in_both_languages": (
        "login", "category-picker", "capture", "drafts", "records", "tasks", "task-verify", "map",
        "settings"),
}
# a screen and what shows once it has loaded what it needs
SCREENS = {"capture": "[data-testid=category-button]", "records": "[data-testid=outbox-list]",
           "tasks": "[data-testid=task-list]", "settings": "[data-testid=logout]"}
# Leaflet has drawn the cells on its canvas (some pixel is no longer transparent)
LEAFLET_DREW = """() => {
    const c = document.querySelector('.leaflet-overlay-pane canvas');
    if (!c || !c.width || !c.height) return false;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i]) return true;
    return false;
}"""


def _no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("lang", list(LANGS))
def test_main_screens_in_both_languages(browser, live_server, demo_cell, worker_login,
                                        shots, tmp_path, lang, client, tokens, runtime):
    make_resolved_case(client, tokens, demo_cell, runtime)  # a verification task to show
    photo = tmp_path / "p.jpg"
    photo.write_bytes(make_jpeg(1200, 900, seed=7))
    ctx = browser.new_context(
        viewport={"width": 360, "height": 640}, device_scale_factor=1, is_mobile=True,
        has_touch=True, locale=lang, timezone_id="Asia/Shanghai", base_url=live_server.url,
        permissions=["geolocation"],
        geolocation={"latitude": demo_cell["lat"], "longitude": demo_cell["lon"], "accuracy": 42})
    ctx.add_init_script(f"localStorage.setItem('gridsnap.lang', {json.dumps(lang)})")
    page = ctx.new_page()
    prefix = LANGS[lang]

    def shot(name):
        _no_horizontal_scroll(page)
        page.evaluate("document.querySelector('.content')?.scrollTo(0, 0)")
        page.wait_for_selector(".toast", state="detached", timeout=6000)
        assert_accessible(page, f"{lang} {name}")
        shots.take(page, prefix, name)

    try:
        page.goto("/")
        page.wait_for_selector("#username")
        assert page.evaluate("document.documentElement.lang") == lang
        shot("login")
        login(page, *worker_login)
        wait_for_offline_data(page)
        wait_for_service_worker(page)

        # one report accepted, one refused by the server, one waiting offline
        capture(page, [photo], "E0101", "垃圾堆放" if lang == "zh-CN" else "Garbage dumped")
        wait_outbox(page, lambda xs: xs and xs[0]["state"] == "accepted", what="accepted")

        def refuse(route):
            route.fulfill(status=422, content_type="application/json", body=json.dumps({
                "code": "report.unknown_category", "message": "There is no category with code 'C0102'.",
                "fields": {"category": ["Unknown category code."]}}))

        page.route("**/api/v1/reports/*", refuse)
        capture(page, [photo], "C0102")
        wait_outbox(page, lambda xs: any(x["state"] == "rejected" for x in xs), what="rejected")
        page.unroute("**/api/v1/reports/*")
        ctx.set_offline(True)
        capture(page, [photo], "E0101")

        # the capture screen, filled in, with the accuracy warning (42 m > 30 m)
        page.set_input_files("[data-testid=camera-input]", str(photo))
        page.wait_for_selector("[data-testid=draft-photos] li")
        page.wait_for_selector(f"[data-testid=cell-name]:has-text('{demo_cell['code']}')")
        page.click("[data-testid=category-button]")
        page.wait_for_selector("#cat-search")
        shot("category-picker")
        page.fill("#cat-search", "E0102")
        page.click("button.choice[data-code=E0102]")
        assert page.locator("[data-testid=location-accuracy].warn").count() == 1
        shot("capture")
        # kept for later: the saved drafts, this one and the next
        page.click("[data-testid=keep-draft]")
        page.wait_for_selector("[data-testid=draft-photos]", state="detached")
        page.set_input_files("[data-testid=camera-input]", str(photo))
        page.wait_for_selector("[data-testid=draft-photos] li")
        page.click("[data-testid=drafts-link]")
        page.wait_for_function("document.querySelectorAll('[data-testid=draft-item] img').length === 2")
        shot("drafts")

        page.click("[data-testid=tab-records]")
        page.wait_for_selector("[data-testid=outbox-item][data-id] [data-state=rejected]")
        shot("records")
        page.click("[data-testid=tab-tasks]")
        page.wait_for_selector("[data-testid=task-link] img")
        shot("tasks")
        page.click("[data-testid=task-link]")
        page.wait_for_selector(".photos img")
        page.check("[data-testid=verify_pass]")
        shot("task-verify")
        page.click("[data-testid=tab-map]")
        page.wait_for_selector(".leaflet-overlay-pane canvas")
        page.wait_for_function(LEAFLET_DREW)
        shot("map")
        page.click("[data-testid=tab-settings]")
        page.wait_for_selector("[data-testid=logout]")
        shot("settings")
        # nothing visible is left as a raw message key
        for name, ready in SCREENS.items():
            page.click(f"[data-testid=tab-{name}]")
            page.wait_for_selector(f"[data-testid=tab-{name}][aria-current=page]")
            page.wait_for_selector(ready)
            body = page.inner_text("body")
            keys = re.findall(r"\b(?:app|nav|net|common|login|capture|category|location|records|"
                              r"state|status|sync|tasks|map|settings|role|error|drafts)\.[a-z_]+\b", body)
            assert not keys, body
    finally:
        ctx.close()
