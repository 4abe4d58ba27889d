"""Faulty registries: the reference model with one realistic defect each.

They are the suite's proof of power: CI runs the whole suite against every one
and fails unless each is caught, for the documented reason, while the
reference passes. Each documents the requirement(s) it breaks (``breaks``, IDs
of the requirement catalogue). A check must never be tuned to one of these
quirks: every check follows from the standard, and a defect the suite misses
is a gap in the suite, closed by a standard-derived check.

What makes a defect worth having here: it is a mistake a real registry could
ship (an off-by-one, a missing guard, a deny-list that forgot a status, a
write committed before validation), not an answer no implementation would
give. Each faulty registry claims exactly the reference's capabilities (same
profiles, styles, clock and declared policies: the one that rounds up still
declares the reference's rounding, the one that allocates LIFO still offers
FIFO), so nothing but its behaviour can give it away.

How they are built, in order of preference:

* at the adapter layer (:class:`FaultyAdapter`), rewriting a request or an
  answer, or driving the model through its public commands;
* with a small subclass of the model's :class:`Registry` (or of one of its
  books) that overrides one decision. Those overrides name private methods of
  the model (ARCHITECTURE.md lets faulty registries do so); each one is kept to
  a few lines, and ``tests/conformance/test_faulty.py`` builds every registry
  and runs it, so a rename in the model fails loudly instead of silently
  curing a fault.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import attrs

from gc_conformance.adapter import AdapterFailure, RegistryAdapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.reference import (
    AllocationMethod,
    BundleResult,
    BundleStatus,
    ExpiryResult,
    IssueFromCancelledEacs,
    LinkBook,
    LinkedRegistries,
    Registry,
    ReserveKind,
    StorageBook,
    parse_timestamp,
)
from gc_conformance.reference.effects import Issued, StatusChanged


@attrs.frozen
class Fault:
    name: str
    description: str
    breaks: tuple[str, ...]  # requirement IDs the defect violates
    build: Callable[[], RegistryAdapter]


#: Actions whose request may carry a ``quantity`` (a partial operation splits the bundle).
PARTIAL_ACTIONS = ("transfer", "cancel", "claim", "reserve", "withdraw")

_HOUR = _dt.timedelta(hours=1)


# =============================================================================== base


class FaultyAdapter(ReferenceAdapter):
    """The reference model behind the contract, with the one defect a subclass adds.

    Subclasses set ``fault``, ``description`` and ``breaks`` and override
    :meth:`execute` / :meth:`_bundle` (adapter-layer defects) or
    :meth:`build_registry` (a defect inside the registry). Capabilities are the
    reference's, under a name that says which registry a report is about.
    """

    fault: ClassVar[str] = ""
    description = ""
    breaks: ClassVar[tuple[str, ...]] = ()

    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["name"] = f"gc-conformance faulty registry {self.fault}"
        return claimed

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        if self._linked is None:  # configuration #1: the registry is ours to build
            built = self.registry
            self._registry = self.build_registry(built.issuer, built.policies)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        """The configuration #1 registry; a defect inside the model overrides this."""
        return Registry(issuer, policies)

    def _holder_of(self, bundle_id: object) -> str | None:
        """The holder of a current bundle, read through the model's public accessors."""
        if isinstance(bundle_id, bool) or not isinstance(bundle_id, int):
            return None
        bundle = self.registry.bundle(bundle_id)
        if bundle is None or bundle.status.is_superseded:
            return None
        account = self.registry.account(bundle.account_id)
        return None if account is None else account.holder_id


def _books_with(storage_factory: Callable[[Registry], StorageBook]) -> tuple[Any, ...]:
    """The standard books of a registry, with the storage book replaced by ``storage_factory``."""
    from gc_conformance.reference._books import standard_books
    from gc_conformance.reference.storage import storage_book

    return tuple(storage_factory if f is storage_book else f for f in standard_books())


# =============================================================================== adapter-layer defects


class PartialTransferRangeOverrun(FaultyAdapter):
    """A partial transfer records the moved child's range one certificate too long.

    The classic off-by-one: the child's last ID is stored as ``start +
    quantity`` instead of ``start + quantity - 1``. Quantities and balances stay
    right, so a registry that only looks at balances never notices; but the
    child now names a certificate its sibling also holds, its range no longer
    matches its quantity, and the children no longer partition the parent.

    Breaks SPLIT-001 (children partition the parent), SPLIT-002 (quantity equals the
    range's length) and DC-003 (no certificate in two current bundles).
    """

    fault = "partial-transfer-range-overrun"
    description = "a partial transfer's child range is one certificate ID longer than its quantity"
    breaks = ("SPLIT-001", "SPLIT-002", "DC-003")

    def __init__(self) -> None:
        super().__init__()
        self._overrun: set[int] = set()

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        self._overrun = set()

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        result = answer.get("result", {})
        if (
            request.get("action") == "transfer"
            and answer.get("accepted")
            and result.get("remainder_id") is not None
        ):
            self._overrun.add(result["bundle_id"])
        return answer

    def _bundle(self, bundle: Any) -> dict[str, Any]:
        record = super()._bundle(bundle)
        if bundle.bundle_id in self._overrun:
            record["certificate_bundle_id_range_end"] += 1
        return record


class NonPositiveQuantityAccepted(FaultyAdapter):
    """A zero or negative quantity is taken to mean "the whole bundle".

    The registry defaults the quantity with ``quantity if quantity > 0 else
    bundle.quantity``, a convenience for clients that leave it at 0, so a
    transfer of -5 certificates moves the whole bundle instead of being refused.

    Breaks QTY-001 (a quantity is a positive whole number).
    """

    fault = "non-positive-quantity-accepted"
    description = "a zero or negative quantity is accepted and acts on the whole bundle"
    breaks = ("QTY-001",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        quantity = request.get("quantity")
        if (
            request.get("action") in PARTIAL_ACTIONS
            and isinstance(quantity, int)
            and not isinstance(quantity, bool)
            and quantity <= 0
        ):
            request = {k: v for k, v in request.items() if k != "quantity"}
        return super().execute(request)


class NonOwnerMayAct(FaultyAdapter):
    """Any authenticated party can transfer or cancel any bundle.

    The registry authenticates the caller but authorises the operation
    against the bundle's own account (it acts "as the holder"), so bob can move
    or cancel alice's certificates.

    Breaks AUTH-001 (only the holder transfers) and AUTH-002 (only the holder cancels).
    """

    fault = "non-owner-transfer"
    description = "a party that does not hold the bundle may transfer or cancel it"
    breaks = ("AUTH-001", "AUTH-002")

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") in ("transfer", "cancel"):
            holder = self._holder_of(request.get("bundle_id"))
            if holder is not None and request.get("actor") != holder:
                request = {**request, "actor": holder}
        return super().execute(request)


class SixtyOneMinuteInterval(FaultyAdapter):
    """A production interval of up to 61 minutes is accepted.

    The registry allows a minute of "clock-skew tolerance" on the length of
    an interval and silently records it as the hour that starts at its start,
    so 61 minutes of reported production become one hour's certificates.

    Breaks TIME-002 (a production interval lasts at most one hour).
    """

    fault = "interval-61-minutes-accepted"
    description = "production intervals of up to 61 minutes are accepted (cut to one hour)"
    breaks = ("TIME-002",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") in ("submit_production", "issue_bundle"):
            try:
                start = parse_timestamp(request.get("start"), "start")
                end = parse_timestamp(request.get("end"), "end")
            except Exception:
                return super().execute(request)  # malformed stamps: the model answers
            if _HOUR < end - start <= _HOUR + _dt.timedelta(minutes=1):
                request = {**request, "end": (start + _HOUR).strftime("%Y-%m-%dT%H:%M:%SZ")}
        return super().execute(request)


class RoundsUp(FaultyAdapter):
    """Metered volumes are rounded *up* to whole Wh, whatever rounding is declared.

    The registry declares the reference's rounding policy but converts each
    reading with a ceiling, so 1000.4999 Wh become 1001 certificates: it
    certifies energy that was never produced.

    Breaks ATTR-004 (whole Wh by the declared rounding rule) and ISS-004 (an
    issuer-created bundle may assert no more than the production rounded by that rule).
    """

    fault = "rounds-up"
    description = "fractional readings are rounded up, not by the declared rounding policy"
    breaks = ("ATTR-004", "ISS-004")

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") in ("submit_production", "issue_bundle"):
            ceiling = _ceiling(request.get("energy_wh"))
            if ceiling is not None:
                request = {**request, "energy_wh": ceiling}
        return super().execute(request)


def _ceiling(energy: object) -> str | None:
    """The whole Wh above a positive fractional reading; None leaves the value to the model."""
    if isinstance(energy, bool) or not isinstance(energy, str | int | float):
        return None
    try:
        value = Decimal(str(energy).strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value == value.to_integral_value():
        return None
    return str(math.ceil(value))


class CommittedThenFailed(FaultyAdapter):
    """A partial cancellation is committed, then the answer fails with a gateway error.

    The registry writes the cancellation, then a post-commit step (the
    notification to the matching platform) times out and the API answers 502.
    The client sees a failure, retries or gives up, but the certificates are
    already cancelled: a failed request changed the state. The suite must
    report that as an atomicity failure, not merely as an adapter error.

    Breaks IT-001 (a request that is not carried out changes nothing).
    """

    fault = "committed-then-failed"
    description = "a partial cancellation is committed, then answered with a 502 gateway error"
    breaks = ("IT-001",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if (
            request.get("action") == "cancel"
            and request.get("quantity") is not None
            and answer.get("accepted")
        ):
            raise AdapterFailure("HTTP 502 Bad Gateway: upstream timed out after commit")
        return answer


class RefusedPartialLeavesSplit(FaultyAdapter):
    """A refused partial operation still splits the bundle.

    The registry carves the requested quantity off the bundle in its own
    committed step, then validates the operation itself (the receiving account,
    the caller, the beneficiary) and, when that fails, answers the refusal
    without undoing the split. Certificates do not move, but the holder's bundle
    is now two bundles with new IDs: the refused request changed the state.

    Breaks IT-001 (a refused request changes nothing).
    """

    fault = "refused-partial-leaves-split"
    description = (
        "a refused partial transfer, cancellation, lock or withdrawal still splits the bundle"
    )
    breaks = ("IT-001",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if answer.get("accepted") or request.get("action") not in PARTIAL_ACTIONS:
            return answer
        quantity, bundle_id = request.get("quantity"), request.get("bundle_id")
        holder = self._holder_of(bundle_id)
        if holder is None or isinstance(quantity, bool) or not isinstance(quantity, int):
            return answer
        bundle = self.registry.bundle(bundle_id)  # type: ignore[arg-type]
        if bundle is None or bundle.status is not BundleStatus.ACTIVE:
            return answer
        if not 0 < quantity < bundle.quantity:
            return answer
        # The split step, through the model's public commands: set the part aside, then back.
        now = request.get("now")
        held = super().execute(
            {"action": "reserve", "actor": holder, "now": now, "bundle_id": bundle_id,
             "quantity": quantity}
        )  # fmt: skip
        if held.get("accepted"):
            part = held["result"]["bundle_id"]
            super().execute({"action": "release", "actor": holder, "now": now, "bundle_id": part})
        return answer


class ClaimForAnyone(FaultyAdapter):
    """A claim is recorded for the cancellation's beneficiary, whoever is named as claimant.

    The registry never compares the claimant with the beneficiary recorded at
    cancellation: it files the claim against the cancellation and answers
    accepted, so a claim "for Consumer-Y" on certificates cancelled for
    Consumer-X succeeds.

    Breaks DC-006 (only the beneficiary named at cancellation can claim).
    """

    fault = "claim-by-non-beneficiary"
    description = "a claim naming someone other than the cancellation's beneficiary is accepted"
    breaks = ("DC-006",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        bundle_id = request.get("bundle_id")
        if request.get("action") == "claim" and self._holder_of(bundle_id) is not None:
            bundle = self.registry.bundle(bundle_id)  # type: ignore[arg-type]
            if bundle is not None and bundle.cancellation is not None:
                request = {**request, "claimant": bundle.cancellation.beneficiary}
        return super().execute(request)


class UnknownBundleTransferAccepted(FaultyAdapter):
    """A transfer naming a bundle the registry does not have is answered "accepted".

    The transfer endpoint works through the bundles it can find and silently
    skips the others, so a client that mistyped an ID is told its certificates
    moved when nothing did.

    Breaks IT-004 (a request naming a bundle that does not exist is refused).
    """

    fault = "unknown-bundle-transfer-accepted"
    description = "a transfer naming an unknown bundle is silently dropped and answered accepted"
    breaks = ("IT-004",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        bundle_id = request.get("bundle_id")
        if (
            request.get("action") == "transfer"
            and isinstance(bundle_id, int)
            and not isinstance(bundle_id, bool)
            and self.registry.bundle(bundle_id) is None
        ):
            return {"accepted": True, "result": {}}
        return super().execute(request)


# =============================================================================== defects inside the registry


class _NoFreshnessCheck(Registry):
    """Issues whatever reading arrives: no check that the interval was already recognised."""

    def _check_fresh_interval(self, device: Any, interval: Any) -> None:
        return None


class ResubmissionIssuedTwice(FaultyAdapter):
    """A reading resubmitted for production already issued is issued again.

    The registry treats every submission as new production (no lookup of the
    device's recognised intervals), so a meter-data provider that resends a
    reading, or sends a corrected one instead of a correction, doubles the
    certificates for the same energy.

    Breaks DC-001 (no second issuance for production already issued).
    """

    fault = "resubmission-issued-twice"
    description = "a resubmitted reading for production already issued is issued again"
    breaks = ("DC-001",)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return _NoFreshnessCheck(issuer, policies)


class _RecyclesWithdrawnIds(Registry):
    """Treats withdrawn certificates' IDs as free again, for new issuances and range checks."""

    def _taken(self, start: int, end: int) -> tuple[int, int] | None:
        for bundle in self.current_bundles():
            if bundle.status is BundleStatus.WITHDRAWN:
                continue
            if bundle.range_start <= end and start <= bundle.range_end:
                return bundle.range_start, bundle.range_end
        return None

    def _range_clash(self, start: int, end: int) -> tuple[int, int] | None:
        return self._taken(start, end)

    def _plan_issuance(
        self,
        device: Any,
        interval: Any,
        range_start: int,
        quantity: int,
        now: _dt.datetime,
        effects: list[Any],
        **options: Any,
    ) -> Any:
        if range_start == self._next_certificate_id:  # an ID the registry allocates itself
            for bundle in self.current_bundles():
                if (
                    bundle.status is BundleStatus.WITHDRAWN
                    and bundle.quantity >= quantity
                    and self._taken(bundle.range_start, bundle.range_start + quantity - 1) is None
                ):
                    range_start = bundle.range_start
                    break
        return super()._plan_issuance(
            device, interval, range_start, quantity, now, effects, **options
        )


class WithdrawnIdsReused(FaultyAdapter):
    """Certificate IDs of withdrawn certificates are issued again.

    The registry's ID allocator puts a withdrawn range back on its free list,
    and its overlap test for issuer-created bundles skips withdrawn
    certificates, so the next issuance can carry the very IDs of certificates
    that are still on record as withdrawn.

    Breaks ID-002 (certificate IDs are never reused, withdrawn ones included) and
    ISS-003 (an issuer-created range overlapping any ID ever issued is refused).
    """

    fault = "withdrawn-ids-reused"
    description = "certificate IDs of withdrawn certificates are reused by later issuances"
    breaks = ("ID-002", "ISS-003")

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return _RecyclesWithdrawnIds(issuer, policies)


class _ChecksFirstIdOnly(Registry):
    """Checks only that the first ID of an asserted range is free."""

    def _range_clash(self, start: int, end: int) -> tuple[int, int] | None:
        return super()._range_clash(start, start)


class IssuerCreatedOverlapAccepted(FaultyAdapter):
    """An issuer-created bundle overlapping certificates already issued is accepted.

    The registry checks only that the first asserted ID is not yet issued (a
    unique index on the range start), so a range that begins below an issued
    range and runs into it, or that encloses it, is accepted: the same
    certificate IDs then exist twice.

    Breaks ISS-003 (a range overlapping any issued ID is refused) and DC-003 (no
    certificate in two current bundles).
    """

    fault = "issuer-created-overlap-accepted"
    description = (
        "an issuer-created bundle overlapping issued IDs is accepted unless its first ID is taken"
    )
    breaks = ("ISS-003", "DC-003")

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return _ChecksFirstIdOnly(issuer, policies)


class _ReservesCancelled(Registry):
    """Guards reserve and withdraw with a deny-list of statuses that forgot CANCELLED."""

    def _decide_reserve(self, cmd: Any, now: _dt.datetime) -> Any:
        bundle = self._cancelled(cmd.bundle_id)
        if bundle is None:
            return super()._decide_reserve(cmd, now)
        self._require_holder(cmd.actor, bundle)
        kind = ReserveKind.LOCKED if cmd.kind == "LOCKED" else ReserveKind.RESERVED
        return self._revive(bundle, cmd.quantity, BundleStatus[kind.name])

    def _decide_withdraw(self, cmd: Any, now: _dt.datetime) -> Any:
        bundle = self._cancelled(cmd.bundle_id)
        if bundle is None:
            return super()._decide_withdraw(cmd, now)
        self._require_issuer(cmd.actor)
        return self._revive(bundle, cmd.quantity, BundleStatus.WITHDRAWN)

    def _cancelled(self, bundle_id: object) -> Any:
        if isinstance(bundle_id, bool) or not isinstance(bundle_id, int):
            return None
        bundle = self.bundle(bundle_id)
        return bundle if bundle is not None and bundle.status is BundleStatus.CANCELLED else None

    def _revive(self, bundle: Any, quantity: object, new: BundleStatus) -> Any:
        wanted = self._optional_quantity(quantity, bundle)
        effects: list[Any] = []
        part, rest = self._carve(bundle, wanted, effects)
        effects.append(StatusChanged(part, BundleStatus.CANCELLED, new))
        return BundleResult(part, rest), effects


class CancelledBundleRevived(FaultyAdapter):
    """A cancelled bundle can be reserved (and released back to active) or withdrawn.

    Reserve and withdraw refuse bundles that are already reserved, locked,
    withdrawn or expired, a deny-list that forgot CANCELLED. Reserving then
    releasing a cancelled bundle makes it ACTIVE again, tradeable and
    cancellable a second time; withdrawing one erases the record of its use.

    Breaks XFER-003 (cancelled certificates can no longer be transferred), CANC-001
    (cancelling ends tradeability) and WDR-002 (cancelled certificates cannot be withdrawn).
    """

    fault = "cancelled-bundle-revived"
    description = "a cancelled bundle can be reserved (then released as active) or withdrawn"
    breaks = ("XFER-003", "CANC-001", "WDR-002")

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return _ReservesCancelled(issuer, policies)


class _NeverExpires(Registry):
    """The expiry sweep is a stub and no operation looks at validity."""

    def _decide_expire(self, cmd: Any, now: _dt.datetime) -> Any:
        self._require_issuer(cmd.actor)
        return ExpiryResult(()), []

    def _require_valid_at(self, bundle: Any, now: _dt.datetime) -> None:
        return None


class ExpiryNeverApplied(FaultyAdapter):
    """Certificates never expire.

    The registry declares a validity reading and accepts the expiry sweep,
    but the sweep expires nothing and no operation checks validity, so
    certificates past the end of their validity are still traded and cancelled.

    Breaks VAL-002 (unused certificates expire when their validity ends), VAL-004
    (past validity they are refused even before the sweep) and VAL-006 (reserved and locked
    certificates expire too).
    """

    fault = "expiry-never-applied"
    description = "the expiry sweep expires nothing and certificates past validity stay usable"
    breaks = ("VAL-002", "VAL-004", "VAL-006")

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return _NeverExpires(issuer, policies)


class _AnyConsumptionPeriod(Registry):
    """A cancellation's consumption period is never compared with the certificates' validity."""

    def _require_consumption_in_validity(self, bundle: Any, period: Any, now: Any) -> None:
        return None


class OwnHourStretchUnrestricted(FaultyAdapter):
    """Certificates past their consumption period are matched to any consumption.

    The registry keeps D8's own-hour exemption (certificates of the last hour of
    the year are issued on 1 January and stay live for 12 months), but never
    looks at the consumption period a cancellation names: past the end of the
    12-month consumption period a certificate is cancelled against any hour,
    or none, instead of only its own.

    Breaks VAL-011 (past the consumption period only the own hour may be
    matched) and VAL-009 (a consumption period outside the validity is refused).
    """

    fault = "own-hour-stretch-unrestricted"
    description = (
        "past its consumption period a certificate is cancelled against any consumption, "
        "not only its own production hour"
    )
    breaks = ("VAL-011", "VAL-009")

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return _AnyConsumptionPeriod(issuer, policies)


# ------------------------------------------------------------------------------- storage


class _LooksCovered:
    """An SCR as the faulty issuance check sees it: backed, whatever was cancelled for it."""

    def __init__(self, scr: Any) -> None:
        self._scr = scr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._scr, name)

    @property
    def covered_wh(self) -> int:
        return int(self._scr.charging_energy)


class _AnyInputCancelled(StorageBook):
    """Issues an SD-GC once *any* SCR behind the SDR is backed, not *every* one."""

    def _decide_issue(self, cmd: Any, now: _dt.datetime) -> Any:
        sdr = self.sdr(cmd.sdr_id) if isinstance(cmd.sdr_id, str) else None
        scrs = [] if sdr is None else [self.scr(scr_id) for scr_id, _ in sdr.allocations]
        backed = [r for r in scrs if r is not None and r.covered_wh == r.charging_energy]
        if not backed:
            return super()._decide_issue(cmd, now)
        with self._pretending(r for r in scrs if r is not None and r not in backed):
            return super()._decide_issue(cmd, now)

    @contextlib.contextmanager
    def _pretending(self, scrs: Iterator[Any]) -> Iterator[None]:
        originals = {r.scr_id: r for r in scrs}
        try:
            for scr_id, scr in originals.items():
                self._scrs[scr_id] = _LooksCovered(scr)  # type: ignore[assignment]
            yield
        finally:
            self._scrs.update(originals)


class SdGcBeforeInputsCancelled(FaultyAdapter):
    """An SD-GC is issued before the GCs of every charge behind it were cancelled.

    The registry's issuance check asks whether *some* charge record allocated
    to the discharge is backed by cancelled GCs instead of *every* one, so a
    discharge fed partly by a charge nobody cancelled GCs for gets a full
    SD-GC: attributes leave the store that never went into it.

    Breaks STOR-024 (an SD-GC only after the GCs behind every charge record allocated
    to its discharge were cancelled).
    """

    fault = "sd-gc-before-inputs-cancelled"
    description = "an SD-GC is issued while a charge record behind it has no cancelled GCs"
    breaks = ("STOR-024",)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return Registry(issuer, policies, books=_books_with(_AnyInputCancelled))


class _WalksFromNewest(StorageBook):
    """Walks the pool from the newest stored charge when the method is FIFO."""

    def _plan_take(self, storage: Any, need: int, before: Any, view: Any) -> Any:
        if storage.allocation_method is AllocationMethod.FIFO:
            storage = attrs.evolve(storage, allocation_method=AllocationMethod.LIFO)
        return super()._plan_take(storage, need, before, view)


class FifoAllocatesLifo(FaultyAdapter):
    """A storage system registered for FIFO allocation is allocated LIFO.

    The allocator sorts the pool's charge records newest first for every
    ordered method (a sort-direction bug); the system still shows FIFO as its
    fixed method, but the most recent charge leaves first.

    Breaks STOR-020 (under FIFO the oldest stored charge leaves first).
    """

    fault = "fifo-allocates-lifo"
    description = "a storage system declared FIFO is allocated last-in-first-out"
    breaks = ("STOR-020",)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        return Registry(issuer, policies, books=_books_with(_WalksFromNewest))


# ------------------------------------------------------------------------------- configurations


class _TransferableLinkBook(LinkBook):
    """Issues configuration #3 GCs as ordinary active, transferable GCs."""

    def deciders(self) -> Mapping[type, Any]:
        table = dict(super().deciders())
        decide = table[IssueFromCancelledEacs]

        def issue_as_ordinary(cmd: Any, now: _dt.datetime) -> Any:
            value, effects = decide(cmd, now)
            kept: list[Any] = []
            for effect in effects:
                if isinstance(effect, Issued):
                    issuance = attrs.evolve(effect.issuance, transferable=True)
                    effect = attrs.evolve(effect, issuance=issuance)
                elif isinstance(effect, StatusChanged) and effect.new is BundleStatus.CANCELLED:
                    continue  # the immediate cancellation for the beneficiary is skipped
                kept.append(effect)
            return value, kept

        table[IssueFromCancelledEacs] = issue_as_ordinary
        return table


class Config3GcTransferable(FaultyAdapter):
    """Configuration #3 GCs are issued as ordinary, active and transferable GCs.

    The #3 issuance reuses the registry's ordinary issuance path: it forgets
    both the non-transferable flag and the cancellation for the EAC's
    beneficiary at issuance, so the GCs land in the account as active
    certificates that can be sold on although the EACs behind them were
    already cancelled for a beneficiary.

    Breaks CONF-013 (configuration #3 GCs cannot change owner) and CONF-012 (they are
    cancelled for the EACs' beneficiary at issuance).
    """

    fault = "config3-gc-transferable"
    description = (
        "configuration #3 GCs are issued active and transferable, not cancelled at issuance"
    )
    breaks = ("CONF-013", "CONF-012")

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        if setup.get("configuration") == 3 and self._eac is not None:
            from gc_conformance.reference._books import standard_books

            eac, chosen = self._eac, self.configuration_policies

            def factory(registry: Registry) -> LinkBook:
                return _TransferableLinkBook(registry, eac, chosen)

            built = self.registry
            gc = Registry(built.issuer, built.policies, books=(*standard_books(), factory))
            self._linked = LinkedRegistries(eac, gc)
            self._registry = gc


# =============================================================================== model internals used

#: Every private name of the model the faulty registries override or read, with the positional
#: parameters an override relies on (None: an attribute or a call with the same arguments).
#: ``tests/conformance/test_faulty.py`` checks each against the model, so that a change there
#: is reported by name rather than as a fault that silently stopped being a fault.
MODEL_INTERNALS: Mapping[type, Mapping[str, tuple[str, ...] | None]] = {
    Registry: {
        "_check_fresh_interval": ("device", "interval"),
        "_range_clash": ("start", "end"),
        "_plan_issuance": ("device", "interval", "range_start", "quantity", "now", "effects"),
        "_next_certificate_id": None,
        "_decide_reserve": ("cmd", "now"),
        "_decide_withdraw": ("cmd", "now"),
        "_decide_expire": ("cmd", "now"),
        "_require_valid_at": ("bundle", "now"),
        "_require_consumption_in_validity": ("bundle", "period", "now"),
        "_require_holder": ("actor", "bundle"),
        "_require_issuer": ("actor",),
        "_optional_quantity": ("value", "bundle"),
        "_carve": ("bundle", "quantity", "effects"),
    },
    StorageBook: {
        "_decide_issue": ("cmd", "now"),
        "_plan_take": ("storage", "need", "before", "view"),
        "_scrs": None,
    },
    ReferenceAdapter: {"_registry": None, "_linked": None, "_eac": None, "_bundle": ("bundle",)},
}


# =============================================================================== the catalogue


FAULTY_ADAPTERS: tuple[type[FaultyAdapter], ...] = (
    PartialTransferRangeOverrun,
    NonPositiveQuantityAccepted,
    ResubmissionIssuedTwice,
    WithdrawnIdsReused,
    CancelledBundleRevived,
    NonOwnerMayAct,
    SixtyOneMinuteInterval,
    IssuerCreatedOverlapAccepted,
    RoundsUp,
    ExpiryNeverApplied,
    OwnHourStretchUnrestricted,
    CommittedThenFailed,
    RefusedPartialLeavesSplit,
    SdGcBeforeInputsCancelled,
    FifoAllocatesLifo,
    Config3GcTransferable,
    ClaimForAnyone,
    UnknownBundleTransferAccepted,
)

FAULTS: dict[str, Fault] = {
    cls.fault: Fault(cls.fault, cls.description, cls.breaks, cls) for cls in FAULTY_ADAPTERS
}


# ------------------------------------------------------------------------------- configurations (issue 15)


class _LinkBookFault(FaultyAdapter):
    """A #2/#3 registry whose link book is ``book_type`` (a LinkBook with one defect)."""

    book_type: ClassVar[type[LinkBook]] = LinkBook

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        if setup.get("configuration") in (2, 3) and self._eac is not None:
            from gc_conformance.reference._books import standard_books

            eac, chosen, book_type = self._eac, self.configuration_policies, self.book_type

            def factory(registry: Registry) -> LinkBook:
                return book_type(registry, eac, chosen)

            built = self.registry
            gc = Registry(built.issuer, built.policies, books=(*standard_books(), factory))
            self._linked = LinkedRegistries(eac, gc)
            self._registry = gc


class _UnsealedLinkBook(LinkBook):
    """Decides ordinary issuance and corrections as a configuration #1 registry would."""

    def deciders(self) -> Mapping[type, Any]:
        from gc_conformance.reference.commands import (
            CorrectProduction,
            IssueBundle,
            SubmitProduction,
        )

        table = dict(super().deciders())
        for command_type, name in (
            (SubmitProduction, "_decide_submit_production"),
            (IssueBundle, "_decide_issue_bundle"),
            (CorrectProduction, "_decide_correct_production"),
        ):
            table[command_type] = getattr(self._registry, name)
        return table


class OrdinaryIssuanceUnlinked(_LinkBookFault):
    """Configuration #2/#3 registries accept ordinary issuance with no EAC behind it.

    Production submissions, issuer-created bundles and upward corrections take
    the configuration #1 path: GCs are issued for the metered energy, linked to
    no EAC, so the GC energy passes the EACs' (the reproduction of issue 15:
    10 MWh of GCs against 2 MWh of EACs) and #3 GCs exist with no cancelled EAC.

    Breaks CONF-023, CONF-024 and CONF-026.
    """

    fault = "config-ordinary-issuance-unlinked"
    description = "#2/#3 registries issue GCs from ordinary submissions, bundles and corrections"
    breaks = ("CONF-023", "CONF-024", "CONF-026")
    book_type = _UnsealedLinkBook


class _NoDeductionLinkBook(LinkBook):
    """Linked issuance ignores outstanding D10 deductions."""

    def _plan_hour(self, device: Any, interval: Any, metered: Any, *args: Any, **kw: Any) -> Any:
        from gc_conformance.reference.effects import DebtChanged

        effects = args[3]  # (eacs, taken, now, effects, ...)
        marker = DebtChanged("", 0, None, 0)  # the book takes deductions once per request
        effects.insert(0, marker)
        try:
            return super()._plan_hour(device, interval, metered, *args, **kw)
        finally:
            effects.remove(marker)


class LinkedIssuanceSkipsDeductions(_LinkBookFault):
    """Configuration #2 linked issuance never takes outstanding D10 deductions.

    A downward correction of transferred GCs records the wrongly issued Wh as a
    deduction, but the next linked issuance for the hour is issued in full and
    the deduction stays open for ever (issue 15: 1.2 MWh of GCs for 0.7 MWh
    metered).

    Breaks CONF-025.
    """

    fault = "config2-linked-skips-deductions"
    description = "#2 linked issuance ignores outstanding D10 deductions"
    breaks = ("CONF-025",)
    book_type = _NoDeductionLinkBook


FAULTY_ADAPTERS = (*FAULTY_ADAPTERS, OrdinaryIssuanceUnlinked, LinkedIssuanceSkipsDeductions)
FAULTS = {cls.fault: Fault(cls.fault, cls.description, cls.breaks, cls) for cls in FAULTY_ADAPTERS}
