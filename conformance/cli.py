"""The ``gc-conformance`` command line.

Exit codes are part of the interface CI pipelines rely on (README, docs/run-json.md):
0 pass, 1 a SHALL check failed, 2 usage error (an option or input file),
3 the adapter could not be loaded, its declaration is unusable, or the
registry could not answer some check, 4 an internal error of gc-conformance,
5 no selected check ran, 6 waived (SHALL failures expected by the xfail file),
7 not verified, 8 incomplete (interrupted or crashed run). Every harness error
maps to its code through :mod:`gc_conformance.errors`; none is a traceback.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gc_conformance import STANDARD_REVISION, __version__
from gc_conformance.cli_support import (
    ADAPTER_FORMS,
    SuggestingParser,
    check_adapter_spec,
    check_input_file,
    check_output_file,
    check_output_folder,
    load_run_document,
    print_written,
    public_policy_name,
    tolerate_broken_pipe,
)
from gc_conformance.errors import HarnessError, InternalError, UsageError
from gc_conformance.outcomes import DEFAULT_CHECK_TIMEOUT
from gc_conformance.reference import InvalidInput, Policies

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = SuggestingParser(
        prog="gc-conformance",
        description="Conformance suite and reference model for EnergyTag Granular Certificate registries.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} ({STANDARD_REVISION})"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMAND_PARSERS:
        add(commands)
    from gc_conformance.audit.cli import register as _register_audit

    _register_audit(commands)  # issue 17: `gc-conformance audit`
    return parser


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run the conformance suite against a registry adapter",
        description="Run every check of the profiles the registry claims (or those selected) "
        "against the adapter, and write the verdicts. Exit codes: 0 every SHALL check passed, "
        "1 some failed, 2 usage error, 3 the adapter could not be loaded or answer.",
    )
    run.add_argument(
        "--adapter",
        required=True,
        metavar="SPEC",
        help=f"the registry to test, one of: {ADAPTER_FORMS}",
    )
    run.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="P",
        help="run only this profile (repeatable)",
    )
    run.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="ID",
        help="run only this check (repeatable)",
    )
    run.add_argument(
        "--seed", type=int, default=0, help="seed of the property-based checks (default 0)"
    )
    run.add_argument(
        "--max-examples",
        type=int,
        default=60,
        help="examples per property-based check (default 60)",
    )
    run.add_argument(
        "--xfail", type=Path, metavar="FILE", help="expected failures: 'CHECK_ID reason' per line"
    )
    run.add_argument(
        "--lenient-codes",
        action="store_true",
        help="a right refusal with a wrong code passes (recorded in the report)",
    )
    run.add_argument("--json", type=Path, metavar="PATH", help="write the run document (JSON)")
    run.add_argument("--junitxml", type=Path, metavar="PATH", help="write JUnit XML")
    run.add_argument(
        "--report", type=Path, metavar="PATH", help="write the self-contained HTML report"
    )
    run.add_argument(
        "-n", "--workers", metavar="N", help="parallel workers (pytest-xdist), e.g. auto"
    )
    run.add_argument(
        "--check-timeout",
        type=float,
        default=DEFAULT_CHECK_TIMEOUT,
        metavar="SECONDS",
        help="a check still running after this long is an error: the adapter hangs "
        f"(default {DEFAULT_CHECK_TIMEOUT:g}; 0 waits for ever)",
    )
    run.add_argument(
        "--save-failures",
        type=Path,
        metavar="DIR",
        help="save each failing check's request sequence here, for `gc-conformance replay`",
    )
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    run.add_argument(
        "-x",
        "--maxfail",
        nargs="?",
        type=int,
        const=1,
        default=None,
        metavar="N",
        help="stop after N failed or errored checks (-x alone: after the first); "
        "the verdict is then never PASS",
    )
    run.add_argument(
        "--compare",
        type=Path,
        metavar="OLD.json",
        help="compare with a previous run document: new failures, fixed, unchanged "
        "(printed, and shown in the --report)",
    )
    run.add_argument(
        "--no-vectors",
        action="store_true",
        help="do not replay the golden vectors (a full run replays those the registry's "
        "capabilities claim; a run selecting --check never does)",
    )
    run.add_argument(
        "--evidence",
        type=Path,
        metavar="ARCHIVE",
        help="also write an evidence archive (.zip or .tar.gz) for an auditor",
    )


def _add_evidence(commands: Any) -> None:
    evidence = commands.add_parser(
        "evidence",
        help="package a saved run document as an evidence archive for an auditor",
        description="Write one archive (.zip or .tar.gz): the run document, the HTML report "
        "and JUnit XML rendered from it, saved failures, recorded HTTP exchanges and a "
        "manifest of SHA-256 hashes. Check it with `gc-conformance verify-evidence`.",
    )
    evidence.add_argument("--from", dest="source", type=Path, required=True, metavar="RUN.json")
    evidence.add_argument("--out", type=Path, required=True, metavar="ARCHIVE")
    evidence.add_argument(
        "--failures", type=Path, metavar="DIR", help="saved failures (run --save-failures DIR)"
    )


def _add_verify_evidence(commands: Any) -> None:
    verify_evidence = commands.add_parser(
        "verify-evidence",
        help="re-check an evidence archive offline",
        description="Exit 0 when every file hashes as its manifest lists, the run document's "
        "verdict and digest agree with its results and the reports are what it renders to; "
        "1 naming what was doctored; 2 when the archive cannot be read.",
    )
    verify_evidence.add_argument("archive", type=Path, metavar="ARCHIVE")


def _add_requirements(commands: Any) -> None:
    requirements = commands.add_parser(
        "requirements", help="print the requirement catalogue with the checks verifying each"
    )
    requirements.add_argument("--format", choices=("table", "json"), default="table")


def _add_adapters(commands: Any) -> None:
    adapters = commands.add_parser("adapters", help="list the built-in adapters")
    adapters.add_argument("--format", choices=("table", "json"), default="table")


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="re-render a saved run document (--json) as HTML and/or JUnit XML",
        description="Render a saved run document again. A malformed document is refused "
        "with the field named, and nothing is written. Schema: docs/run-json.md.",
    )
    report.add_argument("--from", dest="source", type=Path, metavar="RUN.json")
    report.add_argument("--html", type=Path, metavar="OUT.html", help="write the HTML report")
    report.add_argument("--junitxml", type=Path, metavar="OUT.xml", help="write JUnit XML")
    report.add_argument(
        "--schema", action="store_true", help="print the run document's JSON Schema and exit"
    )
    report.add_argument(
        "--compare",
        type=Path,
        metavar="OLD.json",
        help="compare with a previous run document (new failures, fixed, unchanged)",
    )


def _add_replay(commands: Any) -> None:
    replay = commands.add_parser(
        "replay", help="re-run a saved failing sequence against an adapter"
    )
    replay.add_argument("file", type=Path, help="a saved failure (JSON)")
    replay.add_argument(
        "--adapter", required=True, metavar="SPEC", help=f"the registry, one of: {ADAPTER_FORMS}"
    )


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="drive the reference registry through the lifecycle and check its invariants",
        description="Drive the embedded reference registry through a scripted lifecycle "
        "(accepted and forbidden requests), run the double-counting invariant checker, "
        "and optionally write a self-contained HTML page.",
    )
    demo.add_argument("--report", type=Path, help="write an HTML page to this path")
    demo.add_argument("--json", type=Path, help="write the steps and findings as JSON to this path")
    demo.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a policy, e.g. rounding=DOWN (repeatable); see `gc-conformance policies`",
    )


def _add_policies(commands: Any) -> None:
    policies = commands.add_parser(
        "policies", help="list the named policies, their values and defaults"
    )
    policies.add_argument("--format", choices=("table", "json"), default="table")


def _add_codes(commands: Any) -> None:
    codes = commands.add_parser(
        "codes",
        help="list the canonical rejection codes (for writing an adapter's error mapper)",
    )
    codes.add_argument("--format", choices=("table", "json"), default="table")


def _add_schema(commands: Any) -> None:
    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a file format the suite reads or writes",
        description="Print a published JSON Schema (Draft 2020-12), for validating a file in "
        "an editor or in your own CI before a run does: capabilities (an adapter's "
        "declaration), mapping (HTTP mapping file), requirements (a catalogue file), xfail "
        "(expected failures, as their JSON form), run-document (--json output), "
        "history-record (one line of an audited history).",
    )
    schema.add_argument("name", choices=_SCHEMA_NAMES, help="which schema")


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the reference registry over HTTP in the EnergyTag API shape",
        description="Run the reference registry behind the EnergyTag API v2 routes on a real "
        "HTTP server (docs/http.md). Test the HTTP path with "
        "`gc-conformance run --adapter http://HOST:PORT` against `serve --test-mode`.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--port", type=int, default=8000, help="port (0: a free one, printed)")
    serve.add_argument(
        "--token", help="the admin (GC Issuer) token; else $GC_SERVE_TOKEN, else generated"
    )
    serve.add_argument(
        "--test-mode",
        action="store_true",
        help="enable reset and clock control (X-GC-Now header); never on a shared network",
    )
    serve.add_argument("--issuer", default="ISSUER", help="the GC Issuer's party ID at start")
    serve.add_argument("--policies", default="", metavar="NAME=VALUE,...", help="model policies")
    serve.add_argument("--mapping", help="serve another mapping file's routes (advanced)")
    serve.add_argument("--access-log", action="store_true", help="log every request")


def _add_vectors(commands: Any) -> None:
    vectors = commands.add_parser(
        "vectors",
        help="golden vectors: generate, verify against an adapter, diff two sets",
        description="Schema-checked test vectors generated from the reference model "
        "(vectors/README.md).",
    )
    from gc_conformance.vectors.commands import add_arguments as _vectors_arguments

    _vectors_arguments(vectors)


#: Each command's arguments, added in this order (the order `--help` lists them).
_COMMAND_PARSERS: tuple[Callable[[Any], None], ...] = (
    _add_run,
    _add_evidence,
    _add_verify_evidence,
    _add_requirements,
    _add_adapters,
    _add_report,
    _add_replay,
    _add_demo,
    _add_policies,
    _add_codes,
    _add_schema,
    _add_serve,
    _add_vectors,
)


def _cmd_demo(args: argparse.Namespace) -> int:
    from gc_conformance.demo import render_html, run_demo

    check_output_file(args.report, "--report")
    check_output_file(args.json, "--json")
    result = run_demo(_parse_policy_args(args.policy))
    for number, step in enumerate(result.steps, 1):
        mark = "ok " if step.as_expected else "BAD"
        expected = "accept" if step.expect_accepted else "reject"
        print(f"{mark} {number:2d}. {step.title} (expected {expected}): {step.detail}")
    if result.invariants.ok:
        print(
            f"invariants: no double-counting finding over {result.invariants.actions_checked} actions"
        )
    for finding in result.invariants.findings:
        print(f"FINDING {finding.risk.name}: {finding.message}")
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if args.report:
        args.report.write_text(render_html(result, stamp), encoding="utf-8")
        print(f"report written to {args.report}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "verdict": "pass" if result.ok else "fail",
                    "policies": result.policies,
                    "steps": [
                        {
                            "title": s.title,
                            "expect_accepted": s.expect_accepted,
                            "accepted": s.accepted,
                            "detail": s.detail,
                        }
                        for s in result.steps
                    ],
                    "findings": [f.to_plain() for f in result.invariants.findings],
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    print("verdict:", "PASS" if result.ok else "FAIL")
    return EXIT_OK if result.ok else EXIT_FAIL


def _cmd_run(args: argparse.Namespace) -> int:
    from gc_conformance.adapter import Profile
    from gc_conformance.run import RunRequest, run
    from gc_conformance.runner import RunOptions, read_xfail_file

    try:
        profiles = frozenset(Profile(p) for p in args.profile) if args.profile else None
    except ValueError as exc:
        known = ", ".join(p.value for p in Profile)
        raise _UsageError(f"--profile: {exc}; known: {known}") from None
    if args.max_examples < 1:
        raise _UsageError("--max-examples must be at least 1")
    if not (0 <= args.check_timeout < float("inf")):
        raise _UsageError("--check-timeout must be a number of seconds, 0 or more")
    if args.evidence is not None:
        from gc_conformance.evidence import archive_kind

        archive_kind(args.evidence)
    try:
        xfail = read_xfail_file(args.xfail) if args.xfail else {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _UsageError(f"--xfail: {exc}") from None
    from gc_conformance.checks import all_checks

    known_checks = {c.check_id for c in all_checks()}
    unknown = [c for c in args.check if c not in known_checks]
    if unknown:
        from gc_conformance.cli_support import suggestion

        raise _UsageError(
            f"--check: no check {', '.join(unknown)}{suggestion(unknown[0], known_checks)} "
            "(see `gc-conformance requirements`)"
        )
    _check_run_inputs(args)
    previous = load_run_document(args.compare, "--compare") if args.compare else None
    options = RunOptions(
        adapter_spec=args.adapter,
        profiles=profiles,
        seed=args.seed,
        max_examples=args.max_examples,
        strict_codes=not args.lenient_codes,
        xfail=xfail,
        check_timeout=args.check_timeout or None,
    )
    request = RunRequest(
        options,
        checks=tuple(args.check),
        workers=args.workers,
        xfail_path=args.xfail,
        json_path=args.json,
        junit_path=args.junitxml,
        report_path=args.report,
        failures_dir=args.save_failures,
        quiet=args.quiet,
        maxfail=args.maxfail,
        evidence_path=args.evidence,
        vector_replay=None if args.no_vectors or args.check else _vector_replay(options),
        vectors_identity=_vectors_identity(),
    )
    code, document = run(request)
    if document is not None:
        _after_run(document, previous, args)
    return code


def _check_run_inputs(args: argparse.Namespace) -> None:
    """Every input and output of `run`, checked before the first check runs (exit 2)."""
    check_adapter_spec(args.adapter)
    if args.maxfail is not None and args.maxfail < 1:
        raise UsageError("must be at least 1", field="--maxfail")
    check_output_file(args.json, "--json")
    check_output_file(args.junitxml, "--junitxml")
    check_output_file(args.report, "--report")
    check_output_folder(args.save_failures, "--save-failures")
    check_output_file(args.evidence, "--evidence")


def _after_run(
    document: dict[str, Any], previous: dict[str, Any] | None, args: argparse.Namespace
) -> None:
    """The comparison with a previous run (console and report), and where everything went."""
    if previous is not None:
        from gc_conformance.reports.compare import compare_runs

        comparison = compare_runs(previous, document)
        print(comparison.summary_line(str(args.compare)))
        if args.report:
            from gc_conformance.reports import render_html

            args.report.write_text(render_html(document, previous=previous), encoding="utf-8")
    print_written({"run document": args.json, "JUnit XML": args.junitxml, "report": args.report})


def _vectors_identity() -> dict[str, Any] | None:
    """The shipped vector set, its root recomputed from the files' content."""
    from gc_conformance.vectors.files import VectorFileError, identity

    try:
        return {**identity(None), "replayed": False}
    except (VectorFileError, OSError):
        return None


def _vector_replay(options: Any) -> Any:
    """The golden-vector replay a full run adds (the CLI is the one module reaching vectors)."""
    from gc_conformance.adapter import Capabilities
    from gc_conformance.outcomes import CheckResult, Status

    def replay(capabilities: Capabilities) -> tuple[list[CheckResult], dict[str, Any]]:
        from gc_conformance.adapters import load_adapter
        from gc_conformance.runner import AdapterCallFailed, call_within
        from gc_conformance.vectors.files import identity, load_set
        from gc_conformance.vectors.verify import VerifyOptions, verify_set

        vector_set = load_set(None)
        verify = VerifyOptions(
            adapter_spec=options.adapter_spec,
            profiles=options.profiles,
            strict_codes=options.strict_codes,
        )
        adapter = load_adapter(options.adapter_spec)
        try:
            results = verify_set(vector_set, adapter, capabilities, verify)
        finally:
            try:
                call_within("close()", adapter.close, options.check_timeout)
            except AdapterCallFailed as exc:
                print(f"gc-conformance: warning: {exc}")
        ran = [r for r in results if r.status is not Status.SKIP]
        summary = {
            **identity(None),
            "replayed": True,
            "cases": len(ran),
            "passed": sum(1 for r in ran if r.status is Status.PASS),
            "failed": sum(1 for r in ran if r.status is Status.FAIL),
            "errors": sum(1 for r in ran if r.status is Status.ERROR),
            "skipped": len(results) - len(ran),
        }
        return results, summary

    return replay


def _cmd_requirements(args: argparse.Namespace) -> int:
    from gc_conformance.catalogue import coverage, load_catalogue

    catalogue = load_catalogue()
    joined = coverage()
    rows = [req.to_plain(joined.checks_by_requirement[rid]) for rid, req in catalogue.items()]
    if args.format == "json":
        print(json.dumps({"requirements": rows}, indent=2))
    else:
        for row in rows:
            checks = ", ".join(row["checks"]) or "NO CHECK"
            print(f"{row['id']:10s} {row['level']:6s} {row['profile']:16s} {row['clause']}")
            print(f"           {row['title']}")
            print(f"           checks: {checks}")
    if joined.untested_shall:
        print(
            f"SHALL requirements with no check: {', '.join(joined.untested_shall)}", file=sys.stderr
        )
        return EXIT_FAIL
    return EXIT_OK


def _cmd_adapters(args: argparse.Namespace) -> int:
    from gc_conformance.adapters import builtin_adapters

    listed = builtin_adapters()
    if args.format == "json":
        print(
            json.dumps(
                {
                    "adapters": [
                        {"name": a.name, "description": a.description, "breaks": list(a.breaks)}
                        for a in listed
                    ]
                },
                indent=2,
            )
        )
    else:
        for adapter in listed:
            print(f"{adapter.name:40s} {adapter.description}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from gc_conformance.reports.rerender import rerender, schema_text
    from gc_conformance.reports.schema import RunDocumentError

    if args.schema:
        sys.stdout.write(schema_text())
        return EXIT_OK
    if args.source is None or (args.html is None and args.junitxml is None):
        raise _UsageError("report needs --from RUN.json and at least one of --html, --junitxml")
    check_input_file(args.source, "--from")
    check_output_file(args.html, "--html")
    check_output_file(args.junitxml, "--junitxml")
    previous = load_run_document(args.compare, "--compare") if args.compare else None
    try:
        written = rerender(args.source, html=args.html, junit=args.junitxml, previous=previous)
    except RunDocumentError as exc:
        raise _UsageError(f"{args.source} is not a usable run document: {exc}") from None
    except OSError as exc:
        raise _UsageError(f"cannot write the report: {exc}") from None
    for path in written:
        print(f"written {path}")
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from gc_conformance.replay import replay_command

    check_input_file(args.file, "file")
    check_adapter_spec(args.adapter)

    code: int = replay_command(args.file, args.adapter)
    return code


def _parse_policy_args(pairs: Sequence[str]) -> Policies:
    chosen: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise _UsageError(f"--policy expects NAME=VALUE, got {pair!r}")
        chosen[name.strip()] = value.strip()
    try:
        return Policies.from_plain(chosen)
    except InvalidInput as exc:
        raise _UsageError(f"--policy {exc.field}: {exc.problem.message}") from None


def _cmd_policies(args: argparse.Namespace) -> int:
    rows = _policy_rows()
    if args.format == "json":
        print(json.dumps({"policies": rows}, indent=2))
    else:
        for row in rows:
            print(f"{row['policy']} [{row['scope']}] (default {row['default']})")
            for name, meaning in row["values"].items():
                print(f"    {name:24s} {meaning}")
    return EXIT_OK


def _policy_rows() -> list[dict[str, Any]]:
    """Every named policy of the model: each ambiguity of the standard, its values and default.

    Registry-wide policies come from the attrs records that hold them (so a new
    field shows up here by itself); storage methods are chosen per storage
    system at registration, so they have no default ("none").
    """
    import attrs

    from gc_conformance.reference import (
        AllocationMethod,
        ConfigurationPolicies,
        EacPolicies,
        LossConvention,
        LossMethod,
        Policies,
    )

    rows: list[dict[str, Any]] = []
    records: list[tuple[str, str, Any]] = [
        ("", "registry", Policies()),
        ("", "configurations #2/#3", ConfigurationPolicies()),
        ("eac.", "EAC registry (D3)", EacPolicies()),
    ]
    for prefix, scope, defaults in records:
        for field in attrs.fields(type(defaults)):
            default = getattr(defaults, field.name)
            name = prefix + public_policy_name(field.name)
            rows.append(_policy_row(name, scope, type(default), default.name))
    # Chosen by each storage system when it registers: there is no registry-wide default.
    per_system = "storage system (D7, declared at registration)"
    rows.append(_policy_row("allocation_method", per_system, AllocationMethod, "none"))
    rows.append(_policy_row("loss_method", per_system, LossMethod, "none"))
    formulas = "storage (D7 formulas)"
    rows.append(_policy_row("loss_convention", formulas, LossConvention, "FRACTION_OF_CAPACITY"))
    return rows


def _policy_row(name: str, scope: str, kind: type[Any], default: str) -> dict[str, Any]:
    values = {member.name: str(member.value) for member in kind}
    return {"policy": name, "scope": scope, "default": default, "values": values}


def _cmd_serve(args: argparse.Namespace) -> int:
    from gc_conformance.server.serve import serve

    items = [item for item in args.policies.split(",") if item]
    bad = [item for item in items if "=" not in item]
    if bad:
        raise _UsageError(f"--policies: settings are NAME=VALUE, got {bad[0]!r}")
    try:
        policies = Policies.from_plain(dict(item.split("=", 1) for item in items))
    except InvalidInput as exc:
        raise _UsageError(f"--policies: {exc}") from exc
    try:
        return serve(
            host=args.host,
            port=args.port,
            token=args.token,
            test_mode=args.test_mode,
            policies=policies,
            issuer_id=args.issuer,
            mapping=args.mapping,
            access_log=args.access_log,
        )
    except OSError as exc:
        raise _UsageError(f"cannot serve on {args.host}:{args.port}: {exc}") from exc
    except ValueError as exc:  # e.g. an admin token shorter than 16 characters
        raise _UsageError(str(exc)) from exc


_SCHEMA_NAMES = (
    "capabilities",
    "mapping",
    "requirements",
    "xfail",
    "run-document",
    "history-record",
)


def _cmd_schema(args: argparse.Namespace) -> int:
    from gc_conformance.schemas import PUBLISHED

    if args.name == "run-document":
        from gc_conformance.reports.schema import RUN_DOCUMENT_SCHEMA

        document = RUN_DOCUMENT_SCHEMA
    elif args.name == "history-record":
        from gc_conformance.audit import record_schema

        document = record_schema()
    else:
        document = PUBLISHED[args.name]()
    print(json.dumps(document, indent=2, sort_keys=True))
    return EXIT_OK


def _cmd_codes(args: argparse.Namespace) -> int:
    from gc_conformance.reference import ErrorCode

    if args.format == "json":
        print(
            json.dumps(
                {"codes": [{"code": c.name, "meaning": c.value} for c in ErrorCode]}, indent=2
            )
        )
    else:
        for code in ErrorCode:
            print(f"{code.name:30s} {code.value}")
    return EXIT_OK


def _cmd_evidence(args: argparse.Namespace) -> int:
    from gc_conformance.evidence import archive_kind, write_evidence
    from gc_conformance.reports.schema import RunDocumentError, load_run_document

    archive_kind(args.out)
    try:
        document = load_run_document(args.source)
    except RunDocumentError as exc:
        raise _UsageError(f"{args.source} is not a usable run document: {exc}") from None
    failures = sorted(args.failures.glob("*.json")) if args.failures else []
    try:
        write_evidence(args.out, dict(document), failures=failures)
    except OSError as exc:
        raise _UsageError(f"cannot write {args.out}: {exc}") from None
    print(f"evidence archive written to {args.out} (verdict {document['summary']['verdict']})")
    return EXIT_OK


def _cmd_verify_evidence(args: argparse.Namespace) -> int:
    from gc_conformance.evidence import verify_evidence

    problems = verify_evidence(args.archive)
    if problems:
        print(f"gc-conformance: {args.archive} does NOT verify:")
        for problem in problems:
            print(f"  {problem}")
        return EXIT_FAIL
    print(f"{args.archive}: every file matches its manifest; the run document is intact")
    return EXIT_OK


def _cmd_vectors(args: argparse.Namespace) -> int:
    from gc_conformance.vectors.commands import main as vectors_main

    return vectors_main(args)


class _UsageError(UsageError):
    """A wrong option or input of a subcommand (exit 2)."""


def _cmd_audit(args: argparse.Namespace) -> int:
    from gc_conformance.audit.cli import handle

    return handle(args)


def main(argv: Sequence[str] | None = None) -> int:
    from gc_conformance.environment import record_command

    record_command(argv)
    with tolerate_broken_pipe():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handlers = {
        "run": _cmd_run,
        "requirements": _cmd_requirements,
        "adapters": _cmd_adapters,
        "replay": _cmd_replay,
        "report": _cmd_report,
        "demo": _cmd_demo,
        "policies": _cmd_policies,
        "codes": _cmd_codes,
        "schema": _cmd_schema,
        "serve": _cmd_serve,
        "vectors": _cmd_vectors,
        "evidence": _cmd_evidence,
        "verify-evidence": _cmd_verify_evidence,
        "audit": _cmd_audit,
    }
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handlers[args.command](args)
    except _UsageError as exc:
        print(f"gc-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HarnessError as exc:
        return _report_error(exc)
    except Exception as exc:  # a bug in gc-conformance: say so, never as the vendor's fault
        import os

        if os.environ.get("GC_CONFORMANCE_DEBUG"):
            raise
        return _report_error(
            InternalError(
                f"{type(exc).__name__}: {exc} (a bug in gc-conformance; rerun with "
                "GC_CONFORMANCE_DEBUG=1 for the traceback and report it)"
            )
        )


def _report_error(exc: HarnessError) -> int:
    """One line on stderr, control characters escaped; the error class's exit code."""
    from gc_conformance.untrusted import terminal

    kind = {2: "error", 3: "configuration error", 4: "internal error"}.get(exc.exit_code, "error")
    print(f"gc-conformance: {kind}: {terminal(str(exc))}", file=sys.stderr)
    return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
