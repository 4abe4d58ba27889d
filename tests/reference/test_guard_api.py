"""One home per rule: books reach the registry only through its public API.

The storage and configuration books used to call about twenty private
``Registry`` helpers, and the claim refusals were written twice (registry and
storage). Now a book may call only the registry's public methods (the guard
API: ``require_issuer``, ``owned_bundle``, ``require_claimable``, ``carve`` ...),
so sealing a rule in the registry seals it on every path.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gc_conformance.reference as reference

#: a book is a module or, once split by concept, a package: every module of it is scanned
BOOKS = ("storage", "configurations")
REGISTRY_NAMES = {"reg", "registry", "gc", "_registry"}


def _private_registry_uses(source: str) -> list[str]:
    """``reg._x`` / ``registry._x`` / ``self._registry._x``: private names read on a registry."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if name in REGISTRY_NAMES:
            found.append(f"line {node.lineno}: {name}.{node.attr}")
    return found


def _book_sources(here: Path, book: str) -> list[Path]:
    """A book's module, or every module of its package once it is split into one."""
    module = here / book
    if module.is_file():
        return [module]
    return sorted((here / module.stem).glob("*.py"))


def test_the_books_call_no_private_registry_method() -> None:
    here = Path(reference.__file__).parent
    for book in BOOKS:
        sources = _book_sources(here, book)
        assert sources, book
        for source in sources:
            assert _private_registry_uses(source.read_text()) == [], source.name


def test_the_scan_sees_a_private_call() -> None:
    assert _private_registry_uses("def f(reg):\n    reg._carve(1)\n") == ["line 2: reg._carve"]
    assert _private_registry_uses("x = self._registry._accounts\n") == [
        "line 1: _registry._accounts"
    ]


def test_a_plain_claim_and_a_time_shift_claim_are_refused_by_one_rule() -> None:
    """The claim refusals have one home (``Registry.require_claimable``): the same code,
    field and words whichever way an SD-GC not yet cancelled is claimed."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "storage"))
    from storage_world import ISSUER, OPERATOR, World, hour

    from gc_conformance.reference import Claim
    from gc_conformance.reference.storage import (
        AllocateStorage,
        AssignUnknownBeneficiary,
        CancelForCharge,
        ClaimTimeShift,
        IssueStorageGC,
        SetEfficiencyFactor,
    )

    w = World()
    w.data("CHARGING", hour(0), 1000)
    w.data("DISCHARGING", hour(1), 800)
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))
    solar = w.produce("SOLAR", hour(10), 1000)
    w.data("CHARGING", hour(10), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", solar, "SAME_BIDDING_ZONE"))
    w.data("DISCHARGING", hour(20), 800)
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    sd_gc = w.ok(IssueStorageGC(ISSUER, "SDR-2")).bundle_id
    plain = w.run(Claim(OPERATOR, sd_gc, "CONSUMER")).problem
    shifted = w.run(ClaimTimeShift(OPERATOR, sd_gc, "CONSUMER")).problem
    assert (plain.code.name, plain.field) == ("NOT_CANCELLED", "bundle_id")
    assert (shifted.code, shifted.field, shifted.message) == (
        plain.code,
        plain.field,
        plain.message,
    )
