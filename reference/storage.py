"""Storage (D6 storage data, D7): charge and discharge records, losses, allocation, SD-GCs.

The storage book plugs into :class:`~gc_conformance.reference.registry.Registry`
like every book: its requests are frozen commands decided without touching any
state, and its effects change its state only in :meth:`StorageBook.apply`.
It plans core effects (splits, storage cancellations, issuance) through the
registry's helpers, so an SD-GC is an ordinary issuance that then lives the
ordinary lifecycle.

The flow, per storage system:

1. ``RegisterStorage``: the system is a production device (``is_storage``) and
   a consumption point, with capacity (Wh), start-up date (the device's
   operational date), location, settlement period, loss method and
   allocation method. The allocation method can never change afterwards.
2. ``SubmitStorageData`` per interval, in time order, of exactly the
   settlement period (<= 60 min): CHARGING makes an SCR, DISCHARGING an SDR,
   IDLE only carries the state of charge (for self-discharge losses).
3. ``CancelForCharge``: GCs produced in the SCR's own interval are cancelled
   for storage (status CANCELLED_FOR_STORAGE) and recorded on the SCR, never
   beyond its metered charge.
4. Losses: under EFFICIENCY_FACTOR a charge's loss is fixed once a factor is
   in force (``SetEfficiencyFactor``); under INTERVAL_FORMULAS the charge loss
   is fixed when the SCR is recorded (at most its charge; any larger loss of a
   charging interval is taken from the pool like a self-discharge, so no Wh
   vanish) and the self-discharge/discharge losses of later intervals are
   taken from the stored SCRs in allocation order.
5. ``AllocateStorage``: SCR Wh net of losses go to SDRs by the fixed method.
6. ``IssueStorageGC``: once an SDR is fully allocated and every SCR behind it
   is fully backed by cancelled GCs, one SD-GC of the SDR's volume is issued.
   ``AssignUnknownBeneficiary`` closes an SDR that will get no SD-GC.
7. ``ClaimTimeShift``: claims a cancelled SD-GC as a time shift, making the
   GCs, SCRs, SDR and SD-GC behind it unusable for any other claim.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import enum
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from gc_conformance.reference.allocation import (
    AllocationLog,
    AllocationMethod,
    Holdings,
    HoldingsView,
    allocation_log,
    take_in_order,
    weighted_take,
)
from gc_conformance.reference.bundles import BundleStatus, Cancellation, CancellationPurpose
from gc_conformance.reference.commands import RegisterDevice, Stamp
from gc_conformance.reference.effects import StatusChanged
from gc_conformance.reference.entities import Device, Location, require_text
from gc_conformance.reference.errors import ErrorCode, ModelInvariantBroken
from gc_conformance.reference.losses import (
    LossMethod,
    as_fraction,
    check_initial_window,
    efficiency_factor,
    interval_losses,
    net_after_factor,
)
from gc_conformance.reference.policies import (
    EnergyInput,
    SdGcInputs,
    TimeShiftScope,
    parse_energy,
    parse_quantity,
)
from gc_conformance.reference.timestamps import (
    Interval,
    format_timestamp,
    production_interval,
)

if TYPE_CHECKING:
    from gc_conformance.reference.registry import Decider, Decision, Registry


class StorageStatus(enum.Enum):
    CHARGING = "energy went into the store (makes an SCR)"
    DISCHARGING = "energy came out of the store (makes an SDR)"
    IDLE = "neither; carries the state of charge only (self-discharge)"


# ================================================================ records


@attrs.frozen
class StorageDevice:
    """A registered storage system (D6, D7)."""

    storage_id: str
    account_id: str
    consumption_point_id: str
    capacity_wh: int
    startup_date: _dt.date
    location: Location
    meter_id: str
    settlement_period_minutes: int
    allocation_method: AllocationMethod
    loss_method: LossMethod


@attrs.frozen
class ChargeSource:
    """One cancelled GC bundle behind an SCR, with the attributes copied from its issuance."""

    gc_issuance_id: int
    bundle_id: int
    range_start: int
    range_end: int
    energy_source: str
    technology_type: str
    device_id: str
    production_start: _dt.datetime
    production_end: _dt.datetime
    geographic_matching: str

    @property
    def quantity(self) -> int:
        return self.range_end - self.range_start + 1


@attrs.frozen
class StorageChargeRecord:
    """An SCR: all energy charged in one interval. ``loss_wh`` None: losses not yet known."""

    scr_id: str
    storage_id: str
    account_id: str
    position: int  # index in the storage system's time-ordered SCRs
    charging_start: _dt.datetime
    charging_end: _dt.datetime
    charging_energy: int
    state_of_charge_pct: Fraction | None
    loss_wh: int | None
    sources: tuple[ChargeSource, ...] = ()
    allocated_wh: int = 0
    # (sdr_id, Wh), in allocation order; a tuple given here becomes an AllocationLog
    allocations: AllocationLog = attrs.field(factory=AllocationLog, converter=allocation_log)
    time_shift_claims: tuple[str, ...] = ()  # the claims resting on (part of) this charge

    @property
    def covered_wh(self) -> int:
        """Wh of the charge backed by GCs cancelled for it."""
        return sum(s.quantity for s in self.sources)

    @property
    def net_wh(self) -> int | None:
        return None if self.loss_wh is None else self.charging_energy - self.loss_wh

    @property
    def remaining_wh(self) -> int:
        """Wh still in the store (net of losses, not yet allocated); 0 while losses are unknown."""
        net = self.net_wh
        return 0 if net is None else net - self.allocated_wh

    @property
    def archived(self) -> bool:
        return self.loss_wh is not None and self.remaining_wh == 0

    @property
    def charging_energy_source(self) -> str | None:
        return _join(s.energy_source for s in self.sources)

    @property
    def scr_geographic_matching_method(self) -> str | None:
        return _join(s.geographic_matching for s in self.sources)


@attrs.frozen
class StorageDischargeRecord:
    """An SDR: all energy discharged in one interval."""

    sdr_id: str
    storage_id: str
    account_id: str
    discharging_start: _dt.datetime
    discharging_end: _dt.datetime
    discharge_energy: int
    state_of_charge_pct: Fraction | None
    scr_allocation_methodology: AllocationMethod
    efficiency_factor_methodology: LossMethod
    allocated_wh: int = 0
    # (scr_id, Wh), in allocation order; a tuple given here becomes an AllocationLog
    allocations: AllocationLog = attrs.field(factory=AllocationLog, converter=allocation_log)
    sd_gc_issuance_id: int | None = None
    sd_gc_bundle_id: int | None = None
    unknown_beneficiary: bool = False
    time_shift_claims: tuple[str, ...] = ()  # the claims on (parts of) this SDR's SD-GC
    time_shift_claimed_wh: int = 0  # their Wh: never more than the discharge (D7)

    @property
    def unallocated_wh(self) -> int:
        return self.discharge_energy - self.allocated_wh

    @property
    def archived(self) -> bool:
        return self.sd_gc_issuance_id is not None or self.unknown_beneficiary


@attrs.frozen
class EfficiencyFactor:
    window_start: _dt.datetime
    window_end: _dt.datetime
    charged_wh: int
    discharged_wh: int

    @property
    def value(self) -> Fraction:
        return Fraction(self.discharged_wh, self.charged_wh)


@attrs.frozen
class StoragePool:
    """What a storage system holds now (D7 'storage pool') and what it has archived."""

    storage_id: str
    scr_ids: tuple[str, ...]
    sdr_ids: tuple[str, ...]
    state_of_charge_wh: int  # stored Wh net of losses not yet allocated
    pending_loss_charge_wh: int  # charged Wh whose losses are not known yet
    metered_state_of_charge_pct: Fraction | None
    unattributed_loss_wh: int
    archived_scr_ids: tuple[str, ...]
    archived_sdr_ids: tuple[str, ...]


def _join(values: Any) -> str | None:
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return "+".join(sorted(seen)) if seen else None


# ================================================================ commands


@attrs.frozen
class RegisterStorage:
    """Register a storage system: a production device (``is_storage``) and a consumption point."""

    actor: str
    device: Device
    capacity_wh: int
    consumption_point_id: str
    settlement_period_minutes: int
    allocation_method: str  # an AllocationMethod name
    loss_method: str  # a LossMethod name


@attrs.frozen
class ChangeStorageAllocationMethod:
    """Always refused once registered: the method is fixed (D7, API)."""

    actor: str
    storage_id: str
    allocation_method: str


@attrs.frozen
class SubmitStorageData:
    """One storage metering interval (D6): status, energy and optionally the state of charge."""

    actor: str
    storage_id: str
    meter_id: str
    start: Stamp
    end: Stamp
    interval_minutes: int  # stated length; must equal the settlement period
    status: str  # a StorageStatus name
    energy_wh: EnergyInput
    state_of_charge_pct: EnergyInput | None = None


@attrs.frozen
class CancelForCharge:
    """Cancel GCs produced in an SCR's interval for charging storage, recording them on the SCR."""

    actor: str
    scr_id: str
    bundle_id: int
    geographic_matching: str
    quantity: int | None = None


@attrs.frozen
class SetEfficiencyFactor:
    """Compute output/input over ``[window_start, window_end)`` from the metered storage data."""

    actor: str
    storage_id: str
    window_start: Stamp
    window_end: Stamp


@attrs.frozen
class AllocateStorage:
    """Allocate SCR Wh (net of losses) to SDRs: batched (several) or one-to-one (one).

    ``allocations`` ``(scr_id, sdr_id, wh)`` is given under OPERATOR_DISCRETION only.
    """

    actor: str
    storage_id: str
    sdr_ids: tuple[str, ...]
    allocations: tuple[tuple[str, str, int], ...] | None = None


@attrs.frozen
class IssueStorageGC:
    actor: str
    sdr_id: str


@attrs.frozen
class AssignUnknownBeneficiary:
    actor: str
    sdr_id: str


@attrs.frozen
class ClaimTimeShift:
    """Claim a whole SD-GC bundle, cancelled for ``claimant``, as a time shift tc -> td."""

    actor: str
    bundle_id: int
    claimant: str


# ================================================================ results


@attrs.frozen
class StorageRecordResult:
    record_id: str | None  # SCR or SDR ID; None for IDLE
    loss_wh: int | None = None


@attrs.frozen
class AllocationResult:
    allocations: tuple[tuple[str, str, int], ...]  # (scr_id, sdr_id, Wh)


@attrs.frozen
class StorageGCResult:
    sdr_id: str
    issuance_id: int
    bundle_id: int
    quantity: int


@attrs.frozen
class TimeShiftResult:
    claim_id: str
    bundle_id: int
    sdr_id: str
    scr_ids: tuple[str, ...]
    gc_bundle_ids: tuple[int, ...]


# ================================================================ effects


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


# ================================================================ the book


@attrs.define
class _Track:
    """Per storage system: time-ordered records and the indices allocation walks."""

    scr_ids: list[str] = attrs.Factory(list)
    scr_ends: list[_dt.datetime] = attrs.Factory(list)
    # Wh each SCR still holds (remaining_wh), by position; changed only in apply
    holdings: Holdings = attrs.Factory(Holdings)
    # positions whose loss is not known yet, in time order (a dict: O(1) removal)
    pending_losses: dict[int, None] = attrs.Factory(dict)
    sdr_ids: list[str] = attrs.Factory(list)
    metered: list[tuple[_dt.datetime, _dt.datetime, StorageStatus, int]] = attrs.Factory(list)
    metered_starts: list[_dt.datetime] = attrs.Factory(list)
    last_end: _dt.datetime | None = None
    last_soc: Fraction | None = None
    factor: EfficiencyFactor | None = None
    unattributed_loss_wh: int = 0


def _refuse(code: ErrorCode, field: str, message: str) -> Exception:
    from gc_conformance.reference.registry import Refusal

    return Refusal(code, field, message)


class StorageBook:
    """The storage part of a registry's state (D7). Changes only in :meth:`apply`."""

    effect_types = STORAGE_EFFECT_TYPES

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._storages: dict[str, StorageDevice] = {}
        self._tracks: dict[str, _Track] = {}
        self._scrs: dict[str, StorageChargeRecord] = {}
        self._sdrs: dict[str, StorageDischargeRecord] = {}
        self._charge_bundles: dict[int, str] = {}  # bundle cancelled for storage -> SCR
        self._sdr_by_issuance: dict[int, str] = {}
        self._claimed_gc_bundles: set[int] = set()
        self._claims: dict[str, TimeShiftClaimed] = {}
        self._next_scr = 1
        self._next_sdr = 1
        self._next_claim = 1

    # ------------------------------------------------------------ book protocol

    def deciders(self) -> Mapping[type, Decider]:
        return {
            RegisterStorage: self._decide_register,
            ChangeStorageAllocationMethod: self._decide_change_method,
            SubmitStorageData: self._decide_submit,
            CancelForCharge: self._decide_cancel_for_charge,
            SetEfficiencyFactor: self._decide_efficiency_factor,
            AllocateStorage: self._decide_allocate,
            IssueStorageGC: self._decide_issue,
            AssignUnknownBeneficiary: self._decide_unknown_beneficiary,
            ClaimTimeShift: self._decide_time_shift,
        }

    def fingerprint(self) -> tuple[Any, ...]:
        return (
            tuple(sorted(self._storages.items())),
            tuple(sorted(self._scrs.items())),
            tuple(sorted(self._sdrs.items())),
            tuple(
                sorted(
                    (k, t.factor, t.last_soc, t.unattributed_loss_wh)
                    for k, t in self._tracks.items()
                )
            ),
            tuple(sorted(self._claimed_gc_bundles)),
            self._next_scr,
            self._next_sdr,
            self._next_claim,
        )

    # ------------------------------------------------------------ reads

    def storage(self, storage_id: str) -> StorageDevice | None:
        return self._storages.get(storage_id)

    def scr(self, scr_id: str) -> StorageChargeRecord | None:
        return self._scrs.get(scr_id)

    def sdr(self, sdr_id: str) -> StorageDischargeRecord | None:
        return self._sdrs.get(sdr_id)

    def scrs(self, storage_id: str) -> tuple[StorageChargeRecord, ...]:
        track = self._tracks.get(storage_id)
        return () if track is None else tuple(self._scrs[i] for i in track.scr_ids)

    def sdrs(self, storage_id: str) -> tuple[StorageDischargeRecord, ...]:
        track = self._tracks.get(storage_id)
        return () if track is None else tuple(self._sdrs[i] for i in track.sdr_ids)

    def efficiency_factor(self, storage_id: str) -> EfficiencyFactor | None:
        track = self._tracks.get(storage_id)
        return None if track is None else track.factor

    def sdr_of_issuance(self, issuance_id: int) -> str | None:
        return self._sdr_by_issuance.get(issuance_id)

    def pool(self, storage_id: str) -> StoragePool:
        track = self._tracks[storage_id]
        scrs = [self._scrs[i] for i in track.scr_ids]
        sdrs = [self._sdrs[i] for i in track.sdr_ids]
        return StoragePool(
            storage_id,
            tuple(r.scr_id for r in scrs if not r.archived),
            tuple(r.sdr_id for r in sdrs if not r.archived),
            sum(r.remaining_wh for r in scrs),
            sum(r.charging_energy for r in scrs if r.loss_wh is None),
            track.last_soc,
            track.unattributed_loss_wh,
            tuple(r.scr_id for r in scrs if r.archived),
            tuple(r.sdr_id for r in sdrs if r.archived),
        )

    # ------------------------------------------------------------ shared checks

    def _storage(self, storage_id: object, field: str = "storage_id") -> StorageDevice:
        storage = self._storages.get(storage_id) if isinstance(storage_id, str) else None
        if storage is None:
            raise _refuse(
                ErrorCode.NOT_A_STORAGE_DEVICE, field, f"{storage_id!r} is not a storage system"
            )
        return storage

    def _operator(self, storage: StorageDevice) -> str:
        account = self._registry.account(storage.account_id)
        assert account is not None  # registered with a known account
        return account.holder_id

    def _require_operator_or_issuer(self, actor: object, storage: StorageDevice) -> None:
        if actor not in (self._operator(storage), self._registry.issuer.issuer_id):
            raise _refuse(
                ErrorCode.NOT_AUTHORISED,
                "actor",
                f"{actor!r} is neither the operator of {storage.storage_id!r} nor the issuer",
            )

    def _scr(self, scr_id: object, field: str = "scr_id") -> StorageChargeRecord:
        record = self._scrs.get(scr_id) if isinstance(scr_id, str) else None
        if record is None:
            raise _refuse(ErrorCode.UNKNOWN_STORAGE_RECORD, field, f"no SCR {scr_id!r}")
        return record

    def _sdr(self, sdr_id: object, field: str = "sdr_id") -> StorageDischargeRecord:
        record = self._sdrs.get(sdr_id) if isinstance(sdr_id, str) else None
        if record is None:
            raise _refuse(ErrorCode.UNKNOWN_STORAGE_RECORD, field, f"no SDR {sdr_id!r}")
        return record

    @staticmethod
    def _require_unused(sdr: StorageDischargeRecord, field: str = "sdr_id") -> None:
        if sdr.archived:
            why = (
                "has its SD-GC"
                if sdr.sd_gc_issuance_id is not None
                else "went to an unknown beneficiary"
            )
            raise _refuse(ErrorCode.SDR_ALREADY_USED, field, f"SDR {sdr.sdr_id} {why}")

    # ------------------------------------------------------------ registration

    def _decide_register(self, cmd: RegisterStorage, now: _dt.datetime) -> Decision:
        reg = self._registry
        reg.require_issuer(cmd.actor)
        device = cmd.device
        if not isinstance(device, Device):
            raise _refuse(ErrorCode.INVALID_FIELD, "device", "expected a Device record")
        if device.is_storage is not True:
            raise _refuse(
                ErrorCode.INVALID_FIELD,
                "device.is_storage",
                "a storage system is registered as a production device with is_storage=True",
            )
        capacity = cmd.capacity_wh
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise _refuse(ErrorCode.INVALID_FIELD, "capacity_wh", "must be a positive whole Wh")
        require_text(cmd.consumption_point_id, "consumption_point_id")
        period = cmd.settlement_period_minutes
        if isinstance(period, bool) or not isinstance(period, int) or not 0 < period <= 60:
            raise _refuse(
                ErrorCode.INVALID_FIELD,
                "settlement_period_minutes",
                "storage intervals are 60 minutes or less (D7)",
            )
        method = _enum(AllocationMethod, cmd.allocation_method, "allocation_method")
        loss = _enum(LossMethod, cmd.loss_method, "loss_method")
        value, effects = reg.decide_register_device(RegisterDevice(cmd.actor, device), now)
        storage = StorageDevice(
            device.device_id,
            device.account_id,
            cmd.consumption_point_id,
            capacity,
            device.operational_date,
            device.location,
            device.meter_id,
            period,
            method,
            loss,
        )
        return value, [*effects, StorageRegistered(storage)]

    def _decide_change_method(
        self, cmd: ChangeStorageAllocationMethod, now: _dt.datetime
    ) -> Decision:
        storage = self._storage(cmd.storage_id)
        self._require_operator_or_issuer(cmd.actor, storage)
        _enum(AllocationMethod, cmd.allocation_method, "allocation_method")
        raise _refuse(
            ErrorCode.ALLOCATION_METHOD_FIXED,
            "allocation_method",
            f"{storage.storage_id!r} allocates by {storage.allocation_method.name}, fixed at "
            "registration so that allocations cannot be steered",
        )

    # ------------------------------------------------------------ metering data

    def _decide_submit(self, cmd: SubmitStorageData, now: _dt.datetime) -> Decision:
        reg = self._registry
        reg.require_issuer(cmd.actor)
        storage = self._storage(cmd.storage_id)
        if cmd.meter_id != storage.meter_id:
            raise _refuse(
                ErrorCode.METER_MISMATCH,
                "meter_id",
                f"{cmd.meter_id!r} is not the meter of {storage.storage_id!r}",
            )
        interval = production_interval(cmd.start, cmd.end)
        status = _enum(StorageStatus, cmd.status, "status")
        energy = reg.policies.rounding.apply(parse_energy(cmd.energy_wh, "energy_wh"))
        soc: Fraction | None = None
        if cmd.state_of_charge_pct is not None:
            soc = as_fraction(parse_energy(cmd.state_of_charge_pct, "state_of_charge_pct"))
            if soc > 100:
                raise _refuse(ErrorCode.INVALID_FIELD, "state_of_charge_pct", "above 100 %")
        minutes = cmd.interval_minutes
        length = interval.length.total_seconds() / 60
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or minutes != length
            or minutes != storage.settlement_period_minutes
        ):
            raise _refuse(
                ErrorCode.STORAGE_INTERVAL_MISMATCH,
                "interval_minutes",
                f"stated {minutes!r} min, interval {length:g} min, settlement period "
                f"{storage.settlement_period_minutes} min",
            )
        if (status is StorageStatus.IDLE) != (energy == 0):
            raise _refuse(
                ErrorCode.INVALID_ENERGY,
                "energy_wh",
                "charging and discharging intervals carry energy; idle ones carry none",
            )
        reg.check_ended(interval, now)
        track = self._tracks[storage.storage_id]
        if track.last_end is not None and interval.start < track.last_end:
            raise _refuse(
                ErrorCode.STORAGE_INTERVAL_OUT_OF_ORDER,
                "interval",
                f"{interval} starts before the end of the previous data "
                f"({format_timestamp(track.last_end)})",
            )
        effects: list[Any] = []
        formulas = storage.loss_method is LossMethod.INTERVAL_FORMULAS
        pool_loss = 0
        charge_loss: int | None = None
        if formulas:
            if soc is None:
                raise _refuse(
                    ErrorCode.STATE_OF_CHARGE_REQUIRED,
                    "state_of_charge_pct",
                    "INTERVAL_FORMULAS needs the state of charge of every interval",
                )
            before = track.last_soc if track.last_soc is not None else Fraction(0)
            losses = interval_losses(
                storage.capacity_wh,
                before,
                soc,
                energy if status is StorageStatus.CHARGING else 0,
                energy if status is StorageStatus.DISCHARGING else 0,
            )
            if losses.total_wh < 0:
                raise _refuse(
                    ErrorCode.STATE_OF_CHARGE_INCONSISTENT,
                    "state_of_charge_pct",
                    f"SoC {before}% -> {soc}% with {energy} Wh {status.name.lower()} implies "
                    f"{-losses.total_wh} Wh created in the store",
                )
            if status is StorageStatus.CHARGING:
                # D7: the pool reflects the metered state of charge, so no Wh may vanish.
                # The charged energy bears the loss up to its own size; a loss beyond it
                # (the store lost more than was charged) came from energy already stored
                # and is taken from the pool, as a self-discharge would be.
                whole = math.ceil(losses.charge_wh)
                charge_loss = min(energy, whole)
                pool_loss = whole - charge_loss
            else:
                pool_loss = math.ceil(losses.total_wh)
        elif status is StorageStatus.CHARGING and track.factor is not None:
            charge_loss = energy - net_after_factor(energy, track.factor.value)
        result: StorageRecordResult
        if status is StorageStatus.CHARGING:
            scr = StorageChargeRecord(
                f"SCR-{self._next_scr}",
                storage.storage_id,
                storage.account_id,
                len(track.scr_ids),
                interval.start,
                interval.end,
                energy,
                soc,
                charge_loss,
            )
            effects.append(ChargeRecorded(scr))
            result = StorageRecordResult(scr.scr_id, charge_loss)
        elif status is StorageStatus.DISCHARGING:
            sdr = StorageDischargeRecord(
                f"SDR-{self._next_sdr}",
                storage.storage_id,
                storage.account_id,
                interval.start,
                interval.end,
                energy,
                soc,
                storage.allocation_method,
                storage.loss_method,
            )
            effects.append(DischargeRecorded(sdr))
            result = StorageRecordResult(sdr.sdr_id, pool_loss if formulas else None)
        else:
            effects.append(IdleRecorded(storage.storage_id, interval.start, interval.end, soc))
            result = StorageRecordResult(None, pool_loss if formulas else None)
        if pool_loss:
            cause = {
                StorageStatus.DISCHARGING: "DISCHARGE",
                StorageStatus.CHARGING: "CHARGE",
            }.get(status, "SELF_DISCHARGE")
            borne = 0
            view = track.holdings.view()
            for position, wh in self._plan_take(storage, pool_loss, interval.start, view):
                effects.append(
                    LossAttributed(storage.storage_id, track.scr_ids[position], wh, cause)
                )
                borne += wh
            if borne < pool_loss:
                effects.append(LossAttributed(storage.storage_id, None, pool_loss - borne, cause))
        return result, effects

    # ------------------------------------------------------------ GC -> SCR

    def _decide_cancel_for_charge(self, cmd: CancelForCharge, now: _dt.datetime) -> Decision:
        reg = self._registry
        quantity = reg.optional_quantity(cmd.quantity)
        matching = require_text(cmd.geographic_matching, "geographic_matching")
        scr = self._scr(cmd.scr_id)
        storage = self._storages[scr.storage_id]
        if cmd.actor != self._operator(storage):
            raise _refuse(
                ErrorCode.NOT_AUTHORISED,
                "actor",
                f"only the operator of {storage.storage_id!r} cancels GCs for its charging",
            )
        bundle = reg.owned_bundle(cmd.actor, cmd.bundle_id)
        # D2: the issuer's exempt accounts cancel only for the issuer itself (or never),
        # for storage charging as for anything else.
        reg.require_exempt_use(bundle, "cancel", storage.storage_id)
        reg.require_status(bundle, BundleStatus.ACTIVE)
        reg.require_valid_at(bundle, now)
        reg.optional_quantity(quantity, bundle)
        issuance = reg.issuance_record(bundle.issuance_id)
        if (issuance.production_start, issuance.production_end) != (
            scr.charging_start,
            scr.charging_end,
        ):
            raise _refuse(
                ErrorCode.GC_INTERVAL_MISMATCH,
                "bundle_id",
                f"bundle {bundle.bundle_id} was produced over "
                f"{format_timestamp(issuance.production_start)}/{format_timestamp(issuance.production_end)}, "
                f"SCR {scr.scr_id} charged over {format_timestamp(scr.charging_start)}/"
                f"{format_timestamp(scr.charging_end)}",
            )
        take = bundle.quantity if quantity is None else quantity
        room = scr.charging_energy - scr.covered_wh
        if take > room:
            raise _refuse(
                ErrorCode.CHARGE_EXCEEDED,
                "quantity",
                f"SCR {scr.scr_id} charged {scr.charging_energy} Wh, {scr.covered_wh} Wh already "
                f"backed by GCs; {take} Wh more would exceed it",
            )
        effects: list[Any] = []
        part, rest = reg.carve(bundle, quantity, effects)
        if part == bundle.bundle_id:
            start, end = bundle.range_start, bundle.range_end
        else:
            split = effects[-1]
            start, end = next((s, e) for b, s, e in split.children if b == part)
        cancellation = Cancellation(
            beneficiary=storage.storage_id,
            purpose=CancellationPurpose.STORAGE_CHARGE,
            cancelled_at=now,
            consumption_start=scr.charging_start,
            consumption_end=scr.charging_end,
            consumption_location=storage.consumption_point_id,
        )
        effects.append(
            StatusChanged(
                part, BundleStatus.ACTIVE, BundleStatus.CANCELLED_FOR_STORAGE, cancellation
            )
        )
        source = ChargeSource(
            issuance.issuance_id,
            part,
            start,
            end,
            issuance.energy_source,
            issuance.technology_type,
            issuance.device_id,
            issuance.production_start,
            issuance.production_end,
            matching,
        )
        effects.append(ChargeCovered(scr.scr_id, source))
        from gc_conformance.reference.history import BundleResult

        return BundleResult(part, rest), effects

    # ------------------------------------------------------------ losses (efficiency factor)

    def _decide_efficiency_factor(self, cmd: SetEfficiencyFactor, now: _dt.datetime) -> Decision:
        reg = self._registry
        reg.require_issuer(cmd.actor)
        storage = self._storage(cmd.storage_id)
        if storage.loss_method is not LossMethod.EFFICIENCY_FACTOR:
            raise _refuse(
                ErrorCode.INVALID_FIELD,
                "storage_id",
                f"{storage.storage_id!r} quantifies losses by {storage.loss_method.name}",
            )
        window = Interval.parse(cmd.window_start, cmd.window_end, field="window")
        track = self._tracks[storage.storage_id]
        if track.factor is None:
            check_initial_window(storage.startup_date, window.start, window.end)
        if window.end > now:
            raise _refuse(ErrorCode.INTERVAL_NOT_ENDED, "window.end", "the window has not ended")
        charged = discharged = 0
        index = bisect.bisect_left(track.metered_starts, window.start)
        for start, end, status, wh in track.metered[index:]:
            if start >= window.end:
                break
            if end > window.end:
                continue
            if status is StorageStatus.CHARGING:
                charged += wh
            elif status is StorageStatus.DISCHARGING:
                discharged += wh
        factor = efficiency_factor(charged, discharged)
        record = EfficiencyFactor(window.start, window.end, charged, discharged)
        effects: list[Any] = [EfficiencyFactorSet(storage.storage_id, record)]
        for position in track.pending_losses:
            scr = self._scrs[track.scr_ids[position]]
            loss = scr.charging_energy - net_after_factor(scr.charging_energy, factor)
            effects.append(
                LossAttributed(storage.storage_id, scr.scr_id, loss, "EFFICIENCY_FACTOR")
            )
        return record, effects

    # ------------------------------------------------------------ SCR -> SDR

    def _plan_take(
        self,
        storage: StorageDevice,
        need: int,
        before: _dt.datetime,
        view: HoldingsView,
    ) -> list[tuple[int, int]]:
        """Positions and Wh the storage's method takes for ``need`` Wh discharged at ``before``.

        Reads the holdings through ``view`` (which keeps what this decision already
        planned); nothing in the book changes.
        """
        track = self._tracks[storage.storage_id]
        bound = bisect.bisect_right(track.scr_ends, before)  # SCRs that ended by then
        method = storage.allocation_method
        if method is AllocationMethod.WEIGHTED_AVERAGE:
            return weighted_take(view, need, bound)
        return take_in_order(view, need, bound, newest_first=method is AllocationMethod.LIFO)

    def _require_losses_known(self, storage: StorageDevice, before: _dt.datetime) -> None:
        track = self._tracks[storage.storage_id]
        if track.pending_losses:
            first = self._scrs[track.scr_ids[next(iter(track.pending_losses))]]
            if first.charging_end <= before:
                raise _refuse(
                    ErrorCode.LOSSES_NOT_CALCULATED,
                    "storage_id",
                    f"SCR {first.scr_id} has no losses yet: set an efficiency factor first",
                )

    def _plan_method(
        self,
        storage: StorageDevice,
        sdrs: list[StorageDischargeRecord],
        effects: list[Any],
    ) -> list[tuple[str, str, int]]:
        track = self._tracks[storage.storage_id]
        view = track.holdings.view()  # the batch's own allocations are planned in the view
        done: list[tuple[str, str, int]] = []
        for sdr in sorted(sdrs, key=lambda r: r.discharging_start):
            self._require_losses_known(storage, sdr.discharging_start)
            for position, wh in self._plan_take(
                storage, sdr.unallocated_wh, sdr.discharging_start, view
            ):
                scr_id = track.scr_ids[position]
                view.set(position, view.value(position) - wh)
                effects.append(Allocated(scr_id, sdr.sdr_id, wh))
                done.append((scr_id, sdr.sdr_id, wh))
        return done

    def _decide_allocate(self, cmd: AllocateStorage, now: _dt.datetime) -> Decision:
        storage = self._storage(cmd.storage_id)
        self._require_operator_or_issuer(cmd.actor, storage)
        if not isinstance(cmd.sdr_ids, tuple) or not cmd.sdr_ids:
            raise _refuse(ErrorCode.INVALID_FIELD, "sdr_ids", "name one or more SDRs")
        sdrs: dict[str, StorageDischargeRecord] = {}
        for sdr_id in cmd.sdr_ids:
            sdr = self._sdr(sdr_id, "sdr_ids")
            if sdr.storage_id != storage.storage_id:
                raise _refuse(
                    ErrorCode.UNKNOWN_STORAGE_RECORD,
                    "sdr_ids",
                    f"SDR {sdr.sdr_id} belongs to {sdr.storage_id!r}",
                )
            self._require_unused(sdr, "sdr_ids")
            sdrs[sdr.sdr_id] = sdr
        discretion = storage.allocation_method is AllocationMethod.OPERATOR_DISCRETION
        if discretion != (cmd.allocations is not None):
            raise _refuse(
                ErrorCode.ALLOCATION_NOT_EXPLICIT,
                "allocations",
                f"{storage.storage_id!r} allocates by {storage.allocation_method.name}: "
                + ("list the allocations" if discretion else "the registry decides them"),
            )
        effects: list[Any] = []
        if not discretion:
            return AllocationResult(
                tuple(self._plan_method(storage, list(sdrs.values()), effects))
            ), effects
        assert cmd.allocations is not None
        scr_left: dict[str, int] = {}
        sdr_left = {sdr_id: sdr.unallocated_wh for sdr_id, sdr in sdrs.items()}
        done: list[tuple[str, str, int]] = []
        for index, entry in enumerate(cmd.allocations):
            field = f"allocations[{index}]"
            if not isinstance(entry, tuple) or len(entry) != 3:
                raise _refuse(ErrorCode.INVALID_FIELD, field, "expected (scr_id, sdr_id, wh)")
            scr_id, sdr_id, wh = entry
            scr = self._scr(scr_id, field)
            if scr.storage_id != storage.storage_id:
                raise _refuse(ErrorCode.UNKNOWN_STORAGE_RECORD, field, f"SCR {scr_id} is not here")
            if sdr_id not in sdrs:
                raise _refuse(ErrorCode.INVALID_FIELD, field, f"{sdr_id!r} is not in sdr_ids")
            parse_quantity(wh, field)
            if scr.loss_wh is None:
                raise _refuse(
                    ErrorCode.LOSSES_NOT_CALCULATED, field, f"SCR {scr_id} has no losses yet"
                )
            sdr = sdrs[sdr_id]
            if scr.charging_end > sdr.discharging_start:
                raise _refuse(
                    ErrorCode.ALLOCATION_BEFORE_CHARGE,
                    field,
                    f"SCR {scr_id} ends after SDR {sdr_id} starts",
                )
            have = scr_left.get(scr_id, scr.remaining_wh)
            if wh > have:
                raise _refuse(
                    ErrorCode.ALLOCATION_EXCEEDS_CHARGE,
                    field,
                    f"SCR {scr_id} holds {have} Wh net of losses and earlier allocations",
                )
            if wh > sdr_left[sdr_id]:
                raise _refuse(
                    ErrorCode.ALLOCATION_EXCEEDS_DISCHARGE,
                    field,
                    f"SDR {sdr_id} needs only {sdr_left[sdr_id]} Wh more",
                )
            scr_left[scr_id] = have - wh
            sdr_left[sdr_id] -= wh
            effects.append(Allocated(scr_id, sdr_id, wh))
            done.append((scr_id, sdr_id, wh))
        return AllocationResult(tuple(done)), effects

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
        first = reg.issuance_record(sources[0].gc_issuance_id)
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

    # ------------------------------------------------------------ the one place state changes

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


def _enum(kind: type[enum.Enum], value: object, field: str) -> Any:
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return kind[value]
    except (KeyError, TypeError):
        names = ", ".join(m.name for m in kind)
        raise _refuse(ErrorCode.INVALID_FIELD, field, f"{value!r} is not one of {names}") from None


def storage_book(registry: Registry) -> StorageBook:
    """The factory :func:`standard_books` returns for the storage book."""
    return StorageBook(registry)


# ================================================================ plain forms (API field names)


def scr_to_plain(scr: StorageChargeRecord) -> dict[str, Any]:
    first = scr.sources[0] if scr.sources else None
    return {
        "scr_allocation_id": scr.scr_id,
        "device_id": scr.storage_id,
        "account_id": scr.account_id,
        "charging_start_datetime": _ts(scr.charging_start),
        "charging_end_datetime": _ts(scr.charging_end),
        "charging_energy": scr.charging_energy,
        "charging_energy_source": scr.charging_energy_source,
        "gc_issuance_id": None if first is None else first.gc_issuance_id,
        "granular_certificate_certificate_bundle_id_range_start": None
        if first is None
        else first.range_start,
        "granular_certificate_certificate_bundle_id_range_end": None
        if first is None
        else first.range_end,
        "scr_geographic_matching_method": scr.scr_geographic_matching_method,
        "sdr_allocation_id": scr.allocations[0][0] if scr.allocations else None,
        "sources": [
            {
                "gc_issuance_id": s.gc_issuance_id,
                "granular_certificate_certificate_bundle_id_range_start": s.range_start,
                "granular_certificate_certificate_bundle_id_range_end": s.range_end,
                "energy_source": s.energy_source,
                "scr_geographic_matching_method": s.geographic_matching,
            }
            for s in scr.sources
        ],
        "loss_wh": scr.loss_wh,
        "allocated_wh": scr.allocated_wh,
        "allocations": [{"sdr_allocation_id": d, "wh": wh} for d, wh in scr.allocations],
        "archived": scr.archived,
    }


def sdr_to_plain(sdr: StorageDischargeRecord, book: StorageBook) -> dict[str, Any]:
    scrs = [book._scrs[i] for i in dict.fromkeys(i for i, _ in sdr.allocations)]
    sources = [scr.charging_energy_source for scr in scrs]
    return {
        "sdr_allocation_id": sdr.sdr_id,
        "device_id": sdr.storage_id,
        "account_id": sdr.account_id,
        "discharging_start_datetime": _ts(sdr.discharging_start),
        "discharging_end_datetime": _ts(sdr.discharging_end),
        "discharge_energy": sdr.discharge_energy,
        "charging_energy_source": _join(s for s in sources if s),
        # D7: the SDR records the geographic-matching type; the SCR's attributes copy to it,
        # so it is that of the input GCs' cancellations (None while nothing is allocated)
        "sdr_geographic_matching_method": _join(
            m for m in (scr.scr_geographic_matching_method for scr in scrs) if m
        ),
        "scr_allocation_methodology": sdr.scr_allocation_methodology.name,
        "efficiency_factor_methodology": sdr.efficiency_factor_methodology.name,
        "scr_allocation_id": sdr.allocations[0][0] if sdr.allocations else None,
        "allocations": [{"scr_allocation_id": s, "wh": wh} for s, wh in sdr.allocations],
        "sd_gc_issuance_id": sdr.sd_gc_issuance_id,
        "unknown_beneficiary": sdr.unknown_beneficiary,
        "archived": sdr.archived,
    }


__all__ = [
    "AllocateStorage",
    "Allocated",
    "AllocationResult",
    "AssignUnknownBeneficiary",
    "CancelForCharge",
    "ChangeStorageAllocationMethod",
    "ChargeCovered",
    "ChargeRecorded",
    "ChargeSource",
    "ClaimTimeShift",
    "DischargeRecorded",
    "EfficiencyFactor",
    "EfficiencyFactorSet",
    "IdleRecorded",
    "IssueStorageGC",
    "LossAttributed",
    "RegisterStorage",
    "SetEfficiencyFactor",
    "StorageBook",
    "StorageChargeRecord",
    "StorageDevice",
    "StorageDischargeRecord",
    "StorageGCIssued",
    "StorageGCResult",
    "StoragePool",
    "StorageRecordResult",
    "StorageRegistered",
    "StorageStatus",
    "SubmitStorageData",
    "TimeShiftClaimed",
    "TimeShiftResult",
    "UnknownBeneficiaryAssigned",
    "scr_to_plain",
    "sdr_to_plain",
    "storage_book",
]
