"""Allocation (D7): discharges allocated to charge records by the declared method (FIFO, LIFO, weighted average), never more than a pool holds."""

from __future__ import annotations

from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.storage.world import (
    STORAGE,
    STORAGE_ID,
    StorageWorld,
    allocate,
    allocations_seen,
    backed_charge,
    commission,
    energy_source,
    expect_allocation,
    issue_sd_gc,
    record,
    storage_world,
)
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    Session,
)

# ================================================================ allocation (D7)


@check("storage.allocation.each_wh_once", requirements=["STOR-018"], profile=STORAGE)
def each_wh_once(s: Session) -> None:
    """Each Wh of an SCR goes to one SDR at most, and an SDR never gets more than it discharged.

    A backed charge A (800 Wh net) is discharged as 600 + 200 Wh, batched in one
    request; a later unbacked charge B (800 Wh net) is discharged as 800 Wh. That
    last discharge must come wholly from B, as A is used up: its SD-GC is refused
    (INPUTS_NOT_CANCELLED) while the first two SD-GCs are issued. Under the
    operator's discretion, asking A for 1 Wh more is refused (ALLOCATION_EXCEEDS_CHARGE).
    """
    sw = storage_world(s)
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n)
    first = record(s, sw, "DISCHARGING", n + 1, 600)
    second = record(s, sw, "DISCHARGING", n + 2, 200)
    allocate(s, sw, [first, second], [(a, first, 600), (a, second, 200)])
    b = record(s, sw, "CHARGING", n + 3, 1000)
    third = record(s, sw, "DISCHARGING", n + 4, 800)
    if sw.discretion:
        s.reject(
            "ALLOCATION_EXCEEDS_CHARGE",
            "allocate_storage",
            sw.operator,
            storage_id=STORAGE_ID,
            sdr_ids=[third],
            allocations=[[a, third, 1]],
        )
    allocate(s, sw, [third], [(b, third, 800)])
    seen = allocations_seen(s, sw)
    from_a = sum(row.get(a, 0) for row in seen.values())
    s.expect_equal(
        from_a, 800, "SCR A's 800 net Wh are allocated exactly once", severity=Severity.CRITICAL
    )
    for sdr, wh in ((first, 600), (second, 200), (third, 800)):
        got = sum(seen.get(sdr, {}).values())
        s.expect_equal(
            got, wh, f"SDR {sdr} receives exactly what it discharged", severity=Severity.CRITICAL
        )
    expect_allocation(s, sw, third, {b: 800}, "the used-up SCR gives nothing more")
    issue_sd_gc(s, first)
    issue_sd_gc(s, second)
    s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=third)


@check("storage.allocation.charge_before_discharge", requirements=["STOR-019"], profile=STORAGE)
def charge_before_discharge(s: Session) -> None:
    """An SDR takes energy only from charges that ended before it began.

    An unbacked charge U (interval 2), a 500 Wh discharge (interval 3), then a
    backed charge W (interval 4). The discharge must be allocated from U only: its
    SD-GC is refused (INPUTS_NOT_CANCELLED), as W's GCs cannot reach back in time.
    Under the operator's discretion, listing W for it is refused
    (ALLOCATION_BEFORE_CHARGE).
    """
    sw = storage_world(s)
    n = commission(s, sw)
    u = record(s, sw, "CHARGING", n, 1000)
    sdr = record(s, sw, "DISCHARGING", n + 1, 500)
    later, _ = backed_charge(s, sw, n + 2)
    if sw.discretion:
        s.reject(
            "ALLOCATION_BEFORE_CHARGE",
            "allocate_storage",
            sw.operator,
            storage_id=STORAGE_ID,
            sdr_ids=[sdr],
            allocations=[[later, sdr, 500]],
        )
    allocate(s, sw, [sdr], [(u, sdr, 500)])
    expect_allocation(s, sw, sdr, {u: 500}, "only the earlier charge can supply it")
    s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr)


def _two_sources(s: Session, sw: StorageWorld) -> tuple[Any, Any, Any, Any]:
    """Wind charge A (interval 2) and solar charge B (interval 3), 800 Wh net each, both
    backed; then two 800 Wh discharges (intervals 4 and 5). Returns (A, B, SDR1, SDR2)."""
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n, "DEV-WIND")
    b, _ = backed_charge(s, sw, n + 1, "DEV-SOLAR")
    first = record(s, sw, "DISCHARGING", n + 2, 800)
    second = record(s, sw, "DISCHARGING", n + 3, 800)
    return a, b, first, second


def _ordered(s: Session, method: str, requirement: str) -> None:
    sw = storage_world(s, allocation=(method,))
    a, b, first, second = _two_sources(s, sw)
    order = {"FIFO": ((a, "wind"), (b, "solar")), "LIFO": ((b, "solar"), (a, "wind"))}[method]
    for sdr, (scr, source) in zip((first, second), order, strict=True):
        allocate(s, sw, [sdr])
        expect_allocation(s, sw, sdr, {scr: 800}, f"{method} order ({requirement})")
        bundle = issue_sd_gc(s, sdr)
        got = energy_source(s, sw, bundle)
        s.expect_equal(
            got, source, f"the SD-GC carries the energy source of the charge {method} allocated"
        )


@check("storage.allocation.fifo", requirements=["STOR-020"], profile=STORAGE)
def allocation_fifo(s: Session) -> None:
    """FIFO: the oldest stored charge leaves first.

    Wind charged before solar (800 Wh net each); the first 800 Wh discharge is
    the wind charge (its SD-GC is wind), the second the solar charge.
    """
    _ordered(s, "FIFO", "STOR-020")


@check("storage.allocation.lifo", requirements=["STOR-021"], profile=STORAGE)
def allocation_lifo(s: Session) -> None:
    """LIFO: the most recent stored charge leaves first.

    Wind charged before solar (800 Wh net each); the first 800 Wh discharge is
    the solar charge (its SD-GC is solar), the second the wind charge.
    """
    _ordered(s, "LIFO", "STOR-021")


@check("storage.allocation.weighted_average", requirements=["STOR-022"], profile=STORAGE)
def allocation_weighted_average(s: Session) -> None:
    """Weighted average: every stored charge gives in proportion to what it holds.

    Wind and solar hold 800 Wh each: the first 800 Wh discharge takes 400 + 400,
    leaving 400 + 400, which the second takes in turn.
    """
    sw = storage_world(s, allocation=("WEIGHTED_AVERAGE",))
    a, b, first, second = _two_sources(s, sw)
    for sdr in (first, second):
        allocate(s, sw, [sdr])
        expect_allocation(s, sw, sdr, {a: 400, b: 400}, "shares in proportion (800 : 800)")


@check(
    "storage.allocation.operator_discretion_validated",
    requirements=["STOR-023"],
    profile=STORAGE,
)
def operator_discretion_validated(s: Session) -> None:
    """Under the operator's discretion the operator's list is validated entry by entry.

    Backed charge A and unbacked charge U hold 800 Wh each; a 1200 Wh discharge
    follows, then a later charge L. Refused: no list (ALLOCATION_NOT_EXPLICIT), an
    unknown SCR (UNKNOWN_STORAGE_RECORD), 900 Wh from A (ALLOCATION_EXCEEDS_CHARGE),
    800 from A plus 500 from U (ALLOCATION_EXCEEDS_DISCHARGE), anything from L
    (ALLOCATION_BEFORE_CHARGE). Accepted and recorded as given: 800 from A plus 400
    from U.
    """
    sw = storage_world(s, allocation=("OPERATOR_DISCRETION",))
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n)
    u = record(s, sw, "CHARGING", n + 1, 1000)
    sdr = record(s, sw, "DISCHARGING", n + 2, 1200)
    later = record(s, sw, "CHARGING", n + 3, 1000)
    base: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": [sdr]}
    s.reject("ALLOCATION_NOT_EXPLICIT", "allocate_storage", sw.operator, **base)
    for code, entries in (
        ("UNKNOWN_STORAGE_RECORD", [["SCR-DOES-NOT-EXIST", sdr, 100]]),
        ("ALLOCATION_EXCEEDS_CHARGE", [[a, sdr, 900]]),
        ("ALLOCATION_EXCEEDS_DISCHARGE", [[a, sdr, 800], [u, sdr, 500]]),
        ("ALLOCATION_BEFORE_CHARGE", [[later, sdr, 100]]),
    ):
        s.reject(code, "allocate_storage", sw.operator, **base, allocations=entries)
    allocate(s, sw, [sdr], [(a, sdr, 800), (u, sdr, 400)])
    expect_allocation(s, sw, sdr, {a: 800, u: 400}, "recorded exactly as the operator listed")


@check(
    "storage.allocation.registry_decides_otherwise",
    requirements=["STOR-023"],
    profile=STORAGE,
)
def registry_decides_otherwise(s: Session) -> None:
    """Under FIFO, LIFO or weighted average the registry decides: an operator's list is refused."""
    sw = storage_world(s, allocation=("FIFO", "LIFO", "WEIGHTED_AVERAGE"))
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n)
    sdr = record(s, sw, "DISCHARGING", n + 1, 800)
    s.reject(
        "ALLOCATION_NOT_EXPLICIT",
        "allocate_storage",
        sw.operator,
        storage_id=STORAGE_ID,
        sdr_ids=[sdr],
        allocations=[[a, sdr, 800]],
    )
