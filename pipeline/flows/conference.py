"""A press conference's pack (发布会材料): the typical cases published in a period, by kind, with the figures.

Work plan 四(二): 年内至少召开2次新闻发布会，通报打击拒执、执行不能等典型案例、宣传重要举措、取得成效等内容.
Before a conference the office gathers what it will announce; ``conference-pack`` writes it as a .docx the
office edits (A4, page numbers, the court as its author):

一、工作成效: the 数据 tab's enforcement figures of the months the period touches, each with its source; the
    releases published in the period, counted by kind; the outlets they went to.
二、典型案例: the typical cases (``CASE_KINDS``: 四(二)'s 打击拒执 and 执行不能 first), kind by kind, each release
    as it was published — headline, date, text.
三、重要举措和工作动态: the period's other published releases (动员部署, 执行联动, 宣传活动 …), likewise.

Only releases that reached the media go in, each once (a release corrected and published again as v2, in the
words of its newest version published in the period), each as published: the release text stored when it was drafted
(masked then), dated as it went out, and checked again by the last guard (``redact.check`` with the row's
naming rules), the whole document too; never a row's cells. No internal figure (a team's quota, the plan's
tallies) goes in. A release dated in the period is in it: the day it carries, the day it was approved.

The period: ``start``/``end``, or a press event of the 活动 tab (``activity``: its day or its name; none: the
next one planned): from the day after the last press event held before it — the first of its year when none —
up to its day, or today while it is still to come (``plan.rules.pack_period``). The file goes to
``<outbox>/conference/`` unless ``out`` names a .docx file or a folder; a file already there is never
overwritten (the office may have edited it): the new one is numbered （2）, （3） ….
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from ..core import normalize
from ..core.calendar import Month
from ..core.errors import PipelineError, UsageError
from ..core.files import write_atomic
from ..core.model import KINDS, Activity, Figure
from ..plan.rules import CONFERENCE_KINDS, pack_period
from ..texts.document import DOCX_TYPE, Block, pack_docx, release_blocks
from ..texts.render import cn_date, fill_date
from .context import Context
from .joblog import job
from .publishing import name_plan, release_day

# The typical cases (典型案例) in the order the pack gives them: the two 四(二) names first, then the weekly
# cases of 三(七) and 三(三)'s dishonest debtors, then the special campaigns' cases (三(五), 三(四)).
CASE_KINDS = ("打击拒执", "执行不能", "惩戒失信", "执行成功", "教科书式老赖", "三涉专项", "三反专项")
# Every other kind is a measure or a piece of news (重要举措和工作动态), in the order of ``KINDS``.
OTHER_KINDS = tuple(k for k in KINDS if k not in CASE_KINDS)
FOLDER = "conference"           # <outbox>/conference/
SUBTITLE = "典型案例和工作成效材料"
MOST_OUTLETS = 12               # the outlets named; the rest are counted


class NoReleases(PipelineError):
    """The period holds no release that reached the media: there is nothing to put in a pack."""


class PackBlocked(PipelineError):
    """A release or a figure of the pack still carries a personal identifier or a masked name."""


@dataclass
class PackRun:
    """What ``conference-pack`` wrote: where, for what, how much."""

    path: Path
    title: str                       # the conference's name, or 新闻发布会
    start: date
    end: date
    by_kind: dict[str, int]          # published releases per kind, in the pack's order
    cases: int                       # how many of them are typical cases
    outlets: int
    months: list[str] = field(default_factory=list)          # 2026年11月: the months the period touches
    missing_months: list[str] = field(default_factory=list)  # those ended without a figure on the 数据 tab

    @property
    def releases(self) -> int:
        return sum(self.by_kind.values())

    def tally(self) -> dict[str, object]:
        """For the job's line in the log: counts and the period, never a release's words."""
        return {"period": f"{self.start.isoformat()}..{self.end.isoformat()}", "releases": self.releases,
                "cases": self.cases, "file": self.path.name}


def period_label(start: date, end: date) -> str:
    return f"{cn_date(start)}至{cn_date(end)}"


def choose(activities: Sequence[Activity], activity: str, today: date, tz) -> Activity | None:
    """The press event ``activity`` names on the 活动 tab (its day, or its name); with ``activity`` blank,
    the next one planned. None when nothing is named and nothing is planned."""
    press = [a for a in activities if a.kind in CONFERENCE_KINDS]
    wanted = activity.strip()
    if not wanted:
        coming = sorted((a for a in press if a.day >= today and a.held is not False), key=lambda a: a.day)
        return coming[0] if coming else None
    try:
        day = normalize.day(wanted, tz, label="--activity")
    except normalize.Invalid:
        day = None
    if day is not None:
        found = [a for a in press if a.day == day]
        others = [a for a in activities if a.day == day and a.kind not in CONFERENCE_KINDS]
    else:
        folded = "".join(wanted.split())
        found = [a for a in press if "".join(a.name.split()) == folded] or [
            a for a in press if folded in "".join(a.name.split())]
        others = [a for a in activities if a.kind not in CONFERENCE_KINDS and "".join(a.name.split()) == folded]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        names = "；".join(f"{cn_date(a.day)}“{a.name or a.kind}”" for a in found)
        raise UsageError(f"--activity {wanted} 对应活动页上的多场发布会（{names}），请写发布会的完整名称")
    if others:
        other = others[0]
        raise UsageError(f"活动页上的“{other.name or other.kind}”（{cn_date(other.day)}）是{other.kind}，不是新闻发布会；"
                         f"发布会材料只为{'、'.join(CONFERENCE_KINDS)}生成")
    listed = "；".join(f"{a.day.isoformat()} {a.name or a.kind}" for a in sorted(press, key=lambda a: a.day))
    raise UsageError(f"活动页上没有 --activity {wanted} 所指的发布会"
                     + (f"（活动页上的发布会：{listed}）" if listed else "（活动页上还没有登记发布会）"))


def _numeral(n: int) -> str:
    """一 … 九十九, as section numbers are written."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _figure_blocks(figures: Sequence[Figure], first: date, last: date, court: str) -> list[Block]:
    """The 数据 tab's figures of the months the period touches, each with its source; a month the period
    covers only in part is said to be counted whole."""
    months = sorted({f.month for f in figures})
    several = len(months) > 1
    rows = [(Month.parse(f.month).label, f.metric, f.value, f.source) if several else (f.metric, f.value, f.source)
            for f in figures]
    header = ("月份", "指标", "数值", "来源") if several else ("指标", "数值", "来源")
    labels = [Month.parse(m).label for m in months]
    covered = "、".join(labels) if len(labels) <= 3 else f"{labels[0]}至{labels[-1]}"
    out = [Block("paragraph", f"{covered}，{court}执行工作主要数据如下（各项注明来源）："),
           Block("table", rows=(header, *rows))]
    partial = {Month.of(first).key} if first != Month.of(first).first_day else set()
    partial |= {Month.of(last).key} if last != Month.of(last).last_day else set()
    if partial & set(months):
        shown = "、".join(Month.parse(m).label for m in sorted(partial & set(months)))
        out.append(Block("note", f"注：执行工作数据按月统计，{shown}为整月数据。"))
    return out


@job("conference-pack")
def pack(ctx: Context, *, activity: str = "", start: date | None = None, end: date | None = None,
         out: Path | None = None) -> PackRun:
    """Write the pack of a press conference (``activity``: its day or name on the 活动 tab; blank: the next
    one planned) or of a period (``start`` to ``end``, both included; either overrides the conference's).

    Raises :class:`UsageError` (exit 2) for a conference the 活动 tab does not hold or a period that is not
    one, :class:`NoReleases` (exit 1) when no release of the period reached the media, and
    :class:`PackBlocked` (exit 1) when the guard finds an identifier or a masked name in it.
    """
    settings, ledger, at = ctx.settings, ctx.ledger, ctx.at
    today, tz = at.date(), settings.timezone
    activities = ledger.activities()
    conference = None
    if activity.strip() or (start is None and end is None):
        conference = choose(activities, activity, today, tz)
        if conference is None:
            raise UsageError("活动页上没有待召开的新闻发布会：请用 --activity 写明活动页上的发布会（日期或名称），"
                             "或用 --from 和 --to 写明时段")
    if conference is not None:
        first, last = pack_period(conference, activities, today)
    else:
        first = start or date((end or today).year, 1, 1)
        last = end or today
    first, last = start or first, min(end or last, today)
    if first > today:
        raise UsageError(f"时段从{cn_date(first)}开始，还没有到：发布会材料只收录已发布的稿件")
    if first > last:
        raise UsageError(f"时段有误：开始日期{cn_date(first)}晚于结束日期{cn_date(last)}")
    label = period_label(first, last)
    stem = f"{conference.kind}材料_{conference.day.isoformat()}" if conference else f"发布会材料_{first}至{last}"
    target = _target(settings.mail.outbox / FOLDER, out, stem)
    rows = _newest(ledger.published_releases(first, last, datetime.combine(first, time(), tz)))
    if not rows:
        raise NoReleases(f"{label}没有已发布的稿件（经宣传办审核通过并已发往媒体的），未生成发布会材料。"
                         f"稿件审核通过（approve）并发往媒体（publish）后才会收入；可用 --from 和 --to 换一个时段")

    from ..texts import names, redact        # the masking rules load where a pack is made, not with the CLI

    court = settings.court
    allowed = redact.own_numbers(court.contact)
    releases = []
    for row in rows:
        day = release_day(row, at)
        text = fill_date(row["release_text"], day)
        headline = text.split("\n", 1)[0].strip()
        plan = name_plan(ledger, row, settings)
        try:
            redact.check([("标题", headline), ("正文", text)], allowed=allowed,
                         leaked=lambda found, plan=plan: names.leaked(found, plan))
        except redact.Blocked as blocked:
            raise PackBlocked(f"发布会材料未生成：稿件 {row['id']} 的{blocked}。请核对该稿件（发布前的检查是否漏过）"
                              "后重新运行") from None
        releases.append({"id": row["id"], "kind": row["kind"], "day": day, "text": text})
    reach = ledger.release_reach([r["id"] for r in releases])
    reached = {r["id"]: sum(1 for item, _, _ in reach if item == r["id"]) for r in releases}
    outlets = _outlets(reach)
    months = _months(first, last)
    figures = [f for m in months for f in ledger.figures(m.key)]
    entered = {f.month for f in figures}

    order = CASE_KINDS + OTHER_KINDS
    by_kind = {k: sum(1 for r in releases if r["kind"] == k) for k in order}
    by_kind = {k: n for k, n in by_kind.items() if n}
    for r in releases:                               # a kind no longer in KINDS (an old ledger): last
        by_kind.setdefault(r["kind"], sum(1 for x in releases if x["kind"] == r["kind"]))
    cases = sum(n for k, n in by_kind.items() if k in CASE_KINDS)

    title = (conference.name or conference.kind) if conference else "新闻发布会"
    lines = [court.name, title, SUBTITLE, f"（{label}）"]
    if conference is not None:
        when = cn_date(conference.day) + (f" {conference.time}" if conference.time else "")
        lines.append(f"召开时间：{when}" + (f"　地点：{conference.place}" if conference.place else ""))

    blocks: list[Block] = []
    part = iter(range(1, 10))
    blocks.append(Block("heading", f"{_numeral(next(part))}、工作成效"))
    sub = iter(range(1, 10))
    if figures:
        blocks.append(Block("subheading", f"（{_numeral(next(sub))}）执行工作主要数据"))
        blocks += _figure_blocks(figures, first, last, court.name)
    blocks.append(Block("subheading", f"（{_numeral(next(sub))}）执行宣传报道情况"))
    counted = "、".join(f"{k} {n} 篇" for k, n in by_kind.items())
    summary = f"{label}，{court.name}经审核向新闻媒体发布执行工作稿件 {len(releases)} 篇"
    summary += f"，其中典型案例 {cases} 篇" if cases and cases < len(releases) else ""
    blocks.append(Block("paragraph", f"{summary}：{counted}。"))
    if outlets:
        named = "、".join(f"{o}（{t}）{n} 篇" if t else f"{o} {n} 篇" for o, t, n in outlets[:MOST_OUTLETS])
        more = f"等 {len(outlets)} 家媒体" if len(outlets) > MOST_OUTLETS else ""
        blocks.append(Block("paragraph", f"上述稿件发往的媒体：{named}{more}。"))

    for heading, kinds in (("典型案例", CASE_KINDS), ("重要举措和工作动态", None)):
        chosen = [k for k in by_kind if (k in CASE_KINDS) == (kinds is not None)]
        if not chosen:
            continue
        blocks.append(Block("heading", f"{_numeral(next(part))}、{heading}"))
        for number, kind in enumerate(chosen, start=1):
            blocks.append(Block("subheading", f"（{_numeral(number)}）{kind}（{by_kind[kind]} 篇）"))
            for r in (r for r in releases if r["kind"] == kind):
                blocks += release_blocks(r["text"], f"{cn_date(r['day'])}发布，发往 {reached[r['id']]} 家媒体")
    blocks.append(Block("note", f"（本材料汇编{label}经审核并已向新闻媒体发布的执行宣传稿件，稿件正文与发布稿一致；"
                                f"执行工作数据见各项所注来源。{court.name}{court.office}编，{cn_date(today)}。）"))

    content = pack_docx(lines=lines, blocks=blocks, title=f"{title}{SUBTITLE}", author=court.name, at=at)
    # The whole document as a reader sees it, paragraph by paragraph (each release was checked whole above;
    # read as one text, a release's closing phone number would run on into the next heading's 三、).
    shown = redact.attachment_text(content, DOCX_TYPE).split("\n")
    try:
        redact.check([("发布会材料", line) for line in shown if line.strip()], allowed=allowed)
    except redact.Blocked as blocked:
        raise PackBlocked(f"发布会材料未生成：{blocked}。请改正活动页、数据页中的该信息后重新运行") from None

    path = _free(target)
    try:
        write_atomic(path, content)
    except OSError as exc:
        raise PipelineError(f"发布会材料未能写入 {path}：{exc.strerror or exc}") from None
    with ledger.transaction():
        ledger.audit(at, "conference-pack", "written", conference.day.isoformat() if conference else label,
                     file=path.name, releases=len(releases), start=first.isoformat(), end=last.isoformat())
    return PackRun(path=path, title=title, start=first, end=last, by_kind=by_kind, cases=cases,
                   outlets=len(outlets), months=[m.label for m in months],
                   missing_months=[m.label for m in months if m.key not in entered and m.next.first_day <= today])


def _newest(rows: Sequence) -> list:
    """One row per release: a release corrected and published again (D-2026-000045-v2) is one case, in the words
    the media received last (its newest version published in the period), in that version's place."""
    newest = {row["base"]: row for row in rows}          # rows come oldest first: the last one of each stays
    return [row for row in rows if newest[row["base"]] is row]


def _outlets(reach: Sequence[tuple[str, str, str]]) -> list[tuple[str, str, int]]:
    """(outlet, its 类型, how many of the pack's releases it received), most first."""
    counts: dict[str, int] = {}
    types: dict[str, str] = {}
    for _, outlet, kind in reach:
        counts[outlet] = counts.get(outlet, 0) + 1
        types[outlet] = types.get(outlet) or kind
    return sorted(((o, types[o], n) for o, n in counts.items()), key=lambda r: (-r[2], r[0]))


def _months(first: date, last: date) -> list[Month]:
    months = [Month.of(first)]
    while months[-1] < Month.of(last):
        months.append(months[-1].next)
    return months


def _target(folder: Path, out: Path | None, stem: str) -> Path:
    """Where the pack goes: ``out`` when it names a .docx file, into ``out`` when it is a folder, else into
    ``folder``."""
    if out is None:
        return folder / f"{stem}.docx"
    if out.is_dir():
        return out / f"{stem}.docx"
    if out.suffix.lower() != ".docx":
        raise UsageError(f"--out {out}：应为一个 .docx 文件，或一个已有的文件夹")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}：文件夹 {out.parent} 不存在")
    return out


def _free(path: Path) -> Path:
    """``path``, or the first ``name（2）.docx`` … beside it that does not exist: an edited pack is kept."""
    number, candidate = 2, path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}（{number}）{path.suffix}")
        number += 1
    return candidate
