"""One measured operation in a fresh process: ``python bench/child.py WHAT ARG``.

A fresh process per operation gives each its own peak memory, and a pull
the cold start a cron ``once`` has.

- ``pull CONFIG``       one ``pulling.pull`` with that config;
- ``once CONFIG``       one ``scheduler.once`` with that config, as cron runs it (the pull, the drafts, their mail);
- ``read PATH``         the floor of an unchanged pull: openpyxl read-only, values only, every row of every sheet;
- ``load-save PATH``    the floor of a first pull: openpyxl full load, then save beside the file.

Prints one JSON line: ``{"seconds": …, "peak_mb": …}`` (and for a pull, the
rows it read and the cells it wrote back); seconds time the operation alone,
imports excluded; peak_mb is the process's peak resident set (VmHWM),
imports included, as an operator sees it.
The floors import openpyxl alone, so the pipeline's own imports count against it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bare_read(path: Path) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = 0
    for sheet in book.worksheets:
        for _ in sheet.iter_rows(values_only=True):
            rows += 1
    book.close()
    return rows


def bare_load_save(path: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(path)
    book.save(path.with_name(f".bench-copy-{path.name}"))


def main(what: str, arg: str) -> None:
    # Imports count towards the peak (an operator sees them), not towards the time. The floors
    # import openpyxl alone: the pipeline's own imports are part of what it costs.
    import openpyxl  # noqa: F401

    if what in ("pull", "once"):
        from pipeline.app import scheduler
        from pipeline.core import config
        from pipeline.flows import pulling
        from pipeline.flows.context import Context
    path = Path(arg)
    started = time.perf_counter()
    extra = {}
    if what == "pull":
        with Context.open(config.load(path)) as ctx:
            summary = pulling.pull(ctx)
        extra = {"rows": summary.rows, "cells_written": summary.cells_written}
    elif what == "once":
        outcomes = scheduler.once(config.load(path))
        extra = {"outcomes": [[o.job, o.result] for o in outcomes]}
    elif what == "read":
        bare_read(path)
    elif what == "load-save":
        bare_load_save(path)
    else:
        raise SystemExit(f"unknown operation {what!r}")
    print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": peak_mb(), **extra}))


if __name__ == "__main__":
    main(*sys.argv[1:])
