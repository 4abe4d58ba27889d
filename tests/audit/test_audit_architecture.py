"""The `conformance/audit/` row of ARCHITECTURE.md, checked by reading the package's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
AUDIT_MODULES = sorted((ROOT / "conformance" / "audit").glob("*.py"))
FORBIDDEN = (
    "gc_conformance.adapters",
    "gc_conformance.checks",
    "gc_conformance.runner",
    "gc_conformance.session",
    "gc_conformance.run",
    "gc_conformance.reports",
    "gc_conformance.server",
    "gc_conformance.vectors",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", AUDIT_MODULES, ids=lambda p: p.name)
def test_audit_judges_histories_and_never_drives_a_registry(module: Path) -> None:
    for name in _imports(module):
        for forbidden in FORBIDDEN:
            assert name != forbidden and not name.startswith(forbidden + "."), (
                f"{module.name} imports {name}"
            )


def test_only_the_cli_imports_the_audit() -> None:
    for module in sorted((ROOT / "conformance").rglob("*.py")):
        if "audit" in module.relative_to(ROOT / "conformance").parts or module.name in (
            "cli.py",
            "cli_parser.py",
        ):
            continue
        assert not any(n.startswith("gc_conformance.audit") for n in _imports(module)), module


def test_spark_is_imported_only_when_the_spark_engine_runs() -> None:
    """pyspark is an extra: the module level of the package never imports it."""
    for module in AUDIT_MODULES:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert not any(n.startswith("pyspark") for n in names), module.name
