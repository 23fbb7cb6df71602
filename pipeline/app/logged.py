"""The command line with its output appended to a log file: for a start without a console.

``pythonw -m pipeline.app.logged LOGFILE [--config PATH] COMMAND …`` (installed: ``court-publicity-w
LOGFILE …``) runs ``COMMAND`` as ``python run.py`` would, with everything it prints and logs appended to
``LOGFILE`` (its folder is made if need be), between a line saying when it started and one with its exit
code; a command that prints nothing adds nothing. Windows' Task Scheduler starts it without a console
window (pythonw has none, so it has nowhere else to write); on Linux, cron and systemd have their own logs
and use ``python run.py`` directly.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ..core.files import PRIVATE_FILE, private_folder

USAGE = "用法：python -m pipeline.app.logged 日志文件 [--config 配置文件] 命令 …（如 logs/once.log once --due）"


class _Log(io.TextIOBase):
    """The log file, which gets a line saying when and what first, at the command's first word: a command
    that says nothing (``once --due`` outside office hours) leaves no trace in the log."""

    def __init__(self, stream: TextIO, header: str) -> None:
        self.stream, self.header, self.started = stream, header, False

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text and not self.started:
            self.started = True
            self.stream.write(self.header)
        self.stream.write(text)
        self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0].startswith("-"):
        _say(USAGE)
        return 2
    path = Path(args[0])
    try:
        private_folder(path.parent)                  # the log names items and people: the account's alone
        stream = open(path, "a", encoding="utf-8", errors="replace",   # noqa: SIM115 - closed below
                      opener=_owner_only)
    except OSError as exc:
        _say(f"无法写入日志文件 {path}（{exc.strerror or exc}）")
        return 2
    with stream:
        log = _Log(stream, f"==== {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %z} {' '.join(args[1:])}\n")
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = log
        try:
            code = _run(args[1:])
            if log.started or code:
                print(f"==== 退出码 {code}", file=log)
        finally:
            sys.stdout, sys.stderr = saved
    return code


def _owner_only(path: str, flags: int) -> int:
    """A new log file is 0600 (an existing one keeps its mode)."""
    return os.open(path, flags, PRIVATE_FILE)


def _run(argv: list[str]) -> int:
    """``cli.main``, imported here so that even a failing import is written to the log."""
    try:
        from .cli import main as cli_main

        return cli_main(argv)
    except SystemExit as exc:               # argparse's usage errors and --help
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BaseException:  # noqa: BLE001 - whatever stops the command must reach the log
        import traceback

        traceback.print_exc()
        return 1


def _say(text: str) -> None:
    """A message where there may be no console at all (pythonw: sys.stderr is None)."""
    if sys.stderr is not None:
        print(text, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
