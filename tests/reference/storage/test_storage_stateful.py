"""Random charge / discharge / allocate / issue / claim sequences keep every storage invariant."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from storage_world import ISSUER, OPERATOR, World, hour

from gc_conformance.reference import Cancel
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.reference.storage import (
    AllocateStorage,
    AssignUnknownBeneficiary,
    CancelForCharge,
    ClaimTimeShift,
    IssueStorageGC,
    SetEfficiencyFactor,
)

CAPACITY = 10_000


class StorageMachine(RuleBasedStateMachine):
    world: World

    @initialize(
        allocation=st.sampled_from(["FIFO", "LIFO", "WEIGHTED_AVERAGE", "OPERATOR_DISCRETION"]),
        loss=st.sampled_from(["EFFICIENCY_FACTOR", "INTERVAL_FORMULAS"]),
    )
    def start(self, allocation: str, loss: str) -> None:
        self.world = World(allocation=allocation, loss=loss, capacity_wh=CAPACITY)
        self.formulas = loss == "INTERVAL_FORMULAS"
        self.discretion = allocation == "OPERATOR_DISCRETION"
        self.slot = 0
        self.soc_wh = 0  # the simulated physical store, for consistent SoC readings
        self.sd_gcs: list[int] = []
        if not self.formulas:  # commissioning cycle: factor 900 / 1000
            self.world.ok(self.world.data_cmd("CHARGING", hour(0), 1000))
            self.world.ok(self.world.data_cmd("DISCHARGING", hour(1), 900))
            self.world.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
            self.slot = 2

    def _soc(self) -> Fraction | None:
        return Fraction(self.soc_wh, CAPACITY) * 100 if self.formulas else None

    def _next(self) -> Any:
        start = hour(self.slot)
        self.slot += 1
        return start

    @rule(
        source=st.sampled_from(["SOLAR", "WIND"]),
        wh=st.integers(1, 3000),
        covered=st.one_of(st.just(None), st.integers(0, 3000)),  # None: fully backed
        loss=st.integers(0, 100),
    )
    def charge(self, source: str, wh: int, covered: int | None, loss: int) -> None:
        w = self.world
        wh = min(wh, CAPACITY - self.soc_wh)
        if wh <= 0:
            return
        loss = min(loss, wh)
        start = self._next()
        bundle = w.produce(source, start, wh)
        self.soc_wh += wh - loss
        scr_id = w.ok(w.data_cmd("CHARGING", start, wh, self._soc())).record_id
        take = wh if covered is None else min(covered, wh)
        if take:
            w.ok(CancelForCharge(OPERATOR, scr_id, bundle, "SAME_COUNTRY", take))

    @rule(wh=st.integers(1, 3000), loss=st.integers(0, 100))
    def discharge(self, wh: int, loss: int) -> None:
        wh = min(wh, self.soc_wh)
        if wh <= 0:
            return
        loss = min(loss, self.soc_wh - wh)
        self.soc_wh -= wh + loss
        self.world.ok(self.world.data_cmd("DISCHARGING", self._next(), wh, self._soc()))

    @rule(loss=st.integers(0, 50))
    def idle(self, loss: int) -> None:
        self.soc_wh -= min(loss, self.soc_wh)
        self.world.ok(self.world.data_cmd("IDLE", self._next(), 0, self._soc()))

    def _open_sdrs(self) -> list[str]:
        return list(self.world.book.pool("BATT").sdr_ids)

    @precondition(lambda self: bool(self._open_sdrs()))
    @rule(data=st.data())
    def allocate(self, data: st.DataObject) -> None:
        w, book = self.world, self.world.book
        sdrs = data.draw(st.lists(st.sampled_from(self._open_sdrs()), min_size=1, unique=True))
        allocations = None
        if self.discretion:
            allocations = []
            left = {r.scr_id: r.remaining_wh for r in book.scrs("BATT")}
            for sdr_id in sdrs:
                sdr = book.sdr(sdr_id)
                assert sdr is not None
                need = sdr.unallocated_wh
                for scr in reversed(book.scrs("BATT")):  # the operator prefers the newest
                    if need and left[scr.scr_id] and scr.charging_end <= sdr.discharging_start:
                        take = min(need, left[scr.scr_id])
                        allocations.append((scr.scr_id, sdr_id, take))
                        left[scr.scr_id] -= take
                        need -= take
            allocations = tuple(allocations)
        w.ok(AllocateStorage(OPERATOR, "BATT", tuple(sdrs), allocations))

    @precondition(lambda self: bool(self._open_sdrs()))
    @rule(data=st.data())
    def issue(self, data: st.DataObject) -> None:
        book = self.world.book
        full = [i for i in self._open_sdrs() if not book.sdr(i).unallocated_wh]  # type: ignore[union-attr]
        sdr_id = data.draw(st.sampled_from(full or self._open_sdrs()))
        outcome = self.world.run(IssueStorageGC(ISSUER, sdr_id))
        if outcome.accepted:
            self.sd_gcs.append(outcome.value.bundle_id)

    @precondition(lambda self: bool(self._open_sdrs()))
    @rule(data=st.data())
    def unknown(self, data: st.DataObject) -> None:
        sdr_id = data.draw(st.sampled_from(self._open_sdrs()))
        self.world.ok(AssignUnknownBeneficiary(OPERATOR, sdr_id))

    @precondition(lambda self: bool(self.sd_gcs))
    @rule(data=st.data())
    def time_shift(self, data: st.DataObject) -> None:
        bundle = data.draw(st.sampled_from(self.sd_gcs))
        self.sd_gcs.remove(bundle)
        self.world.ok(Cancel(OPERATOR, bundle, "CONSUMER"))
        self.world.run(ClaimTimeShift(OPERATOR, bundle, "CONSUMER"))  # may share an SCR: refused

    @invariant()
    def invariants_hold(self) -> None:
        if not hasattr(self, "world"):
            return
        w = self.world
        report = check_invariants(w.reg.export_history(), w.reg.export_state())
        assert report.ok, report.findings
        for scr in w.book.scrs("BATT"):
            assert scr.remaining_wh >= 0 and scr.covered_wh <= scr.charging_energy
        for sdr in w.book.sdrs("BATT"):
            assert 0 <= sdr.allocated_wh <= sdr.discharge_energy
        assert w.book.pool("BATT").state_of_charge_wh >= 0


StorageMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=25, deadline=None)
TestStorageMachine = StorageMachine.TestCase
