"""Production accounting (risk 1): readings, D10 deductions, and the checks at an action's end.

Issued Wh are weighed against the Wh recognised per device and interval and per device,
and recognised Wh against metered Wh; the checks run once per action (``_settle``), so a
correction and its issuance in one action are judged together.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from gc_conformance.reference.invariants._core import _ReplayCore
from gc_conformance.reference.invariants._plain import (
    _EXACT,
    _HALF,
    _energy,
    _fmt,
    _identifier,
    _Malformed,
    _whole,
)
from gc_conformance.reference.invariants._records import (
    Key,
    _Device,
    _IntervalIndex,
    _Production,
    _Scratch,
)
from gc_conformance.reference.invariants.findings import Risk


class _ProductionReplay(_ReplayCore):
    """The ``reading`` and ``debt`` effects and the per-action production checks."""

    def reading(self, e: Mapping[str, Any]) -> None:
        """The Wh recognised for a device and interval; a later reading of it is a correction."""
        device, recognised, metered = e["device_id"], e["recognised_wh"], e["metered_wh"]
        if device is None or type(device) is bool:
            raise _Malformed(f"device_id {device!r} is not an identifier")
        if type(recognised) is not int:
            raise _Malformed(f"recognised_wh {recognised!r} is not a whole number of Wh")
        if type(metered) is str and metered.isascii() and metered.isdigit():
            metered = int(metered)
        elif type(metered) is not int or metered < 0:
            metered = _energy(metered, "metered_wh")
        if e.get("production_start") is None or e.get("production_end") is None:
            raise _Malformed(f"reading of device {device!r} names no production interval")
        interval = self._interval(e, "reading of device", device)
        if interval is None:
            return
        key = (device, interval[0], interval[1])
        totals = self.devices.get(device)
        if totals is None:
            totals = self.devices[device] = _Device()
        production = self.production.get(key)
        before = 0 if production is None else production.metered
        total = totals.metered
        if type(metered) is int and type(before) is int and type(total) is int:
            total += metered - before
        else:  # exact: an inexact sum raises (reported as malformed) before any change
            total = _EXACT.add(total, _EXACT.subtract(metered, before))
        if production is None:
            production = self.production[key] = _Production()
            index = self.read_intervals.get(device)
            if index is None:
                index = self.read_intervals[device] = _IntervalIndex()
            for other_start, other_end, _ in index.overlapping(*interval):
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"production of device {device!r} recognised for {_fmt(interval[0])} to "
                    f"{_fmt(interval[1])} and again for {_fmt(other_start)} to {_fmt(other_end)}",
                )
            index.add(interval[0], interval[1], None)
            self._check_meter(e.get("meter_id"), device, interval)
        scratch = self.scratch
        scratch.used = True
        if key not in scratch.readings:
            scratch.readings[key] = production.recognised
        scratch.keys.append(key)
        totals.recognised += recognised - (production.recognised or 0)
        totals.metered = total
        if e.get("carried_wh") is None:
            totals.alone += 1
        if e.get("rounded_alone") is not None:
            # Only a reading that says it was rounded on its own (rounding_carry PER_READING) is
            # held to its own hour: a history that carries remainders, or says nothing of it,
            # may legitimately move a sub-Wh remainder from one hour to the next.
            self._check_alone(e, device, interval, recognised, metered)
        production.recognised, production.metered = recognised, metered

    def _check_alone(
        self,
        e: Mapping[str, Any],
        device: Any,
        interval: tuple[_dt.datetime, _dt.datetime],
        recognised: int,
        metered: int | Decimal,
    ) -> None:
        """A reading rounded on its own (no carried remainder) is held to its own hour (D5).

        Rounded to the nearest Wh (halves up) it recognises at most
        floor(metered + 1/2); a reading that names ``rounded_alone: DOWN``
        at most floor(metered): under DOWN no hour is certified above its
        own production. Nothing carried, nothing can legitimately move in.
        """
        if recognised <= metered:
            return
        rounded = e.get("rounded_alone")
        if rounded is not None and rounded not in ("DOWN", "NEAREST"):
            raise _Malformed(f"rounded_alone {rounded!r} is not DOWN or NEAREST")
        if isinstance(metered, int):
            bound = metered
        elif rounded == "DOWN":
            bound = int(metered.to_integral_value(rounding=ROUND_FLOOR))
        else:
            bound = int(_EXACT.add(metered, _HALF).to_integral_value(rounding=ROUND_FLOOR))
        if recognised > bound:
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{recognised} Wh recognised for device {device!r} over {_fmt(interval[0])} to "
                f"{_fmt(interval[1])} from its own {metered} Wh reading, rounded on its own "
                f"({rounded or 'no carried remainder'}): at most {bound} Wh",
            )

    def _check_meter(
        self, meter: Any, device: Any, interval: tuple[_dt.datetime, _dt.datetime]
    ) -> None:
        """D6: a meter measures one device; two devices' readings of one meter for one hour
        certify the same energy twice."""
        if meter is None or type(meter) is bool:
            return
        index = self.meter_intervals.get(meter)
        if index is None:
            index = self.meter_intervals[meter] = _IntervalIndex()
        for other_start, other_end, other in index.overlapping(*interval):
            if other != device:
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"meter {meter!r} read for device {device!r} from {_fmt(interval[0])} to "
                    f"{_fmt(interval[1])} and for device {other!r} from {_fmt(other_start)} to "
                    f"{_fmt(other_end)}: one meter's energy certified for two devices",
                )
        index.add(interval[0], interval[1], device)

    def debt(self, e: Mapping[str, Any]) -> None:
        """An outstanding D10 deduction of a device (``remaining_wh`` 0: settled)."""
        device = _identifier(e["device_id"], "device_id")
        debt_id = _identifier(e["debt_id"], "debt_id")
        remaining = _whole(e["remaining_wh"], "remaining_wh", 0)
        change = remaining - self.debts.get((device, debt_id), 0)
        self.debts[(device, debt_id)] = remaining
        self.debt_hours[(device, debt_id)] = e.get("hour_of_day")
        totals = self.devices.get(device)
        if totals is None:
            totals = self.devices[device] = _Device()
        totals.debt += change
        scratch = self.scratch
        scratch.used = True
        if change > 0:
            scratch.debts[device] = scratch.debts.get(device, 0) + change
        scratch.devices.append(device)

    # --- end of an action ------------------------------------------------------------

    def _settle(self, scratch: _Scratch) -> None:
        """Production accounting for what the action changed (see the module docstring)."""
        keys = scratch.keys
        if scratch.issues:
            sd_gcs = self.storage.sd_gc_issuances
            for iid, bid, key, quantity, corrects in scratch.issues:
                if key is None:
                    continue  # reported as malformed at the issue effect
                if iid in sd_gcs:
                    continue  # an SD-GC: issued from a discharge record, judged by storage checks
                self.attributed[iid] = key
                production = self.production.get(key)
                if production is None:
                    production = self.production[key] = _Production()
                production.issued += quantity
                totals = self.devices.get(key[0])
                if totals is None:
                    totals = self.devices[key[0]] = _Device()
                totals.issued += quantity
                keys.append(key)
                if corrects is None:
                    continue
                if key not in scratch.readings or (production.recognised or 0) <= (
                    scratch.readings[key] or 0
                ):
                    self.find(
                        Risk.DOUBLE_ISSUANCE,
                        f"issuance {iid} corrects issuance {corrects} upward without a corrected "
                        f"reading of device {key[0]!r} for {_fmt(key[1])} in the same action "
                        "(D10: issue the difference to a higher corrected production)",
                        bid,
                    )
        if scratch.issues and self.debts:
            self._deductions_taken(scratch)
        for iid, quantity in scratch.withdrawals:
            key = self.attributed.get(iid)
            if key is not None:
                self.production[key].withdrawn += quantity
                self.devices[key[0]].issued -= quantity
                keys.append(key)
        for device, added in scratch.debts.items():
            self._back_debt(scratch, device, added)
        previous: Any = None
        for key in keys:
            if key != previous:
                self._check_production(key)
                previous = key
        previous = None
        for key in keys:
            if key[0] != previous:
                previous = key[0]
                self._check_device(previous)
        for device in scratch.devices:
            self._check_device(device)

    def _deductions_taken(self, scratch: _Scratch) -> None:
        """D10: an issuance for a device that owes a deduction it could take must take it.

        A debt pinned to an hour of day is owed by that hour's issuances; one
        with no hour by every issuance. An action that issues for the device and
        records no deduction change of it left the debt open: the GCs it issued
        count energy the earlier, over-issued GCs already carry.
        """
        sd_gcs = self.storage.sd_gc_issuances
        changed = set(scratch.devices)
        for iid, bid, key, quantity, _ in scratch.issues:
            if key is None or iid in sd_gcs or key[0] in changed or quantity <= 0:
                continue
            hour = key[1].hour
            owed = sum(
                remaining
                for (device, debt_id), remaining in self.debts.items()
                if device == key[0]
                and remaining > 0
                and self.debt_hours.get((device, debt_id)) in (None, hour)
            )
            if owed:
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"issuance {iid} of {quantity} Wh for device {key[0]!r} from {_fmt(key[1])} "
                    f"took none of the {owed} Wh of D10 deductions the device owes for that hour",
                    bid,
                )

    def _back_debt(self, scratch: _Scratch, device: Any, added: int) -> None:
        """D10 deductions arise only from a downward correction, up to the Wh it removed."""
        lowered = []
        for key, before in scratch.readings.items():
            if key[0] == device and before is not None:
                now = self.production[key].recognised or 0
                if now < before:
                    lowered.append((key, before - now))
        backed = min(added, sum(wh for _, wh in lowered))
        if backed < added:
            self.devices[device].unbacked_debt += added - backed
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"D10 deductions of {added} Wh recorded for device {device!r}, but the action "
                f"lowers its recognised production by {backed} Wh only: a deduction not backed "
                "by a downward correction would excuse over-issuance",
            )
        for key, wh in lowered:
            share = min(wh, backed)
            self.production[key].deducted += share
            scratch.keys.append(key)
            backed -= share

    def _check_production(self, key: Key) -> None:
        production = self.production[key]
        net = production.issued - production.withdrawn
        recognised = production.recognised
        excess = net - (recognised or 0) - production.deducted
        over = excess if excess > 0 else 0
        if over != production.excess:
            self.devices[key[0]].excess += over - production.excess
            production.excess = over
        if excess <= production.reported:
            return
        production.reported = excess
        if recognised is None:
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{net} Wh issued for device {key[0]!r} from {_fmt(key[1])} to {_fmt(key[2])} "
                "with no production recognised for it (no 'reading' of that interval)",
            )
        else:
            deducted = production.deducted
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{net} Wh issued (net of withdrawals) for device {key[0]!r} from {_fmt(key[1])} "
                f"to {_fmt(key[2])}, {excess} Wh above the {recognised} Wh recognised"
                + (f" and {deducted} Wh of D10 deductions" if deducted else ""),
            )

    def _check_device(self, device: Any) -> None:
        """Per device, beyond what its intervals' findings already show: deductions not taken."""
        totals = self.devices[device]
        debt = totals.debt - totals.unbacked_debt
        allowed = totals.recognised + debt if debt > 0 else totals.recognised
        excess = totals.issued - allowed - totals.excess
        if excess > totals.reported:
            totals.reported = excess
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{totals.issued} Wh issued (net of withdrawals) for device {device!r}: {excess} Wh "
                f"above its {totals.recognised} Wh recognised production and "
                f"{allowed - totals.recognised} Wh of outstanding D10 deductions (deductions "
                "recorded as settled that no issuance took)",
            )
        metered = totals.metered
        if totals.recognised > metered:  # else certainly within the bound
            if type(metered) is int:
                bound = metered + (1 + totals.alone) // 2
            else:
                try:  # floor (both non-negative) of the exact sum
                    bound = int(_EXACT.add(metered, _EXACT.multiply(1 + totals.alone, _HALF)))
                except ArithmeticError:
                    self.malformed(f"metered energy of device {device!r} too precise to total")
                    return
            over = totals.recognised - bound
            if over > totals.reported_metered:
                totals.reported_metered = over
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"{totals.recognised} Wh recognised for device {device!r} from "
                    f"{totals.metered} Wh metered: {over} Wh beyond rounding (at most "
                    f"{bound} Wh, with {totals.alone} readings rounded alone)",
                )
