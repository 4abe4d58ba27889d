"""SCR -> SDR allocation (D7, D13): every method worked by hand, partial allocations, scale."""

from __future__ import annotations

import datetime as _dt
import time

import pytest
from storage_world import ISSUER, OPERATOR, World, hour

from gc_conformance.reference import ErrorCode
from gc_conformance.reference.allocation import AliveIndex, weighted_shares
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.reference.storage import (
    AllocateStorage,
    AssignUnknownBeneficiary,
    CancelForCharge,
    IssueStorageGC,
    SetEfficiencyFactor,
)


def commissioned(allocation: str) -> World:
    """Start-up day: a 1000 Wh grid charge at 00:00 and 900 Wh out at 01:00 -> factor 0.9.

    The commissioning discharge goes to the unknown beneficiary (no GCs behind it).
    """
    w = World(allocation=allocation)
    w.data("CHARGING", hour(0), 1000)  # SCR-1
    w.data("DISCHARGING", hour(1), 900)  # SDR-1
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    if allocation == "OPERATOR_DISCRETION":
        w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-1",), (("SCR-1", "SDR-1", 900),)))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))
    assert w.book.scr("SCR-1").archived and w.book.sdr("SDR-1").archived
    return w


def two_days(allocation: str, discharge_wh: int) -> World:
    """Day 1 10:00 solar 1000 Wh charged (SCR-2, net 900); day 2 10:00 wind 1000 Wh (SCR-3,
    net 900); day 2 20:00 ``discharge_wh`` out (SDR-2). Both charges fully backed by GCs."""
    w = commissioned(allocation)
    solar = w.produce("SOLAR", hour(10), 1000)
    wind = w.produce("WIND", hour(34), 1000)
    w.data("CHARGING", hour(10), 1000)
    w.data("CHARGING", hour(34), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", solar, "SAME_BIDDING_ZONE"))
    w.ok(CancelForCharge(OPERATOR, "SCR-3", wind, "SAME_BIDDING_ZONE"))
    w.data("DISCHARGING", hour(44), discharge_wh)
    assert [w.book.scr(i).net_wh for i in ("SCR-2", "SCR-3")] == [900, 900]
    return w


def test_fifo_and_lifo_give_different_sd_gc_attributes() -> None:
    fifo = two_days("FIFO", 900)
    lifo = two_days("LIFO", 900)
    assert fifo.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).allocations == (
        ("SCR-2", "SDR-2", 900),
    )
    assert lifo.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).allocations == (
        ("SCR-3", "SDR-2", 900),
    )
    a = fifo.reg.issuance(fifo.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    b = lifo.reg.issuance(lifo.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    assert a is not None and b is not None
    # FIFO: the day-1 solar energy leaves first.
    assert (a.energy_source, a.device_location.city) == ("Solar", "Utrecht")
    assert a.original_production_start == hour(10)
    # LIFO: the day-2 wind energy leaves first.
    assert (b.energy_source, b.device_location.city) == ("Wind", "Den Helder")
    assert b.original_production_start == hour(34)
    for sd_gc in (a, b):
        assert sd_gc.is_storage and sd_gc.storage_id == "BATT"
        assert sd_gc.quantity == 900
        assert (sd_gc.production_start, sd_gc.production_end) == (hour(44), hour(45))
        assert sd_gc.storage_device_location is not None
        assert sd_gc.storage_device_location.city == "Amersfoort"
        assert sd_gc.storage_efficiency_factor == pytest.approx(0.9)
    assert a.scr_ids == ("SCR-2",) and b.scr_ids == ("SCR-3",)
    for w in (fifo, lifo):
        assert check_invariants(w.reg.export_history(), w.reg.export_state()).ok


def test_partial_allocation_across_two_charges() -> None:
    # 1200 Wh out of 900 + 900 stored: FIFO takes 900 from SCR-2 then 300 from SCR-3.
    fifo = two_days("FIFO", 1200)
    assert fifo.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).allocations == (
        ("SCR-2", "SDR-2", 900),
        ("SCR-3", "SDR-2", 300),
    )
    assert fifo.book.scr("SCR-2").archived and not fifo.book.scr("SCR-3").archived
    assert fifo.book.pool("BATT").state_of_charge_wh == 600
    assert fifo.book.pool("BATT").scr_ids == ("SCR-3",)
    # LIFO: 900 from SCR-3, then 300 from SCR-2.
    lifo = two_days("LIFO", 1200)
    assert lifo.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).allocations == (
        ("SCR-3", "SDR-2", 900),
        ("SCR-2", "SDR-2", 300),
    )
    sd_gc = lifo.reg.issuance(lifo.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    assert sd_gc is not None and sd_gc.energy_source == "Solar+Wind"
    assert sd_gc.device_location.city == "Den Helder"  # the first allocated original device


def test_partially_allocated_sdr_gets_no_sd_gc() -> None:
    w = two_days("FIFO", 2000)  # only 1800 Wh are stored net of losses
    assert (
        sum(a[2] for a in w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).allocations) == 1800
    )
    refused = w.run(IssueStorageGC(ISSUER, "SDR-2"))
    assert refused.problem.code is ErrorCode.SDR_NOT_FULLY_ALLOCATED


def test_weighted_average_worked_example() -> None:
    w = two_days("WEIGHTED_AVERAGE", 500)
    w.data("DISCHARGING", hour(45), 400)  # SDR-3
    # Batched: SDR-2 500 Wh from 900 + 900 -> 250 + 250; then SDR-3 400 Wh from
    # 650 + 650 -> 200 + 200.
    result = w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-3", "SDR-2")))
    assert result.allocations == (
        ("SCR-2", "SDR-2", 250),
        ("SCR-3", "SDR-2", 250),
        ("SCR-2", "SDR-3", 200),
        ("SCR-3", "SDR-3", 200),
    )


def test_weighted_shares_by_hand() -> None:
    # 7 Wh from 5 / 3 / 2: exact shares 3.5 / 2.1 / 1.4 -> floors 3 / 2 / 1, one Wh left goes
    # to the largest remainder (0.5).
    assert weighted_shares(7, [(0, 5), (1, 3), (2, 2)]) == [(0, 4), (1, 2), (2, 1)]
    # 2 Wh from 1 / 1 / 1: all remainders 2/3, ties to the earlier positions.
    assert weighted_shares(2, [(0, 1), (1, 1), (2, 1)]) == [(0, 1), (1, 1)]
    # More needed than held: everything, no more.
    assert weighted_shares(10, [(0, 3), (1, 3)]) == [(0, 3), (1, 3)]
    assert weighted_shares(5, []) == []


def test_operator_discretion_worked_example_and_validation() -> None:
    w = two_days("OPERATOR_DISCRETION", 1000)
    # Method-based allocation is not available, and a list is required.
    assert (
        w.run(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).problem.code
        is ErrorCode.ALLOCATION_NOT_EXPLICIT
    )
    over_charge = w.run(AllocateStorage(OPERATOR, "BATT", ("SDR-2",), (("SCR-2", "SDR-2", 901),)))
    assert over_charge.problem.code is ErrorCode.ALLOCATION_EXCEEDS_CHARGE
    assert over_charge.problem.field == "allocations[0]"
    twice = w.run(
        AllocateStorage(
            OPERATOR, "BATT", ("SDR-2",), (("SCR-2", "SDR-2", 500), ("SCR-2", "SDR-2", 401))
        )
    )
    assert twice.problem.code is ErrorCode.ALLOCATION_EXCEEDS_CHARGE
    over_discharge = w.run(
        AllocateStorage(
            OPERATOR, "BATT", ("SDR-2",), (("SCR-2", "SDR-2", 900), ("SCR-3", "SDR-2", 101))
        )
    )
    assert over_discharge.problem.code is ErrorCode.ALLOCATION_EXCEEDS_DISCHARGE
    zero = w.run(AllocateStorage(OPERATOR, "BATT", ("SDR-2",), (("SCR-2", "SDR-2", 0),)))
    assert zero.problem.code is ErrorCode.INVALID_QUANTITY
    # The operator picks 400 Wh of wind and 600 Wh of solar.
    chosen = (("SCR-3", "SDR-2", 400), ("SCR-2", "SDR-2", 600))
    assert w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",), chosen)).allocations == chosen
    assert w.book.scr("SCR-2").remaining_wh == 300 and w.book.scr("SCR-3").remaining_wh == 500


def test_discretion_cannot_allocate_a_later_charge() -> None:
    w = two_days("OPERATOR_DISCRETION", 100)
    w.data("CHARGING", hour(50), 1000)  # SCR-4, after SDR-2
    later = w.run(AllocateStorage(OPERATOR, "BATT", ("SDR-2",), (("SCR-4", "SDR-2", 100),)))
    assert later.problem.code is ErrorCode.ALLOCATION_BEFORE_CHARGE


def test_methods_never_take_from_a_later_charge() -> None:
    w = commissioned("LIFO")
    w.data("DISCHARGING", hour(5), 100)  # SDR-2: nothing stored before it
    w.data("CHARGING", hour(6), 1000)  # SCR-2
    assert w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).allocations == ()


def test_alive_index() -> None:
    index = AliveIndex()
    for _ in range(6):
        index.append()
    for dead in (1, 2, 4):
        index.kill(dead)
    assert [index.next_alive(i) for i in range(7)] == [0, 3, 3, 3, 5, 5, None]
    assert [index.prev_alive(i) for i in range(6)] == [0, 0, 0, 3, 3, 5]
    index.kill(0)
    assert index.prev_alive(2) is None


@pytest.mark.parametrize("method", ["FIFO", "LIFO", "WEIGHTED_AVERAGE"])
def test_allocation_scales_to_1e5_records(method: str) -> None:
    """50 000 charges and 50 000 discharges (10^5 records), each discharge allocated alone."""
    n = 50_000
    later = _dt.datetime(2030, 1, 1, tzinfo=_dt.UTC)
    w = World(allocation=method, period=15, capacity_wh=10**9, now=later)
    book = w.book
    start = time.perf_counter()
    quarter = _dt.timedelta(minutes=15)
    base = hour(0)
    for i in range(n):
        w.ok(w.data_cmd("CHARGING", base + 2 * i * quarter, 100))
        w.ok(w.data_cmd("DISCHARGING", base + (2 * i + 1) * quarter, 60 if i % 2 else 120))
        if i == 1:  # 200 Wh in, 180 Wh out over the first hour: factor 0.9
            w.ok(SetEfficiencyFactor(ISSUER, "BATT", base, base + 4 * quarter))
    for i in range(n):
        w.ok(AllocateStorage(OPERATOR, "BATT", (f"SDR-{i + 1}",)))
    elapsed = time.perf_counter() - start
    # The very first discharge (120 Wh) could only draw on the first charge (90 Wh net).
    assert sum(r.allocated_wh for r in book.sdrs("BATT")) == n * 90 - 30
    assert book.pool("BATT").state_of_charge_wh == 30
    assert elapsed < 60, elapsed
