"""Smoke test of the benchmark harness at a toy size: the JSON shape only, no timings asserted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gc_conformance_benchmarks_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_results_have_the_documented_shape() -> None:
    harness = load_harness()
    data = harness.run([100], batch=10)
    text = json.dumps(data)
    plain = json.loads(text)
    assert isinstance(plain["results"], list) and plain["results"]
    for row in plain["results"]:
        assert set(row) == {"operation", "size", "seconds_per_op"}
        assert isinstance(row["operation"], str)
        assert row["size"] == 100
        assert isinstance(row["seconds_per_op"], float)
    operations = {row["operation"] for row in plain["results"]}
    assert {"issue", "transfer_split", "cancel", "query", "invariant_check"} <= operations
    methods = ("fifo", "lifo", "weighted_average", "operator_discretion")
    assert {f"storage_allocation_{method}" for method in methods} <= operations
    assert all(set(check) == {"target", "passed", "detail"} for check in plain["targets"])
    assert harness.table(data)
