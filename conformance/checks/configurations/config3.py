"""Configuration #3 (D3): GCs issued from EACs already cancelled for a beneficiary, not
transferable, one GC Issuer per EAC, within the EAC's device and period."""

from __future__ import annotations

from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.configurations.world import (
    ACME,
    BODY,
    CONFIG_3,
    DEVICE,
    PERIOD_WH,
    EacWorld,
    cancelled_hour,
    capped_hours,
    declared_hours,
    eac_world,
    issued_wh,
    linked_hour,
    mandated,
    refused,
    reject_both,
    report,
    require_eacs,
)
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    device_record,
)

# ================================================================ configuration #3


def _cancelled_world(s: Session, wh: int = 1_000_000) -> tuple[EacWorld, list[Any]]:
    """A #3 world with ``wh`` of the day's EACs cancelled by alice for acme."""
    ew = eac_world(s, 3)
    eacs = ew.eacs_for(wh)
    s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
    return ew, eacs


@check(
    "config3.issuance.only_from_cancelled_eacs",
    requirements=["CONF-012"],
    profile=CONFIG_3,
)
def only_from_cancelled_eacs(s: Session) -> None:
    """#3 GCs come only from EACs cancelled for the named beneficiary, and are cancelled for it.

    Refused: EACs still active (EAC_NOT_CANCELLED), an unknown EAC (UNKNOWN_EAC),
    EACs cancelled for acme but GCs asked for someone else (BENEFICIARY_MISMATCH).
    Accepted: 600 000 Wh for acme in hour 1, observed cancelled for acme at once.
    """
    ew = eac_world(s, 3)
    eacs = ew.eacs_for(1_000_000)
    reject_both(
        s,
        "EAC_NOT_CANCELLED",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 1, 600_000),
    )
    reject_both(
        s,
        "UNKNOWN_EAC",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, ["EAC-DOES-NOT-EXIST"], 1, 600_000),
    )
    s.accept("eac_cancel", ew.alice, eac_ids=eacs, beneficiary=ACME)
    reject_both(
        s,
        "BENEFICIARY_MISMATCH",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 1, 600_000, beneficiary=ew.world.carol),
    )
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 1, 600_000))
    bundles = s.bundles(device_id=DEVICE, production_starting_interval=s.hour(1)[0])
    got = [
        (b["bundle_quantity"], b["certificate_bundle_status"], b.get("beneficiary"))
        for b in bundles
    ]
    s.expect(
        got == [(600_000, "CANCELLED", ACME)],
        "the #3 GCs are issued already cancelled for the EACs' beneficiary",
        expected=[(600_000, "CANCELLED", ACME)],
        observed=got,
        severity=Severity.CRITICAL,
    )


@check("config3.transfer.not_transferable", requirements=["CONF-013"], profile=CONFIG_3)
def not_transferable(s: Session) -> None:
    """#3 GCs cannot change owner, in whole or in part, and are marked as configuration #3.

    The transfer is refused with NOT_TRANSFERABLE or, as #3 GCs are cancelled at
    issuance, BUNDLE_NOT_ACTIVE (both rules forbid it; the standard does not rank
    them); the GCs stay where they were issued.
    """
    ew, eacs = _cancelled_world(s)
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 1, 600_000))
    w = ew.world
    (bundle,) = s.bundles(device_id=DEVICE)
    for quantity in (None, 1000):
        extra: dict[str, Any] = {} if quantity is None else {"quantity": quantity}
        refused(
            s,
            ("NOT_TRANSFERABLE", "BUNDLE_NOT_ACTIVE"),
            "transfer",
            w.bob,
            bundle_id=bundle["bundle_id"],
            to_account=w.account(w.carol),
            **extra,
        )
    s.expect(
        s.balance(w.account(w.carol), "CANCELLED") == 0,
        "nothing reached another owner",
        expected=0,
        observed=s.balance(w.account(w.carol), "CANCELLED"),
        severity=Severity.CRITICAL,
    )
    mark = bundle.get("registry_configuration", 3)
    s.expect(mark == 3, "configuration #3 GCs are marked as such", expected=3, observed=mark)


@check("config3.eacs.one_gc_issuer", requirements=["CONF-014"], profile=CONFIG_3)
def one_gc_issuer(s: Session) -> None:
    """Each EAC behind #3 GCs records its single GC Issuer.

    Needs the ``eacs`` observation: after hour 1 is issued from acme's EACs, the EAC
    it drew on names this registry's GC Issuer (and configuration #3), and no EAC
    names another issuer.
    """
    ew, eacs = _cancelled_world(s)
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 1, 600_000))
    records = require_eacs(s, "the GC Issuer recorded against each EAC")
    linked = {
        e: (records.get(e, {}).get("gc_issuer_id"), records.get(e, {}).get("gc_configuration"))
        for e in eacs
    }
    first = linked[eacs[0]]
    s.expect(
        first == (ISSUER_ID, 3),
        "the EAC names the one GC Issuer that used it",
        expected=(ISSUER_ID, 3),
        observed=first,
        severity=Severity.CRITICAL,
    )
    s.expect(
        all(v[0] in (None, ISSUER_ID) for v in linked.values()),
        "no EAC names another GC Issuer",
        expected=ISSUER_ID,
        observed=linked,
    )


@check("config3.issuance.within_eac_period", requirements=["CONF-015"], profile=CONFIG_3)
def within_eac_period(s: Session) -> None:
    """A #3 GC's hour lies inside both the EACs' production and consumption periods.

    The EACs are cancelled for acme with consumption hours 0-6 of the production
    day. Hour 10 (produced that day, consumed outside) and an hour of the day
    before (outside production) are refused (OUTSIDE_EAC_PERIOD); hour 2 is issued.
    """
    ew = eac_world(s, 3)
    eacs = ew.eacs_for(1_000_000)
    s.accept(
        "eac_cancel",
        ew.alice,
        eac_ids=eacs,
        beneficiary=ACME,
        consumption_start=s.hour(0)[0],
        consumption_end=s.hour(6)[0],
    )
    reject_both(
        s,
        "OUTSIDE_EAC_PERIOD",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 10, 300_000),
    )
    reject_both(
        s,
        "OUTSIDE_EAC_PERIOD",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, eacs, 23, 300_000, day=-1),
    )
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, eacs, 2, 300_000))
    s.expect(
        issued_wh(s, 2) == 300_000,
        "the hour inside both periods is issued",
        expected=300_000,
        observed=issued_wh(s, 2),
    )


@check("config3.issuance.same_device", requirements=["CONF-016"], profile=CONFIG_3)
def same_device(s: Session) -> None:
    """#3 GCs use the metering of the device the cancelled EACs were issued for.

    A second wind park DEV-WIND-2 has its own EACs, cancelled for acme. Using them
    for DEV-WIND's hour is refused (EAC_DEVICE_MISMATCH), as is DEV-WIND-2 read
    through DEV-WIND's meter (METER_MISMATCH); DEV-WIND-2's own hour is issued.
    """
    ew = eac_world(s, 3)
    w = ew.world
    s.accept(
        "register_device",
        ISSUER_ID,
        device=device_record("DEV-WIND-2", "M-WIND-2", w.account(w.alice), 5_000_000, "wind"),
    )
    s.accept(
        "eac_register_device",
        BODY,
        device_id="DEV-WIND-2",
        account_id=ew.eac_accounts[w.alice],
        meter_id="M-WIND-2",
    )
    ids, face = report(s, "DEV-WIND-2", "M-WIND-2", PERIOD_WH)
    other = list(ids[: 1_000_000 // face])
    s.accept("eac_cancel", w.alice, eac_ids=other, beneficiary=ACME)
    reject_both(
        s,
        "EAC_DEVICE_MISMATCH",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, other, 1, 300_000),
    )
    reject_both(
        s,
        "METER_MISMATCH",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, other, 1, 300_000, device="DEV-WIND-2"),
    )
    s.accept(
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, other, 1, 300_000, device="DEV-WIND-2", meter="M-WIND-2"),
    )
    s.expect(
        (issued_wh(s, 1), issued_wh(s, 1, "DEV-WIND-2")) == (0, 300_000),
        "only the EACs' own device gets GCs",
        expected=(0, 300_000),
        observed=(issued_wh(s, 1), issued_wh(s, 1, "DEV-WIND-2")),
    )


HOURS_3 = ((1, 600_000), (2, 600_000), (3, 300_000))  # 1.5 MWh against 1 MWh of EACs


@check("config3.issuance.never_exceeds_eacs", requirements=["CONF-017"], profile=CONFIG_3)
def never_exceeds_eacs_3(s: Session) -> None:
    """#3 GCs never exceed the energy of the cancelled EACs behind them.

    1 000 000 Wh of EACs cancelled for acme against hours of 600 000, 600 000 and
    300 000 Wh: each hour is issued at most in full or refused for lack of EAC
    energy, and the GCs never pass 1 000 000 Wh.
    """
    ew, eacs = _cancelled_world(s)
    capped_hours(
        s,
        "issue_from_cancelled_eacs",
        [(hour, wh, cancelled_hour(s, ew, eacs, hour, wh)) for hour, wh in HOURS_3],
        1_000_000,
    )


@check(
    "config3.issuance.declared_cap_and_suspension",
    requirements=["CONF-018"],
    profile=CONFIG_3,
)
def declared_cap_and_suspension_3(s: Session) -> None:
    """The declared cap and suspension practice decide each #3 hour exactly.

    With one 1 MWh EAC for acme, hours of 600 000, 600 000 and 300 000 Wh give,
    under POOLED, 600 000, then 0 / 400 000 / refused for the second hour
    (whole-hour suspension / uncovered part / refuse), and 300 000 / 0 / 300 000
    for the third (it fits the 400 000 Wh left unless the second took them). Under
    WHOLE_EACS the EAC used by hour 1 backs nothing more: 0, 0 or refused.
    """
    ew, eacs = _cancelled_world(s)
    declared_hours(
        s,
        "issue_from_cancelled_eacs",
        [(hour, wh, cancelled_hour(s, ew, eacs, hour, wh)) for hour, wh in HOURS_3],
        [ew.face_wh] * len(eacs),
    )


@check("config3.mandate.refused", requirements=["CONF-020"], profile=CONFIG_3)
def mandate_refused_3(s: Session) -> None:
    """No #3 GCs for producers of an EAC body that runs #1 under a government mandate.

    With the mandate, the #3 issuance from EACs cancelled for acme is refused
    (CONFIGURATION_MANDATED); without it, the same issuance is accepted.
    """
    mandated(s, 3, "issue_from_cancelled_eacs")


@check("config3.issuance.hour_issued_once", requirements=["CONF-019"], profile=CONFIG_3)
def hour_issued_once_3(s: Session) -> None:
    """A device's hour gets #3 GCs once, even from other cancelled EACs (D4 risk 1).

    Hour 1 is issued from the first 1 MWh of acme's EACs; the same hour from the
    other 1 MWh is refused (DUPLICATE_ISSUANCE).
    """
    ew, eacs = _cancelled_world(s, PERIOD_WH)
    first, second = eacs[: len(eacs) // 2], eacs[len(eacs) // 2 :]
    s.accept("issue_from_cancelled_eacs", ISSUER_ID, **cancelled_hour(s, ew, first, 1, 600_000))
    reject_both(
        s,
        "DUPLICATE_ISSUANCE",
        "issue_from_cancelled_eacs",
        ISSUER_ID,
        **cancelled_hour(s, ew, second, 1, 600_000),
    )
    s.expect(
        issued_wh(s, 1) == 600_000,
        "the hour has one issuance",
        expected=600_000,
        observed=issued_wh(s, 1),
        severity=Severity.CRITICAL,
    )


@check(
    "config3.configuration.refuses_config2_requests",
    requirements=["CONF-021"],
    profile=CONFIG_3,
)
def refuses_config2_requests(s: Session) -> None:
    """A #3 registry refuses a #2 linked issuance (WRONG_CONFIGURATION): its GCs are all #3."""
    eac_world(s, 3)
    reject_both(
        s,
        "WRONG_CONFIGURATION",
        "issue_linked_gcs",
        ISSUER_ID,
        severity=Severity.MAJOR,
        **linked_hour(s, 1, 600_000),
    )


@check("config3.eacs.cancelled_once", requirements=["CONF-022"], profile=CONFIG_3)
def eac_cancelled_once(s: Session) -> None:
    """An EAC cancelled for acme cannot be cancelled again for someone else, nor moved.

    Cancelling it again for bob and transferring it to bob are refused
    (EAC_NOT_ACTIVE), so the GCs made from it have one beneficiary.
    """
    ew, eacs = _cancelled_world(s)
    w = ew.world
    reject_both(s, "EAC_NOT_ACTIVE", "eac_cancel", w.alice, eac_ids=eacs[:1], beneficiary=w.bob)
    reject_both(
        s,
        "EAC_NOT_ACTIVE",
        "eac_transfer",
        w.alice,
        eac_ids=eacs[:1],
        to_account=ew.eac_accounts[w.bob],
    )
