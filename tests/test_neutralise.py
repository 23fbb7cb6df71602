"""What the office's tools would run or misread is neutralised: formulas in CSV and Excel's _xHHHH_
escapes (through the jobs, on real files). Invisible and direction-changing characters come through
Google Sheets only: tests/test_gsheets.py."""

from __future__ import annotations

import csv
import io

from conftest import DEFAULT_TEAMS, Workspace, material, run_job

from pipeline.flows import pulling, summaries
from pipeline.ledger import Ledger

MEDIA = [{"outlet": "=HYPERLINK(\"http://evil.example\",\"点击\")", "contact": "", "email": "news@fzsb.example",
          "kinds": "全部", "enabled": "是"}]


def test_a_summary_csv_holds_no_live_formula(workspace: Workspace) -> None:
    # (A cell typed =… is a formula in the workbook itself; + - @ reach the CSV as text.)
    teams = [*DEFAULT_TEAMS, {"team": "+1+1", "leader": "", "email": "x@court.example", "quota": 3},
             {"team": "@SUM(A1)", "leader": "", "email": "y@court.example", "quota": 3},
             {"team": "-2+3组", "leader": "", "email": "z@court.example", "quota": 3}]
    workspace.make_workbook([material()], teams=teams, media=MEDIA)
    run_job(workspace.settings, pulling.pull)
    run = run_job(workspace.settings, summaries.summary, "weekly", "2026-W48")
    [(outgoing, _)] = [r for r in run.report.results][:1]
    [attachment] = [a for a in outgoing.attachments if a.filename.endswith(".csv")]
    rows = list(csv.reader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'+1+1" in cells and "'@SUM(A1)" in cells and "'-2+3组" in cells
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert not any(cell.startswith("-") and not cell.lstrip("-").replace(".", "").isdigit() for cell in cells)


def test_excel_escapes_are_read_as_the_characters_they_stand_for(workspace: Workspace) -> None:
    workspace.make_workbook([material(facts="申请执行人王某华与被执行人李某强纠纷一案。_x000D_判决生效后李某强未履行。",
                                      title="标题_x005F_x000D_照写")])
    run_job(workspace.settings, pulling.pull)
    with Ledger(workspace.ledger) as ledger:
        [row] = ledger.db.execute("SELECT data FROM submission_versions").fetchall()
    assert "_x000D_" not in row["data"].replace("_x000D_照写", "")
    assert "标题_x000D_照写" in row["data"]
