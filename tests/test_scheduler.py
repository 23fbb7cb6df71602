"""Running unattended: the timetable, catch-up, isolation, one instance, signals, summaries.

No test sleeps to wait for a schedule: the clock is pinned (PIPELINE_NOW) and
moved; the scheduler is driven tick by tick through ``Runner``.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import PROJECT, Workspace, material, run_job

from pipeline.app import scheduler
from pipeline.flows import decisions, publishing, pulling, summaries
from pipeline.ledger import Ledger

BEIJING = "+08:00"


class Recorder:
    """Job functions that only note (job, period, time) — the timetable is under test, not the jobs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def functions(self) -> dict:
        return {job: (lambda ctx, period, job=job: self.calls.append(
            (job, period, os.environ["PIPELINE_NOW"]))) for job in scheduler.JOBS}

    def of(self, job: str) -> list[tuple[str, str, str]]:
        return [c for c in self.calls if c[0] == job]


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime | str) -> None:
    monkeypatch.setenv("PIPELINE_NOW", moment if isinstance(moment, str) else moment.isoformat())


def started(workspace: Workspace, monkeypatch, when: str) -> tuple[scheduler.Runner, Recorder]:
    """A runner whose scheduler was first started at ``when``."""
    recorder = Recorder()
    runner = scheduler.Runner(workspace.settings, functions=recorder.functions())
    at(monkeypatch, when)
    runner.tick()
    return runner, recorder


def tick_through(runner: scheduler.Runner, monkeypatch, start: datetime, end: datetime,
                 step: timedelta = timedelta(minutes=5)) -> None:
    moment = start
    while moment <= end:
        at(monkeypatch, moment)
        runner.tick()
        moment += step


# --- the timetable, in Beijing time whatever the host ------------------------------

def test_a_thursday_compressed_runs_each_job_at_its_time_exactly_once(workspace, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    runner, recorder = started(workspace, monkeypatch, f"2026-11-25T23:00:00{BEIJING}")
    recorder.calls.clear()
    start = datetime.fromisoformat(f"2026-11-26T00:00:00{BEIJING}")
    tick_through(runner, monkeypatch, start, start + timedelta(hours=23, minutes=55))
    assert [c[2] for c in recorder.of("digest")] == [f"2026-11-26T08:30:00{BEIJING}"]
    assert [c[1] for c in recorder.of("remind")] == ["2026-W48"]
    assert [c[2] for c in recorder.of("remind")] == [f"2026-11-26T16:00:00{BEIJING}"]
    cycles = recorder.of("cycle")
    assert len(cycles) == 40                      # 08:00 to 17:45, every 15 minutes
    assert cycles[0][1] == "2026-11-26T08:00" and cycles[-1][1] == "2026-11-26T17:45"
    assert recorder.of("weekly-summary") == [] and recorder.of("monthly-summary") == []


def test_a_monday_sends_last_weeks_summary_and_the_first_sends_last_months_report(workspace, monkeypatch) -> None:
    runner, recorder = started(workspace, monkeypatch, f"2026-11-23T10:00:00{BEIJING}")
    tick_through(runner, monkeypatch, datetime.fromisoformat(f"2026-11-23T10:30:00{BEIJING}"),
                 datetime.fromisoformat(f"2026-11-29T23:30:00{BEIJING}"), step=timedelta(hours=1))
    start = datetime.fromisoformat(f"2026-11-30T00:00:00{BEIJING}")
    tick_through(runner, monkeypatch, start, start + timedelta(days=1, hours=12), step=timedelta(minutes=30))
    assert [c[1:] for c in recorder.of("weekly-summary")] == [("2026-W48", f"2026-11-30T09:00:00{BEIJING}")]
    assert [c[1:] for c in recorder.of("monthly-summary")] == [("2026-11", f"2026-12-01T09:00:00{BEIJING}")]


def test_the_deputies_brief_goes_out_once_on_the_second_for_the_month_before(workspace, monkeypatch) -> None:
    runner, recorder = started(workspace, monkeypatch, f"2026-11-23T10:00:00{BEIJING}")
    start = datetime.fromisoformat(f"2026-12-01T00:00:00{BEIJING}")
    tick_through(runner, monkeypatch, start, start + timedelta(days=3), step=timedelta(minutes=30))
    assert [c[1:] for c in recorder.of("brief")] == [("2026-11", f"2026-12-02T09:00:00{BEIJING}")]


def test_a_new_install_does_not_send_last_months_brief(workspace, monkeypatch) -> None:
    runner, recorder = started(workspace, monkeypatch, f"2026-12-03T10:00:00{BEIJING}")
    assert recorder.of("brief") == []


def test_no_cycles_and_no_digest_at_the_weekend(workspace, monkeypatch) -> None:
    runner, recorder = started(workspace, monkeypatch, f"2026-11-27T20:00:00{BEIJING}")
    recorder.calls.clear()
    start = datetime.fromisoformat(f"2026-11-28T00:00:00{BEIJING}")
    tick_through(runner, monkeypatch, start, start + timedelta(days=1, hours=23), step=timedelta(minutes=15))
    assert recorder.of("cycle") == [] and recorder.of("digest") == []


def test_a_new_install_does_not_send_last_months_report(workspace, monkeypatch) -> None:
    runner, recorder = started(workspace, monkeypatch, f"2026-12-02T10:00:00{BEIJING}")
    assert recorder.of("monthly-summary") == [] and recorder.of("weekly-summary") == []
    assert [c[1] for c in recorder.of("digest")] == ["2026-12-02"]


def test_once_due_every_15_minutes_around_the_clock_runs_what_run_would(workspace, monkeypatch) -> None:
    """cron and timers fire `once --due` around the clock, on a UTC server: the same day as the loop's."""
    monkeypatch.setenv("TZ", "UTC")
    recorder = Recorder()
    runner = scheduler.Runner(workspace.settings, functions=recorder.functions())
    at(monkeypatch, f"2026-11-25T23:00:00{BEIJING}")
    first = scheduler.once(workspace.settings, runner, due_only=True)          # closed: no cycle, today's digest
    assert [(o.job, o.period) for o in first] == [("digest", "2026-11-25")]
    assert scheduler.once(workspace.settings, runner, due_only=True) == []     # and then nothing at all
    recorder.calls.clear()
    moment = datetime.fromisoformat(f"2026-11-26T00:00:00{BEIJING}")
    while moment < datetime.fromisoformat(f"2026-11-27T00:00:00{BEIJING}"):
        at(monkeypatch, moment)
        scheduler.once(workspace.settings, runner, due_only=True)
        scheduler.once(workspace.settings, runner, due_only=True)            # a second pulse in the slot
        moment += timedelta(minutes=15)
    cycles = recorder.of("cycle")
    assert len(cycles) == 40                      # 08:00 to 17:45, one per slot
    assert cycles[0][1] == "2026-11-26T08:00" and cycles[-1][1] == "2026-11-26T17:45"
    assert [c[2] for c in recorder.of("digest")] == [f"2026-11-26T08:30:00{BEIJING}"]
    assert [c[2] for c in recorder.of("remind")] == [f"2026-11-26T16:00:00{BEIJING}"]


def test_plain_once_always_runs_a_cycle(workspace, monkeypatch) -> None:
    recorder = Recorder()
    runner = scheduler.Runner(workspace.settings, functions=recorder.functions())
    at(monkeypatch, f"2026-11-28T23:00:00{BEIJING}")          # a Saturday night
    for _ in range(2):
        outcomes = scheduler.once(workspace.settings, runner)
        assert outcomes[0].job == "cycle" and outcomes[0].result == "ok"
    assert len(recorder.of("cycle")) == 2


# --- catch-up --------------------------------------------------------------------

def test_a_restart_at_ten_runs_the_missed_0830_digest_once(workspace, monkeypatch) -> None:
    started(workspace, monkeypatch, f"2026-11-26T07:00:00{BEIJING}")     # the first process, gone by 07:00
    recorder = Recorder()
    runner = scheduler.Runner(workspace.settings, functions=recorder.functions())   # the restarted one
    for minute in (0, 1, 30):
        at(monkeypatch, f"2026-11-26T10:{minute:02d}:00{BEIJING}")
        runner.tick()
    assert [c[1] for c in recorder.of("digest")] == ["2026-11-26"]


def test_a_two_day_outage_gives_one_digest_and_no_reminder_for_a_past_week(workspace, monkeypatch) -> None:
    runner, recorder = started(workspace, monkeypatch, f"2026-11-24T09:00:00{BEIJING}")   # Tuesday
    recorder.calls.clear()
    at(monkeypatch, f"2026-11-26T10:00:00{BEIJING}")   # Thursday, after two days down
    runner.tick()
    runner.tick()
    assert [c[1] for c in recorder.of("digest")] == ["2026-11-26"]
    assert recorder.of("remind") == []                 # Thursday 16:00 has not come yet
    recorder.calls.clear()
    at(monkeypatch, f"2026-11-30T10:00:00{BEIJING}")   # Monday: Thursday's reminder was missed
    runner.tick()
    assert recorder.of("remind") == []                 # never a reminder for a week already over
    assert [c[1] for c in recorder.of("digest")] == ["2026-11-30"]
    assert [c[1] for c in recorder.of("weekly-summary")] == ["2026-W48"]


def test_a_missed_reminder_is_sent_the_next_day_of_the_same_week(workspace, monkeypatch) -> None:
    runner, recorder = started(workspace, monkeypatch, f"2026-11-26T09:00:00{BEIJING}")
    at(monkeypatch, f"2026-11-27T09:00:00{BEIJING}")   # Friday: Thursday 16:00 passed while down
    runner.tick()
    runner.tick()
    assert [c[1] for c in recorder.of("remind")] == ["2026-W48"]


def test_the_last_run_of_every_job_is_in_the_ledger(workspace, monkeypatch) -> None:
    started(workspace, monkeypatch, f"2026-11-26T10:00:00{BEIJING}")
    with Ledger(workspace.ledger) as ledger:
        last = ledger.last_runs()
    assert last["digest"]["period"] == "2026-11-26" and last["digest"]["outcome"] == "ok"
    assert last["cycle"]["period"] == "2026-11-26T10:00"


# --- error isolation ---------------------------------------------------------------

def test_a_job_that_raises_is_recorded_and_the_others_still_run(workspace, monkeypatch) -> None:
    recorder = Recorder()
    functions = recorder.functions()

    def broken(ctx, period):
        raise RuntimeError("模板损坏")

    functions["cycle"] = broken
    runner = scheduler.Runner(workspace.settings, functions=functions)
    at(monkeypatch, f"2026-11-26T10:00:00{BEIJING}")
    outcomes = {o.job: o.result for o in runner.tick()}
    assert outcomes["cycle"] == "failed" and outcomes["digest"] == "ok"
    with Ledger(workspace.ledger) as ledger:
        (run,) = ledger.runs_of("cycle", "2026-11-26T10:00")
    assert run["outcome"] == "failed" and "模板损坏" in run["error"]


def test_a_failed_slot_is_tried_again_later_but_not_forever(workspace, monkeypatch) -> None:
    calls = []

    def broken(ctx, period):
        calls.append(period)
        raise RuntimeError("down")

    runner = scheduler.Runner(workspace.settings, functions={**Recorder().functions(), "digest": broken})
    for minute in (31, 32, 40, 50, 59):
        at(monkeypatch, f"2026-11-26T08:{minute:02d}:00{BEIJING}")
        runner.tick()
    assert calls == ["2026-11-26"] * 3               # spaced by 5 minutes, at most 3 tries


def test_a_hung_job_times_out_and_does_not_block_the_loop(workspace, monkeypatch) -> None:
    release = threading.Event()
    recorder = Recorder()
    functions = recorder.functions()
    functions["cycle"] = lambda ctx, period: release.wait(30)
    runner = scheduler.Runner(workspace.settings, functions=functions, timeout=0.2)
    try:
        at(monkeypatch, f"2026-11-26T10:00:00{BEIJING}")
        outcomes = {o.job: o.result for o in runner.tick()}
        assert outcomes == {"cycle": "timeout", "digest": "ok"}
        at(monkeypatch, f"2026-11-26T10:15:00{BEIJING}")
        skipped = runner.tick()
        assert [(o.job, o.result) for o in skipped] == [("cycle", "skipped")]   # still hung: not stacked
    finally:
        release.set()


def test_the_next_digest_shows_a_failed_job(workspace, monkeypatch) -> None:
    workspace.make_workbook([material()])
    functions = {**scheduler.JOBS, "cycle": lambda ctx, period: (_ for _ in ()).throw(RuntimeError("工作簿损坏"))}
    runner = scheduler.Runner(workspace.settings, functions=functions)
    at(monkeypatch, f"2026-11-26T08:15:00{BEIJING}")
    runner.tick()
    at(monkeypatch, f"2026-11-26T08:31:00{BEIJING}")
    runner.tick()
    digest = next(workspace.settings.mail.outbox.glob("*-digest-*.eml")).read_bytes()
    from email import policy
    from email.parser import BytesParser

    text = BytesParser(policy=policy.default).parsebytes(digest).get_body(("plain",)).get_content()
    assert "自动任务异常" in text and "工作簿损坏" in text


# --- one instance at a time ----------------------------------------------------------

def start_run(workspace: Workspace) -> subprocess.Popen:
    env = {**os.environ, "PIPELINE_NOW": f"2026-11-28T12:00:00{BEIJING}", "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen([sys.executable, str(PROJECT / "run.py"), "--config", str(workspace.config_path), "run"],
                            cwd=workspace.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8")


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_a_second_instance_is_refused_while_one_holds_the_lock_and_sigkill_frees_it(workspace) -> None:
    workspace.make_workbook([material()])
    holder = start_run(workspace)
    info = Path(f"{workspace.ledger}.lock.info")
    try:
        wait_for(info.exists)
        second = workspace.cli("once", env={"PIPELINE_NOW": f"2026-11-28T12:00:00{BEIJING}"})
        assert second.returncode == 1
        assert f"PID {holder.pid}" in second.stderr and "另一个实例正在运行" in second.stderr
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        third = workspace.cli("once", env={"PIPELINE_NOW": f"2026-11-28T12:00:00{BEIJING}"})
        assert third.returncode == 0, third.stderr
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=10)


def test_sigterm_stops_run_within_seconds_with_exit_0(workspace) -> None:
    workspace.make_workbook([material()])
    process = start_run(workspace)
    try:
        wait_for(Path(f"{workspace.ledger}.lock.info").exists)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - began < 5
        assert not Path(f"{workspace.ledger}.lock.info").exists()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_sigterm_during_a_publish_batch_finishes_the_message_and_records_every_state(workspace, smtp_server) -> None:
    media = [{"outlet": f"媒体{i}", "email": f"m{i}@news.example", "kinds": "全部", "enabled": "是"}
             for i in range(8)]
    workspace.make_workbook([material()], media=media)
    settings = smtp_server.configure(workspace)
    workspace.configure("mail", rate_per_minute=120)     # half a second between messages
    run_job(settings, pulling.pull)
    run_job(settings, publishing.draft)
    run_job(settings, decisions.review, "D-2026-000001", "通过", reviewer="符贤")
    env = {**os.environ, "PIPELINE_NOW": os.environ["PIPELINE_NOW"], "PYTHONIOENCODING": "utf-8"}
    process = subprocess.Popen([sys.executable, str(PROJECT / "run.py"), "--config", str(workspace.config_path),
                                "publish"], cwd=workspace.root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        media_received = lambda: [r for r in smtp_server.handler.recipients() if r.endswith("@news.example")]  # noqa: E731
        wait_for(lambda: len(media_received()) >= 2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    with Ledger(workspace.ledger) as ledger:
        states = {d["recipient"]: d["state"] for d in ledger.deliveries("release/")}
    received = media_received()
    assert 2 <= len(received) < 8
    assert {r for r, s in states.items() if s == "sent"} == set(received)
    assert {s for r, s in states.items() if r not in received} == {"queued"}   # nothing half-recorded
    run_job(workspace.settings, publishing.publish)
    assert sorted(media_received()) == sorted(f"m{i}@news.example" for i in range(8))


# --- summaries ---------------------------------------------------------------------------

def test_summary_figures_equal_what_the_ledger_holds(workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    settings = workspace.settings
    run_job(settings, pulling.pull)
    run_job(settings, publishing.draft)
    for draft_id in ("D-2026-000003", "D-2026-000006"):
        run_job(settings, decisions.review, draft_id, "通过", reviewer="符贤")
    run_job(settings, publishing.publish)
    run = run_job(settings, summaries.summary, "weekly", "2026-W48")
    assert run.queued == 1
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.default).parsebytes(
        next(settings.mail.outbox.glob("*-summary-*.eml")).read_bytes())
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv" and attachment.get_filename().endswith("2026-W48.csv")
    rows = list(csv.reader(io.StringIO(attachment.get_payload(decode=True).decode("utf-8-sig"))))[1:]
    figures = {(r[0], r[1], r[2]): int(r[3]) for r in rows}
    with Ledger(workspace.ledger) as ledger:
        per_team = dict(ledger.db.execute(
            "SELECT team, COUNT(*) FROM submissions WHERE state = 'valid' AND removed_at IS NULL "
            "AND week = '2026-W48' GROUP BY team").fetchall())
        per_outlet = dict(ledger.db.execute(
            "SELECT name, COUNT(*) FROM deliveries WHERE key LIKE 'release/%' AND state = 'sent' "
            "GROUP BY name").fetchall())
        per_kind = ledger.db.execute(
            "SELECT COUNT(*) FROM submissions WHERE team = '执行一组' AND kind = '执行不能' AND state = 'valid'"
        ).fetchone()[0]
    assert {t: figures[("部门报送", t, "合计")] for t in per_team} == per_team
    assert {o: figures[("媒体发布", o, "发稿数")] for o in per_outlet} == per_outlet
    assert figures[("媒体发布", "合计", "发布稿件数")] == 2
    assert figures[("部门报送", "执行一组", "执行不能")] == per_kind
    assert figures[("部门报送", "执行四组", "未达标周数")] == 1
    text = message.get_body(("plain",)).get_content()
    assert "执行一组：共 4 条" in text and "2026年第48周" in text


def test_the_weekly_summary_goes_to_the_leaders_and_the_monthly_report_to_the_leaders_and_the_higher_court(
        workspace) -> None:
    """四(六): the monthly report goes to the leaders and the higher court's office (it used to skip the leaders)."""
    workspace.configure("summaries", leaders=["张光亲 <zhangguangqin@court.example>"])
    workspace.configure("summaries", higher_court=["hnfy@court.example"])
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    weekly = run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    monthly = run_job(workspace.settings, summaries.summary, "monthly", "2026-11")
    assert sorted(o.recipient for o, _ in weekly.report.results) == ["office@court.example",
                                                                     "zhangguangqin@court.example"]
    assert sorted(o.recipient for o, _ in monthly.report.results) == ["hnfy@court.example", "office@court.example",
                                                                      "zhangguangqin@court.example"]
    assert run_job(workspace.settings, summaries.summary, "weekly", "2026-W48").queued == 0     # once per period
