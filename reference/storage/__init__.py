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

The package holds one concept per module: ``records``, ``commands`` (with the results),
``effects``, ``plain`` (API field names), and the book, :class:`StorageBook`, composed here
from private mixins: ``_core`` (state, reads, shared refusals), ``_data`` (registration and
metering data), ``_charging`` (GC -> SCR, efficiency factor), ``_allocation`` (SCR -> SDR),
``_sd_gc`` (SD-GC issuance, unknown beneficiary, time shift) and ``_appliers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gc_conformance.reference.storage._allocation import _AllocationDecisions
from gc_conformance.reference.storage._appliers import _Appliers
from gc_conformance.reference.storage._charging import _ChargeDecisions
from gc_conformance.reference.storage._core import _StorageBookCore
from gc_conformance.reference.storage._data import _DataDecisions
from gc_conformance.reference.storage._sd_gc import _SdGcDecisions
from gc_conformance.reference.storage.commands import (
    AllocateStorage,
    AllocationResult,
    AssignUnknownBeneficiary,
    CancelForCharge,
    ChangeStorageAllocationMethod,
    ClaimTimeShift,
    IssueStorageGC,
    RegisterStorage,
    SetEfficiencyFactor,
    StorageGCResult,
    StorageRecordResult,
    SubmitStorageData,
    TimeShiftResult,
)
from gc_conformance.reference.storage.effects import (
    STORAGE_EFFECT_TYPES,
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
from gc_conformance.reference.storage.plain import scr_to_plain, sdr_to_plain
from gc_conformance.reference.storage.records import (
    ChargeSource,
    EfficiencyFactor,
    StorageChargeRecord,
    StorageDevice,
    StorageDischargeRecord,
    StoragePool,
    StorageStatus,
)

if TYPE_CHECKING:
    from gc_conformance.reference.registry import Decider, Registry


class StorageBook(
    _DataDecisions,
    _ChargeDecisions,
    _AllocationDecisions,
    _SdGcDecisions,
    _Appliers,
    _StorageBookCore,
):
    """The storage part of a registry's state (D7). Changes only in :meth:`apply`."""

    effect_types = STORAGE_EFFECT_TYPES

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


def storage_book(registry: Registry) -> StorageBook:
    """The factory :func:`standard_books` returns for the storage book."""
    return StorageBook(registry)


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
