"""What the deputies' monthly brief records and reads.

It records one issue number per month, counted within the year (第N期), and
reads the releases that reached the media in the month with the team whose
material each one came from.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from ..core.calendar import Month


class BriefStore:
    db: sqlite3.Connection

    def latest_brief(self, month: str) -> sqlite3.Row | None:
        """``month``'s latest issue (``"2026-11"``): its ``issue``, ``created_at`` and the issue it ``replaces``."""
        return self.db.execute("SELECT * FROM briefs WHERE month = ? ORDER BY issue DESC LIMIT 1", (month,)).fetchone()

    def brief_issue(self, month: str) -> int | None:
        """The issue number given to ``month``'s brief (the latest, when one superseded another), if any."""
        row = self.latest_brief(month)
        return row["issue"] if row else None

    def next_brief_issue(self, month: str, *, superseding: bool = False) -> int:
        """The number ``month``'s brief has or would get now, without recording it (a dry run's).

        ``superseding``: a new issue for a month that has one already (it was issued before the month ended).
        """
        issue = self.brief_issue(month)
        if issue is not None and not superseding:
            return issue
        row = self.db.execute("SELECT MAX(issue) FROM briefs WHERE year = ?", (Month.parse(month).year,)).fetchone()
        return (row[0] or 0) + 1

    def assign_brief_issue(self, month: str, at: datetime, *, replaces: int | None = None) -> int:
        """The month's issue number, assigned once: the next in the month's year (inside a transaction).

        With ``replaces`` (the issue sent before the month ended), a second issue for the month, once.
        """
        latest = self.latest_brief(month)
        if latest is not None and (replaces is None or latest["issue"] != replaces):
            return latest["issue"]
        issue = self.next_brief_issue(month, superseding=True)
        self.db.execute("INSERT INTO briefs (month, year, issue, created_at, replaces) VALUES (?, ?, ?, ?, ?)",
                        (month, Month.parse(month).year, issue, at.isoformat(), replaces))
        return issue

    def releases_sent_between(self, start: datetime, end: datetime) -> list[sqlite3.Row]:
        """Releases that reached at least one outlet in [start, end), first delivery first.

        The same releases ``releases_published_between`` counts; each row has the
        draft's id, kind and headline, the ``team`` that submitted the material,
        ``first_sent`` and ``outlets`` (deliveries in the window).
        """
        # The window's sent deliveries first (the index deliveries_sent), each finding its message and its
        # draft by their primary keys: not every release ever made.
        # A release and its corrections (v2 …) are one release, in the words of its newest version sent in the
        # window; its outlets are counted once each.
        return self.db.execute(
            "WITH sent AS (SELECT d.base, MAX(d.version) AS version, MIN(x.sent_at) AS first_sent, "
            "COUNT(DISTINCT x.recipient) AS outlets "
            "FROM deliveries x CROSS JOIN messages m ON m.key = x.key JOIN drafts d ON d.id = m.item "
            "WHERE m.what = 'release' AND x.state = 'sent' AND x.sent_at >= ? AND x.sent_at < ? GROUP BY d.base) "
            "SELECT d.id, d.kind, d.headline, s.team, sent.first_sent, sent.outlets FROM sent "
            "JOIN drafts d ON d.base = sent.base AND d.version = sent.version "
            "JOIN submissions s ON s.id = d.submission_id ORDER BY sent.first_sent, d.id",
            (start.isoformat(), end.isoformat())).fetchall()
