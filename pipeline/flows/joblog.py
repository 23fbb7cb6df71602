"""One line in the log per finished job: what ran, for which period, how it ended, how long it took, and what
it did — counts and IDs, never the sheet's content (no party's name, no number from the case material).

A job function is marked with :func:`job`. Run by itself (a command: ``pull``, ``publish`` …) it logs its
own line when it returns or raises. Run inside :func:`gathering` (the scheduler's slot: the cycle's five
steps, the digest …), it only adds what it did to that slot's :class:`Tally`, and the scheduler logs the one
line for the slot, with the outcome and the duration it measured (``app/scheduler.py``).

The fields go with the record (``record.fields``): the log file's formatter writes them as ``key=value``
after the message, or as the keys of a JSON object (``app/logs.py``). A job's result says what it did
through its ``tally()`` (PullSummary, PublishRun, InvitationRun, MailRun, FlushReport).

Expected conditions — a workbook open or changed meanwhile, any PipelineError, the ledger busy or damaged —
are one line; only an exception nobody expected (a bug) carries its traceback.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..core.errors import LEDGER_FAULTS, PipelineError, SourceBusy, SourceChanged
from ..ledger import trouble as ledger_trouble

log = logging.getLogger("pipeline.jobs")

CONSOLE = "console"      # a record with console=False goes to the log file only: the command says it already
LOGGED = "_pipeline_logged"   # set on an exception a job's line has said: the command does not say it twice

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Tally:
    """What the jobs of one slot (or one command) did, field by field: counts add up, ID lists join."""

    fields: dict[str, Any] = field(default_factory=dict)

    def add(self, result: object) -> None:
        tally = getattr(result, "tally", None)
        if callable(tally):
            self.merge(tally())

    def merge(self, more: dict[str, Any]) -> None:
        for key, value in more.items():
            have = self.fields.get(key)
            if have is None:
                self.fields[key] = list(value) if isinstance(value, (list, tuple)) else value
            elif isinstance(value, bool) or not isinstance(value, (int, float, list, tuple, str)):
                self.fields[key] = value
            elif isinstance(value, (int, float)):
                self.fields[key] = have + value
            elif isinstance(value, (list, tuple)):
                self.fields[key] = [*have, *value]
            elif value and value not in str(have).split("；"):
                self.fields[key] = f"{have}；{value}" if have else value


_current: ContextVar[Tally | None] = ContextVar("pipeline_job_tally", default=None)


@contextmanager
def gathering(tally: Tally) -> Iterator[Tally]:
    """Within this block (in this thread), a marked job adds what it did to ``tally`` and logs nothing."""
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)


def job(name: str, *, fields: Callable[..., dict[str, Any]] | None = None) -> Callable[[F], F]:
    """Mark a job function ``f(ctx, …)``: ``fields(ctx, …)`` adds fields known from its arguments
    (a period, an item's ID)."""

    def mark(function: F) -> F:
        @functools.wraps(function)
        def run(ctx, *args: Any, **kwargs: Any) -> Any:
            known = dict(fields(ctx, *args, **kwargs)) if fields else {}
            if kwargs.get("dry_run"):
                known["dry_run"] = True
            outer = _current.get()
            if outer is not None:                       # a step of a slot: the slot says it, once
                result = function(ctx, *args, **kwargs)
                outer.merge({k: v for k, v in known.items() if k != "period"})
                outer.add(result)
                return result
            tally = Tally(known)
            started = time.monotonic()
            try:
                with gathering(tally):
                    result = function(ctx, *args, **kwargs)
            except BaseException as exc:
                finished(name, tally.fields.pop("period", ""), failure_outcome(exc), time.monotonic() - started,
                         tally.fields, error=exc, ledger_path=_ledger_path(ctx), console=False)
                raise
            tally.add(result)
            finished(name, tally.fields.pop("period", ""), "ok", time.monotonic() - started, tally.fields,
                     console=False)
            return result

        return run  # type: ignore[return-value]

    return mark


TROUBLE = ("failed", "unknown", "blocked", "abandoned", "mail_error")   # fields that make an "ok" job "partial"


def finished(name: str, period: str, outcome: str, seconds: float, fields: dict[str, Any], *,
             error: BaseException | str | None = None, ledger_path: Any = None, console: bool = True,
             exc_info: Any = None) -> None:
    """Log the one line of a finished job.

    ``outcome``: ok | partial (it ran, but some mail failed, was blocked or is unknown) | failed | timeout
    | skipped | interrupted. ok and partial are INFO and WARNING, the rest ERROR (an interruption WARNING).
    ``error`` an exception is said in one line (its message, or the ledger's trouble); its traceback is
    logged only when it is not an expected condition.
    """
    if outcome == "ok" and any(fields.get(key) for key in TROUBLE):
        outcome = "partial"
    line: dict[str, Any] = {"job": name}
    if period:
        line["period"] = period
    line.update(outcome=outcome, seconds=round(seconds, 2))
    line.update(fields)
    trace = exc_info
    if isinstance(error, BaseException):
        line["error"], expected = describe(error, ledger_path)
        try:
            setattr(error, LOGGED, True)
        except AttributeError:
            pass
        if not expected and trace is None:
            trace = (type(error), error, error.__traceback__)
    elif error:
        line["error"] = error
    if outcome in ("ok", "skipped"):
        level, message = logging.INFO, "任务完成" if outcome == "ok" else "任务跳过"
    elif outcome == "partial":
        level, message = logging.WARNING, "任务完成，部分邮件未送达或被拦下"
    elif outcome == "interrupted" or isinstance(error, (SourceBusy, SourceChanged)):
        level, message = logging.WARNING, "任务中断" if outcome == "interrupted" else "任务未完成"
    elif outcome == "timeout":
        level, message = logging.ERROR, "任务超时"
    else:
        level, message = logging.ERROR, "任务失败"
    log.log(level, message, exc_info=trace, extra={"fields": line, CONSOLE: console})


def failure_outcome(exc: BaseException) -> str:
    return "failed" if isinstance(exc, Exception) else "interrupted"


def describe(exc: BaseException, ledger_path: Any = None) -> tuple[str, bool]:
    """An exception in one line, and whether it is an expected condition (no traceback for those)."""
    if isinstance(exc, PipelineError):
        return str(exc), True
    if isinstance(exc, LEDGER_FAULTS):
        return ledger_trouble(ledger_path, exc), True
    if not isinstance(exc, Exception):
        return type(exc).__name__, True            # KeyboardInterrupt, SystemExit: a person or the system
    return f"{type(exc).__name__}: {exc}", False


def _ledger_path(ctx: Any) -> Any:
    settings = getattr(ctx, "settings", None)
    return settings.ledger.path if settings is not None else None
