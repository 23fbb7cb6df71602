"""When each job is due, computed from the clock and the configured zone alone.

``schedule`` (1.2) only ticks: it forgets everything on restart, skips what
came due while the process slept, and keeps naive host-local times. So the
loop asks this module, on every tick, which (job, period) slots are due
*now* in the configured zone; the ledger says which of them already ran.
A slot that came due while the process was down is due until it runs —
once: only the most recent slot of each job is ever returned, so a two-day
outage yields one digest, not two, and a weekly reminder is never sent for
a week that is already over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ..core.calendar import Month, Week
from ..core.config import WEEKDAYS, ScheduleSettings

CYCLE, DIGEST, REMIND, WEEKLY, MONTHLY = "cycle", "digest", "remind", "weekly-summary", "monthly-summary"
BRIEF = "brief"
JOBS = (CYCLE, DIGEST, REMIND, WEEKLY, MONTHLY, BRIEF)


@dataclass(frozen=True)
class Slot:
    job: str
    period: str          # what the run covers: a cycle slot, a day, a week, a month
    due_at: datetime     # when it came due


def _clock(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def in_office_hours(now: datetime, plan: ScheduleSettings) -> bool:
    start, end = (_clock(t) for t in plan.office_hours)
    return now.isoweekday() in plan.office_days and start <= now.time() < end


def cycle_slot(now: datetime, plan: ScheduleSettings) -> Slot | None:
    """The current N-minute slot inside office hours (pull → draft → publish)."""
    if not in_office_hours(now, plan):
        return None
    minutes = (now.hour * 60 + now.minute) // plan.cycle_minutes * plan.cycle_minutes
    start = now.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
    return Slot(CYCLE, start.strftime("%Y-%m-%dT%H:%M"), start)


def digest_slot(now: datetime, plan: ScheduleSettings) -> Slot | None:
    """The latest digest time that has passed, on a digest day (within the last week)."""
    at = _clock(plan.digest)
    for back in range(8):
        day = now.date() - timedelta(days=back)
        moment = datetime.combine(day, at, now.tzinfo)
        if day.isoweekday() in plan.digest_days and moment <= now:
            return Slot(DIGEST, day.isoformat(), moment)
    return None


def _weekly(now: datetime, spec: str) -> datetime:
    name, clock_text = spec.split()
    weekday, at = WEEKDAYS.index(name), _clock(clock_text)
    week = Week.of(now)
    moment = datetime.combine(week.day(weekday), at, now.tzinfo)
    return moment if moment <= now else datetime.combine(week.previous.day(weekday), at, now.tzinfo)


def remind_slot(now: datetime, plan: ScheduleSettings) -> Slot | None:
    """This week's reminder time, once passed; never a reminder for a week already over."""
    moment = _weekly(now, plan.remind)
    week = Week.of(moment)
    return Slot(REMIND, week.key, moment) if week == Week.of(now) else None


def weekly_summary_slot(now: datetime, plan: ScheduleSettings) -> Slot:
    """The summary of the week before the latest summary time."""
    moment = _weekly(now, plan.weekly_summary)
    return Slot(WEEKLY, Week.of(moment).previous.key, moment)


def monthly_summary_slot(now: datetime, plan: ScheduleSettings) -> Slot:
    """The report of the month before the latest report time."""
    return _monthly(now, plan.monthly_summary, MONTHLY)


def brief_slot(now: datetime, plan: ScheduleSettings) -> Slot:
    """The deputies' brief on the month before the latest brief time (四(四))."""
    return _monthly(now, plan.brief, BRIEF)


def _monthly(now: datetime, spec: str, job: str) -> Slot:
    day_text, clock_text = spec.split()
    day, at = int(day_text), _clock(clock_text)
    month = Month.of(now)
    moment = datetime.combine(month.day(day), at, now.tzinfo)
    if moment > now:
        month = month.previous
        moment = datetime.combine(month.day(day), at, now.tzinfo)
    return Slot(job, month.previous.key, moment)


def due(now: datetime, plan: ScheduleSettings, *, since: datetime | None = None) -> list[Slot]:
    """The most recent slot of every job that has come due by ``now``.

    ``since`` (when the scheduler was first started) keeps a new install
    from sending last week's summary, or last month's report or brief, on its first morning, or on a
    Sunday a digest for the Friday before it was installed; the day's own digest still goes out.
    """
    slots = [cycle_slot(now, plan), digest_slot(now, plan), remind_slot(now, plan),
             weekly_summary_slot(now, plan), monthly_summary_slot(now, plan), brief_slot(now, plan)]
    return [s for s in slots if s is not None
            and (since is None or s.due_at >= since or s.job in (CYCLE, REMIND)
                 or s.job == DIGEST and s.due_at.date() >= since.date())]
