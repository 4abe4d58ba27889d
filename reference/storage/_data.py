"""Registering a storage system and recording its metered intervals (D6 storage data).

These deciders make the records everything else reads: the storage system with its
fixed methods, and per interval an SCR, an SDR or an idle reading of the state of
charge, with the charge and self-discharge losses known at that moment.
"""

from __future__ import annotations

import datetime as _dt
import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from gc_conformance.reference.allocation import AllocationMethod
from gc_conformance.reference.commands import RegisterDevice
from gc_conformance.reference.entities import Device, require_text
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.losses import (
    LossMethod,
    as_fraction,
    interval_losses,
    net_after_factor,
)
from gc_conformance.reference.policies import parse_energy
from gc_conformance.reference.storage._core import _enum, _refuse, _StorageBookCore
from gc_conformance.reference.storage.commands import (
    ChangeStorageAllocationMethod,
    RegisterStorage,
    StorageRecordResult,
    SubmitStorageData,
)
from gc_conformance.reference.storage.effects import (
    ChargeRecorded,
    DischargeRecorded,
    IdleRecorded,
    LossAttributed,
    StorageRegistered,
)
from gc_conformance.reference.storage.records import (
    StorageChargeRecord,
    StorageDevice,
    StorageDischargeRecord,
    StorageStatus,
)
from gc_conformance.reference.timestamps import format_timestamp, production_interval

if TYPE_CHECKING:
    from gc_conformance.reference.registry import Decision


class _DataDecisions(_StorageBookCore):
    """Deciders of ``RegisterStorage``, ``ChangeStorageAllocationMethod`` and ``SubmitStorageData``."""

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
