"""D9 action records: every request a registry answers, as a traceable object with a state.

The API specification that accompanies the standard ([API], D9) treats each
call as an object the registry stores when it arrives and updates as it moves
from *received* through *pending* to *resolved*, in a transaction log keyed by
an action ID; the answer carries the request instant, the completion instant
and whether the registry accepted or rejected it. The standard itself is
neutral on IT architecture, so this is a recommendation (SHOULD), never a SHALL.

Why a separate record and not more fields on :class:`~history.ActionRecord`:
the exported history is what the invariant checker, the audit and the golden
vectors read, and it stays as it is; an :class:`ActionStatus` is *derived* from
the same log entry (same ID, same instant, same verdict and code), so the two
cannot disagree.

The lifecycle is checked in one place, :func:`advance`: received -> pending ->
resolved, one step at a time, and resolved is final. The model decides and
applies a request inside one call, so by the time anyone can read an action it
is resolved, and request and completion instants are the same ``now``; the
record still walks every state so that the rule lives here once, for whatever
builds action records (a registry that answers asynchronously would stop at
pending). Pure: every instant is an argument.
"""

from __future__ import annotations

import datetime as _dt
import enum
from typing import Any

import attrs

from gc_conformance.reference.errors import ModelInvariantBroken, Problem
from gc_conformance.reference.timestamps import format_timestamp


class ActionState(enum.Enum):
    """Where a request stands in the registry's transaction log."""

    RECEIVED = "received"  # stored on arrival, not yet looked at
    PENDING = "pending"  # being decided (and, if accepted, applied)
    RESOLVED = "resolved"  # answered: accepted or rejected; final


class ResponseStatus(enum.Enum):
    """The API's ``action_response_status``: what the registry answered."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


#: The one allowed next state of each state; RESOLVED has none (final).
_NEXT: dict[ActionState, ActionState] = {
    ActionState.RECEIVED: ActionState.PENDING,
    ActionState.PENDING: ActionState.RESOLVED,
}


class IllegalTransition(ModelInvariantBroken):
    """An action was moved against its lifecycle: a bug in whatever moved it."""


def advance(state: ActionState, to: ActionState) -> ActionState:
    """``to`` if it is the one state that may follow ``state``; otherwise IllegalTransition.

    No skipping (received -> resolved), no going back, nothing after resolved.
    """
    if _NEXT.get(state) is not to:
        raise IllegalTransition(f"an action may not move from {state.value} to {to.value}")
    return to


@attrs.frozen
class ActionStatus:
    """One action's record as the API exposes it (read-only; built by :meth:`received`).

    ``problem`` is the refusal (code, field, message) of a rejected action;
    ``completed_at`` and ``response`` are set on resolution only.
    """

    action_id: int
    action: str  # the request's name, e.g. ``transfer``
    actor: str
    state: ActionState
    requested_at: _dt.datetime
    completed_at: _dt.datetime | None = None
    response: ResponseStatus | None = None
    problem: Problem | None = None

    @classmethod
    def received(cls, action_id: int, action: str, actor: str, at: _dt.datetime) -> ActionStatus:
        """A request stored on arrival at ``at``."""
        return cls(action_id, action, actor, ActionState.RECEIVED, at)

    def pending(self) -> ActionStatus:
        """The request is being decided."""
        return attrs.evolve(self, state=advance(self.state, ActionState.PENDING))

    def resolved(self, at: _dt.datetime, problem: Problem | None) -> ActionStatus:
        """Answered at ``at``: accepted when ``problem`` is None, else rejected for it."""
        state = advance(self.state, ActionState.RESOLVED)
        if at < self.requested_at:
            raise IllegalTransition(
                f"action {self.action_id} would complete at {format_timestamp(at)}, before "
                f"it was requested at {format_timestamp(self.requested_at)}"
            )
        response = ResponseStatus.ACCEPTED if problem is None else ResponseStatus.REJECTED
        return attrs.evolve(self, state=state, completed_at=at, response=response, problem=problem)

    @property
    def accepted(self) -> bool | None:
        """True/False once resolved; None before."""
        return None if self.response is None else self.response is ResponseStatus.ACCEPTED

    def to_plain(self) -> dict[str, Any]:
        """JSON-ready, under the API specification's field names (plus state and refusal)."""
        return {
            "action_id": self.action_id,
            "action": self.action,
            "actor": self.actor,
            "action_state": self.state.value,
            "action_request_datetime": format_timestamp(self.requested_at),
            "action_completed_datetime": (
                None if self.completed_at is None else format_timestamp(self.completed_at)
            ),
            "action_response_status": None if self.response is None else self.response.value,
            "code": None if self.problem is None else self.problem.code.name,
            "field": None if self.problem is None else self.problem.field,
        }


def resolved_action(
    action_id: int, action: str, actor: str, at: _dt.datetime, problem: Problem | None
) -> ActionStatus:
    """The record of an action the model answered within one call at ``at`` (see the module)."""
    return ActionStatus.received(action_id, action, actor, at).pending().resolved(at, problem)


__all__ = [
    "ActionState",
    "ActionStatus",
    "IllegalTransition",
    "ResponseStatus",
    "advance",
    "resolved_action",
]
