"""A worksheet's rows as openpyxl's read-only mode gives them, each row parsed once while its XML stays the same.

A pull reads every row of the 素材 tab to find the one a clerk edited: at
10,000 rows openpyxl spends seconds parsing what the last pull parsed
already. Here a worksheet's XML is cut into its ``<row>`` elements as the
bytes stream out of the package (the way ``xlsx_cells`` edits them), and a
row whose bytes this process has parsed before, in a workbook with the same
shared strings, number formats and date system, is not parsed again: its
values are those of last time (:class:`RowReader`, remembered per workbook
between pulls, as the ``run`` scheduler repeats them; up to ``BUDGET`` bytes of
rows, so that a tab of a million rows costs time but not memory). Only the rows that
are new to it are parsed — by openpyxl's own worksheet parser, so every cell
type reads as it always has (dates, times, numbers, booleans, formulas'
cached values, shared and inline strings, rich text, errors). One thing is
done faster than openpyxl does it and to the same result: a plain inline
string (``<is><t>…</t></is>``, what the write-back leaves in 编号 and 状态)
is taken from its ``<t>`` without building openpyxl's rich-text object.

Whatever this reader is not sure of — a package it cannot find its way in, an
encoding other than UTF-8, a comment, CDATA or DOCTYPE in the sheet, rows its
cut does not parse — it hands to openpyxl's own read-only iteration from the
row it had reached, so a workbook reads the same either way; a damaged one
fails the same way too (the stream is read to its end, so a bad CRC is seen).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from xml.etree import ElementTree

import openpyxl
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet._reader import INLINE_STRING, WorkSheetParser
from openpyxl.xml.functions import localname

ENABLED = True             # tests compare the rows with and without it
CHUNK = 1 << 20            # bytes of worksheet XML taken from the package at a time
PARSED = 16               # rows parsed as one document
REMEMBERED = 2             # workbooks whose rows are remembered (the configured one, and a test's)
BUDGET = 64 << 20          # bytes of row XML remembered per workbook (a 10,000-row 素材 tab is some 30 MB)
ROW_COST = 200             # what remembering a row costs besides its XML's worth of values (its digest, the dict)

_SHEET_DATA = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>")
_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*\bencoding=[\"']([^\"']+)[\"']")
_XMLNS = re.compile(rb"""\sxmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*(?:"[^"]*"|'[^']*')""")
_WHITESPACE = b" \t\r\n"
_T = "t"

_remembered: dict[str, tuple[bytes, dict[bytes, tuple[int | None, tuple]]]] = {}
_lock = threading.Lock()


class _Unsure(Exception):
    """This reader does not take the sheet further: openpyxl does, from the row reached."""


class _Parser(WorkSheetParser):
    """openpyxl's worksheet parser, with a plain inline string read straight from its ``<t>``.

    ``Text.from_tree(<is>).content`` for an ``<is>`` without attributes whose children are all ``<t>``
    is the text of the last ``<t>`` ("" when it has none): that is what this gives, for values only
    (``data_only``). Anything else — rich-text runs, phonetic parts, attributes — goes through openpyxl."""

    def parse_cell(self, element: Any) -> dict[str, Any]:
        if self.data_only and element.get("t") == "inlineStr":
            child = element.find(INLINE_STRING)
            if child is not None and not child.attrib and all(localname(el) == _T for el in child):
                style_id = element.get("s", 0)
                if style_id:
                    style_id = int(style_id)
                coordinate = element.get("r")
                if coordinate:
                    row, column = coordinate_to_tuple(coordinate)
                    self.col_counter = column
                else:
                    self.col_counter += 1
                    row, column = self.row_counter, self.col_counter
                last = child[-1].text if len(child) else None
                return {"row": row, "column": column, "value": last if last is not None else "",
                        "data_type": "s", "style_id": style_id}
        return super().parse_cell(element)


class RowReader:
    """The rows of a read-only openpyxl workbook's sheets; :meth:`keep` once every sheet was read whole.

    ``name`` (the workbook's path) says whose rows of last time may be reused."""

    def __init__(self, book: Any, name: str) -> None:
        self.book, self.name = book, name
        self.enabled = ENABLED and openpyxl.__version__.startswith("3.1.")
        self.context: bytes | None = None
        self.before: dict[bytes, tuple[int | None, tuple]] = {}
        self.now: dict[bytes, tuple[int | None, tuple]] = {}
        self.kept = 0                  # what ``now`` holds, counted as BUDGET counts it

    def rows(self, sheet: Any) -> Iterator[Sequence[Any]]:
        """What ``sheet.iter_rows(values_only=True)`` gives after ``reset_dimensions()``, row for row."""
        sheet.reset_dimensions()
        given = 0
        try:
            if not self.enabled:
                raise _Unsure
            for row in self._rows(sheet):
                given += 1
                yield row
        except _Unsure:
            yield from itertools.islice(sheet.iter_rows(values_only=True), given, None)

    def keep(self) -> None:
        """Remember this read's rows for the next one."""
        if self.context is None:
            return
        with _lock:
            _remembered.pop(self.name, None)
            while len(_remembered) >= REMEMBERED:
                _remembered.pop(next(iter(_remembered)))
            _remembered[self.name] = (self.context, self.now)

    def _rows(self, sheet: Any) -> Iterator[Sequence[Any]]:
        try:
            path, strings = sheet._worksheet_path, sheet._shared_strings
            archive, epoch = self.book._archive, self.book.epoch
            dates, times = self.book._date_formats, self.book._timedelta_formats
        except AttributeError:
            raise _Unsure from None
        context = _context(strings, dates, times, epoch)
        if self.context is None:
            self.context = context
            known = _remembered.get(self.name)
            self.before = known[1] if known is not None and known[0] == context else {}
        elif context != self.context:          # not one workbook's sheets: nothing is reused
            raise _Unsure
        parser = _Parser(None, strings, data_only=True, epoch=epoch, date_formats=dates, timedelta_formats=times)
        counter = 1                       # as openpyxl's _cells_by_row counts: the next row it owes
        number = 0                        # the last row's number (a row without r="" is the one after it)
        with archive.open(path) as stream:
            cut = _Cut(stream)
            for pieces in cut:
                new: dict[bytes, tuple[bytes, bytes]] = {}     # each row new to this process, once, in order
                for text, end, digest in pieces:
                    if digest not in self.now and digest not in self.before:
                        new.setdefault(digest, (text, end))
                parsed = cut.parse(list(new.values()))
                fresh: dict[bytes, tuple[int | None, tuple]] = {}   # parsed now, remembered or not
                for text, _end, digest in pieces:
                    known = self.now.get(digest) or self.before.get(digest) or fresh.get(digest)
                    if known is None:
                        element = next(parsed)
                        parser.row_counter = number
                        named, cells = parser.parse_row(element)
                        known = fresh[digest] = (named if "r" in element.attrib else None, _values(cells))
                    if digest not in self.now and self.kept < BUDGET:    # past it: parsed again next time
                        self.now[digest] = known
                        self.kept += len(text) + ROW_COST
                    number = number + 1 if known[0] is None else known[0]
                    for _ in range(counter, number):     # rows the sheet leaves out
                        counter += 1
                        yield []
                    if counter <= number:
                        counter += 1
                        yield known[1]


_ROW = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}row"
_ROOT = re.compile(rb"<[A-Za-z_][^>]*>")
_AFTER_NAME = frozenset(b" \t\r\n/>")
_SPACE = re.compile(rb"[ \t\r\n]*")
_MARK = "piece-end"                # an element after each cut row: each cut must parse to one row, no more or less
_MARK_BYTES = b'<%s xmlns=""/>' % _MARK.encode("ascii")


class _Cut:
    """A worksheet part's ``<row>`` elements, a chunk's worth at a time (iterate it): each as (its bytes
    without the end tag, the end tag it takes — ``</row>``, or nothing for ``<row …/>`` — and a digest).

    The rows are found by splitting on the end tag (one pass in C over the chunk), not by reading every
    tag. A row cut in the wrong place (an end tag inside a comment or CDATA, or one written ``</row >``)
    does not parse as one row followed by the mark :meth:`parse` puts after it, and the parse says so;
    a row whose bytes parsed once so, under the same namespace declarations, is whole (the digest covers
    the declarations). Raises :class:`_Unsure` where the XML is not laid out as spreadsheet programs
    write it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.namespaces = b""
        self.seed = hashlib.sha1(usedforsecurity=False)

    def __iter__(self) -> Iterator[list[tuple[bytes, bytes, bytes]]]:
        buffer = b""
        while True:                      # the head, up to and including <sheetData>
            more = self.stream.read(CHUNK)
            buffer += more
            found = _SHEET_DATA.search(buffer)
            if found is not None:
                break
            if not more:
                raise _Unsure
        head = buffer[:found.start()]
        declared = _ENCODING.match(head)
        root = _ROOT.search(head)
        if (declared and declared[1].lower().replace(b"-", b"") != b"utf8") or b"<!" in head or root is None:
            raise _Unsure
        # The rows are read under the namespaces of the root element and of <sheetData>.
        self.namespaces = b"".join(dict.fromkeys(_XMLNS.findall(root[0]) + _XMLNS.findall(found[0])))
        self.seed.update(self.namespaces + b"\0")      # the same bytes under other declarations are another row
        if found[2]:                     # <sheetData/>: no rows
            self._drain()
            return
        prefix = found[1]
        self.row_open, self.row_close = b"<%srow" % prefix, b"</%srow>" % prefix
        data_close = b"</%ssheetData" % prefix
        rest = buffer[found.end():]
        while True:
            end = rest.find(data_close)
            ended = end >= 0
            if ended:
                region, rest = rest[:end], b""
            else:
                cut = rest.rfind(self.row_close)
                cut = 0 if cut < 0 else cut + len(self.row_close)
                region, rest = rest[:cut], rest[cut:]
            parts = region.split(self.row_close)
            last = parts.pop()           # after the last end tag: nothing, or rows without one
            pieces: list[tuple[bytes, bytes, bytes]] = []
            for part in parts:
                self._take(part, True, pieces)
            if last.strip(_WHITESPACE):
                if not ended:
                    raise _Unsure
                self._take(last, False, pieces)
            if pieces:
                yield pieces
            if ended:
                self._drain()
                return
            more = self.stream.read(CHUNK)
            if not more:
                raise _Unsure            # the part ends inside <sheetData>: openpyxl says how
            rest += more

    def _take(self, part: bytes, closed: bool, pieces: list[tuple[bytes, bytes, bytes]]) -> None:
        """The rows of ``part`` (the bytes before one end tag, or after the last when not ``closed``)."""
        text = part.lstrip(_WHITESPACE)
        opening = self.row_open
        if (text.startswith(opening) and len(text) > len(opening) and text[len(opening)] in _AFTER_NAME
                and closed and text[text.find(b">") - 1] != 0x2F):
            pieces.append((text, self.row_close, self._digest(text, self.row_close)))     # one row: the usual case
            return
        at, size = 0, len(text)          # empty rows (<row …/>) first, then at most one row with an end tag;
        while at < size:                 # read in one pass: a run of empty rows can be megabytes long
            after = at + len(opening)
            if not (text.startswith(opening, at) and size > after and text[after] in _AFTER_NAME):
                raise _Unsure
            close = text.find(b">", after)
            if close < 0:
                raise _Unsure
            if text[close - 1] == 0x2F:
                row = text[at:close + 1]
                pieces.append((row, b"", self._digest(row, b"")))
                at = _SPACE.match(text, close + 1).end()
                continue
            if not closed or text.find(opening, close) >= 0:
                raise _Unsure
            row = text[at:] if at else text
            pieces.append((row, self.row_close, self._digest(row, self.row_close)))
            return

    def parse(self, pieces: list[tuple[bytes, bytes]]) -> Iterator[Any]:
        """The ``<row>`` elements of ``pieces`` (bytes, end tag), parsed under the sheet's namespaces a few
        rows at a time (a tree of thousands of rows costs expat's tree builder far more per row).

        Each piece is followed by a mark: the document must be row, mark, row, mark… — so each piece is
        exactly one row, not a part of one (an end tag in CDATA or a comment: the mark falls inside it)
        nor two (an end tag the cut did not split on), whatever the count of the group's rows."""
        for start in range(0, len(pieces), PARSED):
            group = pieces[start:start + PARSED]
            text = b"".join(b"".join(piece) + _MARK_BYTES for piece in group)
            try:
                document = ElementTree.fromstring(b"<rows%s>%s</rows>" % (self.namespaces, text))
            except ElementTree.ParseError:
                raise _Unsure from None
            rows = document[0::2]
            if (len(document) != 2 * len(group) or any(element.tag != _ROW for element in rows)
                    or any(element.tag != _MARK for element in document[1::2])):
                raise _Unsure
            yield from rows

    def _digest(self, text: bytes, end: bytes) -> bytes:
        """A row's identity: the namespace declarations it is read under, its bytes and its end tag (SHA-1 as
        a fast checksum, not for security)."""
        digest = self.seed.copy()
        digest.update(text)
        digest.update(end)
        return digest.digest()

    def _drain(self) -> None:
        """Read the part to its end: the package's CRC is checked there, as openpyxl's whole read checks it."""
        while self.stream.read(CHUNK):
            pass


def _values(cells: list[dict[str, Any]]) -> tuple:
    """openpyxl's ``_get_row`` for values: as wide as the last cell's column, each value in its place."""
    if not cells:
        return ()
    width = cells[-1]["column"]
    row = [None] * width
    for cell in cells:
        column = cell["column"]
        if 1 <= column <= width:
            row[column - 1] = cell["value"]
    return tuple(row)


def _context(strings: Sequence[str], dates: Any, times: Any, epoch: Any) -> bytes:
    """What a row's values depend on besides its own XML: the shared strings, the styles that are dates
    or durations, and the date system."""
    digest = hashlib.blake2b(repr((sorted(dates), sorted(times), str(epoch), len(strings))).encode(),
                             digest_size=16)
    for text in strings:
        digest.update(b"\0" + str(text).encode("utf-8", "surrogatepass"))
    return digest.digest()
