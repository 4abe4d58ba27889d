"""The grammar of the ``gc-conformance`` command line: every command's arguments and help.

Kept apart from the commands' handlers (:mod:`gc_conformance.cli`) so the interface a CI
pipeline scripts against can be read in one place, and so that adding an option never means
scrolling through what the commands do. Each command adds its own arguments; the table
:data:`COMMAND_PARSERS` fixes the order ``--help`` lists them in.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gc_conformance import STANDARD_REVISION, __version__
from gc_conformance.cli_support import (
    ADAPTER_FORMS,
    SuggestingParser,
)
from gc_conformance.outcomes import DEFAULT_CHECK_TIMEOUT

#: The file formats whose JSON Schema `gc-conformance schema NAME` prints.
SCHEMA_NAMES = (
    "capabilities",
    "mapping",
    "requirements",
    "xfail",
    "run-document",
    "history-record",
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, every subcommand with its arguments."""
    parser = SuggestingParser(
        prog="gc-conformance",
        description="Conformance suite and reference model for EnergyTag Granular Certificate registries.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} ({STANDARD_REVISION})"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMAND_PARSERS:
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
        "--clock-start",
        metavar="INSTANT",
        help="start a controlled clock at the first 1 March at or after INSTANT (ISO 8601 with "
        "an offset, e.g. 2031-01-01T00:00:00Z): for a registry without reset whose test clock "
        "an earlier run moved on (the run document's run.latest_instant says where it stands)",
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
    replay.add_argument(
        "--clock-start",
        metavar="INSTANT",
        help="move the whole saved sequence (whole days, gaps kept) to begin as a run with "
        "--clock-start INSTANT would; default: send the saved instants unchanged",
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
    schema.add_argument("name", choices=SCHEMA_NAMES, help="which schema")


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
COMMAND_PARSERS: tuple[Callable[[Any], None], ...] = (
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
