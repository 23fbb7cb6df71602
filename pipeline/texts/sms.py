"""Text messages (短信) for the deputies: the brief and each invitation, short enough for a phone.

The plan (四(四)) asks for briefs *and* text messages. The office sends them by
hand from its SMS platform, so the pipeline writes them as a file for it, beside
the channel versions: ``<outbox>/sms/<name>.txt`` (``flows/channels.save_sms``). Each message is at most
:data:`LIMIT` characters, signed with the court's name as SMS platforms require
(【儋州市人民法院】), and carries no personal data: only the court's own contact
line, which the same last guard as media mail (``redact.check``) allows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LIMIT = 140          # characters a message, signature and part number included
_BREAK = re.compile(r"(?<=[。；！？，])")


def messages(court: str, body: str, contact: str = "", *, limit: int = LIMIT) -> list[str]:
    """``body`` (and the contact line) as messages of at most ``limit`` characters each.

    One message when it fits; otherwise parts cut after a sentence or clause mark, each
    signed and numbered (1/2). A clause longer than a part is cut where it must be.
    """
    sign = f"【{court}】"
    text = body + (contact.strip() if contact.strip() else "")
    if len(sign) + len(text) <= limit:
        return [sign + text]
    room = limit - len(sign) - len("（9/9）")
    pieces = [p for p in _BREAK.split(body) if p]
    if contact.strip():
        pieces.append(contact.strip())
    parts: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > room:
            if current:
                parts.append(current)
                current = ""
            parts.append(piece[:room])
            piece = piece[room:]
        if len(current) + len(piece) > room:
            parts.append(current)
            current = ""
        current += piece
    if current:
        parts.append(current)
    return [f"{sign}{part}（{i}/{len(parts)}）" for i, part in enumerate(parts, start=1)]


def page(title: str, texts: Sequence[str]) -> bytes:
    """The file the office opens: each message numbered with its length. UTF-8 with a byte-order mark and
    CRLF line ends, so that Notepad on a Chinese Windows reads it right."""
    lines = [f"{title}　短信版本（共 {len(texts)} 条，每条不超过 {LIMIT} 字）",
             "请复制每条短信，用本院短信平台发给代表委员；短信不含个人信息，只有本院联系方式。", ""]
    for i, text in enumerate(texts, start=1):
        lines += [f"—— 第 {i} 条（{len(text)} 字）——", text, ""]
    return ("\ufeff" + "\r\n".join(lines)).encode("utf-8")
