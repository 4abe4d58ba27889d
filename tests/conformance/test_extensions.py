"""The open check registry: an installed package's checks join a run through the
``gc_conformance.checks`` entry point (or ``GC_CONFORMANCE_EXTRA_CHECKS``), cite the same
catalogue, are recorded in the run document, and a broken extension is a clear exit 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gc_conformance.cli import EXIT_OK
from gc_conformance.errors import ConfigurationError

EXTENSION = '''
from gc_conformance.checks import check
from gc_conformance.session import Session


@check("acme.transfer.holder_keeps_what_is_left", requirements=["{requirement}"])
def holder_keeps_what_is_left(s: Session) -> None:
    """After a partial transfer the holder keeps exactly the rest (an extension's check)."""
    w = s.world()
    bundle = s.issue("DEV-WIND", w.meters["DEV-WIND"], 0, 1000, account=w.account(w.alice))
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=400)
    s.expect_equal(s.balance(w.account(w.alice)), 600, "the holder keeps the rest")
'''


def _install(root: Path, package: str, body: str, *, entry_point: bool = True) -> None:
    """A package on ``root`` with a dist-info declaring its checks, as pip would install it."""
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text(body, encoding="utf-8")
    if entry_point:
        info = root / f"{package}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[gc_conformance.checks]\nacme = {package}\n", encoding="utf-8"
        )


def _run(root: Path, *args: str, extra: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("GC_CONFORMANCE_EXTRA_CHECKS", None)
    if extra:
        env["GC_CONFORMANCE_EXTRA_CHECKS"] = extra
    return subprocess.run(
        [sys.executable, "-m", "gc_conformance", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_an_installed_extension_check_runs_and_is_recorded(tmp_path: Path) -> None:
    _install(tmp_path, "acme_checks", EXTENSION.format(requirement="SPLIT-001"))
    out = tmp_path / "run.json"
    done = _run(
        tmp_path,
        "run",
        "--adapter",
        "reference",
        "--no-vectors",
        "--check",
        "acme.transfer.holder_keeps_what_is_left",
        "--json",
        str(out),
    )
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["suite"]["extensions"] == ["acme_checks"]
    [result] = document["checks"]
    assert result["id"] == "acme.transfer.holder_keeps_what_is_left"
    assert result["status"] == "pass"
    listed = _run(tmp_path, "requirements", "--format", "json")
    assert "acme.transfer.holder_keeps_what_is_left" in listed.stdout


def test_extra_checks_without_packaging_through_the_environment(tmp_path: Path) -> None:
    _install(tmp_path, "loose_checks", EXTENSION.format(requirement="SPLIT-001"), entry_point=False)
    done = _run(tmp_path, "requirements", "--format", "json", extra="loose_checks")
    assert done.returncode == EXIT_OK, done.stderr
    assert "acme.transfer.holder_keeps_what_is_left" in done.stdout


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (EXTENSION.format(requirement="ACME-999"), "cites 'ACME-999', which is not in"),
        (
            EXTENSION.replace(
                "acme.transfer.holder_keeps_what_is_left", "core.transfer.non_owner_refused"
            ).format(requirement="SPLIT-001"),
            "is registered twice",
        ),
        ("raise RuntimeError('half installed')", "cannot be imported: RuntimeError"),
        ("VALUE = 1\n", "registers no check"),
    ],
    ids=["unknown-requirement", "built-in-id-taken", "import-fails", "no-check"],
)
def test_a_broken_extension_is_a_configuration_error_naming_it(
    tmp_path: Path, body: str, said: str
) -> None:
    _install(tmp_path, "acme_checks", body)
    done = _run(tmp_path, "run", "--adapter", "reference", "--no-vectors")
    assert done.returncode == ConfigurationError.exit_code, done.stdout + done.stderr
    assert said in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
