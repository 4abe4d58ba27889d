"""Reservation and locking, withdrawal by the issuer, and expiry at an explicit ``now`` (D8, D9)."""

from __future__ import annotations

import datetime as dt

import pytest
from core_builders import (
    ALICE,
    BOB,
    ISSUER,
    PRODUCER_ACCOUNT,
    SUPPLIER_ACCOUNT,
    WIND,
    World,
    ts,
)

from gc_conformance.reference import (
    BundleResult,
    BundleStatus,
    Cancel,
    ErrorCode,
    Expire,
    ExpiryResult,
    OwnHourUse,
    Policies,
    Release,
    Reserve,
    SubmitProduction,
    Transfer,
    ValidityReading,
    Withdraw,
)
from gc_conformance.reference.invariants import Risk, check_invariants

# ---------------------------------------------------------------- reserve / lock / release


@pytest.mark.parametrize(
    ("kind", "status"), [("RESERVED", BundleStatus.RESERVED), ("LOCKED", BundleStatus.LOCKED)]
)
def test_reserve_or_lock_then_release(kind: str, status: BundleStatus) -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Reserve(ALICE, 1, kind=kind)) == BundleResult(1, None)
    assert world.bundle(1).status is status
    assert world.registry.balance(PRODUCER_ACCOUNT) == 0  # held back from trading
    world.rejected(Transfer(ALICE, 1, SUPPLIER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE)
    world.rejected(Cancel(ALICE, 1, "Acme"), ErrorCode.BUNDLE_NOT_ACTIVE)
    world.rejected(Reserve(ALICE, 1), ErrorCode.BUNDLE_NOT_ACTIVE)
    assert world.ok(Release(ALICE, 1)) == BundleResult(1, None)
    assert world.bundle(1).status is BundleStatus.ACTIVE
    assert world.registry.balance(PRODUCER_ACCOUNT) == 1000
    world.assert_invariants()


def test_a_partial_reservation_splits() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Reserve(ALICE, 1, 100)) == BundleResult(2, 3)
    assert world.bundle(2).status is BundleStatus.RESERVED and world.bundle(2).quantity == 100
    assert world.bundle(3).status is BundleStatus.ACTIVE and world.bundle(3).quantity == 900
    assert world.registry.balance(PRODUCER_ACCOUNT) == 900


def test_reservation_rules() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Reserve(ALICE, 1, kind="PARKED"), ErrorCode.INVALID_FIELD, "kind")
    world.rejected(Reserve(BOB, 1), ErrorCode.NOT_OWNER, "actor")
    world.rejected(Reserve(ALICE, 1, 1001), ErrorCode.QUANTITY_EXCEEDS_BUNDLE, "quantity")
    world.rejected(Reserve(ALICE, 1, 0), ErrorCode.INVALID_QUANTITY, "quantity")
    world.rejected(Release(ALICE, 1), ErrorCode.NOT_RESERVED, "bundle_id")
    world.ok(Reserve(ALICE, 1))
    world.rejected(Release(BOB, 1), ErrorCode.NOT_OWNER, "actor")
    world.rejected(Release(ALICE, 5), ErrorCode.UNKNOWN_BUNDLE, "bundle_id")


# ---------------------------------------------------------------- withdraw


def test_the_issuer_withdraws_whole_or_part() -> None:
    world = World()
    world.produce(energy=1000)
    assert world.ok(Withdraw(ISSUER, 1, "meter fault", 100)) == BundleResult(2, 3)
    assert world.bundle(2).status is BundleStatus.WITHDRAWN
    assert world.bundle(3).status is BundleStatus.ACTIVE
    assert world.ok(Withdraw(ISSUER, 3, "meter fault")) == BundleResult(3, None)
    assert world.registry.balance(PRODUCER_ACCOUNT) == 0
    world.rejected(Withdraw(ISSUER, 3, "again"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    world.assert_invariants()


def test_withdrawal_reaches_reserved_and_locked_bundles_but_not_cancelled_ones() -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Reserve(ALICE, 1, 100, kind="LOCKED"))  # 2 locked, 3 active
    world.ok(Cancel(ALICE, 3, "Acme", quantity=100))  # 4 cancelled, 5 active
    assert world.ok(Withdraw(ISSUER, 2, "dispute")) == BundleResult(2, None)
    world.rejected(Withdraw(ISSUER, 4, "too late"), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")


def test_only_the_issuer_withdraws() -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(Withdraw(ALICE, 1, "I changed my mind"), ErrorCode.NOT_AUTHORISED, "actor")
    world.rejected(Withdraw(ISSUER, 1, ""), ErrorCode.INVALID_FIELD, "reason")
    world.rejected(Withdraw(ISSUER, 1, "x", 1001), ErrorCode.QUANTITY_EXCEEDS_BUNDLE, "quantity")
    world.rejected(Withdraw(ISSUER, 9, "x"), ErrorCode.UNKNOWN_BUNDLE, "bundle_id")


def test_withdrawn_ids_are_not_issued_again() -> None:
    world = World()
    world.produce(energy=100)
    world.ok(Withdraw(ISSUER, 1, "meter fault"))
    world.produce("2024-03-01T11:00:00Z", 100)
    assert world.bundle(2).range_start == 101


# ---------------------------------------------------------------- expiry


def test_calendar_year_expiry_at_the_exact_instant() -> None:
    world = World(Policies(own_hour_use=OwnHourUse.NOT_EXEMPT))  # the strict reading
    world.produce("2024-12-31T22:00:00Z", 1000, now="2024-12-31T23:00:00Z")
    issuance = world.registry.issuance(1)
    assert issuance is not None and issuance.expiry == ts("2025-01-01T00:00:00Z")
    # one second before: still valid, and a sweep finds nothing
    assert world.ok(Expire(ISSUER), now="2024-12-31T23:59:59Z") == ExpiryResult(())
    assert world.ok(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 10), now="2024-12-31T23:59:59Z"
    ) == BundleResult(2, 3)
    # at the instant itself, not swept yet: no longer usable
    world.rejected(
        Transfer(BOB, 2, PRODUCER_ACCOUNT),
        ErrorCode.CERTIFICATE_EXPIRED,
        "bundle_id",
        now="2025-01-01T00:00:00Z",
    )
    assert world.bundle(2).status is BundleStatus.ACTIVE
    assert world.ok(Expire(ISSUER)) == ExpiryResult((2, 3))
    assert world.bundle(2).status is world.bundle(3).status is BundleStatus.EXPIRED
    assert world.registry.balance(SUPPLIER_ACCOUNT) == 0
    # a second sweep finds nothing more; expired bundles are no longer active
    assert world.ok(Expire(ISSUER)) == ExpiryResult(())
    world.rejected(Transfer(BOB, 2, PRODUCER_ACCOUNT), ErrorCode.BUNDLE_NOT_ACTIVE, "bundle_id")
    world.assert_invariants()


LAST_HOUR = SubmitProduction(
    ISSUER, "DEV-WIND", "M-WIND", "2024-12-31T23:00:00Z", "2025-01-01T00:00:00Z", 10
)


def test_strictly_read_the_last_hour_of_the_year_expires_with_that_year() -> None:
    # NOT_EXEMPT under CALENDAR_YEAR: its certificates would be expired the instant the hour
    # has ended and can be reported, so none are issued (D8; docs/lifecycle.md)
    world = World(Policies(own_hour_use=OwnHourUse.NOT_EXEMPT))
    world.rejected(LAST_HOUR, ErrorCode.PRODUCTION_TOO_OLD, "interval", now="2025-01-01T00:00:00Z")
    assert world.registry.production(WIND, ts("2024-12-31T23:00:00Z")) is None
    # a rolling reading leaves it twelve months, exemption or not
    for own_hour in OwnHourUse:
        world = World(Policies(validity=ValidityReading.ROLLING_12_MONTHS, own_hour_use=own_hour))
        assert world.ok(LAST_HOUR, now="2025-01-01T00:00:00Z").issued_wh == 10
        issuance = world.registry.issuance(1)
        assert issuance is not None and issuance.expiry == ts("2026-01-01T00:00:00Z")
        assert issuance.own_hour_only_from is None


DEC_HOUR = ("2024-12-31T23:00:00Z", "2025-01-01T00:00:00Z")


def test_december_production_reported_in_january_serves_its_own_hour() -> None:
    """D8 exempts a GC matched to its own hour from the 12-month consumption period.

    The default (EXEMPT_12_MONTHS) issues the last hour of 2024 on 1 January
    and lets it be transferred and cancelled against its own hour for 12
    months after production; any other consumption period is refused, and so
    is a cancellation naming none (what it serves would be unknown).
    """
    world = World()
    assert world.ok(LAST_HOUR, now="2025-01-01T00:00:00Z").issued_wh == 10
    issuance = world.registry.issuance(1)
    assert issuance is not None
    assert issuance.own_hour_only_from == ts("2025-01-01T00:00:00Z")
    assert issuance.expiry == ts("2026-01-01T00:00:00Z")
    assert world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 6), now="2025-02-01T00:00:00Z")
    for period in (
        ("2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"),  # the hour after: not its own
        ("2024-12-31T00:00:00Z", "2024-12-31T01:00:00Z"),  # in its calendar year, but past it
        ("2024-12-31T22:30:00Z", "2024-12-31T23:30:00Z"),  # straddles its start
    ):
        world.rejected(
            Cancel(
                BOB, 2, "Acme", quantity=1, consumption_start=period[0], consumption_end=period[1]
            ),
            ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
            "consumption_period",
        )
    problem = world.rejected(
        Cancel(BOB, 2, "Acme", quantity=1),
        ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
        "consumption_period",
    )
    assert "own production interval" in problem.message and "EXEMPT_12_MONTHS" in problem.message
    # its own hour, or a part of it: accepted, and the period is in the exported history
    world.ok(
        Cancel(
            BOB, 2, "Acme", quantity=2, consumption_start=DEC_HOUR[0], consumption_end=DEC_HOUR[1]
        )
    )
    world.ok(
        Cancel(
            BOB,
            5,
            "Acme",
            quantity=2,
            consumption_start="2024-12-31T23:15:00Z",
            consumption_end="2024-12-31T23:30:00Z",
            consumption_location="NL-1011",
        )
    )
    status = world.registry.export_history()[-1]["effects"][-1]
    assert status["consumption_start"] == "2024-12-31T23:15:00Z"
    assert status["consumption_location"] == "NL-1011"
    # the sweep expires what is left at the end of the own-hour stretch, not before
    assert world.ok(Expire(ISSUER), now="2025-12-31T23:59:59Z") == ExpiryResult(())
    swept = world.ok(Expire(ISSUER), now="2026-01-01T00:00:00Z")
    assert swept.expired and all(
        world.bundle(b).status is BundleStatus.EXPIRED for b in swept.expired
    )
    world.rejected(LAST_HOUR, ErrorCode.PRODUCTION_TOO_OLD, "interval")  # not issued again
    world.assert_invariants()


@pytest.mark.parametrize(
    "period",
    [
        None,
        ("2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"),
        ("2024-12-31T22:00:00Z", "2024-12-31T23:30:00Z"),
    ],
)
def test_the_checker_finds_a_late_cancellation_not_matched_to_its_own_hour(
    period: tuple[str, str] | None,
) -> None:
    """A third party's history: past the consumption period only the own hour may be matched."""
    world = World()
    world.ok(LAST_HOUR, now="2025-01-01T00:00:00Z")
    world.ok(Cancel(ALICE, 1, "Acme", consumption_start=DEC_HOUR[0], consumption_end=DEC_HOUR[1]))
    history, state = world.registry.export_history(), world.registry.export_state()
    assert check_invariants(history, state).ok
    issued = [e for a in history for e in a["effects"] if e["effect"] == "issue"]
    assert issued[0]["own_hour_only_from"] == "2025-01-01T00:00:00Z"
    cancel = history[-1]["effects"][-1]
    del cancel["consumption_start"], cancel["consumption_end"]
    if period is not None:
        cancel["consumption_start"], cancel["consumption_end"] = period
    report = check_invariants(history, state)
    assert [f.risk for f in report.findings] == [Risk.VALIDITY]
    assert "own production interval" in report.findings[0].message


def test_within_its_consumption_period_any_period_inside_it_may_be_named() -> None:
    # before 1 January the exemption changes nothing: the calendar year is the period
    world = World()
    world.produce("2024-03-01T10:00:00Z", 100)
    world.ok(
        Cancel(
            ALICE,
            1,
            "Acme",
            quantity=10,
            consumption_start="2024-12-31T23:00:00Z",
            consumption_end="2025-01-01T00:00:00Z",
        ),
        now="2024-06-01T00:00:00Z",
    )
    world.rejected(  # ends past the period: outside, though the GC still lives until March
        Cancel(
            ALICE,
            3,
            "Acme",
            quantity=10,
            consumption_start="2024-12-31T23:30:00Z",
            consumption_end="2025-01-01T00:30:00Z",
        ),
        ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
        "consumption_period",
    )
    # from 1 January a plain cancellation is refused; its own hour is accepted
    world.rejected(
        Cancel(ALICE, 3, "Acme", quantity=10),
        ErrorCode.CONSUMPTION_OUTSIDE_VALIDITY,
        "consumption_period",
        now="2025-01-01T00:00:00Z",
    )
    world.ok(
        Cancel(
            ALICE,
            3,
            "Acme",
            quantity=10,
            consumption_start="2024-03-01T10:00:00Z",
            consumption_end="2024-03-01T11:00:00Z",
        )
    )
    world.assert_invariants()


@pytest.mark.parametrize(
    ("validity", "own_hour", "production_start", "expiry"),
    [
        *(
            (validity, own_hour, "2024-02-29T00:00:00Z", expiry)
            for own_hour in OwnHourUse
            for validity, expiry in (
                (ValidityReading.ROLLING_12_MONTHS, "2025-02-28T01:00:00Z"),
                (ValidityReading.ROLLING_24_MONTHS, "2026-02-28T01:00:00Z"),
            )
        ),
        (
            ValidityReading.CALENDAR_YEAR,
            OwnHourUse.NOT_EXEMPT,
            "2024-02-29T00:00:00Z",
            "2025-01-01T00:00:00Z",
        ),
        (
            ValidityReading.CALENDAR_YEAR,
            OwnHourUse.EXEMPT_12_MONTHS,
            "2024-02-29T00:00:00Z",
            "2025-02-28T01:00:00Z",
        ),
    ],
)
def test_rolling_and_calendar_expiry_instants(
    validity: ValidityReading, own_hour: OwnHourUse, production_start: str, expiry: str
) -> None:
    world = World(Policies(validity=validity, own_hour_use=own_hour))
    world.produce(production_start, 1000)
    assert world.registry.issuance(1).expiry == ts(expiry)  # type: ignore[union-attr]
    just_before = ts(expiry) - dt.timedelta(seconds=1)
    assert world.ok(Reserve(ALICE, 1, 10), now=just_before) == BundleResult(2, 3)
    assert world.ok(Expire(ISSUER)) == ExpiryResult(())
    world.rejected(Reserve(ALICE, 3, 10), ErrorCode.CERTIFICATE_EXPIRED, "bundle_id", now=expiry)
    world.rejected(Cancel(ALICE, 3, "Acme"), ErrorCode.CERTIFICATE_EXPIRED, "bundle_id")
    world.rejected(Release(ALICE, 2), ErrorCode.CERTIFICATE_EXPIRED, "bundle_id")
    assert world.ok(Expire(ISSUER)) == ExpiryResult((2, 3))  # reserved bundles expire too
    assert world.bundle(2).status is BundleStatus.EXPIRED


def test_expiry_leaves_terminal_bundles_alone_and_only_reaches_due_issuances() -> None:
    world = World(Policies(validity=ValidityReading.ROLLING_12_MONTHS))
    world.produce("2024-03-01T10:00:00Z", 1000)  # expires 2025-03-01T11:00:00Z
    world.produce("2024-03-02T10:00:00Z", 1000)  # expires 2025-03-02T11:00:00Z
    world.ok(Cancel(ALICE, 1, "Acme", quantity=100))  # 3 cancelled, 4 active
    world.ok(Withdraw(ISSUER, 4, "fault", 100))  # 5 withdrawn, 6 active
    assert world.ok(Expire(ISSUER), now="2025-03-01T11:00:00Z") == ExpiryResult((6,))
    assert world.bundle(3).status is BundleStatus.CANCELLED
    assert world.bundle(5).status is BundleStatus.WITHDRAWN
    assert world.bundle(2).status is BundleStatus.ACTIVE
    assert world.ok(Expire(ISSUER), now="2025-03-02T11:00:00Z") == ExpiryResult((2,))
    world.assert_invariants()


def test_only_the_issuer_sweeps() -> None:
    world = World()
    world.produce(energy=10)
    world.rejected(Expire(ALICE), ErrorCode.NOT_AUTHORISED, "actor", now="2026-01-01T00:00:00Z")
    assert world.bundle(1).status is BundleStatus.ACTIVE


# ---------------------------------------------------------------- the registry clock


def test_time_never_runs_backwards() -> None:
    world = World()
    world.produce(energy=10, now="2024-06-01T12:00:00Z")
    world.rejected(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT),
        ErrorCode.TIME_REVERSAL,
        "now",
        now="2024-06-01T11:59:59Z",
    )
    # the same instant as the last action is fine
    assert world.ok(
        Transfer(ALICE, 1, SUPPLIER_ACCOUNT), now="2024-06-01T12:00:00Z"
    ) == BundleResult(1, None)
    assert world.registry.last_action_at == ts("2024-06-01T12:00:00Z")


def test_now_itself_must_be_aware_utc() -> None:
    world = World()
    world.rejected(Expire(ISSUER), ErrorCode.INVALID_TIMESTAMP, "now", now=dt.datetime(2024, 7, 1))
    world.rejected(
        Expire(ISSUER),
        ErrorCode.INVALID_TIMESTAMP,
        "now",
        now=dt.datetime(2024, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )


def test_an_unknown_request_type_is_refused() -> None:
    world = World()
    world.rejected("transfer everything", ErrorCode.INVALID_FIELD, "command")  # type: ignore[arg-type]


def test_rejections_are_logged_with_their_code() -> None:
    world = World()
    world.rejected(
        SubmitProduction(
            ALICE, "DEV-WIND", "M-WIND", "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 5
        ),
        ErrorCode.NOT_AUTHORISED,
    )
    last = world.registry.export_history()[-1]
    assert last["accepted"] is False
    assert last["code"] == "NOT_AUTHORISED"
    assert last["action"] == "submit_production"
    assert last["actor"] == ALICE
    assert last["effects"] == []
