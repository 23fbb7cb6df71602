"""Exactly once across processes: the scheduler's cycle and a clerk's command, started together.

Real processes (the command line) against a real SMTP server on 127.0.0.1: every
copy the server received is counted per (message, recipient).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from conftest import NOW, PROJECT, Workspace, material, run_job

from pipeline.flows import decisions, publishing, pulling
from pipeline.ledger import Ledger

OUTLETS = 120


def media(count: int) -> list[dict[str, str]]:
    return [{"outlet": f"媒体{i:03d}", "contact": "", "email": f"desk{i:03d}@media.example", "kinds": "全部",
             "enabled": "是"} for i in range(count)]


@pytest.fixture
def approved(workspace: Workspace, smtp_server) -> tuple[Workspace, object]:
    """Three approved releases, each for OUTLETS outlets, mailed through the test server."""
    settings = smtp_server.configure(workspace)
    workspace.make_workbook([material(case_number=f"（2026）琼9003执{1234 + i}号", title=f"第{i + 1}篇")
                             for i in range(3)], media=media(OUTLETS))
    run_job(settings, pulling.pull)
    for draft_id in run_job(settings, publishing.draft).drafted:
        run_job(settings, decisions.review, draft_id, "通过", reviewer="符贤")
    smtp_server.handler.messages.clear()
    return workspace, smtp_server


def start(workspace: Workspace, command: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PIPELINE_NOW": NOW, "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen([sys.executable, str(PROJECT / "run.py"), "--config", str(workspace.config_path), command],
                            cwd=workspace.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8")


@pytest.mark.parametrize("commands", [("publish", "publish"), ("once", "publish"), ("publish", "publish", "publish")],
                         ids=["publish+publish", "once+publish", "three publishes"])
def test_senders_started_together_send_every_copy_once(approved, commands: tuple[str, ...]) -> None:
    workspace, server = approved
    processes = [start(workspace, command) for command in commands]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert "Traceback" not in err, err

    media_copies = Counter((m.parse()["Subject"], rcpt) for m in server.handler.messages for rcpt in m.rcpt_tos
                           if rcpt.endswith("@media.example"))
    assert [key for key, n in media_copies.items() if n > 1] == []          # nothing twice
    assert len(media_copies) == 3 * OUTLETS                                 # nothing lost
    with Ledger(workspace.ledger) as ledger:
        states = Counter(r["state"] for r in ledger.deliveries("release/"))
    assert states == {"sent": 3 * OUTLETS}
