"""The ``rounding_carry`` policy (D5): carry the sub-Wh remainder, or round each reading alone.

Each value is tested in the model, and each hour's certified Wh is auditable
against its own reading: the invariant checker holds a reading rounded on its
own to its own hour (under DOWN, never above its own production).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from core_builders import ISSUER, PRODUCER_ACCOUNT, WIND, World, hour_after
from test_invariants import reading, risks
from test_invariants_review import messages, raw

from gc_conformance.reference import (
    CorrectProduction,
    Policies,
    Rounding,
    RoundingCarry,
)
from gc_conformance.reference.invariants import Risk

STARTS = [f"2024-03-01T{h:02d}:00:00Z" for h in (10, 11, 12, 13)]


def readings(world: World) -> list[dict[str, Any]]:
    return [
        e
        for action in world.registry.export_history()
        for e in action["effects"]
        if e["effect"] == "reading"
    ]


def test_carry_is_the_default_and_per_reading_is_a_named_value() -> None:
    assert Policies().rounding_carry is RoundingCarry.CARRY
    chosen = Policies.from_plain({"rounding_carry": "PER_READING"})
    assert chosen.rounding_carry is RoundingCarry.PER_READING
    assert chosen.describe()["rounding_carry"] == "PER_READING"


@pytest.mark.parametrize(
    ("rounding", "carry", "issued", "balance"),
    [
        (Rounding.NEAREST, RoundingCarry.CARRY, [1, 0, 1, 0], 2),
        (Rounding.DOWN, RoundingCarry.CARRY, [0, 1, 0, 1], 2),
        (Rounding.NEAREST, RoundingCarry.PER_READING, [1, 1, 1, 1], 4),
        (Rounding.DOWN, RoundingCarry.PER_READING, [0, 0, 0, 0], 0),
    ],
)
def test_four_half_wh_readings_under_every_pair_of_values(
    rounding: Rounding, carry: RoundingCarry, issued: list[int], balance: int
) -> None:
    world = World(Policies(rounding=rounding, rounding_carry=carry))
    assert [world.produce(start, "0.5").issued_wh for start in STARTS] == issued
    assert world.registry.balance(PRODUCER_ACCOUNT) == balance
    plain = readings(world)
    assert [r["recognised_wh"] for r in plain] == issued
    assert all(r["metered_wh"] == "0.5" for r in plain)  # each hour next to its own reading
    if carry is RoundingCarry.PER_READING:
        assert world.registry.rounding_remainder(WIND) == 0  # nothing is ever carried
        assert all(r["carried_wh"] is None for r in plain)
        assert all(r["rounded_alone"] == rounding.name for r in plain)
    else:
        assert all(r["carried_wh"] is not None for r in plain)
        assert all("rounded_alone" not in r for r in plain)
    world.assert_invariants()


@pytest.mark.parametrize("rounding", list(Rounding))
def test_per_reading_never_certifies_an_hour_above_its_own_rounded_reading(
    rounding: Rounding,
) -> None:
    world = World(Policies(rounding=rounding, rounding_carry=RoundingCarry.PER_READING))
    metered = ["0.3", "0.7", "1.26", "999.5", "0", "2.5"]
    for index, energy in enumerate(metered):
        result = world.produce(f"2024-03-01T{index:02d}:00:00Z", energy)
        assert result.issued_wh == rounding.apply(Decimal(energy))
        if rounding is Rounding.DOWN:
            assert result.issued_wh <= Decimal(energy)
    world.assert_invariants()


@pytest.mark.parametrize(
    ("rounding", "corrected", "difference"),
    [(Rounding.NEAREST, "1000.5", 1), (Rounding.DOWN, "1000.9", 0), (Rounding.DOWN, "1001.2", 1)],
)
def test_per_reading_correction_issues_the_change_of_the_rounded_reading(
    rounding: Rounding, corrected: str, difference: int
) -> None:
    world = World(Policies(rounding=rounding, rounding_carry=RoundingCarry.PER_READING))
    world.produce(STARTS[0], 1000)
    world.ok(CorrectProduction(ISSUER, WIND, STARTS[0], hour_after(STARTS[0]), corrected))
    assert world.registry.balance(PRODUCER_ACCOUNT) == 1000 + difference
    assert world.registry.rounding_remainder(WIND) == 0
    assert readings(world)[-1]["recognised_wh"] == 1000 + difference
    world.assert_invariants()


# ------------------------------------------------------------- the checker, on histories


def alone(hour: int, recognised: int, metered: str, rounded: str | None) -> dict[str, Any]:
    plain = reading("D1", hour, recognised, metered, None)
    if rounded is not None:
        plain["rounded_alone"] = rounded
    return plain


def test_an_hour_rounded_down_alone_above_its_own_production_is_found() -> None:
    # Under DOWN, 0.5 Wh certified as 1 Wh: the device total (1 Wh from 0.5) is within the
    # per-device bound for one reading rounded alone, but the hour is above its production.
    found = messages(raw(alone(10, 1, "0.5", "DOWN")))
    assert len(found) == 1 and "at most 0 Wh" in found[0]
    assert risks(raw(alone(10, 1, "0.5", "DOWN"))) == [Risk.DOUBLE_ISSUANCE]
    # at the limit: 1.9 Wh down is 1 Wh; 2 would be one over
    assert risks(raw(alone(10, 1, "1.9", "DOWN"))) == []
    assert risks(raw(alone(10, 2, "1.9", "DOWN"))) == [Risk.DOUBLE_ISSUANCE]
    # a whole metered value is its own bound
    assert risks(raw(alone(10, 7, "7", "DOWN"))) == []


def test_an_hour_rounded_alone_to_nearest_is_held_to_half_a_wh() -> None:
    assert risks(raw(alone(10, 1, "0.5", "NEAREST"))) == []
    assert risks(raw(alone(10, 1, "0.5", None))) == []  # no name: nearest is the loosest bound
    assert risks(raw(alone(10, 1, "0.49", "NEAREST"))) == [Risk.DOUBLE_ISSUANCE]
    # a later hour cannot take what an earlier hour lost: each is held to its own reading
    later = raw(alone(10, 0, "0.5", "DOWN"), alone(11, 1, "0.5", "DOWN"))
    assert risks(later) == [Risk.DOUBLE_ISSUANCE]


def test_a_carried_remainder_still_moves_wh_between_hours_without_a_finding() -> None:
    # Under CARRY, 0, 1 for 0.5 + 0.5 Wh is sound: the device total is 1 Wh.
    carried = raw(reading("D1", 10, 0, "0.5", "0.5"), reading("D1", 11, 1, "0.5", "0"))
    assert risks(carried) == []


def test_an_unknown_rounded_alone_value_is_malformed() -> None:
    assert risks(raw(alone(10, 1, "0.5", "UP"))) == [Risk.MALFORMED_HISTORY]
