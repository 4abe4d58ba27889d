"""The pytest plugin (entry point ``pytest11``): the conformance suite inside any pytest run.

A vendor runs the suite from their own test run with::

    pytest --pyargs gc_conformance.suite --gc-adapter mypkg.adapter:MyAdapter

Each check becomes one pytest item (ID = the check ID), marked with
``requirement(...)`` and ``profile(...)``; its verdict is made by
:func:`gc_conformance.runner.execute_check`, exactly as under
``gc-conformance run``, and travels to the controlling process in the report's
``user_properties`` (so ``-n auto`` with pytest-xdist gives the same verdicts).

The registry's capabilities are read **once**, by the controlling process
(or handed in by ``gc-conformance run`` with ``--gc-capabilities``), frozen,
and passed to every xdist worker: a registry that answers differently later
cannot make one worker skip what the report says was claimed. The set of
selected checks (the *plan*) is fixed before the first check runs; the run
document's verdict is made from it, so a check whose result never arrived (a
crashed worker) is an error, never a silent gap.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from gc_conformance import untrusted
from gc_conformance.adapter import (
    AdapterUnavailable,
    Capabilities,
    Profile,
    RegistryAdapter,
)
from gc_conformance.checks import Check, all_checks
from gc_conformance.clock import parse_clock_start, stamp
from gc_conformance.errors import UsageError
from gc_conformance.outcomes import DEFAULT_CHECK_TIMEOUT, CheckResult, Status
from gc_conformance.runner import (
    AdapterCallFailed,
    RunOptions,
    call_within,
    execute_check,
    finish,
    read_xfail_file,
    unanswered,
)

RESULT_PROPERTY = "gc_conformance_result"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gc-conformance", "EnergyTag GC registry conformance")
    group.addoption(
        "--gc-adapter",
        metavar="SPEC",
        help="adapter spec (reference, faulty:NAME, package.module:Class)",
    )
    group.addoption(
        "--gc-profile",
        action="append",
        default=[],
        metavar="P",
        help="run only this profile (repeatable)",
    )
    group.addoption(
        "--gc-check",
        action="append",
        default=[],
        metavar="ID",
        help="run only this check (repeatable)",
    )
    group.addoption("--gc-seed", type=int, default=0, help="seed for property-based checks")
    group.addoption(
        "--gc-max-examples", type=int, default=60, help="examples per property-based check"
    )
    group.addoption(
        "--gc-xfail", metavar="FILE", help="expected failures: CHECK_ID reason per line"
    )
    group.addoption(
        "--gc-lenient-codes",
        action="store_true",
        help="a right refusal with a wrong code passes (recorded)",
    )
    group.addoption(
        "--gc-check-timeout",
        type=float,
        default=DEFAULT_CHECK_TIMEOUT,
        metavar="SECONDS",
        help="a check running longer is an error (the adapter hangs); 0 waits for ever",
    )
    group.addoption(
        "--gc-clock-start",
        metavar="INSTANT",
        help="a controlled clock starts on the first 1 March at or after INSTANT (ISO 8601 "
        "with offset): for a registry without reset that saw an earlier run",
    )
    group.addoption("--gc-json", metavar="PATH", help="write the run document (JSON) here")
    group.addoption(
        "--gc-capabilities",
        metavar="FILE",
        help="the registry's capabilities as already read (JSON); else read once at start",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): requirement IDs the check verifies")
    config.addinivalue_line("markers", "profile(name): the conformance profile of the check")
    config.stash[_COLLECTED] = []


_COLLECTED = pytest.StashKey[list[CheckResult]]()
_CAPABILITIES = pytest.StashKey[dict[str, Any]]()
_WORKER_KEY = "gc_conformance_capabilities"


def declared(capabilities: Capabilities) -> dict[str, Any]:
    """The capabilities as the adapter declared them (``to_plain`` minus derived fields such
    as ``tier``), so that ``Capabilities.from_plain`` reads them back to the same value."""
    return {k: v for k, v in capabilities.to_plain().items() if k != "tier"}


def frozen_capabilities(config: pytest.Config) -> Capabilities:
    """The run's capabilities: read once (controller), handed to workers, never re-read."""
    if _CAPABILITIES not in config.stash:
        workerinput = getattr(config, "workerinput", None)
        if isinstance(workerinput, dict) and _WORKER_KEY in workerinput:
            config.stash[_CAPABILITIES] = json.loads(workerinput[_WORKER_KEY])
        else:
            config.stash[_CAPABILITIES] = declared(_read_capabilities(config))
    return Capabilities.from_plain(config.stash[_CAPABILITIES])


def _read_capabilities(config: pytest.Config) -> Capabilities:
    from gc_conformance.adapter import AdapterContractError
    from gc_conformance.adapters import load_adapter
    from gc_conformance.errors import ConfigurationError

    given = config.getoption("--gc-capabilities", default=None)
    if given:
        try:
            return Capabilities.from_plain(json.loads(Path(given).read_text(encoding="utf-8")))
        except (OSError, ValueError, AdapterContractError) as exc:
            raise pytest.UsageError(f"--gc-capabilities: {exc}") from None
    options = run_options(config)
    try:
        adapter = load_adapter(options.adapter_spec)
    except AdapterUnavailable as exc:
        _unavailable(f"adapter unavailable: {exc}")
    try:
        raw = call_within("capabilities()", adapter.capabilities, options.check_timeout)
        return Capabilities.from_plain(raw)
    except (AdapterCallFailed, AdapterContractError, ConfigurationError) as exc:
        _unavailable(f"capabilities unusable: {exc}")
    finally:
        with contextlib.suppress(AdapterCallFailed):
            call_within("close()", adapter.close, options.check_timeout)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist (controller): every worker gets the capabilities the controller read."""
    config = node.config
    if config.getoption("--gc-adapter", default=None):
        node.workerinput[_WORKER_KEY] = json.dumps(declared(frozen_capabilities(config)))


def run_options(config: pytest.Config) -> RunOptions:
    spec = config.getoption("--gc-adapter")
    if not spec:
        raise pytest.UsageError("the conformance suite needs --gc-adapter SPEC")
    profiles = config.getoption("--gc-profile")
    try:
        chosen = frozenset(Profile(p) for p in profiles) if profiles else None
    except ValueError as exc:
        raise pytest.UsageError(f"--gc-profile: {exc}") from None
    xfail_path = config.getoption("--gc-xfail")
    try:
        xfail = read_xfail_file(Path(xfail_path)) if xfail_path else {}
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"--gc-xfail: {exc}") from None
    clock_start = config.getoption("--gc-clock-start")
    if clock_start is not None:
        try:
            clock_start = stamp(parse_clock_start(clock_start, "--gc-clock-start"))
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    return RunOptions(
        adapter_spec=spec,
        profiles=chosen,
        seed=config.getoption("--gc-seed"),
        max_examples=config.getoption("--gc-max-examples"),
        strict_codes=not config.getoption("--gc-lenient-codes"),
        xfail=xfail,
        check_timeout=config.getoption("--gc-check-timeout") or None,
        clock_start=clock_start,
    )


def selected_checks(config: pytest.Config) -> list[Check]:
    wanted: list[str] = config.getoption("--gc-check")
    checks = all_checks()
    if wanted:
        known = {c.check_id for c in checks}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise pytest.UsageError(f"--gc-check: no check {', '.join(unknown)}")
        checks = [c for c in checks if c.check_id in wanted]
    return checks


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gc_check" not in metafunc.fixturenames:
        return
    checks = selected_checks(metafunc.config)
    metafunc.parametrize(
        "gc_check",
        [
            pytest.param(
                c,
                id=c.check_id,
                marks=[
                    pytest.mark.requirement(*c.requirements),
                    pytest.mark.profile(c.profile.value),
                ],
            )
            for c in checks
        ],
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    uses_suite = any("gc_check" in getattr(item, "fixturenames", ()) for item in items)
    if uses_suite and not config.getoption("--gc-adapter"):
        raise pytest.UsageError(
            "the conformance suite needs --gc-adapter SPEC (reference, faulty:NAME, package.module:Class)"
        )


@pytest.fixture(scope="session")
def gc_options(request: pytest.FixtureRequest) -> RunOptions:
    return run_options(request.config)


@pytest.fixture(scope="session")
def gc_adapter(gc_options: RunOptions) -> Iterator[RegistryAdapter]:
    from gc_conformance.adapters import load_adapter

    try:
        adapter = load_adapter(gc_options.adapter_spec)
    except AdapterUnavailable as exc:
        _unavailable(f"adapter unavailable: {exc}")
    yield adapter
    try:  # bounded like a check: a close() that hangs or exits must not hang or end the run
        call_within("close()", adapter.close, gc_options.check_timeout)
    except AdapterCallFailed as exc:
        print(f"gc-conformance: warning: {untrusted.terminal(str(exc))}")


@pytest.fixture(scope="session")
def gc_capabilities(request: pytest.FixtureRequest, gc_adapter: RegistryAdapter) -> Capabilities:
    return frozen_capabilities(request.config)


def run_check_item(
    check: Check,
    adapter: RegistryAdapter,
    capabilities: Capabilities,
    options: RunOptions,
    record_property: Any,
) -> None:
    """The body of every suite item: make the verdict, ship it, and show it the pytest way.

    The result is serialised here, inside the verdict code (:func:`runner.finish`):
    an answer JSON cannot carry becomes a contract error of this check instead of
    an exception that would leave the check without a result.
    """
    try:
        result, plain = finish(execute_check(check, adapter, capabilities, options))
        text = json.dumps(plain, allow_nan=False)
    except Exception as exc:  # a harness bug: still a result, an error, never a gap
        result = unanswered(
            check.check_id,
            f"internal error while judging: {type(exc).__name__}: {exc}",
            requirements=check.requirements,
            profile=check.profile.value,
            title=check.title,
        )
        result, plain = finish(result)
        text = json.dumps(plain, allow_nan=False)
    record_property(RESULT_PROPERTY, text)
    shown = untrusted.terminal(result.message)
    if result.status is Status.SKIP:
        pytest.skip(shown)
    if result.status is Status.XFAIL:
        pytest.xfail(shown)
    if result.status in (Status.FAIL, Status.ERROR):
        pytest.fail(untrusted.terminal(result.describe()), pytrace=False)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in getattr(report, "user_properties", ()):
        if name == RESULT_PROPERTY and report.when == "call":
            # An unreadable result is no result: the plan makes the check an error.
            with contextlib.suppress(ValueError, KeyError, TypeError):
                _SINK.append(CheckResult.from_plain(json.loads(value)))


# Results arrive here in the controlling process (also from xdist workers).
_SINK: list[CheckResult] = []


def collected_results() -> list[CheckResult]:
    return list(_SINK)


def reset_collected() -> None:
    _SINK.clear()
    UNAVAILABLE.clear()


# Why the adapter could not be used, when the plugin stopped the run for it (exit 3): pytest's
# own INTERNAL_ERROR is also 3, and must not be mistaken for it.
UNAVAILABLE: list[str] = []


def _unavailable(message: str) -> NoReturn:
    UNAVAILABLE.append(message)
    pytest.exit(message, returncode=3)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    path = config.getoption("--gc-json", default=None)
    if not path or hasattr(config, "workerinput"):
        return
    from gc_conformance.results import build_run_document

    options = run_options(config)
    capabilities = frozen_capabilities(config)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    document = build_run_document(
        collected_results(),
        capabilities,
        options,
        started=stamp,
        finished=stamp,
        plan=[c.check_id for c in selected_checks(config)],
        incomplete="the run was interrupted" if interrupted else None,
    )
    Path(path).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """Count a check judged *error* as a pytest error, not a failure: pytest's own summary line
    then agrees with the run's ("2 errors" beside "ERROR (2 error)", never "2 failed")."""
    if report.when != "call":
        return None
    for name, value in getattr(report, "user_properties", ()):
        if name == RESULT_PROPERTY and json.loads(value).get("status") == Status.ERROR.value:
            return "error", "E", "ERROR"
    return None
