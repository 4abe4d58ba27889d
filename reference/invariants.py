"""The double-counting invariant checker (D4), over plain histories.

Input is plain data, not model objects, because the same checker judges
histories observed from third-party registries: a list of actions in the form
:meth:`ActionRecord.to_plain` produces (``action_id``, ``at``, ``action``,
``accepted``, ``effects``), and optionally the registry's reported current
state (``{"accounts": [...], "bundles": [...]}`` as ``export_state`` writes
it). Rejected actions are skipped; malformed entries are findings, never
crashes, and never a silent pass: an entry the checker cannot interpret is a
MALFORMED_HISTORY finding, whatever else it might have hidden.

Each finding names the D4 risk it evidences:

1. DOUBLE_ISSUANCE      more certificates than recognised production: two
                        issuances for one device and overlapping interval (an
                        upward D10 correction must name what it corrects and be
                        backed by a corrected reading); issued Wh above the
                        production recognised for the device and interval, or
                        for the device in total; recognised Wh above the
                        metered Wh (beyond rounding); production recognised
                        twice; a D10 deduction not backed by a downward
                        correction
2. DOUBLE_IN_TRANSFER   a transfer of a bundle that was not live in the source
                        account, to the source account itself or to an unknown
                        account, or a bundle acted on after it was superseded
3. DOUBLE_REGISTRATION  a certificate ID or bundle ID issued twice (e.g. reused
                        after a withdrawal)
4. DOUBLE_CANCELLATION  cancelling certificates that were no longer live
5. DOUBLE_USE           claiming certificates not cancelled for consumption, or
                        claimed already
6. DOUBLE_DISCLOSURE    a claim by someone other than the beneficiary the
                        certificates were cancelled for, or on certificates
                        cancelled for storage charging

plus VALIDITY (D8: certificates transferred, cancelled, reserved, released or
exported at or after their expiry, expired before it, or left live by an expiry
sweep after it), CONSERVATION (an issuance's certificates are not
exactly partitioned by its current bundles), STATE_MISMATCH (the reported
state disagrees with the history) and MALFORMED_HISTORY.

Production accounting (risk 1). Issuances are attributed to the device and
production interval they name; ``reading`` effects give the Wh recognised for
each (the latest reading of an interval replaces the earlier ones: a D10
correction). SD-GC issuances (named by an ``sd_gc`` effect) are left to the
storage checks. Checked at the end of every action that touches them:

* per device and interval, exactly (all whole Wh): issued - withdrawn <=
  recognised + the D10 deductions recorded when that interval was corrected
  downward (certificates that could no longer be withdrawn);
* per device: issued - withdrawn <= recognised + outstanding deductions (so a
  deduction marked settled must have been taken from a later issuance), where a
  deduction counts only up to the recognised Wh a downward correction removed
  in the same action;
* per device: recognised <= floor(metered + (1 + n) / 2), metered summed over
  the latest reading of each interval and n the number of readings recorded
  without a carried remainder (``carried_wh`` absent or null). A registry that
  rounds each device's running total (carrying the sub-Wh remainder, halves
  up or down) keeps recognised <= round-half-up(metered) exactly; one that
  rounds each reading alone gains at most half a Wh per reading. Per interval
  no sound bound exists: carrying moves up to a Wh between readings, and
  corrections can stack those moves, so the metered comparison is per device
  only.

An issuance needs its reading in the same action or an earlier one. An upward
correction (``corrects_issuance_id``) needs, in the same action, a reading of
the same device and interval that raises the recognised Wh.

Validity (D8) is judged at the action's ``at`` against the issuance's
``expiry`` (the first instant it is no longer valid): accepted actions must be
in time order. Claims are not judged: a claim uses certificates cancelled
while valid. An action named ``expire`` is an expiry sweep: every bundle still
live after it whose validity ended by then is a finding.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import enum
import gc
import heapq
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_FLOOR, Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import Any

import attrs
import networkx as nx

from gc_conformance.reference.lineage import (
    LIVE,
    SPLIT,
    STATUSES,
    TERMINAL,
    bundle_node,
    issuance_node,
    leaves,
    outcome_node,
)
from gc_conformance.reference.storage_checks import STORAGE_EFFECTS, StorageReplay
from gc_conformance.reference.timestamps import parse_timestamp


class Risk(enum.Enum):
    DOUBLE_ISSUANCE = "D4 risk 1: more than one certificate for the same energy"
    DOUBLE_IN_TRANSFER = "D4 risk 2: a certificate in two accounts at once"
    DOUBLE_REGISTRATION = "D4 risk 3: the same certificate registered more than once"
    DOUBLE_CANCELLATION = "D4 risk 4: the same certificate cancelled more than once"
    DOUBLE_USE = "D4 risk 5: a cancelled certificate used for more than one claim"
    DOUBLE_DISCLOSURE = "D4 risk 6: attributes claimed other than by cancelling the certificate"
    VALIDITY = "D8: a certificate used outside its validity, or left live after an expiry sweep"
    CONSERVATION = "Wh of an issuance not exactly accounted for by its bundles"
    STATE_MISMATCH = "the registry's reported state disagrees with its own history"
    MALFORMED_HISTORY = "a history entry could not be read"
    # --- storage (D7) ---
    STORAGE_OVERALLOCATION = "storage Wh given out beyond what was charged or discharged"
    STORAGE_LINEAGE = "a storage record or SD-GC without the cancelled inputs behind it"


@attrs.frozen
class Finding:
    risk: Risk
    message: str
    action_id: Any = None
    bundle_id: Any = None

    def to_plain(self) -> dict[str, Any]:
        return {
            "risk": self.risk.name,
            "message": self.message,
            "action_id": self.action_id,
            "bundle_id": self.bundle_id,
        }


@attrs.frozen
class InvariantReport:
    findings: tuple[Finding, ...]
    actions_checked: int
    graph: nx.DiGraph = attrs.field(eq=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_risk(self, risk: Risk) -> list[Finding]:
        return [f for f in self.findings if f.risk is risk]


class _Malformed(ValueError):
    """An effect that cannot be interpreted; it is reported and not replayed."""


_HOUR = _dt.timedelta(hours=1)
_WIRE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
# Exact decimal sums of metered Wh (an inexact result is reported as malformed, never rounded).
_EXACT = Context(prec=400, traps=[Inexact, InvalidOperation, Overflow])
_HALF = Decimal("0.5")
_PURPOSE = {"CANCELLED": "CONSUMPTION", "CANCELLED_FOR_STORAGE": "STORAGE_CHARGE"}
# Status changes that use or move certificates: only while valid (D8). CLAIMED is not one
# (the certificates were cancelled, while valid, before), nor WITHDRAWN (the issuer taking
# certificates out of circulation never counts them twice).
_NEEDS_VALIDITY = frozenset(
    {"CANCELLED", "CANCELLED_FOR_STORAGE", "RESERVED", "LOCKED", "EXPORTED", "ACTIVE"}
)
# Whole-Wh fields of storage effects (read by storage_checks with int(), which would
# truncate a float): the least value each may take; None may stand where the model writes it.
_STORAGE_NUMBERS: dict[str, tuple[tuple[str, int, bool], ...]] = {
    "scr": (("charging_energy", 0, False), ("loss_wh", 0, True)),
    "sdr": (("discharge_energy", 0, False),),
    "storage_loss": (("loss_wh", 0, False),),
    "scr_source": (("quantity", 1, False),),
    "storage_allocation": (("wh", -(2**63), False),),  # <= 0 is the storage checks' finding
    "sd_gc": (("quantity", 1, False),),
    "efficiency_factor": (("charged_wh", 0, False), ("discharged_wh", 0, False)),
}


def _whole(value: Any, field: str, least: int | None = None) -> int:
    """A strict integer (a bool, float or numeric string is malformed, never truncated)."""
    if type(value) is not int:
        raise _Malformed(f"{field} {value!r} is not an integer")
    if least is not None and value < least:
        raise _Malformed(f"{field} {value!r} is below {least}")
    return value


def _identifier(value: Any, field: str) -> Any:
    if value is None or isinstance(value, bool):
        raise _Malformed(f"{field} {value!r} is not an identifier")
    hash(value)  # an unhashable identifier raises TypeError: malformed
    return value


def _named(value: Any) -> bool:
    """A beneficiary or claimant is given: not missing, null or blank text."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _energy(value: Any, field: str) -> Decimal:
    """Metered Wh: a non-negative finite number, as exact text or a JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Malformed(f"{field} {value!r} is not a number of Wh")
    try:
        energy = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        raise _Malformed(f"{field} {value!r} is not a number of Wh") from None
    if not energy.is_finite() or energy < 0:
        raise _Malformed(f"{field} {value!r} is not a non-negative finite number of Wh")
    return energy


def _fmt(moment: _dt.datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


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


class _Replay:
    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self.findings: list[Finding] = []
        self.bundles: dict[Any, _Live] = {}
        self.issuances: dict[Any, tuple[int, int]] = {}
        self.range_starts: list[int] = []
        self.range_ends: list[int] = []
        self.issued_intervals: dict[Any, _IntervalIndex] = {}
        self.read_intervals: dict[Any, _IntervalIndex] = {}
        self.action_id: Any = None
        self.storage = StorageReplay()
        self.stamps: dict[str, _dt.datetime] = {}  # wire stamp -> parsed (hours repeat a lot)
        self.pairs: dict[tuple[str, str], tuple[_dt.datetime, _dt.datetime]] = {}  # intervals
        # --- time (D8) ---
        self.at: _dt.datetime | None = None
        self.at_reported = False
        self.last_at: _dt.datetime | None = None
        self.last_at_text: Any = None
        self.expiries: list[tuple[_dt.datetime, int, Any]] = []  # a heap once a sweep runs
        # issuance -> (end of its consumption period, its production interval): from then on
        # only its own hour may be matched (D8 exemption, policy own_hour_use)
        self.own_hour: dict[Any, tuple[_dt.datetime, tuple[_dt.datetime, _dt.datetime]]] = {}
        self.heap = False
        self.pushed = 0
        # --- production (risk 1) ---
        self.production: dict[Key, _Production] = {}
        self.devices: dict[Any, _Device] = {}
        self.attributed: dict[Any, Key] = {}  # issuance -> the production it was issued for
        self.debts: dict[tuple[Any, Any], int] = {}
        self.debt_hours: dict[tuple[Any, Any], Any] = {}  # debt -> its hour of day (None: any)
        self.meter_intervals: dict[Any, _IntervalIndex] = {}  # meter -> readings, by device
        self.scratch = _Scratch()
        # --- accounts ---
        self.accounts: set[Any] = set()
        self.unknown_targets: list[tuple[Any, Any, Any]] = []  # (action, bundle, account)

    def _stamp(self, value: Any, field: str) -> _dt.datetime:
        """``parse_timestamp``, memoised for well-formed strings (a fault is never cached)."""
        if type(value) is str:
            parsed = self.stamps.get(value)
            if parsed is None:
                parsed = self.stamps[value] = parse_timestamp(value, field)
            return parsed
        return parse_timestamp(value, field)

    def find(self, risk: Risk, message: str, bundle_id: Any = None) -> None:
        self.findings.append(Finding(risk, message, self.action_id, bundle_id))

    def malformed(self, message: str, bundle_id: Any = None) -> None:
        self.find(Risk.MALFORMED_HISTORY, message, bundle_id)

    # --- actions -------------------------------------------------------------------

    def begin(self, raw: Any) -> None:
        """An accepted action starts at ``raw``, its ``at`` (strict, non-decreasing)."""
        self.at, self.at_reported = None, False
        if raw is None:
            return
        if raw == self.last_at_text:
            self.at = self.last_at
            return
        try:
            if type(raw) is str and _WIRE.fullmatch(raw):
                at = _dt.datetime.fromisoformat(raw)  # the strict form: exactly parse_timestamp's
            else:
                at = parse_timestamp(raw, "at")
        except ValueError:
            try:
                at = parse_timestamp(raw, "at")  # its message names what is wrong
            except ValueError as exc:
                self.at_reported = True
                self.malformed(f"action time 'at' unreadable: {exc}")
                return
        if self.last_at is not None and at < self.last_at:
            self.malformed(
                f"action at {_fmt(at)} is recorded after one at {_fmt(self.last_at)}: accepted "
                "actions must be in time order (validity is judged by it)"
            )
        else:
            self.last_at, self.last_at_text = at, raw
        self.at = at

    def _now(self) -> _dt.datetime | None:
        if self.at is None and not self.at_reported:
            self.at_reported = True
            self.malformed("action has no time 'at': the validity (D8) of what it does is unknown")
        return self.at

    def end(self, action: Mapping[str, Any]) -> None:
        """The action's effects are all replayed: check production and expiry sweeps."""
        if self.scratch.used:
            self._settle(self.scratch)
            self.scratch.clear()
        if action.get("action") == "expire":
            self._sweep()

    # --- effects -------------------------------------------------------------------

    def issue(self, e: Mapping[str, Any]) -> None:
        # Everything that can make the effect unreadable comes before any change.
        iid, bid = e["issuance_id"], e["bundle_id"]
        start, end = e["range_start"], e["range_end"]
        if iid is None or bid is None or type(iid) is bool or type(bid) is bool:
            raise _Malformed(f"issuance {iid!r} / bundle {bid!r} are not identifiers")
        if type(start) is not int or type(end) is not int:
            raise _Malformed(f"range {start!r}..{end!r} is not of integer certificate IDs")
        known_issuance, known_bundle = iid in self.issuances, bid in self.bundles
        corrects = e.get("corrects_issuance_id")
        device = e.get("device_id")
        interval = None
        if device is None or e.get("production_start") is None or e.get("production_end") is None:
            self.malformed(
                f"issuance {iid} does not name its device and production interval: double "
                "issuance and issued-against-recognised production cannot be checked",
                bid,
            )
        else:
            hash(device)
            interval = self._interval(e, "issuance", iid, bid)
        raw = e.get("expiry")
        expiry = self.stamps.get(raw) if type(raw) is str else None
        if expiry is None:
            expiry = self._expiry(raw, iid, bid)
        own_from = e.get("own_hour_only_from")
        if own_from is not None and interval is not None:
            try:
                self.own_hour[iid] = (self._stamp(own_from, "own_hour_only_from"), interval)
            except ValueError as exc:
                self.malformed(f"issuance {iid}: unreadable own_hour_only_from: {exc}", bid)
        if end < start:
            self.find(
                Risk.CONSERVATION,
                f"issuance {iid} has an empty range {start}..{end} ({end - start + 1} certificates)",
                bid,
            )
            return
        if known_issuance:
            self.find(Risk.DOUBLE_REGISTRATION, f"issuance ID {iid} issued twice", bid)
        if known_bundle:
            self.find(Risk.DOUBLE_REGISTRATION, f"bundle ID {bid} reused by issuance {iid}", bid)
        range_starts = self.range_starts
        index = bisect.bisect_right(range_starts, end)
        if index and self.range_ends[index - 1] >= start:
            self.find(
                Risk.DOUBLE_REGISTRATION,
                f"certificate IDs {start}..{end} of issuance {iid} overlap IDs "
                f"{range_starts[index - 1]}..{self.range_ends[index - 1]} issued before",
                bid,
            )
        if index == len(range_starts):
            range_starts.append(start)
            self.range_ends.append(end)
        else:
            range_starts.insert(index, start)
            self.range_ends.insert(index, end)
        key = None
        if interval is not None:
            key = (device, interval[0], interval[1])
            self._check_interval(key, iid, bid, corrects)
        quantity = end - start + 1
        scratch = self.scratch
        scratch.used = True
        scratch.issues.append((iid, bid, key, quantity, corrects))
        self.issuances[iid] = (start, end)
        graph = self.graph
        graph.add_node(
            issuance_node(iid),
            device_id=device,
            production_start=e.get("production_start"),
            production_end=e.get("production_end"),
            range_start=start,
            range_end=end,
            quantity=quantity,
        )
        self.bundles[bid] = _Live(iid, start, end, e.get("account_id"), "ACTIVE", expiry)
        if expiry is not None:
            self.pushed += 1  # a unique tie-break: issuance IDs need not be comparable
            entry = (expiry, self.pushed, iid)
            if self.heap:
                heapq.heappush(self.expiries, entry)
            else:
                self.expiries.append(entry)
        self._bundle_node(bid, "issue")
        graph.add_edge(issuance_node(iid), bundle_node(bid), kind="issue")

    def _interval(
        self, e: Mapping[str, Any], kind: str, ident: Any, bundle_id: Any = None
    ) -> tuple[_dt.datetime, _dt.datetime] | None:
        """A production interval (D5: start < end, at most one hour), or None (reported).

        ``kind`` and ``ident`` name the effect in a finding (formatted only then).
        """
        raw_start, raw_end = e.get("production_start"), e.get("production_end")
        if type(raw_start) is str and type(raw_end) is str:
            pair = self.pairs.get((raw_start, raw_end))
            if pair is not None:
                return pair
        what = f"{kind} {ident!r}"
        try:
            start = self._stamp(raw_start, "production_start")
            end = self._stamp(raw_end, "production_end")
        except ValueError as exc:
            self.malformed(f"{what}: unreadable production interval: {exc}", bundle_id)
            return None
        if start >= end:
            self.malformed(
                f"{what}: production interval {_fmt(start)} to {_fmt(end)} does not end after "
                "it starts",
                bundle_id,
            )
            return None
        if end - start > _HOUR:
            self.malformed(
                f"{what}: production interval {_fmt(start)} to {_fmt(end)} is longer than one "
                "hour (D5)",
                bundle_id,
            )
        elif type(raw_start) is str and type(raw_end) is str:
            self.pairs[(raw_start, raw_end)] = (start, end)
        return start, end

    def _expiry(self, raw: Any, iid: Any, bid: Any) -> _dt.datetime | None:
        if raw is None:
            self.malformed(f"issuance {iid} has no expiry: its validity (D8) is unknown", bid)
            return None
        try:
            return self._stamp(raw, "expiry")
        except ValueError as exc:
            self.malformed(f"issuance {iid}: unreadable expiry: {exc}", bid)
            return None

    def _check_interval(self, key: Key, iid: Any, bid: Any, corrects: Any) -> None:
        """Risk 1: no two issuances for one device and overlapping interval, unless a correction."""
        device, p_start, p_end = key
        index = self.issued_intervals.get(device)
        if index is None:
            index = self.issued_intervals[device] = _IntervalIndex()
        if corrects is not None:
            if (p_start, p_end, corrects) not in index.overlapping(p_start, p_end):
                # A D10 upward correction must name an earlier issuance of the same device and
                # interval; otherwise "correction" would be a label that hides double issuance.
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"issuance {iid} claims to correct issuance {corrects}, which is not an earlier "
                    f"issuance of device {device!r} for {_fmt(p_start)}",
                    bid,
                )
        else:
            for other_start, _, other_iid in index.overlapping(p_start, p_end):
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"issuance {iid} for device {device!r} from {_fmt(p_start)} "
                    f"overlaps issuance {other_iid} from {_fmt(other_start)}",
                    bid,
                )
        index.add(p_start, p_end, iid)

    def _bundle_node(self, bid: Any, event: str) -> None:
        live = self.bundles[bid]
        self.graph.add_node(
            bundle_node(bid),
            issuance_id=live.issuance_id,
            range_start=live.start,
            range_end=live.end,
            quantity=live.end - live.start + 1,
            account=live.account,
            status=live.status,
            events=[event],
        )

    def _current(self, bid: Any, risk: Risk, doing: str) -> _Live | None:
        live = self.bundles.get(bid)
        if live is None:
            self.find(risk, f"{doing} of bundle {bid}, which was never issued", bid)
            return None
        if live.superseded:
            self.find(risk, f"{doing} of bundle {bid} after it was split", bid)
            return None
        return live

    def _valid(self, live: _Live, bid: Any, doing: str) -> None:
        """D8: certificates are used or moved only before their expiry."""
        at = self._now()
        if at is not None and live.expiry is not None and at >= live.expiry:
            self.find(
                Risk.VALIDITY,
                f"{doing} of bundle {bid} at {_fmt(at)}, after its validity ended "
                f"({_fmt(live.expiry)})",
                bid,
            )

    def _own_hour(self, e: Mapping[str, Any], live: _Live, bid: Any) -> None:
        """D8: past its consumption period a GC is cancelled only against its own hour."""
        own_from, (p_start, p_end) = self.own_hour[live.issuance_id]
        at = self._now()
        if at is None or at < own_from:
            return
        start, end = e.get("consumption_start"), e.get("consumption_end")
        try:
            inside = (
                start is not None
                and end is not None
                and p_start <= self._stamp(start, "consumption_start")
                and self._stamp(end, "consumption_end") <= p_end
            )
        except ValueError as exc:
            self.malformed(f"cancellation of bundle {bid}: unreadable consumption period: {exc}")
            return
        if not inside:
            named = "names no consumption period" if start is None else f"matches {start}/{end}"
            self.find(
                Risk.VALIDITY,
                f"cancellation of bundle {bid} at {_fmt(at)}, after its consumption period ended "
                f"({_fmt(own_from)}), {named}, not its own production interval "
                f"{_fmt(p_start)}/{_fmt(p_end)}",
                bid,
            )

    def split(self, e: Mapping[str, Any]) -> None:
        pid = e["parent_id"]
        children = []
        for child in e["children"]:
            cid, start, end = child["bundle_id"], child["range_start"], child["range_end"]
            if cid is None or type(cid) is bool or type(start) is not int or type(end) is not int:
                raise _Malformed(f"split child {cid!r} {start!r}..{end!r} is not a bundle of IDs")
            hash(cid)
            children.append((cid, start, end))
        parent = self._current(pid, Risk.DOUBLE_IN_TRANSFER, "split")
        if parent is None:
            return
        position = parent.start
        for cid, start, end in children:
            if start != position or end < start:
                self.find(
                    Risk.CONSERVATION,
                    f"split of bundle {pid} ({parent.start}..{parent.end}) into a child {start}..{end} "
                    f"that does not continue at {position}",
                    pid,
                )
            position = max(position, end + 1)
            if cid in self.bundles:
                # Not replayed: re-using the ID of an ancestor would put a cycle in the
                # lineage graph (and hang the walk in ``leaves``); any other bundle's
                # replay state would be overwritten.
                self.find(Risk.DOUBLE_REGISTRATION, f"split reuses bundle ID {cid}", cid)
                continue
            self.bundles[cid] = _Live(
                parent.issuance_id,
                start,
                end,
                parent.account,
                parent.status,
                parent.expiry,
                parent.beneficiary,
                parent.purpose,
            )
            self._bundle_node(cid, "split")
            self.graph.add_edge(bundle_node(pid), bundle_node(cid), kind="split")
        if position != parent.end + 1:
            self.find(
                Risk.CONSERVATION,
                f"split of bundle {pid} ({parent.start}..{parent.end}) leaves IDs from {position} unaccounted",
                pid,
            )
        parent.superseded = True
        self.graph.nodes[bundle_node(pid)]["status"] = SPLIT

    def transfer(self, e: Mapping[str, Any]) -> None:
        bid, source, target = e["bundle_id"], e["from_account"], e["to_account"]
        known = target in self.accounts  # an unhashable account raises here, before any change
        live = self._current(bid, Risk.DOUBLE_IN_TRANSFER, "transfer")
        if live is None:
            return
        if live.status != "ACTIVE":
            self.find(Risk.DOUBLE_IN_TRANSFER, f"transfer of bundle {bid} while {live.status}", bid)
        if live.account != source:
            self.find(
                Risk.DOUBLE_IN_TRANSFER,
                f"bundle {bid} transferred from {source!r} but held in {live.account!r}",
                bid,
            )
        if target == source:
            self.find(
                Risk.DOUBLE_IN_TRANSFER,
                f"bundle {bid} transferred from {source!r} to itself: a transfer leaves its source",
                bid,
            )
        if not known:
            self.unknown_targets.append((self.action_id, bid, target))
        self._valid(live, bid, "transfer")
        live.account = target
        node = self.graph.nodes[bundle_node(bid)]
        node["account"] = target
        node["events"].append(f"transfer {source} -> {target}")

    def status(self, e: Mapping[str, Any]) -> None:
        bid, new = e["bundle_id"], e["to"]
        if new not in STATUSES or new == SPLIT:
            raise _Malformed(
                f"bundle {bid}: status {new!r} is not a bundle status "
                f"({', '.join(sorted(STATUSES - {SPLIT}))}; a split is a 'split' effect)"
            )
        if "from" in e and e["from"] not in STATUSES:
            raise _Malformed(f"bundle {bid}: status {e['from']!r} is not a bundle status")
        doing = {
            "CANCELLED": "cancellation",
            "CANCELLED_FOR_STORAGE": "storage cancellation",
            "CLAIMED": "claim",
        }.get(new, f"status change to {new}")
        if new in ("CANCELLED", "CANCELLED_FOR_STORAGE"):
            risk = Risk.DOUBLE_CANCELLATION
        elif new == "CLAIMED":
            risk = Risk.DOUBLE_USE
        else:
            risk = Risk.DOUBLE_IN_TRANSFER
        live = self._current(bid, risk, doing)
        if live is None:
            return
        old = live.status
        if new in _PURPOSE:
            if old != "ACTIVE":
                self.find(Risk.DOUBLE_CANCELLATION, f"bundle {bid} cancelled while {old}", bid)
            if not _named(e.get("beneficiary")):
                self.malformed(
                    f"{doing} of bundle {bid} names no beneficiary: its claim cannot be checked "
                    "(D4 risk 6)",
                    bid,
                )
            purpose = e.get("purpose")
            if purpose is not None and purpose != _PURPOSE[new]:
                self.malformed(f"bundle {bid} made {new} with purpose {purpose!r}", bid)
        elif new == "CLAIMED":
            claimant = e.get("claimant")
            if old == "CANCELLED_FOR_STORAGE":
                self.find(
                    Risk.DOUBLE_DISCLOSURE,
                    f"bundle {bid} was cancelled for storage charging and then claimed for consumption",
                    bid,
                )
            elif old != "CANCELLED":
                self.find(Risk.DOUBLE_USE, f"bundle {bid} claimed while {old}", bid)
            if not _named(claimant):
                self.malformed(
                    f"claim of bundle {bid} names no claimant: it cannot be checked against the "
                    f"beneficiary {live.beneficiary!r} (D4 risk 6)",
                    bid,
                )
            elif old == "CANCELLED" and claimant != live.beneficiary:
                self.find(
                    Risk.DOUBLE_DISCLOSURE,
                    f"bundle {bid} cancelled for {live.beneficiary!r} but claimed by {claimant!r}",
                    bid,
                )
        elif new in ("RESERVED", "LOCKED", "WITHDRAWN", "EXPIRED", "EXPORTED") and old not in LIVE:
            self.find(Risk.DOUBLE_IN_TRANSFER, f"bundle {bid} made {new} while {old}", bid)
        elif new == "ACTIVE" and old not in ("RESERVED", "LOCKED"):
            self.find(Risk.DOUBLE_IN_TRANSFER, f"bundle {bid} made live again from {old}", bid)
        if new in _NEEDS_VALIDITY:
            self._valid(live, bid, doing)
            if new == "CANCELLED" and live.issuance_id in self.own_hour:
                self._own_hour(e, live, bid)
        elif new == "EXPIRED":
            at = self._now()
            if at is not None and live.expiry is not None and at < live.expiry:
                self.find(
                    Risk.VALIDITY,
                    f"bundle {bid} expired at {_fmt(at)}, before its validity ended "
                    f"({_fmt(live.expiry)})",
                    bid,
                )
        elif new == "WITHDRAWN" and old in LIVE:
            self.scratch.used = True
            self.scratch.withdrawals.append((live.issuance_id, live.end - live.start + 1))
        live.status = new
        if "beneficiary" in e and new != "CLAIMED":
            live.beneficiary, live.purpose = e.get("beneficiary"), e.get("purpose")
        node = self.graph.nodes[bundle_node(bid)]
        node["status"] = new
        node["events"].append(f"{old} -> {new}")
        if new in TERMINAL:
            source = (
                outcome_node(bid, old) if new == "CLAIMED" and old in TERMINAL else bundle_node(bid)
            )
            self.graph.add_node(
                outcome_node(bid, new), beneficiary=e.get("beneficiary"), claimant=e.get("claimant")
            )
            self.graph.add_edge(
                source, outcome_node(bid, new), kind="claim" if new == "CLAIMED" else "status"
            )

    def reading(self, e: Mapping[str, Any]) -> None:
        """The Wh recognised for a device and interval; a later reading of it is a correction."""
        device, recognised, metered = e["device_id"], e["recognised_wh"], e["metered_wh"]
        if device is None or type(device) is bool:
            raise _Malformed(f"device_id {device!r} is not an identifier")
        if type(recognised) is not int:
            raise _Malformed(f"recognised_wh {recognised!r} is not a whole number of Wh")
        if type(metered) is str and metered.isascii() and metered.isdigit():
            metered = int(metered)
        elif type(metered) is not int or metered < 0:
            metered = _energy(metered, "metered_wh")
        if e.get("production_start") is None or e.get("production_end") is None:
            raise _Malformed(f"reading of device {device!r} names no production interval")
        interval = self._interval(e, "reading of device", device)
        if interval is None:
            return
        key = (device, interval[0], interval[1])
        totals = self.devices.get(device)
        if totals is None:
            totals = self.devices[device] = _Device()
        production = self.production.get(key)
        before = 0 if production is None else production.metered
        total = totals.metered
        if type(metered) is int and type(before) is int and type(total) is int:
            total += metered - before
        else:  # exact: an inexact sum raises (reported as malformed) before any change
            total = _EXACT.add(total, _EXACT.subtract(metered, before))
        if production is None:
            production = self.production[key] = _Production()
            index = self.read_intervals.get(device)
            if index is None:
                index = self.read_intervals[device] = _IntervalIndex()
            for other_start, other_end, _ in index.overlapping(*interval):
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"production of device {device!r} recognised for {_fmt(interval[0])} to "
                    f"{_fmt(interval[1])} and again for {_fmt(other_start)} to {_fmt(other_end)}",
                )
            index.add(interval[0], interval[1], None)
            self._check_meter(e.get("meter_id"), device, interval)
        scratch = self.scratch
        scratch.used = True
        if key not in scratch.readings:
            scratch.readings[key] = production.recognised
        scratch.keys.append(key)
        totals.recognised += recognised - (production.recognised or 0)
        totals.metered = total
        if e.get("carried_wh") is None:
            totals.alone += 1
        if e.get("rounded_alone") is not None:
            # Only a reading that says it was rounded on its own (rounding_carry PER_READING) is
            # held to its own hour: a history that carries remainders, or says nothing of it,
            # may legitimately move a sub-Wh remainder from one hour to the next.
            self._check_alone(e, device, interval, recognised, metered)
        production.recognised, production.metered = recognised, metered

    def _check_alone(
        self,
        e: Mapping[str, Any],
        device: Any,
        interval: tuple[_dt.datetime, _dt.datetime],
        recognised: int,
        metered: int | Decimal,
    ) -> None:
        """A reading rounded on its own (no carried remainder) is held to its own hour (D5).

        Rounded to the nearest Wh (halves up) it recognises at most
        floor(metered + 1/2); a reading that names ``rounded_alone: DOWN``
        at most floor(metered): under DOWN no hour is certified above its
        own production. Nothing carried, nothing can legitimately move in.
        """
        if recognised <= metered:
            return
        rounded = e.get("rounded_alone")
        if rounded is not None and rounded not in ("DOWN", "NEAREST"):
            raise _Malformed(f"rounded_alone {rounded!r} is not DOWN or NEAREST")
        if isinstance(metered, int):
            bound = metered
        elif rounded == "DOWN":
            bound = int(metered.to_integral_value(rounding=ROUND_FLOOR))
        else:
            bound = int(_EXACT.add(metered, _HALF).to_integral_value(rounding=ROUND_FLOOR))
        if recognised > bound:
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{recognised} Wh recognised for device {device!r} over {_fmt(interval[0])} to "
                f"{_fmt(interval[1])} from its own {metered} Wh reading, rounded on its own "
                f"({rounded or 'no carried remainder'}): at most {bound} Wh",
            )

    def _check_meter(
        self, meter: Any, device: Any, interval: tuple[_dt.datetime, _dt.datetime]
    ) -> None:
        """D6: a meter measures one device; two devices' readings of one meter for one hour
        certify the same energy twice."""
        if meter is None or type(meter) is bool:
            return
        index = self.meter_intervals.get(meter)
        if index is None:
            index = self.meter_intervals[meter] = _IntervalIndex()
        for other_start, other_end, other in index.overlapping(*interval):
            if other != device:
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"meter {meter!r} read for device {device!r} from {_fmt(interval[0])} to "
                    f"{_fmt(interval[1])} and for device {other!r} from {_fmt(other_start)} to "
                    f"{_fmt(other_end)}: one meter's energy certified for two devices",
                )
        index.add(interval[0], interval[1], device)

    def debt(self, e: Mapping[str, Any]) -> None:
        """An outstanding D10 deduction of a device (``remaining_wh`` 0: settled)."""
        device = _identifier(e["device_id"], "device_id")
        debt_id = _identifier(e["debt_id"], "debt_id")
        remaining = _whole(e["remaining_wh"], "remaining_wh", 0)
        change = remaining - self.debts.get((device, debt_id), 0)
        self.debts[(device, debt_id)] = remaining
        self.debt_hours[(device, debt_id)] = e.get("hour_of_day")
        totals = self.devices.get(device)
        if totals is None:
            totals = self.devices[device] = _Device()
        totals.debt += change
        scratch = self.scratch
        scratch.used = True
        if change > 0:
            scratch.debts[device] = scratch.debts.get(device, 0) + change
        scratch.devices.append(device)

    def account(self, e: Mapping[str, Any]) -> None:
        self.accounts.add(_identifier(e["account_id"], "account_id"))

    # --- end of an action ------------------------------------------------------------

    def _settle(self, scratch: _Scratch) -> None:
        """Production accounting for what the action changed (see the module docstring)."""
        keys = scratch.keys
        if scratch.issues:
            sd_gcs = self.storage.sd_gc_issuances
            for iid, bid, key, quantity, corrects in scratch.issues:
                if key is None:
                    continue  # reported as malformed at the issue effect
                if iid in sd_gcs:
                    continue  # an SD-GC: issued from a discharge record, judged by storage checks
                self.attributed[iid] = key
                production = self.production.get(key)
                if production is None:
                    production = self.production[key] = _Production()
                production.issued += quantity
                totals = self.devices.get(key[0])
                if totals is None:
                    totals = self.devices[key[0]] = _Device()
                totals.issued += quantity
                keys.append(key)
                if corrects is None:
                    continue
                if key not in scratch.readings or (production.recognised or 0) <= (
                    scratch.readings[key] or 0
                ):
                    self.find(
                        Risk.DOUBLE_ISSUANCE,
                        f"issuance {iid} corrects issuance {corrects} upward without a corrected "
                        f"reading of device {key[0]!r} for {_fmt(key[1])} in the same action "
                        "(D10: issue the difference to a higher corrected production)",
                        bid,
                    )
        if scratch.issues and self.debts:
            self._deductions_taken(scratch)
        for iid, quantity in scratch.withdrawals:
            key = self.attributed.get(iid)
            if key is not None:
                self.production[key].withdrawn += quantity
                self.devices[key[0]].issued -= quantity
                keys.append(key)
        for device, added in scratch.debts.items():
            self._back_debt(scratch, device, added)
        previous: Any = None
        for key in keys:
            if key != previous:
                self._check_production(key)
                previous = key
        previous = None
        for key in keys:
            if key[0] != previous:
                previous = key[0]
                self._check_device(previous)
        for device in scratch.devices:
            self._check_device(device)

    def _deductions_taken(self, scratch: _Scratch) -> None:
        """D10: an issuance for a device that owes a deduction it could take must take it.

        A debt pinned to an hour of day is owed by that hour's issuances; one
        with no hour by every issuance. An action that issues for the device and
        records no deduction change of it left the debt open: the GCs it issued
        count energy the earlier, over-issued GCs already carry.
        """
        sd_gcs = self.storage.sd_gc_issuances
        changed = set(scratch.devices)
        for iid, bid, key, quantity, _ in scratch.issues:
            if key is None or iid in sd_gcs or key[0] in changed or quantity <= 0:
                continue
            hour = key[1].hour
            owed = sum(
                remaining
                for (device, debt_id), remaining in self.debts.items()
                if device == key[0]
                and remaining > 0
                and self.debt_hours.get((device, debt_id)) in (None, hour)
            )
            if owed:
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"issuance {iid} of {quantity} Wh for device {key[0]!r} from {_fmt(key[1])} "
                    f"took none of the {owed} Wh of D10 deductions the device owes for that hour",
                    bid,
                )

    def _back_debt(self, scratch: _Scratch, device: Any, added: int) -> None:
        """D10 deductions arise only from a downward correction, up to the Wh it removed."""
        lowered = []
        for key, before in scratch.readings.items():
            if key[0] == device and before is not None:
                now = self.production[key].recognised or 0
                if now < before:
                    lowered.append((key, before - now))
        backed = min(added, sum(wh for _, wh in lowered))
        if backed < added:
            self.devices[device].unbacked_debt += added - backed
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"D10 deductions of {added} Wh recorded for device {device!r}, but the action "
                f"lowers its recognised production by {backed} Wh only: a deduction not backed "
                "by a downward correction would excuse over-issuance",
            )
        for key, wh in lowered:
            share = min(wh, backed)
            self.production[key].deducted += share
            scratch.keys.append(key)
            backed -= share

    def _check_production(self, key: Key) -> None:
        production = self.production[key]
        net = production.issued - production.withdrawn
        recognised = production.recognised
        excess = net - (recognised or 0) - production.deducted
        over = excess if excess > 0 else 0
        if over != production.excess:
            self.devices[key[0]].excess += over - production.excess
            production.excess = over
        if excess <= production.reported:
            return
        production.reported = excess
        if recognised is None:
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{net} Wh issued for device {key[0]!r} from {_fmt(key[1])} to {_fmt(key[2])} "
                "with no production recognised for it (no 'reading' of that interval)",
            )
        else:
            deducted = production.deducted
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{net} Wh issued (net of withdrawals) for device {key[0]!r} from {_fmt(key[1])} "
                f"to {_fmt(key[2])}, {excess} Wh above the {recognised} Wh recognised"
                + (f" and {deducted} Wh of D10 deductions" if deducted else ""),
            )

    def _check_device(self, device: Any) -> None:
        """Per device, beyond what its intervals' findings already show: deductions not taken."""
        totals = self.devices[device]
        debt = totals.debt - totals.unbacked_debt
        allowed = totals.recognised + debt if debt > 0 else totals.recognised
        excess = totals.issued - allowed - totals.excess
        if excess > totals.reported:
            totals.reported = excess
            self.find(
                Risk.DOUBLE_ISSUANCE,
                f"{totals.issued} Wh issued (net of withdrawals) for device {device!r}: {excess} Wh "
                f"above its {totals.recognised} Wh recognised production and "
                f"{allowed - totals.recognised} Wh of outstanding D10 deductions (deductions "
                "recorded as settled that no issuance took)",
            )
        metered = totals.metered
        if totals.recognised > metered:  # else certainly within the bound
            if type(metered) is int:
                bound = metered + (1 + totals.alone) // 2
            else:
                try:  # floor (both non-negative) of the exact sum
                    bound = int(_EXACT.add(metered, _EXACT.multiply(1 + totals.alone, _HALF)))
                except ArithmeticError:
                    self.malformed(f"metered energy of device {device!r} too precise to total")
                    return
            over = totals.recognised - bound
            if over > totals.reported_metered:
                totals.reported_metered = over
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"{totals.recognised} Wh recognised for device {device!r} from "
                    f"{totals.metered} Wh metered: {over} Wh beyond rounding (at most "
                    f"{bound} Wh, with {totals.alone} readings rounded alone)",
                )

    def _sweep(self) -> None:
        """An expiry sweep: nothing whose validity ended by its time may stay live (D8)."""
        at = self._now()
        if at is None:
            return
        if not self.heap:
            heapq.heapify(self.expiries)
            self.heap = True
        expiries = self.expiries
        while expiries and expiries[0][0] <= at:
            expiry, _, iid = heapq.heappop(expiries)
            if issuance_node(iid) not in self.graph:
                continue
            for node in leaves(self.graph, iid):
                live = self.bundles.get(node[1])
                if live is not None and live.status in LIVE and live.expiry == expiry:
                    self.find(
                        Risk.VALIDITY,
                        f"bundle {node[1]} is still {live.status} after the expiry sweep at "
                        f"{_fmt(at)}; its validity ended at {_fmt(expiry)}",
                        node[1],
                    )

    # --- whole-history checks -----------------------------------------------------------

    def conservation(self) -> None:
        for iid, (start, end) in self.issuances.items():
            parts = sorted(
                (self.bundles[node[1]].start, self.bundles[node[1]].end)
                for node in leaves(self.graph, iid)
            )
            position = start
            for part_start, part_end in parts:
                if part_start != position:
                    self.find(
                        Risk.CONSERVATION,
                        f"issuance {iid} ({start}..{end}): certificates from {position} are "
                        f"{'missing' if part_start > position else 'held twice'} "
                        f"(next bundle starts at {part_start})",
                    )
                    break
                position = part_end + 1
            else:
                if position != end + 1:
                    self.find(
                        Risk.CONSERVATION,
                        f"issuance {iid} ({start}..{end}): bundles cover up to {position - 1} only",
                    )

    def accounts_known(self, state: Mapping[str, Any] | None) -> None:
        """Transfers to accounts that neither the history nor the reported state opened."""
        reported: set[Any] = set()
        if state is not None:
            for plain in _entries(self, state, "accounts"):
                try:
                    reported.add(plain["account_id"])
                except (KeyError, TypeError):
                    self.malformed(f"reported account {plain!r} is unreadable")
        for action_id, bid, target in self.unknown_targets:
            self.action_id = action_id
            if target in self.accounts:
                self.find(
                    Risk.DOUBLE_IN_TRANSFER,
                    f"bundle {bid} transferred to account {target!r} before it was opened",
                    bid,
                )
            elif target not in reported:
                self.find(
                    Risk.DOUBLE_IN_TRANSFER,
                    f"bundle {bid} transferred to account {target!r}, which neither the history "
                    "nor the reported state knows",
                    bid,
                )
        self.action_id = None

    def compare_state(self, state: Mapping[str, Any]) -> None:
        self.action_id = None
        reported: dict[Any, Mapping[str, Any]] = {}
        for plain in _entries(self, state, "bundles"):
            try:
                bid = plain.get("bundle_id")
                hash(bid)
            except (AttributeError, TypeError):
                self.malformed(f"reported bundle {plain!r} is unreadable")
                continue
            if bid in reported:
                self.find(Risk.STATE_MISMATCH, f"bundle {bid} reported twice", bid)
            reported[bid] = plain
        live_ranges: list[tuple[int, int, Any]] = []
        for bid, plain in reported.items():
            start = plain.get("certificate_bundle_id_range_start")
            end = plain.get("certificate_bundle_id_range_end")
            status = plain.get("certificate_bundle_status")
            account = plain.get("account_id")
            problems = []
            whole = False
            if type(start) is not int or type(end) is not int:
                problems.append(f"range {start!r}..{end!r} is not of integer IDs")
            else:
                whole = True
                if status != SPLIT:  # a split bundle holds no certificates: its children do
                    live_ranges.append((start, end, bid))
            if status not in STATUSES:
                problems.append(f"status {status!r} is not a bundle status")
            live = self.bundles.get(bid)
            if live is None:
                problems.append("no history creates it")
            else:
                # A split parent may be listed in its historical form: status BUNDLE_SPLIT.
                want = SPLIT if live.superseded else live.status
                if whole and (start, end) != (live.start, live.end):
                    problems.append(
                        f"range {start}..{end}, but its history gives {live.start}..{live.end}"
                    )
                if not live.superseded and account != live.account:
                    problems.append(f"account {account!r}, but its history gives {live.account!r}")
                if status in STATUSES and status != want:
                    problems.append(f"status {status}, but its history gives {want}")
            if problems:
                self.find(Risk.STATE_MISMATCH, f"bundle {bid} reported: {'; '.join(problems)}", bid)
        for bid, live in self.bundles.items():
            if not live.superseded and bid not in reported:
                self.find(
                    Risk.STATE_MISMATCH, f"bundle {bid} is missing from the reported state", bid
                )
        live_ranges.sort(key=lambda r: (r[0], r[1]))
        furthest: tuple[int, Any] | None = None  # (highest end so far, its bundle)
        for start, end, bid in live_ranges:
            if furthest is not None and start <= furthest[0]:
                self.find(
                    Risk.DOUBLE_IN_TRANSFER,
                    f"reported bundles {furthest[1]} and {bid} both hold certificate {start}",
                    bid,
                )
            if furthest is None or end > furthest[0]:
                furthest = (end, bid)


def _entries(replay: _Replay, state: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The mappings listed under ``name`` in a reported state (others reported as malformed)."""
    listed = state.get(name, []) if isinstance(state, Mapping) else None
    if not isinstance(listed, (list, tuple)):
        replay.malformed(f"reported state: {name!r} is not a list")
        return []
    good = []
    for entry in listed:
        if isinstance(entry, Mapping):
            good.append(entry)
        else:
            replay.malformed(f"reported state: {name} entry {entry!r} is not a mapping")
    return good


def _check_storage_numbers(replay: _Replay, e: Mapping[str, Any]) -> None:
    for field, least, optional in _STORAGE_NUMBERS.get(e["effect"], ()):
        value = e.get(field)
        if value is None and optional:
            continue
        _whole(value, f"{e['effect']} {field}", least)


_EFFECTS = {
    "issue": _Replay.issue,
    "split": _Replay.split,
    "transfer": _Replay.transfer,
    "status": _Replay.status,
    "reading": _Replay.reading,
    "debt": _Replay.debt,
    "account": _Replay.account,
}
# Effects that carry no certificate lineage (registration, EAC links, suspended hours).
_IGNORED = frozenset({"device", "eac_link", "eac_unlink", "suspension"})


def check_invariants(
    history: Iterable[Mapping[str, Any]], state: Mapping[str, Any] | None = None
) -> InvariantReport:
    """Replay ``history`` and report every double-counting finding; compare ``state`` if given.

    The replay builds millions of long-lived containers (lineage graph, replay state) and
    no reference cycles; CPython's cyclic collector would traverse them again at every full
    collection, finding nothing, for about 40% of the run on a 10^6-action history. So it is
    paused for the replay (reference counting still frees everything) and restored after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check(history, state)
    finally:
        if enabled:
            gc.enable()


def _check(history: Iterable[Any], state: Mapping[str, Any] | None) -> InvariantReport:
    """:func:`check_invariants`, for any iterable: an entry that is not a mapping is a finding."""
    replay = _Replay()
    count = 0
    for action in history:
        count += 1
        if type(action) is not dict and not isinstance(action, Mapping):
            replay.action_id = None
            replay.malformed(f"history entry {action!r} is not a mapping")
            continue
        replay.action_id = action.get("action_id")
        accepted = action.get("accepted")
        if accepted is False:
            continue
        if accepted is not True:
            replay.malformed(f"'accepted' must be true or false, not {accepted!r}")
            continue
        effects = action.get("effects")
        if not isinstance(effects, (list, tuple)):
            replay.malformed(f"'effects' must be a list, not {effects!r}")
            continue
        at = action.get("at")
        if at is not None and at == replay.last_at_text:  # the same time as the last action
            replay.at, replay.at_reported = replay.last_at, False
        else:
            replay.begin(at)
        for effect in effects:
            try:
                kind = effect.get("effect")
                handler = _EFFECTS.get(kind)
                if handler is not None:
                    handler(replay, effect)
                elif kind in STORAGE_EFFECTS:
                    _check_storage_numbers(replay, effect)
                    replay.storage.handle(replay, effect)
                elif kind not in _IGNORED:
                    replay.malformed(f"unknown effect {kind!r}")
            except _Malformed as exc:
                replay.malformed(f"unreadable {kind!r} effect: {exc}")
            except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
                replay.malformed(f"unreadable entry: {type(exc).__name__}: {exc}")
        replay.end(action)
    replay.conservation()
    replay.storage.finish(replay)
    replay.accounts_known(state)
    if state is not None:
        replay.compare_state(state)
    return InvariantReport(tuple(replay.findings), count, replay.graph)
