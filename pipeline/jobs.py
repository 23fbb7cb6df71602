"""The jobs: each reads the sheet or the ledger, writes the ledger, and is idempotent.

``pull`` takes the sheet in; ``status`` reports the week. Both are small
compositions of fetch → pure stage → save, in the style of the CLI above them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from . import clock
from .config import Settings
from .errors import PipelineError
from .headers import wanted_title
from .intake import take_in
from .ledger import Ledger, TeamWeek
from .model import PullSummary
from .normalize import iso_week
from .sources import SheetSource, open_source

log = logging.getLogger(__name__)


def pull(settings: Settings, *, dry_run: bool = False, source: SheetSource | None = None) -> PullSummary:
    """Read the sheet, validate, assign IDs, record, and write 编号/状态 back.

    The ledger changes and the write-back succeed or fail together: if the
    workbook cannot be written (open in an office suite, changed since the
    read), the ledger transaction is rolled back and the next cycle retries
    from scratch, so nothing is half-done and nothing is lost.
    """
    at = clock.now(settings.timezone)
    source = source or open_source(settings)
    with Ledger(settings.ledger.path) as ledger:
        try:
            sheet = source.fetch(wanted_title)
            result = take_in(sheet, ledger.fetch_known(), now=at, tz=settings.timezone,
                             default_quota=settings.intake.default_quota,
                             last_sequence=ledger.last_serial(at.year))
        except PipelineError as exc:
            if not dry_run:
                ledger.audit(at, "pull", "failed", source.describe(), error=str(exc))
            raise
        summary = result.summary
        summary.warnings.extend(sheet.warnings)
        if dry_run:
            return summary
        try:
            with ledger.transaction():
                for taken in result.taken:
                    if taken.change != "same":
                        ledger.save_submission(taken, at)
                        ledger.audit(at, "pull", taken.change, taken.id, row=taken.row,
                                     version=taken.version, state=taken.state)
                ledger.mark_removed(result.removed, at)
                for submission_id in result.removed:
                    ledger.audit(at, "pull", "removed", submission_id)
                changed = ledger.save_reference(result.teams, result.media, result.activities)
                for name in changed:
                    ledger.audit(at, "pull", "reference-updated", name)
                ledger.save_reviews(result.reviews, at)
                ledger.save_row_errors(result.errors, at)
                source.save(sheet, result.updates)
                ledger.audit(at, "pull", "done", source.describe(), rows=summary.rows,
                             accepted=summary.accepted, flagged=summary.flagged, new=summary.new,
                             changed=summary.changed, removed=summary.removed,
                             cells_written=summary.cells_written)
        except PipelineError as exc:
            ledger.audit(at, "pull", "failed", source.describe(), error=str(exc))
            raise
    return summary


@dataclass
class WeekStatus:
    """What ``status`` shows: this ISO week per team and the latest row errors."""

    week: str
    monday: date
    teams: list[TeamWeek]
    errors: list[dict[str, object]]
    error_count: int
    last_pull: dict[str, object] | None
    generated_at: datetime
    notes: list[str] = field(default_factory=list)


def status(settings: Settings, *, error_limit: int = 20) -> WeekStatus:
    """This ISO week (in the configured zone) per team, and the latest row errors."""
    at = clock.now(settings.timezone)
    week = iso_week(at)
    monday = at.date() - timedelta(days=at.weekday())
    with Ledger(settings.ledger.path) as ledger:
        errors = [dict(r) for r in ledger.row_errors()]
        last = next((dict(r) for r in ledger.audit_log(200) if r["job"] == "pull"
                     and r["action"] in ("done", "failed")), None)
        teams = ledger.team_weeks(week)
    return WeekStatus(week=week, monday=monday, teams=teams, errors=errors[:error_limit],
                      error_count=len(errors), last_pull=last, generated_at=at)
