"""The log an IT person reads: a rotating, owner-only file for the commands that change something, one line
per finished job, JSON lines on request, expected conditions in one line, and nothing secret or personal."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from conftest import Workspace, material

from pipeline.app import demo_data, scheduler
from test_gsheets import api, fake_time, sheet  # noqa: F401  (fixtures: the Sheets API stand-in)

POSIX = os.name == "posix"


def log_of(workspace: Workspace) -> Path:
    return workspace.root / "logs" / "pipeline.log"


def fields(line: str) -> dict[str, str]:
    """The key=value fields of a text line (a quoted value is JSON)."""
    out = {}
    for key, value in re.findall(r' ([a-z_]+)=("(?:[^"\\]|\\.)*"|\S*)', line):
        out[key] = json.loads(value) if value.startswith('"') else value
    return out


def job_lines(text: str, job: str | None = None) -> list[dict[str, str]]:
    lines = [fields(line) for line in text.splitlines() if " pipeline.jobs: " in line]
    return [f for f in lines if job is None or f.get("job") == job]


# --- 1. the file --------------------------------------------------------------------------------

def test_once_keeps_an_owner_only_log_in_the_project_folder(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    result = workspace.cli("once", check=True)
    log = log_of(workspace)
    assert log.is_file(), result.stderr
    assert "job=cycle" in log.read_text(encoding="utf-8")
    assert "job=" not in result.stdout + result.stderr          # the console says it in its own words
    if POSIX:
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_every_command_that_changes_something_logs_and_the_read_only_ones_do_not(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    for command in (["status"], ["pull", "--dry-run"], ["draft", "--dry-run"]):
        workspace.cli(*command, check=True)
    assert workspace.cli("check").returncode == 1          # obligations unmet: said in the exit code, not logged
    assert not (workspace.root / "logs").exists()
    workspace.cli("pull", check=True)
    assert [f["job"] for f in job_lines(log_of(workspace).read_text(encoding="utf-8"))] == ["pull"]


def test_the_log_path_size_and_kept_files_are_configured_and_the_file_rotates(workspace: Workspace) -> None:
    workspace.configure("log", path="journal/run.log", max_mb=1, keep=2)
    log = workspace.root / "journal" / "run.log"
    log.parent.mkdir()
    log.write_text("current\n" * 140_000, encoding="utf-8")              # over 1 MB: the next line rotates it
    Path(f"{log}.1").write_text("first\n", encoding="utf-8")
    Path(f"{log}.2").write_text("second\n", encoding="utf-8")
    workspace.make_workbook([material()])

    workspace.cli("once", check=True)

    assert "job=cycle" in log.read_text(encoding="utf-8") and log.stat().st_size < 2**20
    assert Path(f"{log}.1").read_text(encoding="utf-8").startswith("current\n")
    assert Path(f"{log}.2").read_text(encoding="utf-8") == "first\n"       # keep = 2: "second" is gone
    assert not Path(f"{log}.3").exists()
    assert not (workspace.root / "logs").exists()


@pytest.mark.parametrize("key, value", [("max_mb", 0), ("keep", 0), ("format", "xml"), ("colour", True)])
def test_a_wrong_log_setting_is_a_config_error(workspace: Workspace, key: str, value: object) -> None:
    workspace.configure("log", **{key: value})
    result = workspace.cli("status")
    assert result.returncode == 2 and f"[log] {key}" in result.stderr


# --- 2. one line per finished job ---------------------------------------------------------------

def test_each_finished_job_says_in_one_line_what_it_did(workspace: Workspace) -> None:
    workspace.make_workbook([material(), material(title="第二条"), material(team="不存在的组", title="第三条")])
    workspace.cli("once", check=True)
    workspace.cli("approve", "D-2026-000001", "--by", "符贤", check=True)
    workspace.make_workbook([material(), material(title="第二条"), material(team="不存在的组", title="第三条")],
                            media=[{"outlet": "儋州日报", "email": "news@dz.example", "enabled": "是"}])
    workspace.cli("publish", check=True)
    text = log_of(workspace).read_text(encoding="utf-8")

    (cycle,) = job_lines(text, "cycle")
    assert cycle["period"].startswith("once-2026-11-26T10:00") and cycle["outcome"] == "ok"
    assert float(cycle["seconds"]) >= 0
    assert (cycle["rows"], cycle["accepted"], cycle["flagged"]) == ("3", "2", "1")
    assert cycle["drafted"] == "D-2026-000001,D-2026-000002" and cycle["sent"] == "2" and cycle["failed"] == "0"
    (digest,) = job_lines(text, "digest")
    assert digest["period"] == "2026-11-26" and digest["queued"] == "1" and digest["sent"] == "1"
    (review,) = job_lines(text, "review")
    assert review["item"] == "D-2026-000001" and review["decision"] == "通过" and review["outcome"] == "ok"
    (publish,) = job_lines(text, "publish")
    assert publish["published"] == "D-2026-000001" and publish["outcome"] == "ok" and int(publish["sent"]) >= 1
    assert "flush: {" not in text


def test_a_slot_that_fails_says_why_in_its_line(workspace: Workspace, caplog) -> None:
    def broken(ctx, period):
        raise scheduler.InstanceBusy("模板文件缺失")

    caplog.set_level(logging.INFO, logger="pipeline")
    runner = scheduler.Runner(workspace.settings, functions={**scheduler.JOBS, "digest": broken})
    runner.run_slot(scheduler.Slot("digest", "2026-11-26", None))
    (record,) = [r for r in caplog.records if r.name == "pipeline.jobs"]
    assert record.levelno == logging.ERROR and record.exc_info is None
    assert record.fields["job"] == "digest" and record.fields["period"] == "2026-11-26"
    assert record.fields["outcome"] == "failed" and record.fields["error"] == "模板文件缺失"


# --- 3. JSON lines ------------------------------------------------------------------------------

def test_json_lines_carry_time_level_logger_message_and_the_fields(workspace: Workspace) -> None:
    workspace.configure("log", format="json")
    workspace.make_workbook([material()])
    workspace.cli("once", check=True)
    lines = [json.loads(line) for line in log_of(workspace).read_text(encoding="utf-8").splitlines()]
    cycle = next(line for line in lines if line.get("job") == "cycle")
    assert {"time", "level", "logger", "message"} <= set(cycle)
    assert cycle["level"] == "INFO" and cycle["logger"] == "pipeline.jobs" and cycle["message"] == "任务完成"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", cycle["time"])
    assert cycle["outcome"] == "ok" and cycle["accepted"] == 1 and cycle["drafted"] == ["D-2026-000001"]


# --- 4. expected conditions: one line, no traceback ----------------------------------------------

def test_an_open_workbook_is_one_warning_in_the_log_and_on_the_console(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    (workspace.workbook.parent / f"~${workspace.workbook.name}").write_text("\x06zhangsan" + " " * 40,
                                                                           encoding="utf-8")
    result = workspace.cli("-v", "once", check=True)
    text = log_of(workspace).read_text(encoding="utf-8")
    assert "Traceback" not in text and "Traceback" not in result.stderr
    assert len([line for line in text.splitlines() if "编号和状态等待写回" in line]) == 1
    assert len([line for line in result.stderr.splitlines() if "编号和状态等待写回" in line]) == 1
    (cycle,) = job_lines(text, "cycle")
    assert cycle["outcome"] == "ok" and cycle["writeback"] == "waiting:SourceBusy"


def test_a_busy_ledger_is_one_line_without_a_traceback_even_with_v(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    workspace.cli("status", check=True)
    workspace.configure("ledger", wait_seconds=0.3)
    holder = sqlite3.connect(workspace.ledger, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        results = [workspace.cli("-v", command) for command in ("once", "pull")]
    finally:
        holder.close()
    text = log_of(workspace).read_text(encoding="utf-8")
    for result in results:
        assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Traceback" not in text
    busy = [line for line in text.splitlines() if "账本正被另一个程序占用" in line]
    assert len(busy) == 2 and all(" ERROR " in line for line in busy)


def test_the_service_loop_says_a_busy_ledger_in_one_line(workspace: Workspace, caplog) -> None:
    workspace.cli("status", check=True)
    workspace.configure("ledger", wait_seconds=0.2)
    runner = scheduler.Runner(workspace.settings)
    holder = sqlite3.connect(workspace.ledger, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        assert runner.tick() == []
    finally:
        holder.close()
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert "账本正被另一个程序占用" in errors[0].fields["error"] and "Traceback" not in caplog.text


def test_a_bug_in_a_job_keeps_its_traceback(workspace: Workspace, caplog) -> None:
    def broken(ctx, period):
        return {}["no such key"]

    runner = scheduler.Runner(workspace.settings, functions={**scheduler.JOBS, "digest": broken})
    runner.run_slot(scheduler.Slot("digest", "2026-11-26", None))
    (record,) = [r for r in caplog.records if r.name == "pipeline.jobs"]
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert record.fields["error"] == "KeyError: 'no such key'"


# --- 5. nothing secret or personal ---------------------------------------------------------------

def _personal() -> set[str]:
    """The demo's parties (natural persons, in full) and every run of 7 or more digits in its material."""
    names, numbers = set(), set()
    for row in demo_data.SUBMISSIONS + demo_data.BAD_SUBMISSIONS:
        for part in re.split(r"[；：、，]", str(row.get("parties", ""))):
            part = re.sub(r"等\d+人$", "", part.strip())
            if re.fullmatch(r"[\u4e00-\u9fff]{2,3}", part) and "某" not in part and not part.endswith("人"):
                names.add(part)
        for value in row.values():
            numbers.update(re.findall(r"\d{7,}", str(value)))
    return names | numbers


def test_a_full_cycle_at_debug_level_logs_no_password_and_no_personal_data(workspace: Workspace,
                                                                           smtp_auth_server) -> None:
    from smtp_server import SMTP_PASSWORD, SMTP_USER
    smtp_auth_server.configure(workspace)
    workspace.cli("init", "--demo", "--force", check=True)
    workspace.cli("-v", "once", check=True)
    draft_id = "D-2026-000001"
    workspace.cli("-v", "approve", draft_id, "--by", "符贤", check=True)
    workspace.cli("-v", "publish", check=True)
    workspace.cli("-v", "digest", "--force", check=True)
    assert smtp_auth_server.handler.logins                     # the password was used
    text = log_of(workspace).read_text(encoding="utf-8")
    assert job_lines(text, "publish")[0]["published"].startswith(draft_id)
    assert " DEBUG " in text
    secrets = {SMTP_PASSWORD, base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode(),
               base64.b64encode(SMTP_PASSWORD.encode()).decode()}
    personal = _personal()
    assert len(personal) > 20 and {"王文华", "李国强", "周秀英"} <= personal
    assert [s for s in secrets if s in text] == []
    assert sorted(p for p in personal if p in text) == []


def test_a_pull_from_google_sheets_at_debug_level_logs_neither_the_key_nor_a_token(sheet, api) -> None:
    sheet.load([material()])
    result = sheet.cli("-v", "pull")
    assert result.returncode == 0, result.stderr
    text = (sheet.config_path.parent / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert job_lines(text, "pull")[0]["accepted"] == "1" and " DEBUG " in text
    key = json.loads(sheet.key_file.read_text(encoding="utf-8"))
    body = "".join(key["private_key"].splitlines()[1:-1])
    assert api.tokens                                            # the key was used, and a token issued
    assert key["private_key_id"] not in text and all(body[i:i + 40] not in text for i in range(0, len(body), 40))
    assert [token for token in api.tokens if token in text] == []
