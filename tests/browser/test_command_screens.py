"""Screenshots of the command centre (map, case panel, list with its filters, 督办 notices,
numbers), the handler's desk and the call-taker's screens (话务受理, 回访) in Chinese and English
(into docs/screenshots/ under `make screenshots`), with the checks a person would make: every
text translated, the desk no wider than a 360 px phone."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from cases_helpers import act, evidence, submit
from hotline_helpers import call_body, take_call

from .a11y import assert_accessible
from .command import (
    DESKTOP,
    make_dispatched_case,
    make_overdue_case,
    photo_ready,
    wait_map_idle,
    zoom_map_to,
)
from .pwa import login
from conftest import PERSONAS
from followup import drain

LANGS = {"zh-CN": "zh", "en": "en"}
# the screens each test draws into docs/screenshots/ as {zh,en}-{screen}.png (see `shots`)
SCREENS_DRAWN = {
    "test_command_centre_screens": (
        "command-map", "command-map-cells", "command-case", "command-list", "command-notices",
        "command-numbers"),
    "test_handler_desk_screens": ("handler-desk", "handler-case"),
    "test_call_taker_screens": ("hotline-call", "hotline-callbacks"),
}
# the case panel has settled: its position map was fitted at the panel's final width, and the
# big map has taken the width the panel left it
PANEL_SETTLED = """() => {
    const mini = document.querySelector('[data-testid=case-panel] .mini-map');
    const m = window.__gridsnapMap;
    return !!mini && mini.dataset.fittedWidth === String(mini.clientWidth) && !!m
        && m.getCanvas().clientWidth === m.getContainer().clientWidth;
}"""
KEY = re.compile(r"\b(cmd|num|ind|desk|action|event|kind|stage|purpose|level|hot|source|notice|"
                 r"joint)\.[a-z_.]+\b")


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
                                runtime, engine, shots, lang):
    zh = lang == "zh-CN"
    cid = make_overdue_case(client, tokens, demo_cell, runtime, engine,
                            description="井盖破损" if zh else "Broken manhole cover")
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
    # a 12345 hotline case next to the grid workers' (the 来源 filter tells them apart)
    take_call(client, tokens, call_body(demo_cell, description="夜间施工噪音扰民" if zh else
                                        "Building work at night, too loud"))
    # 督办: two overdue cases with a notice to their department, one of them answered
    for n, note in enumerate(("超期未处置，请说明原因", "请今日内处置") if zh else
                             ("Overdue: say why", "Deal with it today")):
        nid = make_dispatched_case(client, tokens, demo_cell, runtime)
        with engine.begin() as conn:
            conn.execute(text("UPDATE reports SET overdue = true, updated_at = now() "
                              "WHERE id = :id"), {"id": nid})
        act(client, tokens, "supervisor", nid, "issue_notice", department="sanitation", note=note)
        if n == 0:
            act(client, tokens, "handler", nid, "reply_notice",
                note="车辆故障，今日处理" if zh else "The truck broke down; done today")
    drain(runtime)
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
        shots.take(page, prefix, "command-map")
        zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 13.2)  # cells shaded by counts
        assert_accessible(page, f"{lang} command-map-cells", taps=False)
        shots.take(page, prefix, "command-map-cells")

        zoom_map_to(page, demo_cell["lon"], demo_cell["lat"], 16.5)
        page.goto(f"/#/map?case={cid}")
        page.wait_for_selector("[data-testid=photos-report] img")
        page.wait_for_selector("[data-testid=timeline] li")
        page.wait_for_function(PANEL_SETTLED)
        wait_map_idle(page)
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-case", taps=False)
        shots.take(page, prefix, "command-case")

        page.goto(f"/#/list?case={done}")
        page.wait_for_selector("[data-testid=case-row]")
        page.wait_for_selector("[data-testid=photos-resolution] img")
        assert page.locator("[data-testid=filter-source]").is_visible()  # 来源
        assert page.locator("[data-testid=filter-source] option[value=hotline]").count() == 1
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-list", taps=False)
        shots.take(page, prefix, "command-list")

        page.click("[data-testid=tab-notices]")
        listed = page.locator("[data-testid=notices] [data-testid=notice]")
        page.wait_for_function("document.querySelectorAll("
                               "'[data-testid=notices] [data-testid=notice]').length === 2")
        assert sorted(listed.nth(i).get_attribute("data-state") for i in range(2)) == [
            "open", "replied"]
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-notices", taps=False)
        shots.take(page, prefix, "command-notices")

        page.click("[data-testid=tab-numbers]")
        page.wait_for_selector("[data-testid=indicator-row], [data-testid=numbers-missing]")
        page.wait_for_selector("[data-testid=top-problems] :is(li, p.muted), "
                               "[data-testid=numbers-missing]")
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} command-numbers", taps=False)
        shots.take(page, prefix, "command-numbers", full_page=True)
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", list(LANGS))
def test_handler_desk_screens(browser, live_server, demo_users, demo_cell, client, tokens,
                              runtime, shots, lang):
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
        shots.take(page, prefix, "handler-desk")
        page.click("[data-testid=task-link]")
        page.wait_for_selector(".photos img")
        page.wait_for_selector("[data-testid=desk-sign]")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert_accessible(page, f"{lang} handler-case", taps=True)
        shots.take(page, prefix, "handler-case", full_page=True)
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", list(LANGS))
def test_call_taker_screens(browser, live_server, demo_users, demo_cell, client, tokens, runtime,
                            shots, lang):
    zh = lang == "zh-CN"
    # a call taken, handled and closed: waiting for its callback (回访)
    cid = take_call(client, tokens, call_body(demo_cell))["id"]
    drain(runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")
    prefix = LANGS[lang]
    ctx = _context(browser, live_server, lang, DESKTOP)
    page = ctx.new_page()
    try:
        name = PERSONAS["call_taker"]
        page.goto("/")
        page.fill("#username", name)
        page.fill("#password", demo_users[name]["password"])
        page.click("button[type=submit]")
        # a call being taken: the form filled in, not yet recorded
        page.wait_for_selector("[data-testid=call-form]")
        page.wait_for_selector("[data-testid=call-map][data-ready='1']")
        # the caller of the case above calls again: the screen says so
        page.fill("[data-testid=call-phone]", "13812341234")
        page.fill("[data-testid=call-name]", "李四" if zh else "Li Si")
        page.wait_for_selector("[data-testid=call-repeat]")
        page.select_option("[data-testid=call-nature]", "complaint")
        # the class found by a few characters, with the unit it goes to
        page.fill("[data-testid=call-class]", "垃圾清运" if zh else "rubbish not")
        page.wait_for_selector("[data-testid=call-class-item]")
        page.press("[data-testid=call-class]", "Enter")
        page.select_option("[data-testid=call-urgency]", "urgent")
        # the caller's address as said, in Chinese whatever the screen's language: an address
        # point (门牌), which places the call in its cell
        page.fill("[data-testid=call-address]", "多福巷12号")
        page.wait_for_selector("[data-testid=call-address-item]")
        page.press("[data-testid=call-address]", "Enter")
        page.fill("[data-testid=call-description]", "楼下垃圾三天没人清运" if zh else
                  "Nobody has collected the rubbish downstairs for three days")
        page.wait_for_selector("[data-testid=call-place]")
        page.wait_for_selector("[data-testid=call-class-chosen]")
        assert page.locator("[data-testid=call-done]").count() == 0
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} hotline-call", taps=False)
        shots.take(page, prefix, "hotline-call")

        page.click("[data-testid=tab-callbacks]")
        page.wait_for_selector("[data-testid=callback-item]")
        assert page.inner_text("[data-testid=callback-phone]") == "138****1234"  # masked
        _no_raw_keys(page)
        assert_accessible(page, f"{lang} hotline-callbacks", taps=False)
        shots.take(page, prefix, "hotline-callbacks")
    finally:
        ctx.close()
