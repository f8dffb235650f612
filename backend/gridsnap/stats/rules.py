"""The evaluation's decisions without a database: periods, groupings, rates and their rounding.

Every indicator is defined once in docs/indicators.md; `INDICATORS` lists them in the order the
tables print them, with the Chinese heading the bulletins use and, for a rate, its numerator
and denominator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from ..grid.rules import AREA_LEVELS

GROUPS = ("district", "street", "community", "cell", "department", "category", "source")
SOURCE_NAMES = {"worker": "网格员上报", "hotline": "12345热线", "open311": "Open311",
                "other": "其他渠道"}
SOURCE_NAMES_EN = {"worker": "Grid workers", "hotline": "12345 hotline", "open311": "Open311",
                   "other": "Other channels"}
MAX_PERIOD_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    """A span of calendar days in the deployment's time zone: [start, end) as instants."""

    label: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime

    def cutoff(self, now: datetime) -> datetime:
        """The instant the figures are taken at: the period's end, or now if it has not come."""
        return min(self.end, max(now, self.start))

    def shifted_months(self, months: int, tz: str) -> Period:
        """The calendar month `months` before (negative) or after this period's first month."""
        y, m = self.first_day.year, self.first_day.month + months
        while m < 1:
            y, m = y - 1, m + 12
        while m > 12:
            y, m = y + 1, m - 12
        return month_period(f"{y:04d}-{m:02d}", tz)


class PeriodError(ValueError):
    """A period that cannot be read; `field` names the parameter at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def midnight(day: date, tz: str) -> datetime:
    """The first instant of a calendar day in the zone `tz`."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def month_period(label: str, tz: str) -> Period:
    """"2026-11" → the month from its first midnight to the next month's, in the zone `tz`."""
    m = _MONTH.match(label or "")
    if not m:
        raise PeriodError("period", "period is a month written YYYY-MM, e.g. 2026-11.")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return Period(label, first, nxt - timedelta(days=1), midnight(first, tz),
                  midnight(nxt, tz))


def day_period(first: date, last: date, tz: str) -> Period:
    """From the first day's midnight to the midnight after the last day (both days included)."""
    if last < first:
        raise PeriodError("to", "to must not be before from.")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise PeriodError("to", f"A period spans at most {MAX_PERIOD_DAYS} days.")
    return Period(f"{first.isoformat()}/{last.isoformat()}", first, last, midnight(first, tz),
                  midnight(last + timedelta(days=1), tz))


def resolve_period(*, period: str | None, first: date | None, last: date | None,
                   tz: str, now: datetime) -> Period:
    """The period a request names: period=YYYY-MM, or from/to days; this month if neither."""
    if period and (first or last):
        raise PeriodError("period", "Give either period or from/to, not both.")
    if period:
        return month_period(period, tz)
    if first or last:
        if not (first and last):
            raise PeriodError("from" if not first else "to", "Give both from and to.")
        return day_period(first, last, tz)
    local = now.astimezone(ZoneInfo(tz))
    return month_period(f"{local.year:04d}-{local.month:02d}", tz)


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator ÷ denominator as a percentage rounded half up to two decimals (96.37);
    None when the denominator is 0 (printed "—")."""
    if not denominator:
        return None
    exact = Fraction(numerator * 100, denominator)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def hours(seconds: float | None) -> Decimal | None:
    """Seconds as hours, two decimals (half up); None stays None."""
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / Decimal(3600)).quantize(Decimal("0.01"),
                                                           rounding=ROUND_HALF_UP)


def show_percent(value: Decimal | None) -> str:
    """A rate as the bulletins print it: "96.37%", or "—" when it has no denominator."""
    return "—" if value is None else f"{value:.2f}%"


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str  # the bulletins' term
    numerator: str | None = None  # rates only
    denominator: str | None = None


# Counts first, then rates, then times: the column order of every table and export.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("reported", "上报数"),
    Indicator("rejected", "不予立案数"),
    Indicator("accepted", "立案数"),
    Indicator("due", "应结案数"),
    Indicator("closed", "结案数"),
    Indicator("closed_on_time", "按期结案数"),
    Indicator("due_handling", "应处置数"),
    Indicator("handled", "处置数"),
    Indicator("handled_on_time", "按期处置数"),
    Indicator("reworked", "返工数"),
    Indicator("first_time", "一次完成数"),
    Indicator("extended", "延期数"),
    Indicator("overdue", "超期数"),
    Indicator("overdue_handling", "处置超期数"),
    Indicator("closure_rate", "结案率", "closed", "due"),
    Indicator("on_time_closure_rate", "按期结案率", "closed_on_time", "due"),
    Indicator("on_time_handling_rate", "按期处置率", "handled_on_time", "due_handling"),
    Indicator("rework_rate", "返工率", "reworked", "handled"),
    Indicator("first_time_rate", "一次完成率", "first_time", "closed"),
    Indicator("extension_rate", "延期率", "extended", "due"),
    Indicator("median_accept_hours", "立案用时中位数（小时）"),
    # 接诉即办: the three rates (三率) of the requests received in the period
    Indicator("requests", "诉求数"),
    Indicator("answered_on_call", "即时答复数"),
    Indicator("callbacks", "回访数"),
    Indicator("callback_unreachable", "回访未接通数"),
    Indicator("rated", "参评数"),
    Indicator("responded", "响应数"),
    Indicator("solved", "解决数"),
    Indicator("satisfied", "满意数"),
    Indicator("reopened", "重新办理数"),
    Indicator("response_rate", "响应率", "responded", "rated"),
    Indicator("resolution_rate", "解决率", "solved", "rated"),
    Indicator("satisfaction_rate", "满意率", "satisfied", "callbacks"),
    Indicator("median_handle_hours", "处置用时中位数（小时）"),
)
COUNT_KEYS = tuple(i.key for i in INDICATORS if i.numerator is None
                   and not i.key.startswith("median_"))
RATES = tuple(i for i in INDICATORS if i.numerator is not None)


def indicator_row(counts: dict) -> dict:
    """The counts of one group (and the medians in seconds) → every indicator."""
    row = {k: int(counts.get(k) or 0) for k in COUNT_KEYS}
    for rate in RATES:
        row[rate.key] = percent(row[rate.numerator], row[rate.denominator])
    row["median_accept_hours"] = hours(counts.get("median_accept_s"))
    row["median_handle_hours"] = hours(counts.get("median_handle_s"))
    return row


# what a row with no key stands for, per grouping
NO_KEY_NAME = {"district": "（网格外）", "street": "（网格外）", "community": "（网格外）",
               "cell": "（网格外）", "department": "（未派遣）", "category": "（无）",
               "source": "（无）"}
NO_KEY_NAME_EN = {"district": "(outside the grid)", "street": "(outside the grid)",
                  "community": "(outside the grid)", "cell": "(outside the grid)",
                  "department": "(not dispatched)", "category": "(none)", "source": "(none)"}


TOP_LEVELS = AREA_LEVELS  # 每月一题 per district, street, community or cell
