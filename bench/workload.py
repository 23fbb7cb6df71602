"""What the benchmarks work on: big workbooks of realistic Chinese material, media lists, workspaces.

Everything is built from the demo material (``pipeline.demo_data``) and the
template ``init`` writes (``pipeline.scaffold.write_workbook``), varied by
row so that no two submissions are duplicates unless on purpose: titles
carry a township and a date, case numbers a serial and a year, teams and
submitters rotate, and submission times spread over the year. One row in fifty is one
of the demo's bad rows and one in two hundred repeats the row before it, as
real sheets do.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from pipeline.app import demo_data
from pipeline.app.scaffold import write_workbook
from pipeline.core import config
from pipeline.core.config import LedgerSettings, Settings
from pipeline.core.layout import MEDIA, REVIEWS, SUBMISSIONS, TABS, Tab

# Thursday of ISO week 2026-W48 in Beijing: the same pinned clock as the tests.
NOW = "2026-11-26T10:00:00+08:00"
AT = datetime.fromisoformat(NOW)

PLACES = ("那大镇", "白马井镇", "中和镇", "新州镇", "木棠镇", "光村镇", "海头镇", "排浦镇", "王五镇", "东成镇",
          "大成镇", "雅星镇", "兰洋镇", "和庆镇", "南丰镇", "峨蔓镇", "三都街道", "洋浦经济开发区")
SUBMITTERS = ("李明辉", "陈小燕", "羊志雄", "符海燕", "邢文斌", "王德明", "吴海涛", "林春梅", "黄丽萍", "郑晓丹")
OUTLETS = ("海南日报", "南国都市报", "海南法治时报", "人民法院报", "法治日报", "海南广播电视总台", "今日儋州",
           "儋州电视台", "新海南客户端", "椰网", "南海网", "人民网海南频道", "新华网海南频道", "中国新闻网海南",
           "儋州广播电台", "海口日报", "三亚日报", "琼州晚报", "法制周末", "民主与法制")
EDITORS = ("郑丽华", "李海燕", "吴振宇", "陈晓东", "羊丽萍", "陈静", "梁志远", "何雪", "符小琴", "周建国")

# A sentence with personal numbers: masked in every draft, checked again by the guard on every message.
IDENTIFIERS = "被执行人曾留下身份证号460003198805121234及手机号13907561234，执行干警据此找到其本人。"


def submission_rows(count: int, *, bad_every: int = 50, repeat_every: int = 200,
                    publishable: bool | None = None, identifiers: bool = False) -> list[dict[str, Any]]:
    """``count`` 素材 rows keyed by column key (编号 and 状态 left blank, for the pipeline to fill)."""
    good = demo_data.SUBMISSIONS
    bad = [b for b in demo_data.BAD_SUBMISSIONS if "duplicate" not in b["problem"]]
    teams = [t[0] for t in demo_data.TEAMS]
    start = datetime(2026, 1, 5, 8, 0)
    span = AT.replace(tzinfo=None) - timedelta(hours=1) - start
    rows: list[dict[str, Any]] = []
    for i in range(count):
        if repeat_every and i % repeat_every == repeat_every - 1 and rows:
            rows.append(dict(rows[-1]))            # typed twice: intake flags it as a duplicate
            continue
        is_bad = bool(bad_every) and i % bad_every == bad_every - 1
        base = bad[i // bad_every % len(bad)] if is_bad else good[i % len(good)]
        row = {k: v for k, v in base.items() if k not in ("day", "time", "problem")}
        moment = (start + span * (i / max(count, 1))).replace(second=0, microsecond=0)
        row["title"] = f"{base['title']}（{PLACES[i % len(PLACES)]}，{moment.month}月{moment.day}日）"
        if not is_bad:
            row["team"] = teams[i % len(teams)]
        if base.get("case_number") and "malformed" not in base.get("problem", ""):
            row["case_number"] = f"（{2024 + i % 3}）琼9003执{'恢' if i % 9 == 4 else ''}{1000 + i}号"
        row["submitter"] = SUBMITTERS[i % len(SUBMITTERS)]
        row["submitted_at"] = moment
        if publishable is not None:
            row["publishable"] = "是" if publishable else "否"
        if identifiers:
            row["facts"] = f"{row['facts']}{IDENTIFIERS}"
        rows.append(row)
    return rows


def media_rows(count: int, kind: str = "执行成功") -> list[dict[str, Any]]:
    """``count`` enabled 媒体 rows, every one taking ``kind`` (most take 全部)."""
    rows = []
    for i in range(count):
        outlet = OUTLETS[i % len(OUTLETS)]
        desk = f"{outlet}（{PLACES[i // len(OUTLETS) % len(PLACES)]}记者站{i // (len(OUTLETS) * len(PLACES)) + 1}）"
        kinds = "全部" if i % 4 else f"{kind}、执行不能、打击拒执"
        rows.append({"outlet": desk, "contact": EDITORS[i % len(EDITORS)], "email": f"desk{i + 1}@media{i % 41}.example",
                     "kinds": kinds, "enabled": "是"})
    return rows


REVIEW_ROWS = [
    {"draft_id": "D-2026-000001", "decision": "通过", "reviewer": "符贤", "comment": "同意发布"},
    {"draft_id": "D-2026-000002", "decision": "退回", "reviewer": "高琼芳", "comment": "执行过程请补充拘传的时间和地点"},
    {"draft_id": "D-2026-000003", "decision": "通过", "reviewer": "赵刚", "comment": ""},
]


def write(path: Path, submissions: list[dict[str, Any]], *, media: list[dict[str, Any]] | None = None,
          reviews: list[dict[str, Any]] = ()) -> Path:
    """The template ``init --demo`` writes (its teams, media and activities), holding these rows."""
    write_workbook(path, now=AT, demo=True, force=True)
    book = openpyxl.load_workbook(path)
    _fill(book[SUBMISSIONS.name], SUBMISSIONS, submissions)
    if media is not None:
        _fill(book[MEDIA.name], MEDIA, media)
    _fill(book[REVIEWS.name], REVIEWS, list(reviews))
    book.save(path)
    return path


def _fill(sheet, tab: Tab, rows: list[dict[str, Any]]) -> None:
    """Rows 2.. hold ``rows``; whatever the demo left below them is cleared."""
    last = max(sheet.max_row, len(rows) + 1)
    for number in range(2, last + 1):
        values = rows[number - 2] if number - 2 < len(rows) else {}
        for index, column in enumerate(tab.columns, start=1):
            value = values.get(column.key)
            cell = sheet.cell(row=number, column=index)
            if value is not None or cell.value is not None:
                cell.value = value


def tab_grids(path: Path) -> dict[str, list[list[Any]]]:
    """The workbook's five tabs as grids of values, to load into the Sheets API stand-in."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = {tab.name for tab in TABS}
        grids = {}
        for sheet in book.worksheets:
            if sheet.title in names:
                rows = [list(r) for r in sheet.iter_rows(values_only=True)]
                while rows and all(v is None for v in rows[-1]):
                    rows.pop()
                grids[sheet.title] = rows
        return grids
    finally:
        book.close()


# --- workspaces -----------------------------------------------------------------------

def workspace(root: Path) -> Settings:
    """A folder with the default config (local workbook, ledger, outbox): its settings.

    The national network's copy of a release is switched off: benchmark c
    measures the media's 1,000 messages against a floor that sends the same.
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / "pipeline.toml"
    text = config.render_default()
    assert "\nnetwork = true" in text
    path.write_text(text.replace("\nnetwork = true", "\nnetwork = false", 1), encoding="utf-8")
    return config.load(path)


def with_ledger(settings: Settings, ledger: Path) -> Settings:
    return dataclasses.replace(settings, ledger=LedgerSettings(path=ledger))


def copy_ledger(source: Path, target: Path) -> Path:
    """A closed ledger's file (and WAL, if one is left) copied to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        extra = source.with_name(source.name + suffix)
        if extra.exists():
            shutil.copyfile(extra, target.with_name(target.name + suffix))
    return target


def fresh_dirs(root: Path, prefix: str) -> Iterator[Path]:
    """rep-1, rep-2, … under ``root``: one clean folder per repetition."""
    number = 0
    while True:
        number += 1
        folder = root / f"{prefix}-{number}"
        folder.mkdir(parents=True)
        yield folder
