"""The ``gc-conformance vectors ...`` commands: argument handling and printing only.

``generate`` writes the sets (default: this package's own folder, which in a
repository checkout is ``vectors/``); ``verify`` replays a set through an
adapter with the same exit codes as ``run`` (0 pass, 1 a SHALL case failed,
2 usage or unreadable vectors, 3 adapter unavailable or erroring); ``diff``
compares two sets (exit 0 whether or not they differ, or with ``--exit-code``
1 when cases appeared, vanished or changed, as ``git diff --exit-code``; 2 when
unreadable).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``vectors`` subcommands, for the CLI's parser."""
    sub = parser.add_subparsers(dest="vectors_command", metavar="SUBCOMMAND")
    generate = sub.add_parser(
        "generate",
        help="regenerate the vector files from the reference model (deterministic)",
    )
    generate.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to write (required; a folder inside the installed gc_conformance "
        "package is refused: regenerate in a checkout, e.g. --out vectors)",
    )
    verify = sub.add_parser(
        "verify",
        help="replay the vectors through an adapter; per-case verdicts as in `run`",
        description="Replay every case through the adapter. Exit codes: 0 every SHALL case "
        "passed, 1 some failed, 2 usage error or unreadable vectors, 3 adapter unavailable "
        "or erroring.",
    )
    verify.add_argument("--adapter", required=True, metavar="SPEC")
    verify.add_argument(
        "--vectors",
        metavar="DIR",
        help="a vector set directory, or a shipped one by name (variants/rounding-down); "
        "default: the shipped v2 set",
    )
    verify.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="ID",
        help="only this case (area/type#tcId) or file (area/type); repeatable",
    )
    verify.add_argument("--profile", action="append", default=[], metavar="P")
    verify.add_argument("--lenient-codes", action="store_true")
    verify.add_argument("--json", type=Path, metavar="PATH", help="write the run document")
    verify.add_argument("--junitxml", type=Path, metavar="PATH")
    verify.add_argument("--report", type=Path, metavar="PATH", help="write the HTML report")
    verify.add_argument("--quiet", action="store_true", help="print only the summary")
    diff = sub.add_parser("diff", help="cases that appeared, vanished or changed between sets")
    diff.add_argument("old", help="a vector set directory or shipped set name")
    diff.add_argument("new", help="a vector set directory or shipped set name")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when cases appeared, vanished or changed (0: none), as `git diff`",
    )


def main(args: argparse.Namespace) -> int:
    command = getattr(args, "vectors_command", None)
    if command == "generate":
        return _generate(args)
    if command == "verify":
        return _verify(args)
    if command == "diff":
        return _diff(args)
    print("gc-conformance vectors: choose generate, verify or diff", file=sys.stderr)
    return EXIT_USAGE


def _generate(args: argparse.Namespace) -> int:
    from gc_conformance.vectors.generate import generate
    from gc_conformance.vectors.tape import GeneratorError

    out = _output_folder(args.out)
    if out is None:
        return EXIT_USAGE
    try:
        index = generate(out)
    except GeneratorError as exc:
        print(f"gc-conformance vectors: cannot generate: {exc}", file=sys.stderr)
        return EXIT_FAIL
    areas = ", ".join(f"{area} {n}" for area, n in index["areas"].items())
    print(f"wrote {index['numberOfTests']} cases to {out} ({areas})")
    for name, root in index.get("variants", {}).items():
        print(f"  variant {name}: root {root}")
    print(f"root {index['root']}")
    return EXIT_OK


def _output_folder(out: Path | None) -> Path | None:
    """Where ``generate`` may write, or None (message printed): never into the installed package.

    Writing into site-packages would silently change the vectors every later
    ``verify`` trusts (and the next upgrade would overwrite them). In a
    repository checkout the shipped vectors are the checkout's ``vectors/``
    folder, outside the code's package folder, so ``--out vectors`` is the
    standards body's regeneration step.
    """
    if out is None:
        print(
            "gc-conformance vectors generate: error: --out DIR is required (in a checkout: "
            "--out vectors); it never writes into the installed package",
            file=sys.stderr,
        )
        return None
    package = _package_folder()
    try:
        target = out.resolve()
    except (OSError, RuntimeError) as exc:
        print(f"gc-conformance vectors generate: error: --out: {exc}", file=sys.stderr)
        return None
    if target.is_relative_to(package):
        print(
            f"gc-conformance vectors generate: error: --out {out} is inside the installed "
            f"gc_conformance package ({package}); write elsewhere and diff, or regenerate "
            "in a checkout",
            file=sys.stderr,
        )
        return None
    if target.exists() and not target.is_dir():
        print(
            f"gc-conformance vectors generate: error: --out {out} is not a folder", file=sys.stderr
        )
        return None
    return out


def _package_folder() -> Path:
    """The folder of the running ``gc_conformance`` package (site-packages/gc_conformance).

    In an installed wheel the shipped vectors live inside it; in an editable
    checkout it is ``conformance/`` (code, never a place for vectors either).
    """
    import gc_conformance

    return Path(gc_conformance.__file__).resolve().parent


def _load(location: str | None) -> Any:
    from gc_conformance.vectors.files import load_set

    return load_set(location)


def _verify(args: argparse.Namespace) -> int:
    from gc_conformance.adapter import AdapterUnavailable, Profile
    from gc_conformance.reports import render_html, render_junit
    from gc_conformance.results import exit_code
    from gc_conformance.run import probe_adapter
    from gc_conformance.vectors.files import VectorFileError
    from gc_conformance.vectors.verify import VerifyOptions, run_document, selected, verify_set

    try:
        profiles = frozenset(Profile(p) for p in args.profile) if args.profile else None
    except ValueError as exc:
        print(f"gc-conformance: error: --profile: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        vector_set = _load(args.vectors)
    except VectorFileError as exc:
        print(f"gc-conformance: error: unreadable vectors: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from gc_conformance.vectors.files import identity

    found = identity(args.vectors)
    if not found["index_root_matches"]:
        print(
            f"gc-conformance: error: {found['location']}/index.json: root "
            f"{str(found['index_root'])[:12]} does not match the files' content (recomputed "
            f"{found['root'][:12]}): the set was changed after generation; regenerate it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    options = VerifyOptions(
        adapter_spec=args.adapter,
        vectors=args.vectors,
        profiles=profiles,
        strict_codes=not args.lenient_codes,
        cases=tuple(args.case),
    )
    if args.case and not selected(vector_set, options):
        print(f"gc-conformance: error: --case: no case {', '.join(args.case)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        capabilities = probe_adapter(args.adapter)
    except AdapterUnavailable as exc:
        print(f"gc-conformance: adapter unavailable: {exc}")
        return EXIT_UNREACHABLE
    from gc_conformance.adapters import load_adapter

    started = _now()
    adapter = load_adapter(args.adapter)
    try:
        results = verify_set(vector_set, adapter, capabilities, options)
    finally:
        with contextlib.suppress(Exception):
            adapter.close()
    document = run_document(
        results, capabilities, options, vector_set, started=started, finished=_now()
    )
    if args.json:
        args.json.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", "utf-8")
    if args.junitxml:
        args.junitxml.write_text(render_junit(document), encoding="utf-8")
    if args.report:
        args.report.write_text(render_html(document), encoding="utf-8")
    if not args.quiet:
        for result in results:
            if result.status.value in ("fail", "error", "xpass"):
                print(result.describe())
    summary = document["summary"]
    counts = ", ".join(f"{n} {status}" for status, n in summary["counts"].items() if n)
    print(
        f"gc-conformance vectors: {summary['verdict'].upper()} ({counts}) "
        f"set {vector_set.name}, root {document['run']['vectors']['root'][:12]}"
        f"{'' if document['run']['vectors']['shipped'] else ' (NOT the shipped set)'}; registry "
        f"{document['registry']['name']}"
    )
    if summary["code_mismatches"]:
        print(f"  {summary['code_mismatches']} case(s) refused correctly with a wrong code")
    return exit_code(document)


def _diff(args: argparse.Namespace) -> int:
    from gc_conformance.vectors.diff import diff_sets, render_text
    from gc_conformance.vectors.files import VectorFileError

    try:
        old, new = _load(args.old), _load(args.new)
    except VectorFileError as exc:
        print(f"gc-conformance: error: unreadable vectors: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = diff_sets(old, new)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print(render_text(report))
    changed = any(report["counts"].values())
    return EXIT_FAIL if args.exit_code and changed else EXIT_OK


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
