"""The storage checks' world: a battery and a producer on one meter each, and the request builders every storage check uses."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from gc_conformance.adapter import Profile
from gc_conformance.outcomes import Severity, SkipKind
from gc_conformance.session import (
    ISSUER_ID,
    CheckFailed,
    NotApplicable,
    Session,
    World,
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


class MethodChoice:
    """What a storage system's registered methods mean for a scenario (``allocation``/``loss``)."""

    __slots__ = ()  # the attrs classes below keep their slots
    allocation: str
    loss: str

    @property
    def discretion(self) -> bool:
        """The operator lists the allocations (OPERATOR_DISCRETION)."""
        return self.allocation == "OPERATOR_DISCRETION"

    @property
    def formulas(self) -> bool:
        """Losses follow the reported state of charge (INTERVAL_FORMULAS)."""
        return self.loss == "INTERVAL_FORMULAS"

    def charges_in_order(self, oldest_first: Sequence[Any]) -> list[Any] | None:
        """The order the method takes stored charges in when one discharge draws on them all:
        FIFO oldest first, LIFO newest first. None when the method itself fixes no order: a
        weighted average takes from every charge at once (the registry's own listing is its
        order), and under the operator's discretion the operator's list is."""
        if self.allocation == "FIFO":
            return list(oldest_first)
        if self.allocation == "LIFO":
            return list(reversed(oldest_first))
        return None


@attrs.define
class StorageWorld(MethodChoice):
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


def offered(s: Session, policy: str, default: str) -> tuple[str, ...]:
    """The values a comma-separated list policy declares (``default`` if undeclared)."""
    return tuple(v.strip() for v in s.policy(policy, default).split(",") if v.strip())


def choose_policy(s: Session, policy: str, default: str, prefer: Sequence[str]) -> str:
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
    chosen_allocation = choose_policy(
        s, "allocation_method", "FIFO", allocation or offered(s, "allocation_method", "FIFO")
    )
    chosen_loss = choose_policy(s, "loss_method", "EFFICIENCY_FACTOR", loss or LOSS_METHODS)
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
