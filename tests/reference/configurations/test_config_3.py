"""Configuration #3: GCs issued from EACs cancelled for a named beneficiary."""

from __future__ import annotations

from typing import Any

from config_world import JUNE_1, at, eac_registry, linked, may_hour, report_may

from gc_conformance.reference import BundleStatus, Claim, ErrorCode, Transfer
from gc_conformance.reference.configurations import (
    HourSuspension,
    IssueFromCancelledEacs,
    IssueLinkedGcs,
    LinkedRegistries,
    MonthlyCap,
)
from gc_conformance.reference.cross_registry import check_cross_registry
from gc_conformance.reference.eac import (
    EacCancel,
    EacIssuingBody,
    EacOpenAccount,
    EacRegisterDevice,
    EacRegistry,
    EacReportProduction,
    EacStatus,
)
from gc_conformance.reference.invariants import check_invariants

EAC1, EAC2 = "EIB-GO-00000001", "EIB-GO-00000002"


def cancelled_world(
    suspension: HourSuspension = HourSuspension.SUSPEND_WHOLE_HOUR, **cancel: Any
) -> tuple[EacRegistry, LinkedRegistries]:
    eac = eac_registry()
    report_may(eac)  # EAC1, EAC2 for May
    eac.execute(EacCancel("PRODUCER", (EAC1,), "ACME", **cancel), at(1, 2)).unwrap()
    return eac, linked(3, eac, MonthlyCap.POOLED, suspension)


def issue(
    pair: LinkedRegistries,
    hour: int,
    wh: int,
    *,
    eacs: tuple[str, ...] = (EAC1,),
    who: str = "ACME",
    day: int = 3,
    actor: str = "GCI",
) -> Any:
    command = IssueFromCancelledEacs(
        actor, eacs, "DEV-1", "M-1", *may_hour(1, hour), wh, who, "G-CONS"
    )
    return pair.execute(command, at(day))


def test_gcs_from_a_cancelled_eac_are_cancelled_at_issuance_for_its_beneficiary() -> None:
    eac, pair = cancelled_world(consumption_location="Amsterdam")
    value = issue(pair, 0, 250_000).unwrap()
    assert value.links == ((EAC1, 250_000),)
    gc = pair.gc
    issuance = gc.issuance(value.issuance_ids[0])
    assert issuance.registry_configuration == 3 and issuance.eac_ids == (EAC1,)
    assert issuance.transferable is False
    bundle = gc.bundle(value.bundle_ids[0])
    assert bundle.status is BundleStatus.CANCELLED and bundle.account_id == "G-CONS"
    assert bundle.cancellation.beneficiary == "ACME"
    assert bundle.cancellation.consumption_location == "Amsterdam"
    # The GC's consumption period is its hour, inside the EAC's (May).
    assert (bundle.cancellation.consumption_start, bundle.cancellation.consumption_end) == (
        issuance.production_start,
        issuance.production_end,
    )
    # Only the EAC's beneficiary can claim; nobody can move it.
    assert (
        gc.execute(Claim("CONSUMER", bundle.bundle_id, "OTHER"), at(4)).code
        is ErrorCode.BENEFICIARY_MISMATCH
    )
    assert gc.execute(Transfer("CONSUMER", bundle.bundle_id, "G-BUYER"), at(4)).accepted is False
    gc.execute(Claim("CONSUMER", bundle.bundle_id, "ACME"), at(4)).unwrap()
    record = eac.eac(EAC1)
    assert record is not None and record.gc_issuer_id == "GCI" and record.gc_configuration == 3
    assert record.status is EacStatus.CANCELLED
    assert check_cross_registry(eac.export_history(), gc.export_history()).ok
    assert check_invariants(gc.export_history(), gc.export_state()).ok


def test_volume_never_above_the_cancelled_eacs() -> None:
    # One cancelled EAC of 1,000,000 Wh; hours of 600,000 and 600,000 Wh.
    _, pair = cancelled_world()
    assert issue(pair, 0, 600_000).unwrap().issued_wh == 600_000
    second = issue(pair, 1, 600_000).unwrap()
    assert (second.issued_wh, second.suspended_wh) == (0, 600_000)  # 400,000 left < 600,000
    _, partial = cancelled_world(HourSuspension.SUSPEND_UNCOVERED_PART)
    issue(partial, 0, 600_000).unwrap()
    rest = issue(partial, 1, 600_000).unwrap()
    assert (rest.issued_wh, rest.suspended_wh) == (400_000, 200_000)
    _, strict = cancelled_world(HourSuspension.REFUSE)
    issue(strict, 0, 600_000).unwrap()
    assert issue(strict, 1, 600_000).code is ErrorCode.EXCEEDS_EAC_ENERGY


def test_rejections() -> None:
    _eac, pair = cancelled_world(
        consumption_start="2026-05-01T00:00:00Z", consumption_end="2026-05-15T00:00:00Z"
    )
    cases = [
        (issue(pair, 0, 1, eacs=(EAC2,)), ErrorCode.EAC_NOT_CANCELLED, "eac_ids"),
        (issue(pair, 0, 1, who="OTHER"), ErrorCode.BENEFICIARY_MISMATCH, "beneficiary"),
        (issue(pair, 0, 1, eacs=("EIB-GO-00000077",)), ErrorCode.UNKNOWN_EAC, "eac_ids"),
        (issue(pair, 0, 1, eacs=(EAC1, EAC1)), ErrorCode.INVALID_FIELD, "eac_ids"),
        (issue(pair, 0, 1, who=""), ErrorCode.INVALID_FIELD, "beneficiary"),
    ]
    late = IssueFromCancelledEacs(
        "GCI",
        (EAC1,),
        "DEV-1",
        "M-1",
        "2026-05-20T00:00:00Z",
        "2026-05-20T01:00:00Z",
        1,
        "ACME",
        "G-CONS",
    )
    cases.append((pair.execute(late, at(3)), ErrorCode.OUTSIDE_EAC_PERIOD, "interval"))
    not_issuer = IssueFromCancelledEacs(
        "ACME", (EAC1,), "DEV-1", "M-1", *may_hour(1, 0), 1, "ACME", "G-CONS"
    )
    cases.append((pair.execute(not_issuer, at(3)), ErrorCode.NOT_AUTHORISED, "actor"))
    wrong = IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 1)
    cases.append((pair.execute(wrong, at(3)), ErrorCode.WRONG_CONFIGURATION, "command"))
    before = pair.fingerprint()
    for outcome, code, field in cases:
        assert (outcome.problem.code, outcome.problem.field) == (code, field)
    assert pair.fingerprint() == before


def test_eac_of_another_device_is_refused() -> None:
    eac = eac_registry()
    eac.execute(EacRegisterDevice("EIB", "DEV-2", "E-PROD", "M-2"), at(1, 0, 5)).unwrap()
    eac.execute(
        EacReportProduction(
            "EIB", "DEV-2", "M-2", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", 1_000_000
        ),
        JUNE_1,
    ).unwrap()
    eac.execute(EacCancel("PRODUCER", (EAC1,), "ACME"), at(1, 2)).unwrap()
    pair = linked(3, eac)
    assert issue(pair, 0, 1).code is ErrorCode.EAC_DEVICE_MISMATCH


def test_each_eac_has_only_one_gc_issuer() -> None:
    eac, first = cancelled_world()
    issue(first, 0, 100_000).unwrap()
    second = linked(3, eac, issuer_id="GCI-B")
    refused = issue(second, 1, 100_000, actor="GCI-B")
    assert (refused.code, refused.problem.field) == (ErrorCode.EAC_LINKED_ELSEWHERE, "eac_ids")
    # The same issuer may issue further hours from the same EAC.
    assert issue(first, 1, 100_000).accepted


def test_refused_in_the_eac_registry_changes_neither() -> None:
    eac, pair = cancelled_world()
    eac.execute(EacOpenAccount("EIB", "E-LATE", "LATE"), at(20))
    before = pair.fingerprint()
    assert issue(pair, 0, 100_000, day=5).code is ErrorCode.TIME_REVERSAL
    assert pair.fingerprint() == before


def test_mandate_rule_forbids_configuration_3_offers() -> None:
    mandated = EacIssuingBody("EIB", "Mandated", "NL", configuration=1, government_mandate=True)
    eac = eac_registry(body=mandated)
    report_may(eac)
    eac.execute(EacCancel("PRODUCER", (EAC1,), "ACME"), at(1, 2)).unwrap()
    pair = linked(3, eac)
    assert issue(pair, 0, 1).code is ErrorCode.CONFIGURATION_MANDATED
