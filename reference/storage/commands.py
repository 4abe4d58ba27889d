"""The storage requests (D7) and what the registry answers when one is accepted.

A command says what a caller asks for and nothing about how it is decided; a result is
the small answer a decider returns beside its effects. Both are frozen, so a command
can be replayed from the action log as it was sent.
"""

from __future__ import annotations

import attrs

from gc_conformance.reference.commands import Stamp
from gc_conformance.reference.entities import Device
from gc_conformance.reference.policies import EnergyInput


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
