"""Reading plain history data strictly: identifiers, whole Wh, metered energy, wire stamps.

A history may come from any registry, so every value is read as untrusted: a wrong type
or an out-of-range number raises ``_Malformed`` (reported as a MALFORMED_HISTORY finding)
and is never coerced, truncated or rounded into a value that could hide a double count.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gc_conformance.reference.invariants._replay import _Replay


class _Malformed(ValueError):
    """An effect that cannot be interpreted; it is reported and not replayed."""


_HOUR = _dt.timedelta(hours=1)
_WIRE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
# Exact decimal sums of metered Wh (an inexact result is reported as malformed, never rounded).
_EXACT = Context(prec=400, traps=[Inexact, InvalidOperation, Overflow])
_HALF = Decimal("0.5")
_PURPOSE = {"CANCELLED": "CONSUMPTION", "CANCELLED_FOR_STORAGE": "STORAGE_CHARGE"}
# Status changes that use or move certificates: only while valid (D8). CLAIMED is not one
# (the certificates were cancelled, while valid, before), nor WITHDRAWN (the issuer taking
# certificates out of circulation never counts them twice).
_NEEDS_VALIDITY = frozenset(
    {"CANCELLED", "CANCELLED_FOR_STORAGE", "RESERVED", "LOCKED", "EXPORTED", "ACTIVE"}
)
# Whole-Wh fields of storage effects (read by storage_checks with int(), which would
# truncate a float): the least value each may take; None may stand where the model writes it.
_STORAGE_NUMBERS: dict[str, tuple[tuple[str, int, bool], ...]] = {
    "scr": (("charging_energy", 0, False), ("loss_wh", 0, True)),
    "sdr": (("discharge_energy", 0, False),),
    "storage_loss": (("loss_wh", 0, False),),
    "scr_source": (("quantity", 1, False),),
    "storage_allocation": (("wh", -(2**63), False),),  # <= 0 is the storage checks' finding
    "sd_gc": (("quantity", 1, False),),
    "efficiency_factor": (("charged_wh", 0, False), ("discharged_wh", 0, False)),
}


def _whole(value: Any, field: str, least: int | None = None) -> int:
    """A strict integer (a bool, float or numeric string is malformed, never truncated)."""
    if type(value) is not int:
        raise _Malformed(f"{field} {value!r} is not an integer")
    if least is not None and value < least:
        raise _Malformed(f"{field} {value!r} is below {least}")
    return value


def _identifier(value: Any, field: str) -> Any:
    if value is None or isinstance(value, bool):
        raise _Malformed(f"{field} {value!r} is not an identifier")
    hash(value)  # an unhashable identifier raises TypeError: malformed
    return value


def _named(value: Any) -> bool:
    """A beneficiary or claimant is given: not missing, null or blank text."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _energy(value: Any, field: str) -> Decimal:
    """Metered Wh: a non-negative finite number, as exact text or a JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Malformed(f"{field} {value!r} is not a number of Wh")
    try:
        energy = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        raise _Malformed(f"{field} {value!r} is not a number of Wh") from None
    if not energy.is_finite() or energy < 0:
        raise _Malformed(f"{field} {value!r} is not a non-negative finite number of Wh")
    return energy


def _fmt(moment: _dt.datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def _check_storage_numbers(replay: _Replay, e: Mapping[str, Any]) -> None:
    for field, least, optional in _STORAGE_NUMBERS.get(e["effect"], ()):
        value = e.get(field)
        if value is None and optional:
            continue
        _whole(value, f"{e['effect']} {field}", least)
