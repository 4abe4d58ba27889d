"""SD-GC issuance, the unknown beneficiary and the time-shift claim (D7).

What leaves the store: an SD-GC once an SDR is fully allocated and fully backed, the
closing of an SDR that will get none, and the claim that uses an SD-GC up together
with every GC, SCR and SDR behind it.
"""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from gc_conformance.reference.allocation import AllocationMethod
from gc_conformance.reference.bundles import BundleStatus
from gc_conformance.reference.effects import StatusChanged
from gc_conformance.reference.entities import require_text
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.losses import LossMethod
from gc_conformance.reference.policies import SdGcInputs, SdGcProducer, TimeShiftScope
from gc_conformance.reference.storage._core import _refuse, _StorageBookCore
from gc_conformance.reference.storage.commands import (
    AllocationResult,
    AssignUnknownBeneficiary,
    ClaimTimeShift,
    IssueStorageGC,
    StorageGCResult,
    TimeShiftResult,
)
from gc_conformance.reference.storage.effects import (
    StorageGCIssued,
    TimeShiftClaimed,
    UnknownBeneficiaryAssigned,
)
from gc_conformance.reference.storage.records import (
    ChargeSource,
    StorageChargeRecord,
    StorageDischargeRecord,
    _join,
)
from gc_conformance.reference.timestamps import Interval, format_timestamp

if TYPE_CHECKING:
    from gc_conformance.reference.registry import Decision


class _SdGcDecisions(_StorageBookCore):
    """Deciders of ``IssueStorageGC``, ``AssignUnknownBeneficiary`` and ``ClaimTimeShift``."""

    # ------------------------------------------------------------ SD-GC issuance

    def _decide_issue(self, cmd: IssueStorageGC, now: _dt.datetime) -> Decision:
        reg = self._registry
        reg.require_issuer(cmd.actor)
        sdr = self._sdr(cmd.sdr_id)
        self._require_unused(sdr)
        expiry = reg.validity_bounds(sdr.discharging_end)[0]
        if now >= expiry:
            # D8, as for production: no certificate is issued already past its validity.
            raise _refuse(
                ErrorCode.PRODUCTION_TOO_OLD,
                "sdr_id",
                f"an SD-GC for SDR {sdr.sdr_id} would have been valid until "
                f"{format_timestamp(expiry)} ({reg.policies.validity.name}); it is "
                f"{format_timestamp(now)}",
            )
        if sdr.unallocated_wh:
            raise _refuse(
                ErrorCode.SDR_NOT_FULLY_ALLOCATED,
                "sdr_id",
                f"SDR {sdr.sdr_id}: {sdr.allocated_wh} of {sdr.discharge_energy} Wh allocated",
            )
        # Each SCR once, even when it gave to this SDR in several allocations.
        scrs = [self._scrs[scr_id] for scr_id in dict.fromkeys(i for i, _ in sdr.allocations)]
        for scr in scrs:
            self._require_backed(scr, sdr, reg.policies.sd_gc_inputs)
        storage = self._storages[sdr.storage_id]
        device = reg.known_device(storage.storage_id)
        sources = [s for scr in scrs for s in scr.sources]
        originals = [
            reg.issuance_record(i) for i in dict.fromkeys(s.gc_issuance_id for s in sources)
        ]
        producer = self._producer(sources, reg.policies.sd_gc_producer)
        first = reg.issuance_record(producer.gc_issuance_id)
        track = self._tracks[storage.storage_id]
        if storage.loss_method is LossMethod.EFFICIENCY_FACTOR and track.factor is not None:
            factor = float(track.factor.value)
        else:
            charged = sum(s.charging_energy for s in scrs)
            factor = float(Fraction(sum(s.net_wh or 0 for s in scrs), charged))
        scr_ids = tuple(s.scr_id for s in scrs)
        attributes = {
            "energy_source": _join(s.energy_source for s in sources),
            "technology_type": _join(s.technology_type for s in sources),
            "original_device_id": _join(s.device_id for s in sources),
            # D7: the one original device the D5 device fields below describe (policy
            # sd_gc_producer); the storage system has fields of its own (storage_*)
            "production_device_id": producer.device_id,
            "device_name": first.device_name,
            "device_capacity_w": first.device_capacity_w,
            "device_operational_date": first.device_operational_date,
            "device_location": first.device_location,
            # D7: the D5 attributes are those of the original production device, carried
            # from the cancelled GCs, not the storage system's own
            "support_received": _join(i.support_received for i in originals if i.support_received),
            # D5 flags, carried from the cancelled GCs: disclosable only if all of them are
            "disclosure": all(i.disclosure for i in originals),
            "post_energy_carrier_conversion": any(
                i.post_energy_carrier_conversion for i in originals
            ),
            "is_storage": True,
            "storage_id": storage.storage_id,
            "storage_device_location": storage.location,
            "sdr_allocation_id": sdr.sdr_id,
            "storage_efficiency_factor": factor,
            "original_production_start": min(s.production_start for s in sources),
            "original_production_end": max(s.production_end for s in sources),
            "scr_ids": scr_ids,
        }
        effects: list[Any] = []
        issued = reg.plan_issuance(
            device,
            Interval(sdr.discharging_start, sdr.discharging_end),
            sdr.discharge_energy,
            now,
            effects,
            attributes=attributes,
        )
        assert issued.issuance_id is not None and issued.bundle_id is not None
        effects.append(
            StorageGCIssued(
                sdr.sdr_id, issued.issuance_id, issued.bundle_id, sdr.discharge_energy, scr_ids
            )
        )
        return StorageGCResult(
            sdr.sdr_id, issued.issuance_id, issued.bundle_id, sdr.discharge_energy
        ), effects

    @staticmethod
    def _producer(sources: list[ChargeSource], rule: SdGcProducer) -> ChargeSource:
        """The input whose production device the SD-GC's D5 device attributes describe."""
        if rule is SdGcProducer.FIRST_ALLOCATED:
            return sources[0]
        held: dict[str, int] = {}
        for source in sources:
            held[source.device_id] = held.get(source.device_id, 0) + source.quantity
        most = max(held.values())
        # max() keeps the first of equals: sources are in allocation order
        return next(s for s in sources if held[s.device_id] == most)

    @staticmethod
    def _require_backed(
        scr: StorageChargeRecord, sdr: StorageDischargeRecord, inputs: SdGcInputs
    ) -> None:
        """D7: the SDR's energy from ``scr`` has GCs cancelled behind it (policy ``sd_gc_inputs``)."""
        if scr.covered_wh == scr.charging_energy:
            return
        if inputs is SdGcInputs.BACKED_WH_FIRST and scr.loss_wh is not None:
            # The backed Wh go first: everything ``scr`` gave up to and including its last
            # allocation to this SDR lies within covered x net / charge (exactly, no rounding).
            given = through = 0
            for sdr_id, wh in scr.allocations:
                given += wh
                if sdr_id == sdr.sdr_id:
                    through = given
            net = scr.charging_energy - scr.loss_wh
            if through * scr.charging_energy <= scr.covered_wh * net:
                return
            raise _refuse(
                ErrorCode.INPUTS_NOT_CANCELLED,
                "sdr_id",
                f"SCR {scr.scr_id} gave {through} Wh up to SDR {sdr.sdr_id}, beyond its backed "
                f"part ({scr.covered_wh} of {scr.charging_energy} Wh charged backed by cancelled "
                f"GCs, {net} Wh net; sd_gc_inputs {inputs.name})",
            )
        raise _refuse(
            ErrorCode.INPUTS_NOT_CANCELLED,
            "sdr_id",
            f"SCR {scr.scr_id} charged {scr.charging_energy} Wh but only {scr.covered_wh} Wh "
            f"of GCs were cancelled for it (sd_gc_inputs {inputs.name})",
        )

    def _decide_unknown_beneficiary(
        self, cmd: AssignUnknownBeneficiary, now: _dt.datetime
    ) -> Decision:
        sdr = self._sdr(cmd.sdr_id)
        storage = self._storages[sdr.storage_id]
        self._require_operator_or_issuer(cmd.actor, storage)
        self._require_unused(sdr)
        effects: list[Any] = []
        done: list[tuple[str, str, int]] = []
        if storage.allocation_method is not AllocationMethod.OPERATOR_DISCRETION:
            # The energy really left the store: drain the pool by the fixed method.
            done = self._plan_method(storage, [sdr], effects)
        effects.append(UnknownBeneficiaryAssigned(sdr.sdr_id))
        return AllocationResult(tuple(done)), effects

    # ------------------------------------------------------------ time-shift claim

    def _decide_time_shift(self, cmd: ClaimTimeShift, now: _dt.datetime) -> Decision:
        reg = self._registry
        claimant = require_text(cmd.claimant, "claimant")
        bundle = reg.owned_bundle(cmd.actor, cmd.bundle_id)
        sdr_id = self._sdr_by_issuance.get(bundle.issuance_id)
        if sdr_id is None:
            raise _refuse(
                ErrorCode.NOT_A_STORAGE_GC,
                "bundle_id",
                f"bundle {bundle.bundle_id} was not issued from a storage discharge",
            )
        reg.require_claimable(bundle, claimant)
        assert bundle.cancellation is not None
        sdr = self._sdrs[sdr_id]
        scrs = [self._scrs[i] for i in dict.fromkeys(i for i, _ in sdr.allocations)]
        gc_bundles = tuple(s.bundle_id for scr in scrs for s in scr.sources)
        wh = bundle.quantity
        if reg.policies.time_shift_scope is TimeShiftScope.WHOLE_RECORDS:
            used = (
                [f"SDR {sdr.sdr_id}"] * bool(sdr.time_shift_claims)
                + [f"SCR {s.scr_id}" for s in scrs if s.time_shift_claims]
                + [f"GC bundle {b}" for b in gc_bundles if b in self._claimed_gc_bundles]
            )
        else:
            # ALLOCATED_UNITS: each Wh of an SCR went to one SDR only (D7), so the SDR's
            # claimed Wh bound its inputs' too; another SDR's share is another claim's.
            used = [
                f"SDR {sdr.sdr_id} ({sdr.time_shift_claimed_wh} of its {sdr.discharge_energy} Wh)"
            ] * (sdr.time_shift_claimed_wh + wh > sdr.discharge_energy)
        if used:
            raise _refuse(
                ErrorCode.TIME_SHIFT_ALREADY_CLAIMED,
                "bundle_id",
                f"already served a time-shift claim: {', '.join(used)}",
            )
        claim_id = f"TSC-{self._next_claim}"
        effects: list[Any] = [
            StatusChanged(
                bundle.bundle_id,
                BundleStatus.CANCELLED,
                BundleStatus.CLAIMED,
                cancellation=bundle.cancellation,
                claimant=claimant,
            ),
            TimeShiftClaimed(
                claim_id,
                bundle.bundle_id,
                sdr.sdr_id,
                tuple(s.scr_id for s in scrs),
                gc_bundles,
                claimant,
                wh,
            ),
        ]
        return TimeShiftResult(
            claim_id, bundle.bundle_id, sdr.sdr_id, tuple(s.scr_id for s in scrs), gc_bundles
        ), effects
