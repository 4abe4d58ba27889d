"""Meta-test: every error code the core lifecycle can produce is provoked by some test.

The core set is written out here on purpose rather than derived from the enum:
the storage (D7) and configuration (D3) areas add their own codes, which their
own tests cover. Codes the core lifecycle cannot produce on its own are listed
with the area that provokes them.

Named ``test_zz_...`` so that, in a full run, it runs after the modules whose
rejections it counts.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from core_builders import PROVOKED

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


def test_every_core_code_was_provoked_in_this_run(request: pytest.FixtureRequest) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.skip("under pytest-xdist each worker runs only part of the modules; run without -n")
    ran = {Path(str(item.path)).resolve() for item in request.session.items}
    missing_modules = [m.name for m in CORE_MODULES if m.resolve() not in ran]
    if missing_modules:
        pytest.skip(f"partial run (not collected: {', '.join(missing_modules)})")
    provoked = {code.name for code in PROVOKED}
    assert sorted(CORE_CODES - provoked) == []
