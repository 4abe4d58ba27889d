"""tools/mutation.py works: it lists mutants of the toy registry, kills a real defect, lets an
equivalent change survive, and every allow-listed equivalent mutant still exists.

The full campaign runs by hand (``nice -n 10 python tools/mutation.py``); its figure is in the
README. This smoke test runs a handful of mutants with the fast (non-property) checks only.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
TOY = "examples/toy_registry/registry.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gc_mutation_tool", ROOT / "tools" / "mutation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_mutants_are_listed_deterministically() -> None:
    tool = _tool()
    first, again = tool.mutants_of(TOY), tool.mutants_of(TOY)
    assert first == again and len(first) > 100
    kinds = {m.description.split(" ")[0] for m in first}
    assert {"statement", "condition"} <= kinds
    assert len({m.key for m in first}) == len(first), "mutant keys are unique"


def test_every_allow_listed_equivalent_mutant_exists() -> None:
    tool = _tool()
    targets = [*tool.DEFAULT_TARGETS, *tool.NAMED_TARGETS.values()]
    keys = {m.key for path, _ in targets for m in tool.mutants_of(path)}
    for listed in (tool.EQUIVALENT, tool.UNJUDGED):
        stale = [key for key in listed if key not in keys]
        assert not stale, f"the allow-list names mutants that no longer exist: {stale}"
        assert all(reason.strip() for reason in listed.values())
    assert not set(tool.EQUIVALENT) & set(tool.UNJUDGED)
    # A wall-clock survivor the test-clock target kills is still a survivor of its own target.
    assert set(tool.KILLED_ON_TEST_CLOCK) <= set(tool.UNJUDGED)
    assert "gridledger-clock" in tool.NAMED_TARGETS


def test_a_handful_of_mutants_killed_and_one_equivalent_survives() -> None:
    tool = _tool()
    mutants = tool.mutants_of(TOY)

    def find(function: str, text: str) -> object:
        return next(m for m in mutants if m.function == function and text in m.description)

    chosen = [
        find("ToyLedger._owned", "statement removed: `raise"),  # nobody's ownership checked
        find("ToyLedger._fits", "`>` -> `>=`"),  # all of a bundle refused
        find("_period", "statement removed: `raise LedgerError(Fault.PERIOD_TOO_LONG"),
        find("<module>", "`1000000` -> `1000001`"),  # serials from another number: equivalent
    ]
    options = tool.Options(slow=False, timeout=120.0)
    outcomes = tool.run_mutants(chosen, dict(tool.DEFAULT_TARGETS), options)
    assert [o.killed for o in outcomes] == [True, True, True, False], [
        (o.mutant.description, o.by) for o in outcomes
    ]
    score = tool.score(outcomes, tool.EQUIVALENT)
    assert score.killed == 3 and not score.survived and len(score.equivalent) == 1
    assert "100.0 %" in tool.report(score, tool.EQUIVALENT)


def test_a_rerun_log_splits_mutants_into_killed_and_survived_in_order() -> None:
    """``--rerun LOG`` reruns the survivors and scores the log's kills as kills; two mutants on
    one line with the same mutation are told apart by their order in the log."""
    tool = _tool()
    mutants = tool.mutants_of(TOY)
    names = [f"{m.where()}: {m.description}" for m in mutants]
    twin = next(name for name in names if names.count(name) > 1)
    twins = [i for i, name in enumerate(names) if name == twin][:2]
    log = "\n".join(
        [
            "the unchanged registry passes",
            f"{names[0]}: killed by core.transfer.whole (fail)",
            f"{names[twins[0]]}: killed by adapter could not start: NameError: x",
            f"{names[twins[1]]}: SURVIVED",
            "survivors:",
        ]
    )
    killed, survived = tool.outcomes_in_log(mutants, log)
    assert killed == [mutants[0], mutants[twins[0]]]
    assert survived == [mutants[twins[1]]]
