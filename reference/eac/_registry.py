"""The EAC Issuing Body's registry: deciding requests into effects, applying them in one place.

The same discipline as the GC registry (decide without touching state, apply
in ``_apply`` only, log refusals), so a coordinator can decide a linked
request in both registries before applying it in either.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from gc_conformance.reference.actions import ActionStatus, resolved_action
from gc_conformance.reference.eac._commands import (
    AppointGcIssuer,
    EacBackGcs,
    EacCancel,
    EacCancelForGcs,
    EacExpire,
    EacExpireForGcs,
    EacExport,
    EacLinkCancelled,
    EacOpenAccount,
    EacRegisterDevice,
    EacReleaseFromGcs,
    EacReportProduction,
    EacTransfer,
)
from gc_conformance.reference.eac._effects import (
    EacAccountOpened,
    EacActionRecord,
    EacChanged,
    EacDeviceRegistered,
    EacIssuanceResult,
    EacProductionRecorded,
    GcIssuerAppointed,
)
from gc_conformance.reference.eac._policies import EacPolicies
from gc_conformance.reference.eac._records import (
    Eac,
    EacAccount,
    EacDevice,
    EacIssuingBody,
    EacStatus,
)
from gc_conformance.reference.errors import (
    ErrorCode,
    InvalidInput,
    ModelInvariantBroken,
    Problem,
    absurd_field,
    safe_repr,
)
from gc_conformance.reference.history import Accepted, Outcome, Rejected, action_name
from gc_conformance.reference.policies import parse_energy
from gc_conformance.reference.registry import Refusal
from gc_conformance.reference.timestamps import Interval, format_timestamp, parse_timestamp

_Decision = tuple[Any, list[Any]]


def _refuse(code: ErrorCode, field: str, message: str) -> Refusal:
    return Refusal(code, field, message)


class EacRegistry:
    """One EAC Issuing Body's registry (configuration #0)."""

    def __init__(self, body: EacIssuingBody, policies: EacPolicies | None = None) -> None:
        self.body = body
        self.policies = policies if policies is not None else EacPolicies()
        self._accounts: dict[str, EacAccount] = {}
        self._devices: dict[str, EacDevice] = {}
        self._eacs: dict[str, Eac] = {}
        self._by_device: dict[str, list[str]] = {}
        self._periods: dict[str, list[Interval]] = {}
        self._carry: dict[str, int] = {}
        self._appointed: set[str] = set()
        self._next_eac = 1
        self._log: list[EacActionRecord] = []
        self._last_at: _dt.datetime | None = None
        self._deciders: dict[type, Callable[[Any, _dt.datetime], _Decision]] = {
            EacOpenAccount: self._decide_open_account,
            EacRegisterDevice: self._decide_register_device,
            EacReportProduction: self._decide_report,
            EacTransfer: self._decide_transfer,
            EacCancel: self._decide_cancel,
            EacExpire: self._decide_expire,
            AppointGcIssuer: self._decide_appoint,
            EacBackGcs: self._decide_back,
            EacCancelForGcs: self._decide_cancel_for_gcs,
            EacExport: self._decide_export,
            EacLinkCancelled: self._decide_link_cancelled,
            EacReleaseFromGcs: self._decide_release_from_gcs,
            EacExpireForGcs: self._decide_expire_for_gcs,
        }

    # ------------------------------------------------------------------ public API

    def execute(self, command: Any, now: _dt.datetime | str) -> Outcome[Any]:
        try:
            at, value, effects = self.prepare(command, now)
        except (Refusal, InvalidInput) as exc:
            return self.record_refusal(command, exc.problem)
        return self.commit(command, at, value, effects)

    def prepare(self, command: Any, now: _dt.datetime | str) -> tuple[_dt.datetime, Any, list[Any]]:
        at = parse_timestamp(now, "now")
        if self._last_at is not None and at < self._last_at:
            raise _refuse(ErrorCode.TIME_REVERSAL, "now", "before the last recorded action")
        decide = self._deciders.get(type(command))
        if decide is None:
            raise _refuse(ErrorCode.INVALID_FIELD, "command", f"unknown request {type(command)!r}")
        absurd = absurd_field(command)
        if absurd is not None:
            raise _refuse(absurd.code, absurd.field, absurd.message)
        value, effects = decide(command, at)
        return at, value, effects

    def commit(
        self, command: Any, at: _dt.datetime, value: Any, effects: list[Any]
    ) -> Accepted[Any]:
        for effect in effects:
            self._apply(effect)
        action_id = len(self._log) + 1
        actor = getattr(command, "actor", "")
        self._log.append(EacActionRecord(action_id, at, actor, command, None, tuple(effects)))
        self._last_at = at
        return Accepted(action_id, value)

    def record_refusal(self, command: Any, problem: Problem) -> Rejected:
        action_id = len(self._log) + 1
        at = self._last_at or _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
        actor = getattr(command, "actor", "")
        actor_text = actor if isinstance(actor, str) else safe_repr(actor)
        self._log.append(EacActionRecord(action_id, at, actor_text, command, problem, ()))
        return Rejected(action_id, problem)

    def action(self, action_id: object) -> ActionStatus | None:
        """The D9 record of this registry's action ``action_id``, or None (see Registry.action)."""
        if isinstance(action_id, bool) or not isinstance(action_id, int):
            return None
        if not 1 <= action_id <= len(self._log):
            return None
        record = self._log[action_id - 1]
        return resolved_action(
            record.action_id, action_name(record.command), record.actor, record.at, record.problem
        )

    def eac(self, eac_id: str) -> Eac | None:
        return self._eacs.get(eac_id)

    def eacs(self) -> tuple[Eac, ...]:
        return tuple(self._eacs[k] for k in sorted(self._eacs))

    def device(self, device_id: str) -> EacDevice | None:
        return self._devices.get(device_id)

    def account(self, account_id: str) -> EacAccount | None:
        return self._accounts.get(account_id)

    def carried_wh(self, device_id: str) -> int:
        return self._carry.get(device_id, 0)

    def is_appointed(self, gc_issuer_id: str) -> bool:
        return gc_issuer_id in self._appointed

    def account_of(self, holder_id: str) -> EacAccount | None:
        """The first account (by ID) held by ``holder_id``."""
        for account_id in sorted(self._accounts):
            if self._accounts[account_id].holder_id == holder_id:
                return self._accounts[account_id]
        return None

    def eacs_covering(self, device_id: str, period: Interval) -> list[Eac]:
        """The device's EACs whose production period contains ``period``, in ID order."""
        return [
            self._eacs[e]
            for e in self._by_device.get(device_id, ())
            if self._eacs[e].production_period.contains(period)
        ]

    def has_period_covering(self, device_id: str, period: Interval) -> bool:
        return any(p.contains(period) for p in self._periods.get(device_id, ()))

    def balance(self, account_id: str) -> int:
        """Number of ACTIVE EACs in an account."""
        return sum(
            1
            for e in self._eacs.values()
            if e.account_id == account_id and e.status is EacStatus.ACTIVE
        )

    @property
    def history(self) -> Sequence[EacActionRecord]:
        return tuple(self._log)

    def export_history(self) -> list[dict[str, Any]]:
        return [record.to_plain() for record in self._log]

    def fingerprint(self) -> tuple[Any, ...]:
        return (
            tuple(sorted(self._accounts.items())),
            tuple(sorted(self._devices.items())),
            tuple(sorted(self._eacs.items())),
            tuple(sorted(self._carry.items())),
            tuple(sorted(self._appointed)),
            self._next_eac,
        )

    # ------------------------------------------------------------------ checks

    def _require_body(self, actor: object) -> None:
        if actor != self.body.body_id:
            raise _refuse(
                ErrorCode.NOT_AUTHORISED, "actor", f"{actor!r} is not the EAC Issuing Body"
            )

    def _known_account(self, account_id: object, field: str) -> EacAccount:
        account = self._accounts.get(account_id) if isinstance(account_id, str) else None
        if account is None:
            raise _refuse(ErrorCode.UNKNOWN_ACCOUNT, field, f"no EAC account {account_id!r}")
        return account

    def _known_eacs(self, eac_ids: object) -> list[Eac]:
        if (
            not isinstance(eac_ids, tuple | list)
            or not eac_ids
            or not all(isinstance(e, str) for e in eac_ids)
        ):
            raise _refuse(ErrorCode.INVALID_FIELD, "eac_ids", "give a non-empty list of EAC IDs")
        if len(set(eac_ids)) != len(eac_ids):
            raise _refuse(ErrorCode.INVALID_FIELD, "eac_ids", "an EAC is named twice")
        found = []
        for eac_id in eac_ids:
            eac = self._eacs.get(eac_id)
            if eac is None:
                raise _refuse(ErrorCode.UNKNOWN_EAC, "eac_ids", f"no EAC {eac_id!r}")
            found.append(eac)
        return found

    def _require_holder(self, actor: object, eac: Eac) -> None:
        if eac.account_id is None or self._accounts[eac.account_id].holder_id != actor:
            raise _refuse(ErrorCode.NOT_OWNER, "actor", f"{actor!r} does not hold EAC {eac.eac_id}")

    @staticmethod
    def _require_active(eac: Eac, now: _dt.datetime) -> None:
        if eac.status in (EacStatus.BACKING_GC, EacStatus.CANCELLED_FOR_GC, EacStatus.EXPORTED):
            raise _refuse(
                ErrorCode.EAC_BACKS_GC,
                "eac_ids",
                f"EAC {eac.eac_id} is {eac.status.name}: its energy is carried by GCs",
            )
        if eac.status is not EacStatus.ACTIVE:
            raise _refuse(
                ErrorCode.EAC_NOT_ACTIVE, "eac_ids", f"EAC {eac.eac_id} is {eac.status.name}"
            )
        if now >= eac.expiry:
            raise _refuse(
                ErrorCode.CERTIFICATE_EXPIRED,
                "eac_ids",
                f"EAC {eac.eac_id} expired at {format_timestamp(eac.expiry)}",
            )

    def _require_gc_issuer(self, actor: object) -> EacAccount:
        if not isinstance(actor, str) or actor not in self._appointed:
            raise _refuse(
                ErrorCode.GC_ISSUER_NOT_APPOINTED,
                "actor",
                f"{actor!r} is not a GC Issuer appointed by {self.body.body_id!r}",
            )
        account = self.account_of(actor)
        if account is None:
            raise _refuse(
                ErrorCode.GC_ISSUER_NOT_APPOINTED,
                "actor",
                f"GC Issuer {actor!r} holds no account in the EAC registry",
            )
        return account

    # ------------------------------------------------------------------ deciders

    def _decide_open_account(self, cmd: EacOpenAccount, now: _dt.datetime) -> _Decision:
        self._require_body(cmd.actor)
        for name in ("account_id", "holder_id"):
            value = getattr(cmd, name)
            if not isinstance(value, str) or not value.strip():
                raise _refuse(ErrorCode.INVALID_FIELD, name, "must be a non-empty string")
        if cmd.account_id in self._accounts:
            raise _refuse(ErrorCode.DUPLICATE_ACCOUNT, "account_id", f"{cmd.account_id!r} exists")
        return cmd.account_id, [EacAccountOpened(EacAccount(cmd.account_id, cmd.holder_id))]

    def _decide_register_device(self, cmd: EacRegisterDevice, now: _dt.datetime) -> _Decision:
        self._require_body(cmd.actor)
        for name in ("device_id", "meter_id"):
            value = getattr(cmd, name)
            if not isinstance(value, str) or not value.strip():
                raise _refuse(ErrorCode.INVALID_FIELD, name, "must be a non-empty string")
        if cmd.device_id in self._devices:
            raise _refuse(ErrorCode.DUPLICATE_DEVICE, "device_id", f"{cmd.device_id!r} exists")
        self._known_account(cmd.account_id, "account_id")
        device = EacDevice(cmd.device_id, cmd.account_id, cmd.meter_id)
        return cmd.device_id, [EacDeviceRegistered(device)]

    def _decide_appoint(self, cmd: AppointGcIssuer, now: _dt.datetime) -> _Decision:
        self._require_body(cmd.actor)
        if not isinstance(cmd.gc_issuer_id, str) or not cmd.gc_issuer_id.strip():
            raise _refuse(ErrorCode.INVALID_FIELD, "gc_issuer_id", "must be a non-empty string")
        return cmd.gc_issuer_id, [GcIssuerAppointed(cmd.gc_issuer_id)]

    def _decide_report(self, cmd: EacReportProduction, now: _dt.datetime) -> _Decision:
        self._require_body(cmd.actor)
        device = self._devices.get(cmd.device_id) if isinstance(cmd.device_id, str) else None
        if device is None:
            raise _refuse(ErrorCode.UNKNOWN_DEVICE, "device_id", f"no device {cmd.device_id!r}")
        if cmd.meter_id != device.meter_id:
            raise _refuse(
                ErrorCode.METER_MISMATCH, "meter_id", f"{cmd.meter_id!r} is not the device's meter"
            )
        period = Interval.parse(cmd.start, cmd.end, field="period")
        energy = parse_energy(cmd.energy_wh, "energy_wh")
        if period.end > now:
            raise _refuse(ErrorCode.INTERVAL_NOT_ENDED, "period", f"{period} has not ended")
        for other in self._periods.get(device.device_id, ()):
            if other.overlaps(period):
                raise _refuse(
                    ErrorCode.DUPLICATE_ISSUANCE,
                    "period",
                    f"production for {device.device_id!r} over {other} was already reported",
                )
        face = self.policies.face_value.wh
        carried_in = self._carry.get(device.device_id, 0)
        total = carried_in + self.policies.rounding.apply(energy)
        count, carried_out = divmod(total, face)
        expiry = self.policies.validity.expiry(period.end)
        effects: list[Any] = []
        ids = []
        for n in range(count):
            eac_id = f"{self.body.body_id}-{self.body.eac_type}-{self._next_eac + n:08d}"
            ids.append(eac_id)
            eac = Eac(
                eac_id,
                device.device_id,
                device.account_id,
                period.start,
                period.end,
                face,
                now.date(),
                expiry,
            )
            effects.append(EacChanged(None, eac))
        effects.append(
            EacProductionRecorded(
                device.device_id,
                period.start,
                period.end,
                str(energy),
                carried_in,
                carried_out,
                count,
            )
        )
        return EacIssuanceResult(tuple(ids), carried_out), effects

    def _decide_transfer(self, cmd: EacTransfer, now: _dt.datetime) -> _Decision:
        eacs = self._known_eacs(cmd.eac_ids)
        target = self._known_account(cmd.to_account, "to_account")
        if target.holder_id in self._appointed:
            raise _refuse(
                ErrorCode.ISSUER_MAY_NOT_HOLD,
                "to_account",
                f"{target.holder_id!r} is a GC Issuer: it holds EACs only to back GCs (#2)",
            )
        effects: list[Any] = []
        for eac in eacs:
            self._require_holder(cmd.actor, eac)
            self._require_active(eac, now)
            if eac.account_id == target.account_id:
                raise _refuse(ErrorCode.SAME_ACCOUNT, "to_account", f"EAC {eac.eac_id} is there")
            effects.append(EacChanged(eac, attrs.evolve(eac, account_id=target.account_id)))
        return tuple(e.eac_id for e in eacs), effects

    def _decide_cancel(self, cmd: EacCancel, now: _dt.datetime) -> _Decision:
        eacs = self._known_eacs(cmd.eac_ids)
        if not isinstance(cmd.beneficiary, str) or not cmd.beneficiary.strip():
            raise _refuse(ErrorCode.INVALID_FIELD, "beneficiary", "a beneficiary must be named")
        period: Interval | None = None
        if cmd.consumption_start is not None or cmd.consumption_end is not None:
            period = Interval.parse(
                cmd.consumption_start, cmd.consumption_end, field="consumption_period"
            )
        effects: list[Any] = []
        for eac in eacs:
            self._require_holder(cmd.actor, eac)
            self._require_active(eac, now)
            consumption = period or eac.production_period
            new = attrs.evolve(
                eac,
                status=EacStatus.CANCELLED,
                beneficiary=cmd.beneficiary,
                consumption_start=consumption.start,
                consumption_end=consumption.end,
                consumption_location=cmd.consumption_location,
            )
            effects.append(EacChanged(eac, new))
        return tuple(e.eac_id for e in eacs), effects

    def _decide_expire(self, cmd: EacExpire, now: _dt.datetime) -> _Decision:
        self._require_body(cmd.actor)
        effects: list[Any] = []
        for eac_id in sorted(self._eacs):
            eac = self._eacs[eac_id]
            if eac.status in (EacStatus.ACTIVE, EacStatus.BACKING_GC) and now >= eac.expiry:
                effects.append(EacChanged(eac, attrs.evolve(eac, status=EacStatus.EXPIRED)))
        return tuple(e.new.eac_id for e in effects), effects

    def _decide_back(self, cmd: EacBackGcs, now: _dt.datetime) -> _Decision:
        issuer_account = self._require_gc_issuer(cmd.actor)
        effects: list[Any] = []
        for eac in self._known_eacs(cmd.eac_ids):
            if eac.status is EacStatus.BACKING_GC and eac.gc_issuer_id == cmd.actor:
                continue  # already backing this issuer's GCs: nothing changes
            if eac.gc_issuer_id not in (None, cmd.actor):
                raise _refuse(
                    ErrorCode.EAC_LINKED_ELSEWHERE, "eac_ids", f"EAC {eac.eac_id} is linked"
                )
            self._require_active(eac, now)
            new = attrs.evolve(
                eac,
                account_id=issuer_account.account_id,
                status=EacStatus.BACKING_GC,
                gc_issuer_id=cmd.actor,
                gc_configuration=2,
            )
            effects.append(EacChanged(eac, new))
        return tuple(e.new.eac_id for e in effects), effects

    def _decide_cancel_for_gcs(self, cmd: EacCancelForGcs, now: _dt.datetime) -> _Decision:
        self._require_gc_issuer(cmd.actor)
        effects: list[Any] = []
        for eac in self._known_eacs(cmd.eac_ids):
            if eac.gc_issuer_id != cmd.actor:
                raise _refuse(
                    ErrorCode.EAC_LINKED_ELSEWHERE,
                    "eac_ids",
                    f"EAC {eac.eac_id} does not back {cmd.actor!r}'s GCs",
                )
            if eac.status is EacStatus.CANCELLED_FOR_GC:
                continue
            if eac.status is not EacStatus.BACKING_GC:
                raise _refuse(
                    ErrorCode.EAC_NOT_ACTIVE, "eac_ids", f"EAC {eac.eac_id} is {eac.status.name}"
                )
            if now >= eac.expiry:
                raise _refuse(
                    ErrorCode.CERTIFICATE_EXPIRED, "eac_ids", f"EAC {eac.eac_id} has expired"
                )
            new = attrs.evolve(eac, status=EacStatus.CANCELLED_FOR_GC)
            effects.append(EacChanged(eac, new))
        return tuple(e.new.eac_id for e in effects), effects

    def _decide_export(self, cmd: EacExport, now: _dt.datetime) -> _Decision:
        eacs = self._known_eacs(cmd.eac_ids)
        if not isinstance(cmd.gc_issuer_id, str) or cmd.gc_issuer_id not in self._appointed:
            raise _refuse(
                ErrorCode.GC_ISSUER_NOT_APPOINTED,
                "gc_issuer_id",
                f"{cmd.gc_issuer_id!r} is not appointed by {self.body.body_id!r}",
            )
        effects: list[Any] = []
        for eac in eacs:
            self._require_holder(cmd.actor, eac)
            self._require_active(eac, now)
            new = attrs.evolve(
                eac,
                account_id=None,
                status=EacStatus.EXPORTED,
                gc_issuer_id=cmd.gc_issuer_id,
                gc_configuration=2,
            )
            effects.append(EacChanged(eac, new))
        return tuple(e.eac_id for e in eacs), effects

    def _decide_link_cancelled(self, cmd: EacLinkCancelled, now: _dt.datetime) -> _Decision:
        if not isinstance(cmd.actor, str) or not cmd.actor.strip():
            raise _refuse(ErrorCode.INVALID_FIELD, "actor", "the GC Issuer must be named")
        effects: list[Any] = []
        for eac in self._known_eacs(cmd.eac_ids):
            if eac.status is not EacStatus.CANCELLED or eac.beneficiary is None:
                raise _refuse(
                    ErrorCode.EAC_NOT_CANCELLED,
                    "eac_ids",
                    f"EAC {eac.eac_id} is {eac.status.name}, not cancelled for a beneficiary",
                )
            if eac.gc_issuer_id == cmd.actor:
                continue
            if eac.gc_issuer_id is not None:
                raise _refuse(
                    ErrorCode.EAC_LINKED_ELSEWHERE,
                    "eac_ids",
                    f"EAC {eac.eac_id} already has GC Issuer {eac.gc_issuer_id!r}",
                )
            new = attrs.evolve(eac, gc_issuer_id=cmd.actor, gc_configuration=3)
            effects.append(EacChanged(eac, new))
        return tuple(e.new.eac_id for e in effects), effects

    def _backing_eacs_of(self, actor: object, eac_ids: object) -> list[Eac]:
        """The named EACs, each backing ``actor``'s GCs (#2); refused otherwise."""
        self._require_gc_issuer(actor)
        found = self._known_eacs(eac_ids)
        for eac in found:
            if eac.gc_issuer_id != actor or eac.status is not EacStatus.BACKING_GC:
                raise _refuse(
                    ErrorCode.EAC_NOT_ACTIVE,
                    "eac_ids",
                    f"EAC {eac.eac_id} is {eac.status.name}, not backing {actor!r}'s GCs",
                )
        return found

    def _decide_release_from_gcs(self, cmd: EacReleaseFromGcs, now: _dt.datetime) -> _Decision:
        effects: list[Any] = []
        for eac in self._backing_eacs_of(cmd.actor, cmd.eac_ids):
            device = self._devices[eac.device_id]
            new = attrs.evolve(
                eac,
                account_id=device.account_id,
                status=EacStatus.ACTIVE,
                gc_issuer_id=None,
                gc_configuration=None,
            )
            effects.append(EacChanged(eac, new))
        return tuple(e.new.eac_id for e in effects), effects

    def _decide_expire_for_gcs(self, cmd: EacExpireForGcs, now: _dt.datetime) -> _Decision:
        effects: list[Any] = []
        for eac in self._backing_eacs_of(cmd.actor, cmd.eac_ids):
            effects.append(EacChanged(eac, attrs.evolve(eac, status=EacStatus.EXPIRED)))
        return tuple(e.new.eac_id for e in effects), effects

    # ------------------------------------------------------------------ the one place state changes

    def _apply(self, effect: object) -> None:
        if isinstance(effect, EacChanged):
            new = effect.new
            current = self._eacs.get(new.eac_id)
            if current != effect.old:
                raise ModelInvariantBroken(f"{effect} does not follow {current}")
            if new.account_id is not None and new.account_id not in self._accounts:
                raise ModelInvariantBroken(f"EAC {new.eac_id} placed in unknown account")
            if effect.old is None:
                self._by_device.setdefault(new.device_id, []).append(new.eac_id)
                number = int(new.eac_id.rsplit("-", 1)[1])
                self._next_eac = max(self._next_eac, number + 1)
            self._eacs[new.eac_id] = new
        elif isinstance(effect, EacProductionRecorded):
            self._periods.setdefault(effect.device_id, []).append(
                Interval(effect.start, effect.end)
            )
            self._carry[effect.device_id] = effect.carried_out_wh
        elif isinstance(effect, EacAccountOpened):
            self._accounts[effect.account.account_id] = effect.account
        elif isinstance(effect, EacDeviceRegistered):
            self._devices[effect.device.device_id] = effect.device
        elif isinstance(effect, GcIssuerAppointed):
            self._appointed.add(effect.gc_issuer_id)
        else:
            raise ModelInvariantBroken(f"the EAC registry cannot apply {effect!r}")
