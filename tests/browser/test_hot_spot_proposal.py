"""A 主动治理 hot spot proposed to the supervisor (campaigns.service.propose_hot_spots) reads in
the command centre's inbox in Chinese and English: the class, the community, the count."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridsnap.notifications.queries import add_notices
from gridsnap.notifications.rules import HOT_SPOT_PROPOSED, Notice

from .command import DESKTOP
from .pwa import command_login
from conftest import PERSONAS


def test_a_proposed_hot_spot_reads_in_the_inbox_in_both_languages(browser, live_server,
                                                                  demo_users, engine):
    with engine.connect() as conn:
        supervisor = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                                  {"u": PERSONAS["supervisor"]}).scalar_one()
    with Session(engine) as s:
        add_notices(s, [Notice(HOT_SPOT_PROPOSED, (supervisor,), data={
            "month": "2026-11", "category": "E0101", "category_name": "暴露垃圾",
            "category_name_en": "Exposed garbage", "area_code": "110101001001",
            "area_name": "多福巷社区", "area_name_en": "Duofuxiang Community", "count": 4,
            "previous_average": "1.00"})])
        s.commit()
    for lang, title, line in (
            ("zh-CN", "主动治理：发现高发问题", "多福巷社区：暴露垃圾，2026-11 共 4 件（此前月均 1.00 件）"),
            ("en", "Hot spot proposed", "Duofuxiang Community: Exposed garbage, 4 cases in 2026-11")):
        ctx = browser.new_context(viewport=DESKTOP, locale=lang, timezone_id="Asia/Shanghai",
                                  base_url=live_server.url)
        try:
            page = ctx.new_page()
            page.add_init_script(f"localStorage.setItem('gridsnap.lang', '{lang}')")
            name = PERSONAS["supervisor"]
            command_login(page, name, demo_users[name]["password"])
            page.click("[data-testid=tab-inbox]")
            page.wait_for_selector("[data-testid=hot-spot-proposal]")
            item = page.locator("[data-testid=notification]",
                                has=page.locator("[data-testid=hot-spot-proposal]")).first
            assert title in item.inner_text()
            assert line in item.inner_text()
        finally:
            ctx.close()
