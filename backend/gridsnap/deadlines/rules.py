"""Time limits (限时办理) of case stages and the deadlines they give on the Chinese calendar.

Working days come from the maintained `holidays` library, which encodes each year's State
Council notice (国务院办公厅关于部分节假日安排的通知): public holidays, the weekdays given
off around them, and the weekend days worked in exchange (调休上班). No holiday list is kept
here. Only the PUBLIC category counts; HALF_DAY days (妇女节, 五四青年节, …) concern some
groups of people only and are ordinary working days for a city's departments.

An operator may add a year the library does not know yet (a notice is out in November, a
library release follows later) with a holidays file (`GRIDSNAP_HOLIDAYS_FILE`, read by
`deadlines.service.load_holidays_file`, which keeps it while it is unchanged on disk): for the years it gives, it wins.

A deadline whose computation used a year without a notice is an estimate: `guessed_years`
names those years, and the case carries them (`due_at_guessed_years`) until its deadline is
recomputed on official data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

Unit = Literal["hours", "working_hours", "working_days", "days"]
UNITS: tuple[str, ...] = get_args(Unit)
MAX_AMOUNT = 10_000


@dataclass(frozen=True)
class TimeLimit:
    """A stage's time limit: `amount` natural hours, working hours, working days or calendar
    days (日, as the 12345 rules write "7天 / 15天")."""

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

    @classmethod
    def parse(cls, text: Any) -> TimeLimit:
        """Read the short form of the time limits in the settings: "7d" (calendar days, 日),
        "7wd" (working days), "24h" (hours), "2wh" (working hours). ValueError otherwise."""
        m = _SHORT_LIMIT.match(text.strip()) if isinstance(text, str) else None
        if not m:
            raise ValueError(f"time limit is written like 7d (calendar days), 7wd (working "
                             f"days), 24h (hours) or 2wh (working hours), not {text!r}")
        return cls(int(m.group(1)), SHORT_UNITS[m.group(2)])

    def short(self) -> str:
        """The short form: 7d, 7wd, 24h, 2wh (the inverse of `parse`)."""
        return f"{self.amount}{_SHORT_OF[self.unit]}"


# the short units of time limits (GRIDSNAP_HOTLINE_TIME_LIMITS, extension requests)
SHORT_UNITS = {"h": "hours", "wh": "working_hours", "wd": "working_days", "d": "days"}
_SHORT_OF = {v: k for k, v in SHORT_UNITS.items()}
_SHORT_LIMIT = re.compile(r"^([0-9]{1,5})(wd|wh|d|h)$")


@dataclass(frozen=True)
class YearNotice:
    """One year's State Council holiday notice as an operator typed it into the holidays file:
    the days off (休) and the weekend days worked (调休上班, 班)."""

    notice: str  # where it comes from, e.g. 国办发明电〔2026〕12号
    off: frozenset[date]
    work: frozenset[date]


class HolidayData:
    """Where the working days of each year come from: the holidays library, and the years an
    operator's holidays file gives (those win). Year tables are computed once per instance.
    Compared by identity: one instance per loaded file."""

    def __init__(self, years: Mapping[int, YearNotice] | None = None, *, path: str = "",
                 sha256: str = ""):
        self.file_years: dict[int, YearNotice] = dict(years or {})
        self.path = path
        self.sha256 = sha256
        self._tables: dict[int, _YearTable] = {}
        self._lock = threading.Lock()

    def table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            notice = self.file_years.get(year)
            table = _library_table(year) if notice is None else _file_table(year, notice)
            with self._lock:
                self._tables.setdefault(year, table)
        return table

    def covers(self, year: int) -> bool:
        """True when the year's notice is known (the library's or the file's)."""
        return self.table(year).covered

    def source_of(self, year: int) -> str | None:
        """"file", "library", or None: no notice, the year is estimated."""
        if year in self.file_years:
            return "file"
        return "library" if self.covers(year) else None


LIBRARY = HolidayData()  # the holidays library alone


@dataclass(frozen=True)
class WorkCalendar:
    """Business hours (办公时间) on Chinese working days, in one time zone.

    `day_start` and `day_end` are local wall-clock times of every working day; there is no
    lunch break. `holidays` says which days are working days (the library, and a holidays file).
    """

    tz: str = "Asia/Shanghai"
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    holidays: HolidayData = field(default=LIBRARY, repr=False)

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
    def from_business_hours(cls, tz: str, business_hours: tuple[str, str],
                            holidays: HolidayData = LIBRARY) -> WorkCalendar:
        """Build from settings' strings, e.g. `("Asia/Shanghai", ("09:00", "18:00"))`.

        Raises ValueError on an unreadable time or the errors of the constructor.
        """
        start, end = (time.fromisoformat(value.strip()) for value in business_hours)
        return cls(tz=tz, day_start=start, day_end=end, holidays=holidays)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)  # ZoneInfo keeps its own cache: this is a dict lookup

    @property
    def day_length(self) -> timedelta:
        """Business time in one working day (9 h for 09:00-18:00)."""
        return _since_midnight(self.day_end) - _since_midnight(self.day_start)

    def is_working_day(self, d: date) -> bool:
        """True on Mon-Fri that are not public holidays, and on make-up weekend days (调休).

        For a year with no State Council notice (see `covers`), only the statutory holidays
        are taken off Mon-Fri and no weekend day is worked.
        """
        return d.toordinal() in self.holidays.table(d.year).working

    def covers(self, year: int) -> bool:
        """True when the year's working days follow its State Council notice."""
        return self.holidays.covers(year)


def calendar_coverage(year: int, data: HolidayData = LIBRARY) -> bool:
    """True when the holiday data knows that year's State Council holiday notice.

    False means the year's working days are a guess: Mon-Fri minus the statutory holidays
    (法定节假日) fixed by 《全国年节及纪念日放假办法》, without the bridge days off and the
    make-up weekend days (调休), which are only known once the notice is out (usually in
    November of the year before). Deadlines computed over such a year are flagged
    (`guessed_years`).
    """
    return data.covers(year)


def guessed_years(start: datetime, due: datetime, limit: TimeLimit,
                  cal: WorkCalendar) -> tuple[int, ...]:
    """The years without a notice that the deadline `due_at(start, limit, cal)` = `due` was
    counted over: none for natural hours and calendar days (no calendar is read); for working
    hours and working days, every year from the start's to the deadline's (local years) that `cal` does not
    cover — exactly the years whose working-day tables the computation reads."""
    if limit.unit in ("hours", "days"):
        return ()
    return uncovered_between(start, due, cal)


def uncovered_between(start: datetime, end: datetime, cal: WorkCalendar) -> tuple[int, ...]:
    """The local years from `start`'s to `end`'s (either order) that `cal` does not cover."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    first, last = sorted((start.astimezone(cal.zone).year, end.astimezone(cal.zone).year))
    return tuple(y for y in range(first, last + 1) if not cal.covers(y))


def due_at(start: datetime, limit: TimeLimit, cal: WorkCalendar) -> datetime:
    """The deadline of a stage that started at `start`; timezone-aware UTC.

    - `hours`: natural hours on the clock, nights, weekends and holidays included.
    - `days`: calendar days (日): the same local clock time N days later, rest days included.
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
    if limit.unit == "days":
        # N calendar days (N日): the same wall-clock time N days later in the calendar's zone,
        # weekends and holidays included
        local = start.astimezone(cal.zone)
        return datetime.combine(local.date() + timedelta(days=limit.amount), local.timetz()
                                ).astimezone(UTC)

    zone = cal.zone
    local = start.astimezone(zone)
    day, clock = local.date(), local.time()

    if limit.unit == "working_days":
        working = cal.is_working_day(day)
        if working and cal.day_start < clock <= cal.day_end:
            due_day = _nth_working_day_after(day, limit.amount, cal.holidays)
        elif working and clock <= cal.day_start:  # the whole day is still ahead: it counts
            clock = cal.day_end
            due_day = (day if limit.amount == 1
                       else _nth_working_day_after(day, limit.amount - 1, cal.holidays))
        else:
            clock = cal.day_end
            due_day = _nth_working_day_after(day, limit.amount, cal.holidays)
        return datetime.combine(due_day, clock, tzinfo=zone).astimezone(UTC)

    # working_hours: place the start on the business clock, then walk whole days at once.
    day_length = cal.day_length
    if cal.is_working_day(day) and clock < cal.day_end:
        used = max(_since_midnight(clock) - _since_midnight(cal.day_start), timedelta(0))
    else:
        day, used = _nth_working_day_after(day, 1, cal.holidays), timedelta(0)
    days, rest = divmod(used + timedelta(hours=limit.amount), day_length)
    if not rest:  # ends exactly at a closing: that day's closing, not the next opening
        days, rest = days - 1, day_length
    if days:
        day = _nth_working_day_after(day, days, cal.holidays)
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
    total = _working_days_in(day_a + timedelta(days=1), day_b, cal.holidays) * day_length
    if offset_a is not None:
        total += day_length - offset_a
    if offset_b is not None:
        total += offset_b
    return total.total_seconds()


# --- the holidays file (GRIDSNAP_HOLIDAYS_FILE) ------------------------------------------------

MIN_YEAR, MAX_YEAR = 2000, 2199
_KEYS = {"notice": "notice", "休": "off", "off": "off", "班": "work", "work": "work"}


class HolidaysFileError(ValueError):
    """The holidays file cannot be read or says something impossible; the message names the
    file, the place in it and what is wrong."""


def parse_holidays(data: object, where: str = "holidays file") -> dict[int, YearNotice]:
    """Read the holidays file's JSON: `{"2027": {"notice": "国办发明电〔2026〕N号",
    "休": ["2027-01-01", "2027-02-05/2027-02-11", …], "班": ["2027-02-20", …]}, …}` — per
    year, the notice it copies, the days off (休; a range `first/last` includes both ends,
    weekends in it are fine) and the weekend days worked (班). `off` and `work` may be
    written for 休 and 班.

    Raises HolidaysFileError: not an object of years; a year outside 2000–2199; no notice;
    an unknown key; a date that is not YYYY-MM-DD, not in its year, or given twice; a 班
    day that is not a Saturday or Sunday, is a statutory holiday, or is also 休.
    """
    if not isinstance(data, dict) or not data:
        raise HolidaysFileError(f"{where}: expected an object of years, e.g. "
                                '{"2027": {"notice": "…", "休": [...], "班": [...]}}')
    years: dict[int, YearNotice] = {}
    for key, entry in data.items():
        here = f"{where}: {key}"
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4
                and MIN_YEAR <= int(key) <= MAX_YEAR):
            raise HolidaysFileError(f"{here}: a year from {MIN_YEAR} to {MAX_YEAR} is expected")
        year = int(key)
        if not isinstance(entry, dict):
            raise HolidaysFileError(f"{here}: expected an object with notice, 休 and 班")
        unknown = sorted(k for k in entry if k not in _KEYS)
        if unknown:
            raise HolidaysFileError(f"{here}: unknown key {unknown[0]!r} (use notice, 休, 班)")
        notice = entry.get("notice")
        if not isinstance(notice, str) or not notice.strip():
            raise HolidaysFileError(f"{here}.notice: name the State Council notice the dates "
                                    "come from (e.g. 国办发明电〔2026〕12号)")
        lists: dict[str, list[date]] = {"off": [], "work": []}
        for k, value in entry.items():
            if k == "notice":
                continue
            if _KEYS[k] in lists and lists[_KEYS[k]]:
                raise HolidaysFileError(f"{here}: give 休 or off, 班 or work, not both")
            lists[_KEYS[k]] = _dates(value, year, f"{here}.{k}")
        off, work = set(lists["off"]), set(lists["work"])
        statutory = _days_off_by_library(year) if year not in _covered_by_library() else set()
        for d in sorted(work):
            if d.weekday() < 5:
                raise HolidaysFileError(
                    f"{here}.班: {d} is a {d:%A}; a make-up working day (班) is a Saturday "
                    "or Sunday")
            if d in off:
                raise HolidaysFileError(f"{here}: {d} is both 休 and 班")
            if d in statutory:
                raise HolidaysFileError(f"{here}.班: {d} is a statutory holiday (法定节假日)")
        years[year] = YearNotice(notice=notice.strip(), off=frozenset(off),
                                 work=frozenset(work))
    return years


def _dates(value: object, year: int, here: str) -> list[date]:
    if not isinstance(value, list):
        raise HolidaysFileError(f"{here}: expected a list of dates YYYY-MM-DD")
    out: list[date] = []
    for i, item in enumerate(value):
        at = f"{here}[{i}]"
        if not isinstance(item, str):
            raise HolidaysFileError(f"{at}: expected a date YYYY-MM-DD, not {item!r}")
        first_s, sep, last_s = item.partition("/")
        try:
            first = date.fromisoformat(first_s.strip())
            last = date.fromisoformat(last_s.strip()) if sep else first
        except ValueError:
            raise HolidaysFileError(
                f"{at}: {item!r} is not a date YYYY-MM-DD (or a range YYYY-MM-DD/YYYY-MM-DD)"
            ) from None
        if len(first_s.strip()) != 10 or (sep and len(last_s.strip()) != 10):
            raise HolidaysFileError(f"{at}: {item!r}: write dates as YYYY-MM-DD")
        if last < first:
            raise HolidaysFileError(f"{at}: the range {item!r} ends before it starts")
        if first.year != year or last.year != year:
            raise HolidaysFileError(f"{at}: {item!r} is not in {year}")
        for n in range((last - first).days + 1):
            d = first + timedelta(n)
            if d in out:
                raise HolidaysFileError(f"{at}: {d} is given twice")
            out.append(d)
    return out


@functools.cache
def _covered_by_library() -> frozenset[int]:
    cn = holidays.country_holidays("CN", years=[])
    return frozenset(getattr(cn, "special_public_holidays", {}))


def holidays_from_bytes(raw: bytes, where: str) -> HolidayData:
    """The holiday data with the years of a holidays file's bytes (read from `where`: the file
    is read by deadlines.service); raises HolidaysFileError (not JSON, or invalid as
    `parse_holidays` says)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HolidaysFileError(f"{where}: not UTF-8 JSON ({exc})") from None
    return HolidayData(parse_holidays(data, where), path=where,
                       sha256=hashlib.sha256(raw).hexdigest())


# --- working-day tables -------------------------------------------------------------------


@dataclass(frozen=True)
class _YearTable:
    ordinals: tuple[int, ...]  # the year's working days as date ordinals, ascending
    working: frozenset[int]
    covered: bool


@functools.cache
def _library_table(year: int) -> _YearTable:
    """The working days of one year by the holidays library."""
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


@functools.cache
def _days_off_by_library(year: int) -> frozenset[date]:
    """The days the library takes off in `year` without guessing: the statutory holidays (and,
    for a year it covers, its notice's days off)."""
    return frozenset(holidays.country_holidays("CN", years=year, observed=False))


def _file_table(year: int, notice: YearNotice) -> _YearTable:
    """The working days of a year the holidays file gives: Mon-Fri, less its 休 days and the
    statutory holidays (off by law, so a forgotten one cannot become a working day), plus its
    班 days."""
    off = notice.off | _days_off_by_library(year)
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    ordinals = tuple(
        o for o in range(first, last + 1)
        if (d := date.fromordinal(o)) in notice.work or (d.weekday() < 5 and d not in off))
    return _YearTable(ordinals=ordinals, working=frozenset(ordinals), covered=True)


def _nth_working_day_after(day: date, n: int, data: HolidayData) -> date:
    """The nth working day strictly after `day` (n >= 1)."""
    year = day.year
    ordinals = data.table(year).ordinals
    index = bisect_right(ordinals, day.toordinal()) + n - 1
    while index >= len(ordinals):
        index -= len(ordinals)
        year += 1
        ordinals = data.table(year).ordinals
    return date.fromordinal(ordinals[index])


def _working_days_in(first: date, stop: date, data: HolidayData) -> int:
    """How many working days are in [first, stop)."""
    if stop <= first:
        return 0
    lo, hi = first.toordinal(), stop.toordinal()
    count = 0
    for year in range(first.year, stop.year + 1):
        ordinals = data.table(year).ordinals
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


def hotline_limit(limits, urgency: str) -> TimeLimit:
    """The handling time limit of a hotline case of this urgency (settings' table)."""
    for name, amount, unit in limits:
        if name == urgency:
            return TimeLimit(amount, unit)
    raise ValueError(f"no hotline time limit for urgency {urgency!r}")
