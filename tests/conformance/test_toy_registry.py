"""The adapter guide's worked example: the independent Toy Registry passes what it claims.

``examples/toy_registry`` is a registry written without the reference model
(its own data model, numbering and errors) plus the adapter a vendor would
write for it. These tests keep the guide (docs/adapters.md) honest:

* the toy really is independent: neither it nor its adapter imports the
  model, or anything of ``gc_conformance``;
* every check of every profile the toy claims passes through the real runner,
  with no code mismatch, and the CLI run the guide shows exits 0;
* the failure path the guide describes works: deliberately broken variants of
  the toy are failed by the check for the rule they break, with expected,
  observed and a reproducing command, and a crash is an error, never a pass.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `examples` is not installed: it is imported from the checkout
    sys.path.append(str(ROOT))  # appended: the checkout's other folders must not shadow anything

from examples.toy_registry.adapter import CANONICAL_CODES, ToyAdapter  # noqa: E402
from examples.toy_registry.registry import Fault, Parcel, ToyLedger  # noqa: E402
from gc_conformance.adapter import CANONICAL_CODES as CONTRACT_CODES  # noqa: E402
from gc_conformance.adapter import Capabilities, Profile  # noqa: E402
from gc_conformance.adapters import load_adapter  # noqa: E402
from gc_conformance.checks import Check, all_checks, get_check  # noqa: E402
from gc_conformance.cli import main  # noqa: E402
from gc_conformance.outcomes import CheckResult, Status  # noqa: E402
from gc_conformance.runner import RunOptions, execute_check  # noqa: E402

SPEC = "examples.toy_registry.adapter:ToyAdapter"
TOY_FILES = sorted((ROOT / "examples" / "toy_registry").glob("*.py"))


def claimed_checks() -> list[Check]:
    claimed = Capabilities.from_plain(ToyAdapter().capabilities()).profiles
    return [c for c in all_checks() if c.profile in claimed]


def run(adapter: Any, check_id: str, **options: Any) -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    options.setdefault("adapter_spec", SPEC)
    return execute_check(get_check(check_id), adapter, capabilities, RunOptions(**options))


# ====================================================================== independence


def test_the_example_is_the_checkout_s() -> None:
    import examples.toy_registry

    assert (
        Path(examples.toy_registry.__file__).resolve().parent == ROOT / "examples" / "toy_registry"
    )


def test_the_toy_imports_nothing_of_gc_conformance() -> None:
    assert TOY_FILES, "examples/toy_registry has no modules"
    for path in TOY_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            bad = [n for n in names if n.split(".")[0] in ("gc_conformance", "reference")]
            assert not bad, f"{path.name} imports {bad}: the example must stand on its own"


def test_loading_the_adapter_loads_no_module_of_the_suite() -> None:
    probe = (
        "import sys, examples.toy_registry.adapter; "
        "print([m for m in sys.modules if m.startswith('gc_conformance')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_toy_numbers_its_own_way() -> None:
    """Its IDs are not the model's: opaque strings for bundles, serials from 1 000 000."""
    adapter = load_adapter(SPEC)
    result = run(adapter, "core.issuance.into_device_account")
    assert result.status is Status.PASS
    (bundle,) = adapter.observe()["bundles"]
    assert isinstance(bundle["bundle_id"], str)
    assert bundle["certificate_bundle_id_range_start"] == 1_000_000


# ====================================================================== what the toy claims passes


def test_the_toy_claims_core_only_and_declares_the_policies_it_follows() -> None:
    capabilities = Capabilities.from_plain(ToyAdapter().capabilities())
    assert capabilities.profiles == frozenset({Profile.CORE})
    # Two readings that differ from the model's defaults: the differential check runs the
    # model under them, so the toy is compared with what it declares, not with the defaults.
    assert capabilities.policies["rounding"] == "DOWN"
    assert capabilities.policies["split_origin"] == "FROM_END"


def test_every_fault_of_the_toy_maps_to_a_canonical_code() -> None:
    assert set(CANONICAL_CODES) == set(Fault)
    assert set(CANONICAL_CODES.values()) <= CONTRACT_CODES
    adapter = ToyAdapter()
    assert adapter.map_error({"vendor_code": int(Fault.NOT_YOURS)}) == "NOT_OWNER"
    assert adapter.map_error({"vendor_code": 9999}) is None


@pytest.mark.parametrize("check", claimed_checks(), ids=lambda c: c.check_id)
def test_every_check_of_the_claimed_profiles_passes(check: Check) -> None:
    result = run(load_adapter(SPEC), check.check_id)
    assert result.status is Status.PASS, result.describe()
    assert not result.code_mismatch, result.message


def test_the_claimed_profiles_hold_the_core_checks_and_the_differential_check() -> None:
    ids = {c.check_id for c in claimed_checks()}
    assert "differential.lifecycle" in ids
    assert len([i for i in ids if i.startswith("core.")]) >= 70


def test_the_cli_run_of_the_guide_passes_and_skips_the_unclaimed_profiles(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code = main(["run", "--adapter", SPEC, "--quiet", "--json", str(out)])
    document = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0
    counts = document["summary"]["counts"]
    checks = [c for c in document["checks"] if "/" not in c["id"]]  # not the golden vectors
    assert len([c for c in checks if c["status"] == "pass"]) == len(claimed_checks())
    assert counts["fail"] == counts["error"] == 0
    skipped = [c for c in checks if c["status"] == "skip"]
    assert skipped and all("does not claim" in c["message"] for c in skipped)
    assert document["registry"]["policies"]["split_origin"] == "FROM_END"


def test_the_golden_vectors_pass_against_the_independent_toy(tmp_path: Path) -> None:
    """Vectors must encode the standard, not the model's own choices: an independent
    implementation that follows the standard passes every case it is not skipped for."""
    passed = {}
    for vectors in ("", "variants/split-from-end"):  # the toy splits from the end
        out = tmp_path / "vectors.json"
        chosen = ["--vectors", vectors] if vectors else []
        command = ["vectors", "verify", "--adapter", SPEC, *chosen, "--quiet", "--json", str(out)]
        assert main(command) == 0, vectors
        counts = json.loads(out.read_text(encoding="utf-8"))["summary"]["counts"]
        assert counts["fail"] == counts["error"] == 0
        passed[vectors] = counts["pass"]
    assert passed[""] >= 100
    # the variant holds the split cases the toy's declared split origin skips in the main set
    assert passed["variants/split-from-end"] > passed[""]


# ====================================================================== the failure path of the guide


class AnyoneMoves(ToyAdapter):
    """An adapter bug the guide walks through: transfers are sent as the parcel's holder.

    (Typical of an adapter that talks to the vendor API with an all-powerful
    service account and forgets to act as the caller.)
    """

    def _transfer(self, ledger: ToyLedger, r: Mapping[str, Any]) -> dict[str, Any]:
        parcel = ledger.parcels.get(r.get("bundle_id"))  # type: ignore[arg-type]
        if parcel is not None:
            r = {**r, "actor": ledger.accounts[parcel.account].owner}
        return super()._transfer(ledger, r)


class Overdraws(ToyLedger):
    """A registry defect: amounts are not checked against what a parcel holds."""

    @staticmethod
    def _fits(parcel: Parcel, wanted: int | None) -> None:
        return None


class OverdrawingToy(ToyAdapter):
    ledger_type = Overdraws


class SaysFromStart(ToyAdapter):
    """Declares another split origin than the toy follows."""

    def capabilities(self) -> Mapping[str, Any]:
        plain = dict(super().capabilities())
        plain["policies"] = {**plain["policies"], "split_origin": "FROM_START"}
        return plain


class Unmapped(ToyAdapter):
    """Forwards the toy's refusals without the error mapper."""

    def map_error(self, answer: Mapping[str, Any]) -> str | None:
        return None


class TimesOut(ToyAdapter):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "cancel":
            raise TimeoutError("the Toy Registry did not answer in 30 s")
        return super().execute(request)


def test_an_adapter_that_lets_anyone_transfer_fails_the_authority_check() -> None:
    result = run(AnyoneMoves(), "core.transfer.non_owner_refused", adapter_spec="tests:AnyoneMoves")
    assert result.status is Status.FAIL
    assert result.expected == "rejected NOT_OWNER"
    assert result.observed.startswith("accepted")
    last = result.steps[-1]
    assert (last.request["action"], last.request["actor"]) == ("transfer", "bob")
    assert result.reproduce.startswith(
        "gc-conformance run --adapter tests:AnyoneMoves --check core.transfer.non_owner_refused"
    )
    assert run(AnyoneMoves(), "differential.lifecycle").status is Status.FAIL


def test_a_registry_that_overdraws_parcels_fails_the_quantity_check() -> None:
    result = run(OverdrawingToy(), "core.quantity.exceeding_bundle_refused")
    assert result.status is Status.FAIL
    assert result.expected == "rejected QUANTITY_EXCEEDS_BUNDLE"


def test_a_wrongly_declared_policy_fails_the_check_of_that_policy() -> None:
    result = run(SaysFromStart(), "core.split.origin_follows_policy")
    assert result.status is Status.FAIL
    assert "FROM_START" in result.message


def test_refusals_without_canonical_codes_are_code_mismatches_never_passes() -> None:
    strict = run(Unmapped(), "core.transfer.unknown_account_refused")
    assert (strict.status, strict.code_mismatch) == (Status.FAIL, True)
    assert strict.observed.startswith("rejected None: E2001 NO_SUCH_ACCOUNT")
    lenient = run(Unmapped(), "core.transfer.unknown_account_refused", strict_codes=False)
    assert (lenient.status, lenient.code_mismatch) == (Status.PASS, True)


def test_an_adapter_that_times_out_is_an_error() -> None:
    result = run(TimesOut(), "core.cancel.partial_split_partitions_parent")
    assert result.status is Status.ERROR
    assert "TimeoutError" in result.message
    assert result.steps[-1].answer is None
