"""A message is written from cached parts (mail/message.py), not through the email package's generator: the
bytes must be exactly those the standard library writes for the same message. The reference here builds each
message the plain way (``email.mime`` objects, ``compat32``, ``BytesGenerator``) from the same header values
and compares every byte, over every shape a message takes: with and without attachments, ASCII and Chinese
names, long subjects and file names, extra headers, bodies with and without line breaks."""

from __future__ import annotations

import hashlib
import io
import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest
from email import encoders, policy
from email.generator import BytesGenerator
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

from pipeline.core.model import MessageKey
from pipeline.mail import message as mime
from pipeline.mail.message import Attachment, Outgoing

AT = datetime(2026, 11, 26, 9, 30, tzinfo=timezone(timedelta(hours=8)))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def reference(outgoing: Outgoing, *, sender: str, now: datetime) -> bytes:
    """The message as the standard library writes it: multipart/alternative (plain, then HTML) in UTF-8
    base64, inside multipart/mixed when there are attachments; the header values as message.py makes them."""
    tag = hashlib.sha256(f"{outgoing.key}\0{outgoing.recipient}".encode("utf-8")).hexdigest()[:24]
    body = MIMEMultipart("alternative", boundary=f"=_alt.{tag}_", policy=policy.compat32)
    for text, subtype in ((outgoing.text, "plain"), (outgoing.html, "html")):
        body.attach(MIMEText(mime._visible(text), subtype, "utf-8", policy=policy.compat32))
    message = body
    if outgoing.attachments:
        message = MIMEMultipart("mixed", boundary=f"=_mix.{tag}_", policy=policy.compat32)
        message.attach(body)
        for item in outgoing.attachments:
            maintype, _, subtype = (item.content_type or "application/octet-stream").partition("/")
            part = MIMEBase(maintype, subtype, policy=policy.compat32)
            part.set_payload(item.content)
            encoders.encode_base64(part)
            filename = mime.clean_header(item.filename)
            if filename.isascii():
                word, extended = filename.replace('"', "'"), ""
            else:
                word = mime.encoded_words(filename).replace("\n ", " ")
                extended = "; " + mime._rfc2231("filename", filename)
            part.set_param("name", word)
            part["Content-Disposition"] = f'attachment; filename="{word}"{extended}'
            message.attach(part)
    message["From"] = mime.format_address(*mime.address(sender))
    message["To"] = mime.format_address(outgoing.name, outgoing.recipient)
    message["Subject"] = mime.encoded_words(mime.clean_header(outgoing.subject), lead=len("Subject: "))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = mime.message_id(outgoing.key, sender, outgoing.recipient)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in outgoing.headers.items():
        message[mime.clean_header(name)] = mime.encoded_words(mime.clean_header(value), lead=len(name) + 2)
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=policy.compat32.clone(linesep="\r\n", max_line_length=78)).flatten(message)
    return buffer.getvalue()


NAMES = ["", "Editor", "符贤", "《法制时报》编辑部", "儋州市人民法院执行局执行宣传工作办公室（新闻发布）", 'A "quoted" name, Jr.']
SUBJECTS = ["Daily digest", "执行宣传日报（2026年11月26日）",
            "儋州法院召开执行工作新闻发布会通报基本解决执行难工作进展情况并发布十大典型案例" * 2, "a" * 120]
TEXTS = ["", "一行", "第一段。\n\n第二段，带 ASCII text and a URL https://example.org/a?b=c。\n" * 40,
         ".leading dot\n..two\n", "含\u200b零宽\u202e字符\r\nCRLF\r行"]
ATTACHMENTS = [(), (Attachment("通稿.docx", b"PK\x03\x04" + bytes(range(256)) * 30, DOCX),),
               (Attachment("report.csv", "a,b\n1,2\n".encode(), "text/csv"),
                Attachment("儋州法院：执行不能案件通稿（2026年11月28日）很长的文件名.docx", b"PK" * 999, DOCX))]
HEADERS = [{}, {"List-Unsubscribe": "<mailto:office@court.example?subject=" + "%E9%80%80%E8%AE%A2" * 12 + ">"},
           {"X-Court-Kind": "打击拒执"}, {"X-Long-Words": "a,b;c " * 20}, {"X-One-Word": "w" * 90}]


def outgoings():
    rng = random.Random(7)
    shapes = itertools.product(NAMES, SUBJECTS, ATTACHMENTS, HEADERS)
    for number, (name, subject, attachments, headers) in enumerate(shapes):
        yield Outgoing(MessageKey("release", f"D-2026-{number:06d}"), "release", f"desk{number}@news.example",
                       subject, rng.choice(TEXTS), f"<p>{rng.choice(TEXTS)}</p>", attachments, name=name,
                       headers=headers)


@pytest.mark.parametrize("sender", ["执行宣传工作办公室 <office@court.example>", "office@court.example"])
def test_every_shape_of_message_is_written_byte_for_byte_as_the_standard_library_writes_it(sender: str) -> None:
    checked = 0
    for outgoing in outgoings():
        assert mime.as_bytes(mime.build(outgoing, sender=sender, now=AT)) == reference(outgoing, sender=sender,
                                                                                       now=AT), outgoing
        checked += 1
    assert checked == len(NAMES) * len(SUBJECTS) * len(ATTACHMENTS) * len(HEADERS)


def test_a_message_built_twice_is_the_same_and_two_recipients_differ_only_where_they_must() -> None:
    one, two = itertools.islice(outgoings(), 2)
    two = Outgoing(one.key, one.purpose, "other@news.example", one.subject, one.text, one.html, one.attachments,
                   name="其他媒体")
    first = mime.as_bytes(mime.build(one, sender="office@court.example", now=AT))
    assert first == mime.as_bytes(mime.build(one, sender="office@court.example", now=AT))
    assert first != mime.as_bytes(mime.build(two, sender="office@court.example", now=AT))


def test_one_moment_in_two_zones_is_dated_in_the_zone_each_message_was_built_in() -> None:
    one = next(outgoings())
    for now in (AT, AT.astimezone(timezone.utc)):
        assert mime.as_bytes(mime.build(one, sender="office@court.example", now=now)) == reference(
            one, sender="office@court.example", now=now), now
