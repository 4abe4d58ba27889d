"""SD-GCs, time shift, roles and lifecycle (D7): storage-discharge certificates issued only from allocated, cancelled inputs, with the attributes D7 names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gc_conformance.checks import check
from gc_conformance.checks.storage.world import (
    STORAGE,
    STORAGE_CITY,
    STORAGE_ID,
    StorageWorld,
    allocate,
    allocations_seen,
    backed_charge,
    cancel_for_charge,
    commission,
    data_fields,
    energy_source,
    expect_allocation,
    interval,
    issue_sd_gc,
    observed_bundle,
    percent,
    produce,
    record,
    require_storage_extension,
    startup_records,
    storage_bundles,
    storage_extension,
    storage_world,
)
from gc_conformance.outcomes import Severity, SkipKind
from gc_conformance.session import (
    ISSUER_ID,
    NotApplicable,
    Session,
)

# ================================================================ SD-GC (D7)


def _cycle(s: Session, sw: StorageWorld) -> tuple[Any, Any, Any]:
    """Commissioning, then a backed 1000 Wh wind charge (interval 2) and an 800 Wh
    discharge (interval 3), allocated. Returns (SCR, SDR, input GC bundle)."""
    n = commission(s, sw)
    scr, bundle = backed_charge(s, sw, n)
    sdr = record(s, sw, "DISCHARGING", n + 1, 800)
    allocate(s, sw, [sdr], [(scr, sdr, 800)])
    return scr, sdr, bundle


@check(
    "storage.sdgc.only_after_inputs_cancelled",
    requirements=["STOR-024"],
    profile=STORAGE,
)
def sd_gc_only_after_inputs_cancelled(s: Session) -> None:
    """An SD-GC needs a fully allocated SDR whose SCRs are *all* backed by cancelled GCs.

    (How far a partly backed SCR counts is the declared ``sd_gc_inputs``; see the end.)

    A 1600 Wh discharge fed by a backed charge A and an unbacked charge U (800 Wh
    net each; every method must take both) is refused (INPUTS_NOT_CANCELLED): one
    backed input does not make the whole SD-GC backed. So is an 800 Wh discharge
    fed only by an unbacked charge. An SDR not yet allocated is refused
    (SDR_NOT_FULLY_ALLOCATED); the allocated SDR of a backed charge then gets its
    SD-GC. No storage certificate exists before that.
    """
    sw = storage_world(s)
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n)
    u = record(s, sw, "CHARGING", n + 1, 1000)
    mixed = record(s, sw, "DISCHARGING", n + 2, 1600)
    allocate(s, sw, [mixed], [(a, mixed, 800), (u, mixed, 800)])
    expect_allocation(s, sw, mixed, {a: 800, u: 800}, "both stored charges are needed")
    s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=mixed)
    bare_charge = record(s, sw, "CHARGING", n + 3, 1000)
    bare = record(s, sw, "DISCHARGING", n + 4, 800)
    allocate(s, sw, [bare], [(bare_charge, bare, 800)])
    s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=bare)
    scr, _ = backed_charge(s, sw, n + 5)
    sdr = record(s, sw, "DISCHARGING", n + 6, 800)
    s.reject("SDR_NOT_FULLY_ALLOCATED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr)
    s.expect(
        not storage_bundles(s),
        "no SD-GC exists before its inputs are cancelled and allocated",
        expected=[],
        observed=storage_bundles(s),
        severity=Severity.CRITICAL,
    )
    allocate(s, sw, [sdr], [(scr, sdr, 800)])
    issue_sd_gc(s, sdr)
    # A charge only partly backed (600 of 1000 Wh), 100 Wh of it discharged: the declared
    # sd_gc_inputs decides (FULLY_BACKED_SCRS refuses, BACKED_WH_FIRST issues: the 100 Wh lie
    # within the backed part); a registry declaring neither is not judged on it.
    rule = s.capabilities.policies.get("sd_gc_inputs")
    if rule not in ("FULLY_BACKED_SCRS", "BACKED_WH_FIRST"):
        return
    part = record(s, sw, "CHARGING", n + 7, 1000)
    cancel_for_charge(s, sw, part, produce(s, sw, n + 7, 600))
    small = record(s, sw, "DISCHARGING", n + 8, 100)
    allocate(s, sw, [small], [(part, small, 100)])
    if rule == "FULLY_BACKED_SCRS":
        s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=small)
    else:
        issue_sd_gc(s, small)


@check("storage.sdgc.volume_and_interval", requirements=["STOR-025"], profile=STORAGE)
def sd_gc_volume_and_interval(s: Session) -> None:
    """The SD-GC has exactly the SDR's volume, for the discharge interval.

    The 800 Wh discharge of interval 3 gives one SD-GC bundle of 800 Wh whose
    interval is interval 3, and no other storage certificate.
    """
    sw = storage_world(s)
    _, sdr, _ = _cycle(s, sw)
    bundle_id = issue_sd_gc(s, sdr)
    seen = observed_bundle(s, bundle_id, "the SD-GC")
    start, end = interval(s, sw, 3)
    got = (
        seen["bundle_quantity"],
        seen.get("production_starting_interval"),
        seen.get("production_ending_interval"),
    )
    s.expect(
        got == (800, start, end),
        "the SD-GC carries the SDR's volume and the discharge interval",
        expected=(800, start, end),
        observed=got,
        severity=Severity.CRITICAL,
    )
    total = sum(b["bundle_quantity"] for b in storage_bundles(s))
    s.expect_equal(
        total, 800, "the SDR gives no other storage certificate", severity=Severity.CRITICAL
    )


@check("storage.sdgc.storage_tag_and_source", requirements=["STOR-026"], profile=STORAGE)
def sd_gc_storage_tag_and_source(s: Session) -> None:
    """The SD-GC is tagged as issued after storage and passes on the original energy source.

    The charge behind it was wind: the SD-GC shows ``is_storage`` and wind as its
    energy source, and the original wind GCs are not tagged.
    """
    sw = storage_world(s)
    _, sdr, gc_bundle = _cycle(s, sw)
    bundle_id = issue_sd_gc(s, sdr)
    seen = observed_bundle(s, bundle_id, "the SD-GC")
    original = observed_bundle(s, gc_bundle, "the input GC")
    s.expect(
        (seen.get("is_storage"), original.get("is_storage")) == (True, False),
        "only the SD-GC carries the storage tag",
        expected=(True, False),
        observed=(seen.get("is_storage"), original.get("is_storage")),
    )
    got = energy_source(s, sw, bundle_id)
    s.expect_equal(got, "wind", "the SD-GC passes on the input GCs' energy source")


@check("storage.sdgc.locations_and_origin", requirements=["STOR-026"], profile=STORAGE)
def sd_gc_locations_and_origin(s: Session) -> None:
    """The SD-GC states the original device's location, the storage location and the origin.

    Needs the ``storage`` observation. The wind GCs came from Delft in hour 2; the
    store is in Utrecht: the SD-GC's production location is Delft, its storage
    location Utrecht, and its original production interval hour 2.
    """
    sw = storage_world(s)
    _, sdr, _ = _cycle(s, sw)
    issue_sd_gc(s, sdr)
    data = require_storage_extension(s, "the SD-GC's storage attributes")
    found = [g for g in data.get("sd_gcs", ()) if g.get("sdr_allocation_id") == sdr]
    s.expect(
        len(found) == 1, "the SD-GC's attributes are observable", expected=sdr, observed=len(found)
    )
    sd_gc = found[0]

    def city(value: Any) -> Any:
        return value.get("city") if isinstance(value, Mapping) else value

    start, end = interval(s, sw, 2)
    got = (
        city(sd_gc.get("device_location")),
        city(sd_gc.get("storage_device_location")),
        sd_gc.get("original_production_start"),
        sd_gc.get("original_production_end"),
    )
    s.expect(
        got == ("Delft", STORAGE_CITY, start, end),
        "production location = original device's, plus the storage location and origin",
        expected=("Delft", STORAGE_CITY, start, end),
        observed=got,
    )


#: The D5 fields that describe a production device, under the API specification's names (as in
#: ``checks.core.helpers.MANDATORY_ATTRIBUTES``): an SD-GC states them for one original producer.
_DEVICE_FIELDS = (
    "device_name",
    "device_capacity",
    "device_production_start_date",
    "device_location",
)


@check("storage.sdgc.producer_of_several", requirements=["STOR-032"], profile=STORAGE)
def sd_gc_producer_of_several(s: Session) -> None:
    """With two producers behind one SD-GC, its D5 device fields describe the declared one.

    The declared ``sd_gc_producer`` (FIRST_ALLOCATED when undeclared) names the producer; the
    SD-GC's device fields must equal those the registry states on that producer's own GC (and
    its ``production_device_id``, where the ``storage`` observation shows it), cycle by cycle,
    the store emptied between cycles:

    1. one charge backed by 300 Wh of solar GCs, then 700 Wh of wind GCs: FIRST_ALLOCATED
       names solar (cancelled first), LARGEST_SHARE wind (the most Wh);
    2. a wind charge, then a solar charge, 1000 Wh each, both drawn by one 1600 Wh discharge:
       a tie, so both readings name the first allocated, which the registered method decides:
       wind under FIFO, solar under LIFO, the operator's first listed (solar) under discretion,
       and under a weighted average (every charge at once) the first the registry lists;
    3. and 4. one charge backed by 500 Wh of each, wind first, then solar first: a tie again,
       settled by the order the GCs were cancelled for the charge.

    Only device fields that differ between the two producers are compared (a field both share
    cannot show which one was picked): a registry that shows none, and no
    ``production_device_id``, leaves the requirement not verified; one without an action the
    scenario needs is skipped, naming it.
    """
    # Capabilities accept only the two readings (a third is a configuration error, exit 3).
    reading = s.policy("sd_gc_producer", "FIRST_ALLOCATED")
    sw = storage_world(s)
    n = commission(s, sw)
    wind, solar = "DEV-WIND", "DEV-SOLAR"

    # 1. One charge, unequal producers: the reading decides.
    gcs = _mixed_charge(s, sw, n, [(solar, 300), (wind, 700)])
    sdr = record(s, sw, "DISCHARGING", n + 1, 800)
    allocate(s, sw, [sdr], [(gcs.scr, sdr, 800)])
    named = solar if reading == "FIRST_ALLOCATED" else wind
    _expect_producer(
        s, sdr, gcs.bundles, named, f"{reading}: 300 Wh solar cancelled first, 700 Wh wind"
    )

    # 2. Two charges, one producer each, equal: the first allocated, by the registered method.
    older, older_gc = backed_charge(s, sw, n + 2, wind)
    newer, newer_gc = backed_charge(s, sw, n + 3, solar)
    both = record(s, sw, "DISCHARGING", n + 4, 1600)
    listed = [(newer, both, 800), (older, both, 800)]  # under discretion: the newer first
    allocate(s, sw, [both], listed)
    order = sw.charges_in_order([older, newer])
    if order is None:
        order = [newer, older] if sw.discretion else list(allocations_seen(s, sw).get(both, {}))
    first = {older: wind, newer: solar}.get(order[0]) if order else None
    s.expect(
        first is not None,
        f"SDR {both}: the registry lists its allocation from the two stored charges",
        expected=[older, newer],
        observed=order,
    )
    assert first is not None
    _expect_producer(
        s,
        both,
        {wind: older_gc, solar: newer_gc},
        first,
        f"a tie (1000 Wh each), the first allocated under {sw.allocation}",
    )

    # 3. and 4. One charge, equal producers: the order the GCs were cancelled for it.
    for step, cancelled in ((5, [(wind, 500), (solar, 500)]), (7, [(solar, 500), (wind, 500)])):
        gcs = _mixed_charge(s, sw, n + step, cancelled)
        sdr = record(s, sw, "DISCHARGING", n + step + 1, 800)
        allocate(s, sw, [sdr], [(gcs.scr, sdr, 800)])
        _expect_producer(
            s,
            sdr,
            gcs.bundles,
            cancelled[0][0],
            f"a tie (500 Wh each) within one charge, {cancelled[0][0]} cancelled first",
        )


@attrs.frozen
class _MixedCharge:
    scr: Any
    bundles: dict[str, Any]  # producer -> its GC bundle as cancelled for the charge


def _mixed_charge(
    s: Session, sw: StorageWorld, n: int, inputs: list[tuple[str, int]]
) -> _MixedCharge:
    """A charge in interval ``n`` of the inputs' total, backed by each producer's GCs of hour
    ``n``, cancelled for it in the order given."""
    made = [(device, produce(s, sw, n, wh, device)) for device, wh in inputs]
    scr = record(s, sw, "CHARGING", n, sum(wh for _, wh in inputs))
    return _MixedCharge(
        scr, {device: cancel_for_charge(s, sw, scr, bundle) for device, bundle in made}
    )


def _expect_producer(s: Session, sdr: Any, gcs: Mapping[str, Any], producer: str, why: str) -> None:
    """The SD-GC of ``sdr`` states ``producer``'s device fields, as its own GC ``gcs[producer]``
    states them (and names it as ``production_device_id`` where the storage observation shows)."""
    sd_gc = observed_bundle(s, issue_sd_gc(s, sdr), "the SD-GC")
    own = observed_bundle(s, gcs[producer], f"the GC of {producer}")
    (other,) = (bundle for name, bundle in gcs.items() if name != producer)
    theirs = observed_bundle(s, other, "the other producer's GC")
    # Only fields that tell the two producers apart can show which one the SD-GC describes.
    fields = [f for f in _DEVICE_FIELDS if f in own and own[f] != theirs.get(f)]
    expected: dict[str, Any] = {f: own[f] for f in fields}
    observed: dict[str, Any] = {f: sd_gc.get(f) for f in fields}
    data = storage_extension(s)
    found = [g for g in (data or {}).get("sd_gcs", ()) if g.get("sdr_allocation_id") == sdr]
    if found and "production_device_id" in found[0]:
        expected["production_device_id"] = producer
        observed["production_device_id"] = found[0]["production_device_id"]
    if not expected:
        raise NotApplicable(
            "neither the bundles nor the storage observation show a device field that tells "
            f"the two producers apart ({', '.join(_DEVICE_FIELDS)}, production_device_id)",
            kind=SkipKind.NOT_VERIFIED,
        )
    s.expect(
        observed == expected,
        f"SDR {sdr}: the SD-GC's D5 device fields describe {producer} ({why})",
        expected=expected,
        observed=observed,
        severity=Severity.MAJOR,
    )


@check("storage.sdgc.sdr_serves_once", requirements=["STOR-027"], profile=STORAGE)
def sdr_serves_once(s: Session) -> None:
    """Once an SDR has its SD-GC it serves nothing else.

    A second SD-GC, the unknown beneficiary and a further allocation for it are
    all refused with SDR_ALREADY_USED; one SD-GC of 800 Wh exists.
    """
    sw = storage_world(s)
    _, sdr, _ = _cycle(s, sw)
    issue_sd_gc(s, sdr)
    s.reject("SDR_ALREADY_USED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr)
    s.reject("SDR_ALREADY_USED", "assign_unknown_beneficiary", sw.operator, sdr_id=sdr)
    fields: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": [sdr]}
    if sw.discretion:
        fields["allocations"] = [["SCR-ANY", sdr, 1]]
    s.reject("SDR_ALREADY_USED", "allocate_storage", sw.operator, **fields)
    total = sum(b["bundle_quantity"] for b in storage_bundles(s))
    s.expect_equal(total, 800, "one SD-GC of the SDR's volume", severity=Severity.CRITICAL)


@check(
    "storage.unknown_beneficiary.closes_sdr_and_drains_pool",
    requirements=["STOR-028", "STOR-027"],
    profile=STORAGE,
)
def unknown_beneficiary(s: Session) -> None:
    """An SDR without SD-GC may go to the unknown beneficiary; its energy then leaves the pool.

    The commissioning discharge goes to the unknown beneficiary and can get no
    SD-GC afterwards (SDR_ALREADY_USED). An unbacked charge U and its 800 Wh
    discharge go the same way (the registry allocating it by its method, or the
    operator first under discretion). A later backed charge and discharge are then
    allocated from the backed charge only, and get their SD-GC.
    """
    sw = storage_world(s)
    scr0, sdr0 = startup_records(s, sw)
    if sw.discretion:
        allocate(s, sw, [sdr0], [(scr0, sdr0, 800)])
    s.accept("assign_unknown_beneficiary", sw.operator, sdr_id=sdr0)
    s.reject("SDR_ALREADY_USED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr0)
    u = record(s, sw, "CHARGING", 2, 1000)
    gone = record(s, sw, "DISCHARGING", 3, 800)
    if sw.discretion:
        allocate(s, sw, [gone], [(u, gone, 800)])
    s.accept("assign_unknown_beneficiary", sw.operator, sdr_id=gone)
    scr, _ = backed_charge(s, sw, 4)
    sdr = record(s, sw, "DISCHARGING", 5, 800)
    allocate(s, sw, [sdr], [(scr, sdr, 800)])
    expect_allocation(
        s, sw, sdr, {scr: 800}, "energy given to the unknown beneficiary is no longer in the pool"
    )
    issue_sd_gc(s, sdr)


# ================================================================ time shift (D7)


@check(
    "storage.time_shift.claim_uses_everything_once",
    requirements=["STOR-029"],
    profile=STORAGE,
)
def time_shift_claim_uses_everything_once(s: Session) -> None:
    """A time-shift claim makes the GC, SCR, SDR and SD-GC behind it unusable for more claims.

    One backed charge (800 Wh net) is discharged as two 400 Wh SDRs with one SD-GC
    each, both cancelled for bob. Claiming the first is accepted (its SD-GC becomes
    CLAIMED); claiming it again is refused (ALREADY_CLAIMED), and so is a plain
    claim of it; the input GCs cannot be claimed for consumption (NOT_CANCELLED).
    Whether the second SD-GC, resting on the *other* 400 Wh of the same SCR, may
    serve its own claim is the declared ``time_shift_scope`` (D7 makes "the SCR
    from tc" unavailable, and allocates each Wh of it to one SDR only):
    ALLOCATED_UNITS accepts it, WHOLE_RECORDS refuses it
    (TIME_SHIFT_ALREADY_CLAIMED). A registry declaring neither is not judged on it.
    """
    sw = storage_world(s)
    w = sw.world
    n = commission(s, sw)
    scr, gc_bundle = backed_charge(s, sw, n)
    first = record(s, sw, "DISCHARGING", n + 1, 400)
    second = record(s, sw, "DISCHARGING", n + 2, 400)
    allocate(s, sw, [first, second], [(scr, first, 400), (scr, second, 400)])
    bundles = []
    for sdr in (first, second):
        sd_gc = issue_sd_gc(s, sdr)
        cancelled = s.accept("cancel", sw.operator, bundle_id=sd_gc, beneficiary=w.bob)
        bundles.append(cancelled.get("bundle_id", sd_gc))
    s.accept("claim_time_shift", sw.operator, bundle_id=bundles[0], claimant=w.bob)
    seen = observed_bundle(s, bundles[0], "the claimed SD-GC")
    s.expect_equal(
        seen["certificate_bundle_status"],
        "CLAIMED",
        "the SD-GC behind a time-shift claim is claimed",
    )
    s.reject(
        "ALREADY_CLAIMED", "claim_time_shift", sw.operator, bundle_id=bundles[0], claimant=w.bob
    )
    s.reject("ALREADY_CLAIMED", "claim", sw.operator, bundle_id=bundles[0], claimant=w.bob)
    s.reject("NOT_CANCELLED", "claim", sw.operator, bundle_id=gc_bundle, claimant=w.bob)
    scope = s.capabilities.policies.get("time_shift_scope")
    if scope == "WHOLE_RECORDS":
        s.reject(
            "TIME_SHIFT_ALREADY_CLAIMED",
            "claim_time_shift",
            sw.operator,
            bundle_id=bundles[1],
            claimant=w.bob,
        )
    elif scope == "ALLOCATED_UNITS":
        s.accept("claim_time_shift", sw.operator, bundle_id=bundles[1], claimant=w.bob)
        s.expect_equal(
            observed_bundle(s, bundles[1], "the second SD-GC")["certificate_bundle_status"],
            "CLAIMED",
            "the second SD-GC, on its own Wh of the shared SCR, serves its own time-shift claim",
        )


@check("storage.time_shift.preconditions", requirements=["STOR-029"], profile=STORAGE)
def time_shift_preconditions(s: Session) -> None:
    """A time-shift claim needs an SD-GC, cancelled, claimed by its beneficiary.

    An ordinary cancelled GC is refused (NOT_A_STORAGE_GC); an SD-GC not yet
    cancelled is refused (NOT_CANCELLED); an SD-GC cancelled for bob and claimed
    by carol is refused (BENEFICIARY_MISMATCH).
    """
    sw = storage_world(s)
    w = sw.world
    _, sdr, _ = _cycle(s, sw)
    ordinary = produce(s, sw, 6, 300)
    ordinary = s.accept("cancel", sw.operator, bundle_id=ordinary, beneficiary=w.bob).get(
        "bundle_id", ordinary
    )
    s.reject(
        "NOT_A_STORAGE_GC", "claim_time_shift", sw.operator, bundle_id=ordinary, claimant=w.bob
    )
    sd_gc = issue_sd_gc(s, sdr)
    s.reject("NOT_CANCELLED", "claim_time_shift", sw.operator, bundle_id=sd_gc, claimant=w.bob)
    sd_gc = s.accept("cancel", sw.operator, bundle_id=sd_gc, beneficiary=w.bob).get(
        "bundle_id", sd_gc
    )
    s.reject(
        "BENEFICIARY_MISMATCH",
        "claim_time_shift",
        sw.operator,
        bundle_id=sd_gc,
        claimant=w.carol,
    )


# ================================================================ roles and lifecycle


@check("storage.roles.issuer_only", requirements=["STOR-030"], profile=STORAGE)
def storage_roles_issuer_only(s: Session) -> None:
    """Only the GC Issuer records storage data and issues SD-GCs; the operator cannot.

    The operator's own storage data and its request for the SD-GC of an allocated,
    backed SDR are refused (NOT_AUTHORISED); the issuer's are accepted.
    """
    sw = storage_world(s)
    n = commission(s, sw)
    scr, _ = backed_charge(s, sw, n)
    soc = percent(sw.stored_wh - 800) if sw.formulas else None
    fields = data_fields(s, sw, "DISCHARGING", n + 1, 800, soc_pct=soc)
    s.reject("NOT_AUTHORISED", "submit_storage_data", sw.operator, **fields)
    sdr = record(s, sw, "DISCHARGING", n + 1, 800)
    allocate(s, sw, [sdr], [(scr, sdr, 800)])
    s.reject("NOT_AUTHORISED", "issue_storage_gc", sw.operator, sdr_id=sdr)
    issue_sd_gc(s, sdr)


@check("storage.sdgc.ordinary_lifecycle", requirements=["STOR-031"], profile=STORAGE)
def sd_gc_ordinary_lifecycle(s: Session) -> None:
    """An SD-GC lives the ordinary lifecycle: part transferred, cancelled and claimed.

    300 Wh of the 800 Wh SD-GC go to bob, who cancels and claims them; alice keeps
    500 Wh active.
    """
    sw = storage_world(s)
    w = sw.world
    _, sdr, _ = _cycle(s, sw)
    sd_gc = issue_sd_gc(s, sdr)
    moved = s.created(
        s.accept(
            "transfer", sw.operator, bundle_id=sd_gc, to_account=w.account(w.bob), quantity=300
        ),
        "bundle_id",
        "partial transfer",
        severity=Severity.MINOR,
    )
    cancelled = s.accept("cancel", w.bob, bundle_id=moved, beneficiary=w.bob).get(
        "bundle_id", moved
    )
    s.accept("claim", w.bob, bundle_id=cancelled, claimant=w.bob)
    kept = sum(
        b["bundle_quantity"]
        for b in storage_bundles(s)
        if b["account_id"] == sw.account and b["certificate_bundle_status"] == "ACTIVE"
    )
    s.expect_equal(
        kept, 500, "the rest of the SD-GC stays active with alice", severity=Severity.MINOR
    )
