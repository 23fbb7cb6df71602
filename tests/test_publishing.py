"""From material to the media, end to end: drafts, the office's review, publishing, faults, crashes.

Everything goes through the public interfaces: a real workbook read by
``pulling.pull``, ``publishing.draft``/``review``/``publish``/``resend``, the
command line (``python run.py …``), the ledger, and what a real SMTP server on
127.0.0.1 (tests/smtp_server.py) received.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import docx
import openpyxl
import pytest
from conftest import DEFAULT_TEAMS, NOW, PROJECT, Workspace, material, run_job, write_rows

from pipeline.core.layout import REVIEWS, SUBMISSIONS, Tab
from pipeline.flows import decisions, dispatch, publishing, pulling, week
from pipeline.ledger import Ledger

AT = datetime.fromisoformat(NOW)                    # Thursday of 2026-W48
OFFICE = ("fuxian@court.example", "gaoqiongfang@court.example")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DRAFT_ID = re.compile(r"D-2026-\d{6}")
FIRST = "D-2026-000001"
TEAM_EMAILS = {t["email"] for t in DEFAULT_TEAMS}

# The 媒体 tab: who takes a 执行成功 release and who does not.
MEDIA = [
    {"outlet": "《法制时报》", "contact": "张编辑", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是"},
    {"outlet": "《今日儋州》", "contact": "李编辑", "email": "jinri@media.example", "kinds": "执行成功、执行不能",
     "enabled": "是"},
    {"outlet": "儋州电视台", "email": "tv@media.example", "enabled": "是"},                  # 接收类别 blank
    {"outlet": "《今日头条》", "contact": "赵编辑", "email": "toutiao@media.example", "kinds": "执行不能",
     "enabled": "是"},                                                                       # not this kind
    {"outlet": "《海南日报》", "contact": "钱编辑", "email": "hainan@media.example", "kinds": "全部",
     "enabled": "否"},                                                                       # disabled
]
TAKERS = {"fazhi@media.example": "《法制时报》", "jinri@media.example": "《今日儋州》",
          "tv@media.example": "儋州电视台"}
MEDIA_EMAILS = {m["email"] for m in MEDIA}
# The default config also submits every published release to the national network ([channels], 四(三)).
NETWORK = "tougao@zxw.court.example"


def later(**delta: float) -> str:
    return (AT + timedelta(**delta)).isoformat()


def contacts(count: int, *, prefix: str = "outlet") -> list[dict[str, Any]]:
    return [{"outlet": f"媒体{i}", "contact": f"编辑{i}", "email": f"{prefix}{i}@media.example", "kinds": "全部",
             "enabled": "是"} for i in range(1, count + 1)]


# --- the desk: a workspace that mails through the test SMTP server -----------------

class Desk:
    """A workspace wired to a real SMTP server, with the office's everyday moves."""

    def __init__(self, workspace: Workspace, server) -> None:
        self.ws, self.server, self.handler = workspace, server, server.handler
        server.configure(workspace)
        text = workspace.config_path.read_text(encoding="utf-8")
        assert 'office = ["office@court.example"]' in text
        listed = ", ".join(f'"{a}"' for a in OFFICE)
        workspace.config_path.write_text(text.replace('office = ["office@court.example"]', f"office = [{listed}]"),
                                         encoding="utf-8")

    @property
    def settings(self):
        return self.ws.settings

    def sheet(self, submissions=(), *, media=MEDIA, reviews=()) -> None:
        self.ws.make_workbook(list(submissions), media=list(media), reviews=list(reviews))

    def pull(self):
        return run_job(self.settings, pulling.pull)

    def draft(self):
        return run_job(self.settings, publishing.draft)

    def publish(self):
        return run_job(self.settings, publishing.publish)

    def approve(self, draft_id: str = FIRST, by: str = "符贤") -> None:
        run_job(self.settings, decisions.review, draft_id, "通过", reviewer=by)

    def mark(self) -> int:
        return len(self.handler.messages)

    def since(self, mark: int):
        return self.handler.messages[mark:]

    def ledger(self) -> Ledger:
        return Ledger(self.ws.ledger)

    def draft_row(self, draft_id: str):
        with self.ledger() as ledger:
            return ledger.draft(draft_id)

    def state(self, draft_id: str) -> str | None:
        row = self.draft_row(draft_id)
        return row["state"] if row else None

    def drafts(self) -> list[dict[str, Any]]:
        with self.ledger() as ledger:
            return [dict(r) for r in ledger.drafts()]

    def deliveries(self, draft_id: str = FIRST) -> dict[str, dict[str, Any]]:
        """The release's delivery rows, by recipient."""
        with self.ledger() as ledger:
            return {r["recipient"]: dict(r) for r in ledger.deliveries(f"release/{draft_id}")}

    def releases(self) -> list[dict[str, Any]]:
        """Every media delivery row of every release."""
        with self.ledger() as ledger:
            return [dict(r) for r in ledger.deliveries("release/")]

    def release_states(self, draft_id: str = FIRST) -> dict[str, str]:
        with self.ledger() as ledger:
            return {r["recipient"]: r["state"] for r in ledger.deliveries(f"release/{draft_id}")}


def delete_row(workspace: Workspace, tab: Tab, row: int) -> None:
    book = openpyxl.load_workbook(workspace.workbook)
    book[tab.name].delete_rows(row)
    book.save(workspace.workbook)


def add_review(workspace: Workspace, draft_id: str, decision: str = "通过", reviewer: str = "符贤",
               comment: str = "", code: str | None = None) -> int:
    """Append a row to the 审核 tab, with the 审核码 of the office's mail unless ``code`` is given;
    returns its row number."""
    code = workspace.review_code(draft_id.strip().upper()) if code is None else code
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book[REVIEWS.name]
    start = max([r["row"] for r in workspace.rows(REVIEWS)] + [1]) + 1
    write_rows(sheet, REVIEWS, [{"draft_id": draft_id, "decision": decision, "reviewer": reviewer,
                                 "comment": comment, "code": code}], start=start)
    book.save(workspace.workbook)
    return start


def review_status(workspace: Workspace, row: int) -> str:
    [found] = [r for r in workspace.rows(REVIEWS) if r["row"] == row]
    return str(found.get("status") or "")


def body(received) -> str:
    return received.parse().get_body(("plain",)).get_content()


def subject(received) -> str:
    return str(received.parse()["Subject"])


def copies(handler) -> Counter[str]:
    return Counter(handler.recipients())


@pytest.fixture
def desk(workspace, smtp_server) -> Desk:
    return Desk(workspace, smtp_server)


@pytest.fixture
def drafted(desk) -> Desk:
    """One good 执行成功 submission (row 2), pulled and drafted as D-2026-000001 (pending)."""
    desk.sheet([material()])
    desk.pull()
    assert desk.draft().drafted == [FIRST]
    return desk


@pytest.fixture
def approved(drafted) -> Desk:
    drafted.approve(FIRST)
    return drafted


# --- drafting ------------------------------------------------------------------------

def test_each_new_publishable_submission_gets_one_draft_mailed_to_the_office_only(desk) -> None:
    desk.sheet([material(), material(title="被执行人迫于压力履行全部义务", case_number="（2026）琼9003执1300号")])
    desk.pull()

    run = desk.draft()

    assert len(run.drafted) == 2 and all(DRAFT_ID.fullmatch(d) for d in run.drafted)
    assert len(set(run.drafted)) == 2
    mail = desk.handler.messages
    assert sorted(r for m in mail for r in m.rcpt_tos) == sorted(OFFICE * 2)
    for draft_id in run.drafted:
        carrying = [m for m in mail if draft_id in subject(m)]
        assert sorted(r for m in carrying for r in m.rcpt_tos) == sorted(OFFICE)
    everyone = set(desk.handler.recipients())
    assert not everyone & (TEAM_EMAILS | MEDIA_EMAILS)
    assert [d["state"] for d in desk.drafts()] == ["pending", "pending"]


def test_a_second_draft_run_drafts_nothing_and_sends_nothing(drafted) -> None:
    mark = drafted.mark()

    run = drafted.draft()

    assert run.drafted == []
    assert drafted.since(mark) == []
    assert [d["id"] for d in drafted.drafts()] == [FIRST]


def test_material_marked_not_publishable_is_never_drafted(desk) -> None:
    desk.sheet([material(publishable="否", title="不可公开的素材"), material(case_number="（2026）琼9003执1301号")])
    summary = desk.pull()
    assert summary.accepted == 2

    first, second = desk.draft(), desk.draft()

    assert len(first.drafted) == 1 and second.drafted == []
    with desk.ledger() as ledger:
        [row] = ledger.drafts()
    assert row["submission_id"] == "S-2026-000002"
    assert not any("不可公开的素材" in subject(m) for m in desk.handler.messages)


def test_an_invalid_row_is_never_drafted(desk) -> None:
    desk.sheet([material(process="", title="缺少执行过程的素材"), material(case_number="（2026）琼9003执1302号")])
    desk.pull()

    first, second = desk.draft(), desk.draft()

    assert len(first.drafted) == 1 and second.drafted == []
    [row] = desk.drafts()
    valid = next(r for r in desk.ws.rows(SUBMISSIONS) if r["row"] == 3)
    assert row["submission_id"] == valid["id"]
    assert not any("缺少执行过程的素材" in subject(m) for m in desk.handler.messages)


def test_editing_a_submission_drafts_v2_and_supersedes_the_old_version(drafted) -> None:
    drafted.ws.edit(SUBMISSIONS, 2, process="执行干警依法拘留被执行人李某强十五日，其家属代为履行全部款项。")
    drafted.pull()
    mark = drafted.mark()

    run = drafted.draft()

    assert run.drafted == [f"{FIRST}-v2"]
    assert drafted.state(FIRST) == "superseded"
    assert drafted.state(f"{FIRST}-v2") == "pending"
    assert "依法拘留被执行人" in drafted.draft_row(f"{FIRST}-v2")["release_text"]
    new = drafted.since(mark)
    assert sorted(r for m in new for r in m.rcpt_tos) == sorted(OFFICE)
    assert all(f"{FIRST}-v2" in subject(m) for m in new)


def test_a_superseded_draft_cannot_be_approved_on_the_command_line(drafted) -> None:
    drafted.ws.edit(SUBMISSIONS, 2, process="执行干警依法拘留被执行人李某强十五日，其家属代为履行全部款项。")
    drafted.pull()
    drafted.draft()

    result = drafted.ws.cli("approve", FIRST, "--by", "符贤")

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{FIRST}-v2" in result.stderr
    assert drafted.state(FIRST) == "superseded"


def test_a_superseded_draft_is_never_published(drafted) -> None:
    drafted.ws.edit(SUBMISSIONS, 2, process="执行干警依法拘留被执行人李某强十五日，其家属代为履行全部款项。")
    drafted.pull()
    drafted.draft()
    mark = drafted.mark()

    drafted.publish()

    assert drafted.since(mark) == []
    assert drafted.releases() == []
    assert drafted.state(FIRST) == "superseded"


def test_removing_the_row_withdraws_its_pending_draft(drafted) -> None:
    delete_row(drafted.ws, SUBMISSIONS, 2)
    drafted.pull()

    run = drafted.draft()

    assert run.withdrawn == [FIRST] and run.drafted == []
    assert drafted.state(FIRST) == "withdrawn"


def test_a_row_pasted_back_after_its_draft_was_withdrawn_is_drafted_again_for_review(drafted) -> None:
    row = drafted.ws.rows()[0]
    delete_row(drafted.ws, SUBMISSIONS, 2)
    drafted.pull()
    drafted.draft()
    drafted.sheet([{k: v for k, v in row.items() if k not in ("id", "status")}])   # pasted back as it was
    drafted.pull()
    mark = drafted.mark()

    run = drafted.draft()

    assert run.drafted == [FIRST] and drafted.state(FIRST) == "pending"
    mail = drafted.since(mark)
    assert mail and all(FIRST in subject(m) for m in mail)
    assert all("素材现已恢复原样，本稿重新提交审核" in body(m) for m in mail)
    assert drafted.draft().drafted == []                      # once


def test_marking_the_material_not_publishable_withdraws_its_approved_draft(approved) -> None:
    approved.ws.edit(SUBMISSIONS, 2, publishable="否")
    approved.pull()
    mark = approved.mark()

    approved.draft()
    approved.publish()

    assert approved.state(FIRST) == "withdrawn"
    assert approved.since(mark) == []
    assert approved.releases() == []


# --- who may approve -----------------------------------------------------------------------

def test_a_review_row_by_someone_not_on_the_reviewer_list_is_invalid_and_publishes_nothing(drafted) -> None:
    row = add_review(drafted.ws, FIRST, "通过", reviewer="李明辉")
    drafted.pull()
    mark = drafted.mark()

    drafted.publish()

    status = review_status(drafted.ws, row)
    assert status.startswith("无效") and "李明辉" in status
    assert drafted.state(FIRST) == "pending"
    assert drafted.since(mark) == [] and drafted.releases() == []


@pytest.mark.parametrize("typed", ["已通过", "通过"])
def test_approval_typed_into_the_material_status_column_publishes_nothing(drafted, typed) -> None:
    drafted.ws.edit(SUBMISSIONS, 2, status=typed)
    drafted.pull()
    drafted.draft()
    mark = drafted.mark()

    drafted.publish()

    assert drafted.state(FIRST) == "pending"
    with drafted.ledger() as ledger:
        assert ledger.decisions(FIRST) == []
    assert drafted.since(mark) == [] and drafted.releases() == []


def test_a_review_row_with_an_unknown_draft_id_is_invalid(drafted) -> None:
    row = add_review(drafted.ws, "D-2026-000099", "通过", reviewer="符贤")
    drafted.pull()
    mark = drafted.mark()

    drafted.publish()

    assert review_status(drafted.ws, row).startswith("无效：草稿编号 D-2026-000099 不存在")
    assert drafted.state(FIRST) == "pending"
    assert drafted.since(mark) == [] and drafted.releases() == []


def test_a_review_row_approving_a_superseded_version_is_invalid_and_publishes_nothing(drafted) -> None:
    drafted.ws.edit(SUBMISSIONS, 2, process="执行干警依法拘留被执行人李某强十五日，其家属代为履行全部款项。")
    drafted.pull()
    drafted.draft()
    row = add_review(drafted.ws, FIRST, "通过", reviewer="符贤")
    drafted.pull()
    mark = drafted.mark()

    drafted.publish()

    status = review_status(drafted.ws, row)
    assert status.startswith("无效") and f"{FIRST}-v2" in status
    assert drafted.state(FIRST) == "superseded"
    assert drafted.state(f"{FIRST}-v2") == "pending"
    assert drafted.since(mark) == [] and drafted.releases() == []


def test_approve_on_the_command_line_for_an_unknown_id_exits_2_with_a_clear_message(drafted) -> None:
    result = drafted.ws.cli("approve", "D-2026-000099", "--by", "符贤")

    assert result.returncode == 2
    assert "D-2026-000099" in result.stderr and "不存在" in result.stderr
    assert "Traceback" not in result.stderr
    assert drafted.state(FIRST) == "pending"


def test_a_valid_review_row_by_an_office_reviewer_approves_and_the_next_publish_sends(drafted) -> None:
    row = add_review(drafted.ws, FIRST, "通过", reviewer="符贤", comment="同意发布")
    drafted.pull()

    assert review_status(drafted.ws, row) == "已生效：通过"
    assert drafted.state(FIRST) == "approved"
    mark = drafted.mark()
    drafted.publish()
    assert sorted(r for m in drafted.since(mark) for r in m.rcpt_tos) == sorted([*TAKERS, NETWORK])


def test_reject_with_a_reason_keeps_the_draft_from_being_published(drafted) -> None:
    result = drafted.ws.cli("reject", FIRST, "--reason", "案情表述不够准确", "--by", "符贤")
    assert result.returncode == 0, result.stderr
    mark = drafted.mark()

    drafted.publish()

    assert drafted.state(FIRST) == "rejected"
    assert drafted.since(mark) == [] and drafted.releases() == []


def test_a_draft_changed_after_approval_needs_approval_again(approved) -> None:
    approved.ws.edit(SUBMISSIONS, 2, process="执行干警依法拘留被执行人李某强十五日，其家属代为履行全部款项。")
    approved.pull()
    assert approved.draft().drafted == [f"{FIRST}-v2"]
    assert approved.state(f"{FIRST}-v2") == "pending"
    mark = approved.mark()

    approved.publish()
    assert approved.since(mark) == [] and approved.releases() == []

    result = approved.ws.cli("approve", f"{FIRST}-v2", "--by", "符贤")
    assert result.returncode == 0, result.stderr
    approved.publish()
    new = approved.since(mark)
    assert sorted(r for m in new for r in m.rcpt_tos) == sorted([*TAKERS, NETWORK])
    assert all("依法拘留被执行人" in body(m) for m in new)
    with approved.ledger() as ledger:
        assert {r["key"] for r in ledger.deliveries("release/")} == {f"release/{FIRST}-v2"}
    assert approved.state(FIRST) == "superseded"


def test_a_review_row_approving_the_new_version_takes_effect(approved) -> None:
    approved.ws.edit(SUBMISSIONS, 2, process="执行干警依法拘留被执行人李某强十五日，其家属代为履行全部款项。")
    approved.pull()
    approved.draft()
    row = add_review(approved.ws, f"{FIRST}-v2", "通过", reviewer="符贤")
    approved.pull()

    assert review_status(approved.ws, row) == "已生效：通过"
    assert approved.state(f"{FIRST}-v2") == "approved"


# --- publishing -----------------------------------------------------------------------------

def test_publish_sends_one_copy_to_each_enabled_contact_taking_the_kind_and_no_one_else(approved) -> None:
    mark = approved.mark()

    run = approved.publish()

    assert run.published == [FIRST]
    new = approved.since(mark)
    assert Counter(r for m in new for r in m.rcpt_tos) == Counter([*TAKERS, NETWORK])
    assert approved.release_states() == {address: "sent" for address in TAKERS}


def test_each_media_message_is_addressed_to_that_contact_alone(approved) -> None:
    mark = approved.mark()

    approved.publish()

    new = approved.since(mark)
    assert len(new) == len(TAKERS) + 1                 # and the national network's copy
    for received in new:
        assert len(received.rcpt_tos) == 1
        [address] = received.rcpt_tos
        message = received.parse()
        assert [a.addr_spec for a in message["To"].addresses] == [address]
        assert message["Cc"] is None and message["Bcc"] is None


def test_each_media_message_greets_its_own_outlet_by_name(approved) -> None:
    mark = approved.mark()

    approved.publish()

    new = [m for m in approved.since(mark) if NETWORK not in m.rcpt_tos]
    assert len(new) == len(TAKERS)
    for received in new:
        [address] = received.rcpt_tos
        text = body(received)
        assert f"{TAKERS[address]}编辑部" in text, f"{address} is greeted as: {text.splitlines()[0]}"
        others = [outlet for a, outlet in TAKERS.items() if a != address]
        assert not any(f"{outlet}编辑部" in text for outlet in others)


def test_each_media_message_carries_the_release_as_a_docx_with_a_chinese_name(approved) -> None:
    headline = approved.draft_row(FIRST)["headline"]
    assert "拖欠货款三年" in headline
    mark = approved.mark()

    approved.publish()

    new = approved.since(mark)
    assert new
    for received in new:
        [part] = list(received.parse().iter_attachments())
        assert part.get_content_type() == DOCX_TYPE
        filename = part.get_filename()
        assert filename and filename.endswith(".docx") and re.search(r"[\u4e00-\u9fff]", filename)
        document = docx.Document(io.BytesIO(part.get_content()))
        assert any(headline in p.text for p in document.paragraphs)


def test_a_second_publish_sends_nothing(approved) -> None:
    approved.publish()
    mark = approved.mark()

    run = approved.publish()

    assert run.published == []
    assert approved.since(mark) == []
    assert approved.release_states() == {address: "sent" for address in TAKERS}


# --- faults at the server -------------------------------------------------------------------

FAULT_MEDIA = contacts(5)
SOON = [c["email"] for c in FAULT_MEDIA[1:4:2]]          # outlet2, outlet4: 451
REFUSED = FAULT_MEDIA[4]["email"]                        # outlet5: 550
FINE = [FAULT_MEDIA[0]["email"], FAULT_MEDIA[2]["email"]]


@pytest.fixture
def faulty(desk) -> Desk:
    """An approved release for five contacts; the server says 451 to two of them and 550 to one."""
    desk.sheet([material()], media=FAULT_MEDIA)
    desk.pull()
    desk.draft()
    desk.approve(FIRST)
    for address in SOON:
        desk.handler.rcpt_replies[address] = "451 4.3.0 mailbox busy, try again later"
    desk.handler.rcpt_replies[REFUSED] = "550 5.1.1 no such user"
    return desk


def clear_faults(desk: Desk) -> None:
    for address in SOON:
        desk.handler.rcpt_replies.pop(address)


def test_publish_delivers_to_the_others_when_some_contacts_are_refused(faulty) -> None:
    run = faulty.publish()

    assert sorted(faulty.handler.recipients()) == sorted([*OFFICE, *FINE, NETWORK])
    states = faulty.release_states()
    assert {a: states[a] for a in FINE} == {a: "sent" for a in FINE}
    assert {a: states[a] for a in SOON} == {a: "temporary" for a in SOON}
    assert states[REFUSED] == "permanent"
    assert run.report is not None and run.report.counts["permanent"] == 1


def test_temporarily_refused_contacts_get_exactly_one_copy_once_the_back_off_has_passed(faulty, monkeypatch) -> None:
    faulty.publish()
    clear_faults(faulty)

    for minutes in (6, 30, 120):
        monkeypatch.setenv("PIPELINE_NOW", later(minutes=minutes))
        faulty.publish()

    received = copies(faulty.handler)
    assert {a: received[a] for a in [*FINE, *SOON]} == {a: 1 for a in [*FINE, *SOON]}
    assert received[REFUSED] == 0
    assert max(received.values()) == 1
    states = faulty.release_states()
    assert {a: states[a] for a in SOON} == {a: "sent" for a in SOON}


def test_a_permanently_refused_contact_is_reported_and_never_retried(faulty, monkeypatch) -> None:
    faulty.publish()
    faulty.handler.rcpt_replies.clear()

    for minutes in (6, 30, 120, 60 * 24):
        monkeypatch.setenv("PIPELINE_NOW", later(minutes=minutes))
        faulty.publish()

    assert faulty.handler.rcpt_attempts.count(REFUSED) == 1
    assert copies(faulty.handler)[REFUSED] == 0
    row = faulty.deliveries()[REFUSED]
    assert row["state"] == "permanent" and "550" in row["detail"]


def test_the_publish_command_reports_a_permanent_refusal_and_exits_1(faulty) -> None:
    result = faulty.ws.cli("publish")

    assert result.returncode == 1, result.stdout + result.stderr
    assert REFUSED in result.stdout and "550" in result.stdout


def test_a_temporary_failure_is_not_retried_before_its_back_off(faulty, monkeypatch) -> None:
    faulty.publish()
    clear_faults(faulty)
    attempts = {a: faulty.handler.rcpt_attempts.count(a) for a in SOON}
    assert attempts == {a: 1 for a in SOON}

    monkeypatch.setenv("PIPELINE_NOW", later(seconds=240))      # retry_after is 300 s
    faulty.publish()

    assert {a: faulty.handler.rcpt_attempts.count(a) for a in SOON} == attempts
    assert all(copies(faulty.handler)[a] == 0 for a in SOON)
    states = faulty.release_states()
    assert {a: states[a] for a in SOON} == {a: "temporary" for a in SOON}


# --- unknown outcomes and resend ---------------------------------------------------------------

@pytest.fixture
def interrupted(approved) -> tuple[Desk, str]:
    """The release published while the server drops the first media message in DATA: one 'unknown'."""
    approved.handler.drop_in_data = 1
    approved.publish()
    unknown = [a for a, s in approved.release_states().items() if s == "unknown"]
    assert len(unknown) == 1, approved.release_states()
    return approved, unknown[0]


def test_an_unknown_delivery_is_not_resent_by_later_publish_runs(interrupted, monkeypatch) -> None:
    desk, address = interrupted
    seen = len(desk.handler.data_seen)

    for minutes in (10, 60, 60 * 24):
        monkeypatch.setenv("PIPELINE_NOW", later(minutes=minutes))
        desk.publish()

    assert len(desk.handler.data_seen) == seen
    assert copies(desk.handler)[address] == 0
    assert desk.release_states()[address] == "unknown"


def test_resend_sends_an_unknown_delivery_exactly_once_more(interrupted, monkeypatch) -> None:
    desk, address = interrupted
    monkeypatch.setenv("PIPELINE_NOW", later(minutes=30))
    before = copies(desk.handler)

    result = desk.ws.cli("resend", FIRST, "--to", address)

    assert result.returncode == 0, result.stdout + result.stderr
    after = copies(desk.handler)
    assert after[address] == before[address] + 1
    assert after - before == Counter({address: 1})
    assert desk.release_states()[address] == "sent"


def test_a_resend_dry_run_shows_the_message_and_sends_nothing(interrupted, monkeypatch) -> None:
    desk, address = interrupted
    monkeypatch.setenv("PIPELINE_NOW", later(minutes=30))
    mark = desk.mark()

    result = desk.ws.cli("resend", FIRST, "--to", address, "--dry-run", "--show")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "（试运行：未发送，未记账）将发送 1 封媒体稿件" in result.stdout and address in result.stdout
    assert "    | " in result.stdout and ".docx" in result.stdout          # the body and the attachment shown
    assert desk.since(mark) == [] and desk.release_states()[address] == "unknown"


def test_resend_of_a_delivery_already_sent_exits_2_and_sends_nothing(interrupted) -> None:
    desk, unknown = interrupted
    delivered = next(a for a, s in desk.release_states().items() if s == "sent")
    mark = desk.mark()

    result = desk.ws.cli("resend", FIRST, "--to", delivered)

    assert result.returncode == 2, result.stdout + result.stderr
    assert delivered in result.stderr
    assert desk.since(mark) == []
    assert desk.release_states()[delivered] == "sent"


# --- crash safety: SIGKILL while the server holds a reply ---------------------------------------

CRASH_MEDIA = contacts(6, prefix="crash")
CRASH_EMAILS = [c["email"] for c in CRASH_MEDIA]
SETTLED = {"sent", "unknown", "temporary", "permanent"}


def _wait_for_pause(handler, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not handler.paused.wait(0.05):
        if process.poll() is not None:
            pytest.fail(f"publish exited ({process.returncode}) before the server paused")
        if time.monotonic() > deadline:
            pytest.fail("the server never reached the pause")


def _approved(workspace, server, media: list[dict[str, Any]]):
    """A desk on ``server`` whose one release, drafted from the sheet, is approved for ``media``."""
    desk = Desk(workspace, server)
    desk.sheet([material()], media=media)
    desk.pull()
    desk.draft()
    desk.approve(FIRST)
    return desk, server.handler


def _killed_mid_send(desk: Desk, handler, workspace, where: str, nth: int) -> list[str]:
    """Publish in a process of its own and SIGKILL it while the server holds its reply to the ``nth`` message
    (``where``: after its text, or at its recipient); returns the address the server held."""
    handler.rcpt_attempts.clear()
    if where == "data":
        handler.pause_at_data = nth
    else:
        handler.pause_at_rcpt = nth
    env = {**os.environ, "PIPELINE_NOW": NOW, "PYTHONIOENCODING": "utf-8"}
    log = workspace.root / "first-publish.log"
    process = None
    try:
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, str(PROJECT / "run.py"), "--config", str(workspace.config_path), "publish"],
                cwd=workspace.root, env=env, stdout=output, stderr=subprocess.STDOUT)
            _wait_for_pause(handler, process)
            held = list(handler.paused_on)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        handler.release.set()
    assert handler.resumed.wait(10), "the held reply never went on"
    return held


@pytest.mark.parametrize(("where", "nth"), [("data", 1), ("data", 3), ("data", 6), ("rcpt", 4)],
                         ids=["data-first", "data-middle", "data-last", "rcpt-middle"])
def test_a_publish_killed_mid_send_never_doubles_and_never_forgets_a_delivery(
        workspace, smtp_pausing_server, monkeypatch, where, nth) -> None:
    desk, handler = _approved(workspace, smtp_pausing_server, CRASH_MEDIA)
    held = _killed_mid_send(desk, handler, workspace, where, nth)
    assert held == [CRASH_EMAILS[nth - 1]]
    # What the killed process left behind: the one it had begun to send is 'sending'.
    begun = {a for a, s in desk.release_states().items() if s == "sending"}
    assert begun == set(held)

    monkeypatch.setenv("PIPELINE_NOW", later(minutes=10))    # past the 'sending' cut-off
    desk.publish()

    states = desk.release_states()
    assert sorted(states) == sorted(CRASH_EMAILS), "every contact has one delivery row"
    assert set(states.values()) <= SETTLED, states
    unknown = {a for a, s in states.items() if s == "unknown"}
    assert unknown == begun
    received = copies(handler)
    assert all(received[a] <= 1 for a in CRASH_EMAILS), received
    assert all(received[a] == 1 for a, s in states.items() if s == "sent"), (states, received)


BATCH_MEDIA = contacts(3 * dispatch.GROUP + 2, prefix="batch")
BATCH_EMAILS = [c["email"] for c in BATCH_MEDIA]


@pytest.mark.parametrize("restarted", [False, True], ids=["same-boot", "after-restart"])
def test_a_publish_killed_past_its_first_reservations_settles_every_delivery_exactly(
        workspace, smtp_pausing_server, monkeypatch, restarted) -> None:
    """Deliveries are reserved a group at a time in a commit that waits for the disk, and marked 'sending' in
    one that does not. Killed in the second group: in the same boot of the machine, the one in the server's
    hands is unknown and every other is sent once; after a restart (a power cut may have taken back the
    'sending' marks) the rest of that group is unknown too, and nothing is ever sent twice."""
    desk, handler = _approved(workspace, smtp_pausing_server, BATCH_MEDIA)
    nth = dispatch.GROUP + 3                       # the third message of the second group
    held = _killed_mid_send(desk, handler, workspace, "data", nth)
    assert held == [BATCH_EMAILS[nth - 1]]
    states = desk.release_states()
    assert {a for a, s in states.items() if s == "sending"} == set(held)
    assert [a for a in BATCH_EMAILS if states[a] == "sent"] == BATCH_EMAILS[:nth - 1]

    monkeypatch.setenv("PIPELINE_NOW", later(minutes=10))    # past the cut-off
    if restarted:
        monkeypatch.setenv("PIPELINE_BOOT", "the machine's next start")
    desk.publish()

    states = desk.release_states()
    assert sorted(states) == sorted(BATCH_EMAILS) and set(states.values()) <= SETTLED, states
    unknown = [a for a in BATCH_EMAILS if states[a] == "unknown"]
    rest_of_group = BATCH_EMAILS[nth:2 * dispatch.GROUP]
    assert unknown == (held + rest_of_group if restarted else held)
    received = copies(handler)
    assert all(received[a] <= 1 for a in BATCH_EMAILS), received
    assert all(received[a] == 1 for a, s in states.items() if s == "sent"), (states, received)
    assert all(received[a] == 0 for a in rest_of_group if states[a] == "unknown")


# --- the weekly slots -------------------------------------------------------------------------

INABILITY = dict(kind="执行不能", title="公司注销无财产可供执行 本案终结本次执行程序",
                 facts="申请执行人王某华与被执行人某贸易公司买卖合同纠纷一案，判决生效后被执行人未履行。",
                 process="执行干警通过网络查控系统查询，被执行人名下无存款、车辆、不动产，公司已注销。",
                 outcome="经申请执行人同意，本案终结本次执行程序，发现财产后可随时申请恢复执行。",
                 parties="申请执行人：王某华；被执行人：某贸易公司", case_number="（2026）琼9003执900号")


def test_an_older_pending_inability_draft_is_proposed_to_the_office_on_the_slot_day(desk, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", later(days=-7))       # Thursday of the week before
    desk.sheet([material(submitted_at=datetime(2026, 11, 17, 9, 0), **INABILITY)])
    desk.pull()
    assert desk.draft().drafted == [FIRST]
    monkeypatch.setenv("PIPELINE_NOW", NOW)                  # this week's Thursday, after Wednesday
    mark = desk.mark()

    run = desk.draft()

    assert run.drafted == [] and run.proposed == [FIRST]
    new = desk.since(mark)
    assert sorted(r for m in new for r in m.rcpt_tos) == sorted(OFFICE)
    assert all("本周执行不能稿件建议" in subject(m) and FIRST in subject(m) for m in new)


def test_no_slot_proposal_before_the_slot_weekday(desk, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", later(days=-7))
    desk.sheet([material(submitted_at=datetime(2026, 11, 17, 9, 0), **INABILITY)])
    desk.pull()
    desk.draft()
    monkeypatch.setenv("PIPELINE_NOW", later(days=-3))       # Monday of this week
    mark = desk.mark()

    run = desk.draft()

    assert run.proposed == []
    assert desk.since(mark) == []


def test_with_no_candidate_the_digest_says_so(desk) -> None:
    desk.sheet([material(kind="打击拒执", title="拒不履行被司法拘留")])
    desk.pull()
    desk.draft()
    mark = desk.mark()

    run_job(desk.settings, week.digest)

    new = desk.since(mark)
    assert new and sorted(r for m in new for r in m.rcpt_tos) == sorted(OFFICE)
    text = body(new[0])
    assert "没有候选素材" in text
    assert "本周执行不能稿件没有候选素材" in text


# --- rules and digest on real publishing --------------------------------------------------------

def test_publishing_an_inability_release_clears_the_weekly_inability_and_media_findings(desk) -> None:
    desk.sheet([material(**INABILITY)])
    desk.pull()
    desk.draft()
    desk.approve(FIRST)
    before = {f.rule for f in run_job(desk.settings, week.check)}
    assert {"weekly-inability", "weekly-media"} <= before

    desk.publish()

    assert any(s == "sent" for s in desk.release_states().values())
    after = {f.rule for f in run_job(desk.settings, week.check)}
    assert "weekly-inability" not in after and "weekly-media" not in after


def test_an_unknown_delivery_appears_in_the_next_digest(interrupted) -> None:
    desk, address = interrupted
    mark = desk.mark()

    run_job(desk.settings, week.digest)

    [first, *_] = desk.since(mark)
    text = body(first)
    assert address in text
    assert "无法确认是否送达" in text


def test_one_drafts_standing_is_what_the_whole_list_says_of_it(drafted) -> None:
    """A decision reads only its own draft's standing; it must agree with the list the 审核 tab is judged by."""
    drafted.ws.edit(SUBMISSIONS, 2, process="执行干警依法拘留被执行人李某强十五日，其家属代为履行全部款项。")
    drafted.pull()
    drafted.draft()
    today = datetime.fromisoformat(NOW).date()
    with drafted.ledger() as ledger:
        every = publishing.standings(ledger, today)
        assert every[FIRST].state == "superseded" and every[FIRST].newest == f"{FIRST}-v2"
        assert {draft_id: publishing.standing(ledger, draft_id, today) for draft_id in every} == every
        assert publishing.standing(ledger, "D-2026-000099", today) is None
