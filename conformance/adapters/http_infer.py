"""Results inferred from state: naming the bundles an action made when the answer does not.

Many registries answer a transfer or a cancellation with no more than "done". The contract
needs the bundle a partial action split off and the remainder left behind, so for routes the
mapping marks ``infer_result`` the adapter queries the bundles the request can touch before
and after it and reads the result off the difference. Both steps are pure functions of what
the queries showed; the adapter only runs the queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def inference_scope(
    fields: Mapping[str, Any], parent: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The queries that show every bundle a request on ``fields`` can touch or make.

    ``parent`` is the last record seen of the bundle the request names, if any: its account
    (and the target account of a transfer) bound the change; otherwise the device does.
    """
    if parent is not None and parent.get("account_id") is not None:
        scope = [{"account_id": parent["account_id"]}]
        target = fields.get("to_account")
        if isinstance(target, str) and target != parent["account_id"]:
            scope.append({"account_id": target})
        return scope
    device = fields.get("device_id")
    if isinstance(device, str):
        return [{"device_id": device}]
    return [{}]


def infer_result(
    result: dict[str, Any],
    fields: Mapping[str, Any],
    before: Mapping[str, dict[str, Any]],
    after: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    """``result`` completed with the bundles the request made (``before``/``after`` by ID)."""
    if result.get("bundle_id") is not None:
        return result
    inferred = dict(result)
    parent_key = str(fields["bundle_id"]) if fields.get("bundle_id") is not None else None
    made = [b for key, b in after.items() if key not in before]
    if parent_key is not None and parent_key in after:  # acted on whole, ID kept
        inferred["bundle_id"] = after[parent_key]["bundle_id"]
        inferred.setdefault("remainder_id", None)
        return inferred
    parent = before.get(parent_key) if parent_key is not None else None
    if parent is not None:
        made = [b for b in made if b.get("issuance_id") == parent.get("issuance_id")]
        same = [
            b
            for b in made
            if (b.get("account_id"), b.get("certificate_bundle_status"))
            == (parent.get("account_id"), parent.get("certificate_bundle_status"))
        ]
        part = [b for b in made if b not in same]
        if len(part) == 1 and len(same) <= 1:
            inferred["bundle_id"] = part[0]["bundle_id"]
            inferred["remainder_id"] = same[0]["bundle_id"] if same else None
        return inferred
    device = fields.get("device_id")
    start = fields.get("start")
    made = [
        b
        for b in made
        if (device is None or b.get("device_id") == device)
        and (start is None or b.get("production_starting_interval") == start)
    ]
    if len(made) == 1:
        inferred["bundle_id"] = made[0]["bundle_id"]
        inferred.setdefault("issuance_id", made[0].get("issuance_id"))
        inferred.setdefault("issued_wh", made[0].get("bundle_quantity"))
    elif not made:
        inferred.setdefault("issued_wh", 0)
    return inferred
