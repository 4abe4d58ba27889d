"""What the EAC registry must do to follow a GC registry's effects (#2).

Cancelling, withdrawing or expiring GCs backed by EACs changes those EACs
too; this works out, from the planned effects alone, which EACs are backed,
cancelled, released or expired, and which links a withdrawal gives back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gc_conformance.reference.bundles import BundleStatus
from gc_conformance.reference.configurations._common import _ENDED_BY_USE
from gc_conformance.reference.configurations._effects import EacSync, GcLinked, GcUnlinked
from gc_conformance.reference.configurations._state import _LinkBookState
from gc_conformance.reference.eac import EacStatus
from gc_conformance.reference.effects import Issued, Split, StatusChanged


class _EacSyncPlanning(_LinkBookState):
    """Planning the EAC side of GC changes: unlinks and the EacSync request."""

    def _planned_bundles(self, effects: Sequence[Any]) -> dict[int, tuple[int, int]]:
        """bundle ID -> (issuance ID, Wh) for the bundles an action acts on or creates."""
        found: dict[int, tuple[int, int]] = {}
        registry = self._registry
        for effect in effects:
            if isinstance(effect, Split):
                parent = found.get(effect.parent_id)
                if parent is None:
                    bundle = registry.bundle(effect.parent_id)
                    if bundle is None:
                        continue
                    parent = (bundle.issuance_id, bundle.quantity)
                for child, start, end in effect.children:
                    found[child] = (parent[0], end - start + 1)
            elif isinstance(effect, Issued):
                found[effect.bundle_id] = (effect.issuance.issuance_id, effect.issuance.quantity)
        return found

    def _bundle_info(self, planned: Mapping[int, tuple[int, int]], bundle_id: int) -> Any:
        info = planned.get(bundle_id)
        if info is None:
            bundle = self._registry.bundle(bundle_id)
            if bundle is None:
                return None
            info = (bundle.issuance_id, bundle.quantity)
        return info

    def _unlinks(self, effects: Sequence[Any]) -> list[Any]:
        """#2: withdrawn GCs give their Wh back to the EACs, last link first."""
        planned = self._planned_bundles(effects)
        withdrawn: dict[int, int] = {}
        for effect in effects:
            if isinstance(effect, StatusChanged) and effect.new is BundleStatus.WITHDRAWN:
                info = self._bundle_info(planned, effect.bundle_id)
                if info is not None and self._links.get(info[0]):
                    withdrawn[info[0]] = withdrawn.get(info[0], 0) + info[1]
        unlinks: list[Any] = []
        for issuance_id, wh in sorted(withdrawn.items()):
            left = wh
            given: list[tuple[str, int]] = []
            for eac_id, linked_wh in reversed(self._links[issuance_id]):
                if left == 0:
                    break
                share = min(left, linked_wh)
                if share:
                    given.append((eac_id, share))
                    left -= share
            unlinks.append(GcUnlinked(issuance_id, tuple(given)))
        return unlinks

    def eac_sync(self, effects: Sequence[Any], handled: Sequence[str] = ()) -> EacSync:
        """What the EAC registry must do to follow ``effects`` (EACs in ``handled`` excepted)."""
        registry = self._registry
        issuer_id = registry.issuer.issuer_id
        skip = set(handled)
        back: list[str] = []
        link_cancelled: list[str] = []
        for effect in effects:
            if isinstance(effect, GcLinked):
                for eac_id, _ in effect.links:
                    eac = self.eac.eac(eac_id)
                    if eac is None or eac_id in skip or eac.gc_issuer_id == issuer_id:
                        continue
                    target = back if effect.configuration == 2 else link_cancelled
                    if eac_id not in target:
                        target.append(eac_id)
        if registry.issuer.configuration != 2:
            return EacSync(link_cancelled=tuple(link_cancelled))
        planned = self._planned_bundles(effects)
        cancel: set[str] = set()
        ending: set[int] = set()
        touched: set[int] = set()
        for effect in effects:
            if not isinstance(effect, StatusChanged):
                continue
            info = self._bundle_info(planned, effect.bundle_id)
            if info is None or not self._links.get(info[0]):
                continue
            if effect.new in _ENDED_BY_USE:
                cancel.update(e for e, _ in self._links[info[0]])
            elif effect.new is BundleStatus.EXPIRED:
                ending.add(effect.bundle_id)
                touched.add(info[0])
        given_back: dict[str, int] = {}
        for effect in effects:
            if isinstance(effect, GcUnlinked):
                for eac_id, wh in effect.links:
                    given_back[eac_id] = given_back.get(eac_id, 0) + wh
        release = {e for e, wh in given_back.items() if self._linked_wh.get(e, 0) - wh <= 0}
        expire: set[str] = set()
        for issuance_id in touched:
            for eac_id, _ in self._links[issuance_id]:
                if all(
                    not self._live_outside(other, ending)
                    for other in self._issuances_of_eac.get(eac_id, ())
                    if self._links.get(other)
                ):
                    expire.add(eac_id)

        def backing(ids: set[str]) -> tuple[str, ...]:
            chosen = []
            for eac_id in sorted(ids - skip):
                eac = self.eac.eac(eac_id)
                if eac is not None and eac.status is EacStatus.BACKING_GC:
                    chosen.append(eac_id)
            return tuple(chosen)

        cancelled = backing(cancel)
        released = backing(release - cancel)
        expired = backing(expire - cancel - release)
        return EacSync(tuple(back), tuple(link_cancelled), cancelled, released, expired)

    def _live_outside(self, issuance_id: int, ending: set[int]) -> bool:
        return any(
            b.status.is_live and b.bundle_id not in ending
            for b in self._registry.bundles_of_issuance(issuance_id)
        )
