"""A release from one row of material: what it may say, whom it may name, and where each word came from.

The steps, in order (pure: no ledger, no mail, no clock):

1. **Internal notes stay internal.** The row's 内部备注 never reaches a
   template; sentences in the public fields that read as notes to the office
   (建议…报道, 请办公室…, 拟…) are left out and listed for the office.
2. **Names by law** (:mod:`pipeline.names`) and **no identifier**
   (:mod:`pipeline.redact`): every natural person becomes surname + 某 unless
   the dishonest-debtor rule allows the name; every number that identifies a
   person is removed.
3. **The template's words come from the row's facts**: the release template
   chooses its wording from 结案方式, 执行到位金额, 执行不能情形 and the case
   number's type; it names the handling team by its outward name.
4. **Where each word came from.** Every value the template prints is marked
   as the team's, the court's or the fixed legal text's; whatever is left is
   the template's own wording. The release's plain text, its HTML, and the
   office's marked version are all made from those marked paragraphs.
5. **A fact check** (:mod:`pipeline.factcheck`) compares the release with its
   row; what fails is listed at the top of the draft mail, and such a release
   cannot be approved.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.config import Settings
from . import factcheck, names, redact
from .render import (
    COURT,
    DATE_TOKEN,
    FOOTER,
    LAW,
    TEAM,
    exact_amount,
    mark,
    render_file,
)

_MARKS = {TEAM[0]: "team", COURT[0]: "court", LAW[0]: "law", FOOTER[0]: "footer"}
_CLOSERS = {TEAM[1], COURT[1], LAW[1], FOOTER[1]}
_ANY_MARK = re.compile("[\ue000-\ue007]")
_PIECES = re.compile("([\ue000-\ue007\n])")

# The public text fields of a row, as the templates see them.
PUBLIC = ("title", "facts", "process", "outcome", "parties")

# A sentence in a public field that is a note to the office, not news.
NOTE_LIKE = re.compile(
    r"建议[:：]?[^。；;！!？?\n]{0,15}(?:报道|宣传|刊发|刊登|发布|推送|专题|稿件|媒体|曝光|重点稿|素材)"
    r"|请(?:宣传办|办公室|宣传部门|领导|审核|核实|注意|斟酌|把关|保密|在标题|于[^。；;\n]{0,10}(?:发布|刊发|报道))"
    r"|^\s*拟[^。；;\n]{0,10}(?:报道|宣传|发布|刊发)"
    r"|(?:暂不|不宜|不要|请勿|勿)(?:对外)?(?:公开|报道|宣传|发布|刊发|写)"
    r"|供参考|仅供内部|内部参考|内部[:：]|^\s*[（(]?(?:注|备注)[:：]|保密|宣传办|择期刊发"
    r"|(?:可|可以)作为[^。；;\n]{0,10}(?:素材|稿件|重点稿)|此条素材|该条素材|本条素材|周报素材")
_BRACKETED = re.compile(r"（[^（）]*）|\([^()]*\)")
_SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;]+|\n|$)")

# The case number's type → how a release calls the case.
_CASE_TYPE = re.compile(r"^（\d{4}）[\u4e00-\u9fff]{1,4}\d{0,6}(?P<type>[\u4e00-\u9fff]{1,6}?)(?:字第)?\d+号$")
_CASE_NOUNS = (("执恢", "恢复执行案件"), ("执保", "财产保全案件"), ("执异", "执行异议案件"),
               ("执复", "执行复议案件"), ("执监", "执行监督案件"), ("执", "执行案件"), ("刑", "刑事案件"))


@dataclass(frozen=True)
class Segment:
    text: str
    source: str          # "team" | "template" | "court" | "law" | "footer"


@dataclass(frozen=True)
class Paragraph:
    segments: tuple[Segment, ...]
    heading: bool = False     # a 【…】 section heading
    footer: bool = False      # 来源, 发布日期, the contact line

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True)
class Release:
    headline: str
    text: str                 # the whole release, headline first
    html: str
    content_hash: str
    masked: list[str]         # what was masked, counted ("姓名 3 处")
    review: dict[str, Any] = field(default_factory=dict)   # for the office: see :func:`compose`
    marked_html: str = ""     # the release with the template's words marked, for the draft mail
    marked_text: str = ""

    @property
    def checks(self) -> list[str]:
        return list(self.review.get("checks", []))


def split_notes(text: str, *, sentences: bool = True) -> tuple[str, list[str]]:
    """``text`` without what reads as a note to the office — a bracketed remark (（建议重点报道）) or,
    when ``sentences``, a whole sentence (建议将其事迹作为…专题报道。) — and what was taken out."""
    notes: list[str] = []

    def bracketed(match: re.Match[str]) -> str:
        if NOTE_LIKE.search(match.group()[1:-1]):
            notes.append(match.group())
            return ""
        return match.group()

    text = _BRACKETED.sub(bracketed, text)
    if not sentences:
        return text.strip(), notes
    kept = []
    for sentence in _SENTENCE.findall(text):
        if not sentence:
            continue
        if NOTE_LIKE.search(sentence.strip()):
            notes.append(sentence.strip())
            if sentence.endswith("\n"):
                kept.append("\n")
        else:
            kept.append(sentence)
    return "".join(kept).strip(), notes


def case_noun(case_number: str) -> tuple[str, bool, bool]:
    """(what a release calls the case, whether it is an enforcement case, whether a criminal one)."""
    match = _CASE_TYPE.match(case_number or "")
    kind = match["type"] if match else ""
    for prefix, noun in _CASE_NOUNS:
        if kind.startswith(prefix):
            return noun, prefix.startswith("执"), prefix == "刑"
    return ("案件" if case_number else "", False, False)


def compose(fields: Mapping[str, str], *, kind: str, draft_id: str, settings: Settings, unit: str = "") -> Release:
    """Mask the material, render its release and check it against the row.

    ``unit`` is the outward name of the team that handled the case (the 部门
    tab's 对外名称); blank means the court's enforcement bureau. The review
    notes (``Release.review``) tell the office: ``names`` (every person and
    the rule that decided the name), ``undecided`` (person-like names no rule
    decided), ``left_out`` (note-like sentences kept out), ``note`` (内部备注),
    ``checks`` (what the fact check found).
    """
    court = settings.court
    # The marks are the template's alone: a cell that carries one must not pass its words off as law.
    fields = {key: _ANY_MARK.sub("", value) if isinstance(value, str) else value for key, value in fields.items()}
    texts, plan, counts, left_out = public_texts(fields, kind=kind, settings=settings)
    noun, enforcement, criminal = case_noun(fields.get("case_number", ""))
    amount = exact_amount(fields.get("amount", ""))
    outward = unit.strip() or f"{court.name}执行局"
    release = {"kind": kind, "headline": mark(texts["title"], TEAM), "unit": mark(outward, COURT),
               "case_number": mark(fields.get("case_number", ""), TEAM), "case_noun": noun,
               "enforcement": enforcement, "criminal": criminal,
               "parties": mark(texts["parties"], TEAM), "facts": mark(texts["facts"], TEAM),
               "process": mark(texts["process"], TEAM), "outcome": mark(texts["outcome"], TEAM),
               "closure": fields.get("closure", ""), "listing": fields.get("listing", ""),
               "amount": mark(amount, TEAM),
               "inability": fields.get("inability", ""), "date": DATE_TOKEN, "draft_id": draft_id}
    court_context = {k: mark(v.strip(), COURT) for k, v in court.as_context().items()}
    marked = render_file(f"releases/{kind}.txt", {"court": court_context, "release": release})
    headline, paragraphs = parse(marked)
    text = _ANY_MARK.sub("", marked).strip("\n") + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    html = render_file("releases/_page.html", {"headline": headline, "paragraphs": _view(paragraphs),
                                                "marked": False})
    marked_html = render_file("releases/_page.html", {"headline": headline, "paragraphs": _view(paragraphs),
                                                       "marked": True})
    marked_text = "\n\n".join(_marked_line(p) for p in paragraphs if not p.footer)
    digest = hashlib.sha256((text + "\0" + html).encode("utf-8")).hexdigest()

    # The team's own words: the template's and the law's name no one the row does not.
    team_text = "\n".join([headline, *(s.text for p in paragraphs for s in p.segments if s.source == "team")])
    checks = factcheck.check(paragraphs, fields, headline=headline, amount=amount)
    checks += [f"姓名未遮蔽：{name}（{_reason(plan, name)}）" for name in names.leaked(text, plan)]
    review = {
        "names": [{"name": d.name, "role": d.role, "alias": d.alias, "reason": d.reason} for d in plan.decisions],
        "undecided": names.undecided(team_text, plan, exclude=_organisations(fields)),
        "left_out": left_out,
        "note": fields.get("note", ""),
        "checks": checks,
    }
    notes = [f"{k} {n} 处" for k, n in counts.items() if n]
    return Release(headline, text, html, digest, notes, review, marked_html, marked_text)


def public_texts(fields: Mapping[str, str], *, kind: str, settings: Settings
                 ) -> tuple[dict[str, str], names.NamePlan, dict[str, int], list[str]]:
    """The row's public fields as a release may print them: note-like sentences left out, every
    identifier removed, every name the law does not allow masked. Also the name plan, what was
    masked (counted by kind) and the sentences left out."""
    allowed = redact.own_numbers(settings.court.contact)
    public = {key: fields.get(key, "") for key in PUBLIC}
    left_out: list[str] = []
    for key in PUBLIC:
        # A headline and the parties are never dropped whole: only a remark in brackets comes out of them.
        public[key], notes = split_notes(public[key], sentences=key not in ("title", "parties"))
        left_out += notes
    plan = names.plan(fields, kind=kind, public_name_kinds=settings.redact.public_name_kinds)
    counts: dict[str, int] = {}
    numbered = {key: redact.mask_numbers(value, counts, allowed) for key, value in public.items()}
    texts, hits = names.mask(numbered, plan)
    if hits:
        counts = {"姓名": hits, **counts}
    return texts, plan, counts, left_out


def _reason(plan: names.NamePlan, name: str) -> str:
    return next((d.reason for d in plan.decisions if d.name == name), "")


def _organisations(fields: Mapping[str, str]) -> list[str]:
    return [p.name for p in names.parties(fields.get("parties", "")) if not p.is_person]


def parse(marked: str) -> tuple[str, list[Paragraph]]:
    """The rendered, marked text as its headline and paragraphs of segments, each with its source."""
    stack: list[str] = []
    lines: list[tuple[list[Segment], bool]] = []
    current: list[Segment] = []
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            current.append(Segment("".join(buffer), stack[-1] if stack else "template"))
            buffer.clear()

    for piece in _PIECES.split(marked):
        if piece in _MARKS:
            flush()
            stack.append(_MARKS[piece])
        elif piece in _CLOSERS:
            flush()
            if stack:
                stack.pop()
        elif piece == "\n":
            flush()
            lines.append((current, "footer" in stack))
            current = []
        elif piece:
            buffer.append(piece)
    flush()
    lines.append((current, "footer" in stack))
    paragraphs = []
    for segments, footer in lines:
        segments = _strip(segments)
        text = "".join(s.text for s in segments)
        if text:
            paragraphs.append(Paragraph(tuple(segments), heading=text.startswith("【") and text.endswith("】"),
                                        footer=footer))
    headline = paragraphs[0].text if paragraphs else ""
    return headline, paragraphs[1:]


def _strip(segments: list[Segment]) -> list[Segment]:
    """Leading and trailing blanks of a line dropped, segments kept."""
    out = [s for s in segments if s.text]
    while out and not out[0].text.strip():
        out.pop(0)
    while out and not out[-1].text.strip():
        out.pop()
    if out:
        out[0] = Segment(out[0].text.lstrip(), out[0].source)
        out[-1] = Segment(out[-1].text.rstrip(), out[-1].source)
    return out


def _view(paragraphs: list[Paragraph]) -> list[dict[str, Any]]:
    return [{"text": p.text, "heading": p.heading, "footer": p.footer,
             "segments": [{"text": s.text, "source": s.source} for s in p.segments]} for p in paragraphs]


def _marked_line(paragraph: Paragraph) -> str:
    """A paragraph for the office's plain-text marked version: the template's own words in 〖〗."""
    if paragraph.heading:
        return paragraph.text
    out = []
    for segment in paragraph.segments:
        out.append(f"〖{segment.text}〗" if segment.source == "template" and segment.text.strip("，。、；：")
                   else segment.text)
    return "".join(out)
