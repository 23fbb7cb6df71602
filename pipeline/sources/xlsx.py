"""The local workbook (.xlsx) on a disk or a shared drive, through openpyxl.

Reading loads the file's bytes once and parses them in openpyxl's read-only
mode, so a copy being synced or saved while we read can never give us half
of two versions. Writing re-reads the file, refuses if it changed since the
fetch or if an office suite holds its lock file, edits only the owned cells
in the sheets' XML (``xlsx_cells``: pictures, charts, formulas and their
cached results, other sheets and columns stay byte for byte), and replaces
the file atomically. A package laid out in a way that edit does not handle
is written through a full openpyxl load and save instead.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from ..core.config import COMMAND
from ..core.errors import SourceBusy, SourceChanged, SourceError
from ..core.grid import CellUpdate, Saved, SheetData, TabData
from . import Bounds, bounded_rows
from .xlsx_cells import Unsupported, write_cells
from .xlsx_rows import RowReader

log = logging.getLogger(__name__)
# The temporary copy a write-back makes beside the workbook, and how old one must be to be a leftover.
TEMP_PREFIX = ".~pipeline-"
STALE_TEMPORARY = 3600.0

# What a damaged or half-synced workbook raises while it is read: a broken zip, a damaged deflate stream
# (zlib.error), XML that does not parse (control characters in a sheet), a missing part, a zip entry of a
# method or version zipfile does not know (NotImplementedError, a RuntimeError), a garbled header (struct), a
# cell naming a shared string the package does not hold (IndexError).
_UNREADABLE = (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, InvalidFileException, KeyError, IndexError,
               ValueError, EOFError, OSError, RuntimeError, struct.error)


class XlsxSource:
    """A workbook file; ``tz`` is kept for symmetry with the Sheets backend."""

    def __init__(self, path: Path, tz: ZoneInfo, *, max_bytes: int = 200 * 2**20, bounds: Bounds = Bounds()) -> None:
        self.path = Path(path)
        self.tz = tz
        self.max_bytes = max_bytes
        self.bounds = bounds
        self._held: bytes | None = None          # the bytes :meth:`peek` read, for the fetch that follows it

    def describe(self) -> str:
        return str(self.path)

    # -- reading -----------------------------------------------------------

    def peek(self) -> SheetData:
        """What :meth:`fetch` would read, named by its version (the file's hash) and not parsed: no tabs.

        The bytes are kept, so that a fetch after it parses exactly what was hashed."""
        self._held = self._read_bytes()
        return SheetData(tabs={}, version=hashlib.sha256(self._held).hexdigest())

    def fetch(self, wanted: Callable[[str], bool]) -> SheetData:
        data, self._held = self._held or self._read_bytes(), None
        self._check_size(data)
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except _UNREADABLE as exc:
            raise SourceError(
                f"{self.path}: 无法读取工作簿（{_reason(exc)}）；文件可能正在同步或已损坏，下一轮将重试"
            ) from None
        try:
            tabs: dict[str, TabData] = {}
            meter = _TextMeter(self.path, self.max_bytes)
            # Rows this process parsed at the last read and whose XML is the same are not parsed again.
            reader = RowReader(book, str(self.path.resolve()))
            for sheet in book.worksheets:
                if not wanted(sheet.title):
                    continue
                # Row by row, so that a tab beyond [sheet] max_rows or max_columns stops being kept at once;
                # the sheet's <dimension> is not trusted (some writers leave a wrong one).
                rows = bounded_rows(str(self.path), sheet.title, meter.rows(reader.rows(sheet)), self.bounds)
                tabs[sheet.title] = TabData(sheet.title, rows)
            reader.keep()
        except _UNREADABLE as exc:
            raise SourceError(f"{self.path}: 工作簿内容无法解析（{_reason(exc)}），下一轮将重试") from None
        finally:
            book.close()
        return SheetData(tabs=tabs, version=hashlib.sha256(data).hexdigest())

    def _check_size(self, data: bytes) -> None:
        """Refuse a workbook that unpacks to more than ``max_bytes`` before reading it: a few hundred
        kilobytes of zip can hold gigabytes of repeated text, and every cell would be read into memory."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except _UNREADABLE:
            return                                 # not a zip at all: the reader says so in its words
        if unpacked > self.max_bytes:
            raise SourceError(f"{self.path}: 工作簿解压后将有 {unpacked / 2**20:.0f} MB，超过上限 "
                              f"{self.max_bytes / 2**20:.0f} MB（配置 [sheet] max_mb），不予读取：文件可能已损坏，"
                              "或有人粘贴了异常内容；下一轮将重试") from None

    def _read_bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            raise SourceError(f"{self.path}: 工作簿不存在：请检查配置 [sheet] path、网络盘是否连着，或从备份恢复该文件"
                              f"（初次使用时 {COMMAND} init 可创建；已在使用时请勿重新创建，否则各行将被当作删除）"
                              ) from None
        except PermissionError:
            raise SourceBusy(f"{self.path}: 工作簿被占用或无权读取，下一轮将重试") from None
        except OSError as exc:
            raise SourceError(f"{self.path}: 无法读取工作簿（{exc.strerror}），下一轮将重试") from None

    # -- writing -----------------------------------------------------------

    def save(self, snapshot: SheetData, updates: Sequence[CellUpdate]) -> Saved:
        """Write ``updates`` in place, all of them or none (a workbook has no cells we may not write)."""
        if not updates:
            return Saved()
        holder = self.lock_holder()
        if holder:
            raise SourceBusy(f"{self.path}: {holder}")
        data = self._read_bytes()
        if hashlib.sha256(data).hexdigest() != snapshot.version:
            raise SourceChanged(f"{self.path}: 读取后工作簿又被修改，本轮不写回，下一轮将重新读取")
        cells = [(u.tab, u.row, u.column, u.value) for u in updates]
        try:
            result = write_cells(data, cells)
        except Unsupported as exc:
            log.info("%s: 无法就地修改单元格（%s），改为整体保存", self.path, exc)
            result = self._through_openpyxl(data, updates)
        except _UNREADABLE as exc:
            raise SourceError(f"{self.path}: 无法读取工作簿（{_reason(exc)}），下一轮将重试") from None
        self._replace(result)
        log.info("写回 %d 个单元格到 %s", len(updates), self.path)
        return Saved(written=len(updates))

    def _through_openpyxl(self, data: bytes, updates: Sequence[CellUpdate]) -> bytes:
        try:
            book = openpyxl.load_workbook(io.BytesIO(data))
        except _UNREADABLE as exc:
            raise SourceError(f"{self.path}: 无法读取工作簿（{_reason(exc)}），下一轮将重试") from None
        for update in updates:
            book[update.tab].cell(row=update.row, column=update.column).value = update.value
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def _replace(self, data: bytes) -> None:
        """Write beside the target, then rename over it: readers never see half a file.

        A workbook marked read-only is never replaced (a rename would not ask the file, only its
        folder); temporary copies a killed run left behind are removed first.
        """
        try:
            writable = bool(self.path.stat().st_mode & stat.S_IWUSR)
        except OSError as exc:
            raise SourceError(f"{self.path}: 无法读取工作簿的属性（{exc.strerror}），下一轮将重试") from None
        if not writable:
            raise SourceError(f"{self.path}: 工作簿是只读文件，系统不会改写它。"
                              "请取消该文件的只读属性，下一轮将写回")
        self._remove_stale_temporaries()
        try:
            handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".xlsx", dir=self.path.parent)
        except OSError as exc:
            raise SourceError(f"{self.path}: 无法在工作簿所在的文件夹中写文件（{exc.strerror}）：保存工作簿需要对该"
                              "文件夹（而不只是文件）有写权限，或磁盘已满；编号和状态暂不写回，下一轮将重试") from None
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            shutil.copymode(self.path, temp)
            os.replace(temp, self.path)
        except PermissionError:
            raise SourceBusy(f"{self.path}: 工作簿被占用（可能有人正在编辑），下一轮将写回") from None
        except OSError as exc:
            raise SourceError(f"{self.path}: 无法保存工作簿（{exc.strerror}），下一轮将重试") from None
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def _remove_stale_temporaries(self) -> None:
        """Temporary copies (``.~pipeline-*.xlsx``) older than a run can take: a killed run's leftovers."""
        cutoff = time.time() - STALE_TEMPORARY
        for leftover in self.path.parent.glob(f"{TEMP_PREFIX}*.xlsx"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    log.info("已删除上次中断的运行留下的临时文件 %s", leftover)
            except OSError:
                pass                               # another run's, or gone already: not ours to insist

    def lock_holder(self) -> str | None:
        """Who has the workbook open, judging by the office suites' lock files."""
        folder, name = self.path.parent, self.path.name
        libre = folder / f".~lock.{name}#"
        if libre.exists():
            try:
                user = libre.read_text(encoding="utf-8", errors="replace").split(",")[0].strip()
            except OSError:
                user = ""
            who = f"（用户 {user}）" if user else ""
            return f"LibreOffice 正在编辑此工作簿{who}，锁文件 {libre.name}；如无人打开，可删除该锁文件"
        for candidate in (folder / f"~${name}", folder / f"~${name[2:]}"):
            if candidate.exists():
                return (f"Excel 或 WPS 正在编辑此工作簿，锁文件 {candidate.name}；"
                        "如无人打开，可删除该锁文件")
        return None


class _TextMeter:
    """The text of a workbook's cells, counted as it is read, against ``[sheet] max_mb``.

    A text used by many cells is stored once (the shared strings), so the unpacked size does not
    tell how much text reading the cells gives: a few hundred kilobytes of cells that all point to
    one 32,767-character text read as hundreds of megabytes, which the ledger would store and every
    draft read back. The count stops the read as soon as it passes the limit.
    """

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit, self.used = path, limit, 0

    def rows(self, rows: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
        for row in rows:
            texts = [v for v in row if type(v) is str]
            if texts:                      # one encoding per row: the lengths add up the same
                self.used += len("".join(texts).encode("utf-8", "surrogatepass"))
            if self.used > self.limit:
                raise SourceError(f"{self.path}: 工作簿各单元格的文字合计超过 {self.limit / 2**20:.0f} MB（配置 "
                                  "[sheet] max_mb；同一段文字被大量单元格引用时，文件虽小，读出的文字却很多），"
                                  "不予读取：文件可能是构造的，或有人粘贴了异常内容；下一轮将重试")
            yield row


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."
