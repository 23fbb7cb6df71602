"""Masking of personal data, and the last guard before anything reaches the media.

PIPL: published text masks ID-card numbers, phone numbers and bank accounts,
and names natural persons as surname + 某 — except where the law makes the
name public (the dishonest-debtor list, 失信被执行人名单). ID numbers are
never kept.

Numbers are found however people type them: inside Chinese text, in
full-width digits, split by spaces or dashes. The guard uses the same
detector on the finished message (subject, both bodies, attachments) and
refuses to let one through in which any identifier survives.
"""

from __future__ import annotations

import functools
import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser

_DIGIT = "0-9０-９"
_SEP = r"[ \u3000\-－–—_.]"
# A run of digits (an ID may end in X), single separators allowed between them.
_RUN = re.compile(rf"(?<![{_DIGIT}])[{_DIGIT}](?:{_SEP}?[{_DIGIT}])*(?:{_SEP}?[xXＸｘ×])?(?![{_DIGIT}])")
_NOT_DIGIT = re.compile(r"[^0-9X]")
_MOBILE = re.compile(r"1[3-9]")
_MOBILE_86 = re.compile(r"861[3-9]")
_AREA_CODE = re.compile(r"0[1-9]\d{1,2}")
_TAG = re.compile(r"<[^>]+>")
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "公孙", "慕容", "尉迟", "长孙",
                     "宇文", "司徒", "夏侯", "端木", "澹台", "轩辕", "南宫", "西门", "百里", "呼延", "独孤")
# Words that make a party an organisation, not a natural person.
_ORGANISATION = re.compile(r"公司|有限|集团|厂|店|行$|银行|中心|合作社|局|委员会|政府|学校|医院|村委|居委|"
                           r"事务所|协会|基金|站|所$|部$|馆|社$|院$|处$")
_ROLES = re.compile(r"(申请执行人|被执行人|申请人|被申请人|第三人|案外人|原告|被告|上诉人|被上诉人|"
                    r"法定代表人|负责人|委托代理人|代理人|担保人|当事人)")


@dataclass(frozen=True)
class Found:
    kind: str        # "身份证号" | "手机号" | "固定电话" | "银行卡号"
    text: str        # as it appears


@dataclass
class Masked:
    """Masked texts, and a note of what was masked (for the office's draft email)."""

    texts: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)

    def notes(self) -> list[str]:
        return [f"{kind} {n} 处" for kind, n in self.counts.items() if n]


def _digits(run: str) -> str:
    folded = unicodedata.normalize("NFKC", run).upper().replace("×", "X")
    return _NOT_DIGIT.sub("", folded)


def classify(run: str) -> str | None:
    """What a run of digits is, if it identifies a person; None for ordinary numbers."""
    digits = _digits(run)
    plain = digits.rstrip("X")
    if len(digits) == 18 and plain[:17].isdigit():
        return "身份证号"
    if len(digits) == 15 and digits.isdigit():
        return "身份证号"
    if digits.endswith("X"):
        return None
    if len(digits) == 11 and _MOBILE.match(digits):
        return "手机号"
    if len(digits) == 13 and _MOBILE_86.match(digits):   # +86 139 0756 1234
        return "手机号"
    if _AREA_CODE.match(digits) and 10 <= len(digits) <= 12 and _SEP_PRESENT.search(run):
        return "固定电话"
    if 12 <= len(digits) <= 30:
        return "银行卡号"
    return None


_SEP_PRESENT = re.compile(_SEP)
_LANDLINE = re.compile(rf"(?<![{_DIGIT}])0[1-9][{_DIGIT}]{{1,2}}[-－–—)）]?[{_DIGIT}]{{7,8}}(?![{_DIGIT}])")


def find(text: str, *, allowed: Iterable[str] = ()) -> list[Found]:
    """Every identifier in ``text`` whose digits are not in ``allowed`` (the court's own numbers)."""
    allow = {_digits(a) for a in allowed}
    found = []
    for match in _RUN.finditer(text):
        kind = classify(match.group())
        if kind and _digits(match.group()) not in allow:
            found.append(Found(kind, match.group()))
    for match in _LANDLINE.finditer(text):
        if _digits(match.group()) not in allow and not any(match.group() in f.text for f in found):
            found.append(Found("固定电话", match.group()))
    return found


def own_numbers(contact: str) -> list[str]:
    """The court's own published numbers (its contact line): never masked, never blocked."""
    return [found.text for found in find(contact)]


def _mask_number(run: str, kind: str) -> str:
    chars = list(run)
    positions = [i for i, c in enumerate(chars) if _digits(c)]
    keep_head, keep_tail = {"身份证号": (6, 4), "手机号": (3, 4), "银行卡号": (4, 4), "固定电话": (4, 2)}[kind]
    for i in positions[keep_head:len(positions) - keep_tail]:
        chars[i] = "*"
    return "".join(chars)


def mask_numbers(text: str, counts: dict[str, int], allowed: Iterable[str] = ()) -> str:
    allow = {_digits(a) for a in allowed}

    def replace(match: re.Match[str]) -> str:
        kind = classify(match.group())
        if not kind or _digits(match.group()) in allow:
            return match.group()
        counts[kind] = counts.get(kind, 0) + 1
        return _mask_number(match.group(), kind)

    text = _RUN.sub(replace, text)

    def landline(match: re.Match[str]) -> str:
        if _digits(match.group()) in allow:
            return match.group()
        counts["固定电话"] = counts.get("固定电话", 0) + 1
        return _mask_number(match.group(), "固定电话")

    return _LANDLINE.sub(landline, text)


@dataclass(frozen=True)
class Party:
    role: str
    name: str

    @property
    def is_person(self) -> bool:
        return 2 <= len(self.name) <= 4 and "某" not in self.name and not _ORGANISATION.search(self.name) \
            and all("\u4e00" <= c <= "\u9fff" for c in self.name)


def parties(text: str) -> list[Party]:
    """``申请执行人：王文华，被执行人：李国强、陈某等3人`` → the named parties with their roles.

    Roles split the cell wherever they stand (after 、，；, a space or nothing);
    ``等N人`` and ``等`` after a name are dropped.
    """
    found = []
    pieces = _ROLES.split(text)
    # pieces: [before, role, segment, role, segment, ...]
    segments = [("", pieces[0])] + list(zip(pieces[1::2], pieces[2::2]))
    for role, segment in segments:
        segment = re.sub(r"等\s*[\d一二三四五六七八九十百]*\s*(?:人|名|户|家)?", "、", segment)
        for name in re.split(r"[、,，/和及与\s；;：:（）()\n]+", segment):
            name = name.strip()
            if name:
                found.append(Party(role, name))
    return found


_ORDINALS = "甲乙丙丁戊己庚辛壬癸"


def pseudonym(name: str, taken: set[str]) -> str:
    """Surname + 某; 王某华 for a second 王, then 王某甲, 王某乙 … if even that collides."""
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    for candidate in (surname + "某", surname + "某" + name[-1], *(surname + "某" + o for o in _ORDINALS)):
        if candidate not in taken:
            return candidate
    return surname + "某" + str(len(taken))


def mask(texts: dict[str, str], *, parties_text: str, keep_debtor_names: bool,
         allowed: Iterable[str] = ()) -> Masked:
    """Mask every text of a release. Names come from 当事人; debtors stay named when
    ``keep_debtor_names`` (the dishonest-debtor list is public); numbers never stay."""
    counts: dict[str, int] = {}
    allowed = tuple(allowed)
    replacements: dict[str, str] = {}
    taken: set[str] = set()
    for party in parties(parties_text):
        if not party.is_person or party.name in replacements:
            continue
        if keep_debtor_names and party.role == "被执行人":
            continue
        alias = pseudonym(party.name, taken)
        taken.add(alias)
        replacements[party.name] = alias
    # Longest names first, so 欧阳小明 is replaced before a shorter name inside it.
    ordered = sorted(replacements, key=len, reverse=True)
    out = {}
    for key, value in texts.items():
        value = mask_numbers(value, counts, allowed)
        for name in ordered:
            hits = value.count(name)
            if hits:
                counts["姓名"] = counts.get("姓名", 0) + hits
                value = value.replace(name, replacements[name])
        out[key] = value
    return Masked(out, counts)


# --- the last guard -------------------------------------------------------------

class Blocked(Exception):
    """A message meant for the media still carries an identifier."""

    def __init__(self, where: str, found: Found) -> None:
        self.where, self.found = where, found
        super().__init__(f"{where} 中仍有未遮蔽的{found.kind}：{_hint(found.text)}")


def _hint(text: str) -> str:
    """Enough of the number for the office to find it, not enough to leak it."""
    digits = [i for i, c in enumerate(text) if _digits(c)]
    chars = list(text)
    for i in digits[3:-2]:
        chars[i] = "•"
    return "".join(chars)


def guard(data: bytes, *, allowed: Iterable[str] = ()) -> None:
    """Raise :class:`Blocked` if the message (subject, bodies, attachments) carries an identifier."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    allowed = tuple(allowed)
    places: list[tuple[str, str]] = [("主题", str(message.get("Subject", ""))),
                                     ("收件人", str(message.get("To", "")))]
    attachments: list[tuple[str, tuple[Found, ...]]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        content_type = part.get_content_type()
        if name:
            attachments.append((f"附件 {name}", _attachment_findings(part.get_payload(decode=True) or b"",
                                                                   content_type, allowed)))
            places.append(("附件名", name))
        elif content_type == "text/html":
            places.append(("HTML 正文", html_text(part.get_content())))
        elif content_type.startswith("text/"):
            places.append(("正文", part.get_content()))
    for where, text in places:
        found = find(text, allowed=allowed)
        if found:
            raise Blocked(where, found[0])
    for where, found in attachments:
        if found:
            raise Blocked(where, found[0])


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
    allowed = tuple(allowed)
    for where, value in (("主题", subject), ("收件人", name), ("正文", text)):
        found = _find_by_line(value, allowed)
        if found:
            raise Blocked(where, found[0])
    found = [f for line in html.split("\n") for f in _html_line_findings(line, allowed)]
    if found:
        raise Blocked("HTML 正文", found[0])
    for filename, content, content_type in attachments:
        found = find(filename, allowed=allowed) or list(_attachment_findings(content, content_type, allowed))
        if found:
            raise Blocked(f"附件 {filename}", found[0])


def _find_by_line(text: str, allowed: tuple[str, ...]) -> list[Found]:
    """:func:`find`, line by line. A release's lines are the same in every outlet's
    message, so a batch reads each once; numbers never span lines (a line break
    is not a separator), so nothing is missed."""
    return [f for line in text.split("\n") for f in _line_findings(line, allowed)]


@functools.lru_cache(maxsize=8192)
def _line_findings(line: str, allowed: tuple[str, ...]) -> tuple[Found, ...]:
    return tuple(find(line, allowed=allowed))


@functools.lru_cache(maxsize=8192)
def _html_line_findings(line: str, allowed: tuple[str, ...]) -> tuple[Found, ...]:
    return tuple(find(html_text(line), allowed=allowed))


def html_text(text: str) -> str:
    """The readable text of HTML (tags dropped, entities decoded), as a reader sees it."""
    return html.unescape(_TAG.sub(" ", text))


def attachment_text(content: bytes, content_type: str) -> str:
    """The words inside an attachment: .docx XML text runs, or the bytes as text."""
    if content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                xml = " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                               if n.endswith(".xml"))
        except zipfile.BadZipFile:
            xml = content.decode("utf-8", "replace")
        # Word splits text into runs: join the runs' text, then read it as one.
        return "".join(re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml)) + " " + re.sub(r"<[^>]+>", " ", xml)
    return content.decode("utf-8", "replace")
