"""Packaging: the wheel, what it declares, and an offline install of it into a fresh environment.

The install tests do what README's "Offline install" tells the court's IT person to do, without a network:
a wheelhouse (here put together from this environment's installed packages, see wheelhouse.py), a new
virtual environment, ``pip install --no-index --find-links wheelhouse court-publicity``, then the installed
command in an empty folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from filelock import FileLock
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from conftest import PROJECT
from wheelhouse import checkout, closure, offline_env, repack, requires_dist

PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
GOOGLE = ("gspread", "google-auth")
needs_git = pytest.mark.skipif(shutil.which("git") is None or not (PROJECT / ".git").exists(),
                               reason="a fresh checkout is made with git from the project's repository")


def shared(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, FileLock]:
    """A folder every xdist worker of this run shares, and the lock that makes one of them fill it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    return root / name, FileLock(str(root / f"{name}.lock"))


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from a fresh checkout as `pip wheel` builds it."""
    if shutil.which("git") is None or not (PROJECT / ".git").exists():
        pytest.skip("the wheel is built from a fresh checkout, made with git from the project's repository")
    folder, lock = shared(tmp_path_factory, "wheel")
    with lock:
        built = sorted(folder.glob("court_publicity-*.whl"))
        if not built:
            source = checkout(folder / "source")
            result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                                     "--no-build-isolation", "-q", "-w", str(folder)],
                                    env=offline_env(), capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
            built = sorted(folder.glob("court_publicity-*.whl"))
        assert len(built) == 1
        return built[0]


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh virtual environment with the wheel installed from a local wheelhouse alone (no index)."""
    folder, lock = shared(tmp_path_factory, "installed")
    with lock:
        done = folder / "venv" / "installed"
        if not done.exists():
            house = folder / "wheelhouse"
            house.mkdir(parents=True, exist_ok=True)
            shutil.copy2(wheel, house)
            requires, _ = requires_dist(wheel)
            for dist in closure(requires):
                repack(dist, house)
            venv.create(folder / "venv", with_pip=True, clear=True)
            result = subprocess.run([str(_bin(folder / "venv", "python")), "-m", "pip", "install", "-q",
                                     "--no-index", "--find-links", str(house), "court-publicity"],
                                    env=offline_env(), capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
            done.touch()
        return folder / "venv"


def _bin(environment: Path, name: str) -> Path:
    return environment / ("Scripts" if os.name == "nt" else "bin") / name


def _run(command: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=offline_env(**env), capture_output=True,
                          text=True, encoding="utf-8", timeout=120)


# --- what the wheel declares ----------------------------------------------------------------------------

def test_the_wheel_refuses_python_older_than_3_11(wheel: Path) -> None:
    _, python = requires_dist(wheel)
    allowed = SpecifierSet(python)
    assert not allowed.contains("3.10.14") and not allowed.contains("3.9.0")
    assert allowed.contains("3.11.0") and allowed.contains("3.12.7") and allowed.contains("3.13.1")


def test_the_wheel_needs_tzdata_everywhere_and_google_only_with_the_gsheets_extra(wheel: Path) -> None:
    requires = [Requirement(text) for text in requires_dist(wheel)[0]]
    by_name = {canonicalize_name(r.name): r for r in requires}
    assert by_name["tzdata"].marker is None                          # Linux without zone data too
    for name in GOOGLE:
        marker = by_name[name].marker
        assert marker is not None and marker.evaluate({"extra": "gsheets"}) and not marker.evaluate({"extra": ""})
    plain = {canonicalize_name(r.name) for r in requires if r.marker is None}
    assert plain == {"jinja2", "schedule", "openpyxl", "python-docx", "filelock", "tzdata"}


def test_the_wheel_carries_every_template_and_the_default_config(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = archive.read("pipeline/_bundled/config/pipeline.toml")
    for path in (PROJECT / "templates").rglob("*"):
        if path.is_file():
            assert f"pipeline/_bundled/templates/{path.relative_to(PROJECT / 'templates').as_posix()}" in names
    assert shipped == (PROJECT / "config" / "pipeline.toml").read_bytes()
    assert "pipeline/__main__.py" in names
    assert not any(n.startswith(("tests/", "bench/", "deploy/")) for n in names)
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "court-publicity = pipeline.app.cli:main" in entry_points
    assert "court-publicity-w = pipeline.app.logged:main" in entry_points.split("[gui_scripts]")[1]


def test_requirements_txt_installs_tzdata_on_every_platform() -> None:
    lines = [line.split("#")[0].strip() for line in (PROJECT / "requirements.txt").read_text().splitlines()]
    tz = [Requirement(line) for line in lines if line and canonicalize_name(Requirement(line).name) == "tzdata"]
    assert len(tz) == 1 and tz[0].marker is None


def test_the_configured_zone_works_without_the_systems_zone_data(workspace, tmp_path: Path) -> None:
    no_zones = tmp_path / "no-zoneinfo"            # PYTHONTZPATH: where zoneinfo looks before the tzdata package
    no_zones.mkdir()
    probe = subprocess.run([sys.executable, "-c", "import zoneinfo; print(zoneinfo.TZPATH)"],
                           env={**os.environ, "PYTHONTZPATH": str(no_zones)}, capture_output=True, text=True)
    assert probe.stdout.strip() == repr((str(no_zones),))
    env = {"PYTHONTZPATH": str(no_zones), "PIPELINE_NOW": "2026-11-25T00:30:00+00:00", "TZ": "UTC"}
    workspace.cli("init", "--demo", check=True, env=env)
    ran = workspace.cli("once", "--due", check=True, env=env)
    assert ran.stdout.startswith("2026-11-25 08:30（Asia/Shanghai）")


# --- the lock file --------------------------------------------------------------------------------------

def _lock() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock: name → (pinned version, hashes)."""
    text = (PROJECT / "requirements.lock").read_text(encoding="utf-8")
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        first = block.strip().splitlines()[0] if block.strip() else ""
        if not first or first.startswith("#"):
            continue
        requirement = Requirement(first.rstrip(" \\"))
        pins = [s for s in requirement.specifier if s.operator == "=="]
        assert len(pins) == 1, f"not pinned: {first}"
        entries[canonicalize_name(requirement.name)] = (pins[0].version, re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def test_the_lock_pins_every_declared_dependency_with_hashes() -> None:
    lock = _lock()
    declared = [Requirement(t) for t in [*PYPROJECT["project"]["dependencies"],
                                         *PYPROJECT["project"]["optional-dependencies"]["gsheets"]]]
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} is declared in pyproject.toml but not in requirements.lock"
        assert requirement.specifier.contains(lock[name][0], prereleases=True), (name, lock[name][0])
    assert all(hashes for _, hashes in lock.values()), [n for n, (_, h) in lock.items() if not h]


def test_the_lock_names_the_one_command_that_makes_it_and_the_readme_gives_it() -> None:
    header = (PROJECT / "requirements.lock").read_text(encoding="utf-8").split("\n\n")[0]
    command = next(c for c in (line.strip("# ").strip() for line in header.splitlines()) if c.startswith("pip-compile "))
    assert "--generate-hashes" in command and "--extra=gsheets" in command and command.endswith("pyproject.toml")
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert command in readme


# --- the Google Sheets packages are optional ------------------------------------------------------------

def test_the_local_workbook_imports_no_google_library(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pipeline.app.cli import main\n"
        f"assert main(['--config', {str(tmp_path / 'p.toml')!r}, 'init', '--demo']) == 0\n"
        f"assert main(['--config', {str(tmp_path / 'p.toml')!r}, 'once']) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('gspread', 'google', 'requests'))\n"
        "print('loaded:', loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            encoding="utf-8", env={**os.environ, "PYTHONPATH": str(PROJECT)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout


def test_gsheets_without_its_packages_says_which_pip_command_installs_them(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    from pipeline.core import config
    from pipeline.core.errors import ConfigError
    from pipeline.sources import open_source

    for name in [m for m in sys.modules if m.split(".")[0] in ("gspread", "google")
                 or m in ("pipeline.sources.gsheets", "pipeline.sources.google_api")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "gspread", None)                    # as if it were not installed
    settings = config.load(PROJECT / "config" / "gsheets-smtp.example.toml")
    with pytest.raises(ConfigError) as raised:
        open_source(settings)
    assert 'pip install "court-publicity[gsheets]"' in str(raised.value)
    assert "pip install -r requirements.txt" in str(raised.value)
    assert raised.value.exit_code == 2


# --- an offline install into a fresh environment --------------------------------------------------------

@pytest.mark.install
def test_the_installed_command_runs_a_first_cycle_in_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "court"
    folder.mkdir()
    command = _bin(installed, "court-publicity")
    helped = _run([command, "--help"], folder)
    assert helped.returncode == 0 and helped.stdout.startswith("用法：court-publicity")
    assert "pipeline.toml" in helped.stdout
    module = _run([_bin(installed, "python"), "-m", "pipeline", "--version"], folder)
    assert module.returncode == 0 and module.stdout.startswith("court-publicity ")

    now = "2026-11-30T08:40:00+08:00"                  # a Monday, after the digest's 08:30
    no_zones = tmp_path / "zoneinfo"                   # a Linux without system zone data: tzdata must serve
    no_zones.mkdir()
    made = _run([command, "init", "--demo"], folder, PIPELINE_NOW=now, PYTHONTZPATH=str(no_zones))
    assert made.returncode == 0, made.stderr
    assert (folder / "pipeline.toml").is_file() and (folder / "data" / "workbook.xlsx").is_file()
    cycle = _run([command, "once"], folder, PIPELINE_NOW=now, PYTHONTZPATH=str(no_zones))
    assert cycle.returncode == 0, cycle.stdout + cycle.stderr
    assert "读取素材、生成稿件、发布：完成" in cycle.stdout and "每日简报（11月30日）：完成" in cycle.stdout
    outbox = {p.name for p in (folder / "outbox").iterdir()}
    assert any("-draft-D-2026-000001-" in n for n in outbox) and any("-digest-2026-11-30-" in n for n in outbox)
    status = _run([command, "status"], folder, PIPELINE_NOW=now)
    assert status.returncode == 0 and "执行一组" in status.stdout
    # Nothing was written inside the environment: the data lives in the folder it ran in.
    assert not list(installed.rglob("workbook.xlsx")) and not list(installed.rglob("ledger.sqlite3"))


@pytest.mark.install
def test_the_installed_package_takes_a_templates_folder_beside_its_config(installed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "court"
    bundled = next(installed.rglob("_bundled/templates"))
    shutil.copytree(bundled, folder / "templates")
    draft = folder / "templates" / "draft.txt"
    draft.write_text(draft.read_text(encoding="utf-8") + "\n本院自定义模板\n", encoding="utf-8")
    now = "2026-11-30T08:40:00+08:00"
    assert _run([_bin(installed, "court-publicity"), "init", "--demo"], folder, PIPELINE_NOW=now).returncode == 0
    assert _run([_bin(installed, "court-publicity"), "once"], folder, PIPELINE_NOW=now).returncode == 0
    mail = next((folder / "outbox").glob("*-draft-D-2026-000001-*.eml")).read_bytes()
    import email
    from email import policy
    body = email.message_from_bytes(mail, policy=policy.default).get_body(("plain",)).get_content()
    assert "本院自定义模板" in body


@pytest.mark.install
def test_the_installed_package_without_the_gsheets_extra_says_how_to_add_it(installed: Path,
                                                                            tmp_path: Path) -> None:
    shutil.copy2(PROJECT / "config" / "gsheets-smtp.example.toml", tmp_path / "g.toml")
    pulled = _run([_bin(installed, "court-publicity"), "--config", "g.toml", "pull"], tmp_path)
    assert pulled.returncode == 2
    assert 'pip install "court-publicity[gsheets]"' in pulled.stderr
    assert "gspread" not in _run([_bin(installed, "python"), "-m", "pip", "list"], tmp_path).stdout


@pytest.mark.install
def test_the_windows_launcher_appends_to_its_log_file(installed: Path, tmp_path: Path) -> None:
    now = "2026-11-30T08:40:00+08:00"
    assert _run([_bin(installed, "court-publicity"), "init", "--demo"], tmp_path, PIPELINE_NOW=now).returncode == 0
    launched = _run([_bin(installed, "court-publicity-w"), "logs/once.log", "once", "--due"], tmp_path,
                    PIPELINE_NOW=now)
    assert launched.returncode == 0 and launched.stdout == "" and launched.stderr == ""
    log = (tmp_path / "logs" / "once.log").read_text(encoding="utf-8")
    assert "2026-11-30 08:40（Asia/Shanghai）" in log and "读取素材、生成稿件、发布：完成" in log
    assert log.rstrip().endswith("==== 退出码 0")
