"""The suite's proof of power: every built-in faulty registry is failed, for its documented reason.

For each ``faulty:NAME`` every check runs (through ``execute_check``, as the CLI
runs it); at least one must FAIL, and a failing check must verify a
requirement the fault says it breaks, so the registry is caught for the right
reason and not by a side effect. A faulty registry never makes a check ERROR:
its defect is a behaviour the suite judges, not a crash. The reference passes
every check. The CLI version of this gate is ``tools/faulty_gate.py``.
"""

from __future__ import annotations

import inspect

import pytest

from gc_conformance.adapter import Capabilities, RegistryAdapter
from gc_conformance.adapters import builtin_adapters, load_adapter
from gc_conformance.adapters.faulty import FAULTS, MODEL_INTERNALS, FaultyAdapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.catalogue import load_catalogue
from gc_conformance.checks import Check, all_checks
from gc_conformance.outcomes import CheckResult, Status
from gc_conformance.reference import Registry, StorageBook
from gc_conformance.runner import RunOptions, execute_check

ATOMICITY = "must be atomic"


def run_all(spec: str) -> list[CheckResult]:
    adapter = load_adapter(spec)
    capabilities = Capabilities.from_plain(adapter.capabilities())
    options = RunOptions(adapter_spec=spec)
    try:
        return [execute_check(c, adapter, capabilities, options) for c in all_checks()]
    finally:
        adapter.close()


def failing(results: list[CheckResult], status: Status = Status.FAIL) -> list[CheckResult]:
    return [r for r in results if r.status is status]


def summary(results: list[CheckResult]) -> str:
    return "\n".join(
        f"{r.status.value} {r.check_id} {list(r.requirements)}: {r.message[:160]}"
        for r in results
        if r.status is not Status.PASS
    )


@pytest.fixture(scope="module")
def checks() -> list[Check]:
    return all_checks()


def test_there_are_at_least_fourteen_faulty_registries() -> None:
    assert len(FAULTS) >= 14
    assert all(name == fault.name for name, fault in FAULTS.items())


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_fault_documents_what_it_breaks_with_catalogue_ids(name: str) -> None:
    fault = FAULTS[name]
    catalogue = load_catalogue()
    assert fault.description.strip()
    assert fault.breaks, f"{name} names no requirement it breaks"
    unknown = [r for r in fault.breaks if r not in catalogue]
    assert not unknown, f"{name} breaks requirements missing from the catalogue: {unknown}"
    built = fault.build
    assert inspect.isclass(built) and issubclass(built, FaultyAdapter)
    doc = built.__doc__ or ""
    assert doc.strip(), f"{name} has no docstring saying what is wrong"
    undocumented = [r for r in fault.breaks if r not in doc]
    assert not undocumented, f"{name}'s docstring does not name {undocumented}"


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_faulty_registry_claims_exactly_what_the_reference_claims(name: str) -> None:
    """Only behaviour may give a faulty registry away: same profiles, styles, clock, policies."""
    reference = dict(load_adapter("reference").capabilities())
    faulty = dict(load_adapter(f"faulty:{name}").capabilities())
    assert isinstance(load_adapter(f"faulty:{name}"), RegistryAdapter)
    assert faulty.pop("name") != reference.pop("name")
    assert faulty == reference


def test_the_model_internals_the_faults_rely_on_still_exist() -> None:
    """A renamed or re-shaped private method would silently cure a fault; name it instead."""
    adapter = load_adapter("reference")
    adapter.reset({"issuer": {"issuer_id": "ISSUER-T"}})
    registry = adapter.registry  # type: ignore[attr-defined]
    instances = {
        Registry: registry,
        StorageBook: registry.book(StorageBook),
        ReferenceAdapter: adapter,
    }
    for owner, names in MODEL_INTERNALS.items():
        for name, parameters in names.items():
            assert hasattr(instances[owner], name), f"{owner.__name__}.{name} is gone"
            if parameters is None:
                continue
            signature = inspect.signature(getattr(instances[owner], name))
            positional = tuple(signature.parameters)[: len(parameters)]
            assert positional == parameters, f"{owner.__name__}.{name}{signature} changed"


def test_the_adapter_listing_carries_every_fault_with_its_breaks() -> None:
    listed = {a.name: a for a in builtin_adapters()}
    for name, fault in FAULTS.items():
        assert listed[f"faulty:{name}"].breaks == fault.breaks


def test_the_reference_passes_every_check(checks: list[Check]) -> None:
    results = run_all("reference")
    bad = [r for r in results if r.status not in (Status.PASS, Status.SKIP)]
    assert not bad, summary(bad)
    integrity = [r for r in results if r.check_id.startswith("integrity.")]
    assert integrity and all(r.status is Status.PASS for r in integrity), summary(integrity)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_every_faulty_registry_is_caught_for_its_documented_reason(name: str) -> None:
    fault = FAULTS[name]
    results = run_all(f"faulty:{name}")
    fails = failing(results)
    assert fails, f"faulty:{name} passed the whole suite\n{summary(results)}"
    errors = failing(results, Status.ERROR)
    assert not errors, f"faulty:{name} made checks ERROR instead of FAIL\n{summary(errors)}"
    right = [r for r in fails if set(r.requirements) & set(fault.breaks)]
    assert right, (
        f"faulty:{name} failed only checks of other requirements than {fault.breaks}\n"
        + summary(fails)
    )
    for result in right:
        assert result.expected or result.observed, f"{result.check_id} has no expected/observed"
        assert result.reproduce and f"faulty:{name}" in result.reproduce


def test_a_write_committed_before_a_failure_is_reported_as_an_atomicity_failure() -> None:
    """The adapter raises after committing: the verdict is FAIL (state changed), never ERROR."""
    results = run_all("faulty:committed-then-failed")
    atomic = [r for r in failing(results) if ATOMICITY in r.message]
    assert atomic, summary(results)
    assert any("IT-001" in r.requirements for r in atomic)
    assert all("failed in the adapter" in r.message for r in atomic)


def test_a_refused_partial_operation_that_splits_is_reported_as_an_atomicity_failure() -> None:
    results = run_all("faulty:refused-partial-leaves-split")
    atomic = [r for r in failing(results) if ATOMICITY in r.message and "IT-001" in r.requirements]
    assert atomic, summary(results)
