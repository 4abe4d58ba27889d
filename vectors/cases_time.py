"""Cases of validity and expiry (D8), the order of actions (D9) and error correction (D10).

Production is on 2024-03-01. Under every validity reading the model knows
(calendar year, rolling 12 or 24 months) certificates of that day are valid on
2024-12-31 and expired on 2026-03-02; cases dated in between depend on the
reading and say so (``applies.policies.validity``).
"""

from __future__ import annotations

from collections.abc import Callable

from gc_conformance.vectors.catalog import (
    ALICE,
    BOB,
    CAST,
    ISSUER,
    WIND,
    add,
    cancel,
    case,
    claim,
    flag,
    issue,
    transfer,
)
from gc_conformance.vectors.tape import Tape

EXPIRY = flag(
    "Expiry",
    "Validity and the expiry sweep (VAL-002..007): unused certificates expire when their "
    "validity ends, used ones keep their status, only the GC Issuer sweeps.",
    "Certificates stay usable after their validity, or used ones are rewritten as expired.",
)
PAST_VALIDITY = flag(
    "PastValidity",
    "Certificates past the end of their validity are refused for use even before a sweep "
    "(VAL-004), and no certificate is issued already expired (VAL-008).",
    "An expired certificate supports a transfer or a claim: use beyond the 12-month period.",
)
ORDER = flag(
    "ActionOrder",
    "Actions are recorded in time order (IT-005): a request dated before the last action is "
    "refused.",
    "The registry's record can be rewritten into the past.",
)
CORRECTION = flag(
    "Correction",
    "D10 error correction: a higher corrected value issues the difference, a lower one withdraws "
    "what was not yet used and defers the rest to the next issuance (CORR-001..010).",
    "Certificates stay issued for energy that was never produced, or the deduction is lost.",
)
HAND = "HandComputed"
VALIDITY, CORR = "validity", "correction"
LATE = "2026-03-02T00:00:00Z"  # past validity under every reading
EXP = ("expiry",)


def _sweep(t: Tape, when: str = LATE) -> None:
    t.at(when)
    t.send("expire", ISSUER)


@case(
    VALIDITY,
    CAST,
    "sweep-before-end",
    "an expiry sweep on 2024-12-31 expires nothing",
    flags=[EXPIRY],
    requirements=["VAL-002"],
    profiles=EXP,
)
def _early(t: Tape) -> None:
    issue(t)
    _sweep(t, "2024-12-31T23:59:59Z")


@case(
    VALIDITY,
    CAST,
    "sweep-after-end",
    "an expiry sweep on 2026-03-02 expires the unused bundle",
    flags=[EXPIRY, HAND],
    requirements=["VAL-002"],
    profiles=EXP,
)
def _late(t: Tape) -> None:
    issue(t)
    _sweep(t)
    t.hand_total(1000, certificate_bundle_status="EXPIRED")


@case(
    VALIDITY,
    CAST,
    "sweep-at-year-end",
    "an expiry sweep at 2025-01-01T00:00:00Z",
    flags=[EXPIRY],
    requirements=["VAL-002", "VAL-001"],
    profiles=EXP,
)
def _year_end(t: Tape) -> None:
    issue(t)
    _sweep(t, "2025-01-01T00:00:00Z")


@case(
    VALIDITY,
    CAST,
    "sweep-by-holder",
    "a holder runs the expiry sweep",
    flags=[EXPIRY],
    requirements=["VAL-007"],
    profiles=EXP,
)
def _holder(t: Tape) -> None:
    issue(t)
    t.at(LATE)
    t.send("expire", ALICE)


for _label, _prepare in (
    ("cancelled", lambda t, b: cancel(t, ALICE, b)),
    ("claimed", lambda t, b: (cancel(t, ALICE, b), claim(t, ALICE, b))),
    ("withdrawn", lambda t, b: t.send("withdraw", ISSUER, bundle_id=b, reason="metering error")),
    ("reserved", lambda t, b: t.send("reserve", ALICE, bundle_id=b)),
    ("locked", lambda t, b: t.send("reserve", ALICE, bundle_id=b, kind="LOCKED")),
    ("transferred", lambda t, b: transfer(t, ALICE, b, BOB)),
):

    def _kept(t: Tape, prepare: Callable[[Tape, object], object] = _prepare) -> None:
        bundle = issue(t)
        prepare(t, bundle)
        _sweep(t)

    used = _label in ("cancelled", "claimed", "withdrawn")
    add(
        VALIDITY,
        CAST,
        f"sweep-{_label}",
        f"the sweep on a {_label} bundle: "
        + ("it keeps its status" if used else "it expires like an active one"),
        _kept,
        flags=[EXPIRY],
        requirements=["VAL-005"] if used else ["VAL-006", "VAL-002"],
        profiles=EXP,
    )

for _action in ("transfer", "cancel", "reserve", "withdraw", "release"):

    def _after_sweep(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        _sweep(t)
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "cancel":
            cancel(t, ALICE, bundle)
        elif action == "withdraw":
            t.send("withdraw", ISSUER, bundle_id=bundle, reason="late")
        else:
            t.send(action, ALICE, bundle_id=bundle)

    add(
        VALIDITY,
        CAST,
        f"expired-{_action}",
        f"{_action} of an expired bundle",
        _after_sweep,
        flags=[EXPIRY],
        requirements=["VAL-003"],
        profiles=EXP,
    )

for _action in ("transfer", "cancel", "reserve"):

    def _unswept(t: Tape, action: str = _action) -> None:
        bundle = issue(t)
        t.at(LATE)
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB)
        elif action == "cancel":
            cancel(t, ALICE, bundle)
        else:
            t.send("reserve", ALICE, bundle_id=bundle)

    add(
        VALIDITY,
        CAST,
        f"past-validity-{_action}",
        f"{_action} of a bundle past its validity, before any sweep",
        _unswept,
        flags=[PAST_VALIDITY],
        requirements=["VAL-004"],
        profiles=EXP,
    )


@case(
    VALIDITY,
    CAST,
    "claim-past-validity",
    "a claim on certificates cancelled in time, made after their validity",
    flags=[PAST_VALIDITY],
    requirements=["CLAIM-001", "REC-001"],
    profiles=EXP,
)
def _claim_late(t: Tape) -> None:
    bundle = issue(t)
    cancel(t, ALICE, bundle)
    t.at(LATE)
    claim(t, ALICE, bundle)


for _label, _start, _end in (
    ("production-2022", "2022-01-10T10:00:00Z", "2022-01-10T11:00:00Z"),
    ("production-2023-june", "2023-06-01T10:00:00Z", "2023-06-01T11:00:00Z"),
    ("production-2024-january", "2024-01-02T10:00:00Z", "2024-01-02T11:00:00Z"),
):

    def _old(t: Tape, start: str = _start, end: str = _end) -> None:
        t.send(
            "submit_production",
            ISSUER,
            device_id=WIND,
            meter_id="M-WIND",
            start=start,
            end=end,
            energy_wh="100",
        )

    add(
        VALIDITY,
        CAST,
        _label,
        f"production of {_start[:10]} reported on 2024-03-02",
        _old,
        flags=[PAST_VALIDITY],
        requirements=["VAL-008"],
        profiles=EXP,
    )


# D8's own-hour exemption (policy own_hour_use): production of 2024-12-31, used in January.
OWN_HOUR = flag(
    "OwnHourExemption",
    "D8 binds to the 12-month consumption period only a GC not matched to its own hour (VAL-011): "
    "past the period, its own hour is still matched; any other consumption, or none named, is not.",
    "December production is lost for its own hour at the year's end, or a GC past its "
    "consumption period is matched to other hours.",
)
_DEC_DAY = 305  # 2024-12-31, days after the epoch day 2024-03-01


def _december(t: Tape) -> object:
    """1000 Wh of the wind park for 2024-12-31T10:00-11:00, issued that day; then 2 January."""
    t.at("2024-12-31T12:00:00Z")
    bundle = issue(t, 10, day=_DEC_DAY)
    t.at("2025-01-02T00:00:00Z")
    return bundle


@case(
    VALIDITY,
    CAST,
    "last-hour-of-the-year-reported-on-1-january",
    "production of 2024-12-31T23:00-24:00 reported at 2025-01-01T00:30:00Z: issued for its own "
    "hour unless every use ends with the calendar year",
    flags=[OWN_HOUR],
    requirements=["VAL-008", "VAL-011"],
    profiles=EXP,
)
def _last_hour(t: Tape) -> None:
    t.at("2025-01-01T00:30:00Z")
    issue(t, 23, day=_DEC_DAY)


for _label, _period, _comment in (
    ("own-hour", ("2024-12-31T10:00:00Z", "2024-12-31T11:00:00Z"), "its own production hour"),
    ("own-quarter", ("2024-12-31T10:15:00Z", "2024-12-31T10:30:00Z"), "a quarter of its own hour"),
    ("next-hour", ("2024-12-31T11:00:00Z", "2024-12-31T12:00:00Z"), "the hour after its own"),
    ("january", ("2025-01-02T00:00:00Z", "2025-01-02T01:00:00Z"), "an hour of January"),
    ("none", None, "no consumption period"),
):

    def _december_cancel(t: Tape, period: tuple[str, str] | None = _period) -> None:
        bundle = _december(t)
        extra = (
            {} if period is None else {"consumption_start": period[0], "consumption_end": period[1]}
        )
        cancel(t, ALICE, bundle, quantity=100, **extra)

    add(
        VALIDITY,
        CAST,
        f"december-gc-cancelled-on-2-january-for-{_label}",
        f"a GC of 2024-12-31T10:00-11:00 cancelled on 2025-01-02 against {_comment}",
        _december_cancel,
        flags=[OWN_HOUR],
        requirements=["VAL-009", "VAL-011"],
        profiles=EXP,
    )


@case(
    VALIDITY,
    CAST,
    "december-gc-transferred-on-2-january",
    "a GC of 2024-12-31T10:00-11:00 transferred on 2025-01-02 (still to be matched to its own hour)",
    flags=[OWN_HOUR],
    requirements=["VAL-004", "VAL-011"],
    profiles=EXP,
)
def _december_transfer(t: Tape) -> None:
    transfer(t, ALICE, _december(t), BOB, 100)


@case(
    VALIDITY,
    CAST,
    "time-reversal",
    "a transfer dated before the issuance that precedes it",
    flags=[ORDER],
    requirements=["IT-005"],
)
def _reversal(t: Tape) -> None:
    bundle = issue(t)
    t.at("2024-03-01T12:00:00Z")
    transfer(t, ALICE, bundle, BOB)


@case(
    VALIDITY,
    CAST,
    "same-instant",
    "two requests at the same instant are in order",
    flags=[ORDER],
    requirements=["IT-005", "XFER-002"],
)
def _same(t: Tape) -> None:
    bundle = issue(t)
    transfer(t, ALICE, bundle, BOB)


@case(
    VALIDITY,
    CAST,
    "later-day",
    "a transfer a week later",
    flags=[ORDER],
    requirements=["IT-005", "XFER-002"],
)
def _later(t: Tape) -> None:
    bundle = issue(t)
    t.advance(days=7)
    transfer(t, ALICE, bundle, BOB)


# ====================================================================== error correction


def _correct(t: Tape, wh: str, hour: int = 10, actor: str = ISSUER) -> dict[str, object]:
    start, end = t.hour(hour)
    return t.send("correct_production", actor, device_id=WIND, start=start, end=end, energy_wh=wh)


@case(
    CORR,
    CAST,
    "upward",
    "corrected 1000 -> 1200 Wh: 200 more certificates",
    flags=[CORRECTION, HAND],
    requirements=["CORR-001"],
)
def _upward(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "1200")
    t.hand_total(1200, account_id="ACC-ALICE", certificate_bundle_status="ACTIVE")


@case(
    CORR,
    CAST,
    "downward-untouched",
    "corrected 1000 -> 800 Wh before any use: 200 withdrawn",
    flags=[CORRECTION, HAND],
    requirements=["CORR-002"],
)
def _down(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "800")
    t.hand_total(800, certificate_bundle_status="ACTIVE")
    t.hand_total(200, certificate_bundle_status="WITHDRAWN")


@case(
    CORR,
    CAST,
    "downward-used-deferred",
    "corrected 1000 -> 600 after 900 were transferred and 400 cancelled: 100 withdrawn, 300 deferred",
    flags=[CORRECTION, HAND],
    requirements=["CORR-002", "CORR-006"],
)
def _deferred(t: Tape) -> None:
    moved = transfer(t, ALICE, issue(t, 10, "1000"), BOB, 900)
    cancel(t, BOB, moved.get("bundle_id"), quantity=400)
    _correct(t, "600")
    t.hand_total(100, certificate_bundle_status="WITHDRAWN")


@case(
    CORR,
    CAST,
    "deduction-next-issuance",
    "the 300 Wh deferred are deducted from the next day's issuance of the same hour (1000 -> 700)",
    flags=[CORRECTION, HAND],
    requirements=["CORR-003"],
)
def _deducted(t: Tape) -> None:
    moved = transfer(t, ALICE, issue(t, 10, "1000"), BOB, 900)
    cancel(t, BOB, moved.get("bundle_id"), quantity=400)
    _correct(t, "600")
    t.advance(days=1)
    issue(t, 10, "1000", day=1)
    t.hand_total(700, account_id="ACC-ALICE", certificate_bundle_status="ACTIVE")


@case(
    CORR,
    CAST,
    "deduction-exceeds-next",
    "a 300 Wh deduction against a 200 Wh next issuance issues nothing",
    flags=[CORRECTION],
    requirements=["CORR-004"],
)
def _insufficient(t: Tape) -> None:
    moved = transfer(t, ALICE, issue(t, 10, "1000"), BOB, 900)
    cancel(t, BOB, moved.get("bundle_id"), quantity=400)
    _correct(t, "600")
    t.advance(days=1)
    issue(t, 10, "200", day=1)


@case(
    CORR,
    CAST,
    "unknown-production",
    "a correction of an hour never issued",
    flags=[CORRECTION],
    requirements=["CORR-007"],
)
def _unknown(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "500", hour=11)


@case(
    CORR,
    CAST,
    "unchanged",
    "a correction equal to what was recognised",
    flags=[CORRECTION],
    requirements=["CORR-008"],
)
def _unchanged(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "1000")


@case(
    CORR,
    CAST,
    "by-holder",
    "a holder corrects production",
    flags=[CORRECTION],
    requirements=["CORR-009"],
)
def _by_holder(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "900", actor=ALICE)


@case(
    CORR,
    CAST,
    "malformed-energy",
    "a correction to -5 Wh",
    flags=[CORRECTION],
    requirements=["CORR-007", "PROD-004"],
)
def _malformed(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "-5")


@case(
    CORR,
    CAST,
    "downward-to-zero",
    "corrected 1000 -> 0 Wh before any use: everything withdrawn",
    flags=[CORRECTION],
    requirements=["CORR-002"],
)
def _zero(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "0")


@case(
    CORR,
    CAST,
    "upward-twice",
    "two upward corrections: 1000 -> 1100 -> 1300",
    flags=[CORRECTION],
    requirements=["CORR-001"],
)
def _twice(t: Tape) -> None:
    issue(t, 10, "1000")
    _correct(t, "1100")
    _correct(t, "1300")


@case(
    CORR,
    CAST,
    "issuer-created-deduction-ignored",
    "an issuer-created bundle that ignores an outstanding deduction",
    flags=[CORRECTION],
    requirements=["CORR-010"],
)
def _ic(t: Tape) -> None:
    moved = transfer(t, ALICE, issue(t, 10, "1000"), BOB, 900)
    cancel(t, BOB, moved.get("bundle_id"), quantity=400)
    _correct(t, "600")
    t.advance(days=1)
    start, end = t.hour(10, day=1)
    t.send(
        "issue_bundle",
        ISSUER,
        device_id=WIND,
        account_id="ACC-ALICE",
        start=start,
        end=end,
        range_start=5001,
        range_end=6000,
        quantity=1000,
        energy_wh="1000",
    )
