"""The mediator's desk (人民调解员) on a 360 px phone: the community's disputes by the step they
wait on; accepting, recording a session and the agreement — with a photo of the signed paper
(人民调解协议书) — while offline, all three and the photo reaching the server once, in order, when
the network returns, the photo shown on the dispute from the phone's own copy, offline too. And the grid worker's own disputes, as the
server knows them, in the dispute tab."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import text

from gridsnap import clock
from gridsnap.events import rules as ev

from .pwa import login, sync_now, wait_for_idb, wait_for_service_worker, wait_outbox
from conftest import PERSONAS, auth, new_id
from photo_samples import make_jpeg

_DISPUTES = """async () => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const rows = await new Promise((ok) => { const q = db.transaction('disputes')
        .objectStore('disputes').getAll(); q.onsuccess = () => ok(q.result); });
    db.close();
    return rows;
}"""


def _report(client, token, cell, **overrides) -> str:
    captured = (clock.now() - timedelta(minutes=5)).astimezone(UTC).replace(microsecond=0)
    body = {"kind": "neighbours", "risk": "normal", "description": "楼上漏水，两户争执",
            "parties": [{"name": "王小明", "phone": "13812345678"}, {"name": "欧阳春"}],
            "location": {"lon": cell["lon"], "lat": cell["lat"], "accuracy_m": 6.0},
            "captured_at": captured.isoformat(), **overrides}
    did = new_id()
    r = client.put(f"/api/v1/disputes/{did}", json=body, headers=auth(token))
    assert r.status_code == 201, r.get_json()
    return did


@pytest.fixture()
def mediator_login(demo_users):
    name = PERSONAS["mediator"]
    return name, demo_users[name]["password"]


def test_mediator_accepts_mediates_and_agrees_offline_and_each_step_arrives_once(
        phone, mediator_login, client, tokens, demo_cell, engine, tmp_path):
    did = _report(client, tokens["worker"], demo_cell, risk="may_escalate")
    page = phone.new_page()
    login(page, *mediator_login)
    # the mediator's own shell: the desk, no patrol bar, no capture tab
    page.wait_for_selector("[data-testid=mediator-desk]")
    assert page.locator("[data-testid=tab-capture]").count() == 0
    assert page.locator("[data-testid=patrolbar]").count() == 0
    wait_for_idb(page, _DISPUTES, lambda rows: [r["id"] for r in rows] == [did],
                 what="the community's dispute on the phone")
    wait_for_service_worker(page)

    phone.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=mediate-group-to_accept] [data-testid=dispute-row]")
    row = page.locator(f"[data-testid=dispute-row][data-id='{did}']")
    assert "可能激化" in row.inner_text()
    assert "前受理" in row.inner_text()  # the deadline it waits on
    row.locator("[data-testid=dispute-link]").click()
    assert "王*" in page.inner_text("[data-testid=dispute-parties]")  # masked offline
    page.click("[data-testid=step-accept]")
    page.click("[data-testid=step-submit]")
    page.wait_for_selector("[data-testid=dispute-detail-status]:has-text('已受理')")
    page.click("[data-testid=step-hold_session]")
    page.fill("[data-testid=m-participants]", "王小明，欧阳春、何平")
    page.fill("[data-testid=m-notes]", "双方同意修缮")
    page.click("[data-testid=step-submit]")
    page.wait_for_selector("[data-testid=dispute-detail-status]:has-text('调解中')")
    page.click("[data-testid=step-agree]")
    page.fill("[data-testid=m-agreement]", "楼上负责维修并赔偿500元")
    paper = tmp_path / "agreement.jpg"
    paper.write_bytes(make_jpeg(1600, 1200, seed=18))
    page.set_input_files("[data-testid=m-agreement-photo-input]", str(paper))
    page.wait_for_selector("[data-testid=m-agreement-photos] li")
    page.click("[data-testid=step-submit]")
    page.wait_for_selector("[data-testid=dispute-detail-status]:has-text('已达成协议')")
    # the photo waits in the outbox with the step, shown on the dispute from the phone
    page.wait_for_selector("[data-testid=agreement-photo][data-state=queued] img")
    # only the follow-up visit is offered now
    assert page.locator("[data-testid^=step-]").evaluate_all(
        "els => els.map(e => e.dataset.testid).filter(x => x !== 'step-item')") == [
        "step-follow_up"]
    items = sorted(wait_outbox(page, lambda xs: len(xs) == 3, what="three steps saved"),
                   key=lambda i: i["createdAt"])  # stored by id
    assert [(i["kind"], i["body"]["step"], i["state"]) for i in items] == [
        ("dispute_step", "accept", "saved"), ("dispute_step", "hold_session", "saved"),
        ("dispute_step", "agree", "saved")]
    assert items[1]["body"]["session"]["participants"] == ["王小明", "欧阳春", "何平"]
    assert [len(i["photos"]) for i in items] == [0, 0, 1]
    photo_id = items[2]["photos"][0]["id"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM disputes WHERE id = :id"),
                            {"id": did}).scalar() == "reported"

    phone.set_offline(False)
    page.wait_for_selector("[data-testid=netpill].on")
    sync_now(page)
    wait_outbox(page, lambda xs: [i["state"] for i in xs] == ["accepted"] * 3,
                timeout_s=40, what="the three steps sent")
    sync_now(page)  # a second round sends nothing again
    with engine.connect() as conn:
        status, agreement = conn.execute(text(
            "SELECT status, agreement FROM disputes WHERE id = :id"), {"id": did}).one()
        trail = conn.execute(text(
            "SELECT action FROM dispute_steps WHERE dispute_id = :id ORDER BY at, id"),
            {"id": did}).scalars().all()
        photos = conn.execute(text("SELECT id::text FROM dispute_photos WHERE dispute_id = :id"),
                              {"id": did}).scalars().all()
    assert (status, agreement) == ("agreed", "楼上负责维修并赔偿500元")
    assert trail == ["dispute.reported", "dispute.accepted", "dispute.session_held",
                     "dispute.agreed", ev.DISPUTE_AGREEMENT_PHOTO_ADDED]
    assert photos == [photo_id]
    # the phone's copy is the server's answer, with its trail and the photo
    page.goto(f"/#/mediate/{did}")
    page.wait_for_selector("[data-testid=dispute-trail] li[data-action='dispute.agreed']")
    assert "前回访" in page.inner_text("[data-testid=dispute-detail]")
    page.wait_for_selector("[data-testid=agreement-photo][data-state=sent] img")
    # and offline, after a reload, the photo is still there: its bytes kept on the phone
    phone.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=agreement-photo][data-state=sent] img")
    assert page.locator("[data-testid=agreement-photo]").count() == 1


def test_the_worker_sees_their_disputes_as_the_server_knows_them(
        phone, worker_login, client, tokens, demo_cell):
    mine = _report(client, tokens["worker"], demo_cell, kind="property")
    _report(client, tokens["mediator"], demo_cell, kind="labour")  # not the worker's
    r = client.post(f"/api/v1/disputes/{mine}/steps", json={"step": "accept"},
                    headers=auth(tokens["mediator"]))
    assert r.status_code == 200
    page = phone.new_page()
    login(page, *worker_login)
    page.click("[data-testid=tab-dispute]")
    page.wait_for_selector(f"[data-testid=my-disputes] [data-testid=dispute-row][data-id='{mine}']")
    rows = page.locator("[data-testid=my-disputes] [data-testid=dispute-row]")
    assert rows.count() == 1
    assert "已受理" in rows.first.inner_text() and "物业纠纷" in rows.first.inner_text()
    rows.first.locator("[data-testid=dispute-link]").click()
    page.wait_for_selector("[data-testid=dispute-detail]")
    # read-only for the reporter: no step to take, the parties masked, no unmasking
    assert page.locator("[data-testid^=step-]").count() == 0
    assert page.locator("[data-testid=dispute-unmask]").count() == 0
