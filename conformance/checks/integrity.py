"""Integrity checks: rules the other modules check only from one side.

Each check here closes a gap found by running the suite against the built-in
faulty registries (``gc_conformance.adapters.faulty``): a realistic defect that
passed every other check. None is written to that defect's quirk: each
follows from a requirement of the standard, tests the rule from the sides the
other checks leave open, and passes against the reference model.

* refused *partial* operations, whose quantity is valid but which fail on
  another rule, must not leave a split behind (IT-001; the core atomicity check
  refuses only over-large quantities, which a registry cannot split anyway);
* an issuer-created range is refused when *any* of its IDs is taken, including
  a range that starts below an issued one and runs into it, or encloses it
  (ISS-003; the issuer-created checks start their overlapping ranges inside);
* an SD-GC waits until *every* charge record allocated to its discharge is
  backed by cancelled GCs, not just one (STOR-024);
* a registry that numbers certificates in one sequence never gives a new
  issuance the IDs of withdrawn certificates (ID-002; the core check compares
  bundle and issuance IDs, and the issuer-created one only asserted ranges).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from gc_conformance.adapter import IssuanceStyle, Profile
from gc_conformance.checks import check
from gc_conformance.checks.core import (
    CONSUMER,
    CRITICAL,
    WIND,
    alice_issues,
    one,
    record,
    shortlist,
    span,
)
from gc_conformance.session import ISSUER_ID, NotApplicable, Session

# ====================================================================== atomicity (D9)


@check("integrity.atomicity.refused_partial_operations_leave_no_split", requirements=["IT-001"])
def refused_partial_operations_leave_no_split(s: Session) -> None:
    """A partial operation refused for any reason leaves the bundle whole, under its own ID.

    Every request below names a valid quantity (10 of 900 certificates) and is
    refused by another rule: an unknown receiving account, a caller who does not
    hold the bundle, an empty beneficiary, a holder withdrawing, a claim for the
    wrong claimant or on uncancelled certificates. A registry that splits off the
    quantity before it validates the rest, and does not undo the split, changes
    the state with a refused request (D9: all or nothing); the session compares
    the observed state before and after each refusal.
    """
    w = s.world()
    bundle, _ = alice_issues(s, w)
    s.accept("cancel", w.alice, bundle_id=bundle, beneficiary=CONSUMER, quantity=100)
    active = one(s, "the active remainder", certificate_bundle_status="ACTIVE")
    cancelled = one(s, "the cancelled part", certificate_bundle_status="CANCELLED")
    rest, used = active["bundle_id"], cancelled["bundle_id"]
    s.reject(
        "UNKNOWN_ACCOUNT", "transfer", w.alice, bundle_id=rest, to_account="ACC-NOBODY", quantity=10
    )
    s.reject(
        "NOT_OWNER", "transfer", w.bob, bundle_id=rest, to_account=w.account(w.carol), quantity=10
    )
    s.reject("NOT_OWNER", "cancel", w.bob, bundle_id=rest, beneficiary=CONSUMER, quantity=10)
    s.reject("INVALID_FIELD", "cancel", w.alice, bundle_id=rest, beneficiary="", quantity=10)
    if s.optional("reserve"):
        s.reject("NOT_OWNER", "reserve", w.bob, bundle_id=rest, quantity=10)
    s.reject("NOT_AUTHORISED", "withdraw", w.alice, bundle_id=rest, reason="mine", quantity=10)
    s.reject("NOT_CANCELLED", "claim", w.alice, bundle_id=rest, claimant=CONSUMER, quantity=10)
    s.reject(
        "BENEFICIARY_MISMATCH", "claim", w.alice, bundle_id=used, claimant="Consumer-Y", quantity=10
    )
    after = one(s, "the active remainder", certificate_bundle_status="ACTIVE")
    s.expect(
        (after["bundle_id"], span(after), after["bundle_quantity"])
        == (rest, span(active), active["bundle_quantity"]),
        "after the refusals the active bundle is whole, under its own ID",
        expected=(rest, span(active), active["bundle_quantity"]),
        observed=(after["bundle_id"], span(after), after["bundle_quantity"]),
        severity=CRITICAL,
    )


# ====================================================================== issuer-created ranges (D5)


@check(
    "integrity.issuer_created.overlap_reaching_into_issued_refused",
    requirements=["ISS-003", "DC-003"],
    profile=Profile.ISSUER_CREATED,
)
def overlap_reaching_into_issued_refused(s: Session) -> None:
    """A range that starts below issued IDs and runs into them, or encloses them, is refused.

    Testing only whether the first asserted ID is free misses these ranges, yet
    each would register certificates that exist already (D4 risk 3). The free
    IDs just below the issued range are then accepted, so a registry cannot pass
    by refusing every range near issued IDs.
    """
    s.require_style(IssuanceStyle.ISSUER_CREATED)
    w = s.world()
    first = s.next_free_certificate() + 500  # leave free IDs below the issued range
    _assert(s, w.account(w.alice), first, first + 999, hour=0)
    for low, high in ((first - 100, first + 99), (first - 100, first + 1099), (first - 1, first)):
        s.reject(
            "RANGE_OVERLAP",
            "issue_bundle",
            ISSUER_ID,
            **_fields(s, w.account(w.alice), low, high, 1),
        )
    _assert(s, w.account(w.alice), first - 500, first - 1, hour=1)
    numbers = Counter(n for b in s.observe()["bundles"] for n in range(span(b)[0], span(b)[1] + 1))
    doubled = sorted(n for n, count in numbers.items() if count > 1)
    s.expect(
        not doubled,
        "no asserted certificate ID exists twice",
        expected="every ID once",
        observed=f"{len(doubled)} IDs twice, e.g. {doubled[:3]}",
        severity=CRITICAL,
    )


def _fields(s: Session, account: str, low: int, high: int, hour: int) -> dict[str, Any]:
    start, end = s.hour(hour)
    quantity = high - low + 1
    return {
        "device_id": WIND,
        "account_id": account,
        "start": start,
        "end": end,
        "range_start": low,
        "range_end": high,
        "quantity": quantity,
        "energy_wh": str(quantity),
    }


def _assert(s: Session, account: str, low: int, high: int, *, hour: int) -> None:
    s.accept("issue_bundle", ISSUER_ID, **_fields(s, account, low, high, hour))


# ====================================================================== certificate identity (D5)


@check("integrity.ids.withdrawn_ids_never_reissued", requirements=["ID-002"])
def withdrawn_ids_never_reissued(s: Session) -> None:
    """Issuances after a withdrawal never carry the withdrawn certificates' IDs.

    Applies to a registry that shows one numbering sequence (two issuances of
    the same device get disjoint ranges): there a certificate ID is the
    certificate's identity, and D5 keeps it unique for good, withdrawn
    certificates included. A whole and a partial withdrawal are followed by
    issuances that would fit exactly into the withdrawn ranges.
    """
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    account = w.account(w.alice)
    first = s.issue(WIND, w.meters[WIND], 0, 1000, account=account)
    second = s.issue(WIND, w.meters[WIND], 1, 1000, account=account)
    # Both accepted issuances must be observable (a missing one fails, it is not a skip).
    ranges = [span(record(s, first)), span(record(s, second))]
    if _overlap(ranges[0], ranges[1]):
        raise NotApplicable(
            "the registry numbers certificates per issuance (two issuances share IDs), so a "
            "certificate is identified with its issuance, not by its ID alone"
        )
    s.accept("withdraw", ISSUER_ID, bundle_id=first, reason="metering error")
    s.accept("withdraw", ISSUER_ID, bundle_id=second, reason="metering error", quantity=300)
    s.issue(WIND, w.meters[WIND], 2, 1000, account=account)
    s.issue(WIND, w.meters[WIND], 3, 300, account=account)
    bundles = s.observe()["bundles"]
    numbers = Counter(n for b in bundles for n in range(span(b)[0], span(b)[1] + 1))
    doubled = sorted(n for n, count in numbers.items() if count > 1)
    s.expect(
        not doubled,
        "no certificate ID is carried by two certificates, withdrawn ones included",
        expected="every ID once",
        observed=f"{len(doubled)} IDs twice, e.g. {doubled[:3]}, in {shortlist(bundles)}",
        severity=CRITICAL,
    )


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


# ====================================================================== storage (D7)


@check(
    "integrity.storage.sd_gc_needs_every_input_cancelled",
    requirements=["STOR-024"],
    profile=Profile.STORAGE,
)
def sd_gc_needs_every_input_cancelled(s: Session) -> None:
    """An SD-GC waits until every charge record behind its discharge is backed by cancelled GCs.

    A discharge of 1600 Wh draws 800 Wh (net) from a charge nobody cancelled
    GCs for and 800 Wh from a fully backed one. Its SD-GC is refused while the
    first charge is bare: it would pass on attributes for energy no GC was
    cancelled for. Once GCs of that interval are cancelled for the charge, the
    SD-GC of the whole 1600 Wh is issued.
    """
    from gc_conformance.checks.storage import (
        allocate,
        backed_charge,
        cancel_for_charge,
        commission,
        issue_sd_gc,
        produce,
        record,
        storage_bundles,
        storage_world,
    )

    sw = storage_world(s)
    n = commission(s, sw)
    bare = record(s, sw, "CHARGING", n, 1000)
    backed, _ = backed_charge(s, sw, n + 1)
    sdr = record(s, sw, "DISCHARGING", n + 2, 1600)
    allocate(s, sw, [sdr], [(bare, sdr, 800), (backed, sdr, 800)])
    s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr)
    cancel_for_charge(s, sw, bare, produce(s, sw, n, 1000))
    bundle_id = issue_sd_gc(s, sdr)
    issued = storage_bundles(s)
    s.expect(
        [(b["bundle_id"], b["bundle_quantity"]) for b in issued] == [(bundle_id, 1600)],
        "once every charge behind it is backed, the discharge gets one SD-GC of its volume",
        expected=[(bundle_id, 1600)],
        observed=shortlist(issued),
    )
