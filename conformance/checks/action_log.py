"""The D9 action log ([API]): every answered request is traceable by its action ID.

The API specification that accompanies the standard stores each call when it
arrives and updates it from received through pending to resolved, in a log keyed
by an action ID; its answer states the request and completion instants and
whether it was accepted or rejected. The standard is neutral on IT architecture,
so this is a SHOULD (IT-006), held only against a registry that claims the
``action-log`` profile (and offers ``query_action``); a failure here is a
deviation from a recommendation, never a SHALL verdict.

The check reads back only the actions it caused itself, by the IDs the answers
gave: it never assumes a numbering, a format or that IDs are dense.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from gc_conformance.adapter import Answer, Profile
from gc_conformance.checks import check
from gc_conformance.checks.core import alice_issues
from gc_conformance.outcomes import Severity
from gc_conformance.session import CheckFailed, Session, WrongVerdict

MINOR = Severity.MINOR
#: The record fields the check reads (the API specification's names, plus the state).
STATE, STATUS = "action_state", "action_response_status"
REQUESTED, COMPLETED = "action_request_datetime", "action_completed_datetime"


def _instant(record: Mapping[str, Any], field: str, action_id: object) -> _dt.datetime:
    value = record.get(field)
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError
    except ValueError:
        raise CheckFailed(
            f"action {action_id!r}: {field} is not a UTC date-time",
            expected=f"{field}: an ISO 8601 instant with its offset",
            observed=repr(value),
            severity=MINOR,
        ) from None
    return moment


def _read(s: Session, actor: str, action_id: object) -> dict[str, Any]:
    """The record of ``action_id`` as ``actor`` reads it; a refusal is a failure."""
    answer = s.send("query_action", actor, expectation="accept", action_id=action_id)
    if not answer.accepted:
        raise CheckFailed(
            f"the action {action_id!r} an answer gave could not be read back",
            expected="query_action accepted with the action's record",
            observed=f"rejected {answer.code}: {answer.message}",
            severity=MINOR,
        )
    return dict(answer.result)


def _judge(s: Session, actor: str, answer: Answer) -> None:
    """The answer's action reads back, resolved, with the outcome and code the answer gave."""
    action_id = answer.action_id
    record = _read(s, actor, action_id)
    if str(record.get("action_id", action_id)) != str(action_id):
        raise CheckFailed(
            f"reading action {action_id!r} gave the record of another action",
            expected=f"action_id {action_id!r}",
            observed=repr(record.get("action_id")),
            severity=MINOR,
        )
    state = str(record.get(STATE, "")).lower()
    if state != "resolved":
        raise CheckFailed(
            f"action {action_id!r} was answered but its record is not resolved",
            expected=f"{STATE}: resolved (the registry already gave its answer)",
            observed=f"{STATE}: {record.get(STATE)!r}",
            severity=MINOR,
        )
    told = "accepted" if answer.accepted else "rejected"
    status = str(record.get(STATUS, "")).lower()
    if status != told:
        raise CheckFailed(
            f"action {action_id!r} was {told}, but its record says {record.get(STATUS)!r}",
            expected=f"{STATUS}: {told}",
            observed=f"{STATUS}: {record.get(STATUS)!r}",
            severity=MINOR,
        )
    code = record.get("code")
    if not answer.accepted and code is not None and answer.code and code != answer.code:
        raise CheckFailed(
            f"action {action_id!r} was refused with {answer.code}, its record names {code}",
            expected=f"code {answer.code}",
            observed=f"code {code}",
            severity=MINOR,
        )
    requested = _instant(record, REQUESTED, action_id)
    completed = _instant(record, COMPLETED, action_id)
    if completed < requested:
        raise CheckFailed(
            f"action {action_id!r} completed before it was requested",
            expected=f"{REQUESTED} <= {COMPLETED}",
            observed=f"{record.get(REQUESTED)} > {record.get(COMPLETED)}",
            severity=MINOR,
        )
    again = _read(s, actor, action_id)
    if again != record:
        raise CheckFailed(
            f"action {action_id!r} reads back differently the second time",
            expected=repr(record),
            observed=repr(again),
            severity=MINOR,
        )


def _sent(s: Session, action: str, actor: str, *, accept: bool, **fields: Any) -> Answer:
    """Send a request whose verdict the standard fixes (the verdict itself is judged by the
    SHALL checks of its rule; here a wrong one only means the scenario cannot go on)."""
    answer = s.send(action, actor, expectation="accept" if accept else "reject", **fields)
    if answer.accepted is not accept:
        raise WrongVerdict(
            f"{action} was {'refused' if accept else 'accepted'}: the scenario cannot go on",
            expected="accepted" if accept else "rejected",
            observed=f"rejected {answer.code}" if not answer.accepted else "accepted",
            severity=MINOR,
        )
    return answer


@check(
    "action_log.answers_read_back_resolved",
    requirements=["IT-006"],
    profile=Profile.ACTION_LOG,
)
def answers_read_back_resolved(s: Session) -> None:
    """Each accepted and refused request's action ID reads back as its resolved record.

    Two partial transfers are accepted and two requests are refused (a transfer
    by a party that does not hold the bundle, a transfer of more certificates
    than the bundle has). Every answer must name its action; the IDs differ;
    each ID, read back by the party that sent the request, gives a resolved
    record with the answer's outcome (and refusal code, when it names one), a
    request instant no later than its completion instant, and the same record
    when read a second time.
    """
    s.require_action("query_action")
    w = s.world()
    bundle, issued = alice_issues(s, w, 1000)
    to_bob = {"bundle_id": bundle, "to_account": w.account(w.bob)}
    requests: list[tuple[str, bool, dict[str, Any]]] = [
        (w.bob, False, to_bob),  # not the holder
        (w.alice, False, {**to_bob, "quantity": issued["bundle_quantity"] + 1}),  # over-asks
        (w.alice, True, {**to_bob, "quantity": 100}),
    ]
    answers = [
        (actor, _sent(s, "transfer", actor, accept=accept, **fields))
        for actor, accept, fields in requests
    ]
    remainder = answers[-1][1].result.get("remainder_id")
    if remainder is not None:
        to_carol = {"bundle_id": remainder, "to_account": w.account(w.carol), "quantity": 50}
        answers.append((w.alice, _sent(s, "transfer", w.alice, accept=True, **to_carol)))
    missing = [a.to_plain() for _, a in answers if a.action_id is None]
    if missing:
        raise CheckFailed(
            f"{len(missing)} of {len(answers)} answers name no action ID",
            expected="every accepted and refused answer carries its action_id",
            observed=repr(missing[0]),
            severity=MINOR,
        )
    ids = [str(a.action_id) for _, a in answers]
    if len(set(ids)) != len(ids):
        raise CheckFailed(
            "two answers share an action ID",
            expected="one action ID per request",
            observed=", ".join(ids),
            severity=MINOR,
        )
    found = s.deviations()
    for actor, answer in answers:
        with found.step():
            _judge(s, actor, answer)
    found.judge()
