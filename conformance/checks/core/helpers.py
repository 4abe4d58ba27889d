"""Shared helpers of the core checks: observing bundles, issuing, expecting partitions and totals."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from gc_conformance.adapter import IssuanceStyle
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    ConservationBroken,
    NotApplicable,
    Session,
    World,
    device_record,
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


def short(bundle: Mapping[str, Any]) -> str:
    start, end = span(bundle)
    return (
        f"{bundle.get('bundle_id')}:{start}..{end}x{bundle['bundle_quantity']}"
        f"@{bundle['account_id']}/{bundle['certificate_bundle_status']}"
    )


def shortlist(bundles: Iterable[Mapping[str, Any]]) -> list[str]:
    return [short(b) for b in bundles]


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
            observed=short(bundle),
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


#: The values of the ``own_hour_use`` policy (D8's exemption for own-hour matching).
OWN_HOUR_USES = ("EXEMPT_12_MONTHS", "NOT_EXEMPT")


def declared_own_hour_use(s: Session) -> str:
    """The declared ``own_hour_use``; NOT_EXEMPT when none is declared.

    A registry that declared its validity reading before the policy existed
    meant the strict reading (every use ends with the period), so an undeclared
    value is judged as NOT_EXEMPT, and reports say so (a registry applying the
    exemption declares EXEMPT_12_MONTHS). An unknown value is not guessed at.
    """
    own_hour = s.capabilities.policies.get("own_hour_use", "NOT_EXEMPT")
    if own_hour not in OWN_HOUR_USES:
        raise NotApplicable(
            f"the registry declares own_hour_use {own_hour!r}, not one of "
            f"{', '.join(OWN_HOUR_USES)}: the end of its certificates' life cannot be judged"
        )
    return str(own_hour)
