"""Opening accounts and registering production devices (D2, D6)."""

from __future__ import annotations

import datetime as dt

import pytest
from core_builders import (
    ALICE,
    BOB,
    ISSUER,
    PRODUCER_ACCOUNT,
    WIND,
    World,
    device,
    invalid,
)

from gc_conformance.reference import (
    Account,
    ErrorCode,
    Issuer,
    IssuerExemption,
    Location,
    OpenAccount,
    RegisterDevice,
    Registered,
)


def test_the_issuer_opens_an_account_for_a_holder() -> None:
    world = World(populated=False)
    result = world.ok(OpenAccount(ISSUER, Account("X", ALICE, "Alice")))
    assert result == Registered("X")
    assert world.registry.account("X") == Account("X", ALICE, "Alice")
    assert world.registry.balance("X") == 0


def test_only_the_issuer_opens_accounts() -> None:
    world = World(populated=False)
    world.rejected(
        OpenAccount(ALICE, Account("X", ALICE, "Alice")), ErrorCode.NOT_AUTHORISED, "actor"
    )
    assert world.registry.account("X") is None


def test_an_account_id_is_used_once() -> None:
    world = World()
    world.rejected(
        OpenAccount(ISSUER, Account(PRODUCER_ACCOUNT, BOB, "Bob again")),
        ErrorCode.DUPLICATE_ACCOUNT,
        "account.account_id",
    )
    assert world.registry.account(PRODUCER_ACCOUNT).holder_id == ALICE  # type: ignore[union-attr]


def test_the_issuer_may_hold_only_with_a_d2_exemption() -> None:
    world = World(populated=False)
    world.rejected(
        OpenAccount(ISSUER, Account("OWN", ISSUER, "Issuer")),
        ErrorCode.ISSUER_MAY_NOT_HOLD,
        "account.exemption",
    )
    for exemption in IssuerExemption:
        account = Account(f"OWN-{exemption.name}", ISSUER, "Issuer", exemption)
        assert world.ok(OpenAccount(ISSUER, account)) == Registered(account.account_id)


def test_an_exemption_belongs_only_on_the_issuers_own_accounts() -> None:
    world = World(populated=False)
    world.rejected(
        OpenAccount(ISSUER, Account("X", ALICE, "Alice", IssuerExemption.TESTING)),
        ErrorCode.INVALID_FIELD,
        "account.exemption",
    )


@pytest.mark.parametrize(
    ("account", "field"),
    [
        (Account("", ALICE, "Alice"), "account.account_id"),
        (Account("X", "  ", "Alice"), "account.holder_id"),
        (Account("X", ALICE, ""), "account.account_name"),
        ("X", "account"),
    ],
)
def test_account_fields_must_be_present(account: object, field: str) -> None:
    world = World(populated=False)
    world.rejected(OpenAccount(ISSUER, account), ErrorCode.INVALID_FIELD, field)  # type: ignore[arg-type]


def test_the_issuer_registers_a_device_into_an_existing_account() -> None:
    world = World()
    registered = world.registry.device(WIND)
    assert registered is not None
    assert registered.account_id == PRODUCER_ACCOUNT
    other = device("DEV-3", PRODUCER_ACCOUNT, meter_id="M-3")
    assert world.ok(RegisterDevice(ISSUER, other)) == Registered("DEV-3")


def test_only_the_issuer_registers_devices() -> None:
    world = World()
    world.rejected(
        RegisterDevice(ALICE, device("DEV-3", meter_id="M-3")), ErrorCode.NOT_AUTHORISED, "actor"
    )


def test_a_device_id_is_unique_in_the_domain() -> None:
    world = World()
    world.rejected(
        RegisterDevice(ISSUER, device(WIND, meter_id="OTHER")),
        ErrorCode.DUPLICATE_DEVICE,
        "device.device_id",
    )


def test_a_device_issues_into_an_account_that_exists() -> None:
    world = World()
    world.rejected(
        RegisterDevice(ISSUER, device("DEV-3", "NOWHERE", meter_id="M-3")),
        ErrorCode.UNKNOWN_ACCOUNT,
        "device.account_id",
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"capacity_w": 0}, ErrorCode.INVALID_FIELD, "device.capacity_w"),
        ({"capacity_w": -5}, ErrorCode.INVALID_FIELD, "device.capacity_w"),
        ({"capacity_w": 1.5}, ErrorCode.INVALID_FIELD, "device.capacity_w"),
        ({"capacity_w": True}, ErrorCode.INVALID_FIELD, "device.capacity_w"),
        ({"meter_id": ""}, ErrorCode.INVALID_FIELD, "device.meter_id"),
        ({"device_name": " "}, ErrorCode.INVALID_FIELD, "device.device_name"),
        ({"energy_source": ""}, ErrorCode.INVALID_FIELD, "device.energy_source"),
        ({"measurement_body": ""}, ErrorCode.INVALID_FIELD, "device.measurement_body"),
        ({"gross_or_net": "NET"}, ErrorCode.INVALID_FIELD, "device.gross_or_net"),
        ({"operational_date": "2020-01-01"}, ErrorCode.INVALID_DATE, "device.operational_date"),
        (
            {"operational_date": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
            ErrorCode.INVALID_DATE,
            "device.operational_date",
        ),
    ],
)
def test_device_registration_data_is_validated(
    changes: dict[str, object], code: ErrorCode, field: str
) -> None:
    world = World()
    world.rejected(RegisterDevice(ISSUER, device("DEV-3", **changes)), code, field)
    assert world.registry.device("DEV-3") is None


def test_device_must_be_a_device_record() -> None:
    world = World()
    world.rejected(RegisterDevice(ISSUER, "DEV-3"), ErrorCode.INVALID_FIELD, "device")  # type: ignore[arg-type]


def test_locations_need_an_address_or_gps_within_range() -> None:
    assert Location("NL", postcode="1234AB").postcode == "1234AB"
    invalid(lambda: Location("NL"), ErrorCode.INVALID_FIELD, "location")
    invalid(lambda: Location("NL", latitude=52.0), ErrorCode.INVALID_FIELD, "location")
    invalid(
        lambda: Location("NL", latitude=91.0, longitude=0.0),
        ErrorCode.INVALID_FIELD,
        "location.latitude",
    )
    invalid(
        lambda: Location("NL", latitude=0.0, longitude=181.0),
        ErrorCode.INVALID_FIELD,
        "location.longitude",
    )
    invalid(lambda: Location("", city="X"), ErrorCode.INVALID_FIELD, "location.country")


def test_the_issuer_record_is_validated() -> None:
    assert Issuer("I", "Issuer", "NL", configuration=3).configuration == 3
    invalid(
        lambda: Issuer("I", "Issuer", "NL", configuration=4),
        ErrorCode.INVALID_FIELD,
        "issuer.configuration",
    )
    invalid(lambda: Issuer("", "Issuer", "NL"), ErrorCode.INVALID_FIELD, "issuer.issuer_id")


# ------------------------------------------------------------------ D5 flags and D6 data


def test_disclosure_and_conversion_tag_are_set_at_registration_and_carried() -> None:
    """D5's disclosure flag and conversion tag are the device's to declare (seed defaults:
    disclosable, not converted); the certificates carry what the device declared."""
    from core_builders import device

    from gc_conformance.reference import SubmitProduction

    world = World()
    converted = device(
        "DEV-CONV",
        meter_id="M-CONV",
        energy_source="Solar",
        disclosure=False,
        post_energy_carrier_conversion=True,
        production_auxiliaries="inverter standby supply",
        convertible_energy_sources=("Solar", "Grid electricity"),
        metering_diagram_reference="DIAG-7",
        behind_the_meter_consumption_meter_ids=("EAN-1", "EAN-2"),
    )
    world.ok(RegisterDevice(ISSUER, converted))
    registered = world.registry.device("DEV-CONV")
    assert registered is not None and registered.convertible_energy_sources == (
        "Solar",
        "Grid electricity",
    )
    hour = ("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z")
    world.ok(SubmitProduction(ISSUER, "DEV-CONV", "M-CONV", *hour, 100))
    world.produce(energy=100)  # the default wind park
    solar, wind = world.registry.issuance(1), world.registry.issuance(2)
    assert solar is not None and wind is not None
    assert (solar.disclosure, solar.post_energy_carrier_conversion) == (False, True)
    assert (wind.disclosure, wind.post_energy_carrier_conversion) == (True, False)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"disclosure": "yes"}, "device.disclosure"),
        ({"post_energy_carrier_conversion": 1}, "device.post_energy_carrier_conversion"),
        ({"production_auxiliaries": ""}, "device.production_auxiliaries"),
        ({"metering_diagram_reference": 7}, "device.metering_diagram_reference"),
        ({"convertible_energy_sources": "Solar"}, "device.convertible_energy_sources"),
        ({"convertible_energy_sources": ("Solar", "")}, "device.convertible_energy_sources[1]"),
        (
            {"behind_the_meter_consumption_meter_ids": (None,)},
            "device.behind_the_meter_consumption_meter_ids[0]",
        ),
    ],
)
def test_a_malformed_flag_or_registration_field_is_refused_naming_it(
    changes: dict[str, object], field: str
) -> None:
    from core_builders import device

    world = World()
    bad = device("DEV-BAD", meter_id="M-BAD", energy_source="Solar", **changes)
    world.rejected(RegisterDevice(ISSUER, bad), ErrorCode.INVALID_FIELD, field)
    assert world.registry.device("DEV-BAD") is None
