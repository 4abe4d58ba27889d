"""The private names of the model the faulty registries rely on, checked against the model by
``tests/conformance/test_faulty.py`` so that a rename is reported by name."""

from collections.abc import Mapping

from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.reference import (
    Registry,
    StorageBook,
)

#: Every private name of the model the faulty registries override or read, with the positional
#: parameters an override relies on (None: an attribute or a call with the same arguments).
#: ``tests/conformance/test_faulty.py`` checks each against the model, so that a change there
#: is reported by name rather than as a fault that silently stopped being a fault.
MODEL_INTERNALS: Mapping[type, Mapping[str, tuple[str, ...] | None]] = {
    Registry: {
        "_check_fresh_interval": ("device", "interval"),
        "_range_clash": ("start", "end"),
        "_plan_issuance": ("device", "interval", "range_start", "quantity", "now", "effects"),
        "_next_certificate_id": None,
        "_decide_reserve": ("cmd", "now"),
        "_decide_withdraw": ("cmd", "now"),
        "_decide_expire": ("cmd", "now"),
        "_require_valid_at": ("bundle", "now"),
        "_require_consumption_in_validity": ("bundle", "period", "now"),
        "_require_holder": ("actor", "bundle"),
        "_require_issuer": ("actor",),
        "_optional_quantity": ("value", "bundle"),
        "_carve": ("bundle", "quantity", "effects"),
    },
    StorageBook: {
        "_decide_issue": ("cmd", "now"),
        "_plan_take": ("storage", "need", "before", "view"),
        "_producer": ("sources", "rule"),
        "_scrs": None,
    },
    ReferenceAdapter: {"_registry": None, "_linked": None, "_eac": None, "_bundle": ("bundle",)},
}
