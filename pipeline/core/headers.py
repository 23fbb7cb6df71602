"""Find the workbook's tabs and map their header rows onto column keys.

A missing tab, a missing required column, a duplicated header or a column
with data but no header stops the pull with an error naming tab and column:
reading on would silently drop or misread what people typed.
"""

from __future__ import annotations

from dataclasses import dataclass


from .config import COMMAND
from .errors import SheetLayoutError
from .grid import SheetData, TabData, column_letter
from .layout import ALL_TABS, TABS, Tab, fold, names_for

_HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class MappedTab:
    """A tab of the layout found in the sheet, with its header mapping."""

    tab: Tab
    data: TabData
    header_row: int                 # 1-based
    columns: dict[str, int]         # column key -> 0-based index

    @property
    def title(self) -> str:
        return self.data.title

    def body(self) -> list[tuple[int, list[object]]]:
        """The rows under the header, each with its 1-based sheet row number."""
        rows = self.data.rows
        return [(i + 1, rows[i]) for i in range(self.header_row, len(rows))]

    def value(self, row: list[object], key: str) -> object:
        index = self.columns.get(key)
        return row[index] if index is not None and index < len(row) else None


def wanted_title(title: str) -> bool:
    """Whether a tab title names one of the workbook's tabs (for the source's fetch)."""
    folded = fold(title)
    return any(folded in names_for(tab) for tab in ALL_TABS)


def map_tabs(sheet: SheetData) -> dict[str, MappedTab]:
    """Every tab of the layout, keyed by ``Tab.key``; raises on any layout problem."""
    found: dict[str, TabData] = {}
    for title, data in sheet.tabs.items():
        for tab in ALL_TABS:
            if fold(title) in names_for(tab):
                if tab.key in found:
                    raise SheetLayoutError(
                        f"工作簿中有两个“{tab.name}”页：“{found[tab.key].title}”和“{title}”，请删除或改名其一"
                    )
                found[tab.key] = data
    missing = [tab for tab in TABS if tab.key not in found]
    if missing:
        names = "、".join(f"“{t.name}”" for t in missing)
        raise SheetLayoutError(f"工作簿缺少{names}页（{COMMAND} init 可生成模板）")
    mapped = {tab.key: map_header(tab, found[tab.key]) for tab in TABS}
    for tab in ALL_TABS[len(TABS):]:     # an optional tab the workbook lacks reads as empty
        data = found.get(tab.key) or TabData(tab.name, [])
        mapped[tab.key] = map_header(tab, data) if data.rows else MappedTab(tab, data, 1, {})
    return mapped


def map_header(tab: Tab, data: TabData) -> MappedTab:
    header_row = _find_header_row(tab, data)
    header = data.rows[header_row - 1] if header_row <= len(data.rows) else []
    lookup = {name: col.key for col in tab.columns for name in names_for(col)}
    columns: dict[str, int] = {}
    where = f"“{data.title}”页"
    for index, cell in enumerate(header):
        folded = fold(cell)
        if not folded:
            if _column_has_data(data, header_row, index):
                raise SheetLayoutError(
                    f"{where}第 {column_letter(index + 1)} 列有内容但没有表头，请补上表头或移走该列内容"
                )
            continue
        key = lookup.get(folded)
        if key is None:
            continue  # the office's own extra column: kept, never read
        if key in columns:
            first = column_letter(columns[key] + 1)
            raise SheetLayoutError(
                f"{where}表头“{tab.column(key).name}”重复（第 {first} 列和第 {column_letter(index + 1)} 列）"
            )
        columns[key] = index
    missing = [col for col in tab.columns if col.required and col.key not in columns]
    if missing:
        names = "、".join(f"“{c.name}”" for c in missing)
        raise SheetLayoutError(f"{where}缺少必需的列：{names}（表头在第 {header_row} 行）")
    return MappedTab(tab, data, header_row, columns)


def _find_header_row(tab: Tab, data: TabData) -> int:
    """The first row naming at least two of the tab's columns (a title row may sit above)."""
    known = set().union(*(names_for(col) for col in tab.columns))
    first_nonblank = None
    for number, row in enumerate(data.rows[:_HEADER_SEARCH_ROWS], start=1):
        folded = [fold(cell) for cell in row]
        if first_nonblank is None and any(folded):
            first_nonblank = number
        if sum(1 for f in folded if f in known) >= 2:
            return number
    return first_nonblank or 1


def _column_has_data(data: TabData, header_row: int, index: int) -> bool:
    for row in data.rows[header_row:]:
        if index < len(row) and row[index] is not None and str(row[index]).strip():
            return True
    return False
