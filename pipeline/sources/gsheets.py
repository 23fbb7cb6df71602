"""A shared Google Sheet, read and written through the Sheets API v4 (gspread + google-auth).

Requests per cycle do not depend on the number of rows, so a court stays
far inside the Sheets API quota (60 requests a minute per user, a batch
counting as one):

- the spreadsheet's metadata (tab titles, sizes, protected ranges) is read
  at most once per process and kept on the source (``open_shared`` keeps
  one source per spreadsheet, key file and endpoint). gspread 6.2's
  ``Spreadsheet.worksheet()`` would fetch it again on every call, so this
  backend never uses gspread's Spreadsheet or Worksheet objects;
- :meth:`GoogleSheetsSource.fetch` reads every wanted tab with ONE
  ``values:batchGet``;
- :meth:`GoogleSheetsSource.save` writes every owned cell (编号, 状态) with
  at most ONE ``values:batchUpdate``, and none when nothing changed.

A batch is all or nothing, so one cell in a range protected against the
service account would refuse every other cell with it: the cells the
metadata says the account may not edit are left out of the batch and
named in a warning (see :func:`blocked`).

Values are read as the xlsx backend reads them: what the cell holds, not
what it shows (see ``_READ``). Transport, retries and error messages live
in ``google_api.py``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from gspread.utils import rowcol_to_a1

from ..core.config import Settings
from ..core.errors import SheetLayoutError, SourceError
from ..core.grid import Cell, CellUpdate, Saved, SheetData, TabData
from ..core.headers import map_header
from ..core.layout import ALL_TABS, MEDIA, REVIEWS, TABS, fold, names_for
from .google_api import (
    GoogleClient,
    KeyFile,
    RetryPolicy,
    read_key_file,
    spreadsheet_key,
)

log = logging.getLogger(__name__)

# UNFORMATTED_VALUE gives what a cell holds, as openpyxl's data_only mode does
# for the xlsx backend: text stays text (a case number or an ID typed as text,
# or `007` in a text cell, is never turned into a number), numbers stay numbers,
# formulas give their result. FORMATTED_VALUE would hand us strings shaped by
# the sheet's locale and number formats ("11/24/2026", "28万").
# SERIAL_NUMBER gives dates and times as day counts since 1899-12-30, the
# spreadsheet's own exact representation. The values API never says which
# numbers carry a date format, so the source does not guess: a serial reaches
# intake as a number, and ``normalize.moment`` reads the date columns
# (提交时间, 日期, 方案报送日期) as serials in the configured time zone, giving
# the same aware datetimes as the xlsx backend's date cells. FORMATTED_STRING
# would depend on each cell's format and the spreadsheet's locale.
# (https://developers.google.com/sheets/api/reference/rest/v4/ValueRenderOption,
#  .../DateTimeRenderOption)
_READ = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
         "majorDimension": "ROWS"}

# Only what the source needs: titles and sizes, and who may edit what.
# sheetId 0, index 0 and false booleans are left out of Google's JSON (proto3
# defaults), so every reader below supplies those defaults itself.
_METADATA_FIELDS = ("spreadsheetId,properties(title),sheets(properties(sheetId,title,index,"
                    "gridProperties(rowCount,columnCount)),protectedRanges(protectedRangeId,range,"
                    "namedRangeId,warningOnly,requestingUserCanEdit,unprotectedRanges))")

_A1_START = re.compile(r"^\$?([A-Za-z]*)\$?(\d*)$")


@dataclass(frozen=True)
class SheetInfo:
    """One tab as the metadata describes it."""

    title: str
    sheet_id: int
    row_count: int
    column_count: int
    protections: tuple[Mapping[str, Any], ...] = field(default=())


class GoogleSheetsSource:
    """A Google spreadsheet; ``tz`` is kept for symmetry with the xlsx backend.

    Serial numbers are converted by intake (``normalize.moment``) in the
    configured zone, the one place every backend's dates go through.
    """

    def __init__(self, client: GoogleClient, tz: ZoneInfo) -> None:
        self.client = client
        self.tz = tz
        self._sheets: list[SheetInfo] | None = None
        client.on_stale_metadata = self.forget_metadata

    @classmethod
    def from_settings(cls, settings: Settings, *, key: KeyFile | None = None, **client_options: Any
                      ) -> GoogleSheetsSource:
        """A new source for ``[sheet]``; ``client_options`` reach :class:`GoogleClient` (tests: sleep, clock)."""
        sheet = settings.sheet
        spreadsheet = spreadsheet_key(sheet.spreadsheet or "", f"{settings.source}: [sheet] spreadsheet")
        key = key or read_key_file(sheet.credentials, settings.source, os.environ)
        options = {"policy": RetryPolicy(budget=sheet.retry_budget, timeout=(10.0, sheet.timeout)), **client_options}
        return cls(GoogleClient(key, spreadsheet, sheet.endpoint, **options), settings.timezone)

    def describe(self) -> str:
        return self.client.describe()

    # -- metadata ----------------------------------------------------------------

    def sheets(self) -> list[SheetInfo]:
        """The tabs, from metadata read once and kept while it serves.

        It is dropped when it lacks one of the required tabs (someone may be
        adding it now: a missing tab must not stay missing until a restart),
        when a read names a tab that no longer exists, when a write meets a
        protection it did not show, and after a write that left cells out
        (so that the protection the office fixes is seen by the next cycle).
        """
        if self._sheets is None:
            answer = self.client.metadata(_METADATA_FIELDS)
            try:
                sheets = parse_metadata(answer)
            except (AttributeError, TypeError, ValueError):
                raise SourceError(f"{self.describe()}: 表格结构的应答格式不对；请检查 [sheet] endpoint") from None
            if all(any(fold(s.title) in names_for(tab) for s in sheets) for tab in TABS):
                self._sheets = sheets
            return sheets
        return self._sheets

    def forget_metadata(self) -> None:
        self._sheets = None

    # -- reading -----------------------------------------------------------------

    def fetch(self, wanted: Callable[[str], bool]) -> SheetData:
        sheets = self.sheets()
        chosen = [s for s in sheets if wanted(s.title)]
        tabs: dict[str, TabData] = {}
        if chosen:
            answer = self.client.batch_get([a1_tab(s.title) for s in chosen], _READ)
            ranges = answer.get("valueRanges")
            if not isinstance(ranges, list) or len(ranges) != len(chosen):
                raise SourceError(f"{self.describe()}: 读取结果不完整（请求 {len(chosen)} 个分页，"
                                  f"收到 {len(ranges) if isinstance(ranges, list) else 0} 个），下一轮将重试")
            # valueRanges come back in the order of the requested ranges (values.batchGet).
            try:
                for info, value_range in zip(chosen, ranges):
                    tabs[info.title] = TabData(info.title, grid(value_range))
            except (AttributeError, TypeError, ValueError):
                raise SourceError(f"{self.describe()}: 读取结果的格式不对；请检查 [sheet] endpoint") from None
        return SheetData(tabs=tabs, version=fingerprint(tabs),
                         warnings=protection_warnings(sheets, self.client.account))

    # -- writing -----------------------------------------------------------------

    def save(self, snapshot: SheetData, updates: Sequence[CellUpdate]) -> Saved:
        """Write ``updates`` in one values.batchUpdate, as RAW text; say how many, and what was left out.

        RAW stores each string as typed: an ID stays text and a 状态 that
        quotes a cell starting with ``=`` never becomes a formula.

        Cells in a range protected against the service account (as the
        metadata read for ``snapshot`` says) are left out: the API would
        refuse the whole batch for one of them, and 素材 would get no IDs.
        The rest is written; the warnings name what was left out and the
        fix. Should the API still refuse the batch (a protection added
        since the metadata was read), the metadata is forgotten and the
        cycle fails; the next one reads the protections again.

        Unlike the xlsx backend, row positions are not re-verified against
        ``snapshot`` before writing: the Sheets API has no conditional write
        and no revision for values, so a check would cost a second read per
        cycle and still leave a gap between it and the write. The exposure
        is small and bounded: only the cells this cycle writes (IDs of new
        rows, changed 状态), during the second or so between read and
        write. Should someone sort or insert rows in that second, an ID can
        land beside another row; the next pull still keeps every row (none
        is lost or duplicated) but may file a row's content under another
        ID. The request is applied atomically (Sheets API usage limits) and
        is idempotent, so it is retried after a timeout; should a write
        land although the cycle reported failure, the next pull adopts the
        IDs it wrote (intake adopts well-formed IDs the ledger lacks).
        """
        if not updates:
            return Saved()
        sheets = {info.title: info for info in self.sheets()}
        writable: list[CellUpdate] = []
        left_out: list[CellUpdate] = []
        try:
            for update in updates:
                info = sheets.get(update.tab)
                (left_out if info and blocked(info, update.row, update.column) else writable).append(update)
        except (AttributeError, TypeError, ValueError):
            raise SourceError(f"{self.describe()}: 表格结构的应答格式不对；请检查 [sheet] endpoint") from None
        if left_out:
            log.warning("%s: %d 个单元格在对 %s 设了保护的范围内，未写回",
                        self.describe(), len(left_out), self.client.account)
            self.forget_metadata()
        if writable:
            self.client.batch_update(lambda: {"valueInputOption": "RAW", "includeValuesInResponse": False,
                                              "data": value_ranges(writable)})
            log.info("写回 %d 个单元格到 %s", len(writable), self.describe())
        return Saved(len(writable), tuple(left_out_warnings(snapshot, left_out, self.client.account)), tuple(left_out))


# --- the process-wide cache -----------------------------------------------------------

_SHARED: dict[tuple[str, str, str, str], GoogleSheetsSource] = {}


def open_shared(settings: Settings) -> GoogleSheetsSource:
    """The process's source for this spreadsheet, key file and endpoint.

    ``pulling.pull`` asks for a source every cycle; keeping one per process
    keeps its metadata and its access token, so a long-running ``run``
    reads the metadata once. The key file is read (not parsed) every time,
    so a replaced key takes effect at the next cycle.
    """
    sheet = settings.sheet
    spreadsheet = spreadsheet_key(sheet.spreadsheet or "", f"{settings.source}: [sheet] spreadsheet")
    key = read_key_file(sheet.credentials, settings.source, os.environ)
    slot = (spreadsheet, sheet.endpoint.rstrip("/"), hashlib.sha256(key.raw).hexdigest(), settings.timezone.key)
    source = _SHARED.get(slot)
    if source is None:
        source = _SHARED[slot] = GoogleSheetsSource.from_settings(settings, key=key)
    return source


def forget_shared() -> None:
    """Drop every cached source (tests; a process that must re-read everything)."""
    _SHARED.clear()


# --- pure helpers: A1 notation, grids, the write plan, protection -------------------------

def a1_tab(title: str) -> str:
    """A whole tab in A1 notation; the title is always quoted (``'`` doubled inside)."""
    return "'" + title.replace("'", "''") + "'"


def parse_metadata(metadata: Mapping[str, Any]) -> list[SheetInfo]:
    """The tabs of a spreadsheets.get answer, in the spreadsheet's order."""
    sheets = metadata.get("sheets")
    if not isinstance(sheets, list):
        raise ValueError("no sheets in the metadata")
    found = []
    for sheet in sheets:
        props = sheet.get("properties") or {}
        grid_props = props.get("gridProperties") or {}
        found.append((props.get("index", 0), SheetInfo(
            title=str(props.get("title", "")), sheet_id=int(props.get("sheetId", 0)),
            row_count=int(grid_props.get("rowCount", 0)), column_count=int(grid_props.get("columnCount", 0)),
            protections=tuple(sheet.get("protectedRanges") or ()))))
    return [info for _, info in sorted(found, key=lambda pair: pair[0])]


def grid(value_range: Mapping[str, Any]) -> list[list[Cell]]:
    """One tab's values as the xlsx backend gives them: ``rows[0]`` is row 1, column A first.

    The API leaves out trailing empty cells and rows; every row is padded
    to the widest, so a trailing blank never shifts a column. An empty
    cell comes back as ``""``: it becomes None, as in openpyxl. The values
    start at the range's first cell, which is A1 for a whole tab but is
    honoured whatever it is.
    """
    top, left = _range_start(str(value_range.get("range", "")))
    rows: list[list[Cell]] = [[] for _ in range(top - 1)]
    for raw in value_range.get("values") or []:
        rows.append([None] * (left - 1) + [None if value == "" else value for value in raw])
    width = max((len(row) for row in rows), default=0)
    for row in rows:
        row.extend([None] * (width - len(row)))
    return rows


def _range_start(a1: str) -> tuple[int, int]:
    """(row, column), 1-based, of the first cell of ``'Tab'!B3:F9``; (1, 1) when unbounded."""
    cells = a1.rsplit("!", 1)[1] if "!" in a1 else ""
    match = _A1_START.match(cells.split(":", 1)[0])
    if not match:
        return 1, 1
    letters, digits = match.groups()
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - 64
    return int(digits or 1), column or 1


def fingerprint(tabs: Mapping[str, TabData]) -> str:
    """A hash of the values read: the snapshot's ``version``."""
    data = [[title, tab.rows] for title, tab in tabs.items()]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, default=str).encode()).hexdigest()


def value_ranges(updates: Sequence[CellUpdate]) -> list[dict[str, Any]]:
    """The ValueRanges of one values.batchUpdate, built fresh on every call.

    Runs of consecutive rows in one column become one range (``'素材'!A2:A5001``),
    so a first pull of 5,000 rows sends two ranges, not 10,000. A cell
    named twice takes its last value.
    """
    cells: dict[tuple[str, int, int], str] = {}
    for update in updates:
        cells[(update.tab, update.column, update.row)] = update.value
    out: list[dict[str, Any]] = []
    run: list[tuple[str, int, int, str]] = []

    def flush() -> None:
        if run:
            tab, column, first, _ = run[0]
            last = run[-1][2]
            cell_range = rowcol_to_a1(first, column) + (f":{rowcol_to_a1(last, column)}" if last != first else "")
            out.append({"range": f"{a1_tab(tab)}!{cell_range}", "majorDimension": "ROWS",
                        "values": [[value] for *_, value in run]})
            run.clear()

    for (tab, column, row), value in sorted(cells.items()):
        if run and (run[-1][0], run[-1][1], run[-1][2] + 1) != (tab, column, row):
            flush()
        run.append((tab, column, row, value))
    flush()
    return out


_WHY = {REVIEWS.key: "任何有编辑权限的人都能在此页审批稿件",
        MEDIA.key: "任何有编辑权限的人都能增删接收稿件的媒体邮箱"}


def protection_warnings(sheets: Sequence[SheetInfo], account: str) -> list[str]:
    """Warnings (Chinese) when 审核 or 媒体 is editable by everyone with access to the sheet.

    Approval is the office's decision alone, and media recipients come
    only from the 媒体 tab (docs/architecture.md, invariants): each of these tabs
    should be protected as a whole, editable by the office and by the
    service account (which writes 状态 there). A protection that only
    shows a warning stops nobody.
    """
    warnings = []
    for tab in (REVIEWS, MEDIA):
        info = next((s for s in sheets if fold(s.title) in names_for(tab)), None)
        if info is None:
            continue  # a missing tab is the header check's error, not a warning
        covering = [p for p in info.protections if _covers(p, info)]
        firm = [p for p in covering if not p.get("warningOnly", False)]
        name, why = info.title, _WHY[tab.key]
        if not firm:
            kind = "只设了“显示警告”的保护" if covering else "未设保护（或保护未覆盖整页）"
            warnings.append(f"“{name}”页{kind}：{why}。请在 Google 表格中保护整页（“限制可以修改此范围的用户”），"
                            f"只允许宣传办成员和服务账号 {account} 编辑")
        elif not all(p.get("requestingUserCanEdit", False) for p in firm):
            warnings.append(f"“{name}”页已保护，但服务账号 {account} 不在可编辑名单中，该页的“状态”列无法写回；"
                            "请把它加为该保护范围的编辑者")
    return warnings


def blocked(info: SheetInfo, row: int, column: int) -> bool:
    """Whether the metadata says the service account may not write this cell (1-based row and column).

    A protection stops the account unless it only shows a warning
    (``warningOnly``) or the account is among its editors
    (``requestingUserCanEdit``); its ``unprotectedRanges`` are holes in it.
    A protection without a range is taken as the whole tab it is listed
    under: leaving a cell out is safe, a refused batch is not.
    """
    for protection in info.protections:
        if protection.get("warningOnly", False) or protection.get("requestingUserCanEdit", False):
            continue
        cells = protection.get("range")
        if not isinstance(cells, Mapping):
            cells = {"sheetId": info.sheet_id}
        if _inside(cells, info.sheet_id, row - 1, column - 1) and not any(
                _inside(hole, info.sheet_id, row - 1, column - 1)
                for hole in protection.get("unprotectedRanges") or () if isinstance(hole, Mapping)):
            return True
    return False


def _inside(cells: Mapping[str, Any], sheet_id: int, row: int, column: int) -> bool:
    """Whether the 0-based cell of tab ``sheet_id`` lies in a GridRange.

    Starts are inclusive and ends exclusive; an absent side is unbounded
    and an absent sheetId is 0 (proto3 leaves defaults out).
    """
    def within(start: str, end: str, index: int) -> bool:
        return int(cells.get(start, 0)) <= index and (end not in cells or index < int(cells[end]))

    return (int(cells.get("sheetId", 0)) == sheet_id and within("startRowIndex", "endRowIndex", row)
            and within("startColumnIndex", "endColumnIndex", column))


def left_out_warnings(snapshot: SheetData, cells: Sequence[CellUpdate], account: str) -> list[str]:
    """One warning (Chinese) per tab: which of its cells were not written, and the fix.

    ``“审核”页第 3、5 行的“状态”未能写回：…``; columns are named by the
    layout (编号, 状态) whatever header the sheet uses.
    """
    by_tab: dict[str, dict[int, list[int]]] = {}
    for cell in cells:                                   # tabs in the order intake planned them
        by_tab.setdefault(cell.tab, {}).setdefault(cell.column, []).append(cell.row)
    warnings = []
    for title, columns in by_tab.items():
        names = _column_names(snapshot.tabs.get(title))
        where = "，".join(f"第 {_row_list(columns[column])} 行的{names.get(column) or _letter(column) + ' 列'}"
                         for column in sorted(columns))
        warnings.append(f"“{title}”页{where}未能写回：所在范围受保护，服务账号不在可编辑名单中。"
                        f"请在 Google 表格“数据 → 保护工作表和范围”中把服务账号 {account} 加为该保护范围的编辑者，"
                        "下一轮将自动补写")
    return warnings


def _column_names(data: TabData | None) -> dict[int, str]:
    """1-based column -> “名称” of the layout's column there (the tab's header mapping)."""
    tab = next((t for t in ALL_TABS if data is not None and fold(data.title) in names_for(t)), None)
    if tab is None or data is None:
        return {}
    try:
        mapped = map_header(tab, data)
    except SheetLayoutError:
        return {}
    return {index + 1: f"“{tab.column(key).name}”" for key, index in mapped.columns.items()}


def _letter(column: int) -> str:
    """The letters of a 1-based column: 1 -> A, 27 -> AA."""
    return rowcol_to_a1(1, column)[:-1]


def _row_list(rows: Sequence[int], most: int = 10) -> str:
    """``2、3、5 至 8、12``: runs of three or more rows as ranges; at most ``most`` parts."""
    runs: list[list[int]] = []
    for row in sorted(set(rows)):
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    parts: list[str] = []
    for first, last in runs:
        parts.extend([f"{first} 至 {last}"] if last - first >= 2 else map(str, range(first, last + 1)))
    if len(parts) > most:
        return "、".join(parts[:most]) + f" 等（共 {len(set(rows))} 行）"
    return "、".join(parts)


def _covers(protection: Mapping[str, Any], info: SheetInfo) -> bool:
    """Whether a protected range covers the whole tab, without unprotected holes."""
    cells = protection.get("range")
    if not isinstance(cells, Mapping) or protection.get("unprotectedRanges"):
        return False
    if int(cells.get("sheetId", 0)) != info.sheet_id:
        return False
    # Unbounded sides are left out of a GridRange: a whole-sheet protection has neither.
    rows_ok = (int(cells.get("startRowIndex", 0)) == 0
               and int(cells.get("endRowIndex", info.row_count)) >= info.row_count)
    columns_ok = (int(cells.get("startColumnIndex", 0)) == 0
                  and int(cells.get("endColumnIndex", info.column_count)) >= info.column_count)
    return rows_ok and columns_ok
