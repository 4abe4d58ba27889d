"""The guard API: the public methods the books (storage, configurations) decide with.

Each rule has one home. A book calls these, never the private helpers behind
them, and each delegates to the private helper a faulty registry may override,
so sealing a rule in the registry seals it on every path of every book.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gc_conformance.reference.bundles import Bundle, BundleStatus, Issuance
from gc_conformance.reference.commands import Cancel, RegisterDevice
from gc_conformance.reference.effects import Effect, Issued
from gc_conformance.reference.entities import Account, Device
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.history import IssuanceResult
from gc_conformance.reference.registry._contract import Decider, _Decision, _Refuse
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.timestamps import Interval


class _BookGuards(_RegistryState):
    """Public delegates of the registry's rules and planning helpers, for the books."""

    # ------------------------------------------------------------------ guard API for books
    # The small public surface the books (storage, configurations) decide with, so that a
    # rule lives in one place and sealing a path cannot miss a private copy.

    def decider(self, command_type: type) -> Decider | None:
        """The decider currently registered for ``command_type`` (a book may wrap it)."""
        return self._deciders.get(command_type)

    def command_types(self) -> tuple[type, ...]:
        """Every request type this registry decides (core and books so far)."""
        return tuple(self._deciders)

    def plan_issuance(
        self,
        device: Device,
        interval: Interval,
        quantity: int,
        now: _dt.datetime,
        effects: list[Any],
        *,
        account_id: str | None = None,
        deducted: int = 0,
        attributes: Mapping[str, Any] | None = None,
    ) -> IssuanceResult:
        """Plan an ``Issued`` effect for ``quantity`` Wh from the next free certificate ID."""
        planned = sum(e.issuance.quantity for e in effects if isinstance(e, Issued))
        return self._plan_issuance(
            device,
            interval,
            self._next_certificate_id + planned,
            quantity,
            now,
            effects,
            account_id=account_id,
            deducted=deducted,
            attributes=attributes,
        )

    def plan_deductions(self, device_id: str, hour: int, face_wh: int, effects: list[Any]) -> int:
        """D10: plan taking outstanding deductions from ``face_wh``; returns the Wh deducted."""
        return self._plan_deductions(device_id, hour, face_wh, effects)

    def issuances_of_reading(self, device_id: str, start: _dt.datetime) -> list[int]:
        """The issuances made from one reading: the original first, then corrections."""
        return self._issuances_of_reading((device_id, start))

    def bundles_of_issuance(self, issuance_id: int) -> list[Bundle]:
        """The current (not superseded) bundles of an issuance, by ID."""
        if issuance_id not in self._current_by_issuance:
            return []
        return [self._bundles[b] for b in sorted(self._current_of_issuance(issuance_id))]

    def locked_by_issuer(self, bundle_id: int) -> bool:
        """Whether ``bundle_id`` is LOCKED by the GC Issuer (only the issuer releases it)."""
        return bundle_id in self._issuer_locks

    # ------------------------------------------------------------------ the guard API of books
    #
    # The rules a book (storage, configurations) must apply on its own paths, each with one
    # home here: a book calls these, never the private helpers behind them, so that sealing
    # a rule in the registry seals it on every path (faulty registries override the private
    # helpers, and these delegate to them). Each raises ``Refusal`` naming the field.

    def require_issuer(self, actor: object) -> None:
        """D2: only the GC Issuer acts."""
        self._require_issuer(actor)

    def known_account(self, account_id: object, field: str) -> Account:
        return self._known_account(account_id, field)

    def known_device(self, device_id: object) -> Device:
        return self._known_device(device_id)

    def current_bundle(self, bundle_id: object) -> Bundle:
        """A bundle that exists and was not split (act on its children instead)."""
        return self._current_bundle(bundle_id)

    def owned_bundle(self, actor: object, bundle_id: object) -> Bundle:
        """A current bundle in an account ``actor`` holds."""
        return self._owned_bundle(actor, bundle_id)

    def require_status(self, bundle: Bundle, *allowed: BundleStatus) -> None:
        self._require_status(bundle, *allowed)

    def require_valid_at(self, bundle: Bundle, now: _dt.datetime) -> None:
        """D8: the bundle's validity has not ended at ``now``."""
        self._require_valid_at(bundle, now)

    def require_exempt_use(
        self, bundle: Bundle, action: str, beneficiary: str | None = None
    ) -> None:
        """D2: an issuer's exempt account serves only its purpose."""
        self._require_exempt_use(bundle, action, beneficiary)

    def require_claimable(self, bundle: Bundle, claimant: str) -> None:
        """D4 risk 5/6: a bundle is claimed once, after its cancellation, by its beneficiary.

        The one home of the claim refusals: a plain claim and a storage time-shift
        claim both come here.
        """
        if bundle.status is BundleStatus.CLAIMED:
            raise _Refuse(
                ErrorCode.ALREADY_CLAIMED, "bundle_id", f"bundle {bundle.bundle_id} was claimed"
            )
        if bundle.status is not BundleStatus.CANCELLED:
            raise _Refuse(
                ErrorCode.NOT_CANCELLED,
                "bundle_id",
                f"bundle {bundle.bundle_id} is {bundle.status.name}; only CANCELLED bundles can be claimed",
            )
        assert bundle.cancellation is not None
        if claimant != bundle.cancellation.beneficiary:
            raise _Refuse(
                ErrorCode.BENEFICIARY_MISMATCH,
                "claimant",
                f"cancelled for {bundle.cancellation.beneficiary!r}, claimed by {claimant!r}",
            )

    def optional_quantity(self, value: object, bundle: Bundle | None = None) -> int | None:
        """A partial operation's quantity: a positive whole Wh, at most the bundle's."""
        return self._optional_quantity(value, bundle)

    def carve(
        self, bundle: Bundle, quantity: int | None, effects: list[Effect]
    ) -> tuple[int, int | None]:
        """Plan the split isolating ``quantity`` Wh of ``bundle``: ``(acted_on, remainder)``."""
        return self._carve(bundle, quantity, effects)

    def check_ended(self, interval: Interval, now: _dt.datetime) -> None:
        """An interval is reported only once it has ended."""
        self._check_ended(interval, now)

    def check_fresh_interval(self, device: Device, interval: Interval) -> None:
        """D4 risk 1: a device's interval is recognised once."""
        self._check_fresh_interval(device, interval)

    def check_still_valid(self, interval: Interval, now: _dt.datetime) -> None:
        """D8: nothing is issued already past its validity."""
        self._check_still_valid(interval, now)

    def check_capacity(self, device: Device, interval: Interval, energy: Decimal) -> None:
        self._check_capacity(device, interval, energy)

    def issuance_record(self, issuance_id: int) -> Issuance:
        """An issuance the registry made (a book holding its ID)."""
        return self._issuances[issuance_id]

    def decide_register_device(self, cmd: RegisterDevice, now: _dt.datetime) -> _Decision:
        """The core registration of a device (a book registering a kind of device extends it)."""
        return self._decide_register_device(cmd, now)

    def decide_cancel(self, cmd: Cancel, now: _dt.datetime) -> _Decision:
        """The core cancellation (a book cancelling through a link extends it)."""
        return self._decide_cancel(cmd, now)
