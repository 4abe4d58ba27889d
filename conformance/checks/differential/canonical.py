"""The canonical form both sides are compared in (bundles by issuance, offset, quantity, account, status), and the expectations of each step."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from gc_conformance.adapter import (
    Answer,
)
from gc_conformance.checks.differential.requirements import (
    ANNOTATION,
)

# ====================================================================== canonical form

#: A bundle as both registries must show it: (device, start, end, first offset, last offset,
#: quantity, account, status, beneficiary, claimant); offsets count from the issuance's first ID.
Key = tuple[str, str, str, int, int, int, str, str, str, str]


def hkey(value: Any) -> Hashable:
    """A hashable stand-in for an opaque bundle ID (a registry may use any JSON value)."""
    if not isinstance(value, bool):
        try:
            hash(value)
        except TypeError:
            pass
        else:
            return (type(value).__name__, value)
    return ("json", json.dumps(value, sort_keys=True, default=str))


def text(value: Any) -> str:
    return "" if value is None else str(value)


def by_issuance(state: Mapping[str, Any]) -> bool:
    """Whether every bundle of ``state`` names its issuance (``issuance_id``, optional)."""
    return all(b.get("issuance_id") is not None for b in state["bundles"])


def bundle_keys(
    state: Mapping[str, Any], issuances: bool = True
) -> dict[Hashable, tuple[Any, Key]]:
    """Each observed bundle's numbering-free description, by (hashable) bundle ID.

    Offsets count from the first certificate of the bundle's issuance: the
    lowest ID among the current bundles of the same ``issuance_id``
    (``issuances``), since an issuance's certificates stay in its current
    bundles. A registry that does not name issuances has its bundles grouped
    by device and production interval instead, which puts the issuance a D10
    correction adds into the same group as the one it corrects; the gaps
    between the group's ranges (IDs the registry gave to other issuances in
    between) are then left out, so that only the order of the ranges counts.
    Both registries of a comparison must be described with the same choice.
    """
    groups: dict[Hashable, list[tuple[int, int]]] = {}
    for b in state["bundles"]:
        span = (b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"])
        groups.setdefault(_issuance_group(b, issuances), []).append(span)
    offsets = {group: _offsets(spans, compress=not issuances) for group, spans in groups.items()}
    keyed: dict[Hashable, tuple[Any, Key]] = {}
    for b in state["bundles"]:
        offset = offsets[_issuance_group(b, issuances)]
        start, end = b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"]
        key: Key = (
            text(b.get("device_id")),
            text(b.get("production_starting_interval")),
            text(b.get("production_ending_interval")),
            offset(start),
            offset(end),
            b["bundle_quantity"],
            text(b.get("account_id")),
            text(b.get("certificate_bundle_status")),
            text(b.get("beneficiary")),
            text(b.get("claimant")),
        )
        keyed[hkey(b["bundle_id"])] = (b["bundle_id"], key)
    return keyed


def storage_neutral(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` with no beneficiary on GCs cancelled for storage charging: what a registry
    writes there (the storage system, its operator, nothing) is its own, so the differential
    compares those bundles without it (the golden vectors keep the model's own form)."""
    bundles = [
        {**b, "beneficiary": None}
        if b.get("certificate_bundle_status") == "CANCELLED_FOR_STORAGE"
        else b
        for b in state["bundles"]
    ]
    return {**state, "bundles": bundles}


def _offsets(spans: list[tuple[int, int]], *, compress: bool) -> Callable[[int], int]:
    """Certificate ID -> offset from the group's first ID (gaps between ranges removed)."""
    base = min(start for start, _ in spans)
    if not compress:
        return lambda value: value - base
    gaps: list[tuple[int, int]] = []  # (first ID after a gap, total gap up to there)
    reach, removed = base - 1, 0
    for start, end in sorted(spans):
        if start > reach + 1:
            removed += start - reach - 1
            gaps.append((start, removed))
        reach = max(reach, end)

    def offset(value: int) -> int:
        taken = 0
        for first, total in gaps:
            if value >= first:
                taken = total
        return value - base - taken

    return offset


def _issuance_group(bundle: Mapping[str, Any], issuances: bool) -> Hashable:
    if issuances:
        return ("issuance", hkey(bundle.get("issuance_id")))
    return (
        "interval",
        text(bundle.get("device_id")),
        text(bundle.get("production_starting_interval")),
        text(bundle.get("production_ending_interval")),
    )


def merged_in_place(keys: Iterable[Key]) -> Counter[Key]:
    """Bundles with adjacent certificate ranges and everything else alike, merged into one:
    the state as it is up to splits in place (which change no holding, status or quantity)."""
    groups: dict[tuple[str, ...], list[Key]] = {}
    for key in keys:
        groups.setdefault((*key[:3], *key[6:]), []).append(key)
    merged: Counter[Key] = Counter()
    for alike in groups.values():
        alike.sort(key=lambda k: (k[3], k[4]))
        current = alike[0]
        for key in alike[1:]:
            if key[3] == current[4] + 1:
                current = (*current[:4], key[4], current[5] + key[5], *current[6:])
            else:
                merged[current] += 1
                current = key
        merged[current] += 1
    return merged


def describe_key(key: Key) -> str:
    device, start, end, low, high, quantity, account, status, beneficiary, claimant = key
    text = f"{device} {start}..{end} certificates +{low}..+{high} ({quantity}) {account} {status}"
    if beneficiary:
        text += f" for {beneficiary}"
    if claimant:
        text += f" claimed by {claimant}"
    return text


def accounts_of(state: Mapping[str, Any]) -> list[str]:
    return sorted(text(a.get("account_id")) for a in state["accounts"])


def state_difference(model: Mapping[str, Any], registry: Mapping[str, Any]) -> tuple[str, str]:
    """The model's bundles the registry lacks, and the registry's the model lacks ("" if equal).

    Only the differing bundles are listed (by canonical description), so a
    reader sees at once what the registry got wrong rather than two whole states.
    """
    issuances = by_issuance(registry)
    want = Counter(key for _, key in bundle_keys(model, issuances).values())
    have = Counter(key for _, key in bundle_keys(registry, issuances).values())
    missing = sorted((want - have).elements())
    extra = sorted((have - want).elements())
    accounts_want, accounts_have = accounts_of(model), accounts_of(registry)
    expected, observed = [], []
    if missing or extra:
        expected.append(
            "bundles " + "; ".join(describe_key(k) for k in missing)
            if missing
            else "no such bundle"
        )
        observed.append(
            "bundles " + "; ".join(describe_key(k) for k in extra) if extra else "those missing"
        )
    if accounts_want != accounts_have:
        expected.append(f"accounts {accounts_want}")
        observed.append(f"accounts {accounts_have}")
    return " | ".join(expected), " | ".join(observed)


# ====================================================================== expectations


def expectation_text(answer: Answer, fields: Mapping[str, Any]) -> str:
    """The model's answer as a step's expectation; names the model's bundle ID for replays."""
    text = "accept" if answer.accepted else f"reject {answer.code}"
    if "bundle_id" in fields:
        text += f" [reference bundle_id={json.dumps(fields['bundle_id'])}]"
    return text


def parse_expectation(text: str) -> tuple[str, Any, bool]:
    """``(verdict text, reference bundle ID, whether one was given)`` from :func:`expectation_text`."""
    found = ANNOTATION.search(text)
    if found is None:
        return text, None, False
    return text[: found.start()], json.loads(found.group("id")), True
