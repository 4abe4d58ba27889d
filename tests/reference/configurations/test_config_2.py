"""Configuration #2: a GC platform linked to the EAC registry."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pytest
from config_world import JUNE_1, at, device, eac_registry, linked, may_hour, report_may

from gc_conformance.reference import (
    Account,
    BundleStatus,
    Cancel,
    Device,
    ErrorCode,
    Issuer,
    OpenAccount,
    Policies,
    RegisterDevice,
    Transfer,
    ValidityReading,
)
from gc_conformance.reference.configurations import (
    CancelLinkedGcs,
    ConfigurationPolicies,
    ConvertEacs,
    HourSuspension,
    IssueFromCancelledEacs,
    IssueLinkedGcs,
    LinkBook,
    LinkedRegistries,
    MonthlyCap,
    configuration_2,
)
from gc_conformance.reference.cross_registry import check_cross_registry
from gc_conformance.reference.eac import (
    EacCancel,
    EacExport,
    EacIssuingBody,
    EacOpenAccount,
    EacReportProduction,
    EacStatus,
    EacTransfer,
)
from gc_conformance.reference.invariants import check_invariants

EAC1, EAC2 = "EIB-GO-00000001", "EIB-GO-00000002"
# The worked month: May's EAC reading is 2,700,000 Wh -> 2 EACs (2,000,000 Wh), 700,000 carried.
# Four metered hours sum to the same 2,700,000 Wh, so hourly GCs would exceed the EACs.
HOURS = (600_000, 900_000, 400_000, 800_000)


def run_month(cap: MonthlyCap, suspension: HourSuspension) -> tuple[LinkedRegistries, list[Any]]:
    eac = eac_registry()
    report_may(eac)
    pair = linked(2, eac, cap, suspension)
    outcomes = [
        pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, h), wh), at(1, 2 + h))
        for h, wh in enumerate(HOURS)
    ]
    return pair, outcomes


def test_month_pooled_cap_suspends_the_hour_without_coverage() -> None:
    pair, outcomes = run_month(MonthlyCap.POOLED, HourSuspension.SUSPEND_WHOLE_HOUR)
    values = [o.unwrap() for o in outcomes]
    # Hour 0: 600,000 of 2,000,000 left -> from EAC1 (400,000 left in EAC1).
    assert values[0].links == ((EAC1, 600_000),)
    # Hour 1: 900,000 of 1,400,000 left -> 400,000 from EAC1 + 500,000 from EAC2.
    assert values[1].links == ((EAC1, 400_000), (EAC2, 500_000))
    # Hour 2: 400,000 of 500,000 left -> EAC2.
    assert values[2].links == ((EAC2, 400_000),)
    # Hour 3: 800,000 > 100,000 left -> suspended as a whole.
    assert (values[3].issued_wh, values[3].suspended_wh, values[3].links) == (0, 800_000, ())
    assert sum(v.issued_wh for v in values) == 1_900_000  # <= 2,000,000 of EACs
    book = pair.gc.book(LinkBook)
    assert [s.suspended_wh for s in book.suspensions] == [800_000]
    assert book.linked_wh(EAC1) == 1_000_000 and book.linked_wh(EAC2) == 900_000
    eac = pair.eac
    for eac_id in (EAC1, EAC2):
        record = eac.eac(eac_id)
        assert record.status is EacStatus.BACKING_GC and record.account_id == "E-GCI"
        assert record.gc_issuer_id == "GCI" and record.gc_configuration == 2
    issuance = pair.gc.issuance(values[1].issuance_ids[0])
    assert issuance.registry_configuration == 2 and issuance.eac_ids == (EAC1, EAC2)
    assert issuance.transferable


def test_month_partial_suspension_issues_up_to_the_cap() -> None:
    _, outcomes = run_month(MonthlyCap.POOLED, HourSuspension.SUSPEND_UNCOVERED_PART)
    last = outcomes[3].unwrap()
    # Hour 3: 100,000 Wh of EAC2 left -> 100,000 issued, 700,000 suspended.
    assert (last.issued_wh, last.suspended_wh, last.links) == (100_000, 700_000, ((EAC2, 100_000),))
    assert sum(o.unwrap().issued_wh for o in outcomes) == 2_000_000


def test_month_refuse_policy_rejects_and_changes_nothing() -> None:
    eac = eac_registry()
    report_may(eac)
    pair = linked(2, eac, MonthlyCap.POOLED, HourSuspension.REFUSE)
    for h, wh in enumerate(HOURS[:3]):
        pair.execute(
            IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, h), wh), at(1, 2 + h)
        ).unwrap()
    before = pair.fingerprint()
    refused = pair.execute(
        IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 3), 800_000), at(1, 6)
    )
    assert (refused.code, refused.problem.field) == (ErrorCode.EXCEEDS_EAC_ENERGY, "energy_wh")
    assert pair.fingerprint() == before
    assert pair.gc.export_history()[-1]["accepted"] is False
    assert pair.eac.export_history()[-1]["accepted"] is False


def test_month_whole_eacs_cap_uses_each_eac_for_one_hour() -> None:
    _, outcomes = run_month(MonthlyCap.WHOLE_EACS, HourSuspension.SUSPEND_WHOLE_HOUR)
    values = [o.unwrap() for o in outcomes]
    # Hour 0 uses EAC1 (400,000 of it stranded); hour 1 uses EAC2; hours 2 and 3 find no fresh EAC.
    assert [v.links for v in values] == [((EAC1, 600_000),), ((EAC2, 900_000),), (), ()]
    assert [v.suspended_wh for v in values] == [0, 0, 400_000, 800_000]


def test_gcs_only_for_hours_inside_an_eac_period_of_the_same_device() -> None:
    eac = eac_registry()
    report_may(eac)
    pair = linked(2, eac)
    june = ("2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z")
    refused = pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *june, 1_000), at(2))
    assert (refused.code, refused.problem.field) == (ErrorCode.NO_UNDERLYING_EAC, "interval")
    wrong_meter = pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-X", *may_hour(1, 0), 1), at(2))
    assert wrong_meter.code is ErrorCode.METER_MISMATCH
    # A device the GC platform knows but the EAC Issuing Body does not.
    other = attrs_device("DEV-2", "M-2")
    pair.gc.execute(RegisterDevice("GCI", other), at(2)).unwrap()
    unknown = pair.execute(IssueLinkedGcs("GCI", "DEV-2", "M-2", *may_hour(1, 0), 1), at(2))
    assert unknown.code is ErrorCode.EAC_DEVICE_MISMATCH
    not_issuer = pair.execute(IssueLinkedGcs("BUYER", "DEV-1", "M-1", *may_hour(1, 0), 1), at(2))
    assert not_issuer.code is ErrorCode.NOT_AUTHORISED
    pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 1), at(2)).unwrap()
    twice = pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 1), at(2))
    assert twice.code is ErrorCode.DUPLICATE_ISSUANCE


def attrs_device(device_id: str, meter: str) -> Device:
    return device(device_id, meter)


def test_eac_backing_gcs_serves_no_other_claim() -> None:
    eac = eac_registry()
    report_may(eac)
    pair = linked(2, eac)
    pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 5_000), at(2)).unwrap()
    # The producer can no longer cancel, move or export the backing EAC (double disclosure).
    for command in (
        EacCancel("GCI", (EAC1,), "SOMEONE"),
        EacTransfer("GCI", (EAC1,), "E-TRADER"),
        EacExport("GCI", (EAC1,), "GCI"),
    ):
        refused = eac.execute(command, at(3))
        assert refused.code is ErrorCode.EAC_BACKS_GC
    # An EAC the producer sold on is no longer coverage for the platform.
    eac.execute(EacTransfer("PRODUCER", (EAC2,), "E-TRADER"), at(3)).unwrap()
    pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 1), 995_000), at(4)).unwrap()
    suspended = pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 2), 1), at(4))
    assert suspended.unwrap().suspended_wh == 1


def test_cancelling_a_gc_cancels_its_eacs_in_the_same_step() -> None:
    pair, outcomes = run_month(MonthlyCap.POOLED, HourSuspension.SUSPEND_WHOLE_HOUR)
    hour1 = outcomes[1].unwrap()
    result = pair.execute(
        CancelLinkedGcs("PRODUCER", hour1.bundle_ids[0], "ACME", quantity=100_000), at(2)
    ).unwrap()
    assert result.eac_ids == (EAC1, EAC2)
    for eac_id in (EAC1, EAC2):
        assert pair.eac.eac(eac_id).status is EacStatus.CANCELLED_FOR_GC
    bundle = pair.gc.bundle(result.bundle.bundle_id)
    assert bundle.status is BundleStatus.CANCELLED and bundle.quantity == 100_000
    report = check_cross_registry(pair.eac.export_history(), pair.gc.export_history())
    assert report.ok, report.findings


def test_a_plain_cancel_cannot_bypass_the_eac_registry() -> None:
    pair, outcomes = run_month(MonthlyCap.POOLED, HourSuspension.SUSPEND_WHOLE_HOUR)
    bundle_id = outcomes[0].unwrap().bundle_ids[0]
    refused = pair.gc.execute(Cancel("PRODUCER", bundle_id, "ACME"), at(5))
    assert (refused.code, refused.problem.field) == (ErrorCode.NOT_COORDINATED, "bundle_id")


def test_a_failure_in_the_eac_registry_changes_neither_registry() -> None:
    pair, outcomes = run_month(MonthlyCap.POOLED, HourSuspension.SUSPEND_WHOLE_HOUR)
    bundle_id = outcomes[0].unwrap().bundle_ids[0]
    # The EAC registry has already recorded an action later than the request's time.
    pair.eac.execute(EacOpenAccount("EIB", "E-LATE", "LATE"), at(10))
    before = pair.fingerprint()
    refused = pair.execute(CancelLinkedGcs("PRODUCER", bundle_id, "ACME"), at(5))
    assert refused.code is ErrorCode.TIME_REVERSAL
    assert pair.fingerprint() == before
    assert pair.gc.bundle(bundle_id).status is BundleStatus.ACTIVE


def test_a_failure_in_the_gc_registry_changes_neither_registry() -> None:
    pair, outcomes = run_month(MonthlyCap.POOLED, HourSuspension.SUSPEND_WHOLE_HOUR)
    bundle_id = outcomes[0].unwrap().bundle_ids[0]
    before = pair.fingerprint()
    refused = pair.execute(CancelLinkedGcs("BUYER", bundle_id, "ACME"), at(5))
    assert refused.code is ErrorCode.NOT_OWNER
    assert pair.fingerprint() == before
    plain = pair.gc.export_history()
    unlinked = pair.execute(CancelLinkedGcs("PRODUCER", 999, "ACME"), at(5))
    assert unlinked.code is ErrorCode.UNKNOWN_BUNDLE and len(plain) > 0


def test_linked_gcs_are_transferable_and_expire_no_later_than_their_eacs() -> None:
    eac = eac_registry()  # EACs valid 12 months after the period: until 2027-06-01
    report_may(eac)
    issuer = Issuer("GCI", "GC Issuer", "NL")
    pair = configuration_2(eac, issuer, Policies(validity=ValidityReading.ROLLING_24_MONTHS))
    pair.gc.execute(OpenAccount("GCI", Account("G-PROD", "PRODUCER", "p")), at(1)).unwrap()
    pair.gc.execute(OpenAccount("GCI", Account("G-BUYER", "BUYER", "b")), at(1)).unwrap()
    pair.gc.execute(RegisterDevice("GCI", attrs_device("DEV-1", "M-1")), at(1)).unwrap()
    value = pair.execute(
        IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 5_000), at(2)
    ).unwrap()
    issuance = pair.gc.issuance(value.issuance_ids[0])
    assert issuance is not None
    # Alone, 24 months after 2026-05-01T01:00Z; capped at the EAC's 2027-06-01T00:00Z.
    assert issuance.expiry == _dt.datetime(2027, 6, 1, tzinfo=_dt.UTC)
    pair.gc.execute(Transfer("PRODUCER", value.bundle_ids[0], "G-BUYER"), at(3)).unwrap()


def test_gc_issuer_must_be_appointed_and_hold_an_eac_account() -> None:
    eac = eac_registry(appoint=False)
    report_may(eac)
    pair = linked(2, eac)
    refused = pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 1), at(2))
    assert (refused.code, refused.problem.field) == (ErrorCode.GC_ISSUER_NOT_APPOINTED, "actor")


def test_mandate_rule_forbids_configuration_2_offers() -> None:
    mandated = EacIssuingBody("EIB", "Mandated", "NL", configuration=1, government_mandate=True)
    eac = eac_registry(body=mandated)
    eac.execute(
        EacReportProduction(
            "EIB", "DEV-1", "M-1", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", 2_000_000
        ),
        JUNE_1,
    ).unwrap()
    pair = linked(2, eac)
    refused = pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 1), at(2))
    assert refused.code is ErrorCode.CONFIGURATION_MANDATED
    # Without the mandate, a #1 body does not stop a #2 platform.
    voluntary = EacIssuingBody("EIB", "Voluntary", "NL", configuration=1)
    assert not voluntary.mandates_configuration_1


def test_linked_requests_must_be_coordinated_and_match_the_configuration() -> None:
    eac = eac_registry()
    report_may(eac)
    pair = linked(2, eac)
    direct = pair.gc.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 1), at(2))
    assert direct.code is ErrorCode.NOT_COORDINATED
    wrong = pair.execute(
        IssueFromCancelledEacs(
            "GCI", (EAC1,), "DEV-1", "M-1", *may_hour(1, 0), 1, "ACME", "G-CONS"
        ),
        at(2),
    )
    assert wrong.code is ErrorCode.WRONG_CONFIGURATION


def test_conversion_by_export_moves_the_eac_out_of_the_eac_registry() -> None:
    eac = eac_registry()
    report_may(eac)
    pair = linked(2, eac)
    hours = (
        (*may_hour(2, 0), 700_000),
        (*may_hour(2, 1), 500_000),  # 300,000 left in the exported EAC: suspended entirely
    )
    value = pair.execute(
        ConvertEacs("PRODUCER", (EAC1,), "DEV-1", "M-1", hours, "G-PROD"), at(2)
    ).unwrap()
    assert (value.issued_wh, value.suspended_wh) == (700_000, 500_000)
    exported = eac.eac(EAC1)
    assert exported is not None and exported.status is EacStatus.EXPORTED
    assert exported.account_id is None and eac.balance("E-PROD") == 1
    assert pair.gc.balance("G-PROD") == 700_000
    again = pair.execute(
        ConvertEacs("PRODUCER", (EAC1,), "DEV-1", "M-1", ((*may_hour(3, 0), 1),), "G-PROD"), at(3)
    )
    assert again.code is ErrorCode.EAC_NOT_ACTIVE
    outside = pair.execute(
        ConvertEacs(
            "PRODUCER",
            (EAC2,),
            "DEV-1",
            "M-1",
            (("2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z", 1),),
            "G-PROD",
        ),
        at(3),
    )
    assert outside.code is ErrorCode.OUTSIDE_EAC_PERIOD
    not_holder = pair.execute(
        ConvertEacs("BUYER", (EAC2,), "DEV-1", "M-1", ((*may_hour(3, 0), 1),), "G-BUYER"), at(3)
    )
    assert (not_holder.code, not_holder.problem.field) == (ErrorCode.NOT_OWNER, "actor")
    report = check_cross_registry(eac.export_history(), pair.gc.export_history())
    assert report.ok, report.findings
    assert check_invariants(pair.gc.export_history(), pair.gc.export_state()).ok


@pytest.mark.parametrize("cap", list(MonthlyCap))
@pytest.mark.parametrize("suspension", list(HourSuspension))
def test_policies_are_named_and_described(cap: MonthlyCap, suspension: HourSuspension) -> None:
    assert ConfigurationPolicies(cap, suspension).describe() == {
        "monthly_cap": cap.name,
        "suspension": suspension.name,
    }
