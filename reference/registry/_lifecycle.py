"""Deciding what happens to an issued bundle: transfer, cancel, claim, reserve, release, withdraw, expire.

These are the D8/D9 moves of a certificate once it exists; each checks the
bundle's holder, status and validity in a fixed order and plans a
``Transferred`` or ``StatusChanged`` effect, carving first when only part of
the bundle is acted on.
"""

from __future__ import annotations

import datetime as _dt

from gc_conformance.reference.bundles import BundleStatus, Cancellation, CancellationPurpose
from gc_conformance.reference.commands import (
    Cancel,
    Claim,
    Expire,
    Release,
    Reserve,
    ReserveKind,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.effects import Effect, StatusChanged, Transferred
from gc_conformance.reference.entities import require_text
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.history import BundleResult, ExpiryResult
from gc_conformance.reference.registry._contract import _Decision, _Refuse
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.registry._values import _same_instant, _same_optional_instant
from gc_conformance.reference.timestamps import Interval


class _LifecycleDecisions(_RegistryState):
    """Deciders of the certificate lifecycle after issuance."""

    # ------------------------------------------------------------------ lifecycle

    def _decide_transfer(self, cmd: Transfer, now: _dt.datetime) -> _Decision:
        quantity = self._optional_quantity(cmd.quantity)
        bundle = self._current_bundle(cmd.bundle_id)
        self._known_account(cmd.to_account, "to_account")
        self._require_holder(cmd.actor, bundle)
        self._require_exempt_use(bundle, "transfer")
        if cmd.to_account == bundle.account_id:
            raise _Refuse(
                ErrorCode.SAME_ACCOUNT, "to_account", f"bundle is already in {cmd.to_account!r}"
            )
        self._require_status(bundle, BundleStatus.ACTIVE)
        self._require_valid_at(bundle, now)
        if not self._issuances[bundle.issuance_id].transferable:
            raise _Refuse(
                ErrorCode.NOT_TRANSFERABLE,
                "bundle_id",
                f"bundle {bundle.bundle_id} was issued non-transferable "
                f"(configuration #{self._issuances[bundle.issuance_id].registry_configuration})",
            )
        self._optional_quantity(quantity, bundle)
        effects: list[Effect] = []
        part, rest = self._carve(bundle, quantity, effects)
        effects.append(Transferred(part, bundle.account_id, cmd.to_account))
        return BundleResult(part, rest), effects

    def _decide_cancel(self, cmd: Cancel, now: _dt.datetime) -> _Decision:
        quantity = self._optional_quantity(cmd.quantity)
        beneficiary = require_text(cmd.beneficiary, "beneficiary")
        try:
            purpose = CancellationPurpose[cmd.purpose]
        except (KeyError, TypeError):
            raise _Refuse(
                ErrorCode.INVALID_FIELD,
                "purpose",
                f"{cmd.purpose!r} is not CONSUMPTION or STORAGE_CHARGE",
            ) from None
        if purpose is CancellationPurpose.STORAGE_CHARGE:
            # D7: a cancellation for charging records the GCs on a Storage Charge Record;
            # this request names none, so it would leave the charge unrecorded.
            raise _Refuse(
                ErrorCode.STORAGE_CHARGE_NEEDS_SCR,
                "purpose",
                "cancel for storage charging with the storage book's CancelForCharge, "
                "which names the Storage Charge Record",
            )
        period: Interval | None = None
        if cmd.consumption_start is not None or cmd.consumption_end is not None:
            period = Interval.parse(
                cmd.consumption_start, cmd.consumption_end, field="consumption_period"
            )
        location = cmd.consumption_location
        if location is not None:
            require_text(location, "consumption_location")
        bundle = self._owned_bundle(cmd.actor, cmd.bundle_id)
        self._require_exempt_use(bundle, "cancel", beneficiary)
        self._require_status(bundle, BundleStatus.ACTIVE)
        self._require_valid_at(bundle, now)
        self._require_consumption_in_validity(bundle, period, now)
        self._optional_quantity(quantity, bundle)
        cancellation = self._cancellation(
            beneficiary,
            purpose,
            now,
            None if period is None else period.start,
            None if period is None else period.end,
            location,
        )
        effects: list[Effect] = []
        part, rest = self._carve(bundle, quantity, effects)
        effects.append(
            StatusChanged(
                part, BundleStatus.ACTIVE, BundleStatus.CANCELLED, cancellation=cancellation
            )
        )
        return BundleResult(part, rest), effects

    def _cancellation(
        self,
        beneficiary: str,
        purpose: CancellationPurpose,
        now: _dt.datetime,
        start: _dt.datetime | None,
        end: _dt.datetime | None,
        location: str | None,
    ) -> Cancellation:
        """The cancellation record; the last one again when equal (batches share one record)."""
        last = self._cancellation_memo
        if last is not None and (
            last.beneficiary == beneficiary
            and type(last.beneficiary) is type(beneficiary)
            and last.purpose is purpose
            and _same_instant(last.cancelled_at, now)
            and _same_optional_instant(last.consumption_start, start)
            and _same_optional_instant(last.consumption_end, end)
            and last.consumption_location == location
            and type(last.consumption_location) is type(location)
        ):
            return last
        cancellation = Cancellation(
            beneficiary=beneficiary,
            purpose=purpose,
            cancelled_at=now,
            consumption_start=start,
            consumption_end=end,
            consumption_location=location,
        )
        self._cancellation_memo = cancellation
        return cancellation

    def _decide_claim(self, cmd: Claim, now: _dt.datetime) -> _Decision:
        quantity = self._optional_quantity(cmd.quantity)
        claimant = require_text(cmd.claimant, "claimant")
        bundle = self._owned_bundle(cmd.actor, cmd.bundle_id)
        self.require_claimable(bundle, claimant)
        assert bundle.cancellation is not None
        self._optional_quantity(quantity, bundle)
        effects: list[Effect] = []
        part, rest = self._carve(bundle, quantity, effects)
        effects.append(
            StatusChanged(
                part,
                BundleStatus.CANCELLED,
                BundleStatus.CLAIMED,
                cancellation=bundle.cancellation,
                claimant=claimant,
            )
        )
        return BundleResult(part, rest), effects

    def _decide_reserve(self, cmd: Reserve, now: _dt.datetime) -> _Decision:
        quantity = self._optional_quantity(cmd.quantity)
        try:
            kind = ReserveKind[cmd.kind]
        except (KeyError, TypeError):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "kind", f"{cmd.kind!r} is not RESERVED or LOCKED"
            ) from None
        bundle = self._current_bundle(cmd.bundle_id)
        # "frozen by the holder or the issuer": the issuer may lock any account's bundle
        # (e.g. during a dispute), but reserves only what it holds.
        by_issuer = kind is ReserveKind.LOCKED and cmd.actor == self.issuer.issuer_id
        if not by_issuer:
            self._require_holder(cmd.actor, bundle)
        self._require_status(bundle, BundleStatus.ACTIVE)
        self._require_valid_at(bundle, now)
        self._optional_quantity(quantity, bundle)
        effects: list[Effect] = []
        part, rest = self._carve(bundle, quantity, effects)
        effects.append(
            StatusChanged(
                part, BundleStatus.ACTIVE, BundleStatus[kind.name], locked_by_issuer=by_issuer
            )
        )
        return BundleResult(part, rest), effects

    def _decide_release(self, cmd: Release, now: _dt.datetime) -> _Decision:
        bundle = self._current_bundle(cmd.bundle_id)
        if bundle.bundle_id in self._issuer_locks:
            if cmd.actor != self.issuer.issuer_id:
                raise _Refuse(
                    ErrorCode.NOT_AUTHORISED,
                    "actor",
                    f"bundle {bundle.bundle_id} was locked by the GC Issuer; only it releases it",
                )
        else:
            self._require_holder(cmd.actor, bundle)
        if bundle.status not in (BundleStatus.RESERVED, BundleStatus.LOCKED):
            raise _Refuse(
                ErrorCode.NOT_RESERVED,
                "bundle_id",
                f"bundle {bundle.bundle_id} is {bundle.status.name}",
            )
        self._require_valid_at(bundle, now)
        return BundleResult(bundle.bundle_id), [
            StatusChanged(bundle.bundle_id, bundle.status, BundleStatus.ACTIVE)
        ]

    def _decide_withdraw(self, cmd: Withdraw, now: _dt.datetime) -> _Decision:
        quantity = self._optional_quantity(cmd.quantity)
        require_text(cmd.reason, "reason")
        self._require_issuer(cmd.actor)
        bundle = self._current_bundle(cmd.bundle_id)
        self._require_status(
            bundle, BundleStatus.ACTIVE, BundleStatus.RESERVED, BundleStatus.LOCKED
        )
        # Past its validity a bundle is expired, swept or not (D8); D10 deducts, not withdraws.
        self._require_valid_at(bundle, now)
        self._optional_quantity(quantity, bundle)
        effects: list[Effect] = []
        part, rest = self._carve(bundle, quantity, effects)
        effects.append(StatusChanged(part, bundle.status, BundleStatus.WITHDRAWN))
        return BundleResult(part, rest), effects

    def _decide_expire(self, cmd: Expire, now: _dt.datetime) -> _Decision:
        self._require_issuer(cmd.actor)
        effects: list[Effect] = []
        expired: list[int] = []
        # Only reads the queue; _apply drops an issuance from it once none of its
        # bundles is live, which this sweep's own effects bring about.
        for issuance_id in self._due_issuances(now):
            if not self._live_bundles.get(issuance_id):
                continue
            for bundle_id in sorted(self._current_of_issuance(issuance_id)):
                bundle = self._bundles[bundle_id]
                if bundle.status.is_live:
                    effects.append(StatusChanged(bundle_id, bundle.status, BundleStatus.EXPIRED))
                    expired.append(bundle_id)
        return ExpiryResult(tuple(expired)), effects

    def _due_issuances(self, now: _dt.datetime) -> list[int]:
        """Issuances in the expiry queue due at ``now``, by (expiry, ID); the queue is unchanged.

        The entries due form a subtree at the heap's root, walked in O(entries due).
        """
        heap = self._expiry_queue
        due: set[tuple[_dt.datetime, int]] = set()
        stack = [0] if heap and heap[0][0] <= now else []
        while stack:
            index = stack.pop()
            due.add(heap[index])
            for child in (2 * index + 1, 2 * index + 2):
                if child < len(heap) and heap[child][0] <= now:
                    stack.append(child)
        seen: set[int] = set()
        ordered = []
        for _, issuance_id in sorted(due):
            if issuance_id not in seen:
                seen.add(issuance_id)
                ordered.append(issuance_id)
        return ordered
