"""``init``: write the workbook (every tab of ``layout.ALL_TABS``), and with ``--demo`` a week of material.

The template is meant to be pleasant to fill in WPS, Excel or LibreOffice:
a styled, frozen header row with a comment on each column explaining what
goes in it, sensible widths, drop-down suggestions (never hard limits: intake
accepts synonyms), and the pipeline's own columns shaded so people leave them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..core.calendar import Week
from ..core.errors import UsageError
from ..core.layout import (ACTIVITIES, ALL_TABS, FIGURES, MEDIA, PLACEMENTS, REPLIES, REVIEWS, SUBMISSIONS,
                           TEAMS, Tab)
from ..core.model import (
    ACTIVITY_KINDS,
    CADENCES,
    CLOSURES,
    DECISIONS,
    INABILITIES,
    KINDS,
    LISTINGS,
    MEDIA_LEVELS,
    MEDIA_TYPES,
)
from ..plan.obligations import AS_WRITTEN, TEAM_QUOTA, Plan
from . import demo_data

_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_OWNED_FILL = PatternFill("solid", fgColor="D9D9D9")
_INTERNAL_FILL = PatternFill("solid", fgColor="FFF2CC")   # 内部备注: for the office, never published
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_OWNED_FONT = Font(bold=True, color="1F1F1F")
_INTERNAL = frozenset({(SUBMISSIONS.key, "note")})
_THIN = Side(style="thin", color="BFBFBF")
_WRAP = Alignment(vertical="top", wrap_text=True)
_TEMPLATE_ROWS = 500  # rows that get drop-downs and wrapping in an empty template


def write_workbook(path: Path, *, now: datetime, demo: bool, force: bool, plan: Plan = AS_WRITTEN) -> None:
    """Create the workbook at ``path``; never replaces one without ``force``. The headers' notes
    state ``plan``'s numbers (a blank 每周任务 is the configured default quota)."""
    if path.exists() and not force:
        raise FileExistsError(path)
    book = Workbook()
    book.remove(book.active)
    sheets = {tab.key: _add_tab(book, tab, plan) for tab in ALL_TABS}
    if demo:
        _fill_demo(sheets, now)
    _add_suggestions(sheets)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".~init-{path.name}")
    try:
        book.save(temp)
        temp.replace(path)
    except PermissionError:
        raise UsageError(f"{path}: 无法写入（文件可能正被打开）") from None
    finally:
        temp.unlink(missing_ok=True)


def _add_tab(book: Workbook, tab: Tab, plan: Plan) -> Worksheet:
    sheet = book.create_sheet(tab.name)
    for index, column in enumerate(tab.columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.name)
        internal = (tab.key, column.key) in _INTERNAL
        cell.font = _OWNED_FONT if column.owned or internal else _HEADER_FONT
        cell.fill = _OWNED_FILL if column.owned else _INTERNAL_FILL if internal else _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = Border(bottom=_THIN)
        if column.note:
            note = column.note.replace("{default_quota}", str(plan[TEAM_QUOTA].count))
            comment = Comment(note, "执行宣传工作办公室")
            comment.width, comment.height = 260, 80
            cell.comment = comment
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 24
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(tab.columns))}1"
    return sheet


def _add_suggestions(sheets: dict[str, Worksheet]) -> None:
    """Drop-down lists that suggest but never refuse (intake accepts synonyms)."""
    last = _TEMPLATE_ROWS + 1
    team_col = get_column_letter(TEAMS.columns.index(TEAMS.column("team")) + 1)
    lists = [
        (SUBMISSIONS, "team", f"'{TEAMS.name}'!${team_col}$2:${team_col}$60"),
        (SUBMISSIONS, "kind", '"' + ",".join(KINDS) + '"'),
        (SUBMISSIONS, "publishable", '"是,否"'),
        (SUBMISSIONS, "listing", '"' + ",".join(LISTINGS) + '"'),
        (SUBMISSIONS, "closure", '"' + ",".join(CLOSURES) + '"'),
        (SUBMISSIONS, "handling_team", f"'{TEAMS.name}'!${team_col}$2:${team_col}$60"),
        (SUBMISSIONS, "inability", '"' + ",".join(INABILITIES) + '"'),
        (MEDIA, "enabled", '"是,否"'),
        (MEDIA, "type", '"' + ",".join(MEDIA_TYPES) + '"'),
        (MEDIA, "level", '"' + ",".join(MEDIA_LEVELS) + '"'),
        (MEDIA, "cadence", '"' + ",".join(CADENCES) + '"'),
        (PLACEMENTS, "type", '"' + ",".join(MEDIA_TYPES) + '"'),
        (PLACEMENTS, "level", '"' + ",".join(MEDIA_LEVELS) + '"'),
        (ACTIVITIES, "kind", '"' + ",".join(ACTIVITY_KINDS) + '"'),
        (ACTIVITIES, "held", '"是,否"'),
        (ACTIVITIES, "team", f"'{TEAMS.name}'!${team_col}$2:${team_col}$60"),
        (REVIEWS, "decision", '"' + ",".join(DECISIONS) + '"'),
    ]
    for tab, key, formula in lists:
        letter = get_column_letter(tab.columns.index(tab.column(key)) + 1)
        validation = DataValidation(type="list", formula1=formula, allow_blank=True,
                                    showErrorMessage=False)
        validation.add(f"{letter}2:{letter}{last}")
        sheets[tab.key].add_data_validation(validation)
    for key in ("submitted_at",):
        letter = get_column_letter(SUBMISSIONS.columns.index(SUBMISSIONS.column(key)) + 1)
        for row in range(2, last + 1):
            sheets["submissions"][f"{letter}{row}"].number_format = "yyyy-mm-dd hh:mm"
    for tab, keys in ((ACTIVITIES, ("date", "plan_date")), (PLACEMENTS, ("date",))):
        for key in keys:
            letter = get_column_letter(tab.columns.index(tab.column(key)) + 1)
            for row in range(2, 101):
                sheets[tab.key][f"{letter}{row}"].number_format = "yyyy-mm-dd"


def _append(sheet: Worksheet, tab: Tab, values: dict[str, object]) -> None:
    sheet.append([values.get(column.key) for column in tab.columns])
    for cell in sheet[sheet.max_row]:
        cell.alignment = _WRAP


def _fill_demo(sheets: dict[str, Worksheet], now: datetime) -> None:
    """A realistic week: five teams, one behind, and rows that must be flagged."""
    today = now.date()
    for name, leader, email, quota, outward in demo_data.TEAMS:
        _append(sheets["teams"], TEAMS, {"team": name, "leader": leader, "email": email, "quota": quota,
                                         "outward": outward})
    for outlet, contact, email, kinds, enabled in demo_data.MEDIA:
        column, cadence = demo_data.MEDIA_COLUMNS.get(outlet, ("", ""))
        _append(sheets["media"], MEDIA, {"outlet": outlet, "contact": contact, "email": email,
                                         "kinds": kinds, "enabled": enabled,
                                         "type": demo_data.MEDIA_TYPES.get(outlet, ""),
                                         "level": demo_data.MEDIA_LEVELS.get(outlet, ""),
                                         "column": column, "cadence": cadence})
    for offset, kind, name, plan_offset in demo_data.ACTIVITIES:
        plan = today + timedelta(days=plan_offset) if plan_offset is not None else None
        _append(sheets["activities"], ACTIVITIES, {"date": today + timedelta(days=offset), "kind": kind,
                                                   "name": name, "plan_date": plan,
                                                   **demo_data.ACTIVITY_DETAILS.get(name, {})})
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    for metric, value, source in demo_data.FIGURES:
        _append(sheets["figures"], FIGURES, {"month": last_month, "metric": metric, "value": value, "source": source})
    for serial, outlet, slot, kind_of_outlet, level, note in demo_data.PLACEMENTS:
        _append(sheets["placements"], PLACEMENTS, {"draft_id": f"D-{today.year}-{serial:06d}", "outlet": outlet,
                                                   "date": today, "slot": slot, "type": kind_of_outlet,
                                                   "level": level, "note": note})
    for serial, deputy, answer, note in demo_data.REPLIES:
        _append(sheets["replies"], REPLIES, {"invitation_id": f"I-{today.year}-{serial:06d}", "deputy": deputy,
                                             "answer": answer, "note": note})
    rows = list(demo_data.SUBMISSIONS)
    # The bad rows arrive among the good ones, as they would in a real week.
    for position, bad in enumerate(demo_data.BAD_SUBMISSIONS):
        rows.insert(min(len(rows), 3 + position * 4), bad)
    for index, row in enumerate(rows):
        values = {k: v for k, v in row.items() if k not in ("day", "time", "problem")}
        values["submitted_at"] = _demo_moment(now, row["day"], row["time"], index)
        _append(sheets["submissions"], SUBMISSIONS, values)


def _demo_moment(now: datetime, day: int, clock_time: str, index: int) -> datetime:
    """A wall-clock time this ISO week, never later than ``now`` (cells are naive)."""
    week = Week.of(now)
    hour, minute = (int(p) for p in clock_time.split(":"))
    moment = datetime.combine(week.day(day), time(hour, minute), now.tzinfo)
    if moment > now:
        earliest = datetime.combine(week.monday, time(0, 0), now.tzinfo)
        moment = max(earliest, now - timedelta(minutes=7 * (index + 1)))
    return moment.replace(tzinfo=None, second=0, microsecond=0)

