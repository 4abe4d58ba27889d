"""Storage registration and data (D6, D7): a storage device's registration fields and its charge and discharge records as the standard asks."""

from __future__ import annotations

from gc_conformance.adapter import IssuanceStyle
from gc_conformance.checks import check
from gc_conformance.checks.storage.world import (
    ALLOCATION_METHODS,
    MATCHING,
    STORAGE,
    STORAGE_ID,
    STORAGE_METER,
    allocate,
    backed_charge,
    commission,
    data_fields,
    expect_allocation,
    interval,
    percent,
    produce,
    record,
    registration,
    storage_bundles,
    storage_world,
)
from gc_conformance.outcomes import Severity
from gc_conformance.session import (
    ISSUER_ID,
    Session,
    canonical_state,
    device_record,
)

# ================================================================ registration (D6)


@check(
    "storage.registration.device_and_consumption_point",
    requirements=["STOR-001"],
    profile=STORAGE,
)
def registration_device_and_consumption_point(s: Session) -> None:
    """A storage system is one of the domain's production devices and needs a consumption point.

    Once registered, no other device may take its ID (it *is* a production device
    of the domain, D6), and a storage system offered without a consumption point is
    refused: its charging is consumption the GCs cancelled for it are matched to.
    """
    sw = storage_world(s)
    w = sw.world
    s.reject(
        "DUPLICATE_DEVICE",
        "register_device",
        ISSUER_ID,
        device=device_record(STORAGE_ID, "M-OTHER", w.account(w.alice), 1_000_000, "wind"),
    )
    s.reject(
        "INVALID_FIELD",
        "register_storage",
        ISSUER_ID,
        **registration(
            s,
            w,
            device_id="DEV-BATT-2",
            meter_id="M-BATT-2",
            allocation=sw.allocation,
            loss=sw.loss,
            consumption_point="",
        ),
    )


@check(
    "storage.registration.allocation_method_fixed",
    requirements=["STOR-002"],
    profile=STORAGE,
)
def allocation_method_fixed(s: Session) -> None:
    """The allocation method chosen at registration cannot be switched, by anyone.

    Every other method is asked for, by the operator and by the issuer, and refused
    with ALLOCATION_METHOD_FIXED. Under FIFO or LIFO the check then shows the
    refused switch had no effect: a wind charge (interval 2) and a solar charge
    (interval 3), 800 Wh each after losses, and an 800 Wh discharge (interval 4)
    must take the wind charge under FIFO and the solar charge under LIFO.
    """
    sw = storage_world(s, allocation=("FIFO", "LIFO", *ALLOCATION_METHODS))
    for other in ALLOCATION_METHODS:
        if other == sw.allocation:
            continue
        for actor in (sw.operator, ISSUER_ID):
            s.reject(
                "ALLOCATION_METHOD_FIXED",
                "change_storage_allocation_method",
                actor,
                storage_id=STORAGE_ID,
                allocation_method=other,
            )
    if sw.allocation not in ("FIFO", "LIFO"):
        return
    n = commission(s, sw)
    wind, _ = backed_charge(s, sw, n, "DEV-WIND")
    solar, _ = backed_charge(s, sw, n + 1, "DEV-SOLAR")
    sdr = record(s, sw, "DISCHARGING", n + 2, 800)
    allocate(s, sw, [sdr])
    first = wind if sw.allocation == "FIFO" else solar
    expect_allocation(
        s, sw, sdr, {first: 800}, f"still allocated by {sw.allocation} after the refused switch"
    )


# ================================================================ storage data (D6, D7)


@check("storage.data.interval_at_most_60_minutes", requirements=["STOR-003"], profile=STORAGE)
def interval_at_most_60_minutes(s: Session) -> None:
    """Storage records cover 60 minutes or less: a longer period or interval is refused.

    A settlement period of 61 minutes cannot be registered, and a two-hour interval
    is refused with INTERVAL_TOO_LONG, while the one-hour interval is accepted.
    """
    sw = storage_world(s)
    s.reject(
        "INVALID_FIELD",
        "register_storage",
        ISSUER_ID,
        **registration(
            s,
            sw.world,
            device_id="DEV-BATT-2",
            meter_id="M-BATT-2",
            allocation=sw.allocation,
            loss=sw.loss,
            period=61,
        ),
    )
    fields = data_fields(s, sw, "CHARGING", 2, 1000, soc_pct="8" if sw.formulas else None)
    fields.update(end=interval(s, sw, 3)[1], interval_minutes=120)
    s.reject("INTERVAL_TOO_LONG", "submit_storage_data", ISSUER_ID, **fields)
    record(s, sw, "CHARGING", 2, 1000)


@check(
    "storage.data.interval_matches_settlement_period",
    requirements=["STOR-004"],
    profile=STORAGE,
)
def interval_matches_settlement_period(s: Session) -> None:
    """A storage interval states its length, equal to its real length and the settlement period.

    For a 15-minute system: a 15-minute interval stated as 15 is accepted; a
    30-minute interval (stated 30) and a 15-minute interval stated as 30 are both
    refused with STORAGE_INTERVAL_MISMATCH.
    """
    sw = storage_world(s, period=15)
    record(s, sw, "CHARGING", 4, 100)
    soc = percent(sw.stored_wh + 80) if sw.formulas else None
    longer = data_fields(s, sw, "CHARGING", 5, 100, soc_pct=soc)
    longer.update(end=interval(s, sw, 6)[1], interval_minutes=30)
    s.reject("STORAGE_INTERVAL_MISMATCH", "submit_storage_data", ISSUER_ID, **longer)
    misstated = data_fields(s, sw, "CHARGING", 5, 100, soc_pct=soc)
    misstated.update(interval_minutes=30)
    s.reject("STORAGE_INTERVAL_MISMATCH", "submit_storage_data", ISSUER_ID, **misstated)
    record(s, sw, "CHARGING", 5, 100)


@check("storage.data.meter_status_and_device", requirements=["STOR-005"], profile=STORAGE)
def meter_status_and_device(s: Session) -> None:
    """Storage data must come from the storage system's own meter, with a known status.

    Data naming another device's meter (METER_MISMATCH), naming a device that is
    not a storage system (NOT_A_STORAGE_DEVICE) or carrying a status other than
    charging or discharging (INVALID_FIELD) are refused; the correct interval is
    then accepted.
    """
    sw = storage_world(s)
    soc = percent(800) if sw.formulas else None
    good = data_fields(s, sw, "CHARGING", 2, 1000, soc_pct=soc)
    s.reject("METER_MISMATCH", "submit_storage_data", ISSUER_ID, **{**good, "meter_id": "M-WIND"})
    s.reject(
        "NOT_A_STORAGE_DEVICE",
        "submit_storage_data",
        ISSUER_ID,
        **{**good, "storage_id": "DEV-WIND", "meter_id": "M-WIND"},
    )
    s.reject("INVALID_FIELD", "submit_storage_data", ISSUER_ID, **{**good, "status": "FULL"})
    record(s, sw, "CHARGING", 2, 1000)


@check("storage.data.no_overlapping_records", requirements=["STOR-006"], profile=STORAGE)
def no_overlapping_records(s: Session) -> None:
    """Energy of one interval is recorded once: a second record for the same interval is refused.

    After a charge in interval 2, another charge or a discharge for the same
    interval is refused (STORAGE_INTERVAL_OUT_OF_ORDER); otherwise the same
    charged energy could back GCs twice.
    """
    sw = storage_world(s)
    record(s, sw, "CHARGING", 2, 1000)
    again_soc = percent(1600) if sw.formulas else None
    s.reject(
        "STORAGE_INTERVAL_OUT_OF_ORDER",
        "submit_storage_data",
        ISSUER_ID,
        **data_fields(s, sw, "CHARGING", 2, 1000, soc_pct=again_soc),
    )
    out_soc = percent(300) if sw.formulas else None
    s.reject(
        "STORAGE_INTERVAL_OUT_OF_ORDER",
        "submit_storage_data",
        ISSUER_ID,
        **data_fields(s, sw, "DISCHARGING", 2, 500, soc_pct=out_soc),
    )
    record(s, sw, "DISCHARGING", 3, 500)


@check("storage.data.time_order", requirements=["STOR-007"], profile=STORAGE)
def time_order(s: Session) -> None:
    """Storage data arrive in time order: an interval before the last recorded one is refused."""
    sw = storage_world(s)
    record(s, sw, "CHARGING", 3, 1000)
    soc = percent(1600) if sw.formulas else None
    s.reject(
        "STORAGE_INTERVAL_OUT_OF_ORDER",
        "submit_storage_data",
        ISSUER_ID,
        severity=Severity.MINOR,
        **data_fields(s, sw, "CHARGING", 1, 1000, soc_pct=soc),
    )


@check("storage.records.are_not_certificates", requirements=["STOR-008"], profile=STORAGE)
def records_are_not_certificates(s: Session) -> None:
    """A charge makes one SCR and a discharge one SDR; neither is a certificate.

    Recording a charge and a discharge changes no bundle; each names its own
    record, and an SDR is not an SCR (nor the other way round): GCs cannot be
    cancelled "for" a discharge record, nor an SD-GC issued "from" a charge
    record (UNKNOWN_STORAGE_RECORD).
    """
    sw = storage_world(s)
    bundle = produce(s, sw, 3, 500)
    before = canonical_state(s.observe())
    scr = record(s, sw, "CHARGING", 2, 1000)
    sdr = record(s, sw, "DISCHARGING", 3, 500)
    s.expect(
        canonical_state(s.observe()) == before,
        "recording storage data creates, changes or removes no certificate",
        expected="bundles unchanged",
        observed="bundles changed",
        severity=Severity.CRITICAL,
    )
    s.expect(
        scr != sdr,
        "the charge and the discharge are two records",
        expected="two IDs",
        observed=[scr, sdr],
    )
    s.reject(
        "UNKNOWN_STORAGE_RECORD",
        "cancel_for_charge",
        sw.operator,
        scr_id=sdr,
        bundle_id=bundle,
        geographic_matching=MATCHING,
    )
    s.reject("UNKNOWN_STORAGE_RECORD", "issue_storage_gc", ISSUER_ID, sdr_id=scr)


@check("storage.output.only_through_sdr", requirements=["STOR-009"], profile=STORAGE)
def output_only_through_sdr(s: Session) -> None:
    """A storage system's output is never issued as ordinary GCs, only as SD-GCs from its SDRs.

    Production data (or an issuer-created bundle) for the storage device is refused
    with STORAGE_OUTPUT_NEEDS_SDR, in every issuance style the registry offers.
    """
    sw = storage_world(s)
    start, end = interval(s, sw, 4)
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        s.reject(
            "STORAGE_OUTPUT_NEEDS_SDR",
            "submit_production",
            ISSUER_ID,
            device_id=STORAGE_ID,
            meter_id=STORAGE_METER,
            start=start,
            end=end,
            energy_wh="500",
        )
    if IssuanceStyle.ISSUER_CREATED in s.capabilities.issuance_styles:
        first = s.next_free_certificate()
        s.reject(
            "STORAGE_OUTPUT_NEEDS_SDR",
            "issue_bundle",
            ISSUER_ID,
            device_id=STORAGE_ID,
            account_id=sw.account,
            start=start,
            end=end,
            range_start=first,
            range_end=first + 499,
            quantity=500,
            energy_wh="500",
        )
    s.expect(
        not storage_bundles(s),
        "no certificate exists for the storage system's output",
        expected=[],
        observed=storage_bundles(s),
        severity=Severity.CRITICAL,
    )
