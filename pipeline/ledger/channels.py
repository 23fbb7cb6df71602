"""What the court's own channels record: each release's version per channel, and when it was posted."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime

from .reviewed import named


class ChannelStore:
    db: sqlite3.Connection

    def save_channel_version(self, draft_id: str, channel: str, path: str, at: datetime) -> None:
        """A channel's version of a release is ready (written again: the path and time are updated)."""
        self.db.execute(
            "INSERT INTO channel_versions (draft_id, channel, path, ready_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (draft_id, channel) DO UPDATE SET path = excluded.path, ready_at = excluded.ready_at",
            (draft_id, channel, path, at.isoformat()),
        )

    def mark_posted(self, draft_id: str, channel: str, by: str, at: datetime) -> bool:
        """Record that the office posted the version; False when it was marked before (or is not ready)."""
        cursor = self.db.execute(
            "UPDATE channel_versions SET posted_at = ?, posted_by = ? "
            "WHERE draft_id = ? AND channel = ? AND posted_at IS NULL",
            (at.isoformat(), by, draft_id, channel),
        )
        return cursor.rowcount == 1

    def channel_versions(self, draft_id: str | None = None) -> list[sqlite3.Row]:
        """Channel versions (of one release), each with its release's headline, kind and publication time."""
        where, args = ("WHERE c.draft_id = ?", (draft_id,)) if draft_id else ("", ())
        return self.db.execute(
            "SELECT c.*, d.headline, d.kind, d.published_at FROM channel_versions c JOIN drafts d ON d.id = c.draft_id "
            f"{where} ORDER BY c.draft_id, c.channel", args).fetchall()

    def channel_versions_named(self, draft_ids: Collection[str]) -> list[sqlite3.Row]:
        """The channel versions of the releases ``draft_ids`` names (as :meth:`channel_versions` reads them)."""
        return named(self.db, "SELECT c.*, d.headline, d.kind, d.published_at FROM channel_versions c "
                              "JOIN drafts d ON d.id = c.draft_id WHERE c.draft_id IN ({ids})", draft_ids)

    def unposted_or_recent(self, since: datetime) -> list[sqlite3.Row]:
        """Channel versions of releases the office has still to post somewhere, or that were ready or
        posted since ``since``, with their release. (The network's copy is mailed, never posted by hand.)"""
        return self.db.execute(
            "SELECT c.*, d.headline, d.kind, d.published_at FROM channel_versions c JOIN drafts d ON d.id = c.draft_id "
            "WHERE c.draft_id IN (SELECT draft_id FROM channel_versions WHERE "
            "(channel <> 'network' AND posted_at IS NULL) OR ready_at >= ? OR posted_at >= ?) "
            "ORDER BY d.published_at, c.draft_id, c.channel",
            (since.isoformat(), since.isoformat()),
        ).fetchall()

    def posted_between(self, start: datetime, end: datetime) -> list[sqlite3.Row]:
        """Channel versions the office marked posted in [start, end), with their release's headline and kind:
        the court's own media that ran a release (the index channel_versions_posted)."""
        return self.db.execute(
            "SELECT c.draft_id, c.channel, c.posted_at, c.posted_by, d.headline, d.kind FROM channel_versions c "
            "JOIN drafts d ON d.id = c.draft_id WHERE c.posted_at >= ? AND c.posted_at < ? "
            "ORDER BY c.posted_at, c.draft_id, c.channel", (start.isoformat(), end.isoformat())).fetchall()
