"""``gc-conformance audit``: the command (``register`` adds it to the main parser).

Exit codes as ``run``'s: 0 the history is clean, 1 findings, 2 bad input or usage (a
malformed line, an unknown effect, a record that breaks the schema: named with its file
and line, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def register(commands: Any) -> None:
    """Add ``audit`` (and ``audit convert``) to the main parser's subparsers."""
    audit = commands.add_parser(
        "audit",
        help="audit a registry's whole action history for double counting (D4)",
        description="Audit histories (JSON Lines of action records, or Parquet from "
        "`audit convert`) for every double-counting finding of the six D4 risks, "
        "validity, conservation and history shape. Exit codes: 0 clean, 1 findings, "
        "2 bad input or usage. Record schema: `gc-conformance audit schema`. "
        "See docs/audit.md.",
    )
    audit.add_argument(
        "history", nargs="+", metavar="HISTORY", help="history files, in order (or 'convert')"
    )
    audit.add_argument("--state", type=Path, metavar="STATE.json", help="reported state to compare")
    audit.add_argument(
        "--engine",
        choices=("duckdb", "spark", "python"),
        default="duckdb",
        help="duckdb (embedded, default), spark (a cluster: --spark-master), python (the oracle)",
    )
    audit.add_argument(
        "--spark-master", metavar="URL", help="Spark master (default local[2]), e.g. spark://h:7077"
    )
    audit.add_argument("--json", type=Path, metavar="OUT", help="write the findings as JSON")
    audit.add_argument("--report", type=Path, metavar="OUT.html", help="write an HTML report")
    audit.add_argument("--junitxml", type=Path, metavar="OUT", help="write JUnit XML")
    audit.add_argument(
        "--progress", action="store_true", help="report progress on stderr (default: on a TTY)"
    )
    audit.add_argument("--quiet", action="store_true", help="print only the summary")


def handle(args: argparse.Namespace) -> int:
    from gc_conformance.audit import load

    progress = load.stderr_progress(args.progress or sys.stderr.isatty())
    try:
        if args.history[0] == "convert":
            return _convert(args.history[1:], progress)
        if args.history[0] == "schema" and len(args.history) == 1:
            print(json.dumps(load.record_schema(), indent=2))
            return EXIT_OK
        return _audit(args, progress)
    except load.HistoryError as exc:
        print(f"gc-conformance audit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _convert(paths: list[str], progress: Any) -> int:
    from gc_conformance.audit import load

    if len(paths) < 2:
        print("gc-conformance audit convert: give IN.jsonl... OUT.parquet", file=sys.stderr)
        return EXIT_USAGE
    sources, target = [Path(p) for p in paths[:-1]], Path(paths[-1])
    for source in sources:
        if load.is_parquet(source):
            raise load.HistoryError(f"{source}: already Parquet")
    try:
        actions = load.convert(sources, target, progress)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    print(f"wrote {target}: {actions:,} actions")
    return EXIT_OK


def _audit(args: argparse.Namespace, progress: Any) -> int:
    from gc_conformance.audit import engines, load, outputs

    paths = [Path(p) for p in args.history]
    state = None
    if args.state is not None:
        try:
            state = json.loads(args.state.read_text(encoding="utf-8"))
        except OSError as exc:
            raise load.HistoryError(f"{args.state}: cannot read: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise load.HistoryError(f"{args.state}: not JSON: {exc}") from None
    try:
        result = engines.audit(paths, args.engine, state, args.spark_master, progress)
    except ImportError as exc:
        print(
            f"gc-conformance audit: error: the {args.engine} engine needs {exc.name}: "
            "pip install 'gc-conformance[spark]' (and Java 17) for --engine spark",
            file=sys.stderr,
        )
        return EXIT_USAGE
    doc = outputs.document(result, paths)
    if args.json:
        outputs.write_json(args.json, doc)
    if args.junitxml:
        outputs.write_junit(args.junitxml, doc)
    if args.report:
        outputs.write_html(args.report, doc)
    if not args.quiet:
        for finding in result.findings[:50]:
            print(
                f"{finding.risk.name}  action {finding.action_id}  bundle {finding.bundle_id}: "
                f"{finding.message}"
            )
        if len(result.findings) > 50:
            print(f"... and {len(result.findings) - 50:,} more (see --json)")
    if result.fallback:
        print(
            "note: judged by the Python oracle: the set-based rules do not model "
            + "; ".join(result.fallback),
            file=sys.stderr,
        )
    verdict = "CLEAN" if result.ok else f"{len(result.findings):,} FINDINGS"
    print(
        f"audit: {verdict} — {result.actions:,} actions, engine {result.engine_used}, "
        f"{result.seconds:.1f} s"
    )
    return EXIT_OK if result.ok else EXIT_FINDINGS
