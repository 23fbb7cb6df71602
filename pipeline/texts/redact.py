"""Masking of personal data, and the last guard before anything reaches the media.

PIPL: published text masks ID-card numbers, phone numbers, bank accounts,
licence plates and home addresses, and names natural persons as surname + 某
— except where the law makes the name public (the dishonest-debtor list,
失信被执行人名单). An identifier is never kept in part: it is replaced whole
by ×××, as published judgments show deleted information.

Identifiers are found however people and OCR write them: inside Chinese
text; in ASCII, full-width, mathematical, Arabic-Indic or Chinese digits
(一三九…, 壹叁玖…); split by spaces, tabs, line breaks, dashes, slashes, 、 or
dots; partly masked (138****0000). The guard uses the same detector on the
finished message (subject, both bodies read as a reader sees them,
attachments) and refuses to let one through in which any identifier survives.
"""

from __future__ import annotations

import functools
import html
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import NamedTuple

from . import names

# --- how identifiers are written ---------------------------------------------------

PLACEHOLDER = "×××"          # what a masked identifier becomes
PARTIAL = "（部分遮蔽）"        # added to the kind of a partly masked number
# Chinese numerals written digit by digit (一三九…, 壹叁玖…; 幺 is 1 read out in a phone
# number). 十, 百, 千 and 万 are not digits: 十五日 and 三年以上七年以下 stay words.
_CHINESE_DIGITS = {**{c: str(i) for i, c in enumerate("〇一二三四五六七八九")},
                   **{c: str(i) for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")},
                   "貳": "2", "參": "3", "陸": "6", "幺": "1"}
# Digits that are not Unicode decimal digits (\d already takes ０, 𝟏, ١, ۱ …): ¹, ₂, ①, ⒈ …
_OTHER_DIGITS = "".join(c for c in map(chr, [*range(0x10000), *range(0x1F100, 0x1F10B)])
                        if not c.isdecimal() and unicodedata.digit(c, None) is not None)
# Characters that stand for a hidden digit in a partly masked number.
_MASKS = "*＊﹡∗⁎✱✲✳×•●◦■□◆◇○◯#＃?？"
# X closes an ID number (…125X) and hides digits (139xxxx1234), but not at the end of a Latin word (Box).
_XS = "xXＸｘ"
_LATIN = re.compile("[A-Za-zＡ-Ｚａ-ｚ]")
# What people and OCR put between the groups of a number; up to three in a row.
_SEPARATORS = " \t\n\r\u3000\u00a0\u00ad\u202f\u205f\u2060\ufeff-－–—_/／、.．·・"
_SEP_CLASS = re.escape(_SEPARATORS) + "\u2000-\u200d"
# Separators that also end an item of a list: 0898-23300000、0898-23311111 is two numbers.
_LIST_SEPARATORS = re.compile(r"[、/／\n\r\t]")

_DIGIT = f"[\\d{re.escape(_OTHER_DIGITS)}{''.join(_CHINESE_DIGITS)}]"
_UNIT = f"[\\d{re.escape(_OTHER_DIGITS)}{''.join(_CHINESE_DIGITS)}{re.escape(_MASKS)}{_XS}]"
_SEP = f"(?:\r\n|[{_SEP_CLASS}])"
# A run of digits and mask characters, up to three separators between two of them.
# Nothing shorter than ten is an identifier, so shorter runs are not even looked at. (Scanning
# left to right, a match starts where its run starts: a run's tail is shorter than the run.)
_RUN = re.compile(f"{_UNIT}(?:{_SEP}{{0,3}}{_UNIT}){{9,}}")
# A phone number whose head stands in brackets, (0898)2388-1234, （0898）23881234, (139)07561234:
# the rest of the number after the bracket, then the head before it.
_AFTER_BRACKET = re.compile(f"[)）][ \u3000]?({_UNIT}(?:{_SEP}?{_UNIT}){{6,7}})(?!{_UNIT})")
_AREA_BEFORE = re.compile(f"(?:[(（][ \u3000]?)?({_DIGIT}{{3,4}})[ \u3000]?$")
_GROUP = re.compile(r"[0-9X*]+")
_AREA_CODE = re.compile(r"0[1-9][0-9]{1,2}")
_MOBILE_86 = re.compile(r"[8*][6*][1*][3-9*]")
# Dates are not bank cards: 2026.11.28—2026.12.05, 2026/11/28/2026/12/05.
_DATE = r"(?:19|20)\d\d(?:\|(?:0?[1-9]|1[0-2])\|(?:0?[1-9]|[12]\d|3[01])|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
_DATES = re.compile(f"{_DATE}(?:\\|{_DATE})*")
# Licence plates: province, a letter, then five or six letters and digits with at most two letters.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_LETTER = "A-Za-zＡ-Ｚａ-ｚ"
_ALNUM = "A-Za-z0-9Ａ-Ｚａ-ｚ０-９"
_PLATE = re.compile(f"([{_PROVINCES}][ \u3000]?[{_LETTER}])[·・ \u3000\\-－]?"
                    f"((?=[{_LETTER}]*[0-9０-９])(?![0-9０-９]*[{_LETTER}][0-9０-９]*[{_LETTER}][0-9０-９]*[{_LETTER}])"
                    f"[{_ALNUM}]{{5,6}})(?![{_ALNUM}])")
# A natural person's home: a residence word, then the address up to the end of its clause.
# A bare 住 is a residence word only where it is not part of 入住, 住院, 住房, 住建 ….
_RESIDENCE = re.compile(r"(?:家庭住址|户籍所在地|户籍地|住所地|住所|住址|家住|现住|居住|住在|"
                        r"住(?<![入记抓忍挡保守稳留止站顶拦卡扛揪困捂按憋盯咬围堵锁套缠拴居]住)(?![院宅房建宿持户手校店处]))"
                        r"[：:]?[ \u3000]*([^，。；、,;\n\r（(）)】!！?？]{1,80})")
_NOT_AN_ADDRESS = re.compile(r"(?:的|地|处|附近|期间|过|着|了|在此|在该)")
# Where the administrative part of an address ends: its last 省/市/县/区/镇/乡 (not 小区, 超市, 市场 …)
# before the first digit or house word.
_ADMINISTRATIVE = re.compile(r"(?<![小社园景校厂矿营])区|(?<![超菜夜门股])市(?!场)|[省县镇乡]")
_HOUSE_WORDS = re.compile(r"\d|[号栋幢室楼村组队弄巷]|单元")
# What the guard flags: a house number (digits followed by 号/栋/幢/室/单元).
_HOUSE_NUMBER = re.compile(f"{_DIGIT}[ \u3000]*(?:号|栋|幢|室|单元)")
@dataclass(frozen=True)
class Found:
    kind: str        # "身份证号" | "手机号" | "固定电话" | "银行卡号" (each also "…（部分遮蔽）") | "车牌号" | "住址"
    text: str        # as it appears


@dataclass
class Masked:
    """Masked texts, and a note of what was masked (for the office's draft email)."""

    texts: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)

    def notes(self) -> list[str]:
        return [f"{kind} {n} 处" for kind, n in self.counts.items() if n]


class _Fold(dict):
    """A ``str.translate`` table of what each character is in a number: a digit of any
    script → its ASCII digit, an X → X, a mask character → *, a separator → a space,
    anything else → itself. One character in, one out, so positions stay put.
    Filled as characters are met."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = _CHINESE_DIGITS.get(char)
        if value is None:
            number = unicodedata.decimal(char, None)
            if number is None:
                number = unicodedata.digit(char, None)
            if number is not None:
                value = str(number)
            elif char in _XS or char == "×":
                value = "X"
            elif char in _MASKS:
                value = "*"
            elif char in _SEPARATORS or "\u2000" <= char <= "\u200d":
                value = " "
            else:
                value = char
        self[code] = value
        return value


_FOLD = _Fold()


def _digits(text: str) -> str:
    """The digits (and X, and * for a mask character) of ``text``, in ASCII."""
    return re.sub(r"[^0-9X*]", "", text.translate(_FOLD))


def _classify(units: str, separated: bool) -> str | None:
    """What a number is, from its digits (X, and * for a masked digit): by its length, as
    the ID card, mobile, landline and bank card numbers are. ``separated``: written in groups."""
    n = len(units)
    if n < 10 or n > 30:
        return None
    if n == 18 and units[17] == "X" and units[:17].isdigit():
        return "身份证号"
    units = units.replace("X", "*")
    masked = "*" in units
    if masked and n - units.count("*") < 3:
        return None
    if n in (15, 18):
        kind = "身份证号"
    elif n == 11 and units[0] in "1*" and units[1] in "3456789*":
        kind = "手机号"
    elif n == 13 and _MOBILE_86.match(units):        # +86 139 0756 1234
        kind = "手机号"
    elif separated and n <= 12 and _AREA_CODE.match(units):
        kind = "固定电话"
    elif n >= 12:
        kind = "银行卡号"
    else:
        return None
    return kind + PARTIAL if masked else kind


def classify(run: str) -> str | None:
    """What a run of digits is, if it identifies a person; None for ordinary numbers.

    Digits of any script count; a run with mask characters (138****0000) is a
    partly masked number, of kind e.g. "手机号（部分遮蔽）".
    """
    folded = run.translate(_FOLD)
    return _classify(re.sub(r"[^0-9X*]", "", folded), len(_GROUP.findall(folded)) > 1)


class _Hit(NamedTuple):
    start: int
    end: int
    kind: str
    replacement: str = PLACEHOLDER


_NUMBER_KINDS = ("身份证号", "手机号", "固定电话", "银行卡号")


@functools.lru_cache(maxsize=64)
def _allowed(allowed: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_digits(a) for a in allowed)


def _number_hits(text: str, allow: frozenset[str]) -> Iterator[_Hit]:
    for match in _RUN.finditer(text):
        start, end = match.span()
        # An x that ends or begins a Latin word (Box 139…) is a letter, not a masked digit;
        # so is a lone x before a number (no number starts with X, nor hides one digit there).
        while start < end and text[start] in _XS and start and _LATIN.match(text, start - 1):
            start += 1
        while end > start and text[end - 1] in _XS and _LATIN.match(text, end):
            end -= 1
        if end - start > 1 and text[start] in _XS and text[start + 1] not in _XS:
            start += 1
        yield from _run_hits(text[start:end], start, allow)
    if ")" in text or "）" in text:
        for match in _AFTER_BRACKET.finditer(text):
            area = _AREA_BEFORE.search(text, max(0, match.start() - 6), match.start())
            if area is None:
                continue
            units = _digits(area.group(1)) + _digits(match.group(1))
            kind = _classify(units, True)
            if kind and kind.startswith(("固定电话", "手机号")) and units not in allow:
                yield _Hit(area.start(), match.end(), kind)


def _run_hits(run: str, offset: int, allow: frozenset[str]) -> Iterator[_Hit]:
    """The identifiers in one run of digits: the whole run, or the numbers a list of them holds."""
    folded = run.translate(_FOLD)
    groups = [m.span() for m in _GROUP.finditer(folded)]
    # The masker's placeholder beside a number is not part of it (×××、2026-11-28).
    while groups and run[slice(*groups[0])] in (PLACEHOLDER, "×××××"):
        groups.pop(0)
    while groups and run[slice(*groups[-1])] in (PLACEHOLDER, "×××××"):
        groups.pop()
    groups = _without_end_marks(run, folded, groups)
    for item in _items(run, groups):
        for first, last, kind in _segments(folded, item):
            positions = [i for start, end in item[first:last] for i in range(start, end)]
            units = "".join(folded[i] for i in positions)
            if not kind.endswith(PARTIAL) and units in allow:
                continue
            if kind == "手机号" and len(units) == 13:      # the country code 86 is no one's
                positions = positions[2:]
            yield _Hit(offset + positions[0], offset + positions[-1] + 1, kind)


def _without_end_marks(run: str, folded: str, groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A ? or # just before or after a whole number is punctuation, not a masked digit (13907561234？)."""
    if not groups:
        return groups
    start, end = groups[0][0], groups[-1][1]
    while start < end and run[start] in "?？#＃":
        start += 1
    while end > start and run[end - 1] in "?？#＃":
        end -= 1
    if (start, end) == (groups[0][0], groups[-1][1]):
        return groups
    trimmed = [(max(s, start), min(e, end)) for s, e in groups]
    trimmed = [(s, e) for s, e in trimmed if s < e]
    kind = _classify("".join(folded[s:e] for s, e in trimmed), len(trimmed) > 1)
    return trimmed if kind and not kind.endswith(PARTIAL) else groups


def _items(run: str, groups: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """A run split where a list separator (、 / line break) stands between numbers of 7 digits or more
    each: 13907561234、0898-23300000 is two numbers; 139、0756、1234 is one."""
    if not groups:
        return []
    pieces = [[groups[0]]]
    for before, after in itertools.pairwise(groups):
        if _LIST_SEPARATORS.search(run, before[1], after[0]):
            pieces.append([after])
        else:
            pieces[-1].append(after)
    if len(pieces) > 1 and all(sum(e - s for s, e in piece) >= 7 for piece in pieces):
        return pieces
    return [groups]


def _segments(folded: str, groups: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """(first group, end group, kind) of each identifier in a run of groups."""
    def dates(first: int, last: int) -> bool:
        return bool(_DATES.fullmatch("|".join(folded[s:e] for s, e in groups[first:last])))

    kind = _classify("".join(folded[s:e] for s, e in groups), len(groups) > 1)
    if kind and not kind.startswith("银行卡号"):
        return [(0, len(groups), kind)]
    # Several numbers in a row (13907561234 13907565678, 2026-11-28 13907561234): pieces, each
    # an ID, mobile or landline number or a date, the likeliest reading first (a 15-digit ID
    # or an oddly long card only when nothing else fits). In a run too long for one number,
    # bank cards written as cards are (in one piece, or in fours; starting as card numbers do,
    # not as years) count too: two cards in a row.
    cards = kind is None
    best: list[tuple[float, list[tuple[int, int, str]]] | None] = [(0.0, [])] + [None] * len(groups)
    for first in range(len(groups)):
        if best[first] is None:
            continue
        cost, pieces = best[first]
        units, shape = "", []
        for last in range(first + 1, len(groups) + 1):
            start, end = groups[last - 1]
            units += folded[start:end]
            shape.append(end - start)
            if len(units) > (30 if cards else 18):
                break
            part = _classify(units, last - first > 1)
            if part is None:
                if len(units) < 6 or shape[0] not in (4, 8) or not dates(first, last):
                    continue
                price = 1.0
            elif part.startswith("银行卡号"):
                if not cards or units[0] not in "345679*" or \
                        len(shape) > 1 and (any(n != 4 for n in shape[:-1]) or shape[-1] > 4):
                    continue
                price = 1.0 if 16 <= len(units) <= 19 else 2.0
            else:
                price = 1.5 if len(units) == 15 else 1.0
            if best[last] is None or cost + price < best[last][0]:
                best[last] = (cost + price, [*pieces, (first, last, part or "")])
    found = best[-1]
    if found and len(found[1]) > 1 and any(part for _, _, part in found[1]):
        return [piece for piece in found[1] if piece[2]]
    if kind is None or kind == "银行卡号" and dates(0, len(groups)):
        return []
    return [(0, len(groups), kind)]


# A local landline of seven or eight digits, too short to be told from other numbers by itself, is
# a phone number where a phone word stands right before it (电话：2388 1234).
_PHONE_WORD = re.compile(f"(?:电话|手机|座机|联系方式|联系号码|电话号码|号码)[：: \u3000]*({_DIGIT}(?:{_SEP}?{_DIGIT}){{6,7}})"
                         f"(?!{_SEP}?{_DIGIT})")


def _local_phone_hits(text: str, allow: frozenset[str]) -> Iterator[_Hit]:
    for match in _PHONE_WORD.finditer(text):
        digits = _digits(match.group(1))
        if len(digits) in (7, 8) and digits.isdigit() and not any(a.endswith(digits) for a in allow):
            yield _Hit(match.start(1), match.end(1), "固定电话")


# OCR reads 0 as O and 1 as l or I: a run of digits with such letters among them, standing apart from
# any Latin word, is read as the number it was (l3907561234, 460003l98805121234).
_OCR_RUN = re.compile(r"(?<![A-Za-z0-9０-９])[0-9OoIl](?:[ \u3000\-]?[0-9OoIl]){10,19}(?:[ \u3000\-]?[Xx])?"
                      r"(?![A-Za-z0-9０-９])")
_OCR_DIGITS = str.maketrans("OoIl", "0011")


def _ocr_hits(text: str, allow: frozenset[str]) -> Iterator[_Hit]:
    for match in _OCR_RUN.finditer(text):
        run = match.group()
        letters = sum(run.count(c) for c in "OoIl")
        digits = sum(c.isdigit() for c in run)
        if not letters or digits < 8:
            continue
        read = run.translate(_OCR_DIGITS)
        kind = classify(read)
        if kind and _digits(read) not in allow:
            yield _Hit(match.start(), match.end(), kind)


def _plate_hits(text: str) -> Iterator[_Hit]:
    for match in _PLATE.finditer(text):
        yield _Hit(match.start(), match.end(), "车牌号", match.group(1) + "×××××")


def _addresses(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, end of its administrative part) of each address after a residence word."""
    for match in _RESIDENCE.finditer(text):
        address = match.group(1).rstrip(" \u3000")
        if _NOT_AN_ADDRESS.match(address):
            continue                         # 居住的村庄, 住处附近, 居住期间: the home, not its address
        stop = _HOUSE_WORDS.search(address)
        limit = stop.start() if stop else len(address)
        keep = 0
        for unit in _ADMINISTRATIVE.finditer(address, 0, limit):
            keep = unit.end()
        start = match.start(1)
        yield start, start + len(address), start + keep


def _hits(text: str, allow: frozenset[str], *, masking: bool) -> list[_Hit]:
    """Every identifier in ``text``, in order; two that overlap are one.

    Masking, an address is the part after its administrative part, wherever that holds a
    digit or a house word (号 栋 幢 单元 室 楼 村 组 队 弄 巷); for the guard, the whole
    address, wherever it holds a house number.
    """
    hits = [*_number_hits(text, allow), *_local_phone_hits(text, allow), *_plate_hits(text)]
    if any(c in text for c in "OoIl"):
        hits += _ocr_hits(text, allow)
    for start, end, keep in _addresses(text):
        if masking:
            rest = text[keep:end]
            if rest.strip() and _HOUSE_WORDS.search(rest):
                hits.append(_Hit(keep, end, "住址"))
        elif _HOUSE_NUMBER.search(text, start, end):
            hits.append(_Hit(start, end, "住址"))
    hits.sort(key=lambda hit: (hit.start, -hit.end))
    kept: list[_Hit] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end:
            if hit.end > kept[-1].end:
                kept[-1] = kept[-1]._replace(end=hit.end)
            continue
        kept.append(hit)
    return kept


def find(text: str, *, allowed: Iterable[str] = ()) -> list[Found]:
    """Every identifier in ``text`` whose digits are not in ``allowed`` (the court's own numbers)."""
    return [Found(hit.kind, text[hit.start:hit.end]) for hit in _hits(text, _allowed(tuple(allowed)), masking=False)]


def own_numbers(contact: str) -> list[str]:
    """The court's own published numbers (its contact line): never masked, never blocked."""
    return [found.text for found in find(contact) if found.kind in _NUMBER_KINDS]


def mask_numbers(text: str, counts: dict[str, int], allowed: Iterable[str] = ()) -> str:
    """``text`` with every identifier replaced whole by ×××, except the court's own numbers
    (``allowed``): numbers full or partly masked, a plate after its province and letter
    (琼A×××××), a home address after its administrative part (住儋州市那大镇×××).
    ``counts`` gains one per identifier, by kind."""
    hits = _hits(text, _allowed(tuple(allowed)), masking=True)
    if not hits:
        return text
    out, position = [], 0
    for hit in hits:
        out += [text[position:hit.start], hit.replacement]
        position = hit.end
        counts[hit.kind] = counts.get(hit.kind, 0) + 1
    out.append(text[position:])
    return "".join(out)


# A web address as the office copies it from a browser: its digits are an article's number, not a person's.
_LINK = re.compile(r"(?:https?://|www\.|(?:[a-z0-9-]+\.)+(?:com|cn|net|org|gov|edu|tv|top|info)\b)"
                   r"[^\s，。；;、（）()<>“”\"']*", re.IGNORECASE)


def mask_outside_links(text: str, allowed: Iterable[str] = ()) -> str:
    """``text`` (a 版面或链接 cell: 第3版, a page's address) with every identifier outside its web addresses
    masked as :func:`mask_numbers` does; an address is left whole (a long article number in it would read
    as a bank card)."""
    out, position = [], 0
    for link in _LINK.finditer(text):
        out += [mask_numbers(text[position:link.start()], {}, allowed), link.group()]
        position = link.end()
    out.append(mask_numbers(text[position:], {}, allowed))
    return "".join(out)


def mask(texts: dict[str, str], *, parties_text: str, keep_debtor_names: bool,
         allowed: Iterable[str] = ()) -> Masked:
    """Mask every text: every identifier, and every natural person named in ``parties_text`` (the
    debtors too unless ``keep_debtor_names``). Who may be named by law is decided in names.py; a
    release uses :func:`pipeline.compose.public_texts`, which applies those rules."""
    counts: dict[str, int] = {}
    allowed = tuple(allowed)
    numbered = {key: mask_numbers(value, counts, allowed) for key, value in texts.items()}
    people = [p for p in names.parties(parties_text) if p.is_person]
    kept = {p.name for p in people if keep_debtor_names and p.role in names.DEBTOR_ROLES}
    aliases = names.pseudonyms(p.name for p in people if p.name not in kept)
    plan = names.NamePlan([names.Decision(name, "", alias, "") for name, alias in aliases.items()])
    out, hits = names.mask(numbered, plan)
    if hits:
        counts = {"姓名": hits, **counts}
    return Masked(out, counts)


# --- the last guard -------------------------------------------------------------

class Blocked(Exception):
    """A message meant for the media still carries an identifier."""

    def __init__(self, where: str, found: Found) -> None:
        self.where, self.found = where, found
        super().__init__(f"{where} 中仍有未遮蔽的{found.kind}：{_hint(found)}")


def _hint(found: Found) -> str:
    """Enough of the identifier for the office to find it, not enough to leak it: at most
    3 leading and 2 trailing digits of a number (fewer of a short one), a plate's province
    and letter, an address without its digits."""
    text = found.text
    if found.kind == "车牌号":
        plate = _PLATE.match(text)
        return (plate.group(1) if plate else text[:1]) + "•••••"
    folded = text.translate(_FOLD)
    digits = [i for i, c in enumerate(folded) if "0" <= c <= "9"]
    chars = list(text)
    shown = set() if found.kind == "住址" else {*digits[:min(3, len(digits) // 3)],
                                                *digits[len(digits) - min(2, len(digits) // 4):]}
    for i in digits:
        if i not in shown:
            chars[i] = "•"
    return "".join(chars)


def guard(data: bytes, *, allowed: Iterable[str] = ()) -> None:
    """Raise :class:`Blocked` if the message (subject, bodies, attachments) carries an identifier."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    allowed = tuple(allowed)
    places: list[tuple[str, str]] = [("主题", str(message.get("Subject", ""))),
                                     ("收件人", str(message.get("To", "")))]
    attachments: list[tuple[str, bytes, str]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        content_type = part.get_content_type()
        if name:
            attachments.append((f"附件 {name}", part.get_payload(decode=True) or b"", content_type))
            places.append(("附件名", name))
        elif content_type == "text/html":
            places.append(("HTML 正文", html_text(part.get_content())))
        elif content_type.startswith("text/"):
            places.append(("正文", part.get_content()))
    check(places, attachments, allowed=allowed)


# A line break no identifier can span: the character before it is neither a digit, a mask
# character nor a separator (a run of digits crosses a line break only between two of them;
# plates and addresses never do).
_SAFE_BREAK = re.compile(f"\n(?<=[^{_UNIT[1:-1]}{_SEP_CLASS}]\n)")


@functools.lru_cache(maxsize=1024)
def _findings(text: str, allowed: tuple[str, ...]) -> tuple[Found, ...]:
    return tuple(find(text, allowed=allowed))


def _find_cached(text: str, allowed: tuple[str, ...]) -> tuple[Found, ...]:
    """:func:`find`, cached per whole paragraph, cut only at line breaks no identifier can span.

    A release's paragraphs are the same in every outlet's message of a batch (only the
    greeting differs), so a batch of a thousand messages reads each of them once.
    """
    paragraphs = _SAFE_BREAK.split(text)
    if len(paragraphs) == 1:
        return _findings(text, allowed)
    return tuple(found for paragraph in paragraphs for found in _findings(paragraph, allowed))


@functools.lru_cache(maxsize=64)
def _attachment_findings(content: bytes, content_type: str, allowed: tuple[str, ...]) -> tuple[Found, ...]:
    """Findings in one attachment. A release's .docx is the same for every outlet,
    so a batch of a thousand messages reads it once, not a thousand times."""
    return tuple(find(attachment_text(content, content_type), allowed=allowed))


def guard_fields(*, subject: str, name: str, text: str, html: str,
                 attachments: Iterable[tuple[str, bytes, str]], allowed: Iterable[str] = ()) -> None:
    """The guard on what a message is built from: subject, the recipient's display
    name, both bodies, every attachment and its name.

    The builder adds nothing else from the sheet (From, Date and Message-ID come
    from the config and the clock), so this sees exactly what :func:`guard`
    would find in the finished bytes, without parsing them for every outlet.
    """
    attachments = tuple(attachments)
    check([("主题", subject), ("收件人", name), ("正文", text), ("HTML 正文", html_text(html)),
           *((f"附件 {filename}", filename) for filename, _, _ in attachments)],
          [(f"附件 {filename}", content, content_type) for filename, content, content_type in attachments],
          allowed=allowed)


def check(places: Iterable[tuple[str, str]], attachments: Iterable[tuple[str, bytes, str]] = (), *,
          allowed: Iterable[str] = (), leaked: Callable[[str], list[str]] | None = None) -> None:
    """The last guard, in its one shape: raise :class:`Blocked` for the first identifier (or, with
    ``leaked``, the first name the row's rules mask) in any place a reader sees — ``(where, text)`` — or in
    any attachment — ``(where, bytes, content type)``. ``guard``, ``guard_fields`` and publishing call it."""
    allowed = tuple(allowed)
    for where, text in places:
        found = _find_cached(text, allowed)
        if found:
            raise Blocked(where, found[0])
        names = leaked(text) if leaked is not None else []
        if names:
            raise Blocked(where, Found("姓名", names[0]))
    for where, content, content_type in attachments:
        found = _attachment_findings(content, content_type, allowed)
        if found:
            raise Blocked(where, found[0])


# --- text as a reader sees it --------------------------------------------------------

_HIDDEN = re.compile(r"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_BLOCK_TAGS = ("p|div|br|hr|td|th|tr|li|ul|ol|dl|dt|dd|h[1-6]|table|thead|tbody|tfoot|caption|blockquote|pre|"
               "section|article|header|footer|nav|aside|main|figure|figcaption|address|center|title|html|head|"
               "body|form|fieldset|legend|option|details|summary")
# One line break for a row of block tags, and the white space between and after them.
_BLOCK_TAG = rf"<\s*/?\s*(?:{_BLOCK_TAGS})\b[^>]*>"
_BLOCK = re.compile(rf"{_BLOCK_TAG}(?:\s*{_BLOCK_TAG})*\s*", re.IGNORECASE)
_INLINE = re.compile(r"<[A-Za-z/!?][^>]*>")
_WHITE_SPACE = re.compile(r"[ \t\r\n\f]+")


def html_text(text: str) -> str:
    """The readable text of HTML, as a reader sees it: inline tags (b, span, a, font …)
    dropped with nothing in their place, so 139<b>0756</b>1234 is one number; block
    tags (p, div, br, td, li, h1 …) a line break; white space in the source one space,
    as a browser shows it; comments, scripts and styles gone; entities decoded."""
    text = _INLINE.sub("", _BLOCK.sub("\0", _HIDDEN.sub("", text)))
    return html.unescape(_WHITE_SPACE.sub(" ", text).replace("\0", "\n"))


# A Word part: the text of each run (<w:t>, and deleted text still in the file), tabs,
# breaks; a paragraph (or table cell) ends with a line break.
_WORD_TEXT = re.compile(r"<w:(t|delText)(?:\s[^>]*)?>([^<]*)</w:\1>|<w:(tab|br|cr|noBreakHyphen)\b[^>]*/>"
                        r"|</w:(?:p|tc)>")
_WORD_RUNS = re.compile(r"<w:(?:t|delText)[\s>]")
# Any other XML part (.pptx, .xlsx, .odt, document properties): text runs join, a paragraph or
# line ends with a line break, any other element stands apart from the next.
_XML_TAG = re.compile(r"<(?:/?(?:[\w.-]+:)?([\w.-]+)[^>]*|[?!][^>]*)>")
_XML_INLINE = frozenset({"r", "t", "rPr", "span", "a", "sz", "color", "rFont", "family", "charset", "scheme",
                         "b", "i", "u", "latin", "ea", "cs", "solidFill", "srgbClr", "schemeClr"})
_XML_LINE = frozenset({"p", "br", "h", "line-break", "list-item"})


def _word_text(xml: str) -> str:
    out = []
    for match in _WORD_TEXT.finditer(xml):
        text, element = match.group(2), match.group(3)
        if text is not None:
            out.append(html.unescape(text))
        elif element == "tab":
            out.append("\t")
        elif element == "noBreakHyphen":
            out.append("-")
        else:
            out.append("\n")
    return "".join(out)


def _xml_tag(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_INLINE:
        return ""
    if name == "tab":
        return "\t"
    if name == "s":
        return " "
    return "\n" if name in _XML_LINE else "\n\n\n\n"


def _xml_text(xml: str) -> str:
    if "<w:" in xml:
        return _word_text(xml) if _WORD_RUNS.search(xml) else ""
    return html.unescape(_XML_TAG.sub(_xml_tag, xml))


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")


def attachment_text(content: bytes, content_type: str) -> str:
    """The words inside an attachment, as a reader sees them: a .docx (any zip of XML)
    paragraph by paragraph, the runs of a paragraph joined; HTML as :func:`html_text`
    reads it; anything else, the bytes as text."""
    if content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                parts = [_xml_text(_decode(archive.read(n))) for n in archive.namelist() if n.endswith(".xml")]
        except zipfile.BadZipFile:
            return _decode(content)
        return "\n\n\n\n".join(parts)
    text = _decode(content)
    return html_text(text) if content_type == "text/html" else text
