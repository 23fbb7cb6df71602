"""The work plan's obligations (README, "The work plan's rules") as findings, across period boundaries and zones."""

from __future__ import annotations

from datetime import date
from email import policy
from email.parser import BytesParser

import pytest
from conftest import DEFAULT_TEAMS, Workspace, material, run_job

from pipeline.core.layout import ACTIVITIES
from pipeline.flows import brief, publishing, pulling, summaries, week


def pull_and_check(workspace: Workspace, monkeypatch: pytest.MonkeyPatch, pulled_at: str,
                   checked_at: str | None = None) -> list:
    monkeypatch.setenv("PIPELINE_NOW", pulled_at)
    run_job(workspace.settings, pulling.pull)
    monkeypatch.setenv("PIPELINE_NOW", checked_at or pulled_at)
    return run_job(workspace.settings, week.check)


def by_rule(findings: list, rule: str) -> list:
    return [f for f in findings if f.rule == rule]


def items(team: str, count: int, **overrides) -> list[dict]:
    return [material(team=team, title=f"{team}素材{i}", case_number=f"（2026）琼9003执{100 + i}号", **overrides)
            for i in range(count)]


def with_rules(workspace: Workspace, line: str) -> None:
    """Set one key of the config's [rules] table."""
    key = line.split("=")[0].strip()
    lines = workspace.config_path.read_text(encoding="utf-8").splitlines()
    lines = [line if text.startswith(key + " ") else text for text in lines]
    workspace.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- team quotas (四(五)) -------------------------------------------------------

def test_a_team_short_of_its_quota_is_a_finding_with_the_shortfall_and_sunday(workspace, monkeypatch) -> None:
    workspace.make_workbook(items("执行一组", 3) + items("执行二组", 1) + items("执行指挥中心", 3))
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")
    quota = by_rule(findings, "team-quota")
    assert [(f.subject, f.shortfall, f.period, f.due) for f in quota] == [("执行二组", 2, "2026-W48", date(2026, 11, 29))]


def test_invalid_and_duplicate_rows_do_not_count_toward_the_quota(workspace, monkeypatch) -> None:
    rows = items("执行一组", 2) + [material(team="执行一组", title="缺过程", process="")]
    rows.append(dict(rows[0]))  # an exact duplicate
    workspace.make_workbook(rows + items("执行二组", 3) + items("执行指挥中心", 3))
    quota = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "team-quota")
    assert [(f.subject, f.shortfall) for f in quota] == [("执行一组", 1)]


def test_each_team_is_held_to_its_own_quota(workspace, monkeypatch) -> None:
    teams = [dict(DEFAULT_TEAMS[0], quota=5), dict(DEFAULT_TEAMS[1], quota=0), dict(DEFAULT_TEAMS[2], quota="")]
    workspace.make_workbook(items("执行一组", 3) + items("执行指挥中心", 3), teams=teams)
    quota = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "team-quota")
    assert [(f.subject, f.shortfall) for f in quota] == [("执行一组", 2)]


def test_the_default_quota_comes_from_the_config(workspace, monkeypatch) -> None:
    config = workspace.config_path.read_text(encoding="utf-8")
    workspace.config_path.write_text(config.replace("default_quota = 3", "default_quota = 4"), encoding="utf-8")
    teams = [dict(t, quota=None) for t in DEFAULT_TEAMS]
    workspace.make_workbook(items("执行一组", 3) + items("执行二组", 4) + items("执行指挥中心", 4), teams=teams)
    quota = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "team-quota")
    assert [(f.subject, f.shortfall) for f in quota] == [("执行一组", 1)]


@pytest.mark.parametrize("checked_at", [
    "2026-11-29T23:45:00+08:00",   # Sunday night in Beijing
    "2026-11-29T15:45:00+00:00",   # the same instant on a UTC server
    "2026-11-29T10:45:00-05:00",   # and on a server in New York
])
def test_sunday_2330_beijing_counts_for_that_week_whatever_the_server_zone(workspace, monkeypatch, checked_at) -> None:
    late = [material(team="执行一组", title=f"周日晚{i}", case_number=f"（2026）琼9003执{i}号",
                     submitted_at="2026-11-29 23:30") for i in range(3)]
    workspace.make_workbook(late + items("执行二组", 3) + items("执行指挥中心", 3))
    findings = pull_and_check(workspace, monkeypatch, checked_at)
    assert by_rule(findings, "team-quota") == []


def test_monday_0010_beijing_starts_a_new_week(workspace, monkeypatch) -> None:
    workspace.make_workbook(items("执行一组", 3) + items("执行二组", 3) + items("执行指挥中心", 3))
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00", "2026-11-29T16:10:00+00:00")
    quota = by_rule(findings, "team-quota")
    assert {f.period for f in quota} == {"2026-W49"}
    assert sorted(f.shortfall for f in quota) == [3, 3, 3]


def test_an_exempt_week_suspends_the_weekly_rules_but_not_the_monthly_ones(workspace, monkeypatch) -> None:
    with_rules(workspace, 'exempt_weeks = ["2026-W48"]')
    workspace.make_workbook([])
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")
    assert by_rule(findings, "team-quota") == []
    assert by_rule(findings, "weekly-inability") == []
    assert by_rule(findings, "monthly-deputies") != []


def test_an_exempt_week_does_not_exempt_the_next_one(workspace, monkeypatch) -> None:
    with_rules(workspace, 'exempt_weeks = ["2026-W48"]')
    workspace.make_workbook([])
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00", "2026-11-30T09:00:00+08:00")
    assert len(by_rule(findings, "team-quota")) == 3



def test_an_exempt_week_is_owed_in_no_summary(workspace, monkeypatch) -> None:
    with_rules(workspace, 'exempt_weeks = ["2026-W48"]')
    workspace.make_workbook(items("执行一组", 1))
    pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    run_job(workspace.settings, summaries.summary, "monthly", "2026-11")
    weekly, monthly = plain(workspace, "summary-weekly"), plain(workspace, "summary-monthly")
    assert "执行一组：共 1 条，执行成功 1；每周任务 3 条，达标 0 周，未达标 0 周" in weekly
    assert "每周执行不能报道（三(八)）：完成 0 / 应完成 0\n" in weekly
    # November 2026 has five ISO weeks; without W48 four are owed.
    assert "执行一组：共 1 条，执行成功 1；每周任务 3 条，达标 0 周，未达标 4 周" in monthly
    assert "每周执行不能报道（三(八)）：完成 0 / 应完成 4（未完成）" in monthly


@pytest.mark.parametrize("exempt", [False, True])
def test_an_exempt_week_has_no_weekly_slot_to_fill(workspace, monkeypatch, exempt) -> None:
    if exempt:
        with_rules(workspace, 'exempt_weeks = ["2026-W48"]')
    workspace.make_workbook([material(kind="打击拒执", title="拒不履行被司法拘留")])
    pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")   # Thursday: past the slot weekday
    run = run_job(workspace.settings, publishing.draft)
    run_job(workspace.settings, week.digest)
    gaps = [] if exempt else ["执行不能", "教科书式老赖或执行成功"]
    assert run.no_candidate == gaps
    digest = plain(workspace, "digest")
    assert all(f"本周{slot}稿件没有候选素材" in digest for slot in gaps)
    assert ("没有候选素材" in digest) is not exempt

# --- weekly releases (三(七), 三(八), 四(二)) ------------------------------------

def test_before_anything_is_published_the_weekly_releases_read_none_published_yet(workspace, monkeypatch) -> None:
    workspace.make_workbook(items("执行一组", 3))
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")
    rules = {f.rule: f for f in findings}
    assert "尚未发布任何稿件" in rules["weekly-deadbeat-or-success"].message
    assert "执行不能" in rules["weekly-inability"].message
    assert rules["weekly-media"].due == date(2026, 11, 29)


# --- activities: monthly deputies (四(四)), yearly press (四(二)), plans (四(五)) ---

def test_a_deputies_visit_this_month_meets_the_monthly_rule(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[{"date": date(2026, 11, 30), "kind": "代表委员看执行", "name": "视察"}])
    assert by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "monthly-deputies") == []


def test_last_months_visit_does_not_count_for_this_month(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[{"date": date(2026, 11, 30), "kind": "代表委员看执行", "name": "视察"}])
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00", "2026-12-01T08:00:00+08:00")
    monthly = by_rule(findings, "monthly-deputies")
    assert [(f.period, f.due) for f in monthly] == [("2026-12", date(2026, 12, 31))]


def test_the_month_turns_at_beijing_midnight_not_utc(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[{"date": date(2026, 11, 30), "kind": "代表委员看执行", "name": "视察"}])
    # 2026-11-30T16:30Z is already 1 December in Beijing.
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00", "2026-11-30T16:30:00+00:00")
    assert [f.period for f in by_rule(findings, "monthly-deputies")] == ["2026-12"]


def press(day: date, held: str | None = None, kind: str = "新闻发布会") -> dict:
    return {"date": day, "kind": kind, "name": kind, "held": held}


def test_two_press_conferences_held_a_year_meet_the_yearly_rule(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[press(date(2026, 3, 1), "是"), press(date(2026, 10, 10), "是")])
    findings = pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")
    assert by_rule(findings, "yearly-press") == [] and by_rule(findings, "press-pace") == []


def test_a_planned_press_conference_does_not_count_until_held_and_marked(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[press(date(2026, 3, 1), "是"), press(date(2026, 12, 10))])
    yearly = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "yearly-press")
    assert [(f.shortfall, f.message) for f in yearly] == [(1, "今年已召开新闻发布会 1 次，全年至少 2 次")]
    workspace.edit(ACTIVITIES, 3, held="是")       # marked before its day: still not held
    yearly = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-27T10:00:00+08:00"), "yearly-press")
    assert [f.shortfall for f in yearly] == [1]
    yearly = by_rule(pull_and_check(workspace, monkeypatch, "2026-12-10T18:00:00+08:00"), "yearly-press")
    assert yearly == []


def test_a_press_briefing_or_a_journalists_forum_is_not_a_press_conference(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[press(date(2026, 3, 1), "是", "新闻通气会"),
                                            press(date(2026, 4, 1), "是", "记者恳谈会"),
                                            press(date(2026, 5, 1), "是", "新闻发布会")])
    yearly = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "yearly-press")
    assert [f.shortfall for f in yearly] == [1]
    assert [r["kind"] for r in workspace.rows(ACTIVITIES)] == ["新闻通气会", "记者恳谈会", "新闻发布会"]
    assert all(not r["status"] for r in workspace.rows(ACTIVITIES))


def test_an_unreadable_held_mark_is_flagged_in_its_row(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[press(date(2026, 3, 1), "开过了")])
    pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")
    assert "已召开无法识别：开过了" in workspace.rows(ACTIVITIES)[0]["status"]


def test_one_press_conference_leaves_one_missing_by_year_end(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[press(date(2026, 3, 1), "是"), press(date(2025, 12, 1), "是")])
    yearly = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "yearly-press")
    assert [(f.shortfall, f.due) for f in yearly] == [(1, date(2026, 12, 31))]


@pytest.mark.parametrize("when, warned", [("2026-06-30T23:00:00+08:00", False), ("2026-07-01T09:00:00+08:00", True)])
def test_no_press_conference_by_the_end_of_june_is_behind_pace(workspace, monkeypatch, when, warned) -> None:
    workspace.make_workbook([], activities=[press(date(2026, 9, 1))])  # planned, not yet held
    pace = by_rule(pull_and_check(workspace, monkeypatch, when), "press-pace")
    assert bool(pace) is warned
    assert all(f.severity == "warning" for f in pace)


def operation(day: date, plan: date | None) -> dict:
    return {"date": day, "kind": "重大执行活动", "name": "集中执行", "plan_date": plan}


def test_a_major_operation_without_a_plan_is_due_three_days_ahead(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[operation(date(2026, 12, 4), None)])
    plans = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "plan-lead")
    assert [(f.due, f.severity) for f in plans] == [(date(2026, 12, 1), "missing")]
    assert "12月1日" in plans[0].message


def test_a_plan_filed_in_time_is_no_finding_and_a_late_one_is_a_warning(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[operation(date(2026, 12, 4), date(2026, 12, 1)),
                                            operation(date(2026, 12, 10), date(2026, 12, 9))])
    plans = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "plan-lead")
    assert [(f.period, f.severity) for f in plans] == [("2026-12-10", "warning")]


def test_the_lead_time_is_configurable(workspace, monkeypatch) -> None:
    with_rules(workspace, "plan_lead_days = 7")
    workspace.make_workbook([], activities=[operation(date(2026, 12, 4), date(2026, 11, 28))])
    plans = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "plan-lead")
    assert [(f.due, f.severity) for f in plans] == [(date(2026, 11, 27), "warning")]


def test_past_operations_are_not_flagged(workspace, monkeypatch) -> None:
    workspace.make_workbook([], activities=[operation(date(2026, 11, 20), None)])
    assert by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "plan-lead") == []


# --- team contacts ------------------------------------------------------------

def test_a_team_without_a_usable_address_is_a_finding(workspace, monkeypatch) -> None:
    teams = [DEFAULT_TEAMS[0], dict(DEFAULT_TEAMS[1], email="zhixing2 at court")]
    workspace.make_workbook([], teams=teams)
    contacts = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "team-contact")
    assert [f.subject for f in contacts] == ["执行二组"]


# --- the command ---------------------------------------------------------------

def test_check_on_the_demo_lists_the_team_behind_and_the_missing_releases(workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)
    result = workspace.cli("check")
    assert result.returncode == 1                   # obligations unmet: monitoring sees it in the exit code
    assert "执行四组本周有效素材 2 条" in result.stdout
    assert "执行不能" in result.stdout and "教科书式老赖" in result.stdout


def test_check_gives_the_same_answer_on_a_server_in_another_zone(workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)
    outputs = {zone: workspace.cli("check", env={"TZ": zone, "PIPELINE_NOW": "2026-11-29T15:45:00+00:00"}).stdout
               for zone in ("Asia/Shanghai", "UTC", "America/New_York")}
    assert len(set(outputs.values())) == 1
    assert "执行四组本周有效素材 2 条" in outputs["UTC"]


# --- one quota, every place that states it ---------------------------------------

def test_a_configured_quota_is_the_number_check_the_digest_the_summary_and_the_brief_state(workspace,
                                                                                             monkeypatch) -> None:
    workspace.configure("intake", default_quota=4)
    workspace.configure("deputies", addresses=["li.weiyuan@cppcc.example"])
    teams = [dict(t, quota=None) for t in DEFAULT_TEAMS]      # 每周任务 blank: the config's default
    workspace.make_workbook(items("执行一组", 3) + items("执行二组", 4) + items("执行指挥中心", 4), teams=teams)
    quota = by_rule(pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00"), "team-quota")
    assert [f.message for f in quota] == ["执行一组本周有效素材 3 条，任务 4 条，还差 1 条"]

    settings = workspace.settings
    run_job(settings, week.digest)
    run_job(settings, summaries.summary, "weekly", "2026-W48")
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-02T09:00:00+08:00")     # the brief comes once the month has ended
    run_job(settings, brief.brief, "2026-11")
    digest, summary, issued = (plain(workspace, purpose) for purpose in ("digest", "summary", "brief"))

    assert "执行一组：有效 3 / 任务 4，还差 1 条" in digest
    assert "执行一组：共 3 条，执行成功 3；每周任务 4 条，达标 0 周，未达标 1 周" in summary
    # The deputies' brief reports enforcement, not the office's quota (it used to state it).
    assert "工作方案要求" not in issued and "不少于 4 条" not in issued and "不少于 3 条" not in issued


def test_the_brief_states_no_team_quota_when_they_differ(workspace, monkeypatch) -> None:
    workspace.configure("deputies", addresses=["li.weiyuan@cppcc.example"])
    teams = [dict(DEFAULT_TEAMS[0], quota=5), DEFAULT_TEAMS[1], dict(DEFAULT_TEAMS[2], quota=2)]
    workspace.make_workbook(items("执行一组", 3), teams=teams)
    pull_and_check(workspace, monkeypatch, "2026-11-26T10:00:00+08:00")
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-02T09:00:00+08:00")
    run_job(workspace.settings, brief.brief, "2026-11")
    issued = plain(workspace, "brief")
    assert "部门表所定条数" not in issued and "2 至 5 条" not in issued and "每周任务" not in issued


def plain(workspace: Workspace, purpose: str) -> str:
    """The plain text of the one message of ``purpose`` in the outbox."""
    (path,) = workspace.settings.mail.outbox.glob(f"*-{purpose}-*.eml")
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes()).get_body(("plain",)).get_content()
