"""Weekly and monthly summaries, reported upward as the plan requires (四(六)).

Figures come from the ledger only: items per team and kind, releases per
outlet, where the releases ran (宣传成效: the 刊发 tab's placements and the
court's own channels marked posted, by the outlets' 类型 and 级别), each
column's pieces against the periods it owes (四(二), ``plan/columns``), and
which of the plan's obligations were met in each week of the period. The
same figures go into the HTML (bar charts built from table cells, which every
mail client renders), the plain text, and a CSV attachment for the higher
court's own spreadsheets. The weekly summary goes to the office and the
leaders, the monthly report to the office, the leaders and the higher court.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..core.calendar import Month, Week
from ..core.model import CHANNEL_LIST, KINDS, MEDIA_LEVELS, MEDIA_TYPES, MessageKey, Placement
from ..ledger import Ledger
from ..ledger.submissions import placement
from ..mail.message import Attachment, Outgoing, address
from ..plan import columns as column_plan
from ..plan.obligations import Plan
from ..texts.notices import column_state
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
    placements: list[dict] = field(default_factory=list)   # day, outlet, draft_id, headline, slot, type, level, own
    placed: dict = field(default_factory=dict)              # count, releases, outlets
    by_type: list[dict] = field(default_factory=list)       # label, n, bar
    by_level: list[dict] = field(default_factory=list)      # label, n, bar
    columns: list[dict] = field(default_factory=list)       # title, cadence, owed, filled, periods (state lines)
    columns_owed: int = 0
    columns_filled: int = 0


UNSAID_TYPE, UNSAID_LEVEL = "未注明类型", "未注明级别"
OWN_LEVEL = "市县"           # the court's own channels: its city's media


def gather(ledger: Ledger, period: Week | Month, tz: ZoneInfo, plan: Plan, court: str = "") -> Figures:
    """Every figure of the summary for the week or month, read from the ledger, held to ``plan``; ``court``
    names the court's own channels among the outlets that ran a release."""
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
    figures = Figures(period.label, start, end, kinds, rows, outlet_rows, obligations,
                      releases=ledger.releases_published_between(begin, finish))
    _placements(figures, ledger, period, tz, court)
    _columns(figures, ledger, period, plan)
    return figures


def _placements(figures: Figures, ledger: Ledger, period: Week | Month, tz: ZoneInfo, court: str) -> None:
    """Where the releases ran in the period (四(六) 宣传成效): the 刊发 tab's placements dated in it and the
    court's own channels marked posted in it, counted by the outlets' 类型 and 级别."""
    start, end = period.span
    found = [{**_shown(placement(row)), "headline": row["headline"] or "", "kind": row["kind"] or "", "own": False}
             for row in ledger.placements_between(start, end)]
    channels = {c.key: c for c in CHANNEL_LIST}
    for row in ledger.posted_between(*period.bounds(tz)):
        channel = channels[row["channel"]]
        day = datetime.fromisoformat(row["posted_at"]).astimezone(tz).date()
        found.append({**_shown(Placement(row["draft_id"], f"{court}{channel.outlet}", day, type=channel.media_type,
                                         level=OWN_LEVEL, channel=channel.key)),
                      "headline": row["headline"], "kind": row["kind"], "own": True})
    found.sort(key=lambda p: (p["day"], p["own"], p["outlet"], p["draft_id"]))
    figures.placements = found
    # A release corrected and published again (D-2026-000045-v2) is one release (稿件), whichever version ran.
    figures.placed = {"count": len(found), "releases": len({_base(p["draft_id"]) for p in found}),
                      "outlets": len({p["outlet"] for p in found})}
    figures.by_type = _counted([p["type"] or UNSAID_TYPE for p in found], (*MEDIA_TYPES, UNSAID_TYPE))
    figures.by_level = _counted([p["level"] or UNSAID_LEVEL for p in found], (*MEDIA_LEVELS, UNSAID_LEVEL))


def _base(draft_id: str) -> str:
    """A draft's ID without its version: D-2026-000045-v2 → D-2026-000045."""
    return re.sub(r"-v\d+$", "", draft_id)


def _shown(p: Placement) -> dict:
    """One placement as the summary shows it: what a clerk typed in 版面或链接 goes upward masked (a telephone
    number typed there by mistake is no page), its web addresses whole."""
    from ..texts.redact import mask_outside_links

    return {"day": p.day, "outlet": p.outlet, "draft_id": p.draft_id, "slot": mask_outside_links(p.slot),
            "note": p.note, "type": p.type, "level": p.level, "column": p.column}


def _counted(labels: list[str], order: tuple[str, ...]) -> list[dict]:
    """How many of ``labels`` are each of ``order`` (an unsaid one only when some are), with a bar."""
    top = max([labels.count(label) for label in order] + [1])
    return [{"label": label, "n": labels.count(label), "bar": round(BAR_WIDTH * labels.count(label) / top)}
            for label in order if label not in (UNSAID_TYPE, UNSAID_LEVEL) or label in labels]


def _columns(figures: Figures, ledger: Ledger, period: Week | Month, plan: Plan) -> None:
    """Each column (专栏) of the 媒体 tab against the periods the summary reports on (``columns.periods_in``):
    how many it owed, how many it filled, and each period's pieces."""
    columns = column_plan.media_columns(ledger.media())
    if not columns:
        return
    periods = {c.cadence: column_plan.periods_in(c.cadence, period) for c in columns}
    first = min(p.span[0] for ps in periods.values() for p in ps)
    after = max(p.span[1] for ps in periods.values() for p in ps)
    pieces = [placement(row) for row in ledger.placements_between(first, after)]
    standings = column_plan.standings(columns, periods.__getitem__, pieces, plan)
    for column in columns:
        own = [s for s in standings if s.column == column]
        owed = [s for s in own if s.owed]
        figures.columns.append({
            "title": column.title, "cadence": column.cadence, "owed": len(owed),
            "filled": sum(1 for s in owed if s.filled),
            "periods": [column_state(s, s.period.label) + _beyond(s, period) for s in own]})
    figures.columns_owed = sum(c["owed"] for c in figures.columns)
    figures.columns_filled = sum(c["filled"] for c in figures.columns)


def _beyond(standing: column_plan.Standing, period: Week | Month) -> str:
    """A note when the column's period runs past the summary's: its piece may still come."""
    after = standing.period.span[1]
    if after <= period.span[1] or standing.filled or not standing.owed:
        return ""
    last = standing.period.last_day
    return f"（该期至{last.month}月{last.day}日结束）"


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
    writer.writerow(["刊发情况", "合计", "刊发次数", figures.placed.get("count", 0)])
    writer.writerow(["刊发情况", "合计", "刊发稿件数", figures.placed.get("releases", 0)])
    writer.writerow(["刊发情况", "合计", "刊发媒体数", figures.placed.get("outlets", 0)])
    for row in figures.by_type:
        writer.writerow(["刊发情况", row["label"], "按类型刊发次数", row["n"]])
    for row in figures.by_level:
        writer.writerow(["刊发情况", row["label"], "按级别刊发次数", row["n"]])
    for outlet in dict.fromkeys(p["outlet"] for p in figures.placements):
        writer.writerow(["刊发情况", outlet, "刊发次数", sum(1 for p in figures.placements if p["outlet"] == outlet)])
    for row in figures.columns:
        writer.writerow(["专栏", row["title"], "应刊期数", row["owed"]])
        writer.writerow(["专栏", row["title"], "已刊期数", row["filled"]])
    for row in figures.obligations:
        writer.writerow(["任务完成", row["what"], "完成", row["met"]])
        writer.writerow(["任务完成", row["what"], "应完成", row["owed"]])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


SUMMARY_KINDS = {"weekly": ("每周工作小结", Week.parse), "monthly": ("月度工作报告", Month.parse)}


@job("summary", fields=lambda ctx, kind, period, **_: {"kind": kind, "period": period})
def summary(ctx: Context, kind: str, period: str, *, dry_run: bool = False) -> MailRun:
    """Mail the weekly summary (office and leaders) or the monthly report (office, leaders and the higher court:
    四(六), results reported upward)."""
    title, parse = SUMMARY_KINDS[kind]
    covered = parse(period)
    label = covered.label
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    recipients = [*settings.mail.office, *settings.summaries.leaders,
                  *(settings.summaries.higher_court if kind == "monthly" else ())]
    key = MessageKey("summary", kind, period)
    if ledger.has_message(key):        # a dry run says what the real run would: nothing
        return MailRun(skipped=f"{label}{title}已经发送过", report=None if dry_run else flush(ctx))
    figures = gather(ledger, covered, settings.timezone, Plan.of(settings), settings.court.name)
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
