"""The EACs in the lock-step (configurations #2/#3): their IDs translated, their state compared,
and what an hour's GCs may differ by under the registry's declared practice.

An EAC registry names its EACs its own way, as a GC registry names its bundles.
The machine writes every request in the model's EAC IDs; the registry's are
learned from the answers of accepted ``eac_report_production`` requests
(``eac_ids``, paired in the order both name them) and put into each request
sent to it (``eac_ids``). A registry that issues another number of EACs for the
same report uses another EAC face value than the model (1 MWh): the EAC
registry's own choice, not a rule of the GC standard, so the sequence stops
there (and says so) instead of judging what follows.

The EAC state (the optional ``eacs`` key of ``observe()``) is compared EAC by
EAC, in the model's IDs, on the fields the contract names (holding account,
status, beneficiary, the GC Issuer and configuration recorded against it),
each only when the registry shows it.

How many Wh an hour gets when the EAC energy left does not cover it is the
registry's declared practice (``monthly_cap``, ``hour_suspension``: D3/D13, a
MAY). The model applies the declared values; a registry that issues another
amount for the hour, with the GCs where they belong (account, status,
beneficiary), has only read that practice otherwise (:func:`practice_only`);
it is still held to the SHALLs, that an hour never gets more than was metered
and a period never more GC energy than its EACs (:func:`over_the_eacs`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from gc_conformance.checks.differential.canonical import Key, text

#: The requests whose answer names the EACs issued (in the order they were issued).
EAC_REPORT = "eac_report_production"
#: The requests that issue GCs against EACs (an upward correction under #2 too): what an hour
#: gets follows the declared practice.
PRACTICE_ACTIONS = frozenset(
    {"issue_linked_gcs", "convert_eacs", "issue_from_cancelled_eacs", "correct_production"}
)
#: The fields of an EAC compared (those ``observe().eacs`` is documented to carry).
EAC_FIELDS = ("account_id", "status", "beneficiary", "gc_issuer_id", "gc_configuration")
#: What the EAC state after a request of each action must show, per configuration.
EAC_STATE_AFTER: Mapping[tuple[int, str], tuple[str, ...]] = {
    (2, "issue_linked_gcs"): ("CONF-004",),
    (2, "convert_eacs"): ("CONF-004", "CONF-007"),
    (2, "cancel_linked_gcs"): ("CONF-005",),
    (2, "cancel"): ("CONF-005",),
    (2, "withdraw"): ("CONF-004",),
    (2, "eac_transfer"): ("CONF-004", "CONF-006"),
    (2, "eac_cancel"): ("CONF-004",),
    (2, "correct_production"): ("CONF-024",),
    (3, "correct_production"): ("CONF-026",),
    (3, "issue_from_cancelled_eacs"): ("CONF-014",),
    (3, "eac_transfer"): ("CONF-022",),
    (3, "eac_cancel"): ("CONF-022",),
}


def translate_eacs(eacs: Mapping[Any, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every model EAC ID replaced by the registry's (unknown IDs kept)."""
    sent = dict(fields)
    if isinstance(sent.get("eac_ids"), list | tuple):
        sent["eac_ids"] = [eacs.get(e, e) if isinstance(e, str) else e for e in sent["eac_ids"]]
    return sent


def as_model_eacs(eacs: Mapping[Any, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every *registry* EAC ID the model does not use replaced by the model's.

    The machine writes its requests in the model's IDs; a saved sequence replayed
    from a registry's own run names the registry's (learned again from the
    replayed report), and the model must be sent its own.
    """
    back = {v: k for k, v in eacs.items() if v not in eacs}
    if not back or not isinstance(fields.get("eac_ids"), list | tuple):
        return dict(fields)
    return {**fields, "eac_ids": [back.get(e, e) if isinstance(e, str) else e
                                  for e in fields["eac_ids"]]}  # fmt: skip


def learn_eacs(
    model: Mapping[str, Any], registry: Mapping[str, Any], eacs: dict[Any, Any]
) -> str | None:
    """Pair the EACs both answers to a report name; why the sequence stops (None: it goes on)."""
    want, have = model.get("eac_ids"), registry.get("eac_ids")
    if not isinstance(want, list | tuple):
        return None
    if not isinstance(have, list | tuple):
        return (
            "the registry's answer to an accepted eac_report_production names no eac_ids, so "
            "no later request can name those EACs"
        )
    if len(have) != len(want):
        return (
            f"the EAC registry issued {len(have)} EACs where the model (1 MWh EACs) issues "
            f"{len(want)}: another EAC face value, which the model does not follow"
        )
    for mine, theirs in zip(want, have, strict=True):
        eacs[mine] = theirs
    return None


def eac_difference(
    model: Iterable[Mapping[str, Any]],
    registry: Iterable[Mapping[str, Any]],
    eacs: Mapping[Any, Any],
) -> tuple[str, str]:
    """The model's EACs the registry shows otherwise, and the registry's ("" if alike)."""
    back = {v: k for k, v in eacs.items()}
    want = {text(e.get("eac_id")): e for e in model}
    have = {text(back.get(e.get("eac_id"), e.get("eac_id"))): e for e in registry}
    expected, observed = [], []
    for eac_id in sorted(set(want) | set(have)):
        mine, theirs = want.get(eac_id), have.get(eac_id)
        if mine is None or theirs is None:
            expected.append(f"{eac_id}: {_describe(mine, mine) if mine else 'no such EAC'}")
            observed.append(f"{eac_id}: {_describe(theirs, theirs) if theirs else 'no such EAC'}")
            continue
        shown = [f for f in EAC_FIELDS if f in theirs]
        if any(text(mine.get(f)) != text(theirs.get(f)) for f in shown):
            expected.append(f"{eac_id}: {_describe(mine, theirs)}")
            observed.append(f"{eac_id}: {_describe(theirs, theirs)}")
    return "; ".join(expected), "; ".join(observed)


def _describe(eac: Mapping[str, Any], shown: Mapping[str, Any]) -> str:
    return ", ".join(f"{f}={eac.get(f)}" for f in EAC_FIELDS if f in shown)


def _groups(keys: Iterable[Key]) -> Counter[tuple[str, ...]]:
    """Wh per (device, interval, account, status, beneficiary, claimant): the state up to how
    the certificates of an hour are numbered and split."""
    found: Counter[tuple[str, ...]] = Counter()
    for key in keys:
        found[(*key[:3], *key[6:])] += key[5]
    return found


def practice_only(
    model: Iterable[Key],
    registry: Iterable[Key],
    hours: Iterable[tuple[str, str, str]],
    belongs: tuple[str, str, str],
) -> bool:
    """Whether the two states differ only in how many Wh the request's ``hours`` got, every
    GC of those hours where it belongs (``belongs``: account, status, beneficiary)."""
    want, have = _groups(model), _groups(registry)
    named = set(hours)
    for group in set(want) | set(have):
        if want[group] == have[group]:
            continue
        if tuple(group[:3]) not in named or tuple(group[3:6]) != belongs or group[6]:
            return False
    return True


def over_the_eacs(
    registry: Iterable[Key],
    hours: Iterable[tuple[str, str, str, int]],
    periods: Mapping[tuple[str, str, str], int],
) -> tuple[str, str] | None:
    """(expected, observed) when the registry's GCs pass a SHALL bound; None within them.

    An hour never gets more GC Wh than was metered for it, and the GCs of a
    device's hours inside an EAC production period (withdrawn ones left out:
    a withdrawal gives their EACs back) never exceed that period's EAC energy.
    """
    live = [k for k in registry if k[7] != "WITHDRAWN"]
    for device, start, end, metered in hours:
        got = sum(k[5] for k in live if k[:3] == (device, start, end))
        if got > metered:
            return f"at most the {metered} Wh metered", f"{got} Wh of GCs for {device} {start}"
    for (device, first, last), wh in periods.items():
        got = sum(k[5] for k in live if k[0] == device and first <= k[1] and k[2] <= last)
        if got > wh:
            return (
                f"at most {wh} Wh of GCs for {device} {first}..{last} (the EACs' energy)",
                f"{got} Wh",
            )
    return None
