"""The storage effects: what an accepted storage request changes, as plain-data values.

Each effect is the unit the book applies and the action log records; its ``to_plain``
form is what the invariant checker and the audit read, so it names API fields and
carries everything a replay needs.
"""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any

import attrs

from gc_conformance.reference.storage.records import (
    ChargeSource,
    EfficiencyFactor,
    StorageChargeRecord,
    StorageDevice,
    StorageDischargeRecord,
)
from gc_conformance.reference.timestamps import format_timestamp


def _ts(value: _dt.datetime) -> str:
    return format_timestamp(value)


def _soc(value: Fraction | None) -> str | None:
    return None if value is None else str(value)


@attrs.frozen(weakref_slot=False)
class StorageRegistered:
    storage: StorageDevice

    def to_plain(self) -> dict[str, Any]:
        s = self.storage
        return {
            "effect": "storage_device",
            "storage_id": s.storage_id,
            "account_id": s.account_id,
            "consumption_point_id": s.consumption_point_id,
            "capacity_wh": s.capacity_wh,
            "startup_date": s.startup_date.isoformat(),
            "settlement_period_minutes": s.settlement_period_minutes,
            "allocation_method": s.allocation_method.name,
            "loss_method": s.loss_method.name,
        }


@attrs.frozen(weakref_slot=False)
class ChargeRecorded:
    scr: StorageChargeRecord

    def to_plain(self) -> dict[str, Any]:
        r = self.scr
        return {
            "effect": "scr",
            "scr_allocation_id": r.scr_id,
            "storage_id": r.storage_id,
            "charging_start_datetime": _ts(r.charging_start),
            "charging_end_datetime": _ts(r.charging_end),
            "charging_energy": r.charging_energy,
            "loss_wh": r.loss_wh,
            "state_of_charge_pct": _soc(r.state_of_charge_pct),
        }


@attrs.frozen(weakref_slot=False)
class DischargeRecorded:
    sdr: StorageDischargeRecord

    def to_plain(self) -> dict[str, Any]:
        r = self.sdr
        return {
            "effect": "sdr",
            "sdr_allocation_id": r.sdr_id,
            "storage_id": r.storage_id,
            "discharging_start_datetime": _ts(r.discharging_start),
            "discharging_end_datetime": _ts(r.discharging_end),
            "discharge_energy": r.discharge_energy,
            "state_of_charge_pct": _soc(r.state_of_charge_pct),
        }


@attrs.frozen(weakref_slot=False)
class IdleRecorded:
    storage_id: str
    start: _dt.datetime
    end: _dt.datetime
    state_of_charge_pct: Fraction | None

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "storage_idle",
            "storage_id": self.storage_id,
            "start": _ts(self.start),
            "end": _ts(self.end),
            "state_of_charge_pct": _soc(self.state_of_charge_pct),
        }


@attrs.frozen(weakref_slot=False)
class LossAttributed:
    """``loss_wh`` more Wh of an SCR are lost (``scr_id`` None: no stored SCR could bear it)."""

    storage_id: str
    scr_id: str | None
    loss_wh: int
    cause: str  # CHARGE / SELF_DISCHARGE / DISCHARGE / EFFICIENCY_FACTOR

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "storage_loss",
            "storage_id": self.storage_id,
            "scr_allocation_id": self.scr_id,
            "loss_wh": self.loss_wh,
            "cause": self.cause,
        }


@attrs.frozen(weakref_slot=False)
class EfficiencyFactorSet:
    storage_id: str
    factor: EfficiencyFactor

    def to_plain(self) -> dict[str, Any]:
        f = self.factor
        return {
            "effect": "efficiency_factor",
            "storage_id": self.storage_id,
            "efficiency_factor_interval_start": _ts(f.window_start),
            "efficiency_factor_interval_end": _ts(f.window_end),
            "charged_wh": f.charged_wh,
            "discharged_wh": f.discharged_wh,
        }


@attrs.frozen(weakref_slot=False)
class ChargeCovered:
    scr_id: str
    source: ChargeSource

    def to_plain(self) -> dict[str, Any]:
        s = self.source
        return {
            "effect": "scr_source",
            "scr_allocation_id": self.scr_id,
            "gc_issuance_id": s.gc_issuance_id,
            "bundle_id": s.bundle_id,
            "granular_certificate_certificate_bundle_id_range_start": s.range_start,
            "granular_certificate_certificate_bundle_id_range_end": s.range_end,
            "quantity": s.quantity,
            "charging_energy_source": s.energy_source,
            "scr_geographic_matching_method": s.geographic_matching,
            "production_start": _ts(s.production_start),
            "production_end": _ts(s.production_end),
        }


@attrs.frozen(weakref_slot=False)
class Allocated:
    scr_id: str
    sdr_id: str
    wh: int

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "storage_allocation",
            "scr_allocation_id": self.scr_id,
            "sdr_allocation_id": self.sdr_id,
            "wh": self.wh,
        }


@attrs.frozen(weakref_slot=False)
class StorageGCIssued:
    sdr_id: str
    issuance_id: int
    bundle_id: int
    quantity: int
    scr_ids: tuple[str, ...]

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "sd_gc",
            "sdr_allocation_id": self.sdr_id,
            "issuance_id": self.issuance_id,
            "bundle_id": self.bundle_id,
            "quantity": self.quantity,
            "scr_ids": list(self.scr_ids),
        }


@attrs.frozen(weakref_slot=False)
class UnknownBeneficiaryAssigned:
    sdr_id: str

    def to_plain(self) -> dict[str, Any]:
        return {"effect": "unknown_beneficiary", "sdr_allocation_id": self.sdr_id}


@attrs.frozen(weakref_slot=False)
class TimeShiftClaimed:
    claim_id: str
    bundle_id: int
    sdr_id: str
    scr_ids: tuple[str, ...]
    gc_bundle_ids: tuple[int, ...]
    claimant: str
    wh: int = 0  # the claimed SD-GC bundle's Wh: the SDR's (and its inputs') share it uses

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "time_shift_claim",
            "claim_id": self.claim_id,
            "bundle_id": self.bundle_id,
            "wh": self.wh,
            "sdr_allocation_id": self.sdr_id,
            "scr_ids": list(self.scr_ids),
            "gc_bundle_ids": list(self.gc_bundle_ids),
            "claimant": self.claimant,
        }


STORAGE_EFFECT_TYPES: tuple[type, ...] = (
    StorageRegistered,
    ChargeRecorded,
    DischargeRecorded,
    IdleRecorded,
    LossAttributed,
    EfficiencyFactorSet,
    ChargeCovered,
    Allocated,
    StorageGCIssued,
    UnknownBeneficiaryAssigned,
    TimeShiftClaimed,
)
