"""Storage checks (profile ``storage``): the storage data of D6 and the storage rules of D7.

Every scenario runs on the standard cast of :meth:`Session.world` plus one storage
system, ``DEV-BATT`` (meter ``M-BATT``, consumption point ``CP-BATT``, 10 000 Wh, in
Utrecht while the producers are in Delft), operated by *alice*: she holds the GCs
that are cancelled for charging and receives the SD-GCs. Intervals are the storage
system's settlement periods on the production day (60 minutes unless a check says
otherwise), so a charge in interval ``n`` can be backed by GCs of production hour ``n``.

Why the numbers look the way they do
    Both loss methods must give the same hand-computed result, so every charge of
    ``Q`` Wh keeps exactly 80 % of it. Under the efficiency-factor method a
    commissioning cycle (1000 Wh in, 800 Wh out) fixes the factor at 4/5; under
    the interval formulas the reported state of charge rises by 0.8 x Q on a charge
    and falls by exactly the discharged energy, so the charge loss is 20 % and a
    discharge loses nothing (QT = 10 000 Wh, 1 % = 100 Wh). Each check computes
    its expectation from the standard's rule by hand; none asks the model.

What the registry declares (capabilities ``policies``)
    ``allocation_method``: the allocation methods a storage system may choose at
    registration, comma-separated from FIFO, LIFO, WEIGHTED_AVERAGE and
    OPERATOR_DISCRETION (a registry that declares nothing is taken to offer FIFO);
    ``loss_method``: EFFICIENCY_FACTOR and/or INTERVAL_FORMULAS (default: the
    efficiency factor, the API specification's suggested method);
    ``loss_convention``: the unit convention of the interval formulas. A check that
    needs a method the registry does not offer is skipped with that reason.

What the suite observes
    Bundles (``is_storage``, status ``CANCELLED_FOR_STORAGE``, ``cancellation_purpose``
    ``STORAGE_CHARGE``); the results of accepted requests (``record_id`` of
    ``submit_storage_data``, ``allocations`` of ``allocate_storage`` as
    ``[scr_id, sdr_id, wh]`` triples, ``bundle_id`` of ``issue_storage_gc``); and,
    where a rule can only be seen in the records, the optional ``storage`` key of
    ``observe()``::

        {"systems": [{"storage_id", "state_of_charge_wh", ...}],
         "scrs": [{"scr_allocation_id", "charging_energy_source",
                   "scr_geographic_matching_method",
                   "granular_certificate_certificate_bundle_id_range_start", ...}],
         "sdrs": [{"sdr_allocation_id", "allocations": [{"scr_allocation_id", "wh"}]}],
         "sd_gcs": [{"sdr_allocation_id", "storage_device_location",
                     "original_production_start", ...}]}

    A check that cannot see what it must verify without that key is skipped, and
    says so; it never passes unseen.
"""

from __future__ import annotations

from gc_conformance.checks.storage.allocation import (
    allocation_fifo,
    allocation_lifo,
    allocation_weighted_average,
    charge_before_discharge,
    each_wh_once,
    operator_discretion_validated,
    registry_decides_otherwise,
)
from gc_conformance.checks.storage.data import (
    allocation_method_fixed,
    interval_at_most_60_minutes,
    interval_matches_settlement_period,
    meter_status_and_device,
    no_overlapping_records,
    output_only_through_sdr,
    records_are_not_certificates,
    registration_device_and_consumption_point,
    time_order,
)
from gc_conformance.checks.storage.scr import (
    allocation_waits_for_losses,
    cancelled_for_storage_is_final,
    efficiency_factor_net,
    initial_window_within_six_months,
    interval_formulas,
    net_never_gross,
    never_beyond_metered_charge,
    same_interval_gcs_only,
    scr_records_sources,
    undefined_factor_refused,
)
from gc_conformance.checks.storage.sdgc import (
    sd_gc_locations_and_origin,
    sd_gc_only_after_inputs_cancelled,
    sd_gc_ordinary_lifecycle,
    sd_gc_producer_of_several,
    sd_gc_storage_tag_and_source,
    sd_gc_volume_and_interval,
    sdr_serves_once,
    storage_roles_issuer_only,
    time_shift_claim_uses_everything_once,
    time_shift_preconditions,
    unknown_beneficiary,
)
from gc_conformance.checks.storage.world import (
    ALLOCATION_METHODS,
    CAPACITY_WH,
    CONSUMPTION_POINT,
    KEEP_DENOMINATOR,
    KEEP_NUMERATOR,
    LOSS_METHODS,
    MATCHING,
    STORAGE,
    STORAGE_CITY,
    STORAGE_ID,
    STORAGE_METER,
    MethodChoice,
    StorageWorld,
    allocate,
    allocations_seen,
    backed_charge,
    cancel_for_charge,
    choose_policy,
    commission,
    data_fields,
    energy_source,
    expect_allocation,
    interval,
    issue_sd_gc,
    observed_bundle,
    offered,
    parse_allocations,
    percent,
    produce,
    record,
    registration,
    require_storage_extension,
    startup_records,
    storage_bundles,
    storage_extension,
    storage_record,
    storage_world,
)

__all__ = [
    "ALLOCATION_METHODS",
    "CAPACITY_WH",
    "CONSUMPTION_POINT",
    "KEEP_DENOMINATOR",
    "KEEP_NUMERATOR",
    "LOSS_METHODS",
    "MATCHING",
    "STORAGE",
    "STORAGE_CITY",
    "STORAGE_ID",
    "STORAGE_METER",
    "MethodChoice",
    "StorageWorld",
    "allocate",
    "allocation_fifo",
    "allocation_lifo",
    "allocation_method_fixed",
    "allocation_waits_for_losses",
    "allocation_weighted_average",
    "allocations_seen",
    "backed_charge",
    "cancel_for_charge",
    "cancelled_for_storage_is_final",
    "charge_before_discharge",
    "choose_policy",
    "commission",
    "data_fields",
    "each_wh_once",
    "efficiency_factor_net",
    "energy_source",
    "expect_allocation",
    "initial_window_within_six_months",
    "interval",
    "interval_at_most_60_minutes",
    "interval_formulas",
    "interval_matches_settlement_period",
    "issue_sd_gc",
    "meter_status_and_device",
    "net_never_gross",
    "never_beyond_metered_charge",
    "no_overlapping_records",
    "observed_bundle",
    "offered",
    "operator_discretion_validated",
    "output_only_through_sdr",
    "parse_allocations",
    "percent",
    "produce",
    "record",
    "records_are_not_certificates",
    "registration",
    "registration_device_and_consumption_point",
    "registry_decides_otherwise",
    "require_storage_extension",
    "same_interval_gcs_only",
    "scr_records_sources",
    "sd_gc_locations_and_origin",
    "sd_gc_only_after_inputs_cancelled",
    "sd_gc_ordinary_lifecycle",
    "sd_gc_producer_of_several",
    "sd_gc_storage_tag_and_source",
    "sd_gc_volume_and_interval",
    "sdr_serves_once",
    "startup_records",
    "storage_bundles",
    "storage_extension",
    "storage_record",
    "storage_roles_issuer_only",
    "storage_world",
    "time_order",
    "time_shift_claim_uses_everything_once",
    "time_shift_preconditions",
    "undefined_factor_refused",
    "unknown_beneficiary",
]
