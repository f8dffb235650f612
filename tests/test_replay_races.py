"""Replays that race: 50 copies of one request sent at once to a real gunicorn (several
processes) are all answered as the one request was — 2xx with the recorded result, never
409, 403 or 500 — and store one row (invariant 2)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from conftest import auth, new_id, report_body
from live_stack import gunicorn, request
from photo_samples import make_jpeg

COPIES = 50


@pytest.fixture(scope="module")
def api(settings, database, tmp_path_factory):
    with gunicorn(settings, tmp_path_factory.mktemp("race") / "gunicorn.log", workers=4) as port:
        yield port


def _at_once(send, n: int = COPIES) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(n)

    def one(_):
        barrier.wait()
        status, _, body = send()
        return status, json.loads(body)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_fifty_copies_of_a_report_at_once_all_get_the_recorded_report(api, tokens, demo_cell,
                                                                      engine):
    rid, body = new_id(), report_body(demo_cell)
    answers = _at_once(lambda: request(api, "PUT", f"/api/v1/reports/{rid}", body,
                                       auth(tokens["worker"])))
    assert sorted({s for s, _ in answers}) in ([200, 201], [201])
    assert [s for s, _ in answers].count(201) == 1
    assert len({(a["id"], a["number"]) for _, a in answers}) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar() == 1
        assert conn.execute(text(
            "SELECT count(*) FROM outbox WHERE topic = 'report.submitted'")).scalar() == 1


def test_fifty_copies_of_a_photo_at_once_all_get_the_recorded_photo(api, tokens, demo_cell,
                                                                    engine):
    rid, pid = new_id(), new_id()
    status, _, _ = request(api, "PUT", f"/api/v1/reports/{rid}", report_body(demo_cell),
                           auth(tokens["worker"]))
    assert status == 201
    photo = make_jpeg(seed=7)
    headers = {**auth(tokens["worker"]), "Content-Type": "image/jpeg"}
    answers = _at_once(lambda: request(api, "PUT", f"/api/v1/reports/{rid}/photos/{pid}",
                                       photo, headers))
    assert [s for s, _ in answers].count(201) == 1
    assert {s for s, _ in answers} <= {200, 201}, [a for s, a in answers if s >= 300][:3]
    assert len({a["sha256"] for _, a in answers}) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM photos")).scalar() == 1
        assert conn.execute(text(
            "SELECT count(*) FROM outbox WHERE topic = 'photo.uploaded'")).scalar() == 1
