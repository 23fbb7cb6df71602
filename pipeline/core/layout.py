"""The workbook's tabs and columns: names people see, aliases we accept.

One table drives both directions: ``init`` writes these headers, and intake
maps whatever headers it finds back onto these keys. Header matching ignores
surrounding and inner spaces, full-/half-width differences, case, ``_`` and
``-``, so ``Case Number``, ``case_number`` and ``案 号`` all find 案号.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Column:
    key: str                      # identifier used in code
    name: str                     # the Chinese header written by init
    aliases: tuple[str, ...] = ()
    required: bool = False        # a missing required column stops the pull
    width: int = 12               # column width written by init (characters)
    owned: bool = False           # written by the pipeline, never by people
    note: str = ""                # shown as the header's comment in the workbook


@dataclass(frozen=True)
class Tab:
    key: str
    name: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)


STATUS = Column("status", "状态", ("status",), width=36, owned=True,
                note="由系统填写：受理结果或需要补正的问题")

SUBMISSIONS = Tab("submissions", "素材", ("submissions", "material", "materials"), (
    Column("id", "编号", ("id", "submission id"), required=True, width=16, owned=True,
           note="由系统填写，请勿修改"),
    Column("submitted_at", "提交时间", ("submitted at", "submitted", "time", "date"), width=18,
           note="如 2026-11-28 或 2026年11月28日 15:30；空白时按系统收到的时间"),
    Column("team", "部门", ("team", "department"), required=True, width=14),
    Column("submitter", "提交人", ("submitter", "author"), width=10),
    Column("kind", "类别", ("kind", "category", "type"), required=True, width=14,
           note="打击拒执、惩戒失信、执行成功、教科书式老赖、执行不能等"),
    Column("case_number", "案号", ("case number", "case no", "case"), width=26,
           note="如（2026）琼9003执1234号"),
    Column("title", "标题", ("title", "headline"), required=True, width=30),
    Column("facts", "案情", ("facts", "case facts"), required=True, width=48),
    Column("process", "执行过程", ("process", "enforcement process"), required=True, width=48),
    Column("outcome", "执行结果", ("outcome", "result"), width=30),
    Column("parties", "当事人", ("parties", "party"), width=30,
           note="如 申请执行人：王某华；被执行人：李某强"),
    Column("publishable", "可公开", ("publishable", "public", "publish"), width=8,
           note="是 / 否；空白视为 是"),
    # Optional structured columns: the release's wording is chosen from them.
    Column("listing", "失信名单", ("blacklist", "dishonest list"), width=10,
           note="被执行人目前是否在失信被执行人名单中；只有“在册”且类别允许时稿件才会公开其姓名。"
                "填 在册 / 已移除 / 未纳入"),
    Column("closure", "结案方式", ("closure",), width=14,
           note="执行完毕 / 执行和解 / 部分履行 / 终结本次执行 / 其他；案件尚未结案可空白"),
    Column("amount", "执行到位金额", ("amount", "amount recovered"), width=14,
           note="已执行到位的金额，如 40万元 或 400000（以元计）"),
    Column("handling_team", "承办部门", ("handling team",), width=14,
           note="办理本案或先进典型所在的部门；空白即为上面“部门”所填的提交部门"),
    Column("inability", "执行不能情形", ("inability",), width=16,
           note="执行不能案件填写：被执行人无财产 / 下落不明 / 丧失履行能力 / 企业停业破产 / 财产无法处置"),
    Column("note", "内部备注", ("internal note", "note"), width=30,
           note="写给宣传办的说明，不会出现在任何对外稿件中"),
    replace(STATUS, required=True),
))

TEAMS = Tab("teams", "部门", ("teams", "departments"), (
    Column("team", "部门", ("team", "department", "name"), required=True, width=16),
    Column("leader", "负责人", ("leader", "head", "contact"), width=10),
    Column("email", "邮箱", ("email", "e-mail", "mail"), required=True, width=28),
    Column("quota", "每周任务", ("quota", "weekly quota"), width=10, note="每周应报送条数，空白为 {default_quota}"),
    Column("outward", "对外名称", ("outward name", "outward"), width=26,
           note="对外稿件中使用的名称，如“儋州市人民法院执行局”；空白时稿件写“法院名称＋执行局”"),
    STATUS,
))

MEDIA = Tab("media", "媒体", ("media", "outlets"), (
    Column("outlet", "媒体", ("outlet", "media", "name"), required=True, width=20),
    Column("contact", "联系人", ("contact", "person"), width=10),
    Column("email", "邮箱", ("email", "e-mail", "mail"), required=True, width=28),
    Column("kinds", "接收类别", ("kinds", "categories", "accepts"), width=30,
           note="全部，或以顿号分隔的类别，如 执行成功、执行不能"),
    Column("enabled", "启用", ("enabled", "active"), width=8, note="是 / 否；空白视为 是"),
    Column("type", "类型", ("type", "media type"), width=10,
           note="报纸 / 电视 / 广播 / 网络 / 新媒体；每周发出的稿件应到达电视、广播和网络（或新媒体）"),
    # Optional: the outlet's level (the summaries count placements by it) and the column it runs (四(二)).
    Column("level", "级别", ("level",), width=8, note="中央 / 省级 / 市县；工作小结按级别统计刊发情况"),
    Column("column", "专栏", ("column", "feature"), width=14,
           note="该媒体为本院开设的专栏名称，如 执行在线；没有专栏的留空"),
    Column("cadence", "专栏周期", ("cadence", "column cadence"), width=10,
           note="每周 / 每两周 / 每月；填写了专栏而此栏空白的按每周"),
    STATUS,
))

ACTIVITIES = Tab("activities", "活动", ("activities", "events"), (
    Column("date", "日期", ("date",), required=True, width=14),
    Column("kind", "类型", ("kind", "type"), required=True, width=16,
           note="新闻发布会 / 代表委员看执行 / 重大执行活动 / 新闻通气会 / 记者恳谈会"),
    Column("name", "名称", ("name", "title"), width=36),
    Column("plan_date", "方案报送日期", ("plan date", "plan submitted"), width=14,
           note="重大执行活动方案报送宣传办的日期"),
    # Optional: what a deputy's invitation says (时间, 地点) and whether a press conference took place (已召开).
    Column("time", "时间", ("time", "start time"), width=12, note="如 9:30 或 上午9:30；写入邀请函，空白时写“另行通知”"),
    Column("place", "地点", ("place", "venue", "location"), width=26,
           note="集合或活动地点，如 儋州市人民法院执行指挥中心；写入邀请函，空白时写“另行通知”"),
    Column("held", "已召开", ("held",), width=8,
           note="活动结束后由宣传办填写：是 / 否。新闻发布会只有日期已过且填“是”的才计入全年两次"),
    # Optional: the team that reports a 代表委员看执行 visit (三(十), 四(四)); its weekly reminder asks for it.
    Column("team", "负责部门", ("team", "department", "owner"), width=14,
           note="负责报道该活动的部门，须是“部门”页中的部门。代表委员看执行活动结束后，"
                "每周的催报提醒会请该部门报送报道素材，收到为止；空白时由宣传办联系"),
    STATUS,
))

REVIEWS = Tab("reviews", "审核", ("reviews", "review"), (
    Column("draft_id", "草稿编号", ("draft id", "draft"), required=True, width=20),
    Column("decision", "结论", ("decision", "verdict"), required=True, width=8, note="通过 / 退回"),
    Column("reviewer", "审核人", ("reviewer", "by"), required=True, width=10),
    Column("comment", "意见", ("comment", "reason", "note"), width=40),
    Column("code", "审核码", ("code", "review code"), width=10,
           note="审核邮件中的 6 位审核码；没有审核码或审核码不对的行不生效"),
    STATUS,
))

FIGURES = Tab("figures", "数据", ("figures", "statistics", "data"), (
    Column("month", "月份", ("month",), required=True, width=12, note="如 2026-11"),
    Column("metric", "指标", ("metric", "indicator"), required=True, width=18,
           note="如 执行结案数、执行到位金额、失信惩戒人数、拒执罪判决数"),
    Column("value", "数值", ("value", "figure"), required=True, width=14, note="如 1234 件、5.6 亿元、48 人"),
    Column("source", "来源", ("source",), required=True, width=24, note="数据出处，如 执行案件流程管理系统"),
    STATUS,
))

REPLIES = Tab("replies", "回执", ("replies", "rsvp", "回复"), (
    Column("invitation_id", "邀请编号", ("invitation id", "invitation"), required=True, width=18,
           note="邀请函编号，如 I-2026-000003（见发给宣传办的邀请函审核邮件和 status）"),
    Column("deputy", "代表委员", ("deputy", "name", "姓名"), required=True, width=16,
           note="回复的代表委员：配置中的姓名（如 王代表）或其邮箱"),
    Column("answer", "回复", ("answer", "reply", "response"), required=True, width=10,
           note="参加 / 不参加 / 待定"),
    Column("note", "备注", ("note", "remark"), width=30, note="如 由秘书代为回复、需要接送"),
    STATUS,
))

# Where a published release ran (四(六) 宣传成效): the office's record, one row per piece an outlet ran.
PLACEMENTS = Tab("placements", "刊发", ("placements", "coverage"), (
    Column("draft_id", "草稿编号", ("draft id", "draft", "release"), required=True, width=20,
           note="已发布稿件的编号，如 D-2026-000045"),
    Column("outlet", "媒体", ("outlet", "media"), required=True, width=20,
           note="刊发、播出或转载的媒体；可以是“媒体”页上的，也可以是其他媒体，如 人民法院报"),
    Column("date", "日期", ("date",), required=True, width=14, note="刊发或播出的日期"),
    Column("slot", "版面或链接", ("slot", "page", "link", "url"), width=36,
           note="如 第3版“执行在线”专栏、新闻联播时段，或网页地址"),
    Column("type", "类型", ("type", "media type"), width=10,
           note="报纸 / 电视 / 广播 / 网络 / 新媒体；“媒体”页上有的媒体可留空"),
    Column("level", "级别", ("level",), width=8, note="中央 / 省级 / 市县；“媒体”页上有的媒体可留空"),
    Column("note", "备注", ("note", "remark"), width=30),
    STATUS,
))

TABS: tuple[Tab, ...] = (SUBMISSIONS, TEAMS, MEDIA, ACTIVITIES, REVIEWS)
# Tabs a workbook may lack (one made before they existed): read when present, written by init.
OPTIONAL_TABS: tuple[Tab, ...] = (FIGURES, REPLIES, PLACEMENTS)
ALL_TABS: tuple[Tab, ...] = TABS + OPTIONAL_TABS

_IGNORED = re.compile(r"[\s_\-]+")


def fold(text: object) -> str:
    """Fold a header or tab name for matching: width, case, spaces, ``_`` and ``-``."""
    if text is None:
        return ""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", str(text)).casefold())


def names_for(item: Tab | Column) -> set[str]:
    """Every folded spelling that identifies ``item``."""
    return {fold(item.name), *(fold(a) for a in item.aliases)}
