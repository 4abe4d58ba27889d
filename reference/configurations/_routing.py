"""Routing an upward production correction through the EAC link (D10 with D3).

A correction that issues more certificates is, in a linked registry, an
issuance like any other: it must draw on the EACs of its hour. This takes
the core decision's ``Issued`` effect and re-plans it with links.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from gc_conformance.reference.bundles import BundleStatus, Cancellation, CancellationPurpose
from gc_conformance.reference.commands import CorrectProduction
from gc_conformance.reference.configurations._common import _capped_by_eacs, _refuse
from gc_conformance.reference.configurations._effects import GcLinked, HourSuspended
from gc_conformance.reference.configurations._state import _LinkBookState
from gc_conformance.reference.eac import Eac, EacStatus
from gc_conformance.reference.effects import Issued, StatusChanged
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.history import CorrectionResult, IssuanceResult
from gc_conformance.reference.timestamps import Interval


class _CorrectionRouting(_LinkBookState):
    """Re-planning a correction's issuance so that it is linked to EACs."""

    def _routed_correction(self, decide: Any) -> Any:
        def decide_correction(cmd: CorrectProduction, now: _dt.datetime) -> Any:
            """D10 upward correction: the difference is issued through the link, like an hour."""
            value, effects = decide(cmd, now)
            index = next((i for i, e in enumerate(effects) if isinstance(e, Issued)), None)
            if index is None:
                return value, effects
            return self._route_issued(value, list(effects), index, now)

        return decide_correction

    def _route_issued(
        self, value: CorrectionResult, effects: list[Any], index: int, now: _dt.datetime
    ) -> Any:
        registry = self._registry
        issued: Issued = effects[index]
        issuance = issued.issuance
        interval = Interval(issuance.production_start, issuance.production_end)
        beneficiary: str | None = None
        location: str | None = None
        transferable = True
        if registry.issuer.configuration == 2:
            device = registry.device(issuance.device_id)
            assert device is not None
            eacs = self._eligible_eacs(device.device_id, interval, registry.issuer.issuer_id, now)
        else:
            prior = [
                i
                for i in registry.issuances_of_reading(issuance.device_id, interval.start)
                if i in self._beneficiaries
            ]
            if not prior:
                raise _refuse(
                    ErrorCode.NO_UNDERLYING_EAC,
                    "interval",
                    f"no cancelled EACs back {issuance.device_id!r} over {interval}",
                )
            beneficiary = self._beneficiaries[prior[0]]
            ids: list[str] = []
            for i in prior:
                ids.extend(e for e, _ in self._links[i] if e not in ids)
            eacs = [e for e in (self.eac.eac(i) for i in ids) if e is not None]
            location = eacs[0].consumption_location if eacs else None
            transferable = False
            first = registry.issuance(prior[0])
            assert first is not None
            issuance = attrs.evolve(issuance, account_id=first.account_id)
        wanted = issuance.quantity
        issue, links = self._draw(eacs, wanted, {})
        replacement: list[Any] = []
        result = value.issued
        assert result is not None
        if issue:
            expiry, own_from = _capped_by_eacs(
                (issuance.expiry, issuance.own_hour_only_from), eacs, links
            )
            routed = attrs.evolve(
                issuance,
                range_end=issuance.range_start + issue - 1,
                expiry=expiry,
                own_hour_only_from=own_from,
                eac_ids=tuple(e for e, _ in links),
                transferable=transferable,
            )
            replacement.append(Issued(routed, issued.bundle_id))
            replacement.extend(
                self._link_effects(
                    routed.issuance_id,
                    issued.bundle_id,
                    links,
                    beneficiary,
                    location,
                    interval,
                    now,
                )
            )
            result = IssuanceResult(routed.issuance_id, issued.bundle_id, issue, result.deducted_wh)
        else:
            result = IssuanceResult(None, None, 0, result.deducted_wh)
        if issue < wanted:
            replacement.append(
                HourSuspended(
                    issuance.device_id, interval.start, interval.end, wanted, issue, wanted - issue
                )
            )
        effects[index : index + 1] = replacement
        return attrs.evolve(value, issued=result), effects

    def _link_effects(
        self,
        issuance_id: int,
        bundle_id: int,
        links: tuple[tuple[str, int], ...],
        beneficiary: str | None,
        location: str | None,
        interval: Interval,
        now: _dt.datetime,
    ) -> list[Any]:
        registry = self._registry
        made: list[Any] = [
            GcLinked(
                issuance_id,
                registry.issuer.issuer_id,
                registry.issuer.configuration,
                links,
                beneficiary,
            )
        ]
        if beneficiary is not None:
            cancellation = Cancellation(
                beneficiary,
                CancellationPurpose.CONSUMPTION,
                now,
                interval.start,
                interval.end,
                location,
            )
            made.append(  # #3: cancelled at issuance for the EAC's beneficiary
                StatusChanged(
                    bundle_id,
                    BundleStatus.ACTIVE,
                    BundleStatus.CANCELLED,
                    cancellation=cancellation,
                )
            )
        return made

    def _eligible_eacs(
        self, device_id: str, interval: Interval, gc_issuer_id: str, now: _dt.datetime
    ) -> list[Eac]:
        """#2: the device's EACs for the hour still free, or already backing this Issuer."""
        eac_device = self.eac.device(device_id)
        if eac_device is None:
            return []
        return [
            e
            for e in self.eac.eacs_covering(device_id, interval)
            if now < e.expiry
            and (
                (e.status is EacStatus.ACTIVE and e.account_id == eac_device.account_id)
                or (e.status is EacStatus.BACKING_GC and e.gc_issuer_id == gc_issuer_id)
            )
        ]
