"""What a spreadsheet is to the pipeline, whichever backend holds it: a grid of values per tab, and the
cells a write-back sets. The sources fill and write these; intake reads them."""

from __future__ import annotations

from dataclasses import dataclass, field

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


def column_letter(number: int) -> str:
    """A column as the sheet names it: 1 → A, 27 → AA (as openpyxl's ``get_column_letter``, without loading it)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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
    left_out: tuple[CellUpdate, ...] = ()     # the cells it may not write, as asked
