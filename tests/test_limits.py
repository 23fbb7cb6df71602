"""Limits: what a misbehaving or crafted workbook, row or message is refused by, and that memory stays bounded.

A 素材 row over Excel's 32,767 characters a cell or ``[sheet] max_row_chars`` is refused with a row error
in 状态, and the ledger keeps only the start of each of its cells; a tab reaching beyond ``[sheet]
max_rows`` or ``max_columns``, or cells whose text adds up to more than ``[sheet] max_mb``, are refused
whole, with one Chinese line and exit 1, nothing recorded; a message over ``[mail] max_message_mb`` is not
sent, and its delivery fails with the reason, which status and the digest show. The crafted workbooks are
written as XML directly, their texts as shared strings, the way a few hundred kilobytes of file become
hundreds of megabytes of cell text: every cell that points at one text reads as the whole text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from email import policy
from email.parser import BytesParser
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
from conftest import NOW, PROJECT, Workspace, material
from openpyxl.utils import get_column_letter

from pipeline.core.layout import SUBMISSIONS
from pipeline.ledger import Ledger

KEYS = [c.key for c in SUBMISSIONS.columns]
MB = 2**20
SENTENCE = "执行干警多次前往被执行人住所及经营场所查找财产线索，并依法查封其名下房产。"


def text_of(length: int) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[:length]


def craft(workspace: Workspace, rows: Iterable[Mapping[str, str]]) -> Path:
    """The template workbook with ``rows`` (column key → text) in 素材, every text a shared string."""
    workspace.make_workbook([])
    with zipfile.ZipFile(workspace.workbook) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    strings: dict[str, int] = {}
    xml = [re.search(rb'<row r="1".*?</row>', parts[sheet], re.S).group(0).decode()]
    for number, row in enumerate(rows, start=2):
        cells = "".join(f'<c r="{get_column_letter(KEYS.index(key) + 1)}{number}" t="s"><v>'
                        f'{strings.setdefault(value, len(strings))}</v></c>' for key, value in row.items())
        xml.append(f'<row r="{number}">{cells}</row>')
    parts[sheet] = re.sub(rb"<sheetData>.*</sheetData>", lambda _: f"<sheetData>{''.join(xml)}</sheetData>".encode(),
                          re.sub(rb'<dimension ref="[^"]*"/>', b"", parts[sheet]), flags=re.S)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{escape(text)}</t></si>" for text in strings) + "</sst>").encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                     b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/officeDocument/'
                             b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    with zipfile.ZipFile(workspace.workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return workspace.workbook


def plain(**values: str) -> dict[str, str]:
    """A 素材 row of text cells: a good row's texts, then ``values``."""
    row = {k: v for k, v in material().items() if isinstance(v, str)}
    row.update(values)
    return row


def statuses(workspace: Workspace) -> dict[int, tuple[object, str]]:
    """(编号, 状态) of each 素材 row with content, by row number, read without loading the whole book."""
    book = openpyxl.load_workbook(workspace.workbook, read_only=True)
    try:
        sheet = book[SUBMISSIONS.name]
        out = {}
        for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            cells = list(cells) + [None] * (len(KEYS) - len(cells))
            if any(v not in (None, "") for v in cells):
                out[number] = (cells[KEYS.index("id")], str(cells[KEYS.index("status")] or ""))
        return out
    finally:
        book.close()


def stored(workspace: Workspace) -> dict[str, int]:
    """How much the ledger holds: submissions, and the longest text kept of a row (versions, row errors)."""
    with Ledger(workspace.ledger) as ledger:
        db = ledger.db
        return {"submissions": db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0],
                "longest": max([len(r[0]) for r in db.execute("SELECT data FROM submission_versions")]
                               + [len(r[0] or "") for r in db.execute(
                                   "SELECT message || team || submitter FROM row_errors")] + [0])}


# --- one 素材 row over [sheet] max_row_chars -----------------------------------------------

def test_a_row_over_the_row_limit_is_refused_and_only_its_start_is_kept(workspace: Workspace) -> None:
    # Every cell within Excel's limit, the row far beyond any real one (a long feature is a few thousand).
    long_row = material(case_number="（2026）琼9003执1300号", facts=text_of(15_000), process=text_of(15_000))
    workspace.make_workbook([material(), long_row])

    result = workspace.cli("pull", check=True)

    [(good_id, good), (long_id, refused)] = statuses(workspace).values()
    assert good == "已受理" and good_id
    assert long_id is None and re.fullmatch(r"本行超过 20000 字（30\d{3} 字），请删减或分成几条报送", refused)
    assert "需补正或重复 1 条" in result.stdout
    kept = stored(workspace)
    assert kept["submissions"] == 1 and kept["longest"] < 5_000


def test_the_row_limit_is_configurable_and_an_edited_row_comes_back_when_shortened(workspace: Workspace) -> None:
    workspace.configure("sheet", max_row_chars=2_000)
    workspace.make_workbook([material()])
    workspace.cli("pull", check=True)
    [(ident, _)] = statuses(workspace).values()
    original = material()["facts"]

    workspace.edit(SUBMISSIONS, 2, facts=original + text_of(2_500))          # an accepted row grows too long
    workspace.cli("pull", check=True)

    [(kept_id, status)] = statuses(workspace).values()
    assert kept_id == ident and status.startswith("本行超过 2000 字（") and status.endswith("请删减或分成几条报送")
    with Ledger(workspace.ledger) as ledger:
        versions = [r[0] for r in ledger.db.execute("SELECT data FROM submission_versions ORDER BY version")]
    assert len(versions) == 2 and len(versions[1]) < 3_000                # the refused version: each cell's start

    workspace.edit(SUBMISSIONS, 2, facts=original)                          # shortened again: taken in again
    workspace.cli("pull", check=True)
    assert statuses(workspace)[2] == (ident, "已受理（第3版）")


def test_a_row_limit_below_a_thousand_characters_is_a_config_error(workspace: Workspace) -> None:
    workspace.configure("sheet", max_row_chars=500)
    result = workspace.cli("pull")
    assert result.returncode == 2 and "[sheet] max_row_chars: 应在 1000 到" in result.stderr


# --- a tab beyond [sheet] max_rows or max_columns ---------------------------------------------

def rows_numbered(count: int) -> list[dict[str, object]]:
    return [material(case_number=f"（2026）琼9003执{1000 + n}号", title=f"第{n}件") for n in range(count)]


def test_a_tab_reaching_beyond_max_rows_is_refused_whole_with_one_message(workspace: Workspace) -> None:
    workspace.configure("sheet", max_rows=100)
    workspace.make_workbook(rows_numbered(99))        # rows 2-100; the template's formatted rows go on to 501
    assert workspace.cli("pull").returncode == 0      # blank rows, however formatted, do not count

    workspace.make_workbook(rows_numbered(120))
    before = workspace.workbook.read_bytes()
    with Ledger(workspace.ledger) as ledger:
        known = ledger.db.execute("SELECT COUNT(*) FROM submission_versions").fetchone()[0]
    result = workspace.cli("pull")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("错误：") and "“素材”页有内容的行到第 121 行，超过上限 100 行（配置 [sheet] max_rows）" in line
    assert workspace.workbook.read_bytes() == before                   # nothing written back
    with Ledger(workspace.ledger) as ledger:                           # nor recorded
        assert ledger.db.execute("SELECT COUNT(*) FROM submission_versions").fetchone()[0] == known


def test_a_tab_reaching_beyond_max_columns_is_refused_before_its_rows_are_kept(workspace: Workspace) -> None:
    workspace.make_workbook([material()])
    book = openpyxl.load_workbook(workspace.workbook)
    book["媒体"].cell(row=5, column=16_384, value="x")               # column XFD, Excel's last
    book.save(workspace.workbook)

    result = workspace.cli("pull")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "“媒体”页有内容的列到第 XFD 列（第 16384 列），超过上限 200 列（配置 [sheet] max_columns）" in result.stderr
    assert stored(workspace)["submissions"] == 0


@pytest.mark.parametrize("key, value, minimum", [("max_rows", 50, 100), ("max_columns", 19, 30)])
def test_bounds_below_their_minimum_are_config_errors(workspace: Workspace, key: str, value: int,
                                                      minimum: int) -> None:
    workspace.configure("sheet", **{key: value})
    result = workspace.cli("pull")
    assert result.returncode == 2 and f"[sheet] {key}: 应在 {minimum} 到" in result.stderr


# --- cells whose text adds up beyond [sheet] max_mb ---------------------------------------------

def test_cells_sharing_one_long_text_count_as_often_as_they_use_it(workspace: Workspace) -> None:
    workspace.configure("sheet", max_mb=5)
    cell = text_of(30_000)                                     # ~90 KB of UTF-8, stored once in the file
    craft(workspace, [plain(case_number=f"（2026）琼9003执{1000 + n}号", facts=cell, note=cell)
                      for n in range(100)])                    # read as ~17 MB of cell text
    assert workspace.workbook.stat().st_size < 100_000

    result = workspace.cli("pull")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "工作簿各单元格的文字合计超过 5 MB（配置 [sheet] max_mb" in result.stderr
    assert stored(workspace)["submissions"] == 0


# --- a message over [mail] max_message_mb ---------------------------------------------------

def long_material() -> dict[str, object]:
    """A long row, within the row limit: its draft mail and its release (.docx included) are each over
    200 KB; an ordinary one is under 70 KB."""
    return material(facts=text_of(6_000), process=text_of(6_000), outcome=text_of(6_000))


LOW_LIMIT = 0.15          # MB: an office whose server takes little


def test_a_draft_mail_over_the_message_limit_is_not_sent_and_the_office_is_told(workspace: Workspace) -> None:
    workspace.configure("mail", max_message_mb=LOW_LIMIT)
    workspace.make_workbook([long_material(), material(case_number="（2026）琼9003执1300号", title="另一篇")])
    workspace.cli("pull", check=True)

    result = workspace.cli("draft")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "未能发送稿件审核给 office@court.example（被拒收）：邮件过大（" in result.stdout
    assert "超过上限 0.15 MB（配置 [mail] max_message_mb），系统未发送" in result.stdout
    outbox = workspace.root / "outbox"
    mails = {p.name: p.stat().st_size for p in outbox.glob("*.eml")}
    assert [n for n in mails if "D-2026-000001" in n] == [] and any("D-2026-000002" in n for n in mails)
    assert max(mails.values()) < LOW_LIMIT * MB
    status = workspace.cli("status").stdout
    assert "稿件审核 office@court.example：被拒收（邮件过大（" in status
    workspace.cli("digest", check=True)
    [digest] = outbox.glob("*-digest-*.eml")
    assert "max_message_mb" in digest_text(digest)
    assert workspace.cli("draft").returncode == 0                    # failed for good: not tried again


def digest_text(path: Path) -> str:
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes()).get_body(("plain",)).get_content()


def test_a_release_over_the_message_limit_reaches_no_outlet_and_status_says_why(workspace: Workspace,
                                                                                 smtp_server) -> None:
    smtp_server.configure(workspace)
    workspace.configure("mail", max_message_mb=LOW_LIMIT)
    workspace.make_workbook([long_material()], media=[{"outlet": "《法制时报》", "email": "fazhi@media.example",
                                                       "kinds": "全部", "enabled": "是"}])
    workspace.cli("pull", check=True)
    workspace.cli("draft")                                            # its draft mail is too large as well
    workspace.cli("approve", "D-2026-000001", "--by", "符贤", check=True)

    result = workspace.cli("publish")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "未能发送媒体发布给 fazhi@media.example（被拒收）：邮件过大（" in result.stdout
    assert smtp_server.handler.messages == []                         # nothing reached the server
    with Ledger(workspace.ledger) as ledger:
        [delivery] = ledger.deliveries("release/")
    assert delivery["state"] == "permanent" and "[mail] max_message_mb" in delivery["detail"]
    assert "媒体发布 fazhi@media.example：被拒收（邮件过大（" in workspace.cli("status").stdout


def test_a_message_limit_below_a_tenth_of_a_megabyte_is_a_config_error(workspace: Workspace) -> None:
    workspace.configure("mail", max_message_mb=0.05)
    result = workspace.cli("status")
    assert result.returncode == 2 and "[mail] max_message_mb: 应在 0.1 到" in result.stderr


# --- a crafted workbook, refused within a memory bound --------------------------------------------

# What the pull and a whole cycle may use at most, as the operating system counts a process's peak
# resident memory: generous (an ordinary pull of a few rows peaks near 50 MB), and well within what
# the small server an office runs this on can spare.
MEMORY_BOUND_MB = 400
# Runs a command and reports its peak resident memory on stderr's last line.
_PEAK = ("import resource, subprocess, sys\n"
         "code = subprocess.run(sys.argv[1:]).returncode\n"
         "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
         "print(f'PEAK {peak / 2**20 if sys.platform == \"darwin\" else peak / 1024:.0f}', file=sys.stderr)\n"
         "sys.exit(code)\n")


def measured(workspace: Workspace, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python run.py ARGS`` in a fresh process; its result and its peak resident memory in MB."""
    env = {**os.environ, "PIPELINE_NOW": NOW, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, str(PROJECT / "run.py"),
                             "--config", str(workspace.config_path), *args],
                            cwd=workspace.root, env=env, capture_output=True, text=True, encoding="utf-8",
                            timeout=300)
    *rest, last = result.stderr.rstrip().splitlines()
    assert last.startswith("PEAK "), result.stderr
    result.stderr = "\n".join(rest)
    return result, float(last.split()[1])


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> Workspace:
    """A few hundred kilobytes of workbook whose 素材 reads as ~150 MB of cell text: cells past Excel's
    32,767 characters, rows of cells within it that add up to far more than any real row (valid but for
    their size), long submitter names, and ordinary rows between them."""
    workspace = Workspace.create(tmp_path_factory.mktemp("crafted"))
    too_long, longest = text_of(40_000), text_of(32_767)
    rows = []
    for n in range(300):
        case = f"（2026）琼9003执{1000 + n}号"
        if n % 3 == 0:
            rows.append(plain(case_number=case, title=f"第{n}件", facts=too_long, process=longest))
        elif n % 3 == 1:
            rows.append(plain(case_number=case, title=f"第{n}件", facts=longest, process=longest, outcome=longest,
                              submitter=longest))
        else:
            rows.append(plain(case_number=case, title=f"第{n}件"))
    craft(workspace, rows)
    assert workspace.workbook.stat().st_size < 500_000
    return workspace


def test_a_crafted_workbook_is_refused_row_by_row_within_a_memory_bound(crafted: Workspace) -> None:
    pulled, pull_peak = measured(crafted, "pull")
    cycle, cycle_peak = measured(crafted, "once")                       # pull, draft, publish, digest …

    assert pulled.returncode == 0 and "Traceback" not in pulled.stderr + cycle.stderr
    assert pull_peak < MEMORY_BOUND_MB and cycle_peak < MEMORY_BOUND_MB
    marks = statuses(crafted)
    assert len(marks) == 300
    for number, (ident, status) in marks.items():
        n = number - 2
        if n % 3 == 2:
            assert ident and status.startswith("已受理")
        else:
            assert ident is None and "本行超过 20000 字（" in status
            assert ("案情超过 32767 字（40000 字）" in status) == (n % 3 == 0)
    assert crafted.ledger.stat().st_size < 10 * MB                      # 100 good rows and 200 short errors
    assert stored(crafted)["longest"] < 5_000
    outbox = crafted.root / "outbox"
    assert len(list(outbox.glob("*-draft-*.eml"))) == 100
    assert max(p.stat().st_size for p in outbox.glob("*.eml")) < MB


def test_a_crafted_workbook_with_more_rows_than_allowed_is_refused_within_a_memory_bound(
        tmp_path: Path) -> None:
    workspace = Workspace.create(tmp_path)
    cell = text_of(2_000)
    craft(workspace, (plain(case_number=f"（2026）琼9003执{n}号", title=f"第{n}件", facts=cell)
                      for n in range(20_500)))                        # default max_rows: 20,000

    result, peak = measured(workspace, "pull")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "“素材”页有内容的行到第 20501 行，超过上限 20000 行（配置 [sheet] max_rows）" in result.stderr
    assert peak < MEMORY_BOUND_MB
    assert stored(workspace)["submissions"] == 0
