"""Intake: from the sheet's rows to submissions, row errors and a write-back plan.

A pure function over plain data. Every 素材 row with content ends either as
an accepted submission with an ID in 编号, or with its problems in 状态 —
never skipped silently (docs/architecture.md, invariants). Identity survives inserted,
deleted and sorted rows because the ID travels in the row itself; a row whose
ID cell was cleared is recognised by its content and gets its old ID back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from ..core import normalize as norm
from ..core.calendar import Week
from ..core.grid import CellUpdate, SheetData
from ..core.headers import MappedTab, map_tabs
from ..core.model import (
    CHANNEL_LIST,
    Activity,
    Figure,
    Invited,
    Known,
    MediaContact,
    Placement,
    PullSummary,
    Reply,
    Review,
    RowError,
    Submission,
    Team,
)
from ..plan.columns import media_columns
from ..plan.review import ReviewCodes, Standing, judge
from .rows import MAX_ROW_CHARS, parse_cells

SUBMISSION_ID = re.compile(r"^S-(\d{4})-(\d{6})$")
DRAFT_ID = re.compile(r"^(?:D-\d{4}-\d{6}(?:-v\d+)?|I-\d{4}-\d{6})$")   # a draft release or an invitation
INVITATION_ID = re.compile(r"^I-\d{4}-\d{6}$")
RELEASE_ID = re.compile(r"^D-\d{4}-\d{6}(?:-v\d+)?$")                          # a draft release, any version

ACCEPTED = "已受理"


@dataclass
class Taken:
    """A 素材 row that holds a submission ID after this pull."""

    id: str
    row: int
    fields: dict[str, str]          # the clean values, as stored in the ledger
    content_hash: str
    state: str                      # "valid" | "invalid" | "duplicate"
    problems: tuple[str, ...]
    change: str                     # "new" | "adopted" | "restored" | "changed" | "same"
    version: int
    submission: Submission | None   # None when the row is invalid
    submitted_at: datetime | None
    received_at: datetime
    week: str


@dataclass
class IntakeResult:
    taken: list[Taken] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    media: list[MediaContact] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    reviews: list[tuple[int, Review]] = field(default_factory=list)
    decisions: list[Review] = field(default_factory=list)      # new, valid 审核 rows to apply
    updates: list[CellUpdate] = field(default_factory=list)
    owed: dict[str, dict[str, object]] = field(default_factory=dict)   # ID → its key and row, for 编号 cells not holding it
    summary: PullSummary = field(default_factory=PullSummary)


@dataclass
class _Row:
    number: int
    cell_id: str
    fields: dict[str, str]
    problems: list[str]
    submission: Submission | None
    submitted_at: datetime | None
    content_hash: str
    id: str = ""
    known: Known | None = None
    state: str = "valid"


@dataclass(frozen=True)
class ReviewContext:
    """What judging the 审核 tab needs to know (see ``review.judge``)."""

    items: dict[str, Standing] = field(default_factory=dict)    # every reviewed item: where it stands
    reviewers: frozenset[str] = frozenset()
    seen: frozenset[tuple[str, str, str, str]] = frozenset()
    ready: frozenset[tuple[str, str]] = frozenset()     # (draft ID, channel) versions the office can post
    codes: ReviewCodes | None = None                     # each draft's and invitation's 审核码 (None: not checked)


def reply_ids(sheet: SheetData) -> frozenset[str]:
    """The invitation IDs the 回执 tab's rows name: what the ledger is asked about."""
    mapped = map_tabs(sheet)["replies"]
    return frozenset(ident for _, cells in mapped.body()
                     if (ident := norm.invitation_id(mapped.value(cells, "invitation_id"))))


@dataclass(frozen=True)
class Release:
    """What the ledger knows of the draft a 刊发 row names: the version of it that was published, if any."""

    id: str                         # the published version's ID ("" when no version is published)
    published: date | None          # the day it was published, in the configured zone
    state: str                      # why it is not published: the newest version's state, in words (待审核 …)
    # Every version of the draft that was published, oldest first, with its day (a release corrected after it
    # went out is published again as D-2026-000045-v2): a piece that ran before the correction is the first's.
    versions: tuple[tuple[str, date | None], ...] = ()

    def ran(self, day: date) -> tuple[str, date | None]:
        """The published version a piece that ran on ``day`` carried, and that version's day: the newest
        published by ``day`` (whichever version the row names: people type the draft's first ID); when none
        was, the first published (the row is then earlier than the release)."""
        versions = self.versions or ((self.id, self.published),)
        for ident, published in reversed(versions):
            if published is None or published <= day:
                return ident, published
        return versions[0]


@dataclass(frozen=True)
class PlacementContext:
    """What judging the 刊发 tab needs to know: each draft ID its rows name (as typed, any version; see
    ``placement_ids``) → its :class:`Release`; an ID the ledger does not know is absent. ``court`` is the court's
    name: its own channels (儋州市人民法院微信公众号) count once marked posted, never as a 刊发 row."""

    releases: Mapping[str, Release] = field(default_factory=dict)
    court: str = ""


def own_outlets(court: str) -> dict[str, str]:
    """The names a 刊发 row may give the court's own channels (四(三)), by ``norm.outlet_key``, → the channel's
    label: as the summaries name them (the court's name, then 微信公众号 …), with 本院 before, or bare (微信,
    官网 …: the office's own words); another court's account carries that court's name, and is an outlet."""
    found: dict[str, str] = {}
    for channel in CHANNEL_LIST:
        if channel.by_hand and channel.outlet:
            for name in (channel.outlet, *channel.aliases):
                for prefix in ("", "本院", court):
                    found.setdefault(norm.outlet_key(prefix + name), channel.label)
    return found


def placement_ids(sheet: SheetData) -> frozenset[str]:
    """The draft IDs the 刊发 tab's rows name, as judging them reads them: what the ledger is asked about."""
    mapped = map_tabs(sheet)["placements"]
    return frozenset(ident for _, cells in mapped.body()
                     if RELEASE_ID.match(ident := _placed_id(mapped.value(cells, "draft_id"))))


def _placed_id(value: object) -> str:
    """A 刊发 row's 草稿编号 as the ledger keeps it: a draft's first version has no suffix, so the -v1 a clerk may
    add is dropped (D-2026-000045-V1 is D-2026-000045)."""
    return re.sub(r"-v1$", "", norm.draft_id(value))


def review_ids(sheet: SheetData) -> frozenset[str]:
    """The IDs the 审核 tab's rows name, as judging them reads them: what the ledger is asked about."""
    mapped = map_tabs(sheet)["reviews"]
    return frozenset(ident for _, cells in mapped.body() if (ident := norm.draft_id(mapped.value(cells, "draft_id"))))


def take_in(sheet: SheetData, known: dict[str, Known], *, now: datetime, tz: ZoneInfo,
            default_quota: int, last_sequence: int, reviews: ReviewContext = ReviewContext(),
            unwritten: Mapping[str, Mapping[str, object]] = MappingProxyType({}),
            max_row_chars: int = MAX_ROW_CHARS,
            invitations: Mapping[str, Invited] = MappingProxyType({}),
            placements: PlacementContext = PlacementContext()) -> IntakeResult:
    """Validate every tab of ``sheet`` against what the ledger ``known``.

    ``last_sequence`` is the highest submission serial already used in the
    current year; new IDs continue from it. ``unwritten`` holds the IDs a
    write-back has not put in the sheet yet (``{id: {"key": [...], "row": n}}``,
    see ``owed``): the rows they were meant for are found again by content,
    then by key (team, case number, kind, title), then by row number — as
    the ID in the cell would have kept them. A 素材 row of more than
    ``max_row_chars`` characters is refused (``rows.parse_cells``).
    ``invitations`` says what the ledger knows of the invitations the 回执
    tab names (``reply_ids``): a reply counts only for a deputy one was sent to.
    ``placements`` says which releases the 刊发 tab's rows name were published, and when.
    """
    tabs = map_tabs(sheet)
    result = IntakeResult()
    teams = _take_teams(tabs["teams"], default_quota, result)
    _take_media(tabs["media"], result)
    _take_activities(tabs["activities"], tz, result, {t.name for t in teams})
    _take_figures(tabs["figures"], result)
    _take_replies(tabs["replies"], invitations, result)
    _take_placements(tabs["placements"], placements, now.astimezone(tz).date(), tz, result)
    _take_reviews(tabs["reviews"], reviews, result)
    _take_submissions(tabs["submissions"], {t.name for t in teams}, known, now, tz, last_sequence, result,
                      unwritten, max_row_chars)
    result.summary.other_errors = sum(1 for e in result.errors if e.tab_key != "submissions")
    result.summary.cells_written = len(result.updates)
    return result


# --- 素材 --------------------------------------------------------------------

def _take_submissions(mapped: MappedTab, team_names: set[str], known: dict[str, Known],
                      now: datetime, tz: ZoneInfo, last_sequence: int, result: IntakeResult,
                      unwritten: Mapping[str, Mapping[str, object]], max_row_chars: int) -> None:
    rows: list[_Row] = []
    # What every row's parse shares, worked out once for the tab.
    layout = tuple((c.key, mapped.columns[c.key]) for c in mapped.tab.columns if c.key in mapped.columns)
    teams = frozenset(team_names)
    for number, cells in mapped.body():
        row = _parse_submission(number, cells, layout, teams, now.year, tz, max_row_chars)
        if row is None:
            _own(mapped, result, number, cells, ident="", status="")  # blank row: clear stale marks
            continue
        rows.append(row)
    result.summary.rows = len(rows)

    _claim_ids(rows, known, unwritten)
    _find_unwritten(rows, known, unwritten)
    by_hash: dict[str, list[Known]] = {}
    claimed = {r.id for r in rows if r.id}
    for item in known.values():
        if item.id not in claimed:
            by_hash.setdefault(item.content_hash, []).append(item)

    # Earlier IDs win duplicates, then new rows in sheet order.
    order = sorted(rows, key=lambda r: (0, r.id) if r.id else (1, f"{r.number:09d}"))
    first_of: dict[tuple[str, str, str, str], str] = {}
    # New serials continue after every ID the ledger knows *and* every ID typed in
    # the sheet, so an adopted or left-standing ID can never be handed out twice.
    year = now.year
    sequence = max([last_sequence, *(int(m[2]) for r in rows
                                     if (m := SUBMISSION_ID.match(r.cell_id)) and int(m[1]) == year)])
    for row in order:
        if row.submission is None:
            row.state = "invalid"
        else:
            key = row.submission.duplicate_key()
            if key in first_of:
                row.state = "duplicate"
                row.problems.append(f"重复：与 {first_of[key]} 相同")
            elif not row.id:
                twins = by_hash.get(row.content_hash)
                if twins:
                    row.known = twins.pop(0)
                    row.id = row.known.id
                else:
                    sequence += 1
                    row.id = f"S-{year}-{sequence:06d}"
            if row.state == "valid":
                first_of[key] = row.id

    holders = {r.id for r in rows if r.id}
    for row in rows:
        cells = mapped.data.rows[row.number - 1]
        if not row.id:
            result.errors.append(RowError(mapped.tab.key, mapped.title, row.number, tuple(row.problems),
                                          row.fields.get("team", ""), _week(row, now),
                                          row.fields.get("submitter", "")))
            result.summary.flagged += 1
            # A copied ID belongs to the row that had it first; anything else in
            # 编号 of a row we cannot take in is left for the office to see.
            ident = "" if row.cell_id in holders else None
            _own(mapped, result, row.number, cells, ident=ident, status="；".join(row.problems))
            continue
        taken = _taken(row, now)
        result.taken.append(taken)
        if taken.state != "valid":
            result.summary.flagged += 1
            result.errors.append(RowError(mapped.tab.key, mapped.title, row.number, taken.problems,
                                          row.fields.get("team", ""), taken.week,
                                          row.fields.get("submitter", "")))
        else:
            result.summary.accepted += 1
        result.summary.new += taken.change in ("new", "adopted")
        result.summary.changed += taken.change == "changed"
        result.summary.restored += taken.change == "restored" or (row.known is not None and row.cell_id != row.id)
        _own(mapped, result, row.number, cells, ident=taken.id, status=_status(taken))
        if row.cell_id != taken.id:
            result.owed[taken.id] = {"key": list(_key(row.fields)), "row": row.number}

    seen = {t.id for t in result.taken}
    result.removed = sorted(k.id for k in known.values() if not k.removed and k.id not in seen)
    result.summary.removed = len(result.removed)


def _parse_submission(number: int, cells: list[object], layout: tuple[tuple[str, int], ...],
                      team_names: frozenset[str], year: int, tz: ZoneInfo, max_row_chars: int) -> _Row | None:
    # True == 1 as a cache key, but not as a cell: a row holding a boolean is parsed afresh.
    parse = parse_cells.__wrapped__ if any(type(c) is bool for c in cells) else parse_cells
    parsed = parse(tuple(cells), layout, team_names, year, tz, max_row_chars)
    if parsed is None:
        return None
    return _Row(number, parsed.cell_id, dict(parsed.fields), list(parsed.problems), parsed.submission,
                parsed.submitted_at, parsed.content_hash)


def _claim_ids(rows: list[_Row], known: dict[str, Known], unwritten: Mapping[str, Mapping[str, object]]) -> None:
    """Rows keep the ID in their 编号 cell; a copied ID stays with its first row.

    A well-formed ID the ledger does not know (a ledger restored from an old
    backup, say) is adopted as it stands, so the sheet's IDs never change.
    An ID the pipeline has not written yet was typed or pasted by a person:
    it counts only on a row that is its item (same content or key).
    """
    claimed: set[str] = set()
    for row in sorted(rows, key=lambda r: r.number):
        if not SUBMISSION_ID.match(row.cell_id) or row.cell_id in claimed:
            continue
        if row.submission is None and row.cell_id not in known:
            continue  # an invalid row never gets an ID it did not already have
        owed, item = unwritten.get(row.cell_id), known.get(row.cell_id)
        if owed is not None and item is not None and item.content_hash != row.content_hash \
                and list(_key(row.fields)) != list(owed.get("key") or ()):
            continue  # someone else's ID, typed before it reached its own row
        claimed.add(row.cell_id)
        row.id = row.cell_id
        row.known = item


def _find_unwritten(rows: list[_Row], known: dict[str, Known], unwritten: Mapping[str, Mapping[str, object]]) -> None:
    """Give each ID not yet written to the sheet back to its row, as the cell would have kept it.

    Three passes over the rows without an ID, each only for IDs still
    unclaimed: the same content first (over all rows, so an edited copy
    never takes an untouched row's ID), then the same key, then the row the
    ID was meant for. A row edited into an invalid one keeps its ID too,
    as it would with the ID in its cell.
    """
    open_ids = {ident for ident in unwritten
                if ident in known and not known[ident].removed and all(r.id != ident for r in rows)}
    if not open_ids:
        return
    tests = (lambda row, ident: known[ident].content_hash == row.content_hash,
             lambda row, ident: all(_key(row.fields)[i] for i in (0, 2, 3))
             and list(_key(row.fields)) == list(unwritten[ident].get("key") or ()),
             lambda row, ident: unwritten[ident].get("row") == row.number)
    for matches in tests:
        for row in sorted(rows, key=lambda r: r.number):
            if row.id or not open_ids:
                continue
            ident = next((i for i in sorted(open_ids) if matches(row, i)), None)
            if ident is not None:
                open_ids.discard(ident)
                row.id, row.known = ident, known[ident]


def _key(fields: Mapping[str, str]) -> tuple[str, str, str, str]:
    """The item a row describes, as ``Submission.duplicate_key`` names it, from the row's fields."""
    return (fields.get("team", ""), fields.get("case_number", ""), fields.get("kind", ""), fields.get("title", ""))


def _taken(row: _Row, now: datetime) -> Taken:
    item = row.known
    if item is None:
        change, version, received = ("adopted" if row.cell_id == row.id else "new"), 1, now
    else:
        received = item.received_at
        if item.content_hash != row.content_hash:
            change, version = "changed", item.version + 1
        else:
            # A live submission whose 编号 cell lost its ID (cleared, or never written while the workbook was
            # open) is unchanged in the ledger: only the cell is owed.
            change, version = ("restored" if item.removed else "same"), item.version
    week = Week.of(row.submitted_at or received).key
    return Taken(id=row.id, row=row.number, fields=row.fields, content_hash=row.content_hash,
                 state=row.state, problems=tuple(row.problems), change=change, version=version,
                 submission=row.submission if row.state == "valid" else None,
                 submitted_at=row.submitted_at, received_at=received, week=week)


def _status(taken: Taken) -> str:
    if taken.state != "valid":
        return "；".join(taken.problems)
    return ACCEPTED if taken.version == 1 else f"{ACCEPTED}（第{taken.version}版）"


def _week(row: _Row, now: datetime) -> str:
    return Week.of(row.submitted_at or now).key


def _own(mapped: MappedTab, result: IntakeResult, number: int, cells: list[object], *,
         ident: str | None = None, status: str) -> None:
    """Plan the owned cells of one row; only cells whose text differs are written."""
    wanted = {"status": status}
    if ident is not None and "id" in mapped.columns:
        wanted["id"] = ident
    for key, text in wanted.items():
        index = mapped.columns.get(key)
        if index is None:
            continue
        current = cells[index] if index < len(cells) else None
        if norm.text(current) != text:
            result.updates.append(CellUpdate(mapped.title, number, index + 1, text))


# --- 部门, 媒体, 活动, 审核 -----------------------------------------------------

def _rows_with_content(mapped: MappedTab, result: IntakeResult):
    """Yield (row number, cells) for rows with content; clear stale 状态 on blank rows."""
    keys = [c.key for c in mapped.tab.columns if not c.owned and c.key in mapped.columns]
    for number, cells in mapped.body():
        if any(norm.text(mapped.value(cells, k)) for k in keys):
            yield number, cells
        else:
            _own(mapped, result, number, cells, status="")


def _flag(mapped: MappedTab, result: IntakeResult, number: int, cells: list[object],
          problems: list[str], team: str = "") -> None:
    result.errors.append(RowError(mapped.tab.key, mapped.title, number, tuple(problems), team))
    _own(mapped, result, number, cells, status="；".join(problems))


def _take_teams(mapped: MappedTab, default_quota: int, result: IntakeResult) -> list[Team]:
    seen: set[str] = set()
    for number, cells in _rows_with_content(mapped, result):
        value = lambda key: mapped.value(cells, key)  # noqa: E731
        name, problems = norm.team_name(value("team")), []
        if not name:
            problems.append("缺少部门名称")
        elif name in seen:
            problems.append(f"部门重复：{name}")
        email = _check(problems, norm.email, value("email"))
        quota = _check(problems, norm.quota, value("quota"), default_quota)
        if name and name not in seen:
            # A team with a bad address still exists: its material must not be refused.
            seen.add(name)
            result.teams.append(Team(name, norm.text(value("leader")), email or "",
                                     default_quota if quota is None else quota, norm.text(value("outward"))))
        if problems:
            _flag(mapped, result, number, cells, problems, name)
        else:
            _own(mapped, result, number, cells, status="")
    return result.teams


def _take_media(mapped: MappedTab, result: IntakeResult) -> None:
    for number, cells in _rows_with_content(mapped, result):
        value = lambda key: mapped.value(cells, key)  # noqa: E731
        problems: list[str] = []
        outlet = norm.text(value("outlet"))
        if not outlet:
            problems.append("缺少媒体名称")
        email = _check(problems, norm.email, value("email"))
        kinds = _check(problems, norm.kind_list, value("kinds"))
        enabled = _check(problems, norm.yes_no, value("enabled"), label="启用")
        kind_of_outlet = _check(problems, norm.media_type, value("type"))
        level = _check(problems, norm.media_level, value("level"))
        column = " ".join(norm.text(value("column")).split()).strip("“”\"")
        cadence = _check(problems, norm.cadence, value("cadence"))
        if cadence and not column:
            problems.append(f"填写了专栏周期（{cadence}）但没有填写专栏名称")
        if problems:
            # A contact we cannot read exactly must not receive anything.
            _flag(mapped, result, number, cells, problems)
            continue
        result.media.append(MediaContact(outlet, norm.text(value("contact")), email, kinds, enabled,
                                         kind_of_outlet, level, column, (cadence or "每周") if column else ""))
        _own(mapped, result, number, cells, status="" if enabled else "已停用")


def _take_activities(mapped: MappedTab, tz: ZoneInfo, result: IntakeResult, team_names: set[str]) -> None:
    """The 活动 tab. A 负责部门 not on the 部门 tab flags the row but keeps the activity, without its team: a
    mistyped team must not cost a visit its place in the plan or its invitation (as a team's bad address
    does not cost it its material)."""
    for number, cells in _rows_with_content(mapped, result):
        value = lambda key: mapped.value(cells, key)  # noqa: E731
        problems: list[str] = []
        when = _check(problems, norm.day, value("date"), tz, label="日期")
        if when is None and not any(p.startswith("日期") for p in problems):
            problems.append("缺少日期")
        kind = _check(problems, norm.activity_kind, value("kind"))
        plan = _check(problems, norm.day, value("plan_date"), tz, label="方案报送日期")
        clock = _check(problems, norm.clock_time, value("time"))
        held = None
        if norm.text(value("held")):
            held = _check(problems, norm.yes_no, value("held"), label="已召开")
        if problems:
            _flag(mapped, result, number, cells, problems)
            continue
        team = norm.team_name(value("team"))
        activity = Activity(when, kind, norm.text(value("name")), plan, clock or "", norm.text(value("place")),
                            held, team if team in team_names else "")
        result.activities.append(activity)
        if team and team not in team_names:
            _flag(mapped, result, number, cells, [f"负责部门不在部门表中：{norm.text(value('team'))}"])
        else:
            _own(mapped, result, number, cells, status="")


def _take_figures(mapped: MappedTab, result: IntakeResult) -> None:
    """The 数据 tab: one enforcement figure per (月份, 指标), with its source, for the deputies' brief."""
    seen: dict[tuple[str, str], int] = {}
    for number, cells in _rows_with_content(mapped, result):
        value = lambda key: mapped.value(cells, key)  # noqa: E731
        problems: list[str] = []
        month = _check(problems, norm.month, value("month")) if norm.text(value("month")) else None
        if month is None and not problems:
            problems.append("缺少月份")
        metric = " ".join(norm.text(value("metric")).split())
        if not metric:
            problems.append("缺少指标")
        figure = _check(problems, norm.figure_value, value("value"))
        source = norm.text(value("source"))
        if not source:
            problems.append("缺少来源")
        if month and metric and (month, metric) in seen:
            problems.append(f"重复：与第 {seen[(month, metric)]} 行的{month}“{metric}”相同")
        if problems:
            _flag(mapped, result, number, cells, problems)
            continue
        seen[(month, metric)] = number
        result.figures.append(Figure(month, metric, figure, source))
        _own(mapped, result, number, cells, status="")


def _take_replies(mapped: MappedTab, invitations: Mapping[str, Invited], result: IntakeResult) -> None:
    """The 回执 tab: each deputy's answer to an invitation sent to them; a later row for the same deputy and
    invitation replaces an earlier one (they changed their mind), and the earlier row says so."""
    latest: dict[tuple[str, str], tuple[int, list[object], Reply]] = {}
    for number, cells in _rows_with_content(mapped, result):
        value = lambda key: mapped.value(cells, key)  # noqa: E731
        problems: list[str] = []
        ident, typed = norm.invitation_id(value("invitation_id")), norm.text(value("invitation_id"))
        recipient = ""
        if not ident:
            problems.append("缺少邀请编号")
        elif not INVITATION_ID.match(ident):
            problems.append(f"邀请编号格式有误：{typed}（如 I-2026-000003）")
        elif (known := invitations.get(ident)) is None:
            problems.append(f"没有编号为 {ident} 的邀请函")
        elif not known.sent:
            problems.append(f"邀请函 {ident} 尚未发给代表委员")
        deputy = " ".join(norm.text(value("deputy")).split())
        if not deputy:
            problems.append("缺少代表委员")
        elif ident and (known := invitations.get(ident)) is not None and known.sent:
            recipient = _deputy_address(deputy, known.recipients)
            if not recipient:
                names = "、".join(name or addr for name, addr in known.recipients) or "无"
                problems.append(f"邀请函 {ident} 没有发给“{deputy}”（收件人：{names}）")
        answer = _check(problems, norm.reply_answer, value("answer"))
        if problems:
            _flag(mapped, result, number, cells, problems)
            continue
        earlier = latest.get((ident, recipient))
        if earlier is not None:
            _own(mapped, result, earlier[0], earlier[1], status=f"已被第 {number} 行的回复取代")
        latest[(ident, recipient)] = (number, cells, Reply(ident, recipient, answer, norm.text(value("note"))))
    for number, cells, reply in latest.values():
        result.replies.append(reply)
        _own(mapped, result, number, cells, status="已登记")


def _deputy_address(deputy: str, recipients: tuple[tuple[str, str], ...]) -> str:
    """The address of the invited deputy a 回执 row names, by display name or by address; "" when none."""
    folded = norm.code(deputy).casefold()
    for name, addr in recipients:
        if folded in (norm.code(name).casefold(), addr.casefold()):
            return addr
    return ""


def _take_placements(mapped: MappedTab, context: PlacementContext, today: date, tz: ZoneInfo,
                     result: IntakeResult) -> None:
    """The 刊发 tab (四(六) 宣传成效): where each published release ran, as the office records it.

    A row names a published release (any version of its draft; the version published is recorded), an
    outlet (on the 媒体 tab or not: then the row may say its 类型 and 级别) and a day that has come, once.
    A piece in an outlet that runs a column (专栏) fills that column; when the outlet runs several, the
    row's 版面或链接 or 备注 must name the one it fills.
    """
    outlets: dict[str, list[str]] = {}         # outlet → [its name on the 媒体 tab, 类型, 级别], from its rows
    for contact in result.media:
        known = outlets.setdefault(norm.outlet_key(contact.outlet), [contact.outlet, "", ""])
        known[1], known[2] = known[1] or contact.type, known[2] or contact.level
    columns: dict[str, list[str]] = {}
    for column in media_columns(result.media):
        columns.setdefault(norm.outlet_key(column.outlet), []).append(column.name)
    own = own_outlets(context.court)
    seen: dict[tuple[str, str, date, str], int] = {}
    for number, cells in _rows_with_content(mapped, result):
        value = lambda key: mapped.value(cells, key)  # noqa: E731
        problems: list[str] = []
        typed = _placed_id(value("draft_id"))
        release = None
        if not typed:
            problems.append("缺少草稿编号")
        elif not RELEASE_ID.match(typed):
            problems.append(f"草稿编号格式有误：{norm.text(value('draft_id'))}（应为已发布稿件的编号，如 D-2026-000045）")
        elif typed not in context.releases:
            problems.append(f"草稿编号 {typed} 不存在")
        elif not context.releases[typed].id:
            problems.append(f"稿件 {typed} 尚未发布（{context.releases[typed].state}），发布后再登记刊发")
        else:
            release = context.releases[typed]
        name = " ".join(norm.text(value("outlet")).split())
        if not name:
            problems.append("缺少媒体")
        elif (channel := own.get(norm.outlet_key(name))) is not None:
            problems.append(f"{name}是本院自有媒体，不用在“刊发”页登记：在“审核”页填“已发{channel}”（或运行 posted）"
                            "后自动计入刊发统计")
        when = _check(problems, norm.day, value("date"), tz, label="日期")
        if when is None and not any(p.startswith("日期") for p in problems):
            problems.append("缺少日期")
        elif when is not None and when > today:
            problems.append(f"日期 {when.month}月{when.day}日 还没到：刊发或播出后再登记")
        elif when is not None and release is not None:
            version, published = release.ran(when)
            if published and when < published:
                problems.append(f"日期 {when.month}月{when.day}日 早于稿件发布的日期"
                                f"（{published.month}月{published.day}日）")
            release = Release(version, published, release.state, release.versions)
        kind_of_outlet = _check(problems, norm.media_type, value("type"))
        level = _check(problems, norm.media_level, value("level"))
        slot, note = norm.text(value("slot")), norm.text(value("note"))
        key = (release.id if release else "", norm.outlet_key(name), when, norm.outlet_key(slot))
        if not problems and key in seen:
            problems.append(f"重复：与第 {seen[key]} 行相同")
        if problems:
            _flag(mapped, result, number, cells, problems)
            continue
        seen[key] = number
        outlet, its_type, its_level = outlets.get(norm.outlet_key(name), (name, "", ""))
        offered = columns.get(norm.outlet_key(name), [])
        named = [c for c in offered if norm.outlet_key(c) in norm.outlet_key(slot + note)]
        column = named[0] if named else offered[0] if len(offered) == 1 else ""
        status = f"已登记，计入“{column}”专栏" if column else "已登记"
        if len(offered) > 1 and not column:
            status += (f"；{outlet}有多个专栏（{'、'.join(offered)}），"
                       "请在“版面或链接”或“备注”中写明专栏名称，否则不计入专栏")
        result.placements.append(Placement(release.id, outlet, when, slot, note, kind_of_outlet or its_type,
                                           level or its_level, column))
        _own(mapped, result, number, cells, status=status)


def _take_reviews(mapped: MappedTab, context: ReviewContext, result: IntakeResult) -> None:
    for number, cells in _rows_with_content(mapped, result):
        value = lambda key: mapped.value(cells, key)  # noqa: E731
        problems: list[str] = []
        draft_id = norm.draft_id(value("draft_id"))
        if not draft_id:
            problems.append("缺少草稿编号")
        elif not DRAFT_ID.match(draft_id):
            problems.append(f"草稿编号格式有误：{norm.text(value('draft_id'))}（如 D-2026-000045，邀请函如 I-2026-000003）")
        decision = _check(problems, norm.decision, value("decision"))
        reviewer = norm.team_name(value("reviewer"))
        if not reviewer:
            problems.append("缺少审核人")
        if problems:
            _flag(mapped, result, number, cells, problems)
            continue
        result.reviews.append((number, Review(draft_id, decision, reviewer, norm.text(value("comment")),
                                              norm.text(value("code")))))
    rows = {number: cells for number, cells in mapped.body()}
    for verdict in judge(result.reviews, context.items, set(context.reviewers), set(context.seen), context.ready,
                         context.codes):
        if verdict.apply:
            result.decisions.append(verdict.review)
        elif verdict.status.startswith("无效"):
            result.errors.append(RowError(mapped.tab.key, mapped.title, verdict.row, (verdict.status,)))
        _own(mapped, result, verdict.row, rows[verdict.row], status=verdict.status)


def _check(problems: list[str], parse, *args, **kwargs):
    """Run one normaliser; on failure note its message and return None."""
    try:
        return parse(*args, **kwargs)
    except norm.Invalid as exc:
        problems.append(str(exc))
        return None
