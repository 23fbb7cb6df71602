"""A cycle costs what changed, not what happened before: a ledger holding five years of a court's history.

The history (bench/history.py, shared with bench row f): five thousand
submissions taken in by one pull of an in-memory sheet, then drafted, decided,
published to twenty outlets, mailed, run and audited for five years, written
straight into the ledger. On it:

- a cycle with nothing new changes nothing, and no statement it (or the
  digest) runs reads a table of history whole, except the few reads the pull
  makes by contract (``WHOLE_READS``);
- every question whose statement changed answers what the statement before
  it answered (kept here word for word), and what a plain reading of the rows says.

No time is asserted anywhere: the shared machine is noisy, and bench row f measures it.
"""

from __future__ import annotations

import copy
import re
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import NOW, PROJECT, Workspace, material, roll_back_ledger, run_job

sys.path.insert(0, str(PROJECT / "bench"))
import history  # noqa: E402  (bench/history.py)
import workload  # noqa: E402  (bench/workload.py)

from pipeline.core.calendar import Month, Week  # noqa: E402
from pipeline.core.layout import REVIEWS as REVIEW_TAB  # noqa: E402
from pipeline.core.layout import SUBMISSIONS as SUBMISSION_TAB  # noqa: E402
from pipeline.flows import decisions, invitations, publishing, pulling, week  # noqa: E402
from pipeline.flows.context import Context  # noqa: E402
from pipeline.intake.tabs import ReviewContext, review_ids, take_in  # noqa: E402
from pipeline.ledger import Ledger  # noqa: E402
from pipeline.ledger.schema import MIGRATIONS  # noqa: E402
from pipeline.plan.review import ReviewCodes, effective_state  # noqa: E402

AT = datetime.fromisoformat(NOW)
SUBMISSIONS = 5_000

# Tables that grow with every year; a statement of a cycle may read them only through an index.
HISTORY = {"submissions", "submission_versions", "drafts", "deliveries", "delivery_bodies", "delivery_parts",
           "message_bodies", "messages",
           "message_attachments", "audit", "decisions", "job_runs", "channel_versions", "reviews", "invitations",
           "briefs"}
# What the pull reads whole by contract: every submission, to compare the sheet's rows with (the sheet holds
# them all), and every reviewed item, every review row seen and every channel version, to judge the 审核 tab
# (the flows ask for all of them: decisions.states, ledger.seen_reviews, decisions.ready).
WHOLE_READS = (
    "SELECT id, content_hash, version, removed_at, received_at FROM submissions",
    "SELECT id, state, CASE WHEN state = 'pending' THEN review END AS review, LAST_VALUE(id) OVER",
    "SELECT draft_id, decision, reviewer, comment FROM reviews",
    "SELECT c.*, d.headline, d.kind, d.published_at FROM channel_versions c JOIN drafts d ON d.id = c.draft_id  ORDER",
    "SELECT * FROM invitations  ORDER BY year, serial",
)
# Partial indexes hold only the rows a cycle looks for (submissions not drafted yet): reading one whole is fine.
PARTIAL = ("submissions_undrafted",)


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory):
    """Settings and the in-memory sheet of a ledger with five years of history, after one settling cycle."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_NOW", NOW)
        root = tmp_path_factory.mktemp("history")
        settings = workload.workspace(root / "court")
        template = workload.write(root / "template.xlsx", [])
        source = history.MemorySource(history.grids(template, history.submission_rows(SUBMISSIONS)))
        first = run_job(settings, pulling.pull, source=source)
        assert first.new > 0.95 * SUBMISSIONS
        written = history.fill(settings)
        assert written["drafts"] > SUBMISSIONS * 0.9 and written["deliveries"] > SUBMISSIONS * 15
        cycle(settings, source)          # settles the 状态 of edited rows, this week's proposals, invitations
        yield settings, source


def cycle(settings, source) -> list:
    """The scheduler's cycle (scheduler.cycle), its pull reading ``source``."""
    return [run_job(settings, pulling.pull, source=source), run_job(settings, publishing.draft),
            run_job(settings, invitations.draft_invitations), run_job(settings, publishing.publish),
            run_job(settings, invitations.send_invitations)]


def assert_no_whole_reads(settings, statements: list[str], *, allowed: tuple[str, ...]) -> None:
    """No statement but the ``allowed`` ones reads a table of history whole (SQLite's own query plan says)."""
    scans = {}
    with sqlite3.connect(settings.ledger.path) as db:
        for sql in dict.fromkeys(statements):
            if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT|WITH)", sql, re.IGNORECASE) or sql.startswith(allowed):
                continue
            plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
            whole = [step for step in plan if step.startswith("SCAN ") and not any(p in step for p in PARTIAL)
                     and _table(step, sql) in HISTORY]
            if whole:
                scans[sql[:160]] = whole
    assert scans == {}, "statements that read a table of history whole:\n" + "\n".join(
        f"{sql}\n    {steps}" for sql, steps in scans.items())


@contextmanager
def traced_statements() -> Iterator[list[str]]:
    """Every SQL statement the connections opened inside the block run, in order."""
    statements: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        connect = sqlite3.connect

        def traced(*args, **kwargs):
            db = connect(*args, **kwargs)
            db.set_trace_callback(statements.append)
            return db

        patch.setattr(sqlite3, "connect", traced)
        yield statements


def test_a_cycle_with_nothing_new_changes_nothing_and_reads_no_history_whole(lived) -> None:
    settings, source = lived
    before = history.counts(settings)
    with traced_statements() as statements:
        pulled, drafted, invited, published, sent = cycle(settings, source)
    after = history.counts(settings)
    with traced_statements() as digested:
        run_job(settings, week.digest, force=True)            # and a digest, as the day's would be
    statements += digested

    assert (pulled.new, pulled.changed, pulled.removed, pulled.cells_written) == (0, 0, 0, 0)
    assert drafted.drafted == [] and drafted.withdrawn == [] and published.published == []
    assert invited.drafted == [] and sent.sent == []
    assert after == before
    assert_no_whole_reads(settings, statements, allowed=WHOLE_READS)
    assert any(sql.startswith(WHOLE_READS[0]) for sql in statements)      # the list above names real statements


def test_a_pull_asks_the_ledger_about_the_items_its_review_tab_names_and_judges_them_as_before(
        lived) -> None:
    """The 审核 tab is judged on the items its rows name, read through their keys: the same verdicts as
    every draft's, invitation's, review row's and channel version's standing would give."""
    settings, source = lived
    with Ledger.of(settings.ledger) as ledger:
        published = ledger.db.execute("SELECT draft_id FROM channel_versions WHERE channel = 'wechat' "
                                      "ORDER BY draft_id LIMIT 2").fetchall()
        superseded = ledger.db.execute("SELECT id FROM drafts WHERE state = 'superseded' LIMIT 1").fetchone()
        seen = ledger.db.execute("SELECT draft_id, decision, reviewer FROM reviews LIMIT 1").fetchone()
        invitation = ledger.db.execute("SELECT id FROM invitations ORDER BY id LIMIT 1").fetchone()
        codes = ReviewCodes(ledger.review_secret())
    named = [(published[0][0], "已发微信"), (published[1][0], "通过"), (superseded[0], "退回"),
             (invitation[0] if invitation else "I-2026-000001", "通过"), ("D-2026-999999", "通过")]
    rows = [{"draft_id": ident, "decision": decision, "reviewer": "符贤", "code": codes.get(ident)}
            for ident, decision in named]
    if seen is not None:
        rows.append({"draft_id": seen[0], "decision": seen[1], "reviewer": seen[2], "code": codes.get(seen[0])})
    sheet = copy.deepcopy(source.sheet)
    grid = sheet.tabs[REVIEW_TAB.name].rows
    grid[1:] = [[row.get(c.key) for c in REVIEW_TAB.columns] + [None] * (len(grid[0]) - len(REVIEW_TAB.columns))
                for row in rows]

    with traced_statements() as statements, Context.open(settings) as ctx:
        pulling.pull(ctx, dry_run=True, source=history.MemorySource(sheet))
    assert_no_whole_reads(settings, statements, allowed=WHOLE_READS[:1])  # the sheet's rows vs every submission

    with Context.open(settings) as ctx:
        ledger, at = ctx.ledger, ctx.at
        every = ReviewContext(items=decisions.states(ledger, at), reviewers=frozenset(settings.review.reviewers),
                              seen=frozenset(ledger.seen_reviews()), ready=decisions.ready(ledger), codes=codes)
        ids = review_ids(sheet)
        asked = ReviewContext(items=decisions.states(ledger, at, ids), reviewers=every.reviewers,
                              seen=frozenset(ledger.seen_reviews(ids)), ready=decisions.ready(ledger, ids),
                              codes=codes)
        judged = [take_in(copy.deepcopy(sheet), ledger.fetch_known(), now=at, tz=settings.timezone,
                          default_quota=settings.intake.default_quota, last_sequence=ledger.last_serial(at.year),
                          reviews=context) for context in (every, asked)]
    assert ids == {r["draft_id"] for r in rows}
    verdicts = [sorted((u.row, u.value) for u in result.updates if u.tab == REVIEW_TAB.name) for result in judged]
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) == len(rows)
    assert judged[0].decisions == judged[1].decisions and judged[0].errors == judged[1].errors
    assert len({value for _, value in verdicts[0]}) >= 3           # the rows were judged in different ways


def _table(step: str, sql: str) -> str:
    """The table a plan's ``SCAN x`` reads (``x`` may be an alias of the statement)."""
    name = step.split()[1]
    aliased = re.search(rf"\b(\w+)\s+(?:AS\s+)?{re.escape(name)}\b", sql)
    return name if name in HISTORY or not aliased else aliased.group(1)


# --- every changed question answers as before ----------------------------------------------------

OLD_DRAFT_STATES = (
    "SELECT base, id FROM drafts d WHERE version = (SELECT MAX(version) FROM drafts e WHERE e.base = d.base)")
OLD_DRAFTABLE = (
    "SELECT s.*, v.data FROM submissions s JOIN submission_versions v "
    "ON v.submission_id = s.id AND v.version = s.version "
    "WHERE s.removed_at IS NULL AND s.state = 'valid' AND s.publishable = 1 AND NOT EXISTS "
    "(SELECT 1 FROM drafts d WHERE d.submission_id = s.id AND d.submission_version = s.version) "
    "ORDER BY s.year, s.serial")
OLD_PUBLISHED_KINDS = (
    "SELECT DISTINCT m.key, m.topic FROM messages m JOIN deliveries d USING (key) "
    "WHERE m.purpose = 'release' AND d.state = 'sent' AND d.sent_at >= ? AND d.sent_at < ?")
OLD_RELEASES_SENT = (
    "SELECT d.id, d.kind, d.headline, s.team, MIN(x.sent_at) AS first_sent, COUNT(*) AS outlets "
    "FROM deliveries x JOIN drafts d ON x.key = 'release/' || d.id "
    "JOIN submissions s ON s.id = d.submission_id "
    "WHERE x.key LIKE 'release/%' AND x.state = 'sent' AND x.sent_at >= ? AND x.sent_at < ? "
    "GROUP BY d.id ORDER BY first_sent, d.id")


def test_draft_states_are_what_the_correlated_query_said(lived) -> None:
    settings, _ = lived
    with Ledger.of(settings.ledger) as ledger:
        newest = dict(ledger.db.execute(OLD_DRAFT_STATES).fetchall())
        rows = ledger.db.execute("SELECT * FROM drafts").fetchall()
        expected = {r["id"]: (effective_state(r), newest[r["base"]]) for r in rows}
        assert ledger.draft_states() == expected
        assert len(expected) == len(rows) > 0.9 * SUBMISSIONS
        versions = [r for r in rows if r["version"] > 1]
        assert versions and all(expected[r["base"]][1] == r["id"] for r in versions)
        assert {state for state, _ in expected.values()} >= {"published", "rejected", "superseded", "pending"}


def test_what_is_left_to_draft_is_what_not_exists_said_however_the_rows_move(lived) -> None:
    settings, _ = lived
    with Ledger.of(settings.ledger) as ledger:
        db = ledger.db
        db.execute("SAVEPOINT moving")
        try:
            assert ledger.draftable_submissions() == db.execute(OLD_DRAFTABLE).fetchall() == []
            ids = [r[0] for r in db.execute("SELECT id FROM submissions WHERE state = 'valid' AND publishable = 1 "
                                            "ORDER BY year, serial")]
            edited, removed, withheld = ids[10:40:3], ids[41:45], ids[46:48]
            for ident in edited:             # a new version of the row: to be drafted again
                db.execute("UPDATE submissions SET version = version + 1 WHERE id = ?", (ident,))
                db.execute("INSERT INTO submission_versions SELECT submission_id, version + 1, content_hash, state, "
                           "problems, data, recorded_at FROM submission_versions WHERE submission_id = ? "
                           "ORDER BY version DESC LIMIT 1", (ident,))
            db.executemany("UPDATE submissions SET removed_at = ?, version = version + 1 WHERE id = ?",
                           [(AT.isoformat(), i) for i in removed])
            db.executemany("UPDATE submissions SET publishable = 0, version = version + 1 WHERE id = ?",
                           [(i,) for i in withheld])
            new = [r["id"] for r in ledger.draftable_submissions()]
            assert new == [r["id"] for r in db.execute(OLD_DRAFTABLE)] == edited
            first = ledger.draftable_submissions()[0]
            ledger.save_draft(draft_id="D-2026-999999", base="D-2026-999999", version=1,
                              submission_id=first["id"], submission_version=first["version"], kind=first["kind"],
                              headline="标题", text="标题\n正文", html="<p>正文</p>", content_hash="x", masked=[],
                              proposed=False, at=AT)
            assert [r["id"] for r in ledger.draftable_submissions()] == edited[1:]
            assert [r["id"] for r in db.execute(OLD_DRAFTABLE)] == edited[1:]
        finally:
            db.execute("ROLLBACK TO moving")
            db.execute("RELEASE moving")


def test_the_windows_of_sent_releases_are_what_the_rows_say(lived) -> None:
    settings, _ = lived
    tz = AT.tzinfo
    with Ledger.of(settings.ledger) as ledger:
        db = ledger.db
        sent = [dict(r) for r in db.execute("SELECT d.key, d.state, d.sent_at, d.name, d.recipient, m.purpose, m.topic "
                                            "FROM deliveries d JOIN messages m USING (key) WHERE d.state = 'sent'")]
        weeks = [Week.of(AT - timedelta(weeks=n)) for n in range(0, 5 * 52, 23)]
        checked = 0
        for week in weeks:
            start, end = week.bounds(tz)
            window = [d for d in sent if d["state"] == "sent" and start.isoformat() <= d["sent_at"] < end.isoformat()]
            kinds = Counter(ledger.published_kinds(start, end))
            assert kinds == Counter(r["topic"] for r in db.execute(OLD_PUBLISHED_KINDS,
                                                                    (start.isoformat(), end.isoformat())))
            assert kinds == Counter({d["key"]: d["topic"] for d in window if d["purpose"] == "release"}.values())
            releases = {d["key"] for d in window if d["key"].startswith("release/")}
            assert ledger.releases_published_between(start, end) == len(releases)
            checked += len(releases)
        assert checked > 50
        for month in (Month.of(AT).previous, Month.parse("2024-02"), Month.parse("2022-12")):
            start, end = month.bounds(tz)
            rows = [tuple(r) for r in ledger.releases_sent_between(start, end)]
            assert rows and rows == [tuple(r) for r in db.execute(OLD_RELEASES_SENT,
                                                                  (start.isoformat(), end.isoformat()))]
            outlets = Counter(d["name"] or d["recipient"] for d in sent if d["state"] == "sent"
                              and d["key"].startswith("release/") and start.isoformat() <= d["sent_at"] < end.isoformat())
            assert ledger.releases_per_outlet(start, end) == sorted(outlets.items(), key=lambda o: (-o[1], o[0]))


def test_the_digests_questions_are_what_the_rows_say(lived) -> None:
    settings, _ = lived
    with Ledger.of(settings.ledger) as ledger:
        db = ledger.db
        every = db.execute("SELECT d.*, m.purpose, m.what, m.item FROM deliveries d JOIN messages m USING (key) "
                           "ORDER BY d.rowid").fetchall()
        for prefix in ("network/", "release/", "release/D-2024-00010", "NETWORK/", "digest/2025-", ""):
            assert [tuple(r) for r in ledger.deliveries(prefix)] == \
                [tuple(r) for r in every if r["key"].lower().startswith(prefix.lower())]
        versions = db.execute("SELECT v.submission_id, v.version, v.recorded_at FROM submission_versions v").fetchall()
        for since in (AT - timedelta(days=1), AT - timedelta(days=400), datetime(2023, 6, 1, tzinfo=AT.tzinfo)):
            got = [(r["submission_id"], r["version"]) for r in ledger.versions_since(since)]
            assert got == [(v[0], v[1]) for v in sorted(
                (v for v in versions if v["recorded_at"] > since.isoformat()), key=lambda v: (v[2], v[0]))]
        digests = db.execute("SELECT * FROM messages WHERE purpose = 'digest'").fetchall()
        assert dict(ledger.last_message("digest")) == dict(max(digests, key=lambda m: m["created_at"]))
        pulls = db.execute("SELECT * FROM audit WHERE job = 'pull' AND action = 'done'").fetchall()
        assert dict(ledger.last_audit("pull", "done")) == dict(max(pulls, key=lambda a: a["id"]))
        runs = db.execute("SELECT * FROM job_runs").fetchall()
        since = AT - timedelta(days=200)
        assert [r["id"] for r in ledger.failed_runs(since)] == sorted(
            r["id"] for r in runs if r["outcome"] in ("failed", "timeout", "interrupted")
            and r["started_at"] > since.isoformat())
        subs = db.execute("SELECT * FROM submissions WHERE state = 'valid' AND removed_at IS NULL").fetchall()
        start, end = Month.parse("2024-05").bounds(AT.tzinfo)
        expected = Counter((s["team"], s["kind"], s["week"]) for s in subs
                           if start.isoformat() <= (s["submitted_at"] or s["received_at"]) < end.isoformat())
        assert expected and ledger.valid_items_between(start, end) == dict(expected)


# --- an existing ledger is brought forward ----------------------------------------------------

def as_fifth_release(path: Path) -> None:
    """Turn a ledger back into what the fifth schema held: what the sixth and later added gone."""
    roll_back_ledger(path, 5)


def test_a_ledger_of_the_fifth_schema_learns_which_versions_were_drafted(workspace: Workspace) -> None:
    workspace.make_workbook([material(), material(title="另一案 被执行人主动履行", case_number="（2026）琼9003执1300号"),
                             material(title="第三案 被执行人主动履行", case_number="（2026）琼9003执1301号")])
    run_job(workspace.settings, pulling.pull)
    drafted = run_job(workspace.settings, publishing.draft).drafted
    assert len(drafted) == 3
    workspace.edit(SUBMISSION_TAB, 2, outcome="当场履行28万元，案件执行完毕。申请执行人表示感谢。")
    run_job(workspace.settings, pulling.pull)
    as_fifth_release(workspace.ledger)
    with sqlite3.connect(workspace.ledger) as db:
        assert [r[0] for r in db.execute("PRAGMA user_version")] == [5]
        old = [r[0] for r in db.execute(OLD_DRAFTABLE)]
    assert len(old) == 1

    with Ledger(workspace.ledger) as ledger:
        assert ledger.schema_version == len(MIGRATIONS)
        assert [r["id"] for r in ledger.draftable_submissions()] == old
        marks = {r["id"]: (r["drafted"], r["version"]) for r in ledger.db.execute("SELECT * FROM submissions")}
        assert sorted(marks.values()) == [(1, 1), (1, 1), (1, 2)]
    again = run_job(workspace.settings, publishing.draft).drafted
    assert again == [f"{drafted[0]}-v2"]
    with Ledger(workspace.ledger) as ledger:
        assert ledger.draftable_submissions() == []
        assert sorted(r["drafted"] for r in ledger.db.execute("SELECT drafted FROM submissions")) == [1, 1, 2]
