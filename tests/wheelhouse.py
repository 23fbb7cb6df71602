"""Offline stand-ins for what a connected machine does before an install: a fresh checkout of the project,
and a wheelhouse holding the wheels of its dependencies.

On a connected machine the wheelhouse comes from ``pip download`` (README, "Offline install"). The tests
reach no index, so they put together the same folder from what this environment has installed: each
distribution's files, exactly as its own wheel put them down (its RECORD lists them), zipped back into a
wheel. ``pip install --no-index --find-links`` then resolves the project's declared dependencies from that
folder alone: a dependency missing from ``pyproject.toml`` is missing from the fresh environment.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = Path(__file__).resolve().parent.parent
# The files pip writes into a dist-info at install time, not part of a wheel.
_INSTALL_ONLY = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def offline_env(**extra: str) -> dict[str, str]:
    """The environment for a pip that sees no index and no configured find-links or constraints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONIOENCODING="utf-8", **extra)
    env.pop("PYTHONPATH", None)
    return env


def checkout(dest: Path) -> Path:
    """The project as a fresh clone of its current state has it: the files git tracks or would track
    (untracked files that are not ignored included), with nothing ignored — no .venv, data/, outbox/, logs/."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT, capture_output=True, check=True).stdout.decode("utf-8")
    dest.mkdir(parents=True, exist_ok=True)
    for name in filter(None, listed.split("\0")):
        source = PROJECT / name
        if source.is_file():                     # a file deleted but not yet staged is not in the clone
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def closure(requirements: list[str], extras: tuple[str, ...] = ()) -> list[metadata.Distribution]:
    """The installed distributions ``requirements`` need, transitively, on this platform."""
    env = default_environment()
    seen: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(text), extras) for text in requirements]
    while todo:
        requirement, wanted = todo.pop()
        if requirement.marker is not None and not any(
                requirement.marker.evaluate({**env, "extra": extra}) for extra in (wanted or ("",))):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        dist = metadata.distribution(requirement.name)
        seen[name] = dist
        todo += [(Requirement(text), tuple(requirement.extras)) for text in dist.requires or ()]
    return list(seen.values())


def repack(dist: metadata.Distribution, dest: Path) -> Path:
    """``dist`` zipped back into the wheel it was installed from (its tags, files and metadata)."""
    info = next(f for f in dist.files if f.parts[0].endswith(".dist-info") and f.name == "WHEEL")
    tags = [line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if line.startswith("Tag:")]
    parts = [sorted({tag.split("-")[i] for tag in tags}) for i in range(3)]
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel = dest / f"{name}-{dist.version}-{'-'.join('.'.join(p) for p in parts)}.whl"
    record_name = f"{info.parts[0]}/RECORD"
    rows = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in dist.files:
            if file.parts[0] == ".." or "__pycache__" in file.parts or file.suffix == ".pyc":
                continue                     # console scripts (made again from entry_points.txt), bytecode
            if file.parts[0].endswith(".dist-info") and file.name in _INSTALL_ONLY:
                continue
            data = Path(dist.locate_file(file)).read_bytes()
            archive.writestr(file.as_posix(), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append(f"{file.as_posix()},sha256={digest},{len(data)}")
        archive.writestr(record_name, "\n".join([*rows, f"{record_name},,"]) + "\n")
    return wheel


def requires_dist(wheel: Path) -> tuple[list[str], str]:
    """A built wheel's Requires-Dist lines and its Requires-Python, from its METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = archive.read(name).decode("utf-8")
    headers = message.split("\n\n", 1)[0].splitlines()
    requires = [h.split(":", 1)[1].strip() for h in headers if h.startswith("Requires-Dist:")]
    python = next(h.split(":", 1)[1].strip() for h in headers if h.startswith("Requires-Python:"))
    return requires, python
