"""The folders of ``pipeline/`` are layers, and the layers are the data flow (docs/architecture.md):
a module imports only from its own package or from a lower layer, so no two packages import each other."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import PROJECT

# Lowest first; packages on one line are side by side and must not import each other.
LAYERS = (
    ("core",),                        # types, settings, errors, values, the workbook's layout
    ("plan", "mail", "sources"),      # the work plan and the review lifecycle; building and sending mail; the sheet
    ("intake", "texts"),              # rows to submissions; everything written for people
    ("ledger",),                      # the pipeline's memory
    ("flows",),                       # the jobs: pull, draft, review, publish, dispatch, the brief
    ("app",),                         # the command line, the scheduler, the console
)
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
TOP = PROJECT / "pipeline"


def imports(path: Path, root: Path = PROJECT) -> list[tuple[str, int]]:
    """The pipeline packages ``path`` imports from, with the line of each import."""
    module = path.relative_to(root).with_suffix("").parts
    package = list(module[:-1])                       # a module's package; an __init__'s package is itself
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
                targets = [target] if node.module else [target + [alias.name] for alias in node.names]
            else:
                targets = [(node.module or "").split(".")]
        elif isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        else:
            continue
        found += [(target[1], node.lineno) for target in targets if target[0] == "pipeline" and len(target) > 1]
    return found


def violations(root: Path = PROJECT) -> list[str]:
    """Every import of a package in the same or a higher layer than the importing module's own."""
    wrong = []
    for path in sorted((root / "pipeline").rglob("*.py")):
        own = path.relative_to(root / "pipeline").parts[0]
        if own not in RANK:
            continue
        for package, line in imports(path, root):
            if package != own and package in RANK and RANK[package] >= RANK[own]:
                wrong.append(f"{path.relative_to(root)}:{line} imports pipeline.{package}")
    return wrong


def test_every_package_is_placed_in_a_layer() -> None:
    packages = {p.name for p in TOP.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(RANK)
    # no module outside the layers, but ``python -m pipeline``'s entry, which only starts the command line
    assert sorted(p.name for p in TOP.glob("*.py")) == ["__init__.py", "__main__.py"]
    assert imports(TOP / "__main__.py") == [("app", 5)]


def test_no_module_imports_from_a_higher_layer_or_from_a_package_beside_it() -> None:
    assert violations() == []


def test_the_check_catches_an_import_upward_and_one_sideways(tmp_path: Path) -> None:
    for folder, text in (("core", "from ..ledger import Ledger\nfrom . import model\n"),
                         ("mail", "from ..sources import open_source\nfrom pipeline.core import errors\n"),
                         ("ledger", "from .. import __version__\nfrom ..texts.redact import guard\n")):
        (tmp_path / "pipeline" / folder).mkdir(parents=True)
        (tmp_path / "pipeline" / folder / "__init__.py").write_text("")
        (tmp_path / "pipeline" / folder / "m.py").write_text(text, encoding="utf-8")
    assert violations(tmp_path) == ["pipeline/core/m.py:1 imports pipeline.ledger",
                                    "pipeline/mail/m.py:1 imports pipeline.sources"]
