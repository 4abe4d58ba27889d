"""Small helpers several parts of the link book share.

The refusal builder, the statuses that end a GC by use, and the D8 cap of a
GC's validity by its EACs' are each used by more than one mixin, so each is
defined once here.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from gc_conformance.reference.bundles import BundleStatus
from gc_conformance.reference.errors import ErrorCode
from gc_conformance.reference.registry import Refusal

_ENDED_BY_USE = (BundleStatus.CANCELLED, BundleStatus.CANCELLED_FOR_STORAGE)


def _refuse(code: ErrorCode, field: str, message: str) -> Refusal:
    return Refusal(code, field, message)


def _capped_by_eacs(
    bounds: tuple[_dt.datetime, _dt.datetime | None],
    eacs: Sequence[Any],
    links: Sequence[tuple[str, int]],
) -> tuple[_dt.datetime, _dt.datetime | None]:
    """D8: a GC's validity never exceeds its EACs'; nor then does its own-hour stretch."""
    linked = dict(links)
    expiry = min([bounds[0]] + [e.expiry for e in eacs if e.eac_id in linked])
    own_from = bounds[1]
    if own_from is not None and own_from >= expiry:
        own_from = None
    return expiry, own_from
