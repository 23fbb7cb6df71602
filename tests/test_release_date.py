"""One release, one date: the day it was approved, in every copy of it, however late it goes out.

A release drafted on Sunday 29 November, approved on Monday 30 November and
published on Thursday 3 December says 2026年11月30日 everywhere: the media
message (its release text, its HTML and its sign-off), the .docx, the
channel versions, the national network's submission, and a resend days
later. The office's draft shows 审核通过之日 where the date will stand.

Through the public interfaces, as tests/test_publishing.py does: a real
workbook, the jobs, the command line, the ledger, and what a real SMTP
server on 127.0.0.1 received.
"""

from __future__ import annotations

import html
import io
import re
import sqlite3
from email.message import EmailMessage

import docx
import pytest
from conftest import material, run_job
from test_publishing import (
    FIRST,
    MEDIA,
    NETWORK,
    OFFICE,
    TAKERS,
    Desk,
    add_review,
    review_status,
)

from pipeline.flows import publishing

DRAFTED = "2026-11-29T10:00:00+08:00"        # Sunday
APPROVED = "2026-11-30T09:15:00+08:00"       # Monday
PUBLISHED = "2026-12-03T10:00:00+08:00"      # Thursday
RESENT = "2026-12-07T10:00:00+08:00"         # the Monday after
RELEASE_DAY = "2026年11月30日"
CN_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


# --- helpers ---------------------------------------------------------------------------

def words(markup: str) -> str:
    """What a reader sees in HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


def copies_of(message: EmailMessage) -> dict[str, str]:
    """Every part of one message a reader sees, by name."""
    parts = {"text": message.get_body(("plain",)).get_content(),
             "html": words(message.get_body(("html",)).get_content())}
    for number, attachment in enumerate(message.iter_attachments()):
        parts[f"docx {number}"] = docx_text(attachment.get_content())
    return parts


def dates(text: str) -> set[str]:
    return set(CN_DATE.findall(text))


def channel_files(desk: Desk, draft_id: str = FIRST) -> dict[str, str]:
    folder = desk.settings.mail.outbox / "channels" / draft_id
    return {name: (folder / name).read_text(encoding="utf-8-sig")
            for name in ("wechat.html", "weibo.txt", "website.html", "website.txt")}


def assert_one_date(place: str, text: str, day: str = RELEASE_DAY, *, required: bool = True) -> None:
    found = dates(text)
    assert found <= {day}, f"{place} says {sorted(found)}, not only {day}"
    if required:
        assert day in found, f"{place} gives no date (expected {day})"


@pytest.fixture
def desk(workspace, smtp_server, monkeypatch) -> Desk:
    """The office's desk; the material is pulled and drafted on Sunday 29 November."""
    desk = Desk(workspace, smtp_server)
    monkeypatch.setenv("PIPELINE_NOW", DRAFTED)
    desk.sheet([material()], media=MEDIA)
    desk.pull()
    assert desk.draft().drafted == [FIRST]
    return desk


def publish_on(desk: Desk, monkeypatch, moment: str = PUBLISHED) -> list:
    monkeypatch.setenv("PIPELINE_NOW", moment)
    mark = desk.mark()
    run = desk.publish()
    assert run.published == [FIRST] and run.blocked == []
    return desk.since(mark)


def assert_every_copy_says(desk: Desk, received: list, day: str = RELEASE_DAY) -> None:
    media = [m for m in received if NETWORK not in m.rcpt_tos]
    network = [m for m in received if NETWORK in m.rcpt_tos]
    assert sorted(r for m in media for r in m.rcpt_tos) == sorted(TAKERS) and len(network) == 1
    for message in [*media, *network]:
        [recipient] = message.rcpt_tos
        for part, text in copies_of(message.parse()).items():
            assert_one_date(f"{recipient} {part}", text, day)
        plain = message.parse().get_body(("plain",)).get_content()
        assert f"发布日期：{day}" in plain, recipient
        # The sign-off under the office's name, in the media's and the network's letter alike.
        assert re.search(rf"{desk.settings.court.office}\n{day}\n", plain), recipient
    for name, text in channel_files(desk).items():
        shown = words(text) if name.endswith(".html") else text
        assert_one_date(f"channels/{name}", shown, day, required=name != "weibo.txt")


# --- the office's draft -----------------------------------------------------------------

def test_the_draft_mail_says_the_release_is_dated_on_approval_not_the_drafting_day(desk) -> None:
    drafts = [m for m in desk.handler.messages if "【待审稿件" in str(m.parse()["Subject"])]
    assert sorted(r for m in drafts for r in m.rcpt_tos) == sorted(OFFICE)
    for received in drafts:
        parts = copies_of(received.parse())
        for part in ("text", "html"):
            assert "发布日期：审核通过之日" in parts[part], part
            assert dates(parts[part]) == set(), f"{part} gives a date: {dates(parts[part])}"
            assert "〔" not in parts[part]


def test_approval_fixes_the_release_date_in_the_ledger(desk, monkeypatch) -> None:
    assert desk.draft_row(FIRST)["release_date"] is None
    monkeypatch.setenv("PIPELINE_NOW", APPROVED)
    desk.approve(FIRST)
    assert desk.draft_row(FIRST)["release_date"] == "2026-11-30"


# --- publishing days after the approval ---------------------------------------------------

def test_a_release_approved_on_monday_and_published_on_thursday_is_dated_monday_everywhere(
        desk, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", APPROVED)
    desk.approve(FIRST)

    received = publish_on(desk, monkeypatch)

    assert_every_copy_says(desk, received)
    assert desk.draft_row(FIRST)["release_date"] == "2026-11-30"
    # What the ledger keeps for a resend is the same text.
    with desk.ledger() as ledger:
        bodies = ledger.db.execute("SELECT text, html FROM delivery_bodies WHERE key IN (?, ?)",
                                   (f"release/{FIRST}", f"network/{FIRST}")).fetchall()
    assert len(bodies) == len(TAKERS) + 1
    for text, markup in bodies:
        assert_one_date("stored body", text)
        assert_one_date("stored html", words(markup))


def test_a_release_approved_on_the_review_tab_is_dated_the_day_of_that_approval(desk, monkeypatch) -> None:
    row = add_review(desk.ws, FIRST, "通过", reviewer="符贤", comment="同意发布")
    monkeypatch.setenv("PIPELINE_NOW", APPROVED)
    desk.pull()
    assert review_status(desk.ws, row) == "已生效：通过"
    assert desk.draft_row(FIRST)["release_date"] == "2026-11-30"

    received = publish_on(desk, monkeypatch)

    assert_every_copy_says(desk, received)


def test_a_resend_days_later_carries_the_release_date_not_the_resend_day(desk, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", APPROVED)
    desk.approve(FIRST)
    desk.handler.drop_in_data = 1
    publish_on(desk, monkeypatch)
    [unknown] = [a for a, s in desk.release_states().items() if s == "unknown"]
    monkeypatch.setenv("PIPELINE_NOW", RESENT)
    mark = desk.mark()

    result = desk.ws.cli("resend", FIRST, "--to", unknown)

    assert result.returncode == 0, result.stdout + result.stderr
    [again] = desk.since(mark)
    assert again.rcpt_tos == [unknown]
    for part, text in copies_of(again.parse()).items():
        assert_one_date(f"resent {part}", text)


def test_a_dry_run_previews_the_release_date(desk, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", APPROVED)
    desk.approve(FIRST)
    monkeypatch.setenv("PIPELINE_NOW", PUBLISHED)

    run = run_job(desk.settings, publishing.publish, dry_run=True)

    assert len(run.previews) == len(TAKERS) + 1
    for outgoing in run.previews:
        assert_one_date(f"preview to {outgoing.recipient}", outgoing.text)
        assert_one_date(f"preview html to {outgoing.recipient}", words(outgoing.html))
    assert desk.draft_row(FIRST)["release_date"] == "2026-11-30" and desk.state(FIRST) == "approved"


# --- releases approved before the date was fixed on approval --------------------------------

def _forget_release_date(desk: Desk) -> None:
    with sqlite3.connect(desk.ws.ledger) as db:
        db.execute("UPDATE drafts SET release_date = NULL WHERE id = ?", (FIRST,))


def test_a_release_approved_without_a_fixed_date_is_dated_the_day_of_its_approval(desk, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", APPROVED)
    desk.approve(FIRST)
    _forget_release_date(desk)

    received = publish_on(desk, monkeypatch)

    assert_every_copy_says(desk, received)
    assert desk.draft_row(FIRST)["release_date"] == "2026-11-30"


def test_a_release_drafted_with_its_date_written_in_keeps_that_date_in_every_copy(desk, monkeypatch) -> None:
    """A draft made before the date was fixed on approval holds the drafting day in its text:
    the mail's sign-off, the .docx and the channels follow the text, not the publishing day."""
    monkeypatch.setenv("PIPELINE_NOW", APPROVED)
    desk.approve(FIRST)
    row = desk.draft_row(FIRST)
    text = re.sub(r"(?m)^发布日期：.*$", "发布日期：2026年11月29日", row["release_text"])
    markup = re.sub(r"发布日期：[^<]*<", "发布日期：2026年11月29日<", row["release_html"])
    assert "发布日期：2026年11月29日" in text and "发布日期：2026年11月29日" in markup
    with sqlite3.connect(desk.ws.ledger) as db:
        db.execute("UPDATE drafts SET release_text = ?, release_html = ?, release_date = NULL WHERE id = ?",
                   (text, markup, FIRST))

    received = publish_on(desk, monkeypatch)

    assert_every_copy_says(desk, received, "2026年11月29日")
    assert desk.draft_row(FIRST)["release_date"] == "2026-11-29"
