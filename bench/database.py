"""The benchmark's own database: dropped and made anew, migrated, with the demo city loaded."""

from __future__ import annotations

import psycopg
from psycopg import sql

from .env import BENCH_DB, BenchEnv


def connect(env: BenchEnv, *, admin: bool = False) -> psycopg.Connection:
    """An autocommit connection (VACUUM, DROP DATABASE need one) in UTC."""
    return psycopg.connect(env.admin_url if admin else env.database_url, autocommit=True,
                           options="-c timezone=UTC", connect_timeout=10)


def recreate(env: BenchEnv) -> None:
    """Drop gridsnap_bench (ending its sessions), create it, migrate it, load the demo city."""
    with connect(env, admin=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    with connect(env) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    from gridsnap.demo import load_demo
    from gridsnap.extensions import Runtime
    from gridsnap.migrate import upgrade
    from gridsnap.settings import Settings

    upgrade(env.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    rt = Runtime(Settings.from_env(database_url=env.database_url, redis_url=env.redis_url,
                                   media_dir=env.media_dir))
    try:
        with rt.sessions() as session:
            load_demo(session)
            session.commit()
    finally:
        rt.dispose()


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
