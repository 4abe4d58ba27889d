"""The requests a #2/#3 GC registry decides besides the core ones.

Plain frozen records with no behaviour; the link book's deciders read them.
"""

from __future__ import annotations

import datetime as _dt

import attrs

from gc_conformance.reference.policies import EnergyInput

Stamp = str | _dt.datetime


@attrs.frozen
class IssueLinkedGcs:
    """#2: the GC Issuer issues GCs for one metered hour of a device with EACs for the period."""

    actor: str
    device_id: str
    meter_id: str
    start: Stamp
    end: Stamp
    energy_wh: EnergyInput


@attrs.frozen
class CancelLinkedGcs:
    """#2: cancel GCs for a beneficiary; the EACs behind them are cancelled in the EAC registry."""

    actor: str
    bundle_id: int
    beneficiary: str
    quantity: int | None = None


@attrs.frozen
class ConvertEacs:
    """#2 conversion by export: the holder's EACs leave the EAC registry and become GCs.

    ``hours`` are the device's metered (start, end, Wh) inside the EACs' period;
    they draw on the exported EACs' face value under the same cap and
    suspension policies. ``account_id`` is the holder's GC account.
    """

    actor: str
    eac_ids: tuple[str, ...]
    device_id: str
    meter_id: str
    hours: tuple[tuple[Stamp, Stamp, EnergyInput], ...]
    account_id: str


@attrs.frozen
class IssueFromCancelledEacs:
    """#3: GCs for one metered hour from EACs cancelled for ``beneficiary``."""

    actor: str
    eac_ids: tuple[str, ...]
    device_id: str
    meter_id: str
    start: Stamp
    end: Stamp
    energy_wh: EnergyInput
    beneficiary: str
    account_id: str
