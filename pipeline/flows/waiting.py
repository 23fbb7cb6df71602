"""A write-back that waits: what the ledger keeps about it, and the office's line about it.

The pull (``pulling``) records since when and why the workbook would not take its 编号 and 状态 cells
(docs/architecture.md, "The open workbook"); ``status`` and the digest say so. Its own module so that
``status`` reads the line without loading intake and the sheet's sources.
"""

from __future__ import annotations

import json
from datetime import datetime

from ..ledger import Ledger

WRITE_BACK_WAITING = "writeback_waiting"     # the ledger's meta keys: since when and why the write-back waits,
UNWRITTEN = "unwritten_ids"                  # and the IDs not in the sheet yet, with their keys and rows


def waiting_note(ledger: Ledger) -> str:
    """The office's line about a write-back that waits, or ``""``."""
    recorded = ledger.meta(WRITE_BACK_WAITING)
    if not recorded:
        return ""
    waiting = json.loads(recorded)
    return waiting_text(datetime.fromisoformat(waiting["since"]), int(waiting.get("cells", 0)), waiting["reason"])


def waiting_text(since: datetime, cells: int, reason: object) -> str:
    """What is done, what is not, what happens next, when the write-back waits."""
    return (f"编号和状态尚未写回工作簿（自 {since:%m月%d日 %H:%M} 起等待，待写 {cells} 格）：{reason}。"
            "读到的素材已记账，定时任务照常起草稿件；写回恢复后，各行写上记账时给的编号，期间的修改不会被覆盖")
