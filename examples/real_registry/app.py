"""GridLedger's HTTP API (starlette): authentication, routes, statuses; the rules are ``ledger``'s.

Routes (all JSON; every one but ``GET /api/v1/info`` needs ``Authorization:
Bearer KEY``):

=======  ===================================  ==========================================
method   path                                 what
=======  ===================================  ==========================================
GET      /api/v1/info                         name and version (public)
POST     /api/v1/users                        create a user (issuer) -> ``{"id"}``
POST     /api/v1/users/{user_id}/keys         an API key for a user (issuer)
POST     /api/v1/accounts                     open an account for one user (issuer)
POST     /api/v1/devices                      register a device (issuer)
POST     /api/v1/readings                     submit metered production; issues (issuer)
POST     /api/v1/certificates/transfer        ``bundle_ids`` (a list), ``target_account_id``
POST     /api/v1/certificates/cancel          ``bundle_ids``, ``beneficiary``
POST     /api/v1/certificates/claim           ``bundle_ids``, ``claimant``
POST     /api/v1/certificates/withdraw        ``bundle_ids``, ``reason`` (issuer)
GET      /api/v1/certificates                 query string filters -> ``{"results": [...]}``
=======  ===================================  ==========================================

Writes on bundles answer ``{"status": "accepted", "action_id": N}`` and do not
name the bundles a split made. Errors are ``{"error": "a sentence"}`` with 400,
401, 403, 404, 409, 413 or 422. The clock is the wall clock.

A testing aid, off unless asked for (``create_app(..., test_clock_header=NAME)``,
``--test-clock-header NAME``): a request carrying that header is dated by it
instead of the wall clock, as a vendor's staging build might allow. Production
builds leave it off; the suite uses it only to measure its own power on the
one-second validity edges a wall clock cannot reach (``tools/mutation.py
--target gridledger-clock``), and the mapping that uses it declares the clock
``controlled`` and names the header (``clock_header``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from examples.real_registry.ledger import Ledger, Refused

MAX_BODY = 256 * 1024
KEY_LIFETIME_S = 3600
_counter = iter(range(1, 10**12))

Handler = Callable[[Request], Awaitable[JSONResponse]]


def create_app(
    ledger: Ledger, admin_key: str, *, test_clock_header: str | None = None
) -> Starlette:
    """The ASGI application: ``admin_key`` is the issuing body's API key.

    ``test_clock_header``: the request header that dates a request in place of the
    wall clock (a testing aid; None, the default, keeps the wall clock only).
    """
    ledger.add_key(admin_key, ledger.issuer_id(), float("inf"))

    def endpoint(
        work: Callable[[Any, Any, Request], Any], *, status: int = 200, body: bool = True
    ) -> Handler:
        async def handle(request: Request) -> JSONResponse:
            try:
                user = _authenticate(ledger, request)
                data = await _body(request) if body else None
                result = work(user, data, request)
            except Refused as refused:
                headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
                return JSONResponse({"error": refused.text}, refused.status, headers=headers)
            return JSONResponse(result, status)

        return handle

    latest: list[dt.datetime] = []  # the test clock's last instant: it only moves forward

    def now(request: Request) -> dt.datetime:
        if test_clock_header is None or test_clock_header not in request.headers:
            return dt.datetime.now(dt.UTC).replace(microsecond=0)
        moment = _test_instant(test_clock_header, request.headers[test_clock_header])
        if latest and moment < latest[0]:
            raise Refused(409, f"the request is dated before {latest[0].isoformat()}")
        latest[:] = [moment]
        return moment

    def accepted(action: Callable[[Any, Any, dt.datetime], None]) -> Callable[..., Any]:
        def run(user: Any, data: Any, request: Request) -> dict[str, Any]:
            action(user, data, now(request))
            return {"status": "accepted", "action_id": next(_counter)}

        return run

    def new_key(user: Any, data: Any, request: Request) -> dict[str, Any]:
        if not user["is_issuer"]:
            raise Refused(403, "only the issuing body may do this")
        lifetime = data.get("expires_in", KEY_LIFETIME_S) if isinstance(data, dict) else None
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 0 < lifetime <= 86400:
            raise Refused(422, "expires_in must be 1-86400 seconds")
        key = secrets.token_urlsafe(24)
        ledger.add_key(key, request.path_params["user_id"], time.time() + lifetime)
        return {"api_key": key, "expires_in": lifetime}

    def query(user: Any, data: Any, request: Request) -> dict[str, Any]:
        params = dict(request.query_params)
        if len(params) != len(request.query_params.multi_items()):
            raise Refused(400, "each query parameter may be given once")
        return {"results": ledger.query(user, params)}

    async def info(request: Request) -> JSONResponse:
        return JSONResponse({"name": "GridLedger", "version": "0.3"})

    v1 = "/api/v1"
    routes = [
        Route(f"{v1}/info", info, methods=["GET"]),
        Route(
            f"{v1}/users",
            endpoint(lambda u, d, r: ledger.create_user(u, d), status=201),
            methods=["POST"],
        ),
        Route(f"{v1}/users/{{user_id}}/keys", endpoint(new_key, status=201), methods=["POST"]),
        Route(
            f"{v1}/accounts",
            endpoint(lambda u, d, r: ledger.create_account(u, d), status=201),
            methods=["POST"],
        ),
        Route(
            f"{v1}/devices",
            endpoint(lambda u, d, r: ledger.create_device(u, d), status=201),
            methods=["POST"],
        ),
        Route(
            f"{v1}/readings",
            endpoint(lambda u, d, r: ledger.submit_reading(u, d, now(r)), status=201),
            methods=["POST"],
        ),
        Route(f"{v1}/certificates/transfer", endpoint(accepted(ledger.transfer)), methods=["POST"]),
        Route(f"{v1}/certificates/cancel", endpoint(accepted(ledger.cancel)), methods=["POST"]),
        Route(f"{v1}/certificates/claim", endpoint(accepted(ledger.claim)), methods=["POST"]),
        Route(f"{v1}/certificates/withdraw", endpoint(accepted(ledger.withdraw)), methods=["POST"]),
        Route(f"{v1}/certificates", endpoint(query, body=False), methods=["GET"]),
    ]
    return Starlette(routes=routes)


def _test_instant(header: str, value: str) -> dt.datetime:
    """The instant a test-clock header names: whole seconds, UTC, or a 400 naming the header."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise Refused(400, f"{header} is not an ISO 8601 timestamp") from None
    if moment.utcoffset() is None:
        raise Refused(400, f"{header} must carry a UTC offset")
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _authenticate(ledger: Ledger, request: Request) -> Any:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Refused(401, "authentication required")
    user = ledger.user_for_key(key.strip(), time.time())
    if user is None:
        raise Refused(401, "invalid or expired API key")
    return user


async def _body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise Refused(413, "request body too large")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise Refused(413, "request body too large")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Refused(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body must be a JSON object")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
