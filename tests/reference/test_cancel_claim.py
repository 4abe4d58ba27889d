"""Cancellation for consumption or storage charging, and claims on cancelled certificates (D3, D4 4-6, D7)."""

from __future__ import annotations

import pytest
from core_builders import ALICE, BOB, ISSUER, PRODUCER_ACCOUNT, SUPPLIER_ACCOUNT, World, ts

from gc_conformance.reference import (
    BundleResult,
    BundleStatus,
    Cancel,
    CancellationPurpose,
    Claim,
    ErrorCode,
    Policies,
    SplitOrigin,
    Transfer,
)


def test_a_whole_cancellation_for_consumption_records_beneficiary_period_and_location() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT))
    result = world.ok(
        Cancel(
            BOB,
            1,
            "Acme Data Centre",
            consumption_start="2024-03-01T10:00:00Z",
            consumption_end="2024-03-01T11:00:00Z",
            consumption_location="NL-Utrecht-EAN-123",
        ),
        now="2024-06-02T00:00:00Z",
    )
    assert result == BundleResult(1, None)
    bundle = world.bundle(1)
    assert bundle.status is BundleStatus.CANCELLED
    assert bundle.account_id == SUPPLIER_ACCOUNT  # cancelled certificates stay where they were
    cancellation = bundle.cancellation
    assert cancellation is not None
    assert cancellation.beneficiary == "Acme Data Centre"
    assert cancellation.purpose is CancellationPurpose.CONSUMPTION
    assert cancellation.cancelled_at == ts("2024-06-02T00:00:00Z")
    assert cancellation.consumption_start == ts("2024-03-01T10:00:00Z")
    assert cancellation.consumption_end == ts("2024-03-01T11:00:00Z")
    assert cancellation.consumption_location == "NL-Utrecht-EAN-123"
    assert world.registry.balance(SUPPLIER_ACCOUNT) == 0
    world.assert_invariants()


def test_a_consumption_period_may_be_longer_than_an_hour() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(
        Cancel(
            ALICE,
            1,
            "Acme",
            consumption_start="2024-03-01T00:00:00Z",
            consumption_end="2024-04-01T00:00:00Z",
        )
    )
    assert world.bundle(1).cancellation.consumption_end == ts("2024-04-01T00:00:00Z")


@pytest.mark.parametrize(
    ("origin", "cancelled", "left"),
    [
        (SplitOrigin.FROM_START, (1, 250), (251, 1000)),
        (SplitOrigin.FROM_END, (751, 1000), (1, 750)),
    ],
)
def test_a_partial_cancellation_splits(
    origin: SplitOrigin, cancelled: tuple[int, int], left: tuple[int, int]
) -> None:
    world = World(Policies(split_origin=origin))
    world.produce(energy=1000)
    assert world.ok(Cancel(ALICE, 1, "Acme", quantity=250)) == BundleResult(2, 3)
    part, rest = world.bundle(2), world.bundle(3)
    assert part.status is BundleStatus.CANCELLED
    assert part.cancellation.purpose is CancellationPurpose.CONSUMPTION
    assert (part.range_start, part.range_end) == cancelled
    assert rest.status is BundleStatus.ACTIVE and rest.cancellation is None
    assert (rest.range_start, rest.range_end) == left
    assert world.registry.balance(PRODUCER_ACCOUNT) == 750
    world.assert_invariants()


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"purpose": "BURNING"}, ErrorCode.INVALID_FIELD, "purpose"),
        ({"beneficiary": ""}, ErrorCode.INVALID_FIELD, "beneficiary"),
        ({"quantity": 0}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": 1001}, ErrorCode.QUANTITY_EXCEEDS_BUNDLE, "quantity"),
        (
            {"consumption_start": "2024-03-01T10:00:00Z"},
            ErrorCode.INVALID_TIMESTAMP,
            "consumption_period.end",
        ),
        (
            {
                "consumption_start": "2024-03-01T11:00:00Z",
                "consumption_end": "2024-03-01T10:00:00Z",
            },
            ErrorCode.INVALID_INTERVAL,
            "consumption_period",
        ),
        (
            {
                "consumption_start": "2024-03-01T10:00:00.5Z",
                "consumption_end": "2024-03-01T11:00:00Z",
            },
            ErrorCode.INVALID_TIMESTAMP,
            "consumption_period.start",
        ),
        ({"bundle_id": 42}, ErrorCode.UNKNOWN_BUNDLE, "bundle_id"),
        ({"actor": BOB}, ErrorCode.NOT_OWNER, "actor"),
        ({"actor": ISSUER}, ErrorCode.NOT_OWNER, "actor"),
    ],
)
def test_cancellations_are_validated(
    changes: dict[str, object], code: ErrorCode, field: str
) -> None:
    world = World()
    world.produce(energy=1000)
    values: dict[str, object] = {"actor": ALICE, "bundle_id": 1, "beneficiary": "Acme"}
    values.update(changes)
    world.rejected(Cancel(**values), code, field)  # type: ignore[arg-type]


def test_certificates_are_cancelled_only_once() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    world.rejected(Cancel(ALICE, 1, "Someone Else"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    # a cancellation for storage charging is refused as a request before any state is read
    world.rejected(
        Cancel(ALICE, 1, "Acme", purpose="STORAGE_CHARGE"), ErrorCode.STORAGE_CHARGE_NEEDS_SCR
    )
    world.ok(Claim(ALICE, 1, "Acme"))
    world.rejected(Cancel(ALICE, 1, "Acme"), ErrorCode.BUNDLE_NOT_ACTIVE)
    world.assert_invariants()


# ---------------------------------------------------------------- claims


def test_the_beneficiary_claims_the_whole_cancelled_bundle() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    assert world.ok(Claim(ALICE, 1, "Acme")) == BundleResult(1, None)
    bundle = world.bundle(1)
    assert bundle.status is BundleStatus.CLAIMED
    assert bundle.claimant == "Acme"
    assert bundle.cancellation.beneficiary == "Acme"  # the cancellation record is kept
    world.assert_invariants()


def test_a_partial_claim_splits_and_the_rest_stays_claimable() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    assert world.ok(Claim(ALICE, 1, "Acme", quantity=400)) == BundleResult(2, 3)
    claimed, rest = world.bundle(2), world.bundle(3)
    assert claimed.status is BundleStatus.CLAIMED and claimed.quantity == 400
    assert rest.status is BundleStatus.CANCELLED and rest.quantity == 600
    assert rest.cancellation == claimed.cancellation  # children inherit the cancellation
    world.rejected(Claim(ALICE, 2, "Acme"), ErrorCode.ALREADY_CLAIMED, "bundle_id")
    world.rejected(
        Claim(ALICE, 3, "Acme", quantity=601), ErrorCode.QUANTITY_EXCEEDS_BUNDLE, "quantity"
    )
    assert world.ok(Claim(ALICE, 3, "Acme")) == BundleResult(3, None)
    world.assert_invariants()


def test_only_the_beneficiary_named_at_cancellation_claims() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    world.rejected(Claim(ALICE, 1, "Not Acme"), ErrorCode.BENEFICIARY_MISMATCH, "claimant")


def test_only_certificates_cancelled_for_consumption_are_claimed() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Claim(ALICE, 1, "Acme"), ErrorCode.NOT_CANCELLED, "bundle_id")
    # storage-charge cancellations (made through the storage book's CancelForCharge) never
    # support a consumption claim (D4 risk 6): tests/reference/storage/test_storage_rules.py


def test_a_claim_is_made_once() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    world.ok(Claim(ALICE, 1, "Acme"))
    world.rejected(Claim(ALICE, 1, "Acme"), ErrorCode.ALREADY_CLAIMED, "bundle_id")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"claimant": ""}, ErrorCode.INVALID_FIELD, "claimant"),
        ({"quantity": -2}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"actor": BOB}, ErrorCode.NOT_OWNER, "actor"),
        ({"bundle_id": 7}, ErrorCode.UNKNOWN_BUNDLE, "bundle_id"),
    ],
)
def test_claims_are_validated(changes: dict[str, object], code: ErrorCode, field: str) -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    values: dict[str, object] = {"actor": ALICE, "bundle_id": 1, "claimant": "Acme"}
    values.update(changes)
    world.rejected(Claim(**values), code, field)  # type: ignore[arg-type]


def test_a_claim_on_certificates_cancelled_in_time_may_follow_expiry() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme"), now="2024-12-31T23:59:59Z")
    assert world.ok(Claim(ALICE, 1, "Acme"), now="2025-02-01T00:00:00Z") == BundleResult(1, None)
