"""Storage losses (D7): the two named methods, and what the printed formulas get wrong.

Two methods are implemented, and a storage system declares one when it is
registered (:class:`LossMethod`):

``EFFICIENCY_FACTOR``
    The method the API specification suggests: over a window, the factor is
    energy discharged divided by energy charged (parasitic losses included).
    The *initial* factor is computed over a window that starts no earlier than
    the start-up date and ends no later than six calendar months after it.
    A charge of ``Qc`` Wh then keeps ``floor(Qc x factor)`` Wh after losses
    (rounded down so that no allocation can ever exceed what was stored).

``INTERVAL_FORMULAS``
    The seed's three per-interval loss formulas (charge, self-discharge,
    discharge), evaluated under the unit convention of :class:`LossConvention`.

The printed formulas cannot be evaluated as printed (they add a percentage to
Wh, among other things). The model does not silently repair them: it applies
one stated convention and lists, as data, every inconsistency it found in the
printed form (:func:`printed_formula_inconsistencies`). :func:`printed_form`
evaluates the formulas literally, so tests and reports can show the damage.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
from fractions import Fraction

import attrs

from gc_conformance.reference.errors import ErrorCode, InvalidInput

INITIAL_FACTOR_MAX_MONTHS = 6


class LossMethod(enum.Enum):
    """How a storage system's losses are quantified; fixed at registration."""

    EFFICIENCY_FACTOR = "output/input over a window; initial window <= 6 months from start-up"
    INTERVAL_FORMULAS = "the seed's charge / self-discharge / discharge formulas per interval"


class LossConvention(enum.Enum):
    """The unit convention under which the interval formulas are evaluated."""

    FRACTION_OF_CAPACITY = (
        "SoC(t-1), SoC(t), Qc(t) and Qd(t) are all fractions of the capacity QT "
        "(a SoC given in % is divided by 100; an energy in Wh is divided by QT); "
        "loss ratios are plain fractions (never multiplied by 100); a loss in Wh is "
        "the ratio times its base times QT"
    )


APPLIED_CONVENTION = LossConvention.FRACTION_OF_CAPACITY


def applied_convention() -> LossConvention:
    """The convention this model applies to the interval formulas."""
    return APPLIED_CONVENTION


# ---------------------------------------------------------------- efficiency factor


def add_months(moment: _dt.datetime, months: int) -> _dt.datetime:
    """Calendar months later; a day that does not exist clamps to the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    following = _dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - _dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def startup_instant(startup: _dt.date) -> _dt.datetime:
    return _dt.datetime(startup.year, startup.month, startup.day, tzinfo=_dt.UTC)


def check_initial_window(
    startup: _dt.date, window_start: _dt.datetime, window_end: _dt.datetime
) -> None:
    """The initial factor's window lies within six months from the start-up date."""
    begin = startup_instant(startup)
    limit = add_months(begin, INITIAL_FACTOR_MAX_MONTHS)
    if window_start < begin:
        raise InvalidInput(
            ErrorCode.EFFICIENCY_WINDOW_INVALID,
            "window.start",
            f"the window starts before the start-up date {startup.isoformat()}",
        )
    if window_end > limit:
        raise InvalidInput(
            ErrorCode.EFFICIENCY_WINDOW_INVALID,
            "window.end",
            f"the initial efficiency factor may use at most {INITIAL_FACTOR_MAX_MONTHS} months "
            f"from start-up (until {limit.isoformat()}), the window ends at {window_end.isoformat()}",
        )


def efficiency_factor(charged_wh: int, discharged_wh: int) -> Fraction:
    """Output / input over a window, exactly; refused if nothing was charged or it exceeds 1."""
    if charged_wh <= 0:
        raise InvalidInput(
            ErrorCode.EFFICIENCY_UNDEFINED, "window", "no energy was charged in the window"
        )
    factor = Fraction(discharged_wh, charged_wh)
    if factor > 1:
        raise InvalidInput(
            ErrorCode.EFFICIENCY_UNDEFINED,
            "window",
            f"more discharged ({discharged_wh} Wh) than charged ({charged_wh} Wh) in the window",
        )
    return factor


def net_after_factor(charged_wh: int, factor: Fraction) -> int:
    """Whole Wh of a charge that survive the losses: rounded down, never more than charged."""
    return math.floor(charged_wh * factor)


# ---------------------------------------------------------------- interval formulas


@attrs.frozen
class IntervalLosses:
    """Losses of one interval in Wh (exact fractions), under the applied convention."""

    charge_wh: Fraction
    self_discharge_wh: Fraction
    discharge_wh: Fraction

    @property
    def total_wh(self) -> Fraction:
        return self.charge_wh + self.self_discharge_wh + self.discharge_wh


def as_fraction(value: object) -> Fraction:
    return Fraction(str(value)) if not isinstance(value, Fraction) else value


def interval_losses(
    capacity_wh: int,
    soc_before_pct: Fraction,
    soc_after_pct: Fraction,
    charged_wh: int = 0,
    discharged_wh: int = 0,
) -> IntervalLosses:
    """The loss of one metering interval, by the formula its activity selects.

    Under FRACTION_OF_CAPACITY, with s0 = SoC(t-1)/100, s1 = SoC(t)/100,
    c = Qc/QT and d = Qd/QT:

    * charging (c > 0): ratio = (s0 - s1 + c) / (s0 + c); loss = ratio x (s0 + c) x QT
    * idle (c = d = 0): ratio = (s0 - s1) / s0;            loss = ratio x s0 x QT
    * discharging (d > 0): ratio = (s0 - s1 - d) / s0;      loss = ratio x s0 x QT

    Only the formula of the interval's own activity applies (the other two
    terms are zero), so the total never counts one SoC change twice. The
    self-discharge ratio is written here as a *loss* (s0 - s1), the opposite
    sign of the printed form. A base of zero (empty store, nothing charged)
    gives zero loss. A result below zero means the metered SoC rose more
    than the recorded energy allows; it is returned as is, and the registry
    refuses such data.
    """
    if capacity_wh <= 0:
        raise InvalidInput(ErrorCode.INVALID_FIELD, "capacity_wh", "capacity must be positive")
    if charged_wh and discharged_wh:
        raise InvalidInput(
            ErrorCode.INVALID_FIELD, "status", "an interval is charging or discharging, not both"
        )
    qt = Fraction(capacity_wh)
    s0, s1 = soc_before_pct / 100, soc_after_pct / 100
    c, d = Fraction(charged_wh) / qt, Fraction(discharged_wh) / qt
    zero = Fraction(0)
    if charged_wh:
        base = s0 + c
        ratio = (s0 - s1 + c) / base if base else zero
        return IntervalLosses(ratio * base * qt, zero, zero)
    if discharged_wh:
        ratio = (s0 - s1 - d) / s0 if s0 else zero
        return IntervalLosses(zero, zero, ratio * s0 * qt)
    ratio = (s0 - s1) / s0 if s0 else zero
    return IntervalLosses(zero, ratio * s0 * qt, zero)


@attrs.frozen
class PrintedForm:
    """The formulas evaluated exactly as printed (SoC in %, Q in Wh, ratios x 100)."""

    charge_pct: Fraction | None
    charge: Fraction | None
    self_discharge_pct: Fraction | None
    self_discharge: Fraction | None
    discharge_pct: Fraction | None
    discharge: Fraction | None


def printed_form(
    capacity_wh: int,
    soc_before_pct: Fraction,
    soc_after_pct: Fraction,
    charged_wh: int = 0,
    discharged_wh: int = 0,
) -> PrintedForm:
    """Literal evaluation of the printed formulas; None where the printed form divides by 0."""
    qt, s0, s1 = Fraction(capacity_wh), soc_before_pct, soc_after_pct
    qc, qd = Fraction(charged_wh), Fraction(discharged_wh)
    c_base = s0 + qc
    c_pct = (s0 - s1 + qc) / c_base * 100 if c_base else None
    sd_pct = (s1 - s0) / s0 * 100 if s0 else None
    d_pct = (s0 - s1 - qd) / s0 * 100 if s0 else None
    return PrintedForm(
        c_pct,
        None if c_pct is None else c_pct * c_base * qt,
        sd_pct,
        None if sd_pct is None else sd_pct * s0,
        d_pct,
        None if d_pct is None else d_pct * s0 * qt,
    )


@attrs.frozen
class FormulaInconsistency:
    code: str
    formula: str
    finding: str
    resolution: str


_INCONSISTENCIES = (
    FormulaInconsistency(
        "MIXED_UNITS",
        "charge, discharge",
        "SoC is defined in % but is added to (charge) or subtracted from (discharge) "
        "an energy in Wh, so the sums have no unit.",
        "All four quantities are taken as fractions of QT before they are combined.",
    ),
    FormulaInconsistency(
        "PERCENT_TIMES_ENERGY",
        "charge, self-discharge, discharge",
        "Each loss in Wh multiplies a ratio already multiplied by 100 by a base; the "
        "factor 100 is never removed, so the printed loss is 100 times too large.",
        "Ratios are kept as plain fractions; only reports multiply by 100.",
    ),
    FormulaInconsistency(
        "MISSING_CAPACITY_FACTOR",
        "self-discharge",
        "The self-discharge loss is the ratio times SoC(t-1) with no QT factor, unlike "
        "the other two, so it is a fraction (or %) of capacity, not Wh.",
        "Multiplied by QT like the other two formulas.",
    ),
    FormulaInconsistency(
        "SELF_DISCHARGE_SIGN",
        "self-discharge",
        "The numerator SoC(t) - SoC(t-1) is negative whenever the store loses charge, "
        "so the printed loss is negative for a real loss.",
        "The loss is taken as SoC(t-1) - SoC(t).",
    ),
    FormulaInconsistency(
        "CHARGE_SIGN_ONLY_APPARENT",
        "charge",
        "The charge numerator SoC(t-1) - SoC(t) + Qc(t) reads as inverted (charging "
        "raises SoC), but with consistent units it is the charged energy not found in the "
        "store, i.e. a positive loss; the sign problem is a consequence of MIXED_UNITS.",
        "Kept as printed once units agree.",
    ),
    FormulaInconsistency(
        "TOTAL_COUNTS_ONE_CHANGE_THRICE",
        "total",
        "The total adds three terms, each computed from the same SoC(t-1) to SoC(t) "
        "change; if all three were evaluated for one interval, one drop in SoC would be "
        "counted up to three times.",
        "Only the term of the interval's activity (charging, idle, discharging) applies.",
    ),
    FormulaInconsistency(
        "DIVISION_BY_EMPTY_STORE",
        "self-discharge, discharge",
        "Both divide by SoC(t-1), undefined for an empty store.",
        "An empty store loses nothing: the loss is zero.",
    ),
)


def printed_formula_inconsistencies() -> tuple[FormulaInconsistency, ...]:
    """Every inconsistency found in the printed loss formulas, with how the model resolves it."""
    return _INCONSISTENCIES
