"""Effects: the only way registry state changes, and the vocabulary of its history.

An accepted request is decided into a tuple of effects before anything
changes; the registry then applies them in one place. The same effects, in
plain form, are the lineage steps the invariant checker reads, so a history
observed from another registry needs only to be written in this vocabulary:

``issue``     a new issuance and its first bundle
``split``     a bundle superseded by children partitioning its range
``transfer``  a bundle moved between accounts
``status``    a bundle's status changed (cancel, claim, reserve, release,
              withdraw, expire), with the beneficiary/claimant where relevant
``reading``   the production recognised for a device and interval (and the
              device's sub-Wh rounding remainder carried past it)
``debt``      an outstanding D10 deduction for a device changed
``account``   an account was opened
``device``    a production device was registered
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from gc_conformance.reference.bundles import BundleStatus, Cancellation, Issuance
from gc_conformance.reference.entities import Account, Device
from gc_conformance.reference.timestamps import format_date, format_timestamp


@attrs.frozen(weakref_slot=False)
class Issued:
    issuance: Issuance
    bundle_id: int

    def to_plain(self) -> dict[str, Any]:
        iss = self.issuance
        return {
            "effect": "issue",
            "issuance_id": iss.issuance_id,
            "bundle_id": self.bundle_id,
            "device_id": iss.device_id,
            "account_id": iss.account_id,
            "production_start": format_timestamp(iss.production_start),
            "production_end": format_timestamp(iss.production_end),
            "range_start": iss.range_start,
            "range_end": iss.range_end,
            "issuance_date": format_date(iss.issuance_date),
            "expiry": format_timestamp(iss.expiry),
            "corrects_issuance_id": iss.corrects_issuance_id,
            # What a third party's history must show for the configuration rules (D3) and
            # D10 deductions to be auditable from the history alone.
            "issuer_id": iss.issuer_id,
            "registry_configuration": iss.registry_configuration,
            "transferable": iss.transferable,
            "is_storage": iss.is_storage,
            "deducted_wh": iss.deducted_wh,
            # D8: from here to ``expiry`` only own-hour matching (policy own_hour_use)
            **(
                {"own_hour_only_from": format_timestamp(iss.own_hour_only_from)}
                if iss.own_hour_only_from is not None
                else {}
            ),
        }


@attrs.frozen(weakref_slot=False)
class Split:
    """``parent_id`` is superseded by ``children``: ``(bundle_id, range_start, range_end)`` each."""

    parent_id: int
    children: tuple[tuple[int, int, int], ...]

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "split",
            "parent_id": self.parent_id,
            "children": [
                {"bundle_id": b, "range_start": s, "range_end": e} for b, s, e in self.children
            ],
        }


@attrs.frozen(weakref_slot=False)
class Transferred:
    bundle_id: int
    from_account: str
    to_account: str

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "transfer",
            "bundle_id": self.bundle_id,
            "from_account": self.from_account,
            "to_account": self.to_account,
        }


@attrs.frozen(weakref_slot=False)
class StatusChanged:
    bundle_id: int
    old: BundleStatus
    new: BundleStatus
    cancellation: Cancellation | None = None
    claimant: str | None = None
    locked_by_issuer: bool = False  # a LOCKED status set by the GC Issuer, not the holder

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {
            "effect": "status",
            "bundle_id": self.bundle_id,
            "from": self.old.name,
            "to": self.new.name,
        }
        if self.cancellation is not None:
            plain["beneficiary"] = self.cancellation.beneficiary
            plain["purpose"] = self.cancellation.purpose.name
            # D8: what a cancellation was matched to decides whether it needed the
            # 12-month consumption period or only the GC's own hour; kept when named.
            c = self.cancellation
            if c.consumption_start is not None and c.consumption_end is not None:
                plain["consumption_start"] = format_timestamp(c.consumption_start)
                plain["consumption_end"] = format_timestamp(c.consumption_end)
            if c.consumption_location is not None:
                plain["consumption_location"] = c.consumption_location
        if self.claimant is not None:
            plain["claimant"] = self.claimant
        if self.locked_by_issuer:
            plain["locked_by"] = "issuer"
        return plain


@attrs.frozen(weakref_slot=False)
class ReadingRecognised:
    """The production (whole Wh) now recognised for one device and interval.

    ``carried`` is the device's sub-Wh rounding remainder after this reading
    (exact decimal text), carried to its next reading (see ``Rounding``);
    ``None`` when the reading does not take part in the carry (it is then
    left as it was). ``rounded_alone`` names the rounding (``DOWN`` or
    ``NEAREST``) of a reading rounded on its own (``RoundingCarry.PER_READING``),
    so a checker can hold its hour to its own reading; absent under a carry.
    """

    device_id: str
    start: _dt.datetime
    end: _dt.datetime
    recognised_wh: int
    metered: str  # exact metered value as submitted
    meter_id: str
    gross_or_net: str  # GrossOrNet name
    carried: str | None = None
    rounded_alone: str | None = None

    def to_plain(self) -> dict[str, Any]:
        plain = {
            "effect": "reading",
            "device_id": self.device_id,
            "meter_id": self.meter_id,
            "production_start": format_timestamp(self.start),
            "production_end": format_timestamp(self.end),
            "recognised_wh": self.recognised_wh,
            "metered_wh": self.metered,
            "gross_or_net": self.gross_or_net,
            "carried_wh": self.carried,
        }
        if self.rounded_alone is not None:
            plain["rounded_alone"] = self.rounded_alone
        return plain


@attrs.frozen(weakref_slot=False)
class DebtChanged:
    """An outstanding D10 deduction: ``remaining_wh`` 0 means settled."""

    device_id: str
    debt_id: int
    hour_of_day: int | None  # None: deductible from any hour
    remaining_wh: int

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "debt",
            "device_id": self.device_id,
            "debt_id": self.debt_id,
            "hour_of_day": self.hour_of_day,
            "remaining_wh": self.remaining_wh,
        }


@attrs.frozen(weakref_slot=False)
class AccountOpened:
    account: Account

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "account",
            "account_id": self.account.account_id,
            "holder_id": self.account.holder_id,
            "exemption": None if self.account.exemption is None else self.account.exemption.name,
        }


@attrs.frozen(weakref_slot=False)
class DeviceRegistered:
    device: Device

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "device",
            "device_id": self.device.device_id,
            "account_id": self.device.account_id,
            "meter_id": self.device.meter_id,
            "capacity_w": self.device.capacity_w,
        }


Effect = (
    AccountOpened
    | DeviceRegistered
    | Issued
    | Split
    | Transferred
    | StatusChanged
    | ReadingRecognised
    | DebtChanged
)
