"""The storage (D6/D7) and configuration #2/#3 (D3, D4) checks against the reference and faults.

Three claims are tested here:

* the reference model passes every storage and configuration check, under
  every declared configuration practice (a false *fail* would cost a vendor a week);
* each check area catches a registry that breaks its rule (a check that cannot
  fail would let a double-counting registry be accredited): small
  ``ReferenceAdapter`` subclasses each add one realistic defect;
* every storage and configuration rejection code of the reference model is
  provoked, through the contract, by at least one check.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

from gc_conformance.adapter import Capabilities, Profile
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.catalogue import Level, coverage, load_catalogue
from gc_conformance.checks import Check, all_checks, get_check
from gc_conformance.outcomes import CheckResult, Status
from gc_conformance.reference import (
    ConfigurationPolicies,
    ErrorCode,
    HourSuspension,
    MonthlyCap,
    Policies,
    StorageBook,
    TimeShiftScope,
)
from gc_conformance.runner import RunOptions, execute_check

AREAS = ("storage.", "config2.", "config3.")
#: Codes no request of the adapter contract can provoke, with the reason.
UNREACHABLE = {
    # Designating a second Issuing Body for the same EAC type and domain happens when a
    # scheme is set up, not through any request a registry answers.
    "DUPLICATE_ISSUING_BODY",
    # Needs a second GC Issuer using the same EAC; one adapter runs one GC registry.
    "EAC_LINKED_ELSEWHERE",
}


def my_checks() -> list[Check]:
    return [c for c in all_checks() if c.check_id.startswith(AREAS)]


def run(check_id: str, adapter: Any) -> CheckResult:
    caps = Capabilities.from_plain(adapter.capabilities())
    return execute_check(get_check(check_id), adapter, caps, RunOptions())


def code_group(heading: str) -> set[str]:
    """The ErrorCode names under ``# --- <heading> ---`` in reference/errors.py."""
    source = inspect.getsource(ErrorCode)
    part = source.split(f"# --- {heading}")[1].split("# ---")[0]
    return set(re.findall(r"^\s+([A-Z_]+) = ", part, flags=re.MULTILINE))


# ================================================================ counts and catalogue


def test_enough_requirements_and_checks_and_every_shall_is_checked() -> None:
    catalogue = load_catalogue()
    storage = [r for r in catalogue.values() if r.requirement_id.startswith("STOR-")]
    configs = [r for r in catalogue.values() if r.requirement_id.startswith("CONF-")]
    assert len(storage) >= 20 and len(configs) >= 10
    checks = my_checks()
    assert len([c for c in checks if c.profile is Profile.STORAGE]) >= 20
    assert len([c for c in checks if c.profile in (Profile.CONFIG_2, Profile.CONFIG_3)]) >= 10
    by_requirement = coverage().checks_by_requirement
    # Every storage/configuration requirement, whatever its level, has a check.
    assert [
        r.requirement_id for r in storage + configs if not by_requirement[r.requirement_id]
    ] == []
    levels = {r.level for r in storage + configs}
    assert levels == {Level.SHALL, Level.SHOULD, Level.MAY}
    for c in checks:
        assert {catalogue[rid].profile for rid in c.requirements} == {c.profile}, c.check_id


# ================================================================ the reference passes


@pytest.mark.parametrize("check_id", [c.check_id for c in my_checks()])
def test_the_reference_passes(check_id: str) -> None:
    result = run(check_id, ReferenceAdapter())
    assert result.status is Status.PASS, result.describe()
    assert not result.code_mismatch, result.message


@pytest.mark.parametrize(
    "practice",
    [
        (MonthlyCap.POOLED, HourSuspension.SUSPEND_UNCOVERED_PART),
        (MonthlyCap.POOLED, HourSuspension.REFUSE),
        (MonthlyCap.WHOLE_EACS, HourSuspension.SUSPEND_WHOLE_HOUR),
        (MonthlyCap.WHOLE_EACS, HourSuspension.REFUSE),
    ],
    ids=lambda p: f"{p[0].name}-{p[1].name}",
)
def test_the_reference_passes_under_every_declared_practice(
    practice: tuple[MonthlyCap, HourSuspension],
) -> None:
    adapter = ReferenceAdapter(configuration_policies=ConfigurationPolicies(*practice))
    for c in my_checks():
        if c.profile in (Profile.CONFIG_2, Profile.CONFIG_3):
            result = run(c.check_id, adapter)
            assert result.status is Status.PASS, result.describe()


# ================================================================ rejection-code coverage


def provoked_codes(adapter: Any) -> set[str]:
    """Codes some check required (``Session.reject``) and the registry answered."""
    codes = set()
    for c in my_checks():
        for step in run(c.check_id, adapter).steps:
            answer = step.answer or {}
            if not answer.get("accepted", True) and step.expectation == f"reject {answer['code']}":
                codes.add(answer["code"])
    return codes


def test_every_storage_and_configuration_code_is_provoked_by_a_check() -> None:
    storage, configurations = code_group("storage"), code_group("configurations")
    assert "INPUTS_NOT_CANCELLED" in storage and "NOT_COORDINATED" in configurations
    provoked = provoked_codes(ReferenceAdapter())
    # EXCEEDS_EAC_ENERGY exists only where hours are refused rather than suspended.
    refusing = ConfigurationPolicies(MonthlyCap.POOLED, HourSuspension.REFUSE)
    provoked |= provoked_codes(ReferenceAdapter(configuration_policies=refusing))
    # TIME_SHIFT_ALREADY_CLAIMED exists only where a claim uses whole records.
    whole = Policies(time_shift_scope=TimeShiftScope.WHOLE_RECORDS)
    provoked |= provoked_codes(ReferenceAdapter(policies=whole))
    assert (storage | configurations) - UNREACHABLE - provoked == set()
    assert configurations >= UNREACHABLE  # the exemptions name real codes of the group


# ================================================================ broken registries


class Broken(ReferenceAdapter):
    """The reference with one defect; ``phantoms`` are bundles it claims to hold."""

    def __init__(self, **policies: Any) -> None:
        super().__init__(**policies)
        self.phantoms: list[dict[str, Any]] = []

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        self.phantoms = []

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        state["bundles"] = [*state["bundles"], *self.phantoms]
        return state

    def phantom(self, quantity: int, **fields: Any) -> dict[str, Any]:
        start = 10**9 + sum(p["bundle_quantity"] for p in self.phantoms)
        bundle = {
            "bundle_id": f"PHANTOM-{len(self.phantoms) + 1}",
            "certificate_bundle_id_range_start": start,
            "certificate_bundle_id_range_end": start + quantity - 1,
            "bundle_quantity": quantity,
            "certificate_bundle_status": "ACTIVE",
            "is_storage": False,
            **fields,
        }
        self.phantoms.append(bundle)
        return bundle


def refused(answer: Mapping[str, Any], *codes: str) -> bool:
    return not answer["accepted"] and answer["code"] in codes


def accepted(result: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return {"accepted": True, "result": dict(result or {})}


def stamp_of(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


class EarlySdGc(Broken):
    """Issues the SD-GC of an allocated SDR even when no GC was cancelled for its charge."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") != "issue_storage_gc" or not refused(
            answer, "INPUTS_NOT_CANCELLED"
        ):
            return answer
        sdr = self.registry.book(StorageBook).sdr(request["sdr_id"])
        assert sdr is not None
        bundle = self.phantom(
            sdr.discharge_energy,
            account_id=sdr.account_id,
            device_id=sdr.storage_id,
            production_starting_interval=stamp_of(sdr.discharging_start),
            is_storage=True,
        )
        return accepted({"sdr_id": sdr.sdr_id, "bundle_id": bundle["bundle_id"]})


class SwitchableAllocation(Broken):
    """Says yes when the operator asks to switch the allocation method after registration."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "change_storage_allocation_method" and refused(
            answer, "ALLOCATION_METHOD_FIXED"
        ):
            return accepted({"storage_id": request["storage_id"]})
        return answer


class MethodSwap(Broken):
    """Registers a storage system under another allocation method than the one declared."""

    swap: ClassVar[Mapping[str, str]] = {}

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "register_storage":
            method = request["allocation_method"]
            request = {**request, "allocation_method": self.swap.get(method, method)}
        return super().execute(request)


class FifoIsLifo(MethodSwap):
    """FIFO registered as LIFO: the newest charge leaves first."""

    swap: ClassVar[Mapping[str, str]] = {"FIFO": "LIFO"}


class LifoIsFifo(MethodSwap):
    """LIFO registered as FIFO: the oldest charge leaves first."""

    swap: ClassVar[Mapping[str, str]] = {"LIFO": "FIFO"}


class AverageIsFifo(MethodSwap):
    """Weighted average registered as FIFO: one charge gives everything."""

    swap: ClassVar[Mapping[str, str]] = {"WEIGHTED_AVERAGE": "FIFO"}


class SdGcWithLosses(Broken):
    """Issues the storage losses as SD-GCs too (discharge plus what was lost)."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "issue_storage_gc" and answer["accepted"]:
            sdr = self.registry.book(StorageBook).sdr(request["sdr_id"])
            assert sdr is not None
            self.phantom(
                sdr.discharge_energy // 4,
                account_id=sdr.account_id,
                device_id=sdr.storage_id,
                production_starting_interval=stamp_of(sdr.discharging_start),
                is_storage=True,
            )
        return answer


class UntaggedSdGc(Broken):
    """Shows SD-GCs without the storage tag."""

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        state["bundles"] = [{**b, "is_storage": False} for b in state["bundles"]]
        return state


class ForgetfulRecords(Broken):
    """Keeps neither the source of the GCs behind an SCR nor the storage location of SD-GCs."""

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        storage = dict(state["storage"])
        storage["scrs"] = [{**r, "charging_energy_source": None} for r in storage["scrs"]]
        storage["sd_gcs"] = [
            {**g, "storage_device_location": g["device_location"]} for g in storage["sd_gcs"]
        ]
        state["storage"] = storage
        return state


class LosslessReports(Broken):
    """Reports no loss for any storage interval."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "submit_storage_data" and answer["accepted"]:
            return accepted({**answer["result"], "loss_wh": 0})
        return answer


class FrozenSdGc(Broken):
    """Refuses to transfer SD-GCs."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("action") == "transfer":
            bundle = self.registry.bundle(request["bundle_id"])
            issuance = None if bundle is None else self.registry.issuance(bundle.issuance_id)
            if issuance is not None and issuance.is_storage:
                return {"accepted": False, "code": "NOT_TRANSFERABLE", "message": "storage"}
        return super().execute(request)


class ReissuedHour(Broken):
    """Issues a linked hour again when asked twice."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") in ("issue_linked_gcs", "issue_from_cancelled_eacs") and refused(
            answer, "DUPLICATE_ISSUANCE"
        ):
            self.phantom(
                int(request["energy_wh"]),
                account_id="ACC-ALICE",
                device_id=request["device_id"],
                production_starting_interval=request["start"],
            )
            return accepted({"issued_wh": int(request["energy_wh"])})
        return answer


class StorageOutputIssued(Broken):
    """Issues ordinary GCs for a storage system's metered output."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if not refused(answer, "STORAGE_OUTPUT_NEEDS_SDR"):
            return answer
        bundle = self.phantom(
            int(request["energy_wh"]),
            account_id="ACC-ALICE",
            device_id=request["device_id"],
            production_starting_interval=request["start"],
        )
        return accepted({"bundle_id": bundle["bundle_id"]})


class SecondTimeShift(Broken):
    """Declares time_shift_scope WHOLE_RECORDS, yet accepts a time-shift claim resting on an
    SCR that already served one (as a plain claim)."""

    def __init__(self) -> None:
        super().__init__(policies=Policies(time_shift_scope=TimeShiftScope.WHOLE_RECORDS))

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "claim_time_shift" and refused(
            answer, "TIME_SHIFT_ALREADY_CLAIMED"
        ):
            return super().execute({**request, "action": "claim"})
        return answer


class UncappedHours(Broken):
    """Issues the part of an hour its EACs do not cover as well (no cap, no suspension)."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") not in ("issue_linked_gcs", "issue_from_cancelled_eacs"):
            return answer
        if answer["accepted"]:
            shortfall = int(answer["result"].get("suspended_wh", 0))
        elif refused(answer, "EXCEEDS_EAC_ENERGY"):
            shortfall = int(request["energy_wh"])
        else:
            return answer
        if shortfall:
            self.phantom(
                shortfall,
                account_id="ACC-ALICE",
                device_id=request["device_id"],
                production_starting_interval=request["start"],
            )
        return accepted({**answer.get("result", {}), "issued_wh": int(request["energy_wh"])})


class MovableBackingEac(Broken):
    """Lets the holder transfer an EAC that backs GCs."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "eac_transfer" and refused(answer, "EAC_BACKS_GC"):
            return accepted({"value": request["eac_ids"]})
        return answer


class CancelLeavesEacs(Broken):
    """Cancels #2 GCs without cancelling their EACs (the EAC side never hears of it)."""

    def observe(self) -> Mapping[str, Any]:
        state = dict(super().observe())
        state["eacs"] = [
            {**e, "status": "BACKING_GC"} if e["status"] == "CANCELLED_FOR_GC" else e
            for e in state.get("eacs", [])
        ]
        return state


class MandateBlind(Broken):
    """Ignores the EAC Issuing Body's government-mandated configuration #1."""

    def reset(self, setup: Mapping[str, Any]) -> None:
        body = {k: v for k, v in setup.get("eac_body", {}).items() if k == "body_id"}
        super().reset({**setup, "eac_body": body})


class TransferableConfig3(Broken):
    """Lets the holder of configuration #3 GCs pass them to another account."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") != "transfer" or answer["accepted"]:
            return answer
        bundle = self.registry.bundle(request["bundle_id"])
        issuance = None if bundle is None else self.registry.issuance(bundle.issuance_id)
        if bundle is None or issuance is None or issuance.registry_configuration != 3:
            return answer
        moved = self.phantom(
            request.get("quantity") or bundle.quantity,
            account_id=request["to_account"],
            device_id=issuance.device_id,
            certificate_bundle_status="CANCELLED",
        )
        return accepted({"bundle_id": moved["bundle_id"]})


class AnyBeneficiary(Broken):
    """Issues #3 GCs from cancelled EACs for whoever the request names (as if for acme)."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "issue_from_cancelled_eacs" and refused(
            answer, "BENEFICIARY_MISMATCH"
        ):
            return super().execute({**request, "beneficiary": "acme"})
        return answer


class FromActiveEacs(Broken):
    """Issues #3 GCs from EACs nobody cancelled, cancelling them itself for the requester."""

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") != "issue_from_cancelled_eacs" or not refused(
            answer, "EAC_NOT_CANCELLED"
        ):
            return answer
        super().execute(
            {
                "action": "eac_cancel",
                "actor": "alice",
                "now": request["now"],
                "eac_ids": request["eac_ids"],
                "beneficiary": request["beneficiary"],
            }
        )
        return super().execute(request)


FAULTS: list[tuple[Callable[[], Broken], tuple[str, ...]]] = [
    (
        EarlySdGc,
        (
            "storage.sdgc.only_after_inputs_cancelled",
            "storage.allocation.each_wh_once",
            "storage.allocation.charge_before_discharge",
        ),
    ),
    (SwitchableAllocation, ("storage.registration.allocation_method_fixed",)),
    (FifoIsLifo, ("storage.allocation.fifo", "storage.registration.allocation_method_fixed")),
    (LifoIsFifo, ("storage.allocation.lifo",)),
    (AverageIsFifo, ("storage.allocation.weighted_average",)),
    (StorageOutputIssued, ("storage.output.only_through_sdr",)),
    (SecondTimeShift, ("storage.time_shift.claim_uses_everything_once",)),
    (SdGcWithLosses, ("storage.sdgc.volume_and_interval", "storage.sdgc.sdr_serves_once")),
    (UntaggedSdGc, ("storage.sdgc.storage_tag_and_source",)),
    (ForgetfulRecords, ("storage.charge.scr_records_sources", "storage.sdgc.locations_and_origin")),
    (LosslessReports, ("storage.losses.interval_formulas",)),
    (FrozenSdGc, ("storage.sdgc.ordinary_lifecycle",)),
    (
        UncappedHours,
        (
            "config2.issuance.never_exceeds_eacs",
            "config2.issuance.declared_cap_and_suspension",
            "config3.issuance.never_exceeds_eacs",
            "config3.issuance.declared_cap_and_suspension",
        ),
    ),
    (ReissuedHour, ("config2.issuance.hour_issued_once", "config3.issuance.hour_issued_once")),
    (MovableBackingEac, ("config2.eacs.backing_eac_frozen",)),
    (CancelLeavesEacs, ("config2.cancel.cancels_eacs",)),
    (MandateBlind, ("config2.mandate.refused", "config3.mandate.refused")),
    (TransferableConfig3, ("config3.transfer.not_transferable",)),
    (AnyBeneficiary, ("config3.issuance.only_from_cancelled_eacs",)),
    (FromActiveEacs, ("config3.issuance.only_from_cancelled_eacs",)),
]


@pytest.mark.parametrize(("fault", "caught_by"), FAULTS, ids=[f.__name__ for f, _ in FAULTS])
def test_a_broken_registry_fails_the_check_of_the_rule_it_breaks(
    fault: Callable[[], Broken], caught_by: tuple[str, ...]
) -> None:
    for check_id in caught_by:
        result = run(check_id, fault())
        assert result.status is Status.FAIL, result.describe()
        assert not result.code_mismatch, result.describe()
        assert result.reproduce and result.steps


@pytest.mark.parametrize(("fault", "caught_by"), FAULTS, ids=[f.__name__ for f, _ in FAULTS])
def test_a_broken_registry_is_blamed_only_within_its_area(
    fault: Callable[[], Broken], caught_by: tuple[str, ...]
) -> None:
    """A storage defect fails only storage checks, a configuration defect only configuration
    checks: no check of the other area leans on the behaviour the defect changes."""
    family = caught_by[0].split(".")[0].rstrip("23")
    failing = [c.check_id for c in my_checks() if run(c.check_id, fault()).status is Status.FAIL]
    assert set(caught_by) <= set(failing)
    assert [c for c in failing if not c.startswith(family)] == []


def test_a_missing_observation_skips_with_a_reason_instead_of_passing() -> None:
    class Opaque(ReferenceAdapter):
        def observe(self) -> Mapping[str, Any]:
            state = dict(super().observe())
            state.pop("storage", None)
            state.pop("eacs", None)
            return state

    for check_id in (
        "storage.charge.scr_records_sources",
        "storage.sdgc.locations_and_origin",
        "config2.cancel.cancels_eacs",
        "config3.eacs.one_gc_issuer",
    ):
        result = run(check_id, Opaque())
        assert result.status is Status.SKIP, result.describe()
        assert "extension" in result.message
    # Checks that can see what they need through bundles and results still run.
    assert run("storage.allocation.fifo", Opaque()).status is Status.PASS
    assert run("config2.eacs.backing_eac_frozen", Opaque()).status is Status.PASS
