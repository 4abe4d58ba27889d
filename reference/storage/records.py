"""The storage book's records (D6, D7): storage systems, charge and discharge records, the pool.

Frozen values only: the book keeps them in its dictionaries and replaces a record
(``attrs.evolve``) when an effect changes it, so a record read once never changes under
its reader.
"""

from __future__ import annotations

import datetime as _dt
import enum
from fractions import Fraction
from typing import Any

import attrs

from gc_conformance.reference.allocation import AllocationLog, AllocationMethod, allocation_log
from gc_conformance.reference.entities import Location
from gc_conformance.reference.losses import LossMethod


class StorageStatus(enum.Enum):
    CHARGING = "energy went into the store (makes an SCR)"
    DISCHARGING = "energy came out of the store (makes an SDR)"
    IDLE = "neither; carries the state of charge only (self-discharge)"


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
