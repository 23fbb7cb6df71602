"""Weeks and months: the periods the work plan counts in.

A week is an ISO week (Monday to Sunday, keyed ``2026-W48``); a month is a
calendar month (keyed ``2026-11``); a fortnight, the period of a column that
runs every two weeks, is a pair of ISO weeks of one ISO year, the first odd
(weeks 47 and 48, keyed ``2026-W47/48``; week 53 stands alone). Keys are what the ledger, the config and
the mail keys hold; labels are what people read (``2026年第48周``,
``2026年11月``). A moment belongs to the week and month of its own wall-clock
date, so the caller passes it in the configured zone (``clock.now``); bounds
are midnights in the zone the caller names. Nothing else in the pipeline
counts days to find a Monday or the first of a month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

# The written forms of a key; the config checks its exempt weeks against WEEK_KEY.
WEEK_KEY = re.compile(r"(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])")
MONTH_KEY = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

_WEEK = timedelta(days=7)
_DAY = timedelta(days=1)


def weeks_in(year: int) -> int:
    """52 or 53: the ISO weeks of ``year`` (28 December always falls in its last)."""
    return date(year, 12, 28).isocalendar()[1]


class _Period:
    """What a week and a month share: a run of whole days, [first day, day after the last)."""

    @property
    def span(self) -> tuple[date, date]:
        raise NotImplementedError

    @property
    def last_day(self) -> date:
        return self.span[1] - _DAY

    def bounds(self, tz: tzinfo | None) -> tuple[datetime, datetime]:
        """The period as aware moments in ``tz``: [midnight of the first day, midnight after the last)."""
        first, after = self.span
        return datetime.combine(first, time(), tz), datetime.combine(after, time(), tz)

    @property
    def weeks(self) -> list[Week]:
        """The weeks whose Monday falls in the period, earliest first."""
        first, after = self.span
        week = Week.of(first)
        if week.monday < first:
            week = week.next
        found = []
        while week.monday < after:
            found.append(week)
            week = week.next
        return found

    @property
    def months(self) -> list[Month]:
        """The months any day of the period falls in, earliest first."""
        first, after = self.span
        month, last = Month.of(first), Month.of(after - _DAY)
        found = [month]
        while found[-1] < last:
            found.append(found[-1].next)
        return found


@dataclass(frozen=True, order=True)
class Week(_Period):
    """An ISO week: its ISO year (which the first and last days of a calendar year may not share) and number."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= weeks_in(self.year):
            raise ValueError(f"ISO year {self.year} has weeks 1 to {weeks_in(self.year)}, not {self.number}")

    @classmethod
    def of(cls, when: date | datetime) -> Week:
        """The week ``when`` falls in (a moment: by its own wall-clock date)."""
        year, number, _ = when.isocalendar()
        return cls(year, number)

    @classmethod
    def parse(cls, key: str) -> Week:
        """``"2026-W48"`` → the week; ValueError (in Chinese) for another form or a week the year lacks."""
        match = WEEK_KEY.fullmatch(key or "")
        if not match:
            raise ValueError(f"周应写作 YYYY-Www（如 2026-W48），而不是 {key!r}")
        year, number = int(match[1]), int(match[2])
        if number > weeks_in(year):
            raise ValueError(f"{year}年没有第{number}周（该年共 {weeks_in(year)} 周）")
        return cls(year, number)

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.number}周"

    def day(self, index: int) -> date:
        """The week's ``index``-th day, Monday being 0."""
        if not 0 <= index <= 6:
            raise ValueError(f"a week has days 0 (Monday) to 6 (Sunday), not {index}")
        return date.fromisocalendar(self.year, self.number, index + 1)

    @property
    def monday(self) -> date:
        return self.day(0)

    @property
    def sunday(self) -> date:
        return self.day(6)

    @property
    def span(self) -> tuple[date, date]:
        return self.monday, self.monday + _WEEK

    @property
    def previous(self) -> Week:
        return Week.of(self.monday - _WEEK)

    @property
    def next(self) -> Week:
        return Week.of(self.monday + _WEEK)


@dataclass(frozen=True, order=True)
class Fortnight(_Period):
    """Two ISO weeks of one ISO year, the first odd: the period of a column that runs every two weeks."""

    year: int
    first: int                      # the first week's number: 1, 3, …, 53

    @classmethod
    def of(cls, when: date | datetime) -> Fortnight:
        week = Week.of(when)
        return cls(week.year, week.number - (week.number + 1) % 2)

    @property
    def last(self) -> int:
        return min(self.first + 1, weeks_in(self.year))

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.first:02d}" + (f"/{self.last:02d}" if self.last != self.first else "")

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.first}周" if self.last == self.first else f"{self.year}年第{self.first}—{self.last}周"

    @property
    def span(self) -> tuple[date, date]:
        return Week(self.year, self.first).monday, Week(self.year, self.last).sunday + _DAY


@dataclass(frozen=True, order=True)
class Month(_Period):
    """A calendar month."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 12:
            raise ValueError(f"a month is numbered 1 to 12, not {self.number}")

    @classmethod
    def of(cls, when: date | datetime) -> Month:
        """The month ``when`` falls in (a moment: by its own wall-clock date)."""
        return cls(when.year, when.month)

    @classmethod
    def parse(cls, key: str) -> Month:
        """``"2026-11"`` → the month; ValueError (in Chinese, as the brief's command shows it) for anything else."""
        match = MONTH_KEY.fullmatch(key or "")
        if not match:
            raise ValueError(f"月份应写作 YYYY-MM（如 2026-11），而不是 {key!r}")
        return cls(int(match[1]), int(match[2]))

    @property
    def key(self) -> str:
        return f"{self.year}-{self.number:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.number}月"

    @property
    def first_day(self) -> date:
        return date(self.year, self.number, 1)

    def day(self, number: int) -> date:
        """The month's day ``number`` (1 is the first); ValueError for a day the month does not have."""
        return date(self.year, self.number, number)

    @property
    def span(self) -> tuple[date, date]:
        return self.first_day, self.next.first_day

    def shifted(self, months: int) -> Month:
        """The month ``months`` later (earlier when negative)."""
        index = self.year * 12 + self.number - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def previous(self) -> Month:
        return self.shifted(-1)

    @property
    def next(self) -> Month:
        return self.shifted(1)
