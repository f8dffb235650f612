"""Operations: the database's health, and the working calendar's coverage of the deadlines in
use (gathered here, above the features it reads: categories, cases and the hotline's limits)."""

from __future__ import annotations

import functools
import json
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..cases.rules import OPEN_STATUSES
from ..deadlines import service as deadline_service
from ..deadlines.rules import TimeLimit, hotline_limit
from ..settings import Settings
from . import queries

# What the calendar's coverage reads from the database (the categories' time limits, the
# running estimated deadlines) changes rarely, and a load balancer probes /health every second
# on every node: each process keeps what it read, and reads it again with the next probe of
# another minute of the application's clock in the deployment's time zone (a new day is a new
# minute), or once this process has committed a change of a running estimate
# (deadlines.service.estimates_changed). A change made by another process shows within the
# minute. The probe itself is one statement: PostGIS and the outbox's backlog.
_CALENDAR_FACTS = ("time_limits", "per_year", "guessed")
_kept: dict[tuple[str, str], tuple[tuple, dict]] = {}
_kept_lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _freshness(settings: Settings, now: datetime) -> tuple:
    """What the kept calendar facts hold for: this local minute (and day), and the estimates
    as this process last changed them."""
    local = now.astimezone(_zone(settings.timezone))
    return (local.date(), local.hour, local.minute, deadline_service.estimates_version())


def database_facts(session: Session, settings: Settings, now: datetime) -> dict:
    """{postgis, pending, failed, postponed}: PostGIS's version, the outbox's due and failed
    messages and those postponed because a resource ran out; and what the calendar's coverage
    reads (time_limits, per_year, guessed) as this process keeps it (above), read again in the
    same statement when it is due."""
    place = (settings.database_url, settings.timezone)
    fresh = _freshness(settings, now)  # before reading: a change meanwhile reads again
    kept = _kept.get(place)
    if kept is not None and kept[0] == fresh:
        return {**queries.database_facts(session, now), **kept[1]}
    facts = dict(queries.health_facts(session, now, statuses=OPEN_STATUSES,
                                      tz=settings.timezone))
    with _kept_lock:
        _kept[place] = (fresh, {k: facts[k] for k in _CALENDAR_FACTS})
    return facts


def forget_calendar_facts() -> None:
    """Read the calendar facts again with the next probe (the tables were emptied behind this
    process's back: the tests, between two)."""
    with _kept_lock:
        _kept.clear()


@functools.lru_cache(maxsize=256)
def _limits(stored: str) -> frozenset[TimeLimit]:
    return frozenset(TimeLimit.from_dict(v) for v in json.loads(stored).values())


def limits_in_use(settings: Settings, stored: list[str]) -> list[TimeLimit]:
    """Every time limit in use: the categories' (their time_limits as stored, distinct) and
    the hotline's."""
    return list(_limits_in_use(tuple(stored), settings.hotline_time_limits))


@functools.lru_cache(maxsize=64)
def _limits_in_use(stored: tuple[str, ...], hotline) -> tuple[TimeLimit, ...]:
    limits = set().union(*map(_limits, stored))
    limits.update(hotline_limit(hotline, name) for name, _, _ in hotline)
    return tuple(sorted(limits, key=lambda lim: (lim.unit, lim.amount)))


# The coverage changes with the day (the years in use), the holidays file, the limits and the
# running estimates: it is counted again when any of them changes, and at most once a minute
# otherwise. The holidays file is looked at on every call (its size and time: calendar_of reads
# it again when it changed).
_REPORTS: dict = {}


def coverage_of(settings: Settings, now: datetime, facts: dict) -> dict:
    """The calendar's coverage (`deadlines.service.calendar_report`) from `database_facts`; as
    of the start of now's minute (longest_limit_due_at, the years in use). The same dict for
    the same inputs (a caller may keep what it made of it)."""
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
    for the limits in use and the open cases' running estimated deadlines (read now, not
    kept: GET /calendar, `gridsnap deadlines status`)."""
    facts = dict(queries.health_facts(session, now, statuses=OPEN_STATUSES,
                                      tz=settings.timezone))
    return coverage_of(settings, now, facts)
