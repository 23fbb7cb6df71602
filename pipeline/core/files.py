"""Files the office opens while the pipeline may be writing them: never seen half-written."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write beside ``path``, then rename over it (raises OSError).

    ``durable`` waits until the data is on the disk before the rename, for a
    file the ledger will say exists; a preview that can be made again need not.
    The file is owner-only (``mkstemp`` makes it 0600), and so is any folder made for it.
    """
    private_folder(path.parent)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


# Personal data at rest (the ledger, the outbox, backups, logs) is the running account's alone on POSIX:
# folders the pipeline makes are 0700, files 0600, whatever the umask. An existing folder keeps its mode (a
# folder shared with the teams, such as the workbook's, is not the pipeline's to close). Windows gives a new
# file the folder's permissions, and os.chmod there only sets the read-only flag: nothing is changed there.
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600
POSIX = os.name == "posix"


def private_folder(path: Path) -> Path:
    """Make ``path`` and any missing parents, each owner-only (raises OSError); returns ``path``."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            continue                        # made meanwhile by another process: its mode is its own
        if POSIX:
            os.chmod(folder, PRIVATE_FOLDER)    # the umask may have taken bits the owner needs
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)     # raises FileExistsError for a file in the way
    return path


def private_file(path: Path) -> bool:
    """Create ``path`` empty and owner-only if it does not exist (raises OSError); True if it was created."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(handle)
    if POSIX:
        os.chmod(path, PRIVATE_FILE)
    return True


def private(path: Path) -> None:
    """Make an existing file owner-only (POSIX)."""
    if POSIX:
        os.chmod(path, PRIVATE_FILE)


def boot() -> str:
    """Which start of this machine the process runs in: the same in every process until the machine stops, and
    another after a power cut, a crash or a restart. The ledger's reservations rely on it (ledger/mail.py): a
    commit that did not wait for the disk is certainly still there within the same boot.

    Linux names each boot. Elsewhere it is the moment the system started, to the second, worked out from the
    clock and the time since start, which can come out differently within one boot: when the clock is set or
    synchronised, after the machine slept (macOS), or by a rounding at the second's edge. A reservation a killed
    process left is then settled as 'unknown' rather than sent again: more messages for the office to check,
    never one sent twice. ``PIPELINE_BOOT`` stands in for it
    in the tests that play a restart."""
    pinned = os.environ.get("PIPELINE_BOOT")
    if pinned:
        return pinned
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return f"started {round(time.time() - time.monotonic())}"
