"""Faulty registries: the reference model with one realistic defect each.

They are the suite's proof of power: CI runs the whole suite against every one
and fails unless each is caught, for the documented reason, while the
reference passes. Each documents the requirement(s) it breaks (``breaks``, IDs
of the requirement catalogue). A check must never be tuned to one of these
quirks: every check follows from the standard, and a defect the suite misses
is a gap in the suite, closed by a standard-derived check.

What makes a defect worth having here: it is a mistake a real registry could
ship (an off-by-one, a missing guard, a deny-list that forgot a status, a
write committed before validation), not an answer no implementation would
give. Each faulty registry claims exactly the reference's capabilities (same
profiles, styles, clock and declared policies: the one that rounds up still
declares the reference's rounding, the one that allocates LIFO still offers
FIFO), so nothing but its behaviour can give it away.

How they are built, in order of preference:

* at the adapter layer (:class:`FaultyAdapter`), rewriting a request or an
  answer, or driving the model through its public commands;
* with a small subclass of the model's :class:`Registry` (or of one of its
  books) that overrides one decision. Those overrides name private methods of
  the model (ARCHITECTURE.md lets faulty registries do so); each one is kept to
  a few lines, and ``tests/conformance/test_faulty.py`` builds every registry
  and runs it, so a rename in the model fails loudly instead of silently
  curing a fault.
"""

from __future__ import annotations

from gc_conformance.adapters.faulty._base import (
    PARTIAL_ACTIONS,
    Fault,
    FaultyAdapter,
    books_with,  # for a test's own storage defect: the standard books, storage replaced
)
from gc_conformance.adapters.faulty._internals import MODEL_INTERNALS
from gc_conformance.adapters.faulty.action_log_defects import (
    RefusalLoggedAccepted,
    RefusalReusesNextActionId,
)
from gc_conformance.adapters.faulty.adapter_layer import (
    ClaimForAnyone,
    CommittedThenFailed,
    NonOwnerMayAct,
    NonPositiveQuantityAccepted,
    PartialTransferRangeOverrun,
    RefusedPartialLeavesSplit,
    RoundsUp,
    SixtyOneMinuteInterval,
    UnknownBundleTransferAccepted,
)
from gc_conformance.adapters.faulty.configuration_defects import (
    Config3GcTransferable,
    LinkedIssuanceSkipsDeductions,
    OrdinaryIssuanceUnlinked,
)
from gc_conformance.adapters.faulty.model_defects import (
    CancelledBundleRevived,
    ExpiryNeverApplied,
    IssuerCreatedOverlapAccepted,
    OwnHourStretchUnrestricted,
    ResubmissionIssuedTwice,
    WithdrawnIdsReused,
)
from gc_conformance.adapters.faulty.storage_defects import (
    FifoAllocatesLifo,
    SdGcBeforeInputsCancelled,
    SdGcOtherProducer,
)

FAULTY_ADAPTERS: tuple[type[FaultyAdapter], ...] = (
    PartialTransferRangeOverrun,
    NonPositiveQuantityAccepted,
    ResubmissionIssuedTwice,
    WithdrawnIdsReused,
    CancelledBundleRevived,
    NonOwnerMayAct,
    SixtyOneMinuteInterval,
    IssuerCreatedOverlapAccepted,
    RoundsUp,
    ExpiryNeverApplied,
    OwnHourStretchUnrestricted,
    CommittedThenFailed,
    RefusedPartialLeavesSplit,
    SdGcBeforeInputsCancelled,
    FifoAllocatesLifo,
    SdGcOtherProducer,
    Config3GcTransferable,
    ClaimForAnyone,
    UnknownBundleTransferAccepted,
    OrdinaryIssuanceUnlinked,
    LinkedIssuanceSkipsDeductions,
    RefusalLoggedAccepted,
    RefusalReusesNextActionId,
)

FAULTS: dict[str, Fault] = {
    cls.fault: Fault(cls.fault, cls.description, cls.breaks, cls) for cls in FAULTY_ADAPTERS
}

__all__ = [
    "FAULTS",
    "FAULTY_ADAPTERS",
    "MODEL_INTERNALS",
    "PARTIAL_ACTIONS",
    "CancelledBundleRevived",
    "ClaimForAnyone",
    "CommittedThenFailed",
    "Config3GcTransferable",
    "ExpiryNeverApplied",
    "Fault",
    "FaultyAdapter",
    "FifoAllocatesLifo",
    "IssuerCreatedOverlapAccepted",
    "LinkedIssuanceSkipsDeductions",
    "NonOwnerMayAct",
    "NonPositiveQuantityAccepted",
    "OrdinaryIssuanceUnlinked",
    "OwnHourStretchUnrestricted",
    "PartialTransferRangeOverrun",
    "RefusalLoggedAccepted",
    "RefusalReusesNextActionId",
    "RefusedPartialLeavesSplit",
    "ResubmissionIssuedTwice",
    "RoundsUp",
    "SdGcBeforeInputsCancelled",
    "SdGcOtherProducer",
    "SixtyOneMinuteInterval",
    "UnknownBundleTransferAccepted",
    "WithdrawnIdsReused",
    "books_with",
]
