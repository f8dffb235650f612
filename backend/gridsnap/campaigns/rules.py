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


# 专项 (a campaign) or 每月一题 (the month's chosen problem class, run as a programme)
KINDS = ("campaign", "monthly_topic")
MAX_MEASURES = 30


def measures_of(items: list[dict]) -> list[dict]:
    """The measures (举措) as stored: [{"text", "done_on"}], text trimmed, done_on a day or
    None; in the order given."""
    return [{"text": m["text"].strip(),
             "done_on": m["done_on"].isoformat() if m.get("done_on") else None}
            for m in items]


# 主动治理: a hot spot is a class (category × area) with at least HOT_MIN_COUNT cases this month
# and at least HOT_FACTOR times its monthly average over the months before (any count, when it
# had none before)
HOT_MIN_COUNT = 3
HOT_FACTOR = Decimal(2)


def is_hot_spot(count: int, previous_average: Decimal | None, min_count: int,
                factor: Decimal) -> bool:
    """Whether a class's month makes it a hot spot (docs/indicators.md)."""
    if count < min_count:
        return False
    return not previous_average or Decimal(count) >= factor * previous_average


def covers(campaign: dict, category: str, area_code: str, first_day: date,
           last_day: date) -> bool:
    """Whether a campaign (or 每月一题) takes on the class: its category, an area prefix of the
    class's area, and days overlapping [first_day, last_day]."""
    return (campaign["category_code"] == category
            and area_code.startswith(campaign["area_prefix"])
            and campaign["starts_on"] <= last_day and campaign["ends_on"] >= first_day)
