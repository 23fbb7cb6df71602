"""The week: where each team stands (``status``), what the work plan still asks (``check``), the office's
daily digest and the reminders to the teams behind their quota.

Each gathers from the ledger, composes with the plan (``plan/``) and the templates (``texts/``), and
queues its mail through ``dispatch`` once per period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from datetime import date, datetime, timedelta

from ..core.calendar import Week
from ..core.config import Settings
from ..core.model import NETWORK_PURPOSE, MediaColumn, MessageKey, Placement, TeamWeek
from ..ledger import Ledger
from ..ledger.submissions import placement
from ..plan import columns as column_plan
from ..plan.obligations import DEPUTIES_REPORT, Plan
from ..plan.rules import REPORT_LOOKBACK, Finding, evaluate, unreported_visits
from ..texts.notices import channel_board, digest_context, reminder_context, report_asks
from ..texts.render import render
from . import invitations
from .context import Context
from .joblog import job
from .waiting import waiting_note

if TYPE_CHECKING:
    from .dispatch import MailRun

# The mail side (building messages, the queue, the channels) loads with the jobs that send, not with ``status``
# and ``check``, which read the ledger only (tests/test_startup.py).

# Failed deliveries stay in the digest this long after their last attempt;
# an unknown outcome stays until someone resends it.
TROUBLE_WINDOW = timedelta(days=7)



@dataclass
class WeekStatus:
    """What ``status`` shows: this ISO week per team and the latest row errors."""

    week: Week
    teams: list[TeamWeek]
    errors: list[dict[str, object]]
    error_count: int
    last_pull: dict[str, object] | None
    generated_at: datetime
    drafts: list[dict[str, object]] = field(default_factory=list)       # pending or approved
    deliveries: dict[str, int] = field(default_factory=dict)            # state -> count
    troubles: list[dict[str, object]] = field(default_factory=list)     # not delivered
    invitations: list[dict[str, object]] = field(default_factory=list)  # pending or approved
    invited: list[dict[str, object]] = field(default_factory=list)      # sent for coming visits, with recipients
    channels: list[dict[str, object]] = field(default_factory=list)     # releases with a version to post
    waiting: str = ""                                                   # the write-back waits: since when, why
    delivers: bool = True                                               # False: "sent" means in the outbox
    setup: list[str] = field(default_factory=list)                      # what the config leaves undone


def setup_gaps(settings: Settings) -> list[str]:
    """What the configuration leaves out that the work plan asks for: results reported upward (四(六))."""
    gaps = []
    if not settings.summaries.higher_court:
        gaps.append("月度工作报告不报送上级法院：配置 [summaries] higher_court 未填写上级法院的邮箱"
                    "（工作方案四(六)要求向上级报送宣传成效）")
    if not settings.summaries.leaders:
        gaps.append("每周工作小结和月度工作报告不发给领导小组：配置 [summaries] leaders 未填写领导小组的邮箱")
    return gaps


def status(ctx: Context, *, error_limit: int = 20) -> WeekStatus:
    """This ISO week (in the configured zone) per team, and the latest row errors."""
    ledger, at = ctx.ledger, ctx.at
    week = Week.of(at)
    errors = [dict(r) for r in ledger.row_errors()]
    last = next((dict(r) for r in ledger.audit_log(200) if r["job"] == "pull"
                 and r["action"] in ("done", "failed")), None)
    teams = ledger.team_weeks(week.key)
    drafts = [dict(d) for d in ledger.drafts("pending", "approved")]
    deliveries = ledger.delivery_counts()
    troubles = [dict(t) for t in ledger.troubled_deliveries(at - TROUBLE_WINDOW)]
    letters = [dict(i) for i in ledger.invitations("pending", "approved")]
    board = [r for r in _channel_board(ledger, at) if r["open"]]
    waiting = waiting_note(ledger)
    return WeekStatus(week=week, teams=teams, errors=errors[:error_limit],
                      error_count=len(errors), last_pull=last, generated_at=at, drafts=drafts, waiting=waiting,
                      deliveries=deliveries, troubles=troubles, invitations=letters, channels=board,
                      invited=invitations.invited(ledger, at.date()),
                      delivers=ctx.transport.delivers, setup=setup_gaps(ctx.settings))


# --- the plan's obligations, the digest and the reminders ---------------------

def _report_days(ledger: Ledger, at: datetime, plan: Plan) -> list[date]:
    """The days the valid items that report a visit (三(十), 四(四)) were made, as far back as visits are asked."""
    since = at - timedelta(days=REPORT_LOOKBACK + 1)
    return [m.astimezone(at.tzinfo).date() for m in ledger.valid_item_moments(plan[DEPUTIES_REPORT].kinds, since)]


def _findings(settings: Settings, ledger: Ledger, at: datetime) -> list[Finding]:
    week = Week.of(at)
    plan = Plan.of(settings)
    columns, placements = current_columns(ledger, at)
    return evaluate(at, teams=ledger.teams(), counts=ledger.team_weeks(week.key),
                    published_kinds=ledger.published_kinds(*week.bounds(at.tzinfo)),
                    activities=ledger.activities(), plan=plan, reports=_report_days(ledger, at, plan),
                    media_types=_media_types(ledger, week, at), columns=columns, placements=placements)


def current_columns(ledger: Ledger, at: datetime) -> tuple[list[MediaColumn], list[Placement]]:
    """The 媒体 tab's columns (专栏) and the 刊发 tab's pieces since the earliest of their current periods began
    (四(二): the digest's board and ``check``'s findings)."""
    columns = column_plan.media_columns(ledger.media())
    if not columns:
        return [], []
    today = at.date()
    rows = ledger.placements_between(column_plan.earliest(columns, today), today + timedelta(days=1))
    return columns, [placement(row) for row in rows]


def _media_types(ledger: Ledger, week: Week, at: datetime) -> list[str] | None:
    """The 类型 this week's releases reached; None when no outlet of the 媒体 tab says its 类型 (an old
    workbook: the media mix of 四(二) cannot be judged) or nothing was published (weekly-media says so)."""
    if not any(m.type for m in ledger.media()) or not ledger.published_kinds(*week.bounds(at.tzinfo)):
        return None
    return ledger.published_media_types(*week.bounds(at.tzinfo))


def check(ctx: Context) -> list[Finding]:
    """Every obligation of the work plan not (yet) met this week, month and year."""
    return _findings(ctx.settings, ctx.ledger, ctx.at)


@job("digest", fields=lambda ctx, **_: {"period": ctx.at.date().isoformat()})
def digest(ctx: Context, *, force: bool = False, dry_run: bool = False) -> MailRun:
    """The office's daily digest, once a day (``force`` sends another), to config addresses only."""
    from ..mail.message import Outgoing, address
    from .dispatch import MailRun, flush, queue

    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    day = at.date().isoformat()
    key = MessageKey("digest", day, f"{at:%H%M%S}" if force else "")
    if ledger.has_message(key):        # a dry run says what the real run would: nothing
        return MailRun(skipped=f"今天（{day}）的简报已经发送过；如需再发一份，加 --force",
                       report=None if dry_run else flush(ctx))
    last = ledger.last_message("digest")
    since = datetime.fromisoformat(last["created_at"]) if last else None
    pulled = ledger.last_audit("pull", "done")
    sheet_warnings = json.loads(pulled["detail"]).get("warnings", []) if pulled else []
    if note := waiting_note(ledger):
        sheet_warnings = [note, *sheet_warnings]
    from .publishing import slot_gaps     # drafting's modules load for the digest, not for status and check

    findings = _findings(settings, ledger, at)
    week = Week.of(at).key
    plan = Plan.of(settings)
    columns, pieces = current_columns(ledger, at)
    context = digest_context(
        now=at, court=settings.court.as_context(), teams=ledger.team_weeks(week), findings=findings,
        new_versions=ledger.versions_since(since), row_errors=ledger.row_errors(),
        troubles=ledger.troubled_deliveries(at - TROUBLE_WINDOW), activities=ledger.activities(),
        plan=plan, since=since, exempt=not plan.weekly(Week.of(at)), slot_gaps=slot_gaps(ledger, at, plan),
        waiting=ledger.drafts_listed("pending", "approved"), job_failures=ledger.failed_runs(since),
        sheet_warnings=sheet_warnings, channels=_channel_board(ledger, at),
        columns=column_plan.current(columns, at.date(), pieces, plan),
        invitations=ledger.invitations("pending", "approved"), invited=invitations.invited(ledger, at.date()),
        pack_days=settings.rules.conference_pack_days)
    rendered = render("digest", context)
    items = [Outgoing(key, "digest", addr, rendered.subject, rendered.text, rendered.html, name=name)
             for name, addr in map(address, settings.mail.office)]
    if dry_run:
        return MailRun(previews=items)
    queued = queue(ledger, items, period=day, at=at)
    return MailRun(queued=queued, report=flush(ctx))


def _channel_board(ledger: Ledger, at: datetime) -> list[dict[str, object]]:
    """Releases with a channel version still to post, or posted in the last week."""
    network = {row["item"]: row["state"] for row in ledger.deliveries_of(NETWORK_PURPOSE)}
    return channel_board(ledger.unposted_or_recent(at - TROUBLE_WINDOW), network)


@job("remind", fields=lambda ctx, **_: {"period": Week.of(ctx.at).key})
def remind(ctx: Context, *, dry_run: bool = False) -> MailRun:
    """One reminder per team a week, once: to each team behind its quota (四(五)), and to each team on the
    活动 tab as a passed 代表委员看执行 visit's 负责部门 whose report has not come (三(十), 四(四)), on quota or
    not, every week until a valid item of the report's kind made since the visit arrives. Never to a team
    on track that owes no report."""
    from ..mail.message import Outgoing
    from .dispatch import MailRun, flush, queue

    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    week = Week.of(at).key
    plan = Plan.of(settings)
    if not plan.weekly(Week.of(at)):
        return MailRun(skipped=f"{Week.of(at).label}为豁免周，不发送催报提醒",
                       report=None if dry_run else flush(ctx))
    leaders = {t.name: t for t in ledger.teams()}
    errors = [e for e in ledger.row_errors() if e["tab_key"] == "submissions" and e["week"] == week]
    owed = unreported_visits(ledger.activities(), _report_days(ledger, at, plan), at.date(), plan[DEPUTIES_REPORT])
    items = []
    for standing in ledger.team_weeks(week):
        team = leaders[standing.team]
        visits = [visit for visit, _ in owed if visit.team == team.name]
        if not (standing.short or visits) or not team.email:
            continue  # on track and owing no report, or no usable address: the digest reports the latter
        key = MessageKey("reminder", week, team.name)
        if ledger.has_message(key):
            continue            # reminded this week already, by a real run
        context = reminder_context(now=at, court=settings.court.as_context(), team=standing, leader=team.leader,
                                   row_errors=[e for e in errors if e["team"] == team.name],
                                   reports=report_asks(visits, plan))
        rendered = render("reminder", context)
        items.append(Outgoing(key, "reminder", team.email, rendered.subject, rendered.text, rendered.html,
                              name=team.leader))
    if dry_run:
        return MailRun(previews=items)
    queued = queue(ledger, items, period=week, at=at)
    return MailRun(queued=queued, report=flush(ctx))
