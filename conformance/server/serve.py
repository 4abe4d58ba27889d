"""``gc-conformance serve``: run the served reference registry on a real uvicorn server.

Binds to loopback unless told otherwise: the test mode lets any admin reset
the registry and move its clock, which nobody should reach from a network by
accident. The socket is bound before uvicorn starts so that ``--port 0`` (a
free port) can be printed, and so that a caller that reads the first line of
output knows the server is accepting connections.

uvicorn is hardened against slow and hostile clients (``docs/http.md``,
"Limits"): a connection must deliver a request's headers within
:data:`HEADER_TIMEOUT_S` (uvicorn has no such timeout of its own, hence the
small protocol subclass), an idle keep-alive connection is closed after
:data:`KEEP_ALIVE_S`, headers are at most :data:`MAX_HEADER_BYTES`, and at
most :data:`MAX_CONCURRENCY` connections are served at once (more get 503).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import socket
import sys
from typing import Any, TextIO

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gc_conformance.reference import Policies
from gc_conformance.server.app import MAX_HEADER_BYTES, ServerConfig, create_app

TOKEN_ENV = "GC_SERVE_TOKEN"
HEADER_TIMEOUT_S = 10.0  # from connection (or the previous answer) to a request's complete headers
KEEP_ALIVE_S = 5.0  # an idle keep-alive connection is closed after this
MAX_CONCURRENCY = 256  # connections and tasks at once; beyond, 503


class _HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol plus a header timeout (slowloris: headers sent a byte at a time).

    uvicorn cancels its keep-alive timer on the first byte of data and has no
    other timer until the request's headers are complete, so a client can hold
    a connection forever. Here a timer is armed when the connection opens and
    after each answer; if no new request's headers were parsed by then, the
    connection is closed.
    """

    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        waiting_after = self.cycle
        self._header_timer = self.loop.call_later(
            self.header_timeout_s, self._header_deadline, waiting_after
        )

    def _header_deadline(self, waiting_after: Any) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()  # no request's headers arrived in time


def uvicorn_config(
    app: Any, *, access_log: bool = False, header_timeout_s: float = HEADER_TIMEOUT_S
) -> uvicorn.Config:
    """The hardened uvicorn configuration ``serve`` uses (the tests use it too)."""
    protocol = type(
        "HeaderTimeoutProtocol", (_HeaderTimeoutProtocol,), {"header_timeout_s": header_timeout_s}
    )
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=access_log,
        lifespan="off",
        http=protocol,
        timeout_keep_alive=int(KEEP_ALIVE_S),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=MAX_CONCURRENCY,
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only then, and without
    # it every keep-alive response waits ~40 ms for a delayed ACK (Nagle's algorithm).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    test_mode: bool = False,
    policies: Policies | None = None,
    issuer_id: str = "ISSUER",
    mapping: str | None = None,
    access_log: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """Serve until interrupted; the first output line is ``serving URL``. Returns an exit code."""
    from_env = os.environ.get(TOKEN_ENV)
    admin_token = token or from_env or secrets.token_urlsafe(32)
    config = ServerConfig(
        admin_token=admin_token,
        test_mode=test_mode,
        policies=policies if policies is not None else Policies(),
        issuer_id=issuer_id,
        mapping=mapping,
    )
    app = create_app(config)
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving http://{shown}:{bound_port}", file=out)
    if token or from_env:
        print("admin token: as given (--token or GC_SERVE_TOKEN)", file=out)
    else:
        print(f"admin token: {admin_token}", file=out)
    mode = "test mode: reset and clock control (X-GC-Now) enabled" if test_mode else "wall clock"
    print(f"{mode}; issuer {issuer_id}", file=out)
    if not _is_loopback(host):
        print(f"warning: {host} is not a loopback address; the registry is reachable", file=out)
    out.flush()
    server = uvicorn.Server(uvicorn_config(app, access_log=access_log))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


__all__ = [
    "HEADER_TIMEOUT_S",
    "KEEP_ALIVE_S",
    "MAX_CONCURRENCY",
    "MAX_HEADER_BYTES",
    "TOKEN_ENV",
    "bind",
    "serve",
    "uvicorn_config",
]
