"""A request that wrote nothing ends its transaction with COMMIT (db.end_read_only), so the
statements psycopg prepared on the connection stay prepared: psycopg forgets them all on every
ROLLBACK of an open transaction, which is how every read request used to end."""

from __future__ import annotations

import psycopg

from gridsnap.db import end_read_only

PREPARED = "SELECT count(*) FROM pg_prepared_statements"


def _prepare_one(raw) -> None:
    raw.execute("SELECT %s::int + 1", (1,), prepare=True)
    assert raw.execute(PREPARED).fetchone()[0] >= 1


def test_a_read_only_transaction_ends_keeping_the_prepared_statements(runtime):
    with runtime.sessions() as s:
        raw = s.connection().connection.dbapi_connection
        _prepare_one(raw)
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert end_read_only(s)
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        s.close()  # the session's own rollback now has nothing to end: nothing forgotten
        assert raw.execute(PREPARED).fetchone()[0] >= 1
        raw.rollback()


def test_a_rollback_forgets_them_and_a_transaction_that_wrote_is_left_to_it(runtime):
    with runtime.sessions() as s:
        raw = s.connection().connection.dbapi_connection
        _prepare_one(raw)
        raw.execute("CREATE TEMP TABLE written_here (x int)")  # a write: a transaction id
        assert not end_read_only(s)
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        s.rollback()
        # psycopg's ROLLBACK forgot (and deallocated) every prepared statement; the write is gone
        assert raw.execute(PREPARED).fetchone()[0] == 0
        assert raw.execute("SELECT to_regclass('pg_temp.written_here')").fetchone()[0] is None
        raw.rollback()

