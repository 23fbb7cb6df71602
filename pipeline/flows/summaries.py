"""Weekly and monthly summaries, reported upward as the plan requires (四(六)).

Figures come from the ledger only: items per team and kind, releases per
outlet, and which of the plan's obligations were met in each week of the
period. The same figures go into the HTML (bar charts built from table
cells, which every mail client renders), the plain text, and a CSV
attachment for the higher court's own spreadsheets.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from ..core.calendar import Month, Week
from ..core.model import KINDS, MessageKey
from ..ledger import Ledger
from ..mail.message import Attachment, Outgoing, address
from ..plan.obligations import Plan
from ..texts.render import render
from .context import Context
from .dispatch import MailRun, flush, queue
from .joblog import job

BAR_WIDTH = 240


@dataclass
class Figures:
    label: str                      # 2026年第48周 / 2026年11月
    start: date                     # first day
    end: date                       # day after the last
    kinds: list[str]
    teams: list[dict]               # team, quota, by_kind, total, weeks_met, weeks_missed, bar
    outlets: list[dict]             # outlet, releases, bar
    obligations: list[dict]         # what, met, owed
    releases: int = 0


def gather(ledger: Ledger, period: Week | Month, tz: ZoneInfo, plan: Plan) -> Figures:
    """Every figure of the summary for the week or month, read from the ledger, held to ``plan``."""
    start, end = period.span
    begin, finish = period.bounds(tz)
    teams = ledger.teams()
    counts = ledger.valid_items_between(begin, finish)            # (team, kind, week) -> n
    weeks = [week.key for week in plan.owed_weeks(period.weeks)]   # an exempt week owes no weekly duty
    kinds = [k for k in KINDS if any(k == kind for (_, kind, _) in counts)]
    rows = []
    for team in teams:
        by_kind = {k: sum(n for (t, kind, _), n in counts.items() if t == team.name and kind == k) for k in kinds}
        per_week = {w: sum(n for (t, _, wk), n in counts.items() if t == team.name and wk == w) for w in weeks}
        met = sum(1 for w in weeks if per_week[w] >= team.quota)
        rows.append({"team": team.name, "quota": team.quota, "by_kind": by_kind, "total": sum(by_kind.values()),
                     "weeks_met": met, "weeks_missed": len(weeks) - met})
    top = max([r["total"] for r in rows] + [1])
    for row in rows:
        row["bar"] = round(BAR_WIDTH * row["total"] / top)
    outlets = ledger.releases_per_outlet(begin, finish)
    top = max([n for _, n in outlets] + [1])
    outlet_rows = [{"outlet": o, "releases": n, "bar": round(BAR_WIDTH * n / top)} for o, n in outlets]
    obligations = _obligations(ledger, period, tz, rows, plan)
    return Figures(period.label, start, end, kinds, rows, outlet_rows, obligations,
                   releases=ledger.releases_published_between(begin, finish))


def _obligations(ledger: Ledger, period: Week | Month, tz: ZoneInfo, rows: list[dict], plan: Plan) -> list[dict]:
    start, end = period.span
    published = {week: ledger.published_kinds(*week.bounds(tz)) for week in plan.owed_weeks(period.weeks)}
    return plan.tally(published=published, teams_met=sum(r["weeks_met"] for r in rows), teams=len(rows),
                      months=period.months, activities=ledger.activities(), year=start.year, end=end)


# A cell a spreadsheet would run as a formula (OWASP: CSV injection): = + - @, or a tab or CR first.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _SafeWriter:
    """A csv writer whose text cells can never be read as a formula: such a cell gets a leading '
    (Excel and WPS show the text as typed). Numbers are written as numbers."""

    def __init__(self, writer) -> None:
        self.writer = writer

    def writerow(self, row: list[object]) -> None:
        self.writer.writerow([f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell
                              for cell in row])


def to_csv(figures: Figures) -> bytes:
    """The figures as CSV in long form (section, item, measure, value), UTF-8 with a BOM
    so that Excel and WPS open the Chinese right."""
    buffer = io.StringIO()
    writer = _SafeWriter(csv.writer(buffer))
    writer.writerow(["部分", "项目", "指标", "数值"])
    for row in figures.teams:
        for kind in figures.kinds:
            writer.writerow(["部门报送", row["team"], kind, row["by_kind"][kind]])
        writer.writerow(["部门报送", row["team"], "合计", row["total"]])
        writer.writerow(["部门报送", row["team"], "达标周数", row["weeks_met"]])
        writer.writerow(["部门报送", row["team"], "未达标周数", row["weeks_missed"]])
    for row in figures.outlets:
        writer.writerow(["媒体发布", row["outlet"], "发稿数", row["releases"]])
    writer.writerow(["媒体发布", "合计", "发布稿件数", figures.releases])
    for row in figures.obligations:
        writer.writerow(["任务完成", row["what"], "完成", row["met"]])
        writer.writerow(["任务完成", row["what"], "应完成", row["owed"]])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


SUMMARY_KINDS = {"weekly": ("每周工作小结", Week.parse), "monthly": ("月度工作报告", Month.parse)}


@job("summary", fields=lambda ctx, kind, period, **_: {"kind": kind, "period": period})
def summary(ctx: Context, kind: str, period: str, *, dry_run: bool = False) -> MailRun:
    """Mail the weekly summary (office and leaders) or the monthly report (office and the higher court)."""
    title, parse = SUMMARY_KINDS[kind]
    covered = parse(period)
    label = covered.label
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    recipients = list(settings.mail.office) + list(
        settings.summaries.leaders if kind == "weekly" else settings.summaries.higher_court)
    key = MessageKey("summary", kind, period)
    if ledger.has_message(key):        # a dry run says what the real run would: nothing
        return MailRun(skipped=f"{label}{title}已经发送过", report=None if dry_run else flush(ctx))
    figures = gather(ledger, covered, settings.timezone, Plan.of(settings))
    context = {"court": settings.court.as_context(),
               "title": title, "today": at.date(),
               "f": {**figures.__dict__, "last": covered.last_day}}
    rendered = render("summary", context)
    attachment = Attachment(f"执行宣传{title}_{period}.csv", to_csv(figures), "text/csv")
    seen: set[str] = set()
    items = []
    for name, addr in map(address, recipients):
        if addr not in seen:
            seen.add(addr)
            items.append(Outgoing(key, "summary", addr, rendered.subject, rendered.text, rendered.html,
                                  (attachment,), name=name))
    if dry_run:
        return MailRun(previews=items)
    queued = queue(ledger, items, period=period, at=at)
    return MailRun(queued=queued, report=flush(ctx))
