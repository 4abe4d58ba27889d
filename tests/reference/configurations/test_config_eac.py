"""Configuration #0: the EAC registry (face value, carry-forward, transfer, cancel, expiry)."""

from __future__ import annotations

import pytest
from config_world import BODY, JUNE_1, MAY, at, eac_registry, report_may

from gc_conformance.reference import ErrorCode, InvalidInput
from gc_conformance.reference.eac import (
    AppointGcIssuer,
    EacBackGcs,
    EacCancel,
    EacCancelForGcs,
    EacExpire,
    EacExport,
    EacFaceValue,
    EacIssuingBody,
    EacLinkCancelled,
    EacOpenAccount,
    EacRegisterDevice,
    EacReportProduction,
    EacStatus,
    EacTransfer,
    designate_issuing_bodies,
)

JUNE = ("2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z")
JULY = ("2026-07-01T00:00:00Z", "2026-08-01T00:00:00Z")


def test_face_value_remainder_is_carried_forward_month_to_month() -> None:
    eac = eac_registry()
    # May: 2,700,000.4 Wh -> 2,700,000 Wh (nearest) = 2 EACs of 1 MWh, 700,000 Wh carried.
    may = report_may(eac, "2700000.4")
    assert len(may.eac_ids) == 2 and may.carried_out_wh == 700_000
    # June: 700,000 + 1,450,000 = 2,150,000 -> 2 EACs, 150,000 carried.
    june = eac.execute(EacReportProduction("EIB", "DEV-1", "M-1", *JUNE, 1_450_000), at(1, 1, 7))
    assert len(june.unwrap().eac_ids) == 2 and june.unwrap().carried_out_wh == 150_000
    # July: 150,000 + 800,000 = 950,000 -> no EAC at all, 950,000 carried.
    july = eac.execute(EacReportProduction("EIB", "DEV-1", "M-1", *JULY, 800_000), at(1, 1, 8))
    assert july.unwrap().eac_ids == () and eac.carried_wh("DEV-1") == 950_000
    assert [e.eac_id for e in eac.eacs()] == [f"EIB-GO-{n:08d}" for n in range(1, 5)]
    assert all(e.face_value_wh == 1_000_000 for e in eac.eacs())
    assert eac.balance("E-PROD") == 4


def test_face_value_is_a_policy() -> None:
    eac = eac_registry(EacFaceValue.ONE_KWH)
    # 2,700,500.5 Wh rounds (nearest, halves up) to 2,700,501 Wh = 2,700 EACs of 1 kWh + 501 Wh.
    result = report_may(eac, "2700500.5")
    assert len(result.eac_ids) == 2_700 and result.carried_out_wh == 501
    assert eac.policies.describe() == {
        "face_value": "ONE_KWH",
        "validity": "ROLLING_12_MONTHS",
        "rounding": "NEAREST",
    }


def test_transfer_cancel_for_named_beneficiary_and_expiry() -> None:
    eac = eac_registry()
    ids = report_may(eac).eac_ids
    eac.execute(EacTransfer("PRODUCER", ids, "E-TRADER"), at(2)).unwrap()
    eac.execute(EacTransfer("TRADER", ids[:1], "E-PROD"), at(3)).unwrap()  # any number of times
    eac.execute(EacCancel("TRADER", ids[1:], "ACME", consumption_location="NL"), at(4)).unwrap()
    cancelled = eac.eac(ids[1])
    assert cancelled is not None and cancelled.status is EacStatus.CANCELLED
    assert cancelled.beneficiary == "ACME"
    assert cancelled.consumption_period == cancelled.production_period  # the default
    # Cancelled EACs can no longer move.
    refused = eac.execute(EacTransfer("TRADER", ids[1:], "E-PROD"), at(5))
    assert refused.code is ErrorCode.EAC_NOT_ACTIVE and refused.problem.field == "eac_ids"
    # 12 months after the period's end (2026-06-01) the unused EAC expires.
    assert eac.execute(EacExpire("EIB"), at(31, 23, 5).replace(year=2027)).unwrap() == ()
    assert eac.execute(EacExpire("EIB"), at(1, 0, 6).replace(year=2027)).unwrap() == ids[:1]
    expired = eac.eac(ids[0])
    assert expired is not None and expired.status is EacStatus.EXPIRED
    late = eac.execute(EacTransfer("PRODUCER", ids[:1], "E-TRADER"), at(2, 0, 6).replace(year=2027))
    assert late.code is ErrorCode.EAC_NOT_ACTIVE


def test_cancel_after_validity_is_refused() -> None:
    eac = eac_registry()
    ids = report_may(eac).eac_ids
    refused = eac.execute(EacCancel("PRODUCER", ids, "ACME"), at(1, 0, 6).replace(year=2027))
    assert refused.code is ErrorCode.CERTIFICATE_EXPIRED


@pytest.mark.parametrize(
    ("command", "code", "field"),
    [
        (EacOpenAccount("PRODUCER", "X", "PRODUCER"), ErrorCode.NOT_AUTHORISED, "actor"),
        (EacOpenAccount("EIB", "E-PROD", "P"), ErrorCode.DUPLICATE_ACCOUNT, "account_id"),
        (EacOpenAccount("EIB", "", "P"), ErrorCode.INVALID_FIELD, "account_id"),
        (EacRegisterDevice("EIB", "DEV-1", "E-PROD", "M"), ErrorCode.DUPLICATE_DEVICE, "device_id"),
        (EacRegisterDevice("EIB", "DEV-9", "NOPE", "M"), ErrorCode.UNKNOWN_ACCOUNT, "account_id"),
        (
            EacReportProduction("EIB", "DEV-9", "M-1", *MAY, 1),
            ErrorCode.UNKNOWN_DEVICE,
            "device_id",
        ),
        (EacReportProduction("EIB", "DEV-1", "M-9", *MAY, 1), ErrorCode.METER_MISMATCH, "meter_id"),
        (EacReportProduction("GCI", "DEV-1", "M-1", *MAY, 1), ErrorCode.NOT_AUTHORISED, "actor"),
        (
            EacReportProduction("EIB", "DEV-1", "M-1", *MAY, -1),
            ErrorCode.INVALID_ENERGY,
            "energy_wh",
        ),
        (
            EacReportProduction(
                "EIB", "DEV-1", "M-1", "2026-05-20T00:00:00Z", "2026-06-01T12:00:00Z", 1
            ),
            ErrorCode.DUPLICATE_ISSUANCE,
            "period",
        ),
        (
            EacReportProduction("EIB", "DEV-1", "M-1", *JUNE, 1),
            ErrorCode.INTERVAL_NOT_ENDED,
            "period",
        ),
        (
            EacTransfer("PRODUCER", ("EIB-GO-00000009",), "E-TRADER"),
            ErrorCode.UNKNOWN_EAC,
            "eac_ids",
        ),
        (EacTransfer("PRODUCER", (), "E-TRADER"), ErrorCode.INVALID_FIELD, "eac_ids"),
        (
            EacTransfer("PRODUCER", ("EIB-GO-00000001", "EIB-GO-00000001"), "E-TRADER"),
            ErrorCode.INVALID_FIELD,
            "eac_ids",
        ),
        (EacTransfer("TRADER", ("EIB-GO-00000001",), "E-TRADER"), ErrorCode.NOT_OWNER, "actor"),
        (
            EacTransfer("PRODUCER", ("EIB-GO-00000001",), "E-PROD"),
            ErrorCode.SAME_ACCOUNT,
            "to_account",
        ),
        (
            EacTransfer("PRODUCER", ("EIB-GO-00000001",), "NOPE"),
            ErrorCode.UNKNOWN_ACCOUNT,
            "to_account",
        ),
        (EacCancel("PRODUCER", ("EIB-GO-00000001",), " "), ErrorCode.INVALID_FIELD, "beneficiary"),
        (EacExpire("PRODUCER"), ErrorCode.NOT_AUTHORISED, "actor"),
        ("not a command", ErrorCode.INVALID_FIELD, "command"),
    ],
)
def test_rejections_name_code_and_field_and_change_nothing(
    command: object, code: ErrorCode, field: str
) -> None:
    eac = eac_registry()
    report_may(eac)
    before = eac.fingerprint()
    outcome = eac.execute(command, at(2))
    assert not outcome.accepted
    assert (outcome.problem.code, outcome.problem.field) == (code, field)
    assert eac.fingerprint() == before
    assert eac.export_history()[-1]["accepted"] is False


def test_time_reversal_is_refused() -> None:
    eac = eac_registry()
    report_may(eac)
    outcome = eac.execute(EacExpire("EIB"), at(1, 0, 5))
    assert outcome.code is ErrorCode.TIME_REVERSAL


def test_only_one_issuing_body_per_type_and_domain() -> None:
    other_type = EacIssuingBody("EIB-2", "Other", "NL", eac_type="REC")
    other_domain = EacIssuingBody("EIB-3", "Other", "BE")
    assert designate_issuing_bodies([BODY, other_type, other_domain]) == {
        ("NL", "GO"): "EIB",
        ("NL", "REC"): "EIB-2",
        ("BE", "GO"): "EIB-3",
    }
    with pytest.raises(InvalidInput) as raised:
        designate_issuing_bodies([BODY, EacIssuingBody("RIVAL", "Rival", "NL")])
    assert raised.value.code is ErrorCode.DUPLICATE_ISSUING_BODY


def test_only_the_body_issues() -> None:
    eac = eac_registry()
    outcome = eac.execute(EacReportProduction("RIVAL", "DEV-1", "M-1", *MAY, 5_000_000), JUNE_1)
    assert outcome.code is ErrorCode.NOT_AUTHORISED and eac.eacs() == ()


def test_body_configuration_is_0_or_1() -> None:
    with pytest.raises(InvalidInput):
        EacIssuingBody("B", "B", "NL", configuration=2)


def test_linking_requests_in_the_eac_registry() -> None:
    """The EAC-side halves of #2/#3 requests, as the coordinator sends them."""
    eac = eac_registry()
    first, second = report_may(eac).eac_ids
    # Only an appointed GC Issuer with an EAC account may take EACs to back GCs or receive exports.
    stranger = eac.execute(EacBackGcs("STRANGER", (first,)), at(2))
    assert (stranger.code, stranger.problem.field) == (ErrorCode.GC_ISSUER_NOT_APPOINTED, "actor")
    export = eac.execute(EacExport("PRODUCER", (first,), "STRANGER"), at(2))
    assert (export.code, export.problem.field) == (
        ErrorCode.GC_ISSUER_NOT_APPOINTED,
        "gc_issuer_id",
    )
    eac.execute(AppointGcIssuer("EIB", "GCI-B"), at(2)).unwrap()
    eac.execute(EacOpenAccount("EIB", "E-GCI-B", "GCI-B"), at(2)).unwrap()
    eac.execute(EacBackGcs("GCI", (first,)), at(3)).unwrap()
    taken = eac.execute(EacBackGcs("GCI-B", (first,)), at(3))
    assert taken.code is ErrorCode.EAC_LINKED_ELSEWHERE
    # A GC Issuer holds EACs only to back GCs: nobody can transfer EACs to it.
    gift = eac.execute(EacTransfer("PRODUCER", (second,), "E-GCI"), at(3))
    assert (gift.code, gift.problem.field) == (ErrorCode.ISSUER_MAY_NOT_HOLD, "to_account")
    # Cancel-for-GCs only for EACs backing the asking issuer's GCs.
    assert (
        eac.execute(EacCancelForGcs("GCI-B", (first,)), at(4)).code
        is ErrorCode.EAC_LINKED_ELSEWHERE
    )
    assert eac.execute(EacCancelForGcs("GCI", (first,)), at(4)).unwrap() == (first,)
    # #3 links need an EAC cancelled for a beneficiary.
    refused = eac.execute(EacLinkCancelled("GC3", (second,)), at(5))
    assert refused.code is ErrorCode.EAC_NOT_CANCELLED
    eac.execute(EacCancel("PRODUCER", (second,), "ACME"), at(5)).unwrap()
    assert eac.execute(EacLinkCancelled("GC3", (second,)), at(6)).unwrap() == (second,)
    assert (
        eac.execute(EacLinkCancelled("GC4", (second,)), at(6)).code
        is ErrorCode.EAC_LINKED_ELSEWHERE
    )
