"""Second review of the storage model and checker against D7: each test is a false pass found
(something D7, or D2/D8 through storage, forbids that the model accepted or the checker let
through), now refused or flagged."""

from __future__ import annotations

import copy
import datetime as _dt
from fractions import Fraction
from typing import Any

import attrs
from storage_world import ISSUER, OPERATOR, SOLAR_SITE, World, battery, hour, producer

from gc_conformance.reference import (
    Account,
    Cancel,
    ErrorCode,
    IssuerExemption,
    OpenAccount,
    OwnHourUse,
    Policies,
    RegisterDevice,
    SdGcInputs,
    Transfer,
)
from gc_conformance.reference.invariants import Finding, Risk, check_invariants
from gc_conformance.reference.storage import (
    AllocateStorage,
    AssignUnknownBeneficiary,
    CancelForCharge,
    ClaimTimeShift,
    IssueStorageGC,
    RegisterStorage,
    SetEfficiencyFactor,
)


def ready(discharge_wh: int = 800, policies: Policies | None = None) -> tuple[World, int]:
    """Factor 0.8; 10:00 solar 1000 Wh charged (SCR-2) and backed; 20:00 out (SDR-2)."""
    w = World(policies=policies)
    w.data("CHARGING", hour(0), 1000)
    w.data("DISCHARGING", hour(1), 800)
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))
    solar = w.produce("SOLAR", hour(10), 1000)
    w.data("CHARGING", hour(10), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", solar, "SAME_BIDDING_ZONE"))
    w.data("DISCHARGING", hour(20), discharge_wh)
    return w, solar


def history(w: World) -> list[dict[str, Any]]:
    return copy.deepcopy(w.reg.export_history())


def effects(actions: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for a in actions for e in a["effects"] if e["effect"] == kind]


def found(actions: list[dict[str, Any]], risk: Risk, words: str) -> list[Finding]:
    return [f for f in check_invariants(actions).by_risk(risk) if words in f.message]


# ------------------------------------------------------------------ the model


def test_cancel_for_charge_obeys_the_issuers_exempt_accounts() -> None:
    """D2 through storage: GCs in the issuer's own-consumption account cancel only for the
    issuer itself; CancelForCharge (beneficiary: the storage system) let them out."""
    w = World()
    w.ok(OpenAccount(ISSUER, Account("ACC-ISS", ISSUER, "Issuer", IssuerExemption.OWN_CONSUMPTION)))
    store = attrs.evolve(battery(), device_id="BATT2", meter_id="M-BATT2", account_id="ACC-ISS")
    w.ok(RegisterStorage(ISSUER, store, 10_000, "EAN-BATT2", 60, "FIFO", "EFFICIENCY_FACTOR"))
    bundle = w.produce("SOLAR", hour(10), 1000)
    w.ok(Transfer(OPERATOR, bundle, "ACC-ISS"))
    end = hour(11)
    w.ok(
        attrs.evolve(w.data_cmd("CHARGING", hour(10), 1000), storage_id="BATT2", meter_id="M-BATT2")
    )
    assert w.book.scr("SCR-1") is not None and w.book.scr("SCR-1").charging_end == end  # type: ignore[union-attr]
    before = w.reg.fingerprint()
    direct = w.run(Cancel(ISSUER, bundle, "BATT2"))
    assert (direct.problem.code, direct.problem.field) == (
        ErrorCode.ISSUER_MAY_NOT_TRADE,
        "beneficiary",
    )
    via_storage = w.run(CancelForCharge(ISSUER, "SCR-1", bundle, "SAME_BIDDING_ZONE"))
    assert (via_storage.problem.code, via_storage.problem.field) == (
        ErrorCode.ISSUER_MAY_NOT_TRADE,
        "beneficiary",
    )
    assert w.reg.fingerprint() == before


def test_no_sd_gc_is_issued_past_its_validity() -> None:
    """D8, as the core applies it to production: a certificate already expired is not issued.

    Strictly read (own_hour_use NOT_EXEMPT), CALENDAR_YEAR ends it with 2026.
    """
    w, _ = ready(policies=Policies(own_hour_use=OwnHourUse.NOT_EXEMPT))
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    expired = _dt.datetime(2027, 1, 1, tzinfo=_dt.UTC)  # CALENDAR_YEAR: valid until then
    late = w.reg.execute(IssueStorageGC(ISSUER, "SDR-2"), expired)
    assert (late.problem.code, late.problem.field) == (ErrorCode.PRODUCTION_TOO_OLD, "sdr_id")
    in_time = w.reg.execute(IssueStorageGC(ISSUER, "SDR-2"), expired - _dt.timedelta(seconds=1))
    assert in_time.accepted


def test_an_sd_gc_serves_its_own_discharge_hour_for_12_months() -> None:
    """D8's own-hour exemption (the default) holds for SD-GCs too: their hour is the discharge's."""
    w, _ = ready()
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    limit = hour(21) + _dt.timedelta(days=365)  # 12 months after the discharge (2026 not leap)
    late = w.reg.execute(IssueStorageGC(ISSUER, "SDR-2"), limit)
    assert (late.problem.code, late.problem.field) == (ErrorCode.PRODUCTION_TOO_OLD, "sdr_id")
    issued = w.reg.execute(IssueStorageGC(ISSUER, "SDR-2"), limit - _dt.timedelta(seconds=1))
    assert issued.accepted
    sd_gc = w.reg.issuance(issued.value.issuance_id)
    assert sd_gc is not None and sd_gc.expiry == limit
    assert sd_gc.own_hour_only_from == _dt.datetime(2027, 1, 1, tzinfo=_dt.UTC)


def test_sd_gc_carries_the_original_devices_support() -> None:
    """D7: the SD-GC's D5 attributes are the original device's, carried from the cancelled GC
    (the storage system's own support said nothing about where the energy came from)."""
    w = World()
    subsidised = attrs.evolve(producer("SUB", "Solar", SOLAR_SITE), support_received="production")
    w.ok(RegisterDevice(ISSUER, subsidised))
    w.data("CHARGING", hour(0), 1000)
    w.data("DISCHARGING", hour(1), 800)
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))
    gcs = w.produce("SUB", hour(10), 1000)
    w.data("CHARGING", hour(10), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", gcs, "SAME_BIDDING_ZONE"))
    w.data("DISCHARGING", hour(20), 800)
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    sd_gc = w.reg.issuance(w.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    assert sd_gc is not None and sd_gc.support_received == "production"
    assert sd_gc.device_name == "Solar park SUB"


def test_sd_gc_factor_counts_each_charge_record_once() -> None:
    """An SDR given Wh by the same SCR in two entries: the SD-GC's loss figure (net / charged
    of its SCRs, INTERVAL_FORMULAS) must not weigh that SCR twice."""
    w = World(allocation="OPERATOR_DISCRETION", loss="INTERVAL_FORMULAS")
    solar = w.produce("SOLAR", hour(0), 1000)
    wind = w.produce("WIND", hour(1), 1000)
    w.data("CHARGING", hour(0), 1000, Fraction(9))  # 100 Wh lost: net 900
    w.data("CHARGING", hour(1), 1000, Fraction(185, 10))  # 50 Wh lost: net 950
    w.data("DISCHARGING", hour(2), 500, Fraction(135, 10))  # no loss
    assert [w.book.scr(i).net_wh for i in ("SCR-1", "SCR-2")] == [900, 950]  # type: ignore[union-attr]
    w.ok(CancelForCharge(OPERATOR, "SCR-1", solar, "SAME_BIDDING_ZONE"))
    w.ok(CancelForCharge(OPERATOR, "SCR-2", wind, "SAME_BIDDING_ZONE"))
    entries = (("SCR-1", "SDR-1", 100), ("SCR-1", "SDR-1", 100), ("SCR-2", "SDR-1", 300))
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-1",), entries))
    sd_gc = w.reg.issuance(w.ok(IssueStorageGC(ISSUER, "SDR-1")).issuance_id)
    assert sd_gc is not None and sd_gc.scr_ids == ("SCR-1", "SCR-2")
    assert sd_gc.storage_efficiency_factor == float(Fraction(900 + 950, 2000))


# ------------------------------------------------------------------ the checker


def issued_world() -> tuple[World, int, int]:
    """ready(), SDR-2 allocated and its SD-GC issued: (world, solar bundle, SD-GC bundle)."""
    w, solar = ready()
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    sd_gc = w.ok(IssueStorageGC(ISSUER, "SDR-2"))
    assert check_invariants(w.reg.export_history(), w.reg.export_state()).ok
    return w, solar, sd_gc.bundle_id


def test_checker_flags_an_allocation_between_two_storage_systems() -> None:
    w, _, _ = issued_world()
    tampered = history(w)
    sdr = next(e for e in effects(tampered, "sdr") if e["sdr_allocation_id"] == "SDR-2")
    sdr["storage_id"] = "OTHER-BATTERY"
    assert found(tampered, Risk.STORAGE_LINEAGE, "of 'BATT' allocated to SDR SDR-2 of 'OTHER")


def test_checker_flags_an_allocation_before_losses_were_calculated() -> None:
    w, _, _ = issued_world()
    tampered = history(w)
    scr = next(e for e in effects(tampered, "scr") if e["scr_allocation_id"] == "SCR-2")
    scr["loss_wh"] = None  # no loss was ever calculated for SCR-2
    assert found(tampered, Risk.STORAGE_LINEAGE, "before its losses were calculated")
    # A charge recorded before any factor, whose loss comes later, is fine (SCR-1 here).
    assert effects(tampered, "scr")[0]["loss_wh"] is None and effects(tampered, "storage_loss")


def test_checker_flags_gcs_from_another_interval_or_of_another_size() -> None:
    w, _, _ = issued_world()
    moved = history(w)
    scr = next(e for e in effects(moved, "scr") if e["scr_allocation_id"] == "SCR-2")
    scr["charging_start_datetime"], scr["charging_end_datetime"] = (
        "2026-01-01T12:00:00Z",
        "2026-01-01T13:00:00Z",
    )
    assert found(moved, Risk.STORAGE_LINEAGE, "not the charge interval")
    inflated = history(w)
    effects(inflated, "scr_source")[0]["quantity"] = 1001  # the bundle holds 1000 Wh
    assert found(inflated, Risk.STORAGE_OVERALLOCATION, "counts 1001 Wh of bundle")


def test_checker_compares_the_sd_gc_record_with_its_issuance() -> None:
    w, _, _ = issued_world()
    bigger = history(w)
    sd_gc = effects(bigger, "sd_gc")[0]
    issue = next(e for e in effects(bigger, "issue") if e["issuance_id"] == sd_gc["issuance_id"])
    issue["range_end"] += 200  # 1000 Wh issued, the SD-GC record still says 800
    assert found(bigger, Risk.STORAGE_OVERALLOCATION, "records 800 Wh but issuance")
    elsewhere = history(w)
    solar_issuance = effects(elsewhere, "issue")[0]["issuance_id"]
    effects(elsewhere, "sd_gc")[0]["issuance_id"] = solar_issuance
    assert found(elsewhere, Risk.STORAGE_LINEAGE, "which is not an issuance of its storage")


def test_checker_takes_the_records_behind_a_time_shift_from_the_history() -> None:
    """Two SD-GCs from one SCR (400 + 400 Wh): a claim through each uses its own Wh of the
    SCR and GCs, no double use (issue 15: the checker used to call this double use); an SDR
    claimed for more Wh than it discharged is one, and a claim citing records not behind its
    SDR is a lineage finding."""
    w, solar = ready(400)
    w.data("DISCHARGING", hour(21), 400)  # SDR-3, also from SCR-2
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2", "SDR-3")))
    first = w.ok(IssueStorageGC(ISSUER, "SDR-2")).bundle_id
    second = w.ok(IssueStorageGC(ISSUER, "SDR-3")).bundle_id
    w.ok(Cancel(OPERATOR, first, "CONSUMER"))
    w.ok(Cancel(OPERATOR, second, "CONSUMER"))
    w.ok(ClaimTimeShift(OPERATOR, first, "CONSUMER"))
    clean = history(w)
    assert check_invariants(clean).ok
    w.ok(ClaimTimeShift(OPERATOR, second, "CONSUMER"))  # the other 400 Wh of SCR-2
    both = history(w)
    assert check_invariants(both).ok, check_invariants(both).findings
    # forged: SDR-3's 400 Wh claimed as 800 (the SDR is used beyond what it discharged)
    inflated = copy.deepcopy(both)
    effects(inflated, "time_shift_claim")[1]["wh"] = 800
    assert found(inflated, Risk.DOUBLE_USE, "time-shift claims of 800 Wh on a discharge of 400")
    # forged: SDR-3's claim cites a GC bundle that is not behind it
    stray = copy.deepcopy(both)
    effects(stray, "time_shift_claim")[1]["gc_bundle_ids"] = [solar, 999]
    assert found(stray, Risk.STORAGE_LINEAGE, "cites GC bundle 999, not allocated to SDR SDR-3")
    # a time-shift claim on a bundle that is not the SDR's SD-GC
    wrong = copy.deepcopy(clean)
    claim = dict(effects(wrong, "time_shift_claim")[0])
    claim.update(claim_id="TSC-3", bundle_id=second)  # SDR-2's claim, on SDR-3's SD-GC
    wrong.append({"action_id": 991, "accepted": True, "effects": [claim]})
    assert found(wrong, Risk.STORAGE_LINEAGE, "which is not the SD-GC of SDR SDR-2")


# ------------------------------------------------------------------ SD-GC inputs (sd_gc_inputs)


def partly_backed(policies: Policies, *discharges: int) -> World:
    """Factor 0.8; SCR-2 charges 1000 Wh at 10:00 of which 600 Wh are backed by cancelled
    GCs (480 Wh net); then each of ``discharges`` (SDR-2, SDR-3, ...) allocated in turn."""
    w = World(policies=policies)
    w.data("CHARGING", hour(0), 1000)
    w.data("DISCHARGING", hour(1), 800)
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))
    solar = w.produce("SOLAR", hour(10), 600)
    w.data("CHARGING", hour(10), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", solar, "SAME_BIDDING_ZONE"))
    for i, wh in enumerate(discharges):
        w.data("DISCHARGING", hour(20 + i), wh)
        w.ok(AllocateStorage(OPERATOR, "BATT", (f"SDR-{2 + i}",)))
    return w


def test_a_partly_backed_charge_gives_no_sd_gc_under_fully_backed_scrs() -> None:
    """The default: 600 of 1000 Wh backed, a 300 Wh discharge from it gets no SD-GC."""
    w = partly_backed(Policies(), 300)
    refused = w.run(IssueStorageGC(ISSUER, "SDR-2"))
    assert refused.problem.code is ErrorCode.INPUTS_NOT_CANCELLED
    assert "FULLY_BACKED_SCRS" in refused.problem.message
    assert check_invariants(w.reg.export_history(), w.reg.export_state()).ok


def test_backed_wh_first_issues_within_the_backed_part_and_no_further() -> None:
    """BACKED_WH_FIRST: 480 Wh of the charge are backed net; 300 then 180 Wh discharges get
    SD-GCs, a further 1 Wh does not; a single 481 Wh discharge does not either."""
    first_only = Policies(sd_gc_inputs=SdGcInputs.BACKED_WH_FIRST)
    w = partly_backed(first_only, 300, 180, 1)
    assert w.ok(IssueStorageGC(ISSUER, "SDR-2")).quantity == 300
    over = w.run(IssueStorageGC(ISSUER, "SDR-4"))  # the Wh given through SDR-4: 481
    assert over.problem.code is ErrorCode.INPUTS_NOT_CANCELLED
    assert "481 Wh up to SDR SDR-4" in over.problem.message
    assert w.ok(IssueStorageGC(ISSUER, "SDR-3")).quantity == 180  # exactly the backed part
    report = check_invariants(w.reg.export_history(), w.reg.export_state())
    assert report.ok, report.findings
    w = partly_backed(first_only, 481)
    assert w.run(IssueStorageGC(ISSUER, "SDR-2")).problem.code is ErrorCode.INPUTS_NOT_CANCELLED


def test_the_checker_finds_an_sd_gc_beyond_the_backed_part_only() -> None:
    """The history checker holds every registry to the weaker rule both readings share: an
    SD-GC within its SCRs' backed part is clean, one beyond it is a lineage finding."""
    w = partly_backed(Policies(sd_gc_inputs=SdGcInputs.BACKED_WH_FIRST), 300, 181)
    w.ok(IssueStorageGC(ISSUER, "SDR-2"))
    clean = history(w)
    assert check_invariants(clean).ok
    forged = copy.deepcopy(clean)
    sd_gc = dict(effects(forged, "sd_gc")[0])
    issue = next(e for e in effects(forged, "issue") if e["issuance_id"] == sd_gc["issuance_id"])
    forged.append(
        {
            "action_id": 990,
            "at": forged[-1]["at"],
            "accepted": True,
            "effects": [
                {
                    **issue,
                    "issuance_id": 990,
                    "bundle_id": 990,
                    "range_start": 10**6,
                    "range_end": 10**6 + 180,
                },
                {**sd_gc, "sdr_allocation_id": "SDR-3", "issuance_id": 990, "quantity": 181},
            ],
        }
    )
    assert found(forged, Risk.STORAGE_LINEAGE, "beyond its backed part")


def test_sd_gc_carries_the_original_gcs_disclosure_and_conversion_flags() -> None:
    """D5 flags pass from the cancelled GCs to the SD-GC (D7): not disclosable if an input
    was not, conversion-tagged if an input was."""
    w = World()
    flagged = attrs.evolve(
        producer("FLAG", "Solar", SOLAR_SITE), disclosure=False, post_energy_carrier_conversion=True
    )
    w.ok(RegisterDevice(ISSUER, flagged))
    w.data("CHARGING", hour(0), 1000)
    w.data("DISCHARGING", hour(1), 800)
    w.ok(SetEfficiencyFactor(ISSUER, "BATT", hour(0), hour(2)))
    w.ok(AssignUnknownBeneficiary(OPERATOR, "SDR-1"))
    gcs = w.produce("FLAG", hour(10), 1000)
    w.data("CHARGING", hour(10), 1000)
    w.ok(CancelForCharge(OPERATOR, "SCR-2", gcs, "SAME_BIDDING_ZONE"))
    w.data("DISCHARGING", hour(20), 800)
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    sd_gc = w.reg.issuance(w.ok(IssueStorageGC(ISSUER, "SDR-2")).issuance_id)
    assert sd_gc is not None
    assert (sd_gc.disclosure, sd_gc.post_energy_carrier_conversion) == (False, True)


def test_the_sdr_records_the_geographic_matching_type_of_its_inputs() -> None:
    """D7: an SDR records the geographic-matching type; the SCR's attributes copy to it."""
    from gc_conformance.reference.storage import sdr_to_plain

    w, _ = ready()
    sdr = w.book.sdr("SDR-2")
    assert sdr is not None and sdr_to_plain(sdr, w.book)["sdr_geographic_matching_method"] is None
    w.ok(AllocateStorage(OPERATOR, "BATT", ("SDR-2",)))
    sdr = w.book.sdr("SDR-2")
    assert sdr is not None
    assert sdr_to_plain(sdr, w.book)["sdr_geographic_matching_method"] == "SAME_BIDDING_ZONE"
