"""Issuance: from submitted production data, and issuer-created bundles (D4 risks 1 and 3, D5, D6)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from core_builders import (
    ALICE,
    ISSUER,
    PRODUCER_ACCOUNT,
    SOLAR,
    SOLAR_METER,
    SUPPLIER_ACCOUNT,
    WIND,
    WIND_CAPACITY_W,
    WIND_METER,
    World,
    device,
    ts,
)

from gc_conformance.reference import (
    BundleStatus,
    CapacityPlausibility,
    ErrorCode,
    GrossOrNet,
    IssuanceResult,
    IssueBundle,
    OwnHourUse,
    Policies,
    RegisterDevice,
    Rounding,
    SubmitProduction,
    ValidityReading,
    Withdraw,
)


def submit(start: str, end: str, energy: object = 1000, **changes: object) -> SubmitProduction:
    values: dict[str, object] = dict(
        actor=ISSUER, device_id=WIND, meter_id=WIND_METER, start=start, end=end, energy_wh=energy
    )
    values.update(changes)
    return SubmitProduction(**values)  # type: ignore[arg-type]


def issue_bundle(
    range_start: int, range_end: int, quantity: int, energy: object = 1000, **changes: object
) -> IssueBundle:
    values: dict[str, object] = dict(
        actor=ISSUER,
        device_id=WIND,
        account_id=PRODUCER_ACCOUNT,
        start="2024-03-01T10:00:00Z",
        end="2024-03-01T11:00:00Z",
        range_start=range_start,
        range_end=range_end,
        quantity=quantity,
        energy_wh=energy,
    )
    values.update(changes)
    return IssueBundle(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- issue from data


def test_submitted_production_is_issued_as_one_bundle_of_one_wh_certificates() -> None:
    world = World()
    result = world.produce("2024-03-01T10:00:00Z", "1000", now="2024-03-02T08:30:00Z")
    assert result == IssuanceResult(1, 1, 1000, 0)
    bundle = world.bundle(1)
    assert (bundle.range_start, bundle.range_end, bundle.quantity) == (1, 1000, 1000)
    assert bundle.account_id == PRODUCER_ACCOUNT
    assert bundle.status is BundleStatus.ACTIVE
    issuance = world.registry.issuance(1)
    assert issuance is not None
    assert issuance.device_id == WIND
    assert issuance.account_id == PRODUCER_ACCOUNT
    assert issuance.production_start == ts("2024-03-01T10:00:00Z")
    assert issuance.production_end == ts("2024-03-01T11:00:00Z")
    assert issuance.issuance_date == dt.date(2024, 3, 2)  # the UTC date of issuing
    # CALENDAR_YEAR: the consumption period ends with 2024; matched to its own hour the GC
    # stays usable 12 months after production (D8 exemption, own_hour_use EXEMPT_12_MONTHS)
    assert issuance.own_hour_only_from == ts("2025-01-01T00:00:00Z")
    assert issuance.expiry == ts("2025-03-01T11:00:00Z")
    assert issuance.energy_source == "Wind"
    assert issuance.energy_carrier == "Electricity"
    assert issuance.face_value_wh == 1
    assert issuance.country_of_issuance == "NL"
    assert issuance.issuer_id == ISSUER
    assert issuance.device_capacity_w == WIND_CAPACITY_W
    assert issuance.device_operational_date == dt.date(2020, 1, 1)
    assert issuance.registry_configuration == 1
    assert issuance.corrects_issuance_id is None
    assert world.registry.balance(PRODUCER_ACCOUNT) == 1000


def test_the_issuance_date_is_the_utc_date_at_issuing() -> None:
    world = World()
    world.produce("2024-03-01T22:00:00Z", 10, now="2024-03-01T23:59:59Z")
    assert world.registry.issuance(1).issuance_date == dt.date(2024, 3, 1)  # type: ignore[union-attr]


def test_certificate_ids_continue_across_issuances_and_devices() -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    second = world.produce("2024-03-01T10:00:00Z", 500, device_id=SOLAR)
    assert second == IssuanceResult(2, 2, 500, 0)
    assert (world.bundle(2).range_start, world.bundle(2).range_end) == (1001, 1500)
    assert world.bundle(2).account_id == SUPPLIER_ACCOUNT


@pytest.mark.parametrize(
    ("rounding", "metered", "issued"),
    [
        (Rounding.NEAREST, "1000.5", 1001),
        (Rounding.DOWN, "1000.5", 1000),
        (Rounding.NEAREST, "1000.49", 1000),
        (Rounding.DOWN, "1000.99", 1000),
        (Rounding.NEAREST, 999.5, 1000),
    ],
)
def test_face_value_follows_the_rounding_policy(
    rounding: Rounding, metered: object, issued: int
) -> None:
    world = World(Policies(rounding=rounding))
    result = world.produce("2024-03-01T10:00:00Z", metered)
    assert result.issued_wh == issued
    assert world.bundle(1).quantity == issued


@pytest.mark.parametrize("rounding", list(Rounding))
def test_less_than_half_a_wh_issues_nothing_but_still_counts_as_reported(
    rounding: Rounding,
) -> None:
    world = World(Policies(rounding=rounding))
    assert world.produce("2024-03-01T10:00:00Z", "0.4") == IssuanceResult(None, None, 0, 0)
    assert world.registry.bundle(1) is None
    assert world.registry.issuance(1) is None
    world.rejected(
        submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 5),
        ErrorCode.DUPLICATE_ISSUANCE,
        "interval",
    )


def test_zero_production_issues_nothing() -> None:
    world = World()
    assert world.produce("2024-03-01T10:00:00Z", 0) == IssuanceResult(None, None, 0, 0)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z"),  # the same interval
        ("2024-03-01T10:30:00Z", "2024-03-01T11:30:00Z"),  # overlapping its end
        ("2024-03-01T09:30:00Z", "2024-03-01T10:30:00Z"),  # overlapping its start
        ("2024-03-01T10:15:00Z", "2024-03-01T10:45:00Z"),  # inside it
        ("2024-03-01T10:59:59Z", "2024-03-01T11:00:00Z"),  # its last second
    ],
)
def test_never_twice_for_the_same_device_and_time(start: str, end: str) -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.rejected(submit(start, end, 10), ErrorCode.DUPLICATE_ISSUANCE, "interval")


def test_a_short_interval_blocks_an_hour_that_contains_it() -> None:
    world = World()
    world.produce("2024-03-01T10:15:00Z", 100, minutes=15)
    world.rejected(
        submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 10), ErrorCode.DUPLICATE_ISSUANCE
    )
    # the quarters around it are free
    world.produce("2024-03-01T10:00:00Z", 100, minutes=15)
    world.produce("2024-03-01T10:30:00Z", 100, minutes=30)
    assert world.registry.issuance(3).production_end == ts("2024-03-01T11:00:00Z")  # type: ignore[union-attr]


def test_adjacent_intervals_and_other_devices_are_not_duplicates() -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.produce("2024-03-01T11:00:00Z", 1000)
    world.produce("2024-03-01T09:00:00Z", 1000)
    world.produce("2024-03-01T10:00:00Z", 100, device_id=SOLAR)
    assert [world.registry.issuance(i).device_id for i in (1, 2, 3, 4)] == [WIND, WIND, WIND, SOLAR]  # type: ignore[union-attr]
    world.assert_invariants()


def test_production_is_reported_only_after_its_interval_ends() -> None:
    world = World()
    world.rejected(
        submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z"),
        ErrorCode.INTERVAL_NOT_ENDED,
        "interval",
        now="2024-03-01T10:59:59Z",
    )
    assert (
        world.ok(
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z"), now="2024-03-01T11:00:00Z"
        ).issued_wh
        == 1000
    )


@pytest.mark.parametrize(
    ("command", "code", "field"),
    [
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", actor=ALICE),
            ErrorCode.NOT_AUTHORISED,
            "actor",
        ),
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", device_id="NOPE"),
            ErrorCode.UNKNOWN_DEVICE,
            "device_id",
        ),
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", meter_id=SOLAR_METER),
            ErrorCode.METER_MISMATCH,
            "meter_id",
        ),
        (
            submit("2023-10-03T00:00:00Z", "2023-10-03T00:14:95Z"),
            ErrorCode.INVALID_TIMESTAMP,
            "interval.end",
        ),
        (
            submit("2024-03-01T10:00:00", "2024-03-01T11:00:00Z"),
            ErrorCode.INVALID_TIMESTAMP,
            "interval.start",
        ),
        (
            submit("2024-03-01T10:00:00+00:00", "2024-03-01T11:00:00Z"),
            ErrorCode.INVALID_TIMESTAMP,
            "interval.start",
        ),
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:01:00Z"),
            ErrorCode.INTERVAL_TOO_LONG,
            "interval",
        ),
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"),
            ErrorCode.INVALID_INTERVAL,
            "interval",
        ),
        (
            submit("2024-03-01T11:00:00Z", "2024-03-01T10:00:00Z"),
            ErrorCode.INVALID_INTERVAL,
            "interval",
        ),
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", "-1"),
            ErrorCode.INVALID_ENERGY,
            "energy_wh",
        ),
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", "lots"),
            ErrorCode.INVALID_ENERGY,
            "energy_wh",
        ),
        (
            submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", gross_or_net="BOTH"),
            ErrorCode.INVALID_FIELD,
            "gross_or_net",
        ),
    ],
)
def test_submitted_production_is_validated(
    command: SubmitProduction, code: ErrorCode, field: str
) -> None:
    world = World()
    world.rejected(command, code, field)
    assert list(world.registry.current_bundles()) == []


def test_gross_readings_are_accepted_from_a_device_registered_gross() -> None:
    world = World()
    world.ok(RegisterDevice(ISSUER, device("DEV-G", meter_id="M-G", gross_or_net=GrossOrNet.GROSS)))
    reading = SubmitProduction(
        ISSUER, "DEV-G", "M-G", "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 1000, "GROSS"
    )
    assert world.ok(reading).issued_wh == 1000
    # a reading must say what the device's meter measures (D6 "whether gross or net")
    world.rejected(
        submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", gross_or_net="GROSS"),
        ErrorCode.GROSS_NET_MISMATCH,
        "gross_or_net",
    )
    net = attrs.evolve(reading, start="2024-03-01T11:00:00Z", end="2024-03-01T12:00:00Z")
    world.rejected(attrs.evolve(net, gross_or_net="NET"), ErrorCode.GROSS_NET_MISMATCH)


def test_nameplate_capacity_bounds_energy_per_interval() -> None:
    world = World()
    world.rejected(
        submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", WIND_CAPACITY_W + 1),
        ErrorCode.CAPACITY_EXCEEDED,
        "energy_wh",
    )
    # a quarter hour allows a quarter of the capacity
    world.rejected(
        submit("2024-03-01T10:00:00Z", "2024-03-01T10:15:00Z", WIND_CAPACITY_W // 4 + 1),
        ErrorCode.CAPACITY_EXCEEDED,
    )
    assert (
        world.produce("2024-03-01T10:00:00Z", WIND_CAPACITY_W // 4, minutes=15).issued_wh == 500_000
    )
    assert world.produce("2024-03-01T11:00:00Z", WIND_CAPACITY_W).issued_wh == WIND_CAPACITY_W


def test_capacity_check_can_be_disabled() -> None:
    world = World(Policies(capacity=CapacityPlausibility.DISABLED))
    assert (
        world.produce("2024-03-01T10:00:00Z", WIND_CAPACITY_W * 3).issued_wh == WIND_CAPACITY_W * 3
    )


@pytest.mark.parametrize(
    ("validity", "own_hour", "expiry", "own_hour_only_from"),
    [
        (ValidityReading.CALENDAR_YEAR, OwnHourUse.NOT_EXEMPT, "2025-01-01T00:00:00Z", None),
        (
            ValidityReading.CALENDAR_YEAR,
            OwnHourUse.EXEMPT_12_MONTHS,
            "2025-03-01T11:00:00Z",
            "2025-01-01T00:00:00Z",
        ),
        *(
            (validity, own_hour, expiry, None)
            for own_hour in OwnHourUse  # the rolling periods already cover 12 months
            for validity, expiry in (
                (ValidityReading.ROLLING_12_MONTHS, "2025-03-01T11:00:00Z"),
                (ValidityReading.ROLLING_24_MONTHS, "2026-03-01T11:00:00Z"),
            )
        ),
    ],
)
def test_each_issuance_records_its_expiry_under_the_validity_policy(
    validity: ValidityReading, own_hour: OwnHourUse, expiry: str, own_hour_only_from: str | None
) -> None:
    world = World(Policies(validity=validity, own_hour_use=own_hour))
    world.produce("2024-03-01T10:00:00Z", 10)
    issuance = world.registry.issuance(1)
    assert issuance is not None and issuance.expiry == ts(expiry)
    assert issuance.own_hour_only_from == (own_hour_only_from and ts(own_hour_only_from))


# ---------------------------------------------------------------- issuer-created bundles


def test_an_issuer_created_bundle_is_validated_and_issued_as_asserted() -> None:
    world = World()
    result = world.ok(issue_bundle(5001, 6000, 1000))
    assert result == IssuanceResult(1, 1, 1000, 0)
    bundle = world.bundle(1)
    assert (bundle.range_start, bundle.range_end, bundle.account_id) == (
        5001,
        6000,
        PRODUCER_ACCOUNT,
    )
    # later issue-from-data continues after the highest ID issued
    world.produce("2024-03-01T11:00:00Z", 10)
    assert world.bundle(2).range_start == 6001
    world.assert_invariants()


def test_an_issuer_created_bundle_may_assert_less_than_production() -> None:
    world = World()
    assert world.ok(issue_bundle(1, 900, 900, 1000)).issued_wh == 900


def test_range_and_quantity_must_agree() -> None:
    world = World()
    world.rejected(issue_bundle(1, 1000, 999), ErrorCode.RANGE_QUANTITY_MISMATCH, "quantity")
    world.rejected(issue_bundle(10, 9, 1), ErrorCode.RANGE_QUANTITY_MISMATCH, "quantity")


def test_issued_ids_are_never_reused_even_after_withdrawal() -> None:
    world = World()
    world.produce("2024-03-01T09:00:00Z", 100)  # IDs 1..100
    world.rejected(issue_bundle(100, 199, 100, 100), ErrorCode.RANGE_OVERLAP, "range_start")
    world.rejected(issue_bundle(1, 1, 1, 100), ErrorCode.RANGE_OVERLAP, "range_start")
    world.ok(Withdraw(ISSUER, 1, "metering error"))
    assert world.bundle(1).status is BundleStatus.WITHDRAWN
    world.rejected(issue_bundle(50, 149, 100, 100), ErrorCode.RANGE_OVERLAP, "range_start")
    assert world.ok(issue_bundle(101, 200, 100, 100)).issued_wh == 100


def test_an_issuer_created_bundle_cannot_exceed_its_production() -> None:
    world = World()
    world.rejected(
        issue_bundle(1, 1001, 1001, "1000.4"), ErrorCode.QUANTITY_EXCEEDS_PRODUCTION, "quantity"
    )
    # under NEAREST, 1000.5 Wh is worth 1001 certificates
    assert world.ok(issue_bundle(1, 1001, 1001, "1000.5")).issued_wh == 1001


def test_quantity_above_production_depends_on_rounding() -> None:
    world = World(Policies(rounding=Rounding.DOWN))
    world.rejected(issue_bundle(1, 1001, 1001, "1000.5"), ErrorCode.QUANTITY_EXCEEDS_PRODUCTION)


def test_an_issuer_created_bundle_goes_into_the_devices_account() -> None:
    world = World()
    world.rejected(
        issue_bundle(1, 10, 10, account_id=SUPPLIER_ACCOUNT),
        ErrorCode.ACCOUNT_MISMATCH,
        "account_id",
    )
    world.rejected(
        issue_bundle(1, 10, 10, account_id="NOPE"), ErrorCode.UNKNOWN_ACCOUNT, "account_id"
    )


def test_issuer_created_bundles_obey_the_issue_from_data_rules() -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.rejected(issue_bundle(5001, 5010, 10), ErrorCode.DUPLICATE_ISSUANCE, "interval")
    world.rejected(
        issue_bundle(5001, 5010, 10, start="2024-03-01T11:00:00Z", end="2024-03-01T12:01:00Z"),
        ErrorCode.INTERVAL_TOO_LONG,
    )
    world.rejected(
        issue_bundle(
            5001,
            5010,
            10,
            3 * WIND_CAPACITY_W,
            start="2024-03-01T11:00:00Z",
            end="2024-03-01T12:00:00Z",
        ),
        ErrorCode.CAPACITY_EXCEEDED,
    )
    world.rejected(
        issue_bundle(5001, 5010, 10, start="2024-07-01T11:00:00Z", end="2024-07-01T12:00:00Z"),
        ErrorCode.INTERVAL_NOT_ENDED,
    )
    world.rejected(issue_bundle(5001, 5010, 10, actor=ALICE), ErrorCode.NOT_AUTHORISED, "actor")
    world.rejected(
        issue_bundle(
            5001,
            5010,
            10,
            device_id="NOPE",
            start="2024-03-01T11:00:00Z",
            end="2024-03-01T12:00:00Z",
        ),
        ErrorCode.UNKNOWN_DEVICE,
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"range_start": 0, "range_end": 9}, ErrorCode.INVALID_FIELD, "range_start"),
        ({"range_start": True}, ErrorCode.INVALID_FIELD, "range_start"),
        ({"range_end": "10"}, ErrorCode.INVALID_FIELD, "range_end"),
        ({"quantity": 0}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"quantity": 10.0}, ErrorCode.INVALID_QUANTITY, "quantity"),
        ({"energy_wh": "-3"}, ErrorCode.INVALID_ENERGY, "energy_wh"),
    ],
)
def test_issuer_created_bundle_fields_are_validated(
    changes: dict[str, object], code: ErrorCode, field: str
) -> None:
    world = World()
    values: dict[str, object] = {"range_start": 1, "range_end": 10, "quantity": 10}
    values.update(changes)
    world.rejected(issue_bundle(**values), code, field)  # type: ignore[arg-type]


@pytest.mark.parametrize("energy", ["1e30", 10**40, "1e-1000000000"])
def test_an_absurd_energy_is_refused_even_without_a_capacity_check(energy: object) -> None:
    # without the range check these raised decimal.InvalidOperation or hung in the oracle
    world = World(Policies(capacity=CapacityPlausibility.DISABLED))
    world.rejected(
        submit("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", energy),
        ErrorCode.INVALID_ENERGY,
        "energy_wh",
    )
