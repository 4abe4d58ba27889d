"""The storage book's state, its reads and the checks every storage decider shares.

The book is split by concept into mixins (registration and data, charges and losses,
allocation, SD-GCs, appliers); this base holds what they all stand on: the dictionaries
of records, the per-system tracks, the public reads and the existence/role refusals.
Methods one mixin calls on another are declared here for the type checker only.
"""

from __future__ import annotations

import datetime as _dt
import enum
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from gc_conformance.reference.allocation import Holdings, HoldingsView
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.storage.effects import TimeShiftClaimed
from gc_conformance.reference.storage.records import (
    EfficiencyFactor,
    StorageChargeRecord,
    StorageDevice,
    StorageDischargeRecord,
    StoragePool,
    StorageStatus,
)

if TYPE_CHECKING:
    from gc_conformance.reference.registry import Registry


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


class _StorageBookCore:
    """State, reads and shared refusals of :class:`StorageBook` (composed there)."""

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

    if TYPE_CHECKING:  # defined by _AllocationDecisions; called by the data and SD-GC mixins

        def _plan_take(
            self,
            storage: StorageDevice,
            need: int,
            before: _dt.datetime,
            view: HoldingsView,
        ) -> list[tuple[int, int]]: ...

        def _plan_method(
            self,
            storage: StorageDevice,
            sdrs: list[StorageDischargeRecord],
            effects: list[Any],
        ) -> list[tuple[str, str, int]]: ...


def _enum(kind: type[enum.Enum], value: object, field: str) -> Any:
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return kind[value]
    except (KeyError, TypeError):
        names = ", ".join(m.name for m in kind)
        raise _refuse(ErrorCode.INVALID_FIELD, field, f"{value!r} is not one of {names}") from None
