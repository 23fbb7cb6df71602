"""A workbook's rows read once while their XML stays the same: the values openpyxl's read-only mode gives.

``sources.xlsx_rows`` cuts each worksheet into its rows and parses only the
rows this process has not parsed before (in a workbook with the same shared
strings, date formats and date system); what it is not sure of, it leaves
to openpyxl. Every cell type a spreadsheet program writes must read exactly
as openpyxl reads it — cold, warm, after an edit, after the shared strings
or the styles changed under the same sheet XML, and where the reader hands
over to openpyxl half-way.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import tracemalloc
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from pipeline.sources import xlsx_rows
from pipeline.sources.xlsx import XlsxSource
from pipeline.sources.xlsx_cells import write_cells

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TZ = ZoneInfo("Asia/Shanghai")


def openpyxl_rows(path: Path) -> dict[str, list[tuple]]:
    """Every sheet as openpyxl's read-only mode reads it, values only, dimensions reset."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = {}
        for sheet in book.worksheets:
            sheet.reset_dimensions()
            rows[sheet.title] = [tuple(row) for row in sheet.iter_rows(values_only=True)]
        return rows
    finally:
        book.close()


def reader_rows(path: Path) -> dict[str, list[tuple]]:
    """Every sheet as the row reader gives it (remembering the rows for the next read)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        reader = xlsx_rows.RowReader(book, str(path))
        rows = {sheet.title: [tuple(row) for row in reader.rows(sheet)] for sheet in book.worksheets}
        reader.keep()
        return rows
    finally:
        book.close()


def typed(values: list[tuple]) -> list[list[tuple[type, object]]]:
    """Values with their types: 1 == 1.0 == True, and a date equals nothing but a date, yet must not pass."""
    return [[(type(v), v) for v in row] for row in values]


@pytest.fixture(autouse=True)
def forget_rows():
    xlsx_rows._remembered.clear()
    yield
    xlsx_rows._remembered.clear()


@pytest.fixture
def parsed_rows(monkeypatch):
    """Counts the rows the reader hands to openpyxl's parser."""
    count = [0]
    original = xlsx_rows._Parser.parse_row

    def counting(self, element):
        count[0] += 1
        return original(self, element)
    monkeypatch.setattr(xlsx_rows._Parser, "parse_row", counting)
    return count


# --- workbooks with every kind of cell ---------------------------------------------------------

def styled_template(path: Path, *, epoch_1904: bool = False, date: str = "yyyy-mm-dd") -> dict[str, int]:
    """A workbook whose styles hold a date, a date-time, a time and a duration format; their style numbers."""
    book = openpyxl.Workbook()
    if epoch_1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book.active
    formats = {"date": date, "datetime": "yyyy-mm-dd hh:mm", "time": "h:mm", "duration": "[h]:mm:ss",
               "percent": "0.00%"}
    for column, fmt in enumerate(formats.values(), start=1):
        cell = sheet.cell(row=1, column=column, value=1.5)
        cell.number_format = fmt
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    styles = {}
    for column, name in enumerate(formats, start=1):
        ref = f'r="{openpyxl.utils.get_column_letter(column)}1"'
        styles[name] = int(xml.split(ref, 1)[1].split('s="', 1)[1].split('"', 1)[0])
    return styles


def with_parts(path: Path, sheet_xml: str, strings: list[str] | None = None, *, sheet_strings_xml: str | None = None) -> Path:
    """``path`` with its first sheet's XML replaced and, when given, a shared-strings part added."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.encode("utf-8")
    if strings is not None or sheet_strings_xml is not None:
        items = sheet_strings_xml or "".join(f"<si><t xml:space=\"preserve\">{s}</t></si>" for s in strings)
        parts["xl/sharedStrings.xml"] = (f'<sst xmlns="{MAIN}" count="{items.count("<si>")}" '
                                         f'uniqueCount="{items.count("<si>")}">{items}</sst>').encode()
        types = parts["[Content_Types].xml"].decode()
        if "sharedStrings" not in types:
            parts["[Content_Types].xml"] = types.replace(
                "</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                "vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/></Types>").encode()
            rels = parts["xl/_rels/workbook.xml.rels"].decode()
            parts["xl/_rels/workbook.xml.rels"] = rels.replace(
                "</Relationships>", '<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>').encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


def worksheet(rows: str, *, prefix: str = "", head: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    declaration = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {declaration} '
            f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">{head}'
            f"<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>")


def every_kind(s: dict[str, int]) -> str:
    """Rows with each cell type spreadsheet programs write, laid out the ways they write them."""
    return (
        # shared strings, inline plain, inline with spaces kept, inline rich text with a phonetic part
        '<row r="1" spans="1:6"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>执行一组</t></is></c>'
        '<c r="D1" t="inlineStr"><is><t xml:space="preserve">  前后空格  </t></is></c>'
        '<c r="E1" t="inlineStr"><is><r><rPr><b/></rPr><t>加粗</t></r><r><t>普通</t></r>'
        '<rPh sb="0" eb="1"><t>ジ</t></rPh></is></c>'
        '<c r="F1" t="inlineStr"><is><t>a&amp;b&lt;c&gt;&#x4E2D;</t></is></c></row>'
        # numbers, a date, a date-time, a time, a duration, a percentage, a number stored as text
        f'<row r="2"><c r="A2"><v>42</v></c><c r="B2"><v>3.5</v></c><c r="C2" s="{s["date"]}"><v>46024</v></c>'
        f'<c r="D2" s="{s["datetime"]}"><v>46024.5</v></c><c r="E2" s="{s["time"]}"><v>0.3958333333333333</v></c>'
        f'<c r="F2" s="{s["duration"]}"><v>1.25</v></c><c r="G2" s="{s["percent"]}"><v>0.125</v></c>'
        '<c r="H2" t="str"><v>0012</v></c><c r="I2"><v>1E3</v></c><c r="J2"><v>-0.0</v></c></row>'
        # booleans, errors, formulas with their cached values, an ISO date, an empty string, a blank styled cell
        '<row r="4"><c r="A4" t="b"><v>1</v></c><c r="B4" t="b"><v>0</v></c><c r="C4" t="e"><v>#DIV/0!</v></c>'
        '<c r="D4"><f>1+1</f><v>2</v></c><c r="E4" t="str"><f>A1&amp;"x"</f><v>文字x</v></c>'
        '<c r="F4"><f>B2*2</f></c><c r="G4" t="d"><v>2026-11-26T10:00:00</v></c>'
        f'<c r="H4" t="inlineStr"><is><t></t></is></c><c r="I4" s="{s["date"]}"/>'
        '<c r="J4" t="inlineStr"><is/></c><c r="K4" t="s"><v>2</v></c></row>'
        # an empty row, whitespace between rows, a row and cells without their numbers
        '<row r="5"/>\n  <row r="6"><c r="C6" t="inlineStr"><is><t>右边</t></is></c></row>\n'
        '<row><c t="inlineStr"><is><t>无号一</t></is></c><c><v>7</v></c></row>'
        '<row><c t="inlineStr"><is><t>无号一</t></is></c><c><v>7</v></c></row>'
        # a row going back (openpyxl leaves it out), a cell out of order, a far column
        '<row r="3"><c r="A3"><v>1</v></c></row>'
        '<row r="12"><c r="C12"><v>3</v></c><c r="A12"><v>1</v></c></row>'
        '<row r="14"><c r="A14" t="inlineStr"><is><t>远</t></is></c><c r="AD14"><v>30</v></c></row>'
        # two <t> in one inline string (the last one counts), an <is> with a foreign child
        '<row r="15"><c r="A15" t="inlineStr"><is><t>前</t><t>后</t></is></c>'
        '<c r="B15" t="inlineStr"><is><t>甲</t><phoneticPr fontId="1"/></is></c></row>'
    )


STRINGS = ["共享文字", " 带空格 ", "第三个"]


@pytest.mark.parametrize("chunk", [xlsx_rows.CHUNK, 7, 100])
def test_every_kind_of_cell_reads_as_openpyxl_reads_it(tmp_path: Path, monkeypatch, chunk: int) -> None:
    """Also with the sheet's XML arriving a few bytes at a time: rows cut across the reads."""
    monkeypatch.setattr(xlsx_rows, "CHUNK", chunk)
    path = tmp_path / "book.xlsx"
    with_parts(path, worksheet(every_kind(styled_template(path))), STRINGS)
    expected = openpyxl_rows(path)
    assert expected["Sheet"][0][:2] == ("共享文字", " 带空格 ")      # the workbook is what it means to be
    assert typed(reader_rows(path)["Sheet"]) == typed(expected["Sheet"])
    assert typed(reader_rows(path)["Sheet"]) == typed(expected["Sheet"])     # warm: remembered rows


def test_the_1904_date_system_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "mac.xlsx"
    with_parts(path, worksheet(every_kind(styled_template(path, epoch_1904=True))), STRINGS)
    expected = openpyxl_rows(path)
    assert expected["Sheet"][1][2] == dt.datetime(2030, 1, 3)
    assert typed(reader_rows(path)["Sheet"]) == typed(expected["Sheet"])


def test_a_namespace_prefix_and_rich_shared_strings_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "prefixed.xlsx"
    styles = styled_template(path)
    rows = every_kind(styles).replace("<row", "<x:row").replace("</row>", "</x:row>").replace(
        "<c ", "<x:c ").replace("<c>", "<x:c>").replace("</c>", "</x:c>").replace("<v>", "<x:v>").replace(
        "</v>", "</x:v>").replace("<is>", "<x:is>").replace("</is>", "</x:is>").replace("<is/>", "<x:is/>").replace(
        "<t>", "<x:t>").replace("<t ", "<x:t ").replace("</t>", "</x:t>").replace("<r>", "<x:r>").replace(
        "</r>", "</x:r>").replace("<f>", "<x:f>").replace("</f>", "</x:f>")
    rich = ("<si><r><rPr><b/></rPr><t>富</t></r><r><t xml:space=\"preserve\"> 文本</t></r></si>"
            "<si><t>二</t></si><si><t>三</t><rPh sb=\"0\" eb=\"1\"><t>サン</t></rPh></si>")
    with_parts(path, worksheet(rows, prefix="x"), sheet_strings_xml=rich)
    expected = openpyxl_rows(path)
    assert expected["Sheet"][0][0] == "富 文本"
    assert typed(reader_rows(path)["Sheet"]) == typed(expected["Sheet"])


ODD = {
    "comment between rows": ('<row r="6">', '<!-- 备注 --><row r="6">'),
    "comment in a row": ('<row r="6">', '<row r="6"><!-- 备注 -->'),
    "end tag in CDATA": ("<t>右边</t>", "<t>右<![CDATA[</row><row r=\"9\">]]>边</t>"),
    "end tag in a comment": ('<row r="6">', '<row r="6"><!-- </row> -->'),
    "'/>' in an attribute": ('<row r="6">', '<row r="6" note="a/>b">'),
    "a processing instruction": ('<row r="6">', '<?pi x?><row r="6">'),
    "an unknown element": ('<row r="6">', '<extra/><row r="6">'),
    "empty rows in a run": ('<row r="5"/>', '<row r="5"/> <row r="7" ht="20" customHeight="1"/><row r="8"/>'),
}


@pytest.mark.parametrize("odd", list(ODD))
def test_what_the_cut_is_not_sure_of_is_read_by_openpyxl_from_the_row_reached(tmp_path: Path, odd: str) -> None:
    """Comments, CDATA, end tags in odd places: the reader hands over (or reads on), the rows are the same."""
    path = tmp_path / "odd.xlsx"
    styles = styled_template(path)
    old, new = ODD[odd]
    rows = every_kind(styles).replace(old, new, 1)
    with_parts(path, worksheet(rows), STRINGS)
    expected = openpyxl_rows(path)
    assert typed(reader_rows(path)["Sheet"]) == typed(expected["Sheet"])


def test_the_same_sheet_xml_under_other_shared_strings_or_styles_is_read_afresh(tmp_path: Path) -> None:
    """A row's XML alone does not make its values: the shared strings and the date formats do too."""
    path = tmp_path / "book.xlsx"
    styles = styled_template(path)
    sheet = worksheet('<row r="1"><c r="A1" t="s"><v>0</v></c>'
                      f'<c r="B1" s="{styles["date"]}"><v>46024</v></c></row>')
    with_parts(path, sheet, ["甲"])
    assert reader_rows(path)["Sheet"] == [("甲", dt.datetime(2026, 1, 2))]
    with_parts(path, sheet, ["乙"])
    assert reader_rows(path)["Sheet"] == [("乙", dt.datetime(2026, 1, 2))]

    plain = tmp_path / "plain.xlsx"            # the same style numbers, the first a number format that is no date
    assert styled_template(plain, date="0.00") == styles
    with_parts(plain, sheet, ["乙"])
    path.write_bytes(plain.read_bytes())
    assert reader_rows(path)["Sheet"] == openpyxl_rows(path)["Sheet"] == [("乙", 46024)]


def test_a_second_read_parses_only_the_rows_that_changed(tmp_path: Path, parsed_rows) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in range(1, 301):
        sheet.append([f"S-2026-{row:06d}", f"第{row}篇", row, dt.datetime(2026, 1, 1) + dt.timedelta(hours=row)])
    path = tmp_path / "book.xlsx"
    book.save(path)
    source = XlsxSource(path, TZ)
    first = source.fetch(lambda title: True)
    assert parsed_rows[0] == 300
    path.write_bytes(write_cells(path.read_bytes(), [("Sheet", 150, 2, "第150篇（改）"), ("Sheet", 301, 1, "新")]))

    again = source.fetch(lambda title: True)

    assert parsed_rows[0] == 302
    expected = openpyxl_rows(path)["Sheet"]
    assert [tuple(r) for r in again.tabs["Sheet"].rows] == [tuple(r) + (None,) * (4 - len(r)) for r in expected]
    assert again.tabs["Sheet"].rows[149][1] == "第150篇（改）" and first.tabs["Sheet"].rows[149][1] == "第150篇"


@pytest.mark.parametrize("seed", range(12))
def test_random_sheets_and_edits_read_as_openpyxl_reads_them(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    book = openpyxl.Workbook()
    sheets = [book.active, book.create_sheet("第二页")]
    choices = ["执行一组", "  留空格  ", "a&b<c>", 42, 3.5, -7, True, False, "=1+1", None, "S-2026-000001",
               dt.datetime(2026, 11, 26, 10, 30), dt.date(2026, 1, 5), dt.time(9, 15), dt.timedelta(hours=50),
               CellRichText("前", TextBlock(InlineFont(b=True), "粗"), "后"), "", "#N/A"]
    for sheet in sheets:
        for _ in range(rng.randint(5, 80)):
            sheet.cell(row=rng.randint(1, 60), column=rng.randint(1, 25), value=rng.choice(choices))
    path = tmp_path / "book.xlsx"
    book.save(path)
    assert typed_all(reader_rows(path)) == typed_all(openpyxl_rows(path))
    for _ in range(3):
        edits = [(rng.choice(sheets).title, rng.randint(1, 70), rng.randint(1, 30), rng.choice(["", "已受理", "<&>"]))
                 for _ in range(rng.randint(1, 10))]
        path.write_bytes(write_cells(path.read_bytes(), edits))
        assert typed_all(reader_rows(path)) == typed_all(openpyxl_rows(path))


def typed_all(book: dict[str, list[tuple]]) -> dict[str, list]:
    return {title: typed(rows) for title, rows in book.items()}


def test_switched_off_the_source_reads_the_same(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "book.xlsx"
    with_parts(path, worksheet(every_kind(styled_template(path))), STRINGS)
    on = XlsxSource(path, TZ).fetch(lambda title: True)
    monkeypatch.setattr(xlsx_rows, "ENABLED", False)
    off = XlsxSource(path, TZ).fetch(lambda title: True)
    assert {t: typed(tab.rows) for t, tab in on.tabs.items()} == {t: typed(tab.rows) for t, tab in off.tabs.items()}


# --- what a second read must not take from the first ----------------------------------------------

def fetched(path: Path) -> list[tuple]:
    """The first tab as the pull's source reads it (rows remembered for the next read, as in a running process)."""
    data = XlsxSource(path, TZ).fetch(lambda title: True)
    return [tuple(row) for row in next(iter(data.tabs.values())).rows]


def test_a_row_cut_in_the_wrong_place_is_not_remembered_as_another_row(tmp_path: Path) -> None:
    """An end tag inside CDATA joins two cuts into one row, and an end tag written ``</row >`` (legal XML)
    splits one cut into two: together the count of rows matches, but the cuts hold the wrong rows. When
    the second row is edited, its old values must not come back from the cut that was remembered for it."""
    path = tmp_path / "book.xlsx"
    styled_template(path)

    def sheet(second: str) -> str:
        return worksheet('<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[</row><row r="9">]]></t></is></c></row>'
                         f'<row r="2"><c r="A2" t="inlineStr"><is><t>{second}</t></is></c></row >'
                         '<row r="3"><c r="A3"><v>3</v></c></row>')
    with_parts(path, sheet("第二行"), ["x"])
    assert fetched(path) == [('</row><row r="9">',), ("第二行",), (3,)]
    with_parts(path, sheet("第二行（改）"), ["x"])

    assert fetched(path) == openpyxl_rows(path)["Sheet"] == [('</row><row r="9">',), ("第二行（改）",), (3,)]


def test_the_same_row_bytes_under_another_namespace_binding_are_read_afresh(tmp_path: Path) -> None:
    """A row's bytes mean what the sheet's namespace declarations make them mean: ``<y:v>`` is a value
    only while ``y`` names the spreadsheet namespace."""
    path = tmp_path / "book.xlsx"
    styled_template(path)
    rows = '<row r="1"><c r="A1"><y:v>1</y:v></c><c r="B1"><v>2</v></c></row>'

    def sheet(namespace: str) -> str:
        return worksheet(rows).replace("xmlns:r=", f'xmlns:y="{namespace}" xmlns:r=')
    with_parts(path, sheet(MAIN), ["x"])
    assert fetched(path) == [(1, 2)]
    with_parts(path, sheet("urn:example:other"), ["x"])

    assert fetched(path) == openpyxl_rows(path)["Sheet"] == [(None, 2)]


def test_a_long_run_of_rows_without_cells_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    """Rows that only carry a height (``<row r="…" ht="…" customHeight="1"/>``, what a spreadsheet program
    writes when a clerk sets the height of a selection of rows) come in long runs with no end tag between
    them, and are cut one by one from the run (in one pass: the time it takes is the bench's to measure, not
    this test's)."""
    path = tmp_path / "book.xlsx"
    styled_template(path)
    count = 120_000
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>标题</t></is></c></row>'
            + "".join(f'<row r="{n}" ht="20" customHeight="1"/>' for n in range(2, count))
            + f'<row r="{count}"><c r="B{count}"><v>1</v></c></row>'
            + "".join(f'<row r="{n}" ht="20" customHeight="1"/>' for n in range(count + 1, count + 100)))
    with_parts(path, worksheet(rows), ["x"])
    expected = openpyxl_rows(path)["Sheet"]

    got = reader_rows(path)["Sheet"]

    assert got == expected and len(got) == count + 99 and got[-100] == (None, 1)


def test_the_rows_remembered_between_reads_are_bounded(tmp_path: Path, monkeypatch, parsed_rows) -> None:
    """A tab read row by row costs time bounded by its file's size but never memory (``bounded_rows``): the
    rows kept for the next read are bounded too (``BUDGET`` bytes of row XML). Rows past it are parsed
    again at the next read, and read the same."""
    monkeypatch.setattr(xlsx_rows, "BUDGET", 1 << 20, raising=False)
    path = tmp_path / "book.xlsx"
    styled_template(path)
    count = 30_000
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}" t="s"><v>0</v></c></row>'
                   for n in range(1, count + 1))
    with_parts(path, worksheet(rows), ["甲"])
    expected = openpyxl_rows(path)["Sheet"]
    gc.collect()
    tracemalloc.start()
    try:
        assert reader_rows(path)["Sheet"] == expected
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 3 << 20, held / 2**20
    first = parsed_rows[0]

    assert reader_rows(path)["Sheet"] == expected
    again = parsed_rows[0] - first
    assert first == count and 0 < again < count
