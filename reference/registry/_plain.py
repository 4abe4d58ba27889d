"""Bundles and issuances as plain, JSON-ready data (the API's field names where it has them).

Exports and the invariant checker read these; they know nothing of the
registry, so anything holding a record can use them.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import attrs

from gc_conformance.reference.bundles import Bundle, Issuance
from gc_conformance.reference.timestamps import format_date, format_timestamp


def bundle_to_plain(bundle: Bundle) -> dict[str, Any]:
    """A bundle as plain data (the field names of the API where it has them)."""
    plain: dict[str, Any] = {
        "bundle_id": bundle.bundle_id,
        "issuance_id": bundle.issuance_id,
        "certificate_bundle_id_range_start": bundle.range_start,
        "certificate_bundle_id_range_end": bundle.range_end,
        "bundle_quantity": bundle.quantity,
        "account_id": bundle.account_id,
        "certificate_bundle_status": bundle.status.name,
    }
    if bundle.cancellation is not None:
        plain["beneficiary"] = bundle.cancellation.beneficiary
        plain["cancellation_purpose"] = bundle.cancellation.purpose.name
    if bundle.claimant is not None:
        plain["claimant"] = bundle.claimant
    return plain


def issuance_to_plain(issuance: Issuance) -> dict[str, Any]:
    """An issuance's D5 attributes as plain data."""
    plain: dict[str, Any] = {}
    for field in attrs.fields(Issuance):
        value = getattr(issuance, field.name)
        if isinstance(value, _dt.datetime):
            value = format_timestamp(value)
        elif isinstance(value, _dt.date):
            value = format_date(value)
        elif attrs.has(type(value)):
            value = attrs.asdict(value)
        plain[field.name] = value
    return plain
