"""The jobs: each reads the sheet or the ledger, writes the ledger, and is idempotent.

``pull`` takes the sheet in; ``status`` reports the week; ``check`` applies
the work plan; ``digest`` and ``remind`` mail the office and the teams. Each
is a small composition of fetch → pure stage → save.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..core import clock
from ..core.calendar import Week
from ..core.config import Settings
from ..core.errors import LedgerError, PipelineError, SourceError, UsageError
from ..core.grid import Saved
from ..core.headers import wanted_title
from ..core.model import POSTED_MARKS, PullSummary, TeamWeek
from ..intake.tabs import IntakeResult, ReviewContext, take_in
from ..ledger import Ledger
from ..mail.message import Outgoing, address
from ..mail.transport import Transport
from ..plan.obligations import Plan
from ..plan.review import ReviewCodes
from ..plan.rules import Finding, evaluate
from ..sources import SheetSource, open_source
from ..texts.notices import channel_board, digest_context, reminder_context
from ..texts.render import render
from . import channels, decisions, invitations
from .dispatch import MailRun, flush, queue
from .publishing import slot_gaps

log = logging.getLogger(__name__)

# Failed deliveries stay in the digest this long after their last attempt;
# an unknown outcome stays until someone resends it.
TROUBLE_WINDOW = timedelta(days=7)


def pull(settings: Settings, *, dry_run: bool = False, source: SheetSource | None = None) -> PullSummary:
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
    """
    at = clock.now(settings.timezone)
    source = source or open_source(settings)
    with Ledger.of(settings.ledger) as ledger:
        try:
            sheet = source.fetch(wanted_title)
            context = ReviewContext(items=decisions.states(ledger, at), reviewers=frozenset(settings.review.reviewers),
                                    seen=frozenset(ledger.seen_reviews()), ready=decisions.ready(ledger),
                                    codes=ReviewCodes(ledger.review_secret()))
            result = take_in(sheet, ledger.fetch_known(), now=at, tz=settings.timezone,
                             default_quota=settings.intake.default_quota,
                             last_sequence=ledger.last_serial(at.year), reviews=context,
                             unwritten=json.loads(ledger.meta(UNWRITTEN) or "{}"),
                             max_row_chars=settings.sheet.max_row_chars)
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
                ledger.audit(at, "pull", "done", source.describe(), rows=summary.rows,
                             accepted=summary.accepted, flagged=summary.flagged, new=summary.new,
                             changed=summary.changed, removed=summary.removed,
                             cells_written=summary.cells_written, warnings=summary.warnings,
                             waiting=summary.waiting_note)
        except sqlite3.Error as exc:       # everything is recorded and written; only this line of the log is not
            raise LedgerError(f"{settings.ledger.path}: 素材已记账、编号和状态已处理，但本轮的运行记录未能写入账本"
                              f"（{exc}）；请检查磁盘空间") from None
        if any(d.decision in POSTED_MARKS for d in result.decisions):
            channels.write_index(ledger, settings.mail.outbox)     # the office marked a channel posted
    return summary


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
    changed = ledger.save_reference(result.teams, result.media, result.activities)
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


WRITE_BACK_WAITING = "writeback_waiting"     # the ledger's meta keys: since when and why the write-back waits,
UNWRITTEN = "unwritten_ids"                  # and the IDs not in the sheet yet, with their keys and rows


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
        log.warning("write-back waiting since %s: %s", since.isoformat(timespec="minutes"), saved)
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


def waiting_note(ledger: Ledger) -> str:
    """The office's line about a write-back that waits, or ``""``."""
    recorded = ledger.meta(WRITE_BACK_WAITING)
    if not recorded:
        return ""
    waiting = json.loads(recorded)
    return waiting_text(datetime.fromisoformat(waiting["since"]), int(waiting.get("cells", 0)), waiting["reason"])


def waiting_text(since: datetime, cells: int, reason: object) -> str:
    """What is done, what is not, what happens next, when the write-back waits."""
    return (f"编号和状态尚未写回工作簿（自 {since:%m月%d日 %H:%M} 起等待，待写 {cells} 格）：{reason}。"
            "读到的素材已记账，定时任务照常起草稿件；写回恢复后，各行写上记账时给的编号，期间的修改不会被覆盖")


@dataclass
class WeekStatus:
    """What ``status`` shows: this ISO week per team and the latest row errors."""

    week: Week
    teams: list[TeamWeek]
    errors: list[dict[str, object]]
    error_count: int
    last_pull: dict[str, object] | None
    generated_at: datetime
    drafts: list[dict[str, object]] = field(default_factory=list)       # pending or approved
    deliveries: dict[str, int] = field(default_factory=dict)            # state -> count
    troubles: list[dict[str, object]] = field(default_factory=list)     # not delivered
    invitations: list[dict[str, object]] = field(default_factory=list)  # pending or approved
    channels: list[dict[str, object]] = field(default_factory=list)     # releases with a version to post
    waiting: str = ""                                                   # the write-back waits: since when, why


def status(settings: Settings, *, error_limit: int = 20) -> WeekStatus:
    """This ISO week (in the configured zone) per team, and the latest row errors."""
    at = clock.now(settings.timezone)
    week = Week.of(at)
    with Ledger.of(settings.ledger) as ledger:
        errors = [dict(r) for r in ledger.row_errors()]
        last = next((dict(r) for r in ledger.audit_log(200) if r["job"] == "pull"
                     and r["action"] in ("done", "failed")), None)
        teams = ledger.team_weeks(week.key)
        drafts = [dict(d) for d in ledger.drafts("pending", "approved")]
        deliveries = ledger.delivery_counts()
        troubles = [dict(t) for t in ledger.troubled_deliveries(at - TROUBLE_WINDOW)]
        letters = [dict(i) for i in ledger.invitations("pending", "approved")]
        board = [r for r in _channel_board(ledger, at) if r["open"]]
        waiting = waiting_note(ledger)
    return WeekStatus(week=week, teams=teams, errors=errors[:error_limit],
                      error_count=len(errors), last_pull=last, generated_at=at, drafts=drafts, waiting=waiting,
                      deliveries=deliveries, troubles=troubles, invitations=letters, channels=board)


# --- the plan's obligations, the digest and the reminders ---------------------

def _findings(settings: Settings, ledger: Ledger, at: datetime) -> list[Finding]:
    week = Week.of(at)
    return evaluate(at, teams=ledger.teams(), counts=ledger.team_weeks(week.key),
                    published_kinds=ledger.published_kinds(*week.bounds(at.tzinfo)),
                    activities=ledger.activities(), plan=Plan.of(settings))


def check(settings: Settings) -> list[Finding]:
    """Every obligation of the work plan not (yet) met this week, month and year."""
    at = clock.now(settings.timezone)
    with Ledger.of(settings.ledger) as ledger:
        return _findings(settings, ledger, at)


def digest(settings: Settings, *, force: bool = False, dry_run: bool = False,
           transport: Transport | None = None) -> MailRun:
    """The office's daily digest, once a day (``force`` sends another), to config addresses only."""
    at = clock.now(settings.timezone)
    day = at.date().isoformat()
    key = f"digest/{day}" + (f"/{at:%H%M%S}" if force else "")
    with Ledger.of(settings.ledger) as ledger:
        if ledger.has_message(key) and not dry_run:
            return MailRun(skipped=f"今天（{day}）的简报已经发送过；如需再发一份，加 --force",
                           report=flush(settings, ledger, at=at, transport=transport))
        last = ledger.last_message("digest")
        since = datetime.fromisoformat(last["created_at"]) if last else None
        pulled = ledger.last_audit("pull", "done")
        sheet_warnings = json.loads(pulled["detail"]).get("warnings", []) if pulled else []
        if note := waiting_note(ledger):
            sheet_warnings = [note, *sheet_warnings]
        findings = _findings(settings, ledger, at)
        week = Week.of(at).key
        plan = Plan.of(settings)
        context = digest_context(
            now=at, court=settings.court.as_context(), teams=ledger.team_weeks(week), findings=findings,
            new_versions=ledger.versions_since(since), row_errors=ledger.row_errors(),
            troubles=ledger.troubled_deliveries(at - TROUBLE_WINDOW), activities=ledger.activities(),
            plan=plan, since=since, exempt=not plan.weekly(Week.of(at)), slot_gaps=slot_gaps(ledger, at, plan),
            waiting=ledger.drafts("pending", "approved"), job_failures=ledger.failed_runs(since),
            sheet_warnings=sheet_warnings, channels=_channel_board(ledger, at),
            invitations=ledger.invitations("pending", "approved"))
        rendered = render("digest", context)
        items = [Outgoing(key, "digest", addr, rendered.subject, rendered.text, rendered.html, name=name)
                 for name, addr in map(address, settings.mail.office)]
        if dry_run:
            return MailRun(previews=items)
        queued = queue(ledger, items, period=day, at=at)
        return MailRun(queued=queued, report=flush(settings, ledger, at=at, transport=transport))


def _channel_board(ledger: Ledger, at: datetime) -> list[dict[str, object]]:
    """Releases with a channel version still to post, or posted in the last week."""
    network = {row["key"].removeprefix("network/"): row["state"] for row in ledger.deliveries("network/")}
    return channel_board(ledger.unposted_or_recent(at - TROUBLE_WINDOW), network)


def remind(settings: Settings, *, dry_run: bool = False, transport: Transport | None = None) -> MailRun:
    """One reminder per team behind its quota, once per team per week; never to a team on track."""
    at = clock.now(settings.timezone)
    week = Week.of(at).key
    with Ledger.of(settings.ledger) as ledger:
        if not Plan.of(settings).weekly(Week.of(at)):
            return MailRun(skipped=f"{week} 为豁免周，不发送催报提醒",
                           report=None if dry_run else flush(settings, ledger, at=at, transport=transport))
        leaders = {t.name: t for t in ledger.teams()}
        errors = [e for e in ledger.row_errors() if e["tab_key"] == "submissions" and e["week"] == week]
        items = []
        for standing in ledger.team_weeks(week):
            team = leaders[standing.team]
            if not standing.short or not team.email:
                continue  # on track, or no usable address: the digest reports the latter
            key = f"reminder/{week}/{team.name}"
            if ledger.has_message(key) and not dry_run:
                continue
            context = reminder_context(now=at, court=settings.court.as_context(), team=standing, leader=team.leader,
                                       row_errors=[e for e in errors if e["team"] == team.name])
            rendered = render("reminder", context)
            items.append(Outgoing(key, "reminder", team.email, rendered.subject, rendered.text, rendered.html,
                                  name=team.leader))
        if dry_run:
            return MailRun(previews=items)
        queued = queue(ledger, items, period=week, at=at)
        return MailRun(queued=queued, report=flush(settings, ledger, at=at, transport=transport))
