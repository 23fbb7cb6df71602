"""Plain data the stages pass to each other: dataclasses in, dataclasses out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

# The kinds of material named in the work plan (三、工作内容), canonical spelling.
KINDS: tuple[str, ...] = (
    "打击拒执",      # 三(三)(四): the crime of refusing to execute, detention, fines
    "惩戒失信",      # 三(三): dishonest-debtor list, consumption bans
    "执行成功",      # 三(七)
    "教科书式老赖",  # 三(七)
    "执行不能",      # 三(八): no property to execute; explain the concept
    "三涉专项",      # 三(五): livelihood, party/government bodies, finance
    "先进典型",      # 三(十二): model enforcement officers
    "巡查督导",      # 三(十): inspections and deputies' visits
    "第三方评估",    # 三(十一)
    "执行规范化",    # 三(九)
    "执行联动",      # 三(二): the "big pattern" of coordinated enforcement
    "动员部署",      # 三(一): the mobilisation meeting that opens the campaign
    "三反专项",      # 三(四): 反规避执行、反逃避执行、反抗拒执行 special publicity
    "宣传活动",      # 三(四): slogans, publicity vans, 进工地/进学校/进社区/进集市, media meetings
    "代表委员看执行",  # 三(十), 四(四): the report of a deputies' visit (the visit itself is a 活动 row)
)

# The 媒体 tab's 类型 (四(二): TV, radio and online media every week; 网络 and 新媒体 are both online).
MEDIA_TYPES: tuple[str, ...] = ("报纸", "电视", "广播", "网络", "新媒体")

# An outlet's 级别 (四(六), 三(五): central, provincial and local media): 中央 national, 省级 provincial,
# 市县 the city's and county's own (the court's own channels are 市县 too).
MEDIA_LEVELS: tuple[str, ...] = ("中央", "省级", "市县")

# How often a column (专栏, 四(二): columns in 《今日儋州》 and on 儋州电视台) runs a piece; 每周 when not said.
CADENCES: tuple[str, ...] = ("每周", "每两周", "每月")

# Activity types on the 活动 tab (四(二), 四(四), 四(五)).
# 新闻通气会 and 记者恳谈会 are kinds of their own: only a 新闻发布会 counts toward the plan's two a year.
ACTIVITY_KINDS: tuple[str, ...] = ("新闻发布会", "代表委员看执行", "重大执行活动", "新闻通气会", "记者恳谈会")

# The court's own channels (四(三)), by their Chinese names. The pipeline writes a
# version of every approved release for each; the office posts the first three
# by hand and marks them posted, the national network is mailed.
@dataclass(frozen=True)
class Channel:
    """One of the court's own channels (work plan 四(三)); ``[channels] <key>`` switches it on."""

    key: str                      # wechat | weibo | website | network
    label: str                    # how the office names it
    aliases: tuple[str, ...]      # what people type for it (the label first)
    by_hand: bool                 # the office posts it and marks it posted (已发微信); else it is mailed
    files: tuple[str, ...]        # what it writes into outbox/channels/<draft>/ (the first is the main one)
    outlet: str = ""              # a post marked posted is a placement of the court's own medium: its name after
    media_type: str = ""          # the court's (儋州市人民法院微信公众号), its 类型 (the summaries' results, 四(六))


# The registry: the config's switches, the CLI's help, the 审核 tab's marks and the outbox's pages derive from it.
CHANNEL_LIST: tuple[Channel, ...] = (
    Channel("wechat", "微信", ("微信", "公众号", "微信公众号", "wechat"), True, ("wechat.html",), "微信公众号", "新媒体"),
    Channel("weibo", "微博", ("微博", "weibo"), True, ("weibo.txt",), "官方微博", "新媒体"),
    Channel("website", "网站", ("网站", "官网", "官方网站", "website"), True, ("website.html", "website.txt"),
            "官方网站", "网络"),
    Channel("network", "信息网", ("信息网", "全国法院执行信息网", "network"), False, ()),
)
CHANNELS: dict[str, str] = {c.key: c.label for c in CHANNEL_LIST}
# The purpose of a release's copy for the national enforcement network (四(三)), mailed with the media's messages.
NETWORK_PURPOSE = "network"
POSTED_BY_HAND: tuple[str, ...] = tuple(c.key for c in CHANNEL_LIST if c.by_hand)

# What the office marks on the 审核 tab when it has posted a channel's version.
POSTED_MARKS: dict[str, str] = {f"已发{CHANNELS[c]}": c for c in POSTED_BY_HAND}

# Review decisions on the 审核 tab: a verdict on a draft, or a channel posted.
DECISIONS: tuple[str, ...] = ("通过", "退回", *POSTED_MARKS)

# The optional structured columns of 素材, canonical values (blank means "not said").
# 失信名单: whether the debtor is on the dishonest-debtor list now.
LISTINGS: tuple[str, ...] = ("在册", "已移除", "未纳入")
# 结案方式: how the case was closed.
CLOSURES: tuple[str, ...] = ("执行完毕", "执行和解", "部分履行", "终结本次执行", "其他")
# 执行不能情形: why there is nothing to execute.
INABILITIES: tuple[str, ...] = ("被执行人无财产", "下落不明", "丧失履行能力", "企业停业破产", "财产无法处置")


@dataclass(frozen=True)
class MessageKey:
    """What a message is, once: the ledger's key for it, so that a job run twice queues nothing twice.

    ``what`` the message is (digest, reminder, draft, slot, release, network, blocked, brief, summary,
    invitation, invitation-draft, invitation-changed); ``item`` what it is about (a draft's or an
    invitation's ID, a day, an ISO week, a month; a summary's kind); ``variant`` which of several
    (a team's reminder, a second digest's moment, a draft made again, a summary's period, a weekly slot).
    Written as ``what/item[/variant]`` for the ledger's primary key, the ledger keeps the three parts as
    columns of their own too (docs/architecture.md, "I/O at the edges"). An item never holds a ``/``.
    """

    what: str
    item: str
    variant: str = ""

    def __str__(self) -> str:
        return f"{self.what}/{self.item}/{self.variant}" if self.variant else f"{self.what}/{self.item}"

    @property
    def label(self) -> str:
        """The item and the variant, for a file name (``D-2026-000001``, ``2026-W48-执行一组``)."""
        return f"{self.item}-{self.variant.replace('/', '-')}" if self.variant else self.item


@dataclass(frozen=True)
class Submission:
    """One row of 素材 after normalisation (fields are clean strings)."""

    team: str
    submitter: str
    kind: str
    case_number: str
    title: str
    facts: str
    process: str
    outcome: str
    parties: str
    publishable: bool
    submitted_at: datetime | None   # None when the cell was blank

    def duplicate_key(self) -> tuple[str, str, str, str]:
        """Rows with the same team, case number, kind and title are one item."""
        return (self.team, self.case_number, self.kind, self.title)


@dataclass(frozen=True)
class Team:
    name: str
    leader: str
    email: str
    quota: int
    outward: str = ""               # 对外名称: how public text names the team (blank: the court's 执行局)


@dataclass(frozen=True)
class TeamWeek:
    """One team's standing for one ISO week (四(五): only valid items count)."""

    team: str
    quota: int
    valid: int
    invalid: int

    @property
    def short(self) -> int:
        return max(self.quota - self.valid, 0)


@dataclass(frozen=True)
class MediaContact:
    outlet: str
    contact: str
    email: str
    kinds: tuple[str, ...]          # empty tuple means every kind
    enabled: bool
    type: str = ""                  # 类型: one of MEDIA_TYPES, "" when the row does not say (old workbooks)
    level: str = ""                 # 级别: one of MEDIA_LEVELS, "" when the row does not say
    column: str = ""                # 专栏: the column the outlet runs for the court (执行在线), "" for none
    cadence: str = ""               # 专栏周期: one of CADENCES when there is a column, else ""


@dataclass(frozen=True)
class Activity:
    day: date
    kind: str
    name: str
    plan_date: date | None
    time: str = ""                  # 时间, as typed (9:30, 上午9:30): the invitation says it
    place: str = ""                 # 地点
    held: bool | None = None        # 已召开: 是 True, 否 False, blank None (not yet marked)
    team: str = ""                  # 负责部门: the team that owes a visit's report (blank: the office asks)

    def took_place(self, today: date) -> bool:
        """Held by ``today``: its day is not still to come and the office marked it 已召开 是."""
        return self.held is True and self.day <= today


@dataclass(frozen=True)
class Figure:
    """One enforcement figure the office entered on the 数据 tab for a month (the deputies' brief)."""

    month: str                      # 2026-11
    metric: str                     # 执行结案数
    value: str                      # 1234 件
    source: str                     # 执行案件流程管理系统


@dataclass(frozen=True)
class Reply:
    """A deputy's answer to an invitation, as the office entered it on the 回执 tab."""

    invitation: str                 # I-2026-000003
    recipient: str                  # the address the invitation went to (the row may have named the deputy)
    answer: str                     # one of REPLY_ANSWERS
    note: str = ""


REPLY_ANSWERS = ("参加", "不参加", "待定")


@dataclass(frozen=True)
class MediaColumn:
    """A column (专栏) an outlet runs for the court (四(二)), from the 媒体 tab: one piece every ``cadence``."""

    outlet: str                     # 《今日儋州》, as the 媒体 tab names it
    name: str                       # 执行在线
    cadence: str                    # 每周 / 每两周 / 每月

    @property
    def title(self) -> str:
        """How the office names it: 《今日儋州》“执行在线”专栏."""
        return f"{self.outlet}“{self.name}”专栏"


@dataclass(frozen=True)
class Placement:
    """Where a published release ran (四(六) 宣传成效): a 刊发 row, or a post on the court's own channel."""

    draft_id: str                   # the published version's ID
    outlet: str                     # the 媒体 tab's name for it when it is there, else as typed
    day: date
    slot: str = ""                  # 版面或链接: page, programme slot or address
    note: str = ""                  # 备注
    type: str = ""                  # 类型 (the row's, else the 媒体 tab's), "" when neither says
    level: str = ""                 # 级别 (the row's, else the 媒体 tab's), "" when neither says
    column: str = ""                # the column (专栏) of the outlet this piece fills, "" for none
    channel: str = ""               # a court channel's key (wechat, …) for a post marked posted; "" for a 刊发 row


@dataclass(frozen=True)
class Review:
    draft_id: str
    decision: str
    reviewer: str
    comment: str
    code: str = ""                  # 审核码 as typed (review.review_code)


@dataclass(frozen=True)
class RowError:
    """A row that could not be taken in as it stands, and why (in Chinese)."""

    tab_key: str                    # "submissions", "teams", ... (layout.Tab.key)
    tab: str                        # the tab's title in the workbook
    row: int                        # 1-based sheet row
    problems: tuple[str, ...]
    team: str = ""
    week: str = ""                  # ISO week ("2026-W48") the row belongs to, if known
    submitter: str = ""

    @property
    def message(self) -> str:
        return "；".join(self.problems)


# What the ledger knows, handed to intake (intake/tabs.py): a pull recognises what it took in before.
@dataclass(frozen=True)
class Known:
    """What the ledger already knows of one submission: its row keeps its ID when its 编号 cell was cleared."""

    id: str
    content_hash: str
    version: int
    removed: bool
    received_at: datetime


@dataclass(frozen=True)
class Invited:
    """An invitation the 回执 tab names, as the ledger knows it: whether it went out, and to whom."""

    sent: bool
    recipients: tuple[tuple[str, str], ...] = ()     # (display name, address) of each deputy it went to


@dataclass
class PullSummary:
    """What one pull did, for the CLI and the audit log."""

    rows: int = 0                   # rows with content in 素材
    accepted: int = 0
    new: int = 0
    changed: int = 0
    restored: int = 0
    removed: int = 0
    flagged: int = 0                # invalid or duplicate rows in 素材
    other_errors: int = 0           # rows with errors on the other tabs
    cells_written: int = 0
    warnings: list[str] = field(default_factory=list)
    waiting: Exception | None = None   # why the write-back of 编号/状态 waits (nothing written this pull)
    waiting_note: str = ""             # the office's line about it (see flows/pulling.waiting_text)

    def tally(self) -> dict[str, object]:
        """What the pull did, for the job's line in the log: counts only, never a cell's content."""
        fields: dict[str, object] = {
            "rows": self.rows, "accepted": self.accepted, "flagged": self.flagged, "new": self.new,
            "changed": self.changed, "restored": self.restored, "removed": self.removed,
            "other_errors": self.other_errors, "cells_written": self.cells_written, "warnings": len(self.warnings)}
        if self.waiting is not None:
            fields["writeback"] = f"waiting:{type(self.waiting).__name__}"
        return fields
