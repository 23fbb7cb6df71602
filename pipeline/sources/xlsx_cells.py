"""Write a few cells of an .xlsx in place: every other byte of the workbook stays.

Loading a workbook into openpyxl and saving it back rewrites the whole file:
pictures, charts and parts openpyxl does not know are dropped, and formulas
lose their cached results until an office suite recalculates them. The
pipeline only ever writes the two columns it owns (编号, 状态), so it edits
just those cells, as inline strings keeping each cell's style, and copies
every other part of the package (other sheets, shared strings, drawings,
charts, styles, calcChain, custom XML) unchanged.

The edit is made on the worksheet's bytes, row by row, rather than on a
parsed tree: a 10,000-row sheet is some 30 MB of XML, which as a tree would
take ten times that in memory, and a tree serialiser may also rename the
namespace prefixes that Excel's ``mc:Ignorable`` refers to. Rows and cells
are found by their ``r`` references; a sheet that omits them (allowed, rare)
raises :class:`Unsupported` and the caller falls back to a full save.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable
from xml.etree import ElementTree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# zlib's level for the sheets a write-back edits. A 10,000-row sheet is some 30 MB of XML: level 1 deflates
# it in a fifth of the time the default level 6 takes, and the file comes out about a third bigger until an
# office suite next saves it (bench row a, the changed pull, times the write-back with it).
EDITED_LEVEL = 1

_REF = re.compile(r"([A-Z]+)(\d+)")
_SHEET_DATA = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>")
_ENCODING = re.compile(rb"^<\?xml[^>]*\bencoding=[\"']([^\"']+)[\"']")
_R = re.compile(rb'\br="([^"]*)"')
_STYLE = re.compile(rb'\bs="(\d+)"')
_SPANS = re.compile(rb'\bspans="(\d+):(\d+)"')
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


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
    by_tab: dict[str, dict[int, dict[int, str]]] = {}
    for tab, row, column, text in cells:
        by_tab.setdefault(tab, {}).setdefault(row, {})[column] = text
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
                if content is None:
                    target.writestr(info, source.read(info), compress_type=info.compress_type)
                else:                              # the edited sheet: compressed fast (see EDITED_LEVEL)
                    target.writestr(info, content, compress_type=info.compress_type, compresslevel=EDITED_LEVEL)
    return out.getvalue()


# --- where each tab's XML is ------------------------------------------------------------

def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Tab title → the worksheet part's name in the package (``xl/worksheets/sheet1.xml``)."""
    workbook = _workbook_part(package)
    rels_name = posixpath.join(posixpath.dirname(workbook), "_rels", posixpath.basename(workbook) + ".rels")
    targets = {}
    for rel in ElementTree.fromstring(package.read(rels_name)).iter(f"{{{RELS}}}Relationship"):
        target = rel.get("Target", "")
        targets[rel.get("Id")] = (target.lstrip("/") if target.startswith("/")
                                  else posixpath.normpath(posixpath.join(posixpath.dirname(workbook), target)))
    parts = {}
    for sheet in ElementTree.fromstring(package.read(workbook)).iter(f"{{{MAIN}}}sheet"):
        rid = sheet.get(f"{{{OFFICE_RELS}}}id")
        if rid in targets:
            parts[sheet.get("name")] = targets[rid]
    return parts


def _workbook_part(package: zipfile.ZipFile) -> str:
    for rel in ElementTree.fromstring(package.read("_rels/.rels")).iter(f"{{{RELS}}}Relationship"):
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    raise Unsupported("no officeDocument relationship")


# --- one worksheet ------------------------------------------------------------------------

def _patch_sheet(xml: bytes, changes: dict[int, dict[int, str]]) -> bytes:
    """The worksheet's XML with ``changes`` (row → column → text) made; nothing else touched."""
    declared = _ENCODING.match(xml)
    if declared and declared[1].lower().replace(b"-", b"") != b"utf8":
        raise Unsupported(f"a worksheet encoded as {declared[1].decode('ascii', 'replace')}")
    found = _SHEET_DATA.search(xml)
    if found is None:
        raise Unsupported("a worksheet without sheetData")
    prefix = found[1]
    if found[2]:                                   # <sheetData/>: nothing yet
        rows = b"".join(_new_row(prefix, n, changes[n]) for n in sorted(changes))
        return xml[:found.start()] + b"<%ssheetData>%s</%ssheetData>" % (prefix, rows, prefix) + xml[found.end():]
    end = xml.find(b"</%ssheetData>" % prefix, found.end())
    if end < 0:
        raise Unsupported("sheetData is not closed")
    pieces, cursor, pending = [xml[:found.end()]], found.end(), sorted(changes)
    for start, stop, attrs, body in _rows(xml, prefix, found.end(), end):
        number = _number(attrs)
        while pending and pending[0] < number:   # rows to add before this one
            pieces += [xml[cursor:start], _new_row(prefix, pending[0], changes[pending[0]])]
            cursor = start
            pending.pop(0)
        if pending and pending[0] == number:
            pieces += [xml[cursor:start], _patch_row(prefix, number, attrs, body and xml[body[0]:body[1]],
                                                     changes[number])]
            cursor = stop
            pending.pop(0)
        if not pending:
            break
    pieces.append(xml[cursor:end])
    pieces += [_new_row(prefix, n, changes[n]) for n in pending]
    pieces.append(xml[end:])
    return b"".join(pieces)


def _rows(xml: bytes, prefix: bytes, start: int, end: int):
    """(start, end, attributes, where its body is or None) of each row between ``start`` and ``end``, in order.

    Found with ``bytes.find`` rather than one regular expression: a lazy ``(.*?)</row>`` tries the end tag
    at every byte of a 30 MB sheet, which took half a second to reach the last rows."""
    opening, closing = b"<%srow" % prefix, b"</%srow>" % prefix
    position = start
    while True:
        found = xml.find(opening, position, end)
        if found < 0:
            return
        after = found + len(opening)
        if after >= end or xml[after] not in _AFTER_NAME:      # <rowBreaks> and the like: not a row
            position = after
            continue
        close = xml.find(b">", after, end)
        if close < 0:
            return
        if xml[close - 1] == 0x2F:                               # <row .../>
            yield found, close + 1, xml[after:close - 1], None
            position = close + 1
            continue
        stop = xml.find(closing, close, end)
        if stop < 0:
            return
        yield found, stop + len(closing), xml[after:close], (close + 1, stop)
        position = stop + len(closing)


_AFTER_NAME = frozenset(b" \t\r\n/>")


def _number(attrs: bytes) -> int:
    found = _R.search(attrs)
    if found is None or not found[1].isdigit():
        raise Unsupported("a row without its number")   # positions implied by order: not edited here
    return int(found[1])


def _patch_row(prefix: bytes, number: int, attrs: bytes, body: bytes | None,
               changes: dict[int, str]) -> bytes:
    cell = re.compile(rb"<%sc\b([^>]*?)(?:/>|>.*?</%sc>)" % (re.escape(prefix), re.escape(prefix)), re.S)
    pieces, cursor, pending = [], 0, sorted(changes)
    body = body or b""
    for match in cell.finditer(body):
        ref = _R.search(match[1])
        parsed = _REF.fullmatch(ref[1].decode("ascii", "replace")) if ref else None
        if parsed is None:
            raise Unsupported("a cell without its reference")
        column = column_number(parsed[1])
        while pending and pending[0] < column:
            pieces += [body[cursor:match.start()], _cell(prefix, number, pending[0], changes[pending[0]], b"")]
            cursor = match.start()
            pending.pop(0)
        if pending and pending[0] == column:
            style = _STYLE.search(match[1])
            pieces += [body[cursor:match.start()],
                       _cell(prefix, number, column, changes[column], style[0] if style else b"")]
            cursor = match.end()
            pending.pop(0)
    pieces.append(body[cursor:])
    pieces += [_cell(prefix, number, c, changes[c], b"") for c in pending]
    return b"<%srow%s>%s</%srow>" % (prefix, _widened(attrs, min(changes), max(changes)), b"".join(pieces), prefix)


def _new_row(prefix: bytes, number: int, changes: dict[int, str]) -> bytes:
    cells = b"".join(_cell(prefix, number, c, changes[c], b"") for c in sorted(changes))
    return b'<%srow r="%d">%s</%srow>' % (prefix, number, cells, prefix)


def _widened(attrs: bytes, first: int, last: int) -> bytes:
    """A row's optional ``spans`` hint must cover its cells, on both sides: Excel writes one span for a
    block of rows, starting at the second column where no 编号 is filled in yet."""
    spans = _SPANS.search(attrs)
    if spans and (first < int(spans[1]) or last > int(spans[2])):
        return (attrs[:spans.start()] + b'spans="%d:%d"' % (min(first, int(spans[1])), max(last, int(spans[2])))
                + attrs[spans.end():])
    return attrs


def _cell(prefix: bytes, number: int, column: int, text: str, style: bytes) -> bytes:
    """A cell holding ``text`` as an inline string (blank: no value), in its former style."""
    ref = f"{column_letter(column)}{number}".encode("ascii")
    style = b" " + style if style else b""
    if not text:
        return b'<%sc r="%s"%s/>' % (prefix, ref, style)
    escaped = _NOT_XML.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = b' xml:space="preserve"' if text != text.strip() else b""
    return (b'<%sc r="%s"%s t="inlineStr"><%sis><%st%s>%s</%st></%sis></%sc>'
            % (prefix, ref, style, prefix, prefix, space, escaped.encode("utf-8"), prefix, prefix, prefix))
