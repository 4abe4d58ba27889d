"""Shared by the edge checks: the cast's names, the failure type that names only the edge's
requirement, and small steps (a refusal judged with its atomicity, conservation per issuance)."""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from gc_conformance.clock import read_stamp
from gc_conformance.outcomes import FailureKind, Severity
from gc_conformance.session import (
    CheckFailed,
    Session,
    World,
    WrongVerdict,
    stamp,
)

CRITICAL, MAJOR, MINOR = Severity.CRITICAL, Severity.MAJOR, Severity.MINOR
WIND, SOLAR = "DEV-WIND", "DEV-SOLAR"
BENEFICIARY = "carol"  # a party with an account, named as beneficiary of alice's cancellation
NOBODY = "mallory"  # a party with no account at all
TEN_MILLION = 10_000_000
BIG = "DEV-BIG"  # 20 MW: 10^7 Wh in one hour is within its capacity


class EdgeFailed(CheckFailed):
    """A failure naming only the requirement(s) the failing edge is about (see the runner)."""


# ====================================================================== helpers


def refused(
    s: Session,
    action: str,
    actor: str,
    why: str,
    *,
    severity: Severity = CRITICAL,
    requirements: tuple[str, ...] = (),
    **fields: Any,
) -> None:
    """``action`` must be refused (any code: see the module docstring) and change nothing."""
    before = s.snapshot()
    answer = s.send(action, actor, expectation="reject", **fields)
    if answer.accepted:
        message = f"{action} was accepted although {why}"
        expected, observed = "refused, nothing changed", f"accepted {dict(answer.result)}"
        if requirements:
            raise EdgeFailed(
                message,
                expected=expected,
                observed=observed,
                severity=severity,
                requirements=requirements,
                kind=FailureKind.WRONG_VERDICT,
            )
        raise WrongVerdict(message, expected=expected, observed=observed, severity=severity)
    try:
        s.require_unchanged(before, f"the refused {action} ({why})")
    except CheckFailed as exc:
        raise EdgeFailed(
            exc.message,
            expected=exc.expected,
            observed=exc.observed,
            severity=exc.severity,
            requirements=("IT-001",),
            kind=exc.kind,
        ) from None


def issuance_of(s: Session, bundle_id: Any) -> tuple[Any, Any]:
    """(device, production start) of a bundle: its issuance, numbering-free."""
    found = s.bundle(bundle_id)
    s.expect(found is not None, "a bundle an accepted answer named is observable (D9)",
             expected=f"bundle {bundle_id!r}", observed="absent")  # fmt: skip
    assert found is not None
    return found.get("device_id"), found.get("production_starting_interval")


def conserved(s: Session, device: str, start: str, total: int, what: str) -> None:
    """The current bundles of one issuance hold ``total`` exactly and partition one range."""
    bundles = [
        b
        for b in s.observe()["bundles"]
        if b.get("device_id") == device and b.get("production_starting_interval") == start
    ]
    held = sum(b["bundle_quantity"] for b in bundles)
    spans = sorted(
        (b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"])
        for b in bundles
    )
    lengths = [b["bundle_quantity"] == b["certificate_bundle_id_range_end"]
               - b["certificate_bundle_id_range_start"] + 1 for b in bundles]  # fmt: skip
    gaps = [a for a, b in itertools.pairwise(spans) if b[0] != a[1] + 1]
    if held != total or not all(lengths) or gaps or any(q <= 0 for q in _quantities(bundles)):
        raise EdgeFailed(
            f"after {what}, the issuance's bundles do not hold exactly what was issued in one "
            "unbroken range of positive bundles",
            expected=f"{total} certificates in contiguous ranges, each quantity = range length",
            observed=f"{held} certificates in {spans} (quantities {_quantities(bundles)})",
            severity=CRITICAL,
            requirements=("DC-007", "SPLIT-001", "SPLIT-002", "SPLIT-004"),
            kind=FailureKind.CONSERVATION,
        )


def _quantities(bundles: Iterable[Mapping[str, Any]]) -> list[int]:
    return [int(b["bundle_quantity"]) for b in bundles]


def issue_wh(s: Session, w: World, wh: int, hour: int = 0, device: str = WIND) -> Any:
    return s.issue(device, w.meters.get(device, "M-BIG"), hour, wh, account=w.account(w.alice))


def production(
    s: Session, device: str, meter: str, start: str, end: str, energy: int | str
) -> dict[str, Any]:
    return {
        "device_id": device,
        "meter_id": meter,
        "start": start,
        "end": end,
        "energy_wh": str(energy),
    }


def shifted(moment: str, **delta: float) -> str:
    parsed = read_stamp(moment)
    return stamp(parsed + _dt.timedelta(**delta))


def the_other(s: Session, account: str, device: str) -> Any:
    """The one active bundle left in ``account`` for ``device``: a split's remainder when the
    registry's answer does not name it."""
    found = [b for b in s.bundles(account_id=account, device_id=device)
             if b["certificate_bundle_status"] == "ACTIVE"]  # fmt: skip
    s.expect(len(found) == 1, "the remainder of a split stays with the sender (SPLIT-001)",
             expected="one active remainder", observed=found)  # fmt: skip
    return found[0]["bundle_id"]
