"""The spreadsheet the teams fill: one small interface, one module per backend.

A source does two things per cycle: :meth:`SheetSource.fetch` reads every
tab it is asked for in one pass, and :meth:`SheetSource.save` writes the
cells the pipeline owns (编号, 状态) in one batch and says, in warnings,
which it could not write. A source never decides anything; intake does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..config import Settings
from ..errors import ConfigError

Cell = object  # str | int | float | bool | datetime | date | time | None


@dataclass
class TabData:
    """One tab as a grid of values; ``rows[0]`` is sheet row 1."""

    title: str
    rows: list[list[Cell]]


@dataclass
class SheetData:
    """Everything one fetch read; ``version`` identifies what was read."""

    tabs: dict[str, TabData]
    version: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CellUpdate:
    tab: str        # the tab's title as found in the workbook
    row: int        # 1-based
    column: int     # 1-based
    value: str


@dataclass(frozen=True)
class Saved:
    """What one write-back did: how many cells it wrote, and warnings (Chinese) naming those it left out."""

    written: int = 0
    warnings: tuple[str, ...] = ()


class SheetSource(Protocol):
    def describe(self) -> str:
        """Where the sheet is, for messages (a path or a spreadsheet key)."""

    def fetch(self, wanted: Callable[[str], bool]) -> SheetData:
        """Read every tab whose title ``wanted`` accepts, in one pass."""

    def save(self, snapshot: SheetData, updates: Sequence[CellUpdate]) -> Saved:
        """Write ``updates`` in one batch, only if the sheet is still ``snapshot``.

        Returns how many cells were written, and warnings (Chinese) naming
        the cells it had to leave out and how to fix that (Google Sheets:
        cells in a range protected against the service account).
        Raises SourceError when nothing could be written this cycle.
        """


def open_source(settings: Settings) -> SheetSource:
    """The source the config names."""
    if settings.sheet.backend == "xlsx":
        from .xlsx import XlsxSource

        assert settings.sheet.path is not None  # checked at config load
        return XlsxSource(settings.sheet.path, settings.timezone, max_bytes=settings.sheet.max_mb * 2**20)
    if settings.sheet.backend == "gsheets":
        from .gsheets import open_shared

        return open_shared(settings)
    raise ConfigError(
        f"{settings.source}: [sheet] backend: \"{settings.sheet.backend}\" is not available in this "
        "version; use \"xlsx\" or \"gsheets\""
    )
