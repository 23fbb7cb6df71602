"""The office's word, applied: decisions on everything it reviews, and channels marked posted.

A decision comes from a 审核 row (judged first by ``review.judge``) or from
the command line (``approve``, ``reject``, ``posted``); both end here, inside
the caller's transaction, and both are refused for the one reason
``review.refusal`` gives, so the two paths can never disagree.

Each kind of reviewed item (``review.REVIEWED``) has its flow module here,
registered in :data:`FLOWS`: it says where its items stand (``standings``, ``standing`` for one),
sets the state an allowed decision gives (``set_state``), settles items whose
material moved on before anyone decides (``settle``), and says what happens
next (``decided``). A new reviewed artefact is one ``Reviewed`` entry and
one flow module.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from types import ModuleType

from ..core import normalize
from ..core.errors import UsageError
from ..core.model import CHANNELS, POSTED_MARKS
from ..ledger import Ledger
from ..plan.review import DRAFT, INVITATION, Standing, refusal, reviewed
from . import channels, invitations, publishing
from .context import Context
from .joblog import job

FLOWS: dict[str, ModuleType] = {DRAFT.prefix: publishing, INVITATION.prefix: invitations}


def apply(ledger: Ledger, item_id: str, decision: str, reviewer: str, comment: str, *, source: str,
          at: datetime) -> None:
    """Record one decision (raises :class:`UsageError` when it cannot be taken)."""
    if decision in POSTED_MARKS:
        mark_posted(ledger, item_id, POSTED_MARKS[decision], reviewer, source=source, at=at)
        return
    flow = FLOWS[reviewed(item_id).prefix]
    problem = refusal(item_id, flow.standing(ledger, item_id, at.date()), decision)
    if problem:
        raise UsageError(problem)
    state = "approved" if decision == "通过" else "rejected"
    flow.set_state(ledger, item_id, state, at, by=reviewer, reason=comment)
    ledger.save_decision(item_id, decision, reviewer, comment, source, at)
    ledger.audit(at, "review", state, item_id, reviewer=reviewer, source=source, comment=comment)


def states(ledger: Ledger, at: datetime, ids: Collection[str] | None = None) -> dict[str, Standing]:
    """Where every reviewed item (of ``ids``, when given: the IDs the 审核 tab names) stands, for judging
    审核 rows."""
    return {item_id: standing for flow in FLOWS.values()
            for item_id, standing in flow.standings(ledger, at.date(), ids).items()}


@job("review", fields=lambda ctx, item_id, decision, **_: {"item": item_id, "decision": decision})
def review(ctx: Context, item_id: str, decision: str, *, reviewer: str, comment: str = "",
           source: str = "cli") -> str:
    """``approve`` / ``reject`` from the command line (``source``: the command line and its OS account);
    returns what happens next, in Chinese."""
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    item_id = normalize.draft_id(item_id)
    flow = FLOWS[reviewed(item_id).prefix]
    flow.settle(ledger, at)
    with ledger.transaction():
        apply(ledger, item_id, decision, reviewer, comment, source=source, at=at)
    return flow.decided(settings, item_id, decision, reviewer, comment)


def ready(ledger: Ledger, ids: Collection[str] | None = None) -> frozenset[tuple[str, str]]:
    """The (draft ID, channel) versions the office can mark posted (of the drafts ``ids`` names, when given)."""
    rows = ledger.channel_versions() if ids is None else ledger.channel_versions_named(ids)
    return frozenset((row["draft_id"], row["channel"]) for row in rows)


def mark_posted(ledger: Ledger, draft_id: str, channel: str, by: str, *, source: str, at: datetime) -> None:
    """The office posted a channel's version of a release (inside the caller's transaction)."""
    label = CHANNELS[channel]
    versions = {row["channel"]: row for row in ledger.channel_versions(draft_id)}
    if ledger.draft(draft_id) is None:
        raise UsageError(f"草稿编号 {draft_id} 不存在")
    if channel not in versions:
        raise UsageError(f"{draft_id} 没有{label}版本（稿件尚未发布，或该渠道未启用）")
    if versions[channel]["posted_at"]:
        raise UsageError(f"{draft_id} 的{label}版本已于 {versions[channel]['posted_at'][:16].replace('T', ' ')} "
                         f"标记为已发（{versions[channel]['posted_by']}）")
    ledger.mark_posted(draft_id, channel, by, at)
    ledger.audit(at, "review", "posted", draft_id, channel=channel, by=by, source=source)


@job("posted", fields=lambda ctx, draft_id, channel, **_: {"item": draft_id, "channel": channel})
def posted(ctx: Context, draft_id: str, channel: str, *, by: str) -> tuple[str, str]:
    """``posted`` from the command line; returns the draft ID and the channel as stored."""
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    draft_id = normalize.draft_id(draft_id)
    try:
        channel = normalize.channel(channel)
    except normalize.Invalid as exc:
        raise UsageError(str(exc)) from None
    with ledger.transaction():
        mark_posted(ledger, draft_id, channel, by, source="cli", at=at)
    channels.write_index(ledger, settings.mail.outbox)
    return draft_id, channel
