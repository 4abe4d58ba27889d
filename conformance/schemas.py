"""Published JSON Schemas of the files a user writes, and one way of reading their errors.

A vendor writes four kinds of file for gc-conformance: the adapter's capabilities
declaration, an HTTP mapping file, an xfail file and — for a standards body or an
extension — a requirement catalogue. Each is checked against a JSON Schema that ships
with the suite and that ``gc-conformance schema NAME`` prints, so an editor or a
vendor's own CI can validate the file before a run does. The schemas that list the
suite's own vocabulary (profiles, actions, policies and their values, check IDs) are
built from the code that defines that vocabulary, so they cannot drift from it.

The schema says what *shape* a file has; the loaders keep the few rules a schema cannot
express (a declared tier that contradicts ``reset`` and ``observe``, an action of an
unclaimed profile, a requirement defined twice). Every error names the field, in the
dotted form the rest of the suite uses (``capabilities.policies.rounding``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://gc-conformance.example/schemas/"


def first_violation(
    schema: Mapping[str, Any], document: object, root: str
) -> tuple[str, str] | None:
    """``(field, rule)`` of the most specific error of ``document``, or None when it is valid.

    ``root`` prefixes the field (``capabilities``). The deepest error wins, so a wrong value
    inside a list is named at its index rather than as "the list is invalid"; a document too
    deep or too odd for the validator is reported, never raised.
    """
    validator = jsonschema.Draft202012Validator(schema)
    try:
        errors = list(validator.iter_errors(document))
    except (RecursionError, ValueError, TypeError) as exc:
        return root, f"cannot be validated: {type(exc).__name__}"
    if not errors:
        return None
    error = sorted(errors, key=lambda e: (-len(e.absolute_path), str(list(e.absolute_path))))[0]
    return _field(error, root), _rule(error)


def _field(error: jsonschema.ValidationError, root: str) -> str:
    field = root
    for part in error.absolute_path:
        field += f"[{part}]" if isinstance(part, int) else f".{part}"
    if "propertyNames" in error.schema_path:  # the instance is the offending key itself
        field += f".{error.instance}"
    elif error.validator == "required" and isinstance(error.instance, Mapping):
        names = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [name for name in names if name not in error.instance]
        if missing:
            field += f".{missing[0]}"
    elif error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(_schema_of(error).get("properties", {}))
        pattern_keys = list(_schema_of(error).get("patternProperties", {}))
        extra = [
            str(key)
            for key in error.instance
            if key not in allowed and not any(re.search(p, str(key)) for p in pattern_keys)
        ]
        if extra:
            field += f".{sorted(extra)[0]}"
    return field


def _schema_of(error: jsonschema.ValidationError) -> Mapping[str, Any]:
    """The (sub)schema an error broke, as a mapping (jsonschema also types it bool or unset)."""
    return error.schema if isinstance(error.schema, Mapping) else {}


def _rule(error: jsonschema.ValidationError) -> str:
    found = _short(error.instance)
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        allowed = sorted(_schema_of(error).get("properties", {}))
        return f"unknown field (known: {', '.join(allowed)})" if allowed else "unknown field"
    if error.validator == "enum":
        values = error.validator_value if isinstance(error.validator_value, list) else []
        if len(values) > 12:  # the suite's check IDs, say: too many to print
            return f"{found} is not one of the {len(values)} known names"
        return f"must be one of {', '.join(repr(v) for v in values)} (found {found})"
    if error.validator == "type":
        return f"must be of type {error.validator_value} (found {found})"
    if error.validator == "pattern":
        described = _schema_of(error).get("description")
        return f"{described} (found {found})" if described else f"malformed (found {found})"
    if error.validator == "contains":
        return str(_schema_of(error).get("description") or error.message)
    if error.validator == "minItems":
        return f"needs at least {error.validator_value} item(s)"
    if error.validator == "minLength":
        return "must not be empty"
    if error.validator == "uniqueItems":
        return "lists a value twice"
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."


def _short(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _envelope(name: str, title: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DIALECT, "$id": f"{BASE_ID}{name}.schema.json", "title": title, **body}


def _comma_list(values: frozenset[str]) -> dict[str, Any]:
    """A comma-separated list of ``values`` (spaces allowed), as the policies take them."""
    word = "|".join(re.escape(v) for v in sorted(values))
    return {
        "type": "string",
        "pattern": rf"^\s*(?:{word})\s*(?:,\s*(?:{word})\s*)*$",
        "description": f"a comma-separated list of {', '.join(sorted(values))}",
    }


# ---------------------------------------------------------------- the four schemas


def capabilities_schema() -> dict[str, Any]:
    """An adapter's ``capabilities()`` answer (docs/adapters.md), from the contract's own enums."""
    from gc_conformance import adapter

    policy_properties: dict[str, Any] = {}
    for name, (shape, allowed) in sorted(adapter.known_policies().items()):
        if shape == "one" and allowed is not None:
            policy_properties[name] = {"type": "string", "enum": sorted(allowed)}
        elif shape == "list" and allowed is not None:
            policy_properties[name] = _comma_list(allowed)
        else:
            policy_properties[name] = {
                "type": "string",
                "pattern": r"^\s*[0-9]+(?:\.[0-9]+)?\s*$",
                "description": "a non-negative decimal number",
            }
    enum_of: Callable[[Any], list[str]] = lambda kind: sorted(m.value for m in kind)  # noqa: E731
    return _envelope(
        "capabilities",
        "gc-conformance adapter capabilities",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "version", "profiles", "issuance_styles"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "version": {"type": "string", "minLength": 1},
                "profiles": {
                    "type": "array",
                    "items": {"type": "string", "enum": enum_of(adapter.Profile)},
                    "contains": {"const": adapter.Profile.CORE.value},
                    "description": "every registry must claim 'core'",
                },
                "issuance_styles": {
                    "type": "array",
                    "items": {"type": "string", "enum": enum_of(adapter.IssuanceStyle)},
                    "minItems": 1,
                },
                "clock": {"type": "string", "enum": enum_of(adapter.Clock)},
                "policies": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": policy_properties,
                },
                "actions": {
                    "type": "array",
                    "items": {"type": "string", "enum": sorted(adapter.ACTIONS)},
                },
                "tier": {"type": "string", "enum": ["full", "no-reset", "no-observe", "minimal"]},
                **{feature: {"type": "boolean"} for feature in adapter.CONTRACT_FEATURES},
            },
        },
    )


def requirements_schema() -> dict[str, Any]:
    """One requirement catalogue file (``requirements/*.toml``), read as TOML."""
    from gc_conformance import adapter, catalogue

    return _envelope(
        "requirements",
        "gc-conformance requirement catalogue file",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "requirement": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["id", "title", "clause", "level", "profile"],
                        "properties": {
                            "id": {
                                "type": "string",
                                "pattern": catalogue.ID_PATTERN.pattern,
                                "description": "AREA-NNN (capital letters, a dash, 3 digits)",
                            },
                            "title": {"type": "string", "pattern": r"\S"},
                            "clause": {
                                "type": "string",
                                "pattern": catalogue.CLAUSE_PATTERN.pattern,
                                "description": "'Section name / Dn', n from 1 to 15",
                            },
                            "level": {
                                "type": "string",
                                "enum": [lv.value for lv in catalogue.Level],
                            },
                            "profile": {
                                "type": "string",
                                "enum": sorted(p.value for p in adapter.Profile),
                            },
                            "policies": {
                                "type": "array",
                                "items": {
                                    "type": "string",
                                    "enum": sorted(catalogue.KNOWN_POLICIES),
                                },
                            },
                            "note": {"type": "string"},
                        },
                    },
                }
            },
        },
    )


def xfail_schema(known_checks: frozenset[str] | None = None) -> dict[str, Any]:
    """An xfail file, as the mapping it means: check ID -> the reason it is expected to fail.

    The file itself is text (``CHECK_ID  reason`` per line, ``#`` comments) or JSON of this
    shape; both are read into the mapping and validated here. Given ``known_checks``, a key
    must name one of them (the IDs are the suite's public names).
    """
    key: dict[str, Any] = {
        "type": "string",
        "pattern": r"^\S+$",
        "description": "a check ID (no spaces)",
    }
    if known_checks is not None:
        key = {"type": "string", "enum": sorted(known_checks)}
    return _envelope(
        "xfail",
        "gc-conformance expected failures",
        {
            "type": "object",
            "propertyNames": key,
            "additionalProperties": {"type": "string", "minLength": 1},
        },
    )


def mapping_schema() -> dict[str, Any]:
    """An HTTP mapping file (docs/adapters-http.md), as shipped beside the mappings."""
    from gc_conformance.adapters.http_mapping import schema

    return schema()


def xfail_schema_of_this_suite() -> dict[str, Any]:
    """The xfail schema with this installation's check IDs (extensions' included) as keys."""
    from gc_conformance.checks import all_checks

    return xfail_schema(frozenset(check.check_id for check in all_checks()))


#: Every published schema, by the name ``gc-conformance schema NAME`` takes.
PUBLISHED: dict[str, Callable[[], dict[str, Any]]] = {
    "capabilities": capabilities_schema,
    "mapping": mapping_schema,
    "requirements": requirements_schema,
    "xfail": xfail_schema_of_this_suite,
}


__all__ = [
    "PUBLISHED",
    "capabilities_schema",
    "first_violation",
    "mapping_schema",
    "requirements_schema",
    "xfail_schema",
    "xfail_schema_of_this_suite",
]
