"""Review fixes in the core reference model: one section per finding.

D10 deductions on issuer-created bundles and on upward corrections, unique
meter IDs, the rounding remainder carried per device, validity at issuance and
at cancellation (D8), an expiry sweep that decides without changing anything,
the issuer's exempt accounts (D2), "untouched" certificates (D10), the
consumption location, gross/net, issuer locks, and storage-charge
cancellations (D7).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from core_builders import (
    ALICE,
    BOB,
    CONSUMER_ACCOUNT,
    ISSUER,
    ISSUER_TEST_ACCOUNT,
    PRODUCER_ACCOUNT,
    SOLAR,
    SOLAR_METER,
    SUPPLIER_ACCOUNT,
    WIND,
    WIND_METER,
    World,
    device,
    hour_after,
    ts,
)

from gc_conformance.reference import (
    Account,
    BundleResult,
    BundleStatus,
    Cancel,
    Claim,
    CorrectionDeduction,
    CorrectionResult,
    CorrectProduction,
    ErrorCode,
    Expire,
    ExpiryResult,
    IssuanceResult,
    IssueBundle,
    IssuerExemption,
    OpenAccount,
    Policies,
    RegisterDevice,
    Release,
    Reserve,
    Rounding,
    SubmitProduction,
    Transfer,
    ValidityReading,
    Withdraw,
)
from gc_conformance.reference.storage import RegisterStorage

HOUR = ("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z")


def correct(energy: object, start: str = HOUR[0], end: str = HOUR[1]) -> CorrectProduction:
    return CorrectProduction(ISSUER, WIND, start, end, energy)  # type: ignore[arg-type]


def issue_bundle(
    first: int, quantity: int, energy: object, start: str = "2024-03-02T10:00:00Z"
) -> IssueBundle:
    return IssueBundle(
        ISSUER,
        WIND,
        PRODUCER_ACCOUNT,
        start,
        hour_after(start),
        first,
        first + quantity - 1,
        quantity,
        energy,  # type: ignore[arg-type]
    )


def sold_then_corrected_down(policies: Policies | None = None) -> World:
    """1000 Wh issued at 10:00 and all of it sold, then corrected to 700: a 300 Wh debt."""
    world = World(policies)
    world.produce(HOUR[0], 1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT))
    assert world.ok(correct(700)) == CorrectionResult(None, (), 0, 300)
    assert world.registry.outstanding_deductions(WIND) == 300
    return world


# ---------------------------------------------------------------- 1. IssueBundle and D10 deductions


def test_an_issuer_created_bundle_must_leave_out_the_outstanding_deduction() -> None:
    world = sold_then_corrected_down()
    # the same hour the next day: the whole production would ignore the 300 Wh debt
    world.rejected(issue_bundle(5001, 1000, 1000), ErrorCode.DEDUCTION_NOT_APPLIED, "quantity")
    world.rejected(issue_bundle(5001, 701, 1000), ErrorCode.DEDUCTION_NOT_APPLIED, "quantity")
    # more than the production itself is still the plain quantity fault
    world.rejected(
        issue_bundle(5001, 1001, 1000), ErrorCode.QUANTITY_EXCEEDS_PRODUCTION, "quantity"
    )
    assert world.ok(issue_bundle(5001, 700, 1000)) == IssuanceResult(2, 2, 700, 300)
    issuance = world.registry.issuance(2)
    assert issuance is not None and issuance.deducted_wh == 300 and issuance.quantity == 700
    assert world.registry.outstanding_deductions(WIND) == 0
    world.assert_invariants()


def test_an_issuer_created_bundle_deducts_like_a_submitted_reading() -> None:
    world = sold_then_corrected_down()
    # another hour of the day is not deducted from under SAME_HOUR_OF_DAY_FIRST ...
    assert world.ok(issue_bundle(5001, 500, 500, "2024-03-02T11:00:00Z")).deducted_wh == 0
    # ... and a smaller assertion than allowed still settles the deduction in full
    result = world.ok(issue_bundle(6001, 600, 1000))
    assert result == IssuanceResult(3, 3, 600, 300)
    assert world.registry.outstanding_deductions(WIND) == 0


def test_an_issuer_created_bundle_deducts_from_any_hour_under_next_issuance() -> None:
    world = sold_then_corrected_down(
        Policies(correction_deduction=CorrectionDeduction.NEXT_ISSUANCE)
    )
    world.rejected(
        issue_bundle(5001, 500, 500, "2024-03-01T11:00:00Z"), ErrorCode.DEDUCTION_NOT_APPLIED
    )
    assert world.ok(issue_bundle(5001, 200, 500, "2024-03-01T11:00:00Z")).deducted_wh == 300


# ---------------------------------------------------------------- 2. meter IDs are unique


def test_a_meter_id_belongs_to_one_device_in_the_domain() -> None:
    world = World()
    world.rejected(
        RegisterDevice(ISSUER, device("DEV-3", meter_id=WIND_METER)),
        ErrorCode.DUPLICATE_METER_ID,
        "device.meter_id",
    )
    world.rejected(
        RegisterDevice(ISSUER, device("DEV-3", SUPPLIER_ACCOUNT, meter_id=SOLAR_METER)),
        ErrorCode.DUPLICATE_METER_ID,
    )
    assert world.registry.device("DEV-3") is None
    world.ok(RegisterDevice(ISSUER, device("DEV-3", meter_id="M-3")))
    assert world.registry.device("DEV-3") is not None


def storage(device_id: str = "BATT", meter_id: str = "M-BATT") -> RegisterStorage:
    battery = device(device_id, meter_id=meter_id, energy_source="Storage", is_storage=True)
    return RegisterStorage(ISSUER, battery, 10_000, "EAN-BATT", 60, "FIFO", "EFFICIENCY_FACTOR")


def test_storage_systems_share_the_meter_register_with_production_devices() -> None:
    world = World()
    world.rejected(storage(meter_id=WIND_METER), ErrorCode.DUPLICATE_METER_ID, "device.meter_id")
    world.ok(storage())
    world.rejected(
        RegisterDevice(ISSUER, device("DEV-3", meter_id="M-BATT")), ErrorCode.DUPLICATE_METER_ID
    )
    world.rejected(storage("BATT-2"), ErrorCode.DUPLICATE_METER_ID, "device.meter_id")


# ---------------------------------------------------------------- 3. upward corrections settle debts


def test_an_upward_correction_first_settles_the_outstanding_deduction() -> None:
    world = sold_then_corrected_down()
    # back to 1000: the 300 Wh difference is exactly the debt, so nothing new is issued
    assert world.ok(correct(1000)) == CorrectionResult(IssuanceResult(None, None, 0, 300), (), 0, 0)
    assert world.registry.outstanding_deductions(WIND) == 0
    assert world.registry.issuance(2) is None
    # 1000 Wh metered, 1000 certificates in existence
    assert sum(b.quantity for b in world.registry.current_bundles()) == 1000
    world.assert_invariants()


def test_an_upward_correction_issues_what_the_debt_leaves() -> None:
    world = sold_then_corrected_down()
    assert world.ok(correct(1100)) == CorrectionResult(IssuanceResult(2, 2, 100, 300), (), 0, 0)
    extra = world.registry.issuance(2)
    assert extra is not None
    assert (extra.deducted_wh, extra.quantity, extra.corrects_issuance_id) == (300, 100, 1)
    assert world.registry.outstanding_deductions(WIND) == 0
    assert sum(b.quantity for b in world.registry.current_bundles()) == 1100
    world.assert_invariants()


def test_an_upward_correction_settles_debts_in_the_order_a_reading_of_its_hour_would() -> None:
    world = sold_then_corrected_down()  # the debt belongs to 10:00 (SAME_HOUR_OF_DAY_FIRST)
    world.produce("2024-03-01T11:00:00Z", 500)
    # correcting 11:00 upwards does not touch the 10:00 debt ...
    result = world.ok(correct(600, "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z"))
    assert result.issued.issued_wh == 100 and result.issued.deducted_wh == 0
    assert world.registry.outstanding_deductions(WIND) == 300
    # ... a partial settlement at 10:00 leaves the rest to any hour
    assert world.ok(correct(800)).issued == IssuanceResult(None, None, 0, 100)
    assert world.registry.outstanding_deductions(WIND) == 200
    assert world.produce("2024-03-01T13:00:00Z", 500).deducted_wh == 200


# ---------------------------------------------------------------- 4. rounding carries the remainder


@pytest.mark.parametrize(
    ("rounding", "issued"), [(Rounding.NEAREST, [1, 0, 1, 0]), (Rounding.DOWN, [0, 1, 0, 1])]
)
def test_the_sub_wh_remainder_is_carried_to_the_next_reading(
    rounding: Rounding, issued: list[int]
) -> None:
    world = World(Policies(rounding=rounding))
    starts = [f"2024-03-01T{h:02d}:00:00Z" for h in (10, 11, 12, 13)]
    results = [world.produce(start, "0.5") for start in starts]
    assert [r.issued_wh for r in results] == issued
    assert world.registry.balance(PRODUCER_ACCOUNT) == 2  # 4 x 0.5 Wh = 2 Wh, exactly
    assert world.registry.rounding_remainder(WIND) == 0
    # the remainder after each reading is in the history, next to the metered value
    readings = [
        e
        for action in world.registry.export_history()
        for e in action["effects"]
        if e["effect"] == "reading"
    ]
    expected = ["-0.5", "0", "-0.5", "0"] if rounding is Rounding.NEAREST else ["0.5", "0"] * 2
    assert [r["carried_wh"] for r in readings] == expected
    assert [r["recognised_wh"] for r in readings] == issued
    world.assert_invariants()


@pytest.mark.parametrize("rounding", list(Rounding))
def test_issued_wh_are_the_rounded_total_of_what_was_metered(rounding: Rounding) -> None:
    world = World(Policies(rounding=rounding))
    metered = ["0.3", "0.3", "0.3", "1.26", "0.07", "999.5", "0", "0.04"]
    for index, energy in enumerate(metered):
        world.produce(f"2024-03-01T{index:02d}:00:00Z", energy)
    total = sum(Decimal(m) for m in metered)  # 1001.77
    assert world.registry.balance(PRODUCER_ACCOUNT) == rounding.apply(total)
    assert world.registry.rounding_remainder(WIND) == total - rounding.apply(total)


def test_each_device_carries_its_own_remainder() -> None:
    world = World()
    world.produce(HOUR[0], "0.5")  # wind: 1 certificate, carries -0.5
    assert world.produce(HOUR[0], "0.5", device_id=SOLAR).issued_wh == 1
    assert world.registry.rounding_remainder(WIND) == Decimal("-0.5")
    assert world.registry.rounding_remainder(SOLAR) == Decimal("-0.5")


def test_an_issuer_created_bundle_takes_part_in_the_carry() -> None:
    world = World()
    world.produce(HOUR[0], "0.5")  # 1 certificate for 0.5 Wh: -0.5 Wh carried
    # 1000.5 Wh more make 1001 Wh in all, of which 1 was issued already
    world.rejected(issue_bundle(5001, 1001, "1000.5"), ErrorCode.QUANTITY_EXCEEDS_PRODUCTION)
    assert world.ok(issue_bundle(5001, 1000, "1000.5")).issued_wh == 1000
    assert world.registry.rounding_remainder(WIND) == 0


def test_a_rejected_reading_leaves_the_remainder_alone() -> None:
    world = World()
    world.produce(HOUR[0], "0.4")
    # World.rejected also asserts fingerprint() is unchanged, and the remainder is part of it
    world.rejected(
        SubmitProduction(ISSUER, WIND, "M-OTHER", *hour_pair("2024-03-01T11:00:00Z"), "0.4"),
        ErrorCode.METER_MISMATCH,
    )
    assert world.registry.rounding_remainder(WIND) == Decimal("0.4")
    assert ((WIND, Decimal("0.4")),) in world.registry.fingerprint()  # it is registry state


def hour_pair(start: str) -> tuple[str, str]:
    return start, hour_after(start)


def test_a_correction_that_takes_back_a_neighbours_rounding_becomes_a_deduction() -> None:
    world = World()
    world.produce(HOUR[0], "0.4")  # 0 certificates, 0.4 carried
    world.produce("2024-03-01T11:00:00Z", "0.4")  # 0.8 in all: 1 certificate, -0.2 carried
    # 10:00 produced nothing after all: 0.4 Wh in all rounds to 0, so 1 Wh was over-issued;
    # 10:00 has no certificate to withdraw, so the Wh is deducted from the next issuance
    assert world.ok(correct(0)) == CorrectionResult(None, (), 0, 1)
    assert world.registry.rounding_remainder(WIND) == Decimal("0.4")
    # 0.6 Wh in all rounds to 1 Wh: the next 10:00 issuance (SAME_HOUR_OF_DAY_FIRST) carries it
    assert world.produce("2024-03-02T10:00:00Z", "0.2") == IssuanceResult(None, None, 0, 1)
    assert world.registry.outstanding_deductions(WIND) == 0


# ---------------------------------------------------------------- 5. validity at issuance and cancellation

ROLLING = Policies(validity=ValidityReading.ROLLING_12_MONTHS)
EXPIRY = "2025-03-01T11:00:00Z"  # of the 10:00 hour of 2024-03-01 under ROLLING_12_MONTHS


def test_production_is_not_issued_past_its_validity() -> None:
    world = World(ROLLING)
    reading = SubmitProduction(ISSUER, WIND, WIND_METER, *HOUR, 1000)
    world.rejected(reading, ErrorCode.PRODUCTION_TOO_OLD, "interval", now=EXPIRY)
    world.rejected(
        issue_bundle(1, 10, 10, HOUR[0]), ErrorCode.PRODUCTION_TOO_OLD, "interval", now=EXPIRY
    )
    assert world.registry.production(WIND, ts(HOUR[0])) is None
    # a second earlier it is still issued, valid for one second
    world2 = World(ROLLING)
    assert world2.ok(reading, now="2025-03-01T10:59:59Z").issued_wh == 1000


def test_a_correction_past_validity_only_takes_back() -> None:
    world = World(ROLLING)
    world.produce(HOUR[0], 1000)
    world.rejected(correct(1200), ErrorCode.PRODUCTION_TOO_OLD, "interval", now=EXPIRY)
    # downwards is D10's job even after expiry: the expired certificates become a deduction
    assert world.ok(correct(800)) == CorrectionResult(None, (), 0, 200)
    assert world.bundle(1).status is BundleStatus.ACTIVE  # past validity, not swept yet
    assert world.ok(Expire(ISSUER)) == ExpiryResult((1,))


@pytest.mark.parametrize(
    ("policies", "start", "end", "accepted"),
    [
        # CALENDAR_YEAR: the production's calendar year, earlier consumption in it included
        (Policies(), "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", True),
        (Policies(), "2024-12-31T23:00:00Z", "2025-01-01T00:00:00Z", True),
        (Policies(), "2023-12-31T23:00:00Z", "2024-01-01T01:00:00Z", False),
        (Policies(), "2024-12-31T23:00:00Z", "2025-01-01T00:00:01Z", False),
        # rolling: from the start of production to the expiry
        (ROLLING, HOUR[0], EXPIRY, True),
        (ROLLING, "2024-03-01T09:59:59Z", HOUR[1], False),
        (ROLLING, HOUR[0], "2025-03-01T11:00:01Z", False),
    ],
)
def test_the_consumption_period_lies_within_the_validity(
    policies: Policies, start: str, end: str, accepted: bool
) -> None:
    world = World(policies)
    world.produce(HOUR[0], 1000)
    cancel = Cancel(ALICE, 1, "Acme", consumption_start=start, consumption_end=end)
    if accepted:
        assert world.ok(cancel) == BundleResult(1, None)
    else:
        world.rejected(cancel, ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY, "consumption_period")
        assert world.bundle(1).status is BundleStatus.ACTIVE


def test_an_expired_bundle_is_not_withdrawn() -> None:
    world = World(ROLLING)
    world.produce(HOUR[0], 1000)
    # past its validity but not swept: expired all the same
    world.rejected(
        Withdraw(ISSUER, 1, "fault"), ErrorCode.CERTIFICATE_EXPIRED, "bundle_id", now=EXPIRY
    )
    world.ok(Expire(ISSUER))
    world.rejected(Withdraw(ISSUER, 1, "fault"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    assert world.bundle(1).status is BundleStatus.EXPIRED


# ---------------------------------------------------------------- 6. the sweep decides without changing


def test_preparing_a_sweep_changes_nothing() -> None:
    world = World(ROLLING)
    world.produce(HOUR[0], 1000)
    world.produce("2024-03-02T10:00:00Z", 1000)
    registry = world.registry
    queue, before = list(registry._expiry_queue), registry.fingerprint()
    _, value, effects = registry.prepare(Expire(ISSUER), ts("2026-01-01T00:00:00Z"))
    assert value == ExpiryResult((1, 2)) and len(effects) == 2
    assert registry._expiry_queue == queue and registry.fingerprint() == before
    # a decision thrown away leaves every bundle to the next sweep
    assert world.ok(Expire(ISSUER), now="2026-01-01T00:00:00Z") == ExpiryResult((1, 2))
    assert registry._expiry_queue == []


def test_the_queue_keeps_only_issuances_with_something_left_to_expire() -> None:
    world = World(ROLLING)
    for day in (1, 2, 3):
        world.produce(f"2024-03-0{day}T10:00:00Z", 100)
    world.ok(Cancel(ALICE, 1, "Acme"))  # issuance 1 has nothing live left: leaves the queue
    assert [entry[1] for entry in world.registry._expiry_queue] == [2, 3]
    world.ok(Withdraw(ISSUER, 3, "fault"))  # not at the top: stays until it gets there
    assert sorted(entry[1] for entry in world.registry._expiry_queue) == [2, 3]
    world.ok(Transfer(ALICE, 2, SUPPLIER_ACCOUNT, 40))
    assert world.ok(Expire(ISSUER), now="2025-03-02T11:00:00Z") == ExpiryResult((4, 5))
    assert world.registry._expiry_queue == []  # 2 swept, and 3 then reached the top
    assert world.ok(Expire(ISSUER), now="2026-01-01T00:00:00Z") == ExpiryResult(())
    world.assert_invariants()


def test_due_entries_are_found_throughout_the_heap() -> None:
    world = World(Policies(validity=ValidityReading.ROLLING_12_MONTHS))
    hours = [7, 3, 9, 1, 5, 8, 2, 6, 4]  # issued out of expiry order
    for h in hours:
        world.produce(f"2024-03-01T{h:02d}:00:00Z", 10)
    due = world.ok(Expire(ISSUER), now="2025-03-01T06:00:00Z")  # hours 1..5 have ended
    expired_hours = sorted(
        world.registry.issuance(world.bundle(b).issuance_id).production_start.hour  # type: ignore[union-attr]
        for b in due.expired
    )
    assert expired_hours == [1, 2, 3, 4, 5]
    assert len(world.registry._expiry_queue) == 4


# ---------------------------------------------------------------- 7. the issuer's exempt accounts


def exempt_world(exemption: IssuerExemption) -> World:
    world = World()
    if exemption is not IssuerExemption.TESTING:
        world.ok(OpenAccount(ISSUER, Account("A-EXEMPT", ISSUER, "Issuer", exemption)))
    account = ISSUER_TEST_ACCOUNT if exemption is IssuerExemption.TESTING else "A-EXEMPT"
    world.produce(energy=1000)
    world.ok(Transfer(ALICE, 1, account, 100))  # 2: in the exempt account; 3: Alice's
    return world


@pytest.mark.parametrize("exemption", [IssuerExemption.OWN_CONSUMPTION, IssuerExemption.TESTING])
def test_own_consumption_and_testing_accounts_neither_trade_nor_supply(
    exemption: IssuerExemption,
) -> None:
    world = exempt_world(exemption)
    world.rejected(
        Transfer(ISSUER, 2, CONSUMER_ACCOUNT), ErrorCode.ISSUER_MAY_NOT_TRADE, "bundle_id"
    )
    world.rejected(
        Transfer(ISSUER, 2, PRODUCER_ACCOUNT, 10), ErrorCode.ISSUER_MAY_NOT_TRADE, "bundle_id"
    )
    world.rejected(Cancel(ISSUER, 2, "Acme"), ErrorCode.ISSUER_MAY_NOT_TRADE, "beneficiary")
    # cancelling for itself, by ID or by name, and claiming that, is what D2 allows
    assert world.ok(Cancel(ISSUER, 2, ISSUER, quantity=10)) == BundleResult(4, 5)
    assert world.ok(Cancel(ISSUER, 5, "Test Issuer")) == BundleResult(5, None)
    assert world.ok(Claim(ISSUER, 4, ISSUER)) == BundleResult(4, None)
    world.assert_invariants()


def test_a_support_recovery_account_passes_certificates_on_but_never_uses_them() -> None:
    world = exempt_world(IssuerExemption.SUPPORT_RECOVERY)
    world.rejected(Cancel(ISSUER, 2, ISSUER), ErrorCode.ISSUER_MAY_NOT_TRADE, "bundle_id")
    assert world.ok(Transfer(ISSUER, 2, CONSUMER_ACCOUNT)) == BundleResult(2, None)
    assert world.bundle(2).account_id == CONSUMER_ACCOUNT


def test_ordinary_holders_are_not_restricted() -> None:
    world = exempt_world(IssuerExemption.TESTING)
    assert world.ok(Transfer(ALICE, 3, SUPPLIER_ACCOUNT, 10)) == BundleResult(4, 5)
    assert world.ok(Cancel(BOB, 4, "Acme")) == BundleResult(4, None)


# ---------------------------------------------------------------- 8. what D10 may withdraw


def test_certificates_transferred_away_and_back_are_not_untouched() -> None:
    world = World()
    world.produce(HOUR[0], 1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT))
    world.ok(Transfer(BOB, 1, PRODUCER_ACCOUNT))
    world.ok(Transfer(ALICE, 1, CONSUMER_ACCOUNT, 100))  # its children remember the journey
    assert world.bundle(3).account_id == PRODUCER_ACCOUNT
    assert world.ok(correct(700)) == CorrectionResult(None, (), 0, 300)
    assert world.bundle(3).status is BundleStatus.ACTIVE
    world.assert_invariants()


def test_certificates_past_validity_are_not_untouched_even_before_the_sweep() -> None:
    world = World(ROLLING)
    world.produce(HOUR[0], 1000)
    assert world.ok(correct(700), now="2025-03-01T10:59:59Z") == CorrectionResult(
        None, (2,), 300, 0
    )
    assert world.ok(correct(600), now=EXPIRY) == CorrectionResult(None, (), 0, 100)


def test_certificates_locked_by_the_issuer_are_withdrawn_by_a_correction() -> None:
    world = World()
    world.produce(HOUR[0], 1000)
    world.ok(Reserve(ISSUER, 1, kind="LOCKED"))
    assert world.ok(correct(900)) == CorrectionResult(None, (2,), 100, 0)
    assert world.bundle(2).status is BundleStatus.WITHDRAWN
    assert world.bundle(3).status is BundleStatus.LOCKED
    assert world.registry.locked_by_issuer(3)  # the rest is still the issuer's lock


# ---------------------------------------------------------------- 9. location, gross/net, issuer locks


@pytest.mark.parametrize("location", ["", "   ", 42, ["NL"]])
def test_the_consumption_location_is_text(location: object) -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(
        Cancel(ALICE, 1, "Acme", consumption_location=location),  # type: ignore[arg-type]
        ErrorCode.INVALID_FIELD,
        "consumption_location",
    )


def test_a_reading_must_match_the_devices_gross_or_net() -> None:
    world = World()  # DEV-WIND meters NET generation
    reading = SubmitProduction(ISSUER, WIND, WIND_METER, *HOUR, 1000, gross_or_net="GROSS")
    world.rejected(reading, ErrorCode.GROSS_NET_MISMATCH, "gross_or_net")
    assert world.registry.production(WIND, ts(HOUR[0])) is None


def test_the_issuer_locks_and_alone_releases_any_holders_bundle() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Reserve(ISSUER, 1, 100, kind="LOCKED")) == BundleResult(2, 3)
    assert world.bundle(2).status is BundleStatus.LOCKED and world.registry.locked_by_issuer(2)
    last = world.registry.export_history()[-1]["effects"][-1]
    assert last == {
        "effect": "status",
        "bundle_id": 2,
        "from": "ACTIVE",
        "to": "LOCKED",
        "locked_by": "issuer",
    }
    world.rejected(Transfer(ALICE, 2, SUPPLIER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    world.rejected(Release(ALICE, 2), ErrorCode.NOT_AUTHORISED, "actor")
    world.rejected(Release(BOB, 2), ErrorCode.NOT_AUTHORISED, "actor")
    # a partial withdrawal of the locked bundle keeps the issuer's lock on the rest
    assert world.ok(Withdraw(ISSUER, 2, "dispute", 10)) == BundleResult(4, 5)
    assert world.registry.locked_by_issuer(5) and not world.registry.locked_by_issuer(4)
    world.rejected(Release(ALICE, 5), ErrorCode.NOT_AUTHORISED, "actor")
    assert world.ok(Release(ISSUER, 5)) == BundleResult(5, None)
    assert world.bundle(5).status is BundleStatus.ACTIVE and not world.registry.locked_by_issuer(5)
    world.assert_invariants()


def test_the_issuer_locks_but_does_not_reserve_and_does_not_release_holders_locks() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Reserve(ISSUER, 1, kind="RESERVED"), ErrorCode.NOT_OWNER, "actor")
    world.ok(Reserve(ALICE, 1, 10, kind="LOCKED"))  # 2: Alice's own lock
    assert not world.registry.locked_by_issuer(2)
    world.rejected(Release(ISSUER, 2), ErrorCode.NOT_OWNER, "actor")
    world.rejected(Reserve(ISSUER, 2, kind="LOCKED"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    assert world.ok(Release(ALICE, 2)) == BundleResult(2, None)


def test_an_issuer_lock_expires_like_any_live_bundle() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Reserve(ISSUER, 1, kind="LOCKED"))
    # past the validity under every reading (CALENDAR_YEAR's own-hour stretch included)
    assert world.ok(Expire(ISSUER), now="2026-03-02T00:00:00Z") == ExpiryResult((1,))
    assert not world.registry.locked_by_issuer(1)


# ---------------------------------------------------------------- 10. storage-charge cancellations


@pytest.mark.parametrize("actor", [ALICE, "stranger"])
def test_a_core_cancellation_for_storage_charging_is_refused(actor: str) -> None:
    world = World()
    world.produce(energy=1000)
    problem = world.rejected(
        Cancel(actor, 1, "Battery Co", purpose="STORAGE_CHARGE", quantity=250),
        ErrorCode.STORAGE_CHARGE_NEEDS_SCR,
        "purpose",
    )
    assert "CancelForCharge" in problem.message
    assert world.bundle(1).status is BundleStatus.ACTIVE
