"""A release states only what its row says and names only whom the law allows.

Through ``publishing.compose`` (the release of one row, as the draft job makes
it) and through the jobs on a real workbook: the draft mail, approval, and
every copy that leaves for the media.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import PROJECT, Workspace, material, run_job

from pipeline.core.errors import UsageError
from pipeline.core.model import KINDS
from pipeline.flows import decisions, publishing, pulling
from pipeline.ledger import Ledger

DEBTOR, APPLICANT = "李国强", "王文华"
PARTIES = f"申请执行人：{APPLICANT}；被执行人：{DEBTOR}"
# Words that claim the debt was performed in full or the case closed.
FULL_PERFORMANCE = ("执结", "执行完毕", "全额", "全部履行", "履行完毕", "兑现")


def release(workspace: Workspace, *, kind: str = "惩戒失信", unit: str = "", **fields: str) -> publishing.Release:
    row = {k: v for k, v in material(kind=kind, parties=PARTIES,
                                     title=f"被执行人{DEBTOR}被纳入失信名单",
                                     facts=f"申请执行人{APPLICANT}与被执行人{DEBTOR}民间借贷纠纷一案，{DEBTOR}应偿还借款28万元。",
                                     process=f"本院依法将{DEBTOR}纳入失信被执行人名单并限制高消费。",
                                     outcome="").items() if isinstance(v, str)}
    row.update(fields)
    return publishing.compose(row, kind=kind, draft_id="D-2026-000001", settings=workspace.settings,
                              unit=unit)


def public(r: publishing.Release) -> str:
    return "\n".join((r.headline, r.text, re.sub(r"<[^>]+>", "", r.html)))


# --- names by law, not by kind --------------------------------------------------------------

def test_a_listed_debtor_in_a_kind_that_allows_it_is_named(workspace: Workspace) -> None:
    r = release(workspace, listing="在册")
    assert DEBTOR in r.headline and DEBTOR in r.text
    assert APPLICANT not in public(r) and "王某" in r.text
    [debtor] = [n for n in r.review["names"] if n["name"] == DEBTOR]
    assert debtor["alias"] == "" and "在册" in debtor["reason"]


@pytest.mark.parametrize("listing, extra, why", [
    ("已移除", {}, "已移除"),
    ("", {}, "未填"),
    ("未纳入", {}, "未纳入"),
    ("在册", {"outcome": "李国强已履行完毕。"}, "履行完毕"),
    ("在册", {"outcome": "本院依法将其从失信被执行人名单中删除。"}, "删除"),
    ("在册", {"outcome": "本院依法屏蔽其失信信息。"}, "屏蔽"),
    ("在册", {"outcome": "李国强支付全部款项。"}, "全部"),
    ("在册", {"closure": "执行完毕"}, "执行完毕"),
], ids=["removed", "blank", "never listed", "performed", "deleted", "hidden", "paid all", "closed"])
def test_a_debtor_not_currently_listed_is_masked_and_the_office_is_told_why(
        workspace: Workspace, listing: str, extra: dict[str, str], why: str) -> None:
    r = release(workspace, listing=listing, **extra)
    assert DEBTOR not in public(r)
    assert "李某" in r.headline
    [debtor] = [n for n in r.review["names"] if n["name"] == DEBTOR]
    assert debtor["alias"] == "李某" and why in debtor["reason"]


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("惩戒失信", "教科书式老赖")])
def test_a_listed_debtor_in_a_kind_that_does_not_allow_names_is_masked(workspace: Workspace, kind: str) -> None:
    r = release(workspace, kind=kind, listing="在册")
    assert DEBTOR not in public(r)


@pytest.mark.parametrize("facts, person, alias", [
    ("其妻王丽华将名下房产过户给他人。", "王丽华", "王某"),
    ("案外人周秀英提出异议。", "周秀英", "周某"),
    ("担保人：张三丰未履行担保责任。", "张三丰", "张某"),
    ("经查，陈美玲系被执行人之妻，收取了租金。", "陈美玲", "陈某"),
], ids=["spouse", "third party", "guarantor", "said to be the spouse"])
def test_a_person_named_only_in_the_facts_is_masked_where_the_text_marks_a_person(
        workspace: Workspace, facts: str, person: str, alias: str) -> None:
    r = release(workspace, listing="在册", facts=facts + f"{DEBTOR}拒不履行。")
    assert person not in public(r)
    assert alias in r.text


def test_an_officer_named_as_such_stays_named(workspace: Workspace) -> None:
    r = release(workspace, kind="先进典型", parties="", case_number="", title="执行干警黎国华的十年",
                facts="执行干警黎国华从事执行工作十年。", process="黎国华带领团队开展集中执行。")
    assert "黎国华" in r.text and r.review["names"] == []


@pytest.mark.parametrize("parties, names, aliases", [
    ("被执行人：刘国栋夫妇", ["刘国栋"], ["刘某"]),
    ("被执行人：买买提·艾力", ["买买提·艾力"], ["买某"]),
    ("被执行人：阿卜杜热合曼", ["阿卜杜热合曼"], ["阿某"]),
    ("被执行人：李 国 强", ["李国强", "李 国 强"], ["李某"]),
    ("债权人：王文华；债务人：李国强", ["王文华", "李国强"], ["王某", "李某"]),
], ids=["couple", "dotted name", "six characters", "spaced", "other role words"])
def test_names_are_masked_in_the_forms_they_are_typed(workspace: Workspace, parties: str, names: list[str],
                                                      aliases: list[str]) -> None:
    text = "、".join(names) + "拒不履行。"
    r = release(workspace, kind="执行成功", parties=parties, title="被执行人拒不履行", facts=text, process=text)
    for name in names:
        assert name not in public(r)
    for alias in aliases:
        assert alias in r.text
    for role in ("债某", "债权某", "被执某"):
        assert role not in r.text


def test_two_persons_with_one_surname_never_print_a_two_character_name_whole(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", parties="申请执行人：李四；被执行人：李国强",
                facts="申请执行人李四与被执行人李国强纠纷一案。", process="李国强拒不履行，李四申请执行。")
    assert "李某四" not in r.text and "李四" not in public(r)
    aliases = {n["alias"] for n in r.review["names"]}
    assert len(aliases) == 2 and all(a.startswith("李某") for a in aliases)


# --- say only what the row says -------------------------------------------------------------

NEUTRAL = dict(parties="申请执行人：某某公司；被执行人：某某贸易公司", title="被执行企业账户被冻结",
               facts="申请执行人某某公司与被执行人某某贸易公司买卖合同纠纷一案。",
               process="执行干警依法冻结被执行人银行账户。", outcome="")


@pytest.mark.parametrize("closure, amount", [("部分履行", "400000"), ("", "")], ids=["partly", "nothing given"])
@pytest.mark.parametrize("kind", KINDS)
def test_no_release_claims_full_performance_the_row_does_not_state(
        workspace: Workspace, kind: str, closure: str, amount: str) -> None:
    r = release(workspace, kind=kind, closure=closure, amount=amount, **NEUTRAL)
    body = r.text.split("【法官说法")[0]          # the fixed legal text may explain what full performance does
    for claim in FULL_PERFORMANCE:
        assert claim not in body, f"{kind}: {claim}"
    if amount:
        assert "40万元" in r.text or kind in ("先进典型", "巡查督导", "第三方评估", "执行规范化", "动员部署", "宣传活动")
    else:
        assert "万元" not in body
    assert r.checks == []


def test_the_success_lead_says_closed_only_when_the_row_says_so(workspace: Workspace) -> None:
    closed = release(workspace, kind="执行成功", closure="执行完毕", amount="2860000", **NEUTRAL)
    assert "依法执结" in closed.text and "执行到位286万元" in closed.text
    partly = release(workspace, kind="执行成功", closure="部分履行", amount="400000", **NEUTRAL)
    assert "执结" not in partly.text and "被执行人已部分履行，执行到位40万元" in partly.text


def test_the_inability_release_fits_the_case_and_blames_no_one(workspace: Workspace) -> None:
    r = release(workspace, kind="执行不能", inability="丧失履行能力", closure="终结本次执行", **NEUTRAL)
    assert "本案被执行人丧失履行能力" in r.text.split("【")[0]
    assert "本院依法裁定终结本次执行程序" in r.text
    for insult in ("商业风险", "交易中应当承担", "我们", "降低交易风险"):
        assert insult not in r.text


def test_the_public_text_names_the_handling_team_by_its_outward_name(workspace: Workspace) -> None:
    r = release(workspace, kind="先进典型", parties="", case_number="", unit="儋州市人民法院执行局",
                title="执行干警黎国华的十年", facts="执行干警黎国华从事执行工作十年。", process="带领团队集中执行。")
    assert "儋州市人民法院执行局的执行干警" in r.text
    assert "执行一组" not in r.text and "执行指挥中心" not in r.text


def test_a_criminal_case_number_is_not_called_an_enforcement_case(workspace: Workspace) -> None:
    r = release(workspace, kind="打击拒执", case_number="（2026）琼9003刑初88号")
    lead = r.text.split("\n\n")[1]
    assert "刑事案件" in lead and "执行案件" not in lead and "在办理" not in lead


# --- internal notes stay internal -----------------------------------------------------------

def test_a_note_to_the_office_in_a_public_field_is_left_out_and_listed(workspace: Workspace) -> None:
    r = release(workspace, outcome="李国强已履行12万元。建议将该案作为典型案例进行专题报道。", listing="在册")
    assert "建议" not in r.text and "专题报道" not in r.html
    assert "李国强已履行12万元。" in r.text
    assert r.review["left_out"] == ["建议将该案作为典型案例进行专题报道。"]


def test_the_internal_note_never_reaches_the_release(workspace: Workspace) -> None:
    r = release(workspace, note="申请执行人电话联系过院长，请慎重。")
    assert "院长" not in r.text and "慎重" not in r.html
    assert r.review["note"] == "申请执行人电话联系过院长，请慎重。"


# --- the fact check -------------------------------------------------------------------------

def test_a_release_that_states_only_the_row_passes_the_fact_check(workspace: Workspace) -> None:
    assert release(workspace, listing="在册", closure="部分履行", amount="120000").checks == []


def test_the_marked_version_tells_the_templates_words_from_the_teams(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", closure="部分履行", amount="400000", **NEUTRAL)
    assert "〖近日，〗" in r.marked_text
    assert "〖" not in r.marked_text.split("执行干警依法冻结被执行人银行账户。")[0].split("\n")[-1]
    assert 'background:#e8eaed;">近日，' in r.marked_html
    assert "background" not in r.html.split("<h1")[1].split("</h1>")[0]


# --- the fact check, end to end: a template that invents a fact -------------------------------

def edited_copy(tmp_path_factory: pytest.TempPathFactory, kind: str, old: str, new: str) -> tuple[Path, Path]:
    """A copy of the program whose release template of ``kind`` an office member has edited."""
    copy = tmp_path_factory.mktemp("edited")
    for part in ("pipeline", "templates", "config"):
        shutil.copytree(PROJECT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "run.py", copy / "run.py")
    template = copy / "templates" / "releases" / f"{kind}.txt"
    text = template.read_text(encoding="utf-8")
    assert old in text
    template.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy, template


def run_copy(copy: Path, workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """The edited copy's command line, on the workspace's config."""
    return subprocess.run([sys.executable, str(copy / "run.py"), "--config", str(workspace.config_path), *args],
                          cwd=workspace.root, capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def test_an_amount_planted_through_a_template_is_reported_and_the_release_cannot_be_approved(
        workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> None:
    copy, template = edited_copy(tmp_path_factory, "执行成功", "综合运用各项执行措施",
                                 "综合运用各项执行措施，为申请执行人追回100万元")
    workspace.make_workbook([material(kind="执行成功", outcome="")])

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_copy(copy, workspace, *args)

    assert cli("pull").returncode == 0
    assert cli("draft").returncode == 0
    [mail] = (workspace.root / "outbox").glob("*-draft-D-2026-000001-*.eml")
    message = BytesParser(policy=policy.default).parsebytes(mail.read_bytes())
    assert "事实核对未通过" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "数字“100”在素材中找不到" in text.split("稿件正文")[0]

    status = cli("status")
    assert "未通过事实核对" in status.stdout and "D-2026-000001" in status.stdout

    refused = cli("approve", "D-2026-000001", "--by", "符贤")
    assert refused.returncode == 2 and "未通过事实核对" in refused.stderr + refused.stdout
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draft("D-2026-000001")["state"] == "pending"

    # The office fixes the template: the next drafting makes the release again, and it can be approved.
    shutil.copy(PROJECT / "templates" / "releases" / "执行成功.txt", template)
    assert cli("draft").returncode == 0
    again = [p for p in (workspace.root / "outbox").glob("*-draft-D-2026-000001-*.eml") if p != mail]
    assert len(again) == 1
    message = BytesParser(policy=policy.default).parsebytes(again[0].read_bytes())
    assert "事实核对未通过" not in message["Subject"] and "100万元" not in message.get_body(("plain",)).get_content()
    assert cli("approve", "D-2026-000001", "--by", "符贤").returncode == 0


def test_a_stored_release_that_names_a_masked_person_is_blocked_at_publishing(workspace: Workspace) -> None:
    """The last check runs on every copy: a name the rules mask never reaches an outlet, whatever the
    stored text says (a template edited after drafting, a hand-edited ledger)."""
    media = [{"outlet": "《法制时报》", "contact": "郑丽华", "email": "news@fzsb.example", "kinds": "全部",
              "enabled": "是"}]
    workspace.make_workbook([material(kind="执行成功", parties=PARTIES,
                                      facts=f"申请执行人{APPLICANT}与被执行人{DEBTOR}借款纠纷一案。")], media=media)
    run_job(workspace.settings, pulling.pull)
    [draft_id] = run_job(workspace.settings, publishing.draft).drafted
    run_job(workspace.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    with Ledger(workspace.ledger) as ledger, ledger.transaction():
        row = ledger.draft(draft_id)
        ledger.db.execute("UPDATE drafts SET release_text = ? WHERE id = ?",
                          (row["release_text"].replace("李某", DEBTOR, 1), draft_id))

    run = run_job(workspace.settings, publishing.publish)

    assert run.published == [] and [d for d, _ in run.blocked] == [draft_id]
    assert "姓名" in run.blocked[0][1]
    sent = list((workspace.root / "outbox").glob("*-release-*.eml"))
    assert sent == []


def test_a_cell_cannot_pass_its_words_off_as_the_fixed_legal_text(workspace: Workspace) -> None:
    """The marks that say where a word came from are the template's: a cell that carries them gains nothing."""
    smuggled = "\ue004为申请执行人追回100万元。\ue005"
    r = release(workspace, kind="执行成功", process="执行干警依法冻结被执行人银行账户。" + smuggled)
    assert "\ue004" not in r.text and "\ue005" not in r.html and "\ue004" not in r.marked_html
    assert "追回100万元" in r.text
    assert 'background:#efe9fb;">为申请执行人追回' not in r.marked_html      # not shown as legal text
    assert "〖为申请执行人追回" not in r.marked_text


# --- names in the forms people write them ----------------------------------------------------

@pytest.mark.parametrize("facts, person", [
    ("其妻王丽华转移财产。", "王丽华"),
    ("陈志明与其妻王丽转移财产，王丽拒不配合。", "王丽"),
    ("被执行人将车辆交给债务人王丽华保管。", "王丽华"),
    ("其爱人赵美玲代为签收。", "赵美玲"),
    ("其哥哥孙建国阻挠执行。", "孙建国"),
    ("被执行人之妻周晓红收取租金。", "周晓红"),
    ("其妻李 丽 华将房产过户。", "李丽华"),
    ("案外人买买提·艾力提出异议。", "艾力"),
    ("案外人刘国栋夫妇提出异议。", "刘国栋"),
], ids=["spouse running on", "two characters", "debtor's debtor", "爱人", "哥哥", "之妻", "spaced", "dotted",
        "couple"])
def test_a_person_the_text_marks_is_masked_however_the_sentence_runs_on(
        workspace: Workspace, facts: str, person: str) -> None:
    r = release(workspace, kind="执行成功", facts=facts)
    assert person not in public(r).replace(" ", "")


@pytest.mark.parametrize("facts, person", [
    ("申请执行人王文华受邀列席听证。", "王文华"),
    ("申请执行人王文华应邀出席会议。", "王文华"),
    ("申请执行人王文华参加了执行和解。", "王文华"),
    ("被执行人张伟受到司法拘留处罚。", "张伟"),
    ("申请执行人李明到场领取执行款。", "李明"),
    ("被执行人李应龙拒不履行生效判决。", "李应龙"),
    ("被执行人应红梅名下房产被依法查封。", "应红梅"),
], ids=["受邀", "应邀", "参加", "受到", "到场", "given name 应…", "surname 应"])
def test_a_party_named_only_in_the_text_is_masked_whatever_the_verb_after_the_name(
        workspace: Workspace, facts: str, person: str) -> None:
    """A party role followed by a name and what a person does: the name ends there, and is masked."""
    r = release(workspace, kind="执行成功", parties="", facts=facts, process="执行干警依法处理。")
    assert person not in public(r)
    assert f"{person[0]}某" in r.text


def test_with_the_parties_column_blank_the_parties_named_in_the_text_are_masked(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", parties="",
                facts=f"申请执行人{APPLICANT}与被执行人{DEBTOR}买卖合同纠纷一案。", process=f"{DEBTOR}随即到庭。")
    assert APPLICANT not in public(r) and DEBTOR not in public(r)


@pytest.mark.parametrize("parties, text, person", [
    ("申请执行人为王文华；被执行人：李国强", "王文华申请执行。", "王文华"),
    ("申请执行人：赵丽娟女士；被执行人：李国强", "赵丽娟申请执行。", "赵丽娟"),
    ("申请执行人：王小明 女 1980年出生；被执行人：李国强", "王小明申请执行。", "王小明"),
    ("申请执行人：王 文华；被执行人：李国强", "王文华申请执行。", "王文华"),
    ("申请执行人：买买提·艾力；被执行人：李国强", "买买提艾力申请执行。", "艾力"),
    ("申请执行人：王文华的继承人王小明；被执行人：李国强", "王小明申请执行。", "王小明"),
    ("申请执行人：王文华（已故）之子王小明；被执行人：李国强", "王文华之子王小明申请执行。", "王文华"),
], ids=["为", "女士", "sex and birth", "spaced", "dot left out in the text", "heir", "late father"])
def test_the_parties_are_read_as_people_fill_the_column(workspace: Workspace, parties: str, text: str,
                                                        person: str) -> None:
    r = release(workspace, kind="执行成功", parties=parties, facts=text)
    assert person not in public(r)


@pytest.mark.parametrize("parties, word", [
    ("失信被执行人：周海涛", "失某"), ("本案申请执行人：王文华；被执行人：李国强", "本某"),
    ("被执行人（原审被告）：王小明", "原某"), ("委托诉讼代理人：张律师；被执行人：李国强", "委某"),
])
def test_a_word_before_a_role_is_never_taken_for_a_name(workspace: Workspace, parties: str, word: str) -> None:
    r = release(workspace, kind="惩戒失信", listing="在册", parties=parties)
    assert word not in r.text and r.checks == []


@pytest.mark.parametrize("outcome", [
    "李国强信用已修复。", "已将其从名单中移除。", "其失信记录已消除。", "李国强已全部清偿。", "李国强已足额履行。",
    "李国强已一次性付清。", "李国强已履行和解协议全部内容。", "本院裁定终结执行。", "执行依据已被依法撤销。",
])
def test_more_ways_of_saying_the_debtor_left_the_list_mask_the_name(workspace: Workspace, outcome: str) -> None:
    r = release(workspace, listing="在册", outcome=outcome)
    assert DEBTOR not in public(r)


@pytest.mark.parametrize("where", ["parties", "note"])
def test_the_parties_column_and_the_internal_note_can_say_the_debtor_left_the_list(
        workspace: Workspace, where: str) -> None:
    extra = {"parties": f"申请执行人：{APPLICANT}；被执行人：{DEBTOR}（已履行完毕）"} if where == "parties" \
        else {"note": "该被执行人已于上周履行完毕，失信信息已删除。"}
    r = release(workspace, listing="在册", **extra)
    assert DEBTOR not in public(r)


@pytest.mark.parametrize("outcome", ["李国强至今未结清。", "李国强拒不支付全部款项。", "双方约定半年内还清。",
                                     "本院支持申请执行人提起撤销权诉讼。"])
def test_a_listed_debtor_stays_named_when_the_row_says_the_debt_is_not_paid(workspace: Workspace,
                                                                           outcome: str) -> None:
    r = release(workspace, listing="在册", outcome=outcome)
    assert DEBTOR in r.text


def test_a_one_character_given_name_never_leaves_its_twin_printed_whole(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", parties="申请执行人：李四、李强四；被执行人：某公司",
                facts="申请执行人李四、李强四与被执行人某公司纠纷一案。")
    assert "李某四" not in r.text


# --- the fact check does not cry wolf -----------------------------------------------------------

def test_a_case_number_the_row_cites_passes_the_fact_check(workspace: Workspace) -> None:
    r = release(workspace, listing="在册", facts="申请执行人依据（2025）琼9003民初567号民事判决书申请执行。")
    assert r.checks == []


@pytest.mark.parametrize("amount, shown", [("99999", "99,999元"), ("512000", "51.2万元"),
                                           ("150000000", "1.5亿元"), ("0", "")])
def test_an_amount_is_printed_exactly_as_the_row_gives_it(workspace: Workspace, amount: str, shown: str) -> None:
    r = release(workspace, kind="执行成功", closure="部分履行", amount=amount, **NEUTRAL)
    lead = r.text.split("\n\n")[1]
    if shown:
        assert f"执行到位{shown}" in lead
    else:
        assert "执行到位" not in lead and "0元" not in lead
    assert r.checks == []


# --- notes to the office ------------------------------------------------------------------------

@pytest.mark.parametrize("note", ["注：申请执行人不愿公开姓名。", "以上情况请保密。", "宣传办可择期刊发。",
                                  "请在标题中突出拒执二字。", "建议：作为本周重点稿。", "本案可以作为宣传素材。",
                                  "请于本周内发布。", "（内部：不要写申请人单位）"])
def test_more_notes_to_the_office_are_left_out(workspace: Workspace, note: str) -> None:
    r = release(workspace, listing="在册", outcome="李国强已履行12万元。" + note)
    assert note not in r.text and "李国强已履行12万元。" in r.text
    assert note in r.review["left_out"]


@pytest.mark.parametrize("fact", ["拟对被执行人采取拘留措施。", "执行法官建议双方和解，双方接受并公开道歉。",
                                  "申请执行人建议法院公开拍卖。"])
def test_a_fact_that_merely_sounds_like_a_note_stays(workspace: Workspace, fact: str) -> None:
    r = release(workspace, listing="在册", outcome=fact)
    assert fact in r.text and r.review["left_out"] == []


def test_a_remark_in_the_headline_goes_and_the_headline_stays(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", title="李国强拒执被拘（建议重点报道）")
    assert r.headline == "李某拒执被拘"
    assert r.review["left_out"] == ["（建议重点报道）"]


# --- drafts made before drafts were checked -------------------------------------------------------

def test_a_draft_made_before_the_fact_check_is_made_again_before_it_can_be_approved(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    [draft_id] = run_job(workspace.settings, publishing.draft).drafted
    with Ledger(workspace.ledger) as ledger, ledger.transaction():
        ledger.db.execute("UPDATE drafts SET review = '{}' WHERE id = ?", (draft_id,))

    with pytest.raises(UsageError, match="事实核对"):
        run_job(workspace.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    assert run_job(workspace.settings, publishing.draft).drafted == [draft_id]     # made again, under its own ID
    run_job(workspace.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draft(draft_id)["state"] == "approved"


def test_a_broken_template_of_one_kind_holds_up_no_other_kinds_drafts(
        workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> None:
    copy, _ = edited_copy(tmp_path_factory, "执行成功", "{% block lead %}", "{% block lead %}{{ release.amont }}")
    workspace.make_workbook([material(kind="执行成功", closure="部分履行", amount="1000"),
                             material(kind="执行不能", case_number="（2026）琼9003执1235号", title="另一篇")])
    assert run_copy(copy, workspace, "pull").returncode == 0

    drafted = run_copy(copy, workspace, "draft")

    assert drafted.returncode == 1
    assert "执行成功.txt" in drafted.stderr and "不存在的名称" in drafted.stderr and "Traceback" not in drafted.stderr
    assert len(list((workspace.root / "outbox").glob("*-draft-D-2026-000001-*.eml"))) == 1   # the other kind


# --- names a second look found -------------------------------------------------------------------

@pytest.mark.parametrize("parties, facts, person", [
    (PARTIES, "其弟李国华持有该房产。", "李国华"),
    ("申请执行人：海南鑫源贸易有限公司（法定代表人：陈志强）；被执行人：李国强", "陈志强到庭。", "陈志强"),
    ("被执行人：李国强（又名李强）", "李强拒不履行。", "李强"),
    ("被执行人：李国强（张丽之夫）", "张丽拒不配合。", "张丽"),
    ("被执行人：李国强，其妻陈丽", "陈丽拒不配合。", "陈丽"),
    ("被执行人：某公司", "保证人黄志刚、刘海燕对该笔借款承担连带保证责任。", "刘海燕"),
    (PARTIES, "李国强的同居女友张丽华收取租金。", "张丽华"),
    (PARTIES, "经查，张丽华系李国强的前妻。", "张丽华"),
    ("被执行人：儋州市那大镇李国强养殖场", "养殖场经营者李国强称无力偿还。", "李国强"),
], ids=["sibling sharing a generation character", "legal representative in brackets", "又名", "之夫 in brackets",
        "其妻 in the parties", "the second of a list", "同居女友", "系…前妻", "owner of a business"])
def test_persons_a_clerk_names_in_ordinary_ways_are_masked(workspace: Workspace, parties: str, facts: str,
                                                            person: str) -> None:
    r = release(workspace, kind="执行成功", parties=parties, facts=facts)
    assert person not in public(r)


@pytest.mark.parametrize("facts", ["担保人应当承担连带保证责任。", "担保人符合追加条件。", "法定代表人严重失信。"])
def test_an_ordinary_word_after_a_role_word_is_not_taken_for_a_name(workspace: Workspace, facts: str) -> None:
    r = release(workspace, kind="执行成功", parties="被执行人：某公司", facts=facts)
    assert facts in r.text and r.checks == []


def test_a_name_split_by_a_line_break_is_masked(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", facts=f"申请执行人王文\n华与被执行人{DEBTOR}纠纷一案。")
    assert "王文" not in public(r)


def test_a_two_character_name_before_what_a_person_does_is_listed_for_the_office(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", parties="被执行人：某公司", facts="张丽表示愿意代为履行。")
    assert r.review["undecided"] == ["张丽"]


@pytest.mark.parametrize("outcome", [
    "李国强已将欠款28万元全部支付给申请执行人。", "本案已执行完结。", "案件已结案。", "李国强履行义务完毕。",
    "李国强已履行完判决确定的义务。", "李国强于11月20日将欠款全额交付本院。", "欠款已全部到位。",
    "李国强已不在失信被执行人名单中。", "申请执行人撤回执行申请。",
])
def test_still_more_ways_of_saying_the_debt_is_paid_mask_the_debtor(workspace: Workspace, outcome: str) -> None:
    r = release(workspace, listing="在册", outcome=outcome)
    assert DEBTOR not in public(r)


@pytest.mark.parametrize("outcome", [
    "拘留期满后李国强仍拒不履行。", "失信名单期限届满前李国强仍未履行。", "李国强拒绝履行和解协议。",
    "待其全部履行后，本院将依法删除其失信信息。", "李国强谎称已付清。", "李国强的妻子已于上月还清另案贷款。",
    "李国强申请将其从失信名单中删除，本院予以驳回。", "督促李国强尽快履行全部款项。",
])
def test_words_that_only_sound_like_payment_leave_a_listed_debtor_named(workspace: Workspace, outcome: str) -> None:
    r = release(workspace, listing="在册", outcome=outcome)
    assert DEBTOR in r.text


@pytest.mark.parametrize("invented", ["被执行人主动履行了义务", "执行款已发放到申请执行人手中", "已依法拍卖",
                                      "被执行人张三拒不履行"])
def test_the_fact_check_catches_a_result_or_a_person_a_template_invents(workspace: Workspace,
                                                                       tmp_path_factory, invented: str) -> None:
    copy, _ = edited_copy(tmp_path_factory, "执行成功", "综合运用各项执行措施", f"综合运用各项执行措施，{invented}")
    workspace.make_workbook([material(kind="执行成功", outcome="", parties="申请执行人：某公司；被执行人：某贸易公司",
                                      title="被执行企业账户被冻结", facts="买卖合同纠纷一案。",
                                      process="执行干警依法冻结账户。")])
    assert run_copy(copy, workspace, "pull").returncode == 0
    assert run_copy(copy, workspace, "draft").returncode == 0
    assert "未通过事实核对" in run_copy(copy, workspace, "status").stdout


def test_notes_stay_internal_from_the_workbook_to_the_media(workspace: Workspace) -> None:
    """End to end: the draft mail shows the office the note-like sentence and the 内部备注; no media copy has either."""
    media = [{"outlet": "《法制时报》", "contact": "郑丽华", "email": "news@fzsb.example", "kinds": "全部",
              "enabled": "是"}]
    workspace.make_workbook([material(outcome="当场履行28万元。建议作为本周重点稿件推送。",
                                      note="申请执行人不愿接受采访")], media=media)
    run_job(workspace.settings, pulling.pull)
    [draft_id] = run_job(workspace.settings, publishing.draft).drafted
    [draft_mail] = (workspace.root / "outbox").glob(f"*-draft-{draft_id}-*.eml")
    office = BytesParser(policy=policy.default).parsebytes(draft_mail.read_bytes()).get_body(("plain",)).get_content()
    assert "建议作为本周重点稿件推送。" in office.split("稿件正文")[0]
    assert "申请执行人不愿接受采访" in office

    run_job(workspace.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    run_job(workspace.settings, publishing.publish)
    outgoing = [*(workspace.root / "outbox").glob("*-release-*.eml"), *(workspace.root / "outbox").glob("*-network-*.eml"),
                *(workspace.root / "outbox" / "channels").rglob("*.*")]
    assert any(p.suffix == ".eml" for p in outgoing)
    for path in outgoing:
        if path.suffix == ".eml":
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            words = "\n".join(part.get_content() for part in message.walk()
                              if part.get_content_type() in ("text/plain", "text/html"))
        else:
            words = path.read_text(encoding="utf-8-sig")
        assert "重点稿件" not in words and "不愿接受采访" not in words, path.name


@pytest.mark.parametrize("facts, listed", [
    ("被执行人张伟逃避执行。", "张伟"),
    ("申请执行人王文华主动联系法院。", "王文"),
], ids=["two characters", "three characters, end unknown"])
def test_a_party_role_before_a_name_no_rule_could_end_is_listed_for_the_office(
        workspace: Workspace, facts: str, listed: str) -> None:
    """Not masked (the end of the name cannot be told), never silent: the draft mail asks the office."""
    r = release(workspace, kind="执行成功", parties="", facts=facts, process="执行干警依法处理。")
    assert listed in r.review["undecided"]


def test_a_party_role_before_an_ordinary_word_is_not_listed(workspace: Workspace) -> None:
    r = release(workspace, kind="执行成功", parties="", facts="被执行人车辆被依法扣押。", process="执行干警依法处理。")
    assert r.review["undecided"] == []
