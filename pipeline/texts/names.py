"""Who a release may name: natural persons become surname + 某 unless the law makes the name public.

A release names a natural person in full only when all of these hold
(the dishonest-debtor list is public only while a person is on it):

- the person is a 被执行人 (debtor) of the row;
- the release's kind is one the config allows (``[redact] public_name_kinds``);
- the row's 失信名单 column says 在册 (currently listed);
- nothing in the row says the debt was performed in full or the list entry
  was removed, hidden or revoked (:data:`REMOVAL`, one list in one place).

Everyone else — applicants, debtors who paid or left the list, spouses,
guarantors, third parties the text marks as persons (其妻…, 案外人…) — is
masked, and the draft mail says which rule masked each name. Officers and
court staff named as such (执行干警黎国华, 法官…) stay named. Names that look
like persons but carry no such mark are listed for the office to check.

Pure functions over strings: no ledger, no config file, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Two-character surnames, kept whole in a pseudonym (欧阳小明 → 欧阳某).
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "公孙", "慕容", "尉迟", "长孙",
                     "宇文", "司徒", "夏侯", "端木", "澹台", "轩辕", "南宫", "西门", "百里", "呼延", "独孤")
# Common one-character surnames (the 百家姓 as people in Hainan and elsewhere carry them): a name the
# text marks as a person must start with one of these or a compound surname.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
    "苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
    "廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由")

# Role words that say a party's role in 当事人 or in the text. Longest first in the pattern.
ROLES = ("申请执行人", "共同被执行人", "被执行人", "复议申请人", "异议申请人", "申请人", "被申请人", "第三人",
         "案外人", "异议人", "原告", "被告人", "被告", "上诉人", "被上诉人", "法定代表人", "实际控制人", "负责人",
         "委托诉讼代理人", "委托代理人", "诉讼代理人", "法定代理人", "代理人", "监护人", "担保人", "保证人",
         "当事人", "次债务人", "债务人", "债权人", "被害人", "受害人", "证人", "利害关系人", "协助执行人",
         "赔偿权利人", "赔偿义务人", "继承人", "买受人", "竞买人", "承租人", "出租人", "股东", "业主", "房东")
# Words before a role that belong to it (原审被告, 失信被执行人): never a name.
_ROLE_PREFIXES = ("原审", "一审", "二审", "再审", "本案", "失信", "该案", "上述", "涉案")
# Words that, right before a name in the text, mark it as a natural person who is not a party.
_KIN = ("前妻", "前夫", "妻子", "丈夫", "配偶", "爱人", "老婆", "老公", "儿子", "女儿", "儿媳妇", "儿媳", "女婿",
        "父亲", "母亲", "哥哥", "姐姐", "弟弟", "妹妹", "表弟", "表妹", "表哥", "表姐", "堂弟", "堂妹", "堂兄",
        "外甥", "侄子", "侄女", "舅舅", "叔叔", "姑姑", "阿姨", "岳父", "岳母", "公公", "婆婆", "亲属", "亲戚",
        "朋友", "同事", "邻居", "合伙人", "司机", "会计", "女友", "男友", "同居女友", "同居男友", "前女友", "前男友",
        "未婚妻", "未婚夫", "情人", "妻弟", "妻兄", "妻妹", "小舅子", "外甥女", "孙子", "孙女", "妻", "夫", "子", "女",
        "父", "母", "兄", "弟", "姐", "妹")
# Words that, right before a name in the text, mark it as a natural person who is not a party.
RELATIONS = (*(f"其{k}" for k in _KIN), *(f"之{k}" for k in _KIN if len(k) == 1), *(k for k in _KIN if len(k) > 1),
             "男子", "女子", "村民", "员工", "职工", "工人", "农民工", "名叫", "化名", "业主", "房东", "租户", "经营者",
             "店主", "老板", "户主", "个体户", "伙同", "转移至", "转移给", "过户给", "过户至", "赠与", "赠予", "又名",
             "曾用名", "别名")
# Titles that make the name after them an officer or court staff member, named as such.
OFFICER_TITLES = ("执行干警", "干警", "员额法官", "执行法官", "承办法官", "法官助理", "法官", "审判员", "审判长",
                  "执行员", "书记员", "法警", "执行局长", "局长", "副局长", "庭长", "副庭长", "院长", "副院长",
                  "组长", "副组长", "专职委员", "审委会委员", "人大代表", "政协委员", "代表", "委员")
# Suffixes after a name in 当事人 that name relatives without naming them (刘国栋夫妇).
_GROUP_SUFFIXES = ("夫妇", "夫妻", "父子", "父女", "母子", "母女", "兄弟", "姐妹", "一家", "家属")

# What in a row says the debtor is no longer on the dishonest-debtor list, or must come off it:
# the debt performed in full, or the entry deleted, hidden, removed or revoked. One list, one place.
_CLAUSE = r"[^。；;！!？?\n，,]{0,12}"
REMOVAL = re.compile(
    r"履行完毕|全部履行|全额履行|足额履行|履行全部|履行完全部|履行了全部|支付全部|偿还全部|清偿全部|全部清偿|清偿完毕"
    r"|全部付清|付清全部|全部还清|还清全部|付清|还清|全部款项|执行完毕|执行完结|已执结|已结案|结清|终结执行"
    r"|履行(?:义务)?完毕|履行完" + _CLAUSE + r"义务|履行了" + _CLAUSE + r"全部义务|全部支付|全额(?:支付|交付|给付|履行|偿还)"
    r"|全部(?:执行)?到位|撤回(?:执行)?申请|放弃其余|恢复其?信用|不在失信"
    r"|和解协议(?:已|均|全部)" + _CLAUSE + r"履行|已?履行了?和解协议|已按约履行|执行依据" + _CLAUSE + r"撤销"
    r"|(?:删除|屏蔽|移出|移除|撤销(?!权)|撤下|解除|退出|除名|消除|不再公布)" + _CLAUSE + r"(?:失信|名单)"
    r"|(?:失信|名单)" + _CLAUSE + r"(?:删除|屏蔽|移出|移除|撤销(?!权)|撤下|解除|除名|消除)"
    r"|信用" + _CLAUSE + r"修复|期限届满(?!前)")
# Words just before such a phrase that say it has not happened (至今未结清, 拒不支付全部款项, 承诺结清).
_NOT_DONE = re.compile(r"(?:未|不|没|没有|尚未|拒不|拒绝|无法|不能|承诺|将于|将(?:依法|会|要|继续|立即|予以)|拟|计划|约定|应当|应于|应|如|若|须|"
                       r"要求|待|谎称|声称|辩称|申请[将把要]|请求|督促|尽快|仅)"
                       r"[^。；;！!？?\n，,]{0,3}$|(?:内|前|以内|之前|分期)$")
# Where a row may say it: every column of the material, the note to the office included.
_REMOVAL_FIELDS = ("title", "facts", "process", "outcome", "parties", "note")


_ORGANISATION = re.compile(r"公司|有限|集团|厂|店|行$|银行|中心|合作社|局|委员会|政府|学校|医院|村委|居委|"
                           r"事务所|协会|基金|站|所$|部$|馆|社$|院$|处$|经营部|商行|工作室|支行|分行")
# Words that make what follows a role word a company or a body, not a person (海南某某运输有限公司).
_ORG_WORDS = re.compile(r"公司|有限|集团|银行|支行|分行|合作社|委员会|政府|学校|医院|事务所|经营部|商行|工作室|"
                        r"中心|协会|基金|村委|居委|厂|店")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_DOT = "·・•‧．."
_ROLE_PATTERN = re.compile("((?:" + "|".join(_ROLE_PREFIXES) + ")?(?:" + "|".join(sorted(ROLES, key=len, reverse=True))
                           + "))")
# After a name, characters that cannot be the third character of a given name (其妻王丽将… → 王丽).
_NOT_IN_NAME = set("将在于与和及的系以为向称提等已把被因也仍又就即对代作是到均拒未不无有名自之个先后曾并经说表"
                   "承签按从去来家却还都同所会可要能愿且再才只则得给替由趁通让叫请共年月日某")


@dataclass(frozen=True)
class Party:
    role: str
    name: str

    @property
    def is_person(self) -> bool:
        return is_person_name(self.name)


def is_person_name(name: str) -> bool:
    """A natural person's name: Chinese characters starting with a surname (or a minority name with ``·``),
    not an organisation, not a role word, not already masked."""
    bare = re.sub(f"[{_DOT}]", "", name)
    dotted = bare != name
    return (2 <= len(bare) <= 12 and "某" not in name and not _ORGANISATION.search(name)
            and re.fullmatch(f"[{_CJK}]+(?:[{_DOT}][{_CJK}]+)*", name) is not None
            and (dotted or name[:2] in COMPOUND_SURNAMES or name[0] in SURNAMES)
            and name not in _NOT_NAMES and not any(name.startswith(w) for w in _NOT_NAME_STARTS)
            and name not in ROLES and not _ROLE_PATTERN.fullmatch(name))


_RELATIVE_OF = re.compile(r"(?:(?:的|之)(?:继承人|法定代理人|监护人|代理人|" + "|".join(_KIN) + ")|其(?:"
                          + "|".join(sorted(_KIN, key=len, reverse=True)) + ")|又名|曾用名|别名|化名)")
_HONORIFIC = re.compile(r"(?:女士|先生|同志|老人|男|女)$")
_SPLIT = re.compile(r"[、,，/；;：:\n]+|(?<=[\u4e00-\u9fff])[与及](?=[\u4e00-\u9fff]{2})")


def parties(text: str) -> list[Party]:
    """``申请执行人：王文华，被执行人：李国强、陈某等3人`` → the named parties with their roles.

    Roles split the cell wherever they stand (after 、，；, a space or nothing);
    notes in brackets are dropped (（已故）, （原审被告）); ``等N人`` after a name is
    dropped; ``刘国栋夫妇`` is 刘国栋 (the spouse is not named); ``为``/``系``
    before a name and 女士, 先生, 男, 女 after it are not part of it; a name
    typed with spaces (李 国 强, 王 文华) is one name; ``王文华之子王小明`` is two.
    """
    found: list[Party] = []
    # What stands in brackets is read too (（法定代表人：陈志强）, （又名李强）, （张丽之夫））: only a note
    # that names no one (（已故）, （原审被告）) yields nothing.
    text = re.sub(r"[（()）]", "、", text)
    pieces = _ROLE_PATTERN.split(text)
    segments = [("", pieces[0])] + list(zip(pieces[1::2], pieces[2::2]))
    for role, segment in segments:
        role = re.sub("^(?:" + "|".join(_ROLE_PREFIXES) + ")", "", role.strip())
        segment = re.sub(r"等\s*[\d一二三四五六七八九十百]*\s*(?:人|名|户|家)?", "、", segment)
        segment = _RELATIVE_OF.sub("、", segment)
        for item in _SPLIT.split(segment):
            for name in _names_in(item):
                if name:
                    found.append(Party(role, name))
    return found


def _names_in(item: str) -> list[str]:
    """The names in one item of a 当事人 cell: spaces inside a name joined, ``和`` between two names split."""
    tokens = [t for t in re.split(r"[ \u3000\t]+", item.strip()) if t]
    if len(tokens) > 1 and all(len(t) == 1 for t in tokens):
        tokens = ["".join(tokens)]                                   # 李 国 强
    elif len(tokens) > 1 and len(tokens[0]) == 1 and tokens[0] in SURNAMES and len(tokens[1]) <= 2:
        tokens = [tokens[0] + tokens[1], *tokens[2:]]                # 王 文华
    names = []
    for token in tokens:
        token = re.sub(r"[的之]$", "", re.sub(r"^[为系是：:]+", "", token))
        for suffix in _GROUP_SUFFIXES:
            if token.endswith(suffix) and len(token) > len(suffix) + 1:
                token = token[: -len(suffix)]
        if len(token) >= 3 and _HONORIFIC.search(token):
            token = _HONORIFIC.sub("", token)
        halves = token.split("和")
        if len(halves) == 2 and all(len(h) >= 2 and is_person_name(h) for h in halves):
            names += halves                                          # 王文华和李国强
        else:
            names.append(token)
    return names


def surname(name: str) -> str:
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]


_ORDINALS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
# Words that start like a name (a surname character begins many words) and are not one.
_NOT_NAMES = {"农民工", "农民", "农村", "农业", "高消费", "高额", "高度", "房屋", "房产", "应当", "应该", "应支付", "于是",
              "向法院", "车辆", "明确", "明显", "海南", "海口", "全部", "全额", "成功", "金额", "和解", "时间", "平台",
              "原告", "安排", "文书", "党政", "万元", "符合", "连带", "严重", "范围", "韩国", "由于", "依法", "关于",
              "同意", "同时", "方式", "方面", "经营", "管理", "任何", "计划", "包括", "程序", "常年", "周边", "江边",
              "黄金", "石材", "林地", "田地", "钱款", "谢谢", "申请", "强制", "冯某", "司法", "公安", "公开", "解除"}
_NOT_NAME_STARTS = ("农民", "高消费")


def pseudonyms(names: Iterable[str]) -> dict[str, str]:
    """Surname + 某 for each name. Persons who share a surname are told apart by the last character of
    the given name (王文华, 王春生 → 王某华, 王某生) only when every one of them has a given name of two
    characters or more and those characters differ; otherwise by 甲, 乙, 丙 … — never 李某四 beside a
    李四, which would print a two-character name whole."""
    by_surname: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        by_surname.setdefault(surname(name), []).append(name)
    aliases: dict[str, str] = {}
    for family, group in by_surname.items():
        if len(group) == 1:
            aliases[group[0]] = family + "某"
            continue
        givens = [re.sub(f"[{_DOT}]", "", name[len(family):]) for name in group]
        lasts = [given[-1] for given in givens]
        if all(len(given) >= 2 for given in givens) and len(set(lasts)) == len(lasts):
            aliases.update({name: family + "某" + last for name, last in zip(group, lasts)})
        else:
            aliases.update({name: family + "某" + _ordinal(i) for i, name in enumerate(group)})
    return aliases


def _ordinal(index: int) -> str:
    """甲, 乙 … 亥, then 甲甲, 甲乙 …: as many as a series of cases needs, and never a digit."""
    base = len(_ORDINALS)
    return _ORDINALS[index] if index < base else _ordinal(index // base - 1) + _ORDINALS[index % base]


def _spaced(name: str) -> str:
    """A pattern for ``name`` as people type it: spaces allowed between its characters, and the dot of a
    minority name written as any dot, or left out (买买提·艾力, 买买提・艾力, 买买提艾力)."""
    chars = [c for c in name if c not in _DOT]
    dots = "·・•‧．."
    return f"[ \u3000\n{re.escape(dots)}]*".join(re.escape(c) for c in chars)


# --- deciding -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """One person's name, and what the release does with it."""

    name: str
    role: str
    alias: str            # "" when the name is kept
    reason: str           # which rule decided (Chinese, for the office)


@dataclass
class NamePlan:
    """Who is masked and who stays named in one release, and why."""

    decisions: list[Decision] = field(default_factory=list)

    @property
    def aliases(self) -> dict[str, str]:
        return {d.name: d.alias for d in self.decisions if d.alias}

    @property
    def kept(self) -> list[str]:
        return [d.name for d in self.decisions if not d.alias]


# A clause about another case or debt, or a request refused, says nothing of this debtor's listing.
_OTHER_MATTER = re.compile(r"另案|其他案件|驳回|不予准许|不予支持")


def _clause_around(text: str, start: int, end: int) -> str:
    """The sentence around ``text[start:end]``: to the nearest 。；！？ or line break on either side."""
    left = max(text.rfind(c, 0, start) for c in "。；;！!？?\n")
    rights = [i for i in (text.find(c, end) for c in "。；;！!？?\n") if i >= 0]
    return text[left + 1: min(rights) if rights else len(text)]


def removal_evidence(fields: Mapping[str, str]) -> str:
    """The words in the row that say the debt was performed in full or the list entry removed ("" if none)."""
    if fields.get("closure") == "执行完毕":
        return "结案方式：执行完毕"
    for key in _REMOVAL_FIELDS:
        text = fields.get(key, "")
        for match in REMOVAL.finditer(text):
            clause = _clause_around(text, match.start(), match.end())
            if not _NOT_DONE.search(text[max(0, match.start() - 8):match.start()]) and not _OTHER_MATTER.search(clause):
                return f"“{match.group()}”"
    return ""


DEBTOR_ROLES = ("被执行人", "共同被执行人")


def debtor_rule(fields: Mapping[str, str], *, kind: str, public_name_kinds: Iterable[str]) -> tuple[bool, str]:
    """Whether the row's debtors may be named, and the rule that says so (Chinese, for the office)."""
    listing = fields.get("listing", "")
    evidence = removal_evidence(fields)
    if kind not in set(public_name_kinds):
        return False, f"类别“{kind}”不在公开失信被执行人姓名的类别中，被执行人一律以“姓＋某”称呼"
    if listing != "在册":
        said = "“失信名单”一栏未填“在册”" if not listing else f"“失信名单”为“{listing}”"
        return False, f"{said}，姓名不得公开（名单只在其在册期间公开）"
    if evidence:
        return False, f"素材中写有{evidence}：已履行完毕或已移出失信名单的，不得再公开其姓名"
    return True, f"失信被执行人（在册），类别“{kind}”可依法公开其姓名"


def plan(fields: Mapping[str, str], *, kind: str, public_name_kinds: Iterable[str]) -> NamePlan:
    """Decide every natural person of the row: the parties of 当事人, and the persons the text marks."""
    debtors_named, debtor_reason = debtor_rule(fields, kind=kind, public_name_kinds=public_name_kinds)
    people: dict[str, tuple[str, bool, str]] = {}           # name -> (role, named, reason)
    for party in parties(fields.get("parties", "")):
        if not party.is_person or party.name in people:
            continue
        if party.role in DEBTOR_ROLES:
            people[party.name] = (party.role, debtors_named, debtor_reason)
        else:
            people[party.name] = (party.role or "当事人", False, "自然人一律以“姓＋某”称呼")
    text = "\n".join(fields.get(k, "") for k in ("title", "facts", "process", "outcome"))
    spoken = compact(text)
    for name, role in marked_persons(text, known=people):
        if name in people or any(name in other and spoken.count(name) <= spoken.count(other) for other in people):
            continue                       # a party's name, or only ever part of one
        people[name] = (role, False, f"正文中以“{role}”指明的自然人，一律以“姓＋某”称呼")
    aliases = pseudonyms(name for name, (_, named, _) in people.items() if not named)
    return NamePlan([Decision(name, role, "" if named else aliases[name], reason)
                     for name, (role, named, reason) in people.items()])


# Roles that, in running text, are nearly always followed by a person's name: a name after them is taken
# even when it cannot be told where it ends (其妻王丽华转移… → 王丽, masked as 王某华, a court's usual form).
_THIRD_PARTY_ROLES = ("案外人", "担保人", "保证人", "证人", "被害人", "受害人", "第三人", "法定代表人",
                      "实际控制人", "股东", "买受人", "竞买人", "承租人", "次债务人", "债务人", "债权人",
                      "法定代理人", "监护人", "继承人")
# Roles that are as often followed by a company or a verb (被执行人应支付…, 申请执行人海南某某公司):
# a name after them is taken only where it plainly ends, or where the text names that person again.
_PARTY_ROLES = tuple(r for r in ROLES if r not in _THIRD_PARTY_ROLES)
# What may follow a name in running text: punctuation, or a word that starts what the person did.
_FOLLOWERS = set("，,。；;、：:（(）)“”\"' \n与和及将在于向的系已把被因也仍又就即对等称到均拒未不共名作拘提申领签同表说认诉请承出"
                 "受应列参")                                     # 受邀, 应邀, 列席, 参加: the verb after a name
# What only a person does, right after a two-character name: it ends there (张伟受到处罚, 李明到场, 王丽称…).
_ACTS_AFTER = set("受应列参到称表拒承认")
_DOTTED_HEAD = re.compile(f"[{_CJK}]{{1,8}}(?:[·・•‧][{_CJK}]{{1,8}}?)*?[·・•‧]")


def compact(text: str) -> str:
    """``text`` with the spaces inside Chinese words removed (李 丽 华 → 李丽华), for finding names."""
    return re.sub(f"(?<=[{_CJK}])[ \u3000]+(?=[{_CJK}])", "", text)


def marked_persons(text: str, *, known: Iterable[str] = (), certain: bool = False) -> list[tuple[str, str]]:
    """Natural persons the text marks as such, not being officers: ``其妻王丽华``, ``案外人周秀英``,
    ``债务人王丽华``, ``王丽华系被执行人之妻``, ``申请执行人王文华与…`` → (name, the word that marks it).

    ``known`` are names given elsewhere (当事人): a name that is one of them is theirs. The name
    returned is what must be masked: where its end cannot be told, the surname and the next character
    (王丽 of 王丽华转移…), which masks a two- and a three-character name alike. ``certain``: read
    every role word as certain to be followed by a name (the template's own words, which name no one).
    """
    text = compact(text)
    found: list[tuple[str, str]] = []
    for pattern, sure in ((_LOOSE, True), (_STRICT, certain)):
        for match in pattern.finditer(text):
            if _is_officer(text, match.start() + len(match.group(1))):
                continue
            position = match.end()
            while name := _name_after(text, position, certain=sure, known=known):
                found.append((name, match.group(1)))
                position += len(name)                            # 保证人黄志刚、刘海燕: each of the list
                after = re.match(r"(?:等人|[、和及与]|，(?=[^，。]{2,4}[、和及与]))", text[position:])
                if after is None or _ORG_WORDS.match(text, position + len(after.group())):
                    break
                position += len(after.group())
    for match in _SAID_TO_BE.finditer(text):
        name = match.group(1)
        family = surname(name)
        found.append((name if len(name) - len(family) <= 2 else family + name[len(family):][-2:], "身份说明"))
    return [(n, r) for n, r in dict.fromkeys(found) if is_person_name(n)]


_NAME_SHAPE = f"(?:{'|'.join(COMPOUND_SURNAMES)}|[{''.join(sorted(SURNAMES))}])[{_CJK}]{{1,3}}"
_LOOSE = re.compile("(" + "|".join(sorted(set(RELATIONS) | set(_THIRD_PARTY_ROLES), key=len, reverse=True))
                    + r")[：:\s]*")
_STRICT = re.compile("(" + "|".join(sorted(set(_PARTY_ROLES) - set(RELATIONS) - set(_THIRD_PARTY_ROLES),
                                           key=len, reverse=True)) + r")[：:\s]*")
_SAID_TO_BE = re.compile(r"(?:^|(?<=[，,。；;、：:\s（(“]))(" + _NAME_SHAPE + r")(?:系|是|为)"
                         r"[^，,。；;、\n]{0,6}?(?:之|的)?(?:" + "|".join(sorted(_KIN, key=len, reverse=True)) + ")")
_OFFICER = re.compile("(?:" + "|".join(sorted(OFFICER_TITLES, key=len, reverse=True)) + ")")


def _name_after(text: str, start: int, *, certain: bool, known: Iterable[str] = ()) -> str:
    """The name that starts at ``start``, or "" if none does."""
    head = _DOTTED_HEAD.match(text, start)
    if head:                                                     # 买买提·艾力: the last part ends the name
        tail = re.match(f"[{_CJK}]{{1,6}}", text[head.end():])
        if tail:
            last = next((tail.group()[:n] for n in range(2, len(tail.group()) + 1)
                         if text[head.end() + n: head.end() + n + 1] in _FOLLOWERS | {""}), tail.group()[:3])
            return head.group() + last
    clause = re.match(r"[^，,。；;、：:\n（(与和及]{0,20}", text[start:]).group()
    if _ORG_WORDS.search(clause) or "某" in clause[:3]:
        return ""                                                # 海南某某运输有限公司
    for name in sorted(known, key=len, reverse=True):
        if text.startswith(name, start):
            return name
    family = surname(text[start:start + 2])
    if family not in SURNAMES and family not in COMPOUND_SURNAMES:
        return ""
    rest = text[start + len(family): start + len(family) + 3]
    if not rest or not re.match(f"[{_CJK}]", rest) or rest[0] in _NOT_IN_NAME or rest.startswith("某"):
        return ""
    two, three = family + rest[:1], family + rest[:2]
    if two in _NOT_NAMES or three in _NOT_NAMES:
        return ""                                                # 担保人应当…, 保证人连带…
    if any(text.startswith(suffix, start + len(three)) for suffix in _GROUP_SUFFIXES):
        return three                                             # 刘国栋夫妇
    ends_after_two = len(rest) < 2 or rest[1] in _FOLLOWERS or rest[1] in _NOT_IN_NAME
    if not ends_after_two and re.match(f"[{_CJK}]", rest[1]):
        if text.count(three) >= 2 or (len(rest) < 3 or rest[2] in _FOLLOWERS):
            return three                                         # 王丽华 named again, or plainly ending
    elif certain or text.count(two) >= 2 or rest[1] in _ACTS_AFTER:
        return two                                               # 王丽将…, 王丽，, 张伟受到…
    return two if certain else ""                                # cannot tell: mask what both would share


def _is_officer(text: str, start: int) -> bool:
    window = text[max(0, start - 6):start].rstrip("：: ")
    return any(window.endswith(title) for title in OFFICER_TITLES)


def officers(text: str) -> set[str]:
    """Names the text gives with an officer's or court staff member's title (执行干警黎国华)."""
    text = compact(text)
    return {name for m in _OFFICER.finditer(text) if (name := _name_after(text, m.end(), certain=True))}


# --- masking --------------------------------------------------------------------------------

def mask(texts: Mapping[str, str], name_plan: NamePlan) -> tuple[dict[str, str], int]:
    """Every masked name replaced by its alias in every text (spaced spellings too); how many replaced."""
    aliases = name_plan.aliases
    if not aliases:
        return dict(texts), 0
    ordered = sorted(aliases, key=len, reverse=True)
    pattern = re.compile("|".join(f"(?:{_spaced(name)})" for name in ordered))
    lookup = {re.sub(f"[\\s{_DOT}]", "", name): alias for name, alias in aliases.items()}
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return lookup[re.sub(f"[ \u3000\n{_DOT}]", "", match.group())]

    return {key: pattern.sub(replace, value) for key, value in texts.items()}, count


def leaked(text: str, name_plan: NamePlan) -> list[str]:
    """Masked names that still appear in ``text`` (the last check before anything leaves)."""
    return [name for name in name_plan.aliases if re.search(_spaced(name), text)]


# What only a person does, right after a name.
_PERSON_ACTS = re.compile(r"称|表示|认为|拒不|拒绝|辩称|声称|承诺|同意|名下|本人|夫妇|到庭|到案")


_CANDIDATE = re.compile(r"(?:^|(?<=[，。；：、！？,;:\s“”（）与和向将对被由给让叫同及]))(?=(" + _NAME_SHAPE + "))")


def undecided(text: str, name_plan: NamePlan, *, exclude: Iterable[str] = ()) -> list[str]:
    """Person-like names left in public text that no rule decided: a surname and one or two characters
    that plainly end where a name ends, written twice or right before what only a person does (称,
    表示, 拒绝 …). For the office to check; not masked, since a word can look like a name."""
    text = compact(text)
    known = set(name_plan.aliases.values()) | set(name_plan.aliases) | set(name_plan.kept) | officers(text) \
        | set(exclude)
    found: set[str] = set()
    for match in _CANDIDATE.finditer(text):
        name = _name_after(text, match.start(), certain=False)
        if not name:                                             # 张丽表示…: two characters, then what a person does
            name = match.group(1)[:len(surname(match.group(1))) + 1]
            if not _PERSON_ACTS.match(text, match.start() + len(name)):
                continue
        if name in _NOT_NAMES or not is_person_name(name):
            continue
        if _PERSON_ACTS.match(text, match.start() + len(name)):
            found.add(name)
    for match in _STRICT.finditer(text):                          # 被执行人张伟逃避…: a party role, then what
        if _is_officer(text, match.start() + len(match.group(1))):  # may be a name no rule could end
            continue
        name = _name_after(text, match.end(), certain=True)
        if name and name not in _NOT_NAMES and is_person_name(name):
            found.add(name)
    found = {t for t in found if not any(t in k or k in t for k in known if k)}
    return sorted(t for t in found if not any(t != o and t in o for o in found))
