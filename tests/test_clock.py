"""One clock: every time the product stores or compares comes from the application's clock
(`gridsnap.clock.now`, which tests move), never from the database's `now()` or a second reading
of the machine's time. A row stamped by two clocks breaks as soon as they disagree: a token
"created" after it expires, a deadline counted from one clock and checked against the other.

`make test` also runs the clock tests with the application's clock years away from the
database's (tests/conftest.py, CLOCK_SHIFT); these tests keep the rule from coming back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from gridsnap import clock
from gridsnap.db import Base

from conftest import auth, new_id, report_body

PACKAGE = Path(__file__).resolve().parents[1] / "backend" / "gridsnap"

# SQL's own clocks; `func.now()` as a column's server default is looked at separately below
_SQL_CLOCK = re.compile(r"(?<![\w.])(now|clock_timestamp|statement_timestamp|transaction_timestamp)"
                        r"\(\)"
                        r"|\b(current_timestamp|current_date|current_time|localtimestamp)\b",
                        re.IGNORECASE)
_PY_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|datetime\.today)\(")


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # the schema's history, and its defaults for SQL typed by hand
        yield path.relative_to(PACKAGE).as_posix(), path.read_text(encoding="utf-8")


def test_no_statement_reads_the_databases_clock():
    found = []
    for name, source in _sources():
        if name == "clock.py":
            continue
        for n, line in enumerate(source.splitlines(), 1):
            code = line.replace("func.now()", "")  # server defaults: see the next test
            if _SQL_CLOCK.search(code) and not code.lstrip().startswith("#"):
                found.append(f"{name}:{n}: {line.strip()}")
    assert found == []


def test_only_the_clock_module_reads_the_machines_date():
    found = [f"{name}:{n}: {line.strip()}"
             for name, source in _sources() if name != "clock.py"
             for n, line in enumerate(source.splitlines(), 1) if _PY_CLOCK.search(line)]
    assert found == []


def test_every_time_column_the_database_would_stamp_is_stamped_by_the_application():
    unstamped = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            default = column.server_default
            if default is None or "now()" not in str(getattr(default, "arg", "")):
                continue
            if column.default is None or column.default.arg.__name__ != "stamp":
                unstamped.append(f"{table.name}.{column.name}")
    assert unstamped == []


def test_a_report_and_its_trail_carry_the_applications_time_years_from_the_databases(
        client, tokens, demo_cell, engine, at):
    # a day the database's clock cannot be near, in either direction
    for when in (datetime(2019, 5, 6, 9, 30, tzinfo=UTC), datetime(2034, 2, 3, 14, 0, tzinfo=UTC)):
        at(when)
        rid = new_id()
        r = client.put(f"/api/v1/reports/{rid}", json=report_body(demo_cell),
                       headers=auth(tokens["worker"]))
        assert r.status_code == 201, r.get_json()
        assert datetime.fromisoformat(r.get_json()["received_at"]) == when
        with engine.connect() as conn:
            row = conn.execute(text("""
                SELECT r.received_at, r.updated_at, r.stage_started_at,
                       (SELECT array_agg(DISTINCT e.at) FROM case_events e
                         WHERE e.report_id = r.id) AS event_times,
                       (SELECT array_agg(DISTINCT o.created_at) FROM outbox o
                         WHERE o.payload->>'report_id' = r.id::text) AS outbox_times
                  FROM reports r WHERE r.id = :id
            """), {"id": rid}).mappings().one()
        assert row["received_at"] == row["updated_at"] == row["stage_started_at"] == when
        assert row["event_times"] == [when] and row["outbox_times"] == [when]


def test_a_login_years_from_the_databases_date_is_stamped_and_checked_on_one_clock(
        client, demo_users, engine, at, settings):
    from conftest import PERSONAS

    name = PERSONAS["supervisor"]
    for when in (datetime(2018, 1, 2, 8, tzinfo=UTC), datetime(2036, 6, 1, 8, tzinfo=UTC)):
        at(when)
        r = client.post("/api/v1/auth/token",
                        json={"username": name, "password": demo_users[name]["password"]})
        assert r.status_code == 201, r.get_json()
        token = r.get_json()["token"]
        expires = when + timedelta(days=settings.token_ttl_days)
        assert datetime.fromisoformat(r.get_json()["expires_at"]) == expires
        with engine.connect() as conn:
            created = conn.execute(text(
                "SELECT created_at FROM api_tokens ORDER BY id DESC LIMIT 1")).scalar()
        assert created == when
        assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
        at(expires)
        assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


def test_the_unset_clock_is_the_machines_moved_by_the_runs_shift():
    from conftest import CLOCK_SHIFT

    assert abs(clock.now() - (datetime.now(UTC) + CLOCK_SHIFT)) < timedelta(minutes=1)
