"""Named policies: every point the standard leaves open, made an explicit choice.

The digest marks several ambiguities (D5 rounding, D8 validity, D13 list).
Rather than pick silently, each is an enum here whose *name* is what reports
and vectors print, with a documented default. A registry under test declares
its own values; checks that depend on a policy are run under the registry's
declared value, and the report shows which values were in force.
"""

from __future__ import annotations

import datetime as _dt
import enum
from decimal import (
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import Any, cast

import attrs

from gc_conformance.reference.errors import ErrorCode, InvalidInput

EnergyInput = int | float | Decimal | Fraction | str


class Rounding(enum.Enum):
    """How a metered volume becomes a whole number of Wh certificates (D5 ambiguity).

    The seed's restatement says "rounded to the nearest Wh"; the EnergyTag API
    and knowledge base say "rounded down". Halves round up under NEAREST.

    The registry rounds a device's *running total*, not each reading alone
    (:meth:`carry`): the sub-Wh remainder of one reading is carried to the
    device's next one, under both policies, so that the Wh recognised for a
    device always equal its total metered energy rounded once under the
    policy. Four readings of 0.5 Wh give 1, 0, 1, 0 certificates under
    NEAREST (2 Wh, not 4) and 0, 1, 0, 1 under DOWN (2 Wh, not 0). The
    remainder after a reading lies in [-0.5, 0.5) under NEAREST and in
    [0, 1) under DOWN. :meth:`apply` rounds one value alone (a single
    reading from a zero remainder gives the same result).
    """

    NEAREST = "nearest whole Wh, halves up (the seed's reading)"
    DOWN = "down to the whole Wh (the API specification's reading)"

    def apply(self, energy_wh: Decimal) -> int:
        mode = ROUND_HALF_UP if self is Rounding.NEAREST else ROUND_DOWN
        return int(energy_wh.quantize(Decimal(1), rounding=mode))

    def carry(
        self, energy_wh: Decimal, remainder: Decimal, replacing: Decimal = Decimal(0)
    ) -> tuple[int, Decimal]:
        """Whole Wh for ``energy_wh`` on top of the device's carried ``remainder``, and the new remainder.

        Exact: ``whole + new_remainder == energy_wh - replacing + remainder``,
        so that summed over a device's readings the whole Wh equal the
        policy's rounding of the summed energy. ``replacing`` is the metered
        value a correction replaces; the whole Wh are then the change to
        recognise, negative for a downward correction.
        """
        if not remainder and not replacing and energy_wh.is_finite():
            whole_wh = int(energy_wh)
            if whole_wh == energy_wh:  # a whole Wh on a zero remainder: the common case, exact
                return whole_wh, _ZERO
        total = _EXACT.add(_EXACT.subtract(energy_wh, replacing), remainder)
        if self is Rounding.NEAREST:  # halves up, toward +infinity also below zero
            whole = _EXACT.add(total, _HALF).to_integral_value(rounding=ROUND_FLOOR)
        else:
            whole = total.to_integral_value(rounding=ROUND_FLOOR)
        left = _EXACT.subtract(total, whole)
        return int(whole), (left if left else Decimal(0))


# Exact Decimal arithmetic for remainders: energies have at most 24 integer digits and
# 100 decimals (parse_energy), so sums fit well inside 400 digits; an inexact result
# would be a bug, hence the trap.
_EXACT = Context(prec=400, traps=[Inexact, InvalidOperation, Overflow])
_HALF = Decimal("0.5")
_ZERO = Decimal(0)


class ValidityReading(enum.Enum):
    """When an unused GC expires (D8: 'the same 12-month consumption period')."""

    CALENDAR_YEAR = "valid until the end of the calendar year (UTC) in which production ended"
    ROLLING_12_MONTHS = "valid for 12 months after the end of the production interval"
    ROLLING_24_MONTHS = "valid for 24 months after production (the API demonstrator's default)"

    def expiry(self, production_end: _dt.datetime) -> _dt.datetime:
        """The first instant at which a GC produced up to ``production_end`` is no longer valid."""
        if self is ValidityReading.CALENDAR_YEAR:
            last_instant = production_end - _dt.timedelta(seconds=1)
            return _dt.datetime(last_instant.year + 1, 1, 1, tzinfo=_dt.UTC)
        months = 12 if self is ValidityReading.ROLLING_12_MONTHS else 24
        return _add_months(production_end, months)

    def consumption_window(
        self, production_start: _dt.datetime, production_end: _dt.datetime
    ) -> tuple[_dt.datetime, _dt.datetime]:
        """``[first, end)``: the consumption period a GC may be cancelled against (D8).

        D8: a GC not matched to its own production hour "must be used within
        the same 12-month consumption period as the energy production it
        represents". Under CALENDAR_YEAR that period is the production's
        calendar year (consumption earlier in that year included); under the
        rolling readings it runs from the start of production to the expiry.
        """
        expiry = self.expiry(production_end)
        if self is ValidityReading.CALENDAR_YEAR:
            return _dt.datetime(expiry.year - 1, 1, 1, tzinfo=_dt.UTC), expiry
        return production_start, expiry


class OwnHourUse(enum.Enum):
    """Whether a GC matched to its own production hour is bound by the 12-month period (D8).

    D8 limits to "the same 12-month consumption period" only a GC that "is not
    used for a matching claim for its own (sub-)hourly production period"; a
    GC matched to its own hour is exempt. The standard gives the exemption no
    end of its own (only the underlying EAC's validity, D8, bounds it), but a
    register must end a certificate's life some time. Under CALENDAR_YEAR the
    difference is real: December production reported, or matched, on or after
    1 January would otherwise be refused though its own hour is the best match
    it could ever serve. Under the rolling readings the period always runs at
    least 12 months past production, so EXEMPT_12_MONTHS changes nothing there.
    """

    EXEMPT_12_MONTHS = (
        "a GC may be issued, held, transferred and cancelled against consumption inside its own "
        "production interval until 12 months after production, also past the end of its "
        "consumption period; any other use ends with that period"
    )
    NOT_EXEMPT = (
        "every use ends with the consumption period, own hour or not (the strict reading: "
        "December production reported after the year's end is refused under CALENDAR_YEAR)"
    )

    def bounds(
        self, validity: ValidityReading, production_end: _dt.datetime
    ) -> tuple[_dt.datetime, _dt.datetime | None]:
        """``(expiry, own_hour_only_from)`` for production ending at ``production_end``.

        ``expiry`` is the first instant at which the GC serves no use at all
        (the sweep expires it then); ``own_hour_only_from``, when not None, is
        the end of its consumption period, from which it may be cancelled only
        against consumption inside its own production interval.
        """
        period_end = validity.expiry(production_end)
        if self is OwnHourUse.NOT_EXEMPT:
            return period_end, None
        own_hour_end = _add_months(production_end, 12)
        if own_hour_end <= period_end:
            return period_end, None
        return own_hour_end, period_end


def _add_months(moment: _dt.datetime, months: int) -> _dt.datetime:
    """Calendar month arithmetic; a day that does not exist clamps to the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    next_month = _dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - _dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


class CapacityPlausibility(enum.Enum):
    """Whether reported energy is checked against what the device could physically produce."""

    NAMEPLATE = "reject energy above capacity (W) x interval length (h)"
    DISABLED = "accept any non-negative energy"

    def permits(self, energy_wh: Decimal, capacity_w: int, hours: Fraction) -> bool:
        if self is CapacityPlausibility.DISABLED:
            return True
        return Fraction(energy_wh) <= capacity_w * hours


class SplitOrigin(enum.Enum):
    """Which end of a bundle's ID range a partial transfer/cancel takes (D13)."""

    FROM_START = "the acted-on part takes the lowest IDs; the remainder keeps the highest"
    FROM_END = "the acted-on part takes the highest IDs; the remainder keeps the lowest"


class CorrectionDeduction(enum.Enum):
    """Where a downward correction that cannot be withdrawn is deducted (D10).

    D10: deduct from 'the next issuance for the corresponding production
    hour', and if that is insufficient, from the next issuance of another
    hour. Whether 'corresponding hour' means the same hour of the day is not
    settled, so both readings are available.
    """

    SAME_HOUR_OF_DAY_FIRST = (
        "first the device's next issuance at the same UTC hour of day, then any"
    )
    NEXT_ISSUANCE = "the device's next issuance, whatever its hour"


class RoundingCarry(enum.Enum):
    """Whether a reading's sub-Wh remainder is carried to the device's next reading (D5).

    D5 says a metered volume is rounded (nearest or down) but not whether each
    reading is rounded on its own or the device's running total is. Carrying
    keeps a device's certified total equal to its rounded metered total, but
    moves up to a Wh between hours: under DOWN, 0.5 Wh then 0.5 Wh are
    certified 0 then 1 Wh, the second hour above its own 0.5 Wh. Rounding
    each reading on its own never certifies an hour above its own rounded
    reading (under DOWN, never above its production) and loses the
    remainders instead. Either way each reading's certified Wh is recorded
    next to its metered Wh, so an auditor can check every hour.
    """

    CARRY = "the sub-Wh remainder is carried to the device's next reading (running total rounded)"
    PER_READING = "each reading is rounded on its own; remainders are dropped, nothing carried"

    def round_reading(
        self,
        rounding: Rounding,
        energy_wh: Decimal,
        remainder: Decimal,
        replacing: Decimal = _ZERO,
    ) -> tuple[int, Decimal | None]:
        """Whole Wh for a reading (or its change, when ``replacing`` a value on record).

        The second value is the device's new carried remainder, or ``None``
        under PER_READING (the reading takes no part in a carry).
        """
        if self is RoundingCarry.CARRY:
            return rounding.carry(energy_wh, remainder, replacing)
        before = rounding.apply(replacing) if replacing else 0
        return rounding.apply(energy_wh) - before, None


class TimeShiftScope(enum.Enum):
    """What a time-shift claim makes unavailable for further claims (D7).

    D7: to claim that storage moved attributes from tc to td, "the GC from tc,
    the SCR from tc, the SDR from td and the SD-GC from td" must all be made
    unavailable for further use; D7 also says each unit of an SCR's energy is
    allocated to an SDR only once. When one SCR is split across two SDRs
    (400 + 500 Wh) each SDR's SD-GC rests on its own units of the SCR, and
    whether the first claim uses up the whole record or only its units is
    not settled. Both readings are available; neither lets a unit of energy
    serve two claims.
    """

    ALLOCATED_UNITS = (
        "a claim uses the Wh of the SDR, SCRs and GCs allocated to its SD-GC; another SDR's share "
        "of the same SCR, or another part of a split SD-GC, serves its own claim"
    )
    WHOLE_RECORDS = (
        "a claim uses the whole SDR, SCRs and GC bundles behind it; a second claim resting on any "
        "of them is refused (TIME_SHIFT_ALREADY_CLAIMED)"
    )


class SdGcInputs(enum.Enum):
    """When an SD-GC's inputs count as cancelled (D7).

    D7: an SD-GC is issued "only after the GCs assigned to the SCRs allocated
    to that SDR have been cancelled", with the volume of the SDR, and "the
    attributes on the SCR copy to the SDR". An SCR only partly backed by
    cancelled GCs (600 of 1000 Wh) carries attributes for part of its energy;
    whether an SDR fed from it may get an SD-GC is not settled. Under both
    readings no Wh of an SD-GC lacks a cancelled GC behind it.
    """

    FULLY_BACKED_SCRS = (
        "every SCR allocated to the SDR is wholly backed by GCs cancelled for it (its attributes "
        "copy to the SDR whole)"
    )
    BACKED_WH_FIRST = (
        "an SCR's backed Wh (net of its share of losses) are allocated first: the SD-GC is issued "
        "when the Wh its SDR got from each SCR lie within that SCR's backed part"
    )


class SdGcProducer(enum.Enum):
    """Which original production device an SD-GC's D5 device attributes describe (D7).

    D7 gives an SD-GC the D5 attributes "for the original production device,
    carried from the cancelled GC", in the singular; an SDR fed by charge
    records backed by GCs of several producers has several. Under both readings
    every producer is named (``original_device_id``, joined with ``+``), the
    energy sources of all inputs are passed on, and ``production_device_id``
    names the one device whose name, capacity, operational date and location
    the SD-GC states (never the storage system's, which has fields of its
    own: ``storage_id``, ``storage_device_location`` and the storage tag).
    """

    FIRST_ALLOCATED = (
        "the producer behind the first input allocated to the SDR (allocation order, then the "
        "order the GCs were cancelled for the charge)"
    )
    LARGEST_SHARE = (
        "the producer whose cancelled GCs behind the SDR's charge records hold the most Wh (a tie "
        "goes to the first allocated)"
    )


@attrs.frozen
class Policies:
    """The lifecycle policy values in force for one registry. Defaults follow the seed."""

    rounding: Rounding = Rounding.NEAREST
    validity: ValidityReading = ValidityReading.CALENDAR_YEAR
    capacity: CapacityPlausibility = CapacityPlausibility.NAMEPLATE
    split_origin: SplitOrigin = SplitOrigin.FROM_START
    correction_deduction: CorrectionDeduction = CorrectionDeduction.SAME_HOUR_OF_DAY_FIRST
    rounding_carry: RoundingCarry = RoundingCarry.CARRY
    own_hour_use: OwnHourUse = OwnHourUse.EXEMPT_12_MONTHS
    time_shift_scope: TimeShiftScope = TimeShiftScope.ALLOCATED_UNITS
    sd_gc_inputs: SdGcInputs = SdGcInputs.FULLY_BACKED_SCRS
    sd_gc_producer: SdGcProducer = SdGcProducer.FIRST_ALLOCATED

    def round_reading(
        self, energy_wh: Decimal, remainder: Decimal, replacing: Decimal = _ZERO
    ) -> tuple[int, Decimal | None]:
        """Whole Wh for a reading under ``rounding`` and ``rounding_carry`` (see both)."""
        return self.rounding_carry.round_reading(self.rounding, energy_wh, remainder, replacing)

    def describe(self) -> dict[str, str]:
        """Policy name -> value name, as reports and vectors print them."""
        return {field.name: getattr(self, field.name).name for field in attrs.fields(Policies)}

    @classmethod
    def from_plain(cls, values: dict[str, Any]) -> Policies:
        """Build from ``{"rounding": "DOWN", ...}``; unknown names are an INVALID_POLICY error."""
        chosen: dict[str, Any] = {}
        by_name = {field.name: field for field in attrs.fields(Policies)}
        for name, value in values.items():
            field = by_name.get(name)
            if field is None:
                raise InvalidInput(ErrorCode.INVALID_POLICY, name, "no such policy")
            enum_type = cast(type[enum.Enum], type(field.default))
            try:
                chosen[name] = enum_type[value]
            except KeyError:
                allowed = ", ".join(member.name for member in enum_type)
                raise InvalidInput(
                    ErrorCode.INVALID_POLICY, name, f"{value!r} is not one of {allowed}"
                ) from None
        return cls(**chosen)


def parse_energy(value: object, field: str) -> Decimal:
    """A metered energy in Wh: finite, non-negative; int, float, Decimal, Fraction or decimal string."""
    if type(value) is int and 0 <= value < _MAX_WHOLE_ENERGY:
        return Decimal(value)  # what the checks below would accept unchanged
    if isinstance(value, bool):
        raise InvalidInput(ErrorCode.INVALID_ENERGY, field, "a boolean is not an energy")
    try:
        if isinstance(value, Fraction):
            energy = Decimal(value.numerator) / Decimal(value.denominator)
        elif isinstance(value, float):
            energy = Decimal(repr(value))  # shortest repr: 0.1 stays 0.1, not 0.1000000000000000055
        elif isinstance(value, int | Decimal | str):
            energy = Decimal(value)
        else:
            raise InvalidInput(
                ErrorCode.INVALID_ENERGY,
                field,
                f"expected a number of Wh, got {type(value).__name__}",
            )
    except InvalidOperation:
        raise InvalidInput(ErrorCode.INVALID_ENERGY, field, f"{value!r} is not a number") from None
    if not energy.is_finite() or energy < 0:
        raise InvalidInput(
            ErrorCode.INVALID_ENERGY, field, f"{value!r} is not a finite, non-negative Wh"
        )
    # Bound the magnitude: rounding to whole Wh works in Decimal's 28-digit context (it
    # raises beyond it) and the capacity check compares exactly, through Fraction, which
    # for a value such as 1e-1000000000 would build a billion-digit integer and hang.
    exponent = energy.as_tuple().exponent  # an int here: energy is finite
    if energy and (
        energy.adjusted() >= _MAX_ENERGY_DIGITS
        or (isinstance(exponent, int) and exponent < -_MAX_DECIMALS)
    ):
        raise InvalidInput(
            ErrorCode.INVALID_ENERGY,
            field,
            f"{value!r} is outside the representable range "
            f"(below 1e{_MAX_ENERGY_DIGITS} Wh, at most {_MAX_DECIMALS} decimal places)",
        )
    return energy


_MAX_ENERGY_DIGITS = 24
_MAX_DECIMALS = 100
_MAX_WHOLE_ENERGY = 10**_MAX_ENERGY_DIGITS


def parse_quantity(value: object, field: str) -> int:
    """A number of certificates (Wh): a positive ``int`` (booleans and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(
            ErrorCode.INVALID_QUANTITY, field, f"{value!r} is not a positive whole number"
        )
    return value
