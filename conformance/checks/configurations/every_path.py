"""Every issuance path linked (issue 15): ordinary production submissions, issuer-created
bundles and corrections in a #2 or #3 registry go through the link or are refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.configurations.world import (
    BODY,
    CONFIG_2,
    CONFIG_3,
    DEVICE,
    METER,
    PERIOD_WH,
    EacWorld,
    eac_world,
    issued_wh,
    linked_hour,
    production_day,
)
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    NotApplicable,
    Session,
)

# ================================================================ every path linked (issue 15)


def _ordinary_requests(s: Session, ew: EacWorld, hours: Sequence[tuple[int, int]]) -> list[Any]:
    """(hour, action, fields): production submissions, then one issuer-created bundle."""
    w = ew.world
    made: list[Any] = []
    for index, (hour, wh) in enumerate(hours):
        fields = linked_hour(s, hour, wh)
        if index < len(hours) - 1:
            made.append((hour, "submit_production", fields))
            continue
        first = s.next_free_certificate() + 10_000_000  # clear of any ID the registry used
        bundle = {k: v for k, v in fields.items() if k != "meter_id"}
        bundle.update(
            account_id=w.account(w.alice),
            range_start=first,
            range_end=first + wh - 1,
            quantity=wh,
        )
        made.append((hour, "issue_bundle", bundle))
    return made


def _ordinary_paths(s: Session, ew: EacWorld, hours: Sequence[tuple[int, int]], cap: int) -> None:
    total = 0
    for hour, action, fields in _ordinary_requests(s, ew, hours):
        before = s.snapshot()
        answer = s.send(
            action,
            ISSUER_ID,
            expectation="reject, or issue only against EAC energy",
            **fields,
        )
        if not answer.accepted:
            s.require_unchanged(before, f"the refused {action}")
        total += issued_wh(s, hour)
        s.expect(
            total <= cap,
            f"an ordinary {action} issues no GC energy beyond the EACs behind it",
            expected=f"<= {cap} Wh of GCs for the production day",
            observed=f"{total} Wh after the {action} of hour {hour}",
            severity=Severity.CRITICAL,
        )


@check("config2.issuance.every_path_linked", requirements=["CONF-023"], profile=CONFIG_2)
def every_path_linked_2(s: Session) -> None:
    """Ordinary issuance cannot get around the link (D3: GC energy <= EAC energy).

    Two production submissions of 1 500 000 Wh (hours 1 and 2) and an
    issuer-created bundle of 1 000 000 Wh (hour 3) are sent to a #2 registry
    whose production day has 2 000 000 Wh of EACs. Each may be refused (changing
    nothing) or routed through the link; the day's GCs never pass 2 000 000 Wh.
    """
    ew = eac_world(s, 2)
    _ordinary_paths(s, ew, ((1, 1_500_000), (2, 1_500_000), (3, 1_000_000)), PERIOD_WH)


@check("config3.issuance.every_path_from_cancelled", requirements=["CONF-026"], profile=CONFIG_3)
def every_path_from_cancelled_3(s: Session) -> None:
    """In a #3 registry no EAC was cancelled for anyone, so no GC may exist.

    A production submission (hour 1, 600 000 Wh) and an issuer-created bundle
    (hour 2, 300 000 Wh) are refused, or issue nothing (D3: #3 GCs only from EACs
    cancelled for a named beneficiary).
    """
    ew = eac_world(s, 3)
    _ordinary_paths(s, ew, ((1, 600_000), (2, 300_000)), 0)


@check("config2.correction.within_eacs", requirements=["CONF-024"], profile=CONFIG_2)
def correction_within_eacs_2(s: Session) -> None:
    """An upward correction issues the difference only against EAC energy left.

    Hour 1 is issued with 1 500 000 Wh of the day's 2 000 000 Wh of EACs; its
    reading is then corrected to 4 500 000 Wh. The 3 000 000 Wh difference
    exceeds the 500 000 Wh left: the correction is refused (changing nothing) or
    suspended in part or whole, and the day's GCs never pass 2 000 000 Wh.
    """
    eac_world(s, 2)
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 1_500_000))
    start, end = s.hour(1)
    before = s.snapshot()
    answer = s.send(
        "correct_production",
        ISSUER_ID,
        expectation="reject, or issue only against EAC energy",
        device_id=DEVICE,
        start=start,
        end=end,
        energy_wh="4500000",
    )
    if not answer.accepted:
        s.require_unchanged(before, "the refused correction")
    s.expect(
        issued_wh(s, 1) <= PERIOD_WH,
        "a correction issues no GC energy beyond the EACs behind it",
        expected=f"<= {PERIOD_WH} Wh",
        observed=issued_wh(s, 1),
        severity=Severity.CRITICAL,
    )


@check("config2.correction.deducted_from_linked", requirements=["CONF-025"], profile=CONFIG_2)
def deducted_from_linked_2(s: Session) -> None:
    """D10 deductions reach the next linked issuance.

    Hour 1 (600 000 Wh) is issued and transferred to bob, so it cannot be
    withdrawn; its reading is corrected down to 100 000 Wh, leaving 500 000 Wh
    to deduct. The next issuance for the corresponding hour (hour 2 under the
    NEXT_ISSUANCE reading; otherwise hour 1 of the next day, which needs a
    controlled clock and that day's EACs) reads 600 000 Wh and must issue at
    most 100 000 Wh.
    """
    ew = eac_world(s, 2)
    w = ew.world
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, 1, 600_000))
    (bundle,) = [b["bundle_id"] for b in s.bundles(device_id=DEVICE)]
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob))
    start, end = s.hour(1)
    answer = s.send(
        "correct_production",
        ISSUER_ID,
        expectation="accept (D10)",
        device_id=DEVICE,
        start=start,
        end=end,
        energy_wh="100000",
    )
    if not answer.accepted:
        raise NotApplicable(f"the registry takes no corrections here ({answer.code})")
    if s.policy("correction_deduction", "SAME_HOUR_OF_DAY_FIRST") == "NEXT_ISSUANCE":
        hour, day = 2, 0
    else:
        s.require_clock()
        s.advance(days=2)
        d1_start, d1_end = production_day(s, 1)
        s.accept(
            "eac_report_production",
            BODY,
            device_id=DEVICE,
            meter_id=METER,
            start=d1_start,
            end=d1_end,
            energy_wh=str(PERIOD_WH),
        )
        hour, day = 1, 1
    s.accept("issue_linked_gcs", ISSUER_ID, **linked_hour(s, hour, 600_000, day=day))
    s.expect(
        issued_wh(s, hour, day=day) <= 100_000,
        "the next linked issuance for the hour takes the 500 000 Wh deduction",
        expected="<= 100000 Wh",
        observed=issued_wh(s, hour, day=day),
        severity=Severity.CRITICAL,
    )
