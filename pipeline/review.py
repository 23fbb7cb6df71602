"""Who may approve what: the office's decisions, and only the office's.

Approval comes from two places: the command line (``approve``/``reject``,
run by whoever operates the server) and the 审核 tab, where a row counts only
when its 审核人 is an office member listed in the config. Nothing else —
状态 typed into 素材, an unlisted reviewer, an unknown or outdated draft ID —
approves anything; such 审核 rows get a visible error instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Review


@dataclass(frozen=True)
class Verdict:
    row: int
    review: Review
    status: str          # what 状态 shows beside the row
    apply: bool          # a new, valid decision to record now


def judge(rows: list[tuple[int, Review]], drafts: dict[str, tuple[str, str]], reviewers: set[str],
          seen: set[tuple[str, str, str, str]]) -> list[Verdict]:
    """Judge every 审核 row; ``drafts`` maps draft ID → (state, newest version's ID)."""
    verdicts = []
    for row, review in rows:
        key = (review.draft_id, review.decision, review.reviewer, review.comment)
        state, newest = drafts.get(review.draft_id, ("", ""))
        if review.reviewer not in reviewers:
            status, apply = f"无效：{review.reviewer} 不在办公室审核人名单中", False
        elif not state:
            status, apply = f"无效：草稿编号 {review.draft_id} 不存在", False
        elif key in seen:
            status, apply = f"已生效：{review.decision}", False
        elif state == "superseded":
            status, apply = f"无效：该稿件已更新为 {newest}，请审核新版本", False
        elif state == "withdrawn":
            status, apply = "无效：素材已删除、需补正或不可公开，稿件已撤回", False
        elif state == "blocked":
            status, apply = "无效：稿件含未遮蔽的个人信息，已被拦截", False
        elif state == "published":
            status, apply = "无效：稿件已发布", False
        else:
            status, apply = f"已生效：{review.decision}", True
        verdicts.append(Verdict(row, review, status, apply))
    return verdicts


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
    if decision == "通过" and state == "approved":
        return f"{draft_id} 已经通过审核"
    return None
