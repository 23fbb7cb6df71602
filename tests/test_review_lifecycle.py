"""The one lifecycle of everything the office reviews (plan/review.py), pure: no workbook, no ledger —
but for the last test, which checks that every kind is kept in the ledger's one store.

The 审核 tab (``judge``) and the command line (``decisions.apply``) both refuse
a decision for the reason ``refusal`` gives; the end-to-end tests in
test_publishing, test_invitations and test_decisions run the two paths.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pipeline.core.model import Review
from pipeline.flows import decisions
from pipeline.ledger import Ledger
from pipeline.plan.review import DRAFT, FAILED_CHECK, INVITATION, REVIEWED, Standing, judge, refusal, reviewed

D, I = "D-2026-000003", "I-2026-000002"


def test_every_id_names_its_kind() -> None:
    assert reviewed(D) is DRAFT and reviewed(I) is INVITATION and reviewed("D-2026-000003-v2") is DRAFT
    assert len({kind.prefix for kind in REVIEWED}) == len(REVIEWED)


@pytest.mark.parametrize("item, standing, decision, reason", [
    (D, None, "通过", "草稿编号 D-2026-000003 不存在"),
    (I, None, "退回", "邀请函编号 I-2026-000002 不存在"),
    (D, Standing("pending"), "同意", "结论只能是“通过”或“退回”，不能是“同意”"),
    (D, Standing("superseded", newest="D-2026-000003-v2"), "通过", "D-2026-000003 已被新版本 D-2026-000003-v2 取代"),
    (D, Standing("withdrawn"), "退回", "稿件已撤回"),
    (D, Standing("published"), "通过", "D-2026-000003 已发布"),
    (D, Standing("blocked"), "通过", "已被拦截"),
    (D, Standing(FAILED_CHECK), "通过", "未通过事实核对，不能审核通过"),
    (D, Standing("approved"), "通过", "D-2026-000003 已经通过审核"),
    (I, Standing("sent", sent_at="2026-11-20 09:00"), "通过", "I-2026-000002 已于2026-11-20 09:00发给代表委员"),
    (I, Standing("expired", day="2026年11月20日"), "退回", "活动日期（2026年11月20日）已过，邀请函未发出，已作废"),
    (I, Standing("withdrawn", successor="I-2026-000005"), "通过", "邀请函已撤回，请审核新的邀请函 I-2026-000005"),
    (I, Standing("approved"), "通过", "I-2026-000002 已经通过审核"),
])
def test_a_decision_is_refused_for_the_one_reason_of_its_state(item, standing, decision, reason) -> None:
    assert reason in refusal(item, standing, decision)


@pytest.mark.parametrize("item, state, decision", [
    (D, "pending", "通过"), (D, "pending", "退回"), (D, FAILED_CHECK, "退回"), (D, "approved", "退回"),
    (D, "rejected", "通过"), (I, "pending", "通过"), (I, "approved", "退回"), (I, "rejected", "通过"),
])
def test_a_decision_open_in_its_state_is_allowed(item, state, decision) -> None:
    assert refusal(item, Standing(state), decision) is None


def test_the_review_tab_says_the_same_reason_the_command_line_gives() -> None:
    items = {D: Standing("superseded", newest="D-2026-000003-v2"), I: Standing("sent", sent_at="2026-11-20 09:00")}
    rows = [(2, Review(D, "通过", "符贤", "", "")), (3, Review(I, "退回", "符贤", "", ""))]
    verdicts = judge(rows, items, {"符贤"}, set())
    assert [v.status for v in verdicts] == [f"无效：{refusal(D, items[D], '通过')}",
                                            f"无效：{refusal(I, items[I], '退回')}"]
    assert not any(v.apply for v in verdicts)


def test_every_reviewed_kind_is_kept_in_the_one_store_of_the_ledger(tmp_path) -> None:
    """A kind's entry names the table its items live in; the store numbers, finds and lists them alike."""
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        for kind in REVIEWED:
            columns = {row["name"] for row in ledger.db.execute(f"PRAGMA table_info({kind.table})")}
            assert {"id", "year", "serial", "state"} <= columns, kind.table
            assert ledger.last_reviewed_serial(kind, 2026) == 0 and ledger.reviewed_items(kind) == []
            assert kind.prefix in decisions.FLOWS                    # and a flow module decides on it
        ledger.save_invitation(invitation_id="I-2026-000007", day=date(2026, 12, 3),
                               name="代表委员看执行", subject="邀请函", text="", html="",
                               at=datetime(2026, 11, 26, 10))
        assert ledger.last_reviewed_serial(INVITATION, 2026) == 7 and ledger.last_reviewed_serial(DRAFT, 2026) == 0
        assert [row["id"] for row in ledger.reviewed_items(INVITATION, "pending")] == ["I-2026-000007"]
        assert ledger.reviewed_item(INVITATION, "I-2026-000007")["state"] == "pending"
