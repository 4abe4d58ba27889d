"""Configuration #0 of D3: today's EAC registry, the reference the GC configurations build on.

An EAC Issuing Body runs one :class:`EacRegistry`. Production is reported to it
per period (typically a month); it issues whole EACs of a fixed face value
(1 MWh by default, the :class:`EacFaceValue` policy) and carries the part below
one EAC forward to the device's next period. EACs are transferred any number
of times until they are cancelled for a named beneficiary or expire.

The registry keeps the same discipline as the GC :class:`Registry`: a request
is *decided* into effects without touching state, then applied in
``_apply`` only; a refusal names an :class:`ErrorCode` and the field, leaves
the state unchanged and is logged. ``prepare``/``commit``/``record_refusal``
let a coordinator (configurations #2 and #3, :mod:`.configurations`) decide a
request in this registry *and* in a GC registry before applying it in either.

EACs are kept one record per certificate (an EAC is 1 MWh, so there are few);
a record is replaced, never edited, on every change.

The package holds one concept per module: ``_policies``, ``_records``,
``_commands`` and ``_effects`` (with the log record), and
``_registry`` (:class:`EacRegistry`, the deciders and its one ``_apply``).
"""

from __future__ import annotations

from gc_conformance.reference.eac._commands import (
    AppointGcIssuer,
    EacBackGcs,
    EacCancel,
    EacCancelForGcs,
    EacExpire,
    EacExpireForGcs,
    EacExport,
    EacLinkCancelled,
    EacOpenAccount,
    EacRegisterDevice,
    EacReleaseFromGcs,
    EacReportProduction,
    EacTransfer,
    Stamp,
)
from gc_conformance.reference.eac._effects import (
    EacAccountOpened,
    EacActionRecord,
    EacChanged,
    EacDeviceRegistered,
    EacEffect,
    EacIssuanceResult,
    EacProductionRecorded,
    GcIssuerAppointed,
)
from gc_conformance.reference.eac._policies import EacFaceValue, EacPolicies
from gc_conformance.reference.eac._records import (
    Eac,
    EacAccount,
    EacDevice,
    EacIssuingBody,
    EacStatus,
    designate_issuing_bodies,
)
from gc_conformance.reference.eac._registry import EacRegistry

__all__ = [
    "AppointGcIssuer",
    "Eac",
    "EacAccount",
    "EacAccountOpened",
    "EacActionRecord",
    "EacBackGcs",
    "EacCancel",
    "EacCancelForGcs",
    "EacChanged",
    "EacDevice",
    "EacDeviceRegistered",
    "EacEffect",
    "EacExpire",
    "EacExpireForGcs",
    "EacExport",
    "EacFaceValue",
    "EacIssuanceResult",
    "EacIssuingBody",
    "EacLinkCancelled",
    "EacOpenAccount",
    "EacPolicies",
    "EacProductionRecorded",
    "EacRegisterDevice",
    "EacRegistry",
    "EacReleaseFromGcs",
    "EacReportProduction",
    "EacStatus",
    "EacTransfer",
    "GcIssuerAppointed",
    "Stamp",
    "designate_issuing_bodies",
]
