"""重复来电: a caller's number is compared by its keyed hash (HMAC-SHA256 under the server's
key), never in clear; the calls of one number within the window are counted and linked for the
call-taker, and a case shows its caller's other calls to those who may see them."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from cases_helpers import act
from gridsnap import transaction
from gridsnap.hotline.rules import normalise_phone
from gridsnap.hotline.service import caller_history, rehash_callers
from gridsnap.users.rules import Principal
from hotline_helpers import call_body, take_call

from conftest import auth

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _call(client, tokens, at, when, phone, **kw):
    at(when)
    called = (when - timedelta(minutes=3)).isoformat()
    body = call_body(caller={"name": "李四", "phone": phone, "anonymous": False},
                     called_at=called, **kw)
    return take_call(client, tokens, body)


def _history(client, tokens, phone, persona="call_taker", expect=200):
    r = client.post("/api/v1/hotline/caller-history", json={"phone": phone},
                    headers=auth(tokens[persona]))
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def test_numbers_are_compared_as_digits_without_the_country_code():
    assert normalise_phone("+86 138-1234-5678") == "13812345678"
    assert normalise_phone("0086 13812345678") == "13812345678"
    assert normalise_phone("010 6512 3456") == "01065123456"
    assert normalise_phone("12") is None


def test_repeat_calls_of_one_number_are_counted_within_the_window(
        client, tokens, at, engine, settings):
    old = _call(client, tokens, at, T0 - timedelta(days=40), "13912345678")
    first = _call(client, tokens, at, T0 - timedelta(days=20), "13912345678")
    second = _call(client, tokens, at, T0 - timedelta(days=2), "+86 139 1234 5678")
    _call(client, tokens, at, T0 - timedelta(days=1), "13700000000")  # someone else
    at(T0)
    h = _history(client, tokens, "139-1234-5678")
    assert h["calls"] == 2 and h["window_days"] == 30
    assert [c["number"] for c in h["cases"]] == [second["number"], first["number"]]
    assert old["number"] not in [c["number"] for c in h["cases"]]
    assert _history(client, tokens, "13800000001")["calls"] == 0
    # what is stored to compare: the keyed hash under the current key, not the number
    kid, key = settings.caller_hash_keys[0]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT phone_key, phone_hash FROM callers WHERE report_id = :id"),
                           {"id": second["id"]}).one()
    assert row.phone_key == kid
    assert bytes(row.phone_hash) == hmac.new(key, b"13912345678", hashlib.sha256).digest()
    # a case shows the other calls of its caller
    r = client.get(f"/api/v1/hotline/cases/{second['id']}/repeat-calls",
                   headers=auth(tokens["call_taker"])).get_json()
    assert r["calls"] == 1 and r["cases"][0]["id"] == first["id"]


def test_a_handler_sees_only_the_repeat_calls_of_their_unit(client, tokens, at):
    # the same number calls about 东华门 and about 东四; each street office sees its own
    a = _call(client, tokens, at, T0 - timedelta(days=3), "13612345678",
              address="东华门街道多福巷社区", category="E0601")
    b = _call(client, tokens, at, T0 - timedelta(days=2), "13612345678",
              address="东四街道东四六条社区", category="E0601")
    at(T0)
    for cid in (a["id"], b["id"]):
        act(client, tokens, "supervisor", cid, "accept")
        act(client, tokens, "supervisor", cid, "dispatch", department="street_office")
    seen = client.get(f"/api/v1/hotline/cases/{a['id']}/repeat-calls",
                      headers=auth(tokens["handler2"])).get_json()
    assert seen["calls"] == 0 and seen["cases"] == []  # the other call is 东四's
    assert client.get(f"/api/v1/hotline/cases/{a['id']}/repeat-calls",
                      headers=auth(tokens["handler3"])).status_code == 404
    full = client.get(f"/api/v1/hotline/cases/{a['id']}/repeat-calls",
                      headers=auth(tokens["supervisor"])).get_json()
    assert full["calls"] == 1 and full["cases"][0]["id"] == b["id"]
    # looking a number up is the call-taker's (and admin's), not a handler's
    _history(client, tokens, "13612345678", persona="handler2", expect=403)


def test_a_new_key_still_finds_calls_hashed_under_the_old_until_rehashed(
        client, tokens, at, runtime, settings, demo_users):
    first = _call(client, tokens, at, T0 - timedelta(days=5), "13512345678")
    at(T0)
    rotated = dataclasses.replace(
        settings, caller_hash_keys=(("k2027", b"a-new-secret-of-the-centre"),
                                    *settings.caller_hash_keys))
    with runtime.sessions() as s:
        row = s.execute(text("SELECT id, username, display_name, scopes FROM users "
                             "WHERE role = 'call_taker' ORDER BY id LIMIT 1")).one()
        p = Principal(id=row.id, username=row.username, display_name=row.display_name,
                      role="call_taker", scopes=tuple(row.scopes))
        assert caller_history(s, p, "13512345678", settings=rotated)["calls"] == 1
        with transaction.unit(s, "test"):
            # the callers stored before the hash existed (the migration's case) too
            s.execute(text("UPDATE callers SET phone_hash = NULL, phone_key = NULL "
                           "WHERE report_id = :id"), {"id": first["id"]})
    with runtime.sessions() as s, transaction.unit(s, "test"):
        assert rehash_callers(s, rotated) == 1
    with runtime.sessions() as s:
        key = s.execute(text("SELECT phone_key FROM callers WHERE report_id = :id"),
                        {"id": first["id"]}).scalar_one()
        assert key == "k2027"
        only_new = dataclasses.replace(rotated, caller_hash_keys=rotated.caller_hash_keys[:1])
        assert caller_history(s, p, "13512345678", settings=only_new)["calls"] == 1


def test_the_migration_hashes_the_numbers_of_callers_stored_before_it(settings, monkeypatch):
    """Upgrade a database holding a caller from before the hash (revision 0017): the caller's
    number gets its hash under the key in force; a downgrade drops it again."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from gridsnap.migrate import alembic_config
    from gridsnap.settings import caller_hash_keys

    url = make_url(settings.database_url)
    scratch = url.set(database=f"{url.database}_migration")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    try:
        from alembic import command

        cfg = alembic_config(scratch.render_as_string(hide_password=False))
        command.upgrade(cfg, "0017")
        eng = create_engine(scratch)
        with eng.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (username, display_name, role, password_hash) "
                "VALUES ('ct', 'ct', 'call_taker', 'x')"))
            conn.execute(text(
                "INSERT INTO categories (code, kind, major_code, major_name, minor_code, name, "
                "time_limits) VALUES ('E0101', 'event', '01', 'm', '01', 'n', "
                "'{\"accept\": {}, \"handle\": {}, \"verify\": {}}')"))
            conn.execute(text(
                "INSERT INTO reports (id, reporter_id, category_code, location, captured_at, "
                "outside_grid, fingerprint, source) VALUES "
                "('00000000-0000-0000-0000-000000000001', (SELECT id FROM users), 'E0101', "
                "ST_SetSRID(ST_MakePoint(116.4, 39.9), 4326), now(), true, "
                "decode(repeat('ab', 32), 'hex'), 'hotline')"))
            conn.execute(text(
                "INSERT INTO callers (report_id, name, phone) VALUES "
                "('00000000-0000-0000-0000-000000000001', '王五', '+86 131 2345 6789')"))
        monkeypatch.setenv("GRIDSNAP_CALLER_HASH_KEYS", "m1:the-migrations-own-secret")
        command.upgrade(cfg, "head")
        with eng.connect() as conn:
            row = conn.execute(text("SELECT phone, phone_key, phone_hash FROM callers")).one()
        kid, key = caller_hash_keys("m1:the-migrations-own-secret")[0]
        assert row.phone == "+86 131 2345 6789" and row.phone_key == kid == "m1"
        assert bytes(row.phone_hash) == hmac.new(key, b"13123456789", hashlib.sha256).digest()
        command.downgrade(cfg, "0017")
        eng.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        admin.dispose()
