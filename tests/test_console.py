"""What a clerk and the IT person read on the console: Chinese, and true.

Through the command line only (``run.py`` in a subprocess, a real workbook, the outbox or a real SMTP
server): every help text, usage line and provoked error is Chinese; the outbox never says a mail was
delivered; a dry run says what the real run would do; ``status`` and ``check`` speak JSON to scripts;
a closed pipe, a zero in the config and an unset password end in one line, never a traceback.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys

import pytest
from conftest import NOW, PROJECT, Workspace
from smtp_server import SMTP_PASSWORD_ENV, SMTP_USER, write_smtp_config

COMMANDS = ("init", "pull", "status", "check", "digest", "remind", "draft", "approve", "reject", "publish",
            "posted", "brief", "conference-pack", "resend", "once", "run")

# Words that may stay English: the program, its commands and options (for scripts), file names, formats.
ALLOWED = re.compile(r"python run\.py|run\.py|--?[a-z][a-z-]*|\b(?:%s)\b|config/pipeline\.toml|PIPELINE_[A-Z_]+|"
                     r"\b(?:cron|systemd|JSON|SMTP|SIGTERM|Ctrl\+C|TOML|wechat|weibo|website|YYYY-MM|UTF-8)\b"
                     % "|".join(COMMANDS))
SENTENCE = re.compile(r"[A-Za-z]{2,}[ ,:]+[A-Za-z]{2,}")      # two English words in a row


def english(text: str) -> list[str]:
    """The English phrases left in ``text`` once the names scripts use are taken out."""
    return SENTENCE.findall(ALLOWED.sub(" ", text))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo after one cycle, approved and published: a ledger with mail of every kind in the outbox."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_NOW", NOW)
        workspace = Workspace.create(tmp_path_factory.mktemp("console"))
        workspace.cli("init", "--demo", check=True)
        workspace.cli("once", check=True)
    return workspace


def test_every_help_text_and_usage_line_is_chinese(workspace: Workspace) -> None:
    pages = {"": workspace.cli("--help", check=True).stdout}
    for command in COMMANDS:
        pages[command] = workspace.cli(command, "--help", check=True).stdout
    for command, page in pages.items():
        assert page.startswith("用法："), command
        assert english(page) == [], (command, english(page))
    assert "选项" in pages["status"] and "--json" in pages["status"]


@pytest.mark.parametrize("args", [
    ("nosuch",), ("approve",), ("status", "--errors", "many"), ("reject", "D-2026-000001"),
    ("pull", "--surprise"), ("brief", "--month", "2026-13"), ("posted", "D-2026-000001", "--channel", "电视"),
    ("approve", "D-2026-000001", "--by", "路人"),
])
def test_a_wrong_command_line_is_answered_in_chinese(workspace: Workspace, args: tuple[str, ...]) -> None:
    workspace.make_workbook()
    result = workspace.cli(*args)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and "错误" in result.stderr
    assert english(result.stderr) == [], english(result.stderr)


@pytest.mark.parametrize("section, values, said", [
    ("schedule", {"cycle_minutes": 0}, "[schedule] cycle_minutes: 应在 1 到 1440 之间"),
    ("mail", {"max_attempts": 0}, "[mail] max_attempts: 应在 1 到 100 之间"),
    ("mail.smtp", {"port": 70000}, "[mail.smtp] port: 应在 1 到 65535 之间"),
    ("schedule", {"job_timeout": -5.0}, "[schedule] job_timeout: 应在 10 到 86400 之间"),
    ("schedule", {"digest": "8:30am"}, "[schedule] digest: 应为时间"),
    ("court", {"nmae": "x"}, "[court] nmae: 没有这个设置项"),
    ("", {"timezone": "Beijing"}, "timezone: 没有时区"),
])
def test_every_number_and_setting_out_of_range_is_a_chinese_configuration_error(
        workspace: Workspace, section: str, values: dict, said: str) -> None:
    workspace.make_workbook()
    if section:
        workspace.configure(section, **values)
    else:
        text = workspace.config_path.read_text(encoding="utf-8")
        workspace.config_path.write_text(re.sub(r'(?m)^timezone = .*$', f'timezone = "{values["timezone"]}"', text),
                                         encoding="utf-8")
    for command in ("once", "status"):
        result = workspace.cli(command)
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and english(result.stderr.split(": ", 1)[1]) == []


def test_a_damaged_config_file_names_the_line_in_chinese(workspace: Workspace) -> None:
    workspace.config_path.write_text(workspace.config_path.read_text(encoding="utf-8") + "\n[court\nname = 1\n",
                                     encoding="utf-8")
    result = workspace.cli("status")
    assert result.returncode == 2 and "配置文件格式有误（第" in result.stderr and "行第" in result.stderr


def test_the_outbox_never_says_a_mail_was_sent_or_delivered(demo: Workspace) -> None:
    said = [demo.cli("digest", "--force", check=True).stdout, demo.cli("status", check=True).stdout,
            demo.cli("approve", "D-2026-000001", "--by", "符贤", check=True).stdout,
            demo.cli("publish", check=True).stdout]
    for text in said:
        assert "已送达" not in text and "已发送" not in text, text
    assert "已写入发件箱（未发出）：每日简报给" in said[0]
    assert "已写入发件箱" in said[1] and "并未发出" in said[1]
    assert "已写入发件箱（未发出）：媒体发布给" in said[3]


def test_a_dry_run_says_what_the_real_run_would_do(demo: Workspace) -> None:
    dry = demo.cli("digest", "--dry-run", check=True).stdout        # the day's digest went out with the cycle
    assert "已经发送过" in dry and "将发送" not in dry
    real = demo.cli("digest", check=True).stdout
    assert "已经发送过" in real
    remind_dry = demo.cli("remind", "--dry-run", env={"PIPELINE_NOW": "2026-11-26T16:30:00+08:00"}, check=True)
    demo.cli("remind", env={"PIPELINE_NOW": "2026-11-26T16:30:00+08:00"}, check=True)
    again = demo.cli("remind", "--dry-run", env={"PIPELINE_NOW": "2026-11-26T16:30:00+08:00"}, check=True)
    assert "将发送" in remind_dry.stdout
    assert "将发送" not in again.stdout and "没有需要提醒的部门" in again.stdout


def test_status_and_check_speak_json_to_scripts_and_check_fails_on_unmet_obligations(demo: Workspace) -> None:
    status = json.loads(demo.cli("status", "--json", check=True).stdout)
    assert status["week"]["key"] == "2026-W48" and status["week"]["label"] == "2026年第48周"
    assert {t["team"] for t in status["teams"]} >= {"执行一组", "执行四组"}
    assert status["mail"]["delivers"] is False and status["mail"]["deliveries"]["sent"] > 0
    assert all(set(row) == {"tab", "row", "team", "message"} for row in status["row_errors"]["rows"])
    result = demo.cli("check", "--json")
    found = json.loads(result.stdout)
    assert result.returncode == 1 and found["met"] is False
    assert any(f["subject"] == "执行四组" and f["severity"] == "missing" for f in found["findings"])


def test_a_closed_pipe_ends_quietly(demo: Workspace) -> None:
    demo.cli("approve", "D-2026-000002", "--by", "符贤", check=True)
    command = (f'"{sys.executable}" "{PROJECT / "run.py"}" --config "{demo.config_path}" publish --dry-run '
               f'| true')        # the reader is gone before the first line
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, encoding="utf-8", errors="replace",
                            env={"PIPELINE_NOW": NOW, "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
                            timeout=120)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_an_unset_smtp_password_is_a_configuration_error_before_anything_is_queued(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace.make_workbook()
    write_smtp_config(workspace.config_path, host="127.0.0.1", port=2525, security="none", username=SMTP_USER,
                      password_env=SMTP_PASSWORD_ENV)
    monkeypatch.delenv(SMTP_PASSWORD_ENV, raising=False)
    for args in (("digest",), ("once",), ("remind",), ("publish",)):
        result = workspace.cli(*args)
        assert result.returncode == 2, (args, result)
        assert f"未设置 SMTP 密码：请在运行本程序的账户中设置环境变量 {SMTP_PASSWORD_ENV}" in result.stderr
        assert "setx" in result.stderr and "export" not in result.stderr      # advice for either system
    if workspace.ledger.exists():
        with sqlite3.connect(workspace.ledger) as db:
            assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    assert workspace.cli("status").returncode == 0          # reading needs no password


def test_once_names_each_run_as_its_mail_does(workspace: Workspace) -> None:
    """A new install on a Sunday sends no digest for the Friday before it; a Thursday's digest is that day's."""
    workspace.cli("init", "--demo", check=True)
    sunday = workspace.cli("once", env={"PIPELINE_NOW": "2026-11-29T10:00:00+08:00"}, check=True).stdout
    assert "每日简报" not in sunday and "2026-11-27" not in sunday
    monday = workspace.cli("once", env={"PIPELINE_NOW": "2026-11-30T10:00:00+08:00"}, check=True).stdout
    assert "每日简报（11月30日）：完成" in monday
    assert english(monday.split("查看")[0]) == []


def test_once_dry_run_lists_what_once_would_do_and_changes_nothing(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    before = workspace.workbook.read_bytes()
    dry = workspace.cli("once", "--dry-run", "--show", check=True).stdout
    assert dry.startswith("（试运行：不记账、不写工作簿、不发送）")
    assert "读取素材 21 行" in dry and "将写回" in dry and "将运行：读取素材、生成稿件、发布；每日简报（11月26日）" in dry
    assert "将发送 1 封每日简报" in dry and "    | " in dry                 # the digest's body, shown
    assert workspace.workbook.read_bytes() == before
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    real = workspace.cli("once", check=True).stdout
    assert "每日简报（11月26日）：完成" in real                              # what the dry run said, done


def test_a_release_is_tried_on_one_address_before_it_is_published(workspace: Workspace, smtp_server) -> None:
    """publish --test-to: the outlet's message, marked 【试发】, to one address; nothing published or changed."""
    workspace.cli("init", "--demo", check=True)
    workspace.cli("once", check=True)
    workspace.cli("approve", "D-2026-000001", "--by", "符贤", check=True)
    write_smtp_config(workspace.config_path, host=smtp_server.host, port=smtp_server.port, security="none")
    seen = len(smtp_server.handler.messages)

    tried = workspace.cli("publish", "--test-to", "符贤 <fuxian@court.example>", check=True).stdout

    sent = smtp_server.handler.messages[seen:]
    assert [m.rcpt_tos for m in sent] == [["fuxian@court.example"]]
    message = sent[0].parse()
    assert message["Subject"].startswith("【试发】")
    assert any((part.get_filename() or "").endswith(".docx") for part in message.walk())
    assert "试发（只发给 fuxian@court.example，不算发布，稿件仍待发布）：D-2026-000001" in tried
    status = json.loads(workspace.cli("status", "--json", check=True).stdout)
    assert {d["id"]: d["state"] for d in status["drafts"]}["D-2026-000001"] == "approved"
    published = workspace.cli("publish", check=True).stdout            # the real one still goes, to the media
    assert "发布稿件：D-2026-000001" in published
    wrong = workspace.cli("publish", "--test-to", "不是邮箱")
    assert wrong.returncode == 2 and "--test-to：邮箱地址无效" in wrong.stderr


def test_status_warns_while_results_go_nowhere_upward(workspace: Workspace) -> None:
    """四(六): the monthly report goes to the leaders and the higher court; while the config names nobody, status
    says so."""
    workspace.make_workbook()
    said = workspace.cli("status", check=True).stdout
    assert "注意：月度工作报告不报送上级法院：配置 [summaries] higher_court 未填写上级法院的邮箱" in said
    assert "注意：每周工作小结和月度工作报告不发给领导小组：配置 [summaries] leaders 未填写领导小组的邮箱" in said
    workspace.configure("summaries", higher_court=["高院办公室 <office@hicourt.example>"],
                        leaders=["院长 <president@court.example>"])
    again = workspace.cli("status", check=True).stdout
    assert "higher_court" not in again and "leaders" not in again
    assert json.loads(workspace.cli("status", "--json", check=True).stdout)["setup"] == []
