"""Queries at their edges: the production-period window bounds (IT-003)."""

from __future__ import annotations

from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    MAJOR,
    EdgeFailed,
    issue_wh,
    shifted,
)
from gc_conformance.session import (
    ISSUER_ID,
    Session,
)

# ====================================================================== queries at their edges


@check("edges.query.production_period_bounds", requirements=["IT-003"])
def query_period_bounds(s: Session) -> None:
    """A query by production period matches the bundles whose interval overlaps it: a window
    ending where an interval starts, or starting where it ends, does not match it. A window
    whose end comes before its start holds no instant, so it matches nothing: it is refused
    as malformed or answered without the bundle, never with it (IT-003; a registry that swaps
    the ends answers for a window nobody asked about)."""
    w = s.world()
    bundle = issue_wh(s, w, 100, hour=5)
    start, end = s.hour(5)
    cases = (
        (shifted(start, hours=-1), start, False),  # ends where the interval starts
        (end, shifted(end, hours=1), False),  # starts where the interval ends
        (shifted(start, hours=-1), shifted(start, seconds=1), True),  # its first second
        (shifted(end, seconds=-1), shifted(end, hours=1), True),  # its last second
        (shifted(start, minutes=30), shifted(start, minutes=20), False),  # reversed, inside it
        (shifted(start, seconds=1), start, False),  # reversed by one second at its start
    )
    for low, high, matches in cases:
        if high < low:  # reversed: refused as malformed (IT-004) it matches nothing either
            answer = s.send("query", ISSUER_ID, start=low, end=high)
            if not answer.accepted:
                continue
            found = answer.result.get("bundles")
        else:
            found = s.accept("query", ISSUER_ID, start=low, end=high).get("bundles")
        ids = [b.get("bundle_id") for b in found] if isinstance(found, list) else None
        if ids is None or (bundle in ids) != matches:
            raise EdgeFailed(
                f"a query for production between {low} and {high} "
                + ("must return" if matches else "must not return")
                + f" the bundle produced {start}..{end}",
                expected="included" if matches else "not included",
                observed=str(ids),
                severity=MAJOR,
                requirements=("IT-003",),
            )
