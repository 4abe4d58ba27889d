"""``gc-conformance run``: the suite, through pytest, with the verdict and outputs made here.

The run goes through pytest (the shipped ``gc_conformance.suite`` package and
the plugin) so that a vendor's ``pytest --pyargs`` run and ``gc-conformance
run`` make the same verdicts, and ``-n auto`` parallelises with pytest-xdist.
pytest's own exit status is not the run's: the run document's verdict is.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from gc_conformance import plugin, untrusted
from gc_conformance.adapter import AdapterContractError, AdapterUnavailable, Capabilities, Clock
from gc_conformance.cli_support import count_line
from gc_conformance.clock import latest_instant
from gc_conformance.environment import describe_environment
from gc_conformance.errors import ConfigurationError
from gc_conformance.outcomes import CheckResult, Status
from gc_conformance.results import build_run_document, exit_code
from gc_conformance.runner import AdapterCallFailed, RunOptions, call_within, finish
from gc_conformance.verdicts import Verdict, seal

EXIT_USAGE, EXIT_UNREACHABLE = 2, 3

#: Replays the golden vectors against a fresh adapter: (case results, vectors summary).
#: Injected by the CLI, the one module allowed to reach the vectors code.
VectorReplay = Callable[[Capabilities], tuple[list[CheckResult], dict[str, Any]]]


@attrs.frozen
class RunRequest:
    options: RunOptions
    checks: tuple[str, ...] = ()
    workers: str | None = None  # pytest-xdist -n value
    xfail_path: Path | None = None
    json_path: Path | None = None
    junit_path: Path | None = None
    report_path: Path | None = None
    failures_dir: Path | None = None  # where failing sequences are saved for `replay`
    quiet: bool = False
    maxfail: int | None = None  # -x/--maxfail: stop after this many failed checks
    evidence_path: Path | None = None  # one archive for the auditor (see evidence.py)
    vector_replay: VectorReplay | None = None
    vectors_identity: dict[str, Any] | None = None  # the vector set, recomputed from content


def probe_adapter(spec: str, timeout: float | None = None) -> Capabilities:
    """Load the adapter and read its capabilities once: an unusable adapter stops the run (3).

    ``capabilities()`` and ``close()`` are bounded by ``timeout`` (the run's
    ``--check-timeout``), and anything they raise (``SystemExit`` included) is
    reported as the adapter's fault, never ends the run with its own status.
    """
    from gc_conformance.adapters import load_adapter

    adapter = load_adapter(spec)
    try:
        raw = call_within("capabilities()", adapter.capabilities, timeout)
        return Capabilities.from_plain(raw)
    except ConfigurationError:  # before AdapterContractError: it names the field at fault
        raise
    except AdapterContractError as exc:
        raise AdapterUnavailable(f"capabilities() answered outside the contract: {exc}") from exc
    except AdapterCallFailed as exc:
        raise AdapterUnavailable(str(exc)) from exc
    except Exception as exc:
        raise AdapterUnavailable(f"capabilities() failed: {type(exc).__name__}: {exc}") from exc
    finally:
        with contextlib.suppress(AdapterCallFailed):
            call_within("close()", adapter.close, timeout)


def pytest_arguments(request: RunRequest) -> list[str]:
    options = request.options
    args = [
        "--pyargs",
        "gc_conformance.suite",
        "-c",
        os.devnull,  # never pick up the caller's pytest configuration or conftest files
        "--rootdir",
        str(Path.cwd()),
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-rN",
        # hypothesis is imported before pytest.main (the probe); its plugin cannot be rewritten
        # then, which is harmless but would print a warning on every run.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--gc-adapter",
        options.adapter_spec,
        "--gc-seed",
        str(options.seed),
        "--gc-max-examples",
        str(options.max_examples),
    ]
    for profile in sorted(p.value for p in options.profiles or ()):
        args += ["--gc-profile", profile]
    for check_id in request.checks:
        args += ["--gc-check", check_id]
    if not options.strict_codes:
        args.append("--gc-lenient-codes")
    if options.clock_start is not None:
        args += ["--gc-clock-start", options.clock_start]
    args += ["--gc-check-timeout", str(options.check_timeout or 0)]
    if request.xfail_path:
        args += ["--gc-xfail", str(request.xfail_path)]
    if request.workers:
        args += ["-n", request.workers]
    if request.maxfail:
        args += ["--maxfail", str(request.maxfail)]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        args += ["-p", "gc_conformance.plugin"]
    return args


def one_timeline(request: RunRequest, capabilities: Capabilities) -> RunRequest:
    """``request`` without parallel workers when the checks must share one timeline.

    A registry that is never reset but whose clock the suite moves sees every check's
    instants on one clock: each check starts after the last instant sent before it. Workers
    in parallel would each keep their own timeline and interleave, so that one worker's
    requests land in the other's past and a registry that rightly refuses them (IT-005)
    would fail for the suite's fault. Such runs are serial, and say so.
    """
    if request.workers and capabilities.clock is Clock.CONTROLLED and not capabilities.reset:
        print(
            "gc-conformance: the registry has no reset and the suite moves its clock: the "
            f"checks share one timeline and run one at a time (--workers {request.workers} "
            "ignored)"
        )
        return attrs.evolve(request, workers=None)
    return request


def plan_of(request: RunRequest) -> list[str]:
    """The checks this run must judge, fixed before the first one runs."""
    from gc_conformance.checks import all_checks

    chosen = set(request.checks)
    return [c.check_id for c in all_checks() if not chosen or c.check_id in chosen]


def run(request: RunRequest) -> tuple[int, dict[str, Any] | None]:
    """Run the suite; return the exit code and the run document (None when it could not run)."""
    options = request.options
    try:
        capabilities = probe_adapter(options.adapter_spec, options.check_timeout)
    except AdapterUnavailable as exc:
        print(f"gc-conformance: adapter unavailable: {untrusted.terminal(str(exc))}")
        return EXIT_UNREACHABLE, None
    if options.clock_start is not None and capabilities.clock is not Clock.CONTROLLED:
        print(
            f"gc-conformance: --clock-start: the registry's clock is {capabilities.clock.value}, "
            "not controlled: it dates requests itself, so there is no clock to start"
        )
        return EXIT_USAGE, None
    request = one_timeline(request, capabilities)
    plan = plan_of(request)
    started = _now()
    plugin.reset_collected()
    output = io.StringIO()
    interrupted: str | None = None
    with tempfile.TemporaryDirectory(prefix="gc-conformance-") as scratch:
        frozen = Path(scratch) / "capabilities.json"
        frozen.write_text(json.dumps(plugin.declared(capabilities)), encoding="utf-8")
        arguments = [*pytest_arguments(request), "--gc-capabilities", str(frozen)]
        try:
            with contextlib.redirect_stdout(output) if request.quiet else contextlib.nullcontext():
                status = pytest.main(arguments)
        except KeyboardInterrupt:
            status, interrupted = pytest.ExitCode.INTERRUPTED, "the run was interrupted"
    if status == pytest.ExitCode.USAGE_ERROR:
        print(untrusted.terminal(output.getvalue()))
        return EXIT_USAGE, None
    if plugin.UNAVAILABLE:
        print(f"gc-conformance: {untrusted.terminal(plugin.UNAVAILABLE[0])}")
        return EXIT_UNREACHABLE, None
    if status == pytest.ExitCode.INTERNAL_ERROR:
        # pytest (or pytest-xdist, after a worker crashed) stopped: what finished is kept,
        # the rest is missing, and the run is incomplete, never a pass.
        interrupted = "pytest stopped with an internal error (a crashed worker?)"
    if status == pytest.ExitCode.INTERRUPTED:
        interrupted = "the run was interrupted (Ctrl-C or a signal) before every check finished"
    results = plugin.collected_results()
    vectors = request.vectors_identity
    if request.vector_replay is not None and interrupted is None:
        try:
            vector_results, vectors = request.vector_replay(capabilities)
            results += [finish(r)[0] for r in vector_results]
            plan += [r.check_id for r in vector_results]
        except KeyboardInterrupt:
            interrupted = "the run was interrupted while replaying the golden vectors"
    document = build_run_document(
        results,
        capabilities,
        options,
        started=started,
        finished=_now(),
        plan=plan,
        incomplete=interrupted,
        vectors=vectors,
    )
    # The latest instant the checks sent: where a next run on a registry that keeps its clock
    # (no reset) must start after (--clock-start).
    document["run"]["latest_instant"] = latest_instant(
        step.request for result in results for step in result.steps
    )
    document = seal({**document, "environment": describe_environment()})  # what made the run
    _print_summary(document)
    write_outputs(document, request)
    saved: list[Path] = []
    if request.failures_dir is not None:
        saved = save_failures(
            results, request.failures_dir, options.adapter_spec, capabilities, options.clock_start
        )
    if request.evidence_path is not None:
        from gc_conformance.evidence import write_evidence

        write_evidence(request.evidence_path, document, failures=saved)
        print(f"  evidence archive: {request.evidence_path}")
    return exit_code(document), document


def save_failures(
    results: Sequence[CheckResult],
    directory: Path,
    spec: str,
    capabilities: Capabilities,
    clock_start: str | None = None,
) -> list[Path]:
    """Save every failed check's request sequence, so that `replay` can send it again."""
    from gc_conformance.replay import save_failure

    saved = []
    for result in results:
        if result.status is not Status.FAIL or not result.steps:
            continue
        path = save_failure(
            result,
            directory,
            adapter_spec=spec,
            policies=capabilities.policies,
            clock_start=clock_start,
        )
        saved.append(path)
        print(f"  saved {result.check_id}: gc-conformance replay {path} --adapter {spec}")
    return saved


def write_outputs(document: dict[str, Any], request: RunRequest) -> None:
    if request.json_path:
        request.json_path.write_text(
            json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n",
            encoding="utf-8",
        )
    if request.junit_path:
        from gc_conformance.reports import render_junit

        request.junit_path.write_text(render_junit(document), encoding="utf-8")
    if request.report_path:
        from gc_conformance.reports import render_html

        request.report_path.write_text(render_html(document), encoding="utf-8")


def _print_summary(document: dict[str, Any]) -> None:
    """The verdict first (and an incomplete run says so before anything else)."""
    summary = document["summary"]
    verdict = Verdict(summary["verdict"])
    if summary.get("incomplete"):
        print(
            f"gc-conformance: INCOMPLETE RUN — {summary['incomplete']}; no verdict on the registry"
        )
    counts = count_line(document)  # checks and vector cases apart: agrees with pytest's line
    print(f"gc-conformance: {untrusted.terminal(summary['scope'])}")
    print(f"  {verdict.meaning} ({counts}); exit {verdict.exit_code}")
    if verdict is Verdict.NO_CHECKS:
        print(
            "  no selected check ran: check the --check and --profile selection against the "
            "profiles the registry claims"
        )
    if summary.get("waived"):
        print(f"  SHALL failures waived by the xfail file: {', '.join(summary['waived'])}")
    if summary.get("not_verified"):
        print(f"  requirements not verified: {', '.join(summary['not_verified'])}")
    if summary["code_mismatches"]:
        print(f"  {summary['code_mismatches']} check(s) refused correctly with a wrong code")
    if summary["untested_shall"]:
        print(f"  SHALL requirements with no check: {', '.join(summary['untested_shall'])}")
    vectors = document.get("vectors")
    if vectors and not vectors.get("shipped", True):
        print(f"  golden vectors: root {vectors.get('root', '')[:12]} is NOT the shipped set")
    registry = untrusted.terminal(str(document["registry"]["name"]))
    print(f"  seed {document['run']['seed']}; registry {registry}")
    run = document["run"]
    if run.get("clock_start"):
        print(f"  controlled clock started at the first 1 March at or after {run['clock_start']}")
    registry_plain = document["registry"]
    if (
        run.get("latest_instant")
        and registry_plain.get("clock") == Clock.CONTROLLED.value
        and not registry_plain.get("reset", True)
    ):
        print(
            f"  the latest instant sent was {run['latest_instant']}: a registry without reset "
            f"keeps it, so run again on it with --clock-start {run['latest_instant']} or later"
        )


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
