"""Masking of personal data, and the guard that stops any leak before it reaches the media.

Two levels:

- the public functions of ``pipeline.redact`` (``find``, ``mask``, ``guard``,
  ``Blocked``) on tables of the ugly ways people type numbers and names;
- the jobs end to end on a real workbook (pull → draft → approve → publish),
  with the outbox or a real SMTP server, parsing what the media received:
  subject, plain text, HTML and the .docx attachment.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import NOW, Workspace, docx_of_runs, material, run_job

from pipeline.core import config
from pipeline.core.errors import UsageError
from pipeline.core.model import MessageKey
from pipeline.flows import decisions, publishing, pulling
from pipeline.ledger import Ledger
from pipeline.mail.message import Attachment, Outgoing, as_bytes, build
from pipeline.texts import redact
from pipeline.texts.document import DOCX_TYPE, release_docx

AT = datetime.fromisoformat(NOW)
SENDER = "执行宣传工作办公室 <office@court.example>"
OFFICE = "office@court.example"
# The court's own number, as the default config's [court] contact prints it.
COURT_CONTACT = "联系人：高琼芳　电话：0898-23300000"
COURT_NUMBERS = ("0898-23300000",)

DEMO_ID = "46000319850317125X"
DEMO_PHONE = "13907561234"
# What the demo's sentences read once masked: the number replaced whole by the placeholder.
DEMO_ID_MASKED = "身份证号码：×××"
DEMO_PHONE_MASKED = "手机号码×××"
# What a masker that kept heads and tails would let out: no part of a number may leave.
PARTIAL_FORMS = ("460003********125X", "139****1234", "********", "****")

MEDIA = [
    {"outlet": "《法制时报》", "contact": "郑丽华", "email": "news@fzsb.example", "kinds": "全部", "enabled": "是"},
    {"outlet": "《今日儋州》", "contact": "李海燕", "email": "tougao@jrdz.example", "kinds": "全部", "enabled": "是"},
]
# An outlet whose name carries a mobile number: it reaches the greeting and To: unmasked,
# because outlet names are not material and are never masked. Only the guard can stop it.
LEAKY_OUTLET = {"outlet": f"《儋州晚报》{DEMO_PHONE}", "contact": "吴振宇", "email": "leak@dzwb.example",
                "kinds": "全部", "enabled": "是"}


# --- helpers -----------------------------------------------------------------------

def folded(text: str) -> str:
    """Full-width digits and letters folded to ASCII (a number typed ４６… is still that number)."""
    return unicodedata.normalize("NFKC", text)


def digits_only(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", folded(text)).upper()


def docx_text(content: bytes) -> str:
    """The words of a .docx: word/document.xml's <w:t> runs joined."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    return "".join(html.unescape(t) for t in re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml))


def html_words(markup: str) -> str:
    """What a reader sees in the HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def parse(data: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(data)


def parts(message: EmailMessage) -> dict[str, str]:
    """Every place of a message a reader (or a newsroom) sees, by name."""
    found = {"subject": str(message["Subject"]), "to": str(message["To"])}
    plain = message.get_body(("plain",))
    markup = message.get_body(("html",))
    found["plain"] = plain.get_content() if plain is not None else ""
    found["html"] = markup.get_content() if markup is not None else ""
    found["html words"] = html_words(found["html"])
    for attachment in message.iter_attachments():
        name = attachment.get_filename() or ""
        found[f"attachment name {name}"] = name
        if name.endswith(".docx"):
            found[f"attachment {name}"] = docx_text(attachment.get_payload(decode=True))
    return found


def outbox(workspace: Workspace, purpose: str = "") -> list[tuple[Path, EmailMessage]]:
    folder = workspace.settings.mail.outbox
    pattern = f"*-{purpose}-*.eml" if purpose else "*.eml"
    return [(path, parse(path.read_bytes())) for path in sorted(folder.glob(pattern))]


def court_numbers(settings: config.Settings) -> list[str]:
    """The court's own numbers, straight from config [court] contact."""
    return [f.text for f in redact.find(settings.court.contact)]


def approve_all(settings: config.Settings, draft_ids: list[str]) -> None:
    for draft_id in draft_ids:
        run_job(settings, decisions.review, draft_id, "通过", reviewer="符贤")


# --- numbers: found however they are typed, masked so that nothing survives ----------

@dataclass(frozen=True)
class Number:
    before: str
    number: str
    after: str
    kind: str

    @property
    def text(self) -> str:
        return self.before + self.number + self.after


IDENTIFIERS = {
    # ID-card numbers: 18 digits, 18 ending in X or x, 15 digits; inside Chinese text with no spaces.
    "id 18 digits": Number("被执行人身份证号码", "460003198503171234", "，住那大镇", "身份证号"),
    "id 18 ending in X": Number("黄某（身份证号码：", "46000319850317125X", "）应偿还借款", "身份证号"),
    "id 18 ending in x": Number("身份证号", "46000319850317125x", "住址不详", "身份证号"),
    "id 15 digits": Number("旧身份证号", "460003850317125", "已作废", "身份证号"),
    "id full-width digits": Number("身份证号", "４６０００３１９８５０３１７１２５Ｘ", "。", "身份证号"),
    "id split by spaces": Number("身份证号 ", "460003 19850317 125X", " 的被执行人", "身份证号"),
    "id split by ideographic spaces": Number("身份证号：", "460003　19850317　125X", "。", "身份证号"),
    "id split by dashes": Number("证件号", "4600-0319-8503-1712-5X", "。", "身份证号"),
    # Mobile numbers.
    "mobile in text": Number("通过其预留的手机号码", "13907561234", "多次联系", "手机号"),
    "mobile with dashes": Number("联系电话", "139-0756-1234", "。", "手机号"),
    "mobile with +86 and spaces": Number("电话：+86 ", "139 0756 1234", "，", "手机号"),
    "mobile +86 as one": Number("电话：", "+86 139 0756 1234", "，", "手机号"),
    "mobile full-width": Number("手机", "１３９０７５６１２３４", "。", "手机号"),
    # Landlines.
    "landline with dash": Number("固定电话", "0898-23881234", "。", "固定电话"),
    "landline in brackets": Number("电话", "(0898)23881234", "，", "固定电话"),
    "landline in full-width brackets": Number("电话", "（0898）23881234", "，", "固定电话"),
    # Bank cards: 16 to 19 digits, plain or grouped by four.
    "bank card 16": Number("账号", "6222021234567890", "已冻结", "银行卡号"),
    "bank card 19": Number("银行卡号", "6222021234567890123", "内存款", "银行卡号"),
    "bank card 16 grouped": Number("卡号", "6222 0212 3456 7890", "。", "银行卡号"),
    "bank card 19 grouped": Number("卡号", "6222 0212 3456 7890 123", "。", "银行卡号"),
}


@pytest.mark.parametrize("case", IDENTIFIERS.values(), ids=IDENTIFIERS.keys())
def test_an_identifier_is_found_however_it_is_typed(case: Number) -> None:
    found = redact.find(case.text, allowed=COURT_NUMBERS)
    assert found, f"{case.number!r} not detected in {case.text!r}"
    assert [f.kind for f in found] == [case.kind]
    assert digits_only(found[0].text).endswith(digits_only(case.number)[-4:])


@pytest.mark.parametrize("case", IDENTIFIERS.values(), ids=IDENTIFIERS.keys())
def test_an_identifier_is_masked_so_that_no_run_of_it_survives(case: Number) -> None:
    masked = redact.mask({"facts": case.text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS)
    text = masked.texts["facts"]
    assert redact.find(text) == []
    assert case.number not in text
    assert digits_only(case.number) not in digits_only(text)
    # Replaced whole: neither head nor tail of it is kept.
    assert "×××" in text and "*" not in text
    assert digits_only(case.number)[-4:] not in digits_only(text)
    assert digits_only(case.number)[:6].removeprefix("86") not in digits_only(text)
    # The words around it are untouched.
    assert text.startswith(case.before) and text.endswith(case.after)
    # The office is told what was masked.
    assert masked.counts == {case.kind: 1}
    assert masked.notes() == [f"{case.kind} 1 处"]


def test_the_courts_number_is_spared_only_because_it_is_allowed() -> None:
    assert [f.kind for f in redact.find(COURT_CONTACT)] == ["固定电话"]
    assert redact.find(COURT_CONTACT, allowed=COURT_NUMBERS) == []


def test_the_court_numbers_come_from_config_court_contact(workspace: Workspace) -> None:
    settings = workspace.settings
    assert settings.court.contact == COURT_CONTACT
    assert digits_only("".join(redact.own_numbers(settings.court.contact))) == "089823300000"


def test_in_a_mixed_sentence_only_the_identifiers_change() -> None:
    text = ("（2026）琼9003执1234号案件中，被执行人（身份证号46000319850317125X，电话139-0756-1234，"
            "账户6222 0212 3456 7890）应于2026年11月28日前支付280000元（28万元），咨询电话0898-23300000。")
    masked = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False,
                         allowed=COURT_NUMBERS).texts["facts"]
    assert redact.find(masked, allowed=COURT_NUMBERS) == []
    for kept in ("（2026）琼9003执1234号", "2026年11月28日", "280000元", "28万元", "0898-23300000"):
        assert kept in masked
    for gone in ("46000319850317125X", "139-0756-1234", "6222 0212 3456 7890", "125X", "7890", *PARTIAL_FORMS):
        assert gone not in masked
    assert masked == ("（2026）琼9003执1234号案件中，被执行人（身份证号×××，电话×××，账户×××）"
                      "应于2026年11月28日前支付280000元（28万元），咨询电话0898-23300000。")


def test_numbers_are_masked_in_every_text_of_a_release() -> None:
    texts = {"title": f"被执行人手机{DEMO_PHONE}停机", "facts": f"身份证号{DEMO_ID}",
             "process": "冻结其账户6222021234567890", "outcome": "来电0898-23881234", "parties": "被执行人：李国强"}
    masked = redact.mask(texts, parties_text=texts["parties"], keep_debtor_names=True)
    for key, value in masked.texts.items():
        assert redact.find(value) == [], key
    assert masked.counts == {"手机号": 1, "身份证号": 1, "银行卡号": 1, "固定电话": 1}


# --- names: natural persons become surname + 某 ------------------------------------------

PARTIES = "申请执行人：王文华；被执行人：李国强、儋州某某建材有限公司"


def test_natural_persons_named_in_the_parties_become_surname_and_mou_everywhere() -> None:
    texts = {
        "title": "王文华申请执行李国强 拖欠三年的借款全部到位",
        "facts": "申请执行人王文华与被执行人李国强、儋州某某建材有限公司民间借贷纠纷一案，李国强应偿还借款28万元。",
        "process": "执行干警依法拘传李国强，儋州某某建材有限公司的账户被冻结。",
        "outcome": "李国强当场履行28万元，王文华领取了执行款。",
        "parties": PARTIES,
    }
    masked = redact.mask(texts, parties_text=PARTIES, keep_debtor_names=False)
    for key, value in masked.texts.items():
        assert "王文华" not in value and "李国强" not in value, key
    assert masked.texts["title"] == "王某申请执行李某 拖欠三年的借款全部到位"
    assert masked.texts["outcome"] == "李某当场履行28万元，王某领取了执行款。"
    assert "王某" in masked.texts["facts"] and "李某" in masked.texts["process"]
    # An organisation is not a natural person: it keeps its name.
    assert "儋州某某建材有限公司" in masked.texts["facts"]
    assert "儋州某某建材有限公司" in masked.texts["process"]
    assert masked.texts["parties"] == "申请执行人：王某；被执行人：李某、儋州某某建材有限公司"
    assert masked.counts["姓名"] == 10


PARTY_SPELLINGS = {
    "full-width semicolon": "申请执行人：王文华；被执行人：李国强",
    "half-width punctuation": "申请执行人:王文华;被执行人:李国强",
    "one role per line": "申请执行人：王文华\n被执行人：李国强",
    "no colon": "申请执行人王文华；被执行人李国强",
    "no roles": "王文华、李国强",
    "roles separated by a comma": "申请执行人：王文华，被执行人：李国强",
    "roles separated by a space": "申请执行人：王文华 被执行人：李国强",
    "several applicants (等N人)": "申请执行人：王文华等3人；被执行人：李国强",
}


@pytest.mark.parametrize("parties", PARTY_SPELLINGS.values(), ids=PARTY_SPELLINGS.keys())
def test_names_are_masked_however_the_parties_cell_is_typed(parties: str) -> None:
    facts = "申请执行人王文华与被执行人李国强民间借贷纠纷一案，李国强未履行。"
    masked = redact.mask({"facts": facts, "parties": parties}, parties_text=parties, keep_debtor_names=False)
    for key, value in masked.texts.items():
        assert "王文华" not in value and "李国强" not in value, f"{key}: {value}"
    assert masked.texts["facts"] == "申请执行人王某与被执行人李某民间借贷纠纷一案，李某未履行。"


@pytest.mark.parametrize("name, alias", [("欧阳小明", "欧阳某"), ("诸葛明亮", "诸葛某"), ("司马光", "司马某")])
def test_a_compound_surname_stays_whole(name: str, alias: str) -> None:
    parties = f"申请执行人：{name}；被执行人：李国强"
    masked = redact.mask({"facts": f"{name}与李国强纠纷一案，{name}申请执行"}, parties_text=parties,
                         keep_debtor_names=False)
    assert masked.texts["facts"] == f"{alias}与李某纠纷一案，{alias}申请执行"


@pytest.mark.parametrize("names", [
    ("王文华", "王春生"),
    ("王文华", "王春华"),
    ("王文华", "王春华", "王小华"),
    ("陈海波", "陈海涛", "陈小波"),
], ids=["two", "two same last character", "three", "three sharing characters"])
def test_parties_with_the_same_surname_get_distinct_pseudonyms(names: tuple[str, ...]) -> None:
    parties = "申请执行人：" + names[0] + "；被执行人：" + "、".join(names[1:])
    texts = {f"n{i}": name for i, name in enumerate(names)}
    masked = redact.mask(texts, parties_text=parties, keep_debtor_names=False).texts
    aliases = [masked[f"n{i}"] for i in range(len(names))]
    assert len(set(aliases)) == len(names), f"{names} → {aliases}: two people would read as one"
    for name, alias in zip(names, aliases):
        assert alias != name and alias.startswith(name[0] + "某")


def test_an_already_masked_name_is_left_alone() -> None:
    parties = "申请执行人：王某华；被执行人：李某强"
    texts = {"facts": "申请执行人王某华与被执行人李某强买卖合同纠纷一案", "parties": parties}
    masked = redact.mask(texts, parties_text=parties, keep_debtor_names=False)
    assert masked.texts == texts
    assert not masked.counts.get("姓名")


def test_a_masked_and_an_unmasked_party_side_by_side() -> None:
    parties = "申请执行人：王某华；被执行人：李国强"
    masked = redact.mask({"facts": "王某华与李国强"}, parties_text=parties, keep_debtor_names=False)
    assert masked.texts["facts"] == "王某华与李某"


def _debtor_release(workspace: Workspace, kind: str) -> publishing.Release:
    fields = material(
        kind=kind, title="被执行人李国强拒不履行 被依法纳入失信名单",
        facts=f"申请执行人王文华与被执行人李国强（身份证号码：{DEMO_ID}）民间借贷纠纷一案，李国强应偿还借款28万元。",
        process=f"执行干警通过李国强预留的手机号码{DEMO_PHONE}多次联系，其均拒接电话。",
        outcome="李国强当场履行部分款项，王文华领取了执行款。",
        parties="申请执行人：王文华；被执行人：李国强", listing="在册")       # on the list today: names.py
    fields = {k: v for k, v in fields.items() if isinstance(v, str)}
    return publishing.compose(fields, kind=kind, draft_id="D-2026-000001",
                              settings=workspace.settings)


def test_the_public_name_kinds_are_the_dishonest_debtor_kinds(workspace: Workspace) -> None:
    assert set(workspace.settings.redact.public_name_kinds) == {"惩戒失信", "教科书式老赖"}


@pytest.mark.parametrize("kind", ["惩戒失信", "教科书式老赖"])
def test_in_public_name_kinds_the_debtor_stays_named_but_the_applicant_and_numbers_do_not(
        workspace: Workspace, kind: str) -> None:
    assert kind in workspace.settings.redact.public_name_kinds
    release = _debtor_release(workspace, kind)
    for where in (release.headline, release.text, release.html):
        assert "李国强" in where
        assert "王文华" not in where
        assert DEMO_ID not in where and DEMO_PHONE not in where
        assert redact.find(where, allowed=COURT_NUMBERS) == []
    assert "王某" in release.text
    assert DEMO_ID_MASKED in release.text and DEMO_PHONE_MASKED in release.text
    assert not any(partial in release.text for partial in PARTIAL_FORMS)


@pytest.mark.parametrize("kind", ["执行成功", "打击拒执", "执行不能"])
def test_in_other_kinds_the_debtor_is_masked_too(workspace: Workspace, kind: str) -> None:
    assert kind not in workspace.settings.redact.public_name_kinds
    release = _debtor_release(workspace, kind)
    for where in (release.headline, release.text, release.html):
        assert "李国强" not in where and "王文华" not in where
        assert redact.find(where, allowed=COURT_NUMBERS) == []
    assert release.headline == "被执行人李某拒不履行 被依法纳入失信名单"
    assert DEMO_ID_MASKED in release.text and DEMO_PHONE_MASKED in release.text
    assert not any(partial in release.text for partial in PARTIAL_FORMS)
    assert set(release.masked) == {"姓名 9 处", "身份证号 1 处", "手机号 1 处"}


# --- the guard, on hand-built messages ---------------------------------------------------

CLEAN_RELEASE = ("被执行人李某拒不履行 被依法拘留十五日\n\n"
                 "近日，儋州市人民法院执行一组在办理（2026）琼9003执1234号案件过程中，依法对被执行人李某司法拘留。\n\n"
                 "【执行结果】\n\n李某当场履行28万元，案件执行完毕。\n\n"
                 f"来源：儋州市人民法院\n发布日期：2026年11月28日\n{COURT_CONTACT}\n")


def media_message(*, subject: str = "儋州市人民法院新闻通稿：被执行人李某拒不履行 被依法拘留十五日",
                  text: str = CLEAN_RELEASE, html_body: str | None = None, name: str = "《法制时报》郑丽华",
                  docx: bytes | None = None, filename: str = "被执行人李某拒不履行.docx") -> bytes:
    if html_body is None:
        html_body = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line)
    if docx is None:
        docx = release_docx(text, title=text.partition("\n")[0], author="儋州市人民法院", at=AT)
    outgoing = Outgoing(MessageKey("release", "D-2026-000001"), "release", "news@fzsb.example", subject, text, html_body,
                        (Attachment(filename, docx, DOCX_TYPE),), name=name)
    return as_bytes(build(outgoing, sender=SENDER, now=AT))



def test_a_clean_media_message_passes_the_guard() -> None:
    data = media_message()
    assert redact.guard(data, allowed=COURT_NUMBERS) is None


def test_the_courts_own_number_blocks_unless_allowed() -> None:
    data = media_message()
    with pytest.raises(redact.Blocked) as caught:
        redact.guard(data)
    assert caught.value.found.kind == "固定电话"


LEAKS = {
    "id in the attachment": (dict(docx=release_docx(CLEAN_RELEASE + f"\n被执行人身份证号{DEMO_ID}\n", title="稿件",
                                                                 author="儋州市人民法院", at=AT)),
                             "附件 被执行人李某拒不履行.docx", "身份证号"),
    "id split across Word runs": (dict(docx=docx_of_runs("身份证号4600031985", "0317125X")),
                                  "附件 被执行人李某拒不履行.docx", "身份证号"),
    "mobile in the subject": (dict(subject=f"被执行人李某（电话{DEMO_PHONE}）被拘留"), "主题", "手机号"),
    "mobile in the To name": (dict(name=f"《儋州晚报》{DEMO_PHONE}"), "收件人", "手机号"),
    "bank card in the plain text": (dict(text=CLEAN_RELEASE + "冻结账户6222 0212 3456 7890\n",
                                         html_body="<p>ok</p>"), "正文", "银行卡号"),
    "mobile split by HTML tags": (dict(html_body="<p>电话<b>139</b>0756<i>1234</i></p>"), "HTML 正文", "手机号"),
    "mobile as HTML entities": (dict(html_body="<p>电话&#49;&#51;&#57;07561234</p>"), "HTML 正文", "手机号"),
    "landline in the attachment name": (dict(filename="联系0898-23881234.docx"), "附件名", "固定电话"),
}


@pytest.mark.parametrize("overrides, where, kind", LEAKS.values(), ids=LEAKS.keys())
def test_the_guard_blocks_a_message_that_still_carries_an_identifier(overrides, where: str, kind: str) -> None:
    data = media_message(**overrides)
    with pytest.raises(redact.Blocked) as caught:
        redact.guard(data, allowed=COURT_NUMBERS)
    blocked = caught.value
    assert blocked.where == where
    assert blocked.found.kind == kind
    message = str(blocked)
    assert where in message and kind in message
    # The reason goes to the office and the ledger: it must not repeat the number whole.
    assert digits_only(blocked.found.text) not in digits_only(message)


def test_the_guard_names_the_attachment_for_an_id_number_in_a_release_docx() -> None:
    docx = release_docx(f"稿件标题\n\n被执行人黄某（身份证号码：{DEMO_ID}）应偿还借款\n", title="稿件标题",
                        author="儋州市人民法院", at=AT)
    assert DEMO_ID in docx_text(docx)
    with pytest.raises(redact.Blocked, match=r"^附件 .*\.docx 中仍有未遮蔽的身份证号"):
        redact.guard(media_message(docx=docx), allowed=COURT_NUMBERS)


# --- end to end: the demo workbook ----------------------------------------------------------

@dataclass
class DemoRun:
    workspace: Workspace
    drafted: list[str]
    published: publishing.PublishRun
    mail: dict[str, dict[str, str]]          # outbox file name → parts(message), every message sent

    def media(self) -> dict[str, dict[str, str]]:
        """Every message that leaves the court: the media's and the national network's."""
        return {name: places for name, places in self.mail.items() if "-release-" in name or "-network-" in name}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """init --demo, then pull, draft, approve every draft and publish, once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_NOW", NOW)
        workspace = Workspace.create(tmp_path_factory.mktemp("demo"))
        workspace.cli("init", "--demo", check=True)
        settings = workspace.settings
        run_job(settings, pulling.pull)
        drafted = run_job(settings, publishing.draft).drafted
        approve_all(settings, drafted)
        published = run_job(settings, publishing.publish)
    mail = {path.name: parts(message) for path, message in outbox(workspace)}
    return DemoRun(workspace, drafted, published, mail)


def media_messages(workspace: Workspace) -> list[tuple[Path, EmailMessage]]:
    return outbox(workspace, "release")


def attachment_words(places: dict[str, str]) -> list[str]:
    return [text for key, text in places.items()
            if key.startswith("attachment ") and not key.startswith("attachment name")]


def test_the_demo_publishes_every_draft_and_trips_no_guard(demo: DemoRun) -> None:
    assert len(demo.drafted) >= 10
    assert demo.published.blocked == []
    assert sorted(demo.published.published) == sorted(demo.drafted)
    assert demo.published.report is not None and set(demo.published.report.counts) == {"sent"}
    assert len(demo.media()) == demo.published.report.counts["sent"]


def test_no_media_message_of_the_demo_carries_an_unmasked_identifier(demo: DemoRun) -> None:
    allowed = court_numbers(demo.workspace.settings)
    assert allowed, "the demo config names the court's number in [court] contact"
    messages = demo.media()
    assert messages
    for name, places in messages.items():
        assert len(attachment_words(places)) == 1, f"{name}: one .docx attached"
        for where, text in places.items():
            assert redact.find(text, allowed=allowed) == [], f"{name} {where}"


def test_the_demos_id_number_and_phone_reach_no_one_not_even_in_part_but_the_placeholder_does(demo: DemoRun) -> None:
    seen_id = seen_phone = 0
    for name, places in demo.mail.items():                 # every message, media and office alike
        for where, text in places.items():
            for number in (DEMO_ID, DEMO_PHONE):
                assert number not in folded(text), f"{name} {where}"
                assert number not in digits_only(text), f"{name} {where}"
            for partial in PARTIAL_FORMS:
                assert partial not in folded(text), f"{name} {where}"
            assert "125X" not in folded(text).upper(), f"{name} {where}"
    for places in demo.media().values():
        (docx,) = attachment_words(places)
        if DEMO_ID_MASKED in places["plain"]:
            seen_id += 1
            assert DEMO_ID_MASKED in places["html words"] and DEMO_ID_MASKED in docx
        if DEMO_PHONE_MASKED in places["plain"]:
            seen_phone += 1
            assert DEMO_PHONE_MASKED in places["html words"] and DEMO_PHONE_MASKED in docx
    # The ledger keeps no ID-card number: it holds the placeholder, which the release carries.
    assert seen_id >= 1 and seen_phone >= 1


# Natural persons in the demo's 当事人 column, except the 被执行人 of the public-name kinds.
DEMO_PRIVATE_PERSONS = ("王文华", "李国强", "羊美玲", "吴志坚", "黎春花", "邓丽娟", "符小梅", "陈亚福",
                        "钟海燕", "郑志勇", "蔡文斌", "谢光明", "周秀英", "刘海军", "王春生", "吴家明", "林小燕")


def test_no_private_person_of_the_demo_is_named_to_the_media(demo: DemoRun) -> None:
    leaks: dict[str, set[str]] = {}
    for places in demo.media().values():
        headline = places["subject"].partition("：")[2]
        for text in places.values():
            for name in DEMO_PRIVATE_PERSONS:
                if name in text:
                    leaks.setdefault(name, set()).add(headline)
    assert not leaks, f"natural persons named to the media: {leaks}"


# --- end to end: the guard stops what masking missed ------------------------------------------

@pytest.mark.parametrize("contacts", [
    [MEDIA[0], LEAKY_OUTLET, MEDIA[1]],
    [LEAKY_OUTLET, MEDIA[0], MEDIA[1]],
], ids=["leaky contact in the middle", "leaky contact first"])
def test_a_media_message_that_still_carries_a_phone_is_not_delivered(
        workspace: Workspace, smtp_server, contacts: list[dict]) -> None:
    """Only the leaky contact's message is stopped, wherever it stands in the 媒体 tab."""
    settings = smtp_server.configure(workspace)
    workspace.make_workbook([material()], media=contacts)
    run_job(settings, pulling.pull)
    drafted = run_job(settings, publishing.draft).drafted
    assert len(drafted) == 1
    approve_all(settings, drafted)
    run = run_job(settings, publishing.publish)

    draft_id = drafted[0]
    assert run.published == [draft_id]
    assert [d for d, _ in run.blocked] == [draft_id]
    assert "手机号" in run.blocked[0][1]
    # The leaky contact got nothing; the others got the release.
    recipients = smtp_server.handler.recipients()
    assert LEAKY_OUTLET["email"] not in recipients
    assert smtp_server.handler.rcpt_attempts.count(LEAKY_OUTLET["email"]) == 0
    assert recipients.count(MEDIA[0]["email"]) == 1 and recipients.count(MEDIA[1]["email"]) == 1
    with Ledger(workspace.ledger) as ledger:
        blocked = ledger.delivery(f"release/{draft_id}", LEAKY_OUTLET["email"])
        assert blocked["state"] == "blocked"
        assert "手机号" in blocked["detail"] and "收件人" in blocked["detail"]
        assert DEMO_PHONE not in blocked["detail"]
        for contact in (MEDIA[0], MEDIA[1]):
            assert ledger.delivery(f"release/{draft_id}", contact["email"])["state"] == "sent"
    # The office hears of it at once.
    alerts = [m.parse() for m in smtp_server.handler.messages if "发布被拦截" in str(m.parse()["Subject"])]
    assert len(alerts) == 1
    assert alerts[0]["To"].addresses[0].addr_spec == OFFICE
    assert draft_id in str(alerts[0]["Subject"])
    assert "手机号" in alerts[0].get_body(("plain",)).get_content()
    # Nothing that left the building carries the number.
    for received in smtp_server.handler.messages:
        for where, text in parts(received.parse()).items():
            assert DEMO_PHONE not in text, where


def test_a_release_blocked_before_queueing_does_not_let_other_releases_skip_the_guard(
        workspace: Workspace, smtp_server) -> None:
    """One release blocked at the pre-queue check must not flush the others' messages unguarded."""
    settings = smtp_server.configure(workspace)
    workspace.make_workbook([material(), material(title="第二篇稿件 被执行人主动履行", case_number="（2026）琼9003执1235号")],
                            media=[MEDIA[0], LEAKY_OUTLET])
    run_job(settings, pulling.pull)
    drafted = run_job(settings, publishing.draft).drafted
    assert len(drafted) == 2
    approve_all(settings, drafted)
    with Ledger(workspace.ledger) as ledger:
        ledger.db.execute("UPDATE drafts SET release_text = release_text || ' 13907561234' WHERE id = ?",
                          (drafted[1],))
    run_job(settings, publishing.publish)

    assert LEAKY_OUTLET["email"] not in smtp_server.handler.recipients()
    for received in smtp_server.handler.messages:
        for where, text in parts(received.parse()).items():
            assert DEMO_PHONE not in text, f"{received.rcpt_tos} {where}"
    with Ledger(workspace.ledger) as ledger:
        assert ledger.delivery(f"release/{drafted[0]}", LEAKY_OUTLET["email"])["state"] == "blocked"
        assert ledger.draft(drafted[1])["state"] == "blocked"


# --- end to end: the release-level check before anything is queued -----------------------------

def approved_then_corrupted(workspace: Workspace, column: str, sql: str) -> str:
    """One approved draft whose stored release was then changed to carry a phone number.

    Test setup only: a corrupted ledger (or a release edited behind the office's back)."""
    workspace.make_workbook([material()], media=MEDIA)
    settings = workspace.settings
    run_job(settings, pulling.pull)
    drafted = run_job(settings, publishing.draft).drafted
    assert len(drafted) == 1
    approve_all(settings, drafted)
    with Ledger(workspace.ledger) as ledger:
        ledger.db.execute(f"UPDATE drafts SET {column} = {sql} WHERE id = ?", (drafted[0],))
    return drafted[0]


def assert_blocked_before_queueing(workspace: Workspace, draft_id: str, where: str) -> None:
    with Ledger(workspace.ledger) as ledger:
        row = ledger.draft(draft_id)
        assert row["state"] == "blocked"
        assert where in row["reason"] and "手机号" in row["reason"]
        assert DEMO_PHONE not in row["reason"]
        assert ledger.deliveries("release/") == []          # nothing was queued for the media
        alerts = ledger.deliveries("blocked/")
        assert [(a["recipient"], a["state"]) for a in alerts] == [(OFFICE, "sent")]
    assert media_messages(workspace) == []
    alert_mail = outbox(workspace, "alert")
    assert len(alert_mail) == 1
    alert = alert_mail[0][1]
    assert "发布被拦截" in str(alert["Subject"]) and draft_id in str(alert["Subject"])
    body = alert.get_body(("plain",)).get_content()
    assert "手机号" in body
    for text in parts(alert).values():
        assert DEMO_PHONE not in text


def test_the_publish_command_blocks_a_stored_release_that_carries_a_phone(workspace: Workspace) -> None:
    draft_id = approved_then_corrupted(workspace, "release_text", "release_text || ' 13907561234'")

    result = workspace.cli("publish")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "已拦截" in result.stdout and draft_id in result.stdout
    assert "手机号" in result.stdout
    assert DEMO_PHONE not in result.stdout + result.stderr
    assert_blocked_before_queueing(workspace, draft_id, "正文")
    # A blocked release cannot be approved again and slip out on the next run.
    with pytest.raises(UsageError, match="拦截"):
        run_job(workspace.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    again = run_job(workspace.settings, publishing.publish)
    assert again.published == [] and media_messages(workspace) == []


@pytest.mark.parametrize("column, sql, where", [
    ("release_html", "release_html || '<p>13907561234</p>'", "HTML"),
    ("release_html", "release_html || '<p>139<b>0756</b>1234</p>'", "HTML"),
    ("release_text", "'13907561234 ' || release_text", "标题"),
    ("release_text", "release_text || ' 139-0756-1234'", "正文"),
], ids=["html", "html split by tags", "headline", "text with dashes"])
def test_a_stored_release_that_carries_an_identifier_anywhere_is_blocked_before_queueing(
        workspace: Workspace, column: str, sql: str, where: str) -> None:
    draft_id = approved_then_corrupted(workspace, column, sql)
    run = run_job(workspace.settings, publishing.publish)
    assert run.published == []
    assert [d for d, _ in run.blocked] == [draft_id]
    assert_blocked_before_queueing(workspace, draft_id, where)


# Debtors of the demo who paid in full and left the list (已移除): the dishonest-debtor kinds
# do not make their names public any more.
DEMO_REMOVED_DEBTORS = ("陈海波", "何振东", "张建华")


def test_debtors_of_the_demo_who_left_the_list_are_named_to_no_one(demo: DemoRun) -> None:
    for name, places in demo.media().items():
        for where, text in places.items():
            for person in DEMO_REMOVED_DEBTORS:
                assert person not in text, f"{name} {where}: {person}"


def test_a_debtor_of_the_demo_who_is_still_listed_is_named_in_the_deadbeat_release(demo: DemoRun) -> None:
    named = [places for places in demo.media().values() if "黄德才" in places["plain"]]
    assert named and all("黄德才" in places["html words"] for places in named)


def test_every_draft_of_the_demo_passes_the_fact_check(demo: DemoRun) -> None:
    with Ledger(demo.workspace.ledger) as ledger:
        failing = {d: ledger.review_of(ledger.draft(d)).get("checks") for d in demo.drafted}
    assert {d: c for d, c in failing.items() if c} == {}


def test_debtors_of_the_demo_who_left_the_list_are_in_no_channel_version(demo: DemoRun) -> None:
    files = list((demo.workspace.root / "outbox" / "channels").rglob("*.*"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        for person in DEMO_REMOVED_DEBTORS:
            assert person not in text, f"{path.name}: {person}"
