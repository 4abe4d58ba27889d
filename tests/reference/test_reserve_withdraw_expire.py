"""Reservation and locking, withdrawal by the issuer, and expiry at an explicit ``now`` (D8, D9)."""

from __future__ import annotations

import datetime as dt

import pytest
from core_builders import (
    ALICE,
    BOB,
    ISSUER,
    PRODUCER_ACCOUNT,
    SUPPLIER_ACCOUNT,
    WIND,
    World,
    ts,
)

from gc_conformance.reference import (
    BundleResult,
    BundleStatus,
    Cancel,
    ErrorCode,
    Expire,
    ExpiryResult,
    Policies,
    Release,
    Reserve,
    SubmitProduction,
    Transfer,
    ValidityReading,
    Withdraw,
)

# ---------------------------------------------------------------- reserve / lock / release


@pytest.mark.parametrize(
    ("kind", "status"), [("RESERVED", BundleStatus.RESERVED), ("LOCKED", BundleStatus.LOCKED)]
)
def test_reserve_or_lock_then_release(kind: str, status: BundleStatus) -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Reserve(ALICE, 1, kind=kind)) == BundleResult(1, None)
    assert world.bundle(1).status is status
    assert world.registry.balance(PRODUCER_ACCOUNT) == 0  # held back from trading
    world.rejected(Transfer(ALICE, 1, SUPPLIER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE)
    world.rejected(Cancel(ALICE, 1, "Acme"), ErrorCode.BUNDLE_NOT_ACTIVE)
    world.rejected(Reserve(ALICE, 1), ErrorCode.BUNDLE_NOT_ACTIVE)
    assert world.ok(Release(ALICE, 1)) == BundleResult(1, None)
    assert world.bundle(1).status is BundleStatus.ACTIVE
    assert world.registry.balance(PRODUCER_ACCOUNT) == 1000
    world.assert_invariants()


def test_a_partial_reservation_splits() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Reserve(ALICE, 1, 100)) == BundleResult(2, 3)
    assert world.bundle(2).status is BundleStatus.RESERVED and world.bundle(2).quantity == 100
    assert world.bundle(3).status is BundleStatus.ACTIVE and world.bundle(3).quantity == 900
    assert world.registry.balance(PRODUCER_ACCOUNT) == 900


def test_reservation_rules() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Reserve(ALICE, 1, kind="PARKED"), ErrorCode.INVALID_FIELD, "kind")
    world.rejected(Reserve(BOB, 1), ErrorCode.NOT_OWNER, "actor")
    world.rejected(Reserve(ALICE, 1, 1001), ErrorCode.QUANTITY_EXCEEDS_BUNDLE, "quantity")
    world.rejected(Reserve(ALICE, 1, 0), ErrorCode.INVALID_QUANTITY, "quantity")
    world.rejected(Release(ALICE, 1), ErrorCode.NOT_RESERVED, "bundle_id")
    world.ok(Reserve(ALICE, 1))
    world.rejected(Release(BOB, 1), ErrorCode.NOT_OWNER, "actor")
    world.rejected(Release(ALICE, 5), ErrorCode.UNKNOWN_BUNDLE, "bundle_id")


# ---------------------------------------------------------------- withdraw


def test_the_issuer_withdraws_whole_or_part() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Withdraw(ISSUER, 1, "meter fault", 100)) == BundleResult(2, 3)
    assert world.bundle(2).status is BundleStatus.WITHDRAWN
    assert world.bundle(3).status is BundleStatus.ACTIVE
    assert world.ok(Withdraw(ISSUER, 3, "meter fault")) == BundleResult(3, None)
    assert world.registry.balance(PRODUCER_ACCOUNT) == 0
    world.rejected(Withdraw(ISSUER, 3, "again"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    world.assert_invariants()


def test_withdrawal_reaches_reserved_and_locked_bundles_but_not_cancelled_ones() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Reserve(ALICE, 1, 100, kind="LOCKED"))  # 2 locked, 3 active
    world.ok(Cancel(ALICE, 3, "Acme", quantity=100))  # 4 cancelled, 5 active
    assert world.ok(Withdraw(ISSUER, 2, "dispute")) == BundleResult(2, None)
    world.rejected(Withdraw(ISSUER, 4, "too late"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")


def test_only_the_issuer_withdraws() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Withdraw(ALICE, 1, "I changed my mind"), ErrorCode.NOT_AUTHORISED, "actor")
    world.rejected(Withdraw(ISSUER, 1, ""), ErrorCode.INVALID_FIELD, "reason")
    world.rejected(Withdraw(ISSUER, 1, "x", 1001), ErrorCode.QUANTITY_EXCEEDS_BUNDLE, "quantity")
    world.rejected(Withdraw(ISSUER, 9, "x"), ErrorCode.UNKNOWN_BUNDLE, "bundle_id")


def test_withdrawn_ids_are_not_issued_again() -> None:
    world = World()
    world.produce(energy=100)
    world.ok(Withdraw(ISSUER, 1, "meter fault"))
    world.produce("2024-03-01T11:00:00Z", 100)
    assert world.bundle(2).range_start == 101


# ---------------------------------------------------------------- expiry


def test_calendar_year_expiry_at_the_exact_instant() -> None:
    world = World()
    world.produce("2024-12-31T22:00:00Z", 1000, now="2024-12-31T23:00:00Z")
    issuance = world.registry.issuance(1)
    assert issuance is not None and issuance.expiry == ts("2025-01-01T00:00:00Z")
    # one second before: still valid, and a sweep finds nothing
    assert world.ok(Expire(ISSUER), now="2024-12-31T23:59:59Z") == ExpiryResult(())
    assert world.ok(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 10), now="2024-12-31T23:59:59Z"
    ) == BundleResult(2, 3)
    # at the instant itself, not swept yet: no longer usable
    world.rejected(
        Transfer(BOB, 2, PRODUCER_ACCOUNT),
        ErrorCode.CERTIFICATE_EXPIRED,
        "bundle_id",
        now="2025-01-01T00:00:00Z",
    )
    assert world.bundle(2).status is BundleStatus.ACTIVE
    assert world.ok(Expire(ISSUER)) == ExpiryResult((2, 3))
    assert world.bundle(2).status is world.bundle(3).status is BundleStatus.EXPIRED
    assert world.registry.balance(SUPPLIER_ACCOUNT) == 0
    # a second sweep finds nothing more; expired bundles are no longer active
    assert world.ok(Expire(ISSUER)) == ExpiryResult(())
    world.rejected(Transfer(BOB, 2, PRODUCER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    world.assert_invariants()


def test_the_last_hour_of_the_year_expires_with_that_year() -> None:
    last_hour = SubmitProduction(
        ISSUER, "DEV-WIND", "M-WIND", "2024-12-31T23:00:00Z", "2025-01-01T00:00:00Z", 10
    )
    # under CALENDAR_YEAR its certificates would be expired the instant the hour has ended and
    # can be reported, so none are issued (D8; docs/lifecycle.md)
    world = World()
    world.rejected(last_hour, ErrorCode.PRODUCTION_TOO_OLD, "interval", now="2025-01-01T00:00:00Z")
    assert world.registry.production(WIND, ts("2024-12-31T23:00:00Z")) is None
    # a rolling reading leaves it twelve months
    world = World(Policies(validity=ValidityReading.ROLLING_12_MONTHS))
    assert world.ok(last_hour, now="2025-01-01T00:00:00Z").issued_wh == 10
    assert world.registry.issuance(1).expiry == ts("2026-01-01T00:00:00Z")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("validity", "production_start", "expiry"),
    [
        (ValidityReading.ROLLING_12_MONTHS, "2024-02-29T00:00:00Z", "2025-02-28T01:00:00Z"),
        (ValidityReading.ROLLING_24_MONTHS, "2024-02-29T00:00:00Z", "2026-02-28T01:00:00Z"),
        (ValidityReading.CALENDAR_YEAR, "2024-02-29T00:00:00Z", "2025-01-01T00:00:00Z"),
    ],
)
def test_rolling_and_calendar_expiry_instants(
    validity: ValidityReading, production_start: str, expiry: str
) -> None:
    world = World(Policies(validity=validity))
    world.produce(production_start, 1000)
    assert world.registry.issuance(1).expiry == ts(expiry)  # type: ignore[union-attr]
    just_before = ts(expiry) - dt.timedelta(seconds=1)
    assert world.ok(Reserve(ALICE, 1, 10), now=just_before) == BundleResult(2, 3)
    assert world.ok(Expire(ISSUER)) == ExpiryResult(())
    world.rejected(Reserve(ALICE, 3, 10), ErrorCode.CERTIFICATE_EXPIRED, "bundle_id", now=expiry)
    world.rejected(Cancel(ALICE, 3, "Acme"), ErrorCode.CERTIFICATE_EXPIRED, "bundle_id")
    world.rejected(Release(ALICE, 2), ErrorCode.CERTIFICATE_EXPIRED, "bundle_id")
    assert world.ok(Expire(ISSUER)) == ExpiryResult((2, 3))  # reserved bundles expire too
    assert world.bundle(2).status is BundleStatus.EXPIRED


def test_expiry_leaves_terminal_bundles_alone_and_only_reaches_due_issuances() -> None:
    world = World(Policies(validity=ValidityReading.ROLLING_12_MONTHS))
    world.produce("2024-03-01T10:00:00Z", 1000)  # expires 2025-03-01T11:00:00Z
    world.produce("2024-03-02T10:00:00Z", 1000)  # expires 2025-03-02T11:00:00Z
    world.ok(Cancel(ALICE, 1, "Acme", quantity=100))  # 3 cancelled, 4 active
    world.ok(Withdraw(ISSUER, 4, "fault", 100))  # 5 withdrawn, 6 active
    assert world.ok(Expire(ISSUER), now="2025-03-01T11:00:00Z") == ExpiryResult((6,))
    assert world.bundle(3).status is BundleStatus.CANCELLED
    assert world.bundle(5).status is BundleStatus.WITHDRAWN
    assert world.bundle(2).status is BundleStatus.ACTIVE
    assert world.ok(Expire(ISSUER), now="2025-03-02T11:00:00Z") == ExpiryResult((2,))
    world.assert_invariants()


def test_only_the_issuer_sweeps() -> None:
    world = World()
    world.produce(energy=10)
    world.rejected(Expire(ALICE), ErrorCode.NOT_AUTHORISED, "actor", now="2026-01-01T00:00:00Z")
    assert world.bundle(1).status is BundleStatus.ACTIVE


# ---------------------------------------------------------------- the registry clock


def test_time_never_runs_backwards() -> None:
    world = World()
    world.produce(energy=10, now="2024-06-01T12:00:00Z")
    world.rejected(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT),
        ErrorCode.TIME_REVERSAL,
        "now",
        now="2024-06-01T11:59:59Z",
    )
    # the same instant as the last action is fine
    assert world.ok(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT), now="2024-06-01T12:00:00Z"
    ) == BundleResult(1, None)
    assert world.registry.last_action_at == ts("2024-06-01T12:00:00Z")


def test_now_itself_must_be_aware_utc() -> None:
    world = World()
    world.rejected(Expire(ISSUER), ErrorCode.INVALID_TIMESTAMP, "now", now=dt.datetime(2024, 7, 1))
    world.rejected(
        Expire(ISSUER),
        ErrorCode.INVALID_TIMESTAMP,
        "now",
        now=dt.datetime(2024, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )


def test_an_unknown_request_type_is_refused() -> None:
    world = World()
    world.rejected("transfer everything", ErrorCode.INVALID_FIELD, "command")  # type: ignore[arg-type]


def test_rejections_are_logged_with_their_code() -> None:
    world = World()
    world.rejected(
        SubmitProduction(
            ALICE, "DEV-WIND", "M-WIND", "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 5
        ),
        ErrorCode.NOT_AUTHORISED,
    )
    last = world.registry.export_history()[-1]
    assert last["accepted"] is False
    assert last["code"] == "NOT_AUTHORISED"
    assert last["action"] == "submit_production"
    assert last["actor"] == ALICE
    assert last["effects"] == []
