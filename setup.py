"""The package carries the project's templates and default config (pyproject.toml holds the rest).

They live at the project's top level, where the office edits them and ``python run.py`` reads them;
a wheel copies them into ``pipeline/_bundled/``, where an installed ``court-publicity`` finds them
(``pipeline/core/config.py``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = {"templates": "templates", "config/pipeline.toml": "config/pipeline.toml",
           "config/gsheets-smtp.example.toml": "config/gsheets-smtp.example.toml"}


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):     # an editable install reads them where they are
            return
        target = Path(self.build_lib) / "pipeline" / "_bundled"
        for source, name in BUNDLED.items():
            origin, copy = HERE / source, target / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, copy, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
            else:
                shutil.copy2(origin, copy)


setup(cmdclass={"build_py": BuildWithResources})
