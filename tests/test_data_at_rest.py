"""Data at rest: who may read the ledger, the outbox and the logs; backups made while the pipeline runs.

Everything goes through the command line (``python run.py …`` in its own process), a real workbook and
the ledger itself, read back with plain ``sqlite3``. Permission checks are POSIX-only: Windows gives a new
file its folder's permissions.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PROJECT, Workspace, material, run_job
from test_ledger import as_first_release

from pipeline.flows import publishing, pulling
from pipeline.ledger import Ledger
from pipeline.ledger.schema import MIGRATIONS

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
MEDIA = [{"outlet": "《法制时报》", "contact": "张编辑", "email": "fazhi@media.example", "kinds": "全部", "enabled": "是"}]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    """The most permissive umask there is: whatever the pipeline makes owner-only, it makes so itself."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def rows(path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


# --- owner-only --------------------------------------------------------------------------

@posix_only
def test_the_ledger_the_outbox_the_logs_and_their_files_are_the_running_accounts_alone(workspace: Workspace) -> None:
    workspace.configure("ledger", path="private/ledger.sqlite3")          # a folder the pipeline makes
    with umask(0):
        workspace.make_workbook([material()], media=MEDIA)
        shared = mode(workspace.workbook.parent)
        workspace.cli("once", check=True)
        workspace.cli("approve", "D-2026-000001", "--by", "符贤", check=True)
        workspace.cli("publish", check=True)
        logged = subprocess.run([sys.executable, "-m", "pipeline.app.logged", str(workspace.root / "logs/once.log"),
                                 "--config", str(workspace.config_path), "status"],
                                cwd=PROJECT, capture_output=True, text=True, encoding="utf-8", timeout=120)
        assert logged.returncode == 0, logged.stderr
        ledger = Ledger(workspace.settings.ledger.path)                  # held open: its -wal and -shm exist
    try:
        ledger_path = workspace.settings.ledger.path
        assert mode(ledger_path.parent) == 0o700 and mode(ledger_path) == 0o600
        for tail in ("-wal", "-shm"):
            assert mode(Path(f"{ledger_path}{tail}")) == 0o600, tail
    finally:
        ledger.close()
    outbox = workspace.settings.mail.outbox
    assert (outbox / "channels").is_dir() and list(outbox.glob("*.eml"))
    for folder in (outbox, *[p for p in outbox.rglob("*") if p.is_dir()], workspace.root / "logs"):
        assert mode(folder) == 0o700, folder
    for file in (*[p for p in outbox.rglob("*") if p.is_file()], workspace.root / "logs/once.log"):
        assert mode(file) == 0o600, file
    assert mode(workspace.workbook.parent) == shared                      # the teams' folder is left as it was


# --- backup ----------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    from pathlib import Path
    ledger, stop = sys.argv[1], Path(sys.argv[2])
    db = sqlite3.connect(ledger, timeout=30, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 30000")
    i = 0
    while not stop.exists():
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO audit (at, job, action, subject, detail) VALUES (?, 'writer', 'row', ?, '{}')",
                   (time.strftime('%Y-%m-%dT%H:%M:%S'), str(i)))
        db.execute("COMMIT")
        print(i, flush=True)
        i += 1
    db.close()
""")


def written(process: subprocess.Popen[str], count: int) -> int:
    """Wait until the writer reports ``count`` more commits; returns the last one's number."""
    last = -1
    for _ in range(count):
        line = process.stdout.readline()
        assert line, process.stderr.read()
        last = int(line)
    return last


def test_a_backup_taken_while_another_process_writes_holds_every_earlier_commit_and_is_whole(
        workspace: Workspace, tmp_path: Path) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    workspace.cli("once", check=True)
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(workspace.ledger), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        written(writer, 50)
        committed = {int(r[0]) for r in rows(workspace.ledger, "SELECT subject FROM audit WHERE job = 'writer'")}

        result = workspace.cli("backup")

        written(writer, 50)                                               # the writer went on meanwhile
    finally:
        stop.touch()
        _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert result.returncode == 0, result.stderr
    found = re.search(r"已备份账本：(\S+)（[\d.]+ (?:KB|MB)）", result.stdout)
    assert found, result.stdout
    copy = workspace.root / found.group(1)
    assert copy.parent == workspace.ledger.parent / "backups" and copy.suffix == ".sqlite3"
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    kept = sorted(int(r[0]) for r in rows(copy, "SELECT subject FROM audit WHERE job = 'writer'"))
    assert committed <= set(kept) and kept == list(range(len(kept)))       # every earlier commit; one snapshot
    assert rows(copy, "SELECT COUNT(*) FROM submissions") == rows(workspace.ledger, "SELECT COUNT(*) FROM submissions")
    assert not Path(f"{copy}-wal").exists()                               # one self-contained file
    if os.name == "posix":
        assert mode(copy) == 0o600 and mode(copy.parent) == 0o700


def test_backup_to_a_chosen_file_or_folder_and_never_over_the_ledger(workspace: Workspace, tmp_path: Path) -> None:
    workspace.make_workbook([material()])
    workspace.cli("pull", check=True)
    folder = tmp_path / "elsewhere"
    folder.mkdir()

    to_file = workspace.cli("backup", "--to", str(tmp_path / "copy.sqlite3"))
    to_folder = workspace.cli("backup", "--to", str(folder))
    again = workspace.cli("backup", "--to", str(folder))
    onto_ledger = workspace.cli("backup", "--to", str(workspace.ledger))

    assert to_file.returncode == 0 and "copy.sqlite3" in to_file.stdout
    assert rows(tmp_path / "copy.sqlite3", "PRAGMA integrity_check") == [("ok",)]
    assert to_folder.returncode == again.returncode == 0
    assert len(list(folder.glob("*.sqlite3"))) == 2                      # the second never replaces the first
    assert onto_ledger.returncode == 2 and "账本本身" in onto_ledger.stderr
    assert rows(workspace.ledger, "PRAGMA integrity_check") == [("ok",)]


# --- before a schema upgrade -------------------------------------------------------------------

def test_a_ledger_in_use_is_backed_up_before_its_schema_is_upgraded(workspace: Workspace) -> None:
    workspace.make_workbook([material()], media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    [draft_id] = run_job(workspace.settings, publishing.draft).drafted
    as_first_release(workspace.ledger)
    submissions = rows(workspace.ledger, "SELECT id, version FROM submissions")
    audit = rows(workspace.ledger, "SELECT id, action FROM audit")

    result = workspace.cli("status")                                     # the new program opens the old ledger

    assert result.returncode == 0, result.stderr
    backups = workspace.ledger.parent / "backups"
    [copy] = list(backups.iterdir())
    assert copy.name == f"ledger.v1-before-v{len(MIGRATIONS)}.sqlite3"
    assert copy.name in result.stderr                                    # and says where it is
    assert rows(copy, "PRAGMA user_version") == [(1,)]
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, "SELECT id, version FROM submissions") == submissions
    assert rows(copy, "SELECT id, action FROM audit") == audit
    assert rows(copy, "SELECT id FROM drafts") == [(draft_id,)]
    assert rows(workspace.ledger, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    if os.name == "posix":
        assert mode(copy) == 0o600

    workspace.cli("status", check=True)                                  # up to date now: no second copy
    assert list(backups.iterdir()) == [copy]


def test_a_new_ledger_needs_no_backup(workspace: Workspace) -> None:
    workspace.make_workbook([material()])

    workspace.cli("pull", check=True)
    workspace.cli("status", check=True)

    assert workspace.ledger.exists()
    assert not (workspace.ledger.parent / "backups").exists()
