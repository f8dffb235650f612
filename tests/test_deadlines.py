"""Deadlines (限时办理): time limits, the Chinese working calendar and due times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridsnap.deadlines.rules import (
    TimeLimit,
    WorkCalendar,
    calendar_coverage,
    due_at,
    working_seconds_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
NINE_HOURS = 9 * 3600


def local(*args: int) -> datetime:
    """A wall-clock time in Shanghai, as the aware datetime a case would carry."""
    return datetime(*args, tzinfo=SHANGHAI)


def due_local(start: datetime, amount: int, unit: str) -> datetime:
    return due_at(start, TimeLimit(amount, unit), CAL).astimezone(SHANGHAI)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


# --- TimeLimit -----------------------------------------------------------------------------


def test_time_limit_from_dict_reads_amount_and_unit():
    limit = TimeLimit.from_dict({"amount": 2, "unit": "hours"})

    assert limit == TimeLimit(amount=2, unit="hours")
    assert TimeLimit.from_dict(limit.to_dict()) == limit


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": 0, "unit": "hours"}, "from 1 to 10000, not 0"),
        ({"amount": 10001, "unit": "working_days"}, "from 1 to 10000, not 10001"),
        ({"amount": -3, "unit": "working_hours"}, "from 1 to 10000"),
        ({"amount": 1.5, "unit": "hours"}, "whole number"),
        ({"amount": "2", "unit": "hours"}, "whole number"),
        ({"amount": True, "unit": "hours"}, "whole number"),
        ({"amount": 2, "unit": "weeks"},
         "unit must be one of hours, working_hours, working_days, days"),
        ({"amount": 2}, "missing unit"),
        ({"unit": "hours"}, "missing amount"),
        ({"amount": 2, "unit": "hours", "units": "x"}, "unknown keys: units"),
        ([2, "hours"], "must be an object"),
    ],
)
def test_time_limit_from_dict_rejects_invalid_values_with_a_clear_message(data, message):
    with pytest.raises(ValueError, match=message):
        TimeLimit.from_dict(data)


def test_time_limit_constructor_validates_too():
    with pytest.raises(ValueError, match="unit must be one of"):
        TimeLimit(3, "minutes")  # type: ignore[arg-type]


# --- WorkCalendar --------------------------------------------------------------------------


def test_work_calendar_defaults_to_shanghai_nine_to_six():
    assert (CAL.tz, CAL.day_start, CAL.day_end) == ("Asia/Shanghai", time(9), time(18))
    assert CAL.day_length == timedelta(hours=9)


def test_work_calendar_reads_business_hours_from_settings_strings():
    cal = WorkCalendar.from_business_hours("Asia/Shanghai", ("08:30", "17:30"))

    assert (cal.day_start, cal.day_end) == (time(8, 30), time(17, 30))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Asia/Nowhere"}, "unknown time zone"),
        ({"day_start": time(18), "day_end": time(9)}, "must start before they end"),
        ({"day_start": time(9), "day_end": time(9)}, "must start before they end"),
    ],
)
def test_work_calendar_rejects_unknown_zone_and_empty_business_hours(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WorkCalendar(**kwargs)


# The State Council notices, written out independently of the library:
# 国办发明电〔2024〕12号 (2025) and 国办发明电〔2025〕7号 (2026).
OFFICIAL_WEEKDAYS_OFF = {
    2025: [
        date(2025, 1, 1),
        *days(date(2025, 1, 28), date(2025, 1, 31)), date(2025, 2, 3), date(2025, 2, 4),
        date(2025, 4, 4),
        date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 5),
        date(2025, 6, 2),
        date(2025, 10, 1), date(2025, 10, 2), date(2025, 10, 3),
        date(2025, 10, 6), date(2025, 10, 7), date(2025, 10, 8),
    ],
    2026: [
        date(2026, 1, 1), date(2026, 1, 2),
        *days(date(2026, 2, 16), date(2026, 2, 20)), date(2026, 2, 23),
        date(2026, 4, 6),
        date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5),
        date(2026, 6, 19),
        date(2026, 9, 25),
        date(2026, 10, 1), date(2026, 10, 2),
        date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7),
    ],
}
OFFICIAL_WEEKENDS_WORKED = {
    2025: [date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28),
           date(2025, 10, 11)],
    2026: [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
           date(2026, 9, 20), date(2026, 10, 10)],
}


@pytest.mark.parametrize("year", [2025, 2026])
def test_working_days_match_the_state_council_notice_for_the_whole_year(year):
    whole_year = days(date(year, 1, 1), date(year, 12, 31))

    weekdays_off = [d for d in whole_year if d.weekday() < 5 and not CAL.is_working_day(d)]
    weekends_worked = [d for d in whole_year if d.weekday() >= 5 and CAL.is_working_day(d)]

    assert weekdays_off == OFFICIAL_WEEKDAYS_OFF[year]
    assert weekends_worked == OFFICIAL_WEEKENDS_WORKED[year]
    assert calendar_coverage(year) is True


def test_2025_national_day_and_mid_autumn_are_off_from_oct_1_to_8():
    assert not any(CAL.is_working_day(d) for d in days(date(2025, 10, 1), date(2025, 10, 8)))
    assert CAL.is_working_day(date(2025, 9, 28))  # Sunday, 调休上班
    assert CAL.is_working_day(date(2025, 10, 11))  # Saturday, 调休上班


def test_year_without_a_notice_is_flagged_and_keeps_only_statutory_days_off():
    # 2099: no State Council notice in the library. Oct 1-2 (Thu, Fri) are off by law;
    # the Saturday Oct 3 is not moved to Monday, and no weekend day is worked.
    assert calendar_coverage(2099) is False
    assert not CAL.is_working_day(date(2099, 10, 1))
    assert not CAL.is_working_day(date(2099, 10, 2))
    assert CAL.is_working_day(date(2099, 10, 5))
    assert not any(
        CAL.is_working_day(d) for d in days(date(2099, 1, 1), date(2099, 12, 31))
        if d.weekday() >= 5)


# --- due_at: natural hours -----------------------------------------------------------------


def test_hours_limit_runs_on_the_clock_across_midnight():
    start = local(2026, 3, 10, 22, 30)

    due = due_at(start, TimeLimit(2, "hours"), CAL)

    assert due == local(2026, 3, 11, 0, 30)
    assert due.tzinfo is UTC


def test_hours_limit_ignores_weekends_and_holidays():
    assert due_local(local(2026, 10, 1, 8, 0), 24, "hours") == local(2026, 10, 2, 8, 0)


def test_hours_limit_from_a_dst_zone_counts_elapsed_hours_not_wall_clock():
    # Berlin springs forward on 2026-03-29: 24 elapsed hours from Sat 12:00 CET (11:00 UTC)
    # end at Sun 13:00 CEST on its wall clock, which is 11:00 UTC.
    start = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    assert due_at(start, TimeLimit(24, "hours"), CAL) == datetime(2026, 3, 29, 11, tzinfo=UTC)


# --- due_at: working hours -----------------------------------------------------------------


def test_working_hours_from_1700_with_2_hours_end_at_1000_next_working_day():
    assert due_local(local(2026, 3, 10, 17, 0), 2, "working_hours") == local(2026, 3, 11, 10)


def test_working_hours_used_up_exactly_at_closing_are_due_at_that_closing():
    assert due_local(local(2026, 3, 10, 16, 0), 2, "working_hours") == local(2026, 3, 10, 18)


def test_working_hours_span_a_night_and_a_weekend():
    # Fri 16:00: 2 h on Friday, then Monday 09:00-11:00.
    assert due_local(local(2026, 3, 13, 16, 0), 4, "working_hours") == local(2026, 3, 16, 11)


def test_working_hours_started_outside_business_hours_count_from_the_next_opening():
    assert due_local(local(2026, 3, 10, 7, 15), 1, "working_hours") == local(2026, 3, 10, 10)
    assert due_local(local(2026, 3, 10, 18, 0), 1, "working_hours") == local(2026, 3, 11, 10)
    assert due_local(local(2026, 3, 14, 10, 0), 2, "working_hours") == local(2026, 3, 16, 11)


def test_working_hours_count_a_make_up_saturday_and_skip_the_spring_festival():
    # Fri 2026-02-13 17:00 + 2 h: 1 h on Friday, 1 h on Saturday Feb 14 (调休上班).
    assert due_local(local(2026, 2, 13, 17), 2, "working_hours") == local(2026, 2, 14, 10)
    # Sat Feb 14 17:00 + 2 h: Feb 15-23 are off, so Tuesday Feb 24.
    assert due_local(local(2026, 2, 14, 17), 2, "working_hours") == local(2026, 2, 24, 10)


def test_working_hours_of_many_days_walk_whole_days():
    # 90 h = 10 working days from Mon 09:00 in a plain fortnight: due at closing of day 10.
    assert due_local(local(2026, 3, 9, 9), 90, "working_hours") == local(2026, 3, 20, 18)


# --- due_at: working days ------------------------------------------------------------------


def test_working_days_received_in_business_hours_are_due_at_the_same_clock_time():
    assert due_local(local(2026, 3, 10, 10, 30), 1, "working_days") == local(2026, 3, 11, 10, 30)
    assert due_local(local(2026, 3, 13, 14, 5), 1, "working_days") == local(2026, 3, 16, 14, 5)


def test_calendar_days_count_rest_days_and_holidays_as_the_hotline_rules_write_them():
    # 7天: the 12345 rules count 日, so the National Day holiday runs on the clock
    assert due_local(local(2026, 9, 30, 10), 7, "days") == local(2026, 10, 7, 10)
    assert due_local(local(2026, 9, 30, 10), 7, "working_days") > local(2026, 10, 12)
    from gridsnap.settings import DEFAULT_HOTLINE_LIMITS, parse_hotline_limits

    limits = dict((n, (a, u)) for n, a, u in parse_hotline_limits(DEFAULT_HOTLINE_LIMITS))
    assert limits["ordinary"] == (7, "days") and limits["complex"] == (15, "days")
    assert parse_hotline_limits("ordinary=7wd") == (("ordinary", 7, "working_days"),)


def test_working_days_skip_the_2026_national_day_holiday():
    start = local(2026, 9, 30, 10, 0)  # Wednesday; Oct 1-7 are off

    assert due_local(start, 1, "working_days") == local(2026, 10, 8, 10)
    assert due_local(start, 2, "working_days") == local(2026, 10, 9, 10)
    assert due_local(start, 3, "working_days") == local(2026, 10, 10, 10)  # 调休 Saturday


def test_one_working_day_from_the_friday_before_a_make_up_saturday_lands_on_that_saturday():
    assert due_local(local(2026, 10, 9, 14), 1, "working_days") == local(2026, 10, 10, 14)
    assert due_local(local(2026, 2, 13, 11), 1, "working_days") == local(2026, 2, 14, 11)


def test_working_days_received_after_closing_are_due_at_closing_of_the_nth_working_day():
    assert due_local(local(2026, 3, 13, 20, 0), 1, "working_days") == local(2026, 3, 16, 18)
    assert due_local(local(2026, 3, 13, 20, 0), 2, "working_days") == local(2026, 3, 17, 18)


def test_working_days_received_on_a_rest_day_or_holiday_are_due_at_closing():
    assert due_local(local(2026, 3, 14, 10, 0), 1, "working_days") == local(2026, 3, 16, 18)
    assert due_local(local(2026, 10, 3, 9, 30), 1, "working_days") == local(2026, 10, 8, 18)


def test_working_days_received_at_or_before_opening_count_that_day_in_full():
    assert due_local(local(2026, 3, 16, 7, 0), 1, "working_days") == local(2026, 3, 16, 18)
    assert due_local(local(2026, 3, 16, 9, 0), 1, "working_days") == local(2026, 3, 16, 18)
    assert due_local(local(2026, 3, 16, 7, 0), 2, "working_days") == local(2026, 3, 17, 18)
    # the day before the National Day holiday: that day, not the first one after it
    assert due_local(local(2026, 9, 30, 8, 0), 1, "working_days") == local(2026, 9, 30, 18)


@pytest.mark.parametrize("amount", [1, 2, 5])
def test_n_working_days_and_n_times_nine_working_hours_fall_due_together(amount):
    for n in range(0, 14 * 24 * 4):  # every 15 min across the 2026 National Day fortnight
        start = local(2026, 9, 26) + timedelta(minutes=15 * n)
        days = due_at(start, TimeLimit(amount, "working_days"), CAL)
        hours = due_at(start, TimeLimit(amount * 9, "working_hours"), CAL)
        assert days == hours, start


def test_working_days_deadline_never_moves_earlier_when_receipt_is_later():
    starts = [local(2026, 9, 25) + timedelta(minutes=20 * n) for n in range(3 * 24 * 20)]

    deadlines = [due_at(s, TimeLimit(2, "working_days"), CAL) for s in starts]

    assert deadlines == sorted(deadlines)


@pytest.mark.parametrize("amount", [1, 3, 10])
def test_working_days_leave_exactly_n_business_days(amount):
    for n in range(0, 14 * 24 * 4):  # every 15 min across the 2026 National Day fortnight
        start = local(2026, 9, 26) + timedelta(minutes=15 * n)
        due = due_at(start, TimeLimit(amount, "working_days"), CAL)
        assert working_seconds_between(start, due, CAL) == amount * NINE_HOURS, start


@pytest.mark.parametrize("amount", [1, 2, 9, 13, 40])
def test_working_hours_leave_exactly_the_limit_in_business_seconds(amount):
    for n in range(0, 14 * 24 * 4):  # every 15 min across the 2026 Spring Festival
        start = local(2026, 2, 10) + timedelta(minutes=15 * n, seconds=7)
        due = due_at(start, TimeLimit(amount, "working_hours"), CAL)
        assert working_seconds_between(start, due, CAL) == amount * 3600, start


# --- time zones ----------------------------------------------------------------------------


def test_shanghai_has_no_dst_so_opening_is_0100_utc_all_year():
    for start in (local(2026, 1, 12, 20), local(2026, 7, 13, 20)):  # Mondays, after closing
        due = due_at(start, TimeLimit(1, "working_hours"), CAL)
        assert (due.hour, due.minute, due.utcoffset()) == (2, 0, timedelta(0))


@pytest.mark.parametrize(
    "limit",
    [TimeLimit(2, "hours"), TimeLimit(5, "working_hours"), TimeLimit(2, "working_days")],
)
def test_a_start_given_in_another_time_zone_gives_the_same_instant(limit):
    instant = local(2026, 9, 30, 16, 45)
    same_instants = [
        instant,
        instant.astimezone(UTC),
        instant.astimezone(ZoneInfo("Europe/Berlin")),
        instant.astimezone(ZoneInfo("America/New_York")),
    ]

    deadlines = {due_at(s, limit, CAL) for s in same_instants}

    assert len(deadlines) == 1
    assert deadlines.pop().tzinfo is UTC


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(datetime(2026, 3, 10, 9), TimeLimit(1, "hours"), CAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds_between(datetime(2026, 3, 10, 9), local(2026, 3, 10, 10), CAL)


# --- working_seconds_between ---------------------------------------------------------------


def test_working_seconds_between_count_only_business_hours_of_working_days():
    # Fri 17:00 to Mon 10:00: one hour on Friday, one on Monday.
    assert working_seconds_between(local(2026, 3, 13, 17), local(2026, 3, 16, 10), CAL) == 7200


def test_working_seconds_between_is_zero_within_a_holiday_and_negative_backwards():
    assert working_seconds_between(local(2026, 10, 1, 9), local(2026, 10, 7, 18), CAL) == 0
    assert working_seconds_between(local(2026, 3, 10, 11), local(2026, 3, 10, 10), CAL) == -3600
