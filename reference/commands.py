"""Requests a registry is asked to carry out, as plain data.

Fields are deliberately loose (timestamps as ``str`` or aware ``datetime``,
energy as text or number) because requests arrive from vectors, adapters and
HTTP bodies: the registry parses and validates every field itself and answers
a malformed request with a rejection naming the field, exactly as it answers
a forbidden one. Every request names its ``actor``: authority (D2) is checked
on each one.
"""

from __future__ import annotations

import datetime as _dt
import enum

import attrs

from gc_conformance.reference.entities import Account, Device
from gc_conformance.reference.policies import EnergyInput

Stamp = str | _dt.datetime


class ReserveKind(enum.Enum):
    RESERVED = "held for a pending transfer, e.g. to another registry (configuration #2)"
    LOCKED = "frozen by the holder or the issuer, e.g. during a dispute"


@attrs.frozen
class OpenAccount:
    actor: str
    account: Account


@attrs.frozen
class RegisterDevice:
    actor: str
    device: Device


@attrs.frozen
class SubmitProduction:
    """Issue-from-data style: the issuer submits a metered reading; the registry computes the bundle."""

    actor: str
    device_id: str
    meter_id: str
    start: Stamp
    end: Stamp
    energy_wh: EnergyInput
    gross_or_net: str = "NET"  # must be what the device's meter is registered to measure


@attrs.frozen
class IssueBundle:
    """Issuer-created style: the issuer asserts a bundle, and the registry must validate it.

    ``energy_wh`` is the metered production the bundle is issued from; the
    registry checks the asserted range and quantity against it.
    """

    actor: str
    device_id: str
    account_id: str
    start: Stamp
    end: Stamp
    range_start: int
    range_end: int
    quantity: int
    energy_wh: EnergyInput


@attrs.frozen
class Transfer:
    actor: str
    bundle_id: int
    to_account: str
    quantity: int | None = None  # None: the whole bundle


@attrs.frozen
class Cancel:
    actor: str
    bundle_id: int
    beneficiary: str
    purpose: str = "CONSUMPTION"  # STORAGE_CHARGE is refused: the storage book's CancelForCharge
    quantity: int | None = None
    consumption_start: Stamp | None = None
    consumption_end: Stamp | None = None
    consumption_location: str | None = None


@attrs.frozen
class Claim:
    """Use cancelled certificates for a claim; ``claimant`` must be the cancellation's beneficiary."""

    actor: str
    bundle_id: int
    claimant: str
    quantity: int | None = None


@attrs.frozen
class Reserve:
    """The holder reserves or locks; the GC Issuer may also lock (not reserve) any bundle."""

    actor: str
    bundle_id: int
    quantity: int | None = None
    kind: str = "RESERVED"  # a ReserveKind name


@attrs.frozen
class Release:
    actor: str
    bundle_id: int


@attrs.frozen
class Withdraw:
    actor: str
    bundle_id: int
    reason: str
    quantity: int | None = None


@attrs.frozen
class Expire:
    """Sweep: mark every live bundle whose validity has ended at ``now`` as expired."""

    actor: str


@attrs.frozen
class CorrectProduction:
    """D10: the metered value behind issued GCs was wrong; this is the corrected value."""

    actor: str
    device_id: str
    start: Stamp
    end: Stamp
    energy_wh: EnergyInput


@attrs.frozen
class Query:
    """Read-only selection of current bundles; a holder sees only its own accounts' bundles."""

    actor: str
    account_id: str | None = None
    device_id: str | None = None
    issuance_id: int | None = None
    status: str | None = None  # a BundleStatus name
    energy_source: str | None = None
    start: Stamp | None = None  # with ``end``: production interval overlapping [start, end)
    end: Stamp | None = None


Command = (
    OpenAccount
    | RegisterDevice
    | SubmitProduction
    | IssueBundle
    | Transfer
    | Cancel
    | Claim
    | Reserve
    | Release
    | Withdraw
    | Expire
    | CorrectProduction
)
