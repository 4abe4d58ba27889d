"""The edge checks (``gc_conformance.checks.edges``) pass the reference and catch defects that
sit at the edges: each faulty registry is failed under the requirement of the broken rule only.

The toy registry passing them is part of tests/conformance/test_toy_registry.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from gc_conformance.adapter import Capabilities, RegistryAdapter
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.catalogue import Level, load_catalogue
from gc_conformance.checks import all_checks, get_check
from gc_conformance.outcomes import CheckResult, Severity, Status
from gc_conformance.runner import RunOptions, execute_check

EDGES = [c.check_id for c in all_checks() if c.check_id.startswith("edges.")]


def run(adapter: RegistryAdapter, check_id: str, spec: str = "reference") -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(get_check(check_id), adapter, capabilities, RunOptions(adapter_spec=spec))


class NumbersEachIssuanceFromOne(ReferenceAdapter):
    """Hands certificate IDs 1..n out again in every new issuance of a device (per-device
    numbering restarted after a withdrawal, as a real registry did)."""

    def _bundle(self, bundle: Any) -> dict[str, Any]:
        record = super()._bundle(bundle)
        shift = record["issuance_range_start"] - 1
        record["certificate_bundle_id_range_start"] -= shift
        record["certificate_bundle_id_range_end"] -= shift
        return record


class OffsetsAsUtc(ReferenceAdapter):
    """Takes ``2024-03-01T12:00:00+02:00`` as 12:00 UTC: the zone is dropped, the hour moves."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        fixed = {
            key: (value[:19] + "Z" if isinstance(value, str) and value[19:20] in "+-" and
                  len(value) == 25 and key in ("start", "end") else value)
            for key, value in request.items()
        }  # fmt: skip
        return super().execute(fixed)


class WrapsIdsBeyond64Bits(ReferenceAdapter):
    """Reads an integer bundle ID modulo 2^64, as a registry storing it in a C integer would:
    2^64 becomes 0, i.e. the registry's first bundle."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        bundle_id = request.get("bundle_id")
        if isinstance(bundle_id, int) and not -(2**63) <= bundle_id < 2**63:
            bundles = self.registry.export_state()["bundles"]
            if bundles:
                request = {**request, "bundle_id": bundles[0]["bundle_id"]}
        return super().execute(request)


class SwapsReversedWindows(ReferenceAdapter):
    """Answers a query window whose end comes before its start as if its ends were swapped."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        start, end = request.get("start"), request.get("end")
        texts = isinstance(start, str) and isinstance(end, str)
        if request.get("action") == "query" and texts and str(end) < str(start):
            request = {**request, "start": end, "end": start}
        return super().execute(request)


class CrashesBeyond64Bits(ReferenceAdapter):
    """Lets the overflow of an integer bundle ID escape as an error (an HTTP 500)."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        bundle_id = request.get("bundle_id")
        if isinstance(bundle_id, int) and bundle_id >= 2**63:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return super().execute(request)


def test_the_edge_checks_cite_shall_requirements_of_their_profile() -> None:
    catalogue = load_catalogue()
    assert len(EDGES) >= 10
    for check_id in EDGES:
        check = get_check(check_id)
        levels = {catalogue[r].level for r in check.requirements}
        assert Level.SHALL in levels, check_id


@pytest.mark.parametrize("check_id", EDGES)
def test_the_reference_passes_every_edge(check_id: str) -> None:
    result = run(ReferenceAdapter(), check_id)
    assert result.status is Status.PASS, result.describe()


@pytest.mark.parametrize(
    ("fault", "check_id", "named"),
    [
        ("non-positive-quantity-accepted", "edges.quantity.at_one_under_one_over", {"QTY-001"}),
        ("partial-transfer-range-overrun", "edges.magnitude.ten_million_wh", {"DC-007"}),
        ("resubmission-issued-twice", "edges.issuance.adjacent_and_one_second_overlaps",
         {"DC-001"}),
        ("interval-61-minutes-accepted", "edges.issuance.adjacent_and_one_second_overlaps",
         {"TIME-002"}),
        ("withdrawn-ids-reused", "edges.ids.unique_across_issuances", {"ID-002"}),
        ("non-owner-transfer", "edges.roles.every_party", {"AUTH-001"}),
        ("claim-by-non-beneficiary", "edges.roles.every_party", {"DC-006"}),
        ("expiry-never-applied", "edges.validity.at_the_end_of_validity", {"VAL-004"}),
        ("expiry-never-applied", "edges.validity.use_after_end_wall_clock", {"VAL-004"}),
        ("fifo-allocates-lifo", "edges.storage.pool_of_three", {"STOR-020"}),
    ],
)  # fmt: skip
def test_faulty_registries_fail_the_edge_of_their_rule(
    fault: str, check_id: str, named: set[str]
) -> None:
    spec = f"faulty:{fault}"
    result = run(load_adapter(spec), check_id, spec)
    assert result.status is Status.FAIL, result.describe()
    assert named <= set(result.requirements), result.describe()
    declared = set(get_check(check_id).requirements) | {"IT-001"}
    assert set(result.requirements) <= declared, result.describe()
    assert len(result.requirements) < len(declared), "only the broken rule's requirements"


def test_ids_handed_out_again_in_a_new_issuance_fail() -> None:
    result = run(NumbersEachIssuanceFromOne(), "edges.ids.unique_across_issuances")
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("ID-002", "DC-003")
    assert "same device" in result.message and result.severity is Severity.CRITICAL


def test_an_offset_taken_as_utc_fails_and_says_the_instant_moved() -> None:
    result = run(OffsetsAsUtc(), "edges.timestamps.non_zero_utc_offsets")
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("TIME-001",)
    assert "another instant" in result.message and result.severity is Severity.CRITICAL


def test_an_id_beyond_64_bits_wrapped_onto_a_real_bundle_fails_it_004() -> None:
    result = run(WrapsIdsBeyond64Bits(), "edges.ids.beyond_64_bits_name_nothing")
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("IT-004",)
    assert "9223372036854775808 names no bundle" in result.message


def test_an_overflow_escaping_as_an_error_is_never_a_pass() -> None:
    result = run(CrashesBeyond64Bits(), "edges.ids.beyond_64_bits_name_nothing")
    assert result.status is Status.ERROR, result.describe()


def test_a_reversed_query_window_answered_as_swapped_fails_it_003() -> None:
    result = run(SwapsReversedWindows(), "edges.query.production_period_bounds")
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("IT-003",)
    assert "must not return" in result.message
