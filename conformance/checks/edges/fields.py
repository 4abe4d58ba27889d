"""Every required field missing and every field in each wrong JSON type: refused, state unchanged."""

from __future__ import annotations

from typing import Any

from gc_conformance.adapter import IssuanceStyle
from gc_conformance.checks import check
from gc_conformance.checks.edges.helpers import (
    WIND,
    issue_wh,
    production,
    refused,
    the_other,
)
from gc_conformance.session import (
    ISSUER_ID,
    Session,
)

# ====================================================================== fields missing, wrong types

#: One value of each JSON type; a field is sent with every one its type is not.
JSON_VALUES: dict[str, Any] = {
    "null": None,
    "boolean": True,
    "integer": 7,
    "number": 7.5,
    "string": "seven",
    "array": [7],
    "object": {"value": 7},
}
#: Per action: each field -> the JSON types a correct value may have (the others are wrong).
#: ``bundle_id`` is the registry's own opaque ID (a string or an integer); ``quantity``
#: may be left out (the whole bundle), not sent as null.
FIELD_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "transfer": {"bundle_id": ("integer", "string"), "to_account": ("string",),
                 "quantity": ("integer",)},
    "cancel": {"bundle_id": ("integer", "string"), "beneficiary": ("string",),
               "quantity": ("integer",)},
    "claim": {"bundle_id": ("integer", "string"), "claimant": ("string",),
              "quantity": ("integer",)},
    "reserve": {"bundle_id": ("integer", "string"), "quantity": ("integer",)},
    "withdraw": {"bundle_id": ("integer", "string"), "reason": ("string",),
                 "quantity": ("integer",)},
    "submit_production": {"device_id": ("string",), "meter_id": ("string",),
                          "start": ("string",), "end": ("string",),
                          "energy_wh": ("string", "integer")},
}  # fmt: skip
OPTIONAL = {"quantity"}


@check(
    "edges.fields.missing_and_wrong_types",
    requirements=["IT-004", "IT-001", "QTY-001", "PROD-004", "TIME-001", "CANC-002"],
)
def fields_missing_and_wrong_types(s: Session) -> None:
    """Every required field missing, and every field in each wrong JSON type, is refused and
    changes nothing; the same request with every field right is then accepted."""
    w = s.world()
    bundle = issue_wh(s, w, 100)
    cancelled = issue_wh(s, w, 100, hour=1)
    s.accept("cancel", w.alice, bundle_id=cancelled, beneficiary="Consumer-X")
    start, end = s.hour(5)
    valid: dict[str, tuple[str, dict[str, Any]]] = {
        "transfer": (w.alice, {"bundle_id": bundle, "to_account": w.account(w.bob),
                               "quantity": 1}),
        "cancel": (w.alice, {"bundle_id": bundle, "beneficiary": "Consumer-X", "quantity": 1}),
        "claim": (w.alice, {"bundle_id": cancelled, "claimant": "Consumer-X", "quantity": 1}),
        "reserve": (w.alice, {"bundle_id": bundle, "quantity": 1}),
        "withdraw": (ISSUER_ID, {"bundle_id": bundle, "reason": "edge", "quantity": 1}),
    }  # fmt: skip
    if IssuanceStyle.PRODUCTION_DATA in s.capabilities.issuance_styles:
        valid["submit_production"] = (
            ISSUER_ID,
            production(s, WIND, w.meters[WIND], start, end, 100),
        )
    for action, (actor, fields) in valid.items():
        if not s.optional(action):  # an action the registry lacks: judge the others
            continue
        for name in fields:
            types = FIELD_TYPES[action][name]
            if name not in OPTIONAL:
                missing = {k: v for k, v in fields.items() if k != name}
                refused(s, action, actor, f"the required field {name} is missing",
                        requirements=_field_requirement(action, name), **missing)  # fmt: skip
            for kind, value in JSON_VALUES.items():
                if kind in types or (kind == "null" and name in OPTIONAL):
                    continue
                if name == "energy_wh" and kind == "number":
                    continue  # 7.5 Wh written as a JSON number is a fair reading (D5 rounds)
                wrong = {**fields, name: value}
                refused(s, action, actor, f"{name} is a JSON {kind} ({value!r})",
                        requirements=_field_requirement(action, name), **wrong)  # fmt: skip
    # and with every field right, each is accepted (the refusals were for the fault alone)
    moved = s.accept("transfer", w.alice, **valid["transfer"][1])
    rest = moved.get("remainder_id")
    rest = rest if rest is not None else the_other(s, w.account(w.alice), WIND)
    s.accept("cancel", w.alice, **{**valid["cancel"][1], "bundle_id": rest})
    s.accept("claim", w.alice, **valid["claim"][1])
    if "submit_production" in valid:
        s.accept("submit_production", ISSUER_ID, **valid["submit_production"][1])


def _field_requirement(action: str, name: str) -> tuple[str, ...]:
    if name == "quantity":
        return ("QTY-001",)
    if name == "energy_wh":
        return ("PROD-004",)
    if name in ("start", "end"):
        return ("TIME-001",)
    if action == "cancel" and name == "beneficiary":
        return ("CANC-002",)
    return ("IT-004",)
