"""The reference registry as an ASGI application in the EnergyTag API shape.

Every route is generated from the shipped HTTP mapping
(``gc_conformance/adapters/mappings/energytag-v2.json``): the mapping says
which path and method carry which contract action and how fields are named,
so the served API and the HTTP adapter's default mapping are one description.
A request is handled in five steps, always in this order:

1. authenticate the bearer token (401 before the body is even read);
2. read the body (size limit, strict JSON object) and the clock;
3. ask the :class:`~gc_conformance.server.auth.Authorizer` who the request
   acts as (the one place authorization is decided);
4. translate the body into the contract's plain request and hand it to the
   same :class:`~gc_conformance.adapters.reference.ReferenceAdapter` the
   in-process suite uses (no second request builder, no rules of its own);
5. translate the answer back: success with the route's 2xx status and the
   spec's action envelope, refusal as the spec's ``HTTPValidationError``
   shape with the canonical code in ``detail[0].type``.

Model calls are synchronous and run one at a time under a lock, so each
request is atomic with respect to every other, as the model's single
decide-and-apply path expects.

Safe retries: a write may carry an ``Idempotency-Key`` header (the mapping's
``idempotency_header``; the EnergyTag spec has none, so this is an extension).
The server remembers, per credential's party, the key, the request it came
with and the answer it got. The same key with the same request gets the first
answer again (header ``Idempotent-Replayed: true``) and nothing is done twice;
the same key with another request is refused (422). Keys are forgotten at a
reset. What is remembered is bounded in *bytes*, not only in keys: a request is
remembered by its SHA-256 (never its body), the answer's bytes are counted, and
the oldest keys go first once :data:`IDEMPOTENCY_BUDGET_BYTES` (or
:data:`IDEMPOTENCY_CAPACITY` keys) would be exceeded, so a flood of large
refused requests cannot grow the server's memory.

Hostile bodies: larger than :data:`MAX_BODY_BYTES` is 413, slower than
:data:`BODY_TIMEOUT_S` is 408, not JSON or nested deeper than
:data:`MAX_JSON_DEPTH` levels is 400, each with the problem body every refusal
has; nothing recursive sees a body before its depth is checked.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import hashlib
import itertools
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gc_conformance import untrusted
from gc_conformance.adapters.http_mapping import HttpMapping, Route
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.reference import Policies
from gc_conformance.server.auth import (
    DEFAULT_TOKEN_LIFETIME_S,
    Access,
    AuthError,
    Authorizer,
    TokenStore,
)
from gc_conformance.server.openapi import openapi_document

DEFAULT_ISSUER = "ISSUER"
OPENAPI_PATH = "/openapi.json"  # public: the document generated from the mapping
MAX_BODY_BYTES = 1_048_576
IDEMPOTENCY_CAPACITY = 10_000  # remembered keys (all parties); the oldest go first
IDEMPOTENCY_BUDGET_BYTES = 8 * 1_048_576  # remembered answers + keys, all parties
_ENTRY_OVERHEAD = 256  # bytes counted per remembered key besides its key and answer
MAX_JSON_DEPTH = 32  # nesting levels of a request body (the deepest legitimate one is ~5)
BODY_TIMEOUT_S = 30.0  # to receive a whole body once its headers are in
MAX_HEADER_BYTES = 16 * 1024  # request headers (names, values); more is 431
_KEY_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))  # visible ASCII
_FORBIDDEN = frozenset(
    {"NOT_AUTHORISED", "NOT_OWNER", "ISSUER_MAY_NOT_HOLD", "ISSUER_MAY_NOT_TRADE"}
)


@attrs.frozen
class ServerConfig:
    """How the served registry behaves; ``bind_actor=False`` only for a broken test variant."""

    admin_token: str
    test_mode: bool = False  # enables reset and the clock header
    policies: Policies = attrs.field(factory=Policies)
    issuer_id: str = DEFAULT_ISSUER
    max_body_bytes: int = MAX_BODY_BYTES
    token_lifetime_s: float = DEFAULT_TOKEN_LIFETIME_S
    mapping: str | None = None  # a mapping file; None: the shipped EnergyTag v2 mapping
    bind_actor: bool = True
    idempotency: bool = True  # honour the mapping's idempotency header; False: a broken variant
    idempotency_budget_bytes: int = IDEMPOTENCY_BUDGET_BYTES
    body_timeout_s: float = BODY_TIMEOUT_S


class Problem(Exception):
    """A refusal made by the HTTP layer itself (bad body, bad clock header, not in test mode)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        super().__init__(message)


def _status_for(code: str | None) -> int:
    if code in _FORBIDDEN:
        return 403
    if code is not None and (code.startswith("UNKNOWN_") or code == "NOT_A_STORAGE_DEVICE"):
        return 404
    if code is not None and code.startswith("DUPLICATE_"):
        return 409
    return 422


def _refusal(
    status: int,
    code: str | None,
    message: str,
    field: str | None = None,
    *,
    action_id: object = None,
) -> JSONResponse:
    """The spec's ``HTTPValidationError`` body; a refusal the registry logged also carries its
    ``action_id`` (an extension: the spec gives refusals no envelope, D9 logs them too)."""
    loc = ["body"] if field is None else ["body", *field.split(".")]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body: dict[str, Any] = {"detail": [{"loc": loc, "msg": message, "type": code or "UNKNOWN"}]}
    if action_id is not None:
        body["action_id"] = str(action_id)
    return JSONResponse(body, status_code=status, headers=headers)


def _stamp(moment: _dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class RegistryService:
    """The reference registry behind the routes, with its credentials and clock."""

    def __init__(
        self, config: ServerConfig, wall_clock: Callable[[], _dt.datetime] | None = None
    ) -> None:
        self.config = config
        self.mapping = HttpMapping.load(config.mapping)
        self.tokens = TokenStore(config.admin_token, config.issuer_id)
        self.authorizer = Authorizer(self.tokens, bind_actor=config.bind_actor)
        self.registry = ReferenceAdapter(config.policies)
        self.registry.reset({"issuer": {"issuer_id": config.issuer_id}})
        self._wall_clock = wall_clock or (lambda: _dt.datetime.now(_dt.UTC))
        self._lock = threading.Lock()
        self._action_ids = itertools.count(1)
        # (party, key) -> (SHA-256 of the request it came with, status, body of the first answer),
        # oldest first; _remembered_bytes counts what they hold (see _entry_size)
        self._remembered: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self._remembered_bytes = 0

    # ------------------------------------------------------------------ pieces of a request

    def capabilities(self) -> dict[str, Any]:
        plain = dict(self.registry.capabilities())
        plain["name"] = "gc-conformance reference model (served over HTTP)"
        plain["clock"] = "controlled" if self.config.test_mode else "fixed"
        return plain

    def now(self, request: Request) -> str:
        header = self.mapping.clock_header
        value = request.headers.get(header) if header else None
        if value is None:
            return _stamp(self._wall_clock())
        if not self.config.test_mode:
            raise Problem(
                400, "INVALID_FIELD", f"the {header} header is accepted only in test mode", header
            )
        return value  # the model parses it strictly (INVALID_TIMESTAMP otherwise)

    async def body(self, request: Request) -> dict[str, Any]:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Problem(413, "INVALID_FIELD", f"the body exceeds {limit} bytes")
        raw = bytearray()
        try:
            async with asyncio.timeout(self.config.body_timeout_s):
                async for chunk in request.stream():
                    raw += chunk
                    if len(raw) > limit:
                        raise Problem(413, "INVALID_FIELD", f"the body exceeds {limit} bytes")
        except TimeoutError:
            raise Problem(
                408,
                "INVALID_FIELD",
                f"the body did not arrive within {self.config.body_timeout_s} s",
            ) from None
        if not raw.strip():
            return {}
        try:
            data = json.loads(bytes(raw), parse_constant=_no_constants)
        except RecursionError:
            raise Problem(
                400, "INVALID_FIELD", f"the body nests deeper than {MAX_JSON_DEPTH} levels"
            ) from None
        except ValueError as exc:
            raise Problem(400, "INVALID_FIELD", f"the body is not valid JSON: {exc}") from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise Problem(
                400, "INVALID_FIELD", f"the body nests deeper than {MAX_JSON_DEPTH} levels"
            )
        if not isinstance(data, dict):
            raise Problem(422, "INVALID_FIELD", "the body must be a JSON object")
        return data

    def envelope(self, now: str, action_id: object = None) -> dict[str, Any]:
        """The spec's action envelope; ``action_id`` is the model's (a read has none: it
        gets an ID of the server's own, ``read-N``, that names no logged action)."""
        return {
            "action_id": str(action_id)
            if action_id is not None
            else f"read-{next(self._action_ids)}",
            "action_response_status": "accepted",
            "action_request_datetime": now,
            "action_completed_datetime": now,
        }

    # ------------------------------------------------------------------ handlers

    async def action(self, request: Request, route: Route) -> Response:
        principal = self.authorizer.authenticate(request.headers.get("authorization"))
        # Before reading anything else: an anonymous caller learns nothing.
        self.authorizer.authorize(Access.PARTY, principal)
        body = await self.body(request)
        body.update(request.path_params)
        now = self.now(request)
        key = self.idempotency_key(request)
        fingerprint = hashlib.sha256(
            json.dumps([route.name, body], sort_keys=True, default=repr).encode()
        ).hexdigest()
        claimed = body.pop(route.actor_field, None) if route.actor_field else None
        actor = self.authorizer.authorize(Access.PARTY, principal, claimed)
        assert principal is not None  # authorize refuses anonymous callers of PARTY routes
        fields = self.mapping.decode_request(route, body)
        plain = {**fields, "action": route.name, "actor": actor, "now": now}
        with self._lock:
            remembered = self._remembered.get((principal.party, key)) if key else None
            if remembered is not None:
                return self._replay(remembered, fingerprint)
            answer = self.registry.execute(plain)
            if answer.get("accepted"):
                result = self.mapping.encode_result(route, answer.get("result", {}))
                response: Response = JSONResponse(
                    {**self.envelope(now, answer.get("action_id")), **result},
                    status_code=route.status,
                )
            else:
                code = answer.get("code")
                response = _refusal(
                    _status_for(code),
                    code,
                    str(answer.get("message", "")),
                    action_id=answer.get("action_id"),
                )
            if key:
                self._remember((principal.party, key), fingerprint, response)
        return response

    def idempotency_key(self, request: Request) -> str | None:
        """The request's idempotency key (validated), or None when it has none or it is off."""
        header = self.mapping.idempotency_header
        if not header or not self.config.idempotency:
            return None
        key = request.headers.get(header)
        if key is None:
            return None
        if not 1 <= len(key) <= 255 or not set(key) <= _KEY_CHARS:
            raise Problem(
                400, "INVALID_FIELD", f"{header} is 1-255 visible ASCII characters", header
            )
        return key

    def _replay(self, remembered: tuple[str, int, bytes], fingerprint: str) -> Response:
        first, status, content = remembered
        if first != fingerprint:
            header = self.mapping.idempotency_header
            raise Problem(
                422, "INVALID_FIELD", f"this {header} was already used for another request", header
            )
        return Response(
            content,
            status_code=status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    def _remember(self, slot: tuple[str, str], fingerprint: str, response: Response) -> None:
        """Remember an answer; the oldest keys go until the byte budget and key cap hold."""
        entry = (fingerprint, response.status_code, bytes(response.body))
        size = _entry_size(slot, entry)
        budget = self.config.idempotency_budget_bytes
        while self._remembered and (
            self._remembered_bytes + size > budget or len(self._remembered) >= IDEMPOTENCY_CAPACITY
        ):
            self._forget(next(iter(self._remembered)))
        if size > budget:
            return  # an answer larger than the whole budget is not kept (a read's, in practice)
        self._forget(slot)
        self._remembered[slot] = entry
        self._remembered_bytes += size

    def _forget(self, slot: tuple[str, str]) -> None:
        entry = self._remembered.pop(slot, None)
        if entry is not None:
            self._remembered_bytes -= _entry_size(slot, entry)

    @property
    def remembered_bytes(self) -> int:
        """What the idempotency memory holds now, as counted against its budget."""
        return self._remembered_bytes

    async def admin(self, request: Request, name: str) -> Response:
        access = Access.PUBLIC if name == "capabilities" else Access.ADMIN
        principal = self.authorizer.authenticate(request.headers.get("authorization"))
        self.authorizer.authorize(access, principal)
        if name == "capabilities":
            return JSONResponse(self.capabilities())
        body = await self.body(request)
        with self._lock:
            if name == "reset":
                return self._reset(body)
            if name == "state":
                return JSONResponse(self.mapping.encode_state(self.registry.observe()))
            if name == "history":
                return JSONResponse({"history": self.registry.history()})
            return self._mint(body)

    def _reset(self, setup: Mapping[str, Any]) -> Response:
        if not self.config.test_mode:
            raise Problem(403, "NOT_AUTHORISED", "reset is available only in test mode")
        issuer = setup.get("issuer", {})
        issuer_id = (
            issuer.get("issuer_id", self.config.issuer_id) if isinstance(issuer, dict) else None
        )
        if not isinstance(issuer_id, str) or not issuer_id:
            raise Problem(
                422, "INVALID_FIELD", "issuer.issuer_id must be a string", "issuer.issuer_id"
            )
        if setup.get("configuration", 1) not in (1, 2, 3):
            raise Problem(422, "INVALID_FIELD", "configuration is 1, 2 or 3", "configuration")
        try:
            self.registry.reset(setup)
        except Exception as exc:
            raise Problem(422, "INVALID_FIELD", f"the setup is malformed: {exc}") from None
        self.tokens.issuer = issuer_id
        self.tokens.revoke_all()
        self._remembered.clear()
        self._remembered_bytes = 0
        return JSONResponse({"reset": True, "issuer_id": issuer_id})

    def _mint(self, body: Mapping[str, Any]) -> Response:
        mapping = self.mapping
        party = body.get(mapping.token_party_field)
        if not isinstance(party, str) or not party or len(party) > 200:
            raise Problem(
                422, "INVALID_FIELD", "name the party (1-200 characters)", mapping.token_party_field
            )
        lifetime = body.get("expires_in", self.config.token_lifetime_s)
        if (
            not isinstance(lifetime, int | float)
            or isinstance(lifetime, bool)
            or not 0 < lifetime <= 86_400
        ):
            raise Problem(422, "INVALID_FIELD", "expires_in is 0 < seconds <= 86400", "expires_in")
        token = self.tokens.mint(party, float(lifetime))
        return JSONResponse(
            {
                mapping.token_field: token,
                "token_type": "bearer",
                mapping.token_party_field: party,
                "expires_in": lifetime,
            },
            status_code=mapping.admin["token"].status if "token" in mapping.admin else 201,
        )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _entry_size(slot: tuple[str, str], entry: tuple[str, int, bytes]) -> int:
    party, key = slot
    return len(party) + len(key) + len(entry[0]) + len(entry[2]) + _ENTRY_OVERHEAD


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed body, counted without recursion (stops past the limit)."""
    return untrusted.json_depth(value, MAX_JSON_DEPTH)


def create_app(
    config: ServerConfig, *, wall_clock: Callable[[], _dt.datetime] | None = None
) -> Starlette:
    """The ASGI application serving ``config``'s registry (see the module docstring)."""
    service = RegistryService(config, wall_clock)

    def guarded(
        handle: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handle(request)
            except AuthError as exc:
                return _refusal(exc.status, exc.code, exc.message)
            except Problem as exc:
                return _refusal(exc.status, exc.code, exc.message, exc.field)
            except Exception as exc:  # a bug of ours: still a problem body, never a reset
                logging.getLogger(__name__).exception("internal error on %s", request.url.path)
                return _refusal(500, "INTERNAL", f"internal error: {type(exc).__name__}")

        return endpoint

    def for_action(route: Route) -> Callable[[Request], Awaitable[Response]]:
        return guarded(lambda request: service.action(request, route))

    def for_admin(name: str) -> Callable[[Request], Awaitable[Response]]:
        return guarded(lambda request: service.admin(request, name))

    routes: list[StarletteRoute] = []
    seen: set[tuple[str, str]] = set()
    for route in service.mapping.actions.values():
        _claim(seen, route)
        routes.append(StarletteRoute(route.path, for_action(route), methods=[route.method]))
    for name, route in service.mapping.admin.items():
        _claim(seen, route)
        routes.append(StarletteRoute(route.path, for_admin(name), methods=[route.method]))
    document = openapi_document(service.mapping)

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    _claim(seen, Route(name="openapi", method="GET", path=OPENAPI_PATH))
    routes.append(StarletteRoute(OPENAPI_PATH, openapi, methods=["GET"]))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        what = "no such route" if status == 404 else "method not allowed on this route"
        return _refusal(status, "INVALID_FIELD", f"{what}: {request.method} {request.url.path}")

    app = Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_found},
        middleware=[Middleware(_HeaderLimit)],
    )
    app.state.service = service
    return app


class _HeaderLimit:
    """ASGI middleware: headers over :data:`MAX_HEADER_BYTES` get 431 before any route runs.

    uvicorn's h11 limit only bounds headers that arrive in pieces; a complete
    oversized block in one packet passes it, so the application checks too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > MAX_HEADER_BYTES:
                response = _refusal(
                    431, "INVALID_FIELD", f"the request headers exceed {MAX_HEADER_BYTES} bytes"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _claim(seen: set[tuple[str, str]], route: Route) -> None:
    key = (route.method, route.path)
    if key in seen:
        raise ValueError(
            f"two operations on {route.method} {route.path}: the server needs one each"
        )
    seen.add(key)


__all__ = [
    "BODY_TIMEOUT_S",
    "IDEMPOTENCY_BUDGET_BYTES",
    "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_JSON_DEPTH",
    "OPENAPI_PATH",
    "RegistryService",
    "ServerConfig",
    "create_app",
    "json_depth",
]
