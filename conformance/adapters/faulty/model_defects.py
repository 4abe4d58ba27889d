"""Faulty registries whose defect sits inside the model: a ``Registry`` subclass that overrides
one decision (a guard left out, an ID counter rewound, a status forgotten)."""

import datetime as _dt
from typing import Any

from gc_conformance.adapters.faulty._base import FaultyAdapter
from gc_conformance.reference import (
    BundleResult,
    BundleStatus,
    ExpiryResult,
    Registry,
    ReserveKind,
)
from gc_conformance.reference.effects import StatusChanged


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
