"""What pull records: submissions (every version), the reference tabs, reviews, row errors."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime

from ..core.model import Activity, Figure, Known, MediaContact, Placement, Reply, Review, RowError, Team, TeamWeek

# What stands in the ledger where material held an ID-card number.
ID_PLACEHOLDER = "×××"
_DIGIT = re.compile(r"[0-9０-９]")


class SubmissionStore:
    db: sqlite3.Connection

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
        """Insert or update one submission; a new version is kept beside the old ones.

        No ID-card number is kept: wherever the material or its problems hold
        one, the ledger holds ``×××``. The content hash is the row's own, taken
        before, so the row as typed still matches its ledger version.
        """
        year, serial = int(taken.id[2:6]), int(taken.id[7:])
        fields = {key: without_id_numbers(text) for key, text in taken.fields.items()}
        values = dict(
            id=taken.id, year=year, serial=serial, version=taken.version, content_hash=taken.content_hash,
            state=taken.state, problems=without_id_numbers("；".join(taken.problems)), team=fields.get("team", ""),
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
                       activities: list[Activity], figures: Sequence[Figure] = (),
                       replies: Sequence[Reply] = (), placements: Sequence[Placement] = ()) -> list[str]:
        """Replace the reference tabs that changed; return the names of those that did."""
        tables = {
            "teams": ("INSERT INTO teams (name, leader, email, quota, outward) VALUES (?, ?, ?, ?, ?)",
                      [(t.name, t.leader, t.email, t.quota, t.outward) for t in teams]),
            "media": ("INSERT INTO media (outlet, contact, email, kinds, enabled, type, level, column_name, cadence) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [(m.outlet, m.contact, m.email, json.dumps(m.kinds, ensure_ascii=False), int(m.enabled),
                        m.type, m.level, m.column, m.cadence) for m in media]),
            "activities": ("INSERT INTO activities (day, kind, name, plan_date, time, place, held, team) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(a.day.isoformat(), a.kind, a.name, a.plan_date.isoformat() if a.plan_date else None,
                             a.time, a.place, None if a.held is None else int(a.held), a.team) for a in activities]),
            "figures": ("INSERT INTO figures (month, metric, value, source) VALUES (?, ?, ?, ?)",
                        [(f.month, f.metric, f.value, f.source) for f in figures]),
            "replies": ("INSERT INTO replies (invitation, recipient, answer, note) VALUES (?, ?, ?, ?)",
                        [(r.invitation, r.recipient, r.answer, r.note) for r in replies]),
            "placements": ("INSERT INTO placements (draft_id, outlet, day, slot, note, type, level, column_name) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(p.draft_id, p.outlet, p.day.isoformat(), p.slot, p.note, p.type, p.level, p.column)
                            for p in placements]),
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
            [(e.tab_key, e.tab, e.row, without_id_numbers(e.team), without_id_numbers(e.submitter), e.week,
              without_id_numbers(e.message), at.isoformat()) for e in errors],
        )

    def row_errors_seen(self, at: datetime) -> None:
        """The latest pull's row errors, seen again as they stood (a pull of an unchanged workbook)."""
        self.db.execute("UPDATE row_errors SET seen_at = ?", (at.isoformat(),))

    def valid_items_between(self, start: datetime, end: datetime) -> dict[tuple[str, str, str], int]:
        """Valid, present submissions made in [start, end): (team, kind, ISO week) -> count."""
        rows = self.db.execute(
            "SELECT team, kind, week, COUNT(*) FROM submissions WHERE state = 'valid' AND removed_at IS NULL "
            "AND COALESCE(submitted_at, received_at) >= ? AND COALESCE(submitted_at, received_at) < ? "
            "GROUP BY team, kind, week", (start.isoformat(), end.isoformat())).fetchall()
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    def valid_item_moments(self, kinds: tuple[str, ...], start: datetime) -> list[datetime]:
        """When the valid, present submissions of ``kinds`` made since ``start`` were made, oldest first."""
        marks = ",".join("?" * len(kinds))
        rows = self.db.execute(
            "SELECT COALESCE(submitted_at, received_at) FROM submissions WHERE state = 'valid' "
            f"AND removed_at IS NULL AND kind IN ({marks}) AND COALESCE(submitted_at, received_at) >= ? "
            "ORDER BY 1", (*kinds, start.isoformat())).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows]

    def media(self) -> list[MediaContact]:
        return [MediaContact(r["outlet"], r["contact"], r["email"], tuple(json.loads(r["kinds"])), bool(r["enabled"]),
                             r["type"], r["level"], r["column_name"], r["cadence"])
                for r in self.db.execute("SELECT * FROM media ORDER BY id")]

    def teams(self) -> list[Team]:
        return [Team(r["name"], r["leader"], r["email"], r["quota"], r["outward"])
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

    def versions_since(self, since: datetime | None) -> list[sqlite3.Row]:
        """Submission versions recorded after ``since`` (all when None), with their current state."""
        return self.db.execute(
            "SELECT v.submission_id, v.version, v.state, v.data, v.recorded_at, s.team, s.kind, s.title "
            "FROM submission_versions v JOIN submissions s ON s.id = v.submission_id "
            "WHERE v.recorded_at > ? ORDER BY v.recorded_at, v.submission_id",
            ((since.isoformat() if since else ""),),
        ).fetchall()

    def activities(self) -> list[Activity]:
        """The 活动 tab as last pulled, each activity with its 负责部门."""
        return [Activity(date.fromisoformat(r["day"]), r["kind"], r["name"],
                         date.fromisoformat(r["plan_date"]) if r["plan_date"] else None, r["time"], r["place"],
                         None if r["held"] is None else bool(r["held"]), r["team"])
                for r in self.db.execute("SELECT * FROM activities ORDER BY day, id")]

    def figures(self, month: str) -> list[Figure]:
        """The 数据 tab's figures for ``month`` (``"2026-11"``), in the tab's order."""
        return [Figure(r["month"], r["metric"], r["value"], r["source"])
                for r in self.db.execute("SELECT * FROM figures WHERE month = ? ORDER BY id", (month,))]


    def placements_between(self, first: date, after: date) -> list[sqlite3.Row]:
        """The 刊发 tab's placements dated in [first, after), oldest first, each with its release's headline and
        kind (the index placements_day; each draft found by its key)."""
        return self.db.execute(
            "SELECT p.*, d.headline, d.kind FROM placements p LEFT JOIN drafts d ON d.id = p.draft_id "
            "WHERE p.day >= ? AND p.day < ? ORDER BY p.day, p.id", (first.isoformat(), after.isoformat())).fetchall()


def placement(row: sqlite3.Row) -> Placement:
    """A placement as :meth:`SubmissionStore.placements_between` reads it."""
    return Placement(row["draft_id"], row["outlet"], date.fromisoformat(row["day"]), row["slot"], row["note"],
                     row["type"], row["level"], row["column_name"])


def without_id_numbers(text: str) -> str:
    """``text`` with every ID-card number, however typed, replaced by ``×××``."""
    if not isinstance(text, str) or not _DIGIT.search(text):
        return text
    from ..texts import redact          # the masking rules load when a text with digits is stored, not at start
    for found in redact.find(text):
        if found.kind.startswith("身份证号"):
            text = text.replace(found.text, ID_PLACEHOLDER)
    return text


def _digest(rows: list[tuple]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
