"""``GET /openapi.json``: generated from the mapping, complete, and true (issue 16).

The document lists exactly the routes the server has (it is generated from the
same mapping), marks the extensions, and Schemathesis — an independent,
well-kept OpenAPI client — drives the served reference with it, finding no 5xx,
no undocumented status and no response that breaks its schema.
"""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gc_conformance.adapters.http_mapping import HttpMapping
from gc_conformance.server import ServerConfig, create_app
from gc_conformance.server.openapi import EXTENSION_PREFIX, openapi_document
from gc_conformance.server.serve import bind, uvicorn_config

TOKEN = "openapi-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "energytag-api-openapi.yaml"


@contextlib.contextmanager
def _serving() -> Iterator[str]:
    app = create_app(ServerConfig(admin_token=TOKEN, test_mode=True))
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(2000):  # wait for start-up (polling, not a timing assertion)
        if server.started:
            break
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with _serving() as served:
        _seed(served)
        yield served


def _seed(url: str) -> None:
    """Accounts, a device and bundles 1.., so that generated requests can also succeed."""
    from gc_conformance.adapters.http import HttpAdapter
    from gc_conformance.session import device_record

    adapter = HttpAdapter(url, token=TOKEN)
    adapter.reset({"issuer": {"issuer_id": "ISSUER"}})
    now = "2024-03-02T00:00:00Z"

    def do(action: str, **fields: Any) -> None:
        answer = adapter.execute({"action": action, "actor": "ISSUER", "now": now, **fields})
        assert answer["accepted"], answer

    do("open_account", account={"account_id": "A", "holder_id": "alice", "account_name": "a"})
    do("register_device", device=device_record("W", "M-W", "A", 5_000_000, "wind"))
    for hour in range(10, 14):
        do(
            "submit_production",
            device_id="W",
            meter_id="M-W",
            start=f"2024-03-01T{hour}:00:00Z",
            end=f"2024-03-01T{hour + 1}:00:00Z",
            energy_wh="1000",
        )
    adapter.close()


@pytest.fixture(scope="module")
def document(url: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/openapi.json")
    assert response.status_code == 200
    loaded: dict[str, Any] = response.json()
    return loaded


def test_every_route_of_the_mapping_is_documented(document: dict[str, Any]) -> None:
    mapping = HttpMapping.load()
    served = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routes = {(r.method, r.path) for r in [*mapping.actions.values(), *mapping.admin.values()]}
    assert served == routes
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for operation in item.values():
            assert "responses" in operation and operation["operationId"]
            if path.startswith(EXTENSION_PREFIX):
                assert operation["x-extension"] is True and "extensions" in operation["tags"]
            else:
                assert "x-extension" not in operation
    capabilities = document["paths"]["/extensions/capabilities"]["get"]
    assert capabilities["security"] == []


def test_request_schemas_use_the_api_field_names(document: dict[str, Any]) -> None:
    transfer = document["paths"]["/certificates/certificates/transfer"]["post"]
    body = transfer["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {
        "certificate_bundle_id",
        "target_id",
        "certificate_quantity",
        "source_id",
    }
    assert body["required"] == ["certificate_bundle_id", "target_id"]
    assert body["additionalProperties"] is False
    assert "202" in transfer["responses"] and "422" in transfer["responses"]


@pytest.mark.skipif(not SPEC.is_file(), reason="the EnergyTag spec is not beside the checkout")
def test_every_non_extension_route_is_in_the_energytag_spec(document: dict[str, Any]) -> None:
    import yaml

    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        if path.startswith(EXTENSION_PREFIX) or path == "/openapi.json":
            continue
        assert path in spec["paths"], path
        for method in item:
            assert method in spec["paths"][path], (method, path)


# ---------------------------------------------------------------------- Schemathesis


def test_the_served_document_is_the_generated_one(document: dict[str, Any]) -> None:
    assert document == openapi_document(HttpMapping.load())


# The generated document (equal to the served one, above), loaded at collection time so that
# Schemathesis makes one test per operation; the requests go to the served reference.
SCHEMA = schemathesis.openapi.from_dict(openapi_document(HttpMapping.load()))


@SCHEMA.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(case: Any, url: str) -> None:
    """Every generated request; many are refused (422/404...), which must be documented too.

    The clock header and ``source_id`` are dropped from most cases: a random instant or
    party is refused before anything else, and the success answers' schemas would then
    never be exercised.
    """
    if case.headers and zlib.crc32(repr(case.body).encode()) % 4:
        case.headers.pop("X-GC-Now", None)
    if isinstance(case.body, dict) and zlib.crc32(repr(case.headers).encode()) % 4:
        case.body.pop("source_id", None)
    case.call_and_validate(
        base_url=url,
        headers=ADMIN,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
