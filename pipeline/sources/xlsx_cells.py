"""Write a few cells of an .xlsx in place: every other byte of the workbook stays.

Loading a workbook into openpyxl and saving it back rewrites the whole file:
pictures and charts are dropped, and formulas lose their cached results
until an office suite recalculates them. The pipeline only ever writes the
two columns it owns (编号, 状态), so it edits just those cells in the
worksheets' XML, as inline strings keeping each cell's style, and copies
every other part of the package (other sheets, shared strings, drawings,
charts, styles, calcChain) unchanged.

lxml keeps every namespace prefix as written; the standard library's
ElementTree would rename them, and Excel then rejects a sheet whose
``mc:Ignorable`` names a prefix that no longer exists.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL = re.compile(r"([A-Z]+)(\d+)")
_PARSER = etree.XMLParser(remove_blank_text=False, resolve_entities=False, huge_tree=True)


class Unsupported(Exception):
    """The package is laid out in a way this writer does not edit (the caller falls back)."""


def column_letter(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def write_cells(data: bytes, cells: Iterable[tuple[str, int, int, str]]) -> bytes:
    """``data`` (an .xlsx) with each (tab title, row, column, text) set; the new package's bytes."""
    by_tab: dict[str, list[tuple[int, int, str]]] = {}
    for tab, row, column, text in cells:
        by_tab.setdefault(tab, []).append((row, column, text))
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = _sheet_parts(source)
        patched = {}
        for tab, changes in by_tab.items():
            if tab not in parts:
                raise Unsupported(f"no worksheet part for {tab!r}")
            patched[parts[tab]] = _patch_sheet(source.read(parts[tab]), changes)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                content = patched.get(info.filename)
                target.writestr(info, source.read(info) if content is None else content,
                                compress_type=info.compress_type)
    return out.getvalue()


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Tab title → the worksheet part's name in the package (``xl/worksheets/sheet1.xml``)."""
    workbook = _workbook_part(package)
    rels_name = posixpath.join(posixpath.dirname(workbook), "_rels", posixpath.basename(workbook) + ".rels")
    targets = {}
    for rel in etree.fromstring(package.read(rels_name), _PARSER).iter(f"{{{RELS}}}Relationship"):
        target = rel.get("Target", "")
        targets[rel.get("Id")] = (target.lstrip("/") if target.startswith("/")
                                  else posixpath.normpath(posixpath.join(posixpath.dirname(workbook), target)))
    parts = {}
    for sheet in etree.fromstring(package.read(workbook), _PARSER).iter(f"{{{MAIN}}}sheet"):
        rid = sheet.get(f"{{{OFFICE_RELS}}}id")
        if rid in targets:
            parts[sheet.get("name")] = targets[rid]
    return parts


def _workbook_part(package: zipfile.ZipFile) -> str:
    root = etree.fromstring(package.read("_rels/.rels"), _PARSER)
    for rel in root.iter(f"{{{RELS}}}Relationship"):
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    raise Unsupported("no officeDocument relationship")


def _patch_sheet(xml: bytes, changes: list[tuple[int, int, str]]) -> bytes:
    root = etree.fromstring(xml, _PARSER)
    data = root.find(f"{{{MAIN}}}sheetData")
    if data is None:
        raise Unsupported("a worksheet without sheetData")
    rows = {}
    for row in data.iterfind(f"{{{MAIN}}}row"):
        if row.get("r") is None:
            raise Unsupported("a row without its number")       # positions implied by order: not edited here
        rows[int(row.get("r"))] = row
    for number, column, text in changes:
        row = rows.get(number)
        if row is None:
            row = rows[number] = _insert_row(data, number)
        _set(_cell(row, number, column), text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _insert_row(data: etree._Element, number: int) -> etree._Element:
    row = etree.Element(f"{{{MAIN}}}row", r=str(number))
    for existing in data.iterfind(f"{{{MAIN}}}row"):
        if int(existing.get("r")) > number:
            existing.addprevious(row)
            return row
    data.append(row)
    return row


def _cell(row: etree._Element, number: int, column: int) -> etree._Element:
    """The row's cell in ``column``, made in its place (cells stay in column order) when missing."""
    ref = f"{column_letter(column)}{number}"
    for cell in row.iterfind(f"{{{MAIN}}}c"):
        match = _CELL.fullmatch(cell.get("r") or "")
        if match is None:
            raise Unsupported("a cell without its reference")
        if cell.get("r") == ref:
            return cell
        if column_number(match[1]) > column:
            new = etree.Element(f"{{{MAIN}}}c", r=ref)
            cell.addprevious(new)
            return new
    new = etree.SubElement(row, f"{{{MAIN}}}c", r=ref)
    _widen_spans(row, column)
    return new


def _widen_spans(row: etree._Element, column: int) -> None:
    """A row's optional ``spans`` hint must cover its cells."""
    spans = row.get("spans")
    if spans and re.fullmatch(r"\d+:\d+", spans):
        first, last = (int(n) for n in spans.split(":"))
        if column > last:
            row.set("spans", f"{first}:{column}")


def _set(cell: etree._Element, text: str) -> None:
    """The cell holds ``text`` as an inline string (blank: no value); its style stays."""
    for child in list(cell):
        cell.remove(child)
    if not text:
        cell.attrib.pop("t", None)
        return
    cell.set("t", "inlineStr")
    inline = etree.SubElement(cell, f"{{{MAIN}}}is")
    value = etree.SubElement(inline, f"{{{MAIN}}}t")
    value.text = text
    if text != text.strip():
        value.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
