"""The certificate lineage of a check's step sequence, as a networkx graph and an SVG layout.

A failing sequence is easier to judge as a picture: which issuance a bundle
came from, where it was split, who received which part and what was
cancelled. The graph is rebuilt from the recorded steps only — the requests
the suite sent and the answers the registry gave — so it shows what the
registry *said* happened, including a wrong acceptance (marked). Nothing here
knows the reference model; an action it does not recognise is simply not
drawn (the step table beside the picture lists every step).

Nodes are issuances (roots) and bundles; an edge goes from an issuance to the
bundle it created, and from a bundle to each part a split made of it. The
layout is a tidy tree: leaves take successive rows in creation order, a parent
sits at the mean row of its children, columns are depths. No randomness, so
the same steps always give the same coordinates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import networkx as nx

#: Actions that act on (part of) one bundle; the answer names the part acted on and the rest.
SPLITTING_ACTIONS = {
    "transfer": "transferred",
    "cancel": "cancelled",
    "cancel_for_charge": "cancelled for storage charge",
    "claim": "claimed",
    "withdraw": "withdrawn",
    "reserve": "reserved",
    "release": "released",
}
#: Actions whose answer carries one new bundle of a new issuance.
SINGLE_ISSUANCE_ACTIONS = ("submit_production", "issue_bundle", "issue_storage_gc")
#: Actions whose answer carries lists of new bundles and issuances.
MULTI_ISSUANCE_ACTIONS = ("issue_linked_gcs", "convert_eacs", "issue_from_cancelled_eacs")

#: Box fill per node kind (the state a bundle was last left in); the legend names each.
KIND_FILL = {
    "issuance": "#ddf4ff",
    "active": "#ffffff",
    "split": "#eaeef2",
    "transferred": "#dafbe1",
    "cancelled": "#fbefff",
    "cancelled for storage charge": "#fbefff",
    "claimed": "#ffe3f1",
    "withdrawn": "#fff1e5",
    "reserved": "#fff8c5",
    "released": "#ffffff",
    "expired": "#d0d7de",
}

MAX_NODES = 80  # a larger picture stops being readable; the rest is listed as text
NODE_WIDTH, NODE_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 210, 50, 46, 14, 10
LABEL_CHARS = 32


@attrs.frozen
class Event:
    """One lineage fact, in step order, for the text version beside the picture."""

    step: int
    text: str
    as_expected: bool


@attrs.frozen
class Box:
    node: str
    x: int
    y: int
    lines: tuple[str, ...]
    title: str  # full, untruncated description (tooltip)
    kind: str  # "issuance" or a bundle state: active, transferred, cancelled, ...
    wrong: bool  # created or changed by a step whose answer was not the expected one


@attrs.frozen
class Link:
    path: str  # SVG path data
    wrong: bool


@attrs.frozen
class LineagePicture:
    width: int
    height: int
    boxes: tuple[Box, ...]
    links: tuple[Link, ...]
    events: tuple[Event, ...]
    omitted: int  # nodes not drawn because of MAX_NODES


def step_went_wrong(step: Mapping[str, Any]) -> bool:
    """Whether the registry's answer contradicts the step's expectation (or there was none)."""
    answer = step.get("answer")
    if not isinstance(answer, Mapping):
        return True
    expectation = str(step.get("expectation", "any"))
    if expectation == "accept":
        return not answer.get("accepted")
    if expectation.startswith("reject"):
        return bool(answer.get("accepted"))
    return False  # "any", "accept or reject ...": every answer is allowed


def build_lineage(
    steps: Iterable[Mapping[str, Any]], *, changed_by: int | None = None
) -> nx.DiGraph:
    """The lineage graph of the accepted steps; node and edge attributes carry the labels.

    ``changed_by`` is the step a check found to have changed the registry's state
    although it was refused or failed: its answer says nothing was done, so the
    bundle it named is marked (red, "changed by refused step N") rather than drawn
    as untouched, and the drawing never contradicts what was observed.
    """
    graph: nx.DiGraph = nx.DiGraph()
    device_accounts: dict[str, str] = {}
    order = 0

    def add(node: str, **attributes: Any) -> None:
        nonlocal order
        if node not in graph:
            graph.add_node(node, order=order, events=[], **{"wrong": False, **attributes})
            order += 1
        else:
            graph.nodes[node].update(attributes)

    for step in steps:
        request = step.get("request") or {}
        answer = step.get("answer")
        if changed_by is not None and step.get("number") == changed_by:
            _mark_changed(graph, add, request, changed_by, answer)
        if not isinstance(answer, Mapping) or not answer.get("accepted"):
            continue
        result = answer.get("result") or {}
        if not isinstance(result, Mapping):
            continue
        number = int(step.get("number", 0))
        wrong = step_went_wrong(step)
        action = str(request.get("action", ""))
        if action == "register_device" and isinstance(request.get("device"), Mapping):
            device = request["device"]
            device_accounts[str(device.get("device_id"))] = str(device.get("account_id", ""))
        elif action in SINGLE_ISSUANCE_ACTIONS and "bundle_id" in result:
            account = request.get("account_id") or device_accounts.get(
                str(request.get("device_id", "")), ""
            )
            _single_issuance(graph, add, request, result, number, wrong, action, account)
        elif action in MULTI_ISSUANCE_ACTIONS:
            _multi_issuance(graph, add, request, result, number, wrong, action)
        elif action in SPLITTING_ACTIONS and "bundle_id" in request:
            _split(graph, add, request, result, number, wrong, action)
        elif action == "expire":
            for bundle_id in result.get("expired") or []:
                node = f"B{bundle_id}"
                if node in graph:
                    graph.nodes[node].update(kind="expired")
                    graph.nodes[node]["events"].append(Event(number, "expired", not wrong))
    return graph


def _single_issuance(
    graph: nx.DiGraph,
    add: Any,
    request: Mapping[str, Any],
    result: Mapping[str, Any],
    number: int,
    wrong: bool,
    action: str,
    account: str,
) -> None:
    """An issuance node and the one bundle it made (a production submission or a bundle)."""
    issuance = f"I{result.get('issuance_id', result['bundle_id'])}"
    quantity = result.get("issued_wh", result.get("quantity", request.get("quantity")))
    device = str(request.get("device_id", ""))
    add(
        issuance,
        kind="issuance",
        label=f"issuance {result.get('issuance_id', '?')}",
        detail=f"{device} {request.get('start', '')}".strip(),
        step=number,
        wrong=wrong,
    )
    bundle = f"B{result['bundle_id']}"
    add(bundle, kind="active", label=f"bundle {result['bundle_id']}", quantity=quantity)
    graph.nodes[bundle].update(account=account, step=number, wrong=wrong)
    graph.add_edge(issuance, bundle, step=number, wrong=wrong)
    issued = f" {quantity} Wh" if quantity is not None else ""
    graph.nodes[bundle]["events"].append(Event(number, f"issued{issued} ({action})", not wrong))


def _multi_issuance(
    graph: nx.DiGraph,
    add: Any,
    request: Mapping[str, Any],
    result: Mapping[str, Any],
    number: int,
    wrong: bool,
    action: str,
) -> None:
    """One issuance node per bundle of an action that issues several (linked configurations)."""
    bundles = result.get("bundle_ids") or []
    issuances = result.get("issuance_ids") or []
    for index, bundle_id in enumerate(bundles):
        issuance_id = issuances[index] if index < len(issuances) else bundle_id
        issuance = f"I{issuance_id}"
        add(issuance, kind="issuance", label=f"issuance {issuance_id}", detail=action)
        graph.nodes[issuance].update(step=number, wrong=wrong)
        bundle = f"B{bundle_id}"
        add(bundle, kind="active", label=f"bundle {bundle_id}", quantity=None)
        graph.nodes[bundle].update(account=request.get("account_id", ""), step=number, wrong=wrong)
        graph.add_edge(issuance, bundle, step=number, wrong=wrong)


def _mark_changed(
    graph: nx.DiGraph, add: Any, request: Mapping[str, Any], number: int, answer: object
) -> None:
    """The bundle a refused (or failed) step named, when that step changed the state anyway."""
    if isinstance(answer, Mapping) and answer.get("accepted"):
        return  # an accepted step is drawn from its answer
    bundle_id = request.get("bundle_id")
    if bundle_id is None:
        return
    node = f"B{bundle_id}"
    if node not in graph:
        add(node, kind="active", label=f"bundle {bundle_id}", quantity=None)
    data = graph.nodes[node]
    data.update(wrong=True, changed_at=number)
    refused = "failed" if not isinstance(answer, Mapping) else "refused"
    data["events"].append(
        Event(
            number,
            f"{request.get('action', '?')} {refused}, yet the registry's state changed "
            "(the observed bundles are listed under Observed)",
            False,
        )
    )


def _split(
    graph: nx.DiGraph,
    add: Any,
    request: Mapping[str, Any],
    result: Mapping[str, Any],
    number: int,
    wrong: bool,
    action: str,
) -> None:
    parent = f"B{request['bundle_id']}"
    if parent not in graph:  # a bundle the sequence did not create here (e.g. set up earlier)
        add(parent, kind="active", label=f"bundle {request['bundle_id']}", quantity=None)
    state = SPLITTING_ACTIONS[action]
    acted_id, rest_id = result.get("bundle_id"), result.get("remainder_id")
    target = request.get("to_account")
    whom = f" to {target}" if target else ""
    whom += f" for {request['beneficiary']}" if request.get("beneficiary") else ""
    whom += f" by {request['claimant']}" if request.get("claimant") else ""
    parent_quantity = graph.nodes[parent].get("quantity")
    if acted_id is None or f"B{acted_id}" == parent:  # the whole bundle, kept under its ID
        data = graph.nodes[parent]
        data.update(kind=state, wrong=data["wrong"] or wrong)
        if target:
            data["account"] = target
        data["events"].append(Event(number, f"{action} whole{whom}", not wrong))
        return
    quantity = request.get("quantity")
    acted = f"B{acted_id}"
    add(acted, kind=state, label=f"bundle {acted_id}", quantity=quantity)
    graph.nodes[acted].update(
        account=target or graph.nodes[parent].get("account", ""), step=number, wrong=wrong
    )
    amount = f" {quantity} Wh" if quantity is not None else ""
    graph.nodes[acted]["events"].append(Event(number, f"{action}{amount}{whom}", not wrong))
    graph.add_edge(parent, acted, step=number, wrong=wrong)
    graph.nodes[parent].update(kind="split")
    graph.nodes[parent]["events"].append(Event(number, f"split by {action}", not wrong))
    if rest_id is not None:
        rest = f"B{rest_id}"
        remaining = None
        if isinstance(parent_quantity, int) and isinstance(quantity, int):
            remaining = parent_quantity - quantity
        add(rest, kind="active", label=f"bundle {rest_id}", quantity=remaining)
        graph.nodes[rest].update(
            account=graph.nodes[parent].get("account", ""), step=number, wrong=wrong
        )
        graph.nodes[rest]["events"].append(Event(number, f"remainder of {action}", not wrong))
        graph.add_edge(parent, rest, step=number, wrong=wrong)


def draw_lineage(
    steps: Sequence[Mapping[str, Any]], *, changed_by: int | None = None
) -> LineagePicture | None:
    """Lay the lineage out for inline SVG, or None when the steps created no certificate."""
    graph = build_lineage(steps, changed_by=changed_by)
    if not any(data.get("kind") != "issuance" for _, data in graph.nodes(data=True)):
        return None
    nodes = sorted(graph.nodes, key=lambda n: graph.nodes[n]["order"])
    drawn = set(nodes[:MAX_NODES])
    tree = graph.subgraph(drawn)
    rows = _tidy_rows(tree)
    depth = _depths(tree)
    boxes = []
    for node in sorted(drawn, key=lambda n: graph.nodes[n]["order"]):
        data = graph.nodes[node]
        x = MARGIN + depth[node] * (NODE_WIDTH + COLUMN_GAP)
        y = MARGIN + round(rows[node] * (NODE_HEIGHT + ROW_GAP))
        lines, title = _describe(data)
        boxes.append(
            Box(
                node, x, y, tuple(_clip(line) for line in lines), title, data["kind"], data["wrong"]
            )
        )
    links = []
    for parent, child in sorted(tree.edges, key=lambda e: graph.nodes[e[1]]["order"]):
        x1 = MARGIN + depth[parent] * (NODE_WIDTH + COLUMN_GAP) + NODE_WIDTH
        y1 = MARGIN + round(rows[parent] * (NODE_HEIGHT + ROW_GAP)) + NODE_HEIGHT // 2
        x2 = MARGIN + depth[child] * (NODE_WIDTH + COLUMN_GAP)
        y2 = MARGIN + round(rows[child] * (NODE_HEIGHT + ROW_GAP)) + NODE_HEIGHT // 2
        middle = (x1 + x2) // 2
        path = f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"
        links.append(Link(path, bool(graph.edges[parent, child].get("wrong"))))
    columns = max(depth.values()) + 1
    height_rows = max(rows.values()) + 1
    events = sorted(
        (
            Event(event.step, f"{graph.nodes[node]['label']}: {event.text}", event.as_expected)
            for node in nodes
            for event in graph.nodes[node]["events"]
        ),
        key=lambda e: (e.step, e.text),
    )
    return LineagePicture(
        width=2 * MARGIN + columns * NODE_WIDTH + (columns - 1) * COLUMN_GAP,
        height=2 * MARGIN + round(height_rows * (NODE_HEIGHT + ROW_GAP)) - ROW_GAP,
        boxes=tuple(boxes),
        links=tuple(links),
        events=tuple(events),
        omitted=len(nodes) - len(drawn),
    )


def _describe(data: Mapping[str, Any]) -> tuple[list[str], str]:
    if data["kind"] == "issuance":
        lines = [str(data["label"]), str(data.get("detail", ""))]
        lines.append(f"step {data.get('step', '?')}")
    else:
        quantity = data.get("quantity")
        head = f"{data['label']}" + (f" · {quantity} Wh" if quantity is not None else "")
        state = str(data["kind"])
        if data.get("changed_at") is not None:
            state = f"changed by refused step {data['changed_at']}"
        lines = [head, str(data.get("account") or "account unknown"), state]
    return lines, " — ".join(line for line in lines if line)


def _clip(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _order(graph: nx.DiGraph, nodes: Iterable[str]) -> list[str]:
    return sorted(nodes, key=lambda n: graph.nodes[n]["order"])


def _tidy_rows(graph: nx.DiGraph) -> dict[str, float]:
    """Leaves on successive rows (creation order, depth first); parents centred on children."""
    rows: dict[str, float] = {}
    visiting: set[str] = set()  # a cycle (only from a malformed answer) must not recurse forever
    next_row = 0.0

    def place(node: str) -> float:
        nonlocal next_row
        if node in rows:
            return rows[node]
        visiting.add(node)
        children = [
            c for c in _order(graph, graph.successors(node)) if c not in rows and c not in visiting
        ]
        if not children:
            rows[node] = next_row
            next_row += 1
        else:
            placed = [place(child) for child in children]
            rows[node] = (placed[0] + placed[-1]) / 2
        return rows[node]

    for root in _order(graph, (n for n in graph if graph.in_degree(n) == 0)):
        place(root)
    for node in _order(graph, graph):  # nodes on a cycle have no root
        place(node)
    return rows


def _depths(graph: nx.DiGraph) -> dict[str, int]:
    depth: dict[str, int] = {}
    for node in _order(graph, graph):
        parents = [p for p in graph.predecessors(node) if p in depth]
        depth[node] = max((depth[p] + 1 for p in parents), default=0)
    return depth
