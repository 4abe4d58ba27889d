"""The storage steps of the differential machine (D7): a battery run in lock-step with the model.

Only the storage check (``differential.storage``) takes them, and only for a
registry that claims the storage profile. Each sequence starts with the
standard cast and one storage system, ``DEV-BATT`` of the storage checks
(:func:`gc_conformance.checks.storage.registration`), registered with an
allocation method and a loss method the registry declares it offers (drawn,
so that every offered method is exercised) and commissioned as the storage
checks commission it: 1000 Wh in, 800 Wh out, the efficiency factor 4/5 set
over those two intervals, the start-up discharge allocated.

After that the machine draws, among the core operations, charges (with GCs
produced for the same interval, more or fewer than the charge), discharges
(sometimes more than the store holds), GCs cancelled for a charge (whole,
part, or more than the charge: over-asking), allocations (one to three
discharges at once; under the operator's discretion a list the machine
computes from the model's pool, or one that over-asks a charge or a
discharge, or takes from a later charge), SD-GC issuance, the time-shift claim
of an SD-GC cancelled for a beneficiary, the unknown beneficiary (if offered)
and a change of the allocation method. Every party is tried in every role
(the issuer, the operator, another holder, a party with no account). Pools of
three and more records arise from the charges left unallocated.

What the machine leaves out, and why (the model's reading would otherwise be
held against a registry that reads the standard another way):

* storage data that are merely out of time order (STOR-007 is a SHOULD, and
  the model cannot follow a registry that takes them): only data overlapping
  the last interval (STOR-006) are sent out of order;
* an SD-GC of a discharge fed by a charge only partly backed by cancelled GCs,
  unless the registry declares ``sd_gc_inputs``; a second time-shift claim on
  records that served one, unless it declares ``time_shift_scope``;
* a withdrawal of an SCR or SDR: no action of the contract asks for one;
* under the interval formulas, a loss convention other than the model's (the
  storage steps are then left out, and the check says so).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import attrs
from hypothesis import strategies as st

from gc_conformance.adapter import Answer
from gc_conformance.cast import World
from gc_conformance.checks.differential.requirements import (
    ALICE,
    BENEFICIARIES,
    BOB,
    CAROL,
    METERS,
    SOLAR,
    STRANGER,
    WIND,
)
from gc_conformance.checks.storage import (
    CAPACITY_WH,
    KEEP_DENOMINATOR,
    KEEP_NUMERATOR,
    MATCHING,
    STORAGE_ID,
    STORAGE_METER,
    MethodChoice,
    offered,
    percent,
    registration,
)
from gc_conformance.reference import StorageBook
from gc_conformance.reference.losses import applied_convention
from gc_conformance.session import ISSUER_ID, Session, stamp

if TYPE_CHECKING:
    from gc_conformance.checks.differential.driver import Lockstep
    from gc_conformance.reference.storage.records import (
        StorageChargeRecord,
        StorageDischargeRecord,
    )

#: The storage actions (all of the storage profile); those a registry may lack are left out.
STORAGE_WEIGHTS = {
    "storage_cycle": 5,
    "storage_charge": 6,
    "storage_discharge": 6,
    "storage_cancel_for_charge": 5,
    "storage_allocate": 4,
    "storage_issue": 3,
    "storage_time_shift": 2,
    "storage_unknown_beneficiary": 1,
    "storage_register": 1,
}
#: The action each storage operation sends (a registry without it: the operation is left out).
STORAGE_SENDS = {
    "storage_cycle": "issue_storage_gc",
    "storage_charge": "submit_storage_data",
    "storage_discharge": "submit_storage_data",
    "storage_cancel_for_charge": "cancel_for_charge",
    "storage_allocate": "allocate_storage",
    "storage_issue": "issue_storage_gc",
    "storage_time_shift": "claim_time_shift",
    "storage_unknown_beneficiary": "assign_unknown_beneficiary",
    "storage_register": "register_storage",
}
#: Storage intervals are the hours of the production day (a 60-minute settlement period).
_LAST_SLOT = 23
_PARTIES = (ISSUER_ID, ALICE, BOB, CAROL, STRANGER)
_CHARGES = [100, 250, 500, 800, 1000]
#: The differential's cast as the storage checks' request builders read it.
_CAST = World(
    ISSUER_ID,
    (ALICE, BOB, CAROL),
    {h: f"ACC-{h.upper()}" for h in (ALICE, BOB, CAROL)},
    (WIND, SOLAR),
    {WIND: METERS[WIND], SOLAR: METERS[SOLAR]},
)
_DISCHARGES = [100, 400, 800, 1200, 2500]


@attrs.define
class StoreState(MethodChoice):
    """What the machine keeps of the storage system of one sequence."""

    allocation: str
    loss: str
    cursor: int = 0  # the next free settlement interval (hour of the production day)
    stored_wh: int = 0  # energy in the store as the reported state of charge says (formulas)
    last: tuple[int, str] | None = None  # the last interval recorded, and its status


def storage_methods(s: Session) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """The allocation and loss methods the machine may register with; why none (or None).

    The allocation methods are those the registry offers (FIFO if it declares
    none), as the storage checks read them; the loss methods likewise (the
    efficiency factor if none), less the interval formulas under a loss
    convention other than the model's.
    """
    allocation = offered(s, "allocation_method", "FIFO")
    loss = offered(s, "loss_method", "EFFICIENCY_FACTOR")
    convention = s.policy("loss_convention", applied_convention().name)
    if convention != applied_convention().name:
        loss = tuple(m for m in loss if m != "INTERVAL_FORMULAS")
    if not loss:
        return (
            allocation,
            loss,
            (
                f"the registry computes storage losses by the interval formulas under the "
                f"{convention} convention, which the reference model does not apply"
            ),
        )
    return allocation, loss, None


def storage_operations(s: Session) -> dict[str, int]:
    """The storage operations' weights (0 for an action the registry does not offer)."""
    weights = dict(STORAGE_WEIGHTS)
    for name, action in STORAGE_SENDS.items():
        if not s.optional(action):
            weights[name] = 0
    return weights


class StorageSteps:
    """The machine's storage operations (mixed into :class:`DifferentialMachine`)."""

    store: StoreState | None = None

    if TYPE_CHECKING:  # defined by DifferentialMachine
        lock: Lockstep
        from_data: bool

        def draw(self, data: st.DataObject, choices: list[Any], label: str) -> Any: ...
        def fault(self, data: st.DataObject, *names: str) -> str: ...
        def send(self, action: str, actor: str, **fields: Any) -> Answer: ...
        def asserted(
            self, device: str, start: str, end: str, energy: str, quantity: int, overlap: int = 0
        ) -> dict[str, Any]: ...

    # ------------------------------------------------------------------ helpers

    def model_send(self, action: str, actor: str, **fields: Any) -> Answer | None:
        """Send in lock-step; the *model's* answer (None when nothing was sent: the sequence
        parted, or a step of an action the registry does not offer, left out)."""
        if self.lock.parted is not None or not self.lock.s.offers(action):
            return None
        return self.lock.step(action, actor, **fields)[0]

    def book(self) -> StorageBook | None:
        registry = getattr(self.lock.model, "registry", None)
        return None if registry is None else registry.book(StorageBook)

    def scrs(self) -> list[StorageChargeRecord]:
        book = self.book()
        return [] if book is None else list(book.scrs(STORAGE_ID))

    def sdrs(self) -> list[StorageDischargeRecord]:
        book = self.book()
        return [] if book is None else list(book.sdrs(STORAGE_ID))

    def slot(self, n: int, minutes: int = 60) -> tuple[str, str]:
        """Settlement interval ``n`` of the production day (the session's epoch day)."""
        start = self.lock.s.epoch + _dt.timedelta(hours=n)
        return stamp(start), stamp(start + _dt.timedelta(minutes=minutes))

    def storage_live(self) -> StoreState | None:
        """The storage system, when storage steps may be sent (registered, not parted)."""
        if self.store is None or self.lock.storage_parted is not None:
            return None
        return self.store

    def other_party(self, data: st.DataObject, allowed: tuple[str, ...]) -> str:
        """Every party in a role it does not have: anyone but ``allowed``."""
        return str(self.draw(data, [p for p in _PARTIES if p not in allowed], "actor"))

    # ------------------------------------------------------------------ the storage system

    def commission_storage(self, data: st.DataObject) -> None:
        """Register ``DEV-BATT`` with drawn offered methods, and commission it (see the module)."""
        s = self.lock.s
        allocations, losses, why = storage_methods(s)
        if why is not None:
            s.left_out.setdefault("storage", f"storage steps ({why})")
            return
        store = StoreState(
            self.draw(data, list(allocations), "allocation method"),
            self.draw(data, list(losses), "loss method"),
        )
        fields = registration(s, _CAST, allocation=store.allocation, loss=store.loss)
        answer = self.model_send("register_storage", ISSUER_ID, **fields)
        if answer is None or not answer.accepted:
            return
        self.store = store
        scr = self.record_data(store, "CHARGING", 1000)
        sdr = self.record_data(store, "DISCHARGING", 800)
        if scr is None or sdr is None:
            return
        if store.loss == "EFFICIENCY_FACTOR":
            self.model_send(
                "set_efficiency_factor",
                ISSUER_ID,
                storage_id=STORAGE_ID,
                window_start=self.slot(0)[0],
                window_end=self.slot(2)[0],
            )
        fields = {"storage_id": STORAGE_ID, "sdr_ids": [sdr]}
        if store.discretion:
            fields["allocations"] = [[scr, sdr, 800]]
        self.model_send("allocate_storage", ALICE, **fields)

    def record_data(
        self, store: StoreState, status: str, wh: int, *, gap: int = 0, fault: str = "valid"
    ) -> Any:
        """Submit one interval (the next free one after ``gap``); the model's record ID."""
        n = store.cursor + gap
        if fault == "overlap" and store.last is not None:
            n = store.last[0]
        if n > _LAST_SLOT:
            return None
        start, end = self.slot(n)
        after = store.stored_wh + (
            wh * KEEP_NUMERATOR // KEEP_DENOMINATOR if status == "CHARGING" else -wh
        )
        fields: dict[str, Any] = {
            "storage_id": WIND if fault == "not storage" else STORAGE_ID,
            "meter_id": METERS[WIND] if fault == "meter" else STORAGE_METER,
            "start": start,
            "end": end,
            "interval_minutes": 30 if fault == "length" else 60,
            "status": status,
            "energy_wh": "0" if fault == "zero" else str(wh),
        }
        if store.formulas:
            fields["state_of_charge_pct"] = percent(max(after, 0))
        actor = ALICE if fault == "not issuer" else ISSUER_ID
        answer = self.model_send("submit_storage_data", actor, **fields)
        if answer is None or not answer.accepted:
            return None
        store.cursor, store.stored_wh, store.last = n + 1, after, (n, status)
        return answer.result.get("record_id")

    def storage_register(self, data: st.DataObject) -> None:
        """A second registration or a change of method: each refused for one fault."""
        store = self.storage_live()
        if store is None:
            return
        fault = self.draw(data, ["change method", "change method", "duplicate",
                                 "not issuer", "long period", "not storage"], "fault")  # fmt: skip
        if fault == "change method" and self.lock.s.offers("change_storage_allocation_method"):
            actor = self.draw(data, [ALICE, ALICE, ISSUER_ID, BOB, STRANGER], "actor")
            method = self.draw(data, ["FIFO", "LIFO", "WEIGHTED_AVERAGE"], "method")
            self.model_send("change_storage_allocation_method", actor, storage_id=STORAGE_ID,
                            allocation_method=method)  # fmt: skip
            return
        if fault == "change method":
            fault = "duplicate"
        fields = registration(
            self.lock.s,
            _CAST,
            device_id=STORAGE_ID if fault == "duplicate" else "DEV-BATT-2",
            meter_id=STORAGE_METER if fault == "duplicate" else "M-BATT-2",
            allocation=store.allocation,
            loss=store.loss,
            period=61 if fault == "long period" else 60,
            consumption_point="CP-BATT-2",
        )
        if fault == "not storage":
            fields["device"]["is_storage"] = False
        actor = self.other_party(data, (ISSUER_ID,)) if fault == "not issuer" else ISSUER_ID
        self.model_send("register_storage", actor, **fields)

    # ------------------------------------------------------------------ metering data

    def storage_charge(self, data: st.DataObject) -> None:
        """A charge, after GCs of the same interval were produced (more, fewer or none)."""
        store = self.storage_live()
        if store is None:
            return
        fault = self.fault(data, "overlap", "meter", "length", "not issuer", "not storage",
                           "zero")  # fmt: skip
        wh = self.draw(data, _CHARGES, "charge")
        if store.formulas and store.stored_wh + wh > CAPACITY_WH:
            return
        gap = self.draw(data, [0, 0, 1], "gap")
        n = store.cursor + gap
        produced = self.draw(data, ["as much", "more", "as much", "less", "none"], "GCs produced")
        bundle = None
        if produced != "none" and fault == "valid" and n <= _LAST_SLOT:
            energy = {"as much": wh, "more": wh + 200, "less": max(1, wh // 2)}[produced]
            bundle = self.produce_for(n, energy)
        scr = self.record_data(store, "CHARGING", wh, gap=gap, fault=fault)
        if (
            scr is not None
            and bundle is not None
            and self.draw(data, [True, True, True, False], "back")
        ):
            # the usual case: the operator cancels the GCs behind the charge at once
            fields = {"scr_id": scr, "bundle_id": bundle, "geographic_matching": MATCHING}
            if energy > wh:
                fields["quantity"] = wh
            self.model_send("cancel_for_charge", ALICE, **fields)

    def produce_for(self, n: int, energy: int) -> Any:
        """GCs for settlement interval ``n`` of the wind park, into the operator's account; the
        model's new bundle (None if none was issued)."""
        start, end = self.slot(n)
        if self.from_data:
            answer = self.model_send("submit_production", ISSUER_ID, device_id=WIND,
                                     meter_id=METERS[WIND], start=start, end=end,
                                     energy_wh=str(energy))  # fmt: skip
        else:
            fields = self.asserted(WIND, start, end, str(energy), energy)
            answer = self.model_send("issue_bundle", str(fields.pop("actor")), **fields)
        return None if answer is None or not answer.accepted else answer.result.get("bundle_id")

    def storage_discharge(self, data: st.DataObject) -> None:
        """A discharge (sometimes more than the store holds), or an ordinary issuance for it."""
        store = self.storage_live()
        if store is None:
            return
        fault = self.fault(data, "overlap", "meter", "length", "not issuer", "zero",
                           "ordinary issuance")  # fmt: skip
        if fault == "ordinary issuance" and self.from_data:  # STOR-009: SD-GCs only
            start, end = self.slot(max(store.cursor - 1, 0))
            self.model_send("submit_production", ISSUER_ID, device_id=STORAGE_ID,
                            meter_id=STORAGE_METER, start=start, end=end, energy_wh="100")  # fmt: skip
            return
        if fault == "ordinary issuance":
            fault = "zero"
        wh = self.draw(data, _DISCHARGES, "discharge")
        if store.formulas and wh > store.stored_wh:
            if store.stored_wh <= 0:
                return
            wh = store.stored_wh
        sdr = self.record_data(store, "DISCHARGING", wh, gap=self.draw(data, [0, 0, 1], "gap"),
                               fault=fault)  # fmt: skip
        if sdr is None or not self.draw(data, [True, True, False], "allocated at once"):
            return
        # The usual case: allocated at once (by the method, or the operator's own list), and
        # often its SD-GC asked for at once too.
        fields: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": [sdr]}
        if store.discretion:
            record = next(r for r in self.sdrs() if r.sdr_id == sdr)
            fields["allocations"] = self.operator_list(data, [record], "valid")
        answer = self.model_send("allocate_storage", ALICE, **fields)
        if answer is not None and answer.accepted and self.draw(data, [True, False], "SD-GC"):
            self.model_send("issue_storage_gc", ISSUER_ID, sdr_id=sdr)

    def storage_cycle(self, data: st.DataObject) -> None:
        """A whole cycle at once: a charge backed by GCs of its interval, then a discharge (part
        of what it keeps, all of it, or more), allocated and (often) given its SD-GC.

        The pieces come apart in the other operations; together they reach, within one
        sequence, the deep states (SD-GCs, time shifts, pools that feed several discharges)
        the random mix rarely does.
        """
        store = self.storage_live()
        if store is None or store.cursor + 1 > _LAST_SLOT:
            return
        wh = self.draw(data, _CHARGES, "charge")
        if store.formulas and store.stored_wh + wh > CAPACITY_WH:
            return
        bundle = self.produce_for(store.cursor, wh)
        scr = self.record_data(store, "CHARGING", wh)
        if scr is None:
            return
        if bundle is not None:
            self.model_send("cancel_for_charge", ALICE, scr_id=scr, bundle_id=bundle,
                            geographic_matching=MATCHING)  # fmt: skip
        kept = wh * KEEP_NUMERATOR // KEEP_DENOMINATOR
        out = self.draw(data, [kept // 2, kept, kept + 100, max(1, kept // 4)], "discharge")
        if store.formulas:
            out = min(out, store.stored_wh)
        if out <= 0:
            return
        sdr = self.record_data(store, "DISCHARGING", out)
        if sdr is None:
            return
        fields: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": [sdr]}
        if store.discretion:
            record = next(r for r in self.sdrs() if r.sdr_id == sdr)
            fields["allocations"] = self.operator_list(data, [record], "valid")
        answer = self.model_send("allocate_storage", ALICE, **fields)
        if answer is not None and answer.accepted and self.draw(data, [True, True, False], "SD-GC"):
            self.model_send("issue_storage_gc", ISSUER_ID, sdr_id=sdr)

    # ------------------------------------------------------------------ GCs -> SCR

    def storage_cancel_for_charge(self, data: st.DataObject) -> None:
        """GCs of an SCR's interval cancelled for it: whole, part, or more than the charge."""
        if self.storage_live() is None:
            return
        fault = self.fault(data, "actor", "actor", "interval", "over-ask", "over-ask",
                           "ended bundle", "ghost record", "zero")  # fmt: skip
        held = [b for b in self.lock.model_bundles() if b.get("account_id") == "ACC-ALICE"]
        active = [b for b in held if b["certificate_bundle_status"] == "ACTIVE"]
        pairs: list[tuple[StorageChargeRecord, dict[str, Any]]] = []
        # Newest first (Hypothesis favours the first choice): the charges still open.
        for scr in sorted(self.scrs(), key=lambda r: r.charging_start, reverse=True):
            room = scr.charging_energy - scr.covered_wh
            start = stamp(scr.charging_start)
            if fault == "interval":
                found = [b for b in active if b.get("production_starting_interval") != start]
            elif fault == "ended bundle":
                found = [b for b in held if b["certificate_bundle_status"] != "ACTIVE"]
            else:
                found = [b for b in active if b.get("production_starting_interval") == start]
                if fault == "over-ask":
                    found = [b for b in found if b["bundle_quantity"] > room]
                if room <= 0 and fault != "over-ask":
                    found = []
            pairs += [(scr, b) for b in sorted(found, key=lambda b: repr(b["bundle_id"]))]
        if not pairs:
            return
        scr, bundle = self.draw(data, pairs, "SCR and bundle")
        room = scr.charging_energy - scr.covered_wh
        amount = int(bundle["bundle_quantity"])
        quantity: int | None = None
        if fault == "over-ask":
            quantity = room + 1
        elif fault == "zero":
            quantity = 0
        elif amount > room:
            quantity = room
        elif amount > 1 and self.draw(data, [False, False, True], "part"):
            quantity = max(1, amount // 2)
        fields: dict[str, Any] = {
            "scr_id": "SCR-GHOST" if fault == "ghost record" else scr.scr_id,
            "bundle_id": bundle["bundle_id"],
            "geographic_matching": MATCHING,
        }
        if quantity is not None:
            fields["quantity"] = quantity
        actor = self.other_party(data, (ALICE,)) if fault == "actor" else ALICE
        self.model_send("cancel_for_charge", actor, **fields)

    # ------------------------------------------------------------------ SCR -> SDR

    def storage_allocate(self, data: st.DataObject) -> None:
        """One to three SDRs allocated at once (by the method, or the operator's list)."""
        store = self.storage_live()
        if store is None:
            return
        fault = self.fault(data, "actor", "ghost", "used", "style", "over-ask charge",
                           "over-ask discharge", "later charge")  # fmt: skip
        newest = sorted(self.sdrs(), key=lambda r: r.discharging_start, reverse=True)
        sdrs = [r for r in newest if r.unallocated_wh > 0] or [r for r in newest if not r.archived]
        if fault == "used":
            sdrs = [r for r in newest if r.archived]
        if not sdrs:
            return
        first = self.draw(data, sdrs, "SDR")
        chosen = [first]
        more = [r for r in sdrs if r is not first]
        if more and self.draw(data, [1, 1, 2, 3], "SDRs") > 1:
            chosen += more[:2]
        fields: dict[str, Any] = {
            "storage_id": STORAGE_ID,
            "sdr_ids": ["SDR-GHOST" if fault == "ghost" else r.sdr_id for r in chosen],
        }
        if store.discretion != (fault == "style"):
            fields["allocations"] = self.operator_list(data, chosen, fault)
        actor = ALICE
        if fault == "actor":
            actor = self.other_party(data, (ALICE, ISSUER_ID))
        elif self.draw(data, [False, False, True], "by the issuer"):
            actor = ISSUER_ID  # the operator or the issuer allocates
        self.model_send("allocate_storage", actor, **fields)

    def operator_list(
        self, data: st.DataObject, sdrs: list[StorageDischargeRecord], fault: str
    ) -> list[list[Any]]:
        """A valid allocation list from the model's pool, or one over-asking in one entry."""
        order = self.draw(data, ["oldest first", "newest first"], "operator's order")
        pool = sorted(self.scrs(), key=lambda r: r.charging_start)
        if order == "newest first":
            pool.reverse()
        left = {r.scr_id: r.remaining_wh for r in pool}
        entries: list[list[Any]] = []
        for sdr in sorted(sdrs, key=lambda r: r.discharging_start):
            need = sdr.unallocated_wh
            for scr in pool:
                if need <= 0:
                    break
                if scr.loss_wh is None or scr.charging_end > sdr.discharging_start:
                    continue
                take = min(need, left[scr.scr_id])
                if take > 0:
                    entries.append([scr.scr_id, sdr.sdr_id, take])
                    left[scr.scr_id] -= take
                    need -= take
        target = sdrs[0]
        if fault == "over-ask charge":
            held = [r for r in pool if r.loss_wh is not None and r.remaining_wh > 0]
            if held:
                scr = held[0]
                entries = [[scr.scr_id, target.sdr_id, scr.remaining_wh + 1]]
        elif fault == "over-ask discharge" and entries:
            entries[-1] = [entries[-1][0], entries[-1][1], entries[-1][2] + target.unallocated_wh]
        elif fault == "later charge":
            later = [r for r in pool if r.charging_end > target.discharging_start]
            if later:
                entries = [[later[0].scr_id, target.sdr_id, 1]]
        return entries

    # ------------------------------------------------------------------ what leaves the store

    def storage_issue(self, data: st.DataObject) -> None:
        """An SD-GC for an SDR (fully allocated and backed, or not: the model decides)."""
        if self.storage_live() is None:
            return
        fault = self.fault(data, "actor", "used", "ghost")
        by_id = {r.scr_id: r for r in self.scrs()}

        def backing(sdr: StorageDischargeRecord) -> list[tuple[int, int]]:
            return [(by_id[i].covered_wh, by_id[i].charging_energy) for i, _ in sdr.allocations]

        # First (Hypothesis favours it) the SDRs an SD-GC is due for, the newest first; then
        # those not fully allocated or fed by a charge without (all) its GCs cancelled.
        sdrs = sorted(
            (r for r in self.sdrs() if r.archived == (fault == "used")),
            key=lambda r: (
                r.unallocated_wh > 0,
                any(c < e for c, e in backing(r)),
                -r.discharging_start.timestamp(),
            ),
        )
        if "sd_gc_inputs" not in self.lock.s.capabilities.policies:  # see the module docstring
            sdrs = [r for r in sdrs if not any(0 < c < e for c, e in backing(r))]
        if not sdrs:
            return
        sdr = self.draw(data, sdrs, "SDR")
        actor = self.other_party(data, (ISSUER_ID,)) if fault == "actor" else ISSUER_ID
        self.model_send(
            "issue_storage_gc", actor, sdr_id="SDR-GHOST" if fault == "ghost" else sdr.sdr_id
        )

    def storage_unknown_beneficiary(self, data: st.DataObject) -> None:
        if self.storage_live() is None:
            return
        fault = self.fault(data, "actor", "used")
        sdrs = [r for r in self.sdrs() if r.archived == (fault == "used")]
        if not sdrs:
            return
        sdr = self.draw(data, sdrs, "SDR")
        actor = ALICE
        if fault == "actor":
            actor = self.other_party(data, (ALICE, ISSUER_ID))
        self.model_send("assign_unknown_beneficiary", actor, sdr_id=sdr.sdr_id)

    def storage_time_shift(self, data: st.DataObject) -> None:
        """An SD-GC cancelled for a beneficiary (first, if it is not yet), claimed as a time shift."""
        if self.storage_live() is None:
            return
        fault = self.fault(data, "actor", "not storage", "other claimant", "twice")
        sd_gcs = {r.sd_gc_issuance_id: r for r in self.sdrs() if r.sd_gc_issuance_id is not None}
        bundles = [b for b in self.lock.model_bundles() if b.get("issuance_id") in sd_gcs]
        if fault == "not storage":
            bundles = [
                b
                for b in self.lock.model_bundles()
                if b.get("issuance_id") not in sd_gcs
                and b["certificate_bundle_status"] == "CANCELLED"
            ]
        wanted = ("CLAIMED",) if fault == "twice" else ("ACTIVE", "CANCELLED")
        bundles = [b for b in bundles if b["certificate_bundle_status"] in wanted]
        if "time_shift_scope" not in self.lock.s.capabilities.policies:  # the module docstring
            by_id = {r.scr_id: r for r in self.scrs()}
            bundles = [b for b in bundles if b.get("issuance_id") not in sd_gcs or not (
                sd_gcs[b["issuance_id"]].time_shift_claims
                or any(by_id[i].time_shift_claims for i, _ in sd_gcs[b["issuance_id"]].allocations)
            ) or fault == "twice"]  # fmt: skip
        if not bundles:
            return
        bundle = self.draw(data, sorted(bundles, key=lambda b: repr(b["bundle_id"])), "SD-GC")
        holder = self.lock.holders().get(str(bundle.get("account_id")), ALICE)
        named = str(bundle.get("beneficiary") or "")
        if bundle["certificate_bundle_status"] == "ACTIVE":
            named = self.draw(data, BENEFICIARIES, "for")
            answer = self.model_send("cancel", holder, bundle_id=bundle["bundle_id"],
                                     beneficiary=named)  # fmt: skip
            if answer is None or not answer.accepted:
                return
        claimant = named or BENEFICIARIES[0]
        if fault == "other claimant":
            claimant = next(b for b in BENEFICIARIES if b != claimant)
        actor = self.other_party(data, (holder,)) if fault == "actor" else holder
        self.model_send("claim_time_shift", actor, bundle_id=bundle["bundle_id"], claimant=claimant)
