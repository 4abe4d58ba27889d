"""The one place the storage book's state changes: an applier per storage effect.

The registry's single ``_apply`` hands each storage effect to ``StorageBook.apply``,
which finds the applier by the effect's type in ``_APPLIERS`` and calls it by name, so a
subclass (a faulty registry) may override one applier. Each applier re-checks the
effect's local invariant and raises ``ModelInvariantBroken`` on a bug in the oracle.
"""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any

import attrs

from gc_conformance.reference.errors import ModelInvariantBroken
from gc_conformance.reference.storage._core import _StorageBookCore, _Track
from gc_conformance.reference.storage.effects import (
    Allocated,
    ChargeCovered,
    ChargeRecorded,
    DischargeRecorded,
    EfficiencyFactorSet,
    IdleRecorded,
    LossAttributed,
    StorageGCIssued,
    StorageRegistered,
    TimeShiftClaimed,
    UnknownBeneficiaryAssigned,
)
from gc_conformance.reference.storage.records import StorageStatus


class _Appliers(_StorageBookCore):
    """``apply`` and the appliers of every storage effect type."""

    def apply(self, effect: Any) -> None:
        """Apply one of the book's effects (the registry's single ``_apply`` hands them here):
        each effect type has its own applier, found by type (a subclass finds its base's)."""
        for kind in type(effect).__mro__:
            applier = _APPLIERS.get(kind)
            if applier is not None:
                getattr(self, applier)(effect)  # by name: a subclass may override one
                return
        raise ModelInvariantBroken(f"the storage book does not apply {effect!r}")

    def _apply_registered(self, effect: StorageRegistered) -> None:
        storage = effect.storage
        if storage.storage_id in self._storages:
            raise ModelInvariantBroken(f"storage {storage.storage_id} registered twice")
        self._storages[storage.storage_id] = storage
        self._tracks[storage.storage_id] = _Track()

    def _apply_charge(self, effect: ChargeRecorded) -> None:
        scr = effect.scr
        track = self._tracks[scr.storage_id]
        if scr.position != len(track.scr_ids) or scr.scr_id in self._scrs:
            raise ModelInvariantBroken(f"SCR {scr.scr_id} out of place")
        self._scrs[scr.scr_id] = scr
        track.scr_ids.append(scr.scr_id)
        track.scr_ends.append(scr.charging_end)
        track.holdings.append(scr.remaining_wh)
        if scr.loss_wh is None:
            track.pending_losses[scr.position] = None
        self._metered(
            track,
            scr.charging_start,
            scr.charging_end,
            StorageStatus.CHARGING,
            scr.charging_energy,
            scr.state_of_charge_pct,
        )
        self._next_scr = max(self._next_scr, int(scr.scr_id.split("-")[-1]) + 1)

    def _apply_discharge(self, effect: DischargeRecorded) -> None:
        sdr = effect.sdr
        track = self._tracks[sdr.storage_id]
        if sdr.sdr_id in self._sdrs:
            raise ModelInvariantBroken(f"SDR {sdr.sdr_id} recorded twice")
        self._sdrs[sdr.sdr_id] = sdr
        track.sdr_ids.append(sdr.sdr_id)
        self._metered(
            track,
            sdr.discharging_start,
            sdr.discharging_end,
            StorageStatus.DISCHARGING,
            sdr.discharge_energy,
            sdr.state_of_charge_pct,
        )
        self._next_sdr = max(self._next_sdr, int(sdr.sdr_id.split("-")[-1]) + 1)

    def _apply_idle(self, effect: IdleRecorded) -> None:
        track = self._tracks[effect.storage_id]
        self._metered(
            track, effect.start, effect.end, StorageStatus.IDLE, 0, effect.state_of_charge_pct
        )

    def _apply_factor(self, effect: EfficiencyFactorSet) -> None:
        self._tracks[effect.storage_id].factor = effect.factor

    def _apply_covered(self, effect: ChargeCovered) -> None:
        scr = self._scrs[effect.scr_id]
        updated = attrs.evolve(scr, sources=(*scr.sources, effect.source))
        if updated.covered_wh > updated.charging_energy:
            raise ModelInvariantBroken(f"SCR {scr.scr_id} backed beyond its charge")
        self._scrs[scr.scr_id] = updated
        self._charge_bundles[effect.source.bundle_id] = scr.scr_id

    def _apply_sd_gc(self, effect: StorageGCIssued) -> None:
        sdr = self._sdrs[effect.sdr_id]
        if sdr.archived or effect.quantity != sdr.discharge_energy or sdr.unallocated_wh:
            raise ModelInvariantBroken(f"SD-GC {effect} for {sdr}")
        self._sdrs[sdr.sdr_id] = attrs.evolve(
            sdr, sd_gc_issuance_id=effect.issuance_id, sd_gc_bundle_id=effect.bundle_id
        )
        self._sdr_by_issuance[effect.issuance_id] = sdr.sdr_id

    def _apply_unknown_beneficiary(self, effect: UnknownBeneficiaryAssigned) -> None:
        sdr = self._sdrs[effect.sdr_id]
        if sdr.archived:
            raise ModelInvariantBroken(f"unknown beneficiary for used {sdr}")
        self._sdrs[sdr.sdr_id] = attrs.evolve(sdr, unknown_beneficiary=True)

    def _apply_time_shift(self, effect: TimeShiftClaimed) -> None:
        sdr = self._sdrs[effect.sdr_id]
        self._sdrs[sdr.sdr_id] = attrs.evolve(
            sdr,
            time_shift_claims=(*sdr.time_shift_claims, effect.claim_id),
            time_shift_claimed_wh=sdr.time_shift_claimed_wh + effect.wh,
        )
        for scr_id in effect.scr_ids:
            scr = self._scrs[scr_id]
            self._scrs[scr_id] = attrs.evolve(
                scr, time_shift_claims=(*scr.time_shift_claims, effect.claim_id)
            )
        self._claimed_gc_bundles.update(effect.gc_bundle_ids)
        self._claims[effect.claim_id] = effect
        self._next_claim = max(self._next_claim, int(effect.claim_id.split("-")[-1]) + 1)

    @staticmethod
    def _metered(
        track: _Track,
        start: _dt.datetime,
        end: _dt.datetime,
        status: StorageStatus,
        wh: int,
        soc: Fraction | None,
    ) -> None:
        if track.last_end is not None and start < track.last_end:
            raise ModelInvariantBroken("storage data out of time order")
        track.metered.append((start, end, status, wh))
        track.metered_starts.append(start)
        track.last_end = end
        if soc is not None:
            track.last_soc = soc

    def _apply_loss(self, effect: LossAttributed) -> None:
        track = self._tracks[effect.storage_id]
        if effect.scr_id is None:
            track.unattributed_loss_wh += effect.loss_wh
            return
        scr = self._scrs[effect.scr_id]
        was_pending = scr.loss_wh is None
        updated = attrs.evolve(scr, loss_wh=(scr.loss_wh or 0) + effect.loss_wh)
        if effect.loss_wh < 0 or updated.remaining_wh < 0:
            raise ModelInvariantBroken(f"loss {effect} beyond what SCR {scr.scr_id} holds")
        self._scrs[scr.scr_id] = updated
        if was_pending:
            del track.pending_losses[scr.position]
        track.holdings.set(scr.position, updated.remaining_wh)

    def _apply_allocation(self, effect: Allocated) -> None:
        scr, sdr = self._scrs[effect.scr_id], self._sdrs[effect.sdr_id]
        if effect.wh <= 0 or effect.wh > scr.remaining_wh or effect.wh > sdr.unallocated_wh:
            raise ModelInvariantBroken(f"allocation {effect} exceeds {scr} or {sdr}")
        if scr.charging_end > sdr.discharging_start or sdr.archived:
            raise ModelInvariantBroken(f"allocation {effect} out of order or to a used SDR")
        scr = attrs.evolve(
            scr,
            allocated_wh=scr.allocated_wh + effect.wh,
            allocations=scr.allocations.plus((sdr.sdr_id, effect.wh)),
        )
        self._scrs[scr.scr_id] = scr
        self._sdrs[sdr.sdr_id] = attrs.evolve(
            sdr,
            allocated_wh=sdr.allocated_wh + effect.wh,
            allocations=sdr.allocations.plus((scr.scr_id, effect.wh)),
        )
        self._tracks[scr.storage_id].holdings.set(scr.position, scr.remaining_wh)


#: Each storage effect's applier (``StorageBook.apply``).
_APPLIERS: dict[type, str] = {
    StorageRegistered: "_apply_registered",
    ChargeRecorded: "_apply_charge",
    DischargeRecorded: "_apply_discharge",
    IdleRecorded: "_apply_idle",
    LossAttributed: "_apply_loss",
    EfficiencyFactorSet: "_apply_factor",
    ChargeCovered: "_apply_covered",
    Allocated: "_apply_allocation",
    StorageGCIssued: "_apply_sd_gc",
    UnknownBeneficiaryAssigned: "_apply_unknown_beneficiary",
    TimeShiftClaimed: "_apply_time_shift",
}
