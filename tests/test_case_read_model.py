"""The case read model loads per page, not per row: a list costs the same number of statements
for 3 cases as for 30, with photos, pending extensions and links on them."""

from __future__ import annotations

import psycopg
import pytest

from cases_helpers import act, evidence

from conftest import auth, new_id, report_body
from followup import drain


class StatementCounter:
    """Counts the statements psycopg sends (SQLAlchemy's and the ones sent straight to it)."""

    def __init__(self, monkeypatch):
        self.count = 0
        original = psycopg.Cursor.execute

        def counting(cursor, *args, **kwargs):
            self.count += 1
            return original(cursor, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", counting)


def _dispatched_cases(client, tokens, cell, runtime, n: int) -> list[str]:
    """n cases dispatched to the sanitation department and signed for, each with a photo; every
    other one with a pending extension request."""
    ids = []
    for _ in range(n):
        rid = new_id()
        r = client.put(f"/api/v1/reports/{rid}", json=report_body(cell),
                       headers=auth(tokens["worker"]))
        assert r.status_code == 201
        ids.append(rid)
    drain(runtime)
    for i, rid in enumerate(ids):
        act(client, tokens, "supervisor", rid, "accept")
        act(client, tokens, "supervisor", rid, "dispatch")
        act(client, tokens, "handler", rid, "sign")
        evidence(client, tokens, "handler", rid, "resolution", seed=i)
        if i % 2 == 0:
            act(client, tokens, "handler", rid, "request_extension", note="needs a crane",
                extension={"amount": 2, "unit": "working_days"})
    return ids


def _tasks(client, tokens, counter) -> tuple[list[dict], int]:
    before = counter.count
    r = client.get("/api/v1/me/tasks", headers=auth(tokens["handler"]))
    assert r.status_code == 200
    return r.get_json(), counter.count - before


def test_my_tasks_costs_the_same_statements_for_3_cases_as_for_30(
        client, tokens, demo_cell, runtime, monkeypatch):
    counter = StatementCounter(monkeypatch)
    first = _dispatched_cases(client, tokens, demo_cell, runtime, 3)
    few, few_statements = _tasks(client, tokens, counter)
    assert {t["id"] for t in few} == set(first)

    _dispatched_cases(client, tokens, demo_cell, runtime, 27)
    many, many_statements = _tasks(client, tokens, counter)

    assert len(many) == 30
    assert many_statements == few_statements
    assert many_statements <= 3  # the token, the page (with photos, extensions, names)
    pending = [t for t in many if t["pending_extension"] is not None]
    assert len(pending) == 2 + 14 and all(t["pending_extension"]["amount"] == 2 for t in pending)
    assert all(len(t["photos"]) == 1 and t["photos"][0]["purpose"] == "resolution"
               for t in many)
    assert all(t["community"]["name"] for t in many)


@pytest.mark.parametrize("persona", ["supervisor", "handler"])
def test_a_case_action_is_a_constant_handful_of_statements(
        client, tokens, demo_cell, runtime, monkeypatch, persona):
    (rid,) = _dispatched_cases(client, tokens, demo_cell, runtime, 1)
    photo = evidence(client, tokens, "handler", rid, "resolution", seed=9)
    counter = StatementCounter(monkeypatch)
    if persona == "supervisor":
        act(client, tokens, "supervisor", rid, "approve_extension")
    else:
        act(client, tokens, "handler", rid, "resolve", photo_ids=[photo])
    # the token, the lock, the photos or the extension, the verifier, the change with its
    # event, notifications and deadline message
    assert counter.count <= 5
