"""The import rules of ARCHITECTURE.md, checked by reading every shipped module's imports."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_ALLOWED_THIRD_PARTY = {"attrs", "networkx"}
# Modules the reference model must never touch: it has no clock, no I/O, no randomness.
FORBIDDEN_IN_REFERENCE = {"time", "random", "os", "io", "pathlib", "socket", "subprocess", "shutil"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


REFERENCE_MODULES = sorted((ROOT / "reference").rglob("*.py"))


@pytest.mark.parametrize("module", REFERENCE_MODULES, ids=lambda p: p.name)
def test_reference_imports_only_itself_attrs_networkx_and_pure_stdlib(module: Path) -> None:
    for name in _imports(module):
        top = name.split(".")[0]
        if top == "gc_conformance":
            assert name.startswith("gc_conformance.reference"), f"{module.name} imports {name}"
        else:
            assert top not in FORBIDDEN_IN_REFERENCE, f"{module.name} imports {name} (I/O or clock)"
            if top not in REFERENCE_ALLOWED_THIRD_PARTY:
                assert top in _stdlib(), f"{module.name} imports third-party {name}"


def test_reference_never_reads_the_clock() -> None:
    for module in REFERENCE_MODULES:
        text = module.read_text(encoding="utf-8")
        for call in (".now(", ".utcnow(", ".today(", "time.time("):
            assert call not in text, f"{module.name} calls {call}"


def test_every_shipped_folder_is_mapped_under_one_import_name() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    assert all(name == "gc_conformance" or name.startswith("gc_conformance.") for name in mapping)
    packages = set(config["tool"]["setuptools"]["packages"])
    assert set(mapping) <= packages
    for package in packages:  # a subpackage lives in its mapped parent's folder
        parent = max((m for m in mapping if package == m or package.startswith(m + ".")), key=len)
        folder = ROOT / mapping[parent] / package[len(parent) :].lstrip(".").replace(".", "/")
        assert (folder / "__init__.py").is_file(), f"{package} has no folder {folder}"
    assert mapping["gc_conformance.reference"] == "reference"
    # ... and every shipped folder with an __init__.py is listed: a module split into a
    # package must not silently drop out of the wheel.
    for parent, root in mapping.items():
        for init in (ROOT / root).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / root)
            name = ".".join([parent, *relative.parts]) if relative.parts else parent
            if not any(name == m or name.startswith(m + ".") for m in set(mapping) - {parent}):
                assert name in packages, f"{name} ({init.parent}) is not in pyproject's packages"


def test_failures_are_plain_exceptions_of_the_outcome_vocabulary() -> None:
    """``failures`` is imported by checks, session, runner, vectors and extensions: it may
    depend on nothing but the outcome types, or a check could not import it cheaply."""
    ours = {n for n in _imports(ROOT / "conformance" / "failures.py") if n.startswith("gc_")}
    assert ours <= {"gc_conformance.outcomes"}


REPORT_MODULES = sorted((ROOT / "reports").rglob("*.py"))


@pytest.mark.parametrize("module", REPORT_MODULES, ids=lambda p: p.name)
def test_reports_render_documents_and_never_drive_a_registry(module: Path) -> None:
    """Reports read run documents; they must not import adapters, checks or the runner."""
    for name in _imports(module):
        for forbidden in ("gc_conformance.adapters", "gc_conformance.checks", "gc_conformance.run"):
            assert not name.startswith(forbidden), f"{module.name} imports {name}"


HARNESS_MODULES = sorted((ROOT / "conformance").rglob("*.py"))
#: The command line: its handlers and its grammar (each command adds its own arguments).
CLI_MODULES = ("conformance/cli.py", "conformance/cli_parser.py")


@pytest.mark.parametrize("module", HARNESS_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_harness_never_depends_on_the_vectors_code(module: Path) -> None:
    """Only the CLI reaches the vectors (a thin subcommand); the run document reads their
    index.json as package data. The vectors depend on the harness, never the reverse."""
    if module.relative_to(ROOT).as_posix() in CLI_MODULES:
        return
    for name in _imports(module):
        assert not name.startswith("gc_conformance.vectors"), f"{module.name} imports {name}"


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names) | {"__future__"}


SERVER_MODULES = sorted((ROOT / "conformance" / "server").rglob("*.py"))


@pytest.mark.parametrize("module", SERVER_MODULES, ids=lambda p: p.name)
def test_the_server_is_a_registry_never_a_judge(module: Path) -> None:
    """``serve`` is the reference behind HTTP: it may use the reference adapter and the
    mapping, never the checks, the runner, sessions or reports that judge registries."""
    forbidden = (
        "gc_conformance.checks",
        "gc_conformance.runner",
        "gc_conformance.session",
        "gc_conformance.plugin",
        "gc_conformance.run",
        "gc_conformance.reports",
    )
    for name in _imports(module):
        assert not name.startswith(forbidden), f"{module.name} imports {name}"


@pytest.mark.parametrize("module", HARNESS_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_cli_starts_the_server(module: Path) -> None:
    path = module.relative_to(ROOT).as_posix()
    if path in CLI_MODULES or path.startswith("conformance/server/"):
        return
    for name in _imports(module):
        assert not name.startswith("gc_conformance.server"), f"{path} imports {name}"


_INSTALLED_AS = {
    "conformance": "gc_conformance",
    "reference": "gc_conformance.reference",
    "reports": "gc_conformance.reports",
    "vectors": "gc_conformance.vectors",
}
_EVERY_MODULE = sorted(
    path
    for folder in ("conformance", "reference", "reports", "vectors", "tests", "benchmarks", "tools")
    for path in (ROOT / folder).rglob("*.py")
)


def _package_of(path: Path) -> str:
    """The installed package a file belongs to ("" for the unshipped tests, tools, benchmarks)."""
    parts = path.relative_to(ROOT).parts
    if parts[0] not in _INSTALLED_AS:
        return ""
    return ".".join([_INSTALLED_AS[parts[0]], *parts[1:-1]])


@pytest.mark.parametrize("module", _EVERY_MODULE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_from_another_package(module: Path) -> None:
    """A leading underscore means "this package's own business": modules of one package may
    share such names, but nothing outside it, tests included, imports them. Whatever another
    package needs is made public first, so that a refactoring inside a package can rely on
    its private names being reached from nowhere else (faulty registries override the
    model's private *methods* by subclassing, listed in ``faulty.MODEL_INTERNALS``; they
    never import a private name)."""
    own = _package_of(module)
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
            continue
        if not node.module.startswith("gc_conformance"):
            continue
        private = [a.name for a in node.names if a.name.startswith("_") and a.name != "__version__"]
        if not private:
            continue
        home = node.module if node.module == own else node.module.rpartition(".")[0]
        assert own and home == own, (
            f"{module.relative_to(ROOT)} imports private {private} from {node.module}"
        )
