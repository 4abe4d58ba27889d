"""The DONE bar of issue 8 (part 1): the whole suite over HTTP gives the in-process verdicts.

``gc-conformance run --adapter http://...`` against ``serve --test-mode``
must pass exactly the checks ``--adapter reference`` passes and skip only
what it skips; an unreachable registry stops the run with exit code 3.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from http_server_support import Served, start_server, stop_server


def run_cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GC_HTTP_")}
    if token is not None:
        env["GC_HTTP_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "gc_conformance", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in document["checks"]}


def test_every_profile_over_http_matches_the_in_process_run(served: Served, tmp_path: Path) -> None:
    over_http = run_cli(
        "run",
        "--adapter",
        served.url,
        "--json",
        str(tmp_path / "http.json"),
        "--quiet",
        token=served.token,
    )
    assert over_http.returncode == 0, over_http.stdout + over_http.stderr
    in_process = run_cli(
        "run", "--adapter", "reference", "--json", str(tmp_path / "ref.json"), "--quiet"
    )
    assert in_process.returncode == 0, in_process.stdout + in_process.stderr
    http_doc = json.loads((tmp_path / "http.json").read_text())
    ref_doc = json.loads((tmp_path / "ref.json").read_text())
    assert http_doc["summary"]["verdict"] == "pass"
    # The security profile needs the wire: it passes over HTTP and is skipped in process.
    security = {c["id"] for c in http_doc["checks"] if c["profile"] == "security"}
    over_http, in_process = statuses(http_doc), statuses(ref_doc)
    assert security and all(over_http[i] == "pass" and in_process[i] == "skip" for i in security)
    assert {i: s for i, s in over_http.items() if i not in security} == {
        i: s for i, s in in_process.items() if i not in security
    }
    http_counts, ref_counts = http_doc["summary"]["counts"], ref_doc["summary"]["counts"]
    assert http_counts["pass"] == ref_counts["pass"] + len(security) >= 150
    assert http_counts["skip"] == ref_counts["skip"] - len(security)
    assert http_doc["registry"]["clock"] == "controlled"
    assert sorted(http_doc["registry"]["profiles"]) == sorted(
        [*ref_doc["registry"]["profiles"], "security"]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_registry_stops_the_run_with_exit_3() -> None:
    result = run_cli("run", "--adapter", f"http://127.0.0.1:{free_port()}?timeout=2")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "did not answer" in result.stdout + result.stderr


def test_a_wrong_admin_token_stops_the_run_before_any_verdict(served: Served) -> None:
    result = run_cli(
        "run",
        "--adapter",
        served.url,
        "--check",
        "core.transfer.non_owner_refused",
        token="not-the-admin-token-at-all",
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "answered 401" in result.stdout + result.stderr


def vendor_mapping(path: Path) -> Path:
    """The shipped mapping with another deployment's routes, field names and status spelling."""
    from importlib import resources

    shipped = resources.files("gc_conformance.adapters") / "mappings" / "energytag-v2.json"
    raw = json.loads(shipped.read_text())
    for route in [*raw["actions"].values(), *raw["admin"].values()]:
        route["path"] = "/api/v1" + route["path"].replace("/certificates/certificates", "/gc")
    raw["actions"]["transfer"]["fields"] = {
        "bundle_id": "bundleRef",
        "to_account": "toAccount",
        "quantity": "wh",
    }
    raw["actions"]["transfer"]["result"] = {"bundle_id": "bundleRef"}
    raw["bundle"]["fields"] = {"bundle_id": "bundleRef", "device_id": "deviceRef"}
    raw["value_tables"]["bundle_status"] = {
        k: k.lower().replace("_", "-") for k in raw["value_tables"]["bundle_status"]
    }
    raw["actor_field"] = "actingParty"
    raw["clock_header"] = "X-Test-Clock"
    out = path / "vendor.json"
    out.write_text(json.dumps(raw))
    return out


def test_a_vendor_points_the_suite_at_other_routes_with_a_mapping_only(tmp_path: Path) -> None:
    mapping = vendor_mapping(tmp_path)
    server = start_server("--test-mode", "--mapping", str(mapping))
    try:
        spec = f"{server.url}?mapping={mapping}"
        result = run_cli(
            "run",
            "--adapter",
            spec,
            "--profile",
            "core",
            "--json",
            str(tmp_path / "run.json"),
            "--quiet",
            token=server.token,
        )
        moved = httpx.post(f"{server.url}/api/v1/gc/transfer", json={})
        spec_route = httpx.post(f"{server.url}/certificates/certificates/transfer", json={})
    finally:
        stop_server(server)
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["summary"]["counts"]["fail"] == document["summary"]["counts"]["error"] == 0
    assert document["summary"]["counts"]["pass"] >= 40
    assert (moved.status_code, spec_route.status_code) == (401, 404)  # the routes really moved
