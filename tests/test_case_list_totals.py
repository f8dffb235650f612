"""The case list's total at a city's size: counted exactly only so far past the page
(cases.queries.COUNT_AHEAD, 10,000 in production, a few here), then a lower bound that the API
says is one (X-Pagination `total_exact: false`) and that moves on with the pages; the pages walk
every case once, newest first, whatever the count did. And the overdue filter, said as its
index's predicate is."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from cases_helpers import submit
from gridsnap.cases import queries

from conftest import auth

N = 12


@pytest.fixture()
def cases(client, tokens, demo_cell, runtime) -> list[str]:
    return [submit(client, tokens, demo_cell, runtime) for _ in range(N)]


def _page(client, tokens, page: int, size: int = 2, query: str = ""):
    r = client.get(f"/api/v1/cases?page={page}&page_size={size}{query}",
                   headers=auth(tokens["supervisor"]))
    assert r.status_code == 200, r.get_json()
    return [c["id"] for c in r.get_json()], json.loads(r.headers["X-Pagination"])


def test_the_total_is_exact_only_so_far_past_the_page_and_says_so(client, tokens, cases,
                                                                  monkeypatch):
    monkeypatch.setattr(queries, "COUNT_AHEAD", 3)
    # page 1 of 2: counted up to 2 + 3, and one more seen: "at least 6"
    ids, meta = _page(client, tokens, 1)
    assert len(ids) == 2
    assert meta["total"] == 6 and meta["total_exact"] is False
    assert meta["next_page"] == 2 and meta["last_page"] == 3
    # page 4 (cases 7-8): counted up to 8 + 3, 12 there: still a lower bound, 12
    _, meta = _page(client, tokens, 4)
    assert meta["total"] == 12 and meta["total_exact"] is False and meta["next_page"] == 5
    # page 5: up to 10 + 3 covers them all: exact, and the key is not sent
    _, meta = _page(client, tokens, 5)
    assert meta["total"] == N and "total_exact" not in meta and meta["last_page"] == 6
    # every case once, newest first, walking the pages whatever the count said
    seen = []
    for page in range(1, 7):
        seen += _page(client, tokens, page)[0]
    assert seen == list(reversed(cases))
    assert _page(client, tokens, 7)[0] == []


def test_a_small_list_is_counted_exactly(client, tokens, cases):
    ids, meta = _page(client, tokens, 1, size=50)
    assert meta["total"] == N and "total_exact" not in meta and len(ids) == N


def test_the_overdue_filter_gives_the_overdue_cases_and_only_them(client, tokens, cases,
                                                                  engine):
    late = cases[3:5]
    with engine.begin() as conn:
        conn.execute(text("UPDATE reports SET overdue = true, overdue_at = now() "
                          "WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": late})
    ids, meta = _page(client, tokens, 1, size=50, query="&overdue=true")
    assert sorted(ids) == sorted(late) and meta["total"] == 2
    ids, meta = _page(client, tokens, 1, size=50, query="&overdue=false")
    assert sorted(ids) == sorted(set(cases) - set(late)) and meta["total"] == N - 2
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT pg_get_indexdef('ix_reports_overdue'::regclass)")).scalar().endswith(
            "WHERE overdue")
