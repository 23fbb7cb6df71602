"""Mail end to end: MIME that survives a real SMTP server, TLS and AUTH, and at-most-once delivery.

Messages go through the public interfaces (``build``/``as_bytes``, a transport's
``session().deliver``, ``sender.queue``/``flush`` over the ledger) to an aiosmtpd
server on 127.0.0.1 (tests/smtp_server.py), and what the server received is
parsed back with the standard ``email`` package.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import NOW
from smtp_server import SMTP_PASSWORD, SMTP_PASSWORD_ENV, SMTP_USER, write_smtp_config

from pipeline.core import config, files
from pipeline.core.errors import ConfigError, PipelineError
from pipeline.core.model import MessageKey
from pipeline.flows import dispatch as sender
from pipeline.flows.context import Context
from pipeline.ledger import Ledger
from pipeline.mail.message import Attachment, Outgoing, as_bytes, build, message_id
from pipeline.mail.smtp import SmtpTransport
from pipeline.mail.transport import open_transport
from pipeline.texts.document import release_docx

AT = datetime.fromisoformat(NOW)
LATER = AT + timedelta(minutes=10)
OFFICE = "office@court.example"
SENDER = f"执行宣传工作办公室 <{OFFICE}>"           # the workspace's default [mail] sender
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def outgoing(to: str = "符贤 <fuxian@court.example>", *, key: str = "digest/2026-11-26",
             purpose: str = "digest", subject: str = "执行宣传日报（2026年11月26日）",
             text: str = "各位同事：\n\n本周执行一组已提交3条素材，执行二组尚缺1条。\n",
             html: str = "<p>各位同事：</p><p>本周执行一组已提交<b>3</b>条素材，执行二组尚缺1条。</p>",
             attachments: tuple[Attachment, ...] = ()) -> Outgoing:
    name, _, addr = to.rpartition(" <")
    what, item, *variant = key.split("/", 2)        # the ledger's text of a key: what/item[/variant]
    return Outgoing(MessageKey(what, item, *variant), purpose, addr.removesuffix(">"), subject, text, html, attachments,
                    name=name)


@pytest.fixture
def ledger(workspace):
    with Ledger(workspace.ledger) as opened:
        yield opened


def context(settings, ledger: Ledger, at: datetime) -> Context:
    """A flush's context on the test's own ledger, at a moment the test chooses."""
    return Context(settings, ledger, at, open_transport(settings))


def send(settings, ledger: Ledger, *items: Outgoing, at: datetime = AT) -> sender.FlushReport:
    """Queue ``items`` and flush once."""
    sender.queue(ledger, items, period=f"{at:%Y-%m-%d}", at=at)
    return sender.flush(context(settings, ledger, at))


def delivery(ledger: Ledger, recipient: str, key: str = ""):
    rows = [r for r in ledger.deliveries(key) if r["recipient"] == recipient]
    assert len(rows) == 1, f"expected one delivery to {recipient}, found {len(rows)}"
    return rows[0]


def raw_headers(content: bytes) -> str:
    """The header block as sent (folded lines joined back), for checks the parser would hide."""
    head = content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return re.sub(r"\r\n[ \t]", " ", head)


def decoded(raw_value: str) -> str:
    """An RFC 2047 header value decoded as a conforming reader does (adjacent words joined)."""
    return str(make_header(decode_header(raw_value)))


def compat_header(content: bytes, name: str) -> str:
    return BytesParser(policy=policy.compat32).parsebytes(content)[name]


# --- MIME through a real server ----------------------------------------------

def test_a_digest_with_chinese_text_arrives_intact(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    item = outgoing()

    report = send(settings, ledger, item)

    assert report.error == "" and report.counts["sent"] == 1
    [received] = smtp_server.handler.messages
    assert received.mail_from == OFFICE
    assert received.rcpt_tos == ["fuxian@court.example"]
    message = received.parse()
    assert message["Subject"] == "执行宣传日报（2026年11月26日）"
    assert message.get_body(("plain",)).get_content() == item.text
    assert message.get_body(("html",)).get_content() == item.html
    [author] = message["From"].addresses
    assert (author.display_name, author.addr_spec) == ("执行宣传工作办公室", OFFICE)
    [reader] = message["To"].addresses
    assert (reader.display_name, reader.addr_spec) == ("符贤", "fuxian@court.example")
    assert message["Date"].datetime == AT
    assert message["Date"].datetime.utcoffset() == timedelta(hours=8)
    assert str(message["Date"]).endswith("+0800")


def test_long_chinese_subject_sender_and_attachment_name_survive_the_server(workspace, smtp_server, ledger) -> None:
    long_sender = "儋州市人民法院执行局执行宣传工作办公室"          # 19 characters: two encoded words
    settings = smtp_server.configure(workspace, sender=f"{long_sender} <{OFFICE}>")
    subject = ("儋州法院召开执行工作新闻发布会通报基本解决执行难工作进展情况"
               "并发布十大典型案例教科书式老赖曝光与执行不能案件释法说理通稿")
    assert len(subject) == 60
    filename = "儋州法院：执行不能案件通稿（2026年11月28日）.docx"
    document = b"PK\x03\x04" + "通稿正文".encode("utf-8") * 200
    item = outgoing("《法制时报》编辑部 <editor@fazhi.example>", key="release/D-2026-000045", purpose="release",
                    subject=subject, attachments=(Attachment(filename, document, DOCX),))

    report = send(settings, ledger, item)

    assert report.counts["sent"] == 1
    [received] = smtp_server.handler.messages
    message = received.parse()
    assert message["Subject"] == subject
    assert decoded(compat_header(received.content, "From")) == f"{long_sender} <{OFFICE}>"
    assert message["From"].addresses[0].addr_spec == OFFICE
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == filename
    assert attachment.get_content_type() == DOCX
    assert attachment.get_content() == document
    words = ENCODED_WORD.findall(received.content.decode("ascii"))
    assert words, "non-ASCII headers should travel as RFC 2047 encoded words"
    assert [w for w in words if len(w) > 75] == []
    [part] = [p for p in BytesParser(policy=policy.compat32).parsebytes(received.content).walk()
              if str(p.get("Content-Disposition", "")).startswith("attachment")]
    disposition = re.sub(r"\r?\n[ \t]", " ", part["Content-Disposition"])
    plain = re.search(r'(?<![*\w])filename="([^"]*)"', disposition)
    assert plain and ENCODED_WORD.search(plain.group(1)), disposition
    assert decoded(plain.group(1)) == filename
    extended = re.findall(r"filename\*(\d+)?\*?=([^;\s]+)", disposition)
    assert extended, f"no RFC 2231 filename* parameter in {disposition!r}"
    pieces = [value for _, value in sorted(extended, key=lambda p: int(p[0] or 0))]
    charset, _, first = pieces[0].partition("''")
    assert charset.lower() == "utf-8"
    assert unquote("".join([first, *pieces[1:]]), encoding="utf-8") == filename


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_a_line_break_in_the_subject_adds_no_header_and_no_recipient(workspace, smtp_server, ledger,
                                                                       newline) -> None:
    settings = smtp_server.configure(workspace)
    title = f"教科书式老赖曝光{newline}Bcc: someone@evil.example"
    item = outgoing("media@news.example", key="release/D-2026-000046", purpose="release", subject=title)

    send(settings, ledger, item)

    assert smtp_server.handler.rcpt_attempts == ["media@news.example"]
    [received] = smtp_server.handler.messages
    assert received.rcpt_tos == ["media@news.example"]
    message = received.parse()
    assert message["Bcc"] is None
    assert not any(line.lower().startswith("bcc:") for line in raw_headers(received.content).split("\r\n"))
    assert "教科书式老赖曝光" in message["Subject"] and "\n" not in message["Subject"]


def test_a_line_break_in_a_display_name_cannot_redirect_the_message(workspace, smtp_server, ledger) -> None:
    # Team leaders' names come from the 部门 tab: "Name <address>" is built from sheet text.
    item = outgoing("吴海涛\nBcc: someone@evil.example <zhixing1@court.example>",
                    key="reminder/2026-W48/执行一组", purpose="reminder", subject="素材提醒")
    settings = smtp_server.configure(workspace)

    try:
        send(settings, ledger, item)
    except PipelineError:               # refusing the message outright would be acceptable too
        pass
    handler = smtp_server.handler
    assert "someone@evil.example" not in handler.rcpt_attempts
    assert all(m.rcpt_tos == ["zhixing1@court.example"] for m in handler.messages)
    assert all(m.parse()["Bcc"] is None for m in handler.messages)


def test_message_id_is_the_same_for_the_same_delivery_and_differs_between_recipients_and_keys() -> None:
    first = build(outgoing(key="release/D-2026-000045"), sender=SENDER, now=AT)
    again = build(outgoing(key="release/D-2026-000045"), sender=SENDER, now=AT + timedelta(days=1))   # a resend
    colleague = build(outgoing("王小露 <wangxl@court.example>", key="release/D-2026-000045"), sender=SENDER, now=AT)
    other = build(outgoing(key="release/D-2026-000045-v2"), sender=SENDER, now=AT)

    assert first["Message-ID"] == again["Message-ID"] == message_id("release/D-2026-000045", SENDER,
                                                                    "fuxian@court.example")
    assert first["Message-ID"] != colleague["Message-ID"]
    assert first["Message-ID"] != other["Message-ID"]
    assert re.fullmatch(r"<[^<>@\s]+@court\.example>", first["Message-ID"])


# --- TLS and AUTH ---------------------------------------------------------------

def test_starttls_with_the_private_ca_delivers_after_logging_in(workspace, smtp_starttls_server, ledger) -> None:
    settings = smtp_starttls_server.configure(workspace)          # ca_file = the trustme CA

    report = send(settings, ledger, outgoing())

    assert report.error == "" and report.counts["sent"] == 1
    handler = smtp_starttls_server.handler
    assert handler.auth_attempts and handler.logins == [SMTP_USER]
    [received] = handler.messages
    assert received.tls and received.login == SMTP_USER
    assert delivery(ledger, "fuxian@court.example")["state"] == "sent"


def test_starttls_with_an_untrusted_certificate_fails_before_the_password_is_sent(
        workspace, smtp_starttls_server, ledger) -> None:
    settings = smtp_starttls_server.configure(workspace, ca_file=False)

    report = send(settings, ledger, outgoing())

    assert "certificate" in report.error
    assert SMTP_PASSWORD not in report.error
    handler = smtp_starttls_server.handler
    assert handler.auth_attempts == [] and handler.logins == []
    assert handler.messages == [] and handler.data_seen == []
    row = delivery(ledger, "fuxian@court.example")
    assert row["state"] in ("queued", "temporary")
    assert [o.recipient for o, _ in ledger.pending_deliveries(LATER)] == ["fuxian@court.example"]   # due for a retry


def test_implicit_ssl_with_the_private_ca_delivers(workspace, smtp_ssl_server, ledger) -> None:
    settings = smtp_ssl_server.configure(workspace)

    report = send(settings, ledger, outgoing())

    assert report.error == "" and report.counts["sent"] == 1
    [received] = smtp_ssl_server.handler.messages
    assert received.tls and received.login == SMTP_USER


def test_a_password_in_the_clear_to_a_remote_host_is_refused_at_load(workspace) -> None:
    write_smtp_config(workspace.config_path, host="mail.court.example", port=25, security="none",
                      username=SMTP_USER, password_env=SMTP_PASSWORD_ENV)

    with pytest.raises(ConfigError) as caught:
        config.load(workspace.config_path)
    assert "security" in str(caught.value) and "mail.court.example" in str(caught.value)


def test_a_password_in_the_clear_to_loopback_logs_in_and_delivers(workspace, smtp_auth_server, ledger) -> None:
    settings = smtp_auth_server.configure(workspace)
    assert settings.mail.smtp.security == "none" and settings.mail.smtp.host == "127.0.0.1"

    report = send(settings, ledger, outgoing())

    assert report.error == "" and report.counts["sent"] == 1
    assert smtp_auth_server.handler.logins == [SMTP_USER]
    [received] = smtp_auth_server.handler.messages
    assert received.login == SMTP_USER and not received.tls


def test_a_missing_password_variable_is_named_in_the_error(workspace, smtp_auth_server, ledger,
                                                           monkeypatch) -> None:
    settings = smtp_auth_server.configure(workspace)
    monkeypatch.delenv(SMTP_PASSWORD_ENV)

    report = send(settings, ledger, outgoing())

    assert SMTP_PASSWORD_ENV in report.error
    assert "密码" in report.error
    assert smtp_auth_server.handler.connections == 0
    assert delivery(ledger, "fuxian@court.example")["state"] in ("queued", "temporary")


# --- outcomes: temporary, permanent, unknown -------------------------------------

RELEASE = "release/D-2026-000047"
BATCH = ["a@media.example", "bad@media.example", "c@media.example"]


def release_batch(recipients=BATCH) -> list[Outgoing]:
    return [outgoing(f"媒体联系人 <{r}>", key=RELEASE, purpose="release", subject="执行成功：拖欠货款三年 主动履行28万元")
            for r in recipients]


@pytest.mark.parametrize("reply, state", [
    ("421 4.3.2 Service shutting down, try again later", "temporary"),
    ("451 4.3.0 Mailbox temporarily unavailable", "temporary"),
    ("550 5.1.1 No such user here", "permanent"),
], ids=["421", "451", "550"])
def test_a_refused_recipient_is_classified_and_the_rest_of_the_batch_is_delivered(
        workspace, smtp_server, ledger, reply, state) -> None:
    settings = smtp_server.configure(workspace)
    smtp_server.handler.rcpt_replies["bad@media.example"] = reply

    send(settings, ledger, *release_batch())

    row = delivery(ledger, "bad@media.example", RELEASE)
    assert row["state"] == state
    assert reply in row["detail"]
    assert [delivery(ledger, r, RELEASE)["state"] for r in ("a@media.example", "c@media.example")] == ["sent", "sent"]
    assert smtp_server.handler.recipients() == ["a@media.example", "c@media.example"]


@pytest.mark.parametrize("reply, state", [
    ("451 4.7.1 Greylisted, please try again later", "temporary"),
    ("554 5.7.1 Message rejected as spam", "permanent"),
], ids=["451", "554"])
def test_a_refusal_at_the_end_of_data_is_classified(workspace, smtp_server, ledger, reply, state) -> None:
    settings = smtp_server.configure(workspace)
    smtp_server.handler.data_reply = reply

    report = send(settings, ledger, outgoing())

    row = delivery(ledger, "fuxian@court.example")
    assert row["state"] == state, f"{row['state']}: {row['detail']}"
    assert reply in row["detail"]
    assert report.counts["sent"] == 0


def test_a_temporary_failure_is_retried_by_the_next_flush(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    handler = smtp_server.handler
    handler.rcpt_replies["bad@media.example"] = "451 4.3.0 Mailbox temporarily unavailable"
    send(settings, ledger, *release_batch(["a@media.example", "bad@media.example"]))
    assert delivery(ledger, "bad@media.example")["state"] == "temporary"

    handler.rcpt_replies.clear()
    report = sender.flush(context(settings, ledger, LATER))

    assert [(o.recipient, r.outcome) for o, r in report.results] == [("bad@media.example", "sent")]
    assert delivery(ledger, "bad@media.example")["state"] == "sent"
    assert handler.recipients() == ["a@media.example", "bad@media.example"]


def test_a_permanent_failure_is_not_retried(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    handler = smtp_server.handler
    handler.rcpt_replies["bad@media.example"] = "550 5.1.1 No such user here"
    send(settings, ledger, *release_batch(["a@media.example", "bad@media.example"]))

    handler.rcpt_replies.clear()
    report = sender.flush(context(settings, ledger, LATER))

    assert report.results == []
    assert delivery(ledger, "bad@media.example")["state"] == "permanent"
    assert handler.rcpt_attempts.count("bad@media.example") == 1
    assert handler.recipients() == ["a@media.example"]


def test_temporary_failures_are_abandoned_after_max_attempts(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace, max_attempts=3)
    handler = smtp_server.handler
    handler.rcpt_replies["bad@media.example"] = "451 4.3.0 Mailbox temporarily unavailable"
    sender.queue(ledger, release_batch(["bad@media.example"]), period="2026-W48", at=AT)

    for hour in range(3):
        sender.flush(context(settings, ledger, AT + timedelta(hours=hour)))
        assert delivery(ledger, "bad@media.example")["state"] == "temporary"
    report = sender.flush(context(settings, ledger, AT + timedelta(hours=3)))

    assert report.abandoned == 1
    row = delivery(ledger, "bad@media.example")
    assert row["state"] == "abandoned" and row["attempts"] == 3
    assert handler.rcpt_attempts.count("bad@media.example") == 3


def test_a_connection_dropped_at_mail_from_is_reopened_and_the_message_sent_once(
        workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    handler = smtp_server.handler
    handler.drop_at_mail = 1

    report = send(settings, ledger, outgoing())

    assert [r.outcome for _, r in report.results] == ["sent"]
    assert handler.connections == 2
    assert len(handler.messages) == 1 and handler.recipients() == ["fuxian@court.example"]
    assert delivery(ledger, "fuxian@court.example")["state"] == "sent"


def test_a_reconnection_refused_after_the_sending_mark_leaves_the_message_to_retry_not_unknown(
        workspace, smtp_auth_server, ledger, monkeypatch) -> None:
    """The server drops the connection at MAIL FROM, after the message's 'sending' mark, and then refuses the
    login of the new connection: nothing of the message was handed over, so it waits for its retry."""
    settings = smtp_auth_server.configure(workspace)
    handler = smtp_auth_server.handler
    sender.queue(ledger, release_batch(["a@media.example", "b@media.example"]), period="2026-W48", at=AT)

    def after(done: int, total: int) -> None:
        if done == 1:
            handler.drop_at_mail = 1
            monkeypatch.setenv(SMTP_PASSWORD_ENV, "no longer the password")

    report = sender.flush(context(settings, ledger, AT), progress=after)

    assert "拒绝登录" in report.error
    assert handler.recipients() == ["a@media.example"]
    assert delivery(ledger, "b@media.example")["state"] == "temporary"
    monkeypatch.setenv(SMTP_PASSWORD_ENV, SMTP_PASSWORD)
    sender.flush(context(settings, ledger, AT + timedelta(hours=1)))
    assert delivery(ledger, "b@media.example")["state"] == "sent"
    assert handler.recipients() == ["a@media.example", "b@media.example"]


def test_a_connection_dropped_during_data_is_unknown_and_never_resent(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    handler = smtp_server.handler
    handler.drop_in_data = 1

    report = send(settings, ledger, outgoing())
    assert [r.outcome for _, r in report.results] == ["unknown"]
    assert delivery(ledger, "fuxian@court.example")["state"] == "unknown"

    again = sender.flush(context(settings, ledger, LATER))

    assert again.results == []
    assert len(handler.data_seen) == 1 and handler.messages == []
    assert delivery(ledger, "fuxian@court.example")["state"] == "unknown"


def test_a_send_interrupted_by_a_crash_becomes_unknown_and_is_not_resent(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    item = outgoing()
    sender.queue(ledger, [item], period="2026-11-26", at=AT)
    with ledger.transaction():            # the crashed process got this far and no further
        assert ledger.reserve(str(item.key), item.recipient, AT, "4242@crashed", files.boot())
    with ledger.transaction():
        assert ledger.claim(item.key, item.recipient, message_id(item.key, SENDER, item.recipient), AT,
                            "4242@crashed")

    report = sender.flush(context(settings, ledger, LATER))

    assert report.interrupted == 1
    row = delivery(ledger, "fuxian@court.example")
    assert row["state"] == "unknown" and row["detail"]
    sender.flush(context(settings, ledger, LATER + timedelta(hours=1)))
    assert smtp_server.handler.connections == 0 and smtp_server.handler.data_seen == []
    assert delivery(ledger, "fuxian@court.example")["state"] == "unknown"


@pytest.mark.parametrize(("boot", "state", "copies"), [("this boot", "sent", 1), ("another boot", "unknown", 0)],
                         ids=["same-boot", "after-restart"])
def test_a_reservation_a_crashed_process_left_is_given_back_in_its_boot_and_unknown_after_a_restart(
        workspace, smtp_server, ledger, boot, state, copies) -> None:
    settings = smtp_server.configure(workspace)
    item = outgoing()
    sender.queue(ledger, [item], period="2026-11-26", at=AT)
    made_in = files.boot() if boot == "this boot" else "a boot before the power cut"
    with ledger.transaction():            # the crashed process reserved it and handed nothing over
        assert ledger.reserve(str(item.key), item.recipient, AT, "4242@crashed", made_in)

    early = sender.flush(context(settings, ledger, AT + timedelta(seconds=30)))
    assert early.counts == {} and smtp_server.handler.data_seen == []    # not yet: its sender may be alive
    report = sender.flush(context(settings, ledger, LATER))

    row = delivery(ledger, "fuxian@court.example")
    assert row["state"] == state
    assert len(smtp_server.handler.messages) == copies
    if state == "unknown":
        assert report.interrupted == 1 and "重启" in row["detail"]
        sender.flush(context(settings, ledger, LATER + timedelta(hours=1)))
        assert smtp_server.handler.data_seen == []


def _paced_batch(workspace, smtp_server, ledger):
    """Three releases queued for a sender paced at a message a minute; its settings and the server's handler."""
    smtp_server.configure(workspace)
    workspace.configure("mail", rate_per_minute=1)
    sender.queue(ledger, release_batch(["a@media.example", "b@media.example", "c@media.example"]),
                 period="2026-W48", at=AT)
    return workspace.settings, smtp_server.handler


def test_a_paced_sender_whose_connection_broke_never_takes_back_what_another_sender_delivered(
        workspace, smtp_server, ledger, monkeypatch) -> None:
    """A paced flush (a minute per message) holds its reservation while it waits its turn; after the cut-off a
    clerk's command gives it back and sends the message. The first sender's connection has meanwhile broken:
    its own failure to send must not turn the delivered message back into one to retry."""
    settings, handler = _paced_batch(workspace, smtp_server, ledger)
    mine = sender.claimant

    def paced(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 1:
            handler.drop_at_mail = 2          # the server goes away: b is not sent, the session is broken
        elif len(waited) == 2:                # c is reserved; two minutes in, a clerk's command sends too
            monkeypatch.setattr(sender, "claimant", lambda: "4343@clerk")
            try:
                with Ledger(workspace.ledger) as clerks:
                    sender.flush(context(settings, clerks, AT + timedelta(minutes=2)), sleep=lambda _: None)
            finally:
                monkeypatch.setattr(sender, "claimant", mine)

    waited: list[float] = []
    sender.flush(context(settings, ledger, AT), sleep=paced)
    assert len(waited) == 2
    assert handler.recipients().count("c@media.example") == 1      # the clerk's command sent it

    sender.flush(context(settings, ledger, AT + timedelta(hours=1)), sleep=lambda _: None)

    assert delivery(ledger, "c@media.example")["state"] == "sent"
    assert sorted(handler.recipients()) == ["a@media.example", "b@media.example", "c@media.example"]


def test_a_paced_sender_keeps_the_reservation_it_has_just_made_however_long_its_batch_has_run(
        workspace, smtp_server, ledger, monkeypatch) -> None:
    """A paced flush (a minute per message) runs longer than the cut-off for a dead sender. A clerk's command
    flushing another message meanwhile must not take it for dead and give back the reservation it made a
    minute ago: the paced flush would then skip that message, and nobody would send it."""
    settings, handler = _paced_batch(workspace, smtp_server, ledger)
    other = outgoing()
    sender.queue(ledger, [other], period="2026-11-26", at=AT)
    sender.flush(context(settings, ledger, AT), keys=(other.key,))
    mine = sender.claimant
    elapsed = [timedelta(0)]

    def paced(seconds: float) -> None:            # the clock goes on while the flush waits its turn
        elapsed[0] += timedelta(minutes=1)
        monkeypatch.setenv("PIPELINE_NOW", (AT + elapsed[0]).isoformat())
        if elapsed[0] >= timedelta(minutes=2):    # c was reserved a minute ago; a clerk's command sends too
            monkeypatch.setattr(sender, "claimant", lambda: "4343@clerk")
            try:
                with Ledger(workspace.ledger) as clerks:
                    sender.flush(context(settings, clerks, AT + elapsed[0]), keys=(other.key,))
            finally:
                monkeypatch.setattr(sender, "claimant", mine)

    report = sender.flush(context(settings, ledger, AT), keys=(MessageKey("release", "D-2026-000047"),),
                          sleep=paced)

    assert report.claimed == 0
    assert {delivery(ledger, r, RELEASE)["state"] for r in ("a@media.example", "b@media.example",
                                                            "c@media.example")} == {"sent"}
    assert sorted(r for r in handler.recipients() if r.endswith("@media.example")) == [
        "a@media.example", "b@media.example", "c@media.example"]


def test_queuing_the_same_message_twice_sends_it_once(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    item = outgoing()

    assert sender.queue(ledger, [item], period="2026-11-26", at=AT) == 1
    assert sender.queue(ledger, [item], period="2026-11-26", at=AT + timedelta(minutes=1)) == 0
    sender.flush(context(settings, ledger, AT))
    sender.flush(context(settings, ledger, LATER))

    assert smtp_server.handler.recipients() == ["fuxian@court.example"]
    assert len(ledger.deliveries()) == 1


def test_one_connection_carries_the_whole_batch(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)

    report = send(settings, ledger, *release_batch())

    assert report.counts["sent"] == 3
    handler = smtp_server.handler
    assert handler.connections == 1
    assert sorted(handler.recipients()) == sorted(BATCH)
    assert {m.connection for m in handler.messages} == {1}


# --- the outbox -------------------------------------------------------------------

def test_the_outbox_writes_an_eml_a_preview_and_an_index(workspace, ledger) -> None:
    settings = workspace.settings
    assert settings.mail.transport == "outbox"
    filename = "儋州法院：执行不能案件通稿（2026年11月28日）.docx"
    # A real .docx: a release passes the media guard, which reads its text.
    document = release_docx("执行不能不等于执行难\n\n本院依法终结本次执行程序。", title="执行不能",
                            author="儋州市人民法院", at=AT)
    item = outgoing("《今日儋州》 <news@danzhou.example>", key="release/D-2026-000048", purpose="release",
                    subject="执行不能不等于执行难：一起终本案件的释法说理",
                    attachments=(Attachment(filename, document, DOCX),))

    report = send(settings, ledger, item)

    assert report.counts["sent"] == 1
    outbox = Path(settings.mail.outbox)
    [eml] = list(outbox.glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert message["Subject"] == item.subject
    assert message.get_body(("plain",)).get_content() == item.text
    assert message.get_body(("html",)).get_content() == item.html
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [("《今日儋州》", "news@danzhou.example")]
    assert [a.addr_spec for a in message["From"].addresses] == [OFFICE]
    assert [(p.get_filename(), p.get_content_type(), p.get_content()) for p in message.iter_attachments()] == [
        (filename, DOCX, document)]
    preview = eml.with_suffix(".html").read_text(encoding="utf-8")
    assert item.subject in preview and "本周执行一组已提交<b>3</b>条素材" in preview and filename in preview
    index = (outbox / "index.html").read_text(encoding="utf-8")
    assert eml.name in index and f"{eml.stem}.html" in index and item.subject in index


def test_the_outbox_index_lists_every_message_of_every_run_as_the_folder_holds_them(workspace, ledger) -> None:
    """The index is rewritten by each run from what each file shows, kept beside them by each file's size and
    time: messages of earlier runs stay listed, a file the office deleted goes, a file replaced is read again,
    and a damaged record of them costs nothing but a new reading."""
    settings = workspace.settings
    outbox = Path(settings.mail.outbox)
    send(settings, ledger, outgoing(key="digest/2026-11-25", subject="执行宣传日报（2026年11月25日）"))
    send(settings, ledger, outgoing(key="digest/2026-11-26", subject="执行宣传日报（2026年11月26日）"),
         at=AT + timedelta(days=1))
    first, second = sorted(outbox.glob("*.eml"))
    index = (outbox / "index.html").read_text(encoding="utf-8")
    assert "执行宣传日报（2026年11月25日）" in index and "执行宣传日报（2026年11月26日）" in index
    assert index.index(second.name) < index.index(first.name)          # newest first

    first.unlink()
    replaced = second.read_bytes().replace(b"Subject: ", b"Subject: =?utf-8?b?5pu/5o2i?= ", 1)
    second.write_bytes(replaced)
    (outbox / ".index.json").write_text("{not json", encoding="utf-8")
    send(settings, ledger, outgoing(key="digest/2026-11-27", subject="执行宣传日报（2026年11月27日）"),
         at=AT + timedelta(days=2))

    index = (outbox / "index.html").read_text(encoding="utf-8")
    assert first.name not in index and "执行宣传日报（2026年11月25日）" not in index
    assert "替换执行宣传日报（2026年11月26日）" in index
    assert "执行宣传日报（2026年11月27日）" in index
    assert index.count(".eml</a>") == len(list(outbox.glob("*.eml"))) == 2


def test_a_damaged_entry_in_the_outbox_index_record_is_read_again_from_its_file(workspace, ledger) -> None:
    """A record of a file that has the file's size and time but not what it shows (the record edited or written
    by something else) costs a new reading of that file, not the run's index: the message is listed as it is."""
    settings = workspace.settings
    outbox = Path(settings.mail.outbox)
    send(settings, ledger, outgoing(key="digest/2026-11-25", subject="执行宣传日报（2026年11月25日）"))
    record = outbox / ".index.json"
    known = json.loads(record.read_text(encoding="utf-8"))
    (name, entry), = known.items()
    record.write_text(json.dumps({name: [*entry[:2], None, 7, ["主题"]]}), encoding="utf-8")

    send(settings, ledger, outgoing(key="digest/2026-11-26", subject="执行宣传日报（2026年11月26日）"),
         at=AT + timedelta(days=1))

    index = (outbox / "index.html").read_text(encoding="utf-8")
    assert "执行宣传日报（2026年11月25日）" in index and "执行宣传日报（2026年11月26日）" in index
    assert index.count(".eml</a>") == 2


def test_a_transport_session_reports_each_recipient(workspace, smtp_server) -> None:
    settings = smtp_server.configure(workspace)
    smtp_server.handler.rcpt_replies["bad@media.example"] = "550 5.1.1 No such user here"
    data = as_bytes(build(outgoing(), sender=SENDER, now=AT))

    with SmtpTransport(settings).session() as session:
        results = [session.deliver(OFFICE, r, data, "x") for r in BATCH]

    assert [(r.recipient, r.outcome) for r in results] == [
        ("a@media.example", "sent"), ("bad@media.example", "permanent"), ("c@media.example", "sent")]
    assert results[1].detail.startswith("550")
    assert smtp_server.handler.recipients() == ["a@media.example", "c@media.example"]


def test_a_session_hands_over_before_the_text_and_works_meanwhile_before_the_reply(workspace, smtp_server) -> None:
    settings = smtp_server.configure(workspace)
    smtp_server.handler.rcpt_replies["bad@media.example"] = "550 5.1.1 No such user here"
    data = as_bytes(build(outgoing(), sender=SENDER, now=AT))
    events: list[tuple[str, str, int]] = []
    smtp_server.handler.on_data = lambda received: events.append(("server", received.rcpt_tos[0], 0))

    with SmtpTransport(settings).session() as session:
        for r in BATCH:
            session.deliver(OFFICE, r, data, "x",
                            handover=lambda r=r: events.append(("handover", r, len(smtp_server.handler.data_seen))),
                            meanwhile=lambda r=r: events.append(("meanwhile", r, 0)))

    # Each handover comes before the server has read that message; a refused recipient gets no text.
    assert [e[:2] for e in events if e[0] != "meanwhile"] == [
        ("handover", "a@media.example"), ("server", "a@media.example"),
        ("handover", "bad@media.example"),
        ("handover", "c@media.example"), ("server", "c@media.example")]
    assert [e[2] for e in events if e[0] == "handover"] == [0, 1, 1]
    assert [e[1] for e in events if e[0] == "meanwhile"] == ["a@media.example", "c@media.example"]


def test_a_failing_handover_sends_nothing_and_the_session_goes_on(workspace, smtp_server) -> None:
    settings = smtp_server.configure(workspace)
    data = as_bytes(build(outgoing(), sender=SENDER, now=AT))

    def fail() -> None:
        raise OSError("disk full")

    with SmtpTransport(settings).session() as session:
        with pytest.raises(OSError, match="disk full"):
            session.deliver(OFFICE, "a@media.example", data, "x", handover=fail)
        result = session.deliver(OFFICE, "c@media.example", data, "x")

    assert result.outcome == "sent"
    assert smtp_server.handler.recipients() == ["c@media.example"]
    assert smtp_server.handler.connections == 1


def test_lines_that_begin_with_a_dot_arrive_unchanged(workspace, smtp_server) -> None:
    settings = smtp_server.configure(workspace)
    data = (b"From: office@court.example\r\nTo: a@media.example\r\nSubject: dots\r\n\r\n"
            b".\r\n..two\r\n.one\r\nmiddle . dot\r\n.")

    with SmtpTransport(settings).session() as session:
        assert session.deliver(OFFICE, "a@media.example", data, "x").outcome == "sent"

    [received] = smtp_server.handler.messages
    assert received.content.replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n") + b"\n"


def test_the_server_sees_a_message_only_after_its_sending_mark_is_committed(workspace, smtp_server, ledger) -> None:
    settings = smtp_server.configure(workspace)
    seen: list[dict[str, str]] = []

    def states(received) -> None:
        # What a process that died at this instant would leave: a separate connection reads the file.
        with sqlite3.connect(workspace.ledger) as other:
            seen.append(dict(other.execute("SELECT recipient, state FROM deliveries WHERE key = ?", (RELEASE,))))

    smtp_server.handler.on_data = states
    send(settings, ledger, *release_batch())

    assert seen == [
        {"a@media.example": "sending", "bad@media.example": "queued", "c@media.example": "queued"},
        {"a@media.example": "sent", "bad@media.example": "sending", "c@media.example": "queued"},
        {"a@media.example": "sent", "bad@media.example": "sent", "c@media.example": "sending"},
    ]
    assert {r: delivery(ledger, r, RELEASE)["state"] for r in BATCH} == dict.fromkeys(BATCH, "sent")
