"""State, splits and queries: the observable state stays consistent through every operation, splits follow the declared origin, queries filter exactly."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.core.cancel_claim import (
    cancel_part,
)
from gc_conformance.checks.core.helpers import (
    CONSUMER,
    CRITICAL,
    MINOR,
    SOLAR,
    WIND,
    alice_issues,
    expect_unique_certificates,
    issuance_key,
    of_issuance,
    one,
    production_request,
    record,
    short,
    span,
    total,
)
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    ConservationBroken,
    NotApplicable,
    Session,
    World,
    canonical_state,
)

# ====================================================================== state, splits, queries


def busy_state(s: Session, w: World) -> None:
    """Two issuances taken through partial transfers, cancellation, claim, lock and withdrawal."""
    wind, _ = alice_issues(s, w, 1000, hour=0)
    solar = s.issue(SOLAR, w.meters[SOLAR], 1, 800, account=w.account(w.alice))
    s.accept("transfer", w.alice, bundle_id=wind, to_account=w.account(w.bob), quantity=300)
    at_bob = one(s, "wind at bob", account_id=w.account(w.bob))
    s.accept("cancel", w.bob, bundle_id=at_bob["bundle_id"], beneficiary=CONSUMER, quantity=120)
    cancelled = one(s, "cancelled", certificate_bundle_status="CANCELLED")
    s.accept("claim", w.bob, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=20)
    s.accept("transfer", w.alice, bundle_id=solar, to_account=w.account(w.carol), quantity=500)
    at_carol = one(s, "solar at carol", account_id=w.account(w.carol))
    if s.optional("reserve"):  # without it, the state is as busy but for the lock
        s.accept("reserve", w.carol, bundle_id=at_carol["bundle_id"], quantity=50, kind="LOCKED")
    solar_left = one(s, "solar at alice", account_id=w.account(w.alice), device_id=SOLAR)
    s.accept("withdraw", ISSUER_ID, bundle_id=solar_left["bundle_id"], reason="x", quantity=100)


@check("core.state.unique_certificates", requirements=["DC-003", "SPLIT-002"])
def unique_certificates(s: Session) -> None:
    """However the bundles were split, no certificate is held by two current bundles."""
    w = s.world()
    busy_state(s, w)
    expect_unique_certificates(s)
    bundles = s.observe()["bundles"]
    s.expect(
        total(bundles) == 1800,
        "the bundles hold exactly the 1800 Wh issued",
        expected=1800,
        observed=total(bundles),
        severity=CRITICAL,
        failure=ConservationBroken,
    )


@check("core.lifecycle.conservation", requirements=["DC-007"])
def conservation_through_operations(s: Session) -> None:
    """A seeded walk of operations never changes how many certificates an issuance holds."""
    w = s.world()
    issued = {}
    for device, hour, wh in ((WIND, 0, 1000), (WIND, 1, 700), (SOLAR, 2, 900)):
        bundle = s.issue(device, w.meters[device], hour, wh, account=w.account(w.alice))
        issued[issuance_key(record(s, bundle))] = wh
    rng = random.Random(s.seed)
    holders = {w.account(h): h for h in w.holders}
    for step in range(16):
        live = sorted(
            (b for b in s.observe()["bundles"] if b["certificate_bundle_status"] == "ACTIVE"),
            key=short,
        )
        if not live:
            break
        target = rng.choice(live)
        actor = holders.get(target["account_id"])
        part = rng.randint(1, target["bundle_quantity"])
        operation = rng.choice(
            [o for o in ("transfer", "transfer", "cancel", "reserve", "withdraw") if s.offers(o)]
        )
        if operation == "transfer" and actor is not None:
            receiver = rng.choice([a for a in holders if a != target["account_id"]])
            s.accept(
                "transfer", actor, bundle_id=target["bundle_id"], to_account=receiver, quantity=part
            )
        elif operation == "cancel" and actor is not None:
            s.accept(
                "cancel", actor, bundle_id=target["bundle_id"], beneficiary=CONSUMER, quantity=part
            )
        elif operation == "reserve" and actor is not None:
            s.accept("reserve", actor, bundle_id=target["bundle_id"], quantity=part)
        else:
            s.accept(
                "withdraw", ISSUER_ID, bundle_id=target["bundle_id"], reason="walk", quantity=part
            )
        groups: Counter[tuple[str, str, str]] = Counter()
        for bundle in s.observe()["bundles"]:
            groups[issuance_key(bundle)] += bundle["bundle_quantity"]
        s.expect(
            dict(groups) == issued,
            f"after step {step + 1} ({operation}), every issuance still holds what it was issued",
            expected=issued,
            observed=dict(groups),
            severity=CRITICAL,
        )
    expect_unique_certificates(s)


@check("core.split.parent_not_reusable", requirements=["DC-008"])
def split_parent_not_reusable(s: Session) -> None:
    """After a partial transfer, the original bundle ID cannot move the transferred part again."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=300)
    parent = s.bundle(bundle)
    if parent is None:  # the split retired the parent ID: acting on it must fail
        s.reject(
            "BUNDLE_NOT_ACTIVE",
            "transfer",
            w.alice,
            bundle_id=bundle,
            to_account=w.account(w.carol),
        )
        s.reject("BUNDLE_NOT_ACTIVE", "cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER)
    else:  # the registry kept the ID for the remainder: it must hold only the remainder
        s.expect(
            (parent["account_id"], parent["bundle_quantity"]) == (w.account(w.alice), 700),
            "a bundle ID kept after a split stands for the remainder only",
            expected=(w.account(w.alice), 700),
            observed=short(parent),
            severity=CRITICAL,
        )
        s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.carol))
    balances = {h: s.balance(w.account(h)) for h in w.holders}
    s.expect(
        sum(balances.values()) == 1000 and balances[w.bob] == 300,
        "the certificates exist once: 300 with bob, the rest elsewhere",
        expected="1000 in total, 300 with bob",
        observed=balances,
        severity=CRITICAL,
        failure=ConservationBroken,
    )


@check("core.split.origin_follows_policy", requirements=["SPLIT-003"])
def split_origin_follows_policy(s: Session) -> None:
    """A partial transfer takes the end of the range the declared split_origin names."""
    origin = s.capabilities.policies.get("split_origin")
    if origin is None:
        raise NotApplicable("the registry declares no split_origin policy")
    s.expect(
        origin in ("FROM_START", "FROM_END"),
        "the declared split origin is one the suite can judge",
        expected="FROM_START or FROM_END",
        observed=origin,
        severity=MINOR,
    )
    w = s.world()
    bundle, issued = alice_issues(s, w)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=300)
    moved = one(s, "at bob", account_id=w.account(w.bob))
    low, high = span(issued)
    expected = (low, low + 299) if origin == "FROM_START" else (high - 299, high)
    s.expect(
        span(moved) == expected,
        f"under {origin} the transferred part takes that end of the range",
        expected=expected,
        observed=span(moved),
        severity=MINOR,
    )


def _query_ids(s: Session, actor: str, **filters: Any) -> list[Any]:
    result = s.accept("query", actor, **filters)
    bundles = result.get("bundles")
    if not isinstance(bundles, list):
        raise CheckFailed(
            "a query answer lists the matching bundles",
            expected="result.bundles: a list",
            observed=str(dict(result)),
        )
    return sorted(str(b.get("bundle_id")) for b in bundles if isinstance(b, Mapping))


@check("core.query.filters_exact", requirements=["IT-003"])
def query_filters_exact(s: Session) -> None:
    """Each query filter returns exactly the bundles that match it, no more, no fewer."""
    w = s.world()
    busy_state(s, w)
    every = s.observe()["bundles"]
    day = s.hour(0)[0][:10]
    hour_1 = s.hour(1)
    cases: list[tuple[str, dict[str, Any], Any]] = [
        (
            "issuer: bob's account",
            {"account_id": w.account(w.bob)},
            lambda b: b["account_id"] == w.account(w.bob),
        ),
        ("issuer: solar device", {"device_id": SOLAR}, lambda b: b["device_id"] == SOLAR),
        (
            "issuer: cancelled",
            {"status": "CANCELLED"},
            lambda b: b["certificate_bundle_status"] == "CANCELLED",
        ),
        ("issuer: energy source wind", {"energy_source": "wind"}, lambda b: b["device_id"] == WIND),
        (
            "issuer: production in hour 1",
            {"start": hour_1[0], "end": hour_1[1]},
            lambda b: b.get("production_starting_interval") == hour_1[0],
        ),
        (
            "issuer: production in 00:00-02:00",
            {"start": f"{day}T00:00:00Z", "end": f"{day}T02:00:00Z"},
            lambda b: True,
        ),
        (
            "issuer: alice's active wind",
            {"account_id": w.account(w.alice), "status": "ACTIVE", "device_id": WIND},
            lambda b: (
                b["account_id"] == w.account(w.alice)
                and b["certificate_bundle_status"] == "ACTIVE"
                and b["device_id"] == WIND
            ),
        ),
    ]
    solar_issuance = next((b.get("issuance_id") for b in every if b["device_id"] == SOLAR), None)
    if solar_issuance is not None:
        cases.append(
            (
                "issuer: solar issuance",
                {"issuance_id": solar_issuance},
                lambda b: b.get("issuance_id") == solar_issuance,
            )
        )
    for name, filters, matches in cases:
        expected = sorted(str(b["bundle_id"]) for b in every if matches(b))
        got = _query_ids(s, ISSUER_ID, **filters)
        s.expect(
            got == expected and bool(expected),
            f"query ({name}) returns exactly the matching bundles",
            expected=expected,
            observed=got,
        )
    for holder in w.holders:
        expected = sorted(
            str(b["bundle_id"]) for b in every if b["account_id"] == w.account(holder)
        )
        got = _query_ids(s, holder)
        s.expect_equal(
            got, expected, f"an unfiltered query by {holder} returns exactly that holder's bundles"
        )


@check("core.query.other_holders_account_refused", requirements=["AUTH-008"])
def query_other_holder_refused(s: Session) -> None:
    """A holder asking for another holder's account is refused."""
    w = s.world()
    alice_issues(s, w)
    s.reject("NOT_OWNER", "query", w.bob, account_id=w.account(w.alice), severity=MINOR)


@check("core.atomicity.refused_changes_nothing", requirements=["IT-001"])
def refused_requests_change_nothing(s: Session) -> None:
    """Requests refused at their last rule leave no trace: no split, no partial move."""
    w = s.world()
    busy_state(s, w)
    before = canonical_state(s.observe())
    active = sorted(s.bundles(certificate_bundle_status="ACTIVE"), key=short)
    cancelled = one(s, "cancelled", certificate_bundle_status="CANCELLED")
    for bundle in active:
        holder = {w.account(h): h for h in w.holders}[bundle["account_id"]]
        too_many = bundle["bundle_quantity"] + 1
        s.reject(
            "QUANTITY_EXCEEDS_BUNDLE",
            "transfer",
            holder,
            bundle_id=bundle["bundle_id"],
            to_account=w.account(w.carol if holder != w.carol else w.bob),
            quantity=too_many,
        )
        if s.optional("reserve"):
            s.reject(
                "QUANTITY_EXCEEDS_BUNDLE",
                "reserve",
                holder,
                bundle_id=bundle["bundle_id"],
                quantity=too_many,
            )
    s.reject(
        "QUANTITY_EXCEEDS_BUNDLE",
        "claim",
        w.bob,
        bundle_id=cancelled["bundle_id"],
        claimant=CONSUMER,
        quantity=cancelled["bundle_quantity"] + 1,
    )
    action, fields = production_request(s, w, WIND, *s.hour(0), 1000)
    s.reject("DUPLICATE_ISSUANCE", action, ISSUER_ID, **fields)
    s.expect(
        canonical_state(s.observe()) == before,
        "after the refused requests the state is exactly as before",
        expected="unchanged state",
        observed="changed",
        severity=CRITICAL,
    )


@check("core.records.ended_bundles_remain", requirements=["REC-001"])
def ended_bundles_remain(s: Session) -> None:
    """Cancelled, claimed and withdrawn certificates stay on record with who they served."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, 300)
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=100)
    active = one(s, "active", certificate_bundle_status="ACTIVE")
    s.accept("withdraw", ISSUER_ID, bundle_id=active["bundle_id"], reason="x", quantity=200)
    rest = one(s, "active", certificate_bundle_status="ACTIVE")
    s.accept("transfer", w.alice, bundle_id=rest["bundle_id"], to_account=w.account(w.bob))
    summary = sorted(
        (
            (
                b["certificate_bundle_status"],
                b["bundle_quantity"],
                b.get("beneficiary"),
                b.get("claimant"),
            )
            for b in of_issuance(s, issued)
        ),
        key=str,
    )
    expected = sorted(
        [
            ("ACTIVE", 500, None, None),
            ("CANCELLED", 200, CONSUMER, None),
            ("CLAIMED", 100, CONSUMER, CONSUMER),
            ("WITHDRAWN", 200, None, None),
        ],
        key=str,
    )
    s.expect_equal(
        summary,
        expected,
        "every ended bundle is still on record with its status, beneficiary and claimant",
    )
