"""Shared builders for the core reference-model tests.

``World`` wraps a :class:`Registry` with a clock that only moves forward and a
standard cast: three holders with one account each, one issuer test account and
two registered devices. Its ``rejected`` helper checks, for every rejection a
test provokes, that the registry state is untouched and that exactly one
rejected record was appended to the history (the "a refusal changes nothing"
property, exercised by every unit test).

The meta-test in ``test_error_code_coverage.py`` checks, from the codes these
helpers record, that every core error code is provoked by some test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from gc_conformance.reference import (
    Accepted,
    Account,
    Command,
    Device,
    ErrorCode,
    GrossOrNet,
    IssuanceResult,
    Issuer,
    IssuerExemption,
    Location,
    OpenAccount,
    Policies,
    Problem,
    RegisterDevice,
    Registry,
    Rejected,
    SubmitProduction,
    parse_timestamp,
)
from gc_conformance.reference.invariants import check_invariants

ISSUER = "issuer"
ALICE, BOB, CAROL = "alice", "bob", "carol"
PRODUCER_ACCOUNT, SUPPLIER_ACCOUNT, CONSUMER_ACCOUNT = "A-PROD", "A-SUP", "A-CONS"
ISSUER_TEST_ACCOUNT = "A-ISSUER-TEST"
WIND, SOLAR = "DEV-WIND", "DEV-SOLAR"
WIND_METER, SOLAR_METER = "M-WIND", "M-SOLAR"
WIND_CAPACITY_W = 2_000_000
SOLAR_CAPACITY_W = 1_000

START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)

# Every code a test in this run has provoked through ``World.rejected`` or ``invalid``
# (read by the coverage meta-test in test_error_code_coverage.py).
PROVOKED: set[ErrorCode] = set()


def ts(text: str) -> dt.datetime:
    """An aware UTC instant from the strict wire form."""
    return parse_timestamp(text, "test")


def hour_after(text: str, minutes: int = 60) -> str:
    end = ts(text) + dt.timedelta(minutes=minutes)
    return end.strftime("%Y-%m-%dT%H:%M:%SZ")


def device(
    device_id: str = WIND,
    account_id: str = PRODUCER_ACCOUNT,
    *,
    capacity_w: int = WIND_CAPACITY_W,
    meter_id: str = WIND_METER,
    energy_source: str = "Wind",
    **changes: Any,
) -> Device:
    values: dict[str, Any] = dict(
        device_id=device_id,
        device_name=f"{device_id} name",
        account_id=account_id,
        capacity_w=capacity_w,
        operational_date=dt.date(2020, 1, 1),
        technology_type="Turbine" if energy_source == "Wind" else "Photovoltaic",
        energy_source=energy_source,
        location=Location("NL", city="Utrecht", latitude=52.09, longitude=5.12),
        meter_id=meter_id,
        gross_or_net=GrossOrNet.NET,
        measurement_body="Test TSO",
    )
    values.update(changes)
    return Device(**values)


class World:
    """A registry with a standard cast and a forward-only clock."""

    def __init__(self, policies: Policies | None = None, *, populated: bool = True) -> None:
        self.registry = Registry(Issuer(ISSUER, "Test Issuer", "NL"), policies)
        # Production is reported in March 2024; default actions happen well after it.
        self.now = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
        if populated:
            self.ok(OpenAccount(ISSUER, Account(PRODUCER_ACCOUNT, ALICE, "Producer")), now=START)
            self.ok(OpenAccount(ISSUER, Account(SUPPLIER_ACCOUNT, BOB, "Supplier")), now=START)
            self.ok(OpenAccount(ISSUER, Account(CONSUMER_ACCOUNT, CAROL, "Consumer")), now=START)
            self.ok(
                OpenAccount(
                    ISSUER,
                    Account(ISSUER_TEST_ACCOUNT, ISSUER, "Issuer test", IssuerExemption.TESTING),
                ),
                now=START,
            )
            self.ok(RegisterDevice(ISSUER, device()), now=START)
            self.ok(
                RegisterDevice(
                    ISSUER,
                    device(
                        SOLAR,
                        SUPPLIER_ACCOUNT,
                        capacity_w=SOLAR_CAPACITY_W,
                        meter_id=SOLAR_METER,
                        energy_source="Solar",
                    ),
                ),
                now=START,
            )
            self.now = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)

    # ---------------------------------------------------------------- running requests

    def _at(self, now: dt.datetime | str | None) -> dt.datetime:
        if now is not None:
            self.now = ts(now) if isinstance(now, str) else now
        return self.now

    def do(self, command: Command, now: dt.datetime | str | None = None) -> Any:
        return self.registry.execute(command, self._at(now))

    def ok(self, command: Command, now: dt.datetime | str | None = None) -> Any:
        outcome = self.do(command, now)
        assert isinstance(outcome, Accepted), f"{command!r} was refused: {outcome.problem}"
        return outcome.value

    def rejected(
        self,
        command: Command,
        code: ErrorCode,
        field: str | None = None,
        now: dt.datetime | str | None = None,
    ) -> Problem:
        """Assert ``command`` is refused with ``code`` (and ``field``) and changes nothing."""
        before = self.registry.fingerprint()
        length = len(self.registry.history)
        last_at = self.registry.last_action_at
        outcome = self.registry.execute(command, self._at(now) if now is not None else self.now)
        assert isinstance(outcome, Rejected), f"{command!r} was accepted: {outcome!r}"
        assert outcome.code is code, f"expected {code.name}, got {outcome.problem}"
        if field is not None:
            assert outcome.problem.field == field, outcome.problem
        assert self.registry.fingerprint() == before
        assert self.registry.last_action_at == last_at
        history = self.registry.history
        assert len(history) == length + 1
        assert history[-1].problem == outcome.problem
        assert history[-1].effects == ()
        assert not history[-1].accepted
        PROVOKED.add(code)
        return outcome.problem

    # ---------------------------------------------------------------- shortcuts

    def produce(
        self,
        start: str = "2024-03-01T10:00:00Z",
        energy: Any = 1000,
        *,
        device_id: str = WIND,
        minutes: int = 60,
        now: dt.datetime | str | None = None,
    ) -> IssuanceResult:
        meter = WIND_METER if device_id == WIND else SOLAR_METER
        result = self.ok(
            SubmitProduction(ISSUER, device_id, meter, start, hour_after(start, minutes), energy),
            now,
        )
        assert isinstance(result, IssuanceResult)
        return result

    def bundle(self, bundle_id: int) -> Any:
        found = self.registry.bundle(bundle_id)
        assert found is not None
        return found

    def assert_invariants(self) -> None:
        report = check_invariants(self.registry.export_history(), self.registry.export_state())
        assert report.ok, [f.to_plain() for f in report.findings]


def invalid(call: Callable[[], object], code: ErrorCode, field: str | None = None) -> Problem:
    """Assert ``call`` raises :class:`InvalidInput` with ``code`` (and ``field``)."""
    from gc_conformance.reference import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.code is code, caught.value.problem
    if field is not None:
        assert caught.value.field == field, caught.value.problem
    PROVOKED.add(code)
    return caught.value.problem
