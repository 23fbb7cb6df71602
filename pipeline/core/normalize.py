"""Turn what people type into the sheet into canonical values.

Each function takes a raw cell value (str, number, date, datetime or None)
and returns the canonical value, or raises :class:`Invalid` whose message is
the Chinese text that goes into 状态. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from .model import (
    ACTIVITY_KINDS,
    CADENCES,
    CHANNEL_LIST,
    CHANNELS,
    CLOSURES,
    DECISIONS,
    INABILITIES,
    KINDS,
    LISTINGS,
    MEDIA_LEVELS,
    MEDIA_TYPES,
    POSTED_MARKS,
)


class Invalid(ValueError):
    """A cell value that cannot be understood; ``str()`` is the 状态 message."""


# Characters no one reads and some tools misread: controls, zero-width characters, bidi overrides (which
# turn a file name's end around), and non-characters (U+FFFE, U+FFFF, U+FDD0…, which mail cannot carry).
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff"
                       "\ufdd0-\ufdef\ufffe\uffff]")
_CONTROL = INVISIBLE
# Excel writes a character it cannot keep in XML as _xHHHH_ (_x000D_ for a CR); _x005F_ escapes an underscore.
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_SPACES = re.compile(r"[\s\u3000]+")


def text(value: object) -> str:
    """A free-text cell: trimmed, newlines unified, control characters dropped.

    Free text keeps its full-width punctuation (NFKC would turn ，into ,).
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.isprintable() and "_x" not in value:
        return value.strip()        # nothing below would change it: the common case, taken fast
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    result = _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), str(value))
    # A no-break space (pasted from web pages and WeChat) is an ordinary space here.
    result = result.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    return _CONTROL.sub("", result).strip()


def code(value: object) -> str:
    """A code-like cell (names, kinds, flags): NFKC-folded, no spaces at all."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text(value)))


def team_name(value: object) -> str:
    """Team names compare without spaces: ``执行 一组`` is ``执行一组``."""
    return code(value)


# --- case numbers ---------------------------------------------------------

_BRACKETS = str.maketrans({"(": "（", ")": "）", "[": "（", "]": "）", "〔": "（", "〕": "）",
                           "【": "（", "】": "）", "［": "（", "］": "）", "﹝": "（", "﹞": "）",
                           "{": "（", "}": "）"})
# （2026）琼9003执1234号 ; （2016）琼9003执字第123号 ; （2026）琼9003刑初88号
_CASE = re.compile(r"^（(?P<year>\d{4})）(?P<court>[\u4e00-\u9fff]{1,4}\d{0,6})"
                   r"(?P<type>[\u4e00-\u9fff]{1,6})(?P<serial>\d{1,7})号$")


def case_number(value: object, *, latest_year: int) -> str:
    """Canonical ``（2026）琼9003执1234号``; blank stays blank.

    Accepts half-width or odd brackets, stray spaces and a missing 号.
    """
    raw = text(value)
    if not raw:
        return ""
    folded = code(raw).translate(_BRACKETS)
    if folded and not folded.endswith("号") and folded[-1].isdigit():
        folded += "号"
    match = _CASE.match(folded)
    if not match or not 1990 <= int(match["year"]) <= latest_year:
        raise Invalid(f"案号格式有误：{raw}")
    return folded


# --- kinds -----------------------------------------------------------------

_KIND_SYNONYMS: dict[str, str] = {
    "拒执": "打击拒执", "拒执罪": "打击拒执", "拒不执行": "打击拒执", "打击拒执犯罪": "打击拒执",
    "拒不执行判决裁定": "打击拒执", "司法拘留": "打击拒执",
    "失信": "惩戒失信", "失信惩戒": "惩戒失信", "失信被执行人": "惩戒失信", "限制高消费": "惩戒失信",
    "限高": "惩戒失信", "黑名单": "惩戒失信", "公众人物失信": "惩戒失信", "失信联合惩戒": "惩戒失信",
    "成功执行": "执行成功", "执行到位": "执行成功", "成功": "执行成功", "执行和解": "执行成功",
    "老赖": "教科书式老赖", "典型老赖": "教科书式老赖", "教科书老赖": "教科书式老赖",
    "无财产可供执行": "执行不能", "终本": "执行不能", "终结本次执行": "执行不能",
    "终结本次执行程序": "执行不能",
    "三涉": "三涉专项", "涉民生": "三涉专项", "涉党政机关": "三涉专项", "涉金融": "三涉专项",
    "先进": "先进典型", "先进事迹": "先进典型", "典型人物": "先进典型", "执行干警先进典型": "先进典型",
    "巡查": "巡查督导", "督导": "巡查督导", "执行巡查": "巡查督导", "代表委员视察": "巡查督导",
    "视察执行": "巡查督导",
    "评估": "第三方评估",
    "规范化": "执行规范化", "规范执行": "执行规范化", "执行规范": "执行规范化",
    "联动": "执行联动", "大格局": "执行联动", "联动机制": "执行联动",
    # 三(一): the mobilisation meeting.
    "动员会": "动员部署", "动员部署会": "动员部署", "动员大会": "动员部署", "部署会": "动员部署",
    "动员部署大会": "动员部署", "动员": "动员部署",
    # 三(四): the "三反" campaign. 反抗拒执行 is one of the three, so it names the campaign, not a 拒执 case.
    "三反": "三反专项", "三反专项宣传": "三反专项", "三反宣传": "三反专项", "三反专项行动": "三反专项",
    "反规避执行": "三反专项", "反逃避执行": "三反专项", "反抗拒执行": "三反专项",
    "反规避": "三反专项", "反逃避": "三反专项", "反抗拒": "三反专项",
    # 三(四): what the publicity campaign does in the street.
    "宣传": "宣传活动", "执行宣传": "宣传活动", "执行宣传活动": "宣传活动", "普法宣传": "宣传活动",
    "宣传标语": "宣传活动", "标语": "宣传活动", "横幅": "宣传活动", "宣传横幅": "宣传活动", "悬挂标语": "宣传活动",
    "宣传车": "宣传活动", "宣传车巡游": "宣传活动",
    "进工地": "宣传活动", "进学校": "宣传活动", "进校园": "宣传活动", "进社区": "宣传活动", "进集市": "宣传活动",
    "宣传进工地": "宣传活动", "宣传进学校": "宣传活动", "宣传进校园": "宣传活动", "宣传进社区": "宣传活动",
    "宣传进集市": "宣传活动", "宣传车进工地": "宣传活动", "宣传车进学校": "宣传活动", "宣传车进校园": "宣传活动",
    "宣传车进社区": "宣传活动", "宣传车进集市": "宣传活动",
    "媒体见面会": "宣传活动", "媒体见面": "宣传活动",
    # 三(十), 四(四): material about a deputies' visit. 视察 words stay 巡查督导 (an inspection of the court).
    "人大代表": "代表委员看执行", "政协委员": "代表委员看执行", "代表委员": "代表委员看执行",
    "人大代表政协委员": "代表委员看执行", "人大代表、政协委员": "代表委员看执行", "看执行": "代表委员看执行",
    "代表委员看执行谈执行": "代表委员看执行", "代表委员看执行、谈执行": "代表委员看执行",
    "邀请代表委员": "代表委员看执行", "代表委员见证执行": "代表委员看执行",
}
_KIND_SUFFIXES = ("典型案例", "案件", "案例", "素材", "报道", "活动", "类", "案")


def kind(value: object) -> str:
    """The canonical kind (see ``model.KINDS``), accepting common synonyms."""
    raw = text(value)
    if not raw:
        raise Invalid("缺少类别")
    folded = re.sub("[“”\"'《》「」‘’]", "", code(raw))    # “三反”专项 is 三反专项
    for candidate in _kind_candidates(folded):
        if candidate in KINDS:
            return candidate
        if candidate in _KIND_SYNONYMS:
            return _KIND_SYNONYMS[candidate]
    raise Invalid(f"类别无法识别：{raw}")


def _kind_candidates(folded: str) -> list[str]:
    candidates = [folded]
    for suffix in _KIND_SUFFIXES:
        if folded.endswith(suffix) and len(folded) > len(suffix):
            candidates.append(folded[: -len(suffix)])
    return candidates


def kind_list(value: object) -> tuple[str, ...]:
    """接收类别: blank or 全部 means every kind (the empty tuple)."""
    raw = text(value)
    parts = [p for p in re.split(r"[、,，;；/／\s]+", raw) if p]
    if not parts or any(code(p) in ("全部", "所有", "all", "ALL", "All") for p in parts):
        return ()
    kinds: list[str] = []
    for part in parts:
        canonical = kind(part)
        if canonical not in kinds:
            kinds.append(canonical)
    return tuple(kinds)


def activity_kind(value: object) -> str:
    raw = text(value)
    if not raw:
        raise Invalid("缺少类型")
    folded = code(raw)
    aliases = {"发布会": "新闻发布会", "通气会": "新闻通气会", "恳谈会": "记者恳谈会", "媒体恳谈会": "记者恳谈会",
               "代表委员看执行谈执行": "代表委员看执行", "代表委员看执行、谈执行": "代表委员看执行",
               "看执行": "代表委员看执行", "代表委员视察": "代表委员看执行",
               "重大执行行动": "重大执行活动", "集中执行": "重大执行活动", "集中执行活动": "重大执行活动"}
    folded = aliases.get(folded, folded)
    if folded not in ACTIVITY_KINDS:
        raise Invalid(f"类型无法识别：{raw}（应为 {' / '.join(ACTIVITY_KINDS)}）")
    return folded


def clock_time(value: object) -> str:
    """A 时间 cell: an Excel time as ``9:30``, text as typed (``上午9:30``, ``14:00—16:00``)."""
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, time):
        return f"{value.hour}:{value.minute:02d}"
    raw = text(value)
    if len(raw) > 30:
        raise Invalid(f"时间过长：{raw[:30]}……（如 9:30 或 上午9:30）")
    return raw


_FIGURE = re.compile(r"[-+]?\d[\d,，]*(?:\.\d+)?\s*(?:%|％|[\u4e00-\u9fff]{0,4})")


def figure_value(value: object) -> str:
    """A 数值 cell: a number, with its unit if any (``1234``, ``1234 件``, ``5.6亿元``, ``98.5%``)."""
    if isinstance(value, bool):
        raise Invalid(f"数值无法识别：{value}（如 1234 件、5.6 亿元）")
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    raw = text(value)
    if not raw:
        raise Invalid("缺少数值")
    if not _FIGURE.fullmatch(raw):
        raise Invalid(f"数值无法识别：{raw}（应为数字，可带单位，如 1234 件、5.6 亿元）")
    return raw


_DECISIONS = {"通过": "通过", "同意": "通过", "批准": "通过", "approve": "通过", "approved": "通过",
              "退回": "退回", "驳回": "退回", "不通过": "退回", "reject": "退回", "rejected": "退回"}
# 已发微信, 微信已发, 已发布到微信, 公众号已发布, posted wechat, …: one mark per hand-posted channel.
_CHANNEL_NAMES = {c.key: c.aliases for c in CHANNEL_LIST if c.by_hand}
for _mark, _channel in POSTED_MARKS.items():
    for _name in _CHANNEL_NAMES[_channel]:
        for _form in ("已发{}", "{}已发", "已发布{}", "{}已发布", "已发到{}", "已发布到{}", "posted{}", "{}posted"):
            _DECISIONS[_form.format(_name).casefold()] = _mark


def channel(value: object) -> str:
    """``微信`` / ``wechat`` / ``公众号`` → ``wechat``: a channel the office posts by hand."""
    folded = code(value).casefold()
    for key, names in _CHANNEL_NAMES.items():
        if folded in (n.casefold() for n in names):
            return key
    choices = " / ".join(CHANNELS[c] for c in POSTED_MARKS.values())
    raise Invalid(f"渠道无法识别：{text(value)}（应为 {choices}）")


def decision(value: object) -> str:
    raw = text(value)
    folded = code(raw).casefold()
    mapping = _DECISIONS
    if not raw:
        raise Invalid("缺少结论")
    if folded not in mapping:
        raise Invalid(f"结论无法识别：{raw}（应为 {' / '.join(DECISIONS)}）")
    return mapping[folded]


_ANSWERS = {"参加": "参加", "出席": "参加", "确认参加": "参加", "确认出席": "参加", "同意参加": "参加", "来": "参加",
            "是": "参加", "yes": "参加", "accept": "参加", "accepted": "参加",
            "不参加": "不参加", "不出席": "不参加", "不能参加": "不参加", "无法参加": "不参加", "请假": "不参加",
            "婉拒": "不参加", "缺席": "不参加", "否": "不参加", "no": "不参加", "decline": "不参加",
            "declined": "不参加",
            "待定": "待定", "未定": "待定", "不确定": "待定", "再定": "待定", "tentative": "待定", "maybe": "待定"}


def reply_answer(value: object) -> str:
    """A deputy's answer as typed: 出席, 请假, 未定 … → ``参加`` / ``不参加`` / ``待定``."""
    raw = text(value)
    if not raw:
        raise Invalid("缺少回复")
    answer = _ANSWERS.get(code(raw).casefold())
    if answer is None:
        raise Invalid(f"回复无法识别：{raw}（应为 参加 / 不参加 / 待定）")
    return answer


def invitation_id(value: object) -> str:
    """``i-2026-000003`` → ``I-2026-000003``."""
    return code(value).upper()


def month(value: object) -> str:
    """``2026-11``, ``2026-1``, ``2026年11月`` → ``"2026-11"``."""
    match = re.fullmatch(r"(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?", text(value))
    if not match or not 1 <= int(match[2]) <= 12:
        raise Invalid(f"月份无法识别：{text(value)}（如 2026-11）")
    return f"{match[1]}-{int(match[2]):02d}"


def draft_id(value: object) -> str:
    """``d-2026-000045-V2`` → ``D-2026-000045-v2``, the form drafts are stored under."""
    return re.sub(r"-V(\d+)$", r"-v\1", code(value).upper())


# --- yes / no --------------------------------------------------------------

_YES = {"是", "yes", "y", "true", "1", "✓", "✔", "√", "公开", "可以", "可", "同意", "启用", "ok"}
_NO = {"否", "no", "n", "false", "0", "✗", "✘", "×", "x", "不公开", "不可以", "不可", "不", "停用", "禁用"}


def yes_no(value: object, *, label: str, default: bool = True) -> bool:
    """是/否 and friends; a blank cell means ``default``."""
    if isinstance(value, bool):
        return value
    folded = code(value).casefold()
    if not folded:
        return default
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise Invalid(f"{label}无法识别：{text(value)}（应为 是 / 否）")


# --- the structured columns of 素材: 失信名单, 结案方式, 执行到位金额, 执行不能情形 ---
# Each is optional: a blank cell is "" (the material does not say). Synonyms are
# the words people type; the canonical values are those of ``model``.

_LISTING_SYNONYMS = {
    "已纳入": "在册", "纳入": "在册", "是": "在册", "在名单": "在册", "在名单中": "在册", "已在册": "在册",
    "移除": "已移除", "已删除": "已移除", "删除": "已移除", "已屏蔽": "已移除", "屏蔽": "已移除",
    "已撤销": "已移除", "撤销": "已移除", "已移出": "已移除", "移出": "已移除", "已解除": "已移除",
    "解除": "已移除",
    "否": "未纳入", "无": "未纳入", "不在册": "未纳入", "未在册": "未纳入",
}
_CLOSURE_SYNONYMS = {
    "执结": "执行完毕", "已执结": "执行完毕", "全部履行": "执行完毕", "履行完毕": "执行完毕",
    "全额履行": "执行完毕", "已执行完毕": "执行完毕", "已履行完毕": "执行完毕",
    "和解": "执行和解", "达成和解": "执行和解", "已和解": "执行和解", "达成执行和解": "执行和解",
    "部分执行": "部分履行", "部分到位": "部分履行", "部分": "部分履行", "部分执行到位": "部分履行",
    "终本": "终结本次执行", "终结本次": "终结本次执行", "终结本次执行程序": "终结本次执行",
    "已终本": "终结本次执行",
}
_INABILITY_SYNONYMS = {
    "无财产": "被执行人无财产", "无财产可供执行": "被执行人无财产", "确无财产": "被执行人无财产",
    "确无财产可供执行": "被执行人无财产", "无可供执行财产": "被执行人无财产",
    "失联": "下落不明", "下落不明且无财产": "下落不明",
    "丧失劳动能力": "丧失履行能力", "生活困难": "丧失履行能力", "重病": "丧失履行能力",
    "停业": "企业停业破产", "破产": "企业停业破产", "吊销": "企业停业破产", "注销": "企业停业破产",
    "企业停业": "企业停业破产", "企业破产": "企业停业破产", "停业破产": "企业停业破产",
    "无法变现": "财产无法处置", "无法处置": "财产无法处置", "流拍": "财产无法处置",
}


def _choice(value: object, canonical: tuple[str, ...], synonyms: dict[str, str], message: str) -> str:
    """A cell holding one of ``canonical`` or a synonym; blank is ""."""
    raw = text(value)
    folded = code(raw).strip("。.，,；;、")
    if not folded:
        return ""
    if folded in canonical:
        return folded
    if folded in synonyms:
        return synonyms[folded]
    raise Invalid(f"{message}{raw}")


def listing(value: object) -> str:
    """失信名单: 在册 / 已移除 / 未纳入 (whether the debtor is on the list now)."""
    return _choice(value, LISTINGS, _LISTING_SYNONYMS, "失信名单只能填 在册、已移除 或 未纳入：")


def closure(value: object) -> str:
    """结案方式: 执行完毕 / 执行和解 / 部分履行 / 终结本次执行 / 其他."""
    return _choice(value, CLOSURES, _CLOSURE_SYNONYMS, "结案方式无法识别：")


_MEDIA_TYPE_SYNONYMS = {
    "报": "报纸", "报刊": "报纸", "报社": "报纸", "纸媒": "报纸", "日报": "报纸", "晚报": "报纸",
    "电视台": "电视", "tv": "电视", "TV": "电视", "电视媒体": "电视",
    "广播电台": "广播", "电台": "广播", "radio": "广播",
    "网站": "网络", "网络媒体": "网络", "网媒": "网络", "门户网站": "网络", "互联网": "网络", "网": "网络",
    "微信": "新媒体", "微信公众号": "新媒体", "公众号": "新媒体", "微博": "新媒体", "抖音": "新媒体",
    "短视频": "新媒体", "客户端": "新媒体", "app": "新媒体", "APP": "新媒体", "自媒体": "新媒体",
}


def media_type(value: object) -> str:
    """媒体 tab's 类型: 报纸 / 电视 / 广播 / 网络 / 新媒体; blank is "" (a workbook made before the column)."""
    return _choice(value, MEDIA_TYPES, _MEDIA_TYPE_SYNONYMS,
                   f"类型应为 {' / '.join(MEDIA_TYPES)}：")


_LEVEL_SYNONYMS = {
    "中央级": "中央", "中央媒体": "中央", "央媒": "中央", "国家级": "中央", "国家": "中央", "全国": "中央",
    "全国性": "中央", "全国性媒体": "中央",
    "省": "省级", "省级媒体": "省级", "省属": "省级", "全省": "省级", "省媒": "省级",
    "市县级": "市县", "市级": "市县", "县级": "市县", "市": "市县", "县": "市县", "地市": "市县", "地方": "市县",
    "地方媒体": "市县", "本地": "市县", "本地媒体": "市县", "本市": "市县", "市县媒体": "市县",
}


def media_level(value: object) -> str:
    """级别 of an outlet: 中央 / 省级 / 市县 (国家级, 全国, 省, 地方, 本地 …); blank is ""."""
    return _choice(value, MEDIA_LEVELS, _LEVEL_SYNONYMS, f"级别应为 {' / '.join(MEDIA_LEVELS)}：")


_CADENCE_SYNONYMS = {
    "周": "每周", "每周一期": "每周", "一周一期": "每周", "周刊": "每周", "每星期": "每周", "一周": "每周",
    "双周": "每两周", "两周": "每两周", "隔周": "每两周", "两周一期": "每两周", "每两周一期": "每两周",
    "双周刊": "每两周", "每2周": "每两周", "2周": "每两周", "半月": "每两周", "每半月": "每两周",
    "月": "每月", "每月一期": "每月", "一月一期": "每月", "月刊": "每月", "每个月": "每月",
}


def cadence(value: object) -> str:
    """专栏周期: 每周 / 每两周 / 每月 (周刊, 双周, 隔周, 半月, 月刊 …); blank is ""."""
    return _choice(value, CADENCES, _CADENCE_SYNONYMS, f"专栏周期应为 {' / '.join(CADENCES)}：")


_OUTLET_MARKS = re.compile(r"[《》〈〉<>「」『』“”\"'‘’·・\s]+")


def outlet_key(value: object) -> str:
    """An outlet's name as two tabs are compared by: 《今日儋州》, 今日儋州 and 今日 儋州 are one outlet."""
    return _OUTLET_MARKS.sub("", unicodedata.normalize("NFKC", text(value))).casefold()


def inability(value: object) -> str:
    """执行不能情形: why there is nothing to execute (see ``model.INABILITIES``)."""
    return _choice(value, INABILITIES, _INABILITY_SYNONYMS, "执行不能情形无法识别：")


_AMOUNT = re.compile(r"^(?:¥|人民币|RMB)?(\d+(?:\.\d+)?)(万|亿)?(?:元|人民币)?$", re.IGNORECASE)
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def amount(value: object) -> str:
    """执行到位金额 in yuan, as a plain decimal without trailing zeros ("400000", "12.5"); blank is "".

    Accepts number cells, ``400000``, ``400,000元``, ``40万``, ``40.5 万元``,
    full-width digits and a ``¥``/``￥`` prefix.
    """
    raw = text(value)
    problem = Invalid(f"执行到位金额格式有误：{raw}（例：40万元 或 400000）")
    if isinstance(value, bool):
        raise problem
    if isinstance(value, (int, float, Decimal)):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:
            raise problem from None
    else:
        folded = code(raw)
        if not folded:
            return ""
        match = _AMOUNT.match(folded.replace(",", "") if _GROUPED.match(_strip_currency(folded)) else folded)
        if not match:
            raise problem
        number = Decimal(match[1]) * {"万": 10_000, "亿": 100_000_000, None: 1}[match[2]]
    if not number.is_finite() or number < 0:
        raise problem
    return _plain(number)


def _strip_currency(folded: str) -> str:
    for prefix in ("¥", "人民币", "RMB", "rmb"):
        if folded.startswith(prefix):
            return folded[len(prefix):]
    return folded


def _plain(number: Decimal) -> str:
    """``Decimal("400000.00")`` → ``"400000"``, ``Decimal("12.50")`` → ``"12.5"``."""
    result = format(number.normalize(), "f")
    return result if result != "-0" else "0"


# --- dates -----------------------------------------------------------------

_EXCEL_EPOCH = datetime(1899, 12, 30)
_DATE_TIME = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?P<H>\d{1,2})\s*[:时點点]\s*(?P<M>\d{1,2})\s*分?(?:\s*[:]\s*(?P<S>\d{1,2})(?:\.\d+)?\s*秒?)?)?$"
)


def moment(value: object, tz: ZoneInfo, *, label: str) -> datetime | None:
    """A date or date-time cell as an aware datetime in ``tz``; blank is None.

    Accepts real date cells, Excel serial numbers, ``2026-11-28``,
    ``2026/11/28``, ``2026年11月28日`` with or without a time, and ISO 8601
    with an offset. Naive values are wall-clock times in ``tz``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if isinstance(value, time):
        raise Invalid(f"{label}缺少日期：{value}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # An unformatted date cell: days since 1899-12-30 (Excel and Sheets agree).
        if 20000 <= value <= 80000:
            naive = _EXCEL_EPOCH + timedelta(days=float(value))
            return naive.replace(microsecond=0, tzinfo=tz)
        raise Invalid(f"{label}无法识别：{text(value)}")
    raw = text(value)
    folded = unicodedata.normalize("NFKC", raw).strip()
    match = _DATE_TIME.match(folded)
    try:
        if match:
            parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
            return datetime(parts["y"], parts["m"], parts["d"], parts.get("H", 0), parts.get("M", 0),
                            parts.get("S", 0), tzinfo=tz)
        parsed = datetime.fromisoformat(folded)
    except ValueError:
        raise Invalid(f"{label}无法识别：{raw}") from None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def day(value: object, tz: ZoneInfo, *, label: str) -> date | None:
    """A date cell (the time of day, if any, is dropped)."""
    parsed = moment(value, tz, label=label)
    return parsed.date() if parsed else None


# --- contacts --------------------------------------------------------------

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def email(value: object) -> str:
    """One plain address (``name@host.tld``); display names are not accepted here."""
    raw = text(value)
    if not raw:
        raise Invalid("缺少邮箱")
    folded = code(raw).strip("<>").lower()
    folded = folded.replace("mailto:", "", 1) if folded.startswith("mailto:") else folded
    if not _EMAIL.match(folded) or ".." in folded or len(folded) > 254:
        raise Invalid(f"邮箱格式有误：{raw}")
    return folded


def quota(value: object, default: int) -> int:
    if value is None or text(value) == "":
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    folded = code(value).removesuffix("条")
    if isinstance(value, bool) or not folded.isdigit() or int(folded) > 100:
        raise Invalid(f"每周任务应为 0 到 100 的整数：{text(value)}")
    return int(folded)
