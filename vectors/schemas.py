"""The JSON Schemas of the vector files, one per test type, strict everywhere.

Built here and written by the generator to ``schema/<type>.schema.json`` so
that the schemas and the files can never drift apart; every object schema has
``additionalProperties: false``. The test types share the case and step
shapes and differ in their groups' ``parameters``.
"""

from __future__ import annotations

from typing import Any

from gc_conformance.adapter import ACTIONS, Profile
from gc_conformance.reference import ErrorCode
from gc_conformance.vectors.format import FORMAT, REF, STATE_FIELDS, TEST_TYPES

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


_TEXT = {"type": "string"}
_NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_CODE = {"enum": [code.name for code in ErrorCode]}
_SYMBOL = {"type": "string", "pattern": "^[BREX][0-9]+$"}
_STAMP = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}
_POLICY_VALUE = {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}


def _definitions() -> dict[str, Any]:
    bundle = _object(
        {
            "id": _SYMBOL,
            "device_id": _TEXT,
            "start": _TEXT,
            "end": _TEXT,
            "first": {"type": "integer", "minimum": 0},
            "last": {"type": "integer", "minimum": 0},
            "quantity": {"type": "integer", "minimum": 1},
            "account_id": _TEXT,
            "status": _TEXT,
            "beneficiary": _TEXT,
            "claimant": _TEXT,
        },
        required=list(STATE_FIELDS),
    )
    reference = _object({REF: _SYMBOL})
    request = {
        "type": "object",
        "properties": {
            "action": {"enum": sorted(ACTIONS)},
            "actor": _TEXT,
            "now": _STAMP,
        },
        "required": ["action", "actor", "now"],
        # Each action takes exactly the contract's fields for it (values are free: a case may
        # send a malformed one on purpose); IDs the registry assigned are symbols.
        "allOf": [
            {
                "if": {"properties": {"action": {"const": action}}},
                "then": {
                    "properties": dict.fromkeys(["action", "actor", "now", *fields], True),
                    "additionalProperties": False,
                },
            }
            for action, fields in sorted(_request_fields().items())
        ],
    }
    output = _object(
        {
            "bundle_id": {"oneOf": [{"$ref": "#/$defs/reference"}, {"type": "null"}]},
            "remainder_id": {"oneOf": [{"$ref": "#/$defs/reference"}, {"type": "null"}]},
            "record_id": {"oneOf": [{"$ref": "#/$defs/reference"}, {"type": "null"}]},
            "bundle_ids": {"type": "array", "items": {"$ref": "#/$defs/reference"}},
            "eac_ids": {"type": "array", "items": {"$ref": "#/$defs/reference"}},
            "allocations": {
                "type": "array",
                "items": {
                    "type": "array",
                    "prefixItems": [
                        {"$ref": "#/$defs/reference"},
                        {"$ref": "#/$defs/reference"},
                        {"type": "integer", "minimum": 0},
                    ],
                    "minItems": 3,
                    "maxItems": 3,
                },
            },
            "loss_wh": {"type": ["integer", "null"]},
            "bundles": {"type": "array", "items": {"$ref": "#/$defs/bundle"}},
        },
        required=[],
    )
    step = {
        "type": "object",
        "properties": {
            "request": {"$ref": "#/$defs/request"},
            "locate": {
                "type": "object",
                "propertyNames": _SYMBOL,
                "additionalProperties": {"$ref": "#/$defs/bundle"},
            },
            "expect": {"enum": ["accept", "reject"]},
            "code": _CODE,
            "output": {"$ref": "#/$defs/output"},
        },
        "required": ["request", "expect"],
        "additionalProperties": False,
        "if": {"properties": {"expect": {"const": "reject"}}},
        "then": {"required": ["code"], "not": {"required": ["output"]}},
        "else": {"not": {"required": ["code"]}},
    }
    state = _object(
        {
            "accounts": {"type": "array", "items": _TEXT},
            "bundles": {"type": "array", "items": {"$ref": "#/$defs/bundle"}},
        }
    )
    test = {
        "type": "object",
        "properties": {
            "tcId": {"type": "integer", "minimum": 1},
            "name": _NAME,
            "comment": _TEXT,
            "flags": {"type": "array", "items": _TEXT, "minItems": 1, "uniqueItems": True},
            "requirements": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[A-Z]+-[0-9]{3}$"},
                "minItems": 1,
            },
            "requires": _object(
                {
                    "profiles": {
                        "type": "array",
                        "items": {"enum": [p.value for p in Profile]},
                        "minItems": 1,
                    },
                    "issuanceStyles": {
                        "type": "array",
                        "items": {"enum": ["production-data", "issuer-created"]},
                    },
                    "clock": {"enum": ["controlled"]},
                }
            ),
            "applies": _object(
                {
                    "from": {"type": "string", "pattern": "^v[0-9]+$"},
                    "until": {"type": "string", "pattern": "^v[0-9]+$"},
                    "policies": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": _POLICY_VALUE,
                            "minItems": 1,
                        },
                    },
                },
                required=["from", "policies"],
            ),
            "result": {"enum": ["valid", "invalid", "acceptable"]},
            "error": _CODE,
            "output": {"$ref": "#/$defs/output"},
            "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1},
            "state": {"$ref": "#/$defs/state"},
        },
        "required": [
            "tcId",
            "name",
            "comment",
            "flags",
            "requirements",
            "requires",
            "applies",
            "result",
            "steps",
            "state",
        ],
        "additionalProperties": False,
        "oneOf": [{"required": ["error"]}, {"required": ["output"]}],
    }
    return {
        "reference": reference,
        "bundle": bundle,
        "request": request,
        "output": output,
        "step": step,
        "state": state,
        "test": test,
    }


def _request_fields() -> dict[str, list[str]]:
    """Action -> its request fields (besides action, actor and now), from the reference adapter."""
    import attrs

    from gc_conformance.adapters.reference import COMMANDS
    from gc_conformance.reference import Query

    classes = {**COMMANDS, "query": Query}
    return {
        action: [f.name for f in attrs.fields(cls) if f.name != "actor"]
        for action, cls in classes.items()
        if action in ACTIONS
    }


_PARAMETERS: dict[str, dict[str, Any]] = {
    "request_sequence": _object({}, required=[]),
    "storage_sequence": _object(
        {
            "storage_id": _TEXT,
            "allocation_method": {
                "enum": ["FIFO", "LIFO", "WEIGHTED_AVERAGE", "OPERATOR_DISCRETION"]
            },
            "loss_method": {"enum": ["EFFICIENCY_FACTOR", "INTERVAL_FORMULAS"]},
            "settlement_period_minutes": {"type": "integer", "minimum": 1, "maximum": 60},
            "capacity_wh": {"type": "integer", "minimum": 1},
        }
    ),
    "configuration_sequence": _object(
        {
            "configuration": {"enum": [2, 3]},
            "eac_body": _TEXT,
            "government_mandate": {"type": "boolean"},
        }
    ),
}


def schema_for(test_type: str) -> dict[str, Any]:
    definitions = _definitions()
    group = _object(
        {
            "group": _NAME,
            "description": _TEXT,
            "parameters": _PARAMETERS[test_type],
            "reset": {"type": "object"},
            "setup": {"type": "array", "items": {"$ref": "#/$defs/step"}},
            "tests": {"type": "array", "items": {"$ref": "#/$defs/test"}, "minItems": 1},
        },
        required=["group", "description", "reset", "setup", "tests"]
        + ([] if test_type == "request_sequence" else ["parameters"]),
    )
    flag_note = _object(
        {
            "description": _TEXT,
            "requirements": {"type": "array", "items": _TEXT},
            "failure": _TEXT,
        }
    )
    info = _object(
        {
            "format": {"const": FORMAT},
            "standard": _TEXT,
            "revision": {"type": "string", "pattern": "^v[0-9]+$"},
            "set": _TEXT,
            "generator": _object({"name": _TEXT, "version": _TEXT}),
            "policies": {"type": "object", "additionalProperties": _POLICY_VALUE},
            "requirements": {"type": "array", "items": _TEXT},
            "sha256": _HASH,
        }
    )
    return {
        "$schema": DIALECT,
        "$id": f"{test_type}.schema.json",
        "title": f"gc-conformance vectors: {test_type}",
        "type": "object",
        "properties": {
            "_info": info,
            "schema": {"const": f"{test_type}.schema.json"},
            "area": _NAME | {"pattern": "^[a-z0-9_]+$"},
            "testType": {"const": test_type},
            "numberOfTests": {"type": "integer", "minimum": 1},
            "notes": {"type": "object", "additionalProperties": flag_note},
            "testGroups": {"type": "array", "items": group, "minItems": 1},
        },
        "required": ["_info", "schema", "area", "testType", "numberOfTests", "notes", "testGroups"],
        "additionalProperties": False,
        "$defs": definitions,
    }


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every test type."""
    return {f"{name}.schema.json": schema_for(name) for name in TEST_TYPES}
