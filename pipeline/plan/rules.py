"""The work plan's obligations as rules that yield findings.

Pure functions over plain data: what the ledger holds for this week, month
and year goes in, a list of :class:`Finding` comes out. Each rule cites the
section of the plan (seed/work-plan.zh.txt) it enforces. Periods are computed
in the configured zone from an aware ``now``, never from the host's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..core.calendar import Month, Week
from ..core.model import Activity, Team, TeamWeek

# 三(七): one 教科书式老赖 or successful-enforcement release every week.
DEADBEAT_OR_SUCCESS = ("教科书式老赖", "执行成功")
# 三(八): one 执行不能 release every week.
INABILITY = ("执行不能",)


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


@dataclass(frozen=True)
class RuleSettings:
    exempt_weeks: frozenset[str] = frozenset()
    plan_lead_days: int = 3
    press_conferences_per_year: int = 2
    deputies_visits_per_month: int = 1


def evaluate(now: datetime, *, teams: Sequence[Team], counts: Sequence[TeamWeek],
             published_kinds: Sequence[str], activities: Sequence[Activity],
             settings: RuleSettings) -> list[Finding]:
    """Every finding for the week, month and year that contain ``now``."""
    today = now.date()
    week, sunday = Week.of(today).key, Week.of(today).sunday
    findings: list[Finding] = []
    if week not in settings.exempt_weeks:
        findings += team_quotas(counts, week, sunday)
        findings += weekly_releases(published_kinds, week, sunday)
    findings += deputies_visits(activities, today, settings.deputies_visits_per_month)
    findings += press_conferences(activities, today, settings.press_conferences_per_year)
    findings += plan_lead_times(activities, today, settings.plan_lead_days)
    findings += team_contacts(teams, today)
    return findings


def team_quotas(counts: Sequence[TeamWeek], week: str, sunday: date) -> list[Finding]:
    """四(五): every team and the command centre, at least its quota a week."""
    return [
        Finding("team-quota", c.team, week, c.quota - c.valid, sunday,
                f"{c.team}本周有效素材 {c.valid} 条，任务 {c.quota} 条，还差 {c.quota - c.valid} 条")
        for c in counts if c.valid < c.quota
    ]


def weekly_releases(published_kinds: Sequence[str], week: str, sunday: date) -> list[Finding]:
    """三(七), 三(八), 四(二): what must reach the media every week."""
    nothing = "" if published_kinds else "（本周尚未发布任何稿件）"
    findings = []
    if not any(k in DEADBEAT_OR_SUCCESS for k in published_kinds):
        findings.append(Finding("weekly-deadbeat-or-success", "本院", week, 1, sunday,
                                f"本周尚未公开报道“教科书式老赖”或执行成功案件{nothing}"))
    if not any(k in INABILITY for k in published_kinds):
        findings.append(Finding("weekly-inability", "本院", week, 1, sunday,
                                f"本周尚未公开报道执行不能案件{nothing}"))
    if not published_kinds:
        findings.append(Finding("weekly-media", "本院", week, 1, sunday,
                                "本周尚未通过媒体发布执行工作稿件"))
    return findings


def deputies_visits(activities: Sequence[Activity], today: date, per_month: int) -> list[Finding]:
    """四(四): at least one 代表委员看执行 activity a month (planned ones count)."""
    month = Month.of(today)
    held = [a for a in activities if a.kind == "代表委员看执行" and Month.of(a.day) == month]
    if len(held) >= per_month:
        return []
    return [Finding("monthly-deputies", "本院", month.key, per_month - len(held), month.last_day,
                    f"本月尚未安排“代表委员看执行”活动（每月至少 {per_month} 次）")]


def press_conferences(activities: Sequence[Activity], today: date, per_year: int) -> list[Finding]:
    """四(二): at least two press conferences a year; warn when none by the end of June."""
    year = today.year
    this_year = [a for a in activities if a.kind == "新闻发布会" and a.day.year == year]
    findings = []
    if len(this_year) < per_year:
        findings.append(Finding("yearly-press", "本院", str(year), per_year - len(this_year),
                                date(year, 12, 31),
                                f"今年已召开或安排新闻发布会 {len(this_year)} 次，全年至少 {per_year} 次"))
    held = [a for a in this_year if a.day <= today]
    if today > date(year, 6, 30) and not held:
        findings.append(Finding("press-pace", "本院", str(year), 0, date(year, 12, 31),
                                "上半年未召开新闻发布会，进度落后", severity="warning"))
    return findings


def plan_lead_times(activities: Sequence[Activity], today: date, lead_days: int) -> list[Finding]:
    """四(五): a major operation's plan reaches the office ``lead_days`` ahead."""
    findings = []
    for activity in sorted(activities, key=lambda a: a.day):
        if activity.kind != "重大执行活动" or activity.day < today:
            continue
        deadline = activity.day - timedelta(days=lead_days)
        name = f"重大执行活动“{activity.name or '未命名'}”（{activity.day.month}月{activity.day.day}日）"
        if activity.plan_date is None:
            findings.append(Finding("plan-lead", "执行局", activity.day.isoformat(), 1, deadline,
                                    f"{name}的活动方案尚未报送宣传办，应不晚于"
                                    f"{deadline.month}月{deadline.day}日报送"))
        elif activity.plan_date > deadline:
            findings.append(Finding("plan-lead", "执行局", activity.day.isoformat(), 0, deadline,
                                    f"{name}的方案于{activity.plan_date.month}月{activity.plan_date.day}日"
                                    f"报送，晚于要求的提前 {lead_days} 天", severity="warning"))
    return findings


def team_contacts(teams: Sequence[Team], today: date) -> list[Finding]:
    """A team without a usable address cannot be reminded: the office must know."""
    return [Finding("team-contact", t.name, Week.of(today).key, 0, today,
                    f"部门表中{t.name}的邮箱缺失或无效，无法发送催报提醒", severity="warning")
            for t in teams if not t.email]
