"""The statements of GET /health: PostgreSQL with PostGIS, the outbox's backlog, and what the
calendar's coverage reads (the time limits in use, the running estimated deadlines), in one
statement: a load balancer probes this every second on every node."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..cases.queries import ESTIMATED_PER_YEAR_JSON, ESTIMATED_YEARS_JSON
from ..categories.queries import TIME_LIMITS_TEXTS
from ..outbox.rules import EXHAUSTED

_OUTBOX = """
    (SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL
        AND (available_at IS NULL OR available_at <= :now)) AS pending,
    (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS failed,
    (SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL
        AND starts_with(last_error, :exhausted)) AS postponed"""

_DATABASE = text(f"SELECT postgis_lib_version() AS postgis, {_OUTBOX}")

_HEALTH = text(f"""
    SELECT postgis_lib_version() AS postgis, {_OUTBOX},
           {TIME_LIMITS_TEXTS} AS time_limits,
           {ESTIMATED_PER_YEAR_JSON} AS per_year,
           {ESTIMATED_YEARS_JSON} AS guessed
""")


def database_facts(session: Session, now: datetime):
    """PostGIS's version and the outbox's backlog: pending (due) and failed messages, and those
    postponed because a resource ran out (outbox.rules.EXHAUSTED)."""
    return session.execute(_DATABASE, {"now": now, "exhausted": EXHAUSTED}).mappings().one()


def health_facts(session: Session, now: datetime, *, statuses, tz: str):
    """database_facts, and the distinct time limits of the active categories (time_limits:
    texts of {stage: {amount, unit}}) and the running estimated deadlines (per_year, guessed)
    the calendar's coverage reads."""
    return session.execute(_HEALTH, {"now": now, "exhausted": EXHAUSTED,
                                     "statuses": list(statuses), "tz": tz}).mappings().one()
