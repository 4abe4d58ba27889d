"""D10 error correction: issue the difference, withdraw what is untouched, defer the rest."""

from __future__ import annotations

import pytest
from core_builders import (
    ALICE,
    ISSUER,
    PRODUCER_ACCOUNT,
    SUPPLIER_ACCOUNT,
    WIND,
    WIND_CAPACITY_W,
    World,
    ts,
)

from gc_conformance.reference import (
    BundleStatus,
    Cancel,
    CorrectionDeduction,
    CorrectionResult,
    CorrectProduction,
    ErrorCode,
    IssuanceResult,
    Policies,
    Reserve,
    Rounding,
    SplitOrigin,
    Transfer,
)

HOUR = ("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z")


def correct(
    energy: object, start: str = HOUR[0], end: str = HOUR[1], **changes: object
) -> CorrectProduction:
    values: dict[str, object] = dict(
        actor=ISSUER, device_id=WIND, start=start, end=end, energy_wh=energy
    )
    values.update(changes)
    return CorrectProduction(**values)  # type: ignore[arg-type]


def test_an_upward_correction_issues_the_difference_linked_to_the_original() -> None:
    world = World()
    world.produce(HOUR[0], 1000)
    result = world.ok(correct(1200))
    assert result == CorrectionResult(IssuanceResult(2, 2, 200, 0), (), 0, 0)
    extra = world.registry.issuance(2)
    assert extra is not None
    assert extra.corrects_issuance_id == 1
    assert (extra.range_start, extra.range_end) == (1001, 1200)
    assert (extra.production_start, extra.production_end) == (ts(HOUR[0]), ts(HOUR[1]))
    assert extra.account_id == PRODUCER_ACCOUNT
    assert world.registry.balance(PRODUCER_ACCOUNT) == 1200
    world.assert_invariants()  # a linked correction is not double issuance


def test_correcting_to_the_metered_value_on_record_is_refused() -> None:
    world = World()
    world.produce(HOUR[0], 1000)
    world.rejected(correct(1000), ErrorCode.CORRECTION_UNCHANGED, "energy_wh")
    world.rejected(correct("1000.000"), ErrorCode.CORRECTION_UNCHANGED, "energy_wh")
    world.ok(correct(1200))
    world.rejected(correct(1200), ErrorCode.CORRECTION_UNCHANGED)


@pytest.mark.parametrize(
    ("rounding", "corrected", "carried"),
    [(Rounding.NEAREST, "1000.4", "0.4"), (Rounding.DOWN, "1000.9", "0.9")],
)
def test_a_correction_below_one_wh_moves_only_the_carried_remainder(
    rounding: Rounding, corrected: str, carried: str
) -> None:
    world = World(Policies(rounding=rounding))
    world.produce(HOUR[0], 1000)
    assert world.ok(correct(corrected)) == CorrectionResult(None, (), 0, 0)
    reading = world.registry.production(WIND, ts(HOUR[0]))
    assert reading is not None and reading.energy_wh == corrected and reading.recognised_wh == 1000
    assert str(world.registry.rounding_remainder(WIND)) == carried
    assert world.registry.balance(PRODUCER_ACCOUNT) == 1000
    # the remainder counts towards the next reading: 1000.9 + 0.1 Wh make 1001 certificates
    assert world.produce("2024-03-01T11:00:00Z", "0.6").issued_wh == 1


@pytest.mark.parametrize(
    ("origin", "withdrawn", "kept"),
    [
        (SplitOrigin.FROM_START, (1, 300), (301, 1000)),
        (SplitOrigin.FROM_END, (701, 1000), (1, 700)),
    ],
)
def test_a_downward_correction_withdraws_untouched_certificates(
    origin: SplitOrigin, withdrawn: tuple[int, int], kept: tuple[int, int]
) -> None:
    world = World(Policies(split_origin=origin))
    world.produce(HOUR[0], 1000)
    assert world.ok(correct(700)) == CorrectionResult(None, (2,), 300, 0)
    assert world.bundle(2).status is BundleStatus.WITHDRAWN
    assert (world.bundle(2).range_start, world.bundle(2).range_end) == withdrawn
    assert world.bundle(3).status is BundleStatus.ACTIVE
    assert (world.bundle(3).range_start, world.bundle(3).range_end) == kept
    assert world.registry.outstanding_deductions(WIND) == 0
    world.rejected(correct(700), ErrorCode.CORRECTION_UNCHANGED)
    world.assert_invariants()


def test_withdraw_what_is_untouched_and_defer_what_was_transferred() -> None:
    world = World()
    world.produce(HOUR[0], 1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 900))  # 2: 1..900 sold; 3: 901..1000 at home
    assert world.ok(correct(600)) == CorrectionResult(None, (3,), 100, 300)
    assert world.bundle(2).status is BundleStatus.ACTIVE  # the buyer's certificates are untouched
    assert world.registry.outstanding_deductions(WIND) == 300
    # the next issuance for the same hour of day carries the deduction
    result = world.produce("2024-03-02T10:00:00Z", 1000)
    assert result == IssuanceResult(2, 4, 700, 300)
    issuance = world.registry.issuance(2)
    assert issuance is not None and issuance.deducted_wh == 300 and issuance.quantity == 700
    assert world.registry.outstanding_deductions(WIND) == 0
    world.assert_invariants()


def test_an_earlier_upward_correction_is_withdrawn_from_too() -> None:
    world = World()
    world.produce(HOUR[0], 1000)
    world.ok(correct(1200))
    assert world.ok(correct(500)) == CorrectionResult(None, (3,), 700, 0)
    assert world.registry.balance(PRODUCER_ACCOUNT) == 500


def test_reserved_certificates_are_withdrawn_by_a_correction_after_active_ones() -> None:
    # D10: only transferred, cancelled, redeemed or expired GCs escape withdrawal; a
    # reservation or lock is none of these (the certificates never left their account)
    world = World()
    world.produce(HOUR[0], 1000)
    world.ok(Reserve(ALICE, 1, 900))  # 2: 1..900 reserved; 3: 901..1000 active
    assert world.ok(correct(700)) == CorrectionResult(None, (3, 4), 300, 0)
    assert world.bundle(3).status is BundleStatus.WITHDRAWN  # the active bundle goes first
    assert (world.bundle(4).range_start, world.bundle(4).range_end) == (1, 200)
    assert world.bundle(4).status is BundleStatus.WITHDRAWN
    assert world.bundle(5).status is BundleStatus.RESERVED and world.bundle(5).quantity == 700
    assert world.registry.outstanding_deductions(WIND) == 0
    world.assert_invariants()


def cancelled_then_corrected(policy: CorrectionDeduction) -> World:
    world = World(Policies(correction_deduction=policy))
    world.produce(HOUR[0], 1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    assert world.ok(correct(700)) == CorrectionResult(None, (), 0, 300)
    assert world.registry.outstanding_deductions(WIND) == 300
    return world


def test_same_hour_of_day_first_then_any_hour() -> None:
    world = cancelled_then_corrected(CorrectionDeduction.SAME_HOUR_OF_DAY_FIRST)
    # another hour of the day: untouched by the deduction
    assert world.produce("2024-03-01T11:00:00Z", 500) == IssuanceResult(2, 2, 500, 0)
    assert world.registry.outstanding_deductions(WIND) == 300
    # the same hour the next day is insufficient: all of it goes, nothing is issued
    assert world.produce("2024-03-02T10:00:00Z", 200) == IssuanceResult(None, None, 0, 200)
    assert world.registry.outstanding_deductions(WIND) == 100
    # the rest comes from the next issuance of any other hour
    assert world.produce("2024-03-02T12:00:00Z", 500) == IssuanceResult(3, 3, 400, 100)
    assert world.registry.issuance(3).deducted_wh == 100  # type: ignore[union-attr]
    assert world.registry.outstanding_deductions(WIND) == 0
    # once settled, issuances are whole again
    assert world.produce("2024-03-03T10:00:00Z", 50) == IssuanceResult(4, 4, 50, 0)
    world.assert_invariants()


def test_next_issuance_whatever_its_hour() -> None:
    world = cancelled_then_corrected(CorrectionDeduction.NEXT_ISSUANCE)
    assert world.produce("2024-03-01T11:00:00Z", 500) == IssuanceResult(2, 2, 200, 300)
    assert world.registry.outstanding_deductions(WIND) == 0
    world.assert_invariants()


def test_a_deduction_larger_than_the_next_issuance_carries_on() -> None:
    world = cancelled_then_corrected(CorrectionDeduction.NEXT_ISSUANCE)
    assert world.produce("2024-03-01T11:00:00Z", 120) == IssuanceResult(None, None, 0, 120)
    assert world.registry.outstanding_deductions(WIND) == 180
    assert world.produce("2024-03-01T12:00:00Z", 1000) == IssuanceResult(2, 2, 820, 180)
    assert world.registry.outstanding_deductions(WIND) == 0


def test_deductions_belong_to_their_device() -> None:
    world = cancelled_then_corrected(CorrectionDeduction.NEXT_ISSUANCE)
    result = world.produce("2024-03-01T10:00:00Z", 500, device_id="DEV-SOLAR")
    assert result.issued_wh == 500 and result.deducted_wh == 0
    assert world.registry.outstanding_deductions(WIND) == 300


def test_successive_downward_corrections_accumulate_deductions() -> None:
    world = cancelled_then_corrected(CorrectionDeduction.SAME_HOUR_OF_DAY_FIRST)
    assert world.ok(correct(650)) == CorrectionResult(None, (), 0, 50)
    assert world.registry.outstanding_deductions(WIND) == 350


def test_correcting_a_reading_that_issued_nothing_issues_the_difference() -> None:
    world = World()
    world.produce(HOUR[0], "0.4")
    assert world.ok(correct(500)) == CorrectionResult(IssuanceResult(1, 1, 500, 0), (), 0, 0)
    assert world.registry.issuance(1).corrects_issuance_id is None  # type: ignore[union-attr]
    world.assert_invariants()


@pytest.mark.parametrize(
    ("command", "code", "field"),
    [
        (correct(900, actor=ALICE), ErrorCode.NOT_AUTHORISED, "actor"),
        (correct(900, device_id="NOPE"), ErrorCode.UNKNOWN_DEVICE, "device_id"),
        (correct(900, end="2024-03-01T10:30:00Z"), ErrorCode.UNKNOWN_PRODUCTION, "interval"),
        (
            correct(900, "2024-03-01T12:00:00Z", "2024-03-01T13:00:00Z"),
            ErrorCode.UNKNOWN_PRODUCTION,
            "interval",
        ),
        (correct(900, end="2024-03-01T11:01:00Z"), ErrorCode.INTERVAL_TOO_LONG, "interval"),
        (correct(900, end="2024-03-01T10:14:95Z"), ErrorCode.INVALID_TIMESTAMP, "interval.end"),
        (correct(-900), ErrorCode.INVALID_ENERGY, "energy_wh"),
        (correct(WIND_CAPACITY_W + 1), ErrorCode.CAPACITY_EXCEEDED, "energy_wh"),
    ],
)
def test_corrections_are_validated(command: CorrectProduction, code: ErrorCode, field: str) -> None:
    world = World()
    world.produce(HOUR[0], 1000)
    world.rejected(command, code, field)
