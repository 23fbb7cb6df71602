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


def judge(rows: list[tuple[int, Review]], drafts: dict[str, tuple[str, str]], reviewers: set[str],
          seen: set[tuple[str, str, str, str]], ready: frozenset[tuple[str, str]] = frozenset(),
          codes: ReviewCodes | None = None) -> list[Verdict]:
    """Judge every 审核 row.

    ``drafts`` maps a draft or invitation ID → (state, newest version's ID);
    ``ready`` holds the (draft ID, channel) versions written for the office to post;
    ``codes`` the 审核码 each ID's mail carries (a row counts only with its item's code).
    """
    verdicts = []
    for row, review in rows:
        key = (review.draft_id, review.decision, review.reviewer, review.comment)
        state, newest = drafts.get(review.draft_id, ("", ""))
        if review.reviewer not in reviewers:
            status, apply = f"无效：{review.reviewer} 不在办公室审核人名单中", False
        elif not state:
            what = "邀请函编号" if is_invitation(review.draft_id) else "草稿编号"
            status, apply = f"无效：{what} {review.draft_id} 不存在", False
        elif key in seen:
            status, apply = f"已生效：{review.decision}", False
        elif codes is not None and typed_code(review.code) != codes.get(review.draft_id):
            what = "缺少审核码" if not review.code.strip() else "审核码不对"
            status, apply = f"无效：{what}（见该{'邀请函' if is_invitation(review.draft_id) else '稿件'}的审核邮件）", False
        else:
            problem = (_posting_problem(review, state, ready) if review.decision in POSTED_MARKS
                       else _verdict_problem(review.draft_id, state, newest, review.decision))
            status, apply = (f"无效：{problem}", False) if problem else (f"已生效：{review.decision}", True)
        verdicts.append(Verdict(row, review, status, apply))
    return verdicts


def is_invitation(item_id: str) -> bool:
    return item_id.startswith("I-")


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


def _verdict_problem(item_id: str, state: str, newest: str, decision: str = "") -> str | None:
    """Why 通过/退回 cannot be taken on a draft or an invitation in ``state``, as the 审核 tab says it."""
    if state == FAILED_CHECK and decision == "通过":
        return "稿件未通过事实核对，不能通过；请按草稿邮件顶部所列修改素材或模板，系统将生成新版本"
    if is_invitation(item_id):
        return {"withdrawn": "活动已删除或修改，邀请函已撤回", "expired": "活动日期已过，邀请函未发出",
                "sent": "邀请函已发出"}.get(state)
    return {"superseded": f"该稿件已更新为 {newest}，请审核新版本",
            "withdrawn": "素材已删除、需补正或不可公开，稿件已撤回",
            "blocked": "稿件含未遮蔽的个人信息，已被拦截", "published": "稿件已发布"}.get(state)


def _posting_problem(review: Review, state: str, ready: frozenset[tuple[str, str]]) -> str | None:
    channel = POSTED_MARKS[review.decision]
    label = CHANNELS[channel]
    if is_invitation(review.draft_id) or state != "published":
        return f"{review.draft_id} 尚未发布，没有{label}版本可发"
    if (review.draft_id, channel) not in ready:
        return f"{review.draft_id} 没有{label}版本（该渠道未启用）"
    return None


def check_decision(state: str | None, draft_id: str, decision: str, newest: str = "") -> str | None:
    """Why ``decision`` cannot be taken on a draft in ``state`` (None when it can)."""
    if state is None:
        return f"草稿编号 {draft_id} 不存在"
    if state == "superseded":
        return f"{draft_id} 已被新版本 {newest} 取代，请审核新版本"
    if state == "withdrawn":
        return f"{draft_id} 的素材已删除、需补正或不可公开，稿件已撤回"
    if state == "published":
        return f"{draft_id} 已发布"
    if state == "blocked":
        return f"{draft_id} 含未遮蔽的个人信息，已被拦截；请修改素材后重新生成稿件"
    if decision == "通过" and state == FAILED_CHECK:
        return (f"{draft_id} 未通过事实核对，不能审核通过：请按草稿邮件顶部所列的问题修改素材（或模板），"
                "系统将生成新版本供审核")
    if decision == "通过" and state == "approved":
        return f"{draft_id} 已经通过审核"
    return None
