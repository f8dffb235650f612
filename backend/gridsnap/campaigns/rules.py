"""Campaign decisions without a database: the windows that tell whether the class of problem
recurs after it, and the verdict. (Who may run or see one is users.permissions:
RUN_CAMPAIGNS, READ_CAMPAIGNS.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

# the weeks compared before the campaign and after it
WINDOW_DAYS = 56
# statuses a linked case is not: a rejected report is no problem, a duplicate is its
# primary's problem (the primary is linked itself)
NOT_LINKED = ("rejected", "duplicate")


# the longest campaign: a few years of one class of problem
MAX_DAYS = 3 * 366


def span_problem(starts_on: date, ends_on: date) -> tuple[str, str] | None:
    """(field, why) if the days cannot be a campaign's, else None."""
    if ends_on < starts_on:
        return "ends_on", "Before starts_on."
    if (ends_on - starts_on).days >= MAX_DAYS:
        return "ends_on", f"A campaign lasts at most {MAX_DAYS} days."
    return None


@dataclass(frozen=True)
class Window:
    first_day: date
    days: int  # complete days in the window (0: it has not begun)

    @property
    def last_day(self) -> date | None:
        return self.first_day + timedelta(days=self.days - 1) if self.days > 0 else None


def today(now: datetime, tz: str) -> date:
    """The calendar day it is now in the deployment's time zone."""
    return now.astimezone(ZoneInfo(tz)).date()


def windows(starts_on: date, ends_on: date, now: datetime, tz: str) -> tuple[Window, Window]:
    """The WINDOW_DAYS before the campaign, and the complete days after it so far (at most
    WINDOW_DAYS): the new cases of the class are counted in each."""
    day = today(now, tz)
    before = Window(starts_on - timedelta(days=WINDOW_DAYS), WINDOW_DAYS)
    after_first = ends_on + timedelta(days=1)
    elapsed = max(0, min(WINDOW_DAYS, (day - after_first).days))
    return before, Window(after_first, elapsed)


def per_week(cases: int, days: int) -> Decimal | None:
    """A weekly rate with two decimals (half up); None for an empty window."""
    if days <= 0:
        return None
    exact = Fraction(cases * 7, days)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def verdict(before_cases: int, before_days: int, after_cases: int, after_days: int) -> str:
    """not_yet: no complete day after the campaign; gone: no new case since; reduced: at most
    half the weekly rate before; recurs: more than half of it."""
    if after_days <= 0:
        return "not_yet"
    if after_cases == 0:
        return "gone"
    before = Fraction(before_cases, before_days)
    after = Fraction(after_cases, after_days)
    return "reduced" if after * 2 <= before else "recurs"
