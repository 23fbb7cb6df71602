"""The ledger misbehaving: held by another program, read-only, on a full disk.

Each ends in one Chinese line naming the ledger and what to do, exit 1, no
traceback — and nothing half-done: the ledger is written before the
workbook, so a pull whose ledger fails leaves the workbook as it was, and
the next pull after the fault is gone takes everything in.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PROJECT, Workspace, material

ROWS = [material(title=f"第{n}号案例 被执行人履行欠款", case_number=f"（2026）琼9003执{2000 + n}号")
        for n in range(1, 13)]


def one_line(stderr: str) -> str:
    """The user's message: exactly one line, no traceback."""
    assert "Traceback" not in stderr, stderr[-600:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def submissions(path: Path) -> int:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]


def ids_in(workspace: Workspace) -> list:
    return [r.get("id") for r in workspace.rows() if r.get("title")]


@pytest.fixture
def ready(workspace: Workspace) -> Workspace:
    """A workbook with twelve new rows and a ledger that exists (schema made) but has read nothing."""
    workspace.make_workbook(ROWS)
    workspace.cli("status", check=True)
    workspace.original = workspace.workbook.read_bytes()
    return workspace


# --- held by another program ------------------------------------------------------------------

@pytest.fixture
def held(ready: Workspace) -> Iterator[Workspace]:
    """Another program holds the ledger's write lock until the test calls ``release``."""
    holder = sqlite3.connect(ready.ledger, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO meta VALUES ('held-by-another-program', 'x')")
    ready.configure("ledger", wait_seconds=0.5)

    def release() -> None:
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    ready.release = release
    yield ready
    release()
    holder.close()


@pytest.mark.parametrize("command", ["pull", "draft", "once", "publish"])
def test_a_ledger_held_past_the_configured_wait_gives_one_line_and_leaves_the_workbook(held, command) -> None:
    result = held.cli(command)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert str(held.ledger) in line and "占用超过 0.5 秒" in line and "[ledger] wait_seconds" in line
    assert held.workbook.read_bytes() == held.original


def test_after_the_other_program_lets_go_the_pull_takes_everything_in(held) -> None:
    assert held.cli("pull").returncode == 1
    held.release()
    assert held.cli("pull").returncode == 0
    assert submissions(held.ledger) == 12 and len(ids_in(held)) == 12 and all(ids_in(held))


def test_the_wait_is_checked_when_the_config_is_read(workspace: Workspace) -> None:
    workspace.configure("ledger", wait_seconds=0)
    result = workspace.cli("status")
    assert result.returncode == 2 and "wait_seconds" in one_line(result.stderr)


# --- read-only ------------------------------------------------------------------------------

def namespaces() -> str:
    """``unshare``, if this machine lets a test make a private mount namespace (as root or not); else skip.

    A read-only mount and a small disk stop root as they stop anyone, so these tests mean the same whoever
    runs the suite and wherever the checkout lies."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-Urm", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs unshare -Urm (user and mount namespaces) for a read-only mount or a small disk")
    return unshare


def run_read_only(workspace: Workspace, *paths: Path, command: str = "pull") -> subprocess.CompletedProcess[str]:
    """``python run.py COMMAND`` in a private mount namespace where each of ``paths`` is mounted read-only."""
    mounts = " && ".join(f'mount --bind "{path}" "{path}" && mount -o remount,bind,ro "{path}"' for path in paths)
    script = f'{mounts} && exec "{sys.executable}" "{PROJECT / "run.py"}" --config "{workspace.config_path}" {command}'
    return subprocess.run([namespaces(), "-Urm", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", "PIPELINE_NOW": "2026-11-26T10:00:00+08:00"})


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_ledger_gives_one_line_and_leaves_the_workbook(ready: Workspace, what: str) -> None:
    read_only = ready.ledger if what == "file" else ready.ledger.parent.parent / "ledger-folder"
    if what == "folder":                                   # the ledger alone in a folder nobody may write
        read_only.mkdir()
        ready.ledger.rename(read_only / ready.ledger.name)
        ready.configure("ledger", path=str(read_only / ready.ledger.name))
        ready.ledger = read_only / ready.ledger.name

    result = run_read_only(ready, read_only)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert str(ready.ledger) in line and "只读" in line and "恢复写权限" in line
    assert ready.workbook.read_bytes() == ready.original
    assert submissions(ready.ledger) == 0
    assert ready.cli("pull").returncode == 0                  # writable again: everything is taken in
    assert submissions(ready.ledger) == 12 and len(ids_in(ready)) == 12


# --- a full disk ----------------------------------------------------------------------------

FULL_DISK = textwrap.dedent("""\
    set -u
    mount -t tmpfs -o size={size}k tmpfs "{small}"
    cp "{ledger}" "{small}/ledger.sqlite3"
    head -c {filler}000 /dev/zero > "{small}/filler" 2>/dev/null
    "{python}" "{run}" --config "{config}" {command} > "{out}/first.out" 2> "{out}/first.err"
    echo $? > "{out}/first.rc"
    cp "{workbook}" "{out}/workbook-after-first.xlsx"
    cp "{small}/ledger.sqlite3" "{out}/ledger-after-first.sqlite3"
    rm "{small}/filler"
    "{python}" "{run}" --config "{config}" pull > "{out}/second.out" 2> "{out}/second.err"
    echo $? > "{out}/second.rc"
    "{python}" -c "import sqlite3; s = sqlite3.connect('{small}/ledger.sqlite3'); \\
d = sqlite3.connect('{out}/ledger-after-second.sqlite3'); s.backup(d)"
""")


def on_a_full_disk(workspace: Workspace, command: str, *, room_kb: int) -> Path:
    """Run ``command`` with the ledger on a small disk with ``room_kb`` left, then free it and pull again.

    The small disk is a tmpfs in a private mount namespace (``unshare``), so
    the test needs no privilege beyond what unprivileged user namespaces give.
    """
    namespaces()
    small = workspace.root / "small"
    small.mkdir()
    out = workspace.root / "out"
    out.mkdir()
    config = workspace.root / "full.toml"
    config.write_text(workspace.config_path.read_text(encoding="utf-8").replace(
        str(workspace.ledger.relative_to(workspace.root)), "small/ledger.sqlite3"), encoding="utf-8")
    size_kb = 1024
    filler_kb = size_kb - workspace.ledger.stat().st_size // 1024 - room_kb
    script = FULL_DISK.format(size=size_kb, small=small, ledger=workspace.ledger, filler=filler_kb,
                              python=sys.executable, run=PROJECT / "run.py", config=config, command=command,
                              out=out, workbook=workspace.workbook)
    done = subprocess.run(["unshare", "-Urm", "sh", "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", "PIPELINE_NOW": "2026-11-26T10:00:00+08:00"},
                          cwd=workspace.root, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("room_kb", [0, 64])
def test_a_full_disk_gives_one_line_records_nothing_and_the_next_pull_takes_everything_in(ready, room_kb) -> None:
    out = on_a_full_disk(ready, "pull", room_kb=room_kb)

    assert (out / "first.rc").read_text().strip() == "1"
    line = one_line((out / "first.err").read_text(encoding="utf-8"))
    assert "磁盘已满" in line and "清理磁盘" in line
    assert (out / "workbook-after-first.xlsx").read_bytes() == ready.original     # no ID the ledger lacks
    assert submissions(out / "ledger-after-first.sqlite3") == 0
    assert (out / "second.rc").read_text().strip() == "0", (out / "second.err").read_text()
    assert submissions(out / "ledger-after-second.sqlite3") == 12
    assert len(ids_in(ready)) == 12 and all(ids_in(ready))


def test_a_workbook_folder_the_service_may_not_write_gives_one_line_and_the_material_is_recorded(
        workspace: Workspace) -> None:
    """Saving a workbook replaces it through a temporary file beside it: the folder must be writable too."""
    book = workspace.root / "book"
    book.mkdir()
    workspace.configure("sheet", path="book/workbook.xlsx")
    workspace.workbook = book / "workbook.xlsx"
    workspace.make_workbook(ROWS[:2])
    workspace.cli("status", check=True)
    original = workspace.workbook.read_bytes()

    result = run_read_only(workspace, book)                   # the file keeps its modes; its folder takes no file

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-800:]
    assert "文件夹" in result.stdout and "写权限" in result.stdout
    assert workspace.workbook.read_bytes() == original
    assert submissions(workspace.ledger) == 2
