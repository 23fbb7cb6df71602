"""One timed job of a given revision of the project, in a fresh process: ``python bench/revision.py WHAT ROOT ...``.

Row d times drafting, and row g ``status``, of the project as it stands beside
the same at a baseline commit (``bench/run.py --baseline``), in the same run
on the same machine. The baseline's code is the project's files at that
commit (``git archive`` into the run's folder): this script puts ``ROOT``
first on the import path, so ``pipeline`` is that revision's, and uses only
what both revisions have — the default config (``config.render_default``),
``config.load``, a job context (``flows.context.Context``), ``pulling.pull``
and ``publishing.draft``. It imports nothing from the benchmarks beside it.

- ``workspace ROOT WORKBOOK FOLDER``  a workspace in FOLDER (that revision's default config, the national
  network's copy off, as ``bench/workload.py`` makes it) holding WORKBOOK, pulled once. Prints
  ``{"config": path, "accepted": n}``.
- ``draft ROOT WORKBOOK FOLDER``  the same workspace, then a draft of every submission still to draft,
  timed. Prints ``{"seconds": …, "drafted": n}``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path


def workspace(root: Path, workbook: Path, folder: Path):
    """FOLDER made a workspace of this revision holding WORKBOOK, pulled once: its settings and what it took in."""
    from pipeline.core import config
    from pipeline.flows import pulling
    from pipeline.flows.context import Context

    folder.mkdir(parents=True, exist_ok=True)
    text = config.render_default()
    if "\nnetwork = true" not in text:
        raise SystemExit(f"{root}: the default config has no national-network switch to turn off")
    path = folder / "pipeline.toml"
    path.write_text(text.replace("\nnetwork = true", "\nnetwork = false", 1), encoding="utf-8")
    settings = config.load(path)
    settings.sheet.path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workbook, settings.sheet.path)
    with Context.open(settings) as ctx:
        accepted = pulling.pull(ctx).accepted
    return settings, accepted


def draft(root: Path, workbook: Path, folder: Path) -> dict[str, float]:
    from pipeline.flows import publishing
    from pipeline.flows.context import Context

    settings, accepted = workspace(root, workbook, folder)
    started = time.perf_counter()
    with Context.open(settings) as ctx:
        drafted = len(publishing.draft(ctx).drafted)
    seconds = time.perf_counter() - started
    if drafted != accepted:
        raise SystemExit(f"{root}: drafted {drafted} of the {accepted} submissions the pull took in")
    return {"seconds": seconds, "drafted": drafted}


def main(what: str, root: str, *args: str) -> None:
    sys.path.insert(0, str(Path(root).resolve()))
    if what == "draft":
        workbook, folder = args
        print(json.dumps(draft(Path(root), Path(workbook), Path(folder))))
    elif what == "workspace":
        workbook, folder = args
        _, accepted = workspace(Path(root), Path(workbook), Path(folder))
        print(json.dumps({"config": str(Path(folder) / "pipeline.toml"), "accepted": accepted}))
    else:
        raise SystemExit(f"unknown job {what!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
