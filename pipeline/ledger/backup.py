"""Copies of the ledger made while it is in use: SQLite's online backup API, never a file copy.

A file copy of a ledger in WAL mode can miss the writes still in its -wal file, or catch a page half
written; ``sqlite3.Connection.backup`` reads one consistent snapshot (the latest commit, the -wal file's
included) while other processes go on writing. The copy is a single self-contained file (rollback journal,
no -wal to carry along), owner-only like the ledger, and appears under its name only once it is complete.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from ..core.files import private, private_folder


def backup(db: sqlite3.Connection, target: Path) -> int:
    """Copy the open ledger ``db`` to ``target`` (replaced whole if it exists); returns its size in bytes.

    Raises ``sqlite3.Error`` or ``OSError``; a failed backup leaves no file behind.
    """
    private_folder(target.parent)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)   # 0600
    os.close(handle)
    try:
        copy = sqlite3.connect(temp, isolation_level=None)
        try:
            db.backup(copy)                                  # one step: one read snapshot of the whole ledger
            copy.execute("PRAGMA journal_mode=DELETE")       # one file: no -wal beside the copy
        finally:
            copy.close()
        with open(temp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temp, target)
    except BaseException:
        for leftover in (temp, f"{temp}-journal", f"{temp}-wal", f"{temp}-shm"):
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        raise
    private(target)
    return target.stat().st_size


def free_name(folder: Path, stem: str, suffix: str = ".sqlite3") -> Path:
    """``folder/stem.sqlite3``, or ``stem-2.sqlite3``, … when that is taken: a backup never replaces another."""
    candidate, counter = folder / f"{stem}{suffix}", 1
    while candidate.exists():
        counter += 1
        candidate = folder / f"{stem}-{counter}{suffix}"
    return candidate
