"""Outcomes of requests and the append-only action log.

Every request a registry receives, accepted or rejected, becomes one
:class:`ActionRecord` (D8 requires issuance, transfer, cancellation and
expiry records kept for at least five years; this log is never pruned at
all). ``to_plain`` turns a record into the JSON-ready form the invariant
checker, the vectors and the reports read.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Generic, TypeVar

import attrs

from gc_conformance.reference.effects import Effect
from gc_conformance.reference.errors import ErrorCode, Problem
from gc_conformance.reference.timestamps import format_timestamp

T = TypeVar("T")


def action_name(command: object) -> str:
    """``Transfer`` -> ``transfer``; ``SubmitProduction`` -> ``submit_production``."""
    name = type(command).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


@attrs.frozen(weakref_slot=False)
class ActionRecord:
    action_id: int
    at: _dt.datetime
    actor: str
    command: Any
    problem: Problem | None
    effects: tuple[Effect, ...]

    @property
    def accepted(self) -> bool:
        return self.problem is None

    def to_plain(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "at": format_timestamp(self.at),
            "actor": self.actor,
            "action": action_name(self.command),
            "accepted": self.problem is None,
            "code": None if self.problem is None else self.problem.code.name,
            "effects": [effect.to_plain() for effect in self.effects],
        }


@attrs.frozen
class Accepted(Generic[T]):
    """The request was carried out; ``value`` is its typed result."""

    action_id: int
    value: T

    accepted = True

    def unwrap(self) -> T:
        return self.value


@attrs.frozen
class Rejected:
    """The request was refused and nothing changed; ``problem`` says why."""

    action_id: int
    problem: Problem

    accepted = False

    @property
    def code(self) -> ErrorCode:
        return self.problem.code

    def unwrap(self) -> Any:
        raise RequestRejected(self.problem)


class RequestRejected(Exception):
    """Raised by :meth:`Rejected.unwrap` for callers that expect success."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


Outcome = Accepted[T] | Rejected


# --- typed results -------------------------------------------------------------------


@attrs.frozen
class IssuanceResult:
    """``bundle_id`` is None when nothing was issued (zero production, or all of it deducted)."""

    issuance_id: int | None
    bundle_id: int | None
    issued_wh: int
    deducted_wh: int


@attrs.frozen
class BundleResult:
    """``bundle_id`` is the bundle that now embodies the result; ``remainder_id`` what a split left."""

    bundle_id: int
    remainder_id: int | None = None


@attrs.frozen
class ExpiryResult:
    expired: tuple[int, ...]


@attrs.frozen
class CorrectionResult:
    """D10 outcome: upward -> ``issued``; downward -> ``withdrawn`` then ``deferred_wh`` as a debt."""

    issued: IssuanceResult | None
    withdrawn: tuple[int, ...]
    withdrawn_wh: int
    deferred_wh: int


@attrs.frozen
class Registered:
    entity_id: str
