"""The storage differential (``differential.storage``) judges honestly.

The reference against itself never diverges, whatever storage policies it
declares (or leaves undeclared) and however it names its records; the two
storage faulty registries are caught for the rule they break, on a short
replayable step list; a registry without the storage profile is skipped, one
without an optional storage action is judged on the rest; and a weighted
allocation that differs from the model's only in how a share of a Wh is
rounded is no failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from test_tiers import Tiered

from gc_conformance.adapter import Capabilities, RegistryAdapter
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.checks.differential.storage_records import (
    compare_allocations,
    translate_records,
)
from gc_conformance.outcomes import CheckResult, Status
from gc_conformance.reference import Policies
from gc_conformance.reference.policies import SdGcInputs, TimeShiftScope
from gc_conformance.replay import load_failure, replay, save_failure
from gc_conformance.runner import RunOptions, execute_check

CHECK = "differential.storage"
EXAMPLES = 30
#: The cast (5 requests), the storage system (register, charge, discharge, factor) and the
#: few requests the defect needs: a failure's step list stays short enough to read.
SHORT = 20


def storage_differential(adapter: RegistryAdapter, **options: Any) -> CheckResult:
    options.setdefault("max_examples", EXAMPLES)
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(get_check(CHECK), adapter, capabilities, RunOptions(**options))


# ====================================================================== registries built here


def _prefixed(value: Any, prefix: str) -> Any:
    if isinstance(value, str) and value.startswith(("SCR-", "SDR-")):
        return prefix + value
    return value


def _unprefixed(value: Any, prefix: str) -> Any:
    if isinstance(value, str) and value.startswith(prefix):
        return value[len(prefix) :]
    return value


class RenamedRecords:
    """A registry that names its storage records its own way (``rec/SCR-1``): the machine
    must translate them both ways (here around the reference, or a faulty registry)."""

    PREFIX = "rec/"

    def __init__(self, inner: RegistryAdapter | None = None) -> None:
        self.inner = inner if inner is not None else ReferenceAdapter()

    def capabilities(self) -> Mapping[str, Any]:
        return self.inner.capabilities()

    def reset(self, setup: Mapping[str, Any]) -> None:
        self.inner.reset(setup)

    def observe(self) -> Mapping[str, Any]:
        return {k: v for k, v in self.inner.observe().items() if k != "storage"}

    def close(self) -> None:
        self.inner.close()

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        sent = dict(request)
        for name in ("scr_id", "sdr_id"):
            if name in sent:
                sent[name] = _unprefixed(sent[name], self.PREFIX)
        if isinstance(sent.get("sdr_ids"), list):
            sent["sdr_ids"] = [_unprefixed(v, self.PREFIX) for v in sent["sdr_ids"]]
        if isinstance(sent.get("allocations"), list):
            sent["allocations"] = [
                [_unprefixed(e[0], self.PREFIX), _unprefixed(e[1], self.PREFIX), e[2]]
                for e in sent["allocations"]
            ]
        answer = dict(self.inner.execute(sent))
        result = answer.get("result")
        if isinstance(result, Mapping):
            result = dict(result)
            for name in ("record_id", "sdr_id"):
                if name in result:
                    result[name] = _prefixed(result[name], self.PREFIX)
            if isinstance(result.get("allocations"), list):
                result["allocations"] = [
                    [_prefixed(a, self.PREFIX), _prefixed(b, self.PREFIX), wh]
                    for a, b, wh in result["allocations"]
                ]
            answer["result"] = result
        return answer


def WithoutUnknownBeneficiary() -> Tiered:
    """Offers every action but the operator's unknown beneficiary (D7 allows it; a MAY),
    and fails loudly if the suite sends it anyway."""
    return Tiered(drop=("assign_unknown_beneficiary",))


class SilentOnStoragePolicies(ReferenceAdapter):
    """Reads ``sd_gc_inputs`` and ``time_shift_scope`` the other way, and declares neither."""

    def __init__(self) -> None:
        super().__init__(
            Policies(
                sd_gc_inputs=SdGcInputs.BACKED_WH_FIRST,
                time_shift_scope=TimeShiftScope.WHOLE_RECORDS,
            )
        )

    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["policies"] = {
            k: v
            for k, v in claimed["policies"].items()
            if k not in ("sd_gc_inputs", "time_shift_scope")
        }
        return claimed


class IssuerCreatedOnly(ReferenceAdapter):
    """Issues only bundles the issuer asserts: the GCs behind a charge come that way too."""

    def capabilities(self) -> Mapping[str, Any]:
        return {**super().capabilities(), "issuance_styles": ["issuer-created"]}


class OwnStorageBeneficiary(ReferenceAdapter):
    """Shows the operator, not the storage system, on GCs cancelled for charging."""

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        state["bundles"] = [
            {**b, "beneficiary": "the operator"}
            if b["certificate_bundle_status"] == "CANCELLED_FOR_STORAGE"
            else b
            for b in state["bundles"]
        ]
        return state


class WithoutStorage(ReferenceAdapter):
    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["profiles"] = [p for p in claimed["profiles"] if p != "storage"]
        return claimed


# ====================================================================== no false failure


@pytest.mark.parametrize(
    "spec",
    [
        "reference",
        "reference:sd_gc_inputs=BACKED_WH_FIRST,time_shift_scope=WHOLE_RECORDS,"
        "validity=ROLLING_12_MONTHS,split_origin=FROM_END",
    ],
)
def test_the_reference_never_diverges_from_itself_on_storage(spec: str) -> None:
    result = storage_differential(load_adapter(spec), adapter_spec=spec)
    assert result.status is Status.PASS, result.describe()
    assert not result.code_mismatch
    assert result.steps == ()


@pytest.mark.parametrize(
    "registry",
    [
        RenamedRecords,
        WithoutUnknownBeneficiary,
        SilentOnStoragePolicies,
        IssuerCreatedOnly,
        OwnStorageBeneficiary,
    ],
)
def test_registries_that_differ_only_where_the_standard_lets_them_pass(
    registry: Callable[[], RegistryAdapter],
) -> None:
    result = storage_differential(registry())
    assert result.status is Status.PASS, result.describe()


def test_an_optional_storage_action_not_offered_is_named_as_left_out() -> None:
    result = storage_differential(WithoutUnknownBeneficiary())
    assert result.status is Status.PASS
    assert "assign_unknown_beneficiary" in result.describe()


def test_a_registry_without_the_storage_profile_is_skipped() -> None:
    result = storage_differential(WithoutStorage())
    assert result.status is Status.SKIP, result.describe()


def test_the_check_names_storage_requirements_and_is_property_based() -> None:
    check = get_check(CHECK)
    assert {"STOR-020", "STOR-024", "STOR-011", "STOR-029"} <= set(check.requirements)
    assert check.slow and check.profile.value == "storage"


# ====================================================================== it can fail


@pytest.mark.parametrize(
    ("fault", "rule"),
    [("fifo-allocates-lifo", "STOR-020"), ("sd-gc-before-inputs-cancelled", "STOR-024")],
)
def test_the_storage_faulty_registries_are_caught_for_their_rule(fault: str, rule: str) -> None:
    spec = f"faulty:{fault}"
    result = storage_differential(load_adapter(spec), adapter_spec=spec, max_examples=60)
    assert result.status is Status.FAIL, result.describe()
    assert rule in result.requirements, result.describe()
    assert result.expected and result.observed
    assert len(result.steps) <= SHORT, result.describe()
    assert result.reproduce and spec in result.reproduce


def test_a_storage_failure_replays_against_the_broken_registry_and_passes_the_reference(
    tmp_path: Path,
) -> None:
    spec = "faulty:fifo-allocates-lifo"
    result = storage_differential(load_adapter(spec), adapter_spec=spec, max_examples=60)
    assert result.status is Status.FAIL
    path = save_failure(result, tmp_path)
    assert load_failure(path)["steps"]
    again = replay(path, load_adapter(spec))
    assert again.status is Status.FAIL, again.describe()
    assert again.expected == result.expected and again.observed == result.observed
    fixed = replay(path, load_adapter("reference"))
    assert fixed.status is Status.PASS, fixed.describe()


def test_a_storage_failure_of_a_registry_with_its_own_record_ids_replays(
    tmp_path: Path,
) -> None:
    renamed = RenamedRecords(load_adapter("faulty:fifo-allocates-lifo"))
    result = storage_differential(renamed, max_examples=60)
    assert result.status is Status.FAIL, result.describe()
    assert "STOR-020" in result.requirements
    assert any(str(s.request.get("sdr_ids", "")).count("rec/") for s in result.steps)
    path = save_failure(result, tmp_path)
    again = replay(path, RenamedRecords(load_adapter("faulty:fifo-allocates-lifo")))
    assert again.status is Status.FAIL, again.describe()
    assert replay(path, RenamedRecords()).status is Status.PASS
    assert replay(path, ReferenceAdapter()).status is Status.PASS


# ====================================================================== allocations compared


def test_allocations_are_compared_in_the_registry_s_record_ids() -> None:
    records = {"SCR-1": "a", "SCR-2": "b", "SDR-1": "x"}
    model = {"allocations": [["SCR-1", "SDR-1", 40]]}
    assert compare_allocations("FIFO", records, model, {"allocations": [["a", "x", 40]]}) is None
    wrong = compare_allocations("FIFO", records, model, {"allocations": [["b", "x", 40]]})
    assert wrong is not None and not wrong.rounding_only
    assert wrong.requirements == ("STOR-020",)
    short = compare_allocations("LIFO", records, model, {"allocations": [["a", "x", 30]]})
    assert short is not None and short.requirements == ("STOR-021", "STOR-018")
    # an answer that lists nothing is not judged here (the SD-GC verdicts still are)
    assert compare_allocations("FIFO", records, model, {}) is None


def test_weighted_shares_rounded_otherwise_are_no_divergence() -> None:
    records = {"SCR-1": "a", "SCR-2": "b", "SDR-1": "x"}
    model = {"allocations": [["SCR-1", "SDR-1", 34], ["SCR-2", "SDR-1", 33]]}
    other = {"allocations": [["a", "x", 33], ["b", "x", 34]]}
    verdict = compare_allocations("WEIGHTED_AVERAGE", records, model, other)
    assert verdict is not None and verdict.rounding_only
    assert verdict.requirements == ("STOR-022",)
    # the same difference under FIFO is a divergence
    fifo = compare_allocations("FIFO", records, model, other)
    assert fifo is not None and not fifo.rounding_only


def test_requests_carry_the_registry_s_record_ids() -> None:
    records = {"SCR-1": "a", "SDR-1": "x"}
    sent = translate_records(
        records,
        {"scr_id": "SCR-1", "sdr_ids": ["SDR-1", "SDR-9"], "allocations": [["SCR-1", "SDR-1", 5]]},
    )
    assert sent == {"scr_id": "a", "sdr_ids": ["x", "SDR-9"], "allocations": [["a", "x", 5]]}
