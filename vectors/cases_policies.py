"""Policy-variant cases (D13): each one provokes a point the standard leaves open.

Their expectations differ by the named policy, so the generator marks each
``acceptable`` with the values it applies under; the ``rounding-down``
variant set shows the rounding ones under DOWN. Rounding cases state their
certificates by hand for both readings of D5.
"""

from __future__ import annotations

from gc_conformance.vectors.catalog import (
    ALICE,
    BOB,
    CAST,
    ISSUER,
    SOLAR,
    WIND,
    add,
    cancel,
    flag,
    issue,
    transfer,
)
from gc_conformance.vectors.tape import Tape

AREA = "policies"
ROUNDING = flag(
    "RoundingReading",
    "D5 says a face value is rounded 'to the nearest Wh' in the seed and 'down' in the API: the "
    "registry's declared rounding decides (ATTR-004); remainders carry to the device's next "
    "reading.",
    "The registry issues another number of certificates than its declared rounding gives.",
)
SPLIT_END = flag(
    "SplitEnd",
    "Which end of a range a partial operation takes (D13, SPLIT-003).",
    "The registry splits from the other end than it declares.",
)
HAND = "HandComputed"

#: (label, readings, certificates by hand under NEAREST, under DOWN)
_ROUNDING = (
    ("half", ["0.5"], 1, 0),
    ("one-and-half", ["1.5"], 2, 1),
    ("two-and-half", ["2.5"], 3, 2),
    ("999-and-half", ["999.5"], 1000, 999),
    ("two-point-six", ["2.6"], 3, 2),
    ("four-halves", ["0.5", "0.5", "0.5", "0.5"], 2, 2),
    ("three-thirds", ["0.4", "0.4", "0.4"], 1, 1),
    ("carry-0-7-then-0-7", ["0.7", "0.7"], 1, 1),
)

for _label, _readings, _nearest, _down in _ROUNDING:

    def _rounding(
        t: Tape, readings: list[str] = _readings, nearest: int = _nearest, down: int = _down
    ) -> None:
        for hour, wh in enumerate(readings):
            issue(t, 14 + hour, wh, device=SOLAR)
        by_hand = nearest if t.policies.rounding.name == "NEAREST" else down
        t.hand_total(by_hand, device_id=SOLAR)

    add(
        AREA,
        CAST,
        f"rounding-{_label}",
        f"readings {' + '.join(_readings)} Wh: {_nearest} certificates rounding to nearest, "
        f"{_down} rounding down",
        _rounding,
        flags=[ROUNDING, HAND],
        requirements=["ATTR-004"],
    )

for _action in ("transfer", "cancel", "withdraw", "reserve"):

    def _partial(t: Tape, action: str = _action) -> None:
        bundle = issue(t, 0, "1000", device=WIND)
        if action == "transfer":
            transfer(t, ALICE, bundle, BOB, 100)
        elif action == "cancel":
            cancel(t, ALICE, bundle, quantity=100)
        elif action == "withdraw":
            t.send("withdraw", ISSUER, bundle_id=bundle, reason="metering error", quantity=100)
        else:
            t.send("reserve", ALICE, bundle_id=bundle, quantity=100)

    add(
        AREA,
        CAST,
        f"split-end-{_action}",
        f"a partial {_action} of 100 of 1000: which end of the range it takes",
        _partial,
        flags=[SPLIT_END],
        requirements=["SPLIT-003", "SPLIT-001"],
    )

for _when in ("2025-01-01T00:00:00Z", "2025-03-01T01:00:00Z", "2025-06-01T00:00:00Z"):

    def _sweep(t: Tape, when: str = _when) -> None:
        issue(t, 0, "1000", device=WIND)
        t.at(when)
        t.send("expire", ISSUER)

    add(
        AREA,
        CAST,
        f"validity-sweep-{_when[:10]}",
        f"an expiry sweep at {_when}: expired or not by the validity reading",
        _sweep,
        flags=[
            flag(
                "ValidityReading",
                "D8's 12-month period read as the calendar year or rolling months (VAL-001).",
                "The registry expires at another time than its declared reading.",
            )
        ],
        requirements=["VAL-001", "VAL-002"],
        profiles=("expiry",),
    )

for _wh, _minutes in (("1500", 60), ("300", 15)):

    def _capacity(t: Tape, wh: str = _wh, minutes: int = _minutes) -> None:
        start, end = t.hour(9, minutes=minutes)
        t.send(
            "submit_production",
            ISSUER,
            device_id=SOLAR,
            meter_id="M-SOLAR",
            start=start,
            end=end,
            energy_wh=wh,
        )

    add(
        AREA,
        CAST,
        f"capacity-{_wh}-in-{_minutes}-minutes",
        f"{_wh} Wh in {_minutes} minutes from a 1000 W device: refused under the nameplate check",
        _capacity,
        flags=[
            flag(
                "CapacityPlausibility",
                "Whether reported energy is checked against the device's capacity (PROD-005).",
                "The registry certifies impossible production, or refuses plausible production, against its declared policy.",
            )
        ],
        requirements=["PROD-005"],
    )


def _deduction(t: Tape) -> None:
    moved = transfer(t, ALICE, issue(t, 10, "1000"), BOB, 900)
    cancel(t, BOB, moved.get("bundle_id"), quantity=400)
    start, end = t.hour(10)
    t.send("correct_production", ISSUER, device_id=WIND, start=start, end=end, energy_wh="600")
    issue(t, 11, "1000")


add(
    AREA,
    CAST,
    "correction-deduction-other-hour",
    "a 300 Wh deduction owed by hour 10 when the next issuance is hour 11 of the same day",
    _deduction,
    flags=[
        flag(
            "DeductionTarget",
            "Which issuance a D10 deduction is taken from (CORR-005).",
            "The deduction lands on another issuance than the declared policy names.",
        )
    ],
    requirements=["CORR-005", "CORR-003"],
)
