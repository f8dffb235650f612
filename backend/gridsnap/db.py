"""The SQLAlchemy base with its constraint naming convention, the engine and sessions."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import MetaData, create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
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


_MEMO = "gridsnap.batch_memo"


@contextmanager
def batch_memo(session: Session) -> Iterator[None]:
    """Within it, each lookup wrapped by `memoized` runs once per key on this session: a batch
    of the system's changes in one transaction (the routing of new cases) asks for the routing
    rule of a category and area, or an area's supervisors, once — not once a case. The
    answers are those of the batch's transaction; they are dropped when the block ends."""
    outer = session.info.get(_MEMO)
    if outer is None:
        session.info[_MEMO] = {}
    try:
        yield
    finally:
        if outer is None:
            session.info.pop(_MEMO, None)


def memoized(session: Session, key: tuple, compute: Callable[[], Any]) -> Any:
    """`compute()`, asked once per `key` inside a batch_memo block of this session (the
    answer kept until the block ends), every time outside one."""
    memo = session.info.get(_MEMO)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def remember(session: Session, key: tuple, value: Any) -> None:
    """Give `memoized` its answer for `key` ahead (a batch's lookups asked in one statement);
    nothing outside a batch_memo block."""
    memo = session.info.get(_MEMO)
    if memo is not None:
        memo[key] = value


class RawStatement:
    """An SQL statement (with :name parameters) sent straight to psycopg on the session's
    connection and transaction. For the hot paths (intake, case actions): SQLAlchemy's
    execution layer costs as much as PostgreSQL's own work there (see docs/benchmarks.md)."""

    def __init__(self, sql: str):
        # :name → %(name)s, leaving ::casts alone; kept as bytes, so that psycopg does not
        # encode the text again on every execution (the case change's is ~8.5 kB)
        self.sql = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s",
                          sql.replace("%", "%%")).encode()
        # the names of the answer's columns, read from the first answer: a statement's text
        # fixes them (psycopg's dict_row decodes every name again for each execution: ~100
        # columns for the case read model)
        self._names: tuple[str, ...] | None = None

    def one(self, session: Session, params: dict) -> dict | None:
        """The first row as a dict, or None."""
        return self.one_on(session.connection(), params)

    def one_on(self, connection: Connection, params: dict) -> dict | None:
        """The same on a connection the caller took (with its execution options)."""
        with connection.connection.driver_connection.cursor(row_factory=self._rows) as cur:
            cur.execute(self.sql, params)
            return cur.fetchone()

    def _rows(self, cursor) -> Callable[[Sequence[Any]], dict]:
        """psycopg's dict_row with the column names kept from the statement's first answer
        (read again should their count differ)."""
        names = self._names
        result = cursor.pgresult
        if names is None or result is None or len(names) != result.nfields:
            if cursor.description is None:
                return dict_row(cursor)
            names = self._names = tuple(c.name for c in cursor.description)
        return lambda values: dict(zip(names, values, strict=True))


# --- a streaming replica for heavy reads -------------------------------------------------------

# the WAL position in bytes: where the primary has written to, where a replica has replayed to
_PRIMARY_LSN = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
_REPLAYED_LSN = ("SELECT pg_is_in_recovery() AS standby, "
                 "pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint AS lsn")


@dataclass(frozen=True)
class ReadRoute:
    """Where a heavy read goes: "replica" or "primary"; lag_s: how far behind the primary the
    answer may be, at most (0 from the primary); why: a word for the logs and the headers."""

    source: str
    lag_s: float
    why: str = ""


class ReplicaLag:
    """How far a streaming replica is behind its primary, in seconds, on this process's
    monotonic clock and the primary's WAL positions — no clock of either database (they may
    differ, and gridsnap has one clock). Each look samples the primary's position; the replica
    has replayed everything up to the newest sample at or below its replay position, so it is
    at most (now − that sample's time) behind. With no such sample yet (a process just started,
    or a replica far behind) the lag is unknown, and the read goes to the primary.

    Looks are cached for `cache_s`; thread-safe (gunicorn may run threads)."""

    def __init__(self, primary: Engine, replica: Engine, max_lag_s: float,
                 cache_s: float = 0.5, history: int = 1200) -> None:
        self.primary, self.replica, self.max_lag_s = primary, replica, max_lag_s
        self.cache_s = cache_s
        self._samples: deque[tuple[float, int]] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._last: tuple[float, float | None, str] | None = None

    def _look(self) -> tuple[float | None, str]:
        """(lag upper bound in seconds, or None if unknown; a word on why)."""
        with self.primary.connect() as conn:
            position = conn.exec_driver_sql(_PRIMARY_LSN).scalar_one()
        now = time.monotonic()
        self._samples.append((now, position))
        try:
            with self.replica.connect() as conn:
                row = conn.exec_driver_sql(_REPLAYED_LSN).mappings().one()
        except Exception as exc:
            if is_unavailable(exc):
                return None, "replica unavailable"
            raise
        if not row["standby"] or row["lsn"] is None:
            return None, "not a standby"
        replayed = row["lsn"]
        caught_up = [t for t, lsn in self._samples if lsn <= replayed]
        if not caught_up:
            return None, "lag unknown"
        return now - max(caught_up), "measured"

    def route(self) -> ReadRoute:
        """The replica if it is at most max_lag_s behind, else the primary."""
        with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._last[0] > self.cache_s:
                lag, why = self._look()
                self._last = (time.monotonic(), lag, why)
            measured_at, lag, why = self._last
        if lag is None:
            return ReadRoute("primary", 0.0, why)
        lag += time.monotonic() - measured_at  # the cached look has aged
        if lag > self.max_lag_s:
            return ReadRoute("primary", 0.0, f"replica {lag:.1f} s behind")
        return ReadRoute("replica", lag, why)


def end_read_only(session) -> bool:
    """End the session's transaction with COMMIT if it wrote nothing (PostgreSQL assigned it no
    transaction id: COMMIT and ROLLBACK then do the same), before the session is closed; whether
    it did. psycopg forgets every statement it prepared on the connection at each ROLLBACK of an
    open transaction, and a request that does not commit (every read) ends that way: the case
    statements were planned anew (~3.5 ms the lock, ~2.6 ms the read model) after each read on
    that connection. A transaction that wrote, or that failed, is left to the rollback."""
    if not session.in_transaction():
        return False
    raw = session.connection().connection.dbapi_connection
    info = getattr(raw, "info", None)
    if info is None or info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        return False
    if raw.execute("SELECT txid_current_if_assigned() IS NULL").fetchone()[0]:
        raw.commit()
        return True
    return False


class AtLeast(int):
    """A count that stopped early: at least this many (a list's total past what is worth
    counting exactly; the API says so in X-Pagination's `total_exact`)."""

    exact = False
