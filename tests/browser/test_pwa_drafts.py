"""Saved drafts (like ODK's saved forms): several unfinished reports kept on the phone, listed
offline after a reload, one finished and sent, one deleted."""

from __future__ import annotations

import pytest

from .a11y import assert_accessible
from .pwa import (
    db_reports,
    idb_count,
    login,
    wait_for_idb,
    wait_for_offline_data,
    wait_for_service_worker,
    wait_outbox,
)
from photo_samples import make_jpeg

_DRAFTS = """async () => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const rows = await new Promise((ok) => { const q = db.transaction('drafts')
        .objectStore('drafts').getAll(); q.onsuccess = () => ok(q.result); });
    db.close();
    return rows.map((d) => ({ id: d.id, description: d.description, category: d.category,
                              photos: d.photos.length }));
}"""


@pytest.fixture()
def photos(tmp_path):
    out = []
    for i in range(3):
        path = tmp_path / f"d{i}.jpg"
        path.write_bytes(make_jpeg(800, 600, seed=20 + i))
        out.append(path)
    return out


def _add_photo(page, photo, n):
    page.set_input_files("[data-testid=camera-input]", str(photo))
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=draft-photos] li').length === {n}")


def _pick_category(page, code):
    page.click("[data-testid=category-button]")
    page.fill("#cat-search", code)
    page.click(f"button.choice[data-code={code}]")


def test_two_drafts_survive_an_offline_reload_one_is_finished_and_sent_one_deleted(
        phone, worker_login, engine, photos):
    page = phone.new_page()
    page.on("dialog", lambda d: d.accept())  # the delete asks first
    login(page, *worker_login)
    wait_for_offline_data(page)
    wait_for_service_worker(page)
    phone.set_offline(True)
    page.wait_for_selector("[data-testid=netpill].off")

    # the first: a photo, a category and a note, kept for later
    page.click("[data-testid=tab-capture]")
    _add_photo(page, photos[0], 1)
    _pick_category(page, "E0101")
    page.fill("#description", "第一份草稿")
    page.click("[data-testid=keep-draft]")
    page.wait_for_function("document.querySelectorAll('[data-testid=draft-photos] li').length === 0")
    page.wait_for_selector("[data-testid=drafts-link]:has-text('1')")
    # the second: two photos and a note, no category yet, left open on the screen
    _add_photo(page, photos[1], 1)
    _add_photo(page, photos[2], 2)
    page.fill("#description", "第二份草稿")
    wait_for_idb(page, _DRAFTS, lambda ds: sorted(d["description"] for d in ds)
                 == ["第一份草稿", "第二份草稿"], what="two drafts stored")

    page.reload()  # offline: the service worker opens the app, IndexedDB keeps the drafts
    page.wait_for_selector("nav.tabbar")
    # the open one comes back as it was; the other is a tap away
    page.wait_for_function("document.querySelectorAll('[data-testid=draft-photos] li').length === 2")
    assert page.input_value("#description") == "第二份草稿"
    page.click("[data-testid=drafts-link]")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=draft-list] [data-testid=draft-item]').length === 2")
    listed = page.inner_text("[data-testid=draft-list]")
    assert "第一份草稿" in listed and "第二份草稿" in listed
    assert page.locator("[data-testid=tab-capture][aria-current=page]").count() == 1
    assert_accessible(page, "drafts")

    # finish the second: reopen it, choose the category, save to the outbox
    second = page.locator("[data-testid=draft-item]", has_text="第二份草稿")
    second.locator("[data-testid=open-draft]").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=draft-photos] li').length === 2")
    _pick_category(page, "C0101")
    page.click("[data-testid=save-report]")
    page.wait_for_function("document.querySelectorAll('[data-testid=draft-photos] li').length === 0")
    items = wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "saved", what="one saved")
    assert items[0]["body"]["description"] == "第二份草稿" and len(items[0]["photos"]) == 2

    # delete the first from the list
    page.click("[data-testid=drafts-link]")
    page.wait_for_selector("[data-testid=draft-item]:has-text('第一份草稿')")
    page.locator("[data-testid=draft-item]", has_text="第一份草稿") \
        .locator("[data-testid=delete-draft]").click()
    page.wait_for_selector("[data-testid=drafts-empty]")
    assert idb_count(page, "drafts") == 0

    phone.set_offline(False)  # the finished one is sent, once, with its photos
    wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "accepted", what="accepted")
    rows = db_reports(engine)
    assert [(r["description"], r["category_code"], r["photos"]) for r in rows] == \
        [("第二份草稿", "C0101", 2)]
