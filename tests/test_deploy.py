"""The service recipes in deploy/ and the quick start's commands, as the court's IT person would use them.

Each recipe runs from a fresh checkout (wheelhouse.checkout: what a clone of the project holds, without
data/, outbox/ or logs/) whose .venv is this test environment, with the server's clock zone set to UTC
and the clock pinned by PIPELINE_NOW: the pipeline's day runs in Beijing time whatever the server's zone.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import PROJECT
from pipeline.core import config
from test_packaging import needs_git
from wheelhouse import checkout

DEPLOY = PROJECT / "deploy"
INSTALL_DIR = "/opt/court-publicity"           # where the Linux recipes expect the project folder
WINDOWS_DIR = "C:\\court-publicity"
TASK_NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
# A Wednesday and a Thursday in Beijing, as a server whose clock zone is UTC sees them. Nothing but the
# cycle and the digest comes due on these days (the week's summary, the month's report and the brief
# came due before the first run; the reminder is on Thursday afternoon).
WED_0830 = "2026-11-25T00:30:00+00:00"      # 08:30 in Beijing: the first cycle and the digest; 00:30 on the server
WED_1800 = "2026-11-25T10:00:00+00:00"      # 18:00 in Beijing, closed; 10:00 on the server, its office hours
WED_2345 = "2026-11-25T15:45:00+00:00"      # 23:45 in Beijing, closed; 15:45 on the server, its office hours
THU_0800 = "2026-11-26T00:00:00+00:00"      # 08:00 in Beijing: a cycle; midnight on the server


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A fresh checkout with this environment as its .venv, as the install steps leave it."""
    folder = checkout(tmp_path / "court-publicity")
    os.symlink(Path(sys.prefix), folder / ".venv")
    return folder


def _env(now: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIPELINE_CONFIG")}
    env.update(TZ="UTC", PIPELINE_NOW=now, PYTHONIOENCODING="utf-8")
    return env


def _unit(name: str) -> dict[str, list[str]]:
    """A unit file's settings, key → values (comments left out)."""
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


UNITS = ("court-publicity.service", "court-publicity-once.service", "court-publicity-once.timer")
SERVICES = UNITS[:2]


# --- systemd --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SERVICES)
def test_a_service_keeps_its_secrets_out_of_environment_and_its_files_private(name: str) -> None:
    unit = _unit(name)
    assert unit["UMask"] == ["0077"]
    assert unit["EnvironmentFile"] == ["-/etc/court-publicity/secrets.env"]
    assert "Environment" not in unit                   # the key's path (commented) is the only Environment=
    text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
    assert "install -m 0600" in (DEPLOY / "systemd" / "court-publicity.service").read_text(encoding="utf-8")
    assert "#LoadCredential=service-account.json:" in text
    assert "#Environment=GOOGLE_APPLICATION_CREDENTIALS=%d/service-account.json" in text
    assert unit["WorkingDirectory"] == [INSTALL_DIR]


def test_the_long_running_service_runs_the_scheduler_and_the_timer_starts_due_rounds() -> None:
    assert _unit("court-publicity.service")["ExecStart"] == [f"{INSTALL_DIR}/.venv/bin/python run.py run"]
    once = _unit("court-publicity-once.service")
    assert once["Type"] == ["oneshot"]
    assert once["ExecStart"] == [f"{INSTALL_DIR}/.venv/bin/python run.py once --due"]
    timer = _unit("court-publicity-once.timer")
    assert timer["Persistent"] == ["true"] and timer["WantedBy"] == ["timers.target"]


needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze is not installed (apt-get install systemd)")


@needs_systemd
def test_systemd_accepts_the_units(fresh: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:                               # as installed, with the project folder where it lies here
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8").replace(INSTALL_DIR, str(fresh))
        (units / name).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", *[str(units / n) for n in UNITS]],
                            capture_output=True, text=True, timeout=60)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "court-publicity" in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr


@needs_systemd
def test_the_timer_fires_every_15_minutes_around_the_clock() -> None:
    spec = _unit("court-publicity-once.timer")["OnCalendar"][0]
    result = subprocess.run(["systemd-analyze", "calendar", "--iterations=5", "--base-time=2026-11-30 23:52:00 UTC",
                             spec], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}, timeout=60)
    assert result.returncode == 0, result.stderr
    times = re.findall(r"(?:Next elapse|Iter\. #\d+): \w{3} (\S+ \S+) UTC", result.stdout)
    assert times == ["2026-12-01 00:00:00", "2026-12-01 00:15:00", "2026-12-01 00:30:00", "2026-12-01 00:45:00",
                     "2026-12-01 01:00:00"]


def test_the_round_period_of_the_recipes_fits_the_configured_cycle() -> None:
    settings = config.load(config.DEFAULT_CONFIG)
    assert settings.schedule.cycle_minutes % 15 == 0        # each 15-minute pulse finds at most one new slot


# --- cron -----------------------------------------------------------------------------------------------

def _cron_line() -> tuple[list[str], str]:
    """The crontab's entry: its five time fields and its command."""
    entries = [line for line in (DEPLOY / "cron" / "court-publicity.cron").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)]
    assert len(entries) == 1, entries
    fields = entries[0].split(None, 5)
    return fields[:5], fields[5]


def test_the_cron_entry_fires_every_15_minutes_whatever_crons_time_zone() -> None:
    fields, command = _cron_line()
    # Minutes */15; hours, days, months and weekdays all '*': cron's clock zone decides nothing.
    assert fields == ["*/15", "*", "*", "*", "*"]
    assert "once --due" in command


@needs_git
def test_the_cron_command_runs_from_a_fresh_checkout_in_beijing_time_on_a_utc_server(fresh: Path) -> None:
    _, command = _cron_line()
    command = command.replace(INSTALL_DIR, shlex.quote(str(fresh)))
    made = subprocess.run([str(fresh / ".venv" / "bin" / "python"), "run.py", "init", "--demo"], cwd=fresh,
                          env=_env(WED_0830), capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert not (fresh / "logs").exists()

    def cron(now: str) -> str:
        ran = subprocess.run(["/bin/sh", "-c", command], cwd="/", env=_env(now), capture_output=True, text=True,
                             timeout=120)
        assert ran.returncode == 0 and ran.stdout == ran.stderr == ""
        return (fresh / "logs" / "once.log").read_text(encoding="utf-8")

    log = cron(WED_0830)
    assert log.splitlines()[0] == "2026-11-25 08:30（Asia/Shanghai）"
    assert "读取素材、生成稿件、发布：完成" in log and "每日简报（11月25日）：完成" in log
    assert any("-digest-2026-11-25-" in p.name for p in (fresh / "outbox").iterdir())
    for closed in (WED_1800, WED_2345):              # office hours on the server's clock, not in Beijing
        assert cron(closed) == log
    later = cron(THU_0800)                           # office hours in Beijing, midnight on the server's clock
    assert later.startswith(log)
    assert later[len(log):].splitlines()[:2] == ["2026-11-26 08:00（Asia/Shanghai）", "读取素材、生成稿件、发布：完成"]


# --- Windows --------------------------------------------------------------------------------------------

def _task() -> ET.Element:
    return ET.parse(DEPLOY / "windows" / "court-publicity-task.xml").getroot()


def test_the_windows_task_runs_hidden_every_15_minutes_one_at_a_time() -> None:
    task = _task()
    exec_ = task.find("t:Actions/t:Exec", TASK_NS)
    command = exec_.findtext("t:Command", namespaces=TASK_NS)
    assert command == WINDOWS_DIR + "\\.venv\\Scripts\\pythonw.exe"      # pythonw: no console window at all
    assert exec_.findtext("t:WorkingDirectory", namespaces=TASK_NS) == WINDOWS_DIR
    assert exec_.findtext("t:Arguments", namespaces=TASK_NS) == "-m pipeline.app.logged logs\\once.log once --due"
    repetition = task.find("t:Triggers/t:CalendarTrigger/t:Repetition", TASK_NS)
    assert repetition.findtext("t:Interval", namespaces=TASK_NS) == "PT15M"
    assert repetition.find("t:Duration", TASK_NS) is None                # repeated for ever
    assert task.findtext("t:Triggers/t:CalendarTrigger/t:ScheduleByDay/t:DaysInterval", namespaces=TASK_NS) == "1"
    settings = task.find("t:Settings", TASK_NS)
    assert settings.findtext("t:MultipleInstancesPolicy", namespaces=TASK_NS) == "IgnoreNew"
    assert settings.findtext("t:StartWhenAvailable", namespaces=TASK_NS) == "true"
    assert settings.findtext("t:DisallowStartIfOnBatteries", namespaces=TASK_NS) == "false"
    # Run whether the account is logged on or not: no desktop to show a window on either.
    assert task.findtext("t:Principals/t:Principal/t:LogonType", namespaces=TASK_NS) == "Password"


def test_the_windows_install_script_is_read_right_by_powershell_5_1() -> None:
    raw = (DEPLOY / "windows" / "install-task.ps1").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")      # without a BOM, PowerShell 5.1 reads it in the ANSI code page
    text = raw.decode("utf-8-sig")
    assert "&&" not in text and "||" not in text
    assert "court-publicity-task.xml" in text and WINDOWS_DIR in text and "Register-ScheduledTask" in text


@needs_git
def test_the_windows_task_keeps_a_log_from_a_fresh_checkout_without_a_console(fresh: Path) -> None:
    assert subprocess.run([sys.executable, "run.py", "init", "--demo"], cwd=fresh, env=_env(WED_0830),
                          capture_output=True, timeout=120).returncode == 0
    arguments = _task().findtext("t:Actions/t:Exec/t:Arguments", namespaces=TASK_NS).replace("\\", os.sep).split()
    assert arguments[:2] == ["-m", "pipeline.app.logged"]
    # pythonw: sys.stdout and sys.stderr are None, as for a program started without a console.
    script = ("import runpy, sys\n"
              "sys.stdout = sys.stderr = None\n"
              f"sys.argv = ['pythonw'] + {arguments[2:]!r}\n"
              "sys.path.insert(0, '')\n"
              "runpy.run_module('pipeline.app.logged', run_name='__main__')\n")
    for now in (WED_0830, WED_1800):
        ran = subprocess.run([sys.executable, "-c", script], cwd=fresh, env=_env(now), capture_output=True,
                             text=True, timeout=120)
        assert ran.returncode == 0 and ran.stdout == ran.stderr == ""
    log = (fresh / "logs" / "once.log").read_text(encoding="utf-8").splitlines()
    assert log[0].startswith("==== ") and log[0].endswith(" once --due")
    assert log[1] == "2026-11-25 08:30（Asia/Shanghai）" and "读取素材、生成稿件、发布：完成" in log
    assert log[-1] == "==== 退出码 0" and sum(line.startswith("==== 退出码") for line in log) == 1   # 18:00: quiet


def test_the_logged_launcher_says_how_to_call_it_when_called_wrong(tmp_path: Path) -> None:
    from pipeline.app import logged
    assert logged.main(["--help"]) == 2
    assert logged.main([str(tmp_path / "x.log")]) == 2
    assert not (tmp_path / "x.log").exists()


# --- the quick start ------------------------------------------------------------------------------------

def _quick_start() -> str:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]


def _blocks(text: str, language: str) -> list[str]:
    return [b.strip() for b in re.findall(rf"```{language}\n(.*?)```", text, re.S)]


def _steps(line: str, shell: str) -> list[str]:
    """The commands of a one-line chain, in one spelling (bash's), so the shells' versions can be compared."""
    if shell == "powershell":
        parts = [p.strip() for p in line.split(";")]
        inner = [re.fullmatch(r"if \(\$LASTEXITCODE -eq 0\) \{ (.+) \}", p) for p in parts[1:]]
        assert all(inner), f"every step after the first waits for the one before: {line}"
        parts = [parts[0], *[m.group(1) for m in inner]]
    else:
        parts = [p.strip() for p in line.split("&&")]
    spelled = []
    for part in parts:
        part = part.replace(".venv\\Scripts\\", ".venv/bin/").replace("py -3 -m venv", "python3 -m venv")
        spelled.append(part)
    return spelled


def test_the_quick_start_is_two_bash_commands_with_the_same_steps_for_cmd_and_powershell() -> None:
    text = _quick_start()
    bash = _blocks(text, "sh")
    assert len(bash) == 2 and all("\n" not in b for b in bash)
    run, test = bash
    assert "pip install -q -r requirements.txt" in run and "run.py once" in run
    assert "pip install -q -r requirements-dev.txt" in test and "-m pytest" in test
    cmd, powershell = _blocks(text, "bat"), _blocks(text, "powershell")
    assert len(cmd) == 2 and len(powershell) == 2
    for ours, shell in ((cmd, "cmd"), (powershell, "powershell")):
        assert all("\n" not in b for b in ours)
        assert [_steps(b, shell) for b in ours] == [_steps(b, "sh") for b in bash]
    assert not any("&&" in b or "||" in b for b in powershell)        # Windows PowerShell 5.1 rejects both


def test_the_readme_and_the_guide_name_every_recipe_file() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    guide = (PROJECT / "docs" / "使用指南.md").read_text(encoding="utf-8")
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            name = path.relative_to(PROJECT).as_posix()
            assert name in readme and name in guide, name
