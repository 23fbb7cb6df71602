"""The fact check: every fact a release states must come from its row.

A release is the team's material (masked) set in the template's wording.
The material's own sentences come from the row by construction; the danger
is in the template's words, which an office member may edit: an amount, a
date, a case number, a person, or a result (执结, 全额履行) that the row does
not contain. So every number, case number and date of the release is looked
up in the row (or in the court's settings and the fixed legal text, which the
caller leaves out as ``law``/``court``/``footer`` segments); the template's
own words must name no person and claim no result the row does not state.

Pure: paragraphs and the row's fields in, a list of Chinese findings out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Protocol

from . import names
from .render import exact_amount

# The row's fields a fact may come from (the internal note is not public, so it is no source).
SOURCE_FIELDS = ("title", "facts", "process", "outcome", "parties", "case_number", "amount", "closure",
                 "inability", "listing")

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CASE = re.compile(r"[（(]\d{4}[）)][^，。；、\s（(]{1,16}?号")
_CN_QUANTITY = re.compile(r"(?<![第一二两三四五六七八九十百千万])[一二两三四五六七八九十百千万]+"
                          r"(?=余?(?:元|万元|亿元|年|个月|日|天|名|人|次|件|套|辆|户|家|条|周|小时))")
# What the template's own words may claim only when the row says so: claim → words of the row that back it.
CLAIMS: dict[str, tuple[str, ...]] = {
    "执结": ("执行完毕", "执结"),
    "执行完毕": ("执行完毕", "执结"),
    "执行完结": ("执行完毕", "执结", "完结"),
    "结案": ("结案", "执行完毕", "执结"),
    "案结事了": ("执行完毕", "执结"),
    "全额": ("全额", "全部"),
    "足额": ("足额", "全额", "全部"),
    "全部": ("全部",),
    "兑现": ("兑现", "执行完毕", "全部"),
    "到位": ("到位",),
    "还清": ("还清", "付清", "执行完毕"),
    "清偿": ("清偿", "执行完毕"),
    "全部履行": ("全部履行", "履行全部", "全部款项", "执行完毕"),
    "履行完毕": ("履行完毕", "执行完毕"),
    "列为失信": ("失信",),
    "限高": ("限高", "限制高消费", "限制消费"),
    "余元": ("余元", "余万元"),
    "主动履行": ("主动履行", "主动"),
    "履行了义务": ("履行",),
    "锦旗": ("锦旗",),
    "付清": ("付清", "执行完毕"),
    "发放": ("发放", "领取"),
    "拍卖": ("拍卖",),
    "变卖": ("变卖",),
    "移送": ("移送",),
    "刑事责任": ("刑事", "拒不执行判决"),
    "出境": ("出境",),
    "办结": ("办结", "执结", "执行完毕"),
    "兑付": ("兑付",),
    "讨回": ("讨回", "追回", "执行到位"),
    "追回": ("追回", "讨回", "执行到位"),
    "道歉": ("道歉",),
    "终结本次执行": ("终结本次执行", "终本"),
    "和解": ("和解",),
    "拘留": ("拘留",),
    "拘传": ("拘传",),
    "罚款": ("罚款",),
    "有期徒刑": ("有期徒刑",),
    "判处": ("判处",),
    "纳入失信": ("纳入失信", "失信被执行人名单"),
    "限制高消费": ("限制高消费", "限高", "限制消费"),
}
_PERSON = re.compile("(?:" + "|".join(names.COMPOUND_SURNAMES) + "|[" + "".join(sorted(names.SURNAMES)) + "])某"
                     "[甲乙丙丁戊己庚辛壬癸]?")


class _Paragraph(Protocol):
    segments: tuple


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(",", "").replace("，", "，")


def _numbers(text: str) -> set[str]:
    out = set()
    for match in _NUMBER.finditer(_fold(text)):
        out.add(_canonical(match.group()))
    return out


def _canonical(number: str) -> str:
    try:
        value = Decimal(number)
    except InvalidOperation:
        return number
    return format(value.normalize(), "f") if value == value.to_integral() or "." in number else number


def check(paragraphs: Iterable[_Paragraph], fields: Mapping[str, str], *, headline: str = "",
          amount: str = "") -> list[str]:
    """What the release states that its row does not: one Chinese line per finding."""
    row = "\n".join(fields.get(key, "") for key in SOURCE_FIELDS)
    known_numbers = _numbers(row)
    if fields.get("amount"):
        known_numbers |= _numbers(exact_amount(fields["amount"]))
    # The row's case number, and every case number its own text cites (the judgment enforced, a former number).
    known_cases = {_fold(c) for c in _CASE.findall(_fold(row))}
    findings: list[str] = []
    names_of_row = {p.name for p in names.parties(fields.get("parties", "")) if p.is_person}

    def note(text: str) -> None:
        if text not in findings:
            findings.append(text)

    pieces = [(headline, "team")] + [(s.text, s.source) for p in paragraphs for s in p.segments]
    for text, source in pieces:
        if source in ("law", "court", "footer"):
            continue
        folded = _fold(text)
        for case in _CASE.findall(folded):
            if _fold(case) not in known_cases:
                note(f"案号“{_original(text, case)}”在素材中找不到")
        without_cases = _CASE.sub("", folded)
        for number in _NUMBER.findall(without_cases):
            if _canonical(number) not in known_numbers:
                note(f"数字“{number}”在素材中找不到（{_where(source)}：{_context(text, number)}）")
        if source != "template":
            continue
        for quantity in _CN_QUANTITY.findall(text):
            if quantity not in row:
                note(f"数量“{quantity}”在素材中找不到（模板文字：{_context(text, quantity)}）")
        for claim, backing in CLAIMS.items():
            if claim in text and not any(word in row for word in backing) \
                    and not _closure_backs(claim, fields.get("closure", ""), fields.get("amount", "")):
                note(f"模板称“{claim}”，但素材没有写明（模板文字：{_context(text, claim)}）")
        persons = set(_PERSON.findall(text)) - {"某某"}
        persons |= {name for name in names_of_row if name in text}
        persons |= {name for name, _ in names.marked_persons(text, certain=True)}
        for person in sorted(persons):
            note(f"模板文字中出现了人名“{person}”（{_context(text, person)}）")
    return findings


def _original(text: str, folded: str) -> str:
    """``folded`` (an NFKC-folded piece of ``text``) as ``text`` spells it, for the office to find."""
    for start in range(len(text)):
        for end in range(start + 1, min(len(text), start + len(folded) + 8) + 1):
            if _fold(text[start:end]) == folded:
                return text[start:end]
    return folded


def _closure_backs(claim: str, closure: str, amount: str) -> bool:
    """Whether the row's 结案方式 or 执行到位金额 states what ``claim`` says."""
    return (closure == "执行完毕" and claim in ("执结", "执行完毕", "执行完结", "结案", "全额", "全部履行", "履行完毕",
                                            "案结事了")
            or closure == "终结本次执行" and claim == "终结本次执行"
            or closure == "执行和解" and claim == "和解"
            or bool(amount) and claim == "到位")


def _where(source: str) -> str:
    return "模板文字" if source == "template" else "素材"


def _context(text: str, word: str, room: int = 12) -> str:
    at = text.find(word)
    if at < 0:
        return text[: room * 2]
    start, end = max(0, at - room), at + len(word) + room
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
