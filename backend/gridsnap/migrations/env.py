"""Alembic environment: migrates the database named by the gridsnap settings (or a given connection)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import gridsnap.models  # noqa: F401 (every table in Base.metadata)
from gridsnap.db import Base
from gridsnap.settings import Settings

target_metadata = Base.metadata

# PostGIS's own tables and the extension schemas are not ours to migrate.
_FOREIGN_TABLES = {"spatial_ref_sys", "layer", "topology"}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name in _FOREIGN_TABLES:
        return False
    return not (type_ == "table" and reflected and compare_to is None
                and obj.schema in ("tiger", "tiger_data", "topology"))


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        compare_server_default=False,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("gridsnap migrations run online only")
run_migrations_online()
