"""The spreadsheet the teams fill: one small interface, one module per backend.

A source does two things per cycle: :meth:`SheetSource.fetch` reads every
tab it is asked for in one pass, and :meth:`SheetSource.save` writes the
cells the pipeline owns (编号, 状态) in one batch and says, in warnings,
which it could not write. A source never decides anything; intake does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..core.config import Settings
from ..core.errors import ConfigError, SourceError
from ..core.grid import Cell, CellUpdate, Saved, SheetData, column_letter


class SheetSource(Protocol):
    def describe(self) -> str:
        """Where the sheet is, for messages (a path or a spreadsheet key)."""

    def fetch(self, wanted: Callable[[str], bool]) -> SheetData:
        """Read every tab whose title ``wanted`` accepts, in one pass."""

    # A source may also offer ``peek() -> SheetData``: the version ``fetch`` would give (and its warnings),
    # without the tabs, at the cost of a hash (the xlsx backend). A pull that finds it unchanged ends there.

    def save(self, snapshot: SheetData, updates: Sequence[CellUpdate]) -> Saved:
        """Write ``updates`` in one batch, only if the sheet is still ``snapshot``.

        Returns how many cells were written, and warnings (Chinese) naming
        the cells it had to leave out and how to fix that (Google Sheets:
        cells in a range protected against the service account).
        Raises SourceError when nothing could be written this cycle.
        """


@dataclass(frozen=True)
class Bounds:
    """How far down and across a tab may reach (``[sheet] max_rows`` and ``max_columns``)."""

    rows: int = 20_000
    columns: int = 200

    @classmethod
    def of(cls, settings: Settings) -> Bounds:
        return cls(settings.sheet.max_rows, settings.sheet.max_columns)


def bounded_rows(where: str, title: str, rows: Iterable[Sequence[Cell]], bounds: Bounds) -> list[list[Cell]]:
    """A tab's rows as lists of equal width, read one at a time and refused beyond ``bounds``.

    A row counts from its last cell with content: blank rows after the last row with content and blank
    cells after a row's last value (formatting reaches far down and across in many sheets) are dropped.
    Past a bound, nothing more is kept: the rest is only counted, so the message can say how far the
    tab reaches, and a crafted tab costs time bounded by its file's size but never memory.
    """
    kept: list[list[Cell]] = []
    depth = width = 0               # the last row and the last column with content
    over = False
    for number, row in enumerate(rows, start=1):
        used = len(row)
        while used and (row[used - 1] is None or row[used - 1] == ""):
            used -= 1
        if not used:
            continue
        depth, width = number, max(width, used)
        if over or depth > bounds.rows or width > bounds.columns:
            over = True
            continue
        kept.extend([] for _ in range(number - 1 - len(kept)))      # the blank rows above this one
        kept.append(list(row[:used]))
    if over:
        raise too_big(where, title, depth, width, bounds)
    for row in kept:
        row.extend([None] * (width - len(row)))
    return kept


def too_big(where: str, title: str, depth: int, width: int, bounds: Bounds) -> SourceError:
    """The one message for a tab beyond its bounds: the tab, how far it reaches, the limit, the key."""
    parts = []
    if depth > bounds.rows:
        parts.append(f"有内容的行到第 {depth} 行，超过上限 {bounds.rows} 行（配置 [sheet] max_rows）")
    if width > bounds.columns:
        parts.append(f"有内容的列到第 {column_letter(width)} 列（第 {width} 列），超过上限 "
                     f"{bounds.columns} 列（配置 [sheet] max_columns）")
    return SourceError(f"{where}: “{title}”页{'；'.join(parts)}，本轮不予读取，未记录任何内容。"
                       "请删除多余的行或列（如确需这么多，可调高该配置），下一轮将重新读取")


class BoundedSource:
    """A source whose tabs arrive whole (Google Sheets: the grid is in memory already), held to the same
    bounds as a workbook read row by row."""

    def __init__(self, inner: SheetSource, bounds: Bounds) -> None:
        self.inner = inner
        self.bounds = bounds

    def describe(self) -> str:
        return self.inner.describe()

    def fetch(self, wanted: Callable[[str], bool]) -> SheetData:
        data = self.inner.fetch(wanted)
        for tab in data.tabs.values():
            tab.rows = bounded_rows(self.describe(), tab.title, tab.rows, self.bounds)
        return data

    def save(self, snapshot: SheetData, updates: Sequence[CellUpdate]) -> Saved:
        return self.inner.save(snapshot, updates)


def open_source(settings: Settings) -> SheetSource:
    """The source the config names."""
    if settings.sheet.backend == "xlsx":
        from .xlsx import XlsxSource

        assert settings.sheet.path is not None  # checked at config load
        return XlsxSource(settings.sheet.path, settings.timezone, max_bytes=settings.sheet.max_mb * 2**20,
                          bounds=Bounds.of(settings))
    if settings.sheet.backend == "gsheets":
        try:
            from .gsheets import open_shared
        except ModuleNotFoundError as exc:
            raise missing_extra(settings, exc) from None
        return BoundedSource(open_shared(settings), Bounds.of(settings))
    raise ConfigError(
        f"{settings.source}: [sheet] backend: \"{settings.sheet.backend}\" is not available in this "
        "version; use \"xlsx\" or \"gsheets\""
    )


# The Google Sheets backend's packages: an optional extra, imported only when the config names the backend.
GSHEETS_PACKAGES = ("gspread", "google", "requests")


def missing_extra(settings: Settings, exc: ModuleNotFoundError) -> Exception:
    """What to do when the Google Sheets backend is configured and its packages are not installed."""
    if (exc.name or "").split(".")[0] not in GSHEETS_PACKAGES:
        return exc
    return ConfigError(
        f"{settings.source}: [sheet] backend = \"gsheets\" 需要 Google 表格的支持包，本机未安装（缺少 {exc.name}）。"
        "请在运行本程序的 Python 环境中安装：pip install \"court-publicity[gsheets]\""
        "（在项目文件夹中运行的，用 pip install -r requirements.txt）"
    )
