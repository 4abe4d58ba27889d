"""The labelled state difference of atomicity failures (conformance/statediff.py)."""

from __future__ import annotations

from typing import Any

from gc_conformance.session import canonical_state
from gc_conformance.statediff import atomicity_failure, describe_bundle, state_diff


def _bundle(start: int, quantity: int, account: str = "ACC-ALICE", **extra: Any) -> dict[str, Any]:
    return {
        "bundle_id": f"B{start}",
        "device_id": "DEV-WIND",
        "production_starting_interval": "2024-03-01T00:00:00Z",
        "certificate_bundle_id_range_start": 1000 + start,
        "certificate_bundle_id_range_end": 1000 + start + quantity - 1,
        "bundle_quantity": quantity,
        "account_id": account,
        "certificate_bundle_status": "ACTIVE",
        **extra,
    }


def _snapshot(bundles: list[dict[str, Any]], accounts: list[str]) -> tuple[Any, ...]:
    state = {"accounts": [{"account_id": a} for a in accounts], "bundles": bundles}
    return (*canonical_state(state), None)


WHOLE = _snapshot([_bundle(0, 10)], ["ACC-ALICE", "ACC-BOB"])
SPLIT = _snapshot([_bundle(0, 3), _bundle(3, 7)], ["ACC-ALICE", "ACC-BOB"])
REFUSED_STEP = {
    "number": 8,
    "request": {"action": "transfer", "actor": "alice", "bundle_id": "B0", "quantity": 3},
    "answer": {"accepted": False, "code": "UNKNOWN_ACCOUNT", "message": "no such account"},
    "expectation": "reject UNKNOWN_ACCOUNT",
}


def test_a_bundle_reads_like_the_differential_checks_format() -> None:
    (bundle,) = canonical_state({"accounts": [], "bundles": [_bundle(0, 10)]})[1]
    assert describe_bundle(bundle) == (
        "DEV-WIND 2024-03-01T00:00:00Z certificates +0..+9 (10) ACC-ALICE ACTIVE"
    )
    (claimed,) = canonical_state(
        {"accounts": [], "bundles": [_bundle(0, 1, beneficiary="Acme", claimant="Acme")]}
    )[1]
    assert describe_bundle(claimed).endswith("ACTIVE for Acme claimed by Acme")


def test_a_refused_split_names_the_step_and_lists_removed_added_and_accounts() -> None:
    message, expected, observed = atomicity_failure(
        WHOLE, SPLIT, "the refused transfer", REFUSED_STEP
    )
    assert message.startswith("step 8: the refused transfer changed the registry's state")
    assert expected == "state unchanged by step 8 (transfer by alice, refused UNKNOWN_ACCOUNT)"
    lines = observed.splitlines()
    assert lines[0] == "after step 8 (transfer by alice, refused UNKNOWN_ACCOUNT):"
    assert lines[1] == (
        "bundles removed (1): DEV-WIND 2024-03-01T00:00:00Z certificates +0..+9 (10) ACC-ALICE ACTIVE"
    )
    assert lines[2] == (
        "bundles added (2): DEV-WIND 2024-03-01T00:00:00Z certificates +0..+2 (3) ACC-ALICE ACTIVE; "
        "DEV-WIND 2024-03-01T00:00:00Z certificates +3..+9 (7) ACC-ALICE ACTIVE"
    )
    assert lines[3] == "accounts: unchanged (ACC-ALICE, ACC-BOB)"


def test_accounts_and_eacs_are_part_of_the_difference() -> None:
    opened = _snapshot([_bundle(0, 10)], ["ACC-ALICE", "ACC-BOB", "ACC-EVE"])
    assert state_diff(WHOLE, opened) == ["bundles: unchanged", "accounts: added ACC-EVE"]
    with_eacs = (*WHOLE[:2], ("eac-1",))
    assert state_diff(WHOLE, with_eacs)[-1].startswith("EACs: changed")


def test_a_failed_step_is_named_as_failed_in_the_adapter() -> None:
    step = {**REFUSED_STEP, "answer": None}
    _, _, observed = atomicity_failure(WHOLE, SPLIT, "a request that failed in the adapter", step)
    assert observed.startswith("after step 8 (transfer by alice, failed in the adapter):")


def test_a_caller_that_already_names_the_step_is_not_prefixed_twice() -> None:
    message, _, _ = atomicity_failure(
        WHOLE, SPLIT, "step 8 (transfer): the refused request", REFUSED_STEP
    )
    assert message.startswith("step 8 (transfer): the refused request changed the registry's state")
