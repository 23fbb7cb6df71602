"""What the mail layer records: messages, their attachments, one delivery per recipient."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from ..core.model import MessageKey
from .reviewed import named

if TYPE_CHECKING:       # the email package loads where messages are read back to be sent, not at start
    from ..mail.message import Attachment, Outgoing


# A delivery with its message, its own part of the body and its key's parts: what flush sends, what resend
# shows. The body the message's recipients share is read once per message (``_bodies``), not once per row.
_OUTGOING = ("SELECT d.*, m.purpose, m.what, m.item, m.variant, b.text, b.html, b.text_head, b.text_tail, "
             "b.html_head, b.html_tail FROM deliveries d "
             "JOIN messages m USING (key) JOIN delivery_parts b USING (key, recipient) ")
_CHUNK = 2048        # characters compared at a time when a copy is split against the shared body


def _digest(text: str, html: str) -> str:
    return hashlib.sha256(f"{len(text)}:{text}{html}".encode("utf-8", "surrogatepass")).hexdigest()


def _head(a: str, b: str, limit: int) -> int:
    """How many first characters ``a`` and ``b`` share (at most ``limit``), compared a chunk at a time."""
    n = 0
    while n < limit:
        step = min(_CHUNK, limit - n)
        if a[n:n + step] == b[n:n + step]:
            n += step
            continue
        lo, hi = n, n + step             # a[:lo] == b[:lo]; the first difference lies in [lo, hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if a[lo:mid] == b[lo:mid]:
                lo = mid
            else:
                hi = mid
        return lo
    return n


def _tail(a: str, b: str, limit: int) -> int:
    """How many last characters ``a`` and ``b`` share (at most ``limit``)."""
    la, lb, n = len(a), len(b), 0
    while n < limit:
        step = min(_CHUNK, limit - n)
        if a[la - n - step:la - n] == b[lb - n - step:lb - n]:
            n += step
            continue
        lo, hi = n, n + step             # the last lo characters agree, the last hi do not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if a[la - mid:la - lo] == b[lb - mid:lb - lo]:
                lo = mid
            else:
                hi = mid
        return lo
    return n


def split_body(whole: str, shared: str) -> tuple[str, int, int]:
    """``whole`` as (its own part, head, tail): ``shared[:head] + own + shared[len(shared) - tail:] == whole``."""
    if whole == shared:
        return "", len(shared), 0
    limit = min(len(whole), len(shared))
    head = _head(whole, shared, limit)
    tail = _tail(whole, shared, limit - head)
    return whole[head:len(whole) - tail], head, tail


def join_body(own: str, head: int | None, tail: int | None, shared: str) -> str:
    """The whole body of a delivery: its own part between the shared body's head and tail (``head`` None: a row
    written before bodies were shared, which holds its whole body)."""
    if head is None:
        return own
    return shared[:head] + own + (shared[len(shared) - tail:] if tail else "")


class MailStore:
    db: sqlite3.Connection

    def save_message(self, outgoing: Outgoing, period: str, at: datetime, topic: str = "") -> bool:
        """Queue one message for one recipient; False when that (key, recipient) exists already.

        ``period`` is the slot the message fills (a day, a week); ``topic``
        what it is about (for a release, the kind of material).
        """
        key = str(outgoing.key)
        self.db.execute(
            "INSERT OR IGNORE INTO messages (key, what, item, variant, purpose, period, topic, subject, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, outgoing.key.what, outgoing.key.item, outgoing.key.variant, outgoing.purpose, period, topic,
             outgoing.subject, at.isoformat()),
        )
        if outgoing.attachments and not self.db.execute(
                "SELECT 1 FROM message_attachments WHERE key = ? LIMIT 1", (key,)).fetchone():
            self.db.executemany(
                "INSERT INTO message_attachments VALUES (?, ?, ?, ?, ?)",
                [(key, i, a.filename, a.content_type, a.content) for i, a in enumerate(outgoing.attachments)],
            )
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO deliveries (key, recipient, name, subject, state, queued_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
            (key, outgoing.recipient, outgoing.name, outgoing.subject, at.isoformat(), at.isoformat()),
        )
        if cursor.rowcount != 1:
            return False
        shared_text, shared_html = self._shared_body(key, outgoing)
        text, text_head, text_tail = split_body(outgoing.text, shared_text)
        html, html_head, html_tail = split_body(outgoing.html, shared_html)
        self.db.execute(
            "INSERT INTO delivery_parts (key, recipient, text, html, text_head, text_tail, html_head, html_tail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, outgoing.recipient, text, html, text_head, text_tail, html_head, html_tail))
        return True

    def _shared_body(self, key: str, outgoing: Outgoing) -> tuple[str, str]:
        """The body a message's recipients share: the first recipient's copy, stored once per message.

        The last one used is kept in memory (a release queued for a thousand outlets reads it once), checked
        against the ledger's digest so that a body rolled back with its transaction is never split against."""
        row = self.db.execute("SELECT digest FROM message_bodies WHERE key = ?", (key,)).fetchone()
        if row is None:
            digest = _digest(outgoing.text, outgoing.html)
            self.db.execute("INSERT INTO message_bodies (key, digest, text, html) VALUES (?, ?, ?, ?)",
                            (key, digest, outgoing.text, outgoing.html))
            self._shared = (key, digest, outgoing.text, outgoing.html)
            return outgoing.text, outgoing.html
        cached = getattr(self, "_shared", None)
        if cached is None or cached[:2] != (key, row["digest"]):
            body = self.db.execute("SELECT text, html FROM message_bodies WHERE key = ?", (key,)).fetchone()
            cached = self._shared = (key, row["digest"], body["text"], body["html"])
        return cached[2], cached[3]

    def has_message(self, key: MessageKey) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE key = ?", (str(key),)).fetchone() is not None

    def last_message(self, purpose: str) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT * FROM messages WHERE purpose = ? ORDER BY created_at DESC, rowid DESC LIMIT 1", (purpose,)
        ).fetchone()

    def pending_deliveries(self, at: datetime, keys: tuple[MessageKey, ...] = ()) -> list[tuple[Outgoing, sqlite3.Row]]:
        """Deliveries to try now: queued ones, and temporary failures whose back-off is over.

        ``keys`` limits them to some messages (``resend``)."""
        return self.outgoing_of(self.due_deliveries(at, keys))

    def due_deliveries(self, at: datetime, keys: tuple[MessageKey, ...] = ()) -> list[sqlite3.Row]:
        """The deliveries :meth:`pending_deliveries` would give, in the same order, without their messages:
        key, recipient and attempts (a flush reads the messages a page at a time, :meth:`outgoing_of`)."""
        only = f" AND d.key IN ({', '.join('?' for _ in keys)})" if keys else ""
        return self.db.execute(
            "SELECT d.key, d.recipient, d.attempts FROM deliveries d "
            "WHERE (d.state = 'queued' OR (d.state = 'temporary' AND d.next_attempt_at <= ?)) "
            "AND d.reserved_on IS NULL" + only +
            " ORDER BY d.queued_at, d.rowid", (at.isoformat(), *map(str, keys)),
        ).fetchall()

    def outgoing_of(self, due: list[sqlite3.Row],
                    attachments: dict[str, tuple[Attachment, ...]] | None = None) -> list[tuple[Outgoing, sqlite3.Row]]:
        """The messages of ``due`` (rows with a key and a recipient), each with its delivery row as it stands now.
        ``attachments`` keeps each message's attachments across calls (one release's .docx read once)."""
        rows = [row for item in due for row in self.db.execute(
            _OUTGOING + "WHERE d.key = ? AND d.recipient = ?", (item["key"], item["recipient"]))]
        return self._outgoing(rows, attachments)

    def stored_delivery(self, key: MessageKey, recipient: str) -> Outgoing | None:
        """One delivery's message as it was queued (``resend --dry-run`` shows it)."""
        rows = self.db.execute(_OUTGOING + "WHERE d.key = ? AND d.recipient = ?", (str(key), recipient)).fetchall()
        return self._outgoing(rows)[0][0] if rows else None

    def _outgoing(self, rows: list[sqlite3.Row],
                  loaded: dict[str, tuple[Attachment, ...]] | None = None) -> list[tuple[Outgoing, sqlite3.Row]]:
        from ..mail.message import Attachment, Outgoing

        out = []
        loaded = {} if loaded is None else loaded         # a release's .docx is read once, not per outlet
        bodies: dict[str, tuple[str, str]] = {}           # and so is the body its outlets share
        for row in rows:
            if row["key"] not in loaded:
                loaded[row["key"]] = tuple(
                    Attachment(a["filename"], a["content"], a["content_type"])
                    for a in self.db.execute(
                        "SELECT * FROM message_attachments WHERE key = ? ORDER BY position", (row["key"],)))
            attachments = loaded[row["key"]]
            if row["key"] not in bodies:
                shared = self.db.execute("SELECT text, html FROM message_bodies WHERE key = ?",
                                         (row["key"],)).fetchone()
                bodies[row["key"]] = (shared["text"], shared["html"]) if shared else ("", "")
            shared_text, shared_html = bodies[row["key"]]
            key = MessageKey(row["what"], row["item"], row["variant"])
            text = join_body(row["text"], row["text_head"], row["text_tail"], shared_text)
            html = join_body(row["html"], row["html_head"], row["html_tail"], shared_html)
            out.append((Outgoing(key, row["purpose"], row["recipient"], row["subject"], text, html, attachments,
                                 name=row["name"]), row))
        return out

    def reserve(self, key: str, recipient: str, at: datetime, claimant: str, boot: str,
                made: datetime | None = None) -> bool:
        """Reserve a delivery due at ``at`` for ``claimant`` (inside the caller's write transaction), dated
        ``made`` (the moment it is made; ``at`` by default); False if another sender has it, or it is no
        longer due.

        A compare-and-set (SQLite serialises writers), so of two processes that both read the delivery as due,
        exactly one reserves it. A sender reserves the next deliveries of its batch in one commit that waits
        for the disk; the reservation is what keeps "at most once" through a power cut (``boot``, the
        machine's start it was made in: see :meth:`settle_reservations`)."""
        reserved = self.db.execute(
            "UPDATE deliveries SET reserved_on = ?, reserved_at = ?, claimed_by = ? WHERE key = ? AND recipient = ? "
            "AND reserved_on IS NULL AND (state = 'queued' OR (state = 'temporary' AND next_attempt_at <= ?))",
            (boot, (made or at).isoformat(), claimant, key, recipient, at.isoformat()),
        )
        return reserved.rowcount == 1

    def claim(self, key: MessageKey, recipient: str, message_id: str, at: datetime, claimant: str) -> bool:
        """Mark a delivery ``claimant`` reserved 'sending', as it is handed over; False if the reservation is no
        longer its own (a sender that took the process for dead released it, and another may have it now).

        Committed before the transport is called: a crash mid-send leaves 'sending', never 'queued'. The commit
        need not wait for the disk: within the machine's boot it survives any crash of the process, and after
        a power cut the reservation it replaced says the delivery may have gone (:meth:`settle_reservations`).
        """
        claimed = self.db.execute(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, message_id = ?, updated_at = ?, "
            "reserved_on = NULL, reserved_at = NULL WHERE key = ? AND recipient = ? AND claimed_by = ? "
            "AND reserved_on IS NOT NULL AND state IN ('queued', 'temporary')",
            (message_id, at.isoformat(), str(key), recipient, claimant),
        )
        return claimed.rowcount == 1

    def release(self, key: str, recipient: str, claimant: str) -> None:
        """Give back ``claimant``'s reservation of a delivery it did not hand over: due again, as it was."""
        self.db.execute(
            "UPDATE deliveries SET reserved_on = NULL, reserved_at = NULL WHERE key = ? AND recipient = ? "
            "AND claimed_by = ? AND reserved_on IS NOT NULL AND state IN ('queued', 'temporary')",
            (key, recipient, claimant))

    def defer(self, key: str, recipient: str, detail: str, at: datetime, retry_at: datetime, claimant: str) -> bool:
        """A due delivery the sender could not try (the transport failed): a temporary failure, to be retried
        after ``retry_at``, unless another sender has it or has already sent it; False then."""
        return self.db.execute(
            "UPDATE deliveries SET state = 'temporary', detail = ?, updated_at = ?, next_attempt_at = ?, "
            "reserved_on = NULL, reserved_at = NULL WHERE key = ? AND recipient = ? "
            "AND state IN ('queued', 'temporary') AND (reserved_on IS NULL OR claimed_by = ?)",
            (detail, at.isoformat(), retry_at.isoformat(), key, recipient, claimant)).rowcount == 1

    def settle_reservations(self, before: datetime, at: datetime, boot: str) -> list[sqlite3.Row]:
        """Reservations made before ``before`` whose sender has gone: given back when they were made in this
        boot of the machine (a killed process's commits all survive, so a delivery it handed over says
        'sending'); after a restart a power cut may have taken back a 'sending' mark, so each one is 'unknown',
        never sent again. Returns the unknown ones."""
        rows = self.db.execute(
            "SELECT key, recipient, reserved_on FROM deliveries WHERE reserved_on IS NOT NULL AND reserved_at < ?",
            (before.isoformat(),)).fetchall()
        lost = []
        for row in rows:
            if row["reserved_on"] == boot:
                self.db.execute("UPDATE deliveries SET reserved_on = NULL, reserved_at = NULL "
                                "WHERE key = ? AND recipient = ?", (row["key"], row["recipient"]))
            else:
                self.save_delivery_result(row["key"], row["recipient"], "unknown",
                                          "发送过程中程序中断，其后机器重启过（可能是断电），无法确认是否送达", at)
                lost.append(row)
        return lost

    def save_delivery_result(self, key: MessageKey | str, recipient: str, state: str, detail: str, at: datetime,
                             retry_at: datetime | None = None) -> None:
        sent_at = at.isoformat() if state == "sent" else None
        self.db.execute(
            "UPDATE deliveries SET state = ?, detail = ?, updated_at = ?, sent_at = COALESCE(?, sent_at), "
            "next_attempt_at = ?, reserved_on = NULL, reserved_at = NULL WHERE key = ? AND recipient = ?",
            (state, detail, at.isoformat(), sent_at, retry_at.isoformat() if retry_at else "", str(key), recipient),
        )

    def releases_per_outlet(self, start: datetime, end: datetime) -> list[tuple[str, int]]:
        """Releases each outlet received in [start, end), most first: a release and its corrections (v2 …) are
        one release (their draft's ``base``)."""
        rows = self.db.execute(
            "SELECT CASE WHEN x.name <> '' THEN x.name ELSE x.recipient END AS outlet, COUNT(DISTINCT d.base) AS n "
            "FROM deliveries x CROSS JOIN messages m ON m.key = x.key JOIN drafts d ON d.id = m.item "
            "WHERE m.what = 'release' AND x.state = 'sent' AND x.sent_at >= ? AND x.sent_at < ? "
            "GROUP BY outlet ORDER BY n DESC, outlet", (start.isoformat(), end.isoformat())).fetchall()
        return [(r[0], r[1]) for r in rows]

    def release_reach(self, draft_ids: Collection[str]) -> list[tuple[str, str, str]]:
        """Which outlets the releases ``draft_ids`` reached: (draft ID, outlet, its 类型 on the 媒体 tab or ""),
        once each, in the order of the IDs and the outlets."""
        rows = named(self.db, "SELECT DISTINCT m.item, CASE WHEN x.name <> '' THEN x.name ELSE x.recipient END "
                              "AS outlet, COALESCE(t.type, '') AS type FROM messages m JOIN deliveries x "
                              "ON x.key = m.key LEFT JOIN media t ON lower(t.email) = lower(x.recipient) "
                              "WHERE m.what = 'release' AND m.item IN ({ids}) AND x.state = 'sent'", draft_ids)
        found: dict[tuple[str, str], str] = {}
        for row in rows:
            key = (row["item"], row["outlet"])
            found[key] = found.get(key) or row["type"]
        return sorted((item, outlet, kind) for (item, outlet), kind in found.items())

    def published_media_types(self, start: datetime, end: datetime) -> list[str]:
        """The 类型 of the 媒体 tab's outlets (by address) that a release reached in [start, end)."""
        rows = self.db.execute(
            "SELECT DISTINCT m.type FROM deliveries d JOIN media m ON lower(m.email) = lower(d.recipient) "
            "WHERE d.key LIKE 'release/%' AND d.state = 'sent' AND d.sent_at >= ? AND d.sent_at < ?",
            (start.isoformat(), end.isoformat())).fetchall()
        return [r[0] for r in rows if r[0]]

    def releases_published_between(self, start: datetime, end: datetime) -> int:
        """Releases that reached at least one outlet in [start, end); a release and its corrections are one."""
        row = self.db.execute(
            "SELECT COUNT(DISTINCT d.base) FROM deliveries x CROSS JOIN messages m ON m.key = x.key "
            "JOIN drafts d ON d.id = m.item WHERE m.what = 'release' AND x.state = 'sent' "
            "AND x.sent_at >= ? AND x.sent_at < ?", (start.isoformat(), end.isoformat())).fetchone()
        return row[0]

    def delivery_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())

    def delivery(self, key: MessageKey, recipient: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM deliveries WHERE key = ? AND recipient = ?",
                               (str(key), recipient)).fetchone()

    def requeue(self, key: MessageKey, recipient: str, at: datetime) -> None:
        """A person decided to send this one again (``resend``)."""
        self.db.execute(
            "UPDATE deliveries SET state = 'queued', next_attempt_at = '', updated_at = ? "
            "WHERE key = ? AND recipient = ?", (at.isoformat(), str(key), recipient))

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
            "SELECT d.*, m.purpose, m.what, m.item FROM deliveries d JOIN messages m USING (key) "
            "WHERE d.state = 'unknown' OR (d.state IN ('temporary', 'permanent', 'abandoned', 'blocked') "
            "AND d.updated_at >= ?) ORDER BY d.updated_at",
            (since.isoformat(),),
        ).fetchall()

    def deliveries(self, key_prefix: str = "") -> list[sqlite3.Row]:
        """Deliveries whose key starts with ``key_prefix`` (as LIKE compares: ASCII letters in either case),
        oldest first; read through the index deliveries_key, which compares keys as LIKE does."""
        return self.db.execute(
            "SELECT d.*, m.purpose, m.what, m.item FROM deliveries d JOIN messages m USING (key) "
            "WHERE d.key LIKE ? ORDER BY d.rowid", (key_prefix + "%",)
        ).fetchall()

    def deliveries_of(self, what: str) -> list[sqlite3.Row]:
        """Every delivery of one kind of message (``MessageKey.what``), with its ``item``, oldest first."""
        return self.db.execute(
            "SELECT d.*, m.purpose, m.what, m.item FROM messages m JOIN deliveries d USING (key) "
            "WHERE m.what = ? ORDER BY d.rowid", (what,)
        ).fetchall()

    def published_kinds(self, start: datetime, end: datetime) -> list[str]:
        """Kinds of the releases that reached at least one media contact in [start, end)."""
        # The window's sent deliveries first (the index deliveries_sent), then their messages: not every
        # release ever made.
        # A release and its corrections (v2 …) are one release of its kind: one per draft ``base``.
        rows = self.db.execute(
            "SELECT DISTINCT r.base, m.topic FROM deliveries d CROSS JOIN messages m ON m.key = d.key "
            "JOIN drafts r ON r.id = m.item "
            "WHERE m.purpose = 'release' AND d.state = 'sent' AND d.sent_at >= ? AND d.sent_at < ?",
            (start.isoformat(), end.isoformat()),
        ).fetchall()
        return [r["topic"] for r in rows]

