"""Storage records in their plain form, under the EnergyTag API's field names.

What the reference adapter and the server hand out for an SCR or an SDR; the book
keeps its own field names, so the mapping to the API lives here, in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gc_conformance.reference.storage.effects import _ts
from gc_conformance.reference.storage.records import (
    StorageChargeRecord,
    StorageDischargeRecord,
    _join,
)

if TYPE_CHECKING:
    from gc_conformance.reference.storage import StorageBook


def scr_to_plain(scr: StorageChargeRecord) -> dict[str, Any]:
    first = scr.sources[0] if scr.sources else None
    return {
        "scr_allocation_id": scr.scr_id,
        "device_id": scr.storage_id,
        "account_id": scr.account_id,
        "charging_start_datetime": _ts(scr.charging_start),
        "charging_end_datetime": _ts(scr.charging_end),
        "charging_energy": scr.charging_energy,
        "charging_energy_source": scr.charging_energy_source,
        "gc_issuance_id": None if first is None else first.gc_issuance_id,
        "granular_certificate_certificate_bundle_id_range_start": None
        if first is None
        else first.range_start,
        "granular_certificate_certificate_bundle_id_range_end": None
        if first is None
        else first.range_end,
        "scr_geographic_matching_method": scr.scr_geographic_matching_method,
        "sdr_allocation_id": scr.allocations[0][0] if scr.allocations else None,
        "sources": [
            {
                "gc_issuance_id": s.gc_issuance_id,
                "granular_certificate_certificate_bundle_id_range_start": s.range_start,
                "granular_certificate_certificate_bundle_id_range_end": s.range_end,
                "energy_source": s.energy_source,
                "scr_geographic_matching_method": s.geographic_matching,
            }
            for s in scr.sources
        ],
        "loss_wh": scr.loss_wh,
        "allocated_wh": scr.allocated_wh,
        "allocations": [{"sdr_allocation_id": d, "wh": wh} for d, wh in scr.allocations],
        "archived": scr.archived,
    }


def sdr_to_plain(sdr: StorageDischargeRecord, book: StorageBook) -> dict[str, Any]:
    scrs = [book._scrs[i] for i in dict.fromkeys(i for i, _ in sdr.allocations)]
    sources = [scr.charging_energy_source for scr in scrs]
    return {
        "sdr_allocation_id": sdr.sdr_id,
        "device_id": sdr.storage_id,
        "account_id": sdr.account_id,
        "discharging_start_datetime": _ts(sdr.discharging_start),
        "discharging_end_datetime": _ts(sdr.discharging_end),
        "discharge_energy": sdr.discharge_energy,
        "charging_energy_source": _join(s for s in sources if s),
        # D7: the SDR records the geographic-matching type; the SCR's attributes copy to it,
        # so it is that of the input GCs' cancellations (None while nothing is allocated)
        "sdr_geographic_matching_method": _join(
            m for m in (scr.scr_geographic_matching_method for scr in scrs) if m
        ),
        "scr_allocation_methodology": sdr.scr_allocation_methodology.name,
        "efficiency_factor_methodology": sdr.efficiency_factor_methodology.name,
        "scr_allocation_id": sdr.allocations[0][0] if sdr.allocations else None,
        "allocations": [{"scr_allocation_id": s, "wh": wh} for s, wh in sdr.allocations],
        "sd_gc_issuance_id": sdr.sd_gc_issuance_id,
        "unknown_beneficiary": sdr.unknown_beneficiary,
        "archived": sdr.archived,
    }
