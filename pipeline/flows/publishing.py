"""From material to the media: drafts, the office's review, publishing, resending.

- ``draft``: each new accepted, publishable submission becomes a masked draft
  release mailed to the office; an edited submission becomes a new version
  and the old one is superseded (it can no longer be published).
- the office's review (``standings``, ``set_state``: this flow's part of
  the one lifecycle in ``plan/review.py``, applied by ``decisions``); the day
  of approval becomes the release's date, the one every copy carries.
- ``publish``: each approved release goes to every active media contact who
  takes its kind, one message each, with a .docx attached; exactly once.
- ``resend``: deliberately send one delivery again (an unknown outcome).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from ..core import normalize
from ..core.calendar import Week
from ..core.config import COMMAND, Settings
from ..core.errors import UsageError
from ..core.model import MediaContact, MessageKey
from ..ledger import Ledger
from ..mail.message import Attachment, Outgoing, address
from ..plan.obligations import Plan
from ..plan.review import DRAFT, Standing, review_code
from ..texts.document import DOCX_TYPE, release_docx
from ..texts.render import DATE_TOKEN, RenderError, fill_date, render, render_each
from . import channels
from .context import Context
from .dispatch import FlushReport, MailRun, enqueue, flush, queue, unsubscribe_address
from .joblog import job

if TYPE_CHECKING:
    from ..texts import names
    from ..texts.compose import Release

# The masking and naming rules (texts.compose, names, redact) compile their patterns at import: they load where
# a release is composed or checked, not with every command that imports this module (status, check).


@dataclass
class PublishRun:
    drafted: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)
    no_candidate: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    channels: list[tuple[str, str]] = field(default_factory=list)   # (draft ID, channel) versions produced
    previews: list[Outgoing] = field(default_factory=list)
    report: FlushReport | None = None
    trial: str = ""                  # publish --test-to: the one address the releases were tried on

    def tally(self) -> dict[str, object]:
        """What the job did, for its line in the log: IDs and counts (a block's reason stays in the ledger)."""
        done = "tried" if self.trial else "published"      # a trial publishes nothing
        fields: dict[str, object] = {"drafted": list(self.drafted), done: list(self.published),
                                     "blocked_releases": [draft_id for draft_id, _ in self.blocked],
                                     "channel_versions": len(self.channels)}
        for name in ("proposed", "no_candidate", "withdrawn"):
            if getattr(self, name):
                fields[name] = list(getattr(self, name))
        if self.report is not None:
            fields.update(self.report.tally())
        return fields


def compose(fields: dict[str, str], *, kind: str, draft_id: str, settings: Settings, unit: str = "") -> Release:
    """Mask the material, render its release and check it against the row (pure: see compose.py)."""
    from ..texts import compose as composer

    return composer.compose(fields, kind=kind, draft_id=draft_id, settings=settings, unit=unit)


def release_day(row, at: datetime) -> date:
    """The one date a release carries in every copy of it.

    The day it was approved (``release_date``, fixed by :func:`decide`); for a
    release approved before that was recorded, the day of its approval
    (``decided_at``), or failing that, ``at``. A draft made before the date was
    left to approval holds its drafting day in its text: that date stands, so
    that everything sent with the text agrees with it.
    """
    text = row["release_text"]
    if DATE_TOKEN not in text:
        printed = _printed_date(text)
        if printed:
            return printed
    if row["release_date"]:
        return date.fromisoformat(row["release_date"])
    if row["decided_at"]:
        return datetime.fromisoformat(row["decided_at"]).astimezone(at.tzinfo).date()
    return at.date()


_PRINTED_DATE = re.compile(r"^发布日期：\s*(\d{4})年(\d{1,2})月(\d{1,2})日", re.MULTILINE)


def _printed_date(text: str) -> date | None:
    """The date in a release text's 发布日期 line (``2026年11月29日``), if it has one."""
    found = _PRINTED_DATE.search(text)
    if not found:
        return None
    try:
        return date(*map(int, found.groups()))
    except ValueError:
        return None


def _office(settings: Settings) -> list[tuple[str, str]]:
    return [address(a) for a in settings.mail.office]


def _split(text: str) -> tuple[str, str]:
    headline, _, body = text.partition("\n")
    return headline, body.lstrip("\n")


# --- drafting -------------------------------------------------------------------

def withdraw_stale(ledger: Ledger, at: datetime) -> list[str]:
    """Drafts whose material changed become superseded; vanished or unpublishable ones withdrawn."""
    changed = []
    with ledger.transaction():
        for row in ledger.stale_drafts():
            if row["removed_at"] or row["submission_state"] != "valid" or not row["publishable"]:
                state, reason = "withdrawn", "素材已删除、需补正或标为不可公开"
            else:
                state, reason = "superseded", f"素材已修改（第{row['current_version']}版）"
            ledger.set_draft_state(row["id"], state, at, reason=reason)
            ledger.audit(at, "draft", state, row["id"], reason=reason)
            changed.append(row["id"])
    return changed


@job("draft")
def draft(ctx: Context, *, dry_run: bool = False) -> PublishRun:
    """Draft every new publishable submission and mail the drafts to the office.

    While the office's mail only goes to the outbox, nothing of a draft run has left the machine: its
    commits do not wait for the disk (``Ledger.relaxed``; a power cut can take back the last drafts, which
    the next run makes again)."""
    with ctx.ledger.relaxed(not ctx.transport.delivers):
        return _draft(ctx, dry_run=dry_run)


def _draft(ctx: Context, *, dry_run: bool) -> PublishRun:
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    run = PublishRun()
    if not dry_run:
        run.withdrawn = withdraw_stale(ledger, at)
    items: list[Outgoing] = []
    serial = ledger.last_reviewed_serial(DRAFT, at.year)
    outward = {team.name: team.outward for team in ledger.teams()}
    secret = ledger.review_secret()
    failures: list[str] = []
    recorder = _Recorder(ledger)
    for submission in _draftable(ledger):
        fields = json.loads(submission["data"])
        earlier = ledger.drafts_of_submission(submission["id"])
        if earlier:
            base, version = earlier[-1]["base"], earlier[-1]["version"] + 1
            draft_id = f"{base}-v{version}"
        else:
            serial += 1
            base = draft_id = f"D-{at.year}-{serial:06d}"
            version = 1
        unit = outward.get(fields.get("handling_team") or fields.get("team", ""), "")
        try:
            release = compose(fields, kind=submission["kind"], draft_id=draft_id, settings=settings,
                              unit=unit)
            mail = _draft_mail(settings, draft_id, version, earlier[-1]["id"] if earlier else "", release,
                               submission, fields, code=review_code(secret, draft_id))
        except RenderError as exc:
            # One kind's broken template must not hold up the other kinds' drafts.
            failures.append(f"{submission['id']}（{submission['kind']}）：{exc}")
            if not earlier:
                serial -= 1
            continue
        run.drafted.append(draft_id)
        if dry_run:
            items += mail
            continue
        recorder.add(functools.partial(_record_draft, ledger, at, draft_id, base, version, submission, release,
                                       mail, earlier))
    recorder.flush()
    items += _reinstate_restored(settings, ledger, at, run, outward, secret, dry_run=dry_run)
    items += _remake_failed(settings, ledger, at, run, outward, secret, dry_run=dry_run)
    items += _propose_slots(settings, ledger, at, run)
    if dry_run:
        run.previews = items
    else:
        queue(ledger, items, period=at.date().isoformat(), at=at)
        run.report = flush(ctx)
    if failures:
        raise RenderError(f"已生成 {len(run.drafted)} 篇稿件；以下素材未能生成稿件，模板改正后下一轮会自动生成：\n"
                          + "\n".join(failures))
    return run


# Submissions a draft run reads at once: ten thousand new rows are drafted a page at a time.
PAGE = 200
# Drafts recorded in one transaction. Nothing outside the ledger sees a draft before the run's mail goes out, after
# the last of them is recorded; a run that stops midway loses at most the drafts not yet recorded, and the next run
# makes them again. Together they write the pages they share once, not once per draft.
RECORD_EVERY = 25


def _record_draft(ledger: Ledger, at: datetime, draft_id: str, base: str, version: int, submission,
                  release: Release, mail: list[Outgoing], earlier: list) -> None:
    """Inside the caller's transaction: a draft and the office's mail about it, together, neither without the
    other; the versions it replaces superseded."""
    enqueue(ledger, mail, period=at.date().isoformat(), at=at)
    ledger.save_draft(draft_id=draft_id, base=base, version=version, submission_id=submission["id"],
                      submission_version=submission["version"], kind=submission["kind"],
                      headline=release.headline, text=release.text, html=release.html,
                      content_hash=release.content_hash, masked=release.masked, proposed=False, at=at,
                      review=release.review)
    for old in earlier:
        if old["state"] in ("pending", "approved", "rejected"):
            ledger.set_draft_state(old["id"], "superseded", at, reason=f"已更新为 {draft_id}")
    ledger.audit(at, "draft", "drafted", draft_id, submission=submission["id"], version=submission["version"])


class _Recorder:
    """Writes waiting for their transaction: :data:`RECORD_EVERY` at a time, and the rest at :meth:`flush`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger, self.waiting = ledger, []

    def add(self, write: Callable[[], None]) -> None:
        self.waiting.append(write)
        if len(self.waiting) >= RECORD_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.waiting:
            with self.ledger.transaction():
                for write in self.waiting:
                    write()
            self.waiting.clear()


def _draftable(ledger: Ledger):
    """The submissions still to draft, read a page of :data:`PAGE` at a time in their order."""
    after = (0, 0)
    while True:
        page = ledger.draftable_submissions(after, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = (page[-1]["year"], page[-1]["serial"])


def _reinstate_restored(settings: Settings, ledger: Ledger, at: datetime, run: PublishRun, outward: dict[str, str],
                        secret: str, *, dry_run: bool) -> list[Outgoing]:
    """Drafts withdrawn because their row vanished (or became invalid or unpublishable), whose row is back as it
    was: each is made again under its own ID and goes back to the office for review."""
    items: list[Outgoing] = []
    for row in ledger.restorable_drafts():
        source = _source_of(ledger, row, outward)
        if source is None:
            continue
        try:
            release = compose(source[1], kind=row["kind"], draft_id=row["id"], settings=settings, unit=source[2])
        except RenderError:
            continue                               # the new-draft path reports a broken template
        items += _make_again(settings, ledger, at, run, row, release, source, secret=secret, dry_run=dry_run,
                             remade=f"{at:%Y%m%d%H%M%S}", why=RESTORED, action="reinstated")
    return items


def _remake_failed(settings: Settings, ledger: Ledger, at: datetime, run: PublishRun, outward: dict[str, str],
                   secret: str, *, dry_run: bool) -> list[Outgoing]:
    """Drafts that failed the fact check, or were drafted before drafts were checked, composed again.

    Such a draft cannot be approved, so nothing the office decided rests on its
    text: once the template is fixed (or the office's settings), the draft is
    made again in place, under its own ID, and mailed to the office anew. An
    edited row needs none of this: it becomes a new version like any edit.
    """
    items: list[Outgoing] = []
    for row in ledger.drafts("pending"):
        review = ledger.review_of(row)
        unchecked = "checks" not in review            # drafted before drafts were checked
        if not review.get("checks") and not unchecked:
            continue
        source = _source_of(ledger, row, outward)
        if source is None:
            continue
        release = compose(source[1], kind=row["kind"], draft_id=row["id"], settings=settings, unit=source[2])
        if release.content_hash == row["content_hash"] and not unchecked:
            continue
        items += _make_again(settings, ledger, at, run, row, release, source, secret=secret, dry_run=dry_run,
                             remade=release.content_hash[:12], why=REMADE, action="remade")
    return items


def _source_of(ledger: Ledger, row, outward: dict[str, str]) -> tuple[object, dict[str, str], str] | None:
    """A draft's submission, the fields of the version it was made from, and the handling team's outward name."""
    version = next((v for v in ledger.submission_versions(row["submission_id"])
                    if v["version"] == row["submission_version"]), None)
    submission = ledger.submission(row["submission_id"])
    if version is None or submission is None:
        return None
    fields = json.loads(version["data"])
    return submission, fields, outward.get(fields.get("handling_team") or fields.get("team", ""), "")


def _make_again(settings: Settings, ledger: Ledger, at: datetime, run: PublishRun, row, release: Release,
                source: tuple[object, dict[str, str], str], *, secret: str, dry_run: bool, remade: str, why: str,
                action: str) -> list[Outgoing]:
    """A draft made again under its own ID: its new text stored, pending review again, and mailed to the office."""
    submission, fields, _ = source
    mail = _draft_mail(settings, row["id"], row["version"], "", release, submission, fields,
                       code=review_code(secret, row["id"]), remade=remade, why=why)
    run.drafted.append(row["id"])
    if dry_run:
        return mail
    with ledger.transaction():
        enqueue(ledger, mail, period=at.date().isoformat(), at=at)
        if row["state"] != "pending":
            ledger.set_draft_state(row["id"], "pending", at, reason="素材已恢复")
        ledger.replace_draft_release(row["id"], headline=release.headline, text=release.text, html=release.html,
                                     content_hash=release.content_hash, masked=release.masked, review=release.review)
        ledger.audit(at, "draft", action, row["id"], checks=release.checks)
    return []


REMADE = "本稿已按修改后的模板和核对规则重新生成（此前的版本未通过或未做事实核对），请以本稿为准。"
RESTORED = "此稿件曾因素材被删除、需补正或标为不可公开而撤回；素材现已恢复原样，本稿重新提交审核，请以本稿为准。"


def _draft_mail(settings: Settings, draft_id: str, version: int, previous: str, release: Release,
                submission, fields: dict[str, str], *, code: str, remade: str = "",
                why: str = REMADE) -> list[Outgoing]:
    """The office's mail about a draft; ``remade`` (a digest of the new text) and ``why`` when it is made again."""
    source = {"id": submission["id"], "team": fields.get("team", ""), "submitter": fields.get("submitter", ""),
              "kind": submission["kind"], "case_number": fields.get("case_number", ""),
              "title": fields.get("title", ""),
              "submitted_at": fields.get("submitted_at", "")[:16].replace("T", " "),
              "publishable": fields.get("publishable", "是")}
    headline, _ = _split(release.text)
    # The release is dated when it is approved: until then the draft says so where the date will stand.
    rendered = render("draft", {
        "court": settings.court.as_context(),
        "draft": {"id": draft_id, "version": version, "supersedes": previous, "remade": why if remade else "",
                  "code": code},
        "release": {"headline": headline, "kind": submission["kind"]}, "release_text": fill_date(release.text, None),
        "release_html": fill_date(release.html, None), "source": source, "masked": release.masked,
        "review": release.review, "marked_html": fill_date(release.marked_html, None),
        "marked_text": fill_date(release.marked_text, None)})
    key = MessageKey("draft", draft_id, remade)
    return [Outgoing(key, "draft", addr, rendered.subject, rendered.text, rendered.html, name=name)
            for name, addr in _office(settings)]


def _propose_slots(settings: Settings, ledger: Ledger, at: datetime, run: PublishRun) -> list[Outgoing]:
    """By the configured weekday, make sure this week's 执行不能 and 老赖/success slots have a candidate."""
    plan = Plan.of(settings)
    week = Week.of(at)
    if at.isoweekday() < settings.draft.slot_weekday or not plan.weekly(week):
        return []       # not yet, or an exempt week: no slot to fill
    start, end = week.bounds(at.tzinfo)
    published = ledger.published_kinds(start, end)
    items = []
    for rule in plan.slots:
        slot = rule.name
        if rule.tally(published) >= rule.count:
            continue
        drafts = [d for d in ledger.drafts("pending", "approved") if rule.counted(d["kind"])]
        if any(datetime.fromisoformat(d["created_at"]) >= start for d in drafts):
            continue  # drafted this week already: the office has it
        if not drafts:
            run.no_candidate.append(slot)
            continue
        best = max(drafts, key=lambda d: (d["state"] == "approved", d["created_at"]))
        run.proposed.append(best["id"])
        key = MessageKey("slot", week.key, slot)
        if ledger.has_message(key):
            continue
        text = (f"本周（{week.label}）尚无{slot}稿件。工作方案要求{rule.required}，"
                f"建议审核并发布 {best['id']}：{best['headline']}\n\n"
                f"通过：{COMMAND} approve {best['id']} --by 姓名\n或在“审核”页填写草稿编号 {best['id']}，结论“通过”。\n")
        html = "".join(f"<p>{line}</p>" for line in text.replace("&", "&amp;").replace("<", "&lt;").split("\n") if line)
        items += [Outgoing(key, "draft", addr, f"【本周{slot}稿件建议】{best['id']} {best['headline']}", text, html,
                           name=name) for name, addr in _office(settings)]
    return items


def slot_gaps(ledger: Ledger, at: datetime, plan: Plan) -> list[str]:
    """Slots this week that have neither a release, nor any draft that could fill them."""
    week = Week.of(at)
    if not plan.weekly(week):
        return []
    published = ledger.published_kinds(*week.bounds(at.tzinfo))
    waiting = {d["kind"] for d in ledger.drafts("pending", "approved")}
    return [rule.name for rule in plan.slots if rule.tally(published) < rule.count
            and not any(rule.counted(kind) for kind in waiting)]


# --- review -----------------------------------------------------------------------

def standings(ledger: Ledger, today: date, ids: Collection[str] | None = None) -> dict[str, Standing]:
    """Where every draft (of ``ids``, when given) stands for a decision: its state (a pending draft failing the
    fact check is ``FAILED_CHECK``) and the newest version of its base."""
    return {draft_id: Standing(state, newest) for draft_id, (state, newest) in ledger.draft_states(ids).items()}


def standing(ledger: Ledger, draft_id: str, today: date) -> Standing | None:
    """Where one draft stands: what :func:`standings` says of it, read for that draft alone."""
    row = ledger.draft(draft_id)
    if row is None:
        return None
    return Standing(ledger.effective_state(row), ledger.drafts_of_base(row["base"])[-1]["id"])


def set_state(ledger: Ledger, draft_id: str, state: str, at: datetime, *, by: str, reason: str) -> None:
    """A draft approved or rejected; a release is dated the day it is approved, however much later it goes out."""
    ledger.set_draft_state(draft_id, state, at, by=by, reason=reason)
    ledger.set_release_date(draft_id, at.date() if state == "approved" else None)


def settle(ledger: Ledger, at: datetime) -> None:
    """Drafts whose material changed or vanished are superseded or withdrawn before anyone decides on them."""
    withdraw_stale(ledger, at)


def decided(settings: Settings, draft_id: str, decision: str, reviewer: str, comment: str) -> str:
    """What the office reads once its decision on a draft is recorded."""
    if decision == "通过":
        return f"{draft_id} 已通过审核（{reviewer}）；运行 {COMMAND} publish 发往媒体。"
    return f"{draft_id} 已退回：{comment}"


# --- publishing -------------------------------------------------------------------

@job("publish")
def publish(ctx: Context, *, dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
            test_to: str = "") -> PublishRun:
    """Send every approved release to the media contacts who take its kind; exactly once each.

    The same moment, the release's versions for the court's own channels
    (四(三)) are written for the office to post, and the national network's
    submission is queued with the media's messages; every one of them passes
    the same guard first, or the whole release is blocked.

    ``test_to``: a trial — each approved release, as an outlet would receive it (guarded, with its .docx),
    goes to this one address only, its subject marked 【试发】; nothing is published, blocked or changed.
    """
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    run = PublishRun()
    if not dry_run and not test_to:
        run.withdrawn = withdraw_stale(ledger, at)
    from ..texts import names, redact

    contacts = ([MediaContact("试发", "", test_to, (), True)] if test_to
                else [m for m in ledger.media() if m.enabled])
    trials: list[MessageKey] = []
    run.trial = test_to
    allowed = redact.own_numbers(settings.court.contact)
    unsubscribe = unsubscribe_address(settings)
    for row in ledger.drafts("approved"):
        # One date in every copy: the text, the HTML, the .docx, the channels, every letter's sign-off.
        day = release_day(row, at)
        release_text, release_html = fill_date(row["release_text"], day), fill_date(row["release_html"], day)
        headline, _ = _split(release_text)
        docx = release_docx(release_text, title=headline, author=settings.court.name, at=at)
        attachment = Attachment(f"{headline[:40]}.docx", docx, DOCX_TYPE)
        versions = channels.versions(settings, draft_id=row["id"], kind=row["kind"],
                                     release_text=release_text, release_html=release_html,
                                     day=day, attachment=attachment)
        plan = name_plan(ledger, row, settings)
        try:
            redact.check([("标题", headline), ("正文", release_text), ("HTML", redact.html_text(release_html)),
                          ("附件", redact.attachment_text(docx, DOCX_TYPE)), *versions.texts()],
                         allowed=allowed, leaked=lambda text: names.leaked(text, plan))
        except redact.Blocked as blocked:
            run.blocked.append((row["id"], str(blocked)))
            if not dry_run and not test_to:
                _block(ctx, row, str(blocked))
            continue
        takers = [c for c in contacts if not c.kinds or row["kind"] in c.kinds]
        # One letter per outlet, rendered once for the release when the template only prints the outlet's names.
        letters = render_each("media", {"court": settings.court.as_context(), "release_text": release_text,
                                        "release_html": release_html,
                                        "release": {"headline": headline, "kind": row["kind"], "date": day},
                                        "unsubscribe": unsubscribe},
                              [{"outlet": c.outlet, "contact": c.contact} for c in takers])
        items = [Outgoing(MessageKey("release", row["id"]), "release", contact.email, letter.subject, letter.text,
                          letter.html, (attachment,), name=contact.outlet)
                 for contact, letter in zip(takers, letters)]
        if test_to:
            trials.append(_trial(ctx, run, row["id"], items, dry_run=dry_run))
            continue
        media = len(items)
        items += versions.mail
        run.published.append(row["id"])
        if dry_run:
            run.previews += items
            continue
        queue(ledger, items, period=row["id"], at=at, topic=row["kind"])
        with ledger.transaction():
            channels.save_versions(ledger, versions, outbox=settings.mail.outbox, at=at)
            ledger.set_release_date(row["id"], day)
            ledger.set_draft_state(row["id"], "published", at, reason=f"发往 {media} 家媒体")
            ledger.audit(at, "publish", "queued", row["id"], recipients=len(items), channels=versions.channels)
        run.channels += [(row["id"], channel) for channel in versions.channels]
        if versions.channels:
            channels.write_index(ledger, settings.mail.outbox)
    if dry_run:
        return run
    if test_to:                       # the trial's own messages, nothing else waiting in the queue
        run.report = flush(ctx, keys=tuple(trials))
        return run
    run.report = flush(ctx, progress=progress)
    for outgoing, reason in run.report.blocked:
        draft_id = outgoing.key.item                       # a release or its network copy
        run.blocked.append((draft_id, reason))
        _alert(settings, ledger, draft_id, reason, at)
    if run.report.blocked:
        flush(ctx)
    return run


def _trial(ctx: Context, run: PublishRun, draft_id: str, items: list[Outgoing], *, dry_run: bool) -> MessageKey:
    """A release's media mail to the one trial address, marked 【试发】 and queued under a key of its own."""
    key = MessageKey("trial", draft_id, f"{ctx.at:%Y%m%d-%H%M%S}")
    trial = [replace(item, key=key, purpose="trial", subject=f"【试发】{item.subject}") for item in items]
    run.published.append(draft_id)
    if dry_run:
        run.previews += trial
    else:
        queue(ctx.ledger, trial, period=draft_id, at=ctx.at)
        with ctx.ledger.transaction():
            ctx.ledger.audit(ctx.at, "publish", "trial", draft_id)
    return key


def name_plan(ledger: Ledger, row, settings: Settings) -> names.NamePlan:
    """Who the release's row says must not be named, decided again from the row at publishing time:
    the last check that no copy names a person the law does not allow (names.py)."""
    from ..texts import names

    for version in ledger.submission_versions(row["submission_id"]):
        if version["version"] == row["submission_version"]:
            return names.plan(json.loads(version["data"]), kind=row["kind"],
                              public_name_kinds=settings.redact.public_name_kinds)
    return names.NamePlan()


def _block(ctx: Context, row, reason: str) -> None:
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    with ledger.transaction():
        ledger.set_draft_state(row["id"], "blocked", at, reason=reason)
        ledger.audit(at, "publish", "blocked", row["id"], reason=reason)
    _alert(settings, ledger, row["id"], reason, at)
    # Only the office's alert: releases queued earlier in this run go out below, guarded.
    flush(ctx, keys=(MessageKey("blocked", row["id"]),))


def _alert(settings: Settings, ledger: Ledger, draft_id: str, reason: str, at: datetime) -> None:
    """Tell the office at once that a release was stopped, and why."""
    notice = render("notices/blocked", {"draft_id": draft_id, "reason": reason})
    items = [Outgoing(MessageKey("blocked", draft_id), "alert", addr, notice.subject, notice.text, notice.html, name=name)
             for name, addr in _office(settings)]
    queue(ledger, items, period=at.date().isoformat(), at=at)


@job("resend", fields=lambda ctx, draft_id, recipient, **_: {"item": draft_id})
def resend(ctx: Context, draft_id: str, recipient: str, *, dry_run: bool = False) -> MailRun:
    """Deliberately send one release again to one recipient whose delivery is unknown or failed; a dry
    run shows the message it would send and changes nothing."""
    ledger, at = ctx.ledger, ctx.at
    key = MessageKey("release", normalize.draft_id(draft_id))
    row = ledger.delivery(key, recipient.strip().lower())
    if row is None:
        raise UsageError(f"{draft_id} 没有发往 {recipient} 的记录")
    if row["state"] == "sent":
        raise UsageError(f"{draft_id} 已成功发往 {recipient}（{row['sent_at'][:16]}），不重复发送")
    if row["state"] in ("queued", "sending"):
        raise UsageError(f"{draft_id} 发往 {recipient} 的邮件正在排队或发送中")
    if dry_run:
        return MailRun(previews=[ledger.stored_delivery(key, row["recipient"])])
    with ledger.transaction():
        ledger.requeue(key, row["recipient"], at)
        ledger.audit(at, "resend", "requeued", key, recipient=row["recipient"], previous=row["state"])
    return MailRun(report=flush(ctx, keys=(key,)))
