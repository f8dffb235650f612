"""吹哨报到 and 督办 in the command centre, in a real browser: the overdue escalation's whistle
proposal in the inbox opens the whistle form (departments in the UI's language), the whistle
makes a joint case whose departments and report-in state the panel shows; a supervision notice
issued from the panel is listed under 督办 and its reply shows there."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cases_helpers import act
from gridsnap.cases.sweeps import escalate_overdue

from .a11y import assert_accessible
from .command import DESKTOP, make_dispatched_case
from .pwa import login, wait_outbox
from conftest import PERSONAS, auth


def _context(browser, live_server, locale):
    ctx = browser.new_context(viewport=DESKTOP, locale=locale, timezone_id="Asia/Shanghai",
                              base_url=live_server.url)
    ctx.set_default_timeout(15000)
    return ctx


@pytest.fixture()
def desktop_en(browser, live_server):
    ctx = _context(browser, live_server, "en-GB")
    # the English UI, as chosen in the settings (the app starts in Chinese)
    ctx.add_init_script("localStorage.setItem('gridsnap.lang', 'en')")
    yield ctx
    ctx.close()


@pytest.fixture()
def desktop_zh(browser, live_server):
    ctx = _context(browser, live_server, "zh-CN")
    yield ctx
    ctx.close()


def _login(page, demo_users, persona="supervisor"):
    name = PERSONAS[persona]
    page.goto("/")
    page.fill("#username", name)
    page.fill("#password", demo_users[name]["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=command]")


def _overdue_after_two_returns(engine, runtime, cid) -> None:
    """The case's deadline ran out and it was handed back twice: the sweep escalates it with a
    whistle proposal."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET due_at = now() - interval '1 hour', "
                          "return_count = 2 WHERE id = :id"), {"id": cid})
    with runtime.sessions() as s:
        assert escalate_overdue(s) == 1
        s.commit()


def test_the_whistle_proposal_opens_the_form_and_makes_a_joint_case(
        desktop_en, demo_users, client, tokens, demo_cell, runtime, engine):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    _overdue_after_two_returns(engine, runtime, cid)
    page = desktop_en.new_page()
    _login(page, demo_users)
    page.click("[data-testid=tab-inbox]")
    proposal = page.locator("[data-testid=notification]",
                            has=page.locator("[data-testid=proposal]")).first
    proposal.wait_for()
    assert "Proposed: whistle" in proposal.inner_text()
    proposal.locator("[data-testid=proposal-whistle]").click()

    form = page.locator("[data-testid=whistle-form]")
    form.wait_for()
    # the departments are named in the UI's language
    assert "District Water Authority" in form.inner_text()
    page.select_option("[data-testid=whistle-lead]", "water")
    page.check("[data-testid=whistle-co-municipal]")
    page.check("[data-testid=whistle-co-sanitation]")
    assert page.is_disabled("[data-testid=whistle-confirm]")  # a note first
    page.fill("[data-testid=whistle-note]", "Flooding, broken road and garbage: three departments")
    page.click("[data-testid=whistle-confirm]")

    rows = page.locator("[data-testid=joint-participant]")
    rows.first.wait_for()
    assert rows.count() == 3
    assert [rows.nth(i).get_attribute("data-department") for i in range(3)] == [
        "water", "municipal", "sanitation"]
    assert all(rows.nth(i).get_attribute("data-reported") == "no" for i in range(3))
    assert "Lead" in rows.first.inner_text()
    with engine.connect() as conn:
        got = conn.execute(text(
            "SELECT department_code, role FROM joint_participants WHERE report_id = :id "
            "ORDER BY role DESC, department_code"), {"id": cid}).all()
        dept = conn.execute(text("SELECT department_code FROM reports WHERE id = :id"),
                            {"id": cid}).scalar()
    assert [tuple(r) for r in got] == [("water", "lead"), ("municipal", "co"),
                                       ("sanitation", "co")]
    assert dept == "water"

    # the sanitation handler reports in over the API: the panel follows on reload
    act(client, tokens, "handler", cid, "report_in")
    page.reload()
    row = page.locator("[data-testid=joint-participant][data-department=sanitation]")
    row.wait_for()
    assert row.get_attribute("data-reported") == "yes"
    assert row.get_attribute("data-late") == "false"


def test_a_notice_issued_in_the_panel_is_listed_under_supervision_with_its_reply(
        desktop_zh, demo_users, client, tokens, demo_cell, runtime, engine):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET overdue = true, updated_at = now() WHERE id = :id"),
                     {"id": cid})
    page = desktop_zh.new_page()
    _login(page, demo_users)
    page.goto(f"/#/list?case={cid}")
    page.click("[data-testid=action-issue_notice]")
    page.locator("[data-testid=notice-form]").wait_for()
    assert page.input_value("[data-testid=notice-department]") == "sanitation"
    # overdue: the case is its own ground (the default); a named one may be chosen instead
    assert page.input_value("[data-testid=notice-ground]") == ""
    page.fill("[data-testid=notice-note]", "超期未处置，请说明原因")
    page.click("[data-testid=notice-confirm]")
    notice = page.locator("[data-testid=case-notices] [data-testid=notice]")
    notice.wait_for()
    assert notice.get_attribute("data-state") == "open"
    # the ground is kept with the notice and shown with it
    assert notice.locator("[data-testid=notice-ground-tag]").inner_text() == "超期"

    r = client.get("/api/v1/notices?state=open", headers=auth(tokens["handler"]))
    [open_notice] = r.get_json()
    act(client, tokens, "handler", cid, "reply_notice", notice_id=open_notice["id"],
        note="车辆故障，今日处理")

    page.click("[data-testid=tab-notices]")
    listed = page.locator("[data-testid=notices] [data-testid=notice]")
    listed.first.wait_for()
    assert listed.count() == 1
    assert listed.first.get_attribute("data-state") == "replied"
    assert "车辆故障，今日处理" in listed.first.inner_text()
    assert_accessible(page, "督办 list", taps=False)
    page.select_option("[data-testid=notice-state-filter]", "open")
    page.wait_for_selector("[data-testid=notices] >> text=暂无督办。")


def test_a_co_department_reports_in_feeds_back_and_answers_a_notice_on_its_desk(
        phone, demo_users, client, tokens, demo_cell, runtime, engine):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "whistle", lead_department="water",
        co_departments=["sanitation"], note="积水与垃圾")
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET overdue = true, updated_at = now() WHERE id = :id"),
                     {"id": cid})
    act(client, tokens, "supervisor", cid, "issue_notice", department="sanitation",
        note="请尽快报到")
    name = PERSONAS["handler"]  # sanitation: a co-department (协办) of this case
    page = phone.new_page()
    login(page, name, demo_users[name]["password"])
    page.wait_for_selector("[data-testid=task-link]")
    assert page.inner_text("[data-testid=desk-joint-tag]") == "协办"
    page.wait_for_selector("[data-testid=desk-notices] [data-testid=desk-notice][data-state=open]")

    page.click("[data-testid=task-link]")
    page.wait_for_selector("[data-testid=desk-joint-participant][data-department=water]")
    assert not page.is_visible("[data-testid=desk-sign]")  # the lead signs, not a co-department
    page.click("[data-testid=desk-report-in]")
    wait_outbox(page, lambda xs: any(i["body"]["action"] == "report_in"
                                     and i["state"] == "accepted" for i in xs),
                timeout_s=40, what="the report-in sent")
    page.click("[data-testid=desk-feedback]")
    page.fill("#desk-note", "垃圾已清运")
    page.click("[data-testid=desk-submit]")
    page.fill("[data-testid=desk-case-notices] [data-testid=desk-notice-reply]", "已报到并清运")
    page.click("[data-testid=desk-case-notices] [data-testid=desk-notice-send]")
    wait_outbox(page, lambda xs: len(xs) == 3 and all(i["state"] == "accepted" for i in xs),
                timeout_s=40, what="the feedback and the reply sent")
    with engine.connect() as conn:
        part = conn.execute(text(
            "SELECT reported_in_at IS NOT NULL AS reported, feedback FROM joint_participants "
            "WHERE report_id = :id AND department_code = 'sanitation'"), {"id": cid}).one()
        reply = conn.execute(text("SELECT reply FROM case_notices WHERE report_id = :id"),
                             {"id": cid}).scalar()
    assert part.reported and part.feedback == "垃圾已清运"
    assert reply == "已报到并清运"


def test_a_notice_on_a_case_that_is_not_its_own_ground_names_one(
        desktop_zh, demo_users, client, tokens, demo_cell, runtime):
    """督办 on any case: neither overdue nor handed back, the form asks for the ground (领导批示,
    媒体曝光, 群众反复投诉, 其他), and the notice keeps it."""
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    page = desktop_zh.new_page()
    _login(page, demo_users)
    page.goto(f"/#/list?case={cid}")
    page.click("[data-testid=action-issue_notice]")
    page.locator("[data-testid=notice-form]").wait_for()
    options = page.locator("[data-testid=notice-ground] option").all_inner_texts()
    assert options == ["领导批示", "媒体曝光", "群众反复投诉", "其他"]
    page.select_option("[data-testid=notice-ground]", "media_exposure")
    page.fill("[data-testid=notice-note]", "电视台曝光：垃圾堆放三日未清")
    page.click("[data-testid=notice-confirm]")
    tag = page.locator("[data-testid=case-notices] [data-testid=notice-ground-tag]")
    tag.wait_for()
    assert tag.inner_text() == "媒体曝光"
    [notice] = client.get(f"/api/v1/cases/{cid}",
                          headers=auth(tokens["supervisor"])).get_json()["notices"]
    assert notice["ground"] == "media_exposure"
