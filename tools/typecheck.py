"""Run mypy on the installed import layout (``gc_conformance.*``) of this repository.

The repository keeps ``reference/``, ``conformance/`` ... at its top level while
the package installs them under one import name (see ARCHITECTURE.md). mypy
resolves modules from folders, not from setuptools' ``package-dir``, so this
builds a throw-away tree of symlinks in the import layout and checks that.
The mapping is read from pyproject.toml, so it cannot drift from the build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / ".typecheck"


def build_stage() -> Path:
    mapping: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "setuptools"
    ]["package-dir"]
    shutil.rmtree(STAGE, ignore_errors=True)
    for package, folder in sorted(mapping.items()):
        target = STAGE.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((ROOT / folder).iterdir()):
            is_subpackage = source.is_dir() and (source / "__init__.py").is_file()
            if is_subpackage or source.suffix in (".py", ".typed") or source.name == "py.typed":
                (target / source.name).symlink_to(source)
    return STAGE


def main() -> int:
    stage = build_stage()
    top = sorted(p for p in stage.iterdir() if p.is_dir())
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        *map(str, top),
    ]
    return subprocess.call(command, cwd=stage)


if __name__ == "__main__":
    sys.exit(main())
