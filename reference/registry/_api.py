"""The registry's public face: execute, decide-then-commit, queries and reads.

Kept apart from the deciders because this is the surface callers (adapters,
linked registries, the invariant checker) rely on, and it changes nothing on
its own: ``commit`` hands every effect to ``_apply``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from gc_conformance.reference.actions import ActionStatus, resolved_action
from gc_conformance.reference.bundles import Bundle, BundleStatus, Issuance
from gc_conformance.reference.commands import Command, Query
from gc_conformance.reference.entities import Account, Device, ProductionRecord
from gc_conformance.reference.errors import ErrorCode, InvalidInput, Problem, absurd_field
from gc_conformance.reference.history import (
    Accepted,
    ActionRecord,
    Outcome,
    Rejected,
    action_name,
)
from gc_conformance.reference.policies import RoundingCarry
from gc_conformance.reference.registry._contract import Refusal, _Refuse
from gc_conformance.reference.registry._plain import bundle_to_plain
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.registry._values import _as_split, _by_range, _production_record
from gc_conformance.reference.timestamps import format_timestamp, parse_timestamp

_UTC = _dt.UTC


class _PublicApi(_RegistryState):
    """``execute``/``prepare``/``commit``, reads of current state, fingerprint and exports."""

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

    @property
    def history(self) -> Sequence[ActionRecord]:
        return tuple(self._actions())

    def action(self, action_id: object) -> ActionStatus | None:
        """The D9 record of action ``action_id`` (accepted or refused), or None if unknown.

        Read-only and derived from the same log entry as ``history`` (same ID,
        instant, verdict and code). Reads (``query``, this) are not actions: they
        change nothing and are not logged, so they have no ID to look up.
        """
        if isinstance(action_id, bool) or not isinstance(action_id, int):
            return None
        if not 1 <= action_id <= len(self._log_commands):
            return None
        record = self._action(action_id - 1)
        return resolved_action(
            record.action_id, action_name(record.command), record.actor, record.at, record.problem
        )

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
