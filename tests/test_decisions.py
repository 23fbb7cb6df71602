"""The office's word on the 审核 tab and the command line: channels marked posted, shown in the digest.

A release is published through the public jobs (a real workbook, ``pulling.pull``,
``publishing.draft``/``review``/``publish`` into the outbox); the office then
marks each channel's version posted, by a 审核 row or by ``python run.py posted``.
"""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from conftest import Workspace, material, run_job

from pipeline.core.layout import REVIEWS, SUBMISSIONS
from pipeline.flows import decisions, publishing, pulling, week
from pipeline.ledger import Ledger

FIRST = "D-2026-000001"
MEDIA = [{"outlet": "《法制时报》", "contact": "张编辑", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是"}]


def published(ws: Workspace, reviews: list[dict[str, Any]] = ()) -> None:
    """One release drafted, approved and published; then the workbook holds ``reviews``."""
    ws.make_workbook([material()], media=MEDIA)
    run_job(ws.settings, pulling.pull)
    run_job(ws.settings, publishing.draft)
    run_job(ws.settings, decisions.review, FIRST, "通过", reviewer="符贤")
    run_job(ws.settings, publishing.publish)
    if reviews:                   # each with the 审核码 of its item's mail, as the office types it
        reviews = [{"code": ws.review_code(r["draft_id"]), **r} for r in reviews]
        ws.make_workbook([material()], media=MEDIA, reviews=list(reviews))
        run_job(ws.settings, pulling.pull)


def posted(ws: Workspace) -> dict[str, tuple[str | None, str | None]]:
    with Ledger(ws.ledger) as ledger:
        return {r["channel"]: (r["posted_at"], r["posted_by"]) for r in ledger.channel_versions(FIRST)}


def status_of(ws: Workspace, draft_id: str) -> str:
    return next(r["status"] for r in ws.rows(REVIEWS) if r["draft_id"] == draft_id)


def digest_text(ws: Workspace) -> str:
    [preview, *_] = run_job(ws.settings, week.digest, dry_run=True).previews
    return preview.text


def set_channel(ws: Workspace, key: str, value: str) -> None:
    text = ws.config_path.read_text(encoding="utf-8")
    assert f"\n{key} = true" in text
    ws.config_path.write_text(text.replace(f"\n{key} = true", f"\n{key} = {value}", 1), encoding="utf-8")


def test_a_review_row_marks_a_channel_posted(workspace) -> None:
    published(workspace, [{"draft_id": FIRST, "decision": "公众号已发布", "reviewer": "高琼芳"}])

    marks = posted(workspace)
    assert marks["wechat"][1] == "高琼芳" and marks["wechat"][0].startswith("2026-11-26")
    assert marks["weibo"] == (None, None) and marks["website"] == (None, None)
    assert status_of(workspace, FIRST) == "已生效：已发微信"


def test_the_digest_shows_each_release_s_channels_ready_and_posted(workspace) -> None:
    published(workspace, [{"draft_id": FIRST, "decision": "已发微博", "reviewer": "符贤"}])

    text = digest_text(workspace)

    line = next(line for line in text.splitlines() if line.startswith(f"- {FIRST}"))
    assert "微信待发布" in line and "网站待发布" in line and "微博已发（符贤" in line
    assert "信息网" in line
    assert "python run.py posted" in text


def test_a_posted_mark_on_an_unpublished_draft_is_refused_in_the_sheet(workspace) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    workspace.make_workbook([material()], media=MEDIA,
                            reviews=[{"draft_id": FIRST, "decision": "已发网站", "reviewer": "符贤",
                                      "code": workspace.review_code(FIRST)}])

    run_job(workspace.settings, pulling.pull)

    assert status_of(workspace, FIRST) == f"无效：{FIRST} 尚未发布，没有网站版本可发"
    assert posted(workspace) == {}


def test_a_posted_mark_for_a_channel_switched_off_is_refused(workspace) -> None:
    set_channel(workspace, "website", "false")
    published(workspace, [{"draft_id": FIRST, "decision": "已发网站", "reviewer": "符贤"}])

    assert status_of(workspace, FIRST) == f"无效：{FIRST} 没有网站版本（该渠道未启用）"
    assert "website" not in posted(workspace)


def test_a_posted_mark_by_someone_not_on_the_reviewers_list_counts_for_nothing(workspace) -> None:
    published(workspace, [{"draft_id": FIRST, "decision": "已发微信", "reviewer": "张三"}])

    assert status_of(workspace, FIRST) == "无效：张三 不在办公室审核人名单中"
    assert posted(workspace)["wechat"] == (None, None)


def test_the_posted_command_marks_once_and_says_when_it_was_marked_before(workspace) -> None:
    published(workspace)

    first = workspace.cli("posted", FIRST.lower(), "--channel", "weibo", "--by", "王小露")
    again = workspace.cli("posted", FIRST, "--channel", "微博")

    assert first.returncode == 0, first.stderr
    assert f"{FIRST} 的微博版本已发布（王小露）" in first.stdout
    assert posted(workspace)["weibo"][1] == "王小露"
    assert again.returncode == 2
    assert "已于 2026-11-26 10:00 标记为已发（王小露）" in again.stderr


@pytest.mark.parametrize("args, message", [
    (("--channel", "抖音"), "渠道无法识别：抖音"),
    (("--channel", "微信", "--by", "符贤"), "没有微信版本"),
])
def test_the_posted_command_refuses_what_cannot_be_marked(workspace, args, message) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)           # drafted, not published: no channel versions yet

    result = workspace.cli("posted", FIRST, *args)

    assert result.returncode == 2
    assert message in result.stderr


# --- approvals nobody can forge: the 审核码 ------------------------------------------------------

@pytest.mark.parametrize("code, says", [("", "无效：缺少审核码"), ("ABCDEF", "无效：审核码不对")],
                         ids=["no code", "a wrong code"])
def test_a_review_row_with_a_listed_name_but_no_right_code_does_nothing_and_is_listed(
        workspace, code: str, says: str) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    workspace.make_workbook([material()], media=MEDIA,
                            reviews=[{"draft_id": FIRST, "decision": "通过", "reviewer": "符贤", "code": code}])

    run_job(workspace.settings, pulling.pull)

    assert status_of(workspace, FIRST).startswith(says)
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draft(FIRST)["state"] == "pending" and ledger.decisions(FIRST) == []
    assert says in digest_text(workspace)


def test_the_code_from_the_draft_mail_approves_however_it_is_typed(workspace) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    [mail] = workspace.settings.mail.outbox.glob(f"*-draft-{FIRST}-*.eml")
    text = BytesParser(policy=policy.default).parsebytes(mail.read_bytes()).get_body(("plain",)).get_content()
    code = re.search(r"审核码：(\w{6})", text).group(1)
    typed = f" {code[:3].lower()} {code[3:]} ".replace("O", "0").replace("I", "1")   # as a reader may take them
    workspace.make_workbook([material()], media=MEDIA,
                            reviews=[{"draft_id": FIRST, "decision": "通过", "reviewer": "符贤", "code": typed}])

    run_job(workspace.settings, pulling.pull)

    assert status_of(workspace, FIRST) == "已生效：通过"
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draft(FIRST)["state"] == "approved"


def test_a_code_belongs_to_one_draft_version(workspace) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    workspace.edit(SUBMISSIONS, 2, outcome="当场履行30万元。")
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)                     # D-2026-000001-v2
    workspace.make_workbook([material(outcome="当场履行30万元。")], media=MEDIA,
                            reviews=[{"draft_id": f"{FIRST}-v2", "decision": "通过", "reviewer": "符贤",
                                      "code": workspace.review_code(FIRST)}])
    run_job(workspace.settings, pulling.pull)
    assert status_of(workspace, f"{FIRST}-v2").startswith("无效：审核码不对")
