"""Allocating stored charge to discharges (SCR -> SDR) by the system's fixed method.

The planners here walk the pool (FIFO, LIFO or weighted) on a view of the holdings, so a
decision plans a whole batch without changing the book; the data and SD-GC deciders
reuse them for pool losses and for closing an SDR.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from typing import TYPE_CHECKING, Any

from gc_conformance.reference.allocation import (
    AllocationMethod,
    HoldingsView,
    take_in_order,
    weighted_take,
)
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.policies import parse_quantity
from gc_conformance.reference.storage._core import _refuse, _StorageBookCore
from gc_conformance.reference.storage.commands import AllocateStorage, AllocationResult
from gc_conformance.reference.storage.effects import Allocated
from gc_conformance.reference.storage.records import StorageDevice, StorageDischargeRecord

if TYPE_CHECKING:
    from gc_conformance.reference.registry import Decision


class _AllocationDecisions(_StorageBookCore):
    """The SCR -> SDR planners and the decider of ``AllocateStorage``."""

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
