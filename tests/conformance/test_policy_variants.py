"""The reference passes the whole suite under every value of every registry policy.

A check that quietly assumed the default reading of an ambiguity (rounding to
nearest, calendar-year validity ...) would fail a registry that declared the
other reading: a false fail. Each non-default value is run alone so that a
failure names the one policy whose reading a check got wrong.
"""

from __future__ import annotations

import attrs
import pytest

from gc_conformance.adapter import AdapterUnavailable, Capabilities
from gc_conformance.adapters import load_adapter
from gc_conformance.checks import all_checks
from gc_conformance.outcomes import Status
from gc_conformance.reference import Policies
from gc_conformance.runner import RunOptions, execute_check

DEFAULTS = Policies()
VARIANTS = [
    f"{field.name}={member.name}"
    for field in attrs.fields(Policies)
    for member in type(getattr(DEFAULTS, field.name))
    if member is not getattr(DEFAULTS, field.name)
]


def test_every_non_default_value_is_a_variant() -> None:
    assert "rounding=DOWN" in VARIANTS and "validity=ROLLING_24_MONTHS" in VARIANTS
    assert len(VARIANTS) == sum(
        len(type(getattr(DEFAULTS, f.name))) - 1 for f in attrs.fields(Policies)
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_reference_passes_every_check_under(variant: str) -> None:
    adapter = load_adapter(f"reference:{variant}")
    capabilities = Capabilities.from_plain(adapter.capabilities())
    assert capabilities.policies[variant.split("=")[0]] == variant.split("=")[1]
    options = RunOptions(adapter_spec=f"reference:{variant}", max_examples=15)
    results = [execute_check(c, adapter, capabilities, options) for c in all_checks()]
    broken = [
        f"{r.check_id}: {r.message}" for r in results if r.status not in (Status.PASS, Status.SKIP)
    ]
    assert broken == []
    # The security profile needs the wire (HTTP): in process it is never claimed.
    skipped = [r for r in results if r.status is Status.SKIP and r.profile != "security"]
    # Only checks whose premise the variant removes may skip, and each says why.
    assert all(r.message for r in skipped)
    # At most the capacity checks under capacity=DISABLED: the plausibility check, the issuer-
    # created one and the nameplate edge check.
    assert len(skipped) <= 3, [r.check_id for r in skipped]


CONFIGURATION_VARIANTS = [
    "monthly_cap=WHOLE_EACS",
    "hour_suspension=SUSPEND_UNCOVERED_PART",
    "hour_suspension=REFUSE",
    "monthly_cap=WHOLE_EACS,hour_suspension=REFUSE",
]


@pytest.mark.parametrize("variant", CONFIGURATION_VARIANTS)
def test_the_reference_passes_the_configuration_checks_under(variant: str) -> None:
    adapter = load_adapter(f"reference:{variant}")
    capabilities = Capabilities.from_plain(adapter.capabilities())
    for setting in variant.split(","):
        name, value = setting.split("=")
        assert capabilities.policies[name] == value
    options = RunOptions(adapter_spec=f"reference:{variant}", max_examples=15)
    checks = [c for c in all_checks() if c.profile.value in ("config-2", "config-3")]
    assert len(checks) >= 20
    results = [execute_check(c, adapter, capabilities, options) for c in checks]
    assert [f"{r.check_id}: {r.message}" for r in results if r.status is not Status.PASS] == []


def test_an_unknown_configuration_policy_value_is_refused_naming_it() -> None:
    with pytest.raises(AdapterUnavailable, match="monthly_cap: 'MONTHLY' is not one of"):
        load_adapter("reference:monthly_cap=MONTHLY")
