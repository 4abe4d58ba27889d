"""Deciding the configuration #2 requests: linked issuance, linked cancellation, conversion.

A GC platform beside an EAC registry issues GCs only from EAC-backed hours,
cancels them together with their EACs and converts EACs by export; these are
the book's own deciders for that configuration.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gc_conformance.reference.commands import Cancel
from gc_conformance.reference.configurations._commands import (
    CancelLinkedGcs,
    ConvertEacs,
    IssueLinkedGcs,
)
from gc_conformance.reference.configurations._common import _refuse
from gc_conformance.reference.configurations._effects import LinkedCancellation, LinkedIssuance
from gc_conformance.reference.configurations._state import _LinkBookState
from gc_conformance.reference.eac import EacBackGcs, EacCancelForGcs, EacExport, EacStatus
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.timestamps import Interval


class _Config2Decisions(_LinkBookState):
    """Deciders of ``IssueLinkedGcs``, ``CancelLinkedGcs`` and ``ConvertEacs``."""

    # ---- #2

    def _decide_issue_linked(self, cmd: IssueLinkedGcs, now: _dt.datetime) -> Any:
        self._preamble(2)
        self._registry.require_issuer(cmd.actor)
        if not self.eac.is_appointed(cmd.actor) or self.eac.account_of(cmd.actor) is None:
            raise _refuse(
                ErrorCode.GC_ISSUER_NOT_APPOINTED,
                "actor",
                f"{cmd.actor!r} must be appointed by, and hold an account with, "
                f"{self.eac.body.body_id!r}",
            )
        device = self._same_device(cmd.device_id, cmd.meter_id)
        interval, metered = self._hour(device, cmd.start, cmd.end, cmd.energy_wh, now)
        if not self.eac.has_period_covering(device.device_id, interval):
            raise _refuse(
                ErrorCode.NO_UNDERLYING_EAC,
                "interval",
                f"no EAC production period of {device.device_id!r} contains {interval}",
            )
        eacs = self._eligible_eacs(device.device_id, interval, cmd.actor, now)
        effects: list[Any] = []
        iid, bid, issued, suspended, links = self._plan_hour(
            device,
            interval,
            metered,
            eacs,
            {},
            now,
            effects,
            account_id=None,
            transferable=True,
            beneficiary=None,
            consumption_location=None,
        )
        request = EacBackGcs(cmd.actor, tuple(e for e, _ in links)) if links else None
        value = LinkedIssuance(
            () if iid is None else (iid,),
            () if bid is None else (bid,),
            issued,
            suspended,
            links,
            request,
        )
        return value, effects

    def _decide_cancel_linked(self, cmd: CancelLinkedGcs, now: _dt.datetime) -> Any:
        self._preamble(2)
        registry = self._registry
        bundle = registry.current_bundle(cmd.bundle_id)
        eac_ids = tuple(e for e, _ in self._links.get(bundle.issuance_id, ()))
        if not eac_ids:
            raise _refuse(
                ErrorCode.NO_UNDERLYING_EAC,
                "bundle_id",
                f"bundle {bundle.bundle_id} is not backed by EACs of this platform",
            )
        result, effects = registry.decide_cancel(
            Cancel(cmd.actor, cmd.bundle_id, cmd.beneficiary, quantity=cmd.quantity), now
        )
        request = EacCancelForGcs(registry.issuer.issuer_id, eac_ids)
        return LinkedCancellation(result, eac_ids, request), effects

    def _decide_convert(self, cmd: ConvertEacs, now: _dt.datetime) -> Any:
        self._preamble(2)
        device = self._same_device(cmd.device_id, cmd.meter_id)
        account = self._registry.known_account(cmd.account_id, "account_id")
        if account.holder_id != cmd.actor:
            raise _refuse(ErrorCode.NOT_OWNER, "account_id", f"{cmd.actor!r} does not hold it")
        if not isinstance(cmd.hours, tuple | list) or not cmd.hours:
            raise _refuse(ErrorCode.INVALID_FIELD, "hours", "give at least one metered hour")
        eacs = self._named_eacs(cmd.eac_ids)
        for eac in eacs:
            if eac.device_id != device.device_id:
                raise _refuse(
                    ErrorCode.EAC_DEVICE_MISMATCH,
                    "eac_ids",
                    f"EAC {eac.eac_id} is another device's",
                )
            if eac.status is not EacStatus.ACTIVE:  # the EAC registry decides the rest
                raise _refuse(
                    ErrorCode.EAC_NOT_ACTIVE, "eac_ids", f"EAC {eac.eac_id} is {eac.status.name}"
                )
        effects: list[Any] = []
        taken: dict[str, int] = {}
        seen: list[Interval] = []
        iids: list[int] = []
        bids: list[int] = []
        links: list[tuple[str, int]] = []
        issued_total = suspended_total = 0
        for entry in cmd.hours:
            if not isinstance(entry, tuple | list) or len(entry) != 3:
                raise _refuse(ErrorCode.INVALID_FIELD, "hours", "each hour is (start, end, Wh)")
            interval, metered = self._hour(device, entry[0], entry[1], entry[2], now)
            if any(other.overlaps(interval) for other in seen):
                raise _refuse(ErrorCode.DUPLICATE_ISSUANCE, "hours", f"{interval} given twice")
            seen.append(interval)
            if not all(e.production_period.contains(interval) for e in eacs):
                raise _refuse(
                    ErrorCode.OUTSIDE_EAC_PERIOD, "hours", f"{interval} is outside the EACs' period"
                )
            iid, bid, issued, suspended, hour_links = self._plan_hour(
                device,
                interval,
                metered,
                eacs,
                taken,
                now,
                effects,
                account_id=account.account_id,
                transferable=True,
                beneficiary=None,
                consumption_location=None,
            )
            if iid is not None and bid is not None:
                iids.append(iid)
                bids.append(bid)
            links.extend(hour_links)
            issued_total += issued
            suspended_total += suspended
        request = EacExport(
            cmd.actor, tuple(e.eac_id for e in eacs), self._registry.issuer.issuer_id
        )
        value = LinkedIssuance(
            tuple(iids), tuple(bids), issued_total, suspended_total, tuple(links), request
        )
        return value, effects
