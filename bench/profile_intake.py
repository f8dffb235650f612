"""Where the time of one `PUT /api/v1/reports/{id}` goes, in-process (no gunicorn, no HTTP).

    python -m bench.profile_intake [--n 2000]

Rebuilds `gridsnap_bench` with the 1k grid, then measures, one request at a time:
  1. the whole request through Flask's test client, as is and with single parts switched off
     by monkeypatching (the pool's pre-ping, the token lookup), wall and CPU time;
  2. each piece alone in a loop: database round trips, the intake statement through SQLAlchemy
     and through plain psycopg, marshmallow load and dump, the fingerprint, JSON encoding;
  3. the statements and round trips one request makes (SQLAlchemy events).
Each figure is the median of rounds that alternate the variants, so drift hits all alike.
Nothing in gridsnap is changed: the switches are monkeypatches inside this process.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from . import database
from . import grid as gridmod
from .env import BenchEnv


def _body(rnd, grid) -> dict:
    lon, lat = grid.point(rnd)
    return {"category": "E0101", "description": "profile report",
            "location": {"lon": round(lon, 7), "lat": round(lat, 7), "accuracy_m": 8.5,
                         "source": "gps"},
            "captured_at": datetime.now(UTC).isoformat(timespec="seconds")}


def _timed(fn, n: int) -> tuple[float, float]:
    """(wall µs, CPU µs) per call of fn() over n calls."""
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return ((time.perf_counter() - w0) / n * 1e6, (time.process_time() - c0) / n * 1e6)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile_intake")
    ap.add_argument("--n", type=int, default=2000, help="requests per variant and round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    n, rounds = args.n, args.rounds

    media = Path(tempfile.mkdtemp(prefix="gridsnap-profile-media-"))
    env = BenchEnv.make(media)
    database.recreate(env)
    grid = gridmod.GRID_1K
    with database.connect(env) as conn:
        gridmod.install(conn, grid, others=[gridmod.GRID_100K])

    from flask import g
    from sqlalchemy import event

    import gridsnap.auth as auth_mod
    from gridsnap.app import create_app
    from gridsnap.reports import queries, rules
    from gridsnap.reports.schemas import ReportInSchema, ReportOutSchema
    from gridsnap.reports.service import report_view
    from gridsnap.settings import Settings
    from gridsnap.users.service import authenticate, issue_token

    settings = Settings.from_env(database_url=env.database_url, redis_url=env.redis_url,
                                 media_dir=media)
    app = create_app(settings)
    rt = app.extensions["gridsnap"]
    with rt.sessions() as s:
        token, _, _ = issue_token(s, "wangjianguo", "demo-worker-1", ttl_days=1)
        principal = authenticate(s, token)
    client = app.test_client()
    in_schema_for_canned = ReportInSchema()
    headers = {"Authorization": f"Bearer {token}"}
    rnd = random.Random(7)

    def put():
        resp = client.put(f"/api/v1/reports/{uuid.uuid4()}", json=_body(rnd, grid),
                          headers=headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)

    # floor A's app through the same test client: what the real stack adds on top
    import os

    os.environ["DATABASE_URL"] = env.database_url
    os.environ["BENCH_REPORTER_ID"] = str(principal.id)
    from . import minimal_app

    minimal_app._REPORTER = principal.id
    minimal_client = minimal_app.app.test_client()

    def put_minimal():
        resp = minimal_client.put(f"/api/v1/reports/{uuid.uuid4()}", json=_body(rnd, grid))
        assert resp.status_code == 201, resp.get_data(as_text=True)

    import gridsnap.reports.service as service_mod

    real_authenticate = auth_mod.authenticate
    real_submit = service_mod.submit_report
    with rt.sessions() as s:
        canned = real_submit(s, principal, uuid.uuid4(), in_schema_for_canned.load(
            _body(rnd, grid)))
    pool = rt.engine.pool
    framework = "HTTP layers only (token lookup and submit_report stubbed: no database)"

    @contextmanager
    def variant(name):
        pool._pre_ping = name not in ("no pre-ping", "no pre-ping, no token SQL")
        if name in ("no token SQL", "no pre-ping, no token SQL", framework):
            auth_mod.authenticate = lambda session, raw: principal
        if name == framework:
            service_mod.submit_report = lambda *a, **k: canned
        try:
            yield
        finally:
            pool._pre_ping = True
            auth_mod.authenticate = real_authenticate
            service_mod.submit_report = real_submit

    # --- 3. what one request sends to PostgreSQL ---------------------------------------------
    sent: list[str] = []

    def on_exec(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split())[:60])

    def on_begin(conn):
        sent.append("BEGIN (psycopg sends it before the first statement)")

    def on_commit(conn):
        sent.append("COMMIT")

    event.listen(rt.engine, "before_cursor_execute", on_exec)
    event.listen(rt.engine, "begin", on_begin)
    event.listen(rt.engine, "commit", on_commit)
    for _ in range(3):
        put()
    sent.clear()
    put()
    event.remove(rt.engine, "before_cursor_execute", on_exec)
    event.remove(rt.engine, "begin", on_begin)
    event.remove(rt.engine, "commit", on_commit)
    # the pre-ping runs on the raw DBAPI connection, below SQLAlchemy's events
    statements = ["SELECT 1 (pool pre-ping, on every checkout)", *sent]

    # --- 1. whole requests, variants ---------------------------------------------------------
    from flask import Flask, jsonify, request

    bare = Flask("bare")

    @bare.put("/api/v1/reports/<uuid:report_id>")
    def bare_put(report_id):
        request.get_json()
        return jsonify(id=str(report_id)), 201

    bare_client = bare.test_client()

    def put_bare():
        resp = bare_client.put(f"/api/v1/reports/{uuid.uuid4()}", json=_body(rnd, grid))
        assert resp.status_code == 201

    names = ["as is", "no pre-ping", "no token SQL", "no pre-ping, no token SQL", framework,
             "floor A (bench/minimal_app.py)", "bare Flask endpoint: JSON in, JSON out, no DB"]

    def request_fn(name):
        if name.startswith("floor A"):
            return put_minimal
        return put_bare if name.startswith("bare") else put

    for name in names:  # warm up (prepared statements, caches)
        with variant(name):
            _timed(request_fn(name), 200)
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else list(reversed(names))
        for name in order:
            with variant(name):
                results[name].append(_timed(request_fn(name), n))

    # --- 2. pieces alone ---------------------------------------------------------------------
    pieces: dict[str, list[tuple[float, float]]] = {}

    def piece(label, fn, count=n):
        pieces.setdefault(label, []).append(_timed(fn, count))

    import psycopg

    raw = psycopg.connect(env.database_url, options="-c timezone=UTC")
    raw_auto = psycopg.connect(env.database_url, autocommit=True, options="-c timezone=UTC")
    from .minimal_app import MINIMAL_SQL, psycopg_sql

    submit_sql = psycopg_sql(str(queries._SUBMIT))
    minimal_sql = psycopg_sql(MINIMAL_SQL)
    from gridsnap.users.queries import _PRINCIPAL_BY_TOKEN
    from gridsnap.users.service import hash_token

    principal_sql = psycopg_sql(str(_PRINCIPAL_BY_TOKEN))
    body = _body(rnd, grid)
    in_schema, out_schema = ReportInSchema(), ReportOutSchema()
    loaded = in_schema.load(body)

    def params():
        b = _body(rnd, grid)
        loc = b["location"]
        return {"id": uuid.uuid4(), "reporter_id": principal.id, "category": "E0101",
                "description": b["description"], "address": None, "lon": loc["lon"],
                "lat": loc["lat"], "accuracy_m": 8.5, "source": "gps",
                "captured_at": loaded["captured_at"], "fingerprint": bytes(32)}

    with rt.sessions() as s:
        row = queries.insert_report(s, params())
        s.commit()
    view = report_view(row)
    dumped = out_schema.dump(view)

    def sa_submit():
        with rt.sessions() as s:
            queries.insert_report(s, params())
            s.commit()

    def pg_submit():
        raw.execute(submit_sql, params()).fetchone()
        raw.commit()

    def pg_submit_autocommit():
        raw_auto.execute(submit_sql, params()).fetchone()

    def core_submit():
        with rt.engine.connect() as c:
            c.execute(queries._SUBMIT, params()).mappings().first()
            c.commit()

    def pg_minimal():
        raw.execute(minimal_sql, params()).fetchone()
        raw.commit()

    def pg_token():
        raw_auto.execute(principal_sql, {"h": hash_token(token)}).fetchone()

    def sa_token():
        with rt.sessions() as s:
            authenticate(s, token)

    def select1():
        raw_auto.execute("SELECT 1").fetchone()

    def fingerprint():
        rules.fingerprint(reporter_id=1, category="E0101", description="x", address=None,
                          lon=116.3, lat=39.9, accuracy_m=8.5, source="gps",
                          captured_at=loaded["captured_at"])

    with app.app_context():
        def json_encode():
            app.json.dumps(dumped)

        for _ in range(rounds):
            piece("round trip: SELECT 1 (psycopg, autocommit)", select1)
            piece("token lookup: plain psycopg, autocommit (1 round trip)", pg_token)
            piece("token lookup: authenticate() via SQLAlchemy session (checkout with "
                  "pre-ping, BEGIN, SELECT, close)", sa_token)
            piece("intake statement (event + outbox + joins), plain psycopg: execute + "
                  "COMMIT", pg_submit, n // 2)
            piece("intake statement, plain psycopg in autocommit (one statement is one "
                  "transaction: 1 round trip, durable)", pg_submit_autocommit, n // 2)
            piece("minimal INSERT (floor A's), plain psycopg: execute + COMMIT", pg_minimal,
                  n // 2)
            piece("intake statement via SQLAlchemy Core (engine.connect(), pre-ping, BEGIN, "
                  "execute, COMMIT, close; no ORM Session)", core_submit, n // 2)
            piece("intake statement via SQLAlchemy session (checkout with pre-ping, BEGIN, "
                  "execute, COMMIT, close)", sa_submit, n // 2)
            piece("marshmallow: ReportInSchema().load(body)", lambda: in_schema.load(body))
            piece("marshmallow: ReportOutSchema().dump(view)", lambda: out_schema.dump(view))
            piece("report_view(row)", lambda: report_view(row))
            piece("fingerprint()", fingerprint)
            piece("JSON encoding of the answer (app.json.dumps)", json_encode)
    raw.close()
    raw_auto.close()
    rt.dispose()
    _ = g  # flask's g is used by the app; imported to fail early if flask changes

    def med(values):
        return (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))

    out = ["### In-process profile of one `PUT /api/v1/reports/{id}` (Flask test client, "
           f"sequential, 1k grid; median of {rounds} rounds × {n})", "",
           "| whole request | wall µs | CPU µs | wall saved |", "|---|---:|---:|---:|"]
    base = med(results["as is"])[0]
    for name in names:
        w, c = med(results[name])
        out.append(f"| {name} | {w:,.0f} | {c:,.0f} | {base - w:+,.0f} |")
    out += ["", "| piece alone | wall µs | CPU µs |", "|---|---:|---:|"]
    for label, values in pieces.items():
        w, c = med(values)
        out.append(f"| {label} | {w:,.0f} | {c:,.0f} |")
    out += ["", "What one request sends to PostgreSQL, in order:", ""]
    out += [f"{i}. `{s}`" for i, s in enumerate(statements, 1)]
    print("\n".join(out))
    (Path(__file__).resolve().parent / "out").mkdir(exist_ok=True)
    (Path(__file__).resolve().parent / "out" / "profile_intake.json").write_text(json.dumps(
        {"requests": results, "pieces": pieces, "statements": statements}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
