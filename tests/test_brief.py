"""The deputies' monthly brief (执行工作简报, work plan 四(四)): figures, releases, activities, issue numbers.

The ledger is filled the way the office fills it: real .xlsx material pulled,
drafted, approved and published through the public job functions, with the
clock moved between October and December 2026. The expected figures come from
the material the tests wrote and from the ledger read with plain SQL, never
from the code under test. Mail goes to a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import date, datetime

import docx
import openpyxl
import pytest
from conftest import Workspace, material, run_job, write_rows

from pipeline.core.errors import UsageError
from pipeline.core.layout import SUBMISSIONS
from pipeline.flows import brief, decisions, publishing, pulling
from pipeline.flows.brief import BriefBlocked

DEPUTIES = ["王代表 <wang.daibiao@npc.example>", "li.weiyuan@cppcc.example"]
DEPUTY_ADDRESSES = {"wang.daibiao@npc.example", "li.weiyuan@cppcc.example"}
ISSUED = "2026-12-02T09:00:00+08:00"          # the scheduler's slot for November's brief

MEDIA = [
    {"outlet": "《法制时报》", "contact": "张编辑", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是"},
    {"outlet": "儋州电视台", "contact": "王编辑", "email": "tv@media.example", "kinds": "全部", "enabled": "是"},
    {"outlet": "《今日头条》", "contact": "赵编辑", "email": "toutiao@media.example", "kinds": "执行不能",
     "enabled": "是"},
]

# Published on 2026-10-28: October's, not November's.
OCTOBER = material(submitted_at=datetime(2026, 10, 27, 9, 0), title="十月执结买卖合同纠纷 被执行人履行15万元",
                   case_number="（2026）琼9003执801号")
NOVEMBER = [
    material(submitted_at=datetime(2026, 11, 24, 9, 0), team="执行二组", kind="执行不能",
             case_number="（2026）琼9003执902号", title="被执行人下落不明且名下无财产 法院依法终结本次执行",
             facts="申请执行人陈某与被执行人林某民间借贷纠纷一案，判决生效后林某未履行。",
             process="执行干警查询银行、车辆、不动产信息，并多次走访其户籍地，均未发现可供执行的财产。",
             outcome="依法终结本次执行程序，发现财产后恢复执行。"),
    material(submitted_at=datetime(2026, 11, 25, 9, 0), kind="打击拒执", case_number="（2026）琼9003执903号",
             title="拒不申报财产 被执行人被司法拘留十五日"),
    # Valid, but not to be published: submitted, never adopted.
    material(submitted_at=datetime(2026, 11, 23, 11, 0), kind="惩戒失信", case_number="（2026）琼9003执905号",
             title="失信被执行人被限制高消费", publishable="否"),
    # 案情 and 执行过程 missing: not an item the plan counts (四(五)).
    material(submitted_at=datetime(2026, 11, 24, 15, 0), kind="惩戒失信", case_number="（2026）琼9003执904号",
             title="失信被执行人名下房产被拍卖", facts="", process=""),
]
ACTIVITIES = [
    {"date": date(2026, 10, 15), "kind": "代表委员看执行", "name": "十月代表委员座谈"},
    {"date": date(2026, 11, 10), "kind": "新闻发布会", "name": "执行工作新闻发布会"},
    {"date": date(2026, 11, 20), "kind": "代表委员看执行", "name": "邀请代表委员见证集中执行"},
    {"date": date(2026, 12, 10), "kind": "重大执行活动", "name": "冬季集中执行行动", "plan_date": date(2026, 12, 1)},
    {"date": date(2026, 12, 18), "kind": "代表委员看执行", "name": "代表委员见证执行款集中发放"},
    {"date": date(2027, 1, 12), "kind": "新闻发布会", "name": "年度执行工作新闻发布会"},
    {"date": date(2027, 4, 20), "kind": "代表委员看执行", "name": "四月代表委员视察"},
]


def at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    monkeypatch.setenv("PIPELINE_NOW", moment)


def approve_and_publish(workspace: Workspace) -> None:
    settings = workspace.settings
    run_job(settings, publishing.draft)
    with sqlite3.connect(workspace.ledger) as db:
        pending = [r[0] for r in db.execute("SELECT id FROM drafts WHERE state = 'pending'")]
    for draft_id in pending:
        run_job(settings, decisions.review, draft_id, "通过", reviewer="符贤")
    run_job(settings, publishing.publish)


def newsroom(workspace: Workspace, server, monkeypatch: pytest.MonkeyPatch) -> None:
    """October's release, November's material and releases, and the 活动 tab, through the real jobs."""
    server.configure(workspace)
    workspace.configure("deputies", addresses=DEPUTIES)
    at(monkeypatch, "2026-10-28T10:00:00+08:00")
    workspace.make_workbook([OCTOBER], media=MEDIA, activities=ACTIVITIES)
    run_job(workspace.settings, pulling.pull)
    approve_and_publish(workspace)
    at(monkeypatch, "2026-11-26T10:00:00+08:00")
    book = openpyxl.load_workbook(workspace.workbook)
    last = max(r["row"] for r in workspace.rows())
    write_rows(book[SUBMISSIONS.name], SUBMISSIONS, NOVEMBER, start=last + 1)
    book.save(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    approve_and_publish(workspace)
    at(monkeypatch, ISSUED)


def briefs_received(server) -> list:
    """The briefs the server accepted (the media's releases went through it too)."""
    messages = [m.parse() for m in server.handler.messages]
    return [m for m in messages if "执行工作简报" in str(m["Subject"])]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def html(message) -> str:
    return message.get_body(("html",)).get_content()


def attachment(message) -> docx.document.Document:
    (part,) = list(message.iter_attachments())
    return docx.Document(io.BytesIO(part.get_payload(decode=True)))


def docx_text(document) -> str:
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def section(text: str, start: str, end: str | None) -> str:
    """The part of ``text`` from heading ``start`` up to heading ``end``."""
    after = text[text.index(start):]
    return after[:after.index(end)] if end else after


# --- what the brief says ---------------------------------------------------------------

def test_the_briefs_figures_equal_what_the_ledger_holds(workspace, smtp_server, monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    run = run_job(workspace.settings, brief.brief, "2026-11")
    assert run.queued == 2 and run.skipped == ""
    text = body(briefs_received(smtp_server)[0])
    # From the material written above: November's complete rows, and the publishable ones among them.
    complete = [m for m in NOVEMBER if m["facts"] and m["process"]]
    published = [m for m in complete if m["publishable"] == "是"]
    assert "报送案情和执行过程完整的宣传素材 3 条" in text and len(complete) == 3
    assert "向媒体发布（采用）2 篇" in text and len(published) == 2
    assert "- 执行一组：报送 2 条，采用 1 篇" in text
    assert "- 执行二组：报送 1 条，采用 1 篇" in text
    assert "- 执行指挥中心：报送 0 条，采用 0 篇" in text
    kinds = section(text, "按类别", "（二）媒体发布")
    assert "执行不能 报送 1 条、采用 1 篇" in kinds and "打击拒执 报送 1 条、采用 1 篇" in kinds
    assert "惩戒失信 报送 1 条、采用 0 篇" in kinds            # the incomplete row does not count
    assert "执行成功" not in kinds                             # October's kind
    with sqlite3.connect(workspace.ledger) as db:
        valid = dict(db.execute(
            "SELECT team, COUNT(*) FROM submissions WHERE state = 'valid' AND removed_at IS NULL "
            "AND submitted_at >= '2026-11-01' AND submitted_at < '2026-12-01' GROUP BY team").fetchall())
        adopted = dict(db.execute(
            "SELECT s.team, COUNT(DISTINCT d.id) FROM deliveries x JOIN drafts d ON x.key = 'release/' || d.id "
            "JOIN submissions s ON s.id = d.submission_id "
            "WHERE x.state = 'sent' AND x.sent_at LIKE '2026-11-%' GROUP BY s.team").fetchall())
        releases = db.execute("SELECT COUNT(DISTINCT key) FROM deliveries WHERE key LIKE 'release/%' "
                              "AND state = 'sent' AND sent_at LIKE '2026-11-%'").fetchone()[0]
        per_outlet = dict(db.execute("SELECT name, COUNT(*) FROM deliveries WHERE key LIKE 'release/%' "
                                     "AND state = 'sent' AND sent_at LIKE '2026-11-%' GROUP BY name").fetchall())
    for team, count in valid.items():
        assert f"- {team}：报送 {count} 条，采用 {adopted.get(team, 0)} 篇" in text
    assert sum(valid.values()) == 3 and releases == 2
    assert f"向媒体发布执行新闻稿件 {releases} 篇，覆盖媒体 {len(per_outlet)} 家" in text
    for outlet, count in per_outlet.items():
        assert f"- {outlet}：{count} 篇" in text
    assert per_outlet == {"《法制时报》": 2, "儋州电视台": 2, "《今日头条》": 1}
    # The plan's obligations: one visit in November (四(四)), one press conference so far this year (四(二)).
    assert "每月代表委员看执行活动（四(四)）：完成 1 / 应完成 1" in text
    assert "2026年新闻发布会（四(二)，全年至少 2 次）：完成 1 / 应完成 2" in text
    assert "开展代表委员看执行活动 1 次" in text


def test_the_months_releases_are_listed_and_other_months_are_not(workspace, smtp_server, monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    run_job(workspace.settings, brief.brief, "2026-11")
    message = briefs_received(smtp_server)[0]
    listed = section(body(message), "二、本月发布的执行新闻", "三、")
    assert "2026年11月26日　【执行不能】被执行人下落不明且名下无财产 法院依法终结本次执行" in listed
    assert "2026年11月26日　【打击拒执】拒不申报财产 被执行人被司法拘留十五日" in listed
    assert "十月执结买卖合同纠纷" not in body(message) and "十月执结买卖合同纠纷" not in html(message)
    assert "失信被执行人被限制高消费" not in listed                           # not to be published
    october = run_job(workspace.settings, brief.brief, "2026-10", dry_run=True).previews[0]
    assert "十月执结买卖合同纠纷 被执行人履行15万元" in section(october.text, "二、本月发布的执行新闻", "三、")
    assert "拒不申报财产" not in october.text


def test_activities_held_this_month_and_coming_ones_go_to_their_sections(workspace, smtp_server,
                                                                         monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    run_job(workspace.settings, brief.brief, "2026-11")
    text = body(briefs_received(smtp_server)[0])
    held = section(text, "（一）本月活动", "（二）近期安排")
    coming = section(text, "（二）近期安排", "送：")
    assert "11月10日　新闻发布会：执行工作新闻发布会" in held
    assert "11月20日　代表委员看执行：邀请代表委员见证集中执行" in held
    assert "12月18日　代表委员看执行：代表委员见证执行款集中发放" in coming
    assert "1月12日　新闻发布会：年度执行工作新闻发布会" in coming
    assert "十月代表委员座谈" not in text                 # another month's, already past
    assert "四月代表委员视察" not in text                 # beyond the next two months
    assert "冬季集中执行行动" not in text                 # an operation is never announced ahead
    assert "邀请代表委员见证集中执行" not in coming and "代表委员见证执行款集中发放" not in held


# --- the issue number -----------------------------------------------------------------------

def test_issue_numbers_follow_the_months_and_restart_with_each_year(workspace, monkeypatch) -> None:
    workspace.configure("deputies", addresses=DEPUTIES)
    workspace.make_workbook([])
    run_job(workspace.settings, pulling.pull)

    def subject_of(month: str, moment: str) -> str:
        at(monkeypatch, moment)
        run = run_job(workspace.settings, brief.brief, month)
        assert run.queued == 2
        return run.report.results[0][0].subject

    assert "2026年第1期" in subject_of("2026-10", "2026-11-02T09:00:00+08:00")
    assert "2026年第2期" in subject_of("2026-11", "2026-12-02T09:00:00+08:00")
    assert "2026年第3期" in subject_of("2026-12", "2027-01-02T09:00:00+08:00")   # the month's year counts
    assert "2027年第1期" in subject_of("2027-01", "2027-02-02T09:00:00+08:00")
    again = run_job(workspace.settings, brief.brief, "2026-11")
    assert again.queued == 0 and "第2期" in again.skipped
    dry = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True)    # says what the real run says
    assert dry.previews == [] and "2026年11月" in dry.skipped and "第2期" in dry.skipped
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("SELECT month, issue FROM briefs ORDER BY month").fetchall() == [
            ("2026-10", 1), ("2026-11", 2), ("2026-12", 3), ("2027-01", 1)]


# --- once a month, and only when configured ---------------------------------------------------

def test_a_second_run_for_the_same_month_sends_nothing(workspace, smtp_server, monkeypatch) -> None:
    smtp_server.configure(workspace)
    workspace.configure("deputies", addresses=DEPUTIES)
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, ISSUED)
    first = run_job(workspace.settings, brief.brief, "2026-11")
    assert first.queued == 2
    assert sorted(smtp_server.handler.recipients()) == sorted(DEPUTY_ADDRESSES)
    second = run_job(workspace.settings, brief.brief, "2026-11")
    assert second.queued == 0 and "2026年11月执行工作简报（第1期）已经发送过" == second.skipped
    assert len(smtp_server.handler.messages) == 2


def test_a_dry_run_sends_and_records_nothing(workspace, smtp_server, monkeypatch) -> None:
    smtp_server.configure(workspace)
    workspace.configure("deputies", addresses=DEPUTIES)
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, ISSUED)
    with sqlite3.connect(workspace.ledger) as db:
        audit_before = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    preview = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True)
    assert preview.queued == 0 and preview.report is None
    assert {o.recipient for o in preview.previews} == DEPUTY_ADDRESSES
    assert "2026年第1期" in preview.previews[0].subject
    assert run_job(workspace.settings, brief.brief, "2026-11", dry_run=True).previews[0].subject == preview.previews[0].subject
    assert smtp_server.handler.messages == []
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM briefs").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM messages WHERE purpose = 'brief'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audit_before
    sent = run_job(workspace.settings, brief.brief, "2026-11")                  # the real one gets the previewed number
    assert sent.report.results[0][0].subject == preview.previews[0].subject


def test_without_addresses_the_brief_is_skipped_and_nothing_sent(workspace, smtp_server, monkeypatch) -> None:
    smtp_server.configure(workspace)
    workspace.configure("deputies", addresses=[])
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, ISSUED)
    run = run_job(workspace.settings, brief.brief, "2026-11")
    assert run.queued == 0 and run.skipped == "配置 [deputies] addresses 未填写代表委员的邮箱，执行工作简报未发送"
    assert smtp_server.handler.messages == []
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM briefs").fetchone()[0] == 0


def test_with_brief_false_the_brief_is_skipped_and_nothing_sent(workspace, smtp_server, monkeypatch) -> None:
    smtp_server.configure(workspace)
    workspace.configure("deputies", addresses=DEPUTIES, brief=False)
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, ISSUED)
    for dry_run in (True, False):
        run = run_job(workspace.settings, brief.brief, "2026-11", dry_run=dry_run)
        assert run.queued == 0 and run.previews == []
        assert run.skipped == "配置 [deputies] brief = false，不发送代表委员执行工作简报"
    assert smtp_server.handler.messages == []


def test_each_deputy_gets_one_copy_and_the_imprint_counts_them(workspace, smtp_server, monkeypatch) -> None:
    smtp_server.configure(workspace)
    workspace.configure("deputies", addresses=[*DEPUTIES, "Wang.Daibiao@npc.example"])
    workspace.make_workbook([])
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, ISSUED)
    assert run_job(workspace.settings, brief.brief, "2026-11").queued == 2
    assert sorted(smtp_server.handler.recipients()) == sorted(DEPUTY_ADDRESSES)
    text = body(smtp_server.handler.messages[0].parse())
    assert "送：各位全国、省人大代表，政协委员" in text and "（共2份）" in text


def test_a_month_that_is_malformed_or_still_to_come_is_refused(workspace, monkeypatch) -> None:
    workspace.configure("deputies", addresses=DEPUTIES)
    at(monkeypatch, ISSUED)
    for month in ("2026-13", "2026/11", "11", ""):
        with pytest.raises(UsageError, match="YYYY-MM"):
            run_job(workspace.settings, brief.brief, month)
    with pytest.raises(UsageError, match="尚未开始"):
        run_job(workspace.settings, brief.brief, "2027-01")


def test_an_identifier_in_an_activity_name_stops_the_brief(workspace, smtp_server, monkeypatch) -> None:
    smtp_server.configure(workspace)
    workspace.configure("deputies", addresses=DEPUTIES)
    workspace.make_workbook([], activities=[{"date": date(2026, 11, 20), "kind": "代表委员看执行",
                                             "name": "见证执行 联系人13812345678"}])
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, ISSUED)
    with pytest.raises(BriefBlocked, match="活动表"):
        run_job(workspace.settings, brief.brief, "2026-11")
    assert smtp_server.handler.messages == []
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM briefs").fetchone()[0] == 0


# --- the Word document ------------------------------------------------------------------------

def test_the_docx_attachment_opens_and_holds_the_masthead_and_the_sections(workspace, smtp_server,
                                                                           monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    run_job(workspace.settings, brief.brief, "2026-11")
    message = briefs_received(smtp_server)[0]
    (part,) = list(message.iter_attachments())
    assert part.get_filename() == "执行工作简报_2026年第1期.docx"
    document = attachment(message)
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "执行工作简报" and paragraphs[1] == "第1期"
    assert paragraphs[2] == "儋州市人民法院执行局\t2026年12月2日"
    text = docx_text(document)
    for heading in ("一、执行宣传工作情况", "（一）素材报送与采用", "（二）媒体发布", "（三）工作方案任务完成情况",
                    "二、本月发布的执行新闻", "三、代表委员看执行及有关活动", "（一）本月活动", "（二）近期安排",
                    "送：各位全国、省人大代表，政协委员"):
        assert heading in paragraphs
    assert "被执行人下落不明且名下无财产 法院依法终结本次执行" in text
    assert "代表委员见证执行款集中发放" in text
    teams = next(t for t in document.tables if t.cell(0, 0).text == "部门")
    assert [c.text for c in teams.rows[1].cells] == ["执行一组", "2", "1", "0 / 5 周"]


def test_the_editor_named_in_the_config_issues_the_brief(workspace, monkeypatch) -> None:
    workspace.configure("deputies", addresses=DEPUTIES, editor="儋州市人民法院执行局综合办公室")
    at(monkeypatch, ISSUED)
    preview = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True).previews[0]
    document = docx.Document(io.BytesIO(preview.attachments[0].content))
    assert document.paragraphs[2].text.startswith("儋州市人民法院执行局综合办公室\t")
    assert "编印：儋州市人民法院执行局综合办公室" in preview.text
