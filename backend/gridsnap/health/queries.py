"""The statements of GET /health: PostgreSQL with PostGIS, and the outbox's backlog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..outbox.rules import EXHAUSTED

_DATABASE = text("""
    SELECT postgis_lib_version() AS postgis,
           (SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL
              AND (available_at IS NULL OR available_at <= :now)) AS pending,
           (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS failed,
           (SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL
              AND starts_with(last_error, :exhausted)) AS postponed
""")


def database_facts(session: Session, now: datetime):
    """PostGIS's version and the outbox's backlog: pending (due) and failed messages, and those
    postponed because a resource ran out (outbox.rules.EXHAUSTED)."""
    return session.execute(_DATABASE, {"now": now, "exhausted": EXHAUSTED}).mappings().one()
