"""The statements of GET /health: PostgreSQL with PostGIS and the outbox's backlog (every probe:
a load balancer asks every second on every node), with what the calendar's coverage reads (the
time limits in use, the running estimated deadlines) when it is read again (service)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..cases.queries import ESTIMATED_PER_YEAR_JSON, ESTIMATED_YEARS_JSON
from ..categories.queries import TIME_LIMITS_TEXTS
from ..db import RawStatement, is_unavailable
from ..outbox.rules import EXHAUSTED

# The backlog, each part from a partial index that holds only work or trouble, never the
# messages scheduled for later (a deadline check per open case) nor the done ones (millions of
# them in a year). pending: not done, not failed, due (no time set, or its time come), whether
# on the queue already or not: in flight (ix_outbox_in_flight), to be sent at once
# (ix_outbox_ready), scheduled and due (ix_outbox_due, read up to now). failed and postponed
# (an error starting with EXHAUSTED, not failed): among the messages not done that failed or
# carry an error (ix_outbox_troubled), due or not. A failed message is never done (the runner
# marks done only what it loaded unfailed; a retry clears failed_at).
_OUTBOX = """(
    SELECT (SELECT count(*) FROM outbox
             WHERE enqueued_at IS NOT NULL AND done_at IS NULL AND failed_at IS NULL
               AND (available_at IS NULL OR available_at <= :now))
         + (SELECT count(*) FROM outbox
             WHERE enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL
               AND available_at IS NULL)
         + (SELECT count(*) FROM outbox
             WHERE enqueued_at IS NULL AND done_at IS NULL AND failed_at IS NULL
               AND available_at IS NOT NULL AND available_at <= :now) AS pending,
           troubled.failed, troubled.postponed
      FROM (SELECT count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
                   count(*) FILTER (WHERE failed_at IS NULL
                                     AND starts_with(last_error, :exhausted)) AS postponed
              FROM outbox
             WHERE done_at IS NULL AND (failed_at IS NOT NULL OR last_error IS NOT NULL))
           AS troubled) backlog"""

# straight to psycopg (db.RawStatement): SQLAlchemy's execution layer costs more than the
# statement here
_PROBE = RawStatement(f"SELECT postgis_lib_version() AS postgis, backlog.* FROM {_OUTBOX}")

_PROBE_AND_CALENDAR = RawStatement(f"""
    SELECT postgis_lib_version() AS postgis, backlog.*,
           {TIME_LIMITS_TEXTS} AS time_limits,
           {ESTIMATED_PER_YEAR_JSON} AS per_year,
           {ESTIMATED_YEARS_JSON} AS guessed
      FROM {_OUTBOX}
""")


def _probe(session: Session):
    """Where a probe runs: its one statement outside a transaction (no BEGIN and COMMIT: two
    round trips of three) when it is the request's first; in the session's transaction else."""
    if session.in_transaction():
        return session.connection()
    return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _one(statement: RawStatement, session: Session, params: dict) -> dict:
    connection = _probe(session)
    try:
        return statement.one_on(connection, params)
    except Exception as exc:
        if is_unavailable(exc):
            # a connection the database dropped is thrown away now, as SQLAlchemy's own
            # execution does (the request's end would find it broken, and log it)
            connection.invalidate()
        raise


def database_facts(session: Session, now: datetime) -> dict:
    """PostGIS's version and the outbox's backlog: pending (due) and failed messages, and those
    postponed because a resource ran out (outbox.rules.EXHAUSTED)."""
    return _one(_PROBE, session, {"now": now, "exhausted": EXHAUSTED})


def health_facts(session: Session, now: datetime, *, statuses, tz: str) -> dict:
    """database_facts, and the distinct time limits of the active categories (time_limits:
    texts of {stage: {amount, unit}}) and the running estimated deadlines (per_year, guessed)
    the calendar's coverage reads, in the same statement."""
    return _one(_PROBE_AND_CALENDAR, session, {
        "now": now, "exhausted": EXHAUSTED, "statuses": list(statuses), "tz": tz})
