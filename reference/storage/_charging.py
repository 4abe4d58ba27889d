"""Backing a charge with cancelled GCs (GC -> SCR) and fixing its losses by an efficiency factor.

Both decide what a stored Wh is worth before it can leave the store: which cancelled
GCs stand behind an SCR, and how much of its charge is lost on the way.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from typing import TYPE_CHECKING, Any

from gc_conformance.reference.bundles import BundleStatus, Cancellation, CancellationPurpose
from gc_conformance.reference.effects import StatusChanged
from gc_conformance.reference.entities import require_text
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.losses import (
    LossMethod,
    check_initial_window,
    efficiency_factor,
    net_after_factor,
)
from gc_conformance.reference.storage._core import _refuse, _StorageBookCore
from gc_conformance.reference.storage.commands import CancelForCharge, SetEfficiencyFactor
from gc_conformance.reference.storage.effects import (
    ChargeCovered,
    EfficiencyFactorSet,
    LossAttributed,
)
from gc_conformance.reference.storage.records import ChargeSource, EfficiencyFactor, StorageStatus
from gc_conformance.reference.timestamps import Interval, format_timestamp

if TYPE_CHECKING:
    from gc_conformance.reference.registry import Decision


class _ChargeDecisions(_StorageBookCore):
    """Deciders of ``CancelForCharge`` and ``SetEfficiencyFactor``."""

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
