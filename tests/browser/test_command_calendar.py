"""The command centre warns when the holiday calendar does not cover the deadlines in use: a
banner (zh-CN and en), and a mark on each case whose deadline is an estimate."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from cases_helpers import act, submit

from .a11y import assert_accessible
from .command import DESKTOP
from conftest import PERSONAS

CST = timezone(timedelta(hours=8))
BANNER = {"zh-CN": "节假日数据未覆盖 2027 年", "en": "No official holiday data for 2027"}
MARK = {"zh-CN": "估", "en": "est."}


def _dispatched_at(client, tokens, demo_cell, runtime, at, when) -> str:
    at(when)
    cid = submit(client, tokens, demo_cell, runtime, category="E0102")  # 1 working day
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    return cid


@pytest.mark.parametrize("lang", list(BANNER))
def test_command_centre_warns_of_a_year_without_holiday_data_and_marks_estimates(
        browser, live_server, demo_users, client, tokens, demo_cell, runtime, at, lang):
    estimated = _dispatched_at(client, tokens, demo_cell, runtime, at,
                               datetime(2026, 12, 31, 10, tzinfo=CST))  # due 4 Jan 2027
    official = _dispatched_at(client, tokens, demo_cell, runtime, at,
                              datetime(2026, 12, 30, 10, tzinfo=CST))  # due 31 Dec 2026
    at(None)  # the browser's session runs on the real clock

    ctx = browser.new_context(viewport=DESKTOP, locale=lang, timezone_id="Asia/Shanghai",
                              base_url=live_server.url)
    ctx.add_init_script(f"localStorage.setItem('gridsnap.lang', {json.dumps(lang)})")
    ctx.set_default_timeout(15000)
    page = ctx.new_page()
    try:
        name = PERSONAS["supervisor"]
        page.goto("/")
        page.fill("#username", name)
        page.fill("#password", demo_users[name]["password"])
        page.click("button[type=submit]")
        banner = page.wait_for_selector("[data-testid=calendar-banner]")
        assert BANNER[lang] in banner.inner_text()
        assert banner.get_attribute("role") == "alert"
        page.wait_for_selector("[data-testid=cmd-map] canvas")
        assert_accessible(page, f"{lang} command-calendar-banner", taps=False)

        page.goto("/#/list")
        row = page.wait_for_selector(f"[data-testid=case-row][data-id='{estimated}']")
        mark = row.query_selector("[data-testid=due-estimated]")
        assert mark is not None and mark.inner_text() == MARK[lang]
        assert "2027" in mark.get_attribute("title")
        other = page.wait_for_selector(f"[data-testid=case-row][data-id='{official}']")
        assert other.query_selector("[data-testid=due-estimated]") is None

        row.click()  # the case panel marks it too
        panel = page.wait_for_selector("[data-testid=case-panel] [data-testid=due-estimated]")
        assert panel.inner_text() == MARK[lang]
    finally:
        ctx.close()
