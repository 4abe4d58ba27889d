"""Shared set-up for the storage tests: one issuer, one operator, two producers, one battery."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from gc_conformance.reference import (
    Account,
    Device,
    GrossOrNet,
    Issuer,
    Location,
    OpenAccount,
    Policies,
    RegisterDevice,
    Registry,
    SubmitProduction,
)
from gc_conformance.reference.storage import (
    RegisterStorage,
    StorageBook,
    SubmitStorageData,
)

ISSUER = "ISSUER"
OPERATOR = "OPERATOR"
NOW = _dt.datetime(2026, 6, 30, tzinfo=_dt.UTC)  # every action happens "now"; data is earlier
DAY = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
STARTUP = _dt.date(2026, 1, 1)

SOLAR_SITE = Location("NL", city="Utrecht", latitude=52.09, longitude=5.12)
WIND_SITE = Location("NL", city="Den Helder", latitude=52.96, longitude=4.76)
BATTERY_SITE = Location("NL", city="Amersfoort", latitude=52.16, longitude=5.39)


def hour(h: int, minute: int = 0) -> _dt.datetime:
    """``h`` hours (and minutes) after 2026-01-01T00:00:00Z."""
    return DAY + _dt.timedelta(hours=h, minutes=minute)


def producer(device_id: str, source: str, site: Location) -> Device:
    return Device(
        device_id=device_id,
        device_name=f"{source} park {device_id}",
        account_id="ACC-OP",
        capacity_w=1_000_000,
        operational_date=_dt.date(2020, 1, 1),
        technology_type=f"{source} technology",
        energy_source=source,
        location=site,
        meter_id=f"M-{device_id}",
        gross_or_net=GrossOrNet.NET,
        measurement_body="TSO",
    )


def battery() -> Device:
    return Device(
        device_id="BATT",
        device_name="Battery one",
        account_id="ACC-OP",
        capacity_w=500_000,
        operational_date=STARTUP,
        technology_type="Lithium-ion battery",
        energy_source="Storage",
        location=BATTERY_SITE,
        meter_id="M-BATT",
        gross_or_net=GrossOrNet.NET,
        measurement_body="TSO",
        is_storage=True,
    )


class World:
    """A registry with accounts, SOLAR and WIND producers, and storage BATT registered."""

    def __init__(
        self,
        allocation: str = "FIFO",
        loss: str = "EFFICIENCY_FACTOR",
        period: int = 60,
        capacity_wh: int = 10_000,
        now: _dt.datetime = NOW,
        policies: Policies | None = None,
    ) -> None:
        self.now = now
        self.reg = Registry(Issuer(ISSUER, "Example Issuer", "NL"), policies or Policies())
        self.ok(OpenAccount(ISSUER, Account("ACC-OP", OPERATOR, "Operator account")))
        self.ok(OpenAccount(ISSUER, Account("ACC-OTHER", "OTHER", "Someone else")))
        self.ok(RegisterDevice(ISSUER, producer("SOLAR", "Solar", SOLAR_SITE)))
        self.ok(RegisterDevice(ISSUER, producer("WIND", "Wind", WIND_SITE)))
        self.period = period
        self.ok(
            RegisterStorage(
                ISSUER, battery(), capacity_wh, "EAN-BATT-CONSUMPTION", period, allocation, loss
            )
        )

    @property
    def book(self) -> StorageBook:
        return self.reg.book(StorageBook)

    def run(self, command: Any) -> Any:
        return self.reg.execute(command, self.now)

    def ok(self, command: Any) -> Any:
        outcome = self.run(command)
        assert outcome.accepted, outcome.problem
        return outcome.value

    def produce(self, device: str, start: _dt.datetime, wh: int) -> int:
        end = start + _dt.timedelta(minutes=self.period)
        result = self.ok(SubmitProduction(ISSUER, device, f"M-{device}", start, end, wh))
        return int(result.bundle_id)

    def data(self, status: str, start: _dt.datetime, wh: int, soc: Any = None) -> Any:
        return self.run(self.data_cmd(status, start, wh, soc))

    def data_cmd(
        self, status: str, start: _dt.datetime, wh: int, soc: Any = None
    ) -> SubmitStorageData:
        end = start + _dt.timedelta(minutes=self.period)
        return SubmitStorageData(ISSUER, "BATT", "M-BATT", start, end, self.period, status, wh, soc)
