"""The SQLAlchemy base with its constraint naming convention, the engine and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, create_engine, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


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
    import_all_models()  # foreign keys between features resolve only with every model known
    return sessionmaker(bind=engine, expire_on_commit=False)


def import_all_models() -> None:
    """Import every feature's models so Base.metadata is complete (Alembic, tests)."""
    from .campaigns import models as _cp  # noqa: F401
    from .categories import models as _c  # noqa: F401
    from .grid import models as _g  # noqa: F401
    from .notifications import models as _n  # noqa: F401
    from .outbox import models as _o  # noqa: F401
    from .reports import models as _r  # noqa: F401
    from .routing import models as _rr  # noqa: F401
    from .stats import models as _s  # noqa: F401
    from .users import models as _u  # noqa: F401
