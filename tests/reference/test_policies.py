"""Named policies for the standard's open points (D5 rounding, D8 validity, D13) and value parsing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from core_builders import invalid, ts

from gc_conformance.reference import (
    CapacityPlausibility,
    CorrectionDeduction,
    ErrorCode,
    Policies,
    Rounding,
    SplitOrigin,
    ValidityReading,
)
from gc_conformance.reference.policies import parse_energy, parse_quantity


@pytest.mark.parametrize(
    ("metered", "nearest", "down"),
    [
        ("1000.5", 1001, 1000),
        ("1000.4999", 1000, 1000),
        ("0.4", 0, 0),
        ("0.5", 1, 0),
        ("2.5", 3, 2),  # halves go up, not to even
        ("3.5", 4, 3),
        ("999.9", 1000, 999),
        ("0", 0, 0),
        ("7", 7, 7),
    ],
)
def test_rounding_nearest_versus_down(metered: str, nearest: int, down: int) -> None:
    assert Rounding.NEAREST.apply(Decimal(metered)) == nearest
    assert Rounding.DOWN.apply(Decimal(metered)) == down


@pytest.mark.parametrize(
    ("reading", "production_end", "expiry"),
    [
        (ValidityReading.CALENDAR_YEAR, "2024-12-31T23:00:00Z", "2025-01-01T00:00:00Z"),
        # the last hour of 2024 ends at midnight, and still belongs to 2024
        (ValidityReading.CALENDAR_YEAR, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        (ValidityReading.CALENDAR_YEAR, "2025-01-01T00:15:00Z", "2026-01-01T00:00:00Z"),
        (ValidityReading.CALENDAR_YEAR, "2024-03-01T11:00:00Z", "2025-01-01T00:00:00Z"),
        (ValidityReading.ROLLING_12_MONTHS, "2024-03-01T11:00:00Z", "2025-03-01T11:00:00Z"),
        # a 29th of February clamps to the 28th in a year without one
        (ValidityReading.ROLLING_12_MONTHS, "2024-02-29T01:00:00Z", "2025-02-28T01:00:00Z"),
        (ValidityReading.ROLLING_12_MONTHS, "2023-01-31T10:00:00Z", "2024-01-31T10:00:00Z"),
        (ValidityReading.ROLLING_12_MONTHS, "2024-12-31T23:00:00Z", "2025-12-31T23:00:00Z"),
        (ValidityReading.ROLLING_24_MONTHS, "2024-02-29T01:00:00Z", "2026-02-28T01:00:00Z"),
        (ValidityReading.ROLLING_24_MONTHS, "2024-03-01T11:00:00Z", "2026-03-01T11:00:00Z"),
        (ValidityReading.ROLLING_24_MONTHS, "2023-02-28T05:00:00Z", "2025-02-28T05:00:00Z"),
    ],
)
def test_expiry_instant_under_each_validity_reading(
    reading: ValidityReading, production_end: str, expiry: str
) -> None:
    assert reading.expiry(ts(production_end)) == ts(expiry)


def test_capacity_plausibility_is_capacity_times_interval_length() -> None:
    quarter = Fraction(1, 4)
    assert CapacityPlausibility.NAMEPLATE.permits(Decimal(250), 1000, quarter)
    assert not CapacityPlausibility.NAMEPLATE.permits(Decimal("250.001"), 1000, quarter)
    assert CapacityPlausibility.DISABLED.permits(Decimal(10**12), 1000, quarter)


def test_default_policies_follow_the_seed_and_describe_by_name() -> None:
    assert Policies().describe() == {
        "rounding": "NEAREST",
        "validity": "CALENDAR_YEAR",
        "capacity": "NAMEPLATE",
        "split_origin": "FROM_START",
        "correction_deduction": "SAME_HOUR_OF_DAY_FIRST",
        "rounding_carry": "CARRY",
        "own_hour_use": "EXEMPT_12_MONTHS",
        "time_shift_scope": "ALLOCATED_UNITS",
        "sd_gc_inputs": "FULLY_BACKED_SCRS",
        "sd_gc_producer": "FIRST_ALLOCATED",
    }


def test_policies_from_plain_names() -> None:
    chosen = Policies.from_plain(
        {"rounding": "DOWN", "validity": "ROLLING_24_MONTHS", "split_origin": "FROM_END"}
    )
    assert chosen.rounding is Rounding.DOWN
    assert chosen.validity is ValidityReading.ROLLING_24_MONTHS
    assert chosen.split_origin is SplitOrigin.FROM_END
    assert chosen.correction_deduction is CorrectionDeduction.SAME_HOUR_OF_DAY_FIRST


def test_unknown_policy_names_and_values_are_invalid_policy() -> None:
    invalid(lambda: Policies.from_plain({"rounding": "UP"}), ErrorCode.INVALID_POLICY, "rounding")
    invalid(lambda: Policies.from_plain({"speed": "FAST"}), ErrorCode.INVALID_POLICY, "speed")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1000.5", Decimal("1000.5")),
        (1000, Decimal(1000)),
        (0.1, Decimal("0.1")),  # the float's shortest repr, not its binary expansion
        (Decimal("12.25"), Decimal("12.25")),
        (Fraction(1, 4), Decimal("0.25")),
        ("0", Decimal(0)),
    ],
)
def test_energy_accepts_exact_non_negative_numbers(value: object, expected: Decimal) -> None:
    assert parse_energy(value, "energy_wh") == expected


@pytest.mark.parametrize(
    "value", ["-1", -0.5, "NaN", "Infinity", float("inf"), "abc", True, None, [1], ""]
)
def test_energy_refuses_negative_non_finite_and_non_numbers(value: object) -> None:
    invalid(lambda: parse_energy(value, "energy_wh"), ErrorCode.INVALID_ENERGY, "energy_wh")


def test_quantity_is_a_positive_int() -> None:
    assert parse_quantity(5, "quantity") == 5
    for value in (0, -1, 1.0, 2.5, True, "5", None):
        invalid(
            lambda value=value: parse_quantity(value, "quantity"),
            ErrorCode.INVALID_QUANTITY,
            "quantity",
        )


def test_validity_expiry_is_always_utc_midnight_for_calendar_year() -> None:
    for month in range(1, 13):
        end = dt.datetime(2024, month, 1, 1, tzinfo=dt.UTC)
        assert ValidityReading.CALENDAR_YEAR.expiry(end) == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("value", ["1e24", 10**30, "1e1000000000", "1e-1000000000", "1.5e-101"])
def test_energy_outside_the_representable_range_is_refused_promptly(value: object) -> None:
    invalid(lambda: parse_energy(value, "energy_wh"), ErrorCode.INVALID_ENERGY, "energy_wh")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("9.99e23", Decimal("9.99e23")), ("1e-100", Decimal("1e-100")), ("0E-1000000000", Decimal(0))],
)
def test_energy_at_the_edges_of_the_range_is_accepted(value: str, expected: Decimal) -> None:
    assert parse_energy(value, "energy_wh") == expected
