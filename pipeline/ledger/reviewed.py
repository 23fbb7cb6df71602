"""What the ledger keeps alike for everything the office reviews (``plan/review.REVIEWED``): IDs numbered
per year, one item by its ID, the items in some states in the order they were drafted.

Each kind keeps its own table (drafts carry a release, invitations a visit) and its own way of saving a
version and a state (``drafts.py``, ``invitations.py``); a new reviewed kind names its table in its
``Reviewed`` entry and reads through these three.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from ..plan.review import Reviewed

_CHUNK = 500        # IDs per statement, far inside SQLite's limit on bound values


def named(db: sqlite3.Connection, sql: str, ids: Collection[str]) -> list[sqlite3.Row]:
    """The rows ``sql`` finds for ``ids``: its ``{ids}`` stands for the list, bound in chunks, so that a
    question about the items a tab names costs those items, through the table's index, not its history."""
    wanted, rows = sorted(set(ids)), []
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start:start + _CHUNK]
        rows += db.execute(sql.format(ids=", ".join("?" for _ in part)), part).fetchall()
    return rows


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

    def reviewed_items_named(self, kind: Reviewed, ids: Collection[str]) -> list[sqlite3.Row]:
        """``kind``'s items among ``ids`` (IDs it does not know are left out)."""
        return named(self.db, f"SELECT * FROM {kind.table} WHERE id IN ({{ids}})", ids)
