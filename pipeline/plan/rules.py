"""The work plan's obligations as rules that yield findings.

Pure functions over plain data: what the ledger holds for this week, month
and year goes in, a list of :class:`Finding` comes out. What each rule counts,
how many, its section of the court's work plan (四(五), 三(七) …) and its words come
from the plan as configured (``obligations.Plan``). Periods are computed in
the configured zone from an aware ``now``, never from the host's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..core.calendar import Month, Week
from ..core.model import Activity, MediaColumn, Placement, Team, TeamWeek
from . import columns as column_plan
from .obligations import (
    AS_WRITTEN,
    COLUMN,
    DEPUTIES,
    DEPUTIES_REPORT,
    MEDIA_MIX,
    PLAN_LEAD,
    PRESS,
    PRESS_PACE,
    REPORT_ASKED,
    REPORT_UNOWNED,
    TEAM_QUOTA,
    WEEKLY_RELEASES,
    Obligation,
    Plan,
)


@dataclass(frozen=True)
class Finding:
    """One obligation not (yet) met: what, who, which period, how far off, by when."""

    rule: str          # stable identifier, e.g. "team-quota"
    subject: str       # who owes it: a team, or 本院 for the office's own obligations
    period: str        # "2026-W48", "2026-11", "2026", or an activity date
    shortfall: int     # how many are missing (0 for warnings about timing)
    due: date          # the last day to put it right
    message: str       # one Chinese sentence for people
    severity: str = "missing"   # "missing" or "warning"


def evaluate(now: datetime, *, teams: Sequence[Team], counts: Sequence[TeamWeek],
             published_kinds: Sequence[str], activities: Sequence[Activity],
             plan: Plan = AS_WRITTEN, reports: Sequence[date] = (),
             media_types: Sequence[str] | None = None, columns: Sequence[MediaColumn] = (),
             placements: Sequence[Placement] = ()) -> list[Finding]:
    """Every finding for the week, month and year that contain ``now``.

    ``reports`` are the days valid items of the kinds ``DEPUTIES_REPORT`` counts were made on (since
    ``REPORT_LOOKBACK`` days before ``now`` at least). ``media_types`` are the 媒体 tab's 类型 of the
    outlets this week's releases reached (None: not known, the media mix is not judged). ``columns`` are the
    媒体 tab's columns (专栏), ``placements`` the 刊发 tab's pieces since their current periods began.
    """
    today = now.date()
    week, sunday = Week.of(today).key, Week.of(today).sunday
    findings: list[Finding] = []
    if plan.weekly(Week.of(today)):
        findings += team_quotas(counts, week, sunday, plan[TEAM_QUOTA])
        findings += weekly_releases(published_kinds, week, sunday, plan.weekly_releases)
        if media_types is not None:
            findings += media_mix(media_types, week, sunday, plan[MEDIA_MIX])
    findings += deputies_visits(activities, today, plan[DEPUTIES])
    findings += press_conferences(activities, today, plan[PRESS], plan[PRESS_PACE])
    findings += plan_lead_times(activities, today, plan[PLAN_LEAD])
    findings += visit_reports(activities, reports, today, plan[DEPUTIES_REPORT])
    findings += column_pieces(columns, placements, today, plan)
    findings += team_contacts(teams, today)
    return findings


def team_quotas(counts: Sequence[TeamWeek], week: str, sunday: date,
                rule: Obligation = TEAM_QUOTA) -> list[Finding]:
    """四(五): every team and the command centre, at least its quota (its 每周任务) a week."""
    return [
        Finding(rule.rule, c.team, week, c.quota - c.valid, sunday,
                rule.message(team=c.team, valid=c.valid, quota=c.quota, short=c.quota - c.valid))
        for c in counts if c.valid < c.quota
    ]


def weekly_releases(published_kinds: Sequence[str], week: str, sunday: date,
                    rules: Sequence[Obligation] = WEEKLY_RELEASES) -> list[Finding]:
    """三(七), 三(八), 四(二): what must reach the media every week."""
    nothing = "" if published_kinds else "（本周尚未发布任何稿件）"
    findings = []
    for rule in rules:
        done = rule.tally(published_kinds)
        if done < rule.count:
            findings.append(Finding(rule.rule, rule.owner, week, rule.count - done, sunday,
                                    rule.message(nothing=nothing)))
    return findings


def media_mix(media_types: Sequence[str], week: str, sunday: date, rule: Obligation = MEDIA_MIX) -> list[Finding]:
    """四(二): this week's releases reached TV, radio and online media (网络 or 新媒体); the finding names
    the types missing."""
    reached = set(media_types)
    missing = [need for need in rule.kinds if not reached & set(need.split("/"))]
    if not missing:
        return []
    return [Finding(rule.rule, rule.owner, week, len(missing), sunday, rule.message(missing="、".join(missing)))]


def deputies_visits(activities: Sequence[Activity], today: date, rule: Obligation = DEPUTIES) -> list[Finding]:
    """四(四): at least ``rule.count`` 代表委员看执行 activities a month (planned ones count)."""
    month = Month.of(today)
    held = rule.tally(a.kind for a in activities if Month.of(a.day) == month)
    if held >= rule.count:
        return []
    return [Finding(rule.rule, rule.owner, month.key, rule.count - held, month.last_day, rule.message())]


def press_conferences(activities: Sequence[Activity], today: date, rule: Obligation = PRESS,
                      pace: Obligation = PRESS_PACE) -> list[Finding]:
    """四(二): at least ``rule.count`` press conferences held a year; warn when none was held by the end of June.

    Held: a 新闻发布会 (a 新闻通气会 or 记者恳谈会 is another kind) whose day has come and that the
    office marked 已召开 是 on the 活动 tab."""
    year = today.year
    this_year = [a for a in activities if rule.counted(a.kind) and a.day.year == year]
    findings = []
    # Only a conference held counts: its day not still to come and the office's 已召开 是 (a planned one does not).
    done = [a for a in this_year if a.took_place(today)]
    if len(done) < rule.count:
        findings.append(Finding(rule.rule, rule.owner, str(year), rule.count - len(done),
                                date(year, 12, 31), rule.message(held=len(done))))
    held = [a for a in this_year if a.took_place(today) and pace.counted(a.kind)]
    if today > date(year, 6, 30) and len(held) < pace.count:
        findings.append(Finding(pace.rule, pace.owner, str(year), 0, date(year, 12, 31),
                                pace.message(), severity=pace.severity))
    return findings


def plan_lead_times(activities: Sequence[Activity], today: date, rule: Obligation = PLAN_LEAD) -> list[Finding]:
    """四(五): a major operation's plan reaches the office ``rule.days`` ahead."""
    findings = []
    for activity in sorted(activities, key=lambda a: a.day):
        if not rule.counted(activity.kind) or activity.day < today:
            continue
        deadline = activity.day - timedelta(days=rule.days)
        name = f"{rule.name}“{activity.name or '未命名'}”（{activity.day.month}月{activity.day.day}日）"
        if activity.plan_date is None:
            findings.append(Finding(rule.rule, rule.owner, activity.day.isoformat(), 1, deadline,
                                    rule.message(activity=name, due=f"{deadline.month}月{deadline.day}日")))
        elif activity.plan_date > deadline:
            filed = f"{activity.plan_date.month}月{activity.plan_date.day}日"
            findings.append(Finding(rule.rule, rule.owner, activity.day.isoformat(), 0, deadline,
                                    rule.late_message(activity=name, filed=filed), severity="warning"))
    return findings


# How long after a visit its report is still asked for (a month: older visits belong to past briefs).
REPORT_LOOKBACK = 31


def unreported_visits(activities: Sequence[Activity], reports: Sequence[date], today: date,
                      rule: Obligation = DEPUTIES_REPORT) -> list[tuple[Activity, int]]:
    """三(十), 四(四): the visits of ``rule.follows`` that have passed and still owe their report.

    A visit is reported by an item of ``rule.kinds`` made on its day or later and before the next visit
    (``reports``: the days such valid items were made); visits of the last ``REPORT_LOOKBACK`` days are looked
    at. Each visit once, in date order, with the 负责部门 the 活动 tab gives it (``team``; "" when none),
    and how many reports it still owes.
    """
    visits: dict[tuple[date, str, str], Activity] = {}
    for a in sorted(activities, key=lambda a: (a.day, a.name, a.kind)):
        if a.kind in rule.follows:
            known = visits.setdefault((a.day, a.name, a.kind), a)
            if not known.team and a.team:
                visits[(a.day, a.name, a.kind)] = a
    ordered = list(visits.values())
    owed = []
    for index, visit in enumerate(ordered):
        day = visit.day
        if not today - timedelta(days=REPORT_LOOKBACK) <= day < today:
            continue
        following = ordered[index + 1].day if index + 1 < len(ordered) else None
        made = sum(1 for r in reports if r >= day and (following is None or r < following or following == day))
        if made < rule.count:
            owed.append((visit, rule.count - made))
    return owed


def visit_label(visit: Activity) -> str:
    """How the office and the teams read a visit: “代表委员看执行”活动“…”（11月20日）."""
    return f"“{visit.kind}”活动“{visit.name or '未命名'}”（{visit.day.month}月{visit.day.day}日）"


def visit_reports(activities: Sequence[Activity], reports: Sequence[date], today: date,
                  rule: Obligation = DEPUTIES_REPORT) -> list[Finding]:
    """三(十), 四(四): after each visit of ``rule.follows`` has passed, its report (an item of ``rule.kinds``).

    The finding is the visit's 负责部门's when the 活动 tab names one (its weekly reminder asks it for the
    material, ``flows/week.remind``), else the office's, which contacts the team that ran the visit.
    """
    findings = []
    for visit, short in unreported_visits(activities, reports, today, rule):
        who = REPORT_ASKED.format(team=visit.team) if visit.team else REPORT_UNOWNED
        findings.append(Finding(rule.rule, visit.team or rule.owner, visit.day.isoformat(), short,
                                visit.day + timedelta(days=rule.days),
                                rule.message(activity=visit_label(visit), who=who)))
    return findings


def column_pieces(columns: Sequence[MediaColumn], placements: Sequence[Placement], today: date,
                  plan: Plan = AS_WRITTEN) -> list[Finding]:
    """四(二): each column (专栏) has its piece in its current period (a week, two weeks or a month), as the
    刊发 tab records it; a period every week of which is exempt owes none (``columns.owed``)."""
    rule = plan[COLUMN]
    return [Finding(rule.rule, standing.column.title, standing.period.key, rule.count, standing.period.last_day,
                    rule.message(column=standing.column.title, this=column_plan.THIS[standing.column.cadence],
                                 span=standing.span, cadence=standing.column.cadence))
            for standing in column_plan.current(columns, today, placements, plan) if standing.missing]


# --- press conferences (四(二)): the pack of typical cases -----------------------------------------------

# The press events a conference pack is made for: the plan's 新闻发布会 (四(二): 通报打击拒执、执行不能等典型案例),
# and the 新闻通气会 and 记者恳谈会 that announce typical cases too (三(四), 三(六)).
CONFERENCE_KINDS = ("新闻发布会", "新闻通气会", "记者恳谈会")


def last_conference_held(activities: Sequence[Activity], before: date, today: date) -> Activity | None:
    """The latest press event held before ``before``: its day passed by ``today`` and marked 已召开 是."""
    held = [a for a in activities if a.kind in CONFERENCE_KINDS and a.took_place(today) and a.day < before]
    return max(held, key=lambda a: a.day, default=None)


def pack_period(conference: Activity, activities: Sequence[Activity], today: date) -> tuple[date, date]:
    """The days a conference's pack covers, both included: from the day after the last press event held
    before it (what that one announced is known) — or from the first day of the conference's year — up to
    the conference's day, or today when it is still to come."""
    last = last_conference_held(activities, conference.day, today)
    start = last.day + timedelta(days=1) if last else date(conference.day.year, 1, 1)
    return start, min(conference.day, today)


def conferences_coming(activities: Sequence[Activity], today: date, days: int) -> list[Activity]:
    """The press events planned from today to ``days`` days ahead (none when ``days`` is 0), not marked
    已召开 否, soonest first: the digest offers each its pack (``[rules] conference_pack_days``)."""
    if days <= 0:
        return []
    horizon = today + timedelta(days=days)
    return sorted((a for a in activities if a.kind in CONFERENCE_KINDS and a.held is not False
                   and today <= a.day <= horizon), key=lambda a: (a.day, a.name))


def team_contacts(teams: Sequence[Team], today: date) -> list[Finding]:
    """A team without a usable address cannot be reminded: the office must know."""
    return [Finding("team-contact", t.name, Week.of(today).key, 0, today,
                    f"部门表中{t.name}的邮箱缺失或无效，无法发送催报提醒", severity="warning")
            for t in teams if not t.email]
