"""Core lifecycle checks: accounts, devices, issuance from data, transfer, split, cancel, claim,
reserve/lock, withdraw, query and authority (profile ``core``).

Every expectation here follows from a clause of the standard (named by the
requirement IDs); none is tuned to the reference model or to a faulty registry.
Each check builds its own small scenario from the standard cast
(:meth:`Session.world`) and judges only what the adapter contract shows:
answers, and the observed state. Where the standard leaves a point open, the
check reads the registry's declared policy (``s.policy``) and computes what
that reading implies, or skips when nothing was declared.

The helpers at the top are shared with :mod:`.issuer_created` and
:mod:`.lifecycle_time`.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from gc_conformance.adapter import Clock, IssuanceStyle, policy_percent
from gc_conformance.checks import check
from gc_conformance.outcomes import Severity, SkipKind
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    ConservationBroken,
    NotApplicable,
    Session,
    World,
    canonical_state,
    device_record,
    stamp,
)

CRITICAL = Severity.CRITICAL
MINOR = Severity.MINOR
WIND = "DEV-WIND"
SOLAR = "DEV-SOLAR"
CONSUMER = "Consumer-X"

STAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

#: Observed keys that describe a bundle's place in the lifecycle, not its issuance.
LIFECYCLE_KEYS = frozenset(
    {
        "bundle_id",
        "certificate_bundle_id_range_start",
        "certificate_bundle_id_range_end",
        "bundle_quantity",
        "account_id",
        "certificate_bundle_status",
        "beneficiary",
        "cancellation_purpose",
        "claimant",
    }
)

#: D5 information an issued bundle must state, under the API specification's names.
MANDATORY_ATTRIBUTES = (
    "device_id",
    "production_starting_interval",
    "production_ending_interval",
    "issuance_datestamp",
    "energy_carrier",
    "energy_source",
    "device_technology_type",
    "device_name",
    "device_capacity",
    "device_production_start_date",
    "device_location",
    "country_of_issuance",
    "issuing_body",
    "face_value",
    "is_storage",
    "disclosure",
    "issuance_post_energy_carrier_conversion",
    "registry_configuration",
)

#: Issuance attributes that must never change after issuance (those a registry reports).
IMMUTABLE_ATTRIBUTES = (*MANDATORY_ATTRIBUTES, "issuance_id")


# ====================================================================== shared helpers


def produces_from_data(s: Session) -> bool:
    return IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles


def production_request(
    s: Session,
    w: World,
    device: str,
    start: str,
    end: str,
    energy: object,
    *,
    quantity: int | None = None,
    meter: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The request that issues ``energy`` Wh for ``device`` over ``[start, end)``, in the
    registry's own style: a production reading, or an issuer-created bundle asserting
    ``quantity`` certificates (default: the whole Wh of ``energy``) from the next free ID."""
    if produces_from_data(s):
        return "submit_production", {
            "device_id": device,
            "meter_id": meter if meter is not None else w.meters.get(device, f"M-{device}"),
            "start": start,
            "end": end,
            "energy_wh": str(energy),
        }
    count = quantity if quantity is not None else int(Decimal(str(energy)))
    first = s.next_free_certificate()
    return "issue_bundle", {
        "device_id": device,
        "account_id": w.account(w.alice),
        "start": start,
        "end": end,
        "range_start": first,
        "range_end": first + count - 1,
        "quantity": count,
        "energy_wh": str(energy),
    }


def issue_over(s: Session, w: World, device: str, start: str, end: str, wh: int) -> Any:
    """Issue ``wh`` for an arbitrary interval (``s.issue`` covers whole hours); the bundle ID."""
    action, fields = production_request(s, w, device, start, end, wh)
    return s.created(s.accept(action, ISSUER_ID, **fields), "bundle_id", "issuance")


def record(s: Session, bundle_id: Any) -> dict[str, Any]:
    """The observed bundle ``bundle_id``; a bundle an answer named must be observable (D9)."""
    found = s.bundle(bundle_id)
    if found is None:
        raise CheckFailed(
            "a bundle named in an accepted answer is not in the registry's observed state",
            expected=f"bundle {bundle_id!r} observable",
            observed="absent",
        )
    return found


def one(s: Session, what: str, **match: Any) -> dict[str, Any]:
    """The single observed bundle matching ``match``."""
    found = s.bundles(**match)
    if len(found) != 1:
        raise CheckFailed(
            f"expected exactly one bundle that is {what}",
            expected=f"1 bundle with {match}",
            observed=str(shortlist(found)),
            severity=CRITICAL,
        )
    return found[0]


def span(bundle: Mapping[str, Any]) -> tuple[int, int]:
    return bundle["certificate_bundle_id_range_start"], bundle["certificate_bundle_id_range_end"]


def _short(bundle: Mapping[str, Any]) -> str:
    start, end = span(bundle)
    return (
        f"{bundle.get('bundle_id')}:{start}..{end}x{bundle['bundle_quantity']}"
        f"@{bundle['account_id']}/{bundle['certificate_bundle_status']}"
    )


def shortlist(bundles: Iterable[Mapping[str, Any]]) -> list[str]:
    return [_short(b) for b in bundles]


def issuance_key(bundle: Mapping[str, Any]) -> tuple[str, str, str]:
    """What identifies a bundle's issuance: device, production start and (if shown) issuance."""
    return (
        str(bundle.get("device_id")),
        str(bundle.get("production_starting_interval")),
        str(bundle.get("issuance_id")),
    )


def of_issuance(s: Session, reference: Mapping[str, Any]) -> list[dict[str, Any]]:
    key = issuance_key(reference)
    return [b for b in s.observe()["bundles"] if issuance_key(b) == key]


def of_production(s: Session, device: str, start: str) -> list[dict[str, Any]]:
    """Every current bundle, of any status and issuance, for ``device``'s interval at ``start``."""
    return s.bundles(device_id=device, production_starting_interval=start)


def total(bundles: Iterable[Mapping[str, Any]], status: str | None = None) -> int:
    return sum(
        b["bundle_quantity"]
        for b in bundles
        if status is None or b["certificate_bundle_status"] == status
    )


def expect_quantities_match_ranges(s: Session, bundles: Iterable[Mapping[str, Any]]) -> None:
    """SPLIT-002, SPLIT-004: every bundle holds ``end - start + 1`` (at least one) certificates."""
    for bundle in bundles:
        start, end = span(bundle)
        s.expect(
            bundle["bundle_quantity"] == end - start + 1 and bundle["bundle_quantity"] >= 1,
            "a bundle's quantity equals the length of its ID range, and is at least one",
            expected=f"quantity {end - start + 1} (>= 1) for range {start}..{end}",
            observed=_short(bundle),
            severity=CRITICAL,
            failure=ConservationBroken,
        )


def expect_partition(
    s: Session, parent: tuple[int, int], children: list[dict[str, Any]], what: str
) -> None:
    """SPLIT-001: ``children``'s ranges cover ``parent`` exactly once (no gap, no overlap)."""
    ids = sorted(i for child in children for i in range(span(child)[0], span(child)[1] + 1))
    s.expect(
        ids == list(range(parent[0], parent[1] + 1)),
        f"after {what}, the bundles' ID ranges partition the parent's range exactly",
        expected=f"children covering {parent[0]}..{parent[1]} once",
        observed=sorted(shortlist(children)),
        severity=CRITICAL,
        failure=ConservationBroken,
    )
    expect_quantities_match_ranges(s, children)


def expect_split_of(s: Session, parent: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """The current bundles of ``parent``'s issuance inside its range, checked to partition it."""
    low, high = span(parent)
    children = [b for b in of_issuance(s, parent) if low <= span(b)[0] and span(b)[1] <= high]
    strays = [
        b for b in of_issuance(s, parent) if b not in children and _overlaps(span(b), (low, high))
    ]
    s.expect(
        not strays,
        f"after {what}, no bundle straddles the parent's range",
        expected="children inside the parent's range",
        observed=shortlist(strays),
        severity=CRITICAL,
    )
    expect_partition(s, (low, high), children, what)
    return children


def status_quantities(bundles: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(status, quantity) of each bundle, sorted: what a split is judged by."""
    return sorted((b["certificate_bundle_status"], b["bundle_quantity"]) for b in bundles)


def expect_split_into(
    s: Session,
    parent: dict[str, Any],
    what: str,
    expected: list[tuple[str, int]],
    message: str,
    *,
    severity: Severity = CRITICAL,
) -> list[dict[str, Any]]:
    """``parent`` was split into children partitioning its range with these statuses and sizes."""
    children = expect_split_of(s, parent, what)
    s.expect(
        status_quantities(children) == expected,
        message,
        expected=expected,
        observed=shortlist(children),
        severity=severity,
    )
    return children


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def certificate_counts(bundles: Iterable[Mapping[str, Any]]) -> Counter[tuple[Any, ...]]:
    """How many current bundles hold each certificate (issuance identity, ID)."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for bundle in bundles:
        key = issuance_key(bundle)
        start, end = span(bundle)
        for number in range(start, end + 1):
            counts[(*key, number)] += 1
    return counts


def expect_unique_certificates(s: Session) -> None:
    """DC-003: no certificate is in two current bundles."""
    bundles = s.observe()["bundles"]
    doubled = sorted(c for c, n in certificate_counts(bundles).items() if n > 1)
    s.expect(
        not doubled,
        "no certificate is held by more than one current bundle",
        expected="every certificate once",
        observed=f"{len(doubled)} certificates held twice, e.g. {doubled[:3]}",
        severity=CRITICAL,
        failure=ConservationBroken,
    )
    expect_quantities_match_ranges(s, bundles)


def expect_issued_total(s: Session, device: str, start: str, expected: int, after: str) -> None:
    """DC-007: the bundles of a production hold exactly what was issued for it."""
    bundles = of_production(s, device, start)
    s.expect(
        total(bundles) == expected,
        f"after {after}, the bundles of the production hold exactly the issued quantity",
        expected=expected,
        observed=f"{total(bundles)} in {shortlist(bundles)}",
        severity=CRITICAL,
        failure=ConservationBroken,
    )


def whole_wh(energy: str, rounding: str) -> int:
    """The standard's rule for a metered value under the declared ``rounding`` policy (D5)."""
    if rounding == "NEAREST":  # the seed's reading: nearest whole Wh, halves up
        mode = ROUND_HALF_UP
    elif rounding == "DOWN":  # the API's reading: down to the whole Wh
        mode = ROUND_DOWN
    else:
        raise CheckFailed(
            "the declared rounding policy is not one of the standard's two readings",
            expected="rounding NEAREST or DOWN",
            observed=f"rounding {rounding!r}",
        )
    return int(Decimal(energy).quantize(Decimal(1), rounding=mode))


def register(s: Session, w: World, device: str, meter: str, capacity_w: int = 5_000_000) -> None:
    s.accept(
        "register_device",
        ISSUER_ID,
        device=device_record(device, meter, w.account(w.alice), capacity_w, "wind"),
    )


def alice_issues(s: Session, w: World, wh: int = 1000, hour: int = 0) -> tuple[Any, dict[str, Any]]:
    """Issue ``wh`` from the wind park into alice's account; the bundle ID and its record."""
    bundle_id = s.issue(WIND, w.meters[WIND], hour, wh, account=w.account(w.alice))
    return bundle_id, record(s, bundle_id)


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
        expected=_short(issued),
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
        observed=_short(final),
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


# ====================================================================== cancel and claim


def cancel_part(s: Session, w: World, bundle: Any, quantity: int | None) -> dict[str, Any]:
    """Alice cancels ``quantity`` (all if None) for the consumer; the cancelled bundle."""
    fields: dict[str, Any] = {"bundle_id": bundle, "beneficiary": CONSUMER}
    if quantity is not None:
        fields["quantity"] = quantity
    s.accept("cancel", w.alice, **fields)
    return one(s, "cancelled", certificate_bundle_status="CANCELLED")


@check(
    "core.cancel.partial_split_partitions_parent",
    requirements=["SPLIT-001", "SPLIT-002", "CANC-001"],
)
def partial_cancel_partitions(s: Session) -> None:
    """A partial cancellation splits the bundle; the cancelled part names the beneficiary."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, 400)
    s.expect(
        (cancelled["bundle_quantity"], cancelled.get("beneficiary")) == (400, CONSUMER),
        "the cancelled part holds the quantity cancelled and names the beneficiary",
        expected=(400, CONSUMER),
        observed=(cancelled["bundle_quantity"], cancelled.get("beneficiary")),
        severity=CRITICAL,
    )
    expect_split_into(
        s,
        issued,
        "a partial cancellation",
        [("ACTIVE", 600), ("CANCELLED", 400)],
        "the parent became one cancelled and one active child",
    )


@check("core.cancel.non_owner_refused", requirements=["AUTH-002"])
def non_owner_cancel_refused(s: Session) -> None:
    """A party that does not hold the bundle cannot cancel it, wholly or in part."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject("NOT_OWNER", "cancel", w.bob, bundle_id=bundle, beneficiary=w.bob)
    s.reject("NOT_OWNER", "cancel", w.bob, bundle_id=bundle, beneficiary=w.bob, quantity=10)


@check("core.cancel.twice_refused", requirements=["DC-004"])
def double_cancellation_refused(s: Session) -> None:
    """Certificates that are cancelled cannot be cancelled a second time (D4 risk 4)."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, None)
    for quantity in (None, 10):
        fields: dict[str, Any] = {"bundle_id": cancelled["bundle_id"], "beneficiary": "Other"}
        if quantity is not None:
            fields["quantity"] = quantity
        s.reject("BUNDLE_NOT_ACTIVE", "cancel", w.alice, **fields)


@check("core.cancel.beneficiary_required", requirements=["CANC-002"])
def cancellation_needs_beneficiary(s: Session) -> None:
    """A cancellation must say for whom: an empty or missing beneficiary is refused."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject("INVALID_FIELD", "cancel", w.alice, bundle_id=bundle, beneficiary="")
    s.reject("INVALID_FIELD", "cancel", w.alice, bundle_id=bundle, beneficiary="   ")
    s.reject("INVALID_FIELD", "cancel", w.alice, bundle_id=bundle)


@check("core.cancel.storage_purpose_needs_record", requirements=["CANC-003"])
def storage_purpose_needs_record(s: Session) -> None:
    """A plain cancellation cannot be for storage charging: that needs a charge record (D7)."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    for quantity in (None, 100):
        fields: dict[str, Any] = {"bundle_id": bundle, "beneficiary": CONSUMER}
        if quantity is not None:
            fields["quantity"] = quantity
        s.reject(
            "STORAGE_CHARGE_NEEDS_SCR",
            "cancel",
            w.alice,
            purpose="STORAGE_CHARGE",
            severity=Severity.MAJOR,
            **fields,
        )


@check("core.cancel.ends_tradeability", requirements=["XFER-003", "CANC-001"])
def cancelled_cannot_move(s: Session) -> None:
    """Cancelled and claimed certificates can no longer be transferred or reserved."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, 600)
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=100)
    for status in ("CANCELLED", "CLAIMED"):
        ended = one(s, status.lower(), certificate_bundle_status=status)
        s.reject(
            "BUNDLE_NOT_ACTIVE",
            "transfer",
            w.alice,
            bundle_id=ended["bundle_id"],
            to_account=w.account(w.bob),
        )
        if s.optional("reserve"):
            s.reject("BUNDLE_NOT_ACTIVE", "reserve", w.alice, bundle_id=ended["bundle_id"])


@check("core.claim.only_beneficiary", requirements=["DC-006"])
def claim_only_by_beneficiary(s: Session) -> None:
    """Only the beneficiary named at cancellation can claim the certificates (D4 risk 6)."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, None)
    s.reject(
        "BENEFICIARY_MISMATCH",
        "claim",
        w.alice,
        bundle_id=cancelled["bundle_id"],
        claimant="Consumer-Y",
    )
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER)
    claimed = one(s, "claimed", certificate_bundle_status="CLAIMED")
    s.expect(
        claimed["bundle_quantity"] == 1000,
        "the beneficiary's claim covers the cancelled certificates",
        expected=1000,
        observed=_short(claimed),
    )


@check("core.claim.only_once", requirements=["DC-005"])
def claim_only_once(s: Session) -> None:
    """Cancelled certificates support one claim only (D4 risk 5), also after a partial claim."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, 500)
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=200)
    claimed = one(s, "claimed", certificate_bundle_status="CLAIMED")
    s.reject("ALREADY_CLAIMED", "claim", w.alice, bundle_id=claimed["bundle_id"], claimant=CONSUMER)
    s.reject(
        "ALREADY_CLAIMED",
        "claim",
        w.alice,
        bundle_id=claimed["bundle_id"],
        claimant=CONSUMER,
        quantity=1,
    )
    rest = one(s, "still cancelled", certificate_bundle_status="CANCELLED")
    s.accept("claim", w.alice, bundle_id=rest["bundle_id"], claimant=CONSUMER)
    s.expect(
        total(s.bundles(certificate_bundle_status="CLAIMED")) == 500,
        "exactly the cancelled quantity ends up claimed, once",
        expected=500,
        observed=shortlist(s.bundles(certificate_bundle_status="CLAIMED")),
        severity=CRITICAL,
    )


@check("core.claim.non_owner_refused", requirements=["AUTH-003"])
def non_owner_claim_refused(s: Session) -> None:
    """Only the holder of the cancelled certificates can claim them, even for the beneficiary."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, None)
    s.reject("NOT_OWNER", "claim", w.bob, bundle_id=cancelled["bundle_id"], claimant=CONSUMER)


@check("core.claim.uncancelled_refused", requirements=["CLAIM-001"])
def claim_needs_cancellation(s: Session) -> None:
    """Active, reserved and withdrawn certificates cannot be claimed: only cancelled ones."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject("NOT_CANCELLED", "claim", w.alice, bundle_id=bundle, claimant=CONSUMER)
    if s.optional("reserve"):
        reserved, _ = alice_issues(s, w, 100, hour=1)
        s.accept("reserve", w.alice, bundle_id=reserved)
        s.reject("NOT_CANCELLED", "claim", w.alice, bundle_id=reserved, claimant=CONSUMER)
    withdrawn, _ = alice_issues(s, w, 100, hour=2)
    s.accept("withdraw", ISSUER_ID, bundle_id=withdrawn, reason="metering error")
    s.reject("NOT_CANCELLED", "claim", w.alice, bundle_id=withdrawn, claimant=CONSUMER)


@check("core.claim.beyond_cancelled_refused", requirements=["CLAIM-002", "QTY-002", "SPLIT-001"])
def claim_within_cancelled(s: Session) -> None:
    """A claim cannot take more than was cancelled; a partial claim splits the cancelled part."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, 400)
    s.reject(
        "QUANTITY_EXCEEDS_BUNDLE",
        "claim",
        w.alice,
        bundle_id=cancelled["bundle_id"],
        claimant=CONSUMER,
        quantity=401,
    )
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=150)
    expect_split_into(
        s,
        cancelled,
        "a partial claim",
        [("CANCELLED", 250), ("CLAIMED", 150)],
        "the cancelled part became 150 claimed and 250 still cancelled",
    )


# ====================================================================== reserve, lock, release


@check("core.reserve.blocks_use", requirements=["RES-001"])
def reserved_and_locked_blocked(s: Session) -> None:
    """Reserved or locked certificates can be neither transferred, cancelled nor reserved again."""
    w = s.world()
    for hour, kind in ((0, "RESERVED"), (1, "LOCKED")):
        bundle, _ = alice_issues(s, w, 500, hour=hour)
        s.accept("reserve", w.alice, bundle_id=bundle, kind=kind)
        # RES-001 is a SHOULD: the standard names the statuses (D9) but no rule for them.
        s.reject(
            "BUNDLE_NOT_ACTIVE",
            "transfer",
            w.alice,
            bundle_id=bundle,
            to_account=w.account(w.bob),
            severity=MINOR,
        )
        s.reject(
            "BUNDLE_NOT_ACTIVE",
            "cancel",
            w.alice,
            bundle_id=bundle,
            beneficiary=CONSUMER,
            severity=MINOR,
        )
        s.reject(
            "BUNDLE_NOT_ACTIVE",
            "reserve",
            w.alice,
            bundle_id=bundle,
            kind="RESERVED",
            severity=MINOR,
        )


@check("core.reserve.non_owner_refused", requirements=["AUTH-004"])
def non_owner_reserve_refused(s: Session) -> None:
    """Another holder can neither reserve, lock nor release a bundle it does not hold."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject("NOT_OWNER", "reserve", w.bob, bundle_id=bundle, severity=Severity.MAJOR)
    s.reject(
        "NOT_OWNER", "reserve", w.bob, bundle_id=bundle, kind="LOCKED", severity=Severity.MAJOR
    )
    s.accept("reserve", w.alice, bundle_id=bundle)
    s.reject("NOT_OWNER", "release", w.bob, bundle_id=bundle, severity=Severity.MAJOR)


@check("core.reserve.release_restores", requirements=["RES-002"])
def release_restores(s: Session) -> None:
    """Releasing makes reserved certificates active again; releasing active ones is refused."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.accept("reserve", w.alice, bundle_id=bundle)
    s.accept("release", w.alice, bundle_id=bundle)
    s.expect(
        record(s, bundle)["certificate_bundle_status"] == "ACTIVE",
        "released certificates are active again",
        expected="ACTIVE",
        observed=_short(record(s, bundle)),
        severity=MINOR,
    )
    s.reject("NOT_RESERVED", "release", w.alice, bundle_id=bundle, severity=MINOR)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob))


@check("core.reserve.partial_split_partitions_parent", requirements=["SPLIT-001", "SPLIT-002"])
def partial_reserve_partitions(s: Session) -> None:
    """Reserving part of a bundle splits it into a reserved and an active child."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    s.accept("reserve", w.alice, bundle_id=bundle, quantity=250, kind="LOCKED")
    expect_split_into(
        s,
        issued,
        "a partial lock",
        [("ACTIVE", 750), ("LOCKED", 250)],
        "the parent became one locked and one active child",
        severity=Severity.MAJOR,
    )


# ====================================================================== withdraw


@check("core.withdraw.holder_refused", requirements=["AUTH-006"])
def holder_cannot_withdraw(s: Session) -> None:
    """Withdrawal is the GC Issuer's act: a holder cannot withdraw even its own certificates."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.reject("NOT_AUTHORISED", "withdraw", w.alice, bundle_id=bundle, reason="mine")
    s.reject("NOT_AUTHORISED", "withdraw", w.alice, bundle_id=bundle, reason="mine", quantity=5)


@check("core.withdraw.final", requirements=["WDR-001"])
def withdrawal_is_final(s: Session) -> None:
    """Withdrawn certificates stay withdrawn: no operation brings them back into use."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.accept("withdraw", ISSUER_ID, bundle_id=bundle, reason="metering error")
    s.reject(
        "BUNDLE_NOT_ACTIVE", "transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob)
    )
    s.reject("BUNDLE_NOT_ACTIVE", "cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER)
    if s.optional("reserve"):
        s.reject("BUNDLE_NOT_ACTIVE", "reserve", w.alice, bundle_id=bundle)
    if s.optional("release"):
        s.reject("NOT_RESERVED", "release", w.alice, bundle_id=bundle)
    s.reject("BUNDLE_NOT_ACTIVE", "withdraw", ISSUER_ID, bundle_id=bundle, reason="again")
    s.expect(
        record(s, bundle)["certificate_bundle_status"] == "WITHDRAWN",
        "the certificates are still withdrawn",
        expected="WITHDRAWN",
        observed=_short(record(s, bundle)),
        severity=CRITICAL,
    )


@check("core.withdraw.used_certificates_refused", requirements=["WDR-002"])
def used_certificates_not_withdrawn(s: Session) -> None:
    """Cancelled or claimed certificates cannot be withdrawn: the record of their use stands."""
    w = s.world()
    bundle, _ = alice_issues(s, w)
    cancelled = cancel_part(s, w, bundle, 400)
    s.accept("claim", w.alice, bundle_id=cancelled["bundle_id"], claimant=CONSUMER, quantity=100)
    for status in ("CANCELLED", "CLAIMED"):
        ended = one(s, status.lower(), certificate_bundle_status=status)
        s.reject(
            "BUNDLE_NOT_ACTIVE", "withdraw", ISSUER_ID, bundle_id=ended["bundle_id"], reason="undo"
        )


@check("core.withdraw.partial_split_partitions_parent", requirements=["SPLIT-001", "SPLIT-002"])
def partial_withdraw_partitions(s: Session) -> None:
    """Withdrawing part of a bundle splits it; the rest stays active with the holder."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    s.accept("withdraw", ISSUER_ID, bundle_id=bundle, reason="metering error", quantity=250)
    expect_split_into(
        s,
        issued,
        "a partial withdrawal",
        [("ACTIVE", 750), ("WITHDRAWN", 250)],
        "the parent became one withdrawn and one active child",
    )


@check("core.withdraw.ids_never_reused", requirements=["ID-002", "DC-003"])
def withdrawn_ids_not_reused(s: Session) -> None:
    """Certificates issued after a withdrawal never take the withdrawn certificates' identity."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    s.accept("withdraw", ISSUER_ID, bundle_id=bundle, reason="metering error")
    for hour in (1, 2):
        fresh, _ = alice_issues(s, w, 1000, hour=hour)
        s.expect(
            fresh != bundle,
            "a new issuance gets a new bundle ID, not the withdrawn bundle's",
            expected=f"a bundle ID other than {bundle!r}",
            observed=fresh,
            severity=CRITICAL,
        )
    withdrawn = record(s, bundle)
    s.expect(
        (withdrawn["certificate_bundle_status"], span(withdrawn)) == ("WITHDRAWN", span(issued)),
        "the withdrawn certificates keep their status and IDs",
        expected=("WITHDRAWN", span(issued)),
        observed=_short(withdrawn),
        severity=CRITICAL,
    )
    if "issuance_id" in issued:
        others = [b for b in s.observe()["bundles"] if b["bundle_id"] != bundle]
        s.expect(
            all(b.get("issuance_id") != issued["issuance_id"] for b in others),
            "new issuances do not reuse the withdrawn issuance's ID",
            expected=f"issuance IDs other than {issued['issuance_id']!r}",
            observed=shortlist(others),
            severity=CRITICAL,
        )
    expect_unique_certificates(s)


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
    if reading == "CALENDAR_YEAR":
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


# ====================================================================== registration (D2, D6)


@check("core.devices.registration_complete", requirements=["DEV-001"])
def registration_needs_complete_data(s: Session) -> None:
    """A device registration with D6 data missing or malformed is refused; a complete one is not."""
    w = s.world()
    complete = device_record("DEV-NEW", "M-NEW", w.account(w.alice), 2_000_000, "hydro")
    broken: list[dict[str, Any]] = [
        {k: v for k, v in complete.items() if k != "meter_id"},
        {k: v for k, v in complete.items() if k != "gross_or_net"},
        {k: v for k, v in complete.items() if k != "location"},
        {**complete, "capacity_w": 0},
        {**complete, "capacity_w": -5},
        {**complete, "device_name": ""},
        {**complete, "energy_source": ""},
        {**complete, "gross_or_net": "MAYBE"},
        {**complete, "location": {"country": ""}},
    ]
    for device in broken:
        s.reject("INVALID_FIELD", "register_device", ISSUER_ID, device=device)
    s.accept("register_device", ISSUER_ID, device=complete)


@check("core.devices.duplicate_refused", requirements=["DEV-002"])
def duplicate_device_refused(s: Session) -> None:
    """A device ID can be registered only once in the domain."""
    w = s.world()
    again = device_record(WIND, "M-OTHER", w.account(w.bob), 1_000_000, "wind")
    s.reject("DUPLICATE_DEVICE", "register_device", ISSUER_ID, device=again)


@check("core.devices.duplicate_meter_refused", requirements=["DEV-004"])
def duplicate_meter_refused(s: Session) -> None:
    """A meter already registered for one device cannot be registered for another."""
    w = s.world()
    twin = device_record("DEV-TWIN", w.meters[WIND], w.account(w.bob), 5_000_000, "wind")
    s.reject("DUPLICATE_METER_ID", "register_device", ISSUER_ID, device=twin)


@check("core.devices.unknown_account_refused", requirements=["DEV-003"])
def device_needs_account(s: Session) -> None:
    """A device can be registered only to issue into an existing account."""
    s.world()
    device = device_record("DEV-NEW", "M-NEW", "ACC-NOBODY", 1_000_000, "wind")
    s.reject("UNKNOWN_ACCOUNT", "register_device", ISSUER_ID, device=device)


@check("core.devices.operational_date_strict", requirements=["TIME-006"])
def operational_date_strict(s: Session) -> None:
    """A device's start of operation must be a real YYYY-MM-DD date."""
    w = s.world()
    device = device_record("DEV-NEW", "M-NEW", w.account(w.alice), 1_000_000, "wind")
    for bad in ("2020-02-30", "2020/01/01", "2020-1-1", "01-01-2020"):
        s.reject(
            "INVALID_DATE", "register_device", ISSUER_ID, device={**device, "operational_date": bad}
        )


@check("core.accounts.duplicate_refused", requirements=["ROLE-003"])
def duplicate_account_refused(s: Session) -> None:
    """An account ID can be opened only once."""
    w = s.world()
    s.reject(
        "DUPLICATE_ACCOUNT",
        "open_account",
        ISSUER_ID,
        account={"account_id": w.account(w.alice), "holder_id": w.carol, "account_name": "x"},
    )


@check("core.accounts.issuer_may_not_hold", requirements=["ROLE-001"])
def issuer_may_not_hold(s: Session) -> None:
    """The GC Issuer cannot open an account for itself without a D2 exempt purpose."""
    s.world()
    s.reject(
        "ISSUER_MAY_NOT_HOLD",
        "open_account",
        ISSUER_ID,
        account={"account_id": "ACC-ISSUER", "holder_id": ISSUER_ID, "account_name": "issuer"},
    )


def exempt_account(s: Session, purpose: str) -> str:
    """Open an exempt issuer account (ROLE-002, a MAY), judged by the ``exempt_accounts`` policy.

    A registry that declares the purpose must accept it; one that declares
    ``NONE`` must refuse it, as any issuer account (``ISSUER_MAY_NOT_HOLD``), and
    the check is then not applicable. Undeclared, that refusal (or
    ``INVALID_FIELD`` for the unknown ``exemption``) means "not offered"; any
    other refusal leaves ROLE-004 *not verified* rather than passed.
    """
    account = f"ACC-ISSUER-{purpose}"
    declared = s.policy("exempt_accounts", "")
    offered = {v.strip() for v in declared.split(",") if v.strip()}
    before = s.snapshot()
    answer = s.send(
        "open_account",
        ISSUER_ID,
        expectation="accept" if purpose in offered else "any",
        account={
            "account_id": account,
            "holder_id": ISSUER_ID,
            "account_name": f"issuer {purpose.lower()}",
            "exemption": purpose,
        },
    )
    if answer.accepted:
        return account
    s.require_unchanged(before, "the refused exempt account")
    s.expect(
        purpose not in offered,
        f"the registry declares exempt accounts for {purpose}, but refused one",
        expected="accepted",
        observed=f"rejected {answer.code}: {answer.message}",
    )
    if declared:
        s.expect_code(answer, ("ISSUER_MAY_NOT_HOLD",), "open_account")
        raise NotApplicable(f"the registry declares exempt_accounts={declared!r}")
    if answer.code in ("ISSUER_MAY_NOT_HOLD", "INVALID_FIELD"):
        raise NotApplicable(f"the registry offers no exempt issuer account ({answer.code})")
    raise NotApplicable(
        f"the exempt issuer account was refused with {answer.code}, which does not say the "
        "registry offers none; declare the exempt_accounts policy",
        kind=SkipKind.NOT_VERIFIED,
    )


@check("core.accounts.issuer_exempt_account", requirements=["ROLE-002"])
def issuer_exempt_account(s: Session) -> None:
    """Where offered, an exempt issuer account exists and can receive certificates."""
    w = s.world()
    account = exempt_account(s, "TESTING")
    known = [a.get("account_id") for a in s.observe()["accounts"]]
    s.expect(
        account in known,
        "the exempt account is observable",
        expected=account,
        observed=known,
        severity=MINOR,
    )
    bundle, _ = alice_issues(s, w)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=account, quantity=100)
    s.expect(
        s.balance(account) == 100,
        "the exempt account holds what was transferred to it",
        expected=100,
        observed=s.balance(account),
        severity=MINOR,
    )


@check("core.accounts.exempt_account_not_traded", requirements=["ROLE-004"])
def exempt_account_not_traded(s: Session) -> None:
    """The issuer's own-consumption certificates are never passed on nor used for others."""
    w = s.world()
    account = exempt_account(s, "OWN_CONSUMPTION")
    bundle, _ = alice_issues(s, w)
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=account, quantity=200)
    held = one(s, "in the issuer's account", account_id=account)
    s.reject(
        "ISSUER_MAY_NOT_TRADE",
        "transfer",
        ISSUER_ID,
        bundle_id=held["bundle_id"],
        to_account=w.account(w.bob),
    )
    s.reject(
        "ISSUER_MAY_NOT_TRADE",
        "cancel",
        ISSUER_ID,
        bundle_id=held["bundle_id"],
        beneficiary=CONSUMER,
    )
    s.accept("cancel", ISSUER_ID, bundle_id=held["bundle_id"], beneficiary=ISSUER_ID)


@check("core.registration.holder_refused", requirements=["AUTH-007"])
def holder_cannot_administer(s: Session) -> None:
    """Holders can neither open accounts nor register devices."""
    w = s.world()
    s.reject(
        "NOT_AUTHORISED",
        "open_account",
        w.alice,
        account={"account_id": "ACC-SHADOW", "holder_id": w.alice, "account_name": "shadow"},
    )
    device = device_record("DEV-SHADOW", "M-SHADOW", w.account(w.alice), 1_000_000, "wind")
    s.reject("NOT_AUTHORISED", "register_device", w.alice, device=device)


# ====================================================================== attributes (D5)


def _fold(value: object) -> object:
    """Text compared without regard to case ("Wind" names the same source as "wind")."""
    return value.casefold() if isinstance(value, str) else value


def _missing_attributes(bundle: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in MANDATORY_ATTRIBUTES:
        value = bundle.get(key)
        if value is None or (isinstance(value, str | list | dict) and not value):
            problems.append(f"{key} missing")
    for key in ("production_starting_interval", "production_ending_interval"):
        value = bundle.get(key)
        if value is not None and not (isinstance(value, str) and STAMP_PATTERN.fullmatch(value)):
            problems.append(f"{key}={value!r} is not a strict UTC stamp")
    for key in ("issuance_datestamp", "device_production_start_date"):
        value = bundle.get(key)
        if value is not None and not (isinstance(value, str) and DATE_PATTERN.fullmatch(value)):
            problems.append(f"{key}={value!r} is not YYYY-MM-DD")
    for key in ("is_storage", "disclosure", "issuance_post_energy_carrier_conversion"):
        if key in bundle and not isinstance(bundle[key], bool):
            problems.append(f"{key}={bundle[key]!r} is not true/false")
    capacity = bundle.get("device_capacity")
    if capacity is not None and (not isinstance(capacity, int) or capacity <= 0):
        problems.append(f"device_capacity={capacity!r} is not a positive number of W")
    return problems


@check("core.attributes.mandatory_present", requirements=["ATTR-001"])
def mandatory_attributes_present(s: Session) -> None:
    """Every issued bundle states the information D5 makes mandatory."""
    w = s.world()
    for device, wh in ((WIND, 1000), (SOLAR, 400)):
        issued = record(s, s.issue(device, w.meters[device], 2, wh, account=w.account(w.alice)))
        problems = _missing_attributes(issued)
        s.expect(
            not problems,
            "an issued bundle states every mandatory D5 attribute, well formed",
            expected=", ".join(MANDATORY_ATTRIBUTES),
            observed="; ".join(problems),
        )
        # The storage and conversion tags say whether the GC was issued after release from
        # storage or after an energy carrier conversion (D5): a wind or solar device's metered
        # production was neither.
        for tag in ("is_storage", "issuance_post_energy_carrier_conversion"):
            s.expect(
                issued.get(tag) is not True,
                f"a GC issued for {device}'s own production is not tagged {tag}",
                expected=f"{tag} false",
                observed=f"{tag}={issued.get(tag)!r}",
            )


@check("core.attributes.carrier_is_electricity", requirements=["ATTR-002"])
def carrier_is_electricity(s: Session) -> None:
    """The energy carrier stated on a GC is electricity."""
    w = s.world()
    _, issued = alice_issues(s, w)
    carrier = issued.get("energy_carrier")
    s.expect(
        isinstance(carrier, str) and carrier.strip().lower() == "electricity",
        "the energy carrier is electricity",
        expected="Electricity",
        observed=carrier,
    )


@check("core.attributes.face_value_one_wh", requirements=["ATTR-003"])
def face_value_one_wh(s: Session) -> None:
    """Each certificate stands for one Wh: an issuance of N Wh holds N certificates of 1 Wh."""
    w = s.world()
    _, issued = alice_issues(s, w, 777)
    s.expect(
        (issued.get("face_value"), issued["bundle_quantity"]) == (1, 777),
        "face value 1 Wh per certificate, and as many certificates as Wh",
        expected=(1, 777),
        observed=(issued.get("face_value"), issued["bundle_quantity"]),
    )


@check("core.attributes.issuer_and_configuration", requirements=["ATTR-008"])
def issuer_and_configuration(s: Session) -> None:
    """A GC names its issuer, the issuer's country or region, and configuration #1 here."""
    w = s.world()
    _, issued = alice_issues(s, w)
    shown = (
        issued.get("issuing_body"),
        issued.get("country_of_issuance"),
        issued.get("registry_configuration"),
    )
    if not s.capabilities.reset:
        # The suite did not set the issuer up (no reset): the GC must name one, and a domain.
        s.expect(
            all(isinstance(v, str) and v.strip() for v in shown[:2])
            and shown[2] == s.configuration,
            "the GC names its issuer, the issuer's domain and the configuration",
            expected=("<issuer>", "<domain>", s.configuration),
            observed=shown,
        )
        return
    s.expect(
        shown[0] in (ISSUER_ID, "Conformance Test Issuer") and shown[1:] == ("NL", s.configuration),
        "the GC names the issuer set up for the run, its domain and the configuration",
        expected=(ISSUER_ID, "NL", s.configuration),
        observed=shown,
    )


@check("core.attributes.copied_from_device", requirements=["ATTR-007"])
def attributes_copied_from_device(s: Session) -> None:
    """The device information on a GC is what the device was registered with."""
    w = s.world()
    for device, capacity, source in ((WIND, 5_000_000, "wind"), (SOLAR, 1_000, "solar")):
        issued = record(s, s.issue(device, w.meters[device], 3, 500, account=w.account(w.alice)))
        registered = device_record(device, w.meters[device], w.account(w.alice), capacity, source)
        expected = {
            "device_id": device,
            "device_name": registered["device_name"],
            "device_capacity": capacity,
            "device_technology_type": source,
            "energy_source": source,
            "device_production_start_date": registered["operational_date"],
        }
        shown = {key: issued.get(key) for key in expected}
        s.expect(
            {k: _fold(v) for k, v in shown.items()} == {k: _fold(v) for k, v in expected.items()},
            "the GC's device attributes equal the registration data",
            expected=expected,
            observed=shown,
        )


@check("core.attributes.immutable_through_lifecycle", requirements=["ATTR-006", "ID-003"])
def attributes_immutable(s: Session) -> None:
    """Splits, transfers, cancellation and claims leave every issuance attribute as issued."""
    w = s.world()
    bundle, issued = alice_issues(s, w)
    attributes = {k: issued[k] for k in IMMUTABLE_ATTRIBUTES if k in issued}
    s.accept("transfer", w.alice, bundle_id=bundle, to_account=w.account(w.bob), quantity=300)
    at_bob = one(s, "in bob's account", account_id=w.account(w.bob))
    s.accept("cancel", w.bob, bundle_id=at_bob["bundle_id"], beneficiary=CONSUMER, quantity=100)
    cancelled = one(s, "cancelled", certificate_bundle_status="CANCELLED")
    s.accept("claim", w.bob, bundle_id=cancelled["bundle_id"], claimant=CONSUMER)
    kept = one(s, "left with alice", account_id=w.account(w.alice))
    if s.optional("reserve"):
        s.accept("reserve", w.alice, bundle_id=kept["bundle_id"], quantity=50)
    else:  # the fourth bundle by another split
        s.accept(
            "transfer",
            w.alice,
            bundle_id=kept["bundle_id"],
            to_account=w.account(w.carol),
            quantity=50,
        )
    current = s.bundles(device_id=WIND)
    s.expect(
        len(current) == 4,
        "four bundles descend from the issuance",
        expected=4,
        observed=shortlist(current),
    )
    for child in current:
        changed = {k: (v, child.get(k)) for k, v in attributes.items() if child.get(k) != v}
        s.expect(
            not changed,
            "a bundle descending from an issuance carries its attributes unchanged",
            expected=attributes,
            observed=f"{_short(child)} changed {changed}",
            severity=CRITICAL,
        )


@check("core.attributes.issuance_date_stamp", requirements=["ATTR-005"])
def issuance_date_stamp(s: Session) -> None:
    """The issuance date is a strict YYYY-MM-DD stamp of the (UTC) day of issuance."""
    w = s.world()
    _, issued = alice_issues(s, w)
    stamp = issued.get("issuance_datestamp")
    s.expect(
        isinstance(stamp, str) and DATE_PATTERN.fullmatch(stamp) is not None,
        "the issuance date stamp is YYYY-MM-DD",
        expected="YYYY-MM-DD",
        observed=stamp,
    )
    if s.capabilities.clock is Clock.CONTROLLED:
        today = s.now.strftime("%Y-%m-%d")
        s.expect_equal(stamp, today, "the issuance date is the day the request was carried out")
    else:  # the registry's own clock: at least not before the production it certifies
        produced = s.hour(0)[0][:10]
        s.expect(
            isinstance(stamp, str) and stamp >= produced,
            "certificates are not issued before their production",
            expected=f">= {produced}",
            observed=stamp,
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
            key=_short,
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
            observed=_short(parent),
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
    active = sorted(s.bundles(certificate_bundle_status="ACTIVE"), key=_short)
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
