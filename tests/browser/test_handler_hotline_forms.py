"""接诉即办 on the handler's desk (a 360 px phone): the forms for what the API already takes —
a contact with the caller (先行联系), a request to exclude an unreasonable request (不合理诉求) and
an appeal of a rated result (申诉) — in Chinese, then in English; each reaches the server."""

from __future__ import annotations

from sqlalchemy import text

from cases_helpers import act, evidence
from hotline_helpers import REACHED_DISSATISFIED, call_body, callback, take_call

from .pwa import login, wait_outbox
from conftest import PERSONAS
from followup import drain


def _hotline_case(client, tokens, runtime, cell, *, signed=True) -> str:
    cid = take_call(client, tokens, call_body(cell))["id"]
    drain(runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    if signed:
        act(client, tokens, "handler", cid, "sign")
    return cid


def _rated_case(client, tokens, runtime, cell) -> str:
    """Closed and called back: dissatisfied, not solved (so the unit may appeal)."""
    cid = _hotline_case(client, tokens, runtime, cell)
    act(client, tokens, "handler", cid, "record_contact", contact={"outcome": "reached"})
    act(client, tokens, "handler", cid, "resolve",
        photo_ids=[evidence(client, tokens, "handler", cid, "resolution")])
    act(client, tokens, "supervisor", cid, "close")
    callback(client, tokens, cid, callback=REACHED_DISSATISFIED)
    return cid


def _sent(items, case_id, action) -> bool:
    return any(i["body"]["action"] == action and i["body"]["case_id"] == case_id
               and i["state"] == "accepted" for i in items)


def _events(engine, cid) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT action, data FROM case_events WHERE report_id = :id ORDER BY id"),
            {"id": cid}).all()
    return {a: d for a, d in rows}


def test_contact_exclusion_and_appeal_forms_in_chinese_and_english(
        phone, demo_users, client, tokens, demo_cell, runtime, engine):
    name = PERSONAS["handler"]
    for lang, words in (("zh-CN", ("先行联系", "联系结果", "申请剔除（不合理诉求）", "已回访的热线诉求")),
                        ("en", ("Contact with the caller", "Outcome",
                                "Ask to exclude (unreasonable request)",
                                "Hotline requests called back"))):
        open_case = _hotline_case(client, tokens, runtime, demo_cell)
        rated = _rated_case(client, tokens, runtime, demo_cell)
        page = phone.new_page()
        page.goto("/")
        page.evaluate(f"() => localStorage.setItem('gridsnap.lang', '{lang}')")
        if lang == "zh-CN":
            login(page, name, demo_users[name]["password"])
        else:  # still logged in on this phone: the app again, in English
            page.reload()
            page.wait_for_selector("nav.tabbar")
        page.wait_for_selector(f"[data-testid=task-link][href$='{open_case}']")
        assert words[3] in page.inner_text("[data-testid=desk-rated]")

        # 先行联系: no answer at the first try
        page.click(f"[data-testid=task-link][href$='{open_case}']")
        page.click("[data-testid=desk-contact]")
        assert words[0] in page.inner_text("#desk-form-title")
        assert words[1] in page.inner_text("label[for=desk-contact-outcome]")
        page.select_option("[data-testid=desk-contact-outcome]", "no_answer")
        page.click("[data-testid=desk-submit]")
        wait_outbox(page, lambda xs, c=open_case: _sent(xs, c, "record_contact"),
                    what="the contact sent")
        # 不合理诉求: a reason and the note
        page.click("[data-testid=desk-exclusion]")
        assert words[2] in page.inner_text("#desk-form-title")
        page.select_option("[data-testid=desk-exclusion-reason]", "outside_duty")
        assert page.is_disabled("[data-testid=desk-submit]")  # the reasons are required
        page.fill("#desk-note", "邻里纠纷，属民事调解范围")
        page.click("[data-testid=desk-submit]")
        wait_outbox(page, lambda xs, c=open_case: _sent(xs, c, "request_exclusion"),
                    what="the exclusion request sent")
        trail = _events(engine, open_case)
        assert trail["case.contacted"]["outcome"] == "no_answer"
        with engine.connect() as conn:
            ex = conn.execute(text(
                "SELECT kind, reason_kind, reason, status FROM case_exclusions "
                "WHERE report_id = :id"), {"id": open_case}).one()
        assert tuple(ex) == ("exclusion", "outside_duty", "邻里纠纷，属民事调解范围", "pending")

        # 申诉 of the called-back request, from the desk's list
        page.click("[data-testid=tab-desk]")
        page.wait_for_selector("[data-testid=desk-rated-appeal]")
        page.click("[data-testid=desk-rated-appeal]")
        page.select_option("[data-testid=desk-appeal-reason]", "beyond_unit")
        page.fill("[data-testid=desk-appeal-note]", "需市级部门审批")
        page.click("[data-testid=desk-appeal-send]")
        wait_outbox(page, lambda xs, c=rated: _sent(xs, c, "appeal"), what="the appeal sent")
        with engine.connect() as conn:
            ap = conn.execute(text(
                "SELECT kind, reason_kind, status FROM case_exclusions WHERE report_id = :id"),
                {"id": rated}).one()
        assert tuple(ap) == ("appeal", "beyond_unit", "pending")
        page.close()
