"""Invitations to the deputies' visits (work plan 四(四)): drafted, reviewed, sent once, kept in step with 活动.

Everything goes through the public functions of ``pipeline.invitations``: a real
workbook's 活动 tab read by ``pulling.pull``, the ledger they leave, and what a
real SMTP server on 127.0.0.1 (tests/smtp_server.py) received.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import openpyxl
import pytest
from conftest import Workspace, run_job, write_rows

from pipeline.core import clock
from pipeline.core.errors import UsageError
from pipeline.core.layout import ACTIVITIES, REPLIES, REVIEWS
from pipeline.flows import decisions, invitations, pulling, week
from pipeline.ledger import Ledger
from pipeline.texts import redact

OFFICE = "office@court.example"                      # the default config's office
DEPUTIES = ("王代表 <wang@npc.example>", "李委员 <li@cppcc.example>")
DEPUTY_EMAILS = {"wang@npc.example", "li@cppcc.example"}
FIRST, SECOND = "I-2026-000001", "I-2026-000002"
VISIT = {"date": date(2026, 12, 3), "kind": "代表委员看执行", "name": "走进执行一线 见证执行"}   # a Thursday


def delete_activity(workspace: Workspace, row: int) -> None:
    book = openpyxl.load_workbook(workspace.workbook)
    book[ACTIVITIES.name].delete_rows(row)
    book.save(workspace.workbook)


class Office:
    """A workspace that mails through the test SMTP server, with the deputies' addresses configured."""

    def __init__(self, workspace: Workspace, server) -> None:
        self.ws, self.handler = workspace, server.handler
        server.configure(workspace)
        workspace.configure("deputies", addresses=list(DEPUTIES))

    @property
    def settings(self):
        return self.ws.settings

    def sheet(self, *activities: dict[str, Any]) -> None:
        self.ws.make_workbook([], activities=list(activities))
        run_job(self.settings, pulling.pull)

    def pull(self) -> None:
        run_job(self.settings, pulling.pull)

    def draft(self, **kwargs: Any) -> invitations.InvitationRun:
        return run_job(self.settings, invitations.draft_invitations, **kwargs)

    def send(self, **kwargs: Any) -> invitations.InvitationRun:
        return run_job(self.settings, invitations.send_invitations, **kwargs)

    def approve(self, invitation_id: str = FIRST, by: str = "符贤") -> str:
        return run_job(self.settings, decisions.review, invitation_id, "通过", reviewer=by)

    def reject(self, invitation_id: str = FIRST, reason: str = "活动细节待定") -> str:
        return run_job(self.settings, decisions.review, invitation_id, "退回", reviewer="高琼芳", comment=reason)

    def mark(self) -> int:
        return len(self.handler.messages)

    def since(self, mark: int = 0):
        return self.handler.messages[mark:]

    def row(self, invitation_id: str = FIRST):
        with Ledger(self.ws.ledger) as ledger:
            return ledger.invitation(invitation_id)

    def state(self, invitation_id: str = FIRST) -> str | None:
        row = self.row(invitation_id)
        return row["state"] if row else None

    def ids(self) -> list[str]:
        with Ledger(self.ws.ledger) as ledger:
            return [r["id"] for r in ledger.invitations()]


def recipients(messages) -> list[str]:
    return sorted(r for m in messages for r in m.rcpt_tos)


def subject(received) -> str:
    return str(received.parse()["Subject"])


def body(received) -> str:
    return received.parse().get_body(("plain",)).get_content()


@pytest.fixture
def office(workspace, smtp_server) -> Office:
    return Office(workspace, smtp_server)


@pytest.fixture
def drafted(office) -> Office:
    """The visit of 3 December on the 活动 tab (row 2), pulled and drafted as I-2026-000001."""
    office.sheet(VISIT)
    assert office.draft().drafted == [FIRST]
    return office


@pytest.fixture
def approved(drafted) -> Office:
    drafted.approve()
    return drafted


# --- drafting ------------------------------------------------------------------------

def test_a_planned_visit_gets_one_invitation_mailed_to_the_office_for_review(office) -> None:
    office.sheet(VISIT)

    run = office.draft()

    assert run.drafted == [FIRST]
    [mail] = office.since()
    assert mail.rcpt_tos == [OFFICE]
    assert FIRST in subject(mail) and "待审邀请函" in subject(mail)
    text = body(mail)
    # Each deputy gets a letter of their own: the office reviews it with the greeting to be filled in.
    assert "尊敬的〔代表委员〕" in text and "尊敬的各位" not in text and "2026年12月3日（星期四）" in text
    assert f"python run.py approve {FIRST} --by" in text and f"python run.py reject {FIRST}" in text
    assert "审核" in text and "通过 或 退回" in text
    assert "wang@npc.example" in text and "li@cppcc.example" in text   # who will receive it
    assert office.state() == "pending"


def test_a_second_draft_run_drafts_nothing_and_mails_nothing(drafted) -> None:
    mark = drafted.mark()

    run = drafted.draft()

    assert run.drafted == [] and drafted.since(mark) == []
    assert drafted.ids() == [FIRST]


def test_the_letter_is_a_formal_invitation_signed_and_dated_by_the_court(drafted) -> None:
    row = drafted.row()
    court = drafted.settings.court

    assert row["subject"].startswith(court.name) and "2026年12月3日" in row["subject"]
    letter = row["text"]
    assert letter.index("尊敬的〔代表委员〕") < letter.index("代表委员看执行、谈执行")
    for phrase in ("走进执行一线 见证执行", "2026年12月3日（星期四）", "了解执行工作", "见证执行", "意见建议",
                   "回复", court.contact):
        assert phrase in letter, phrase
    assert letter.rstrip().endswith(f"{court.name}\n2026年11月26日")
    assert "尊敬的〔代表委员〕" in row["html"] and "2026年12月3日" in row["html"]
    assert FIRST not in letter and "审核" not in letter     # the office's notes stay out of the letter


def test_a_visit_without_a_name_is_still_invited_to(office) -> None:
    office.sheet({**VISIT, "name": None})

    office.draft()

    assert "活动名称：代表委员看执行、谈执行" in office.row()["text"]


def test_two_identical_rows_are_one_visit_and_get_one_invitation(office) -> None:
    office.sheet(VISIT, VISIT)

    assert office.draft().drafted == [FIRST]


def test_a_visit_today_is_invited_to_and_a_past_visit_is_not(office) -> None:
    office.sheet({**VISIT, "date": date(2026, 11, 26)}, {**VISIT, "date": date(2026, 11, 25), "name": "上周的活动"})

    run = office.draft()

    assert run.drafted == [FIRST]
    assert office.row()["activity_day"] == "2026-11-26"


def test_other_activity_kinds_get_no_invitation(office) -> None:
    office.sheet({"date": date(2026, 12, 10), "kind": "新闻发布会", "name": "执行工作新闻发布会"},
                 {"date": date(2026, 12, 11), "kind": "重大执行活动", "name": "集中执行行动",
                  "plan_date": date(2026, 12, 1)})

    run = office.draft()

    assert run.drafted == [] and office.since() == [] and office.ids() == []


def test_invitations_false_drafts_nothing(office) -> None:
    office.ws.configure("deputies", invitations=False)
    office.sheet(VISIT)

    run = office.draft()

    assert run.drafted == [] and office.since() == [] and office.ids() == []
    assert any("invitations = false" in m for m in run.messages)


def test_a_dry_run_previews_the_office_mail_and_records_nothing(office) -> None:
    office.sheet(VISIT)

    run = office.draft(dry_run=True)

    assert run.drafted == [FIRST] and [p.recipient for p in run.previews] == [OFFICE]
    assert office.since() == [] and office.ids() == []
    assert office.draft().drafted == [FIRST]     # the real run still takes the first ID


def test_the_serial_restarts_with_the_year_of_drafting(office, monkeypatch) -> None:
    office.sheet(VISIT, {**VISIT, "date": date(2027, 1, 14), "name": "一月看执行"})
    office.draft()
    monkeypatch.setenv("PIPELINE_NOW", "2027-01-04T10:00:00+08:00")
    office.sheet({**VISIT, "date": date(2027, 1, 14), "name": "一月看执行"}, {**VISIT, "date": date(2027, 1, 28)})

    run = office.draft()

    assert run.drafted == ["I-2027-000001"]


# --- review and sending --------------------------------------------------------------

def test_approving_sends_the_invitation_once_to_every_deputy_each_alone(drafted) -> None:
    note = drafted.approve()
    assert "2 位代表委员" in note
    mark = drafted.mark()

    run = drafted.send()

    assert run.sent == [FIRST]
    sent = drafted.since(mark)
    assert recipients(sent) == sorted(DEPUTY_EMAILS)
    assert all(len(m.rcpt_tos) == 1 for m in sent)
    row = drafted.row()
    for message in sent:
        assert subject(message) == row["subject"]
        # One deputy, greeted by name (the config's display name), never 各位.
        name = message.parse()["To"].addresses[0].display_name
        assert f"尊敬的{name}：" in body(message) and "尊敬的各位" not in body(message)
        assert message.parse()["To"].addresses[0].addr_spec == message.rcpt_tos[0]
    assert {m.parse()["To"].addresses[0].display_name for m in sent} == {"王代表", "李委员"}
    assert row["state"] == "sent" and row["sent_at"] and row["decided_by"] == "符贤"


def test_a_second_send_run_sends_nothing(approved) -> None:
    approved.send()
    mark = approved.mark()

    run = approved.send()

    assert run.sent == [] and approved.since(mark) == []
    assert approved.draft().drafted == []      # a sent invitation is live: no new draft either


def test_sending_nothing_approved_sends_nothing(drafted) -> None:
    mark = drafted.mark()

    run = drafted.send()

    assert run.sent == [] and drafted.since(mark) == [] and drafted.state() == "pending"


def test_a_rejected_invitation_is_never_sent_and_not_redrafted(drafted) -> None:
    assert "不会发出" in drafted.reject()
    mark = drafted.mark()

    assert drafted.send().sent == [] and drafted.draft().drafted == []

    assert drafted.since(mark) == []
    row = drafted.row()
    assert row["state"] == "rejected" and row["reason"] == "活动细节待定" and row["decided_by"] == "高琼芳"


def test_a_rejected_invitation_may_still_be_approved_and_then_goes_out(drafted) -> None:
    drafted.reject()
    drafted.approve()

    assert drafted.send().sent == [FIRST]


def test_the_review_tab_path_records_the_decision_through_the_one_lifecycle(drafted) -> None:
    now = clock.now(drafted.settings.timezone)
    with Ledger(drafted.ws.ledger) as ledger:
        assert {i: s.state for i, s in decisions.states(ledger, now).items() if i.startswith("I-")} == {FIRST: "pending"}
        with ledger.transaction():
            decisions.apply(ledger, FIRST, "通过", "王小露", "", source="sheet", at=now)
        assert {i: s.state for i, s in decisions.states(ledger, now).items() if i.startswith("I-")} == {FIRST: "approved"}
        [decision] = ledger.decisions(FIRST)
    assert (decision["decision"], decision["reviewer"], decision["source"]) == ("通过", "王小露", "sheet")


def test_a_review_row_on_the_sheet_approves_an_invitation_and_the_next_send_delivers_it(drafted) -> None:
    book = openpyxl.load_workbook(drafted.ws.workbook)
    write_rows(book[REVIEWS.name], REVIEWS, [{"draft_id": FIRST.lower(), "decision": "通过", "reviewer": "赵刚",
                                             "code": drafted.ws.review_code(FIRST).lower()}])
    book.save(drafted.ws.workbook)

    drafted.pull()

    assert drafted.state() == "approved" and drafted.row()["decided_by"] == "赵刚"
    assert drafted.send().sent == [FIRST]


@pytest.mark.parametrize("wanted, reason", [("I-2026-000099", "不存在"), ("D-2026-000001", "不存在")])
def test_an_unknown_id_gives_a_clear_usage_error(drafted, wanted, reason) -> None:
    with pytest.raises(UsageError, match=reason):
        drafted.approve(wanted)


def test_a_lowercase_id_is_understood(drafted) -> None:
    drafted.approve(FIRST.lower())

    assert drafted.state() == "approved"


def test_approving_twice_is_refused(approved) -> None:
    with pytest.raises(UsageError, match="已经通过审核"):
        approved.approve()


def test_a_decision_other_than_pass_or_return_is_refused(drafted) -> None:
    with pytest.raises(UsageError, match="通过.*退回"):
        run_job(drafted.settings, decisions.review, FIRST, "同意", reviewer="符贤")
    assert drafted.state() == "pending"


def test_an_invitation_already_sent_cannot_be_decided_again(approved) -> None:
    approved.send()

    with pytest.raises(UsageError, match="已于.*发给代表委员"):
        approved.reject()
    assert approved.state() == "sent"


# --- keeping in step with the 活动 tab ---------------------------------------------------

def test_changing_the_date_withdraws_the_old_invitation_and_drafts_a_new_one(drafted) -> None:
    drafted.ws.edit(ACTIVITIES, 2, date=date(2026, 12, 10))
    drafted.pull()
    assert drafted.state(FIRST) == "withdrawn"          # the pull that read the change withdrew it
    mark = drafted.mark()

    run = drafted.draft()

    assert run.drafted == [SECOND]
    assert drafted.state(FIRST) == "withdrawn" and drafted.state(SECOND) == "pending"
    assert "2026年12月10日" in drafted.row(SECOND)["text"]
    assert "请以本函为准" not in drafted.row(SECOND)["text"]     # the old one never reached the deputies
    [mail] = drafted.since(mark)
    assert SECOND in subject(mail) and mail.rcpt_tos == [OFFICE]


def test_changing_the_name_of_an_approved_visit_withdraws_it_and_it_is_never_sent(approved) -> None:
    approved.ws.edit(ACTIVITIES, 2, name="代表委员见证集中执行")
    approved.pull()
    mark = approved.mark()

    assert approved.send().sent == []
    run = approved.draft()

    assert approved.state(FIRST) == "withdrawn" and run.drafted == [SECOND]
    assert not DEPUTY_EMAILS & set(recipients(approved.since(mark)))


def test_removing_the_visit_withdraws_its_invitation(drafted) -> None:
    delete_activity(drafted.ws, 2)
    drafted.pull()

    assert drafted.state() == "withdrawn"
    assert drafted.draft().drafted == []


def test_a_withdrawn_invitation_cannot_be_approved(drafted) -> None:
    delete_activity(drafted.ws, 2)
    drafted.pull()

    with pytest.raises(UsageError, match="撤回"):
        drafted.approve()
    assert drafted.state() == "withdrawn"


def test_a_visit_moved_after_its_invitation_was_sent_gets_a_corrected_invitation(approved) -> None:
    approved.send()
    approved.ws.edit(ACTIVITIES, 2, date=date(2026, 12, 10))
    approved.pull()
    mark = approved.mark()

    run = approved.draft()

    assert run.drafted == [SECOND] and run.alerts == []
    assert approved.state(FIRST) == "sent"
    new = approved.row(SECOND)
    assert new["previous"] == FIRST
    assert "2026年12月3日" in new["text"] and "请以本函为准" in new["text"]
    [mail] = approved.since(mark)
    assert f"本函取代邀请函 {FIRST}" in body(mail)
    approved.approve(SECOND)
    approved.send()
    assert recipients(approved.since(mark + 1)) == sorted(DEPUTY_EMAILS)


def test_removing_a_visit_after_its_invitation_was_sent_tells_the_office_once(approved) -> None:
    approved.send()
    delete_activity(approved.ws, 2)
    approved.pull()
    mark = approved.mark()

    first, second = approved.draft(), approved.draft()

    assert first.alerts == [FIRST] and second.alerts == []
    [alert] = approved.since(mark)
    assert alert.rcpt_tos == [OFFICE] and FIRST in subject(alert) and "通知受邀的代表委员" in body(alert)
    assert approved.state() == "sent"


# --- expiry --------------------------------------------------------------------------

def test_a_visit_whose_day_passed_before_approval_expires_and_is_never_sent(drafted, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-04T09:00:00+08:00")
    mark = drafted.mark()

    run = drafted.draft()

    assert run.expired == [FIRST] and run.drafted == []
    with pytest.raises(UsageError, match="已过"):
        drafted.approve()
    assert drafted.send().sent == []
    assert drafted.state() == "expired" and drafted.since(mark) == []


def test_an_approved_invitation_whose_day_passed_unsent_expires_at_the_send_run(approved, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-04T09:00:00+08:00")
    mark = approved.mark()

    run = approved.send()

    assert run.expired == [FIRST] and run.sent == []
    assert approved.state() == "expired" and approved.since(mark) == []
    with pytest.raises(UsageError, match="已过"):
        approved.reject()


def test_on_the_day_of_the_visit_an_approved_invitation_still_goes_out(approved, monkeypatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", "2026-12-03T08:00:00+08:00")

    assert approved.send().sent == [FIRST]


# --- no deputy addresses -----------------------------------------------------------------

def test_without_deputy_addresses_the_invitation_is_drafted_with_a_warning(office) -> None:
    office.ws.configure("deputies", addresses=[])
    office.sheet(VISIT)

    run = office.draft()

    assert run.drafted == [FIRST]
    [mail] = office.since()
    assert mail.rcpt_tos == [OFFICE] and "[deputies] addresses" in body(mail)
    assert any("[deputies] addresses" in m for m in run.messages)


def test_without_deputy_addresses_an_approved_invitation_waits_and_nothing_is_lost(office) -> None:
    office.ws.configure("deputies", addresses=[])
    office.sheet(VISIT)
    office.draft()
    assert "[deputies] addresses" in office.approve()
    mark = office.mark()

    run = office.send()

    assert run.sent == [] and run.held == [FIRST] and office.since(mark) == []
    assert office.state() == "approved"
    assert any(FIRST in m and "[deputies] addresses" in m for m in run.messages)

    office.ws.configure("deputies", addresses=list(DEPUTIES))
    assert office.send().sent == [FIRST]
    assert recipients(office.since(mark)) == sorted(DEPUTY_EMAILS)


def test_an_invitation_that_carries_a_phone_number_never_reaches_a_deputy(office) -> None:
    """The deputies' mail leaves the court: it passes the same last guard as the media's."""
    office.sheet({**VISIT, "name": "走进执行一线 联系人手机13907561234"})
    office.draft()
    office.approve()
    mark = office.mark()

    run = office.send()

    assert [m for m in office.since(mark) if set(m.rcpt_tos) & DEPUTY_EMAILS] == []
    assert run.report is not None and run.report.blocked
    with Ledger(office.ws.ledger) as ledger:
        states = {r["state"] for r in ledger.db.execute(
            "SELECT state FROM deliveries WHERE key = ?", (f"invitation/{FIRST}",))}
    assert states == {"blocked"}


def test_one_invitations_standing_is_what_the_whole_list_says_of_it(drafted) -> None:
    now = clock.now(drafted.settings.timezone)
    with Ledger(drafted.ws.ledger) as ledger:
        every = invitations.standings(ledger, now.date())
        assert list(every) == [FIRST]
        assert invitations.standing(ledger, FIRST, now.date()) == every[FIRST]
        later = invitations.standing(ledger, FIRST, date(2027, 1, 1))
        assert later.state == "expired"
        assert invitations.standing(ledger, "I-2026-000099", now.date()) is None


# --- time, place, contact; who was invited; the text message -----------------------------------

def test_the_letter_says_the_time_and_the_place_and_names_the_courts_contact(office) -> None:
    office.ws.configure("court", contact="联系人：高琼芳　电话：0898-23300000")
    office.sheet({**VISIT, "time": "上午9:30", "place": "儋州市人民法院执行指挥中心"})

    office.draft()

    letter = office.row()["text"]
    assert "二、活动时间：2026年12月3日（星期四）上午9:30" in letter
    assert "三、活动地点：儋州市人民法院执行指挥中心" in letter
    assert "联系方式：联系人：高琼芳　电话：0898-23300000" in letter
    assert "另行通知" not in letter
    assert "儋州市人民法院执行指挥中心" in office.row()["html"] and "上午9:30" in office.row()["html"]


def test_a_letter_without_time_or_place_says_they_will_follow(office) -> None:
    office.sheet(VISIT)

    office.draft()

    letter = office.row()["text"]
    assert "二、活动时间：2026年12月3日（星期四），具体时间另行通知" in letter
    assert "三、活动地点：另行通知" in letter


def test_an_excel_time_cell_is_read_as_the_clock_time(office) -> None:
    from datetime import time
    office.sheet({**VISIT, "time": time(14, 30), "place": "第三法庭"})

    office.draft()

    assert "2026年12月3日（星期四）14:30" in office.row()["text"]


def test_a_deputy_without_a_display_name_is_greeted_as_a_deputy(office) -> None:
    office.ws.configure("deputies", addresses=["zhao@npc.example"])
    office.sheet(VISIT)
    office.draft()
    office.approve()
    mark = office.mark()

    office.send()

    [message] = office.since(mark)
    assert "尊敬的代表委员：" in body(message) and "〔" not in body(message)
    assert "尊敬的代表委员" in message.parse().get_body(("html",)).get_content()


def test_status_and_the_digest_say_who_was_invited(approved) -> None:
    approved.send()

    status = approved.ws.cli("status", check=True).stdout
    assert "已发出的邀请函" in status and FIRST in status
    assert "王代表（wang@npc.example）" in status and "李委员（li@cppcc.example）" in status
    import json
    data = json.loads(approved.ws.cli("status", "--json", check=True).stdout)
    [entry] = data["invited"]
    assert entry["id"] == FIRST and {r["address"] for r in entry["recipients"]} == DEPUTY_EMAILS
    mark = approved.mark()
    run_job(approved.settings, week.digest, force=True)
    [digest] = [m for m in approved.since(mark) if "日报" in subject(m) or m.rcpt_tos == [OFFICE]]
    text = body(digest)
    assert "已发出的邀请函" in text and "王代表（wang@npc.example）" in text and FIRST in text


def test_a_text_message_version_is_written_beside_each_invitation_sent(office) -> None:
    office.ws.configure("court", contact="联系人：高琼芳　电话：0898-23300000")
    office.sheet({**VISIT, "time": "9:30", "place": "儋州市人民法院执行指挥中心"})
    office.draft()
    office.approve()

    run = office.send()

    path = office.settings.mail.outbox / "sms" / f"邀请函_{FIRST}.txt"
    assert any(str(path) in m for m in run.messages)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    messages = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("—— 第 ")]
    assert messages and all(len(m) <= 140 for m in messages)
    joined = "".join(messages)
    assert "2026年12月3日（星期四）9:30" in joined and "儋州市人民法院执行指挥中心" in joined
    assert "0898-23300000" in joined
    for personal in ("王代表", "李委员", "wang@", "li@"):
        assert personal not in joined
    redact.check([("短信", m) for m in messages], allowed=redact.own_numbers("0898-23300000"))
    assert not office.send(dry_run=True).sent    # nothing left to send; the dry run writes nothing either


# --- the deputies' answers (回执 tab) --------------------------------------------------


def reply(office: Office, row: int, invitation: str = FIRST, deputy: str = "王代表", answer: str = "参加",
          note: str = "") -> None:
    office.ws.edit(REPLIES, row, invitation_id=invitation, deputy=deputy, answer=answer, note=note)


def reply_status(office: Office) -> list[str]:
    return [r.get("status") or "" for r in office.ws.rows(REPLIES)]


def answered(office: Office, *rows: dict[str, str]) -> list[str]:
    """The invitation sent, then the office's 回执 rows (from row 2) pulled: each row's 状态."""
    office.send()
    for number, row in enumerate(rows, start=2):
        reply(office, number, **row)
    office.pull()
    return reply_status(office)


def test_the_office_records_who_replied_and_status_and_the_digest_show_each_answer(approved) -> None:
    assert answered(approved, {"deputy": "王代表", "answer": "出席"},
                    {"deputy": "LI@cppcc.example", "answer": "请假", "note": "外出调研"}) == ["已登记", "已登记"]
    status = approved.ws.cli("status", check=True).stdout
    assert "王代表（wang@npc.example）参加" in status
    assert "李委员（li@cppcc.example）不参加（外出调研）" in status
    assert "；回执：参加 1 人、不参加 1 人" in status
    import json
    [entry] = json.loads(approved.ws.cli("status", "--json", check=True).stdout)["invited"]
    assert {r["address"]: r["answer"] for r in entry["recipients"]} == {
        "wang@npc.example": "参加", "li@cppcc.example": "不参加"}
    mark = approved.mark()
    run_job(approved.settings, week.digest, force=True)
    [digest] = [m for m in approved.since(mark) if m.rcpt_tos == [OFFICE]]
    assert "王代表（wang@npc.example）参加" in body(digest) and "；回执：参加 1 人、不参加 1 人" in body(digest)


def test_until_a_deputy_answers_the_office_sees_who_has_not(approved) -> None:
    answered(approved, {"deputy": "王代表", "answer": "待定"})

    status = approved.ws.cli("status", check=True).stdout
    assert "王代表（wang@npc.example）待定" in status and "李委员（li@cppcc.example）未回复" in status
    assert "；回执：待定 1 人、未回复 1 人" in status


def test_a_later_answer_replaces_an_earlier_one_and_the_earlier_row_says_so(approved) -> None:
    assert answered(approved, {"deputy": "王代表", "answer": "参加"},
                    {"deputy": "wang@npc.example", "answer": "不能参加", "note": "临时有会"}) == [
        "已被第 3 行的回复取代", "已登记"]
    status = approved.ws.cli("status", check=True).stdout
    assert "王代表（wang@npc.example）不参加（临时有会）" in status


@pytest.mark.parametrize(("invitation", "deputy", "answer", "message"), [
    ("I-2026-000009", "王代表", "参加", "没有编号为 I-2026-000009 的邀请函"),
    ("D-2026-000001", "王代表", "参加", "邀请编号格式有误：D-2026-000001（如 I-2026-000003）"),
    (FIRST, "张代表", "参加", "邀请函 I-2026-000001 没有发给“张代表”（收件人：王代表、李委员）"),
    (FIRST, "王代表", "也许吧", "回复无法识别：也许吧（应为 参加 / 不参加 / 待定）"),
    (FIRST, "", "参加", "缺少代表委员"),
])
def test_a_reply_row_that_cannot_count_says_why_and_records_nothing(approved, invitation, deputy, answer,
                                                                     message) -> None:
    assert answered(approved, {"invitation": invitation, "deputy": deputy, "answer": answer}) == [message]
    with Ledger(approved.ws.ledger) as ledger:
        assert any(e["tab_key"] == "replies" and message in e["message"] for e in ledger.row_errors())
    status = approved.ws.cli("status", check=True).stdout
    assert "；回执：未回复 2 人" in status


def test_a_reply_entered_before_the_invitation_went_out_counts_once_it_has(approved) -> None:
    reply(approved, 2, deputy="王代表", answer="参加")
    approved.pull()
    assert reply_status(approved) == ["邀请函 I-2026-000001 尚未发给代表委员"]

    approved.send()
    approved.pull()                       # the workbook did not change; what the ledger knows did

    assert reply_status(approved) == ["已登记"]
    assert "王代表（wang@npc.example）参加" in approved.ws.cli("status", check=True).stdout


def test_the_draft_mail_tells_the_office_where_to_record_the_answers(office) -> None:
    mark = office.mark()
    office.sheet(VISIT)
    office.draft()

    [draft] = office.since(mark)
    assert "“回执”页" in body(draft) and f"邀请编号 {FIRST}" in body(draft)
