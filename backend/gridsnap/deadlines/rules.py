"""Time limits (限时办理) of case stages and the deadlines they give on the Chinese calendar.

Working days come from the maintained `holidays` library, which encodes each year's State
Council notice (国务院办公厅关于部分节假日安排的通知): public holidays, the weekdays given
off around them, and the weekend days worked in exchange (调休上班). No holiday list is kept
here. Only the PUBLIC category counts; HALF_DAY days (妇女节, 五四青年节, …) concern some
groups of people only and are ordinary working days for a city's departments.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

Unit = Literal["hours", "working_hours", "working_days"]
UNITS: tuple[str, ...] = get_args(Unit)
MAX_AMOUNT = 10_000


@dataclass(frozen=True)
class TimeLimit:
    """A stage's time limit: `amount` natural hours, working hours or working days."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        amount = self.amount
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise ValueError(
                f"time limit amount must be a whole number from 1 to {MAX_AMOUNT}, "
                f"not {amount!r}")
        if not 1 <= amount <= MAX_AMOUNT:
            raise ValueError(
                f"time limit amount must be from 1 to {MAX_AMOUNT}, not {amount}")
        if self.unit not in UNITS:
            raise ValueError(
                f"time limit unit must be one of {', '.join(UNITS)}, not {self.unit!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimeLimit:
        """Read `{"amount": 2, "unit": "hours"}` (a category's stored limit).

        Raises ValueError when the value is not such a mapping, a key is missing or unknown,
        the amount is not a whole number from 1 to 10000, or the unit is unknown.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"time limit must be an object with amount and unit, not {data!r}")
        missing = [key for key in ("amount", "unit") if key not in data]
        if missing:
            raise ValueError(f"time limit is missing {', '.join(missing)}")
        unknown = sorted(set(data) - {"amount", "unit"})
        if unknown:
            raise ValueError(f"time limit has unknown keys: {', '.join(map(str, unknown))}")
        return cls(amount=data["amount"], unit=data["unit"])

    def to_dict(self) -> dict[str, Any]:
        """The stored form, the inverse of `from_dict`."""
        return {"amount": self.amount, "unit": self.unit}


@dataclass(frozen=True)
class WorkCalendar:
    """Business hours (办公时间) on Chinese working days, in one time zone.

    `day_start` and `day_end` are local wall-clock times of every working day; there is no
    lunch break.
    """

    tz: str = "Asia/Shanghai"
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        if self.day_start.tzinfo is not None or self.day_end.tzinfo is not None:
            raise ValueError("business hours are local wall-clock times, without a time zone")
        if not self.day_start < self.day_end:
            raise ValueError(
                f"business hours must start before they end, not {self.day_start:%H:%M}"
                f"-{self.day_end:%H:%M}")

    @classmethod
    def from_business_hours(cls, tz: str, business_hours: tuple[str, str]) -> WorkCalendar:
        """Build from settings' strings, e.g. `("Asia/Shanghai", ("09:00", "18:00"))`.

        Raises ValueError on an unreadable time or the errors of the constructor.
        """
        start, end = (time.fromisoformat(value.strip()) for value in business_hours)
        return cls(tz=tz, day_start=start, day_end=end)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)  # ZoneInfo keeps its own cache: this is a dict lookup

    @property
    def day_length(self) -> timedelta:
        """Business time in one working day (9 h for 09:00-18:00)."""
        return _since_midnight(self.day_end) - _since_midnight(self.day_start)

    def is_working_day(self, d: date) -> bool:
        """True on Mon-Fri that are not public holidays, and on make-up weekend days (调休).

        For a year the library has no State Council notice for (see `calendar_coverage`),
        only the statutory holidays are taken off Mon-Fri and no weekend day is worked.
        """
        return d.toordinal() in _year_table(d.year).working


@functools.lru_cache(maxsize=16)
def calendar_for(tz: str, business_hours: tuple[str, str]) -> WorkCalendar:
    """The deployment's calendar from its settings' strings (Settings.timezone and
    Settings.business_hours); built once per distinct setting."""
    return WorkCalendar.from_business_hours(tz, business_hours)


def calendar_coverage(year: int) -> bool:
    """True when the holidays library knows that year's State Council holiday notice.

    False means the year's working days are a guess: Mon-Fri minus the statutory holidays
    (法定节假日) fixed by 《全国年节及纪念日放假办法》, without the bridge days off and the
    make-up weekend days (调休), which are only known once the notice is out (usually in
    November of the year before). The app should warn when a deadline falls in such a year.
    """
    return _year_table(year).covered


def due_at(start: datetime, limit: TimeLimit, cal: WorkCalendar) -> datetime:
    """The deadline of a stage that started at `start`; timezone-aware UTC.

    - `hours`: natural hours on the clock, nights, weekends and holidays included.
    - `working_hours`: only business hours of working days count, in the calendar's time
      zone. A start outside business hours counts from the next opening; a limit used up
      exactly at closing is due at that closing (16:00 + 2 h is due 18:00 the same day;
      17:00 + 2 h is due 10:00 on the next working day).
    - `working_days` (N个工作日), as 12345 and 数字城管 limits are read in practice:
      received during business hours of a working day, due at the same clock time on the
      Nth following working day (Mon 10:30 + 1 → Tue 10:30); received after closing or on a
      rest day or holiday, due at closing on the Nth working day after the day of receipt
      (Fri 20:00 + 1 → Mon 18:00, Sat + 1 → Mon 18:00); received at or before opening on a
      working day, that day counts in full: due at closing of the Nth working day counting
      that day (Mon 07:00 + 1 → Mon 18:00; 30 Sep 08:00 + 1 → 30 Sep 18:00, before the
      National Day holiday). Thus a later receipt never gets an earlier deadline, and every
      case gets exactly N full business days: `working_seconds_between(start, due) ==
      N * day_length`.

    One reading for both units: a deadline whose time runs out exactly at a day's closing is
    due at that closing, never at the next opening (the same instant of business time), so N
    working days and N × 9 working hours started at the same moment fall due together.

    Business-hour arithmetic is on the local wall clock (Asia/Shanghai has no DST).
    Raises ValueError when `start` is naive.
    """
    _require_aware(start, "start")
    if limit.unit == "hours":
        # In UTC: adding to a DST zone's aware datetime would add wall-clock hours.
        return start.astimezone(UTC) + timedelta(hours=limit.amount)

    zone = cal.zone
    local = start.astimezone(zone)
    day, clock = local.date(), local.time()

    if limit.unit == "working_days":
        working = cal.is_working_day(day)
        if working and cal.day_start < clock <= cal.day_end:
            due_day = _nth_working_day_after(day, limit.amount)
        elif working and clock <= cal.day_start:  # the whole day is still ahead: it counts
            clock = cal.day_end
            due_day = (day if limit.amount == 1
                       else _nth_working_day_after(day, limit.amount - 1))
        else:
            clock = cal.day_end
            due_day = _nth_working_day_after(day, limit.amount)
        return datetime.combine(due_day, clock, tzinfo=zone).astimezone(UTC)

    # working_hours: place the start on the business clock, then walk whole days at once.
    day_length = cal.day_length
    if cal.is_working_day(day) and clock < cal.day_end:
        used = max(_since_midnight(clock) - _since_midnight(cal.day_start), timedelta(0))
    else:
        day, used = _nth_working_day_after(day, 1), timedelta(0)
    days, rest = divmod(used + timedelta(hours=limit.amount), day_length)
    if not rest:  # ends exactly at a closing: that day's closing, not the next opening
        days, rest = days - 1, day_length
    if days:
        day = _nth_working_day_after(day, days)
    opening = datetime.combine(day, cal.day_start, tzinfo=zone)
    return (opening + rest).astimezone(UTC)


def working_seconds_between(a: datetime, b: datetime, cal: WorkCalendar) -> float:
    """Business seconds from `a` to `b` (negative when `b` is before `a`).

    Counts the part of [a, b) that falls within business hours of working days, e.g. for
    "overdue by" (超时) or time-taken indicators. Raises ValueError on a naive datetime.
    """
    _require_aware(a, "a")
    _require_aware(b, "b")
    if b < a:
        return -working_seconds_between(b, a, cal)
    zone = cal.zone
    local_a, local_b = a.astimezone(zone), b.astimezone(zone)
    day_a, day_b = local_a.date(), local_b.date()
    offset_a = _business_offset(local_a, cal) if cal.is_working_day(day_a) else None
    offset_b = _business_offset(local_b, cal) if cal.is_working_day(day_b) else None

    if day_a == day_b:  # one day: both offsets are set, or it is a rest day
        if offset_a is None or offset_b is None:
            return 0.0
        return (offset_b - offset_a).total_seconds()

    day_length = cal.day_length
    total = _working_days_in(day_a + timedelta(days=1), day_b) * day_length
    if offset_a is not None:
        total += day_length - offset_a
    if offset_b is not None:
        total += offset_b
    return total.total_seconds()


# --- working-day tables -------------------------------------------------------------------


@dataclass(frozen=True)
class _YearTable:
    ordinals: tuple[int, ...]  # the year's working days as date ordinals, ascending
    working: frozenset[int]
    covered: bool


@functools.cache
def _year_table(year: int) -> _YearTable:
    """The working days of one year, computed once per process."""
    cn = holidays.country_holidays("CN", years=year)
    # The library's per-year table of the State Council's substitutions (调休); every
    # notice since 2001 has one. A test pins 2025/2026 so a rename on upgrade is noticed.
    covered = year in getattr(cn, "special_public_holidays", {})
    if not covered:
        # Without the notice the library guesses "observed" days (a weekend holiday moved
        # to Monday), which the notice usually arranges differently; keep only the
        # statutory days, which are off by law whatever the notice says.
        cn = holidays.country_holidays("CN", years=year, observed=False)
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    ordinals = tuple(
        o for o in range(first, last + 1) if cn.is_working_day(date.fromordinal(o)))
    return _YearTable(ordinals=ordinals, working=frozenset(ordinals), covered=covered)


def _nth_working_day_after(day: date, n: int) -> date:
    """The nth working day strictly after `day` (n >= 1)."""
    year = day.year
    ordinals = _year_table(year).ordinals
    index = bisect_right(ordinals, day.toordinal()) + n - 1
    while index >= len(ordinals):
        index -= len(ordinals)
        year += 1
        ordinals = _year_table(year).ordinals
    return date.fromordinal(ordinals[index])


def _working_days_in(first: date, stop: date) -> int:
    """How many working days are in [first, stop)."""
    if stop <= first:
        return 0
    lo, hi = first.toordinal(), stop.toordinal()
    count = 0
    for year in range(first.year, stop.year + 1):
        ordinals = _year_table(year).ordinals
        count += bisect_left(ordinals, hi) - bisect_left(ordinals, lo)
    return count


def _since_midnight(clock: time) -> timedelta:
    return timedelta(hours=clock.hour, minutes=clock.minute, seconds=clock.second,
                     microseconds=clock.microsecond)


def _business_offset(local: datetime, cal: WorkCalendar) -> timedelta:
    """Business time elapsed on `local`'s day by `local`, from 0 to `day_length`."""
    offset = _since_midnight(local.time()) - _since_midnight(cal.day_start)
    return min(max(offset, timedelta(0)), cal.day_length)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not naive {value!r}")
