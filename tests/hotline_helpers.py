"""Helpers for hotline tests: a call taken by the demo call-taker, a callback recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import auth, new_id


def call_body(cell: dict | None = None, **overrides) -> dict:
    """A complaint about garbage by a caller who gives name and phone; at the cell's centre
    when `cell` is given, else by the address alone."""
    body = {
        "caller": {"name": "张三", "phone": "13812341234", "anonymous": False},
        "nature": "complaint", "category": "E0101", "urgency": "urgent",
        "description": "楼下垃圾三天没人清运",
        "address": "东华门街道 某胡同 12 号",
        "called_at": datetime(2026, 11, 23, 9, 30, tzinfo=UTC).isoformat(),
    }
    if cell is not None:
        body["location"] = {"lon": cell["lon"], "lat": cell["lat"], "source": "manual"}
    body.update(overrides)
    return body


def take_call(client, tokens, body, expect=201, call_id=None):
    call_id = call_id or new_id()
    r = client.put(f"/api/v1/hotline/calls/{call_id}", json=body,
                   headers=auth(tokens["call_taker"]))
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def callback(client, tokens, case_id, expect=200, persona="call_taker", **body):
    r = client.post(f"/api/v1/hotline/callbacks/{case_id}", json=body,
                    headers=auth(tokens[persona]))
    assert r.status_code == expect, r.get_json()
    return r.get_json()


REACHED_SATISFIED = {"reached": True, "responded": True, "solved": True,
                     "satisfaction": "satisfied"}
REACHED_DISSATISFIED = {"reached": True, "responded": True, "solved": False,
                        "satisfaction": "dissatisfied"}
