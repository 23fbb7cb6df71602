"""What the ledger keeps alike for everything the office reviews (``plan/review.REVIEWED``): IDs numbered
per year, one item by its ID, the items in some states in the order they were drafted.

Each kind keeps its own table (drafts carry a release, invitations a visit) and its own way of saving a
version and a state (``drafts.py``, ``invitations.py``); a new reviewed kind names its table in its
``Reviewed`` entry and reads through these three.
"""

from __future__ import annotations

import sqlite3

from ..plan.review import Reviewed


class ReviewedStore:
    db: sqlite3.Connection

    def last_reviewed_serial(self, kind: Reviewed, year: int) -> int:
        """The highest serial of ``year`` among ``kind``'s IDs (D-2026-000045 → 45), 0 for none."""
        row = self.db.execute(f"SELECT MAX(serial) FROM {kind.table} WHERE year = ?", (year,)).fetchone()
        return row[0] or 0

    def reviewed_item(self, kind: Reviewed, item_id: str) -> sqlite3.Row | None:
        return self.db.execute(f"SELECT * FROM {kind.table} WHERE id = ?", (item_id,)).fetchone()

    def reviewed_items(self, kind: Reviewed, *states: str) -> list[sqlite3.Row]:
        """``kind``'s items in ``states`` (all without), in the order they were drafted (a draft's versions
        after it)."""
        where = f"WHERE state IN ({', '.join('?' for _ in states)})" if states else ""
        return self.db.execute(f"SELECT * FROM {kind.table} {where} ORDER BY year, serial, rowid",
                               states).fetchall()
