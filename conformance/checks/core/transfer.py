"""Transfers and quantities (D4): who may transfer, partial transfers split and conserve, quantities at their limits."""

from __future__ import annotations

import itertools

from gc_conformance.checks import check
from gc_conformance.checks.core.helpers import (
    CONSUMER,
    CRITICAL,
    MINOR,
    WIND,
    alice_issues,
    expect_issued_total,
    expect_unique_certificates,
    one,
    record,
    short,
    shortlist,
    span,
)
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    ConservationBroken,
    Session,
)

# ====================================================================== transfer


@check("core.transfer.partial_split_partitions_parent", requirements=["SPLIT-001", "SPLIT-002"])
def partial_transfer_partitions(s: Session) -> None:
    """A partial transfer splits the bundle into children that partition its certificate range."""
    w = s.world()
    bundle = s.issue("DEV-WIND", w.meters["DEV-WIND"], 0, 1000, account=w.account(w.alice))
    before = s.bundle(bundle)
    s.expect(before is not None, "the issued bundle is observable", expected=bundle, observed=None)
    assert before is not None
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=300)
    moved = s.bundles(account_id=w.account(w.bob), device_id="DEV-WIND")
    kept = s.bundles(account_id=w.account(w.alice), device_id="DEV-WIND")
    s.expect(
        [b["bundle_quantity"] for b in moved] == [300],
        "the receiving account holds exactly the transferred quantity, as one bundle",
        expected=[300],
        observed=[b["bundle_quantity"] for b in moved],
        severity=Severity.CRITICAL,
    )
    ranges = sorted(
        (b["certificate_bundle_id_range_start"], b["certificate_bundle_id_range_end"])
        for b in moved + kept
    )
    parent = (
        before["certificate_bundle_id_range_start"],
        before["certificate_bundle_id_range_end"],
    )
    ids = [i for start, end in ranges for i in range(start, end + 1)]
    s.expect(
        ids == list(range(parent[0], parent[1] + 1)),
        "the children's ID ranges partition the parent's range exactly (no gap, no overlap)",
        expected=f"children covering {parent[0]}..{parent[1]} once",
        observed=ranges,
        severity=Severity.CRITICAL,
        failure=ConservationBroken,
    )
    for child in moved + kept:
        width = (
            child["certificate_bundle_id_range_end"]
            - child["certificate_bundle_id_range_start"]
            + 1
        )
        s.expect(
            width == child["bundle_quantity"],
            "a bundle's quantity equals the length of its ID range",
            expected=width,
            observed=child["bundle_quantity"],
            severity=Severity.CRITICAL,
            failure=ConservationBroken,
        )


@check("core.transfer.non_owner_refused", requirements=["AUTH-001"])
def non_owner_transfer_refused(s: Session) -> None:
    """Only the holding account may transfer a bundle; anyone else is refused and nothing moves."""
    w = s.world()
    bundle = s.issue("DEV-WIND", w.meters["DEV-WIND"], 0, 500, account=w.account(w.alice))
    # The target is a third party's account, neither the caller's nor the holder's, and the
    # holder's own identical request is then accepted: only ownership is at stake.
    target = w.account(w.carol)
    s.reject("NOT_OWNER", "transfer", w.bob, bundle_id=bundle, to_account=target)
    s.expect(
        s.balance(w.account(w.alice)) == 500,
        "the holder still holds every certificate",
        expected=500,
        observed=s.balance(w.account(w.alice)),
        severity=Severity.CRITICAL,
    )
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=target)
    s.expect_equal(
        s.balance(target), 500, "the holder's own transfer to the same account moves everything"
    )


@check("core.transfer.whole_moves_bundle", requirements=["XFER-001", "DC-002", "ID-001"])
def whole_transfer_moves_bundle(s: Session) -> None:
    """A whole transfer moves exactly the bundle's certificates, with their IDs, to the receiver.

    The sender keeps nothing of them (double in transfer, D4 risk 2), and the
    certificates keep the IDs they were issued with (D5).
    """
    w = s.world()
    bundle, issued = alice_issues(s, w)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob))
    left = s.bundles(account_id=w.account(w.alice))
    arrived = s.bundles(account_id=w.account(w.bob))
    s.expect(
        not left,
        "the sending account holds none of the transferred certificates",
        expected="no bundles in the sender's account",
        observed=shortlist(left),
        severity=CRITICAL,
    )
    s.expect(
        [(span(b), b["bundle_quantity"], b["certificate_bundle_status"]) for b in arrived]
        == [(span(issued), 1000, "ACTIVE")],
        "the receiver holds the same certificates, same IDs, still active",
        expected=short(issued),
        observed=shortlist(arrived),
        severity=CRITICAL,
    )


@check("core.transfer.partial_conserves_quantities", requirements=["DC-002", "DC-007"])
def partial_transfers_conserve(s: Session) -> None:
    """Chained partial transfers debit the sender exactly what they credit the receiver."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    result = s.accept(
        "transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=300
    )
    at_bob = result.get("bundle_id")
    if at_bob is None or s.bundle(at_bob) is None:
        at_bob = one(s, "in bob's account", account_id=w.account(w.bob))["bundle_id"]
    s.accept("transfer", w.bob, bundle_id=at_bob, to_account=w.account(w.carol), quantity=100)
    balances = {h: s.balance(w.account(h)) for h in w.holders}
    s.expect(
        balances == {w.alice: 700, w.bob: 200, w.carol: 100},
        "each account holds exactly what the transfers gave it",
        expected={w.alice: 700, w.bob: 200, w.carol: 100},
        observed=balances,
        severity=CRITICAL,
    )
    expect_issued_total(s, WIND, issued["production_starting_interval"], 1000, "two transfers")
    expect_unique_certificates(s)


@check("core.transfer.any_number_of_times", requirements=["XFER-002", "ID-001"])
def transfer_many_times(s: Session) -> None:
    """Active certificates may pass between accounts again and again, keeping their IDs."""
    w = s.world()
    current, issued = alice_issues(s, w, 400)
    route = [w.alice, w.bob, w.carol, w.alice, w.carol, w.bob]
    for sender, receiver in itertools.pairwise(route):
        result = s.accept("transfer", sender, bundle_id=current, to_account=w.account(receiver))
        current = result.get("bundle_id", current)
    final = record(s, current)
    s.expect(
        (final["account_id"], span(final), final["bundle_quantity"])
        == (w.account(w.bob), span(issued), 400),
        "after five transfers the certificates are with the last receiver, IDs unchanged",
        expected=(w.account(w.bob), span(issued), 400),
        observed=short(final),
    )


@check("core.transfer.same_account_refused", requirements=["XFER-004"])
def transfer_to_same_account(s: Session) -> None:
    """A transfer into the account that already holds the bundle is refused."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject(
        "SAME_ACCOUNT",
        "transfer",
        w.alice,
        bundle_id=bundle,
        to_account=w.account(w.alice),
        severity=MINOR,
    )


@check("core.transfer.unknown_account_refused", requirements=["XFER-005", "IT-004"])
def transfer_to_unknown_account(s: Session) -> None:
    """Certificates are never sent to an account the registry does not have."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject("UNKNOWN_ACCOUNT", "transfer", w.alice, bundle_id=bundle, to_account="ACC-NOBODY")
    s.reject(
        "UNKNOWN_ACCOUNT",
        "transfer",
        w.alice,
        bundle_id=bundle,
        to_account="ACC-NOBODY",
        quantity=10,
    )


@check("core.requests.unknown_bundle_refused", requirements=["IT-004"])
def unknown_bundle_refused(s: Session) -> None:
    """Requests on a bundle the registry never issued are refused."""
    w = s.world()
    alice_issues(s, w)
    ghost = 987_654_321
    s.reject("UNKNOWN_BUNDLE", "transfer", w.alice, bundle_id=ghost, to_account=w.account(w.bob))
    s.reject("UNKNOWN_BUNDLE", "cancel", w.alice, bundle_id=ghost, beneficiary=CONSUMER)
    s.reject("UNKNOWN_BUNDLE", "withdraw", ISSUER_ID, bundle_id=ghost, reason="test")


@check("core.requests.malformed_fields_refused", requirements=["IT-004"])
def malformed_fields_refused(s: Session) -> None:
    """Requests with a missing or malformed field are refused, not guessed at."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    found = s.deviations()  # every malformed request is judged, not only the first
    with found.step():
        s.reject("INVALID_FIELD", "transfer", w.alice, bundle_id=bundle)  # no to_account
    with found.step():
        s.reject(
            "INVALID_FIELD",
            "cancel",
            w.alice,
            bundle_id=bundle,
            beneficiary=CONSUMER,
            purpose="GIFT",
        )
    if s.optional("reserve"):
        with found.step():
            s.reject("INVALID_FIELD", "reserve", w.alice, bundle_id=bundle, kind="FOREVER")
    with found.step():
        s.reject("INVALID_FIELD", "query", ISSUER_ID, status="SHINY", severity=MINOR)
    found.judge()


# ====================================================================== quantities


@check("core.quantity.non_positive_refused", requirements=["QTY-001"])
def non_positive_quantities_refused(s: Session) -> None:
    """Zero, negative and fractional quantities are refused by every operation that takes one."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    found = s.deviations()  # every bad quantity is judged, not only the first
    for bad in (0, -5, 2.5):
        with found.step():
            s.reject(
                "INVALID_QUANTITY",
                "transfer",
                w.alice,
                bundle_id=bundle,
                to_account=w.account(w.bob),
                quantity=bad,
            )
        with found.step():
            s.reject(
                "INVALID_QUANTITY",
                "cancel",
                w.alice,
                bundle_id=bundle,
                beneficiary=CONSUMER,
                quantity=bad,
            )
    if s.optional("reserve"):
        with found.step():
            s.reject("INVALID_QUANTITY", "reserve", w.alice, bundle_id=bundle, quantity=0)
    with found.step():
        s.reject(
            "INVALID_QUANTITY", "withdraw", ISSUER_ID, bundle_id=bundle, reason="t", quantity=-1
        )
    found.judge()


@check("core.quantity.exceeding_bundle_refused", requirements=["QTY-002"])
def oversized_quantities_refused(s: Session) -> None:
    """No operation may take more certificates from a bundle than the bundle holds."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject(
        "QUANTITY_EXCEEDS_BUNDLE",
        "transfer",
        w.alice,
        bundle_id=bundle,
        to_account=w.account(w.bob),
        quantity=1001,
    )
    s.reject(
        "QUANTITY_EXCEEDS_BUNDLE",
        "cancel",
        w.alice,
        bundle_id=bundle,
        beneficiary=CONSUMER,
        quantity=1001,
    )
    if s.optional("reserve"):
        s.reject("QUANTITY_EXCEEDS_BUNDLE", "reserve", w.alice, bundle_id=bundle, quantity=5000)
    s.reject(
        "QUANTITY_EXCEEDS_BUNDLE",
        "withdraw",
        ISSUER_ID,
        bundle_id=bundle,
        reason="t",
        quantity=1001,
    )
