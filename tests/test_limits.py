"""Limits: what a misbehaving or crafted workbook is refused by, and that memory stays bounded.

A tab reaching beyond ``[sheet] max_rows`` or ``max_columns`` is refused whole, with one Chinese line
naming the tab, how far it reaches, the limit and the key, and exit 1; nothing is recorded.
"""

from __future__ import annotations

import openpyxl
import pytest

from conftest import Workspace, material
from pipeline.layout import SUBMISSIONS
from pipeline.ledger import Ledger

KEYS = [c.key for c in SUBMISSIONS.columns]


def statuses(workspace: Workspace) -> dict[int, tuple[object, str]]:
    """(编号, 状态) of each 素材 row with content, by row number, read without loading the whole book."""
    book = openpyxl.load_workbook(workspace.workbook, read_only=True)
    try:
        sheet = book[SUBMISSIONS.name]
        out = {}
        for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            cells = list(cells) + [None] * (len(KEYS) - len(cells))
            if any(v not in (None, "") for v in cells):
                out[number] = (cells[KEYS.index("id")], str(cells[KEYS.index("status")] or ""))
        return out
    finally:
        book.close()


def stored(workspace: Workspace) -> dict[str, int]:
    """How much the ledger holds: submissions, and the longest text kept of a row (versions, row errors)."""
    with Ledger(workspace.ledger) as ledger:
        db = ledger.db
        return {"submissions": db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0],
                "longest": max([len(r[0]) for r in db.execute("SELECT data FROM submission_versions")]
                               + [len(r[0] or "") for r in db.execute(
                                   "SELECT message || team || submitter FROM row_errors")] + [0])}


# --- a tab beyond [sheet] max_rows or max_columns ---------------------------------------------

def rows_numbered(count: int) -> list[dict[str, object]]:
    return [material(case_number=f"（2026）琼9003执{1000 + n}号", title=f"第{n}件") for n in range(count)]


def test_a_tab_reaching_beyond_max_rows_is_refused_whole_with_one_message(workspace: Workspace) -> None:
    workspace.configure("sheet", max_rows=100)
    workspace.make_workbook(rows_numbered(99))        # rows 2-100; the template's formatted rows go on to 501
    assert workspace.cli("pull").returncode == 0      # blank rows, however formatted, do not count

    workspace.make_workbook(rows_numbered(120))
    before = workspace.workbook.read_bytes()
    with Ledger(workspace.ledger) as ledger:
        known = ledger.db.execute("SELECT COUNT(*) FROM submission_versions").fetchone()[0]
    result = workspace.cli("pull")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("错误：") and "“素材”页有内容的行到第 121 行，超过上限 100 行（配置 [sheet] max_rows）" in line
    assert workspace.workbook.read_bytes() == before                   # nothing written back
    with Ledger(workspace.ledger) as ledger:                           # nor recorded
        assert ledger.db.execute("SELECT COUNT(*) FROM submission_versions").fetchone()[0] == known


def test_a_tab_reaching_beyond_max_columns_is_refused_before_its_rows_are_kept(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    book = openpyxl.load_workbook(workspace.workbook)
    book["媒体"].cell(row=5, column=16_384, value="x")               # column XFD, Excel's last
    book.save(workspace.workbook)

    result = workspace.cli("pull")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "“媒体”页有内容的列到第 XFD 列（第 16384 列），超过上限 200 列（配置 [sheet] max_columns）" in result.stderr
    assert stored(workspace)["submissions"] == 0


@pytest.mark.parametrize("key, value, minimum", [("max_rows", 50, 100), ("max_columns", 19, 30)])
def test_bounds_below_their_minimum_are_config_errors(workspace: Workspace, key: str, value: int,
                                                      minimum: int) -> None:
    workspace.configure("sheet", **{key: value})
    result = workspace.cli("pull")
    assert result.returncode == 2 and f"[sheet] {key} must be at least {minimum}" in result.stderr
