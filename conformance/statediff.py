"""A readable, labelled difference between two observed states, for atomicity and state failures.

When a refused or failed request changes the registry, the vendor must see at
once *which step* did it and *what* changed: which bundles went, which came,
whether accounts or the EAC registry moved. Tuples of canonical fields are
exact but unreadable, so each bundle is written in the format the differential
check already uses (``DEV-WIND 2024-03-01T00:00:00Z certificates +0..+9 (10)
ACC-ALICE ACTIVE``): its issuance (device and production start), its place
inside that issuance as certificate offsets (a vendor numbers certificates its
own way, so offsets, not IDs), its quantity, account and status.

The input is :func:`gc_conformance.session.canonical_state` output plus the
optional EAC part, i.e. what :meth:`Session.snapshot` returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

_ABSENT = ("", "None")


def describe_bundle(bundle: Sequence[Any]) -> str:
    """One canonical bundle (device, start, offset, quantity, account, status, beneficiary,
    claimant) as text: ``DEV 2024-03-01T00:00:00Z certificates +0..+9 (10) ACC ACTIVE``."""
    device, start, offset, quantity, account, status, beneficiary, claimant = bundle[:8]
    last = offset + quantity - 1 if isinstance(quantity, int) and isinstance(offset, int) else "?"
    text = f"{device} {start} certificates +{offset}..+{last} ({quantity}) {account} {status}"
    if str(beneficiary) not in _ABSENT:
        text += f" for {beneficiary}"
    if str(claimant) not in _ABSENT:
        text += f" claimed by {claimant}"
    return text


def describe_step(step: Mapping[str, Any] | None) -> str:
    """``step 8 (cancel by bob, refused NOT_OWNER)``: the step that changed the state."""
    if step is None:
        return "before any request"
    request = step.get("request") or {}
    answer = step.get("answer")
    if not isinstance(answer, Mapping):
        outcome = "failed in the adapter"
    elif answer.get("accepted"):
        outcome = "accepted"
    else:
        outcome = f"refused {answer.get('code')}"
    who = f" by {request['actor']}" if request.get("actor") else ""
    return f"step {step.get('number', '?')} ({request.get('action', '?')}{who}, {outcome})"


def state_diff(before: Sequence[Any], after: Sequence[Any]) -> list[str]:
    """Labelled lines: bundles removed, bundles added, accounts (always), EACs (when observed)."""
    old_bundles, new_bundles = Counter(before[1]), Counter(after[1])
    removed = sorted((old_bundles - new_bundles).elements())
    added = sorted((new_bundles - old_bundles).elements())
    lines = []
    if removed:
        lines.append(
            f"bundles removed ({len(removed)}): " + "; ".join(describe_bundle(b) for b in removed)
        )
    if added:
        lines.append(
            f"bundles added ({len(added)}): " + "; ".join(describe_bundle(b) for b in added)
        )
    if not removed and not added:
        lines.append("bundles: unchanged")
    old_accounts, new_accounts = set(before[0]), set(after[0])
    opened, closed = sorted(new_accounts - old_accounts), sorted(old_accounts - new_accounts)
    if opened or closed:
        parts = []
        if opened:
            parts.append("added " + ", ".join(opened))
        if closed:
            parts.append("removed " + ", ".join(closed))
        lines.append("accounts: " + "; ".join(parts))
    else:
        lines.append(f"accounts: unchanged ({', '.join(sorted(new_accounts)) or 'none'})")
    eacs_before = before[2] if len(before) > 2 else None
    eacs_after = after[2] if len(after) > 2 else None
    if eacs_before != eacs_after:
        lines.append(_eac_line(eacs_before, eacs_after))
    return lines


def _eac_line(before: Any, after: Any) -> str:
    old, new = Counter(before or ()), Counter(after or ())
    gone, came = len(list((old - new).elements())), len(list((new - old).elements()))
    return f"EACs: changed ({gone} EAC record(s) removed or altered, {came} added or altered)"


def atomicity_failure(
    before: Sequence[Any], after: Sequence[Any], what: str, step: Mapping[str, Any] | None
) -> tuple[str, str, str]:
    """(message, expected, observed) of a refused or failed request that changed the state.

    The message starts with ``step N:`` so the report can mark that step (the
    same convention as the differential check's messages).
    """
    number = step.get("number", "?") if step is not None else "?"
    named = what if what.startswith(f"step {number}") else f"step {number}: {what}"
    message = f"{named} changed the registry's state (a refused or failed operation must be atomic)"
    expected = f"state unchanged by {describe_step(step)}"
    observed = f"after {describe_step(step)}:\n" + "\n".join(state_diff(before, after))
    return message, expected, observed


__all__ = ["atomicity_failure", "describe_bundle", "describe_step", "state_diff"]
