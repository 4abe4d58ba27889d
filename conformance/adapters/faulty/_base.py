"""The shared base of the faulty registries: the reference behind the contract, with a hook for one defect."""

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from gc_conformance.adapter import RegistryAdapter
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.reference import (
    Registry,
    StorageBook,
)


@attrs.frozen
class Fault:
    name: str
    description: str
    breaks: tuple[str, ...]  # requirement IDs the defect violates
    build: Callable[[], RegistryAdapter]


#: Actions whose request may carry a ``quantity`` (a partial operation splits the bundle).
PARTIAL_ACTIONS = ("transfer", "cancel", "claim", "reserve", "withdraw")

HOUR = _dt.timedelta(hours=1)


# =============================================================================== base


class FaultyAdapter(ReferenceAdapter):
    """The reference model behind the contract, with the one defect a subclass adds.

    Subclasses set ``fault``, ``description`` and ``breaks`` and override
    :meth:`execute` / :meth:`_bundle` (adapter-layer defects) or
    :meth:`build_registry` (a defect inside the registry). Capabilities are the
    reference's, under a name that says which registry a report is about.
    """

    fault: ClassVar[str] = ""
    description = ""
    breaks: ClassVar[tuple[str, ...]] = ()

    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["name"] = f"gc-conformance faulty registry {self.fault}"
        return claimed

    def reset(self, setup: Mapping[str, Any]) -> None:
        super().reset(setup)
        if self._linked is None:  # configuration #1: the registry is ours to build
            built = self.registry
            self._registry = self.build_registry(built.issuer, built.policies)

    def build_registry(self, issuer: Any, policies: Any) -> Registry:
        """The configuration #1 registry; a defect inside the model overrides this."""
        return Registry(issuer, policies)

    def _holder_of(self, bundle_id: object) -> str | None:
        """The holder of a current bundle, read through the model's public accessors."""
        if isinstance(bundle_id, bool) or not isinstance(bundle_id, int):
            return None
        bundle = self.registry.bundle(bundle_id)
        if bundle is None or bundle.status.is_superseded:
            return None
        account = self.registry.account(bundle.account_id)
        return None if account is None else account.holder_id


def books_with(storage_factory: Callable[[Registry], StorageBook]) -> tuple[Any, ...]:
    """The standard books of a registry, with the storage book replaced by ``storage_factory``."""
    from gc_conformance.reference._books import standard_books
    from gc_conformance.reference.storage import storage_book

    return tuple(storage_factory if f is storage_book else f for f in standard_books())
