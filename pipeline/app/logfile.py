"""The log file (app/logs.py sets it up): rotated, private to its owner, shared by several processes.

Its own module so that a command keeping no file (``status``, ``check``, ``init``) loads no ``logging.handlers``.
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any


class OwnerOnlyRotatingFileHandler(RotatingFileHandler):
    """A rotating log file that only its owner may read, and that several processes may share.

    The file (and each new one after a rotation) is made 0600, its folder 0700 (POSIX). The file is opened
    at the first line, so a command that logs nothing makes nothing. When another process has rotated the
    file meanwhile, this one follows it to the new file; when a rotation cannot be done now (Windows: the
    file is open in another process), the lines go on into the current file and the next line tries again.
    A file that cannot be written at all is said once on the console, and the command goes on.
    """

    def __init__(self, path: Path, *, max_bytes: int, keep: int) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=keep, encoding="utf-8", delay=True)
        self.said = False

    def _open(self):  # noqa: ANN202 - the stream, as logging.FileHandler._open
        path = Path(self.baseFilename)
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if os.name == "posix":
            try:
                os.fchmod(descriptor, 0o600)        # a file made before by a looser umask, or by hand
            except OSError:
                pass                               # not ours: its owner decides
        return os.fdopen(descriptor, "a", encoding="utf-8", errors="replace")

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802
        if self.stream is not None and _moved(self.stream, self.baseFilename):
            self.stream.close()
            self.stream = None                     # reopened by the caller: the new file
        return bool(super().shouldRollover(record))

    def doRollover(self) -> None:  # noqa: N802
        try:
            super().doRollover()
        except OSError:
            if self.stream is None:
                self.stream = self._open()

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        if not self.said and sys.stderr is not None:
            self.said = True
            reason = sys.exc_info()[1]
            detail = getattr(reason, "strerror", None) or reason
            print(f"无法写入日志文件 {self.baseFilename}（{detail}），本次运行的日志只显示在屏幕上", file=sys.stderr)


def _moved(stream: Any, path: str) -> bool:
    """Whether the file this stream writes is no longer at ``path`` (another process rotated it)."""
    try:
        mine, there = os.fstat(stream.fileno()), os.stat(path)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return (mine.st_dev, mine.st_ino) != (there.st_dev, there.st_ino) and os.name == "posix"
