"""Who may approve what: the office's decisions, and only the office's.

Approval comes from two places: the command line (``approve``/``reject``,
run by whoever operates the server) and the 审核 tab, where a row counts only
when its 审核人 is an office member listed in the config. Nothing else —
状态 typed into 素材, an unlisted reviewer, an unknown or outdated draft ID —
approves anything; such 审核 rows get a visible error instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from ..core.model import CHANNELS, POSTED_MARKS, Review


@dataclass(frozen=True)
class Verdict:
    row: int
    review: Review
    status: str          # what 状态 shows beside the row
    apply: bool          # a new, valid decision to record now


def review_code(secret: str, item_id: str) -> str:
    """The six-character code a draft's or an invitation's mail to the office carries (审核码).

    Derived from the item's ID (its version included: D-2026-000045-v2) with a secret only the pipeline
    keeps (in the ledger): anyone can type a listed reviewer's name into the 审核 tab, but only someone
    who read the office's mail knows the code. Base32: letters and 2-7, no 0, 1 or 8.
    """
    digest = hmac.new(secret.encode(), item_id.upper().encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:6]


@dataclass(frozen=True)
class ReviewCodes:
    """The 审核码 of any draft or invitation, worked out when a 审核 row asks (not for the whole history)."""

    secret: str

    def get(self, item_id: str) -> str:
        return review_code(self.secret, item_id)


def typed_code(value: str) -> str:
    """A code as people type it: any case, spaces or dashes inside, 0/1/8 for O/I/B (the code has no
    0, 1 or 8, so a reader who took O for 0 still typed the right code)."""
    return "".join(c for c in value.upper() if c.isalnum()).translate(str.maketrans("018", "OIB"))


def judge(rows: list[tuple[int, Review]], items: dict[str, Standing], reviewers: set[str],
          seen: set[tuple[str, str, str, str]], ready: frozenset[tuple[str, str]] = frozenset(),
          codes: ReviewCodes | None = None) -> list[Verdict]:
    """Judge every 审核 row.

    ``items`` maps a draft's or invitation's ID → where it stands;
    ``ready`` holds the (draft ID, channel) versions written for the office to post;
    ``codes`` the 审核码 each ID's mail carries (a row counts only with its item's code).
    """
    verdicts = []
    for row, review in rows:
        key = (review.draft_id, review.decision, review.reviewer, review.comment)
        standing = items.get(review.draft_id)
        if review.reviewer not in reviewers:
            status, apply = f"无效：{review.reviewer} 不在办公室审核人名单中", False
        elif standing is None:
            status, apply = f"无效：{refusal(review.draft_id, None, '通过')}", False
        elif key in seen:
            status, apply = f"已生效：{review.decision}", False
        elif codes is not None and typed_code(review.code) != codes.get(review.draft_id):
            what = "缺少审核码" if not review.code.strip() else "审核码不对"
            status, apply = f"无效：{what}（见该{'邀请函' if is_invitation(review.draft_id) else '稿件'}的审核邮件）", False
        else:
            problem = (_posting_problem(review, standing.state, ready) if review.decision in POSTED_MARKS
                       else refusal(review.draft_id, standing, review.decision))
            status, apply = (f"无效：{problem}", False) if problem else (f"已生效：{review.decision}", True)
        verdicts.append(Verdict(row, review, status, apply))
    return verdicts


def is_invitation(item_id: str) -> bool:
    return item_id.startswith("I-")


# --- the one lifecycle of everything the office reviews --------------------------------------------

DECISIONS = ("通过", "退回")


@dataclass(frozen=True)
class Standing:
    """Where one reviewed item stands, as far as a decision on it is concerned (its flow works it out)."""

    state: str              # pending | approved | rejected | … (FAILED_CHECK for a draft that fails the check)
    newest: str = ""        # drafts: the newest version's ID
    sent_at: str = ""       # invitations: when it went to the deputies
    day: str = ""           # invitations: the visit's day, as the office reads it
    successor: str = ""     # invitations: the one drafted for the changed visit


@dataclass(frozen=True)
class Reviewed:
    """One kind of item the office reviews: its ID prefix, its name, and why no decision can be taken on it
    in a state (``{id}`` and the :class:`Standing`'s fields fill the words)."""

    prefix: str
    noun: str
    id_noun: str
    table: str                  # where the ledger keeps its items (ledger/reviewed.py)
    closed: dict[str, str]


DRAFT = Reviewed("D-", "稿件", "草稿编号", "drafts", {
    "superseded": "{id} 已被新版本 {newest} 取代，请审核新版本",
    "withdrawn": "{id} 的素材已删除、需补正或不可公开，稿件已撤回",
    "published": "{id} 已发布",
    "blocked": "{id} 含未遮蔽的个人信息，已被拦截；请修改素材后重新生成稿件",
})
INVITATION = Reviewed("I-", "邀请函", "邀请函编号", "invitations", {
    "sent": "{id} 已于{sent_at}发给代表委员",
    "expired": "{id} 的活动日期（{day}）已过，邀请函未发出，已作废",
    "withdrawn": "{id} 对应的活动已从“活动”页删除，或日期、名称已修改，邀请函已撤回{newer}",
})
REVIEWED = (DRAFT, INVITATION)


def reviewed(item_id: str) -> Reviewed:
    """The kind of item an ID names (a draft unless another kind's prefix says otherwise)."""
    return next((kind for kind in REVIEWED if item_id.startswith(kind.prefix)), DRAFT)


def refusal(item_id: str, standing: Standing | None, decision: str) -> str | None:
    """Why the office's ``decision`` cannot be taken on ``item_id`` now (None when it can): the one answer
    the 审核 tab and the command line both give."""
    kind = reviewed(item_id)
    if decision not in DECISIONS:
        return f"结论只能是“通过”或“退回”，不能是“{decision}”"
    if standing is None:
        return f"{kind.id_noun} {item_id} 不存在"
    closed = kind.closed.get(standing.state)
    if closed:
        newer = f"，请审核新的邀请函 {standing.successor}" if standing.successor else ""
        return closed.format(id=item_id, newest=standing.newest, sent_at=standing.sent_at, day=standing.day,
                             newer=newer)
    if decision == "通过" and standing.state == FAILED_CHECK:
        return (f"{item_id} 未通过事实核对，不能审核通过：请按草稿邮件顶部所列的问题修改素材（或模板），"
                "系统将生成新版本供审核")
    if decision == "通过" and standing.state == "approved":
        return f"{item_id} 已经通过审核"
    return None


# A pending draft whose release fails the fact check (compose.py): it may be sent back, not approved.
FAILED_CHECK = "failed_check"


def draft_review(row) -> dict:
    """The office's review notes stored with a draft (see compose.py): names, checks, left-out notes."""
    try:
        return json.loads(row["review"] or "{}")
    except (IndexError, KeyError, ValueError):
        return {}


def effective_state(row) -> str:
    """A draft's state for judging a decision and for telling the office: a pending draft whose
    release fails the fact check is :data:`FAILED_CHECK`."""
    review = draft_review(row)
    if row["state"] == "pending" and (review.get("checks") or "checks" not in review):
        return FAILED_CHECK          # failed, or drafted before drafts were checked: made again first
    return row["state"]


def _posting_problem(review: Review, state: str, ready: frozenset[tuple[str, str]]) -> str | None:
    channel = POSTED_MARKS[review.decision]
    label = CHANNELS[channel]
    if is_invitation(review.draft_id) or state != "published":
        return f"{review.draft_id} 尚未发布，没有{label}版本可发"
    if (review.draft_id, channel) not in ready:
        return f"{review.draft_id} 没有{label}版本（该渠道未启用）"
    return None
