"""One generic test, parametrised with every registered check (see gc_conformance.plugin)."""

from __future__ import annotations

from typing import Any

from gc_conformance.adapter import Capabilities, RegistryAdapter
from gc_conformance.checks import Check
from gc_conformance.plugin import run_check_item
from gc_conformance.runner import RunOptions


def test_check(
    gc_check: Check,
    gc_adapter: RegistryAdapter,
    gc_capabilities: Capabilities,
    gc_options: RunOptions,
    record_property: Any,
) -> None:
    run_check_item(gc_check, gc_adapter, gc_capabilities, gc_options, record_property)
