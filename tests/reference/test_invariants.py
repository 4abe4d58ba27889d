"""The D4 double-counting checker, on hand-written plain histories that each break one rule."""

from __future__ import annotations

from typing import Any

import pytest
from core_builders import ALICE, BOB, ISSUER, SUPPLIER_ACCOUNT, World

from gc_conformance.reference import (
    Cancel,
    Claim,
    CorrectProduction,
    Expire,
    Reserve,
    Transfer,
    Withdraw,
)
from gc_conformance.reference.invariants import Risk, check_invariants


def issue(
    iid: int,
    bid: int,
    start: int,
    end: int,
    *,
    device: str = "D1",
    hour: int = 10,
    account: str = "A",
    corrects: int | None = None,
) -> dict[str, Any]:
    return {
        "effect": "issue",
        "issuance_id": iid,
        "bundle_id": bid,
        "device_id": device,
        "account_id": account,
        "production_start": f"2024-03-01T{hour:02d}:00:00Z",
        "production_end": f"2024-03-01T{hour + 1:02d}:00:00Z",
        "range_start": start,
        "range_end": end,
        "issuance_date": "2024-03-02",
        "expiry": "2025-01-01T00:00:00Z",
        "corrects_issuance_id": corrects,
    }


def split(parent: int, *children: tuple[int, int, int]) -> dict[str, Any]:
    return {
        "effect": "split",
        "parent_id": parent,
        "children": [{"bundle_id": b, "range_start": s, "range_end": e} for b, s, e in children],
    }


def transfer(bid: int, source: str, target: str) -> dict[str, Any]:
    return {"effect": "transfer", "bundle_id": bid, "from_account": source, "to_account": target}


def status(bid: int, old: str, new: str, **extra: str) -> dict[str, Any]:
    return {"effect": "status", "bundle_id": bid, "from": old, "to": new, **extra}


def cancel(bid: int, beneficiary: str = "Acme", purpose: str = "CONSUMPTION") -> dict[str, Any]:
    new = "CANCELLED" if purpose == "CONSUMPTION" else "CANCELLED_FOR_STORAGE"
    return status(bid, "ACTIVE", new, beneficiary=beneficiary, purpose=purpose)


def claim(bid: int, claimant: str = "Acme", old: str = "CANCELLED") -> dict[str, Any]:
    return status(bid, old, "CLAIMED", claimant=claimant)


AT = "2024-03-02T00:00:00Z"
ACCOUNTS = ("A", "B", "C")


class Timed:
    """A step of :func:`history` at its own time ``at``."""

    def __init__(self, at: str, *effects: dict[str, Any]) -> None:
        self.at, self.effects = at, list(effects)


def reading(
    device: str, hour: int, recognised: int, metered: str | None = None, carried: str | None = "0"
) -> dict[str, Any]:
    return {
        "effect": "reading",
        "device_id": device,
        "meter_id": f"M-{device}",
        "production_start": f"2024-03-01T{hour:02d}:00:00Z",
        "production_end": f"2024-03-01T{hour + 1:02d}:00:00Z",
        "recognised_wh": recognised,
        "metered_wh": str(recognised) if metered is None else metered,
        "gross_or_net": "NET",
        "carried_wh": carried,
    }


def history(
    *steps: list[dict[str, Any]] | dict[str, Any] | Timed,
    accounts: tuple[str, ...] = ACCOUNTS,
    readings: bool = True,
) -> list[dict[str, Any]]:
    """Actions 1, 2, ... from ``steps``, after an action 0 opening ``accounts``.

    With ``readings``, every issue effect is followed (in its action) by the reading
    that recognises what has been issued for its device and interval so far, unless
    the step carries a reading of that interval itself.
    """
    actions = []
    if accounts:
        opened = [
            {"effect": "account", "account_id": a, "holder_id": f"h-{a}", "exemption": None}
            for a in accounts
        ]
        actions.append({"action_id": 0, "at": AT, "accepted": True, "effects": opened})
    issued: dict[tuple[Any, Any], int] = {}
    for number, step in enumerate(steps, start=1):
        at = step.at if isinstance(step, Timed) else AT
        listed = step.effects if isinstance(step, Timed) else step
        listed = list(listed) if isinstance(listed, list) else [listed]
        if readings:
            read = {
                (e["device_id"], e["production_start"]) for e in listed if e["effect"] == "reading"
            }
            for effect in list(listed):
                if effect["effect"] != "issue":
                    continue
                key = (effect["device_id"], effect["production_start"])
                issued[key] = issued.get(key, 0) + effect["range_end"] - effect["range_start"] + 1
                if key not in read:
                    listed.append(
                        {
                            **reading(effect["device_id"], 0, issued[key]),
                            "production_start": effect["production_start"],
                            "production_end": effect["production_end"],
                        }
                    )
        actions.append({"action_id": number, "at": at, "accepted": True, "effects": listed})
    return actions


def risks(actions: list[dict[str, Any]], state: dict[str, Any] | None = None) -> list[Risk]:
    return [finding.risk for finding in check_invariants(actions, state).findings]


def plain_bundle(
    bid: int, iid: int, start: int, end: int, account: str = "A", state: str = "ACTIVE"
) -> dict[str, Any]:
    return {
        "bundle_id": bid,
        "issuance_id": iid,
        "certificate_bundle_id_range_start": start,
        "certificate_bundle_id_range_end": end,
        "bundle_quantity": end - start + 1,
        "account_id": account,
        "certificate_bundle_status": state,
    }


CLEAN = history(
    issue(1, 1, 1, 1000),
    [split(1, (2, 1, 300), (3, 301, 1000)), transfer(2, "A", "B")],
    [split(2, (4, 1, 100), (5, 101, 300)), cancel(4)],
    claim(4),
    issue(2, 6, 1001, 1200, corrects=1),
    status(3, "ACTIVE", "RESERVED"),
    status(3, "RESERVED", "ACTIVE"),
    status(6, "ACTIVE", "WITHDRAWN"),
    cancel(5, "Battery", "STORAGE_CHARGE"),
    Timed("2025-01-01T00:00:00Z", status(3, "ACTIVE", "EXPIRED")),
)
CLEAN_STATE = {
    "bundles": [
        plain_bundle(4, 1, 1, 100, "B", "CLAIMED"),
        plain_bundle(5, 1, 101, 300, "B", "CANCELLED_FOR_STORAGE"),
        plain_bundle(3, 1, 301, 1000, "A", "EXPIRED"),
        plain_bundle(6, 2, 1001, 1200, "A", "WITHDRAWN"),
    ]
}


def test_a_clean_history_and_matching_state_give_no_findings() -> None:
    report = check_invariants(CLEAN, CLEAN_STATE)
    assert report.findings == ()
    assert report.ok
    assert report.actions_checked == len(CLEAN)


def test_the_lineage_graph_follows_issuance_splits_and_outcomes() -> None:
    graph = check_invariants(CLEAN).graph
    assert graph.has_edge(("issuance", 1), ("bundle", 1))
    assert graph.has_edge(("bundle", 1), ("bundle", 2))
    assert graph.has_edge(("bundle", 4), ("outcome", 4, "CANCELLED"))
    assert graph.has_edge(("outcome", 4, "CANCELLED"), ("outcome", 4, "CLAIMED"))
    assert graph.nodes[("bundle", 2)]["account"] == "B"
    assert graph.nodes[("bundle", 1)]["status"] == "BUNDLE_SPLIT"


def test_rejected_actions_are_skipped() -> None:
    actions = [*CLEAN, {"action_id": 99, "accepted": False, "effects": [issue(1, 1, 1, 5)]}]
    assert risks(actions) == []


# ---------------------------------------------------------------- one history per risk


def test_double_issuance_for_the_same_device_and_hour() -> None:
    actions = history(issue(1, 1, 1, 100), issue(2, 2, 101, 200))
    assert risks(actions) == [Risk.DOUBLE_ISSUANCE]


def test_an_overlapping_interval_is_double_issuance_but_another_device_is_not() -> None:
    overlapping = issue(2, 2, 101, 200)
    overlapping["production_start"], overlapping["production_end"] = (
        "2024-03-01T10:30:00Z",
        "2024-03-01T11:30:00Z",
    )
    # the issuances overlap, and so does the production recognised for them
    assert risks(history(issue(1, 1, 1, 100), overlapping)) == [Risk.DOUBLE_ISSUANCE] * 2
    assert risks(history(issue(1, 1, 1, 100), issue(2, 2, 101, 200, device="D2"))) == []
    assert risks(history(issue(1, 1, 1, 100), issue(2, 2, 101, 200, hour=11))) == []


def test_an_upward_correction_must_name_an_issuance_of_the_same_device_and_interval() -> None:
    assert risks(history(issue(1, 1, 1, 100), issue(2, 2, 101, 200, corrects=1))) == []
    assert (
        risks(
            history(
                issue(1, 1, 1, 100),
                issue(2, 2, 101, 200, corrects=1),
                issue(3, 3, 201, 300, corrects=1),
            )
        )
        == []
    )
    # a "correction" label on an unrelated issuance does not hide double issuance
    assert risks(
        history(
            issue(1, 1, 1, 100), issue(2, 2, 101, 200, hour=12), issue(3, 3, 201, 300, corrects=2)
        )
    ) == [Risk.DOUBLE_ISSUANCE]
    assert risks(history(issue(1, 1, 1, 100), issue(2, 2, 101, 200, device="D2", corrects=1))) == [
        Risk.DOUBLE_ISSUANCE
    ]


def test_double_in_transfer_from_an_account_that_does_not_hold_the_bundle() -> None:
    actions = history(issue(1, 1, 1, 100), transfer(1, "A", "B"), transfer(1, "A", "C"))
    assert risks(actions) == [Risk.DOUBLE_IN_TRANSFER]


def test_double_in_transfer_of_a_superseded_or_unknown_bundle() -> None:
    actions = history(
        issue(1, 1, 1, 100), split(1, (2, 1, 50), (3, 51, 100)), transfer(1, "A", "B")
    )
    assert risks(actions) == [Risk.DOUBLE_IN_TRANSFER]
    assert risks(history(transfer(7, "A", "B"))) == [Risk.DOUBLE_IN_TRANSFER]


def test_double_in_transfer_of_a_cancelled_bundle() -> None:
    actions = history(issue(1, 1, 1, 100), cancel(1), transfer(1, "A", "B"))
    assert risks(actions) == [Risk.DOUBLE_IN_TRANSFER]


def test_double_in_transfer_seen_in_the_state_two_bundles_holding_one_certificate() -> None:
    actions = history(issue(1, 1, 1, 100))
    state = {"bundles": [plain_bundle(1, 1, 1, 100), plain_bundle(9, 1, 50, 60, "B")]}
    assert Risk.DOUBLE_IN_TRANSFER in risks(actions, state)


def test_double_registration_of_certificate_ids() -> None:
    actions = history(issue(1, 1, 1, 100), issue(2, 2, 50, 150, hour=11))
    assert risks(actions) == [Risk.DOUBLE_REGISTRATION]


def test_double_registration_reusing_withdrawn_ids() -> None:
    actions = history(
        issue(1, 1, 1, 100), status(1, "ACTIVE", "WITHDRAWN"), issue(2, 2, 1, 100, hour=11)
    )
    assert risks(actions) == [Risk.DOUBLE_REGISTRATION]


def test_double_registration_of_issuance_and_bundle_ids() -> None:
    # the reused issuance ID also leaves the first issuance's certificates unaccounted for
    assert risks(history(issue(1, 1, 1, 100), issue(1, 2, 101, 200, hour=11))) == [
        Risk.DOUBLE_REGISTRATION,
        Risk.CONSERVATION,
    ]
    assert risks(history(issue(1, 1, 1, 100), issue(2, 1, 101, 200, hour=11))) == [
        Risk.DOUBLE_REGISTRATION,
        Risk.CONSERVATION,  # issuance 1 lost its only bundle to the reused ID
    ]
    # a split child re-using its parent's (or any ancestor's) ID must not hang the checker
    assert risks(history(issue(1, 1, 1, 100), split(1, (1, 1, 50), (2, 51, 100)))) == [
        Risk.DOUBLE_REGISTRATION,
        Risk.CONSERVATION,
    ]
    cycle = history(
        issue(1, 1, 1, 100),
        split(1, (2, 1, 50), (3, 51, 100)),
        split(2, (1, 1, 25), (4, 26, 50)),
    )
    assert risks(cycle) == [Risk.DOUBLE_REGISTRATION, Risk.CONSERVATION]


def test_double_cancellation() -> None:
    actions = history(
        issue(1, 1, 1, 100),
        cancel(1),
        status(1, "CANCELLED", "CANCELLED", beneficiary="X", purpose="CONSUMPTION"),
    )
    assert risks(actions) == [Risk.DOUBLE_CANCELLATION]


def test_cancelling_a_superseded_bundle_is_double_cancellation() -> None:
    actions = history(
        issue(1, 1, 1, 100), [split(1, (2, 1, 50), (3, 51, 100)), cancel(2)], cancel(1)
    )
    assert risks(actions) == [Risk.DOUBLE_CANCELLATION]


def test_double_use_claiming_twice() -> None:
    actions = history(issue(1, 1, 1, 100), cancel(1), claim(1), claim(1, old="CLAIMED"))
    assert risks(actions) == [Risk.DOUBLE_USE]


def test_double_use_claiming_without_cancelling() -> None:
    actions = history(issue(1, 1, 1, 100), claim(1, old="ACTIVE"))
    assert risks(actions) == [Risk.DOUBLE_USE]


def test_double_disclosure_by_a_claimant_other_than_the_beneficiary() -> None:
    actions = history(issue(1, 1, 1, 100), cancel(1, "Acme"), claim(1, "Other Corp"))
    assert risks(actions) == [Risk.DOUBLE_DISCLOSURE]


def test_double_disclosure_claiming_after_storage_charge_cancellation() -> None:
    actions = history(
        issue(1, 1, 1, 100),
        cancel(1, "Battery", "STORAGE_CHARGE"),
        claim(1, "Battery", old="CANCELLED_FOR_STORAGE"),
    )
    assert risks(actions) == [Risk.DOUBLE_DISCLOSURE]


def test_conservation_when_a_split_does_not_partition_its_parent() -> None:
    assert Risk.CONSERVATION in risks(
        history(issue(1, 1, 1, 100), split(1, (2, 1, 40), (3, 51, 100)))
    )
    assert Risk.CONSERVATION in risks(
        history(issue(1, 1, 1, 100), split(1, (2, 1, 60), (3, 41, 100)))
    )
    # found at the split, and again when the issuance is totalled
    assert risks(history(issue(1, 1, 1, 100), split(1, (2, 1, 40), (3, 41, 90)))) == [
        Risk.CONSERVATION,
        Risk.CONSERVATION,
    ]


def test_conservation_of_an_empty_issuance() -> None:
    assert risks(history(issue(1, 1, 10, 9))) == [Risk.CONSERVATION]


def test_state_mismatch_missing_extra_or_different_bundles() -> None:
    actions = history(issue(1, 1, 1, 100), transfer(1, "A", "B"))
    assert risks(actions, {"bundles": [plain_bundle(1, 1, 1, 100, "B")]}) == []
    assert risks(actions, {"bundles": []}) == [Risk.STATE_MISMATCH]
    assert risks(actions, {"bundles": [plain_bundle(1, 1, 1, 100, "A")]}) == [Risk.STATE_MISMATCH]
    assert risks(actions, {"bundles": [plain_bundle(1, 1, 1, 100, "B", "CANCELLED")]}) == [
        Risk.STATE_MISMATCH
    ]
    extra = {"bundles": [plain_bundle(1, 1, 1, 100, "B"), plain_bundle(5, 1, 500, 600, "B")]}
    assert risks(actions, extra) == [Risk.STATE_MISMATCH]
    twice = {"bundles": [plain_bundle(1, 1, 1, 100, "B"), plain_bundle(1, 1, 1, 100, "B")]}
    assert Risk.STATE_MISMATCH in risks(actions, twice)


@pytest.mark.parametrize(
    "entry",
    [
        {"action_id": 1, "accepted": True, "effects": [{"effect": "teleport", "bundle_id": 1}]},
        {"action_id": 1, "accepted": True, "effects": [{"effect": "issue", "issuance_id": 1}]},
        {"action_id": 1, "accepted": True, "effects": [{"effect": "transfer"}]},
        {
            "action_id": 1,
            "accepted": True,
            "effects": [
                {
                    "effect": "issue",
                    "issuance_id": 1,
                    "bundle_id": 1,
                    "range_start": "x",
                    "range_end": 3,
                }
            ],
        },
        {"action_id": 1, "accepted": True, "effects": None},
        {
            "action_id": 1,
            "accepted": True,
            "at": AT,
            "effects": [{**issue(1, 1, 1, 5), "production_end": "2024-03-01T10:14:95Z"}],
        },
        "not even a mapping",
    ],
)
def test_malformed_entries_are_findings_not_crashes(entry: Any) -> None:
    assert risks([entry]) == [Risk.MALFORMED_HISTORY]


def test_findings_carry_the_action_and_bundle() -> None:
    report = check_invariants(history(issue(1, 1, 1, 100), cancel(1), cancel(1)))
    (finding,) = report.findings
    assert (finding.risk, finding.action_id, finding.bundle_id) == (Risk.DOUBLE_CANCELLATION, 3, 1)
    assert finding.to_plain()["risk"] == "DOUBLE_CANCELLATION"
    assert report.by_risk(Risk.DOUBLE_CANCELLATION) == [finding]
    assert not report.ok


# ---------------------------------------------------------------- on a real registry


def test_a_full_lifecycle_of_the_reference_registry_is_clean() -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.produce("2024-03-01T11:00:00Z", 1000)
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 400))  # 3 sold, 4 kept
    world.ok(Cancel(BOB, 3, "Acme", quantity=250))  # 5 cancelled, 6 active
    world.ok(Claim(BOB, 5, "Acme", quantity=100))  # 7 claimed, 8 cancelled
    world.ok(Reserve(ALICE, 4, 50))  # 9 reserved, 10 active
    world.ok(Withdraw(ISSUER, 10, "fault", 10))  # 11 withdrawn, 12 active
    world.ok(
        CorrectProduction(ISSUER, "DEV-WIND", "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 1500)
    )
    world.ok(
        CorrectProduction(ISSUER, "DEV-WIND", "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z", 100)
    )
    assert not world.do(Transfer(BOB, 8, SUPPLIER_ACCOUNT)).accepted  # cancelled
    world.ok(Expire(ISSUER), now="2025-01-01T00:00:00Z")
    report = check_invariants(world.registry.export_history(), world.registry.export_state())
    assert report.ok, report.findings
    assert report.actions_checked == len(world.registry.history)


def test_a_tampered_registry_history_is_caught() -> None:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)
    world.ok(Cancel(ALICE, 1, "Acme"))
    plain = world.registry.export_history()
    plain.append(
        {
            "action_id": 999,
            "accepted": True,
            "effects": [claim(1, "Acme"), claim(1, "Acme", old="CLAIMED")],
        }
    )
    assert Risk.DOUBLE_USE in risks(plain)


def test_plain_forms_of_records_use_the_wire_formats() -> None:
    from gc_conformance.reference import bundle_to_plain, issuance_to_plain
    from gc_conformance.reference.lineage import lineage_of

    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000, now="2024-03-02T00:00:00Z")
    world.ok(Cancel(ALICE, 1, "Acme", quantity=10))
    record = world.registry.export_history()[-1]
    assert record["action"] == "cancel"
    assert record["at"] == "2024-03-02T00:00:00Z"
    assert record["accepted"] is True and record["code"] is None
    assert [e["effect"] for e in record["effects"]] == ["split", "status"]
    plain = bundle_to_plain(world.bundle(2))
    assert plain["certificate_bundle_status"] == "CANCELLED"
    assert plain["beneficiary"] == "Acme"
    assert plain["cancellation_purpose"] == "CONSUMPTION"
    assert plain["bundle_quantity"] == 10
    attributes = issuance_to_plain(world.registry.issuance(1))  # type: ignore[arg-type]
    assert attributes["production_start"] == "2024-03-01T10:00:00Z"
    assert attributes["issuance_date"] == "2024-03-02"
    assert attributes["device_location"]["country"] == "NL"
    graph = check_invariants(world.registry.export_history()).graph
    sub = lineage_of(graph, 2)
    assert set(sub.nodes) == {
        ("issuance", 1),
        ("bundle", 1),
        ("bundle", 2),
        ("bundle", 3),
        ("outcome", 2, "CANCELLED"),
    }
