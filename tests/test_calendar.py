"""Weeks and months (pipeline/core/calendar.py): keys, labels, days, bounds in a zone, neighbours, parsing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.core.calendar import Month, Week, weeks_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


# --- weeks ----------------------------------------------------------------------

@pytest.mark.parametrize(("when", "key"), [
    (date(2026, 11, 23), "2026-W48"),                                   # Monday
    (date(2026, 11, 29), "2026-W48"),                                   # Sunday
    (date(2026, 11, 30), "2026-W49"),
    (datetime(2026, 11, 29, 23, 59, tzinfo=SHANGHAI), "2026-W48"),      # by its own wall-clock date
    (date(2026, 12, 31), "2026-W53"),
    (date(2027, 1, 3), "2026-W53"),                                     # a January day in last year's week
    (date(2027, 1, 4), "2027-W01"),
    (date(2024, 12, 30), "2025-W01"),                                   # a December day in next year's week
])
def test_a_day_or_moment_falls_in_its_iso_week(when, key) -> None:
    assert Week.of(when).key == key


def test_a_week_has_its_key_label_and_days() -> None:
    week = Week.parse("2026-W48")
    assert (week.year, week.number) == (2026, 48)
    assert week.key == "2026-W48"
    assert week.label == "2026年第48周"
    assert (week.monday, week.sunday) == (date(2026, 11, 23), date(2026, 11, 29))
    assert [week.day(i) for i in range(7)] == [date(2026, 11, 23) + timedelta(days=i) for i in range(7)]
    assert week.span == (date(2026, 11, 23), date(2026, 11, 30))
    assert week.last_day == week.sunday


def test_a_single_digit_week_is_keyed_with_two_digits_and_labelled_with_one() -> None:
    week = Week.of(date(2027, 2, 10))
    assert (week.key, week.label) == ("2027-W06", "2027年第6周")


def test_week_53_spans_the_year_end() -> None:
    week = Week.parse("2026-W53")
    assert week.label == "2026年第53周"
    assert (week.monday, week.sunday) == (date(2026, 12, 28), date(2027, 1, 3))
    assert week.next == Week(2027, 1)
    assert week.previous == Week(2026, 52)
    assert Week(2027, 1).previous == week
    assert week.months == [Month(2026, 12), Month(2027, 1)]


def test_weeks_in_a_year_are_52_or_53() -> None:
    assert [weeks_in(y) for y in (2020, 2021, 2025, 2026, 2027, 2032)] == [53, 52, 52, 53, 52, 53]


def test_weeks_order_by_time_as_their_keys_do() -> None:
    weeks = [Week(2027, 1), Week(2026, 9), Week(2026, 53), Week(2026, 10)]
    assert [w.key for w in sorted(weeks)] == sorted(w.key for w in weeks)


def test_week_bounds_are_midnights_in_the_zone_given() -> None:
    start, end = Week.parse("2026-W48").bounds(SHANGHAI)
    assert start == datetime(2026, 11, 23, tzinfo=SHANGHAI)
    assert end == datetime(2026, 11, 30, tzinfo=SHANGHAI)
    assert start.utcoffset() == timedelta(hours=8)
    assert start.isoformat() == "2026-11-23T00:00:00+08:00"


def test_week_bounds_keep_midnight_across_a_clock_change() -> None:
    start, end = Week.of(date(2026, 11, 1)).bounds(NEW_YORK)      # summer time ends on Sunday 1 November
    assert (start.hour, end.hour) == (0, 0)
    assert end - start == timedelta(days=7)                        # wall-clock difference, as aware arithmetic has it
    assert start.utcoffset() != end.utcoffset()


def test_a_moment_late_on_sunday_in_shanghai_is_still_that_week() -> None:
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI)
    start, end = Week.of(moment).bounds(SHANGHAI)
    assert start <= moment < end


@pytest.mark.parametrize(("text", "message"), [
    ("2026-W5", "周应写作 YYYY-Www（如 2026-W48），而不是 '2026-W5'"),
    ("2026W48", "周应写作 YYYY-Www（如 2026-W48），而不是 '2026W48'"),
    ("2026-W00", "周应写作 YYYY-Www（如 2026-W48），而不是 '2026-W00'"),
    ("2026-W54", "周应写作 YYYY-Www（如 2026-W48），而不是 '2026-W54'"),
    ("", "周应写作 YYYY-Www（如 2026-W48），而不是 ''"),
    ("2027-W53", "2027年没有第53周（该年共 52 周）"),
])
def test_a_week_that_is_not_one_is_refused_in_chinese(text, message) -> None:
    with pytest.raises(ValueError) as caught:
        Week.parse(text)
    assert str(caught.value) == message


def test_a_week_cannot_be_made_with_a_number_its_year_lacks() -> None:
    with pytest.raises(ValueError):
        Week(2027, 53)
    with pytest.raises(ValueError):
        Week(2026, 0)
    with pytest.raises(ValueError):
        Week(2026, 48).day(7)


def test_the_weeks_of_a_month_are_those_whose_monday_falls_in_it() -> None:
    assert [w.key for w in Month(2026, 11).weeks] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"]
    assert [w.key for w in Month(2026, 12).weeks] == ["2026-W50", "2026-W51", "2026-W52", "2026-W53"]
    assert [w.key for w in Month(2027, 2).weeks] == ["2027-W05", "2027-W06", "2027-W07", "2027-W08"]
    assert Week(2026, 48).weeks == [Week(2026, 48)]


# --- months ---------------------------------------------------------------------

@pytest.mark.parametrize(("key", "days"), [
    ("2026-02", 28), ("2028-02", 29), ("2100-02", 28), ("2000-02", 29),
    ("2026-04", 30), ("2026-11", 30), ("2026-01", 31), ("2026-12", 31),
])
def test_a_month_has_its_days(key, days) -> None:
    month = Month.parse(key)
    assert month.first_day == date(month.year, month.number, 1)
    assert month.last_day == date(month.year, month.number, days)
    assert month.span == (month.first_day, month.last_day + timedelta(days=1))
    assert month.day(days) == month.last_day
    with pytest.raises(ValueError):
        month.day(days + 1)


def test_a_month_has_its_key_and_label() -> None:
    assert (Month(2026, 11).key, Month(2026, 11).label) == ("2026-11", "2026年11月")
    assert (Month(2027, 1).key, Month(2027, 1).label) == ("2027-01", "2027年1月")
    assert Month.of(datetime(2026, 11, 30, 23, 59, tzinfo=SHANGHAI)) == Month(2026, 11)


def test_months_step_across_the_year_end() -> None:
    assert Month(2026, 12).next == Month(2027, 1)
    assert Month(2027, 1).previous == Month(2026, 12)
    assert Month(2026, 11).shifted(3) == Month(2027, 2)
    assert Month(2026, 1).shifted(-13) == Month(2024, 12)
    assert Month(2026, 5).shifted(0) == Month(2026, 5)
    assert sorted([Month(2027, 1), Month(2026, 12), Month(2026, 2)]) == [Month(2026, 2), Month(2026, 12),
                                                                           Month(2027, 1)]


def test_month_bounds_are_midnights_in_the_zone_given() -> None:
    start, end = Month.parse("2026-12").bounds(SHANGHAI)
    assert start.isoformat() == "2026-12-01T00:00:00+08:00"
    assert end.isoformat() == "2027-01-01T00:00:00+08:00"


def test_a_month_touches_only_itself() -> None:
    assert Month(2026, 11).months == [Month(2026, 11)]


@pytest.mark.parametrize("text", ["2026-1", "2026-13", "2026-00", "2026/11", "2026年11月", "", None])
def test_a_month_that_is_not_one_is_refused_in_chinese(text) -> None:
    with pytest.raises(ValueError) as caught:
        Month.parse(text)
    assert str(caught.value) == f"月份应写作 YYYY-MM（如 2026-11），而不是 {text!r}"


def test_a_month_cannot_be_made_with_a_number_beyond_twelve() -> None:
    with pytest.raises(ValueError):
        Month(2026, 13)
