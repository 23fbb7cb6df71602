"""A flush reads its messages a page at a time (``dispatch.PAGE``), and a draft run its submissions
(``publishing.PAGE``), so what they hold does not grow with the batch; a draft run records its drafts a few at a
time (``publishing.RECORD_EVERY``).

The same batch drafted and flushed in pages of two and in one page leaves the same ledger and the same outbox, byte for
byte: drafts mailed to the office, and one release to more outlets than a page holds, its .docx and all.
No time or memory is asserted here (bench row e measures the peak).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import Workspace, material, run_job

from pipeline.flows import decisions, dispatch, publishing, pulling
from pipeline.ledger import Ledger
from pipeline.mail.transport import OutboxTransport

SUBMISSIONS = 5
OUTLETS = 7


def rows() -> list[dict]:
    return [material(title=f"拖欠货款三年 被执行人主动履行{20 + i}万元", case_number=f"（2026）琼9003执{1200 + i}号",
                     outcome=f"当场履行{20 + i}万元，案件执行完毕。",
                     submitted_at=datetime(2026, 11, 24, 9, 30) + timedelta(minutes=i)) for i in range(SUBMISSIONS)]


MEDIA = [{"outlet": f"媒体{i:02d}", "contact": "编辑", "email": f"desk{i:02d}@media.example", "kinds": "全部",
          "enabled": "是"} for i in range(OUTLETS)]


def pulled(root: Path) -> Workspace:
    root.mkdir()
    workspace = Workspace.create(root)
    workspace.make_workbook(rows(), media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    return workspace


def cycle(workspace: Workspace) -> None:
    """Drafts for every row, mailed to the office; the first approved and published to every outlet."""
    settings = workspace.settings
    drafted = run_job(settings, publishing.draft).drafted
    assert len(drafted) == SUBMISSIONS
    run_job(settings, decisions.review, drafted[0], "通过", reviewer="符贤")
    run = run_job(settings, publishing.publish, transport=OutboxTransport(workspace.root / "media-outbox"))
    assert run.report.counts["sent"] == OUTLETS + 1          # the outlets and the national network


def ledger_state(workspace: Workspace) -> list:
    with Ledger(workspace.ledger) as ledger:
        deliveries = [tuple(r) for r in ledger.db.execute(
            "SELECT key, recipient, name, subject, state, attempts, detail, message_id, sent_at FROM deliveries "
            "ORDER BY rowid")]
        bodies = [tuple(r) for r in ledger.db.execute("SELECT key, recipient, text, html FROM delivery_bodies "
                                                      "ORDER BY key, recipient")]
    return [deliveries, bodies]


def files(folder: Path) -> dict[str, bytes]:
    """Every file of an outbox but the index's record of the files' sizes and times (``.index.json``), which
    differ between two folders written at different moments."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != OutboxTransport.INDEX_CACHE}


def test_a_batch_larger_than_a_page_leaves_the_ledger_and_the_outbox_as_one_page_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = pulled(tmp_path / "whole")
    shutil.copytree(whole.root, tmp_path / "paged")            # the same ledger (its review secret included)
    paged = Workspace(tmp_path / "paged", tmp_path / "paged" / whole.config_path.name,
                      tmp_path / "paged" / whole.workbook.relative_to(whole.root),
                      tmp_path / "paged" / whole.ledger.relative_to(whole.root))
    for module in (dispatch, publishing):
        monkeypatch.setattr(module, "PAGE", 10_000)
    monkeypatch.setattr(publishing, "RECORD_EVERY", 10_000)
    cycle(whole)
    for module in (dispatch, publishing):
        monkeypatch.setattr(module, "PAGE", 2)
    monkeypatch.setattr(publishing, "RECORD_EVERY", 2)
    cycle(paged)

    assert ledger_state(paged) == ledger_state(whole)
    for name in ("outbox", "media-outbox"):
        expected = files(tmp_path / "whole" / name)
        assert len([f for f in expected if f.endswith(".eml")]) >= SUBMISSIONS
        assert files(tmp_path / "paged" / name) == expected
