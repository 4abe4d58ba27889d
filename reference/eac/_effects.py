"""What an accepted EAC request changes, and the log record.

Effects are the only input of the registry's ``_apply``; each has a plain
form, so a history can be judged without the model (the cross-registry checker
reads EAC histories in that form).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from gc_conformance.reference.eac._records import Eac, EacAccount, EacDevice
from gc_conformance.reference.errors import Problem
from gc_conformance.reference.timestamps import format_timestamp


@attrs.frozen
class EacAccountOpened:
    account: EacAccount

    def to_plain(self) -> dict[str, Any]:
        return {"effect": "eac_account", **attrs.asdict(self.account)}


@attrs.frozen
class EacDeviceRegistered:
    device: EacDevice

    def to_plain(self) -> dict[str, Any]:
        return {"effect": "eac_device", **attrs.asdict(self.device)}


@attrs.frozen
class GcIssuerAppointed:
    gc_issuer_id: str

    def to_plain(self) -> dict[str, Any]:
        return {"effect": "eac_appoint", "gc_issuer_id": self.gc_issuer_id}


@attrs.frozen
class EacProductionRecorded:
    """A period's reading with the remainder carried in from, and out to, the next period."""

    device_id: str
    start: _dt.datetime
    end: _dt.datetime
    metered: str
    carried_in_wh: int
    carried_out_wh: int
    issued: int  # number of EACs

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "eac_production",
            "device_id": self.device_id,
            "production_start": format_timestamp(self.start),
            "production_end": format_timestamp(self.end),
            "metered_wh": self.metered,
            "carried_in_wh": self.carried_in_wh,
            "carried_out_wh": self.carried_out_wh,
            "issued": self.issued,
        }


@attrs.frozen
class EacChanged:
    """An EAC created (``old`` None) or replaced by a new version of itself."""

    old: Eac | None
    new: Eac

    def to_plain(self) -> dict[str, Any]:
        return {
            "effect": "eac",
            "from": None if self.old is None else self.old.status.name,
            **self.new.to_plain(),
        }


EacEffect = (
    EacAccountOpened | EacDeviceRegistered | GcIssuerAppointed | EacProductionRecorded | EacChanged
)


@attrs.frozen(weakref_slot=False)
class EacActionRecord:
    action_id: int
    at: _dt.datetime
    actor: str
    command: Any
    problem: Problem | None
    effects: tuple[Any, ...]

    def to_plain(self) -> dict[str, Any]:
        name = type(self.command).__name__
        return {
            "action_id": self.action_id,
            "at": format_timestamp(self.at),
            "actor": self.actor,
            "action": "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_"),
            "accepted": self.problem is None,
            "code": None if self.problem is None else self.problem.code.name,
            "effects": [effect.to_plain() for effect in self.effects],
        }


@attrs.frozen
class EacIssuanceResult:
    eac_ids: tuple[str, ...]
    carried_out_wh: int
