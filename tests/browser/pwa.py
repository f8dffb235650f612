"""Steps a grid worker takes in the PWA, shared by the browser tests and the benchmark."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import text


def login(page, username: str, password: str) -> None:
    page.goto("/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.tabbar")


def poll(page, script: str, timeout_s: float = 20, what: str = "a condition"):
    """Evaluates an async script until it returns something truthy (wait_for_function would
    take the pending Promise itself for truthy)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(150)


def idb_count(page, store: str) -> int:
    return page.evaluate("""async (store) => {
        const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
            r.onsuccess = () => ok(r.result); r.onerror = no; });
        const n = await new Promise((ok) => { const q = db.transaction(store)
            .objectStore(store).count(); q.onsuccess = () => ok(q.result); });
        db.close();
        return n;
    }""", store)


def wait_for_offline_data(page, timeout_s: float = 20) -> None:
    """Until the first sync cached the categories and the scope's cells on the phone."""
    poll(page, """async () => {
        const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
            r.onsuccess = () => ok(r.result); r.onerror = no; });
        const count = (store) => new Promise((ok) => {
            const q = db.transaction(store).objectStore(store).count(); q.onsuccess = () => ok(q.result); });
        const cats = await new Promise((ok) => { const q = db.transaction('kv').objectStore('kv')
            .get('categories'); q.onsuccess = () => ok(q.result); });
        const cells = await count('cells');
        db.close();
        return cats && cats.length > 0 && cells > 0;
    }""", timeout_s, "categories and cells on the phone")


def wait_for_service_worker(page) -> None:
    """Until the service worker is active: the shell is precached, the next load works offline.

    (The page itself may stay uncontrolled when it loaded while the worker was installing; a
    navigation, even offline, goes to the active worker all the same.)
    """
    poll(page, """async () => {
        const r = await navigator.serviceWorker.getRegistration();
        return !!(r && r.active && r.active.state === 'activated');
    }""", 20, "the service worker to be active")


def capture(page, photos: list[Path], category: str, description: str = "") -> None:
    """Photo first, then the category, a few words, save. The position is the browser's."""
    page.click("[data-testid=tab-capture]")
    before = page.locator("[data-testid=draft-photos] li").count()
    for n, photo in enumerate(photos, start=before + 1):  # one shot at a time, like a camera
        page.set_input_files("[data-testid=camera-input]", str(photo))
        page.wait_for_function(
            f"document.querySelectorAll('[data-testid=draft-photos] li').length >= {n}")
    page.click("[data-testid=category-button]")
    page.fill("#cat-search", category)
    page.click(f"button.choice[data-code={category}]")
    if description:
        page.fill("#description", description)
    page.wait_for_selector("[data-testid=save-report]:not([disabled])")
    page.click("[data-testid=save-report]")
    page.wait_for_function("document.querySelectorAll('[data-testid=draft-photos] li').length === 0")


def outbox_items(page) -> list[dict]:
    """The outbox as stored in IndexedDB."""
    return page.evaluate("""async () => {
        const db = await new Promise((ok, no) => { const r = indexedDB.open('gridsnap');
            r.onsuccess = () => ok(r.result); r.onerror = no; });
        const items = await new Promise((ok) => { const q = db.transaction('outbox')
            .objectStore('outbox').getAll(); q.onsuccess = () => ok(q.result); });
        db.close();
        return items;
    }""")


def blob_count(page) -> int:
    return idb_count(page, "blobs")


def wait_outbox(page, predicate, timeout_s: float = 30, what: str = "outbox state") -> list[dict]:
    deadline = time.monotonic() + timeout_s
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = outbox_items(page)
        if predicate(items):
            return items
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}: {json.dumps(items, default=str)[:2000]}")


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

    from conftest import auth
    from followup import drain

    cid = submit(client, tokens, demo_cell, runtime)
    act(client, tokens, "supervisor", cid, "accept")
    act(client, tokens, "supervisor", cid, "dispatch")
    act(client, tokens, "handler", cid, "sign")
    photo = evidence(client, tokens, "handler", cid, "resolution")
    act(client, tokens, "handler", cid, "resolve", photo_ids=[photo], note="已清运")
    deadline = time.monotonic() + 20
    while True:  # the follow-up makes the thumbnail and display sizes
        drain(runtime)
        r = client.get(f"/api/v1/photos/{photo}?size=display", headers=auth(tokens["worker"]))
        if r.status_code == 200:
            break
        assert r.status_code == 409 and time.monotonic() < deadline, r.get_json()
        time.sleep(0.2)
    r = client.get("/api/v1/me/tasks", headers=auth(tokens["worker"]))
    assert [t["id"] for t in r.get_json()] == [cid]
    return cid
