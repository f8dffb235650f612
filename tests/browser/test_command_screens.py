"""Screenshots of the command centre (map, case panel, list, numbers) and the handler's desk in
Chinese and English (into docs/screenshots/ under `make screenshots`), with the checks a person would make: every text
translated, the desk no wider than a 360 px phone."""

from __future__ import annotations

import json
import re

import pytest

from cases_helpers import act, evidence, submit

from .a11y import assert_accessible
from .command import DESKTOP, make_overdue_case, photo_ready, wait_map_idle, zoom_map_to
from .pwa import login
from conftest import PERSONAS

LANGS = {"zh-CN": "zh", "en": "en"}
# the case panel has settled: its position map was fitted at the panel's final width, and the
# big map has taken the width the panel left it
PANEL_SETTLED = """() => {
    const mini = document.querySelector('[data-testid=case-panel] .mini-map');
    const m = window.__gridsnapMap;
    return !!mini && mini.dataset.fittedWidth === String(mini.clientWidth) && !!m
        && m.getCanvas().clientWidth === m.getContainer().clientWidth;
}"""
KEY = re.compile(r"\b(cmd|num|ind|desk|action|event|kind|stage|purpose|level)\.[a-z_.]+\b")


def _context(browser, live_server, lang, viewport, **kw):
    ctx = browser.new_context(viewport=viewport, locale=lang, timezone_id="Asia/Shanghai",
                              base_url=live_server.url, **kw)
    ctx.add_init_script(f"localStorage.setItem('gridsnap.lang', {json.dumps(lang)})")
    ctx.set_default_timeout(15000)
    return ctx


def _no_raw_keys(page):
    body = page.inner_text("body")
    assert not KEY.search(body), KEY.search(body).group(0)


@pytest.mark.parametrize("lang", list(LANGS))
def test_command_centre_screens(browser, live_server, demo_users, demo_cell, client, tokens,
                                runtime, engine, screenshots, lang):
    cid = make_overdue_case(client, tokens, demo_cell, runtime, engine,
                            description="井盖破损" if lang == "zh-CN" else "Broken manhole cover")
    def near(dlon, dlat):
        return {"location": {"lon": demo_cell["lon"] + dlon, "lat": demo_cell["lat"] + dlat,
                             "accuracy_m": 12}}
    submit(client, tokens, demo_cell, runtime, **near(0.0002, 0.0001))  # a possible duplicate
    done = submit(client, tokens, demo_cell, runtime, description="已处置", **near(-0.0004, 0.0003))
    act(client, tokens, "supervisor", done, "accept")
    act(client, tokens, "supervisor", done, "dispatch")
    act(client, tokens, "handler", done, "sign")
    pid = photo_ready(client, tokens, runtime, evidence(client, tokens, "handler", done, "resolution"))
    act(client, tokens, "handler", done, "resolve", photo_ids=[pid])
    prefix = LANGS[lang]
    ctx = _context(browser, live_server, lang, DESKTOP)
    page = ctx.new_page()
    name = PERSONAS["supervisor"]
    page.goto("/")
    page.fill("#username", name)
    page.fill("#password", demo_users[name]["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=command]")
    try:
        page.wait_for_selector("[data-testid=cmd-map] canvas")
        wait_map_idle(page)
        zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 15.5)
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-map", taps=False)
        page.screenshot(path=str(screenshots / f"{prefix}-command-map.png"))
        zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 13.2)  # cells shaded by counts
        assert_accessible(page, f"{lang} command-map-cells", taps=False)
        page.screenshot(path=str(screenshots / f"{prefix}-command-map-cells.png"))

        zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 16.5)
        page.goto(f"/#/map?case={cid}")
        page.wait_for_selector("[data-testid=photos-report] img")
        page.wait_for_selector("[data-testid=timeline] li")
        page.wait_for_function(PANEL_SETTLED)
        wait_map_idle(page)
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-case", taps=False)
        page.screenshot(path=str(screenshots / f"{prefix}-command-case.png"))

        page.goto(f"/#/list?case={done}")
        page.wait_for_selector("[data-testid=case-row]")
        page.wait_for_selector("[data-testid=photos-resolution] img")
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-list", taps=False)
        page.screenshot(path=str(screenshots / f"{prefix}-command-list.png"))

        page.click("[data-testid=tab-numbers]")
        page.wait_for_selector("[data-testid=indicator-row], [data-testid=numbers-missing]")
        page.wait_for_selector("[data-testid=top-problems] :is(li, p.muted), "
                               "[data-testid=numbers-missing]")
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-numbers", taps=False)
        page.screenshot(path=str(screenshots / f"{prefix}-command-numbers.png"), full_page=True)
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", list(LANGS))
def test_handler_desk_screens(browser, live_server, demo_users, demo_cell, client, tokens,
                              runtime, screenshots, lang):
    cid = submit(client, tokens, demo_cell, runtime)
    photo_ready(client, tokens, runtime, evidence(client, tokens, "worker", cid, "report"))
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    prefix = LANGS[lang]
    ctx = _context(browser, live_server, lang, {"width": 360, "height": 640}, is_mobile=True,
                   has_touch=True)
    page = ctx.new_page()
    try:
        name = PERSONAS["handler"]
        login(page, name, demo_users[name]["password"])
        page.wait_for_selector("[data-testid=task-link] img")
        page.wait_for_selector(".toast", state="detached", timeout=6000)
        _no_raw_keys(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert_accessible(page, f"{lang} handler-desk", taps=True)
        page.screenshot(path=str(screenshots / f"{prefix}-handler-desk.png"))
        page.click("[data-testid=task-link]")
        page.wait_for_selector(".photos img")
        page.wait_for_selector("[data-testid=desk-sign]")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert_accessible(page, f"{lang} handler-case", taps=True)
        page.screenshot(path=str(screenshots / f"{prefix}-handler-case.png"), full_page=True)
    finally:
        ctx.close()
