"""The evaluation's decisions without a database: periods, groupings, rates and their rounding.

Every indicator is defined once in docs/indicators.md; `INDICATORS` lists them in the order the
tables print them, with the Chinese heading the bulletins use and, for a rate, its numerator
and denominator.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from ..grid.rules import AREA_LEVELS

GROUPS = ("district", "street", "community", "cell", "department", "category", "kind",
          "major_class", "source", "reporter", "handler", "dispatcher")
GROUP_NAMES = {"district": ("区县", "District"), "street": ("街道", "Street"),
               "community": ("社区", "Community"), "cell": ("网格", "Grid cell"),
               "department": ("部门", "Department"), "category": ("类别", "Category"),
               "kind": ("部件/事件", "Component / event"),
               "major_class": ("大类", "Major class"), "source": ("来源", "Source"),
               "reporter": ("监督员（上报人）", "Reporter (grid worker)"),
               "handler": ("处置人员", "Handler (who resolved)"),
               "dispatcher": ("派遣人员", "Dispatcher (who dispatched)")}
KIND_NAMES = {"component": ("部件", "Components"), "event": ("事件", "Events")}
SOURCE_NAMES = {"worker": "网格员上报", "hotline": "12345热线", "open311": "Open311",
                "other": "其他渠道"}
SOURCE_NAMES_EN = {"worker": "Grid workers", "hotline": "12345 hotline", "open311": "Open311",
                   "other": "Other channels"}
MAX_PERIOD_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# a year (2026) or a range of months (2025-12..2026-11): the months added up
_YEAR = re.compile(r"^(\d{4})$")
_MONTH_RANGE = re.compile(r"^(\d{4}-(?:0[1-9]|1[0-2]))\.\.(\d{4}-(?:0[1-9]|1[0-2]))$")
MAX_MONTHS = 12


@dataclass(frozen=True)
class Period:
    """A span of calendar days in the deployment's time zone: [start, end) as instants."""

    label: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime
    # a year or a range of months: its months (YYYY-MM), each taken as its own table is and
    # added up (months_period); empty for a month or a span of days
    months: tuple[str, ...] = ()

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


def months_period(label: str, tz: str) -> Period:
    """"2026" (a year) or "2025-12..2026-11" (a range of at most MAX_MONTHS months) → the
    period of those months, added up: each month's figures as its own table gives them (a
    month closed for good: as of its end, as the bulletin published it), summed."""
    year, span = _YEAR.match(label or ""), _MONTH_RANGE.match(label or "")
    if year:
        first, last = f"{year.group(1)}-01", f"{year.group(1)}-12"
    elif span:
        first, last = span.group(1), span.group(2)
    else:
        raise PeriodError("period", "period is a month (YYYY-MM, e.g. 2026-11), a year (YYYY) "
                                    "or a range of months (YYYY-MM..YYYY-MM).")
    a, b = month_period(first, tz), month_period(last, tz)
    if b.start < a.start:
        raise PeriodError("period", "A range of months must not end before it starts.")
    months = [a]
    while months[-1].label != b.label:
        if len(months) == MAX_MONTHS:
            raise PeriodError("period", f"A range of months spans at most {MAX_MONTHS} months.")
        months.append(months[-1].shifted_months(1, tz))
    return Period(label, a.first_day, b.last_day, a.start, b.end,
                  tuple(m.label for m in months))


def day_period(first: date, last: date, tz: str) -> Period:
    """From the first day's midnight to the midnight after the last day (both days included)."""
    if last < first:
        raise PeriodError("to", "to must not be before from.")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise PeriodError("to", f"A period spans at most {MAX_PERIOD_DAYS} days.")
    return Period(f"{first.isoformat()}/{last.isoformat()}", first, last, midnight(first, tz),
                  midnight(last + timedelta(days=1), tz))


def resolve_period(*, period: str | None, first: date | None, last: date | None,
                   tz: str, now: datetime, months: bool = False) -> Period:
    """The period a request names: period=YYYY-MM, or from/to days; this month if neither.
    months: a year (YYYY) or a range of months (YYYY-MM..YYYY-MM) too (months_period)."""
    if period and (first or last):
        raise PeriodError("period", "Give either period or from/to, not both.")
    if period:
        if months and not _MONTH.match(period):
            return months_period(period, tz)
        return month_period(period, tz)
    if first or last:
        if not (first and last):
            raise PeriodError("from" if not first else "to", "Give both from and to.")
        return day_period(first, last, tz)
    local = now.astimezone(ZoneInfo(tz))
    return month_period(f"{local.year:04d}-{local.month:02d}", tz)


def _half_up(num: int, den: int) -> Decimal:
    """num ÷ den hundredths rounded half up (away from zero) to a whole hundredth, as a Decimal
    with two decimals: exact integer arithmetic (den > 0)."""
    q = (2 * abs(num) + den) // (2 * den)
    return Decimal(f"{'-' if num < 0 else ''}{q // 100}.{q % 100:02d}")


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator ÷ denominator as a percentage rounded half up to two decimals (96.37);
    None when the denominator is 0 (printed "—")."""
    if not denominator:
        return None
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    return _half_up(numerator * 10_000, denominator)


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
    title_en: str = ""
    # a rate where less is better: the 综合指标值 counts it as 100 − rate
    lower_is_better: bool = False


_I = Indicator
# Counts first, then rates, then times: the column order of every table and export.
INDICATORS: tuple[Indicator, ...] = (
    _I("reported", "上报数", title_en="Reports"),
    # the sources apart (the totals row separates them)
    _I("reported_worker", "网格员上报数", title_en="Reports by grid workers"),
    _I("reported_hotline", "热线受理数", title_en="Hotline calls taken"),
    _I("reported_open311", "Open311上报数", title_en="Reports by Open311"),
    _I("reported_other", "其他渠道上报数", title_en="Reports by other channels"),
    _I("reported_to_accept", "应立案上报数", title_en="Reports to decide (no consultations)"),
    _I("rejected", "不予立案数", title_en="Rejected"),
    _I("accepted_of_reported", "上报立案数", title_en="Reports accepted"),
    _I("accepted", "立案数", title_en="Cases"),
    _I("due", "应结案数", title_en="Due to close"),
    _I("closed", "结案数", title_en="Closed"),
    _I("closed_on_time", "按期结案数", title_en="Closed on time"),
    _I("suspended", "挂账数", title_en="Suspended (long-term list)"),
    _I("dispatches", "派遣次数", title_en="Dispatches"),
    _I("wrong_dispatches", "错派次数", title_en="Wrong dispatches"),
    _I("right_dispatches", "正确派遣次数", title_en="Right dispatches"),
    _I("due_handling", "应处置数", title_en="Due to handle"),
    _I("handled", "处置数", title_en="Handled"),
    _I("handled_on_time", "按期处置数", title_en="Handled on time"),
    _I("resolutions", "处置次数", title_en="Resolutions (times)"),
    _I("due_verification", "应核查数", title_en="Due to verify"),
    _I("verified", "核查数", title_en="Verified"),
    _I("verified_on_time", "按时核查数", title_en="Verified on time"),
    _I("reworked", "返工数", title_en="Reworked cases"),
    _I("rework_times", "返工次数", title_en="Reworks (times)"),
    _I("first_time", "一次完成数", title_en="Done first time"),
    _I("extended", "延期数", title_en="Extended"),
    _I("extended_due", "应结案延期数", title_en="Extended, due to close"),
    _I("overdue", "超期数", title_en="Overdue"),
    _I("overdue_handling", "处置超期数", title_en="Overdue in handling"),
    _I("summoned", "应报到数", title_en="Departments summoned"),
    _I("reported_in", "报到数", title_en="Reported in"),
    _I("reported_in_on_time", "按时报到数", title_en="Reported in on time"),
    _I("notices", "督办数", title_en="Supervision notices"),
    _I("notices_due", "应回复督办数", title_en="Notices due for a reply"),
    _I("notices_replied", "督办回复数", title_en="Notices replied"),
    _I("notices_replied_on_time", "督办按时回复数", title_en="Notices replied on time"),
    _I("notices_unanswered_overdue", "督办超期未回复数", title_en="Notices unanswered, overdue"),
    _I("acceptance_rate", "立案率", "accepted_of_reported", "reported_to_accept",
       title_en="Acceptance rate"),
    _I("dispatch_accuracy_rate", "派遣准确率", "right_dispatches", "dispatches",
       title_en="Dispatch accuracy"),
    _I("closure_rate", "结案率", "closed", "due", title_en="Closure rate"),
    _I("on_time_closure_rate", "按期结案率", "closed_on_time", "due",
       title_en="On-time closure rate"),
    _I("handling_rate", "处置率", "handled", "due_handling", title_en="Handling rate"),
    _I("on_time_handling_rate", "按期处置率", "handled_on_time", "due_handling",
       title_en="On-time handling rate"),
    _I("verification_rate", "核查率", "verified", "due_verification",
       title_en="Verification rate"),
    _I("on_time_verification_rate", "按时核查率", "verified_on_time", "due_verification",
       title_en="On-time verification rate"),
    _I("overdue_rate", "超期率", "overdue", "due", title_en="Overdue rate",
       lower_is_better=True),
    _I("rework_rate", "返工率", "reworked", "handled", title_en="Rework rate (cases)",
       lower_is_better=True),
    _I("rework_times_rate", "返工率（次数）", "rework_times", "resolutions",
       title_en="Rework rate (times)", lower_is_better=True),
    _I("first_time_rate", "一次完成率", "first_time", "closed", title_en="First-time rate"),
    _I("extension_rate", "延期率", "extended_due", "due", title_en="Extension rate",
       lower_is_better=True),
    _I("report_in_rate", "报到率", "reported_in_on_time", "summoned",
       title_en="Report-in rate"),
    _I("notice_reply_rate", "督办按时回复率", "notices_replied_on_time", "notices_due",
       title_en="Notice on-time reply rate"),
    _I("composite_score", "综合指标值", title_en="Composite score"),
    _I("composite_rates", "综合指标值参评指标数", title_en="Rates the score rests on"),
    _I("median_accept_hours", "立案用时中位数（小时）", title_en="Median hours to accept"),
    # 接诉即办: the three rates (三率) of the requests received in the period
    _I("requests", "诉求数", title_en="Requests"),
    _I("answered_on_call", "即时答复数", title_en="Answered on the call"),
    _I("dispatched_requests", "派单数", title_en="Requests dispatched"),
    _I("rejected_requests", "不予立案诉求数", title_en="Requests rejected by the centre"),
    _I("excluded_requests", "剔除诉求数", title_en="Requests excluded (unreasonable)"),
    _I("reduced_requests", "核减数", title_en="Ratings reduced on appeal"),
    _I("contacted_in_time", "按时先行联系数", title_en="Callers contacted in time"),
    _I("callbacks", "回访数", title_en="Callbacks"),
    _I("callback_unreachable", "回访未接通数", title_en="Callers unreachable"),
    _I("rated", "参评数", title_en="Rated"),
    _I("responded", "响应数", title_en="Responded"),
    _I("solved", "解决数", title_en="Solved"),
    _I("satisfied", "满意数", title_en="Satisfied"),
    _I("reopened", "重新办理数", title_en="Reopened"),
    _I("repeat_requests", "重复诉求数", title_en="Repeat requests (same class, same place)"),
    # the hotline's own figures (calls taken: 热线受理数, reported_hotline)
    _I("direct_dispatched", "直派数", title_en="Dispatched once (kept by the first unit)"),
    _I("transferred", "转派数", title_en="Transferred to another unit"),
    _I("settled_requests", "办结参评数", title_en="Answered on the call or rated"),
    _I("first_call_resolved", "一次办结数", title_en="Resolved first time"),
    _I("direct_answer_rate", "直接答复率", "answered_on_call", "requests",
       title_en="Answered directly"),
    _I("contact_rate", "先行联系率", "contacted_in_time", "dispatched_requests",
       title_en="Contacted in time"),
    _I("response_rate", "响应率", "responded", "rated", title_en="Response rate"),
    _I("resolution_rate", "解决率", "solved", "rated", title_en="Resolution rate"),
    _I("satisfaction_rate", "满意率", "satisfied", "callbacks", title_en="Satisfaction rate"),
    _I("direct_dispatch_rate", "直派率", "direct_dispatched", "dispatched_requests",
       title_en="Direct dispatch rate"),
    _I("transfer_rate", "转派率", "transferred", "dispatched_requests",
       title_en="Transfer rate", lower_is_better=True),
    _I("first_call_resolution_rate", "一次办结率", "first_call_resolved", "settled_requests",
       title_en="First-call resolution rate"),
    _I("repeat_request_rate", "重复诉求率", "repeat_requests", "requests",
       title_en="Repeat request rate", lower_is_better=True),
    _I("median_dispatch_hours", "派单用时中位数（小时）", title_en="Median hours to dispatch"),
    _I("median_handle_hours", "处置用时中位数（小时）", title_en="Median hours to handle"),
)
BY_KEY = {i.key: i for i in INDICATORS}
# counts computed in Python from others (not by the query)
DERIVED_COUNTS = {"right_dispatches": lambda r: r["dispatches"] - r["wrong_dispatches"]}
COUNT_KEYS = tuple(i.key for i in INDICATORS if i.numerator is None
                   and not i.key.startswith("median_")
                   and i.key not in ("composite_score", "composite_rates"))
RATES = tuple(i for i in INDICATORS if i.numerator is not None)
RATE_KEYS = tuple(i.key for i in RATES)

# 综合指标值: the default weights (GRIDSNAP_INDICATOR_WEIGHTS replaces them); see
# docs/indicators.md. They add up to 1.
DEFAULT_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("on_time_closure_rate", 0.30), ("closure_rate", 0.20), ("on_time_handling_rate", 0.15),
    ("on_time_verification_rate", 0.10), ("dispatch_accuracy_rate", 0.10),
    ("rework_rate", 0.05), ("report_in_rate", 0.05), ("notice_reply_rate", 0.05),
)


def weights_of(configured: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """The weights in force; ValueError naming a key that is not a rate."""
    weights = configured or DEFAULT_WEIGHTS
    unknown = [k for k, _ in weights if k not in RATE_KEYS]
    if unknown:
        raise ValueError(f"GRIDSNAP_INDICATOR_WEIGHTS names no rate: {', '.join(unknown)} "
                         f"(rates: {', '.join(RATE_KEYS)})")
    return weights


# 综合指标值: what a weighted rate without a value ("—", no denominator) counts as
# (GRIDSNAP_INDICATOR_MISSING): left out with its weight, the other weights renormalised
# ("exclude", the default); scored 0 ("zero"); scored full marks ("full")
MISSING_RATE_RULES = ("exclude", "zero", "full")


@functools.lru_cache(maxsize=32)
def _whole_weights(weights: tuple[tuple[str, float], ...]) -> tuple[tuple[str, int, bool], ...]:
    """The weights (as written: 0.30 is 3/10) over their common denominator, as whole numbers,
    with whether less of the rate is better."""
    exact = [(key, Fraction(str(weight))) for key, weight in weights if weight]
    common = math.lcm(*(w.denominator for _, w in exact)) if exact else 1
    return tuple((key, int(w * common), BY_KEY[key].lower_is_better) for key, w in exact)


def composite(row: dict, weights: tuple[tuple[str, float], ...],
              missing: str = "exclude") -> tuple[Decimal | None, int]:
    """(Σ weight × rate ÷ Σ weight, the number of weighted rates with a value). A rate where
    less is better counts as 100 − rate; a rate without a value drops out with its weight
    (`missing` "exclude"), or counts as 0 ("zero") or 100 ("full"). Two decimals half up;
    None when no weighted rate has a value (whatever `missing` says: a score resting on
    nothing is no score). Exact: rates as whole numbers of their smallest decimal (a
    hundredth, as percent() gives them, or finer), weights as whole numbers."""
    whole = _whole_weights(tuple(weights))
    values = {key: v if isinstance(v, Decimal) else Decimal(str(v))
              for key, _, _ in whole if (v := row.get(key)) is not None}
    places = max([2, *(-v.as_tuple().exponent for v in values.values())])
    full = 100 * 10 ** places  # 100 %, in the rates' unit
    num = den = 0
    for key, w, lower_is_better in whole:
        if key in values:
            v = int(values[key].scaleb(places))
            num += w * (full - v if lower_is_better else v)
        elif missing == "exclude":
            continue
        else:
            num += w * (0 if missing == "zero" else full)
        den += w
    if not den or not values:
        return None, len(values)
    return _half_up(num * 100, den * 10 ** places), len(values)


def indicator_row(counts: dict, weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS,
                  missing: str = "exclude") -> dict:
    """The counts of one group (and the medians in seconds) → every indicator."""
    row = {k: int(counts.get(k) or 0) for k in COUNT_KEYS if k not in DERIVED_COUNTS}
    for k, fn in DERIVED_COUNTS.items():
        row[k] = fn(row)
    for rate in RATES:
        row[rate.key] = percent(row[rate.numerator], row[rate.denominator])
    row["composite_score"], row["composite_rates"] = composite(row, weights, missing)
    row["median_accept_hours"] = hours(counts.get("median_accept_s"))
    row["median_handle_hours"] = hours(counts.get("median_handle_s"))
    row["median_dispatch_hours"] = hours(counts.get("median_dispatch_s"))
    return {i.key: row[i.key] for i in INDICATORS}


# what a row with no key stands for, per grouping
NO_KEY_NAME = {"district": "（网格外）", "street": "（网格外）", "community": "（网格外）",
               "cell": "（网格外）", "department": "（未派遣）", "category": "（无）",
               "kind": "（无）", "major_class": "（无）", "source": "（无）",
               "reporter": "（无）", "handler": "（未处置）", "dispatcher": "（系统自动派遣）"}
NO_KEY_NAME_EN = {"district": "(outside the grid)", "street": "(outside the grid)",
                  "community": "(outside the grid)", "cell": "(outside the grid)",
                  "department": "(not dispatched)", "category": "(none)", "kind": "(none)",
                  "major_class": "(none)", "source": "(none)", "reporter": "(none)",
                  "handler": "(not handled)", "dispatcher": "(dispatched by the system)"}


TOP_LEVELS = AREA_LEVELS  # 每月一题 per district, street, community or cell


# --- the monthly 考评 ranking ---------------------------------------------------------------------
# The city's monthly assessment of streets (街乡) and units by the three rates (三率) of the
# hotline's requests, as docs/indicators.md describes: the score is Σ weight × rate ÷ Σ weight
# over the rates with a value (GRIDSNAP_INDICATOR_MISSING says what a missing one counts as).
# Beijing's assessment weighted 响应率 : 解决率 : 满意率 as 10 : 45 : 45 when it began (2019);
# GRIDSNAP_RANKING_WEIGHTS sets a city's own.
RANKING_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")
RANKING_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("response_rate", 0.10), ("resolution_rate", 0.45), ("satisfaction_rate", 0.45))
RANKING_GROUPS = ("district", "street", "community", "department")
PER_RESIDENTS = 10_000  # requests per 10,000 residents (万人诉求量)


def ranking_weights_of(configured: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """The ranking's weights in force; ValueError naming a key that is none of the 三率."""
    weights = configured or RANKING_WEIGHTS
    unknown = [k for k, _ in weights if k not in RANKING_RATES]
    if unknown:
        raise ValueError(f"GRIDSNAP_RANKING_WEIGHTS names no rate of the 三率: "
                         f"{', '.join(unknown)} (rates: {', '.join(RANKING_RATES)})")
    return weights


def per_residents(count: int, population: int | None) -> Decimal | None:
    """count per PER_RESIDENTS residents, two decimals half up; None without a population (or
    of 0)."""
    if not population:
        return None
    exact = Fraction(count * PER_RESIDENTS, population)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def ranks(scores: list[Decimal | None]) -> list[int | None]:
    """Standard competition ranks (1, 2, 2, 4) by score, highest first; no score, no rank."""
    valued = sorted((s for s in scores if s is not None), reverse=True)
    first = {}
    for i, s in enumerate(valued, 1):
        first.setdefault(s, i)
    return [None if s is None else first[s] for s in scores]


def movement(rank: int | None, previous: int | None) -> int | None:
    """Places gained since last month (positive: up, negative: down); None unless ranked in
    both months."""
    if rank is None or previous is None:
        return None
    return previous - rank


# the counts a ranking row shows beside its rates
RANKING_COUNTS = ("requests", "dispatched_requests", "excluded_requests", "reduced_requests",
                  "rated", "responded", "solved", "satisfied", "callbacks")


def population_rows(lines: list[dict], default_source: str | None = None
                    ) -> tuple[list[dict], list[dict]]:
    """The rows of a population file (dicts from csv.DictReader: code, population, optionally
    source) → ([{line, area_code, population, source}], [{line, message}]). Line numbers count
    the header as line 1."""
    rows, problems = [], []
    seen: set[str] = set()
    for i, line in enumerate(lines, 2):
        code = str(line.get("code") or "").strip()
        raw = str(line.get("population") or "").strip().replace(",", "")
        if not re.fullmatch(r"[0-9]{6,15}", code):
            problems.append({"line": i, "message": f"code {code!r} is not an area code"})
            continue
        if code in seen:
            problems.append({"line": i, "message": f"{code}: given twice"})
            continue
        seen.add(code)
        if not raw.isdigit():
            problems.append({"line": i, "message": f"{code}: population {raw!r} is not a "
                                                   f"whole number ≥ 0"})
            continue
        source = str(line.get("source") or "").strip() or default_source
        rows.append({"line": i, "area_code": code, "population": int(raw), "source": source})
    return rows, problems


# the hotline's figures per call-taker: a call is timed (受理时长) when it was recorded within
# this long of its start; longer, it was keyed in later (from paper, after an outage)
CALL_HANDLING_MAX_SECONDS = 4 * 3600
CALL_TAKER_COUNTS = ("calls", "consultations", "timed_calls", "callbacks", "callbacks_reached")


def call_taker_row(counts: dict) -> dict:
    """A call-taker's row (or the total): the counts, 回访接通率 = reached ÷ made, and 平均受理时长
    (seconds, one decimal) = the timed calls' seconds ÷ their number; None without a
    denominator."""
    timed = counts["timed_calls"]
    average = None
    if timed:
        average = (Decimal(str(counts["handling_s"])) / Decimal(timed)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {**{k: int(counts[k]) for k in CALL_TAKER_COUNTS},
            "callback_reach_rate": percent(counts["callbacks_reached"], counts["callbacks"]),
            "average_handling_seconds": average}


# The facts of a report that its trail decides, kept per closed month (stats.models
# indicator_facts; their SQL: stats.queries.FACTS): (name, column type).
KEPT_FACTS = (
    ("handler_id", "bigint"),
    ("dispatcher_id", "bigint"),
    ("closed_at", "timestamptz"),
    ("dispatched_at", "timestamptz"),
    ("resolved_at", "timestamptz"),
    ("answered", "boolean"),
    ("excluded", "boolean"),
    ("reduced", "boolean"),
    ("contacted_in_time", "boolean"),
    ("reopened", "boolean"),
    ("dispatch_units", "integer"),
    ("repeat_request", "boolean"),
    ("cb_reached", "boolean"),
    ("cb_unreachable", "boolean"),
    ("cb_responded", "boolean"),
    ("cb_solved", "boolean"),
    ("cb_satisfaction", "text"),
    ("not_merged", "boolean"),
    ("rejected", "boolean"),
    ("reworked", "boolean"),
    ("rework_times", "integer"),
    ("resolutions", "integer"),
    ("extended", "boolean"),
    ("late_accept", "boolean"),
    ("late_handle", "boolean"),
    ("late_verify", "boolean"),
    ("late_any", "boolean"),
    ("checked", "boolean"),
    ("suspended", "boolean"),
    ("handling_due_come", "boolean"),
    ("department_code", "text"),
    # the stage deadline in force at the cutoff (its stage and instant) and the handling
    # deadline in force (epoch seconds): a month kept before its end (a running month, kept
    # to a watermark) is late, and its handling due, at a later cutoff once these pass
    ("open_stage", "text"),
    ("open_due", "timestamptz"),
    ("handling_due_epoch", "float8"),
    # 派遣次数 and 错派次数 (last: a running month's live tail adds them to the fold's facts): (the dispatches of a case accepted in the period, and those undone)
    ("dispatches", "integer"),
    ("wrong_dispatches", "integer"),
)

# the counts a kept month also keeps added up per area, category and department
# (indicator_sums), in the indicator statement's order; a year's table adds these up
SUM_KEYS = (
    "reported", "reported_worker", "reported_hotline", "reported_open311", "reported_other",
    "reported_to_accept", "rejected", "accepted_of_reported", "accepted", "due", "closed",
    "closed_on_time", "suspended", "due_handling", "handled", "handled_on_time", "resolutions",
    "due_verification", "verified", "verified_on_time", "reworked", "rework_times",
    "first_time", "extended", "extended_due", "overdue", "overdue_handling", "requests",
    "answered_on_call", "dispatched_requests", "rejected_requests", "excluded_requests",
    "reduced_requests", "callbacks", "callback_unreachable", "rated", "contacted_in_time",
    "responded", "solved", "satisfied", "reopened", "repeat_requests", "direct_dispatched",
    "transferred", "settled_requests", "first_call_resolved", "dispatches",
    "wrong_dispatches",
)


def sums_rule(suspended_leave_due: bool, on_time_stages: tuple[str, ...]) -> str:
    """The settings a month's sums were taken under (they decide 应结案 and 按期): sums kept
    under other settings are not read."""
    return (f"suspended_leave_due={'1' if suspended_leave_due else '0'};"
            f"on_time={','.join(sorted(on_time_stages))}")


# A month's facts are kept once it has been closed this long (events are stamped with the
# application's clock: no event before the cutoff can still come, but a transaction that began
# before it may not have committed yet, and nodes' clocks differ by seconds), and for the
# months this far back (this year's and the same month a year before).
KEEP_AFTER = timedelta(hours=1)
# The current month is kept to a watermark this far back (moved on every run of the periodic
# task): a transaction still open at the watermark commits before it is moved on again.
KEEP_LAG = timedelta(minutes=2)
KEEP_MONTHS_BACK = 13


def months_to_keep(now: datetime, tz: str) -> list[Period]:
    """The calendar months closed for at least KEEP_AFTER, the latest KEEP_MONTHS_BACK of
    them, newest first."""
    local = now.astimezone(ZoneInfo(tz))
    y, m = local.year, local.month
    out = []
    for _ in range(KEEP_MONTHS_BACK + 1):
        p = month_period(f"{y:04d}-{m:02d}", tz)
        if p.end + KEEP_AFTER <= now:
            out.append(p)
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[:KEEP_MONTHS_BACK]
