"""The Google Sheets backend, over real HTTP against the local Sheets API stand-in.

gspread and google-auth take their real paths: a throw-away service-account
key is exchanged for a token at the stand-in's token endpoint (the key
file's token_uri), and ``[sheet] endpoint`` points gspread's requests at
the stand-in. The stand-in counts requests per kind and injects faults;
the source sleeps on a fake clock, so no test waits for a backoff.

Layout of this file:
    helpers and fixtures
    1. requests per cycle
    2. faults: rate limits, outages, timeouts
    3. faithful values
    4. configuration and access errors (CLI: exit codes, no traceback)
    5. the protection check
    6. the contract suite: the same hostile input on xlsx and gsheets
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import requests
from conftest import DEFAULT_TEAMS, Workspace, material, run_job
from sheets_api import SheetsStandIn

from pipeline.core import config
from pipeline.core import normalize as norm
from pipeline.core.errors import ConfigError, SheetLayoutError, SourceError
from pipeline.core.grid import CellUpdate, SheetData, TabData
from pipeline.core.layout import (
    ACTIVITIES,
    MEDIA,
    PLACEMENTS,
    REVIEWS,
    SUBMISSIONS,
    TABS,
    TEAMS,
    Tab,
)
from pipeline.flows import decisions, publishing, pulling, week
from pipeline.ledger import Ledger
from pipeline.sources import google_api, gsheets, open_source
from pipeline.sources.google_api import RetryPolicy, backoff, spreadsheet_key

SHANGHAI = ZoneInfo("Asia/Shanghai")
KEY = "1CourtSheetKey_0123456789abcdefghijklmnopqrs"
ACCOUNT = "pipeline@court-sheets.iam.gserviceaccount.com"
ID_COLUMN = [c.key for c in SUBMISSIONS.columns].index("id")
STATUS_COLUMN = [c.key for c in SUBMISSIONS.columns].index("status")


# --- helpers and fixtures ------------------------------------------------------------------

class FakeTime:
    """A monotonic clock that only moves when the source sleeps; records every wait."""

    def __init__(self) -> None:
        self.now = 10_000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def tab_rows(tab: Tab, rows: list[dict[str, Any]]) -> list[list[Any]]:
    """A tab as ``init`` lays it out: the header row, then one row per dict (by column key)."""
    return [[c.name for c in tab.columns], *([row.get(c.key) for c in tab.columns] for row in rows)]


def workbook_tabs(submissions: list[dict[str, Any]] = (), *, teams: list[dict[str, Any]] | None = None,
                  media=(), activities=(), reviews=()) -> dict[str, list[list[Any]]]:
    """The five tabs, filled as ``Workspace.make_workbook`` fills the xlsx template."""
    return {SUBMISSIONS.name: tab_rows(SUBMISSIONS, list(submissions)),
            TEAMS.name: tab_rows(TEAMS, DEFAULT_TEAMS if teams is None else teams),
            MEDIA.name: tab_rows(MEDIA, list(media)), ACTIVITIES.name: tab_rows(ACTIVITIES, list(activities)),
            REVIEWS.name: tab_rows(REVIEWS, list(reviews))}


def gsheets_config(root: Path, *, endpoint: str, credentials: Path | None, spreadsheet: str = KEY) -> Path:
    """A copy of the default config whose [sheet] is the Google Sheets backend."""
    text = config.render_default()
    sheet = (f'[sheet]\nbackend = "gsheets"\nspreadsheet = "{spreadsheet}"\n'
             + (f'credentials = "{credentials.as_posix()}"\n' if credentials else "")
             + f'endpoint = "{endpoint}"\n')
    text, replaced = re.subn(r'\[sheet\]\nbackend = "xlsx"\npath = "[^"]*"\n', sheet, text)
    assert replaced == 1
    path = root / "gsheets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def ledger_dump(path: Path) -> dict[str, list[tuple]]:
    """Every table intake writes, in a stable order (the audit log names the source: left out)."""
    tables = ("submissions", "submission_versions", "teams", "media", "activities", "reviews", "row_errors")
    if not Path(path).exists():
        return {t: [] for t in tables}
    with sqlite3.connect(path) as db:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


@dataclass
class GoogleSheet:
    """A workspace whose config points at the stand-in, holding one spreadsheet."""

    api: SheetsStandIn
    time: FakeTime
    root: Path
    config_path: Path
    key_file: Path
    ledger: Path
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def settings(self) -> config.Settings:
        return config.load(self.config_path)

    def load(self, submissions: list[dict[str, Any]] = (), protect: bool = True,
             extra: dict[str, list[list[Any]]] | None = None, **tabs: Any) -> None:
        self.api.add_spreadsheet(KEY, {**workbook_tabs(submissions, **tabs), **(extra or {})})
        if protect:  # a court that followed the README: both tabs protected, the account an editor
            for tab in (REVIEWS, MEDIA):
                self.api.protect(KEY, tab.name, editors=["fuxian@court.example", ACCOUNT])

    def source(self, **options: Any) -> gsheets.GoogleSheetsSource:
        """A fresh source (its own metadata and token) that sleeps on the fake clock."""
        return gsheets.GoogleSheetsSource.from_settings(
            self.settings, sleep=self.time.sleep, clock=self.time.clock, jitter=random.Random(5).random,
            policy=options.pop("policy", self.policy), **options)

    def pull(self, source: gsheets.GoogleSheetsSource | None = None):
        return run_job(self.settings, pulling.pull, source=source or self.source())

    def cells(self, tab: Tab = SUBMISSIONS) -> list[list[Any]]:
        return self.api.cells(KEY, tab.name)

    def marks(self) -> list[tuple[Any, Any]]:
        """(编号, 状态) of every 素材 row under the header."""
        return [(_at(r, ID_COLUMN), _at(r, STATUS_COLUMN)) for r in self.cells()[1:]]

    def cli(self, *args: str) -> Any:
        return Workspace(self.root, self.config_path, self.root / "unused.xlsx", self.ledger).cli(*args)


def _at(row: list[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api(fake_time, monkeypatch) -> SheetsStandIn:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")   # a developer's proxy must not see loopback
    gsheets.forget_shared()
    with SheetsStandIn(clock=fake_time.clock) as server:
        yield server
    gsheets.forget_shared()


@pytest.fixture
def sheet(api, fake_time, tmp_path) -> GoogleSheet:
    root = tmp_path / "gsheets"             # beside, never inside, the xlsx workspace of the same test
    root.mkdir()
    key_file = api.service_account(root, ACCOUNT)
    path = gsheets_config(root, endpoint=api.url, credentials=key_file)
    return GoogleSheet(api, fake_time, root, path, key_file, config.load(path).ledger.path)


def rows_of(count: int, bad_every: int = 0) -> list[dict[str, Any]]:
    """``count`` distinct valid rows; every ``bad_every``-th lacks its 执行过程."""
    teams = [t["team"] for t in DEFAULT_TEAMS]
    rows = []
    for n in range(count):
        row = material(title=f"第{n}件：被执行人履行义务{n % 97}万元", team=teams[n % 3],
                       case_number=f"（{2019 + n % 8}）琼9003执{n + 1}号", submitted_at=datetime(2026, 11, 23, 8, n % 60))
        if bad_every and n % bad_every == bad_every // 2:
            row["process"] = None
        rows.append(row)
    return rows


# --- 1. requests per cycle ------------------------------------------------------------------------

@pytest.mark.parametrize("count", [10, 5000])
def test_a_cycle_costs_one_read_and_at_most_one_write_whatever_the_row_count(sheet, count):
    sheet.load(rows_of(count, bad_every=100))
    first = run_job(sheet.settings, pulling.pull)                     # through open_source, as the CLI and `run` do
    assert sheet.api.counts() == {"token": 1, "spreadsheets.get": 1, "values.batchGet": 1,
                                  "values.batchUpdate": 1}
    assert first.rows == count and first.accepted + first.flagged == count
    ids = [ident for ident, _ in sheet.marks() if ident]
    assert len(ids) == len(set(ids)) == first.accepted

    second = run_job(sheet.settings, pulling.pull)                    # nothing changed: read once, write nothing
    assert second.cells_written == 0 and second.new == second.changed == 0
    assert sheet.api.counts() == {"token": 1, "spreadsheets.get": 1, "values.batchGet": 2,
                                  "values.batchUpdate": 1}


def test_a_tab_beyond_max_rows_is_refused_as_a_workbook_is_and_nothing_is_written(sheet):
    sheet.config_path.write_text(sheet.config_path.read_text(encoding="utf-8").replace(
        "[sheet]\n", "[sheet]\nmax_rows = 100\n", 1), encoding="utf-8")
    sheet.load(rows_of(150))
    with pytest.raises(SourceError) as caught:
        run_job(sheet.settings, pulling.pull)                         # through open_source, as the CLI and `run` do
    assert "“素材”页有内容的行到第 151 行，超过上限 100 行（配置 [sheet] max_rows）" in str(caught.value)
    assert "values.batchUpdate" not in sheet.api.counts()
    assert ledger_dump(sheet.ledger)["submissions"] == []


def test_the_write_back_is_coalesced_into_column_runs(sheet):
    sheet.load(rows_of(300))
    sheet.pull()
    (write,) = sheet.api.seen("values.batchUpdate")
    assert write.body["valueInputOption"] == "RAW"
    status = openpyxl.utils.get_column_letter(STATUS_COLUMN + 1)
    assert sorted(r["range"] for r in write.body["data"]) == ["'素材'!A2:A301", f"'素材'!{status}2:{status}301"]


def test_the_read_asks_for_unformatted_values_and_serial_dates_of_the_five_tabs_only(sheet):
    sheet.load([material()], extra={"备忘": [["私人笔记"], ["不属于流水线"]]})
    sheet.pull()
    (read,) = sheet.api.seen("values.batchGet")
    assert read.query["ranges"] == [f"'{t.name}'" for t in TABS]
    assert (read.query["valueRenderOption"], read.query["dateTimeRenderOption"], read.query["majorDimension"]) \
        == (["UNFORMATTED_VALUE"], ["SERIAL_NUMBER"], ["ROWS"])
    (meta,) = sheet.api.seen("spreadsheets.get")
    assert meta.query["includeGridData"] == ["false"] and "protectedRanges" in meta.query["fields"][0]


def test_metadata_is_read_once_per_process_and_again_after_a_tab_is_renamed(sheet):
    sheet.load([material()])
    source = sheet.source()
    sheet.pull(source)
    sheet.api.spreadsheets[KEY].tab(REVIEWS.name).title = "Reviews"   # an accepted alias
    with pytest.raises(SourceError, match="改名或删除"):
        sheet.pull(source)
    summary = sheet.pull(source)                                        # the next cycle re-reads the tabs
    assert summary.accepted == 1
    assert sheet.api.count("spreadsheets.get") == 2


def test_a_gateway_endpoint_with_its_own_path_receives_every_api_request(sheet):
    sheet.load([material()])
    sheet.config_path.write_text(sheet.config_path.read_text(encoding="utf-8").replace(
        f'endpoint = "{sheet.api.url}"', f'endpoint = "{sheet.api.url}/sheets-gateway/"'), encoding="utf-8")
    summary = sheet.pull()
    assert summary.accepted == 1
    assert {s.prefix for s in sheet.api.log if s.kind != "token"} == {"/sheets-gateway"}
    assert sheet.api.count("token") == 1                          # the token_uri of the key file, unchanged


def test_the_spreadsheet_may_be_given_by_its_browser_url(sheet):
    sheet.load([material()])
    url = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"
    sheet.config_path.write_text(sheet.config_path.read_text(encoding="utf-8").replace(
        f'spreadsheet = "{KEY}"', f'spreadsheet = "{url}"'), encoding="utf-8")
    assert sheet.pull().accepted == 1


# --- 2. faults: rate limits, outages, timeouts ---------------------------------------------------------

def test_a_burst_of_429_is_waited_out_with_growing_jittered_backoff(sheet):
    sheet.load(rows_of(5))
    sheet.api.fail(429, times=3, kinds={"values.batchGet"})
    summary = sheet.pull()
    assert summary.accepted == 5
    assert sheet.api.count("values.batchGet") == 4 and sheet.api.count("values.batchGet", status=200) == 1
    waits = sheet.time.waits
    assert len(waits) == 3 and waits == sorted(waits)
    assert [int(w) for w in waits] == [1, 2, 4]                   # 2**n seconds plus under a second of jitter
    assert len({round(w % 1, 6) for w in waits}) == 3             # the jitter differs each time


def test_a_quota_storm_on_both_read_and_write_loses_and_duplicates_nothing(sheet):
    sheet.load(rows_of(40, bad_every=7))
    sheet.api.fail(429, times=2, kinds={"values.batchGet"})
    sheet.api.fail(503, times=2, kinds={"values.batchUpdate"})
    summary = sheet.pull()
    assert summary.rows == 40 and summary.accepted + summary.flagged == 40
    marks = sheet.marks()
    ids = [ident for ident, _ in marks if ident]
    assert len(ids) == len(set(ids)) == summary.accepted
    assert all(status for _, status in marks)                     # every row says what became of it
    assert sheet.api.count("values.batchUpdate", status=200) == 1
    with Ledger(sheet.ledger) as ledger:
        assert set(ledger.fetch_known()) == set(ids)


def test_a_persistent_503_ends_the_cycle_within_its_bound_and_changes_nothing(sheet):
    sheet.load(rows_of(5))
    sheet.pull()
    sheet.api.set_rows(KEY, SUBMISSIONS.name, sheet.cells() + tab_rows(SUBMISSIONS, rows_of(8))[6:])
    before, cells = ledger_dump(sheet.ledger), sheet.cells()
    sheet.api.fail(503, seconds=10_000)
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        sheet.pull()
    assert time.monotonic() - started < 5                         # the fake clock took the waits
    assert sum(sheet.time.waits) <= sheet.policy.budget
    assert 4 <= len(sheet.time.waits) <= 8
    assert "503" in str(caught.value) and "下一轮将重试" in str(caught.value)
    assert ledger_dump(sheet.ledger) == before and sheet.cells() == cells
    sheet.api.heal()
    assert sheet.pull().new == 3                                  # the next cycle takes the new rows in


def test_the_retry_budget_comes_from_the_config(sheet):
    text = sheet.config_path.read_text(encoding="utf-8")
    sheet.config_path.write_text(text.replace('backend = "gsheets"\n', 'backend = "gsheets"\nretry_budget = 10\n'),
                                 encoding="utf-8")
    sheet.load([material()])
    sheet.api.fail(503, seconds=10_000)
    source = gsheets.GoogleSheetsSource.from_settings(sheet.settings, sleep=sheet.time.sleep, clock=sheet.time.clock,
                                                      jitter=random.Random(5).random)
    with pytest.raises(SourceError, match="503"):
        sheet.pull(source)
    assert 2 <= len(sheet.time.waits) <= 3 and sum(sheet.time.waits) <= 10    # the default budget allows 7


def test_a_write_back_that_keeps_failing_records_first_and_writes_the_same_ids_later(sheet):
    sheet.load(rows_of(6))
    sheet.api.fail(503, seconds=10_000, kinds={"values.batchUpdate"})
    summary = sheet.pull()
    assert "写回失败" in str(summary.waiting) and "尚未写回" in summary.waiting_note
    recorded = sorted(row[0] for row in ledger_dump(sheet.ledger)["submissions"])
    assert len(recorded) == 6
    assert all(ident is None for ident, _ in sheet.marks())
    sheet.api.heal()
    again = sheet.pull()
    assert (again.new, again.restored, again.waiting) == (0, 6, None)
    assert sorted(ident for ident, _ in sheet.marks()) == recorded


def test_retry_after_is_honoured(sheet):
    sheet.load([material()])
    sheet.api.fail(429, times=1, retry_after=7, kinds={"values.batchGet"})
    sheet.api.fail(503, times=1, retry_after=3, kinds={"values.batchUpdate"})
    assert sheet.pull().accepted == 1
    first, second = sheet.time.waits
    assert 7 <= first < 8 and 3 <= second < 4


def test_a_retry_after_beyond_the_budget_gives_up_at_once(sheet):
    sheet.load([material()])
    sheet.api.fail(429, seconds=10_000, retry_after=600)
    with pytest.raises(SourceError, match="600 秒"):
        sheet.pull()
    assert sheet.time.waits == []


def test_a_request_that_hangs_times_out_and_is_retried(sheet):
    sheet.load([material()])
    sheet.policy = RetryPolicy(timeout=(2.0, 0.3))
    source = sheet.source()
    source.sheets()                                               # token and metadata before the stall
    sheet.api.stall(1.0, kinds={"values.batchGet"})
    assert sheet.pull(source).accepted == 1
    assert len(sheet.time.waits) == 1 and sheet.api.count("values.batchGet") == 2


@pytest.mark.parametrize(("attempt", "retry_after", "low", "high"), [
    (1, None, 1, 2), (2, None, 2, 3), (5, None, 16, 17), (6, None, 32, 32), (9, None, 32, 32),
    (1, 20.0, 20, 21), (7, 5.0, 32, 32)])
def test_backoff_doubles_with_jitter_up_to_its_cap_and_never_undercuts_retry_after(attempt, retry_after, low, high):
    for jitter in (0.0, 0.999):
        assert low <= backoff(attempt, retry_after, RetryPolicy(), jitter) <= high


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), ("Thu, 26 Nov 2026 02:00:30 GMT", 30.0),
                                                 ("soon", None), ("", None)])
def test_retry_after_is_read_as_seconds_or_as_an_http_date(header, seconds):
    response = requests.Response()
    response.headers.update({"Retry-After": header, "Date": "Thu, 26 Nov 2026 02:00:00 GMT"})
    assert google_api._retry_after(response) == seconds


# --- 3. faithful values -----------------------------------------------------------------------------------

def test_dates_come_back_as_the_same_moments_as_from_a_workbook(sheet, workspace):
    rows = [material(title="日期时间", submitted_at=datetime(2026, 11, 24, 9, 30)),
            material(title="只有日期", submitted_at=date(2026, 11, 23)),
            material(title="跨周", submitted_at=datetime(2026, 11, 29, 23, 59))]
    activity = [{"date": date(2026, 12, 3), "kind": "新闻发布会", "name": "发布会", "plan_date": date(2026, 11, 20)}]
    sheet.load(rows, activities=activity)
    workspace.make_workbook(rows, activities=activity)
    sheet.pull()
    run_job(workspace.settings, pulling.pull)
    ours, theirs = ledger_dump(sheet.ledger), ledger_dump(workspace.ledger)
    assert [r[11] for r in ours["submissions"]] == [r[11] for r in theirs["submissions"]]  # submitted_at
    assert ours["activities"] == theirs["activities"]
    read = sheet.source().fetch(lambda t: t == SUBMISSIONS.name).tabs[SUBMISSIONS.name].rows
    assert isinstance(read[1][1], float)                         # a serial, converted by intake
    assert norm.moment(read[1][1], SHANGHAI, label="提交时间").isoformat() == "2026-11-24T09:30:00+08:00"


def test_the_structured_columns_read_from_sheets_as_from_a_workbook(sheet, workspace):
    rows = [material(title="数字金额", listing="屏蔽", closure="执结", amount=512000, note="内部说明"),
            material(title="小数金额", amount=12.5, handling_team="执行 二组", closure="终本", inability="流拍"),
            material(title="文字金额", amount="￥40.5 万元", listing="在册")]
    teams = [{**DEFAULT_TEAMS[0], "outward": "儋州市人民法院执行局"}, *DEFAULT_TEAMS[1:]]
    sheet.load(rows, teams=teams)
    workspace.make_workbook(rows, teams=teams)
    sheet.pull()
    run_job(workspace.settings, pulling.pull)
    ours, theirs = ledger_dump(sheet.ledger), ledger_dump(workspace.ledger)
    keys = ("listing", "closure", "amount", "handling_team", "inability", "note")
    structured = [{k: json.loads(r[5])[k] for k in keys} for r in sorted(ours["submission_versions"])]
    assert structured == [
        {"listing": "已移除", "closure": "执行完毕", "amount": "512000", "handling_team": "", "inability": "",
         "note": "内部说明"},
        {"listing": "", "closure": "终结本次执行", "amount": "12.5", "handling_team": "执行二组",
         "inability": "财产无法处置", "note": ""},
        {"listing": "在册", "closure": "", "amount": "405000", "handling_team": "", "inability": "", "note": ""}]
    assert [r[5] for r in sorted(ours["submission_versions"])] == [r[5] for r in sorted(theirs["submission_versions"])]
    assert ours["teams"] == theirs["teams"]
    assert ("执行一组", "吴海涛", "zhixing1@court.example", 3, "儋州市人民法院执行局") in ours["teams"]


def test_the_placements_tab_is_read_from_sheets_as_from_a_workbook_and_its_status_written_back(sheet):
    """The 刊发 tab (四(六)) on Google Sheets: a serial date, an outlet named without its 《》, 状态 written back."""
    media = [{"outlet": "《今日儋州》", "email": "jinri@media.example", "kinds": "全部", "enabled": "是",
              "type": "报纸", "level": "本地", "column": "执行在线"}]
    rows = [{"draft_id": "D-2026-000001", "outlet": "今日儋州", "date": date(2026, 11, 26), "slot": "第3版"},
            {"draft_id": "D-2026-000009", "outlet": "今日儋州", "date": date(2026, 11, 26)}]
    sheet.load([material()], media=media, extra={PLACEMENTS.name: tab_rows(PLACEMENTS, rows)})
    sheet.pull()
    run_job(sheet.settings, publishing.draft)
    run_job(sheet.settings, decisions.review, "D-2026-000001", "通过", reviewer="符贤")
    run_job(sheet.settings, publishing.publish)
    sheet.pull()
    status = [c.key for c in PLACEMENTS.columns].index("status")
    assert [_at(r, status) for r in sheet.cells(PLACEMENTS)[1:]] == ["已登记，计入“执行在线”专栏",
                                                                   "草稿编号 D-2026-000009 不存在"]
    with Ledger(sheet.ledger) as ledger:
        assert [tuple(r)[1:] for r in ledger.db.execute("SELECT * FROM placements")] == [
            ("D-2026-000001", "《今日儋州》", "2026-11-26", "第3版", "", "报纸", "市县", "执行在线")]


def test_text_with_leading_zeros_stays_text(sheet):
    sheet.load([material(submitter="007", outcome="0012", case_number="(2026)琼9003执0099号")])
    sheet.pull()
    (submission_id, status), = sheet.marks()
    assert status == "已受理"
    with Ledger(sheet.ledger) as ledger:
        data = json.loads(ledger.submission_versions(submission_id)[-1]["data"])
    assert (data["submitter"], data["outcome"], data["case_number"]) == ("007", "0012", "（2026）琼9003执0099号")


def test_trailing_blank_cells_and_rows_shift_no_column(sheet):
    short = {k: v for k, v in material(title="后面几列全空").items() if k not in ("outcome", "parties", "publishable")}
    gap = {**material(title="中间空一列"), "submitter": None}
    sheet.load([short, {}, gap, {}, {}])
    summary = sheet.pull()
    assert summary.accepted == 2
    marks = sheet.marks()
    assert marks[0] == ("S-2026-000001", "已受理") and marks[2] == ("S-2026-000002", "已受理")
    assert len(sheet.cells()[1]) == len(SUBMISSIONS.columns)     # 状态 landed in its own column, the last
    source = sheet.source()
    grid = source.fetch(lambda t: t == SUBMISSIONS.name).tabs[SUBMISSIONS.name].rows
    assert {len(row) for row in grid} == {len(SUBMISSIONS.columns)}


def test_an_empty_tab_is_read_as_no_rows(sheet):
    sheet.load([material()])
    sheet.api.set_rows(KEY, REVIEWS.name, [])
    with pytest.raises(SheetLayoutError, match="审核"):
        sheet.pull()


@pytest.mark.parametrize(("header", "cell"), [("标题", None), (" Title ", None), (None, "谁写的？")],
                         ids=["duplicated", "duplicated-alias", "data-without-header"])
def test_header_problems_give_the_same_error_as_the_workbook(sheet, workspace, header, cell):
    spare = len(SUBMISSIONS.columns) + (1 if header else 2)
    sheet.load([material()])
    rows = sheet.cells()
    rows[0] += [None] * (spare - len(rows[0]))
    rows[1] += [None] * (spare - len(rows[1]))
    rows[0][spare - 1], rows[1][spare - 1] = header, cell
    sheet.api.set_rows(KEY, SUBMISSIONS.name, rows)
    workspace.make_workbook([material()])
    book = openpyxl.load_workbook(workspace.workbook)
    book[SUBMISSIONS.name].cell(row=1, column=spare, value=header)
    book[SUBMISSIONS.name].cell(row=2, column=spare, value=cell)
    book.save(workspace.workbook)
    with pytest.raises(SheetLayoutError) as ours:
        sheet.pull()
    with pytest.raises(SheetLayoutError) as theirs:
        run_job(workspace.settings, pulling.pull)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(("value_range", "expected"), [
    ({"range": "'素材'!A1:M1000", "values": [["a", "", "b"], [], ["c"]]},
     [["a", None, "b"], [None, None, None], ["c", None, None]]),
    ({"range": "'素材'!B3:D9", "values": [["x"]]}, [[], [], [None, "x"]]),
    ({"range": "素材!A1:Z1000"}, []),
])
def test_grid_pads_rows_and_honours_where_the_range_starts(value_range, expected):
    rows = gsheets.grid(value_range)
    width = max((len(r) for r in expected), default=0)
    assert rows == [r + [None] * (width - len(r)) for r in expected]


def test_the_stand_in_renders_and_stores_values_as_the_api_documents(sheet):
    # Guards the stand-in itself on the paths the backend does not take (values.get and values.update).
    sheet.load([material(submitter="007", publishable=True)])
    http, get = sheet.source().client.http, {}
    for option in ("FORMATTED_VALUE", "UNFORMATTED_VALUE"):
        answer = http.values_get(KEY, "'素材'!B2:D2", params={"valueRenderOption": option})
        get[option] = answer["values"][0]
    assert get["UNFORMATTED_VALUE"] == [46350.395833333336, "执行一组", "007"]
    assert get["FORMATTED_VALUE"] == ["2026-11-24 9:30:00", "执行一组", "007"]
    columns = http.values_get(KEY, "'部门'!A1:B3", params={"majorDimension": "COLUMNS"})["values"]
    assert columns[0] == ["部门", "执行一组", "执行二组"]
    for option, typed, stored in (("RAW", "0012", "0012"), ("USER_ENTERED", "0012", 12)):
        http.values_update(KEY, "'素材'!N5", params={"valueInputOption": option}, body={"values": [[typed]]})
        assert sheet.cells()[4][13] == stored
    http.values_update(KEY, "'素材'!N5", params={"valueInputOption": "RAW"}, body={"values": [[""]]})
    assert len(sheet.cells()) == 2                               # "" empties the cell; the row is gone


# --- 4. configuration and access errors --------------------------------------------------------------------

BAD_KEYS = {
    "missing": None,
    "not-json": "这不是 JSON",
    "user-oauth": json.dumps({"type": "authorized_user", "client_id": "x", "refresh_token": "y"}),
    "no-email": json.dumps({"type": "service_account", "private_key": "k", "token_uri": "http://127.0.0.1/t"}),
    "bad-private-key": json.dumps({"type": "service_account", "client_email": ACCOUNT, "token_uri": "http://x/t",
                                   "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
}


@pytest.mark.parametrize("kind", BAD_KEYS, ids=BAD_KEYS.keys())
def test_a_bad_key_file_is_a_config_error_naming_the_file(sheet, kind):
    sheet.key_file.unlink()
    if BAD_KEYS[kind] is not None:
        sheet.key_file.write_text(BAD_KEYS[kind], encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        open_source(sheet.settings)
    message = str(caught.value)
    assert str(sheet.key_file) in message and "[sheet] credentials" in message
    assert "BEGIN PRIVATE KEY" not in message and "AAAA" not in message
    assert sheet.api.log == []                                    # nothing was sent


def test_a_bad_key_file_exits_2_via_the_cli_without_a_traceback(sheet):
    sheet.key_file.write_text("{ 被截断的", encoding="utf-8")
    result = sheet.cli("pull")
    assert result.returncode == 2
    assert "不是 JSON" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_without_credentials_the_environment_variable_is_used(sheet, api, tmp_path, monkeypatch):
    sheet.load([material()])
    path = gsheets_config(tmp_path, endpoint=api.url, credentials=None)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(ConfigError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        open_source(config.load(path))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(sheet.key_file))
    assert run_job(config.load(path), pulling.pull).accepted == 1


def test_a_revoked_key_is_a_config_error_naming_the_account(sheet):
    sheet.load([material()])
    sheet.api.revoked.add(ACCOUNT)
    with pytest.raises(ConfigError) as caught:
        sheet.pull()
    assert ACCOUNT in str(caught.value) and "invalid_grant" in str(caught.value)


def test_an_unshared_sheet_names_the_service_account_and_exits_1(sheet):
    sheet.load([material()])
    sheet.api.spreadsheets[KEY].shared_with = {"someone-else@court.example"}
    result = sheet.cli("pull")
    assert result.returncode == 1
    assert ACCOUNT in result.stderr and "共享" in result.stderr and "403" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unknown_spreadsheet_says_to_check_the_key_and_exits_1(sheet):
    sheet.load([material()])
    sheet.config_path.write_text(sheet.config_path.read_text(encoding="utf-8").replace(KEY, "NoSuchSheet123"),
                                 encoding="utf-8")
    result = sheet.cli("pull")
    assert result.returncode == 1
    assert "找不到该电子表格" in result.stderr and "[sheet] spreadsheet" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("value", ["https://docs.google.com/document/d/abc", "not a key!"])
def test_a_malformed_spreadsheet_setting_is_a_config_error(value):
    with pytest.raises(ConfigError):
        spreadsheet_key(value, "x.toml: [sheet] spreadsheet")


# --- 5. the protection check -------------------------------------------------------------------------------------

def test_an_unprotected_review_tab_is_warned_about(sheet):
    sheet.load([material()])
    sheet.api.unprotect(KEY, REVIEWS.name)
    summary = sheet.pull()
    (warning,) = summary.warnings
    assert warning.startswith("“审核”页未设保护") and "审批稿件" in warning and ACCOUNT in warning


def test_a_warning_only_protection_of_the_media_tab_is_warned_about(sheet):
    sheet.load([material()])
    sheet.api.unprotect(KEY, MEDIA.name)
    sheet.api.protect(KEY, MEDIA.name, warning_only=True)
    (warning,) = sheet.pull().warnings
    assert warning.startswith("“媒体”页只设了“显示警告”的保护")


def test_a_protection_covering_only_some_columns_does_not_count(sheet):
    sheet.load([material()])
    sheet.api.unprotect(KEY, REVIEWS.name)
    sheet.api.protect(KEY, REVIEWS.name, editors=[ACCOUNT], columns=(0, 2))
    (warning,) = sheet.pull().warnings
    assert "审核" in warning and "未覆盖整页" in warning


def test_protected_tabs_raise_no_warning_and_the_cli_shows_warnings(sheet):
    sheet.load([material()])
    assert sheet.pull().warnings == []
    sheet.api.unprotect(KEY, MEDIA.name)
    result = sheet.cli("pull")
    assert result.returncode == 0 and "注意：“媒体”页未设保护" in result.stdout


# --- 5b. cells the service account may not edit: left out of the write-back, named in a warning ------------------

REVIEW_STATUS = [c.key for c in REVIEWS.columns].index("status")
MEDIA_STATUS = [c.key for c in MEDIA.columns].index("status")
OFFICE = "fuxian@court.example"
LEFT_OUT = "未能写回"


def unknown_draft(number: int) -> dict[str, Any]:
    """A 审核 row the pull answers in its 状态 (no such draft)."""
    return {"draft_id": f"D-2026-{number:06d}", "decision": "通过", "reviewer": "符贤"}


BAD_MEDIA = {"outlet": "海南日报", "email": "newsroom(at)hndaily.example"}   # its 状态 names the bad address


def two_materials() -> list[dict[str, Any]]:
    return [material(), material(title="第二件：被执行人主动履行5万元", case_number="（2026）琼9003执77号")]


def statuses(sheet: GoogleSheet, tab: Tab, column: int) -> list[Any]:
    return [_at(row, column) for row in sheet.cells(tab)[1:]]


def left_out(warnings: list[str]) -> list[str]:
    return [w for w in warnings if LEFT_OUT in w]


def close_reviews_to_the_account(sheet: GoogleSheet, reviews: list[dict[str, Any]], **tabs: Any) -> None:
    """审核 protected with only the office as editor; 媒体 protected as the README says."""
    sheet.load(two_materials(), reviews=reviews, protect=False, **tabs)
    sheet.api.protect(KEY, MEDIA.name, editors=[OFFICE, ACCOUNT])
    sheet.api.protect(KEY, REVIEWS.name, editors=[OFFICE])


def test_a_review_tab_closed_to_the_account_still_lets_the_material_be_numbered_and_says_what_was_left_out(sheet):
    close_reviews_to_the_account(sheet, [unknown_draft(45), unknown_draft(46)])
    before = sheet.cells(REVIEWS)
    result = sheet.cli("pull")
    assert result.returncode == 0, result.stderr
    marks = sheet.marks()
    assert [status for _, status in marks] == ["已受理", "已受理"]
    assert all(re.fullmatch(r"S-2026-\d{6}", str(ident)) for ident, _ in marks)
    recorded = ledger_dump(sheet.ledger)["submissions"]
    assert sorted(row[0] for row in recorded) == sorted(ident for ident, _ in marks)
    assert sheet.cells(REVIEWS) == before                             # 审核 as it was: no 状态 written there
    assert "写回 4 个单元格" in result.stdout                            # 编号 and 状态 of two rows, no more
    warning = "注意：“审核”页第 2、3 行的“状态”未能写回"
    assert warning in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith(warning))
    assert f"把服务账号 {ACCOUNT} 加为该保护范围的编辑者" in line
    status = sheet.cli("status")
    assert status.returncode == 0 and line in status.stdout.splitlines()


def test_the_digest_tells_the_office_which_status_cells_were_left_out_and_how_to_fix_it(sheet, smtp_server):
    close_reviews_to_the_account(sheet, [unknown_draft(45)])
    (warning,) = left_out(sheet.pull().warnings)
    assert warning.startswith("“审核”页第 2 行的“状态”未能写回") and ACCOUNT in warning
    settings = smtp_server.configure(sheet)
    run = run_job(settings, week.digest)
    assert run.report.counts["sent"] == 1
    (mail,) = [m.parse() for m in smtp_server.handler.messages]
    assert f"注意：{warning}" in mail.get_body(("plain",)).get_content()
    assert f"注意：{warning}" in mail.get_body(("html",)).get_content()


@pytest.mark.parametrize("protection", [
    {"editors": [OFFICE], "unprotected": [(None, (REVIEW_STATUS, REVIEW_STATUS + 1))]},
    {"warning_only": True},
], ids=["a-hole-over-the-status-column", "warning-only"])
def test_a_protection_the_account_may_write_through_leaves_nothing_out(sheet, protection):
    sheet.load(two_materials(), reviews=[unknown_draft(45)], media=[BAD_MEDIA], protect=False)
    sheet.api.protect(KEY, REVIEWS.name, **protection)
    sheet.api.protect(KEY, MEDIA.name, editors=[OFFICE])       # closed to the account: the one cell left out
    summary = sheet.pull()
    assert [status for _, status in sheet.marks()] == ["已受理", "已受理"]
    assert statuses(sheet, REVIEWS, REVIEW_STATUS)[0]              # written through the hole / the warning
    assert statuses(sheet, MEDIA, MEDIA_STATUS) == [None]
    (warning,) = left_out(summary.warnings)
    assert warning.startswith("“媒体”页第 2 行的“状态”未能写回")


def test_a_protection_of_some_rows_leaves_out_only_those_rows_cells(sheet):
    sheet.load(two_materials(), reviews=[unknown_draft(45), unknown_draft(46), unknown_draft(47)], protect=False)
    sheet.api.protect(KEY, MEDIA.name, editors=[OFFICE, ACCOUNT])
    sheet.api.protect(KEY, REVIEWS.name, editors=[OFFICE], rows=(2, 3))   # 0-based, end exclusive: sheet row 3
    summary = sheet.pull()
    written = statuses(sheet, REVIEWS, REVIEW_STATUS)
    assert bool(written[0]) and written[1] is None and bool(written[2])
    (warning,) = left_out(summary.warnings)
    assert warning.startswith("“审核”页第 3 行的“状态”未能写回")


def test_a_protection_added_after_the_metadata_was_read_fails_one_cycle_and_is_left_out_in_the_next(sheet):
    sheet.load(two_materials(), reviews=[unknown_draft(45)])           # protected as the README says
    source = sheet.source()
    source.fetch(lambda title: True)                                   # the metadata is read and kept
    sheet.api.unprotect(KEY, REVIEWS.name)
    sheet.api.protect(KEY, REVIEWS.name, editors=[OFFICE])           # the office closes 审核 to the account
    first = sheet.pull(source)
    assert "保护范围" in str(first.waiting) and ACCOUNT in str(first.waiting)
    assert len(ledger_dump(sheet.ledger)["submissions"]) == 2 and sheet.marks() == [(None, None), (None, None)]
    summary = sheet.pull(source)                                       # the next cycle reads the protections again
    assert summary.waiting is None
    assert [status for _, status in sheet.marks()] == ["已受理", "已受理"]
    assert len(left_out(summary.warnings)) == 1


def test_ids_a_protection_keeps_out_of_the_sheet_stay_with_their_rows_when_a_row_is_edited(sheet):
    sheet.load(two_materials())
    sheet.api.protect(KEY, SUBMISSIONS.name, editors=[OFFICE], columns=(ID_COLUMN, ID_COLUMN + 1))
    first = sheet.pull()
    assert [ident for ident, _ in sheet.marks()] == [None, None] and left_out(first.warnings)
    recorded = sorted(row[0] for row in ledger_dump(sheet.ledger)["submissions"])

    rows = sheet.cells()
    rows[2][[c.key for c in SUBMISSIONS.columns].index("outcome")] = "被执行人已全部履行。"
    sheet.api.set_rows(KEY, SUBMISSIONS.name, rows)
    second = sheet.pull()

    assert (second.new, second.changed, second.removed) == (0, 1, 0)
    assert sorted(row[0] for row in ledger_dump(sheet.ledger)["submissions"]) == recorded
    assert [status for _, status in sheet.marks()] == ["已受理", "已受理（第2版）"]


def test_once_the_account_is_made_an_editor_the_next_cycle_writes_what_was_left_out(sheet):
    close_reviews_to_the_account(sheet, [unknown_draft(45)])
    source = sheet.source()                                            # one process: `run`
    assert left_out(sheet.pull(source).warnings)
    assert statuses(sheet, REVIEWS, REVIEW_STATUS) == [None]
    sheet.api.unprotect(KEY, REVIEWS.name)
    sheet.api.protect(KEY, REVIEWS.name, editors=[OFFICE, ACCOUNT])  # the fix the warning asks for
    summary = sheet.pull(source)
    assert left_out(summary.warnings) == [] and statuses(sheet, REVIEWS, REVIEW_STATUS)[0]


@pytest.mark.parametrize("protection, sheet_id, row, column, blocked", [
    ({"range": {}}, 0, 1, 1, True),                                            # sheetId 0 is left out
    ({"range": {}}, 7, 1, 1, False),                                           # ... so {} is the first tab
    ({"range": {"sheetId": 7}}, 7, 900, 30, True),                             # unbounded sides
    ({"range": {"startRowIndex": 2, "endRowIndex": 4}}, 0, 2, 1, False),       # 0-based: row index 1
    ({"range": {"startRowIndex": 2, "endRowIndex": 4}}, 0, 3, 1, True),
    ({"range": {"startRowIndex": 2, "endRowIndex": 4}}, 0, 4, 1, True),
    ({"range": {"startRowIndex": 2, "endRowIndex": 4}}, 0, 5, 1, False),       # end exclusive
    ({"range": {"startColumnIndex": 3}}, 0, 1, 3, False),
    ({"range": {"startColumnIndex": 3}}, 0, 1, 4, True),
    ({"range": {}, "warningOnly": True}, 0, 1, 1, False),
    ({"range": {}, "requestingUserCanEdit": True}, 0, 1, 1, False),
    ({"range": {}, "unprotectedRanges": [{"startColumnIndex": 3, "endColumnIndex": 4}]}, 0, 9, 4, False),
    ({"range": {}, "unprotectedRanges": [{"startColumnIndex": 3, "endColumnIndex": 4}]}, 0, 9, 5, True),
    ({"range": {}, "unprotectedRanges": [{"sheetId": 7, "startColumnIndex": 3}]}, 0, 9, 5, True),
])
def test_the_metadata_decides_which_cells_the_account_may_not_write(protection, sheet_id, row, column, blocked):
    info = gsheets.SheetInfo("审核", sheet_id, 1000, 26, protections=(protection,))
    assert gsheets.blocked(info, row, column) is blocked


def test_the_warning_names_the_columns_by_their_layout_names_and_runs_of_rows():
    header = [c.name for c in SUBMISSIONS.columns]
    snapshot = SheetData({SUBMISSIONS.name: TabData(SUBMISSIONS.name, [header])}, "v")
    cells = [CellUpdate(SUBMISSIONS.name, 4, ID_COLUMN + 1, "S-2026-000001")]
    cells += [CellUpdate(SUBMISSIONS.name, row, STATUS_COLUMN + 1, "已受理") for row in (2, 3, 5, 6, 7, 8, 12)]
    (warning,) = gsheets.left_out_warnings(snapshot, cells, ACCOUNT)
    assert warning.startswith("“素材”页第 4 行的“编号”，第 2、3、5 至 8、12 行的“状态”未能写回")


# --- 6. the contract suite: the same hostile input on xlsx and gsheets ----------------------------------------------

class XlsxBook:
    """The local workbook, edited with openpyxl as a person would in Excel."""

    name = "xlsx"

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.ledger = workspace.ledger

    def load(self, submissions, **tabs) -> None:
        self.workspace.make_workbook(submissions, **tabs)

    def pull(self):
        return run_job(self.workspace.settings, pulling.pull)

    def rows(self, tab: Tab) -> list[list[Any]]:
        book = openpyxl.load_workbook(self.workspace.workbook)
        return _trimmed([list(r) for r in book[tab.name].iter_rows(values_only=True)])

    def edit(self, tab: Tab, change: Callable[[list[list[Any]]], None]) -> None:
        book = openpyxl.load_workbook(self.workspace.workbook)
        sheet = book[tab.name]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        change(rows)
        height = max(sheet.max_row, len(rows))
        width = max(sheet.max_column, *(len(r) for r in rows))
        for r in range(1, height + 1):
            for c in range(1, width + 1):
                value = rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None
                if sheet.cell(row=r, column=c).value != value:
                    sheet.cell(row=r, column=c).value = value
        book.save(self.workspace.workbook)


class SheetsBook:
    """The Google Sheet behind the stand-in, edited as a person would in the browser."""

    name = "gsheets"

    def __init__(self, sheet: GoogleSheet) -> None:
        self.sheet = sheet
        self.ledger = sheet.ledger
        self._source = None

    def load(self, submissions, **tabs) -> None:
        self.sheet.load(submissions, **tabs)
        self._source = self.sheet.source()          # one source for the whole scenario, as in `run`

    def pull(self):
        return self.sheet.pull(self._source)

    def rows(self, tab: Tab) -> list[list[Any]]:
        return _trimmed(self.sheet.api.cells(KEY, tab.name))

    def edit(self, tab: Tab, change: Callable[[list[list[Any]]], None]) -> None:
        rows = self.sheet.api.cells(KEY, tab.name)
        change(rows)
        self.sheet.api.set_rows(KEY, tab.name, rows)


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows without trailing blanks; a date as openpyxl gives it back (a datetime at midnight)."""
    out = []
    for row in rows:
        row = [None if v == "" else datetime.combine(v, datetime.min.time())
               if isinstance(v, date) and not isinstance(v, datetime) else v for v in row]
        while row and row[-1] is None:
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


COL = {c.key: i for i, c in enumerate(SUBMISSIONS.columns)}


def _cell(rows: list[list[Any]], row: int, key: str) -> Any:
    return _at(rows[row - 1], COL[key]) if row <= len(rows) else None


def _set(rows: list[list[Any]], row: int, key: str, value: Any) -> None:
    while len(rows) < row:
        rows.append([])
    rows[row - 1] += [None] * (COL[key] + 1 - len(rows[row - 1]))
    rows[row - 1][COL[key]] = value


def hostile_rows() -> list[dict[str, Any]]:
    """Good, bad, duplicated and blank rows interleaved, with the odd values people type."""
    return [
        material(title="甲：正常"),
        material(title="乙：缺执行过程", process=None),
        {},
        material(title="丙：类别同义词", kind="成功执行", submitter="007", submitted_at=date(2026, 11, 23)),
        material(title="甲：正常", submitter="另一人"),                                  # a duplicate of 甲
        material(title="丁：坏案号", case_number="2026琼执123"),
        {"title": "  ", "team": "\u3000"},                                                # whitespace only
        material(title="戊：部门不在表中", team="执行五组"),
        material(title="己：字符串时间", submitted_at="2026年11月25日 14时05分", team="执行 二组"),
        material(title="庚：坏时间", submitted_at="下周三"),
        material(title="辛：不公开", publishable="否", parties=None, outcome=None),
        material(title="壬：时间跨周", submitted_at=datetime(2026, 11, 29, 23, 30), team="执行指挥中心"),
    ]


def _sort_by_title(rows: list[list[Any]]) -> None:
    body = [r for r in rows[1:] if any(v not in (None, "") for v in r)]
    body.sort(key=lambda r: str(_at(r, COL["title"]) or ""), reverse=True)
    rows[1:] = body


def _copy_row(source_row: int, target_row: int) -> Callable[[list[list[Any]]], None]:
    def change(rows: list[list[Any]]) -> None:
        for key in COL:
            _set(rows, target_row, key, _cell(rows, source_row, key))
    return change


def scenario_mixed(book) -> None:
    book.load(hostile_rows(), media=[{"outlet": "《法制时报》", "email": "news@fzsb.example", "kinds": "全部"},
                                     {"outlet": "坏媒体", "email": "bad#mail", "kinds": "八卦"}],
              activities=[{"date": date(2026, 12, 3), "kind": "新闻发布会", "name": "发布会"},
                          {"date": "下个月", "kind": "座谈会"}],
              reviews=[{"draft_id": "D-2026-000045", "decision": "通过", "reviewer": "符贤"}])
    summary = book.pull()
    assert (summary.rows, summary.accepted, summary.flagged) == (10, 5, 5)
    again = book.pull()
    assert again.cells_written == 0


def scenario_edit_keeps_id(book) -> None:
    book.load([material(title=f"条目{n}", case_number=f"（2026）琼9003执{100 + n}号") for n in range(4)])
    book.pull()
    book.edit(SUBMISSIONS, lambda rows: _set(rows, 3, "outcome", "经多次约谈，分期履行完毕。"))
    summary = book.pull()
    assert (summary.changed, summary.new) == (1, 0)
    assert _cell(book.rows(SUBMISSIONS), 3, "status") == "已受理（第2版）"


def scenario_cleared_id_restored(book) -> None:
    book.load([material(title=f"条目{n}", case_number=f"（2026）琼9003执{100 + n}号") for n in range(4)])
    book.pull()
    book.edit(SUBMISSIONS, lambda rows: _set(rows, 4, "id", None))
    summary = book.pull()
    assert (summary.restored, summary.new) == (1, 0)
    assert _cell(book.rows(SUBMISSIONS), 4, "id") == "S-2026-000003"


def scenario_sorted(book) -> None:
    book.load([material(title=f"条目{n}", case_number=f"（2026）琼9003执{100 + n}号") for n in (3, 1, 4, 2)])
    book.pull()
    before = {_cell(book.rows(SUBMISSIONS), r, "title"): _cell(book.rows(SUBMISSIONS), r, "id") for r in range(2, 6)}
    book.edit(SUBMISSIONS, _sort_by_title)
    assert book.pull().cells_written == 0
    rows = book.rows(SUBMISSIONS)
    assert [_cell(rows, r, "title") for r in range(2, 6)] == ["条目4", "条目3", "条目2", "条目1"]
    assert {_cell(rows, r, "title"): _cell(rows, r, "id") for r in range(2, 6)} == before


def scenario_copied_row(book) -> None:
    book.load([material(title=f"条目{n}", case_number=f"（2026）琼9003执{100 + n}号") for n in range(3)])
    book.pull()
    book.edit(SUBMISSIONS, _copy_row(2, 7))
    summary = book.pull()
    assert (summary.flagged, summary.accepted) == (1, 3)
    rows = book.rows(SUBMISSIONS)
    assert _cell(rows, 7, "id") is None and str(_cell(rows, 7, "status")).startswith("重复")


SCENARIOS = [scenario_mixed, scenario_edit_keeps_id, scenario_cleared_id_restored, scenario_sorted,
             scenario_copied_row]


@pytest.fixture(params=SCENARIOS, ids=lambda f: f.__name__.removeprefix("scenario_"))
def outcomes(request, sheet, workspace) -> dict[str, tuple[dict, dict]]:
    """Run one scenario on both backends; each backend's ledger and final tabs."""
    found = {}
    for book in (XlsxBook(workspace), SheetsBook(sheet)):
        request.param(book)
        found[book.name] = (ledger_dump(book.ledger), {tab.name: book.rows(tab) for tab in TABS})
    return found


def test_the_same_hostile_input_gives_the_same_ledger_and_write_back_on_both_backends(outcomes):
    (xlsx_ledger, xlsx_tabs), (sheets_ledger, sheets_tabs) = outcomes["xlsx"], outcomes["gsheets"]
    assert xlsx_ledger["submissions"], "the scenario recorded nothing"
    assert sheets_ledger == xlsx_ledger
    assert sheets_tabs == xlsx_tabs



def test_non_characters_and_bidi_overrides_from_a_sheet_stop_no_release(sheet) -> None:
    """U+FFFE, U+FFFF and a right-to-left override can come through the Sheets API: they are dropped
    at intake, and no subject, file name or body carries them."""
    from pipeline.flows import publishing
    title = "被执行人主动履行\ufffe\uffff 28万元\u202egpj.exe"
    media = [{"outlet": "《法制时报》", "contact": "", "email": "news@fzsb.example", "kinds": "全部", "enabled": "是"}]
    sheet.load([{**material(title=title), "submitted_at": "2026-11-24 09:30"}], media=media)
    sheet.pull()
    [draft_id] = run_job(sheet.settings, publishing.draft).drafted
    run_job(sheet.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    run = run_job(sheet.settings, publishing.publish)
    assert run.published == [draft_id] and run.report.counts["sent"] >= 1
    mail = list(sheet.settings.mail.outbox.glob("*.eml"))
    assert any("-release-" in path.name for path in mail)
    for path in mail:
        message = BytesParser(policy=email_policy.default).parsebytes(path.read_bytes())
        seen = str(message["Subject"]) + "".join(
            (part.get_filename() or "") + (part.get_content() if part.get_content_type().startswith("text/") else "")
            for part in message.walk() if not part.is_multipart())
        assert not any(char in seen for char in "\ufffe\uffff\u202e"), path.name
