"""SCR -> SDR allocation (D7, D13): every method worked by hand, partial allocations, scale."""

from __future__ import annotations

import copy
import datetime as _dt
import pickle
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from storage_world import ISSUER, OPERATOR, World, hour

from gc_conformance.reference import ErrorCode, Policies, SdGcProducer
from gc_conformance.reference.allocation import (
    AllocationLog,
    Holdings,
    take_in_order,
    weighted_shares,
    weighted_take,
)
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.reference.storage import (
    AllocateStorage,
    AssignUnknownBeneficiary,
    CancelForCharge,
    IssueStorageGC,
    SetEfficiencyFactor,
)


def commissioned(allocation: str, policies: Policies | None = None) -> World:
    """Start-up day: a 1000 Wh grid charge at 00:00 and 900 Wh out at 01:00 -> factor 0.9.

    The commissioning discharge goes to the unknown beneficiary (no GCs behind it).
    """
    w = World(allocation=allocation, policies=policies)
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


def test_holdings_index() -> None:
    tree = Holdings()
    for wh in (5, 0, 0, 7, 0, 7):
        tree.append(wh)
    view = tree.view()
    assert [view.first(i, 6) for i in range(7)] == [0, 3, 3, 3, 5, 5, None]
    assert [view.last(0, i + 1) for i in range(6)] == [0, 0, 0, 3, 3, 5]
    assert [view.total(b) for b in range(7)] == [0, 5, 5, 5, 12, 12, 19]
    # most Wh first, ties to the older position
    assert list(view.largest(6)) == [(3, 7), (5, 7), (0, 5)]
    assert list(view.largest(5)) == [(3, 7), (0, 5)]
    # a view plans changes without touching the tree
    view.set(0, 0)
    view.set(3, 9)
    assert view.last(0, 3) is None and view.first(0, 6) == 3 and view.total(6) == 16
    assert list(view.largest(6)) == [(3, 9), (5, 7)]
    assert tree.values() == [5, 0, 0, 7, 0, 7] and tree.view().total(6) == 19
    tree.set(0, 0)
    assert tree.view().last(0, 3) is None


@pytest.mark.parametrize("method", ["FIFO", "LIFO", "WEIGHTED_AVERAGE"])
def test_allocation_over_many_interleaved_records(method: str) -> None:
    """2000 charges and 2000 discharges, each discharge allocated alone.

    Correctness only: the cost (flat per record up to 10^5 records, every method) is
    measured by ``benchmarks/run.py`` (operation ``storage_allocation``), never here.
    """
    n = 2000
    w = World(allocation=method, period=15, capacity_wh=10**9, now=LATER)
    book = w.book
    for i in range(n):
        w.ok(w.data_cmd("CHARGING", BASE + 2 * i * QUARTER, 100))
        w.ok(w.data_cmd("DISCHARGING", BASE + (2 * i + 1) * QUARTER, 60 if i % 2 else 120))
        if i == 1:  # 200 Wh in, 180 Wh out over the first hour: factor 0.9
            w.ok(SetEfficiencyFactor(ISSUER, "BATT", BASE, BASE + 4 * QUARTER))
    for i in range(n):
        w.ok(AllocateStorage(OPERATOR, "BATT", (f"SDR-{i + 1}",)))
    # The very first discharge (120 Wh) could only draw on the first charge (90 Wh net).
    assert sum(r.allocated_wh for r in book.sdrs("BATT")) == n * 90 - 30
    assert book.pool("BATT").state_of_charge_wh == 30
    assert check_invariants(w.reg.export_history(), w.reg.export_state()).ok


LATER = _dt.datetime(2030, 1, 1, tzinfo=_dt.UTC)
QUARTER = _dt.timedelta(minutes=15)
BASE = hour(0)


def pool_then_discharges(method: str, charges: list[int], discharges: list[int]) -> World:
    """Every charge first (the pool grows with them), then every discharge; factor 0.9."""
    w = World(allocation=method, period=15, capacity_wh=10**9, now=LATER)
    w.ok(w.data_cmd("CHARGING", BASE, 1000))
    w.ok(w.data_cmd("DISCHARGING", BASE + QUARTER, 900))
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", BASE, BASE + 2 * QUARTER))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))  # SCR-1 drained by the method
    slot = 2
    for wh in charges:
        w.ok(w.data_cmd("CHARGING", BASE + slot * QUARTER, wh))
        slot += 1
    for wh in discharges:
        w.ok(w.data_cmd("DISCHARGING", BASE + slot * QUARTER, wh))
        slot += 1
    return w


@pytest.mark.parametrize("method", ["FIFO", "LIFO", "WEIGHTED_AVERAGE"])
@pytest.mark.parametrize("batched", [False, True])
def test_allocation_over_a_large_pool_follows_the_definition(method: str, batched: bool) -> None:
    """A pool of 300 charges, then 150 discharges: the registry's pieces are exactly what the
    definition gives (recomputed here naively over every stored charge)."""
    rng = random.Random(7)
    charges = [rng.choice([1, 2, 50, 100, 333, 1000, 4000]) for _ in range(300)]
    discharges = [rng.choice([1, 3, 40, 250, 900, 5000]) for _ in range(150)]
    w = pool_then_discharges(method, charges, discharges)
    held = [r.remaining_wh for r in w.book.scrs("BATT")]
    assert held[0] == 0 and held[1:] == [c - (c - c * 9 // 10) for c in charges]
    sdr_ids = [f"SDR-{i + 2}" for i in range(len(discharges))]
    if batched:
        results = [
            w.ok(AllocateStorage(OPERATOR, "BATT", tuple(sdr_ids[i : i + 7])))
            for i in range(0, len(sdr_ids), 7)
        ]
        got = [piece for result in results for piece in result.allocations]
    else:
        got = [
            piece
            for sdr_id in sdr_ids
            for piece in w.ok(AllocateStorage(OPERATOR, "BATT", (sdr_id,))).allocations
        ]
    expected: list[tuple[str, str, int]] = []
    for sdr_id, need in zip(sdr_ids, discharges, strict=True):
        holdings = list(enumerate(held))
        if method == "WEIGHTED_AVERAGE":
            pieces = weighted_shares(need, holdings)
        else:
            order = holdings[::-1] if method == "LIFO" else holdings
            pieces = []
            for position, have in order:
                if need and have:
                    pieces.append((position, min(have, need)))
                    need -= pieces[-1][1]
        for position, wh in pieces:
            held[position] -= wh
            expected.append((f"SCR-{position + 1}", sdr_id, wh))
    assert got == expected
    assert [r.remaining_wh for r in w.book.scrs("BATT")] == held
    assert check_invariants(w.reg.export_history(), w.reg.export_state()).ok


@settings(max_examples=300, deadline=None)
@given(
    held=st.lists(st.integers(0, 50), max_size=40),
    changes=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 50)), max_size=6),
    need=st.integers(0, 400),
    bound=st.integers(0, 41),
)
def test_index_planners_equal_the_definitions(
    held: list[int], changes: list[tuple[int, int]], need: int, bound: int
) -> None:
    tree = Holdings()
    for wh in held:
        tree.append(wh)
    view = tree.view()
    plain = list(held)
    for position, wh in changes:  # changes planned in the view, as a batch does
        if position < len(plain):
            view.set(position, wh)
            plain[position] = wh
    eligible = list(enumerate(plain[:bound]))
    assert weighted_take(view, need, bound) == weighted_shares(need, eligible)
    for newest_first in (False, True):
        expected, left = [], need
        for position, have in eligible[::-1] if newest_first else eligible:
            if left and have:
                expected.append((position, min(have, left)))
                left -= expected[-1][1]
        assert take_in_order(view, need, bound, newest_first=newest_first) == expected
    assert tree.values() == held  # the tree itself never changed


def test_allocation_log_extends_without_changing_earlier_logs() -> None:
    empty = AllocationLog()
    one = empty.plus(("SDR-1", 5))
    two = one.plus(("SDR-2", 7))
    fork = one.plus(("SDR-3", 1))  # extends an older log: copies, two is unchanged
    assert (tuple(empty), tuple(one)) == ((), (("SDR-1", 5),))
    assert two == (("SDR-1", 5), ("SDR-2", 7)) and len(two) == 2 and two[-1] == ("SDR-2", 7)
    assert fork == (("SDR-1", 5), ("SDR-3", 1)) and two[1:] == (("SDR-2", 7),)
    assert two == AllocationLog([("SDR-1", 5), ("SDR-2", 7)]) and two != fork
    assert hash(two) == hash((("SDR-1", 5), ("SDR-2", 7)))
    assert copy.deepcopy(two) == two and pickle.loads(pickle.dumps(two)) == two
    with pytest.raises(IndexError):
        one[1]


@pytest.mark.parametrize("method", ["FIFO", "LIFO", "WEIGHTED_AVERAGE"])
def test_preparing_an_allocation_changes_nothing(method: str) -> None:
    """Deciding is read-only: ``prepare`` without ``commit`` leaves the state as it was,
    the allocation index included; committing the same decision then applies it."""
    w = two_days(method, 1200)
    w.data("DISCHARGING", hour(45), 300)  # SDR-3
    w.data("IDLE", hour(46), 0)
    before = w.reg.fingerprint()
    tracks = copy.deepcopy(w.book._tracks)
    for command in (
        AllocateStorage(OPERATOR, "BATT", ("SDR-3", "SDR-2")),
        AllocateStorage(OPERATOR, "BATT", ("SDR-2",)),
        AssignUnknownBeneficiary(OPERATOR, "SDR-3"),
    ):
        at, value, effects = w.reg.prepare(command, w.now)
        assert effects and value.allocations
        assert w.reg.fingerprint() == before
        assert w.book._tracks == tracks
    at, value, effects = w.reg.prepare(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)), w.now)
    w.reg.commit(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)), at, value, effects)
    assert w.reg.fingerprint() != before
    assert sum(wh for _, _, wh in value.allocations) == 1200
    assert w.book.pool("BATT").state_of_charge_wh == 600


def test_sd_gc_names_the_original_device_its_d5_attributes_describe() -> None:
    # D7: the SD-GC's D5 device attributes are the original production device's; the record
    # names that device, and device_id / storage_id name the storage system it is issued on.
    fifo = two_days("FIFO", 900)
    fifo.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    one = fifo.reg.issuance(fifo.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    assert one is not None
    assert one.original_device_id == "SOLAR"
    assert (one.device_name, one.device_location.city) == ("Solar park SOLAR", "Utrecht")
    assert one.device_id == one.storage_id == "BATT"
    # Two original devices: both named (the name and location are the first allocated one's).
    lifo = two_days("LIFO", 1200)
    lifo.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    both = lifo.reg.issuance(lifo.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    assert both is not None and both.original_device_id == "SOLAR+WIND"
    # An ordinary GC names no original device: it is its own.
    ordinary = fifo.reg.issuance(1)
    assert ordinary is not None and ordinary.original_device_id is None


def unequal_producers(policies: Policies) -> Any:
    """Solar 300 Wh (SCR-2, net 270) on day 1, wind 1000 Wh (SCR-3, net 900) on day 2, both
    backed and both allocated FIFO to one 1170 Wh discharge: the SD-GC's issuance."""
    w = commissioned("FIFO", policies)
    solar = w.produce("SOLAR", hour(10), 300)
    wind = w.produce("WIND", hour(34), 1000)
    w.data("CHARGING", hour(10), 300)
    w.data("CHARGING", hour(34), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", solar, "SAME_BIDDING_ZONE"))
    w.ok(CancelForCharge(OPERATOR, "SCR-3", wind, "SAME_BIDDING_ZONE"))
    w.data("DISCHARGING", hour(44), 1170)
    assert w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).allocations == (
        ("SCR-2", "SDR-2", 270),
        ("SCR-3", "SDR-2", 900),
    )
    issued = w.reg.issuance(w.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    assert issued is not None
    return issued


@pytest.mark.parametrize(
    ("rule", "producer", "city"),
    [
        (SdGcProducer.FIRST_ALLOCATED, "SOLAR", "Utrecht"),
        (SdGcProducer.LARGEST_SHARE, "WIND", "Den Helder"),
    ],
)
def test_sd_gc_producer_decides_which_original_device_the_d5_fields_describe(
    rule: SdGcProducer, producer: str, city: str
) -> None:
    # D7 names "the original production device"; with two behind one SDR the policy says which
    # one the device fields describe. Every other field is unambiguous under both values.
    sd_gc = unequal_producers(Policies(sd_gc_producer=rule))
    assert sd_gc.production_device_id == producer
    assert sd_gc.device_name.endswith(producer)
    assert sd_gc.device_location.city == city
    assert sd_gc.original_device_id == "SOLAR+WIND"  # every producer, whatever the policy
    assert sd_gc.energy_source == "Solar+Wind"
    # the storage system is named by its own fields, never by the D5 device fields
    assert sd_gc.device_id == sd_gc.storage_id == "BATT" and sd_gc.is_storage
    assert sd_gc.storage_device_location is not None
    assert sd_gc.storage_device_location.city != sd_gc.device_location.city


def test_with_one_producer_both_sd_gc_producer_values_agree() -> None:
    for rule in SdGcProducer:
        w = commissioned("FIFO", Policies(sd_gc_producer=rule))
        solar = w.produce("SOLAR", hour(10), 1000)
        w.data("CHARGING", hour(10), 1000)
        w.ok(CancelForCharge(OPERATOR, "SCR-2", solar, "SAME_BIDDING_ZONE"))
        w.data("DISCHARGING", hour(44), 900)
        w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
        one = w.reg.issuance(w.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
        assert one is not None
        assert (one.production_device_id, one.original_device_id) == ("SOLAR", "SOLAR")
