"""The benchmarks never rot: ``python bench/run.py --quick`` runs end to end and prints every row.

Only that it runs and what it prints are checked, never a time: the quick
sizes are far too small for a ratio to mean anything, and the suite runs on
shared machines.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT

ROWS = (
    "a. unchanged pull,",
    "a. changed pull (one row edited),",
    "a. first pull + write-back,",
    "b. Sheets API per cycle, 3 rows",
    "b. Sheets API per cycle, 10 rows",
    "b. Sheets API per cycle, 30 rows",
    "b. Sheets API, new process per cycle,",
    "c. publish 1 release to 8 contacts ",
    "c. publish 1 release to 8 contacts, CPU-bound neighbour",
    "d. drafting,",
    "d. drafting against commit",
    "d. profile #1",
    "d. profile #2",
    "d. profile #3",
    "e. peak RSS, first pull + write-back,",
    "e. peak RSS, unchanged pull,",
    "e. peak RSS, first once (pull, drafts, mail), 20 rows",
    "e. peak RSS, first once (pull, drafts, mail), 40 rows",
    "f. steady once, nothing new, 5 years (40 submissions), sheet read taken out",
    "f. steady once, nothing new, 5 years (40 submissions), sheet read included",
    "g. status, a fresh process",
    "g. status against commit",
    "g. import pipeline.app.cli, a fresh process",
)
RESULTS = ("PASS", "FALLS SHORT", "reported", "not available")


def test_the_quick_benchmarks_run_and_print_every_row_of_the_table(tmp_path) -> None:
    done = subprocess.run([sys.executable, str(PROJECT / "bench" / "run.py"), "--quick"], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    lines = done.stdout.splitlines()
    assert [c.strip() for c in lines[0].split("|")] == ["benchmark", "measured", "floor", "ratio", "target", "result"]
    for row in ROWS:
        found = [line for line in lines if line.startswith(row)]
        assert len(found) == 1, f"row {row!r} missing or repeated:\n{done.stdout}"
        assert found[0].rstrip().endswith(RESULTS), f"row without a result: {found[0]}"
    assert "CRASHED" not in done.stdout
