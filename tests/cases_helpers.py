"""Helpers for case tests: submit a report as a worker, act as a persona, upload evidence."""

from __future__ import annotations

from conftest import auth, new_id, report_body
from followup import drain
from photo_samples import make_jpeg


def submit(client, tokens, cell, runtime=None, persona="worker", **overrides) -> str:
    rid = new_id()
    r = client.put(f"/api/v1/reports/{rid}", json=report_body(cell, **overrides),
                   headers=auth(tokens[persona]))
    assert r.status_code == 201, r.get_json()
    if runtime is not None:
        drain(runtime)
    return rid


def act(client, tokens, persona, case_id, action, expect=200, headers=None, **body):
    r = client.post(f"/api/v1/cases/{case_id}/actions", json={"action": action, **body},
                    headers={**auth(tokens[persona]), **(headers or {})})
    assert r.status_code == expect, (action, persona, r.status_code, r.get_json())
    return r.get_json()


def evidence(client, tokens, persona, case_id, purpose, seed=3) -> str:
    pid = new_id()
    r = client.put(f"/api/v1/reports/{case_id}/photos/{pid}?purpose={purpose}",
                   data=make_jpeg(seed=seed), content_type="image/jpeg",
                   headers=auth(tokens[persona]))
    assert r.status_code == 201, r.get_json()
    return pid


def resolve_case(client, tokens, case_id) -> dict:
    """Take a reported case through 立案, 派遣, sign and 处置 with an after-photo, as the
    supervisor and the sanitation handler: it then waits for 核查. Returns the resolved case."""
    act(client, tokens, "supervisor", case_id, "accept")
    act(client, tokens, "supervisor", case_id, "dispatch")
    act(client, tokens, "handler", case_id, "sign")
    return act(client, tokens, "handler", case_id, "resolve",
               photo_ids=[evidence(client, tokens, "handler", case_id, "resolution")])


def case(client, tokens, persona, case_id):
    r = client.get(f"/api/v1/cases/{case_id}", headers=auth(tokens[persona]))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def events(client, tokens, persona, case_id) -> list[str]:
    r = client.get(f"/api/v1/cases/{case_id}/events", headers=auth(tokens[persona]))
    assert r.status_code == 200
    return [e["action"] for e in r.get_json()]
