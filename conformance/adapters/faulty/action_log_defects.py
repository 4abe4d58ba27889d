"""Faulty registries whose defect sits in the D9 action log ([API]): the requests are decided
right, but what the log says about them is wrong. Both break only IT-006, a SHOULD: the
suite must show the deviation (a failed SHOULD check) without calling the registry
non-conformant."""

from collections.abc import Mapping
from typing import Any

from gc_conformance.adapters.faulty._base import FaultyAdapter


class RefusalLoggedAccepted(FaultyAdapter):
    """A refused request's action record says it was accepted.

    The registry stores each call as "accepted" when it arrives and updates the
    record only when the request succeeds, so a request refused by validation
    keeps the status it was stored with. The answer to the request is right;
    anyone tracing the action later reads the opposite.

    Breaks IT-006 (an action reads back with the outcome its answer gave).
    """

    fault = "refusal-logged-accepted"
    description = "a refused request's action record reads back as accepted"
    breaks = ("IT-006",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        if request.get("action") == "query_action" and answer.get("accepted"):
            result = dict(answer.get("result", {}))
            if result.get("action_response_status") == "rejected":
                result.update(action_response_status="accepted", code=None, field=None)
                return {**answer, "result": result}
        return answer


class RefusalReusesNextActionId(FaultyAdapter):
    """A refused request is answered under the ID the next accepted request will take.

    The registry's action counter advances only when a request is committed, so a
    refusal is numbered with the counter's current value, and the next accepted
    request gets the same number: two requests share one action ID, and reading
    it back gives the accepted one.

    Breaks IT-006 (each answered request has an action ID of its own).
    """

    fault = "refusal-reuses-next-action-id"
    description = "a refused request's action ID is the one the next accepted request takes"
    breaks = ("IT-006",)

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = super().execute(request)
        action_id = answer.get("action_id")
        if answer.get("accepted") or not isinstance(action_id, str) or not action_id.isdigit():
            return answer
        # The refusal took the log's next number; the next commit gets it again.
        registry = self.registry
        following = len(registry.history) + 1  # the number the next action takes
        return {**answer, "action_id": str(following)}
