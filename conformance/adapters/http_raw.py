"""Hand-made HTTP requests to the registry under test: the capability the security profile needs.

The contract (``execute``) sends only well-formed requests, each with the
credential of the party it names. The security profile must also send what a
hostile or careless client sends: no credential, a forged or expired one, one
party's token with another party's name in the body, malformed JSON, wrong
types, oversized bodies, the same request twice with one idempotency key, and
many requests at once. :meth:`HttpAdapter.raw_http()
<gc_conformance.adapters.http.HttpAdapter.raw_http>` returns a :class:`RawHttp`
for that; an adapter without ``raw_http`` makes those checks skip, with the
reason.

A :class:`RawHttp` builds requests from the same mapping file as the adapter
(so hand-made requests reach a vendor's own routes and field names), sends
them on the adapter's connection, and records every exchange in the same
redacted form with a ``curl`` command, so a failing security check carries
what went over the wire like any other. It decides nothing: the checks judge.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from gc_conformance.adapter import AdapterFailure
from gc_conformance.adapters.http_mapping import HttpMapping

if TYPE_CHECKING:
    from gc_conformance.adapters.http import HttpAdapter

_BODY_LIMIT = 4000  # characters of a body kept in a recorded exchange


@attrs.frozen
class RawRequest:
    """One hand-made request: route, body, and the ``Authorization`` header it carries.

    ``content`` (bytes sent as they are) wins over ``body`` (JSON-encoded);
    ``authorization`` is the whole header value, None for no header.
    ``credential`` and ``as_party`` only describe the request in reports.
    """

    method: str
    path: str
    body: Any = None
    content: bytes | None = None
    authorization: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    credential: str = "none"
    as_party: str = ""

    def evolve(self, **changes: Any) -> RawRequest:
        return attrs.evolve(self, **changes)

    def payload(self) -> bytes:
        if self.content is not None:
            return self.content
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


@attrs.frozen
class RawResponse:
    """What came back, with the canonical code read as the mapping says."""

    status: int
    body: Any  # parsed JSON, or the text when it is not JSON
    headers: Mapping[str, str]
    code: str | None
    message: str
    exchange: Mapping[str, Any]

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500


class RawHttp:
    """Hand-made requests through an :class:`HttpAdapter`'s mapping, connection and credentials."""

    def __init__(self, adapter: HttpAdapter) -> None:
        self._adapter = adapter
        self.mapping: HttpMapping = adapter.mapping
        self.base_url = adapter.base_url

    # ------------------------------------------------------------------ credentials

    def bearer(self, party: str) -> str:
        """The ``Authorization`` value the adapter uses for ``party`` (minted when needed)."""
        from gc_conformance.adapters.http import _Refused

        try:
            token = self._adapter._token_for(party)
        except _Refused as refused:
            raise AdapterFailure(f"no credential for {party!r}: {refused.answer}") from None
        if not token:
            raise AdapterFailure(f"the adapter has no credential for {party!r}")
        return f"Bearer {token}"

    @property
    def can_mint(self) -> bool:
        return "token" in self.mapping.admin

    def mint(self, party: str, expires_in: int) -> str:
        """A fresh token for ``party`` that expires in ``expires_in`` seconds (admin route)."""
        route = self.mapping.admin.get("token")
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no token route")
        body = {self.mapping.token_party_field: party, "expires_in": expires_in}
        response = self._adapter._send(route, body, self._adapter._admin_token, admin=True)
        if response.status_code // 100 != 2:
            raise AdapterFailure(
                self._adapter._explain(f"minting a token answered {response.status_code}")
            )
        parsed = _parsed(response)
        token = parsed.get(self.mapping.token_field) if isinstance(parsed, Mapping) else None
        if not isinstance(token, str) or not token:
            raise AdapterFailure("the token route answered no token")
        self._adapter._secrets.add(token)
        return token

    # ------------------------------------------------------------------ building requests

    def request(
        self, action: str, actor: str, *, credential: str = "", **fields: Any
    ) -> RawRequest:
        """The request the adapter would send for ``action`` by ``actor``, with actor's credential.

        ``fields`` are contract fields (encoded by the mapping); the body names
        ``actor`` in the mapping's actor field. Change ``authorization`` or the
        body afterwards to make it hostile.
        """
        route = self.mapping.actions.get(action)
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no route for {action!r}")
        body = self.mapping.encode_request(route, fields)
        if route.actor_field:
            body[route.actor_field] = actor
        path = route.path
        for name in route.placeholders():
            value = body.pop(name, "")
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        return RawRequest(
            route.method,
            path,
            body,
            authorization=self.bearer(actor),
            credential=credential or f"{actor}'s token",
            as_party=actor,
        )

    def admin_request(self, name: str, body: Any = None) -> RawRequest:
        """A request to an admin route (``reset``, ``state``, ``history``, ``token``), no credential."""
        route = self.mapping.admin.get(name)
        if route is None:
            raise AdapterFailure(f"the mapping {self.mapping.source} has no {name} route")
        return RawRequest(route.method, route.path, body)

    def idempotency_header(self) -> str | None:
        return self.mapping.idempotency_header

    # ------------------------------------------------------------------ sending

    def send(self, request: RawRequest, *, now: str | None = None) -> RawResponse:
        """Send ``request`` once (never retried); a transport failure is an AdapterFailure."""
        return self._send_with(self._adapter._client, request, now)

    def parallel(
        self, requests: Sequence[RawRequest], *, now: str | None = None
    ) -> list[RawResponse | Exception]:
        """Send ``requests`` at once, one thread and connection each, released together.

        Each answer (or the exception that stopped it) is at the request's index.
        """
        barrier = threading.Barrier(len(requests))
        results: list[RawResponse | Exception] = [AdapterFailure("not sent") for _ in requests]
        timeout = self._adapter._client.timeout

        def one(index: int) -> None:
            with httpx.Client(timeout=timeout) as client:
                try:
                    barrier.wait(timeout=30)
                    results[index] = self._send_with(client, requests[index], now)
                except Exception as exc:
                    results[index] = exc

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def _send_with(self, client: httpx.Client, request: RawRequest, now: str | None) -> RawResponse:
        adapter = self._adapter
        url = self.base_url + request.path
        headers: dict[str, str] = {"Accept": "application/json"}
        if now is not None and self.mapping.clock_header and adapter._clock_controlled():
            headers[self.mapping.clock_header] = now
        content = request.payload()
        if content and request.content is None:
            headers["Content-Type"] = "application/json"
        headers.update(request.headers)
        if request.authorization is not None:
            headers["Authorization"] = request.authorization
        exchange = self._record(request, url, headers, content)
        started = time.perf_counter()
        try:
            adapter.requests_sent += 1
            response = client.request(request.method, url, headers=headers, content=content)
        except httpx.TransportError as exc:
            exchange["error"] = f"{type(exc).__name__}: {exc}"
            raise AdapterFailure(
                f"{request.method} {url} failed: {exc}; reproduce: {exchange['curl']}"
            ) from exc
        exchange["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        exchange["status"] = response.status_code
        exchange["response"] = adapter._redact(response.text)[:_BODY_LIMIT]
        body = _parsed(response)
        answer = adapter._refusal(response.status_code, body)
        return RawResponse(
            status=response.status_code,
            body=body,
            headers=dict(response.headers),
            code=answer.get("code") if not 200 <= response.status_code < 300 else None,
            message=str(answer.get("message", "")),
            exchange=exchange,
        )

    def _record(
        self, request: RawRequest, url: str, headers: Mapping[str, str], content: bytes
    ) -> dict[str, Any]:
        """The exchange as the adapter records one: secrets redacted, a curl command."""
        adapter = self._adapter
        shown: dict[str, str] = {}
        for key, value in headers.items():
            redacted = adapter._redact(value)
            if key == "Authorization" and redacted != value:
                redacted = "Bearer $TOKEN"
            shown[key] = redacted
        text = adapter._redact(content.decode(errors="replace")) if content else ""
        command = ["curl -sS -X", request.method, shlex.quote(url)]
        for key, value in shown.items():
            command.append(
                f'-H "{key}: {value}"'
                if value == "Bearer $TOKEN"
                else "-H " + shlex.quote(f"{key}: {value}")
            )
        if len(text) > _BODY_LIMIT:
            command.append(f"--data-binary @BODY  # {len(content)} bytes; starts as shown")
        elif text:
            command.append("--data-raw " + shlex.quote(text))
        exchange: dict[str, Any] = {
            "method": request.method,
            "url": url,
            "as": request.as_party or "(anonymous)",
            "credential": request.credential,
            "request_headers": shown,
            "request": text[:_BODY_LIMIT],
            "curl": " ".join(command),
        }
        adapter.exchanges.append(exchange)
        return exchange


def _parsed(response: httpx.Response) -> Any:
    """The body as JSON, or its (shortened) text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text[:_BODY_LIMIT]


__all__ = ["RawHttp", "RawRequest", "RawResponse"]
