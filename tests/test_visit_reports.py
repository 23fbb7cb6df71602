"""The report of a 代表委员看执行 visit asked of the team that owns it (work plan 三(十), 四(四)).

The 活动 tab's optional 负责部门 names the team that reports a visit. After the visit, that team's weekly
reminder asks it for the report — on quota or not — every week until a valid item of the report's kind made
since the visit comes in; ``check`` and the digest name the team. Real .xlsx workbooks, the jobs run as the
command line runs them, the reminders read from the outbox.
"""

from __future__ import annotations

from datetime import datetime

import openpyxl
from conftest import Workspace, material, run_job, write_rows
from test_kinds import check_json, outbox, plain

from pipeline.core.layout import ACTIVITIES, SUBMISSIONS
from pipeline.flows import pulling, week

VISIT = {"date": datetime(2026, 11, 20), "kind": "代表委员看执行", "name": "邀请人大代表见证涉民生案件集中执行",
         "team": "执行一组"}


def items(team: str, count: int, day: int, month: int = 11) -> list[dict]:
    """``count`` valid items of ``team`` submitted on ``day``: a week's quota met."""
    return [material(team=team, title=f"{team}素材{month}-{day}-{i}", case_number=f"（2026）琼9003执{month}{day}{i}号",
                     submitted_at=datetime(2026, month, day, 9, i)) for i in range(count)]


def add_rows(workspace: Workspace, rows: list[dict]) -> None:
    book = openpyxl.load_workbook(workspace.workbook)
    last = max([r["row"] for r in workspace.rows()] + [1])
    write_rows(book[SUBMISSIONS.name], SUBMISSIONS, rows, start=last + 1)
    book.save(workspace.workbook)


def reminders_to(workspace: Workspace, team: str) -> list[str]:
    """The reminders ``team`` received, oldest first (the outbox names each file by its week and team)."""
    return [plain(p) for p in sorted(workspace.settings.mail.outbox.glob(f"*-reminder-*-{team}-*.eml"))]


def at(monkeypatch, moment: str) -> None:
    monkeypatch.setenv("PIPELINE_NOW", moment)


def test_the_visits_team_on_quota_is_asked_for_its_report_in_the_weekly_reminder(workspace) -> None:
    rows = items("执行一组", 3, 24) + items("执行二组", 3, 24)
    workspace.make_workbook(rows, activities=[VISIT])
    run_job(workspace.settings, pulling.pull)
    run = run_job(workspace.settings, week.remind)
    # 执行一组 is on quota, and asked for the visit's report; 执行二组 is on quota and owes none; 执行指挥中心
    # is behind, and asked for its items only.
    assert run.queued == 2
    [mail] = [m for m in outbox(workspace, "reminder") if "执行一组" in m]
    assert "吴海涛同志" in mail and "由执行一组负责报道的以下活动已经结束，宣传办尚未收到报道素材" in mail
    assert "“代表委员看执行”活动“邀请人大代表见证涉民生案件集中执行”（11月20日），应于2026年11月23日前报送" in mail
    assert "活动结束后 3 天内报送报道素材（类别“代表委员看执行”）" in mail and "收到后不再提醒" in mail
    assert "还差" not in mail                                    # on quota: nothing about its items
    [behind] = [m for m in outbox(workspace, "reminder") if "执行指挥中心" in m]
    assert "还差 3 条" in behind and "代表委员看执行" not in behind
    assert not [m for m in outbox(workspace, "reminder") if "执行二组" in m]


def test_the_subject_says_what_is_asked(workspace) -> None:
    workspace.make_workbook(items("执行二组", 3, 24), activities=[VISIT])
    run_job(workspace.settings, pulling.pull)
    previews = {item.recipient: item.subject for item in run_job(workspace.settings, week.remind,
                                                                 dry_run=True).previews}
    assert previews["zhixing1@court.example"] == \
        "【催报提醒】执行一组本周执行宣传素材还差 3 条，并请报送代表委员看执行活动报道素材"
    assert previews["zhihui@court.example"] == "【催报提醒】执行指挥中心本周执行宣传素材还差 3 条"
    workspace.make_workbook(items("执行一组", 3, 24), activities=[VISIT])
    run_job(workspace.settings, pulling.pull)
    previews = {item.recipient: item.subject for item in run_job(workspace.settings, week.remind,
                                                                 dry_run=True).previews}
    assert previews["zhixing1@court.example"] == "【催报提醒】请执行一组报送代表委员看执行活动报道素材"


def test_the_ask_comes_once_a_week_until_the_report_is_submitted_then_stops(workspace, monkeypatch) -> None:
    at(monkeypatch, "2026-11-26T16:00:00+08:00")
    workspace.make_workbook(items("执行一组", 3, 24), activities=[VISIT])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, week.remind)
    run_job(workspace.settings, week.remind)                    # again the same week: nothing more
    assert len(reminders_to(workspace, "执行一组")) == 1
    # The next week, on quota again, no report yet: asked again.
    at(monkeypatch, "2026-12-03T16:00:00+08:00")
    add_rows(workspace, items("执行一组", 3, 1, month=12))
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, week.remind)
    asked = reminders_to(workspace, "执行一组")
    assert len(asked) == 2 and "邀请人大代表见证涉民生案件集中执行" in asked[1]
    assert [f["subject"] for f in check_json(workspace, "2026-12-03T16:00:00+08:00")
            if f["rule"] == "deputies-report"] == ["执行一组"]
    # The report comes (a valid item of the report's kind, made since the visit): no more asking.
    at(monkeypatch, "2026-12-04T10:00:00+08:00")
    add_rows(workspace, [material(kind="人大代表", title="人大代表见证涉民生案件集中执行", case_number="",
                                  submitted_at=datetime(2026, 12, 4, 9, 30))])
    run_job(workspace.settings, pulling.pull)
    assert [f for f in check_json(workspace, "2026-12-04T10:00:00+08:00") if f["rule"] == "deputies-report"] == []
    at(monkeypatch, "2026-12-10T16:00:00+08:00")
    add_rows(workspace, items("执行一组", 3, 8, month=12))
    run_job(workspace.settings, pulling.pull)
    assert [i.recipient for i in run_job(workspace.settings, week.remind, dry_run=True).previews] == [
        "zhixing2@court.example", "zhihui@court.example"]                # the teams behind, not 执行一组
    run_job(workspace.settings, week.remind)
    assert len(reminders_to(workspace, "执行一组")) == 2


def test_the_finding_names_the_team_and_says_its_reminder_asks(workspace) -> None:
    workspace.make_workbook([], activities=[VISIT])
    workspace.cli("pull", check=True)
    [finding] = [f for f in check_json(workspace) if f["rule"] == "deputies-report"]
    assert finding["subject"] == "执行一组"
    assert "尚未收到报道素材" in finding["message"]
    assert "负责部门为执行一组，每周的催报提醒会请其报送，收到为止" in finding["message"]
    assert "请宣传办联系" not in finding["message"]


def test_without_a_team_the_office_is_asked_and_no_team_reminded(workspace) -> None:
    visit = {k: v for k, v in VISIT.items() if k != "team"}
    workspace.make_workbook(items("执行一组", 3, 24), activities=[visit])
    run_job(workspace.settings, pulling.pull)
    assert "zhixing1@court.example" not in [i.recipient for i in run_job(workspace.settings, week.remind,
                                                                         dry_run=True).previews]
    [finding] = [f for f in check_json(workspace) if f["rule"] == "deputies-report"]
    assert finding["subject"] == "本院" and "请宣传办联系承办部门报送" in finding["message"]


def test_a_team_not_on_the_teams_tab_flags_the_row_and_keeps_the_visit(workspace) -> None:
    workspace.make_workbook([], activities=[dict(VISIT, team="执行九组")])
    workspace.cli("pull", check=True)
    [row] = workspace.rows(ACTIVITIES)
    assert row["status"] == "负责部门不在部门表中：执行九组"
    findings = check_json(workspace)
    assert not [f for f in findings if f["rule"] == "monthly-deputies"]       # the visit still counts
    [finding] = [f for f in findings if f["rule"] == "deputies-report"]
    assert finding["subject"] == "本院"
    # Put right, the row is clean and the team owns the visit.
    workspace.edit(ACTIVITIES, row["row"], team="执行 一组")
    workspace.cli("pull", check=True)
    assert workspace.rows(ACTIVITIES)[0]["status"] in (None, "")
    assert [f["subject"] for f in check_json(workspace) if f["rule"] == "deputies-report"] == ["执行一组"]
