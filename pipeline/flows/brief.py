"""The monthly brief (执行工作简报) for people's deputies and CPPCC members (work plan 四(四)).

The plan asks the enforcement bureau to send the deputies and members briefs and
text messages regularly, "通报执行工作进展和成效": the progress and results of
enforcement, not the publicity office's own quotas. Once a month, after the month
has ended, the brief goes to ``[deputies] addresses`` in the form courts print
such briefs: a red masthead (title, 第N期 counted within the year, issuer, date, a
rule), sections 一、二、三, and the imprint (送：…, 编印, 份数). It says:

一、 the month's enforcement figures as the office entered them on the 数据 tab
     (执行结案数, 执行到位金额, 失信惩戒人数, 拒执罪判决数 …), each with its source;
二、 the typical cases published that month (the releases that reached the media);
三、 the deputies' visits and the other 活动 of the month, and those coming.

No brief is issued for a month that has not ended. A brief issued before its
month ended (earlier versions allowed it) is superseded by the full one: the next
issue of the year, saying which issue it replaces. Beside each brief a text
message version (``texts/sms``) is written for the office to send by hand.

The same brief goes as HTML, plain text and a .docx attachment. The issue
number is given once per month and kept (``briefs`` table); the mail is keyed
``brief/<month>`` (``brief/<month>/full`` for a superseding issue), so a second
run sends nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..core.calendar import Month
from ..core.errors import PipelineError, UsageError
from ..core.model import KINDS, Activity, Figure, MessageKey
from ..mail.message import Attachment, Outgoing, address
from ..plan.obligations import AS_WRITTEN, DEPUTIES, Plan
from ..texts import redact, sms
from ..texts.document import DOCX_TYPE, Block, brief_docx
from ..texts.render import Rendered, cn_date, render
from .channels import save_sms
from .context import Context
from .dispatch import MailRun, flush, queue
from .joblog import job

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
    figures: list[Figure]           # the 数据 tab's figures for the month, in its order
    releases: list[dict]            # day, kind, headline, outlets: the month's published typical cases
    held: list[dict]                # day, kind, name: the month's activities
    coming: list[dict]              # day, kind, name: announced ones after the issue date
    copies: int
    replaces: dict | None = None    # issue, issued: the brief issued before the month ended, superseded by this
    visits: int = 0
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
    """``2026-11`` → the month; only a month that has ended."""
    try:
        parsed = Month.parse(month)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if parsed.first_day > today:
        raise UsageError(f"{parsed.label}尚未开始，不能编发该月的简报")
    if parsed.next.first_day > today:
        raise UsageError(f"{parsed.label}尚未结束，不能编发该月的简报：简报通报整月的执行工作，"
                         f"请于{cn_date(parsed.next.first_day)}以后编发")
    return parsed


def compose(*, month: str, issue: int, issued: date, issuer: str, court: str, contact: str,
            figures: Sequence[Figure], releases: Sequence[Mapping[str, Any]], activities: Sequence[Activity],
            copies: int, tz: ZoneInfo, plan: Plan = AS_WRITTEN, replaces: dict | None = None) -> Brief:
    """The brief from the ledger's facts (pure). ``releases`` are ``releases_sent_between`` rows."""
    covered = Month.parse(month)
    start, end = covered.span
    sent = [{"day": datetime.fromisoformat(r["first_sent"]).astimezone(tz).date(), "kind": r["kind"],
             "headline": r["headline"], "outlets": r["outlets"]} for r in releases]
    order = {k: i for i, k in enumerate(KINDS)}
    sent.sort(key=lambda r: (order.get(r["kind"], len(order)), r["day"]))
    horizon = Month.of(issued).shifted(UPCOMING_MONTHS + 1).first_day
    # The month's activities, but not one the office marked as not held (已召开 否).
    held = [_activity(a) for a in activities if start <= a.day < end and a.day <= issued and a.held is not False]
    coming = [_activity(a) for a in activities if a.kind in UPCOMING_KINDS and issued < a.day < horizon]
    brief = Brief(month=month, label=covered.label, year=covered.year, issue=issue, issued=issued, issuer=issuer,
                  court=court, contact=contact, figures=list(figures), releases=sent, held=held, coming=coming,
                  copies=copies, replaces=replaces,
                  visits=sum(1 for a in held if plan[DEPUTIES].counted(a["kind"])))
    brief.blocks = blocks(brief)
    return brief


def _activity(activity: Activity) -> dict:
    return {"day": activity.day, "kind": activity.kind, "name": activity.name}


def _activity_line(a: dict) -> str:
    return f"{a['day'].month}月{a['day'].day}日　{a['kind']}" + (f"：{a['name']}" if a["name"] else "")


def _case_line(r: dict) -> str:
    return f"{cn_date(r['day'])}　【{r['kind']}】{r['headline']}"


def blocks(b: Brief) -> list[Block]:
    """The body of the .docx, section by section, in the templates' words."""
    out = [Block("paragraph", superseding(b))] if b.replaces else []
    out += [Block("paragraph", intro(b)), Block("heading", FIGURES_HEADING)]
    if b.figures:
        out.append(Block("table", rows=(("指标", "数值", "来源"),) + tuple(
            (f.metric, f.value, f.source) for f in b.figures)))
    else:
        out.append(Block("paragraph", NO_FIGURES))
    out.append(Block("heading", CASES_HEADING))
    if b.releases:
        out.append(Block("paragraph", cases_line(b)))
        out += [Block("paragraph", _case_line(r)) for r in b.releases]
    else:
        out.append(Block("paragraph", NO_CASES))
    out += [Block("heading", "三、代表委员看执行及有关活动"), Block("subheading", "（一）本月活动")]
    out += [Block("paragraph", _activity_line(a)) for a in b.held] or [Block("paragraph", "本月未开展有关活动。")]
    out.append(Block("subheading", "（二）近期安排"))
    out += [Block("paragraph", _activity_line(a)) for a in b.coming] or [Block("paragraph", "近期暂无安排。")]
    out.append(Block("paragraph", closing(b)))
    return out


FIGURES_HEADING = "一、执行工作主要数据"
CASES_HEADING = "二、本月公开的典型案例"
NO_FIGURES = "本月执行工作数据尚未录入。"
NO_CASES = "本月未向社会公开典型案例。"


def superseding(b: Brief) -> str:
    r = b.replaces or {}
    return (f"本期为{b.label}执行工作简报的完整版本，取代{cn_date(r['issued'])}印发的第{r['issue']}期"
            f"（该期印发时{b.label}尚未结束，内容不完整），请以本期为准。")


def intro(b: Brief) -> str:
    return (f"{b.label}，{b.court}坚持依法执行、规范执行、善意文明执行，持续推进“基本解决执行难”工作。"
            "现将本月执行工作主要数据、公开的典型案例和代表委员看执行等活动情况通报如下。")


def cases_line(b: Brief) -> str:
    return f"本月通过新闻媒体公开执行典型案例 {len(b.releases)} 件："


def closing(b: Brief) -> str:
    text = "欢迎各位代表、委员莅临执行一线，见证执行，对执行工作提出意见建议。"
    return text + (f"（{b.contact}）" if b.contact else "")


def text_messages(b: Brief) -> list[str]:
    """The brief as text messages for the office to send by hand: the figures, the cases, the visits."""
    facts = [f"{f.metric}{f.value}" for f in b.figures]
    if b.releases:
        facts.append(f"公开执行典型案例{len(b.releases)}件")
    if b.visits:
        facts.append(f"开展代表委员看执行活动{b.visits}次")
    body = f"{b.label}执行工作简报（{b.year}年{b.number}）" + ("：" + "，".join(facts) + "。" if facts else "。")
    if b.replaces:
        body += f"本期取代第{b.replaces['issue']}期。"
    body += "简报全文已发至您的电子邮箱，欢迎提出意见建议。"
    return sms.messages(b.court, body, b.contact)


def _render(b: Brief, at: datetime) -> tuple[Rendered, Attachment]:
    context = {"b": b, "intro": intro(b), "closing": closing(b), "superseding": superseding(b) if b.replaces else "",
               "figures_heading": FIGURES_HEADING, "cases_heading": CASES_HEADING, "no_figures": NO_FIGURES,
               "no_cases": NO_CASES, "cases": cases_line(b),
               "releases": [{**r, "line": _case_line(r)} for r in b.releases],
               "held": [{**a, "line": _activity_line(a)} for a in b.held],
               "coming": [{**a, "line": _activity_line(a)} for a in b.coming]}
    rendered = render("brief", context)
    content = brief_docx(title=b.title, issue=b.number, issuer=b.issuer, issued=cn_date(b.issued), blocks=b.blocks,
                         distribution=b.distribution, imprint=b.imprint, at=at)
    return rendered, Attachment(b.filename, content, DOCX_TYPE)


@job("brief", fields=lambda ctx, month, **_: {"period": month})
def brief(ctx: Context, month: str, *, dry_run: bool = False) -> MailRun:
    """Mail ``month``'s brief (``"2026-11"``) to the deputies and members, once, after the month has ended.

    A dry run shows the messages with the issue number the brief would get,
    and records nothing. Skipped when ``[deputies] brief = false`` or no
    addresses are set; refused (:class:`UsageError`) for a month that has not
    ended, and (:class:`BriefBlocked`) when the text still carries an
    identifier, since it leaves the court as a release does. A brief the
    ledger shows issued before its month ended is superseded by the full one.
    Beside the brief, its text message version is written to ``<outbox>/sms/``.
    """
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    tz = settings.timezone
    covered = parse_month(month, at.date())
    label = covered.label
    deputies = settings.deputies
    if not deputies.brief or not deputies.addresses:
        reason = ("配置 [deputies] brief = false，不发送代表委员执行工作简报" if not deputies.brief else
                  "配置 [deputies] addresses 未填写代表委员的邮箱，执行工作简报未发送")
        if dry_run:
            return MailRun(skipped=reason)
        return MailRun(skipped=reason, report=flush(ctx))
    latest = ledger.latest_brief(month)
    replaces = None
    if latest is not None:
        issued_at = datetime.fromisoformat(latest["created_at"])
        if issued_at < covered.bounds(tz)[1]:        # issued before the month ended: superseded
            replaces = {"issue": latest["issue"], "issued": issued_at.astimezone(tz).date()}
    key = MessageKey("brief", month, "full") if replaces else MessageKey("brief", month)
    if (latest is not None and replaces is None) or ledger.has_message(key):
        # A dry run says what the real run would: nothing.
        return MailRun(skipped=f"{label}{TITLE}（第{ledger.brief_issue(month)}期）已经发送过",
                       report=None if dry_run else flush(ctx))
    plan = Plan.of(settings)
    facts = {"figures": ledger.figures(month),
             "releases": ledger.releases_sent_between(*covered.bounds(tz)),
             "activities": ledger.activities()}
    recipients: dict[str, str] = {}
    for name, addr in map(address, deputies.addresses):
        recipients.setdefault(addr, name)
    court = settings.court
    allowed = redact.own_numbers(court.contact)

    def build(issue: int) -> tuple[list[Outgoing], list[str]]:
        b = compose(month=month, issue=issue, issued=at.date(),
                    issuer=deputies.editor.strip() or f"{court.name}执行局", court=court.name,
                    contact=court.contact, copies=len(recipients), tz=tz, plan=plan, replaces=replaces, **facts)
        rendered, attachment = _render(b, at)
        texts = text_messages(b)
        try:
            redact.guard_fields(subject=rendered.subject, name="", text=rendered.text, html=rendered.html,
                                attachments=[(attachment.filename, attachment.content, attachment.content_type)],
                                allowed=allowed)
            redact.check([("短信", t) for t in texts], allowed=allowed)
        except redact.Blocked as blocked:
            raise BriefBlocked(f"{label}{TITLE}未发送：{blocked}。请改正活动表、数据表或稿件中的该信息后重新运行") from None
        return [Outgoing(key, "brief", addr, rendered.subject, rendered.text, rendered.html, (attachment,),
                         name=name) for addr, name in recipients.items()], texts

    issue = ledger.next_brief_issue(month, superseding=replaces is not None)
    items, texts = build(issue)
    if dry_run:
        return MailRun(previews=items)
    with ledger.transaction():
        assigned = ledger.assign_brief_issue(month, at, replaces=replaces["issue"] if replaces else None)
        ledger.audit(at, "brief", "issued", month, issue=assigned, recipients=len(items),
                     replaces=replaces["issue"] if replaces else None)
    if assigned != issue:     # another run numbered a brief of the same year meanwhile
        items, texts = build(assigned)
    queued = queue(ledger, items, period=month, at=at)
    path, trouble = save_sms(settings.mail.outbox, f"{TITLE}_{covered.year}年第{assigned}期", texts,
                             title=f"{label}{TITLE}（{covered.year}年第{assigned}期）")
    notes = [f"短信版本（{len(texts)} 条）已写入 {path}，请用短信平台发给代表委员" if path else trouble]
    return MailRun(queued=queued, report=flush(ctx), notes=notes)
