"""Linked registries: an EAC registry and a #2/#3 GC registry acting on one request together.

Also the factory functions that build a registry for each configuration, so
a caller never assembles a link book by hand.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from gc_conformance.reference.configurations._book import LinkBook
from gc_conformance.reference.configurations._policies import ConfigurationPolicies
from gc_conformance.reference.eac import EacIssuingBody, EacRegistry
from gc_conformance.reference.entities import Issuer
from gc_conformance.reference.errors import ErrorCode, InvalidInput
from gc_conformance.reference.history import Accepted, Outcome
from gc_conformance.reference.policies import Policies
from gc_conformance.reference.registry import BookFactory, Refusal, Registry


class LinkedRegistries:
    """An EAC registry and a #2/#3 GC registry acting together on linked requests."""

    def __init__(self, eac: EacRegistry, gc: Registry) -> None:
        self.eac = eac
        self.gc = gc
        self.book = gc.book(LinkBook)

    def execute(self, command: Any, now: _dt.datetime | str) -> Outcome[Any]:
        """Decide in the GC registry, then in the EAC registry; apply in both or in neither."""
        eac_request: Any = None
        decisions: list[tuple[Any, tuple[_dt.datetime, Any, list[Any]]]] = []
        try:
            with self.book.coordinating():
                at, value, gc_effects = self.gc.prepare(command, now)  # type: ignore[arg-type]
            primary = getattr(value, "eac_request", None)
            requests = [] if primary is None else [primary]
            handled = tuple(getattr(primary, "eac_ids", ()))
            sync = self.book.eac_sync(gc_effects, handled)
            requests.extend(sync.requests(self.gc.issuer.issuer_id))
            # Each request names EACs no other one names, so each is decided on the
            # state as it stands and all are applied together (or none).
            for eac_request in requests:
                decisions.append((eac_request, self.eac.prepare(eac_request, at)))
        except (Refusal, InvalidInput) as exc:
            self.eac.record_refusal(eac_request or command, exc.problem)
            return self.gc.record_refusal(command, exc.problem)
        for request, decision in decisions:
            self.eac.commit(request, *decision)
        return self.gc.commit(command, at, value, gc_effects)

    def fingerprint(self) -> tuple[Any, ...]:
        return (self.eac.fingerprint(), self.gc.fingerprint())


def configuration_1_registry(body: EacIssuingBody, policies: Policies | None = None) -> Registry:
    """#1: the EAC Issuing Body becomes the GC Issuer and issues GCs instead of EACs."""
    if body.configuration != 1:
        raise InvalidInput(
            ErrorCode.WRONG_CONFIGURATION, "body.configuration", "the body does not run #1"
        )
    return Registry(Issuer(body.body_id, body.name, body.domain, configuration=1), policies)


def _linked(
    configuration: int,
    eac: EacRegistry,
    issuer: Issuer,
    policies: Policies | None,
    configuration_policies: ConfigurationPolicies | None,
) -> LinkedRegistries:
    from gc_conformance.reference._books import standard_books

    if issuer.configuration != configuration:
        issuer = attrs.evolve(issuer, configuration=configuration)
    chosen = configuration_policies or ConfigurationPolicies()

    def factory(registry: Registry) -> LinkBook:
        return LinkBook(registry, eac, chosen)

    books: tuple[BookFactory, ...] = (*standard_books(), factory)
    return LinkedRegistries(eac, Registry(issuer, policies, books=books))


def configuration_2(
    eac: EacRegistry,
    issuer: Issuer,
    policies: Policies | None = None,
    configuration_policies: ConfigurationPolicies | None = None,
) -> LinkedRegistries:
    """#2: a GC platform (GC Issuer ``issuer``) linked to ``eac``."""
    return _linked(2, eac, issuer, policies, configuration_policies)


def configuration_3(
    eac: EacRegistry,
    issuer: Issuer,
    policies: Policies | None = None,
    configuration_policies: ConfigurationPolicies | None = None,
) -> LinkedRegistries:
    """#3: a GC Issuer issuing from EACs cancelled in ``eac``."""
    return _linked(3, eac, issuer, policies, configuration_policies)


def accepted(outcome: Outcome[Any]) -> Any:
    """The value of an accepted outcome (raises RequestRejected otherwise)."""
    if isinstance(outcome, Accepted):
        return outcome.value
    return outcome.unwrap()
