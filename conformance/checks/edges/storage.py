"""Storage pools of three records: allocation over more than two SCRs and SDRs (D7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gc_conformance.adapter import Profile
from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    CRITICAL,
    EdgeFailed,
)
from gc_conformance.session import (
    ISSUER_ID,
    Session,
)

# ====================================================================== storage pools of three


def _pool_of_three(s: Session, method: str) -> tuple[Any, tuple[Any, Any, Any], int]:
    """Three backed charges (wind, solar, wind; 1000 Wh each, 800 Wh net under the start-up
    efficiency of 4/5) in intervals n, n+1, n+2 of a storage system allocating by ``method``."""
    from gc_conformance.checks import storage as st

    sw = st.storage_world(s, allocation=(method,))
    n = st.commission(s, sw)
    charges = tuple(
        st.backed_charge(s, sw, n + i, device)[0]
        for i, device in enumerate(("DEV-WIND", "DEV-SOLAR", "DEV-WIND"))
    )
    return sw, (charges[0], charges[1], charges[2]), n + 3


#: Per method: the first discharge (1200 Wh) and the second (800 Wh), by charge (A, B, C).
_POOL_EXPECTED = {
    "FIFO": ({0: 800, 1: 400}, {1: 400, 2: 400}),
    "LIFO": ({2: 800, 1: 400}, {1: 400, 0: 400}),
    "WEIGHTED_AVERAGE": ({0: 400, 1: 400, 2: 400}, {0: 267, 1: 267, 2: 266}),
}


@check(
    "edges.storage.pool_of_three",
    requirements=["STOR-018", "STOR-020", "STOR-021", "STOR-022", "STOR-024"],
    profile=Profile.STORAGE,
)
def storage_pool_of_three(s: Session) -> None:
    """A pool of three charge records: discharges spanning two and three of them follow the
    declared method; a discharge asking more than the pool holds gets no more than is there."""
    from gc_conformance.checks import storage as st

    method = st.choose_policy(s, "allocation_method", "FIFO", ("FIFO", "LIFO", "WEIGHTED_AVERAGE"))
    rule = {"FIFO": "STOR-020", "LIFO": "STOR-021", "WEIGHTED_AVERAGE": "STOR-022"}[method]
    sw, charges, n = _pool_of_three(s, method)
    first = st.record(s, sw, "DISCHARGING", n, 1200)
    st.allocate(s, sw, [first])
    expected_first, _ = _POOL_EXPECTED[method]
    _expect_pool(s, sw, first, {charges[i]: wh for i, wh in expected_first.items()}, method, rule)
    if method == "WEIGHTED_AVERAGE":
        return  # the second discharge's thirds round: how is not said (STOR-022 is about shares)
    second = st.record(s, sw, "DISCHARGING", n + 1, 800)
    st.allocate(s, sw, [second])
    _, expected_second = _POOL_EXPECTED[method]
    _expect_pool(s, sw, second, {charges[i]: wh for i, wh in expected_second.items()}, method, rule)
    # 400 net Wh are left in the pool: a discharge of 401 asks for more than is there
    over = st.record(s, sw, "DISCHARGING", n + 2, 401)
    s.send("allocate_storage", sw.operator, storage_id=st.STORAGE_ID, sdr_ids=[over])
    given = sum(st.allocations_seen(s, sw).get(over, {}).values())
    if given > 400:
        raise EdgeFailed(
            "a discharge was allocated more energy than the pool had left",
            expected="at most the 400 net Wh left (each net Wh of a charge goes to one discharge)",
            observed=f"{given} Wh allocated",
            severity=CRITICAL,
            requirements=("STOR-018",),
        )
    answer = s.send("issue_storage_gc", ISSUER_ID, expectation="reject", sdr_id=over)
    if answer.accepted:
        raise EdgeFailed(
            "an SD-GC was issued for a discharge the pool could not fully cover",
            expected="refused (an SD-GC only for a fully allocated discharge record)",
            observed=f"accepted {dict(answer.result)}",
            severity=CRITICAL,
            requirements=("STOR-024",),
        )


def _expect_pool(
    s: Session, sw: Any, sdr: Any, expected: Mapping[Any, int], method: str, rule: str
) -> None:
    from gc_conformance.checks import storage as st

    observed = {k: v for k, v in st.allocations_seen(s, sw).get(sdr, {}).items() if v}
    if observed != dict(expected):
        raise EdgeFailed(
            f"a discharge spanning several charge records of a pool of three is not allocated "
            f"by {method}",
            expected=str(dict(expected)),
            observed=str(observed),
            severity=CRITICAL,
            requirements=(rule, "STOR-018"),
        )
