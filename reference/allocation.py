"""SCR -> SDR allocation methods (D7, D13) and the index that keeps them O(n log n).

The method is fixed per storage system at registration; the API specification
names four. Each planner is pure: it reads remaining volumes and returns
``(position, wh)`` pieces for one discharge record, never changing anything.

``FIFO``               oldest charge first
``LIFO``               most recent charge (before the discharge) first
``WEIGHTED_AVERAGE``   every eligible charge record gives in proportion to what it
                       still holds (whole Wh by largest remainder, ties to the older)
``OPERATOR_DISCRETION`` the operator lists ``(scr_id, sdr_id, wh)`` itself; the
                       registry only validates the list

Eligible charge records for a discharge are those whose interval ended no later
than the discharge began (a prefix of the time-ordered records), whose losses
are known, and that still hold Wh.

Cost. :class:`Holdings` is a segment tree over the Wh each charge record still
holds; a decision reads it through a :class:`HoldingsView`, whose changes stay in
the view (the tree changes only when effects are applied). FIFO and LIFO find
each next record holding Wh in O(log n); every piece they plan either empties a
record or completes the discharge, so n records cost O(n log n).
:func:`weighted_take` gives exactly :func:`weighted_shares`' result without
visiting the pool: the total held is a prefix sum, the records whose share is at
least 1 Wh are enumerated largest first, and the left-over Wh go to the next
largest remainders, which among the records whose share is 0 are simply the next
largest holdings. Its cost is O((k + 1) log^2 n) for k pieces planned: the pieces
are the result (each is an ``Allocated`` effect), so no method can plan them in less.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload


class AllocationMethod(enum.Enum):
    FIFO = "first in, first out: the oldest charged energy leaves first"
    LIFO = "last in, first out: the most recently charged energy leaves first"
    WEIGHTED_AVERAGE = "each discharge takes from every stored charge in proportion"
    OPERATOR_DISCRETION = "the storage operator lists the allocations; the registry validates"


# ================================================================ the holdings index


class Holdings:
    """Wh still held by positions 0..n-1 (charge records in time order), as a segment tree.

    Each node keeps the sum and the maximum of its leaves. Changed only by
    :meth:`append` and :meth:`set` (the storage book calls them when it applies
    effects); every query goes through a :meth:`view` and never writes here.
    """

    __slots__ = ("_count", "_max", "_size", "_sum")

    def __init__(self) -> None:
        self._size = 1  # leaves (a power of two); leaf of position p is node size + p
        self._count = 0
        self._sum: list[int] = [0, 0]
        self._max: list[int] = [0, 0]

    def __len__(self) -> int:
        return self._count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Holdings):
            return NotImplemented
        return (self._count, self._sum, self._max) == (other._count, other._sum, other._max)

    def __repr__(self) -> str:
        return f"Holdings({self.values()!r})"

    def values(self) -> list[int]:
        return self._sum[self._size : self._size + self._count]

    def append(self, value: int) -> None:
        if self._count == self._size:
            self._grow()
        self._count += 1
        self.set(self._count - 1, value)

    def set(self, position: int, value: int) -> None:
        if not 0 <= position < self._count or value < 0:
            raise IndexError(f"position {position} (of {self._count}) to {value}")
        node = self._size + position
        sums, maxes = self._sum, self._max
        delta = value - sums[node]
        sums[node] = maxes[node] = value
        above = node >> 1
        while above:  # every sum above changes by delta
            sums[above] += delta
            above >>= 1
        node >>= 1
        while node:  # a maximum changes only as long as the one below it did
            left, right = maxes[2 * node], maxes[2 * node + 1]
            top = left if left >= right else right
            if maxes[node] == top:
                break
            maxes[node] = top
            node >>= 1

    def _grow(self) -> None:
        leaves = self.values()
        size = 2 * self._size
        sums = [0] * (2 * size)
        sums[size : size + len(leaves)] = leaves
        maxes = list(sums)
        for node in range(size - 1, 0, -1):
            sums[node] = sums[2 * node] + sums[2 * node + 1]
            maxes[node] = max(maxes[2 * node], maxes[2 * node + 1])
        self._size, self._sum, self._max = size, sums, maxes

    def view(self) -> HoldingsView:
        return HoldingsView(self)


class HoldingsView:
    """What a decision sees: the tree, plus the changes planned so far (kept here only).

    A planned change is only noted; the nodes above it are recomputed (in the
    view's own overlay) when the next query needs them, so the last changes of a
    decision, which nothing reads, cost nothing.
    """

    __slots__ = ("_max", "_planned", "_sum", "_tree")

    def __init__(self, tree: Holdings) -> None:
        self._tree = tree
        self._sum: dict[int, int] = {}
        self._max: dict[int, int] = {}
        self._planned: dict[int, int] = {}  # position -> Wh, not yet in the overlay

    def _s(self, node: int) -> int:
        value = self._sum.get(node)
        return self._tree._sum[node] if value is None else value

    def _m(self, node: int) -> int:
        value = self._max.get(node)
        return self._tree._max[node] if value is None else value

    def value(self, position: int) -> int:
        planned = self._planned.get(position)
        return self._s(self._tree._size + position) if planned is None else planned

    def set(self, position: int, value: int) -> None:
        """Plan ``position`` to hold ``value`` Wh (in this view only)."""
        if not 0 <= position < self._tree._count or value < 0:
            raise IndexError(f"position {position} (of {self._tree._count}) to {value}")
        self._planned[position] = value

    def _flush(self) -> None:
        size = self._tree._size
        sums, maxes = self._sum, self._max
        above: set[int] = set()
        for position, value in self._planned.items():
            node = size + position
            sums[node] = maxes[node] = value
            while node > 1:
                node >>= 1
                above.add(node)
        self._planned.clear()
        for node in sorted(above, reverse=True):  # children (larger numbers) before parents
            left, right = self._m(2 * node), self._m(2 * node + 1)
            sums[node] = self._s(2 * node) + self._s(2 * node + 1)
            maxes[node] = left if left >= right else right

    def _cover(self, lo: int, hi: int) -> list[int]:
        """The O(log n) nodes exactly covering positions [lo, hi), left to right."""
        size = self._tree._size
        hi = min(hi, self._tree._count)
        left: list[int] = []
        right: list[int] = []
        lo, hi = max(lo, 0) + size, hi + size
        while lo < hi:
            if lo & 1:
                left.append(lo)
                lo += 1
            if hi & 1:
                hi -= 1
                right.append(hi)
            lo >>= 1
            hi >>= 1
        return left + right[::-1]

    def total(self, bound: int) -> int:
        """Wh held by positions [0, bound)."""
        if self._planned:
            self._flush()
        return sum(self._s(node) for node in self._cover(0, bound))

    def first(self, lo: int, hi: int) -> int | None:
        """Smallest position in [lo, hi) holding Wh, or None."""
        if self._planned:
            self._flush()
        hi = min(hi, self._tree._count)
        if lo >= hi:
            return None
        size = self._tree._size
        node = size + lo
        if self._m(node) <= 0:
            # Climb while everything from lo to the end of node's range is empty; the
            # first right sibling holding Wh contains the answer.
            while True:
                if node == 1:
                    return None
                if not node & 1 and self._m(node + 1) > 0:
                    node = self._descend(node + 1, leftmost=True)
                    break
                node >>= 1
        position = node - size
        return position if position < hi else None

    def last(self, lo: int, hi: int) -> int | None:
        """Largest position in [lo, hi) holding Wh, or None."""
        if self._planned:
            self._flush()
        hi = min(hi, self._tree._count)
        if lo >= hi:
            return None
        size = self._tree._size
        node = size + hi - 1
        if self._m(node) <= 0:
            while True:
                if node == 1:
                    return None
                if node & 1 and self._m(node - 1) > 0:
                    node = self._descend(node - 1, leftmost=False)
                    break
                node >>= 1
        position = node - size
        return position if position >= lo else None

    def _descend(self, node: int, *, leftmost: bool) -> int:
        """The leaf node holding Wh furthest left (right) under ``node``, which holds some."""
        size = self._tree._size
        while node < size:
            node *= 2
            if leftmost:
                if self._m(node) <= 0:
                    node += 1
            elif self._m(node + 1) > 0:
                node += 1
        return node

    def largest(self, bound: int) -> Iterator[tuple[int, int]]:
        """``(position, Wh)`` of positions [0, bound) holding Wh: most Wh first, ties older first.

        Best-first over the tree: the nodes on the heap cover disjoint ranges, so
        ordering equal maxima by where their range starts is the position order.
        """
        if self._planned:
            self._flush()
        size = self._tree._size
        heap: list[tuple[int, int, int, int]] = []  # (-max, start, node, span)
        for node in self._cover(0, bound):
            top = self._m(node)
            if top > 0:
                span = size >> (node.bit_length() - 1)
                heap.append((-top, (node - size // span) * span, node, span))
        heapq.heapify(heap)
        push, pop, m = heapq.heappush, heapq.heappop, self._m
        while heap:
            negative, start, node, span = pop(heap)
            # Down to the node's leftmost leaf holding its maximum; the other child at each
            # level goes on the heap (disjoint ranges, so the order above stays exact).
            while node < size:
                span >>= 1
                node *= 2
                left, right = m(node), m(node + 1)
                if left >= right:
                    if right > 0:
                        push(heap, (-right, start + span, node + 1, span))
                else:
                    if left > 0:
                        push(heap, (-left, start, node, span))
                    node += 1
                    start += span
            yield node - size, -negative


# ================================================================ the planners


def take_in_order(
    view: HoldingsView, need: int, bound: int, *, newest_first: bool
) -> list[tuple[int, int]]:
    """FIFO (oldest first) or LIFO (newest first) over positions [0, bound) until ``need`` is met."""
    pieces: list[tuple[int, int]] = []
    cursor = view.last(0, bound) if newest_first else view.first(0, bound)
    while need > 0 and cursor is not None:
        take = min(view.value(cursor), need)
        pieces.append((cursor, take))
        need -= take
        cursor = view.last(0, cursor) if newest_first else view.first(cursor + 1, bound)
    return pieces


def weighted_take(view: HoldingsView, need: int, bound: int) -> list[tuple[int, int]]:
    """:func:`weighted_shares` over the positions [0, bound) holding Wh, in position order.

    Same result, without visiting every holding: with ``take`` Wh to give out of
    ``total`` held, a holding ``a`` gets ``floor(take x a / total)``, which is at
    least 1 exactly when ``take x a >= total``; those come first from
    :meth:`HoldingsView.largest`. The rest have share 0 and remainder ``take x a``,
    so their remainders rank as their holdings do (ties to the older), which is the
    order :meth:`~HoldingsView.largest` continues in. The left-over Wh go to the
    largest remainders of the two streams merged.
    """
    total = view.total(bound)
    take = min(need, total)
    if take <= 0:
        return []
    if take == total:  # everything held goes
        pieces: list[tuple[int, int]] = []
        position = view.first(0, bound)
        while position is not None:
            pieces.append((position, view.value(position)))
            position = view.first(position + 1, bound)
        return pieces
    ranked = view.largest(bound)
    shares: dict[int, int] = {}
    remainders: list[tuple[int, int]] = []  # (-remainder, position) of the shares >= 1 Wh
    small: tuple[int, int] | None = None  # the largest holding whose share is 0
    given = 0
    for position, have in ranked:
        whole, rest = divmod(take * have, total)
        if not whole:
            small = (position, have)
            break
        shares[position] = whole
        given += whole
        if rest:
            remainders.append((-rest, position))
    remainders.sort()
    index = 0
    for _ in range(take - given):
        # Each left-over Wh goes to the larger remainder of the two streams (ties: older).
        big = remainders[index] if index < len(remainders) else None
        if small is not None and (big is None or (-take * small[1], small[0]) < big):
            shares[small[0]] = 1
            small = next(ranked, None)
        else:
            assert big is not None  # more Wh left over than holdings cannot happen
            shares[big[1]] += 1
            index += 1
    return sorted(shares.items())


def weighted_shares(need: int, holdings: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split ``min(need, total)`` Wh over ``(position, available)`` in proportion, whole Wh.

    Each gets ``floor(take x available / total)``; the Wh left over go one by one
    to the largest fractional remainders, ties to the earlier position. This is
    the definition (it visits every holding); :func:`weighted_take` computes the
    same from the index.
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


# ================================================================ allocation lists on records


class AllocationLog(Sequence[tuple[str, int]]):
    """An immutable sequence of ``(record_id, Wh)`` that is extended in O(1).

    :meth:`plus` returns a new log and leaves this one showing exactly what it
    showed. Logs extended one from the other share one append-only list, each
    seeing its own length of it; extending a log that is not the newest copies
    its part first. So a record's allocations grow without copying them all on
    every allocation (which made n allocations to one record cost O(n^2)).
    """

    __slots__ = ("_items", "_length")

    def __init__(self, items: Iterable[tuple[str, int]] = ()) -> None:
        self._items: list[tuple[str, int]] = list(items)
        self._length = len(self._items)

    def plus(self, item: tuple[str, int]) -> AllocationLog:
        items = self._items
        if self._length == len(items):
            items.append(item)
        else:
            items = [*items[: self._length], item]
        log = AllocationLog.__new__(AllocationLog)
        log._items = items
        log._length = self._length + 1
        return log

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> tuple[str, int]: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[str, int], ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return tuple(self._items[: self._length][index])
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("allocation index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        items = self._items
        for index in range(self._length):
            yield items[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AllocationLog):
            if other._items is self._items:
                return other._length == self._length
            return tuple(self) == tuple(other)
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"AllocationLog({tuple(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (AllocationLog, (tuple(self),))


def allocation_log(value: Iterable[tuple[str, int]]) -> AllocationLog:
    """attrs converter: a tuple (or any iterable) of ``(record_id, Wh)`` as a log."""
    return value if isinstance(value, AllocationLog) else AllocationLog(value)
