"""The office's daily digest and the teams' reminders, through the job functions and the CLI."""

from __future__ import annotations

from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import DEFAULT_TEAMS, Workspace, material, run_job

from pipeline.flows import invitations, pulling, week
from pipeline.ledger import Ledger


def outbox_messages(workspace: Workspace, purpose: str) -> list:
    folder = workspace.settings.mail.outbox
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes())
            for p in sorted(folder.glob(f"*-{purpose}-*.eml"))]


def team_items(team: str, count: int) -> list[dict]:
    return [material(team=team, title=f"{team}素材{i}", case_number=f"（2026）琼9003执{300 + i}号",
                     submitter=f"{team}干警") for i in range(count)]


@pytest.fixture
def pulled(workspace: Workspace) -> Workspace:
    """执行一组 on track, 执行二组 one short with a bad row, 执行指挥中心 with nothing."""
    rows = team_items("执行一组", 3) + team_items("执行二组", 2)
    rows.append(material(team="执行二组", title="缺少过程的素材", process="", submitter="林小梅"))
    workspace.make_workbook(rows)
    run_job(workspace.settings, pulling.pull)
    return workspace


def office_addresses(workspace: Workspace, *addresses: str) -> None:
    text = workspace.config_path.read_text(encoding="utf-8")
    listed = ", ".join(f'"{a}"' for a in addresses)
    workspace.config_path.write_text(text.replace('office = ["office@court.example"]', f"office = [{listed}]"),
                                     encoding="utf-8")


# --- the digest ----------------------------------------------------------------

def test_the_digest_goes_to_every_office_address_from_the_config_and_nowhere_else(pulled) -> None:
    office_addresses(pulled, "fuxian@court.example", "gaoqiongfang@court.example")
    run = run_job(pulled.settings, week.digest)
    assert run.queued == 2
    recipients = sorted(str(m["To"]) for m in outbox_messages(pulled, "digest"))
    assert recipients == ["fuxian@court.example", "gaoqiongfang@court.example"]
    team_addresses = {t["email"] for t in DEFAULT_TEAMS}
    assert not team_addresses & set(recipients)


def test_the_digest_is_sent_once_a_day(pulled, monkeypatch) -> None:
    run_job(pulled.settings, week.digest)
    again = run_job(pulled.settings, week.digest)
    assert again.queued == 0 and "已经发送过" in again.skipped
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-26T23:59:00+08:00")
    assert run_job(pulled.settings, week.digest).queued == 0
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-27T08:30:00+08:00")
    assert run_job(pulled.settings, week.digest).queued == 1
    assert len(outbox_messages(pulled, "digest")) == 2


def test_force_sends_another_digest_the_same_day(pulled) -> None:
    run_job(pulled.settings, week.digest)
    assert run_job(pulled.settings, week.digest, force=True).queued == 1
    assert len(outbox_messages(pulled, "digest")) == 2


def test_the_digest_says_who_is_behind_what_is_missing_and_which_rows_to_fix(pulled) -> None:
    run_job(pulled.settings, week.digest)
    (message,) = outbox_messages(pulled, "digest")
    assert "每日简报" in message["Subject"] and "2026年11月26日" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "执行一组：有效 3 / 任务 3，已完成" in text
    assert "执行二组：有效 2 / 任务 3，需补正 1，还差 1 条" in text
    assert "执行指挥中心：有效 0 / 任务 3，还差 3 条" in text
    assert "本周尚未公开报道执行不能案件" in text
    assert "林小梅" in text and "缺少执行过程" in text
    html = message.get_body(("html",)).get_content()
    for fact in ("执行二组", "还差 1 条", "林小梅", "缺少执行过程", "本周尚未公开报道执行不能案件"):
        assert fact in html


def test_the_digest_html_is_safe_for_mail_clients(pulled) -> None:
    run_job(pulled.settings, week.digest)
    html = outbox_messages(pulled, "digest")[0].get_body(("html",)).get_content().lower()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "<img" not in html and "<link" not in html
    assert "style=" in html and "<table" in html


def test_sheet_text_is_escaped_in_the_digest_html(workspace) -> None:
    workspace.make_workbook([material(title="<script>alert(1)</script>判决生效")])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, week.digest)
    html = outbox_messages(workspace, "digest")[0].get_body(("html",)).get_content()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_the_digest_lists_only_submissions_new_since_the_last_digest(pulled, monkeypatch) -> None:
    run_job(pulled.settings, week.digest)
    first = outbox_messages(pulled, "digest")[0].get_body(("plain",)).get_content()
    assert "执行一组素材0" in first
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-27T08:00:00+08:00")
    book_rows = team_items("执行一组", 3) + team_items("执行二组", 2)
    book_rows.append(material(team="执行指挥中心", title="指挥中心新素材", case_number="（2026）琼9003执999号"))
    pulled.make_workbook(book_rows)
    run_job(pulled.settings, pulling.pull)
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-27T08:30:00+08:00")
    run_job(pulled.settings, week.digest)
    second = outbox_messages(pulled, "digest")[1].get_body(("plain",)).get_content()
    assert "指挥中心新素材" in second
    assert "执行一组素材0" not in second


def test_the_digest_lists_the_coming_obligations(workspace) -> None:
    from datetime import date

    workspace.make_workbook([], activities=[
        {"date": date(2026, 12, 3), "kind": "重大执行活动", "name": "集中腾退行动"},
        {"date": date(2026, 3, 1), "kind": "新闻发布会", "name": "发布会", "held": "是"},
    ])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, week.digest)
    text = outbox_messages(workspace, "digest")[0].get_body(("plain",)).get_content()
    assert "新闻发布会：今年已召开 1 次" in text
    assert "代表委员看执行：本月尚未安排" in text
    assert "集中腾退行动" in text and "11月30日前报送" in text


def test_a_digest_dry_run_sends_and_records_nothing(pulled) -> None:
    run = run_job(pulled.settings, week.digest, dry_run=True)
    assert len(run.previews) == 1 and run.queued == 0
    assert outbox_messages(pulled, "digest") == []
    with Ledger(pulled.ledger) as ledger:
        assert ledger.deliveries("digest/") == []


def test_the_digest_is_recorded_in_the_ledger_with_its_outcome(pulled) -> None:
    run_job(pulled.settings, week.digest)
    with Ledger(pulled.ledger) as ledger:
        (delivery,) = ledger.deliveries("digest/")
    assert delivery["state"] == "sent" and delivery["recipient"] == "office@court.example"
    assert delivery["message_id"].endswith("@court.example>")


# --- reminders ------------------------------------------------------------------

def test_reminders_go_only_to_the_leaders_of_teams_behind(pulled) -> None:
    run_job(pulled.settings, week.remind)
    messages = outbox_messages(pulled, "reminder")
    recipients = sorted(m["To"].addresses[0].addr_spec for m in messages)
    assert recipients == ["zhihui@court.example", "zhixing2@court.example"]
    second_team = next(m for m in messages if "zhixing2" in str(m["To"]))
    assert second_team["To"].addresses[0].display_name == "林春梅"
    text = second_team.get_body(("plain",)).get_content()
    assert "林春梅同志" in text and "还差 1 条" in text and "案情" in text and "执行过程" in text
    assert "缺少执行过程" in text   # the team's own row to fix


def test_a_team_is_reminded_once_a_week(pulled, monkeypatch) -> None:
    run_job(pulled.settings, week.remind)
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-27T16:00:00+08:00")
    assert run_job(pulled.settings, week.remind).queued == 0
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-03T16:00:00+08:00")
    assert run_job(pulled.settings, week.remind).queued == 3   # a new week: every team is behind again
    assert len(outbox_messages(pulled, "reminder")) == 5


def test_a_team_with_a_bad_address_gets_no_reminder_and_the_digest_says_so(workspace) -> None:
    teams = [DEFAULT_TEAMS[0], dict(DEFAULT_TEAMS[1], email="zhixing2 at court")]
    workspace.make_workbook(team_items("执行一组", 3), teams=teams)
    run_job(workspace.settings, pulling.pull)
    assert run_job(workspace.settings, week.remind).queued == 0
    run_job(workspace.settings, week.digest)
    text = outbox_messages(workspace, "digest")[0].get_body(("plain",)).get_content()
    assert "执行二组的邮箱缺失或无效" in text


def test_no_reminders_in_an_exempt_week(pulled) -> None:
    text = pulled.config_path.read_text(encoding="utf-8")
    pulled.config_path.write_text(text.replace("exempt_weeks = []", 'exempt_weeks = ["2026-W48"]'), encoding="utf-8")
    run = run_job(pulled.settings, week.remind)
    assert run.queued == 0 and "豁免" in run.skipped


# --- the commands ---------------------------------------------------------------

def test_digest_and_remind_commands_write_previewable_mail_to_the_outbox(workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)
    digest = workspace.cli("digest", check=True)
    assert "已写入发件箱（未发出）：每日简报给 office@court.example" in digest.stdout and "index.html" in digest.stdout
    remind = workspace.cli("remind", check=True)
    assert "zhixing4@court.example" in remind.stdout
    # 执行三组 is on quota, but owes the report of the demo's past 代表委员看执行 visit (its 负责部门).
    assert "zhixing3@court.example" in remind.stdout and "请执行三组报送代表委员看执行活动报道素材" in remind.stdout
    assert "已经发送过" in workspace.cli("digest", check=True).stdout
    index = Path(workspace.settings.mail.outbox, "index.html").read_text(encoding="utf-8")
    assert "每日简报" in index and "催报提醒" in index
    assert len(list(workspace.settings.mail.outbox.glob("*.html"))) == 4   # three previews and the index


# --- over a real SMTP server ----------------------------------------------------

def test_digest_and_reminders_arrive_in_chinese_over_starttls(pulled, smtp_starttls_server) -> None:
    settings = smtp_starttls_server.configure(pulled)
    run_job(settings, week.digest)
    run_job(settings, week.remind)
    handler = smtp_starttls_server.handler
    assert sorted(handler.recipients()) == ["office@court.example", "zhihui@court.example", "zhixing2@court.example"]
    assert all(m.tls and m.login for m in handler.messages)
    subjects = sorted(m.parse()["Subject"] for m in handler.messages)
    assert subjects[0].startswith("【催报提醒】") and "每日简报" in subjects[-1]
    reminder = next(m.parse() for m in handler.messages if m.rcpt_tos == ["zhixing2@court.example"])
    assert "林春梅同志" in reminder.get_body(("plain",)).get_content()


def test_a_refused_reminder_is_reported_and_shown_in_the_next_digest(pulled, smtp_server, monkeypatch) -> None:
    smtp_server.handler.rcpt_replies["zhihui@court.example"] = "550 5.1.1 mailbox unavailable"
    settings = smtp_server.configure(pulled)
    run = run_job(settings, week.remind)
    outcomes = {o.recipient: r.outcome for o, r in run.report.results}
    assert outcomes == {"zhihui@court.example": "permanent", "zhixing2@court.example": "sent"}
    run_job(settings, week.digest)
    digest = next(m.parse() for m in smtp_server.handler.messages if m.rcpt_tos == ["office@court.example"])
    text = digest.get_body(("plain",)).get_content()
    assert "未能送达的邮件" in text and "zhihui@court.example" in text and "被拒收" in text
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-27T16:00:00+08:00")
    assert run_job(settings, week.remind).report.results == []   # a permanent refusal is not retried


def test_a_temporarily_refused_reminder_is_delivered_on_the_next_run(pulled, smtp_server, monkeypatch) -> None:
    smtp_server.handler.rcpt_replies["zhihui@court.example"] = "451 4.3.0 try again later"
    settings = smtp_server.configure(pulled)
    first = run_job(settings, week.remind)
    assert {r.outcome for _, r in first.report.results} == {"sent", "temporary"}
    smtp_server.handler.rcpt_replies.clear()
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-26T10:15:00+08:00")
    second = run_job(settings, week.remind)
    assert [(o.recipient, r.outcome) for o, r in second.report.results] == [("zhihui@court.example", "sent")]
    assert sorted(smtp_server.handler.recipients()) == ["zhihui@court.example", "zhixing2@court.example"]


def test_the_remind_command_exits_1_when_a_reminder_cannot_be_delivered(pulled, smtp_server) -> None:
    smtp_server.handler.rcpt_replies["zhihui@court.example"] = "550 5.1.1 mailbox unavailable"
    smtp_server.configure(pulled)
    result = pulled.cli("remind")
    assert result.returncode == 1
    assert "zhihui@court.example" in result.stdout and "被拒收" in result.stdout


def test_an_old_refusal_leaves_the_digest_after_a_week(pulled, smtp_server, monkeypatch) -> None:
    smtp_server.handler.rcpt_replies["zhihui@court.example"] = "550 5.1.1 mailbox unavailable"
    settings = smtp_server.configure(pulled)
    run_job(settings, week.remind)
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-02T08:30:00+08:00")
    run_job(settings, week.digest)
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-04T08:30:00+08:00")
    run_job(settings, week.digest)
    digests = [m.parse().get_body(("plain",)).get_content() for m in smtp_server.handler.messages
               if m.rcpt_tos == ["office@court.example"]]
    assert "zhihui@court.example" in digests[0]
    assert "未能送达的邮件" not in digests[1]


def test_the_digest_lists_invitations_awaiting_review_or_sending(workspace: Workspace) -> None:
    workspace.make_workbook(team_items("执行一组", 3), activities=[
        {"date": date(2026, 12, 8), "kind": "代表委员看执行", "name": "代表委员见证涉民生案件执行"},
        {"date": date(2026, 12, 9), "kind": "新闻发布会", "name": "执行工作新闻发布会"}])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, invitations.draft_invitations)

    run_job(workspace.settings, week.digest)

    [digest] = outbox_messages(workspace, "digest")
    text = digest.get_body(("plain",)).get_content()
    assert "邀请函待办（1 封）" in text
    assert "I-2026-000001 2026-12-08“代表委员见证涉民生案件执行”：待审核" in text
    assert "执行工作新闻发布会”：" not in text
