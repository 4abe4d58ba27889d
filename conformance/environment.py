"""Where and how a run was made: the exact command line, Python, the OS and the versions of the
packages that judge, carried by the run document under ``environment``.

An auditor filing a report must be able to say what produced it, and a vendor
reproducing a failure must be able to rebuild the same tooling. The builder
reads only the interpreter and the installed distributions' metadata: no
network, no subprocess, nothing that varies between two calls in one process.
"""

from __future__ import annotations

import platform
import shlex
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

#: The distributions whose versions can change a verdict or a report.
PACKAGES = (
    "gc-conformance",
    "pytest",
    "pytest-xdist",
    "hypothesis",
    "attrs",
    "networkx",
    "jinja2",
    "jsonschema",
    "httpx",
)

_COMMAND: list[str] = []


def record_command(argv: Sequence[str] | None) -> None:
    """Remember the command line ``gc-conformance`` was called with (``cli.main`` does this)."""
    _COMMAND[:] = list(sys.argv[1:] if argv is None else argv)


def command_line() -> str:
    """The command, quoted so it can be pasted back into a shell."""
    return shlex.join(["gc-conformance", *_COMMAND]) if _COMMAND else shlex.join(sys.argv)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe_environment() -> dict[str, Any]:
    """The ``environment`` object of a run document (docs/run-json.md)."""
    return {
        "command": command_line(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "machine": platform.machine(),
        "packages": package_versions(),
    }


__all__ = ["command_line", "describe_environment", "package_versions", "record_command"]
