"""Shared fixtures: a throw-away workspace with its own config, real .xlsx files, a pinned clock."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.app.scaffold import write_workbook
from pipeline.core import config
from pipeline.core.layout import ACTIVITIES, MEDIA, REVIEWS, SUBMISSIONS, TEAMS, Tab
from pipeline.flows.context import Context

PROJECT = Path(__file__).resolve().parent.parent
# Thursday of ISO week 2026-W48, mid-morning in Beijing.
NOW = "2026-11-26T10:00:00+08:00"

DEFAULT_TEAMS = [
    {"team": "执行一组", "leader": "吴海涛", "email": "zhixing1@court.example", "quota": 3},
    {"team": "执行二组", "leader": "林春梅", "email": "zhixing2@court.example", "quota": 3},
    {"team": "执行指挥中心", "leader": "王德明", "email": "zhihui@court.example", "quota": 3},
]


def material(**overrides: Any) -> dict[str, Any]:
    """One good 素材 row; override any column by its key."""
    row = {
        "submitted_at": datetime(2026, 11, 24, 9, 30),
        "team": "执行一组",
        "submitter": "李明辉",
        "kind": "执行成功",
        "case_number": "（2026）琼9003执1234号",
        "title": "拖欠货款三年 被执行人主动履行28万元",
        "facts": "申请执行人王某华与被执行人李某强买卖合同纠纷一案，判决生效后李某强未履行。",
        "process": "执行干警查控其名下车辆并依法扣押，李某强随即到庭协商。",
        "outcome": "当场履行28万元，案件执行完毕。",
        "parties": "申请执行人：王某华；被执行人：李某强",
        "publishable": "是",
    }
    row.update(overrides)
    return row


@dataclass
class Workspace:
    root: Path
    config_path: Path
    workbook: Path
    ledger: Path

    @classmethod
    def create(cls, root: Path) -> Workspace:
        """A folder with its own copy of the default config (local workbook, ledger, outbox)."""
        path = root / "pipeline.toml"
        path.write_text(config.render_default(), encoding="utf-8")
        settings = config.load(path)
        return cls(root, path, settings.sheet.path, settings.ledger.path)

    @property
    def settings(self) -> config.Settings:
        return config.load(self.config_path)

    def make_workbook(self, submissions: list[dict[str, Any]] = (), *, teams: list[dict[str, Any]] | None = None,
                      media: list[dict[str, Any]] = (), activities: list[dict[str, Any]] = (),
                      reviews: list[dict[str, Any]] = ()) -> Path:
        """A real template workbook (as ``init`` writes it) holding these rows."""
        write_workbook(self.workbook, now=datetime.fromisoformat(NOW), demo=False, force=True)
        book = openpyxl.load_workbook(self.workbook)
        for tab, rows in ((SUBMISSIONS, submissions), (TEAMS, DEFAULT_TEAMS if teams is None else teams),
                          (MEDIA, media), (ACTIVITIES, activities), (REVIEWS, reviews)):
            write_rows(book[tab.name], tab, rows)
        book.save(self.workbook)
        return self.workbook

    def configure(self, section: str, **values: Any) -> None:
        """Set keys of ``[section]`` (dotted for a sub-table) in the config, as an administrator would."""
        data = tomllib.loads(self.config_path.read_text(encoding="utf-8"))
        table = data
        for part in section.split("."):
            table = table.setdefault(part, {})
        table.update(values)
        self.config_path.write_text(toml_text(data), encoding="utf-8")

    def edit(self, tab: Tab, row: int, **values: Any) -> None:
        """Change cells of one row of the workbook, as a person would."""
        book = openpyxl.load_workbook(self.workbook)
        sheet = book[tab.name]
        header = [c.value for c in sheet[1]]
        for key, value in values.items():
            sheet.cell(row=row, column=header.index(tab.column(key).name) + 1, value=value)
        book.save(self.workbook)

    def review_code(self, item_id: str) -> str:
        """The 审核码 the office's mail about ``item_id`` carries, as the office reads it there."""
        from pipeline.ledger import Ledger
        from pipeline.plan.review import review_code
        with Ledger(self.ledger) as ledger:
            return review_code(ledger.review_secret(), item_id)

    def rows(self, tab: Tab = SUBMISSIONS) -> list[dict[str, Any]]:
        """The tab's data rows as dicts keyed by column key (blank rows dropped)."""
        book = openpyxl.load_workbook(self.workbook)
        return read_rows(book[tab.name], tab)

    def cli(self, *args: str, check: bool = False, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PIPELINE_NOW": os.environ.get("PIPELINE_NOW", NOW), "PYTHONIOENCODING": "utf-8",
               **(env or {})}
        result = subprocess.run([sys.executable, str(PROJECT / "run.py"), "--config", str(self.config_path), *args],
                                cwd=self.root, env=env, capture_output=True, text=True, encoding="utf-8",
                                timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result


def run_job(settings: config.Settings, job: Any, *args: Any, transport: Any = None, **kwargs: Any) -> Any:
    """One job as the command line runs it: on its own context (the ledger, a clock reading, the transport)."""
    with Context.open(settings, transport=transport) as ctx:
        return job(ctx, *args, **kwargs)


def _drop_generation(db) -> None:
    for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                 "AND name LIKE '%\\_generation\\_%' ESCAPE '\\'").fetchall():
        db.execute(f"DROP TRIGGER {trigger}")
    db.execute("DROP TABLE generation")


def _drop_columns(db, *columns: tuple[str, str]) -> None:
    for table, column in columns:
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


# What each schema step added, taken away again: the way to a ledger as an older release wrote it.
UNDO_SCHEMA = {
    14: lambda db: (db.execute("DROP INDEX deliveries_reserved"),
                    _drop_columns(db, ("deliveries", "reserved_on"), ("deliveries", "reserved_at"))),
    13: lambda db: _drop_columns(db, ("activities", "team")),
    12: lambda db: (db.execute("DROP TABLE placements"),
                    _drop_columns(db, ("media", "level"), ("media", "column_name"), ("media", "cadence"))),
    11: lambda db: db.execute("DROP TABLE replies"),      # its generation triggers go with it
    10: lambda db: before_shared_bodies(db),
    9: lambda db: (db.execute("DROP TABLE figures"),
                   _drop_columns(db, ("activities", "time"), ("activities", "place"), ("activities", "held")),
                   db.execute("CREATE TABLE briefs_v8 (month TEXT PRIMARY KEY, year INTEGER NOT NULL, "
                              "issue INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE (year, issue))"),
                   db.execute("INSERT INTO briefs_v8 SELECT month, year, issue, created_at FROM briefs"),
                   db.execute("DROP TABLE briefs"), db.execute("ALTER TABLE briefs_v8 RENAME TO briefs")),
    8: lambda db: _drop_columns(db, ("media", "type")),
    7: _drop_generation,
    6: lambda db: ([db.execute(f"DROP INDEX {index}") for index in (
                       "drafts_base", "drafts_serial", "decisions_draft", "submissions_serial", "submissions_made",
                       "submission_versions_recorded", "deliveries_state", "deliveries_sent", "deliveries_key",
                       "messages_latest", "audit_action", "job_runs_outcome", "invitations_state",
                       "invitations_previous", "channel_versions_unposted", "channel_versions_ready",
                       "channel_versions_posted", "submissions_undrafted")],
                   db.execute("DROP TRIGGER drafts_mark_submission"), _drop_columns(db, ("submissions", "drafted")),
                   db.execute("CREATE INDEX deliveries_state ON deliveries (state)")),
    5: lambda db: (db.execute("DROP INDEX messages_item"),
                   _drop_columns(db, ("messages", "what"), ("messages", "item"), ("messages", "variant"))),
    4: lambda db: _drop_columns(db, ("deliveries", "claimed_by")),
    3: lambda db: _drop_columns(db, ("drafts", "release_date"), ("drafts", "review"), ("teams", "outward")),
    2: lambda db: [db.execute(f"DROP TABLE {table}") for table in ("channel_versions", "briefs", "invitations")],
}


def roll_back_ledger(path: Path, version: int) -> None:
    """Turn a ledger back into what schema ``version`` wrote: every later step's tables, columns and indexes gone."""
    import sqlite3
    with sqlite3.connect(path) as db:
        current = db.execute("PRAGMA user_version").fetchone()[0]
        assert current == max(UNDO_SCHEMA), f"a schema step without its undo: {current}"
        for step in range(current, version, -1):
            UNDO_SCHEMA[step](db)
        db.execute(f"PRAGMA user_version = {version}")


def docx_of_runs(*pieces: str) -> bytes:
    """A .docx whose one paragraph is split into several Word runs, as Word does after edits."""
    from docx import Document
    document = Document()
    paragraph = document.add_paragraph()
    for piece in pieces:
        paragraph.add_run(piece)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_rows(sheet, tab: Tab, rows: list[dict[str, Any]], start: int = 2) -> None:
    for offset, values in enumerate(rows):
        for index, column in enumerate(tab.columns, start=1):
            if column.key in values:
                sheet.cell(row=start + offset, column=index, value=values[column.key])


def read_rows(sheet, tab: Tab) -> list[dict[str, Any]]:
    header = [c.value for c in sheet[1]]
    keys = {i: col.key for i, name in enumerate(header) for col in tab.columns if col.name == name}
    out = []
    for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if any(v not in (None, "") for v in cells):
            out.append({"row": number, **{keys[i]: v for i, v in enumerate(cells) if i in keys}})
    return out


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_NOW", NOW)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path)
from smtp_server import *  # noqa: E402,F401,F403  (SMTP fixtures)
from smtp_server import toml_text  # noqa: E402


def before_shared_bodies(db) -> None:
    """Undo ledger schema 8 on an open sqlite3 connection: each delivery's whole body in its own row again."""
    db.execute("CREATE TABLE whole_bodies AS SELECT key, recipient, text, html FROM delivery_bodies")
    db.execute("DROP VIEW delivery_bodies")
    db.execute("DROP TABLE delivery_parts")
    db.execute("DROP TABLE message_bodies")
    db.execute("CREATE TABLE delivery_bodies (key TEXT NOT NULL, recipient TEXT NOT NULL, text TEXT NOT NULL, "
               "html TEXT NOT NULL, PRIMARY KEY (key, recipient))")
    db.execute("INSERT INTO delivery_bodies SELECT * FROM whole_bodies")
    db.execute("DROP TABLE whole_bodies")
