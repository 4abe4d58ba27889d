"""Storage rules of D6/D7, one test per rule and per rejection code."""

from __future__ import annotations

import copy
import datetime as _dt

import attrs
import pytest
from storage_world import ISSUER, OPERATOR, World, battery, hour

from gc_conformance.reference import (
    Cancel,
    Claim,
    ErrorCode,
    Policies,
    TimeShiftScope,
    Transfer,
)
from gc_conformance.reference.bundles import BundleStatus, CancellationPurpose
from gc_conformance.reference.invariants import Risk, check_invariants
from gc_conformance.reference.storage import (
    AllocateStorage,
    AssignUnknownBeneficiary,
    CancelForCharge,
    ChangeStorageAllocationMethod,
    ClaimTimeShift,
    IssueStorageGC,
    RegisterStorage,
    SetEfficiencyFactor,
    scr_to_plain,
    sdr_to_plain,
)


def ready(discharge_wh: int = 800, policies: Policies | None = None) -> tuple[World, int]:
    """Factor 0.8 set on a grid cycle; then 10:00 solar 1000 Wh charged (SCR-2) and backed;
    20:00 ``discharge_wh`` out (SDR-2). Returns the world and the solar bundle."""
    w = World(policies=policies)
    w.data("CHARGING", hour(0), 1000)
    w.data("DISCHARGING", hour(1), 800)
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-1",)))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))
    solar = w.produce("SOLAR", hour(10), 1000)
    w.data("CHARGING", hour(10), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", solar, "SAME_BIDDING_ZONE"))
    w.data("DISCHARGING", hour(20), discharge_wh)
    return w, solar


def assert_clean(w: World) -> None:
    report = check_invariants(w.reg.export_history(), w.reg.export_state())
    assert report.ok, report.findings


# ------------------------------------------------------------------ registration


def test_storage_is_a_production_device_and_consumption_point() -> None:
    w = World()
    device = w.reg.device("BATT")
    storage = w.book.storage("BATT")
    assert device is not None and device.is_storage
    assert storage is not None
    assert storage.consumption_point_id == "EAN-BATT-CONSUMPTION"
    assert storage.capacity_wh == 10_000
    assert storage.startup_date == _dt.date(2026, 1, 1)
    assert storage.location.city == "Amersfoort"


def test_registration_rejections() -> None:
    w = World()
    not_storage = attrs.evolve(battery(), device_id="B2", is_storage=False)
    cases = [
        (
            RegisterStorage(ISSUER, not_storage, 1, "CP", 60, "FIFO", "EFFICIENCY_FACTOR"),
            "device.is_storage",
        ),
        (
            RegisterStorage(
                ISSUER,
                attrs.evolve(battery(), device_id="B2"),
                0,
                "CP",
                60,
                "FIFO",
                "EFFICIENCY_FACTOR",
            ),
            "capacity_wh",
        ),
        (
            RegisterStorage(
                ISSUER,
                attrs.evolve(battery(), device_id="B2"),
                1,
                "CP",
                61,
                "FIFO",
                "EFFICIENCY_FACTOR",
            ),
            "settlement_period_minutes",
        ),
        (
            RegisterStorage(
                ISSUER,
                attrs.evolve(battery(), device_id="B2"),
                1,
                "CP",
                60,
                "RANDOM",
                "EFFICIENCY_FACTOR",
            ),
            "allocation_method",
        ),
        (
            RegisterStorage(
                ISSUER, attrs.evolve(battery(), device_id="B2"), 1, "CP", 60, "FIFO", "GUESS"
            ),
            "loss_method",
        ),
    ]
    for command, field in cases:
        outcome = w.run(command)
        assert outcome.problem.code is ErrorCode.INVALID_FIELD and outcome.problem.field == field
    duplicate = w.run(RegisterStorage(ISSUER, battery(), 1, "CP", 60, "FIFO", "EFFICIENCY_FACTOR"))
    assert duplicate.problem.code is ErrorCode.DUPLICATE_DEVICE
    by_operator = w.run(
        RegisterStorage(
            OPERATOR,
            attrs.evolve(battery(), device_id="B2"),
            1,
            "CP",
            60,
            "FIFO",
            "EFFICIENCY_FACTOR",
        )
    )
    assert by_operator.problem.code is ErrorCode.NOT_AUTHORISED


def test_allocation_method_cannot_be_switched() -> None:
    w = World()
    for method in ("LIFO", "FIFO"):
        outcome = w.run(ChangeStorageAllocationMethod(OPERATOR, "BATT", method))
        assert outcome.problem.code is ErrorCode.ALLOCATION_METHOD_FIXED
    stranger = w.run(ChangeStorageAllocationMethod("OTHER", "BATT", "LIFO"))
    assert stranger.problem.code is ErrorCode.NOT_AUTHORISED
    unknown = w.run(ChangeStorageAllocationMethod(OPERATOR, "SOLAR", "LIFO"))
    assert unknown.problem.code is ErrorCode.NOT_A_STORAGE_DEVICE


# ------------------------------------------------------------------ metering data


def test_metering_interval_rules() -> None:
    w = World(period=15)
    assert w.data("CHARGING", hour(1), 100).accepted
    wrong_stated = w.run(attrs.evolve(w.data_cmd("CHARGING", hour(2), 100), interval_minutes=30))
    assert wrong_stated.problem.code is ErrorCode.STORAGE_INTERVAL_MISMATCH
    longer = w.run(
        attrs.evolve(w.data_cmd("CHARGING", hour(2), 100), end=hour(2, 30), interval_minutes=30)
    )
    assert longer.problem.code is ErrorCode.STORAGE_INTERVAL_MISMATCH
    over_an_hour = w.run(attrs.evolve(w.data_cmd("CHARGING", hour(2), 100), end=hour(3, 15)))
    assert over_an_hour.problem.code is ErrorCode.INTERVAL_TOO_LONG
    earlier = w.data("CHARGING", hour(0), 100)
    assert earlier.problem.code is ErrorCode.STORAGE_INTERVAL_OUT_OF_ORDER
    meter = w.run(attrs.evolve(w.data_cmd("CHARGING", hour(2), 100), meter_id="M-SOLAR"))
    assert meter.problem.code is ErrorCode.METER_MISMATCH
    status = w.run(attrs.evolve(w.data_cmd("CHARGING", hour(2), 100), status="FULL"))
    assert status.problem.code is ErrorCode.INVALID_FIELD
    idle_energy = w.data("IDLE", hour(2), 5)
    assert idle_energy.problem.code is ErrorCode.INVALID_ENERGY
    empty_charge = w.data("CHARGING", hour(2), 0)
    assert empty_charge.problem.code is ErrorCode.INVALID_ENERGY
    future = w.data("CHARGING", _dt.datetime(2026, 7, 1, tzinfo=_dt.UTC), 100)
    assert future.problem.code is ErrorCode.INTERVAL_NOT_ENDED
    not_storage = w.run(attrs.evolve(w.data_cmd("CHARGING", hour(2), 100), storage_id="SOLAR"))
    assert not_storage.problem.code is ErrorCode.NOT_A_STORAGE_DEVICE
    by_operator = w.run(attrs.evolve(w.data_cmd("CHARGING", hour(2), 100), actor=OPERATOR))
    assert by_operator.problem.code is ErrorCode.NOT_AUTHORISED


def test_records_carry_api_fields_and_optional_soc() -> None:
    w, _ = ready()
    scr = scr_to_plain(w.book.scr("SCR-2"))  # type: ignore[arg-type]
    assert scr["charging_start_datetime"] == "2026-01-01T10:00:00Z"
    assert scr["charging_energy"] == 1000
    assert scr["charging_energy_source"] == "Solar"
    assert scr["gc_issuance_id"] == 1
    assert scr["scr_geographic_matching_method"] == "SAME_BIDDING_ZONE"
    assert scr["granular_certificate_certificate_bundle_id_range_end"] == 1000
    sdr = sdr_to_plain(w.book.sdr("SDR-2"), w.book)  # type: ignore[arg-type]
    assert sdr["discharge_energy"] == 800
    assert sdr["scr_allocation_methodology"] == "FIFO"
    assert sdr["efficiency_factor_methodology"] == "EFFICIENCY_FACTOR"
    assert w.data("IDLE", hour(21), 0, "50").accepted
    assert w.book.pool("BATT").metered_state_of_charge_pct == 50


# ------------------------------------------------------------------ GC -> SCR


def test_gcs_cancelled_for_storage_are_recorded_on_the_scr() -> None:
    w, solar = ready()
    bundle = w.reg.bundle(solar)
    assert bundle is not None and bundle.status is BundleStatus.CANCELLED_FOR_STORAGE
    assert bundle.cancellation is not None
    assert bundle.cancellation.purpose is CancellationPurpose.STORAGE_CHARGE
    (source,) = w.book.scr("SCR-2").sources  # type: ignore[union-attr]
    assert (source.gc_issuance_id, source.range_start, source.range_end) == (1, 1, 1000)
    # Cancelled for storage: it cannot be claimed for consumption.
    claim = w.run(Claim(OPERATOR, solar, "BATT"))
    assert claim.problem.code is ErrorCode.NOT_CANCELLED


def test_partial_cancellation_splits_the_bundle() -> None:
    w = World()
    solar = w.produce("SOLAR", hour(10), 1500)
    w.data("CHARGING", hour(10), 1000)
    result = w.ok(CancelForCharge(OPERATOR, "SCR-1", solar, "SAME_COUNTRY", quantity=600))
    assert result.remainder_id is not None
    too_much = w.run(CancelForCharge(OPERATOR, "SCR-1", result.remainder_id, "SAME_COUNTRY"))
    assert too_much.problem.code is ErrorCode.CHARGE_EXCEEDED  # 900 more > 400 room
    w.ok(CancelForCharge(OPERATOR, "SCR-1", result.remainder_id, "SAME_COUNTRY", quantity=400))
    assert w.book.scr("SCR-1").covered_wh == 1000  # type: ignore[union-attr]
    assert_clean(w)


def test_cancel_for_charge_rejections() -> None:
    w = World()
    other_hour = w.produce("SOLAR", hour(9), 500)
    same_hour = w.produce("WIND", hour(10), 500)
    w.data("CHARGING", hour(10), 400)
    mismatch = w.run(CancelForCharge(OPERATOR, "SCR-1", other_hour, "SAME_COUNTRY"))
    assert mismatch.problem.code is ErrorCode.GC_INTERVAL_MISMATCH
    unknown = w.run(CancelForCharge(OPERATOR, "SCR-9", same_hour, "SAME_COUNTRY"))
    assert unknown.problem.code is ErrorCode.UNKNOWN_STORAGE_RECORD
    stranger = w.run(CancelForCharge("OTHER", "SCR-1", same_hour, "SAME_COUNTRY"))
    assert stranger.problem.code is ErrorCode.NOT_AUTHORISED
    no_matching = w.run(CancelForCharge(OPERATOR, "SCR-1", same_hour, ""))
    assert no_matching.problem.code is ErrorCode.INVALID_FIELD
    exceeded = w.run(CancelForCharge(OPERATOR, "SCR-1", same_hour, "SAME_COUNTRY"))
    assert exceeded.problem.code is ErrorCode.CHARGE_EXCEEDED
    w.ok(Cancel(OPERATOR, same_hour, "SOMEONE", quantity=100))
    # A cancelled (for consumption) bundle cannot go into storage.
    gone = w.run(CancelForCharge(OPERATOR, "SCR-1", same_hour + 1, "SAME_COUNTRY"))
    assert gone.problem.code is ErrorCode.BUNDLE_NOT_ACTIVE


# ------------------------------------------------------------------ SD-GC


def test_sd_gc_issuance_and_ordinary_lifecycle() -> None:
    w, _ = ready()
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    result = w.ok(IssueStorageGC(ISSUER, "SDR-2"))
    sd_gc = w.reg.issuance(result.issuance_id)
    assert sd_gc is not None and sd_gc.quantity == 800 and sd_gc.sdr_allocation_id == "SDR-2"
    assert sd_gc.storage_efficiency_factor == 0.8
    assert (sd_gc.original_production_start, sd_gc.original_production_end) == (hour(10), hour(11))
    assert w.book.pool("BATT").sdr_ids == () and "SDR-2" in w.book.pool("BATT").archived_sdr_ids
    again = w.run(IssueStorageGC(ISSUER, "SDR-2"))
    assert again.problem.code is ErrorCode.SDR_ALREADY_USED
    unknown = w.run(AssignUnknownBeneficiary(OPERATOR, "SDR-2"))
    assert unknown.problem.code is ErrorCode.SDR_ALREADY_USED
    # Ordinary lifecycle: transfer part, cancel and claim.
    moved = w.ok(Transfer(OPERATOR, result.bundle_id, "ACC-OTHER", quantity=300))
    w.ok(Cancel("OTHER", moved.bundle_id, "OTHER"))
    w.ok(Claim("OTHER", moved.bundle_id, "OTHER"))
    assert_clean(w)


def test_sd_gc_needs_cancelled_inputs_and_full_allocation() -> None:
    w = World()
    w.data("CHARGING", hour(0), 1000)
    w.data("DISCHARGING", hour(1), 800)
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    not_allocated = w.run(IssueStorageGC(ISSUER, "SDR-1"))
    assert not_allocated.problem.code is ErrorCode.SDR_NOT_FULLY_ALLOCATED
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-1",)))
    no_gcs = w.run(IssueStorageGC(ISSUER, "SDR-1"))
    assert no_gcs.problem.code is ErrorCode.INPUTS_NOT_CANCELLED
    by_operator = w.run(IssueStorageGC(OPERATOR, "SDR-1"))
    assert by_operator.problem.code is ErrorCode.NOT_AUTHORISED
    assert w.run(IssueStorageGC(ISSUER, "SDR-7")).problem.code is ErrorCode.UNKNOWN_STORAGE_RECORD


def test_unknown_beneficiary_drains_the_pool() -> None:
    w, _ = ready()
    result = w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-2"))
    assert result.allocations == (("SCR-2", "SDR-2", 800),)
    assert w.book.sdr("SDR-2").unknown_beneficiary  # type: ignore[union-attr]
    assert w.book.pool("BATT").state_of_charge_wh == 0
    assert w.run(IssueStorageGC(ISSUER, "SDR-2")).problem.code is ErrorCode.SDR_ALREADY_USED
    assert (
        w.run(AllocateStorage(OPERATOR, "BATT", ("SDR-2",))).problem.code
        is ErrorCode.SDR_ALREADY_USED
    )
    assert_clean(w)


# ------------------------------------------------------------------ time shift


def test_time_shift_claim_marks_all_four_used() -> None:
    w, solar = ready(400)
    w.data("DISCHARGING", hour(21), 400)  # SDR-3, also from SCR-2
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2", "SDR-3")))
    first = w.ok(IssueStorageGC(ISSUER, "SDR-2"))
    second = w.ok(IssueStorageGC(ISSUER, "SDR-3"))
    not_cancelled = w.run(ClaimTimeShift(OPERATOR, first.bundle_id, "CONSUMER"))
    assert not_cancelled.problem.code is ErrorCode.NOT_CANCELLED
    w.ok(Cancel(OPERATOR, first.bundle_id, "CONSUMER"))
    wrong = w.run(ClaimTimeShift(OPERATOR, first.bundle_id, "SOMEONE"))
    assert wrong.problem.code is ErrorCode.BENEFICIARY_MISMATCH
    claim = w.ok(ClaimTimeShift(OPERATOR, first.bundle_id, "CONSUMER"))
    assert (claim.sdr_id, claim.scr_ids, claim.gc_bundle_ids) == ("SDR-2", ("SCR-2",), (solar,))
    assert w.reg.bundle(first.bundle_id).status is BundleStatus.CLAIMED  # type: ignore[union-attr]
    assert w.book.scr("SCR-2").time_shift_claims == (claim.claim_id,)  # type: ignore[union-attr]
    sdr = w.book.sdr("SDR-2")
    assert sdr is not None and sdr.time_shift_claims == (claim.claim_id,)
    assert sdr.time_shift_claimed_wh == 400
    # The SD-GC cannot serve another claim...
    again = w.run(ClaimTimeShift(OPERATOR, first.bundle_id, "CONSUMER"))
    assert again.problem.code is ErrorCode.ALREADY_CLAIMED
    # ...but SCR-2's other 400 Wh, allocated to SDR-3, serve SDR-3's SD-GC's own claim
    # (time_shift_scope ALLOCATED_UNITS, the default: D7 allocates each Wh once)
    w.ok(Cancel(OPERATOR, second.bundle_id, "CONSUMER"))
    shared = w.ok(ClaimTimeShift(OPERATOR, second.bundle_id, "CONSUMER"))
    assert (shared.sdr_id, shared.scr_ids) == ("SDR-3", ("SCR-2",))
    scr = w.book.scr("SCR-2")
    assert scr is not None and scr.time_shift_claims == (claim.claim_id, shared.claim_id)
    assert_clean(w)


def test_whole_records_scope_refuses_a_second_claim_on_a_shared_charge() -> None:
    """time_shift_scope WHOLE_RECORDS: the first claim uses the whole SCR and its GCs."""
    w, _ = ready(400, policies=Policies(time_shift_scope=TimeShiftScope.WHOLE_RECORDS))
    w.data("DISCHARGING", hour(21), 400)  # SDR-3, also from SCR-2
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2", "SDR-3")))
    first = w.ok(IssueStorageGC(ISSUER, "SDR-2")).bundle_id
    second = w.ok(IssueStorageGC(ISSUER, "SDR-3")).bundle_id
    for bundle in (first, second):
        w.ok(Cancel(OPERATOR, bundle, "CONSUMER"))
    w.ok(ClaimTimeShift(OPERATOR, first, "CONSUMER"))
    shared = w.run(ClaimTimeShift(OPERATOR, second, "CONSUMER"))
    assert shared.problem.code is ErrorCode.TIME_SHIFT_ALREADY_CLAIMED
    assert "SCR SCR-2" in shared.problem.message
    assert_clean(w)


@pytest.mark.parametrize("scope", list(TimeShiftScope))
def test_a_split_sd_gc_serves_one_claim_per_part_or_one_in_all(scope: TimeShiftScope) -> None:
    """An SD-GC cancelled in two parts: per Wh each part is claimed; per record only one."""
    w, _ = ready(800, policies=Policies(time_shift_scope=scope))
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    sd_gc = w.ok(IssueStorageGC(ISSUER, "SDR-2")).bundle_id
    part = w.ok(Cancel(OPERATOR, sd_gc, "CONSUMER", quantity=300))
    rest = w.ok(Cancel(OPERATOR, part.remainder_id, "OTHER"))
    w.ok(ClaimTimeShift(OPERATOR, part.bundle_id, "CONSUMER"))
    second = w.run(ClaimTimeShift(OPERATOR, rest.bundle_id, "OTHER"))
    if scope is TimeShiftScope.ALLOCATED_UNITS:
        assert second.accepted
        sdr = w.book.sdr("SDR-2")
        assert sdr is not None and sdr.time_shift_claimed_wh == 800
    else:
        assert second.problem.code is ErrorCode.TIME_SHIFT_ALREADY_CLAIMED
    assert_clean(w)


def test_time_shift_needs_a_storage_gc() -> None:
    w = World()
    bundle = w.produce("SOLAR", hour(10), 100)
    w.ok(Cancel(OPERATOR, bundle, "CONSUMER"))
    outcome = w.run(ClaimTimeShift(OPERATOR, bundle, "CONSUMER"))
    assert outcome.problem.code is ErrorCode.NOT_A_STORAGE_GC


# ------------------------------------------------------------------ atomicity


def test_rejections_change_nothing() -> None:
    w, solar = ready()
    before = w.reg.fingerprint()
    for command in (
        AllocateStorage(OPERATOR, "BATT", ("SDR-2", "SDR-99")),
        IssueStorageGC(ISSUER, "SDR-2"),
        CancelForCharge(OPERATOR, "SCR-2", solar, "X"),
        ChangeStorageAllocationMethod(OPERATOR, "BATT", "LIFO"),
        w.data_cmd("CHARGING", hour(5), 100),
    ):
        assert not w.run(command).accepted
        assert w.reg.fingerprint() == before


# ------------------------------------------------------------------ the checker


def _history_of(w: World) -> list[dict[str, object]]:
    return copy.deepcopy(w.reg.export_history())


def _effects(history: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    return [e for a in history for e in a["effects"] if e["effect"] == kind]  # type: ignore[attr-defined]


def test_checker_builds_the_storage_lineage() -> None:
    w, solar = ready()
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    issued = w.ok(IssueStorageGC(ISSUER, "SDR-2"))
    report = check_invariants(w.reg.export_history(), w.reg.export_state())
    assert report.ok, report.findings
    graph = report.graph
    assert graph.has_edge(("bundle", solar), ("scr", "SCR-2"))
    assert graph.edges[("scr", "SCR-2"), ("sdr", "SDR-2")]["wh"] == 800
    assert graph.has_edge(("sdr", "SDR-2"), ("issuance", issued.issuance_id))


def test_checker_flags_tampered_storage_histories() -> None:
    w, _ = ready()
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    w.ok(IssueStorageGC(ISSUER, "SDR-2"))
    clean = _history_of(w)

    over = copy.deepcopy(clean)
    _effects(over, "storage_allocation")[-1]["wh"] = 900  # 900 > 800 net, > SDR's 800
    assert check_invariants(over).by_risk(Risk.STORAGE_OVERALLOCATION)

    twice = copy.deepcopy(clean)
    extra = dict(_effects(twice, "storage_allocation")[-1])
    twice.append({"action_id": 999, "accepted": True, "effects": [extra]})
    assert check_invariants(twice).by_risk(Risk.STORAGE_OVERALLOCATION)

    uncovered = copy.deepcopy(clean)
    for action in uncovered:
        action["effects"] = [e for e in action["effects"] if e["effect"] != "scr_source"]  # type: ignore[attr-defined]
    assert check_invariants(uncovered).by_risk(Risk.STORAGE_LINEAGE)

    bigger = copy.deepcopy(clean)
    _effects(bigger, "sd_gc")[0]["quantity"] = 801
    assert check_invariants(bigger).by_risk(Risk.STORAGE_OVERALLOCATION)

    no_sdr = copy.deepcopy(clean)
    for action in no_sdr:
        action["effects"] = [e for e in action["effects"] if e["effect"] != "sd_gc"]  # type: ignore[attr-defined]
    assert check_invariants(no_sdr).by_risk(Risk.STORAGE_LINEAGE)

    double_source = copy.deepcopy(clean)
    source = dict(_effects(double_source, "scr_source")[0])
    source["scr_allocation_id"] = "SCR-1"
    double_source.append({"action_id": 998, "accepted": True, "effects": [source]})
    assert check_invariants(double_source).by_risk(Risk.DOUBLE_USE)


def test_checker_flags_storage_cancellation_used_for_a_claim() -> None:
    w, solar = ready()
    history = _history_of(w)
    history.append(
        {
            "action_id": 997,
            "accepted": True,
            "effects": [
                {
                    "effect": "status",
                    "bundle_id": solar,
                    "from": "CANCELLED_FOR_STORAGE",
                    "to": "CLAIMED",
                    "claimant": "X",
                }
            ],
        }
    )
    findings = check_invariants(history).by_risk(Risk.DOUBLE_DISCLOSURE)
    assert any("backs SCR" in f.message for f in findings)


def test_checker_flags_double_time_shift() -> None:
    w, _ = ready()
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    issued = w.ok(IssueStorageGC(ISSUER, "SDR-2"))
    w.ok(Cancel(OPERATOR, issued.bundle_id, "CONSUMER"))
    w.ok(ClaimTimeShift(OPERATOR, issued.bundle_id, "CONSUMER"))
    history = _history_of(w)
    claim = dict(_effects(history, "time_shift_claim")[0])
    history.append({"action_id": 996, "accepted": True, "effects": [claim]})
    assert check_invariants(history).by_risk(Risk.DOUBLE_USE)


def test_efficiency_factor_requests_in_the_registry() -> None:
    w = World()
    w.data("IDLE", hour(0), 0)
    nothing = w.run(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    assert nothing.problem.code is ErrorCode.EFFICIENCY_UNDEFINED
    formulas = World(loss="INTERVAL_FORMULAS")
    wrong_method = formulas.run(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    assert wrong_method.problem.code is ErrorCode.INVALID_FIELD
    by_operator = w.run(SetEfficiencyFactor(OPERATOR, "BATT", hour(0), hour(2)))
    assert by_operator.problem.code is ErrorCode.NOT_AUTHORISED


def test_every_storage_error_code_is_exercised() -> None:
    """Each code of the storage group of ErrorCode appears in these tests."""
    from pathlib import Path

    import gc_conformance.reference.errors as errors

    source = Path(errors.__file__).read_text()
    group = source.split("# --- storage (D7) ---")[1].split("# ---")[0]
    codes = [line.split("=")[0].strip() for line in group.splitlines() if "=" in line]
    assert codes and all(hasattr(ErrorCode, code) for code in codes)
    here = Path(__file__).parent
    tests = "".join(p.read_text() for p in here.glob("test_*.py"))
    missing = [code for code in codes if f"ErrorCode.{code}" not in tests]
    assert not missing, missing


def test_storage_output_is_not_issued_as_production() -> None:
    from gc_conformance.reference import IssueBundle, SubmitProduction

    w = World()
    submitted = w.run(SubmitProduction(ISSUER, "BATT", "M-BATT", hour(1), hour(2), 100))
    assert submitted.problem.code is ErrorCode.STORAGE_OUTPUT_NEEDS_SDR
    asserted = w.run(IssueBundle(ISSUER, "BATT", "ACC-OP", hour(1), hour(2), 1, 100, 100, 100))
    assert asserted.problem.code is ErrorCode.STORAGE_OUTPUT_NEEDS_SDR
