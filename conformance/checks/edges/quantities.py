"""Quantities at their limits (the whole, one under, one over, more than is there), magnitudes
up to 10^7 Wh, and every party in every role of a transfer, cancellation and claim."""

from __future__ import annotations

from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    BENEFICIARY,
    BIG,
    CRITICAL,
    NOBODY,
    TEN_MILLION,
    conserved,
    issuance_of,
    issue_wh,
    refused,
    the_other,
)
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    device_record,
)

# ====================================================================== quantities at the limit


@check(
    "edges.quantity.at_one_under_one_over",
    requirements=["QTY-001", "QTY-002", "SPLIT-001", "SPLIT-004", "DC-007"],
)
def quantity_edges(s: Session) -> None:
    """Every operation taking a quantity: one over what is held refused, all of it and all but
    one accepted, leaving no empty bundle; 1 accepted and 0 refused."""
    w = s.world()
    bundle = issue_wh(s, w, 1000)
    device, start = issuance_of(s, bundle)
    to_bob: dict[str, Any] = {"to_account": w.account(w.bob)}
    # transfer: held + 1 refused; held - 1 accepted (remainder of 1); then 1 of 1 (whole)
    refused(s, "transfer", w.alice, "it asks for one more than the bundle holds",
            requirements=("QTY-002",), bundle_id=bundle, quantity=1001, **to_bob)  # fmt: skip
    moved = s.accept("transfer", w.alice, bundle_id=bundle, quantity=999, **to_bob)
    conserved(s, device, start, 1000, "a transfer of all but one")
    rest = moved.get("remainder_id")
    rest = rest if rest is not None else the_other(s, w.account(w.alice), device)
    refused(s, "transfer", w.alice, "it asks for 2 of a bundle of 1", requirements=("QTY-002",),
            bundle_id=rest, quantity=2, **to_bob)  # fmt: skip
    refused(s, "transfer", w.alice, "a quantity of 0 is not a positive number of certificates",
            requirements=("QTY-001",), bundle_id=rest, quantity=0, **to_bob)  # fmt: skip
    s.accept("transfer", w.alice, bundle_id=rest, quantity=1, **to_bob)
    conserved(s, device, start, 1000, "a transfer of exactly what the bundle holds")
    s.expect_equal(s.balance(w.account(w.alice)), 0, "alice gave all 1000 away; nothing stays",
                   severity=CRITICAL)  # fmt: skip
    s.expect_equal(s.balance(w.account(w.bob)), 1000, "bob holds all 1000", severity=CRITICAL)
    # cancel, reserve and withdraw at the limit, on a fresh bundle of 10
    cases: tuple[tuple[str, dict[str, Any], str], ...] = (
        ("cancel", {"beneficiary": "Consumer-X"}, w.alice),
        ("reserve", {}, w.alice),
        ("withdraw", {"reason": "edge"}, ISSUER_ID),
    )
    for action, extra, actor in cases:
        if not s.optional(action):
            continue
        hour = {"cancel": 1, "reserve": 2, "withdraw": 3}[action]
        small = issue_wh(s, w, 10, hour=hour)
        dev, first = issuance_of(s, small)
        refused(s, action, actor, "it asks for 11 of a bundle of 10", requirements=("QTY-002",),
                bundle_id=small, quantity=11, **extra)  # fmt: skip
        s.accept(action, actor, bundle_id=small, quantity=10, **extra)
        conserved(s, dev, first, 10, f"a {action} of exactly what the bundle holds")


@check(
    "edges.quantity.claims_and_overasks",
    requirements=[
        "CLAIM-002",
        "QTY-002",
        "DC-005",
        "DC-007",
        "SPLIT-001",
        "SPLIT-002",
        "SPLIT-004",
    ],
)
def claim_edges(s: Session) -> None:
    """A claim of one more than was cancelled is refused; all of it is accepted, once."""
    w = s.world()
    bundle = issue_wh(s, w, 50)
    device, start = issuance_of(s, bundle)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary="Consumer-X", quantity=50)
    refused(s, "claim", w.alice, "it claims 51 of 50 cancelled", requirements=("QTY-002",),
            bundle_id=bundle, claimant="Consumer-X", quantity=51)  # fmt: skip
    s.accept("claim", w.alice, bundle_id=bundle, claimant="Consumer-X", quantity=50)
    conserved(s, device, start, 50, "a claim of exactly what was cancelled")
    refused(s, "claim", w.alice, "the certificates were claimed already",
            requirements=("DC-005",), bundle_id=bundle, claimant="Consumer-X")  # fmt: skip


# ====================================================================== magnitudes


@check(
    "edges.magnitude.ten_million_wh",
    requirements=["ATTR-003", "SPLIT-001", "SPLIT-002", "SPLIT-004", "QTY-002", "DC-007"],
)
def ten_million(s: Session) -> None:
    """10^7 Wh issued, split near both ends and in the middle, over-asked: nothing lost or made."""
    w = s.world()
    s.accept("register_device", ISSUER_ID,
             device=device_record(BIG, "M-BIG", w.account(w.alice), 20_000_000, "wind"))  # fmt: skip
    bundle = issue_wh(s, w, TEN_MILLION, device=BIG)
    device, start = issuance_of(s, bundle)
    issued = s.bundle(bundle)
    assert issued is not None
    s.expect_equal(issued["bundle_quantity"], TEN_MILLION, "10^7 Wh issue 10^7 certificates",
                   severity=CRITICAL)  # fmt: skip
    to_bob: dict[str, Any] = {"to_account": w.account(w.bob)}
    refused(s, "transfer", w.alice, "it asks for 10^7 + 1 of 10^7", requirements=("QTY-002",),
            bundle_id=bundle, quantity=TEN_MILLION + 1, **to_bob)  # fmt: skip
    moved = s.accept("transfer", w.alice, bundle_id=bundle, quantity=TEN_MILLION - 1, **to_bob)
    conserved(s, device, start, TEN_MILLION, "a transfer of 10^7 - 1")
    part = moved.get("bundle_id")
    if part is None:
        part = s.bundles(account_id=w.account(w.bob), device_id=BIG)[0]["bundle_id"]
    s.accept("cancel", w.bob, bundle_id=part, beneficiary="Consumer-X", quantity=5_000_000)
    conserved(s, device, start, TEN_MILLION, "a cancellation of 5 * 10^6 of 10^7 - 1")
    s.expect_equal(s.balance(w.account(w.bob)), 4_999_999, "bob keeps 10^7 - 1 - 5 * 10^6",
                   severity=CRITICAL)  # fmt: skip
    s.expect_equal(s.balance(w.account(w.bob), "CANCELLED"), 5_000_000,
                   "5 * 10^6 cancelled", severity=CRITICAL)  # fmt: skip


# ====================================================================== every party in every role


@check(
    "edges.roles.every_party",
    requirements=["AUTH-001", "AUTH-002", "AUTH-003", "AUTH-004", "AUTH-006", "DC-006"],
)
def every_party_in_every_role(s: Session) -> None:
    """Only the holder transfers, cancels, claims, reserves and releases; only the issuer
    withdraws: the issuer, another holder, the beneficiary and a party with no account are refused."""
    w = s.world()
    # carol (the beneficiary of alice's cancellation below) has an account; mallory has none
    others = {"the GC Issuer": ISSUER_ID, "another holder": w.bob,
              "the beneficiary": BENEFICIARY, "a party with no account": NOBODY}  # fmt: skip
    bundle = issue_wh(s, w, 100)
    to_bob: dict[str, Any] = {"to_account": w.account(w.bob)}
    for role, party in others.items():
        refused(s, "transfer", party, f"{role} is not the holder",
                requirements=("AUTH-001",), bundle_id=bundle, **to_bob)  # fmt: skip
        refused(s, "transfer", party, f"{role} is not the holder (part)",
                requirements=("AUTH-001",), bundle_id=bundle, quantity=1, **to_bob)  # fmt: skip
        refused(s, "cancel", party, f"{role} is not the holder", requirements=("AUTH-002",),
                bundle_id=bundle, beneficiary=BENEFICIARY)  # fmt: skip
        if party != ISSUER_ID and s.optional("reserve"):  # the issuer may lock (AUTH-004)
            refused(s, "reserve", party, f"{role} is not the holder",
                    requirements=("AUTH-004",), bundle_id=bundle)  # fmt: skip
    for party in (w.alice, w.bob, BENEFICIARY, NOBODY):
        refused(s, "withdraw", party, "only the GC Issuer withdraws",
                requirements=("AUTH-006",), bundle_id=bundle, reason="edge")  # fmt: skip
    if all([s.optional("reserve"), s.optional("release")]):  # both named when left out
        s.accept("reserve", w.alice, bundle_id=bundle)
        for role, party in others.items():
            if party != ISSUER_ID:
                refused(s, "release", party, f"{role} is not the holder",
                        requirements=("AUTH-004",), bundle_id=bundle)  # fmt: skip
        s.accept("release", w.alice, bundle_id=bundle)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary=BENEFICIARY)
    for role, party in others.items():
        refused(s, "claim", party, f"{role} does not hold the cancelled certificates",
                requirements=("AUTH-003",), bundle_id=bundle, claimant=BENEFICIARY)  # fmt: skip
    refused(s, "claim", w.alice, "only the beneficiary named at cancellation is claimed for",
            requirements=("DC-006",), bundle_id=bundle, claimant="Someone Else")  # fmt: skip
    s.accept("claim", w.alice, bundle_id=bundle, claimant=BENEFICIARY)
