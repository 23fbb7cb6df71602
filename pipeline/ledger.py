"""The ledger: SQLite (standard library), WAL mode, forward-only migrations.

The ledger is the pipeline's memory: every version of every submission, the
teams, media contacts, activities and review rows last read, the row errors
of the latest pull, and an append-only audit log of what every job did.
Writes are keyed on stable IDs so that running a job twice is always safe.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from .errors import LedgerError
from .intake import Known
from .mail.message import Attachment, Outgoing
from .model import Activity, MediaContact, Review, RowError, Team, TeamWeek

# Each entry moves the schema from version i to i + 1. Never edit a shipped
# entry: append a new one, so that every existing ledger can follow.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        job TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

    CREATE TABLE submissions (
        id TEXT PRIMARY KEY,
        year INTEGER NOT NULL,
        serial INTEGER NOT NULL,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('valid', 'invalid', 'duplicate')),
        problems TEXT NOT NULL DEFAULT '',
        team TEXT NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        publishable INTEGER NOT NULL,
        submitted_at TEXT,
        received_at TEXT NOT NULL,
        week TEXT NOT NULL,
        sheet_row INTEGER NOT NULL,
        removed_at TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX submissions_week ON submissions (week, team);

    CREATE TABLE submission_versions (
        submission_id TEXT NOT NULL REFERENCES submissions (id),
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        state TEXT NOT NULL,
        problems TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (submission_id, version)
    );

    CREATE TABLE teams (name TEXT PRIMARY KEY, leader TEXT NOT NULL, email TEXT NOT NULL,
                        quota INTEGER NOT NULL);
    CREATE TABLE media (id INTEGER PRIMARY KEY, outlet TEXT NOT NULL, contact TEXT NOT NULL,
                        email TEXT NOT NULL, kinds TEXT NOT NULL, enabled INTEGER NOT NULL);
    CREATE TABLE activities (id INTEGER PRIMARY KEY, day TEXT NOT NULL, kind TEXT NOT NULL,
                             name TEXT NOT NULL, plan_date TEXT);
    CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        draft_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        reviewer TEXT NOT NULL,
        comment TEXT NOT NULL,
        sheet_row INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        UNIQUE (draft_id, decision, reviewer, comment)
    );
    CREATE TABLE row_errors (
        tab_key TEXT NOT NULL,
        tab TEXT NOT NULL,
        row INTEGER NOT NULL,
        team TEXT NOT NULL,
        submitter TEXT NOT NULL,
        week TEXT NOT NULL,
        message TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    CREATE TABLE reference_state (name TEXT PRIMARY KEY, digest TEXT NOT NULL);

    CREATE TABLE messages (
        key TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        period TEXT NOT NULL,
        topic TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_purpose ON messages (purpose, period);
    CREATE TABLE message_attachments (
        key TEXT NOT NULL REFERENCES messages (key),
        position INTEGER NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (key, position)
    );
    CREATE TABLE deliveries (
        key TEXT NOT NULL REFERENCES messages (key),
        recipient TEXT NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('queued', 'sending', 'sent', 'temporary', 'permanent', 'unknown', 'abandoned')),
        attempts INTEGER NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '',
        message_id TEXT NOT NULL DEFAULT '',
        queued_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (key, recipient)
    );
    CREATE INDEX deliveries_state ON deliveries (state);
    """,
)


class Ledger:
    """One open ledger; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"{self.path}: 无法打开账本数据库（{exc}）") from None
        self.db.row_factory = sqlite3.Row
        self._migrate()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- schema --------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise LedgerError(
                f"{self.path}: 账本的结构版本为 {current}，比本程序（{len(MIGRATIONS)}）新；请升级程序"
            )
        for version in range(current, len(MIGRATIONS)):
            with self.transaction():
                for statement in _statements(MIGRATIONS[version]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back whole on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- audit ---------------------------------------------------------------

    def audit(self, at: datetime, job: str, action: str, subject: str = "", **detail: object) -> None:
        self.db.execute(
            "INSERT INTO audit (at, job, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            (at.isoformat(), job, action, subject, json.dumps(detail, ensure_ascii=False, default=str)),
        )

    def audit_log(self, limit: int = 50) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    # -- submissions ---------------------------------------------------------

    def fetch_known(self) -> dict[str, Known]:
        rows = self.db.execute(
            "SELECT id, content_hash, version, removed_at, received_at FROM submissions"
        ).fetchall()
        return {
            r["id"]: Known(r["id"], r["content_hash"], r["version"], r["removed_at"] is not None,
                           datetime.fromisoformat(r["received_at"]))
            for r in rows
        }

    def last_serial(self, year: int) -> int:
        row = self.db.execute("SELECT MAX(serial) FROM submissions WHERE year = ?", (year,)).fetchone()
        return row[0] or 0

    def save_submission(self, taken, at: datetime) -> None:
        """Insert or update one submission; a new version is kept beside the old ones."""
        year, serial = int(taken.id[2:6]), int(taken.id[7:])
        fields = taken.fields
        values = dict(
            id=taken.id, year=year, serial=serial, version=taken.version, content_hash=taken.content_hash,
            state=taken.state, problems="；".join(taken.problems), team=fields.get("team", ""),
            kind=fields.get("kind", ""), title=fields.get("title", ""),
            publishable=int(fields.get("publishable", "是") == "是"),
            submitted_at=taken.submitted_at.isoformat() if taken.submitted_at else None,
            received_at=taken.received_at.isoformat(), week=taken.week, sheet_row=taken.row,
            updated_at=at.isoformat(),
        )
        columns = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in values if k not in ("id", "received_at"))
        self.db.execute(
            f"INSERT INTO submissions ({columns}) VALUES ({marks}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}, removed_at = NULL",
            values,
        )
        self.db.execute(
            "INSERT OR IGNORE INTO submission_versions "
            "(submission_id, version, content_hash, state, problems, data, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (taken.id, taken.version, taken.content_hash, taken.state, values["problems"],
             json.dumps(fields, ensure_ascii=False, sort_keys=True), at.isoformat()),
        )

    def save_sheet_row(self, submission_id: str, row: int) -> None:
        self.db.execute("UPDATE submissions SET sheet_row = ? WHERE id = ?", (row, submission_id))

    def mark_removed(self, ids: list[str], at: datetime) -> None:
        self.db.executemany("UPDATE submissions SET removed_at = ? WHERE id = ?",
                            [(at.isoformat(), i) for i in ids])

    def submission_versions(self, submission_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM submission_versions WHERE submission_id = ? ORDER BY version", (submission_id,)
        ).fetchall()

    def submission(self, submission_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()

    # -- reference tabs ------------------------------------------------------

    def save_reference(self, teams: list[Team], media: list[MediaContact],
                       activities: list[Activity]) -> list[str]:
        """Replace the reference tabs that changed; return the names of those that did."""
        tables = {
            "teams": ("INSERT INTO teams VALUES (?, ?, ?, ?)",
                      [(t.name, t.leader, t.email, t.quota) for t in teams]),
            "media": ("INSERT INTO media (outlet, contact, email, kinds, enabled) VALUES (?, ?, ?, ?, ?)",
                      [(m.outlet, m.contact, m.email, json.dumps(m.kinds, ensure_ascii=False), int(m.enabled))
                       for m in media]),
            "activities": ("INSERT INTO activities (day, kind, name, plan_date) VALUES (?, ?, ?, ?)",
                           [(a.day.isoformat(), a.kind, a.name, a.plan_date.isoformat() if a.plan_date else None)
                            for a in activities]),
        }
        changed = []
        for name, (insert, rows) in tables.items():
            digest = _digest(rows)
            old = self.db.execute("SELECT digest FROM reference_state WHERE name = ?", (name,)).fetchone()
            if old is not None and old[0] == digest:
                continue
            self.db.execute(f"DELETE FROM {name}")
            self.db.executemany(insert, rows)
            self.db.execute("INSERT OR REPLACE INTO reference_state VALUES (?, ?)", (name, digest))
            changed.append(name)
        return changed

    def save_reviews(self, reviews: list[tuple[int, Review]], at: datetime) -> int:
        """Record review rows not seen before; returns how many were new."""
        before = self.db.total_changes
        self.db.executemany(
            "INSERT OR IGNORE INTO reviews (draft_id, decision, reviewer, comment, sheet_row, first_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(r.draft_id, r.decision, r.reviewer, r.comment, row, at.isoformat()) for row, r in reviews],
        )
        return self.db.total_changes - before

    def save_row_errors(self, errors: list[RowError], at: datetime) -> None:
        """The latest pull's row errors replace the previous pull's."""
        self.db.execute("DELETE FROM row_errors")
        self.db.executemany(
            "INSERT INTO row_errors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.tab_key, e.tab, e.row, e.team, e.submitter, e.week, e.message, at.isoformat()) for e in errors],
        )

    def teams(self) -> list[Team]:
        return [Team(r["name"], r["leader"], r["email"], r["quota"])
                for r in self.db.execute("SELECT * FROM teams ORDER BY rowid")]

    def row_errors(self, limit: int | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM row_errors ORDER BY tab_key <> 'submissions', tab, row"
        return self.db.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()

    def team_weeks(self, week: str) -> list[TeamWeek]:
        """Every team's valid and invalid items in ``week``, in 部门-tab order.

        Valid items are present, valid, non-duplicate submissions (四(五): an
        item without 案情 or 执行过程 does not count). Invalid ones are the
        flagged rows of the latest pull, with or without an ID.
        """
        valid = dict(self.db.execute(
            "SELECT team, COUNT(*) FROM submissions WHERE week = ? AND state = 'valid' "
            "AND removed_at IS NULL GROUP BY team", (week,)).fetchall())
        invalid = dict(self.db.execute(
            "SELECT team, COUNT(*) FROM row_errors WHERE week = ? AND tab_key = 'submissions' "
            "GROUP BY team", (week,)).fetchall())
        return [TeamWeek(t.name, t.quota, valid.get(t.name, 0), invalid.get(t.name, 0)) for t in self.teams()]


    # -- outgoing mail -------------------------------------------------------

    def save_message(self, outgoing: Outgoing, period: str, at: datetime, topic: str = "") -> bool:
        """Queue one message for one recipient; False when that (key, recipient) exists already.

        ``period`` is the slot the message fills (a day, a week); ``topic``
        what it is about (for a release, the kind of material).
        """
        self.db.execute(
            "INSERT OR IGNORE INTO messages (key, purpose, period, topic, subject, text, html, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (outgoing.key, outgoing.purpose, period, topic, outgoing.subject, outgoing.text, outgoing.html,
             at.isoformat()),
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO message_attachments VALUES (?, ?, ?, ?, ?)",
            [(outgoing.key, i, a.filename, a.content_type, a.content) for i, a in enumerate(outgoing.attachments)],
        )
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO deliveries (key, recipient, name, state, queued_at, updated_at) "
            "VALUES (?, ?, ?, 'queued', ?, ?)",
            (outgoing.key, outgoing.recipient, outgoing.name, at.isoformat(), at.isoformat()),
        )
        return cursor.rowcount == 1

    def has_message(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE key = ?", (key,)).fetchone() is not None

    def last_message(self, purpose: str) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT * FROM messages WHERE purpose = ? ORDER BY created_at DESC, rowid DESC LIMIT 1", (purpose,)
        ).fetchone()

    def pending_deliveries(self) -> list[tuple[Outgoing, sqlite3.Row]]:
        """Deliveries to try now: queued ones and temporary failures, oldest first."""
        rows = self.db.execute(
            "SELECT d.*, m.purpose, m.subject, m.text, m.html FROM deliveries d JOIN messages m USING (key) "
            "WHERE d.state IN ('queued', 'temporary') ORDER BY d.queued_at, d.rowid"
        ).fetchall()
        out = []
        for row in rows:
            attachments = tuple(
                Attachment(a["filename"], a["content"], a["content_type"])
                for a in self.db.execute(
                    "SELECT * FROM message_attachments WHERE key = ? ORDER BY position", (row["key"],))
            )
            out.append((Outgoing(row["key"], row["purpose"], row["recipient"], row["subject"], row["text"],
                                 row["html"], attachments, name=row["name"]), row))
        return out

    def mark_sending(self, key: str, recipient: str, message_id: str, at: datetime) -> None:
        """Committed before the transport is called: a crash mid-send leaves 'sending', never 'queued'."""
        self.db.execute(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, message_id = ?, updated_at = ? "
            "WHERE key = ? AND recipient = ?",
            (message_id, at.isoformat(), key, recipient),
        )

    def save_delivery_result(self, key: str, recipient: str, state: str, detail: str, at: datetime) -> None:
        sent_at = at.isoformat() if state == "sent" else None
        self.db.execute(
            "UPDATE deliveries SET state = ?, detail = ?, updated_at = ?, sent_at = COALESCE(?, sent_at) "
            "WHERE key = ? AND recipient = ?",
            (state, detail, at.isoformat(), sent_at, key, recipient),
        )

    def settle_interrupted(self, before: datetime, at: datetime) -> list[sqlite3.Row]:
        """Sends left 'sending' by a process that died: their outcome is unknown, never retried silently."""
        rows = self.db.execute(
            "SELECT key, recipient FROM deliveries WHERE state = 'sending' AND updated_at < ?", (before.isoformat(),)
        ).fetchall()
        for row in rows:
            self.save_delivery_result(row["key"], row["recipient"], "unknown",
                                      "发送过程中程序中断，无法确认是否送达", at)
        return rows

    def abandon_exhausted(self, max_attempts: int, at: datetime) -> list[sqlite3.Row]:
        rows = self.db.execute(
            "SELECT key, recipient FROM deliveries WHERE state = 'temporary' AND attempts >= ?", (max_attempts,)
        ).fetchall()
        for row in rows:
            self.db.execute(
                "UPDATE deliveries SET state = 'abandoned', updated_at = ? WHERE key = ? AND recipient = ?",
                (at.isoformat(), row["key"], row["recipient"]),
            )
        return rows

    def troubled_deliveries(self, since: datetime) -> list[sqlite3.Row]:
        """What was not (yet) delivered: every unknown outcome (it needs a person's
        decision), and other failures whose last attempt is after ``since``."""
        return self.db.execute(
            "SELECT d.*, m.purpose, m.subject FROM deliveries d JOIN messages m USING (key) "
            "WHERE d.state = 'unknown' OR (d.state IN ('temporary', 'permanent', 'abandoned') "
            "AND d.updated_at >= ?) ORDER BY d.updated_at",
            (since.isoformat(),),
        ).fetchall()

    def deliveries(self, key_prefix: str = "") -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT d.*, m.purpose, m.subject FROM deliveries d JOIN messages m USING (key) "
            "WHERE d.key LIKE ? ORDER BY d.rowid", (key_prefix + "%",)
        ).fetchall()

    # -- what the digest reports ---------------------------------------------

    def versions_since(self, since: datetime | None) -> list[sqlite3.Row]:
        """Submission versions recorded after ``since`` (all when None), with their current state."""
        return self.db.execute(
            "SELECT v.submission_id, v.version, v.state, v.data, v.recorded_at, s.team, s.kind, s.title "
            "FROM submission_versions v JOIN submissions s ON s.id = v.submission_id "
            "WHERE v.recorded_at > ? ORDER BY v.recorded_at, v.submission_id",
            ((since.isoformat() if since else ""),),
        ).fetchall()

    def activities(self) -> list[Activity]:
        return [Activity(date.fromisoformat(r["day"]), r["kind"], r["name"],
                         date.fromisoformat(r["plan_date"]) if r["plan_date"] else None)
                for r in self.db.execute("SELECT * FROM activities ORDER BY day")]

    def published_kinds(self, start: datetime, end: datetime) -> list[str]:
        """Kinds of the releases that reached at least one media contact in [start, end)."""
        rows = self.db.execute(
            "SELECT DISTINCT m.key, m.topic FROM messages m JOIN deliveries d USING (key) "
            "WHERE m.purpose = 'release' AND d.state = 'sent' AND d.sent_at >= ? AND d.sent_at < ?",
            (start.isoformat(), end.isoformat()),
        ).fetchall()
        return [r["topic"] for r in rows]


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _digest(rows: list[tuple]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
