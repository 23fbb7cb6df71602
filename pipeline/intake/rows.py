"""One 素材 row: its cells → normalised fields, problems and content hash (pure, memoised).

What a row says is decided here and nowhere else: which cells count as content,
the team, kind, case number, time and 可公开 as the normalisers read them, what
is missing, and the hash that tells a changed row from an unchanged one.
Whether the row is new, edited, a duplicate or removed is ``intake``'s concern.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..core import normalize as norm
from ..core.layout import SUBMISSIONS
from ..core.model import Submission

_OWNED = frozenset(c.key for c in SUBMISSIONS.columns if c.owned)     # 编号 and 状态: not content
# The most characters a cell holds: Excel's own limit (WPS and LibreOffice keep to it too).
MAX_CELL_CHARS = 32_767
# The most characters one row may hold in all its cells ([sheet] max_row_chars; this is its default).
MAX_ROW_CHARS = 20_000
# What the ledger keeps of each cell of a row refused for its size: enough to recognise it, no more.
KEPT_OF_REFUSED = 200
# The longest problem text: one that quotes a cell quotes only its start.
MAX_PROBLEM_CHARS = 300
# The structured columns added after the first release. Every row's fields carry
# them ("" when blank or when the sheet has no such column), but a blank one is
# left out of the content hash: a sheet without them, or one that gains them
# empty, hashes as before, so no row becomes a new version by the upgrade alone.
STRUCTURED = ("listing", "closure", "amount", "handling_team", "inability", "note")
_CHOICES = (("listing", norm.listing), ("closure", norm.closure), ("amount", norm.amount),
            ("inability", norm.inability))


@dataclass(frozen=True)
class Parsed:
    cell_id: str
    fields: dict[str, str]          # never changed after parsing: callers copy it
    problems: tuple[str, ...]
    submission: Submission | None
    submitted_at: datetime | None
    content_hash: str


# A row's parse depends only on its cells and these few facts, so the long-running
# scheduler, which pulls the same sheet every cycle, parses only the rows that changed.
# (``True == 1`` as a key but not as a cell: callers parse a row holding a boolean
# with ``parse_cells.__wrapped__``.)
@functools.lru_cache(maxsize=1 << 15)
def parse_cells(cells: tuple[object, ...], layout: tuple[tuple[str, int], ...], team_names: frozenset[str],
                 year: int, tz: ZoneInfo, max_row_chars: int = MAX_ROW_CHARS) -> Parsed | None:
    columns = dict(layout)

    def value(key: str) -> object:
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    content_keys = [key for key, _ in layout if key not in _OWNED]
    fields = {k: norm.text(value(k)) for k in content_keys}
    if not any(fields.values()):
        return None
    problems: list[str] = []
    for key, text in fields.items():
        if len(text) > MAX_CELL_CHARS:
            # Excel itself stops a cell here: anything longer was made by a program, not typed.
            problems.append(f"{SUBMISSIONS.column(key).name}超过 {MAX_CELL_CHARS} 字（{len(text)} 字），请删减")
    total = sum(map(len, fields.values()))
    if total > max_row_chars:
        problems.append(f"本行超过 {max_row_chars} 字（{total} 字），请删减或分成几条报送")
    # A row refused for its size keeps only the start of each cell (a crafted row must not fill the ledger,
    # nor the memory of the jobs that read it back); its hash is still taken from the row as typed below.
    refused = bool(problems)

    team = norm.team_name(value("team"))
    if not team:
        problems.append("缺少部门")
    elif team not in team_names:
        problems.append(f"部门不在部门表中：{fields['team']}")
    fields["team"] = team

    kind = ""
    try:
        kind = norm.kind(value("kind"))
        fields["kind"] = kind
    except norm.Invalid as exc:
        problems.append(str(exc))
    for key, label in (("title", "标题"), ("facts", "案情"), ("process", "执行过程")):
        if not fields.get(key):
            problems.append(f"缺少{label}")
    try:
        fields["case_number"] = norm.case_number(value("case_number"), latest_year=year + 1)
    except norm.Invalid as exc:
        problems.append(str(exc))
    submitted_at = None
    try:
        submitted_at = norm.moment(value("submitted_at"), tz, label="提交时间")
        fields["submitted_at"] = submitted_at.isoformat() if submitted_at else ""
    except norm.Invalid as exc:
        problems.append(str(exc))
    publishable = True
    try:
        publishable = norm.yes_no(value("publishable"), label="可公开")
        fields["publishable"] = "是" if publishable else "否"
    except norm.Invalid as exc:
        problems.append(str(exc))
    for key, parse in _CHOICES:
        try:
            fields[key] = parse(value(key))
        except norm.Invalid as exc:
            problems.append(str(exc))           # the field keeps what was typed
    handling = norm.team_name(value("handling_team"))
    if handling and handling not in team_names:
        problems.append(f"承办部门不在部门表中：{fields['handling_team']}")
    fields["handling_team"] = handling
    fields.setdefault("note", "")

    hashed = {k: v for k, v in fields.items() if v or k not in STRUCTURED}
    digest = hashlib.sha256(json.dumps(hashed, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    if refused:
        fields = {k: v[:KEPT_OF_REFUSED] for k, v in fields.items()}
    problems = [p if len(p) <= MAX_PROBLEM_CHARS else p[:MAX_PROBLEM_CHARS - 1] + "…" for p in problems]
    submission = None
    if not problems:
        submission = Submission(team=team, submitter=fields.get("submitter", ""), kind=kind,
                                case_number=fields.get("case_number", ""), title=fields["title"],
                                facts=fields["facts"], process=fields["process"],
                                outcome=fields.get("outcome", ""), parties=fields.get("parties", ""),
                                publishable=publishable, submitted_at=submitted_at)
    cell_id = norm.code(value("id")).upper()
    return Parsed(cell_id, fields, tuple(problems), submission, submitted_at, digest)
