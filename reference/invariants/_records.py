"""The replay's own state records: a live bundle, a production interval, a device, an index.

Mutable on purpose (the replay updates them in place as effects arrive, over histories
of millions of actions), and private: nothing outside the checker sees them.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from decimal import Decimal
from typing import Any

import attrs


@attrs.define
class _Live:
    """Replay state of one bundle."""

    issuance_id: Any
    start: int
    end: int
    account: Any
    status: str
    expiry: _dt.datetime | None
    beneficiary: Any = None
    purpose: Any = None
    superseded: bool = False


Key = tuple[Any, _dt.datetime, _dt.datetime]  # (device, production start, production end)
_NEVER = _dt.datetime.min.replace(tzinfo=_dt.UTC)


@attrs.define
class _Production:
    """One device and production interval: Wh issued against it and recognised for it."""

    issued: int = 0
    withdrawn: int = 0
    recognised: int | None = None  # None: no reading yet
    metered: int | Decimal = 0
    deducted: int = 0  # D10 deductions recorded when this interval was corrected downward
    excess: int = 0  # Wh issued beyond what backs it (counted in its device's ``excess``)
    reported: int = 0  # the excess already reported, so a lasting one is reported once


@attrs.define
class _Device:
    issued: int = 0  # net of withdrawals
    recognised: int = 0
    metered: int | Decimal = 0
    alone: int = 0  # readings recorded without a carried remainder
    debt: int = 0  # outstanding D10 deductions, as recorded
    unbacked_debt: int = 0  # deductions recorded beyond a downward correction (reported)
    excess: int = 0  # the sum of its intervals' excesses (each reported with its interval)
    reported: int = 0
    reported_metered: int = 0


class _Scratch:
    """What one action did to production, checked when the action ends (reused, not reallocated)."""

    __slots__ = ("debts", "devices", "issues", "keys", "readings", "used", "withdrawals")

    def __init__(self) -> None:
        self.used = False
        self.issues: list[tuple[Any, Any, Key | None, int, Any]] = []
        self.withdrawals: list[tuple[Any, int]] = []
        self.readings: dict[Key, int | None] = {}  # recognised Wh before this action
        self.debts: dict[Any, int] = {}  # device -> deductions added
        self.keys: list[Key] = []  # intervals to check (repeats allowed)
        self.devices: list[Any] = []  # devices to check besides those of ``keys``

    def clear(self) -> None:
        self.used = False
        self.issues.clear()
        self.withdrawals.clear()
        self.readings.clear()
        self.debts.clear()
        self.keys.clear()
        self.devices.clear()


class _IntervalIndex:
    """One device's intervals, sorted by start: overlap queries in logarithmic time.

    Only intervals starting within the longest interval seen before ``start`` can
    overlap ``[start, end)``, so a query walks back over those alone; an interval
    starting after every end seen (a device's next hour) is answered at once.
    """

    __slots__ = ("entries", "last_end", "longest", "starts")

    def __init__(self) -> None:
        self.starts: list[_dt.datetime] = []
        self.entries: list[tuple[_dt.datetime, _dt.datetime, Any]] = []
        self.longest = _dt.timedelta(0)
        self.last_end = _NEVER

    def overlapping(
        self, start: _dt.datetime, end: _dt.datetime
    ) -> list[tuple[_dt.datetime, _dt.datetime, Any]]:
        if start >= self.last_end:
            return []
        starts, entries = self.starts, self.entries
        position = bisect.bisect_left(starts, end) - 1
        earliest = start - self.longest
        found = []
        while position >= 0 and starts[position] >= earliest:
            entry = entries[position]
            if entry[1] > start:
                found.append(entry)
            position -= 1
        return found

    def add(self, start: _dt.datetime, end: _dt.datetime, tag: Any) -> None:
        starts = self.starts
        if not starts or start >= starts[-1]:
            starts.append(start)
            self.entries.append((start, end, tag))
        else:
            at = bisect.bisect_right(starts, start)
            starts.insert(at, start)
            self.entries.insert(at, (start, end, tag))
        if end - start > self.longest:
            self.longest = end - start
        if end > self.last_end:
            self.last_end = end
