"""Deciding the configuration #3 request: GCs from EACs already cancelled for a beneficiary.

Kept apart from #2 because the rules differ: the EACs are named, must be
cancelled for one beneficiary, and the GCs are issued non-transferable and
cancelled for that beneficiary at once.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gc_conformance.reference.configurations._commands import IssueFromCancelledEacs
from gc_conformance.reference.configurations._common import _refuse
from gc_conformance.reference.configurations._effects import LinkedIssuance
from gc_conformance.reference.configurations._state import _LinkBookState
from gc_conformance.reference.eac import Eac, EacLinkCancelled, EacStatus
from gc_conformance.reference.errors import ErrorCode


class _Config3Decisions(_LinkBookState):
    """Decider of ``IssueFromCancelledEacs``."""

    # ---- #3

    def _named_eacs(self, eac_ids: object) -> list[Eac]:
        if (
            not isinstance(eac_ids, tuple | list)
            or not eac_ids
            or not all(isinstance(e, str) for e in eac_ids)
            or len(set(eac_ids)) != len(eac_ids)
        ):
            raise _refuse(ErrorCode.INVALID_FIELD, "eac_ids", "give distinct EAC IDs")
        found = []
        for eac_id in eac_ids:
            eac = self.eac.eac(eac_id)
            if eac is None:
                raise _refuse(ErrorCode.UNKNOWN_EAC, "eac_ids", f"no EAC {eac_id!r}")
            found.append(eac)
        return found

    def _decide_issue_from_cancelled(self, cmd: IssueFromCancelledEacs, now: _dt.datetime) -> Any:
        self._preamble(3)
        registry = self._registry
        registry.require_issuer(cmd.actor)
        if not isinstance(cmd.beneficiary, str) or not cmd.beneficiary.strip():
            raise _refuse(ErrorCode.INVALID_FIELD, "beneficiary", "a beneficiary must be named")
        device = self._same_device(cmd.device_id, cmd.meter_id)
        account = registry.known_account(cmd.account_id, "account_id")
        interval, metered = self._hour(device, cmd.start, cmd.end, cmd.energy_wh, now)
        eacs = self._named_eacs(cmd.eac_ids)
        locations = set()
        for eac in eacs:
            if eac.status is not EacStatus.CANCELLED or eac.beneficiary is None:
                raise _refuse(
                    ErrorCode.EAC_NOT_CANCELLED,
                    "eac_ids",
                    f"EAC {eac.eac_id} is {eac.status.name}, not cancelled for a beneficiary",
                )
            if eac.gc_issuer_id not in (None, cmd.actor):
                raise _refuse(
                    ErrorCode.EAC_LINKED_ELSEWHERE,
                    "eac_ids",
                    f"EAC {eac.eac_id} already has GC Issuer {eac.gc_issuer_id!r}",
                )
            if eac.beneficiary != cmd.beneficiary:
                raise _refuse(
                    ErrorCode.BENEFICIARY_MISMATCH,
                    "beneficiary",
                    f"EAC {eac.eac_id} was cancelled for {eac.beneficiary!r}",
                )
            if eac.device_id != device.device_id:
                raise _refuse(
                    ErrorCode.EAC_DEVICE_MISMATCH,
                    "eac_ids",
                    f"EAC {eac.eac_id} was issued for {eac.device_id!r}",
                )
            consumption = eac.consumption_period
            if not eac.production_period.contains(interval) or (
                consumption is not None and not consumption.contains(interval)
            ):
                raise _refuse(
                    ErrorCode.OUTSIDE_EAC_PERIOD,
                    "interval",
                    f"{interval} is not within EAC {eac.eac_id}'s production and consumption period",
                )
            locations.add(eac.consumption_location)
        if len(locations) > 1:
            raise _refuse(
                ErrorCode.INVALID_FIELD, "eac_ids", "the EACs name different consumption locations"
            )
        effects: list[Any] = []
        iid, bid, issued, suspended, links = self._plan_hour(
            device,
            interval,
            metered,
            eacs,
            {},
            now,
            effects,
            account_id=account.account_id,
            transferable=False,
            beneficiary=cmd.beneficiary,
            consumption_location=locations.pop(),
        )
        request = EacLinkCancelled(cmd.actor, tuple(e for e, _ in links)) if links else None
        value = LinkedIssuance(
            () if iid is None else (iid,),
            () if bid is None else (bid,),
            issued,
            suspended,
            links,
            request,
        )
        return value, effects
