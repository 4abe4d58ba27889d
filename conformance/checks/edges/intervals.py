"""Production intervals at their edges: adjacent hours, an interval ending now, and
timestamps with non-zero UTC offsets."""

from __future__ import annotations

from gc_conformance.adapter import IssuanceStyle
from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    CRITICAL,
    MAJOR,
    WIND,
    EdgeFailed,
    production,
    refused,
    shifted,
)
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    Session,
    stamp,
)

# ====================================================================== intervals at their edges


@check(
    "edges.issuance.adjacent_and_one_second_overlaps",
    requirements=["DC-001", "TIME-002", "TIME-004"],
)
def adjacent_intervals(s: Session) -> None:
    """Back-to-back hours are both issued; an interval overlapping issued production by one
    second is refused; 60 minutes is accepted and 60 minutes and one second refused."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    meter = w.meters[WIND]
    h1, h1_end = s.hour(1)
    h2, h2_end = s.hour(2)
    s.accept("submit_production", ISSUER_ID, **production(s, WIND, meter, h1, h1_end, 100))
    s.accept("submit_production", ISSUER_ID, **production(s, WIND, meter, h2, h2_end, 100))
    h0, h0_end = s.hour(0)  # ends where issued production starts
    s.accept("submit_production", ISSUER_ID, **production(s, WIND, meter, h0, h0_end, 100))
    for start, end in (
        (shifted(h2_end, seconds=-1), shifted(h2_end, minutes=30)),  # last second of hour 2
        (shifted(h0, minutes=30), shifted(h1, seconds=1)),  # first second of hour 1
        (shifted(h1, minutes=59, seconds=59), shifted(h2, seconds=1)),  # across the seam
    ):
        refused(s, "submit_production", ISSUER_ID, f"{start}..{end} overlaps issued production",
                requirements=("DC-001",), **production(s, WIND, meter, start, end, 1))  # fmt: skip
    h5, _ = s.hour(5)
    refused(s, "submit_production", ISSUER_ID, "the interval lasts 60 minutes and 1 second",
            requirements=("TIME-002",),
            **production(s, WIND, meter, h5, shifted(h5, hours=1, seconds=1), 10))  # fmt: skip
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, meter, h5, shifted(h5, hours=1), 10))  # fmt: skip
    h7, _ = s.hour(7)
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, meter, h7, shifted(h7, minutes=59, seconds=59), 10))  # fmt: skip
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, meter, shifted(h7, minutes=59, seconds=59),
                          shifted(h7, hours=1), 1))  # fmt: skip


@check("edges.production.interval_ending_now", requirements=["PROD-006"])
def interval_ending_now(s: Session) -> None:
    """Production whose interval ends exactly now has ended and is accepted; one second later
    is refused (needs a clock the suite controls)."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    s.require_clock()
    w = s.world()
    now = stamp(s.now)
    refused(s, "submit_production", ISSUER_ID, "the interval ends one second from now",
            requirements=("PROD-006",),
            **production(s, WIND, w.meters[WIND], shifted(now, minutes=-59, seconds=1),
                         shifted(now, seconds=1), 10))  # fmt: skip
    s.accept("submit_production", ISSUER_ID,
             **production(s, WIND, w.meters[WIND], shifted(now, hours=-1), now, 10))  # fmt: skip


@check("edges.timestamps.non_zero_utc_offsets", requirements=["TIME-001"])
def non_zero_offsets(s: Session) -> None:
    """A stamp with a non-zero UTC offset (``+02:00``, ``-05:30``) is refused: only strict UTC
    ``...Z`` is accepted; a registry that took one as UTC wall time would move the hour."""
    s.require_style(IssuanceStyle.PRODUCTION_DATA)
    w = s.world()
    start, end = s.hour(10)
    for offset, hours in (("+02:00", 2), ("-05:30", -5.5), ("+14:00", 14)):
        local_start = _local(start, hours) + offset
        local_end = _local(end, hours) + offset
        before = s.snapshot()
        answer = s.send("submit_production", ISSUER_ID, expectation="reject INVALID_TIMESTAMP",
                        **production(s, WIND, w.meters[WIND], local_start, local_end, 10))  # fmt: skip
        if answer.accepted:
            shown = s.bundle(answer.result.get("bundle_id"))
            moved = shown is not None and shown.get("production_starting_interval") != start
            raise EdgeFailed(
                f"a production interval stamped with the UTC offset {offset} was accepted"
                + (" and recorded at another instant than the one it names" if moved else ""),
                expected=f"refused INVALID_TIMESTAMP (the same instant is {start}..{end})",
                observed=f"accepted; recorded as "
                f"{None if shown is None else shown.get('production_starting_interval')}",
                severity=CRITICAL if moved else MAJOR,
                requirements=("TIME-001",),
            )
        try:
            s.require_unchanged(before, f"the refused reading stamped {offset}")
        except CheckFailed as exc:
            raise EdgeFailed(exc.message, expected=exc.expected, observed=exc.observed,
                             severity=CRITICAL, requirements=("IT-001",)) from None  # fmt: skip


def _local(utc: str, hours: float) -> str:
    """The wall-clock time at UTC ``+hours`` of a UTC stamp, without its zone designator."""
    return shifted(utc, hours=hours)[:-1]
