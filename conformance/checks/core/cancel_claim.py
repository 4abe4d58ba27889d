"""Cancel and claim, reserve, lock and release, withdraw (D4, D9): each ends or suspends tradeability as the standard says, for the holder only."""

from __future__ import annotations

from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.core.helpers import (
    CONSUMER,
    CRITICAL,
    MINOR,
    alice_issues,
    expect_split_into,
    expect_unique_certificates,
    one,
    record,
    short,
    shortlist,
    span,
    total,
)
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    World,
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
        observed=short(claimed),
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
        observed=short(record(s, bundle)),
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
        observed=short(record(s, bundle)),
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
        observed=short(withdrawn),
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
