"""The lock-step driver: each request sent to the registry and to a fresh reference model, answers and states compared after every step."""

from __future__ import annotations

import datetime as _dt
import itertools
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import attrs

from gc_conformance.adapter import (
    Answer,
    Capabilities,
    Clock,
    RegistryAdapter,
    read_answer,
    read_state,
)
from gc_conformance.checks.configurations import declared_practice
from gc_conformance.checks.differential.canonical import (
    Key,
    bundle_keys,
    by_issuance,
    describe_key,
    expectation_text,
    hkey,
    merged_in_place,
    state_difference,
    storage_neutral,
    text,
)
from gc_conformance.checks.differential.configuration_records import (
    EAC_REPORT,
    EAC_STATE_AFTER,
    PRACTICE_ACTIONS,
    as_model_eacs,
    eac_difference,
    learn_eacs,
    over_the_eacs,
    practice_only,
    translate_eacs,
)
from gc_conformance.checks.differential.requirements import (
    ALICE,
    ALLOWED_BY,
    ALWAYS_NEEDED,
    BOB,
    CAROL,
    CRITICAL,
    ISSUES_INTO,
    MAJOR,
    METERS,
    MINOR,
    NOT_EXERCISED,
    RISKS,
    SETUP_REQUESTS,
    SOLAR,
    STRANGER,
    WIND,
    CodeDivergence,
    Divergence,
    is_should,
    refusal_requirements,
    state_after,
)
from gc_conformance.checks.differential.storage_records import (
    STORAGE_ACTIONS,
    STORAGE_ANSWERS,
    compare_allocations,
    learn_records,
    translate_records,
)
from gc_conformance.clock import read_stamp
from gc_conformance.outcomes import FailureKind, Severity, SkipKind
from gc_conformance.reference import (
    ConfigurationPolicies,
    HourSuspension,
    InvalidInput,
    MonthlyCap,
    Policies,
)
from gc_conformance.reference.invariants import check_invariants
from gc_conformance.session import (
    ISSUER_ID,
    AdapterError,
    CheckFailed,
    NotApplicable,
    Session,
    device_record,
    stamp,
)

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


def reference_setup(configuration: int = 1) -> dict[str, Any]:
    """The reset the session gives the registry, for the model: same issuer, same configuration
    (and, for #2/#3, the same EAC Issuing Body)."""
    setup: dict[str, Any] = {
        "issuer": {"issuer_id": ISSUER_ID, "name": "Conformance Test Issuer", "domain": "NL"},
        "configuration": configuration,
    }
    if configuration in (2, 3):
        setup["eac_body"] = {"body_id": EAC_BODY, "name": "Test Issuing Body", "domain": "NL"}
    return setup


#: The EAC Issuing Body of a #2/#3 sequence (the one ``Session.reset`` sets up).
EAC_BODY = "EIB-T"
#: The production day's EAC energy in a #2/#3 sequence (two 1 MWh EACs in the model).
EAC_DAY_WH = 2_000_000


def configuration_policies(session: Session) -> ConfigurationPolicies:
    """The model's #2/#3 practice: the registry's declared ``monthly_cap`` and
    ``hour_suspension``. A registry that declares either not at all is skipped (NotApplicable,
    from :func:`declared_practice`), in a run and in a replay alike: the model never assumes
    a practice the registry did not declare."""
    cap, suspension = declared_practice(session)
    return ConfigurationPolicies(MonthlyCap[cap], HourSuspension[suspension])


def configuration_of(first: Mapping[str, Any]) -> int:
    """The configuration a saved sequence ran under, read from its first request: a #2 sequence
    starts by appointing the GC Issuer, a #3 one with another EAC request (see ``setup_cast``)."""
    action = first.get("action")
    if action == "appoint_gc_issuer":
        return 2
    return 3 if isinstance(action, str) and action.startswith("eac_") else 1


class Lockstep:
    """Sends each request to the registry (through the session) and to the model, and compares.

    Requests are written in the model's bundle IDs; :meth:`step` translates
    them for the registry. ``on_code_mismatch`` is ``"raise"`` (fail at once)
    or ``"record"`` (collect a note in :attr:`notes`, one per kind).
    """

    def __init__(
        self,
        session: Session,
        model: RegistryAdapter,
        *,
        on_code_mismatch: str = "raise",
        configuration: int = 1,
    ) -> None:
        self.s = session
        self.model = model
        #: The registry's configuration in these sequences (2/3: an EAC registry beside it).
        self.configuration = configuration
        #: The requests before the machine's own (the cast, and the EAC world of #2/#3): the
        #: shortening of a failure keeps them.
        self.setup_count = SETUP_REQUESTS
        #: The EACs both registries named: model ID -> the registry's.
        self.eacs: dict[Any, Any] = {}
        #: The EAC production periods reported (device, start, end) -> their EAC Wh (model).
        self.eac_periods: dict[tuple[str, str, str], int] = {}
        #: Whether the registry shows its EACs (observe().eacs); None until first looked at.
        self.eacs_shown: bool | None = None
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
        #: The storage records (SCR, SDR) both registries named: model ID -> the registry's.
        self.records: dict[Any, Any] = {}
        #: Each storage record the model made: its ID -> (status, interval start), by which a
        #: shortened sequence finds the same record again (see ``Differential.minimise``).
        self.record_starts: dict[Any, tuple[str, str]] = {}
        #: The storage system's allocation method in this sequence (None: no storage system).
        self.storage_method: str | None = None
        #: Why the storage steps stop (the model cannot follow the registry's storage records
        #: any further without holding it to a reading the standard leaves open); None: they go on.
        self.storage_parted: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Empty both registries and forget the previous sequence (its steps included)."""
        self.s.steps.clear()
        self.s.now = self.s.epoch + _dt.timedelta(days=1)
        if self.configuration == 1:
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
        self.records.clear()
        self.record_starts.clear()
        self.storage_method = None
        self.storage_parted = None
        self.eacs.clear()
        self.eac_periods.clear()
        if self.configuration in (2, 3):
            self.s.reset(self.configuration)
            wanted = configuration_policies(self.s)
            if getattr(self.model, "configuration_policies", wanted) != wanted:
                self.model = type(self.model)(self.policies, wanted)  # type: ignore[call-arg]
            self.model.reset(reference_setup(self.configuration))
        if self.policies != self._declared_policies:
            self._rebuild_model(self._declared_policies)
        self._observe()

    def setup_cast(self) -> None:
        """The standard cast of :meth:`Session.world`, through the lock-step; under #2/#3 the
        EAC world of the configuration checks first (:meth:`setup_eacs`)."""
        if self.configuration in (2, 3):
            self.setup_eacs()
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
        self.setup_count = len(self.trail)

    def setup_eacs(self) -> None:
        """The EAC world of :func:`~gc_conformance.checks.configurations.eac_world`: under #2
        the GC Issuer appointed (first: a saved sequence's first request tells its
        configuration, see :func:`configuration_of`) with an EAC account, alice's and bob's
        EAC accounts, DEV-WIND registered with alice, 2 MWh of EACs for the production day."""
        body = EAC_BODY
        if self.configuration == 2:
            self.step("appoint_gc_issuer", body, compare=False, gc_issuer_id=ISSUER_ID)
            self.step("eac_open_account", body, compare=False, account_id="E-ISSUER",
                      holder_id=ISSUER_ID)  # fmt: skip
        for holder in (ALICE, BOB):
            self.step("eac_open_account", body, compare=False, account_id=f"E-{holder.upper()}",
                      holder_id=holder)  # fmt: skip
        self.step("eac_register_device", body, compare=False, device_id=WIND,
                  account_id="E-ALICE", meter_id=METERS[WIND])  # fmt: skip
        self.report_eacs(0)

    def report_eacs(self, day: int, *, compare: bool = False) -> Answer:
        """Report DEV-WIND's production of epoch day ``day`` (2 MWh) to the EAC Issuing Body."""
        start = self.s.epoch + _dt.timedelta(days=day)
        first, last = stamp(start), stamp(start + _dt.timedelta(days=1))
        answer = self.step(EAC_REPORT, EAC_BODY, compare=compare, device_id=WIND,
                           meter_id=METERS[WIND], start=first, end=last,
                           energy_wh=str(EAC_DAY_WH))[0]  # fmt: skip
        if answer.accepted:
            self.eac_periods[(WIND, first, last)] = EAC_DAY_WH
        return answer

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
        configuration = getattr(self.model, "configuration_policies", None)
        self.model = type(self.model)(policies, configuration)  # type: ignore[call-arg]
        self.policies = policies
        self.model.reset(reference_setup(self.configuration))
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
            requirements = refusal_requirements(action, model.code, status, self.configuration)
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
        fields = as_model_eacs(self.eacs, fields)  # a replay may name the registry's EACs
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
        sent = translate_eacs(self.eacs, translate_records(self.records, fields))
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
        if model_answer.accepted and action == EAC_REPORT:
            self._learn_eacs(model_answer, answer)
        if self._practice(action, fields, model_answer, answer):
            return model_answer, answer
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
        expected, observed = state_difference(
            storage_neutral(self.model_state), storage_neutral(self.registry_state)
        )
        if (expected or observed) and self._split_in_place(action, fields, accepted_noop):
            return model_answer, answer
        if expected or observed:
            if model_answer.accepted:
                what = f"after the accepted {action}, the registry's state differs from the model's"
                requirements = state_after(action, self.configuration)
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
        if self.configuration in (2, 3):
            self._compare_eacs(action, model_answer.accepted)
        if model_answer.accepted:
            self._pair_named(action, model_answer.result, answer.result)
            made = model_answer.result.get("record_id")
            if action == "submit_storage_data" and isinstance(made, str | int):
                self.record_starts[made] = (str(fields.get("status")), str(fields.get("start")))
            if action == "register_storage" and self.storage_method is None:
                self.storage_method = str(fields.get("allocation_method"))
            if action in STORAGE_ANSWERS:
                self._compare_storage(action, model_answer, answer)
            self.check_history(self.registry_state)
        elif accepted_noop:
            self.check_history(self.registry_state)
            if action in STORAGE_ACTIONS:
                # The registry made a storage record the model refused by a SHOULD (or a MAY):
                # the two pools now differ, so the storage steps stop here.
                self.storage_parted = f"step {len(self.s.steps)}: {action} accepted by a SHOULD"
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

    def _compare_storage(self, action: str, model: Answer, registry: Answer) -> None:
        """The storage records both answers name, and the allocations both made (D7)."""
        learned = learn_records(action, model.result, registry.result, self.records)
        if learned is not None:
            self.storage_parted = learned
            return
        if self.storage_method is None:
            return
        verdict = compare_allocations(
            self.storage_method, self.records, model.result, registry.result
        )
        if verdict is None:
            return
        if verdict.rounding_only:
            self.storage_parted = verdict.message
            return
        raise self.fail(
            f"the registry's {action} allocated otherwise than the reference model "
            f"(allocation method {self.storage_method})",
            expected=verdict.expected,
            observed=verdict.observed,
            severity=CRITICAL,
            requirements=verdict.requirements,
        )

    # ------------------------------------------------------------------ configurations #2/#3

    def _learn_eacs(self, model: Answer, registry: Answer) -> None:
        if not registry.accepted:
            return  # the verdicts differ: compared next
        stop = learn_eacs(model.result, registry.result, self.eacs)
        if stop is not None:
            self.parted = f"step {len(self.s.steps)}: {stop}"
            self.s.left_out.setdefault("eac face value", f"the rest of a sequence ({stop})")

    def _practice(
        self, action: str, fields: Mapping[str, Any], model: Answer, registry: Answer
    ) -> bool:
        """Whether an issuing request differs from the model only by the declared practice.

        The model issues an hour (or refuses it with EXCEEDS_EAC_ENERGY) as the
        registry's declared ``monthly_cap`` and ``hour_suspension`` say (MAY:
        CONF-008/018). A registry that gives the hour another amount, or
        refuses or accepts it otherwise for lack of EAC energy, with every GC
        where it belongs, is reported under that MAY; the SHALLs are checked
        on its state first (no hour above its metering, no period above its
        EACs: CONF-003/017, CONF-002/016), and the sequence ends there (the model
        cannot follow another reading of the practice). False: not this kind of
        divergence (the usual comparison follows).
        """
        if self.configuration not in (2, 3) or action not in PRACTICE_ACTIONS:
            return False
        if action == "correct_production" and self.configuration != 2:
            return False  # a #3 correction follows its issuance (see _belongs): compared as is
        short = "EXCEEDS_EAC_ENERGY"
        if not (model.accepted or model.code == short) or not (
            registry.accepted or registry.code == short
        ):
            return False
        self._observe(model=not self.model_keys_fresh or model.accepted)
        expected, observed = state_difference(
            storage_neutral(self.model_state), storage_neutral(self.registry_state)
        )
        if model.accepted == registry.accepted and not (expected or observed):
            return False
        hours = _hours_of(action, fields)
        belongs = _belongs(action, fields)
        model_keys = [k for _, k in self.model_keys.values()]
        registry_keys = [k for _, k in self.registry_keys.values()]
        if not practice_only(model_keys, registry_keys, [h[:3] for h in hours], belongs):
            return False
        rules: tuple[str, ...] = (
            ("CONF-003", "CONF-002") if self.configuration == 2 else ("CONF-017", "CONF-016")
        )
        if action == "correct_production":
            rules = ("CONF-024",)
        bound = over_the_eacs(registry_keys, hours, self.eac_periods)
        if bound is not None:
            raise self.fail(
                f"the registry's {action} issued more GC energy than the metering or the EACs "
                "behind it allow",
                expected=bound[0],
                observed=bound[1],
                severity=CRITICAL,
                requirements=rules,
            )
        rule = "CONF-008" if self.configuration == 2 else "CONF-018"
        what = (
            f"{action}: the registry gives the hour otherwise than the model under the declared "
            f"practice ({self.s.policy('monthly_cap', '?')}, "
            f"{self.s.policy('hour_suspension', '?')}): expected "
            f"{'accepted' if model.accepted else 'rejected ' + str(model.code)}"
            + (f" ({expected})" if expected else "")
            + f", observed {'accepted' if registry.accepted else 'rejected ' + str(registry.code)}"
            + (f" ({observed})" if observed else "")
        )
        self.should.setdefault((action, rule, "practice"), (
            f"step {len(self.s.steps)}, seed {self.s.seed}: {what}", (rule,)))  # fmt: skip
        self.check_history(self.registry_state)
        self.parted = f"step {len(self.s.steps)}: {action} read the declared practice otherwise"
        return True

    def _compare_eacs(self, action: str, accepted: bool) -> None:
        """The EAC state (observe().eacs, where the registry shows it) against the model's."""
        if self.eacs_shown is False:
            return
        shown = self.s.observe_extension("eacs", list)
        self.eacs_shown = shown is not None
        if shown is None:
            self.s.left_out.setdefault(
                "eacs", "the EAC state (the registry's observe() has no 'eacs' extension)"
            )
            return
        mine = self.model.observe().get("eacs") or []
        expected, observed = eac_difference(mine, shown, self.eacs)
        if not (expected or observed):
            return
        if accepted:
            requirements = EAC_STATE_AFTER.get((self.configuration, action), ("IT-002",))
            what = f"after the accepted {action}, the registry's EACs differ from the model's"
        else:
            requirements = ("IT-001",)
            what = f"the refused {action} changed the registry's EACs (it must be atomic)"
        raise self.fail(
            what,
            expected=expected,
            observed=observed,
            severity=CRITICAL,
            requirements=requirements,
            kind=FailureKind.WRONG_STATE if accepted else FailureKind.CHANGED_AFTER_REFUSAL,
        )

    def _after_adapter_failure(self, before_model: Mapping[str, Any]) -> None:
        """A request the adapter failed on must have changed nothing (IT-001); else *error*."""
        try:
            after = self.s.observe()
        except AdapterError:
            return
        expected, observed = state_difference(storage_neutral(before_model), storage_neutral(after))
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
                requirements=refusal_requirements(action, model.code, status, self.configuration),
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
                    requirements=refusal_requirements(
                        action, model.code, status, self.configuration
                    ),
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
        self.model_keys = bundle_keys(storage_neutral(self.model_state), self.issuances)
        self.model_keys_fresh = True

    def _observe(self, *, model: bool = True) -> None:
        """Observe the registry (and the model); both described alike (see :func:`bundle_keys`)."""
        self.registry_state = self.s.observe()
        issuances = by_issuance(self.registry_state)
        if issuances != self.issuances:
            self.issuances = issuances
            self.model_keys = bundle_keys(storage_neutral(self.model_state), issuances)
        if model:
            self._observe_model()
        self.registry_keys = bundle_keys(storage_neutral(self.registry_state), issuances)

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
        sequence = iter(requests)
        first = next(sequence, None)
        if first is not None:
            self.configuration = configuration_of(first)
        self.start()
        for number, request in enumerate(
            itertools.chain([] if first is None else [first], sequence), 1
        ):
            if self.parted is not None:
                break  # as in the run: nothing is sent once the model cannot follow
            self.s.now = read_stamp(str(request["now"]))
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
            text(a.get("account_id")): text(a.get("holder_id"))
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


def _hours_of(action: str, fields: Mapping[str, Any]) -> list[tuple[str, str, str, int]]:
    """The (device, start, end, metered Wh) an issuing configuration request names."""
    device = text(fields.get("device_id"))
    if action == "convert_eacs":
        listed = fields.get("hours")
        rows = listed if isinstance(listed, list | tuple) else []
        return [(device, text(h[0]), text(h[1]), _wh(h[2])) for h in rows if len(h) == 3]
    return [(device, text(fields.get("start")), text(fields.get("end")), _wh(fields["energy_wh"]))]


def _wh(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _belongs(action: str, fields: Mapping[str, Any]) -> tuple[str, str, str]:
    """Where an issuing request's GCs belong: (account, status, beneficiary)."""
    if action == "issue_from_cancelled_eacs":  # cancelled for the EACs' beneficiary (#3)
        return text(fields.get("account_id")), "CANCELLED", text(fields.get("beneficiary"))
    if action == "convert_eacs":
        return text(fields.get("account_id")), "ACTIVE", ""
    return ISSUES_INTO.get(text(fields.get("device_id")), ""), "ACTIVE", ""


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
