"""The ledger: SQLite (standard library), WAL mode, forward-only migrations.

The ledger is the pipeline's memory: every version of every submission, the
teams, media contacts, activities and review rows last read, the row errors
of the latest pull, and an append-only audit log of what every job did.
Writes are keyed on stable IDs so that running a job twice is always safe.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ..core.config import LedgerSettings
from ..core.errors import LedgerError
from ..core.files import private_file, private_folder
from .backup import backup, free_name
from .briefs import BriefStore
from .channels import ChannelStore
from .drafts import DraftStore
from .invitations import InvitationStore
from .mail import MailStore
from .runs import RunStore
from .schema import MIGRATIONS, statements
from .submissions import SubmissionStore

log = logging.getLogger(__name__)


def trouble(path: Path | None, exc: Exception, *, wait: float | None = None) -> str:
    """What went wrong with the ledger, and what to do, in words a clerk and the IT person can act on.
    A job that failed this way rolled its transaction back: nothing is half-done."""
    where = str(path) if path else "账本数据库"
    reason = str(exc).split(" with text ")[0]          # never echo a damaged page's bytes
    if "locked" in reason or "busy" in reason:
        waited = f"超过 {wait:g} 秒（配置 [ledger] wait_seconds）" if wait else "过久"
        return (f"{where}: 账本正被另一个程序占用{waited}，本次未完成（已全部撤销），请稍后再试；"
                "定时任务下一轮会自动重试")
    lowered = reason.lower()
    if "readonly" in lowered or "read-only" in lowered or isinstance(exc, PermissionError) \
            or ("unable to open" in lowered and path is not None and _folder_read_only(path)):
        return f"{where}: 账本文件或其所在文件夹为只读，无法记账，本次未完成；请让管理员恢复写权限"
    if "full" in lowered or (path is not None and _disk_nearly_full(path)):
        return f"{where}: 磁盘已满，无法记账，本次未完成（已全部撤销）；请清理磁盘后重试"
    if "unable to open" in lowered or isinstance(exc, OSError):
        return (f"{where}: 无法打开账本数据库（{reason}）：请检查 [ledger] path 所在的文件夹能否创建、"
                "是否有写权限、网络盘是否连着；本次未完成")
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered \
            or isinstance(exc, UnicodeDecodeError):            # a damaged page's text no longer reads
        reason = "数据页损坏" if isinstance(exc, UnicodeDecodeError) else reason
        return (f"{where}: 账本数据库已损坏（{reason}），本次未完成（已全部撤销）。"
                "请先停止定时任务，删除它旁边的 -wal、-shm 文件，再用最近的备份替换该文件（见使用指南第七节）")
    return (f"{where}: 账本数据库读写出错（{reason}），本次未完成（已全部撤销）。常见原因是磁盘空间或配额不足、"
            "网络盘断开：请先检查磁盘后重试；反复出现时，再请管理员检查该文件是否损坏")


def _folder_read_only(path: Path) -> bool:
    """Whether the ledger's folder exists but takes no new file (SQLite must create its -wal and -shm there)."""
    return path.parent.is_dir() and not os.access(path.parent, os.W_OK)


def _disk_nearly_full(path: Path) -> bool:
    """Whether the ledger's disk has too little room left for a transaction: SQLite reports a full disk as a
    'disk I/O error' when it cannot even grow its shared-memory file."""
    try:
        return shutil.disk_usage(path.parent).free < 2**20
    except OSError:
        return False


class Ledger(SubmissionStore, MailStore, DraftStore, RunStore, ChannelStore, BriefStore, InvitationStore):
    """One open ledger; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, *, wait: float = 30.0) -> None:
        self.path = Path(path)
        self.wait = wait
        self._relaxed = False
        try:
            # Personal data: a new ledger is the running account's alone (0600 in a folder it made 0700), and
            # SQLite gives its -wal and -shm files the ledger's own permissions.
            private_folder(self.path.parent)
            private_file(self.path)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=wait)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            # Every commit reaches the disk before the next step: a 'sending' mark lost to a power cut
            # would let a message that went out be sent again.
            self.db.execute("PRAGMA synchronous=FULL")
        except (sqlite3.Error, OSError, UnicodeDecodeError) as exc:   # the last: text in a damaged page
            raise LedgerError(trouble(self.path, exc, wait=wait)) from None
        self.db.row_factory = sqlite3.Row
        self._migrate()

    @classmethod
    def of(cls, settings: LedgerSettings) -> Ledger:
        """The ledger ``[ledger]`` names, waiting as long as it says for another program's write."""
        return cls(settings.path, wait=settings.wait_seconds)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- schema --------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise LedgerError(
                f"{self.path}: 账本的结构版本为 {current}，比本程序（{len(MIGRATIONS)}）新；请升级程序"
            )
        if 0 < current < len(MIGRATIONS):
            self._backup_before_upgrade(current)
        for version in range(current, len(MIGRATIONS)):
            with self.transaction():
                for statement in statements(MIGRATIONS[version]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {version + 1}")

    def _backup_before_upgrade(self, current: int) -> Path:
        """A ledger in use is copied as it is before its schema changes (a fresh one, version 0, is not): an
        upgrade that goes wrong, or a program that must be put back, finds the old ledger whole in ``backups``."""
        target = free_name(self.backups, f"{self.path.stem}.v{current}-before-v{len(MIGRATIONS)}")
        try:
            backup(self.db, target)
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(
                f"{self.path}: 账本结构升级（第 {current} 版 → 第 {len(MIGRATIONS)} 版）前无法备份到 {target}"
                f"（{exc}），账本未作改动；请检查磁盘空间和该文件夹的写权限后重试") from None
        log.warning("账本结构将从第 %d 版升级到第 %d 版；升级前的账本已备份到 %s", current, len(MIGRATIONS), target)
        return target

    @property
    def backups(self) -> Path:
        """The folder beside the ledger that its backups go to."""
        return self.path.parent / "backups"

    def backup(self, target: Path) -> int:
        """Copy the ledger, as it is now, to ``target`` with SQLite's online backup (``ledger/backup.py``);
        other processes may go on writing meanwhile. Returns the copy's size in bytes."""
        return backup(self.db, target)

    @contextmanager
    def relaxed(self, relax: bool = True) -> Iterator[None]:
        """Inside the block (when ``relax``), commits do not wait for the disk (``synchronous=NORMAL``).

        With WAL a commit is still whole and survives the process being killed; only a power cut or an OS
        crash can take back the last commits. That is for work nothing outside the machine has seen (mail
        written to the outbox and the drafts it announces), and for the 'sending' mark of a delivery whose
        reservation waited for the disk (flows/dispatch.py; docs/architecture.md, "Durability"). A block
        inside another is part of it."""
        if not relax or self._relaxed:
            yield
            return
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._relaxed = True
        try:
            yield
        finally:
            self._relaxed = False
            self.db.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def durable(self, durable: bool = True) -> Iterator[None]:
        """Inside a :meth:`relaxed` block, commits made in this one (when ``durable``) wait for the disk again."""
        if not durable or not self._relaxed:
            yield
            return
        self.db.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            self.db.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back whole on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- audit ---------------------------------------------------------------

    def audit(self, at: datetime, job: str, action: str, subject: object = "", **detail: object) -> None:
        self.db.execute(
            "INSERT INTO audit (at, job, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            (at.isoformat(), job, action, str(subject), json.dumps(detail, ensure_ascii=False, default=str)),
        )

    def last_audit(self, job: str, action: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM audit WHERE job = ? AND action = ? ORDER BY id DESC LIMIT 1",
                               (job, action)).fetchone()

    def audit_log(self, limit: int = 50) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
