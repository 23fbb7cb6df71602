"""What drafting and review record: drafts (every version) and the office's decisions."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection
from datetime import date, datetime

from ..plan.review import DRAFT, draft_review, effective_state
from .reviewed import ReviewedStore, named


class DraftStore(ReviewedStore):

    def draft(self, draft_id: str) -> sqlite3.Row | None:
        return self.reviewed_item(DRAFT, draft_id)

    def drafts(self, *states: str) -> list[sqlite3.Row]:
        return self.reviewed_items(DRAFT, *states)

    def drafts_listed(self, *states: str) -> list[sqlite3.Row]:
        """:meth:`drafts` without their release texts: what a list of drafts (the digest's) shows of each, so
        that ten thousand drafts waiting do not bring ten thousand releases into memory."""
        columns = ", ".join(c["name"] for c in self.db.execute("PRAGMA table_info(drafts)")
                            if c["name"] not in ("release_text", "release_html"))
        where = f"WHERE state IN ({', '.join('?' for _ in states)})" if states else ""
        return self.db.execute(f"SELECT {columns} FROM drafts {where} ORDER BY year, serial, rowid",
                               states).fetchall()

    def drafts_of_base(self, base: str) -> list[sqlite3.Row]:
        """Every version of one draft, oldest first."""
        return self.db.execute("SELECT * FROM drafts WHERE base = ? ORDER BY version", (base,)).fetchall()

    def versions_named(self, ids: Collection[str]) -> list[sqlite3.Row]:
        """Every version of the drafts ``ids`` names (any version of each: D-2026-000045, D-2026-000045-v2),
        in (base, version) order, without their release texts: what the 刊发 tab's rows are judged on."""
        bases = {re.sub(r"-v\d+$", "", ident) for ident in ids}
        return named(self.db, "SELECT id, base, version, state, published_at, "
                              "CASE WHEN state = 'pending' THEN review END AS review "
                              "FROM drafts WHERE base IN ({ids}) ORDER BY base, version", bases)

    def drafts_of_submission(self, submission_id: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM drafts WHERE submission_id = ? ORDER BY version",
                               (submission_id,)).fetchall()

    def draftable_submissions(self, after: tuple[int, int] = (0, 0), limit: int = -1) -> list[sqlite3.Row]:
        """Present, valid, publishable submissions whose current version has no draft yet; ``after`` (year,
        serial) and ``limit`` read them a page at a time, in the same order."""
        # ``drafted <> version`` (the partial index submissions_undrafted) leaves out only submissions whose
        # newest drafted version is their current one: those NOT EXISTS leaves out too. It makes the question
        # cost the submissions still to draft, not every submission ever taken in.
        return self.db.execute(
            "SELECT s.*, v.data FROM submissions s JOIN submission_versions v "
            "ON v.submission_id = s.id AND v.version = s.version "
            "WHERE s.drafted <> s.version AND s.removed_at IS NULL AND s.state = 'valid' AND s.publishable = 1 "
            "AND NOT EXISTS "
            "(SELECT 1 FROM drafts d WHERE d.submission_id = s.id AND d.submission_version = s.version) "
            "AND (s.year, s.serial) > (?, ?) ORDER BY s.year, s.serial LIMIT ?", (*after, limit)
        ).fetchall()

    def restorable_drafts(self) -> list[sqlite3.Row]:
        """Withdrawn drafts of a submission that is back, as it was: present, valid, publishable, same version."""
        return self.db.execute(
            "SELECT d.* FROM drafts d JOIN submissions s ON s.id = d.submission_id "
            "WHERE d.state = 'withdrawn' AND d.submission_version = s.version AND s.removed_at IS NULL "
            "AND s.state = 'valid' AND s.publishable = 1 ORDER BY d.year, d.serial, d.version"
        ).fetchall()

    def stale_drafts(self) -> list[sqlite3.Row]:
        """Undecided or approved drafts whose material changed, vanished or may no longer be published."""
        return self.db.execute(
            "SELECT d.*, s.version AS current_version, s.state AS submission_state, s.publishable, s.removed_at "
            "FROM drafts d JOIN submissions s ON s.id = d.submission_id "
            "WHERE d.state IN ('pending', 'approved', 'rejected') AND (d.submission_version <> s.version "
            "OR s.state <> 'valid' OR s.publishable = 0 OR s.removed_at IS NOT NULL)"
        ).fetchall()

    def save_draft(self, *, draft_id: str, base: str, version: int, submission_id: str, submission_version: int,
                   kind: str, headline: str, text: str, html: str, content_hash: str, masked: list[str],
                   proposed: bool, at: datetime, review: dict | None = None) -> None:
        year, serial = int(base[2:6]), int(base[7:13])
        self.db.execute(
            "INSERT INTO drafts (id, base, version, year, serial, submission_id, submission_version, kind, headline, "
            "state, release_text, release_html, content_hash, masked, proposed, created_at, review) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
            (draft_id, base, version, year, serial, submission_id, submission_version, kind, headline, text, html,
             content_hash, json.dumps(masked, ensure_ascii=False), int(proposed), at.isoformat(),
             json.dumps(review or {}, ensure_ascii=False)),
        )

    def replace_draft_release(self, draft_id: str, *, headline: str, text: str, html: str, content_hash: str,
                              masked: list[str], review: dict) -> None:
        """A pending draft made again from the same row (its template was fixed): the text and the notes."""
        self.db.execute(
            "UPDATE drafts SET headline = ?, release_text = ?, release_html = ?, content_hash = ?, masked = ?, "
            "review = ? WHERE id = ? AND state = 'pending'",
            (headline, text, html, content_hash, json.dumps(masked, ensure_ascii=False),
             json.dumps(review, ensure_ascii=False), draft_id))

    review_of = staticmethod(draft_review)
    effective_state = staticmethod(effective_state)

    def set_draft_state(self, draft_id: str, state: str, at: datetime, *, by: str | None = None,
                        reason: str = "") -> None:
        published = at.isoformat() if state == "published" else None
        self.db.execute(
            "UPDATE drafts SET state = ?, decided_at = ?, decided_by = COALESCE(?, decided_by), reason = ?, "
            "published_at = COALESCE(?, published_at) WHERE id = ?",
            (state, at.isoformat(), by, reason, published, draft_id),
        )

    def set_release_date(self, draft_id: str, day: date | None) -> None:
        """Fix the date a release carries (None: not fixed, the draft is not approved)."""
        self.db.execute("UPDATE drafts SET release_date = ? WHERE id = ?",
                        (day.isoformat() if day else None, draft_id))

    def save_decision(self, draft_id: str, decision: str, reviewer: str, comment: str, source: str,
                      at: datetime) -> None:
        self.db.execute(
            "INSERT INTO decisions (draft_id, decision, reviewer, comment, source, at) VALUES (?, ?, ?, ?, ?, ?)",
            (draft_id, decision, reviewer, comment, source, at.isoformat()),
        )

    def decisions(self, draft_id: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM decisions WHERE draft_id = ? ORDER BY id", (draft_id,)).fetchall()

    def draft_states(self, ids: Collection[str] | None = None) -> dict[str, tuple[str, str]]:
        """Every draft's state and the newest version of its base (for judging 审核 rows); with ``ids``, those
        drafts' only, each found by its key and its base's newest version through the index drafts_base.

        One pass over the drafts in (base, version) order (the index drafts_base), the newest version of each
        base taken by a window; only a pending draft's review notes are read (no other state depends on them).
        """
        if ids is not None:
            rows = named(self.db, "SELECT d.id, d.state, CASE WHEN d.state = 'pending' THEN d.review END AS review, "
                                  "(SELECT n.id FROM drafts n WHERE n.base = d.base ORDER BY n.version DESC LIMIT 1) "
                                  "AS newest FROM drafts d WHERE d.id IN ({ids})", ids)
            return {r["id"]: (self.effective_state(r) if r["state"] == "pending" else r["state"], r["newest"])
                    for r in rows}
        rows = self.db.execute(
            "SELECT id, state, CASE WHEN state = 'pending' THEN review END AS review, "
            "LAST_VALUE(id) OVER (PARTITION BY base ORDER BY version "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS newest FROM drafts")
        return {r["id"]: (self.effective_state(r) if r["state"] == "pending" else r["state"], r["newest"])
                for r in rows}

    def published_releases(self, first: date, last: date, since: datetime) -> list[sqlite3.Row]:
        """The releases that reached the media and are dated (the day they carry: the day they were
        approved) from ``first`` to ``last``, both included, oldest first: each with its text as stored
        (masked), its date, its ID, its draft's first ID (``base``), its row's ID and version and ``first_sent``.

        Read from the release deliveries sent since ``since`` (the index deliveries_sent; a release is sent
        on its day or later, so ``since`` is the start of ``first``), not from every release ever made.
        A release whose every delivery failed or was stopped is not in it.
        """
        return self.db.execute(
            "SELECT d.id, d.base, d.kind, d.headline, d.release_text, d.release_date, d.decided_at, d.published_at, "
            "d.submission_id, d.submission_version, MIN(x.sent_at) AS first_sent "
            "FROM deliveries x CROSS JOIN messages m ON m.key = x.key JOIN drafts d ON d.id = m.item "
            "WHERE m.what = 'release' AND x.state = 'sent' AND x.sent_at >= ? AND d.state = 'published' "
            "GROUP BY d.id HAVING COALESCE(d.release_date, substr(d.published_at, 1, 10)) BETWEEN ? AND ? "
            "ORDER BY COALESCE(d.release_date, substr(d.published_at, 1, 10)), first_sent, d.id",
            (since.isoformat(), first.isoformat(), last.isoformat())).fetchall()

    def seen_reviews(self, ids: Collection[str] | None = None) -> set[tuple[str, str, str, str]]:
        """The 审核 rows seen before (of the items ``ids`` names, when given)."""
        if ids is not None:
            return {tuple(r) for r in named(self.db, "SELECT draft_id, decision, reviewer, comment FROM reviews "
                                                     "WHERE draft_id IN ({ids})", ids)}
        return {tuple(r) for r in self.db.execute("SELECT draft_id, decision, reviewer, comment FROM reviews")}
