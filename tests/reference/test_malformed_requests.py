"""Requests arrive from vectors and adapters with any field of any type: the registry must
answer every one with an acceptance or a rejection, never an exception, and a rejection
must leave the state untouched."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from core_builders import (
    ALICE,
    ISSUER,
    PRODUCER_ACCOUNT,
    SUPPLIER_ACCOUNT,
    WIND,
    WIND_METER,
    World,
    device,
)

from gc_conformance.reference import (
    Account,
    Cancel,
    Claim,
    Command,
    CorrectProduction,
    Expire,
    IssueBundle,
    OpenAccount,
    RegisterDevice,
    Rejected,
    Release,
    Reserve,
    SubmitProduction,
    Transfer,
    Withdraw,
)

JUNK: list[Any] = [
    None,
    [1],
    {},
    float("nan"),
    10**40,
    True,
    -1,
    "",
    "x",
    1.5,
    dt.date(2024, 1, 1),
    b"x",
]

TEMPLATES: list[Command] = [
    Transfer(ALICE, 5, SUPPLIER_ACCOUNT, 10),
    Cancel(
        ALICE, 5, "Acme", "CONSUMPTION", 10, "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", "here"
    ),
    Claim(ALICE, 2, "Acme", 1),
    Reserve(ALICE, 5, 10, "LOCKED"),
    Release(ALICE, 4),
    Withdraw(ISSUER, 5, "meter fault", 5),
    Expire(ISSUER),
    CorrectProduction(ISSUER, WIND, "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", 900),
    SubmitProduction(
        ISSUER, WIND, WIND_METER, "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z", 5, "NET"
    ),
    IssueBundle(
        ISSUER,
        WIND,
        PRODUCER_ACCOUNT,
        "2024-03-01T12:00:00Z",
        "2024-03-01T13:00:00Z",
        5000,
        5009,
        10,
        10,
    ),
    OpenAccount(ISSUER, Account("Z", ALICE, "z")),
    RegisterDevice(ISSUER, device("D9", meter_id="M9")),
]


def _answer(world: World, command: Any) -> None:
    before, length = world.registry.fingerprint(), len(world.registry.history)
    outcome = world.do(command)  # must not raise
    assert len(world.registry.history) == length + 1
    if isinstance(outcome, Rejected):
        assert world.registry.fingerprint() == before


def _world() -> World:
    world = World()
    world.produce(energy=1000)
    world.ok(Cancel(ALICE, 1, "Acme", quantity=10))  # 2 cancelled, 3 active
    world.ok(Reserve(ALICE, 3, 10))  # 4 reserved, 5 active
    return world


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda c: type(c).__name__)
def test_every_field_of_every_request_with_any_junk_value(template: Command) -> None:
    for field in attrs.fields(type(template)):
        for junk in JUNK:
            _answer(_world(), attrs.evolve(template, **{field.name: junk}))  # type: ignore[misc]


@pytest.mark.parametrize("field", [f.name for f in attrs.fields(Account)])
def test_account_records_with_junk_fields(field: str) -> None:
    for junk in JUNK:
        _answer(
            _world(), OpenAccount(ISSUER, attrs.evolve(Account("Z", ALICE, "z"), **{field: junk}))
        )


def test_device_records_with_junk_fields() -> None:
    for field in attrs.fields(type(device())):
        for junk in JUNK:
            record = attrs.evolve(device("D9", meter_id="M9"), **{field.name: junk})
            _answer(_world(), RegisterDevice(ISSUER, record))


def test_the_correct_templates_are_accepted() -> None:
    # so that the junk above is what makes a request fail
    for template in TEMPLATES:
        world = _world()
        outcome = world.do(template)
        assert outcome.accepted, (template, outcome)
