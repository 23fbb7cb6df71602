"""An unchanged workbook costs a hash: a pull whose workbook, config, day, program and ledger are those of the
last pull that found nothing to do ends there, reporting and recording what reading it would have.

Whether the sheet was read is seen by whether intake ran (``pulling.take_in``); what a pull reports, records
and writes is compared with the full path's on the same inputs.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import Workspace, material, run_job

from pipeline.core.layout import REVIEWS, SUBMISSIONS
from pipeline.flows import publishing, pulling
from pipeline.ledger import Ledger

MEDIA = [{"outlet": "儋州融媒", "contact": "陈编辑", "email": "news@media.example", "kinds": "全部", "enabled": "是"}]


@pytest.fixture
def intake_runs(monkeypatch) -> list[int]:
    """How many times a pull read the sheet through intake."""
    runs: list[int] = []
    original = pulling.take_in

    def counted(*args, **kwargs):
        runs.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(pulling, "take_in", counted)
    return runs


@pytest.fixture
def settled(workspace: Workspace) -> Workspace:
    """Two rows taken in (one of them invalid, so there are row errors), and a second pull that found
    nothing to do: the workbook as the pipeline left it."""
    workspace.make_workbook([material(), material(title="第二案 被执行人主动履行", process="", submitted_at=None,
                                                  case_number="（2026）琼9003执1300号")], media=MEDIA,
                            reviews=[{"draft_id": "D-2026-000077", "decision": "通过", "reviewer": "符贤",
                                      "code": "ABCDEF"}])
    first = run_job(workspace.settings, pulling.pull)
    assert first.cells_written
    second = run_job(workspace.settings, pulling.pull)
    assert second.cells_written == 0
    with Ledger(workspace.ledger) as ledger:
        assert ledger.meta(pulling.FINGERPRINT) is not None
    return workspace


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every table of a ledger, row by row (the audit's IDs aside: they only count)."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: sorted(tuple(r) for r in db.execute(
            f"SELECT * FROM {table}" if table != "audit" else "SELECT at, job, action, subject, detail FROM audit"))
            for table in tables}


def test_an_unchanged_workbook_is_not_read_and_the_pull_reports_and_records_what_reading_it_would(
        settled: Workspace, intake_runs: list[int], tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.mkdir()
    for path in (settled.ledger, settled.workbook):
        shutil.copy2(path, kept / path.name)

    hashed = run_job(settled.settings, pulling.pull)
    assert intake_runs == []                              # the workbook's hash was enough
    by_hash = (dump(settled.ledger), settled.workbook.read_bytes())

    for path in (settled.ledger, settled.workbook):      # the same moment again, the fingerprint forgotten
        shutil.copy2(kept / path.name, path)
    with Ledger(settled.ledger) as ledger, ledger.transaction():
        ledger.delete_meta(pulling.FINGERPRINT)
    read = run_job(settled.settings, pulling.pull)
    assert intake_runs == [1]                             # read in full this time

    assert hashed == read
    assert (hashed.rows, hashed.accepted, hashed.flagged, hashed.cells_written) == (2, 1, 1, 0)
    assert by_hash == (dump(settled.ledger), settled.workbook.read_bytes())


def test_an_edit_in_the_workbook_is_read(settled: Workspace, intake_runs: list[int]) -> None:
    settled.edit(SUBMISSIONS, 2, outcome="当场履行30万元，案件执行完毕。")

    summary = run_job(settled.settings, pulling.pull)

    assert intake_runs == [1] and summary.changed == 1
    assert [r.get("status") for r in settled.rows()][0] == "已受理（第2版）"


def test_a_changed_config_reads_the_workbook_again(settled: Workspace, intake_runs: list[int]) -> None:
    assert "不存在" in settled.rows(REVIEWS)[0]["status"]
    settled.configure("review", reviewers=["高琼芳"])

    run_job(settled.settings, pulling.pull)

    assert intake_runs == [1]
    assert settled.rows(REVIEWS)[0]["status"] == "无效：符贤 不在办公室审核人名单中"


def test_a_new_day_reads_the_workbook_again(settled: Workspace, intake_runs: list[int], monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-27T10:00:00+08:00")          # Friday, the same week
    run_job(settled.settings, pulling.pull)
    assert intake_runs == [1]
    run_job(settled.settings, pulling.pull)
    assert intake_runs == [1]                                             # and that day's pull is kept

    monkeypatch.setenv("PIPELINE_NOW", "2026-11-30T09:00:00+08:00")          # Monday: a row without a time
    run_job(settled.settings, pulling.pull)                               # counts in the week it is seen in
    assert intake_runs == [1, 1]
    with Ledger(settled.ledger) as ledger:
        assert [e["week"] for e in ledger.row_errors() if e["tab_key"] == "submissions"] == ["2026-W49"]


def test_a_change_in_the_ledger_reads_the_workbook_again(settled: Workspace, intake_runs: list[int]) -> None:
    """A 审核 row naming a draft not made yet is judged again once the draft exists, though the workbook is
    the same."""
    draft_id = "D-2026-000001"
    settled.edit(REVIEWS, 3, draft_id=draft_id, decision="通过", reviewer="符贤",
                 code=settled.review_code(draft_id))
    run_job(settled.settings, pulling.pull)
    run_job(settled.settings, pulling.pull)
    assert "不存在" in settled.rows(REVIEWS)[1]["status"]
    runs = len(intake_runs)

    assert run_job(settled.settings, publishing.draft).drafted == [draft_id]
    run_job(settled.settings, pulling.pull)

    assert len(intake_runs) == runs + 1
    assert "不存在" not in settled.rows(REVIEWS)[1]["status"]


def test_a_write_back_that_waits_is_tried_again_on_the_same_workbook(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    lock = workspace.workbook.with_name(f".~lock.{workspace.workbook.name}#")
    lock.write_text("陈编辑,host,", encoding="utf-8")
    assert run_job(workspace.settings, pulling.pull).waiting is not None
    assert run_job(workspace.settings, pulling.pull).waiting is not None
    lock.unlink()

    summary = run_job(workspace.settings, pulling.pull)

    assert summary.waiting is None and summary.cells_written == 2
    assert [r.get("id") for r in workspace.rows()] == ["S-2026-000001"]
