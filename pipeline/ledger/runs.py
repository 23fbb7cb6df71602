"""What the scheduler records: every job run with its period and outcome, and a few facts."""

from __future__ import annotations

import secrets
import sqlite3
from datetime import datetime


class RunStore:
    db: sqlite3.Connection

    def start_run(self, job: str, period: str, at: datetime) -> int:
        cursor = self.db.execute(
            "INSERT INTO job_runs (job, period, started_at, outcome) VALUES (?, ?, ?, 'running')",
            (job, period, at.isoformat()))
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int, outcome: str, at: datetime, error: str = "") -> None:
        self.db.execute("UPDATE job_runs SET outcome = ?, finished_at = ?, error = ? WHERE id = ?",
                        (outcome, at.isoformat(), error, run_id))

    def runs_of(self, job: str, period: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM job_runs WHERE job = ? AND period = ? ORDER BY id",
                               (job, period)).fetchall()

    def last_runs(self) -> dict[str, sqlite3.Row]:
        """The latest run of every job."""
        rows = self.db.execute(
            "SELECT * FROM job_runs r WHERE id = (SELECT MAX(id) FROM job_runs s WHERE s.job = r.job)").fetchall()
        return {r["job"]: r for r in rows}

    def failed_runs(self, since: datetime | None) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM job_runs WHERE outcome IN ('failed', 'timeout', 'interrupted') AND started_at > ? "
            "ORDER BY id", ((since.isoformat() if since else ""),)).fetchall()

    def settle_running(self, at: datetime) -> int:
        """Runs a dead process left 'running' (called while holding the instance lock)."""
        cursor = self.db.execute(
            "UPDATE job_runs SET outcome = 'interrupted', finished_at = ?, error = '进程中断' "
            "WHERE outcome = 'running'", (at.isoformat(),))
        return cursor.rowcount

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def review_secret(self) -> str:
        """The secret the 审核码 are derived from: made once, kept in the ledger, never shown or mailed."""
        secret = self.meta("review_secret")
        if secret:
            return secret
        with self.transaction():
            return self.set_meta_once("review_secret", secrets.token_hex(32))

    def generation(self) -> int:
        """How many writes the ledger has seen to what a pull compares the sheet against (schema 7)."""
        return self.db.execute("SELECT n FROM generation").fetchone()[0]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, value))

    def delete_meta(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def set_meta_once(self, key: str, value: str) -> str:
        """Set ``key`` unless it is set; return its value."""
        self.db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
        return self.meta(key) or value
