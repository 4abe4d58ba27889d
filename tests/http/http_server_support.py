"""Starting and stopping a real ``gc-conformance serve`` process for the HTTP tests.

The server is started the way a user starts it (``python -m gc_conformance
serve``), so the tests cover the CLI, the socket binding and uvicorn, not only
the ASGI application. Its first output line is ``serving URL``, printed once
the socket is listening.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import uvicorn

from gc_conformance.server.serve import bind

ADMIN_TOKEN = "tests-admin-token-0123456789"


@attrs.frozen
class Served:
    url: str
    token: str
    process: subprocess.Popen[str]


def start_server(*extra: str) -> Served:
    """Start ``serve --port 0`` with ``extra`` arguments; wait for its URL line."""
    env = {**os.environ, "GC_SERVE_TOKEN": ADMIN_TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "gc_conformance", "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(x) for x in process.stdout or ()], daemon=True
    ).start()
    try:
        first = lines.get(timeout=30)
    except queue.Empty:
        process.kill()
        raise RuntimeError("serve printed nothing within 30 s") from None
    if not first.startswith("serving "):
        process.kill()
        raise RuntimeError(f"serve did not start: {first!r}")
    return Served(first.split()[1], ADMIN_TOKEN, process)


def stop_server(served: Served) -> None:
    served.process.terminate()
    try:
        served.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.process.kill()


@contextlib.contextmanager
def app_in_thread(app: Any) -> Iterator[httpx.Client]:
    """Serve an ASGI ``app`` with uvicorn in a thread on a free loopback port; a client for it.

    For server variants built in the test (another configuration, a broken
    authorizer) that the CLI does not offer.
    """
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(1000):  # wait for start-up (polling, not a timing assertion)
        if server.started:
            break
        time.sleep(0.01)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    try:
        yield client
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
