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
from collections.abc import Sequence
from typing import Any

from gc_conformance.cli_parser import build_parser
from gc_conformance.cli_support import (
    check_adapter_spec,
    check_input_file,
    check_output_file,
    check_output_folder,
    load_run_document,
    print_written,
    public_policy_name,
    tolerate_broken_pipe,
)
from gc_conformance.clock import parse_clock_start, stamp
from gc_conformance.errors import HarnessError, InternalError, UsageError
from gc_conformance.reference import InvalidInput, Policies

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


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
    clock_start = None if args.clock_start is None else stamp(parse_clock_start(args.clock_start))
    previous = load_run_document(args.compare, "--compare") if args.compare else None
    options = RunOptions(
        adapter_spec=args.adapter,
        profiles=profiles,
        seed=args.seed,
        max_examples=args.max_examples,
        strict_codes=not args.lenient_codes,
        xfail=xfail,
        check_timeout=args.check_timeout or None,
        clock_start=clock_start,
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

    start = None if args.clock_start is None else parse_clock_start(args.clock_start)
    check_input_file(args.file, "file")
    check_adapter_spec(args.adapter)
    code: int = replay_command(args.file, args.adapter, clock_start=start)
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
    parser = build_parser()
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
