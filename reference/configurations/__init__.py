"""Scheme configurations #1-#3 of D3: how a GC registry stands to the EAC registry.

* #1 — the EAC Issuing Body *is* the GC Issuer and issues GCs instead of EACs:
  the core :class:`Registry` with ``Issuer.configuration == 1``
  (:func:`configuration_1_registry`).
* #2 — a GC platform linked to an EAC registry (:func:`configuration_2`). GCs
  come only from the metering of a device for an hour inside the production
  period of EACs issued for that device; the EACs' face value caps the GC
  energy (:class:`MonthlyCap`), an hour without enough EAC energy left is
  suspended (:class:`HourSuspension`); EACs backing GCs are moved to the GC
  Issuer's EAC account and can serve no other claim; cancelling a GC cancels
  its EACs; EACs can also be converted by export (they leave the EAC registry).
* #3 — GCs from EACs already cancelled for a named beneficiary
  (:func:`configuration_3`): same device, hour inside the EAC's production and
  consumption period, volume capped by the EACs, issued non-transferable and
  cancelled at once for the EAC's beneficiary; each EAC gets one GC Issuer.

The GC side of #2/#3 is a :class:`LinkBook` in the GC registry; the EAC side is
the :class:`EacRegistry`. A linked request goes through
:class:`LinkedRegistries`, which decides it in both registries and applies it in
both only if both accept (a refusal in either changes neither, and is logged
in both). Every GC records its configuration (``Issuance.registry_configuration``)
and the EAC IDs behind it (``Issuance.eac_ids``); its expiry is never later
than theirs (D8). A GC Issuer refuses #2/#3 requests when the producer's EAC
Issuing Body runs #1 under a government mandate (CONFIGURATION_MANDATED).

The package holds one concept per module: ``_policies``, ``_commands`` and
``_effects`` (the records), ``_book`` (:class:`LinkBook`, composed of mixins
over ``_state``: ``_sealing``, ``_sync``, ``_routing``, ``_hours``, ``_config2``,
``_config3``), ``_common`` (helpers the mixins share) and ``_coordinator``
(:class:`LinkedRegistries` and the factory functions).
"""

from __future__ import annotations

from gc_conformance.reference.configurations._book import LinkBook
from gc_conformance.reference.configurations._commands import (
    CancelLinkedGcs,
    ConvertEacs,
    IssueFromCancelledEacs,
    IssueLinkedGcs,
    Stamp,
)
from gc_conformance.reference.configurations._coordinator import (
    LinkedRegistries,
    accepted,
    configuration_1_registry,
    configuration_2,
    configuration_3,
)
from gc_conformance.reference.configurations._effects import (
    EacSync,
    GcLinked,
    GcUnlinked,
    HourSuspended,
    LinkedCancellation,
    LinkedIssuance,
)
from gc_conformance.reference.configurations._policies import (
    ConfigurationPolicies,
    HourSuspension,
    MonthlyCap,
)

__all__ = [
    "CancelLinkedGcs",
    "ConfigurationPolicies",
    "ConvertEacs",
    "EacSync",
    "GcLinked",
    "GcUnlinked",
    "HourSuspended",
    "HourSuspension",
    "IssueFromCancelledEacs",
    "IssueLinkedGcs",
    "LinkBook",
    "LinkedCancellation",
    "LinkedIssuance",
    "LinkedRegistries",
    "MonthlyCap",
    "Stamp",
    "accepted",
    "configuration_1_registry",
    "configuration_2",
    "configuration_3",
]
