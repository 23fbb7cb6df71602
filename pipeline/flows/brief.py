"""The monthly brief (执行工作简报) for people's deputies and CPPCC members (work plan 四(四)).

The plan asks the enforcement bureau to keep the deputies and members it
invites to 代表委员看执行 informed "by text message, magazine, brief (简报)
and other means" of the work's progress and results. Once a month the brief
goes to ``[deputies] addresses``, in the form courts print such briefs: a red
masthead (title, 第N期 counted within the year, issuer, date, a rule), sections
一、二、三, and the imprint (送：…, 编印, 份数). It says:

一、 the month's publicity figures, read from the ledger as the monthly report
     reads them (``summaries.gather``): material submitted (valid items) and
     adopted (published as releases) per team and per kind, releases and
     outlets, the plan's obligations met;
二、 the releases that reached the media that month;
三、 the deputies' visits and the other 活动 of the month, and those coming.

The same brief goes as HTML, plain text and a .docx attachment. The issue
number is given once per month and kept (``briefs`` table); the mail is keyed
``brief/<month>``, so a second run sends nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..core.calendar import Month
from ..core.errors import PipelineError, UsageError
from ..core.model import KINDS, Activity, MessageKey
from ..mail.message import Attachment, Outgoing, address
from ..plan.obligations import AS_WRITTEN, DEPUTIES, Plan
from ..texts import redact
from ..texts.document import DOCX_TYPE, Block, brief_docx
from ..texts.render import Rendered, cn_date, render
from .context import Context
from .dispatch import MailRun, flush, queue
from .joblog import job
from .summaries import Figures, gather

TITLE = "执行工作简报"
DISTRIBUTION = "送：各位全国、省人大代表，政协委员"
# The rest of the issue month and this many months after it count as "coming".
UPCOMING_MONTHS = 2
# Only these are announced ahead: a major enforcement operation (重大执行活动) named
# before it happens could warn the very debtors it is aimed at.
UPCOMING_KINDS = ("代表委员看执行", "新闻发布会")


class BriefBlocked(PipelineError):
    """The brief still carries a personal identifier (from an activity's or a release's name)."""


@dataclass
class Brief:
    """Everything one issue of the brief says, as plain data for the templates and the .docx."""

    month: str                      # 2026-11
    label: str                      # 2026年11月
    year: int
    issue: int                      # counted within the year
    issued: date
    issuer: str
    court: str
    contact: str
    figures: Figures
    teams: list[dict]               # team, submitted, adopted, quota, weeks_met, weeks_missed (None: not on 部门)
    kinds: list[dict]               # kind, submitted, adopted
    releases: list[dict]            # day, kind, headline, team, outlets
    held: list[dict]                # day, kind, name: the month's activities up to the issue date
    coming: list[dict]              # day, kind, name: announced ones after the issue date
    copies: int
    quota: str = AS_WRITTEN.quota_required()   # the weekly quota in words, as the teams' 每周任务 set it
    submitted: int = 0
    adopted: int = 0
    visits: int = 0
    outlets: int = 0
    title: str = TITLE
    distribution: str = DISTRIBUTION
    blocks: list[Block] = field(default_factory=list)

    @property
    def number(self) -> str:
        return f"第{self.issue}期"

    @property
    def filename(self) -> str:
        return f"{TITLE}_{self.year}年第{self.issue}期.docx"

    @property
    def imprint(self) -> str:
        return f"编印：{self.issuer}　　{cn_date(self.issued)}印发　　（共{self.copies}份）"


def parse_month(month: str, today: date) -> Month:
    """``2026-11`` → the month; not a month to come."""
    try:
        parsed = Month.parse(month)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if parsed.first_day > today:
        raise UsageError(f"{parsed.label}尚未开始，不能编发该月的简报")
    return parsed


def compose(*, month: str, issue: int, issued: date, issuer: str, court: str, contact: str, figures: Figures,
            releases: Sequence[Mapping[str, Any]], activities: Sequence[Activity], copies: int,
            tz: ZoneInfo, plan: Plan = AS_WRITTEN) -> Brief:
    """The brief from the ledger's facts (pure).

    "Submitted" (报送) counts the month's valid items, as the monthly report and
    the weekly quota do (四(五): an item without 案情 or 执行过程 does not count);
    "adopted" (采用) the releases that reached the media in the month, by the
    team and kind of their material. ``releases`` are ``releases_sent_between`` rows.
    """
    sent = [{"day": datetime.fromisoformat(r["first_sent"]).astimezone(tz).date(), "kind": r["kind"],
             "headline": r["headline"], "team": r["team"], "outlets": r["outlets"]} for r in releases]
    teams = [{"team": row["team"], "submitted": row["total"], "quota": row["quota"], "weeks_met": row["weeks_met"],
              "weeks_missed": row["weeks_missed"]} for row in figures.teams]
    listed = {row["team"] for row in teams}
    teams += [{"team": name, "submitted": 0, "quota": None, "weeks_met": None, "weeks_missed": None}
              for name in sorted({r["team"] for r in sent} - listed)]    # a team since taken off 部门
    for row in teams:
        row["adopted"] = sum(1 for r in sent if r["team"] == row["team"])
    present = set(figures.kinds) | {r["kind"] for r in sent}
    kinds = [{"kind": k, "submitted": sum(t["by_kind"].get(k, 0) for t in figures.teams),
              "adopted": sum(1 for r in sent if r["kind"] == k)}
             for k in [k for k in KINDS if k in present] + sorted(present - set(KINDS))]
    start, end = figures.start, figures.end
    horizon = Month.of(issued).shifted(UPCOMING_MONTHS + 1).first_day
    held = [_activity(a) for a in activities if start <= a.day < end and a.day <= issued]
    coming = [_activity(a) for a in activities if a.kind in UPCOMING_KINDS and issued < a.day < horizon]
    brief = Brief(month=month, label=figures.label, year=start.year, issue=issue, issued=issued, issuer=issuer,
                  court=court, contact=contact, figures=figures, teams=teams, kinds=kinds, releases=sent,
                  held=held, coming=coming, copies=copies, quota=plan.quota_required(t["quota"] for t in teams),
                  submitted=sum(t["submitted"] for t in teams),
                  adopted=len(sent), visits=sum(1 for a in held if plan[DEPUTIES].counted(a["kind"])),
                  outlets=len(figures.outlets))
    brief.blocks = blocks(brief)
    return brief


def _activity(activity: Activity) -> dict:
    return {"day": activity.day, "kind": activity.kind, "name": activity.name}


def _activity_line(a: dict) -> str:
    return f"{a['day'].month}月{a['day'].day}日　{a['kind']}" + (f"：{a['name']}" if a["name"] else "")


def blocks(b: Brief) -> list[Block]:
    """The body of the .docx, section by section, in the templates' words."""
    f = b.figures
    out = [Block("paragraph", intro(b)),
           Block("heading", "一、执行宣传工作情况"),
           Block("subheading", "（一）素材报送与采用"),
           Block("paragraph", material_line(b))]
    if b.teams:
        out.append(Block("table", rows=(("部门", "报送素材", "采用发布", "每周任务达标"),) + tuple(
            (t["team"], str(t["submitted"]), str(t["adopted"]),
             "—" if t["weeks_met"] is None else f"{t['weeks_met']} / {t['weeks_met'] + t['weeks_missed']} 周")
            for t in b.teams)))
    if b.kinds:
        out.append(Block("table", rows=(("素材类别", "报送素材", "采用发布"),) + tuple(
            (k["kind"], str(k["submitted"]), str(k["adopted"])) for k in b.kinds)))
    out += [Block("subheading", "（二）媒体发布"),
            Block("paragraph", f"向媒体发布执行新闻稿件 {f.releases} 篇，覆盖媒体 {b.outlets} 家。" if f.releases
                  else "本月未向媒体发布执行新闻稿件。")]
    if f.outlets:
        out.append(Block("table", rows=(("媒体", "发稿数"),) + tuple(
            (o["outlet"], str(o["releases"])) for o in f.outlets)))
    out += [Block("subheading", "（三）工作方案任务完成情况"),
            Block("table", rows=(("任务", "完成", "应完成"),) + tuple(
                (o["what"], str(o["met"]), str(o["owed"])) for o in f.obligations)),
            Block("heading", "二、本月发布的执行新闻")]
    if b.releases:
        out.append(Block("table", rows=(("日期", "类别", "标题"),) + tuple(
            (cn_date(r["day"]), r["kind"], r["headline"]) for r in b.releases)))
    else:
        out.append(Block("paragraph", "本月未向媒体发布执行新闻稿件。"))
    out += [Block("heading", "三、代表委员看执行及有关活动"), Block("subheading", "（一）本月活动")]
    out += [Block("paragraph", _activity_line(a)) for a in b.held] or [Block("paragraph", "本月未开展有关活动。")]
    out.append(Block("subheading", "（二）近期安排"))
    out += [Block("paragraph", _activity_line(a)) for a in b.coming] or [Block("paragraph", "近期暂无安排。")]
    out.append(Block("paragraph", closing(b)))
    return out


def intro(b: Brief) -> str:
    return (f"{b.label}，{b.court}执行局按照《“基本解决执行难”宣传工作方案》的部署，各组报送宣传素材 "
            f"{b.submitted} 条，向媒体发布执行新闻稿件 {b.figures.releases} 篇，开展代表委员看执行活动 "
            f"{b.visits} 次。现将有关情况通报如下。")


def material_line(b: Brief) -> str:
    return (f"执行局各组、指挥中心报送案情和执行过程完整的宣传素材 {b.submitted} 条"
            f"（工作方案要求{b.quota}），编发为新闻稿件并向媒体发布（采用）{b.adopted} 篇。")


def closing(b: Brief) -> str:
    text = "欢迎各位代表、委员莅临执行一线，见证执行，对执行工作提出意见建议。"
    return text + (f"（{b.contact}）" if b.contact else "")


def _render(b: Brief, at: datetime) -> tuple[Rendered, Attachment]:
    context = {"b": b, "intro": intro(b), "material": material_line(b), "closing": closing(b),
               "held": [{**a, "line": _activity_line(a)} for a in b.held],
               "coming": [{**a, "line": _activity_line(a)} for a in b.coming]}
    rendered = render("brief", context)
    content = brief_docx(title=b.title, issue=b.number, issuer=b.issuer, issued=cn_date(b.issued), blocks=b.blocks,
                         distribution=b.distribution, imprint=b.imprint, at=at)
    return rendered, Attachment(b.filename, content, DOCX_TYPE)


@job("brief", fields=lambda ctx, month, **_: {"period": month})
def brief(ctx: Context, month: str, *, dry_run: bool = False) -> MailRun:
    """Mail ``month``'s brief (``"2026-11"``) to the deputies and members, once.

    A dry run shows the messages with the issue number the brief would get,
    and records nothing. Skipped when ``[deputies] brief = false`` or no
    addresses are set; refused (:class:`BriefBlocked`) when the text still
    carries an identifier, since it leaves the court as a release does.
    """
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    covered = parse_month(month, at.date())
    label = covered.label
    deputies = settings.deputies
    if not deputies.brief or not deputies.addresses:
        reason = ("配置 [deputies] brief = false，不发送代表委员执行工作简报" if not deputies.brief else
                  "配置 [deputies] addresses 未填写代表委员的邮箱，执行工作简报未发送")
        if dry_run:
            return MailRun(skipped=reason)
        return MailRun(skipped=reason, report=flush(ctx))
    key = MessageKey("brief", month)
    if ledger.has_message(key):        # a dry run says what the real run would: nothing
        return MailRun(skipped=f"{label}{TITLE}（第{ledger.brief_issue(month)}期）已经发送过",
                       report=None if dry_run else flush(ctx))
    plan = Plan.of(settings)
    facts = {"figures": gather(ledger, covered, settings.timezone, plan),
             "releases": ledger.releases_sent_between(*covered.bounds(settings.timezone)),
             "activities": ledger.activities()}
    recipients: dict[str, str] = {}
    for name, addr in map(address, deputies.addresses):
        recipients.setdefault(addr, name)
    court = settings.court

    def build(issue: int) -> list[Outgoing]:
        b = compose(month=month, issue=issue, issued=at.date(),
                    issuer=deputies.editor.strip() or f"{court.name}执行局", court=court.name,
                    contact=court.contact, copies=len(recipients), tz=settings.timezone, plan=plan, **facts)
        rendered, attachment = _render(b, at)
        try:
            redact.guard_fields(subject=rendered.subject, name="", text=rendered.text, html=rendered.html,
                                attachments=[(attachment.filename, attachment.content, attachment.content_type)],
                                allowed=redact.own_numbers(court.contact))
        except redact.Blocked as blocked:
            raise BriefBlocked(f"{label}{TITLE}未发送：{blocked}。请改正活动表或稿件中的该信息后重新运行") from None
        return [Outgoing(key, "brief", addr, rendered.subject, rendered.text, rendered.html, (attachment,),
                         name=name) for addr, name in recipients.items()]

    issue = ledger.next_brief_issue(month)
    items = build(issue)
    if dry_run:
        return MailRun(previews=items)
    with ledger.transaction():
        assigned = ledger.assign_brief_issue(month, at)
        ledger.audit(at, "brief", "issued", month, issue=assigned, recipients=len(items))
    if assigned != issue:     # another run numbered a brief of the same year meanwhile
        items = build(assigned)
    queued = queue(ledger, items, period=month, at=at)
    return MailRun(queued=queued, report=flush(ctx))
