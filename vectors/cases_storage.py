"""Storage cases (D7): both loss methods, every allocation method, SD-GC rules.

One group per (allocation method, loss method): the standard cast plus the
storage system ``DEV-BATT`` (10 000 Wh, 60-minute settlement, operated by
alice). Every charge keeps exactly 80 % under both loss methods, so the
expected losses and allocations are computed by hand: under the efficiency
factor a commissioning cycle (1000 Wh in, 800 Wh out) fixes the factor at 4/5;
under the interval formulas the state of charge rises by 80 % of a charge
(1 % = 100 Wh) and falls by exactly a discharge. The generator checks the
model against these hand values in every group.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import attrs

from gc_conformance.session import device_record
from gc_conformance.vectors.catalog import (
    ALICE,
    BOB,
    CAST,
    ISSUER,
    METERS,
    SOLAR,
    WIND,
    Group,
    add,
    flag,
    issue,
    standard_cast,
)
from gc_conformance.vectors.tape import Tape

STORAGE_ID, METER, CAPACITY_WH = "DEV-BATT", "M-BATT", 10_000
ALLOCATIONS = ("FIFO", "LIFO", "WEIGHTED_AVERAGE", "OPERATOR_DISCRETION")
LOSSES = ("EFFICIENCY_FACTOR", "INTERVAL_FORMULAS")
MATCHING = "SAME_BIDDING_ZONE"
AREA = "storage"

RECORDS = flag(
    "StorageRecords",
    "Charge and discharge records (SCR/SDR): one per interval, the storage system's meter and "
    "settlement period, in time order (STOR-003..008).",
    "Storage energy is recorded twice, for another interval, or out of order.",
)
LOSSES_FLAG = flag(
    "StorageLosses",
    "Losses by the declared method (STOR-014..016); every charge here keeps 80 %, computed by hand "
    "for both methods.",
    "More stored energy is passed on than the losses leave: certificates without energy.",
)
ALLOCATION = flag(
    "StorageAllocation",
    "Allocation of charge records to discharge records by the declared method (STOR-017..023), "
    "each Wh once.",
    "Attributes are moved through storage in another order than declared, or twice.",
)
SD_GC = flag(
    "StorageGC",
    "SD-GCs: only for a fully allocated SDR whose input GCs are all cancelled, with the SDR's "
    "volume, once (STOR-024..031).",
    "Storage output is certified without cancelled inputs, or twice.",
)
CHARGE_GCS = flag(
    "ChargeGCs",
    "GCs cancelled for a charge record: same interval, at most the metered charge (STOR-010..013).",
    "GCs of another hour, or more than was charged, back the storage input.",
)
HAND = "HandComputed"


def _storage_setup(allocation: str, loss: str) -> Any:
    def setup(t: Tape) -> None:
        standard_cast(t)
        record = device_record(STORAGE_ID, METER, "ACC-ALICE", 500_000, "storage")
        record.update(
            is_storage=True,
            operational_date="2024-03-01",
            location={"country": "NL", "city": "Utrecht"},
        )
        t.send(
            "register_storage",
            ISSUER,
            device=record,
            capacity_wh=CAPACITY_WH,
            consumption_point_id="CP-BATT",
            settlement_period_minutes=60,
            allocation_method=allocation,
            loss_method=loss,
        )

    return setup


def _group(allocation: str, loss: str) -> Group:
    return Group(
        f"{allocation.lower().replace('_', '-')}-{loss.lower().replace('_', '-')}",
        "storage_sequence",
        f"{CAST.description}; storage DEV-BATT (meter M-BATT, consumption point CP-BATT, "
        f"10 000 Wh, 60-minute settlement) allocating {allocation}, losses by {loss}",
        CAST.reset,
        _storage_setup(allocation, loss),
        {
            "storage_id": STORAGE_ID,
            "allocation_method": allocation,
            "loss_method": loss,
            "settlement_period_minutes": 60,
            "capacity_wh": CAPACITY_WH,
        },
    )


@attrs.define
class Store:
    """A case's storage conversation: what the state of charge must say, and the records seen."""

    t: Tape
    allocation: str
    loss: str
    stored_wh: int = 0
    commissioning: tuple[Any, Any] | None = None

    def data(self, status: str, n: int, wh: int, **extra: Any) -> Any:
        start, end = self.t.hour(n)
        after = self.stored_wh + (wh * 4 // 5 if status == "CHARGING" else -wh)
        fields: dict[str, Any] = {
            "storage_id": STORAGE_ID,
            "meter_id": METER,
            "start": start,
            "end": end,
            "interval_minutes": 60,
            "status": status,
            "energy_wh": str(wh),
        }
        if self.loss == "INTERVAL_FORMULAS":
            fields["state_of_charge_pct"] = str(Decimal(max(after, 0)) * 100 / CAPACITY_WH)
        fields.update(extra)
        result = self.t.send("submit_storage_data", ISSUER, **fields)
        if self.t.accepted():
            self.stored_wh = after
        return result.get("record_id")

    def allocate(self, sdrs: list[Any], explicit: list[list[Any]]) -> dict[str, Any]:
        fields: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": sdrs}
        if self.allocation == "OPERATOR_DISCRETION":
            fields["allocations"] = explicit
        return self.t.send("allocate_storage", ALICE, **fields)

    def commission(self) -> int:
        """1000 Wh in (interval 0), 800 out (interval 1), allocated: the pool is empty again."""
        scr = self.data("CHARGING", 0, 1000)
        sdr = self.data("DISCHARGING", 1, 800)
        if self.loss == "EFFICIENCY_FACTOR":
            start, _ = self.t.hour(0)
            end, _ = self.t.hour(2)
            self.t.send(
                "set_efficiency_factor",
                ISSUER,
                storage_id=STORAGE_ID,
                window_start=start,
                window_end=end,
            )
        self.allocate([sdr], [[scr, sdr, 800]])
        self.commissioning = (scr, sdr)
        return 2

    def backed(self, n: int, device: str = WIND, wh: int = 1000, gc_wh: str = "1000") -> Any:
        """A charge of interval ``n`` backed by GCs of the same interval: the SCR's ID."""
        return self.charge_with(issue(self.t, n, gc_wh, device=device), n, wh)

    def charge_with(self, bundle: Any, n: int, wh: int = 1000, **extra: Any) -> Any:
        """A charge of interval ``n``, then ``bundle`` cancelled for it (whatever its hour and
        size: the refusal cases pass the wrong ones): the SCR's ID."""
        scr = self.data("CHARGING", n, wh)
        self.t.send(
            "cancel_for_charge",
            ALICE,
            scr_id=scr,
            bundle_id=bundle,
            geographic_matching=MATCHING,
            **extra,
        )
        return scr

    def discharged(self, scr: Any, n: int, wh: int = 800) -> Any:
        """A discharge of interval ``n`` allocated wholly from ``scr``: the SDR's ID."""
        sdr = self.data("DISCHARGING", n, wh)
        self.allocate([sdr], [[scr, sdr, wh]])
        return sdr


def _register(
    group: Group, name: str, comment: str, run: Any, flags: list[str], reqs: list[str]
) -> None:
    """One storage case of ``group``: each scenario family binds its group once."""
    add(AREA, group, name, comment, run, flags=flags, requirements=reqs)


def _hand_allocations(t: Tape, expected: list[tuple[Any, Any, int]]) -> None:
    observed = sorted(tuple(a) for a in t.result().get("allocations", []))
    t.hand("allocations (SCR, SDR, Wh)", sorted(expected), observed)


def _cycle_scenarios(group: Group, allocation: str, loss: str) -> None:
    """The valid cycle: commissioning, a charge's loss, an SD-GC, and SD-GCs in allocation order."""

    register = functools.partial(_register, group)

    def commission(t: Tape) -> None:
        store = Store(t, allocation, loss)
        store.commission()
        assert store.commissioning is not None
        _hand_allocations(t, [(*store.commissioning, 800)])

    register(
        "commissioning-cycle",
        "1000 Wh charged, 800 Wh discharged and allocated (the start-up cycle)",
        commission,
        [RECORDS, ALLOCATION, HAND],
        ["STOR-008", "STOR-018"],
    )

    def charge_loss(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        issue(t, n, "1000")
        store.data("CHARGING", n, 1000)
        t.hand("loss_wh of a 1000 Wh charge keeping 80 %", 200, t.result().get("loss_wh"))

    register(
        "charge-loss",
        "a 1000 Wh charge after commissioning loses 200 Wh (hand-computed for both methods)",
        charge_loss,
        [LOSSES_FLAG, HAND],
        ["STOR-014"],
    )

    def sd_gc(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        scr = store.backed(n)
        sdr = store.discharged(scr, n + 1)
        t.send("issue_storage_gc", ISSUER, sdr_id=sdr)
        t.hand_total(800, is_storage=True)

    register(
        "sd-gc-full-cycle",
        "a backed 1000 Wh charge, an 800 Wh discharge, allocated: one 800 Wh SD-GC",
        sd_gc,
        [SD_GC, HAND],
        ["STOR-024", "STOR-025"],
    )

    def order(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        wind = store.backed(n, WIND)
        solar = store.backed(n + 1, SOLAR)
        sdr = store.data("DISCHARGING", n + 2, 800)
        store.allocate([sdr], [[solar, sdr, 800]])
        expected = {
            "FIFO": [(wind, sdr, 800)],
            "LIFO": [(solar, sdr, 800)],
            "WEIGHTED_AVERAGE": [(wind, sdr, 400), (solar, sdr, 400)],
            "OPERATOR_DISCRETION": [(solar, sdr, 800)],
        }[allocation]
        _hand_allocations(t, expected)

    register(
        "allocation-order",
        f"two 800 Wh stored charges (wind, then solar), one 800 Wh discharge, allocated {allocation}",
        order,
        [ALLOCATION, HAND],
        {
            "FIFO": ["STOR-020"],
            "LIFO": ["STOR-021"],
            "WEIGHTED_AVERAGE": ["STOR-022"],
            "OPERATOR_DISCRETION": ["STOR-023"],
        }[allocation],
    )


def _input_scenarios(group: Group, allocation: str, loss: str) -> None:
    """SD-GCs and the GCs behind their charge: refused until every input is cancelled, partly backed charges."""

    register = functools.partial(_register, group)

    def inputs_not_cancelled(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        backed = store.backed(n, WIND)
        issue(t, n + 1, "1000", device=SOLAR)
        bare = store.data("CHARGING", n + 1, 1000)
        sdr = store.data("DISCHARGING", n + 2, 1600)
        store.allocate([sdr], [[backed, sdr, 800], [bare, sdr, 800]])
        t.send("issue_storage_gc", ISSUER, sdr_id=sdr)
        t.hand_refused("INPUTS_NOT_CANCELLED")

    register(
        "sd-gc-inputs-not-cancelled",
        "an SD-GC for a discharge fed by a backed and an unbacked charge",
        inputs_not_cancelled,
        [SD_GC, HAND],
        ["STOR-024"],
    )

    def partly_backed(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        scr = store.backed(n, gc_wh="600")
        sdr = store.discharged(scr, n + 1, 100)
        t.send("issue_storage_gc", ISSUER, sdr_id=sdr)

    register(
        "sd-gc-from-a-partly-backed-charge",
        "an SD-GC for 100 Wh discharged from a 1000 Wh charge of which 600 Wh are backed by "
        "cancelled GCs",
        partly_backed,
        [SD_GC],
        ["STOR-024"],
    )


def _sd_gc_refusals(group: Group, allocation: str, loss: str) -> None:
    """SD-GCs refused: for unallocated discharge, twice, and the unknown beneficiary."""

    register = functools.partial(_register, group)

    def unallocated(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        store.backed(n)
        sdr = store.data("DISCHARGING", n + 1, 800)
        t.send("issue_storage_gc", ISSUER, sdr_id=sdr)

    register(
        "sd-gc-unallocated",
        "an SD-GC for a discharge never allocated",
        unallocated,
        [SD_GC],
        ["STOR-024"],
    )

    def twice(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        scr = store.backed(n)
        sdr = store.discharged(scr, n + 1)
        t.send("issue_storage_gc", ISSUER, sdr_id=sdr)
        t.send("issue_storage_gc", ISSUER, sdr_id=sdr)

    register("sd-gc-twice", "a second SD-GC for the same discharge", twice, [SD_GC], ["STOR-027"])

    def unknown_beneficiary(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        scr = store.backed(n)
        sdr = store.discharged(scr, n + 1)
        t.send("assign_unknown_beneficiary", ALICE, sdr_id=sdr)

    register(
        "unknown-beneficiary",
        "the operator assigns an allocated discharge to the unknown beneficiary",
        unknown_beneficiary,
        [SD_GC],
        ["STOR-028"],
    )


def _time_shift_scenarios(group: Group, allocation: str, loss: str) -> None:
    """Time-shift claims and the GCs cancelled for a charge: the right hour, not too many, partly covered."""

    register = functools.partial(_register, group)

    def time_shift(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        scr = store.backed(n)
        sdr = store.discharged(scr, n + 1)
        bundle = t.send("issue_storage_gc", ISSUER, sdr_id=sdr).get("bundle_id")
        t.send("cancel", ALICE, bundle_id=bundle, beneficiary="Acme")
        t.send("claim_time_shift", ALICE, bundle_id=bundle, claimant="Acme")

    register(
        "time-shift-claim",
        "an SD-GC cancelled for Acme is claimed as a time shift",
        time_shift,
        [SD_GC],
        ["STOR-029"],
    )

    def time_shift_shared_charge(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        scr = store.backed(n)
        first = store.data("DISCHARGING", n + 1, 400)
        second = store.data("DISCHARGING", n + 2, 400)
        store.allocate([first, second], [[scr, first, 400], [scr, second, 400]])
        for sdr in (first, second):
            bundle = t.send("issue_storage_gc", ISSUER, sdr_id=sdr).get("bundle_id")
            t.send("cancel", ALICE, bundle_id=bundle, beneficiary="Acme")
            t.send("claim_time_shift", ALICE, bundle_id=bundle, claimant="Acme")

    register(
        "time-shift-claims-on-one-charge-split-across-two-discharges",
        "one 800 Wh charge discharged as two 400 Wh SDRs; each SD-GC is claimed as a time shift "
        "(the second rests on the charge's other 400 Wh)",
        time_shift_shared_charge,
        [SD_GC],
        ["STOR-029"],
    )

    def wrong_hour(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        bundle = issue(t, n + 5, "1000")
        store.charge_with(bundle, n)

    register(
        "charge-gcs-other-hour",
        "GCs of another hour cancelled for a charge",
        wrong_hour,
        [CHARGE_GCS],
        ["STOR-010"],
    )

    def too_many(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        bundle = issue(t, n, "1200")
        store.charge_with(bundle, n)

    register(
        "charge-gcs-exceed",
        "1200 Wh of GCs cancelled for a 1000 Wh charge",
        too_many,
        [CHARGE_GCS],
        ["STOR-011"],
    )


def _record_scenarios(group: Group, allocation: str, loss: str) -> None:
    """Charges partly covered by cancelled GCs, claims on GCs cancelled for storage, and the
    allocation method fixed at registration."""

    register = functools.partial(_register, group)

    def partial_cover(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        bundle = issue(t, n, "1200")
        store.charge_with(bundle, n, quantity=1000)

    register(
        "charge-gcs-partial",
        "1000 of 1200 Wh of GCs cancelled for a 1000 Wh charge",
        partial_cover,
        [CHARGE_GCS],
        ["STOR-011", "STOR-012"],
    )

    def cancelled_for_storage_claim(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        bundle = issue(t, n, "1000")
        store.charge_with(bundle, n)
        t.send("claim", ALICE, bundle_id=bundle, claimant="Acme")

    register(
        "storage-gcs-claimed",
        "GCs cancelled for storage are claimed",
        cancelled_for_storage_claim,
        [CHARGE_GCS],
        ["STOR-012"],
    )

    def change(t: Tape) -> None:
        other = "LIFO" if allocation != "LIFO" else "FIFO"
        t.send(
            "change_storage_allocation_method",
            ALICE,
            storage_id=STORAGE_ID,
            allocation_method=other,
        )

    register(
        "allocation-method-fixed",
        "the operator switches the allocation method",
        change,
        [ALLOCATION],
        ["STOR-002"],
    )


def _battery_scenarios(group: Group, allocation: str, loss: str) -> None:
    """Production submitted for a battery, and storage data in half hours."""

    register = functools.partial(_register, group)

    def production(t: Tape) -> None:
        start, end = t.hour(3)
        t.send(
            "submit_production",
            ISSUER,
            device_id=STORAGE_ID,
            meter_id=METER,
            start=start,
            end=end,
            energy_wh="500",
        )

    register(
        "storage-output-as-production",
        "ordinary production data for the storage system",
        production,
        [RECORDS],
        ["STOR-009"],
    )

    def half_hour(t: Tape) -> None:
        start, _ = t.hour(3)
        end = t.hour(3, minutes=30)[1]
        t.send(
            "submit_storage_data",
            ISSUER,
            storage_id=STORAGE_ID,
            meter_id=METER,
            start=start,
            end=end,
            interval_minutes=30,
            status="CHARGING",
            energy_wh="100",
            **({"state_of_charge_pct": "0.8"} if loss == "INTERVAL_FORMULAS" else {}),
        )

    register(
        "interval-not-settlement",
        "a 30-minute record for a 60-minute settlement period",
        half_hour,
        [RECORDS],
        ["STOR-004"],
    )


def _operator_scenarios(group: Group, allocation: str, loss: str) -> None:
    """Who may submit storage data and in what order: out of order, the wrong meter, a holder, and SD-GC transfers."""

    register = functools.partial(_register, group)

    def out_of_order(t: Tape) -> None:
        store = Store(t, allocation, loss)
        store.data("CHARGING", 5, 1000)
        store.data("CHARGING", 3, 1000)

    register(
        "records-out-of-order",
        "a record for an interval before the previous one",
        out_of_order,
        [RECORDS],
        ["STOR-007"],
    )

    def wrong_meter(t: Tape) -> None:
        store = Store(t, allocation, loss)
        store.data("CHARGING", 3, 1000, meter_id=METERS[WIND])

    register(
        "records-wrong-meter",
        "storage data from another meter",
        wrong_meter,
        [RECORDS],
        ["STOR-005"],
    )

    def by_holder(t: Tape) -> None:
        start, end = t.hour(3)
        t.send(
            "submit_storage_data",
            BOB,
            storage_id=STORAGE_ID,
            meter_id=METER,
            start=start,
            end=end,
            interval_minutes=60,
            status="CHARGING",
            energy_wh="100",
        )

    register(
        "records-by-holder", "a holder records storage data", by_holder, [RECORDS], ["STOR-030"]
    )

    def sd_gc_transfer(t: Tape) -> None:
        store = Store(t, allocation, loss)
        n = store.commission()
        scr = store.backed(n)
        sdr = store.discharged(scr, n + 1)
        bundle = t.send("issue_storage_gc", ISSUER, sdr_id=sdr).get("bundle_id")
        t.send("transfer", ALICE, bundle_id=bundle, to_account="ACC-BOB", quantity=300)

    register(
        "sd-gc-partial-transfer",
        "an SD-GC is transferred in part",
        sd_gc_transfer,
        [SD_GC],
        ["STOR-031"],
    )


def _scenarios(group: Group, allocation: str, loss: str, errors: bool) -> None:
    """Every storage scenario of one allocation method and loss method, in vector order;
    the refusals only for the two combinations that carry them (``errors``)."""
    _cycle_scenarios(group, allocation, loss)
    _input_scenarios(group, allocation, loss)
    if not errors:
        return
    _sd_gc_refusals(group, allocation, loss)
    _time_shift_scenarios(group, allocation, loss)
    _record_scenarios(group, allocation, loss)
    _battery_scenarios(group, allocation, loss)
    _operator_scenarios(group, allocation, loss)


for _allocation in ALLOCATIONS:
    for _loss in LOSSES:
        _scenarios(
            _group(_allocation, _loss),
            _allocation,
            _loss,
            errors=(_allocation, _loss)
            in (("FIFO", "EFFICIENCY_FACTOR"), ("LIFO", "INTERVAL_FORMULAS")),
        )
