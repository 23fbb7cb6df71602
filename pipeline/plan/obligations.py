"""The work plan as data: each obligation once, and the plan as this court configured it.

An :class:`Obligation` says what it counts (a team's valid items, the releases
that reached the media, the 活动 of a type), over what period (a week, a month,
a year), how many, under which section of 《“基本解决执行难”宣传工作方案》 it
stands, and its words. A :class:`Plan` is the table with the config's numbers in
it: each team's weekly quota defaults to ``[intake] default_quota`` (the 部门 tab's
每周任务 overrides it team by team), a major operation's plan is due
``[rules] plan_lead_days`` ahead, and ``[rules] exempt_weeks`` suspend every
weekly obligation.

Every place that states or applies the plan reads it here: ``rules.evaluate``
(``check``, the digest's findings), the digest's outlook (``texts/notices``), the
summaries and the deputies' brief (``flows/summaries``, ``flows/brief``) and the
weekly slots the office is offered (``flows/publishing``). Pure: no ledger, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ..core.calendar import Month, Week
from ..core.config import Settings
from ..core.model import Activity

WEEK, MONTH, YEAR, AHEAD = "week", "month", "year", "ahead"   # AHEAD: before each activity of the kinds
AFTER = "after"     # after each activity of ``follows`` has passed: ``count`` items of ``kinds`` within ``days``
CADENCE = "cadence"   # each column's own period (专栏周期: a week, two weeks or a month; plan/columns.py)
ITEMS, RELEASES, ACTIVITIES, HELD, PLANS = "items", "releases", "activities", "held", "plans"
PLACEMENTS = "placements"   # pieces the office recorded on the 刊发 tab

_TIMES = {1: "一次", 2: "两次", 3: "三次"}


@dataclass(frozen=True)
class Obligation:
    """One duty of the plan: ``count`` of what ``counts`` (of ``kinds``; none: any) per ``period``."""

    rule: str               # the findings' identifier, e.g. "team-quota"
    section: str            # the plan's section, e.g. "四(五)"
    period: str             # WEEK, MONTH, YEAR, or AHEAD of each activity of ``kinds``
    counts: str             # ITEMS (a team's valid submissions), RELEASES (reached the media),
                            # ACTIVITIES (held or planned), HELD (by then, and marked 已召开 是),
                            # PLANS (filed in time), PLACEMENTS (a column's pieces on the 刊发 tab)
    count: int              # how many a period (each team's own 每周任务 overrides the quota's)
    owner: str              # who owes it: each team (各部门), the court (本院), the bureau (执行局)
    name: str               # short: the slot's or the activity's name
    label: str              # what it is, for the summaries' table
    requirement: str        # the rule in words: {n}, {times} (一次), {days}
    missing: str            # the finding when it is not met (str.format with the facts of the case)
    kinds: tuple[str, ...] = ()   # the 类别 or 活动类型 that count; () = any
    late: str = ""          # the finding when it is met too late (a warning)
    severity: str = "missing"
    days: int = 0           # AHEAD: how many days before the activity; AFTER: how many days after it
    follows: tuple[str, ...] = ()   # AFTER: the 活动类型 whose passing owes it

    @property
    def required(self) -> str:
        """The rule in words, with this plan's number: ``全年至少 2 次``."""
        return self.requirement.format(n=self.count, times=_TIMES.get(self.count, f" {self.count} 次"),
                                       days=self.days, name=self.name)

    def counted(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def tally(self, kinds: Iterable[str]) -> int:
        """How many of ``kinds`` (one per release or activity) count toward this obligation."""
        return sum(1 for kind in kinds if self.counted(kind))

    def message(self, **facts: Any) -> str:
        """The finding when it is not met, with ``facts`` (a team's counts, an activity's dates)."""
        return self.missing.format(required=self.required, n=self.count, days=self.days, **facts)

    def late_message(self, **facts: Any) -> str:
        """The warning when it was met too late."""
        return replace(self, missing=self.late).message(**facts)

    def heading(self, year: int) -> str:
        """The row of a summary: a yearly duty names its year and its number (a week or a month holds part of it)."""
        if self.period == YEAR:
            return f"{year}年{self.label}（{self.section}，{self.required}）"
        return f"{self.label}（{self.section}）"


# --- the plan as written ---------------------------------------------------------------

TEAM_QUOTA = Obligation(
    rule="team-quota", section="四(五)", period=WEEK, counts=ITEMS, count=3, owner="各部门",
    name="报送任务", label="各部门每周报送任务", requirement="每周每部门不少于 {n} 条",
    missing="{team}本周有效素材 {valid} 条，任务 {quota} 条，还差 {short} 条")
DEADBEAT_OR_SUCCESS = Obligation(
    rule="weekly-deadbeat-or-success", section="三(七)", period=WEEK, counts=RELEASES,
    kinds=("教科书式老赖", "执行成功"), count=1, owner="本院",
    name="教科书式老赖或执行成功", label="每周“教科书式老赖”或执行成功报道",
    requirement="每周公开报道{times}{name}案件", missing="本周尚未公开报道“教科书式老赖”或执行成功案件{nothing}")
INABILITY = Obligation(
    rule="weekly-inability", section="三(八)", period=WEEK, counts=RELEASES, kinds=("执行不能",), count=1,
    owner="本院", name="执行不能", label="每周执行不能报道",
    requirement="每周公开报道{times}{name}案件", missing="本周尚未公开报道执行不能案件{nothing}")
MEDIA = Obligation(   # any kind: enforcement news reaches the media every week
    rule="weekly-media", section="四(二)", period=WEEK, counts=RELEASES, count=1, owner="本院",
    name="媒体发布", label="每周通过媒体发布执行工作稿件", requirement="每周通过媒体发布执行工作稿件不少于 {n} 篇",
    missing="本周尚未通过媒体发布执行工作稿件")
MEDIA_MIX = Obligation(   # 四(二): every week by TV, radio and online media; ``kinds`` are the 媒体 tab's 类型 here
    rule="weekly-media-mix", section="四(二)", period=WEEK, counts=RELEASES, count=1, owner="本院",
    kinds=("电视", "广播", "网络/新媒体"), name="电视、广播、网络媒体", label="每周通过电视、广播、网络媒体宣传",
    requirement="每周通过电视、广播、网络媒体宣传",
    missing="本周发出的稿件尚未到达{missing}媒体（{required}；以“媒体”页的“类型”为准）")
DEPUTIES = Obligation(   # planned visits count
    rule="monthly-deputies", section="四(四)", period=MONTH, counts=ACTIVITIES, kinds=("代表委员看执行",),
    count=1, owner="本院", name="代表委员看执行", label="每月代表委员看执行活动", requirement="每月至少 {n} 次",
    missing="本月尚未安排“代表委员看执行”活动（{required}）")
PRESS = Obligation(   # held ones only: a 新闻发布会 (not a 新闻通气会 or 记者恳谈会) past and marked 已召开 是
    rule="yearly-press", section="四(二)", period=YEAR, counts=HELD, kinds=("新闻发布会",), count=2,
    owner="本院", name="新闻发布会", label="新闻发布会", requirement="全年至少 {n} 次",
    missing="今年已召开新闻发布会 {held} 次，{required}")
PRESS_PACE = Obligation(   # held ones only, looked at from July on
    rule="press-pace", section="四(二)", period=YEAR, counts=HELD, kinds=("新闻发布会",), count=1, owner="本院",
    name="新闻发布会", label="上半年新闻发布会", requirement="上半年至少召开 {n} 次",
    missing="上半年未召开新闻发布会，进度落后", severity="warning")
PLAN_LEAD = Obligation(   # a plan for each coming operation, ``days`` ahead
    rule="plan-lead", section="四(五)", period=AHEAD, counts=PLANS, kinds=("重大执行活动",), count=1, days=3,
    owner="执行局", name="重大执行活动", label="重大执行活动方案报送", requirement="活动方案提前 {days} 天报送宣传办",
    missing="{activity}的活动方案尚未报送宣传办，应不晚于{due}报送",
    late="{activity}的方案于{filed}报送，晚于要求的提前 {days} 天")

DEPUTIES_REPORT = Obligation(   # 三(十), 四(四): invite deputies "并报道" — the visit's material, after it
    rule="deputies-report", section="四(四)", period=AFTER, counts=ITEMS, kinds=("代表委员看执行",),
    follows=("代表委员看执行",), count=1, days=3, owner="本院", name="代表委员看执行报道",
    label="代表委员看执行活动报道", requirement="活动结束后 {days} 天内报送报道素材（类别“代表委员看执行”）",
    missing="{activity}已结束，尚未收到报道素材（{required}）；{who}")
# Who is asked for a visit's report: the 活动 tab's 负责部门 (its weekly reminder asks it), or the office.
REPORT_ASKED = "负责部门为{team}，每周的催报提醒会请其报送，收到为止"
REPORT_UNOWNED = "活动页未写明负责部门，请宣传办联系承办部门报送"

COLUMN = Obligation(   # 四(二): columns in 《今日儋州》 and on 儋州电视台; each the 媒体 tab's 专栏, every 专栏周期
    rule="column-piece", section="四(二)", period=CADENCE, counts=PLACEMENTS, count=1, owner="本院",
    name="专栏", label="专栏稿件", requirement="按专栏周期每期至少刊发 {n} 篇",
    missing="{column}{this}（{span}）尚无刊发登记（{cadence}一期；刊发后请在“刊发”页登记）")

OBLIGATIONS = (TEAM_QUOTA, DEADBEAT_OR_SUCCESS, INABILITY, MEDIA, MEDIA_MIX, DEPUTIES, PRESS, PRESS_PACE,
               PLAN_LEAD, DEPUTIES_REPORT, COLUMN)
# What must reach the media every week (三(七), 三(八), 四(二)), in the order findings name them.
WEEKLY_RELEASES = (DEADBEAT_OR_SUCCESS, INABILITY, MEDIA)
# The weekly slots the office is offered a candidate for, in the order they are proposed.
SLOTS = (INABILITY, DEADBEAT_OR_SUCCESS)
# The rows of the summaries' table, in order.
SUMMARISED = (DEADBEAT_OR_SUCCESS, INABILITY, TEAM_QUOTA, DEPUTIES, PRESS)


# --- the plan as configured ---------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """The obligations with this court's numbers, and the weeks without weekly obligations."""

    obligations: tuple[Obligation, ...] = OBLIGATIONS
    exempt_weeks: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, settings: Settings) -> Plan:
        """The plan as the config sets it: the default quota, the lead time, the exempt weeks."""
        return cls(exempt_weeks=frozenset(settings.rules.exempt_weeks)).adjusted(
            TEAM_QUOTA, count=settings.intake.default_quota).adjusted(
            PLAN_LEAD, days=settings.rules.plan_lead_days)

    def adjusted(self, obligation: Obligation, **changes: Any) -> Plan:
        """This plan with one obligation's number (``count``, ``days``) changed."""
        return replace(self, obligations=tuple(replace(o, **changes) if o.rule == obligation.rule else o
                                               for o in self.obligations))

    def __getitem__(self, obligation: Obligation) -> Obligation:
        """The configured form of ``obligation``."""
        return next(o for o in self.obligations if o.rule == obligation.rule)

    @property
    def weekly_releases(self) -> list[Obligation]:
        return [self[o] for o in WEEKLY_RELEASES]

    @property
    def slots(self) -> list[Obligation]:
        return [self[o] for o in SLOTS]

    def counting(self, kind: str) -> list[Obligation]:
        """The duties a valid item or a published release of 类别 ``kind`` counts toward (四(五): material
        of any kind counts toward a team's quota; a release of any kind toward the weekly media duty)."""
        return [o for o in self.obligations if o.counts in (ITEMS, RELEASES) and o.rule != MEDIA_MIX.rule
                and o.counted(kind)]

    def weekly(self, week: Week) -> bool:
        """Whether the weekly obligations apply in ``week`` (not one of ``[rules] exempt_weeks``)."""
        return week.key not in self.exempt_weeks

    def owed_weeks(self, weeks: Iterable[Week]) -> list[Week]:
        return [w for w in weeks if self.weekly(w)]

    def quota_required(self, quotas: Iterable[int | None] = ()) -> str:
        """The weekly quota in words for these teams' 每周任务 (the default when there is none)."""
        rule = self[TEAM_QUOTA]
        found = sorted({q for q in quotas if q is not None})
        if len(found) > 1:
            return f"每周每部门不少于部门表所定条数（{found[0]} 至 {found[-1]} 条）"
        return replace(rule, count=found[0]).required if found else rule.required

    def tally(self, *, published: Mapping[Week, Sequence[str]], teams_met: int, teams: int,
              months: Sequence[Month], activities: Sequence[Activity], year: int, end: date) -> list[dict]:
        """What the summaries report per obligation: ``what``, ``met`` and ``owed`` over a period.

        ``published`` maps each owed week of the period to the kinds of the releases that
        reached the media in it; ``teams_met`` is how many (team, owed week) pairs met their
        quota; ``months`` the months the period touches (a month's duty counts for every
        period inside it); ``year`` and ``end`` (the day after the last) bound the yearly ones.
        """
        rows = []
        for base in SUMMARISED:
            o = self[base]
            if o.counts == ITEMS:
                met, owed = teams_met, len(published) * teams
            elif o.period == WEEK:
                met, owed = sum(o.tally(kinds) >= o.count for kinds in published.values()), len(published)
            elif o.period == MONTH:
                met = sum(o.tally(a.kind for a in activities if Month.of(a.day) == m) >= o.count for m in months)
                owed = len(months)
            else:
                met, owed = o.tally(a.kind for a in activities if a.day.year == year and a.day < end
                                    and (o.counts != HELD or a.held is True)), o.count
            rows.append({"what": o.heading(year), "met": met, "owed": owed})
        return rows


# The plan as written, before any configuration.
AS_WRITTEN = Plan()
