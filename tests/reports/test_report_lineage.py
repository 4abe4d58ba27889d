"""The certificate lineage graph rebuilt from steps, and its deterministic layout."""

from __future__ import annotations

import itertools
from typing import Any

from gc_conformance.reports.lineage import (
    MAX_NODES,
    build_lineage,
    draw_lineage,
    step_went_wrong,
)


def _step(
    number: int, request: dict[str, Any], result: dict[str, Any] | None, expectation: str = "accept"
) -> dict[str, Any]:
    answer = {"accepted": True, "result": result} if result is not None else None
    return {
        "number": number,
        "request": {"actor": "alice", "now": "2024-03-02T00:00:00Z", **request},
        "answer": answer,
        "expectation": expectation,
        "error": None if answer else "timeout",
    }


ISSUE = _step(
    1,
    {"action": "issue_bundle", "device_id": "DEV-1", "account_id": "ACC-A", "start": "S"},
    {"bundle_id": 1, "issuance_id": 7, "issued_wh": 1000},
)
SPLIT = _step(
    2,
    {"action": "transfer", "bundle_id": 1, "quantity": 300, "to_account": "ACC-B"},
    {"bundle_id": 2, "remainder_id": 3},
)
CANCEL_WHOLE = _step(
    3,
    {"action": "cancel", "bundle_id": 2, "beneficiary": "Acme"},
    {"bundle_id": 2, "remainder_id": None},
)
REFUSED = {
    "number": 4,
    "request": {"action": "withdraw", "bundle_id": 3, "quantity": 5, "actor": "x"},
    "answer": {"accepted": False, "code": "NOT_AUTHORISED", "message": "no"},
    "expectation": "reject NOT_AUTHORISED",
    "error": None,
}
WRONGLY_ACCEPTED = _step(
    5,
    {"action": "withdraw", "bundle_id": 3, "quantity": 100, "reason": "r"},
    {"bundle_id": 4, "remainder_id": 5},
    expectation="reject NOT_AUTHORISED",
)


def test_issuance_split_and_whole_cancellation_become_nodes_and_edges() -> None:
    graph = build_lineage([ISSUE, SPLIT, CANCEL_WHOLE, REFUSED])
    assert set(graph.edges) == {("I7", "B1"), ("B1", "B2"), ("B1", "B3")}
    assert graph.nodes["B1"]["quantity"] == 1000 and graph.nodes["B1"]["kind"] == "split"
    assert graph.nodes["B2"]["quantity"] == 300 and graph.nodes["B2"]["account"] == "ACC-B"
    assert graph.nodes["B2"]["kind"] == "cancelled"  # whole cancel: same ID, new state
    assert graph.nodes["B3"]["quantity"] == 700 and graph.nodes["B3"]["kind"] == "active"
    assert not any(data["wrong"] for _, data in graph.nodes(data=True))


def test_a_wrongly_accepted_step_is_drawn_and_marked() -> None:
    picture = draw_lineage([ISSUE, SPLIT, WRONGLY_ACCEPTED])
    assert picture is not None
    wrong = {box.node for box in picture.boxes if box.wrong}
    assert wrong == {"B4", "B5"}
    assert sum(link.wrong for link in picture.links) == 2
    assert any(not e.as_expected and "withdraw 100 Wh" in e.text for e in picture.events)


def test_expectations_are_read_as_the_harness_writes_them() -> None:
    assert not step_went_wrong(ISSUE)
    assert not step_went_wrong(REFUSED)
    assert step_went_wrong(WRONGLY_ACCEPTED)
    assert step_went_wrong(_step(9, {"action": "transfer"}, None))  # adapter error
    assert not step_went_wrong({**REFUSED, "expectation": "any"})
    assert not step_went_wrong({**ISSUE, "expectation": "accept or reject EXCEEDS_EAC_ENERGY"})


def test_no_certificate_no_picture() -> None:
    assert draw_lineage([REFUSED]) is None
    assert draw_lineage([_step(1, {"action": "open_account"}, {"entity_id": "A"})]) is None


def test_layout_is_deterministic_and_boxes_never_overlap() -> None:
    steps = [ISSUE, SPLIT, CANCEL_WHOLE, WRONGLY_ACCEPTED]
    first, second = draw_lineage(steps), draw_lineage([dict(s) for s in steps])
    assert first == second and first is not None
    for a, b in itertools.combinations(first.boxes, 2):
        assert a.x != b.x or abs(a.y - b.y) >= 50, (a.node, b.node)
    for box in first.boxes:
        assert box.x >= 0 and box.x + 210 <= first.width
        assert box.y >= 0 and box.y + 50 <= first.height
    columns = {box.node: box.x for box in first.boxes}
    assert columns["I7"] < columns["B1"] < columns["B2"] == columns["B3"] < columns["B4"]


def test_answers_that_contradict_each_other_still_give_a_finite_picture() -> None:
    """A registry reusing IDs can make a cycle (B1 -> B2 -> B1); the drawing must still end."""
    cycle = _step(
        3,
        {"action": "transfer", "bundle_id": 2, "quantity": 1, "to_account": "ACC-C"},
        {"bundle_id": 1, "remainder_id": 2},
    )
    picture = draw_lineage([ISSUE, SPLIT, cycle])
    assert picture is not None
    assert {box.node for box in picture.boxes} == {"I7", "B1", "B2", "B3"}


def test_a_huge_sequence_is_capped_and_says_how_much_is_left_out() -> None:
    steps = [ISSUE]
    parent = 1
    for number in range(2, 2 + MAX_NODES):
        child, rest = 2 * number, 2 * number + 1
        steps.append(
            _step(
                number,
                {"action": "transfer", "bundle_id": parent, "quantity": 1, "to_account": "B"},
                {"bundle_id": child, "remainder_id": rest},
            )
        )
        parent = rest
    picture = draw_lineage(steps)
    assert picture is not None
    assert len(picture.boxes) == MAX_NODES
    assert picture.omitted == len(build_lineage(steps)) - MAX_NODES > 0


def test_a_refused_step_that_changed_the_state_is_marked_not_drawn_as_untouched() -> None:
    refused = {**REFUSED, "number": 2, "request": {**REFUSED["request"], "bundle_id": 1}}
    plain = draw_lineage([ISSUE, refused])
    assert plain is not None and not any(box.wrong for box in plain.boxes)
    marked = draw_lineage([ISSUE, refused], changed_by=2)
    assert marked is not None
    (box,) = [b for b in marked.boxes if b.node == "B1"]
    assert box.wrong and box.lines[-1] == "changed by refused step 2"
    assert any(e.step == 2 and not e.as_expected for e in marked.events)
