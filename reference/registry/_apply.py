"""The one place state changes: applying effects, re-checking each effect's local invariant.

Every container and index is written here and nowhere else (a book's own state
is written by its ``apply``, called from here). A broken invariant is a bug in
the oracle, raised as :class:`ModelInvariantBroken`, never a verdict.
"""

from __future__ import annotations

import bisect
import heapq
from decimal import Decimal

from gc_conformance.reference.bundles import Bundle, BundleStatus
from gc_conformance.reference.effects import (
    AccountOpened,
    DebtChanged,
    DeviceRegistered,
    Issued,
    ReadingRecognised,
    Split,
    StatusChanged,
    Transferred,
)
from gc_conformance.reference.entities import GrossOrNet
from gc_conformance.reference.errors import ModelInvariantBroken
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.registry._values import _LIVE


class _Apply(_RegistryState):
    """``_apply`` and the appliers of the core effect types."""

    # ------------------------------------------------------------------ the one place state changes

    def _apply(self, effect: object) -> None:
        apply = self._appliers.get(type(effect))  # the core effects, by exact type
        if apply is not None:
            apply(effect)
        elif isinstance(effect, Split):
            self._apply_split(effect)
        elif isinstance(effect, Transferred):
            self._apply_transferred(effect)
        elif isinstance(effect, StatusChanged):
            self._apply_status(effect)
        elif isinstance(effect, Issued):
            self._apply_issued(effect)
        elif isinstance(effect, ReadingRecognised):
            self._apply_reading(effect)
        elif isinstance(effect, DebtChanged):
            debts = self._debts.setdefault(effect.device_id, {})
            if effect.remaining_wh < 0:
                raise ModelInvariantBroken(f"negative deduction {effect}")
            if effect.remaining_wh:
                debts[effect.debt_id] = effect
            else:
                debts.pop(effect.debt_id, None)
            self._next_debt_id = max(self._next_debt_id, effect.debt_id + 1)
        elif isinstance(effect, AccountOpened):
            self._accounts[effect.account.account_id] = effect.account
            self._current_by_account[effect.account.account_id] = {}
        elif isinstance(effect, DeviceRegistered):
            if effect.device.meter_id in self._device_by_meter:
                raise ModelInvariantBroken(f"meter ID reused by {effect}")
            self._devices[effect.device.device_id] = effect.device
            self._device_by_meter[effect.device.meter_id] = effect.device.device_id
            self._current_by_device[effect.device.device_id] = {}
        else:
            owner = self._effect_owner.get(type(effect))
            if owner is None:
                raise ModelInvariantBroken(f"no book applies {effect!r}")
            owner.apply(effect)

    def _apply_transferred(self, effect: Transferred) -> None:
        bundle = self._live_current(effect.bundle_id)
        if bundle.account_id != effect.from_account or bundle.status is not BundleStatus.ACTIVE:
            raise ModelInvariantBroken(f"transfer of {bundle} from {effect.from_account}")
        bundle_id = bundle.bundle_id
        by_account = self._current_by_account
        by_account[bundle.account_id].pop(bundle_id, None)
        receiving = by_account[effect.to_account]
        self._transferred.add(bundle_id)
        self._bundles[bundle_id] = receiving[bundle_id] = moved = Bundle(
            bundle_id,
            bundle.issuance_id,
            bundle.range_start,
            bundle.range_end,
            effect.to_account,
            bundle.status,
            bundle.parent_id,
            bundle.cancellation,
            bundle.claimant,
        )
        self._replace_in_device_index(moved)

    def _apply_status(self, effect: StatusChanged) -> None:
        bundle = self._live_current(effect.bundle_id)
        old, new = bundle.status, effect.new
        if old is not effect.old:
            raise ModelInvariantBroken(f"status change {effect} on {bundle}")
        if effect.locked_by_issuer and new is not BundleStatus.LOCKED:
            raise ModelInvariantBroken(f"an issuer lock that does not lock: {effect}")
        bundle_id = bundle.bundle_id
        issuer_locks = self._issuer_locks
        issuer_locks.discard(bundle_id)
        if effect.locked_by_issuer:
            issuer_locks.add(bundle_id)
        self._count_live(bundle.issuance_id, (new in _LIVE) - (old in _LIVE))
        self._bundles[bundle_id] = changed = Bundle(
            bundle_id,
            bundle.issuance_id,
            bundle.range_start,
            bundle.range_end,
            bundle.account_id,
            new,
            bundle.parent_id,
            effect.cancellation or bundle.cancellation,
            effect.claimant or bundle.claimant,
        )
        held = self._current_by_account[bundle.account_id]
        if bundle_id in held:
            held[bundle_id] = changed
        self._replace_in_device_index(changed)

    def _replace_in_device_index(self, bundle: Bundle) -> None:
        """The device index holds ``bundle``, the new record of a current bundle it holds."""
        held = self._current_by_device[self._issuances[bundle.issuance_id].device_id]
        if bundle.bundle_id in held:
            held[bundle.bundle_id] = bundle

    def _apply_reading(self, effect: ReadingRecognised) -> None:
        device_id = effect.device_id
        carried = effect.carried
        if carried is not None:
            remainder = Decimal(0) if carried == "0" else Decimal(carried)
            if remainder:
                self._carries[device_id] = remainder
            else:
                self._carries.pop(device_id, None)
        key = (device_id, effect.start)
        readings = self._readings
        if key not in readings:
            starts = self._reading_starts.get(device_id)
            if starts is None:
                self._reading_starts[device_id] = [effect.start]
            elif not starts or starts[-1] < effect.start:  # usual: readings come in time order
                starts.append(effect.start)
            else:
                bisect.insort(starts, effect.start)
        GrossOrNet[effect.gross_or_net]  # a name the production record can hold
        readings[key] = effect

    def _count_live(self, issuance_id: int, change: int) -> None:
        """Keep the live-bundle count of an issuance, and the expiry queue in step with it."""
        if not change:
            return
        before = self._live_bundles.get(issuance_id, 0)
        after = before + change
        if after < 0:
            raise ModelInvariantBroken(f"issuance {issuance_id} would have {after} live bundles")
        self._live_bundles[issuance_id] = after
        if after and not before:  # live again: back into the queue (a duplicate is harmless)
            heapq.heappush(self._expiry_queue, (self._issuances[issuance_id].expiry, issuance_id))
        elif not after:
            # Nothing of it left to expire. Entries leave the queue from the top only, so
            # drop every ended one there; one further down goes when it reaches the top.
            queue = self._expiry_queue
            while queue and not self._live_bundles.get(queue[0][1]):
                heapq.heappop(queue)

    def _live_current(self, bundle_id: int) -> Bundle:
        bundle = self._bundles.get(bundle_id)
        if bundle is None or bundle.status is BundleStatus.BUNDLE_SPLIT:
            raise ModelInvariantBroken(f"effect on missing or superseded bundle {bundle_id}")
        return bundle

    def _apply_issued(self, effect: Issued) -> None:
        issuance = effect.issuance
        issuance_id, bundle_id = issuance.issuance_id, effect.bundle_id
        range_start, range_end = issuance.range_start, issuance.range_end
        if range_start < 1 or range_end < range_start:
            raise ModelInvariantBroken(f"empty or invalid range in {issuance}")
        if self._range_clash(range_start, range_end) is not None:
            raise ModelInvariantBroken(f"certificate IDs reused by issuance {issuance_id}")
        if (
            issuance_id in self._issuances
            or bundle_id in self._bundles
            or bundle_id in self._superseded
        ):
            raise ModelInvariantBroken(f"identifier reused by {effect}")
        starts, ends = self._range_starts, self._range_ends
        if not starts or starts[-1] < range_start:  # the usual case: IDs allocated in order
            starts.append(range_start)
            ends.append(range_end)
        else:
            index = bisect.bisect_left(starts, range_start)
            starts.insert(index, range_start)
            ends.insert(index, range_end)
        self._issuances[issuance_id] = issuance
        account_id = issuance.account_id
        self._bundles[bundle_id] = bundle = Bundle(
            bundle_id, issuance_id, range_start, range_end, account_id, BundleStatus.ACTIVE
        )
        self._current_by_account[account_id][bundle_id] = bundle
        self._current_by_issuance[issuance_id] = bundle_id
        self._current_by_device[issuance.device_id][bundle_id] = bundle
        key = (issuance.device_id, issuance.production_start)
        by_reading = self._issuances_by_reading
        prior = by_reading.get(key)
        if prior is None:
            by_reading[key] = issuance_id
        elif isinstance(prior, list):
            prior.append(issuance_id)
        else:
            by_reading[key] = [prior, issuance_id]
        self._count_live(issuance_id, 1)  # its first bundle is ACTIVE: into the queue
        if range_end >= self._next_certificate_id:
            self._next_certificate_id = range_end + 1
        if bundle_id >= self._next_bundle_id:
            self._next_bundle_id = bundle_id + 1
        if issuance_id >= self._next_issuance_id:
            self._next_issuance_id = issuance_id + 1

    def _apply_split(self, effect: Split) -> None:
        parent = self._live_current(effect.parent_id)
        bundles, superseded = self._bundles, self._superseded
        position = parent.range_start
        for bundle_id, start, end in effect.children:
            if start != position or end < start or bundle_id in bundles or bundle_id in superseded:
                raise ModelInvariantBroken(f"{effect} does not partition {parent}")
            position = end + 1
        if position != parent.range_end + 1:
            raise ModelInvariantBroken(f"{effect} does not cover {parent}")
        parent_id, issuance_id = parent.bundle_id, parent.issuance_id
        account_id, status = parent.account_id, parent.status
        cancellation, claimant = parent.cancellation, parent.claimant
        del bundles[parent_id]
        superseded[parent_id] = parent  # read as BUNDLE_SPLIT (see _as_split)
        by_account = self._current_by_account[account_id]
        by_device = self._current_by_device[self._issuances[issuance_id].device_id]
        by_issuance = self._current_by_issuance[issuance_id]
        if isinstance(by_issuance, int):
            # The issuance's first split: until now it had this one bundle; from here on a
            # set, built exactly as if it had been one from the start.
            by_issuance = {by_issuance}
            self._current_by_issuance[issuance_id] = by_issuance
        by_account.pop(parent_id, None)
        by_device.pop(parent_id, None)
        by_issuance.discard(parent_id)
        # Children carry on what is known of the parent: transferred, locked by the issuer.
        transferred, issuer_locks = self._transferred, self._issuer_locks
        moved = parent_id in transferred
        issuer_lock = parent_id in issuer_locks
        transferred.discard(parent_id)
        issuer_locks.discard(parent_id)
        if status in _LIVE:
            self._count_live(issuance_id, len(effect.children) - 1)
        for bundle_id, start, end in effect.children:
            if moved:
                transferred.add(bundle_id)
            if issuer_lock:
                issuer_locks.add(bundle_id)
            bundles[bundle_id] = by_account[bundle_id] = by_device[bundle_id] = Bundle(
                bundle_id,
                issuance_id,
                start,
                end,
                account_id,
                status,
                parent_id,
                cancellation,
                claimant,
            )
            by_issuance.add(bundle_id)
            if bundle_id >= self._next_bundle_id:
                self._next_bundle_id = bundle_id + 1
