"""Small pure helpers on records that the deciders, reads and ``_apply`` share.

Comparing instants as the memos need, reading a superseded bundle as split,
building a production record from its reading: helpers with no state, kept
out of the mixins so each is defined once.
"""

from __future__ import annotations

import datetime as _dt
import operator
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from gc_conformance.reference.bundles import Bundle, BundleStatus, Issuance
from gc_conformance.reference.effects import ReadingRecognised
from gc_conformance.reference.entities import GrossOrNet, ProductionRecord

# The live statuses (BundleStatus.is_live), as a tuple: ``in`` matches by identity, where a
# set would call the enum's Python-level __hash__.
_LIVE = tuple(status for status in BundleStatus if status.is_live)


def _same_optional_instant(a: _dt.datetime | None, b: _dt.datetime | None) -> bool:
    return a is b or (a is not None and b is not None and _same_instant(a, b))


def _same_instant(a: _dt.datetime, b: _dt.datetime) -> bool:
    """Equal, and in the same time zone: anything computed from one is equal for the other."""
    return a is b or (a == b and a.tzinfo is b.tzinfo and a.fold == b.fold and type(a) is type(b))


def _issuance_with(attributes: Mapping[str, Any]) -> Callable[..., Issuance]:
    """An Issuance builder whose ``attributes`` override/extend the keyword arguments."""

    def build(**values: Any) -> Issuance:
        values.update(attributes)
        return Issuance(**values)

    return build


def _as_split(bundle: Bundle) -> Bundle:
    """A superseded bundle as it now stands: as when it was split, with status BUNDLE_SPLIT."""
    return Bundle(
        bundle.bundle_id,
        bundle.issuance_id,
        bundle.range_start,
        bundle.range_end,
        bundle.account_id,
        BundleStatus.BUNDLE_SPLIT,
        bundle.parent_id,
        bundle.cancellation,
        bundle.claimant,
    )


def _by_range(bundle: Bundle) -> int:
    return bundle.range_start


_RANGE_START = operator.attrgetter("range_start")  # _by_range, without a Python call


def _production_record(reading: ReadingRecognised) -> ProductionRecord:
    """The D6 production record held for a reading: what its ``ReadingRecognised`` says."""
    return ProductionRecord(
        reading.device_id,
        reading.meter_id,
        reading.start,
        reading.end,
        reading.metered,
        reading.recognised_wh,
        GrossOrNet[reading.gross_or_net],
    )


def _plain_decimal(value: Decimal | None) -> str | None:
    """An exact decimal as plain positional text (``0.5``, ``-0.25``, ``0``); None stays None."""
    return None if value is None else sys.intern(format(value, "f"))
