"""What a registry holds, and how a new one is built.

Every part of :class:`Registry` (public API, guards, deciders, ``_apply``) is a
mixin over :class:`_RegistryState`: one place names the containers, indices,
counters and log columns, and wires the deciders and appliers, so the parts
share state without owning any of it. The methods one part calls on another
are declared here for the type checker only; each has one definition, in its
own mixin.
"""

from __future__ import annotations

import datetime as _dt
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from gc_conformance.reference.bundles import Bundle, BundleStatus, Cancellation, Issuance
from gc_conformance.reference.commands import (
    Cancel,
    Claim,
    CorrectProduction,
    Expire,
    IssueBundle,
    OpenAccount,
    Query,
    RegisterDevice,
    Release,
    Reserve,
    SubmitProduction,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.effects import (
    DebtChanged,
    Effect,
    Issued,
    ReadingRecognised,
    Split,
    StatusChanged,
    Transferred,
)
from gc_conformance.reference.entities import Account, Device, Issuer
from gc_conformance.reference.errors import Problem
from gc_conformance.reference.history import ActionRecord, IssuanceResult, Rejected
from gc_conformance.reference.policies import Policies
from gc_conformance.reference.registry._contract import B, Book, BookFactory, _Decision
from gc_conformance.reference.timestamps import Interval

if TYPE_CHECKING:
    from gc_conformance.reference.registry._core import Registry


class _RegistryState:
    """The state of one registry: records, indices, counters, the action log; built once."""

    def __init__(
        self,
        issuer: Issuer,
        policies: Policies | None = None,
        books: Sequence[BookFactory] | None = None,
    ) -> None:
        self.issuer = issuer
        self.policies = policies if policies is not None else Policies()
        self._accounts: dict[str, Account] = {}
        self._devices: dict[str, Device] = {}
        self._issuances: dict[int, Issuance] = {}
        self._bundles: dict[int, Bundle] = {}  # every current bundle (not superseded by a split)
        # every bundle superseded by a split, as it stood when split (so without the
        # BUNDLE_SPLIT status it has since, which reading it adds)
        self._superseded: dict[int, Bundle] = {}
        # account -> its current bundles by ID (the same records as in _bundles)
        self._current_by_account: dict[str, dict[int, Bundle]] = {}
        # issuance -> its current bundles: the bundle ID while it has one (the usual case),
        # a set from its first split on
        self._current_by_issuance: dict[int, int | set[int]] = {}
        # device -> the current bundles of its issuances, by ID (the same records as in _bundles)
        self._current_by_device: dict[str, dict[int, Bundle]] = {}
        # (device, interval start) -> the issuance ID, or a list once a correction adds one
        self._issuances_by_reading: dict[tuple[str, _dt.datetime], int | list[int]] = {}
        # (device, interval start) -> the effect that recognised the reading now held
        self._readings: dict[tuple[str, _dt.datetime], ReadingRecognised] = {}
        self._reading_starts: dict[str, list[_dt.datetime]] = {}  # sorted, per device
        self._range_starts: list[int] = []  # sorted; parallel to _range_ends
        self._range_ends: list[int] = []
        self._debts: dict[str, dict[int, DebtChanged]] = {}
        # device -> sub-Wh rounding remainder carried to its next reading (Rounding.carry)
        self._carries: dict[str, Decimal] = {}
        # bundles that were transferred, or split from one that was: not "untouched" (D10)
        self._transferred: set[int] = set()
        # LOCKED bundles whose lock the GC Issuer set: only the issuer releases them
        self._issuer_locks: set[int] = set()
        # Indices, derived from the state above (so not part of fingerprint()):
        self._device_by_meter: dict[str, str] = {}  # meter ID -> device ID
        self._live_bundles: dict[int, int] = {}  # issuance -> number of live current bundles
        # (expiry, issuance_id) min-heap holding every issuance with live bundles (and, until
        # they reach the top, some whose bundles all ended): read by the expiry sweep, changed
        # only in _apply.
        self._expiry_queue: list[tuple[_dt.datetime, int]] = []
        self._next_certificate_id = 1
        self._next_bundle_id = 1
        self._next_issuance_id = 1
        self._next_debt_id = 1
        # The action log, in columns: per action its command and instant; its effects are
        # _log_effects[_log_effect_ends[i - 1]:_log_effect_ends[i]]; a refusal's
        # (action_id, actor, problem) by position. ActionRecords are built when read.
        self._log_commands: list[Any] = []
        self._log_at: list[_dt.datetime] = []
        self._log_effects: list[Any] = []
        self._log_effect_ends = array("q")
        self._log_refusals: dict[int, tuple[int, str, Problem]] = {}
        self._last_at: _dt.datetime | None = None
        # Caches of values computed while deciding (never state): equal inputs give equal
        # values, and sharing one object keeps a registry of millions of records small.
        self._expiry_memo: (
            tuple[Any, _dt.datetime, tuple[_dt.datetime, _dt.datetime | None]] | None
        ) = None
        self._date_memo: tuple[_dt.datetime, _dt.date] | None = None
        self._cancellation_memo: Cancellation | None = None
        self._appliers: dict[type, Callable[[Any], None]] = {
            Split: self._apply_split,
            Transferred: self._apply_transferred,
            StatusChanged: self._apply_status,
            Issued: self._apply_issued,
            ReadingRecognised: self._apply_reading,
        }
        self._deciders: dict[type, Callable[[Any, _dt.datetime], _Decision]] = {
            OpenAccount: self._decide_open_account,
            RegisterDevice: self._decide_register_device,
            SubmitProduction: self._decide_submit_production,
            IssueBundle: self._decide_issue_bundle,
            Transfer: self._decide_transfer,
            Cancel: self._decide_cancel,
            Claim: self._decide_claim,
            Reserve: self._decide_reserve,
            Release: self._decide_release,
            Withdraw: self._decide_withdraw,
            Expire: self._decide_expire,
            CorrectProduction: self._decide_correct_production,
        }
        if books is None:
            from gc_conformance.reference._books import standard_books

            books = standard_books()
        # A _RegistryState is only ever built as a Registry (the composed class).
        registry = cast("Registry", self)
        self._books: list[Book] = [factory(registry) for factory in books]
        self._effect_owner: dict[type, Book] = {}
        for book in self._books:
            self._deciders.update(book.deciders())
            for effect_type in book.effect_types:
                self._effect_owner[effect_type] = book

    def book(self, book_type: type[B]) -> B:
        """The registry's book of ``book_type`` (e.g. its storage book)."""
        for book in self._books:
            if isinstance(book, book_type):
                return book
        raise LookupError(f"this registry has no {book_type.__name__}")

    if TYPE_CHECKING:
        # The methods one part of the registry calls on another, declared for mypy only
        # (each is defined once, in the mixin named in the comment; nothing here runs).

        # _PublicApi (_api.py)
        def _current_ids(self) -> Iterator[int]: ...
        def _current_of_issuance(self, issuance_id: int) -> Iterable[int]: ...
        def _issuances_of_reading(self, key: tuple[str, _dt.datetime]) -> list[int]: ...
        def _rounded_alone(self) -> str | None: ...
        def rounding_remainder(self, device_id: str) -> Decimal: ...

        # _ActionLog (_log.py)
        def _refused(
            self,
            action_id: int,
            at: _dt.datetime | None,
            actor: object,
            command: object,
            problem: Problem,
        ) -> Rejected: ...
        def _actions(self) -> Iterator[ActionRecord]: ...
        def _action(self, index: int) -> ActionRecord: ...

        # _BookGuards (_guards.py)
        def require_claimable(self, bundle: Bundle, claimant: str) -> None: ...

        # _SharedChecks (_checks.py)
        def _require_issuer(self, actor: object) -> None: ...
        def _known_account(self, account_id: object, field: str) -> Account: ...
        def _known_device(self, device_id: object) -> Device: ...
        @staticmethod
        def _require_not_storage(device: Device) -> None: ...
        def _current_bundle(self, bundle_id: object) -> Bundle: ...
        def _owned_bundle(self, actor: object, bundle_id: object) -> Bundle: ...
        def _require_holder(self, actor: object, bundle: Bundle) -> None: ...
        def _require_status(self, bundle: Bundle, *allowed: BundleStatus) -> None: ...
        def _require_valid_at(self, bundle: Bundle, now: _dt.datetime) -> None: ...
        def _require_consumption_in_validity(
            self, bundle: Bundle, period: Interval | None, now: _dt.datetime
        ) -> None: ...
        def _require_exempt_use(
            self, bundle: Bundle, action: str, beneficiary: str | None = None
        ) -> None: ...
        @staticmethod
        def _optional_quantity(value: object, bundle: Bundle | None = None) -> int | None: ...
        def _carve(
            self, bundle: Bundle, quantity: int | None, effects: list[Effect]
        ) -> tuple[int, int | None]: ...
        def _next_free_bundle_id(self, planned: list[Effect]) -> int: ...

        # _RegistrationDecisions (_registration.py)
        def _decide_open_account(self, cmd: OpenAccount, now: _dt.datetime) -> _Decision: ...
        def _decide_register_device(self, cmd: RegisterDevice, now: _dt.datetime) -> _Decision: ...

        # _IssuanceDecisions (_issuance.py)
        def _check_fresh_interval(self, device: Device, interval: Interval) -> None: ...
        @staticmethod
        def _check_ended(interval: Interval, now: _dt.datetime) -> None: ...
        def _check_still_valid(self, interval: Interval, now: _dt.datetime) -> None: ...
        def _check_capacity(self, device: Device, interval: Interval, energy: Decimal) -> None: ...
        def _plan_issuance(
            self,
            device: Device,
            interval: Interval,
            range_start: int,
            quantity: int,
            now: _dt.datetime,
            effects: list[Effect],
            *,
            account_id: str | None = None,
            corrects: int | None = None,
            deducted: int = 0,
            attributes: Mapping[str, Any] | None = None,
        ) -> IssuanceResult: ...
        def _plan_deductions(
            self, device_id: str, hour: int, face_wh: int, effects: list[Effect]
        ) -> int: ...
        def _decide_submit_production(
            self, cmd: SubmitProduction, now: _dt.datetime
        ) -> _Decision: ...
        def _range_clash(self, start: int, end: int) -> tuple[int, int] | None: ...
        def _decide_issue_bundle(self, cmd: IssueBundle, now: _dt.datetime) -> _Decision: ...

        # _LifecycleDecisions (_lifecycle.py)
        def _decide_transfer(self, cmd: Transfer, now: _dt.datetime) -> _Decision: ...
        def _decide_cancel(self, cmd: Cancel, now: _dt.datetime) -> _Decision: ...
        def _decide_claim(self, cmd: Claim, now: _dt.datetime) -> _Decision: ...
        def _decide_reserve(self, cmd: Reserve, now: _dt.datetime) -> _Decision: ...
        def _decide_release(self, cmd: Release, now: _dt.datetime) -> _Decision: ...
        def _decide_withdraw(self, cmd: Withdraw, now: _dt.datetime) -> _Decision: ...
        def _decide_expire(self, cmd: Expire, now: _dt.datetime) -> _Decision: ...

        # _CorrectionDecisions (_correction.py)
        def _decide_correct_production(
            self, cmd: CorrectProduction, now: _dt.datetime
        ) -> _Decision: ...

        # _Queries (_queries.py)
        def _select(self, query: Query) -> tuple[Bundle, ...]: ...

        # _Apply (_apply.py)
        def _apply(self, effect: object) -> None: ...
        def _apply_transferred(self, effect: Transferred) -> None: ...
        def _apply_status(self, effect: StatusChanged) -> None: ...
        def _apply_reading(self, effect: ReadingRecognised) -> None: ...
        def _apply_issued(self, effect: Issued) -> None: ...
        def _apply_split(self, effect: Split) -> None: ...
