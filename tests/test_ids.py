"""Submission IDs (S-YYYY-NNNNNN): assigned once, kept for good.

Every test works on a real .xlsx made by ``workspace.make_workbook``, changes
it with openpyxl the way a person would in Excel (insert, delete, sort, edit,
clear, copy), pulls through ``pulling.pull`` and looks at the workbook's cells,
the returned PullSummary and the ledger.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import material, run_job

from pipeline.core.layout import SUBMISSIONS
from pipeline.core.model import KINDS
from pipeline.flows import pulling
from pipeline.ledger import Ledger

ID_FORMAT = re.compile(r"^S-2026-\d{6}$")
COL = {column.key: index for index, column in enumerate(SUBMISSIONS.columns, start=1)}
WIDTH = len(SUBMISSIONS.columns)
TEAMS = ("执行一组", "执行二组", "执行指挥中心")


# --- helpers -----------------------------------------------------------------

def item(n: int, **overrides) -> dict:
    """A distinct valid 素材 row: its own title, case number and team."""
    values = dict(
        title=f"{n:03d}号案例 被执行人履行欠款{n}万元",
        case_number=f"（2026）琼9003执{1000 + n}号",
        team=TEAMS[n % len(TEAMS)],
        outcome=f"执行到位{n}万元。",
    )
    values.update(overrides)
    return material(**values)


def edit(path: Path, change: Callable) -> None:
    """Open the workbook as a person would, change the 素材 tab, save."""
    book = openpyxl.load_workbook(path)
    change(book[SUBMISSIONS.name])
    book.save(path)


def put(row: int, values: dict) -> Callable:
    """Type one 素材 row's values into sheet row ``row``."""
    def change(sheet):
        for key, value in values.items():
            sheet.cell(row=row, column=COL[key], value=value)
    return change


def data_rows(sheet) -> list[list]:
    """The values of every 素材 row with content, in sheet order."""
    rows = []
    for row in sheet.iter_rows(min_row=2, max_col=WIDTH, values_only=True):
        if any(v not in (None, "") for v in row):
            rows.append(list(row))
    return rows


def rewrite(sheet, rows: list[list]) -> None:
    """Clear the data area and write ``rows`` from row 2 (what a sort does)."""
    for row in sheet.iter_rows(min_row=2, max_col=WIDTH):
        for cell in row:
            cell.value = None
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=2 + offset, column=column, value=value)


OLD = 1_500_000_000 * 10**9  # a past mtime (ns), so a rewrite cannot hide in the same tick


def file_state(path: Path) -> tuple[bytes, int, int]:
    """Bytes, mtime and inode: what any rewrite of the file would change."""
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, info.st_ino


def age(path: Path) -> tuple[bytes, int, int]:
    os.utime(path, ns=(OLD, OLD))
    return file_state(path)


def ids_by_title(workspace) -> dict[str, str]:
    return {r["title"]: r.get("id") for r in workspace.rows()}


def sheet_ids(workspace) -> list[str]:
    return [r["id"] for r in workspace.rows() if r.get("id")]


def row_with_title(workspace, title: str) -> dict:
    rows = [r for r in workspace.rows() if r.get("title") == title]
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def pulled(workspace):
    """Four distinct rows, pulled once: IDs S-2026-000001..4 in sheet order."""
    workspace.make_workbook([item(n) for n in range(1, 5)])
    summary = run_job(workspace.settings, pulling.pull)
    assert summary.accepted == 4
    return workspace


# --- first pull --------------------------------------------------------------

def test_every_accepted_row_gets_an_id_in_the_s_year_serial_format(workspace):
    workspace.make_workbook([item(n) for n in range(1, 6)])
    summary = run_job(workspace.settings, pulling.pull)
    rows = workspace.rows()
    assert summary.accepted == 5
    assert len(rows) == 5
    assert all(ID_FORMAT.match(str(r.get("id") or "")) for r in rows), [r.get("id") for r in rows]


def test_first_pull_gives_distinct_ids(workspace):
    workspace.make_workbook([item(n) for n in range(1, 6)])
    run_job(workspace.settings, pulling.pull)
    ids = sheet_ids(workspace)
    assert len(ids) == 5
    assert len(set(ids)) == 5


def test_first_pull_numbers_ids_increasing_in_sheet_order(workspace):
    # Titles deliberately not in alphabetical order: numbering follows the sheet.
    workspace.make_workbook([item(n) for n in (7, 3, 9, 1, 5)])
    run_job(workspace.settings, pulling.pull)
    assert sheet_ids(workspace) == [f"S-2026-{n:06d}" for n in range(1, 6)]


def test_invalid_row_gets_no_id_and_does_not_use_up_a_serial(workspace):
    workspace.make_workbook([item(1), item(2, process=""), item(3)])
    summary = run_job(workspace.settings, pulling.pull)
    rows = workspace.rows()
    assert summary.accepted == 2 and summary.flagged == 1
    assert [r.get("id") for r in rows] == ["S-2026-000001", None, "S-2026-000002"]
    assert "缺少执行过程" in rows[1]["status"]


def test_every_sheet_id_is_recorded_in_the_ledger(workspace):
    workspace.make_workbook([item(n) for n in range(1, 4)])
    run_job(workspace.settings, pulling.pull)
    with Ledger(workspace.ledger) as book:
        for row in workspace.rows():
            record = book.submission(row["id"])
            assert record is not None
            assert record["title"] == row["title"]


def test_ids_of_a_new_year_carry_that_year_and_start_again_at_one(workspace, monkeypatch):
    workspace.make_workbook([item(1), item(2)])
    run_job(workspace.settings, pulling.pull)
    edit(workspace.workbook, put(4, item(3)))
    monkeypatch.setenv("PIPELINE_NOW", "2027-01-04T10:00:00+08:00")
    run_job(workspace.settings, pulling.pull)
    assert sheet_ids(workspace) == ["S-2026-000001", "S-2026-000002", "S-2027-000001"]


# --- rearranging rows --------------------------------------------------------

def insert_above(sheet) -> None:
    sheet.insert_rows(2, amount=2)


def insert_between(sheet) -> None:
    sheet.insert_rows(4)
    sheet.insert_rows(3, amount=3)


def delete_one(sheet) -> None:
    sheet.delete_rows(3)


def delete_first_two(sheet) -> None:
    sheet.delete_rows(2, amount=2)


def sort_by_title_descending(sheet) -> None:
    rows = data_rows(sheet)
    rows.sort(key=lambda r: r[COL["title"] - 1], reverse=True)
    rewrite(sheet, rows)


def sort_by_team_then_title(sheet) -> None:
    rows = data_rows(sheet)
    rows.sort(key=lambda r: (r[COL["team"] - 1], r[COL["title"] - 1]))
    rewrite(sheet, rows)


REARRANGEMENTS = [insert_above, insert_between, delete_one, delete_first_two,
                  sort_by_title_descending, sort_by_team_then_title]


@pytest.mark.parametrize("rearrange", REARRANGEMENTS, ids=lambda f: f.__name__)
def test_ids_stay_beside_their_content_after_rows_are_rearranged(pulled, rearrange):
    before = ids_by_title(pulled)
    edit(pulled.workbook, rearrange)
    run_job(pulled.settings, pulling.pull)
    after = ids_by_title(pulled)
    assert after, "no rows left"
    assert after == {title: before[title] for title in after}


@pytest.mark.parametrize("rearrange", REARRANGEMENTS, ids=lambda f: f.__name__)
def test_pull_after_rows_are_rearranged_writes_nothing(pulled, rearrange):
    edit(pulled.workbook, rearrange)
    rearranged = age(pulled.workbook)
    summary = run_job(pulled.settings, pulling.pull)
    assert summary.cells_written == 0
    assert file_state(pulled.workbook) == rearranged


def test_sorted_rows_are_really_in_a_new_order(pulled):
    # Guards the sort tests above: the sort must actually move rows.
    before = [r["id"] for r in pulled.rows()]
    edit(pulled.workbook, sort_by_title_descending)
    after = [r["id"] for r in pulled.rows()]
    assert sorted(after) == sorted(before) and after != before


def test_new_row_inserted_between_gets_the_next_id_and_others_keep_theirs(pulled):
    before = ids_by_title(pulled)

    def insert(sheet):
        sheet.insert_rows(3)
        put(3, item(50))(sheet)

    edit(pulled.workbook, insert)
    summary = run_job(pulled.settings, pulling.pull)
    after = ids_by_title(pulled)
    assert summary.new == 1
    assert after.pop(item(50)["title"]) == "S-2026-000005"
    assert after == before


# --- edits -------------------------------------------------------------------

def set_outcome(row: int, text: str) -> Callable:
    return lambda sheet: setattr(sheet.cell(row=row, column=COL["outcome"]), "value", text)


@pytest.fixture
def edited(pulled):
    """Row 3 (S-2026-000002) has its 执行结果 changed after the first pull."""
    edit(pulled.workbook, set_outcome(3, "经多次约谈，被执行人分期履行完毕。"))
    pulled.summary = run_job(pulled.settings, pulling.pull)
    return pulled


def test_edited_row_keeps_its_id(edited):
    row = edited.rows()[1]
    assert row["outcome"] == "经多次约谈，被执行人分期履行完毕。"
    assert row["id"] == "S-2026-000002"
    assert edited.summary.changed == 1 and edited.summary.new == 0


def test_edited_row_is_recorded_as_version_2_with_the_new_data(edited):
    with Ledger(edited.ledger) as book:
        record = book.submission("S-2026-000002")
        versions = book.submission_versions("S-2026-000002")
    assert record["version"] == 2
    assert [v["version"] for v in versions] == [1, 2]
    assert json.loads(versions[0]["data"])["outcome"] == item(2)["outcome"]
    assert json.loads(versions[1]["data"])["outcome"] == "经多次约谈，被执行人分期履行完毕。"


def test_edited_row_is_audited_as_changed(edited):
    with Ledger(edited.ledger) as book:
        entries = [r for r in book.audit_log(200) if r["action"] == "changed"]
    assert [r["subject"] for r in entries] == ["S-2026-000002"]
    assert json.loads(entries[0]["detail"])["version"] == 2


def test_edited_row_status_names_its_version(edited):
    statuses = [r["status"] for r in edited.rows()]
    assert statuses == ["已受理", "已受理（第2版）", "已受理", "已受理"]


def test_editing_back_and_forth_adds_versions_and_never_a_new_id(pulled):
    original = item(2)["outcome"]
    texts = ["改动一", original, "改动一", original]
    for text in texts:
        edit(pulled.workbook, set_outcome(3, text))
        summary = run_job(pulled.settings, pulling.pull)
        assert summary.new == 0 and summary.changed == 1
    assert sheet_ids(pulled) == [f"S-2026-{n:06d}" for n in range(1, 5)]
    assert pulled.rows()[1]["status"] == "已受理（第5版）"
    with Ledger(pulled.ledger) as book:
        versions = book.submission_versions("S-2026-000002")
        assert book.last_serial(2026) == 4
    assert [json.loads(v["data"])["outcome"] for v in versions] == [original, *texts]


# --- cleared ID cells --------------------------------------------------------

def test_row_whose_id_cell_was_cleared_gets_the_same_id_back(pulled):
    edit(pulled.workbook, lambda s: setattr(s.cell(row=4, column=COL["id"]), "value", None))
    summary = run_job(pulled.settings, pulling.pull)
    assert summary.restored == 1
    assert summary.new == 0
    assert pulled.rows()[2]["id"] == "S-2026-000003"
    assert pulled.rows()[2]["status"] == "已受理"


def test_row_whose_id_cell_was_cleared_after_a_sort_gets_its_own_id_back(pulled):
    before = ids_by_title(pulled)

    def sort_and_clear(sheet):
        sort_by_title_descending(sheet)
        sheet.cell(row=2, column=COL["id"]).value = None
        sheet.cell(row=4, column=COL["id"]).value = ""

    edit(pulled.workbook, sort_and_clear)
    summary = run_job(pulled.settings, pulling.pull)
    assert summary.restored == 2
    assert ids_by_title(pulled) == before


# --- deleted rows ------------------------------------------------------------

@pytest.fixture
def deleted(pulled):
    """Row 3 (S-2026-000002) cut out of the sheet, with the pull that saw it."""
    book = openpyxl.load_workbook(pulled.workbook)
    pulled.cut = [c.value for c in book[SUBMISSIONS.name][3][:WIDTH]]
    edit(pulled.workbook, lambda s: s.delete_rows(3))
    pulled.summary = run_job(pulled.settings, pulling.pull)
    return pulled


def test_row_deleted_from_the_sheet_is_marked_removed_in_the_ledger(deleted):
    assert deleted.summary.removed == 1
    with Ledger(deleted.ledger) as book:
        assert book.submission("S-2026-000002")["removed_at"] is not None
        assert book.submission("S-2026-000001")["removed_at"] is None
        assert any(r["action"] == "removed" and r["subject"] == "S-2026-000002" for r in book.audit_log(200))


@pytest.mark.parametrize("with_id", [True, False], ids=["with-its-id", "blank-id"])
def test_deleted_row_pasted_back_returns_with_its_id(deleted, with_id):
    values = list(deleted.cut)
    if not with_id:
        values[COL["id"] - 1] = None

    def paste(sheet):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=6, column=column, value=value)

    edit(deleted.workbook, paste)
    summary = run_job(deleted.settings, pulling.pull)
    assert summary.new == 0
    assert row_with_title(deleted, item(2)["title"])["id"] == "S-2026-000002"
    with Ledger(deleted.ledger) as book:
        assert book.submission("S-2026-000002")["removed_at"] is None
        assert book.last_serial(2026) == 4


# --- copied rows -------------------------------------------------------------

@pytest.fixture
def copied(pulled):
    """Row 2 (S-2026-000001), ID and all, pasted again into row 7."""
    def copy(sheet):
        for column in range(1, WIDTH + 1):
            sheet.cell(row=7, column=column, value=sheet.cell(row=2, column=column).value)

    edit(pulled.workbook, copy)
    pulled.summary = run_job(pulled.settings, pulling.pull)
    return pulled


def test_copied_row_is_flagged_as_duplicate(copied):
    copy = copied.rows()[-1]
    assert copy["row"] == 7
    assert str(copy["status"]).startswith("重复")
    assert copied.summary.flagged == 1 and copied.summary.accepted == 4


def test_original_row_keeps_its_id_when_copied(copied):
    original = copied.rows()[0]
    assert original["row"] == 2
    assert original["id"] == "S-2026-000001"
    assert original["status"] == "已受理"


def test_copied_id_does_not_appear_twice_in_the_sheet(copied):
    counts = Counter(sheet_ids(copied))
    assert counts["S-2026-000001"] == 1
    assert max(counts.values()) == 1


# --- IDs the ledger does not know ----------------------------------------------

def forget_ledger(workspace) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{workspace.ledger}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def orphaned(pulled):
    """Pulled once, then S-2026-000001 deleted, rows reversed and the ledger lost."""
    def change(sheet):
        sheet.delete_rows(2)
        rows = data_rows(sheet)
        rewrite(sheet, rows[::-1])

    edit(pulled.workbook, change)
    forget_ledger(pulled)
    pulled.before = ids_by_title(pulled)
    assert sorted(pulled.before.values()) == ["S-2026-000002", "S-2026-000003", "S-2026-000004"]
    return pulled


def test_ids_unknown_to_a_fresh_ledger_are_adopted_unchanged(orphaned):
    summary = run_job(orphaned.settings, pulling.pull)
    assert summary.accepted == 3
    assert ids_by_title(orphaned) == orphaned.before
    with Ledger(orphaned.ledger) as book:
        assert set(book.fetch_known()) == set(orphaned.before.values())


def test_new_row_after_adopting_ids_gets_an_id_after_the_highest(orphaned):
    run_job(orphaned.settings, pulling.pull)
    edit(orphaned.workbook, put(12, item(60)))
    run_job(orphaned.settings, pulling.pull)
    after = ids_by_title(orphaned)
    assert after.pop(item(60)["title"]) == "S-2026-000005"
    assert after == orphaned.before


def test_new_row_in_the_same_pull_that_adopts_ids_gets_an_id_after_the_highest(orphaned):
    edit(orphaned.workbook, put(12, item(60)))
    summary = run_job(orphaned.settings, pulling.pull)
    after = ids_by_title(orphaned)
    assert summary.accepted == 4
    assert after.pop(item(60)["title"]) == "S-2026-000005"
    assert after == orphaned.before


def test_new_row_in_the_same_pull_that_adopts_ids_never_duplicates_a_sheet_id(pulled):
    forget_ledger(pulled)
    edit(pulled.workbook, put(9, item(60)))
    summary = run_job(pulled.settings, pulling.pull)
    ids = sheet_ids(pulled)
    assert summary.accepted == 5
    assert len(ids) == 5
    assert len(set(ids)) == 5, Counter(ids)
    with Ledger(pulled.ledger) as book:
        assert len(book.fetch_known()) == 5


# --- rows made invalid after acceptance ----------------------------------------------

@pytest.fixture
def invalidated(pulled):
    """Row 3 (S-2026-000002) has its 执行过程 cleared after being accepted."""
    edit(pulled.workbook, lambda s: setattr(s.cell(row=3, column=COL["process"]), "value", None))
    pulled.summary = run_job(pulled.settings, pulling.pull)
    return pulled


def test_accepted_row_made_invalid_keeps_its_id(invalidated):
    assert invalidated.rows()[1]["id"] == "S-2026-000002"
    assert invalidated.summary.new == 0


def test_accepted_row_made_invalid_shows_the_problem_in_its_status(invalidated):
    status = invalidated.rows()[1]["status"]
    assert "缺少执行过程" in status
    assert not status.startswith("已受理")
    assert invalidated.summary.flagged == 1 and invalidated.summary.accepted == 3


def test_accepted_row_made_invalid_is_recorded_invalid_in_the_ledger(invalidated):
    with Ledger(invalidated.ledger) as book:
        record = book.submission("S-2026-000002")
    assert record["state"] == "invalid"
    assert "缺少执行过程" in record["problems"]


def test_invalid_row_fixed_again_is_accepted_as_a_new_version(invalidated):
    process = item(2)["process"]
    edit(invalidated.workbook, lambda s: setattr(s.cell(row=3, column=COL["process"]), "value", process))
    summary = run_job(invalidated.settings, pulling.pull)
    row = invalidated.rows()[1]
    assert row["id"] == "S-2026-000002"
    assert row["status"] == "已受理（第3版）"
    assert summary.changed == 1 and summary.new == 0
    with Ledger(invalidated.ledger) as book:
        record = book.submission("S-2026-000002")
        versions = book.submission_versions("S-2026-000002")
    assert record["state"] == "valid" and record["version"] == 3
    assert [v["state"] for v in versions] == ["valid", "invalid", "valid"]


# --- a large workbook ----------------------------------------------------------

def big_rows(count: int = 5000, bad_every: int = 100) -> list[dict]:
    start = datetime(2026, 11, 2, 8, 0)
    problems = [
        dict(process=""),
        dict(facts=None),
        dict(case_number="不知道"),
        dict(team="执行九组"),
        dict(kind="随便写写"),
        dict(title=" "),
    ]
    rows = []
    for n in range(count):
        row = material(
            submitted_at=start + timedelta(minutes=7 * n),
            team=TEAMS[n % len(TEAMS)],
            submitter=f"干警{n % 37}",
            kind=KINDS[n % len(KINDS)],
            case_number=f"（{2019 + n % 8}）琼9003执{n + 1}号",
            title=f"第{n}件：被执行人履行义务{n % 97}万元",
            facts=f"申请执行人王某{n % 13}与被执行人李某{n % 17}纠纷一案，判决生效后未履行（{n}）。",
            outcome=f"执行到位{n}元。",
            publishable="是" if n % 5 else "否",
        )
        if n % bad_every == bad_every // 2:
            row.update(problems[(n // bad_every) % len(problems)])
        rows.append(row)
    return rows


def test_five_thousand_row_workbook_is_taken_in_whole(workspace):
    rows = big_rows()
    bad = sum(1 for n in range(len(rows)) if n % 100 == 50)
    workspace.make_workbook(rows)
    summary = run_job(workspace.settings, pulling.pull)
    sheet = workspace.rows()
    ids = [r["id"] for r in sheet if r.get("id")]

    assert len(sheet) == 5000
    assert summary.rows == 5000
    assert summary.accepted + summary.flagged == 5000
    assert summary.flagged == bad == 50
    assert len(ids) == summary.accepted == 4950
    assert len(set(ids)) == len(ids)
    assert all(ID_FORMAT.match(i) for i in ids)
    assert all(r.get("status") for r in sheet)  # every row says what became of it

    before = age(workspace.workbook)
    again = run_job(workspace.settings, pulling.pull)
    assert again.cells_written == 0
    assert again.new == again.changed == again.removed == 0
    assert file_state(workspace.workbook) == before


# --- the workbook open in an office suite: its IDs wait, and end where the cell would have kept them -----

def clear(row: int, key: str) -> Callable:
    return lambda sheet: setattr(sheet.cell(row=row, column=COL[key]), "value", None)


def copy_key(source: int, target: int) -> Callable:
    """Row ``target`` is edited into a copy of row ``source``'s item (team, case number, kind, title)."""
    def change(sheet):
        for key in ("team", "case_number", "kind", "title"):
            sheet.cell(row=target, column=COL[key]).value = sheet.cell(row=source, column=COL[key]).value
    return change


def type_id(row: int, ident: str, n: int) -> Callable:
    """A clerk appends a row and types (or pastes) an ID into its 编号."""
    return put(row, {**item(n), "id": ident})


# Each scenario: the edits made between pulls, on a workbook of items 1–4 (S-2026-000001…4, rows 2–5).
OPEN_SCENARIOS = {
    "typo-fixed": [set_outcome(3, "经多次约谈，被执行人分期履行完毕。")],
    "made-invalid": [clear(4, "process")],
    "made-invalid-then-refilled": [clear(4, "process"), put(4, {"process": "执行干警再次上门，被执行人履行完毕。"})],
    "removed-then-pasted-back": [lambda s: s.delete_rows(3), put(6, item(2))],
    "edited-into-a-copy-of-the-row-below": [copy_key(4, 3)],
    "someone-elses-id-typed-in-a-new-row": [type_id(6, "S-2026-000003", 5)],
    "a-new-row-inserted-on-top": [lambda s: s.insert_rows(2), put(2, item(6))],
    "deleted": [lambda s: s.delete_rows(2)],
    "sorted": [sort_by_title_descending],
    "sorted-and-edited": [sort_by_team_then_title, set_outcome(2, "全部履行。")],
}


def _outcome(workspace) -> tuple:
    """What the office and the ledger end with: each row's 编号 and 状态, each submission's version and state."""
    sheet = [(r.get("title"), r.get("id"), r.get("status")) for r in workspace.rows() if r.get("title")]
    with Ledger(workspace.ledger) as book:
        ledger = [tuple(r) for r in book.db.execute(
            "SELECT id, version, state, removed_at IS NOT NULL, content_hash FROM submissions ORDER BY id")]
    return sheet, ledger


@pytest.mark.parametrize("scenario", sorted(OPEN_SCENARIOS))
def test_edits_made_while_the_workbook_is_open_end_as_if_it_had_been_closed(tmp_path, scenario):
    from conftest import Workspace
    outcomes = []
    for name, open_meanwhile in (("closed", False), ("open", True)):
        (tmp_path / name).mkdir()
        workspace = Workspace.create(tmp_path / name)
        workspace.make_workbook([item(n) for n in range(1, 5)])
        lock = workspace.workbook.parent / f"~${workspace.workbook.name}"
        if open_meanwhile:
            lock.write_text("zhangsan", encoding="utf-8")
        run_job(workspace.settings, pulling.pull)
        for change in OPEN_SCENARIOS[scenario]:
            edit(workspace.workbook, change)
            summary = run_job(workspace.settings, pulling.pull)
            assert (summary.waiting is not None) == open_meanwhile
        if open_meanwhile:
            lock.unlink()
            assert run_job(workspace.settings, pulling.pull).waiting is None
        outcomes.append(_outcome(workspace))
    closed, opened = outcomes
    assert opened == closed
