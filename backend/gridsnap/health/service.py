"""Operations: the database's health, and the working calendar's coverage of the deadlines in
use (gathered here, above the features it reads: categories, cases and the hotline's limits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..cases import queries as case_queries
from ..cases.rules import OPEN_STATUSES
from ..categories import queries as category_queries
from ..deadlines import service as deadline_service
from ..deadlines.rules import TimeLimit, hotline_limit
from ..settings import Settings
from . import queries


def database_facts(session: Session, now: datetime) -> dict:
    """{postgis, pending, failed, postponed}: PostGIS's version, the outbox's due and failed
    messages, and those postponed because a resource ran out."""
    return dict(queries.database_facts(session, now))


def configured_limits(session: Session, settings: Settings) -> list[TimeLimit]:
    """Every time limit in use: each active category's per stage, and the hotline's."""
    limits = {TimeLimit.from_dict(v) for row in category_queries.list_category_rows(session)
              for v in row["time_limits"].values()}
    limits.update(hotline_limit(settings.hotline_time_limits, name)
                  for name, _, _ in settings.hotline_time_limits)
    return sorted(limits, key=lambda lim: (lim.unit, lim.amount))


def calendar_coverage(session: Session, settings: Settings, now: datetime) -> dict:
    """What the calendar covers and whether that is enough (`deadlines.service.calendar_report`)
    for the limits in use and the open cases' running estimated deadlines."""
    per_year, guessed = case_queries.estimated_deadlines(
        session, statuses=OPEN_STATUSES, tz=settings.timezone)
    return deadline_service.calendar_report(
        settings, now, limits=configured_limits(session, settings), per_year=per_year,
        guessed=guessed)
