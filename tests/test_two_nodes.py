"""A small drill of deploy/multi-node.md on one machine: two API nodes (gunicorn, each with a
state folder of its own) behind nginx round-robin, sharing PostgreSQL, Redis, an S3 server
(SeaweedFS, the drill's own) and the uploads folder. Reports and photos (by tus, each PATCH
landing on either node) are sent while one node is killed, then while the S3 server is away:
nothing acknowledged is lost, no answer is a 500 (503 at most), an upload started before the
kill finishes on the other node, reports are taken during the store's outage and the photos
refused meanwhile arrive once it is back."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from drills import Figures, n_scaled, record
from gridsnap.devservices import LocalSeaweed
from gridsnap.settings import LOCAL_S3_ACCESS_KEY, LOCAL_S3_SECRET_KEY
from gridsnap.storage import open_store, original_key
from gridsnap.supervise import free_port

from conftest import auth, new_id, report_body
from live_stack import nginx_in_front, request, server_env, wait_until
from photo_samples import make_jpeg

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture()
def s3_server(tmp_path):
    """An S3 server of the drill's own: it is stopped and started again."""
    server = LocalSeaweed(port=free_port(), root=tmp_path / "s3")
    server.start()
    yield server
    server.stop()


def _node(settings, root: Path, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    root.mkdir(parents=True)
    log = (root / "api.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--no-control-socket", "--worker-class", "gridsnap.serving.JsonErrorsWorker",
         "gridsnap.wsgi:app"],
        env={**server_env(settings), **env, "GRIDSNAP_VAR_DIR": str(root),
             "GRIDSNAP_MEDIA_DIR": str(root / "media")},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, port


def _kill(proc: subprocess.Popen) -> None:
    """The whole node at once (its master and workers), as a machine that goes away."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _until_acknowledged(send, seen: list[int]):
    """`send()` until it is acknowledged; every status is kept. 503 (a node going away, nginx's
    or the API's own answer) is what a phone retries; anything 5xx else fails the drill."""
    def attempt():
        try:
            status, headers, body = send()
        except OSError:
            seen.append(0)
            return None
        seen.append(status)
        return (status, headers, body) if status < 500 else None
    return wait_until(attempt, 60, "an acknowledgement", every=0.1)


def test_two_api_nodes_behind_nginx_one_killed_nothing_acknowledged_lost(
        settings, s3_server, tokens, demo_cell, engine, tmp_path):
    options = {"endpoint_url": s3_server.endpoint, "access_key_id": LOCAL_S3_ACCESS_KEY,
               "secret_access_key": LOCAL_S3_SECRET_KEY}
    spec = "s3://drill/photos"
    store = open_store(spec, options)
    store.create_bucket()
    env = {"GRIDSNAP_PHOTO_STORE": spec, "AWS_ENDPOINT_URL": options["endpoint_url"],
           "AWS_ACCESS_KEY_ID": options["access_key_id"],
           "AWS_SECRET_ACCESS_KEY": options["secret_access_key"], "AWS_REGION": "us-east-1",
           "GRIDSNAP_UPLOAD_DIR": str(tmp_path / "shared-uploads")}
    (a, port_a), (b, port_b) = (_node(settings, tmp_path / n, env) for n in ("a", "b"))
    token = auth(tokens["worker"])
    seen: list[int] = []
    reports, photos = [], {}
    try:
        for port in (port_a, port_b):
            wait_until(lambda p=port: _answers(p), 60, "an API node to answer")
        with nginx_in_front(tmp_path / "nginx", port_a, settings.max_body_bytes,
                            more_upstreams=(port_b,),
                            photo_store_origin=store.origin()) as front:
            def send_report():
                rid = new_id()
                _until_acknowledged(lambda: request(
                    front, "PUT", f"/api/v1/reports/{rid}", report_body(demo_cell), token), seen)
                reports.append(rid)
                return rid

            def start_upload(rid, data):
                pid = new_id()
                meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in {
                    "report_id": rid, "photo_id": pid, "purpose": "report",
                    "content_type": "image/jpeg"}.items())
                _, headers, _ = _until_acknowledged(lambda: request(
                    front, "POST", "/api/v1/uploads/", b"", {
                        **token, **TUS, "Upload-Length": str(len(data)),
                        "Upload-Metadata": meta}), seen)
                return pid, headers["location"]

            def send_from(url, data, start, end):
                """PATCH data[start:end], resuming from the server's offset after a failure."""
                def patch():
                    _, h, _ = _until_acknowledged(
                        lambda: request(front, "HEAD", url, None, {**token, **TUS}), seen)
                    offset = int(h["upload-offset"])
                    if offset >= end:
                        return 204, h, b""
                    return request(front, "PATCH", url, data[offset:end], {
                        **token, **TUS, "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream"})
                _until_acknowledged(patch, seen)

            # before: reports and photos sent half and half, one upload left half sent
            per_phase = n_scaled(6)
            for i in range(per_phase):
                rid = send_report()
                data = make_jpeg(640, 480, seed=100 + i)
                pid, url = start_upload(rid, data)
                send_from(url, data, 0, len(data) // 2)
                if i < per_phase - 1:
                    send_from(url, data, len(data) // 2, len(data))
                    photos[pid] = data
                else:
                    pending = (pid, url, data)
            _kill(a)  # node a goes away, with whatever it was doing
            pid, url, data = pending
            send_from(url, data, len(data) // 2, len(data))  # finished on node b
            photos[pid] = data
            for i in range(per_phase):
                rid = send_report()
                data = make_jpeg(640, 480, seed=200 + i)
                pid, url = start_upload(rid, data)
                send_from(url, data, 0, len(data))
                photos[pid] = data
            # the S3 server goes away: reports are taken, photos are refused with 503 (not
            # acknowledged), and an upload whose last byte arrives now is kept for its retry
            s3_server.stop()
            refused = []
            for i in range(n_scaled(3) - 1):
                rid = send_report()
                data, pid = make_jpeg(640, 480, seed=300 + i), new_id()
                status, headers, _ = request(front, "PUT", f"/api/v1/reports/{rid}/photos/{pid}",
                                             data, {**token, "Content-Type": "image/jpeg"})
                seen.append(status)
                assert status == 503 and headers["retry-after"]
                refused.append((rid, pid, data))
            rid = send_report()
            last = make_jpeg(640, 480, seed=400)
            last_pid, last_url = start_upload(rid, last)
            status, _, _ = request(front, "PATCH", last_url, last, {
                **token, **TUS, "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream"})
            seen.append(status)
            assert status == 503  # every byte kept, the photo not acknowledged yet
            s3_server.start()
            for rid, pid, data in refused:  # the phone's retry
                _until_acknowledged(lambda r=rid, p=pid, d=data: request(
                    front, "PUT", f"/api/v1/reports/{r}/photos/{p}", d,
                    {**token, "Content-Type": "image/jpeg"}), seen)
                photos[pid] = data
            send_from(last_url, last, 0, len(last))  # its HEAD hands the photo over
            photos[last_pid] = last
    finally:
        _kill(a)
        _kill(b)
    with engine.connect() as conn:
        stored_reports = set(conn.execute(text("SELECT id::text FROM reports")).scalars())
        stored_photos = dict(conn.execute(text("SELECT id::text, sha256 FROM photos")).all())
    intact = [p for p, d in photos.items()
              if stored_photos.get(p) == hashlib.sha256(d).hexdigest()
              and store.get(original_key(stored_photos[p], "jpg")) == d]
    figures = Figures("two API nodes behind nginx: one killed, then the S3 server away",
                      sent=len(reports), acknowledged=len(reports),
                      photos_acknowledged=len(photos),
                      statuses=Counter(s for s in seen if s),  # 0: a connection cut
                      stored=len(set(reports) & stored_reports), photos_stored=len(intact),
                      followup_done="— (no workers)")
    record(figures)
    assert 500 not in seen and all(s < 500 or s == 503 for s in seen), sorted(set(seen))
    assert set(reports) <= stored_reports and len(reports) == 2 * per_phase + n_scaled(3)
    assert sorted(intact) == sorted(photos)
    assert not any((tmp_path / "shared-uploads").iterdir())


def _answers(port: int) -> bool:
    try:
        return request(port, "GET", "/api/v1", timeout=2)[0] == 200
    except OSError:
        return False
