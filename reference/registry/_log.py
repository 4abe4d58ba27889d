"""The action log, kept in columns and read back as :class:`ActionRecord` objects.

A registry of millions of actions would otherwise hold one record object per
action; storing the command, instant and effects in flat columns keeps it
small, and a record built on reading is equal every time.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator

from gc_conformance.reference.errors import Problem, safe_repr
from gc_conformance.reference.history import ActionRecord, Rejected
from gc_conformance.reference.registry._state import _RegistryState


class _ActionLog(_RegistryState):
    """Appending refusals to the column log and building records from it."""

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
