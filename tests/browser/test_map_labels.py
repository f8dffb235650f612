"""The map libraries speak the UI's language: Leaflet's zoom buttons and attribution link, and
MapLibre's controls, carry Chinese titles in the Chinese UI (English in the English one); the
case list shows no raw department code as a tooltip."""

from __future__ import annotations

from cases_helpers import submit

from .command import DESKTOP
from .pwa import login, wait_for_offline_data
from .test_call_taker import _login as call_taker_login
from .test_command_desk import login_supervisor

_TITLES = """(sel) => [...document.querySelectorAll(sel)].map((el) => el.getAttribute('title')
    || el.getAttribute('aria-label') || '')"""
ENGLISH = ("Zoom in", "Zoom out", "Toggle attribution", "A JavaScript library", "Reset bearing")


def _no_english(page):
    titles = page.evaluate(_TITLES, "[title], [aria-label]")
    bad = [x for x in titles if any(e in x for e in ENGLISH)]
    assert not bad, bad


def test_leaflet_controls_are_chinese_on_the_worker_map_and_the_call_map(
        phone, worker_login, browser, live_server, demo_users):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    page.click("[data-testid=tab-map]")
    page.wait_for_selector(".leaflet-control-zoom-in")
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "放大"
    assert page.get_attribute(".leaflet-control-zoom-out", "title") == "缩小"
    _no_english(page)

    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    try:
        desk = ctx.new_page()
        call_taker_login(desk, demo_users)
        desk.wait_for_selector("[data-testid=call-form] .leaflet-control-zoom-in")
        assert desk.get_attribute(".leaflet-control-zoom-in", "title") == "放大"
        _no_english(desk)
    finally:
        ctx.close()


def test_maplibre_controls_and_the_case_list_have_no_english_or_raw_codes(
        browser, live_server, demo_users, client, tokens, demo_cell, runtime):
    submit(client, tokens, demo_cell, runtime)
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    try:
        page = ctx.new_page()
        login_supervisor(page, demo_users)
        page.goto("/#/list")
        page.wait_for_selector("[data-testid=command] table tbody tr")
        titles = page.evaluate(_TITLES, "td[title]")
        assert not any(t.isascii() and t for t in titles), titles  # no title="sanitation"
        page.goto("/#/map")
        page.wait_for_selector(".maplibregl-ctrl-zoom-in")
        assert page.get_attribute(".maplibregl-ctrl-zoom-in", "title") == "放大"
        assert page.get_attribute(".maplibregl-ctrl-zoom-out", "title") == "缩小"
        _no_english(page)
    finally:
        ctx.close()
