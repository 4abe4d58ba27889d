"""The storage records (SCR, SDR) in the lock-step: their IDs translated, their allocations compared.

A registry names its charge and discharge records its own way, as it names its
bundles. The machine writes every storage request in the model's record IDs;
the registry's IDs are learned from the answers of accepted
``submit_storage_data`` requests (``record_id``) and put into each request
sent to it (``scr_id``, ``sdr_id``, ``sdr_ids``, the operator's
``allocations``). A registry whose answer names no record cannot be asked
about that record again, so the storage steps stop there (and say so) rather
than send the model's IDs and judge the answer.

What an allocation decided is compared through the answers (``allocations``
as ``[scr, sdr, Wh]`` triples, as the storage checks read them, with
:func:`~gc_conformance.checks.storage.parse_allocations`). Under FIFO, LIFO
and the operator's discretion the answer is exact; under the weighted average
the standard fixes the proportion but not how a share that is not a whole Wh
is rounded, so shares within 1 Wh of the model's, with the same totals, are
no divergence: the model then cannot follow the registry's pool exactly, and
the storage steps stop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gc_conformance.adapter import ACTIONS, Profile
from gc_conformance.checks.storage import parse_allocations

#: The storage profile's actions (read from the contract's table, never kept twice).
STORAGE_ACTIONS = frozenset(a for a, profiles in ACTIONS.items() if Profile.STORAGE in profiles)
#: Accepted storage requests whose answers name records or allocations.
STORAGE_ANSWERS = frozenset(
    {"submit_storage_data", "allocate_storage", "assign_unknown_beneficiary"}
)
#: The rule an allocation follows, by the storage system's method.
METHOD_RULE = {
    "FIFO": "STOR-020",
    "LIFO": "STOR-021",
    "WEIGHTED_AVERAGE": "STOR-022",
    "OPERATOR_DISCRETION": "STOR-023",
}


def _mapped(records: Mapping[Any, Any], value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return records.get(value, value)
    return value


def translate_records(records: Mapping[Any, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every model record ID replaced by the registry's (unknown IDs kept)."""
    sent = dict(fields)
    for name in ("scr_id", "sdr_id"):
        if name in sent:
            sent[name] = _mapped(records, sent[name])
    if isinstance(sent.get("sdr_ids"), list):
        sent["sdr_ids"] = [_mapped(records, v) for v in sent["sdr_ids"]]
    if isinstance(sent.get("allocations"), list):
        sent["allocations"] = [
            [_mapped(records, e[0]), _mapped(records, e[1]), *e[2:]]
            if isinstance(e, list) and len(e) == 3
            else e
            for e in sent["allocations"]
        ]
    return sent


def learn_records(
    action: str,
    model: Mapping[str, Any],
    registry: Mapping[str, Any],
    records: dict[Any, Any],
) -> str | None:
    """Pair the record both answers name; why the storage steps stop (None: they go on)."""
    if action != "submit_storage_data":
        return None
    model_id = model.get("record_id")
    if model_id is None:  # an idle interval: no record
        return None
    registry_id = registry.get("record_id")
    if registry_id is None:
        return (
            "the registry's answer to an accepted submit_storage_data names no record_id, so "
            "no later storage request can name that record"
        )
    records[model_id] = registry_id
    return None


@attrs.frozen
class AllocationVerdict:
    """How a registry's allocation differs from the model's."""

    message: str
    expected: str
    observed: str
    requirements: tuple[str, ...]
    rounding_only: bool


def _table(
    pieces: list[tuple[Any, Any, int]], records: Mapping[Any, Any] | None
) -> dict[tuple[str, str], int]:
    table: dict[tuple[str, str], int] = {}
    for scr, sdr, wh in pieces:
        if records is not None:
            scr, sdr = _mapped(records, scr), _mapped(records, sdr)
        key = (repr(scr), repr(sdr))
        table[key] = table.get(key, 0) + wh
    return {k: v for k, v in table.items() if v}


def _text(table: Mapping[tuple[str, str], int]) -> str:
    return "; ".join(f"{scr} -> {sdr}: {wh} Wh" for (scr, sdr), wh in sorted(table.items()))


def compare_allocations(
    method: str,
    records: Mapping[Any, Any],
    model: Mapping[str, Any],
    registry: Mapping[str, Any],
) -> AllocationVerdict | None:
    """The registry's allocation against the model's (in the registry's IDs); None if alike.

    An answer that lists no allocations is not compared here: the SD-GC
    verdicts and the observed state that follow still judge what it did.
    """
    want_pieces = parse_allocations(model)
    have_pieces = parse_allocations(registry)
    if want_pieces is None or have_pieces is None:
        return None
    want, have = _table(want_pieces, records), _table(have_pieces, None)
    if want == have:
        return None
    per_sdr_want: dict[str, int] = {}
    per_sdr_have: dict[str, int] = {}
    for (_, sdr), wh in want.items():
        per_sdr_want[sdr] = per_sdr_want.get(sdr, 0) + wh
    for (_, sdr), wh in have.items():
        per_sdr_have[sdr] = per_sdr_have.get(sdr, 0) + wh
    same_totals = per_sdr_want == per_sdr_have
    near = all(abs(want.get(k, 0) - have.get(k, 0)) <= 1 for k in {*want, *have})
    rule = METHOD_RULE.get(method, "STOR-018")
    return AllocationVerdict(
        f"the weighted shares differ from the model's by rounding only ({_text(have)}); the "
        "standard does not say how a share of a Wh is rounded, so the storage steps stop here",
        _text(want) or "no allocation",
        _text(have) or "no allocation",
        (rule,) if same_totals else (rule, "STOR-018"),
        rounding_only=method == "WEIGHTED_AVERAGE" and same_totals and near,
    )
