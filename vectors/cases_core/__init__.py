"""Cases of the core lifecycle: timestamps and attributes, issuance, split and transfer, cancel and claim.

Every case runs on the standard cast (:data:`~gc_conformance.vectors.catalog.CAST`).
Production happens on 2024-03-01 (the epoch day), requests are dated the day after.

One module per part of the lifecycle. Cases register themselves when their module is
imported, in import order, and that order is the order of the vector files and their
test IDs: the flags first, then timestamps, issuance, split and transfer, cancel and claim.
"""

# The import order is the cases' order in the generated vectors: never sort it.
# isort: off
from gc_conformance.vectors.cases_core import _flags
from gc_conformance.vectors.cases_core import timestamps
from gc_conformance.vectors.cases_core import issuance
from gc_conformance.vectors.cases_core import split_transfer
from gc_conformance.vectors.cases_core import cancel_claim
# isort: on

__all__ = ["_flags", "cancel_claim", "issuance", "split_transfer", "timestamps"]
