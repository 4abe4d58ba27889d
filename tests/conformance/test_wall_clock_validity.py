"""Validity (D8) on a wall clock: ``edges.validity.use_after_end_wall_clock``.

A registry that keeps its own time is given production whose rolling validity
ends seconds later; the check uses it once before the end and must see it
refused after. The registries here are the reference model (and one that never
applies validity) behind a wrapper that decides every request on the real UTC
clock, as a deployed registry does. The check waits for the end (about 15 s).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import pytest

from gc_conformance.adapter import Capabilities
from gc_conformance.adapters.faulty import ExpiryNeverApplied
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import get_check
from gc_conformance.checks.edges import months_before
from gc_conformance.outcomes import CheckResult, SkipKind, Status
from gc_conformance.reference import Policies
from gc_conformance.reference.policies import OwnHourUse, ValidityReading
from gc_conformance.runner import RunOptions, execute_check

CHECK = get_check("edges.validity.use_after_end_wall_clock")


class OnTheWallClock:
    """``inner`` deciding every request at the real time now (it declares ``clock: fixed``)."""

    def __init__(self, inner: Any, *, refuse_transfers: bool = False) -> None:
        self.inner = inner
        self.refuse_transfers = refuse_transfers

    def capabilities(self) -> Mapping[str, Any]:
        return {**self.inner.capabilities(), "clock": "fixed"}

    def reset(self, setup: Mapping[str, Any]) -> None:
        self.inner.reset(setup)

    def observe(self) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self.inner.observe()
        return result

    def execute(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.refuse_transfers and request["action"] == "transfer":
            return {"accepted": False, "code": "NOT_OWNER", "message": "transfers are closed"}
        now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result: Mapping[str, Any] = self.inner.execute({**request, "now": now})
        return result

    def close(self) -> None:
        self.inner.close()


def judge(adapter: Any) -> CheckResult:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    return execute_check(CHECK, adapter, capabilities, RunOptions(check_timeout=None))


ROLLING = Policies(validity=ValidityReading.ROLLING_12_MONTHS)


def test_a_registry_applying_validity_on_its_own_clock_passes() -> None:
    result = judge(OnTheWallClock(ReferenceAdapter(ROLLING)))
    assert result.status is Status.PASS, result.describe()


def test_a_registry_that_never_applies_validity_fails_val_004() -> None:
    result = judge(OnTheWallClock(ExpiryNeverApplied(ROLLING)))
    assert result.status is Status.FAIL, result.describe()
    assert result.requirements == ("VAL-004",)
    assert "validity (ROLLING_12_MONTHS) ended at" in result.message


def test_a_registry_refusing_the_use_before_the_end_is_not_verified_never_failed() -> None:
    result = judge(OnTheWallClock(ReferenceAdapter(ROLLING), refuse_transfers=True))
    assert result.status is Status.SKIP and result.skip_kind is SkipKind.NOT_VERIFIED
    assert "before the validity ended" in result.message


@pytest.mark.parametrize("policies", [ROLLING, Policies()], ids=["rolling", "calendar"])
def test_on_a_controlled_clock_the_clock_is_moved_instead(policies: Policies) -> None:
    result = judge(ReferenceAdapter(policies))
    assert result.status is Status.PASS, result.describe()


def test_the_strict_calendar_year_is_judged_only_in_its_last_minute() -> None:
    strict = Policies(own_hour_use=OwnHourUse.NOT_EXEMPT)  # CALENDAR_YEAR by default
    result = judge(OnTheWallClock(ReferenceAdapter(strict)))
    today = _dt.datetime.now(_dt.UTC)
    if (today.month, today.day) != (12, 31):
        assert result.status is Status.SKIP, result.describe()
        assert "only in the year's last minute" in result.message
        assert result.skip_kind is SkipKind.NOT_APPLICABLE


def test_under_the_own_hour_exemption_the_calendar_year_is_judged_any_day() -> None:
    """EXEMPT_12_MONTHS (the default): a GC stays usable until 12 months after production,
    an end a wall clock reaches any day, as under a rolling 12-month reading."""
    result = judge(OnTheWallClock(ReferenceAdapter(Policies())))
    assert result.status is Status.PASS, result.describe()


def test_the_production_end_is_exactly_the_reading_before() -> None:
    at = _dt.datetime(2027, 3, 15, 10, 0, 7, tzinfo=_dt.UTC)
    assert months_before(at, 12) == at.replace(year=2026)
    assert months_before(at, 24) == at.replace(year=2025)
    assert months_before(_dt.datetime(2028, 2, 29, tzinfo=_dt.UTC), 12) is None
