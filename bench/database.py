"""The benchmark's own database: dropped and made anew, migrated, with the demo city loaded."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from .env import BenchEnv


def connect(env: BenchEnv, *, admin: bool = False) -> psycopg.Connection:
    """An autocommit connection (VACUUM, DROP DATABASE need one) in UTC."""
    return psycopg.connect(env.admin_url if admin else env.database_url, autocommit=True,
                           options="-c timezone=UTC", connect_timeout=10)


def make_demo_database(admin_url: str, name: str) -> str:
    """Drop database `name` (ending its sessions), create it with PostGIS, migrate it and load
    the demo city; returns its libpq URL. Every benchmark part starts from one of these."""
    from sqlalchemy.orm import Session

    from gridsnap.db import make_engine
    from gridsnap.demo import load_demo
    from gridsnap.migrate import upgrade

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    p = urlsplit(admin_url)
    url = urlunsplit((p.scheme, p.netloc, f"/{name}", p.query, ""))
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    upgrade(sa_url)
    engine = make_engine(sa_url)
    try:
        with Session(engine) as session:
            load_demo(session)
            session.commit()
    finally:
        engine.dispose()
    return url


def upgrade(env: BenchEnv) -> None:
    """Migrate the env's database to the code's schema (a database an earlier run built)."""
    from gridsnap.migrate import upgrade as migrate

    migrate(env.database_url.replace("postgresql://", "postgresql+psycopg://", 1))


def recreate(env: BenchEnv) -> None:
    """Drop the env's database (ending its sessions), create it, migrate it, load the demo
    city."""
    make_demo_database(env.admin_url, env.db_name)


def drop(env: BenchEnv) -> None:
    """Drop the env's database, ending its sessions."""
    with connect(env, admin=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(env.db_name)))


def user_id(conn: psycopg.Connection, username: str) -> int:
    return conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()[0]


def reset_intake(conn: psycopg.Connection) -> None:
    """Empty every table intake and follow-up write to (grid, users and catalogue stay):
    reports and whatever refers to them (events, photos, links), and the outbox."""
    conn.execute("TRUNCATE reports, outbox CASCADE")
    conn.execute("VACUUM ANALYZE reports")


def count_reports(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM reports").fetchone()[0]


def versions(conn: psycopg.Connection) -> dict[str, str]:
    row = conn.execute("SELECT current_setting('server_version'), postgis_lib_version(), "
                       "postgis_geos_version()").fetchone()
    return {"postgresql": row[0], "postgis": row[1], "geos": row[2]}
