"""Cases about cancelling and claiming: beneficiaries, double use, what a claim may follow."""

from __future__ import annotations

from gc_conformance.vectors.cases_core._flags import (
    ATOMIC,
    AUTHORITY,
    CANCEL,
    CC,
    CLAIM,
    ENDED,
    HAND,
    QUANTITY,
    SPLIT,
    VALID,
    WITHDRAWAL,
)
from gc_conformance.vectors.catalog import (
    ALICE,
    BOB,
    CAROL,
    CAST,
    ISSUER,
    add,
    cancel,
    case,
    claim,
    issue,
    transfer,
)
from gc_conformance.vectors.tape import Tape


@case(
    CC,
    CAST,
    "cancel-whole",
    "alice cancels a bundle for Acme",
    flags=[CANCEL, VALID],
    requirements=["CANC-001"],
)
def _cancel(t: Tape) -> None:
    cancel(t, ALICE, issue(t))


@case(
    CC,
    CAST,
    "cancel-partial",
    "alice cancels 600 of 1000 for Acme",
    flags=[CANCEL, SPLIT, VALID, HAND],
    requirements=["CANC-001", "SPLIT-001"],
)
def _cancel_partial(t: Tape) -> None:
    cancel(t, ALICE, issue(t), quantity=600)
    t.hand_total(600, certificate_bundle_status="CANCELLED")
    t.hand_total(400, certificate_bundle_status="ACTIVE")


@case(
    CC,
    CAST,
    "cancel-after-transfer",
    "bob cancels what alice transferred to him",
    flags=[CANCEL, VALID],
    requirements=["CANC-001", "AUTH-002"],
)
def _cancel_transferred(t: Tape) -> None:
    moved = transfer(t, ALICE, issue(t), BOB, 500)
    cancel(t, BOB, moved.get("bundle_id"), "Bob Industries")


@case(
    CC,
    CAST,
    "cancel-no-beneficiary",
    "a cancellation with an empty beneficiary",
    flags=[CANCEL],
    requirements=["CANC-002"],
)
def _cancel_empty(t: Tape) -> None:
    cancel(t, ALICE, issue(t), "")


@case(
    CC,
    CAST,
    "cancel-no-beneficiary-partial",
    "a partial cancellation with an empty beneficiary",
    flags=[CANCEL, ATOMIC],
    requirements=["CANC-002", "IT-001"],
)
def _cancel_empty_partial(t: Tape) -> None:
    cancel(t, ALICE, issue(t), "", quantity=10)


@case(
    CC,
    CAST,
    "cancel-by-non-owner",
    "bob cancels alice's bundle",
    flags=[CANCEL, AUTHORITY],
    requirements=["AUTH-002"],
)
def _cancel_other(t: Tape) -> None:
    cancel(t, BOB, issue(t))


@case(
    CC,
    CAST,
    "cancel-twice",
    "the cancelled bundle is cancelled again",
    flags=[CANCEL, ENDED],
    requirements=["DC-004"],
)
def _cancel_twice(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    cancel(t, ALICE, bundle, "Other Corp")


@case(
    CC,
    CAST,
    "cancel-for-storage-purpose",
    "a plain cancellation with purpose STORAGE_CHARGE",
    flags=[CANCEL],
    requirements=["CANC-003"],
)
def _cancel_storage(t: Tape) -> None:
    cancel(t, ALICE, issue(t), purpose="STORAGE_CHARGE")


@case(
    CC,
    CAST,
    "cancel-quantity-too-many",
    "cancel 1001 of 1000",
    flags=[CANCEL, QUANTITY],
    requirements=["QTY-002"],
)
def _cancel_many(t: Tape) -> None:
    cancel(t, ALICE, issue(t), quantity=1001)


@case(
    CC,
    CAST,
    "cancel-quantity-zero",
    "cancel 0 certificates",
    flags=[CANCEL, QUANTITY],
    requirements=["QTY-001"],
)
def _cancel_zero(t: Tape) -> None:
    cancel(t, ALICE, issue(t), quantity=0)


@case(
    CC,
    CAST,
    "cancel-with-consumption-period",
    "a cancellation naming a consumption period inside the validity",
    flags=[CANCEL, VALID],
    requirements=["VAL-009", "CANC-001"],
    profiles=("expiry",),
)
def _cancel_period(t: Tape) -> None:
    cancel(
        t,
        ALICE,
        issue(t),
        consumption_start="2024-03-01T00:00:00Z",
        consumption_end="2024-03-01T01:00:00Z",
    )


@case(
    CC,
    CAST,
    "cancel-consumption-next-year",
    "a cancellation for consumption in the following year",
    flags=[CANCEL],
    requirements=["VAL-009"],
    profiles=("expiry",),
)
def _cancel_late(t: Tape) -> None:
    cancel(
        t,
        ALICE,
        issue(t),
        consumption_start="2025-06-01T00:00:00Z",
        consumption_end="2025-06-01T01:00:00Z",
    )


for _action in ("transfer", "reserve", "withdraw", "release"):

    def _after_cancel(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        cancel(t, ALICE, bundle)
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "withdraw":
            t.send("withdraw", ISSUER, bundle_id=bundle, reason="late")
        else:
            t.send(action, ALICE, bundle_id=bundle)

    add(
        CC,
        CAST,
        f"cancelled-{_action}",
        f"{_action} of a cancelled bundle",
        _after_cancel,
        flags=[ENDED],
        requirements={
            "transfer": ["XFER-003"],
            "withdraw": ["WDR-002"],
            "reserve": ["RES-001", "DC-004"],
            "release": ["RES-002"],
        }[_action],
    )


@case(
    CC,
    CAST,
    "claim-whole",
    "alice claims her cancelled bundle for Acme",
    flags=[CLAIM, VALID],
    requirements=["CLAIM-001"],
)
def _claim(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)


@case(
    CC,
    CAST,
    "claim-partial",
    "a claim for 200 of 1000 cancelled",
    flags=[CLAIM, SPLIT, VALID],
    requirements=["CLAIM-002"],
)
def _claim_partial(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle, quantity=200)


@case(
    CC,
    CAST,
    "claim-after-partial-cancel",
    "claiming the cancelled part of a partial cancellation",
    flags=[CLAIM, SPLIT, VALID],
    requirements=["CLAIM-001", "SPLIT-001"],
)
def _claim_part(t: Tape) -> None:
    cancelled = cancel(t, ALICE, issue(t), quantity=700)
    claim(t, ALICE, cancelled.get("bundle_id"))


@case(
    CC,
    CAST,
    "claim-active",
    "a claim on active certificates",
    flags=[CLAIM],
    requirements=["CLAIM-001"],
)
def _claim_active(t: Tape) -> None:
    claim(t, ALICE, issue(t))


@case(
    CC,
    CAST,
    "claim-other-claimant",
    "a claim naming someone other than the beneficiary",
    flags=[CLAIM],
    requirements=["DC-006"],
)
def _claim_other(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle, "Acme")
    claim(t, ALICE, bundle, "Other Corp")


@case(
    CC,
    CAST,
    "claim-by-non-holder",
    "bob claims alice's cancelled bundle",
    flags=[CLAIM, AUTHORITY],
    requirements=["AUTH-003"],
)
def _claim_holder(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, BOB, bundle)


@case(
    CC,
    CAST,
    "claim-twice",
    "the claimed bundle is claimed again",
    flags=[CLAIM, ENDED],
    requirements=["DC-005"],
)
def _claim_twice(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)
    claim(t, ALICE, bundle)


@case(
    CC,
    CAST,
    "claim-too-many",
    "a claim for more than was cancelled",
    flags=[CLAIM, QUANTITY],
    requirements=["CLAIM-002", "QTY-002"],
)
def _claim_many(t: Tape) -> None:
    cancelled = cancel(t, ALICE, issue(t), quantity=300)
    claim(t, ALICE, cancelled.get("bundle_id"), quantity=301)


@case(
    CC,
    CAST,
    "claimed-withdraw",
    "the GC Issuer withdraws claimed certificates",
    flags=[ENDED, WITHDRAWAL],
    requirements=["WDR-002"],
)
def _claimed_withdraw(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)
    t.send("withdraw", ISSUER, bundle_id=bundle, reason="late")


@case(
    CC,
    CAST,
    "claimed-transfer",
    "a claimed bundle is transferred",
    flags=[ENDED],
    requirements=["XFER-003"],
)
def _claimed_transfer(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    claim(t, ALICE, bundle)
    transfer(t, ALICE, bundle, BOB)


@case(
    CC,
    CAST,
    "cancel-remainder-later",
    "after a partial cancellation the active rest is transferred",
    flags=[CANCEL, SPLIT, VALID],
    requirements=["DC-007", "SPLIT-001"],
)
def _rest(t: Tape) -> None:
    cancelled = cancel(t, ALICE, issue(t), quantity=100)
    transfer(t, ALICE, cancelled.get("remainder_id"), CAROL)
