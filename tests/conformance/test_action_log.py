"""The D9 action-log check (IT-006, SHOULD): its edges, its skips, and that it can fail."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from gc_conformance.adapter import (
    AdapterContractError,
    Capabilities,
    Profile,
    read_answer,
)
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.outcomes import CheckResult, Severity, SkipKind, Status
from gc_conformance.runner import RunOptions, execute_check
from gc_conformance.verdicts import Verdict, decide

CHECK = "action_log.answers_read_back_resolved"
Rewrite = Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]]


class Rewriting(ReferenceAdapter):
    """The reference, with every answer passed through ``rewrite(request, answer)``."""

    def __init__(self, rewrite: Rewrite, **capabilities: Any) -> None:
        super().__init__()
        self.rewrite = rewrite
        self.changes = capabilities

    def capabilities(self) -> Mapping[str, Any]:
        return {**super().capabilities(), **self.changes}

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.rewrite(request, dict(super().execute(request)))


def run(adapter: Any) -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(get_check(CHECK), adapter, capabilities, RunOptions())


def on_record(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A rewrite of the records query_action answers."""

    def rewrite(request: Mapping[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request.get("action") == "query_action" and answer.get("accepted"):
            record = dict(answer["result"])
            change(record)
            answer["result"] = record
        return answer

    return rewrite


def test_the_reference_passes() -> None:
    result = run(ReferenceAdapter())
    assert result.status is Status.PASS, result.message


def test_a_registry_not_claiming_the_profile_is_skipped_with_the_reason() -> None:
    profiles = [p.value for p in Profile if p not in (Profile.SECURITY, Profile.ACTION_LOG)]
    result = run(Rewriting(lambda _, answer: answer, profiles=profiles))
    assert result.status is Status.SKIP and "action-log" in result.message


def test_claiming_the_profile_without_query_action_is_not_applicable() -> None:
    reference = ReferenceAdapter()
    offered = [
        a
        for a in Capabilities.from_plain(reference.capabilities()).offered_actions
        if a != "query_action"
    ]
    result = run(Rewriting(lambda _, answer: answer, actions=sorted(offered)))
    assert result.status is Status.SKIP
    assert result.skip_kind is SkipKind.NOT_APPLICABLE and "query_action" in result.message


def drop_ids(request: Mapping[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    if not answer.get("accepted"):
        answer.pop("action_id", None)
    return answer


def same_id(request: Mapping[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    if "action_id" in answer:
        answer["action_id"] = "7"
    return answer


class Flipping(ReferenceAdapter):
    """Reads an action differently every second time."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = dict(super().execute(request))
        if request.get("action") == "query_action" and answer.get("accepted"):
            self.reads += 1
            if self.reads % 2 == 0:
                answer["result"] = {
                    **answer["result"],
                    "action_completed_datetime": "2099-01-01T00:00:00Z",
                }
        return answer


def refuse_reads(request: Mapping[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    if request.get("action") == "query_action":
        return {"accepted": False, "code": "INVALID_FIELD", "message": "no such action"}
    return answer


@pytest.mark.parametrize(
    ("adapter", "says"),
    [
        (Rewriting(drop_ids), "name no action ID"),
        (Rewriting(same_id), "share an action ID"),
        (Rewriting(on_record(lambda r: r.update(action_state="pending"))), "not resolved"),
        (Rewriting(on_record(lambda r: r.update(action_state="received"))), "not resolved"),
        (
            Rewriting(
                on_record(lambda r: r.update(action_completed_datetime="2000-01-01T00:00:00Z"))
            ),
            "completed before it was requested",
        ),
        (
            Rewriting(on_record(lambda r: r.update(action_request_datetime="yesterday"))),
            "not a UTC date-time",
        ),
        (
            Rewriting(on_record(lambda r: r.update(code="NOT_AUTHORISED") if r["code"] else None)),
            "its record names NOT_AUTHORISED",
        ),
        (Rewriting(on_record(lambda r: r.update(action_id="1"))), "record of another action"),
        (Rewriting(refuse_reads), "could not be read back"),
        (Flipping(), "differently the second time"),
    ],
)
def test_each_broken_log_fails_the_check_as_a_should(adapter: Any, says: str) -> None:
    result = run(adapter)
    assert result.status is Status.FAIL, result.message
    assert says in result.message
    assert result.severity is Severity.MINOR
    # IT-006 is a SHOULD: the run's verdict is not a FAIL because of it.
    assert decide([result.to_plain()], shall=frozenset()) is Verdict.PASS


def test_an_answer_whose_action_id_is_not_an_id_is_outside_the_contract() -> None:
    for bad in (True, "", 1.5, ["1"]):
        with pytest.raises(AdapterContractError, match=r"answer\.action_id"):
            read_answer(None, {"accepted": True, "result": {}, "action_id": bad})
    assert read_answer(None, {"accepted": False, "code": "X", "action_id": 3}).action_id == 3
    plain = read_answer(None, {"accepted": True, "result": {}}).to_plain()
    assert "action_id" not in plain  # answers without one keep their old shape


def test_the_eac_registry_beside_a_linked_registry_keeps_its_own_log() -> None:
    adapter = ReferenceAdapter()
    adapter.reset({"issuer": {"issuer_id": "ISSUER"}, "configuration": 2})
    now = "2024-03-01T00:00:00Z"
    opened = adapter.execute(
        {
            "action": "eac_open_account",
            "actor": "EIB",
            "now": now,
            "account_id": "E1",
            "holder_id": "alice",
        }
    )
    gc = adapter.execute(
        {
            "action": "open_account",
            "actor": "ISSUER",
            "now": now,
            "account": {"account_id": "A1", "holder_id": "alice", "account_name": "a"},
        }
    )
    assert opened["accepted"] and gc["accepted"], (opened, gc)
    assert opened["action_id"].startswith("EAC-") and opened["action_id"] != gc["action_id"]

    def read(actor: str, action_id: str) -> Mapping[str, Any]:
        return adapter.execute(
            {"action": "query_action", "actor": actor, "now": now, "action_id": action_id}
        )

    record = read("EIB", opened["action_id"])
    assert record["accepted"] and record["result"]["action"] == "eac_open_account", record
    assert read("ISSUER", opened["action_id"])["accepted"]
    assert not read("bob", opened["action_id"])["accepted"]  # not bob's action
    assert not read("ISSUER", "EAC-999")["accepted"]
    assert read("ISSUER", gc["action_id"])["result"]["action"] == "open_account"
