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

import datetime as _dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from gc_conformance.adapter import IssuanceStyle, Profile
from gc_conformance.checks import check
from gc_conformance.outcomes import Severity, SkipKind
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    NotApplicable,
    Session,
    World,
    canonical_state,
    device_record,
    stamp,
)

STORAGE = Profile.STORAGE
STORAGE_ID = "DEV-BATT"
STORAGE_METER = "M-BATT"
CONSUMPTION_POINT = "CP-BATT"
CAPACITY_WH = 10_000  # so that 1 % state of charge is 100 Wh
STORAGE_CITY = "Utrecht"  # the producers of the standard cast are in Delft
MATCHING = "SAME_BIDDING_ZONE"
ALLOCATION_METHODS = ("FIFO", "LIFO", "WEIGHTED_AVERAGE", "OPERATOR_DISCRETION")
LOSS_METHODS = ("EFFICIENCY_FACTOR", "INTERVAL_FORMULAS")
KEEP_NUMERATOR, KEEP_DENOMINATOR = 4, 5  # every charge keeps 80 % after losses


# ================================================================ the storage world


@attrs.define
class StorageWorld:
    """The standard cast plus one storage system, and what the check has seen so far."""

    world: World
    allocation: str
    loss: str
    period: int  # minutes
    stored_wh: int = 0  # net energy in the store, as the scenario's state of charge reports it
    allocated: dict[str, dict[str, int]] = attrs.Factory(dict)  # SDR -> SCR -> Wh (results)
    results_complete: bool = True  # every allocate_storage result listed its allocations

    @property
    def operator(self) -> str:
        return self.world.alice

    @property
    def account(self) -> str:
        return self.world.account(self.world.alice)

    @property
    def discretion(self) -> bool:
        return self.allocation == "OPERATOR_DISCRETION"

    @property
    def formulas(self) -> bool:
        return self.loss == "INTERVAL_FORMULAS"


def offered(s: Session, policy: str, default: str) -> tuple[str, ...]:
    """The values a comma-separated list policy declares (``default`` if undeclared)."""
    return tuple(v.strip() for v in s.policy(policy, default).split(",") if v.strip())


def _choose(s: Session, policy: str, default: str, prefer: Sequence[str]) -> str:
    available = offered(s, policy, default)
    for name in prefer:
        if name in available:
            return name
    raise NotApplicable(
        f"needs a storage {policy} among {', '.join(prefer)}; the registry offers "
        f"{', '.join(available) or 'none'}"
    )


def storage_record(w: World, device_id: str, meter_id: str, startup: str) -> dict[str, Any]:
    record = device_record(device_id, meter_id, w.account(w.alice), 500_000, "storage")
    record.update(
        is_storage=True,
        operational_date=startup,
        location={"country": "NL", "city": STORAGE_CITY},
    )
    return record


def registration(
    s: Session,
    w: World,
    *,
    device_id: str = STORAGE_ID,
    meter_id: str = STORAGE_METER,
    allocation: str = "FIFO",
    loss: str = "EFFICIENCY_FACTOR",
    period: int = 60,
    startup: str | None = None,
    consumption_point: str = CONSUMPTION_POINT,
) -> dict[str, Any]:
    """The fields of a ``register_storage`` request."""
    return {
        "device": storage_record(w, device_id, meter_id, startup or s.epoch.date().isoformat()),
        "capacity_wh": CAPACITY_WH,
        "consumption_point_id": consumption_point,
        "settlement_period_minutes": period,
        "allocation_method": allocation,
        "loss_method": loss,
    }


def storage_world(
    s: Session,
    *,
    allocation: Sequence[str] | None = None,
    loss: Sequence[str] | None = None,
    period: int = 60,
    startup: str | None = None,
) -> StorageWorld:
    """Reset to the standard cast and register ``DEV-BATT`` with a method the registry offers.

    ``allocation`` / ``loss`` list acceptable methods in order of preference;
    None takes the first the registry declares (the efficiency factor first for
    losses). The start-up date defaults to the production day.
    """
    chosen_allocation = _choose(
        s, "allocation_method", "FIFO", allocation or offered(s, "allocation_method", "FIFO")
    )
    chosen_loss = _choose(s, "loss_method", "EFFICIENCY_FACTOR", loss or LOSS_METHODS)
    w = s.world()
    fields = registration(
        s, w, allocation=chosen_allocation, loss=chosen_loss, period=period, startup=startup
    )
    try:
        s.accept("register_storage", ISSUER_ID, **fields)
    except CheckFailed as exc:
        raise CheckFailed(
            f"{exc.message} (registering a storage system with allocation method "
            f"{chosen_allocation} and loss method {chosen_loss}, which the registry declares "
            "in its allocation_method / loss_method policies)",
            expected=exc.expected,
            observed=exc.observed,
            severity=exc.severity,
        ) from exc
    return StorageWorld(w, chosen_allocation, chosen_loss, period)


# ================================================================ requests


def interval(s: Session, sw: StorageWorld, n: int, *, day: int = 0) -> tuple[str, str]:
    """The ``n``-th settlement interval of the production day (plus ``day`` days)."""
    start = s.epoch + _dt.timedelta(days=day, minutes=n * sw.period)
    return stamp(start), stamp(start + _dt.timedelta(minutes=sw.period))


def percent(wh: int) -> str:
    """A stored energy as a state of charge in % of the 10 000 Wh capacity (exact decimal)."""
    return str(Decimal(wh) * 100 / Decimal(CAPACITY_WH))


def data_fields(
    s: Session,
    sw: StorageWorld,
    status: str,
    n: int,
    wh: int,
    *,
    soc_pct: str | None = None,
    day: int = 0,
) -> dict[str, Any]:
    """A ``submit_storage_data`` request; the state of charge is sent when given."""
    start, end = interval(s, sw, n, day=day)
    fields: dict[str, Any] = {
        "storage_id": STORAGE_ID,
        "meter_id": STORAGE_METER,
        "start": start,
        "end": end,
        "interval_minutes": sw.period,
        "status": status,
        "energy_wh": str(wh),
    }
    if soc_pct is not None:
        fields["state_of_charge_pct"] = soc_pct
    return fields


def record(s: Session, sw: StorageWorld, status: str, n: int, wh: int, *, day: int = 0) -> Any:
    """Submit one interval the standard allows; the ID of the SCR or SDR the registry names.

    The state of charge (sent under the interval formulas) keeps 80 % of a charge
    and drops by exactly a discharge, matching the efficiency factor of 4/5.
    """
    if status == "CHARGING":
        after = sw.stored_wh + wh * KEEP_NUMERATOR // KEEP_DENOMINATOR
    else:
        after = sw.stored_wh - wh
    if after < 0 and sw.formulas:
        raise ValueError("the scenario discharges more than the store holds")  # a check bug
    soc = percent(after) if sw.formulas else None
    result = s.accept(
        "submit_storage_data", ISSUER_ID, **data_fields(s, sw, status, n, wh, soc_pct=soc, day=day)
    )
    sw.stored_wh = after
    return s.created(result, "record_id", "charge or discharge interval")


def commission(s: Session, sw: StorageWorld) -> int:
    """Start-up cycle: 1000 Wh in (interval 0), 800 Wh out (interval 1), allocated.

    Under the efficiency-factor method the factor is set over these two intervals
    (800 / 1000 = 4/5). The start-up energy carries no GCs; its discharge record is
    allocated so that the pool is empty afterwards. Returns the next free interval.
    """
    scr, sdr = startup_records(s, sw)
    allocate(s, sw, [sdr], [(scr, sdr, 800)])
    return 2


def startup_records(s: Session, sw: StorageWorld) -> tuple[Any, Any]:
    """The start-up charge (1000 Wh, interval 0) and discharge (800 Wh, interval 1), not yet
    allocated; under the efficiency-factor method the factor is set over them."""
    scr = record(s, sw, "CHARGING", 0, 1000)
    sdr = record(s, sw, "DISCHARGING", 1, 800)
    if sw.loss == "EFFICIENCY_FACTOR":
        s.accept(
            "set_efficiency_factor",
            ISSUER_ID,
            storage_id=STORAGE_ID,
            window_start=interval(s, sw, 0)[0],
            window_end=interval(s, sw, 2)[0],
        )
    return scr, sdr


def produce(s: Session, sw: StorageWorld, n: int, wh: int, device: str = "DEV-WIND") -> Any:
    """Issue ``wh`` of GCs for production hour ``n`` of ``device`` into alice's account."""
    return s.issue(device, sw.world.meters[device], n, wh, account=sw.account)


def cancel_for_charge(s: Session, sw: StorageWorld, scr: Any, bundle: Any, **extra: Any) -> Any:
    result = s.accept(
        "cancel_for_charge",
        sw.operator,
        scr_id=scr,
        bundle_id=bundle,
        geographic_matching=MATCHING,
        **extra,
    )
    return result.get("bundle_id", bundle)


def backed_charge(
    s: Session, sw: StorageWorld, n: int, device: str = "DEV-WIND", wh: int = 1000
) -> tuple[Any, Any]:
    """A charge of ``wh`` in interval ``n`` fully backed by GCs of the same hour: (SCR, bundle)."""
    bundle = produce(s, sw, n, wh, device)
    scr = record(s, sw, "CHARGING", n, wh)
    return scr, cancel_for_charge(s, sw, scr, bundle)


def parse_allocations(result: Mapping[str, Any]) -> list[tuple[Any, Any, int]] | None:
    """``[scr, sdr, wh]`` triples (or mappings) of an ``allocate_storage`` result; None if absent."""
    raw = result.get("allocations")
    if not isinstance(raw, list | tuple):
        return None
    pieces: list[tuple[Any, Any, int]] = []
    for entry in raw:
        if isinstance(entry, Mapping):
            scr = entry.get("scr_id", entry.get("scr_allocation_id"))
            sdr = entry.get("sdr_id", entry.get("sdr_allocation_id"))
            wh = entry.get("wh")
        elif isinstance(entry, list | tuple) and len(entry) == 3:
            scr, sdr, wh = entry
        else:
            return None
        if not isinstance(wh, int):
            return None
        pieces.append((scr, sdr, wh))
    return pieces


def allocate(
    s: Session,
    sw: StorageWorld,
    sdr_ids: Sequence[Any],
    explicit: Sequence[tuple[Any, Any, int]] | None = None,
) -> list[tuple[Any, Any, int]]:
    """Allocate the SDRs; under the operator's discretion ``explicit`` is the operator's list."""
    fields: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": list(sdr_ids)}
    if sw.discretion:
        if explicit is None:
            raise ValueError("an operator's-discretion allocation needs the list")  # a check bug
        fields["allocations"] = [list(entry) for entry in explicit]
    result = s.accept("allocate_storage", sw.operator, **fields)
    pieces = parse_allocations(result)
    if pieces is None:
        sw.results_complete = False
        return []
    for scr, sdr, wh in pieces:
        row = sw.allocated.setdefault(sdr, {})
        row[scr] = row.get(scr, 0) + wh
    return pieces


def storage_extension(s: Session) -> Mapping[str, Any] | None:
    """The optional ``storage`` key of ``observe()``, or None when the registry has none."""
    data = s.observe_extension("storage", Mapping)
    return data if isinstance(data, Mapping) else None


def require_storage_extension(s: Session, why: str) -> Mapping[str, Any]:
    data = storage_extension(s)
    if data is None:
        raise NotApplicable(
            f"observe() has no 'storage' extension, needed to see {why}",
            kind=SkipKind.NOT_VERIFIED,
        )
    return data


def allocations_seen(s: Session, sw: StorageWorld) -> dict[Any, dict[Any, int]]:
    """SDR -> SCR -> Wh allocated so far: the registry's records if observable, else results."""
    data = storage_extension(s)
    if data is not None:
        table: dict[Any, dict[Any, int]] = {}
        for sdr in data.get("sdrs", ()):
            row = table.setdefault(sdr.get("sdr_allocation_id"), {})
            for piece in sdr.get("allocations", ()):
                scr = piece.get("scr_allocation_id")
                row[scr] = row.get(scr, 0) + int(piece.get("wh", 0))
        return table
    if sw.results_complete:
        return {sdr: dict(row) for sdr, row in sw.allocated.items()}
    raise NotApplicable(
        "allocate_storage results list no allocations and observe() has no 'storage' "
        "extension: the allocation cannot be observed"
    )


def expect_allocation(
    s: Session,
    sw: StorageWorld,
    sdr: Any,
    expected: Mapping[Any, int],
    rule: str,
    severity: Severity = Severity.CRITICAL,
) -> None:
    observed = {k: v for k, v in allocations_seen(s, sw).get(sdr, {}).items() if v}
    s.expect(
        observed == dict(expected),
        f"SDR {sdr}: {rule}",
        expected=dict(expected),
        observed=observed,
        severity=severity,
    )


def issue_sd_gc(s: Session, sdr: Any) -> Any:
    result = s.accept("issue_storage_gc", ISSUER_ID, sdr_id=sdr)
    return s.created(result, "bundle_id", "SD-GC issuance")


def observed_bundle(s: Session, bundle_id: Any, what: str) -> dict[str, Any]:
    bundle = s.bundle(bundle_id)
    s.expect(bundle is not None, f"{what} is observable", expected=bundle_id, observed=None)
    assert bundle is not None
    return bundle


def energy_source(s: Session, sw: StorageWorld, bundle_id: Any) -> Any:
    """A bundle's energy source: from the observed bundle, else by querying each candidate."""
    bundle = observed_bundle(s, bundle_id, "the SD-GC")
    if "energy_source" in bundle:
        return bundle["energy_source"]
    for source in ("wind", "solar"):
        found = s.accept("query", sw.operator, energy_source=source)
        if any(b.get("bundle_id") == bundle_id for b in found.get("bundles", ())):
            return source
    return None


def storage_bundles(s: Session) -> list[dict[str, Any]]:
    return [b for b in s.observe()["bundles"] if b.get("is_storage") is True]


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


# ================================================================ allocation (D7)


@check("storage.allocation.each_wh_once", requirements=["STOR-018"], profile=STORAGE)
def each_wh_once(s: Session) -> None:
    """Each Wh of an SCR goes to one SDR at most, and an SDR never gets more than it discharged.

    A backed charge A (800 Wh net) is discharged as 600 + 200 Wh, batched in one
    request; a later unbacked charge B (800 Wh net) is discharged as 800 Wh. That
    last discharge must come wholly from B, as A is used up: its SD-GC is refused
    (INPUTS_NOT_CANCELLED) while the first two SD-GCs are issued. Under the
    operator's discretion, asking A for 1 Wh more is refused (ALLOCATION_EXCEEDS_CHARGE).
    """
    sw = storage_world(s)
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n)
    first = record(s, sw, "DISCHARGING", n + 1, 600)
    second = record(s, sw, "DISCHARGING", n + 2, 200)
    allocate(s, sw, [first, second], [(a, first, 600), (a, second, 200)])
    b = record(s, sw, "CHARGING", n + 3, 1000)
    third = record(s, sw, "DISCHARGING", n + 4, 800)
    if sw.discretion:
        s.reject(
            "ALLOCATION_EXCEEDS_CHARGE",
            "allocate_storage",
            sw.operator,
            storage_id=STORAGE_ID,
            sdr_ids=[third],
            allocations=[[a, third, 1]],
        )
    allocate(s, sw, [third], [(b, third, 800)])
    seen = allocations_seen(s, sw)
    from_a = sum(row.get(a, 0) for row in seen.values())
    s.expect_equal(
        from_a, 800, "SCR A's 800 net Wh are allocated exactly once", severity=Severity.CRITICAL
    )
    for sdr, wh in ((first, 600), (second, 200), (third, 800)):
        got = sum(seen.get(sdr, {}).values())
        s.expect_equal(
            got, wh, f"SDR {sdr} receives exactly what it discharged", severity=Severity.CRITICAL
        )
    expect_allocation(s, sw, third, {b: 800}, "the used-up SCR gives nothing more")
    issue_sd_gc(s, first)
    issue_sd_gc(s, second)
    s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=third)


@check("storage.allocation.charge_before_discharge", requirements=["STOR-019"], profile=STORAGE)
def charge_before_discharge(s: Session) -> None:
    """An SDR takes energy only from charges that ended before it began.

    An unbacked charge U (interval 2), a 500 Wh discharge (interval 3), then a
    backed charge W (interval 4). The discharge must be allocated from U only: its
    SD-GC is refused (INPUTS_NOT_CANCELLED), as W's GCs cannot reach back in time.
    Under the operator's discretion, listing W for it is refused
    (ALLOCATION_BEFORE_CHARGE).
    """
    sw = storage_world(s)
    n = commission(s, sw)
    u = record(s, sw, "CHARGING", n, 1000)
    sdr = record(s, sw, "DISCHARGING", n + 1, 500)
    later, _ = backed_charge(s, sw, n + 2)
    if sw.discretion:
        s.reject(
            "ALLOCATION_BEFORE_CHARGE",
            "allocate_storage",
            sw.operator,
            storage_id=STORAGE_ID,
            sdr_ids=[sdr],
            allocations=[[later, sdr, 500]],
        )
    allocate(s, sw, [sdr], [(u, sdr, 500)])
    expect_allocation(s, sw, sdr, {u: 500}, "only the earlier charge can supply it")
    s.reject("INPUTS_NOT_CANCELLED", "issue_storage_gc", ISSUER_ID, sdr_id=sdr)


def _two_sources(s: Session, sw: StorageWorld) -> tuple[Any, Any, Any, Any]:
    """Wind charge A (interval 2) and solar charge B (interval 3), 800 Wh net each, both
    backed; then two 800 Wh discharges (intervals 4 and 5). Returns (A, B, SDR1, SDR2)."""
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n, "DEV-WIND")
    b, _ = backed_charge(s, sw, n + 1, "DEV-SOLAR")
    first = record(s, sw, "DISCHARGING", n + 2, 800)
    second = record(s, sw, "DISCHARGING", n + 3, 800)
    return a, b, first, second


def _ordered(s: Session, method: str, requirement: str) -> None:
    sw = storage_world(s, allocation=(method,))
    a, b, first, second = _two_sources(s, sw)
    order = {"FIFO": ((a, "wind"), (b, "solar")), "LIFO": ((b, "solar"), (a, "wind"))}[method]
    for sdr, (scr, source) in zip((first, second), order, strict=True):
        allocate(s, sw, [sdr])
        expect_allocation(s, sw, sdr, {scr: 800}, f"{method} order ({requirement})")
        bundle = issue_sd_gc(s, sdr)
        got = energy_source(s, sw, bundle)
        s.expect_equal(
            got, source, f"the SD-GC carries the energy source of the charge {method} allocated"
        )


@check("storage.allocation.fifo", requirements=["STOR-020"], profile=STORAGE)
def allocation_fifo(s: Session) -> None:
    """FIFO: the oldest stored charge leaves first.

    Wind charged before solar (800 Wh net each); the first 800 Wh discharge is
    the wind charge (its SD-GC is wind), the second the solar charge.
    """
    _ordered(s, "FIFO", "STOR-020")


@check("storage.allocation.lifo", requirements=["STOR-021"], profile=STORAGE)
def allocation_lifo(s: Session) -> None:
    """LIFO: the most recent stored charge leaves first.

    Wind charged before solar (800 Wh net each); the first 800 Wh discharge is
    the solar charge (its SD-GC is solar), the second the wind charge.
    """
    _ordered(s, "LIFO", "STOR-021")


@check("storage.allocation.weighted_average", requirements=["STOR-022"], profile=STORAGE)
def allocation_weighted_average(s: Session) -> None:
    """Weighted average: every stored charge gives in proportion to what it holds.

    Wind and solar hold 800 Wh each: the first 800 Wh discharge takes 400 + 400,
    leaving 400 + 400, which the second takes in turn.
    """
    sw = storage_world(s, allocation=("WEIGHTED_AVERAGE",))
    a, b, first, second = _two_sources(s, sw)
    for sdr in (first, second):
        allocate(s, sw, [sdr])
        expect_allocation(s, sw, sdr, {a: 400, b: 400}, "shares in proportion (800 : 800)")


@check(
    "storage.allocation.operator_discretion_validated",
    requirements=["STOR-023"],
    profile=STORAGE,
)
def operator_discretion_validated(s: Session) -> None:
    """Under the operator's discretion the operator's list is validated entry by entry.

    Backed charge A and unbacked charge U hold 800 Wh each; a 1200 Wh discharge
    follows, then a later charge L. Refused: no list (ALLOCATION_NOT_EXPLICIT), an
    unknown SCR (UNKNOWN_STORAGE_RECORD), 900 Wh from A (ALLOCATION_EXCEEDS_CHARGE),
    800 from A plus 500 from U (ALLOCATION_EXCEEDS_DISCHARGE), anything from L
    (ALLOCATION_BEFORE_CHARGE). Accepted and recorded as given: 800 from A plus 400
    from U.
    """
    sw = storage_world(s, allocation=("OPERATOR_DISCRETION",))
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n)
    u = record(s, sw, "CHARGING", n + 1, 1000)
    sdr = record(s, sw, "DISCHARGING", n + 2, 1200)
    later = record(s, sw, "CHARGING", n + 3, 1000)
    base: dict[str, Any] = {"storage_id": STORAGE_ID, "sdr_ids": [sdr]}
    s.reject("ALLOCATION_NOT_EXPLICIT", "allocate_storage", sw.operator, **base)
    for code, entries in (
        ("UNKNOWN_STORAGE_RECORD", [["SCR-DOES-NOT-EXIST", sdr, 100]]),
        ("ALLOCATION_EXCEEDS_CHARGE", [[a, sdr, 900]]),
        ("ALLOCATION_EXCEEDS_DISCHARGE", [[a, sdr, 800], [u, sdr, 500]]),
        ("ALLOCATION_BEFORE_CHARGE", [[later, sdr, 100]]),
    ):
        s.reject(code, "allocate_storage", sw.operator, **base, allocations=entries)
    allocate(s, sw, [sdr], [(a, sdr, 800), (u, sdr, 400)])
    expect_allocation(s, sw, sdr, {a: 800, u: 400}, "recorded exactly as the operator listed")


@check(
    "storage.allocation.registry_decides_otherwise",
    requirements=["STOR-023"],
    profile=STORAGE,
)
def registry_decides_otherwise(s: Session) -> None:
    """Under FIFO, LIFO or weighted average the registry decides: an operator's list is refused."""
    sw = storage_world(s, allocation=("FIFO", "LIFO", "WEIGHTED_AVERAGE"))
    n = commission(s, sw)
    a, _ = backed_charge(s, sw, n)
    sdr = record(s, sw, "DISCHARGING", n + 1, 800)
    s.reject(
        "ALLOCATION_NOT_EXPLICIT",
        "allocate_storage",
        sw.operator,
        storage_id=STORAGE_ID,
        sdr_ids=[sdr],
        allocations=[[a, sdr, 800]],
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
