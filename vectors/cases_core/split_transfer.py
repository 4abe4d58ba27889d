"""Cases about splitting and transferring bundles: ranges, quantities, holders, atomicity."""

from __future__ import annotations

from typing import Any

from gc_conformance.vectors.cases_core._flags import (
    ATOMIC,
    AUTHORITY,
    ENDED,
    HAND,
    HOLDING,
    QUANTITY,
    QUERY,
    SPL,
    SPLIT,
    UNKNOWN_REF,
    VALID,
    WITHDRAWAL,
)
from gc_conformance.vectors.catalog import (
    ALICE,
    BOB,
    CAROL,
    CAST,
    GHOST,
    ISSUER,
    SOLAR,
    STRANGER,
    WIND,
    add,
    cancel,
    case,
    issue,
    transfer,
)
from gc_conformance.vectors.tape import Tape


@case(
    SPL,
    CAST,
    "transfer-whole",
    "alice transfers a whole bundle to bob",
    flags=[VALID],
    requirements=["XFER-001", "DC-002"],
)
def _whole(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB)


@case(
    SPL,
    CAST,
    "transfer-partial",
    "alice transfers 400 of 1000 to bob: the bundle splits",
    flags=[VALID, SPLIT, HAND],
    requirements=["SPLIT-001", "SPLIT-002", "DC-007"],
)
def _partial(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB, 400)
    t.hand_total(400, account_id="ACC-BOB")
    t.hand_total(600, account_id="ACC-ALICE")


@case(
    SPL,
    CAST,
    "transfer-partial-all",
    "a partial transfer of exactly the bundle's quantity",
    flags=[VALID, SPLIT],
    requirements=["XFER-001", "QTY-002"],
)
def _partial_all(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB, 1000)


@case(
    SPL,
    CAST,
    "transfer-one-certificate",
    "a transfer of a single certificate",
    flags=[VALID, SPLIT],
    requirements=["SPLIT-001"],
)
def _one(t: Tape) -> None:
    transfer(t, ALICE, issue(t), BOB, 1)


@case(
    SPL,
    CAST,
    "transfer-chain",
    "alice to bob to carol: certificates change hands any number of times",
    flags=[VALID],
    requirements=["XFER-002", "ID-001"],
)
def _chain(t: Tape) -> None:
    first = transfer(t, ALICE, issue(t), BOB)
    transfer(t, BOB, first.get("bundle_id"), CAROL)


@case(
    SPL,
    CAST,
    "transfer-back",
    "bob transfers the certificates back to alice",
    flags=[VALID],
    requirements=["XFER-002"],
)
def _back(t: Tape) -> None:
    first = transfer(t, ALICE, issue(t), BOB, 300)
    transfer(t, BOB, first.get("bundle_id"), ALICE)


@case(
    SPL,
    CAST,
    "transfer-remainder",
    "after a partial transfer, alice transfers the remainder to carol",
    flags=[VALID, SPLIT],
    requirements=["SPLIT-001", "DC-007"],
)
def _remainder(t: Tape) -> None:
    first = transfer(t, ALICE, issue(t), BOB, 300)
    transfer(t, ALICE, first.get("remainder_id"), CAROL, 200)


@case(
    SPL,
    CAST,
    "transfer-split-parent",
    "the bundle that was split is named again",
    flags=[ENDED, UNKNOWN_REF],
    requirements=["DC-008"],
)
def _parent(t: Tape) -> None:
    bundle = issue(t)
    transfer(t, ALICE, bundle, BOB, 300)
    transfer(t, ALICE, bundle, CAROL)


for _quantity, _label in (
    (0, "zero"),
    (-5, "negative"),
    (2.5, "fraction"),
    ("10", "string"),
    (True, "boolean"),
    (1001, "too-many"),
):

    def _bad_quantity(t: Tape, quantity: Any = _quantity) -> None:
        transfer(t, ALICE, issue(t), BOB, quantity)

    add(
        SPL,
        CAST,
        f"transfer-quantity-{_label}",
        f"transfer quantity {_quantity!r} of a 1000-certificate bundle",
        _bad_quantity,
        flags=[QUANTITY, ATOMIC],
        requirements=["QTY-002"] if _label == "too-many" else ["QTY-001"],
    )

for _label, _actor, _to, _reqs, _flags in (
    ("transfer-by-non-owner", BOB, CAROL, ["AUTH-001"], [AUTHORITY, ATOMIC]),
    ("transfer-by-issuer", ISSUER, BOB, ["AUTH-001"], [AUTHORITY]),
    ("transfer-by-stranger", STRANGER, BOB, ["AUTH-001"], [AUTHORITY]),
    ("transfer-same-account", ALICE, ALICE, ["XFER-004"], [ATOMIC]),
    ("transfer-unknown-account", ALICE, "ACC-NONE", ["XFER-005"], [UNKNOWN_REF]),
):

    def _refused_transfer(t: Tape, actor: str = _actor, to: str = _to) -> None:
        transfer(t, actor, issue(t), to)

    add(
        SPL,
        CAST,
        _label,
        _label.replace("-", " "),
        _refused_transfer,
        flags=_flags,
        requirements=_reqs,
    )

    def _refused_partial(t: Tape, actor: str = _actor, to: str = _to) -> None:
        transfer(t, actor, issue(t), to, 250)

    add(
        SPL,
        CAST,
        _label + "-partial",
        _label.replace("-", " ") + ", partial: refused without splitting the bundle",
        _refused_partial,
        flags=[*_flags, SPLIT, ATOMIC] if ATOMIC not in _flags else [*_flags, SPLIT],
        requirements=[*_reqs, "IT-001"],
    )


@case(
    SPL,
    CAST,
    "transfer-unknown-bundle",
    "a transfer naming a bundle the registry never issued",
    flags=[UNKNOWN_REF],
    requirements=["IT-004"],
)
def _ghost(t: Tape) -> None:
    issue(t)
    transfer(t, ALICE, GHOST, BOB)


@case(
    SPL,
    CAST,
    "reserve-whole",
    "alice reserves her bundle",
    flags=[HOLDING, VALID],
    requirements=["RES-001"],
)
def _reserve(t: Tape) -> None:
    t.send("reserve", ALICE, bundle_id=issue(t))


@case(
    SPL,
    CAST,
    "reserve-partial",
    "alice reserves 100 of 1000",
    flags=[HOLDING, SPLIT, VALID],
    requirements=["RES-001", "SPLIT-001"],
)
def _reserve_partial(t: Tape) -> None:
    t.send("reserve", ALICE, bundle_id=issue(t), quantity=100)


@case(
    SPL,
    CAST,
    "lock-by-holder",
    "the holder locks its own bundle",
    flags=[HOLDING, VALID],
    requirements=["RES-001"],
)
def _lock(t: Tape) -> None:
    t.send("reserve", ALICE, bundle_id=issue(t), kind="LOCKED")


# No case for the GC Issuer locking a holder's bundle: the standard is silent on it (the
# reference allows it; AUTH-004's note), so neither answer may be a vector's expectation.


@case(
    SPL,
    CAST,
    "reserve-by-issuer",
    "the GC Issuer may lock, not reserve",
    flags=[HOLDING, AUTHORITY],
    requirements=["AUTH-004"],
)
def _reserve_issuer(t: Tape) -> None:
    t.send("reserve", ISSUER, bundle_id=issue(t))


@case(
    SPL,
    CAST,
    "reserve-by-non-owner",
    "bob reserves alice's bundle",
    flags=[HOLDING, AUTHORITY],
    requirements=["AUTH-004"],
)
def _reserve_other(t: Tape) -> None:
    t.send("reserve", BOB, bundle_id=issue(t))


for _action, _label in (
    ("transfer", "transfer"),
    ("cancel", "cancel"),
    ("reserve", "reserve-again"),
):

    def _after_reserve(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        t.send("reserve", ALICE, bundle_id=bundle)
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "cancel":
            cancel(t, ALICE, bundle)
        else:
            t.send("reserve", ALICE, bundle_id=bundle)

    add(
        SPL,
        CAST,
        f"reserved-{_label}",
        f"{_action} of a reserved bundle",
        _after_reserve,
        flags=[HOLDING],
        requirements=["RES-001"],
    )


@case(
    SPL,
    CAST,
    "release-reserved",
    "releasing a reserved bundle makes it active",
    flags=[HOLDING, VALID],
    requirements=["RES-002"],
)
def _release(t: Tape) -> None:
    bundle = issue(t)
    t.send("reserve", ALICE, bundle_id=bundle)
    t.send("release", ALICE, bundle_id=bundle)


@case(
    SPL,
    CAST,
    "release-then-transfer",
    "a released bundle can be transferred",
    flags=[HOLDING, VALID],
    requirements=["RES-002", "XFER-002"],
)
def _release_transfer(t: Tape) -> None:
    bundle = issue(t)
    t.send("reserve", ALICE, bundle_id=bundle)
    t.send("release", ALICE, bundle_id=bundle)
    transfer(t, ALICE, bundle, BOB)


@case(
    SPL,
    CAST,
    "release-active",
    "releasing a bundle that is not reserved",
    flags=[HOLDING],
    requirements=["RES-002"],
)
def _release_active(t: Tape) -> None:
    t.send("release", ALICE, bundle_id=issue(t))


@case(
    SPL,
    CAST,
    "release-by-non-owner",
    "bob releases alice's reservation",
    flags=[HOLDING, AUTHORITY],
    requirements=["AUTH-004"],
)
def _release_other(t: Tape) -> None:
    bundle = issue(t)
    t.send("reserve", ALICE, bundle_id=bundle)
    t.send("release", BOB, bundle_id=bundle)


@case(
    SPL,
    CAST,
    "withdraw-whole",
    "the GC Issuer withdraws a bundle",
    flags=[WITHDRAWAL, VALID],
    requirements=["WDR-001"],
)
def _withdraw(t: Tape) -> None:
    t.send("withdraw", ISSUER, bundle_id=issue(t), reason="metering error")


@case(
    SPL,
    CAST,
    "withdraw-partial",
    "the GC Issuer withdraws 250 of 1000",
    flags=[WITHDRAWAL, SPLIT, VALID],
    requirements=["WDR-001", "SPLIT-001"],
)
def _withdraw_partial(t: Tape) -> None:
    t.send("withdraw", ISSUER, bundle_id=issue(t), reason="metering error", quantity=250)


@case(
    SPL,
    CAST,
    "withdraw-by-holder",
    "a holder withdraws its own bundle",
    flags=[WITHDRAWAL, AUTHORITY],
    requirements=["AUTH-006"],
)
def _withdraw_holder(t: Tape) -> None:
    t.send("withdraw", ALICE, bundle_id=issue(t), reason="mine")


for _action in ("transfer", "withdraw", "reserve", "cancel"):

    def _after_withdraw(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        t.send("withdraw", ISSUER, bundle_id=bundle, reason="metering error")
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "withdraw":
            t.send("withdraw", ISSUER, bundle_id=bundle, reason="again")
        elif action == "reserve":
            t.send("reserve", ALICE, bundle_id=bundle)
        else:
            cancel(t, ALICE, bundle)

    add(
        SPL,
        CAST,
        f"withdrawn-{_action}",
        f"{_action} of a withdrawn bundle",
        _after_withdraw,
        flags=[WITHDRAWAL, ENDED],
        requirements=["WDR-001"],
    )


def _two_holders(t: Tape) -> None:
    transfer(t, ALICE, issue(t, 0, "1000"), BOB, 300)
    issue(t, 1, "50", device=SOLAR)


for _label, _actor, _fields, _reqs in (
    ("query-own-account", ALICE, {"account_id": "ACC-ALICE"}, ["IT-003"]),
    ("query-other-account", ALICE, {"account_id": "ACC-BOB"}, ["AUTH-008"]),
    ("query-by-device", BOB, {"device_id": WIND}, ["IT-003", "AUTH-008"]),
    ("query-by-status", ALICE, {"status": "ACTIVE"}, ["IT-003"]),
    ("query-by-source", ALICE, {"energy_source": "solar"}, ["IT-003"]),
    ("query-by-issuer", ISSUER, {}, ["IT-003"]),
):

    def _query(t: Tape, actor: str = _actor, fields: dict[str, Any] = _fields) -> None:
        _two_holders(t)
        t.send("query", actor, **fields)

    add(
        SPL,
        CAST,
        _label,
        f"query {_fields or 'everything'} by {_actor}",
        _query,
        flags=[QUERY],
        requirements=_reqs,
    )
