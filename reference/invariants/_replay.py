"""The replay composed from its effect families, and the loop that feeds it a history.

``check_invariants`` reads each action, skips refused ones, hands each effect to its
family's handler (``_EFFECTS``) or to the storage replay, and closes with the
whole-history checks; any unreadable entry becomes a finding, never a crash.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gc_conformance.reference.invariants._core import _ReplayCore
from gc_conformance.reference.invariants._issuance import _IssuanceReplay
from gc_conformance.reference.invariants._lineage import _LineageReplay
from gc_conformance.reference.invariants._plain import _check_storage_numbers, _Malformed
from gc_conformance.reference.invariants._production import _ProductionReplay
from gc_conformance.reference.invariants._reported import _ReportedState
from gc_conformance.reference.invariants.findings import InvariantReport
from gc_conformance.reference.storage_checks import STORAGE_EFFECTS


class _Replay(_IssuanceReplay, _LineageReplay, _ProductionReplay, _ReportedState, _ReplayCore):
    """Replays a plain history into findings and a lineage graph (one per check)."""


#: each lineage effect's handler, from the family that replays it
_EFFECTS: dict[str, Callable[[_Replay, Mapping[str, Any]], None]] = {
    "issue": _Replay.issue,
    "split": _Replay.split,
    "transfer": _Replay.transfer,
    "status": _Replay.status,
    "reading": _Replay.reading,
    "debt": _Replay.debt,
    "account": _Replay.account,
}
# Effects that carry no certificate lineage (registration, EAC links, suspended hours).
_IGNORED = frozenset({"device", "eac_link", "eac_unlink", "suspension"})


def check_invariants(
    history: Iterable[Mapping[str, Any]], state: Mapping[str, Any] | None = None
) -> InvariantReport:
    """Replay ``history`` and report every double-counting finding; compare ``state`` if given.

    The replay builds millions of long-lived containers (lineage graph, replay state) and
    no reference cycles; CPython's cyclic collector would traverse them again at every full
    collection, finding nothing, for about 40% of the run on a 10^6-action history. So it is
    paused for the replay (reference counting still frees everything) and restored after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check(history, state)
    finally:
        if enabled:
            gc.enable()


def _check(history: Iterable[Any], state: Mapping[str, Any] | None) -> InvariantReport:
    """:func:`check_invariants`, for any iterable: an entry that is not a mapping is a finding."""
    replay = _Replay()
    count = 0
    for action in history:
        count += 1
        if type(action) is not dict and not isinstance(action, Mapping):
            replay.action_id = None
            replay.malformed(f"history entry {action!r} is not a mapping")
            continue
        replay.action_id = action.get("action_id")
        accepted = action.get("accepted")
        if accepted is False:
            continue
        if accepted is not True:
            replay.malformed(f"'accepted' must be true or false, not {accepted!r}")
            continue
        effects = action.get("effects")
        if not isinstance(effects, (list, tuple)):
            replay.malformed(f"'effects' must be a list, not {effects!r}")
            continue
        at = action.get("at")
        if at is not None and at == replay.last_at_text:  # the same time as the last action
            replay.at, replay.at_reported = replay.last_at, False
        else:
            replay.begin(at)
        for effect in effects:
            try:
                kind = effect.get("effect")
                handler = _EFFECTS.get(kind)
                if handler is not None:
                    handler(replay, effect)
                elif kind in STORAGE_EFFECTS:
                    _check_storage_numbers(replay, effect)
                    replay.storage.handle(replay, effect)
                elif kind not in _IGNORED:
                    replay.malformed(f"unknown effect {kind!r}")
            except _Malformed as exc:
                replay.malformed(f"unreadable {kind!r} effect: {exc}")
            except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
                replay.malformed(f"unreadable entry: {type(exc).__name__}: {exc}")
        replay.end(action)
    replay.conservation()
    replay.storage.finish(replay)
    replay.accounts_known(state)
    if state is not None:
        replay.compare_state(state)
    return InvariantReport(tuple(replay.findings), count, replay.graph)
