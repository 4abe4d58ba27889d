"""The certificate lineage graph, built from a plain history.

Nodes:
  ``("issuance", issuance_id)``  attributes: device_id, production_start/end, range, quantity
  ``("bundle", bundle_id)``      attributes: range, quantity, account (last known), status,
                                 events (ordered list of what happened to it)
  ``("outcome", bundle_id, STATUS)`` terminal outcomes: CANCELLED, CANCELLED_FOR_STORAGE,
                                 CLAIMED, WITHDRAWN, EXPIRED, EXPORTED
Edges (attribute ``kind``): issuance -> bundle ("issue"), parent -> child ("split"),
bundle -> outcome ("status"), cancellation outcome -> claim outcome ("claim").

Books add their own node kinds (storage records, EACs) under their own names.
The graph is what the reports draw and what conservation is computed on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx

TERMINAL = frozenset(
    {"CANCELLED", "CANCELLED_FOR_STORAGE", "CLAIMED", "WITHDRAWN", "EXPIRED", "EXPORTED"}
)
LIVE = frozenset({"ACTIVE", "RESERVED", "LOCKED"})
"""Statuses in which certificates can still change hands or end (held, not yet used)."""
SPLIT = "BUNDLE_SPLIT"
"""The status of a bundle superseded by its children: it holds no certificates any more."""
STATUSES = LIVE | TERMINAL | {SPLIT}
"""Every bundle status of the vocabulary, by name (``BundleStatus`` names, the API's statuses)."""


def issuance_node(issuance_id: Any) -> tuple[str, Any]:
    return ("issuance", issuance_id)


def bundle_node(bundle_id: Any) -> tuple[str, Any]:
    return ("bundle", bundle_id)


def outcome_node(bundle_id: Any, status: str) -> tuple[str, Any, str]:
    return ("outcome", bundle_id, status)


def leaves(graph: nx.DiGraph, issuance_id: Any) -> Iterator[tuple[str, Any]]:
    """The bundles descending from an issuance that were never split: its certificates now."""
    stack = [
        child for child in graph.successors(issuance_node(issuance_id)) if child[0] == "bundle"
    ]
    while stack:
        node = stack.pop()
        children = [c for c in graph.successors(node) if c[0] == "bundle"]
        if children:
            stack.extend(children)
        else:
            yield node


def lineage_of(graph: nx.DiGraph, bundle_id: Any) -> nx.DiGraph:
    """The sub-graph from a bundle's issuance down to every descendant outcome, for drawing."""
    node = bundle_node(bundle_id)
    roots = [n for n in nx.ancestors(graph, node) if n[0] == "issuance"] or [node]
    keep: set[Any] = set()
    for root in roots:
        keep.add(root)
        keep.update(nx.descendants(graph, root))
    return graph.subgraph(keep).copy()
