"""Issuer-created bundles (profile ``issuer-created``): the issuer asserts, the registry validates.

In this style the GC Issuer names the certificate ID range, the quantity, the
device, the interval, the account and the metered production behind it
(action ``issue_bundle``). The registry is the last line of defence against
double issuance and double registration (D4 risks 1 and 3), so each rule of
D5 is checked by asserting a bundle that breaks it and expecting a refusal
that changes nothing. Ranges are placed after the highest ID the registry
shows, so the checks hold for any numbering a vendor starts from.
"""

from __future__ import annotations

from typing import Any

from gc_conformance.adapter import IssuanceStyle, Profile
from gc_conformance.checks import check
from gc_conformance.checks.core import (
    CRITICAL,
    MINOR,
    SOLAR,
    WIND,
    capacity_limit,
    expect_unique_certificates,
    record,
    span,
    whole_wh,
)
from gc_conformance.session import ISSUER_ID, NotApplicable, Session, World

PROFILE = Profile.ISSUER_CREATED


def _setup(s: Session) -> World:
    s.require_style(IssuanceStyle.ISSUER_CREATED)
    return s.world()


def asserted(
    s: Session,
    w: World,
    *,
    first: int,
    quantity: int,
    hour: int = 0,
    device: str = WIND,
    energy: object | None = None,
    account: str | None = None,
    interval: tuple[str, str] | None = None,
    last: int | None = None,
) -> dict[str, Any]:
    """The fields of an ``issue_bundle`` request (the range ends at ``last`` if given)."""
    start, end = interval if interval is not None else s.hour(hour)
    return {
        "device_id": device,
        "account_id": account if account is not None else w.account(w.alice),
        "start": start,
        "end": end,
        "range_start": first,
        "range_end": last if last is not None else first + quantity - 1,
        "quantity": quantity,
        "energy_wh": str(energy if energy is not None else quantity),
    }


def issue(s: Session, fields: dict[str, Any]) -> Any:
    return s.created(s.accept("issue_bundle", ISSUER_ID, **fields), "bundle_id", "issuance")


@check(
    "issuer_created.bundle.recorded_as_asserted",
    requirements=["ISS-001", "IT-002"],
    profile=PROFILE,
)
def recorded_as_asserted(s: Session) -> None:
    """A correct issuer-created bundle is recorded with exactly the range and data asserted."""
    w = _setup(s)
    first = s.next_free_certificate() + 500  # a gap: the registry must take the issuer's range
    fields = asserted(s, w, first=first, quantity=1000, hour=4)
    issued = record(s, issue(s, fields))
    shown = (
        span(issued),
        issued["bundle_quantity"],
        issued["account_id"],
        issued["device_id"],
        issued.get("production_starting_interval"),
        issued.get("production_ending_interval"),
        issued["certificate_bundle_status"],
    )
    wanted = (
        (first, first + 999),
        1000,
        w.account(w.alice),
        WIND,
        fields["start"],
        fields["end"],
        "ACTIVE",
    )
    s.expect_equal(
        shown, wanted, "the bundle is recorded exactly as the issuer asserted it", severity=CRITICAL
    )


@check(
    "issuer_created.bundle.quantity_range_mismatch_refused",
    requirements=["ISS-002"],
    profile=PROFILE,
)
def quantity_range_mismatch(s: Session) -> None:
    """A bundle whose quantity is not the length of its ID range is refused."""
    w = _setup(s)
    first = s.next_free_certificate()
    for start, last, quantity in (
        (first, first + 999, 999),
        (first, first + 999, 1001),
        (first + 999, first, 1000),  # a reversed range
    ):
        fields = asserted(s, w, first=start, quantity=quantity, last=last, energy=1001)
        s.reject("RANGE_QUANTITY_MISMATCH", "issue_bundle", ISSUER_ID, **fields)


@check(
    "issuer_created.bundle.overlap_refused",
    requirements=["ISS-003", "DC-003"],
    profile=PROFILE,
)
def overlapping_range_refused(s: Session) -> None:
    """A bundle reusing any certificate ID already issued is refused, even a single one."""
    w = _setup(s)
    first = s.next_free_certificate()
    issue(s, asserted(s, w, first=first, quantity=1000, hour=0))
    # The last range ends on the first issued ID, starting up to nine IDs before it.
    before = max(1, first - 9)
    ranges = ((first + 999, 1000), (first + 500, 100), (first, 1000), (before, first - before + 1))
    for start, quantity in ranges:
        fields = asserted(s, w, first=start, quantity=quantity, hour=1)
        s.reject("RANGE_OVERLAP", "issue_bundle", ISSUER_ID, **fields)
    issue(s, asserted(s, w, first=first + 1000, quantity=1000, hour=1))
    expect_unique_certificates(s)


@check(
    "issuer_created.bundle.withdrawn_ids_not_reused",
    requirements=["ISS-003", "ID-002"],
    profile=PROFILE,
)
def withdrawn_ids_not_reused(s: Session) -> None:
    """The IDs of withdrawn certificates can never be issued again."""
    w = _setup(s)
    first = s.next_free_certificate()
    bundle = issue(s, asserted(s, w, first=first, quantity=1000, hour=0))
    s.accept("withdraw", ISSUER_ID, bundle_id=bundle, reason="metering error")
    fields = asserted(s, w, first=first, quantity=1000, hour=1)
    s.reject("RANGE_OVERLAP", "issue_bundle", ISSUER_ID, **fields)
    fields = asserted(s, w, first=first + 999, quantity=1, hour=1)
    s.reject("RANGE_OVERLAP", "issue_bundle", ISSUER_ID, **fields)


@check(
    "issuer_created.bundle.exceeds_production_refused",
    requirements=["ISS-004"],
    profile=PROFILE,
)
def exceeds_production_refused(s: Session) -> None:
    """A bundle may not assert more certificates than the production, rounded as declared, holds.

    999.5 Wh makes 1000 certificates under NEAREST and 999 under DOWN; the
    registry must accept exactly up to the whole Wh its declared rule gives.
    """
    w = _setup(s)
    rounding = s.policy("rounding", "NEAREST")
    allowed = whole_wh("999.5", rounding)
    first = s.next_free_certificate()
    too_many = asserted(s, w, first=first, quantity=allowed + 1, energy="999.5", hour=0)
    s.reject("QUANTITY_EXCEEDS_PRODUCTION", "issue_bundle", ISSUER_ID, **too_many)
    issue(s, asserted(s, w, first=first, quantity=allowed, energy="999.5", hour=0))
    first = s.next_free_certificate()
    solar = asserted(s, w, first=first, quantity=601, energy="600", device=SOLAR, hour=1)
    s.reject("QUANTITY_EXCEEDS_PRODUCTION", "issue_bundle", ISSUER_ID, **solar)


@check(
    "issuer_created.bundle.wrong_account_refused",
    requirements=["ISS-005"],
    profile=PROFILE,
)
def wrong_account_refused(s: Session) -> None:
    """Certificates are issued only into the account the device is registered to issue into."""
    w = _setup(s)
    first = s.next_free_certificate()
    for account, code in (
        (w.account(w.bob), "ACCOUNT_MISMATCH"),
        ("ACC-NOBODY", "UNKNOWN_ACCOUNT"),
    ):
        fields = asserted(s, w, first=first, quantity=100, account=account)
        s.reject(code, "issue_bundle", ISSUER_ID, **fields)


@check("issuer_created.bundle.holder_refused", requirements=["AUTH-005"], profile=PROFILE)
def holder_cannot_assert(s: Session) -> None:
    """Only the GC Issuer may assert a bundle."""
    w = _setup(s)
    fields = asserted(s, w, first=s.next_free_certificate(), quantity=100)
    s.reject("NOT_AUTHORISED", "issue_bundle", w.alice, **fields)


@check(
    "issuer_created.bundle.duplicate_interval_refused",
    requirements=["DC-001"],
    profile=PROFILE,
)
def duplicate_interval_refused(s: Session) -> None:
    """A second bundle for a device's production already issued is refused, even with fresh IDs."""
    w = _setup(s)
    issue(s, asserted(s, w, first=s.next_free_certificate(), quantity=1000, hour=0))
    start, _ = s.hour(0)
    day = start[:10]
    for interval in (s.hour(0), (f"{day}T00:30:00Z", f"{day}T01:00:00Z")):
        fields = asserted(s, w, first=s.next_free_certificate(), quantity=100, interval=interval)
        s.reject("DUPLICATE_ISSUANCE", "issue_bundle", ISSUER_ID, **fields)


@check(
    "issuer_created.bundle.invalid_ids_refused",
    requirements=["ISS-006", "QTY-001"],
    profile=PROFILE,
)
def invalid_ids_refused(s: Session) -> None:
    """Certificate IDs are positive whole numbers and a bundle holds at least one certificate."""
    w = _setup(s)
    for first, last in ((0, 9), (-5, 4), (2.5, 12)):
        fields = asserted(s, w, first=first, quantity=10, last=last)  # type: ignore[arg-type]
        s.reject("INVALID_FIELD", "issue_bundle", ISSUER_ID, **fields)
    first = s.next_free_certificate() + 10
    for quantity in (0, -1):
        fields = asserted(
            s, w, first=first, quantity=quantity, last=first + quantity - 1, energy=10
        )
        s.reject("INVALID_QUANTITY", "issue_bundle", ISSUER_ID, **fields)


@check(
    "issuer_created.bundle.interval_rules",
    requirements=["TIME-001", "TIME-002", "TIME-003"],
    profile=PROFILE,
)
def interval_rules(s: Session) -> None:
    """Asserted bundles obey the stamp and interval rules: strict UTC, at most an hour, non-empty."""
    w = _setup(s)
    start, end = s.hour(0)
    day = start[:10]
    first = s.next_free_certificate()
    for interval, code in (
        ((start, f"{day}T00:14:95Z"), "INVALID_TIMESTAMP"),
        ((start, f"{day}T01:00:00+00:00"), "INVALID_TIMESTAMP"),
        ((start, f"{day}T02:00:00Z"), "INTERVAL_TOO_LONG"),
        ((end, start), "INVALID_INTERVAL"),
    ):
        fields = asserted(s, w, first=first, quantity=100, interval=interval)
        s.reject(code, "issue_bundle", ISSUER_ID, **fields)


@check("issuer_created.bundle.capacity_plausibility", requirements=["PROD-005"], profile=PROFILE)
def capacity_plausibility(s: Session) -> None:
    """A bundle asserted from more energy than the device can produce in the hour is refused."""
    w = _setup(s)
    if s.policy("capacity", "NAMEPLATE") == "DISABLED":
        raise NotApplicable("the registry declares capacity plausibility DISABLED")
    limit = capacity_limit(s, 1000)  # 1 kW x 1 h, plus the declared tolerance
    fields = asserted(s, w, first=s.next_free_certificate(), quantity=limit + 1, device=SOLAR)
    s.reject("CAPACITY_EXCEEDED", "issue_bundle", ISSUER_ID, severity=MINOR, **fields)


@check("issuer_created.bundle.future_interval_refused", requirements=["PROD-006"], profile=PROFILE)
def future_interval_refused(s: Session) -> None:
    """No bundle can be asserted for production in an interval that has not ended."""
    w = _setup(s)
    fields = asserted(
        s, w, first=s.next_free_certificate(), quantity=100, interval=s.hour(0, day=30)
    )
    s.reject("INTERVAL_NOT_ENDED", "issue_bundle", ISSUER_ID, **fields)
