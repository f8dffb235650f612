"""Operations: the database's health, and the working calendar's coverage of the deadlines in
use (gathered here, above the features it reads: categories, cases and the hotline's limits)."""

from __future__ import annotations

import functools
import json
from datetime import datetime

from sqlalchemy.orm import Session

from ..cases.rules import OPEN_STATUSES
from ..deadlines import service as deadline_service
from ..deadlines.rules import TimeLimit, hotline_limit
from ..settings import Settings
from . import queries


def database_facts(session: Session, settings: Settings, now: datetime) -> dict:
    """{postgis, pending, failed, postponed}: PostGIS's version, the outbox's due and failed
    messages and those postponed because a resource ran out;
    and what the calendar's coverage reads (time_limits, per_year, guessed), in one statement."""
    return dict(queries.health_facts(session, now, statuses=OPEN_STATUSES,
                                     tz=settings.timezone))


@functools.lru_cache(maxsize=256)
def _limits(stored: str) -> frozenset[TimeLimit]:
    return frozenset(TimeLimit.from_dict(v) for v in json.loads(stored).values())


def limits_in_use(settings: Settings, stored: list[str]) -> list[TimeLimit]:
    """Every time limit in use: the categories' (their time_limits as stored, distinct) and
    the hotline's."""
    limits = set().union(*map(_limits, stored))
    limits.update(hotline_limit(settings.hotline_time_limits, name)
                  for name, _, _ in settings.hotline_time_limits)
    return sorted(limits, key=lambda lim: (lim.unit, lim.amount))


# The coverage changes with the day (the years in use), the holidays file, the limits and the
# running estimates: it is counted again when any of them changes, and at most once a minute
# otherwise (a load balancer probes /health every second on every node). The holidays file is
# looked at on every call (its size and time: calendar_of reads it again when it changed).
_REPORTS: dict = {}


def coverage_of(settings: Settings, now: datetime, facts: dict) -> dict:
    """The calendar's coverage (`deadlines.service.calendar_report`) from `database_facts`; as
    of the start of now's minute (longest_limit_due_at, the years in use)."""
    cal = deadline_service.calendar_of(settings)  # raises HolidaysFileError on a bad file
    minute = now.replace(second=0, microsecond=0)
    limits = limits_in_use(settings, facts["time_limits"])
    per_year = tuple((r["year"], r["cases"]) for r in facts["per_year"])
    key = (cal.holidays, settings.timezone, settings.business_hours, minute, tuple(limits),
           per_year, tuple(facts["guessed"]))
    report = _REPORTS.get(key)
    if report is None:
        report = deadline_service.calendar_report(
            settings, minute, limits=limits, guessed=list(facts["guessed"]),
            per_year=[{"year": y, "cases": n} for y, n in per_year])
        if len(_REPORTS) > 16:
            _REPORTS.clear()
        _REPORTS[key] = report
    return report


def calendar_coverage(session: Session, settings: Settings, now: datetime) -> dict:
    """What the calendar covers and whether that is enough (`deadlines.service.calendar_report`)
    for the limits in use and the open cases' running estimated deadlines."""
    return coverage_of(settings, now, database_facts(session, settings, now))
