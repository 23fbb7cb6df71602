"""Columns (专栏) and their pieces: 四(二) asks for columns in 《今日儋州》 and on 儋州电视台.

An outlet's row on the 媒体 tab may name the column it runs for the court (专栏) and how often
(专栏周期: 每周, 每两周 or 每月; 每周 when not said). A column's piece is a placement the office
records on the 刊发 tab in that outlet (``intake.tabs``: when the outlet runs several columns, the
row names the one it fills), dated within the column's period: the ISO week, the fortnight
(``calendar.Fortnight``: weeks 1–2, 3–4, … of the ISO year) or the calendar month. A weekly column
owes nothing in an exempt week (``[rules] exempt_weeks``), a fortnightly one when both its weeks are
exempt.

Pure: the 媒体 tab's contacts and the placements in, each column's standing out; ``rules.column_pieces``
makes the findings (``check``, the digest), the digest and the summaries show the standings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..core import normalize as norm
from ..core.calendar import Fortnight, Month, Week
from ..core.model import MediaColumn, MediaContact, Placement
from .obligations import AS_WRITTEN, Plan

Period = Week | Fortnight | Month

# What a cadence's current period is called in a sentence: 本周, 本期 (two weeks), 本月.
THIS = {"每周": "本周", "每两周": "本期", "每月": "本月"}


def media_columns(media: Iterable[MediaContact]) -> list[MediaColumn]:
    """The columns the 媒体 tab's enabled outlets run, once each (an outlet with several contacts may name
    its column on each of their rows: the first row's cadence is the column's)."""
    found: dict[tuple[str, str], MediaColumn] = {}
    for contact in media:
        if contact.enabled and contact.column:
            found.setdefault((norm.outlet_key(contact.outlet), contact.column),
                             MediaColumn(contact.outlet, contact.column, contact.cadence or "每周"))
    return list(found.values())


def period_of(cadence: str, day: date) -> Period:
    """The column period of ``cadence`` that ``day`` falls in."""
    if cadence == "每月":
        return Month.of(day)
    if cadence == "每两周":
        return Fortnight.of(day)
    return Week.of(day)


def periods_in(cadence: str, covered: Week | Month) -> list[Period]:
    """The column periods a summary of ``covered`` reports on: a week's summary, the period holding its
    Sunday (the one current when the week ended); a month's, the periods that start in it, as the month's
    weekly duties are the weeks whose Monday falls in it (``_Period.weeks``)."""
    if isinstance(covered, Week):
        return [period_of(cadence, covered.sunday)]
    if cadence == "每月":
        return [covered]
    found = []
    for week in covered.weeks:
        period = period_of(cadence, week.monday)
        if period.span[0] >= covered.span[0] and period not in found:
            found.append(period)
    return found


def owed(period: Period, plan: Plan) -> bool:
    """Whether a column owes a piece in ``period``: not when every week of it is exempt (a month never is)."""
    if isinstance(period, Month):
        return True
    return any(plan.weekly(week) for week in period.weeks)


def pieces(column: MediaColumn, period: Period, placements: Iterable[Placement]) -> list[Placement]:
    """The placements that fill ``column`` in ``period``, earliest first."""
    first, after = period.span
    key = norm.outlet_key(column.outlet)
    return sorted((p for p in placements if p.column == column.name and norm.outlet_key(p.outlet) == key
                   and first <= p.day < after), key=lambda p: (p.day, p.draft_id))


@dataclass(frozen=True)
class Standing:
    """One column in one period: the pieces that filled it, and whether one was owed."""

    column: MediaColumn
    period: Period
    pieces: tuple[Placement, ...]
    owed: bool

    @property
    def filled(self) -> bool:
        return bool(self.pieces)

    @property
    def missing(self) -> bool:
        return self.owed and not self.pieces

    @property
    def span(self) -> str:
        """The period's days as people read them: 11月16日至11月29日."""
        first, after = self.period.span
        last = after - timedelta(days=1)
        return f"{first.month}月{first.day}日至{last.month}月{last.day}日"


def standings(columns: Sequence[MediaColumn], periods_of, placements: Sequence[Placement],
              plan: Plan = AS_WRITTEN) -> list[Standing]:
    """Each column in each of its periods (``periods_of(cadence)`` lists them), in the 媒体 tab's order."""
    return [Standing(column, period, tuple(pieces(column, period, placements)), owed(period, plan))
            for column in columns for period in periods_of(column.cadence)]


def current(columns: Sequence[MediaColumn], today: date, placements: Sequence[Placement],
            plan: Plan = AS_WRITTEN) -> list[Standing]:
    """Each column in the period that holds ``today`` (the digest's, ``check``'s)."""
    return standings(columns, lambda cadence: [period_of(cadence, today)], placements, plan)


def earliest(columns: Sequence[MediaColumn], today: date) -> date:
    """The first day of the earliest current period of ``columns`` (what placements to read for them)."""
    return min((period_of(c.cadence, today).span[0] for c in columns), default=today)
