"""Intake: what people type into the workbook, and what the pipeline makes of it.

Every behaviour is proven through ``pulling.pull`` on a real .xlsx workbook: we
assert on the 编号/状态 cells written back, on the returned PullSummary and on
the ledger. Tables of ugly inputs are additionally run straight through the
pure functions of ``pipeline.normalize`` so that one odd spelling failing is
easy to spot.

Layout of this file:
    helpers
    1. case numbers (案号)
    2. kinds (类别)
    3. submission time (提交时间) and the ISO week
    4. team names (部门)
    5. publishable (可公开)
    6. required text, several problems in one row, no ID for flagged rows
    7. blank and whitespace-only rows
    8. duplicates
    9. nothing lost (a mixed workbook)
   10. header mapping and layout errors
   11. the other tabs (部门, 媒体, 活动, 审核)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from conftest import DEFAULT_TEAMS, NOW, Workspace, material, read_rows, run_job
from openpyxl.utils import get_column_letter

from pipeline.core import normalize as norm
from pipeline.core.calendar import Week
from pipeline.core.errors import SheetLayoutError
from pipeline.core.layout import ACTIVITIES, MEDIA, REVIEWS, SUBMISSIONS, TEAMS
from pipeline.core.model import KINDS, PullSummary
from pipeline.flows import pulling
from pipeline.ledger import Ledger

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACCEPTED = "已受理"
CANONICAL_CASE = "（2026）琼9003执1234号"


# --- helpers -------------------------------------------------------------------

def pull_rows(workspace, submissions: list[dict[str, Any]], **tabs: Any) -> PullSummary:
    """Write a real workbook holding these 素材 rows (and other tabs), then pull it."""
    workspace.make_workbook(submissions, **tabs)
    return run_job(workspace.settings, pulling.pull)


def sheet_row(index: int) -> int:
    """The sheet row of the ``index``-th row given to make_workbook."""
    return index + 2


def marks(workspace, tab=SUBMISSIONS) -> dict[int, tuple[Any, Any]]:
    """Sheet row -> (编号, 状态) as written back, for rows with any cell typed (one read)."""
    book = openpyxl.load_workbook(workspace.workbook, read_only=True)
    try:
        rows = read_rows(book[tab.name], tab)
    finally:
        book.close()
    return {r["row"]: (r.get("id"), r.get("status")) for r in rows}


def ids(workspace, count: int) -> list[Any]:
    """编号 of the first ``count`` rows given to make_workbook."""
    found = marks(workspace)
    return [found.get(sheet_row(i), (None, None))[0] for i in range(count)]


def statuses(workspace, count: int, tab=SUBMISSIONS) -> list[Any]:
    """状态 of the first ``count`` rows given to make_workbook."""
    found = marks(workspace, tab)
    return [found.get(sheet_row(i), (None, None))[1] for i in range(count)]


def records(workspace, count: int) -> list[dict[str, Any]]:
    """The ledger's submission row of each of the first ``count`` rows, with the
    clean values of its latest version under ``"data"``; each row must have an ID."""
    found = ids(workspace, count)
    assert all(found), f"rows without an ID: {[sheet_row(i) for i, v in enumerate(found) if not v]}"
    out = []
    with Ledger(workspace.ledger) as ledger:
        for submission_id in found:
            row = ledger.submission(submission_id)
            versions = ledger.submission_versions(submission_id)
            assert row is not None and versions, f"{submission_id} is not in the ledger"
            out.append({**dict(row), "data": json.loads(versions[-1]["data"])})
    return out


def record(workspace, submission_id: str) -> dict[str, Any]:
    with Ledger(workspace.ledger) as ledger:
        row = ledger.submission(submission_id)
        versions = ledger.submission_versions(submission_id)
    assert row is not None and versions, f"{submission_id} is not in the ledger"
    return {**dict(row), "data": json.loads(versions[-1]["data"])}


def is_blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def titled(values: list[Any], key: str, prefix: str) -> list[dict[str, Any]]:
    """One good row per value of ``key``; distinct titles keep them from being duplicates."""
    return [material(**{key: value, "title": f"{prefix}{i}"}) for i, value in enumerate(values)]


def replace_submissions(workspace, header: list[Any], rows: list[list[Any]]) -> None:
    """A real workbook whose 素材 tab has exactly this header row and these rows."""
    workspace.make_workbook([])
    book = openpyxl.load_workbook(workspace.workbook)
    position = book.sheetnames.index(SUBMISSIONS.name)
    book.remove(book[SUBMISSIONS.name])
    sheet = book.create_sheet(SUBMISSIONS.name, position)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(workspace.workbook)


def default_header(**renamed: str) -> list[str]:
    return [renamed.get(col.key, col.name) for col in SUBMISSIONS.columns]


def row_values(values: dict[str, Any]) -> list[Any]:
    return [values.get(col.key) for col in SUBMISSIONS.columns]


def cells(workspace, tab_name: str) -> list[list[Any]]:
    book = openpyxl.load_workbook(workspace.workbook)
    return [list(r) for r in book[tab_name].iter_rows(values_only=True)]


def column_of(key: str) -> int:
    """0-based position of a column in the template's 素材 tab."""
    return [c.key for c in SUBMISSIONS.columns].index(key)


def edit_workbook(workspace, change) -> None:
    book = openpyxl.load_workbook(workspace.workbook)
    change(book)
    book.save(workspace.workbook)


# --- 1. case numbers (案号) -------------------------------------------------------

CASE_SPELLINGS = [
    ("（2026）琼9003执1234号", CANONICAL_CASE),
    ("(2026)琼9003执1234号", CANONICAL_CASE),                 # half-width brackets
    ("〔2026〕琼9003执1234号", CANONICAL_CASE),                 # 〔〕
    ("【2026】琼9003执1234号", CANONICAL_CASE),                 # 【】
    ("［2026］琼9003执1234号", CANONICAL_CASE),                 # full-width square brackets
    (" （2026） 琼9003 执 1234 号 ", CANONICAL_CASE),           # stray spaces
    ("（2026）\u3000琼9003执1234号\u3000", CANONICAL_CASE),    # full-width spaces
    ("（２０２６）琼９００３执１２３４号", CANONICAL_CASE),       # full-width digits
    ("（2026）琼9003执1234", CANONICAL_CASE),                   # missing 号
    ("(２０２６) 琼9003执１２３４", CANONICAL_CASE),             # several of the above at once
    ("（2016）琼9003执字第123号", "（2016）琼9003执字第123号"),  # old form
    ("(2016)琼9003执字第123", "（2016）琼9003执字第123号"),
    ("（2026）琼9003刑初88号", "（2026）琼9003刑初88号"),        # criminal case
    ("(2026)琼9003执恢56号", "（2026）琼9003执恢56号"),
]
MALFORMED_CASES = ["2026琼执123", "（2026）执123号", "（1890）琼9003执1234号"]


@pytest.mark.parametrize(("raw", "canonical"), CASE_SPELLINGS)
def test_case_number_spellings_normalise_to_canonical_form(raw, canonical):
    assert norm.case_number(raw, latest_year=2027) == canonical


@pytest.mark.parametrize("raw", MALFORMED_CASES)
def test_malformed_case_number_is_rejected_with_raw_text(raw):
    with pytest.raises(norm.Invalid) as caught:
        norm.case_number(raw, latest_year=2027)
    assert str(caught.value) == f"案号格式有误：{raw}"


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_blank_case_number_normalises_to_empty(raw):
    assert norm.case_number(raw, latest_year=2027) == ""


def test_pull_stores_every_case_number_spelling_in_canonical_form(workspace):
    raws = [raw for raw, _ in CASE_SPELLINGS]
    pull_rows(workspace, titled(raws, "case_number", "案号写法"))
    got = dict(zip(raws, (r["data"]["case_number"] for r in records(workspace, len(raws)))))
    assert got == dict(CASE_SPELLINGS)


def test_pull_flags_malformed_case_numbers_in_status(workspace):
    pull_rows(workspace, titled(MALFORMED_CASES, "case_number", "坏案号"))
    got = dict(zip(MALFORMED_CASES, statuses(workspace, len(MALFORMED_CASES))))
    assert got == {raw: f"案号格式有误：{raw}" for raw in MALFORMED_CASES}


def test_pull_accepts_a_row_without_case_number(workspace):
    summary = pull_rows(workspace, [material(case_number=None), material(case_number="\u3000", title="另一条")])
    assert (summary.accepted, summary.flagged) == (2, 0)
    assert [r["data"]["case_number"] for r in records(workspace, 2)] == ["", ""]


# --- 2. kinds (类别) --------------------------------------------------------------

KIND_SPELLINGS = [
    ("执行不能案件", "执行不能"),
    ("老赖", "教科书式老赖"),
    ("成功执行", "执行成功"),
    ("失信惩戒", "惩戒失信"),
    ("拒执", "打击拒执"),
    ("执行 成功", "执行成功"),
    ("\u3000执行不能\u3000", "执行不能"),
    ("教科书式\u3000老赖", "教科书式老赖"),
    ("“执行成功”", "执行成功"),
    ("＂打击拒执＂", "打击拒执"),                 # full-width quotes
    ("执行成功案例", "执行成功"),
]
UNKNOWN_KINDS = ["八卦新闻", "ＸＹＺ"]


@pytest.mark.parametrize("kind", KINDS)
def test_canonical_kind_is_kept(kind):
    assert norm.kind(kind) == kind


@pytest.mark.parametrize(("raw", "canonical"), KIND_SPELLINGS)
def test_kind_synonyms_and_odd_spacing_map_to_canonical_kind(raw, canonical):
    assert norm.kind(raw) == canonical


@pytest.mark.parametrize("raw", UNKNOWN_KINDS)
def test_unknown_kind_is_rejected_with_raw_text(raw):
    with pytest.raises(norm.Invalid) as caught:
        norm.kind(raw)
    assert str(caught.value) == f"类别无法识别：{raw}"


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_blank_kind_is_reported_missing(raw):
    with pytest.raises(norm.Invalid) as caught:
        norm.kind(raw)
    assert str(caught.value) == "缺少类别"


def test_pull_stores_canonical_kind_for_canonical_and_synonym_spellings(workspace):
    table = [(k, k) for k in KINDS] + KIND_SPELLINGS
    raws = [raw for raw, _ in table]
    pull_rows(workspace, titled(raws, "kind", "类别写法"))
    got = dict(zip(raws, (r["kind"] for r in records(workspace, len(raws)))))
    assert got == dict(table)


def test_pull_flags_unknown_kind_in_status(workspace):
    pull_rows(workspace, titled(UNKNOWN_KINDS, "kind", "怪类别"))
    got = dict(zip(UNKNOWN_KINDS, statuses(workspace, len(UNKNOWN_KINDS))))
    assert got == {raw: f"类别无法识别：{raw}" for raw in UNKNOWN_KINDS}


def test_pull_flags_blank_kind_as_missing(workspace):
    pull_rows(workspace, [material(kind=None), material(kind="\u3000", title="另一条")])
    assert statuses(workspace, 2) == ["缺少类别", "缺少类别"]


# --- 3. submission time (提交时间) and the ISO week ------------------------------------

# Excel's serial day number for 2026-11-28 00:00.
SERIAL_2026_11_28 = 46354

MOMENTS = [
    (datetime(2026, 11, 28, 14, 5), "2026-11-28T14:05:00+08:00"),
    (date(2026, 11, 28), "2026-11-28T00:00:00+08:00"),
    ("2026-11-28", "2026-11-28T00:00:00+08:00"),
    ("2026/11/28 14:05", "2026-11-28T14:05:00+08:00"),
    ("2026年11月28日", "2026-11-28T00:00:00+08:00"),
    ("2026年11月28日 9时30分", "2026-11-28T09:30:00+08:00"),
    ("２０２６年１１月２８日", "2026-11-28T00:00:00+08:00"),
    ("2026-11-28T14:05:00+08:00", "2026-11-28T14:05:00+08:00"),
    ("2026-11-28T06:05:00+00:00", "2026-11-28T14:05:00+08:00"),
    ("2026-11-28T06:05:00Z", "2026-11-28T14:05:00+08:00"),
    (datetime(2026, 11, 28, 6, 5, tzinfo=timezone.utc), "2026-11-28T14:05:00+08:00"),
    (SERIAL_2026_11_28, "2026-11-28T00:00:00+08:00"),
    (SERIAL_2026_11_28 + 0.5, "2026-11-28T12:00:00+08:00"),
]
GARBAGE_MOMENTS = ["下周三", "2026-02-30", "2026-11-28 25:00", "abc", 12345]


@pytest.mark.parametrize(("raw", "expected"), MOMENTS)
def test_moment_reads_every_date_spelling_in_shanghai_time(raw, expected):
    assert norm.moment(raw, SHANGHAI, label="提交时间").isoformat() == expected


@pytest.mark.parametrize("raw", GARBAGE_MOMENTS)
def test_moment_rejects_garbage_with_raw_text(raw):
    with pytest.raises(norm.Invalid) as caught:
        norm.moment(raw, SHANGHAI, label="提交时间")
    assert str(caught.value) == f"提交时间无法识别：{raw}"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_blank_moment_is_none(raw):
    assert norm.moment(raw, SHANGHAI, label="提交时间") is None


@pytest.mark.parametrize(("when", "week"), [
    (datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI), "2026-W48"),
    (datetime(2026, 11, 30, 0, 10, tzinfo=SHANGHAI), "2026-W49"),
    (date(2027, 1, 1), "2026-W53"),
])
def test_iso_week_runs_monday_to_sunday(when, week):
    assert Week.of(when).key == week


def test_pull_stores_submission_time_of_every_cell_spelling_in_shanghai_time(workspace):
    # A workbook cell cannot hold an aware datetime, so that row of MOMENTS is left out.
    table = [(raw, expected) for raw, expected in MOMENTS
             if not (isinstance(raw, datetime) and raw.tzinfo is not None)]
    workspace.make_workbook(titled([raw for raw, _ in table], "submitted_at", "时间写法"))
    letter = get_column_letter(column_of("submitted_at") + 1)

    def plain_numbers(book):
        # The template formats 提交时间 as a date; a serial typed into a plain cell has no such format.
        for i, (raw, _) in enumerate(table):
            if isinstance(raw, (int, float)):
                book[SUBMISSIONS.name][f"{letter}{sheet_row(i)}"].number_format = "General"

    edit_workbook(workspace, plain_numbers)
    run_job(workspace.settings, pulling.pull)
    got = {repr(raw): r["submitted_at"] for (raw, _), r in zip(table, records(workspace, len(table)))}
    assert got == {repr(raw): expected for raw, expected in table}


def test_pull_flags_unreadable_submission_time(workspace):
    raws = [g for g in GARBAGE_MOMENTS if isinstance(g, str)]
    pull_rows(workspace, titled(raws, "submitted_at", "坏时间"))
    assert dict(zip(raws, statuses(workspace, len(raws)))) == {raw: f"提交时间无法识别：{raw}" for raw in raws}


def test_week_turns_at_midnight_sunday_beijing_time(workspace):
    # 23:30 on Sunday 2026-11-29 is still W48; ten past midnight on Monday is W49.
    pull_rows(workspace, titled([datetime(2026, 11, 29, 23, 30), datetime(2026, 11, 30, 0, 10)],
                                "submitted_at", "周界"))
    assert [r["week"] for r in records(workspace, 2)] == ["2026-W48", "2026-W49"]


def test_week_of_an_utc_timestamp_is_taken_in_beijing_time(workspace):
    # 15:30Z on Sunday is 23:30 Sunday in Beijing; 16:10Z on Sunday is 00:10 Monday.
    pull_rows(workspace, titled(["2026-11-29T15:30:00Z", "2026-11-29T16:10:00+00:00"], "submitted_at", "UTC"))
    assert [r["week"] for r in records(workspace, 2)] == ["2026-W48", "2026-W49"]


def test_blank_submission_time_is_accepted(workspace):
    summary = pull_rows(workspace, [material(submitted_at=None)])
    assert (summary.accepted, statuses(workspace, 1)) == (1, [ACCEPTED])
    assert records(workspace, 1)[0]["submitted_at"] is None


def test_blank_submission_time_counts_in_the_beijing_week_of_the_pull(workspace, monkeypatch):
    # 16:30Z on Sunday 2026-11-29 is already Monday 00:30 (W49) in Beijing.
    monkeypatch.setenv("PIPELINE_NOW", "2026-11-29T16:30:00+00:00")
    pull_rows(workspace, [material(submitted_at=None)])
    assert records(workspace, 1)[0]["week"] == "2026-W49"


# --- 4. team names (部门) -----------------------------------------------------------

@pytest.mark.parametrize("raw", ["执行 一组", "执行一组\u3000", " 执行一组", "执行\u3000一组", "执行一组 "])
def test_team_name_ignores_spaces(raw):
    assert norm.team_name(raw) == "执行一组"


def test_pull_matches_team_names_typed_with_spaces(workspace):
    typed = {"执行 一组": "执行一组", "执行一组\u3000": "执行一组", "\u3000执行一组": "执行一组",
             "执行二组 ": "执行二组"}
    summary = pull_rows(workspace, titled(list(typed), "team", "部门写法"))
    assert summary.flagged == 0
    assert dict(zip(typed, (r["team"] for r in records(workspace, len(typed))))) == typed


def test_pull_flags_team_missing_from_team_tab(workspace):
    pull_rows(workspace, [material(team="执行五组")])
    assert statuses(workspace, 1) == ["部门不在部门表中：执行五组"]


def test_pull_flags_blank_team_as_missing(workspace):
    pull_rows(workspace, [material(team=None), material(team="\u3000", title="另一条")])
    assert statuses(workspace, 2) == ["缺少部门", "缺少部门"]


def test_pull_matches_team_tab_names_typed_with_spaces(workspace):
    teams = [*DEFAULT_TEAMS, {"team": "执行 三组\u3000", "email": "zhixing3@court.example", "quota": 3}]
    pull_rows(workspace, [material(team="执行三组")], teams=teams)
    assert statuses(workspace, 1) == [ACCEPTED]


# --- 5. publishable (可公开) ---------------------------------------------------------

PUBLISHABLE = [("是", 1), ("否", 0), ("yes", 1), ("No", 0), ("✓", 1), ("×", 0), (None, 1), ("YES ", 1)]


@pytest.mark.parametrize(("raw", "expected"), [(r, bool(e)) for r, e in PUBLISHABLE] + [("", True), ("  ", True)])
def test_yes_no_reads_common_spellings_and_blank_means_yes(raw, expected):
    assert norm.yes_no(raw, label="可公开") is expected


@pytest.mark.parametrize("raw", ["也许", "待定", "maybe"])
def test_yes_no_rejects_garbage_with_raw_text(raw):
    with pytest.raises(norm.Invalid) as caught:
        norm.yes_no(raw, label="可公开")
    assert str(caught.value).startswith(f"可公开无法识别：{raw}")


def test_pull_stores_publishable_as_one_or_zero(workspace):
    raws = [raw for raw, _ in PUBLISHABLE]
    pull_rows(workspace, titled(raws, "publishable", "可公开写法"))
    got = {repr(raw): r["publishable"] for raw, r in zip(raws, records(workspace, len(raws)))}
    assert got == {repr(raw): expected for raw, expected in PUBLISHABLE}


def test_pull_flags_unreadable_publishable(workspace):
    pull_rows(workspace, [material(publishable="也许")])
    assert statuses(workspace, 1)[0].startswith("可公开无法识别：也许")


# --- 6. required text, several problems in one row, no ID for flagged rows -----------------

@pytest.mark.parametrize(("key", "blank", "message"), [("title", None, "缺少标题"),
                                                       ("facts", "  \u3000 ", "缺少案情"),
                                                       ("process", "\n", "缺少执行过程")])
def test_pull_flags_missing_required_text(workspace, key, blank, message):
    summary = pull_rows(workspace, [material(**{key: blank})])
    assert (summary.flagged, statuses(workspace, 1)) == (1, [message])


def test_facts_of_only_non_breaking_spaces_count_as_missing(workspace):
    # Pasted from a web page, an "empty" cell often holds U+00A0; such an item has no facts (四(五)).
    summary = pull_rows(workspace, [material(facts="\xa0\xa0")])
    assert (summary.flagged, statuses(workspace, 1)) == (1, ["缺少案情"])


def test_pull_lists_every_problem_of_a_row_in_one_status(workspace):
    pull_rows(workspace, [material(team="执行五组", kind="八卦", case_number="2026琼执123", title=None,
                                   facts=None, process=None, submitted_at="下周三", publishable="也许")])
    parts = statuses(workspace, 1)[0].split("；")
    assert sorted(parts) == sorted([
        "部门不在部门表中：执行五组", "类别无法识别：八卦", "缺少标题", "缺少案情", "缺少执行过程",
        "案号格式有误：2026琼执123", "提交时间无法识别：下周三", "可公开无法识别：也许（应为 是 / 否）",
    ])


def test_flagged_row_gets_no_id(workspace):
    pull_rows(workspace, [material(facts=None), material(title="好的一条")])
    assert ids(workspace, 2) == [None, "S-2026-000001"]


def test_flagged_rows_do_not_use_up_serial_numbers(workspace):
    pull_rows(workspace, [material(title="甲"), material(kind="八卦", title="乙"), material(title="丙")])
    assert ids(workspace, 3) == ["S-2026-000001", None, "S-2026-000002"]


def test_accepted_row_gets_id_and_accepted_status(workspace):
    summary = pull_rows(workspace, [material()])
    assert (summary.accepted, summary.flagged) == (1, 0)
    assert marks(workspace)[sheet_row(0)] == ("S-2026-000001", ACCEPTED)


def test_flagged_row_is_recorded_in_ledger_row_errors(workspace):
    pull_rows(workspace, [material(title="甲"), material(title=None)])
    with Ledger(workspace.ledger) as ledger:
        errors = [(e["tab_key"], e["row"], e["team"], e["message"]) for e in ledger.row_errors()]
    assert errors == [("submissions", sheet_row(1), "执行一组", "缺少标题")]


# --- 7. blank and whitespace-only rows ------------------------------------------------

def whitespace_row(blank: str) -> dict[str, Any]:
    return {col.key: blank for col in SUBMISSIONS.columns if not col.owned}


def test_empty_and_whitespace_only_rows_are_ignored_not_flagged(workspace):
    blanks = [{}, whitespace_row(" "), whitespace_row("\u3000"), whitespace_row("\t"), whitespace_row("\n"),
              whitespace_row("  \u3000\n "), whitespace_row("\u200b"), {"title": "   ", "team": "\u3000"}]
    summary = pull_rows(workspace, [material(title="甲"), *blanks, material(title="乙")])
    assert (summary.rows, summary.accepted, summary.flagged) == (2, 2, 0)
    assert [m for m in marks(workspace).values() if m != (None, None)] == [
        ("S-2026-000001", ACCEPTED), ("S-2026-000002", ACCEPTED)]


def test_row_of_non_breaking_spaces_is_ignored_not_flagged(workspace):
    # A no-break space (U+00A0) is what a copy from a web page or WeChat leaves in a "blank" cell.
    summary = pull_rows(workspace, [material(title="甲"), whitespace_row("\xa0"), material(title="乙")])
    assert (summary.rows, summary.flagged, statuses(workspace, 2)[1]) == (2, 0, None)


# --- 8. duplicates ----------------------------------------------------------------------

def test_exact_duplicate_is_flagged_with_the_first_rows_id(workspace):
    pull_rows(workspace, [material(title="甲"), material(title="乙"), material(title="乙")])
    assert marks(workspace)[sheet_row(2)] == (None, "重复：与 S-2026-000002 相同")


def test_duplicate_may_differ_in_other_columns(workspace):
    pull_rows(workspace, [
        material(),
        material(facts="另写的案情。", process="另写的过程。", submitter="王小露", outcome=None,
                 submitted_at=datetime(2026, 11, 25, 16, 0), publishable="否"),
    ])
    assert marks(workspace)[sheet_row(1)] == (None, "重复：与 S-2026-000001 相同")


def test_duplicate_is_found_through_differently_typed_team_case_kind_and_title(workspace):
    first = material(kind="教科书式老赖", title="老赖转移财产被司法拘留")
    again = material(team="执行 一组", kind="老赖", case_number="(２０２６)琼9003执1234",
                     title="  老赖转移财产被司法拘留\u3000")
    pull_rows(workspace, [first, again])
    assert marks(workspace)[sheet_row(1)] == (None, "重复：与 S-2026-000001 相同")


def test_same_case_with_different_title_is_not_a_duplicate(workspace):
    summary = pull_rows(workspace, [material(title="第一次报道"), material(title="后续报道")])
    assert (summary.accepted, summary.flagged) == (2, 0)


def test_duplicate_counts_once_toward_the_weekly_quota(workspace):
    pull_rows(workspace, [material(), material(submitter="另一人"), material(title="另一条")])
    with Ledger(workspace.ledger) as ledger:
        week = {t.team: t.valid for t in ledger.team_weeks("2026-W48")}
    assert week["执行一组"] == 2


# --- 9. nothing lost: a mixed workbook -------------------------------------------------

MIXED_GOOD = 12
MIXED_FLAGGED = 14     # 11 bad rows and 3 duplicates


def mixed_rows() -> tuple[list[dict[str, Any]], set[int]]:
    """31 rows as a real week brings them; returns the rows and the indexes of the blank ones."""
    good = [
        material(title="拖欠货款 主动履行", case_number="(2026)琼9003执1234号"),
        material(team="执行二组", kind="老赖", title="老赖转移财产被拘留", case_number="〔2026〕琼9003执88号",
                 submitted_at="2026年11月24日 9时30分"),
        material(team="执行指挥中心", kind="执行不能案件", title="企业注销无财产", case_number=None,
                 submitted_at="2026/11/25 10:00"),
        material(team="执行 一组", kind="拒执", title="拒不执行判决获刑", case_number="（2026）琼9003刑初88号"),
        material(team="执行二组\u3000", kind="失信惩戒", title="失信被执行人被限高", publishable="否"),
        material(kind="成功执行", title="工资款全额到位", submitted_at=date(2026, 11, 23)),
        material(team="执行指挥中心", title="夜间执行行动", submitted_at="2026-11-25T22:00:00+08:00"),
        material(kind="惩戒失信", title="公职人员失信被通报", publishable="✓"),
        material(team="执行二组", kind="执行成功", title="车辆拍卖款发放", publishable="No"),
        material(kind="打击拒执", title="妨碍执行被罚款", case_number="【2026】琼9003执1500号"),
        material(team="执行指挥中心", kind="执行不能", title="被执行人丧失劳动能力", submitted_at=None),
        material(kind="先进典型", title="执行干警先进事迹", case_number=None),
    ]
    bad = [
        material(team="执行五组", title="坏：部门"),
        material(team=None, title="坏：无部门"),
        material(kind="八卦新闻", title="坏：类别"),
        material(kind=None, title="坏：无类别"),
        material(case_number="2026琼执123", title="坏：案号"),
        material(submitted_at="下周三", title="坏：时间"),
        material(facts=None, title="坏：无案情"),
        material(process=None, title="坏：无过程"),
        material(publishable="也许", title="坏：可公开"),
        material(title=None),
        material(team="执行五组", kind="八卦", facts=None, title="坏：多处"),
    ]
    duplicates = [
        material(title="拖欠货款 主动履行", case_number="（2026）琼9003执1234号", submitter="另一人"),
        material(team="执行二组", kind="教科书式老赖", title="老赖转移财产被拘留",
                 case_number="（2026）琼9003执88号"),
        material(kind="成功执行", title="工资款全额到位", submitted_at=date(2026, 11, 24)),
    ]
    blanks = [{}, {"title": "   "}, whitespace_row("\u3000"), {}, {"facts": "\n", "team": " "}]
    # Interleaved as a real week brings them: mistakes, repeats and empty lines among good rows.
    order = "GBGBG_GBDGB_GBGBD_GBGBG_GBGDBB_"
    streams = {"G": good, "B": bad, "D": duplicates, "_": blanks}
    rows = [streams[c].pop(0) for c in order]
    assert not any(streams.values())
    return rows, {i for i, c in enumerate(order) if c == "_"}


@dataclass
class Pulled:
    workspace: Workspace
    rows: list[dict[str, Any]]
    blank_at: set[int]
    summary: PullSummary
    marks: dict[int, tuple[Any, Any]]

    @property
    def content_at(self) -> list[int]:
        return [i for i in range(len(self.rows)) if i not in self.blank_at]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Pulled:
    """One pull of the mixed workbook, shared by the tests below that only read its outcome."""
    space = Workspace.create(tmp_path_factory.mktemp("mixed"))
    rows, blank_at = mixed_rows()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_NOW", NOW)
        summary = pull_rows(space, rows)
    return Pulled(space, rows, blank_at, summary, marks(space))


def test_mixed_workbook_counts_every_content_row_as_accepted_or_flagged(mixed):
    content = len(mixed.content_at)
    assert (mixed.summary.rows, mixed.summary.accepted + mixed.summary.flagged) == (content, content)


def test_mixed_workbook_accepts_the_good_rows_and_flags_the_rest(mixed):
    assert (mixed.summary.accepted, mixed.summary.flagged) == (MIXED_GOOD, MIXED_FLAGGED)


def test_every_content_row_carries_an_id_or_a_problem(mixed):
    unexplained = {}
    for index in mixed.content_at:
        ident, status = mixed.marks.get(sheet_row(index), (None, None))
        ok = status == ACCEPTED if ident else (not is_blank(status) and status != ACCEPTED)
        if not ok:
            unexplained[sheet_row(index)] = (ident, status)
    assert unexplained == {}


def test_every_written_id_is_unique_and_in_the_ledger(mixed):
    written = [ident for ident, _ in mixed.marks.values() if ident]
    assert len(written) == len(set(written)) == mixed.summary.accepted
    with Ledger(mixed.workspace.ledger) as ledger:
        assert [i for i in written if ledger.submission(i) is None] == []


def test_every_flagged_row_is_in_ledger_row_errors(mixed):
    flagged_rows = {row for row, (ident, status) in mixed.marks.items() if not ident and not is_blank(status)}
    with Ledger(mixed.workspace.ledger) as ledger:
        recorded = {e["row"] for e in ledger.row_errors() if e["tab_key"] == "submissions"}
    assert recorded == flagged_rows and len(recorded) == mixed.summary.flagged


def test_blank_rows_of_mixed_workbook_get_no_marks(mixed):
    marked = {sheet_row(i): mixed.marks[sheet_row(i)] for i in mixed.blank_at
              if mixed.marks.get(sheet_row(i), (None, None)) != (None, None)}
    assert marked == {}


# --- 10. header mapping and layout errors -----------------------------------------------

# Each set renames some headers; the typed values prove the renamed column was read.
HEADER_SETS = {
    "english": {"team": "Team", "case_number": "case_number", "kind": "KIND", "title": "Title",
                "facts": "Facts", "process": "Process", "publishable": "Publishable"},
    "english-spaced": {"team": "DEPARTMENT", "case_number": "Case Number", "submitted_at": "Submitted_At",
                       "process": "Enforcement Process"},
    "full-width-and-spaces": {"case_number": "ＣＡＳＥ　ＮＵＭＢＥＲ", "kind": "ｋｉｎｄ", "title": "\u3000标题\u3000",
                              "facts": " 案情 ", "process": "执行 过程", "team": " 部门"},
}
HEADER_TYPED = {"team": "执行 一组", "case_number": "(2026)琼9003执1234", "kind": "老赖",
                "title": "  标题在这里 ", "submitted_at": "2026年11月28日", "publishable": "否"}
HEADER_EXPECTED = {"team": "执行一组", "case_number": CANONICAL_CASE, "kind": "教科书式老赖",
                   "title": "标题在这里", "submitted_at": "2026-11-28T00:00:00+08:00", "publishable": "否"}


@pytest.mark.parametrize("renamed", HEADER_SETS.values(), ids=HEADER_SETS.keys())
def test_header_aliases_full_width_and_spaces_map_to_their_columns(workspace, renamed):
    replace_submissions(workspace, default_header(**renamed), [row_values(material(**HEADER_TYPED))])
    summary = run_job(workspace.settings, pulling.pull)
    written = cells(workspace, SUBMISSIONS.name)[1]
    assert (summary.accepted, written[column_of("status")]) == (1, ACCEPTED)
    data = record(workspace, written[column_of("id")])["data"]
    assert {k: data.get(k) for k in HEADER_EXPECTED} == HEADER_EXPECTED


def test_marks_are_written_under_english_id_and_status_headers(workspace):
    replace_submissions(workspace, default_header(id="ID", status="Status"), [row_values(material())])
    run_job(workspace.settings, pulling.pull)
    written = cells(workspace, SUBMISSIONS.name)[1]
    assert (written[column_of("id")], written[column_of("status")]) == ("S-2026-000001", ACCEPTED)


def test_columns_in_another_order_are_read_by_header(workspace):
    order = list(reversed(SUBMISSIONS.columns))
    values = material(kind="拒执", title="列顺序颠倒")
    replace_submissions(workspace, [c.name for c in order], [[values.get(c.key) for c in order]])
    run_job(workspace.settings, pulling.pull)
    written = dict(zip([c.key for c in order], cells(workspace, SUBMISSIONS.name)[1]))
    assert (written["id"], written["status"]) == ("S-2026-000001", ACCEPTED)
    data = record(workspace, "S-2026-000001")["data"]
    assert (data["kind"], data["title"]) == ("打击拒执", "列顺序颠倒")


@pytest.mark.parametrize("key", ["team", "kind", "process"])
def test_missing_required_column_stops_pull_naming_tab_and_column(workspace, key):
    workspace.make_workbook([material()])
    edit_workbook(workspace, lambda book: book[SUBMISSIONS.name].delete_cols(column_of(key) + 1))
    with pytest.raises(SheetLayoutError) as caught:
        run_job(workspace.settings, pulling.pull)
    message = str(caught.value)
    assert SUBMISSIONS.name in message and SUBMISSIONS.column(key).name in message


def test_layout_error_writes_nothing_back(workspace):
    workspace.make_workbook([material()])
    edit_workbook(workspace, lambda book: book[SUBMISSIONS.name].delete_cols(column_of("process") + 1))
    before = Path(workspace.workbook).read_bytes()
    with pytest.raises(SheetLayoutError):
        run_job(workspace.settings, pulling.pull)
    assert Path(workspace.workbook).read_bytes() == before
    with Ledger(workspace.ledger) as ledger:
        assert ledger.submission("S-2026-000001") is None


@pytest.mark.parametrize("extra", ["标题", " Title "])
def test_duplicated_header_stops_pull_naming_the_column(workspace, extra):
    workspace.make_workbook([material()])
    spare = len(SUBMISSIONS.columns) + 1
    edit_workbook(workspace, lambda book: book[SUBMISSIONS.name].cell(row=1, column=spare, value=extra))
    with pytest.raises(SheetLayoutError) as caught:
        run_job(workspace.settings, pulling.pull)
    message = str(caught.value)
    assert SUBMISSIONS.name in message and "标题" in message and "重复" in message


def test_column_with_data_but_blank_header_stops_pull(workspace):
    workspace.make_workbook([material()])
    spare = len(SUBMISSIONS.columns) + 2
    edit_workbook(workspace, lambda book: book[SUBMISSIONS.name].cell(row=2, column=spare, value="谁写的？"))
    with pytest.raises(SheetLayoutError) as caught:
        run_job(workspace.settings, pulling.pull)
    message = str(caught.value)
    assert SUBMISSIONS.name in message and f"第 {get_column_letter(spare)} 列" in message


def test_cleared_header_over_a_filled_column_stops_pull(workspace):
    workspace.make_workbook([material()])
    position = column_of("facts") + 1

    def clear_header(book):
        book[SUBMISSIONS.name].cell(row=1, column=position).value = None

    edit_workbook(workspace, clear_header)
    with pytest.raises(SheetLayoutError) as caught:
        run_job(workspace.settings, pulling.pull)
    assert f"第 {get_column_letter(position)} 列" in str(caught.value)


def test_extra_unknown_column_is_ignored_and_left_untouched(workspace):
    workspace.make_workbook([material()])
    spare = len(SUBMISSIONS.columns) + 1

    def add_note(book):
        sheet = book[SUBMISSIONS.name]
        sheet.cell(row=1, column=spare, value="备注")
        sheet.cell(row=2, column=spare, value="请周五前发布")

    edit_workbook(workspace, add_note)
    summary = run_job(workspace.settings, pulling.pull)
    header, row = cells(workspace, SUBMISSIONS.name)[:2]
    assert (summary.accepted, row[column_of("status")]) == (1, ACCEPTED)
    assert (header[spare - 1], row[spare - 1]) == ("备注", "请周五前发布")


def test_extra_column_inserted_between_known_columns_shifts_nothing(workspace):
    workspace.make_workbook([material()])
    position = column_of("facts") + 1

    def insert_note(book):
        sheet = book[SUBMISSIONS.name]
        sheet.insert_cols(position)
        sheet.cell(row=1, column=position, value="备注")
        sheet.cell(row=2, column=position, value="内部备注，勿发布")

    edit_workbook(workspace, insert_note)
    run_job(workspace.settings, pulling.pull)
    row = cells(workspace, SUBMISSIONS.name)[1]
    # 编号 stays in A; 状态 moved one column right with the insertion; the note is untouched.
    assert (row[0], row[column_of("status") + 1], row[position - 1]) == ("S-2026-000001", ACCEPTED, "内部备注，勿发布")
    assert record(workspace, "S-2026-000001")["data"]["facts"] == material()["facts"]


# --- 11. the other tabs (部门, 媒体, 活动, 审核) ---------------------------------------------

def teams_with(**changes: Any) -> list[dict[str, Any]]:
    """The default teams, the first one changed."""
    return [{**DEFAULT_TEAMS[0], **changes}, *DEFAULT_TEAMS[1:]]


GOOD_MEDIA = {"outlet": "《法制时报》", "contact": "陈记者", "email": "news@fzsb.example", "kinds": "全部",
              "enabled": "是"}
GOOD_ACTIVITY = {"date": date(2026, 12, 3), "kind": "新闻发布会", "name": "执行工作新闻发布会", "plan_date": None}
GOOD_REVIEW = {"draft_id": "D-2026-000045", "decision": "通过", "reviewer": "符贤", "comment": ""}


def test_team_with_bad_email_is_flagged_on_team_tab(workspace):
    pull_rows(workspace, [material()], teams=teams_with(email="zhixing1#court.example"))
    assert statuses(workspace, 1, TEAMS) == ["邮箱格式有误：zhixing1#court.example"]


def test_team_with_bad_email_still_exists_and_its_material_is_accepted(workspace):
    pull_rows(workspace, [material()], teams=teams_with(email="zhixing1#court.example"))
    assert statuses(workspace, 1) == [ACCEPTED]
    with Ledger(workspace.ledger) as ledger:
        assert "执行一组" in [t.name for t in ledger.teams()]


def test_blank_weekly_quota_means_three(workspace):
    teams = [{**DEFAULT_TEAMS[0], "quota": None}, {**DEFAULT_TEAMS[1], "quota": 5}, {**DEFAULT_TEAMS[2], "quota": " "}]
    pull_rows(workspace, [], teams=teams)
    with Ledger(workspace.ledger) as ledger:
        quotas = {t.name: t.quota for t in ledger.teams()}
    assert quotas == {"执行一组": 3, "执行二组": 5, "执行指挥中心": 3}
    assert [is_blank(s) for s in statuses(workspace, 3, TEAMS)] == [True, True, True]


def test_unreadable_weekly_quota_is_flagged_on_team_tab(workspace):
    summary = pull_rows(workspace, [], teams=teams_with(quota="abc"))
    assert statuses(workspace, 1, TEAMS) == ["每周任务应为 0 到 100 的整数：abc"]
    assert summary.other_errors == 1


def test_media_with_unknown_kind_is_flagged(workspace):
    summary = pull_rows(workspace, [], media=[GOOD_MEDIA, {**GOOD_MEDIA, "outlet": "《今日儋州》",
                                                           "kinds": "执行成功、八卦新闻"}])
    good, bad = statuses(workspace, 2, MEDIA)
    assert (is_blank(good), bad, summary.other_errors) == (True, "类别无法识别：八卦新闻", 1)


def test_activity_with_bad_date_is_flagged(workspace):
    pull_rows(workspace, [], activities=[GOOD_ACTIVITY, {**GOOD_ACTIVITY, "date": "下个月"}])
    good, bad = statuses(workspace, 2, ACTIVITIES)
    assert (is_blank(good), bad) == (True, "日期无法识别：下个月")


def test_activity_with_unknown_type_is_flagged(workspace):
    pull_rows(workspace, [], activities=[GOOD_ACTIVITY, {**GOOD_ACTIVITY, "kind": "座谈会"}])
    good, bad = statuses(workspace, 2, ACTIVITIES)
    assert is_blank(good) and bad.startswith("类型无法识别：座谈会")


def test_review_with_unknown_decision_is_flagged(workspace):
    pull_rows(workspace, [], reviews=[GOOD_REVIEW, {**GOOD_REVIEW, "decision": "好的"}])
    good, bad = statuses(workspace, 2, REVIEWS)
    # A well-formed row is judged against the drafts (there are none yet); a bad one never gets that far.
    assert good == "无效：草稿编号 D-2026-000045 不存在" and bad.startswith("结论无法识别：好的")


def test_review_with_bad_draft_id_is_flagged(workspace):
    bad_ids = ["D-26-45", "S-2026-000001", "草稿45"]
    pull_rows(workspace, [], reviews=[{**GOOD_REVIEW, "draft_id": d} for d in bad_ids])
    got = dict(zip(bad_ids, statuses(workspace, len(bad_ids), REVIEWS)))
    assert {d: (s or "").startswith(f"草稿编号格式有误：{d}") for d, s in got.items()} == dict.fromkeys(bad_ids, True)


def test_errors_on_other_tabs_do_not_block_material(workspace):
    summary = pull_rows(workspace, [material()], teams=teams_with(quota="abc"),
                        media=[{**GOOD_MEDIA, "kinds": "八卦"}], activities=[{**GOOD_ACTIVITY, "date": "下个月"}],
                        reviews=[{**GOOD_REVIEW, "decision": "好的"}])
    assert (summary.accepted, summary.other_errors, statuses(workspace, 1)) == (1, 4, [ACCEPTED])
