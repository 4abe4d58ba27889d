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
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from gc_conformance.adapter import AdapterFailure
from gc_conformance.adapters.http_mapping import HttpMapping, Route

if TYPE_CHECKING:
    from gc_conformance.adapters.http import HttpAdapter


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
        return self._adapter.authorization(party)

    @property
    def can_mint(self) -> bool:
        return "token" in self.mapping.admin

    def mint(self, party: str, expires_in: int) -> str:
        """A fresh token for ``party`` that expires in ``expires_in`` seconds (admin route)."""
        return self._adapter.mint_credential(party, expires_in)

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
        method, path, body = self._adapter.route_request(route, actor, fields)
        return RawRequest(
            method,
            path,
            body,
            authorization=self.bearer(actor),
            credential=credential or f"{actor}'s token",
            as_party=actor,
        )

    def route_request(self, route: Route, actor: str = "") -> RawRequest:
        """A request to any route of the mapping (action or admin), with no credential.

        The body is what the adapter would send with no contract fields (for
        probes that must be refused before the body matters).
        """
        method, path, body = self._adapter.route_request(route, actor)
        return RawRequest(method, path, body, as_party=actor)

    def probed_routes(self) -> list[tuple[str, Route]]:
        """Every route the credential probes cover: not ``test_only``, not ``public``."""
        routes = [(f"actions.{k}", r) for k, r in self.mapping.actions.items()]
        routes += [(f"admin.{k}", r) for k, r in self.mapping.admin.items()]
        return [(name, route) for name, route in routes if route.probed]

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
        return self._adapter.send_raw(request, now=now)

    def parallel(
        self, requests: Sequence[RawRequest], *, now: str | None = None
    ) -> list[RawResponse | Exception]:
        """Send ``requests`` at once, one thread and connection each, released together.

        Each answer (or the exception that stopped it) is at the request's index.
        """
        barrier = threading.Barrier(len(requests))
        results: list[RawResponse | Exception] = [AdapterFailure("not sent") for _ in requests]

        def one(index: int) -> None:
            with self._adapter.new_client() as client:
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
        return self._adapter.send_raw(request, now=now, client=client)


__all__ = ["RawHttp", "RawRequest", "RawResponse"]
