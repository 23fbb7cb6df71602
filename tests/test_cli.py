"""The command line end to end, through a subprocess, as the office runs it."""

from __future__ import annotations

import getpass
from email import policy
from email.parser import BytesParser

import docx
import openpyxl
import pytest
from conftest import Workspace, material

from pipeline.core.layout import ALL_TABS, REPLIES, SUBMISSIONS
from pipeline.ledger import Ledger


def test_init_demo_writes_every_tab_ready_to_fill(workspace: Workspace) -> None:
    result = workspace.cli("init", "--demo", check=True)
    assert "已创建示例工作簿" in result.stdout
    book = openpyxl.load_workbook(workspace.workbook)
    assert book.sheetnames == [tab.name for tab in ALL_TABS]
    for tab in ALL_TABS:
        sheet = book[tab.name]
        assert [c.value for c in sheet[1]] == [col.name for col in tab.columns]
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["A"].width > 10
    teams = {row[0] for row in book["部门"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert teams == {"执行一组", "执行二组", "执行三组", "执行四组", "执行指挥中心"}
    assert book["媒体"].max_row > 5 and book["活动"].max_row > 3



@pytest.mark.parametrize("quota", [3, 4])
def test_the_templates_quota_note_states_the_configured_default(workspace: Workspace, quota: int) -> None:
    workspace.configure("intake", default_quota=quota)
    workspace.cli("init", check=True)
    header = openpyxl.load_workbook(workspace.workbook)["部门"][1]
    (cell,) = [c for c in header if c.value == "每周任务"]
    assert cell.comment.text == f"每周应报送条数，空白为 {quota}"

def test_init_never_overwrites_a_workbook_without_force(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    before = workspace.workbook.read_bytes()
    result = workspace.cli("init", "--demo", check=True)
    assert "已存在" in result.stdout and "--force" in result.stdout
    assert workspace.workbook.read_bytes() == before
    workspace.cli("init", "--demo", "--force", check=True)
    assert workspace.workbook.read_bytes() != before


def test_init_creates_a_config_file_that_does_not_exist_yet(tmp_path) -> None:
    target = Workspace(tmp_path, tmp_path / "court" / "pipeline.toml", tmp_path / "court" / "data" / "workbook.xlsx",
                       tmp_path / "court" / "data" / "ledger.sqlite3")
    result = target.cli("init", check=True)
    assert target.config_path.exists()
    assert target.workbook.exists()
    assert "已创建配置文件" in result.stdout


def test_demo_cycle_shows_ids_beside_good_rows_and_errors_beside_bad_ones(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    pulled = workspace.cli("pull", check=True)
    # The market-day publicity row (类别 typed 宣传标语) is a 宣传活动 now, taken in like the others.
    assert "受理 17 条" in pulled.stdout and "需补正或重复 4 条" in pulled.stdout
    rows = workspace.rows(SUBMISSIONS)
    good = [r for r in rows if r["id"]]
    bad = [r for r in rows if not r["id"]]
    assert len(good) == 17 and all(r["status"] == "已受理" for r in good)
    assert len(bad) == 4 and all(r["status"] for r in bad)
    statuses = " ".join(r["status"] for r in bad)
    for problem in ("缺少执行过程", "案号格式有误", "部门不在部门表中", "重复"):
        assert problem in statuses
    assert "类别无法识别" not in statuses


def test_status_shows_the_week_per_team_and_the_latest_row_errors(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)
    result = workspace.cli("status", check=True)
    assert "本周 2026年第48周" in result.stdout
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.startswith("执行")}
    assert lines["执行四组"][1:4] == ["2", "1", "3"]     # valid, flagged, quota
    assert "差 1" in " ".join(lines["执行四组"])
    assert lines["执行一组"][1] == "4"
    assert "素材页第" in result.stdout and "缺少执行过程" in result.stdout


def test_a_second_pull_changes_nothing(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)
    before = workspace.workbook.read_bytes()
    again = workspace.cli("pull", check=True)
    assert "工作簿无需改动" in again.stdout
    assert workspace.workbook.read_bytes() == before


def test_dry_run_pull_writes_neither_ledger_nor_workbook(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    before = workspace.workbook.read_bytes()
    result = workspace.cli("pull", "--dry-run", check=True)
    assert "试运行" in result.stdout and "受理 1 条" in result.stdout
    assert workspace.workbook.read_bytes() == before
    assert "尚未读取过工作簿" in workspace.cli("status", check=True).stdout


def test_a_bad_config_exits_2_with_one_message_and_no_traceback(workspace: Workspace) -> None:
    workspace.config_path.write_text(workspace.config_path.read_text(encoding="utf-8") + "\n[mail.smtp]\nport = 'x'\n",
                                     encoding="utf-8")
    result = workspace.cli("pull")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "[mail.smtp] port" in result.stderr and str(workspace.config_path) in result.stderr


def test_a_missing_config_exits_2(workspace: Workspace) -> None:
    workspace.config_path.unlink()
    result = workspace.cli("status")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_bad_usage_exits_2(workspace: Workspace) -> None:
    assert workspace.cli("no-such-command").returncode == 2


def test_a_missing_workbook_fails_the_pull_with_exit_1_and_a_hint(workspace: Workspace) -> None:
    result = workspace.cli("pull")
    assert result.returncode == 1
    assert "init" in result.stderr and "Traceback" not in result.stderr


def test_a_layout_error_names_tab_and_column_and_exits_1(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    book = openpyxl.load_workbook(workspace.workbook)
    book["素材"].delete_cols(9)  # 执行过程
    book.save(workspace.workbook)
    result = workspace.cli("pull")
    assert result.returncode == 1
    assert "素材" in result.stderr and "执行过程" in result.stderr
    assert "上次读取失败" in workspace.cli("status", check=True).stdout


def test_the_demo_cycle_drafts_an_invitation_that_approve_sends_to_the_deputies(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("once", check=True)
    status = workspace.cli("status", check=True).stdout
    assert "邀请函待办（1 封）" in status and "I-2026-000001" in status

    approved = workspace.cli("approve", "i-2026-000001", "--by", "符贤", check=True)
    workspace.cli("once", check=True)

    assert "邀请函 I-2026-000001 已通过审核，下次发送时将发给 2 位代表委员" in approved.stdout
    outbox = workspace.settings.mail.outbox
    sent = sorted(p.name for p in outbox.glob("*-invitation-I-2026-000001-*.eml"))
    assert [name.rsplit("-", 1)[-1] for name in sent] == ["deputy.wang@npc.example.eml",
                                                          "member.chen@cppcc.example.eml"]
    assert "邀请函待办" not in workspace.cli("status", check=True).stdout

    # The demo's 回执 row (a deputy's answer by telephone) counts from the pull after the invitation went out.
    assert [r["status"] for r in workspace.rows(REPLIES)] == ["邀请函 I-2026-000001 尚未发给代表委员"]
    workspace.cli("once", check=True)
    assert [r["status"] for r in workspace.rows(REPLIES)] == ["已登记"]
    status = workspace.cli("status", check=True).stdout
    assert "王海燕代表（deputy.wang@npc.example）参加（电话回复）" in status
    assert "陈立新委员（member.chen@cppcc.example）未回复" in status


def test_the_demo_offers_the_coming_press_conferences_pack_and_makes_it(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("once", check=True)
    [path] = workspace.settings.mail.outbox.glob("*-digest-*.eml")
    digest = BytesParser(policy=policy.default).parsebytes(path.read_bytes()).get_body(("plain",)).get_content()
    assert "新闻发布会“涉民生案件专项执行工作新闻发布会”将于12月2日（6 天后）召开，可生成发布会材料" in digest
    assert "运行 python run.py conference-pack --activity 2026-12-02" in digest
    nothing = workspace.cli("conference-pack")               # nothing approved and published yet
    assert nothing.returncode == 1 and "没有已发布的稿件" in nothing.stderr
    workspace.cli("approve", "D-2026-000001", "--by", "符贤", check=True)
    workspace.cli("publish", check=True)
    made = workspace.cli("conference-pack", "--activity", "2026-12-02", check=True)
    assert "已生成发布会材料：outbox/conference/新闻发布会材料_2026-12-02.docx" in made.stdout
    pack = docx.Document(str(workspace.root / "outbox" / "conference" / "新闻发布会材料_2026-12-02.docx"))
    text = "\n".join(p.text for p in pack.paragraphs)
    assert "涉民生案件专项执行工作新闻发布会" in text and "（一）打击拒执（1 篇）" in text
    assert "被执行人李某被司法拘留十五日" in text and "李国强" not in text


def test_status_lists_the_channels_still_to_post_until_they_are_marked(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("once", check=True)
    workspace.cli("approve", "D-2026-000002", "--by", "符贤", check=True)
    workspace.cli("publish", check=True)
    assert "D-2026-000002" in workspace.cli("status", check=True).stdout.partition("发布渠道待发")[2]

    for channel in ("微信", "微博", "网站"):
        workspace.cli("posted", "D-2026-000002", "--channel", channel, check=True)

    assert "发布渠道待发" not in workspace.cli("status", check=True).stdout


def test_the_brief_command_previews_last_months_brief_and_refuses_a_bad_month(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)

    preview = workspace.cli("brief", "--dry-run", check=True)
    bad = workspace.cli("brief", "--month", "2026-13")

    assert "（试运行：未发送，未记账）将发送 2 封代表委员简报" in preview.stdout
    assert "执行工作简报（2026年第1期）" in preview.stdout          # the year's first: none was sent before
    assert bad.returncode == 2 and "--month" in bad.stderr
    assert not list(workspace.settings.mail.outbox.glob("*-brief-*"))


@pytest.mark.parametrize("by, says", [((), "请用 --by 写明审核人"), (("--by", "张三"), "张三 不是登记的审核人"),
                                      (("--by", "命令行"), "命令行 不是登记的审核人")],
                         ids=["no reviewer", "not a reviewer", "the old default"])
def test_only_a_listed_reviewer_can_approve_or_reject_from_the_command_line(workspace: Workspace, by, says) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("once", check=True)
    for command in (("approve", "D-2026-000001"), ("reject", "D-2026-000001", "--reason", "不妥")):
        refused = workspace.cli(*command, *by)
        assert refused.returncode == 2 and says in refused.stderr and "Traceback" not in refused.stderr
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draft("D-2026-000001")["state"] == "pending"


def test_a_decision_from_the_command_line_records_the_account_that_ran_it(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("once", check=True)
    workspace.cli("approve", "D-2026-000001", "--by", "符贤", check=True)
    with Ledger(workspace.ledger) as ledger:
        [decision] = ledger.decisions("D-2026-000001")
    assert decision["reviewer"] == "符贤" and decision["source"] == f"cli:{getpass.getuser()}"
