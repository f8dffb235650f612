"""The worker's app in a real street, on a 360 × 640 phone: queued reports told apart in the
outbox, the Records tab opening at its top with "Sync now" in view, the category and the reason
Save is grey never under the sticky Save bar, the before and after photos of a verification
labelled, a "will be sent" toast gone once it was sent, and the pill saying offline when it is."""

from __future__ import annotations

from cases_helpers import evidence

from .a11y import assert_accessible
from .pwa import (
    capture,
    login,
    make_resolved_case,
    wait_for_offline_data,
    wait_for_service_worker,
    wait_idb_count,
    wait_outbox,
)
from followup import drain
from photo_samples import make_jpeg

_IN_VIEW = """(sel) => {
    const el = document.querySelector(sel);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
}"""

# the pill's every text from now on, and the data-kind it had (a MutationObserver: a transient
# "syncing" is caught, not only the last state)
_WATCH_PILL = """() => {
    const pill = document.querySelector('[data-testid=netpill]');
    window.__pill = [pill.dataset.kind + '|' + pill.innerText];
    new MutationObserver(() => window.__pill.push(pill.dataset.kind + '|' + pill.innerText))
        .observe(pill, { attributes: true, childList: true, subtree: true, characterData: true });
}"""


def _photos(tmp_path, n):
    out = []
    for i in range(n):
        p = tmp_path / f"street{i}.jpg"
        p.write_bytes(make_jpeg(800, 600, seed=40 + i))
        out.append(p)
    return out


def test_queued_reports_are_told_apart_and_records_opens_at_its_top_offline(
        phone, worker_login, demo_cell, tmp_path):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    wait_for_service_worker(page)
    phone.set_offline(True)
    notes = ["垃圾桶满溢，东侧路口北边第二个", "人行道上有碎玻璃，靠近公交站",
             "绿化带里堆着建筑垃圾，约两立方"]
    for photo, note in zip(_photos(tmp_path, 3), notes, strict=True):
        capture(page, [photo], "E0101", note)
    wait_outbox(page, lambda xs: len(xs) == 3, what="three reports saved")
    page.wait_for_selector("[data-testid=netpill][data-kind=offline]")
    pill = page.inner_text("[data-testid=netpill]")
    assert "离线" in pill and "3" in pill and "同步中" not in pill and "正在同步" not in pill

    # the capture screen scrolled down, as a worker leaves it; then the Records tab
    page.evaluate("() => document.getElementById('main').scrollTo(0, 5000)")
    assert page.evaluate("() => document.getElementById('main').scrollTop") > 0
    page.click("[data-testid=tab-records]")
    page.wait_for_selector("[data-testid=outbox-item]")
    page.wait_for_function("() => document.getElementById('main').scrollTop === 0")
    assert page.evaluate(_IN_VIEW, "[data-testid=sync-now]"), "Sync now is out of view"

    items = page.locator("[data-testid=outbox-list] [data-testid=outbox-item]")
    assert items.count() == 3
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=outbox-list] img[data-testid=outbox-thumb]')"
        ".length === 3")
    shown = [items.nth(i).inner_text() for i in range(3)]
    assert len(set(shown)) == 3, shown  # no two alike
    for note in notes:  # each with its own words (their start), newest first
        assert sum(note[:8] in text for text in shown) == 1, (note, shown)
    for text in shown:
        assert demo_cell["name"] in text  # the cell, found on the phone offline
    times = [items.nth(i).locator("[data-testid=outbox-time]").inner_text() for i in range(3)]
    assert all(t.strip() for t in times)
    assert_accessible(page, "records offline with three queued")


def test_after_the_first_photo_the_category_and_why_save_is_grey_are_in_view(
        phone, worker_login, tmp_path):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    page.click("[data-testid=tab-capture]")
    page.set_input_files("[data-testid=camera-input]", str(_photos(tmp_path, 1)[0]))
    page.wait_for_selector("[data-testid=draft-photos] li")
    assert page.is_disabled("[data-testid=save-report]")
    # the reason is next to the grey Save, in view, and names what is missing
    reason = page.wait_for_selector("[data-testid=save-block] [data-testid=save-reason]")
    assert "类别" in reason.inner_text()
    assert page.evaluate(_IN_VIEW, "[data-testid=save-reason]")
    # the category button is not under the Save bar
    page.wait_for_function("""() => {
        const cat = document.querySelector('[data-testid=category-button]').getBoundingClientRect();
        const bar = document.querySelector('[data-testid=save-block]').getBoundingClientRect();
        const main = document.getElementById('main').getBoundingClientRect();
        return cat.top >= main.top && cat.bottom <= bar.top;
    }""")
    page.click("[data-testid=category-button]")  # a real click: nothing on top of it
    page.fill("#cat-search", "E0101")
    page.click("button.choice[data-code=E0101]")
    page.wait_for_selector("[data-testid=save-report]:not([disabled])")
    assert page.locator("[data-testid=save-reason]").count() == 0
    assert_accessible(page, "capture after the first photo")
    # saved: the toast says so without covering the buttons at the bottom
    phone.set_offline(True)  # it stays "will be sent", and on screen
    page.click("[data-testid=save-report]")
    page.wait_for_selector(".toast")
    assert not page.evaluate("""() => {
        const a = document.querySelector('.toast').getBoundingClientRect();
        return [...document.querySelectorAll('#main button, nav.tabbar a')].some((el) => {
            const b = el.getBoundingClientRect();
            return b.width && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        });
    }"""), "the toast covers a button"


def test_verification_labels_before_and_after_and_the_toast_goes_once_sent(
        phone, worker_login, client, tokens, demo_cell, runtime, tmp_path):
    cid = make_resolved_case(client, tokens, demo_cell, runtime)
    evidence(client, tokens, "worker", cid, "report", seed=8)  # the reporter's "before" photo
    drain(runtime)
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    page.click("[data-testid=tab-tasks]")
    page.click("[data-testid=task-link]")
    wait_idb_count(page, "taskPhotos", 4)
    before = page.wait_for_selector("[data-testid=task-photos-report]")
    after = page.wait_for_selector("[data-testid=task-photos-resolution]")
    assert "处置前" in before.inner_text() and "处置后" in after.inner_text()
    # the photo itself is drawn once it is read from the phone's store: wait for it
    shown = before.wait_for_selector("img, [role=img]")
    assert "处置前" in shown.get_attribute(
        "alt" if shown.evaluate("e => e.tagName") == "IMG" else "aria-label")
    assert_accessible(page, "verification with before and after")

    photo = tmp_path / "onsite.jpg"
    photo.write_bytes(make_jpeg(1024, 768, seed=12))
    page.set_input_files("[data-testid=verify-photo-input]", str(photo))
    page.wait_for_selector(".task-detail .thumbs li")
    page.check("[data-testid=verify_pass]")
    page.click("[data-testid=submit-verification]")
    # online it is sent at once; the "will be sent" toast goes in the same render that shows it
    # sent (its own 4 s are long past the send on this link)
    page.wait_for_selector("[data-testid=verification-state] [data-state=accepted]")
    assert page.locator(".toast").count() == 0


def test_the_pill_says_offline_while_a_round_runs_with_no_network(
        phone, worker_login, tmp_path):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    phone.set_offline(True)
    page.wait_for_selector("[data-testid=netpill][data-kind=offline]")
    page.evaluate(_WATCH_PILL)
    capture(page, _photos(tmp_path, 1), "E0101", "离线保存")  # the save starts a round
    wait_outbox(page, lambda xs: len(xs) == 1, what="saved")
    page.click("[data-testid=tab-records]")
    page.click("[data-testid=sync-now]")  # and so does the button
    page.wait_for_selector("[data-testid=sync-now]:not([disabled])")
    seen = page.evaluate("() => window.__pill")
    assert seen and all(p.startswith("offline|") for p in seen), seen
    assert all("正在同步" not in p for p in seen), seen
