"""Adapter spec strings -> adapters.

=========================  =====================================================
``reference``              the embedded reference model (``reference:rounding=DOWN,...``
                           sets policies, see ``gc-conformance policies``;
                           ``monthly_cap`` and ``hour_suspension`` set #2/#3's)
``faulty:NAME``            the reference model with one deliberate defect
                           (``gc-conformance adapters`` lists them)
``package.module:Class``   a vendor's adapter class, built with no arguments
``http://...``             a registry's HTTP API, translated by a mapping file
                           (``http://HOST:PORT?mapping=FILE``; docs/http.md)
=========================  =====================================================
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import attrs

from gc_conformance.adapter import AdapterUnavailable, RegistryAdapter
from gc_conformance.reference import (
    ConfigurationPolicies,
    HourSuspension,
    InvalidInput,
    MonthlyCap,
    Policies,
)


@attrs.frozen
class BuiltinAdapter:
    name: str
    description: str
    breaks: tuple[str, ...] = ()  # requirement IDs a faulty registry violates


def builtin_adapters() -> list[BuiltinAdapter]:
    from gc_conformance.adapters.faulty import FAULTS
    from gc_conformance.adapters.reference import ReferenceAdapter

    listed = [BuiltinAdapter("reference", ReferenceAdapter.description)]
    listed += [
        BuiltinAdapter(f"faulty:{name}", fault.description, fault.breaks)
        for name, fault in sorted(FAULTS.items())
    ]
    return listed


def load_adapter(spec: str) -> RegistryAdapter:
    """Build the adapter ``spec`` names; :class:`AdapterUnavailable` says why it cannot."""
    if spec == "reference" or spec.startswith("reference:"):
        from gc_conformance.adapters.reference import ReferenceAdapter

        return ReferenceAdapter(*_policies(spec.partition(":")[2]))
    if spec.startswith("faulty:"):
        from gc_conformance.adapters.faulty import FAULTS

        name = spec.partition(":")[2]
        fault = FAULTS.get(name)
        if fault is None:
            known = ", ".join(sorted(FAULTS))
            raise AdapterUnavailable(f"no faulty registry {name!r}; known: {known}")
        return fault.build()
    if spec.startswith(("http://", "https://")):
        from gc_conformance.adapters.http import HttpAdapter

        return HttpAdapter.from_spec(spec)
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise AdapterUnavailable(
            f"{spec!r} is not an adapter spec: use reference, faulty:NAME or package.module:Class"
        )
    # Like pytest's rootdir: a vendor's adapter module next to where the run starts is found
    # whether the run is started as `gc-conformance` (script dir on sys.path) or `python -m`.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AdapterUnavailable(f"cannot import {module_name!r}: {exc}") from exc
    factory: Any = getattr(module, attribute, None)
    if factory is None:
        raise AdapterUnavailable(f"module {module_name!r} has no {attribute!r}")
    try:
        adapter = factory()
    except Exception as exc:
        raise AdapterUnavailable(f"{spec} could not be built: {type(exc).__name__}: {exc}") from exc
    missing = [
        m
        for m in ("capabilities", "reset", "execute", "observe", "close")
        if not hasattr(adapter, m)
    ]
    if missing:
        raise AdapterUnavailable(f"{spec} lacks the contract's methods: {', '.join(missing)}")
    return adapter  # type: ignore[no-any-return]


def _policies(text: str) -> tuple[Policies, ConfigurationPolicies]:
    """``NAME=VALUE,...``: registry policies, plus ``monthly_cap`` and ``hour_suspension`` (#2/#3)."""
    bad = [item for item in text.split(",") if item and "=" not in item]
    if bad:
        raise AdapterUnavailable(f"policy settings are NAME=VALUE, got {bad[0]!r}")
    values: dict[str, str] = dict(
        item.split("=", 1) for item in text.split(",") if item and "=" in item
    )
    configuration: dict[str, Any] = {}
    for name, field, kind in (
        ("monthly_cap", "monthly_cap", MonthlyCap),
        ("hour_suspension", "suspension", HourSuspension),
    ):
        if name in values:
            value = values.pop(name)
            try:
                configuration[field] = kind[value]
            except KeyError:
                known = ", ".join(m.name for m in kind)
                raise AdapterUnavailable(
                    f"bad reference policy: {name}: {value!r} is not one of {known}"
                ) from None
    try:
        return Policies.from_plain(values), ConfigurationPolicies(**configuration)
    except InvalidInput as exc:
        raise AdapterUnavailable(f"bad reference policy: {exc}") from exc
