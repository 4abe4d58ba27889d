"""The executable reference model of the EnergyTag GC Scheme Standard v2.

Pure and deterministic: no I/O, no clock (every change takes ``now``), frozen
records. This façade is the public surface; everything else in the package is
an implementation detail that may move.

    >>> registry = Registry(Issuer("ISSUER", "Example Issuer", "NL"))
"""

from gc_conformance.reference.bundles import (
    Bundle,
    BundleStatus,
    Cancellation,
    CancellationPurpose,
    Issuance,
)
from gc_conformance.reference.commands import (
    Cancel,
    Claim,
    Command,
    CorrectProduction,
    Expire,
    IssueBundle,
    OpenAccount,
    Query,
    RegisterDevice,
    Release,
    Reserve,
    ReserveKind,
    SubmitProduction,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.entities import (
    Account,
    Device,
    GrossOrNet,
    Issuer,
    IssuerExemption,
    Location,
    ProductionRecord,
)
from gc_conformance.reference.errors import (
    ErrorCode,
    GCReferenceError,
    InvalidInput,
    ModelInvariantBroken,
    Problem,
)
from gc_conformance.reference.history import (
    Accepted,
    ActionRecord,
    BundleResult,
    CorrectionResult,
    ExpiryResult,
    IssuanceResult,
    Outcome,
    Registered,
    Rejected,
    RequestRejected,
)
from gc_conformance.reference.policies import (
    CapacityPlausibility,
    CorrectionDeduction,
    Policies,
    Rounding,
    SplitOrigin,
    ValidityReading,
)
from gc_conformance.reference.registry import Registry, bundle_to_plain, issuance_to_plain
from gc_conformance.reference.timestamps import (
    Interval,
    format_date,
    format_timestamp,
    parse_date,
    parse_timestamp,
    production_interval,
)

__all__ = [
    "Accepted",
    "Account",
    "ActionRecord",
    "Bundle",
    "BundleResult",
    "BundleStatus",
    "Cancel",
    "Cancellation",
    "CancellationPurpose",
    "CapacityPlausibility",
    "Claim",
    "Command",
    "CorrectProduction",
    "CorrectionDeduction",
    "CorrectionResult",
    "Device",
    "ErrorCode",
    "Expire",
    "ExpiryResult",
    "GCReferenceError",
    "GrossOrNet",
    "Interval",
    "InvalidInput",
    "Issuance",
    "IssuanceResult",
    "IssueBundle",
    "Issuer",
    "IssuerExemption",
    "Location",
    "ModelInvariantBroken",
    "OpenAccount",
    "Outcome",
    "Policies",
    "Problem",
    "ProductionRecord",
    "Query",
    "RegisterDevice",
    "Registered",
    "Registry",
    "Rejected",
    "Release",
    "RequestRejected",
    "Reserve",
    "ReserveKind",
    "Rounding",
    "SplitOrigin",
    "SubmitProduction",
    "Transfer",
    "ValidityReading",
    "Withdraw",
    "bundle_to_plain",
    "format_date",
    "format_timestamp",
    "issuance_to_plain",
    "parse_date",
    "parse_timestamp",
    "production_interval",
]
