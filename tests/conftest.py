"""Shared test set-up: the real PostgreSQL/PostGIS and Redis that `make test` starts.

The test database is rebuilt from empty by the migrations once per run and the demo city is
loaded into it, so tests and demo tell one story (personas: 网格员 worker, 指挥中心 supervisor,
环卫 handler, admin). Each test starts from no reports: the tables a test writes are emptied
after it. (Not a rolled-back transaction per test: several tests need committed data seen by
other connections — concurrent requests, the relay, RQ workers, a second Redis.)
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from gridsnap import clock
from gridsnap.app import create_app
from gridsnap.extensions import Runtime
from gridsnap.health import service as health_service
from gridsnap.outbox.jobs import Followup
from gridsnap.settings import Settings, default_database_url, default_redis_url
from gridsnap.worker import build_followup

from object_store import FrontClient, ensure_server, new_bucket, s3_pass

# fixtures of the evaluation tests (stats, campaigns, exports): cells and a constructed month
pytest_plugins = ["evaluation_samples"]

REPO = Path(__file__).resolve().parents[1]
_DEMO = json.loads((REPO / "fixtures" / "users.json").read_text(encoding="utf-8"))
DEMO_USERS = {u["username"] for u in _DEMO}


def _personas() -> dict[str, str]:
    """persona -> demo username: worker, worker2 (another community), supervisor, handler
    (sanitation, the district), handler2 / handler3 (the street offices of 东华门 / 东四),
    handler4 (sanitation in 东四), call_taker, admin: the role, numbered from its second user."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for u in _DEMO:
        seen[u["role"]] = seen.get(u["role"], 0) + 1
        n = seen[u["role"]]
        out[u["role"] if n == 1 else f"{u['role']}{n}"] = u["username"]
    return out


PERSONAS = _personas()


def _test_urls() -> tuple[str, str]:
    """The test database and Redis database: one pair per pytest-xdist worker (gw0, gw1, …),
    so that workers run side by side without seeing each other's rows and jobs;
    GRIDSNAP_TEST_RUN names a separate set (two runs at once on one checkout)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") else 0
    run = os.environ.get("GRIDSNAP_TEST_RUN", "")
    name = "gridsnap_test" + (f"_{run}" if run else "") + (f"_{worker}" if worker else "")
    db = os.environ.get("GRIDSNAP_TEST_DATABASE_URL") or default_database_url(name)
    # Redis has 16 databases: 0 is `make run`'s; the tests take 1 to 15 (a plain run 1, the
    # xdist workers 2, 3, …, a named run 8 and on)
    slot = index + 1 if worker else 0
    redis_db = 1 + (slot + (7 if run else 0)) % 15
    redis = os.environ.get("GRIDSNAP_TEST_REDIS_URL") or default_redis_url(redis_db)
    return db, redis


def _ensure_database(url: str) -> None:
    """Create the test database (with PostGIS) if it does not exist yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": target.database}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    db, redis = _test_urls()
    store = {}
    server = started = None
    if s3_pass():
        # the photos in a bucket of the real S3 server (started if `make test` did not)
        server, started = ensure_server()
        spec, options = new_bucket()
        store = {"photo_store": spec, "photo_store_options": tuple(options.items())}
    # no token cache in tests: several tests change users behind the API's back
    yield Settings.from_env(database_url=db, redis_url=redis,
                            media_dir=tmp_path_factory.mktemp("media"), token_cache_seconds=0,
                            **store)
    if started:
        server.stop()


@pytest.fixture(scope="session")
def runtime(settings, database) -> Runtime:
    rt = Runtime(settings)
    yield rt
    rt.dispose()


@pytest.fixture(scope="session")
def followup(runtime) -> Followup:
    """What the follow-up jobs run with in tests: the test runtime and every handler."""
    return build_followup(runtime)


@pytest.fixture(scope="session")
def engine(runtime):
    return runtime.engine


@pytest.fixture(scope="session")
def database(settings):
    """Rebuild the test database from empty with the migrations, then load the demo city."""
    from gridsnap.demo import load_demo
    from gridsnap.migrate import upgrade

    _ensure_database(settings.database_url)
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        conn.execute(text("DROP EXTENSION IF EXISTS postgis CASCADE"))
    admin.dispose()
    upgrade(settings.database_url)
    eng = create_engine(settings.database_url)
    from sqlalchemy.orm import Session

    with Session(eng) as session, session.begin():
        users = load_demo(session)
    eng.dispose()
    return users


@pytest.fixture(scope="session")
def demo_users(database) -> dict:
    return database


@pytest.fixture(scope="session")
def app(settings, runtime):
    application = create_app(runtime=runtime)
    application.config["TESTING"] = True
    if settings.photo_store:
        application.test_client_class = FrontClient  # as nginx, fetch photos from the store
    return application


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def tokens(app, demo_users, runtime) -> dict[str, str]:
    """A bearer token per persona: worker, worker2, supervisor, handler, admin, each lasting
    (lasting_token): the session's tests use them at every time they set."""
    c = app.test_client()
    out = {}
    for persona, name in PERSONAS.items():
        r = c.post("/api/v1/auth/token",
                   json={"username": name, "password": demo_users[name]["password"]})
        assert r.status_code == 201, r.get_json()
        out[persona] = lasting_token(runtime.engine, r.get_json()["token"])
    return out


def lasting_token(engine, token: str) -> str:
    """`token`, made to outlive every clock a test sets (tests move the application's clock
    anywhere from 2016 to 2036, and `make test` moves the unset clock ~3 years either way): for
    a login a test makes once and uses at other times. A test of expiry logs in at its own time."""
    from gridsnap.users.service import hash_token

    with engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = '2999-01-01T00:00:00Z' "
                          "WHERE token_hash = :h"), {"h": hash_token(token)})
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_DB_FIXTURES = {"runtime", "engine", "app", "client", "tokens", "database", "demo_cell"}


@pytest.fixture(autouse=True)
def clean_tables(request):
    """Every database test leaves no reports, photos, events or outbox, and an empty queue."""
    uses_db = bool(_DB_FIXTURES & set(request.fixturenames))
    runtime = request.getfixturevalue("runtime") if uses_db else None
    yield
    if runtime is None:
        return  # a pure test: no database touched
    # A request of the test's live server may still be answering (a browser page just closed):
    # its transaction and the TRUNCATE can take the same tables' locks in opposite orders, and
    # PostgreSQL then ends one of the two; when it is the TRUNCATE, it is done again.
    for attempt in range(5):
        try:
            with runtime.engine.begin() as conn:
                # indicator_periods first: the tables in the order a request still running reads them
                # (an indicator table asks for a kept period before it reads the reports), else the two
                # wait for each other
                conn.execute(text("TRUNCATE indicator_periods, reports, photos, case_events, outbox, notifications, "
                                  "case_links, extension_requests, case_requests, routing_rules, callers, disputes, "
                                  "dispute_parties, dispute_steps, dispute_photos, patrols, track_points, patrol_cells, patrol_plans "
                                  "RESTART IDENTITY CASCADE"))
                conn.execute(text(
                    "DELETE FROM api_tokens WHERE user_id IN "
                    "(SELECT id FROM users WHERE NOT (username = ANY(:keep)))"),
                    {"keep": sorted(DEMO_USERS)})
                conn.execute(text("DELETE FROM users WHERE NOT (username = ANY(:keep))"),
                             {"keep": sorted(DEMO_USERS)})
                # test grids live outside the demo district; children go before parents
                conn.execute(text("DELETE FROM areas WHERE code NOT LIKE '110101%' AND length(code) >= 14"))
                for n in (12, 9, 6):
                    conn.execute(text("DELETE FROM areas WHERE code NOT LIKE '110101%' "
                                      "AND length(code) = :n"), {"n": n})
            break
        except OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
    # the running estimates /health keeps went with the reports (as when another process
    # changes them, /health would see it only in its next minute)
    health_service.forget_calendar_facts()
    with contextlib.suppress(Exception):
        runtime.redis.flushdb()


@pytest.fixture(scope="session")
def demo_cell(engine, database) -> dict:
    """A cell of the demo worker's community, with its centre point."""
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT a.code, a.name, ST_X(ST_PointOnSurface(a.boundary)) AS lon,
                   ST_Y(ST_PointOnSurface(a.boundary)) AS lat
              FROM areas a, users u
             WHERE u.username = :worker AND a.level = 'cell'
               AND a.code LIKE u.scopes[1] || '%'
               AND ST_NumGeometries(a.boundary) = 1
               AND ST_NumInteriorRings(ST_GeometryN(a.boundary, 1)) = 0
             ORDER BY a.code LIMIT 1
        """), {"worker": PERSONAS["worker"]}).mappings().one()
    return dict(row)


# `make test` runs the tests of everything that reads a clock again with the application's
# clock moved years away from the machine's (GRIDSNAP_TEST_CLOCK_SHIFT_DAYS, e.g. -1100 and
# 1100), while PostgreSQL keeps the real date: a rule that mixes the application's clock with
# the database's, or a test that leans on today's date, fails there.
CLOCK_SHIFT = timedelta(days=float(os.environ.get("GRIDSNAP_TEST_CLOCK_SHIFT_DAYS") or 0))


def _unset_now() -> datetime:
    """The application's time when no test set it: the machine's, moved by CLOCK_SHIFT."""
    return datetime.now(UTC) + CLOCK_SHIFT


@pytest.fixture(scope="session", autouse=True)
def _shifted_clock():
    with pytest.MonkeyPatch.context() as mp:
        if CLOCK_SHIFT:
            mp.setattr(clock, "now", _unset_now)
        yield


@pytest.fixture()
def at(monkeypatch):
    """A controlled clock for the application: at(datetime) moves it (unset: the real time,
    moved by CLOCK_SHIFT)."""
    state: dict = {"now": None}

    def set_now(when: datetime) -> None:
        state["now"] = when

    monkeypatch.setattr(clock, "now", lambda: state["now"] or _unset_now())
    return set_now


def report_body(cell: dict, **overrides) -> dict:
    """A report of `cell`, captured ten minutes before the application's clock (tests move it),
    whole seconds in UTC, so the capture time is always plausible."""
    captured = (clock.now() - timedelta(minutes=10)).astimezone(UTC).replace(microsecond=0)
    body = {
        "category": "E0101",
        "description": "垃圾堆放在路边",
        "location": {"lon": cell["lon"], "lat": cell["lat"], "accuracy_m": 8.5},
        "captured_at": captured.isoformat(),
    }
    body.update(overrides)
    return body


def new_id() -> str:
    return str(uuid.uuid4())
