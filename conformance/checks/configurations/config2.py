"""Configuration #2 (D3): an appointed GC Issuer issues GCs linked to EACs it holds, never more
energy than the EACs, and cancelling the GCs cancels the EACs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.configurations.world import (
    ACME,
    BODY,
    CONFIG_2,
    DEVICE,
    METER,
    PERIOD_WH,
    EacWorld,
    cancelled_hour,
    capped_hours,
    declared_hours,
    eac_extension,
    eac_world,
    issued_wh,
    linked_hour,
    mandated,
    refused,
    reject_both,
    require_eacs,
)
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    Session,
)

# ================================================================ configuration #2


@check("config2.issuer.must_be_appointed", requirements=["CONF-001"], profile=CONFIG_2)
def issuer_must_be_appointed(s: Session) -> None:
    """A #2 GC Issuer issues only once appointed by the EAC body and holding an EAC account.

    Not appointed and without an EAC account: linked issuance and conversion are
    refused (GC_ISSUER_NOT_APPOINTED); appointed but still without an account:
    still refused; with both: accepted.
    """
    ew = eac_world(s, 2, appoint=False, issuer_account=False)
    hour = linked_hour(s, 1, 600_000)
    reject_both(s, "GC_ISSUER_NOT_APPOINTED", "issue_linked_gcs", ISSUER_ID, **hour)
    reject_both(
        s,
        "GC_ISSUER_NOT_APPOINTED",
        "convert_eacs",
        ew.alice,
        eac_ids=ew.eacs_for(1_000_000),
        device_id=DEVICE,
        meter_id=METER,
        hours=[[*s.hour(5), "600000"]],
        account_id=ew.world.account(ew.alice),
    )
    s.accept("appoint_gc_issuer", BODY, gc_issuer_id=ISSUER_ID)
    reject_both(s, "GC_ISSUER_NOT_APPOINTED", "issue_linked_gcs", ISSUER_ID, **hour)
    s.accept("eac_open_account", BODY, account_id="E-ISSUER", holder_id=ISSUER_ID)
    s.accept("issue_linked_gcs", ISSUER_ID, **hour)
    s.expect(
        issued_wh(s, 1) == 600_000,
        "the appointed issuer's hour is issued",
        expected=600_000,
        observed=issued_wh(s, 1),
    )


@check("config2.issuance.same_device_and_period", requirements=["CONF-002"], profile=CONFIG_2)
def same_device_and_period(s: Session) -> None:
    """#2 GCs come from the EAC device's own meter, for an hour inside its EAC period.

    Refused: an hour before the EAC production day (NO_UNDERLYING_EAC); DEV-SOLAR,
    unknown to the EAC body (EAC_DEVICE_MISMATCH); DEV-WIND with another meter, and
    DEV-SOLAR once registered with the EAC body under a different meter
    (METER_MISMATCH). Accepted: DEV-WIND's hour 1, issued in full and marked as
    configuration #2 where the registry shows the attribute.
    """
    ew = eac_world(s, 2)
    reject_both(
        s, "NO_UNDERLYING_EAC", "issue_linked_gcs", ISSUER_ID, **linked_hour(s, 23, 600_000, day=-1)
    )
    solar = linked_hour(s, 1, 500, device="DEV-SOLAR", meter="M-SOLAR")
    reject_both(s, "EAC_DEVICE_MISMATCH", "issue_linked_gcs", ISSUER_ID, **solar)
    reject_both(
        s,
        "METER_MISMATCH",
        "issue_linked_gcs",
        ISSUER_ID,
        **linked_hour(s, 1, 600_000, meter="M-SOLAR"),
    )
    s.accept(
        "eac_register_device",
        BODY,
        device_id="DEV-SOLAR",
        account_id=ew.eac_accounts[ew.alice],
        meter_id="M-SOLAR-EAC",
    )
    reject_both(s, "METER_MISMATCH", "issue_linked_gcs", ISSUER_ID, **solar)
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 600_000))
    bundles = s.bundles(device_id=DEVICE, production_starting_interval=s.hour(1)[0])
    s.expect(
        sum(b["bundle_quantity"] for b in bundles) == 600_000,
        "the hour inside the EAC period is issued",
        expected=600_000,
        observed=[b["bundle_quantity"] for b in bundles],
    )
    marks = {b["registry_configuration"] for b in bundles if "registry_configuration" in b}
    s.expect(marks <= {2}, "configuration #2 GCs are marked as such", expected={2}, observed=marks)


HOURS_2 = ((1, 600_000), (2, 900_000), (3, 400_000), (4, 800_000))  # 2.7 MWh against 2 MWh


@check("config2.issuance.never_exceeds_eacs", requirements=["CONF-003"], profile=CONFIG_2)
def never_exceeds_eacs_2(s: Session) -> None:
    """The #2 GC energy of the day never exceeds its 2 000 000 Wh of EACs.

    Four hours of 600 000, 900 000, 400 000 and 800 000 Wh (2 700 000 Wh metered):
    whatever the registry's cap and suspension practice, each hour is issued at
    most in full or refused for lack of EAC energy, and the day's GCs never pass
    2 000 000 Wh.
    """
    eac_world(s, 2)
    capped_hours(
        s,
        "issue_linked_gcs",
        [(hour, wh, linked_hour(s, hour, wh)) for hour, wh in HOURS_2],
        PERIOD_WH,
    )


@check(
    "config2.issuance.declared_cap_and_suspension",
    requirements=["CONF-008"],
    profile=CONFIG_2,
)
def declared_cap_and_suspension_2(s: Session) -> None:
    """The declared monthly cap and suspension practice decide each hour's GCs exactly.

    Hours 600 000, 900 000, 400 000, 800 000 Wh against two 1 MWh EACs give
    POOLED: 600 000, 900 000, 400 000 and then 0 (whole hour suspended), 100 000
    (uncovered part suspended) or a refusal; WHOLE_EACS: 600 000 and 900 000 use
    one EAC each, so hours 3 and 4 get 0 or are refused. Other face values follow
    the same rules.
    """
    ew = eac_world(s, 2)
    declared_hours(
        s,
        "issue_linked_gcs",
        [(hour, wh, linked_hour(s, hour, wh)) for hour, wh in HOURS_2],
        [ew.face_wh] * len(ew.eac_ids),
    )


@check("config2.issuance.hour_issued_once", requirements=["CONF-009"], profile=CONFIG_2)
def hour_issued_once_2(s: Session) -> None:
    """A device's hour is issued once (D4 risk 1), also after a suspension.

    Hour 1 (600 000 Wh) is issued; sending it again is refused
    (DUPLICATE_ISSUANCE). Hour 2 with 1 500 000 Wh exceeds the 1 400 000 Wh left;
    sending it twice never issues more than 1 500 000 Wh for it, nor more than the
    day's EACs.
    """
    eac_world(s, 2)
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 600_000))
    reject_both(
        s, "DUPLICATE_ISSUANCE", "issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 600_000)
    )
    for _ in range(2):
        s.send("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 2, 1_500_000))
        s.expect(
            issued_wh(s, 2) <= 1_500_000,
            "the hour is never issued beyond its metering",
            expected="<= 1500000",
            observed=issued_wh(s, 2),
            severity=Severity.CRITICAL,
        )
        total = issued_wh(s, 1) + issued_wh(s, 2)
        s.expect(
            total <= PERIOD_WH,
            "the day's GCs never exceed its EACs",
            expected=f"<= {PERIOD_WH}",
            observed=total,
            severity=Severity.CRITICAL,
        )


def _back_everything(s: Session) -> EacWorld:
    """#2 world whose whole EAC energy backs hour 1's GCs (2 000 000 Wh, fits any practice)."""
    ew = eac_world(s, 2)
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, PERIOD_WH))
    s.expect(
        issued_wh(s, 1) == PERIOD_WH,
        "an hour exactly covered by the EACs is issued",
        expected=PERIOD_WH,
        observed=issued_wh(s, 1),
    )
    return ew


def _holder(s: Session, ew: EacWorld, eac_id: Any) -> str | None:
    """The party holding ``eac_id`` per the ``eacs`` observation; None if not observable."""
    data = eac_extension(s)
    if data is None:
        return None
    account = {e.get("eac_id"): e.get("account_id") for e in data}.get(eac_id)
    by_account = {a: h for h, a in ew.eac_accounts.items()}
    return by_account.get(account, "") if isinstance(account, str) else ""


@check("config2.eacs.backing_eac_frozen", requirements=["CONF-004"], profile=CONFIG_2)
def backing_eac_frozen(s: Session) -> None:
    """An EAC backing #2 GCs can be neither transferred nor cancelled for anyone.

    All the day's EACs back hour 1's GCs. Transferring one to bob and cancelling it
    for bob are refused for its holder (EAC_BACKS_GC) and for anyone else
    (NOT_OWNER). Without the ``eacs`` observation the holder is unknown: both the
    producer and the GC Issuer are tried, both must be refused and at least one
    with EAC_BACKS_GC.
    """
    ew = _back_everything(s)
    eac = ew.eac_ids[0]
    holder = _holder(s, ew, eac)
    requests: tuple[tuple[str, dict[str, Any]], ...] = (
        ("eac_transfer", {"eac_ids": [eac], "to_account": ew.eac_accounts[ew.world.bob]}),
        ("eac_cancel", {"eac_ids": [eac], "beneficiary": ew.world.bob}),
    )
    for action, fields in requests:
        if holder is not None:
            if holder:
                reject_both(s, "EAC_BACKS_GC", action, holder, **fields)
            for other in (ew.alice, ISSUER_ID):
                if other != holder:
                    reject_both(s, "NOT_OWNER", action, other, **fields)
            continue
        codes = [
            refused(s, ("EAC_BACKS_GC", "NOT_OWNER"), action, actor, **fields)
            for actor in (ew.alice, ISSUER_ID)
        ]
        s.expect(
            "EAC_BACKS_GC" in codes,
            f"{action}: the holder of an EAC backing GCs is refused with EAC_BACKS_GC",
            expected="EAC_BACKS_GC for one of the producer and the GC Issuer",
            observed=codes,
            severity=Severity.MINOR,
        )
    s.expect(
        issued_wh(s, 1) == PERIOD_WH,
        "the GCs are untouched",
        expected=PERIOD_WH,
        observed=issued_wh(s, 1),
    )


@check(
    "config2.eacs.backing_eac_not_convertible",
    requirements=["CONF-004", "CONF-007"],
    profile=CONFIG_2,
)
def backing_eac_not_convertible(s: Session) -> None:
    """An EAC backing #2 GCs cannot be converted into GCs a second time by export.

    All the day's EACs back hour 1's GCs; the producer's conversion of one of them
    for hour 5 is refused and nothing changes. The code depends on where the
    registry keeps backing EACs: EAC_BACKS_GC (still the producer's), NOT_OWNER (the
    GC Issuer's) or EAC_NOT_ACTIVE (its state forbids it); the standard does not
    rank these.
    """
    ew = _back_everything(s)
    refused(
        s,
        ("EAC_BACKS_GC", "NOT_OWNER", "EAC_NOT_ACTIVE"),
        "convert_eacs",
        ew.alice,
        eac_ids=ew.eacs_for(ew.face_wh),
        device_id=DEVICE,
        meter_id=METER,
        hours=[[*s.hour(5), str(ew.face_wh)]],
        account_id=ew.world.account(ew.alice),
    )
    s.expect(
        issued_wh(s, 5) == 0,
        "no GC was made from an EAC that already backs GCs",
        expected=0,
        observed=issued_wh(s, 5),
        severity=Severity.CRITICAL,
    )


@check("config2.cancel.cancels_eacs", requirements=["CONF-005"], profile=CONFIG_2)
def cancel_cancels_eacs(s: Session) -> None:
    """Cancelling #2 GCs cancels the EACs behind them in the same step.

    Needs the ``eacs`` observation. All the day's EACs back hour 1's GCs. bob, who
    does not hold the GCs, is refused (NOT_OWNER) and no EAC changes; alice's
    cancellation of the whole bundle for bob leaves it cancelled for bob and every
    EAC cancelled (no longer active or merely backing).
    """
    ew = _back_everything(s)
    require_eacs(s, "the EACs' status")
    (bundle,) = [b["bundle_id"] for b in s.bundles(device_id=DEVICE)]
    w = ew.world
    reject_both(s, "NOT_OWNER", "cancel_linked_gcs", w.bob, bundle_id=bundle, beneficiary=w.bob)
    result = s.accept("cancel_linked_gcs", w.alice, bundle_id=bundle, beneficiary=w.bob)
    bundle_result = result.get("bundle")
    cancelled = (
        bundle_result.get("bundle_id", bundle) if isinstance(bundle_result, Mapping) else bundle
    )
    seen = s.bundle(cancelled) or {}
    s.expect(
        (seen.get("certificate_bundle_status"), seen.get("beneficiary")) == ("CANCELLED", w.bob),
        "the GCs are cancelled for the beneficiary",
        expected=("CANCELLED", w.bob),
        observed=(seen.get("certificate_bundle_status"), seen.get("beneficiary")),
    )
    eacs = require_eacs(s, "the EACs' status")
    live = {
        e: eacs.get(e, {}).get("status")
        for e in ew.eac_ids
        if "CANCEL" not in str(eacs.get(e, {}).get("status", ""))
    }
    s.expect(
        not live,
        "every EAC behind the cancelled GCs is cancelled with them",
        expected="all EACs cancelled",
        observed=live,
        severity=Severity.CRITICAL,
    )


@check("config2.cancel.plain_cancel_coordinated", requirements=["CONF-005"], profile=CONFIG_2)
def plain_cancel_coordinated(s: Session) -> None:
    """An ordinary cancel of #2 GCs may not leave their EACs live.

    A plain ``cancel`` of GCs backed by EACs is either refused (NOT_COORDINATED:
    it must go through the linked cancellation) or, where the registry links the
    two automatically, accepted with every EAC cancelled too (needs the ``eacs``
    observation to verify).
    """
    ew = _back_everything(s)
    w = ew.world
    (bundle,) = [b["bundle_id"] for b in s.bundles(device_id=DEVICE)]
    before = s.snapshot()
    answer = s.send(
        "cancel", w.alice, expectation="reject NOT_COORDINATED", bundle_id=bundle, beneficiary=w.bob
    )
    if not answer.accepted:
        s.require_unchanged(before, "the refused cancel")
        s.expect_code(answer, ("NOT_COORDINATED",), "cancel")
        return
    eacs = require_eacs(s, "whether the accepted plain cancel also cancelled the EACs")
    live = {
        e: eacs.get(e, {}).get("status")
        for e in ew.eac_ids
        if "CANCEL" not in str(eacs.get(e, {}).get("status", ""))
    }
    s.expect(
        not live,
        "a plain cancel of linked GCs also cancels their EACs",
        expected="all EACs cancelled",
        observed=live,
        severity=Severity.CRITICAL,
    )


@check("config2.eacs.issuer_holds_only_backing", requirements=["CONF-006"], profile=CONFIG_2)
def issuer_holds_only_backing(s: Session) -> None:
    """Nobody can transfer EACs to the #2 GC Issuer: it holds EACs only behind GCs.

    alice's transfer of one of her active EACs to the GC Issuer's EAC account is
    refused (ISSUER_MAY_NOT_HOLD); to bob it is accepted.
    """
    ew = eac_world(s, 2)
    eac = ew.eac_ids[0]
    reject_both(
        s,
        "ISSUER_MAY_NOT_HOLD",
        "eac_transfer",
        ew.alice,
        eac_ids=[eac],
        to_account=ew.eac_accounts[ISSUER_ID],
    )
    s.accept("eac_transfer", ew.alice, eac_ids=[eac], to_account=ew.eac_accounts[ew.world.bob])


@check("config2.convert.export", requirements=["CONF-007", "CONF-003"], profile=CONFIG_2)
def convert_by_export(s: Session) -> None:
    """EACs converted by export leave the EAC registry and become GCs for hours in their period.

    alice converts the day's 2 000 000 Wh of EACs. An hour outside the EACs' day is
    refused (OUTSIDE_EAC_PERIOD). Hours 5 (600 000 Wh) and 6 (300 000 Wh) fit under
    any cap practice (with 1 MWh EACs, one EAC each) and are issued into her GC
    account. The exported EACs can then neither be transferred
    nor cancelled nor exported again, and hour 5 cannot be issued again
    (DUPLICATE_ISSUANCE).
    """
    ew = eac_world(s, 2)
    eacs = list(ew.eac_ids)
    account = ew.world.account(ew.alice)
    base: dict[str, Any] = {
        "eac_ids": eacs,
        "device_id": DEVICE,
        "meter_id": METER,
        "account_id": account,
    }
    reject_both(
        s,
        "OUTSIDE_EAC_PERIOD",
        "convert_eacs",
        ew.alice,
        **base,
        hours=[[*s.hour(23, day=-1), "600000"]],
    )
    s.accept(
        "convert_eacs", ew.alice, **base, hours=[[*s.hour(5), "600000"], [*s.hour(6), "300000"]]
    )
    got = (issued_wh(s, 5), issued_wh(s, 6))
    s.expect(
        got == (600_000, 300_000),
        "the converted hours are issued in full",
        expected=(600_000, 300_000),
        observed=got,
    )
    mine = {b["account_id"] for b in s.bundles(device_id=DEVICE)}
    s.expect(
        mine == {account},
        "the GCs go to the converting holder's account",
        expected={account},
        observed=mine,
    )
    gone = ("NOT_OWNER", "EAC_BACKS_GC", "EAC_NOT_ACTIVE", "UNKNOWN_EAC")
    refused(
        s,
        gone,
        "eac_transfer",
        ew.alice,
        eac_ids=eacs[:1],
        to_account=ew.eac_accounts[ew.world.bob],
    )
    refused(s, gone, "eac_cancel", ew.alice, eac_ids=eacs[:1], beneficiary=ew.world.bob)
    refused(
        s,
        gone,
        "convert_eacs",
        ew.alice,
        **{**base, "eac_ids": eacs[:1]},
        hours=[[*s.hour(7), "1000"]],
    )
    reject_both(
        s, "DUPLICATE_ISSUANCE", "issue_linked_gcs", ISSUER_ID, **linked_hour(s, 5, 600_000)
    )


@check("config2.mandate.refused", requirements=["CONF-010"], profile=CONFIG_2)
def mandate_refused_2(s: Session) -> None:
    """No #2 GCs for producers of an EAC body that runs #1 under a government mandate.

    With the body running #1 by mandate, linked issuance is refused
    (CONFIGURATION_MANDATED); with the same body running #1 without a mandate, it is
    accepted. (The registry learns the body's configuration and mandate from the
    reset's ``eac_body``.)
    """
    mandated(s, 2, "issue_linked_gcs")


@check(
    "config2.configuration.refuses_config3_requests",
    requirements=["CONF-011"],
    profile=CONFIG_2,
)
def refuses_config3_requests(s: Session) -> None:
    """A #2 registry refuses a #3 issuance (WRONG_CONFIGURATION): its GCs are all #2."""
    ew = eac_world(s, 2)
    eacs = ew.eacs_for(1_000_000)
    s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
    reject_both(
        s,
        "WRONG_CONFIGURATION",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        severity=Severity.MAJOR,
        **cancelled_hour(s, ew, eacs, 1, 600_000),
    )
