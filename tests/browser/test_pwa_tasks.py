"""My tasks: a case waiting for my verification (核查) is cached with its photos, verified offline
(on-site photo + pass) and reaches the server once; a case that moved on meanwhile is shown as
refused, not retried; a verification queued before an app update is still sent."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
from sqlalchemy import text

from cases_helpers import act

from .pwa import (
    blob_count,
    login,
    make_resolved_case,
    wait_for_offline_data,
    wait_for_service_worker,
    wait_idb_count,
    wait_outbox,
)
from conftest import auth
from photo_samples import make_jpeg


@pytest.fixture()
def resolved_case(client, tokens, demo_cell, runtime):
    return make_resolved_case(client, tokens, demo_cell, runtime)


def _open_task_offline(phone, worker_login, case_id):
    page = phone.new_page()
    login(page, *worker_login)
    wait_for_offline_data(page)
    wait_for_service_worker(page)
    page.click("[data-testid=tab-tasks]")
    page.wait_for_selector("[data-testid=task-link]")
    # the photos a verification needs are kept on the phone: thumb and display size
    wait_idb_count(page, "taskPhotos", 2)
    phone.set_offline(True)
    page.reload()
    page.wait_for_selector("nav.tabbar")
    page.click("[data-testid=tab-tasks]")
    page.click("[data-testid=task-link]")
    page.wait_for_selector("[data-testid=submit-verification]")
    page.wait_for_selector(".photos img")  # from the cache, offline
    return page


def _verify(page, tmp_path, result="verify_pass"):
    photo = tmp_path / "onsite.jpg"
    photo.write_bytes(make_jpeg(1024, 768, seed=11))
    page.set_input_files("[data-testid=verify-photo-input]", str(photo))
    page.wait_for_selector(".task-detail .thumbs li")
    page.check(f"[data-testid={result}]")
    page.fill("#verify-note", "现场已清理")
    page.click("[data-testid=submit-verification]")
    page.wait_for_selector("[data-testid=verification-state]")


def test_verification_done_offline_reaches_the_server_once(
        phone, worker_login, engine, resolved_case, tmp_path):
    page = _open_task_offline(phone, worker_login, resolved_case)
    _verify(page, tmp_path)
    items = wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "saved",
                        what="the verification saved")
    assert items[0]["kind"] == "action" and items[0]["body"]["action"] == "verify_pass"

    phone.set_offline(False)
    done = wait_outbox(page, lambda xs: xs[0]["state"] == "accepted", what="verification sent")
    assert blob_count(page) == 0
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM reports WHERE id = :id"),
                              {"id": resolved_case}).scalar()
        verified = conn.execute(text(
            "SELECT count(*) FROM case_events WHERE report_id = :id AND client_action_id = :a"
        ), {"id": resolved_case, "a": done[0]["id"]}).scalar()
        photos = conn.execute(text(
            "SELECT count(*) FROM photos WHERE report_id = :id AND id = :pid"),
            {"id": resolved_case, "pid": done[0]["photos"][0]["id"]}).scalar()
    assert status == "closed"
    assert verified == 1
    assert photos == 1
    # the task left the list
    page.click("[data-testid=tab-tasks]")
    page.wait_for_selector("[data-testid=tasks-empty]")


def test_verification_of_a_case_that_moved_on_is_shown_refused_not_retried(
        phone, worker_login, client, tokens, resolved_case, tmp_path):
    page = _open_task_offline(phone, worker_login, resolved_case)
    _verify(page, tmp_path)
    act(client, tokens, "supervisor", resolved_case, "close")  # meanwhile, from the desk
    phone.set_offline(False)
    item = wait_outbox(page, lambda xs: xs[0]["state"] == "rejected", what="refused")[0]
    assert item["error"]["status"] == 409 and item["error"]["code"] == "case.invalid_transition"
    assert "案件状态已变化" in page.inner_text("[data-testid=verification-state]")


# The phone's database as the previous app version left it (IndexedDB version 1), with a
# verification queued under the old outbox kind 'verification' and its photo's bytes.
_OLD_PHONE = """async ({ session, item, photoB64 }) => {
    const db = await new Promise((ok, no) => {
        const r = indexedDB.open('gridsnap', 1);
        r.onupgradeneeded = () => {
            const d = r.result;
            d.createObjectStore('kv');
            d.createObjectStore('cells', { keyPath: 'code' });
            d.createObjectStore('outbox', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
            d.createObjectStore('blobs');
            d.createObjectStore('reports', { keyPath: 'id' });
            d.createObjectStore('tasks', { keyPath: 'id' });
            d.createObjectStore('taskPhotos');
        };
        r.onsuccess = () => ok(r.result);
        r.onerror = () => no(r.error);
    });
    const bytes = Uint8Array.from(atob(photoB64), (c) => c.charCodeAt(0));
    const tx = db.transaction(['kv', 'outbox', 'blobs'], 'readwrite');
    tx.objectStore('kv').put(session, 'session');
    tx.objectStore('outbox').put(item);
    tx.objectStore('blobs').put(new Blob([bytes], { type: 'image/jpeg' }), item.photos[0].id);
    await new Promise((ok, no) => { tx.oncomplete = ok; tx.onerror = () => no(tx.error); });
    db.close();
    return true;
}"""


def test_verification_queued_before_the_update_is_still_sent(
        phone, worker_login, client, tokens, demo_cell, engine, resolved_case):
    r = client.post("/api/v1/auth/token", json={"username": worker_login[0],
                                                "password": worker_login[1], "label": "test"})
    token = r.get_json()
    number = client.get("/api/v1/me/tasks", headers=auth(tokens["worker"])).get_json()[0]["number"]
    photo = make_jpeg(800, 600, seed=5)
    now_ms = int(time.time() * 1000)
    item = {
        "id": str(uuid.uuid4()), "kind": "verification", "user": worker_login[0],
        "createdAt": now_ms, "updatedAt": now_ms, "state": "saved",
        "body": {"case_id": resolved_case, "case_number": number, "action": "verify_pass",
                 "note": "现场已清理",
                 "location": {"lon": demo_cell["lon"], "lat": demo_cell["lat"], "accuracy_m": 8}},
        "photos": [{"id": str(uuid.uuid4()), "size": len(photo), "width": 800, "height": 600,
                    "type": "image/jpeg", "sent": False}],
    }
    session = {"token": token["token"], "expires_at": token["expires_at"], "user": token["user"],
               "expired": False, "at": now_ms}
    page = phone.new_page()
    page.goto("/api/v1")  # the app's origin, before the app opens its database
    page.evaluate(_OLD_PHONE, {"session": session, "item": item,
                               "photoB64": base64.b64encode(photo).decode()})

    page.goto("/")  # the new version: its database upgrade renames the kind, its sync sends it
    page.wait_for_selector("nav.tabbar")
    done = wait_outbox(page, lambda xs: len(xs) == 1 and xs[0]["state"] == "accepted",
                       what="the old verification sent")[0]
    assert done["id"] == item["id"]
    assert done["kind"] == "action" and done["body"]["action"] == "verify_pass"
    assert blob_count(page) == 0
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM reports WHERE id = :id"),
                              {"id": resolved_case}).scalar()
        verified = conn.execute(text(
            "SELECT count(*) FROM case_events WHERE report_id = :id AND client_action_id = :a"
        ), {"id": resolved_case, "a": item["id"]}).scalar()
    assert (status, verified) == ("closed", 1)
