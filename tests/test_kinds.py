"""The kinds of the whole work plan: 动员部署 (三(一)), 三反专项 and 宣传活动 (三(四)), and the report of a
代表委员看执行 visit (三(十), 四(四)).

Each is taken in under the words people type for it, drafted with its own template (masked like every
release, checked against its row), counted toward the duties the plan counts it toward, and shown in the
summaries; a visit on the 活动 tab that has passed asks the office for its report.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from email import policy
from email.parser import BytesParser

import pytest
from conftest import Workspace, material, run_job

from pipeline.core.layout import SUBMISSIONS
from pipeline.flows import decisions, publishing, pulling, summaries
from pipeline.ledger import Ledger

NEW_KINDS = ("动员部署", "三反专项", "宣传活动", "代表委员看执行")

SYNONYMS = {
    "宣传活动": ("宣传活动", "宣传标语", "标语", "宣传车", "进社区", "进校园", "进学校", "进工地", "进集市",
              "媒体见面会", "执行宣传活动"),
    "三反专项": ("三反专项", "三反", "反规避执行", "反逃避执行", "反抗拒执行", "“三反”专项宣传"),
    "动员部署": ("动员部署", "动员会", "动员部署会"),
    "代表委员看执行": ("代表委员看执行", "人大代表", "政协委员", "代表委员看执行报道"),
}

# One row per new kind, each naming a person and carrying a phone number that must not leave the court.
ROWS = {
    "宣传活动": dict(case_number="", parties="",
                 title="执行宣传进集市 悬挂标语营造打击拒执氛围",
                 facts="执行二组干警利用墟日到那大镇农贸市场开展执行宣传，申请执行人王文华到场咨询案件进展，留下电话13907561234。",
                 process="干警悬挂宣传横幅，向过往群众发放宣传资料300余份。",
                 outcome="现场收集执行线索2条。"),
    "三反专项": dict(title="隐匿车辆逃避执行 被执行人被司法拘留",
                 facts="申请执行人王文华与被执行人李国强民间借贷纠纷一案，李国强判决生效后隐匿车辆，电话13907561234。",
                 process="本院在“三反”专项行动中查明车辆去向，依法对李国强司法拘留十五日。",
                 outcome="李国强家属代为履行12万元。", closure="部分履行", amount="12万元",
                 parties="申请执行人：王文华；被执行人：李国强"),
    "动员部署": dict(case_number="", parties="",
                 title="召开执行宣传工作动员部署会",
                 facts="本院召开执行宣传工作动员部署会，执行干警李国强作表态发言，申请执行人王文华到场旁听，电话13907561234。",
                 process="会议对各执行团队的报送任务作出安排。",
                 outcome="会议要求各部门每周报送素材不少于3条。"),
    "代表委员看执行": dict(case_number="", parties="",
                     title="人大代表、政协委员见证涉民生案件集中执行",
                     facts="本院邀请4名市人大代表、政协委员参与集中执行，申请执行人王文华到场，电话13907561234。",
                     process="代表委员随执行干警到那大镇见证腾房执行。",
                     outcome="代表委员对执行工作给予肯定。"),
}


def plain(path) -> str:
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes()).get_body(("plain",)).get_content()


def outbox(workspace: Workspace, purpose: str) -> list[str]:
    return [plain(p) for p in sorted(workspace.settings.mail.outbox.glob(f"*-{purpose}-*.eml"))]


def check_json(workspace: Workspace, now: str | None = None) -> list[dict]:
    env = {"PIPELINE_NOW": now} if now else None
    result = workspace.cli("check", "--json", env=env)
    return json.loads(result.stdout)["findings"]


def kinds_in_ledger(workspace: Workspace) -> dict[str, str]:
    with Ledger(workspace.ledger) as ledger:
        return {r["title"]: r["kind"] for r in ledger.db.execute("SELECT title, kind, state FROM submissions")
                if r["state"] == "valid"}


# --- intake ---------------------------------------------------------------------------------

@pytest.mark.parametrize("canonical", NEW_KINDS)
def test_each_new_kind_is_taken_in_under_the_words_people_type(workspace: Workspace, canonical: str) -> None:
    rows = [material(kind=typed, title=f"素材{i}", case_number="") for i, typed in enumerate(SYNONYMS[canonical])]
    workspace.make_workbook(rows)
    workspace.cli("pull", check=True)
    assert all(r["status"] == "已受理" for r in workspace.rows(SUBMISSIONS)), workspace.rows(SUBMISSIONS)
    assert set(kinds_in_ledger(workspace).values()) == {canonical}


def test_a_viewing_of_the_court_by_deputies_stays_an_inspection(workspace: Workspace) -> None:
    """视察 words name 巡查督导 (三(十) inspections) as before; 看执行 and the deputies' titles name the report."""
    workspace.make_workbook([material(kind="代表委员视察", title="视察", case_number=""),
                             material(kind="看执行", title="看执行", case_number="")])
    workspace.cli("pull", check=True)
    assert kinds_in_ledger(workspace) == {"视察": "巡查督导", "看执行": "代表委员看执行"}


def test_the_demo_market_publicity_row_is_taken_in_as_a_publicity_event(workspace: Workspace) -> None:
    workspace.cli("init", "--demo", check=True)
    workspace.cli("pull", check=True)
    [row] = [r for r in workspace.rows(SUBMISSIONS) if r["title"] == "执行宣传进集市 发放宣传资料营造打击拒执氛围"]
    assert row["kind"] == "宣传标语" and row["id"] and row["status"] == "已受理"
    assert kinds_in_ledger(workspace)[row["title"]] == "宣传活动"
    with Ledger(workspace.ledger) as ledger:
        assert not [e for e in ledger.row_errors() if "宣传标语" in e["message"]]


# --- drafting and masking ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", NEW_KINDS)
def test_each_new_kind_is_drafted_masked_and_passes_the_fact_check(workspace: Workspace, kind: str) -> None:
    workspace.make_workbook([material(kind=kind, **ROWS[kind])])
    run_job(workspace.settings, pulling.pull)
    run = run_job(workspace.settings, publishing.draft)
    assert run.drafted == ["D-2026-000001"]
    with Ledger(workspace.ledger) as ledger:
        draft = ledger.draft("D-2026-000001")
        review = json.loads(draft["review"])
    text = draft["release_text"]
    assert draft["kind"] == kind
    assert text.startswith(ROWS[kind]["title"] + "\n")
    assert "王文华" not in text and "王某" in text
    assert "13907561234" not in text and "×××" in text
    assert "王文华" not in draft["release_html"] and "13907561234" not in draft["release_html"]
    assert review["checks"] == [], review["checks"]
    assert "{{" not in text and "None" not in text


def test_a_publicity_event_is_drafted_as_a_short_news_item(workspace: Workspace) -> None:
    workspace.make_workbook([material(kind="宣传标语", **ROWS["宣传活动"])])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    with Ledger(workspace.ledger) as ledger:
        text = ledger.draft("D-2026-000001")["release_text"]
    assert "开展执行宣传活动" in text
    for heading in ("【基本案情】", "【执行过程】", "【执行结果】"):
        assert heading not in text
    assert "干警悬挂宣传横幅" in text and "现场收集执行线索2条。" in text


# --- the plan's duties and the summaries ---------------------------------------------------

def test_material_of_the_new_kinds_counts_toward_a_teams_weekly_quota(workspace: Workspace) -> None:
    """四(五): every team submits at least three items a week; material of any kind counts."""
    rows = [material(team="执行一组", kind=kind, title=f"{kind}素材", case_number="")
            for kind in ("宣传标语", "三反", "动员会")]
    workspace.make_workbook(rows)
    workspace.cli("pull", check=True)
    quota = [f for f in check_json(workspace) if f["rule"] == "team-quota"]
    assert "执行一组" not in {f["subject"] for f in quota}
    assert {"执行二组", "执行指挥中心"} <= {f["subject"] for f in quota}


def test_a_published_publicity_item_meets_the_weekly_media_duty_and_no_case_slot(workspace: Workspace) -> None:
    workspace.make_workbook([material(kind="宣传活动", **ROWS["宣传活动"])],
                            media=[{"outlet": "《今日儋州》", "email": "jinri@media.example", "kinds": "全部",
                                    "enabled": "是"}])
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    run_job(workspace.settings, decisions.review, "D-2026-000001", "通过", reviewer="符贤")
    run_job(workspace.settings, publishing.publish)
    rules = {f["rule"] for f in check_json(workspace)}
    assert "weekly-media" not in rules
    assert {"weekly-inability", "weekly-deadbeat-or-success"} <= rules


def test_the_weekly_summary_counts_the_new_kinds_per_team(workspace: Workspace) -> None:
    rows = [material(team="执行二组", kind=kind, title=f"{kind}素材", case_number="")
            for kind in ("宣传车", "进校园", "反规避执行", "动员部署会", "人大代表")]
    workspace.make_workbook(rows)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    [text] = outbox(workspace, "summary-weekly")
    assert "执行二组：共 5 条，动员部署 1，三反专项 1，宣传活动 2，代表委员看执行 1" in text
    [path] = workspace.settings.mail.outbox.glob("*-summary-weekly-*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    [attachment] = [a for a in message.iter_attachments() if a.get_filename().endswith(".csv")]
    table = list(csv.reader(io.StringIO(attachment.get_payload(decode=True).decode("utf-8-sig"))))
    assert ["部门报送", "执行二组", "宣传活动", "2"] in table


# --- the report of a deputies' visit (三(十), 四(四)) ------------------------------------------

VISIT = {"date": datetime(2026, 11, 20), "kind": "代表委员看执行", "name": "邀请人大代表见证涉民生案件集中执行"}


def test_a_passed_visit_without_its_report_is_asked_for_in_check_and_the_digest(workspace: Workspace) -> None:
    workspace.make_workbook([], activities=[VISIT])
    workspace.cli("pull", check=True)
    [finding] = [f for f in check_json(workspace) if f["rule"] == "deputies-report"]
    assert finding["period"] == "2026-11-20" and finding["subject"] == "本院"
    assert "邀请人大代表见证涉民生案件集中执行" in finding["message"] and "尚未收到报道素材" in finding["message"]
    assert "请宣传办联系承办部门报送" in finding["message"]
    workspace.cli("digest", check=True)
    [digest] = outbox(workspace, "digest")
    assert "“代表委员看执行”活动“邀请人大代表见证涉民生案件集中执行”（11月20日）已结束，尚未收到报道素材" in digest


def test_the_visits_report_settles_it_and_a_visit_to_come_owes_none(workspace: Workspace) -> None:
    coming = {"date": datetime(2026, 12, 3), "kind": "代表委员看执行", "name": "十二月代表委员看执行"}
    report = material(kind="人大代表", title="代表委员见证集中执行", case_number="",
                      submitted_at=datetime(2026, 11, 21, 9, 0))
    workspace.make_workbook([report], activities=[VISIT, coming])
    workspace.cli("pull", check=True)
    assert [f for f in check_json(workspace) if f["rule"] == "deputies-report"] == []


def test_material_made_before_the_visit_does_not_report_it(workspace: Workspace) -> None:
    earlier = material(kind="代表委员看执行", title="上月活动报道", case_number="",
                       submitted_at=datetime(2026, 11, 19, 9, 0))
    workspace.make_workbook([earlier], activities=[VISIT])
    workspace.cli("pull", check=True)
    assert [f["period"] for f in check_json(workspace) if f["rule"] == "deputies-report"] == ["2026-11-20"]


# --- the media mix of 四(二) ------------------------------------------------------------------

NEWSPAPERS = [{"outlet": "《今日儋州》", "email": "jinri@media.example", "kinds": "全部", "enabled": "是", "type": "报纸"},
              {"outlet": "《法制时报》", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是", "type": "报"}]
BROADCAST = [{"outlet": "儋州电视台", "email": "tv@media.example", "kinds": "执行不能", "enabled": "是", "type": "电视台"},
             {"outlet": "儋州之声", "email": "radio@media.example", "kinds": "执行不能", "enabled": "是", "type": "电台"},
             {"outlet": "儋州法院微信公众号", "email": "wechat@court.example", "kinds": "全部", "enabled": "是",
              "type": "公众号"}]


def publish_one(workspace: Workspace, media: list[dict]) -> None:
    workspace.make_workbook([material(kind="执行成功")], media=media)
    run_job(workspace.settings, pulling.pull)
    run_job(workspace.settings, publishing.draft)
    run_job(workspace.settings, decisions.review, "D-2026-000001", "通过", reviewer="符贤")
    run_job(workspace.settings, publishing.publish)


def test_a_week_with_releases_only_to_newspapers_misses_tv_radio_and_online(workspace: Workspace) -> None:
    publish_one(workspace, NEWSPAPERS + BROADCAST)
    [finding] = [f for f in check_json(workspace) if f["rule"] == "weekly-media-mix"]
    assert "本周发出的稿件尚未到达电视、广播、网络/新媒体媒体" not in finding["message"]   # 公众号 took it
    assert "尚未到达电视、广播媒体" in finding["message"] and finding["shortfall"] == 2
    workspace.cli("digest", check=True)
    [digest] = outbox(workspace, "digest")
    assert "本周发出的稿件尚未到达电视、广播媒体" in digest
    assert workspace.cli("check").returncode == 1


def test_releases_to_tv_radio_and_online_meet_the_mix_and_old_workbooks_are_not_judged(tmp_path) -> None:
    (tmp_path / "typed").mkdir()
    (tmp_path / "untyped").mkdir()
    typed = Workspace.create(tmp_path / "typed")
    publish_one(typed, NEWSPAPERS + [{**outlet, "kinds": "全部"} for outlet in BROADCAST])
    assert [f for f in check_json(typed) if f["rule"] == "weekly-media-mix"] == []
    untyped = Workspace.create(tmp_path / "untyped")
    publish_one(untyped, [{k: v for k, v in m.items() if k != "type"} for m in NEWSPAPERS])
    assert [f for f in check_json(untyped) if f["rule"] == "weekly-media-mix"] == []


def test_a_media_type_nobody_knows_is_flagged_on_the_media_tab(workspace: Workspace) -> None:
    from pipeline.core.layout import MEDIA
    workspace.make_workbook([], media=[{**NEWSPAPERS[0], "type": "杂志社"}])
    workspace.cli("pull", check=True)
    [row] = workspace.rows(MEDIA)
    assert row["status"].startswith("类型应为 报纸 / 电视 / 广播 / 网络 / 新媒体：杂志社")
