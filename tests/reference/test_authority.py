"""Who may do what (D2), and what each party may see (queries)."""

from __future__ import annotations

import attrs
import pytest
from core_builders import (
    ALICE,
    BOB,
    CAROL,
    CONSUMER_ACCOUNT,
    ISSUER,
    ISSUER_TEST_ACCOUNT,
    PRODUCER_ACCOUNT,
    SOLAR,
    SUPPLIER_ACCOUNT,
    WIND,
    WIND_METER,
    World,
    device,
)

from gc_conformance.reference import (
    Account,
    BundleResult,
    BundleStatus,
    Cancel,
    Claim,
    Command,
    CorrectProduction,
    ErrorCode,
    Expire,
    IssueBundle,
    OpenAccount,
    Query,
    RegisterDevice,
    Release,
    Reserve,
    SubmitProduction,
    Transfer,
    Withdraw,
)

HOLDER_ONLY: list[tuple[str, Command]] = [
    ("transfer", Transfer("?", 1, CONSUMER_ACCOUNT)),
    ("cancel", Cancel("?", 1, "Acme")),
    ("reserve", Reserve("?", 1)),
]


@pytest.mark.parametrize("outsider", [BOB, CAROL, ISSUER, "stranger"])
@pytest.mark.parametrize(("name", "template"), HOLDER_ONLY)
def test_only_the_holder_acts_on_its_certificates(
    outsider: str, name: str, template: Command
) -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(attrs.evolve(template, actor=outsider), ErrorCode.NOT_OWNER, "actor")  # type: ignore[misc]
    assert world.ok(attrs.evolve(template, actor=ALICE)) == BundleResult(1, None)  # type: ignore[misc]


@pytest.mark.parametrize("outsider", [BOB, ISSUER])
def test_only_the_holder_claims_and_releases(outsider: str) -> None:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme", quantity=10))  # 2 cancelled, 3 active
    world.rejected(Claim(outsider, 2, "Acme"), ErrorCode.NOT_OWNER, "actor")
    world.ok(Reserve(ALICE, 3))
    world.rejected(Release(outsider, 3), ErrorCode.NOT_OWNER, "actor")


ISSUER_ONLY: list[Command] = [
    OpenAccount(ALICE, Account("X", ALICE, "mine")),
    RegisterDevice(ALICE, device("DEV-X", meter_id="M-X")),
    SubmitProduction(ALICE, WIND, WIND_METER, "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z", 10),
    IssueBundle(
        ALICE,
        WIND,
        PRODUCER_ACCOUNT,
        "2024-03-01T11:00:00Z",
        "2024-03-01T12:00:00Z",
        5000,
        5009,
        10,
        10,
    ),
    Withdraw(ALICE, 1, "reason"),
    CorrectProduction(ALICE, WIND, "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 5),
    Expire(ALICE),
]


@pytest.mark.parametrize("command", ISSUER_ONLY, ids=lambda c: type(c).__name__)
def test_only_the_issuer_issues_withdraws_corrects_opens_and_registers(command: Command) -> None:
    world = World()
    world.produce(energy=1000)
    world.rejected(command, ErrorCode.NOT_AUTHORISED, "actor")


def test_the_issuer_holds_certificates_only_in_an_exempt_account() -> None:
    world = World()
    world.produce(energy=1000)
    # the holder may send certificates to the issuer's exempt (testing) account ...
    assert world.ok(Transfer(ALICE, 1, ISSUER_TEST_ACCOUNT, 10)) == BundleResult(2, 3)
    # ... where the issuer, as holder, may use them for itself (D2) ...
    assert world.ok(Cancel(ISSUER, 2, ISSUER, quantity=5)) == BundleResult(4, 5)
    # ... but never trade or supply them: tests/reference/test_review_fixes_model.py
    world.rejected(Cancel(ISSUER, 5, "a customer"), ErrorCode.ISSUER_MAY_NOT_TRADE, "beneficiary")
    # but the issuer cannot open an account without an exemption to hold anything else
    world.rejected(
        OpenAccount(ISSUER, Account("PLAIN", ISSUER, "plain")), ErrorCode.ISSUER_MAY_NOT_HOLD
    )


# ---------------------------------------------------------------- queries


def populated() -> World:
    world = World()
    world.produce("2024-03-01T10:00:00Z", 1000)  # 1: wind, A-PROD
    world.produce("2024-03-01T11:00:00Z", 500)  # 2: wind, A-PROD
    world.produce("2024-03-01T10:00:00Z", 300, device_id=SOLAR)  # 3: solar, A-SUP
    world.ok(Transfer(ALICE, 1, SUPPLIER_ACCOUNT, 100))  # 4: 1..100 to A-SUP; 5: 101..1000
    world.ok(Cancel(BOB, 4, "Acme", quantity=40))  # 6: cancelled; 7: active
    return world


def ids(world: World, query: Query) -> list[int]:
    outcome = world.registry.query(query)
    assert outcome.accepted, outcome
    return [b.bundle_id for b in outcome.value]  # type: ignore[union-attr]


def test_query_by_account_device_issuance_status_source_and_interval() -> None:
    world = populated()
    assert ids(world, Query(ISSUER)) == [6, 7, 5, 2, 3]  # every current bundle, by ID range
    assert ids(world, Query(ALICE, account_id=PRODUCER_ACCOUNT)) == [5, 2]
    assert ids(world, Query(BOB, account_id=SUPPLIER_ACCOUNT)) == [6, 7, 3]
    assert ids(world, Query(ISSUER, device_id=WIND)) == [6, 7, 5, 2]
    assert ids(world, Query(ISSUER, device_id=SOLAR)) == [3]
    assert ids(world, Query(ISSUER, issuance_id=1)) == [6, 7, 5]
    assert ids(world, Query(ISSUER, status="CANCELLED")) == [6]
    assert ids(world, Query(ISSUER, status="ACTIVE", account_id=SUPPLIER_ACCOUNT)) == [7, 3]
    assert ids(world, Query(ISSUER, energy_source="Solar")) == [3]
    assert ids(world, Query(ISSUER, start="2024-03-01T10:30:00Z", end="2024-03-01T11:30:00Z")) == [
        6,
        7,
        5,
        2,
        3,
    ]
    assert ids(world, Query(ISSUER, start="2024-03-01T11:00:00Z", end="2024-03-01T12:00:00Z")) == [
        2
    ]
    assert ids(world, Query(ISSUER, start="2024-03-01T09:00:00Z", end="2024-03-01T10:00:00Z")) == []
    assert ids(world, Query(ISSUER, device_id=WIND, issuance_id=2)) == [2]
    assert ids(world, Query(ISSUER, device_id="NOPE")) == []
    assert ids(world, Query(ISSUER, issuance_id=99)) == []


def test_a_holder_sees_only_its_own_bundles() -> None:
    world = populated()
    assert ids(world, Query(ALICE)) == [5, 2]
    assert ids(world, Query(BOB)) == [6, 7, 3]
    assert ids(world, Query(CAROL)) == []
    assert ids(world, Query(ALICE, device_id=WIND)) == [5, 2]
    assert ids(world, Query(BOB, issuance_id=1)) == [6, 7]


def test_a_holder_cannot_query_another_holders_account() -> None:
    world = populated()
    outcome = world.registry.query(Query(ALICE, account_id=SUPPLIER_ACCOUNT))
    assert not outcome.accepted
    assert outcome.code is ErrorCode.NOT_OWNER  # type: ignore[union-attr]
    assert outcome.problem.field == "account_id"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        (Query(ISSUER, account_id="NOPE"), ErrorCode.UNKNOWN_ACCOUNT, "account_id"),
        # malformed filters are refused rather than raising (they once raised TypeError)
        (Query(ISSUER, issuance_id=[1]), ErrorCode.INVALID_FIELD, "issuance_id"),  # type: ignore[arg-type]
        (Query(ALICE, issuance_id="1"), ErrorCode.INVALID_FIELD, "issuance_id"),  # type: ignore[arg-type]
        (Query(ISSUER, device_id=["x"]), ErrorCode.INVALID_FIELD, "device_id"),  # type: ignore[arg-type]
        (Query(ISSUER, energy_source=""), ErrorCode.INVALID_FIELD, "energy_source"),
        (Query(ISSUER, status="SHINY"), ErrorCode.INVALID_FIELD, "status"),
        (Query(ISSUER, start="2024-03-01T10:00:00Z"), ErrorCode.INVALID_TIMESTAMP, "period.end"),
        (
            Query(ISSUER, start="2024-03-01T11:00:00Z", end="2024-03-01T10:00:00Z"),
            ErrorCode.INVALID_INTERVAL,
            "period",
        ),
    ],
)
def test_bad_queries_are_refused(query: Query, code: ErrorCode, field: str) -> None:
    world = populated()
    outcome = world.registry.query(query)
    assert not outcome.accepted
    assert outcome.code is code  # type: ignore[union-attr]
    assert outcome.problem.field == field  # type: ignore[union-attr]


def test_queries_are_not_logged_and_change_nothing() -> None:
    world = populated()
    before, length = world.registry.fingerprint(), len(world.registry.history)
    ids(world, Query(ISSUER))
    world.registry.query(Query(ALICE, account_id=SUPPLIER_ACCOUNT))
    assert world.registry.fingerprint() == before
    assert len(world.registry.history) == length


def test_superseded_bundles_are_never_listed() -> None:
    world = populated()
    listed = world.registry.query(Query(ISSUER)).value  # type: ignore[union-attr]
    assert all(b.status is not BundleStatus.BUNDLE_SPLIT for b in listed)
    assert world.bundle(1).status is BundleStatus.BUNDLE_SPLIT
