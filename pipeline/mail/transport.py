"""Two ways out for a message: files in an outbox folder, or an SMTP server.

Both hand out a *session* that delivers one message to one recipient at a
time and says what happened, so that one refused recipient never stops a
batch and every outcome can be recorded:

- ``sent``: the server accepted the message (or the outbox file is written);
- ``temporary``: a 4xx reply or a connection problem before the message was
  handed over: safe to try again later;
- ``permanent``: a 5xx reply: trying again will not help;
- ``unknown``: the connection broke while the message itself was being
  transferred, so it may or may not have arrived. Never retried silently.

SMTP security: ``ssl`` and ``starttls`` verify the server's certificate and
host name (``ca_file`` names a private CA). A password is only ever sent over
a verified TLS connection, or in the clear to a loopback address (the SMTP side is
``mail/smtp.py``, loaded only when the config sends by SMTP).
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.config import Settings
from ..core.files import private_folder, write_atomic
from ..core.model import CHANNEL_LIST
from .delivery import SENT, TEMPORARY, Result, Transport, TransportError

log = logging.getLogger(__name__)

def open_transport(settings: Settings) -> Transport:
    if settings.mail.transport == "smtp":
        from .smtp import SmtpTransport     # smtplib and ssl load where mail is sent, not for the outbox or status

        return SmtpTransport(settings)
    return OutboxTransport(settings.mail.outbox)


# --- outbox ------------------------------------------------------------------

class OutboxTransport:
    """Each message becomes ``NAME.eml`` plus ``NAME.html`` (a preview); ``index.html`` lists them."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.written: dict[str, tuple[str, str, str]] = {}     # this session's files: (date, to, subject) shown

    delivers = False
    INDEX_CACHE = ".index.json"     # what index.html shows of each message file, by the file's time and size

    def describe(self) -> str:
        return f"outbox {self.folder}"

    def ready(self) -> None:
        """The outbox needs no secret."""

    @contextmanager
    def session(self) -> Iterator[OutboxTransport]:
        try:
            private_folder(self.folder)
        except OSError as exc:
            raise TransportError(f"{self.folder}: 无法创建发件箱文件夹（{exc.strerror}）") from None
        wrote = False
        try:
            yield self
            wrote = True
        finally:
            if wrote:
                self._write_index()

    def deliver(self, sender: str, recipient: str, data: bytes, name: str,
                handover: Callable[[], object] | None = None,
                meanwhile: Callable[[], object] | None = None, built: object = None) -> Result:
        if handover is not None:
            handover()
        stem = self._free_stem(name)
        envelope = built is not None and _envelope_of(built)
        if envelope:
            page = _page(envelope, built.html, [_filename(head) for head in built.attachment_heads])
        else:
            envelope, page = _preview(data)
        try:
            # Not synced one by one: the ledger's marks of outbox mail do not wait for the disk either
            # (``Ledger.relaxed``); a power cut can take back the last files and their marks together.
            write_atomic(self.folder / f"{stem}.eml", data, durable=False)
            write_atomic(self.folder / f"{stem}.html", page.encode("utf-8"), durable=False)
        except OSError as exc:
            return Result(recipient, TEMPORARY, f"写入发件箱失败：{exc.strerror}")
        self.written[f"{stem}.eml"] = _listed(envelope)
        return Result(recipient, SENT, f"已写入发件箱 {stem}.eml（未发出）")

    def _free_stem(self, name: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name)[:150]
        stem, counter = safe, 1
        while (self.folder / f"{stem}.eml").exists():
            counter += 1
            stem = f"{safe}-{counter}"
        return stem

    def _write_index(self) -> None:
        """``index.html``, newest first. What each file shows is kept beside it (``.index.json``, by the file's
        size and time), so that rewriting the index reads only the files it has not seen: an outbox of years
        costs a listing of the folder, not a parse of every message in it."""
        known = _read_index_cache(self.folder / self.INDEX_CACHE)
        listed, rows = {}, []
        with os.scandir(self.folder) as entries:
            files = sorted((e for e in entries if e.name.endswith(".eml") and e.is_file()),
                           key=lambda e: e.name, reverse=True)
        for entry in files:
            stat = entry.stat()
            stamp = [stat.st_mtime_ns, stat.st_size]
            shown = self.written.pop(entry.name, None)
            if shown is None:
                cached = known.get(entry.name)
                if (isinstance(cached, list) and len(cached) == 5 and cached[:2] == stamp
                        and all(isinstance(text, str) for text in cached[2:])):
                    shown = tuple(cached[2:])
                else:
                    shown = _listed(_Envelope(_parsed(_head_of(Path(entry.path)), headers_only=True)))
            listed[entry.name] = [*stamp, *shown]
            date, to, subject = shown
            stem = entry.name[:-len(".eml")]
            rows.append(
                f"<tr><td>{html.escape(date)}</td><td>{html.escape(to)}</td>"
                f"<td><a href=\"{html.escape(stem)}.html\">{html.escape(subject)}</a></td>"
                f"<td><a href=\"{html.escape(entry.name)}\">.eml</a></td></tr>"
            )
        channels = (f"<p><a href=\"channels/index.html\">{'、'.join(c.label for c in CHANNEL_LIST if c.by_hand)}"
                    "版本（发布渠道）</a></p>"
                    if (self.folder / "channels" / "index.html").exists() else "")
        page = ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>发件箱</title></head>"
                "<body style=\"font-family:sans-serif\"><h1>发件箱</h1>"
                "<p>这里的邮件只写入了本文件夹，并未发出；改用 SMTP 后才会真正发送。</p>" + channels
                + "<table border=\"1\" cellpadding=\"6\" cellspacing=\"0\">"
                "<tr><th>时间</th><th>收件人</th><th>主题</th><th>原件</th></tr>"
                + "".join(rows) + "</table></body></html>")
        write_atomic(self.folder / "index.html", page.encode("utf-8"), durable=False)
        write_atomic(self.folder / self.INDEX_CACHE, json.dumps(listed, ensure_ascii=False).encode("utf-8"), durable=False)


def _read_index_cache(path: Path) -> dict:
    try:
        known = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}                   # none yet, or damaged: every file is read again
    return known if isinstance(known, dict) else {}


def _listed(envelope) -> tuple[str, str, str]:
    """What the index shows of a message: its date as the office reads it, its recipient, its subject."""
    return (_shown_date(envelope.get("Date")), str(envelope.get("To", "")), str(envelope.get("Subject", "")))


def _head_of(path: Path) -> bytes:
    """The start of a message file up to the blank line after its headers (all of it, if it has none)."""
    with path.open("rb") as handle:
        data = b""
        while True:
            chunk = handle.read(8192)
            data += chunk
            if not chunk or b"\r\n\r\n" in data or b"\n\n" in data:
                return data


def _shown_date(header: object) -> str:
    """A Date header as the office reads it: 2026年11月29日 18:29 (the header itself stays as mail needs it)."""
    try:
        from email.utils import parsedate_to_datetime

        moment = parsedate_to_datetime(str(header))
    except (TypeError, ValueError):
        return str(header or "")
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def _preview(data: bytes) -> tuple[object, str]:
    """The message's envelope, and its HTML part with the envelope on top, for a browser."""
    message = _parsed(data, as_read=True)
    body = message.get_body(("html", "plain"))
    content = body.get_content() if body is not None else ""
    if body is not None and body.get_content_type() == "text/plain":
        content = f"<pre>{html.escape(content)}</pre>"
    return message, _page(message, content, [part.get_filename() for part in message.iter_attachments()])


def _envelope_of(built: object) -> _Envelope | None:
    """The envelope of a message as ``mail.message.build`` made it, read from its header block alone (its
    HTML part is the text it was made from, each file name is in its part's header block). None for anything
    else."""
    from . import message as mime

    if not isinstance(built, mime.Built):
        return None
    return _Envelope(_parsed(built.head, headers_only=True))


class _Envelope:
    """A header block's fields as ``policy.default`` reads them, each value read once per process (a batch's
    From, To and Date repeat)."""

    def __init__(self, head) -> None:
        self.head = head

    def get(self, key: str, default: object = None) -> object:
        raw = self.head.get(key)       # compat32: the value as written, unfolded by nothing
        return default if raw is None else _read_header(key, raw)


@functools.lru_cache(maxsize=1024)
def _read_header(key: str, raw: str) -> str:
    from email import policy

    return str(policy.default.header_fetch_parse(key, raw))


@functools.lru_cache(maxsize=64)
def _filename(head: bytes) -> str | None:
    return _parsed(head, headers_only=True, as_read=True).get_filename()


def _parsed(data: bytes, *, headers_only: bool = False, as_read: bool = False):
    """``data`` parsed by the email package (loaded here, where the outbox is written, not at start): under
    ``compat32`` each header as written, or (``as_read``) under ``policy.default`` as a mail client reads it."""
    from email import policy
    from email.parser import BytesParser

    return BytesParser(policy=policy.default if as_read else policy.compat32).parsebytes(data, headersonly=headers_only)


def _page(message, content: str, files: list[str | None]) -> str:
    facts = "".join(f"<div><b>{label}：</b>{html.escape(str(message.get(key, '')))}</div>"
                    for label, key in (("发件人", "From"), ("收件人", "To"), ("主题", "Subject")))
    facts += f"<div><b>时间：</b>{html.escape(_shown_date(message.get('Date')))}（写入发件箱，未发出）</div>"
    if files:
        facts += "<div><b>附件：</b>" + "、".join(html.escape(f or "") for f in files) + "</div>"
    return (f"<div style=\"font-family:sans-serif;background:#f3f3f3;padding:8px;border-bottom:1px solid #ccc\">"
            f"{facts}</div>{content}")
