"""What the deputies' monthly brief records: one issue number per month, counted within the year."""

from __future__ import annotations

import sqlite3
from datetime import datetime


class BriefStore:
    db: sqlite3.Connection

    def brief_issue(self, month: str) -> int | None:
        """The issue number given to ``month``'s brief (``"2026-11"``), if it has one."""
        row = self.db.execute("SELECT issue FROM briefs WHERE month = ?", (month,)).fetchone()
        return row[0] if row else None

    def assign_brief_issue(self, month: str, at: datetime) -> int:
        """The month's issue number, assigned once: the next in the month's year (inside a transaction)."""
        issue = self.brief_issue(month)
        if issue is not None:
            return issue
        year = int(month[:4])
        row = self.db.execute("SELECT MAX(issue) FROM briefs WHERE year = ?", (year,)).fetchone()
        issue = (row[0] or 0) + 1
        self.db.execute("INSERT INTO briefs (month, year, issue, created_at) VALUES (?, ?, ?, ?)",
                        (month, year, issue, at.isoformat()))
        return issue
