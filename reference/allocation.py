"""SCR -> SDR allocation methods (D7, D13) and the indices that keep them O(n log n).

The method is fixed per storage system at registration; the API specification
names four. Each planner is pure: it reads remaining volumes and returns
``(scr_id, wh)`` pieces for one discharge record, never changing anything.

``FIFO``               oldest charge first
``LIFO``               most recent charge (before the discharge) first
``WEIGHTED_AVERAGE``   every eligible charge record gives in proportion to what it
                       still holds (whole Wh by largest remainder, ties to the older)
``OPERATOR_DISCRETION`` the operator lists ``(scr_id, sdr_id, wh)`` itself; the
                       registry only validates the list

Eligible charge records for a discharge are those whose interval ended no later
than the discharge began, whose losses are known, and that still hold Wh.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence


class AllocationMethod(enum.Enum):
    FIFO = "first in, first out: the oldest charged energy leaves first"
    LIFO = "last in, first out: the most recently charged energy leaves first"
    WEIGHTED_AVERAGE = "each discharge takes from every stored charge in proportion"
    OPERATOR_DISCRETION = "the storage operator lists the allocations; the registry validates"


class AliveIndex:
    """Positions 0..n-1 in time order, some exhausted; find the nearest alive one quickly.

    Two union-find forests ("next alive at or after i", "previous alive at or
    before i") with path halving. The pointers are a cache over the remaining
    volumes, so following (and shortening) them is not a state change.
    """

    def __init__(self) -> None:
        self._next: list[int] = []
        self._prev: list[int] = []

    def __len__(self) -> int:
        return len(self._next)

    def append(self) -> None:
        i = len(self._next)
        self._next.append(i)
        self._prev.append(i)

    def kill(self, i: int) -> None:
        self._next[i] = i + 1
        self._prev[i] = i - 1

    def next_alive(self, i: int) -> int | None:
        """Smallest alive position >= i, or None."""
        n = len(self._next)
        parent = self._next
        while i < n and parent[i] != i:
            nxt = parent[i]
            if nxt < n and parent[nxt] != nxt:
                parent[i] = parent[nxt]
            i = parent[i]
        return i if i < n else None

    def prev_alive(self, i: int) -> int | None:
        """Largest alive position <= i, or None."""
        parent = self._prev
        while i >= 0 and parent[i] != i:
            prv = parent[i]
            if prv >= 0 and parent[prv] != prv:
                parent[i] = parent[prv]
            i = parent[i]
        return i if i >= 0 else None


def take_in_order(
    need: int,
    positions: Callable[[], int | None],
    advance: Callable[[int], int | None],
    available: Callable[[int], int],
) -> list[tuple[int, int]]:
    """Walk alive positions (FIFO forwards, LIFO backwards) taking Wh until ``need`` is met."""
    pieces: list[tuple[int, int]] = []
    position = positions()
    while need > 0 and position is not None:
        have = available(position)
        if have > 0:
            take = min(have, need)
            pieces.append((position, take))
            need -= take
        position = advance(position)
    return pieces


def weighted_shares(need: int, holdings: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split ``min(need, total)`` Wh over ``(position, available)`` in proportion, whole Wh.

    Each gets ``floor(take x available / total)``; the Wh left over go one by one
    to the largest fractional remainders, ties to the earlier position.
    """
    holdings = [(p, a) for p, a in holdings if a > 0]
    total = sum(a for _, a in holdings)
    take = min(need, total)
    if take <= 0:
        return []
    shares: list[list[int]] = []
    remainders: list[tuple[int, int, int]] = []
    for index, (position, have) in enumerate(holdings):
        whole, rest = divmod(take * have, total)
        shares.append([position, whole])
        remainders.append((-rest, position, index))
    left = take - sum(s[1] for s in shares)
    for _, _, index in sorted(remainders)[:left]:
        shares[index][1] += 1
    return [(p, wh) for p, wh in shares if wh > 0]
