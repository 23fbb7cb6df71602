"""Five years of a court's history in a ledger, made in seconds (bench row f and tests/test_history.py).

A court writes about a thousand submissions a year. Five years of them are
five thousand 素材 rows, each drafted (some twice: the row was edited),
most published to every outlet, with the office's decisions, the channel
versions, the national network's copy, a digest every working day, a cycle
every fifteen minutes of office hours and the audit log of all of it.

Running five years of pulls would take hours. Instead the submissions are
taken in by one ordinary pull of the rows (so that the ledger and the sheet
agree cell for cell, and the next pull finds nothing new), and everything
that followed them is written into that ledger directly, row by row as the
jobs would have written it, with ``executemany``. One untimed cycle after
:func:`fill` settles what a generated history cannot know (the 状态 cells of
edited rows, this week's slot proposals, the invitations to coming visits);
from then on a cycle finds nothing new.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import workload

from pipeline.app.timetable import CYCLE, due
from pipeline.core.config import Settings
from pipeline.core.grid import CellUpdate, Saved, SheetData, TabData
from pipeline.core.layout import REVIEWS, SUBMISSIONS
from pipeline.ledger import Ledger
from pipeline.mail.message import address

YEARS = 5
PER_YEAR = 1_000          # submissions a year
OUTLETS = 20              # media contacts each release went to
CHANNELS = ("wechat", "weibo", "website")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def submission_rows(count: int, *, years: int = YEARS, at: datetime = workload.AT) -> list[dict[str, Any]]:
    """``count`` 素材 rows (the benchmarks' material) submitted over the ``years`` before ``at``."""
    rows = workload.submission_rows(count)
    start = datetime(at.year - years + 1, 1, 5, 8, 0)
    span = at.replace(tzinfo=None) - timedelta(days=1) - start
    for i, row in enumerate(rows):
        moment = (start + span * (i / max(count, 1))).replace(second=0, microsecond=0)
        head = row["title"].rpartition("，")[0] or row["title"]
        row["title"] = f"{head}，{moment.year}年{moment.month}月{moment.day}日）"
        row["submitted_at"] = moment
    return rows


def grids(template: Path, rows: list[dict[str, Any]]) -> SheetData:
    """The workbook ``template`` (as ``workload.write`` makes it) holding ``rows`` in 素材, as a pull reads it."""
    tabs = workload.tab_grids(template)
    tabs[SUBMISSIONS.name] = tabs[SUBMISSIONS.name][:1] + [[row.get(c.key) for c in SUBMISSIONS.columns]
                                                           for row in rows]
    tabs[REVIEWS.name] = tabs[REVIEWS.name][:1]
    width = {name: max(len(r) for r in grid) for name, grid in tabs.items()}
    return SheetData(tabs={name: TabData(name, [list(r) + [None] * (width[name] - len(r)) for r in grid])
                           for name, grid in tabs.items()}, version="memory-1")


class MemorySource:
    """A sheet held in memory: read as it stands, written cell by cell (a pull's source, without a file)."""

    def __init__(self, sheet: SheetData) -> None:
        self.sheet, self.saves = sheet, 0

    def describe(self) -> str:
        return "内存中的工作簿"

    def fetch(self, wanted: Callable[[str], bool]) -> SheetData:
        return SheetData(tabs={name: TabData(tab.title, [list(r) for r in tab.rows])
                               for name, tab in self.sheet.tabs.items() if wanted(tab.title)},
                         version=self.sheet.version)

    def save(self, snapshot: SheetData, updates: Sequence[CellUpdate]) -> Saved:
        for u in updates:
            rows = self.sheet.tabs[u.tab].rows
            while len(rows) < u.row:
                rows.append([None] * len(rows[0]))
            rows[u.row - 1][u.column - 1] = u.value
        if updates:
            self.saves += 1
            self.sheet.version = f"memory-{self.saves + 1}"
        return Saved(written=len(updates))


class ReadOnce:
    """A source that reads its workbook once and then hands back what it read: a cycle whose sheet
    read is taken out (row a measures that read); writes go to the workbook as usual."""

    def __init__(self, source) -> None:
        self.source, self.read = source, None

    def describe(self) -> str:
        return self.source.describe()

    def fetch(self, wanted: Callable[[str], bool]) -> SheetData:
        if self.read is None:
            self.read = self.source.fetch(wanted)
        return copy.copy(self.read)

    def save(self, snapshot: SheetData, updates: Sequence[CellUpdate]) -> Saved:
        if updates:
            self.read = None
        return self.source.save(snapshot, updates)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _working_days(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.isoweekday() <= 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def fill(settings: Settings, *, outlets: int = OUTLETS, at: datetime = workload.AT,
         cycles_per_day: int = 40) -> dict[str, int]:
    """Everything five years of jobs would have recorded about the submissions the ledger holds.

    The ledger holds the submissions one pull took in (all received now); they
    are moved back to when they were submitted, every tenth valid publishable
    one gets an earlier version and a superseded first draft, and each current
    version a draft: the latest few pending, one in twenty rejected, the rest
    published to ``outlets`` outlets (a few deliveries failed), the national
    network and three channels. Then a digest every working day, ``cycles_per_day``
    cycles each with its run and audit line, invitations and monthly briefs.
    Returns the rows written per table."""
    tz = at.tzinfo
    office = [address(a) for a in settings.mail.office]
    deputies = [address(a) for a in settings.deputies.addresses]
    written: dict[str, int] = {}

    def put(db, table: str, rows: list[tuple]) -> None:
        if rows:
            db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in rows[0])})", rows)
            written[table] = written.get(table, 0) + len(rows)

    def local(text: str | None) -> datetime | None:
        if not text:
            return None
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)

    with Ledger.of(settings.ledger) as ledger, ledger.transaction():
        db = ledger.db
        first_day = None
        subs = db.execute(
            "SELECT s.id, s.version, s.kind, s.title, s.state, s.publishable, s.removed_at, s.submitted_at, "
            "s.received_at, v.data FROM submissions s JOIN submission_versions v "
            "ON v.submission_id = s.id AND v.version = s.version").fetchall()
        subs.sort(key=lambda s: (local(s["submitted_at"]) or local(s["received_at"]), s["id"]))
        drafts, decisions, reviews, messages, attachments, deliveries, bodies, channels, audit = ([] for _ in range(9))
        versions: list[tuple] = []
        serials: dict[int, int] = {}
        publishable = [s for s in subs if s["state"] == "valid" and s["publishable"] and not s["removed_at"]]
        pending_from = len(publishable) - 3          # the office has not decided on the latest few yet

        def deliver(key: str, purpose: str, period: str, topic: str, subject: str, created: datetime,
                    recipients: list[tuple[str, str]], *, failed: int = -1) -> None:
            what, item, *variant = key.split("/", 2)        # the key's parts, as the ledger keeps them
            messages.append((key, purpose, period, topic, subject, _iso(created), what, item, "".join(variant)))
            for j, (name, address) in enumerate(recipients):
                sent = created + timedelta(seconds=j + 1)
                state, detail = ("permanent", "550 mailbox unavailable") if j == failed else ("sent", "")
                deliveries.append((key, address, name, subject, state, 1, "", detail, f"<{key}.{j}@court>",
                                   _iso(created), _iso(sent), _iso(sent) if state == "sent" else None,
                                   "4242@court-pc", None, None))      # ... claimed_by, reserved_on, reserved_at
                bodies.append((key, address, f"{subject}\n（正文略）", f"<p>{subject}</p>"))

        for number, sub in enumerate(publishable):
            when = local(sub["submitted_at"]) or local(sub["received_at"])
            first_day = first_day or when.date()
            year = when.year
            serials[year] = serials.get(year, 0) + 1
            base = f"D-{year}-{serials[year]:06d}"
            data = json.loads(sub["data"])
            edited = number % 10 == 3 and number < pending_from
            made = []                             # (draft id, version, submission version, created)
            if edited:
                older = dict(data, facts=data.get("facts", "") + "（初稿）")
                db.execute("UPDATE submission_versions SET version = 2 WHERE submission_id = ? AND version = 1",
                           (sub["id"],))
                versions.append((sub["id"], 1, f"old-{sub['id']}", "valid", "",
                                 json.dumps(older, ensure_ascii=False, sort_keys=True), _iso(when)))
                db.execute("UPDATE submissions SET version = 2 WHERE id = ?", (sub["id"],))
                db.execute("UPDATE submission_versions SET recorded_at = ? WHERE submission_id = ? AND version = 2",
                           (_iso(when + timedelta(days=1)), sub["id"]))
                made.append((base, 1, 1, when + timedelta(hours=2)))
                made.append((f"{base}-v2", 2, 2, when + timedelta(days=1, hours=2)))
            else:
                made.append((base, 1, sub["version"], when + timedelta(hours=2)))
            for draft_id, version, sub_version, created in made:
                final = draft_id == made[-1][0]
                headline = f"{sub['title']}"
                text = f"{headline}\n\n发布日期：{created:%Y年%m月%d日}\n\n（正文略）"
                decided = created + timedelta(days=1)
                if not final:
                    state, decided_at, by, reason, published, day = (
                        "superseded", _iso(decided), None, f"已更新为 {made[-1][0]}", None, None)
                elif number >= pending_from:
                    state, decided_at, by, reason, published, day = "pending", None, None, "", None, None
                elif number % 20 == 7:
                    state, decided_at, by, reason, published, day = (
                        "rejected", _iso(decided), "高琼芳", "请补充执行过程", None, None)
                else:
                    state, decided_at, by, reason, published, day = (
                        "published", _iso(decided + timedelta(hours=1)), "符贤", f"发往 {outlets} 家媒体",
                        decided + timedelta(hours=1), decided.date().isoformat())
                drafts.append((draft_id, base, version, year, serials[year], sub["id"], sub_version, sub["kind"],
                               headline, state, text, f"<p>{headline}</p>", f"h-{draft_id}", "[]", 0,
                               _iso(created), decided_at, by, reason, _iso(published) if published else None,
                               day, json.dumps({"checks": [], "names": []}), ))
                deliver(f"draft/{draft_id}", "draft", created.date().isoformat(), "", f"【待审核】{headline}",
                        created, office)
                audit.append((_iso(created), "draft", "drafted", draft_id,
                              json.dumps({"submission": sub["id"], "version": sub_version})))
                if state in ("published", "rejected"):
                    decision, comment = ("通过", "同意发布") if state == "published" else ("退回", reason)
                    decisions.append((draft_id, decision, by, comment, "sheet", _iso(decided)))
                    reviews.append((draft_id, decision, by, comment, 2 + len(reviews), _iso(decided)))
                    audit.append((_iso(decided), "review", "approved" if decision == "通过" else "rejected",
                                  draft_id, json.dumps({"reviewer": by, "source": "sheet"}, ensure_ascii=False)))
                if state == "superseded":
                    audit.append((decided_at, "draft", "superseded", draft_id, "{}"))
                if published:
                    key = f"release/{draft_id}"
                    media = [(f"{workload.OUTLETS[j % len(workload.OUTLETS)]}（{j // len(workload.OUTLETS) + 1}）",
                              f"desk{j + 1}@media{j % 41}.example") for j in range(outlets)]
                    deliver(key, "release", draft_id, sub["kind"], f"【新闻稿】{headline}", published, media,
                            failed=number % outlets if number % 50 == 11 else -1)
                    attachments.append((key, 0, f"{headline[:40]}.docx", DOCX, b"PK\x03\x04 docx"))
                    deliver(f"network/{draft_id}", "network", draft_id, sub["kind"], f"【报送】{headline}",
                            published, [("全国法院执行信息网", "network@court.example")])
                    for channel in CHANNELS:
                        posted = None if number >= pending_from - 6 else published + timedelta(days=1)
                        channels.append((draft_id, channel, f"outbox/channels/{draft_id}/{channel}", _iso(published),
                                         _iso(posted) if posted else None, "陈静" if posted else None))
                    channels.append((draft_id, "network", f"network/{draft_id}", _iso(published), None, None))
                    audit.append((_iso(published), "publish", "queued", draft_id,
                                  json.dumps({"recipients": outlets + 1, "channels": list(CHANNELS)})))

        put(db, "submission_versions", versions)
        db.execute("UPDATE submission_versions SET recorded_at = (SELECT COALESCE(s.submitted_at, s.received_at) "
                   "FROM submissions s WHERE s.id = submission_id) WHERE version = 1")
        db.execute("UPDATE submissions SET received_at = COALESCE(submitted_at, received_at), "
                   "updated_at = COALESCE(submitted_at, received_at)")
        # The columns in schema order: drafts gained release_date and review after published_at.
        put(db, "drafts", drafts)
        put(db, "decisions", [(None, *d) for d in decisions])
        put(db, "reviews", [(None, *r) for r in reviews])

        # The scheduler's days: a digest each working day, a cycle every quarter of an hour in office hours.
        first_day = first_day or at.date()
        runs, digests = [], []
        for day in _working_days(first_day, at.date() - timedelta(days=1)):
            morning = datetime.combine(day, time(8, 0), tz)
            for slot in range(cycles_per_day):
                started = morning + timedelta(minutes=15 * slot)
                outcome = "failed" if (day.toordinal() + slot) % 997 == 0 else "ok"
                runs.append(("cycle", started.strftime("%Y-%m-%dT%H:%M"), _iso(started),
                             _iso(started + timedelta(seconds=3)), outcome, "读取工作簿失败" if outcome == "failed" else ""))
                audit.append((_iso(started + timedelta(seconds=2)), "pull", "done", str(settings.sheet.path),
                              json.dumps({"rows": len(subs), "accepted": 0, "flagged": 0, "new": 0, "changed": 0,
                                          "removed": 0, "cells_written": 0, "warnings": [], "waiting": ""})))
            digest_at = datetime.combine(day, time(8, 30), tz)
            runs.append(("digest", day.isoformat(), _iso(digest_at), _iso(digest_at + timedelta(seconds=5)), "ok", ""))
            digests.append(day)
            deliver(f"digest/{day.isoformat()}", "digest", day.isoformat(), "", f"执行宣传日报 {day:%m月%d日}",
                    digest_at, office)
        months = sorted({(d.year, d.month) for d in digests})[:-1]
        briefs = []
        for number, (year, month) in enumerate(months):
            key = f"{year}-{month:02d}"
            issued = datetime(year, month, 28, 9, 0, tzinfo=tz) + timedelta(days=5)
            briefs.append((key, year, month, _iso(issued), None))   # month, year, issue, created_at, replaces
            runs.append(("brief", key, _iso(issued), _iso(issued + timedelta(seconds=9)), "ok", ""))
            deliver(f"brief/{key}", "brief", key, "", f"执行工作简报 {year}年第{month}期", issued,
                    deputies)
        invitations = []
        for year in sorted(serials):
            for serial in range(1, 5):
                visit = date(year, 3 * serial, 10)
                if visit >= at.date():
                    continue
                ident = f"I-{year}-{serial:06d}"
                made = datetime.combine(visit - timedelta(days=14), time(9, 0), tz)
                invitations.append((ident, year, serial, visit.isoformat(), f"执行开放日（第{serial}次）", "", "sent",
                                    f"邀请函：执行开放日（第{serial}次）", "（正文略）", "<p>（正文略）</p>", _iso(made),
                                    _iso(made + timedelta(days=1)), "符贤", "", _iso(made + timedelta(days=1, hours=1))))
                deliver(f"invitation/{ident}", "invitation", ident, "", f"邀请函：执行开放日（第{serial}次）",
                        made + timedelta(days=1, hours=1), deputies)
        put(db, "job_runs", [(None, *r) for r in runs])
        put(db, "briefs", briefs)
        put(db, "invitations", invitations)
        put(db, "messages", messages)
        put(db, "message_attachments", attachments)
        put(db, "deliveries", deliveries)
        put(db, "delivery_bodies", bodies)
        put(db, "channel_versions", channels)
        audit.sort(key=lambda a: a[0])
        put(db, "audit", [(None, *a) for a in audit])
        ledger.set_meta("scheduler_since", _iso(datetime.combine(first_day, time(7, 0), tz)))
    return written


def settle_schedule(settings: Settings, at: datetime) -> None:
    """Every slot due at ``at`` but the cycle has run (today's digest, this week's reminders, last week's
    and month's summaries, last month's brief): a cycle now is the only job ``once`` runs."""
    with Ledger.of(settings.ledger) as ledger, ledger.transaction():
        for slot in due(at, settings.schedule):
            if slot.job != CYCLE and not any(r["outcome"] == "ok" for r in ledger.runs_of(slot.job, slot.period)):
                ledger.finish_run(ledger.start_run(slot.job, slot.period, slot.due_at), "ok", slot.due_at)


def counts(settings: Settings) -> dict[str, int]:
    """Rows per table that a cycle with nothing new must leave as they are."""
    with Ledger.of(settings.ledger) as ledger:
        return {table: ledger.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("submissions", "submission_versions", "drafts", "messages", "deliveries",
                              "decisions", "invitations", "channel_versions")}
