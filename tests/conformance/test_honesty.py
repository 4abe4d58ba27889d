"""No check can pass against a registry that does not work.

Registries that crash, answer garbage, refuse every write or accept every write
without doing anything are run through every check. A check that still passes
against one of them either verifies nothing or verifies only what such a
registry gets right by accident; each exception below says which and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from gc_conformance.adapter import Capabilities
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import all_checks
from gc_conformance.outcomes import Status
from gc_conformance.runner import RunOptions, execute_check

#: Judged on the declared capabilities alone: it needs no request to fail.
DECLARATION_ONLY = {"expiry.policy.declared"}


class Crashes(ReferenceAdapter):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        raise ConnectionError("registry down")


class AnswersGarbage(ReferenceAdapter):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"weird": 1}


class RefusesEveryWrite(ReferenceAdapter):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request["action"] == "query":
            return super().execute(request)
        return {"accepted": False, "code": "INVALID_FIELD", "message": "refused"}


class AcceptsEveryWriteDoingNothing(ReferenceAdapter):
    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request["action"] == "query":
            return super().execute(request)
        return {"accepted": True, "result": {}}


def _verdicts(adapter: ReferenceAdapter) -> dict[str, Status]:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    options = RunOptions(max_examples=5)
    return {
        c.check_id: execute_check(c, adapter, capabilities, options).status for c in all_checks()
    }


@pytest.mark.parametrize("broken", [Crashes, AnswersGarbage], ids=lambda c: c.__name__)
def test_a_registry_that_cannot_answer_gets_errors_never_passes(broken: type) -> None:
    verdicts = _verdicts(broken())
    passed = {c for c, s in verdicts.items() if s is Status.PASS}
    assert passed == DECLARATION_ONLY
    judged = {c for c, s in verdicts.items() if s is not Status.SKIP} - DECLARATION_ONLY
    assert judged and all(verdicts[c] is Status.ERROR for c in judged)


def test_a_registry_that_refuses_every_write_passes_nothing_that_needs_a_write() -> None:
    passed = {c for c, s in _verdicts(RefusesEveryWrite()).items() if s is Status.PASS}
    assert passed == DECLARATION_ONLY


def test_a_registry_that_accepts_every_write_and_does_nothing_passes_nothing_real() -> None:
    passed = {c for c, s in _verdicts(AcceptsEveryWriteDoingNothing()).items() if s is Status.PASS}
    # Accepting a 0 Wh reading and creating no bundle is right, whatever else is wrong.
    assert passed == DECLARATION_ONLY | {"core.issuance.zero_production_issues_nothing"}
