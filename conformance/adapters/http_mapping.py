"""Declarative HTTP mappings: how a registry's web API spells the contract's requests and answers.

Real registries deploy the EnergyTag API with their own routes, field names
and status values. A vendor describes those differences in a JSON file (the
format ``gc-conformance-http-mapping/1``, see ``docs/http.md``) instead of
writing a Python adapter. The same file drives both directions:

* the HTTP adapter *encodes* a contract request into a method, path and JSON
  body and *decodes* the answer back into contract fields;
* ``gc-conformance serve`` *decodes* the bodies it receives and *encodes* its
  answers with the shipped default mapping, so the served API and the default
  mapping cannot drift apart.

Renames are pairs of dotted paths, ``contract path -> API path``. A key ending
in ``.*`` moves every remaining field of that object under the API prefix on
the right (``""`` for the body's top level). Fields a mapping does not name
keep their names. Value tables translate enumerated values (bundle statuses)
between the contract's canonical names and the API's spelling.

What real APIs need beyond renames (issue 14), each optional:

* **ID tables** (``id_tables``, a route's ``ids`` and ``learn``): the registry
  generates its own (integer) IDs for accounts, devices and parties; the
  adapter learns each from the answer that created it and translates the
  suite's names both ways (``bundle.ids`` for records read back);
* **list wrapping**: an API path ending in ``[]`` sends a one-element list
  (``"bundle_id": "bundle_ids[]"``) and reads one back;
* **derived fields** (``derived``): templates such as ``"{actor@party}"``,
  ``"{device_id@device}"`` or ``"{now}"``, for an acting party spelled in two
  fields or a value built from others; ``constants`` for fixed ones;
* **results inferred from state** (``infer_result``): when the answer does not
  name the bundles a request produced, the adapter queries before and after
  and names them from the difference;
* **free-text errors** (``errors.patterns``): regular expression -> code;
* **query strings** (``send_as: "query"``);
* **multi-request actions** (``before``: requests sent first, e.g. create the
  user an account is then opened for, ``unless_known`` the user exists);
* **test-only and public routes** (``test_only``, ``public``): what a vendor
  added only for testing, and what needs no credential by design; the
  security probes leave both out of their credential checks.

A mapping file is validated against ``mappings/mapping.schema.json`` (shipped
with the package) before it is read; every error names the field.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import jsonschema

from gc_conformance.errors import UsageError

FORMAT = "gc-conformance-http-mapping/1"
DEFAULT_MAPPING = "energytag-v2"
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_READ_METHODS = frozenset({"GET"})  # idempotent reads: the only requests the adapter retries
SCHEMA_FILE = "mapping.schema.json"
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.@]+)\}")


class MappingError(UsageError, ValueError):
    """A mapping file is not usable: names the field and the rule it breaks (exit code 2)."""

    def __init__(self, field: str, rule: str) -> None:
        self.rule = rule
        super().__init__(rule, field=field)
        self.field: str = field


@attrs.frozen
class Renames:
    """Ordered ``contract path -> API path`` pairs, with optional ``prefix.*`` wildcards."""

    pairs: tuple[tuple[str, str], ...] = ()
    wildcards: tuple[tuple[str, str], ...] = ()  # (contract prefix, API prefix)

    @classmethod
    def parse(cls, raw: object, field: str) -> Renames:
        data = _object(raw if raw is not None else {}, field)
        pairs: list[tuple[str, str]] = []
        wildcards: list[tuple[str, str]] = []
        for key, value in data.items():
            if not isinstance(value, str):
                raise MappingError(f"{field}.{key}", "a rename's target is a string path")
            if key.endswith(".*"):
                wildcards.append((key[:-2], value))
            elif not key or not value:
                raise MappingError(f"{field}.{key}", "paths are non-empty")
            else:
                pairs.append((key, value))
        return cls(tuple(pairs), tuple(wildcards))

    def to_api(self, data: Mapping[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(dict(data))
        moved = [
            (dst, value)
            for src, dst in self.pairs
            for found, value in [pop_path(out, src)]
            if found
        ]
        for src, dst in self.wildcards:
            found, rest = pop_path(out, src)
            if found and isinstance(rest, Mapping):
                moved += [(_join(dst, key), value) for key, value in rest.items()]
            elif found:
                moved.append((src, rest))
        for dst, value in moved:
            if dst.endswith("[]"):
                dst, value = dst[:-2], [value]
            put_path(out, dst, value)
        return out

    def from_api(self, data: Mapping[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(dict(data))
        moved = [
            (src, _unwrap(value) if dst.endswith("[]") else value)
            for src, dst in self.pairs
            for found, value in [pop_path(out, dst.removesuffix("[]"))]
            if found
        ]
        for src, dst in self.wildcards:
            if dst:
                found, rest = pop_path(out, dst)
                if found:
                    moved.append((src, rest))
            else:  # every field left at the top level belongs to the wildcard's object
                moved += [(_join(src, key), out.pop(key)) for key in list(out)]
        for src, value in moved:
            put_path(out, src, value)
        return out


@attrs.frozen
class Learn:
    """After an accepted request: remember that the suite's ``name`` is the registry's ``id``.

    ``name`` is a template over the request (``"{account.account_id}"``); ``id``
    a dotted path in the answer body (``"id"``); ``table`` the ID table.
    """

    table: str
    name: str
    id: str


@attrs.frozen
class Route:
    """One operation of the API: method, path (``{field}`` placeholders) and the translations."""

    name: str
    method: str
    path: str
    fields: Renames = Renames()
    result: Renames = Renames()
    values: Mapping[str, str] = attrs.field(factory=dict)  # contract field -> value table
    constants: Mapping[str, Any] = attrs.field(factory=dict)  # fixed body fields
    actor_field: str | None = None
    status: int = 200
    ids: Mapping[str, str] = attrs.field(factory=dict)  # contract field -> ID table
    derived: Mapping[str, Any] = attrs.field(factory=dict)  # API path -> template or constant
    send_as: str = "json"  # "json" (a JSON body) or "query" (a query string)
    learn: tuple[Learn, ...] = ()
    unless_known: tuple[str, str] | None = None  # (table, name template): skip when known
    before: tuple[Route, ...] = ()  # requests sent first (multi-request actions)
    infer_result: bool = False
    test_only: bool = False  # added by the vendor only for testing: security probes skip it
    public: bool = False  # needs no credential by design (e.g. capabilities)
    contract_fields: bool = True  # False: the body is only derived fields and constants

    @property
    def idempotent(self) -> bool:
        return self.method in _READ_METHODS

    def placeholders(self) -> list[str]:
        return re.findall(r"\{([A-Za-z0-9_]+)\}", self.path)

    @property
    def probed(self) -> bool:
        """Whether the security profile's credential probes cover this route."""
        return not (self.test_only or self.public)


@attrs.frozen
class HttpMapping:
    """A parsed mapping file (format :data:`FORMAT`)."""

    name: str
    actions: Mapping[str, Route]
    admin: Mapping[str, Route]
    value_tables: Mapping[str, Mapping[str, str]]
    bundle_fields: Renames
    bundle_values: Mapping[str, str]
    state: Renames
    accepted_field: str | None
    accepted_values: frozenset[str]
    envelope: frozenset[str]  # fields every answer carries that are not part of the result
    error_code: str | None
    error_message: str | None
    error_codes: Mapping[str, str]
    http_status_codes: Mapping[int, str]
    clock_header: str | None
    capabilities: Mapping[str, Any]
    token_party_field: str
    token_field: str
    source: str
    # The request header the registry honours for safe retries of writes (None: it has none;
    # the security profile's replay-by-key check is then skipped).
    idempotency_header: str | None = None
    # The largest request body the registry accepts, as it declares it (None: not declared;
    # the security profile then uses its default, DEFAULT_HOSTILE_BODY_BYTES).
    max_body_bytes: int | None = None
    # Kinds of names the registry replaces by IDs of its own (accounts, devices, parties).
    id_tables: frozenset[str] = frozenset()
    bundle_ids: Mapping[str, str] = attrs.field(factory=dict)  # bundle field -> ID table
    error_patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    token_party_table: str | None = None  # the token route names the party by its registry ID
    issuer_ids: Mapping[str, Any] = attrs.field(factory=dict)  # ID table -> the issuer's ID
    # Where a success (``accepted.action_id``) and a refusal (``errors.action_id``) body carry
    # the request's ID in the registry's action log (D9); None: it does not say.
    accepted_action_id: str | None = None
    error_action_id: str | None = None

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, where: str | Path | None = None) -> HttpMapping:
        """The mapping in file ``where``, or the shipped one of that name (default: EnergyTag v2)."""
        name = str(where) if where is not None else DEFAULT_MAPPING
        path = Path(name)
        if path.suffix == ".json" and path.exists():
            text, source = path.read_text(encoding="utf-8"), str(path)
        else:
            shipped = resources.files("gc_conformance.adapters") / "mappings" / f"{name}.json"
            if not shipped.is_file():
                raise MappingError(
                    "mapping", f"no mapping file {name!r} (a .json path or a shipped name)"
                )
            text, source = shipped.read_text(encoding="utf-8"), f"shipped:{name}"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingError("mapping", f"{source} is not JSON: {exc}") from exc
        return cls.from_plain(raw, source)

    @classmethod
    def from_plain(cls, raw: object, source: str = "<memory>") -> HttpMapping:
        data = _object(raw, "mapping")
        if data.get("format") != FORMAT:
            raise MappingError("format", f"must be {FORMAT!r}")
        validate_schema(data)
        id_tables = frozenset(str(k) for k in data.get("id_tables", ()))
        tables = {
            key: {str(k): str(v) for k, v in _object(table, f"value_tables.{key}").items()}
            for key, table in _object(data.get("value_tables", {}), "value_tables").items()
        }
        actor_default = data.get("actor_field")
        if actor_default is not None and not isinstance(actor_default, str):
            raise MappingError("actor_field", "a field name or null")

        actions, admin = _routes(data, tables, actor_default, id_tables)
        bundle = _object(data.get("bundle", {}), "bundle")
        accepted = _object(data.get("accepted", {}), "accepted")
        errors = _object(data.get("errors", {}), "errors")
        token = _object(data.get("token", {}), "token")
        max_body = _max_body(_object(data.get("limits", {}), "limits"))
        http_codes, patterns = _error_readers(errors)
        party_table = token.get("party_id")
        if party_table is not None and party_table not in id_tables:
            raise MappingError("token.party_id", f"names no table of id_tables ({party_table!r})")
        return cls(
            name=_string(data.get("name", source), "name"),
            actions=actions,
            admin=admin,
            value_tables=tables,
            bundle_fields=Renames.parse(bundle.get("fields"), "bundle.fields"),
            bundle_values=_values(bundle.get("values"), "bundle.values", tables),
            state=Renames.parse(data.get("state_fields"), "state_fields"),
            accepted_field=_optional_string(accepted.get("field"), "accepted.field"),
            accepted_values=frozenset(str(v) for v in accepted.get("values", ())),
            envelope=frozenset(str(v) for v in accepted.get("envelope", ())),
            error_code=_optional_string(errors.get("code"), "errors.code"),
            error_message=_optional_string(errors.get("message"), "errors.message"),
            error_codes={
                str(k): str(v) for k, v in _object(errors.get("codes", {}), "errors.codes").items()
            },
            http_status_codes=http_codes,
            clock_header=_optional_string(data.get("clock_header"), "clock_header"),
            capabilities=_object(data.get("capabilities", {}), "capabilities"),
            token_party_field=_string(token.get("party_field", "party"), "token.party_field"),
            token_field=_string(token.get("token_field", "access_token"), "token.token_field"),
            source=source,
            idempotency_header=_optional_string(
                data.get("idempotency_header"), "idempotency_header"
            ),
            max_body_bytes=max_body,
            id_tables=id_tables,
            bundle_ids=_ids(bundle.get("ids"), "bundle.ids", id_tables),
            error_patterns=tuple(patterns),
            token_party_table=party_table,
            issuer_ids=_issuer_ids(data.get("issuer_ids"), id_tables),
            accepted_action_id=_optional_string(accepted.get("action_id"), "accepted.action_id"),
            error_action_id=_optional_string(errors.get("action_id"), "errors.action_id"),
        )

    # ------------------------------------------------------------------ translation

    def encode_request(self, route: Route, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Contract fields (no ``action``/``now``/``actor``) -> the API body."""
        body = self._values(route.values, fields, to_api=True)
        return {**route.fields.to_api(body), **route.constants}

    def decode_request(self, route: Route, body: Mapping[str, Any]) -> dict[str, Any]:
        """An API body -> contract fields (the inverse of :meth:`encode_request`)."""
        stripped = {k: v for k, v in body.items() if k not in route.constants}
        return self._values(route.values, route.fields.from_api(stripped), to_api=False)

    def encode_result(self, route: Route, result: Mapping[str, Any]) -> dict[str, Any]:
        return route.result.to_api(self._bundles(result, to_api=True))

    def decode_result(self, route: Route, body: Mapping[str, Any]) -> dict[str, Any]:
        result = {k: v for k, v in body.items() if k not in self.envelope}
        return self._bundles(route.result.from_api(result), to_api=False)

    def encode_state(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return self.state.to_api(self._bundles(state, to_api=True))

    def decode_state(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._bundles(self.state.from_api(body), to_api=False)

    def encode_bundle(self, bundle: Mapping[str, Any]) -> dict[str, Any]:
        return self.bundle_fields.to_api(self._values(self.bundle_values, bundle, to_api=True))

    def decode_bundle(self, bundle: Mapping[str, Any]) -> dict[str, Any]:
        return self._values(self.bundle_values, self.bundle_fields.from_api(bundle), to_api=False)

    def _bundles(self, data: Mapping[str, Any], *, to_api: bool) -> dict[str, Any]:
        out = dict(data)
        listed = out.get("bundles")
        if isinstance(listed, list):
            convert = self.encode_bundle if to_api else self.decode_bundle
            out["bundles"] = [convert(b) if isinstance(b, Mapping) else b for b in listed]
        return out

    def _values(
        self, which: Mapping[str, str], data: Mapping[str, Any], *, to_api: bool
    ) -> dict[str, Any]:
        out = dict(data)
        for field, table_name in which.items():
            value = out.get(field)
            if not isinstance(value, str):
                continue
            table = self.value_tables[table_name]
            if to_api:
                out[field] = table.get(value, value)
            else:
                inverse = {api: canonical for canonical, api in table.items()}
                out[field] = inverse.get(value, value)
        return out


# ---------------------------------------------------------------------- helpers


def _routes(
    data: Mapping[str, Any],
    tables: Mapping[str, Mapping[str, str]],
    actor_default: str | None,
    id_tables: frozenset[str],
) -> tuple[dict[str, Route], dict[str, Route]]:
    """The action routes (each an action of the contract) and the admin routes."""
    from gc_conformance.adapter import ACTIONS

    def routes(section: str, allow_actor: bool) -> dict[str, Route]:
        return {
            key: _route(
                key,
                spec,
                f"{section}.{key}",
                tables,
                actor_default if allow_actor else None,
                id_tables,
            )
            for key, spec in _object(data.get(section, {}), section).items()
        }

    actions = routes("actions", True)
    admin = routes("admin", False)
    for key in actions:
        if key not in ACTIONS:
            raise MappingError(f"actions.{key}", "is not an action of the contract")
    for key in admin:
        if key not in ("capabilities", "reset", "state", "history", "token"):
            raise MappingError(
                f"admin.{key}", "admin routes are capabilities, reset, state, history, token"
            )
    return actions, admin


def _max_body(limits: Mapping[str, Any]) -> int | None:
    max_body = limits.get("max_body_bytes")
    if max_body is not None and (
        not isinstance(max_body, int) or isinstance(max_body, bool) or max_body < 1
    ):
        raise MappingError("limits.max_body_bytes", "a positive whole number of bytes")
    return max_body


def _error_readers(
    errors: Mapping[str, Any],
) -> tuple[dict[int, str], list[tuple[re.Pattern[str], str]]]:
    """How a refusal's canonical code is read when the body names none: by HTTP status, and
    by regular expressions over a free-text message."""
    http_codes: dict[int, str] = {}
    for key, code in _object(errors.get("http_status", {}), "errors.http_status").items():
        if not str(key).isdigit() or not isinstance(code, str):
            raise MappingError(f"errors.http_status.{key}", "HTTP status -> canonical code")
        http_codes[int(key)] = code
    patterns = []
    for i, item in enumerate(errors.get("patterns", ())):
        try:
            patterns.append((re.compile(item["match"]), str(item["code"])))
        except re.error as exc:
            raise MappingError(
                f"errors.patterns.{i}.match", f"not a regular expression: {exc}"
            ) from None
    return http_codes, patterns


def _route(
    name: str,
    raw: object,
    field: str,
    tables: Mapping[str, Mapping[str, str]],
    actor_default: str | None,
    id_tables: frozenset[str] = frozenset(),
) -> Route:
    spec = _object(raw, field)
    method = spec.get("method", "POST")
    if method not in _METHODS:
        raise MappingError(f"{field}.method", f"one of {', '.join(sorted(_METHODS))}")
    path = spec.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise MappingError(f"{field}.path", "a path starting with '/'")
    status = spec.get("status", 200)
    if not isinstance(status, int) or not 200 <= status < 300:
        raise MappingError(f"{field}.status", "the 2xx status of a success")
    actor = spec.get("actor_field", actor_default)
    if actor is not None and not isinstance(actor, str):
        raise MappingError(f"{field}.actor_field", "a field name or null")
    learn = []
    for i, item in enumerate(spec.get("learn", ())):
        if item.get("table") not in id_tables:
            raise MappingError(
                f"{field}.learn.{i}.table", f"names no table of id_tables ({item.get('table')!r})"
            )
        learn.append(Learn(str(item["table"]), str(item["name"]), str(item["id"])))
    unless = spec.get("unless_known")
    if unless is not None and unless.get("table") not in id_tables:
        raise MappingError(
            f"{field}.unless_known.table", f"names no table of id_tables ({unless.get('table')!r})"
        )
    derived = dict(_object(spec.get("derived", {}), f"{field}.derived"))
    for key, template in derived.items():
        if isinstance(template, str):
            for ref in PLACEHOLDER.findall(template):
                table = ref.partition("@")[2]
                if table and table not in id_tables:
                    raise MappingError(
                        f"{field}.derived.{key}", f"names no table of id_tables ({table!r})"
                    )
    before = tuple(
        _route(f"{name}.before.{i}", step, f"{field}.before.{i}", tables, actor, id_tables)
        for i, step in enumerate(spec.get("before", ()))
    )
    return Route(
        name=name,
        method=method,
        path=path,
        fields=Renames.parse(spec.get("fields"), f"{field}.fields"),
        result=Renames.parse(spec.get("result"), f"{field}.result"),
        values=_values(spec.get("values"), f"{field}.values", tables),
        constants=dict(_object(spec.get("constants", {}), f"{field}.constants")),
        actor_field=actor,
        status=status,
        ids=_ids(spec.get("ids"), f"{field}.ids", id_tables),
        derived=derived,
        send_as=str(spec.get("send_as", "json")),
        learn=tuple(learn),
        unless_known=None if unless is None else (str(unless["table"]), str(unless["name"])),
        before=before,
        infer_result=bool(spec.get("infer_result", False)),
        test_only=bool(spec.get("test_only", False)),
        public=bool(spec.get("public", False)),
        contract_fields=bool(spec.get("contract_fields", True)),
    )


def _issuer_ids(raw: object, id_tables: frozenset[str]) -> dict[str, Any]:
    data = dict(_object(raw if raw is not None else {}, "issuer_ids"))
    for table in data:
        if table not in id_tables:
            raise MappingError(f"issuer_ids.{table}", f"names no table of id_tables ({table!r})")
    return data


def _ids(raw: object, field: str, id_tables: frozenset[str]) -> dict[str, str]:
    data = _object(raw if raw is not None else {}, field)
    for key, table in data.items():
        if table not in id_tables:
            raise MappingError(f"{field}.{key}", f"names no table of id_tables ({table!r})")
    return {str(k): str(v) for k, v in data.items()}


def _values(raw: object, field: str, tables: Mapping[str, Any]) -> dict[str, str]:
    data = _object(raw if raw is not None else {}, field)
    for key, table in data.items():
        if table not in tables:
            raise MappingError(f"{field}.{key}", f"names no table of value_tables ({table!r})")
    return {str(k): str(v) for k, v in data.items()}


def _object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MappingError(field, f"must be an object, got {type(value).__name__}")
    return value


def _string(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise MappingError(field, "must be a non-empty string")
    return value


def _optional_string(value: object, field: str) -> str | None:
    return None if value is None else _string(value, field)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def pop_path(data: dict[str, Any], path: str) -> tuple[bool, Any]:
    """Remove ``path`` from nested dicts; an object left empty by the removal goes too."""
    head, _, rest = path.partition(".")
    if head not in data:
        return False, None
    if not rest:
        return True, data.pop(head)
    inner = data[head]
    if not isinstance(inner, dict):
        return False, None
    found, value = pop_path(inner, rest)
    if found and not inner:
        del data[head]
    return found, value


def put_path(data: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        data[head] = value
        return
    inner = data.get(head)
    if not isinstance(inner, dict):
        inner = data[head] = {}
    put_path(inner, rest, value)


def _unwrap(value: Any) -> Any:
    """The one element of a one-element list (list-wrapped API fields), else the value."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


_VALIDATOR: list[Any] = []  # the compiled schema validator, built on first use


def schema() -> dict[str, Any]:
    """The JSON Schema of mapping files, as shipped (``mappings/mapping.schema.json``)."""
    text = (resources.files("gc_conformance.adapters") / "mappings" / SCHEMA_FILE).read_text(
        encoding="utf-8"
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate_schema(data: Mapping[str, Any]) -> None:
    """Check ``data`` against the mapping schema; the first error names its field."""
    if not _VALIDATOR:
        _VALIDATOR.append(jsonschema.Draft202012Validator(schema()))
    try:
        errors = list(_VALIDATOR[0].iter_errors(data))
    except (RecursionError, ValueError, TypeError) as exc:  # hostile nesting or values
        raise MappingError("mapping", f"cannot be validated: {type(exc).__name__}") from None
    if not errors:
        return
    error = sorted(errors, key=lambda e: (-len(e.absolute_path), str(list(e.absolute_path))))[0]
    path = [str(p) for p in error.absolute_path]
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        extra = re.findall(r"'([^']*)'", error.message)
        if extra:
            path.append(extra[0])
        raise MappingError(".".join(path) or "mapping", "is not a field of a mapping file")
    if "propertyNames" in error.schema_path:
        path.append(str(error.instance))
    raise MappingError(".".join(path) or "mapping", error.message[:300])


def lookup(data: object, path: str) -> Any:
    """The value at dotted ``path`` (list indexes allowed: ``detail.0.type``), or None."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


__all__ = [
    "DEFAULT_MAPPING",
    "FORMAT",
    "HttpMapping",
    "Learn",
    "MappingError",
    "Renames",
    "Route",
    "lookup",
    "schema",
    "validate_schema",
]
