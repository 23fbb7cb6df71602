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
from pipeline.core.layout import FIGURES, SUBMISSIONS
from pipeline.flows import brief, decisions, publishing, pulling
from pipeline.flows.brief import BriefBlocked
from pipeline.texts import redact

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


# The 数据 tab: the enforcement figures the office enters for each month, with their source.
FIGURE_ROWS = [
    {"month": "2026-10", "metric": "执行结案数", "value": "1100 件", "source": "执行案件流程管理系统"},
    {"month": "2026-11", "metric": "执行结案数", "value": "1236 件", "source": "执行案件流程管理系统"},
    {"month": "2026-11", "metric": "执行到位金额", "value": "2.37 亿元", "source": "执行案件流程管理系统"},
    {"month": "2026年11月", "metric": "失信惩戒人数", "value": 318, "source": "失信被执行人名单库"},
    {"month": "2026-11", "metric": "拒执罪判决数", "value": "4 件", "source": "刑事审判庭统计"},
]


def write_figures(workspace: Workspace, rows: list[dict]) -> None:
    book = openpyxl.load_workbook(workspace.workbook)
    write_rows(book[FIGURES.name], FIGURES, rows)
    book.save(workspace.workbook)


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
    write_figures(workspace, FIGURE_ROWS)
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

def test_the_brief_reports_the_months_enforcement_figures_with_their_source(workspace, smtp_server,
                                                                            monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    run = run_job(workspace.settings, brief.brief, "2026-11")
    assert run.queued == 2 and run.skipped == ""
    message = briefs_received(smtp_server)[0]
    text = body(message)
    figures = section(text, "一、执行工作主要数据", "二、")
    for row in FIGURE_ROWS[1:]:
        assert f"- {row['metric']}：{row['value']}（来源：{row['source']}）" in figures
    assert "1100 件" not in text                                   # October's figure
    for place in (html(message), docx_text(attachment(message))):
        assert "2.37 亿元" in place and "失信被执行人名单库" in place and "1100 件" not in place
    # The typical cases the month published: as many as the ledger says reached the media in November.
    with sqlite3.connect(workspace.ledger) as db:
        releases = db.execute("SELECT COUNT(DISTINCT key) FROM deliveries WHERE key LIKE 'release/%' "
                              "AND state = 'sent' AND sent_at LIKE '2026-11-%'").fetchone()[0]
    assert releases == 2 and f"本月通过新闻媒体公开执行典型案例 {releases} 件" in text


def test_the_brief_holds_no_internal_publicity_quota(workspace, smtp_server, monkeypatch) -> None:
    """The deputies read about enforcement, not the office's weekly quotas or the plan's tallies."""
    newsroom(workspace, smtp_server, monkeypatch)
    run_job(workspace.settings, brief.brief, "2026-11")
    message = briefs_received(smtp_server)[0]
    for place in (body(message), html(message), docx_text(attachment(message))):
        for internal in ("每周任务", "达标", "应完成", "工作方案要求", "报送素材", "采用", "/ 5 周", "执行一组"):
            assert internal not in place, internal


def test_the_months_releases_are_listed_and_other_months_are_not(workspace, smtp_server, monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    run_job(workspace.settings, brief.brief, "2026-11")
    message = briefs_received(smtp_server)[0]
    listed = section(body(message), "二、本月公开的典型案例", "三、")
    assert "2026年11月26日　【执行不能】被执行人下落不明且名下无财产 法院依法终结本次执行" in listed
    assert "2026年11月26日　【打击拒执】拒不申报财产 被执行人被司法拘留十五日" in listed
    assert "十月执结买卖合同纠纷" not in body(message) and "十月执结买卖合同纠纷" not in html(message)
    assert "失信被执行人被限制高消费" not in listed                           # not to be published
    october = run_job(workspace.settings, brief.brief, "2026-10", dry_run=True).previews[0]
    assert "十月执结买卖合同纠纷 被执行人履行15万元" in section(october.text, "二、本月公开的典型案例", "三、")
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
    for heading in ("一、执行工作主要数据", "二、本月公开的典型案例", "三、代表委员看执行及有关活动",
                    "（一）本月活动", "（二）近期安排", "送：各位全国、省人大代表，政协委员"):
        assert heading in paragraphs
    assert "被执行人下落不明且名下无财产 法院依法终结本次执行" in text
    assert "代表委员见证执行款集中发放" in text
    figures = next(t for t in document.tables if t.cell(0, 0).text == "指标")
    assert [c.text for c in figures.rows[1].cells] == ["执行结案数", "1236 件", "执行案件流程管理系统"]


def test_the_editor_named_in_the_config_issues_the_brief(workspace, monkeypatch) -> None:
    workspace.configure("deputies", addresses=DEPUTIES, editor="儋州市人民法院执行局综合办公室")
    at(monkeypatch, ISSUED)
    preview = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True).previews[0]
    document = docx.Document(io.BytesIO(preview.attachments[0].content))
    assert document.paragraphs[2].text.startswith("儋州市人民法院执行局综合办公室\t")
    assert "编印：儋州市人民法院执行局综合办公室" in preview.text


# --- the 数据 tab ------------------------------------------------------------------------------

def test_the_data_tab_is_validated_like_the_other_tabs(workspace, monkeypatch) -> None:
    workspace.configure("deputies", addresses=DEPUTIES)
    workspace.make_workbook([])
    write_figures(workspace, [
        {"month": "2026-11", "metric": "执行结案数", "value": "1236 件", "source": "执行案件流程管理系统"},
        {"month": "2026-11", "metric": "执行到位金额", "value": "很多", "source": "执行案件流程管理系统"},
        {"month": "2026-11", "metric": "失信惩戒人数", "value": "318 人", "source": None},
        {"month": "十一月", "metric": "拒执罪判决数", "value": "4 件", "source": "刑事审判庭统计"},
        {"month": "2026-11", "metric": "执行结案数", "value": "1240 件", "source": "执行案件流程管理系统"},
    ])
    run_job(workspace.settings, pulling.pull)
    status = [r["status"] or "" for r in workspace.rows(FIGURES)]
    assert status[0] == ""
    assert "数值无法识别：很多" in status[1]
    assert "缺少来源" in status[2]
    assert "月份无法识别：十一月" in status[3]
    assert "重复" in status[4] and "第 2 行" in status[4]
    at(monkeypatch, ISSUED)
    preview = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True).previews[0].text
    figures = section(preview, "一、执行工作主要数据", "二、")
    assert "执行结案数：1236 件（来源：执行案件流程管理系统）" in figures
    assert "很多" not in figures and "1240 件" not in figures and "拒执罪判决数" not in figures


def test_a_workbook_without_the_data_tab_still_pulls_and_the_brief_says_the_figures_are_missing(
        workspace, monkeypatch) -> None:
    workspace.configure("deputies", addresses=DEPUTIES)
    workspace.make_workbook([])
    book = openpyxl.load_workbook(workspace.workbook)
    del book[FIGURES.name]                     # a workbook made before the tab existed
    book.save(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, ISSUED)
    preview = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True).previews[0].text
    assert "本月执行工作数据尚未录入" in section(preview, "一、执行工作主要数据", "二、")


# --- never for a month that has not ended; an early brief is superseded ---------------------------

def test_a_month_that_has_not_ended_gets_no_brief(workspace, smtp_server, monkeypatch) -> None:
    smtp_server.configure(workspace)
    workspace.configure("deputies", addresses=DEPUTIES)
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    at(monkeypatch, "2026-11-29T10:00:00+08:00")
    for dry_run in (True, False):
        with pytest.raises(UsageError, match="2026年11月尚未结束"):
            run_job(workspace.settings, brief.brief, "2026-11", dry_run=dry_run)
    result = workspace.cli("brief", "--month", "2026-11")
    assert result.returncode == 2
    assert "2026年11月尚未结束，不能编发该月的简报" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert smtp_server.handler.messages == []
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM briefs").fetchone()[0] == 0
    at(monkeypatch, "2026-12-01T00:30:00+08:00")                   # the month has ended
    assert run_job(workspace.settings, brief.brief, "2026-11").queued == 2


def early_brief(workspace: Workspace, month: str = "2026-11", moment: str = "2026-11-29T10:00:00+08:00") -> None:
    """What a ledger from before the month-end rule holds after ``brief --month 2026-11`` on 29 November."""
    with sqlite3.connect(workspace.ledger) as db:
        db.execute("INSERT INTO briefs (month, year, issue, created_at) VALUES (?, 2026, 1, ?)", (month, moment))
        db.execute("INSERT INTO messages (key, purpose, period, subject, created_at, what, item) "
                   "VALUES (?, 'brief', ?, '儋州市人民法院执行工作简报（2026年第1期）', ?, 'brief', ?)",
                   (f"brief/{month}", month, moment, month))
        for recipient in DEPUTY_ADDRESSES:
            db.execute("INSERT INTO deliveries (key, recipient, name, subject, state, queued_at, updated_at, sent_at) "
                       "VALUES (?, ?, '', '儋州市人民法院执行工作简报（2026年第1期）', 'sent', ?, ?, ?)",
                       (f"brief/{month}", recipient, moment, moment, moment))


def test_a_brief_sent_before_its_month_ended_is_superseded_by_the_full_one(workspace, smtp_server,
                                                                            monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    early_brief(workspace)
    dry = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True)
    assert dry.previews and "第2期" in dry.previews[0].subject

    result = workspace.cli("brief", env={"PIPELINE_NOW": ISSUED})      # the month before, by default

    assert result.returncode == 0, result.stderr
    received = briefs_received(smtp_server)
    assert sorted(r for m in smtp_server.handler.messages if "执行工作简报" in subject_of(m) for r in m.rcpt_tos) \
        == sorted(DEPUTY_ADDRESSES)
    message = received[0]
    assert "2026年第2期" in str(message["Subject"]) and "取代第1期" in str(message["Subject"])
    text = body(message)
    assert "取代2026年11月29日印发的第1期" in text and "请以本期为准" in text
    assert "取代2026年11月29日印发的第1期" in docx_text(attachment(message))
    assert "执行结案数：1236 件" in text
    again = run_job(workspace.settings, brief.brief, "2026-11")
    assert again.queued == 0 and again.skipped == "2026年11月执行工作简报（第2期）已经发送过"
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("SELECT month, issue, replaces FROM briefs ORDER BY issue").fetchall() == [
            ("2026-11", 1, None), ("2026-11", 2, 1)]
    # The next month's brief continues the year's numbers.
    at(monkeypatch, "2027-01-04T09:00:00+08:00")
    assert "2026年第3期" in run_job(workspace.settings, brief.brief, "2026-12").report.results[0][0].subject


def subject_of(received) -> str:
    return str(received.parse()["Subject"])


def test_a_brief_sent_after_its_month_ended_is_not_sent_again(workspace, smtp_server, monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    early_brief(workspace, moment="2026-12-01T09:00:00+08:00")
    run = run_job(workspace.settings, brief.brief, "2026-11")
    assert run.queued == 0 and "第1期" in run.skipped and briefs_received(smtp_server) == []


# --- the text message version ---------------------------------------------------------------------

def sms_file(workspace: Workspace, name: str) -> list[str]:
    """The messages of an SMS file the office opens, one per entry."""
    content = (workspace.settings.mail.outbox / "sms" / f"{name}.txt").read_text(encoding="utf-8-sig")
    lines = content.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line.startswith("—— 第 ")]


def test_a_text_message_version_is_written_beside_the_brief(workspace, smtp_server, monkeypatch) -> None:
    newsroom(workspace, smtp_server, monkeypatch)
    workspace.configure("court", contact="联系人：高琼芳　电话：0898-23300000")
    run = run_job(workspace.settings, brief.brief, "2026-11")
    assert any("短信版本" in note for note in run.notes)
    messages = sms_file(workspace, "执行工作简报_2026年第1期")
    assert messages and all(len(m) <= 140 for m in messages)
    joined = "".join(messages)
    assert all(m.startswith("【儋州市人民法院】") for m in messages)
    assert "执行结案数1236 件" in joined and "执行到位金额2.37 亿元" in joined
    assert "0898-23300000" in joined
    for deputy in ("王代表", "wang.daibiao", "li.weiyuan"):
        assert deputy not in joined
    redact.check([("短信", m) for m in messages], allowed=redact.own_numbers("0898-23300000"))
    assert not (workspace.settings.mail.outbox / "sms" / "执行工作简报_2026年第2期.txt").exists()


def test_a_long_text_message_is_cut_into_numbered_parts_of_at_most_140_characters() -> None:
    from pipeline.texts import sms
    body = "，".join(f"第{i}项指标数值为{i * 100}件" for i in range(1, 30)) + "。"
    parts = sms.messages("儋州市人民法院", body, "联系电话：0898-23300000")
    assert len(parts) > 1 and all(len(p) <= 140 for p in parts)
    assert parts[0].endswith(f"（1/{len(parts)}）") and parts[-1].endswith(f"（{len(parts)}/{len(parts)}）")
    assert "0898-23300000" in parts[-1]
