"""My reports on the worker's map: the outbox's waiting report and the cases the server returned,
each marked by where it stands, with a legend that counts them, in Chinese and in English."""

from __future__ import annotations

from cases_helpers import act, submit

from .a11y import assert_accessible
from .pwa import (
    capture,
    login,
    wait_for_idb,
    wait_for_offline_data,
    wait_for_service_worker,
    wait_outbox,
)
from photo_samples import make_jpeg

# pixels of this exact colour (±3 a channel) on Leaflet's canvas: the marks' fills and rings
# (colours no cell outline uses: purple 已立案, orange 处置中, the dashed ring of 待发送)
_HAS_COLOUR = """([r, g, b]) => {
    const c = document.querySelector('.leaflet-overlay-pane canvas');
    if (!c || !c.width) return false;
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] === 255 && Math.abs(px[i] - r) <= 3 && Math.abs(px[i + 1] - g) <= 3
            && Math.abs(px[i + 2] - b) <= 3) return true;
    }
    return false;
}"""
ACCEPTED, HANDLING, WAITING = (0x6A, 0x1B, 0x9A), (0xEF, 0x6C, 0x00), (0xB3, 0x5C, 0x00)

_REPORTS = """async () => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const rows = await new Promise((ok) => { const q = db.transaction('reports')
        .objectStore('reports').getAll(); q.onsuccess = () => ok(q.result); });
    db.close();
    return rows.map((r) => r.status).sort();
}"""


def _legend(page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '[data-testid=map-legend] li[data-group]')].map((li) => [li.dataset.group, li.textContent.replace(/\\s+/g, ' ').trim()]))""")


def test_my_reports_are_marked_on_the_map_by_status_with_a_legend_in_both_languages(
        phone, worker_login, client, tokens, runtime, demo_cell, tmp_path):
    # two of my reports the server has, 300 m apart: one accepted (立案), one dispatched (处置中)
    north = {"lon": demo_cell["lon"], "lat": demo_cell["lat"] + 0.0027, "accuracy_m": 8.0}
    south = {"lon": demo_cell["lon"], "lat": demo_cell["lat"] - 0.0027, "accuracy_m": 8.0}
    accepted = submit(client, tokens, demo_cell, runtime, location=north)
    act(client, tokens, "supervisor", accepted, "accept")
    handling = submit(client, tokens, demo_cell, runtime, location=south)
    act(client, tokens, "supervisor", handling, "accept")
    act(client, tokens, "supervisor", handling, "dispatch")

    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    wait_for_service_worker(page)
    wait_for_idb(page, _REPORTS, lambda s: s == ["accepted", "dispatched"], what="my reports pulled")

    # and one captured offline, waiting in the outbox (at the GPS fix, the cell's centre)
    photo = tmp_path / "p.jpg"
    photo.write_bytes(make_jpeg(640, 480, seed=31))
    phone.set_offline(True)
    page.wait_for_selector("[data-testid=netpill].off")
    capture(page, [photo], "E0101", "待发送的上报")
    wait_outbox(page, lambda xs: [x["state"] for x in xs] == ["saved"], what="one saved")

    page.click("[data-testid=tab-map]")
    page.wait_for_selector("[data-testid=map-legend] li[data-group=waiting]")
    assert _legend(page) == {"waiting": "待发送 1", "accepted": "已立案 1", "handling": "处置中 1"}
    for colour in (ACCEPTED, HANDLING, WAITING):
        page.wait_for_function(_HAS_COLOUR, arg=list(colour))
    assert_accessible(page, "zh map with my reports")

    # English, after an offline reload: the same marks and legend, from IndexedDB
    page.evaluate("localStorage.setItem('gridsnap.lang', 'en')")
    page.reload()
    page.wait_for_selector("[data-testid=map-legend] li[data-group=handling]")
    assert _legend(page) == {"waiting": "Waiting to send 1", "accepted": "Accepted 1",
                             "handling": "Being handled 1"}
    for colour in (ACCEPTED, HANDLING, WAITING):
        page.wait_for_function(_HAS_COLOUR, arg=list(colour))
    assert_accessible(page, "en map with my reports")
