"""Calendar coverage: which years have official holiday data, and whether the deadlines in use
need a year that has none (for /health, GET /calendar, the command centre and the logs)."""

from __future__ import annotations

import functools
import itertools
import logging
import os
import threading
from datetime import datetime

from .. import clock
from ..settings import Settings
from .rules import (
    LIBRARY,
    HolidayData,
    HolidaysFileError,
    TimeLimit,
    WorkCalendar,
    due_at,
    holidays_from_bytes,
)

log = logging.getLogger("gridsnap.deadlines")


def calendar_for(tz: str, business_hours: tuple[str, str], holidays_file: str = "") -> WorkCalendar:
    """The deployment's calendar from its settings (Settings.timezone, business_hours,
    holidays_file). The holidays file is read again when it changes on disk (its size or
    modification time); raises HolidaysFileError when it cannot be read or is invalid."""
    return _calendar(tz, business_hours, holidays_data(holidays_file))


@functools.lru_cache(maxsize=16)
def _calendar(tz: str, business_hours: tuple[str, str], data: HolidayData) -> WorkCalendar:
    return WorkCalendar.from_business_hours(tz, business_hours, data)


def load_holidays_file(path: str) -> HolidayData:
    """The holiday data with the file's years; raises HolidaysFileError (unreadable, not JSON,
    or invalid as `parse_holidays` says)."""
    try:
        raw = open(path, "rb").read()  # noqa: SIM115 - read whole, closed at once
    except OSError as exc:
        raise HolidaysFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return holidays_from_bytes(raw, path)


_loaded: dict[str, tuple[tuple[int, int], HolidayData]] = {}
_refused: dict[str, tuple[int, int]] = {}
_loaded_lock = threading.Lock()


def holidays_data(path: str = "") -> HolidayData:
    """The holiday data of the deployment: the library alone without a file; with one, the
    file read when it is first asked for and again when it changes on disk. A running process
    that finds the changed file invalid logs the error and keeps the data it had (the first
    reading raises HolidaysFileError: processes check it at start)."""
    if not path:
        return LIBRARY
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (0, -1)
    known = _loaded.get(path)
    if known is not None and (known[0] == stamp or _refused.get(path) == stamp):
        return known[1]
    try:
        data = load_holidays_file(path)
    except HolidaysFileError:
        if known is None:
            raise
        _refused[path] = stamp  # logged once per change of the file
        log.error("the holidays file changed and is now invalid; keeping the days it gave "
                  "before", exc_info=True)
        return known[1]
    with _loaded_lock:
        _loaded[path] = (stamp, data)
    return data


# The deadlines in use (the running estimates of open cases) change only when a case's deadline
# is set, moved or ends: the writer of cases tells this process once such a change is committed
# (`estimates_changed`), and a reader that keeps what it read of them (health.service, for
# /health) reads them again when `estimates_version` has moved. Other processes' changes reach
# it by its own refresh (a minute at most).
_estimates = itertools.count(1)
_estimates_seen = 0


def estimates_changed() -> None:
    """A committed change set, moved or ended a running deadline that is (or was) an estimate."""
    global _estimates_seen
    _estimates_seen = next(_estimates)


def estimates_version() -> int:
    """Moves with every `estimates_changed` of this process."""
    return _estimates_seen


def calendar_of(settings: Settings) -> WorkCalendar:
    """The deployment's working calendar (raises HolidaysFileError on a bad holidays file)."""
    return calendar_for(settings.timezone, settings.business_hours, settings.holidays_file)


def years_missing_soon(settings: Settings, now: datetime) -> list[int]:
    """This year and the next, those without official holiday data (what processes log at
    start: in November the next year's notice is due)."""
    cal = calendar_of(settings)
    year = now.astimezone(cal.zone).year
    return [y for y in (year, year + 1) if not cal.covers(y)]


# Set by `gridsnap run` for the processes it starts under supervisord: it has said the
# warning below once for the whole start, so they do not say it again (one per process).
ANNOUNCED_ENV = "GRIDSNAP_CALENDAR_ANNOUNCED"


def missing_years_warning(settings: Settings) -> str | None:
    """At a process's start: read the holidays file (a bad one stops the start with its
    error); the warning to give when this year or the next has no official holiday data."""
    try:
        missing = years_missing_soon(settings, clock.now())
    except HolidaysFileError as exc:
        raise SystemExit(f"gridsnap: GRIDSNAP_HOLIDAYS_FILE: {exc}") from None
    if not missing:
        return None
    return ("no official holiday data (the State Council's notice) for "
            f"{', '.join(map(str, missing))}: deadlines counted over it are estimates "
            "(statutory holidays only, no 调休). Add the notice to GRIDSNAP_HOLIDAYS_FILE (or "
            "upgrade the holidays library), then run `gridsnap deadlines recompute`.")


def log_missing_years(settings: Settings, *, announced: bool = False) -> None:
    """At a process's start: check the holidays file and log the warning of
    `missing_years_warning`, unless the command that started this process has `announced`
    it already (see ANNOUNCED_ENV)."""
    warning = missing_years_warning(settings)
    if warning and not announced:
        log.warning("%s", warning)


def calendar_report(settings: Settings, now: datetime, *, limits: list[TimeLimit],
                    per_year: list, guessed: list[int]) -> dict:
    """What the calendar covers and whether that is enough (the rule, README "Holidays"):

    A year is *in use* when an open case's running deadline was counted over it (from its
    stage's start to its deadline, the due year included; natural hours read no calendar),
    or when a stage starting now under the longest configured limit would fall due in it or
    run across it. A deadline counted over a year without data is an estimate and carries
    that year (due_at_guessed_years), so the years in use are this year to the horizon, and
    the guessed years of the running estimates. A warning is given for each year in use
    without official data, and when running estimates were counted over years that now have
    data (they need `gridsnap deadlines recompute`).

    `limits` are the time limits in use, `per_year` the running estimated deadlines by the year
    they fall due in ([{year, cases}]) and `guessed` the years they were estimated over: the
    caller gathers them (`health.service.calendar_coverage`), this module reads no case.

    Returns: ok (no warning), years [{year, official, source}] from this year to the last in
    use (at least the next), uncovered_in_use, longest_limit_due_at, estimated [{year, cases}]
    (the running estimates by the year they fall due in), estimated_cases, recompute_needed,
    holidays_file ({sha256, years} | None), warnings (English sentences).
    """
    cal = calendar_of(settings)
    zone = cal.zone
    this_year = now.astimezone(zone).year
    horizon = max((due_at(now, lim, cal) for lim in limits), default=now)
    horizon_year = horizon.astimezone(zone).year
    in_use = set(range(this_year, horizon_year + 1))
    in_use.update(guessed)
    uncovered = sorted(y for y in in_use if not cal.covers(y))
    now_covered = sorted(y for y in guessed if cal.covers(y))
    estimated = sum(r["cases"] for r in per_year)
    last = max([this_year + 1, *in_use])

    warnings = []
    if uncovered:
        years = ", ".join(map(str, uncovered))
        warnings.append(
            f"No official holiday data (the State Council's notice) for {years}: deadlines "
            f"counted over it are estimates (statutory holidays only, no 调休) — {estimated} "
            "running deadline(s) are, and a stage starting now may run until "
            f"{horizon.astimezone(zone):%Y-%m-%d}. Add the notice to GRIDSNAP_HOLIDAYS_FILE "
            "(or upgrade the holidays library), then run `gridsnap deadlines recompute`.")
    if now_covered:
        warnings.append(
            f"Running deadlines were estimated over {', '.join(map(str, now_covered))}, "
            "which now has official holiday data: run `gridsnap deadlines recompute`.")
    data = cal.holidays
    return {
        "ok": not warnings,
        "years": [{"year": y, "official": cal.covers(y), "source": data.source_of(y)}
                  for y in range(min([this_year, *in_use]), last + 1)],
        "uncovered_in_use": uncovered,
        "longest_limit_due_at": horizon,
        "estimated": [{"year": r["year"], "cases": r["cases"]} for r in per_year],
        "estimated_cases": estimated,
        "recompute_needed": bool(now_covered),
        "holidays_file": ({"sha256": data.sha256, "years": sorted(data.file_years)}
                          if data.path else None),
        "warnings": warnings,
    }
