"""Transfers, whole and partial, and how a partial one splits a bundle (D3, D5 batches, D13)."""

from __future__ import annotations

import pytest
from core_builders import (
    ALICE,
    BOB,
    CONSUMER_ACCOUNT,
    ISSUER,
    PRODUCER_ACCOUNT,
    SUPPLIER_ACCOUNT,
    World,
)

from gc_conformance.reference import (
    BundleResult,
    BundleStatus,
    Cancel,
    ErrorCode,
    Policies,
    Query,
    Reserve,
    SplitOrigin,
    Transfer,
)


def test_a_whole_transfer_moves_the_bundle_without_splitting_it() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT)) == BundleResult(1, None)
    bundle = world.bundle(1)
    assert bundle.account_id == SUPPLIER_ACCOUNT
    assert (bundle.range_start, bundle.range_end, bundle.status) == (1, 1000, BundleStatus.ACTIVE)
    assert world.registry.balance(PRODUCER_ACCOUNT) == 0
    assert world.registry.balance(SUPPLIER_ACCOUNT) == 1000
    world.assert_invariants()


def test_a_quantity_equal_to_the_bundle_is_a_whole_transfer() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 1000)) == BundleResult(1, None)


@pytest.mark.parametrize(
    ("origin", "moved", "kept"),
    [
        (SplitOrigin.FROM_START, (1, 300), (301, 1000)),
        (SplitOrigin.FROM_END, (701, 1000), (1, 700)),
    ],
)
def test_a_partial_transfer_splits_into_children_that_partition_the_parent(
    origin: SplitOrigin, moved: tuple[int, int], kept: tuple[int, int]
) -> None:
    world = World(Policies(split_origin=origin))
    world.produce(energy=1000)
    result = world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 300))
    assert result == BundleResult(2, 3)
    parent, part, rest = world.bundle(1), world.bundle(2), world.bundle(3)
    assert parent.status is BundleStatus.BUNDLE_SPLIT
    assert (part.range_start, part.range_end) == moved
    assert (rest.range_start, rest.range_end) == kept
    assert part.quantity == 300 and rest.quantity == 700
    assert part.account_id == SUPPLIER_ACCOUNT and rest.account_id == PRODUCER_ACCOUNT
    assert part.status is rest.status is BundleStatus.ACTIVE
    assert part.parent_id == rest.parent_id == 1
    # the children keep the issuance, and so every issuance attribute
    assert part.issuance_id == rest.issuance_id == parent.issuance_id == 1
    ids = [i for b in (part, rest) for i in range(b.range_start, b.range_end + 1)]
    assert sorted(ids) == list(range(1, 1001))
    assert {b.bundle_id for b in world.registry.current_bundles()} == {2, 3}
    history = world.registry.export_history()
    assert [e["effect"] for e in history[-1]["effects"]] == ["split", "transfer"]
    world.assert_invariants()


def test_a_split_parent_is_superseded_and_cannot_be_acted_on() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 300))
    world.rejected(Transfer(ALICE, 1, CONSUMER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    world.rejected(Cancel(ALICE, 1, "someone"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    found = world.registry.query(Query(ISSUER))
    assert [b.bundle_id for b in found.value] == [2, 3]  # type: ignore[union-attr]


def test_repeated_partial_transfers_keep_splitting_the_remainder() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 100)) == BundleResult(2, 3)
    assert world.ok(Transfer(ALICE, 3, SUPPLIER_ACCOUNT, 100)) == BundleResult(4, 5)
    assert world.ok(Transfer(BOB, 2, CONSUMER_ACCOUNT, 40)) == BundleResult(6, 7)
    assert (world.bundle(6).range_start, world.bundle(6).range_end) == (1, 40)
    assert (world.bundle(5).range_start, world.bundle(5).range_end) == (201, 1000)
    assert world.registry.balance(SUPPLIER_ACCOUNT) == 160
    assert world.registry.balance(CONSUMER_ACCOUNT) == 40
    assert world.registry.balance(PRODUCER_ACCOUNT) == 800
    world.assert_invariants()


def test_transfer_quantity_cannot_exceed_the_bundle() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 1001), ErrorCode.QUANTITY_EXCEEDS_BUNDLE, "quantity"
    )


@pytest.mark.parametrize("quantity", [0, -1, 2.5, True, "10"])
def test_transfer_quantity_is_a_positive_whole_number(quantity: object) -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT, quantity),  # type: ignore[arg-type]
        ErrorCode.INVALID_QUANTITY,
        "quantity",
    )


def test_transfer_targets_another_existing_account() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Transfer(ALICE, 1, PRODUCER_ACCOUNT), ErrorCode.SAME_ACCOUNT, "to_account")
    world.rejected(Transfer(ALICE, 1, "NOWHERE"), ErrorCode.UNKNOWN_ACCOUNT, "to_account")


def test_unknown_and_malformed_bundle_ids() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Transfer(ALICE, 99, SUPPLIER_ACCOUNT), ErrorCode.UNKNOWN_BUNDLE, "bundle_id")
    world.rejected(Transfer(ALICE, "1", SUPPLIER_ACCOUNT), ErrorCode.INVALID_FIELD, "bundle_id")  # type: ignore[arg-type]
    world.rejected(Transfer(ALICE, True, SUPPLIER_ACCOUNT), ErrorCode.INVALID_FIELD, "bundle_id")  # type: ignore[arg-type]


def test_only_active_bundles_are_transferred() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Reserve(ALICE, 1, 100))  # bundle 2 reserved, 3 active
    world.rejected(Transfer(ALICE, 2, SUPPLIER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    world.ok(Cancel(ALICE, 3, "Acme"))
    world.rejected(Transfer(ALICE, 3, SUPPLIER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")


def test_checks_run_syntax_existence_authority_state_quantity() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme", quantity=10))  # 2 cancelled, 3 active
    # a bad quantity is reported before an unknown bundle
    world.rejected(Transfer(BOB, 99, "NOWHERE", 0), ErrorCode.INVALID_QUANTITY)
    # an unknown bundle before the actor's authority
    world.rejected(Transfer(BOB, 99, "NOWHERE", 5), ErrorCode.UNKNOWN_BUNDLE)
    # authority before the bundle's state
    world.rejected(Transfer(BOB, 2, SUPPLIER_ACCOUNT, 5), ErrorCode.NOT_OWNER)
    # state before the quantity check
    world.rejected(Transfer(ALICE, 2, SUPPLIER_ACCOUNT, 5000), ErrorCode.BUNDLE_NOT_ACTIVE)
    world.rejected(Transfer(ALICE, 3, SUPPLIER_ACCOUNT, 5000), ErrorCode.QUANTITY_EXCEEDS_BUNDLE)
