"""What a media message carries besides the release: its own Message-ID, how to stop receiving, a proper .docx.

Releases go through the public jobs (a real workbook pulled, drafted, approved,
published) to a real SMTP server on 127.0.0.1 (tests/smtp_server.py); what the
server received is parsed back with the standard ``email`` package, and the
attached .docx is opened as a zip and with python-docx.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import datetime, timezone
from urllib.parse import unquote
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import docx
import pytest
from conftest import NOW, Workspace, material, run_job

from pipeline.flows import brief, decisions, publishing, pulling, week
from pipeline.ledger import Ledger

AT = datetime.fromisoformat(NOW)
COURT = "儋州市人民法院"                                 # the default config's [court] name
OFFICE = "office@court.example"                         # the default config's [mail] office
NETWORK = "tougao@zxw.court.example"                    # the default config's [channels] network_address
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA = [
    {"outlet": "《法制时报》", "contact": "张编辑", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是"},
    {"outlet": "儋州电视台", "email": "tv@media.example", "enabled": "是"},
]
CORE = {"cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
        "dc": "http://purl.org/dc/elements/1.1/", "dcterms": "http://purl.org/dc/terms/"}


def contacts(count: int) -> list[dict[str, str]]:
    return [{"outlet": f"媒体{i:04d}", "contact": "编辑", "email": f"desk{i:04d}@media.example", "kinds": "全部",
             "enabled": "是"} for i in range(count)]


def published(workspace: Workspace, server, media: list[dict[str, str]]) -> list:
    """One 执行成功 release approved and published to ``media``; the messages the server received meanwhile."""
    settings = server.configure(workspace)
    workspace.make_workbook([material()], media=media)
    run_job(settings, pulling.pull)
    [draft_id] = run_job(settings, publishing.draft).drafted
    run_job(settings, decisions.review, draft_id, "通过", reviewer="符贤")
    mark = len(server.handler.messages)
    run = run_job(settings, publishing.publish)
    assert run.published == [draft_id]
    return server.handler.messages[mark:]


def to(received) -> str:
    [address] = received.rcpt_tos
    return address


# --- Message-ID -----------------------------------------------------------------------

def test_every_copy_of_a_release_to_a_thousand_outlets_has_a_message_id_of_its_own(workspace, smtp_server) -> None:
    messages = published(workspace, smtp_server, contacts(1000))

    ids = Counter(str(m.parse()["Message-ID"]) for m in messages)
    assert len(messages) == 1001                                  # 1,000 outlets and the national network
    assert [i for i, n in ids.items() if n > 1] == []
    assert all(re.fullmatch(r"<[^<>@\s]+@court\.example>", i) for i in ids)
    with Ledger(workspace.ledger) as ledger:                      # the ledger keeps the ID each copy went with
        kept = {r["recipient"]: r["message_id"] for r in ledger.deliveries("release/")}
    assert {to(m): str(m.parse()["Message-ID"]) for m in messages if to(m) != NETWORK} == kept


# --- how an outlet stops the releases ---------------------------------------------------

def test_a_media_message_says_how_to_stop_it_in_a_header_and_in_its_last_lines(workspace, smtp_server) -> None:
    messages = published(workspace, smtp_server, MEDIA)

    media = [m for m in messages if to(m) != NETWORK]
    assert sorted(map(to, media)) == ["fazhi@media.example", "tv@media.example"]
    outlets = {m["email"]: m["outlet"] for m in MEDIA}
    for received in media:
        message = received.parse()
        found = re.fullmatch(r"<mailto:([^?>]+)\?subject=([^>]+)>", str(message["List-Unsubscribe"]).strip())
        assert found, message["List-Unsubscribe"]
        assert unquote(found.group(1)) == OFFICE
        subject = unquote(found.group(2))
        assert "退订" in subject and outlets[to(received)] in subject and to(received) in subject
        assert message["List-Unsubscribe-Post"] is None           # no one-click: the pipeline has no web address
        for part in ("plain", "html"):                             # the last lines, after the release
            tail = message.get_body((part,)).get_content()[-800:]
            assert "退订" in tail and "类别" in tail and OFFICE in tail, f"{part}: {tail}"


def test_mail_that_is_not_the_media_list_carries_no_list_unsubscribe(workspace, smtp_server) -> None:
    published(workspace, smtp_server, MEDIA)
    run_job(workspace.settings, week.digest, force=True)

    messages = smtp_server.handler.messages
    others = [m for m in messages if not to(m).endswith("@media.example")]
    for received in others:
        message = received.parse()
        assert message["List-Unsubscribe"] is None, (to(received), message["Subject"])
    assert NETWORK in map(to, others)                             # the network's copy was among them
    assert Counter(map(to, others))[OFFICE] >= 2                  # the office's draft mail and its digest


# --- the .docx ----------------------------------------------------------------------------

def core_properties(content: bytes) -> tuple[str, ElementTree.Element]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        raw = package.read("docProps/core.xml").decode("utf-8")
    return raw, ElementTree.fromstring(raw)


def attachment(received) -> bytes:
    [part] = list(received.parse().iter_attachments())
    assert part.get_content_type() == DOCX_TYPE
    return part.get_content()


def assert_a4(content: bytes) -> None:
    section = docx.Document(io.BytesIO(content)).sections[0]
    assert abs(section.page_width.mm - 210) < 0.5 and abs(section.page_height.mm - 297) < 0.5
    for margin in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin):
        assert 20 <= margin.mm <= 40


def test_the_release_docx_is_a4_and_says_its_headline_the_court_and_the_publishing_moment(
        workspace, smtp_server) -> None:
    messages = published(workspace, smtp_server, MEDIA)

    with Ledger(workspace.ledger) as ledger:
        [row] = ledger.drafts("published")
    moment = AT.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for received in messages:                                     # every outlet's copy and the network's
        content = attachment(received)
        assert_a4(content)
        raw, core = core_properties(content)
        assert "python-docx" not in raw and "2013" not in raw
        assert core.findtext("dc:title", namespaces=CORE) == row["headline"]
        assert core.findtext("dc:creator", namespaces=CORE) == COURT
        assert core.findtext("cp:lastModifiedBy", namespaces=CORE) in ("", COURT)
        assert not core.findtext("dc:description", default="", namespaces=CORE)
        assert not core.findtext("cp:keywords", default="", namespaces=CORE)
        assert core.findtext("dcterms:created", namespaces=CORE) == moment
        assert core.findtext("dcterms:modified", namespaces=CORE) == moment


def package_parts(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_the_release_docx_carries_nothing_of_the_librarys_template_machine(workspace, smtp_server) -> None:
    """No preview picture of another, blank document; no application or company the court did not use."""
    [received, *_] = published(workspace, smtp_server, MEDIA)
    content = attachment(received)

    parts = package_parts(content)
    assert not [name for name in parts if "thumbnail" in name]
    assert b"thumbnail" not in parts["_rels/.rels"]
    app = parts["docProps/app.xml"].decode("utf-8")
    assert "Macintosh" not in app and "Microsoft" not in app and "<Company>" not in app
    document = docx.Document(io.BytesIO(content))                 # still a package Word and WPS open
    assert document.core_properties.author == COURT and document.paragraphs


def test_the_deputies_brief_docx_is_a4_and_says_its_issuer_and_the_moment_it_was_sent(
        workspace, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = smtp_server.configure(workspace)
    workspace.make_workbook([material()], media=MEDIA)
    run_job(settings, pulling.pull)
    issued = "2026-12-02T09:00:00+08:00"
    monkeypatch.setenv("PIPELINE_NOW", issued)

    run_job(settings, brief.brief, "2026-11")

    [received, *_] = [m for m in smtp_server.handler.messages if "简报" in str(m.parse()["Subject"])]
    content = attachment(received)
    assert_a4(content)
    raw, core = core_properties(content)
    assert "python-docx" not in raw and "2013" not in raw
    assert COURT in core.findtext("dc:creator", namespaces=CORE)
    moment = datetime.fromisoformat(issued).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert core.findtext("dcterms:created", namespaces=CORE) == moment


def test_the_same_release_makes_the_same_docx_whenever_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part of the package is dated with the release's moment, not the clock at saving: two copies of one
    release (a resend, a second outlet, a retry a minute later) carry the same attachment, byte for byte."""
    import time

    from pipeline.texts.document import release_docx

    at = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    built = []
    for clock in (1_780_000_000.0, 1_780_000_061.0):               # a minute apart
        monkeypatch.setattr(time, "time", lambda clock=clock: clock)
        built.append(release_docx("标题\n\n正文一段。", title="标题", author="儋州市人民法院", at=at))
    assert built[0] == built[1]
