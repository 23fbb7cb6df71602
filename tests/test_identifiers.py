"""Identifiers however people and OCR write them: found, masked whole, stopped by the guard.

One table of planted identifiers (ID cards, mobiles, landlines, bank cards,
partly masked forms, licence plates, home addresses), each written the way a
clerk, a phone keyboard or an OCR pass produces it, inside a Chinese
sentence. For every one of them, through the public functions only:

- ``redact.find`` finds it (one finding, of the right kind);
- ``redact.mask`` replaces it whole by the placeholder ``×××`` (a plate keeps
  its province and letter, an address its administrative part), so that no
  digit of it and no partial form survives;
- ``redact.guard`` stops a built message carrying it in the subject, the text
  body, the HTML body (split by inline tags) or a .docx whose paragraph splits
  it over Word runs; ``redact.guard_fields`` does the same on the fields;
- the reason never repeats more than 3 leading and 2 trailing digits.

And ordinary text — case numbers, amounts, dates, Chinese numerals, the
court's own number, the demo material and every release template — is never
flagged and never changed.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import pytest
from conftest import PROJECT, docx_of_runs
from docx import Document

from pipeline.core.model import MessageKey
from pipeline.app import demo_data
from pipeline.flows import publishing
from pipeline.mail.message import Attachment, Outgoing, as_bytes, build
from pipeline.texts import redact
from pipeline.texts.document import DOCX_TYPE, release_docx

AT = datetime.fromisoformat("2026-11-26T10:00:00+08:00")
SENDER = "执行宣传工作办公室 <office@court.example>"
COURT_CONTACT = "联系人：高琼芳　电话：0898-23300000"
COURT_NUMBERS = ("0898-23300000",)
PLACEHOLDER = "×××"

# Chinese numerals read digit by digit (幺 is how 1 is read out in phone numbers).
CHINESE_DIGITS = {**{c: i for i, c in enumerate("〇一二三四五六七八九")},
                  **{c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}, "幺": 1}
MASK_CHARACTERS = "*＊×✱•●■□○#？?"


# --- helpers (independent of pipeline.redact) ---------------------------------------------

def ascii_digits(text: str) -> str:
    """Every digit of ``text`` in any script (ASCII, full-width, 𝟏, ١, ۱, 一 …) as ASCII; other characters kept."""
    out = []
    for char in text:
        value = unicodedata.digit(char, None)
        if value is None:
            value = CHINESE_DIGITS.get(char)
        out.append(str(value) if value is not None else char)
    return "".join(out)


def digits_in(text: str) -> str:
    return re.sub(r"[^0-9]", "", ascii_digits(text))


@dataclass(frozen=True)
class Planted:
    before: str
    number: str
    after: str
    kind: str
    masked: str = ""         # what mask() makes of the whole sentence; default: before + ××× + after

    @property
    def text(self) -> str:
        return self.before + self.number + self.after

    @property
    def expected(self) -> str:
        return self.masked or self.before + PLACEHOLDER + self.after


ID, MOBILE, LANDLINE, CARD = "身份证号", "手机号", "固定电话", "银行卡号"
PARTIAL = "（部分遮蔽）"
PLATE, ADDRESS = "车牌号", "住址"

PLANTED = {
    # --- ID-card numbers: every separator, every script ---------------------------------
    "id plain": Planted("被执行人身份证号码", "460003198503171234", "，其拒不履行", ID),
    "id ending in X": Planted("黄某（身份证号码：", "46000319850317125X", "）应偿还借款", ID),
    "id double spaces": Planted("身份证号 ", "460003  19850317  125X", " 的被执行人", ID),
    "id tabs": Planted("身份证号：", "460003\t19850317\t125X", "。", ID),
    "id slashes": Planted("身份证号：", "460003/19850317/125X", "。", ID),
    "id full-width slashes": Planted("身份证号：", "460003／19850317／125X", "。", ID),
    "id line breaks": Planted("身份证号：\n", "460003\n19850317\n125X", "\n已核实", ID),
    "id CRLF": Planted("身份证号：", "460003\r\n19850317\r\n125X", "。", ID),
    "id full-width digits and dots": Planted("身份证号", "４６０００３．１９８５０３１７．１２５Ｘ", "。", ID),
    "id mathematical bold": Planted("身份证号", "𝟒𝟔𝟎𝟎𝟎𝟑𝟏𝟗𝟖𝟓𝟎𝟑𝟏𝟕𝟏𝟐𝟓X", "。", ID),
    "id Arabic-Indic": Planted("身份证号", "٤٦٠٠٠٣١٩٨٥٠٣١٧١٢٣٤", "。", ID),
    "id Chinese numerals": Planted("身份证号码为", "四六〇〇〇三一九八五〇三一七一二三四", "的被执行人", ID),
    "id 15 digits with underscores": Planted("旧身份证号", "460003_850317_125", "已作废", ID),
    "id spaced dashes": Planted("证件号", "460003 - 19850317 - 125X", "。", ID),
    "id middle dots": Planted("身份证号", "460003·19850317·125X", "。", ID),
    "id ideographic spaces": Planted("身份证号：", "460003\u3000\u300019850317\u3000125X", "。", ID),
    "id check character ×": Planted("身份证号", "46000319850317125×", "。", ID),
    "id after a Latin x": Planted("编号x", "46000319850317125X", "。", ID, "编号x×××。"),
    "id after a Latin word": Planted("ID card No", "46000319850317125X", "。", ID, "ID card No×××。"),
    # --- mobile numbers -------------------------------------------------------------------
    "mobile spaces and tab": Planted("联系电话", "139  0756\t1234", "，", MOBILE),
    "mobile enumeration commas": Planted("手机", "139、0756、1234", "，", MOBILE),
    "mobile full-width dots": Planted("手机", "139．0756．1234", "，", MOBILE),
    "mobile line breaks": Planted("手机：\n", "139\n0756\n1234", "\n已停机", MOBILE),
    "mobile CRLF": Planted("手机：", "139\r\n0756\r\n1234", "。", MOBILE),
    "mobile slashes": Planted("手机", "139/0756/1234", "。", MOBILE),
    "mobile full-width slashes": Planted("手机", "139／0756／1234", "。", MOBILE),
    "mobile em dashes": Planted("手机", "139—0756—1234", "。", MOBILE),
    "mobile en dashes": Planted("手机", "139–0756–1234", "。", MOBILE),
    "mobile underscores": Planted("手机", "139_0756_1234", "。", MOBILE),
    "mobile middle dots": Planted("手机", "139·0756·1234", "。", MOBILE),
    "mobile katakana middle dots": Planted("手机", "139・0756・1234", "。", MOBILE),
    "mobile dots": Planted("手机", "139.0756.1234", "。", MOBILE),
    "mobile full-width digits and dashes": Planted("手机", "１３９－０７５６－１２３４", "。", MOBILE),
    "mobile double-struck": Planted("手机", "𝟙𝟛𝟡𝟘𝟟𝟝𝟞𝟙𝟚𝟛𝟜", "。", MOBILE),
    "mobile Arabic-Indic": Planted("手机", "١٣٩٠٧٥٦١٢٣٤", "。", MOBILE),
    "mobile Extended Arabic-Indic": Planted("手机", "۱۳۹۰۷۵۶۱۲۳۴", "。", MOBILE),
    "mobile Devanagari": Planted("手机", "१३९०७५६१२३४", "。", MOBILE),
    "mobile Chinese numerals": Planted("其手机号码为", "一三九零七五六一二三四", "，多次拨打无人接听", MOBILE),
    "mobile capital numerals": Planted("其手机号码为", "壹叁玖零柒伍陆壹贰叁肆", "，多次拨打无人接听", MOBILE),
    "mobile Chinese numerals in groups": Planted("手机", "一三九 〇七五六 一二三四", "。", MOBILE),
    "mobile mixed scripts": Planted("手机", "139０７５６一二三四", "。", MOBILE),
    "mobile zero-width spaces": Planted("手机", "139\u200b0756\u200b1234", "。", MOBILE),
    "mobile +86 with dashes": Planted("电话：", "+86-139-0756-1234", "，", MOBILE, "电话：+86-×××，"),
    "mobile with its head in brackets": Planted("电话", "（139）0756-1234", "。", MOBILE),
    # --- landlines ------------------------------------------------------------------------
    "landline grouped": Planted("固定电话", "0898-2388 1234", "。", LANDLINE),
    "landline spaced": Planted("电话", "0898 23881234", "。", LANDLINE),
    "landline brackets and dash": Planted("电话", "（0898）2388-1234", "。", LANDLINE),
    "landline full-width slash": Planted("电话", "0898／23881234", "。", LANDLINE),
    "landline Chinese numerals": Planted("电话", "〇八九八－二三八八一二三四", "。", LANDLINE),
    "landline Beijing": Planted("电话", "010-62881234", "。", LANDLINE),
    # --- bank cards -----------------------------------------------------------------------
    "card double spaces": Planted("卡号", "6222  0212  3456  7890", "已冻结", CARD),
    "card dashes 19": Planted("账号", "6222-0212-3456-7890-123", "已冻结", CARD),
    "card slashes": Planted("账号", "6222/0212/3456/7890", "已冻结", CARD),
    "card line breaks": Planted("账号：\n", "6222\n0212\n3456\n7890", "\n已冻结", CARD),
    "card full-width": Planted("账号", "６２２２　０２１２　３４５６　７８９０", "已冻结", CARD),
    "card Chinese numerals": Planted("账号", "六二二二〇二一二三四五六七八九〇", "已冻结", CARD),
    # --- partly masked: they must not leave either --------------------------------------------
    "partial id middle": Planted("身份证号", "460003********125X", "。", ID + PARTIAL),
    "partial id birth date": Planted("身份证号", "4600031985****125X", "。", ID + PARTIAL),
    "partial id spaced": Planted("身份证号", "460003 1985**** 125X", "。", ID + PARTIAL),
    "partial mobile": Planted("手机", "138****0000", "。", MOBILE + PARTIAL),
    "partial mobile spaced": Planted("手机", "139 **** 1234", "。", MOBILE + PARTIAL),
    "partial mobile tail": Planted("手机", "1390756****", "。", MOBILE + PARTIAL),
    "partial mobile ＊": Planted("手机", "139＊＊＊＊1234", "。", MOBILE + PARTIAL),
    "partial mobile ×": Planted("手机", "139××××1234", "。", MOBILE + PARTIAL),
    "partial mobile ✱": Planted("手机", "139✱✱✱✱1234", "。", MOBILE + PARTIAL),
    "partial mobile •": Planted("手机", "139••••1234", "。", MOBILE + PARTIAL),
    "partial mobile ●": Planted("手机", "139●●●●1234", "。", MOBILE + PARTIAL),
    "partial mobile ■": Planted("手机", "139■■■■1234", "。", MOBILE + PARTIAL),
    "partial mobile □": Planted("手机", "139□□□□1234", "。", MOBILE + PARTIAL),
    "partial mobile ○": Planted("手机", "139○○○○1234", "。", MOBILE + PARTIAL),
    "partial mobile #": Planted("手机", "139####1234", "。", MOBILE + PARTIAL),
    "partial mobile ？": Planted("手机", "139？？？？1234", "。", MOBILE + PARTIAL),
    "partial mobile ?": Planted("手机", "139????1234", "。", MOBILE + PARTIAL),
    "partial mobile mixed masks": Planted("手机", "139*×●?1234", "。", MOBILE + PARTIAL),
    "partial card": Planted("卡号", "6222 **** **** 1234", "。", CARD + PARTIAL),
    "partial landline": Planted("电话", "0898-2388****", "。", LANDLINE + PARTIAL),
    # --- licence plates ----------------------------------------------------------------------
    "plate": Planted("车牌号为", "琼A12345", "的小型轿车", PLATE, "车牌号为琼A×××××的小型轿车"),
    "plate with middle dot": Planted("查扣", "琼C·D8888", "号车辆", PLATE, "查扣琼C×××××号车辆"),
    "plate new energy": Planted("车牌号", "琼AD12345", "。", PLATE, "车牌号琼A×××××。"),
    "plate with spaces": Planted("车牌", "琼 A 12345", "，", PLATE, "车牌琼 A×××××，"),
    "plate full-width": Planted("车牌", "琼Ａ１２３４５", "，", PLATE, "车牌琼Ａ×××××，"),
    "plate with dash": Planted("名下", "粤B-12345", "轿车", PLATE, "名下粤B×××××轿车"),
    "plate katakana dot": Planted("名下", "琼A・12345", "轿车", PLATE, "名下琼A×××××轿车"),
    # --- home addresses down to the house number ----------------------------------------------
    "address after 住": Planted("被执行人李某，男，", "住儋州市那大镇人民路123号3栋201室", "，", ADDRESS,
                               "被执行人李某，男，住儋州市那大镇×××，"),
    "address after 家住": Planted("被执行人", "家住那大镇解放西路88号", "，", ADDRESS, "被执行人家住那大镇×××，"),
    "address after 现住": Planted("被执行人", "现住海南省儋州市中和镇东坡路5号2单元301室", "。", ADDRESS,
                                 "被执行人现住海南省儋州市中和镇×××。"),
    "address after 户籍所在地": Planted("被执行人", "户籍所在地海南省儋州市白马井镇新兴街12号", "；", ADDRESS,
                                    "被执行人户籍所在地海南省儋州市白马井镇×××；"),
    "address after 家庭住址": Planted("", "家庭住址：儋州市那大镇人民路１２３号", "。", ADDRESS,
                                  "家庭住址：儋州市那大镇×××。"),
    "address in Chinese numerals": Planted("被执行人", "住所儋州市那大镇人民路一二三号", "、", ADDRESS,
                                       "被执行人住所儋州市那大镇×××、"),
    "address after 居住在": Planted("其", "居住在儋州市那大镇某某小区3幢201室", "，", ADDRESS,
                                 "其居住在儋州市那大镇×××，"),
    "address after 住址": Planted("被执行人（", "住址：儋州市东成镇某某村5组18号", "）", ADDRESS,
                               "被执行人（住址：儋州市东成镇×××）"),
    "address after 户籍地": Planted("被执行人", "户籍地儋州市木棠镇12号", "，", ADDRESS, "被执行人户籍地儋州市木棠镇×××，"),
}


def fold_masks(text: str) -> str:
    """The placeholders (××× and a plate's ×××××) taken out: what is left must carry no mask character."""
    return re.sub("×{3,}", "", text)


# --- (a) found -------------------------------------------------------------------------------

@pytest.mark.parametrize("case", PLANTED.values(), ids=PLANTED.keys())
def test_every_planted_identifier_is_found(case: Planted) -> None:
    found = redact.find(case.text, allowed=COURT_NUMBERS)
    assert [f.kind for f in found] == [case.kind], f"{case.text!r}: {found}"


# --- (b) masked whole ------------------------------------------------------------------------

@pytest.mark.parametrize("case", PLANTED.values(), ids=PLANTED.keys())
def test_every_planted_identifier_is_masked_whole(case: Planted) -> None:
    masked = redact.mask({"facts": case.text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS)
    text = masked.texts["facts"]
    assert text == case.expected
    # No digit of it, in any script, and no partial form survives.
    if not case.masked:
        assert digits_in(text) == digits_in(case.before + case.after)
    rest = fold_masks(text)
    assert not any(c in rest for c in MASK_CHARACTERS if c not in case.before + case.after)
    assert redact.find(text, allowed=COURT_NUMBERS) == []
    assert masked.counts == {case.kind: 1}
    assert masked.notes() == [f"{case.kind} 1 处"]


def test_the_masker_keeps_no_head_or_tail_of_a_number() -> None:
    text = "身份证号46000319850317125X，手机139-0756-1234，账户6222 0212 3456 7890，电话0898-23881234。"
    masked = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS)
    assert masked.texts["facts"] == "身份证号×××，手机×××，账户×××，电话×××。"
    assert masked.counts == {ID: 1, MOBILE: 1, CARD: 1, LANDLINE: 1}


def test_two_identifiers_in_one_run_are_two_findings_and_the_courts_number_beside_them_stays() -> None:
    text = "电话13907561234、0898-23300000、13907565678。"
    assert [f.kind for f in redact.find(text, allowed=COURT_NUMBERS)] == [MOBILE, MOBILE]
    masked = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS)
    assert masked.texts["facts"] == "电话×××、0898-23300000、×××。"
    assert masked.counts == {MOBILE: 2}
    assert redact.find(masked.texts["facts"], allowed=COURT_NUMBERS) == []


@pytest.mark.parametrize("text, kinds, masked", [
    ("卡号6222 0212 3456 7890 6222 0212 3456 7891。", [CARD, CARD], "卡号××× ×××。"),
    ("卡号6222021234567890 6222021234567891。", [CARD, CARD], "卡号××× ×××。"),
    ("卡号6222 **** **** 1234 6222 **** **** 5678。", [CARD + PARTIAL] * 2, "卡号××× ×××。"),
    ("6222 0212 3456 7890 123 13907561234 46000319850317125X。", [CARD, MOBILE, ID], "××× ××× ×××。"),
    ("于2026-11-28 13907561234联系", [MOBILE], "于2026-11-28 ×××联系"),
    ("13907561234 13907565678", [MOBILE, MOBILE], "××× ×××"),
], ids=["two cards", "two cards in one piece each", "two partly masked cards", "card, mobile and ID",
        "date and mobile", "two mobiles"])
def test_several_numbers_in_one_run_are_told_apart(text: str, kinds: list[str], masked: str) -> None:
    assert [f.kind for f in redact.find(text, allowed=COURT_NUMBERS)] == kinds
    result = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS)
    assert result.texts["facts"] == masked
    assert sum(result.counts.values()) == len(kinds)


# --- (c) the guard, on a real message ---------------------------------------------------------

CLEAN = ("被执行人李某拒不履行 被依法拘留十五日\n\n"
         "近日，儋州市人民法院执行一组在办理（2026）琼9003执1234号案件过程中，依法对被执行人李某司法拘留。\n\n"
         f"来源：儋州市人民法院\n发布日期：2026年11月28日\n{COURT_CONTACT}\n")
CLEAN_DOCX = release_docx(CLEAN, title="被执行人李某拒不履行", author="儋州市人民法院", at=AT)
FILENAME = "被执行人李某拒不履行.docx"



def clean_html(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line)


def message(*, subject: str = "儋州市人民法院新闻通稿：被执行人李某拒不履行", text: str = CLEAN,
            html_body: str | None = None, docx: bytes = CLEAN_DOCX) -> bytes:
    outgoing = Outgoing(MessageKey("release", "D-2026-000001"), "release", "news@fzsb.example", subject, text,
                        clean_html(text) if html_body is None else html_body,
                        (Attachment(FILENAME, docx, DOCX_TYPE),), name="《法制时报》郑丽华")
    return as_bytes(build(outgoing, sender=SENDER, now=AT))


def split_by_tags(text: str) -> str:
    """``text`` as HTML with inline tags between its characters: 139<b>0756</b><span>1234</span>."""
    tags = ("<b>", "</b>", "<span style=\"color:#333\">", "</span>", "<i>", "</i>", "<strong>", "</strong>")
    out = []
    for i, char in enumerate(text):
        out.append(html.escape(char) if char not in "\r\n" else char)
        if i % 3 == 2 and i < len(text) - 1:
            out.append(tags[(i // 3) % len(tags)])
    return "".join(out)


def split_in_three(text: str) -> tuple[str, str, str]:
    third = max(1, len(text) // 3)
    return text[:third], text[third:2 * third], text[2 * third:]


def places(case: Planted) -> dict[str, tuple[dict, str]]:
    """Where a planted identifier can ride in a message: overrides for message(), and the guard's name for it."""
    first, middle, last = split_in_three(case.number)
    found = {
        "text": ({"text": CLEAN + case.text + "\n"}, "正文"),
        "html split by tags": ({"html_body": clean_html(CLEAN) + "<p>" + html.escape(case.before)
                                + split_by_tags(case.number) + html.escape(case.after) + "</p>"}, "HTML 正文"),
        "docx split over runs": ({"docx": docx_of_runs(case.before + first, middle, last + case.after)},
                                 f"附件 {FILENAME}"),
    }
    if "\n" not in case.text and "\r" not in case.text:     # a subject is one line
        found["subject"] = ({"subject": "新闻通稿：" + case.text}, "主题")
    return found


GUARDED = [pytest.param(case, overrides, where, id=f"{name} in {place}")
           for name, case in PLANTED.items() for place, (overrides, where) in places(case).items()]


def test_a_clean_message_passes() -> None:
    assert redact.guard(message(), allowed=COURT_NUMBERS) is None


def assert_reason_hides_the_number(blocked: redact.Blocked, case: Planted) -> None:
    reason = str(blocked)
    assert blocked.where in reason and case.kind in reason
    hint = reason.rpartition("：")[2]
    shown = digits_in(hint)
    assert len(shown) <= 5, reason
    assert digits_in(case.number) not in digits_in(reason)


@pytest.mark.parametrize("case, overrides, where", GUARDED)
def test_the_guard_blocks_every_planted_identifier_wherever_it_rides(case: Planted, overrides: dict,
                                                                      where: str) -> None:
    with pytest.raises(redact.Blocked) as caught:
        redact.guard(message(**overrides), allowed=COURT_NUMBERS)
    assert caught.value.where == where
    assert caught.value.found.kind == case.kind
    assert_reason_hides_the_number(caught.value, case)


@pytest.mark.parametrize("case, overrides, where", GUARDED)
def test_the_field_guard_blocks_every_planted_identifier_wherever_it_rides(case: Planted, overrides: dict,
                                                                            where: str) -> None:
    fields = {"subject": "儋州市人民法院新闻通稿：被执行人李某拒不履行", "text": CLEAN, "html_body": clean_html(CLEAN),
              "docx": CLEAN_DOCX, **overrides}
    with pytest.raises(redact.Blocked) as caught:
        redact.guard_fields(subject=fields["subject"], name="《法制时报》郑丽华", text=fields["text"],
                            html=fields["html_body"], attachments=[(FILENAME, fields["docx"], DOCX_TYPE)],
                            allowed=COURT_NUMBERS)
    assert caught.value.where == where
    assert caught.value.found.kind == case.kind
    assert_reason_hides_the_number(caught.value, case)


@pytest.mark.parametrize("markup", [
    "<p>电话&#49;&#51;&#57;&#x30;&#x37;56&nbsp;1234</p>",
    "<p>电话139</p><p>0756</p><p>1234</p>",
    "<div>电话139<br>0756<br/>1234</div>",
    "<table><tr><td>电话</td><td>139</td><td>0756</td><td>1234</td></tr></table>",
    "<ul><li>139</li><li>0756</li><li>1234</li></ul>",
    "<p>电话<a href=\"#x\">139</a><font color=red>0756</font><sup>12</sup><sub>34</sub></p>",
    "<p>电话<u>139</u><em>0756</em><!-- note -->1234</p>",
    "<p>电话139\n          0756\n          1234</p>",
], ids=["entities and nbsp", "paragraphs", "line breaks", "table cells", "list items", "links and fonts",
        "underline, emphasis and a comment", "indented source"])
def test_html_is_read_as_a_reader_sees_it(markup: str) -> None:
    with pytest.raises(redact.Blocked) as caught:
        redact.guard(message(html_body=markup), allowed=COURT_NUMBERS)
    assert caught.value.where == "HTML 正文" and caught.value.found.kind == MOBILE


def test_html_text_drops_inline_tags_and_breaks_lines_at_blocks() -> None:
    assert redact.html_text("<p>电话<b>139</b>0756<i>1234</i></p>").strip() == "电话13907561234"
    assert redact.html_text("<p>第一段</p><p>第二段</p>").strip().split("\n") == ["第一段", "第二段"]
    assert redact.html_text("<td>甲</td><td>乙</td>").strip().split("\n") == ["甲", "乙"]
    assert redact.html_text("a&nbsp;b&#49;&#x32;&amp;").strip() == "a\u00a0b12&"
    assert redact.html_text("<p>a \n\t  b</p>").strip() == "a b"


def test_a_docx_is_read_paragraph_by_paragraph_with_its_runs_joined() -> None:
    document = Document()
    first = document.add_paragraph()
    for piece in ("身份证号", "4600031985", "0317125X"):
        first.add_run(piece)
    document.add_paragraph("第二段")
    buffer = io.BytesIO()
    document.save(buffer)
    text = redact.attachment_text(buffer.getvalue(), DOCX_TYPE)
    lines = [line for line in text.split("\n") if line.strip()]
    assert "身份证号46000319850317125X" in lines and "第二段" in lines


def test_the_same_text_is_guarded_alike_every_time() -> None:
    """The guard's cache never hides a finding: the second outlet's message is blocked like the first."""
    text = CLEAN + "手机139\n0756\n1234\n"
    for _ in range(3):
        with pytest.raises(redact.Blocked):
            redact.guard_fields(subject="s", name="", text=text, html="", attachments=[], allowed=COURT_NUMBERS)
    with pytest.raises(redact.Blocked):
        redact.guard_fields(subject="s", name="", text=text, html="", attachments=[], allowed=())


# --- (d) ordinary text is left alone -----------------------------------------------------------

ORDINARY = {
    "case number": "（2026）琼9003执1234号",
    "case number half-width": "(2026)琼9003执恢45号",
    "two case numbers": "（2026）琼9003执1234号、（2025）琼9003执567号",
    "amount in wan": "当场履行28万元，案件执行完毕",
    "amount with thousands": "人民币3,500元",
    "amount with decimals": "共计51.2万元",
    "date": "于2026年11月28日前履行",
    "iso date": "2026-11-28",
    "dotted date": "2026.11.28",
    "slashed date": "2026/11/28",
    "date range": "执行期间为2026.11.28—2026.12.05",
    "slashed date range": "2026/11/28/2026/12/05",
    "list of years": "2019、2020、2021、2022、2023、2024、2025、2026年",
    "years with spaces": "2019 2020 2021 2022 2023 2024 2025 2026",
    "date range in words": "2026年11月28日至2026年12月5日",
    "court contact": COURT_CONTACT,
    "court number written differently": "咨询电话（0898）23300000",
    "fifteen days": "依法决定对其司法拘留十五日",
    "sentence range": "处三年以上七年以下有期徒刑",
    "article": "依照《中华人民共和国刑法》第三百一十三条之规定",
    "enumeration": "一、基本案情；二、执行过程；三、执行结果",
    "year in Chinese numerals": "二〇二六年十一月二十八日",
    "birth date in Chinese numerals": "一九八五年三月十七日出生",
    "hotline": "拨打12368诉讼服务热线",
    "counts": "为32名农民工追回工资款117万元，拘传23人",
    "list of small numbers": "第1、2、3项",
    "already masked": "被执行人黄某（身份证号码：×××，手机号码：×××）",
    "placeholders beside a date": "手机×××、2026-11-28、×××",
    "masked year": "20××年××月××日",
    "masks alone": "×××与××××公司",
    "plate-like province words": "粤港澳大湾区、京港澳高速、新A轮融资",
    "province and case number": "琼9003执1234号",
    "residence word without a house number": "执行干警于清晨在那大镇其住所将其依法拘传到庭",
    "housing department": "会同住建部门、项目所在镇政府召开协调会",
    "hotel stay": "多次以本人身份入住三亚市某酒店",
    "court address": "本院地址：儋州市那大镇中兴大街12号",
    "company address": "儋州某某建材有限公司位于那大镇人民路88号",
    "residence in a town": "被执行人现住儋州市那大镇",
    "case number with spaces": "（2026） 琼9003执 88号",
    "amount in yuan": "判决偿还借款本金280000元",
    "large amount": "执行到位金额4600余万元",
    "date and time": "2026年11月28日15时30分",
}


@pytest.mark.parametrize("text", ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_text_is_not_flagged_and_not_changed(text: str) -> None:
    assert redact.find(text, allowed=COURT_NUMBERS) == []
    masked = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS)
    assert masked.texts["facts"] == text
    assert not any(masked.counts.values())


def test_a_residence_without_a_house_number_is_masked_but_not_flagged() -> None:
    text = "被执行人家住儋州市那大镇某某村，"
    assert redact.find(text) == []
    masked = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False)
    assert masked.texts["facts"] == "被执行人家住儋州市那大镇×××，"
    assert masked.counts == {ADDRESS: 1}


DEMO_TEXTS = {f"demo {n} {key}": row[key] for n, row in enumerate(demo_data.SUBMISSIONS, start=1)
              for key in ("title", "facts", "process", "outcome") if isinstance(row.get(key), str)}
DEMO_NUMBERS = ("46000319850317125X", "13907561234")


@pytest.mark.parametrize("text", DEMO_TEXTS.values(), ids=DEMO_TEXTS.keys())
def test_the_demo_material_changes_only_where_it_carries_an_identifier(text: str) -> None:
    masked = redact.mask({"text": text}, parties_text="", keep_debtor_names=True, allowed=COURT_NUMBERS)
    planted = [n for n in DEMO_NUMBERS if n in text]
    if planted:
        assert masked.texts["text"] == re.sub("|".join(planted), PLACEHOLDER, text)
    else:
        assert masked.texts["text"] == text
        assert redact.find(text, allowed=COURT_NUMBERS) == []
    assert redact.find(masked.texts["text"], allowed=COURT_NUMBERS) == []


RELEASE_KINDS = sorted(path.stem for path in (PROJECT / "templates" / "releases").glob("*.txt")
                       if not path.stem.startswith("_"))


@pytest.mark.parametrize("kind", RELEASE_KINDS)
def test_every_release_template_with_the_demo_material_yields_no_finding(workspace, kind: str) -> None:
    settings = workspace.settings
    allowed = redact.own_numbers(settings.court.contact)
    for row in demo_data.SUBMISSIONS:
        fields = {k: v for k, v in row.items() if isinstance(v, str)}
        release = publishing.compose(fields, kind=kind, draft_id="D-2026-000001", settings=settings)
        for where, text in (("text", release.text), ("html", redact.html_text(release.html)),
                            ("raw html", release.html),
                            ("docx", redact.attachment_text(release_docx(release.text, title=release.headline,
                                                                         author="儋州市人民法院", at=AT),
                                                            DOCX_TYPE))):
            assert redact.find(text, allowed=allowed) == [], f"{row['title']} {where}"
        assert {note.split(" ")[0] for note in release.masked} <= {"姓名", ID, MOBILE}, release.masked


@pytest.mark.parametrize("text, local", [("被执行人联系电话：23881234。", "23881234"),
                                         ("其电话 2388 1234，", "2388 1234"),
                                         ("座机号码：8123456", "8123456")])
def test_a_local_landline_after_a_phone_word_is_found_and_masked(text: str, local: str) -> None:
    assert [f.kind for f in redact.find(text, allowed=COURT_NUMBERS)] == ["固定电话"]
    masked = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS)
    assert local not in masked.texts["facts"] and redact.PLACEHOLDER in masked.texts["facts"]


def test_the_courts_own_local_number_after_a_phone_word_stays() -> None:
    contact = "联系人：高琼芳　电话：23300000"
    assert redact.find(contact, allowed=redact.own_numbers(contact)) == []


OCR_FORMS = ["手机139O7561234", "1390756I234", "l3907561234", "139 O756 1234", "身份证号460003l98805121234",
             "身份证号：460003 1988 O512 1234", "46000319880512l234", "460OO3198805121234", "6222O21234567890123"]


@pytest.mark.parametrize("text", OCR_FORMS)
def test_a_number_read_by_ocr_with_letters_for_digits_is_found_and_masked_whole(text: str) -> None:
    assert redact.find(text, allowed=COURT_NUMBERS)
    masked = redact.mask({"facts": text}, parties_text="", keep_debtor_names=False, allowed=COURT_NUMBERS).texts["facts"]
    assert not re.search(r"[0-9OoIl]{3}", masked.replace("×", "")), masked


@pytest.mark.parametrize("text", ["COVID-19 2026", "Model3", "iPhone15 Pro Max 256G", "ISO 9001"])
def test_latin_words_beside_numbers_are_not_read_as_ocr_digits(text: str) -> None:
    assert redact.find(text, allowed=COURT_NUMBERS) == []
