"""The SQLAlchemy base with its constraint naming convention, the engine and sessions."""

from __future__ import annotations

from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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
