"""Scheme configurations #1-#3 of D3: how a GC registry stands to the EAC registry.

* #1 — the EAC Issuing Body *is* the GC Issuer and issues GCs instead of EACs:
  the core :class:`Registry` with ``Issuer.configuration == 1``
  (:func:`configuration_1_registry`).
* #2 — a GC platform linked to an EAC registry (:func:`configuration_2`). GCs
  come only from the metering of a device for an hour inside the production
  period of EACs issued for that device; the EACs' face value caps the GC
  energy (:class:`MonthlyCap`), an hour without enough EAC energy left is
  suspended (:class:`HourSuspension`); EACs backing GCs are moved to the GC
  Issuer's EAC account and can serve no other claim; cancelling a GC cancels
  its EACs; EACs can also be converted by export (they leave the EAC registry).
* #3 — GCs from EACs already cancelled for a named beneficiary
  (:func:`configuration_3`): same device, hour inside the EAC's production and
  consumption period, volume capped by the EACs, issued non-transferable and
  cancelled at once for the EAC's beneficiary; each EAC gets one GC Issuer.

The GC side of #2/#3 is a :class:`LinkBook` in the GC registry; the EAC side is
the :class:`EacRegistry`. A linked request goes through
:class:`LinkedRegistries`, which decides it in both registries and applies it in
both only if both accept (a refusal in either changes neither, and is logged
in both). Every GC records its configuration (``Issuance.registry_configuration``)
and the EAC IDs behind it (``Issuance.eac_ids``); its expiry is never later
than theirs (D8). A GC Issuer refuses #2/#3 requests when the producer's EAC
Issuing Body runs #1 under a government mandate (CONFIGURATION_MANDATED).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import enum
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from gc_conformance.reference.bundles import BundleStatus, Cancellation, CancellationPurpose
from gc_conformance.reference.commands import (
    Cancel,
    CorrectProduction,
    IssueBundle,
    SubmitProduction,
)
from gc_conformance.reference.eac import (
    Eac,
    EacBackGcs,
    EacCancelForGcs,
    EacExpireForGcs,
    EacExport,
    EacIssuingBody,
    EacLinkCancelled,
    EacRegistry,
    EacReleaseFromGcs,
    EacStatus,
)
from gc_conformance.reference.effects import (
    DebtChanged,
    Issued,
    ReadingRecognised,
    Split,
    StatusChanged,
)
from gc_conformance.reference.entities import Device, Issuer
from gc_conformance.reference.errors import ErrorCode, InvalidInput
from gc_conformance.reference.history import (
    Accepted,
    BundleResult,
    CorrectionResult,
    IssuanceResult,
    Outcome,
)
from gc_conformance.reference.policies import EnergyInput, Policies, parse_energy
from gc_conformance.reference.registry import BookFactory, Refusal, Registry
from gc_conformance.reference.timestamps import Interval, format_timestamp, production_interval

Stamp = str | _dt.datetime

# ----------------------------------------------------------------------------- policies


class MonthlyCap(enum.Enum):
    """How the EAC energy behind an hour's GCs is counted (D3 #2/#3, D13 'monthly caps').

    Either way the GC energy issued for hours inside an EAC production period
    (a month, by default) never exceeds the face value of that period's EACs.
    """

    POOLED = (
        "the period's EACs form one pool of Wh; each hour's GCs draw on it in EAC ID order "
        "and one EAC may back several hours"
    )
    WHOLE_EACS = (
        "each hour's GCs use EACs no other hour used; an EAC's unused part backs nothing "
        "(simple one-to-many links, at the cost of stranded energy)"
    )


class HourSuspension(enum.Enum):
    """What happens to an hour whose production exceeds the EAC energy left (D3 #2, D13)."""

    SUSPEND_WHOLE_HOUR = "no GCs for that hour; the whole hour is recorded as suspended"
    SUSPEND_UNCOVERED_PART = "GCs for the covered part; the rest of the hour is suspended"
    REFUSE = "no suspension practice: the request is refused with EXCEEDS_EAC_ENERGY"


@attrs.frozen
class ConfigurationPolicies:
    """Policy values of a #2/#3 GC registry; defaults: pooled cap, whole-hour suspension."""

    monthly_cap: MonthlyCap = MonthlyCap.POOLED
    suspension: HourSuspension = HourSuspension.SUSPEND_WHOLE_HOUR

    def describe(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).name for f in attrs.fields(ConfigurationPolicies)}


# ----------------------------------------------------------------------------- commands


@attrs.frozen
class IssueLinkedGcs:
    """#2: the GC Issuer issues GCs for one metered hour of a device with EACs for the period."""

    actor: str
    device_id: str
    meter_id: str
    start: Stamp
    end: Stamp
    energy_wh: EnergyInput


@attrs.frozen
class CancelLinkedGcs:
    """#2: cancel GCs for a beneficiary; the EACs behind them are cancelled in the EAC registry."""

    actor: str
    bundle_id: int
    beneficiary: str
    quantity: int | None = None


@attrs.frozen
class ConvertEacs:
    """#2 conversion by export: the holder's EACs leave the EAC registry and become GCs.

    ``hours`` are the device's metered (start, end, Wh) inside the EACs' period;
    they draw on the exported EACs' face value under the same cap and
    suspension policies. ``account_id`` is the holder's GC account.
    """

    actor: str
    eac_ids: tuple[str, ...]
    device_id: str
    meter_id: str
    hours: tuple[tuple[Stamp, Stamp, EnergyInput], ...]
    account_id: str


@attrs.frozen
class IssueFromCancelledEacs:
    """#3: GCs for one metered hour from EACs cancelled for ``beneficiary``."""

    actor: str
    eac_ids: tuple[str, ...]
    device_id: str
    meter_id: str
    start: Stamp
    end: Stamp
    energy_wh: EnergyInput
    beneficiary: str
    account_id: str


# ----------------------------------------------------------------------------- effects


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


_ENDED_BY_USE = (BundleStatus.CANCELLED, BundleStatus.CANCELLED_FOR_STORAGE)


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


# ----------------------------------------------------------------------------- the GC-side book


def _refuse(code: ErrorCode, field: str, message: str) -> Refusal:
    return Refusal(code, field, message)


class LinkBook:
    """The GC registry's record of the EACs behind its GCs (#2 and #3)."""

    effect_types: tuple[type, ...] = (GcLinked, HourSuspended, GcUnlinked)

    def __init__(
        self, registry: Registry, eac: EacRegistry, policies: ConfigurationPolicies
    ) -> None:
        self._registry = registry
        self.eac = eac
        self.policies = policies
        self._linked_wh: dict[str, int] = {}
        self._links: dict[int, tuple[tuple[str, int], ...]] = {}
        self._beneficiaries: dict[int, str] = {}  # #3 issuance -> the EACs' beneficiary
        self._issuances_of_eac: dict[str, tuple[int, ...]] = {}
        self._suspended: list[HourSuspended] = []
        self._coordinating = False  # not state: set only while LinkedRegistries decides

    def deciders(self) -> Mapping[type, Any]:
        """The linked requests, and every other request of the registry sealed (D3).

        Every decider the registry already has (core and storage) is wrapped by
        :meth:`_seal`, so that no path into a #2/#3 registry can issue an unlinked
        GC or change GCs without the EAC registry following.
        """
        registry = self._registry
        found: dict[type, Any] = {}
        for command_type in registry.command_types():
            decide = registry.decider(command_type)
            assert decide is not None
            found[command_type] = self._sealed(decide)
        for command_type in (SubmitProduction, IssueBundle):
            found[command_type] = self._refused_unlinked(found[command_type])
        correct = registry.decider(CorrectProduction)
        assert correct is not None
        found[CorrectProduction] = self._sealed(self._routed_correction(correct))
        found.update(
            {
                IssueLinkedGcs: self._sealed(self._decide_issue_linked),
                CancelLinkedGcs: self._sealed(self._decide_cancel_linked),
                ConvertEacs: self._sealed(self._decide_convert),
                IssueFromCancelledEacs: self._sealed(self._decide_issue_from_cancelled),
            }
        )
        if registry.issuer.configuration == 2:
            found[Cancel] = self._sealed(self._plain_cancel(found[Cancel]))
        return found

    def _plain_cancel(self, decide: Any) -> Any:
        def decide_plain_cancel(cmd: Cancel, now: _dt.datetime) -> Any:
            """#2: a GC backed by EACs is cancelled only together with them (CancelLinkedGcs)."""
            bundle = (
                self._registry.bundle(cmd.bundle_id) if isinstance(cmd.bundle_id, int) else None
            )
            if bundle is not None and self._links.get(bundle.issuance_id):
                raise _refuse(
                    ErrorCode.NOT_COORDINATED,
                    "bundle_id",
                    f"bundle {bundle.bundle_id} is backed by EACs: cancel it with CancelLinkedGcs",
                )
            return decide(cmd, now)

        return decide_plain_cancel

    def _refused_unlinked(self, decide: Any) -> Any:
        def decide_refused(cmd: Any, now: _dt.datetime) -> Any:
            """Ordinary issuance has no EAC behind it: refused after its own checks (D3)."""
            decide(cmd, now)
            raise self._unlinked_refusal(cmd)

        return decide_refused

    def _unlinked_refusal(self, cmd: Any) -> Refusal:
        configuration = self._registry.issuer.configuration
        linked = "IssueLinkedGcs or ConvertEacs" if configuration == 2 else "IssueFromCancelledEacs"
        return _refuse(
            ErrorCode.WRONG_CONFIGURATION,
            "command",
            f"a configuration #{configuration} registry issues GCs only linked to EACs (D3); "
            f"{type(cmd).__name__} would issue GCs with no EAC behind them: use {linked}",
        )

    def _sealed(self, decide: Any) -> Any:
        def decide_sealed(cmd: Any, now: _dt.datetime) -> Any:
            value, effects = decide(cmd, now)
            return value, self._seal(cmd, value, effects)

        return decide_sealed

    def _seal(self, cmd: Any, value: Any, effects: list[Any]) -> list[Any]:
        """Refuse what would break D3 in this registry; add the #2 unlink effects.

        * every GC issued must be linked to EACs (storage-discharge GCs excepted:
          the GCs cancelled to charge the storage carry the link, D7);
        * what changes GCs backed by EACs must reach the EAC registry too, so
          outside :class:`LinkedRegistries` it is refused (NOT_COORDINATED).
        """
        linked = {e.issuance_id for e in effects if isinstance(e, GcLinked)}
        for effect in effects:
            if (
                isinstance(effect, Issued)
                and not effect.issuance.is_storage
                and effect.issuance.issuance_id not in linked
            ):
                raise self._unlinked_refusal(cmd)
        if self._registry.issuer.configuration == 2:
            effects = effects + self._unlinks(effects)
        primary = getattr(value, "eac_request", None)
        sync = self.eac_sync(effects, tuple(getattr(primary, "eac_ids", ())))
        if sync != EacSync() and not self._coordinating:
            raise _refuse(
                ErrorCode.NOT_COORDINATED,
                "command",
                f"{type(cmd).__name__} changes GCs backed by EACs: send it through both "
                "registries together (LinkedRegistries)",
            )
        return effects

    def _planned_bundles(self, effects: Sequence[Any]) -> dict[int, tuple[int, int]]:
        """bundle ID -> (issuance ID, Wh) for the bundles an action acts on or creates."""
        found: dict[int, tuple[int, int]] = {}
        registry = self._registry
        for effect in effects:
            if isinstance(effect, Split):
                parent = found.get(effect.parent_id)
                if parent is None:
                    bundle = registry.bundle(effect.parent_id)
                    if bundle is None:
                        continue
                    parent = (bundle.issuance_id, bundle.quantity)
                for child, start, end in effect.children:
                    found[child] = (parent[0], end - start + 1)
            elif isinstance(effect, Issued):
                found[effect.bundle_id] = (effect.issuance.issuance_id, effect.issuance.quantity)
        return found

    def _bundle_info(self, planned: Mapping[int, tuple[int, int]], bundle_id: int) -> Any:
        info = planned.get(bundle_id)
        if info is None:
            bundle = self._registry.bundle(bundle_id)
            if bundle is None:
                return None
            info = (bundle.issuance_id, bundle.quantity)
        return info

    def _unlinks(self, effects: Sequence[Any]) -> list[Any]:
        """#2: withdrawn GCs give their Wh back to the EACs, last link first."""
        planned = self._planned_bundles(effects)
        withdrawn: dict[int, int] = {}
        for effect in effects:
            if isinstance(effect, StatusChanged) and effect.new is BundleStatus.WITHDRAWN:
                info = self._bundle_info(planned, effect.bundle_id)
                if info is not None and self._links.get(info[0]):
                    withdrawn[info[0]] = withdrawn.get(info[0], 0) + info[1]
        unlinks: list[Any] = []
        for issuance_id, wh in sorted(withdrawn.items()):
            left = wh
            given: list[tuple[str, int]] = []
            for eac_id, linked_wh in reversed(self._links[issuance_id]):
                if left == 0:
                    break
                share = min(left, linked_wh)
                if share:
                    given.append((eac_id, share))
                    left -= share
            unlinks.append(GcUnlinked(issuance_id, tuple(given)))
        return unlinks

    def eac_sync(self, effects: Sequence[Any], handled: Sequence[str] = ()) -> EacSync:
        """What the EAC registry must do to follow ``effects`` (EACs in ``handled`` excepted)."""
        registry = self._registry
        issuer_id = registry.issuer.issuer_id
        skip = set(handled)
        back: list[str] = []
        link_cancelled: list[str] = []
        for effect in effects:
            if isinstance(effect, GcLinked):
                for eac_id, _ in effect.links:
                    eac = self.eac.eac(eac_id)
                    if eac is None or eac_id in skip or eac.gc_issuer_id == issuer_id:
                        continue
                    target = back if effect.configuration == 2 else link_cancelled
                    if eac_id not in target:
                        target.append(eac_id)
        if registry.issuer.configuration != 2:
            return EacSync(link_cancelled=tuple(link_cancelled))
        planned = self._planned_bundles(effects)
        cancel: set[str] = set()
        ending: set[int] = set()
        touched: set[int] = set()
        for effect in effects:
            if not isinstance(effect, StatusChanged):
                continue
            info = self._bundle_info(planned, effect.bundle_id)
            if info is None or not self._links.get(info[0]):
                continue
            if effect.new in _ENDED_BY_USE:
                cancel.update(e for e, _ in self._links[info[0]])
            elif effect.new is BundleStatus.EXPIRED:
                ending.add(effect.bundle_id)
                touched.add(info[0])
        given_back: dict[str, int] = {}
        for effect in effects:
            if isinstance(effect, GcUnlinked):
                for eac_id, wh in effect.links:
                    given_back[eac_id] = given_back.get(eac_id, 0) + wh
        release = {e for e, wh in given_back.items() if self._linked_wh.get(e, 0) - wh <= 0}
        expire: set[str] = set()
        for issuance_id in touched:
            for eac_id, _ in self._links[issuance_id]:
                if all(
                    not self._live_outside(other, ending)
                    for other in self._issuances_of_eac.get(eac_id, ())
                    if self._links.get(other)
                ):
                    expire.add(eac_id)

        def backing(ids: set[str]) -> tuple[str, ...]:
            chosen = []
            for eac_id in sorted(ids - skip):
                eac = self.eac.eac(eac_id)
                if eac is not None and eac.status is EacStatus.BACKING_GC:
                    chosen.append(eac_id)
            return tuple(chosen)

        cancelled = backing(cancel)
        released = backing(release - cancel)
        expired = backing(expire - cancel - release)
        return EacSync(tuple(back), tuple(link_cancelled), cancelled, released, expired)

    def _live_outside(self, issuance_id: int, ending: set[int]) -> bool:
        return any(
            b.status.is_live and b.bundle_id not in ending
            for b in self._registry.bundles_of_issuance(issuance_id)
        )

    def _routed_correction(self, decide: Any) -> Any:
        def decide_correction(cmd: CorrectProduction, now: _dt.datetime) -> Any:
            """D10 upward correction: the difference is issued through the link, like an hour."""
            value, effects = decide(cmd, now)
            index = next((i for i, e in enumerate(effects) if isinstance(e, Issued)), None)
            if index is None:
                return value, effects
            return self._route_issued(value, list(effects), index, now)

        return decide_correction

    def _route_issued(
        self, value: CorrectionResult, effects: list[Any], index: int, now: _dt.datetime
    ) -> Any:
        registry = self._registry
        issued: Issued = effects[index]
        issuance = issued.issuance
        interval = Interval(issuance.production_start, issuance.production_end)
        beneficiary: str | None = None
        location: str | None = None
        transferable = True
        if registry.issuer.configuration == 2:
            device = registry.device(issuance.device_id)
            assert device is not None
            eacs = self._eligible_eacs(device.device_id, interval, registry.issuer.issuer_id, now)
        else:
            prior = [
                i
                for i in registry.issuances_of_reading(issuance.device_id, interval.start)
                if i in self._beneficiaries
            ]
            if not prior:
                raise _refuse(
                    ErrorCode.NO_UNDERLYING_EAC,
                    "interval",
                    f"no cancelled EACs back {issuance.device_id!r} over {interval}",
                )
            beneficiary = self._beneficiaries[prior[0]]
            ids: list[str] = []
            for i in prior:
                ids.extend(e for e, _ in self._links[i] if e not in ids)
            eacs = [e for e in (self.eac.eac(i) for i in ids) if e is not None]
            location = eacs[0].consumption_location if eacs else None
            transferable = False
            first = registry.issuance(prior[0])
            assert first is not None
            issuance = attrs.evolve(issuance, account_id=first.account_id)
        wanted = issuance.quantity
        issue, links = self._draw(eacs, wanted, {})
        replacement: list[Any] = []
        result = value.issued
        assert result is not None
        if issue:
            expiry, own_from = _capped_by_eacs(
                (issuance.expiry, issuance.own_hour_only_from), eacs, links
            )
            routed = attrs.evolve(
                issuance,
                range_end=issuance.range_start + issue - 1,
                expiry=expiry,
                own_hour_only_from=own_from,
                eac_ids=tuple(e for e, _ in links),
                transferable=transferable,
            )
            replacement.append(Issued(routed, issued.bundle_id))
            replacement.extend(
                self._link_effects(
                    routed.issuance_id,
                    issued.bundle_id,
                    links,
                    beneficiary,
                    location,
                    interval,
                    now,
                )
            )
            result = IssuanceResult(routed.issuance_id, issued.bundle_id, issue, result.deducted_wh)
        else:
            result = IssuanceResult(None, None, 0, result.deducted_wh)
        if issue < wanted:
            replacement.append(
                HourSuspended(
                    issuance.device_id, interval.start, interval.end, wanted, issue, wanted - issue
                )
            )
        effects[index : index + 1] = replacement
        return attrs.evolve(value, issued=result), effects

    def _link_effects(
        self,
        issuance_id: int,
        bundle_id: int,
        links: tuple[tuple[str, int], ...],
        beneficiary: str | None,
        location: str | None,
        interval: Interval,
        now: _dt.datetime,
    ) -> list[Any]:
        registry = self._registry
        made: list[Any] = [
            GcLinked(
                issuance_id,
                registry.issuer.issuer_id,
                registry.issuer.configuration,
                links,
                beneficiary,
            )
        ]
        if beneficiary is not None:
            cancellation = Cancellation(
                beneficiary,
                CancellationPurpose.CONSUMPTION,
                now,
                interval.start,
                interval.end,
                location,
            )
            made.append(  # #3: cancelled at issuance for the EAC's beneficiary
                StatusChanged(
                    bundle_id,
                    BundleStatus.ACTIVE,
                    BundleStatus.CANCELLED,
                    cancellation=cancellation,
                )
            )
        return made

    def _eligible_eacs(
        self, device_id: str, interval: Interval, gc_issuer_id: str, now: _dt.datetime
    ) -> list[Eac]:
        """#2: the device's EACs for the hour still free, or already backing this Issuer."""
        eac_device = self.eac.device(device_id)
        if eac_device is None:
            return []
        return [
            e
            for e in self.eac.eacs_covering(device_id, interval)
            if now < e.expiry
            and (
                (e.status is EacStatus.ACTIVE and e.account_id == eac_device.account_id)
                or (e.status is EacStatus.BACKING_GC and e.gc_issuer_id == gc_issuer_id)
            )
        ]

    def fingerprint(self) -> tuple[Any, ...]:
        return (
            tuple(sorted(self._linked_wh.items())),
            tuple(sorted(self._links.items())),
            tuple(sorted(self._beneficiaries.items())),
            tuple(self._suspended),
        )

    def apply(self, effect: Any) -> None:
        if isinstance(effect, GcLinked):
            self._links[effect.issuance_id] = effect.links
            if effect.beneficiary is not None:
                self._beneficiaries[effect.issuance_id] = effect.beneficiary
            for eac_id, wh in effect.links:
                self._linked_wh[eac_id] = self._linked_wh.get(eac_id, 0) + wh
                self._issuances_of_eac[eac_id] = (
                    *self._issuances_of_eac.get(eac_id, ()),
                    effect.issuance_id,
                )
        elif isinstance(effect, GcUnlinked):
            remaining = dict(self._links[effect.issuance_id])
            for eac_id, wh in effect.links:
                remaining[eac_id] -= wh
                self._linked_wh[eac_id] -= wh
            self._links[effect.issuance_id] = tuple(
                (e, wh)
                for e, wh in self._links[effect.issuance_id]
                if remaining[e] > 0
                for wh in (remaining[e],)
            )
        elif isinstance(effect, HourSuspended):
            self._suspended.append(effect)

    # ---- reads

    def linked_wh(self, eac_id: str) -> int:
        """GC Wh issued against an EAC so far."""
        return self._linked_wh.get(eac_id, 0)

    def links(self, issuance_id: int) -> tuple[tuple[str, int], ...]:
        return self._links.get(issuance_id, ())

    @property
    def suspensions(self) -> tuple[HourSuspended, ...]:
        return tuple(self._suspended)

    @contextlib.contextmanager
    def coordinating(self) -> Iterator[None]:
        self._coordinating = True
        try:
            yield
        finally:
            self._coordinating = False

    # ---- shared checks

    def _preamble(self, configuration: int) -> None:
        if not self._coordinating:
            raise _refuse(
                ErrorCode.NOT_COORDINATED,
                "command",
                "linked requests go through LinkedRegistries, which decides both registries",
            )
        issuer = self._registry.issuer
        if issuer.configuration != configuration:
            raise _refuse(
                ErrorCode.WRONG_CONFIGURATION,
                "command",
                f"a configuration #{configuration} request sent to a #{issuer.configuration} registry",
            )
        if self.eac.body.mandates_configuration_1:
            raise _refuse(
                ErrorCode.CONFIGURATION_MANDATED,
                "device_id",
                f"{self.eac.body.body_id!r} runs configuration #1 under a government mandate: "
                f"#{configuration} GCs may not be offered to its producers",
            )

    def _same_device(self, device_id: object, meter_id: object) -> Device:
        device = self._registry.known_device(device_id)
        eac_device = self.eac.device(device.device_id)
        if eac_device is None:
            raise _refuse(
                ErrorCode.EAC_DEVICE_MISMATCH,
                "device_id",
                f"{device.device_id!r} is not registered with the EAC Issuing Body",
            )
        if meter_id != device.meter_id or meter_id != eac_device.meter_id:
            raise _refuse(
                ErrorCode.METER_MISMATCH,
                "meter_id",
                f"{meter_id!r} is not the meter of {device.device_id!r} in both registries",
            )
        return device

    def _hour(self, device: Device, start: object, end: object, energy: object, now: Any) -> Any:
        interval = production_interval(start, end)
        metered = parse_energy(energy, "energy_wh")
        self._registry.check_ended(interval, now)
        self._registry.check_still_valid(interval, now)
        self._registry.check_fresh_interval(device, interval)
        self._registry.check_capacity(device, interval, metered)
        return interval, metered

    def _available(self, eac: Eac, taken: Mapping[str, int]) -> int:
        used = self._linked_wh.get(eac.eac_id, 0) + taken.get(eac.eac_id, 0)
        if self.policies.monthly_cap is MonthlyCap.WHOLE_EACS and used:
            return 0
        return eac.face_value_wh - used

    def _draw(
        self, eacs: Sequence[Eac], wanted: int, taken: dict[str, int]
    ) -> tuple[int, tuple[tuple[str, int], ...]]:
        """Apply the suspension policy; returns (Wh to issue, links) and updates ``taken``."""
        coverage = sum(self._available(e, taken) for e in eacs)
        if wanted <= coverage:
            issue = wanted
        elif self.policies.suspension is HourSuspension.REFUSE:
            raise _refuse(
                ErrorCode.EXCEEDS_EAC_ENERGY,
                "energy_wh",
                f"{wanted} Wh asked for but the EACs behind it have {coverage} Wh left",
            )
        elif self.policies.suspension is HourSuspension.SUSPEND_UNCOVERED_PART:
            issue = coverage
        else:
            issue = 0
        links: list[tuple[str, int]] = []
        left = issue
        for eac in eacs:
            if left == 0:
                break
            share = min(left, self._available(eac, taken))
            if share <= 0:
                continue
            links.append((eac.eac_id, share))
            taken[eac.eac_id] = taken.get(eac.eac_id, 0) + share
            left -= share
        return issue, tuple(links)

    def _plan_hour(
        self,
        device: Device,
        interval: Interval,
        metered: Any,
        eacs: Sequence[Eac],
        taken: dict[str, int],
        now: _dt.datetime,
        effects: list[Any],
        *,
        account_id: str | None,
        transferable: bool,
        beneficiary: str | None,
        consumption_location: str | None,
    ) -> tuple[int | None, int | None, int, int, tuple[tuple[str, int], ...]]:
        """One metered hour through the link: D10 deductions first, then the EACs' cover."""
        registry = self._registry
        face_wh = registry.policies.rounding.apply(metered)
        deducted = 0
        if not any(isinstance(e, DebtChanged) for e in effects):  # one request, one settlement
            deducted = registry.plan_deductions(
                device.device_id, interval.start.hour, face_wh, effects
            )
        wanted = face_wh - deducted
        issue, links = self._draw(eacs, wanted, taken)
        issuance_id = bundle_id = None
        if issue:
            expiry, own_from = _capped_by_eacs(registry.validity_bounds(interval.end), eacs, links)
            result = registry.plan_issuance(
                device,
                interval,
                issue,
                now,
                effects,
                account_id=account_id,
                deducted=deducted,
                attributes={
                    "expiry": expiry,
                    "own_hour_only_from": own_from,
                    "eac_ids": tuple(e for e, _ in links),
                    "transferable": transferable,
                },
            )
            issuance_id, bundle_id = result.issuance_id, result.bundle_id
            assert issuance_id is not None and bundle_id is not None
            effects.extend(
                self._link_effects(
                    issuance_id, bundle_id, links, beneficiary, consumption_location, interval, now
                )
            )
        if issue < wanted:
            effects.append(
                HourSuspended(
                    device.device_id,
                    interval.start,
                    interval.end,
                    wanted,
                    issue,
                    wanted - issue,
                )
            )
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                face_wh,
                str(metered),
                device.meter_id,
                device.gross_or_net.name,
                None,  # the linked path rounds each reading on its own, carrying nothing
                registry.policies.rounding.name,
            )
        )
        return issuance_id, bundle_id, issue, wanted - issue, links

    # ---- #2

    def _decide_issue_linked(self, cmd: IssueLinkedGcs, now: _dt.datetime) -> Any:
        self._preamble(2)
        self._registry.require_issuer(cmd.actor)
        if not self.eac.is_appointed(cmd.actor) or self.eac.account_of(cmd.actor) is None:
            raise _refuse(
                ErrorCode.GC_ISSUER_NOT_APPOINTED,
                "actor",
                f"{cmd.actor!r} must be appointed by, and hold an account with, "
                f"{self.eac.body.body_id!r}",
            )
        device = self._same_device(cmd.device_id, cmd.meter_id)
        interval, metered = self._hour(device, cmd.start, cmd.end, cmd.energy_wh, now)
        if not self.eac.has_period_covering(device.device_id, interval):
            raise _refuse(
                ErrorCode.NO_UNDERLYING_EAC,
                "interval",
                f"no EAC production period of {device.device_id!r} contains {interval}",
            )
        eacs = self._eligible_eacs(device.device_id, interval, cmd.actor, now)
        effects: list[Any] = []
        iid, bid, issued, suspended, links = self._plan_hour(
            device,
            interval,
            metered,
            eacs,
            {},
            now,
            effects,
            account_id=None,
            transferable=True,
            beneficiary=None,
            consumption_location=None,
        )
        request = EacBackGcs(cmd.actor, tuple(e for e, _ in links)) if links else None
        value = LinkedIssuance(
            () if iid is None else (iid,),
            () if bid is None else (bid,),
            issued,
            suspended,
            links,
            request,
        )
        return value, effects

    def _decide_cancel_linked(self, cmd: CancelLinkedGcs, now: _dt.datetime) -> Any:
        self._preamble(2)
        registry = self._registry
        bundle = registry.current_bundle(cmd.bundle_id)
        eac_ids = tuple(e for e, _ in self._links.get(bundle.issuance_id, ()))
        if not eac_ids:
            raise _refuse(
                ErrorCode.NO_UNDERLYING_EAC,
                "bundle_id",
                f"bundle {bundle.bundle_id} is not backed by EACs of this platform",
            )
        result, effects = registry.decide_cancel(
            Cancel(cmd.actor, cmd.bundle_id, cmd.beneficiary, quantity=cmd.quantity), now
        )
        request = EacCancelForGcs(registry.issuer.issuer_id, eac_ids)
        return LinkedCancellation(result, eac_ids, request), effects

    def _decide_convert(self, cmd: ConvertEacs, now: _dt.datetime) -> Any:
        self._preamble(2)
        device = self._same_device(cmd.device_id, cmd.meter_id)
        account = self._registry.known_account(cmd.account_id, "account_id")
        if account.holder_id != cmd.actor:
            raise _refuse(ErrorCode.NOT_OWNER, "account_id", f"{cmd.actor!r} does not hold it")
        if not isinstance(cmd.hours, tuple | list) or not cmd.hours:
            raise _refuse(ErrorCode.INVALID_FIELD, "hours", "give at least one metered hour")
        eacs = self._named_eacs(cmd.eac_ids)
        for eac in eacs:
            if eac.device_id != device.device_id:
                raise _refuse(
                    ErrorCode.EAC_DEVICE_MISMATCH,
                    "eac_ids",
                    f"EAC {eac.eac_id} is another device's",
                )
            if eac.status is not EacStatus.ACTIVE:  # the EAC registry decides the rest
                raise _refuse(
                    ErrorCode.EAC_NOT_ACTIVE, "eac_ids", f"EAC {eac.eac_id} is {eac.status.name}"
                )
        effects: list[Any] = []
        taken: dict[str, int] = {}
        seen: list[Interval] = []
        iids: list[int] = []
        bids: list[int] = []
        links: list[tuple[str, int]] = []
        issued_total = suspended_total = 0
        for entry in cmd.hours:
            if not isinstance(entry, tuple | list) or len(entry) != 3:
                raise _refuse(ErrorCode.INVALID_FIELD, "hours", "each hour is (start, end, Wh)")
            interval, metered = self._hour(device, entry[0], entry[1], entry[2], now)
            if any(other.overlaps(interval) for other in seen):
                raise _refuse(ErrorCode.DUPLICATE_ISSUANCE, "hours", f"{interval} given twice")
            seen.append(interval)
            if not all(e.production_period.contains(interval) for e in eacs):
                raise _refuse(
                    ErrorCode.OUTSIDE_EAC_PERIOD, "hours", f"{interval} is outside the EACs' period"
                )
            iid, bid, issued, suspended, hour_links = self._plan_hour(
                device,
                interval,
                metered,
                eacs,
                taken,
                now,
                effects,
                account_id=account.account_id,
                transferable=True,
                beneficiary=None,
                consumption_location=None,
            )
            if iid is not None and bid is not None:
                iids.append(iid)
                bids.append(bid)
            links.extend(hour_links)
            issued_total += issued
            suspended_total += suspended
        request = EacExport(
            cmd.actor, tuple(e.eac_id for e in eacs), self._registry.issuer.issuer_id
        )
        value = LinkedIssuance(
            tuple(iids), tuple(bids), issued_total, suspended_total, tuple(links), request
        )
        return value, effects

    # ---- #3

    def _named_eacs(self, eac_ids: object) -> list[Eac]:
        if (
            not isinstance(eac_ids, tuple | list)
            or not eac_ids
            or not all(isinstance(e, str) for e in eac_ids)
            or len(set(eac_ids)) != len(eac_ids)
        ):
            raise _refuse(ErrorCode.INVALID_FIELD, "eac_ids", "give distinct EAC IDs")
        found = []
        for eac_id in eac_ids:
            eac = self.eac.eac(eac_id)
            if eac is None:
                raise _refuse(ErrorCode.UNKNOWN_EAC, "eac_ids", f"no EAC {eac_id!r}")
            found.append(eac)
        return found

    def _decide_issue_from_cancelled(self, cmd: IssueFromCancelledEacs, now: _dt.datetime) -> Any:
        self._preamble(3)
        registry = self._registry
        registry.require_issuer(cmd.actor)
        if not isinstance(cmd.beneficiary, str) or not cmd.beneficiary.strip():
            raise _refuse(ErrorCode.INVALID_FIELD, "beneficiary", "a beneficiary must be named")
        device = self._same_device(cmd.device_id, cmd.meter_id)
        account = registry.known_account(cmd.account_id, "account_id")
        interval, metered = self._hour(device, cmd.start, cmd.end, cmd.energy_wh, now)
        eacs = self._named_eacs(cmd.eac_ids)
        locations = set()
        for eac in eacs:
            if eac.status is not EacStatus.CANCELLED or eac.beneficiary is None:
                raise _refuse(
                    ErrorCode.EAC_NOT_CANCELLED,
                    "eac_ids",
                    f"EAC {eac.eac_id} is {eac.status.name}, not cancelled for a beneficiary",
                )
            if eac.gc_issuer_id not in (None, cmd.actor):
                raise _refuse(
                    ErrorCode.EAC_LINKED_ELSEWHERE,
                    "eac_ids",
                    f"EAC {eac.eac_id} already has GC Issuer {eac.gc_issuer_id!r}",
                )
            if eac.beneficiary != cmd.beneficiary:
                raise _refuse(
                    ErrorCode.BENEFICIARY_MISMATCH,
                    "beneficiary",
                    f"EAC {eac.eac_id} was cancelled for {eac.beneficiary!r}",
                )
            if eac.device_id != device.device_id:
                raise _refuse(
                    ErrorCode.EAC_DEVICE_MISMATCH,
                    "eac_ids",
                    f"EAC {eac.eac_id} was issued for {eac.device_id!r}",
                )
            consumption = eac.consumption_period
            if not eac.production_period.contains(interval) or (
                consumption is not None and not consumption.contains(interval)
            ):
                raise _refuse(
                    ErrorCode.OUTSIDE_EAC_PERIOD,
                    "interval",
                    f"{interval} is not within EAC {eac.eac_id}'s production and consumption period",
                )
            locations.add(eac.consumption_location)
        if len(locations) > 1:
            raise _refuse(
                ErrorCode.INVALID_FIELD, "eac_ids", "the EACs name different consumption locations"
            )
        effects: list[Any] = []
        iid, bid, issued, suspended, links = self._plan_hour(
            device,
            interval,
            metered,
            eacs,
            {},
            now,
            effects,
            account_id=account.account_id,
            transferable=False,
            beneficiary=cmd.beneficiary,
            consumption_location=locations.pop(),
        )
        request = EacLinkCancelled(cmd.actor, tuple(e for e, _ in links)) if links else None
        value = LinkedIssuance(
            () if iid is None else (iid,),
            () if bid is None else (bid,),
            issued,
            suspended,
            links,
            request,
        )
        return value, effects


# ----------------------------------------------------------------------------- coordinator


class LinkedRegistries:
    """An EAC registry and a #2/#3 GC registry acting together on linked requests."""

    def __init__(self, eac: EacRegistry, gc: Registry) -> None:
        self.eac = eac
        self.gc = gc
        self.book = gc.book(LinkBook)

    def execute(self, command: Any, now: _dt.datetime | str) -> Outcome[Any]:
        """Decide in the GC registry, then in the EAC registry; apply in both or in neither."""
        eac_request: Any = None
        decisions: list[tuple[Any, tuple[_dt.datetime, Any, list[Any]]]] = []
        try:
            with self.book.coordinating():
                at, value, gc_effects = self.gc.prepare(command, now)  # type: ignore[arg-type]
            primary = getattr(value, "eac_request", None)
            requests = [] if primary is None else [primary]
            handled = tuple(getattr(primary, "eac_ids", ()))
            sync = self.book.eac_sync(gc_effects, handled)
            requests.extend(sync.requests(self.gc.issuer.issuer_id))
            # Each request names EACs no other one names, so each is decided on the
            # state as it stands and all are applied together (or none).
            for eac_request in requests:
                decisions.append((eac_request, self.eac.prepare(eac_request, at)))
        except (Refusal, InvalidInput) as exc:
            self.eac.record_refusal(eac_request or command, exc.problem)
            return self.gc.record_refusal(command, exc.problem)
        for request, decision in decisions:
            self.eac.commit(request, *decision)
        return self.gc.commit(command, at, value, gc_effects)

    def fingerprint(self) -> tuple[Any, ...]:
        return (self.eac.fingerprint(), self.gc.fingerprint())


def configuration_1_registry(body: EacIssuingBody, policies: Policies | None = None) -> Registry:
    """#1: the EAC Issuing Body becomes the GC Issuer and issues GCs instead of EACs."""
    if body.configuration != 1:
        raise InvalidInput(
            ErrorCode.WRONG_CONFIGURATION, "body.configuration", "the body does not run #1"
        )
    return Registry(Issuer(body.body_id, body.name, body.domain, configuration=1), policies)


def _linked(
    configuration: int,
    eac: EacRegistry,
    issuer: Issuer,
    policies: Policies | None,
    configuration_policies: ConfigurationPolicies | None,
) -> LinkedRegistries:
    from gc_conformance.reference._books import standard_books

    if issuer.configuration != configuration:
        issuer = attrs.evolve(issuer, configuration=configuration)
    chosen = configuration_policies or ConfigurationPolicies()

    def factory(registry: Registry) -> LinkBook:
        return LinkBook(registry, eac, chosen)

    books: tuple[BookFactory, ...] = (*standard_books(), factory)
    return LinkedRegistries(eac, Registry(issuer, policies, books=books))


def configuration_2(
    eac: EacRegistry,
    issuer: Issuer,
    policies: Policies | None = None,
    configuration_policies: ConfigurationPolicies | None = None,
) -> LinkedRegistries:
    """#2: a GC platform (GC Issuer ``issuer``) linked to ``eac``."""
    return _linked(2, eac, issuer, policies, configuration_policies)


def configuration_3(
    eac: EacRegistry,
    issuer: Issuer,
    policies: Policies | None = None,
    configuration_policies: ConfigurationPolicies | None = None,
) -> LinkedRegistries:
    """#3: a GC Issuer issuing from EACs cancelled in ``eac``."""
    return _linked(3, eac, issuer, policies, configuration_policies)


def accepted(outcome: Outcome[Any]) -> Any:
    """The value of an accepted outcome (raises RequestRejected otherwise)."""
    if isinstance(outcome, Accepted):
        return outcome.value
    return outcome.unwrap()


def _capped_by_eacs(
    bounds: tuple[_dt.datetime, _dt.datetime | None],
    eacs: Sequence[Any],
    links: Sequence[tuple[str, int]],
) -> tuple[_dt.datetime, _dt.datetime | None]:
    """D8: a GC's validity never exceeds its EACs'; nor then does its own-hour stretch."""
    linked = dict(links)
    expiry = min([bounds[0]] + [e.expiry for e in eacs if e.eac_id in linked])
    own_from = bounds[1]
    if own_from is not None and own_from >= expiry:
        own_from = None
    return expiry, own_from
