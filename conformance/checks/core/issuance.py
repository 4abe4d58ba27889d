"""Issuance, production data and stamps (D5, D6, D8): what is issued from metered production, once, in whole Wh, with valid intervals."""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_DOWN, Decimal

from gc_conformance.adapter import IssuanceStyle, policy_percent
from gc_conformance.checks import check
from gc_conformance.checks.core.helpers import (
    CONSUMER,
    CRITICAL,
    MINOR,
    SOLAR,
    STAMP_PATTERN,
    WIND,
    alice_issues,
    declared_own_hour_use,
    expect_quantities_match_ranges,
    issue_over,
    production_request,
    record,
    register,
    shortlist,
    total,
    whole_wh,
)
from gc_conformance.session import (
    ISSUER_ID,
    NotApplicable,
    Session,
    device_record,
    stamp,
)

# ====================================================================== issuance


@check("core.issuance.holder_refused", requirements=["AUTH-005"])
def holder_cannot_issue(s: Session) -> None:
    """Only the GC Issuer issues: a holder asking for an issuance is refused."""
    w = s.world()
    start, end = s.hour(4)
    action, fields = production_request(s, w, WIND, start, end, 1000)
    s.reject("NOT_AUTHORISED", action, w.alice, **fields)
    s.reject("NOT_AUTHORISED", action, w.bob, **fields)


@check("core.issuance.resubmission_refused", requirements=["DC-001"])
def resubmission_refused(s: Session) -> None:
    """Production already issued for a device cannot be issued again, in whole or in part.

    Covers a plain resubmission, a resubmission with another volume, intervals
    that overlap the issued one from either side, and a resubmission after the
    first certificates were withdrawn (withdrawal does not free the production).
    The adjacent hour is still accepted.
    """
    w = s.world()
    start, end = s.hour(3)
    bundle = issue_over(s, w, WIND, start, end, 1000)
    day = start[:10]
    for again_start, again_end, wh in (
        (start, end, 1000),
        (start, end, 500),
        (f"{day}T03:30:00Z", f"{day}T04:00:00Z", 100),
        (f"{day}T02:30:00Z", f"{day}T03:30:00Z", 100),
        (f"{day}T03:15:00Z", f"{day}T03:45:00Z", 100),
    ):
        action, fields = production_request(s, w, WIND, again_start, again_end, wh)
        s.reject("DUPLICATE_ISSUANCE", action, ISSUER_ID, **fields)
    s.accept("withdraw", ISSUER_ID, bundle_id=bundle, reason="metering error")
    action, fields = production_request(s, w, WIND, start, end, 1000)
    s.reject("DUPLICATE_ISSUANCE", action, ISSUER_ID, **fields)
    issue_over(s, w, WIND, *s.hour(4), 1000)


@check("core.issuance.into_device_account", requirements=["PROD-007", "IT-002"])
def issuance_into_device_account(s: Session) -> None:
    """An issuance is visible at once: one active bundle of the Wh, in the device's account."""
    w = s.world()
    bundle = s.issue(WIND, w.meters[WIND], 6, 1234, account=w.account(w.alice))
    issued = record(s, bundle)
    start, end = s.hour(6)
    s.expect(
        (
            issued["account_id"],
            issued["certificate_bundle_status"],
            issued["bundle_quantity"],
            issued["device_id"],
            issued.get("production_starting_interval"),
            issued.get("production_ending_interval"),
        )
        == (w.account(w.alice), "ACTIVE", 1234, WIND, start, end),
        "the issued bundle is active, in the device's account, and holds the Wh reported",
        expected=(w.account(w.alice), "ACTIVE", 1234, WIND, start, end),
        observed=issued,
        severity=CRITICAL,
    )
    others = [b for b in s.observe()["bundles"] if b["bundle_id"] != bundle]
    s.expect(
        not others,
        "an issuance creates one bundle and nothing else",
        expected="no other bundles",
        observed=shortlist(others),
        severity=CRITICAL,
    )


@check("core.issuance.zero_production_issues_nothing", requirements=["SPLIT-004"])
def zero_production_issues_nothing(s: Session) -> None:
    """A reading of 0 Wh issues no certificates: no bundle of zero certificates appears."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    start, end = s.hour(7)
    action, fields = production_request(s, w, WIND, start, end, 0)
    s.send(action, ISSUER_ID, **fields)  # accepting or refusing an empty reading are both fine
    bundles = s.observe()["bundles"]
    s.expect(
        not bundles,
        "no bundle exists after a reading of zero Wh",
        expected="no bundles",
        observed=shortlist(bundles),
        severity=CRITICAL,
    )


@check("core.rounding.face_value_follows_policy", requirements=["ATTR-004", "ATTR-003"])
def rounding_follows_policy(s: Session) -> None:
    """A fractional reading becomes whole Wh certificates by the declared rounding rule.

    Each value is the first reading of its own device, so a registry that
    carries sub-Wh remainders from one reading to the next starts from zero.
    """
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    rounding = s.policy("rounding", "NEAREST")
    w = s.world()
    start, end = s.hour(8)
    for index, energy in enumerate(("1000.5", "1000.4999", "999.999", "0.5", "1234", "2.5")):
        device, meter = f"DEV-R{index}", f"M-R{index}"
        register(s, w, device, meter)
        s.accept(
            "submit_production",
            ISSUER_ID,
            device_id=device,
            meter_id=meter,
            start=start,
            end=end,
            energy_wh=energy,
        )
        expected = whole_wh(energy, rounding)
        bundles = s.bundles(device_id=device)
        s.expect(
            total(bundles) == expected,
            f"{energy} Wh must give {expected} certificates under rounding {rounding}",
            expected=expected,
            observed=f"{total(bundles)} in {shortlist(bundles)}",
            severity=CRITICAL,
        )
        expect_quantities_match_ranges(s, bundles)


@check("core.issuance.capacity_plausibility", requirements=["PROD-005"])
def capacity_plausibility(s: Session) -> None:
    """Energy beyond what the device's capacity can produce in the interval is refused."""
    if s.policy("capacity", "NAMEPLATE") == "DISABLED":
        raise NotApplicable("the registry declares capacity plausibility DISABLED")
    w = s.world()
    day = s.hour(0)[0][:10]
    quarter = (f"{day}T09:00:00Z", f"{day}T09:15:00Z")  # 1 kW x 1/4 h = 250 Wh
    hour_limit, quarter_limit = (capacity_limit(s, wh) for wh in (1000, 250))
    for (start, end), wh in ((s.hour(2), hour_limit + 1), (quarter, quarter_limit + 1)):
        action, fields = production_request(s, w, SOLAR, start, end, wh)
        s.reject("CAPACITY_EXCEEDED", action, ISSUER_ID, severity=MINOR, **fields)
    issue_over(s, w, SOLAR, *s.hour(2), hour_limit)
    issue_over(s, w, SOLAR, *quarter, quarter_limit)


def capacity_limit(s: Session, nameplate_wh: int) -> int:
    """The most Wh the registry accepts for ``nameplate_wh`` of capacity x interval: the
    nameplate plus its declared ``capacity_tolerance_percent`` (default 0), whole Wh down."""
    percent = policy_percent(s.policy("capacity_tolerance_percent", "0")) or Decimal(0)
    return int((nameplate_wh * (100 + percent) / 100).to_integral_value(rounding=ROUND_DOWN))


@check("core.validity.long_past_production_refused", requirements=["VAL-010"])
def long_past_production_refused_any_clock(s: Session) -> None:
    """Production older than every reading of the validity period is never issued (D8).

    Needs no clock control and no expiry sweep: production 1200 days before the
    session's day is past its validity under every reading (calendar year,
    rolling 12 or 24 months), whatever the clock; so is day -800. Day -400 is
    past it under the declared 12-month readings only. A recent hour is issued.

    Under the calendar-year reading the edge is this year's first instant, also
    whatever the clock: production that ended at 1 January 00:00:00 belongs to
    last year (its last second lies there) and is past validity, while production
    whose last second is 00:00:00 of this year is valid until next 1 January.
    """
    w = s.world()
    reading = s.policy("validity", "")
    twelve_months = reading in ("CALENDAR_YEAR", "ROLLING_12_MONTHS")
    for day in (-1200, -800, -400) if twelve_months else (-1200, -800):
        start, end = s.hour(0, day=day)
        action, fields = production_request(s, w, WIND, start, end, 1000)
        s.reject("PRODUCTION_TOO_OLD", action, ISSUER_ID, **fields)
    issue_over(s, w, WIND, *s.hour(0), 1000)
    # Under D8's own-hour exemption (own_hour_use EXEMPT_12_MONTHS) last year's production is
    # still issued, for its own hour only, until 12 months after it: the edge below is the
    # strict reading's (an undeclared own_hour_use is judged NOT_EXEMPT, as lifecycle_time does).
    strict = declared_own_hour_use(s) == "NOT_EXEMPT"
    if reading == "CALENDAR_YEAR" and strict:
        new_year = s.now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        last_start = stamp(new_year - _dt.timedelta(hours=1))
        action, fields = production_request(s, w, SOLAR, last_start, stamp(new_year), 10)
        s.reject("PRODUCTION_TOO_OLD", action, ISSUER_ID, **fields)
        first_of_new = new_year + _dt.timedelta(seconds=1)
        if s.now >= first_of_new:  # it has ended (not so in the year's first second)
            begins = first_of_new - _dt.timedelta(hours=1)
            issue_over(s, w, SOLAR, stamp(begins), stamp(first_of_new), 10)


@check("core.issuance.interval_not_ended_refused", requirements=["PROD-006"])
def future_production_refused(s: Session) -> None:
    """Production cannot be reported for an interval that has not ended yet."""
    w = s.world()
    start, end = s.hour(0, day=30)
    action, fields = production_request(s, w, WIND, start, end, 1000)
    s.reject("INTERVAL_NOT_ENDED", action, ISSUER_ID, **fields)


# ====================================================================== production data (D6)


@check("core.production.meter_mismatch_refused", requirements=["PROD-001"])
def meter_mismatch_refused(s: Session) -> None:
    """A reading must come from the meter registered for the device."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    start, end = s.hour(0)
    for meter in (w.meters[SOLAR], "M-UNKNOWN"):
        action, fields = production_request(s, w, WIND, start, end, 1000, meter=meter)
        s.reject("METER_MISMATCH", action, ISSUER_ID, **fields)


@check("core.production.unknown_device_refused", requirements=["PROD-002"])
def unknown_device_refused(s: Session) -> None:
    """Production for a device that is not registered is refused."""
    w = s.world()
    start, end = s.hour(0)
    action, fields = production_request(s, w, "DEV-NOPE", start, end, 1000, meter="M-NOPE")
    s.reject("UNKNOWN_DEVICE", action, ISSUER_ID, **fields)


@check("core.production.gross_net_checked", requirements=["PROD-003"])
def gross_net_checked(s: Session) -> None:
    """A reading's gross/net indicator must be GROSS or NET, and what the meter is registered as."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()  # the cast's meters are registered NET
    start, end = s.hour(0)
    _, fields = production_request(s, w, WIND, start, end, 1000)
    s.reject("GROSS_NET_MISMATCH", "submit_production", ISSUER_ID, gross_or_net="GROSS", **fields)
    s.reject("INVALID_FIELD", "submit_production", ISSUER_ID, gross_or_net="BOTH", **fields)
    s.accept("submit_production", ISSUER_ID, gross_or_net="NET", **fields)
    device = device_record("DEV-GROSS", "M-GROSS", w.account(w.alice), 5_000_000, "wind")
    s.accept("register_device", ISSUER_ID, device={**device, "gross_or_net": "GROSS"})
    s.reject(
        "GROSS_NET_MISMATCH",
        "submit_production",
        ISSUER_ID,
        device_id="DEV-GROSS",
        meter_id="M-GROSS",
        start=start,
        end=end,
        energy_wh="10",
        gross_or_net="NET",
    )
    s.accept(
        "submit_production",
        ISSUER_ID,
        device_id="DEV-GROSS",
        meter_id="M-GROSS",
        start=start,
        end=end,
        energy_wh="10",
        gross_or_net="GROSS",
    )


@check("core.production.invalid_energy_refused", requirements=["PROD-004"])
def invalid_energy_refused(s: Session) -> None:
    """Negative, non-numeric and non-finite production volumes are refused."""
    w = s.world()
    start, end = s.hour(0)
    for energy in ("-1", "-0.5", "abc", "NaN", "Infinity", ""):
        action, fields = production_request(s, w, WIND, start, end, energy, quantity=100)
        s.reject("INVALID_ENERGY", action, ISSUER_ID, **fields)


# ====================================================================== stamps and intervals


@check("core.timestamps.malformed_refused", requirements=["TIME-001"])
def malformed_timestamps_refused(s: Session) -> None:
    """Stamps that are not strict UTC YYYY-MM-DDThh:mm:ssZ are refused.

    Includes the standard's own example end stamp with 95 seconds.
    """
    w = s.world()
    start, end = s.hour(0)
    day = start[:10]
    bad_ends = (
        f"{day}T00:14:95Z",  # the standard's typo: 95 seconds
        f"{day}T01:00:00",  # no Z
        f"{day}T01:00:00+00:00",  # an offset, even a zero one
        f"{day}T02:00:00+01:00",
        f"{day}T01:00:00.000Z",  # fractional seconds
        f"{day} 01:00:00Z",  # a space for the T
        f"{day}T1:00:00Z",
        f"{day}t01:00:00z",
        "2023-02-29T01:00:00Z",  # not a leap year
    )
    found = s.deviations()  # every malformed stamp is judged, not only the first
    for bad in bad_ends:
        action, fields = production_request(s, w, WIND, start, bad, 100)
        with found.step():
            s.reject("INVALID_TIMESTAMP", action, ISSUER_ID, **fields)
    for bad in (f"{day}T00:00:00", f"{day}T00:00:60Z", f"{day}T00:00:00-00:00"):
        action, fields = production_request(s, w, WIND, bad, end, 100)
        with found.step():
            s.reject("INVALID_TIMESTAMP", action, ISSUER_ID, **fields)
    found.judge()


@check("core.timestamps.interval_over_hour_refused", requirements=["TIME-002"])
def long_interval_refused(s: Session) -> None:
    """A production interval longer than one hour is refused, even by one second."""
    w = s.world()
    start, _ = s.hour(0)
    day = start[:10]
    for end in (f"{day}T01:00:01Z", f"{day}T02:00:00Z", s.hour(0, day=1)[0]):
        action, fields = production_request(s, w, WIND, start, end, 100)
        s.reject("INTERVAL_TOO_LONG", action, ISSUER_ID, **fields)


@check("core.timestamps.start_not_before_end_refused", requirements=["TIME-003"])
def empty_interval_refused(s: Session) -> None:
    """An interval must start strictly before it ends."""
    w = s.world()
    start, end = s.hour(1)
    for first, last in ((start, start), (end, start)):
        action, fields = production_request(s, w, WIND, first, last, 100)
        s.reject("INVALID_INTERVAL", action, ISSUER_ID, **fields)


@check("core.timestamps.sub_hourly_accepted", requirements=["TIME-004", "TIME-005"])
def sub_hourly_accepted(s: Session) -> None:
    """Quarter-hour intervals are accepted and shown exactly as reported, in strict UTC."""
    w = s.world()
    day = s.hour(0)[0][:10]
    quarters = [
        (f"{day}T05:{m:02d}:00Z", f"{day}T05:{m + 15:02d}:00Z" if m < 45 else f"{day}T06:00:00Z")
        for m in (0, 15, 30, 45)
    ]
    for start, end in quarters:
        issued = record(s, issue_over(s, w, WIND, start, end, 100))
        shown = (
            issued.get("production_starting_interval"),
            issued.get("production_ending_interval"),
        )
        s.expect(
            shown == (start, end)
            and all(isinstance(v, str) and STAMP_PATTERN.fullmatch(v) for v in shown),
            "the bundle shows the reported interval as strict UTC stamps",
            expected=(start, end),
            observed=shown,
        )


@check("core.timestamps.time_reversal_refused", requirements=["IT-005"])
def time_reversal_refused(s: Session) -> None:
    """A request dated before the last recorded action is refused: the record is time-ordered."""
    s.require_clock()
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.advance(hours=2)
    if s.optional("reserve"):
        s.accept("reserve", w.alice, bundle_id=bundle, quantity=10)
    else:  # any recorded action will do
        moved = s.accept(
            "transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=10
        )
        bundle = moved.get("remainder_id") or bundle
    later = s.now
    s.now = later - _dt.timedelta(hours=1)
    try:
        s.reject(
            "TIME_REVERSAL",
            "cancel",
            w.alice,
            bundle_id=bundle,
            beneficiary=CONSUMER,
            severity=MINOR,
        )
    finally:
        s.now = later
