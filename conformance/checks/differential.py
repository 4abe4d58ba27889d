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

A registry that exposes ``history()`` (optional) also has its own action
history run through the double-counting invariant checker after every accepted
write: certificate IDs reused across issuances, say, do not show in the
numbering-free comparison, but do in the registry's own history.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any

import attrs
import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from gc_conformance.adapter import (
    Answer,
    Capabilities,
    Clock,
    IssuanceStyle,
    Profile,
    RegistryAdapter,
    read_answer,
    read_state,
)
from gc_conformance.checks import check
from gc_conformance.outcomes import FailureKind, Severity, SkipKind
from gc_conformance.reference import InvalidInput, Policies
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.session import (
    ISSUER_ID,
    STAMP,
    AdapterError,
    CheckFailed,
    CodeMismatch,
    NotApplicable,
    Session,
    device_record,
    stamp,
)

CRITICAL = Severity.CRITICAL
MAJOR = Severity.MAJOR
MINOR = Severity.MINOR

#: Steps per generated sequence (after the standard cast is set up).
STEP_COUNT = 25
#: Requests that set up the standard cast (three accounts, two devices) before each sequence.
SETUP_REQUESTS = 5

ALICE, BOB, CAROL, DAVE = "alice", "bob", "carol", "dave"
STRANGER = "mallory"  # a party with no account at all
WIND, SOLAR, HYDRO = "DEV-WIND", "DEV-SOLAR", "DEV-HYDRO"
METERS = {WIND: "M-WIND", SOLAR: "M-SOLAR", HYDRO: "M-HYDRO"}
ISSUES_INTO = {WIND: "ACC-ALICE", SOLAR: "ACC-ALICE", HYDRO: "ACC-BOB"}
ISSUER_ACCOUNT = "ACC-ISSUER"
OTHER_ACTORS = [ISSUER_ID, ALICE, BOB, CAROL, STRANGER]
BENEFICIARIES = ["Acme", "Other Corp"]
#: A model bundle ID that never exists: requests naming an unknown bundle use it.
GHOST = 999_999

#: The policies whose value decides verdicts the machine provokes, by the rules that need them.
ALWAYS_NEEDED = ("capacity", "split_origin")
#: Policies the model knows but this machine never exercises (storage, configurations #2/#3).
NOT_EXERCISED = frozenset(
    {"allocation_method", "loss_method", "loss_convention", "monthly_cap", "hour_suspension"}
)

_ANNOTATION = re.compile(r"\s*\[reference bundle_id=(?P<id>.+)\]$")


# ====================================================================== which requirement a step is about


class Divergence(CheckFailed):
    """A divergence from the model, naming only the requirements the divergent step is about.

    The runner reports a failure under ``requirements`` (not under every
    requirement the check lists), so that a wrong split fails SPLIT-001, not
    the eighteen rules the machine exercises, and a SHOULD divergence fails
    no SHALL requirement.
    """


class CodeDivergence(CodeMismatch):
    """A refusal with another canonical code than the model's, naming the rule behind that code."""


#: Who may ask for each action (D2): the requirement a request by anyone else breaks.
AUTHORITY = {
    "transfer": "AUTH-001",
    "cancel": "AUTH-002",
    "claim": "AUTH-003",
    "reserve": "AUTH-004",
    "release": "AUTH-004",
    "withdraw": "AUTH-006",
    "submit_production": "AUTH-005",
    "issue_bundle": "AUTH-005",
    "open_account": "AUTH-007",
    "register_device": "AUTH-007",
    "expire": "VAL-007",
    "correct_production": "CORR-009",
    "query": "AUTH-008",
}
#: The requirement an accepted request of each action stands on (what a wrong refusal breaks).
ALLOWED_BY = {
    "transfer": ("XFER-002",),
    "cancel": ("CANC-001",),
    "claim": ("CLAIM-002",),
    "reserve": ("RES-001",),
    "release": ("RES-002",),
    "withdraw": ("AUTH-006",),
    "submit_production": ("PROD-007",),
    "issue_bundle": ("ISS-001",),
    "open_account": ("AUTH-007",),
    "register_device": ("DEV-001",),
    "query": ("IT-003",),
    "expire": ("VAL-002",),
    "correct_production": ("CORR-001",),
}
#: What the state after an accepted request of each action must show.
STATE_AFTER = {
    "transfer": ("XFER-001", "SPLIT-001", "SPLIT-002", "DC-002", "DC-003", "DC-007", "ID-001"),
    "cancel": ("CANC-001", "SPLIT-001", "SPLIT-002", "DC-003", "DC-004", "DC-007", "ID-001"),
    "claim": ("CLAIM-002", "SPLIT-001", "DC-005", "DC-006", "DC-007", "ID-001"),
    "reserve": ("RES-001", "DC-007", "ID-001"),
    "release": ("RES-002", "DC-007", "ID-001"),
    "withdraw": ("WDR-001", "SPLIT-001", "DC-007", "ID-002"),
    "submit_production": ("PROD-007", "ATTR-003", "DC-001", "DC-007"),
    "issue_bundle": ("ISS-001", "DC-001", "DC-007"),
    "open_account": ("AUTH-007",),
    "register_device": ("DEV-001",),
    "expire": ("VAL-002", "VAL-005", "VAL-006"),
    "correct_production": ("CORR-001", "CORR-006"),
}
#: A refusal code of the model -> the requirement(s) that make the registry refuse.
REFUSED_BY = {
    "INVALID_QUANTITY": ("QTY-001",),
    "QUANTITY_EXCEEDS_BUNDLE": ("QTY-002",),
    "DUPLICATE_ISSUANCE": ("DC-001",),
    "NOT_CANCELLED": ("CLAIM-001",),
    "ALREADY_CLAIMED": ("DC-005",),
    "BENEFICIARY_MISMATCH": ("DC-006",),
    "CERTIFICATE_EXPIRED": ("VAL-004",),
    "PRODUCTION_TOO_OLD": ("VAL-008",),
    "INVALID_TIMESTAMP": ("TIME-001",),
    "INTERVAL_TOO_LONG": ("TIME-002",),
    "INVALID_INTERVAL": ("TIME-003",),
    "INTERVAL_NOT_ENDED": ("PROD-006",),
    "INVALID_ENERGY": ("PROD-004",),
    "METER_MISMATCH": ("PROD-001",),
    "GROSS_NET_MISMATCH": ("PROD-003",),
    "UNKNOWN_DEVICE": ("PROD-002", "IT-004"),
    "UNKNOWN_BUNDLE": ("IT-004",),
    "UNKNOWN_ACCOUNT": ("XFER-005", "DEV-003", "IT-004"),
    "UNKNOWN_PRODUCTION": ("CORR-007",),
    "DUPLICATE_ACCOUNT": ("ROLE-003",),
    "ISSUER_MAY_NOT_HOLD": ("ROLE-001",),
    "DUPLICATE_DEVICE": ("DEV-002",),
    "DUPLICATE_METER_ID": ("DEV-004",),
    "STORAGE_CHARGE_NEEDS_SCR": ("CANC-003",),
    "RANGE_OVERLAP": ("ISS-003",),
    "RANGE_QUANTITY_MISMATCH": ("ISS-002",),
    "QUANTITY_EXCEEDS_PRODUCTION": ("ISS-004",),
    "ACCOUNT_MISMATCH": ("ISS-005",),
    "INVALID_FIELD": ("IT-004",),
    # SHOULD-level refusals: a registry that accepts these is not failed on a SHALL.
    "CAPACITY_EXCEEDED": ("PROD-005",),
    "SAME_ACCOUNT": ("XFER-004",),
    "NOT_RESERVED": ("RES-002",),
    "TIME_REVERSAL": ("IT-005",),
    "CORRECTION_UNCHANGED": ("CORR-008",),
}
#: Of the requirements above, those the standard states as SHOULD (see the catalogue).
SHOULD_LEVEL = frozenset({"PROD-005", "XFER-004", "RES-002", "IT-005", "CORR-008", "AUTH-008"})
#: BUNDLE_NOT_ACTIVE by what the bundle is: the rule that makes that state final.
_NOT_ACTIVE = {
    "SPLIT": ("DC-008",),
    "CANCELLED": ("DC-004", "XFER-003", "WDR-002"),
    "CLAIMED": ("DC-005", "XFER-003", "WDR-002"),
    "WITHDRAWN": ("WDR-001",),
    "RESERVED": ("RES-001",),
    "LOCKED": ("RES-001",),
    "EXPIRED": ("VAL-003",),
}
#: The invariant checker's findings -> the D4 obligations they evidence.
RISKS = {
    "DOUBLE_ISSUANCE": "DC-001",
    "DOUBLE_IN_TRANSFER": "DC-002",
    "DOUBLE_REGISTRATION": "DC-003",
    "DOUBLE_CANCELLATION": "DC-004",
    "DOUBLE_USE": "DC-005",
    "DOUBLE_DISCLOSURE": "DC-006",
    "CONSERVATION": "DC-007",
    "STATE_MISMATCH": "IT-002",
}


def refusal_requirements(
    action: str, code: str | None, status: str | None = None
) -> tuple[str, ...]:
    """The requirement(s) behind the model's refusal ``code`` of ``action``.

    ``status`` is the named bundle's status in the model (``"SPLIT"`` for a
    split parent), which decides which rule makes a bundle no longer usable.
    """
    if code in ("NOT_OWNER", "NOT_AUTHORISED", "ISSUER_MAY_NOT_TRADE"):
        return (AUTHORITY.get(action, "AUTH-001"),)
    if code == "BUNDLE_NOT_ACTIVE":
        found = _NOT_ACTIVE.get(status or "", ("DC-008", "XFER-003"))
        if action == "transfer":
            found = tuple(r for r in found if r != "WDR-002") or found
        return found
    if code == "QUANTITY_EXCEEDS_BUNDLE" and action == "claim":
        return ("QTY-002", "CLAIM-002")
    if code == "INVALID_FIELD" and action == "cancel":
        return ("CANC-002", "IT-004")
    return REFUSED_BY.get(str(code), ("IT-004",))


def is_should(requirements: Iterable[str]) -> bool:
    """Whether every requirement named is a SHOULD: a divergence there fails no SHALL."""
    found = list(requirements)
    return bool(found) and all(r in SHOULD_LEVEL for r in found)


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


def _text(value: Any) -> str:
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
            _text(b.get("device_id")),
            _text(b.get("production_starting_interval")),
            _text(b.get("production_ending_interval")),
            offset(start),
            offset(end),
            b["bundle_quantity"],
            _text(b.get("account_id")),
            _text(b.get("certificate_bundle_status")),
            _text(b.get("beneficiary")),
            _text(b.get("claimant")),
        )
        keyed[hkey(b["bundle_id"])] = (b["bundle_id"], key)
    return keyed


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
        _text(bundle.get("device_id")),
        _text(bundle.get("production_starting_interval")),
        _text(bundle.get("production_ending_interval")),
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
    return sorted(_text(a.get("account_id")) for a in state["accounts"])


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
    found = _ANNOTATION.search(text)
    if found is None:
        return text, None, False
    return text[: found.start()], json.loads(found.group("id")), True


# ====================================================================== the lock-step driver


def model_policies(capabilities: Capabilities) -> Policies:
    """The model's policies: the registry's declared values (NotApplicable when unusable).

    The machine provokes every decision those policies govern, so a registry
    that leaves one undeclared, or declares a value the model does not know,
    cannot be compared. That is never a pass: the double-counting rules this
    check verifies are owed whatever the registry declares, so the skip is
    ``NOT_VERIFIED`` (the run cannot be a plain PASS) and says what to declare.
    """
    declared = dict(capabilities.policies)
    lifecycle = {field for field in Policies().describe()}
    unknown = sorted(set(declared) - lifecycle - NOT_EXERCISED)
    if unknown:
        raise NotApplicable(
            f"the registry declares policies the reference model does not know: {unknown}; "
            "the differential check (D4 double counting, D2 authority, D5 splits) is not verified",
            kind=SkipKind.NOT_VERIFIED,
        )
    needed = list(ALWAYS_NEEDED)
    if capabilities.clock is Clock.CONTROLLED:
        needed.append("validity")
    undeclared = [name for name in needed if name not in declared]
    if undeclared:
        raise NotApplicable(
            "the differential check needs the registry's declared value of "
            f"{', '.join(undeclared)} (capabilities().policies), since its random requests "
            "reach every decision those policies govern; the double-counting (D4), authority "
            "(D2) and split (D5) rules it verifies are therefore not verified",
            kind=SkipKind.NOT_VERIFIED,
        )
    try:
        chosen = {k: v for k, v in declared.items() if k in lifecycle}
        # undeclared: the strict reading its validity declaration meant before the policy
        chosen.setdefault("own_hour_use", "NOT_EXEMPT")
        return Policies.from_plain(chosen)
    except InvalidInput as exc:
        raise NotApplicable(
            f"the reference model cannot take the declared policies: {exc}; "
            "the differential check's requirements are not verified",
            kind=SkipKind.NOT_VERIFIED,
        ) from None


def reference_setup() -> dict[str, Any]:
    """The reset the session gives the registry, for the model: configuration #1, same issuer."""
    return {
        "issuer": {"issuer_id": ISSUER_ID, "name": "Conformance Test Issuer", "domain": "NL"},
        "configuration": 1,
    }


class Lockstep:
    """Sends each request to the registry (through the session) and to the model, and compares.

    Requests are written in the model's bundle IDs; :meth:`step` translates
    them for the registry. ``on_code_mismatch`` is ``"raise"`` (fail at once)
    or ``"record"`` (collect a note in :attr:`notes`, one per kind).
    """

    def __init__(
        self, session: Session, model: RegistryAdapter, *, on_code_mismatch: str = "raise"
    ) -> None:
        self.s = session
        self.model = model
        self.on_code_mismatch = on_code_mismatch
        self.notes: dict[tuple[str, str, str], str] = {}
        self.failed = False
        self.model_to_registry: dict[Any, Any] = {}
        self.registry_to_model: dict[Hashable, Any] = {}
        #: Model IDs whose counterpart an answer or a unique match gave.
        self.certain: set[Any] = set()
        self.model_state: dict[str, list[dict[str, Any]]] = {"accounts": [], "bundles": []}
        self.registry_state: dict[str, list[dict[str, Any]]] = {"accounts": [], "bundles": []}
        self.model_keys: dict[Hashable, tuple[Any, Key]] = {}
        self.registry_keys: dict[Hashable, tuple[Any, Key]] = {}
        self.model_keys_fresh = False  # False while a step skipped observing the model
        self.issuances = True  # whether the registry names every bundle's issuance
        self.trail: list[dict[str, Any]] = []  # this sequence's requests, in the model's IDs
        #: Each request's bundle, described canonically, and whether its holder was the actor.
        self.trail_keys: list[tuple[Key, bool] | None] = []
        #: SHOULD-level divergences seen (the registry read a SHOULD otherwise), one per kind:
        #: reported under the SHOULD requirement only, after every SHALL was still checked.
        self.should: dict[tuple[str, str, str], tuple[str, tuple[str, ...]]] = {}
        self.policies: Policies = getattr(model, "policies", None) or Policies()
        self._declared_policies = self.policies
        #: Trail positions the model leaves out (a valid request the registry refused under a
        #: SHOULD it reads otherwise: the model follows the registry, which stayed unchanged).
        self.dropped: set[int] = set()
        #: Set when the registry split a bundle in place on a partial transfer into its own
        #: account (a SHOULD divergence the model cannot follow): the rest of the sequence is
        #: not sent, after every SHALL about the state that followed was checked.
        self.parted: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Empty both registries and forget the previous sequence (its steps included)."""
        self.s.steps.clear()
        self.s.now = self.s.epoch + _dt.timedelta(days=1)
        self.s.reset()
        self.model.reset(reference_setup())
        self.failed = False
        self.trail.clear()
        self.trail_keys.clear()
        self.model_to_registry.clear()
        self.registry_to_model.clear()
        self.certain.clear()
        self.dropped.clear()
        self.parted = None
        if self.policies != self._declared_policies:
            self._rebuild_model(self._declared_policies)
        self._observe()

    def setup_cast(self) -> None:
        """The standard cast of :meth:`Session.world`, through the lock-step."""
        for holder in (ALICE, BOB, CAROL):
            account = f"ACC-{holder.upper()}"
            self.step(
                "open_account",
                ISSUER_ID,
                compare=False,
                account={"account_id": account, "holder_id": holder, "account_name": holder},
            )
        for device, capacity, source in ((WIND, 5_000_000, "wind"), (SOLAR, 1_000, "solar")):
            self.step(
                "register_device",
                ISSUER_ID,
                compare=device == SOLAR,  # the last step of the setup compares the states
                device=device_record(device, METERS[device], ISSUES_INTO[device], capacity, source),
            )

    def fail(
        self,
        message: str,
        *,
        expected: str,
        observed: str,
        requirements: tuple[str, ...],
        severity: Severity = MAJOR,
        kind: FailureKind = FailureKind.WRONG_STATE,
    ) -> CheckFailed:
        self.failed = True
        number = len(self.s.steps)
        return Divergence(
            f"step {number}: {message} (differential, seed {self.s.seed})",
            expected=expected,
            observed=observed,
            severity=severity,
            requirements=requirements,
            kind=kind,
        )

    # ------------------------------------------------------------------ SHOULD divergences

    def _rebuild_model(self, policies: Policies) -> Mapping[str, Any] | None:
        """A fresh model under ``policies``, sent the trail so far (leaving out the dropped);
        the model's raw answer to the last request sent."""
        self.model = type(self.model)(policies)  # type: ignore[call-arg]
        self.policies = policies
        self.model.reset(reference_setup())
        last: Mapping[str, Any] | None = None
        for position, request in enumerate(self.trail):
            if position not in self.dropped:
                last = self.model.execute(request)
        self.model_keys_fresh = False
        return last

    def _should_divergence(
        self, action: str, model: Answer, registry: Answer, status: str | None
    ) -> Answer | None:
        """Handle a verdict that differs from the model's only on a SHOULD; the model's new answer.

        When the registry accepts what the model refuses by a SHOULD (a
        reading above nameplate capacity, a transfer into the holding account,
        a release of an active bundle, ...), or refuses a valid request the
        standard asks for only as a SHOULD (a release), the divergence is
        recorded under that SHOULD and the machine carries on, still checking
        every SHALL about the state that follows: under a policy the registry
        evidently applies (capacity not checked) the model is rebuilt with that
        policy and decides again; otherwise the model keeps its answer and the
        registry's state must show the same (the accepted no-op changed nothing
        a SHALL protects). None when the divergence is not of this kind.
        """
        if model.accepted == registry.accepted:
            return None
        if registry.accepted:
            requirements = refusal_requirements(action, model.code, status)
            if action == "query" and model.code == "NOT_OWNER":
                requirements = ("AUTH-008",)
        else:
            requirements = ALLOWED_BY.get(action, ())
        if not is_should(requirements):
            return None
        kind = (action, str(model.code), "accepted" if registry.accepted else "refused")
        what = (
            f"{action}: the registry accepts what the model refuses with {model.code} "
            f"({model.message})"
            if registry.accepted
            else f"{action}: the registry refuses ({registry.code}: {registry.message}) what the "
            "model accepts"
        )
        self.should.setdefault(kind, (f"step {len(self.s.steps)}, seed {self.s.seed}: {what}",
                                      requirements))  # fmt: skip
        if registry.accepted and model.code == "CAPACITY_EXCEEDED":
            from gc_conformance.reference.policies import CapacityPlausibility

            permissive = attrs.evolve(self.policies, capacity=CapacityPlausibility.DISABLED)
            return read_answer(self.model, self._rebuild_model(permissive))
        if not registry.accepted:
            self.dropped.add(len(self.trail) - 1)
            self._rebuild_model(self.policies)
            return registry  # the model now refuses it too: nothing changed on either side
        return model

    # ------------------------------------------------------------------ one step

    def registry_id(self, model_id: Any) -> Any:
        """The registry's ID for a model bundle ID; an ID neither has stays unknown on both sides."""
        if model_id in self.model_to_registry:
            return self.model_to_registry[model_id]
        known = list(self.registry_to_model)
        if any(k[0] == "str" for k in known if isinstance(k, tuple)):
            return f"NO-SUCH-BUNDLE-{model_id}"
        if hkey(model_id) not in self.registry_to_model:
            return model_id
        taken = [k[1] for k in known if isinstance(k, tuple) and k[0] == "int"]
        return max(taken) + 1_000_000

    def step(
        self, action: str, actor: str, *, compare: bool = True, **fields: Any
    ) -> tuple[Answer, Answer]:
        """Send one request (``fields`` in model IDs) to both; fail on any divergence.

        ``compare=False`` compares the verdicts only (the cast's setup, whose
        state is compared once it is complete). A failure names only the
        requirements the divergent step is about (see :class:`Divergence`).
        """
        request = {"action": action, "actor": actor, "now": stamp(self.s.now), **fields}
        self.trail.append(request)
        if not self.model_keys_fresh:
            self._observe_model()
        named = self.model_keys.get(hkey(fields["bundle_id"])) if "bundle_id" in fields else None
        by_holder = named is not None and self.holders().get(named[1][6]) == actor
        self.trail_keys.append(None if named is None else (named[1], by_holder))
        status = named[1][7] if named is not None else None
        if (
            named is None
            and "bundle_id" in fields
            and fields["bundle_id"] in self.model_to_registry
        ):
            status = "SPLIT"  # a bundle that was current once: a split parent
        model_answer = read_answer(self.model, self.model.execute(request))
        sent = dict(fields)
        if "bundle_id" in sent:
            sent["bundle_id"] = self.registry_id(sent["bundle_id"])
        expectation = expectation_text(model_answer, fields)
        before_model = self.model_state
        try:
            answer = self.s.send(action, actor, expectation=expectation, **sent)
        except AdapterError:
            self.failed = True
            self._after_adapter_failure(before_model)
            raise
        should_answer = self._should_divergence(action, model_answer, answer, status)
        accepted_noop = False
        if should_answer is not None:
            accepted_noop = answer.accepted and not should_answer.accepted
            model_answer = should_answer
        if not accepted_noop:  # the model decided again under the registry's reading: compare
            self._compare_verdicts(action, model_answer, answer, status, actor=actor)
        if action == "query":
            if answer.accepted and model_answer.accepted:
                self._compare_query(model_answer, answer)
            return model_answer, answer
        if model_answer.accepted:
            self.model_keys_fresh = False
        if not compare:
            return model_answer, answer
        # The model's refusals change nothing (its own tests hold it to that): observe it only
        # when it accepted. The registry is observed after every write, refused ones included.
        self._observe(model=not self.model_keys_fresh)
        expected, observed = state_difference(self.model_state, self.registry_state)
        if (expected or observed) and self._split_in_place(action, fields, accepted_noop):
            return model_answer, answer
        if expected or observed:
            if model_answer.accepted:
                what = f"after the accepted {action}, the registry's state differs from the model's"
                requirements = STATE_AFTER.get(action, ("IT-002",))
            elif accepted_noop:
                what = (
                    f"the {action} the registry accepted (where the model refuses it by a SHOULD "
                    "only) changed certificates it must leave as they are"
                )
                requirements = ("XFER-001", "DC-007") if action == "transfer" else ("DC-007",)
            else:
                what = f"the refused {action} changed the registry's state (it must be atomic)"
                requirements = ("IT-001",)
            raise self.fail(
                f"{what} (bundles compared by issuance, offset, quantity, account, status)",
                expected=expected,
                observed=observed,
                severity=CRITICAL,
                requirements=requirements,
                kind=FailureKind.WRONG_STATE
                if accepted_noop
                else FailureKind.CHANGED_AFTER_REFUSAL,
            )
        if model_answer.accepted:
            self._pair_named(action, model_answer.result, answer.result)
            self.check_history(self.registry_state)
        elif accepted_noop:
            self.check_history(self.registry_state)
        self._match_the_rest()
        return model_answer, answer

    def _split_in_place(self, action: str, fields: Mapping[str, Any], accepted_noop: bool) -> bool:
        """Whether a partial transfer into the holding account, which the registry accepted
        (XFER-004 is a SHOULD) and the model refused, split the bundle in place and did
        nothing else: every certificate still in the same account, status and issuance, none
        gained or lost (XFER-001, DC-007). Then the model, which cannot split in place, and the
        registry part ways: the rest of this sequence is not sent (:attr:`parted`)."""
        if not (accepted_noop and action == "transfer" and fields.get("quantity") is not None):
            return False
        model = merged_in_place(k for _, k in self.model_keys.values())
        registry = merged_in_place(k for _, k in self.registry_keys.values())
        if model != registry:
            return False
        self.check_history(self.registry_state)
        self.parted = f"step {len(self.s.steps)}: a partial transfer into the holding account split"
        return True

    def _after_adapter_failure(self, before_model: Mapping[str, Any]) -> None:
        """A request the adapter failed on must have changed nothing (IT-001); else *error*."""
        try:
            after = self.s.observe()
        except AdapterError:
            return
        expected, observed = state_difference(before_model, after)
        if expected or observed:
            raise self.fail(
                "a request that failed in the adapter changed the registry's state "
                "(a refused or failed operation must be atomic)",
                expected=f"state unchanged: {expected or 'as before'}",
                observed=observed or "changed",
                severity=CRITICAL,
                requirements=("IT-001",),
                kind=FailureKind.CHANGED_AFTER_REFUSAL,
            ) from None

    def _compare_verdicts(
        self,
        action: str,
        model: Answer,
        registry: Answer,
        status: str | None = None,
        *,
        actor: str | None = None,
    ) -> None:
        if model.accepted and not registry.accepted:
            raise self.fail(
                f"the registry refused a {action} the reference model accepts",
                expected=f"accepted {dict(model.result)}",
                observed=f"rejected {registry.code}: {registry.message}",
                severity=MAJOR,
                requirements=ALLOWED_BY.get(action, ("IT-004",)),
                kind=FailureKind.WRONG_VERDICT,
            )
        if registry.accepted and not model.accepted:
            raise self.fail(
                f"the registry accepted a {action} the reference model refuses",
                expected=f"rejected {model.code}: {model.message}",
                observed=f"accepted {dict(registry.result)}",
                severity=CRITICAL if action != "query" else MAJOR,
                requirements=refusal_requirements(action, model.code, status),
                kind=FailureKind.WRONG_VERDICT,
            )
        if not model.accepted and registry.code != model.code:
            if actor == STRANGER and registry.code == "NOT_AUTHORISED":
                # A party the registry never heard of cannot authenticate: a registry with
                # credentials refuses it before it looks at the bundle (the model has no
                # credentials, so it names the next fault). Both refusals are right; no
                # clause orders the two.
                return
            kind = (action, str(model.code), str(registry.code))
            if self.on_code_mismatch == "raise":
                self.failed = True
                raise CodeDivergence(
                    f"step {len(self.s.steps)}: {action} was refused, but with another canonical "
                    f"code than the reference model's (differential, seed {self.s.seed})",
                    expected=f"rejected {model.code}: {model.message}",
                    observed=f"rejected {registry.code}: {registry.message}",
                    severity=MINOR,
                    requirements=refusal_requirements(action, model.code, status),
                )
            self.notes.setdefault(
                kind, f"{action}: the model refuses with {model.code}, the registry with "
                f"{registry.code} ({model.message})",
            )  # fmt: skip

    def _compare_query(self, model: Answer, registry: Answer) -> None:
        """A query returns the same bundles (compared by their canonical descriptions)."""
        want = self._query_keys(model.result, self.model_keys)
        have = self._query_keys(registry.result, self.registry_keys)
        if want is None or have is None or Counter(want) != Counter(have):
            raise self.fail(
                "the registry's query answer differs from the reference model's",
                expected="; ".join(sorted(describe_key(k) for k in want or [])) or "no bundles",
                observed="unreadable answer (no 'bundles' list of current bundles)"
                if have is None
                else "; ".join(sorted(describe_key(k) for k in have)) or "no bundles",
                requirements=("IT-003",),
            )

    @staticmethod
    def _query_keys(
        result: Mapping[str, Any], keys: Mapping[Hashable, tuple[Any, Key]]
    ) -> list[Key] | None:
        listed = result.get("bundles")
        if not isinstance(listed, list):
            return None
        found = []
        for item in listed:
            if not isinstance(item, Mapping) or hkey(item.get("bundle_id")) not in keys:
                return None
            found.append(keys[hkey(item.get("bundle_id"))][1])
        return found

    # ------------------------------------------------------------------ state and IDs

    def _observe_model(self) -> None:
        self.model_state = read_state(self.model.observe())
        self.model_keys = bundle_keys(self.model_state, self.issuances)
        self.model_keys_fresh = True

    def _observe(self, *, model: bool = True) -> None:
        """Observe the registry (and the model); both described alike (see :func:`bundle_keys`)."""
        self.registry_state = self.s.observe()
        issuances = by_issuance(self.registry_state)
        if issuances != self.issuances:
            self.issuances = issuances
            self.model_keys = bundle_keys(self.model_state, issuances)
        if model:
            self._observe_model()
        self.registry_keys = bundle_keys(self.registry_state, issuances)

    def _link(self, model_id: Any, registry_id: Any, *, certain: bool) -> None:
        old = self.model_to_registry.get(model_id)
        if old is not None:
            self.registry_to_model.pop(hkey(old), None)
        self.model_to_registry[model_id] = registry_id
        self.registry_to_model[hkey(registry_id)] = model_id
        if certain:
            self.certain.add(model_id)
        else:
            self.certain.discard(model_id)

    def _pair_named(
        self, action: str, model: Mapping[str, Any], registry: Mapping[str, Any]
    ) -> None:
        """Bundles both answers name (IT-002: an answer names the bundle the state shows)."""
        for model_id, registry_id, field in named_pairs(model, registry):
            in_model = self.model_keys.get(hkey(model_id))
            in_registry = self.registry_keys.get(hkey(registry_id))
            if in_model is not None and (in_registry is None or in_registry[1] != in_model[1]):
                raise self.fail(
                    f"the {action} answer's {field} names a bundle the registry's state does "
                    "not show as the reference model shows its counterpart",
                    expected=f"{field} naming a bundle that is {describe_key(in_model[1])}",
                    observed=f"{field}={registry_id!r}: "
                    + (describe_key(in_registry[1]) if in_registry else "no such current bundle"),
                    severity=MAJOR,
                    requirements=("IT-002",),
                )
            self._link(model_id, registry_id, certain=True)

    def _match_the_rest(self) -> None:
        """Pair every current bundle: keep consistent pairs, match the others by description."""
        unmatched_model: dict[Key, list[Any]] = {}
        paired_registry: set[Hashable] = set()
        for _, (model_id, key) in sorted(self.model_keys.items(), key=_order):
            registry_id = self.model_to_registry.get(model_id)
            current = None if registry_id is None else self.registry_keys.get(hkey(registry_id))
            if current is not None and current[1] == key:
                paired_registry.add(hkey(registry_id))
                continue
            if registry_id is not None and model_id in self.certain:
                raise self.fail(
                    "a bundle the registry named for an earlier request no longer matches its "
                    "counterpart in the reference model",
                    expected=describe_key(key),
                    observed=f"bundle {registry_id!r}: "
                    + (describe_key(current[1]) if current else "no such current bundle"),
                    severity=CRITICAL,
                    requirements=("IT-002", "ID-001", "DC-007"),
                )
            unmatched_model.setdefault(key, []).append(model_id)
        unmatched_registry: dict[Key, list[Any]] = {}
        for registry_hkey, (registry_id, key) in sorted(self.registry_keys.items(), key=_order):
            if registry_hkey not in paired_registry:
                unmatched_registry.setdefault(key, []).append(registry_id)
        for key, model_ids in unmatched_model.items():
            registry_ids = unmatched_registry.get(key, [])
            unique = len(model_ids) == 1 and len(registry_ids) == 1
            for model_id, registry_id in zip(model_ids, registry_ids, strict=False):
                self._link(model_id, registry_id, certain=unique)

    def run_sequence(
        self,
        requests: Iterable[Mapping[str, Any]],
        after: Callable[[int, Answer], None] | None = None,
    ) -> None:
        """Start afresh and send ``requests`` (model IDs, each with its ``now``) in lock-step.

        Raises at the first divergence, like :meth:`step`; ``after(number,
        model_answer)`` is called after each step that did not diverge.
        """
        self.start()
        for number, request in enumerate(requests, 1):
            if self.parted is not None:
                break  # as in the run: nothing is sent once the model cannot follow
            self.s.now = _dt.datetime.strptime(str(request["now"]), STAMP).replace(tzinfo=_dt.UTC)
            fields = {k: v for k, v in request.items() if k not in ("action", "actor", "now")}
            model_answer, _ = self.step(str(request["action"]), str(request["actor"]), **fields)
            if after is not None:
                after(number, model_answer)
        self.check_history()

    # ------------------------------------------------------------------ what rules read

    def model_bundles(self) -> list[dict[str, Any]]:
        return self.model_state["bundles"]

    def holders(self) -> dict[str, str]:
        return {
            _text(a.get("account_id")): _text(a.get("holder_id"))
            for a in self.model_state["accounts"]
        }

    def ever_seen(self) -> list[Any]:
        """Every model bundle ID that was ever current after a step (split parents included)."""
        return sorted(self.model_to_registry, key=repr)

    def next_free_certificate(self) -> tuple[int, bool]:
        """One past the highest certificate ID either registry shows, and whether both agree."""
        model = max([b["certificate_bundle_id_range_end"] for b in self.model_bundles()] + [0])
        registry = max(
            [b["certificate_bundle_id_range_end"] for b in self.registry_state["bundles"]] + [0]
        )
        return max(model, registry) + 1, model == registry

    # ------------------------------------------------------------------ after a sequence

    def check_history(self, state: Mapping[str, Any] | None = None) -> None:
        """A registry that exposes ``history()`` must show no double counting in it.

        Run after every accepted write, so that a finding fails the step that
        caused it (and Hypothesis shrinks towards that step), and once more at
        the end of a sequence against a fresh observation.
        """
        history = getattr(self.s.adapter, "history", None)
        if not callable(history):
            return
        try:
            plain_history = history()
            plain_state = self.s.adapter.observe() if state is None else state
        except Exception as exc:
            raise AdapterError(len(self.s.steps), f"history() failed: {exc!r}") from exc
        report = check_invariants(plain_history, plain_state)
        if not report.ok:
            findings = [f.to_plain() for f in report.findings]
            risks = sorted({str(f.get("risk", "")).rsplit(".", 1)[-1] for f in findings})
            raise self.fail(
                "the registry's own action history shows double counting "
                "(reference invariant checker)",
                expected="no findings",
                observed="; ".join(f"{f.get('risk')}: {f.get('message')}" for f in findings[:5]),
                severity=CRITICAL,
                requirements=tuple(sorted({RISKS.get(r, "DC-007") for r in risks})),
                kind=FailureKind.CONSERVATION,
            )


def _order(item: tuple[Hashable, tuple[Any, Key]]) -> tuple[Key, str]:
    return item[1][1], repr(item[1][0])


def named_pairs(
    model: Mapping[str, Any], registry: Mapping[str, Any], prefix: str = ""
) -> Iterable[tuple[Any, Any, str]]:
    for field in ("bundle_id", "remainder_id"):
        m, r = model.get(field), registry.get(field)
        if m is not None and r is not None:
            yield m, r, prefix + field
    m_issued, r_issued = model.get("issued"), registry.get("issued")
    if isinstance(m_issued, Mapping) and isinstance(r_issued, Mapping):
        yield from named_pairs(m_issued, r_issued, "issued.")


# ====================================================================== the state machine

VALID = "valid"
#: Most requests are meant to be accepted; the others carry exactly one deliberate fault, so
#: that the expected refusal (and its code) is the standard's answer to that one fault.
_VALID_WEIGHT = 5

#: Readings in whole Wh (see "What the machine leaves out"), some above what the small solar
#: device can produce in less than an hour. A few values shrink and read better than a range.
_GOOD_ENERGIES = ["10", "1", "2", "3", "7", "100", "250", "501", "900"]
_BAD_ENERGIES = ["-1", "NaN", "abc", "", "1e400x", "2.5.1"]
_HOURS = [*range(24), -1, -2]  # of the production day (and of the day before)
#: Statuses from which a bundle is no longer live: acting on it is refused whatever is asked.
_ENDED = ("CANCELLED", "CLAIMED", "WITHDRAWN", "EXPIRED")


def _newest_first(bundle_id: Any) -> tuple[int, Any]:
    """Sort key: the model's (integer, increasing) bundle IDs, highest first."""
    return (0, -bundle_id) if isinstance(bundle_id, int) else (1, repr(bundle_id))


class DifferentialMachine(RuleBasedStateMachine):
    """Random request sequences, applied to the registry and the model through :class:`Lockstep`.

    One rule, :meth:`act`, draws an operation from a weighted list built
    from the registry's capabilities (a profile's operations only when it is
    claimed, issuance in the styles offered, the clock moved only when it can
    be) and carries it out. Operations read the *model's* state to choose
    bundles, actors and quantities, so every sequence is meaningful whatever
    the registry under test does. Each request is either meant to be accepted
    or carries one deliberate fault whose refusal a SHALL of the catalogue
    requires: a stranger acting (AUTH-*), a bad quantity (QTY-*), a split
    parent or an ended bundle (DC-008, XFER-003, WDR-*), a second reading for
    an hour (DC-001), a malformed or implausible reading (PROD-*, TIME-*), ...

    What the machine leaves out, and why: behaviour the standard leaves open
    and no declared policy settles, where the model's reading would be held
    against a registry that reads the standard otherwise. Fractional readings
    (the model carries sub-Wh remainders from one reading of a device to the
    next; rounding each reading alone is a defensible reading too, and
    ``core.rounding.face_value_follows_policy`` judges rounding on first
    readings), readings of 0 Wh (refusing or accepting them are both
    right), downward corrections (which certificates are withdrawn and how a
    deduction is settled are readings of D10 beyond ``correction_deduction``),
    partial reservations, issuer locks and the issuer's own accounts (D2
    allows them, does not require them), queries of
    others' accounts (AUTH-008 is a SHOULD), and claims, withdrawals or
    releases of bundles past their validity but not yet swept (VAL-004 names
    transfer, cancellation and reservation only).

    SHOULD-level refusals (a whole or partial transfer into the holding
    account, a release of an active bundle, a reading above nameplate
    capacity) *are* sent: a registry that reads them otherwise is reported
    under that SHOULD only, and the machine carries on, checking every SHALL
    about the state that follows (see :meth:`Lockstep._should_divergence`).
    A registry that accepts a *partial* transfer into the holding account may
    split the bundle in place (the standard does not say it may not): the
    state is then judged up to that split (same certificates, account, status
    and quantity: XFER-001, DC-007) and, the model unable to follow, the rest
    of that sequence is not sent.
    """

    def __init__(self, lock: Lockstep) -> None:
        super().__init__()
        self.lock = lock
        caps = lock.s.capabilities
        self.controlled = caps.clock is Clock.CONTROLLED
        self.from_data = IssuanceStyle.PRODUCTION_DATA in caps.issuance_styles
        issuer_created = (
            Profile.ISSUER_CREATED in caps.profiles
            and IssuanceStyle.ISSUER_CREATED in caps.issuance_styles
        )
        # Issuance first: Hypothesis favours the first choice, and sequences need certificates.
        weights: dict[str, int] = {
            "submit_production": 4 if self.from_data else 0,
            "issue_bundle": (2 if self.from_data else 5) if issuer_created else 0,
            "transfer": 4,
            "cancel": 3,
            "claim": 3,
            "reserve": 2,
            "release": 1,
            "withdraw": 2,
            "query": 1,
            "open_account": 1,
            "register_device": 1,
            "resubmit_production": 1 if self.from_data else 0,
            "correct_production": 1 if Profile.ERROR_CORRECTION in caps.profiles else 0,
            "advance_clock": 1 if self.controlled else 0,
            "expire": 1 if self.controlled and Profile.EXPIRY in caps.profiles else 0,
        }
        # An action the registry does not offer (capabilities()["actions"]) is left out of the
        # sequences instead of skipping the whole comparison: a registry without reserve and
        # release is still held to every double-counting rule through the other actions.
        sent_as = {"resubmit_production": "submit_production", "advance_clock": None}
        for name in weights:
            action = sent_as.get(name, name)
            if action is not None and weights[name] and not lock.s.optional(action):
                weights[name] = 0
        self.operations = [name for name, weight in weights.items() for _ in range(weight)]
        self.produced: list[tuple[str, str, str, str]] = []  # device, start, end, energy
        self.devices = [WIND, SOLAR]
        lock.start()
        lock.setup_cast()

    def teardown(self) -> None:
        if not self.lock.failed:
            self.lock.check_history()

    @initialize(data=st.data())
    def first_issuance(self, data: st.DataObject) -> None:
        """Every sequence starts with certificates to act on."""
        start, end = self.interval(self.draw(data, list(range(24)), "hour"))
        energy = self.draw(data, ["10", "1", "2", "3", "100", "900"], "energy")
        if self.from_data:
            self.issue("submit_production", self.production(WIND, start, end, energy))
        else:
            self.issue("issue_bundle", self.asserted(WIND, start, end, energy, int(energy)))

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        operation = self.draw(data, self.operations, "operation")
        getattr(self, operation)(data)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def draw(data: st.DataObject, choices: list[Any], label: str) -> Any:
        return data.draw(st.sampled_from(choices), label=label)

    def fault(self, data: st.DataObject, *names: str) -> str:
        """``valid`` mostly, else one of ``names``: the request's one deliberate fault."""
        return str(self.draw(data, [VALID] * _VALID_WEIGHT + list(names), "fault"))

    def send(self, action: str, actor: str, **fields: Any) -> Answer:
        if self.lock.parted is not None:  # the model cannot follow the registry any further
            return Answer(False, code="NOT_SENT", message=self.lock.parted)
        return self.lock.step(action, actor, **fields)[0]

    def interval(self, hour: int, minutes: int = 60) -> tuple[str, str]:
        """``minutes`` from hour ``hour`` of the day before the clock's day (the production day).

        Production follows the clock, so that issuance stays possible after the
        clock has moved past the validity of earlier certificates.
        """
        today = self.lock.s.now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - _dt.timedelta(days=1) + _dt.timedelta(hours=hour)
        return stamp(start), stamp(start + _dt.timedelta(minutes=minutes))

    def still_valid(self, record: Mapping[str, Any]) -> bool:
        """Whether the bundle's validity (under the declared policy) has not ended at ``now``."""
        policies = getattr(self.lock.model, "policies", None)
        end = record.get("production_ending_interval")
        if not isinstance(policies, Policies) or not isinstance(end, str):
            return True
        ended = _dt.datetime.strptime(end, STAMP).replace(tzinfo=_dt.UTC)
        return self.lock.s.now < policies.own_hour_use.bounds(policies.validity, ended)[0]

    def pick_bundle(
        self,
        data: st.DataObject,
        fault: str,
        prefer: tuple[str, ...] = ("ACTIVE",),
        *,
        valid_only: bool = False,
        wrong: tuple[str, ...] = ("ACTIVE", "RESERVED", "LOCKED", *_ENDED),
    ) -> tuple[Any, dict[str, Any] | None]:
        """A current bundle of a ``prefer`` status; under the ``bundle`` fault, one of a
        ``wrong`` status or a split parent; under ``ghost``, one that never existed.

        ``valid_only`` leaves out bundles past their validity that the sweep has
        not marked ``EXPIRED`` (see the class docstring).
        """
        if fault == "ghost":
            return GHOST, None
        # Newest first: the first choice, which Hypothesis favours, is the latest bundle.
        current = sorted(self.lock.model_bundles(), key=lambda b: _newest_first(b["bundle_id"]))
        if valid_only:
            current = [
                b
                for b in current
                if b["certificate_bundle_status"] == "EXPIRED" or self.still_valid(b)
            ]
        if fault == "bundle":
            wanted, extra = wrong, [b for b in self.lock.ever_seen() if b not in self.current_ids()]
        else:
            wanted, extra = prefer, []
        choices = [b["bundle_id"] for b in current if b["certificate_bundle_status"] in wanted]
        choices += sorted(extra, key=_newest_first)
        if not choices:
            return GHOST, None
        chosen = self.draw(data, choices, "bundle")
        record = next((b for b in current if b["bundle_id"] == chosen), None)
        return chosen, record

    def current_ids(self) -> set[Any]:
        return {b["bundle_id"] for b in self.lock.model_bundles()}

    def pick_actor(
        self,
        data: st.DataObject,
        fault: str,
        record: Mapping[str, Any] | None,
        others: tuple[str, ...] = tuple(OTHER_ACTORS),
    ) -> str:
        """The holder of the bundle; under the ``actor`` fault, one of ``others``."""
        holder = ALICE
        if record is not None:
            holder = self.lock.holders().get(_text(record.get("account_id")), ALICE)
        if fault != "actor":
            return holder
        return str(self.draw(data, [a for a in others if a != holder] or [STRANGER], "actor"))

    def quantity(self, data: st.DataObject, fault: str, record: Mapping[str, Any] | None) -> Any:
        """None (the whole bundle) or a part of it; under the ``quantity`` fault, a bad one."""
        held = 0 if record is None else int(record["bundle_quantity"])
        if fault == "quantity":
            bad = {"zero": 0, "negative": -1 - held // 3, "fraction": 2.5, "too many": held + 1}
            return bad[self.draw(data, ["zero", *bad], "bad quantity")]
        kind = self.draw(data, ["whole", "whole", "part", "part", "one", "all"], "quantity")
        if kind == "part" and held > 2:
            parts = sorted({1, 2, held // 3, held // 2, held - 1} - {0, held})
            return self.draw(data, parts, "part")
        return {"whole": None, "part": None, "one": 1, "all": max(1, held)}[kind]

    @staticmethod
    def with_quantity(quantity: Any, **fields: Any) -> dict[str, Any]:
        if quantity is not None:
            fields["quantity"] = quantity
        return fields

    def issue(self, action: str, fields: dict[str, Any]) -> None:
        answer = self.send(action, str(fields.pop("actor")), **fields)
        if answer.accepted:
            reading = (fields["device_id"], fields["start"], fields["end"], fields["energy_wh"])
            self.produced.append(reading)

    def production(self, device: str, start: str, end: str, energy: str) -> dict[str, Any]:
        return {"actor": ISSUER_ID, "device_id": device, "meter_id": METERS.get(device, "M-NOPE"),
                "start": start, "end": end, "energy_wh": energy}  # fmt: skip

    def asserted(
        self, device: str, start: str, end: str, energy: str, quantity: int, overlap: int = 0
    ) -> dict[str, Any]:
        """An issuer-created bundle from the next free certificate ID (``overlap`` IDs back)."""
        first, agree = self.lock.next_free_certificate()
        # Overlaps are provoked only while both registries have issued the same IDs.
        first -= overlap if agree else 0
        return {"actor": ISSUER_ID, "device_id": device,
                "account_id": ISSUES_INTO.get(device, "ACC-ALICE"), "start": start, "end": end,
                "range_start": first, "range_end": first + quantity - 1, "quantity": quantity,
                "energy_wh": energy}  # fmt: skip

    # ------------------------------------------------------------------ issuance

    def submit_production(self, data: st.DataObject) -> None:
        fault = self.fault(data, "meter", "gross", "61 minutes", "no time", "future",
                           "unknown device", "not issuer", "bad energy", "too much")  # fmt: skip
        device = self.draw(data, self.devices, "device")
        hour = self.draw(data, _HOURS, "hour")
        minutes = self.draw(data, [60, 60, 60, 30, 15], "minutes")
        if fault == "future" and self.controlled:
            hour = 24 + self.lock.s.now.hour  # from the clock's own hour: not ended yet
        start, end = self.interval(hour, {"61 minutes": 61, "no time": 0}.get(fault, minutes))
        energy = self.draw(data, _GOOD_ENERGIES, "energy")
        if fault == "bad energy":
            energy = self.draw(data, _BAD_ENERGIES, "bad energy")
        if fault == "too much":
            energy = "6000000"  # above even the wind park's 5 MW for an hour
        named = "DEV-NOPE" if fault == "unknown device" else device
        fields = self.production(named, start, end, energy)
        if fault == "meter":
            fields["meter_id"] = METERS[SOLAR if device != SOLAR else WIND]
        if fault == "gross":
            fields["gross_or_net"] = "GROSS"
        if fault == "not issuer":
            fields["actor"] = self.draw(data, [ALICE, STRANGER], "actor")
        self.issue("submit_production", fields)

    def resubmit_production(self, data: st.DataObject) -> None:
        """D4 double issuance: the same reading again, or another value for the same interval."""
        if not self.produced:
            return self.submit_production(data)
        device, start, end, first = self.draw(data, self.produced, "reading")
        energy = self.draw(data, [first, *_GOOD_ENERGIES], "energy")
        fields = self.production(device, start, end, energy)
        self.send("submit_production", str(fields.pop("actor")), **fields)
        return None

    def issue_bundle(self, data: st.DataObject) -> None:
        fault = self.fault(data, "overlap", "range length", "more than produced", "zero",
                           "other account", "not issuer", "bad energy")  # fmt: skip
        device = self.draw(data, self.devices, "device")
        start, end = self.interval(self.draw(data, _HOURS, "hour"))
        energy = int(self.draw(data, _GOOD_ENERGIES, "energy"))
        quantity = {"more than produced": energy + 1, "zero": 0}.get(fault, energy)
        overlap = self.draw(data, [1, 2, 3], "overlap") if fault == "overlap" else 0
        text = (
            self.draw(data, _BAD_ENERGIES, "bad energy") if fault == "bad energy" else str(energy)
        )
        fields = self.asserted(device, start, end, text, quantity, overlap)
        if fault == "range length":
            fields["range_end"] += 1
        if fault == "other account":
            fields["account_id"] = "ACC-CAROL"
        if fault == "not issuer":
            fields["actor"] = ALICE
        self.issue("issue_bundle", fields)

    def correct_production(self, data: st.DataObject) -> None:
        """D10: a higher corrected reading for issued production (see the class docstring)."""
        fault = self.fault(data, "never produced", "not issuer", "bad energy", "unchanged")
        if fault == "never produced" or not self.produced:
            device, start, end, first = (WIND, *self.interval(23, 30), "1")
        else:
            device, start, end, first = self.draw(data, self.produced, "reading")
        energy = str(int(first) + int(self.draw(data, [1, 10, 100], "more")))
        if fault == "bad energy":
            energy = self.draw(data, _BAD_ENERGIES, "bad energy")
        if fault == "unchanged":
            energy = first
        actor = BOB if fault == "not issuer" else ISSUER_ID
        answer = self.send(
            "correct_production", actor, device_id=device, start=start, end=end, energy_wh=energy
        )
        if answer.accepted:
            self.produced = [
                (d, s, e, energy if (d, s, e) == (device, start, end) else v)
                for d, s, e, v in self.produced
            ]

    # ------------------------------------------------------------------ time

    def advance_clock(self, data: st.DataObject) -> None:
        self.lock.s.advance(hours=self.draw(data, [1, 0, 2, 6, 24, 48], "hours"))

    def expire(self, data: st.DataObject) -> None:
        """The expiry sweep, after moving the clock (sometimes past the certificates' validity)."""
        self.lock.s.advance(days=self.draw(data, [0, 0, 0, 0, 1, 30, 120, 300, 400], "days"))
        self.send("expire", BOB if self.fault(data, "not issuer") != VALID else ISSUER_ID)

    # ------------------------------------------------------------------ accounts and devices

    def open_account(self, data: st.DataObject) -> None:
        fault = self.fault(data, "duplicate", "not issuer", "for the issuer")
        record = {"account_id": "ACC-DAVE", "holder_id": DAVE, "account_name": DAVE}
        if fault == "duplicate":
            record["account_id"] = "ACC-ALICE"
        if fault == "for the issuer":  # with no D2 exemption named: refused (ROLE-001)
            record = {"account_id": "ACC-ISSUER", "holder_id": ISSUER_ID, "account_name": "own"}
        self.send("open_account", ALICE if fault == "not issuer" else ISSUER_ID, account=record)

    def register_device(self, data: st.DataObject) -> None:
        fault = self.fault(data, "duplicate device", "duplicate meter", "unknown account",
                           "not issuer")  # fmt: skip
        device = WIND if fault == "duplicate device" else HYDRO
        meter = METERS[WIND] if fault == "duplicate meter" else METERS[HYDRO]
        account = "ACC-NOWHERE" if fault == "unknown account" else ISSUES_INTO[HYDRO]
        answer = self.send(
            "register_device",
            BOB if fault == "not issuer" else ISSUER_ID,
            device=device_record(device, meter, account, 2_000, "hydro"),
        )
        if answer.accepted and device not in self.devices:
            self.devices.append(device)

    # ------------------------------------------------------------------ lifecycle

    def transfer(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "actor", "quantity", "quantity", "bundle", "ghost",
                           "unknown account", "same account")  # fmt: skip
        bundle, record = self.pick_bundle(data, fault)
        source = _text(record.get("account_id")) if record else ""
        targets = [a for a in sorted(self.lock.holders()) if a != source] or ["ACC-BOB"]
        to = "ACC-NOWHERE" if fault == "unknown account" else self.draw(data, targets, "to")
        if fault == "same account" and source:
            to = source  # whole or partial (see the class docstring)
        quantity = self.quantity(data, "" if fault == "same account" else fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, to_account=to)
        self.send("transfer", self.pick_actor(data, fault, record), **fields)

    def cancel(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "actor", "quantity", "quantity", "bundle", "ghost",
                           "no beneficiary", "storage purpose")  # fmt: skip
        bundle, record = self.pick_bundle(data, fault)
        beneficiary = "" if fault == "no beneficiary" else self.draw(data, BENEFICIARIES, "for")
        quantity = self.quantity(data, fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, beneficiary=beneficiary)
        if fault == "storage purpose":
            fields["purpose"] = "STORAGE_CHARGE"
        self.send("cancel", self.pick_actor(data, fault, record), **fields)

    def claim(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "quantity", "bundle", "other claimant", "other claimant")
        bundle, record = self.pick_bundle(
            data, fault, ("CANCELLED",), valid_only=True,
            wrong=("ACTIVE", "RESERVED", "LOCKED", "CLAIMED", "WITHDRAWN"),
        )  # fmt: skip
        named = _text(record.get("beneficiary")) if record else ""
        claimant = named or BENEFICIARIES[0]
        if fault == "other claimant":
            claimant = next(b for b in BENEFICIARIES if b != named)
        quantity = self.quantity(data, fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, claimant=claimant)
        self.send("claim", self.pick_actor(data, fault, record), **fields)

    def reserve(self, data: st.DataObject) -> None:
        """A holder reserves or locks a whole bundle (see the class docstring on parts)."""
        fault = self.fault(data, "actor", "actor", "bundle", "ghost")
        bundle, record = self.pick_bundle(data, fault)
        kind = self.draw(data, ["RESERVED", "LOCKED"], "kind")
        others = tuple(a for a in OTHER_ACTORS if a != ISSUER_ID)  # the issuer may lock
        actor = self.pick_actor(data, fault, record, others)
        self.send("reserve", actor, bundle_id=bundle, kind=kind)

    def release(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "bundle", "ghost", "active")
        wrong = ("ACTIVE",) if fault == "active" else _ENDED
        bundle, record = self.pick_bundle(
            data,
            "bundle" if fault == "active" else fault,
            ("RESERVED", "LOCKED"),
            valid_only=True,
            wrong=wrong,
        )
        others = tuple(a for a in OTHER_ACTORS if a != ISSUER_ID)
        self.send("release", self.pick_actor(data, fault, record, others), bundle_id=bundle)

    def withdraw(self, data: st.DataObject) -> None:
        fault = self.fault(data, "actor", "actor", "quantity", "bundle", "ghost")
        bundle, record = self.pick_bundle(
            data, fault, ("ACTIVE",), valid_only=True, wrong=("CANCELLED", "CLAIMED", "WITHDRAWN")
        )
        quantity = self.quantity(data, fault, record)
        fields = self.with_quantity(quantity, bundle_id=bundle, reason="metering error")
        holders = (ALICE, BOB, CAROL, STRANGER)  # only the issuer withdraws (AUTH-006)
        actor = self.pick_actor(data, fault, record, holders) if fault == "actor" else ISSUER_ID
        self.send("withdraw", actor, **fields)

    def query(self, data: st.DataObject) -> None:
        """The issuer's view of any filter, or a holder's view of its own account (IT-003)."""
        account = self.draw(data, [None, "ACC-ALICE", "ACC-BOB", "ACC-CAROL"], "account")
        actor = ISSUER_ID
        if account is not None and self.draw(data, [False, True], "as holder"):
            actor = self.lock.holders().get(account, ISSUER_ID)
        filters = {
            "account_id": account,
            "status": self.draw(data, [None, None, "ACTIVE", "CANCELLED"], "status"),
            "device_id": self.draw(data, [None, None, WIND], "device"),
        }
        self.send("query", actor, **{k: v for k, v in filters.items() if v is not None})


#: How a bundle is recognised again in a shortened sequence, from the strictest likeness.
_LIKENESS: tuple[Callable[[Key, Key], bool], ...] = (
    lambda a, b: a == b,
    lambda a, b: (a[:3], a[6:8]) == (b[:3], b[6:8]),  # same issuance interval, account, status
    lambda a, b: a[6:8] == b[6:8],  # same account and status
    lambda a, b: a[7] == b[7],  # same status
)


class Differential:
    """One differential run: the machine under the session's seed and depth."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.policies = model_policies(s.capabilities)

    def lockstep(self, on_code_mismatch: str) -> Lockstep:
        from gc_conformance.adapters.reference import ReferenceAdapter

        return Lockstep(self.s, ReferenceAdapter(self.policies), on_code_mismatch=on_code_mismatch)

    def settings(self) -> hypothesis.settings:
        """Generation only (see the module docstring on shrinking), seeded, quiet, no database."""
        return hypothesis.settings(
            max_examples=self.s.max_examples,
            stateful_step_count=STEP_COUNT,
            derandomize=False,  # the seed below decides
            database=None,
            deadline=None,
            verbosity=Verbosity.quiet,
            report_multiple_bugs=False,
            print_blob=False,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )

    def explore(self, on_code_mismatch: str) -> Lockstep:
        """Run the machine; a failure propagates, on the sequence :meth:`minimise` leaves."""
        lock = self.lockstep(on_code_mismatch)

        def factory() -> DifferentialMachine:
            return DifferentialMachine(lock)

        seeded: Callable[[], DifferentialMachine] = hypothesis.seed(self.s.seed)(factory)
        try:
            run_state_machine_as_test(seeded, settings=self.settings())  # type: ignore[arg-type]
        except Flaky as exc:
            raise AdapterError(
                len(self.s.steps),
                "the registry answered the same request sequence differently when it was "
                f"replayed (non-deterministic behaviour; seed {self.s.seed}): {exc}",
            ) from exc
        except (CheckFailed, AdapterError) as exc:
            raise self.minimise(lock, exc) from None
        return lock

    def minimise(self, lock: Lockstep, failure: Exception) -> Exception:
        """Drop every request the failure does not need; the failure of the shortest sequence.

        The failing sequence Hypothesis generated is shortened request by
        request (see the module docstring for why not by Hypothesis's
        shrinker): each request after the cast's setup is left out in turn,
        from the last, and stays out when the shorter sequence, replayed
        against both registries, still fails the same way: a wrong code stays
        a wrong code, a wrong verdict or state stays one (of any kind), an
        adapter failure stays one. Passes repeat until none is left out. It is
        deterministic, and the session's steps are those of the final replay.
        """
        setup = SETUP_REQUESTS
        kept = list(zip([dict(r) for r in lock.trail], lock.trail_keys, strict=True))
        if len(kept) <= setup:
            return failure
        kind = type(failure)
        best = failure
        changed = True
        while changed:
            changed = False
            for index in range(len(kept) - 1, setup - 1, -1):
                if index >= len(kept):
                    continue
                candidate = kept[:index] + kept[index + 1 :]
                try:
                    lock.run_sequence(self._resolved(lock, candidate))
                except (CheckFailed, AdapterError) as exc:
                    if type(exc) is kind:
                        kept, best, changed = candidate, exc, True
        try:
            # The session's steps: those of the reported sequence.
            lock.run_sequence(self._resolved(lock, kept))
        except (CheckFailed, AdapterError) as exc:
            return exc
        return AdapterError(  # the same requests failed a moment ago: the registry is erratic
            len(self.s.steps),
            "the registry answered the same request sequence differently when it was replayed "
            f"(non-deterministic behaviour; seed {self.s.seed}); the earlier failure: {best}",
        )

    @staticmethod
    def _resolved(
        lock: Lockstep, entries: list[tuple[dict[str, Any], tuple[Key, bool] | None]]
    ) -> Iterator[dict[str, Any]]:
        """The requests, each naming the model bundle that now fits its canonical description.

        Leaving out a request that created or moved bundles renumbers or moves
        the model's later bundles; a request then names its bundle by what it
        was (the same bundle, else the newest one alike: same issuance and
        holding, same holding, same status), and a request its holder made is
        made by the bundle's holder now. Only the requests the failure needs
        stay; the reported sequence is replayed as it is, so these guesses can
        make it longer than necessary, never wrong.
        """
        for request, named in entries:
            if named is not None:
                key, by_holder = named
                current = sorted(lock.model_keys.values(), key=lambda item: _newest_first(item[0]))
                for same in _LIKENESS:  # exactly the same bundle, else the newest alike
                    matches = [(found, k) for found, k in current if same(k, key)]
                    if matches:
                        request = {**request, "bundle_id": matches[0][0]}
                        holder = lock.holders().get(matches[0][1][6])
                        if by_holder and holder:
                            request["actor"] = holder
                        break
            yield request

    def run(self) -> None:
        """Verdicts and states first; code mismatches only when nothing worse diverges.

        Code mismatches are collected, not raised, in the first exploration, so
        that a refusal with the wrong code can never hide (by being shrunk
        and reported first) a verdict or state divergence. Under strict codes
        a second exploration then raises the first code mismatch, shrunk.
        """
        lock = self.explore("record")
        notes = list(lock.notes.values())
        if notes and self.s.strict_codes:
            self.explore("raise")
            raise CodeMismatch(  # the mismatch did not recur: report what was collected
                f"refusals with other canonical codes than the reference model's "
                f"(differential, seed {self.s.seed})",
                expected="the model's codes",
                observed="; ".join(notes),
                severity=MINOR,
            )
        self.s.code_mismatches.extend(notes)
        self.s.steps.clear()  # a passing run's last random sequence means nothing in a report
        if lock.should:
            # Every SHALL held, the SHOULD divergences included (the machine carried on after
            # each): report them under their SHOULD requirements only, never a SHALL's.
            found = list(lock.should.values())
            raise Divergence(
                "the registry reads some SHOULD rules otherwise than the reference model "
                f"(differential, seed {self.s.seed}); every SHALL held",
                expected="the model's verdicts on SHOULD rules",
                observed="; ".join(text for text, _ in found),
                severity=MINOR,
                requirements=tuple(sorted({r for _, rs in found for r in rs})),
            )


@check(
    "differential.lifecycle",
    requirements=[
        "SPLIT-001",
        "SPLIT-002",
        "AUTH-001",
        "AUTH-002",
        "AUTH-003",
        "AUTH-004",
        "DC-001",
        "DC-002",
        "DC-003",
        "DC-004",
        "DC-005",
        "DC-006",
        "DC-007",
        "DC-008",
        "QTY-001",
        "QTY-002",
        "IT-001",
        "IT-002",
    ],
    slow=True,
)
def lifecycle_matches_the_reference_model(s: Session) -> None:
    """Random valid and invalid request sequences get the reference model's verdicts, codes and states."""
    Differential(s).run()


__all__ = [
    "DifferentialMachine",
    "Lockstep",
    "bundle_keys",
    "expectation_text",
    "model_policies",
    "parse_expectation",
    "reference_setup",
    "state_difference",
]
