"""The release as a Word document (.docx) that a newsroom can edit.

Built from the release's plain text: the first line is the headline, blank
lines separate paragraphs, 【…】 lines are section headings. Fonts are set
for Chinese (宋体 body, 黑体 headings) so the file opens right in Word and WPS.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _font(run, east_asia: str, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = east_asia
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)


def release_docx(text: str, *, title: str) -> bytes:
    """The release ``text`` (headline first) as .docx bytes."""
    lines = text.strip("\n").split("\n")
    headline, body = lines[0].strip(), lines[1:]
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = ""
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
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
