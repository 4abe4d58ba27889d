"""Replaying what happens to a bundle: splits, transfers, status changes, expiry sweeps.

These effects move or use certificates, so they evidence risks 2, 4, 5 and 6 (a bundle
in two places, cancelled or claimed twice, claimed by someone else) and D8 validity (used
after expiry, the own-hour exemption, left live by a sweep).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any

from gc_conformance.reference.invariants._core import _ReplayCore
from gc_conformance.reference.invariants._plain import (
    _NEEDS_VALIDITY,
    _PURPOSE,
    _fmt,
    _Malformed,
    _named,
)
from gc_conformance.reference.invariants._records import _Live
from gc_conformance.reference.invariants.findings import Risk
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


class _LineageReplay(_ReplayCore):
    """The ``split``, ``transfer`` and ``status`` effects and the expiry sweep."""

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
