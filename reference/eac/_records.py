"""The records of an EAC registry: issuing bodies, EACs, accounts and devices.

Frozen attrs classes, replaced (never edited) on every change; the one rule
they carry is who may run which configuration (``designate_issuing_bodies``).
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterable
from typing import Any

import attrs

from gc_conformance.reference.errors import ErrorCode, InvalidInput
from gc_conformance.reference.timestamps import Interval, format_timestamp


@attrs.frozen
class EacIssuingBody:
    """The EAC Issuing Body: the only issuer of its EAC type in its domain (D3 #0).

    ``configuration`` is 0 (EACs only) or 1 (it has become the GC Issuer);
    ``government_mandate`` says whether that configuration is imposed by law,
    which forbids GC Issuers to offer #2/#3 GCs to its producers (D3).
    """

    body_id: str
    name: str
    domain: str
    eac_type: str = "GO"
    configuration: int = 0
    government_mandate: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("body_id", "name", "domain", "eac_type"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(ErrorCode.INVALID_FIELD, f"body.{name}", "must be non-empty")
        if self.configuration not in (0, 1):
            raise InvalidInput(ErrorCode.INVALID_FIELD, "body.configuration", "must be 0 or 1")

    @property
    def mandates_configuration_1(self) -> bool:
        return self.configuration == 1 and self.government_mandate


def designate_issuing_bodies(bodies: Iterable[EacIssuingBody]) -> dict[tuple[str, str], str]:
    """Map (domain, EAC type) to its single Issuing Body; a second one is refused (D3 #0)."""
    sole: dict[tuple[str, str], str] = {}
    for body in bodies:
        key = (body.domain, body.eac_type)
        if key in sole and sole[key] != body.body_id:
            raise InvalidInput(
                ErrorCode.DUPLICATE_ISSUING_BODY,
                "body.body_id",
                f"{sole[key]!r} already issues {body.eac_type} EACs in {body.domain}",
            )
        sole[key] = body.body_id
    return sole


class EacStatus(enum.Enum):
    ACTIVE = "held in an account, transferable"
    CANCELLED = "cancelled for a named beneficiary"
    EXPIRED = "validity ended unused"
    EXPORTED = "converted into GCs; no longer resides in this registry (#2)"
    BACKING_GC = "held by the GC Issuer on behalf of GC holders; serves no other claim (#2)"
    CANCELLED_FOR_GC = "cancelled because the GCs it backs were cancelled (#2)"


@attrs.frozen
class Eac:
    eac_id: str
    device_id: str
    account_id: str | None  # None once exported
    production_start: _dt.datetime
    production_end: _dt.datetime
    face_value_wh: int
    issuance_date: _dt.date
    expiry: _dt.datetime
    status: EacStatus = EacStatus.ACTIVE
    beneficiary: str | None = None
    consumption_start: _dt.datetime | None = None
    consumption_end: _dt.datetime | None = None
    consumption_location: str | None = None
    gc_issuer_id: str | None = None  # the one GC Issuer linked to it (#2, #3)
    gc_configuration: int | None = None

    @property
    def production_period(self) -> Interval:
        return Interval(self.production_start, self.production_end)

    @property
    def consumption_period(self) -> Interval | None:
        if self.consumption_start is None or self.consumption_end is None:
            return None
        return Interval(self.consumption_start, self.consumption_end)

    def to_plain(self) -> dict[str, Any]:
        return {
            "eac_id": self.eac_id,
            "device_id": self.device_id,
            "account_id": self.account_id,
            "production_start": format_timestamp(self.production_start),
            "production_end": format_timestamp(self.production_end),
            "face_value_wh": self.face_value_wh,
            "expiry": format_timestamp(self.expiry),
            "status": self.status.name,
            "beneficiary": self.beneficiary,
            "gc_issuer_id": self.gc_issuer_id,
            "gc_configuration": self.gc_configuration,
        }


@attrs.frozen
class EacAccount:
    account_id: str
    holder_id: str


@attrs.frozen
class EacDevice:
    device_id: str
    account_id: str
    meter_id: str
