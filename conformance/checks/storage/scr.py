"""GC to SCR and losses (D7): certificates cancelled into Storage Charge Records, and losses booked by the declared method and convention."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gc_conformance.checks import check
from gc_conformance.checks.storage.world import (
    MATCHING,
    STORAGE,
    STORAGE_ID,
    allocate,
    backed_charge,
    cancel_for_charge,
    commission,
    data_fields,
    expect_allocation,
    interval,
    issue_sd_gc,
    observed_bundle,
    produce,
    record,
    require_storage_extension,
    storage_extension,
    storage_world,
)
from gc_conformance.session import (
    ISSUER_ID,
    NotApplicable,
    Session,
    stamp,
)

# ================================================================ GC -> SCR (D7)


@check("storage.charge.same_interval_gcs_only", requirements=["STOR-010"], profile=STORAGE)
def same_interval_gcs_only(s: Session) -> None:
    """Only GCs produced in the charge interval itself may be cancelled for the SCR.

    With wind GCs of hours 2 and 3 and a charge in interval 3, the hour-2 GCs are
    refused (GC_INTERVAL_MISMATCH) and the hour-3 GCs accepted.
    """
    sw = storage_world(s)
    earlier = produce(s, sw, 2, 1000)
    same = produce(s, sw, 3, 1000)
    scr = record(s, sw, "CHARGING", 3, 1000)
    s.reject(
        "GC_INTERVAL_MISMATCH",
        "cancel_for_charge",
        sw.operator,
        scr_id=scr,
        bundle_id=earlier,
        geographic_matching=MATCHING,
    )
    cancel_for_charge(s, sw, scr, same)


@check(
    "storage.charge.never_beyond_metered_charge",
    requirements=["STOR-011"],
    profile=STORAGE,
)
def never_beyond_metered_charge(s: Session) -> None:
    """GCs cancelled for an SCR never exceed its metered charge.

    A 1000 Wh charge in hour 2 against 1500 Wh of wind GCs of that hour: the whole
    bundle is refused (CHARGE_EXCEEDED), 1000 Wh of it are accepted and the other
    500 Wh stay active with alice; then even 1 Wh of solar GCs of the same hour is
    refused, the charge being fully backed.
    """
    sw = storage_world(s)
    wind = produce(s, sw, 2, 1500)
    solar = produce(s, sw, 2, 200, "DEV-SOLAR")
    scr = record(s, sw, "CHARGING", 2, 1000)
    s.reject(
        "CHARGE_EXCEEDED",
        "cancel_for_charge",
        sw.operator,
        scr_id=scr,
        bundle_id=wind,
        geographic_matching=MATCHING,
    )
    cancel_for_charge(s, sw, scr, wind, quantity=1000)
    start = interval(s, sw, 2)[0]
    left = [
        b
        for b in s.bundles(device_id="DEV-WIND", production_starting_interval=start)
        if b["certificate_bundle_status"] == "ACTIVE"
    ]
    s.expect(
        [(b["account_id"], b["bundle_quantity"]) for b in left] == [(sw.account, 500)],
        "the part of the bundle not cancelled for storage stays active with its holder",
        expected=[(sw.account, 500)],
        observed=[(b["account_id"], b["bundle_quantity"]) for b in left],
    )
    s.reject(
        "CHARGE_EXCEEDED",
        "cancel_for_charge",
        sw.operator,
        scr_id=scr,
        bundle_id=solar,
        geographic_matching=MATCHING,
        quantity=1,
    )


@check(
    "storage.charge.cancelled_for_storage_is_final",
    requirements=["STOR-012"],
    profile=STORAGE,
)
def cancelled_for_storage_is_final(s: Session) -> None:
    """GCs cancelled for charging are marked so, and can serve nothing else afterwards.

    The bundle shows status CANCELLED_FOR_STORAGE with purpose STORAGE_CHARGE; a
    consumption claim on it is refused (NOT_CANCELLED: it was not cancelled for
    consumption), and so are a transfer, a consumption cancellation and a second
    storage cancellation (BUNDLE_NOT_ACTIVE), and an unknown SCR
    (UNKNOWN_STORAGE_RECORD).
    """
    sw = storage_world(s)
    scr, bundle = backed_charge(s, sw, 2)
    seen = observed_bundle(s, bundle, "the bundle cancelled for storage")
    s.expect(
        (seen["certificate_bundle_status"], seen.get("cancellation_purpose"))
        == ("CANCELLED_FOR_STORAGE", "STORAGE_CHARGE"),
        "GCs cancelled for charging are marked as cancelled for storage",
        expected=("CANCELLED_FOR_STORAGE", "STORAGE_CHARGE"),
        observed=(seen["certificate_bundle_status"], seen.get("cancellation_purpose")),
    )
    s.reject("NOT_CANCELLED", "claim", sw.operator, bundle_id=bundle, claimant=sw.operator)
    w = sw.world
    s.reject(
        "BUNDLE_NOT_ACTIVE", "transfer", sw.operator, bundle_id=bundle, to_account=w.account(w.bob)
    )
    s.reject("BUNDLE_NOT_ACTIVE", "cancel", sw.operator, bundle_id=bundle, beneficiary=w.bob)
    s.reject(
        "BUNDLE_NOT_ACTIVE",
        "cancel_for_charge",
        sw.operator,
        scr_id=scr,
        bundle_id=bundle,
        geographic_matching=MATCHING,
    )
    other = produce(s, sw, 2, 100, "DEV-SOLAR")
    s.reject(
        "UNKNOWN_STORAGE_RECORD",
        "cancel_for_charge",
        sw.operator,
        scr_id="SCR-DOES-NOT-EXIST",
        bundle_id=other,
        geographic_matching=MATCHING,
    )


@check("storage.charge.scr_records_sources", requirements=["STOR-013"], profile=STORAGE)
def scr_records_sources(s: Session) -> None:
    """The SCR records the cancelled GCs' energy source, references to them and the matching type.

    Needs the ``storage`` observation: after wind GCs 1..1000 of hour 2 are
    cancelled for the hour-2 charge, its SCR names wind as source, the matching
    type given, and the certificate range of the cancelled bundle.
    """
    sw = storage_world(s)
    scr, bundle = backed_charge(s, sw, 2)
    data = require_storage_extension(s, "the storage charge records")
    seen = observed_bundle(s, bundle, "the bundle cancelled for storage")
    records = [r for r in data.get("scrs", ()) if r.get("scr_allocation_id") == scr]
    s.expect(len(records) == 1, "the SCR is observable", expected=scr, observed=len(records))
    scr_plain = records[0]
    refs = [
        (
            r.get("granular_certificate_certificate_bundle_id_range_start"),
            r.get("granular_certificate_certificate_bundle_id_range_end"),
        )
        for r in [scr_plain, *scr_plain.get("sources", ())]
    ]
    wanted = (seen["certificate_bundle_id_range_start"], seen["certificate_bundle_id_range_end"])
    s.expect(
        wanted in refs,
        "the SCR references the certificates cancelled for it",
        expected=wanted,
        observed=refs,
    )
    s.expect(
        (scr_plain.get("charging_energy_source"), scr_plain.get("scr_geographic_matching_method"))
        == ("wind", MATCHING),
        "the SCR keeps the energy source of its GCs and the geographic-matching type",
        expected=("wind", MATCHING),
        observed=(
            scr_plain.get("charging_energy_source"),
            scr_plain.get("scr_geographic_matching_method"),
        ),
    )


# ================================================================ losses (D7)


@check(
    "storage.losses.net_never_gross",
    requirements=["STOR-014"],
    profile=STORAGE,
)
def net_never_gross(s: Session) -> None:
    """A storage system with losses never passes on a charge's whole gross energy.

    Commissioning (800 Wh out of 1000 Wh in) shows losses under any reading of
    the efficiency factor (STOR-015 is a SHOULD; only STOR-014's "net of losses"
    is judged here). A 1000 Wh discharge backed by one 1000 Wh charge can thus
    never be covered in full: under the operator's discretion, listing the gross
    1000 Wh is refused (ALLOCATION_EXCEEDS_CHARGE); otherwise the registry's own
    allocation leaves the discharge short and its SD-GC is refused
    (SDR_NOT_FULLY_ALLOCATED).
    """
    sw = storage_world(s, loss=("EFFICIENCY_FACTOR",))
    n = commission(s, sw)
    scr, _ = backed_charge(s, sw, n)
    sdr = record(s, sw, "DISCHARGING", n + 1, 1000)
    if sw.discretion:
        s.reject(
            "ALLOCATION_EXCEEDS_CHARGE",
            "allocate_storage",
            sw.operator,
            storage_id=STORAGE_ID,
            sdr_ids=[sdr],
            allocations=[[scr, sdr, 1000]],
        )
        return
    allocate(s, sw, [sdr])
    s.reject("SDR_NOT_FULLY_ALLOCATED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr)


@check(
    "storage.losses.efficiency_factor_net",
    requirements=["STOR-015"],
    profile=STORAGE,
)
def efficiency_factor_net(s: Session) -> None:
    """Under the efficiency factor, an SCR gives its charge times the factor, never more.

    Commissioning sets 800/1000 = 4/5. A backed 1000 Wh charge (interval 2) then
    holds 800 Wh; a 900 Wh discharge (interval 3) receives exactly those 800 Wh,
    so its SD-GC is refused (SDR_NOT_FULLY_ALLOCATED). The exact 800 follows
    from the factor's definition (STOR-015, a SHOULD), so this check cites only
    that; the SHALL of STOR-014 is judged by ``storage.losses.net_never_gross``.
    """
    sw = storage_world(s, loss=("EFFICIENCY_FACTOR",))
    n = commission(s, sw)
    scr, _ = backed_charge(s, sw, n)
    sdr = record(s, sw, "DISCHARGING", n + 1, 900)
    allocate(s, sw, [sdr], [(scr, sdr, 800)])
    expect_allocation(s, sw, sdr, {scr: 800}, "an SCR gives its charge net of losses (1000 x 4/5)")
    s.reject("SDR_NOT_FULLY_ALLOCATED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr)


def _add_months(day: _dt.date, months: int) -> _dt.date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1)


@check(
    "storage.losses.initial_window_within_six_months",
    requirements=["STOR-015"],
    profile=STORAGE,
)
def initial_window_within_six_months(s: Session) -> None:
    """The initial efficiency factor uses data from within six months of the start-up date.

    Start-up is the first day of the month six months before the production
    month, so six months later is the first day of the production month (L).
    With a cycle (1000 Wh in, 800 Wh out) the day before L, a window starting
    before start-up and one ending an hour after L are refused
    (EFFICIENCY_WINDOW_INVALID); the window ending exactly at L is accepted.
    """
    limit_day = s.epoch.date().replace(day=1)
    startup = _add_months(limit_day, -6)
    sw = storage_world(s, loss=("EFFICIENCY_FACTOR",), startup=startup.isoformat())
    record(s, sw, "CHARGING", 0, 1000, day=-1 - (s.epoch.date() - limit_day).days)
    record(s, sw, "DISCHARGING", 1, 800, day=-1 - (s.epoch.date() - limit_day).days)
    limit = _dt.datetime(limit_day.year, limit_day.month, 1, tzinfo=_dt.UTC)
    cycle = limit - _dt.timedelta(days=1)
    before_startup = _dt.datetime(startup.year, startup.month, startup.day, tzinfo=_dt.UTC)
    s.reject(
        "EFFICIENCY_WINDOW_INVALID",
        "set_efficiency_factor",
        ISSUER_ID,
        storage_id=STORAGE_ID,
        window_start=stamp(before_startup - _dt.timedelta(days=1)),
        window_end=stamp(limit),
    )
    s.reject(
        "EFFICIENCY_WINDOW_INVALID",
        "set_efficiency_factor",
        ISSUER_ID,
        storage_id=STORAGE_ID,
        window_start=stamp(cycle),
        window_end=stamp(limit + _dt.timedelta(hours=1)),
    )
    s.accept(
        "set_efficiency_factor",
        ISSUER_ID,
        storage_id=STORAGE_ID,
        window_start=stamp(cycle),
        window_end=stamp(limit),
    )


@check("storage.losses.undefined_factor_refused", requirements=["STOR-015"], profile=STORAGE)
def undefined_factor_refused(s: Session) -> None:
    """No efficiency factor from a window without charged energy or with more out than in.

    A window holding only an 800 Wh discharge, and one holding that discharge and
    a 500 Wh charge, are both refused with EFFICIENCY_UNDEFINED.
    """
    sw = storage_world(s, loss=("EFFICIENCY_FACTOR",))
    record(s, sw, "DISCHARGING", 0, 800)  # the efficiency method takes no state of charge
    s.reject(
        "EFFICIENCY_UNDEFINED",
        "set_efficiency_factor",
        ISSUER_ID,
        storage_id=STORAGE_ID,
        window_start=interval(s, sw, 0)[0],
        window_end=interval(s, sw, 1)[0],
    )
    record(s, sw, "CHARGING", 1, 500)
    s.reject(
        "EFFICIENCY_UNDEFINED",
        "set_efficiency_factor",
        ISSUER_ID,
        storage_id=STORAGE_ID,
        window_start=interval(s, sw, 0)[0],
        window_end=interval(s, sw, 2)[0],
    )


@check(
    "storage.losses.allocation_waits_for_losses",
    requirements=["STOR-017", "STOR-014"],
    profile=STORAGE,
)
def allocation_waits_for_losses(s: Session) -> None:
    """Nothing is allocated from an SCR before its losses are calculated.

    Under the efficiency method, with no factor yet, allocating the 800 Wh
    discharge from the 1000 Wh charge is refused (LOSSES_NOT_CALCULATED); once
    the factor is set (4/5) the same allocation is accepted.
    """
    sw = storage_world(s, loss=("EFFICIENCY_FACTOR",))
    scr = record(s, sw, "CHARGING", 0, 1000)
    sdr = record(s, sw, "DISCHARGING", 1, 800)
    fields: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": [sdr]}
    if sw.discretion:
        fields["allocations"] = [[scr, sdr, 800]]
    s.reject("LOSSES_NOT_CALCULATED", "allocate_storage", sw.operator, **fields)
    s.accept(
        "set_efficiency_factor",
        ISSUER_ID,
        storage_id=STORAGE_ID,
        window_start=interval(s, sw, 0)[0],
        window_end=interval(s, sw, 2)[0],
    )
    allocate(s, sw, [sdr], [(scr, sdr, 800)])
    expect_allocation(s, sw, sdr, {scr: 800}, "allocated once the losses are known")


@check(
    "storage.losses.interval_formulas",
    requirements=["STOR-016"],
    profile=STORAGE,
)
def interval_formulas(s: Session) -> None:
    """The per-interval loss formulas, under the fraction-of-capacity convention.

    QT = 10 000 Wh. A backed 1000 Wh charge raising the state of charge from 0 %
    to 9 % loses (0 + 0.10 - 0.09) x QT = 100 Wh; a 400 Wh discharge to 4.5 %
    loses (0.09 - 0.045 - 0.04) x QT = 50 Wh; a 450 Wh discharge to 0 % loses
    nothing. The SCR thus holds 850 Wh, exactly what the two discharges take, and
    both SD-GCs are issued. Before that: a charge without the state of charge is
    refused (STATE_OF_CHARGE_REQUIRED), and one claiming 50 % after 1000 Wh into
    an empty store (energy created) is refused (STATE_OF_CHARGE_INCONSISTENT).
    Where the registry reports losses (``loss_wh`` in the result) or the pool
    (``storage`` observation), those must match the hand-computed values.
    """
    if s.policy("loss_convention", "") != "FRACTION_OF_CAPACITY":
        raise NotApplicable(
            "the hand-computed losses use the FRACTION_OF_CAPACITY convention; the registry "
            f"declares loss_convention={s.policy('loss_convention', 'nothing')!r}"
        )
    sw = storage_world(s, loss=("INTERVAL_FORMULAS",))
    bundle = produce(s, sw, 0, 1000)
    s.reject(
        "STATE_OF_CHARGE_REQUIRED",
        "submit_storage_data",
        ISSUER_ID,
        **data_fields(s, sw, "CHARGING", 0, 1000),
    )
    s.reject(
        "STATE_OF_CHARGE_INCONSISTENT",
        "submit_storage_data",
        ISSUER_ID,
        **data_fields(s, sw, "CHARGING", 0, 1000, soc_pct="50"),
    )
    steps = (("CHARGING", 0, 1000, "9", 100, 900), ("DISCHARGING", 1, 400, "4.5", 50, 850))
    ids = []
    for status, n, wh, soc, loss, pool in steps:
        result = s.accept(
            "submit_storage_data", ISSUER_ID, **data_fields(s, sw, status, n, wh, soc_pct=soc)
        )
        ids.append(result.get("record_id"))
        if result.get("loss_wh") is not None:
            s.expect_equal(
                result["loss_wh"], loss, f"the {status.lower()} interval's loss follows the formula"
            )
        data = storage_extension(s)
        if data is not None:
            systems = [x for x in data.get("systems", ()) if x.get("storage_id") == STORAGE_ID]
            held = systems[0].get("state_of_charge_wh") if systems else None
            s.expect_equal(
                held, pool, "the pool holds the charged energy net of the formulas' losses"
            )
    scr, first = ids
    cancel_for_charge(s, sw, scr, bundle)
    last = s.accept(
        "submit_storage_data", ISSUER_ID, **data_fields(s, sw, "DISCHARGING", 2, 450, soc_pct="0")
    ).get("record_id")
    allocate(s, sw, [first, last], [(scr, first, 400), (scr, last, 450)])
    expect_allocation(s, sw, first, {scr: 400}, "the first discharge is covered")
    expect_allocation(s, sw, last, {scr: 450}, "the rest of the SCR's 850 Wh covers the second")
    for sdr, wh in ((first, 400), (last, 450)):
        bundle_id = issue_sd_gc(s, sdr)
        got = observed_bundle(s, bundle_id, "the SD-GC")["bundle_quantity"]
        s.expect(got == wh, "the SD-GC has the SDR's volume", expected=wh, observed=got)
