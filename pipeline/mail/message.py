"""Build MIME messages that every mail client shows right, Chinese included.

The structure is ``multipart/alternative`` (plain text, then HTML: RFC 2046
puts the preferred part last), wrapped in ``multipart/mixed`` when there are
attachments. Everything is UTF-8 in base64, which survives any relay.

Headers are built with the ``compat32`` API on purpose: it writes RFC 2047
encoded words of at most 75 characters, folded between words, and leaves
attachment parameters exactly as given. The modern API would rewrite a file
name as RFC 2231 continuations (``filename*0*=``), which Outlook and Foxmail
do not read; we send both forms, the encoded word in ``name``/``filename``
for them and ``filename*`` for clients that follow RFC 2231.

Header values may come from the sheet (a title, a team name): every control
character, CR and LF included, is replaced by a space before it reaches a
header, so sheet data can never add a header or a recipient.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

# The email package loads where a message is made or read, not with the names other modules take from here
# (``Outgoing``, ``address``): ``status`` starts without it (tests/test_startup.py).

from ..core import normalize
from ..core.errors import PipelineError
from ..core.model import MessageKey
from ..core.normalize import INVISIBLE

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class MessageError(PipelineError):
    """A message cannot be built (a bad address, say)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = ""      # guessed from the file name when blank


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient, and what it is (``key``).

    The envelope goes to ``recipient`` and nowhere else: the address is a
    field of its own, never parsed out of text that came from the sheet.
    """

    key: MessageKey             # what the message is, e.g. digest/2026-11-26
    purpose: str                # "digest", "reminder", "draft", "release", ...
    recipient: str              # the bare address
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    name: str = ""              # the recipient's display name, for To:
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def to(self) -> str:
        """How the recipient is shown (name and address), for people."""
        return f"{clean_header(self.name)} <{self.recipient}>" if self.name else self.recipient


def clean_header(value: str) -> str:
    """A header-safe value: control characters (CR and LF first) become one space; bidi overrides,
    zero-width characters and non-characters go (a subject or a file name shows what it says)."""
    return _CONTROL.sub(" ", INVISIBLE.sub("", value)).strip()


@functools.lru_cache(maxsize=256)
def address(value: str) -> tuple[str, str]:
    """Split ``Name <addr>`` and check the address; raises :class:`MessageError`."""
    from email.utils import parseaddr

    name, addr = parseaddr(clean_header(value))
    try:
        addr = normalize.email(addr)
    except normalize.Invalid:
        raise MessageError(f"邮箱地址无效：{value!r}") from None
    return name, addr


def encoded_words(text: str, *, lead: int = 0, limit: int = 75) -> str:
    """``text`` as RFC 2047 base64 words of at most ``limit`` characters, folded.

    ``lead`` is what precedes the first word on its line (``Subject: ``), so
    that the first word fits there and the header does not start with a fold.
    Splits only between characters, never inside a UTF-8 sequence; pure
    ASCII text is returned unchanged.
    """
    if text.isascii():
        return text
    overhead = len("=?utf-8?b??=")
    room = (min(limit, 77 - lead) - overhead) // 4 * 3   # UTF-8 bytes the first word holds
    words, chunk = [], b""
    for char in text:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > room:
            words.append(chunk)
            chunk, room = b"", (limit - overhead) // 4 * 3
        chunk += encoded
    words.append(chunk)
    # One word per line: the header arrives folded (RFC 5322 2.2.3), each line within 78.
    return "\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _rfc2231(name: str, value: str, width: int = 60) -> str:
    """``name*0*=utf-8''…; name*1*=…``: RFC 2231 continuations split between characters."""
    from urllib.parse import quote

    pieces, current = [], ""
    for char in value:
        quoted = quote(char, safe="")
        if current and len(current) + len(quoted) > width:
            pieces.append(current)
            current = ""
        current += quoted
    pieces.append(current)
    return "; ".join(f"{name}*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{piece}"
                     for i, piece in enumerate(pieces))


def format_address(name: str, addr: str) -> str:
    """``Name <addr>``: the name as RFC 2047 words, the address always outside them.

    A name longer than 15 Chinese characters needs two words; conforming
    readers join them (RFC 2047 section 6.2), though Python's own address
    parser shows a space where they meet.
    """
    try:
        addr = normalize.email(addr)
    except normalize.Invalid:
        raise MessageError(f"邮箱地址无效：{addr!r}") from None
    name = clean_header(name)
    if not name:
        return addr
    if name.isascii():
        from email.utils import formataddr

        return formataddr((name, addr))
    return f"{encoded_words(name, lead=len('From: '))}\n <{addr}>"


def message_id(key: MessageKey | str, sender: str, recipient: str) -> str:
    """One Message-ID per delivery (RFC 5322 3.6.4): unique per (``key``, ``recipient``), so the copies of one
    release to a thousand outlets never share one, and deterministic, so a delivery sent again (``resend``)
    keeps its ID and a reader's client can tell it is the same message."""
    domain = address(sender)[1].rpartition("@")[2]
    digest = hashlib.sha256(f"{key}\0{recipient.strip().lower()}".encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def list_unsubscribe(office: str, outlet: str, recipient: str) -> str:
    """The ``List-Unsubscribe`` value of a media message (RFC 2369): a ``mailto:`` to the office whose subject
    names the outlet and its address, so the office knows which row of the 媒体 tab to change. Mail only: a
    one-click ``List-Unsubscribe-Post`` (RFC 8058) needs a web address, which the pipeline does not have."""
    _, addr = address(office)
    who = clean_header(outlet)
    subject = f"退订：{who}（{recipient}）" if who else f"退订：{recipient}"
    from urllib.parse import quote

    return f"<mailto:{quote(addr, safe='@')}?subject={quote(subject, safe='')}>"


def _visible(text: str) -> str:
    """A body without bidi overrides, zero-width characters and non-characters (line breaks kept)."""
    return INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")) if not text.isprintable() else text


def build(outgoing: Outgoing, *, sender: str, now: datetime) -> Built:
    """The complete message for ``outgoing``; ``now`` must be aware (Date carries its offset).

    Written straight to its wire form from parts kept across a batch (the sender, the date, the subject, a
    body the recipients share, each attachment), in exactly the bytes the email package's generator writes
    for the same message under ``compat32`` (tests/test_mime_wire.py compares every byte): a release to a
    thousand outlets builds a thousand messages, and only what differs between them is made a thousand times.
    """
    if now.tzinfo is None:
        raise ValueError("build() needs an aware datetime")
    # Boundaries with "_" and "." never occur in base64, and every part is base64:
    # naming them spares a search of the whole message for a free one.
    tag = hashlib.sha256(f"{outgoing.key}\0{outgoing.recipient}".encode("utf-8")).hexdigest()[:24]
    alternative, html = f"=_alt.{tag}_".encode("ascii"), _visible(outgoing.html)
    body = b"".join((b"--", alternative, _CRLF, _text_part(_visible(outgoing.text), "plain"),
                     _CRLF, b"--", alternative, _CRLF, _text_part(html, "html"),
                     _CRLF, b"--", alternative, b"--", _CRLF))
    head = [_content_type("alternative", alternative)]
    heads: tuple[bytes, ...] = ()
    if outgoing.attachments:
        mixed = f"=_mix.{tag}_".encode("ascii")
        parts = [_attachment(item) for item in outgoing.attachments]
        heads = tuple(part.head for part in parts)
        chunks = [b"--", mixed, _CRLF, head[0], _CRLF, body]
        for part in parts:
            chunks += [_CRLF, b"--", mixed, _CRLF, part.wire]
        chunks += [_CRLF, b"--", mixed, b"--", _CRLF]
        body, head = b"".join(chunks), [_content_type("mixed", mixed)]
    message_id_ = message_id(outgoing.key, sender, outgoing.recipient)
    head += [_sender(sender), _header("To", format_address(outgoing.name, outgoing.recipient)),
             _subject(outgoing.subject), _date(now), _header("Message-ID", message_id_),
             b"Auto-Submitted: auto-generated\r\n"]       # RFC 3834: no auto-replies to us
    for name, value in outgoing.headers.items():
        head.append(_header(clean_header(name), encoded_words(clean_header(value), lead=len(name) + 2)))
    head.append(_CRLF)
    return Built(b"".join(head), body, message_id_, html, heads)


@dataclass(frozen=True, eq=False)
class Built:
    """A message as :func:`build` made it, in wire form (CRLF line ends), with what a mail client shows of it
    (the outbox's preview reads these instead of parsing the bytes back)."""

    head: bytes                             # the message's header block, with the blank line after it
    body: bytes                             # everything after the header block
    message_id: str
    html: str                               # the text of its HTML part
    attachment_heads: tuple[bytes, ...]     # each attachment part's header block, with its blank line

    def __getitem__(self, name: str) -> str | None:
        """A header's value as written, as ``email.message.Message`` gives it under ``compat32``."""
        from email import policy
        from email.parser import BytesParser

        return BytesParser(policy=policy.compat32).parsebytes(self.head, headersonly=True)[name]


_CRLF = b"\r\n"
@functools.cache
def _compat():
    """``compat32`` writing CRLF lines of at most 78 characters."""
    from email import policy

    return policy.compat32.clone(linesep="\r\n", max_line_length=78)


def _header(name: str, value: str) -> bytes:
    """One header as ``compat32`` writes it. A value this module folded already (ASCII, every line within 78
    characters, continuations indented) comes out as it is, and a single ASCII word too long for the first
    line (a ``List-Unsubscribe`` address) goes alone on the next, which is what compat32 writes for them, at a
    fraction of the cost; anything else goes through compat32's own folding."""
    if value.isascii() and "\r" not in value:
        lines = value.split("\n")
        if len(name) + 2 + len(lines[0]) <= 78 and all(
                line[:1] in (" ", "\t") and len(line) <= 78 for line in lines[1:]):
            return (f"{name}: " + "\r\n".join(lines) + "\r\n").encode("ascii")
        if len(lines) == 1 and not _FOLDS_AT.search(value):
            return f"{name}: \r\n {value}\r\n".encode("ascii")
    return _compat().fold_binary(name, value)


_FOLDS_AT = re.compile(r"[\s;,]")      # where compat32 may fold a line (its Header's split characters)


@functools.lru_cache(maxsize=16)
def _sender(sender: str) -> bytes:
    return _header("From", format_address(*address(sender)))


@functools.lru_cache(maxsize=16)
def _subject(subject: str) -> bytes:
    return _header("Subject", encoded_words(clean_header(subject), lead=len("Subject: ")))


def _date(now: datetime) -> bytes:
    # Keyed on the offset too: the same moment in two zones is equal (and hashes alike), yet is written apart.
    return _dated(now, now.utcoffset())


@functools.lru_cache(maxsize=16)
def _dated(now: datetime, offset: object) -> bytes:
    from email.utils import format_datetime

    return _header("Date", format_datetime(now))


def _content_type(subtype: str, boundary: bytes) -> bytes:
    """``Content-Type: multipart/…; boundary=…`` and ``MIME-Version``, folded before the boundary when the line
    would pass 78 characters, as compat32 folds it."""
    value = f'multipart/{subtype}; boundary="{boundary.decode("ascii")}"'
    if len("Content-Type: ") + len(value) > 78:
        value = value.replace("; ", ";\n ")
    return _header("Content-Type", value) + b"MIME-Version: 1.0\r\n"


@functools.lru_cache(maxsize=8)
def _text_part(text: str, subtype: str) -> bytes:
    """A UTF-8 text part in base64 as ``MIMEText`` writes it (lines of 76 characters), encoded in one C call;
    a body every recipient shares is encoded once."""
    encoded = binascii.b2a_base64(text.encode("utf-8"), newline=False)
    lines = [encoded[at:at + 76] for at in range(0, len(encoded), 76)]
    return _TEXT_HEAD[subtype] + b"\r\n".join(lines) + (b"\r\n" if lines else b"")


_TEXT_HEAD = {subtype: (f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
                        "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii") for subtype in ("plain", "html")}


@dataclass(frozen=True)
class _Part:
    wire: bytes     # the whole part, header block and base64
    head: bytes     # its header block


@functools.lru_cache(maxsize=16)
def _attachment(item: Attachment) -> _Part:
    """The encoded part, made once per attachment: a release's .docx goes to every outlet in the same bytes,
    so it is base64-encoded and written once, not once per recipient."""
    import io
    import mimetypes
    from email import encoders, policy
    from email.generator import BytesGenerator
    from email.mime.base import MIMEBase

    content_type = item.content_type or mimetypes.guess_type(item.filename)[0] or "application/octet-stream"
    maintype, _, subtype = content_type.partition("/")
    part = MIMEBase(maintype, subtype, policy=policy.compat32)
    part.set_payload(item.content)
    encoders.encode_base64(part)
    filename = clean_header(item.filename)
    if filename.isascii():
        word, extended = filename.replace('"', "'"), ""
    else:
        # Encoded words inside the quoted string for Outlook and Foxmail,
        # RFC 2231 filename* for the clients that follow the standard.
        words = encoded_words(filename).replace("\n ", " ")   # inside a quoted string: spaces, not folds
        word, extended = words, "; " + _rfc2231("filename", filename)
    part.set_param("name", word)
    part["Content-Disposition"] = f'attachment; filename="{word}"{extended}'
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=_compat()).flatten(part)
    head = b"".join(_compat().fold_binary(name, value) for name, value in part.raw_items()) + _CRLF
    return _Part(buffer.getvalue(), head)


def as_bytes(message: Built) -> bytes:
    """Wire form with CRLF line ends, as SMTP and .eml files expect."""
    return message.head + message.body
