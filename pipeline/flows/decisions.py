"""The office's word, applied: verdicts on drafts and invitations, and channels marked posted.

It comes from a 审核 row (judged first by ``review.judge``) or from the
command line (``approve``, ``reject``, ``posted``); both end here, inside the
caller's transaction, so the two paths can never disagree.
"""

from __future__ import annotations

from datetime import datetime

from ..core import clock, normalize
from ..core.config import Settings
from ..core.errors import UsageError
from ..core.model import CHANNELS, POSTED_MARKS
from ..ledger import Ledger
from ..plan.review import is_invitation
from . import channels, invitations
from .publishing import decide


def apply(ledger: Ledger, item_id: str, decision: str, reviewer: str, comment: str, *, source: str,
          at: datetime) -> None:
    """Record one decision (raises :class:`UsageError` when it cannot be taken)."""
    if decision in POSTED_MARKS:
        mark_posted(ledger, item_id, POSTED_MARKS[decision], reviewer, source=source, at=at)
    elif is_invitation(item_id):
        invitations.decide_invitation(ledger, item_id, decision, reviewer, comment, source=source, at=at)
    else:
        decide(ledger, item_id, decision, reviewer, comment, source=source, at=at)


def states(ledger: Ledger) -> dict[str, tuple[str, str]]:
    """Every draft's and invitation's state, for judging 审核 rows."""
    return {**ledger.draft_states(), **invitations.invitation_states(ledger)}


def ready(ledger: Ledger) -> frozenset[tuple[str, str]]:
    """The (draft ID, channel) versions the office can mark posted."""
    return frozenset((row["draft_id"], row["channel"]) for row in ledger.channel_versions())


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


def posted(settings: Settings, draft_id: str, channel: str, *, by: str) -> tuple[str, str]:
    """``posted`` from the command line; returns the draft ID and the channel as stored."""
    at = clock.now(settings.timezone)
    draft_id = normalize.draft_id(draft_id)
    try:
        channel = normalize.channel(channel)
    except normalize.Invalid as exc:
        raise UsageError(str(exc)) from None
    with Ledger.of(settings.ledger) as ledger:
        with ledger.transaction():
            mark_posted(ledger, draft_id, channel, by, source="cli", at=at)
        channels.write_index(ledger, settings.mail.outbox)
    return draft_id, channel
