"""Floor A: the least an HTTP intake endpoint can do — one INSERT with the real cell lookup.
Floor H (`GET /health`): the least a health probe can do — one trivial statement and a Redis
round trip.

No auth, no validation, no audit event, no outbox, no marshmallow: Flask, a psycopg_pool
connection pool and a durable commit. Served like the real app:
`python -m gunicorn -w 2 -b 127.0.0.1:PORT bench.minimal_app:app` with DATABASE_URL (libpq form),
REDIS_URL (floor H) and BENCH_REPORTER_ID in the environment. The cell lookup is gridsnap's own
LOCATE_CTE (imported, not copied, so the floor follows the real lookup when that changes).
"""

from __future__ import annotations

import hashlib
import os
import re

from flask import Flask, jsonify, request

from gridsnap.grid.queries import LOCATE_CTE

# The INSERT of gridsnap.reports.queries._SUBMIT without its event and outbox CTEs.
_INSERT = """
INSERT INTO reports AS r (id, reporter_id, category_code, description, address, location,
    accuracy_m, location_source, captured_at, area_code, cell_code, community_code,
    street_code, district_code, outside_grid, fingerprint)
SELECT :id, :reporter_id, :category, :description, :address, pt.g, :accuracy_m, :source,
       :captured_at, h.code,
       CASE WHEN h.level = 'cell' THEN h.code END,
       CASE WHEN length(h.code) >= 12 THEN left(h.code, 12) END,
       CASE WHEN length(h.code) >= 9 THEN left(h.code, 9) END,
       left(h.code, 6),
       h.level IS DISTINCT FROM 'cell',
       :fingerprint
  FROM pt LEFT JOIN hit h ON true
ON CONFLICT (id) DO NOTHING
RETURNING r.id, r.number, r.area_code
"""

MINIMAL_SQL = f"WITH {LOCATE_CTE}{_INSERT}"  # named parameters as :name

_PARAM = re.compile(r"(?<![:\w]):([a-z_]+)\b")


def psycopg_sql(statement: str) -> str:
    """:name parameters as psycopg's %(name)s."""
    assert "%" not in statement
    return _PARAM.sub(r"%(\1)s", statement)


def pgbench_sql(statement: str, values: dict[str, str]) -> str:
    """:name parameters replaced by SQL expressions (pgbench's own :variables stay as they are
    when `values` maps a name to itself)."""
    def sub(m: re.Match) -> str:
        return values[m.group(1)]
    return " ".join(_PARAM.sub(sub, statement).split())


app = Flask(__name__)
_SQL = psycopg_sql(MINIMAL_SQL)
_pool = None


def pool():
    """One small pool per gunicorn worker, made after the fork (a sync worker needs one)."""
    global _pool
    if _pool is None:
        from psycopg_pool import ConnectionPool

        _pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=2, open=True,
                               kwargs={"options": "-c timezone=UTC"})
        _pool.wait(timeout=30)
    return _pool


_REPORTER = int(os.environ.get("BENCH_REPORTER_ID", "1"))
_probe_pool = None
_redis = None


def probe_pool():
    """Floor H's connections: autocommit, as gridsnap's probe runs its one statement outside a
    transaction (health.queries)."""
    global _probe_pool
    if _probe_pool is None:
        from psycopg_pool import ConnectionPool

        _probe_pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=2,
                                     open=True, kwargs={"autocommit": True})
        _probe_pool.wait(timeout=30)
    return _probe_pool


def redis_client():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
    return _redis


@app.put("/api/v1/reports/<uuid:report_id>")
def put_report(report_id):
    raw = request.get_data()
    body = request.get_json()
    loc = body["location"]
    params = {
        "id": report_id, "reporter_id": _REPORTER, "category": body["category"],
        "description": body.get("description") or "", "address": body.get("address"),
        "lon": loc["lon"], "lat": loc["lat"], "accuracy_m": loc.get("accuracy_m"),
        "source": loc.get("source", "gps"), "captured_at": body["captured_at"],
        "fingerprint": hashlib.sha256(raw).digest(),
    }
    with pool().connection() as conn:  # commits on leaving the block (synchronous_commit=on)
        row = conn.execute(_SQL, params).fetchone()
    if row is None:
        return jsonify(id=str(report_id)), 200
    return jsonify(id=str(row[0]), number=row[1], area_code=row[2]), 201


@app.get("/ping")
def ping():
    return "pong"


@app.get("/health")
def health():
    """Floor H: one statement (PostGIS's version) and one Redis round trip, as JSON."""
    with probe_pool().connection() as conn:
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    redis_client().ping()
    return jsonify(status="up", postgis=postgis)
