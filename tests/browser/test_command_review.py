"""退单审核 and 挂账 in the command centre, in a real browser: a supervisor refuses a return (the
case goes back to the department that returned it), approves another and re-dispatches it in
one step, approves a 挂账 and finds the case on the long-term list with its reason and review
date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cases_helpers import act

from .a11y import assert_accessible
from .command import DESKTOP, case_state, make_dispatched_case
from conftest import PERSONAS


@pytest.fixture()
def desktop(browser, live_server):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                              base_url=live_server.url)
    ctx.set_default_timeout(15000)
    yield ctx
    ctx.close()


def _login(page, demo_users):
    name = PERSONAS["supervisor"]
    page.goto("/")
    page.fill("#username", name)
    page.fill("#password", demo_users[name]["password"])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=command]")


def test_supervisor_refuses_one_return_and_approves_another_with_a_new_department(
        desktop, demo_users, client, tokens, demo_cell, runtime, engine):
    wrong = make_dispatched_case(client, tokens, demo_cell, runtime)
    act(client, tokens, "handler", wrong, "return", reason="outside_duties", note="不归我们管")
    right = make_dispatched_case(client, tokens, demo_cell, runtime)
    act(client, tokens, "handler", right, "return", reason="wrong_department", note="应为园林")
    page = desktop.new_page()
    _login(page, demo_users)

    # the inbox says a return awaits review
    page.click("[data-testid=tab-inbox]")
    page.wait_for_selector("[data-testid=notification] >> text=退单待审核")

    page.goto(f"/#/list?case={wrong}")
    page.wait_for_selector("[data-testid=case-panel][data-status=returned]")
    assert "不归我们管" in page.inner_text("[data-testid=case-return-pending]")
    assert page.locator("[data-testid=action-dispatch]").count() == 0
    page.click("[data-testid=action-refuse_return]")
    confirm = page.locator("[data-testid=action-confirm]")
    assert confirm.is_disabled()  # a refusal says why
    page.fill("#action-note", "占道堆物属环卫职责")
    assert_accessible(page, "refusing a return", taps=False)
    confirm.click()
    page.wait_for_selector("[data-testid=case-panel][data-status=dispatched]")
    page.wait_for_function(
        "document.querySelector('[data-testid=timeline]').innerText.includes('退单被驳回')")
    assert case_state(engine, wrong) == {"status": "dispatched", "department_code": "sanitation"}

    page.goto(f"/#/list?case={right}")
    page.wait_for_selector("[data-testid=case-panel][data-status=returned]")
    page.click("[data-testid=action-approve_return]")
    select = page.locator("[data-testid=dispatch-department]")
    assert select.input_value() not in ("", "sanitation")  # not back where it came from
    select.select_option("landscaping")
    assert "改派" in page.inner_text("[data-testid=action-confirm]")
    page.click("[data-testid=action-confirm]")
    page.wait_for_selector("[data-testid=case-panel][data-status=dispatched]")
    assert case_state(engine, right) == {"status": "dispatched", "department_code": "landscaping"}


def test_supervisor_approves_a_suspension_and_finds_it_on_the_long_term_list(
        desktop, demo_users, client, tokens, demo_cell, runtime, engine):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    act(client, tokens, "handler", cid, "sign")
    review_on = str(date.today() + timedelta(days=40))
    act(client, tokens, "handler", cid, "request_suspension", reason_kind="planning",
        review_on=review_on, note="需纳入明年道路改造规划")
    page = desktop.new_page()
    _login(page, demo_users)
    page.goto(f"/#/list?case={cid}")
    page.wait_for_selector("[data-testid=case-suspension][data-state=pending]")
    assert review_on in page.inner_text("[data-testid=case-suspension]")
    page.click("[data-testid=action-approve_suspension]")
    page.wait_for_selector("[data-testid=case-panel][data-status=suspended]")
    page.wait_for_selector("[data-testid=case-suspension][data-state=approved]")
    assert page.locator("[data-testid=action-resume]").is_visible()
    assert case_state(engine, cid) == {"status": "suspended", "department_code": "sanitation"}

    # the long-term list: status 挂账, with reason, review date and department
    page.select_option("[data-testid=filter-status]", "suspended")
    page.wait_for_selector("[data-testid=suspended-list]")
    row = page.locator(f"[data-testid=case-row][data-id='{cid}'][data-status=suspended]")
    row.wait_for()
    assert row.locator("[data-testid=suspend-reason]").inner_text() == "需规划调整"
    assert row.locator("[data-testid=review-on]").inner_text() == review_on
    assert "环境卫生" in row.inner_text()  # the department's name
    assert_accessible(page, "the long-term list", taps=False)
