"""The structured columns of 素材 and 部门: what the release wording is chosen from.

失信名单, 结案方式, 执行到位金额, 承办部门, 执行不能情形 and 内部备注 on 素材, and 对外名称
on 部门, are optional: a workbook without them pulls as it always did. Every
behaviour is proven through ``pulling.pull`` (or the CLI) on a real .xlsx
workbook, asserting on the 编号/状态 cells written back and on the ledger.

Layout of this file:
    helpers
    1. canonical values and synonyms, per column
    2. amounts in every form people type
    3. values intake cannot read: the row is not accepted
    4. 承办部门 against the 部门 tab
    5. a workbook without the columns, and one that gains them
    6. 对外名称 on 部门
    7. the template init writes
    8. the demo
    9. no ID-card number in the ledger
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from typing import Any

import openpyxl
import pytest
from conftest import DEFAULT_TEAMS, Workspace, material, read_rows, run_job

from pipeline.core.layout import SUBMISSIONS, TEAMS
from pipeline.flows import pulling
from pipeline.ledger import Ledger

ACCEPTED = "已受理"
LISTINGS = ("在册", "已移除", "未纳入")
CLOSURES = ("执行完毕", "执行和解", "部分履行", "终结本次执行", "其他")
INABILITIES = ("被执行人无财产", "下落不明", "丧失履行能力", "企业停业破产", "财产无法处置")
STRUCTURED = ("listing", "closure", "amount", "handling_team", "inability", "note")
NEW_HEADERS = ("失信名单", "结案方式", "执行到位金额", "承办部门", "执行不能情形", "内部备注")


# --- helpers -------------------------------------------------------------------

def marks(workspace: Workspace) -> list[tuple[Any, Any]]:
    """(编号, 状态) of every typed 素材 row, in sheet order."""
    book = openpyxl.load_workbook(workspace.workbook, read_only=True)
    try:
        rows = read_rows(book[SUBMISSIONS.name], SUBMISSIONS)
    finally:
        book.close()
    return [(r.get("id"), r.get("status")) for r in rows]


def stored(workspace: Workspace, submission_id: str) -> dict[str, str]:
    """The clean fields of a submission's latest version, as the ledger holds them."""
    with Ledger(workspace.ledger) as ledger:
        versions = ledger.submission_versions(submission_id)
    assert versions, f"{submission_id} is not in the ledger"
    return json.loads(versions[-1]["data"])


def versions(workspace: Workspace, submission_id: str) -> int:
    with Ledger(workspace.ledger) as ledger:
        return len(ledger.submission_versions(submission_id))


def pull_values(workspace: Workspace, key: str, typed: list[Any], **tabs: Any) -> list[tuple[Any, Any]]:
    """One good row per typed value of ``key`` (distinct titles), pulled; their (编号, 状态)."""
    rows = [material(**{key: value, "title": f"{key}-{i}"}) for i, value in enumerate(typed)]
    workspace.make_workbook(rows, **tabs)
    run_job(workspace.settings, pulling.pull)
    found = marks(workspace)
    assert len(found) == len(typed)
    return found


def old_layout(workspace: Workspace, rows: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> None:
    """A workbook whose 素材 tab has the first release's columns (plus ``extra`` keys), holding ``rows``."""
    columns = [c for c in SUBMISSIONS.columns if c.key not in STRUCTURED or c.key in extra]
    workspace.make_workbook([])
    book = openpyxl.load_workbook(workspace.workbook)
    position = book.sheetnames.index(SUBMISSIONS.name)
    book.remove(book[SUBMISSIONS.name])
    sheet = book.create_sheet(SUBMISSIONS.name, position)
    sheet.append([c.name for c in columns])
    for row in rows:
        sheet.append([row.get(c.key) for c in columns])
    book.save(workspace.workbook)


# --- 1. canonical values and synonyms, per column --------------------------------------

SYNONYMS = {
    "listing": [
        *((v, v) for v in LISTINGS),
        ("已纳入", "在册"), ("纳入", "在册"), ("是", "在册"), ("在名单", "在册"), (" 在 册 ", "在册"),
        ("移除", "已移除"), ("已删除", "已移除"), ("删除", "已移除"), ("已屏蔽", "已移除"), ("屏蔽", "已移除"),
        ("已撤销", "已移除"), ("撤销", "已移除"), ("已移出", "已移除"), ("移出", "已移除"), ("已解除", "已移除"),
        ("否", "未纳入"), ("无", "未纳入"), ("不在册", "未纳入"),
    ],
    "closure": [
        *((v, v) for v in CLOSURES),
        ("执结", "执行完毕"), ("全部履行", "执行完毕"), ("履行完毕", "执行完毕"), ("已执结", "执行完毕"),
        ("全额履行", "执行完毕"),
        ("和解", "执行和解"), ("达成和解", "执行和解"),
        ("部分执行", "部分履行"), ("部分到位", "部分履行"), ("部分", "部分履行"),
        ("终本", "终结本次执行"), ("终结本次", "终结本次执行"), ("终结本次执行程序", "终结本次执行"),
    ],
    "inability": [
        *((v, v) for v in INABILITIES),
        ("无财产", "被执行人无财产"), ("无财产可供执行", "被执行人无财产"), ("确无财产", "被执行人无财产"),
        ("失联", "下落不明"), ("下落不明且无财产", "下落不明"),
        ("丧失劳动能力", "丧失履行能力"), ("生活困难", "丧失履行能力"), ("重病", "丧失履行能力"),
        ("停业", "企业停业破产"), ("破产", "企业停业破产"), ("吊销", "企业停业破产"), ("注销", "企业停业破产"),
        ("企业停业", "企业停业破产"), ("企业破产", "企业停业破产"),
        ("无法变现", "财产无法处置"), ("无法处置", "财产无法处置"), ("流拍", "财产无法处置"),
    ],
}


@pytest.mark.parametrize("key", sorted(SYNONYMS))
def test_each_choice_column_stores_its_canonical_value_for_every_synonym(workspace, key):
    typed, expected = zip(*SYNONYMS[key])
    found = pull_values(workspace, key, list(typed))
    assert [status for _, status in found] == [ACCEPTED] * len(typed)
    assert [stored(workspace, ident)[key] for ident, _ in found] == list(expected)


def test_blank_structured_cells_are_stored_as_empty_strings(workspace):
    found = pull_values(workspace, "listing", [None, "", "   "])
    assert [status for _, status in found] == [ACCEPTED] * 3
    for ident, _ in found:
        data = stored(workspace, ident)
        assert {k: data[k] for k in STRUCTURED} == {k: "" for k in STRUCTURED}


def test_the_internal_note_is_stored_as_typed(workspace):
    note = "  请勿对外公开申请人的工作单位。\n稿件发布前请与承办法官核对。 "
    [(ident, status)] = pull_values(workspace, "note", [note])
    assert status == ACCEPTED
    assert stored(workspace, ident)["note"] == note.strip()


@pytest.mark.parametrize("header, key, typed, expected", [
    ("blacklist", "listing", "已纳入", "在册"),
    ("Dishonest List", "listing", "屏蔽", "已移除"),
    ("closure", "closure", "终本", "终结本次执行"),
    ("Amount", "amount", "40万元", "400000"),
    ("amount recovered", "amount", "12.5", "12.5"),
    ("Handling Team", "handling_team", "执行二组", "执行二组"),
    ("inability", "inability", "流拍", "财产无法处置"),
    ("Internal Note", "note", "仅供内部参考", "仅供内部参考"),
    ("note", "note", "仅供内部参考", "仅供内部参考"),
], ids=lambda v: v if isinstance(v, str) and v.isascii() else None)
def test_english_headers_find_the_structured_columns(workspace, header, key, typed, expected):
    old_layout(workspace, [], extra=(key,))
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book[SUBMISSIONS.name]
    names = [c.value for c in sheet[1]]
    sheet.cell(row=1, column=names.index(SUBMISSIONS.column(key).name) + 1, value=header)
    values = material(**{key: typed})
    columns = [c for c in SUBMISSIONS.columns if c.key not in STRUCTURED or c.key == key]
    sheet.append([values.get(c.key) for c in columns])
    book.save(workspace.workbook)
    run_job(workspace.settings, pulling.pull)
    [(ident, status)] = marks(workspace)
    assert status == ACCEPTED
    assert stored(workspace, ident)[key] == expected


# --- 2. amounts in every form people type ----------------------------------------------

AMOUNTS = [
    (400000, "400000"),
    (400000.0, "400000"),
    (12.5, "12.5"),
    (0, "0"),
    ("400000", "400000"),
    ("400000元", "400000"),
    ("400,000元", "400000"),
    ("400，000元", "400000"),
    ("1,234,567.50", "1234567.5"),
    ("40万", "400000"),
    ("40万元", "400000"),
    ("40.5 万元", "405000"),
    ("51.2万元", "512000"),
    ("3.6万元", "36000"),
    ("286万元", "2860000"),
    ("４０万元", "400000"),
    ("４００，０００元", "400000"),
    ("¥400000", "400000"),
    ("￥40万元", "400000"),
    ("¥ 12.50", "12.5"),
    ("12.50元", "12.5"),
    ("400000.00", "400000"),
    (" 40 万 元 ", "400000"),
]


def test_amounts_are_stored_in_yuan_as_plain_decimals_however_typed(workspace):
    typed, expected = zip(*AMOUNTS)
    found = pull_values(workspace, "amount", list(typed))
    assert [status for _, status in found] == [ACCEPTED] * len(typed)
    assert [stored(workspace, ident)["amount"] for ident, _ in found] == list(expected)


def test_the_same_amount_typed_another_way_is_not_a_new_version(workspace):
    [(ident, _)] = pull_values(workspace, "amount", ["40万元"])
    workspace.edit(SUBMISSIONS, 2, amount=400000)
    run_job(workspace.settings, pulling.pull)
    assert marks(workspace) == [(ident, ACCEPTED)]
    assert versions(workspace, ident) == 1
    workspace.edit(SUBMISSIONS, 2, amount="41万元")
    run_job(workspace.settings, pulling.pull)
    assert marks(workspace) == [(ident, f"{ACCEPTED}（第2版）")]
    assert stored(workspace, ident)["amount"] == "410000"


# --- 3. values intake cannot read: the row is not accepted ------------------------------

BAD_VALUES = [
    ("listing", "待定", "失信名单只能填 在册、已移除 或 未纳入：待定"),
    ("listing", "曾纳入", "失信名单只能填 在册、已移除 或 未纳入：曾纳入"),
    ("closure", "结案", "结案方式无法识别：结案"),
    ("closure", "撤回申请", "结案方式无法识别：撤回申请"),
    ("inability", "其他", "执行不能情形无法识别：其他"),
    ("amount", "四十万", "执行到位金额格式有误：四十万（例：40万元 或 400000）"),
    ("amount", "约40万元", "执行到位金额格式有误：约40万元（例：40万元 或 400000）"),
    ("amount", "40万余元", "执行到位金额格式有误：40万余元（例：40万元 或 400000）"),
    ("amount", "-400", "执行到位金额格式有误：-400（例：40万元 或 400000）"),
    ("amount", -400, "执行到位金额格式有误：-400（例：40万元 或 400000）"),
    ("amount", -0.5, "执行到位金额格式有误：-0.5（例：40万元 或 400000）"),
    ("amount", "4,00", "执行到位金额格式有误：4,00（例：40万元 或 400000）"),
    ("amount", "40万美元", "执行到位金额格式有误：40万美元（例：40万元 或 400000）"),
    ("amount", "见执行结果", "执行到位金额格式有误：见执行结果（例：40万元 或 400000）"),
    ("handling_team", "执行五组", "承办部门不在部门表中：执行五组"),
]


@pytest.mark.parametrize("key, typed, problem", BAD_VALUES)
def test_a_value_intake_cannot_read_is_flagged_and_the_row_is_not_accepted(workspace, key, typed, problem):
    found = pull_values(workspace, key, [typed])
    assert found == [(None, problem)]
    with Ledger(workspace.ledger) as ledger:
        assert [r["message"] for r in ledger.row_errors()] == [problem]
        assert ledger.team_weeks("2026-W48")[0].valid == 0


def test_several_bad_structured_cells_are_all_named_in_one_status(workspace):
    workspace.make_workbook([material(listing="待定", closure="结案", amount="很多", inability="其他")])
    summary = run_job(workspace.settings, pulling.pull)
    assert (summary.accepted, summary.flagged) == (0, 1)
    [(ident, status)] = marks(workspace)
    assert ident is None
    assert status.split("；") == ["失信名单只能填 在册、已移除 或 未纳入：待定", "结案方式无法识别：结案",
                                  "执行到位金额格式有误：很多（例：40万元 或 400000）", "执行不能情形无法识别：其他"]


def test_a_bad_structured_value_on_an_accepted_row_makes_it_need_correction(workspace):
    [(ident, _)] = pull_values(workspace, "closure", ["执行完毕"])
    workspace.edit(SUBMISSIONS, 2, closure="差不多了")
    summary = run_job(workspace.settings, pulling.pull)
    assert (summary.accepted, summary.flagged) == (0, 1)
    assert marks(workspace) == [(ident, "结案方式无法识别：差不多了")]
    with Ledger(workspace.ledger) as ledger:
        assert ledger.submission(ident)["state"] == "invalid"


# --- 4. 承办部门 against the 部门 tab ---------------------------------------------------------

def test_the_handling_team_must_be_on_the_team_tab_and_is_compared_without_spaces(workspace):
    found = pull_values(workspace, "handling_team", ["执行 二组", "执行指挥中心", "执行二组 ", None, "执行五组"])
    assert [status for _, status in found] == [ACCEPTED] * 4 + ["承办部门不在部门表中：执行五组"]
    assert [stored(workspace, ident)["handling_team"] for ident, _ in found[:4]] == \
        ["执行二组", "执行指挥中心", "执行二组", ""]


def test_a_handling_team_added_to_the_team_tab_makes_the_row_acceptable(workspace):
    teams = [*DEFAULT_TEAMS, {"team": "执行 五组", "leader": "孙伟", "email": "zhixing5@court.example"}]
    [(ident, status)] = pull_values(workspace, "handling_team", ["执行五组"], teams=teams)
    assert status == ACCEPTED
    assert stored(workspace, ident)["handling_team"] == "执行五组"


# --- 5. a workbook without the columns, and one that gains them -------------------------

def test_a_workbook_without_the_structured_columns_pulls_as_before(workspace):
    rows = [material(), material(title="第二条", team="执行 二组", publishable="否"), material(title="", facts="")]
    old_layout(workspace, rows)
    summary = run_job(workspace.settings, pulling.pull)
    assert (summary.rows, summary.accepted, summary.flagged, summary.new) == (3, 2, 1, 2)
    found = marks(workspace)
    assert [status for _, status in found] == [ACCEPTED, ACCEPTED, "缺少标题；缺少案情"]
    for ident, _ in found[:2]:
        data = stored(workspace, ident)
        assert {k: data[k] for k in STRUCTURED} == {k: "" for k in STRUCTURED}
    book = openpyxl.load_workbook(workspace.workbook)
    assert [c.value for c in book[SUBMISSIONS.name][1]] == \
        [c.name for c in SUBMISSIONS.columns if c.key not in STRUCTURED]


def test_adding_the_columns_to_an_old_workbook_makes_no_new_version_until_one_is_filled(workspace):
    old_layout(workspace, [material()])
    run_job(workspace.settings, pulling.pull)
    [(ident, _)] = marks(workspace)
    with Ledger(workspace.ledger) as ledger:
        hash_before = ledger.submission(ident)["content_hash"]

    # The office adds the new columns, empty, at the right of the tab.
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book[SUBMISSIONS.name]
    width = sheet.max_column
    for offset, name in enumerate(NEW_HEADERS, start=1):
        sheet.cell(row=1, column=width + offset, value=name)
    book.save(workspace.workbook)
    summary = run_job(workspace.settings, pulling.pull)
    assert (summary.new, summary.changed) == (0, 0)
    assert marks(workspace) == [(ident, ACCEPTED)]
    with Ledger(workspace.ledger) as ledger:
        assert ledger.submission(ident)["content_hash"] == hash_before

    book = openpyxl.load_workbook(workspace.workbook)
    book[SUBMISSIONS.name].cell(row=2, column=width + 1, value="已屏蔽")
    book.save(workspace.workbook)
    summary = run_job(workspace.settings, pulling.pull)
    assert summary.changed == 1
    assert marks(workspace) == [(ident, f"{ACCEPTED}（第2版）")]
    assert stored(workspace, ident)["listing"] == "已移除"


# --- 6. 对外名称 on 部门 -------------------------------------------------------------------------

def test_the_outward_name_of_each_team_is_stored(workspace):
    teams = [{**DEFAULT_TEAMS[0], "outward": " 儋州市人民法院执行局 "}, DEFAULT_TEAMS[1],
             {**DEFAULT_TEAMS[2], "outward": "儋州市人民法院执行指挥中心"}]
    workspace.make_workbook([material()], teams=teams)
    run_job(workspace.settings, pulling.pull)
    with Ledger(workspace.ledger) as ledger:
        assert [(t.name, t.outward) for t in ledger.teams()] == [
            ("执行一组", "儋州市人民法院执行局"), ("执行二组", ""), ("执行指挥中心", "儋州市人民法院执行指挥中心")]


def test_a_changed_outward_name_replaces_the_stored_one(workspace):
    workspace.make_workbook([], teams=[{**DEFAULT_TEAMS[0], "outward": "儋州市人民法院执行局"}])
    run_job(workspace.settings, pulling.pull)
    workspace.edit(TEAMS, 2, outward="儋州市人民法院执行局执行一庭")
    run_job(workspace.settings, pulling.pull)
    with Ledger(workspace.ledger) as ledger:
        assert [t.outward for t in ledger.teams()] == ["儋州市人民法院执行局执行一庭"]


def test_a_team_tab_without_the_outward_column_still_pulls(workspace):
    workspace.make_workbook([material()])
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book[TEAMS.name]
    sheet.delete_cols([c.value for c in sheet[1]].index("对外名称") + 1)
    book.save(workspace.workbook)
    summary = run_job(workspace.settings, pulling.pull)
    assert summary.accepted == 1
    with Ledger(workspace.ledger) as ledger:
        assert [(t.name, t.outward) for t in ledger.teams()] == [(t["team"], "") for t in DEFAULT_TEAMS]


# --- 7. the template init writes ---------------------------------------------------------

def _validations(sheet) -> dict[str, str]:
    """Header name → the list formula of the drop-down on its column (row 2 onwards)."""
    names = {cell.column_letter: cell.value for cell in sheet[1]}
    found = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            if cell_range.min_row == 2 and cell_range.min_col == cell_range.max_col:
                found[names[openpyxl.utils.get_column_letter(cell_range.min_col)]] = validation.formula1
    return found


def test_init_writes_the_structured_columns_between_publishable_and_status_with_drop_downs(workspace):
    workspace.cli("init", check=True)
    book = openpyxl.load_workbook(workspace.workbook)
    sheet = book[SUBMISSIONS.name]
    header = [c.value for c in sheet[1]]
    start = header.index("可公开") + 1
    assert tuple(header[start:start + len(NEW_HEADERS)]) == NEW_HEADERS
    assert header[start + len(NEW_HEADERS)] == "状态" and header[-1] == "状态"

    lists = _validations(sheet)
    assert lists["失信名单"] == '"在册,已移除,未纳入"'
    assert lists["结案方式"] == '"执行完毕,执行和解,部分履行,终结本次执行,其他"'
    assert lists["执行不能情形"] == '"被执行人无财产,下落不明,丧失履行能力,企业停业破产,财产无法处置"'
    assert lists["承办部门"] == lists["部门"] and "部门" in lists["承办部门"]
    assert "执行到位金额" not in lists and "内部备注" not in lists
    for validation in sheet.data_validations.dataValidation:
        assert not validation.showErrorMessage, "drop-downs suggest, they never refuse"

    comments = {c.value: (c.comment.text if c.comment else "") for c in sheet[1]}
    assert "被执行人目前是否在失信被执行人名单中；只有“在册”且类别允许时稿件才会公开其姓名" in comments["失信名单"]
    assert "写给宣传办的说明，不会出现在任何对外稿件中" in comments["内部备注"]
    for name in NEW_HEADERS:
        assert comments[name], name

    fills = {c.value: c.fill.fgColor.rgb for c in sheet[1]}
    note_fill = fills.pop("内部备注")
    assert note_fill not in set(fills.values()), "内部备注 stands apart from every other header"

    teams = book[TEAMS.name]
    team_header = [c.value for c in teams[1]]
    assert team_header[-2:] == ["对外名称", "状态"]
    outward = teams.cell(row=1, column=team_header.index("对外名称") + 1)
    assert outward.comment.text.startswith("对外稿件中使用的名称，如“儋州市人民法院执行局”；空白时稿件写“法院名称＋执行局”")


# --- 8. the demo -------------------------------------------------------------------------

# The market-day publicity row (类别 typed 宣传标语) is taken in as a 宣传活动: no longer a problem.
DEMO_PROBLEMS = ("缺少执行过程", "案号格式有误：2026琼执123", "部门不在部门表中：执行五组", "重复：与 S-")


@pytest.fixture
def demo(workspace: Workspace) -> dict[str, dict[str, str]]:
    """init --demo and pull; the stored fields of each accepted row, by title."""
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)
    rows = workspace.rows(SUBMISSIONS)
    return {row["title"]: stored(workspace, row["id"]) for row in rows if row["id"]}


def test_the_demo_pulls_with_only_its_deliberate_problems(workspace, demo):
    with Ledger(workspace.ledger) as ledger:
        errors = ledger.row_errors()
    messages = sorted(r["message"] for r in errors if r["tab_key"] == "submissions")
    # The 刊发 tab records where the first release ran: before it is drafted and published, its rows wait;
    # so does the 回执 row of a deputy's answer to the invitation the first cycle drafts.
    assert sorted((r["tab_key"], r["message"]) for r in errors if r["tab_key"] != "submissions") == [
        ("placements", "草稿编号 D-2026-000001 不存在")] * 3 + [("replies", "没有编号为 I-2026-000001 的邀请函")]
    assert len(messages) == len(DEMO_PROBLEMS)
    for message, expected in zip(messages, sorted(DEMO_PROBLEMS)):
        assert message.startswith(expected), messages
    assert len(demo) == 17
    filled = [title for title, fields in demo.items() if any(fields.get(k) for k in STRUCTURED)]
    assert len(filled) == 15, "every accepted demo case but the 执行异议 hearing says something structured"
    unfilled = [title for title in demo if title not in filled]
    assert "执行宣传进集市 发放宣传资料营造打击拒执氛围" in unfilled, "a publicity event is no case: nothing structured"


def by_debtor(demo: dict[str, dict[str, str]], name: str) -> dict[str, str]:
    [fields] = [f for f in demo.values() if name in f["parties"] or name in f["title"]]
    return {k: fields[k] for k in STRUCTURED if fields[k]}


def test_the_demo_fills_the_structured_columns_as_its_cases_tell_them(demo):
    assert by_debtor(demo, "陈海波") == {"listing": "已移除", "closure": "执行完毕", "amount": "512000"}
    assert by_debtor(demo, "何振东") == {"listing": "已移除", "closure": "执行完毕", "amount": "36000"}
    assert by_debtor(demo, "张建华") == {"listing": "已移除", "closure": "执行完毕", "amount": "162000"}
    assert by_debtor(demo, "李国强") == {"listing": "未纳入", "closure": "部分履行", "amount": "120000"}
    assert by_debtor(demo, "吴志坚") == {"closure": "终结本次执行", "inability": "丧失履行能力"}
    assert by_debtor(demo, "王春生") == {"closure": "终结本次执行", "inability": "财产无法处置"}
    assert by_debtor(demo, "餐饮管理") == {"closure": "终结本次执行", "inability": "企业停业破产"}
    assert by_debtor(demo, "工程机械租赁") == {"closure": "部分履行", "amount": "400000"}
    assert by_debtor(demo, "冷链物流") == {"closure": "其他", "amount": "500000"}
    assert by_debtor(demo, "某某银行") == {"closure": "执行完毕", "amount": "2860000"}
    assert by_debtor(demo, "建筑劳务") == {"closure": "执行完毕", "amount": "1170000"}
    huang = by_debtor(demo, "黄德才")
    assert {k: huang[k] for k in ("listing", "closure", "amount")} == \
        {"listing": "在册", "closure": "执行和解", "amount": "500000"}
    assert "closure" not in by_debtor(demo, "郑志勇")
    li = by_debtor(demo, "黎国华")
    assert li["handling_team"] == "执行一组"
    [model] = [f for f in demo.values() if "黎国华" in f["title"]]
    assert model["team"] == "执行指挥中心"
    assert "建议将其事迹作为执行干警先进典型进行专题报道。" in model["outcome"]


def test_the_demo_keeps_its_advice_to_the_office_in_the_internal_note(demo):
    [special] = [f for f in demo.values() if "某镇人民政府" in f["parties"]]
    assert special["note"] == "鉴于案件仍在协调履行中，建议暂不对外公开报道。"
    assert "建议暂不对外公开报道" not in special["outcome"]
    assert special["outcome"].endswith("剩余款项按计划分期履行。")
    notes = [f["note"] for f in demo.values() if f["note"]]
    assert 2 <= len(notes) <= 4


def test_the_demo_team_tab_names_each_team_outward(workspace, demo):
    with Ledger(workspace.ledger) as ledger:
        outward = {t.name: t.outward for t in ledger.teams()}
    assert outward == {"执行一组": "儋州市人民法院执行局", "执行二组": "儋州市人民法院执行局",
                       "执行三组": "儋州市人民法院执行局", "执行四组": "儋州市人民法院执行局",
                       "执行指挥中心": "儋州市人民法院执行指挥中心"}


# --- 9. no ID-card number in the ledger ------------------------------------------------------

ID_CARD = "46000319850317125X"
ID_FORMS = (ID_CARD, "460003 19850317 125X", "４６０００３１９８５０３１７１２５Ｘ", "460003-1985-0317-125x")


def _folded(text: str) -> str:
    """Digits and X only, half-width and upper case: how an ID number survives any spacing."""
    return re.sub(r"[^0-9X]", "", unicodedata.normalize("NFKC", text).upper())


def ledger_texts(path) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value of every table of the ledger."""
    db = sqlite3.connect(path)
    try:
        out = []
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            for row in db.execute(f"SELECT * FROM {table}"):
                out += [(table, column, value) for column, value in zip(columns, row)
                        if isinstance(value, (str, bytes))]
        return out
    finally:
        db.close()


def test_the_ledger_keeps_no_id_card_number_however_it_was_typed(workspace):
    rows = [material(title=f"身份证号写法{i}", facts=f"被执行人李某强（身份证号码：{form}）未履行。",
                     outcome=f"已核实身份证{form}。")
            for i, form in enumerate(ID_FORMS)]
    rows.append(material(title=f"标题里的号码 {ID_FORMS[1]}", submitter=ID_CARD, note=f"身份证 {ID_CARD}"))
    # An invalid row: its problems (状态, row_errors) would quote what was typed.
    rows.append(material(title="号码写进了案号", case_number=ID_FORMS[1], amount=ID_CARD))
    workspace.make_workbook(rows)
    run_job(workspace.settings, pulling.pull)
    found = marks(workspace)
    assert [status for _, status in found[:-1]] == [ACCEPTED] * (len(rows) - 1)
    assert found[-1][0] is None and "案号格式有误" in found[-1][1]

    for ident, _ in found[:len(ID_FORMS)]:
        data = stored(workspace, ident)
        assert data["facts"] == "被执行人李某强（身份证号码：×××）未履行。"
        assert data["outcome"] == "已核实身份证×××。"
    with Ledger(workspace.ledger) as ledger:
        [error] = ledger.row_errors()
        assert "×××" in error["message"]
        ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    for table, column, value in ledger_texts(workspace.ledger):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        assert "31985031712" not in _folded(text), f"{table}.{column}: {text}"
    raw = workspace.ledger.read_bytes()
    for form in ID_FORMS:
        assert form.encode("utf-8") not in raw
    assert b"19850317" not in raw and "１９８５０３１７".encode() not in raw


def test_an_unchanged_row_carrying_an_id_number_is_not_a_new_version(workspace):
    workspace.make_workbook([material(facts=f"被执行人李某强（身份证号码：{ID_CARD}）未履行。")])
    run_job(workspace.settings, pulling.pull)
    [(ident, _)] = marks(workspace)
    assert stored(workspace, ident)["facts"] == "被执行人李某强（身份证号码：×××）未履行。"
    summary = run_job(workspace.settings, pulling.pull)
    assert (summary.new, summary.changed) == (0, 0)
    assert marks(workspace) == [(ident, ACCEPTED)]
    assert versions(workspace, ident) == 1
