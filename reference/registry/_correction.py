"""Deciding a production correction (D10): more energy issues, less withdraws or defers.

Kept on its own because it is the one request that reaches back into earlier
issuances: it finds the untouched bundles of a reading, withdraws from them and
records what cannot be withdrawn as a deduction from later issuance.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from decimal import Decimal

from gc_conformance.reference.bundles import Bundle, BundleStatus
from gc_conformance.reference.commands import CorrectProduction
from gc_conformance.reference.effects import DebtChanged, Effect, ReadingRecognised, StatusChanged
from gc_conformance.reference.entities import Device
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.history import CorrectionResult, IssuanceResult
from gc_conformance.reference.policies import CorrectionDeduction, parse_energy
from gc_conformance.reference.registry._contract import _Decision, _Refuse
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.registry._values import _plain_decimal
from gc_conformance.reference.timestamps import Interval, production_interval


class _CorrectionDecisions(_RegistryState):
    """Decider of ``CorrectProduction`` and its upward and downward halves."""

    def _decide_correct_production(self, cmd: CorrectProduction, now: _dt.datetime) -> _Decision:
        interval = production_interval(cmd.start, cmd.end)
        energy = parse_energy(cmd.energy_wh, "energy_wh")
        self._require_issuer(cmd.actor)
        device = self._known_device(cmd.device_id)
        key = (device.device_id, interval.start)
        reading = self._readings.get(key)
        if reading is None or reading.end != interval.end:
            raise _Refuse(
                ErrorCode.UNKNOWN_PRODUCTION,
                "interval",
                f"no production recognised for {device.device_id!r} over {interval}",
            )
        on_record = Decimal(reading.metered)
        if energy > on_record:  # would issue: not for production past its validity (D8)
            self._check_still_valid(interval, now)
        self._check_capacity(device, interval, energy)
        if energy == on_record:
            raise _Refuse(
                ErrorCode.CORRECTION_UNCHANGED,
                "energy_wh",
                f"{energy} Wh is the metered value already on record",
            )
        # The device's running total changes by (energy - on_record): the Wh recognised change
        # by the whole-Wh change of the rounded running total (Rounding.carry), so that a
        # correction below one Wh moves only the carried remainder.
        difference, carried = self.policies.round_reading(
            energy, self.rounding_remainder(device.device_id), replacing=on_record
        )
        effects: list[Effect] = []
        issued: IssuanceResult | None = None
        withdrawn: tuple[int, ...] = ()
        withdrawn_wh = deferred = 0
        prior = self._issuances_of_reading(key)
        if difference > 0:
            issued = self._correct_upwards(device, interval, difference, prior, now, effects)
        elif difference < 0:
            withdrawn, withdrawn_wh, deferred = self._correct_downwards(
                device, interval, -difference, prior, now, effects
            )
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                reading.recognised_wh + difference,
                str(energy),
                reading.meter_id,
                reading.gross_or_net,
                _plain_decimal(carried),
                self._rounded_alone(),
            )
        )
        return CorrectionResult(issued, withdrawn, withdrawn_wh, deferred), effects

    def _correct_upwards(
        self,
        device: Device,
        interval: Interval,
        difference: int,
        prior: Sequence[int],
        now: _dt.datetime,
        effects: list[Effect],
    ) -> IssuanceResult:
        """D10: the difference first settles the device's outstanding deductions, in the order
        a submitted reading of this hour would; only the rest is issued."""
        deducted = self._plan_deductions(device.device_id, interval.start.hour, difference, effects)
        if difference <= deducted:
            return IssuanceResult(None, None, 0, deducted)
        return self._plan_issuance(
            device,
            interval,
            self._next_certificate_id,
            difference - deducted,
            now,
            effects,
            corrects=prior[0] if prior else None,
            deducted=deducted,
        )

    def _correct_downwards(
        self,
        device: Device,
        interval: Interval,
        shortfall: int,
        prior: Sequence[int],
        now: _dt.datetime,
        effects: list[Effect],
    ) -> tuple[tuple[int, ...], int, int]:
        """D10: withdraw the shortfall from certificates not yet used; what cannot be withdrawn
        becomes a debt deducted from later issuance. (withdrawn bundles, their Wh, deferred Wh)"""
        withdrawn: list[int] = []
        withdrawn_wh = 0
        for bundle in self._untouched_bundles(prior, now):
            if shortfall == 0:
                break
            take = min(shortfall, bundle.quantity)
            part, _ = self._carve(bundle, take, effects)
            effects.append(StatusChanged(part, bundle.status, BundleStatus.WITHDRAWN))
            withdrawn.append(part)
            withdrawn_wh += take
            shortfall -= take
        if shortfall:
            same_hour = (
                self.policies.correction_deduction is CorrectionDeduction.SAME_HOUR_OF_DAY_FIRST
            )
            effects.append(
                DebtChanged(
                    device.device_id,
                    self._next_debt_id,
                    interval.start.hour if same_hour else None,
                    shortfall,
                )
            )
        return tuple(withdrawn), withdrawn_wh, shortfall

    def _untouched_bundles(self, issuance_ids: Sequence[int], now: _dt.datetime) -> list[Bundle]:
        """D10's "not yet transferred, cancelled, redeemed or expired" certificates, to withdraw.

        A bundle qualifies if it is live (ACTIVE, or RESERVED/LOCKED: neither
        transferred nor used yet), sits in the account it was issued into, was
        never transferred (not even away and back: ``_transferred`` follows it
        through splits) and is still within its validity (past it, it is
        expired whether or not the sweep has run). ACTIVE bundles come first,
        then reserved and locked ones, each by lowest IDs.
        """
        found = []
        for issuance_id in issuance_ids:
            issuance = self._issuances[issuance_id]
            if now >= issuance.expiry:
                continue
            for bundle_id in self._current_of_issuance(issuance_id):
                bundle = self._bundles[bundle_id]
                if (
                    bundle.status.is_live
                    and bundle.account_id == issuance.account_id
                    and bundle_id not in self._transferred
                ):
                    found.append(bundle)
        return sorted(found, key=lambda b: (b.status is not BundleStatus.ACTIVE, b.range_start))
