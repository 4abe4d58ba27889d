"""The requests an EAC registry decides: its own (#0) and those only a coordinator sends.

Plain frozen records with no behaviour; the second group is issued by the
configuration coordinator (#2/#3) together with the GC-registry side.
"""

from __future__ import annotations

import datetime as _dt

import attrs

from gc_conformance.reference.policies import EnergyInput

Stamp = str | _dt.datetime


@attrs.frozen
class EacOpenAccount:
    actor: str
    account_id: str
    holder_id: str


@attrs.frozen
class EacRegisterDevice:
    actor: str
    device_id: str
    account_id: str
    meter_id: str


@attrs.frozen
class EacReportProduction:
    """The Measurement Body's reading for one period; the Issuing Body issues whole EACs from it."""

    actor: str
    device_id: str
    meter_id: str
    start: Stamp
    end: Stamp
    energy_wh: EnergyInput


@attrs.frozen
class EacTransfer:
    actor: str
    eac_ids: tuple[str, ...]
    to_account: str


@attrs.frozen
class EacCancel:
    """Cancel for a named beneficiary; the consumption period defaults to the production period."""

    actor: str
    eac_ids: tuple[str, ...]
    beneficiary: str
    consumption_start: Stamp | None = None
    consumption_end: Stamp | None = None
    consumption_location: str | None = None


@attrs.frozen
class EacExpire:
    actor: str


@attrs.frozen
class AppointGcIssuer:
    """The EAC Issuing Body appoints/accepts a configuration #2 GC Issuer (D3)."""

    actor: str
    gc_issuer_id: str


# Issued by the configuration coordinator only, together with the GC-registry side.


@attrs.frozen
class EacBackGcs:
    """#2: move EACs to the GC Issuer's EAC account, held on behalf of GC holders."""

    actor: str  # the GC Issuer
    eac_ids: tuple[str, ...]


@attrs.frozen
class EacCancelForGcs:
    """#2: the GCs backed by these EACs are being cancelled; cancel the EACs too."""

    actor: str  # the GC Issuer
    eac_ids: tuple[str, ...]


@attrs.frozen
class EacExport:
    """#2 conversion by export: the holder's EACs leave this registry for the GC registry."""

    actor: str  # the EAC holder
    eac_ids: tuple[str, ...]
    gc_issuer_id: str


@attrs.frozen
class EacLinkCancelled:
    """#3: record the single GC Issuer that issued GCs from these cancelled EACs."""

    actor: str  # the GC Issuer
    eac_ids: tuple[str, ...]


@attrs.frozen
class EacReleaseFromGcs:
    """#2: every GC these EACs backed was withdrawn; they go back to the device's account."""

    actor: str  # the GC Issuer
    eac_ids: tuple[str, ...]


@attrs.frozen
class EacExpireForGcs:
    """#2: every GC these EACs backed has expired unused; the EACs expire with them (D8)."""

    actor: str  # the GC Issuer
    eac_ids: tuple[str, ...]
