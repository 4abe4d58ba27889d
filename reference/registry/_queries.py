"""Answering a bundle query from the indices, never by scanning the whole registry.

A read, not a request: nothing is logged and nothing changes. The filters are
checked like a request's fields, and only what a filter reads is touched, so a
query costs per result rather than per registry size.
"""

from __future__ import annotations

from collections.abc import Iterable

from gc_conformance.reference.bundles import Bundle, BundleStatus
from gc_conformance.reference.commands import Query
from gc_conformance.reference.entities import require_text
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.registry._contract import _Refuse
from gc_conformance.reference.registry._state import _RegistryState
from gc_conformance.reference.registry._values import _RANGE_START
from gc_conformance.reference.timestamps import Interval


class _Queries(_RegistryState):
    """The query filter over current bundles."""

    # ------------------------------------------------------------------ queries

    def _select(self, query: Query) -> tuple[Bundle, ...]:
        bundles = self._bundles
        is_issuer = query.actor == self.issuer.issuer_id
        # Malformed filters are refused, not left to raise (e.g. an unhashable issuance_id).
        if query.issuance_id is not None and (
            isinstance(query.issuance_id, bool) or not isinstance(query.issuance_id, int)
        ):
            raise _Refuse(
                ErrorCode.INVALID_FIELD, "issuance_id", f"{query.issuance_id!r} is not an ID"
            )
        for name in ("device_id", "energy_source"):
            if getattr(query, name) is not None:
                require_text(getattr(query, name), name)
        status = None
        if query.status is not None:
            try:
                status = BundleStatus[query.status]
            except (KeyError, TypeError):
                raise _Refuse(
                    ErrorCode.INVALID_FIELD, "status", f"{query.status!r} is not a status"
                ) from None
        window: Interval | None = None
        if query.start is not None or query.end is not None:
            window = Interval.parse(query.start, query.end, field="period")
        if query.account_id is not None:
            account = self._known_account(query.account_id, "account_id")
            if not is_issuer and account.holder_id != query.actor:
                raise _Refuse(
                    ErrorCode.NOT_OWNER, "account_id", f"{query.actor!r} does not hold it"
                )
            candidates: Iterable[Bundle] = self._current_by_account[account.account_id].values()
        elif query.issuance_id is not None:
            candidates = (
                [bundles[b] for b in self._current_of_issuance(query.issuance_id)]
                if query.issuance_id in self._current_by_issuance
                else ()
            )
        elif query.device_id is not None:
            held = self._current_by_device.get(query.device_id)
            candidates = () if held is None else held.values()
        elif is_issuer:
            candidates = (bundles[b] for b in self._current_ids())
        else:
            mine = [a for a in self._accounts.values() if a.holder_id == query.actor]
            candidates = (b for a in mine for b in self._current_by_account[a.account_id].values())
        # Touch only what a filter reads (cost per result, not per registry size): bundles
        # drawn from an account the actor was just shown to hold need no holder check, and
        # bundles drawn from the device's own index no device check.
        check_holder = not is_issuer and query.account_id is None
        check_device = query.device_id is not None and (
            query.account_id is not None or query.issuance_id is not None
        )
        needs_issuance = check_device or query.energy_source is not None or window is not None
        if not (
            check_holder or query.issuance_id is not None or status is not None or needs_issuance
        ):
            return tuple(sorted(candidates, key=_RANGE_START))  # nothing to filter
        issuances, accounts = self._issuances, self._accounts
        found = []
        for bundle in candidates:
            if check_holder and accounts[bundle.account_id].holder_id != query.actor:
                continue
            if query.issuance_id is not None and bundle.issuance_id != query.issuance_id:
                continue
            if status is not None and bundle.status is not status:
                continue
            if needs_issuance:
                issuance = issuances[bundle.issuance_id]
                if check_device and issuance.device_id != query.device_id:
                    continue
                if (
                    query.energy_source is not None
                    and issuance.energy_source != query.energy_source
                ):
                    continue
                if window is not None and not (
                    issuance.production_start < window.end
                    and window.start < issuance.production_end
                ):
                    continue
            found.append(bundle)
        return tuple(sorted(found, key=_RANGE_START))
