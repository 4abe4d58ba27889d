"""The differential check: random request sequences, sent to the registry and to the model in lock-step.

The targeted checks each test one rule in one small scenario. This one tests
the rules *together*: a Hypothesis state machine composes long sequences of
valid and invalid requests (issuance, resubmissions, malformed values, whole and
partial transfers, cancellations, claims, reservations, withdrawals, queries,
the clock and the expiry sweep, corrections) and sends each request both to the
registry under test and to a fresh reference model run under the policies the
registry declares. After every step the two must agree on

* the verdict (accepted or refused),
* the canonical code of a refusal (a difference is a *code mismatch*: a failure
  under strict codes, recorded otherwise), and
* the observable state, compared without the registry's numbering: a bundle is
  described by its issuance (device and production interval), the offset of
  its certificate range inside that issuance, its quantity, account, status,
  beneficiary and claimant.

The reference model is the oracle, so any divergence is reported with the
model's answer as *expected* and the registry's as *observed*, on the shortest
sequence found that still diverges (see :meth:`Differential.minimise`). The
run is deterministic for a seed: the same seed gives the same sequences, the
same failure and the same reported steps.

Shrinking works on requests, not on Hypothesis's choices. Hypothesis's own
shrinker, tried first, spent 1 to 45 seconds per failure on this state machine
and still often left 10 to 20 requests: deleting a step changes what the later
choices mean (a later "newest bundle" becomes another one), so most of its
deletions lose the failure. Leaving out whole requests of the failing
sequence, each replayed against both registries, reaches 6 to 9 requests
(five of them the cast's setup) in a fraction of a second.

Bundle IDs are the registry's own, so the two registries' IDs differ. The
machine works in the model's IDs and keeps a correspondence, learned from the
answers of accepted requests (``bundle_id``, ``remainder_id``) and, for bundles
no answer names (the untouched rest of a withdrawal, say), from the
observation: bundles with the same canonical description are the same bundle.
Every step records the model's bundle ID in its expectation
(``[reference bundle_id=N]``) so that :mod:`gc_conformance.replay` can send the
sequence again to any registry.

A registry that claims the storage profile also gets ``differential.storage``:
the same machine with a storage system beside the cast and the storage
operations among the core ones (see :mod:`.storage`), its record IDs
translated and its allocations compared by the registered method's rule (see
:mod:`.storage_records`).

A registry that claims configuration #2 or #3 also gets ``differential.config2`` /
``differential.config3``: the same machine in a registry reset to that
configuration, beside its EAC registry, with linked issuance, cancellation,
conversion and EAC moves (#2) or EACs cancelled and GCs issued from them (#3)
among the core operations (see :mod:`.configuration`), its EAC IDs translated
and its EACs compared (see :mod:`.configuration_records`).

A registry that exposes ``history()`` (optional) also has its own action
history run through the double-counting invariant checker after every accepted
write: certificate IDs reused across issuances, say, do not show in the
numbering-free comparison, but do in the registry's own history.
"""

from __future__ import annotations

from gc_conformance.checks.differential.canonical import (
    Key,
    accounts_of,
    bundle_keys,
    by_issuance,
    describe_key,
    expectation_text,
    hkey,
    merged_in_place,
    parse_expectation,
    state_difference,
    storage_neutral,
    text,
)
from gc_conformance.checks.differential.driver import (
    Lockstep,
    model_policies,
    named_pairs,
    reference_setup,
)
from gc_conformance.checks.differential.machine import (
    VALID,
    Differential,
    DifferentialMachine,
    config2_matches_the_reference_model,
    config3_matches_the_reference_model,
    lifecycle_matches_the_reference_model,
    storage_matches_the_reference_model,
)
from gc_conformance.checks.differential.requirements import (
    ALICE,
    ALLOWED_BY,
    ALWAYS_NEEDED,
    ANNOTATION,
    AUTHORITY,
    BENEFICIARIES,
    BOB,
    CAROL,
    CRITICAL,
    DAVE,
    GHOST,
    HYDRO,
    ISSUER_ACCOUNT,
    ISSUES_INTO,
    MAJOR,
    METERS,
    MINOR,
    NOT_EXERCISED,
    OTHER_ACTORS,
    REFUSED_BY,
    RISKS,
    SETUP_REQUESTS,
    SHOULD_LEVEL,
    SOLAR,
    STATE_AFTER,
    STEP_COUNT,
    STRANGER,
    WIND,
    CodeDivergence,
    Divergence,
    is_should,
    refusal_requirements,
)

__all__ = [
    "ALICE",
    "ALLOWED_BY",
    "ALWAYS_NEEDED",
    "ANNOTATION",
    "AUTHORITY",
    "BENEFICIARIES",
    "BOB",
    "CAROL",
    "CRITICAL",
    "DAVE",
    "GHOST",
    "HYDRO",
    "ISSUER_ACCOUNT",
    "ISSUES_INTO",
    "MAJOR",
    "METERS",
    "MINOR",
    "NOT_EXERCISED",
    "OTHER_ACTORS",
    "REFUSED_BY",
    "RISKS",
    "SETUP_REQUESTS",
    "SHOULD_LEVEL",
    "SOLAR",
    "STATE_AFTER",
    "STEP_COUNT",
    "STRANGER",
    "VALID",
    "WIND",
    "CodeDivergence",
    "Differential",
    "DifferentialMachine",
    "Divergence",
    "Key",
    "Lockstep",
    "accounts_of",
    "bundle_keys",
    "by_issuance",
    "config2_matches_the_reference_model",
    "config3_matches_the_reference_model",
    "describe_key",
    "expectation_text",
    "hkey",
    "is_should",
    "lifecycle_matches_the_reference_model",
    "merged_in_place",
    "model_policies",
    "named_pairs",
    "parse_expectation",
    "reference_setup",
    "refusal_requirements",
    "state_difference",
    "storage_matches_the_reference_model",
    "storage_neutral",
    "text",
]
