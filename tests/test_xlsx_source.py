"""The local workbook file: what a pull may and may not do to it.

Write-back touches only the cells the pipeline owns and keeps everything
people put around them; a pull that has nothing to write leaves the file
alone; a workbook that is open in an office suite, half-synced, changed
under our feet or missing stops the pull cleanly, with nothing half-done.
"""

from __future__ import annotations

import io
import os
import random
import re
import stat
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from conftest import Workspace, material, run_job
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill

from pipeline.core.errors import SourceBusy, SourceChanged, SourceError
from pipeline.core.layout import SUBMISSIONS
from pipeline.flows import pulling, week
from pipeline.ledger import Ledger
from pipeline.sources.xlsx import XlsxSource
from pipeline.sources.xlsx_cells import write_cells

COL = {column.key: index for index, column in enumerate(SUBMISSIONS.columns, start=1)}
LETTER = {key: openpyxl.utils.get_column_letter(index) for key, index in COL.items()}
EXTRA = len(SUBMISSIONS.columns) + 1       # first column after 状态
NOTE, LENGTH = EXTRA, EXTRA + 1            # 备注 and 案情字数, the office's own columns
OLD = 1_500_000_000                        # a past mtime, so a rewrite cannot hide in the same tick


def item(n: int, **overrides) -> dict:
    values = dict(title=f"{n:03d}号案例 被执行人履行欠款{n}万元", case_number=f"（2026）琼9003执{1000 + n}号")
    values.update(overrides)
    return material(**values)


def known(workspace) -> dict:
    with Ledger(workspace.ledger) as book:
        return book.fetch_known()


def versions(workspace, submission_id: str) -> list[int]:
    with Ledger(workspace.ledger) as book:
        return [v["version"] for v in book.submission_versions(submission_id)]


def ids(workspace) -> list:
    """编号 of the 素材 rows that hold material (the office's own cells aside)."""
    return [r.get("id") for r in workspace.rows() if r.get("title")]


def all_values(path: Path) -> dict[tuple[str, str], object]:
    """Every non-empty cell of every sheet, formulas as written."""
    book = openpyxl.load_workbook(path)
    values = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    values[(sheet.title, cell.coordinate)] = cell.value
    return values


# --- write-back keeps what people put in the workbook --------------------------

@pytest.fixture
def decorated(workspace):
    """A workbook dressed up in Excel, pulled once; yields the reloaded book."""
    workspace.make_workbook([item(1), item(2), item(3)])
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book[SUBMISSIONS.name]
    title = sheet[f"{LETTER['title']}3"]
    title.font = Font(bold=True, color="FFFF0000")
    title.fill = PatternFill("solid", fgColor="FFFFFF00")
    sheet[f"{LETTER['submitted_at']}2"].number_format = "yyyy\"年\"m\"月\"d\"日\""
    sheet.column_dimensions[LETTER["title"]].width = 55
    sheet.column_dimensions[LETTER["facts"]].width = 70
    sheet.freeze_panes = "C2"
    sheet.cell(row=1, column=NOTE, value="备注")
    sheet.cell(row=2, column=NOTE, value="宣传办：请补充照片")
    sheet.cell(row=4, column=NOTE, value="已联系电视台")
    sheet.cell(row=1, column=LENGTH, value="案情字数")
    for row in (2, 3, 4):
        sheet.cell(row=row, column=LENGTH, value=f"=LEN({LETTER['facts']}{row})")
    sheet.cell(row=20, column=LENGTH, value="=SUM(1,2)")
    stats = book.create_sheet("统计")
    stats["A1"], stats["B1"] = "部门", "条数"
    stats["A2"], stats["B2"] = "执行一组", 3
    stats["A3"], stats["B3"] = "执行二组", 5
    stats["A4"], stats["B4"] = "合计", "=SUM(B2:B3)"
    book.save(workspace.workbook)

    summary = run_job(workspace.settings, pulling.pull)
    assert summary.accepted == 3 and summary.cells_written > 0   # the file really was rewritten
    assert ids(workspace) == ["S-2026-000001", "S-2026-000002", "S-2026-000003"]
    return openpyxl.load_workbook(workspace.workbook, data_only=False)


def test_write_back_keeps_a_cells_font_and_fill(decorated):
    cell = decorated[SUBMISSIONS.name][f"{LETTER['title']}3"]
    assert cell.font.bold is True
    assert cell.font.color.rgb == "FFFF0000"
    assert cell.fill.fill_type == "solid"
    assert cell.fill.fgColor.rgb == "FFFFFF00"


def test_write_back_keeps_a_date_cells_number_format(decorated):
    cell = decorated[SUBMISSIONS.name][f"{LETTER['submitted_at']}2"]
    assert cell.number_format == "yyyy\"年\"m\"月\"d\"日\""


def test_write_back_keeps_column_widths(decorated):
    dims = decorated[SUBMISSIONS.name].column_dimensions
    assert dims[LETTER["title"]].width == 55
    assert dims[LETTER["facts"]].width == 70


def test_write_back_keeps_the_frozen_pane(decorated):
    assert decorated[SUBMISSIONS.name].freeze_panes == "C2"


def test_write_back_keeps_formulas(decorated):
    sheet = decorated[SUBMISSIONS.name]
    assert [sheet.cell(row=r, column=LENGTH).value for r in (2, 3, 4)] == [
        f"=LEN({LETTER['facts']}{r})" for r in (2, 3, 4)]
    assert sheet.cell(row=20, column=LENGTH).value == "=SUM(1,2)"


def test_write_back_keeps_a_foreign_sheet(decorated):
    assert "统计" in decorated.sheetnames
    stats = decorated["统计"]
    assert [[c.value for c in row] for row in stats["A1:B4"]] == [
        ["部门", "条数"], ["执行一组", 3], ["执行二组", 5], ["合计", "=SUM(B2:B3)"]]


def test_write_back_keeps_extra_columns(decorated):
    sheet = decorated[SUBMISSIONS.name]
    assert sheet.cell(row=1, column=NOTE).value == "备注"
    assert [sheet.cell(row=r, column=NOTE).value for r in (2, 3, 4)] == ["宣传办：请补充照片", None, "已联系电视台"]


def test_write_back_changes_only_the_owned_cells(workspace):
    workspace.make_workbook([item(1), item(2, process=""), item(3)])
    before = all_values(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    after = all_values(workspace.workbook)
    owned = {LETTER["id"], LETTER["status"]}

    def unowned(values):
        return {k: v for k, v in values.items()
                if not (k[0] == SUBMISSIONS.name and k[1].rstrip("0123456789") in owned)}

    assert unowned(after) == unowned(before)
    assert after[(SUBMISSIONS.name, f"{LETTER['id']}2")] == "S-2026-000001"


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def repack(path: Path, package: dict[str, bytes]) -> None:
    """Write ``package`` (part name → bytes) as the workbook at ``path``, as another program saved it."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, content in package.items():
            out.writestr(name, content)


def sheet_part(path: Path, title: str) -> str:
    """The package part that holds the tab ``title`` (workbook order: 素材 is the first sheet)."""
    book = openpyxl.load_workbook(path, read_only=True)
    index = book.sheetnames.index(title) + 1
    book.close()
    return f"xl/worksheets/sheet{index}.xml"


@pytest.fixture
def pictured(workspace):
    """A workbook holding a chart, as offices draw one beside their tallies, and the custom XML
    part a shared drive (SharePoint, OneDrive) keeps its metadata in."""
    workspace.make_workbook([item(1), item(2)])
    book = openpyxl.load_workbook(workspace.workbook)
    stats = book.create_sheet("统计")
    for row in (("部门", "条数"), ("执行一组", 3), ("执行二组", 5)):
        stats.append(row)
    chart = BarChart()
    chart.add_data(Reference(stats, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    stats.add_chart(chart, "D2")
    book.save(workspace.workbook)
    package = parts(workspace.workbook)
    package["customXml/item1.xml"] = b'<?xml version="1.0"?><ct:contentTypeSchema xmlns:ct="urn:share"/>'
    repack(workspace.workbook, package)
    return workspace


def test_write_back_keeps_charts_and_every_other_part_byte_for_byte(pictured):
    before = parts(pictured.workbook)
    assert any(n.startswith("xl/charts/") for n in before) and "customXml/item1.xml" in before

    assert run_job(pictured.settings, pulling.pull).cells_written > 0
    after = parts(pictured.workbook)

    edited = sheet_part(pictured.workbook, SUBMISSIONS.name)
    assert set(after) == set(before)
    assert {n for n in before if before[n] != after[n]} == {edited}
    assert ids(pictured) == ["S-2026-000001", "S-2026-000002"]


def test_write_back_keeps_a_formulas_cached_result(workspace):
    workspace.make_workbook([item(1)])
    book = openpyxl.load_workbook(workspace.workbook)
    book[SUBMISSIONS.name].cell(row=1, column=LENGTH, value="案情字数")
    book[SUBMISSIONS.name].cell(row=2, column=LENGTH, value=f"=LEN({LETTER['facts']}2)")
    book.save(workspace.workbook)
    part = sheet_part(workspace.workbook, SUBMISSIONS.name)
    package = parts(workspace.workbook)
    # As Excel saves it: the formula and the result it last computed.
    package[part], found = re.subn(rb"(<f>LEN\(\w+2\)</f>)(<v\s*/>|<v>\s*</v>)?", rb"\1<v>37</v>", package[part])
    assert found == 1
    repack(workspace.workbook, package)

    run_job(workspace.settings, pulling.pull)

    cached = openpyxl.load_workbook(workspace.workbook, data_only=True)[SUBMISSIONS.name]
    written = openpyxl.load_workbook(workspace.workbook)[SUBMISSIONS.name]
    assert cached.cell(row=2, column=LENGTH).value == 37
    assert written.cell(row=2, column=LENGTH).value == f"=LEN({LETTER['facts']}2)"
    assert written.cell(row=2, column=COL["id"]).value == "S-2026-000001"


def test_a_sheet_whose_rows_carry_no_numbers_is_still_written_back(workspace):
    workspace.make_workbook([item(1), item(2, process="")])
    part = sheet_part(workspace.workbook, SUBMISSIONS.name)
    package = parts(workspace.workbook)
    package[part] = re.sub(rb'(<row[^>]*?) r="\d+"', rb"\1", package[part])   # positions implied by order
    repack(workspace.workbook, package)

    run_job(workspace.settings, pulling.pull)

    rows = [r for r in workspace.rows() if r.get("title")]
    assert [r.get("id") for r in rows] == ["S-2026-000001", None]
    assert "执行过程" in rows[1]["status"]


def test_a_sheet_written_with_a_namespace_prefix_is_edited_in_place(workspace):
    workspace.make_workbook([item(1), item(2, process="")])
    part = sheet_part(workspace.workbook, SUBMISSIONS.name)
    package = parts(workspace.workbook)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    ElementTree.register_namespace("x", main)      # <x:worksheet>, <x:row>, <x:c>: as the OpenXML SDK writes
    package[part] = ElementTree.tostring(ElementTree.fromstring(package[part]), encoding="UTF-8")
    assert b"<x:row" in package[part]
    repack(workspace.workbook, package)

    run_job(workspace.settings, pulling.pull)

    rows = [r for r in workspace.rows() if r.get("title")]
    assert [r.get("id") for r in rows] == ["S-2026-000001", None]
    assert rows[0]["status"] == "已受理" and "执行过程" in rows[1]["status"]
    assert b"<x:c " in parts(workspace.workbook)[part] and b"<c " not in parts(workspace.workbook)[part]


def test_write_back_keeps_the_files_permissions(workspace):
    workspace.make_workbook([item(1)])
    os.chmod(workspace.workbook, 0o664)
    run_job(workspace.settings, pulling.pull)
    assert ids(workspace) == ["S-2026-000001"]
    assert stat.S_IMODE(workspace.workbook.stat().st_mode) == 0o664


def test_write_back_leaves_no_temporary_files_beside_the_workbook(workspace):
    workspace.make_workbook([item(1), item(2)])
    run_job(workspace.settings, pulling.pull)
    assert sorted(p.name for p in workspace.workbook.parent.iterdir() if "xlsx" in p.name) == [workspace.workbook.name]


# --- nothing to write, nothing written -------------------------------------------

def test_pull_with_nothing_changed_does_not_write_the_file(workspace):
    workspace.make_workbook([item(1), item(2)])
    first = run_job(workspace.settings, pulling.pull)
    assert first.cells_written == 4
    os.utime(workspace.workbook, ns=(OLD * 10**9, OLD * 10**9))
    data, inode = workspace.workbook.read_bytes(), workspace.workbook.stat().st_ino

    summary = run_job(workspace.settings, pulling.pull)
    assert summary.cells_written == 0
    assert workspace.workbook.read_bytes() == data
    assert workspace.workbook.stat().st_mtime_ns == OLD * 10**9
    assert workspace.workbook.stat().st_ino == inode


# --- an office suite has the workbook open -----------------------------------------

LOCKS = {
    "libreoffice": (".~lock.{name}#", "张三,zhangsan-pc,/home/zhangsan,26.11.2026 09:55,file:///home/zhangsan/.config/libreoffice/4;"),
    "excel-wps": ("~${name}", "\x06zhangsan" + " " * 40),
}


@pytest.fixture(params=sorted(LOCKS))
def locked(request, workspace):
    """A fresh workbook with an office suite's lock file beside it, pulled once while it is open."""
    pattern, content = LOCKS[request.param]
    workspace.make_workbook([item(1), item(2)])
    workspace.original = workspace.workbook.read_bytes()
    workspace.lock = workspace.workbook.parent / pattern.format(name=workspace.workbook.name)
    workspace.lock.write_text(content, encoding="utf-8")
    workspace.summary = run_job(workspace.settings, pulling.pull)
    return workspace


def test_an_open_workbook_is_still_taken_in_and_recorded(locked):
    assert locked.summary.accepted == 2 and locked.summary.new == 2
    assert set(known(locked)) == {"S-2026-000001", "S-2026-000002"}


def test_an_open_workbook_is_not_written_and_the_wait_names_the_lock_file(locked):
    assert locked.workbook.read_bytes() == locked.original
    assert isinstance(locked.summary.waiting, SourceBusy) and locked.summary.cells_written == 0
    warning = locked.summary.waiting_note
    assert "尚未写回" in warning
    assert locked.lock.name in warning and "11月26日 10:00" in warning


def test_the_cli_says_the_write_back_waits_in_one_line_and_exits_0(locked):
    result = locked.cli("-v", "pull")
    assert result.returncode == 0, result.stderr
    assert "尚未写回" in result.stdout and locked.lock.name in result.stdout
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "编号和状态等待写回" in line]) == 1


def test_status_and_the_digest_say_since_when_the_write_back_waits(locked, monkeypatch):
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-26T15:30:00+08:00")
    assert locked.cli("pull").returncode == 0
    shown = locked.cli("status").stdout
    assert "尚未写回" in shown and "自 11月26日 10:00 起等待" in shown
    (digest,) = run_job(locked.settings, week.digest, dry_run=True).previews
    assert "自 11月26日 10:00 起等待" in digest.text and locked.lock.name in digest.text


def test_repeated_pulls_while_the_workbook_is_open_change_nothing(locked):
    before = known(locked)
    again = run_job(locked.settings, pulling.pull)
    assert (again.new, again.changed, again.accepted) == (0, 0, 2)
    assert known(locked) == before


def test_after_the_lock_goes_the_same_ids_are_written_and_edits_made_meanwhile_survive(locked):
    # While it was open, someone fixed a typo in row 1's 执行过程 and added a row.
    book = openpyxl.load_workbook(locked.workbook)
    sheet = book[SUBMISSIONS.name]
    sheet.cell(row=2, column=COL["process"]).value = "执行干警多次上门，被执行人终于主动履行，已全部结清。"
    for key, value in item(3).items():
        sheet.cell(row=4, column=COL[key]).value = value
    book.save(locked.workbook)
    edited = locked.rows()

    locked.lock.unlink()
    summary = run_job(locked.settings, pulling.pull)

    assert summary.waiting is None
    assert ids(locked) == ["S-2026-000001", "S-2026-000002", "S-2026-000003"]
    assert [r["process"] for r in locked.rows()] == [r["process"] for r in edited]
    assert versions(locked, "S-2026-000001") == [1, 2]         # the typo fix: a new version, the same ID
    assert not any(k.removed for k in known(locked).values())
    assert not summary.waiting_note and not [w for w in summary.warnings if "尚未写回" in w]
    assert "尚未写回" not in locked.cli("status").stdout


def test_once_drafts_what_it_read_from_an_open_workbook(workspace, smtp_server):
    settings = smtp_server.configure(workspace)
    workspace.make_workbook([item(1)])
    original = workspace.workbook.read_bytes()
    (workspace.workbook.parent / f"~${workspace.workbook.name}").write_text("zhangsan", encoding="utf-8")

    result = workspace.cli("once")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert workspace.workbook.read_bytes() == original
    assert "完成（注意：编号和状态尚未写回工作簿" in result.stdout and "“编号”“状态”列；" not in result.stdout
    drafts = [m for m in smtp_server.handler.messages if "D-2026-" in str(m.parse()["Subject"])]
    assert len(drafts) == 1
    assert {a.lower() for a in drafts[0].rcpt_tos} == {a.split("<")[-1].rstrip(">").lower() for a in settings.mail.office}


# --- a corrupt or half-synced file ---------------------------------------------------

def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def garbage(data: bytes) -> bytes:
    return b"\x00\x13\x37 this is not a workbook " * 200


def empty(data: bytes) -> bytes:
    return b""


def scrambled_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle:middle + 2048]) + data[middle + 2048:]


def dangling_shared_string(data: bytes) -> bytes:
    """A whole package whose 素材 row 2 names a shared string the package does not hold (a damaged copy)."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        content = {info.filename: package.read(info) for info in package.infolist()}
    sheet = "xl/worksheets/sheet1.xml"                 # 素材 is the first sheet
    content[sheet], found = re.subn(rb'<c r="C2" t="inlineStr"><is>.*?</is></c>', rb'<c r="C2" t="s"><v>99999</v></c>',
                                    content[sheet], count=1, flags=re.DOTALL)
    assert found == 1
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, part in content.items():
            package.writestr(name, part)
    return out.getvalue()


@pytest.fixture(params=[truncate, garbage, empty, scrambled_middle, dangling_shared_string], ids=lambda f: f.__name__)
def corrupt(request, workspace):
    """Pulled once, then edited (a pending change), then the file broken on disk."""
    workspace.make_workbook([item(1), item(2)])
    run_job(workspace.settings, pulling.pull)
    book = openpyxl.load_workbook(workspace.workbook)
    book[SUBMISSIONS.name].cell(row=2, column=COL["outcome"], value="补充：已全部履行。")
    book.save(workspace.workbook)
    workspace.good = workspace.workbook.read_bytes()
    workspace.known_before = known(workspace)
    workspace.workbook.write_bytes(request.param(workspace.good))
    workspace.broken = workspace.workbook.read_bytes()
    with pytest.raises(SourceError) as caught:
        run_job(workspace.settings, pulling.pull)
    workspace.error = caught.value
    return workspace


def test_corrupt_workbook_raises_source_error_naming_the_path(corrupt):
    assert isinstance(corrupt.error, SourceError)
    assert str(corrupt.workbook) in str(corrupt.error)


def test_corrupt_workbook_leaves_the_ledger_unchanged(corrupt):
    assert known(corrupt) == corrupt.known_before
    assert versions(corrupt, "S-2026-000001") == [1]


def test_corrupt_workbook_is_not_overwritten(corrupt):
    assert corrupt.workbook.read_bytes() == corrupt.broken


def test_pull_after_the_workbook_is_restored_works(corrupt):
    corrupt.workbook.write_bytes(corrupt.good)
    summary = run_job(corrupt.settings, pulling.pull)
    assert summary.changed == 1 and summary.accepted == 2
    assert versions(corrupt, "S-2026-000001") == [1, 2]
    assert corrupt.rows()[0]["status"] == "已受理（第2版）"


# --- the workbook changes between read and write-back ---------------------------------

class EditedDuringPull:
    """An XlsxSource whose file someone saves right after the pipeline read it."""

    def __init__(self, path: Path, tz, edit) -> None:
        self.inner = XlsxSource(path, tz)
        self.path = Path(path)
        self.edit = edit
        self.fetches = 0

    def describe(self) -> str:
        return self.inner.describe()

    def fetch(self, wanted):
        snapshot = self.inner.fetch(wanted)
        self.fetches += 1
        book = openpyxl.load_workbook(self.path)
        self.edit(book)
        book.save(self.path)
        return snapshot

    def save(self, snapshot, updates):
        return self.inner.save(snapshot, updates)


def colleague_adds_a_row(book) -> None:
    sheet = book[SUBMISSIONS.name]
    for key, value in item(9).items():
        sheet.cell(row=4, column=COL[key], value=value)


@pytest.fixture
def raced(workspace):
    workspace.make_workbook([item(1), item(2)])
    settings = workspace.settings
    source = EditedDuringPull(workspace.workbook, settings.timezone, colleague_adds_a_row)
    workspace.summary = run_job(settings, pulling.pull, source=source)
    assert source.fetches == 1
    return workspace


def test_workbook_changed_after_the_read_is_not_written_and_the_write_back_waits(raced):
    assert isinstance(raced.summary.waiting, SourceChanged)
    assert str(raced.workbook) in str(raced.summary.waiting)
    assert "尚未写回" in raced.summary.waiting_note


def test_workbook_changed_after_the_read_records_what_was_read(raced):
    assert set(known(raced)) == {"S-2026-000001", "S-2026-000002"}


def test_workbook_changed_after_the_read_keeps_the_other_persons_edit(raced):
    rows = raced.rows()
    assert [r["title"] for r in rows] == [item(1)["title"], item(2)["title"], item(9)["title"]]
    assert [r.get("id") for r in rows] == [None, None, None]


def test_plain_pull_after_a_changed_workbook_writes_the_recorded_ids_and_takes_the_new_row(raced):
    summary = run_job(raced.settings, pulling.pull)
    assert summary.accepted == 3 and summary.new == 1 and summary.waiting is None
    assert ids(raced) == ["S-2026-000001", "S-2026-000002", "S-2026-000003"]
    assert set(known(raced)) == {"S-2026-000001", "S-2026-000002", "S-2026-000003"}


# --- no workbook at all -----------------------------------------------------------------

def test_missing_workbook_raises_source_error_suggesting_init(workspace):
    assert not workspace.workbook.exists()
    with pytest.raises(SourceError) as caught:
        run_job(workspace.settings, pulling.pull)
    assert "init" in str(caught.value)
    assert str(workspace.workbook) in str(caught.value)
    assert not workspace.workbook.exists()


@pytest.mark.parametrize("seed", range(20))
def test_cells_written_in_place_read_back_as_openpyxl_would_have_written_them(tmp_path, seed):
    """Random sheets (gaps, styles, shared and inline strings, numbers, formulas) and random edits:
    every cell reads back as the edit left it, and every other cell as it was."""
    rng = random.Random(seed)
    book = openpyxl.Workbook()
    sheets = [book.active, book.create_sheet("第二页")]
    for sheet in sheets:
        for _ in range(rng.randint(5, 60)):
            row, column = rng.randint(1, 40), rng.randint(1, 15)
            sheet.cell(row=row, column=column, value=rng.choice(
                ["执行一组", "  留空格  ", "a&b<c>", 42, 3.5, "=1+1", None, "S-2026-000001"]))
            if rng.random() < 0.3:
                sheet.cell(row=row, column=column).font = Font(bold=True)
    path = tmp_path / "book.xlsx"
    book.save(path)
    expected = {(s.title, c.row, c.column): c.value for s in sheets for r in s.iter_rows() for c in r}
    edits = []
    for _ in range(rng.randint(1, 40)):
        sheet = rng.choice(sheets)
        edit = (sheet.title, rng.randint(1, 50), rng.randint(1, 20), rng.choice(["", "已受理", " 前后空格 ", "<&>"]))
        edits.append(edit)
        expected[edit[:3]] = edit[3] or None

    path.write_bytes(write_cells(path.read_bytes(), edits))

    reread = openpyxl.load_workbook(path)
    actual = {(s.title, c.row, c.column): c.value for s in reread.worksheets for r in s.iter_rows() for c in r}
    assert {k: v for k, v in actual.items() if v is not None} == {k: v for k, v in expected.items() if v is not None}
    styled = {(s.title, c.row, c.column) for s in sheets for r in s.iter_rows() for c in r if c.font.b}
    assert styled <= {(s.title, c.row, c.column) for s in reread.worksheets for r in s.iter_rows() for c in r
                      if c.font.b}


def test_a_read_only_workbook_is_never_replaced(workspace: Workspace) -> None:
    """chmod 444 (or Windows' read-only attribute): the pull records what it read, says the file is
    read-only (exit 1: a person must act), and leaves the file as it was."""
    workspace.make_workbook([material()])
    workspace.workbook.chmod(0o444)
    before = workspace.workbook.read_bytes()
    try:
        result = workspace.cli("pull")
        assert result.returncode == 1 and "只读" in result.stdout and "Traceback" not in result.stderr
        assert workspace.workbook.read_bytes() == before
        assert stat.S_IMODE(workspace.workbook.stat().st_mode) == 0o444
        assert set(known(workspace)) == {"S-2026-000001"}
    finally:
        workspace.workbook.chmod(0o644)
    assert workspace.cli("pull").returncode == 0          # writable again: the next cycle writes back
    assert ids(workspace) == ["S-2026-000001"]


def test_a_temporary_copy_a_killed_run_left_is_removed_by_the_next_write_back(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    old = workspace.workbook.parent / ".~pipeline-killed.xlsx"
    old.write_bytes(b"x" * 1024)
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = workspace.workbook.parent / ".~pipeline-running.xlsx"
    fresh.write_bytes(b"y")

    assert workspace.cli("pull").returncode == 0

    assert not old.exists() and fresh.exists()           # another run's copy in progress is left alone


@pytest.mark.parametrize("seed", range(12))
def test_a_workbook_damaged_anywhere_gives_a_message_not_a_traceback(workspace: Workspace, seed: int) -> None:
    workspace.make_workbook([material(), material(case_number="（2026）琼9003执1235号", title="另一篇")])
    data = bytearray(workspace.workbook.read_bytes())
    rng = random.Random(seed)
    for _ in range(20):
        position = rng.randrange(200, len(data) - 200)
        data[position] ^= 0xFF
    workspace.workbook.write_bytes(bytes(data))

    result = workspace.cli("pull")

    # Which part the damage hits depends on the bytes (the workbook carries its creation time): whatever
    # it hits, one Chinese line naming the file, exit 1, and the file left as it was.
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("错误：") and str(workspace.workbook) in result.stderr
    assert workspace.workbook.read_bytes() == bytes(data)


def test_control_characters_in_the_sheet_xml_give_a_message_not_a_traceback(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    with zipfile.ZipFile(workspace.workbook) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = next(name for name in parts if name.startswith("xl/worksheets/sheet"))
    parts[sheet] = parts[sheet].replace(b"<c ", b"\x01<c ", 1)
    with zipfile.ZipFile(workspace.workbook, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)

    result = workspace.cli("pull")

    assert result.returncode == 1 and "Traceback" not in result.stderr and "无法解析" in result.stderr


def test_a_cell_longer_than_excel_allows_is_refused_and_not_kept_whole(workspace: Workspace) -> None:
    """Excel and openpyxl stop a cell at 32,767 characters; a crafted file need not."""
    workspace.make_workbook([material(facts="案情" * 20_000)])          # written cut at 32,767
    with zipfile.ZipFile(workspace.workbook) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    column = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[[c.key for c in SUBMISSIONS.columns].index("facts")]
    sheet = next(name for name, content in parts.items() if f'<c r="{column}2"'.encode() in content)
    parts[sheet] = re.sub(f'<c r="{column}2"([^>]*)><is><t>.*?</t></is></c>'.encode(),
                          lambda m: f'<c r="{column}2"'.encode() + m.group(1) + b"><is><t>"
                          + ("案情" * 20_000).encode() + b"</t></is></c>", parts[sheet], count=1, flags=re.S)
    with zipfile.ZipFile(workspace.workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)

    result = workspace.cli("pull")

    assert result.returncode == 0
    [row] = workspace.rows()
    assert "案情超过 32767 字（40000 字）" in row["status"]
    with Ledger(workspace.ledger) as ledger:
        stored = [r[0] for r in ledger.db.execute("SELECT data FROM submission_versions")]
        stored += [r[0] for r in ledger.db.execute("SELECT message FROM row_errors")]
    assert stored and all(len(text) < 40_000 for text in stored)


def test_a_workbook_that_unpacks_beyond_the_limit_is_not_read(workspace: Workspace) -> None:
    workspace.configure("sheet", max_mb=1)
    workspace.make_workbook([material(case_number=f"（2026）琼9003执{1000 + i}号", facts="案情" * 15_000)
                             for i in range(40)])                       # ~1.2 million characters of text

    result = workspace.cli("pull")

    assert result.returncode == 1 and "超过上限 1 MB" in result.stderr and "Traceback" not in result.stderr
    with Ledger(workspace.ledger) as ledger:
        assert ledger.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_once_on_a_read_only_workbook_records_drafts_and_exits_1_naming_it(workspace: Workspace) -> None:
    """A read-only workbook needs a person: the scheduled cycle fails (so cron and the digest say so), but what
    it read is recorded and drafted."""
    workspace.make_workbook([item(1)])
    workspace.workbook.chmod(0o444)
    try:
        result = workspace.cli("once")
    finally:
        workspace.workbook.chmod(0o644)
    assert result.returncode == 1 and "只读" in result.stdout and "Traceback" not in result.stderr
    assert set(known(workspace)) == {"S-2026-000001"}
    with Ledger(workspace.ledger) as book:
        assert [d["submission_id"] for d in book.drafts("pending")] == ["S-2026-000001"]


def test_a_pull_of_an_open_workbook_does_not_claim_the_problems_are_marked_in_the_sheet(locked):
    book = openpyxl.load_workbook(locked.workbook)
    book[SUBMISSIONS.name].cell(row=3, column=COL["process"]).value = None
    book.save(locked.workbook)
    result = locked.cli("pull")
    assert result.returncode == 0
    assert "已在" not in result.stdout and "将在写回时于“状态”列注明" in result.stdout
    assert "恢复编号" not in result.stdout


def test_write_back_widens_a_rows_spans_to_the_left_for_the_id_it_writes(workspace):
    """Excel writes ``spans`` per block of rows: where no 编号 is filled in yet, the block's span starts at
    the second column. The 编号 written into column A must fall inside its row's span afterwards."""
    workspace.make_workbook([item(1), item(2)])
    part = sheet_part(workspace.workbook, SUBMISSIONS.name)
    package = parts(workspace.workbook)
    package[part] = re.sub(rb'<row r="([23])"', rb'<row r="\1" spans="2:12"', package[part])
    assert package[part].count(b'spans="2:12"') == 2
    repack(workspace.workbook, package)

    run_job(workspace.settings, pulling.pull)

    assert ids(workspace) == ["S-2026-000001", "S-2026-000002"]
    sheet = parts(workspace.workbook)[part]
    for number in (2, 3):
        row = re.search(rb'<row r="%d"[^>]*>(.*?)</row>' % number, sheet, re.DOTALL)
        spans = re.search(rb'spans="(\d+):(\d+)"', row[0])
        columns = [openpyxl.utils.column_index_from_string(ref.decode())
                   for ref in re.findall(rb'<c r="([A-Z]+)%d"' % number, row[1])]
        assert int(spans[1]) <= min(columns) and max(columns) <= int(spans[2]), (spans[0], columns)
