"""``gc-conformance serve`` survives hostile clients (issue 13).

Deep JSON on every route that reads a body is a 400 problem body (not a 500, not a reset);
the Idempotency-Key memory is bounded in bytes; slow headers, slow bodies and huge headers are
cut off by the hardened uvicorn configuration ``serve`` uses; minting a token needs the admin.
The server runs on a real uvicorn in a thread, configured exactly as ``serve`` configures it
(``uvicorn_config``), with short timeouts so that the slow-client tests finish quickly.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from gc_conformance.adapters.http_mapping import HttpMapping
from gc_conformance.server import ServerConfig, create_app
from gc_conformance.server.app import MAX_HEADER_BYTES, MAX_JSON_DEPTH, RegistryService
from gc_conformance.server.serve import bind, uvicorn_config

TOKEN = "hostile-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
TRANSFER = "/certificates/certificates/transfer"


@contextlib.contextmanager
def hardened(**config: Any) -> Iterator[tuple[httpx.Client, RegistryService, int]]:
    """The app under ``serve``'s uvicorn configuration (0.5 s header timeout), in a thread."""
    app = create_app(ServerConfig(admin_token=TOKEN, test_mode=True, **config))
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, header_timeout_s=0.5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(2000):  # wait for start-up (polling, not a timing assertion)
        if server.started:
            break
        time.sleep(0.01)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        yield client, app.state.service, port
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[httpx.Client, RegistryService, int]]:
    with hardened() as running:
        yield running


def _deep(levels: int) -> bytes:
    return b'{"certificate_bundle_id": ' + b"[" * levels + b"]" * levels + b"}"


def _body_routes() -> list[tuple[str, str]]:
    mapping = HttpMapping.load()
    routes = [(r.method, r.path) for r in mapping.actions.values()]
    routes += [(r.method, r.path) for n, r in mapping.admin.items() if n != "capabilities"]
    return routes


@pytest.mark.parametrize(("method", "path"), _body_routes())
@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 600, 5000])
def test_deep_json_is_a_400_problem_on_every_route(
    server: tuple[httpx.Client, RegistryService, int], method: str, path: str, levels: int
) -> None:
    client, _, _ = server
    response = client.request(
        method, path, content=_deep(levels), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"][0]
    assert detail["type"] == "INVALID_FIELD"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in detail["msg"]


def test_a_body_at_the_depth_limit_is_judged_not_refused_as_deep(
    server: tuple[httpx.Client, RegistryService, int],
) -> None:
    client, _, _ = server
    response = client.post(
        TRANSFER,
        content=_deep(MAX_JSON_DEPTH - 1),
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code in (404, 422), response.text
    assert "deeper" not in response.text


def test_refused_megabyte_requests_do_not_fill_the_idempotency_memory(
    server: tuple[httpx.Client, RegistryService, int],
) -> None:
    """100 refused ~1 MB requests with distinct keys keep kilobytes, not ~100 MB."""
    client, service, _ = server
    client.post("/extensions/admin/reset", json={}, headers=ADMIN)
    filler = "x" * 1_000_000
    for n in range(100):
        response = client.post(
            TRANSFER,
            json={"certificate_bundle_id": 1, "target_id": "ACC", "colour": filler},
            headers={**ADMIN, "Idempotency-Key": f"key-{n}"},
        )
        assert 400 <= response.status_code < 500
    assert service.remembered_bytes < 200_000


def test_the_idempotency_memory_evicts_the_oldest_beyond_its_byte_budget() -> None:
    with hardened(idempotency_budget_bytes=4096) as (client, service, _):
        bodies = []
        for n in range(40):
            answer = client.post(
                "/accounts/account",
                json={"id": f"ACC-{n}", "account_name": "A" * 50, "holder_id": "h"},
                headers={**ADMIN, "Idempotency-Key": f"k{n}"},
            )
            assert answer.status_code == 200, answer.text
            bodies.append(answer.content)
            assert service.remembered_bytes <= 4096
        # the newest key is still remembered: replayed byte for byte
        again = client.post(
            "/accounts/account",
            json={"id": "ACC-39", "account_name": "A" * 50, "holder_id": "h"},
            headers={**ADMIN, "Idempotency-Key": "k39"},
        )
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.content == bodies[-1]
        # the oldest was forgotten: the key is free again (a new request, judged on its own)
        reused = client.post(
            "/accounts/account",
            json={"id": "ACC-NEW", "account_name": "B", "holder_id": "h"},
            headers={**ADMIN, "Idempotency-Key": "k0"},
        )
        assert reused.status_code == 200 and "Idempotent-Replayed" not in reused.headers


def _raw(port: int, data: bytes, *, wait: float = 20.0) -> bytes:
    """Send ``data`` and read until the server closes the connection (or ``wait`` passes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
        return received


def test_headers_that_never_finish_are_cut_off(
    server: tuple[httpx.Client, RegistryService, int],
) -> None:
    """Slowloris: the request line and one header, then silence; the server closes."""
    _, _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"GET /extensions/capabilities HTTP/1.1\r\nHost: x\r\n")
        assert sock.recv(65536) == b""  # closed by the server, not by our 20 s timeout


def test_a_body_that_never_finishes_is_a_408(
    server: tuple[httpx.Client, RegistryService, int],
) -> None:
    with hardened(body_timeout_s=0.5) as (_, _, port):
        answer = _raw(
            port,
            b"POST /accounts/account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + TOKEN.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"INVALID_FIELD" in answer


def test_oversized_headers_are_refused_and_the_server_lives_on(
    server: tuple[httpx.Client, RegistryService, int],
) -> None:
    client, _, port = server
    big = b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 1024) + b"\r\n"
    answer = _raw(port, b"GET /extensions/capabilities HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert b"INVALID_FIELD" in answer
    trickled = b"GET /extensions/capabilities HTTP/1.1\r\nHost: x\r\n" + big * 2  # never ends
    reply = _raw(port, trickled)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply[:100]
    assert client.get("/extensions/capabilities").status_code == 200


def test_minting_a_token_needs_the_admin_credential(
    server: tuple[httpx.Client, RegistryService, int],
) -> None:
    client, _, _ = server
    client.post("/extensions/admin/reset", json={}, headers=ADMIN)
    route = "/extensions/admin/tokens"
    assert client.post(route, json={"party": "alice"}).status_code == 401
    assert (
        client.post(route, json={"party": "alice"}, headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    minted = client.post(route, json={"party": "alice"}, headers=ADMIN)
    assert minted.status_code == 201
    alice = {"Authorization": f"Bearer {minted.json()['access_token']}"}
    for party in ("alice", "bob", "ISSUER"):
        refused = client.post(route, json={"party": party}, headers=alice)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"][0]["type"] == "NOT_AUTHORISED"
