"""Queue messages in the ledger, then deliver what is due: at most once, never forgotten.

Every message is first recorded (``queue``), keyed on what it is and who it
is for, so a job that runs twice queues nothing new. ``flush`` then walks the
queued deliveries and the earlier temporary failures, marks each one
``sending`` in a committed write *before* handing it to the transport, and
records the outcome after. A process that dies mid-send leaves ``sending``
behind, which the next flush turns into ``unknown`` for a person to decide
(``resend``), never into a silent second copy.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..config import Settings
from ..ledger import Ledger
from . import message as mime
from .transport import SENT, TEMPORARY, Result, Transport, TransportError, open_transport

log = logging.getLogger(__name__)


@dataclass
class FlushReport:
    results: list[tuple[mime.Outgoing, Result]] = field(default_factory=list)
    interrupted: int = 0
    abandoned: int = 0
    error: str = ""           # the transport could not work at all this time

    @property
    def counts(self) -> Counter[str]:
        return Counter(result.outcome for _, result in self.results)


def queue(ledger: Ledger, items: Sequence[mime.Outgoing], *, period: str, at: datetime,
          topic: str = "") -> int:
    """Record ``items`` for delivery; returns how many were new."""
    with ledger.transaction():
        return sum(ledger.save_message(item, period, at, topic) for item in items)


def flush(settings: Settings, ledger: Ledger, *, at: datetime, transport: Transport | None = None) -> FlushReport:
    """Deliver every queued message and retry temporary failures, one connection for the batch."""
    report = FlushReport()
    # A send older than the transport's timeout that is still 'sending' belongs to a dead process.
    cutoff = at - timedelta(seconds=settings.mail.smtp.timeout * 2 + 60)
    with ledger.transaction():
        report.interrupted = len(ledger.settle_interrupted(cutoff, at))
        report.abandoned = len(ledger.abandon_exhausted(settings.mail.max_attempts, at))
    pending = ledger.pending_deliveries()
    if not pending:
        return report
    transport = transport or open_transport(settings)
    sender = mime.address(settings.mail.sender)[1]
    try:
        with transport.session() as session:
            for outgoing, row in pending:
                built = mime.build(outgoing, sender=settings.mail.sender, now=at)
                with ledger.transaction():
                    ledger.mark_sending(outgoing.key, outgoing.recipient, built["Message-ID"], at)
                name = f"{at:%Y%m%d-%H%M%S}-{outgoing.purpose}-{outgoing.recipient}"
                result = session.deliver(sender, outgoing.recipient, mime.as_bytes(built), name)
                with ledger.transaction():
                    ledger.save_delivery_result(outgoing.key, outgoing.recipient, result.outcome,
                                                result.detail, at)
                    ledger.audit(at, outgoing.purpose, f"delivery-{result.outcome}", outgoing.key,
                                 recipient=outgoing.recipient, detail=result.detail)
                report.results.append((outgoing, result))
    except TransportError as exc:
        # Nothing more can be sent now: whatever is still 'sending' was never handed over.
        report.error = str(exc)
        with ledger.transaction():
            for outgoing, row in pending:
                if all(o.key != outgoing.key or o.recipient != outgoing.recipient for o, _ in report.results):
                    ledger.save_delivery_result(outgoing.key, outgoing.recipient, TEMPORARY, str(exc), at)
            ledger.audit(at, "mail", "transport-failed", transport.describe(), error=str(exc))
    log.info("flush: %s", dict(report.counts))
    return report


def sent_count(report: FlushReport) -> int:
    return report.counts.get(SENT, 0)
