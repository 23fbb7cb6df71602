"""Where the log goes: the console (stderr) for whoever runs a command, and — for every command that changes
something (``run``, ``once``, ``pull``, ``publish`` …) — a log file for the IT person: ``[log] path``
(default ``logs/pipeline.log`` in the project folder), rotated at ``[log] max_mb`` with ``[log] keep`` old
files, readable by the account that runs the pipeline alone (0600, its folder 0700 when made here).

The console keeps what it always showed: the commands' own Chinese lines (printed, not logged), warnings
and errors (``-v``: everything; ``run``, whose console is the service's journal: its INFO lines too). The
file gets INFO and up (``-v``: DEBUG): one line per finished job (``flows/joblog.py``), warnings, errors.
A line is text — time, level, logger, message, then the record's fields as ``key=value`` — or, with
``[log] format = "json"``, one JSON object: ``time``, ``level``, ``logger``, ``message`` and the fields as
keys of their own (``traceback`` when there is one).

What the log never holds: the SMTP password, the service-account key, and the sheet's content (parties'
names, ID-card and phone numbers, the facts). A job's line has counts and IDs (S-/D-/I-…), an error's line
the pipeline's own message (paths, host names, what to do); recipients' addresses are not logged.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core import config
from ..core.errors import PipelineError
from ..flows.joblog import CONSOLE, LOGGED

READ_ONLY = frozenset({"init", "status", "check"})   # commands that keep no log file (init: no config yet)
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_OURS = "_pipeline_log_handler"


def setup(command: str, *, verbose: bool, config_path: Path | None, dry_run: bool = False) -> Path | None:
    """Set the log up for ``command``; returns the log file, or None when this command keeps none.

    A config that cannot be read leaves the file out: the command itself then says what is wrong with it.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:   # a second main() in one process
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)              # other libraries: warnings only
    logging.getLogger("pipeline").setLevel(logging.DEBUG if verbose else logging.INFO)
    if sys.stderr is not None:                                                # pythonw has no console at all
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.DEBUG if verbose else logging.INFO if command == "run" else logging.WARNING)
        console.addFilter(_for_console)
        console.setFormatter(TextFormatter())
        _add(root, console)
    if command in READ_ONLY or dry_run or config_path is None:
        return None
    try:
        settings = config.load(config_path)
    except PipelineError:
        return None
    from .logfile import OwnerOnlyRotatingFileHandler     # logging.handlers: only where a file is kept

    handler = OwnerOnlyRotatingFileHandler(settings.log.path, max_bytes=settings.log.max_mb * 2**20,
                                           keep=settings.log.keep)
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler.setFormatter(JsonFormatter() if settings.log.format == "json" else TextFormatter())
    _add(root, handler)
    return settings.log.path


def failed(exc: BaseException, message: str) -> None:
    """A command's failure outside any job's line (the ledger could not be opened …): one line, file only."""
    if not getattr(exc, LOGGED, False):
        logging.getLogger("pipeline").error("%s", message, extra={CONSOLE: False})


def _add(root: logging.Logger, handler: logging.Handler) -> None:
    setattr(handler, _OURS, True)
    root.addHandler(handler)


def _for_console(record: logging.LogRecord) -> bool:
    """A record marked console=False is for the file only: the command has said the same on the console."""
    return getattr(record, CONSOLE, True)


# --- formats ------------------------------------------------------------------------------------

def _time(record: logging.LogRecord) -> str:
    """The moment in ISO 8601 with the machine's offset: unambiguous on a server whose clock zone is UTC."""
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


class TextFormatter(logging.Formatter):
    """``2026-11-26T10:00:05.123+08:00 INFO pipeline.jobs: 任务完成 job=cycle period=… outcome=ok …``"""

    def __init__(self) -> None:
        super().__init__(TEXT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _time(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        line = super().formatMessage(record)
        pairs = [f"{key}={_text(value)}" for key, value in _fields(record).items() if _shown(value)]
        return " ".join([line, *pairs])


def _shown(value: Any) -> bool:
    return value is not None and value != [] and value != ()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    text = str(value)
    if not text or any(c.isspace() or c in '"=\\' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's fields, and traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _time(record), "level": record.levelname, "logger": record.name,
                                "message": record.getMessage()}
        for key, value in _fields(record).items():
            line[key if key not in line else f"field_{key}"] = list(value) if isinstance(value, tuple) else value
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
