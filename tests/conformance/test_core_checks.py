"""The lifecycle checks (core, issuer-created, expiry, error correction) judge honestly.

The reference passes every one of them, under every policy value; hand-made
broken registries (the reference with one defect each, built here) make the
relevant check FAIL; an adapter that raises gives ERROR; a registry with a
fixed clock has the time-dependent checks SKIPPED; and, between them, the
checks provoke every rejection code the core lifecycle of the model has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from gc_conformance.adapter import CANONICAL_CODES, Capabilities, Profile, RegistryAdapter
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import Check, all_checks, get_check
from gc_conformance.outcomes import CheckResult, Severity, Status
from gc_conformance.reference import ErrorCode
from gc_conformance.runner import RunOptions, execute_check

MODULES = ("core", "issuer_created", "lifecycle_time")
MINE = [c for c in all_checks() if c.area in MODULES]
MINE_IDS = [c.check_id for c in MINE]

#: Every alternative policy value at once (the defaults are the plain ``reference``).
ALTERNATIVE = (
    "reference:rounding=DOWN,validity=ROLLING_12_MONTHS,correction_deduction=NEXT_ISSUANCE,"
    "split_origin=FROM_END"
)

#: Core-group codes the lifecycle checks cannot provoke, and why.
NOT_PROVOKED_HERE = {
    "INVALID_POLICY": "policy values are a registry's configuration, never part of a request",
    # #3 GCs are cancelled on issuance, so a transfer of one meets BUNDLE_NOT_ACTIVE first.
    "NOT_TRANSFERABLE": "only configuration #3 GCs are non-transferable (configurations checks)",
}


def run(adapter: RegistryAdapter, checks: list[Check], **options: Any) -> dict[str, CheckResult]:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return {
        c.check_id: execute_check(c, adapter, capabilities, RunOptions(**options)) for c in checks
    }


def verdict(adapter: RegistryAdapter, check_id: str, **options: Any) -> CheckResult:
    return run(adapter, [get_check(check_id)], **options)[check_id]


@pytest.fixture(scope="module")
def reference_results() -> dict[str, CheckResult]:
    return run(load_adapter("reference"), MINE)


def test_there_are_enough_checks_in_every_lifecycle_profile() -> None:
    assert len(MINE) >= 45
    profiles = {c.profile for c in MINE}
    assert profiles == {
        Profile.CORE,
        Profile.ISSUER_CREATED,
        Profile.EXPIRY,
        Profile.ERROR_CORRECTION,
    }


@pytest.mark.parametrize("check_id", MINE_IDS)
def test_the_reference_passes(check_id: str, reference_results: dict[str, CheckResult]) -> None:
    result = reference_results[check_id]
    assert result.status is Status.PASS, result.describe()
    assert not result.code_mismatch, result.describe()
    if check_id != "expiry.policy.declared":  # judges the declared capabilities alone
        assert result.steps, "a check that sends nothing judges nothing"


def test_the_reference_passes_under_the_alternative_policy_values() -> None:
    results = run(load_adapter(ALTERNATIVE), MINE)
    # under a rolling reading no certificate outlives its consumption period: VAL-011 has
    # nothing to judge (D8's own-hour exemption changes nothing there)
    own_hour = results.pop("expiry.own_hour.after_consumption_period")
    assert own_hour.status is Status.SKIP and "outlives" in own_hour.message
    failed = [r.describe() for r in results.values() if r.status is not Status.PASS]
    assert failed == []


def test_the_checks_provoke_every_core_rejection_code(
    reference_results: dict[str, CheckResult],
) -> None:
    names = [code.name for code in ErrorCode]
    core_codes = set(names[: names.index("NOT_A_STORAGE_DEVICE")])  # the groups before storage
    provoked = set()
    for result in reference_results.values():
        for step in result.steps:
            if step.expectation.startswith("reject "):
                code = step.expectation.split(" ", 1)[1]
                assert code in CANONICAL_CODES, (result.check_id, code)
                assert step.answer is not None and step.answer.get("code") == code
                provoked.add(code)
    assert set(NOT_PROVOKED_HERE) <= core_codes
    assert sorted(core_codes - provoked - set(NOT_PROVOKED_HERE)) == []


# ---------------------------------------------------------------- broken registries


class NonOwnerTransfers(ReferenceAdapter):
    """Lets anyone transfer: the transfer is executed as if the holder asked."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer":
            bundle = self.registry.bundle(request["bundle_id"])
            if bundle is not None:
                holder = self.registry.account(bundle.account_id)
                assert holder is not None
                request = {**request, "actor": holder.holder_id}
        return super().execute(request)


class ChildOneTooLong(ReferenceAdapter):
    """Reports the first child of every split one certificate ID too long."""

    def _bundle(self, bundle: Any) -> dict[str, Any]:
        record = super()._bundle(bundle)
        parent = None if bundle.parent_id is None else self.registry.bundle(bundle.parent_id)
        if parent is not None and bundle.range_start == parent.range_start:
            record["certificate_bundle_id_range_end"] += 1
        return record


class ClaimsTwice(ReferenceAdapter):
    """Answers a second claim on claimed certificates as accepted (double use, D4 risk 5)."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "claim":
            bundle = self.registry.bundle(request.get("bundle_id"))  # type: ignore[arg-type]
            if bundle is not None and bundle.status.name == "CLAIMED":
                return {"accepted": True, "result": {"bundle_id": bundle.bundle_id}}
        return super().execute(request)


class DeclaresDownRoundsNearest(ReferenceAdapter):
    """Declares rounding DOWN but runs the model's default, NEAREST."""

    def capabilities(self) -> Mapping[str, Any]:
        base = super().capabilities()
        return {**base, "policies": {**base["policies"], "rounding": "DOWN"}}


class SweepDoesNothing(ReferenceAdapter):
    """Accepts the expiry sweep and expires nothing."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "expire":
            return {"accepted": True, "result": {"expired": []}}
        return super().execute(request)


class CorrectionIgnored(ReferenceAdapter):
    """Accepts production corrections and changes nothing."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "correct_production":
            return {"accepted": True, "result": {}}
        return super().execute(request)


class HalfAppliedRefusal(ReferenceAdapter):
    """Refuses an oversized transfer, but withdraws one certificate of it on the way."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "transfer" and answer.get("code") == "QUANTITY_EXCEEDS_BUNDLE":
            super().execute(
                {
                    "action": "withdraw",
                    "actor": self.registry.issuer.issuer_id,
                    "now": request["now"],
                    "bundle_id": request["bundle_id"],
                    "reason": "half-applied",
                    "quantity": 1,
                }
            )
        return answer


class QueryIgnoresStatus(ReferenceAdapter):
    """Drops the status filter of queries."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "query":
            request = {k: v for k, v in request.items() if k != "status"}
        return super().execute(request)


class WrongOwnerCode(ReferenceAdapter):
    """Refuses as it should, but calls a non-owner NOT_AUTHORISED instead of NOT_OWNER."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if answer.get("code") == "NOT_OWNER":
            return {**answer, "code": "NOT_AUTHORISED"}
        return answer


class Crashes(ReferenceAdapter):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer":
            raise TimeoutError("registry did not answer in 30 s")
        return super().execute(request)


class FixedClock(ReferenceAdapter):
    def capabilities(self) -> Mapping[str, Any]:
        return {**super().capabilities(), "clock": "fixed"}


@pytest.mark.parametrize(
    ("adapter", "check_id", "severity"),
    [
        (NonOwnerTransfers(), "core.transfer.non_owner_refused", Severity.CRITICAL),
        (ChildOneTooLong(), "core.transfer.partial_split_partitions_parent", Severity.CRITICAL),
        (ChildOneTooLong(), "core.cancel.partial_split_partitions_parent", Severity.CRITICAL),
        (ChildOneTooLong(), "core.state.unique_certificates", Severity.CRITICAL),
        (ClaimsTwice(), "core.claim.only_once", Severity.CRITICAL),
        (DeclaresDownRoundsNearest(), "core.rounding.face_value_follows_policy", Severity.CRITICAL),
        (
            DeclaresDownRoundsNearest(),
            "issuer_created.bundle.exceeds_production_refused",
            Severity.CRITICAL,
        ),
        (SweepDoesNothing(), "expiry.sweep.at_validity_end", Severity.MAJOR),
        (SweepDoesNothing(), "expiry.sweep.includes_reserved_and_locked", Severity.MAJOR),
        (CorrectionIgnored(), "corrections.upward.issues_difference", Severity.CRITICAL),
        (CorrectionIgnored(), "corrections.downward.withdraws_untouched", Severity.CRITICAL),
        (CorrectionIgnored(), "corrections.downward.defers_to_next_issuance", Severity.CRITICAL),
        (HalfAppliedRefusal(), "core.atomicity.refused_changes_nothing", Severity.CRITICAL),
        (QueryIgnoresStatus(), "core.query.filters_exact", Severity.MAJOR),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_a_broken_registry_fails_the_check_that_covers_its_defect(
    adapter: RegistryAdapter, check_id: str, severity: Severity
) -> None:
    result = verdict(adapter, check_id)
    assert result.status is Status.FAIL, result.describe()
    assert result.severity is severity, result.describe()
    assert result.expected and result.observed and result.reproduce
    assert not result.code_mismatch
    # the same check still passes against the reference: the defect made the difference
    assert verdict(load_adapter("reference"), check_id).status is Status.PASS


def test_a_wrong_code_is_a_minor_code_mismatch_not_a_silent_pass() -> None:
    strict = verdict(WrongOwnerCode(), "core.transfer.non_owner_refused")
    assert strict.status is Status.FAIL and strict.code_mismatch
    assert strict.severity is Severity.MINOR
    lenient = verdict(WrongOwnerCode(), "core.transfer.non_owner_refused", strict_codes=False)
    assert lenient.status is Status.PASS and lenient.code_mismatch


def test_an_adapter_that_raises_gives_error_never_pass() -> None:
    for check_id in ("core.transfer.whole_moves_bundle", "core.query.filters_exact"):
        result = verdict(Crashes(), check_id)
        assert result.status is Status.ERROR, result.describe()
        assert "TimeoutError" in result.message


def test_a_fixed_clock_skips_the_time_dependent_checks_and_runs_the_others() -> None:
    results = run(FixedClock(), MINE)
    skipped = {cid for cid, r in results.items() if r.status is Status.SKIP}
    assert {
        "expiry.sweep.at_validity_end",
        "expiry.expired.cannot_be_used",
        "expiry.unswept.refused_after_end",
        "expiry.records.kept_five_years",
        "core.timestamps.time_reversal_refused",
    } <= skipped
    assert all("clock" in results[cid].message for cid in skipped)
    assert all(r.status is Status.PASS for cid, r in results.items() if cid not in skipped)
    # checks that need no clock movement still run: long-past production, the holder rule
    assert results["expiry.issuance.long_past_refused"].status is Status.PASS
    assert results["corrections.downward.defers_to_next_issuance"].status is Status.PASS


def test_an_undeclared_validity_reading_fails_the_declaration_and_skips_the_timing() -> None:
    class Undeclared(ReferenceAdapter):
        def capabilities(self) -> Mapping[str, Any]:
            base = super().capabilities()
            policies = {k: v for k, v in base["policies"].items() if k != "validity"}
            return {**base, "policies": policies}

    assert verdict(Undeclared(), "expiry.policy.declared").status is Status.FAIL
    timing = verdict(Undeclared(), "expiry.sweep.at_validity_end")
    assert timing.status is Status.SKIP and "validity" in timing.message
