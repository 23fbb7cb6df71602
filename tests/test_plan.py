"""The work plan as data (``plan/obligations.py``), tested directly: no workbook, no ledger.

Each obligation's period, count and section; a week's counts evaluated into findings; and one changed
number read the same by every place that states it: ``check``'s findings, the digest's outlook, the
summaries' table and the weekly slots.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.core.calendar import Month, Week
from pipeline.core.config import (
    IntakeSettings,
    LedgerSettings,
    MailSettings,
    RulesSettings,
    Settings,
    SheetSettings,
)
from pipeline.core.model import Activity, Team, TeamWeek
from pipeline.flows import brief
from pipeline.plan.obligations import (
    AHEAD,
    AS_WRITTEN,
    DEADBEAT_OR_SUCCESS,
    DEPUTIES,
    INABILITY,
    MEDIA,
    MONTH,
    OBLIGATIONS,
    PLAN_LEAD,
    PRESS,
    PRESS_PACE,
    TEAM_QUOTA,
    WEEK,
    YEAR,
    Plan,
)
from pipeline.plan.rules import evaluate
from pipeline.texts.notices import outlook

BEIJING = ZoneInfo("Asia/Shanghai")
THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING)     # ISO week 2026-W48, Sunday 29 November
NOVEMBER = Month(2026, 11)
TEAMS = [Team("执行一组", "张三", "zhixing1@court.example", 3), Team("执行二组", "李四", "zhixing2@court.example", 3)]


def settings(**tables) -> Settings:
    return Settings(sheet=SheetSettings(), ledger=LedgerSettings(Path("ledger.sqlite3")),
                    mail=MailSettings(sender="office@court.example", office=("office@court.example",)), **tables)


def activity(day: date, kind: str, name: str = "", held: bool | None = None) -> Activity:
    return Activity(day, kind, name, None, held=held)


def by_rule(findings) -> dict:
    return {f.rule: f for f in findings}


# --- the plan as written ------------------------------------------------------------------------

@pytest.mark.parametrize("obligation, section, period, count", [
    (TEAM_QUOTA, "四(五)", WEEK, 3),
    (DEADBEAT_OR_SUCCESS, "三(七)", WEEK, 1),
    (INABILITY, "三(八)", WEEK, 1),
    (MEDIA, "四(二)", WEEK, 1),
    (DEPUTIES, "四(四)", MONTH, 1),
    (PRESS, "四(二)", YEAR, 2),
    (PRESS_PACE, "四(二)", YEAR, 1),
    (PLAN_LEAD, "四(五)", AHEAD, 1),
])
def test_each_obligation_has_its_section_period_and_count(obligation, section, period, count) -> None:
    assert (obligation.section, obligation.period, obligation.count) == (section, period, count)
    assert AS_WRITTEN[obligation] == obligation
    assert obligation in OBLIGATIONS


def test_each_obligation_counts_its_own_kinds() -> None:
    assert DEADBEAT_OR_SUCCESS.tally(["教科书式老赖", "执行成功", "执行不能"]) == 2
    assert INABILITY.tally(["教科书式老赖", "执行成功", "执行不能"]) == 1
    assert MEDIA.tally(["打击拒执", "先进典型"]) == 2                 # any release reaches the media
    assert DEPUTIES.counted("代表委员看执行") and not DEPUTIES.counted("新闻发布会")
    assert PRESS.counted("新闻发布会") and PLAN_LEAD.counted("重大执行活动")
    assert PLAN_LEAD.days == 3


def test_the_rules_in_words() -> None:
    assert TEAM_QUOTA.required == "每周每部门不少于 3 条"
    assert DEPUTIES.required == "每月至少 1 次"
    assert PRESS.required == "全年至少 2 次"
    assert INABILITY.required == "每周公开报道一次执行不能案件"
    assert DEADBEAT_OR_SUCCESS.required == "每周公开报道一次教科书式老赖或执行成功案件"
    assert PRESS.heading(2026) == "2026年新闻发布会（四(二)，全年至少 2 次）"
    assert INABILITY.heading(2026) == "每周执行不能报道（三(八)）"


def test_the_weekly_slots_are_the_two_weekly_releases_of_a_kind() -> None:
    assert [(s.name, s.kinds) for s in AS_WRITTEN.slots] == [("执行不能", ("执行不能",)),
                                                             ("教科书式老赖或执行成功", ("教科书式老赖", "执行成功"))]


# --- the plan as configured ---------------------------------------------------------------------

def test_the_config_sets_the_default_quota_the_lead_time_and_the_exempt_weeks() -> None:
    plan = Plan.of(settings(intake=IntakeSettings(default_quota=4),
                            rules=RulesSettings(exempt_weeks=("2026-W48",), plan_lead_days=7)))
    assert plan[TEAM_QUOTA].count == 4 and plan[TEAM_QUOTA].required == "每周每部门不少于 4 条"
    assert plan[PLAN_LEAD].days == 7
    assert not plan.weekly(Week(2026, 48)) and plan.weekly(Week(2026, 49))
    assert plan.owed_weeks(Month(2026, 11).weeks) == [Week(2026, n) for n in (45, 46, 47, 49)]
    assert plan[PRESS] == PRESS                          # what the config has no key for stays as written


def test_the_default_config_is_the_plan_as_written() -> None:
    assert Plan.of(settings()) == AS_WRITTEN


def test_the_quota_in_words_follows_the_teams_quotas() -> None:
    assert AS_WRITTEN.quota_required([]) == "每周每部门不少于 3 条"                 # no team: the default
    assert AS_WRITTEN.quota_required([5, 5, None]) == "每周每部门不少于 5 条"       # None: a team since taken off
    assert AS_WRITTEN.quota_required([3, 5, 4]) == "每周每部门不少于部门表所定条数（3 至 5 条）"


# --- a week's counts evaluated ------------------------------------------------------------------

def test_a_weeks_counts_give_the_expected_findings() -> None:
    counts = [TeamWeek("执行一组", 3, 3, 0), TeamWeek("执行二组", 3, 1, 2)]
    activities = [activity(date(2026, 11, 30), "代表委员看执行", "视察"),
                  activity(date(2026, 3, 10), "新闻发布会", "发布会", held=True),
                  activity(date(2026, 11, 28), "重大执行活动", "集中拘传")]
    findings = evaluate(THURSDAY, teams=TEAMS, counts=counts, published_kinds=["执行成功"],
                        activities=activities, plan=AS_WRITTEN)
    got = [(f.rule, f.subject, f.period, f.shortfall, f.due, f.severity) for f in findings]
    assert got == [
        ("team-quota", "执行二组", "2026-W48", 2, date(2026, 11, 29), "missing"),
        ("weekly-inability", "本院", "2026-W48", 1, date(2026, 11, 29), "missing"),
        ("yearly-press", "本院", "2026", 1, date(2026, 12, 31), "missing"),
        ("plan-lead", "执行局", "2026-11-28", 1, date(2026, 11, 25), "missing"),
    ]
    messages = by_rule(findings)
    assert messages["team-quota"].message == "执行二组本周有效素材 1 条，任务 3 条，还差 2 条"
    assert messages["weekly-inability"].message == "本周尚未公开报道执行不能案件"
    assert messages["yearly-press"].message == "今年已召开新闻发布会 1 次，全年至少 2 次"
    assert messages["plan-lead"].message == ("重大执行活动“集中拘传”（11月28日）的活动方案尚未报送宣传办，"
                                             "应不晚于11月25日报送")


def test_a_week_with_nothing_published_owes_every_weekly_release() -> None:
    findings = by_rule(evaluate(THURSDAY, teams=TEAMS, counts=[], published_kinds=[], activities=[]))
    assert findings["weekly-deadbeat-or-success"].message == "本周尚未公开报道“教科书式老赖”或执行成功案件（本周尚未发布任何稿件）"
    assert findings["weekly-media"].message == "本周尚未通过媒体发布执行工作稿件"
    assert findings["monthly-deputies"].message == "本月尚未安排“代表委员看执行”活动（每月至少 1 次）"
    assert findings["monthly-deputies"].due == date(2026, 11, 30)
    assert findings["press-pace"].severity == "warning"


def test_an_exempt_week_owes_no_weekly_obligation_but_the_month_and_year_still_count() -> None:
    plan = Plan(exempt_weeks=frozenset({"2026-W48"}))
    rules = {f.rule for f in evaluate(THURSDAY, teams=TEAMS, counts=[TeamWeek("执行一组", 3, 0, 0)],
                                      published_kinds=[], activities=[], plan=plan)}
    assert rules == {"monthly-deputies", "yearly-press", "press-pace"}


def test_a_summary_period_is_tallied_per_obligation() -> None:
    published = {Week(2026, 45): ["执行成功", "执行不能"], Week(2026, 46): ["教科书式老赖"], Week(2026, 47): [],
                 Week(2026, 48): ["打击拒执"]}
    activities = [activity(date(2026, 11, 12), "代表委员看执行", "视察"),
                  activity(date(2026, 3, 1), "新闻发布会", "", held=True), activity(date(2026, 12, 20), "新闻发布会", "")]
    rows = AS_WRITTEN.tally(published=published, teams_met=5, teams=2, months=[NOVEMBER], activities=activities,
                            year=2026, end=date(2026, 12, 1))
    assert rows == [
        {"what": "每周“教科书式老赖”或执行成功报道（三(七)）", "met": 2, "owed": 4},
        {"what": "每周执行不能报道（三(八)）", "met": 1, "owed": 4},
        {"what": "各部门每周报送任务（四(五)）", "met": 5, "owed": 8},
        {"what": "每月代表委员看执行活动（四(四)）", "met": 1, "owed": 1},
        {"what": "2026年新闻发布会（四(二)，全年至少 2 次）", "met": 1, "owed": 2},   # December's is after the period
    ]


# --- one number, every reader -------------------------------------------------------------------

def test_a_changed_number_changes_every_readers_number() -> None:
    plan = AS_WRITTEN.adjusted(PRESS, count=3).adjusted(DEPUTIES, count=2).adjusted(PLAN_LEAD, days=5)
    activities = [activity(date(2026, 11, 12), "代表委员看执行", "视察"),
                  activity(date(2026, 3, 1), "新闻发布会", "", held=True), activity(date(2026, 12, 4), "重大执行活动", "集中执行")]

    findings = by_rule(evaluate(THURSDAY, teams=TEAMS, counts=[], published_kinds=[], activities=activities,
                                plan=plan))
    assert (findings["yearly-press"].shortfall, findings["yearly-press"].message) == (
        2, "今年已召开新闻发布会 1 次，全年至少 3 次")
    assert (findings["monthly-deputies"].shortfall, findings["monthly-deputies"].message) == (
        1, "本月尚未安排“代表委员看执行”活动（每月至少 2 次）")
    assert findings["plan-lead"].due == date(2026, 11, 29)

    lines = outlook(THURSDAY.date(), activities, plan)
    assert lines[0] == "新闻发布会：今年已召开 1 次，全年至少 3 次"
    assert lines[1] == "代表委员看执行：本月 1 次（11月12日），每月至少 2 次"
    assert lines[2] == "重大执行活动：12月4日“集中执行”，方案应于11月29日前报送，尚未收到"

    rows = {r["what"]: r for r in plan.tally(published={Week(2026, 48): []}, teams_met=0, teams=1, months=[NOVEMBER],
                                             activities=activities, year=2026, end=date(2026, 12, 1))}
    assert rows["2026年新闻发布会（四(二)，全年至少 3 次）"]["owed"] == 3
    assert rows["每月代表委员看执行活动（四(四)）"]["met"] == 0          # one visit of the two a month


def issue(plan: Plan) -> brief.Brief:
    """November's brief (pure: ``brief.compose``), held to ``plan``."""
    return brief.compose(month="2026-11", issue=1, issued=date(2026, 12, 2), issuer="执行局", court="儋州市人民法院",
                         contact="", figures=[], releases=[], activities=[], copies=1, tz=BEIJING, plan=plan)


def test_the_brief_states_no_publicity_quota_whatever_the_plan_sets() -> None:
    """The deputies' brief reports enforcement; the office's weekly quota is internal (it used to be stated)."""
    four = Plan.of(settings(intake=IntakeSettings(default_quota=4)))
    for plan in (four, AS_WRITTEN):
        text = "\n".join(block.text for block in issue(plan).blocks)
        assert "工作方案要求" not in text and "每周每部门" not in text and "条" not in text


def test_the_plan_as_written_reads_as_before_in_the_outlook() -> None:
    assert outlook(THURSDAY.date(), [], AS_WRITTEN) == ["新闻发布会：今年已召开 0 次，全年至少 2 次",
                                                       "代表委员看执行：本月尚未安排，每月至少 1 次"]


# --- press conferences held (四(二)) ---------------------------------------------------------------

def test_only_a_press_conference_held_and_marked_counts_toward_the_year() -> None:
    activities = [activity(date(2026, 3, 1), "新闻发布会", "上半年发布会", held=True),
                  activity(date(2026, 5, 1), "新闻发布会", "未召开", held=False),
                  activity(date(2026, 9, 1), "新闻发布会", "未填写"),
                  activity(date(2026, 10, 1), "新闻通气会", "通气会", held=True),
                  activity(date(2026, 10, 8), "记者恳谈会", "恳谈会", held=True),
                  activity(date(2026, 12, 10), "新闻发布会", "计划中", held=True)]   # marked, but still to come
    findings = by_rule(evaluate(THURSDAY, teams=TEAMS, counts=[], published_kinds=[], activities=activities))
    assert (findings["yearly-press"].shortfall, findings["yearly-press"].message) == (
        1, "今年已召开新闻发布会 1 次，全年至少 2 次")
    assert "press-pace" not in findings
    rows = {r["what"]: r for r in AS_WRITTEN.tally(published={}, teams_met=0, teams=0, months=[NOVEMBER],
                                                   activities=activities, year=2026, end=date(2026, 12, 1))}
    assert rows["2026年新闻发布会（四(二)，全年至少 2 次）"]["met"] == 1
    line = outlook(THURSDAY.date(), activities, AS_WRITTEN)[0]
    assert line.startswith("新闻发布会：今年已召开 1 次，全年至少 2 次；已安排 12月10日")
    assert "9月1日的发布会如已召开，请在“活动”页“已召开”栏填“是”" in line


def test_a_conference_marked_held_on_its_own_day_counts() -> None:
    today = THURSDAY.date()
    held = [activity(today, "新闻发布会", "今天", held=True), activity(date(2026, 4, 1), "新闻发布会", "", held=True)]
    findings = by_rule(evaluate(THURSDAY, teams=TEAMS, counts=[], published_kinds=[], activities=held))
    assert "yearly-press" not in findings
