"""The security profile over a real HTTP round trip (issue 8, part 2).

The done bar: the profile passes against ``serve --test-mode`` and fails, in
its authorization checks and for that reason, against the server variant that
believes the body's ``source_id`` (``ServerConfig(bind_actor=False)``). Every
check is then shown to fail against a server with the defect it exists to
catch: broken variants of the served registry (no idempotency, no body limit,
credentials that never expire, anonymous callers let in, answers that lie
under concurrency) and faulty registries served over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_server_support import Served, app_in_thread

from gc_conformance.adapter import Capabilities, Profile
from gc_conformance.adapters.faulty import FAULTS
from gc_conformance.adapters.http import HttpAdapter
from gc_conformance.adapters.http_mapping import HttpMapping
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import all_checks, get_check
from gc_conformance.outcomes import CheckResult, Status
from gc_conformance.runner import RunOptions, execute_check
from gc_conformance.server import (
    AuthError,
    Authorizer,
    Principal,
    ServerConfig,
    TokenStore,
    create_app,
)

TOKEN = "security-tests-admin-token"
SECURITY_CHECKS = sorted(c.check_id for c in all_checks() if c.profile is Profile.SECURITY)
AUTHORIZATION_CHECKS = [
    "security.auth.holder_cannot_act_on_others_bundles",
    "security.auth.issuer_powers_need_the_issuer",
    "security.auth.query_shows_only_own",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def run_cli(*args: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GC_HTTP_")}
    env["GC_HTTP_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "gc_conformance", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@contextlib.contextmanager
def variant(app: Any = None, **config: Any) -> Iterator[HttpAdapter]:
    """A test-mode server variant on a real uvicorn in a thread, and an adapter for it."""
    served = app if app is not None else create_app(server_config(**config))
    with app_in_thread(served) as client:
        adapter = HttpAdapter(str(client.base_url), token=TOKEN)
        try:
            yield adapter
        finally:
            adapter.close()


def server_config(**config: Any) -> ServerConfig:
    return ServerConfig(admin_token=TOKEN, test_mode=True, **config)


def verdict(adapter: Any, check_id: str, **options: Any) -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(
        get_check(check_id), adapter, capabilities, RunOptions(adapter_spec="http", **options)
    )


def failed(result: CheckResult, *words: str) -> None:
    assert result.status is Status.FAIL, result.describe()
    text = f"{result.message} {result.expected} {result.observed}"
    assert all(word in text for word in words), result.describe()


# ---------------------------------------------------------------------- the done bar


def test_the_security_profile_passes_against_serve(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    result = run_cli(
        "run",
        "--adapter",
        served.url,
        "--profile",
        "security",
        "--json",
        str(out),
        "--quiet",
        token=served.token,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(out.read_text())
    statuses = {c["id"]: c["status"] for c in document["checks"] if c["profile"] == "security"}
    assert statuses == dict.fromkeys(SECURITY_CHECKS, "pass")
    assert document["summary"]["verdict"] == "pass"
    assert len(SECURITY_CHECKS) >= 11
    assert "security" in document["registry"]["profiles"]


def test_the_unbound_actor_variant_fails_the_authorization_checks(tmp_path: Path) -> None:
    """A server that believes ``source_id`` instead of the credential is caught, for that reason."""
    out = tmp_path / "run.json"
    with app_in_thread(create_app(server_config(bind_actor=False))) as client:
        result = run_cli(
            "run",
            "--adapter",
            str(client.base_url),
            "--profile",
            "security",
            "--json",
            str(out),
            "--quiet",
            token=TOKEN,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads(out.read_text())
    assert document["summary"]["verdict"] == "fail"
    checks = {c["id"]: c for c in document["checks"] if c["profile"] == "security"}
    assert sorted(i for i, c in checks.items() if c["status"] == "fail") == AUTHORIZATION_CHECKS
    assert all(c["status"] == "pass" for i, c in checks.items() if i not in AUTHORIZATION_CHECKS)
    acted = checks["security.auth.holder_cannot_act_on_others_bundles"]
    assert "with bob's token, naming alice as the actor was accepted" in acted["message"]
    assert acted["severity"] == "critical"
    last = acted["steps"][-1]
    assert last["request"]["action"] == "http" and last["request"]["credential"] == "bob's token"
    assert '"source_id": "alice"' in last["exchanges"][-1]["curl"]
    assert TOKEN not in json.dumps(document)
    issuing = checks["security.auth.issuer_powers_need_the_issuer"]["message"]
    assert "with alice's token, naming ISSUER-T as the actor was accepted" in issuing
    leaked = checks["security.auth.query_shows_only_own"]["message"]
    assert "was shown other accounts' bundles" in leaked


# ---------------------------------------------------------------------- every check can fail


class GuestAuthorizer(Authorizer):
    """Lets a request without a valid credential through as a guest: "auth is optional"."""

    def authenticate(self, authorization: str | None) -> Principal | None:
        try:
            principal = super().authenticate(authorization)
        except AuthError:
            principal = None
        return principal or Principal("guest", admin=False)


def test_anonymous_and_forged_credentials_are_caught() -> None:
    app = create_app(server_config())
    service = app.state.service
    service.authorizer = GuestAuthorizer(service.tokens, bind_actor=False)
    with variant(app) as adapter:
        result = verdict(adapter, "security.auth.credentials_required")
    failed(result, "with no credential was accepted")


def test_credentials_that_never_expire_are_caught() -> None:
    app = create_app(server_config())
    service = app.state.service
    service.tokens = TokenStore(TOKEN, service.config.issuer_id, clock=lambda: 0.0)
    service.authorizer = Authorizer(service.tokens)
    with variant(app) as adapter:
        result = verdict(adapter, "security.auth.expired_credential_refused")
    failed(result, "with an expired credential was accepted")


def test_a_server_without_idempotency_is_caught() -> None:
    with variant(idempotency=False) as adapter:
        result = verdict(adapter, "security.replay.idempotency_key_acts_once")
    failed(result, "the repeated request must get the first answer", "HTTP 202", "HTTP 422")


def test_a_server_without_a_body_limit_is_caught() -> None:
    with variant(max_body_bytes=2**62) as adapter:
        result = verdict(adapter, "security.input.oversized_body_refused")
    failed(result, "over the limit of 1048576, was acted on")


@pytest.mark.parametrize(
    ("fault", "check_id", "reason"),
    [
        (
            "non-positive-quantity-accepted",
            "security.input.hostile_requests_refused",
            "a hostile request was not refused: transfer with quantity=",
        ),
        (
            "unknown-bundle-transfer-accepted",
            "security.input.hostile_requests_refused",
            "a hostile request was not refused: transfer with bundle_id=",
        ),
        (
            "partial-transfer-range-overrun",
            "security.concurrency.parallel_transfers_conserve",
            "one certificate in two bundles",
        ),
        (
            "resubmission-issued-twice",
            "security.replay.production_reading_issued_once",
            "the same production data sent a second time was accepted",
        ),
        (
            "non-owner-transfer",
            "security.auth.holder_cannot_act_on_others_bundles",
            "with bob's token, naming bob as the actor was accepted",
        ),
    ],
)
def test_faulty_registries_served_over_http_are_caught(
    fault: str, check_id: str, reason: str
) -> None:
    app = create_app(server_config())
    app.state.service.registry = FAULTS[fault].build()
    with variant(app) as adapter:
        result = verdict(adapter, check_id)
    failed(result, reason)


def lying(app: App, suffixes: tuple[str, ...]) -> App:
    """A registry that answers 202 to writes it refused: a lost update under concurrency."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).endswith(suffixes):
            await app(scope, receive, send)
            return

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 422:
                message = {**message, "status": 202}
            await send(message)

        await app(scope, receive, rewrite)

    return wrapped


@pytest.mark.parametrize(
    ("check_id", "what"),
    [
        ("security.concurrency.parallel_transfers_conserve", "300 Wh transfers"),
        ("security.concurrency.parallel_cancels_conserve", "300 Wh cancellations"),
    ],
)
def test_answers_that_overcommit_under_concurrency_are_caught(check_id: str, what: str) -> None:
    app = lying(create_app(server_config()), ("/transfer", "/cancel"))
    with variant(app) as adapter:
        result = verdict(adapter, check_id)
    failed(result, f"8 of 8 concurrent {what} of a 1000 Wh bundle were accepted; at most 3 fit")


# ---------------------------------------------------------------------- who runs the profile


def test_the_in_process_reference_does_not_claim_security() -> None:
    adapter = ReferenceAdapter()
    assert "security" not in adapter.capabilities()["profiles"]
    for check_id in SECURITY_CHECKS:
        result = verdict(adapter, check_id)
        assert result.status is Status.SKIP
        assert result.message == "the registry does not claim the 'security' profile"


class ClaimsSecurityWithoutRawHttp(ReferenceAdapter):
    def capabilities(self) -> dict[str, Any]:
        plain = dict(super().capabilities())
        return {**plain, "profiles": [*plain["profiles"], "security"]}


def test_an_adapter_without_raw_http_skips_with_the_reason() -> None:
    result = verdict(ClaimsSecurityWithoutRawHttp(), "security.auth.credentials_required")
    assert result.status is Status.SKIP
    assert "raw HTTP access (raw_http())" in result.message


def test_the_http_adapter_claims_security_only_with_credentials_reset_and_state(
    served: Served,
) -> None:
    assert "security" in HttpAdapter(served.url, token=served.token).capabilities()["profiles"]
    from importlib import resources

    shipped = resources.files("gc_conformance.adapters") / "mappings" / "energytag-v2.json"
    raw = json.loads(shipped.read_text())
    del raw["admin"]["token"]
    bare = HttpAdapter(served.url, token=served.token, mapping=HttpMapping.from_plain(raw))
    assert "security" not in bare.capabilities()["profiles"]
    with_tokens = HttpAdapter(
        served.url,
        token=served.token,
        mapping=HttpMapping.from_plain(raw),
        party_tokens={"alice": "pre-issued"},
    )
    assert "security" in with_tokens.capabilities()["profiles"]


def test_the_fuzzed_check_is_seeded_by_the_run_seed(served: Served) -> None:
    adapter = HttpAdapter(served.url, token=served.token)
    check_id = "security.input.hostile_requests_refused"
    runs = [verdict(adapter, check_id, seed=seed, max_examples=15) for seed in (3, 3, 4)]
    assert all(r.status is Status.PASS for r in runs), [r.describe() for r in runs]
    bodies = [
        [s.request.get("body") for s in r.steps if s.request["action"] == "http"] for r in runs
    ]
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]
    assert len(bodies[0]) >= 15


# ---------------------------------------------------------------------- the Idempotency-Key header


def test_idempotency_keys_are_validated_replayed_and_scoped(served: Served) -> None:
    adapter = HttpAdapter(served.url, token=served.token)
    adapter.reset({"issuer": {"issuer_id": "ISSUER-T"}})
    admin = {"Authorization": f"Bearer {served.token}", "X-GC-Now": "2024-03-02T00:00:00Z"}
    account = {"id": "ACC-K", "account_name": "K", "holder_id": "kim"}
    with httpx.Client(base_url=served.url) as client:
        bad = client.post(
            "/accounts/account", json=account, headers={**admin, "Idempotency-Key": "a b"}
        )
        assert bad.status_code == 400
        assert bad.json()["detail"][0]["loc"] == ["body", "Idempotency-Key"]
        keyed = {**admin, "Idempotency-Key": "k-1"}
        first = client.post("/accounts/account", json=account, headers=keyed)
        again = client.post("/accounts/account", json=account, headers=keyed)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"
        other = client.post("/accounts/account", json={**account, "id": "ACC-L"}, headers=keyed)
        assert other.status_code == 422 and "already used" in other.json()["detail"][0]["msg"]
        adapter.reset({"issuer": {"issuer_id": "ISSUER-T"}})  # a reset forgets every key
        fresh = client.post("/accounts/account", json=account, headers=keyed)
        assert fresh.status_code == 200 and "idempotent-replayed" not in fresh.headers


# ---------------------------------------------------------------------- every route, 401 only


class ForbiddingAuthorizer(Authorizer):
    """Answers 403 (not 401) to a request without a valid credential: the wrong status."""

    def authenticate(self, authorization: str | None) -> Principal | None:
        try:
            principal = super().authenticate(authorization)
        except AuthError as exc:
            raise AuthError(403, exc.code, exc.message) from None
        if principal is None:
            raise AuthError(403, "NOT_AUTHORISED", "forbidden")
        return principal


def test_the_credential_check_covers_every_probed_route_of_the_mapping() -> None:
    with variant() as adapter:
        result = verdict(adapter, "security.auth.credentials_required")
        assert result.status is Status.PASS, result.message
        probed = adapter.raw_http().probed_routes()
    mapping = HttpMapping.load()
    every = [*mapping.actions.values(), *mapping.admin.values()]
    assert len(probed) == len(every) - 2  # capabilities is public; reset is test_only
    assert {name for name, _ in probed} >= {f"actions.{a}" for a in mapping.actions}
    sent = [step for step in result.steps if step.request.get("action") == "http"]
    assert len(sent) == 6 * len(probed)  # six bad credentials on every probed route
    assert {step.request["path"].split("?")[0] for step in sent} >= {
        route.path for _, route in probed if "{" not in route.path
    }


def test_a_403_where_a_401_is_due_fails_the_credential_check() -> None:
    service_config = server_config()
    app = create_app(service_config)
    service = app.state.service
    service.authorizer = ForbiddingAuthorizer(service.tokens)
    with variant(app) as adapter:
        failed(verdict(adapter, "security.auth.credentials_required"), "401")


def test_routes_declared_test_only_are_not_probed() -> None:
    from importlib import resources

    shipped = resources.files("gc_conformance.adapters") / "mappings" / "energytag-v2.json"
    raw = json.loads(shipped.read_text(encoding="utf-8"))
    raw["admin"]["history"]["test_only"] = True
    mapping = HttpMapping.from_plain(raw)
    with variant() as served:
        adapter = HttpAdapter(served.base_url, token=TOKEN, mapping=mapping)
        try:
            probed = dict(adapter.raw_http().probed_routes())
            assert "admin.history" not in probed and "admin.reset" not in probed
            assert "admin.capabilities" not in probed and "admin.state" in probed
            result = verdict(adapter, "security.auth.credentials_required")
        finally:
            adapter.close()
    assert result.status is Status.PASS, result.message
    paths = {step.request.get("path") for step in result.steps}
    assert "/extensions/admin/history" not in paths
