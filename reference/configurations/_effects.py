"""The link book's effects, the EAC request it plans, and the results of linked requests.

Effects are what the book's ``apply`` changes state with; ``EacSync`` is
what the EAC registry must do to follow the GC side; the results are what a
linked request answers with.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from gc_conformance.reference.eac import (
    EacBackGcs,
    EacCancelForGcs,
    EacExpireForGcs,
    EacLinkCancelled,
    EacReleaseFromGcs,
)
from gc_conformance.reference.history import BundleResult
from gc_conformance.reference.timestamps import format_timestamp


@attrs.frozen(weakref_slot=False)
class GcLinked:
    """An issuance's GCs and the Wh each EAC contributes to them."""

    issuance_id: int
    issuer_id: str
    configuration: int
    links: tuple[tuple[str, int], ...]
    beneficiary: str | None = None

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "eac_link",
            "issuance_id": self.issuance_id,
            "issuer_id": self.issuer_id,
            "configuration": self.configuration,
            "links": [{"eac_id": e, "wh": wh} for e, wh in self.links],
            "beneficiary": self.beneficiary,
        }


@attrs.frozen(weakref_slot=False)
class HourSuspended:
    """Production of an hour left without GCs for lack of EAC energy."""

    device_id: str
    start: _dt.datetime
    end: _dt.datetime
    metered_wh: int
    issued_wh: int
    suspended_wh: int

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "suspension",
            "device_id": self.device_id,
            "production_start": format_timestamp(self.start),
            "production_end": format_timestamp(self.end),
            "metered_wh": self.metered_wh,
            "issued_wh": self.issued_wh,
            "suspended_wh": self.suspended_wh,
        }


@attrs.frozen(weakref_slot=False)
class GcUnlinked:
    """#2: GCs of an issuance were withdrawn; the Wh they took from each EAC is given back."""

    issuance_id: int
    links: tuple[tuple[str, int], ...]

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "eac_unlink",
            "issuance_id": self.issuance_id,
            "links": [{"eac_id": e, "wh": wh} for e, wh in self.links],
        }


@attrs.frozen
class EacSync:
    """What the EAC registry must do so that it stays in step with a #2/#3 GC action."""

    back: tuple[str, ...] = ()  # #2: EACs newly backing GCs (a routed correction)
    link_cancelled: tuple[str, ...] = ()  # #3: cancelled EACs newly linked to this Issuer
    cancel: tuple[str, ...] = ()  # #2: EACs whose GCs were cancelled
    release: tuple[str, ...] = ()  # #2: EACs no GC draws on any more (all withdrawn)
    expire: tuple[str, ...] = ()  # #2: EACs whose GCs all expired unused

    def requests(self, gc_issuer_id: str) -> list[Any]:
        made: list[Any] = []
        for ids, build in (
            (self.back, EacBackGcs),
            (self.link_cancelled, EacLinkCancelled),
            (self.cancel, EacCancelForGcs),
            (self.release, EacReleaseFromGcs),
            (self.expire, EacExpireForGcs),
        ):
            if ids:
                made.append(build(gc_issuer_id, ids))
        return made


@attrs.frozen
class LinkedIssuance:
    """Outcome of a linked issuance: what was issued, what suspended, which EACs back it."""

    issuance_ids: tuple[int, ...]
    bundle_ids: tuple[int, ...]
    issued_wh: int
    suspended_wh: int
    links: tuple[tuple[str, int], ...]
    eac_request: Any = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class LinkedCancellation:
    bundle: BundleResult
    eac_ids: tuple[str, ...]
    eac_request: Any = attrs.field(default=None, eq=False, repr=False)
