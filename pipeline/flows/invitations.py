"""Invitations to the deputies' visits: drafted, reviewed by the office, sent once.

The work plan (四(四)) asks the 执行局 for at least one 代表委员看执行、谈执行
activity a month, inviting the area's people's deputies and CPPCC members to
learn about enforcement work, witness it and give their views. Every such visit
on the 活动 tab gets one invitation letter, and the letter reaches the deputies
only after the office approves it: nothing leaves the court unreviewed.

- ``draft_invitations``: each coming visit without a live invitation gets one,
  mailed to the office for review. An open invitation whose visit left the tab,
  moved or was renamed is withdrawn (the moved visit gets a new one); one whose
  day passed unsent expires. When a visit changes after its invitation was sent,
  the new letter says so, or the office is told to let the deputies know.
- the office's 通过 or 退回 (``standings``, ``set_state``: this flow's part
  of the one lifecycle in ``plan/review.py``, applied by ``decisions``).
- ``send_invitations``: each approved invitation goes to every deputy address,
  one message each, exactly once, greeting that deputy by name (the display name
  of ``[deputies] addresses``); its text message version is written beside the
  channel versions (``<outbox>/sms/``) for the office to send by hand.

Who was invited is the invitation's deliveries (``invited``): ``status`` and the
digest list them for every coming visit, with each deputy's answer. Deputies answer
by mail or telephone to the office, and the office enters the answer on the 回执 tab
(邀请编号, 代表委员, 回复, 备注); a row counts only for a deputy the invitation was
sent to (``named`` tells intake who that was).

The 活动 tab gives its rows no ID, so a visit is known by its (day, name): a
change of either is, to this module, a different visit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from html import escape
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..core.config import Settings
from ..core.model import Activity, Invited, MessageKey
from ..ledger import Ledger
from ..plan.review import INVITATION, Standing, review_code
from ..texts.render import cn_date, render
from .context import Context
from .joblog import job

if TYPE_CHECKING:
    from ..mail.message import Outgoing
    from .dispatch import FlushReport

# The mail side loads with the jobs that draft and send invitations, not with ``status`` (tests/test_startup.py).

VISIT = "代表委员看执行"                                # the activity kind of 四(四)
OPEN = ("pending", "approved", "rejected")           # drafted, not sent: may still be withdrawn or expire
LIVE = (*OPEN, "sent")                               # a visit with one of these needs no new invitation
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
CHANGED = "活动已从“活动”页删除，或日期、名称已修改"
# Purposes (the outbox names its files by them): no hyphen, so "*-draft-*" or "*-invitation-*" finds no stranger.
REVIEW_PURPOSE, ALERT_PURPOSE, SEND_PURPOSE = "invitation_draft", "invitation_alert", "invitation"
NO_ADDRESSES = "配置文件中未登记代表委员的邮箱（[deputies] addresses）"
# The letter is reviewed once with this in the greeting; each deputy's copy says that deputy's name there.
GREETING = "〔代表委员〕"
SALUTATION = "代表委员"                              # a deputy without a display name in the config


@dataclass
class InvitationRun:
    drafted: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)       # approved, but there is no deputy to send them to
    alerts: list[str] = field(default_factory=list)     # sent, then the visit changed: the office was told
    messages: list[str] = field(default_factory=list)   # what a person should know, in Chinese
    previews: list[Outgoing] = field(default_factory=list)
    report: FlushReport | None = None

    def tally(self) -> dict[str, object]:
        """What the job did, for its line in the log: the invitations' IDs and the mail's counts."""
        fields: dict[str, object] = {f"invitations_{name}": list(getattr(self, name))
                                     for name in ("drafted", "sent", "withdrawn", "expired", "held", "alerts")
                                     if getattr(self, name)}
        if self.report is not None:
            fields.update(self.report.tally())
        return fields


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str


# --- pure: what a visit is, and its letter -------------------------------------------

def visit_context(day: date, name: str, time: str = "", place: str = "") -> dict[str, Any]:
    return {"day": day, "weekday": WEEKDAYS[day.weekday()], "name": " ".join(name.split()),
            "time": " ".join(time.split()), "place": " ".join(place.split())}


def greeted(letter_text: str, html: str, name: str) -> tuple[str, str]:
    """One deputy's copy of the letter: the greeting says ``name`` (the config's display name), or 代表委员."""
    salutation = " ".join(name.split()) or SALUTATION
    return (letter_text.replace(f"尊敬的{GREETING}", f"尊敬的{salutation}"),
            html.replace(f"尊敬的{GREETING}", f"尊敬的{escape(salutation)}"))


def text_messages(activity: Activity, settings: Settings) -> list[str]:
    """The invitation as text messages for the office to send by hand: no name, only the court's contact."""
    visit = visit_context(activity.day, activity.name, activity.time, activity.place)
    when = f"{cn_date(visit['day'])}（{visit['weekday']}）{visit['time']}"
    where = f"在{visit['place']}" if visit["place"] else ""
    named = f"（{visit['name']}）" if visit["name"] else ""
    body = (f"诚邀您于{when}{where}参加“代表委员看执行、谈执行”活动{named}。"
            f"{'' if visit['time'] and visit['place'] else '具体时间、地点另行通知。'}"
            "邀请函已发至您的电子邮箱，敬请回复是否参加。")
    from ..texts import sms                 # with the masking rules: loaded when a message is written

    return sms.messages(settings.court.name, body, settings.court.contact)


def compose(activity: Activity, *, issued: date, settings: Settings, previous: dict[str, Any] | None = None) -> Letter:
    """The invitation letter for one visit (pure: no ledger, no mail).

    ``previous`` is the invitation already sent for this visit before it moved
    or was renamed: the letter then tells the deputies to go by this one.
    """
    rendered = render("invitation", {"court": settings.court.as_context(),
                                     "activity": visit_context(activity.day, activity.name, activity.time,
                                                               activity.place),
                                     "issued": issued, "previous": previous, "greeting": GREETING})
    return Letter(rendered.subject, rendered.text, rendered.html)


def _row_context(row) -> dict[str, Any]:
    day = date.fromisoformat(row["activity_day"])
    return {"id": row["id"], "state": row["state"], "sent_at": row["sent_at"] or "",
            **visit_context(day, row["activity_name"])}


# --- keeping invitations in step with the 活动 tab -------------------------------------

def _visits(ledger: Ledger) -> list[Activity]:
    """The 代表委员看执行 rows last pulled, one per (day, name)."""
    seen: dict[tuple[date, str], Activity] = {}
    for activity in ledger.activities():
        if activity.kind == VISIT:
            seen.setdefault((activity.day, activity.name), activity)
    return list(seen.values())


def _stale(ledger: Ledger, today: date) -> list[tuple[str, str, str]]:
    """(ID, new state, reason) of every open invitation that expired or whose visit changed."""
    current = {(a.day, a.name) for a in _visits(ledger)}
    changes = []
    for row in ledger.invitations(*OPEN):
        day = date.fromisoformat(row["activity_day"])
        if day < today:
            changes.append((row["id"], "expired", f"活动日期{cn_date(day)}已过，邀请函未发出"))
        elif (day, row["activity_name"]) not in current:
            changes.append((row["id"], "withdrawn", CHANGED))
    return changes


def _settle(ledger: Ledger, changes: list[tuple[str, str, str]], at: datetime) -> None:
    """Record the changes: inside the caller's transaction if there is one (a pull's), else in one of its own."""
    if not changes:
        return
    if not ledger.db.in_transaction:
        with ledger.transaction():
            _settle(ledger, changes, at)
        return
    for invitation_id, state, reason in changes:
        ledger.set_invitation_state(invitation_id, state, at, reason=reason)
        ledger.audit(at, "invitation", state, invitation_id, reason=reason)


def _sort(run: InvitationRun, changes: list[tuple[str, str, str]]) -> None:
    run.withdrawn = [i for i, state, _ in changes if state == "withdrawn"]
    run.expired = [i for i, state, _ in changes if state == "expired"]


def withdraw_stale_invitations(ledger: Ledger, at: datetime) -> tuple[list[str], list[str]]:
    """Withdraw open invitations whose visit changed, expire those whose day passed; (withdrawn, expired).

    Joins the caller's transaction when there is one: a pull calls it right after saving the 活动 tab,
    so that no 审核 row of the same pull approves an invitation to a visit that is gone.
    """
    changes = _stale(ledger, at.date())
    _settle(ledger, changes, at)
    run = InvitationRun()
    _sort(run, changes)
    return run.withdrawn, run.expired


def _changed_after_sending(ledger: Ledger, today: date) -> list:
    """Sent invitations for coming visits that have since left the tab, moved or been renamed, not yet dealt with."""
    current = {(a.day, a.name) for a in _visits(ledger)}
    return [row for row in ledger.invitations("sent")
            if date.fromisoformat(row["activity_day"]) >= today
            and (date.fromisoformat(row["activity_day"]), row["activity_name"]) not in current
            and ledger.invitation_successor(row["id"]) is None
            and not ledger.has_message(MessageKey("invitation-changed", row["id"]))]


def _predecessor(visit: Activity, candidates: list, used: set[str]):
    """The one sent invitation this new visit most likely replaces: same day, or same (non-blank) name.

    Only a guess (the tab has no IDs), so it must be unambiguous; the office reviews the letter that says it.
    """
    matches = [row for row in candidates if row["id"] not in used
               and (row["activity_day"] == visit.day.isoformat()
                    or (visit.name and row["activity_name"] == visit.name))]
    return matches[0] if len(matches) == 1 else None


# --- drafting ------------------------------------------------------------------------

@job("draft-invitations")
def draft_invitations(ctx: Context, *, dry_run: bool = False) -> InvitationRun:
    """Draft an invitation for every coming 代表委员看执行 visit that has none, and mail it to the office."""
    from .dispatch import enqueue, flush

    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    today = at.date()
    run = InvitationRun()
    items: list[Outgoing] = []
    changes = _stale(ledger, today)
    _sort(run, changes)
    if not dry_run:
        _settle(ledger, changes, at)
    moved_sent = _changed_after_sending(ledger, today)
    used: set[str] = set()
    if settings.deputies.invitations:
        serial = ledger.last_reviewed_serial(INVITATION, at.year)
        for visit in sorted(_visits(ledger), key=lambda a: (a.day, a.name)):
            if visit.day < today or any(r["state"] in LIVE for r in ledger.invitations_for(visit.day, visit.name)):
                continue
            serial += 1
            invitation_id = f"I-{at.year}-{serial:06d}"
            before = _predecessor(visit, moved_sent, used)
            previous = _row_context(before) if before is not None else None
            if previous:
                used.add(previous["id"])
            letter = compose(visit, issued=today, settings=settings, previous=previous)
            mails = _review_mail(settings, invitation_id, visit, letter, previous,
                                 code=review_code(ledger.review_secret(), invitation_id))
            run.drafted.append(invitation_id)
            if dry_run:
                items += mails
                continue
            # The invitation and the office's copies are recorded together: never one without the other.
            with ledger.transaction():
                ledger.save_invitation(invitation_id=invitation_id, day=visit.day, name=visit.name,
                                       subject=letter.subject, text=letter.text, html=letter.html, at=at,
                                       previous=previous["id"] if previous else "")
                enqueue(ledger, mails, period=today.isoformat(), at=at, topic=VISIT)
                ledger.audit(at, "invitation", "drafted", invitation_id, day=visit.day.isoformat(),
                             name=visit.name, previous=previous["id"] if previous else "")
        if run.drafted and not settings.deputies.addresses:
            run.messages.append(f"{NO_ADDRESSES}：邀请函 {'、'.join(run.drafted)} 已起草并送宣传办审核，"
                                "但审核通过后也无法发出")
    else:
        run.messages.append("未启用代表委员看执行邀请函（[deputies] invitations = false），不起草邀请函")
    for row in moved_sent:
        if row["id"] in used:
            continue   # the replacing invitation's review mail says it
        run.alerts.append(row["id"])
        items += _changed_alert(settings, row)
    if dry_run:
        run.previews = items
        return run
    alerts = [m for m in items if m.purpose == ALERT_PURPOSE]
    if alerts:
        with ledger.transaction():
            enqueue(ledger, alerts, period=today.isoformat(), at=at, topic=VISIT)
            for invitation_id in run.alerts:
                ledger.audit(at, "invitation", "changed-after-sending", invitation_id)
    run.report = flush(ctx)
    return run


def _office(settings: Settings) -> list[tuple[str, str]]:
    from ..mail.message import address

    return [address(a) for a in settings.mail.office]


def _deputies(settings: Settings) -> list[tuple[str, str]]:
    from ..mail.message import address

    return [address(a) for a in settings.deputies.addresses]


def _review_mail(settings: Settings, invitation_id: str, visit: Activity, letter: Letter,
                 previous: dict[str, Any] | None, *, code: str) -> list[Outgoing]:
    from ..mail.message import Outgoing

    rendered = render("invitation_draft", {
        "court": settings.court.as_context(), "invitation": {"id": invitation_id, "code": code},
        "activity": visit_context(visit.day, visit.name, visit.time, visit.place), "greeting": GREETING,
        "letter": {"subject": letter.subject, "text": letter.text}, "previous": previous,
        "recipients": [{"name": name, "address": addr} for name, addr in _deputies(settings)]})
    return [Outgoing(MessageKey("invitation-draft", invitation_id), REVIEW_PURPOSE, addr, rendered.subject, rendered.text,
                     rendered.html, name=name) for name, addr in _office(settings)]


def _changed_alert(settings: Settings, row) -> list[Outgoing]:
    """Tell the office that deputies hold an invitation to a visit that is no longer on the tab as it was."""
    from ..mail.message import Outgoing

    visit = _row_context(row)
    what = f"{cn_date(visit['day'])}（{visit['weekday']}）" + (f"“{visit['name']}”" if visit["name"] else "")
    notice = render("notices/invitation_changed", {"invitation_id": row["id"], "what": what,
                                                    "sent_at": visit["sent_at"][:16].replace("T", " ")})
    return [Outgoing(MessageKey("invitation-changed", row["id"]), ALERT_PURPOSE, addr, notice.subject, notice.text,
                     notice.html, name=name) for name, addr in _office(settings)]


# --- review --------------------------------------------------------------------------

def standings(ledger: Ledger, today: date, ids: Collection[str] | None = None) -> dict[str, Standing]:
    """Where every invitation (of ``ids``, when given) stands for a decision: one whose visit is past counts as
    expired, one whose visit was changed or deleted as withdrawn (with the invitation drafted for the changed
    visit)."""
    current = {(a.day, a.name) for a in _visits(ledger)}
    rows = ledger.invitations() if ids is None else ledger.invitations_named(ids)
    return {row["id"]: _standing(ledger, row, current, today) for row in rows}


def standing(ledger: Ledger, invitation_id: str, today: date) -> Standing | None:
    """Where one invitation stands: what :func:`standings` says of it, read for that invitation alone."""
    row = ledger.invitation(invitation_id)
    if row is None:
        return None
    return _standing(ledger, row, {(a.day, a.name) for a in _visits(ledger)}, today)


def _standing(ledger: Ledger, row, current: set[tuple[date, str]], today: date) -> Standing:
    day, state, successor = date.fromisoformat(row["activity_day"]), row["state"], ""
    if state == "sent":
        pass
    elif state == "expired" or day < today:
        state = "expired"
    elif state == "withdrawn" or (day, row["activity_name"]) not in current:
        state = "withdrawn"
        newer = ledger.invitation_successor(row["id"])
        successor = newer["id"] if newer is not None else ""
    return Standing(state, sent_at=(row["sent_at"] or "")[:16].replace("T", " "), day=cn_date(day),
                    successor=successor)


def set_state(ledger: Ledger, invitation_id: str, state: str, at: datetime, *, by: str, reason: str) -> None:
    """An invitation approved or rejected. A rejected one stays rejected: its visit gets a new one only if it
    changes."""
    ledger.set_invitation_state(invitation_id, state, at, by=by, reason=reason)


def settle(ledger: Ledger, at: datetime) -> None:
    """Invitations whose visit passed or changed are expired or withdrawn before anyone decides on them."""
    withdraw_stale_invitations(ledger, at)


def decided(settings: Settings, invitation_id: str, decision: str, reviewer: str, comment: str) -> str:
    """What the office reads once its decision on an invitation is recorded."""
    if decision == "退回":
        return f"邀请函 {invitation_id} 已退回，不会发出"
    deputies = settings.deputies.addresses
    if not deputies:
        return f"邀请函 {invitation_id} 已通过审核，但{NO_ADDRESSES}，暂不发出；登记邮箱后下次发送即发出"
    return f"邀请函 {invitation_id} 已通过审核，下次发送时将发给 {len(deputies)} 位代表委员"


# --- sending -------------------------------------------------------------------------

@job("send-invitations")
def send_invitations(ctx: Context, *, dry_run: bool = False) -> InvitationRun:
    """Send each approved invitation for a coming visit to every deputy, one message each; exactly once."""
    from ..mail.message import Outgoing
    from .channels import save_sms
    from .dispatch import enqueue, flush

    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    run = InvitationRun()
    changes = _stale(ledger, at.date())
    _sort(run, changes)
    if not dry_run:
        _settle(ledger, changes, at)
    stale = {invitation_id for invitation_id, _, _ in changes}
    ready = [row for row in ledger.invitations("approved") if row["id"] not in stale]
    deputies = _deputies(settings)
    if ready and not deputies:
        # Kept approved, nothing lost: they go out on the first run after addresses are configured.
        run.held = [row["id"] for row in ready]
        run.messages.append(f"{NO_ADDRESSES}，已通过审核的邀请函 {'、'.join(run.held)} 暂未发出；"
                            "登记邮箱后下次运行即发出")
        ready = []
    from ..texts import redact              # the masking rules load when invitations are sent, not at start

    visits = {(a.day, a.name): a for a in _visits(ledger)}
    allowed = redact.own_numbers(settings.court.contact)
    texts: dict[str, list[str]] = {}
    for row in ready:
        items = [Outgoing(MessageKey("invitation", row["id"]), SEND_PURPOSE, addr, row["subject"],
                          *greeted(row["text"], row["html"], name), name=name) for name, addr in deputies]
        run.sent.append(row["id"])
        visit = visits.get((date.fromisoformat(row["activity_day"]), row["activity_name"]))
        if visit is not None:
            messages = text_messages(visit, settings)
            try:
                redact.check([("短信", m) for m in messages], allowed=allowed)
                texts[row["id"]] = messages
            except redact.Blocked as blocked:
                run.messages.append(f"邀请函 {row['id']} 的短信版本未写出：{blocked}；请改正“活动”页中的该信息")
        if dry_run:
            run.previews += items
            continue
        # Marked sent in the same commit that queues it: a second run finds nothing approved to send.
        with ledger.transaction():
            enqueue(ledger, items, period=row["id"], at=at, topic=VISIT)
            ledger.set_invitation_state(row["id"], "sent", at, reason=f"发往 {len(items)} 位代表委员")
            ledger.audit(at, "invitation", "queued", row["id"], recipients=len(items))
    if dry_run:
        return run
    for invitation_id, messages in texts.items():
        path, trouble = save_sms(settings.mail.outbox, f"邀请函_{invitation_id}", messages,
                                 title=f"邀请函 {invitation_id}")
        run.messages.append(f"邀请函 {invitation_id} 的短信版本（{len(messages)} 条）已写入 {path}，请用短信平台发给代表委员"
                            if path else trouble)
    run.report = flush(ctx)
    return run


def named(ledger: Ledger, ids: Collection[str]) -> dict[str, Invited]:
    """What the ledger knows of the invitations ``ids`` (the 回执 tab names them): sent or not, and to whom."""
    return {row["id"]: Invited(row["state"] == "sent", tuple(
                (r["name"] or "", r["recipient"]) for r in ledger.invitation_recipients(row["id"])))
            for row in ledger.invitations_named(ids)}


def invited(ledger: Ledger, today: date) -> list[dict[str, Any]]:
    """The invitations sent for coming visits, each with who it went to, how its delivery stands and the
    deputy's answer (回执 tab; "" while none is recorded)."""
    rows = []
    for row in ledger.invitations("sent"):
        if date.fromisoformat(row["activity_day"]) < today:
            continue
        rows.append({"id": row["id"], "activity_day": row["activity_day"], "activity_name": row["activity_name"],
                     "sent_at": (row["sent_at"] or "")[:16].replace("T", " "),
                     "recipients": [{"name": r["name"], "address": r["recipient"], "state": r["state"],
                                    "answer": r["answer"] or "", "note": r["note"] or ""}
                                   for r in ledger.invitation_recipients(row["id"])]})
    return rows
