"""Running unattended: ``once`` for cron and timers, ``run`` for a long-lived service.

``schedule`` is only the ticker: every tick asks ``timetable.due`` which
(job, period) slots are due now in the configured zone, and the ledger's
``job_runs`` which of them already ran — so restarts, suspends and clock
jumps neither skip a job nor run it twice. Each job runs in a worker thread
with a timeout; a failure is logged (in one line when it is a condition a
person can act on, with its traceback only when nobody expected it), recorded,
shown in the next digest, and the loop goes on. Every slot ends with one line in
the log saying what it did (``flows/joblog.py``). One instance at a time: a lock
file the operating system releases when the process dies.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import schedule
from filelock import FileLock, Timeout

from ..core import clock, shutdown
from ..core.config import Settings
from ..core.errors import LEDGER_FAULTS, LedgerError, PipelineError, SourceBusy, SourceChanged
from ..core.files import private_folder
from ..core.model import PullSummary
from ..flows import brief, invitations, joblog, publishing, pulling, summaries, week
from ..flows.context import Context
from ..ledger import Ledger
from ..ledger import trouble as ledger_trouble
from ..mail.transport import open_transport
from .timetable import BRIEF, CYCLE, DIGEST, MONTHLY, REMIND, WEEKLY, Slot, due

log = logging.getLogger(__name__)

MAX_TRIES = 3                          # failed runs of one slot before it waits for the next slot
RETRY_SPACING = timedelta(minutes=5)   # between two tries of a failed slot

JobFunction = Callable[[Context, str], object]   # a job on its context, for its period


class InstanceBusy(PipelineError):
    """Another ``run`` or ``once`` holds the lock."""


def cycle(ctx: Context) -> str:
    """pull → draft → publish, invitations with them; later steps run even when the sheet cannot be read.

    Returns a note for the console when the write-back waits for a workbook that is open or was changed
    meanwhile (it heals by itself); a write-back that needs a person (a read-only workbook) fails the cycle.
    """
    errors, note, settings = [], "", ctx.settings
    for step in (pulling.pull, publishing.draft, invitations.draft_invitations, publishing.publish,
                 invitations.send_invitations):
        if shutdown.requested():
            return note
        try:
            done = step(ctx.later())          # one ledger and transport; each step dated when it starts
            if isinstance(done, PullSummary) and done.waiting is not None:
                if isinstance(done.waiting, (SourceBusy, SourceChanged)):
                    note = done.waiting_note
                else:
                    errors.append(f"pull: {done.waiting_note}")
        except PipelineError as exc:          # one line: the slot's line says the cycle did not finish
            level = logging.WARNING if isinstance(exc, (SourceBusy, SourceChanged)) else logging.ERROR
            log.log(level, "步骤未完成", extra={"fields": {"step": step.__name__, "error": str(exc)}})
            errors.append(f"{step.__name__}: {exc}")
        except LEDGER_FAULTS as exc:   # the ledger itself: later steps would fail alike
            raise LedgerError(ledger_trouble(settings.ledger.path, exc, wait=settings.ledger.wait_seconds)) from None
    if errors:
        raise PipelineError("；".join(errors))
    return note


JOBS: dict[str, JobFunction] = {
    CYCLE: lambda ctx, period: cycle(ctx),
    DIGEST: lambda ctx, period: week.digest(ctx),
    REMIND: lambda ctx, period: week.remind(ctx),
    WEEKLY: lambda ctx, period: summaries.summary(ctx, "weekly", period),
    MONTHLY: lambda ctx, period: summaries.summary(ctx, "monthly", period),
    BRIEF: lambda ctx, period: brief.brief(ctx, period),
}


# What each mail job would send now, without sending or recording it (``once --dry-run``).
PREVIEWS: dict[str, JobFunction] = {
    DIGEST: lambda ctx, period: week.digest(ctx, dry_run=True),
    REMIND: lambda ctx, period: week.remind(ctx, dry_run=True),
    WEEKLY: lambda ctx, period: summaries.summary(ctx, "weekly", period, dry_run=True),
    MONTHLY: lambda ctx, period: summaries.summary(ctx, "monthly", period, dry_run=True),
    BRIEF: lambda ctx, period: brief.brief(ctx, period, dry_run=True),
}


# --- one instance at a time ----------------------------------------------------

@contextmanager
def instance_lock(settings: Settings, *, wait: bool) -> Iterator[None]:
    """Hold the instance lock; ``wait`` for it (``run``) or fail at once (``once``)."""
    path = Path(f"{settings.ledger.path}.lock")
    info = Path(f"{settings.ledger.path}.lock.info")
    private_folder(path.parent)                       # the ledger's folder: owner-only when made here
    lock = FileLock(str(path))
    while True:
        try:
            lock.acquire(timeout=0 if not wait else 5)
            break
        except Timeout:
            holder = _holder(info)
            if not wait:
                busy = InstanceBusy(f"另一个实例正在运行（{holder}），本次不执行")
                log.warning("%s", busy, extra={joblog.CONSOLE: False})    # the command says it on the console
                raise busy from None
            log.warning("等待另一个实例结束（%s）", holder)
            if shutdown.requested():
                raise InstanceBusy(f"等待锁时收到停止信号（锁由 {holder} 持有）") from None
    try:
        info.write_text(f"PID {os.getpid()} @ {socket.gethostname()}，自 {clock.now(settings.timezone):%Y-%m-%d %H:%M}",
                        encoding="utf-8")
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


def _holder(info: Path) -> str:
    try:
        return info.read_text(encoding="utf-8").strip() or "未知进程"
    except OSError:
        return "未知进程"


# --- running slots ---------------------------------------------------------------

@dataclass
class Outcome:
    job: str
    period: str
    result: str          # ok | failed | timeout | skipped
    error: str = ""
    note: str = ""       # something the console should say although the job did its work


@dataclass
class Runner:
    """Runs due slots with isolation; ``functions`` and ``timeout`` are injectable for tests."""

    settings: Settings
    functions: dict[str, JobFunction] = field(default_factory=lambda: dict(JOBS))
    timeout: float | None = None
    hung: dict[str, threading.Thread] = field(default_factory=dict)

    def run_slot(self, slot: Slot) -> Outcome:
        settings, at = self.settings, clock.now(self.settings.timezone)
        if slot.job in self.hung and self.hung[slot.job].is_alive():
            joblog.finished(slot.job, slot.period, "skipped", 0.0, {}, error="上一次运行仍未结束")
            return Outcome(slot.job, slot.period, "skipped", "上一次运行仍未结束")
        with Ledger.of(settings.ledger) as ledger, ledger.transaction():
            run_id = ledger.start_run(slot.job, slot.period, at)
        failure: list[tuple[str, BaseException]] = []
        notes: list[str] = []
        tally = joblog.Tally()

        def work() -> None:
            try:
                with joblog.gathering(tally), Context.open(settings) as ctx:   # in this thread: its own ledger
                    returned = self.functions[slot.job](ctx, slot.period)
                if isinstance(returned, str) and returned:
                    notes.append(returned)
            except PipelineError as exc:        # a condition a person can act on: one line, said in Chinese
                failure.append((str(exc), exc))
            except LEDGER_FAULTS as exc:     # the ledger, or a damaged record in it
                failure.append((ledger_trouble(settings.ledger.path, exc, wait=settings.ledger.wait_seconds), exc))
            except BaseException as exc:  # noqa: BLE001 - every failure is recorded, none escapes
                failure.append((str(exc) or type(exc).__name__, exc))

        started = time.monotonic()
        worker = threading.Thread(target=work, name=f"job-{slot.job}", daemon=True)
        worker.start()
        worker.join(self.timeout if self.timeout is not None else settings.schedule.job_timeout)
        done = clock.now(settings.timezone)
        if worker.is_alive():
            self.hung[slot.job] = worker
            result, error = "timeout", "超过时限仍未结束"
        else:
            result, error = ("failed", failure[0][0]) if failure else ("ok", "")
        with Ledger.of(settings.ledger) as ledger, ledger.transaction():
            ledger.finish_run(run_id, result, done, error)
            if result != "ok":
                ledger.audit(done, "scheduler", f"job-{result}", slot.job, period=slot.period, error=error)
        fields = dict(tally.fields)
        if notes and result == "ok":
            fields.setdefault("writeback", "waiting")
        exc = failure[0][1] if failure and result == "failed" else None
        unexpected = exc is not None and not isinstance(exc, (PipelineError, *LEDGER_FAULTS))
        joblog.finished(slot.job, slot.period, result, time.monotonic() - started, fields,
                        error=exc if unexpected else error)       # a bug's traceback; otherwise one line
        return Outcome(slot.job, slot.period, result, error, notes[0] if notes and result == "ok" else "")

    def pending(self, now: datetime) -> list[Slot]:
        """Due slots that have not run (or failed, and may be tried again)."""
        with Ledger.of(self.settings.ledger) as ledger:
            with ledger.transaction():
                ledger.set_meta_once(SINCE, now.isoformat())
            return waiting(ledger, self.settings, now)

    def tick(self) -> list[Outcome]:
        """Run every slot that is due now; never raises."""
        outcomes = []
        try:
            for slot in self.pending(clock.now(self.settings.timezone)):
                if shutdown.requested():
                    break
                outcomes.append(self.run_slot(slot))
        except PipelineError as exc:             # a condition a person can act on: one line
            log.error("本轮检查未完成", extra={"fields": {"error": str(exc)}})
        except LEDGER_FAULTS as exc:    # the ledger busy or damaged: one line, retried
            trouble = ledger_trouble(self.settings.ledger.path, exc, wait=self.settings.ledger.wait_seconds)
            log.error("本轮检查未完成", extra={"fields": {"error": trouble}})
        except Exception:  # noqa: BLE001 - the loop must survive anything, and a bug shows its traceback
            log.error("本轮检查未完成（程序错误）", exc_info=sys.exc_info())
        return outcomes


SINCE = "scheduler_since"     # the ledger's meta key: when the scheduler first ran here


def waiting(ledger: Ledger, settings: Settings, now: datetime) -> list[Slot]:
    """The slots due at ``now`` that have not run (or failed, and may be tried again); reads only, so a dry
    run can ask too."""
    recorded = ledger.meta(SINCE)
    since = datetime.fromisoformat(recorded) if recorded else now
    out = []
    for slot in due(now, settings.schedule, since=since):
        runs = ledger.runs_of(slot.job, slot.period)
        if any(r["outcome"] in ("ok", "running") for r in runs) or len(runs) >= MAX_TRIES:
            continue
        if runs and runs[-1]["finished_at"] and now - datetime.fromisoformat(runs[-1]["finished_at"]) < RETRY_SPACING:
            continue
        out.append(slot)
    return out


def settle(settings: Settings) -> None:
    """Runs a killed process left 'running' are recorded as interrupted (we hold the lock)."""
    with Ledger.of(settings.ledger) as ledger, ledger.transaction():
        count = ledger.settle_running(clock.now(settings.timezone))
    if count:
        log.warning("上一个进程有 %d 项任务运行中断，已记为中断", count)


def once(settings: Settings, runner: Runner | None = None, *, due_only: bool = False) -> list[Outcome]:
    """One full cycle now, then whatever else is due (digest, reminders, summaries).

    ``due_only`` (``once --due``, for cron and timers that fire around the clock): only what the timetable
    says is due now in the configured zone, as ``run`` would do at this moment — the cycle only within
    office hours, once per slot — and nothing at all otherwise.
    """
    open_transport(settings).ready()        # a secret not set: a configuration error, before anything runs
    runner = runner or Runner(settings)
    with instance_lock(settings, wait=False):
        settle(settings)
        now = clock.now(settings.timezone)
        outcomes = [] if due_only else [runner.run_slot(Slot(CYCLE, f"once-{now:%Y-%m-%dT%H:%M:%S}", now))]
        for slot in runner.pending(now):
            if (due_only or slot.job != CYCLE) and not shutdown.requested():
                outcomes.append(runner.run_slot(slot))
    return outcomes


def run(settings: Settings, runner: Runner | None = None) -> None:
    """The long-running loop; returns when a stop is requested."""
    open_transport(settings).ready()
    runner = runner or Runner(settings)
    with instance_lock(settings, wait=True):
        settle(settings)
        ticker = schedule.Scheduler()
        ticker.every(settings.schedule.tick_seconds).seconds.do(runner.tick)
        runner.tick()
        while not shutdown.requested():
            ticker.run_pending()
            shutdown.wait(1.0)
    log.info("已停止")
