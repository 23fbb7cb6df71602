"""Word documents (.docx): the release a newsroom can edit, the deputies' brief and a press conference's pack.

A release is built from its plain text: the first line is the headline, blank
lines separate paragraphs, 【…】 lines are section headings. The brief (简报)
is built from blocks (headings, paragraphs, tables) under a red masthead; the
conference pack (发布会材料, plan 四(二)) from blocks under a title, the
releases it gathers laid out as a release's own .docx lays them out.
Fonts are set for Chinese (宋体 body, 黑体 headings) so the files open right
in Word and WPS.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal


def _load_docx() -> None:
    """python-docx, imported when the first document is built, not when the pipeline starts."""
    global Document, WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, OxmlElement, qn, Mm, Pt, RGBColor, RED
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor
    RED = RGBColor(0xC0, 0x00, 0x00)


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _font(run, east_asia: str, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = east_asia
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)


def _a4(document) -> object:
    """The first section as courts print (GB/T 9704): A4, 37/35 mm top and bottom, 28/26 mm left and right."""
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    return section


def _properties(document, *, title: str, author: str, at: datetime) -> None:
    """What Word shows under File → Properties: the document's own title, the court as its author, made at
    ``at`` (aware; stored in UTC as the format wants) — nothing of the library's template."""
    if at.tzinfo is None:
        raise ValueError("the document's time must be aware")
    moment = at.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
    props = document.core_properties
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.comments = ""
    props.keywords = ""
    props.subject = ""
    props.category = ""
    props.revision = 1
    props.created = moment
    props.modified = moment


# The library's template carries a picture of its own blank page (shown by file managers as the document's
# preview) and extended properties of the machine it was made on ("Microsoft Macintosh Word", a company
# field): neither is this document's. The package keeps no thumbnail, and extended properties that say only
# what is true of every document made here; Word and WPS count pages and words again when they save.
THUMBNAIL = "docProps/thumbnail.jpeg"
_THUMBNAIL_REL = re.compile(rb'<Relationship [^>]*Target="/?docProps/thumbnail\.jpeg"[^>]*/>')
APP_XML = (b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           b"<Template>Normal.dotm</Template><TotalTime>0</TotalTime><DocSecurity>0</DocSecurity>"
           b"<ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
           b"<HyperlinksChanged>false</HyperlinksChanged></Properties>")


def _saved(document, at: datetime) -> bytes:
    """The document's bytes, the same for the same document: every part of the package dated ``at`` (the
    library dates them with the clock at the moment of saving, so two copies of one release would differ),
    without the template's thumbnail and with extended properties of its own (``APP_XML``)."""
    buffer = io.BytesIO()
    document.save(buffer)
    stamp = at.timetuple()[:6]
    fixed = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == THUMBNAIL:
                continue
            data = source.read(item.filename)
            if item.filename == "_rels/.rels":
                data = _THUMBNAIL_REL.sub(b"", data)
            elif item.filename == "docProps/app.xml":
                data = APP_XML
            part = zipfile.ZipInfo(item.filename, date_time=stamp)
            part.compress_type, part.external_attr = item.compress_type, item.external_attr
            target.writestr(part, data)
    return fixed.getvalue()


def release_docx(text: str, *, title: str, author: str, at: datetime) -> bytes:
    """The release ``text`` (headline first) as .docx bytes: A4, its ``title``, the court (``author``) as the
    author, made at ``at`` (the publishing moment)."""
    _load_docx()
    lines = text.strip("\n").split("\n")
    headline, body = lines[0].strip(), lines[1:]
    document = Document()
    _properties(document, title=title, author=author, at=at)
    _a4(document)
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(heading.add_run(headline), "黑体", 18, bold=True)
    for line in body:
        line = line.strip()
        if not line:
            continue
        paragraph = document.add_paragraph()
        if line.startswith("【") and line.endswith("】"):
            _font(paragraph.add_run(line), "黑体", 12, bold=True)
        else:
            paragraph.paragraph_format.first_line_indent = Pt(24)
            _font(paragraph.add_run(line), "宋体", 12)
    return _saved(document, at)


# --- the deputies' monthly brief (简报) ------------------------------------------

# The paragraph properties that follow w:pBdr (ECMA-376 CT_PPr order): Word rejects them out of order.
_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                 "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                 "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                 "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                 "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


@dataclass(frozen=True)
class Block:
    """One piece of a brief's or a pack's body: ``heading`` (一、…), ``subheading`` (（一）…),
    ``paragraph``, or ``table`` (``rows``, the header row first); in a pack also a release's ``headline``,
    its ``dateline`` (发布日期), its ``section`` headings (【基本案情】) and ``text`` paragraphs as a
    release's .docx sets them, and a ``note`` (the pack's closing remark)."""

    kind: Literal["heading", "subheading", "paragraph", "table", "headline", "dateline", "section", "text",
                  "note"]
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


def _rule(paragraph, side: str, color: str = "C00000", size: int = 12) -> None:
    """A line above or below the paragraph: the red rule under a brief's masthead, the imprint's lines."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        p_pr.insert_element_before(borders, *_AFTER_BORDER)
    edge = OxmlElement(f"w:{side}")
    for name, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
        edge.set(qn(f"w:{name}"), value)
    borders.append(edge)


def brief_docx(*, title: str, issue: str, issuer: str, issued: str, blocks: Sequence[Block],
               distribution: str, imprint: str, at: datetime) -> bytes:
    """A brief (简报) as .docx bytes, laid out as courts print them (A4, GB/T 9704 margins).

    The masthead: ``title`` in red, ``issue`` (第N期) under it, ``issuer`` and
    the date ``issued`` on one line, a red rule. Then the ``blocks``, and the
    imprint at the foot: ``distribution`` (送：…) and ``imprint`` (编印, 份数)
    between two thin rules. The issuer is the document's author; ``at`` (aware) its making.
    """
    _load_docx()
    document = Document()
    _properties(document, title=f"{title}（{issue}）", author=issuer, at=at)
    section = _a4(document)
    width = section.page_width - section.left_margin - section.right_margin

    masthead = document.add_paragraph()
    masthead.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = masthead.add_run(title)
    _font(run, "宋体", 36, bold=True)
    run.font.color.rgb = RED
    number = document.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(number.add_run(issue), "宋体", 16)
    byline = document.add_paragraph()
    byline.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    _font(byline.add_run(f"{issuer}\t{issued}"), "宋体", 14)
    _rule(byline, "bottom", size=18)

    _write_blocks(document, blocks)

    document.add_paragraph()
    sent_to = document.add_paragraph()
    _font(sent_to.add_run(distribution), "宋体", 12)
    _rule(sent_to, "top", color="000000", size=6)
    footer = document.add_paragraph()
    _font(footer.add_run(imprint), "宋体", 12)
    _rule(footer, "bottom", color="000000", size=6)
    return _saved(document, at)


def _write_blocks(document, blocks: Sequence[Block]) -> None:
    for block in blocks:
        if block.kind == "table":
            _table(document, block.rows)
            continue
        paragraph = document.add_paragraph()
        if block.kind == "heading":
            paragraph.paragraph_format.keep_with_next = True
            _font(paragraph.add_run(block.text), "黑体", 14, bold=True)
        elif block.kind == "subheading":
            paragraph.paragraph_format.first_line_indent = Pt(28)
            paragraph.paragraph_format.space_before = Pt(6)
            paragraph.paragraph_format.keep_with_next = True
            _font(paragraph.add_run(block.text), "楷体", 14, bold=True)
        elif block.kind == "headline":           # a release's headline, as its own .docx sets it, smaller
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.space_before = Pt(12)
            paragraph.paragraph_format.keep_with_next = True
            _font(paragraph.add_run(block.text), "黑体", 14, bold=True)
        elif block.kind == "dateline":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.keep_with_next = True
            _font(paragraph.add_run(block.text), "楷体", 12)
        elif block.kind == "section":
            paragraph.paragraph_format.keep_with_next = True
            _font(paragraph.add_run(block.text), "黑体", 12, bold=True)
        elif block.kind == "text":
            paragraph.paragraph_format.first_line_indent = Pt(24)
            _font(paragraph.add_run(block.text), "宋体", 12)
        elif block.kind == "note":
            paragraph.paragraph_format.space_before = Pt(12)
            _font(paragraph.add_run(block.text), "楷体", 12)
        else:
            paragraph.paragraph_format.first_line_indent = Pt(28)
            _font(paragraph.add_run(block.text), "宋体", 14)


def release_blocks(text: str, dateline: str = "") -> list[Block]:
    """A release's text (headline first) as blocks of a pack: the headline, ``dateline`` under it, then its
    paragraphs and 【…】 headings, as :func:`release_docx` lays them out."""
    lines = [line.strip() for line in text.strip("\n").split("\n")]
    out = [Block("headline", lines[0])] + ([Block("dateline", dateline)] if dateline else [])
    for line in lines[1:]:
        if line:
            out.append(Block("section" if line.startswith("【") and line.endswith("】") else "text", line))
    return out


def pack_docx(*, lines: Sequence[str], blocks: Sequence[Block], title: str, author: str, at: datetime) -> bytes:
    """A press conference's pack (发布会材料) as .docx bytes: A4 with GB/T 9704 margins, page numbers at the
    foot (— 1 —), a title of ``lines`` (the court, the conference, what the pack is, the period, when and
    where), a rule, then the ``blocks``. ``title`` is the document's title under File → Properties, the court
    (``author``) its author, ``at`` (aware) its making."""
    _load_docx()
    document = Document()
    _properties(document, title=title, author=author, at=at)
    section = _a4(document)
    _page_numbers(section)
    sizes = (("宋体", 16, False), ("宋体", 22, True), ("楷体", 18, False))
    for index, line in enumerate(lines):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        font, size, bold = sizes[index] if index < len(sizes) else ("宋体", 12, False)
        _font(paragraph.add_run(line), font, size, bold=bold)
    _rule(paragraph, "bottom", color="000000", size=6)
    _write_blocks(document, blocks)
    return _saved(document, at)


def _page_numbers(section) -> None:
    """— 1 — centred at the foot of every page: Word's PAGE field, which Word and WPS fill in."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("— "), "宋体", 12)
    run = paragraph.add_run()
    _font(run, "宋体", 12)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == "PAGE":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = " PAGE "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
    _font(paragraph.add_run(" —"), "宋体", 12)


def _table(document, rows: Sequence[Sequence[str]]) -> None:
    if not rows:
        return
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            paragraph = cell.paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT if c == 0 else WD_ALIGN_PARAGRAPH.CENTER
            _font(paragraph.add_run(str(value)), "黑体" if r == 0 else "宋体", 10.5, bold=r == 0)
