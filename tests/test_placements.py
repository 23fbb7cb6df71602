"""Results reported upward (四(六) 宣传成效) and the columns of 四(二).

The 刊发 tab records where a published release ran (the office fills it; 状态 says what is wrong with a
row); the 媒体 tab says each outlet's 级别 and the column (专栏) it runs with its cadence. The weekly and
monthly summaries show where the releases ran by type and by level, and each column's periods owed and
filled; check and the digest say when a column has no piece in its current period. Everything runs through
the real jobs on a real workbook; the clock is pinned on Thursday 26 November 2026 (ISO week 48) unless a
test moves it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from email import policy
from email.parser import BytesParser

import openpyxl
import pytest
from conftest import Workspace, material, run_job, write_rows

from pipeline.core.layout import MEDIA, PLACEMENTS, SUBMISSIONS
from pipeline.flows import decisions, publishing, pulling, summaries, week
from pipeline.ledger import Ledger

NEWSROOM = [
    {"outlet": "《今日儋州》", "email": "jinri@media.example", "kinds": "全部", "enabled": "是", "type": "报纸",
     "level": "本地", "column": "执行在线", "cadence": "周刊"},
    {"outlet": "儋州电视台", "email": "tv@media.example", "kinds": "全部", "enabled": "是", "type": "电视台",
     "level": "市级", "column": "执行进行时", "cadence": "双周"},
    {"outlet": "《法制时报》", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是", "type": "报",
     "level": "省"},
]
HEADLINE = "拖欠货款三年 被执行人主动履行28万元"
NOW_W48 = "2026-11-26T10:00:00+08:00"


def at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    monkeypatch.setenv("PIPELINE_NOW", moment)


def published(workspace: Workspace, *, media: list[dict] = NEWSROOM, extra: list[dict] = ()) -> None:
    """One release (D-2026-000001) approved and published to ``media`` now; ``extra`` rows stay drafts."""
    workspace.make_workbook([material(), *extra], media=media)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    run_job(workspace.settings, decisions.review, "D-2026-000001", "通过", reviewer="符贤")
    run_job(workspace.settings, publishing.publish)


def record(workspace: Workspace, rows: list[dict]) -> list[str]:
    """Type ``rows`` into the 刊发 tab as the office would, pull, and return each row's 状态."""
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book[PLACEMENTS.name]
    sheet.delete_rows(2, sheet.max_row)
    write_rows(sheet, PLACEMENTS, rows)
    book.save(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    return [r.get("status") or "" for r in workspace.rows(PLACEMENTS)]


def placed(draft: str = "D-2026-000001", outlet: str = "《今日儋州》", day: object = date(2026, 11, 26),
           **more: object) -> dict:
    return {"draft_id": draft, "outlet": outlet, "date": day, **more}


def message(workspace: Workspace, purpose: str):
    (path,) = workspace.settings.mail.outbox.glob(f"*-{purpose}-*.eml")
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def plain(workspace: Workspace, purpose: str) -> str:
    return message(workspace, purpose).get_body(("plain",)).get_content()


def table(workspace: Workspace, purpose: str) -> dict[tuple[str, str, str], int]:
    """The summary's CSV attachment as (部分, 项目, 指标) → 数值."""
    (attachment,) = [a for a in message(workspace, purpose).iter_attachments()
                     if a.get_filename().endswith(".csv")]
    rows = list(csv.reader(io.StringIO(attachment.get_payload(decode=True).decode("utf-8-sig"))))[1:]
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows}


def check_json(workspace: Workspace) -> list[dict]:
    return json.loads(workspace.cli("check", "--json").stdout)["findings"]


def section(text: str, start: str, end: str) -> str:
    after = text[text.index(start):]
    return after[:after.index(end)]


# --- the 刊发 tab in the summaries --------------------------------------------------------------

def test_a_placement_shows_in_the_weekly_and_the_monthly_summary_by_type_and_level(workspace: Workspace) -> None:
    published(workspace)
    statuses = record(workspace, [
        placed(slot="第3版“执行在线”专栏"),
        placed(outlet="人民法院报", slot="第4版", type="报纸", level="国家级", note="转载"),
        placed(outlet="儋州电视台", slot="《儋州新闻》"),
    ])
    assert statuses == ["已登记，计入“执行在线”专栏", "已登记", "已登记，计入“执行进行时”专栏"]
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    run_job(workspace.settings, summaries.summary, "monthly", "2026-11")

    for purpose in ("summary-weekly", "summary-monthly"):
        text = section(plain(workspace, purpose), "三、刊发情况", "四、专栏")
        assert "共刊发、播出 3 次，涉及稿件 1 篇、媒体 3 家" in text
        assert "按媒体类型：报纸 2，电视 1，广播 0，网络 0，新媒体 0" in text
        assert "按媒体级别：中央 1，省级 0，市县 2" in text
        assert f"- 11月26日 人民法院报（报纸，中央）第4版：D-2026-000001 {HEADLINE}" in text
        assert f"- 11月26日 《今日儋州》（报纸，市县）第3版“执行在线”专栏：D-2026-000001 {HEADLINE}" in text
        assert f"- 11月26日 儋州电视台（电视，市县）《儋州新闻》：D-2026-000001 {HEADLINE}" in text
        figures = table(workspace, purpose)
        assert figures[("刊发情况", "合计", "刊发次数")] == 3
        assert figures[("刊发情况", "合计", "刊发稿件数")] == 1
        assert figures[("刊发情况", "报纸", "按类型刊发次数")] == 2
        assert figures[("刊发情况", "电视", "按类型刊发次数")] == 1
        assert figures[("刊发情况", "中央", "按级别刊发次数")] == 1
        assert figures[("刊发情况", "市县", "按级别刊发次数")] == 2
        assert figures[("刊发情况", "人民法院报", "刊发次数")] == 1
        html = message(workspace, purpose).get_body(("html",)).get_content()
        assert "三、刊发情况（宣传成效）" in html and "人民法院报" in html and "第3版“执行在线”专栏" in html


def test_a_placement_outside_the_period_and_an_outlet_without_type_or_level(workspace: Workspace,
                                                                            monkeypatch) -> None:
    at(monkeypatch, "2026-11-18T10:00:00+08:00")         # published in week 47
    published(workspace)
    at(monkeypatch, NOW_W48)
    record(workspace, [placed(day=date(2026, 11, 19), slot="第3版"),
                       placed(outlet="某某网", day=date(2026, 11, 24), slot="https://news.example/1")])
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    text = section(plain(workspace, "summary-weekly"), "三、刊发情况", "四、专栏")
    assert "共刊发、播出 1 次，涉及稿件 1 篇、媒体 1 家" in text           # 19 November belongs to week 47
    assert "按媒体类型：报纸 0，电视 0，广播 0，网络 0，新媒体 0，未注明类型 1" in text
    assert "按媒体级别：中央 0，省级 0，市县 0，未注明级别 1" in text
    assert "- 11月24日 某某网（类型未注明，级别未注明）https://news.example/1：D-2026-000001" in text


def test_a_summary_without_placements_says_none_were_recorded(workspace: Workspace) -> None:
    published(workspace)
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    text = plain(workspace, "summary-weekly")
    assert "本期没有刊发登记（各媒体刊发、播出本院稿件后，请在工作簿“刊发”页登记）" in text
    assert table(workspace, "summary-weekly")[("刊发情况", "合计", "刊发次数")] == 0


def test_posts_on_the_courts_own_channels_count_as_placements_of_its_own_media(workspace: Workspace) -> None:
    published(workspace)
    workspace.cli("posted", "D-2026-000001", "--channel", "微信", "--by", "符贤", check=True)
    workspace.cli("posted", "D-2026-000001", "--channel", "网站", "--by", "赵刚", check=True)
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    text = section(plain(workspace, "summary-weekly"), "三、刊发情况", "四、专栏")
    assert "共刊发、播出 2 次，涉及稿件 1 篇、媒体 2 家" in text
    assert "按媒体类型：报纸 0，电视 0，广播 0，网络 1，新媒体 1" in text
    assert "按媒体级别：中央 0，省级 0，市县 2" in text
    assert f"- 11月26日 儋州市人民法院微信公众号（新媒体，市县，本院自有媒体）：D-2026-000001 {HEADLINE}" in text
    assert f"- 11月26日 儋州市人民法院官方网站（网络，市县，本院自有媒体）：D-2026-000001 {HEADLINE}" in text


def test_the_monthly_report_reaches_the_leaders_and_the_higher_courts_office(workspace: Workspace,
                                                                              smtp_server) -> None:
    """四(六): the monthly report, with where the month's releases ran, goes up over SMTP."""
    smtp_server.configure(workspace)
    workspace.configure("summaries", leaders=["张光亲 <zhangguangqin@court.example>", "chenyongguang@court.example"],
                        higher_court=["海南高院执行局 <zxj@hicourt.example>"])
    published(workspace)
    record(workspace, [placed(slot="第3版")])
    run = run_job(workspace.settings, summaries.summary, "monthly", "2026-11")
    assert run.queued == 4
    reports = [m for m in smtp_server.handler.messages if "月度工作报告" in str(m.parse()["Subject"])]
    assert sorted(r for m in reports for r in m.rcpt_tos) == [
        "chenyongguang@court.example", "office@court.example", "zhangguangqin@court.example", "zxj@hicourt.example"]
    for received in reports:
        body = received.parse().get_body(("plain",)).get_content()
        assert "共刊发、播出 1 次，涉及稿件 1 篇、媒体 1 家" in body and "2026年11月" in body


def test_a_post_on_the_courts_own_channel_typed_on_the_placements_tab_is_not_counted_twice(
        workspace: Workspace) -> None:
    """The court's own channels count once they are marked posted: a 刊发 row for one (as the court names it,
    or as the office calls it) says so and is not counted a second time; another court's account is an outlet."""
    published(workspace)
    workspace.cli("posted", "D-2026-000001", "--channel", "微信", "--by", "符贤", check=True)
    statuses = record(workspace, [placed(outlet="儋州市人民法院微信公众号"), placed(outlet="本院官方网站"),
                                  placed(outlet=" 微信 公众号 "), placed(outlet="海南高院微信公众号", level="省级")])
    own = "是本院自有媒体，不用在“刊发”页登记：在“审核”页填“已发{}”（或运行 posted）后自动计入刊发统计"
    assert statuses == ["儋州市人民法院微信公众号" + own.format("微信"), "本院官方网站" + own.format("网站"),
                        "微信 公众号" + own.format("微信"), "已登记"]
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    text = section(plain(workspace, "summary-weekly"), "三、刊发情况", "四、专栏")
    assert "共刊发、播出 2 次，涉及稿件 1 篇、媒体 2 家" in text


# --- what 状态 says ------------------------------------------------------------------------------

def test_each_row_of_the_placements_tab_says_what_is_wrong_with_it(workspace: Workspace) -> None:
    published(workspace, extra=[material(title="另一件案件", case_number="（2026）琼9003执88号")])
    statuses = record(workspace, [
        placed(slot="第3版"),
        placed(draft="D-2026-000099"),
        placed(draft="D-2026-000002"),
        placed(draft="S-2026-000001"),
        placed(draft=""),
        placed(outlet=""),
        placed(day="2026-13-45"),
        placed(day=None, slot="第5版"),
        placed(day=date(2026, 11, 30)),
        placed(day=date(2026, 11, 20)),
        placed(outlet="人民法院报", level="国字号"),
        placed(outlet="人民法院报", type="杂志"),
        placed(slot="第3版"),
    ])
    assert statuses == [
        "已登记，计入“执行在线”专栏",
        "草稿编号 D-2026-000099 不存在",
        "稿件 D-2026-000002 尚未发布（待审核），发布后再登记刊发",
        "草稿编号格式有误：S-2026-000001（应为已发布稿件的编号，如 D-2026-000045）",
        "缺少草稿编号",
        "缺少媒体",
        "日期无法识别：2026-13-45",
        "缺少日期",
        "日期 11月30日 还没到：刊发或播出后再登记",
        "日期 11月20日 早于稿件发布的日期（11月26日）",
        "级别应为 中央 / 省级 / 市县：国字号",
        "类型应为 报纸 / 电视 / 广播 / 网络 / 新媒体：杂志",
        "重复：与第 2 行相同",
    ]
    with Ledger(workspace.ledger) as ledger:
        assert [(r["draft_id"], r["outlet"], r["slot"]) for r in ledger.db.execute("SELECT * FROM placements")] \
            == [("D-2026-000001", "《今日儋州》", "第3版")]
    said = workspace.cli("status", check=True).stdout
    assert "刊发页第3行" in said and "草稿编号 D-2026-000099 不存在" in said
    run_job(workspace.settings, week.digest)
    digest = plain(workspace, "digest")
    assert "刊发页第4行" in digest and "稿件 D-2026-000002 尚未发布（待审核）" in digest


def test_a_release_is_named_by_any_version_of_its_draft_and_counted_as_the_version_published(
        workspace: Workspace) -> None:
    workspace.make_workbook([material()], media=NEWSROOM)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    workspace.edit(SUBMISSIONS, 2, outcome="当场履行28万元，案件执行完毕，申请执行人致谢。")
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)                 # D-2026-000001-v2 supersedes the first
    run_job(workspace.settings, decisions.review, "D-2026-000001-v2", "通过", reviewer="符贤")
    run_job(workspace.settings, publishing.publish)
    statuses = record(workspace, [placed(draft="D-2026-000001", slot="第1版"),
                                  placed(draft=" d-2026-000001-V2 ", slot="第2版"),
                                  placed(draft="Ｄ－２０２６－０００００１－ｖ２", slot="第3版")])
    assert statuses == ["已登记，计入“执行在线”专栏"] * 3
    with Ledger(workspace.ledger) as ledger:
        assert {r["draft_id"] for r in ledger.db.execute("SELECT draft_id FROM placements")} == {"D-2026-000001-v2"}


def republished(workspace: Workspace, monkeypatch) -> None:
    """D-2026-000001 published on 18 November (week 47), its material then edited and the correction published
    as D-2026-000001-v2 on 25 November (week 48); the clock back on 26 November."""
    at(monkeypatch, "2026-11-18T10:00:00+08:00")
    published(workspace)
    at(monkeypatch, "2026-11-25T10:00:00+08:00")
    workspace.edit(SUBMISSIONS, 2, outcome="当场履行28万元及迟延履行期间的利息，案件执行完毕。")
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    run_job(workspace.settings, decisions.review, "D-2026-000001-v2", "通过", reviewer="符贤")
    run_job(workspace.settings, publishing.publish)
    at(monkeypatch, NOW_W48)


def test_a_piece_that_ran_before_the_correction_was_published_is_the_first_versions(workspace: Workspace,
                                                                                    monkeypatch) -> None:
    """A release published, then corrected and published again as v2: a piece that ran between the two is the
    first version's (not refused as earlier than v2); a piece after the correction is v2's, however the row
    names the draft; the summaries count one release (稿件), not one per version."""
    republished(workspace, monkeypatch)
    statuses = record(workspace, [placed(day=date(2026, 11, 19), slot="第3版"),
                                  placed(draft="D-2026-000001-V1", outlet="《法制时报》", day=date(2026, 11, 20)),
                                  placed(outlet="儋州电视台", day=date(2026, 11, 25)),
                                  placed(draft="D-2026-000001-v2", outlet="人民法院报", day=date(2026, 11, 17))])
    assert statuses == ["已登记，计入“执行在线”专栏", "已登记", "已登记，计入“执行进行时”专栏",
                        "日期 11月17日 早于稿件发布的日期（11月18日）"]
    with Ledger(workspace.ledger) as ledger:
        assert [(r["draft_id"], r["day"]) for r in ledger.db.execute("SELECT * FROM placements ORDER BY day")] == [
            ("D-2026-000001", "2026-11-19"), ("D-2026-000001", "2026-11-20"), ("D-2026-000001-v2", "2026-11-25")]
    run_job(workspace.settings, summaries.summary, "monthly", "2026-11")
    text = section(plain(workspace, "summary-monthly"), "三、刊发情况", "四、专栏")
    assert "共刊发、播出 3 次，涉及稿件 1 篇、媒体 3 家" in text
    assert table(workspace, "summary-monthly")[("刊发情况", "合计", "刊发稿件数")] == 1


def test_a_release_corrected_and_sent_again_is_one_release_in_the_summaries_and_the_brief(
        workspace: Workspace, monkeypatch) -> None:
    """The summaries' 媒体发布 section counts releases (稿件), not mailings: v1 and its correction v2 sent to the
    same three outlets are one release for each outlet and one in all; the deputies' brief lists the case once,
    as last sent; the weekly tally of the plan counts one 执行成功 release."""
    from pipeline.flows import brief

    republished(workspace, monkeypatch)
    run_job(workspace.settings, summaries.summary, "monthly", "2026-11")

    figures = table(workspace, "summary-monthly")
    assert figures[("媒体发布", "合计", "发布稿件数")] == 1
    assert [n for (part, _, measure), n in figures.items() if part == "媒体发布" and measure == "发稿数"] == [1, 1, 1]
    at(monkeypatch, "2026-12-02T09:00:00+08:00")
    workspace.configure("deputies", addresses=["王代表 <wang@npc.example>"])
    run = run_job(workspace.settings, brief.brief, "2026-11", dry_run=True)
    [preview] = run.previews
    assert preview.text.count(HEADLINE) == 1


def test_a_row_taken_off_the_placements_tab_leaves_the_ledger_and_a_workbook_without_the_tab_still_pulls(
        workspace: Workspace) -> None:
    published(workspace)
    record(workspace, [placed(slot="第3版"), placed(outlet="《法制时报》")])
    assert record(workspace, [placed(outlet="《法制时报》")]) == ["已登记"]
    with Ledger(workspace.ledger) as ledger:
        assert [r["outlet"] for r in ledger.db.execute("SELECT outlet FROM placements")] == ["《法制时报》"]
    book = openpyxl.load_workbook(workspace.workbook)
    del book[PLACEMENTS.name]                   # a workbook made before the tab existed
    book.save(workspace.workbook)
    assert workspace.cli("pull").returncode == 0
    with Ledger(workspace.ledger) as ledger:
        assert ledger.db.execute("SELECT COUNT(*) FROM placements").fetchone()[0] == 0


# --- levels on the 媒体 tab -----------------------------------------------------------------------

@pytest.mark.parametrize("typed, level", [("中央", "中央"), ("国家级", "中央"), ("全国", "中央"), ("省级", "省级"),
                                          ("省", "省级"), ("市县", "市县"), ("地方", "市县"), ("本地", "市县"),
                                          ("", "")])
def test_an_outlets_level_is_read_under_the_words_people_type(workspace: Workspace, typed: str, level: str) -> None:
    workspace.make_workbook([], media=[{**NEWSROOM[2], "level": typed}])
    workspace.cli("pull", check=True)
    with Ledger(workspace.ledger) as ledger:
        assert [m.level for m in ledger.media()] == [level]
    assert [r.get("status") for r in workspace.rows(MEDIA)] == [None]


def test_an_unreadable_level_or_cadence_flags_the_outlet(workspace: Workspace) -> None:
    workspace.make_workbook([], media=[{**NEWSROOM[2], "level": "国字号"},
                                       {**NEWSROOM[0], "cadence": "偶尔"},
                                       {**NEWSROOM[1], "column": "", "cadence": "每月"}])
    workspace.cli("pull", check=True)
    assert [r["status"] for r in workspace.rows(MEDIA)] == [
        "级别应为 中央 / 省级 / 市县：国字号", "专栏周期应为 每周 / 每两周 / 每月：偶尔",
        "填写了专栏周期（每月）但没有填写专栏名称"]


def test_a_column_without_a_cadence_runs_every_week(workspace: Workspace) -> None:
    workspace.make_workbook([], media=[{**NEWSROOM[0], "cadence": None}])
    workspace.cli("pull", check=True)
    with Ledger(workspace.ledger) as ledger:
        assert [(m.column, m.cadence) for m in ledger.media()] == [("执行在线", "每周")]


# --- columns (专栏) --------------------------------------------------------------------------------

def test_a_column_outlet_without_its_weekly_piece_appears_in_the_digest(workspace: Workspace, monkeypatch) -> None:
    published(workspace)
    findings = [f for f in check_json(workspace) if f["rule"] == "column-piece"]
    assert [(f["subject"], f["period"], f["due"]) for f in findings] == [
        ("《今日儋州》“执行在线”专栏", "2026-W48", "2026-11-29"),
        ("儋州电视台“执行进行时”专栏", "2026-W47/48", "2026-11-29")]
    assert workspace.cli("check").returncode == 1
    run_job(workspace.settings, week.digest)
    digest = plain(workspace, "digest")
    missing = "《今日儋州》“执行在线”专栏本周（11月23日至11月29日）尚无刊发登记（每周一期；刊发后请在“刊发”页登记）"
    assert missing in section(digest, "二、尚未完成的任务", "三、")
    board = section(digest, "专栏（四(二)：以“刊发”页登记为准）", "三、")
    assert "- 《今日儋州》“执行在线”专栏（每周一期）：本周（11月23日至11月29日）尚无刊发登记" in board
    assert "- 儋州电视台“执行进行时”专栏（每两周一期）：本期（11月16日至11月29日）尚无刊发登记" in board
    html = message(workspace, "digest").get_body(("html",)).get_content()
    assert "专栏（四(二)：以“刊发”页登记为准）" in html and "《今日儋州》“执行在线”专栏（每周一期）" in html

    record(workspace, [placed(slot="第3版“执行在线”专栏")])
    assert [f["subject"] for f in check_json(workspace) if f["rule"] == "column-piece"] == ["儋州电视台“执行进行时”专栏"]
    at(monkeypatch, "2026-11-27T08:30:00+08:00")                       # the next morning's digest
    run_job(workspace.settings, week.digest)
    again = plain(workspace, "digest-2026-11-27")
    assert ("- 《今日儋州》“执行在线”专栏（每周一期）：本周已刊发 1 期（11月26日 D-2026-000001，第3版“执行在线”专栏）"
            in again)
    assert "《今日儋州》“执行在线”专栏本周" not in section(again, "二、尚未完成的任务", "专栏（")


def test_a_number_typed_in_the_page_or_link_cell_is_masked_upward_and_in_the_digest_and_a_link_is_whole(
        workspace: Workspace) -> None:
    """版面或链接 is a page or an address; a telephone number typed there by mistake is no page and does not
    go to the leaders, the higher court or the digest. A web address's long article number stays."""
    link = "https://www.dzfy.gov.cn/2026/11/26/032912345678.shtml"
    published(workspace)
    assert record(workspace, [placed(slot="第3版“执行在线”专栏，记者13907561234"),
                              placed(outlet="《法制时报》", slot=link)]) == ["已登记，计入“执行在线”专栏", "已登记"]
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    run_job(workspace.settings, week.digest, force=True)

    summary = plain(workspace, "summary-weekly")
    html = message(workspace, "summary-weekly").get_body(("html",)).get_content()
    digest = plain(workspace, "digest")
    for text in (summary, html, digest):
        assert "13907561234" not in text and "1390756" not in text
    assert "第3版“执行在线”专栏，记者×××" in summary and "第3版“执行在线”专栏，记者×××" in digest
    assert link in summary and link in html


def test_a_fortnightly_and_a_monthly_column_owe_one_piece_per_period(workspace: Workspace, monkeypatch) -> None:
    monthly = {**NEWSROOM[2], "column": "法治海南", "cadence": "月刊"}
    at(monkeypatch, "2026-11-16T10:00:00+08:00")
    published(workspace, media=[NEWSROOM[1], monthly])
    at(monkeypatch, "2026-11-26T10:00:00+08:00")
    record(workspace, [placed(outlet="儋州电视台", day=date(2026, 11, 17)),
                       placed(outlet="《法制时报》", day=date(2026, 11, 18))])

    def owed(now: str) -> list[tuple[str, str]]:
        return [(f["subject"], f["period"]) for f in json.loads(workspace.cli(
            "check", "--json", env={"PIPELINE_NOW": now}).stdout)["findings"] if f["rule"] == "column-piece"]

    assert owed("2026-11-26T10:00:00+08:00") == []                            # weeks 47–48 and November: filled
    assert owed("2026-11-30T10:00:00+08:00") == [("儋州电视台“执行进行时”专栏", "2026-W49/50")]
    assert owed("2026-12-01T10:00:00+08:00") == [("儋州电视台“执行进行时”专栏", "2026-W49/50"),
                                                 ("《法制时报》“法治海南”专栏", "2026-12")]


def test_an_exempt_week_owes_no_weekly_column_piece(workspace: Workspace) -> None:
    workspace.configure("rules", exempt_weeks=["2026-W48"])
    workspace.make_workbook([], media=[NEWSROOM[0]])
    workspace.cli("pull", check=True)
    assert [f for f in check_json(workspace) if f["rule"] == "column-piece"] == []
    run_job(workspace.settings, week.digest)
    assert "本周（11月23日至11月29日）为豁免周，不作要求" in plain(workspace, "digest")


def test_an_outlet_with_two_columns_counts_a_piece_for_the_column_its_row_names(workspace: Workspace) -> None:
    second = {**NEWSROOM[1], "email": "fazhi@dztv.example", "column": "法治时空", "cadence": "每周"}
    published(workspace, media=[{**NEWSROOM[1], "cadence": "每周"}, second])
    statuses = record(workspace, [placed(outlet="儋州电视台", slot="晚间新闻"),
                                  placed(outlet="儋州电视台", slot="19:30", note="《法治时空》栏目")])
    assert statuses == [
        "已登记；儋州电视台有多个专栏（执行进行时、法治时空），请在“版面或链接”或“备注”中写明专栏名称，否则不计入专栏",
        "已登记，计入“法治时空”专栏"]
    assert [f["subject"] for f in check_json(workspace) if f["rule"] == "column-piece"] == ["儋州电视台“执行进行时”专栏"]


def test_the_summaries_count_each_columns_periods_owed_and_filled(workspace: Workspace) -> None:
    published(workspace)
    record(workspace, [placed(slot="第3版")])
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    run_job(workspace.settings, summaries.summary, "monthly", "2026-11")
    weekly = section(plain(workspace, "summary-weekly"), "四、专栏", "五、工作方案任务完成情况")
    assert "四、专栏（四(二)：本期应刊 2 期，已刊 1 期）" in weekly
    assert "- 《今日儋州》“执行在线”专栏（每周一期）：应刊 1 期，已刊 1 期" in weekly
    assert "2026年第48周（11月23日至11月29日）：已刊发 1 期（11月26日 D-2026-000001，第3版）" in weekly
    assert "- 儋州电视台“执行进行时”专栏（每两周一期）：应刊 1 期，已刊 0 期" in weekly
    assert "2026年第47—48周（11月16日至11月29日）：尚无刊发登记" in weekly
    monthly = section(plain(workspace, "summary-monthly"), "四、专栏", "五、工作方案任务完成情况")
    # November: the weeks whose Monday falls in it (45 to 49) and the fortnights that start in it (45, 47, 49).
    assert "- 《今日儋州》“执行在线”专栏（每周一期）：应刊 5 期，已刊 1 期" in monthly
    assert "- 儋州电视台“执行进行时”专栏（每两周一期）：应刊 3 期，已刊 0 期" in monthly
    assert "2026年第49—50周（11月30日至12月13日）：尚无刊发登记（该期至12月13日结束）" in monthly
    figures = table(workspace, "summary-monthly")
    assert figures[("专栏", "《今日儋州》“执行在线”专栏", "应刊期数")] == 5
    assert figures[("专栏", "《今日儋州》“执行在线”专栏", "已刊期数")] == 1


def test_a_disabled_outlets_column_is_not_asked_for(workspace: Workspace) -> None:
    workspace.make_workbook([], media=[{**NEWSROOM[0], "enabled": "否"}])
    workspace.cli("pull", check=True)
    assert [f for f in check_json(workspace) if f["rule"] == "column-piece"] == []


def test_the_demo_shows_levels_a_column_and_placements_that_count_once_the_release_is_published(
        workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("once", check=True)
    first = [r["status"] for r in workspace.rows(PLACEMENTS)]
    assert len(first) == 3 and all("D-2026-000001" in s for s in first)       # not there yet, or not published
    workspace.cli("approve", "D-2026-000001", "--by", "符贤", check=True)
    workspace.cli("publish", check=True)
    workspace.cli("pull", check=True)
    assert [r["status"] for r in workspace.rows(PLACEMENTS)] == ["已登记，计入“执行在线”专栏", "已登记", "已登记"]
    with Ledger(workspace.ledger) as ledger:
        levels = {m.outlet: m.level for m in ledger.media()}
        assert levels["《法制时报》"] == "省级" and levels["儋州电视台"] == "市县"
        assert [(r["outlet"], r["level"]) for r in ledger.db.execute("SELECT * FROM placements ORDER BY id")] == [
            ("《今日儋州》", "市县"), ("《法制时报》", "省级"), ("《人民法院报》", "中央")]
    subjects = [f["subject"] for f in check_json(workspace) if f["rule"] == "column-piece"]
    assert subjects == ["儋州电视台“执行进行时”专栏"]
