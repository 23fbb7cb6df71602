"""What every transport shares: a delivery's outcome, the error that stops a transport, and the protocols a
transport and its session keep (the outbox in ``transport``, SMTP in ``smtp``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from ..core.errors import PipelineError

SENT, TEMPORARY, PERMANENT, UNKNOWN = "sent", "temporary", "permanent", "unknown"
BLOCKED = "blocked"   # stopped before sending: the media guard found personal data


class TransportError(PipelineError):
    """The transport cannot work at all (bad certificate, login refused, no password)."""


@dataclass(frozen=True)
class Result:
    recipient: str
    outcome: str        # SENT | TEMPORARY | PERMANENT | UNKNOWN
    detail: str = ""    # the server's reply or the error, for the ledger and the digest


class Session(Protocol):
    def deliver(self, sender: str, recipient: str, data: bytes, name: str,
                handover: Callable[[], object] | None = None,
                meanwhile: Callable[[], object] | None = None, built: object = None) -> Result:
        """Deliver ``data`` (the whole message) to ``recipient``; ``name`` labels outbox files.

        ``built`` is the message ``data`` was written from (``mail.message.build``), when the caller has it:
        the outbox's preview is made from it instead of parsing ``data`` back.

        ``handover`` is called at most once, before any of the message's text
        can reach the server (the caller records that it is sending); when it
        raises, nothing is sent and the error propagates. ``meanwhile`` may be
        called once while the server reads the message, before its reply, so
        the caller can get the next message ready instead of waiting idle; it
        must not raise.
        """


class Transport(Protocol):
    def describe(self) -> str: ...

    def ready(self) -> None:
        """Raise :class:`ConfigError` when the configuration cannot send at all (a secret not set): checked
        before a sending command queues anything, so nothing waits for a setting a person must fix."""

    @property
    def delivers(self) -> bool:
        """Whether a message it takes leaves the machine (SMTP), or only lands in a folder (the outbox)."""

    def session(self) -> AbstractContextManager[Session]: ...
