"""The double-counting invariant checker (D4), over plain histories.

Input is plain data, not model objects, because the same checker judges
histories observed from third-party registries: a list of actions in the form
:meth:`ActionRecord.to_plain` produces (``action_id``, ``accepted``,
``effects``), and optionally the registry's reported current state
(``{"bundles": [...]}`` as :func:`bundle_to_plain` writes them). Rejected
actions are skipped; malformed entries are findings, never crashes.

Each finding names the D4 risk it evidences:

1. DOUBLE_ISSUANCE      two issuances for one device and overlapping interval
                        (an upward D10 correction names what it corrects)
2. DOUBLE_IN_TRANSFER   a transfer of a bundle that was not live in the source
                        account, or a bundle acted on after it was superseded
3. DOUBLE_REGISTRATION  a certificate ID or bundle ID issued twice (e.g. reused
                        after a withdrawal)
4. DOUBLE_CANCELLATION  cancelling certificates that were no longer live
5. DOUBLE_USE           claiming certificates not cancelled for consumption, or
                        claimed already
6. DOUBLE_DISCLOSURE    a claim by someone other than the beneficiary the
                        certificates were cancelled for, or on certificates
                        cancelled for storage charging

plus CONSERVATION (an issuance's certificates are not exactly partitioned by
its current bundles), STATE_MISMATCH (the reported state disagrees with the
history) and MALFORMED_HISTORY.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import networkx as nx

from gc_conformance.reference.lineage import (
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


@attrs.define
class _Live:
    """Replay state of one bundle."""

    issuance_id: Any
    start: int
    end: int
    account: Any
    status: str
    beneficiary: Any = None
    purpose: Any = None
    superseded: bool = False


class _Replay:
    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self.findings: list[Finding] = []
        self.bundles: dict[Any, _Live] = {}
        self.issuances: dict[Any, tuple[int, int]] = {}
        self.range_starts: list[int] = []
        self.range_ends: list[int] = []
        # device -> (sorted starts, (start, end, issuance_id) in the same order)
        self.intervals: dict[
            Any, tuple[list[_dt.datetime], list[tuple[_dt.datetime, _dt.datetime, Any]]]
        ] = {}
        self.longest: dict[Any, _dt.timedelta] = {}
        self.action_id: Any = None
        self.storage = StorageReplay()
        self.stamps: dict[str, _dt.datetime] = {}  # wire stamp -> parsed (hours repeat a lot)

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

    # --- effects -------------------------------------------------------------------

    def issue(self, e: Mapping[str, Any]) -> None:
        iid, bid = e["issuance_id"], e["bundle_id"]
        start, end = int(e["range_start"]), int(e["range_end"])
        if end < start:
            self.find(Risk.CONSERVATION, f"issuance {iid} has an empty range {start}..{end}", bid)
            return
        if iid in self.issuances:
            self.find(Risk.DOUBLE_REGISTRATION, f"issuance ID {iid} issued twice", bid)
        if bid in self.bundles:
            self.find(Risk.DOUBLE_REGISTRATION, f"bundle ID {bid} reused by issuance {iid}", bid)
        index = bisect.bisect_right(self.range_starts, end)
        if index and self.range_ends[index - 1] >= start:
            self.find(
                Risk.DOUBLE_REGISTRATION,
                f"certificate IDs {start}..{end} of issuance {iid} overlap IDs "
                f"{self.range_starts[index - 1]}..{self.range_ends[index - 1]} issued before",
                bid,
            )
        self.range_starts.insert(index, start)
        self.range_ends.insert(index, end)
        device = e.get("device_id")
        p_start, p_end = e.get("production_start"), e.get("production_end")
        corrects = e.get("corrects_issuance_id")
        if device is not None and p_start is not None and p_end is not None:
            self._check_interval(
                device,
                self._stamp(p_start, "production_start"),
                self._stamp(p_end, "production_end"),
                iid,
                bid,
                corrects,
            )
        self.issuances[iid] = (start, end)
        self.graph.add_node(
            issuance_node(iid),
            device_id=device,
            production_start=p_start,
            production_end=p_end,
            range_start=start,
            range_end=end,
            quantity=end - start + 1,
        )
        self.bundles[bid] = _Live(iid, start, end, e.get("account_id"), "ACTIVE")
        self._bundle_node(bid, "issue")
        self.graph.add_edge(issuance_node(iid), bundle_node(bid), kind="issue")

    def _check_interval(
        self,
        device: Any,
        p_start: _dt.datetime,
        p_end: _dt.datetime,
        iid: Any,
        bid: Any,
        corrects: Any,
    ) -> None:
        """Risk 1: no two issuances for one device and overlapping interval, unless a correction.

        Per device, issued intervals are kept sorted by start; only those starting within
        the longest interval seen before ``p_start`` can overlap, so the cost stays
        logarithmic however many hours a device has.
        """
        starts, entries = self.intervals.setdefault(device, ([], []))
        longest = self.longest.get(device, _dt.timedelta(0))
        index = bisect.bisect_left(starts, p_end)
        if corrects is not None:
            low = bisect.bisect_left(starts, p_start)
            same = [entry for entry in entries[low:index] if entry == (p_start, p_end, corrects)]
            if not same:
                # A D10 upward correction must name an earlier issuance of the same device and
                # interval; otherwise "correction" would be a label that hides double issuance.
                self.find(
                    Risk.DOUBLE_ISSUANCE,
                    f"issuance {iid} claims to correct issuance {corrects}, which is not an earlier "
                    f"issuance of device {device!r} for {p_start:%Y-%m-%dT%H:%M:%SZ}",
                    bid,
                )
        else:
            position = index - 1
            while position >= 0 and starts[position] >= p_start - longest:
                other_start, other_end, other_iid = entries[position]
                if other_end > p_start:
                    self.find(
                        Risk.DOUBLE_ISSUANCE,
                        f"issuance {iid} for device {device!r} from {p_start:%Y-%m-%dT%H:%M:%SZ} "
                        f"overlaps issuance {other_iid} from {other_start:%Y-%m-%dT%H:%M:%SZ}",
                        bid,
                    )
                position -= 1
        insert_at = bisect.bisect_right(starts, p_start)
        starts.insert(insert_at, p_start)
        entries.insert(insert_at, (p_start, p_end, iid))
        self.longest[device] = max(longest, p_end - p_start)

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

    def split(self, e: Mapping[str, Any]) -> None:
        pid = e["parent_id"]
        parent = self._current(pid, Risk.DOUBLE_IN_TRANSFER, "split")
        if parent is None:
            return
        position = parent.start
        for child in e["children"]:
            cid, start, end = child["bundle_id"], int(child["range_start"]), int(child["range_end"])
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
        self.graph.nodes[bundle_node(pid)]["status"] = "BUNDLE_SPLIT"

    def transfer(self, e: Mapping[str, Any]) -> None:
        bid = e["bundle_id"]
        live = self._current(bid, Risk.DOUBLE_IN_TRANSFER, "transfer")
        if live is None:
            return
        if live.status != "ACTIVE":
            self.find(Risk.DOUBLE_IN_TRANSFER, f"transfer of bundle {bid} while {live.status}", bid)
        if live.account != e["from_account"]:
            self.find(
                Risk.DOUBLE_IN_TRANSFER,
                f"bundle {bid} transferred from {e['from_account']!r} but held in {live.account!r}",
                bid,
            )
        live.account = e["to_account"]
        node = self.graph.nodes[bundle_node(bid)]
        node["account"] = live.account
        node["events"].append(f"transfer {e['from_account']} -> {e['to_account']}")

    def status(self, e: Mapping[str, Any]) -> None:
        bid, new = e["bundle_id"], e["to"]
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
        if new in ("CANCELLED", "CANCELLED_FOR_STORAGE") and old not in ("ACTIVE",):
            self.find(Risk.DOUBLE_CANCELLATION, f"bundle {bid} cancelled while {old}", bid)
        elif new == "CLAIMED":
            if old == "CANCELLED_FOR_STORAGE":
                self.find(
                    Risk.DOUBLE_DISCLOSURE,
                    f"bundle {bid} was cancelled for storage charging and then claimed for consumption",
                    bid,
                )
            elif old != "CANCELLED":
                self.find(Risk.DOUBLE_USE, f"bundle {bid} claimed while {old}", bid)
            claimant = e.get("claimant")
            if old == "CANCELLED" and claimant is not None and claimant != live.beneficiary:
                self.find(
                    Risk.DOUBLE_DISCLOSURE,
                    f"bundle {bid} cancelled for {live.beneficiary!r} but claimed by {claimant!r}",
                    bid,
                )
        elif new in ("RESERVED", "LOCKED", "WITHDRAWN", "EXPIRED", "EXPORTED") and old not in (
            "ACTIVE",
            "RESERVED",
            "LOCKED",
        ):
            self.find(Risk.DOUBLE_IN_TRANSFER, f"bundle {bid} made {new} while {old}", bid)
        elif new == "ACTIVE" and old not in ("RESERVED", "LOCKED"):
            self.find(Risk.DOUBLE_IN_TRANSFER, f"bundle {bid} made live again from {old}", bid)
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

    def compare_state(self, state: Mapping[str, Any]) -> None:
        self.action_id = None
        reported: dict[Any, Mapping[str, Any]] = {}
        for plain in state.get("bundles", []):
            bid = plain.get("bundle_id")
            if bid in reported:
                self.find(Risk.STATE_MISMATCH, f"bundle {bid} reported twice", bid)
            reported[bid] = plain
        expected = {bid: live for bid, live in self.bundles.items() if not live.superseded}
        for bid, live in expected.items():
            plain = reported.get(bid)
            if plain is None:
                self.find(
                    Risk.STATE_MISMATCH, f"bundle {bid} is missing from the reported state", bid
                )
                continue
            seen = (
                plain.get("certificate_bundle_id_range_start"),
                plain.get("certificate_bundle_id_range_end"),
                plain.get("account_id"),
                plain.get("certificate_bundle_status"),
            )
            want = (live.start, live.end, live.account, live.status)
            if seen != want:
                self.find(
                    Risk.STATE_MISMATCH,
                    f"bundle {bid} reported as (range {seen[0]}..{seen[1]}, {seen[2]!r}, {seen[3]}) "
                    f"but its history gives (range {want[0]}..{want[1]}, {want[2]!r}, {want[3]})",
                    bid,
                )
        for bid in reported.keys() - expected.keys():
            self.find(
                Risk.STATE_MISMATCH, f"bundle {bid} is reported but no history creates it", bid
            )
        live_ranges: list[tuple[int, int, Any]] = sorted(
            (start, end, bid)
            for bid, p in reported.items()
            for start, end in [
                (
                    p.get("certificate_bundle_id_range_start"),
                    p.get("certificate_bundle_id_range_end"),
                )
            ]
            if isinstance(start, int) and isinstance(end, int)
        )
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


_EFFECTS = {
    "issue": _Replay.issue,
    "split": _Replay.split,
    "transfer": _Replay.transfer,
    "status": _Replay.status,
}
# Effects that carry no certificate lineage (registration, readings, D10 debts).
_IGNORED = frozenset({"account", "device", "reading", "debt", "eac_link", "suspension"})


def check_invariants(
    history: Iterable[Mapping[str, Any]], state: Mapping[str, Any] | None = None
) -> InvariantReport:
    """Replay ``history`` and report every double-counting finding; compare ``state`` if given."""
    replay = _Replay()
    count = 0
    for action in history:
        count += 1
        replay.action_id = action.get("action_id") if isinstance(action, Mapping) else None
        try:
            if not action.get("accepted", True):
                continue
            for effect in action.get("effects", ()):
                kind = effect.get("effect")
                handler = _EFFECTS.get(kind)
                if handler is not None:
                    handler(replay, effect)
                elif kind in STORAGE_EFFECTS:
                    replay.storage.handle(replay, effect)
                elif kind not in _IGNORED:
                    replay.find(Risk.MALFORMED_HISTORY, f"unknown effect {kind!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            replay.find(Risk.MALFORMED_HISTORY, f"unreadable entry: {type(exc).__name__}: {exc}")
    replay.conservation()
    replay.storage.finish(replay)
    if state is not None:
        replay.compare_state(state)
    return InvariantReport(tuple(replay.findings), count, replay.graph)
