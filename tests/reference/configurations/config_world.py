"""Shared builders for the configuration tests: one EAC registry, one device, linked GC registries."""

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
    RegisterDevice,
)
from gc_conformance.reference.configurations import (
    ConfigurationPolicies,
    HourSuspension,
    LinkedRegistries,
    MonthlyCap,
    configuration_2,
    configuration_3,
)
from gc_conformance.reference.eac import (
    AppointGcIssuer,
    EacFaceValue,
    EacIssuingBody,
    EacOpenAccount,
    EacPolicies,
    EacRegisterDevice,
    EacRegistry,
    EacReportProduction,
)

UTC = _dt.UTC
BODY = EacIssuingBody("EIB", "Example Issuing Body", "NL")
MAY = ("2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z")
JUNE_1 = _dt.datetime(2026, 6, 1, 1, tzinfo=UTC)


def at(day: int, hour: int = 0, month: int = 6) -> _dt.datetime:
    return _dt.datetime(2026, month, day, hour, tzinfo=UTC)


def may_hour(day: int, hour: int) -> tuple[str, str]:
    start = _dt.datetime(2026, 5, day, hour, tzinfo=UTC)
    end = start + _dt.timedelta(hours=1)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")


def eac_registry(
    face: EacFaceValue = EacFaceValue.ONE_MWH, body: EacIssuingBody = BODY, appoint: bool = True
) -> EacRegistry:
    eac = EacRegistry(body, EacPolicies(face_value=face))
    now = at(1, 0, month=5)
    for account_id, holder in (("E-PROD", "PRODUCER"), ("E-GCI", "GCI"), ("E-TRADER", "TRADER")):
        eac.execute(EacOpenAccount(body.body_id, account_id, holder), now).unwrap()
    eac.execute(EacRegisterDevice(body.body_id, "DEV-1", "E-PROD", "M-1"), now).unwrap()
    if appoint:
        eac.execute(AppointGcIssuer(body.body_id, "GCI"), now).unwrap()
    return eac


def report_may(eac: EacRegistry, energy_wh: Any = 2_700_000) -> Any:
    return eac.execute(
        EacReportProduction(eac.body.body_id, "DEV-1", "M-1", *MAY, energy_wh), JUNE_1
    ).unwrap()


def device(device_id: str = "DEV-1", meter: str = "M-1") -> Device:
    return Device(
        device_id=device_id,
        device_name="Wind park",
        account_id="G-PROD",
        capacity_w=5_000_000,
        operational_date=_dt.date(2020, 1, 1),
        technology_type="wind",
        energy_source="wind",
        location=Location("NL", city="Delfzijl"),
        meter_id=meter,
        gross_or_net=GrossOrNet.NET,
        measurement_body="MB",
    )


def linked(
    configuration: int,
    eac: EacRegistry,
    cap: MonthlyCap = MonthlyCap.POOLED,
    suspension: HourSuspension = HourSuspension.SUSPEND_WHOLE_HOUR,
    issuer_id: str = "GCI",
) -> LinkedRegistries:
    issuer = Issuer(issuer_id, "GC Issuer", "NL")
    build = configuration_2 if configuration == 2 else configuration_3
    pair = build(eac, issuer, configuration_policies=ConfigurationPolicies(cap, suspension))
    now = at(1, 0, month=5)
    for account_id, holder in (
        ("G-PROD", "PRODUCER"),
        ("G-BUYER", "BUYER"),
        ("G-CONS", "CONSUMER"),
    ):
        pair.gc.execute(
            OpenAccount(issuer_id, Account(account_id, holder, account_id)), now
        ).unwrap()
    pair.gc.execute(RegisterDevice(issuer_id, device()), now).unwrap()
    return pair
