"""``gc-conformance serve``: the EnergyTag routes, real bearer authentication, limits and modes.

Requests here are raw HTTP (httpx), so what is tested is what any client of
the served registry sees: the status, the ``HTTPValidationError``-shaped body
with the canonical code in ``detail[0].type``, and that a refused request
changed nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from http_server_support import Served, app_in_thread

from gc_conformance.adapters.http import HttpAdapter
from gc_conformance.server import ServerConfig, TokenStore, create_app
from gc_conformance.session import device_record

ISSUER = "ISSUER-T"
NOW = "2024-03-02T00:00:00Z"


@pytest.fixture
def world(served: Served) -> Iterator[dict[str, Any]]:
    """A fresh registry: alice and bob with an account each, a wind device, one bundle at alice."""
    adapter = HttpAdapter(served.url, token=served.token)
    adapter.reset({"issuer": {"issuer_id": ISSUER, "name": "T", "domain": "NL"}})

    def do(action: str, actor: str, **fields: Any) -> dict[str, Any]:
        answer = adapter.execute({"action": action, "actor": actor, "now": NOW, **fields})
        assert answer["accepted"], answer
        return dict(answer["result"])

    for holder in ("alice", "bob"):
        account = {"account_id": f"ACC-{holder}", "holder_id": holder, "account_name": holder}
        do("open_account", ISSUER, account=account)
    do("register_device", ISSUER, device=device_record("W", "M-W", "ACC-alice", 5_000_000, "wind"))
    issued = do(
        "submit_production",
        ISSUER,
        device_id="W",
        meter_id="M-W",
        start="2024-03-01T10:00:00Z",
        end="2024-03-01T11:00:00Z",
        energy_wh="1000",
    )
    client = httpx.Client(base_url=served.url, headers={"X-GC-Now": NOW})
    tokens = {
        party: client.post(
            "/extensions/admin/tokens",
            json={"party": party},
            headers={"Authorization": f"Bearer {served.token}"},
        ).json()["access_token"]
        for party in ("alice", "bob")
    }
    yield {"client": client, "tokens": tokens, "bundle": issued["bundle_id"], "adapter": adapter}
    client.close()
    adapter.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def state(served: Served) -> Any:
    return httpx.get(f"{served.url}/extensions/admin/state", headers=bearer(served.token)).json()


def transfer(bundle: int, target: str, **extra: Any) -> dict[str, Any]:
    return {"certificate_bundle_id": bundle, "target_id": target, **extra}


PATH = "/certificates/certificates/transfer"


def test_the_holder_transfers_on_the_spec_route(world: dict[str, Any], served: Served) -> None:
    client, tokens = world["client"], world["tokens"]
    body = transfer(world["bundle"], "ACC-bob", certificate_quantity=300, source_id="alice")
    response = client.post(PATH, json=body, headers=bearer(tokens["alice"]))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["action_response_status"] == "accepted"
    assert answer["action_request_datetime"] == NOW
    moved = [b for b in state(served)["bundles"] if b["account_id"] == "ACC-bob"]
    assert [(b["bundle_quantity"], b["certificate_bundle_status"]) for b in moved] == [
        (300, "Active")
    ]
    assert moved[0]["certificate_bundle_id"] == answer["certificate_bundle_id"]


def test_anonymous_callers_get_401_and_change_nothing(
    world: dict[str, Any], served: Served
) -> None:
    before = state(served)
    response = world["client"].post(PATH, json=transfer(world["bundle"], "ACC-bob"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"][0]["type"] == "NOT_AUTHORISED"
    bad = world["client"].post(
        PATH, json=transfer(world["bundle"], "ACC-bob"), headers=bearer("forged-token")
    )
    assert bad.status_code == 401
    assert state(served) == before


def test_a_holder_cannot_act_as_another_party(world: dict[str, Any], served: Served) -> None:
    before = state(served)
    body = transfer(world["bundle"], "ACC-bob", source_id="alice")
    response = world["client"].post(PATH, json=body, headers=bearer(world["tokens"]["bob"]))
    assert response.status_code == 403
    assert response.json()["detail"][0]["type"] == "NOT_AUTHORISED"
    assert "source_id" in response.json()["detail"][0]["msg"]
    assert state(served) == before


def test_a_holder_cannot_move_what_is_not_theirs(world: dict[str, Any], served: Served) -> None:
    before = state(served)
    response = world["client"].post(
        PATH, json=transfer(world["bundle"], "ACC-bob"), headers=bearer(world["tokens"]["bob"])
    )
    assert response.status_code == 403
    assert response.json()["detail"][0]["type"] == "NOT_OWNER"
    assert state(served) == before


def test_a_holder_sees_only_their_own_bundles(world: dict[str, Any]) -> None:
    client, tokens = world["client"], world["tokens"]
    query = "/certificates/certificates/query"
    mine = client.request("GET", query, json={}, headers=bearer(tokens["alice"]))
    theirs = client.request("GET", query, json={}, headers=bearer(tokens["bob"]))
    assert mine.status_code == theirs.status_code == 202
    assert len(mine.json()["filtered_certificate_bundles"]) == 1
    assert theirs.json()["filtered_certificate_bundles"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/extensions/admin/state"),
        ("GET", "/extensions/admin/history"),
        ("POST", "/extensions/admin/reset"),
        ("POST", "/extensions/admin/tokens"),
    ],
)
def test_admin_routes_refuse_holders(world: dict[str, Any], method: str, path: str) -> None:
    response = world["client"].request(
        method, path, json={"party": "ISSUER-T"}, headers=bearer(world["tokens"]["alice"])
    )
    assert response.status_code == 403
    assert response.json()["detail"][0]["type"] == "NOT_AUTHORISED"


def test_reset_revokes_minted_tokens(world: dict[str, Any], served: Served) -> None:
    world["adapter"].reset({"issuer": {"issuer_id": ISSUER}})
    response = world["client"].request(
        "GET", "/certificates/certificates/query", json={}, headers=bearer(world["tokens"]["alice"])
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 422),
        (b'{"certificate_quantity": NaN}', 400),
        (b"\xff\xfe", 400),
        (b"[" * 600_000 + b"]" * 600_000, 413),
    ],
)
def test_malformed_bodies_are_refused_and_change_nothing(
    world: dict[str, Any], served: Served, content: bytes, status: int
) -> None:
    before = state(served)
    response = world["client"].post(
        PATH,
        content=content,
        headers={**bearer(world["tokens"]["alice"]), "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.json()["detail"][0]["type"] == "INVALID_FIELD"
    assert state(served) == before


def test_a_deeply_nested_body_within_the_limit_is_a_4xx(world: dict[str, Any]) -> None:
    response = world["client"].post(
        PATH,
        content=b"[" * 50_000 + b"]" * 50_000,
        headers={**bearer(world["tokens"]["alice"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_unknown_routes_and_fields_are_refused(world: dict[str, Any]) -> None:
    alice = bearer(world["tokens"]["alice"])
    assert world["client"].post("/certificates/nowhere", json={}, headers=alice).status_code == 404
    assert world["client"].get(PATH, headers=alice).status_code == 405
    body = transfer(world["bundle"], "ACC-bob", colour="green")
    refused = world["client"].post(PATH, json=body, headers=alice)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "INVALID_FIELD"
    assert "colour" in refused.json()["detail"][0]["msg"]


def test_the_clock_header_is_validated_in_test_mode(world: dict[str, Any]) -> None:
    response = world["client"].post(
        PATH,
        json=transfer(world["bundle"], "ACC-bob"),
        headers={**bearer(world["tokens"]["alice"]), "X-GC-Now": "yesterday"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "INVALID_TIMESTAMP"


# ---------------------------------------------------------------------- outside test mode

TOKEN = "admin-token-for-unit-tests"


@contextlib.contextmanager
def fixed_clock_client(**config: Any) -> Iterator[httpx.Client]:
    with app_in_thread(create_app(ServerConfig(admin_token=TOKEN, **config))) as client:
        yield client


def test_without_test_mode_there_is_no_reset_and_no_clock_control() -> None:
    with fixed_clock_client() as client:
        check_fixed_clock(client)


def check_fixed_clock(client: httpx.Client) -> None:
    assert client.get("/extensions/capabilities").json()["clock"] == "fixed"
    reset = client.post("/extensions/admin/reset", json={}, headers=bearer(TOKEN))
    assert reset.status_code == 403
    assert "test mode" in reset.json()["detail"][0]["msg"]
    account = {"id": "ACC-A", "account_name": "A", "holder_id": "alice"}
    moved = client.post(
        "/accounts/account", json=account, headers={**bearer(TOKEN), "X-GC-Now": NOW}
    )
    assert moved.status_code == 400
    assert moved.json()["detail"][0]["loc"] == ["body", "X-GC-Now"]
    opened = client.post("/accounts/account", json=account, headers=bearer(TOKEN))
    assert opened.status_code == 200, opened.text
    assert opened.json()["id"] == "ACC-A"


def test_minted_tokens_expire() -> None:
    moments = iter([0.0, 10.0, 3599.0, 3601.0])
    store = TokenStore("x" * 16, "ISSUER", clock=lambda: next(moments))
    token = store.mint("alice", 3600)  # at 0: valid until 3600
    assert store.principal(token) is not None  # 10
    assert store.principal(token) is not None  # 3599
    assert store.principal(token) is None  # 3601
    assert store.principal("x" * 16) is not None and store.principal("x" * 16).admin  # type: ignore[union-attr]


def test_minting_validates_its_input() -> None:
    with fixed_clock_client() as client:
        check_minting(client)


def check_minting(client: httpx.Client) -> None:
    for body in (
        {},
        {"party": ""},
        {"party": "a", "expires_in": 0},
        {"party": "a", "expires_in": "1"},
    ):
        response = client.post("/extensions/admin/tokens", json=body, headers=bearer(TOKEN))
        assert response.status_code == 422, body
    ok = client.post("/extensions/admin/tokens", json={"party": "a"}, headers=bearer(TOKEN))
    assert ok.status_code == 201 and ok.json()["token_type"] == "bearer"


def test_the_unbound_variant_believes_source_id() -> None:
    """The switch the security profile uses to build a server with a missing check."""
    for bind, expected in ((True, 403), (False, 200)):
        with fixed_clock_client(bind_actor=bind) as client:
            response = act_as_issuer(client)
        assert response.status_code == expected, response.text


def act_as_issuer(client: httpx.Client) -> httpx.Response:
    """Mallory, with her own token, claims to be the issuer and opens an account."""
    minted = client.post(
        "/extensions/admin/tokens", json={"party": "mallory"}, headers=bearer(TOKEN)
    )
    body = {"id": "ACC-M", "account_name": "M", "holder_id": "mallory", "source_id": "ISSUER"}
    return client.post(
        "/accounts/account", json=body, headers=bearer(minted.json()["access_token"])
    )


def test_every_logged_answer_carries_its_action_id_and_the_action_can_be_read_back(
    world: dict[str, Any],
) -> None:
    """D9 ([API]): accepted and refused writes name their action; GET /extensions/actions/{id}."""
    client, tokens = world["client"], world["tokens"]
    refused = client.post(
        PATH, json=transfer(world["bundle"], "ACC-bob"), headers=bearer(tokens["bob"])
    )
    moved = client.post(
        PATH,
        json=transfer(world["bundle"], "ACC-bob", certificate_quantity=10),
        headers=bearer(tokens["alice"]),
    )
    assert moved.status_code == 202 and refused.status_code == 403
    accepted_id, refused_id = moved.json()["action_id"], refused.json()["action_id"]
    assert accepted_id != refused_id
    read = client.get(f"/extensions/actions/{accepted_id}", headers=bearer(tokens["alice"]))
    assert read.status_code == 200, read.text
    record = read.json()["action"]
    assert record["action_id"] == accepted_id
    assert (record["action_state"], record["action_response_status"]) == ("resolved", "accepted")
    assert record["action_request_datetime"] == record["action_completed_datetime"] == NOW
    mine = client.get(f"/extensions/actions/{refused_id}", headers=bearer(tokens["bob"])).json()
    assert (mine["action"]["action_response_status"], mine["action"]["code"]) == (
        "rejected",
        "NOT_OWNER",
    )
    # Another holder's action is not visible to bob; an unknown ID is refused.
    for hidden in (accepted_id, "999999", "not-an-id"):
        other = client.get(f"/extensions/actions/{hidden}", headers=bearer(tokens["bob"]))
        assert other.status_code == 422, other.text
    # The HTTP adapter reads both IDs through the shipped mapping and queries them back.
    adapter: HttpAdapter = world["adapter"]
    answer = adapter.execute(
        {"action": "query_action", "actor": "bob", "now": NOW, "action_id": refused_id}
    )
    assert answer["accepted"] and answer["result"]["code"] == "NOT_OWNER", answer
    again = adapter.execute(
        {
            "action": "transfer",
            "actor": "bob",
            "now": NOW,
            "bundle_id": world["bundle"],
            "to_account": "ACC-bob",
        }
    )
    assert not again["accepted"] and again["action_id"] not in (accepted_id, refused_id)
