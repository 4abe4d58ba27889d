"""Replaying issuances: IDs issued once (risk 3) and one issuance per device and interval (risk 1).

An ``issue`` effect is read whole before anything changes; its certificate range, bundle and
issuance IDs are checked against every earlier issuance, and its production interval against
the device's earlier ones (an upward D10 correction must name what it corrects).
"""

from __future__ import annotations

import bisect
import datetime as _dt
import heapq
from collections.abc import Mapping
from typing import Any

from gc_conformance.reference.invariants._core import _ReplayCore
from gc_conformance.reference.invariants._plain import _fmt, _Malformed
from gc_conformance.reference.invariants._records import Key, _IntervalIndex, _Live
from gc_conformance.reference.invariants.findings import Risk
from gc_conformance.reference.lineage import bundle_node, issuance_node


class _IssuanceReplay(_ReplayCore):
    """The ``issue`` effect: ID reuse, overlapping issuance, validity bookkeeping."""

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
