"""The app loads, logs in, and a report captured online reaches the server with its photo."""

from __future__ import annotations

import pytest

from .pwa import capture, db_reports, login, wait_for_offline_data, wait_outbox
from photo_samples import make_jpeg


@pytest.fixture()
def jpeg(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(make_jpeg(1600, 1200, seed=1))
    return path


def test_report_captured_online_is_accepted_as_a_case(phone, worker_login, engine, jpeg, demo_cell):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    page.wait_for_selector(f"[data-testid=cell-name]:has-text('{demo_cell['code']}')")
    capture(page, [jpeg], "E0101", "路边垃圾")
    items = wait_outbox(page, lambda xs: xs and xs[0]["state"] == "accepted", what="accepted")
    rows = db_reports(engine)
    assert len(rows) == 1
    assert rows[0]["id"] == items[0]["id"]
    assert rows[0]["photos"] == 1
    assert rows[0]["area_code"] == demo_cell["code"]
    assert items[0]["server"]["number"] == rows[0]["number"]
