"""The department handler's desk (处置部门) on a 360 px phone: sign for a case and resolve it with
an after-photo while offline; both reach the server once, photo first, when the network returns."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from cases_helpers import act

from .command import DESKTOP, make_dispatched_case
from .pwa import blob_count, idb_count, login, wait_for_service_worker, wait_outbox
from conftest import PERSONAS
from photo_samples import make_jpeg


@pytest.fixture()
def handler_login(demo_users):
    name = PERSONAS["handler"]
    return name, demo_users[name]["password"]


def test_handler_signs_and_resolves_offline_and_it_arrives_once(
        phone, handler_login, client, tokens, demo_cell, runtime, engine, tmp_path):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    page = phone.new_page()
    login(page, *handler_login)
    page.wait_for_selector("[data-testid=task-link]")
    wait_for_service_worker(page)
    assert idb_count(page, "tasks") == 1

    phone.set_offline(True)
    page.reload()
    page.wait_for_selector("nav.tabbar")
    page.click("[data-testid=task-link]")
    page.click("[data-testid=desk-sign]")
    wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["body"]["action"] == "sign",
                what="the sign saved")
    # signed on the phone: resolving is offered at once, offline
    # where it is and who reported it, with a way there, offline too
    page.wait_for_selector("[data-testid=case-spot][data-ready='1']")
    assert page.inner_text("[data-testid=desk-reporter]").strip()
    assert page.inner_text("[data-testid=desk-address]").strip() not in ("", "—")
    assert "coordinate=wgs84" in page.get_attribute("[data-testid=directions]", "href")
    page.click("[data-testid=desk-resolve]")
    photo = tmp_path / "after.jpg"
    photo.write_bytes(make_jpeg(1024, 768, seed=21))
    page.set_input_files("[data-testid=desk-photo-input]", str(photo))
    page.wait_for_selector("[data-testid=desk-photos] li")
    page.fill("#desk-note", "已清运完毕")
    page.click("[data-testid=desk-submit]")
    items = wait_outbox(page, lambda xs: len(xs) == 2, what="the resolve saved")
    assert [i["state"] for i in items] == ["saved", "saved"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    phone.set_offline(False)
    done = wait_outbox(page, lambda xs: all(i["state"] == "accepted" for i in xs),
                       timeout_s=40, what="both sent")
    assert blob_count(page) == 0
    resolve = next(i for i in done if i["body"]["action"] == "resolve")
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM reports WHERE id = :id"), {"id": cid}).scalar()
        actions = conn.execute(text(
            "SELECT action, count(*) FROM case_events WHERE report_id = :id GROUP BY action"),
            {"id": cid}).all()
        photos = conn.execute(text(
            "SELECT id::text, purpose FROM photos WHERE report_id = :id AND purpose = 'resolution'"),
            {"id": cid}).all()
    assert status == "resolved"
    counts = dict(actions)
    assert counts["case.signed"] == 1 and counts["case.resolved"] == 1
    assert [p[0] for p in photos] == [resolve["photos"][0]["id"]]
    # the case card stays on its screen, with the status the server answered
    page.wait_for_selector("[data-testid=desk-case-status]:has-text('已处置')")
    page.wait_for_selector("[data-testid=desk-case] [data-testid=directions]")
    # the case left the desk
    page.click("[data-testid=tab-desk]")
    page.wait_for_selector("[data-testid=tasks-empty]")


def test_handler_hands_a_case_back_with_a_reason(phone, handler_login, client, tokens, demo_cell,
                                                 runtime, engine):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    page = phone.new_page()
    login(page, *handler_login)
    page.click("[data-testid=task-link]")
    page.click("[data-testid=desk-return]")
    page.select_option("[data-testid=desk-reason]", "outside_duties")
    page.fill("#desk-note", "不属于环卫职责")
    page.click("[data-testid=desk-submit]")
    wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "accepted", what="returned")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status FROM reports WHERE id = :id"), {"id": cid}).scalar()
        data = conn.execute(text("SELECT data FROM case_events WHERE report_id = :id "
                                 "AND action = 'case.returned'"), {"id": cid}).scalar()
    assert row == "returned"
    assert "outside_duties" in str(data)


def test_handler_asks_for_more_time_and_the_supervisor_approves(
        phone, handler_login, browser, live_server, demo_users, client, tokens, demo_cell,
        runtime, engine):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    act(client, tokens, "handler", cid, "sign")
    page = phone.new_page()
    login(page, *handler_login)
    page.click("[data-testid=task-link]")
    page.click("[data-testid=desk-extension]")
    page.fill("[data-testid=desk-amount]", "3")
    page.select_option("#desk-unit", "working_days")
    page.fill("#desk-note", "需要协调物业")
    page.click("[data-testid=desk-submit]")
    wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "accepted", what="asked")

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live_server.url)
    try:
        sup = desk.new_page()
        name = PERSONAS["supervisor"]
        sup.goto("/")
        sup.fill("#username", name)
        sup.fill("#password", demo_users[name]["password"])
        sup.click("button[type=submit]")
        sup.goto(f"/#/list?case={cid}")
        sup.wait_for_selector("[data-testid=action-approve_extension]")
        assert "需要协调物业" in sup.inner_text("[data-testid=case-panel]")
        sup.click("[data-testid=action-approve_extension]")
        sup.wait_for_selector("[data-testid=panel-notice]")
        sup.wait_for_selector("[data-testid=action-approve_extension]", state="detached")
    finally:
        desk.close()
    with engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM case_events WHERE report_id = :id ORDER BY id"), {"id": cid})]
    assert actions[-2:] == ["case.extension_requested", "case.extension_approved"]


def test_handler_asks_for_the_long_term_list_with_a_reason_and_a_review_date(
        phone, handler_login, client, tokens, demo_cell, runtime, engine):
    cid = make_dispatched_case(client, tokens, demo_cell, runtime)
    act(client, tokens, "handler", cid, "sign")
    page = phone.new_page()
    login(page, *handler_login)
    page.click("[data-testid=task-link]")
    page.click("[data-testid=desk-suspension]")
    page.select_option("[data-testid=desk-suspend-reason]", "court")
    page.fill("#desk-note", "产权纠纷，等待法院判决")
    submit = page.locator("[data-testid=desk-submit]")
    assert submit.is_disabled()  # no review date yet
    first = page.get_attribute("[data-testid=desk-review-on]", "min")
    last = page.get_attribute("[data-testid=desk-review-on]", "max")
    assert date.fromisoformat(last) - date.fromisoformat(first) == timedelta(days=364)
    review_on = str(date.fromisoformat(first) + timedelta(days=59))
    page.fill("[data-testid=desk-review-on]", review_on)
    submit.click()
    wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "accepted", what="asked")
    # the case stays on the desk, waiting for the command centre
    page.wait_for_selector("[data-testid=desk-suspension-pending]")
    assert review_on in page.inner_text("[data-testid=desk-suspension-pending]")
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT kind, status, reason_kind, review_on::text, reason FROM case_requests "
            "WHERE report_id = :id"), {"id": cid}).one()
    assert tuple(row) == ("suspension", "pending", "court", review_on, "产权纠纷，等待法院判决")
    page.click("[data-testid=tab-desk]")
    page.wait_for_selector("[data-testid=task-link]")
