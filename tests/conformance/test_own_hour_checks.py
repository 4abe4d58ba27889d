"""D8's own-hour exemption in the checks: judged under the declared ``own_hour_use``, never guessed.

Under CALENDAR_YEAR the two values of ``own_hour_use`` disagree on when a
certificate's life ends. A registry that declares none is judged under
NOT_EXEMPT, what its validity declaration meant before the policy existed (the
example registries keep passing unchanged). Under the rolling readings the
values agree and nothing is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from gc_conformance.adapter import Capabilities
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.checks import all_checks
from gc_conformance.outcomes import Status
from gc_conformance.reference import OwnHourUse, Policies, ValidityReading
from gc_conformance.runner import RunOptions, execute_check

TIMING = (
    "expiry.sweep.at_validity_end",
    "expiry.unswept.refused_after_end",
    "expiry.own_hour.after_consumption_period",
    "edges.validity.at_the_end_of_validity",
)


class _Undeclared(ReferenceAdapter):
    """The reference, minus its declaration of ``own_hour_use``."""

    def capabilities(self) -> Mapping[str, Any]:
        claimed = dict(super().capabilities())
        claimed["policies"] = {k: v for k, v in claimed["policies"].items() if k != "own_hour_use"}
        return claimed


def _run(adapter: ReferenceAdapter) -> dict[str, Any]:
    capabilities = Capabilities.from_plain(adapter.capabilities())
    options = RunOptions(adapter_spec="reference")
    return {
        c.check_id: execute_check(c, adapter, capabilities, options)
        for c in all_checks()
        if c.check_id in TIMING
    }


def test_calendar_year_without_own_hour_use_is_judged_strictly() -> None:
    results = _run(_Undeclared(policies=Policies(own_hour_use=OwnHourUse.NOT_EXEMPT)))
    assert set(results) == set(TIMING)
    for check_id, result in results.items():
        if check_id == TIMING[2]:  # nothing outlives its period: VAL-011 has nothing to judge
            assert result.status is Status.SKIP and "NOT_EXEMPT" in result.message
        else:
            assert result.status is Status.PASS, (check_id, result.message)


@pytest.mark.parametrize(
    "validity", [ValidityReading.ROLLING_12_MONTHS, ValidityReading.ROLLING_24_MONTHS]
)
def test_a_rolling_reading_needs_no_own_hour_use(validity: ValidityReading) -> None:
    results = _run(_Undeclared(policies=Policies(validity=validity)))
    for check_id in TIMING[:2] + TIMING[3:]:
        assert results[check_id].status is Status.PASS, results[check_id].message
    # no certificate outlives its consumption period: nothing for VAL-011 to judge
    assert results[TIMING[2]].status is Status.SKIP


@pytest.mark.parametrize("own_hour", list(OwnHourUse))
def test_each_declared_value_is_judged_and_the_reference_passes(own_hour: OwnHourUse) -> None:
    results = _run(ReferenceAdapter(policies=Policies(own_hour_use=own_hour)))
    for check_id, result in results.items():
        if check_id == TIMING[2] and own_hour is OwnHourUse.NOT_EXEMPT:
            assert result.status is Status.SKIP and "VAL-004" in result.message
        else:
            assert result.status is Status.PASS, (check_id, result.message)
