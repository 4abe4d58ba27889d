"""Meta-test: every error code the core lifecycle can produce is provoked by some test.

The core set is written out here on purpose rather than derived from the enum:
the storage (D7) and configuration (D3) areas add their own codes, which their
own tests cover. Codes the core lifecycle cannot produce on its own are listed
with the area that provokes them.

The provocation count runs the core modules in a subprocess of its own, so it holds
whatever the order of the tests and however pytest-xdist shares them out.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from gc_conformance.reference import ErrorCode

CORE_CODES = frozenset(
    {
        # malformed input
        "INVALID_TIMESTAMP",
        "INVALID_DATE",
        "INVALID_INTERVAL",
        "INTERVAL_TOO_LONG",
        "INVALID_ENERGY",
        "INVALID_QUANTITY",
        "INVALID_FIELD",
        "INVALID_POLICY",
        # existence
        "UNKNOWN_ACCOUNT",
        "UNKNOWN_DEVICE",
        "UNKNOWN_BUNDLE",
        "UNKNOWN_PRODUCTION",
        "DUPLICATE_ACCOUNT",
        "DUPLICATE_DEVICE",
        "METER_MISMATCH",
        "DUPLICATE_METER_ID",
        "GROSS_NET_MISMATCH",
        # authority
        "NOT_AUTHORISED",
        "NOT_OWNER",
        "ISSUER_MAY_NOT_HOLD",
        "ISSUER_MAY_NOT_TRADE",
        # issuance
        "DUPLICATE_ISSUANCE",
        "CAPACITY_EXCEEDED",
        "RANGE_OVERLAP",
        "RANGE_QUANTITY_MISMATCH",
        "QUANTITY_EXCEEDS_PRODUCTION",
        "ACCOUNT_MISMATCH",
        "PRODUCTION_TOO_OLD",
        # lifecycle
        "BUNDLE_NOT_ACTIVE",
        "QUANTITY_EXCEEDS_BUNDLE",
        "SAME_ACCOUNT",
        "CERTIFICATE_EXPIRED",
        "NOT_CANCELLED",
        "ALREADY_CLAIMED",
        "BENEFICIARY_MISMATCH",
        "NOT_RESERVED",
        "TIME_REVERSAL",
        "INTERVAL_NOT_ENDED",
        "CONSUMPTION_OUTSIDE_VALIDITY",
        "STORAGE_CHARGE_NEEDS_SCR",
        # error correction
        "CORRECTION_UNCHANGED",
        "DEDUCTION_NOT_APPLIED",
    }
)

# Checked by the core registry, but only GCs issued by another area can trigger it.
RESERVED_FOR_OTHER_AREAS = {
    "NOT_TRANSFERABLE": "configuration #3 GCs are issued non-transferable (D3); configurations tests",
}

HERE = Path(__file__).resolve().parent
CORE_MODULES = sorted(p for p in HERE.glob("test_*.py") if p.name != Path(__file__).name)


def test_every_listed_code_exists() -> None:
    names = {member.name for member in ErrorCode}
    assert names >= CORE_CODES
    assert set(RESERVED_FOR_OTHER_AREAS) <= names
    assert not CORE_CODES & set(RESERVED_FOR_OTHER_AREAS)


def test_every_core_code_is_expected_by_some_test_module() -> None:
    referenced: set[str] = set()
    for module in CORE_MODULES:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "ErrorCode"
            ):
                referenced.add(node.attr)
    assert sorted(CORE_CODES - referenced) == []


def test_every_core_code_is_provoked_by_the_core_modules(tmp_path: Path) -> None:
    """Runs the core modules in a process of its own and counts the codes they provoked, so
    the result depends neither on test order nor on how pytest-xdist shares the modules out."""
    out = tmp_path / "provoked.json"
    script = (
        "import json, sys, pytest, core_builders\n"
        "code = pytest.main(sys.argv[2:])\n"
        "names = sorted(c.name for c in core_builders.PROVOKED)\n"
        "open(sys.argv[1], 'w').write(json.dumps(names))\n"
        "sys.exit(int(code))\n"
    )
    args = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist", *(m.name for m in CORE_MODULES)]
    done = subprocess.run(
        [sys.executable, "-c", script, str(out), *args],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    provoked = set(json.loads(out.read_text(encoding="utf-8")))
    assert sorted(CORE_CODES - provoked) == []
