"""One job's world, built at the edge: the settings, the ledger it holds open, the moment it runs at, and
the transport its mail leaves by.

The command line and the scheduler build a context per job (``Context.open``) and pass it in; a job reads
``ctx.at`` instead of the clock, works on ``ctx.ledger`` instead of opening its own, and flushes through
``ctx.transport``. The steps of one cycle share a context: one ledger connection, one transport, and a
fresh clock reading per step (``later``), so that a long pull does not date the deliveries after it
(docs/architecture.md, "I/O at the edges").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from ..core import clock
from ..core.config import Settings
from ..ledger import Ledger
from ..mail.delivery import Transport
from ..mail.transport import open_transport


@dataclass
class Context:
    settings: Settings
    ledger: Ledger
    at: datetime                         # the moment the job runs at, in the configured zone
    transport: Transport                 # the configured one unless the caller chose another

    @classmethod
    @contextmanager
    def open(cls, settings: Settings, *, at: datetime | None = None,
             transport: Transport | None = None) -> Iterator[Context]:
        """A context on the configured ledger, now (or ``at``), closed with the block."""
        with Ledger.of(settings.ledger) as ledger:
            yield cls(settings, ledger, at or clock.now(settings.timezone), transport or open_transport(settings))

    def later(self) -> Context:
        """The same ledger and transport, the clock read again (the next step of a cycle)."""
        return replace(self, at=clock.now(self.settings.timezone))
