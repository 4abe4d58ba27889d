"""Issue 15: the invariant and cross-registry checkers find each bad situation in a *history*.

A registry under audit is judged from its exported history, not from the
model's refusals. Each test takes a sound history the model wrote, breaks it
the way a faulty registry would, and expects the finding, while the sound
history gives none.
"""

from __future__ import annotations

import copy
import datetime as _dt
from collections.abc import Callable
from typing import Any

from config_world import at, device, eac_registry, linked, may_hour, report_may

from gc_conformance.reference import (
    Account,
    CorrectProduction,
    OpenAccount,
    RegisterDevice,
    SubmitProduction,
    Transfer,
)
from gc_conformance.reference.configurations import (
    IssueFromCancelledEacs,
    IssueLinkedGcs,
    configuration_1_registry,
)
from gc_conformance.reference.cross_registry import check_cross_registry
from gc_conformance.reference.eac import (
    EacCancel,
    EacIssuingBody,
    EacOpenAccount,
    EacRegisterDevice,
    EacRegistry,
    EacReportProduction,
)
from gc_conformance.reference.invariants import Risk, check_invariants

EAC1 = "EIB-GO-00000001"
History = list[dict[str, Any]]


def effects_of(history: History, kind: str) -> list[dict[str, Any]]:
    return [e for a in history for e in a.get("effects", ()) if e.get("effect") == kind]


def edited(history: History, change: Callable[[History], None]) -> History:
    copied = copy.deepcopy(history)
    change(copied)
    return copied


def messages(report: Any, risk: Risk) -> list[str]:
    return [f.message for f in report.findings if f.risk is risk]


# ----------------------------------------------------------------------------- #2


def two_histories() -> tuple[History, History]:
    eac = eac_registry()
    report_may(eac)
    pair = linked(2, eac)
    pair.execute(IssueLinkedGcs("GCI", "DEV-1", "M-1", *may_hour(1, 0), 600_000), at(2)).unwrap()
    return pair.eac.export_history(), pair.gc.export_history()


def test_sound_configuration_2_history_gives_no_finding() -> None:
    eac, gc = two_histories()
    assert check_cross_registry(eac, gc).ok


def test_unlinked_configuration_2_gcs_are_found() -> None:
    eac, gc = two_histories()

    def drop_links(history: History) -> None:
        for action in history:
            action["effects"] = [e for e in action["effects"] if e["effect"] != "eac_link"]

    report = check_cross_registry(eac, edited(gc, drop_links))
    assert any("linked to no EAC" in m for m in messages(report, Risk.DOUBLE_ISSUANCE))


def test_configuration_2_gc_energy_above_its_eacs_is_found() -> None:
    eac, gc = two_histories()

    def grow_issue(history: History) -> None:
        effects_of(history, "issue")[0]["range_end"] += 9_400_000  # 10,000,000 Wh of GCs

    report = check_cross_registry(eac, edited(gc, grow_issue))
    assert any("its EACs give it 600000 Wh" in m for m in messages(report, Risk.DOUBLE_ISSUANCE))


# ----------------------------------------------------------------------------- #3


def three_histories() -> tuple[History, History]:
    eac = eac_registry()
    report_may(eac)
    eac.execute(EacCancel("PRODUCER", (EAC1,), "ACME"), at(1, 2)).unwrap()
    pair = linked(3, eac)
    command = IssueFromCancelledEacs(
        "GCI", (EAC1,), "DEV-1", "M-1", *may_hour(1, 0), 300_000, "ACME", "G-CONS"
    )
    pair.execute(command, at(3)).unwrap()
    return pair.eac.export_history(), pair.gc.export_history()


def test_sound_configuration_3_history_gives_no_finding() -> None:
    eac, gc = three_histories()
    assert check_cross_registry(eac, gc).ok


def test_transferable_configuration_3_gcs_are_found() -> None:
    eac, gc = three_histories()

    def transferable(history: History) -> None:
        effects_of(history, "issue")[0]["transferable"] = True

    report = check_cross_registry(eac, edited(gc, transferable))
    assert any("issued transferable" in m for m in messages(report, Risk.DOUBLE_DISCLOSURE))


def test_a_transferred_configuration_3_gc_is_found() -> None:
    eac, gc = three_histories()
    bundle = effects_of(gc, "issue")[0]["bundle_id"]

    def transfer(history: History) -> None:
        history.append(
            {
                "action_id": len(history) + 1,
                "at": "2026-06-04T00:00:00Z",
                "actor": "CONSUMER",
                "accepted": True,
                "effects": [
                    {
                        "effect": "transfer",
                        "bundle_id": bundle,
                        "from_account": "G-CONS",
                        "to_account": "G-BUYER",
                    }
                ],
            }
        )

    report = check_cross_registry(eac, edited(gc, transfer))
    assert any("transferred" in m for m in messages(report, Risk.DOUBLE_DISCLOSURE))


def test_configuration_3_gcs_cancelled_for_another_beneficiary_are_found() -> None:
    eac, gc = three_histories()

    def other(history: History) -> None:
        for effect in effects_of(history, "status"):
            effect["beneficiary"] = "SOMEONE ELSE"

    report = check_cross_registry(eac, edited(gc, other))
    assert any("SOMEONE ELSE" in m for m in messages(report, Risk.DOUBLE_DISCLOSURE))


# ----------------------------------------------------------------------------- #1


def one_registry(body: EacIssuingBody) -> Any:
    registry = configuration_1_registry(body)
    start = _dt.datetime(2026, 5, 1, tzinfo=_dt.UTC)
    registry.execute(OpenAccount(body.body_id, Account("G-PROD", "PRODUCER", "p")), start).unwrap()
    registry.execute(OpenAccount(body.body_id, Account("G-BUYER", "BUYER", "b")), start).unwrap()
    registry.execute(RegisterDevice(body.body_id, device()), start).unwrap()
    return registry


def eac_of(body: EacIssuingBody) -> EacRegistry:
    eac = EacRegistry(body)
    start = _dt.datetime(2026, 5, 1, tzinfo=_dt.UTC)
    eac.execute(EacOpenAccount(body.body_id, "E-PROD", "PRODUCER"), start).unwrap()
    eac.execute(EacRegisterDevice(body.body_id, "DEV-1", "E-PROD", "M-1"), start).unwrap()
    return eac


def test_a_configuration_1_body_issuing_eacs_for_what_its_gcs_certify_is_found() -> None:
    body = EacIssuingBody("EIB", "Body #1", "NL", configuration=1)
    gc = one_registry(body)
    gc.execute(SubmitProduction("EIB", "DEV-1", "M-1", *may_hour(1, 0), 600_000), at(1)).unwrap()
    eac = eac_of(body)
    assert check_cross_registry(eac.export_history(), gc.export_history()).ok
    eac.execute(
        EacReportProduction(
            "EIB", "DEV-1", "M-1", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", 1_000_000
        ),
        at(1, 1),
    ).unwrap()
    report = check_cross_registry(eac.export_history(), gc.export_history())
    assert any("instead of EACs" in m for m in messages(report, Risk.DOUBLE_ISSUANCE))
    # Another body's EACs for a device of the same ID are not this rule's business.
    other = eac_of(EacIssuingBody("OTHER", "Another body", "BE"))
    other.execute(
        EacReportProduction(
            "OTHER", "DEV-1", "M-1", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", 1_000_000
        ),
        at(1, 1),
    ).unwrap()
    assert check_cross_registry(other.export_history(), gc.export_history()).ok


# ----------------------------------------------------------------------------- single history


def test_two_devices_on_one_meter_for_one_hour_are_found() -> None:
    body = EacIssuingBody("EIB", "Body #1", "NL", configuration=1)
    gc = one_registry(body)
    gc.execute(RegisterDevice("EIB", device("DEV-2", "M-2")), at(1)).unwrap()
    for device_id, meter in (("DEV-1", "M-1"), ("DEV-2", "M-2")):
        gc.execute(SubmitProduction("EIB", device_id, meter, *may_hour(1, 0), 1_000), at(1, 1))
    history = gc.export_history()
    assert check_invariants(history, gc.export_state()).ok

    def same_meter(plain: History) -> None:
        for effect in effects_of(plain, "reading"):
            effect["meter_id"] = "M-1"

    report = check_invariants(edited(history, same_meter))
    assert any("meter 'M-1'" in m for m in messages(report, Risk.DOUBLE_ISSUANCE))


def test_a_d10_debt_never_deducted_is_found() -> None:
    body = EacIssuingBody("EIB", "Body #1", "NL", configuration=1)
    gc = one_registry(body)
    first = gc.execute(
        SubmitProduction("EIB", "DEV-1", "M-1", *may_hour(1, 5), 600_000), at(1)
    ).unwrap()
    gc.execute(Transfer("PRODUCER", first.bundle_id, "G-BUYER"), at(1, 1)).unwrap()
    gc.execute(CorrectProduction("EIB", "DEV-1", *may_hour(1, 5), 100_000), at(1, 2)).unwrap()
    gc.execute(SubmitProduction("EIB", "DEV-1", "M-1", *may_hour(2, 5), 600_000), at(2, 7)).unwrap()
    history = gc.export_history()
    assert check_invariants(history, gc.export_state()).ok

    def skip_deduction(plain: History) -> None:
        last = plain[-1]
        last["effects"] = [e for e in last["effects"] if e["effect"] != "debt"]
        for effect in last["effects"]:
            if effect["effect"] == "issue":
                effect["range_end"] += 500_000  # 600,000 Wh issued, the debt left open
                effect["deducted_wh"] = 0

    report = check_invariants(edited(history, skip_deduction))
    assert any("took none of the 500000 Wh" in m for m in messages(report, Risk.DOUBLE_ISSUANCE))
