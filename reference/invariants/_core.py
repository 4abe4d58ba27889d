"""The replay's state and what every effect family shares: findings, time, intervals, nodes.

The replay is split by the risk family each effect evidences; this base holds the state
they all read and write, the action's time (D8 needs it in order), the memoised reading of
stamps and intervals, and the lineage graph's bundle nodes. Methods that one family calls
on another are declared here for the type checker only.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx

from gc_conformance.reference.invariants._plain import _HOUR, _WIRE, _fmt
from gc_conformance.reference.invariants._records import (
    Key,
    _Device,
    _IntervalIndex,
    _Live,
    _Production,
    _Scratch,
)
from gc_conformance.reference.invariants.findings import Finding, Risk
from gc_conformance.reference.lineage import bundle_node
from gc_conformance.reference.storage_checks import StorageReplay
from gc_conformance.reference.timestamps import parse_timestamp


class _ReplayCore:
    """The replay's state, its findings and the per-action bookkeeping."""

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

    if TYPE_CHECKING:  # defined by _ProductionReplay and _LineageReplay

        def _settle(self, scratch: _Scratch) -> None: ...

        def _sweep(self) -> None: ...
