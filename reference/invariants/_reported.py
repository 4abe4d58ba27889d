"""Accounts, conservation and the reported state: the checks that close a replay.

Once every action is replayed, each issuance's certificates must be exactly partitioned by
its bundles, every account a transfer named must exist, and a registry's reported state
must agree with the history it gave (STATE_MISMATCH otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gc_conformance.reference.invariants._core import _ReplayCore
from gc_conformance.reference.invariants._plain import _identifier
from gc_conformance.reference.invariants.findings import Risk
from gc_conformance.reference.lineage import SPLIT, STATUSES, leaves


class _ReportedState(_ReplayCore):
    """The ``account`` effect and the whole-history checks."""

    def account(self, e: Mapping[str, Any]) -> None:
        self.accounts.add(_identifier(e["account_id"], "account_id"))

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


def _entries(replay: _ReplayCore, state: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
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
