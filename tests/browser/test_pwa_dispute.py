"""矛盾纠纷 on the phone: a dispute made offline waits in the outbox, survives, and is sent once
when the network returns; the server places it and masks its parties."""

from __future__ import annotations

from sqlalchemy import text

from .pwa import login, sync_now, wait_for_offline_data, wait_for_service_worker, wait_outbox


def test_a_dispute_made_offline_is_sent_once_when_the_network_returns(phone, worker_login,
                                                                     engine, demo_cell):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    wait_for_service_worker(page)
    phone.set_offline(True)
    page.wait_for_selector("[data-testid=netpill].off")
    page.click("[data-testid=tab-dispute]")
    page.select_option("[data-testid=dispute-kind]", "property")
    page.select_option("[data-testid=dispute-risk]", "may_escalate")
    page.fill("[data-testid=party-name-0]", "王小明")
    page.fill("[data-testid=party-phone-0]", "13812345678")
    page.fill("[data-testid=party-name-1]", "物业公司")
    page.fill("[data-testid=dispute-description]", "物业费争议，双方争吵")
    page.click("[data-testid=dispute-save]")
    items = wait_outbox(page, lambda xs: [(x["kind"], x["state"]) for x in xs]
                        == [("dispute", "saved")], what="one dispute saved")
    assert items[0]["body"]["parties"][1] == {"name": "物业公司", "phone": None}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM disputes")).scalar() == 0
    phone.set_offline(False)
    page.wait_for_selector("[data-testid=netpill].on")
    sync_now(page)
    items = wait_outbox(page, lambda xs: [x["state"] for x in xs] == ["accepted"],
                        what="the dispute accepted")
    sync_now(page)  # a second round sends nothing again
    page.wait_for_selector("text=纠纷已上报")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT kind, risk, area_code, number FROM disputes")).mappings().all()
    assert len(rows) == 1
    assert (rows[0]["kind"], rows[0]["risk"], rows[0]["area_code"]) == (
        "property", "may_escalate", demo_cell["code"])
    assert items[0]["server"]["number"] == rows[0]["number"]
