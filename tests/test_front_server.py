"""The front server and whole bodies, against real servers: gunicorn as `gridsnap serve` runs it
and nginx configured from deploy/ as `make run` has it in front."""

from __future__ import annotations

import gzip
import json
import os
import socket
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from sqlalchemy import text

from gridsnap.supervise import free_port

from conftest import auth, new_id, report_body
from live_stack import gunicorn, nginx_in_front, request, wait_until
from photo_samples import make_jpeg


@pytest.fixture(scope="module")
def servers(settings, database, tmp_path_factory):
    """(gunicorn's port, nginx's port in front of it)."""
    root = tmp_path_factory.mktemp("front")
    with ExitStack() as stack:
        api = stack.enter_context(gunicorn(settings, root / "gunicorn.log"))
        front = stack.enter_context(nginx_in_front(root / "nginx", api, settings.max_body_bytes))
        yield api, front


def _stored(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM reports")).scalar(),
                conn.execute(text("SELECT count(*) FROM photos")).scalar())


def _send_half_closed(port: int, head: bytes, body: bytes) -> bytes:
    """Send `head` and `body`, close our sending side (the client gave up mid-body) and
    return whatever the server answers."""
    with closing(socket.create_connection(("127.0.0.1", port), timeout=30)) as s:
        s.sendall(head + body)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _put_photo_head(report_id: str, photo_id: str, token: str, length: int) -> bytes:
    return (f"PUT /api/v1/reports/{report_id}/photos/{photo_id} HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: image/jpeg\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n").encode()


def test_a_photo_cut_short_is_refused_with_400_and_stored_whole_on_retry(
        servers, tokens, demo_cell, engine):
    api, _ = servers
    rid, pid = new_id(), new_id()
    status, _, _ = request(api, "PUT", f"/api/v1/reports/{rid}", report_body(demo_cell),
                           auth(tokens["worker"]))
    assert status == 201
    photo = make_jpeg(seed=3)
    answer = _send_half_closed(api, _put_photo_head(rid, pid, tokens["worker"], len(photo)),
                               photo[: len(photo) // 3])
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert json.loads(body)["code"] == "request.incomplete_body"
    assert _stored(engine) == (1, 0)
    # the honest retry with every byte is stored (not 409 photo.id_conflict)
    status, _, body = request(api, "PUT", f"/api/v1/reports/{rid}/photos/{pid}", photo,
                              {**auth(tokens["worker"]), "Content-Type": "image/jpeg"})
    assert status == 201 and json.loads(body)["size_bytes"] == len(photo)


def test_a_report_cut_short_is_refused_with_400_and_nothing_stored(servers, tokens, demo_cell,
                                                                   engine):
    api, _ = servers
    body = json.dumps(report_body(demo_cell)).encode()
    head = (f"PUT /api/v1/reports/{new_id()} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {tokens['worker']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) + 40}\r\nConnection: close\r\n\r\n").encode()
    answer = _send_half_closed(api, head, body)  # valid JSON, but not all that was declared
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "request.incomplete_body"
    assert _stored(engine) == (0, 0)


def test_through_nginx_a_body_cut_short_never_reaches_the_api(servers, tokens, demo_cell,
                                                              engine):
    _, front = servers
    rid = new_id()
    status, _, _ = request(front, "PUT", f"/api/v1/reports/{rid}", report_body(demo_cell),
                           auth(tokens["worker"]))
    assert status == 201
    photo = make_jpeg(seed=4)
    answer = _send_half_closed(front, _put_photo_head(rid, new_id(), tokens["worker"],
                                                      len(photo)), photo[:5000])
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:300]
    assert _stored(engine) == (1, 0)


def test_slow_clients_sending_half_a_header_leave_the_api_answering(servers):
    api, front = servers
    with ExitStack() as stack:
        for _ in range(6):  # three times gunicorn's two sync workers
            s = stack.enter_context(closing(socket.create_connection(("127.0.0.1", front))))
            s.sendall(b"GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        status, _, body = request(front, "GET", "/api/v1", timeout=20)
        assert status == 200 and json.loads(body)["name"] == "gridsnap"


def test_answers_carry_the_security_headers_and_json_is_compressed(servers):
    _, front = servers
    status, headers, body = request(front, "GET", "/api/v1/openapi.json",
                                    headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["info"]["title"] == "gridsnap"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
    assert "worker-src 'self' blob:" in csp and "img-src 'self' data: blob:" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_a_body_over_the_photo_limit_is_refused_as_json_before_it_is_read(servers, settings,
                                                                          tokens):
    _, front = servers
    head = _put_photo_head(new_id(), new_id(), tokens["worker"], settings.max_body_bytes + 1)
    answer = _send_half_closed(front, head, b"")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "request.too_large"


def test_logins_from_one_address_are_limited_with_a_json_429(servers):
    _, front = servers
    answers = [request(front, "POST", "/api/v1/auth/token",
                       {"username": "nobody", "password": "wrong-password"})
               for _ in range(12)]
    assert {s for s, _, _ in answers} == {401, 429}
    limited = next((h, b) for s, h, b in answers if s == 429)
    assert json.loads(limited[1])["code"] == "auth.too_many_attempts"
    # the rest of the minute's window, counted down by Redis: 60 s, or less once a second passed
    assert 1 <= int(limited[0]["retry-after"]) <= 60


def test_the_api_down_is_answered_503_json_by_nginx(settings, tmp_path):
    with nginx_in_front(tmp_path / "nginx", free_port(), settings.max_body_bytes) as front:
        status, headers, body = request(front, "GET", "/api/v1/health")
    assert status == 503 and headers["retry-after"] == "5"
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == "service.unavailable"


def test_gunicorn_answers_its_own_errors_in_json_never_an_html_page(settings, tmp_path):
    """A worker killed past --timeout mid-request, an exception outside Flask, a request gunicorn
    cannot parse: JSON with a stable code, and 503 with Retry-After rather than 500."""
    here = str(Path(__file__).parent)
    env = {"PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)}
    with gunicorn(settings, tmp_path / "gunicorn.log", workers=1, env=env,
                  app="failing_app:app", timeout=2) as port:
        for path in ("/raise", "/hang"):
            status, headers, body = request(port, "GET", path, timeout=60)
            assert (status, headers["content-type"]) == (503, "application/json"), body
            assert headers["retry-after"] == "5"
            assert json.loads(body)["code"] == "service.unavailable"
        with closing(socket.create_connection(("127.0.0.1", port), timeout=30)) as s:
            s.sendall(b"NOT A REQUEST LINE\r\n\r\n")
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ") and b"Content-Type: application/json" in head
        assert json.loads(body)["code"] == "request.bad_request"


def _raw(port: int, head: bytes) -> tuple[bytes, bytes]:
    with closing(socket.create_connection(("127.0.0.1", port), timeout=30)) as s:
        s.sendall(head)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def test_an_address_too_long_or_a_method_refused_is_json_from_nginx_and_gunicorn(servers):
    api, front = servers
    long_uri = b"/api/v1/cases?q=" + b"a" * 20_000
    for port in (front, api):
        head, body = _raw(port, b"GET " + long_uri + b" HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414 "), head
        assert b"application/json" in head and json.loads(body)["code"] == "request.uri_too_long"
    head, body = _raw(front, b"TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405 "), head
    assert json.loads(body)["code"] == "request.method_not_allowed"


def test_an_api_key_in_the_query_string_never_reaches_a_log_line(settings, tmp_path):
    secret = "k3y-" + new_id()
    path = f"/open311/v2/requests.json?api_key={secret}&status=open"
    with ExitStack() as stack:
        api = stack.enter_context(gunicorn(settings, tmp_path / "gunicorn.log", workers=1,
                                           access_log=True))
        front = stack.enter_context(nginx_in_front(tmp_path / "nginx", api,
                                                   settings.max_body_bytes, access_log=True))
        status, _, _ = request(front, "GET", path,
                               headers={"Referer": f"https://x.example/?api_key={secret}"})
        assert status == 403  # not a key: refused, and logged
        logs = [tmp_path / "gunicorn.log", tmp_path / "nginx" / "log" / "nginx-access.log"]
        wait_until(lambda: all("requests.json" in p.read_text() for p in logs), 30,
                   "both access logs to have the request")
    for p in logs:
        text = p.read_text()
        assert "api_key=[redacted]" in text and secret not in text, (p, text[-500:])
