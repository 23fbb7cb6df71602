"""A stop request from SIGTERM or SIGINT, honoured between messages and between jobs.

The handlers only set a flag: the message being sent is finished and
recorded, then the batch and the loop stop, and the process exits 0
(systemd's and Task Scheduler's "stop" are normal events, not failures).
"""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger(__name__)
_requested = threading.Event()


def requested() -> bool:
    return _requested.is_set()


def request() -> None:
    _requested.set()


def wait(seconds: float) -> bool:
    """Sleep up to ``seconds``, waking at once on a stop request; True if stopping."""
    return _requested.wait(seconds)


def install() -> None:
    """Turn SIGTERM and SIGINT into a stop request (main thread only)."""
    def handler(signum: int, _frame: object) -> None:
        log.warning("收到停止信号 %s：发完当前这封邮件后停止", signum)
        _requested.set()

    for name in ("SIGTERM", "SIGINT"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, handler)
