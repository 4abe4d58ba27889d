"""Planning the GCs of one metered hour against the EACs that cover it.

The checks every linked request starts with (coordination, the mandate, the
same device on both sides) and the drawing of EAC energy under the monthly
cap and suspension policies: #2 and #3 issuance and corrections all plan an
hour here.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from gc_conformance.reference.configurations._common import _capped_by_eacs, _refuse
from gc_conformance.reference.configurations._effects import HourSuspended
from gc_conformance.reference.configurations._policies import HourSuspension, MonthlyCap
from gc_conformance.reference.configurations._state import _LinkBookState
from gc_conformance.reference.eac import Eac
from gc_conformance.reference.effects import DebtChanged, ReadingRecognised
from gc_conformance.reference.entities import Device
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.policies import parse_energy
from gc_conformance.reference.timestamps import Interval, production_interval


class _HourPlanning(_LinkBookState):
    """Shared checks and the per-hour issuance planning of linked requests."""

    # ---- shared checks

    def _preamble(self, configuration: int) -> None:
        if not self._coordinating:
            raise _refuse(
                ErrorCode.NOT_COORDINATED,
                "command",
                "linked requests go through LinkedRegistries, which decides both registries",
            )
        issuer = self._registry.issuer
        if issuer.configuration != configuration:
            raise _refuse(
                ErrorCode.WRONG_CONFIGURATION,
                "command",
                f"a configuration #{configuration} request sent to a #{issuer.configuration} registry",
            )
        if self.eac.body.mandates_configuration_1:
            raise _refuse(
                ErrorCode.CONFIGURATION_MANDATED,
                "device_id",
                f"{self.eac.body.body_id!r} runs configuration #1 under a government mandate: "
                f"#{configuration} GCs may not be offered to its producers",
            )

    def _same_device(self, device_id: object, meter_id: object) -> Device:
        device = self._registry.known_device(device_id)
        eac_device = self.eac.device(device.device_id)
        if eac_device is None:
            raise _refuse(
                ErrorCode.EAC_DEVICE_MISMATCH,
                "device_id",
                f"{device.device_id!r} is not registered with the EAC Issuing Body",
            )
        if meter_id != device.meter_id or meter_id != eac_device.meter_id:
            raise _refuse(
                ErrorCode.METER_MISMATCH,
                "meter_id",
                f"{meter_id!r} is not the meter of {device.device_id!r} in both registries",
            )
        return device

    def _hour(self, device: Device, start: object, end: object, energy: object, now: Any) -> Any:
        interval = production_interval(start, end)
        metered = parse_energy(energy, "energy_wh")
        self._registry.check_ended(interval, now)
        self._registry.check_still_valid(interval, now)
        self._registry.check_fresh_interval(device, interval)
        self._registry.check_capacity(device, interval, metered)
        return interval, metered

    def _available(self, eac: Eac, taken: Mapping[str, int]) -> int:
        used = self._linked_wh.get(eac.eac_id, 0) + taken.get(eac.eac_id, 0)
        if self.policies.monthly_cap is MonthlyCap.WHOLE_EACS and used:
            return 0
        return eac.face_value_wh - used

    def _draw(
        self, eacs: Sequence[Eac], wanted: int, taken: dict[str, int]
    ) -> tuple[int, tuple[tuple[str, int], ...]]:
        """Apply the suspension policy; returns (Wh to issue, links) and updates ``taken``."""
        coverage = sum(self._available(e, taken) for e in eacs)
        if wanted <= coverage:
            issue = wanted
        elif self.policies.suspension is HourSuspension.REFUSE:
            raise _refuse(
                ErrorCode.EXCEEDS_EAC_ENERGY,
                "energy_wh",
                f"{wanted} Wh asked for but the EACs behind it have {coverage} Wh left",
            )
        elif self.policies.suspension is HourSuspension.SUSPEND_UNCOVERED_PART:
            issue = coverage
        else:
            issue = 0
        links: list[tuple[str, int]] = []
        left = issue
        for eac in eacs:
            if left == 0:
                break
            share = min(left, self._available(eac, taken))
            if share <= 0:
                continue
            links.append((eac.eac_id, share))
            taken[eac.eac_id] = taken.get(eac.eac_id, 0) + share
            left -= share
        return issue, tuple(links)

    def _plan_hour(
        self,
        device: Device,
        interval: Interval,
        metered: Any,
        eacs: Sequence[Eac],
        taken: dict[str, int],
        now: _dt.datetime,
        effects: list[Any],
        *,
        account_id: str | None,
        transferable: bool,
        beneficiary: str | None,
        consumption_location: str | None,
    ) -> tuple[int | None, int | None, int, int, tuple[tuple[str, int], ...]]:
        """One metered hour through the link: D10 deductions first, then the EACs' cover."""
        registry = self._registry
        face_wh = registry.policies.rounding.apply(metered)
        deducted = 0
        if not any(isinstance(e, DebtChanged) for e in effects):  # one request, one settlement
            deducted = registry.plan_deductions(
                device.device_id, interval.start.hour, face_wh, effects
            )
        wanted = face_wh - deducted
        issue, links = self._draw(eacs, wanted, taken)
        issuance_id = bundle_id = None
        if issue:
            expiry, own_from = _capped_by_eacs(registry.validity_bounds(interval.end), eacs, links)
            result = registry.plan_issuance(
                device,
                interval,
                issue,
                now,
                effects,
                account_id=account_id,
                deducted=deducted,
                attributes={
                    "expiry": expiry,
                    "own_hour_only_from": own_from,
                    "eac_ids": tuple(e for e, _ in links),
                    "transferable": transferable,
                },
            )
            issuance_id, bundle_id = result.issuance_id, result.bundle_id
            assert issuance_id is not None and bundle_id is not None
            effects.extend(
                self._link_effects(
                    issuance_id, bundle_id, links, beneficiary, consumption_location, interval, now
                )
            )
        if issue < wanted:
            effects.append(
                HourSuspended(
                    device.device_id,
                    interval.start,
                    interval.end,
                    wanted,
                    issue,
                    wanted - issue,
                )
            )
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                face_wh,
                str(metered),
                device.meter_id,
                device.gross_or_net.name,
                None,  # the linked path rounds each reading on its own, carrying nothing
                registry.policies.rounding.name,
            )
        )
        return issuance_id, bundle_id, issue, wanted - issue, links
