"""The ``gc-conformance`` command line.

Exit codes are part of the interface CI pipelines rely on:
0 success, 1 a verdict failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gc_conformance import STANDARD_REVISION, __version__
from gc_conformance.reference import InvalidInput, Policies

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gc-conformance",
        description="Conformance suite and reference model for EnergyTag Granular Certificate registries.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} ({STANDARD_REVISION})"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    policies = commands.add_parser(
        "policies", help="list the named policies, their values and defaults"
    )
    policies.add_argument("--format", choices=("table", "json"), default="table")

    codes = commands.add_parser(
        "codes",
        help="list the canonical rejection codes (for writing an adapter's error mapper)",
    )
    codes.add_argument("--format", choices=("table", "json"), default="table")
    return parser


def _cmd_demo(args: argparse.Namespace) -> int:
    from gc_conformance.demo import render_html, run_demo

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
    import attrs

    rows = []
    defaults = Policies()
    for field in attrs.fields(Policies):
        default = getattr(defaults, field.name)
        rows.append(
            {
                "policy": field.name,
                "default": default.name,
                "values": {member.name: member.value for member in type(default)},
            }
        )
    if args.format == "json":
        print(json.dumps({"policies": rows}, indent=2))
    else:
        for row in rows:
            print(f"{row['policy']} (default {row['default']})")
            for name, meaning in row["values"].items():
                print(f"    {name:24s} {meaning}")
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


class _UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handlers = {"demo": _cmd_demo, "policies": _cmd_policies, "codes": _cmd_codes}
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handlers[args.command](args)
    except _UsageError as exc:
        print(f"gc-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
