"""The registry class: every part of the reference GC registry, composed.

Each mixin holds one concept (see the package docstring); this module only
puts them in one class, in an order where no two parts define the same name,
so the composition adds no behaviour of its own.
"""

from __future__ import annotations

from gc_conformance.reference.registry._api import _PublicApi
from gc_conformance.reference.registry._apply import _Apply
from gc_conformance.reference.registry._checks import _SharedChecks
from gc_conformance.reference.registry._correction import _CorrectionDecisions
from gc_conformance.reference.registry._guards import _BookGuards
from gc_conformance.reference.registry._issuance import _IssuanceDecisions
from gc_conformance.reference.registry._lifecycle import _LifecycleDecisions
from gc_conformance.reference.registry._log import _ActionLog
from gc_conformance.reference.registry._queries import _Queries
from gc_conformance.reference.registry._registration import _RegistrationDecisions
from gc_conformance.reference.registry._state import _RegistryState


class Registry(
    _PublicApi,
    _ActionLog,
    _BookGuards,
    _SharedChecks,
    _RegistrationDecisions,
    _IssuanceDecisions,
    _LifecycleDecisions,
    _CorrectionDecisions,
    _Queries,
    _Apply,
    _RegistryState,
):
    """One GC registry run by one GC Issuer, under one set of :class:`Policies`."""
