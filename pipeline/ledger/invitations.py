"""What invitations to the deputies' visits record: each drafted version and the office's decision."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import date, datetime

from ..plan.review import INVITATION
from .reviewed import ReviewedStore


class InvitationStore(ReviewedStore):

    def invitation(self, invitation_id: str) -> sqlite3.Row | None:
        return self.reviewed_item(INVITATION, invitation_id)

    def invitations(self, *states: str) -> list[sqlite3.Row]:
        return self.reviewed_items(INVITATION, *states)

    def invitations_named(self, ids: Collection[str]) -> list[sqlite3.Row]:
        return self.reviewed_items_named(INVITATION, ids)

    def invitations_for(self, day: date, name: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM invitations WHERE activity_day = ? AND activity_name = ? "
                               "ORDER BY year, serial", (day.isoformat(), name)).fetchall()

    def invitation_recipients(self, invitation_id: str) -> list[sqlite3.Row]:
        """Who an invitation was sent to: each delivery's ``recipient``, ``name`` and ``state``, with the deputy's
        ``answer`` and ``note`` from the 回执 tab (NULL: no answer recorded)."""
        return self.db.execute(
            "SELECT d.recipient, d.name, d.state, r.answer, r.note FROM deliveries d "
            "LEFT JOIN replies r ON r.invitation = ? AND r.recipient = d.recipient "
            "WHERE d.key = ? ORDER BY d.rowid", (invitation_id, f"invitation/{invitation_id}")).fetchall()

    def invitation_successor(self, invitation_id: str) -> sqlite3.Row | None:
        """The invitation drafted to replace ``invitation_id`` (its visit moved or was renamed), if any."""
        return self.db.execute("SELECT * FROM invitations WHERE previous = ? ORDER BY year, serial LIMIT 1",
                               (invitation_id,)).fetchone()

    def save_invitation(self, *, invitation_id: str, day: date, name: str, subject: str, text: str, html: str,
                        at: datetime, previous: str = "") -> None:
        year, serial = int(invitation_id[2:6]), int(invitation_id[7:13])
        self.db.execute(
            "INSERT INTO invitations (id, year, serial, activity_day, activity_name, previous, state, subject, "
            "text, html, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
            (invitation_id, year, serial, day.isoformat(), name, previous, subject, text, html, at.isoformat()),
        )

    def set_invitation_state(self, invitation_id: str, state: str, at: datetime, *, by: str | None = None,
                             reason: str = "") -> None:
        # Sending is not a decision: the approval's time stays in decided_at.
        sent = at.isoformat() if state == "sent" else None
        decided = None if state == "sent" else at.isoformat()
        self.db.execute(
            "UPDATE invitations SET state = ?, decided_at = COALESCE(?, decided_at), "
            "decided_by = COALESCE(?, decided_by), reason = ?, sent_at = COALESCE(?, sent_at) WHERE id = ?",
            (state, decided, by, reason, sent, invitation_id),
        )
