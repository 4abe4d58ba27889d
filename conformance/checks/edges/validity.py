"""Validity (D8) at its end: on a controlled clock to the second, and on a wall clock by waiting
for a short rolling validity to end."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gc_conformance.adapter import IssuanceStyle
from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    SOLAR,
    WIND,
    issue_wh,
    production,
    refused,
    the_other,
)
from gc_conformance.clock import read_stamp
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    device_record,
    stamp,
)

# ====================================================================== validity at its end (D8)

_SECOND = _dt.timedelta(seconds=1)
_READINGS = ("CALENDAR_YEAR", "ROLLING_12_MONTHS", "ROLLING_24_MONTHS")


def _months_later(moment: _dt.datetime, months: int) -> _dt.datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    following = _dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - _dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _validity_end(reading: str, production_end: _dt.datetime) -> _dt.datetime:
    """The first instant a GC produced up to ``production_end`` is no longer valid."""
    if reading == "CALENDAR_YEAR":
        return _dt.datetime((production_end - _SECOND).year + 1, 1, 1, tzinfo=_dt.UTC)
    return _months_later(production_end, 12 if reading == "ROLLING_12_MONTHS" else 24)


@check("edges.validity.at_the_end_of_validity", requirements=["VAL-004", "VAL-008"])
def validity_edges(s: Session) -> None:
    """Under the declared validity reading, one second before the end certificates are used and
    production is issued; at the end itself, use and issuance are refused (no sweep needed)."""
    from gc_conformance.checks.lifecycle_time import own_hour_stretch
    from gc_conformance.session import NotApplicable

    s.require_clock()
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    reading = s.capabilities.policies.get("validity")
    if reading not in _READINGS:
        raise NotApplicable(f"no validity reading the suite can judge is declared ({reading!r})")
    _, end = s.hour(0)
    produced_end = read_stamp(end)
    stretch = own_hour_stretch(s, reading, produced_end)  # D8's own-hour exemption
    w = s.world()
    for device, meter in (("DEV-LATE-1", "M-LATE-1"), ("DEV-LATE-2", "M-LATE-2")):
        s.accept("register_device", ISSUER_ID,
                 device=device_record(device, meter, w.account(w.alice), 5_000, "solar"))  # fmt: skip
    start, end = s.hour(0)
    used = issue_wh(s, w, 100, hour=0)
    kept = s.issue(SOLAR, w.meters[SOLAR], 0, 100, account=w.account(w.alice))
    ends = _months_later(produced_end, 12) if stretch else _validity_end(reading, produced_end)
    s.advance(seconds=(ends - _SECOND - s.now).total_seconds())
    s.accept("transfer", w.alice, bundle_id=used, to_account=w.account(w.bob), quantity=10)
    s.accept("submit_production", ISSUER_ID,
             **production(s, "DEV-LATE-1", "M-LATE-1", start, end, 10))  # fmt: skip
    s.advance(seconds=1)
    uses: tuple[tuple[str, dict[str, Any]], ...] = (
        ("transfer", {"to_account": w.account(w.bob)}),
        ("cancel", {"beneficiary": "Consumer-X"}),
        ("reserve", {}),
    )
    for action, extra in uses:
        if s.optional(action):  # reserve is optional: without it, transfer and cancel still judge
            refused(s, action, w.alice,
                    f"the certificates' validity ({reading}) ended at {stamp(ends)}",
                    requirements=("VAL-004",), bundle_id=kept, **extra)  # fmt: skip
    refused(s, "submit_production", ISSUER_ID,
            f"the production's validity ({reading}) ended at {stamp(ends)}",
            requirements=("VAL-008",),
            **production(s, "DEV-LATE-2", "M-LATE-2", start, end, 10))  # fmt: skip
    if reading == "CALENDAR_YEAR" and not stretch:
        # Production ending at midnight on 1 January belongs to the year it ended in (its last
        # second lies there): at that very instant its validity has ended too.
        last_start, last_end = stamp(ends - _dt.timedelta(hours=1)), stamp(ends)
        s.accept("register_device", ISSUER_ID,
                 device=device_record("DEV-LATE-3", "M-LATE-3", w.account(w.alice), 5_000,
                                      "solar"))  # fmt: skip
        refused(s, "submit_production", ISSUER_ID,
                f"production {last_start}..{last_end} was valid until {last_end} only",
                requirements=("VAL-008",),
                **production(s, "DEV-LATE-3", "M-LATE-3", last_start, last_end, 10))  # fmt: skip
        # One second later, production whose last second lies in the new year is issued.
        s.advance(seconds=1)
        first_start = stamp(ends - _dt.timedelta(minutes=59, seconds=59))
        s.accept("submit_production", ISSUER_ID,
                 **production(s, "DEV-LATE-3", "M-LATE-3", first_start, stamp(ends + _SECOND),
                              10))  # fmt: skip


# ====================================================================== validity on the wall clock (D8)

#: How long after issuance the certificates' validity ends (room for issuance and a use before).
WALL_LEAD = _dt.timedelta(seconds=10)
#: How far the suite's clock and the registry's may differ (both keep UTC, e.g. by NTP): uses are
#: judged this long after the end, and a use before the end is placed at least this long before.
CLOCK_MARGIN = _dt.timedelta(seconds=5)


def months_before(moment: _dt.datetime, months: int) -> _dt.datetime | None:
    """The production end whose rolling validity of ``months`` ends exactly at ``moment``; None
    when no such instant exists (29 February, or a 31st with a shorter month before it)."""
    index = moment.month - 1 - months
    try:
        earlier = moment.replace(year=moment.year + index // 12, month=index % 12 + 1)
    except ValueError:
        return None
    return earlier if _months_later(earlier, months) == moment else None


@check("edges.validity.use_after_end_wall_clock", requirements=["VAL-004"])
def validity_use_after_end_wall_clock(s: Session) -> None:
    """On its own clock, a registry refuses to transfer or cancel certificates once their
    validity has ended (D8), with no sweep and no clock control: production is issued so that
    its validity ends seconds later, used once before that end, and refused after it.

    Why this design: a wall-clock registry cannot be moved to the end of a validity, so the
    validity is made to end now instead. Under a rolling reading, production that ended 12 (or
    24) months before an instant a few seconds ahead is still valid at issuance (VAL-010 does
    not apply yet) and expires while the check waits. Under the calendar-year reading that end
    is 1 January 00:00 UTC, within reach of a wall clock only in the year's last minute: the
    check is then not applicable (``edges.validity.at_the_end_of_validity`` judges it on a
    controlled clock). The two clocks are assumed to agree within :data:`CLOCK_MARGIN`; a
    registry that refuses the still-valid production or its use before the end leaves VAL-004
    not verified, never failed. A registry whose clock the suite moves runs the same scenario,
    the clock moved instead of waited for.
    """
    import time

    from gc_conformance.adapter import Clock
    from gc_conformance.checks.core import declared_own_hour_use
    from gc_conformance.outcomes import SkipKind
    from gc_conformance.session import NotApplicable

    controlled = s.capabilities.clock is Clock.CONTROLLED
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    reading = s.capabilities.policies.get("validity")
    if reading not in _READINGS:
        raise NotApplicable(f"no validity reading the suite can judge is declared ({reading!r})")
    w = s.world()

    def clock() -> _dt.datetime:
        return s.now if controlled else s.wall_clock()

    wall = clock().replace(microsecond=0) + _SECOND
    ends = wall + WALL_LEAD + CLOCK_MARGIN
    # D8's own-hour exemption (own_hour_use EXEMPT_12_MONTHS): under CALENDAR_YEAR a GC stays
    # usable until 12 months after its production, so that is the end judged here, reached as
    # under a rolling 12-month reading (an undeclared own_hour_use is judged NOT_EXEMPT).
    exempt = reading == "CALENDAR_YEAR" and declared_own_hour_use(s) == "EXEMPT_12_MONTHS"

    def end_of_use(produced: _dt.datetime) -> _dt.datetime:
        if exempt:
            return max(_validity_end(reading, produced), _months_later(produced, 12))
        return _validity_end(reading, produced)

    if reading == "CALENDAR_YEAR" and not exempt:
        new_year = _dt.datetime(wall.year + 1, 1, 1, tzinfo=_dt.UTC)
        if controlled:
            s.advance(seconds=(new_year - ends).total_seconds())
        elif not ends <= new_year <= ends + _dt.timedelta(minutes=1):
            raise NotApplicable(
                "the registry cannot move its clock, and under CALENDAR_YEAR certificates "
                f"expire only at {stamp(new_year)}; with a wall clock use after the end is "
                "judged only in the year's last minute"
            )
        ends = new_year
        production_end: _dt.datetime | None = ends - _dt.timedelta(hours=1)
    else:
        production_end = months_before(ends, 24 if reading == "ROLLING_24_MONTHS" else 12)
    if production_end is None or end_of_use(production_end) != ends:
        raise NotApplicable(
            f"no production interval ends exactly {reading} before {stamp(ends)} (a day that "
            "the earlier month lacks); try again tomorrow"
        )
    start = stamp(production_end - _dt.timedelta(hours=1))
    answer = s.send("submit_production", ISSUER_ID, expectation="accept",
                    **production(s, WIND, w.meters[WIND], start, stamp(production_end), 100))  # fmt: skip
    if not answer.accepted:
        raise NotApplicable(
            f"the registry refused production whose validity ({reading}) ends at {stamp(ends)} "
            f"({answer.code}: {answer.message}): its clock may run ahead of the suite's; use "
            "after the end cannot be judged",
            kind=SkipKind.NOT_VERIFIED,
        )
    bundle = s.created(answer.result, "bundle_id", "issuance")
    before = clock()
    if ends - before < CLOCK_MARGIN:
        raise NotApplicable(
            "the registry took too long to issue: no use could be placed before the validity "
            f"ended at {stamp(ends)}",
            kind=SkipKind.NOT_VERIFIED,
        )
    used = s.send("transfer", w.alice, expectation="accept", bundle_id=bundle,
                  to_account=w.account(w.bob), quantity=10)  # fmt: skip
    if not used.accepted:
        raise NotApplicable(
            f"the registry refused a transfer {int((ends - before).total_seconds())} s before the "
            f"validity ended ({used.code}: {used.message}): the refusal after the end would "
            "show nothing",
            kind=SkipKind.NOT_VERIFIED,
        )
    rest = used.result.get("remainder_id")
    if rest is None:
        rest = the_other(s, w.account(w.alice), WIND)
    wait = (ends + CLOCK_MARGIN - clock()).total_seconds()
    if controlled:
        s.advance(seconds=wait)
    elif wait > 0:
        time.sleep(wait)
    why = f"the certificates' validity ({reading}) ended at {stamp(ends)}"
    refused(s, "transfer", w.alice, why, requirements=("VAL-004",), bundle_id=rest,
            to_account=w.account(w.bob))  # fmt: skip
    refused(s, "cancel", w.alice, why, requirements=("VAL-004",), bundle_id=rest,
            beneficiary="Consumer-X")  # fmt: skip
    if s.optional("reserve"):
        refused(s, "reserve", w.alice, why, requirements=("VAL-004",), bundle_id=rest)
