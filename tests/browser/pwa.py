"""Steps a grid worker takes in the PWA, shared by the browser tests and the benchmark."""

from __future__ import annotations

import json
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import text


def login(page, username: str, password: str) -> None:
    page.goto("/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.tabbar")


def command_login(page, username: str, password: str, lang: str | None = None) -> None:
    """Logs a supervisor or call-taker into the command centre, in `lang` when given."""
    page.goto("/")
    if lang is not None:
        page.evaluate(f"() => localStorage.setItem('gridsnap.lang', '{lang}')")
        page.goto("/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=command]")


# IndexedDB has no change event a test could wait on, and wait_for_function cannot await a
# Promise (it takes the pending Promise itself for truthy). The app announces every change it
# makes on its BroadcastChannel "gridsnap" (outbox, tasks, task photos, categories, cells, sync),
# from the page and from the service worker alike: a second channel in the page counts these
# notices, and a wait reads the database again after each one.
_CHANGES = """() => {
    if (!window.__gridsnapChanges) {
        const w = { n: 0, channel: new BroadcastChannel('gridsnap') };
        w.channel.onmessage = () => { w.n += 1; };
        window.__gridsnapChanges = w;
    }
    return window.__gridsnapChanges.n;
}"""


def wait_for_idb(page, read: str, predicate=bool, timeout_s: float = 20, what: str = "a condition",
                 arg=None):
    """Evaluates the async script `read` (with arg) until predicate(its value) holds, reading
    again after every change the app announces; returns the value. Raises AssertionError with the
    last value after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = page.evaluate(_CHANGES)
        value = page.evaluate(read, arg)
        if predicate(value):
            return value
        left_ms = (deadline - time.monotonic()) * 1000
        try:
            if left_ms <= 0:
                raise PlaywrightTimeoutError("no time left")
            # a reload drops the counter: read again (the next round installs it anew)
            page.wait_for_function(
                "(seen) => !window.__gridsnapChanges || window.__gridsnapChanges.n > seen",
                arg=seen, timeout=left_ms)
        except PlaywrightTimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}: {json.dumps(value, default=str)[:2000]}") from None


_COUNT = """async (store) => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const n = await new Promise((ok) => { const q = db.transaction(store)
        .objectStore(store).count(); q.onsuccess = () => ok(q.result); });
    db.close();
    return n;
}"""


def idb_count(page, store: str) -> int:
    return page.evaluate(_COUNT, store)


def wait_for_offline_data(page, timeout_s: float = 20) -> None:
    """Until the first sync cached the categories and the scope's cells on the phone."""
    wait_for_idb(page, """async () => {
        const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
            r.onsuccess = () => ok(r.result); r.onerror = no; });
        const count = (store) => new Promise((ok) => {
            const q = db.transaction(store).objectStore(store).count(); q.onsuccess = () => ok(q.result); });
        const cats = await new Promise((ok) => { const q = db.transaction('kv').objectStore('kv')
            .get('categories'); q.onsuccess = () => ok(q.result); });
        const cells = await count('cells');
        db.close();
        return cats && cats.length > 0 && cells > 0;
    }""", timeout_s=timeout_s, what="categories and cells on the phone")


def wait_for_service_worker(page, timeout_s: float = 20) -> None:
    """Until the service worker is active: the shell is precached, the next load works offline.

    (The page itself may stay uncontrolled when it loaded while the worker was installing; a
    navigation, even offline, goes to the active worker all the same.)
    """
    page.evaluate("""async (timeoutMs) => {
        const activated = navigator.serviceWorker.ready.then((r) => r.active.state === 'activated'
            || new Promise((ok) => r.active.addEventListener('statechange', (e) => {
                if (e.target.state === 'activated') ok(true);
            })));
        const late = new Promise((ok, no) => setTimeout(
            () => no(new Error('the service worker did not become active')), timeoutMs));
        return Promise.race([activated, late]);
    }""", timeout_s * 1000)


def capture(page, photos: list[Path], category: str, description: str = "") -> None:
    """Photo first, then the category, a few words, save. The position is the browser's."""
    page.click("[data-testid=tab-capture]")
    before = page.locator("[data-testid=draft-photos] li").count()
    for n, photo in enumerate(photos, start=before + 1):  # one shot at a time, like a camera
        page.set_input_files("[data-testid=camera-input]", str(photo))
        page.wait_for_function(
            "(n) => document.querySelectorAll('[data-testid=draft-photos] li').length >= n", arg=n)
    page.click("[data-testid=category-button]")
    page.fill("#cat-search", category)
    page.click(f"button.choice[data-code={category}]")
    if description:
        page.fill("#description", description)
    page.wait_for_selector("[data-testid=save-report]:not([disabled])")
    page.click("[data-testid=save-report]")
    # waits are functions, not bare expressions: Playwright eval()s an expression in the page,
    # which the front server's CSP (no 'unsafe-eval') refuses; a function it sends compiled
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=draft-photos] li').length === 0")


_OUTBOX = """async () => {
    const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    const items = await new Promise((ok) => { const q = db.transaction('outbox')
        .objectStore('outbox').getAll(); q.onsuccess = () => ok(q.result); });
    db.close();
    return items;
}"""


def outbox_items(page) -> list[dict]:
    """The outbox as stored in IndexedDB."""
    return page.evaluate(_OUTBOX)


def blob_count(page) -> int:
    return idb_count(page, "blobs")


def wait_outbox(page, predicate, timeout_s: float = 30, what: str = "outbox state") -> list[dict]:
    """The outbox as stored in IndexedDB, once predicate(items) holds."""
    return wait_for_idb(page, _OUTBOX, predicate, timeout_s, what)


def wait_idb_count(page, store: str, at_least: int, timeout_s: float = 20) -> int:
    """Until the IndexedDB store holds at least that many records; returns the count."""
    return wait_for_idb(page, _COUNT, lambda n: n >= at_least, timeout_s,
                        f"{at_least} records in {store}", arg=store)


def sync_now(page) -> None:
    page.click("[data-testid=tab-records]")
    page.click("[data-testid=sync-now]")


def db_reports(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("""
            SELECT r.id::text AS id, r.number, r.category_code, r.description, r.area_code,
                   r.location_source, r.captured_at,
                   (SELECT count(*) FROM photos p WHERE p.report_id = r.id) AS photos
              FROM reports r ORDER BY r.number""")).mappings()]


def make_resolved_case(client, tokens, demo_cell, runtime) -> str:
    """A case the worker reported, dispatched and handled with an after-photo: it waits for the
    worker's verification (核查), its photo sizes made. Returns the case id."""
    from cases_helpers import act, evidence, submit

    from .command import photo_ready
    from conftest import auth

    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    photo = evidence(client, tokens, "handler", cid, "resolution")
    act(client, tokens, "handler", cid, "resolve", photo_ids=[photo], note="已清运")
    photo_ready(client, tokens, runtime, photo)  # the follow-up makes the thumbnail and display
    r = client.get("/api/v1/me/tasks", headers=auth(tokens["worker"]))
    assert [t["id"] for t in r.get_json()] == [cid]
    return cid
