"""The served registry's OpenAPI document, generated from the tables the server routes from.

``gc-conformance serve`` answers ``GET /openapi.json`` with this document. It
is built from the same two sources the routes are: the HTTP mapping (path,
method, success status, field renames, value tables, constants, the actor
field) and the reference adapter's command classes (which fields a request
has, their types, which are required). So the document cannot describe a route
or a field the server does not have, nor miss one it has.

* Request bodies: the command's fields as JSON Schema (``additionalProperties:
  false``, as the server refuses unknown fields), renamed into the API's
  spelling by applying the route's renames to a body of schema placeholders.
* Responses: the route's success status with the spec's action envelope plus
  the result fields, and every refusal status the server gives with the
  spec's ``HTTPValidationError`` shape.
* Security: bearer tokens (``bearerAuth``); the capabilities route is public;
  admin routes need the admin credential (said in their descriptions).
* Extensions: every route under ``/extensions/`` is not in the EnergyTag API
  specification; such operations carry ``x-extension: true`` and the
  ``extensions`` tag, and the ``info`` says where the spec is silent.
"""

from __future__ import annotations

import copy
import datetime as _dt
import enum
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from gc_conformance.adapters.http_mapping import HttpMapping, Route

OPENAPI_VERSION = "3.1.0"
EXTENSION_PREFIX = "/extensions/"
#: Refusal statuses every route can give (401/403 before the body, 400/408/413/431 on the
#: body and headers, 404 unknown entity, 409 duplicate, 422 everything else).
_REFUSALS = {
    "400": "Malformed body: not JSON, NaN, invalid UTF-8, nested too deeply, bad header value",
    "401": "No credential, or an unknown or expired one",
    "403": "The credential's party may not do this (NOT_AUTHORISED, NOT_OWNER, issuer roles)",
    "404": "An entity the request names does not exist (UNKNOWN_*)",
    "408": "The body did not arrive in time",
    "409": "A duplicate (DUPLICATE_*)",
    "413": "The body is larger than the limit",
    "422": "Refused by the rules: the canonical code is in detail[0].type",
    "431": "The request headers are larger than the limit",
}
_PROBLEM = {"$ref": "#/components/schemas/HTTPValidationError"}
_ENVELOPE = {
    "action_id": {"type": "string"},
    "action_response_status": {"type": "string", "enum": ["accepted"]},
    "action_request_datetime": {"type": "string"},
    "action_completed_datetime": {"type": "string"},
}
_INT_OR_NULL = {"type": ["integer", "null"]}
#: Contract result fields whose type is fixed by the contract (others are described loosely).
_RESULT_FIELDS: Mapping[str, Any] = {
    "bundle_id": _INT_OR_NULL,
    "remainder_id": _INT_OR_NULL,
    "entity_id": {"type": ["string", "null"]},
    "bundles": {"type": "array", "items": {"type": "object"}},
}


@attrs.frozen
class _Leaf:
    """A schema standing where a field's value would be, so renames can move it."""

    schema: Mapping[str, Any]
    required: bool


def openapi_document(mapping: HttpMapping, *, title: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the server built from ``mapping``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in mapping.actions.values():
        paths.setdefault(route.path, {})[route.method.lower()] = _action(mapping, route)
    for name, route in mapping.admin.items():
        paths.setdefault(route.path, {})[route.method.lower()] = _admin(mapping, name, route)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title or mapping.name,
            "version": _version(),
            "description": (
                "The gc-conformance reference registry served over HTTP, in the shape of the "
                "EnergyTag GC Registry API Specification v2. Generated from the HTTP mapping "
                f"({mapping.source}) and the reference model's request types, so it describes "
                "exactly the routes the server has. Where the EnergyTag specification is "
                "silent (no route for an operation of the GC Scheme Standard, no field for a "
                "bundle ID, no idempotency, no test control), the operation or field is an "
                "extension: operations under /extensions/ carry `x-extension: true` and the "
                "`extensions` tag."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The admin token (start-up) or a token the admin minted "
                    "for a party through the token route.",
                }
            },
            "schemas": {"HTTPValidationError": _problem_schema()},
        },
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "actions", "description": "Operations of the EnergyTag API"},
            {
                "name": "extensions",
                "description": "Not in the EnergyTag API specification (x-extension)",
            },
            {"name": "admin", "description": "Test control and credentials (extensions)"},
        ],
    }


# ---------------------------------------------------------------------- operations


def _action(mapping: HttpMapping, route: Route) -> dict[str, Any]:
    extension = route.path.startswith(EXTENSION_PREFIX)
    placeholders = route.placeholders()
    body = _request_body(mapping, route, placeholders)
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.name.replace("_", " "),
        "tags": ["extensions" if extension else "actions"],
        "requestBody": {"required": False, "content": {"application/json": {"schema": body}}},
        "responses": {
            str(route.status): _json_response(
                "Accepted: the action envelope and the result", _success_schema(mapping, route)
            ),
            **_refusal_responses(),
        },
    }
    if mapping.clock_header or mapping.idempotency_header:
        operation["parameters"] = _headers(mapping)
    if placeholders:
        operation.setdefault("parameters", []).extend(
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in placeholders
        )
    if extension:
        operation["x-extension"] = True
    return operation


def _admin(mapping: HttpMapping, name: str, route: Route) -> dict[str, Any]:
    request, answer, what = _ADMIN[name](mapping)
    operation: dict[str, Any] = {
        "operationId": f"admin_{name}",
        "summary": what,
        "description": what
        + (
            ""
            if name == "capabilities"
            else " Needs the admin credential (403 for any other party)."
        ),
        "tags": ["admin", "extensions"],
        "x-extension": True,
        "responses": {
            str(route.status): _json_response("Success", answer),
            **_refusal_responses(),
        },
    }
    if name == "capabilities":
        operation["security"] = []
        operation["responses"] = {str(route.status): _json_response("Success", answer)}
    if request is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": request}},
        }
    return operation


def _capabilities(mapping: HttpMapping) -> tuple[Any, Any, str]:
    answer = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "profiles": {"type": "array", "items": {"type": "string"}},
            "policies": {"type": "object", "additionalProperties": {"type": "string"}},
            "clock": {"type": "string", "enum": ["controlled", "fixed"]},
        },
        "required": ["name", "profiles", "clock"],
    }
    return None, answer, "What the registry claims: profiles, policies, clock (public)."


def _reset(mapping: HttpMapping) -> tuple[Any, Any, str]:
    request = {
        "type": "object",
        "properties": {
            "issuer": {
                "type": "object",
                "properties": {
                    "issuer_id": {"type": "string", "minLength": 1},
                    "name": {"type": "string"},
                    "domain": {"type": "string"},
                },
            },
            "configuration": {"enum": [1, 2, 3]},
            "eac_body": {"type": "object"},
        },
    }
    answer = _closed({"reset": {"type": "boolean"}, "issuer_id": {"type": "string"}})
    return request, answer, "Empty the registry (test mode only); the body is the contract's setup."


def _state(mapping: HttpMapping) -> tuple[Any, Any, str]:
    return None, {"type": "object"}, "The observe() export, in the API's field names."


def _history(mapping: HttpMapping) -> tuple[Any, Any, str]:
    answer = _closed({"history": {"type": "array"}})
    return None, answer, "The action history the invariant checker reads."


def _token(mapping: HttpMapping) -> tuple[Any, Any, str]:
    party = mapping.token_party_field
    request = {
        "type": "object",
        "properties": {
            party: {"type": "string", "minLength": 1, "maxLength": 200},
            "expires_in": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        },
        "required": [party],
    }
    answer = _closed(
        {
            mapping.token_field: {"type": "string"},
            "token_type": {"type": "string", "enum": ["bearer"]},
            party: {"type": "string"},
            "expires_in": {"type": "number"},
        }
    )
    return request, answer, "Mint a bearer token for a party."


_ADMIN = {
    "capabilities": _capabilities,
    "reset": _reset,
    "state": _state,
    "history": _history,
    "token": _token,
}


# ---------------------------------------------------------------------- schemas


def _request_body(mapping: HttpMapping, route: Route, placeholders: list[str]) -> dict[str, Any]:
    """The route's body schema: the command's fields, renamed as the mapping renames them."""
    from gc_conformance.adapters.reference import COMMANDS, QueryAction
    from gc_conformance.reference import Query

    reads: dict[str, type] = {"query": Query, "query_action": QueryAction}
    cls = reads.get(route.name) or COMMANDS[route.name]
    fields = {
        f.name: _leaf(cls, f)
        for f in attrs.fields(cls)
        if f.name != "actor"  # the credential's party; the body may only confirm it
    }
    for field, table in route.values.items():
        leaf = fields.get(field)
        if isinstance(leaf, _Leaf):
            fields[field] = _Leaf(_translated(leaf.schema, mapping.value_tables[table]), False)
    placed = route.fields.to_api(fields)
    schema = _to_schema(placed)
    properties = schema["properties"]
    for name, value in route.constants.items():
        properties[name] = {"const": value}
    if route.actor_field:
        properties[route.actor_field] = {
            "type": "string",
            "description": "The party acting; if sent, it must be the credential's party",
        }
    for name in placeholders:
        properties.pop(name, None)
        if name in schema.get("required", []):
            schema["required"].remove(name)
    return schema


def _leaf(cls: type, field: attrs.Attribute[Any]) -> Any:
    hint = _hints(cls)[field.name]
    required = field.default is attrs.NOTHING
    entity = _entity(hint)
    if entity is not None:  # nested: its own leaves, so renames can reach inside
        return {f.name: _leaf(entity, f) for f in attrs.fields(entity)}
    return _Leaf(_type_schema(hint), required)


def _entity(hint: Any) -> type | None:
    candidates = typing.get_args(hint) if _is_union(hint) else (hint,)
    for candidate in candidates:
        if isinstance(candidate, type) and attrs.has(candidate):
            return candidate
    return None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _type_schema(hint: Any) -> dict[str, Any]:
    """JSON Schema of a command field's type (shape only: every rule stays the model's)."""
    if _is_union(hint):
        options = [_type_schema(arg) for arg in typing.get_args(hint)]
        unique: list[dict[str, Any]] = []
        for option in options:
            if option not in unique:
                unique.append(option)
        if {} in unique:
            return {}
        return unique[0] if len(unique) == 1 else {"anyOf": unique}
    if hint is type(None):
        return {"type": "null"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str or hint is _dt.datetime:
        return {"type": "string"}
    if hint is _dt.date:
        return {"type": "string", "format": "date"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"type": "string", "enum": [m.name for m in hint]}
    origin = typing.get_origin(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _type_schema(args[0])}
        return {"type": "array", "prefixItems": [_type_schema(a) for a in args]}
    if origin in (list, frozenset, set):
        return {"type": "array", "items": _type_schema(typing.get_args(hint)[0])}
    if isinstance(hint, type) and attrs.has(hint):
        return _to_schema({f.name: _leaf(hint, f) for f in attrs.fields(hint)})
    return {}  # Decimal, Fraction, Any...: described by the field's documentation, not a type


def _translated(schema: Mapping[str, Any], table: Mapping[str, str]) -> dict[str, Any]:
    """An enum schema in the API's spelling (and its canonical names, which are also accepted)."""
    out = dict(schema)
    if "enum" in out:
        out["enum"] = sorted({*(table.get(v, v) for v in out["enum"]), *out["enum"]})
    return out


def _to_schema(node: Any) -> dict[str, Any]:
    """Placeholders (nested dicts of :class:`_Leaf`) -> an object schema."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, value in node.items():
        if isinstance(value, _Leaf):
            properties[name] = copy.deepcopy(dict(value.schema))
            if value.required:
                required.append(name)
        elif isinstance(value, Mapping):
            inner = _to_schema(value)
            properties[name] = inner
            if inner.get("required"):
                required.append(name)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _success_schema(mapping: HttpMapping, route: Route) -> dict[str, Any]:
    result = {name: _Leaf(schema, False) for name, schema in _RESULT_FIELDS.items()}
    placed = route.result.to_api(result)
    properties = {
        name: dict(value.schema) for name, value in placed.items() if isinstance(value, _Leaf)
    }
    return {
        "type": "object",
        "properties": {**properties, **_ENVELOPE},
        "required": sorted(_ENVELOPE),
    }


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "detail": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                        "msg": {"type": "string"},
                        "type": {
                            "type": "string",
                            "description": "the canonical code (gc-conformance codes)",
                        },
                    },
                    "required": ["loc", "msg", "type"],
                },
            }
        },
        "required": ["detail"],
    }


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _json_response(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _refusal_responses() -> dict[str, Any]:
    return {status: _json_response(text, _PROBLEM) for status, text in _REFUSALS.items()}


def _headers(mapping: HttpMapping) -> list[dict[str, Any]]:
    headers = []
    if mapping.idempotency_header:
        headers.append(
            {
                "name": mapping.idempotency_header,
                "in": "header",
                "required": False,
                "description": "Safe retries (extension): the same key and request get the "
                "first answer again; 1-255 visible ASCII characters",
                "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
            }
        )
    if mapping.clock_header:
        headers.append(
            {
                "name": mapping.clock_header,
                "in": "header",
                "required": False,
                "description": "Test mode only (extension): the instant the request happens at",
                "schema": {
                    "type": "string",
                    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                },
            }
        )
    return headers


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gc-conformance")
    except PackageNotFoundError:
        return "0+unknown"


__all__ = ["EXTENSION_PREFIX", "OPENAPI_VERSION", "openapi_document"]
