"""The link book: the GC registry's record of the EACs behind its GCs (#2 and #3).

This module composes the book's parts and keeps what makes it a book: the
deciders it hands the registry (every existing one sealed), the single
``apply`` of its effects, its fingerprint and its reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from gc_conformance.reference.commands import (
    Cancel,
    CorrectProduction,
    IssueBundle,
    SubmitProduction,
)
from gc_conformance.reference.configurations._commands import (
    CancelLinkedGcs,
    ConvertEacs,
    IssueFromCancelledEacs,
    IssueLinkedGcs,
)
from gc_conformance.reference.configurations._config2 import _Config2Decisions
from gc_conformance.reference.configurations._config3 import _Config3Decisions
from gc_conformance.reference.configurations._effects import GcLinked, GcUnlinked, HourSuspended
from gc_conformance.reference.configurations._hours import _HourPlanning
from gc_conformance.reference.configurations._routing import _CorrectionRouting
from gc_conformance.reference.configurations._sealing import _Sealing
from gc_conformance.reference.configurations._state import _LinkBookState
from gc_conformance.reference.configurations._sync import _EacSyncPlanning


class LinkBook(
    _Sealing,
    _EacSyncPlanning,
    _CorrectionRouting,
    _HourPlanning,
    _Config2Decisions,
    _Config3Decisions,
    _LinkBookState,
):
    """The GC registry's record of the EACs behind its GCs (#2 and #3)."""

    effect_types: tuple[type, ...] = (GcLinked, HourSuspended, GcUnlinked)

    def deciders(self) -> Mapping[type, Any]:
        """The linked requests, and every other request of the registry sealed (D3).

        Every decider the registry already has (core and storage) is wrapped by
        :meth:`_seal`, so that no path into a #2/#3 registry can issue an unlinked
        GC or change GCs without the EAC registry following.
        """
        registry = self._registry
        found: dict[type, Any] = {}
        for command_type in registry.command_types():
            decide = registry.decider(command_type)
            assert decide is not None
            found[command_type] = self._sealed(decide)
        for command_type in (SubmitProduction, IssueBundle):
            found[command_type] = self._refused_unlinked(found[command_type])
        correct = registry.decider(CorrectProduction)
        assert correct is not None
        found[CorrectProduction] = self._sealed(self._routed_correction(correct))
        found.update(
            {
                IssueLinkedGcs: self._sealed(self._decide_issue_linked),
                CancelLinkedGcs: self._sealed(self._decide_cancel_linked),
                ConvertEacs: self._sealed(self._decide_convert),
                IssueFromCancelledEacs: self._sealed(self._decide_issue_from_cancelled),
            }
        )
        if registry.issuer.configuration == 2:
            found[Cancel] = self._sealed(self._plain_cancel(found[Cancel]))
        return found

    def fingerprint(self) -> tuple[Any, ...]:
        return (
            tuple(sorted(self._linked_wh.items())),
            tuple(sorted(self._links.items())),
            tuple(sorted(self._beneficiaries.items())),
            tuple(self._suspended),
        )

    def apply(self, effect: Any) -> None:
        if isinstance(effect, GcLinked):
            self._links[effect.issuance_id] = effect.links
            if effect.beneficiary is not None:
                self._beneficiaries[effect.issuance_id] = effect.beneficiary
            for eac_id, wh in effect.links:
                self._linked_wh[eac_id] = self._linked_wh.get(eac_id, 0) + wh
                self._issuances_of_eac[eac_id] = (
                    *self._issuances_of_eac.get(eac_id, ()),
                    effect.issuance_id,
                )
        elif isinstance(effect, GcUnlinked):
            remaining = dict(self._links[effect.issuance_id])
            for eac_id, wh in effect.links:
                remaining[eac_id] -= wh
                self._linked_wh[eac_id] -= wh
            self._links[effect.issuance_id] = tuple(
                (e, wh)
                for e, wh in self._links[effect.issuance_id]
                if remaining[e] > 0
                for wh in (remaining[e],)
            )
        elif isinstance(effect, HourSuspended):
            self._suspended.append(effect)

    # ---- reads

    def linked_wh(self, eac_id: str) -> int:
        """GC Wh issued against an EAC so far."""
        return self._linked_wh.get(eac_id, 0)

    def links(self, issuance_id: int) -> tuple[tuple[str, int], ...]:
        return self._links.get(issuance_id, ())

    @property
    def suspensions(self) -> tuple[HourSuspended, ...]:
        return tuple(self._suspended)

    @contextlib.contextmanager
    def coordinating(self) -> Iterator[None]:
        self._coordinating = True
        try:
            yield
        finally:
            self._coordinating = False
