"""D9 action records ([API]): every answered request has a stable ID and a resolved record."""

from __future__ import annotations

import datetime as dt

import pytest
from core_builders import ALICE, BOB, SUPPLIER_ACCOUNT, World

from gc_conformance.reference import (
    ActionState,
    ActionStatus,
    Cancel,
    ErrorCode,
    IllegalTransition,
    Problem,
    Query,
    ResponseStatus,
    Transfer,
)
from gc_conformance.reference.actions import advance

AT = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)


def test_the_lifecycle_moves_one_step_at_a_time_and_ends_at_resolved() -> None:
    assert advance(ActionState.RECEIVED, ActionState.PENDING) is ActionState.PENDING
    assert advance(ActionState.PENDING, ActionState.RESOLVED) is ActionState.RESOLVED
    illegal = [
        (ActionState.RECEIVED, ActionState.RESOLVED),  # skipping pending
        (ActionState.RECEIVED, ActionState.RECEIVED),
        (ActionState.PENDING, ActionState.RECEIVED),  # back
        (ActionState.PENDING, ActionState.PENDING),
        *((ActionState.RESOLVED, to) for to in ActionState),  # resolved is final
    ]
    for state, to in illegal:
        with pytest.raises(IllegalTransition):
            advance(state, to)


def test_a_record_walks_received_pending_resolved_and_cannot_complete_before_its_request() -> None:
    received = ActionStatus.received(7, "transfer", ALICE, AT)
    assert (received.state, received.completed_at, received.accepted) == (
        ActionState.RECEIVED,
        None,
        None,
    )
    with pytest.raises(IllegalTransition):
        received.resolved(AT, None)  # pending skipped
    pending = received.pending()
    with pytest.raises(IllegalTransition):
        pending.pending()
    with pytest.raises(IllegalTransition):
        pending.resolved(AT - dt.timedelta(seconds=1), None)
    refused = pending.resolved(AT, Problem(ErrorCode.NOT_OWNER, "bundle_id", "not yours"))
    assert refused.state is ActionState.RESOLVED
    assert refused.response is ResponseStatus.REJECTED and refused.accepted is False
    with pytest.raises(IllegalTransition):
        refused.resolved(AT, None)
    assert refused.to_plain() == {
        "action_id": 7,
        "action": "transfer",
        "actor": ALICE,
        "action_state": "resolved",
        "action_request_datetime": "2024-03-01T12:00:00Z",
        "action_completed_datetime": "2024-03-01T12:00:00Z",
        "action_response_status": "rejected",
        "code": "NOT_OWNER",
        "field": "bundle_id",
    }


def test_every_accepted_and_refused_request_has_a_record_agreeing_with_the_history() -> None:
    world = World()
    world.produce(energy=1000)
    accepted = world.registry.execute(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 400), world.now)
    refused = world.registry.execute(Cancel(BOB, 1, BOB), world.now)  # bob holds nothing
    assert accepted.accepted and not refused.accepted
    history = world.registry.history
    ids = [record.action_id for record in history]
    assert ids == list(range(1, len(history) + 1))  # unique, stable, in order
    for record in history:
        status = world.registry.action(record.action_id)
        assert status is not None
        assert status == world.registry.action(record.action_id)  # the same every read
        assert status.action_id == record.action_id
        assert status.state is ActionState.RESOLVED
        assert status.requested_at == record.at == status.completed_at
        assert status.accepted is record.accepted
        assert status.problem == record.problem
        assert status.actor == record.actor
    by_outcome = world.registry.action(refused.action_id)
    assert by_outcome is not None and by_outcome.response is ResponseStatus.REJECTED
    assert by_outcome.problem is not None and by_outcome.problem.code is refused.code
    assert by_outcome.action == "cancel"
    transferred = world.registry.action(accepted.action_id)
    assert transferred is not None and transferred.response is ResponseStatus.ACCEPTED


def test_reads_are_not_actions_and_unknown_ids_have_no_record() -> None:
    world = World()
    world.produce(energy=10)
    logged = len(world.registry.history)
    assert world.registry.query(Query(ALICE)).accepted
    assert len(world.registry.history) == logged
    for unknown in (0, -1, logged + 1, "1", True, None, 1.0):
        assert world.registry.action(unknown) is None
