"""Certificate bundles: contiguous runs of 1 Wh certificates sharing one issuance (D5).

A bundle covers the certificate IDs ``range_start..range_end`` inclusive, one
Wh each, so ``quantity = range_end - range_start + 1``. Splitting a bundle
(for a partial transfer, cancellation, claim, reservation or withdrawal)
supersedes it by children that partition its range exactly and keep its
``issuance_id``; the issuance attributes live once in :class:`Issuance` and are
never copied or changed (immutability, D5), which also keeps a registry of
millions of bundles small.
"""

from __future__ import annotations

import datetime as _dt
import enum

import attrs

from gc_conformance.reference.entities import Location


class BundleStatus(enum.Enum):
    """Bundle statuses of the API specification; the name is the public value."""

    ACTIVE = "Active"
    RESERVED = "Reserved"
    LOCKED = "Locked"
    CANCELLED = "Cancelled"
    CANCELLED_FOR_STORAGE = "Cancelled for Storage"
    CLAIMED = "Claimed"
    EXPIRED = "Expired"
    WITHDRAWN = "Withdrawn"
    EXPORTED = "Exported"
    BUNDLE_SPLIT = "Bundle Split"

    @property
    def is_live(self) -> bool:
        """Still tradeable or about to be: the certificates can still change hands or end."""
        return self in _LIVE

    @property
    def is_superseded(self) -> bool:
        return self is BundleStatus.BUNDLE_SPLIT


_LIVE = frozenset({BundleStatus.ACTIVE, BundleStatus.RESERVED, BundleStatus.LOCKED})


class CancellationPurpose(enum.Enum):
    CONSUMPTION = "cancelled to support a consumption claim"
    STORAGE_CHARGE = "cancelled for charging storage (D7)"


@attrs.frozen
class Issuance:
    """Everything D5 makes mandatory (and the optional attributes), fixed at issuance.

    One record per issuance; every bundle descending from it points here by
    ``issuance_id``.
    """

    issuance_id: int
    device_id: str
    account_id: str  # the account the certificates were first issued into
    production_start: _dt.datetime
    production_end: _dt.datetime
    range_start: int
    range_end: int
    issuance_date: _dt.date
    expiry: _dt.datetime  # first instant at which the certificates are no longer valid (D8)
    energy_source: str
    technology_type: str
    device_name: str
    device_capacity_w: int
    device_operational_date: _dt.date
    device_location: Location
    country_of_issuance: str
    issuer_id: str
    registry_configuration: int
    energy_carrier: str = "Electricity"
    face_value_wh: int = 1  # every certificate is one Wh (D5 'base unit Wh')
    is_storage: bool = False  # storage tag: issued after release from storage (D7)
    disclosure: bool = True  # may be used to inform consumers of origin
    post_energy_carrier_conversion: bool = False
    issue_market_zone: str | None = None
    connected_grid: str | None = None
    legal_status: str | None = None
    support_received: str | None = None
    quality_scheme_reference: str | None = None
    dissemination_level: str | None = None
    emissions_factor_kgco2e_per_mwh: float | None = None
    emissions_factor_source: str | None = None
    corrects_issuance_id: int | None = None  # set when issued as a D10 upward correction
    deducted_wh: int = 0  # D10 deduction applied to this issuance
    transferable: bool = True  # configuration #3 GCs are not (D3)
    # --- storage-discharge GCs (D7); production_start/end then hold the discharge interval ---
    storage_id: str | None = None
    # D7: the device the D5 device attributes of an SD-GC describe (the original production
    # device, carried from the cancelled GCs; several joined with "+"); ``device_id`` is the
    # storage system the SD-GC is issued on, the key of its lineage
    original_device_id: str | None = None
    # D7: the one original device whose name, capacity, operational date and location the D5
    # device fields state (policy sd_gc_producer; one of ``original_device_id``)
    production_device_id: str | None = None
    storage_device_location: Location | None = None
    sdr_allocation_id: str | None = None
    storage_efficiency_factor: float | None = None
    original_production_start: _dt.datetime | None = None
    original_production_end: _dt.datetime | None = None
    scr_ids: tuple[str, ...] = ()
    # --- GCs linked to EACs (configurations #2 and #3, D3) ---
    eac_ids: tuple[str, ...] = ()
    # D8 own-hour exemption (policy own_hour_use): from this instant (the end of the GC's
    # 12-month consumption period) to ``expiry`` the certificates may be cancelled only
    # against consumption inside their own production interval; None: no such stretch
    own_hour_only_from: _dt.datetime | None = None

    @property
    def quantity(self) -> int:
        return self.range_end - self.range_start + 1


@attrs.frozen
class Cancellation:
    """Why, for whom and against which consumption a bundle was cancelled."""

    beneficiary: str
    purpose: CancellationPurpose
    cancelled_at: _dt.datetime
    consumption_start: _dt.datetime | None = None
    consumption_end: _dt.datetime | None = None
    consumption_location: str | None = None


@attrs.frozen(weakref_slot=False)
class Bundle:
    """One bundle as it stands. Replaced, never edited, when anything about it changes."""

    bundle_id: int
    issuance_id: int
    range_start: int
    range_end: int
    account_id: str
    status: BundleStatus
    parent_id: int | None = None
    cancellation: Cancellation | None = None
    claimant: str | None = None

    @property
    def quantity(self) -> int:
        return self.range_end - self.range_start + 1
