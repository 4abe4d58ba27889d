"""``python -m examples.real_registry [--port N] [--db PATH] [--issuer NAME]``: run GridLedger.

``--validity rolling-12-months`` keeps certificates valid for 12 months after
their production instead of to the end of its calendar year.
``--test-clock-header NAME`` dates a request carrying that header by it instead
of the wall clock (a testing aid, off by default; see ``app``).

Binds 127.0.0.1 only. The admin (issuing body) API key comes from
``GRIDLEDGER_ADMIN_KEY`` (else one is generated and printed). The first output
line is ``serving http://127.0.0.1:PORT`` once the socket listens.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import tempfile

import uvicorn

from examples.real_registry.app import create_app
from examples.real_registry.ledger import VALIDITY_READINGS, Ledger


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.real_registry")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--db", default="", help="sqlite file (default: a fresh temporary one)")
    parser.add_argument("--issuer", default="GridLedger Issuing Body")
    parser.add_argument("--country", default="NL")
    parser.add_argument("--validity", choices=VALIDITY_READINGS, default=VALIDITY_READINGS[0])
    parser.add_argument(
        "--test-clock-header",
        default=None,
        metavar="NAME",
        help="testing aid: a request carrying this header is dated by it (off by default)",
    )
    args = parser.parse_args(argv)
    key = os.environ.get("GRIDLEDGER_ADMIN_KEY") or secrets.token_urlsafe(24)
    path = args.db or os.path.join(tempfile.mkdtemp(prefix="gridledger-"), "ledger.sqlite3")
    ledger = Ledger(path, args.issuer, args.country, args.validity)
    app = create_app(ledger, key, test_clock_header=args.test_clock_header)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections get TCP_NODELAY (asyncio sets it only when proto says TCP): a
    # keep-alive answer, written as headers then body, must not wait ~40 ms for the client's
    # delayed ACK (Nagle's algorithm) before its body goes out.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    print(f"serving http://{host}:{port}", flush=True)
    if "GRIDLEDGER_ADMIN_KEY" not in os.environ:
        print(f"admin key: {key}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
