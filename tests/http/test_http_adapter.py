"""The ``http://`` adapter: mappings, honest failures, retries, error codes and recorded exchanges.

Faults are injected between the adapter and a real ``serve`` process by a
forwarding transport: every request reaches the real server unless the
fault replaces its answer, so each test changes exactly one thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from http_server_support import Served

from gc_conformance.adapter import AdapterFailure, AdapterUnavailable, Capabilities
from gc_conformance.adapters import load_adapter
from gc_conformance.adapters.http import HttpAdapter
from gc_conformance.adapters.http_mapping import HttpMapping, MappingError, Renames
from gc_conformance.checks import get_check
from gc_conformance.outcomes import CheckResult, Status
from gc_conformance.runner import RunOptions, execute_check

Fault = Callable[[httpx.Request], httpx.Response | None]


class Forward(httpx.BaseTransport):
    """Sends each request to the real server unless ``fault`` answers (or raises) instead."""

    def __init__(self, fault: Fault) -> None:
        self.real = httpx.HTTPTransport()
        self.fault = fault
        self.calls: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        replaced = self.fault(request)
        return replaced if replaced is not None else self.real.handle_request(request)


def adapter_with(served: Served, fault: Fault, **options: Any) -> tuple[HttpAdapter, Forward]:
    transport = Forward(fault)
    return HttpAdapter(served.url, token=served.token, transport=transport, **options), transport


def verdict(adapter: HttpAdapter, check_id: str) -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(
        get_check(check_id), adapter, capabilities, RunOptions(adapter_spec="http")
    )


def on_transfer(answer: Callable[[httpx.Request], httpx.Response]) -> Fault:
    return lambda r: answer(r) if r.url.path.endswith("/transfer") else None


# ---------------------------------------------------------------------- failures are errors

FAILURES: dict[str, Fault] = {
    "503": on_transfer(lambda r: httpx.Response(503, text="overloaded")),
    "500 with a JSON refusal shape": on_transfer(
        lambda r: httpx.Response(500, json={"detail": [{"type": "NOT_OWNER", "msg": "x"}]})
    ),
    "timeout": on_transfer(lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r))),
    "connection refused": on_transfer(
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r))
    ),
    "not JSON": on_transfer(lambda r: httpx.Response(202, text="<html>ok</html>")),
    "429": on_transfer(lambda r: httpx.Response(429, text="slow down")),
}


@pytest.mark.parametrize("fault", FAILURES, ids=list(FAILURES))
@pytest.mark.parametrize(
    "check_id", ["core.transfer.whole_moves_bundle", "core.transfer.non_owner_refused"]
)
def test_a_registry_that_cannot_answer_gives_error_never_pass(
    served: Served, fault: str, check_id: str
) -> None:
    adapter, transport = adapter_with(served, FAILURES[fault])
    result = verdict(adapter, check_id)
    assert result.status is Status.ERROR, result.describe()
    failed = [s for s in result.steps if s.answer is None]
    assert failed and failed[-1].request["action"] == "transfer"
    assert failed[-1].exchanges[-1]["curl"].startswith("curl -sS -X POST ")
    assert sum(1 for m, p in transport.calls if p.endswith("/transfer")) == 1  # never retried
    assert "reproduce: curl" in (failed[-1].error or "")


def test_idempotent_reads_are_retried_writes_are_not(served: Served) -> None:
    failures = {"state": 1}

    def flaky_state(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/admin/state") and failures["state"]:
            failures["state"] -= 1
            return httpx.Response(503)
        return None

    adapter, transport = adapter_with(served, flaky_state)
    adapter.reset({"issuer": {"issuer_id": "ISSUER-T"}})
    assert adapter.observe()["bundles"] == []
    assert [p for m, p in transport.calls].count("/extensions/admin/state") == 2

    broken, calls = adapter_with(served, lambda r: httpx.Response(503))
    with pytest.raises(AdapterFailure):
        broken.reset({"issuer": {"issuer_id": "ISSUER-T"}})
    assert len(calls.calls) == 1


def test_an_unreachable_registry_is_unavailable_not_an_error_per_check() -> None:
    adapter = HttpAdapter("http://127.0.0.1:9", timeout=2, retries=0)
    with pytest.raises(AdapterUnavailable, match="did not answer"):
        adapter.capabilities()


# ---------------------------------------------------------------------- recorded exchanges


def test_a_failing_check_carries_redacted_exchanges_and_curl(served: Served) -> None:
    """A registry that accepts a non-owner's transfer (answer rewritten to 202) fails the check."""

    def lenient(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/transfer"):
            return httpx.Response(202, json={"action_response_status": "accepted"})
        return None

    adapter, _ = adapter_with(served, lenient)
    result = verdict(adapter, "core.transfer.non_owner_refused")
    assert result.status is Status.FAIL
    plain = result.to_plain()
    last = plain["steps"][-1]
    assert last["request"]["action"] == "transfer"
    exchange = last["exchanges"][-1]
    assert exchange["status"] == 202 and exchange["as"] == last["request"]["actor"]
    assert '"Authorization: Bearer $TOKEN"' in exchange["curl"]
    assert "/certificates/certificates/transfer" in exchange["curl"]
    assert "curl: curl -sS" in result.describe()
    text = json.dumps(plain)
    assert served.token not in text
    assert adapter.redact(text) == text  # no credential the adapter knows or minted is shown
    assert CheckResult.from_plain(plain).steps[-1].exchanges == tuple(last["exchanges"])


def test_passing_checks_keep_no_exchanges_in_the_run_document(served: Served) -> None:
    adapter, _ = adapter_with(served, lambda r: None)
    result = verdict(adapter, "core.transfer.whole_moves_bundle")
    assert result.status is Status.PASS
    assert result.steps[-1].exchanges  # recorded while running...
    assert all("exchanges" not in s for s in result.to_plain()["steps"])  # ...not kept


# ---------------------------------------------------------------------- error codes


def test_vendor_error_codes_and_statuses_map_to_canonical_codes(served: Served) -> None:
    raw = json.loads(_shipped_text())
    raw["errors"] = {
        "code": "error.reason",
        "codes": {"E-NOT-YOURS": "NOT_OWNER"},
        "http_status": {"404": "UNKNOWN_BUNDLE"},
    }
    mapping = HttpMapping.from_plain(raw)
    answers = iter(
        [
            httpx.Response(403, json={"error": {"reason": "E-NOT-YOURS"}}),
            httpx.Response(404, text="gone"),
            httpx.Response(409, json={"error": {"reason": "E-SOMETHING"}}),
        ]
    )
    adapter, _ = adapter_with(served, on_transfer(lambda r: next(answers)), mapping=mapping)
    adapter.reset({"issuer": {"issuer_id": "ISSUER-T"}})
    request = {"action": "transfer", "actor": "ISSUER-T", "now": "2024-03-02T00:00:00Z"}
    request |= {"bundle_id": 1, "to_account": "X"}
    assert adapter.execute(request)["code"] == "NOT_OWNER"
    assert adapter.execute(request)["code"] == "UNKNOWN_BUNDLE"
    unknown = adapter.execute(request)
    assert unknown["code"] == "E-SOMETHING"  # reported as a code mismatch, never a pass
    assert not unknown["accepted"]


def _shipped_text() -> str:
    from importlib import resources

    return (
        resources.files("gc_conformance.adapters") / "mappings" / "energytag-v2.json"
    ).read_text()


# ---------------------------------------------------------------------- mappings and specs


def test_every_contract_action_round_trips_through_the_default_mapping() -> None:
    from gc_conformance.adapter import ACTIONS

    mapping = HttpMapping.load()
    assert set(mapping.actions) == set(ACTIONS)
    sample = {
        "bundle_id": 7,
        "quantity": 3,
        "device": {"device_id": "D", "account_id": "A", "capacity_w": 1, "location": {"x": 1}},
        "status": "CANCELLED",
        "start": "2024-01-01T00:00:00Z",
    }
    for name, route in mapping.actions.items():
        # register_device's body *is* the device record: every field belongs to it
        request = {"device": sample["device"]} if name == "register_device" else sample
        encoded = mapping.encode_request(route, request)
        assert mapping.decode_request(route, encoded) == request, name
    bundle = {"bundle_id": 1, "device_id": "D", "certificate_bundle_status": "BUNDLE_SPLIT"}
    api = mapping.encode_bundle(bundle)
    assert api == {
        "certificate_bundle_id": 1,
        "id": "D",
        "certificate_bundle_status": "Bundle Split",
    }
    assert mapping.decode_bundle(api) == bundle


def test_wildcard_renames_move_a_nested_object_to_the_top_level() -> None:
    renames = Renames.parse({"device.account_id": "id", "device.*": ""}, "fields")
    api = renames.to_api({"device": {"account_id": "A", "device_name": "N"}})
    assert api == {"id": "A", "device_name": "N"}
    assert renames.from_api(api) == {"device": {"account_id": "A", "device_name": "N"}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "v0"}, "format"),
        ({"actions": {"teleport": {"path": "/x"}}}, "actions.teleport"),
        ({"actions": {"transfer": {"path": "x"}}}, "actions.transfer.path"),
        ({"actions": {"transfer": {"path": "/x", "method": "BREW"}}}, "actions.transfer.method"),
        (
            {"actions": {"query": {"path": "/q", "values": {"status": "nope"}}}},
            "actions.query.values.status",
        ),
        ({"admin": {"shutdown": {"path": "/x"}}}, "admin.shutdown"),
        ({"errors": {"http_status": {"abc": "X"}}}, "errors.http_status.abc"),
    ],
)
def test_a_bad_mapping_names_the_field(change: dict[str, Any], field: str) -> None:
    raw = {**json.loads(_shipped_text()), **change}
    with pytest.raises(MappingError) as raised:
        HttpMapping.from_plain(raw)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("http://127.0.0.1:8000?token=abc", "never the URL"),
        ("http://127.0.0.1:8000?colour=blue", "unknown http adapter option 'colour'"),
        ("http://127.0.0.1:8000?timeout=soon", "not a number"),
        ("http://", "not an http(s)://HOST"),
    ],
)
def test_bad_adapter_specs_are_unavailable_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(AdapterUnavailable, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_adapter(spec)


def test_options_come_from_the_spec_or_the_environment() -> None:
    adapter = HttpAdapter.from_spec(
        "http://127.0.0.1:8000/api?retries=0",
        environ={"GC_HTTP_TOKEN": "t" * 20, "GC_HTTP_TIMEOUT": "3", "GC_HTTP_RETRIES": "5"},
    )
    assert adapter.base_url == "http://127.0.0.1:8000/api"
    assert adapter.retries == 0  # the spec wins over the environment
    with adapter.new_client() as client:  # a new connection takes the adapter's timeout
        assert client.timeout.read == 3
    assert adapter.admin_authorization == "Bearer " + "t" * 20


# ---------------------------------------------------------------------- mappings for real APIs


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"actions": {"transfer": {"path": "/x", "bogus": 1}}}, "actions.transfer.bogus"),
        ({"errors": {"patterns": [{"match": "(", "code": "X"}]}}, "errors.patterns.0.match"),
        (
            {
                "id_tables": ["user"],
                "actions": {
                    "transfer": {
                        "path": "/x",
                        "learn": [{"table": "nope", "name": "{a}", "id": "id"}],
                    }
                },
            },
            "actions.transfer.learn.0.table",
        ),
        ({"admin": {"reset": {"path": "/r", "test_only": "yes"}}}, "admin.reset.test_only"),
        ({"actions": {"query": {"path": "/q", "send_as": "form"}}}, "actions.query.send_as"),
        (
            {"actions": {"transfer": {"path": "/x", "derived": {"u": "{actor@who}"}}}},
            "actions.transfer.derived.u",
        ),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_the_mapping_schema_names_the_field_of_new_features(
    change: dict[str, Any], field: str
) -> None:
    raw = {**json.loads(_shipped_text()), **change}
    with pytest.raises(MappingError) as raised:
        HttpMapping.from_plain(raw)
    assert raised.value.field == field
    assert raised.value.exit_code == 2  # a usage error, never a traceback


def test_an_api_path_ending_in_brackets_wraps_the_value_in_a_list() -> None:
    renames = Renames.parse({"bundle_id": "bundle_ids[]"}, "fields")
    assert renames.to_api({"bundle_id": 7, "x": 1}) == {"bundle_ids": [7], "x": 1}
    assert renames.from_api({"bundle_ids": [7], "x": 1}) == {"bundle_id": 7, "x": 1}


def test_the_security_profile_uses_only_the_public_extension_api() -> None:
    import importlib
    import inspect
    import pkgutil
    import re

    from gc_conformance.adapters import http_raw
    from gc_conformance.checks import security

    parts = [
        importlib.import_module(f"{security.__name__}.{info.name}")
        for info in pkgutil.iter_modules(security.__path__)
    ]
    assert parts  # the profile is a package of one module per concern
    for module in (http_raw, security, *parts):
        source = inspect.getsource(module)
        assert not re.search(r"\badapter\._[a-z]", source), module.__name__
        assert "_token_for" not in source and "._refusal" not in source


def test_free_text_refusals_are_read_through_the_pattern_table() -> None:
    raw = json.loads(_shipped_text())
    raw["errors"] = {
        "message": "error",
        "patterns": [{"match": "not yours", "code": "NOT_OWNER"}, {"match": ".", "code": "X"}],
        "http_status": {"404": "UNKNOWN_BUNDLE"},
    }
    adapter = HttpAdapter("http://127.0.0.1:9", mapping=HttpMapping.from_plain(raw))
    assert adapter.read_refusal(403, {"error": "bundle 3 is not yours"})["code"] == "NOT_OWNER"
    assert adapter.read_refusal(422, {"error": "odd"})["code"] == "X"
    adapter.close()
