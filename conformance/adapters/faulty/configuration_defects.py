"""Faulty registries whose defect sits in the link book of configurations #2 and #3 (D3):
an unlinked path left open, a #3 GC left transferable, D10 deductions skipped."""

import datetime as _dt
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from gc_conformance.adapters.faulty._base import FaultyAdapter
from gc_conformance.reference import (
    BundleStatus,
    IssueFromCancelledEacs,
    LinkBook,
    LinkedRegistries,
    Registry,
)
from gc_conformance.reference.effects import Issued, StatusChanged


class _TransferableLinkBook(LinkBook):
    """Issues configuration #3 GCs as ordinary active, transferable GCs."""

    def deciders(self) -> Mapping[type, Any]:
        table = dict(super().deciders())
        decide = table[IssueFromCancelledEacs]

        def issue_as_ordinary(cmd: Any, now: _dt.datetime) -> Any:
            value, effects = decide(cmd, now)
            kept: list[Any] = []
            for effect in effects:
                if isinstance(effect, Issued):
                    issuance = attrs.evolve(effect.issuance, transferable=True)
                    effect = attrs.evolve(effect, issuance=issuance)
                elif isinstance(effect, StatusChanged) and effect.new is BundleStatus.CANCELLED:
                    continue  # the immediate cancellation for the beneficiary is skipped
                kept.append(effect)
            return value, kept

        table[IssueFromCancelledEacs] = issue_as_ordinary
        return table


class Config3GcTransferable(FaultyAdapter):
    """Configuration #3 GCs are issued as ordinary, active and transferable GCs.

    The #3 issuance reuses the registry's ordinary issuance path: it forgets
    both the non-transferable flag and the cancellation for the EAC's
    beneficiary at issuance, so the GCs land in the account as active
    certificates that can be sold on although the EACs behind them were
    already cancelled for a beneficiary.

    Breaks CONF-013 (configuration #3 GCs cannot change owner) and CONF-012 (they are
    cancelled for the EACs' beneficiary at issuance).
    """

    fault = "config3-gc-transferable"
    description = (
        "configuration #3 GCs are issued active and transferable, not cancelled at issuance"
    )
    breaks = ("CONF-013", "CONF-012")

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        if setup.get("configuration") == 3 and self._eac is not None:
            from gc_conformance.reference._books import standard_books

            eac, chosen = self._eac, self.configuration_policies

            def factory(registry: Registry) -> LinkBook:
                return _TransferableLinkBook(registry, eac, chosen)

            built = self.registry
            gc = Registry(built.issuer, built.policies, books=(*standard_books(), factory))
            self._linked = LinkedRegistries(eac, gc)
            self._registry = gc


class _LinkBookFault(FaultyAdapter):
    """A #2/#3 registry whose link book is ``book_type`` (a LinkBook with one defect)."""

    book_type: ClassVar[type[LinkBook]] = LinkBook

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        if setup.get("configuration") in (2, 3) and self._eac is not None:
            from gc_conformance.reference._books import standard_books

            eac, chosen, book_type = self._eac, self.configuration_policies, self.book_type

            def factory(registry: Registry) -> LinkBook:
                return book_type(registry, eac, chosen)

            built = self.registry
            gc = Registry(built.issuer, built.policies, books=(*standard_books(), factory))
            self._linked = LinkedRegistries(eac, gc)
            self._registry = gc


class _UnsealedLinkBook(LinkBook):
    """Decides ordinary issuance and corrections as a configuration #1 registry would."""

    def deciders(self) -> Mapping[type, Any]:
        from gc_conformance.reference.commands import (
            CorrectProduction,
            IssueBundle,
            SubmitProduction,
        )

        table = dict(super().deciders())
        for command_type, name in (
            (SubmitProduction, "_decide_submit_production"),
            (IssueBundle, "_decide_issue_bundle"),
            (CorrectProduction, "_decide_correct_production"),
        ):
            table[command_type] = getattr(self._registry, name)
        return table


class OrdinaryIssuanceUnlinked(_LinkBookFault):
    """Configuration #2/#3 registries accept ordinary issuance with no EAC behind it.

    Production submissions, issuer-created bundles and upward corrections take
    the configuration #1 path: GCs are issued for the metered energy, linked to
    no EAC, so the GC energy passes the EACs' (the reproduction of issue 15:
    10 MWh of GCs against 2 MWh of EACs) and #3 GCs exist with no cancelled EAC.

    Breaks CONF-023, CONF-024 and CONF-026.
    """

    fault = "config-ordinary-issuance-unlinked"
    description = "#2/#3 registries issue GCs from ordinary submissions, bundles and corrections"
    breaks = ("CONF-023", "CONF-024", "CONF-026")
    book_type = _UnsealedLinkBook


class _NoDeductionLinkBook(LinkBook):
    """Linked issuance ignores outstanding D10 deductions."""

    def _plan_hour(self, device: Any, interval: Any, metered: Any, *args: Any, **kw: Any) -> Any:
        from gc_conformance.reference.effects import DebtChanged

        effects = args[3]  # (eacs, taken, now, effects, ...)
        marker = DebtChanged("", 0, None, 0)  # the book takes deductions once per request
        effects.insert(0, marker)
        try:
            return super()._plan_hour(device, interval, metered, *args, **kw)
        finally:
            effects.remove(marker)


class LinkedIssuanceSkipsDeductions(_LinkBookFault):
    """Configuration #2 linked issuance never takes outstanding D10 deductions.

    A downward correction of transferred GCs records the wrongly issued Wh as a
    deduction, but the next linked issuance for the hour is issued in full and
    the deduction stays open for ever (issue 15: 1.2 MWh of GCs for 0.7 MWh
    metered).

    Breaks CONF-025.
    """

    fault = "config2-linked-skips-deductions"
    description = "#2 linked issuance ignores outstanding D10 deductions"
    breaks = ("CONF-025",)
    book_type = _NoDeductionLinkBook
