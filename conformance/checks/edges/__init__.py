"""Rules tested at their edges: the limit, one under, one over; large magnitudes; every party
in every role; every field missing and in every wrong JSON type; identity across issuances.

The targeted checks test each rule in one comfortable scenario (a 1000 Wh
bundle, half of it transferred, the other holder acting). Defects hide where
those scenarios never look: a comparison off by one at the exact limit, an
integer that overflows at 10^7 Wh, a ``>`` that should be ``>=``, a beneficiary
treated as the holder, a field of the wrong type taken for a default, a
certificate number handed out again in a *new* issuance after a withdrawal.
Mutation testing of the example registries (``tools/mutation.py``) showed
these as surviving mutants; each check here names the rule it pushes to its
edge, and fails a registry only on that rule's SHALL (a SHOULD edge, such as
the declared capacity plausibility, is reported under the SHOULD alone).

Refusals here judge the verdict and atomicity, not the canonical code, where
the standard fixes no code for the fault (a field in the wrong JSON type may
fairly be refused as malformed or as naming nothing that exists).
"""

from __future__ import annotations

from gc_conformance.checks.edges.fields import (
    fields_missing_and_wrong_types,
)
from gc_conformance.checks.edges.helpers import (
    BENEFICIARY,
    BIG,
    CRITICAL,
    MAJOR,
    MINOR,
    NOBODY,
    SOLAR,
    TEN_MILLION,
    WIND,
    EdgeFailed,
    conserved,
    issuance_of,
    issue_wh,
    production,
    refused,
    shifted,
    the_other,
)
from gc_conformance.checks.edges.identity import (
    certificate_ids_unique_across_issuances,
    ids_beyond_64_bits,
)
from gc_conformance.checks.edges.intervals import (
    adjacent_intervals,
    interval_ending_now,
    non_zero_offsets,
)
from gc_conformance.checks.edges.policy_limits import (
    capacity_edges,
    device_capacity_limits,
)
from gc_conformance.checks.edges.quantities import (
    claim_edges,
    every_party_in_every_role,
    quantity_edges,
    ten_million,
)
from gc_conformance.checks.edges.queries import (
    query_period_bounds,
)
from gc_conformance.checks.edges.registration import (
    device_location_complete,
    issuer_exemptions,
)
from gc_conformance.checks.edges.storage import (
    storage_pool_of_three,
)
from gc_conformance.checks.edges.validity import (
    months_before,
    validity_edges,
    validity_use_after_end_wall_clock,
)

__all__ = [
    "BENEFICIARY",
    "BIG",
    "CRITICAL",
    "MAJOR",
    "MINOR",
    "NOBODY",
    "SOLAR",
    "TEN_MILLION",
    "WIND",
    "EdgeFailed",
    "adjacent_intervals",
    "capacity_edges",
    "certificate_ids_unique_across_issuances",
    "claim_edges",
    "conserved",
    "device_capacity_limits",
    "device_location_complete",
    "every_party_in_every_role",
    "fields_missing_and_wrong_types",
    "ids_beyond_64_bits",
    "interval_ending_now",
    "issuance_of",
    "issue_wh",
    "issuer_exemptions",
    "months_before",
    "non_zero_offsets",
    "production",
    "quantity_edges",
    "query_period_bounds",
    "refused",
    "shifted",
    "storage_pool_of_three",
    "ten_million",
    "the_other",
    "validity_edges",
    "validity_use_after_end_wall_clock",
]
