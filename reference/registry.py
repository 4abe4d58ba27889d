"""The reference GC registry: the certificate lifecycle of D3-D10, executable.

How a request is handled, and why:

1. ``execute(command, now)`` is the only entry for changes. It refuses a
   ``now`` earlier than the last recorded action (the log is append-only and
   time-ordered), then *decides* the request: parses every field, checks
   existence, authority, state and quantities, and plans the effects
   (:mod:`.effects`) without touching any state.
2. If anything is wrong the request is answered with a :class:`Rejected`
   naming the code and the field; the state is exactly as before (the
   rejection itself is logged, as D8 record keeping expects).
3. Otherwise the effects are applied by ``_apply``, the one place state
   changes, which re-checks the local invariants each effect must keep (a
   split partitions its parent exactly, a transfer leaves the account the
   bundle was in, ...). A violation there is a bug in this oracle and raises
   :class:`ModelInvariantBroken` rather than produce a verdict.

Checks run in a fixed order so that a request with several faults always gets
the same code: field syntax; the actor's role (issuer-only requests); existence
of what is named; ownership; state and validity; quantities.

The registry keeps indices (by account, issuance, device, ID range, expiry)
so that every operation costs the same at 10^3 or 10^6 bundles. Records are
frozen; the containers are private and change only in ``_apply``.

Memory (a registry of millions of bundles stays small and cheap for the garbage
collector): the action log is kept in columns (commands, instants, the effects
in one flat list) and its :class:`ActionRecord` objects are built when read;
the production held for a reading is the ``ReadingRecognised`` effect that
recognised it (a :class:`ProductionRecord` is built when read); an index entry
that names one bundle or issuance holds the ID itself, not a one-element set
or list.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import heapq
import operator
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol, TypeVar

import attrs

from gc_conformance.reference.bundles import (
    Bundle,
    BundleStatus,
    Cancellation,
    CancellationPurpose,
    Issuance,
)
from gc_conformance.reference.commands import (
    Cancel,
    Claim,
    Command,
    CorrectProduction,
    Expire,
    IssueBundle,
    OpenAccount,
    Query,
    RegisterDevice,
    Release,
    Reserve,
    ReserveKind,
    SubmitProduction,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.effects import (
    AccountOpened,
    DebtChanged,
    DeviceRegistered,
    Effect,
    Issued,
    ReadingRecognised,
    Split,
    StatusChanged,
    Transferred,
)
from gc_conformance.reference.entities import (
    Account,
    Device,
    GrossOrNet,
    Issuer,
    IssuerExemption,
    ProductionRecord,
    require_text,
)
from gc_conformance.reference.errors import (
    ErrorCode,
    InvalidInput,
    ModelInvariantBroken,
    Problem,
    absurd_field,
    safe_repr,
)
from gc_conformance.reference.history import (
    Accepted,
    ActionRecord,
    BundleResult,
    CorrectionResult,
    ExpiryResult,
    IssuanceResult,
    Outcome,
    Registered,
    Rejected,
)
from gc_conformance.reference.policies import (
    CapacityPlausibility,
    CorrectionDeduction,
    Policies,
    RoundingCarry,
    SplitOrigin,
    parse_energy,
    parse_quantity,
)
from gc_conformance.reference.timestamps import (
    Interval,
    format_date,
    format_timestamp,
    parse_timestamp,
    production_interval,
)


class Refusal(Exception):
    """Raised inside a decision that found a fault; becomes a :class:`Rejected` answer.

    Internal to the reference package: books (storage, configurations) raise it too.
    """

    def __init__(self, code: ErrorCode, field: str, message: str) -> None:
        self.problem = Problem(code, field, message)


_Refuse = Refusal
_UTC = _dt.UTC

Decision = tuple[Any, list[Any]]
Decider = Callable[[Any, _dt.datetime], Decision]


class Book(Protocol):
    """A part of registry state owned by one area of the standard (storage, configurations).

    A book contributes deciders for its own requests and applies its own
    effect types; it changes its state only in ``apply``, which the registry
    calls from its single ``_apply``. Books may plan core effects (issue,
    split, status) through the registry's planning helpers.
    """

    effect_types: tuple[type, ...]

    def deciders(self) -> Mapping[type, Decider]: ...

    def apply(self, effect: Any) -> None: ...

    def fingerprint(self) -> tuple[Any, ...]: ...


BookFactory = Callable[["Registry"], Book]


_Decision = Decision
B = TypeVar("B")


class Registry:
    """One GC registry run by one GC Issuer, under one set of :class:`Policies`."""

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
        self._books: list[Book] = [factory(self) for factory in books]
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

    # ------------------------------------------------------------------ public API

    def execute(self, command: Command, now: _dt.datetime) -> Outcome[Any]:
        """Carry out ``command`` at ``now``, or refuse it changing nothing. Both are logged."""
        try:
            at, value, effects = self.prepare(command, now)
        except (Refusal, InvalidInput) as refusal:
            return self.record_refusal(command, refusal.problem, self._refusal_time(now))
        return self.commit(command, at, value, effects)

    def _refusal_time(self, now: object) -> _dt.datetime | None:
        """The time a refusal is logged at: ``now`` when it is a valid, non-reversed instant."""
        try:
            at = parse_timestamp(now, "now")
        except InvalidInput:
            return self._last_at
        return self._last_at if self._last_at is not None and at < self._last_at else at

    # -- decide, then apply: ``execute`` uses both; linked registries (configurations #2/#3)
    # -- decide in both registries before applying in either.

    def prepare(self, command: Any, now: _dt.datetime) -> tuple[_dt.datetime, Any, list[Any]]:
        """Decide ``command`` without changing anything; raises Refusal/InvalidInput if refused."""
        # Fast path: an aware UTC datetime with whole seconds is what parse_timestamp
        # would return unchanged (an equal instant); anything else takes the full parse.
        if type(now) is _dt.datetime and now.tzinfo is _UTC and not now.microsecond:
            at = now
        else:
            at = parse_timestamp(now, "now")
        if self._last_at is not None and at < self._last_at:
            raise _Refuse(
                ErrorCode.TIME_REVERSAL,
                "now",
                f"{format_timestamp(at)} is before the last action at {format_timestamp(self._last_at)}",
            )
        decide = self._deciders.get(type(command))
        if decide is None:
            raise _Refuse(ErrorCode.INVALID_FIELD, "command", f"unknown request {type(command)!r}")
        absurd = absurd_field(command)
        if absurd is not None:  # before any check that would repr() the value
            raise _Refuse(absurd.code, absurd.field, absurd.message)
        value, effects = decide(command, at)
        return at, value, effects

    def commit(
        self, command: Any, at: _dt.datetime, value: Any, effects: list[Any]
    ) -> Accepted[Any]:
        """Apply and log what :meth:`prepare` decided (nothing may have happened in between)."""
        apply = self._apply
        for effect in effects:
            apply(effect)
        commands = self._log_commands
        commands.append(command)
        self._log_at.append(at)
        logged = self._log_effects
        logged.extend(effects)
        self._log_effect_ends.append(len(logged))
        self._last_at = at
        return Accepted(len(commands), value)

    def record_refusal(
        self, command: Any, problem: Problem, at: _dt.datetime | None = None
    ) -> Rejected:
        """Log a refused request (here or by a linked registry's decision); state is unchanged."""
        actor = getattr(command, "actor", "")
        return self._refused(
            len(self._log_commands) + 1, at or self._last_at, actor, command, problem
        )

    def query(self, query: Query) -> Outcome[tuple[Bundle, ...]]:
        """Current bundles matching every given filter, in ID order. Reads are not logged."""
        absurd = absurd_field(query)
        if absurd is not None:
            return Rejected(0, absurd)
        try:
            return Accepted(0, self._select(query))
        except _Refuse as refusal:
            return Rejected(0, refusal.problem)
        except InvalidInput as exc:
            return Rejected(0, exc.problem)

    def bundle(self, bundle_id: int) -> Bundle | None:
        bundle = self._bundles.get(bundle_id)
        if bundle is None:
            superseded = self._superseded.get(bundle_id)
            return None if superseded is None else _as_split(superseded)
        return bundle

    def issuance(self, issuance_id: int) -> Issuance | None:
        return self._issuances.get(issuance_id)

    def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def device(self, device_id: str) -> Device | None:
        return self._devices.get(device_id)

    def current_bundles(self) -> Iterator[Bundle]:
        """Every bundle not superseded by a split (live or terminal)."""
        bundles = self._bundles
        for bundle_id in self._current_ids():
            yield bundles[bundle_id]

    def _current_ids(self) -> Iterator[int]:
        for ids in self._current_by_issuance.values():
            if isinstance(ids, int):
                yield ids
            else:
                yield from ids

    def _current_of_issuance(self, issuance_id: int) -> Iterable[int]:
        """The IDs of an issuance's current bundles (in the order current_bundles() gives)."""
        ids = self._current_by_issuance[issuance_id]
        return (ids,) if isinstance(ids, int) else ids

    def _issuances_of_reading(self, key: tuple[str, _dt.datetime]) -> list[int]:
        """The issuances made from a reading, first (the original) to last (corrections)."""
        ids = self._issuances_by_reading.get(key)
        if ids is None:
            return []
        return [ids] if isinstance(ids, int) else list(ids)

    def balance(self, account_id: str) -> int:
        """Wh held as ACTIVE certificates in an account."""
        held = self._current_by_account.get(account_id)
        if held is None:
            return 0
        return sum(b.quantity for b in held.values() if b.status is BundleStatus.ACTIVE)

    def production(self, device_id: str, start: _dt.datetime) -> ProductionRecord | None:
        """The D6 production record held for a device's interval starting at ``start``."""
        reading = self._readings.get((device_id, start))
        return None if reading is None else _production_record(reading)

    def outstanding_deductions(self, device_id: str) -> int:
        return sum(d.remaining_wh for d in self._debts.get(device_id, {}).values())

    def _rounded_alone(self) -> str | None:
        """The rounding a reading effect names when readings are rounded on their own."""
        if self.policies.rounding_carry is RoundingCarry.PER_READING:
            return self.policies.rounding.name
        return None

    def rounding_remainder(self, device_id: str) -> Decimal:
        """The sub-Wh remainder carried to the device's next reading (see ``Rounding``)."""
        return self._carries.get(device_id, Decimal(0))

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

    @property
    def history(self) -> Sequence[ActionRecord]:
        return tuple(self._actions())

    @property
    def last_action_at(self) -> _dt.datetime | None:
        return self._last_at

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything that is registry state (not the log): equal before and after a rejection."""
        return (
            tuple(sorted(self._accounts.items())),
            tuple(sorted(self._devices.items())),
            tuple(sorted(self._issuances.items())),
            tuple(
                sorted(
                    [
                        *self._bundles.items(),
                        *((i, _as_split(b)) for i, b in self._superseded.items()),
                    ]
                )
            ),
            tuple(sorted((k, _production_record(v)) for k, v in self._readings.items())),
            tuple(sorted((d, tuple(v.values())) for d, v in self._debts.items())),
            self._next_certificate_id,
            self._next_bundle_id,
            self._next_issuance_id,
            tuple(book.fingerprint() for book in self._books),
            tuple(sorted(self._carries.items())),
            tuple(sorted(self._transferred)),
            tuple(sorted(self._issuer_locks)),
        )

    def export_state(self) -> dict[str, Any]:
        """Plain, JSON-ready current state, as the invariant checker reads it."""
        return {
            "accounts": [
                {"account_id": a.account_id, "holder_id": a.holder_id}
                for a in self._accounts.values()
            ],
            "bundles": [bundle_to_plain(b) for b in sorted(self.current_bundles(), key=_by_range)],
        }

    def export_history(self) -> list[dict[str, Any]]:
        return [record.to_plain() for record in self._actions()]

    # ------------------------------------------------------------------ logging

    def _refused(
        self,
        action_id: int,
        at: _dt.datetime | None,
        actor: object,
        command: object,
        problem: Problem,
    ) -> Rejected:
        stamp = at if at is not None else _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
        actor_text = actor if isinstance(actor, str) else safe_repr(actor)
        self._log_refusals[len(self._log_commands)] = (action_id, actor_text, problem)
        self._log_commands.append(command)
        self._log_at.append(stamp)
        self._log_effect_ends.append(len(self._log_effects))
        return Rejected(action_id, problem)

    def _action(self, index: int) -> ActionRecord:
        """The log's ``index``-th record (0-based), built from its columns."""
        command = self._log_commands[index]
        refusal = self._log_refusals.get(index)
        if refusal is not None:
            action_id, actor, problem = refusal
            return ActionRecord(action_id, self._log_at[index], actor, command, problem, ())
        ends = self._log_effect_ends
        effects = tuple(self._log_effects[ends[index - 1] if index else 0 : ends[index]])
        actor = getattr(command, "actor", "")
        return ActionRecord(index + 1, self._log_at[index], actor, command, None, effects)

    def _actions(self) -> Iterator[ActionRecord]:
        for index in range(len(self._log_commands)):
            yield self._action(index)

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

    # ------------------------------------------------------------------ shared checks

    def _require_issuer(self, actor: object) -> None:
        if actor != self.issuer.issuer_id:
            raise _Refuse(ErrorCode.NOT_AUTHORISED, "actor", f"{actor!r} is not the GC Issuer")

    def _known_account(self, account_id: object, field: str) -> Account:
        account = self._accounts.get(account_id) if isinstance(account_id, str) else None
        if account is None:
            raise _Refuse(ErrorCode.UNKNOWN_ACCOUNT, field, f"no account {account_id!r}")
        return account

    def _known_device(self, device_id: object) -> Device:
        device = self._devices.get(device_id) if isinstance(device_id, str) else None
        if device is None:
            raise _Refuse(ErrorCode.UNKNOWN_DEVICE, "device_id", f"no device {device_id!r}")
        return device

    @staticmethod
    def _require_not_storage(device: Device) -> None:
        """Storage output gets GCs only as SD-GCs from discharge records (D7), never as production."""
        if device.is_storage:
            raise _Refuse(
                ErrorCode.STORAGE_OUTPUT_NEEDS_SDR,
                "device_id",
                f"{device.device_id!r} is a storage system: its output is certified from its SDRs",
            )

    def _current_bundle(self, bundle_id: object) -> Bundle:
        if isinstance(bundle_id, bool) or not isinstance(bundle_id, int):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "bundle_id", f"{bundle_id!r} is not an integer ID"
            )
        bundle = self._bundles.get(bundle_id)
        if bundle is None and bundle_id not in self._superseded:
            raise _Refuse(ErrorCode.UNKNOWN_BUNDLE, "bundle_id", f"no bundle {bundle_id}")
        if bundle is None or bundle.status is BundleStatus.BUNDLE_SPLIT:
            raise _Refuse(
                ErrorCode.BUNDLE_NOT_ACTIVE,
                "bundle_id",
                f"bundle {bundle_id} was split; act on its children instead",
            )
        return bundle

    def _owned_bundle(self, actor: object, bundle_id: object) -> Bundle:
        bundle = self._current_bundle(bundle_id)
        self._require_holder(actor, bundle)
        return bundle

    def _require_holder(self, actor: object, bundle: Bundle) -> None:
        if self._accounts[bundle.account_id].holder_id != actor:
            raise _Refuse(
                ErrorCode.NOT_OWNER,
                "actor",
                f"{actor!r} does not hold account {bundle.account_id!r}, "
                f"which holds bundle {bundle.bundle_id}",
            )

    def _require_status(self, bundle: Bundle, *allowed: BundleStatus) -> None:
        if bundle.status not in allowed:
            names = "/".join(s.name for s in allowed)
            raise _Refuse(
                ErrorCode.BUNDLE_NOT_ACTIVE,
                "bundle_id",
                f"bundle {bundle.bundle_id} is {bundle.status.name}, not {names}",
            )

    def _require_valid_at(self, bundle: Bundle, now: _dt.datetime) -> None:
        expiry = self._issuances[bundle.issuance_id].expiry
        if now >= expiry:
            raise _Refuse(
                ErrorCode.CERTIFICATE_EXPIRED,
                "bundle_id",
                f"bundle {bundle.bundle_id} expired at {format_timestamp(expiry)} "
                f"({self.policies.validity.name})",
            )

    def _require_consumption_in_validity(
        self, bundle: Bundle, period: Interval | None, now: _dt.datetime
    ) -> None:
        """D8: the consumption period a GC is cancelled against lies within its validity.

        Consumption inside the GC's own production interval is always within it
        (until ``expiry``): D8 binds to the 12-month consumption period only a
        GC not matched to its own hour. Past that period (``own_hour_only_from``,
        policy ``own_hour_use``) the cancellation must name its own hour.
        """
        issuance = self._issuances[bundle.issuance_id]
        own_hour = (
            period is not None
            and issuance.production_start <= period.start
            and period.end <= issuance.production_end
        )
        own_from = issuance.own_hour_only_from
        if own_from is not None and now >= own_from and not own_hour:
            raise _Refuse(
                ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
                "consumption_period",
                f"the consumption period of bundle {bundle.bundle_id} ended at "
                f"{format_timestamp(own_from)} ({self.policies.validity.name}); until "
                f"{format_timestamp(issuance.expiry)} it may be cancelled only against "
                f"consumption inside its own production interval "
                f"{format_timestamp(issuance.production_start)}/"
                f"{format_timestamp(issuance.production_end)} "
                f"(own_hour_use {self.policies.own_hour_use.name})",
            )
        if period is None or own_hour:
            return
        first, _ = self.policies.validity.consumption_window(
            issuance.production_start, issuance.production_end
        )
        period_end = issuance.expiry if own_from is None else own_from
        if period.start < first or period.end > period_end:
            raise _Refuse(
                ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
                "consumption_period",
                f"{period} is outside {format_timestamp(first)}/"
                f"{format_timestamp(period_end)}, the consumption period of bundle "
                f"{bundle.bundle_id} ({self.policies.validity.name})",
            )

    def _require_exempt_use(
        self, bundle: Bundle, action: str, beneficiary: str | None = None
    ) -> None:
        """D2: the issuer's exempt accounts serve only their purpose; the issuer never trades.

        OWN_CONSUMPTION and TESTING accounts may cancel only for the issuer itself
        and never transfer; a SUPPORT_RECOVERY account may pass its certificates on
        (recovering the support) but never cancels them.
        """
        exemption = self._accounts[bundle.account_id].exemption
        if exemption is None:
            return
        if action == "transfer" and exemption is not IssuerExemption.SUPPORT_RECOVERY:
            raise _Refuse(
                ErrorCode.ISSUER_MAY_NOT_TRADE,
                "bundle_id",
                f"bundle {bundle.bundle_id} is in the issuer's {exemption.name} account, "
                "whose certificates may not be passed on (D2)",
            )
        if action == "cancel":
            if exemption is IssuerExemption.SUPPORT_RECOVERY:
                raise _Refuse(
                    ErrorCode.ISSUER_MAY_NOT_TRADE,
                    "bundle_id",
                    f"bundle {bundle.bundle_id} is held for support recovery, not for use (D2)",
                )
            if beneficiary not in (self.issuer.issuer_id, self.issuer.name):
                raise _Refuse(
                    ErrorCode.ISSUER_MAY_NOT_TRADE,
                    "beneficiary",
                    f"the issuer's {exemption.name} account cancels only for the issuer itself, "
                    f"not for {beneficiary!r} (D2)",
                )

    @staticmethod
    def _optional_quantity(value: object, bundle: Bundle | None = None) -> int | None:
        if value is None:
            return None
        quantity = parse_quantity(value, "quantity")
        if bundle is not None and quantity > bundle.quantity:
            raise _Refuse(
                ErrorCode.QUANTITY_EXCEEDS_BUNDLE,
                "quantity",
                f"{quantity} Wh requested from bundle {bundle.bundle_id} of {bundle.quantity} Wh",
            )
        return quantity

    def _carve(
        self, bundle: Bundle, quantity: int | None, effects: list[Effect]
    ) -> tuple[int, int | None]:
        """Plan the split that isolates ``quantity`` Wh of ``bundle`` (D5 batch divisibility).

        Returns ``(acted_on_id, remainder_id)``. Children get fresh IDs; which
        end of the range the acted-on part takes is the SplitOrigin policy.
        """
        if quantity is None or quantity == bundle.quantity:
            return bundle.bundle_id, None
        part_id = self._next_free_bundle_id(effects)
        rest_id = part_id + 1
        if self.policies.split_origin is SplitOrigin.FROM_START:
            part = (part_id, bundle.range_start, bundle.range_start + quantity - 1)
            rest = (rest_id, bundle.range_start + quantity, bundle.range_end)
            children = (part, rest)
        else:
            rest = (rest_id, bundle.range_start, bundle.range_end - quantity)
            part = (part_id, bundle.range_end - quantity + 1, bundle.range_end)
            children = (rest, part)
        effects.append(Split(bundle.bundle_id, children))
        return part_id, rest_id

    def _next_free_bundle_id(self, planned: list[Effect]) -> int:
        """The first bundle ID not used by the registry nor by effects already planned."""
        if not planned:
            return self._next_bundle_id
        taken = sum(len(e.children) for e in planned if isinstance(e, Split))
        return self._next_bundle_id + taken + sum(isinstance(e, Issued) for e in planned)

    # ------------------------------------------------------------------ registration

    def _decide_open_account(self, cmd: OpenAccount, now: _dt.datetime) -> _Decision:
        account = cmd.account
        if not isinstance(account, Account):
            raise _Refuse(ErrorCode.INVALID_FIELD, "account", "expected an Account record")
        require_text(account.account_id, "account.account_id")
        require_text(account.holder_id, "account.holder_id")
        require_text(account.account_name, "account.account_name")
        self._require_issuer(cmd.actor)
        if account.account_id in self._accounts:
            raise _Refuse(
                ErrorCode.DUPLICATE_ACCOUNT, "account.account_id", f"{account.account_id!r} exists"
            )
        if account.holder_id == self.issuer.issuer_id and account.exemption is None:
            raise _Refuse(
                ErrorCode.ISSUER_MAY_NOT_HOLD,
                "account.exemption",
                "an account held by the GC Issuer must name its D2 exemption "
                "(own consumption, testing or support recovery)",
            )
        if account.exemption is not None and account.holder_id != self.issuer.issuer_id:
            raise _Refuse(
                ErrorCode.INVALID_FIELD,
                "account.exemption",
                "only the issuer's own accounts carry one",
            )
        return Registered(account.account_id), [AccountOpened(account)]

    def _decide_register_device(self, cmd: RegisterDevice, now: _dt.datetime) -> _Decision:
        device = cmd.device
        if not isinstance(device, Device):
            raise _Refuse(ErrorCode.INVALID_FIELD, "device", "expected a Device record")
        for name in (
            "device_id",
            "device_name",
            "technology_type",
            "energy_source",
            "meter_id",
            "measurement_body",
        ):
            require_text(getattr(device, name), f"device.{name}")
        if (
            isinstance(device.capacity_w, bool)
            or not isinstance(device.capacity_w, int)
            or device.capacity_w <= 0
        ):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "device.capacity_w", "must be a positive whole number of W"
            )
        if not isinstance(device.operational_date, _dt.date) or isinstance(
            device.operational_date, _dt.datetime
        ):
            raise _Refuse(ErrorCode.INVALID_DATE, "device.operational_date", "must be a date")
        if not isinstance(device.gross_or_net, GrossOrNet):
            raise _Refuse(ErrorCode.INVALID_FIELD, "device.gross_or_net", "must be GROSS or NET")
        for name in ("disclosure", "post_energy_carrier_conversion"):
            if not isinstance(getattr(device, name), bool):
                raise _Refuse(ErrorCode.INVALID_FIELD, f"device.{name}", "must be true or false")
        for name in ("production_auxiliaries", "metering_diagram_reference"):
            if getattr(device, name) is not None:
                require_text(getattr(device, name), f"device.{name}")
        for name in ("convertible_energy_sources", "behind_the_meter_consumption_meter_ids"):
            values = getattr(device, name)
            if not isinstance(values, tuple):
                raise _Refuse(ErrorCode.INVALID_FIELD, f"device.{name}", "must be a list of texts")
            for index, value in enumerate(values):
                require_text(value, f"device.{name}[{index}]")
        self._require_issuer(cmd.actor)
        if device.device_id in self._devices:
            raise _Refuse(
                ErrorCode.DUPLICATE_DEVICE,
                "device.device_id",
                f"{device.device_id!r} is already registered",
            )
        holder = self._device_by_meter.get(device.meter_id)
        if holder is not None:
            raise _Refuse(
                ErrorCode.DUPLICATE_METER_ID,
                "device.meter_id",
                f"meter {device.meter_id!r} is already registered for device {holder!r}",
            )
        self._known_account(device.account_id, "device.account_id")
        return Registered(device.device_id), [DeviceRegistered(device)]

    # ------------------------------------------------------------------ issuance

    def _overlapping_reading(self, device_id: str, interval: Interval) -> _dt.datetime | None:
        starts = self._reading_starts.get(device_id)
        if not starts:
            return None
        index = bisect.bisect_left(starts, interval.end)  # readings starting before our end
        if index == 0:
            return None
        start = starts[index - 1]
        reading = self._readings[(device_id, start)]
        return start if reading.end > interval.start else None

    def _check_fresh_interval(self, device: Device, interval: Interval) -> None:
        clash = self._overlapping_reading(device.device_id, interval)
        if clash is not None:
            end = self._readings[(device.device_id, clash)].end
            raise _Refuse(
                ErrorCode.DUPLICATE_ISSUANCE,
                "interval",
                f"device {device.device_id!r} already has production recognised for "
                f"{format_timestamp(clash)}/{format_timestamp(end)}",
            )

    @staticmethod
    def _check_ended(interval: Interval, now: _dt.datetime) -> None:
        """Production is metered after the fact: an interval still running cannot be reported."""
        if interval.end > now:
            raise _Refuse(
                ErrorCode.INTERVAL_NOT_ENDED,
                "interval",
                f"{interval} ends after now ({format_timestamp(now)})",
            )

    def _expiry(self, production_end: _dt.datetime) -> _dt.datetime:
        """The first instant at which GCs produced up to ``production_end`` serve no use (D8)."""
        return self.validity_bounds(production_end)[0]

    def validity_bounds(
        self, production_end: _dt.datetime
    ) -> tuple[_dt.datetime, _dt.datetime | None]:
        """``(expiry, own_hour_only_from)`` under the ``validity`` and ``own_hour_use`` policies.

        See :meth:`OwnHourUse.bounds`. Remembers the last answer: readings of
        many devices for one hour share it.
        """
        policies = self.policies
        memo = self._expiry_memo
        if memo is not None and memo[0] is policies and _same_instant(memo[1], production_end):
            return memo[2]
        bounds = policies.own_hour_use.bounds(policies.validity, production_end)
        self._expiry_memo = (policies, production_end, bounds)
        return bounds

    def _check_still_valid(self, interval: Interval, now: _dt.datetime) -> None:
        """D8: refuse to issue certificates whose validity would already have ended at ``now``."""
        expiry = self._expiry(interval.end)
        if now >= expiry:
            raise _Refuse(
                ErrorCode.PRODUCTION_TOO_OLD,
                "interval",
                f"certificates for {interval} were valid until {format_timestamp(expiry)} "
                f"({self.policies.validity.name}); it is {format_timestamp(now)}",
            )

    def _check_capacity(self, device: Device, interval: Interval, energy: Decimal) -> None:
        seconds = int(interval.length.total_seconds())
        capacity = self.policies.capacity
        if capacity is CapacityPlausibility.NAMEPLATE:
            # The NAMEPLATE test energy <= W x h, in exact integers (as Fraction would do it).
            numerator, denominator = energy.as_integer_ratio()
            permitted = numerator * 3600 <= device.capacity_w * seconds * denominator
        else:
            permitted = capacity.permits(energy, device.capacity_w, Fraction(seconds, 3600))
        if not permitted:
            hours = Fraction(seconds, 3600)
            raise _Refuse(
                ErrorCode.CAPACITY_EXCEEDED,
                "energy_wh",
                f"{energy} Wh in {interval.length} exceeds {device.capacity_w} W x {float(hours):g} h "
                f"({self.policies.capacity.name})",
            )

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
    ) -> IssuanceResult:
        """Plan an ``Issued`` effect; ``attributes`` override/extend the device-derived D5 ones."""
        issuance_id = self._next_issuance_id
        if effects:
            issuance_id += sum(isinstance(e, Issued) for e in effects)
        bundle_id = self._next_free_bundle_id(effects)
        date_memo = self._date_memo  # the last issuance date: many issuances share it
        if date_memo is not None and _same_instant(date_memo[0], now):
            issuance_date = date_memo[1]
        else:
            issuance_date = now.date()
            self._date_memo = (now, issuance_date)
        issuer = self.issuer
        expiry, own_hour_only_from = self.validity_bounds(interval.end)
        if attributes:
            build: Callable[..., Issuance] = _issuance_with(attributes)
        else:
            build = Issuance
        issuance = build(
            issuance_id=issuance_id,
            device_id=device.device_id,
            account_id=account_id or device.account_id,
            production_start=interval.start,
            production_end=interval.end,
            range_start=range_start,
            range_end=range_start + quantity - 1,
            issuance_date=issuance_date,
            expiry=expiry,
            own_hour_only_from=own_hour_only_from,
            energy_source=device.energy_source,
            technology_type=device.technology_type,
            device_name=device.device_name,
            device_capacity_w=device.capacity_w,
            device_operational_date=device.operational_date,
            device_location=device.location,
            country_of_issuance=issuer.domain,
            issuer_id=issuer.issuer_id,
            registry_configuration=issuer.configuration,
            is_storage=device.is_storage,
            disclosure=device.disclosure,
            post_energy_carrier_conversion=device.post_energy_carrier_conversion,
            issue_market_zone=device.issue_market_zone,
            connected_grid=device.grid,
            support_received=device.support_received,
            corrects_issuance_id=corrects,
            deducted_wh=deducted,
        )
        effects.append(Issued(issuance, bundle_id))
        return IssuanceResult(issuance_id, bundle_id, quantity, deducted)

    def _plan_deductions(
        self, device_id: str, hour: int, face_wh: int, effects: list[Effect]
    ) -> int:
        """D10: take outstanding deductions from this issuance; returns the Wh deducted."""
        outstanding = self._debts.get(device_id)
        if not outstanding:
            return 0
        debts = list(outstanding.values())
        same_hour = [d for d in debts if d.hour_of_day == hour]
        any_hour = [d for d in debts if d.hour_of_day is None]
        available = face_wh
        for debt in same_hour:
            taken = min(available, debt.remaining_wh)
            available -= taken
            left = debt.remaining_wh - taken
            # That hour's production was insufficient: the rest moves to any other hour.
            effects.append(DebtChanged(device_id, debt.debt_id, None if left else hour, left))
        for debt in any_hour:
            taken = min(available, debt.remaining_wh)
            if taken:
                available -= taken
                effects.append(
                    DebtChanged(device_id, debt.debt_id, None, debt.remaining_wh - taken)
                )
        return face_wh - available

    def _decide_submit_production(self, cmd: SubmitProduction, now: _dt.datetime) -> _Decision:
        interval = production_interval(cmd.start, cmd.end)
        energy = parse_energy(cmd.energy_wh, "energy_wh")
        try:
            gross_or_net = GrossOrNet[cmd.gross_or_net]
        except (KeyError, TypeError):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "gross_or_net", f"{cmd.gross_or_net!r} is not GROSS or NET"
            ) from None
        self._require_issuer(cmd.actor)
        device = self._known_device(cmd.device_id)
        self._require_not_storage(device)
        if cmd.meter_id != device.meter_id:
            raise _Refuse(
                ErrorCode.METER_MISMATCH,
                "meter_id",
                f"{cmd.meter_id!r} is not the meter of {device.device_id!r}",
            )
        if gross_or_net is not device.gross_or_net:
            raise _Refuse(
                ErrorCode.GROSS_NET_MISMATCH,
                "gross_or_net",
                f"{device.device_id!r} is registered as metering {device.gross_or_net.name} "
                f"generation, not {gross_or_net.name}",
            )
        self._check_ended(interval, now)
        self._check_still_valid(interval, now)
        self._check_fresh_interval(device, interval)
        self._check_capacity(device, interval, energy)
        face_wh, carried = self.policies.round_reading(
            energy, self.rounding_remainder(device.device_id)
        )
        effects: list[Effect] = []
        deducted = self._plan_deductions(device.device_id, interval.start.hour, face_wh, effects)
        quantity = face_wh - deducted
        if quantity > 0:
            result = self._plan_issuance(
                device,
                interval,
                self._next_certificate_id,
                quantity,
                now,
                effects,
                deducted=deducted,
            )
        else:
            result = IssuanceResult(None, None, 0, deducted)
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                face_wh,
                sys.intern(str(energy)),  # one copy of each metered text, however many readings
                cmd.meter_id,
                gross_or_net.name,
                _plain_decimal(carried),
                self._rounded_alone(),
            )
        )
        return result, effects

    def _range_clash(self, start: int, end: int) -> tuple[int, int] | None:
        ends = self._range_ends
        if not ends or start > ends[-1]:
            # Past every issued ID (the usual case: IDs are allocated in order). The answer
            # the search below gives, without its ~log2(n) scattered reads.
            return None
        index = bisect.bisect_right(self._range_starts, end)
        if index and self._range_ends[index - 1] >= start:
            return self._range_starts[index - 1], self._range_ends[index - 1]
        return None

    def _decide_issue_bundle(self, cmd: IssueBundle, now: _dt.datetime) -> _Decision:
        for name in ("range_start", "range_end"):
            value = getattr(cmd, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _Refuse(
                    ErrorCode.INVALID_FIELD, name, f"{value!r} is not a positive integer ID"
                )
        quantity = parse_quantity(cmd.quantity, "quantity")
        interval = production_interval(cmd.start, cmd.end)
        energy = parse_energy(cmd.energy_wh, "energy_wh")
        if cmd.range_end - cmd.range_start + 1 != quantity:
            raise _Refuse(
                ErrorCode.RANGE_QUANTITY_MISMATCH,
                "quantity",
                f"range {cmd.range_start}..{cmd.range_end} holds {cmd.range_end - cmd.range_start + 1} "
                f"certificates, not {quantity}",
            )
        self._require_issuer(cmd.actor)
        device = self._known_device(cmd.device_id)
        self._require_not_storage(device)
        self._known_account(cmd.account_id, "account_id")
        if cmd.account_id != device.account_id:
            raise _Refuse(
                ErrorCode.ACCOUNT_MISMATCH,
                "account_id",
                f"device {device.device_id!r} issues into {device.account_id!r}, not {cmd.account_id!r}",
            )
        self._check_ended(interval, now)
        self._check_still_valid(interval, now)
        self._check_fresh_interval(device, interval)
        self._check_capacity(device, interval, energy)
        face_wh, carried = self.policies.round_reading(
            energy, self.rounding_remainder(device.device_id)
        )
        if quantity > face_wh:
            raise _Refuse(
                ErrorCode.QUANTITY_EXCEEDS_PRODUCTION,
                "quantity",
                f"{quantity} certificates asserted for {energy} Wh metered "
                f"({face_wh} Wh under {self.policies.rounding.name}, with the device's carried "
                f"remainder)",
            )
        # D10: outstanding deductions are taken from this issuance exactly as from a submitted
        # reading; the asserted bundle may hold at most what they leave.
        effects: list[Effect] = []
        deducted = self._plan_deductions(device.device_id, interval.start.hour, face_wh, effects)
        if quantity > face_wh - deducted:
            raise _Refuse(
                ErrorCode.DEDUCTION_NOT_APPLIED,
                "quantity",
                f"{quantity} certificates asserted, but {deducted} of the {face_wh} Wh go to "
                f"outstanding D10 deductions of {device.device_id!r}: at most "
                f"{face_wh - deducted} may be issued",
            )
        clash = self._range_clash(cmd.range_start, cmd.range_end)
        if clash is not None:
            raise _Refuse(
                ErrorCode.RANGE_OVERLAP,
                "range_start",
                f"{cmd.range_start}..{cmd.range_end} overlaps issued IDs {clash[0]}..{clash[1]}",
            )
        result = self._plan_issuance(
            device, interval, cmd.range_start, quantity, now, effects, deducted=deducted
        )
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                face_wh,
                str(energy),
                device.meter_id,
                device.gross_or_net.name,
                _plain_decimal(carried),
                self._rounded_alone(),
            )
        )
        return result, effects

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

    def _decide_correct_production(self, cmd: CorrectProduction, now: _dt.datetime) -> _Decision:
        interval = production_interval(cmd.start, cmd.end)
        energy = parse_energy(cmd.energy_wh, "energy_wh")
        self._require_issuer(cmd.actor)
        device = self._known_device(cmd.device_id)
        key = (device.device_id, interval.start)
        reading = self._readings.get(key)
        if reading is None or reading.end != interval.end:
            raise _Refuse(
                ErrorCode.UNKNOWN_PRODUCTION,
                "interval",
                f"no production recognised for {device.device_id!r} over {interval}",
            )
        on_record = Decimal(reading.metered)
        if energy > on_record:  # would issue: not for production past its validity (D8)
            self._check_still_valid(interval, now)
        self._check_capacity(device, interval, energy)
        if energy == on_record:
            raise _Refuse(
                ErrorCode.CORRECTION_UNCHANGED,
                "energy_wh",
                f"{energy} Wh is the metered value already on record",
            )
        # The device's running total changes by (energy - on_record): the Wh recognised change
        # by the whole-Wh change of the rounded running total (Rounding.carry), so that a
        # correction below one Wh moves only the carried remainder.
        difference, carried = self.policies.round_reading(
            energy, self.rounding_remainder(device.device_id), replacing=on_record
        )
        effects: list[Effect] = []
        issued: IssuanceResult | None = None
        withdrawn: tuple[int, ...] = ()
        withdrawn_wh = deferred = 0
        prior = self._issuances_of_reading(key)
        if difference > 0:
            issued = self._correct_upwards(device, interval, difference, prior, now, effects)
        elif difference < 0:
            withdrawn, withdrawn_wh, deferred = self._correct_downwards(
                device, interval, -difference, prior, now, effects
            )
        effects.append(
            ReadingRecognised(
                device.device_id,
                interval.start,
                interval.end,
                reading.recognised_wh + difference,
                str(energy),
                reading.meter_id,
                reading.gross_or_net,
                _plain_decimal(carried),
                self._rounded_alone(),
            )
        )
        return CorrectionResult(issued, withdrawn, withdrawn_wh, deferred), effects

    def _correct_upwards(
        self,
        device: Device,
        interval: Interval,
        difference: int,
        prior: Sequence[int],
        now: _dt.datetime,
        effects: list[Effect],
    ) -> IssuanceResult:
        """D10: the difference first settles the device's outstanding deductions, in the order
        a submitted reading of this hour would; only the rest is issued."""
        deducted = self._plan_deductions(device.device_id, interval.start.hour, difference, effects)
        if difference <= deducted:
            return IssuanceResult(None, None, 0, deducted)
        return self._plan_issuance(
            device,
            interval,
            self._next_certificate_id,
            difference - deducted,
            now,
            effects,
            corrects=prior[0] if prior else None,
            deducted=deducted,
        )

    def _correct_downwards(
        self,
        device: Device,
        interval: Interval,
        shortfall: int,
        prior: Sequence[int],
        now: _dt.datetime,
        effects: list[Effect],
    ) -> tuple[tuple[int, ...], int, int]:
        """D10: withdraw the shortfall from certificates not yet used; what cannot be withdrawn
        becomes a debt deducted from later issuance. (withdrawn bundles, their Wh, deferred Wh)"""
        withdrawn: list[int] = []
        withdrawn_wh = 0
        for bundle in self._untouched_bundles(prior, now):
            if shortfall == 0:
                break
            take = min(shortfall, bundle.quantity)
            part, _ = self._carve(bundle, take, effects)
            effects.append(StatusChanged(part, bundle.status, BundleStatus.WITHDRAWN))
            withdrawn.append(part)
            withdrawn_wh += take
            shortfall -= take
        if shortfall:
            same_hour = (
                self.policies.correction_deduction is CorrectionDeduction.SAME_HOUR_OF_DAY_FIRST
            )
            effects.append(
                DebtChanged(
                    device.device_id,
                    self._next_debt_id,
                    interval.start.hour if same_hour else None,
                    shortfall,
                )
            )
        return tuple(withdrawn), withdrawn_wh, shortfall

    def _untouched_bundles(self, issuance_ids: Sequence[int], now: _dt.datetime) -> list[Bundle]:
        """D10's "not yet transferred, cancelled, redeemed or expired" certificates, to withdraw.

        A bundle qualifies if it is live (ACTIVE, or RESERVED/LOCKED: neither
        transferred nor used yet), sits in the account it was issued into, was
        never transferred (not even away and back: ``_transferred`` follows it
        through splits) and is still within its validity (past it, it is
        expired whether or not the sweep has run). ACTIVE bundles come first,
        then reserved and locked ones, each by lowest IDs.
        """
        found = []
        for issuance_id in issuance_ids:
            issuance = self._issuances[issuance_id]
            if now >= issuance.expiry:
                continue
            for bundle_id in self._current_of_issuance(issuance_id):
                bundle = self._bundles[bundle_id]
                if (
                    bundle.status.is_live
                    and bundle.account_id == issuance.account_id
                    and bundle_id not in self._transferred
                ):
                    found.append(bundle)
        return sorted(found, key=lambda b: (b.status is not BundleStatus.ACTIVE, b.range_start))

    # ------------------------------------------------------------------ queries

    def _select(self, query: Query) -> tuple[Bundle, ...]:
        bundles = self._bundles
        is_issuer = query.actor == self.issuer.issuer_id
        # Malformed filters are refused, not left to raise (e.g. an unhashable issuance_id).
        if query.issuance_id is not None and (
            isinstance(query.issuance_id, bool) or not isinstance(query.issuance_id, int)
        ):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "issuance_id", f"{query.issuance_id!r} is not an ID"
            )
        for name in ("device_id", "energy_source"):
            if getattr(query, name) is not None:
                require_text(getattr(query, name), name)
        status = None
        if query.status is not None:
            try:
                status = BundleStatus[query.status]
            except (KeyError, TypeError):
                raise _Refuse(
                    ErrorCode.INVALID_FIELD, "status", f"{query.status!r} is not a status"
                ) from None
        window: Interval | None = None
        if query.start is not None or query.end is not None:
            window = Interval.parse(query.start, query.end, field="period")
        if query.account_id is not None:
            account = self._known_account(query.account_id, "account_id")
            if not is_issuer and account.holder_id != query.actor:
                raise _Refuse(
                    ErrorCode.NOT_OWNER, "account_id", f"{query.actor!r} does not hold it"
                )
            candidates: Iterable[Bundle] = self._current_by_account[account.account_id].values()
        elif query.issuance_id is not None:
            candidates = (
                [bundles[b] for b in self._current_of_issuance(query.issuance_id)]
                if query.issuance_id in self._current_by_issuance
                else ()
            )
        elif query.device_id is not None:
            held = self._current_by_device.get(query.device_id)
            candidates = () if held is None else held.values()
        elif is_issuer:
            candidates = (bundles[b] for b in self._current_ids())
        else:
            mine = [a for a in self._accounts.values() if a.holder_id == query.actor]
            candidates = (b for a in mine for b in self._current_by_account[a.account_id].values())
        # Touch only what a filter reads (cost per result, not per registry size): bundles
        # drawn from an account the actor was just shown to hold need no holder check, and
        # bundles drawn from the device's own index no device check.
        check_holder = not is_issuer and query.account_id is None
        check_device = query.device_id is not None and (
            query.account_id is not None or query.issuance_id is not None
        )
        needs_issuance = check_device or query.energy_source is not None or window is not None
        if not (
            check_holder or query.issuance_id is not None or status is not None or needs_issuance
        ):
            return tuple(sorted(candidates, key=_RANGE_START))  # nothing to filter
        issuances, accounts = self._issuances, self._accounts
        found = []
        for bundle in candidates:
            if check_holder and accounts[bundle.account_id].holder_id != query.actor:
                continue
            if query.issuance_id is not None and bundle.issuance_id != query.issuance_id:
                continue
            if status is not None and bundle.status is not status:
                continue
            if needs_issuance:
                issuance = issuances[bundle.issuance_id]
                if check_device and issuance.device_id != query.device_id:
                    continue
                if (
                    query.energy_source is not None
                    and issuance.energy_source != query.energy_source
                ):
                    continue
                if window is not None and not (
                    issuance.production_start < window.end
                    and window.start < issuance.production_end
                ):
                    continue
            found.append(bundle)
        return tuple(sorted(found, key=_RANGE_START))

    # ------------------------------------------------------------------ the one place state changes

    def _apply(self, effect: object) -> None:
        apply = self._appliers.get(type(effect))  # the core effects, by exact type
        if apply is not None:
            apply(effect)
        elif isinstance(effect, Split):
            self._apply_split(effect)
        elif isinstance(effect, Transferred):
            self._apply_transferred(effect)
        elif isinstance(effect, StatusChanged):
            self._apply_status(effect)
        elif isinstance(effect, Issued):
            self._apply_issued(effect)
        elif isinstance(effect, ReadingRecognised):
            self._apply_reading(effect)
        elif isinstance(effect, DebtChanged):
            debts = self._debts.setdefault(effect.device_id, {})
            if effect.remaining_wh < 0:
                raise ModelInvariantBroken(f"negative deduction {effect}")
            if effect.remaining_wh:
                debts[effect.debt_id] = effect
            else:
                debts.pop(effect.debt_id, None)
            self._next_debt_id = max(self._next_debt_id, effect.debt_id + 1)
        elif isinstance(effect, AccountOpened):
            self._accounts[effect.account.account_id] = effect.account
            self._current_by_account[effect.account.account_id] = {}
        elif isinstance(effect, DeviceRegistered):
            if effect.device.meter_id in self._device_by_meter:
                raise ModelInvariantBroken(f"meter ID reused by {effect}")
            self._devices[effect.device.device_id] = effect.device
            self._device_by_meter[effect.device.meter_id] = effect.device.device_id
            self._current_by_device[effect.device.device_id] = {}
        else:
            owner = self._effect_owner.get(type(effect))
            if owner is None:
                raise ModelInvariantBroken(f"no book applies {effect!r}")
            owner.apply(effect)

    def _apply_transferred(self, effect: Transferred) -> None:
        bundle = self._live_current(effect.bundle_id)
        if bundle.account_id != effect.from_account or bundle.status is not BundleStatus.ACTIVE:
            raise ModelInvariantBroken(f"transfer of {bundle} from {effect.from_account}")
        bundle_id = bundle.bundle_id
        by_account = self._current_by_account
        by_account[bundle.account_id].pop(bundle_id, None)
        receiving = by_account[effect.to_account]
        self._transferred.add(bundle_id)
        self._bundles[bundle_id] = receiving[bundle_id] = moved = Bundle(
            bundle_id,
            bundle.issuance_id,
            bundle.range_start,
            bundle.range_end,
            effect.to_account,
            bundle.status,
            bundle.parent_id,
            bundle.cancellation,
            bundle.claimant,
        )
        self._replace_in_device_index(moved)

    def _apply_status(self, effect: StatusChanged) -> None:
        bundle = self._live_current(effect.bundle_id)
        old, new = bundle.status, effect.new
        if old is not effect.old:
            raise ModelInvariantBroken(f"status change {effect} on {bundle}")
        if effect.locked_by_issuer and new is not BundleStatus.LOCKED:
            raise ModelInvariantBroken(f"an issuer lock that does not lock: {effect}")
        bundle_id = bundle.bundle_id
        issuer_locks = self._issuer_locks
        issuer_locks.discard(bundle_id)
        if effect.locked_by_issuer:
            issuer_locks.add(bundle_id)
        self._count_live(bundle.issuance_id, (new in _LIVE) - (old in _LIVE))
        self._bundles[bundle_id] = changed = Bundle(
            bundle_id,
            bundle.issuance_id,
            bundle.range_start,
            bundle.range_end,
            bundle.account_id,
            new,
            bundle.parent_id,
            effect.cancellation or bundle.cancellation,
            effect.claimant or bundle.claimant,
        )
        held = self._current_by_account[bundle.account_id]
        if bundle_id in held:
            held[bundle_id] = changed
        self._replace_in_device_index(changed)

    def _replace_in_device_index(self, bundle: Bundle) -> None:
        """The device index holds ``bundle``, the new record of a current bundle it holds."""
        held = self._current_by_device[self._issuances[bundle.issuance_id].device_id]
        if bundle.bundle_id in held:
            held[bundle.bundle_id] = bundle

    def _apply_reading(self, effect: ReadingRecognised) -> None:
        device_id = effect.device_id
        carried = effect.carried
        if carried is not None:
            remainder = Decimal(0) if carried == "0" else Decimal(carried)
            if remainder:
                self._carries[device_id] = remainder
            else:
                self._carries.pop(device_id, None)
        key = (device_id, effect.start)
        readings = self._readings
        if key not in readings:
            starts = self._reading_starts.get(device_id)
            if starts is None:
                self._reading_starts[device_id] = [effect.start]
            elif not starts or starts[-1] < effect.start:  # usual: readings come in time order
                starts.append(effect.start)
            else:
                bisect.insort(starts, effect.start)
        GrossOrNet[effect.gross_or_net]  # a name the production record can hold
        readings[key] = effect

    def _count_live(self, issuance_id: int, change: int) -> None:
        """Keep the live-bundle count of an issuance, and the expiry queue in step with it."""
        if not change:
            return
        before = self._live_bundles.get(issuance_id, 0)
        after = before + change
        if after < 0:
            raise ModelInvariantBroken(f"issuance {issuance_id} would have {after} live bundles")
        self._live_bundles[issuance_id] = after
        if after and not before:  # live again: back into the queue (a duplicate is harmless)
            heapq.heappush(self._expiry_queue, (self._issuances[issuance_id].expiry, issuance_id))
        elif not after:
            # Nothing of it left to expire. Entries leave the queue from the top only, so
            # drop every ended one there; one further down goes when it reaches the top.
            queue = self._expiry_queue
            while queue and not self._live_bundles.get(queue[0][1]):
                heapq.heappop(queue)

    def _live_current(self, bundle_id: int) -> Bundle:
        bundle = self._bundles.get(bundle_id)
        if bundle is None or bundle.status is BundleStatus.BUNDLE_SPLIT:
            raise ModelInvariantBroken(f"effect on missing or superseded bundle {bundle_id}")
        return bundle

    def _apply_issued(self, effect: Issued) -> None:
        issuance = effect.issuance
        issuance_id, bundle_id = issuance.issuance_id, effect.bundle_id
        range_start, range_end = issuance.range_start, issuance.range_end
        if range_start < 1 or range_end < range_start:
            raise ModelInvariantBroken(f"empty or invalid range in {issuance}")
        if self._range_clash(range_start, range_end) is not None:
            raise ModelInvariantBroken(f"certificate IDs reused by issuance {issuance_id}")
        if (
            issuance_id in self._issuances
            or bundle_id in self._bundles
            or bundle_id in self._superseded
        ):
            raise ModelInvariantBroken(f"identifier reused by {effect}")
        starts, ends = self._range_starts, self._range_ends
        if not starts or starts[-1] < range_start:  # the usual case: IDs allocated in order
            starts.append(range_start)
            ends.append(range_end)
        else:
            index = bisect.bisect_left(starts, range_start)
            starts.insert(index, range_start)
            ends.insert(index, range_end)
        self._issuances[issuance_id] = issuance
        account_id = issuance.account_id
        self._bundles[bundle_id] = bundle = Bundle(
            bundle_id, issuance_id, range_start, range_end, account_id, BundleStatus.ACTIVE
        )
        self._current_by_account[account_id][bundle_id] = bundle
        self._current_by_issuance[issuance_id] = bundle_id
        self._current_by_device[issuance.device_id][bundle_id] = bundle
        key = (issuance.device_id, issuance.production_start)
        by_reading = self._issuances_by_reading
        prior = by_reading.get(key)
        if prior is None:
            by_reading[key] = issuance_id
        elif isinstance(prior, list):
            prior.append(issuance_id)
        else:
            by_reading[key] = [prior, issuance_id]
        self._count_live(issuance_id, 1)  # its first bundle is ACTIVE: into the queue
        if range_end >= self._next_certificate_id:
            self._next_certificate_id = range_end + 1
        if bundle_id >= self._next_bundle_id:
            self._next_bundle_id = bundle_id + 1
        if issuance_id >= self._next_issuance_id:
            self._next_issuance_id = issuance_id + 1

    def _apply_split(self, effect: Split) -> None:
        parent = self._live_current(effect.parent_id)
        bundles, superseded = self._bundles, self._superseded
        position = parent.range_start
        for bundle_id, start, end in effect.children:
            if start != position or end < start or bundle_id in bundles or bundle_id in superseded:
                raise ModelInvariantBroken(f"{effect} does not partition {parent}")
            position = end + 1
        if position != parent.range_end + 1:
            raise ModelInvariantBroken(f"{effect} does not cover {parent}")
        parent_id, issuance_id = parent.bundle_id, parent.issuance_id
        account_id, status = parent.account_id, parent.status
        cancellation, claimant = parent.cancellation, parent.claimant
        del bundles[parent_id]
        superseded[parent_id] = parent  # read as BUNDLE_SPLIT (see _as_split)
        by_account = self._current_by_account[account_id]
        by_device = self._current_by_device[self._issuances[issuance_id].device_id]
        by_issuance = self._current_by_issuance[issuance_id]
        if isinstance(by_issuance, int):
            # The issuance's first split: until now it had this one bundle; from here on a
            # set, built exactly as if it had been one from the start.
            by_issuance = {by_issuance}
            self._current_by_issuance[issuance_id] = by_issuance
        by_account.pop(parent_id, None)
        by_device.pop(parent_id, None)
        by_issuance.discard(parent_id)
        # Children carry on what is known of the parent: transferred, locked by the issuer.
        transferred, issuer_locks = self._transferred, self._issuer_locks
        moved = parent_id in transferred
        issuer_lock = parent_id in issuer_locks
        transferred.discard(parent_id)
        issuer_locks.discard(parent_id)
        if status in _LIVE:
            self._count_live(issuance_id, len(effect.children) - 1)
        for bundle_id, start, end in effect.children:
            if moved:
                transferred.add(bundle_id)
            if issuer_lock:
                issuer_locks.add(bundle_id)
            bundles[bundle_id] = by_account[bundle_id] = by_device[bundle_id] = Bundle(
                bundle_id,
                issuance_id,
                start,
                end,
                account_id,
                status,
                parent_id,
                cancellation,
                claimant,
            )
            by_issuance.add(bundle_id)
            if bundle_id >= self._next_bundle_id:
                self._next_bundle_id = bundle_id + 1


# The live statuses (BundleStatus.is_live), as a tuple: ``in`` matches by identity, where a
# set would call the enum's Python-level __hash__.
_LIVE = tuple(status for status in BundleStatus if status.is_live)


def _same_optional_instant(a: _dt.datetime | None, b: _dt.datetime | None) -> bool:
    return a is b or (a is not None and b is not None and _same_instant(a, b))


def _same_instant(a: _dt.datetime, b: _dt.datetime) -> bool:
    """Equal, and in the same time zone: anything computed from one is equal for the other."""
    return a is b or (a == b and a.tzinfo is b.tzinfo and a.fold == b.fold and type(a) is type(b))


def _issuance_with(attributes: Mapping[str, Any]) -> Callable[..., Issuance]:
    """An Issuance builder whose ``attributes`` override/extend the keyword arguments."""

    def build(**values: Any) -> Issuance:
        values.update(attributes)
        return Issuance(**values)

    return build


def _as_split(bundle: Bundle) -> Bundle:
    """A superseded bundle as it now stands: as when it was split, with status BUNDLE_SPLIT."""
    return Bundle(
        bundle.bundle_id,
        bundle.issuance_id,
        bundle.range_start,
        bundle.range_end,
        bundle.account_id,
        BundleStatus.BUNDLE_SPLIT,
        bundle.parent_id,
        bundle.cancellation,
        bundle.claimant,
    )


def _by_range(bundle: Bundle) -> int:
    return bundle.range_start


_RANGE_START = operator.attrgetter("range_start")  # _by_range, without a Python call


def _production_record(reading: ReadingRecognised) -> ProductionRecord:
    """The D6 production record held for a reading: what its ``ReadingRecognised`` says."""
    return ProductionRecord(
        reading.device_id,
        reading.meter_id,
        reading.start,
        reading.end,
        reading.metered,
        reading.recognised_wh,
        GrossOrNet[reading.gross_or_net],
    )


def _plain_decimal(value: Decimal | None) -> str | None:
    """An exact decimal as plain positional text (``0.5``, ``-0.25``, ``0``); None stays None."""
    return None if value is None else sys.intern(format(value, "f"))


def bundle_to_plain(bundle: Bundle) -> dict[str, Any]:
    """A bundle as plain data (the field names of the API where it has them)."""
    plain: dict[str, Any] = {
        "bundle_id": bundle.bundle_id,
        "issuance_id": bundle.issuance_id,
        "certificate_bundle_id_range_start": bundle.range_start,
        "certificate_bundle_id_range_end": bundle.range_end,
        "bundle_quantity": bundle.quantity,
        "account_id": bundle.account_id,
        "certificate_bundle_status": bundle.status.name,
    }
    if bundle.cancellation is not None:
        plain["beneficiary"] = bundle.cancellation.beneficiary
        plain["cancellation_purpose"] = bundle.cancellation.purpose.name
    if bundle.claimant is not None:
        plain["claimant"] = bundle.claimant
    return plain


def issuance_to_plain(issuance: Issuance) -> dict[str, Any]:
    """An issuance's D5 attributes as plain data."""
    plain: dict[str, Any] = {}
    for field in attrs.fields(Issuance):
        value = getattr(issuance, field.name)
        if isinstance(value, _dt.datetime):
            value = format_timestamp(value)
        elif isinstance(value, _dt.date):
            value = format_date(value)
        elif attrs.has(type(value)):
            value = attrs.asdict(value)
        plain[field.name] = value
    return plain
