"""Keeping the ledger safe: a backup on demand (``python run.py backup``), while the service runs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..core.errors import LedgerError, UsageError
from ..ledger.backup import free_name
from .context import Context


def backup(ctx: Context, to: Path | None = None) -> tuple[Path, int]:
    """Copy the ledger with SQLite's online backup; returns where to and its size in bytes.

    ``to`` is a file (replaced whole if it exists) or a folder; by default the copy goes to the ``backups``
    folder beside the ledger, named by the moment (``ledger-20261126-100000.sqlite3``), never over another.
    Other commands and the service may write meanwhile: the copy holds every commit made before it began.
    """
    ledger = ctx.ledger
    stem = f"{ledger.path.stem}-{ctx.at:%Y%m%d-%H%M%S}"
    if to is None:
        target = free_name(ledger.backups, stem)
    elif to.is_dir():
        target = free_name(to, stem)
    else:
        target = to
    own = [Path(f"{ledger.path}{tail}").resolve() for tail in ("", "-wal", "-shm", "-journal")]
    if target.resolve() in own:
        raise UsageError(f"{target}: 这是账本本身，不能把备份写在这里；请换一个文件名或文件夹")
    try:
        size = ledger.backup(target)
    except (sqlite3.Error, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LedgerError(f"{target}: 备份未完成（{reason}），没有留下不完整的文件；"
                          "请检查该位置的磁盘空间和写权限后重试") from None
    with ledger.transaction():
        ledger.audit(ctx.at, "backup", "written", os.fspath(target), size=size)
    return target, size
