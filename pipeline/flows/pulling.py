"""The pull: the sheet in, the ledger first, 编号 and 状态 back to the workbook second.

One pass reads every tab; ``intake`` validates and numbers the rows purely; the
ledger records what was read in one transaction; then the owned cells are
written back — or wait, when the workbook cannot take them now
(docs/architecture.md, "The open workbook").
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .. import __version__
from ..core.config import Settings
from ..core.errors import LedgerError, PipelineError, SourceError, UsageError
from ..core.grid import Saved, SheetData
from ..core.headers import wanted_title
from ..core.model import POSTED_MARKS, PullSummary
from ..intake.tabs import (
    IntakeResult,
    PlacementContext,
    Release,
    ReviewContext,
    placement_ids,
    reply_ids,
    review_ids,
    take_in,
)
from ..ledger import Ledger
from ..plan.review import FAILED_CHECK, ReviewCodes, effective_state
from ..sources import SheetSource, open_source
from . import channels, decisions, invitations
from .context import Context
from .joblog import job
from .waiting import UNWRITTEN, WRITE_BACK_WAITING, waiting_text

log = logging.getLogger(__name__)


@job("pull")
def pull(ctx: Context, *, dry_run: bool = False, source: SheetSource | None = None) -> PullSummary:
    """Read the sheet, validate, assign IDs, record, then write 编号/状态 back.

    The ledger first, the workbook second: what the pull read is recorded
    (and drafted by the steps after it) even when the workbook cannot be
    written — open in an office suite, changed since the read, read-only.
    The cells it owes then wait: each later pull works them out afresh
    from what the sheet holds by then, and the IDs not yet in the sheet are
    kept in the ledger (``UNWRITTEN``) so that their rows get them back —
    by content, by key, or by the row they were meant for, as the ID in the
    cell would have kept them. An edit made meanwhile is never overwritten,
    and the workbook never shows an ID the ledger lacks. ``status`` and the
    digest say since when the write-back has been waiting (``waiting_note``).

    An unchanged workbook costs a hash: when the sheet's version (the file's hash; the Sheets values
    answer's) and everything else the pull depends on are those of the last pull that found nothing to do
    (``FINGERPRINT``), the pull ends there, with that pull's summary.
    """
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    source = source or open_source(settings)
    try:
        inputs = _inputs(settings, at, ledger.generation())     # read before anything the pull compares
        last = None if dry_run else _last_unchanged(ledger)
        peek = getattr(source, "peek", None)
        if last is not None and peek is not None and _digest(inputs, peek()) == last["digest"]:
            return _as_last_time(ctx, source, last)
        sheet = source.fetch(wanted_title)
        if last is not None and _digest(inputs, sheet) == last["digest"]:
            return _as_last_time(ctx, source, last)
        named = review_ids(sheet)     # the ledger is asked about the items the 审核 tab names, not its history
        context = ReviewContext(items=decisions.states(ledger, at, named),
                                reviewers=frozenset(settings.review.reviewers),
                                seen=frozenset(ledger.seen_reviews(named)), ready=decisions.ready(ledger, named),
                                codes=ReviewCodes(ledger.review_secret()))
        result = take_in(sheet, ledger.fetch_known(), now=at, tz=settings.timezone,
                         default_quota=settings.intake.default_quota,
                         last_sequence=ledger.last_serial(at.year), reviews=context,
                         unwritten=json.loads(ledger.meta(UNWRITTEN) or "{}"),
                         max_row_chars=settings.sheet.max_row_chars,
                         invitations=invitations.named(ledger, reply_ids(sheet)),
                         placements=PlacementContext(releases(ledger, placement_ids(sheet), settings.timezone),
                                                     settings.court.name))
    except PipelineError as exc:
        if not dry_run:
            ledger.audit(at, "pull", "failed", source.describe(), error=str(exc))
        raise
    summary = result.summary
    summary.warnings.extend(sheet.warnings)
    if dry_run:
        return summary
    with ledger.transaction():
        _record(ledger, result, at)
    saved = _write_back(source, sheet, result)
    try:
        with ledger.transaction():
            _note_write_back(ledger, source, result, saved, at)
            _note_unchanged(ledger, inputs, sheet, result, saved)
            _audit_done(ledger, source, summary, at)
    except sqlite3.Error as exc:       # everything is recorded and written; only this line of the log is not
        raise LedgerError(f"{settings.ledger.path}: 素材已记账、编号和状态已处理，但本轮的运行记录未能写入账本"
                          f"（{exc}）；请检查磁盘空间") from None
    if any(d.decision in POSTED_MARKS for d in result.decisions):
        channels.write_index(ledger, settings.mail.outbox)     # the office marked a channel posted
    return summary


# Why a draft named on the 刊发 tab is not published: its newest version's state, in words.
UNPUBLISHED = {"pending": "待审核", FAILED_CHECK: "未通过事实核对", "approved": "已通过审核，尚未发出",
               "rejected": "已退回", "withdrawn": "已撤回", "blocked": "含未遮蔽的个人信息，已被拦截",
               "superseded": "已被新版本取代"}


def releases(ledger: Ledger, ids: frozenset[str], tz: ZoneInfo) -> dict[str, Release]:
    """What the ledger knows of the drafts the 刊发 tab names (``ids``, any version): for each ID it knows, the
    versions of its draft that were published and their days (the newest first in ``Release.id``), or why none
    was."""
    versions: dict[str, list] = {}
    for row in ledger.versions_named(ids) if ids else ():
        versions.setdefault(row["base"], []).append(row)
    found = {}
    for row in (r for rows in versions.values() for r in rows if r["id"] in ids):
        rows = versions[row["base"]]
        published = [(r["id"], datetime.fromisoformat(r["published_at"]).astimezone(tz).date()
                      if r["published_at"] else None) for r in rows if r["state"] == "published"]
        if published:
            found[row["id"]] = Release(*published[-1], "已发布", tuple(published))
        else:
            state = effective_state(rows[-1]) if rows[-1]["state"] == "pending" else rows[-1]["state"]
            found[row["id"]] = Release("", None, UNPUBLISHED.get(state, state))
    return found


def _audit_done(ledger: Ledger, source: SheetSource, summary: PullSummary, at: datetime) -> None:
    ledger.audit(at, "pull", "done", source.describe(), rows=summary.rows,
                 accepted=summary.accepted, flagged=summary.flagged, new=summary.new,
                 changed=summary.changed, removed=summary.removed,
                 cells_written=summary.cells_written, warnings=summary.warnings,
                 waiting=summary.waiting_note)


# --- an unchanged workbook costs a hash ---------------------------------------------------------------

FINGERPRINT = "pull_fingerprint"     # the ledger's meta key: the last pull that found nothing to do, and its summary
_SUMMARY = tuple(f.name for f in dataclasses.fields(PullSummary) if f.name not in ("waiting", "waiting_note"))


def _inputs(settings: Settings, at: datetime, generation: int) -> dict[str, object]:
    """Everything a pull's outcome depends on besides the sheet: the program, the config, the day (rows are
    dated and invitations expire by it), and the ledger's state it compares against (its generation)."""
    return {"program": _program(), "settings": repr(settings), "day": at.date().isoformat(),
            "generation": generation}


def _digest(inputs: dict[str, object], sheet: SheetData) -> str:
    """The fingerprint of one pull's inputs: ``inputs`` and the sheet's version and warnings."""
    text = json.dumps({**inputs, "sheet": sheet.version, "warnings": list(sheet.warnings)}, ensure_ascii=False,
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _program() -> str:
    """The program's version and the text of its code: a fixed rule reads an unchanged workbook afresh."""
    package = Path(__file__).resolve().parents[1]
    code = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        code.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return code.hexdigest()


def _last_unchanged(ledger: Ledger) -> dict | None:
    """The last pull that found nothing to do, unless a write-back waits (the sheet then owes cells)."""
    recorded = ledger.meta(FINGERPRINT)
    if recorded is None or ledger.meta(WRITE_BACK_WAITING) is not None or ledger.meta(UNWRITTEN) is not None:
        return None
    return json.loads(recorded)


def _as_last_time(ctx: Context, source: SheetSource, last: dict) -> PullSummary:
    """The pull of an unchanged workbook: what the last one found, reported and recorded as a full pull would."""
    ledger, at = ctx.ledger, ctx.at
    summary = PullSummary(**{name: last["summary"][name] for name in _SUMMARY})
    log.info("%s 自上次读取以来没有变化，其他条件也未变：不再重新读取", source.describe())
    try:
        with ledger.transaction():
            ledger.row_errors_seen(at)
            _audit_done(ledger, source, summary, at)
    except sqlite3.Error as exc:
        raise LedgerError(f"{ctx.settings.ledger.path}: 工作簿未变，但本轮的运行记录未能写入账本（{exc}）；"
                          "请检查磁盘空间") from None
    return summary


def _note_unchanged(ledger: Ledger, inputs: dict[str, object], sheet: SheetData, result: IntakeResult,
                    saved: Saved | SourceError) -> None:
    """Keep this pull's fingerprint when it found nothing to do: no cell to write, nothing waiting, and not
    one write to what it compared against since it began (inside the pull's own "done" transaction)."""
    if (isinstance(saved, SourceError) or result.updates or ledger.generation() != inputs["generation"]
            or ledger.meta(WRITE_BACK_WAITING) is not None or ledger.meta(UNWRITTEN) is not None):
        ledger.delete_meta(FINGERPRINT)
        return
    summary = {name: getattr(result.summary, name) for name in _SUMMARY}
    ledger.set_meta(FINGERPRINT, json.dumps({"digest": _digest(inputs, sheet), "summary": summary},
                                            ensure_ascii=False))


def _record(ledger: Ledger, result: IntakeResult, at: datetime) -> None:
    """Everything one pull learnt, in the ledger (inside the caller's transaction)."""
    for taken in result.taken:
        if taken.change != "same":
            ledger.save_submission(taken, at)
            ledger.audit(at, "pull", taken.change, taken.id, row=taken.row,
                         version=taken.version, state=taken.state)
    ledger.mark_removed(result.removed, at)
    for submission_id in result.removed:
        ledger.audit(at, "pull", "removed", submission_id)
    changed = ledger.save_reference(result.teams, result.media, result.activities, result.figures, result.replies,
                                    result.placements)
    for name in changed:
        ledger.audit(at, "pull", "reference-updated", name)
    invitations.withdraw_stale_invitations(ledger, at)   # a visit moved or gone: its letter with it
    ledger.save_reviews(result.reviews, at)
    for decision in result.decisions:
        try:
            decisions.apply(ledger, decision.draft_id, decision.decision, decision.reviewer,
                            decision.comment, source="sheet", at=at)
        except UsageError as exc:   # e.g. a second 通过 row for a draft approved above
            ledger.audit(at, "review", "ignored", decision.draft_id, reason=str(exc))
    ledger.save_row_errors(result.errors, at)


def _write_back(source: SheetSource, sheet, result: IntakeResult) -> Saved | SourceError:
    """Write the owned cells; what was written, or why the sheet would not take them (the write-back waits)."""
    try:
        saved = source.save(sheet, result.updates)
    except SourceError as exc:
        result.summary.waiting, result.summary.cells_written, result.summary.restored = exc, 0, 0
        return exc
    result.summary.cells_written = saved.written
    result.summary.warnings.extend(saved.warnings)      # cells it may not write (Google Sheets protection), named
    return saved


def _note_write_back(ledger: Ledger, source: SheetSource, result: IntakeResult, saved: Saved | SourceError,
                     at: datetime) -> None:
    """Since when and why the write-back waits, and which IDs the sheet does not hold yet (inside the caller's
    transaction, with the pull's own record)."""
    summary, recorded = result.summary, ledger.meta(WRITE_BACK_WAITING)
    if isinstance(saved, SourceError):
        since = datetime.fromisoformat(json.loads(recorded)["since"]) if recorded else at
        summary.waiting_note = waiting_text(since, len(result.updates), saved)
        ledger.set_meta(WRITE_BACK_WAITING, json.dumps({"since": since.isoformat(), "reason": str(saved),
                                                        "cells": len(result.updates)}, ensure_ascii=False))
        _keep_unwritten(ledger, result.owed)
        ledger.audit(at, "pull", "write-back-waiting", source.describe(), cells=len(result.updates), error=str(saved))
        log.warning("编号和状态等待写回（自 %s 起）：%s", since.isoformat(timespec="minutes"), saved)
        return
    left_out = {(u.row, u.value) for u in saved.left_out}
    _keep_unwritten(ledger, {ident: owed for ident, owed in result.owed.items() if (owed["row"], ident) in left_out})
    if recorded is not None:
        ledger.delete_meta(WRITE_BACK_WAITING)
        ledger.audit(at, "pull", "write-back-done", source.describe(), cells=saved.written)


def _keep_unwritten(ledger: Ledger, owed: dict[str, dict[str, object]]) -> None:
    if owed:
        ledger.set_meta(UNWRITTEN, json.dumps(owed, ensure_ascii=False))
    else:
        ledger.delete_meta(UNWRITTEN)
