"""The SQLAlchemy base with its constraint naming convention, the engine and sessions."""

from __future__ import annotations

import re

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import MetaData, create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The database is away (restarting, unreachable, the connection cut) or the statement may simply
# be tried again (a deadlock, a serialization failure, a cancelled query): the request is answered
# 503 with Retry-After, a job is retried without counting it as the message's failure, the relay
# and workers wait and carry on (invariant 9). psycopg's own come from RawStatement.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, psycopg.OperationalError,
    psycopg.InterfaceError,
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means "the database cannot answer now", as opposed to a bug or bad data."""
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # no ping before every checkout (a round trip per request on the hot path): connections
        # are recycled, and a request that meets a dropped one is answered 503 (clients retry)
        pool_pre_ping=False,
        pool_recycle=300,
        # Every session runs in UTC; display time zones are the client's business.
        connect_args={"options": "-c timezone=UTC"},
    )


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions on `engine`; the caller imports gridsnap.models first (Runtime does)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


class RawStatement:
    """An SQL statement (with :name parameters) sent straight to psycopg on the session's
    connection and transaction. For the hot paths (intake, case actions): SQLAlchemy's
    execution layer costs as much as PostgreSQL's own work there (see docs/benchmarks.md)."""

    def __init__(self, sql: str):
        # :name → %(name)s, leaving ::casts alone
        self.sql = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql.replace("%", "%%"))

    def one(self, session: Session, params: dict) -> dict | None:
        """The first row as a dict, or None."""
        raw = session.connection().connection.driver_connection
        with raw.cursor(row_factory=dict_row) as cur:
            cur.execute(self.sql, params)
            return cur.fetchone()
