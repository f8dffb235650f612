"""The outbox never loses a report: offline capture, an offline reload, honest sync, no duplicates,
and a server refusal shown with its reason."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import text

from .pwa import (
    blob_count,
    capture,
    db_reports,
    login,
    outbox_items,
    sync_now,
    wait_for_offline_data,
    wait_for_service_worker,
    wait_outbox,
)
from photo_samples import make_jpeg


@pytest.fixture()
def jpegs(tmp_path):
    """A phone-sized photo (4000×3000) and two small ones."""
    out = []
    for i, (w, h) in enumerate([(4000, 3000), (800, 600), (640, 480)]):
        path = tmp_path / f"photo{i}.jpg"
        path.write_bytes(make_jpeg(w, h, seed=i))
        out.append(path)
    return out


def _ready(phone, worker_login):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    wait_for_service_worker(page)
    return page


def test_three_reports_made_offline_survive_a_reload_and_arrive_once_with_photos_and_cells(
        phone, worker_login, engine, jpegs, demo_cell):
    page = _ready(phone, worker_login)
    phone.set_offline(True)
    page.wait_for_selector("[data-testid=netpill].off")
    capture(page, [jpegs[0]], "E0101", "一")
    capture(page, [jpegs[1], jpegs[2]], "E0101", "二")
    capture(page, [jpegs[2]], "C0101", "三")
    # a send attempt may be under way (state "sending") until the network error brings it back
    items = wait_outbox(page, lambda xs: [x["state"] for x in xs] == ["saved"] * 3,
                        what="three saved")
    assert sum(len(i["photos"]) for i in items) == 4
    # downscaled on the phone before it was stored: long side 2048
    big = next(i for i in items if i["body"]["description"] == "一")["photos"][0]
    assert max(big["width"], big["height"]) == 2048
    # the cell is shown offline, from the cells cached on the phone
    page.click("[data-testid=tab-capture]")
    page.wait_for_selector(f"[data-testid=cell-name]:has-text('{demo_cell['code']}')")
    assert db_reports(engine) == []

    page.reload()  # offline: the service worker opens the app, IndexedDB keeps the outbox
    page.wait_for_selector("nav.tabbar")
    page.click("[data-testid=tab-records]")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=outbox-list] [data-testid=outbox-item]').length === 3")
    assert [i["id"] for i in outbox_items(page)] == [i["id"] for i in items]
    assert blob_count(page) == 4

    phone.set_offline(False)  # the 'online' event starts a sync
    done = wait_outbox(page, lambda xs: len(xs) == 3 and all(x["state"] == "accepted" for x in xs),
                       what="three accepted")
    assert blob_count(page) == 0  # the photos left the phone only once the server had them
    rows = db_reports(engine)
    assert sorted(r["id"] for r in rows) == sorted(i["id"] for i in items)
    by_id = {r["id"]: r for r in rows}
    for item in done:
        row = by_id[item["id"]]
        assert row["photos"] == len(item["photos"])
        assert row["area_code"] == demo_cell["code"]
        assert row["location_source"] == "gps"
        assert item["server"]["number"] == row["number"]
        # the capture time travels with the report, not the time of sync
        assert row["captured_at"].isoformat(timespec="milliseconds") == \
            _as_utc(item["body"]["captured_at"])
    page.wait_for_selector("[data-testid=sent-list] [data-state=accepted]")
    numbers = {str(r["number"]) for r in rows}
    text_ = page.inner_text("[data-testid=sent-list]")
    assert all(n in text_ for n in numbers)


def test_back_online_with_the_first_reply_lost_sends_everything_within_ten_seconds(
        phone, worker_login, engine, jpegs):
    """The back-off built up offline is forgotten when the network returns, and a lost reply is
    tried again after the shortest wait, not at the next minute's tick."""
    page = _ready(phone, worker_login)
    lost = {"n": 0}

    def lose_first_reply(route):
        if route.request.method == "PUT" and lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # the server stores the report…
            route.abort("connectionreset")  # …and its answer is lost on the way
        else:
            route.continue_()

    phone.set_offline(True)
    page.wait_for_selector("[data-testid=netpill].off")
    for n in range(3):
        capture(page, [jpegs[2]], "E0101", f"恢复{n}")
    wait_outbox(page, lambda xs: [x["state"] for x in xs] == ["saved"] * 3, what="three saved")
    page.click("[data-testid=tab-records]")
    # offline, the pill and the sync line tell the same story
    page.wait_for_selector("[data-testid=netpill][data-kind=offline]:has-text('3 条待发')")
    page.wait_for_selector("[data-testid=sync-line][data-kind=offline]:has-text('3 条')")

    page.route("**/api/v1/reports/*", lose_first_reply)
    phone.set_offline(False)
    wait_outbox(page, lambda xs: len(xs) == 3 and all(x["state"] == "accepted" for x in xs),
                timeout_s=10, what="three accepted within 10 s of the network's return")
    assert lost["n"] == 1
    rows = db_reports(engine)
    assert len(rows) == 3 and all(r["photos"] == 1 for r in rows)
    page.wait_for_selector("[data-testid=netpill][data-kind=ok]")
    assert "待发" not in page.inner_text("[data-testid=netpill]")


def _as_utc(iso: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(iso).astimezone(UTC).isoformat(timespec="milliseconds")


def test_photo_upload_cut_off_midway_finishes_later_without_a_duplicate(
        phone, worker_login, engine, tmp_path):
    page = _ready(phone, worker_login)
    # photos under the tus threshold (64 KB) keep the plain, idempotent PUT cut here
    small = []
    for seed in (1, 2):
        small.append(tmp_path / f"small{seed}.jpg")
        small[-1].write_bytes(make_jpeg(320, 240, seed=seed))
    cut = {"n": 0}

    def cut_first_photo(route):
        if cut["n"] == 0:
            cut["n"] += 1
            route.fetch()  # the server receives and stores the photo…
            route.abort("connectionreset")  # …but the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/reports/*/photos/*", cut_first_photo)
    capture(page, small, "E0101", "断网")
    item = wait_outbox(page, lambda xs: xs and xs[0].get("retry"), what="a failed photo")[0]
    assert all(p["size"] < 64 * 1024 for p in item["photos"])
    assert item["state"] == "saved" and item["server"]["number"]
    assert not item["photos"][0]["sent"]
    sync_now(page)  # a manual tap ignores the back-off
    wait_outbox(page, lambda xs: xs[0]["state"] == "accepted", what="accepted")
    rows = db_reports(engine)
    assert len(rows) == 1 and rows[0]["photos"] == 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photos")).scalar() == 2
        added = conn.execute(text(
            "SELECT count(*) FROM case_events WHERE action = 'photo.added'")).scalar()
    assert added == 2
    assert cut["n"] == 1


@contextlib.contextmanager
def _temporary_category(engine, code: str):
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO categories (code, kind, major_code, major_name, major_name_en, minor_code,
                                    name, name_en, department_code, priority, time_limits)
            SELECT :code, kind, major_code, major_name, major_name_en, :minor,
                   '临时类别', 'Temporary class', department_code, priority, time_limits
              FROM categories WHERE code = 'E0101'"""), {"code": code, "minor": code[-2:]})
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM reports WHERE category_code = :c"), {"c": code})
            conn.execute(text("DELETE FROM categories WHERE code = :c"), {"c": code})


def test_report_the_server_rejects_shows_the_reason_and_can_be_fixed_and_sent_again(
        phone, worker_login, engine, jpegs):
    with _temporary_category(engine, "E0199"):
        page = _ready(phone, worker_login)  # the phone caches E0199 with the catalogue
        phone.set_offline(True)
        capture(page, [jpegs[2]], "E0199", "类别已停用")
        with engine.begin() as conn:  # meanwhile the class is withdrawn on the server
            conn.execute(text("DELETE FROM categories WHERE code = 'E0199'"))
        phone.set_offline(False)
        item = wait_outbox(page, lambda xs: xs and xs[0]["state"] == "rejected", what="rejected")[0]
        assert item["error"]["code"] == "report.unknown_category"
        assert item["error"]["status"] == 422
        page.click("[data-testid=tab-records]")
        state = page.locator("[data-testid=outbox-item] [data-testid=item-state]")
        assert "被退回" in state.inner_text() and "类别无效" in state.inner_text()
        assert "category" in page.inner_text("[data-testid=outbox-item] ul.fields")
        assert db_reports(engine) == []
        assert blob_count(page) == 1  # nothing dropped silently

        # edit: choose another class and send again
        page.click("[data-testid=edit-item]")
        page.wait_for_selector("[data-testid=editing]")
        page.click("[data-testid=category-button]")
        page.fill("#cat-search", "E0101")
        page.click("button.choice[data-code=E0101]")
        page.click("[data-testid=save-report]")
        done = wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "accepted",
                           what="the edited report accepted")
        rows = db_reports(engine)
        assert len(rows) == 1 and rows[0]["category_code"] == "E0101" and rows[0]["photos"] == 1
        assert rows[0]["description"] == "类别已停用"
        assert done[0]["id"] != item["id"]


def test_expired_login_asks_to_log_in_again_and_keeps_the_outbox(
        phone, worker_login, engine, jpegs):
    page = _ready(phone, worker_login)
    phone.set_offline(True)
    capture(page, [jpegs[2]], "E0101", "等待登录")
    with engine.begin() as conn:  # a lost phone: the admin revoked every token
        conn.execute(text("UPDATE api_tokens SET revoked_at = now() WHERE label = 'gridsnap PWA'"))
    phone.set_offline(False)
    page.wait_for_selector("[data-testid=login-expired]")
    items = outbox_items(page)
    assert len(items) == 1 and items[0]["state"] == "saved" and blob_count(page) == 1
    assert db_reports(engine) == []
    page.fill("#password", worker_login[1])
    page.click("button[type=submit]")
    wait_outbox(page, lambda xs: xs[0]["state"] == "accepted", what="accepted after login")
    assert len(db_reports(engine)) == 1


def test_every_screen_opens_offline_after_the_first_visit_in_either_language(phone, worker_login):
    """Only the capture screen is in the shell's chunk: every other screen, the map (Leaflet) and
    the English messages are chunks loaded when first shown. The service worker precached them
    all on the first visit, so with no network and nothing of them loaded yet (a reload), each
    screen opens, and English too."""
    page = _ready(phone, worker_login)
    phone.set_offline(True)
    page.reload()  # offline: only the shell is loaded, from the precache
    page.wait_for_selector("[data-testid=netpill].off")
    for tab, shown in (("records", "[data-testid=outbox-list]"),
                       ("tasks", "[data-testid=task-list]"),
                       ("dispute", "[data-testid=dispute-form]"),
                       ("map", "[data-testid=map] .leaflet-pane"),
                       ("settings", "[data-testid=lang-en]")):
        page.click(f"[data-testid=tab-{tab}]")
        page.wait_for_selector(shown, state="attached")  # (an empty list has no height)
        assert page.locator("[data-testid=load-failed]").count() == 0, tab
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("[data-testid=tab-records] .label:text-is('Outbox')")
    assert page.evaluate("document.documentElement.lang") == "en"
