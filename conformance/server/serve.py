"""``gc-conformance serve``: run the served reference registry on a real uvicorn server.

Binds to loopback unless told otherwise: the test mode lets any admin reset
the registry and move its clock, which nobody should reach from a network by
accident. The socket is bound before uvicorn starts so that ``--port 0`` (a
free port) can be printed, and so that a caller that reads the first line of
output knows the server is accepting connections.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import sys
from typing import TextIO

import uvicorn

from gc_conformance.reference import Policies
from gc_conformance.server.app import ServerConfig, create_app

TOKEN_ENV = "GC_SERVE_TOKEN"


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
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=access_log, lifespan="off")
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


__all__ = ["TOKEN_ENV", "bind", "serve"]
