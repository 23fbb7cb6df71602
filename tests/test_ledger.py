"""The ledger across releases: an older ledger is brought forward in place, a newer one is refused."""

from __future__ import annotations

import random
import sqlite3

import pytest
from conftest import Workspace, before_shared_bodies, material, run_job

from pipeline.core.errors import LedgerError
from pipeline.flows import decisions, publishing, pulling, week
from pipeline.ledger import Ledger
from pipeline.ledger.schema import MIGRATIONS

MEDIA = [{"outlet": "《法制时报》", "contact": "张编辑", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是"}]


def as_first_release(path) -> None:
    """Turn a ledger back into what the first release (schema 1) wrote: the later tables and columns gone."""
    with sqlite3.connect(path) as db:
        before_shared_bodies(db)                                   # 8
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                     "AND name LIKE '%\\_generation\\_%' ESCAPE '\\'").fetchall():
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP TABLE generation")
        for index in ("drafts_base", "drafts_serial", "decisions_draft", "submissions_serial", "submissions_made",
                      "submission_versions_recorded", "deliveries_state", "deliveries_sent", "deliveries_key",
                      "messages_latest", "audit_action", "job_runs_outcome", "invitations_state",
                      "invitations_previous", "channel_versions_unposted", "channel_versions_ready",
                      "channel_versions_posted", "submissions_undrafted"):
            db.execute(f"DROP INDEX {index}")
        db.execute("DROP TRIGGER drafts_mark_submission")
        db.execute("ALTER TABLE submissions DROP COLUMN drafted")
        db.execute("CREATE INDEX deliveries_state ON deliveries (state)")
        for table in ("channel_versions", "briefs", "invitations"):
            db.execute(f"DROP TABLE {table}")
        db.execute("DROP INDEX messages_item")
        for table, column in (("drafts", "release_date"), ("drafts", "review"), ("teams", "outward"),
                              ("deliveries", "claimed_by"), ("messages", "what"), ("messages", "item"),
                              ("messages", "variant")):
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        db.execute("PRAGMA user_version = 1")


def test_a_ledger_of_the_first_release_is_migrated_and_keeps_its_history(workspace: Workspace) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    [draft_id] = run_job(workspace.settings, publishing.draft).drafted
    run_job(workspace.settings, decisions.review, draft_id, "通过", reviewer="符贤")
    as_first_release(workspace.ledger)

    run = run_job(workspace.settings, publishing.publish)        # the new release opens the old ledger

    assert run.published == [draft_id] and run.report.counts["sent"] == 2     # the outlet and the network
    with Ledger(workspace.ledger) as ledger:
        assert ledger.schema_version == len(MIGRATIONS)
        assert ledger.draft(draft_id)["state"] == "published"
        assert {r["channel"] for r in ledger.channel_versions(draft_id)} == {"wechat", "weibo", "website",
                                                                              "network"}
        history = {r["action"] for r in ledger.audit_log(100) if r["subject"] == draft_id}
        assert {"drafted", "approved", "queued"} <= history


def test_message_keys_written_before_they_were_values_are_read_back_as_values(workspace: Workspace) -> None:
    """A ledger's old keys (what/item[/variant] as one text) are split once, at the upgrade: the draft
    mail, a reminder to a team, a second digest of the day."""
    workspace.make_workbook([material(team="执行二组")], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    [draft_id] = run_job(workspace.settings, publishing.draft).drafted
    run_job(workspace.settings, week.remind)
    run_job(workspace.settings, week.digest, force=True)
    as_first_release(workspace.ledger)

    with Ledger(workspace.ledger) as ledger:
        assert [r["item"] for r in ledger.deliveries_of("draft")] == [draft_id]
        parts = "SELECT item, variant FROM messages WHERE what = ?"
        reminders = {tuple(r) for r in ledger.db.execute(parts, ("reminder",))}
        digests = [tuple(r) for r in ledger.db.execute(parts, ("digest",))]
    assert ("2026-W48", "执行二组") in reminders and ("2026-W48", "执行一组") in reminders
    assert digests == [("2026-11-26", "100000")]


def test_a_ledger_newer_than_the_program_is_refused_untouched(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    run_job(workspace.settings, pulling.pull)
    with sqlite3.connect(workspace.ledger) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")

    with pytest.raises(LedgerError, match="比本程序"):
        Ledger(workspace.ledger)
    with sqlite3.connect(workspace.ledger) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1


@pytest.fixture(scope="module")
def used_ledger(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a ledger after a demo cycle: submissions, drafts, mail."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_NOW", "2026-11-26T10:00:00+08:00")
        workspace = Workspace.create(tmp_path_factory.mktemp("used"))
        workspace.cli("init", "--demo", check=True)
        workspace.cli("once", check=True)
    return workspace.ledger.read_bytes()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("command", ["status", "pull", "draft", "publish", "once"])
def test_a_damaged_ledger_gives_a_message_not_a_traceback(workspace: Workspace, used_ledger: bytes, seed: int,
                                                          command: str) -> None:
    workspace.cli("init", "--demo", check=True)
    damaged = bytearray(used_ledger)
    rng = random.Random(seed)
    for _ in range(30):
        position = rng.randrange(len(damaged) // 3, len(damaged))
        damaged[position] = rng.randrange(256)
    workspace.ledger.write_bytes(bytes(damaged))

    result = workspace.cli(command)

    assert "Traceback" not in result.stderr, result.stderr[-400:]
    if result.returncode:
        assert "账本" in result.stderr and "\ufffd" not in result.stderr


def test_a_damaged_record_in_the_ledger_gives_a_message_not_a_traceback(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    workspace.cli("pull", check=True)
    with sqlite3.connect(workspace.ledger) as db:
        db.execute("UPDATE submission_versions SET data = '{\"title\": \"断'")

    result = workspace.cli("draft")

    assert result.returncode == 1 and "Traceback" not in result.stderr and "账本" in result.stderr
