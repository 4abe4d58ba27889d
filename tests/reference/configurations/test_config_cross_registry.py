"""The cross-registry invariant view: no energy disclosed twice across EAC and GC registries."""

from __future__ import annotations

from typing import Any

from gc_conformance.reference.cross_registry import check_cross_registry
from gc_conformance.reference.invariants import Finding, Risk, check_invariants


def eac_effect(eac_id: str, old: str | None, new: str, **extra: Any) -> dict[str, Any]:
    return {
        "effect": "eac",
        "eac_id": eac_id,
        "from": old,
        "status": new,
        "face_value_wh": 1000,
        **extra,
    }


def action(action_id: int, *effects: dict[str, Any], accepted: bool = True) -> dict[str, Any]:
    return {"action_id": action_id, "accepted": accepted, "effects": list(effects)}


def link(
    issuer: str, configuration: int, *pairs: tuple[str, int], beneficiary: str | None = None
) -> dict[str, Any]:
    return {
        "effect": "eac_link",
        "issuance_id": 1,
        "issuer_id": issuer,
        "configuration": configuration,
        "links": [{"eac_id": e, "wh": wh} for e, wh in pairs],
        "beneficiary": beneficiary,
    }


ISSUED = action(1, eac_effect("E1", None, "ACTIVE"), eac_effect("E2", None, "ACTIVE"))
BACKING = action(2, eac_effect("E1", "ACTIVE", "BACKING_GC", gc_issuer_id="GCI"))


def test_a_consistent_pair_has_no_findings() -> None:
    gc = [action(1, link("GCI", 2, ("E1", 600), ("E1", 400)))]
    assert check_cross_registry([ISSUED, BACKING], gc).ok


def test_gc_energy_above_the_eac_is_double_issuance() -> None:
    gc = [action(1, link("GCI", 2, ("E1", 600))), action(2, link("GCI", 2, ("E1", 401)))]
    report = check_cross_registry([ISSUED, BACKING], gc)
    assert [f.risk for f in report.findings] == [Risk.DOUBLE_ISSUANCE]


def test_link_to_an_eac_never_issued() -> None:
    report = check_cross_registry([ISSUED], [action(1, link("GCI", 2, ("E9", 1)))])
    assert report.by_risk(Risk.DOUBLE_ISSUANCE)


def test_eac_linked_to_two_gc_issuers() -> None:
    one = [action(1, link("GCI", 2, ("E1", 1)))]
    two = [action(1, link("OTHER", 2, ("E1", 1)))]
    report = check_cross_registry([ISSUED, BACKING], one, two)
    messages = [f.message for f in report.by_risk(Risk.DOUBLE_DISCLOSURE)]
    assert any("linked to GC Issuers ['GCI', 'OTHER']" in m for m in messages)


def test_eac_backing_gcs_and_also_cancelled_for_a_beneficiary() -> None:
    cancelled = action(2, eac_effect("E1", "ACTIVE", "CANCELLED", beneficiary="ACME"))
    report = check_cross_registry([ISSUED, cancelled], [action(1, link("GCI", 2, ("E1", 1)))])
    assert (
        len(report.by_risk(Risk.DOUBLE_DISCLOSURE)) == 2
    )  # not recorded as backing; also cancelled


def test_configuration_3_needs_the_same_beneficiary() -> None:
    cancelled = action(2, eac_effect("E2", "ACTIVE", "CANCELLED", beneficiary="ACME"))
    linked = action(
        3, eac_effect("E2", "CANCELLED", "CANCELLED", beneficiary="ACME", gc_issuer_id="GC3")
    )
    good = [action(1, link("GC3", 3, ("E2", 10), beneficiary="ACME"))]
    bad = [action(1, link("GC3", 3, ("E2", 10), beneficiary="OTHER"))]
    assert check_cross_registry([ISSUED, cancelled, linked], good).ok
    assert check_cross_registry([ISSUED, cancelled, linked], bad).by_risk(Risk.DOUBLE_DISCLOSURE)


def test_eac_cancelled_twice_and_rejected_actions_ignored() -> None:
    first = action(2, eac_effect("E2", "ACTIVE", "CANCELLED", beneficiary="A"))
    second = action(3, eac_effect("E2", "ACTIVE", "CANCELLED", beneficiary="B"))
    ignored = action(4, eac_effect("E1", "CANCELLED", "CANCELLED"), accepted=False)
    report = check_cross_registry([ISSUED, first, second, ignored])
    assert [f.risk for f in report.findings] == [Risk.DOUBLE_CANCELLATION]


def test_relinking_an_eac_to_another_issuer_is_found() -> None:
    relink = action(3, eac_effect("E1", "BACKING_GC", "BACKING_GC", gc_issuer_id="OTHER"))
    report = check_cross_registry([ISSUED, BACKING, relink])
    assert report.by_risk(Risk.DOUBLE_DISCLOSURE)


def test_malformed_entries_are_findings() -> None:
    report = check_cross_registry(
        [action(1, {"effect": "eac"})], [action(1, {"effect": "eac_link"})]
    )
    assert [f.risk for f in report.findings] == [Risk.MALFORMED_HISTORY] * 2


def test_gc_only_checker_reads_the_new_effect_kinds() -> None:
    history = [action(1, link("GCI", 2, ("E1", 1)), {"effect": "suspension"})]
    assert check_invariants(history).ok


def at(hour: int) -> str:
    return f"2024-03-02T{hour:02d}:00:00Z"


def timed(action_id: int, hour: int, *effects: dict[str, Any]) -> dict[str, Any]:
    return {**action(action_id, *effects), "at": at(hour)}


def unlink(*pairs: tuple[str, int]) -> dict[str, Any]:
    return {
        "effect": "eac_unlink",
        "issuance_id": 1,
        "links": [{"eac_id": e, "wh": wh} for e, wh in pairs],
    }


def _released_then_cancelled(
    linked_wh: int, given_back_wh: int, *, link_hour: int = 1
) -> list[Finding]:
    """EAC E1 backs #2 GCs from hour 1, a withdrawal gives Wh back at hour 2, and the EAC is
    released and cancelled for ACME at hour 3 (the order a #2 registry pair follows)."""
    eac_history = [
        timed(1, 0, eac_effect("E1", None, "ACTIVE")),
        timed(2, 1, eac_effect("E1", "ACTIVE", "BACKING_GC", gc_issuer_id="GCI")),
        timed(3, 2, eac_effect("E1", "BACKING_GC", "ACTIVE")),
        timed(4, 3, eac_effect("E1", "ACTIVE", "CANCELLED", beneficiary="ACME")),
    ]
    gc_history = [timed(1, link_hour, link("GCI", 2, ("E1", linked_wh)))]
    if given_back_wh:
        gc_history.append(timed(2, 2, unlink(("E1", given_back_wh))))
    return list(check_cross_registry(eac_history, gc_history).by_risk(Risk.DOUBLE_DISCLOSURE))


def test_an_eac_cancelled_after_all_its_gcs_were_withdrawn_is_no_double_disclosure() -> None:
    """The reproduction Hypothesis found: 1 Wh of #2 GCs linked, corrected down to 0 (the GCs
    withdrawn, the EAC released), then the EAC cancelled on the EAC side: one disclosure."""
    assert _released_then_cancelled(1, 1) == []


def test_an_eac_cancelled_while_it_still_backs_gcs_is_double_disclosure() -> None:
    """One Wh under the whole: 1 of 2 linked Wh given back, the other still disclosed by a GC."""
    found = _released_then_cancelled(2, 1)
    assert [f.message for f in found] == ["EAC E1 backs #2 GCs and was also cancelled for ['ACME']"]
    assert _released_then_cancelled(2, 0)  # nothing given back at all


def test_a_link_made_after_the_cancellation_is_double_disclosure() -> None:
    assert _released_then_cancelled(1, 1, link_hour=4)
