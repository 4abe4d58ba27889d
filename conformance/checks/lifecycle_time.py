"""Validity and expiry (profile ``expiry``, D8) and error correction (profile ``error-correction``, D10).

Expiry depends on a reading of "the same 12-month consumption period" the
standard leaves open, so the checks read the registry's declared ``validity``
policy and compute, from that reading alone, the first instant at which a
certificate is no longer valid; then they move the clock to one second before
and to that instant. A registry that cannot move its clock skips those checks
(``s.require_clock``): never a pass. A registry that declares no reading fails
``expiry.policy.declared`` and has the timing checks skipped, with the reason.

D8 binds to that period only a certificate not matched to its own hour. Under
CALENDAR_YEAR the ``own_hour_use`` policy then decides when a certificate's
life ends: EXEMPT_12_MONTHS keeps it usable for its own hour until 12 months
after production, NOT_EXEMPT ends it with the year. Under the rolling readings
both agree. A registry that declares no ``own_hour_use`` is judged under
NOT_EXEMPT, the meaning its validity declaration had before the policy existed.

Error correction follows D10: a higher corrected value issues the difference;
a lower one withdraws what is untouched and defers the rest as a deduction on
the device's next issuance. Which issuance "corresponds" to the corrected hour
is the ``correction_deduction`` policy; checks that do not depend on it put
the next issuance at the same hour of the day, which every reading agrees on.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gc_conformance.adapter import IssuanceStyle, Profile
from gc_conformance.checks import check
from gc_conformance.checks.core import (
    CONSUMER,
    CRITICAL,
    MINOR,
    WIND,
    alice_issues,
    declared_own_hour_use,
    expect_issued_total,
    expect_unique_certificates,
    of_production,
    one,
    production_request,
    record,
    shortlist,
    span,
    status_quantities,
    total,
)
from gc_conformance.checks.issuer_created import asserted
from gc_conformance.clock import read_stamp
from gc_conformance.outcomes import Severity, SkipKind
from gc_conformance.session import ISSUER_ID, STAMP, CheckFailed, NotApplicable, Session, World

EXPIRY = Profile.EXPIRY
CORRECTION = Profile.ERROR_CORRECTION
SECOND = _dt.timedelta(seconds=1)

#: The readings of D8's "same 12-month consumption period" the suite can judge.
VALIDITY_READINGS = ("CALENDAR_YEAR", "ROLLING_12_MONTHS", "ROLLING_24_MONTHS")


# ====================================================================== validity arithmetic


def parse_stamp(stamp: str) -> _dt.datetime:
    return read_stamp(stamp)


def add_months(moment: _dt.datetime, months: int) -> _dt.datetime:
    """Calendar months later; a day the target month lacks becomes its last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    following = _dt.date(year + month // 12, month % 12 + 1, 1)
    return moment.replace(
        year=year, month=month, day=min(moment.day, (following - _dt.timedelta(days=1)).day)
    )


def validity_end(reading: str, production_end: _dt.datetime) -> _dt.datetime:
    """The first instant at which a GC produced up to ``production_end`` is no longer valid.

    CALENDAR_YEAR: valid to the end of the UTC calendar year in which the
    production ended (its last second lies in that year). The rolling readings:
    12 or 24 calendar months after the end of production.
    """
    if reading == "CALENDAR_YEAR":
        return _dt.datetime((production_end - SECOND).year + 1, 1, 1, tzinfo=_dt.UTC)
    if reading == "ROLLING_12_MONTHS":
        return add_months(production_end, 12)
    if reading == "ROLLING_24_MONTHS":
        return add_months(production_end, 24)
    raise ValueError(reading)


def own_hour_stretch(s: Session, reading: str, production_end: _dt.datetime) -> bool:
    """Whether the certificate outlives its consumption period, for its own hour only.

    Only under CALENDAR_YEAR do the ``own_hour_use`` values disagree (the
    rolling periods already run 12 months past production); there the
    declared value is needed.
    """
    if add_months(production_end, 12) <= validity_end(reading, production_end):
        return False
    return declared_own_hour_use(s) == "EXEMPT_12_MONTHS"


def life_end(s: Session, reading: str, production_end: _dt.datetime) -> _dt.datetime:
    """The first instant at which a certificate serves no use at all (the sweep's instant)."""
    if own_hour_stretch(s, reading, production_end):
        return add_months(production_end, 12)
    return validity_end(reading, production_end)


def own_hour_period(s: Session, hour: int, reading: str) -> dict[str, str]:
    """Consumption-period fields naming the production hour, where a cancellation needs them.

    Past the consumption period only own-hour matching is left; a check
    cancelling there names the hour, and otherwise sends what it always sent.
    """
    end = parse_stamp(s.hour(hour)[1])
    if not own_hour_stretch(s, reading, end):
        return {}
    first, last = s.hour(hour)
    return {"consumption_start": first, "consumption_end": last}


def declared_validity(s: Session) -> str:
    reading = s.capabilities.policies.get("validity")
    if reading not in VALIDITY_READINGS:
        raise NotApplicable(
            f"no validity reading the suite can judge is declared ({reading!r}); "
            "see expiry.policy.declared"
        )
    return reading


def move_to(s: Session, moment: _dt.datetime) -> None:
    if moment < s.now:
        raise ValueError(f"cannot move the clock back to {moment}")  # a bug in the check
    s.advance(seconds=(moment - s.now).total_seconds())


def expiry_of_hour(s: Session, reading: str, hour: int, day: int = 0) -> _dt.datetime:
    """When the certificates of that hour serve no use at all (see :func:`life_end`)."""
    return life_end(s, reading, parse_stamp(s.hour(hour, day=day)[1]))


def sweep(s: Session) -> None:
    s.accept("expire", ISSUER_ID)


def statuses(s: Session, device: str, start: str) -> list[tuple[str, int]]:
    return sorted(
        (b["certificate_bundle_status"], b["bundle_quantity"])
        for b in of_production(s, device, start)
    )


# ====================================================================== expiry (D8)


@check("expiry.policy.declared", requirements=["VAL-001"], profile=EXPIRY)
def validity_declared(s: Session) -> None:
    """The registry declares which reading of the 12-month validity it applies."""
    reading = s.capabilities.policies.get("validity")
    s.expect(
        reading in VALIDITY_READINGS,
        "a registry that expires certificates names its validity reading (capabilities.policies)",
        expected=" or ".join(VALIDITY_READINGS),
        observed=reading,
    )


@check("expiry.sweep.at_validity_end", requirements=["VAL-002"], profile=EXPIRY)
def sweep_at_validity_end(s: Session) -> None:
    """Unused certificates expire at the end of their validity under the declared reading, not before.

    Two issuances, for the first and the last hour of a day, show that the
    registry computes the end from each production interval as its reading says.
    """
    s.require_clock()
    reading = declared_validity(s)
    w = s.world()
    first, last = s.hour(0)[0], s.hour(23)[0]
    s.issue(WIND, w.meters[WIND], 0, 1000, account=w.account(w.alice))
    s.issue(WIND, w.meters[WIND], 23, 500, account=w.account(w.alice))
    ends = {first: expiry_of_hour(s, reading, 0), last: expiry_of_hour(s, reading, 23)}
    quantities = {first: 1000, last: 500}
    # Visit one second before and at each end of validity, in time order, and check both.
    moments = sorted({moment for end in ends.values() for moment in (end - SECOND, end)})
    for moment in moments:
        move_to(s, moment)
        sweep(s)
        for start, end in ends.items():
            status = "EXPIRED" if moment >= end else "ACTIVE"
            wanted = [(status, quantities[start])]
            s.expect(
                statuses(s, WIND, start) == wanted,
                f"at {moment:%Y-%m-%dT%H:%M:%SZ}, under {reading} (validity of the production "
                f"at {start} ends {end:%Y-%m-%dT%H:%M:%SZ}), its certificates are {status}",
                expected=wanted,
                observed=shortlist(of_production(s, WIND, start)),
            )


def _expired_world(s: Session) -> tuple[World, dict[str, Any], dict[str, Any]]:
    """One expired bundle that was active and one that was reserved, after the sweep."""
    s.require_clock()
    reading = declared_validity(s)
    w = s.world()
    active, _ = alice_issues(s, w, 1000, hour=0)
    reserved, _ = alice_issues(s, w, 500, hour=1)
    s.accept("reserve", w.alice, bundle_id=reserved)
    move_to(s, expiry_of_hour(s, reading, 1))
    sweep(s)
    return w, record(s, active), record(s, reserved)


@check("expiry.expired.cannot_be_used", requirements=["VAL-003"], profile=EXPIRY)
def expired_cannot_be_used(s: Session) -> None:
    """Expired certificates cannot be transferred, cancelled, reserved, withdrawn or released."""
    w, active, reserved = _expired_world(s)
    for bundle in (active, reserved):
        s.expect(
            bundle["certificate_bundle_status"] == "EXPIRED",
            "the sweep expired the certificates",
            expected="EXPIRED",
            observed=shortlist([bundle]),
        )
    target = active["bundle_id"]
    s.reject(
        "BUNDLE_NOT_ACTIVE", "transfer", w.alice, bundle_id=target, to_account=w.account(w.bob)
    )
    s.reject("BUNDLE_NOT_ACTIVE", "cancel", w.alice, bundle_id=target, beneficiary=CONSUMER)
    s.reject("BUNDLE_NOT_ACTIVE", "reserve", w.alice, bundle_id=target)
    s.reject("BUNDLE_NOT_ACTIVE", "withdraw", ISSUER_ID, bundle_id=target, reason="late")
    s.reject("NOT_CANCELLED", "claim", w.alice, bundle_id=target, claimant=CONSUMER)
    s.reject("NOT_RESERVED", "release", w.alice, bundle_id=reserved["bundle_id"])


@check("expiry.unswept.refused_after_end", requirements=["VAL-004"], profile=EXPIRY)
def unswept_refused_after_end(s: Session) -> None:
    """Past the end of validity, certificates are refused even before a sweep has marked them."""
    s.require_clock()
    reading = declared_validity(s)
    w = s.world()
    bundle, _ = alice_issues(s, w, 1000, hour=0)
    end = expiry_of_hour(s, reading, 0)
    move_to(s, end - SECOND)
    own_hour = own_hour_period(s, 0, reading)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER, quantity=100, **own_hour)
    move_to(s, end)
    live = one(s, "still active (not swept)", certificate_bundle_status="ACTIVE")["bundle_id"]
    s.reject(
        "CERTIFICATE_EXPIRED", "transfer", w.alice, bundle_id=live, to_account=w.account(w.bob)
    )
    s.reject("CERTIFICATE_EXPIRED", "cancel", w.alice, bundle_id=live, beneficiary=CONSUMER)
    s.reject("CERTIFICATE_EXPIRED", "reserve", w.alice, bundle_id=live, quantity=10)


@check("expiry.sweep.spares_ended_certificates", requirements=["VAL-005"], profile=EXPIRY)
def sweep_spares_ended(s: Session) -> None:
    """The sweep expires only live certificates: cancelled, claimed, withdrawn ones keep their status."""
    s.require_clock()
    reading = declared_validity(s)
    w = s.world()
    start = s.hour(0)[0]
    bundle, _ = alice_issues(s, w, 1000, hour=0)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER, quantity=300)
    cancelled = one(s, "cancelled", certificate_bundle_status="CANCELLED")
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=100)
    active = one(s, "active", certificate_bundle_status="ACTIVE")
    s.accept("withdraw", ISSUER_ID, bundle_id=active["bundle_id"], reason="x", quantity=200)
    move_to(s, expiry_of_hour(s, reading, 0))
    sweep(s)
    expected = [("CANCELLED", 200), ("CLAIMED", 100), ("EXPIRED", 500), ("WITHDRAWN", 200)]
    s.expect(
        statuses(s, WIND, start) == expected,
        "only the active certificates expired; the others kept their status",
        expected=expected,
        observed=shortlist(of_production(s, WIND, start)),
        severity=CRITICAL,
    )


@check("expiry.sweep.includes_reserved_and_locked", requirements=["VAL-006"], profile=EXPIRY)
def sweep_includes_reserved(s: Session) -> None:
    """Reserved and locked certificates expire like active ones."""
    s.require_clock()
    reading = declared_validity(s)
    w = s.world()
    start = s.hour(0)[0]
    bundle, _ = alice_issues(s, w, 1000, hour=0)
    s.accept("reserve", w.alice, bundle_id=bundle, quantity=200)
    active = one(s, "active", certificate_bundle_status="ACTIVE")
    s.accept("reserve", w.alice, bundle_id=active["bundle_id"], quantity=300, kind="LOCKED")
    move_to(s, expiry_of_hour(s, reading, 0))
    sweep(s)
    found = statuses(s, WIND, start)
    s.expect(
        [status for status, _ in found] == ["EXPIRED"] * 3
        and total(of_production(s, WIND, start)) == 1000,
        "active, reserved and locked certificates all expired",
        expected="three EXPIRED bundles holding 1000",
        observed=found,
    )


@check("expiry.sweep.holder_refused", requirements=["VAL-007"], profile=EXPIRY)
def holder_cannot_expire(s: Session) -> None:
    """Holders cannot run the expiry of certificates."""
    w = s.world()
    alice_issues(s, w)
    s.reject("NOT_AUTHORISED", "expire", w.alice, severity=Severity.MAJOR)


@check("expiry.issuance.long_past_refused", requirements=["VAL-008"], profile=EXPIRY)
def long_past_production_refused(s: Session) -> None:
    """Production from more than three years ago, past every reading's validity, is not issued."""
    w = s.world()
    start, end = s.hour(0, day=-1200)
    action, fields = production_request(s, w, WIND, start, end, 1000)
    s.reject("PRODUCTION_TOO_OLD", action, ISSUER_ID, **fields)


@check("expiry.issuance.validity_boundary", requirements=["VAL-008"], profile=EXPIRY)
def issuance_at_validity_boundary(s: Session) -> None:
    """Production is issued up to the last second of its validity and refused from its end on."""
    s.require_clock()
    reading = declared_validity(s)
    w = s.world()
    move_to(s, expiry_of_hour(s, reading, 3) - SECOND)
    s.issue(WIND, w.meters[WIND], 3, 100, account=w.account(w.alice))
    move_to(s, expiry_of_hour(s, reading, 4))
    action, fields = production_request(s, w, WIND, *s.hour(4), 100)
    s.reject("PRODUCTION_TOO_OLD", action, ISSUER_ID, **fields)


@check(
    "expiry.cancel.consumption_outside_validity_refused", requirements=["VAL-009"], profile=EXPIRY
)
def consumption_outside_validity_refused(s: Session) -> None:
    """A cancellation may name a consumption period only within the certificates' validity.

    Periods 18 months before and 30 months after the production lie outside
    every reading; under a declared reading, the hour right after the end of
    validity is outside too. The production hour itself is always inside.
    """
    w = s.world()
    bundle, _ = alice_issues(s, w, 1000, hour=0)
    produced_start, produced_end = (parse_stamp(x) for x in s.hour(0))
    outside = [
        (add_months(produced_start, -18), add_months(produced_end, -18)),
        (add_months(produced_start, 30), add_months(produced_end, 30)),
    ]
    reading = s.capabilities.policies.get("validity")
    if reading in VALIDITY_READINGS:
        end = validity_end(reading, produced_end)
        outside.append((end, end + _dt.timedelta(hours=1)))
    for first, last in outside:
        s.reject(
            "CONSUMPTION_OUTSIDE_VALIDITY",
            "cancel",
            w.alice,
            bundle_id=bundle,
            beneficiary=CONSUMER,
            quantity=10,
            consumption_start=first.strftime(STAMP),
            consumption_end=last.strftime(STAMP),
            severity=Severity.MAJOR,
        )
    s.accept(
        "cancel",
        w.alice,
        bundle_id=bundle,
        beneficiary=CONSUMER,
        quantity=10,
        consumption_start=s.hour(0)[0],
        consumption_end=s.hour(0)[1],
    )


@check("expiry.own_hour.after_consumption_period", requirements=["VAL-011"], profile=EXPIRY)
def own_hour_after_consumption_period(s: Session) -> None:
    """Past its consumption period a certificate serves only its own hour (D8's exemption).

    Applies where the declared policies give certificates such a stretch
    (CALENDAR_YEAR with own_hour_use EXEMPT_12_MONTHS): the last hour of the
    year is issued on 1 January; its certificates may still be transferred and
    cancelled against that hour, and a cancellation naming another period,
    or none, is refused.
    """
    s.require_clock()
    reading = declared_validity(s)
    year = s.epoch.year
    while _dt.datetime(year + 1, 1, 1, tzinfo=_dt.UTC) < s.now:
        year += 1
    new_year = _dt.datetime(year + 1, 1, 1, tzinfo=_dt.UTC)
    if not own_hour_stretch(s, reading, new_year):
        raise NotApplicable(
            f"under the declared policies ({reading}, own_hour_use "
            f"{declared_own_hour_use(s)}) no certificate outlives its "
            "consumption period; VAL-004 and VAL-008 cover the end of its life"
        )
    w = s.world()
    move_to(s, new_year)
    day = (_dt.date(year, 12, 31) - s.epoch.date()).days
    bundle = s.issue(WIND, w.meters[WIND], 23, 1000, account=w.account(w.alice), day=day)
    own_start, own_end = s.hour(23, day=day)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=100)
    kept = one(
        s,
        "kept by alice",
        account_id=w.account(w.alice),
        device_id=WIND,
        certificate_bundle_status="ACTIVE",
    )["bundle_id"]
    after = (new_year.strftime(STAMP), (new_year + _dt.timedelta(hours=1)).strftime(STAMP))
    for period in ({}, {"consumption_start": after[0], "consumption_end": after[1]}):
        s.reject(
            "CONSUMPTION_OUTSIDE_VALIDITY",
            "cancel",
            w.alice,
            bundle_id=kept,
            beneficiary=CONSUMER,
            quantity=10,
            severity=Severity.MAJOR,
            **period,
        )
    s.accept(
        "cancel",
        w.alice,
        bundle_id=kept,
        beneficiary=CONSUMER,
        quantity=10,
        consumption_start=own_start,
        consumption_end=own_end,
    )


@check("expiry.records.kept_five_years", requirements=["REC-002", "REC-001"], profile=EXPIRY)
def records_kept_five_years(s: Session) -> None:
    """Five years after cancellation, the cancelled, claimed and expired certificates are on record."""
    s.require_clock()
    w = s.world()
    start = s.hour(0)[0]
    bundle, _ = alice_issues(s, w, 1000, hour=0)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER, quantity=300)
    cancelled = one(s, "cancelled", certificate_bundle_status="CANCELLED")
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=100)
    s.advance(days=5 * 366)
    sweep(s)
    summary = sorted(
        (
            (b["certificate_bundle_status"], b["bundle_quantity"], b.get("beneficiary"))
            for b in of_production(s, WIND, start)
        ),
        key=str,
    )
    expected = sorted(
        [("CANCELLED", 200, CONSUMER), ("CLAIMED", 100, CONSUMER), ("EXPIRED", 700, None)],
        key=str,
    )
    s.expect_equal(summary, expected, "five years on, every record of the issuance is still there")


# ====================================================================== error correction (D10)


def correct(s: Session, hour: int, energy: object, *, day: int = 0, device: str = WIND) -> None:
    start, end = s.hour(hour, day=day)
    s.accept(
        "correct_production",
        ISSUER_ID,
        device_id=device,
        start=start,
        end=end,
        energy_wh=str(energy),
    )


def submit(s: Session, w: World, hour: int, energy: int, *, day: int = 0) -> int:
    """Submit a wind reading (production-data style); the Wh of certificates it gave."""
    start, end = s.hour(hour, day=day)
    s.accept(
        "submit_production",
        ISSUER_ID,
        device_id=WIND,
        meter_id=w.meters[WIND],
        start=start,
        end=end,
        energy_wh=str(energy),
    )
    return total(of_production(s, WIND, start))


def _sold_then_corrected(s: Session, w: World, down_to: int) -> None:
    """Yesterday's 10:00 reading of 1000 Wh, all sold to bob, then corrected down."""
    bundle = s.issue(WIND, w.meters[WIND], 10, 1000, account=w.account(w.alice), day=-1)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob))
    correct(s, 10, down_to, day=-1)


@check(
    "corrections.upward.issues_difference",
    requirements=["CORR-001", "DC-007"],
    profile=CORRECTION,
)
def upward_issues_difference(s: Session) -> None:
    """A higher corrected value issues exactly the difference and leaves the original bundle alone."""
    w = s.world()
    start = s.hour(10)[0]
    original = s.issue(WIND, w.meters[WIND], 10, 1000, account=w.account(w.alice))
    before = record(s, original)
    correct(s, 10, 1200)
    after = record(s, original)
    s.expect(
        (span(after), after["bundle_quantity"], after["certificate_bundle_status"])
        == (span(before), 1000, "ACTIVE"),
        "the originally issued bundle is unchanged",
        expected=shortlist([before]),
        observed=shortlist([after]),
        severity=CRITICAL,
    )
    extra = [b for b in of_production(s, WIND, start) if b["bundle_id"] != original]
    s.expect(
        total(extra) == 200
        and all(
            (b["certificate_bundle_status"], b["account_id"]) == ("ACTIVE", w.account(w.alice))
            for b in extra
        ),
        "exactly the 200 Wh difference is issued, active, into the device's account",
        expected="200 active certificates with alice",
        observed=shortlist(extra),
        severity=CRITICAL,
    )
    expect_unique_certificates(s)


@check(
    "corrections.downward.withdraws_untouched",
    requirements=["CORR-002", "DC-007"],
    profile=CORRECTION,
)
def downward_withdraws_untouched(s: Session) -> None:
    """A lower corrected value withdraws the excess from certificates still untouched."""
    w = s.world()
    start = s.hour(10)[0]
    s.issue(WIND, w.meters[WIND], 10, 1000, account=w.account(w.alice))
    correct(s, 10, 700)
    s.expect(
        statuses(s, WIND, start) == [("ACTIVE", 700), ("WITHDRAWN", 300)],
        "300 certificates withdrawn, 700 left active",
        expected=[("ACTIVE", 700), ("WITHDRAWN", 300)],
        observed=shortlist(of_production(s, WIND, start)),
        severity=CRITICAL,
    )


@check(
    "corrections.repeated.withdraw_reaches_correction",
    requirements=["CORR-002", "DC-007"],
    profile=CORRECTION,
)
def repeated_corrections(s: Session) -> None:
    """After an upward correction, a downward one withdraws from both issuances of the hour."""
    w = s.world()
    start = s.hour(10)[0]
    s.issue(WIND, w.meters[WIND], 10, 1000, account=w.account(w.alice))
    correct(s, 10, 1200)
    correct(s, 10, 500)
    bundles = of_production(s, WIND, start)
    s.expect(
        (total(bundles, "ACTIVE"), total(bundles, "WITHDRAWN"), total(bundles)) == (500, 700, 1200),
        "500 remain active, 700 are withdrawn, 1200 were issued in all",
        expected=(500, 700, 1200),
        observed=shortlist(bundles),
        severity=CRITICAL,
    )
    expect_unique_certificates(s)


@check(
    "corrections.downward.defers_to_next_issuance",
    requirements=["CORR-003", "CORR-006"],
    profile=CORRECTION,
)
def downward_defers(s: Session) -> None:
    """What cannot be withdrawn is deducted from the next issuance; sold certificates are untouched.

    The next issuance is for the same hour of the next day: the next issuance
    under every reading of "the corresponding production hour".
    """
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    start = s.hour(10, day=-1)[0]
    bundle = s.issue(WIND, w.meters[WIND], 10, 1000, account=w.account(w.alice), day=-1)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=900)
    at_bob = one(s, "at bob", account_id=w.account(w.bob))
    s.accept("cancel", w.bob, bundle_id=at_bob["bundle_id"], beneficiary=CONSUMER, quantity=400)
    sold = sorted(shortlist(s.bundles(account_id=w.account(w.bob))))
    correct(s, 10, 600, day=-1)
    s.expect(
        sorted(shortlist(s.bundles(account_id=w.account(w.bob)))) == sold,
        "the correction left the transferred and cancelled certificates exactly as they were",
        expected=sold,
        observed=sorted(shortlist(s.bundles(account_id=w.account(w.bob)))),
        severity=CRITICAL,
    )
    at_home = [b for b in of_production(s, WIND, start) if b["account_id"] == w.account(w.alice)]
    s.expect(
        status_quantities(at_home) == [("WITHDRAWN", 100)],
        "the 100 untouched certificates were withdrawn",
        expected=[("WITHDRAWN", 100)],
        observed=shortlist(at_home),
        severity=CRITICAL,
    )
    expect_issued_total(s, WIND, start, 1000, "the correction")
    issued = submit(s, w, 10, 1000)
    s.expect_equal(
        issued,
        700,
        "the next issuance is reduced by the 300 Wh that could not be withdrawn",
        severity=CRITICAL,
    )


@check(
    "corrections.downward.insufficient_hour_moves_on",
    requirements=["CORR-004"],
    profile=CORRECTION,
)
def insufficient_hour_moves_on(s: Session) -> None:
    """A deduction larger than the next same-hour issuance takes the rest from another hour."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    _sold_then_corrected(s, w, 700)  # 300 Wh to deduct
    first = submit(s, w, 10, 100)
    s.expect_equal(
        first,
        0,
        "the same-hour issuance of 100 Wh is taken entirely by the deduction",
        severity=CRITICAL,
    )
    second = submit(s, w, 11, 1000)
    s.expect_equal(
        second,
        800,
        "the remaining 200 Wh are deducted from the next issuance of another hour",
        severity=CRITICAL,
    )
    later = submit(s, w, 12, 1000)
    s.expect_equal(
        later, 1000, "once the deduction is made, later issuances are whole", severity=CRITICAL
    )


@check(
    "corrections.deduction.follows_declared_policy",
    requirements=["CORR-005"],
    profile=CORRECTION,
)
def deduction_follows_policy(s: Session) -> None:
    """The deduction lands on the issuance the declared correction_deduction reading names.

    SAME_HOUR_OF_DAY_FIRST waits for the next issuance at the same hour of day;
    NEXT_ISSUANCE takes it from the very next issuance, whatever its hour.
    """
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    policy = s.capabilities.policies.get("correction_deduction")
    if policy is None:
        # CORR-005 is a SHALL the registry owes under whichever reading it follows: leaving the
        # policy undeclared must not dodge it, so the requirement stays *not verified*.
        raise NotApplicable(
            "the registry declares no correction_deduction policy; declare the reading it "
            "follows (gc-conformance policies) so that CORR-005 can be verified",
            kind=SkipKind.NOT_VERIFIED,
        )
    wanted = {"SAME_HOUR_OF_DAY_FIRST": (500, 700), "NEXT_ISSUANCE": (200, 1000)}.get(policy)
    if wanted is None:
        raise CheckFailed(
            "the declared correction_deduction is not a reading the suite can judge",
            expected="SAME_HOUR_OF_DAY_FIRST or NEXT_ISSUANCE",
            observed=policy,
        )
    w = s.world()
    _sold_then_corrected(s, w, 700)  # 300 Wh to deduct, from the 10:00 hour
    got = (submit(s, w, 3, 500), submit(s, w, 10, 1000))
    s.expect_equal(
        got,
        wanted,
        f"under {policy}, the 03:00 and 10:00 issuances give {wanted}",
        severity=CRITICAL,
    )


@check(
    "corrections.issuer_created.deduction_applied",
    requirements=["CORR-010"],
    profile=CORRECTION,
)
def issuer_created_deduction(s: Session) -> None:
    """An issuer-created bundle that ignores an outstanding deduction is refused."""
    s.require_style(IssuanceStyle.ISSUER_CREATED)
    w = s.world()
    first = s.next_free_certificate()
    yesterday = s.hour(10, day=-1)
    result = s.accept(
        "issue_bundle", ISSUER_ID, **asserted(s, w, first=first, quantity=1000, interval=yesterday)
    )
    s.accept("transfer", w.alice, bundle_id=result.get("bundle_id"), to_account=w.account(w.bob))
    correct(s, 10, 700, day=-1)  # 300 Wh can only be deducted
    first = s.next_free_certificate()
    for quantity in (1000, 701):
        fields = asserted(s, w, first=first, quantity=quantity, energy=1000, hour=10)
        s.reject("DEDUCTION_NOT_APPLIED", "issue_bundle", ISSUER_ID, **fields)
    s.accept(
        "issue_bundle", ISSUER_ID, **asserted(s, w, first=first, quantity=700, energy=1000, hour=10)
    )


@check("corrections.production.unknown_refused", requirements=["CORR-007"], profile=CORRECTION)
def unknown_production_refused(s: Session) -> None:
    """Only production that was recognised can be corrected: no issuance out of nothing."""
    w = s.world()
    s.issue(WIND, w.meters[WIND], 0, 1000, account=w.account(w.alice))
    day = s.hour(0)[0][:10]
    for device, start, end in (
        (WIND, *s.hour(5)),
        (WIND, f"{day}T00:00:00Z", f"{day}T00:30:00Z"),
        ("DEV-SOLAR", *s.hour(0)),
    ):
        s.reject(
            "UNKNOWN_PRODUCTION",
            "correct_production",
            ISSUER_ID,
            device_id=device,
            start=start,
            end=end,
            energy_wh="1200",
        )


@check("corrections.production.unchanged_refused", requirements=["CORR-008"], profile=CORRECTION)
def unchanged_refused(s: Session) -> None:
    """A correction to the value already recognised is refused as changing nothing."""
    w = s.world()
    s.issue(WIND, w.meters[WIND], 0, 1000, account=w.account(w.alice))
    start, end = s.hour(0)
    s.reject(
        "CORRECTION_UNCHANGED",
        "correct_production",
        ISSUER_ID,
        device_id=WIND,
        start=start,
        end=end,
        energy_wh="1000",
        severity=MINOR,
    )


@check("corrections.production.holder_refused", requirements=["CORR-009"], profile=CORRECTION)
def holder_cannot_correct(s: Session) -> None:
    """Only the GC Issuer corrects production data."""
    w = s.world()
    s.issue(WIND, w.meters[WIND], 0, 1000, account=w.account(w.alice))
    start, end = s.hour(0)
    for energy in ("2000", "10"):
        s.reject(
            "NOT_AUTHORISED",
            "correct_production",
            w.alice,
            device_id=WIND,
            start=start,
            end=end,
            energy_wh=energy,
        )
