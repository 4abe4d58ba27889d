"""Issue 15: configurations #2/#3 hold on every path, not only on the linked one (D3, D10).

Each test is one of the issue's reproductions, with its numbers, turned round:
the path that used to get around the link is refused with a named code, or
routed through the link, and both registries stay in step.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from config_world import at, eac_registry, linked, may_hour, report_may

from gc_conformance.reference import (
    BundleStatus,
    Cancel,
    CorrectProduction,
    ErrorCode,
    Expire,
    IssueBundle,
    SubmitProduction,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.configurations import (
    IssueFromCancelledEacs,
    IssueLinkedGcs,
    LinkBook,
    LinkedRegistries,
)
from gc_conformance.reference.cross_registry import check_cross_registry
from gc_conformance.reference.eac import EacCancel, EacStatus
from gc_conformance.reference.invariants import check_invariants

EAC1, EAC2 = "EIB-GO-00000001", "EIB-GO-00000002"
UTC = _dt.UTC


def world_2() -> LinkedRegistries:
    eac = eac_registry()
    report_may(eac)  # 2,700,000 Wh -> EAC1, EAC2 (2,000,000 Wh)
    return linked(2, eac)


def world_3() -> LinkedRegistries:
    eac = eac_registry()
    report_may(eac)
    eac.execute(EacCancel("PRODUCER", (EAC1,), "ACME"), at(1, 2)).unwrap()
    return linked(3, eac)


def issue_2(pair: LinkedRegistries, hour: int, wh: int, day: int = 1, when: Any = None) -> Any:
    command = IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(day, hour), wh)
    return pair.execute(command, when or at(2, hour))


def issue_3(pair: LinkedRegistries, hour: int, wh: int, day: int = 1) -> Any:
    command = IssueFromCancelledEacs(
        "GCI", (EAC1,), "DEV-1", "M-1", *may_hour(day, hour), wh, "ACME", "G-CONS"
    )
    return pair.execute(command, at(3, hour))


def checkers_agree(pair: LinkedRegistries) -> None:
    report = check_invariants(pair.gc.export_history(), pair.gc.export_state())
    assert report.ok, report.findings
    cross = check_cross_registry(pair.eac.export_history(), pair.gc.export_history())
    assert cross.ok, cross.findings


def gc_energy(pair: LinkedRegistries) -> int:
    return sum(b.quantity for b in pair.gc.current_bundles())


# ----------------------------------------------------------------------------- #2 issuance


def test_configuration_2_refuses_ordinary_production_submissions() -> None:
    pair = world_2()
    before = pair.fingerprint()
    for send in (pair.execute, pair.gc.execute):
        refused = send(SubmitProduction("GCI", "DEV-1", "M-1", *may_hour(1, 0), 5_000_000), at(2))
        assert (refused.code, refused.problem.field) == (ErrorCode.WRONG_CONFIGURATION, "command")
        assert "IssueLinkedGcs" in refused.problem.message
    assert pair.fingerprint() == before
    assert gc_energy(pair) == 0


def test_configuration_2_refuses_issuer_created_bundles() -> None:
    pair = world_2()
    before = pair.fingerprint()
    refused = pair.execute(
        IssueBundle("GCI", "DEV-1", "G-PROD", *may_hour(1, 1), 1, 5_000_000, 5_000_000, 5_000_000),
        at(2),
    )
    assert (refused.code, refused.problem.field) == (ErrorCode.WRONG_CONFIGURATION, "command")
    assert pair.fingerprint() == before


def test_an_ordinary_request_with_its_own_fault_gets_that_code_first() -> None:
    pair = world_2()
    refused = pair.execute(SubmitProduction("NOBODY", "DEV-1", "M-1", *may_hour(1, 0), 1), at(2))
    assert refused.code is ErrorCode.NOT_AUTHORISED


def test_configuration_2_upward_correction_is_routed_through_the_eacs() -> None:
    pair = world_2()
    first = issue_2(pair, 0, 600_000).unwrap()
    corrected = pair.execute(
        CorrectProduction("GCI", "DEV-1", *may_hour(1, 0), 900_000), at(3)
    ).unwrap()
    extra = pair.gc.issuance(corrected.issued.issuance_id)
    assert extra is not None
    assert (extra.quantity, extra.eac_ids, extra.corrects_issuance_id) == (
        300_000,
        (EAC1,),
        first.issuance_ids[0],
    )
    assert pair.gc.book(LinkBook).linked_wh(EAC1) == 900_000
    assert pair.eac.eac(EAC1).status is EacStatus.BACKING_GC
    checkers_agree(pair)


def test_configuration_2_correction_beyond_the_eacs_is_suspended_not_issued() -> None:
    """The reproduction: 10,000,000 Wh of GCs against 2,000,000 Wh of EACs."""
    pair = world_2()
    issue_2(pair, 0, 1_500_000).unwrap()
    corrected = pair.execute(
        CorrectProduction("GCI", "DEV-1", *may_hour(1, 0), 4_500_000), at(3)
    ).unwrap()
    # 3,000,000 Wh more asked for; 500,000 Wh of EAC energy left: the hour is suspended.
    assert corrected.issued.issued_wh == 0
    assert pair.gc.book(LinkBook).suspensions[-1].suspended_wh == 3_000_000
    assert gc_energy(pair) == 1_500_000 <= 2_000_000
    checkers_agree(pair)


def test_a_plain_cancel_of_a_linked_gc_is_still_refused() -> None:
    pair = world_2()
    bundle = issue_2(pair, 0, 600_000).unwrap().bundle_ids[0]
    refused = pair.execute(Cancel("PRODUCER", bundle, "ACME"), at(3))
    assert refused.code is ErrorCode.NOT_COORDINATED


# ----------------------------------------------------------------------------- #3 correction


def test_configuration_3_upward_correction_stays_non_transferable_and_cancelled() -> None:
    pair = world_3()
    issue_3(pair, 0, 600_000).unwrap()
    corrected = pair.execute(
        CorrectProduction("GCI", "DEV-1", *may_hour(1, 0), 900_000), at(4)
    ).unwrap()
    extra_id = corrected.issued.bundle_id
    bundle = pair.gc.bundle(extra_id)
    issuance = pair.gc.issuance(bundle.issuance_id)
    assert bundle.quantity == 300_000 and bundle.status is BundleStatus.CANCELLED
    assert bundle.cancellation.beneficiary == "ACME"
    assert issuance.transferable is False and issuance.registry_configuration == 3
    assert issuance.eac_ids == (EAC1,)
    refused = pair.execute(Transfer("CONSUMER", extra_id, "G-BUYER"), at(5))
    assert refused.code is ErrorCode.BUNDLE_NOT_ACTIVE  # cancelled at issuance
    checkers_agree(pair)


def test_configuration_3_refuses_ordinary_issuance() -> None:
    pair = world_3()
    refused = pair.execute(SubmitProduction("GCI", "DEV-1", "M-1", *may_hour(1, 0), 300_000), at(3))
    assert refused.code is ErrorCode.WRONG_CONFIGURATION
    assert "IssueFromCancelledEacs" in refused.problem.message


def test_configuration_3_correction_beyond_the_cancelled_eacs_is_suspended() -> None:
    pair = world_3()
    issue_3(pair, 0, 600_000).unwrap()
    corrected = pair.execute(
        CorrectProduction("GCI", "DEV-1", *may_hour(1, 0), 1_500_000), at(4)
    ).unwrap()
    assert corrected.issued.issued_wh == 0  # 900,000 asked, 400,000 left in EAC1
    assert gc_energy(pair) == 600_000
    checkers_agree(pair)


# ----------------------------------------------------------------------------- D10 in #2/#3


def test_linked_issuance_takes_outstanding_d10_deductions() -> None:
    """500,000 Wh deferred; the next same-hour linked reading of 600,000 gives 100,000."""
    pair = world_2()
    bundle = issue_2(pair, 5, 600_000).unwrap().bundle_ids[0]
    pair.gc.execute(Transfer("PRODUCER", bundle, "G-BUYER"), at(3)).unwrap()  # no longer untouched
    corrected = pair.execute(
        CorrectProduction("GCI", "DEV-1", *may_hour(1, 5), 100_000), at(3, 1)
    ).unwrap()
    assert corrected.deferred_wh == 500_000
    assert pair.gc.outstanding_deductions("DEV-1") == 500_000
    value = issue_2(pair, 5, 600_000, day=2, when=at(4)).unwrap()
    assert value.issued_wh == 100_000
    issuance = pair.gc.issuance(value.issuance_ids[0])
    assert issuance.deducted_wh == 500_000
    assert pair.gc.outstanding_deductions("DEV-1") == 0
    # 700,000 Wh metered over both hours, 700,000 Wh of GCs.
    assert gc_energy(pair) == 700_000
    checkers_agree(pair)


def test_configuration_3_issuance_takes_outstanding_deductions() -> None:
    pair = world_3()
    issue_3(pair, 0, 600_000).unwrap()  # cancelled at once: a lower reading can only defer
    pair.execute(CorrectProduction("GCI", "DEV-1", *may_hour(1, 0), 400_000), at(3)).unwrap()
    assert pair.gc.outstanding_deductions("DEV-1") == 200_000
    value = issue_3(pair, 0, 300_000, day=2).unwrap()  # the same hour of day (D10)
    assert value.issued_wh == 100_000
    assert pair.gc.outstanding_deductions("DEV-1") == 0


# ----------------------------------------------------------------------------- #2 lifecycle in step


def test_withdrawal_gives_the_eac_energy_back_and_releases_an_unused_eac() -> None:
    pair = world_2()
    bundle = issue_2(pair, 0, 600_000).unwrap().bundle_ids[0]
    # Withdrawing all of it must release the EAC: not without the EAC registry.
    direct = pair.gc.execute(Withdraw("GCI", bundle, "meter fault"), at(3))
    assert direct.code is ErrorCode.NOT_COORDINATED
    pair.execute(Withdraw("GCI", bundle, "meter fault", 200_000), at(3)).unwrap()
    book = pair.gc.book(LinkBook)
    assert book.linked_wh(EAC1) == 400_000
    assert pair.eac.eac(EAC1).status is EacStatus.BACKING_GC
    rest = next(b for b in pair.gc.current_bundles() if b.status is BundleStatus.ACTIVE)
    pair.execute(Withdraw("GCI", rest.bundle_id, "meter fault"), at(3, 1)).unwrap()
    assert book.linked_wh(EAC1) == 0
    released = pair.eac.eac(EAC1)
    assert (released.status, released.account_id, released.gc_issuer_id) == (
        EacStatus.ACTIVE,
        "E-PROD",
        None,
    )
    checkers_agree(pair)


def test_downward_correction_withdraws_and_gives_back_the_eac_energy() -> None:
    pair = world_2()
    issue_2(pair, 0, 600_000).unwrap()
    result = pair.execute(
        CorrectProduction("GCI", "DEV-1", *may_hour(1, 0), 250_000), at(3)
    ).unwrap()
    assert result.withdrawn_wh == 350_000
    assert pair.gc.book(LinkBook).linked_wh(EAC1) == 250_000
    checkers_agree(pair)


def test_expiry_of_every_gc_behind_an_eac_expires_the_eac() -> None:
    pair = world_2()
    issue_2(pair, 0, 600_000).unwrap()
    # GCs of 2026-05-01T00-01 expire 12 months on (2027-05-01T01:00Z), before the EAC (2027-06-01).
    late = _dt.datetime(2027, 5, 2, tzinfo=UTC)
    direct = pair.gc.execute(Expire("GCI"), late)
    assert direct.code is ErrorCode.NOT_COORDINATED
    pair.execute(Expire("GCI"), late).unwrap()
    assert all(b.status is BundleStatus.EXPIRED for b in pair.gc.current_bundles())
    assert pair.eac.eac(EAC1).status is EacStatus.EXPIRED
    assert pair.eac.eac(EAC2).status is EacStatus.ACTIVE  # never backed a GC
    checkers_agree(pair)
