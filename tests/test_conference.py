"""The press conference's pack (发布会材料, work plan 四(二)) and the digest's offer of it.

The ledger is filled as the office fills it: real .xlsx material pulled, drafted, approved and published
through the public job functions, the clock moved between September and November 2026; the pack is made by
the command line (``conference-pack``) and read back with python-docx. What the pack must hold is taken from
the material the tests wrote and from the releases as the media received them (the .docx attached to their
mail in the outbox), never from the code under test.
"""

from __future__ import annotations

import io
import shlex
import sqlite3
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import Workspace, material, run_job, write_rows

from pipeline.core.layout import ACTIVITIES as ACTIVITIES_TAB
from pipeline.core.layout import FIGURES, SUBMISSIONS
from pipeline.flows import decisions, publishing, pulling, week

MEDIA = [
    {"outlet": "《法制时报》", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是", "type": "报纸"},
    {"outlet": "儋州电视台", "email": "tv@media.example", "kinds": "全部", "enabled": "是", "type": "电视"},
    {"outlet": "儋州之声", "email": "radio@media.example", "kinds": "执行不能", "enabled": "是", "type": "广播"},
]
CONFERENCE = "执行工作典型案例新闻发布会"
ACTIVITIES = [
    {"date": date(2026, 9, 15), "kind": "新闻发布会", "name": "上半年执行工作新闻发布会", "held": "是"},
    {"date": date(2026, 11, 20), "kind": "代表委员看执行", "name": "代表委员见证集中执行"},
    {"date": date(2026, 12, 3), "kind": "新闻发布会", "name": CONFERENCE, "time": "上午10:00",
     "place": "儋州市人民法院新闻发布厅"},
]
FIGURE_ROWS = [
    {"month": "2026-09", "metric": "执行结案数", "value": "1010 件", "source": "执行案件流程管理系统"},
    {"month": "2026-11", "metric": "执行结案数", "value": "1236 件", "source": "执行案件流程管理系统"},
    {"month": "2026-11", "metric": "拒执罪判决数", "value": "4 件", "source": "刑事审判庭统计"},
]

# Published on 10 September: before the conference held on 15 September, and before November.
SEPTEMBER = material(submitted_at=datetime(2026, 9, 9, 9, 0), title="九月执结买卖合同纠纷 被执行人履行15万元",
                     case_number="（2026）琼9003执701号")
# Published on 28 October: since that conference, but not in November.
OCTOBER = material(submitted_at=datetime(2026, 10, 27, 9, 0), kind="惩戒失信", case_number="（2026）琼9003执801号",
                   title="十月失信被执行人被限制高消费后履行义务", listing="未纳入")
# Named persons and an ID-card number in the material: the pack shows what the release showed.
INABILITY = material(
    submitted_at=datetime(2026, 11, 24, 9, 0), team="执行二组", kind="执行不能", case_number="（2026）琼9003执902号",
    title="被执行人下落不明且名下无财产 法院依法终结本次执行",
    parties="申请执行人：陈美玲；被执行人：林国栋",
    facts="申请执行人陈美玲与被执行人林国栋（身份证号460003198805061234）民间借贷纠纷一案，判决生效后林国栋未履行。",
    process="执行干警查询银行、车辆、不动产信息，并多次走访其户籍地，均未发现可供执行的财产。",
    outcome="依法终结本次执行程序，发现财产后恢复执行。")
REFUSAL = material(submitted_at=datetime(2026, 11, 25, 9, 0), kind="打击拒执", case_number="（2026）琼9003执903号",
                   title="拒不申报财产 被执行人被司法拘留十五日")
PUBLICITY = material(submitted_at=datetime(2026, 11, 25, 10, 0), team="执行二组", kind="宣传标语", case_number="",
                     title="执行宣传进集市 营造打击拒执氛围",
                     facts="执行二组干警利用墟日到那大镇农贸市场开展执行宣传活动。",
                     process="干警现场悬挂宣传横幅，向群众发放宣传资料300余份。", outcome="")
# Drafted, never approved; approved after the media got the others (still waiting); never to be published.
PENDING = material(submitted_at=datetime(2026, 11, 25, 11, 0), kind="执行成功", case_number="（2026）琼9003执904号",
                   title="待审核的执行成功稿件")
LATE = material(submitted_at=datetime(2026, 11, 25, 12, 0), kind="教科书式老赖", case_number="（2026）琼9003执905号",
                title="已通过尚未发布的老赖稿件")
PRIVATE = material(submitted_at=datetime(2026, 11, 25, 13, 0), kind="惩戒失信", case_number="（2026）琼9003执906号",
                   title="不公开的失信稿件", publishable="否")


def at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    monkeypatch.setenv("PIPELINE_NOW", moment)


def add_rows(workspace: Workspace, rows: list[dict]) -> None:
    book = openpyxl.load_workbook(workspace.workbook)
    last = max([r["row"] for r in workspace.rows()] + [1])
    write_rows(book[SUBMISSIONS.name], SUBMISSIONS, rows, start=last + 1)
    book.save(workspace.workbook)


def drafts(workspace: Workspace) -> dict[str, str]:
    """Headline → draft ID, from the ledger with plain SQL."""
    with sqlite3.connect(workspace.ledger) as db:
        return {headline: ident for ident, headline in db.execute("SELECT id, headline FROM drafts")}


def approve(workspace: Workspace, *titles: str) -> None:
    ids = drafts(workspace)
    for title in titles:
        [ident] = [i for h, i in ids.items() if title in h]
        run_job(workspace.settings, decisions.review, ident, "通过", reviewer="符贤")


def newsroom(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """September's and October's releases, November's material, figures and the 活动 tab, through the jobs."""
    at(monkeypatch, "2026-09-10T10:00:00+08:00")
    workspace.make_workbook([SEPTEMBER], media=MEDIA, activities=ACTIVITIES)
    book = openpyxl.load_workbook(workspace.workbook)
    write_rows(book[FIGURES.name], FIGURES, FIGURE_ROWS)
    book.save(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    approve(workspace, SEPTEMBER["title"])
    run_job(workspace.settings, publishing.publish)
    at(monkeypatch, "2026-10-28T10:00:00+08:00")
    add_rows(workspace, [OCTOBER])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    approve(workspace, OCTOBER["title"])
    run_job(workspace.settings, publishing.publish)
    at(monkeypatch, "2026-11-26T10:00:00+08:00")
    add_rows(workspace, [INABILITY, REFUSAL, PUBLICITY, PENDING, LATE, PRIVATE])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    approve(workspace, INABILITY["title"], REFUSAL["title"], "执行宣传进集市")
    run_job(workspace.settings, publishing.publish)
    approve(workspace, LATE["title"])         # approved, not published: the media have not had it


def paragraphs(path: Path) -> list[str]:
    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return [p.text for p in document.paragraphs if p.text.strip()] + cells


def table_rows(path: Path) -> list[list[tuple[str, ...]]]:
    return [[tuple(c.text for c in row.cells) for row in t.rows] for t in docx.Document(str(path)).tables]


def pack(workspace: Workspace, *args: str, check: bool = True):
    result = workspace.cli("conference-pack", *args, check=check)
    made = sorted((workspace.settings.mail.outbox / "conference").glob("*.docx"))
    return result, made


def as_published(workspace: Workspace, title: str) -> list[str]:
    """The paragraphs of the .docx the media received with one release (its mail in the outbox)."""
    draft_id = next(i for h, i in drafts(workspace).items() if title in h)
    [path] = sorted(workspace.settings.mail.outbox.glob(f"*-release-{draft_id}-fazhi@media.example.eml"))
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    [attachment] = list(message.iter_attachments())
    document = docx.Document(io.BytesIO(attachment.get_payload(decode=True)))
    return [p.text for p in document.paragraphs if p.text.strip()]


# --- what the pack holds ----------------------------------------------------------------------------------

def test_the_pack_holds_the_periods_published_typical_cases_by_kind_as_published(workspace, monkeypatch) -> None:
    newsroom(workspace, monkeypatch)
    result, [path] = pack(workspace, "--from", "2026-11-01", "--to", "2026-11-30")
    assert result.returncode == 0 and path.name == "发布会材料_2026-11-01至2026-11-26.docx"
    assert "已生成发布会材料" in result.stdout and "3 篇" in result.stdout
    text = paragraphs(path)
    whole = "\n".join(text)
    assert text[0] == "儋州市人民法院" and "典型案例和工作成效材料" in text
    assert "（2026年11月1日至2026年11月26日）" in text
    # The period's releases that reached the media, typical cases first in the plan's order, then the rest.
    order = [whole.index(s) for s in ("一、工作成效", "二、典型案例", "（一）打击拒执（1 篇）", REFUSAL["title"],
                                      "（二）执行不能（1 篇）", INABILITY["title"], "三、重要举措和工作动态",
                                      "（一）宣传活动（1 篇）", "执行宣传进集市")]
    assert order == sorted(order)
    for absent in (SEPTEMBER["title"], OCTOBER["title"], PENDING["title"], LATE["title"], PRIVATE["title"]):
        assert absent not in whole, absent
    # Each release as the media received it: every paragraph of its .docx, in order, under a dateline.
    for title, outlets in ((INABILITY["title"], 3), (REFUSAL["title"], 2)):
        published = as_published(workspace, title)
        start = text.index(published[0])
        assert text[start + 1] == f"2026年11月26日发布，发往 {outlets} 家媒体"
        assert text[start + 2:start + 1 + len(published)] == published[1:]
        assert "发布日期：2026年11月26日" in published
    # Masked as published: no party's name, no ID-card number, no raw cell of the row.
    for raw in ("陈美玲", "林国栋", "460003198805061234", "0506", INABILITY["facts"]):
        assert raw not in whole, raw
    assert "陈某" in whole and "林某" in whole
    # The figures: November's from the 数据 tab with their source; not September's; no internal quota.
    assert table_rows(path)[0] == [("指标", "数值", "来源"), ("执行结案数", "1236 件", "执行案件流程管理系统"),
                                   ("拒执罪判决数", "4 件", "刑事审判庭统计")]
    assert "1010 件" not in whole and "注：执行工作数据按月统计，2026年11月为整月数据。" in text
    assert "经审核向新闻媒体发布执行工作稿件 3 篇，其中典型案例 2 篇：打击拒执 1 篇、执行不能 1 篇、宣传活动 1 篇" in whole
    assert "《法制时报》（报纸）3 篇" in whole and "儋州之声（广播）1 篇" in whole
    for internal in ("每周任务", "达标", "还差", "应完成", "执行一组", "D-2026-"):
        assert internal not in whole, internal
    properties = docx.Document(str(path)).core_properties
    assert properties.author == "儋州市人民法院" and "典型案例和工作成效材料" in properties.title


def test_a_release_corrected_and_published_again_is_one_case_in_the_pack_as_last_published(workspace,
                                                                                          monkeypatch) -> None:
    """A release the media received, then its correction (v2): the pack holds the case once, in the words the
    media last received, and counts one release."""
    newsroom(workspace, monkeypatch)
    at(monkeypatch, "2026-11-27T10:00:00+08:00")
    row = next(r["row"] for r in workspace.rows() if r["title"] == REFUSAL["title"])
    workspace.edit(SUBMISSIONS, row, outcome="被执行人在拘留期间委托家属履行全部义务，法院依法提前解除拘留。")
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    approve(workspace, REFUSAL["title"])           # the second version: the first is published, not pending
    run_job(workspace.settings, publishing.publish)          # it goes out, and so does LATE, approved before
    result, [path] = pack(workspace, "--from", "2026-11-01", "--to", "2026-11-30")
    whole = "\n".join(paragraphs(path))
    assert "已发布的稿件 4 篇（打击拒执 1、执行不能 1、教科书式老赖 1、宣传活动 1），其中典型案例 3 篇" in result.stdout
    assert "经审核向新闻媒体发布执行工作稿件 4 篇，其中典型案例 3 篇" in whole
    assert "（一）打击拒执（1 篇）" in whole and whole.count(REFUSAL["title"]) == 1
    assert "提前解除拘留" in whole and "2026年11月27日发布" in whole


def test_the_pack_of_a_planned_conference_covers_what_came_since_the_last_one_held(workspace, monkeypatch) -> None:
    newsroom(workspace, monkeypatch)
    result, [path] = pack(workspace, "--activity", "2026-12-03")
    assert path.name == "新闻发布会材料_2026-12-03.docx"
    text = paragraphs(path)
    whole = "\n".join(text)
    assert text[1] == CONFERENCE and "（2026年9月16日至2026年11月26日）" in text
    assert "召开时间：2026年12月3日 上午10:00　地点：儋州市人民法院新闻发布厅" in text
    assert OCTOBER["title"] in whole and REFUSAL["title"] in whole
    assert SEPTEMBER["title"] not in whole                    # announced at September's conference
    # The figures of the months the period touches, each with its month and source, said to be whole months.
    assert table_rows(path)[0][1:] == [("2026年9月", "执行结案数", "1010 件", "执行案件流程管理系统"),
                                       ("2026年11月", "执行结案数", "1236 件", "执行案件流程管理系统"),
                                       ("2026年11月", "拒执罪判决数", "4 件", "刑事审判庭统计")]
    assert "2026年9月、2026年11月，儋州市人民法院执行工作主要数据如下（各项注明来源）：" in text
    assert "注：执行工作数据按月统计，2026年9月、2026年11月为整月数据。" in text
    # Named by its name, the same conference; a second pack is numbered and the first is kept as it was.
    first = path.read_bytes()
    again, made = pack(workspace, "--activity", "典型案例新闻发布会")
    assert [p.name for p in made] == ["新闻发布会材料_2026-12-03.docx", "新闻发布会材料_2026-12-03（2）.docx"]
    assert path.read_bytes() == first
    # With no option, the next conference planned.
    _, made = pack(workspace)
    assert made[-1].name == "新闻发布会材料_2026-12-03（3）.docx"


def test_a_period_without_a_published_release_is_said_in_chinese_and_writes_nothing(workspace, monkeypatch) -> None:
    newsroom(workspace, monkeypatch)
    # November's material was submitted by the 25th; its releases are dated the 26th, the day they were approved.
    result, made = pack(workspace, "--from", "2026-10-29", "--to", "2026-11-25", check=False)
    assert result.returncode == 1 and made == []
    assert "2026年10月29日至2026年11月25日没有已发布的稿件" in result.stderr
    assert "未生成发布会材料" in result.stderr and "Traceback" not in result.stderr


def test_a_pack_that_would_carry_a_phone_number_is_not_written(workspace, monkeypatch) -> None:
    newsroom(workspace, monkeypatch)
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book["活动"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=4, column=header.index("地点") + 1, value="新闻发布厅（联系人手机13907561234）")
    book.save(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    result, made = pack(workspace, "--activity", "2026-12-03", check=False)
    assert result.returncode == 1 and made == [] and "Traceback" not in result.stderr
    assert "发布会材料未生成：发布会材料 中仍有未遮蔽的手机号" in result.stderr and "13907561234" not in result.stderr


@pytest.mark.parametrize("args, said", [
    (("--activity", "2026-11-20"), "是代表委员看执行，不是新闻发布会"),
    (("--activity", "2026-12-24"), "活动页上没有 --activity 2026-12-24 所指的发布会"),
    (("--from", "2026-11-20", "--to", "2026-11-01"), "开始日期2026年11月20日晚于结束日期"),
    (("--from", "2026-11-30"), "时段从2026年11月30日开始，还没有到"),
    (("--from", "下个月"), "--from无法识别"),
    (("--from", "2026-11-01", "--out", "材料.txt"), "应为一个 .docx 文件"),
])
def test_a_wrong_request_is_answered_in_chinese_with_exit_2(workspace, args, said) -> None:
    workspace.make_workbook([], media=MEDIA, activities=ACTIVITIES)
    workspace.cli("pull", check=True)
    result = workspace.cli("conference-pack", *args)
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr


def test_the_pack_goes_where_out_says(workspace, monkeypatch, tmp_path) -> None:
    newsroom(workspace, monkeypatch)
    folder = tmp_path / "发布会"
    folder.mkdir()
    workspace.cli("conference-pack", "--from", "2026-11-01", "--out", str(folder), check=True)
    workspace.cli("conference-pack", "--from", "2026-11-01", "--out", str(folder / "材料.docx"), check=True)
    assert sorted(p.name for p in folder.iterdir()) == ["发布会材料_2026-11-01至2026-11-26.docx", "材料.docx"]
    assert REFUSAL["title"] in "\n".join(paragraphs(folder / "材料.docx"))


# --- the digest's offer ------------------------------------------------------------------------------------

def digest_text(workspace: Workspace) -> str:
    run = run_job(workspace.settings, week.digest, dry_run=True)
    return run.previews[0].text


def test_the_digest_offers_the_pack_the_set_number_of_days_before_and_not_earlier(workspace, monkeypatch) -> None:
    workspace.configure("rules", conference_pack_days=5)
    workspace.make_workbook([], media=MEDIA, activities=ACTIVITIES)
    run_job(workspace.settings, pulling.pull)
    command = "python run.py conference-pack --activity 2026-12-03"
    at(monkeypatch, "2026-11-27T08:30:00+08:00")                 # six days before
    assert "conference-pack" not in digest_text(workspace) and "发布会材料" not in digest_text(workspace)
    at(monkeypatch, "2026-11-28T08:30:00+08:00")                 # five days before
    text = digest_text(workspace)
    assert f"新闻发布会“{CONFERENCE}”将于12月3日（5 天后）召开，可生成发布会材料" in text
    assert "2026年9月16日以来已发布的典型案例和执行工作数据" in text and f"运行 {command}" in text
    html = run_job(workspace.settings, week.digest, dry_run=True).previews[0].html
    assert command in html
    at(monkeypatch, "2026-12-03T08:30:00+08:00")                 # the day itself
    assert f"新闻发布会“{CONFERENCE}”将于今天召开" in digest_text(workspace)
    at(monkeypatch, "2026-12-04T08:30:00+08:00")                 # over
    assert "conference-pack" not in digest_text(workspace)


def test_the_digests_command_makes_the_pack(workspace, monkeypatch) -> None:
    newsroom(workspace, monkeypatch)
    line = next(line for line in digest_text(workspace).splitlines() if "conference-pack" in line)
    args = line.split("python run.py ", 1)[1].split()
    result, [path] = pack(workspace, *args[1:])
    assert path.name == "新闻发布会材料_2026-12-03.docx" and result.returncode == 0


def test_every_command_the_digest_offers_makes_a_pack_when_two_press_events_share_a_day(workspace,
                                                                                      monkeypatch) -> None:
    """Two press events on one day, one of them unnamed: neither its day (two events) nor a name can pick the
    unnamed one, so its offer names the period instead; each offered command makes its pack."""
    newsroom(workspace, monkeypatch)
    book = openpyxl.load_workbook(workspace.workbook)
    write_rows(book["活动"], ACTIVITIES_TAB, [{"date": date(2026, 12, 3), "kind": "新闻通气会"}], start=5)
    book.save(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    lines = [line for line in digest_text(workspace).splitlines() if "conference-pack" in line]
    assert len(lines) == 2
    for number, line in enumerate(lines, start=1):
        args = shlex.split(line.split("python run.py ", 1)[1])
        result, made = pack(workspace, *args[1:], check=False)
        assert result.returncode == 0, (line, result.stderr)
        assert len(made) == number
    assert any(f"--activity \"{CONFERENCE}\"" in line for line in lines)
    assert any("--from 2026-09-16 --to 2026-12-03" in line for line in lines)


def test_no_offer_with_zero_days_nor_for_a_conference_called_off(workspace, monkeypatch) -> None:
    at(monkeypatch, "2026-11-30T08:30:00+08:00")
    workspace.make_workbook([], activities=ACTIVITIES[:2] + [dict(ACTIVITIES[2], held="否")])
    run_job(workspace.settings, pulling.pull)
    assert "conference-pack" not in digest_text(workspace)
    workspace.make_workbook([], activities=ACTIVITIES)
    run_job(workspace.settings, pulling.pull)
    assert "conference-pack" in digest_text(workspace)
    workspace.configure("rules", conference_pack_days=0)
    assert "conference-pack" not in digest_text(workspace)


@pytest.mark.parametrize("days", [-1, 61])
def test_the_days_ahead_are_range_checked_in_chinese(workspace, days) -> None:
    workspace.configure("rules", conference_pack_days=days)
    result = workspace.cli("status")
    assert result.returncode == 2
    assert "[rules] conference_pack_days: 应在 0 到 60 之间（天，0 为不在每日简报中提示）" in result.stderr
