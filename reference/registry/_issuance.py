"""Deciding issuance: a production reading (or an asserted bundle) becomes certificates.

Holds the freshness, age, capacity and range rules of D4 risk 1, D6 and D8,
the planning of an ``Issued`` effect with its D5 attributes, and the D10
deductions taken from new issuance, because all of them judge or shape the
same act: turning metered energy into a fresh ID range.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from gc_conformance.reference.bundles import Issuance
from gc_conformance.reference.commands import IssueBundle, SubmitProduction
from gc_conformance.reference.effects import DebtChanged, Effect, Issued, ReadingRecognised
from gc_conformance.reference.entities import Device, GrossOrNet
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.history import IssuanceResult
from gc_conformance.reference.policies import CapacityPlausibility, parse_energy, parse_quantity
from gc_conformance.reference.registry._contract import _Decision, _Refuse
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.registry._values import _issuance_with, _plain_decimal, _same_instant
from gc_conformance.reference.timestamps import Interval, format_timestamp, production_interval


class _IssuanceDecisions(_RegistryState):
    """Deciders of ``SubmitProduction`` and ``IssueBundle`` and the issuance planning they share."""

    # ------------------------------------------------------------------ issuance

    def _overlapping_reading(self, device_id: str, interval: Interval) -> _dt.datetime | None:
        starts = self._reading_starts.get(device_id)
        if not starts:
            return None
        index = bisect.bisect_left(starts, interval.end)  # readings starting before our end
        if index == 0:
            return None
        start = starts[index - 1]
        reading = self._readings[(device_id, start)]
        return start if reading.end > interval.start else None

    def _check_fresh_interval(self, device: Device, interval: Interval) -> None:
        clash = self._overlapping_reading(device.device_id, interval)
        if clash is not None:
            end = self._readings[(device.device_id, clash)].end
            raise _Refuse(
                ErrorCode.DUPLICATE_ISSUANCE,
                "interval",
                f"device {device.device_id!r} already has production recognised for "
                f"{format_timestamp(clash)}/{format_timestamp(end)}",
            )

    @staticmethod
    def _check_ended(interval: Interval, now: _dt.datetime) -> None:
        """Production is metered after the fact: an interval still running cannot be reported."""
        if interval.end > now:
            raise _Refuse(
                ErrorCode.INTERVAL_NOT_ENDED,
                "interval",
                f"{interval} ends after now ({format_timestamp(now)})",
            )

    def _expiry(self, production_end: _dt.datetime) -> _dt.datetime:
        """The first instant at which GCs produced up to ``production_end`` serve no use (D8)."""
        return self.validity_bounds(production_end)[0]

    def validity_bounds(
        self, production_end: _dt.datetime
    ) -> tuple[_dt.datetime, _dt.datetime | None]:
        """``(expiry, own_hour_only_from)`` under the ``validity`` and ``own_hour_use`` policies.

        See :meth:`OwnHourUse.bounds`. Remembers the last answer: readings of
        many devices for one hour share it.
        """
        policies = self.policies
        memo = self._expiry_memo
        if memo is not None and memo[0] is policies and _same_instant(memo[1], production_end):
            return memo[2]
        bounds = policies.own_hour_use.bounds(policies.validity, production_end)
        self._expiry_memo = (policies, production_end, bounds)
        return bounds

    def _check_still_valid(self, interval: Interval, now: _dt.datetime) -> None:
        """D8: refuse to issue certificates whose validity would already have ended at ``now``."""
        expiry = self._expiry(interval.end)
        if now >= expiry:
            raise _Refuse(
                ErrorCode.PRODUCTION_TOO_OLD,
                "interval",
                f"certificates for {interval} were valid until {format_timestamp(expiry)} "
                f"({self.policies.validity.name}); it is {format_timestamp(now)}",
            )

    def _check_capacity(self, device: Device, interval: Interval, energy: Decimal) -> None:
        seconds = int(interval.length.total_seconds())
        capacity = self.policies.capacity
        if capacity is CapacityPlausibility.NAMEPLATE:
            # The NAMEPLATE test energy <= W x h, in exact integers (as Fraction would do it).
            numerator, denominator = energy.as_integer_ratio()
            permitted = numerator * 3600 <= device.capacity_w * seconds * denominator
        else:
            permitted = capacity.permits(energy, device.capacity_w, Fraction(seconds, 3600))
        if not permitted:
            hours = Fraction(seconds, 3600)
            raise _Refuse(
                ErrorCode.CAPACITY_EXCEEDED,
                "energy_wh",
                f"{energy} Wh in {interval.length} exceeds {device.capacity_w} W x {float(hours):g} h "
                f"({self.policies.capacity.name})",
            )

    def _plan_issuance(
        self,
        device: Device,
        interval: Interval,
        range_start: int,
        quantity: int,
        now: _dt.datetime,
        effects: list[Effect],
        *,
        account_id: str | None = None,
        corrects: int | None = None,
        deducted: int = 0,
        attributes: Mapping[str, Any] | None = None,
    ) -> IssuanceResult:
        """Plan an ``Issued`` effect; ``attributes`` override/extend the device-derived D5 ones."""
        issuance_id = self._next_issuance_id
        if effects:
            issuance_id += sum(isinstance(e, Issued) for e in effects)
        bundle_id = self._next_free_bundle_id(effects)
        date_memo = self._date_memo  # the last issuance date: many issuances share it
        if date_memo is not None and _same_instant(date_memo[0], now):
            issuance_date = date_memo[1]
        else:
            issuance_date = now.date()
            self._date_memo = (now, issuance_date)
        issuer = self.issuer
        expiry, own_hour_only_from = self.validity_bounds(interval.end)
        if attributes:
            build: Callable[..., Issuance] = _issuance_with(attributes)
        else:
            build = Issuance
        issuance = build(
            issuance_id=issuance_id,
            device_id=device.device_id,
            account_id=account_id or device.account_id,
            production_start=interval.start,
            production_end=interval.end,
            range_start=range_start,
            range_end=range_start + quantity - 1,
            issuance_date=issuance_date,
            expiry=expiry,
            own_hour_only_from=own_hour_only_from,
            energy_source=device.energy_source,
            technology_type=device.technology_type,
            device_name=device.device_name,
            device_capacity_w=device.capacity_w,
            device_operational_date=device.operational_date,
            device_location=device.location,
            country_of_issuance=issuer.domain,
            issuer_id=issuer.issuer_id,
            registry_configuration=issuer.configuration,
            is_storage=device.is_storage,
            disclosure=device.disclosure,
            post_energy_carrier_conversion=device.post_energy_carrier_conversion,
            issue_market_zone=device.issue_market_zone,
            connected_grid=device.grid,
            support_received=device.support_received,
            corrects_issuance_id=corrects,
            deducted_wh=deducted,
        )
        effects.append(Issued(issuance, bundle_id))
        return IssuanceResult(issuance_id, bundle_id, quantity, deducted)

    def _plan_deductions(
        self, device_id: str, hour: int, face_wh: int, effects: list[Effect]
    ) -> int:
        """D10: take outstanding deductions from this issuance; returns the Wh deducted."""
        outstanding = self._debts.get(device_id)
        if not outstanding:
            return 0
        debts = list(outstanding.values())
        same_hour = [d for d in debts if d.hour_of_day == hour]
        any_hour = [d for d in debts if d.hour_of_day is None]
        available = face_wh
        for debt in same_hour:
            taken = min(available, debt.remaining_wh)
            available -= taken
            left = debt.remaining_wh - taken
            # That hour's production was insufficient: the rest moves to any other hour.
            effects.append(DebtChanged(device_id, debt.debt_id, None if left else hour, left))
        for debt in any_hour:
            taken = min(available, debt.remaining_wh)
            if taken:
                available -= taken
                effects.append(
                    DebtChanged(device_id, debt.debt_id, None, debt.remaining_wh - taken)
                )
        return face_wh - available

    def _decide_submit_production(self, cmd: SubmitProduction, now: _dt.datetime) -> _Decision:
        interval = production_interval(cmd.start, cmd.end)
        energy = parse_energy(cmd.energy_wh, "energy_wh")
        try:
            gross_or_net = GrossOrNet[cmd.gross_or_net]
        except (KeyError, TypeError):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "gross_or_net", f"{cmd.gross_or_net!r} is not GROSS or NET"
            ) from None
        self._require_issuer(cmd.actor)
        device = self._known_device(cmd.device_id)
        self._require_not_storage(device)
        if cmd.meter_id != device.meter_id:
            raise _Refuse(
                ErrorCode.METER_MISMATCH,
                "meter_id",
                f"{cmd.meter_id!r} is not the meter of {device.device_id!r}",
            )
        if gross_or_net is not device.gross_or_net:
            raise _Refuse(
                ErrorCode.GROSS_NET_MISMATCH,
                "gross_or_net",
                f"{device.device_id!r} is registered as metering {device.gross_or_net.name} "
                f"generation, not {gross_or_net.name}",
            )
        self._check_ended(interval, now)
        self._check_still_valid(interval, now)
        self._check_fresh_interval(device, interval)
        self._check_capacity(device, interval, energy)
        face_wh, carried = self.policies.round_reading(
            energy, self.rounding_remainder(device.device_id)
        )
        effects: list[Effect] = []
        deducted = self._plan_deductions(device.device_id, interval.start.hour, face_wh, effects)
        quantity = face_wh - deducted
        if quantity > 0:
            result = self._plan_issuance(
                device,
                interval,
                self._next_certificate_id,
                quantity,
                now,
                effects,
                deducted=deducted,
            )
        else:
            result = IssuanceResult(None, None, 0, deducted)
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                face_wh,
                sys.intern(str(energy)),  # one copy of each metered text, however many readings
                cmd.meter_id,
                gross_or_net.name,
                _plain_decimal(carried),
                self._rounded_alone(),
            )
        )
        return result, effects

    def _range_clash(self, start: int, end: int) -> tuple[int, int] | None:
        ends = self._range_ends
        if not ends or start > ends[-1]:
            # Past every issued ID (the usual case: IDs are allocated in order). The answer
            # the search below gives, without its ~log2(n) scattered reads.
            return None
        index = bisect.bisect_right(self._range_starts, end)
        if index and self._range_ends[index - 1] >= start:
            return self._range_starts[index - 1], self._range_ends[index - 1]
        return None

    def _decide_issue_bundle(self, cmd: IssueBundle, now: _dt.datetime) -> _Decision:
        for name in ("range_start", "range_end"):
            value = getattr(cmd, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _Refuse(
                    ErrorCode.INVALID_FIELD, name, f"{value!r} is not a positive integer ID"
                )
        quantity = parse_quantity(cmd.quantity, "quantity")
        interval = production_interval(cmd.start, cmd.end)
        energy = parse_energy(cmd.energy_wh, "energy_wh")
        if cmd.range_end - cmd.range_start + 1 != quantity:
            raise _Refuse(
                ErrorCode.RANGE_QUANTITY_MISMATCH,
                "quantity",
                f"range {cmd.range_start}..{cmd.range_end} holds {cmd.range_end - cmd.range_start + 1} "
                f"certificates, not {quantity}",
            )
        self._require_issuer(cmd.actor)
        device = self._known_device(cmd.device_id)
        self._require_not_storage(device)
        self._known_account(cmd.account_id, "account_id")
        if cmd.account_id != device.account_id:
            raise _Refuse(
                ErrorCode.ACCOUNT_MISMATCH,
                "account_id",
                f"device {device.device_id!r} issues into {device.account_id!r}, not {cmd.account_id!r}",
            )
        self._check_ended(interval, now)
        self._check_still_valid(interval, now)
        self._check_fresh_interval(device, interval)
        self._check_capacity(device, interval, energy)
        face_wh, carried = self.policies.round_reading(
            energy, self.rounding_remainder(device.device_id)
        )
        if quantity > face_wh:
            raise _Refuse(
                ErrorCode.QUANTITY_EXCEEDS_PRODUCTION,
                "quantity",
                f"{quantity} certificates asserted for {energy} Wh metered "
                f"({face_wh} Wh under {self.policies.rounding.name}, with the device's carried "
                f"remainder)",
            )
        # D10: outstanding deductions are taken from this issuance exactly as from a submitted
        # reading; the asserted bundle may hold at most what they leave.
        effects: list[Effect] = []
        deducted = self._plan_deductions(device.device_id, interval.start.hour, face_wh, effects)
        if quantity > face_wh - deducted:
            raise _Refuse(
                ErrorCode.DEDUCTION_NOT_APPLIED,
                "quantity",
                f"{quantity} certificates asserted, but {deducted} of the {face_wh} Wh go to "
                f"outstanding D10 deductions of {device.device_id!r}: at most "
                f"{face_wh - deducted} may be issued",
            )
        clash = self._range_clash(cmd.range_start, cmd.range_end)
        if clash is not None:
            raise _Refuse(
                ErrorCode.RANGE_OVERLAP,
                "range_start",
                f"{cmd.range_start}..{cmd.range_end} overlaps issued IDs {clash[0]}..{clash[1]}",
            )
        result = self._plan_issuance(
            device, interval, cmd.range_start, quantity, now, effects, deducted=deducted
        )
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                face_wh,
                str(energy),
                device.meter_id,
                device.gross_or_net.name,
                _plain_decimal(carried),
                self._rounded_alone(),
            )
        )
        return result, effects
