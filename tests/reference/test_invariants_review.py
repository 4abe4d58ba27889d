"""Review fixes of the D4 checker: each a hand-built plain history that was a false pass or a
false fail before, and the model's own histories staying clean (no false fail on the oracle).

Item numbers follow the review: 1 issued vs recognised production (and D10 corrections),
2 issuances that name no device or interval, 3 unknown statuses, 4 validity (D8),
5 split parents in the reported state, 6 leniencies.
"""

from __future__ import annotations

from typing import Any

import pytest
from core_builders import ALICE, BOB, ISSUER, SUPPLIER_ACCOUNT, WIND, World
from test_invariants import (
    AT,
    Timed,
    cancel,
    claim,
    history,
    issue,
    plain_bundle,
    reading,
    risks,
    split,
    status,
    transfer,
)

from gc_conformance.reference import (
    BundleStatus,
    Cancel,
    CorrectProduction,
    Expire,
    Policies,
    Rounding,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.invariants import Risk, check_invariants
from gc_conformance.reference.lineage import LIVE, SPLIT, STATUSES, TERMINAL

LATE = "2025-01-01T00:00:00Z"  # the expiry issue() gives (calendar year of 2024 production)


def raw(*steps: list[dict[str, Any]] | dict[str, Any] | Timed) -> list[dict[str, Any]]:
    """A history with no readings added: the steps say exactly what was recognised."""
    return history(*steps, readings=False)


def messages(actions: list[dict[str, Any]], state: dict[str, Any] | None = None) -> list[str]:
    return [f"{f.risk.name}: {f.message}" for f in check_invariants(actions, state).findings]


def debt(device: str, debt_id: int, remaining: int) -> dict[str, Any]:
    return {
        "effect": "debt",
        "device_id": device,
        "debt_id": debt_id,
        "hour_of_day": None,
        "remaining_wh": remaining,
    }


def withdraw(bid: int) -> dict[str, Any]:
    return status(bid, "ACTIVE", "WITHDRAWN")


# ============================================================ 1. issued vs recognised production


def test_issuing_more_than_the_recognised_reading_is_double_issuance() -> None:
    # before: passed (the checker never read 'reading' effects)
    over = raw([issue(1, 1, 1, 150), reading("D1", 10, 100)])
    assert risks(over) == [Risk.DOUBLE_ISSUANCE]
    assert "50 Wh above the 100 Wh recognised" in messages(over)[0]
    assert risks(raw([issue(1, 1, 1, 100), reading("D1", 10, 100)])) == []
    # a D10 deduction leaves issued below recognised: fine
    assert risks(raw([issue(1, 1, 1, 80), reading("D1", 10, 100)])) == []


def test_an_issuance_needs_production_recognised_in_its_action_or_before() -> None:
    assert risks(raw(issue(1, 1, 1, 100))) == [Risk.DOUBLE_ISSUANCE]
    assert risks(raw(reading("D1", 10, 100), issue(1, 1, 1, 100))) == []
    # recognised only afterwards: certificates existed with no production behind them
    assert risks(raw(issue(1, 1, 1, 100), reading("D1", 10, 100))) == [Risk.DOUBLE_ISSUANCE]
    # a reading of another interval (or device) does not back it
    assert risks(raw([issue(1, 1, 1, 100), reading("D1", 11, 100)])) == [Risk.DOUBLE_ISSUANCE]
    assert risks(raw([issue(1, 1, 1, 100), reading("D2", 10, 100)])) == [Risk.DOUBLE_ISSUANCE]


def test_corrections_need_a_corrected_reading_and_stay_within_it() -> None:
    first = [issue(1, 1, 1, 100), reading("D1", 10, 100)]
    # before: any number of issuances labelled as corrections passed
    unbacked = raw(first, issue(2, 2, 101, 200, corrects=1), issue(3, 3, 201, 300, corrects=1))
    assert risks(unbacked).count(Risk.DOUBLE_ISSUANCE) >= 2
    assert any("without a corrected reading" in m for m in messages(unbacked))
    backed = raw(first, [issue(2, 2, 101, 200, corrects=1), reading("D1", 10, 200)])
    assert risks(backed) == []
    beyond = raw(first, [issue(2, 2, 101, 200, corrects=1), reading("D1", 10, 150)])
    assert risks(beyond) == [Risk.DOUBLE_ISSUANCE]
    # a reading that does not raise the recognised value backs no correction
    same = raw(first, [issue(2, 2, 101, 150, corrects=1), reading("D1", 10, 100)])
    assert risks(same) == [Risk.DOUBLE_ISSUANCE] * 2  # unbacked, and 50 Wh over


def test_downward_corrections_withdraw_or_defer_and_deductions_must_be_taken() -> None:
    first = [issue(1, 1, 1, 100), reading("D1", 10, 100)]
    lowered = reading("D1", 10, 60)
    # lowered with nothing withdrawn or deferred: 40 certificates without production
    assert risks(raw(first, lowered)) == [Risk.DOUBLE_ISSUANCE]
    withdrawn = [split(1, (2, 1, 40), (3, 41, 100)), withdraw(2), lowered]
    assert risks(raw(first, withdrawn)) == []
    deferred = [debt("D1", 1, 40), lowered]
    assert risks(raw(first, deferred)) == []
    # the next hour: the 40 Wh deduction is taken from it (60 of 100 issued) and settled
    taken = [issue(2, 4, 101, 160, hour=11), debt("D1", 1, 0), reading("D1", 11, 100)]
    assert risks(raw(first, deferred, taken)) == []
    # ... or marked settled while the next hour is issued in full: found at the device
    full = [issue(2, 4, 101, 200, hour=11), debt("D1", 1, 0), reading("D1", 11, 100)]
    found = messages(raw(first, deferred, full))
    assert len(found) == 1 and "outstanding D10 deductions" in found[0]


def test_a_deduction_not_backed_by_a_downward_correction_is_double_issuance() -> None:
    # a made-up debt would otherwise excuse issuing 500 Wh more than recognised
    made_up = raw(debt("D1", 1, 500), [issue(1, 1, 1, 600), reading("D1", 10, 100)])
    found = risks(made_up)
    assert found and set(found) == {Risk.DOUBLE_ISSUANCE}
    assert any("not backed by a downward correction" in m for m in messages(made_up))


def test_recognised_production_is_bounded_by_the_metered_energy() -> None:
    assert risks(raw(reading("D1", 10, 100, "10"))) == [Risk.DOUBLE_ISSUANCE]
    assert risks(raw(reading("D1", 10, 10, "9.5"))) == []  # half up
    assert risks(raw(reading("D1", 10, 10, "9.4"), reading("D1", 11, 1, "0.2"))) == [
        Risk.DOUBLE_ISSUANCE
    ]


def test_rounding_with_a_carried_remainder_is_judged_per_device() -> None:
    # four readings of 0.5 Wh: a carrying registry recognises 1, 0, 1, 0 (2 Wh)
    carried = [reading("D1", h, wh, "0.5", carried) for h, wh, carried in
               [(10, 1, "-0.5"), (11, 0, "0"), (12, 1, "-0.5"), (13, 0, "0")]]  # fmt: skip
    assert risks(raw(*carried)) == []
    # 4 Wh recognised from 2 Wh metered, claiming to carry: found
    inflated = [reading("D1", h, 1, "0.5", "0") for h in (10, 11, 12, 13)]
    found = messages(raw(*inflated))  # each action that makes it worse is a finding
    assert len(found) == 2 and "2 Wh recognised" in found[0] and "4 Wh recognised" in found[1]
    # a registry rounding each reading alone (no carried remainder) gains half a Wh each
    alone = [reading("D1", h, 1, "0.5", None) for h in (10, 11, 12, 13)]
    assert risks(raw(*alone)) == []


def test_production_recognised_twice_for_overlapping_intervals() -> None:
    other = {
        **reading("D1", 10, 100),
        "production_start": "2024-03-01T10:30:00Z",
        "production_end": "2024-03-01T11:30:00Z",
    }
    assert risks(raw(reading("D1", 10, 100), other)) == [Risk.DOUBLE_ISSUANCE]
    assert risks(raw(reading("D1", 10, 100), reading("D1", 11, 100))) == []


def test_the_model_with_corrections_deductions_and_carried_rounding_is_clean() -> None:
    world = World(Policies(rounding=Rounding.NEAREST))
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 900))
    world.ok(CorrectProduction(ISSUER, WIND, "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 500))
    world.produce("2024-03-02T10:00:00Z", 1000)  # takes the deferred deduction
    world.ok(CorrectProduction(ISSUER, WIND, "2024-03-02T10:00:00Z", "2024-03-02T11:00:00Z", 1300))
    for hour in range(12, 16):
        world.produce(f"2024-03-02T{hour}:00:00Z", "0.5")
    report = check_invariants(world.registry.export_history(), world.registry.export_state())
    assert report.ok, [f.to_plain() for f in report.findings]
    # the same history with the correction's issuance doubled is caught
    plain = world.registry.export_history()
    record = next(a for a in plain if any(e.get("corrects_issuance_id") for e in a["effects"]))
    extra = dict(next(e for e in record["effects"] if e["effect"] == "issue"))
    extra.update(issuance_id=999, bundle_id=999, range_start=10**6, range_end=10**6 + 299)
    record["effects"].insert(0, extra)
    assert Risk.DOUBLE_ISSUANCE in risks(plain)


# ============================================================ 2. issuances that name no production


@pytest.mark.parametrize(
    "missing", [("device_id",), ("production_start",), ("production_end",), ("device_id", "x")]
)
def test_an_issuance_without_device_or_interval_is_malformed(missing: tuple[str, ...]) -> None:
    # before: the double-issuance check was skipped and the history passed
    first, second = issue(1, 1, 1, 100), issue(2, 2, 101, 200)
    for effect in (first, second):
        for key in missing:
            effect.pop(key, None)
    found = risks(raw(first, second))
    assert Risk.MALFORMED_HISTORY in found
    assert set(found) <= {Risk.MALFORMED_HISTORY, Risk.DOUBLE_ISSUANCE}


def test_a_null_interval_is_malformed_but_the_lineage_is_still_replayed() -> None:
    blank = {**issue(1, 1, 1, 100), "production_start": None}
    # the bundle exists: transferring it is not a second finding
    assert risks(raw(blank, transfer(1, "A", "B"))) == [Risk.MALFORMED_HISTORY]


# ============================================================ 3. unknown statuses


def test_unknown_status_strings_are_malformed_not_a_way_around_the_rules() -> None:
    # before: two cancellations spelt 'Cancelled' bypassed the double-cancellation rule
    twice = history(
        issue(1, 1, 1, 100),
        status(1, "ACTIVE", "Cancelled", beneficiary="Acme"),
        status(1, "Cancelled", "Cancelled", beneficiary="Other"),
    )
    assert set(risks(twice)) == {Risk.MALFORMED_HISTORY}
    # ... and so did making a claimed bundle live again
    revived = history(issue(1, 1, 1, 100), cancel(1), claim(1), status(1, "CLAIMED", "Active"))
    assert risks(revived) == [Risk.MALFORMED_HISTORY]
    assert risks(history(issue(1, 1, 1, 100), status(1, "Active", "RESERVED"))) == [
        Risk.MALFORMED_HISTORY
    ]
    # a split is a 'split' effect, not a status
    assert risks(history(issue(1, 1, 1, 100), status(1, "ACTIVE", SPLIT))) == [
        Risk.MALFORMED_HISTORY
    ]


def test_an_unknown_status_in_the_reported_state_is_a_mismatch() -> None:
    state = {"bundles": [plain_bundle(1, 1, 1, 100, "A", "Active")]}
    found = messages(history(issue(1, 1, 1, 100)), state)
    assert len(found) == 1 and "'Active' is not a bundle status" in found[0]


def test_the_checker_knows_exactly_the_models_statuses() -> None:
    assert {s.name for s in BundleStatus} == STATUSES
    assert {s.name for s in BundleStatus if s.is_live} == LIVE
    assert LIVE | TERMINAL | {SPLIT} == STATUSES


# ============================================================ 4. validity (D8)


@pytest.mark.parametrize(
    "use",
    [
        transfer(1, "A", "B"),
        cancel(1),
        cancel(1, "Battery", "STORAGE_CHARGE"),
        status(1, "ACTIVE", "RESERVED"),
        status(1, "ACTIVE", "LOCKED"),
        status(1, "ACTIVE", "EXPORTED"),
    ],
)
def test_using_a_bundle_at_or_after_its_expiry_is_a_validity_finding(use: dict[str, Any]) -> None:
    # before: passed
    assert risks(history(issue(1, 1, 1, 100), Timed(LATE, use))) == [Risk.VALIDITY]
    assert risks(history(issue(1, 1, 1, 100), Timed("2024-12-31T23:59:59Z", use))) == []


def test_releasing_after_expiry_is_found_but_withdrawing_and_claiming_are_not() -> None:
    reserved = [issue(1, 1, 1, 100), status(1, "ACTIVE", "RESERVED")]
    assert risks(history(*reserved, Timed(LATE, status(1, "RESERVED", "ACTIVE")))) == [
        Risk.VALIDITY
    ]
    assert risks(history(*reserved, Timed(LATE, status(1, "RESERVED", "WITHDRAWN")))) == []
    # cancelled while valid, claimed after: the use was the cancellation
    assert risks(history(issue(1, 1, 1, 100), cancel(1), Timed(LATE, claim(1)))) == []


def test_expiring_before_the_expiry_is_a_validity_finding() -> None:
    assert risks(history(issue(1, 1, 1, 100), status(1, "ACTIVE", "EXPIRED"))) == [Risk.VALIDITY]
    assert risks(history(issue(1, 1, 1, 100), Timed(LATE, status(1, "ACTIVE", "EXPIRED")))) == []


def sweep(at: str, *effects: dict[str, Any]) -> dict[str, Any]:
    return {
        "action_id": 50,
        "at": at,
        "action": "expire",
        "accepted": True,
        "effects": list(effects),
    }


def test_an_expiry_sweep_must_expire_every_live_bundle_past_its_validity() -> None:
    steps = (
        issue(1, 1, 1, 100),
        [split(1, (2, 1, 40), (3, 41, 100)), status(3, "ACTIVE", "RESERVED")],
        {**issue(2, 4, 101, 200, hour=11), "expiry": "2026-01-01T00:00:00Z"},
    )
    actions = history(*steps)
    complete = [
        *actions,
        sweep(LATE, status(2, "ACTIVE", "EXPIRED"), status(3, "RESERVED", "EXPIRED")),
    ]
    assert risks(complete) == []
    # before: a sweep that left bundle 3 live passed, and so did the state reporting it live
    partial = [*actions, sweep(LATE, status(2, "ACTIVE", "EXPIRED"))]
    state = {
        "bundles": [
            plain_bundle(2, 1, 1, 40, state="EXPIRED"),
            plain_bundle(3, 1, 41, 100, state="RESERVED"),
            plain_bundle(4, 2, 101, 200),
        ]
    }
    found = messages(partial, state)
    assert len(found) == 1 and found[0].startswith("VALIDITY: bundle 3 is still RESERVED")
    # bundle 4 is valid until 2026: a sweep leaves it alone
    assert not any("bundle 4" in m for m in found)
    # an action that is not a sweep (no 'action': 'expire') expires one bundle only
    assert risks(history(*steps, Timed(LATE, status(2, "ACTIVE", "EXPIRED")))) == []


def test_accepted_actions_must_be_in_time_order_and_carry_their_time() -> None:
    backdated = history(
        issue(1, 1, 1, 100),
        Timed("2025-02-01T00:00:00Z", status(1, "ACTIVE", "RESERVED")),
        Timed("2024-12-01T00:00:00Z", status(1, "RESERVED", "ACTIVE")),
    )
    found = risks(backdated)
    assert Risk.MALFORMED_HISTORY in found and Risk.VALIDITY in found
    untimed = history(issue(1, 1, 1, 100), transfer(1, "A", "B"))
    del untimed[2]["at"]
    assert risks(untimed) == [Risk.MALFORMED_HISTORY]
    garbled = history(issue(1, 1, 1, 100), Timed("2024-13-01T00:00:00Z", transfer(1, "A", "B")))
    assert risks(garbled) == [Risk.MALFORMED_HISTORY]


def test_an_issuance_without_expiry_is_malformed() -> None:
    undated = issue(1, 1, 1, 100)
    del undated["expiry"]
    assert risks(history(undated)) == [Risk.MALFORMED_HISTORY]


def test_the_models_expiry_sweep_is_clean_and_a_skipped_bundle_is_found() -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 400))
    world.ok(Cancel(BOB, 2, "Acme", quantity=100))
    world.ok(Expire(ISSUER), now="2025-03-01T11:00:00Z")  # 12 months after production
    plain, state = world.registry.export_history(), world.registry.export_state()
    assert check_invariants(plain, state).ok
    sweep_effects = plain[-1]["effects"]
    assert plain[-1]["action"] == "expire" and sweep_effects
    skipped = sweep_effects.pop()  # the registry "forgot" one bundle
    for bundle in state["bundles"]:
        if bundle["bundle_id"] == skipped["bundle_id"]:
            bundle["certificate_bundle_status"] = skipped["from"]
    assert risks(plain, state) == [Risk.VALIDITY]


# ============================================================ 5. split parents in the state


def test_a_state_listing_split_parents_as_bundle_split_is_accepted() -> None:
    actions = history(issue(1, 1, 1, 100), [split(1, (2, 1, 40), (3, 41, 100)), cancel(2)])
    current = [plain_bundle(2, 1, 1, 40, state="CANCELLED"), plain_bundle(3, 1, 41, 100)]
    assert risks(actions, {"bundles": current}) == []
    # before: a false STATE_MISMATCH (and the parent's range overlapping its children)
    with_parent = {"bundles": [plain_bundle(1, 1, 1, 100, state=SPLIT), *current]}
    assert risks(actions, with_parent) == []
    # a split parent is never live again
    live_parent = {"bundles": [plain_bundle(1, 1, 1, 100), *current]}
    assert set(risks(actions, live_parent)) == {Risk.STATE_MISMATCH, Risk.DOUBLE_IN_TRANSFER}
    moved = {"bundles": [plain_bundle(1, 1, 1, 90, state=SPLIT), *current]}
    assert risks(actions, moved) == [Risk.STATE_MISMATCH]
    # a current bundle reported as split is a mismatch too
    gone = {"bundles": [current[0], plain_bundle(3, 1, 41, 100, state=SPLIT)]}
    assert risks(actions, gone) == [Risk.STATE_MISMATCH]


# ============================================================ 6. leniencies


@pytest.mark.parametrize("flag", ["false", "true", 0, 1, None])
def test_accepted_must_be_a_boolean(flag: Any) -> None:
    # before: "false" counted as accepted, and a refused action was replayed
    actions = history(issue(1, 1, 1, 100))
    actions.append({"action_id": 9, "at": AT, "accepted": flag, "effects": [cancel(1)]})
    assert risks(actions) == [Risk.MALFORMED_HISTORY]


def test_a_claim_needs_a_claimant_and_a_cancellation_a_beneficiary() -> None:
    nameless = status(1, "CANCELLED", "CLAIMED")
    assert risks(history(issue(1, 1, 1, 100), cancel(1), nameless)) == [Risk.MALFORMED_HISTORY]
    blank = claim(1, " ")
    assert risks(history(issue(1, 1, 1, 100), cancel(1), blank)) == [Risk.MALFORMED_HISTORY]
    anonymous = status(1, "ACTIVE", "CANCELLED", purpose="CONSUMPTION")
    assert risks(history(issue(1, 1, 1, 100), anonymous)) == [Risk.MALFORMED_HISTORY]
    crossed = status(1, "ACTIVE", "CANCELLED", beneficiary="Acme", purpose="STORAGE_CHARGE")
    assert risks(history(issue(1, 1, 1, 100), crossed)) == [Risk.MALFORMED_HISTORY]


def test_transfers_to_the_same_or_an_unknown_account() -> None:
    assert risks(history(issue(1, 1, 1, 100), transfer(1, "A", "A"))) == [Risk.DOUBLE_IN_TRANSFER]
    assert risks(history(issue(1, 1, 1, 100), transfer(1, "A", "Nowhere"))) == [
        Risk.DOUBLE_IN_TRANSFER
    ]
    # known from the reported state (the history does not show it being opened)
    state = {
        "accounts": [{"account_id": "Elsewhere", "holder_id": "h"}],
        "bundles": [plain_bundle(1, 1, 1, 100, "Elsewhere")],
    }
    assert risks(history(issue(1, 1, 1, 100), transfer(1, "A", "Elsewhere")), state) == []
    # opened, but only after the transfer
    late = {"effect": "account", "account_id": "D", "holder_id": "h-D", "exemption": None}
    assert risks(history(issue(1, 1, 1, 100), transfer(1, "A", "D"), late)) == [
        Risk.DOUBLE_IN_TRANSFER
    ]


def hours(start: str, end: str, **changes: Any) -> dict[str, Any]:
    return {**issue(1, 1, 1, 100), "production_start": start, "production_end": end, **changes}


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-03-01T10:00:00Z", "2024-03-01T12:00:00Z"),  # two hours
        ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"),  # empty
        ("2024-03-01T11:00:00Z", "2024-03-01T10:00:00Z"),  # backwards
    ],
)
def test_production_intervals_of_more_than_an_hour_or_not_forward(start: str, end: str) -> None:
    effect = hours(start, end)
    backing = {**reading("D1", 10, 100), "production_start": start, "production_end": end}
    found = risks(raw([effect, backing]))
    assert Risk.MALFORMED_HISTORY in found
    assert set(found) <= {Risk.MALFORMED_HISTORY}


@pytest.mark.parametrize("value", [100.7, 100.0, "100", True, None])
def test_certificate_ids_must_be_integers_never_truncated(value: Any) -> None:
    # before: int(100.7) silently gave 100
    assert risks(raw(issue(1, 1, 1, value))) == [Risk.MALFORMED_HISTORY]
    child = split(1, (2, 1, 40), (3, 41, 100))
    child["children"][1]["range_end"] = value
    assert risks(history(issue(1, 1, 1, 100), child)) == [Risk.MALFORMED_HISTORY]


def test_no_quantity_may_be_zero_or_negative() -> None:
    assert risks(raw(issue(1, 1, 10, 9))) == [Risk.CONSERVATION]  # zero certificates
    assert risks(raw(issue(1, 1, 10, 5))) == [Risk.CONSERVATION]  # negative
    assert risks(raw(reading("D1", 10, 1, "-1"))) == [Risk.MALFORMED_HISTORY]
    assert risks(raw(reading("D1", 10, 1, True))) == [Risk.MALFORMED_HISTORY]  # type: ignore[arg-type]
    assert risks(raw(reading("D1", 10, 1, "NaN"))) == [Risk.MALFORMED_HISTORY]
    assert risks(raw(debt("D1", 1, -5))) == [Risk.MALFORMED_HISTORY]
    quantities = [
        {"effect": "scr_source", "scr_allocation_id": "S", "bundle_id": 1, "quantity": 0},
        {"effect": "sd_gc", "sdr_allocation_id": "R", "issuance_id": 7, "bundle_id": 7,
         "quantity": 2.5, "scr_ids": []},
    ]  # fmt: skip
    for effect in quantities:
        assert risks(history(effect)) == [Risk.MALFORMED_HISTORY]


def test_a_model_history_through_every_lifecycle_step_stays_clean() -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.produce("2024-03-01T11:00:00Z", "999.6")
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 400))
    world.ok(Withdraw(ISSUER, 4, "fault", 10))
    world.ok(CorrectProduction(ISSUER, WIND, "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z", 100))
    world.ok(Expire(ISSUER), now="2025-01-01T00:00:00Z")
    report = check_invariants(world.registry.export_history(), world.registry.export_state())
    assert report.ok, [f.to_plain() for f in report.findings]
