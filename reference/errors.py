"""Canonical error codes and the two ways the model says "no".

Why two: malformed *input* (a timestamp with 95 seconds, a negative Wh) is
caught while a value is parsed, before any registry is involved, and raised as
:class:`InvalidInput`; a well-formed *request* that the rules forbid (transfer
by a non-owner, a second issuance for the same hour) is answered by the
registry with a :class:`Rejection`. Both carry an :class:`ErrorCode` whose
*name* is the public, stable code used in reports, vectors and adapters, and
both name the field at fault, so a vendor reading a failure knows exactly
which rule and which input were involved.

Codes are never renamed or reused: vectors and vendors' error mappers depend on
them. Add new members at the end of their group.
"""

from __future__ import annotations

import enum
import reprlib
from collections.abc import Iterator
from typing import Any

import attrs


class ErrorCode(enum.Enum):
    """Every reason the reference model rejects something; the name is the public code."""

    # --- malformed input (raised as InvalidInput while parsing) ---
    INVALID_TIMESTAMP = "timestamp is not a strict UTC YYYY-MM-DDThh:mm:ssZ value"
    INVALID_DATE = "date is not a strict YYYY-MM-DD value"
    INVALID_INTERVAL = "interval start is not strictly before its end"
    INTERVAL_TOO_LONG = "interval is longer than the permitted maximum"
    INVALID_ENERGY = "energy is not a finite, non-negative number of Wh"
    INVALID_QUANTITY = "certificate quantity is not a positive whole number"
    INVALID_FIELD = "a required field is missing, empty or of the wrong type"
    INVALID_POLICY = "a policy value is unknown or inconsistent"

    # --- references to things that do not exist / already exist ---
    UNKNOWN_ACCOUNT = "no such account"
    UNKNOWN_DEVICE = "no such production device"
    UNKNOWN_BUNDLE = "no such certificate bundle"
    UNKNOWN_PRODUCTION = "no production was reported for this device and interval"
    DUPLICATE_ACCOUNT = "an account with this ID already exists"
    DUPLICATE_DEVICE = "a device with this ID is already registered in the domain"
    METER_MISMATCH = "the meter ID does not belong to the device"
    DUPLICATE_METER_ID = "the meter ID is already registered for another device in the domain"
    GROSS_NET_MISMATCH = (
        "the reading's gross/net indicator differs from the device's registered one"
    )

    # --- authority (D2) ---
    NOT_AUTHORISED = "the actor may not perform this action"
    NOT_OWNER = "only the account holding the bundle may act on it"
    ISSUER_MAY_NOT_HOLD = "the GC Issuer may hold certificates only for the exempt purposes of D2"
    ISSUER_MAY_NOT_TRADE = "the GC Issuer's exempt account may be used only for its D2 purpose, never to trade or supply"

    # --- issuance (D4 risks 1 and 3, D5, D6) ---
    DUPLICATE_ISSUANCE = "certificates were already issued for this device and interval"
    CAPACITY_EXCEEDED = (
        "reported energy exceeds what the device's capacity can produce in the interval"
    )
    RANGE_OVERLAP = "the certificate ID range overlaps IDs already issued"
    RANGE_QUANTITY_MISMATCH = "range end - start + 1 does not equal the quantity"
    QUANTITY_EXCEEDS_PRODUCTION = "the bundle asserts more Wh than the production it is issued from"
    ACCOUNT_MISMATCH = "certificates must be issued into the device's registered account"
    PRODUCTION_TOO_OLD = (
        "certificates for this production would already be past their validity (D8)"
    )

    # --- lifecycle (D3, D4 risks 2, 4, 5) ---
    BUNDLE_NOT_ACTIVE = "the bundle is not in a state that allows this action"
    QUANTITY_EXCEEDS_BUNDLE = "the requested quantity exceeds the bundle's quantity"
    SAME_ACCOUNT = "source and target account are the same"
    CERTIFICATE_EXPIRED = "the bundle's validity has ended"
    NOT_CANCELLED = "only certificates cancelled for consumption can be claimed"
    ALREADY_CLAIMED = "the certificates were already claimed"
    BENEFICIARY_MISMATCH = "the claimant is not the beneficiary named at cancellation"
    NOT_RESERVED = "the bundle is not reserved or locked"
    TIME_REVERSAL = "the action's time is earlier than the registry's last recorded action"
    NOT_TRANSFERABLE = "the certificates were issued non-transferable"
    INTERVAL_NOT_ENDED = "production cannot be reported for an interval that has not ended"
    CONSUMPTION_OUTSIDE_VALIDITY = (
        "the consumption period lies outside the certificates' validity period (D8)"
    )
    STORAGE_CHARGE_NEEDS_SCR = "cancellation for storage charging is made against a Storage Charge Record (CancelForCharge)"

    # --- error correction (D10) ---
    CORRECTION_UNCHANGED = "the corrected production equals what was already recognised"
    DEDUCTION_NOT_APPLIED = (
        "the asserted bundle ignores the outstanding D10 deduction due from this issuance"
    )

    # --- storage (D7) ---
    NOT_A_STORAGE_DEVICE = "the device is not a registered storage system"
    UNKNOWN_STORAGE_RECORD = "no such storage charge or discharge record"
    ALLOCATION_METHOD_FIXED = "a storage system's allocation method cannot be changed"
    STORAGE_INTERVAL_MISMATCH = "the storage interval does not match the settlement period"
    STORAGE_INTERVAL_OUT_OF_ORDER = "storage data must follow the previous interval in time"
    STATE_OF_CHARGE_REQUIRED = "the loss method needs the state of charge"
    STATE_OF_CHARGE_INCONSISTENT = "the state of charge implies energy created in storage"
    GC_INTERVAL_MISMATCH = "the GCs were not produced in the charge record's interval"
    CHARGE_EXCEEDED = "more GCs than the metered charge of the record"
    EFFICIENCY_WINDOW_INVALID = "the efficiency-factor window is outside what is allowed"
    EFFICIENCY_UNDEFINED = "no efficiency factor can be computed from the window's data"
    LOSSES_NOT_CALCULATED = "charge records must have their losses calculated first"
    ALLOCATION_EXCEEDS_CHARGE = "more than the charge record holds after losses"
    ALLOCATION_EXCEEDS_DISCHARGE = "more than the discharge record still needs"
    ALLOCATION_BEFORE_CHARGE = "energy cannot be discharged before it was charged"
    ALLOCATION_NOT_EXPLICIT = "the allocation list must be given (operator's discretion) or not"
    SDR_NOT_FULLY_ALLOCATED = "the discharge record is not fully allocated to charge records"
    INPUTS_NOT_CANCELLED = "GCs behind an allocated charge record are not all cancelled"
    SDR_ALREADY_USED = "the discharge record already has its GC or beneficiary"
    NOT_A_STORAGE_GC = "the bundle is not a storage-discharge GC"
    TIME_SHIFT_ALREADY_CLAIMED = "the records behind this GC already served a time-shift claim"
    STORAGE_OUTPUT_NEEDS_SDR = (
        "a storage system's output is certified only from its discharge records"
    )

    # --- configurations (D3) ---
    UNKNOWN_EAC = "no such EAC in the EAC registry"
    EAC_NOT_ACTIVE = "the EAC is not in a state that allows this action"
    DUPLICATE_ISSUING_BODY = "another EAC Issuing Body already issues this EAC type in the domain"
    NO_UNDERLYING_EAC = "no EAC was issued for this device and production period"
    EXCEEDS_EAC_ENERGY = "the GC energy would exceed the energy of the EACs behind it"
    EAC_BACKS_GC = "the EAC backs GCs and may serve no other claim, move or conversion"
    EAC_LINKED_ELSEWHERE = "the EAC is already linked to another GC Issuer"
    EAC_NOT_CANCELLED = "the EAC is not cancelled for a named beneficiary"
    OUTSIDE_EAC_PERIOD = "the GC interval lies outside the EAC's production or consumption period"
    EAC_DEVICE_MISMATCH = "the EAC was issued for another production device"
    GC_ISSUER_NOT_APPOINTED = (
        "the GC Issuer is not appointed by, or has no account with, the EAC Issuing Body"
    )
    CONFIGURATION_MANDATED = (
        "the producer's EAC Issuing Body runs configuration #1 under a government mandate"
    )
    WRONG_CONFIGURATION = "the request does not belong to this registry's scheme configuration"
    NOT_COORDINATED = "a linked request must go through both registries together"


@attrs.frozen
class Problem:
    """What was wrong, as data: the code, the field at fault, and a sentence for people."""

    code: ErrorCode
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.code.name} [{self.field}]: {self.message}"


class GCReferenceError(Exception):
    """Base of every exception the reference model raises on purpose."""


class InvalidInput(GCReferenceError, ValueError):
    """A value could not be parsed or violates a rule of its type; nothing was changed."""

    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        self.problem = Problem(code, field, message)
        super().__init__(str(self.problem))

    @property
    def code(self) -> ErrorCode:
        return self.problem.code

    @property
    def field(self) -> str:
        return self.problem.field


class ModelInvariantBroken(GCReferenceError, AssertionError):
    """The model itself broke one of its invariants: a bug in the oracle, never a verdict."""


# ----------------------------------------------------------------------------- absurd input

#: Deepest nesting of lists, tuples, dicts and records a request field may have. The
#: deepest legitimate field (ConvertEacs.hours: a tuple of (start, end, Wh) tuples inside
#: a record) is three levels; anything far deeper is an attack or a bug, and answering it
#: must not recurse (a 1000-deep ID made repr() raise RecursionError).
MAX_FIELD_DEPTH = 16
#: Most elements (containers and leaves) a request field may hold.
MAX_FIELD_SIZE = 100_000

_SAFE_REPR = reprlib.Repr()
_SAFE_REPR.maxlevel = 3
_SAFE_REPR.maxstring = 80
_SAFE_REPR.maxother = 80


def safe_repr(value: object) -> str:
    """A short repr that cannot recurse without bound, for messages about bad input."""
    try:
        return _SAFE_REPR.repr(value)
    except Exception:  # a hostile __repr__: name the type only
        return f"<{type(value).__name__}>"


def _children(value: object) -> Iterator[object]:
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return iter(())
    if isinstance(value, dict):
        return iter([*value.keys(), *value.values()])
    if isinstance(value, list | tuple | set | frozenset):
        return iter(value)
    if attrs.has(type(value)):
        record: Any = type(value)
        return (getattr(value, f.name) for f in attrs.fields(record))
    return iter(())


def absurd_field(command: object) -> Problem | None:
    """The first field of ``command`` nested or sized beyond reason, as an INVALID_FIELD problem.

    Walks iteratively (never recursively), so it answers for any depth.
    """
    if not attrs.has(type(command)):
        return None
    record: Any = type(command)
    for field in attrs.fields(record):
        stack = [(getattr(command, field.name), 0)]
        seen = 0
        while stack:
            value, depth = stack.pop()
            seen += 1
            if depth > MAX_FIELD_DEPTH or seen > MAX_FIELD_SIZE:
                reason = (
                    f"nested more than {MAX_FIELD_DEPTH} levels deep"
                    if depth > MAX_FIELD_DEPTH
                    else f"holds more than {MAX_FIELD_SIZE} elements"
                )
                return Problem(ErrorCode.INVALID_FIELD, field.name, f"the value is {reason}")
            stack.extend((child, depth + 1) for child in _children(value))
    return None
