"""Queue messages in the ledger, then deliver what is due: at most once, never forgotten.

Every message is first recorded (``queue``), keyed on what it is and who it
is for, so a job that runs twice queues nothing new. ``flush`` then walks the
queued deliveries and the earlier temporary failures: it reserves the next
:data:`GROUP` of them in one commit that waits for the disk, marks each one
``sending`` in a committed write *before* handing it to the transport, and
records the outcome after. A process that dies mid-send leaves ``sending``
behind, which the next flush turns into ``unknown`` for a person to decide
(``resend``), never into a silent second copy; what it had only reserved is
given back. After a power cut, when a ``sending`` mark that did not wait for
the disk may be gone, every reservation left is ``unknown`` instead
(ledger/mail.py, ``settle_reservations``; docs/architecture.md, "Durability").
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..core import clock, files, shutdown
from ..core.config import Settings
from ..core.model import MessageKey
from ..ledger import Ledger
from ..mail import message as mime
from ..mail.delivery import (
    BLOCKED,
    PERMANENT,
    SENT,
    TEMPORARY,
    UNKNOWN,
    Result,
    TransportError,
)
from .context import Context

log = logging.getLogger(__name__)


@dataclass
class FlushReport:
    results: list[tuple[mime.Outgoing, Result]] = field(default_factory=list)   # each message without its bodies
    blocked: list[tuple[mime.Outgoing, str]] = field(default_factory=list)
    interrupted: int = 0
    abandoned: int = 0
    claimed: int = 0          # deliveries another sender (process) claimed first, and sends
    delivers: bool = True     # the transport hands mail on (SMTP); False: it only lands in the outbox folder
    stopped: bool = False     # a stop was requested: the rest wait for the next run
    error: str = ""           # the transport could not work at all this time

    @property
    def counts(self) -> Counter[str]:
        return Counter(result.outcome for _, result in self.results)

    def tally(self) -> dict[str, object]:
        """What the flush did, for the job's line in the log (no address, no content)."""
        counts = self.counts
        fields: dict[str, object] = {
            "sent": counts[SENT], "failed": counts[TEMPORARY] + counts[PERMANENT], "unknown": counts[UNKNOWN],
            "blocked": len(self.blocked), "claimed": self.claimed, "abandoned": self.abandoned,
            "interrupted": self.interrupted}
        if self.error:
            fields["mail_error"] = self.error
        if self.stopped:
            fields["stopped"] = True
        return fields


@dataclass
class MailRun:
    """What a mail job did: how many it queued, what the flush delivered, or why it did nothing."""

    queued: int = 0
    skipped: str = ""
    previews: list[mime.Outgoing] = field(default_factory=list)   # --dry-run: what would be sent
    report: FlushReport | None = None
    notes: list[str] = field(default_factory=list)                 # what the office should know, in Chinese

    def tally(self) -> dict[str, object]:
        fields: dict[str, object] = {"queued": self.queued}
        if self.skipped:
            fields["skipped"] = self.skipped
        if self.report is not None:
            fields.update(self.report.tally())
        return fields


Progress = Callable[[int, int], None]

# Messages that leave the court pass the last guard, whichever job flushes them: the releases,
# their submissions to the national network (channels, 四(三)), the deputies' invitations and
# their monthly brief (四(四)). Only the office's own mail (drafts, digests, alerts) is not guarded.
MEDIA_PURPOSES = ("release", "network", "invitation", "brief", "trial")   # trial: a release tried on the office
# Mail an outlet receives because it is on the 媒体 tab: it says how to stop it (List-Unsubscribe, and the
# media template's last lines). Not the national network's copy (an address in the config, not a list the
# office keeps), and not the office's own mail.
UNSUBSCRIBE_PURPOSES = ("release",)


def unsubscribe_address(settings: Settings) -> str:
    """Where an outlet writes to stop the releases or change their kinds: the office's first address."""
    return mime.address(settings.mail.office[0])[1]


def queue(ledger: Ledger, items: Sequence[mime.Outgoing], *, period: str, at: datetime,
          topic: str = "") -> int:
    """Record ``items`` for delivery in a transaction of their own; returns how many were new."""
    with ledger.transaction():
        return enqueue(ledger, items, period=period, at=at, topic=topic)


def enqueue(ledger: Ledger, items: Sequence[mime.Outgoing], *, period: str, at: datetime, topic: str = "") -> int:
    """Record ``items`` for delivery inside the caller's transaction (a draft and its mail to the office are
    recorded together: neither without the other); the one way mail enters the queue."""
    return sum(ledger.save_message(item, period, at, topic) for item in items)


def retry_at(settings: Settings, attempts: int, at: datetime) -> datetime:
    """Exponential back-off for a temporary failure: retry_after, doubled per attempt, capped."""
    wait = min(settings.mail.retry_after * 2 ** max(attempts - 1, 0), settings.mail.retry_cap)
    return at + timedelta(seconds=wait)


def flush(ctx: Context, *, keys: tuple[MessageKey, ...] = (), progress: Progress | None = None,
          sleep: Callable[[float], object] = shutdown.wait) -> FlushReport:
    """Deliver every queued message and retry temporary failures, one connection for the batch.

    Every message for the media passes ``redact.guard`` first: one that still
    carries an identifier is recorded as 'blocked' with the reason and never
    sent. A message larger than ``[mail] max_message_mb`` is never sent either: it
    fails permanently, with the reason, like a message a server refuses. ``keys``
    limits the flush to some messages; ``progress`` hears (done, total).
    """
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    report = FlushReport(delivers=ctx.transport.delivers)
    # A send or a reservation older than the transport's timeout that is still there belongs to a dead process.
    cutoff = at - timedelta(seconds=settings.mail.smtp.timeout * 2 + 60)
    with ledger.transaction():
        report.interrupted = len(ledger.settle_interrupted(cutoff, at)) + len(
            ledger.settle_reservations(cutoff, at, files.boot()))
        report.abandoned = len(ledger.abandon_exhausted(settings.mail.max_attempts, at))
    due = ledger.due_deliveries(at, keys)
    if not due:
        return report
    pending = _Pages(ledger, due)
    transport = ctx.transport
    sender = mime.address(settings.mail.sender)[1]
    interval = 60.0 / settings.mail.rate_per_minute if settings.mail.rate_per_minute else 0.0
    # Paced mail reserves one at a time: a group would wait minutes for its turn.
    reservations = _Reservations(ledger, due, at, 1 if interval else GROUP, durable=transport.delivers)
    from ..texts import redact          # the masking rules load when something is to be sent, not at start

    allowed = redact.own_numbers(settings.court.contact)
    limit = int(settings.mail.max_message_mb * 2**20)
    handled: set[tuple[str, str]] = set()

    def prepare(outgoing: mime.Outgoing) -> _Ready:
        reason = _guard(outgoing, allowed)
        if reason:
            return _Ready(reason=reason)
        # A character is at least a byte, and encoding only adds: a message whose parts are past the limit
        # already is refused without being built.
        carried = len(outgoing.text) + len(outgoing.html) + sum(len(a.content) for a in outgoing.attachments)
        if carried > limit:
            return _Ready(refused=_too_large(carried, settings.mail.max_message_mb))
        if outgoing.purpose in UNSUBSCRIBE_PURPOSES:
            outgoing = replace(outgoing, headers={**outgoing.headers, "List-Unsubscribe": mime.list_unsubscribe(
                unsubscribe_address(settings), outgoing.name, outgoing.recipient)})
        built = mime.build(outgoing, sender=settings.mail.sender, now=at)
        data = mime.as_bytes(built)
        if len(data) > limit:
            return _Ready(refused=_too_large(len(data), settings.mail.max_message_mb))
        return _Ready(message_id=built.message_id, data=data, built=built)

    # The next message is guarded and built while the server reads the current one.
    ahead: dict[int, _Ready] = {}

    def prepare_ahead(index: int) -> None:
        if index < len(pending):
            try:
                reservations.reserve_from(index)
                ahead[index] = prepare(pending[index][0])
            except Exception:   # noqa: BLE001 - done again in its turn, where the error surfaces
                pass

    outcomes = _Outcomes(settings, ledger, at)
    try:
        # Commits do not wait for the disk but where a power cut must not take them back: the reservations, a
        # guard's block and the batch's last outcomes, of mail handed to a server. Mail written to the outbox
        # leaves nothing outside the machine: none of its marks waits for the disk.
        durable = transport.delivers
        with ledger.relaxed(), transport.session() as session:
            last_send = None
            try:
                for index, (outgoing, row) in enumerate(pending):
                    if shutdown.requested():
                        report.stopped = True   # the rest stay queued for the next run
                        break
                    reservations.reserve_from(index)
                    if index not in reservations.ours:
                        report.claimed += 1             # another sender has it: it sends it, once
                        handled.add((str(outgoing.key), outgoing.recipient))
                        continue
                    ready = ahead.pop(index, None) or prepare(outgoing)
                    if ready.reason or ready.refused:
                        reservations.ours.discard(index)        # its outcome ends the reservation
                    if ready.reason:
                        with ledger.durable(durable), ledger.transaction():
                            outcomes.save()
                            _record_block(ledger, outgoing, ready.reason, at)
                        report.blocked.append((outgoing, ready.reason))
                        handled.add((str(outgoing.key), outgoing.recipient))
                        continue
                    if ready.refused:
                        # Recorded as a server's refusal is: failed for good, the reason in the digest and status.
                        result = Result(outgoing.recipient, PERMANENT, ready.refused)
                        outcomes.add(outgoing, row, result)
                        handled.add((str(outgoing.key), outgoing.recipient))
                        report.results.append((_without_bodies(outgoing), result))
                        continue
                    if interval and last_send is not None:
                        with ledger.transaction():
                            outcomes.save()     # nothing waits unrecorded
                        sleep(max(0.0, interval - (time.monotonic() - last_send)))
                    last_send = time.monotonic()
                    name = f"{at:%Y%m%d-%H%M%S}-{outgoing.purpose}-{outgoing.key.label}-{outgoing.recipient}"
                    try:
                        result = session.deliver(
                            sender, outgoing.recipient, ready.data, name,
                            handover=lambda o=outgoing, r=ready: outcomes.save_with_sending(o, r.message_id),
                            meanwhile=lambda after=index + 1: prepare_ahead(after), built=ready.built)
                    except Claimed:
                        reservations.ours.discard(index)
                        report.claimed += 1             # another sender took it over: it sends it, once
                        handled.add((str(outgoing.key), outgoing.recipient))
                        continue
                    reservations.ours.discard(index)
                    outcomes.add(outgoing, row, result)
                    handled.add((str(outgoing.key), outgoing.recipient))
                    report.results.append((_without_bodies(outgoing), result))
                    if progress:
                        progress(index + 1, len(pending))
            finally:
                with ledger.durable(durable), ledger.transaction():
                    outcomes.save()
                    reservations.release()
    except TransportError as exc:
        # Nothing more can be sent now, and nothing unhandled was handed over: each waits for its retry.
        report.error = str(exc)
        with ledger.transaction():
            for row in due:
                pair = (row["key"], row["recipient"])
                if pair in outcomes.marked:
                    # Marked 'sending', then the connection to send it could not be made again: the server
                    # never had its text (a transport error comes only from connecting).
                    outcomes.marked.discard(pair)
                    if ledger.delivery(row["key"], row["recipient"])["state"] == "sending":
                        ledger.save_delivery_result(row["key"], row["recipient"], TEMPORARY, str(exc), at,
                                                    retry_at(settings, row["attempts"] + 1, at))
                elif pair not in handled:
                    ledger.defer(row["key"], row["recipient"], str(exc), at,
                                 retry_at(settings, row["attempts"] + 1, at), claimant())
            ledger.audit(at, "mail", "transport-failed", transport.describe(), error=str(exc))
    log.debug("flush: %s", dict(report.counts))       # the job's line in the log says it (flows/joblog.py)
    return report


# Deliveries a flush reserves in one commit that waits for the disk; each is then marked 'sending' in a commit that
# does not. Eight make the disk's wait one in eight messages, made while the server reads a message; after a power
# cut at most two groups (the one being sent and the next) are unknown.
GROUP = 8


class _Reservations:
    """The due deliveries this flush may send, reserved :data:`GROUP` at a time as it reaches them."""

    def __init__(self, ledger: Ledger, due: list, at: datetime, size: int, *, durable: bool) -> None:
        self.ledger, self.due, self.at, self.size, self.durable = ledger, due, at, size, durable
        self.ours: set[int] = set()     # reserved and not yet handed over, refused or recorded
        self.upto = 0                   # every index below has been reserved, or found another sender's

    def reserve_from(self, index: int) -> None:
        """Reserve the next group when ``index`` is past the last (in its own transaction)."""
        if index < self.upto or index >= len(self.due):
            return
        end, boot, me = min(index + self.size, len(self.due)), files.boot(), claimant()
        # Dated now, not when the flush began: a long batch's latest reservation is not taken for a dead one's.
        made = max(self.at, clock.now(self.at.tzinfo))
        with self.ledger.durable(self.durable), self.ledger.transaction():
            taken = [i for i in range(index, end)
                     if self.ledger.reserve(self.due[i]["key"], self.due[i]["recipient"], self.at, me, boot, made)]
        self.ours.update(taken)
        self.upto = end

    def release(self) -> None:
        """Inside the caller's transaction: give back what was reserved and never handed over."""
        me = claimant()
        for index in sorted(self.ours):
            self.ledger.release(self.due[index]["key"], self.due[index]["recipient"], me)
        self.ours.clear()


# Deliveries whose messages a flush holds at once: a batch of ten thousand drafts or a release to a thousand
# outlets is read a page at a time, so what a flush holds does not grow with the batch.
PAGE = 200


class _Pages:
    """The due deliveries' messages, read a page of :data:`PAGE` at a time as the flush reaches them; a page
    is let go once the flush has moved past it."""

    def __init__(self, ledger: Ledger, due: list) -> None:
        self.ledger, self.due = ledger, due
        self.loaded: dict[int, list] = {}
        self.attachments: dict[str, tuple[mime.Attachment, ...]] = {}   # one release's .docx, read once

    def __len__(self) -> int:
        return len(self.due)

    def __getitem__(self, index: int) -> tuple[mime.Outgoing, object]:
        page = index // PAGE
        if page not in self.loaded:
            for old in [p for p in self.loaded if p < page]:
                del self.loaded[old]
            self.loaded[page] = self.ledger.outgoing_of(self.due[page * PAGE:(page + 1) * PAGE], self.attachments)
        return self.loaded[page][index - page * PAGE]

    def __iter__(self):
        for index in range(len(self.due)):
            yield self[index]


def _without_bodies(outgoing: mime.Outgoing) -> mime.Outgoing:
    """What a report keeps of a message it handled: all but its text and HTML (a batch holds no bodies)."""
    return replace(outgoing, text="", html="")


def claimant() -> str:
    """Who claims a delivery: this process on this machine (the ledger records it beside 'sending')."""
    return f"{os.getpid()}@{socket.gethostname()}"


class Claimed(Exception):
    """Another sender claimed the delivery between our reading it and our sending it: not ours to send."""


@dataclass(frozen=True)
class _Ready:
    """A message as it will go out, or why the guard stopped it, or why it is too large to send."""
    reason: str | None = None
    refused: str = ""
    message_id: str = ""
    data: bytes = b""
    built: object = None        # the message as built, for the outbox's preview


def _too_large(size: int, limit_mb: float) -> str:
    size_mb = math.ceil(size / 2**20 * 100) / 100            # rounded up: never shown as within the limit
    return (f"邮件过大（{size_mb:g} MB），超过上限 {limit_mb:g} MB（配置 [mail] max_message_mb），系统未发送；"
            "请删减素材或附件的内容")


def _guard(outgoing: mime.Outgoing, allowed: list[str]) -> str | None:
    if outgoing.purpose not in MEDIA_PURPOSES:
        return None
    from ..texts import redact

    try:
        redact.guard_fields(subject=outgoing.subject, name=outgoing.name, text=outgoing.text, html=outgoing.html,
                            attachments=[(a.filename, a.content, a.content_type) for a in outgoing.attachments],
                            allowed=allowed)
    except redact.Blocked as blocked:
        return str(blocked)
    return None


class _Outcomes:
    """Outcomes not yet recorded: each goes into the next transaction, with the next message's 'sending' mark.

    One commit per message, not two; and the transport makes that commit while
    the server answers MAIL, so the ledger's disk write costs the batch no time.
    """

    def __init__(self, settings: Settings, ledger: Ledger, at: datetime) -> None:
        self.settings, self.ledger, self.at = settings, ledger, at
        self.waiting: list[tuple[mime.Outgoing, object, Result]] = []
        self.marked: set[tuple[str, str]] = set()     # marked 'sending' by this flush, outcome not yet recorded

    def add(self, outgoing: mime.Outgoing, row, result: Result) -> None:
        self.waiting.append((outgoing, row, result))

    def save(self) -> None:
        """Inside the caller's transaction."""
        ledger, at = self.ledger, self.at
        for outgoing, row, result in self.waiting:
            later = retry_at(self.settings, row["attempts"] + 1, at) if result.outcome == TEMPORARY else None
            pair = (str(outgoing.key), outgoing.recipient)
            if pair in self.marked or result.outcome != TEMPORARY:
                self.marked.discard(pair)
                ledger.save_delivery_result(outgoing.key, outgoing.recipient, result.outcome, result.detail, at,
                                            later)
            elif not ledger.defer(pair[0], pair[1], result.detail, at, later, claimant()):
                # Never handed over (the connection had broken), and its reservation was given back meanwhile:
                # another sender has it, or has sent it already. Its record is that sender's.
                continue
            if result.outcome != SENT:
                # A delivery's row keeps its outcome; the audit log adds every failure's story.
                ledger.audit(at, outgoing.purpose, f"delivery-{result.outcome}", outgoing.key,
                             recipient=outgoing.recipient, detail=result.detail)
        self.waiting.clear()

    def save_with_sending(self, outgoing: mime.Outgoing, message_id: str) -> None:
        """Committed before the server can see the message: a crash from here on leaves 'sending', never
        'queued'. The commit does not wait for the disk: the delivery's reservation did (``Ledger.claim``).
        Raises :class:`Claimed` when another sender (the scheduler, a clerk's command) took it over."""
        with self.ledger.transaction():
            self.save()
            # Dated now: a long batch's message in the server's hands is not taken for a dead sender's.
            now = max(self.at, clock.now(self.at.tzinfo))
            claimed = self.ledger.claim(outgoing.key, outgoing.recipient, message_id, now, claimant())
        if not claimed:
            raise Claimed(outgoing.key, outgoing.recipient)
        self.marked.add((str(outgoing.key), outgoing.recipient))


def _record_block(ledger: Ledger, outgoing: mime.Outgoing, reason: str, at: datetime) -> None:
    """Inside the caller's transaction."""
    ledger.save_delivery_result(outgoing.key, outgoing.recipient, BLOCKED, reason, at)
    ledger.audit(at, outgoing.purpose, "delivery-blocked", outgoing.key, recipient=outgoing.recipient,
                 reason=reason)
