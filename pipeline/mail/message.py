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
import functools
import hashlib
import io
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import encoders, policy
from email.charset import BASE64, Charset
from email.generator import BytesGenerator
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import quote

from ..core import normalize
from ..core.errors import PipelineError
from ..core.model import MessageKey
from ..core.normalize import INVISIBLE

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
class _WirePolicy(type(policy.compat32)):  # type: ignore[misc]  # compat32's class
    """compat32, but a header we already folded (ASCII, every line within the limit,
    continuations indented) is written as it is instead of being re-parsed into a
    ``Header`` and folded again — the same bytes, at a fraction of the cost."""

    def _fold(self, name, value, sanitize):  # noqa: ANN001 - the email API's signature
        if isinstance(value, str) and value.isascii() and "\r" not in value:
            lines = value.split("\n")
            if len(name) + 2 + len(lines[0]) <= self.max_line_length and all(
                    line[:1] in (" ", "\t") and len(line) <= self.max_line_length for line in lines[1:]):
                return f"{name}: {self.linesep.join(lines)}{self.linesep}"
        return super()._fold(name, value, sanitize)


_WIRE = _WirePolicy(linesep="\r\n", max_line_length=78)
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = BASE64
_UTF8.body_encoding = BASE64


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
    return f"<mailto:{quote(addr, safe='@')}?subject={quote(subject, safe='')}>"


def _visible(text: str) -> str:
    """A body without bidi overrides, zero-width characters and non-characters (line breaks kept)."""
    return INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")) if not text.isprintable() else text


def build(outgoing: Outgoing, *, sender: str, now: datetime) -> MIMEMultipart:
    """The complete message for ``outgoing``; ``now`` must be aware (Date carries its offset)."""
    if now.tzinfo is None:
        raise ValueError("build() needs an aware datetime")
    # Boundaries with "_" and "." never occur in base64, and every part is base64:
    # naming them spares the generator a search of the whole message for a free one.
    tag = hashlib.sha256(f"{outgoing.key}\0{outgoing.recipient}".encode("utf-8")).hexdigest()[:24]
    body = MIMEMultipart("alternative", boundary=f"=_alt.{tag}_", policy=policy.compat32)
    body.attach(_Text(_visible(outgoing.text), "plain"))
    body.attach(_Text(_visible(outgoing.html), "html"))
    if outgoing.attachments:
        message = MIMEMultipart("mixed", boundary=f"=_mix.{tag}_", policy=policy.compat32)
        message.attach(body)
        for item in outgoing.attachments:
            message.attach(_attachment(item))
    else:
        message = body
    message["From"] = format_address(*address(sender))
    message["To"] = format_address(outgoing.name, outgoing.recipient)
    message["Subject"] = encoded_words(clean_header(outgoing.subject), lead=len("Subject: "))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(outgoing.key, sender, outgoing.recipient)
    message["Auto-Submitted"] = "auto-generated"   # RFC 3834: no auto-replies to us
    for name, value in outgoing.headers.items():
        message[clean_header(name)] = encoded_words(clean_header(value), lead=len(name) + 2)
    return message


class _SharedPart(MIMEBase):
    """An attachment part shared by every message of a batch, with its wire form."""

    def __init__(self, maintype: str, subtype: str) -> None:
        super().__init__(maintype, subtype, policy=policy.compat32)
        self.wire: dict[str | None, bytes] = {}
        self.head: bytes | None = None       # its header block (shown_parts)


@functools.lru_cache(maxsize=16)
def _attachment(item: Attachment) -> MIMEBase:
    """The encoded part, built once per attachment: a release's .docx goes to every
    outlet in the same bytes, so it is base64-encoded once, not once per recipient."""
    content_type = item.content_type or mimetypes.guess_type(item.filename)[0] or "application/octet-stream"
    maintype, _, subtype = content_type.partition("/")
    part = _SharedPart(maintype, subtype)
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
    return part


class _Text(MIMENonMultipart):
    """A UTF-8 text part in base64 (as ``MIMEText`` writes it), encoded in one C call
    and kept in its wire form, so that serialising it is a single write."""

    def __init__(self, text: str, subtype: str) -> None:
        super().__init__("text", subtype, policy=policy.compat32, charset="utf-8")
        self["Content-Transfer-Encoding"] = "base64"
        wire = base64.encodebytes(text.encode("utf-8"))
        self.set_payload(wire.decode("ascii"))
        self.wire = wire.replace(b"\n", b"\r\n")
        self.text = text                   # what a reader's client decodes it to


class _Generator(BytesGenerator):
    """Writes a cached attachment part from its stored wire form: a .docx sent to a
    thousand outlets is serialised once, not a thousand times."""

    def flatten(self, msg, unixfrom=False, linesep=None):  # noqa: ANN001 - the email API's signature
        if isinstance(msg, _SharedPart):
            wire = msg.wire.get(linesep)
            if wire is None:
                buffer = io.BytesIO()
                BytesGenerator(buffer, policy=self.policy).flatten(msg, linesep=linesep)
                wire = msg.wire[linesep] = buffer.getvalue()
            self._fp.write(wire)
            return
        if isinstance(msg, _Text) and (linesep or self.policy.linesep) == "\r\n":
            for name, value in msg.raw_items():
                self._fp.write(self.policy.fold_binary(name, value))
            self._fp.write(b"\r\n")
            self._fp.write(msg.wire)
            return
        super().flatten(msg, unixfrom=unixfrom, linesep=linesep)


def as_bytes(message: MIMEMultipart) -> bytes:
    """Wire form with CRLF line ends, as SMTP and .eml files expect."""
    buffer = io.BytesIO()
    _Generator(buffer, policy=_WIRE).flatten(message)
    return buffer.getvalue()


def head(message: MIMEMultipart) -> bytes:
    """A message's (or a part's) header block as :func:`as_bytes` writes it, with the blank line after it."""
    return b"".join(_WIRE.fold_binary(name, value) for name, value in message.raw_items()) + b"\r\n"


def shown_parts(message: MIMEMultipart) -> tuple[str, list[bytes]] | None:
    """What a mail client shows of a message :func:`build` made, without writing and parsing it: the text of
    its HTML part, and each attachment's header block (its file name is read from it as a client reads it).
    None for a message of another shape."""
    body, attachments = message, []
    if message.get_content_type() == "multipart/mixed":
        body, *attachments = message.get_payload()
    parts = body.get_payload() if body.get_content_type() == "multipart/alternative" else None
    if not parts or len(parts) != 2 or not all(isinstance(p, _Text) for p in parts) \
            or parts[1].get_content_subtype() != "html" or not all(isinstance(a, _SharedPart) for a in attachments):
        return None
    heads = []
    for part in attachments:
        if part.head is None:
            part.head = head(part)
        heads.append(part.head)
    return parts[1].text, heads
